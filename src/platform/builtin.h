/* SPDX-License-Identifier: MIT */
/* Built-in platforms: snapshot files compiled into the library by gen-builtin. */
#ifndef IOMMU_PLATFORM_BUILTIN_H
#define IOMMU_PLATFORM_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

struct iommu_builtin_file {
	const char *path;
	const uint8_t *data;
	size_t len;
};

struct iommu_builtin_platform {
	const char *name;
	const char *description;
	const char *origin;     /* the capture it was made from */
	const struct iommu_builtin_file *files;
	size_t n_files;
};

extern const struct iommu_builtin_platform iommu_builtin_platforms[];
extern const size_t iommu_builtin_platforms_count;

#endif
