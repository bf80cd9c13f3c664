// SPDX-License-Identifier: MIT
/*
 * Strict versus lazy invalidation (issue 6, "What it must show" item 2),
 * observed as a device sees it: requests through the modelled VT-d unit,
 * whose IOTLB keeps what it cached until it is invalidated.
 *
 *  strict (DMA domain; reference 7.5): every unmap runs iommu_unmap +
 *    iotlb_sync before the IOVA goes back, so a request right after the
 *    unmap faults, and each unmap costs one invalidation;
 *  lazy (DMA-FQ; reference 7.5): the unmap clears the PTEs but queues the
 *    IOVA on the CPU's flush queue; a translation the IOTLB cached still
 *    succeeds until a flush: when a queue is full (a ring of 256 slots
 *    holds 255 entries: queue_iova flushes when (tail + 1) % 256 == head)
 *    or when the 10 ms timer, armed by the first queueing, fires.  After
 *    the flush the request faults, and the IOVA is reusable only then.
 *
 * Device 00:08.0 of the intel-server platform (group 1 alone, DMA-FQ by
 * default; iommu.strict=1 makes it DMA).  Fresh domains hand out
 * 0xfffff000, 0xffffe000, ... (test_dma.c derives them).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dma/dma_internal.h"
#include "dma_fixture.h"

#define STRICT "console=ttyS0 intel_iommu=on iommu.strict=1"
#define TO IOMMU_DMA_TO_DEVICE
#define MS UINT64_C(1000000)

static uint64_t map(struct iommu_dma_device *d, uint64_t phys, uint64_t size)
{
	struct iommu_error err = { 0 };
	uint64_t a = iommu_dma_map_single(d, phys, size, TO, &err);

	assert_int_not_equal(a, IOMMU_DMA_MAPPING_ERROR);
	return a;
}

static void unmap(struct iommu_dma_device *d, uint64_t addr, uint64_t size)
{
	struct iommu_error err = { 0 };

	assert_int_equal(iommu_dma_unmap_single(d, addr, size, TO, &err), 0);
}

/* A device read of @addr: 0 and the host address, or -EFAULT. */
static int dev_read(struct iommu_dma_device *d, uint64_t addr, struct iommu_dma_access *a)
{
	return iommu_dma_device_access(d, addr, 4, false, a);
}

static void test_strict_faults_at_once(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_dma_access a;
	struct iommu_dma_stats st;
	struct fx_inv before, after;
	uint64_t addr;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_IOMMU_STRICT);
	addr = map(d, 0x100000, 4096);
	/* The first request walks and fills the IOTLB, the second hits. */
	assert_int_equal(dev_read(d, addr + 0x10, &a), 0);
	assert_int_equal(a.host_addr, 0x100010);
	assert_false(a.iotlb_hit);
	assert_int_equal(dev_read(d, addr + 0x20, &a), 0);
	assert_true(a.iotlb_hit);
	before = fx_vtd_inv(&f);
	unmap(d, addr, 4096);
	after = fx_vtd_inv(&f);
	/* One page-selective invalidation (the unmap's iotlb_sync). */
	assert_int_equal(after.page - before.page, 1);
	assert_int_equal(after.domain - before.domain, 0);
	/* At once: the cached entry is gone, the walk finds no PTE. */
	assert_int_equal(dev_read(d, addr + 0x10, &a), -EFAULT);
	assert_int_equal(a.fault_reason, IOMMU_VTD_FR_READ);
	assert_false(a.stale);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.inv_sync, 1);
	assert_int_equal(st.inv_flush_all, 0);
	assert_int_equal(st.stale_windows, 0);
	assert_int_equal(st.stale_hits, 0);
	assert_int_equal(st.faults, 1);
	/* Strict frees at once: the same IOVA comes back (magazine LIFO). */
	assert_int_equal(map(d, 0x200000, 4096), addr);
	fx_stop(&f);
}

