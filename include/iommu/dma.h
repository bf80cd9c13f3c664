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

/*
 * Everything is in granules ("pfns"): a range is [pfn_lo, pfn_hi],
 * inclusive, and IOVA = pfn << iommu_iova_shift().  doc/iova.md tells
 * what is modelled and how the tree gives the kernel's answers.
 */

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
 * are set up too (iova_domain_init_rcaches).  -EINVAL (granule 0, not a
 * power of two or above 64 KiB, the largest PAGE_SIZE the kernel's
 * BUG_ON(granule > PAGE_SIZE) allows; @start_pfn beyond the last pfn),
 * -ENOMEM.  The 32-bit boundary is dma_32bit_pfn = 1 << (32 - shift).
 */
int iommu_iova_domain_create(uint64_t granule, uint64_t start_pfn,
			     struct iommu_iova_domain **out);
/* put_iova_domain: frees every range, cached or live.  NULL is ignored. */
void iommu_iova_domain_destroy(struct iommu_iova_domain *iovad);
unsigned iommu_iova_shift(const struct iommu_iova_domain *iovad);

/*
 * alloc_iova(): @size granules, highest fit whose last pfn is at most
 * @limit_pfn (inclusive); @size_aligned aligns to the next power of two.
 * 0 and *@pfn_lo, or -ENOMEM (nothing fits; max32_alloc_size updated as
 * the kernel does), -EINVAL (size 0, @limit_pfn ~0 whose exclusive bound
 * wraps, an aligned size above 2^63, NULL arguments).
 *
 * "Highest fit" is the kernel's, not the global one: the search runs
 * below the cached node (cached32_node when limit_pfn + 1 <= 4 GiB in
 * granules, else cached_node) and, only if that fails, once more over
 * the space above it.  A limit below start_pfn fails with -ENOMEM.
 */
int iommu_iova_alloc(struct iommu_iova_domain *iovad, uint64_t size, uint64_t limit_pfn,
		     bool size_aligned, uint64_t *pfn_lo);
/* free_iova(): the range containing @pfn (any pfn of it; reserved ranges
 * too, as the kernel).  0, or -ENOENT (no live range holds @pfn). */
int iommu_iova_free(struct iommu_iova_domain *iovad, uint64_t pfn);
/* find_iova(): the live range containing @pfn into *lo and *hi.  0, -ENOENT. */
int iommu_iova_find(struct iommu_iova_domain *iovad, uint64_t pfn, uint64_t *lo,
		    uint64_t *hi);
/*
 * reserve_iova(): keep [@pfn_lo, @pfn_hi] out of every allocation.  As
 * the kernel's: a range wholly inside an existing one changes nothing;
 * an overlapped range (reserved or allocated) grows down to @pfn_lo, the
 * part above it continues to the next overlapped range, and what is
 * left above the last one becomes a new range.  Cached nodes and
 * max32_alloc_size are untouched.  0, -EINVAL (@pfn_lo > @pfn_hi, a pfn
 * above ~0 >> shift, or ~0 itself), -ENOMEM.
 */
int iommu_iova_reserve(struct iommu_iova_domain *iovad, uint64_t pfn_lo, uint64_t pfn_hi);

/*
 * alloc_iova_fast() / free_iova_fast() on the caches of CPU @cpu
 * (< IOMMU_IOVA_MAX_CPUS): sizes below 32 granules rounded up to a power
 * of two, the CPU's loaded/prev magazines, then the depot, then the
 * tree (size-aligned); @flush_rcache: on failure, return every cached
 * range to the tree and try once more.  Returns the first pfn, or 0 when
 * nothing fits (the kernel's return value), and 0 for size 0, a @cpu out
 * of range or @limit_pfn ~0.  The _fast calls are thread-safe: each
 * CPU's cache has its own lock, as the kernel's per-CPU spinlocks.
 *
 * free_iova_fast trusts its caller as the kernel's does: @pfn must be the
 * first pfn of a range alloc_iova_fast returned and @size the size asked
 * for (any size of the same order works).  Sizes of order 6 and above,
 * a @cpu out of range, or a failure to get a magazine free to the tree.
 */
