/* SPDX-License-Identifier: MIT */
/*
 * libiommu DMA layer: what sits between a driver's dma_map_*() call and
 * the IOMMU's page tables (drivers/iommu/iova.c, drivers/iommu/dma-iommu.c,
 * kernel/dma/mapping.c).
 *
 *  - the IOVA allocator: top-down, size-aligned allocation in an
 *    iova_domain, with the kernel's observable choices (the same
 *    addresses for the same calls) and its per-CPU range caches
 *    (magazines and a depot), over a tree search that stays O(log n);
 *  - the DMA API for a device: streaming and coherent mappings, direct
 *    mapping for identity domains and devices without an IOMMU, strict
 *    invalidation or lazy flush queues, with counters of what it cost.
 *
 * Sits above the core (iommu/core.h): it maps through core domains.
 */
#ifndef IOMMU_DMA_H
#define IOMMU_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/base.h"
#include "iommu/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* The IOVA allocator (drivers/iommu/iova.c; reference section 7)       */

/* Orders 0..5 (1..32 granules) are cached, as IOVA_RANGE_CACHE_MAX_SIZE. */
#define IOMMU_IOVA_RANGE_CACHE_MAX_SIZE 6
/* Pfns per magazine (IOVA_MAG_SIZE, v6.6+). */
#define IOMMU_IOVA_MAG_SIZE 127
/* The per-CPU caches are indexed by a CPU number below this. */
#define IOMMU_IOVA_MAX_CPUS 64

struct iommu_iova_domain;

/*
 * init_iova_domain(iovad, granule, start_pfn): @granule a power of two
 * (4096 on x86), @start_pfn the lowest pfn handed out (dma-iommu passes
 * max(1, aperture_start >> shift), so pfn 0 is never used).  The rcaches
 * are set up too (iova_domain_init_rcaches).  -EINVAL, -ENOMEM.
 */
int iommu_iova_domain_create(uint64_t granule, uint64_t start_pfn,
			     struct iommu_iova_domain **out);
/* put_iova_domain: frees every range, cached or live. */
void iommu_iova_domain_destroy(struct iommu_iova_domain *iovad);
unsigned iommu_iova_shift(const struct iommu_iova_domain *iovad);

/*
 * alloc_iova(): @size granules, highest fit whose last pfn is at most
 * @limit_pfn (inclusive); @size_aligned aligns to the next power of two.
 * 0 and *@pfn_lo, or -ENOMEM (nothing fits; max32_alloc_size updated as
 * the kernel does), -EINVAL (size 0).
 */
int iommu_iova_alloc(struct iommu_iova_domain *iovad, uint64_t size, uint64_t limit_pfn,
		     bool size_aligned, uint64_t *pfn_lo);
/* free_iova(): the range containing @pfn.  0, or -ENOENT. */
int iommu_iova_free(struct iommu_iova_domain *iovad, uint64_t pfn);
/* find_iova(): the live range containing @pfn into *lo/*hi.  0, -ENOENT. */
int iommu_iova_find(struct iommu_iova_domain *iovad, uint64_t pfn, uint64_t *lo,
		    uint64_t *hi);
/* reserve_iova(): keep [@pfn_lo, @pfn_hi] out of every allocation
 * (merging with overlapping reservations).  0, -EINVAL, -ENOMEM. */
int iommu_iova_reserve(struct iommu_iova_domain *iovad, uint64_t pfn_lo, uint64_t pfn_hi);

/*
 * alloc_iova_fast() / free_iova_fast() on the caches of CPU @cpu
 * (< IOMMU_IOVA_MAX_CPUS): sizes below 32 granules rounded up to a power
 * of two, the CPU's loaded/prev magazines, then the depot, then the
 * tree; @flush_rcache: on failure, return every cached range to the tree
 * and try once more.  Returns the first pfn, or 0 when nothing fits (the
 * kernel's return value).  The _fast calls are thread-safe: each CPU's
 * cache has its own lock, as the kernel's per-CPU spinlocks.
 */
uint64_t iommu_iova_alloc_fast(struct iommu_iova_domain *iovad, unsigned cpu, uint64_t size,
			       uint64_t limit_pfn, bool flush_rcache);
void iommu_iova_free_fast(struct iommu_iova_domain *iovad, unsigned cpu, uint64_t pfn,
			  uint64_t size);
/* The calling thread's CPU number: a stable per-thread slot below
 * IOMMU_IOVA_MAX_CPUS (threads are spread over the slots). */
unsigned iommu_iova_this_cpu(void);
/* free_cpu_cached_iovas(@cpu) / free_global_cached_iovas(). */
void iommu_iova_free_cpu_cached(struct iommu_iova_domain *iovad, unsigned cpu);
void iommu_iova_free_global_cached(struct iommu_iova_domain *iovad);
/* The depot reclaim work (iova_depot_work_func): run it as the kernel's
 * 100 ms delayed work would, trimming the depot to the CPU count. */
void iommu_iova_depot_reclaim(struct iommu_iova_domain *iovad, unsigned online_cpus);

struct iommu_iova_stats {
	uint64_t live_ranges;     /* nodes in the tree, reservations included */
	uint64_t cached_ranges;   /* pfns held in magazines and the depot */
	uint64_t depot_magazines;
	uint64_t rcache_hits, rcache_misses, tree_allocs, tree_frees;
};
void iommu_iova_get_stats(struct iommu_iova_domain *iovad, struct iommu_iova_stats *st);

/* ================================================================== */
/* The DMA API (dma-iommu.c, kernel/dma/mapping.c; reference 7.4, 7.5)  */

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_DMA_H */
