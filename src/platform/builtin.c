// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/platform.h"
#include "platform/builtin.h"
#include "platform/fileset.h"

size_t iommu_builtin_count(void)
{
	return iommu_builtin_platforms_count;
}

const char *iommu_builtin_name(size_t i)
{
	return i < iommu_builtin_platforms_count ? iommu_builtin_platforms[i].name : NULL;
}

const char *iommu_builtin_description(size_t i)
{
	return i < iommu_builtin_platforms_count ? iommu_builtin_platforms[i].description : NULL;
}

const char *iommu_builtin_default(void)
{
	return iommu_builtin_platforms_count ? iommu_builtin_platforms[0].name : NULL;
}

int iommu_platform_load_builtin(const char *name, struct iommu_platform **out,
				struct iommu_error *err)
{
	iommu_error_clear(err);
	*out = NULL;
	for (size_t i = 0; i < iommu_builtin_platforms_count; i++) {
		const struct iommu_builtin_platform *b = &iommu_builtin_platforms[i];
		struct iommu_fileset fs = { 0 };
		int ret;

		if (strcmp(b->name, name))
			continue;
		for (size_t k = 0; k < b->n_files; k++) {
			ret = iommu_fileset_add(&fs, b->files[k].path, b->files[k].data,
						b->files[k].len, err);
			if (ret) {
				iommu_fileset_release(&fs);
				return ret;
			}
		}
		return iommu_platform_from_fileset(&fs, IOMMU_SOURCE_BUILTIN, b->name, out, err);
	}
	return iommu_error_set(err, -ENOENT, "no built-in platform named \"%s\" (see iommu platforms)",
			       name);
}