uint64_t iommu_iova_alloc_fast(struct iommu_iova_domain *iovad, unsigned cpu, uint64_t size,
			       uint64_t limit_pfn, bool flush_rcache);
void iommu_iova_free_fast(struct iommu_iova_domain *iovad, unsigned cpu, uint64_t pfn,
			  uint64_t size);
/* The calling thread's CPU number: a stable per-thread slot below
 * IOMMU_IOVA_MAX_CPUS (threads are spread over the slots round-robin,
 * in the order of their first call). */
unsigned iommu_iova_this_cpu(void);
/* free_cpu_cached_iovas(@cpu) / free_global_cached_iovas(): the cached
 * pfns go back to the tree in magazine order (loaded, then prev; the
 * depot from its head).  The magazines of a CPU stay, emptied. */
void iommu_iova_free_cpu_cached(struct iommu_iova_domain *iovad, unsigned cpu);
void iommu_iova_free_global_cached(struct iommu_iova_domain *iovad);
/* The depot reclaim work (iova_depot_work_func): run it as the kernel's
 * 100 ms delayed work would, trimming the depot to the CPU count: while
 * an order's depot holds more than @online_cpus magazines, the most
 * recently pushed one is popped and its pfns freed to the tree. */
void iommu_iova_depot_reclaim(struct iommu_iova_domain *iovad, unsigned online_cpus);

struct iommu_iova_stats {
	uint64_t live_ranges;     /* nodes in the tree, reservations included, the anchor not */
	uint64_t cached_ranges;   /* pfns held in magazines and the depot */
	uint64_t depot_magazines;
	uint64_t rcache_hits;     /* alloc_iova_fast calls a magazine served */
	uint64_t rcache_misses;   /* alloc_iova_fast calls that went to the tree */
	uint64_t tree_allocs;     /* ranges the tree search placed */
	uint64_t tree_frees;      /* ranges taken out of the tree (frees, cache flushes) */
};
void iommu_iova_get_stats(struct iommu_iova_domain *iovad, struct iommu_iova_stats *st);

/* ================================================================== */
/* The DMA API (dma-iommu.c, kernel/dma/mapping.c; reference 7.4, 7.5)  */

/*
 * A DMA context (struct iommu_dma) is the DMA layer of one started system
 * (iommu_system_start): it keeps, per DMA or DMA-FQ domain, the kernel's
 * "IOVA cookie" (an iova_domain with the group's reserved regions taken
 * out, and for DMA-FQ the per-CPU flush queues), and per PCI function the
 * struct device fields the DMA API reads (DMA masks, the 32-bit-first
 * workaround).  doc/dma.md describes the model.
 *
 * Addresses: a "phys" is an address in the system's modelled memory
 * (iommu_system_mem), what page_to_phys() gives in the kernel; a DMA
 * address is what the device puts on the bus.
 *
 * Time is modelled: a clock that only iommu_dma_advance() moves, so the
 * 10 ms flush-queue timeout is deterministic.  The CPU time an IOTLB
 * invalidation would make the caller wait is a parameter (inv_wait_ns),
 * added to a counter and, when asked, also spent spinning.
 *
 * Thread safety: map, unmap, alloc/free, access, advance, flush and stats
 * calls may run on many threads at once on shared devices and domains
 * (the allocator's per-CPU caches, a flush queue per CPU with its lock,
 * the core's domain and hardware locks; the hot paths take no lock of
 * this layer).  As in the kernel, a device's DMA domain is its group's
 * default domain read without the group lock: writing the group's type
 * (iommu_group_store_type) while other threads map for that group is a
 * caller bug, as is destroying the context while they run.
 */

/* The kernel's DMA_MAPPING_ERROR. */
#define IOMMU_DMA_MAPPING_ERROR (~UINT64_C(0))

