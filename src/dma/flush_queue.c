// SPDX-License-Identifier: MIT
/*
 * Flush queues of DMA-FQ ("lazy") domains, as dma-iommu.c runs them
 * (reference 7.5):
 *
 *  - an unmap clears the page-table entries but does not invalidate the
 *    IOTLB; the IOVA range goes on the calling CPU's ring, tagged with the
 *    number of flushes started so far;
 *  - an entry may be given back to the allocator (free_iova_fast, so into
 *    the per-CPU range cache) once a flush that started after it was
 *    queued has finished: tag < flush_finish_cnt;
 *  - queueing first reclaims what other CPUs' flushes already covered;
 *    a ring that is still full (IOMMU_DMA_FQ_SIZE - 1 entries: one slot
 *    of the ring stays empty) is flushed synchronously (again, while a
 *    flush started earlier on another thread is still running: see
 *    dma_fq_queue);
 *  - the first queueing after the timer last fired arms it for
 *    IOMMU_DMA_FQ_TIMEOUT_NS of modelled time; when it fires, one flush
 *    and every CPU's ring is reclaimed.
 *
 * Written from the behaviour described in the reference, not from the
 * kernel's text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma_internal.h"

#define RING_MASK (IOMMU_DMA_FQ_SIZE - 1)
_Static_assert((IOMMU_DMA_FQ_SIZE & RING_MASK) == 0, "ring size must be a power of two");

int dma_fq_create(struct dma_cookie *c, struct dma_fq **out)
{
	struct dma_fq *fq = calloc(1, sizeof(*fq));

	if (!fq)
		return -ENOMEM;
	fq->cookie = c;
	if (pthread_mutex_init(&fq->alloc_lock, NULL)) {
		free(fq);
		return -ENOMEM;
	}
	*out = fq;
	return 0;
}

static struct dma_fq_ring *ring_get(struct dma_fq *fq, unsigned cpu)
{
	struct dma_fq_ring *r = atomic_load_explicit(&fq->rings[cpu], memory_order_acquire);

	if (r)
		return r;
	pthread_mutex_lock(&fq->alloc_lock);
	r = atomic_load_explicit(&fq->rings[cpu], memory_order_relaxed);
	if (!r) {
		r = aligned_alloc(DMA_CACHELINE, sizeof(*r));
		if (r) {
			memset(r, 0, sizeof(*r));
			if (pthread_mutex_init(&r->lock, NULL)) {
				free(r);
				r = NULL;
			} else {
				atomic_store_explicit(&fq->rings[cpu], r, memory_order_release);
			}
		}
	}
	pthread_mutex_unlock(&fq->alloc_lock);
	return r;
}

static bool ring_full(const struct dma_fq_ring *r)
{
	return ((r->tail + 1) & RING_MASK) == r->head;
}

/* fq_ring_free_locked: give back, oldest first, what a finished flush
 * covered.  @cpu: the caller's slot, whose range cache receives them. */
static void ring_reclaim_locked(struct dma_fq *fq, struct dma_fq_ring *r, unsigned cpu)
{
	uint64_t done = atomic_load_explicit(&fq->flush_finish_cnt, memory_order_acquire);
	struct iommu_iova_domain *iovad = fq->cookie->iovad;

	while (r->head != r->tail) {
		struct dma_fq_entry *e = &r->e[r->head];

		if (e->counter >= done)
			break;
		iommu_iova_free_fast(iovad, cpu, e->pfn, e->pages);
		r->head = (r->head + 1) & RING_MASK;
		r->reclaimed++;
	}
}

/* fq_flush_iotlb: the flush itself, bracketed by the two counters. */
static void fq_flush(struct dma_fq *fq, unsigned cpu, enum dma_fq_flush_reason why)
{
	atomic_fetch_add_explicit(&fq->flush_start_cnt, 1, memory_order_acq_rel);
	dma_cookie_flush_iotlb(fq->cookie, cpu);
	atomic_fetch_add_explicit(&fq->flush_finish_cnt, 1, memory_order_acq_rel);
	switch (why) {
	case DMA_FQ_FLUSH_FULL:
		atomic_fetch_add_explicit(&fq->flush_full, 1, memory_order_relaxed);
		break;
	case DMA_FQ_FLUSH_TIMEOUT:
		atomic_fetch_add_explicit(&fq->flush_timeout, 1, memory_order_relaxed);
		break;
	case DMA_FQ_FLUSH_EXPLICIT:
		atomic_fetch_add_explicit(&fq->flush_explicit, 1, memory_order_relaxed);
		break;
	}
}