static void test_lazy_stale_until_timeout(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_dma_access a;
	struct iommu_dma_stats st;
	struct fx_inv before, after;
	uint64_t addr, other;

	(void)state;
	fx_start(&f, "intel-server", NULL);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_IOMMU_LAZY);
	addr = map(d, 0x100000, 4096);
	assert_int_equal(addr, 0xfffff000);
	assert_int_equal(dev_read(d, addr, &a), 0);             /* cached now */
	before = fx_vtd_inv(&f);
	unmap(d, addr, 4096);
	after = fx_vtd_inv(&f);
	assert_int_equal(after.page - before.page, 0);           /* nothing invalidated */
	assert_int_equal(after.domain - before.domain, 0);
	/* The device still reaches the buffer through the IOTLB. */
	assert_int_equal(dev_read(d, addr + 0x40, &a), 0);
	assert_int_equal(a.host_addr, 0x100040);
	assert_true(a.iotlb_hit);
	assert_true(a.stale);
	/* The IOVA is not reusable yet (reference I4): the next map gets a
	 * lower one, from the tree below cached32 = 0xfffff. */
	other = map(d, 0x200000, 4096);
	assert_int_equal(other, 0xffffe000);
	/* The timer was armed at t = 0 by the queueing: still pending at
	 * 9.999999 ms. */
	iommu_dma_advance(f.dma, 10 * MS - 1);
	assert_int_equal(dev_read(d, addr, &a), 0);
	assert_true(a.stale);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_flush_timeout, 0);
	assert_int_equal(st.stale_open, 1);
	/* 10 ms: fq_flush_timeout: one flush_iotlb_all (domain-selective on
	 * VT-d), every ring reclaimed. */
	before = fx_vtd_inv(&f);
	iommu_dma_advance(f.dma, 1);
	after = fx_vtd_inv(&f);
	assert_int_equal(after.domain - before.domain, 1);
	assert_int_equal(after.page - before.page, 0);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_flush_timeout, 1);
	assert_int_equal(st.fq_flush_full, 0);
	assert_int_equal(st.fq_reclaimed, 1);
	assert_int_equal(st.fq_pending, 0);
	assert_int_equal(st.stale_windows, 1);
	assert_int_equal(st.stale_open, 0);
	assert_int_equal(st.stale_hits, 2);
	/* ... and never after. */
	assert_int_equal(dev_read(d, addr, &a), -EFAULT);
	assert_false(a.stale);
	assert_int_equal(dev_read(d, addr + 0x800, &a), -EFAULT);
	/* Reclaimed into this CPU's magazine: the next 1-page map reuses it,
	 * and the new mapping's translation is the new buffer's, not the old
	 * one (the IOTLB was flushed). */
	assert_int_equal(map(d, 0x300000, 4096), addr);
	assert_int_equal(dev_read(d, addr + 8, &a), 0);
	assert_int_equal(a.host_addr, 0x300008);
	assert_false(a.stale);
	(void)other;
	fx_stop(&f);
}

/*
 * Batching: n unmaps queue on one CPU's ring; the k-th unmap flushes when
 * the ring already holds 255 entries: k = 256, then every 255 more (after
 * a flush the ring holds only the entry just added).  For n = 1000:
 * k = 256, 511, 766 -> 3 flushes, floor((n - 1) / 255); no timer fires
 * (time does not move).  Strict: 1000 unmaps, 1000 invalidations.
 */
static void batch(bool lazy, uint64_t *dma_flushes, uint64_t *dma_syncs, struct fx_inv *hw,
		  uint64_t *windows)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_dma_stats st;
	struct iommu_dma_access a;
	struct fx_inv before, after;

	fx_start(&f, "intel-server", lazy ? NULL : STRICT);
	d = fx_dev(&f, "00:08.0");
	before = fx_vtd_inv(&f);
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t addr = map(d, 0x100000 + (uint64_t)(i % 64) * 4096, 4096);

		assert_int_equal(dev_read(d, addr, &a), 0);
		unmap(d, addr, 4096);
	}
	after = fx_vtd_inv(&f);
	iommu_dma_get_stats(f.dma, &st);
	*dma_flushes = st.inv_flush_all;
	*dma_syncs = st.inv_sync;
	hw->page = after.page - before.page;
	hw->domain = after.domain - before.domain;
	*windows = st.stale_windows;
	if (lazy) {
		assert_int_equal(st.fq_flush_full, 3);
		assert_int_equal(st.fq_flush_timeout, 0);
		/* 1000 queued, 3 flushes covered 255 * 3 = 765 of them ... */
		assert_int_equal(st.fq_queued, 1000);
		assert_int_equal(st.fq_pending, 1000 - 765);
		/* ... the rest go with the timer. */
		iommu_dma_advance(f.dma, 10 * MS);
		iommu_dma_get_stats(f.dma, &st);
		assert_int_equal(st.fq_flush_timeout, 1);
		assert_int_equal(st.fq_pending, 0);
		assert_int_equal(st.fq_reclaimed, 1000);
	}
	assert_int_equal(st.live_mappings, 0);
	fx_stop(&f);
}