/* enum dma_data_direction, same values. */
enum iommu_dma_data_direction {
	IOMMU_DMA_BIDIRECTIONAL = 0,
	IOMMU_DMA_TO_DEVICE = 1,
	IOMMU_DMA_FROM_DEVICE = 2,
	IOMMU_DMA_NONE = 3,         /* invalid for mapping: the kernel BUG()s */
};
/* "bidirectional", "to_device", "from_device", "none". */
const char *iommu_dma_dir_name(enum iommu_dma_data_direction dir);

/* Flush queues (dma-iommu.c IOVA_DEFAULT_FQ_SIZE / _TIMEOUT): a ring of
 * 256 slots per CPU holds at most 255 entries (one slot stays empty). */
#define IOMMU_DMA_FQ_SIZE 256u
#define IOMMU_DMA_FQ_TIMEOUT_NS (UINT64_C(10) * 1000 * 1000)

/* PCI defaults (drivers/pci/probe.c pci_device_add): the streaming
 * segment limits map_sg honours. */
#define IOMMU_DMA_PCI_MAX_SEG_SIZE 65536u
#define IOMMU_DMA_PCI_SEG_BOUNDARY UINT64_C(0xffffffff)

/* A PCI host bridge memory window, reserved in every DMA domain's IOVA
 * space (iova_reserve_pci_windows).  Platforms do not record their
 * host bridges' _CRS windows, so the caller supplies them. */
struct iommu_dma_window {
	uint64_t start, end;        /* inclusive */
};

struct iommu_dma_config {
	/* Modelled CPU wait of one IOTLB invalidation with its completion
	 * wait (a strict unmap's sync, a flush queue's flush), in ns.  0 by
	 * default; reference/performance.md suggests 250-1000. */
	uint64_t inv_wait_ns;
	/* Also spend inv_wait_ns on the CPU, spinning, at each invalidation
	 * (benchmarks: the wait then shows in wall time). */
	bool inv_wait_spin;
	/* dma-debug (CONFIG_DMA_API_DEBUG): record every mapping and check
	 * each unmap against it; an unmap the checks reject is reported and
	 * not performed.  Off: only the checks dma-iommu itself makes. */
	bool debug;
	/* Physical pages for dma_alloc_coherent: [coherent_base,
	 * coherent_base + coherent_size) of the modelled memory.  0 size: a
	 * default region (doc/dma.md). */
	uint64_t coherent_base, coherent_size;
	const struct iommu_dma_window *pci_windows;
	size_t n_pci_windows;
};
/* Defaults: no wait, no spin, debug on, the default coherent pool. */
void iommu_dma_config_init(struct iommu_dma_config *cfg);

struct iommu_dma;
struct iommu_dma_device;

/* A DMA context for @s, which must be started and must outlive it
 * (destroy the context before iommu_system_free).  -EINVAL (not started, a
 * coherent pool outside memory or not page aligned, a window whose end
 * precedes its start; message in @err), -ENOMEM. */
int iommu_dma_create(struct iommu_system *s, const struct iommu_dma_config *cfg,
		     struct iommu_dma **out, struct iommu_error *err);
/* Flushes every queue and releases every IOVA cookie; mappings still
 * live are dropped with their domains' allocators. */
void iommu_dma_destroy(struct iommu_dma *dma);
/* dma-debug's teardown check: one "pending DMA allocations" message in
 * the log per mapping still live; returns how many (0 without debug). */
size_t iommu_dma_report_leaks(struct iommu_dma *dma);

/* The DMA view of PCI function @pdev (created on first call: masks
 * 64-bit as a PCI driver sets them, pci_32bit_workaround = !forcedac).
 * -ENOENT when @pdev is not a device of the system. */
int iommu_dma_device_get(struct iommu_dma *dma, const struct iommu_pci_dev *pdev,
			 struct iommu_dma_device **out);
const struct iommu_pci_dev *iommu_dma_device_pdev(const struct iommu_dma_device *dev);

/* dma_set_mask / dma_set_coherent_mask: 0, or -EIO as the kernel when the
 * mask is unsupported (direct mapping: below the 24-bit ZONE_DMA; any
 * path: 0). */