void dma_fq_queue(struct dma_fq *fq, unsigned cpu, uint64_t pfn, uint64_t pages)
{
	struct dma_fq_ring *r = ring_get(fq, cpu);
	struct dma_fq_entry *e;

	if (!r) {
		/* No memory for the ring: what the kernel does when its flush
		 * queue cannot exist, a strict invalidation, then free. */
		fq_flush(fq, cpu, DMA_FQ_FLUSH_FULL);
		iommu_iova_free_fast(fq->cookie->iovad, cpu, pfn, pages);
		return;
	}
	pthread_mutex_lock(&r->lock);
	ring_reclaim_locked(fq, r, cpu);
	/*
	 * Full: flush, give back.  The kernel flushes once and adds the entry
	 * whatever the ring holds then.  One flush is not always enough: a
	 * flush another thread started before every entry here was queued
	 * (their tags equal its start) and has not finished leaves
	 * flush_finish_cnt at those tags after ours, so nothing goes back,
	 * and adding one more entry would wrap the ring onto its head and
	 * drop 256 entries (IOVAs lost for good).  The kernel's timer flush
	 * runs in softirq context and is over long before 255 unmaps; the
	 * model's runs on a thread the host may preempt between the two
	 * counters for a whole time slice.  So flush until the oldest entry
	 * can go: each flush finishes one more, so this takes at most one
	 * more flush per flush still running on other threads.
	 */
	while (ring_full(r)) {
		fq_flush(fq, cpu, DMA_FQ_FLUSH_FULL);
		ring_reclaim_locked(fq, r, cpu);
	}
	e = &r->e[r->tail];
	e->pfn = pfn;
	e->pages = pages;
	e->counter = atomic_load_explicit(&fq->flush_start_cnt, memory_order_acquire);
	r->tail = (r->tail + 1) & RING_MASK;
	r->queued++;
	pthread_mutex_unlock(&r->lock);

	/* Arm the timer once (the unlocked check keeps the line read-shared;
	 * arming takes the clock's lock so that the clock never sees an armed
	 * timer without its deadline). */
	if (!atomic_load_explicit(&fq->timer_on, memory_order_acquire)) {
		struct iommu_dma *dma = fq->cookie->dma;

		dma_clock_lock(dma);
		if (!atomic_load_explicit(&fq->timer_on, memory_order_relaxed)) {
			atomic_store_explicit(&fq->deadline, dma_clock(dma) + IOMMU_DMA_FQ_TIMEOUT_NS,
					      memory_order_relaxed);
			atomic_store_explicit(&fq->timer_on, true, memory_order_release);
		}
		dma_clock_unlock(dma);
	}
}

void dma_fq_flush_all(struct dma_fq *fq, enum dma_fq_flush_reason why)
{
	unsigned cpu = iommu_iova_this_cpu();

	if (why == DMA_FQ_FLUSH_TIMEOUT)
		atomic_store_explicit(&fq->timer_on, false, memory_order_release);
	fq_flush(fq, cpu, why);
	for (unsigned i = 0; i < IOMMU_IOVA_MAX_CPUS; i++) {
		struct dma_fq_ring *r = atomic_load_explicit(&fq->rings[i], memory_order_acquire);

		if (!r)
			continue;
		pthread_mutex_lock(&r->lock);
		ring_reclaim_locked(fq, r, cpu);
		pthread_mutex_unlock(&r->lock);
	}
}

void dma_fq_counts(struct dma_fq *fq, uint64_t *queued, uint64_t *reclaimed, uint64_t *pending,
		   uint64_t *unflushed)
{
	uint64_t q = 0, rc = 0, p = 0, u = 0;
	uint64_t done = atomic_load_explicit(&fq->flush_finish_cnt, memory_order_acquire);

	for (unsigned i = 0; i < IOMMU_IOVA_MAX_CPUS; i++) {
		struct dma_fq_ring *r = atomic_load_explicit(&fq->rings[i], memory_order_acquire);

		if (!r)
			continue;
		pthread_mutex_lock(&r->lock);
		q += r->queued;
		rc += r->reclaimed;
		for (unsigned j = r->head; j != r->tail; j = (j + 1) & RING_MASK) {
			p++;
			if (r->e[j].counter >= done)
				u++;
		}
		pthread_mutex_unlock(&r->lock);
	}
	*queued = q;
	*reclaimed = rc;
	*pending = p;
	*unflushed = u;
}

void dma_fq_destroy(struct dma_fq *fq, bool flush)
{
	uint64_t q, rc, p, u;

	if (!fq)
		return;
	dma_fq_counts(fq, &q, &rc, &p, &u);
	if (p && flush)
		dma_fq_flush_all(fq, DMA_FQ_FLUSH_EXPLICIT);
	for (unsigned i = 0; i < IOMMU_IOVA_MAX_CPUS; i++) {
		struct dma_fq_ring *r = atomic_load_explicit(&fq->rings[i], memory_order_relaxed);

		if (!r)
			continue;
		pthread_mutex_destroy(&r->lock);
		free(r);
	}
	pthread_mutex_destroy(&fq->alloc_lock);
	free(fq);
}
