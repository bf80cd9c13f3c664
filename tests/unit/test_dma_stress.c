// SPDX-License-Identifier: MIT
/*
 * Concurrency (issue 6, "What it must show" item 4): several threads map,
 * check and unmap on shared domains at once, while the main thread moves
 * the modelled clock so that flush-queue timers fire in the middle of it.
 * Run under ThreadSanitizer in the TSan build (scripts/test, TSAN=1) and
 * under AddressSanitizer in the sanitizer build.
 *
 * Checked:
 *  - no IOVA page is handed out twice while live: each thread marks the
 *    pages of every range it gets in a per-domain byte map with an atomic
 *    exchange, which must find them unmarked, and unmarks them before it
 *    unmaps (after the unmap the allocator may hand them to anyone);
 *  - while a range is live the device reaches exactly its buffer;
 *  - nothing is lost: at the end every mapping is undone, the queues are
 *    flushed, and once the range caches are emptied the allocators hold
 *    exactly the ranges they held before (the reservations), the DMA
 *    layer counts as many unmaps as maps and dma-debug finds no leak.
 *
 * intel-server: 00:08.1, 00:08.2 and 00:08.3 share group 2's domain;
 * 00:08.0 has group 1's to itself.  Threads 0-3 use group 2's devices,
 * thread 4 uses 00:08.0.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dma_fixture.h"

#define STRICT "console=ttyS0 intel_iommu=on iommu.strict=1"
#define NTHREADS 5
#define ITERS 8000
#define LIVE_MAX 8
/* IOVA pages watched: the top 256 MiB below 4 GiB, where every range of
 * this test lands (a range outside is a failure in itself). */
#define WATCH_LO UINT64_C(0xf0000)
#define WATCH_PAGES UINT64_C(0x10000)

static const char *const bdf[NTHREADS] = { "00:08.1", "00:08.2", "00:08.3", "00:08.1",
					    "00:08.0" };

struct shared {
	struct fx f;
	_Atomic unsigned char *marks[2];        /* per domain: group 2, group 1 */
	atomic_int failures;
	atomic_int done;
	char first_failure[256];
	pthread_mutex_t msg_lock;
};

struct live {
	int kind;                       /* 0 single, 1 sg, 2 coherent */
	uint64_t addr, size, phys;
	struct iommu_dma_sg sg[2];
};

struct worker {
	struct shared *sh;
	int id;
	struct iommu_dma_device *dev;
	int dom;
	uint64_t rng;
	uint64_t maps, checks;
};

static void record_failure(struct shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record_failure(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&sh->failures, 1) == 0) {
		pthread_mutex_lock(&sh->msg_lock);
		va_start(ap, fmt);
		vsnprintf(sh->first_failure, sizeof(sh->first_failure), fmt, ap);
		va_end(ap);
		pthread_mutex_unlock(&sh->msg_lock);
	}
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Mark (or unmark) the IOVA pages of [addr, addr + size). */
static void mark(struct worker *w, uint64_t addr, uint64_t size, bool on)
{
	uint64_t lo = addr >> 12, hi = (addr + size - 1) >> 12;

	for (uint64_t p = lo; p <= hi; p++) {
		unsigned char old;

		if (p < WATCH_LO || p >= WATCH_LO + WATCH_PAGES) {
			record_failure(w->sh, "thread %d: IOVA page 0x%llx outside the watched range", w->id,
			     (unsigned long long)p);
			return;
		}
		old = atomic_exchange(&w->sh->marks[w->dom][p - WATCH_LO], on ? 1 : 0);
		if (on && old)
			record_failure(w->sh, "thread %d: IOVA page 0x%llx handed out twice while live",
			     w->id, (unsigned long long)p);
		if (!on && !old)
			record_failure(w->sh, "thread %d: IOVA page 0x%llx was not marked", w->id,
			     (unsigned long long)p);
	}
}

static void check_reach(struct worker *w, uint64_t addr, uint64_t phys, uint64_t len)
{
	struct iommu_dma_access a;
	uint64_t off = rnd(&w->rng) % len;

	if (iommu_dma_device_access(w->dev, addr + off, 1, false, &a)) {
		record_failure(w->sh, "thread %d: live 0x%llx+0x%llx faults: %s", w->id,
		     (unsigned long long)addr, (unsigned long long)off, a.fault);
		return;
	}
	if (a.host_addr != phys + off || a.stale)
		record_failure(w->sh, "thread %d: 0x%llx reaches 0x%llx, not 0x%llx", w->id,
		     (unsigned long long)(addr + off), (unsigned long long)a.host_addr,
		     (unsigned long long)(phys + off));
	w->checks++;
}