static void test_batching_counts(void **state)
{
	uint64_t flushes, syncs, windows;
	struct fx_inv hw;

	(void)state;
	batch(true, &flushes, &syncs, &hw, &windows);
	assert_int_equal(flushes, 3);
	assert_int_equal(syncs, 0);
	assert_int_equal(hw.domain, 3);
	assert_int_equal(hw.page, 0);
	assert_int_equal(windows, 1000);

	batch(false, &flushes, &syncs, &hw, &windows);
	assert_int_equal(flushes, 0);
	assert_int_equal(syncs, 1000);
	assert_int_equal(hw.page + hw.domain, 1000);
	assert_int_equal(windows, 0);
}

/* The timer is armed once: a second queueing at 5 ms does not move the
 * deadline; both entries go in the one flush at 10 ms. */
static void test_timer_armed_once(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_dma_stats st;
	struct iommu_dma_access acc;
	uint64_t a, b;

	(void)state;
	fx_start(&f, "intel-server", NULL);
	d = fx_dev(&f, "00:08.0");
	a = map(d, 0x100000, 4096);
	b = map(d, 0x200000, 4096);
	assert_int_equal(dev_read(d, b, &acc), 0);
	unmap(d, a, 4096);
	iommu_dma_advance(f.dma, 5 * MS);
	unmap(d, b, 4096);
	iommu_dma_advance(f.dma, 5 * MS - 1);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_pending, 2);
	assert_int_equal(dev_read(d, b, &acc), 0);
	assert_true(acc.stale);
	iommu_dma_advance(f.dma, 1);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_flush_timeout, 1);
	assert_int_equal(st.fq_pending, 0);
	assert_int_equal(dev_read(d, b, &acc), -EFAULT);
	/* Nothing queued: a later advance fires nothing. */
	iommu_dma_advance(f.dma, 100 * MS);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_flush_timeout, 1);
	assert_int_equal(iommu_dma_now(f.dma), 110 * MS);
	fx_stop(&f);
}

/* An explicit flush, and two domains: each domain's queue and timer are
 * its own, and a flush of one does not touch the other's IOTLB entries. */
static void test_two_domains_and_explicit_flush(void **state)
{
	struct fx f;
	struct iommu_dma_device *d1, *d2;
	struct iommu_dma_stats st;
	struct iommu_dma_access acc;
	uint64_t a1, a2;

	(void)state;
	fx_start(&f, "intel-server", NULL);
	d1 = fx_dev(&f, "00:08.0");
	d2 = fx_dev(&f, "01:00.0");
	a1 = map(d1, 0x100000, 4096);
	a2 = map(d2, 0x200000, 4096);
	/* Each a fresh domain: both at 0xfffff000. */
	assert_int_equal(a1, 0xfffff000);
	assert_int_equal(a2, 0xfffff000);
	assert_int_equal(dev_read(d1, a1, &acc), 0);
	assert_int_equal(dev_read(d2, a2, &acc), 0);
	unmap(d1, a1, 4096);
	iommu_dma_advance(f.dma, 3 * MS);
	unmap(d2, a2, 4096);
	/* d1's timer fires at 10 ms, d2's at 13 ms. */
	iommu_dma_advance(f.dma, 7 * MS);
	assert_int_equal(dev_read(d1, a1, &acc), -EFAULT);
	assert_int_equal(dev_read(d2, a2, &acc), 0);
	assert_true(acc.stale);
	assert_int_equal(acc.host_addr, 0x200000);
	iommu_dma_flush_queues(f.dma);
	assert_int_equal(dev_read(d2, a2, &acc), -EFAULT);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_flush_timeout, 1);
	assert_int_equal(st.fq_flush_explicit, 1);
	assert_int_equal(st.cookies, 2);
	/* d2's timer was consumed by the explicit flush: nothing at 13 ms. */
	iommu_dma_advance(f.dma, 10 * MS);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_flush_timeout, 1);
	fx_stop(&f);
}

/*
 * sysfs DMA -> DMA-FQ (reference 3.6 item 4: converted in place, the
 * flush queue comes up): the same domain, unmaps queue from then on.
 */
