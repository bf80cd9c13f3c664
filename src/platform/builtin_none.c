// SPDX-License-Identifier: MIT
/* The empty list of built-in platforms, for gen-builtin itself. */
#include "platform/builtin.h"

const struct iommu_builtin_platform iommu_builtin_platforms[] = { { 0 } };
const size_t iommu_builtin_platforms_count = 0;