int iommu_dma_set_mask(struct iommu_dma_device *dev, uint64_t mask);
int iommu_dma_set_coherent_mask(struct iommu_dma_device *dev, uint64_t mask);
uint64_t iommu_dma_get_mask(const struct iommu_dma_device *dev);

/* How the device's DMA is handled now. */
enum iommu_dma_path {
	IOMMU_DMA_PATH_DIRECT_NO_IOMMU, /* no group: dma-direct, DMA address = phys */
	IOMMU_DMA_PATH_DIRECT_IDENTITY, /* a default domain that is not a DMA domain
					   (identity): dma-direct */
	IOMMU_DMA_PATH_IOMMU_STRICT,    /* DMA domain: iommu_dma_ops, strict */
	IOMMU_DMA_PATH_IOMMU_LAZY,      /* DMA-FQ domain: iommu_dma_ops, flush queue */
};
enum iommu_dma_path iommu_dma_device_path(struct iommu_dma_device *dev);
const char *iommu_dma_path_name(enum iommu_dma_path p);

/*
 * Streaming mappings (dma_map_single / dma_map_page): @size bytes at
 * @phys.  Returns the DMA address (the IOVA of a granule-aligned range
 * plus @phys's offset in its granule; @phys itself when direct), or
 * IOMMU_DMA_MAPPING_ERROR; the reason is then in @err (may be NULL).
 */
uint64_t iommu_dma_map_single(struct iommu_dma_device *dev, uint64_t phys, uint64_t size,
			      enum iommu_dma_data_direction dir, struct iommu_error *err);
uint64_t iommu_dma_map_page(struct iommu_dma_device *dev, uint64_t page_phys, uint64_t offset,
			    uint64_t size, enum iommu_dma_data_direction dir,
			    struct iommu_error *err);
/*
 * dma_unmap_single / dma_unmap_page.  The kernel returns nothing; here 0
 * when the unmap took place, or a negative errno with the warning the
 * kernel would print in @err: -ENOENT (nothing mapped there: never
 * mapped, or unmapped already), -EINVAL (dma-debug: size, direction or
 * mapping function differ from the map's; invalid direction).
 */
int iommu_dma_unmap_single(struct iommu_dma_device *dev, uint64_t addr, uint64_t size,
			   enum iommu_dma_data_direction dir, struct iommu_error *err);
int iommu_dma_unmap_page(struct iommu_dma_device *dev, uint64_t addr, uint64_t size,
			 enum iommu_dma_data_direction dir, struct iommu_error *err);

/* One scatterlist entry: the buffer (sg_phys, length), and what
 * dma_map_sg writes (sg_dma_address, sg_dma_len). */
struct iommu_dma_sg {
	uint64_t phys;
	uint32_t length;
	uint64_t dma_address;
	uint32_t dma_length;
};
/*
 * dma_map_sg: the number of DMA segments written (entries merged as
 * iommu_dma_map_sg concatenates them, up to the 64 KiB PCI segment size),
 * 0 on failure as the kernel (reason in @err).  The IOMMU path maps all
 * entries into one IOVA range.
 */
int iommu_dma_map_sg(struct iommu_dma_device *dev, struct iommu_dma_sg *sg, int nents,
		     enum iommu_dma_data_direction dir, struct iommu_error *err);
/* dma_unmap_sg with the nents given to map_sg.  0, -ENOENT, -EINVAL. */
int iommu_dma_unmap_sg(struct iommu_dma_device *dev, struct iommu_dma_sg *sg, int nents,
		       enum iommu_dma_data_direction dir, struct iommu_error *err);

/*
 * dma_alloc_coherent: @size bytes of zeroed pages from the coherent pool
 * (*@phys, the "CPU address"), mapped for the device at *@dma_handle with
 * the coherent mask.  0, -ENOMEM (pool or IOVA space exhausted), -EINVAL
 * (size 0, as dma_alloc_attrs returns NULL for it).
 */
