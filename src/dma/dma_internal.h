/* SPDX-License-Identifier: MIT */
/*
 * Internal structures of the DMA API layer (src/dma/dma.c) and its flush
 * queues (src/dma/flush_queue.c).  doc/dma.md describes the model.
 */
#ifndef IOMMU_DMA_INTERNAL_H
#define IOMMU_DMA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "iommu/core.h"
#include "iommu/dma.h"

#define DMA_CACHELINE 64

/*
 * Per-CPU-slot counters.  A slot is the allocator's CPU number of the
 * calling thread (iommu_iova_this_cpu), so each line is written by one
 * thread at a time: relaxed load + store, no locked instruction, no line
 * shared between threads.  Summed when read.
 */
struct dma_pcpu_stats {
	_Atomic uint64_t maps, unmaps, map_errors, bad_unmaps, direct_maps, direct_unmaps;
	_Atomic uint64_t inv_sync, inv_wait_ns, stale_hits, faults;
} __attribute__((aligned(DMA_CACHELINE)));

static inline void dma_stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Flush queues (dma-iommu.c queue_iova, fq_ring_free_locked,          */
/* fq_flush_iotlb, fq_flush_timeout; reference 7.5)                    */

struct dma_cookie;

struct dma_fq_entry {
	uint64_t pfn, pages;
	uint64_t counter;       /* fq_flush_start_cnt when queued */
};

/* One CPU's ring: IOMMU_DMA_FQ_SIZE slots, full at SIZE - 1 entries. */
struct dma_fq_ring {
	pthread_mutex_t lock;
	unsigned head, tail;
	uint64_t queued, reclaimed;     /* under lock */
	struct dma_fq_entry e[IOMMU_DMA_FQ_SIZE];
} __attribute__((aligned(DMA_CACHELINE)));

enum dma_fq_flush_reason {
	DMA_FQ_FLUSH_FULL,      /* a ring was full at queue time */
	DMA_FQ_FLUSH_TIMEOUT,   /* the 10 ms timer */
	DMA_FQ_FLUSH_EXPLICIT,  /* iommu_dma_flush_queues, teardown */
};

struct dma_fq {
	struct dma_cookie *cookie;
	/* Rings are allocated on first use by their CPU slot. */
	_Atomic(struct dma_fq_ring *) rings[IOMMU_IOVA_MAX_CPUS];
	pthread_mutex_t alloc_lock;     /* ring allocation */
	_Atomic uint64_t flush_start_cnt, flush_finish_cnt;
	/* The timer (modelled clock): armed by the first queueing after it
	 * last fired, due at deadline. */
	_Atomic bool timer_on;
	_Atomic uint64_t deadline;
	_Atomic uint64_t flush_full, flush_timeout, flush_explicit;
};

int dma_fq_create(struct dma_cookie *c, struct dma_fq **out);
/* Frees the rings; entries still queued are flushed and go back to the
 * allocator (@flush false: dropped, the domain is gone). */
void dma_fq_destroy(struct dma_fq *fq, bool flush);
/* queue_iova: on CPU slot @cpu, after the unmap cleared the PTEs. */
void dma_fq_queue(struct dma_fq *fq, unsigned cpu, uint64_t pfn, uint64_t pages);
/* fq_flush_timeout (or an explicit flush): flush, reclaim every ring. */
void dma_fq_flush_all(struct dma_fq *fq, enum dma_fq_flush_reason why);
/* Entries queued and not reclaimed; windows not closed by a flush. */
void dma_fq_counts(struct dma_fq *fq, uint64_t *queued, uint64_t *reclaimed,
		   uint64_t *pending, uint64_t *unflushed);

/* ------------------------------------------------------------------ */
/* The DMA cookie of a domain (struct iommu_dma_cookie)                 */

/* What every map and unmap reads comes first: allocated on a cache line
 * of its own (dma.c), the object is one line. */
struct dma_cookie {
	struct iommu_domain *domain;
	struct iommu_iova_domain *iovad;
	uint64_t granule_mask;          /* granule - 1 */
	uint64_t aperture_end;
	/* NULL for a strict (DMA) domain; set once when the domain is or
	 * becomes DMA-FQ (release store, acquire loads). */
	_Atomic(struct dma_fq *) fq;
	unsigned shift;
	bool force_aperture;
	/* The group's default domain was replaced (a type write): the domain
	 * may be gone, nothing may call into it any more. */
	_Atomic bool retired;
	struct iommu_dma *dma;
	struct dma_cookie *next;
};

/* Account one invalidation's modelled wait (and spin when configured). */
void dma_inv_wait(struct iommu_dma *dma, unsigned cpu);
/* Flush @c's domain IOTLB (flush_iotlb_all), with the wait. */
void dma_cookie_flush_iotlb(struct dma_cookie *c, unsigned cpu);
/* The modelled clock, and the lock that serialises it with the timers. */
uint64_t dma_clock(struct iommu_dma *dma);
void dma_clock_lock(struct iommu_dma *dma);
void dma_clock_unlock(struct iommu_dma *dma);

#endif