static void test_upgrade_to_lazy(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };
	struct iommu_dma_access acc;
	struct iommu_domain *dom;
	uint64_t a;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	a = map(d, 0x100000, 4096);
	dom = iommu_dma_device_domain(d);
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_IOMMU_STRICT);
	assert_int_equal(iommu_group_store_type(f.s,
						iommu_system_device(f.s, iommu_dma_device_pdev(d))->group,
						"DMA-FQ", &err), 0);
	assert_ptr_equal(iommu_dma_device_domain(d), dom);
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_IOMMU_LAZY);
	assert_int_equal(dev_read(d, a, &acc), 0);
	unmap(d, a, 4096);
	assert_int_equal(dev_read(d, a, &acc), 0);
	assert_true(acc.stale);
	iommu_dma_advance(f.dma, 10 * MS);
	assert_int_equal(dev_read(d, a, &acc), -EFAULT);
	fx_stop(&f);
}

/*
 * A write of the group's type that replaces its default domain (DMA-FQ ->
 * identity -> DMA): the old domain is freed by the core while an IOVA of
 * it still waits on its flush queue.  The device follows the new default
 * domain (dma-direct, then a fresh DMA domain starting again at
 * 0xfffff000), and the old queue is never flushed into the freed domain
 * (AddressSanitizer would see it).
 */
static void test_default_domain_replaced(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_group_info *g;
	struct iommu_error err = { 0 };
	uint64_t a;

	(void)state;
	fx_start(&f, "intel-server", NULL);
	d = fx_dev(&f, "00:08.0");
	g = iommu_system_device(f.s, iommu_dma_device_pdev(d))->group;
	a = map(d, 0x100000, 4096);
	assert_int_equal(a, 0xfffff000);
	unmap(d, a, 4096);
	assert_int_equal(iommu_group_store_type(f.s, g, "identity", &err), 0);
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_DIRECT_IDENTITY);
	assert_int_equal(map(d, 0x123000, 4096), 0x123000);
	unmap(d, 0x123000, 4096);
	iommu_dma_advance(f.dma, 20 * MS);
	iommu_dma_flush_queues(f.dma);
	assert_int_equal(iommu_group_store_type(f.s, g, "DMA", &err), 0);
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_IOMMU_STRICT);
	assert_int_equal(map(d, 0x100000, 4096), 0xfffff000);
	unmap(d, 0xfffff000, 4096);
	fx_stop(&f);
}

/*
 * The same upgrade with nothing between it and the unmap that looks at
 * the device again: the unmap itself finds the domain DMA-FQ (the core's
 * unmap left the IOTLB alone), brings the flush queue up and queues the
 * IOVA, as the kernel's __iommu_dma_unmap does once cookie->fq_domain is
 * set (reference 7.5): no strict invalidation, a stale window until the
 * flush, and the IOVA back only after it.
 */
static void upgrade_then_unmap(bool debug)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };
	struct iommu_dma_access acc;
	struct iommu_dma_stats st;
	struct iommu_dma_config cfg;
	struct fx_inv inv0, inv1;
	uint64_t a;

	iommu_dma_config_init(&cfg);
	cfg.debug = debug;
	fx_start_cfg(&f, "intel-server", STRICT, &cfg);
	d = fx_dev(&f, "00:08.0");
	a = map(d, 0x100000, 4096);
	assert_int_equal(a, 0xfffff000);
	assert_int_equal(dev_read(d, a, &acc), 0);
	assert_int_equal(iommu_group_store_type(f.s,
						iommu_system_device(f.s, iommu_dma_device_pdev(d))->group,
						"DMA-FQ", &err), 0);
	inv0 = fx_vtd_inv(&f);
	unmap(d, a, 4096);
	inv1 = fx_vtd_inv(&f);
	assert_int_equal(inv1.page, inv0.page);         /* no page-selective flush */
	assert_int_equal(inv1.domain, inv0.domain);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.inv_sync, 0);
	assert_int_equal(st.fq_queued, 1);
	assert_int_equal(st.fq_pending, 1);
	assert_int_equal(dev_read(d, a, &acc), 0);
	assert_true(acc.stale);
	/* the IOVA is not handed out again before the flush */
	assert_int_equal(map(d, 0x200000, 4096), 0xffffe000);
	iommu_dma_advance(f.dma, 10 * MS);
	assert_int_equal(dev_read(d, a, &acc), -EFAULT);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.fq_reclaimed, 1);
	assert_int_equal(st.stale_open, 0);
	unmap(d, 0xffffe000, 4096);
	fx_stop(&f);
}

/* With dma-debug (the unmap's checked path) and without (its fast path). */
static void test_upgrade_then_unmap(void **state)
{
	(void)state;
	upgrade_then_unmap(true);
	upgrade_then_unmap(false);
}