int iommu_dma_alloc_coherent(struct iommu_dma_device *dev, uint64_t size, uint64_t *dma_handle,
			     uint64_t *phys, struct iommu_error *err);
/* dma_free_coherent.  0, -ENOENT, -EINVAL (as unmap). */
int iommu_dma_free_coherent(struct iommu_dma_device *dev, uint64_t size, uint64_t phys,
			    uint64_t dma_handle, struct iommu_error *err);

/* One DMA request of the device, through the modelled IOMMU. */
struct iommu_dma_access {
	uint64_t host_addr;     /* where it lands (valid on success) */
	bool direct;            /* no translation: no IOMMU, or pass-through */
	bool iotlb_hit;         /* the unit answered from its IOTLB */
	bool stale;             /* succeeded on an address the page tables no
				   longer map: a stale IOTLB entry */
	bool modelled_unit;     /* false: no IOTLB model (software page tables,
				   AMD); the page tables answered */
	unsigned fault_reason;  /* VT-d fault reason (enum iommu_vtd_fault_reason),
				   0 on success or without a unit */
	char fault[160];        /* the fault in words, "" on success */
};
/* A read (or write) of @len bytes (1..4096, not crossing a page) at DMA
 * address @addr.  0, -EFAULT (a fault: @res says which), -EINVAL. */
int iommu_dma_device_access(struct iommu_dma_device *dev, uint64_t addr, uint32_t len,
			    bool write, struct iommu_dma_access *res);

/* The modelled clock: now, and advance by @ns (flush-queue timers whose
 * deadline passes fire, in deadline order, as fq_flush_timeout). */
uint64_t iommu_dma_now(struct iommu_dma *dma);
void iommu_dma_advance(struct iommu_dma *dma, uint64_t ns);
/* Flush every flush queue now (what the timer does, without waiting). */
void iommu_dma_flush_queues(struct iommu_dma *dma);

struct iommu_dma_stats {
	uint64_t maps, unmaps;          /* streaming + coherent + sg calls that succeeded */
	uint64_t map_errors;            /* DMA_MAPPING_ERROR / 0 returned */
	uint64_t bad_unmaps;            /* unmaps refused (-ENOENT, -EINVAL) */
	uint64_t direct_maps;           /* of maps, through dma-direct */
	uint64_t live_mappings;         /* IOMMU-path mappings not yet unmapped */
	/* Invalidations the DMA layer issued. */
	uint64_t inv_sync;              /* strict unmaps: range invalidation + wait */
	uint64_t inv_flush_all;         /* flush queue flushes: flush_iotlb_all */
	uint64_t inv_wait_ns;           /* modelled CPU wait they cost */
	/* Flush queues (DMA-FQ domains). */
	uint64_t fq_queued, fq_reclaimed, fq_pending;
	uint64_t fq_flush_full, fq_flush_timeout, fq_flush_explicit;
	uint64_t fq_flush_start_cnt, fq_flush_finish_cnt;
	/* Stale-translation windows: every lazy unmap opens one (the range
	 * stays reachable through a cached IOTLB entry until the flush);
	 * open: not flushed yet; hits: device accesses that succeeded
	 * through one. */
	uint64_t stale_windows, stale_open, stale_hits;
	uint64_t faults;                /* device accesses that faulted */
	uint64_t cookies;               /* DMA domains set up */
};
/* Sums over every domain and device of @dma. */
void iommu_dma_get_stats(struct iommu_dma *dma, struct iommu_dma_stats *st);

/* The messages the kernel would log ("Using 39-bit DMA addresses",
 * dma-debug reports), in order; *@n set.  Taken: the caller frees each
 * string and the vector with free(). */
char **iommu_dma_take_log(struct iommu_dma *dma, size_t *n);

/* The DMA domain behind @dev (NULL when direct) and its allocator, for
 * tests and tools. */
struct iommu_domain *iommu_dma_device_domain(struct iommu_dma_device *dev);
struct iommu_iova_domain *iommu_dma_device_iovad(struct iommu_dma_device *dev);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_DMA_H */
