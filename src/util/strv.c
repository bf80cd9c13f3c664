// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/strv.h"

int iommu_strv_vaddf(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char **grown;
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	grown = realloc(*v, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(msg);
		return -ENOMEM;
	}
	grown[(*n)++] = msg;
	*v = grown;
	return 0;
}

int iommu_strv_addf(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = iommu_strv_vaddf(v, n, fmt, ap);
	va_end(ap);
	return ret;
}

void iommu_strv_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}