static void undo(struct worker *w, struct live *l)
{
	struct iommu_error err = { 0 };
	int ret;

	switch (l->kind) {
	case 1:
		mark(w, l->sg[0].dma_address & ~UINT64_C(0xfff), l->size, false);
		ret = iommu_dma_unmap_sg(w->dev, l->sg, 2, IOMMU_DMA_BIDIRECTIONAL, &err);
		break;
	case 2:
		mark(w, l->addr, l->size, false);
		ret = iommu_dma_free_coherent(w->dev, l->size, l->phys, l->addr, &err);
		break;
	default:
		mark(w, l->addr & ~UINT64_C(0xfff), ((l->addr & 0xfff) + l->size + 0xfff) &
		     ~UINT64_C(0xfff), false);
		ret = iommu_dma_unmap_single(w->dev, l->addr, l->size, IOMMU_DMA_TO_DEVICE, &err);
		break;
	}
	if (ret)
		record_failure(w->sh, "thread %d: unmap: %s", w->id, err.msg);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct live live[LIVE_MAX];
	unsigned n = 0;
	/* Each thread's buffers in its own 16 MiB of memory. */
	uint64_t base = 512 * MiB + (uint64_t)w->id * 16 * MiB;

	for (unsigned it = 0; it < ITERS && !atomic_load(&w->sh->failures); it++) {
		struct iommu_error err = { 0 };
		struct live *l;
		uint64_t r = rnd(&w->rng);

		if (n == LIVE_MAX || (n && r % 3 == 0)) {
			unsigned k = (unsigned)(rnd(&w->rng) % n);

			undo(w, &live[k]);
			live[k] = live[--n];
			continue;
		}
		l = &live[n];
		memset(l, 0, sizeof(*l));
		if (it % 7 == 3) {
			l->kind = 1;
			l->sg[0] = (struct iommu_dma_sg){ .phys = base + (r % 64) * 4096,
							  .length = 4096 };
			l->sg[1] = (struct iommu_dma_sg){ .phys = base + 8 * MiB + (r % 32) * 4096 + 0x200,
							  .length = 0x300 };
			if (!iommu_dma_map_sg(w->dev, l->sg, 2, IOMMU_DMA_BIDIRECTIONAL, &err)) {
				record_failure(w->sh, "thread %d: map_sg: %s", w->id, err.msg);
				break;
			}
			l->size = 2 * 4096;
			mark(w, l->sg[0].dma_address, l->size, true);
			check_reach(w, l->sg[0].dma_address, l->sg[0].phys, 4096);
		} else if (it % 11 == 5) {
			l->kind = 2;
			l->size = 4096 << (r % 3);
			if (iommu_dma_alloc_coherent(w->dev, l->size, &l->addr, &l->phys, &err)) {
				record_failure(w->sh, "thread %d: alloc_coherent: %s", w->id, err.msg);
				break;
			}
			mark(w, l->addr, l->size, true);
			check_reach(w, l->addr, l->phys, l->size);
		} else {
			uint64_t off = (r >> 8) % 4096;

			l->size = 1 + (r >> 20) % (5 * 4096);
			l->phys = base + ((r >> 40) % 1024) * 4096 + off;
			l->addr = iommu_dma_map_single(w->dev, l->phys, l->size, IOMMU_DMA_TO_DEVICE,
						       &err);
			if (l->addr == IOMMU_DMA_MAPPING_ERROR) {
				record_failure(w->sh, "thread %d: map_single: %s", w->id, err.msg);
				break;
			}
			if ((l->addr & 0xfff) != off)
				record_failure(w->sh, "thread %d: offset 0x%llx not kept", w->id,
				     (unsigned long long)off);
			mark(w, l->addr & ~UINT64_C(0xfff), (off + l->size + 0xfff) & ~UINT64_C(0xfff),
			     true);
			check_reach(w, l->addr, l->phys, l->size);
		}
		n++;
		w->maps++;
	}
	while (n)
		undo(w, &live[--n]);
	atomic_fetch_add(&w->sh->done, 1);
	return NULL;
}

