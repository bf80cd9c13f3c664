// SPDX-License-Identifier: MIT
/*
 * Reserved regions of a group as /sys/kernel/iommu_groups/N/reserved_regions
 * lists them (drivers/iommu/iommu.c iommu_insert_resv_region,
 * iommu_group_show_resv_regions):
 *  - a new region goes before the first one with a larger start, or with
 *    the same start and a type not below its own;
 *  - then regions of the new region's type that overlap or touch the
 *    last kept region of that type merge into it; other types are never
 *    merged, even when they overlap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

const char *iommu_resv_type_name(enum iommu_resv_type t)
{
	switch (t) {
	case IOMMU_RESV_DIRECT: return "direct";
	case IOMMU_RESV_DIRECT_RELAXABLE: return "direct-relaxable";
	case IOMMU_RESV_RESERVED: return "reserved";
	case IOMMU_RESV_MSI:
	case IOMMU_RESV_SW_MSI: return "msi";
	default: return "unknown";
	}
}

int core_resv_insert(struct iommu_resv_region **list, size_t *n, struct iommu_resv_region r)
{
	struct iommu_resv_region *v = realloc(*list, (*n + 1) * sizeof(*v));
	struct iommu_resv_region *out;
	size_t pos, k, m = 0;

	if (!v)
		return -ENOMEM;
	*list = v;
	for (pos = 0; pos < *n; pos++)
		if (r.start < v[pos].start || (r.start == v[pos].start && r.type <= v[pos].type))
			break;
	memmove(&v[pos + 1], &v[pos], (*n - pos) * sizeof(*v));
	v[pos] = r;
	(*n)++;

	/*
	 * The merge pass: walk in order, keeping a "stack" of what survives;
	 * an element of the new type folds into the last kept element of
	 * that type when it starts at most one past that element's end.
	 */
	out = malloc(*n * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (k = 0; k < *n; k++) {
		struct iommu_resv_region it = v[k];
		struct iommu_resv_region *top = NULL;

		if (it.type == r.type) {
			for (size_t j = m; j-- > 0;)
				if (out[j].type == it.type) {
					top = &out[j];
					break;
				}
		}
		/* top->end + 1 wraps at the top of the address space, as in the kernel */
		if (top && !(it.start > top->end + 1)) {
			if (it.end > top->end)
				top->end = it.end;
			continue;
		}
		out[m++] = it;
	}
	memcpy(v, out, m * sizeof(*v));
	free(out);
	*n = m;
	return 0;
}

size_t iommu_group_resv_text(const struct iommu_group_info *g, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < g->n_resv; i++) {
		int n = snprintf(buf + used, len > used ? len - used : 0, "0x%016llx 0x%016llx %s\n",
				 (unsigned long long)g->resv[i].start, (unsigned long long)g->resv[i].end,
				 iommu_resv_type_name(g->resv[i].type));

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return used;
}