/*
 * A ring found full while a flush that another CPU started before every
 * entry in it was queued has not finished yet (white box: flush_queue.c on
 * a queue of its own, the other CPU's flush simulated by its first half,
 * so that the interleaving is exact instead of left to the scheduler).
 * The entries carry that flush's start count as their tag (queue_iova
 * reads fq_flush_start_cnt), so the queueing CPU's own flush brings
 * flush_finish_cnt only up to their tag and gives nothing back
 * (fq_ring_free frees an entry when its counter < finish).  The kernel
 * adds the entry all the same (queue_iova: fq_ring_add after one
 * fq_flush_iotlb), which would wrap the ring onto its head and lose 256
 * entries; its timer flush is never descheduled in that window, the
 * model's may be (test_dma_stress failed this way under load).  The
 * model flushes once more.  Whatever the number of flushes, the
 * invariant is the kernel's: an entry is either pending or given back
 * to the allocator, never dropped.
 */
static void test_full_ring_with_flush_in_flight(void **state)
{
	const unsigned n = IOMMU_DMA_FQ_SIZE - 1;   /* what a ring holds */
	struct fx f;
	struct iommu_iova_domain *iovad;
	struct iommu_iova_stats ist;
	struct dma_cookie c;
	struct dma_fq *fq;
	uint64_t pfn[IOMMU_DMA_FQ_SIZE], q, r, p, u;
	unsigned cpu = iommu_iova_this_cpu();

	(void)state;
	fx_start(&f, "intel-server", NULL);
	assert_int_equal(iommu_iova_domain_create(4096, 1, &iovad), 0);
	memset(&c, 0, sizeof(c));
	c.dma = f.dma;          /* the clock for the timer; no domain to flush */
	c.iovad = iovad;
	c.shift = 12;
	c.granule_mask = 0xfff;
	assert_int_equal(dma_fq_create(&c, &fq), 0);
	for (unsigned i = 0; i <= n; i++) {
		pfn[i] = iommu_iova_alloc_fast(iovad, cpu, 1, 0xfffff, true);
		assert_int_not_equal(pfn[i], 0);
	}

	/* Another CPU's flush has started and is still running. */
	atomic_fetch_add(&fq->flush_start_cnt, 1);
	for (unsigned i = 0; i < n; i++)
		dma_fq_queue(fq, cpu, pfn[i], 1);
	dma_fq_counts(fq, &q, &r, &p, &u);
	assert_int_equal(q, n);
	assert_int_equal(r, 0);
	assert_int_equal(p, n);         /* all waiting for a flush after them */
	assert_int_equal(atomic_load(&fq->flush_full), 0);

	/* The ring is full: the next queueing flushes. */
	dma_fq_queue(fq, cpu, pfn[n], 1);
	dma_fq_counts(fq, &q, &r, &p, &u);
	assert_int_equal(q, n + 1);
	assert_int_equal(q, r + p);     /* nothing dropped */
	assert_int_equal(r, n);         /* the full ring went back ... */
	assert_int_equal(p, 1);         /* ... and the new entry waits */
	assert_int_equal(atomic_load(&fq->flush_full), 2);
	assert_int_equal(atomic_load(&fq->flush_start_cnt), 3);
	assert_int_equal(atomic_load(&fq->flush_finish_cnt), 2);

	/* The other CPU's flush ends; teardown flushes what is left. */
	atomic_fetch_add(&fq->flush_finish_cnt, 1);
	dma_fq_destroy(fq, true);
	/* Every IOVA is back in the allocator: once its caches are emptied,
	 * the tree holds nothing. */
	for (unsigned k = 0; k < IOMMU_IOVA_MAX_CPUS; k++)
		iommu_iova_free_cpu_cached(iovad, k);
	iommu_iova_free_global_cached(iovad);
	iommu_iova_get_stats(iovad, &ist);
	assert_int_equal(ist.live_ranges, 0);
	assert_int_equal(ist.cached_ranges, 0);
	iommu_iova_domain_destroy(iovad);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_faults_at_once),
		cmocka_unit_test(test_lazy_stale_until_timeout),
		cmocka_unit_test(test_batching_counts),
		cmocka_unit_test(test_timer_armed_once),
		cmocka_unit_test(test_two_domains_and_explicit_flush),
		cmocka_unit_test(test_upgrade_to_lazy),
		cmocka_unit_test(test_default_domain_replaced),
		cmocka_unit_test(test_upgrade_then_unmap),
		cmocka_unit_test(test_full_ring_with_flush_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