static void drain_caches(struct iommu_iova_domain *iovad)
{
	for (unsigned c = 0; c < IOMMU_IOVA_MAX_CPUS; c++)
		iommu_iova_free_cpu_cached(iovad, c);
	iommu_iova_free_global_cached(iovad);
}

static void stress(const char *cmdline, bool lazy)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct iommu_iova_domain *iovad[2];
	struct iommu_iova_stats before[2], after;
	struct iommu_dma_stats st;
	uint64_t maps = 0;

	assert_non_null(sh);
	pthread_mutex_init(&sh->msg_lock, NULL);
	fx_start(&sh->f, "intel-server", cmdline);
	for (int i = 0; i < 2; i++) {
		sh->marks[i] = calloc(WATCH_PAGES, 1);
		assert_non_null(sh->marks[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .sh = sh, .id = i, .dev = fx_dev(&sh->f, bdf[i]),
					.dom = i == 4, .rng = 0x9e3779b97f4a7c15u * (uint64_t)(i + 1) };
		assert_int_equal(iommu_dma_device_path(w[i].dev),
				 lazy ? IOMMU_DMA_PATH_IOMMU_LAZY : IOMMU_DMA_PATH_IOMMU_STRICT);
	}
	/* The shared domain is the same for group 2's three devices. */
	assert_ptr_equal(iommu_dma_device_domain(w[0].dev), iommu_dma_device_domain(w[1].dev));
	assert_ptr_not_equal(iommu_dma_device_domain(w[0].dev), iommu_dma_device_domain(w[4].dev));
	iovad[0] = iommu_dma_device_iovad(w[0].dev);
	iovad[1] = iommu_dma_device_iovad(w[4].dev);
	for (int i = 0; i < 2; i++)
		iommu_iova_get_stats(iovad[i], &before[i]);

	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	/* Time passes while they work: flush-queue timers fire concurrently
	 * with queueing and reclaiming on the workers' CPUs. */
	while (atomic_load(&sh->done) < NTHREADS) {
		iommu_dma_advance(sh->f.dma, 1000000);
		iommu_dma_get_stats(sh->f.dma, &st);
		sched_yield();
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		maps += w[i].maps;
	}
	if (atomic_load(&sh->failures))
		fail_msg("%d failure(s), the first: %s", atomic_load(&sh->failures),
			 sh->first_failure);
	assert_true(maps > NTHREADS * ITERS / 2);

	iommu_dma_flush_queues(sh->f.dma);
	iommu_dma_get_stats(sh->f.dma, &st);
	assert_int_equal(st.maps, maps);
	assert_int_equal(st.unmaps, maps);
	assert_int_equal(st.live_mappings, 0);
	assert_int_equal(st.bad_unmaps, 0);
	assert_int_equal(st.map_errors, 0);
	assert_int_equal(st.fq_pending, 0);
	if (lazy) {
		assert_true(st.fq_queued > 0);
		assert_int_equal(st.fq_queued, st.fq_reclaimed);
		assert_int_equal(st.inv_sync, 0);
	} else {
		assert_int_equal(st.inv_sync, maps);
		assert_int_equal(st.fq_queued, 0);
	}
	assert_int_equal(iommu_dma_report_leaks(sh->f.dma), 0);
	for (int i = 0; i < 2; i++) {
		drain_caches(iovad[i]);
		iommu_iova_get_stats(iovad[i], &after);
		assert_int_equal(after.cached_ranges, 0);
		assert_int_equal(after.live_ranges, before[i].live_ranges - before[i].cached_ranges);
		for (uint64_t p = 0; p < WATCH_PAGES; p++)
			assert_int_equal(sh->marks[i][p], 0);
	}
	for (int i = 0; i < 2; i++)
		free((void *)sh->marks[i]);
	fx_stop(&sh->f);
	pthread_mutex_destroy(&sh->msg_lock);
	free(sh);
}

static void test_stress_lazy(void **state)
{
	(void)state;
	stress(NULL, true);
}

static void test_stress_strict(void **state)
{
	(void)state;
	stress(STRICT, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_lazy),
		cmocka_unit_test(test_stress_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
