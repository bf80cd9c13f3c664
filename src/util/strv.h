/* SPDX-License-Identifier: MIT */
/*
 * Growable vectors of strings: the warnings a platform collects and the
 * notes the core makes, each a formatted message.
 */
#ifndef IOMMU_UTIL_STRV_H
#define IOMMU_UTIL_STRV_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Append a formatted message to the vector *@v of *@n strings.  0, or
 * -ENOMEM, in which case the vector is left as it was: messages are
 * best-effort, callers may ignore the result.
 */
int iommu_strv_addf(char ***v, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int iommu_strv_vaddf(char ***v, size_t *n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Free the strings and the vector; *@v and *@n are reset. */
void iommu_strv_free(char ***v, size_t *n);

#endif
