/* SPDX-License-Identifier: MIT */
/*
 * libiommu base layer: error reporting shared by every layer.
 *
 * Every function in libiommu returns 0 on success or a negative errno, as
 * the kernel does.  Functions that can fail on bad input also take a
 * struct iommu_error, which on failure holds a message naming what was
 * wrong and where ("pci/0000:00:1c.0/config: 12 bytes, shorter than the
 * 64-byte header").
 */
#ifndef IOMMU_BASE_H
#define IOMMU_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOMMU_VERSION_STRING "0.1.0"

#define IOMMU_ERROR_MSG_MAX 512

struct iommu_error {
	int code;                       /* negative errno, 0 when clear */
	char msg[IOMMU_ERROR_MSG_MAX];  /* "where: what" */
};

/* Reset @err (may be NULL) to "no error". */
void iommu_error_clear(struct iommu_error *err);

/*
 * Record an error in @err (may be NULL) and return @code, so that callers
 * can write "return iommu_error_set(err, -EINVAL, "...", ...);".
 * @code must be a negative errno.
 */
int iommu_error_set(struct iommu_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int iommu_error_vset(struct iommu_error *err, int code, const char *fmt,
		     va_list ap) __attribute__((format(printf, 3, 0)));

/*
 * Prefix the message already in @err with "@fmt: " (used to add context
 * such as a file name as an error travels up).  Returns err->code.
 */
int iommu_error_prefix(struct iommu_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_BASE_H */
