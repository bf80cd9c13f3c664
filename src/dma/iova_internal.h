/* SPDX-License-Identifier: MIT */
/*
 * Internal views of the IOVA allocator (src/dma/iova.c) for the tests:
 * the state the kernel keeps that the public API does not show (cached
 * nodes, max32_alloc_size, magazine contents), and a full check of the
 * tree's invariants.  Not part of the installed API; every function
 * takes the locks it needs.
 */
#ifndef IOMMU_DMA_IOVA_INTERNAL_H
#define IOMMU_DMA_IOVA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/dma.h"

/* rb_node-free view of one struct iova_domain's scalar state. */
struct iova_debug_state {
	uint64_t granule, start_pfn, dma_32bit_pfn, max32_alloc_size;
	uint64_t cached_lo, cached_hi;          /* cached_node */
	uint64_t cached32_lo, cached32_hi;      /* cached32_node */
	uint64_t nodes;                         /* anchor included */
};
void iova_debug_state(struct iommu_iova_domain *iovad, struct iova_debug_state *st);

/* The tree's ranges in address order, the anchor left out: writes at most
 * @max pairs to @lo/@hi and returns how many there are. */
size_t iova_debug_ranges(struct iommu_iova_domain *iovad, uint64_t *lo, uint64_t *hi,
			 size_t max);

/* CPU @cpu's loaded (@prev false) or prev magazine of order @order:
 * the pfns bottom to top into @pfns (room for IOMMU_IOVA_MAG_SIZE);
 * returns the count (0 for a magazine not allocated yet). */
unsigned iova_debug_magazine(struct iommu_iova_domain *iovad, unsigned cpu, unsigned order,
			     bool prev, uint64_t *pfns);
/* Depot of order @order: its size, and the pfns of the @idx-th magazine
 * from the head (the next to be popped) into @pfns when @pfns is not
 * NULL (returns the depot size either way; a missing @idx writes none). */
unsigned iova_debug_depot(struct iommu_iova_domain *iovad, unsigned order, unsigned idx,
			  uint64_t *pfns);

/*
 * Every invariant of the tree: order and disjointness of the ranges, the
 * anchor last, parent links, AVL heights and balance, each node's gap and
 * the subtree maxima, the cached nodes present in the tree.  0, or
 * -EUCLEAN with what broke in @msg (@len bytes).
 */
int iova_debug_check(struct iommu_iova_domain *iovad, char *msg, size_t len);

#endif /* IOMMU_DMA_IOVA_INTERNAL_H */
