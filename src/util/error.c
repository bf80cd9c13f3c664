// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "iommu/base.h"

void iommu_error_clear(struct iommu_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

int iommu_error_vset(struct iommu_error *err, int code, const char *fmt,
		     va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

int iommu_error_set(struct iommu_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iommu_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int iommu_error_prefix(struct iommu_error *err, const char *fmt, ...)
{
	char prefix[IOMMU_ERROR_MSG_MAX];
	char old[IOMMU_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return 0;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* prefix, ": ", then as much of the old message as fits */
	size_t n = strnlen(prefix, sizeof(err->msg) - 1);

	memcpy(err->msg, prefix, n);
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
	}
	size_t rest = strnlen(old, sizeof(old));

	if (rest > sizeof(err->msg) - 1 - n)
		rest = sizeof(err->msg) - 1 - n;
	memcpy(err->msg + n, old, rest);
	err->msg[n + rest] = '\0';
	return err->code;
}
