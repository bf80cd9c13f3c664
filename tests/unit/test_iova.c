// SPDX-License-Identifier: MIT
/*
 * The IOVA allocator (src/dma/iova.c) against the kernel's rules
 * (reference section 7, drivers/iommu/iova.c v6.6+).
 *
 * The main proof is test_differential: a deliberately simple reference of
 * the kernel's algorithm, written here from the reference notes (7.2,
 * 7.3): a sorted array of ranges walked one by one downwards from the
 * cached node exactly as __alloc_and_insert_iova_range walks its rbtree,
 * __cached_rbnode_delete_update, the reserve_iova loop, and per-CPU
 * loaded/prev magazines over a depot.  Long random sequences of
 * alloc_iova, free_iova, alloc_iova_fast, free_iova_fast, reserve_iova,
 * find_iova, cache flushes and depot reclaims run on both, and every
 * result must be equal step by step; every 500 steps and at the end the
 * whole state (ranges, cached nodes, max32_alloc_size, every magazine,
 * every depot) must be equal too.
 *
 * The other tests pin single behaviours with hand-derived expectations,
 * each traced to the reference section it comes from.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iommu/dma.h"
#include "dma/iova_internal.h"

#define NORD IOMMU_IOVA_RANGE_CACHE_MAX_SIZE
#define NCPU IOMMU_IOVA_MAX_CPUS
#define MAGSZ IOMMU_IOVA_MAG_SIZE
#define DMA32_4K UINT64_C(0x100000)

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static struct iommu_iova_domain *mk(uint64_t granule, uint64_t start_pfn)
{
	struct iommu_iova_domain *d = NULL;

	assert_int_equal(iommu_iova_domain_create(granule, start_pfn, &d), 0);
	assert_non_null(d);
	return d;
}

static void check_tree(struct iommu_iova_domain *d)
{
	char msg[256] = "";

	if (iova_debug_check(d, msg, sizeof(msg)))
		fail_msg("tree invariant broken: %s", msg);
}

static struct iova_debug_state dstate(struct iommu_iova_domain *d)
{
	struct iova_debug_state st;

	iova_debug_state(d, &st);
	return st;
}

static struct iommu_iova_stats stats(struct iommu_iova_domain *d)
{
	struct iommu_iova_stats st;

	iommu_iova_get_stats(d, &st);
	return st;
}

static uint64_t tree_alloc(struct iommu_iova_domain *d, uint64_t size, uint64_t limit)
{
	uint64_t pfn = 0;

	assert_int_equal(iommu_iova_alloc(d, size, limit, true, &pfn), 0);
	return pfn;
}

static void expect_range(struct iommu_iova_domain *d, uint64_t pfn, uint64_t lo, uint64_t hi)
{
	uint64_t l = 0, h = 0;

	assert_int_equal(iommu_iova_find(d, pfn, &l, &h), 0);
	assert_int_equal(l, lo);
	assert_int_equal(h, hi);
}

/* ================================================================== */
/* The reference: the kernel's algorithm, literally, on a sorted array  */

struct rnode {
	uint64_t lo, hi;
};

struct rmag {
	unsigned size;
	uint64_t pfns[MAGSZ];
};

struct ref {
	struct rnode **v;               /* sorted by lo; the anchor last */
	size_t n, cap;
	struct rnode *anchor, *cached, *cached32;
	uint64_t start_pfn, dma32, max32;
	unsigned shift;
	struct rmag *loaded[NCPU][NORD], *prev[NCPU][NORD];
	struct rmag **depot[NORD];      /* depot[o][depot_n[o] - 1] is the head */
	size_t depot_n[NORD], depot_cap[NORD];
	unsigned long walk_steps;       /* nodes the literal walk visited */
	unsigned long depot_pushes, depot_pops, flushes;
	unsigned long c32_above;        /* frees of a cached32_node above 4 GiB */
	size_t depot_max;               /* most magazines in one depot */
};

static size_t ref_pos(const struct ref *r, uint64_t lo)
{
	size_t a = 0, b = r->n;

	while (a < b) {
		size_t m = (a + b) / 2;

		if (r->v[m]->lo < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static size_t ref_index(const struct ref *r, const struct rnode *x)
{
	size_t i = ref_pos(r, x->lo);

	assert_true(i < r->n && r->v[i] == x);
	return i;
}

static struct rnode *ref_find(const struct ref *r, uint64_t pfn)
{
	size_t a = 0, b = r->n;

	/* the last node with lo <= pfn */
	while (a < b) {
		size_t m = (a + b) / 2;

		if (r->v[m]->lo <= pfn)
			a = m + 1;
		else
			b = m;
	}
	if (a == 0 || r->v[a - 1]->hi < pfn)
		return NULL;
	return r->v[a - 1];
}

static void ref_insert(struct ref *r, struct rnode *x)
{
	size_t i = ref_pos(r, x->lo);

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(*r->v));
	r->v[i] = x;
	r->n++;
}

static struct rnode *ref_next(const struct ref *r, const struct rnode *x)
{
	size_t i = ref_index(r, x);

	return i + 1 < r->n ? r->v[i + 1] : NULL;
}

static struct rmag *rmag_new(void)
{
	struct rmag *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	return m;
}

static void ref_init(struct ref *r, uint64_t granule, uint64_t start_pfn)
{
	memset(r, 0, sizeof(*r));
	r->shift = (unsigned)__builtin_ctzll(granule);
	r->start_pfn = start_pfn;
	r->dma32 = UINT64_C(1) << (32 - r->shift);
	r->max32 = r->dma32;
	r->anchor = calloc(1, sizeof(*r->anchor));
	assert_non_null(r->anchor);
	r->anchor->lo = r->anchor->hi = UINT64_MAX;
	ref_insert(r, r->anchor);
	r->cached = r->cached32 = r->anchor;
	for (unsigned c = 0; c < NCPU; c++)
		for (unsigned o = 0; o < NORD; o++) {
			r->loaded[c][o] = rmag_new();
			r->prev[c][o] = rmag_new();
		}
}

static void ref_fini(struct ref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	for (unsigned o = 0; o < NORD; o++) {
		for (unsigned c = 0; c < NCPU; c++) {
			free(r->loaded[c][o]);
			free(r->prev[c][o]);
		}
		for (size_t i = 0; i < r->depot_n[o]; i++)
			free(r->depot[o][i]);
		free(r->depot[o]);
	}
}

/* remove_iova: __cached_rbnode_delete_update, then rb_erase. */
static void ref_remove(struct ref *r, struct rnode *x)
{
	struct rnode *c32 = r->cached32;
	size_t i;

	if (x == c32 && x->hi >= r->dma32)
		r->c32_above++;
	if (x == c32 || (x->hi < r->dma32 && x->lo >= c32->lo))
		r->cached32 = ref_next(r, x);
	if (x->lo < r->dma32)
		r->max32 = r->dma32;
	if (x->lo >= r->cached->lo)
		r->cached = ref_next(r, x);
	i = ref_index(r, x);
	memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
	r->n--;
	free(x);
}

/*
 * iova_find_limit(): the anchor above 4 GiB, else a node at or above the
 * limit.  The kernel's tree descent returns either the node straddling
 * the limit or the lowest node above it depending on the tree's shape;
 * the walk that follows gives the same answer from either (every node it
 * passes above the limit only moves it down), so the lowest node whose
 * pfn_hi reaches the limit stands for both.
 */
static ptrdiff_t ref_find_limit(const struct ref *r, uint64_t limit_pfn)
{
	if (limit_pfn > r->dma32)
		return (ptrdiff_t)r->n - 1;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i]->hi >= limit_pfn)
			return (ptrdiff_t)i;
	return (ptrdiff_t)r->n - 1;
}

/* __alloc_and_insert_iova_range, @limit_pfn already exclusive. */
static int ref_alloc_range(struct ref *r, uint64_t size, uint64_t limit_pfn, bool size_aligned,
			   uint64_t *out)
{
	uint64_t align_mask = ~UINT64_C(0), new_pfn, retry_pfn;
	uint64_t high_pfn = limit_pfn, low_pfn = r->start_pfn;
	ptrdiff_t curr;
	struct rnode *x;
	bool retried = false;

	if (size_aligned)       /* ~0UL << fls_long(size - 1) */
		align_mask <<= size > 1 ? 64 - __builtin_clzll(size - 1) : 0;
	if (limit_pfn <= r->dma32 && size >= r->max32)
		return -ENOMEM;
	curr = (ptrdiff_t)ref_index(r, limit_pfn <= r->dma32 ? r->cached32 : r->cached);
	retry_pfn = r->v[curr]->hi;
retry:
	do {
		if (r->v[curr]->lo < high_pfn)
			high_pfn = r->v[curr]->lo;
		new_pfn = (high_pfn - size) & align_mask;
		curr--;         /* rb_prev */
		r->walk_steps++;
	} while (curr >= 0 && new_pfn <= r->v[curr]->hi && new_pfn >= low_pfn);

	if (high_pfn < size || new_pfn < low_pfn) {
		if (low_pfn == r->start_pfn && retry_pfn < limit_pfn) {
			/* The kernel would go round again if the cached
			 * node ended just below start_pfn; it cannot. */
			assert_false(retried);
			retried = true;
			high_pfn = limit_pfn;
			low_pfn = retry_pfn + 1;
			curr = ref_find_limit(r, limit_pfn);
			goto retry;
		}
		r->max32 = size;
		return -ENOMEM;
	}
	x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->lo = new_pfn;
	x->hi = new_pfn + size - 1;
	ref_insert(r, x);
	if (x->hi < r->dma32)
		r->cached32 = x;
	else
		r->cached = x;
	*out = new_pfn;
	return 0;
}

static int ref_alloc(struct ref *r, uint64_t size, uint64_t limit, bool aligned, uint64_t *out)
{
	if (!size || limit == UINT64_MAX || (aligned && size > (UINT64_C(1) << 63)))
		return -EINVAL;
	return ref_alloc_range(r, size, limit + 1, aligned, out);
}

static int ref_free(struct ref *r, uint64_t pfn)
{
	struct rnode *x = ref_find(r, pfn);

	if (!x || x == r->anchor)
		return -ENOENT;
	ref_remove(r, x);
	return 0;
}

/* reserve_iova: every node from the first, in order. */
static int ref_reserve(struct ref *r, uint64_t lo, uint64_t hi)
{
	bool overlap = false;
	struct rnode *x;

	if (lo > hi || ((lo | hi) > (UINT64_MAX >> r->shift)) || hi == UINT64_MAX)
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		x = r->v[i];
		if (lo <= x->hi && hi >= x->lo) {
			if (lo < x->lo)
				x->lo = lo;
			if (hi > x->hi)
				lo = x->hi + 1;
			if (lo >= x->lo && hi <= x->hi)
				return 0;
			overlap = true;
		} else if (overlap) {
			break;
		}
	}
	x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->lo = lo;
	x->hi = hi;
	ref_insert(r, x);
	return 0;
}

static unsigned ref_order(uint64_t n)
{
	return n > 1 ? 64u - (unsigned)__builtin_clzll(n - 1) : 0u;
}

static uint64_t ref_mag_pop(struct rmag *m, uint64_t limit_pfn)
{
	int i;
	uint64_t pfn;

	for (i = (int)m->size - 1; m->pfns[i] > limit_pfn; i--)
		if (i == 0)
			return 0;
	pfn = m->pfns[i];
	m->pfns[i] = m->pfns[--m->size];
	return pfn;
}

static void ref_mag_free_pfns(struct ref *r, struct rmag *m)
{
	for (unsigned i = 0; i < m->size; i++) {
		struct rnode *x = ref_find(r, m->pfns[i]);

		if (x && x != r->anchor)
			ref_remove(r, x);
	}
	m->size = 0;
}

static struct rmag *ref_depot_pop(struct ref *r, unsigned o)
{
	return r->depot[o][--r->depot_n[o]];
}

static void ref_depot_push(struct ref *r, unsigned o, struct rmag *m)
{
	if (r->depot_n[o] == r->depot_cap[o]) {
		r->depot_cap[o] = r->depot_cap[o] ? 2 * r->depot_cap[o] : 8;
		r->depot[o] = realloc(r->depot[o], r->depot_cap[o] * sizeof(*r->depot[o]));
		assert_non_null(r->depot[o]);
	}
	r->depot[o][r->depot_n[o]++] = m;
	r->depot_pushes++;
	if (r->depot_n[o] > r->depot_max)
		r->depot_max = r->depot_n[o];
}

static bool ref_rcache_insert(struct ref *r, unsigned cpu, unsigned o, uint64_t pfn)
{
	struct rmag *t;

	if (r->loaded[cpu][o]->size == MAGSZ) {
		if (r->prev[cpu][o]->size < MAGSZ) {
			t = r->prev[cpu][o];
			r->prev[cpu][o] = r->loaded[cpu][o];
			r->loaded[cpu][o] = t;
		} else {
			ref_depot_push(r, o, r->loaded[cpu][o]);
			r->loaded[cpu][o] = rmag_new();
		}
	}
	r->loaded[cpu][o]->pfns[r->loaded[cpu][o]->size++] = pfn;
	return true;
}

static uint64_t ref_rcache_get(struct ref *r, unsigned cpu, unsigned o, uint64_t limit_pfn)
{
	struct rmag *t;

	if (!r->loaded[cpu][o]->size) {
		if (r->prev[cpu][o]->size) {
			t = r->prev[cpu][o];
			r->prev[cpu][o] = r->loaded[cpu][o];
			r->loaded[cpu][o] = t;
		} else if (r->depot_n[o]) {
			free(r->loaded[cpu][o]);
			r->loaded[cpu][o] = ref_depot_pop(r, o);
			r->depot_pops++;
		} else {
			return 0;
		}
	}
	return ref_mag_pop(r->loaded[cpu][o], limit_pfn);
}

static void ref_free_cpu(struct ref *r, unsigned cpu)
{
	for (unsigned o = 0; o < NORD; o++) {
		ref_mag_free_pfns(r, r->loaded[cpu][o]);
		ref_mag_free_pfns(r, r->prev[cpu][o]);
	}
}

static void ref_free_global(struct ref *r)
{
	for (unsigned o = 0; o < NORD; o++)
		while (r->depot_n[o]) {
			struct rmag *m = ref_depot_pop(r, o);

			ref_mag_free_pfns(r, m);
			free(m);
		}
}

static void ref_reclaim(struct ref *r, unsigned online)
{
	for (unsigned o = 0; o < NORD; o++)
		while (r->depot_n[o] > online) {
			struct rmag *m = ref_depot_pop(r, o);

			ref_mag_free_pfns(r, m);
			free(m);
		}
}

static uint64_t ref_alloc_fast(struct ref *r, unsigned cpu, uint64_t size, uint64_t limit,
			       bool flush)
{
	uint64_t pfn;
	unsigned o;

	if (cpu >= NCPU || !size || limit == UINT64_MAX || size > (UINT64_C(1) << 63))
		return 0;
	if (size < 32)
		size = UINT64_C(1) << ref_order(size);
	o = ref_order(size);
	/* iova_rcache_get(size, limit + 1) -> pop(limit + 1 - size); the
	 * kernel's wrap when limit + 1 < size is not reproduced (iova.c). */
	if (o < NORD && limit + 1 >= size) {
		pfn = ref_rcache_get(r, cpu, o, limit + 1 - size);
		if (pfn)
			return pfn;
	}
	for (;;) {
		if (!ref_alloc_range(r, size, limit + 1, true, &pfn))
			return pfn;
		if (!flush)
			return 0;
		flush = false;
		r->flushes++;
		for (unsigned c = 0; c < NCPU; c++)
			ref_free_cpu(r, c);
		ref_free_global(r);
	}
}

static void ref_free_fast(struct ref *r, unsigned cpu, uint64_t pfn, uint64_t size)
{
	unsigned o = ref_order(size);

	if (pfn == UINT64_MAX)
		return;
	if (cpu < NCPU && o < NORD && ref_rcache_insert(r, cpu, o, pfn))
		return;
	ref_free(r, pfn);
}

/* ================================================================== */
/* The differential test                                                */

struct live {
	uint64_t pfn, size;
	bool fast;
};

struct diff_cfg {
	const char *name;
	uint64_t granule, start_pfn;
	uint64_t top64;         /* the 64-bit limit used */
	uint64_t resv_lo, resv_hi;      /* a window reserved at start (0, 0: none) */
	uint64_t max_size;
	unsigned target_live;
	uint64_t seed;
	bool split;
	unsigned flush_one_in;  /* alloc_iova_fast with flush_rcache */
};

struct diff {
	const struct diff_cfg *cfg;
	struct iommu_iova_domain *d;
	struct ref r;
	struct live *live;
	size_t nlive, cap;
	unsigned long step;
	unsigned long counts[16];
};

enum { OP_ALLOC, OP_ALLOC_FAST, OP_FREE, OP_FREE_FAST, OP_RESERVE, OP_FREE_UNKNOWN, OP_FIND,
       OP_FLUSH_CPU, OP_FLUSH_GLOBAL, OP_RECLAIM, OP_NR };

static const char *const op_names[OP_NR] = {
	"alloc_iova", "alloc_iova_fast", "free_iova", "free_iova_fast", "reserve_iova",
	"free_iova(unknown)", "find_iova", "free_cpu_cached_iovas", "free_global_cached_iovas",
	"depot reclaim",
};

static void diff_fail(struct diff *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_fail(struct diff *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail_msg("%s, step %lu: %s", t->cfg->name, t->step, buf);
}

static uint64_t diff_limit(struct diff *t)
{
	uint64_t dma32 = t->r.dma32, s = t->cfg->start_pfn, k = rnd_below(100);

	if (k < 40)
		return dma32 - 1;
	if (k < 62)
		return t->cfg->top64;
	if (k < 86)
		return s + rnd_below(dma32 - s);
	if (k < 92)
		return s + rnd_below(96) - 16 * (s >= 16);      /* tight, or below start_pfn */
	return dma32 + rnd_below(t->cfg->top64 - dma32 + 1);
}

static uint64_t diff_size(struct diff *t)
{
	uint64_t k = rnd_below(100), m = t->cfg->max_size;

	if (k < 55)
		return 1 + rnd_below(4);
	if (k < 85)
		return 5 + rnd_below(28);
	if (k < 96)
		return 33 + rnd_below(96);
	return 1 + rnd_below(m);
}

static void live_add(struct diff *t, uint64_t pfn, uint64_t size, bool fast)
{
	if (t->nlive == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->live = realloc(t->live, t->cap * sizeof(*t->live));
		assert_non_null(t->live);
	}
	t->live[t->nlive++] = (struct live){ pfn, size, fast };
}

static struct live live_take(struct diff *t, size_t i)
{
	struct live l = t->live[i];

	t->live[i] = t->live[--t->nlive];
	return l;
}

static void diff_compare_state(struct diff *t)
{
	struct iova_debug_state st = dstate(t->d);
	size_t n = t->r.n - 1, got;
	uint64_t *lo = malloc((n + 1) * sizeof(*lo)), *hi = malloc((n + 1) * sizeof(*hi));
	uint64_t pf[MAGSZ];
	char msg[256] = "";

	assert_non_null(lo);
	assert_non_null(hi);
	if (iova_debug_check(t->d, msg, sizeof(msg)))
		diff_fail(t, "tree invariant: %s", msg);
	got = iova_debug_ranges(t->d, lo, hi, n + 1);
	if (got != n)
		diff_fail(t, "%zu ranges, the kernel's walk has %zu", got, n);
	for (size_t i = 0; i < n; i++)
		if (lo[i] != t->r.v[i]->lo || hi[i] != t->r.v[i]->hi)
			diff_fail(t, "range %zu is [%#llx, %#llx], expected [%#llx, %#llx]", i,
				  (unsigned long long)lo[i], (unsigned long long)hi[i],
				  (unsigned long long)t->r.v[i]->lo,
				  (unsigned long long)t->r.v[i]->hi);
	free(lo);
	free(hi);
	if (st.cached_lo != t->r.cached->lo || st.cached_hi != t->r.cached->hi ||
	    st.cached32_lo != t->r.cached32->lo || st.cached32_hi != t->r.cached32->hi)
		diff_fail(t, "cached_node [%#llx, %#llx] cached32_node [%#llx, %#llx], expected "
			  "[%#llx, %#llx] and [%#llx, %#llx]",
			  (unsigned long long)st.cached_lo, (unsigned long long)st.cached_hi,
			  (unsigned long long)st.cached32_lo, (unsigned long long)st.cached32_hi,
			  (unsigned long long)t->r.cached->lo, (unsigned long long)t->r.cached->hi,
			  (unsigned long long)t->r.cached32->lo, (unsigned long long)t->r.cached32->hi);
	if (st.max32_alloc_size != t->r.max32)
		diff_fail(t, "max32_alloc_size %#llx, expected %#llx",
			  (unsigned long long)st.max32_alloc_size, (unsigned long long)t->r.max32);
	for (unsigned o = 0; o < NORD; o++) {
		unsigned dn;

		for (unsigned c = 0; c < 4; c++)
			for (int p = 0; p < 2; p++) {
				struct rmag *m = p ? t->r.prev[c][o] : t->r.loaded[c][o];
				unsigned k = iova_debug_magazine(t->d, c, o, p, pf);

				if (k != m->size || memcmp(pf, m->pfns, k * sizeof(*pf)))
					diff_fail(t, "cpu %u order %u %s magazine differs (%u pfns, "
						  "expected %u)", c, o, p ? "prev" : "loaded", k,
						  m->size);
			}
		dn = iova_debug_depot(t->d, o, 0, NULL);
		if (dn != t->r.depot_n[o])
			diff_fail(t, "order %u depot holds %u magazines, expected %zu", o, dn,
				  t->r.depot_n[o]);
		for (unsigned i = 0; i < dn; i++) {
			struct rmag *m = t->r.depot[o][dn - 1 - i];

			iova_debug_depot(t->d, o, i, pf);
			if (memcmp(pf, m->pfns, MAGSZ * sizeof(*pf)))
				diff_fail(t, "order %u depot magazine %u differs", o, i);
		}
	}
}

static void diff_step(struct diff *t)
{
	uint64_t k = rnd_below(10000), a = 0, b = 0, pfn, size, limit;
	/* Split domains alternate phases of mostly allocations and mostly
	 * frees, so that depots fill up and drain; the others stay around
	 * target_live. */
	bool grow = t->cfg->split ? (t->step / 3000) % 2 == 0 && t->nlive < 2 * t->cfg->target_live
				  : t->nlive < t->cfg->target_live;
	unsigned cpu, op;
	int ra, rb;

	/* Allocations and frees balance around target_live. */
	if (k < (grow ? 2200u : t->cfg->split ? 800u : 1800u))
		op = OP_ALLOC;
	else if (k < (grow ? 6200u : t->cfg->split ? 2500u : 5000u))
		op = OP_ALLOC_FAST;
	else if (k < 9650)
		op = OP_FREE;   /* becomes OP_FREE_FAST for most fast ranges */
	else if (k < 9730)
		op = OP_RESERVE;
	else if (k < 9830)
		op = OP_FREE_UNKNOWN;
	else if (k < 9990)
		op = OP_FIND;
	else if (k < 9995)
		op = OP_FLUSH_CPU;
	else if (k < 9997)
		op = OP_FLUSH_GLOBAL;
	else
		op = OP_RECLAIM;
	if (op == OP_FREE && !t->nlive)
		op = OP_ALLOC_FAST;
	/* A range from alloc_iova_fast mostly goes back by free_iova_fast
	 * (as dma-iommu's unmap does), sometimes by free_iova. */
	if (op == OP_FREE) {
		size_t i = rnd_below(t->nlive);
		struct live l = t->live[i];

		/* the chosen range goes last, where the free takes it */
		t->live[i] = t->live[t->nlive - 1];
		t->live[t->nlive - 1] = l;
		if (l.fast && rnd_below(10))
			op = OP_FREE_FAST;
	}
	/* Split: mostly allocations on CPU 0 and frees on CPU 1 (a NIC's
	 * refill and completion), so the depot carries magazines between
	 * them; else mostly one CPU, so the magazines serve it directly. */
	if (t->cfg->split)
		cpu = rnd_below(4) ? (op == OP_ALLOC_FAST ? 0u : 1u) : (unsigned)rnd_below(4);
	else
		cpu = rnd_below(8) ? 2u : (unsigned)rnd_below(4);
	t->counts[op]++;

	switch (op) {
	case OP_ALLOC: {
		bool aligned = rnd_below(4) != 0;

		size = diff_size(t);
		limit = diff_limit(t);
		ra = iommu_iova_alloc(t->d, size, limit, aligned, &a);
		rb = ref_alloc(&t->r, size, limit, aligned, &b);
		if (ra != rb || (!ra && a != b))
			diff_fail(t, "alloc_iova(size %#llx, limit %#llx, aligned %d): %d/%#llx, "
				  "kernel %d/%#llx", (unsigned long long)size,
				  (unsigned long long)limit, aligned, ra, (unsigned long long)a, rb,
				  (unsigned long long)b);
		if (!ra)
			live_add(t, a, size, false);
		break;
	}
	case OP_ALLOC_FAST: {
		bool flush = rnd_below(t->cfg->flush_one_in) == 0;

		/* split domains: mostly single pages, so magazines fill */
		size = t->cfg->split && rnd_below(3) ? 1 : diff_size(t);
		limit = diff_limit(t);
		a = iommu_iova_alloc_fast(t->d, cpu, size, limit, flush);
		b = ref_alloc_fast(&t->r, cpu, size, limit, flush);
		if (a != b)
			diff_fail(t, "alloc_iova_fast(cpu %u, size %#llx, limit %#llx, flush %d): "
				  "%#llx, kernel %#llx", cpu, (unsigned long long)size,
				  (unsigned long long)limit, flush, (unsigned long long)a,
				  (unsigned long long)b);
		if (a)
			live_add(t, a, size, true);
		break;
	}
	case OP_FREE: {
		struct live l = live_take(t, t->nlive - 1);

		pfn = l.pfn + rnd_below(l.size);        /* any pfn of the range */
		ra = iommu_iova_free(t->d, pfn);
		rb = ref_free(&t->r, pfn);
		if (ra != rb)
			diff_fail(t, "free_iova(%#llx): %d, kernel %d", (unsigned long long)pfn, ra,
				  rb);
		break;
	}
	case OP_FREE_FAST: {
		struct live l = live_take(t, t->nlive - 1);

		/* The size asked for, or the rounded one: same order. */
		size = l.size < 32 && rnd_below(2) ? UINT64_C(1) << ref_order(l.size) : l.size;
		iommu_iova_free_fast(t->d, cpu, l.pfn, size);
		ref_free_fast(&t->r, cpu, l.pfn, size);
		break;
	}
	case OP_RESERVE: {
		uint64_t lo, hi;

		if (t->nlive && rnd_below(2)) {
			/* around a live range: grows it, and maybe its neighbours */
			pfn = t->live[rnd_below(t->nlive)].pfn;
			lo = pfn - rnd_below(pfn < 8 ? pfn + 1 : 8);
			hi = pfn + rnd_below(8);
		} else {
			lo = rnd_below(t->cfg->top64);
			hi = lo + rnd_below(48);
		}
		ra = iommu_iova_reserve(t->d, lo, hi);
		rb = ref_reserve(&t->r, lo, hi);
		if (ra != rb)
			diff_fail(t, "reserve_iova(%#llx, %#llx): %d, kernel %d",
				  (unsigned long long)lo, (unsigned long long)hi, ra, rb);
		break;
	}
	case OP_FREE_UNKNOWN:
		pfn = rnd_below(t->cfg->top64 + 2);
		if (ref_find(&t->r, pfn)) {
			t->counts[op]--;
			break;
		}
		ra = iommu_iova_free(t->d, pfn);
		if (ra != -ENOENT)
			diff_fail(t, "free_iova(%#llx) of no range: %d", (unsigned long long)pfn, ra);
		break;
	case OP_FIND: {
		struct rnode *x;

		pfn = t->nlive && rnd_below(2) ? t->live[rnd_below(t->nlive)].pfn :
						 rnd_below(t->cfg->top64 + 2);
		x = ref_find(&t->r, pfn);
		if (x == t->r.anchor)
			x = NULL;
		ra = iommu_iova_find(t->d, pfn, &a, &b);
		if (ra != (x ? 0 : -ENOENT) || (x && (a != x->lo || b != x->hi)))
			diff_fail(t, "find_iova(%#llx): %d", (unsigned long long)pfn, ra);
		break;
	}
	case OP_FLUSH_CPU:
		iommu_iova_free_cpu_cached(t->d, cpu);
		ref_free_cpu(&t->r, cpu);
		break;
	case OP_FLUSH_GLOBAL:
		iommu_iova_free_global_cached(t->d);
		ref_free_global(&t->r);
		break;
	case OP_RECLAIM:
		iommu_iova_depot_reclaim(t->d, cpu + 1);
		ref_reclaim(&t->r, cpu + 1);
		break;
	}
}

static unsigned long diff_steps_per_cfg(void)
{
	const char *e = getenv("IOVA_DIFF_STEPS");

	return e ? strtoul(e, NULL, 0) : 200000ul;
}

static void run_diff(const struct diff_cfg *cfg, unsigned long steps, unsigned long *total)
{
	struct diff t = { .cfg = cfg };
	struct iommu_iova_stats st;

	rng_state = cfg->seed;
	t.d = mk(cfg->granule, cfg->start_pfn);
	ref_init(&t.r, cfg->granule, cfg->start_pfn);
	if (cfg->resv_hi) {
		assert_int_equal(iommu_iova_reserve(t.d, cfg->resv_lo, cfg->resv_hi), 0);
		assert_int_equal(ref_reserve(&t.r, cfg->resv_lo, cfg->resv_hi), 0);
	}
	for (t.step = 0; t.step < steps; t.step++) {
		diff_step(&t);
		if (t.step % 500 == 499)
			diff_compare_state(&t);
	}
	diff_compare_state(&t);
	iommu_iova_get_stats(t.d, &st);
	if (st.live_ranges != t.r.n - 1)
		diff_fail(&t, "live_ranges %llu, expected %zu", (unsigned long long)st.live_ranges,
			  t.r.n - 1);
	printf("# %s: %lu steps compared (", cfg->name, steps);
	for (unsigned o = 0; o < OP_NR; o++)
		printf("%s%s %lu", o ? ", " : "", op_names[o], t.counts[o]);
	printf("); the kernel's walk visited %lu nodes; at the end %zu ranges, %llu cached; "
	       "%llu alloc_iova_fast served by magazines, %llu by the tree; %lu depot pushes, "
	       "%lu pops (at most %zu magazines in a depot), %lu flush_rcache flushes, %lu frees "
	       "of a cached32_node above 4 GiB\n", t.r.walk_steps,
	       t.r.n - 1, (unsigned long long)st.cached_ranges,
	       (unsigned long long)st.rcache_hits, (unsigned long long)st.rcache_misses,
	       t.r.depot_pushes, t.r.depot_pops, t.r.depot_max, t.r.flushes, t.r.c32_above);
	for (unsigned o = 0; o < OP_NR; o++)
		*total += t.counts[o];
	iommu_iova_domain_destroy(t.d);
	ref_fini(&t.r);
	free(t.live);
}

/* Reference 7.1-7.4: every behaviour at once, against the kernel's walk. */
static void test_differential(void **state)
{
	static const struct diff_cfg cfgs[] = {
		/* x86: 4 KiB granule, base_pfn 1, the MSI window reserved
		 * (7.4), 39-bit 64-bit limit; sizes up to 1 MiB. */
		{ "4k-msi", 4096, 1, (UINT64_C(1) << 27) - 1, 0xfee00, 0xfeeff, 256, 3000,
		  0x1234567887654321ull, true, 256 },
		{ "4k-msi-1cpu", 4096, 1, (UINT64_C(1) << 27) - 1, 0xfee00, 0xfeeff, 256, 3000,
		  0x0123456789abcdefull, false, 16 },
		/* 64 KiB granule: only 65536 pfns below 4 GiB, so the 32-bit
		 * space fills up: failures, max32_alloc_size, retry passes. */
		{ "64k-full", 65536, 1, 0x2ffff, 0, 0, 64, 2500, 0x0ddc0ffee0ddf00dull, true, 16 },
		/* Only 4096 pfns below 4 GiB, a 64-bit limit just above it:
		 * both cached nodes and the flushes under pressure. */
		{ "4k-tight", 4096, 0xff000, 0x101fff, 0xff800, 0xff8ff, 40, 900,
		  0x5eed5eed5eed5eedull, false, 16 },
		/* Aperture starting higher, small space, many small sizes. */
		{ "4k-aperture", 4096, 0xfe000, 0x100fff, 0, 0, 16, 1500, 0xa5a5a5a5deadbeefull, true, 128 },
	};
	unsigned long steps = diff_steps_per_cfg(), total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		run_diff(&cfgs[i], steps, &total);
	printf("# differential: %lu operations compared step by step over %zu domains\n", total,
	       sizeof(cfgs) / sizeof(cfgs[0]));
}

/* ================================================================== */
/* Targeted behaviours                                                  */

/* 7.4 and 10.6 I1/I2/I7: a fresh domain's first addresses. */
static void test_first_addresses(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 1);

	(void)state;
	assert_int_equal(iommu_iova_shift(d), 12);
	/* I1: the first 4 KiB mapping lands at 0xfffff000. */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), 0xfffff);
	/* I2: 12 KiB is rounded to 4 pages, 4-page aligned: 0xffff8000,
	 * leaving 0xffffc000-0xffffefff unused (7.3 step 1, 7.2 step 1). */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 3, 0xfffff, true), 0xffff8);
	expect_range(d, 0xffff9, 0xffff8, 0xffffb);
	/* The next search runs below the cached node (7.2 step 3-4): the
	 * hole at 0xffffc-0xffffe stays unused. */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), 0xffff7);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xffff6);
	assert_int_equal(iommu_iova_find(d, 0xffffc, NULL, NULL), -ENOENT);
	/* I7: a 64-bit limit (39-bit domain) starts at the top, and the
	 * 32-bit cached node is not disturbed by it (7.2 step 7). */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, (UINT64_C(1) << 27) - 1, true), 0x7ffffff);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), 0xffff5);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, (UINT64_C(1) << 27) - 1, true), 0x7fffffe);
	check_tree(d);
	iommu_iova_domain_destroy(d);

	/* 7.3 step 1 and 10.6 I5: 64 pages are not cached, aligned to 64,
	 * and go straight back to the tree. */
	d = mk(4096, 1);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 64, 0xfffff, true), 0xfffc0);
	expect_range(d, 0xfffc0, 0xfffc0, 0xfffff);
	iommu_iova_free_fast(d, 0, 0xfffc0, 64);
	assert_int_equal(stats(d).live_ranges, 0);
	assert_int_equal(stats(d).cached_ranges, 0);
	/* 33 pages are not rounded (only sizes below 32 are) but aligned to
	 * 64; 20 pages are rounded to 32. */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 33, 0xfffff, true), 0xfffc0);
	expect_range(d, 0xfffc0, 0xfffc0, 0xfffe0);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 20, 0xfffff, true), 0xfffa0);
	expect_range(d, 0xfffa0, 0xfffa0, 0xfffbf);
	/* alloc_iova without size_aligned: no alignment at all. */
	uint64_t p;

	assert_int_equal(iommu_iova_alloc(d, 3, 0xfffff, false, &p), 0);
	assert_int_equal(p, 0xfff9d);
	iommu_iova_domain_destroy(d);
}

/* 7.2 steps 3-5: the kernel does not always return the highest fit. */
static void test_cached32_and_retry(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 1);
	struct iova_debug_state st;

	(void)state;
	/* A low limit moves cached32_node down; a later full 32-bit
	 * request searches below it first and ignores the free space at
	 * the top of the 32-bit range. */
	assert_int_equal(tree_alloc(d, 1, 0x7ffff), 0x7ffff);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0x7fffe);
	st = dstate(d);
	assert_int_equal(st.cached32_lo, 0x7fffe);
	assert_int_equal(st.cached_lo, UINT64_MAX);     /* the anchor */
	/* A free at or above cached32_node moves it to the successor. */
	assert_int_equal(iommu_iova_free(d, 0x7fffe), 0);
	assert_int_equal(dstate(d).cached32_lo, 0x7ffff);
	assert_int_equal(iommu_iova_free(d, 0x7ffff), 0);
	assert_int_equal(dstate(d).cached32_lo, UINT64_MAX);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xfffff);
	iommu_iova_domain_destroy(d);

	/* The retry pass: 256 pfns below 4 GiB (start_pfn 0xfff00). */
	d = mk(4096, 0xfff00);
	assert_int_equal(tree_alloc(d, 1, 0xfff0f), 0xfff0f);
	for (uint64_t want = 0xfff0e; want + 1 > 0xfff00; want--)
		assert_int_equal(tree_alloc(d, 1, 0xfffff), want);
	/* Nothing below cached32_node (0xfff00) any more: the retry covers
	 * [cached pfn_hi + 1, limit] and finds the top. */
	assert_int_equal(dstate(d).cached32_lo, 0xfff00);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xfffff);
	assert_int_equal(dstate(d).cached32_lo, 0xfffff);
	/* and from there downwards again, below the new cached node */
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xffffe);
	/* A 64-bit request uses cached_node (still the anchor). */
	assert_int_equal(tree_alloc(d, 2, 0x1fffff), 0x1ffffe);
	assert_int_equal(dstate(d).cached_lo, 0x1ffffe);
	assert_int_equal(dstate(d).cached32_lo, 0xffffe);
	check_tree(d);
	iommu_iova_domain_destroy(d);
}

/* 7.2 steps 2 and 6, and the free rule that resets max32_alloc_size. */
static void test_max32(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 0xffff0);        /* 16 pfns below 4 GiB */
	uint64_t p;

	(void)state;
	assert_int_equal(dstate(d).max32_alloc_size, DMA32_4K);
	for (uint64_t i = 0; i < 16; i++)
		assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xfffff - i);
	assert_int_equal(iommu_iova_alloc(d, 1, 0xfffff, true, &p), -ENOMEM);
	assert_int_equal(dstate(d).max32_alloc_size, 1);
	/* Fast fail: nothing is searched and nothing changes. */
	assert_int_equal(iommu_iova_alloc(d, 4, 0xfffff, true, &p), -ENOMEM);
	assert_int_equal(dstate(d).max32_alloc_size, 1);
	/* Above 4 GiB still works; freeing there does not reset the size. */
	assert_int_equal(tree_alloc(d, 1, 0x1fffff), 0x1fffff);
	assert_int_equal(iommu_iova_free(d, 0x1fffff), 0);
	assert_int_equal(dstate(d).max32_alloc_size, 1);
	/* A free below 4 GiB re-enables 32-bit attempts. */
	assert_int_equal(iommu_iova_free(d, 0xffff5), 0);
	assert_int_equal(dstate(d).max32_alloc_size, DMA32_4K);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xffff5);
	/* A failure of size 2 blocks sizes >= 2 only: size 1 is searched. */
	assert_int_equal(iommu_iova_free(d, 0xffff9), 0);
	assert_int_equal(iommu_iova_alloc(d, 2, 0xfffff, true, &p), -ENOMEM);
	assert_int_equal(dstate(d).max32_alloc_size, 2);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), 0xffff9);
	iommu_iova_domain_destroy(d);

	/* The kernel stores the failed size even for a 64-bit request. */
	d = mk(4096, 1);
	assert_int_equal(iommu_iova_alloc(d, UINT64_C(1) << 40, (UINT64_C(1) << 36) - 1, true, &p),
			 -ENOMEM);
	assert_int_equal(dstate(d).max32_alloc_size, UINT64_C(1) << 40);
	/* A limit below start_pfn: nothing fits (and the size is stored). */
	iommu_iova_domain_destroy(d);
	d = mk(4096, 0x100);
	assert_int_equal(iommu_iova_alloc(d, 1, 0x50, true, &p), -ENOMEM);
	assert_int_equal(dstate(d).max32_alloc_size, 1);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0x50, true), 0);
	iommu_iova_domain_destroy(d);
}

/* 7.2 reserve_iova, 7.4 (reserved windows are skipped). */
static void test_reserve(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 1);
	uint64_t x;

	(void)state;
	assert_int_equal(iommu_iova_reserve(d, 0xfee00, 0xfeeff), 0);
	for (uint64_t i = 0; i < 0x1100; i++)   /* down to the window's top */
		assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), 0xfffff - i);
	/* The next one skips the window. */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), 0xfedff);
	iommu_iova_domain_destroy(d);

	/* 2 MiB mappings: 512-page aligned slots, the window's slot skipped. */
	d = mk(4096, 1);
	assert_int_equal(iommu_iova_reserve(d, 0xfee00, 0xfeeff), 0);
	for (uint64_t s = 0xffe00; s >= 0xff000; s -= 0x200)
		assert_int_equal(iommu_iova_alloc_fast(d, 0, 512, 0xfffff, true), s);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 512, 0xfffff, true), 0xfec00);

	/* Overlapping reservations: the part above the existing range becomes
	 * a range of its own next to it. */
	assert_int_equal(stats(d).live_ranges, 10);
	assert_int_equal(iommu_iova_reserve(d, 0xfed80, 0xfedff), 0);   /* inside the slot */
	assert_int_equal(stats(d).live_ranges, 10);
	iommu_iova_domain_destroy(d);

	d = mk(4096, 1);
	assert_int_equal(iommu_iova_reserve(d, 0xfee00, 0xfeeff), 0);
	assert_int_equal(iommu_iova_reserve(d, 0xfee80, 0xfef7f), 0);
	expect_range(d, 0xfee80, 0xfee00, 0xfeeff);
	expect_range(d, 0xfef10, 0xfef00, 0xfef7f);
	assert_int_equal(stats(d).live_ranges, 2);
	/* Wholly inside: nothing changes. */
	assert_int_equal(iommu_iova_reserve(d, 0xfee10, 0xfee20), 0);
	assert_int_equal(stats(d).live_ranges, 2);
	/* Below and into a range: the range grows down. */
	assert_int_equal(iommu_iova_reserve(d, 0xfed00, 0xfee10), 0);
	expect_range(d, 0xfed00, 0xfed00, 0xfeeff);
	assert_int_equal(stats(d).live_ranges, 2);
	/* Across both and beyond: the second grows down to the first, the
	 * rest above becomes a third. */
	assert_int_equal(iommu_iova_reserve(d, 0xfec00, 0xff0ff), 0);
	expect_range(d, 0xfec00, 0xfec00, 0xfeeff);
	expect_range(d, 0xfef7f, 0xfef00, 0xfef7f);
	expect_range(d, 0xfef80, 0xfef80, 0xff0ff);
	assert_int_equal(stats(d).live_ranges, 3);
	/* An allocated range is grown too (__adjust_overlap_range does not
	 * tell them apart), and freeing it frees the grown range. */
	x = tree_alloc(d, 1, 0xfffff);
	assert_int_equal(x, 0xfffff);
	assert_int_equal(iommu_iova_reserve(d, x - 2, x), 0);
	expect_range(d, x - 2, x - 2, x);
	assert_int_equal(iommu_iova_free(d, x - 1), 0);
	assert_int_equal(iommu_iova_find(d, x, NULL, NULL), -ENOENT);
	/* Bad reservations. */
	assert_int_equal(iommu_iova_reserve(d, 5, 4), -EINVAL);
	assert_int_equal(iommu_iova_reserve(d, 0, (UINT64_MAX >> 12) + 1), -EINVAL);
	assert_int_equal(iommu_iova_reserve(NULL, 0, 1), -EINVAL);
	/* A free of a reserved range is allowed, as the kernel's. */
	assert_int_equal(iommu_iova_free(d, 0xfef80), 0);
	assert_int_equal(stats(d).live_ranges, 2);
	check_tree(d);
	iommu_iova_domain_destroy(d);
}

/* 7.3: LIFO reuse per CPU, and the limit filter of iova_magazine_pop. */
static void test_magazine_lifo(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 1);
	uint64_t p0, p1, p2, low, pf[MAGSZ];

	(void)state;
	p0 = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	p1 = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	p2 = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	assert_int_equal(p0, 0xfffff);
	assert_int_equal(p1, 0xffffe);
	assert_int_equal(p2, 0xffffd);
	/* The address just freed is the next returned for the same size
	 * class on the same CPU. */
	iommu_iova_free_fast(d, 0, p0, 1);
	iommu_iova_free_fast(d, 0, p1, 1);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), p1);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), p0);
	/* Another CPU does not see it; another order does not either. */
	iommu_iova_free_fast(d, 0, p2, 1);
	assert_int_equal(iommu_iova_alloc_fast(d, 1, 1, 0xfffff, true), 0xffffc);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 2, 0xfffff, true), 0xffffa);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), p2);
	/* Sizes of one order share a class: 3 pages freed, 4 asked. */
	uint64_t q = iommu_iova_alloc_fast(d, 2, 3, 0xfffff, true);

	iommu_iova_free_fast(d, 2, q, 3);
	assert_int_equal(iommu_iova_alloc_fast(d, 2, 4, 0xfffff, true), q);

	/* Limit filter: push low, p0, p1 (p1 on top); a request limited to
	 * 0x7ffff scans down to low, swaps the top (p1) into its slot and
	 * shrinks: the magazine is then [p1, p0]. */
	low = iommu_iova_alloc_fast(d, 3, 1, 0x7ffff, true);
	assert_int_equal(low, 0x7ffff);
	iommu_iova_free_fast(d, 3, low, 1);
	iommu_iova_free_fast(d, 3, p0, 1);
	iommu_iova_free_fast(d, 3, p1, 1);
	assert_int_equal(iova_debug_magazine(d, 3, 0, false, pf), 3);
	assert_int_equal(iommu_iova_alloc_fast(d, 3, 1, 0x7ffff, true), low);
	assert_int_equal(iova_debug_magazine(d, 3, 0, false, pf), 2);
	assert_int_equal(pf[0], p1);
	assert_int_equal(pf[1], p0);
	/* No cached pfn qualifies: a miss, served by the tree; the
	 * magazine is left as it was. */
	assert_int_equal(iommu_iova_alloc_fast(d, 3, 1, 0x7ffff, true), 0x7fffe);
	assert_int_equal(iova_debug_magazine(d, 3, 0, false, pf), 2);
	/* Then LIFO again: p0 (top), then p1. */
	assert_int_equal(iommu_iova_alloc_fast(d, 3, 1, 0xfffff, true), p0);
	assert_int_equal(iommu_iova_alloc_fast(d, 3, 1, 0xfffff, true), p1);
	/* The limit applies to the range's end (pop takes pfns <= limit + 1
	 * - size): a cached 2-page range at r2 needs a limit of r2 + 1. */
	uint64_t r2 = iommu_iova_alloc_fast(d, 4, 2, 0xfffff, true);

	iommu_iova_free_fast(d, 4, r2, 2);
	assert_int_not_equal(iommu_iova_alloc_fast(d, 4, 2, r2 + 0, true), r2);
	assert_int_equal(iommu_iova_alloc_fast(d, 4, 2, r2 + 1, true), r2);
	check_tree(d);
	iommu_iova_domain_destroy(d);
}

/* 7.3: the prev/loaded swap and the depot, in both directions. */
static void test_magazine_swap_and_depot(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 1);
	uint64_t x[635], pf[MAGSZ];
	unsigned i;

	(void)state;
	for (i = 0; i < 300; i++)
		x[i] = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	assert_int_equal(stats(d).rcache_misses, 300);
	for (i = 0; i < 300; i++)
		iommu_iova_free_fast(d, 0, x[i], 1);
	/* 127 fill loaded; the 128th swaps in the empty prev; at the 255th
	 * both are full and the loaded one goes to the depot. */
	assert_int_equal(stats(d).depot_magazines, 1);
	assert_int_equal(stats(d).cached_ranges, 300);
	assert_int_equal(stats(d).live_ranges, 300);
	assert_int_equal(iova_debug_magazine(d, 0, 0, true, pf), 127);
	assert_int_equal(pf[0], x[0]);
	assert_int_equal(pf[126], x[126]);
	assert_int_equal(iova_debug_depot(d, 0, 0, pf), 1);
	assert_int_equal(pf[0], x[127]);
	assert_int_equal(pf[126], x[253]);
	assert_int_equal(iova_debug_magazine(d, 0, 0, false, pf), 46);
	assert_int_equal(pf[0], x[254]);
	/* Allocation order: loaded top-down, then the swapped prev, then the
	 * depot magazine. */
	for (i = 0; i < 46; i++)
		assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), x[299 - i]);
	for (i = 0; i < 127; i++)
		assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), x[126 - i]);
	assert_int_equal(stats(d).depot_magazines, 1);
	for (i = 0; i < 127; i++)
		assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true), x[253 - i]);
	assert_int_equal(stats(d).depot_magazines, 0);
	assert_int_equal(stats(d).rcache_hits, 300);
	iommu_iova_domain_destroy(d);

	/* A depot magazine pushed by CPU 0 serves CPU 1. */
	d = mk(4096, 1);
	for (i = 0; i < 255; i++)
		x[i] = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	for (i = 0; i < 255; i++)
		iommu_iova_free_fast(d, 0, x[i], 1);
	assert_int_equal(stats(d).depot_magazines, 1);
	assert_int_equal(iommu_iova_alloc_fast(d, 1, 1, 0xfffff, true), x[253]);
	assert_int_equal(stats(d).depot_magazines, 0);
	iommu_iova_domain_destroy(d);

	/* The reclaim work trims the depot to the CPU count, most recently
	 * pushed magazines first. */
	d = mk(4096, 1);
	for (i = 0; i < 635; i++)
		x[i] = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	for (i = 0; i < 635; i++)
		iommu_iova_free_fast(d, 0, x[i], 1);
	/* pushes at the 255th, 382nd and 509th free */
	assert_int_equal(stats(d).depot_magazines, 3);
	assert_int_equal(stats(d).live_ranges, 635);
	iommu_iova_depot_reclaim(d, 4);
	assert_int_equal(stats(d).depot_magazines, 3);
	iommu_iova_depot_reclaim(d, 1);
	assert_int_equal(stats(d).depot_magazines, 1);
	assert_int_equal(stats(d).live_ranges, 635 - 254);
	assert_int_equal(stats(d).cached_ranges, 635 - 254);
	assert_int_equal(iommu_iova_find(d, x[400], NULL, NULL), -ENOENT);
	assert_int_equal(iommu_iova_find(d, x[300], NULL, NULL), -ENOENT);
	assert_int_equal(iommu_iova_find(d, x[200], NULL, NULL), 0);
	assert_int_equal(iommu_iova_find(d, x[600], NULL, NULL), 0);
	/* free_global_cached_iovas empties the depot, free_cpu_cached_iovas
	 * the CPU's magazines. */
	iommu_iova_free_global_cached(d);
	assert_int_equal(stats(d).live_ranges, 635 - 381);
	iommu_iova_free_cpu_cached(d, 0);
	assert_int_equal(stats(d).live_ranges, 0);
	assert_int_equal(stats(d).cached_ranges, 0);
	check_tree(d);
	iommu_iova_domain_destroy(d);
}

/* 7.3 step 4: flush_rcache empties every cache and retries once. */
static void test_flush_rcache_retry(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 0xffff0);        /* 16 pfns below 4 GiB */
	uint64_t x[16];

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		x[i] = iommu_iova_alloc_fast(d, 0, 1, 0xfffff, true);
	for (unsigned i = 0; i < 16; i++)
		iommu_iova_free_fast(d, 1, x[i], 1);
	assert_int_equal(stats(d).cached_ranges, 16);
	/* CPU 0's caches are empty and the tree is full (cached ranges stay
	 * in the tree): without the flush the allocation fails. */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xfffff, false), 0);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 2, 0xfffff, false), 0);
	assert_int_equal(stats(d).live_ranges, 16);
	/* With it, CPU 1's pfns go back to the tree and the retry fits. */
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 2, 0xfffff, true), 0xffffe);
	assert_int_equal(stats(d).live_ranges, 1);
	assert_int_equal(stats(d).cached_ranges, 0);
	/* A flush that finds nothing to free still fails cleanly. */
	for (unsigned i = 0; i < 7; i++)
		assert_int_not_equal(iommu_iova_alloc_fast(d, 0, 2, 0xfffff, true), 0);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 2, 0xfffff, true), 0);
	check_tree(d);
	iommu_iova_domain_destroy(d);
}

/* Bad input: the kernel's result where it has one, a clear error where
 * the kernel would BUG or corrupt, never a crash. */
static void test_bad_input(void **state)
{
	struct iommu_iova_domain *d = NULL;
	struct iommu_iova_stats st;
	uint64_t p = 0;

	(void)state;
	/* init_iova_domain: BUG_ON(granule > PAGE_SIZE || !is_power_of_2). */
	assert_int_equal(iommu_iova_domain_create(0, 1, &d), -EINVAL);
	assert_int_equal(iommu_iova_domain_create(3, 1, &d), -EINVAL);
	assert_int_equal(iommu_iova_domain_create(4097, 1, &d), -EINVAL);
	assert_int_equal(iommu_iova_domain_create(UINT64_C(1) << 17, 1, &d), -EINVAL);
	assert_null(d);
	assert_int_equal(iommu_iova_domain_create(4096, (UINT64_MAX >> 12) + 1, &d), -EINVAL);
	assert_int_equal(iommu_iova_domain_create(4096, 1, NULL), -EINVAL);
	d = mk(4096, 1);
	/* size 0, a wrapping limit, NULL out */
	assert_int_equal(iommu_iova_alloc(d, 0, 0xfffff, true, &p), -EINVAL);
	assert_int_equal(iommu_iova_alloc(d, 1, UINT64_MAX, true, &p), -EINVAL);
	assert_int_equal(iommu_iova_alloc(d, 1, 0xfffff, true, NULL), -EINVAL);
	assert_int_equal(iommu_iova_alloc(d, (UINT64_C(1) << 63) + 1, 0xfffff, true, &p), -EINVAL);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 0, 0xfffff, true), 0);
	assert_int_equal(iommu_iova_alloc_fast(d, IOMMU_IOVA_MAX_CPUS, 1, 0xfffff, true), 0);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, UINT64_MAX, true), 0);
	/* A limit below the size: the kernel's rcache check would wrap and
	 * hand out any cached pfn; here the tree refuses. */
	iommu_iova_free_fast(d, 0, iommu_iova_alloc_fast(d, 0, 4, 0xfffff, true), 4);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 4, 2, false), 0);
	assert_int_equal(stats(d).cached_ranges, 1);
	/* Frees of nothing: -ENOENT, no change. */
	assert_int_equal(iommu_iova_free(d, 0x1234), -ENOENT);
	assert_int_equal(iommu_iova_free(d, UINT64_MAX), -ENOENT);      /* the anchor */
	assert_int_equal(iommu_iova_find(d, UINT64_MAX, NULL, NULL), -ENOENT);
	p = tree_alloc(d, 1, 0xfffff);
	assert_int_equal(iommu_iova_free(d, p), 0);
	assert_int_equal(iommu_iova_free(d, p), -ENOENT);               /* double free */
	/* A CPU out of range frees to the tree. */
	p = tree_alloc(d, 1, 0xfffff);
	iommu_iova_free_fast(d, IOMMU_IOVA_MAX_CPUS, p, 1);
	assert_int_equal(iommu_iova_find(d, p, NULL, NULL), -ENOENT);
	/* A free_fast of the anchor's pfn is dropped. */
	iommu_iova_free_fast(d, 0, UINT64_MAX, 1);
	assert_int_equal(stats(d).cached_ranges, 1);
	/* Flushing a cached pfn whose range free_iova() already took back
	 * (a caller's double free) skips it, as the kernel's WARN_ON. */
	p = iommu_iova_alloc_fast(d, 5, 1, 0xfffff, true);
	iommu_iova_free_fast(d, 5, p, 1);
	assert_int_equal(iommu_iova_free(d, p), 0);
	iommu_iova_free_cpu_cached(d, 5);
	assert_int_equal(stats(d).cached_ranges, 1);
	/* NULL domain */
	assert_int_equal(iommu_iova_alloc(NULL, 1, 0xfffff, true, &p), -EINVAL);
	assert_int_equal(iommu_iova_free(NULL, 1), -EINVAL);
	assert_int_equal(iommu_iova_find(NULL, 1, NULL, NULL), -EINVAL);
	assert_int_equal(iommu_iova_alloc_fast(NULL, 0, 1, 0xfffff, true), 0);
	iommu_iova_free_fast(NULL, 0, 1, 1);
	iommu_iova_free_cpu_cached(NULL, 0);
	iommu_iova_free_cpu_cached(d, IOMMU_IOVA_MAX_CPUS);
	iommu_iova_free_global_cached(NULL);
	iommu_iova_depot_reclaim(NULL, 1);
	iommu_iova_get_stats(NULL, &st);
	assert_int_equal(st.live_ranges, 0);
	iommu_iova_get_stats(d, NULL);
	iommu_iova_domain_destroy(NULL);
	check_tree(d);
	iommu_iova_domain_destroy(d);
	/* A 64 KiB granule puts 4 GiB at pfn 0x10000. */
	d = mk(65536, 1);
	assert_int_equal(iommu_iova_shift(d), 16);
	assert_int_equal(dstate(d).dma_32bit_pfn, 0x10000);
	assert_int_equal(iommu_iova_alloc_fast(d, 0, 1, 0xffff, true), 0xffff);
	iommu_iova_domain_destroy(d);
}

/* A tree of many ranges with deep fragmentation keeps its invariants and
 * answers (the search's pruning paths, rotations on insert and erase). */
static void test_tree_large(void **state)
{
	struct iommu_iova_domain *d = mk(4096, 1);
	enum { N = 20000 };
	uint64_t *x = malloc(N * sizeof(*x));

	(void)state;
	assert_non_null(x);
	rng_state = 0x243f6a8885a308d3ull;
	for (unsigned i = 0; i < N; i++)
		x[i] = tree_alloc(d, 1, 0xfffff);
	assert_int_equal(x[N - 1], 0xfffff - (N - 1));
	/* Free every other range: 10000 one-page holes. */
	for (unsigned i = 0; i < N; i += 2)
		assert_int_equal(iommu_iova_free(d, x[i]), 0);
	check_tree(d);
	/* A 2-page aligned request cannot use any hole: it goes below the
	 * lowest range (7.2: highest aligned fit below the cached node). */
	uint64_t p = tree_alloc(d, 2, 0xfffff);

	assert_int_equal(p, (x[N - 1] - 2) & ~UINT64_C(1));
	/* A 1-page request searches below the new cached node (the 2-page
	 * range) and leaves the 10000 holes above it alone. */
	assert_int_equal(tree_alloc(d, 1, 0xfffff), p - 1);
	/* Freeing the 2-page range moves cached32_node up to its successor
	 * (the lowest of the 20000): the next page is the top of the freed
	 * range. */
	assert_int_equal(iommu_iova_free(d, p), 0);
	assert_int_equal(dstate(d).cached32_lo, x[N - 1]);
	assert_int_equal(tree_alloc(d, 1, 0xfffff), p + 1);
	check_tree(d);
	free(x);
	iommu_iova_domain_destroy(d);
}

/* ================================================================== */
/* Threads (7.3: the _fast calls from many CPUs)                        */

#define THR_N 4
#define BITMAP_PFNS (UINT64_C(1) << 21)

struct thr_shared {
	struct iommu_iova_domain *d;
	_Atomic uint64_t bits[BITMAP_PFNS / 64];
	atomic_ulong doubles, failures, outside, bad_cpu;
	pthread_mutex_t xlock;          /* the cross-thread hand-over pool */
	struct live xfer[256];
	unsigned nxfer;
	unsigned long ops;
};

struct thr_arg {
	struct thr_shared *s;
	unsigned id;
};

static uint64_t rounded(uint64_t size)
{
	return size < 32 ? UINT64_C(1) << ref_order(size) : size;
}

static void mark(struct thr_shared *s, uint64_t pfn, uint64_t size, bool set)
{
	if (pfn + size > BITMAP_PFNS) {
		atomic_fetch_add(&s->outside, 1);
		return;
	}
	for (uint64_t p = pfn; p < pfn + size; p++) {
		uint64_t bit = UINT64_C(1) << (p % 64), old;

		if (set) {
			old = atomic_fetch_or(&s->bits[p / 64], bit);
			if (old & bit)
				atomic_fetch_add(&s->doubles, 1);
		} else {
			old = atomic_fetch_and(&s->bits[p / 64], ~bit);
			if (!(old & bit))
				atomic_fetch_add(&s->doubles, 1);
		}
	}
}

static uint64_t thr_rnd(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x;
}

static void *thr_main(void *p)
{
	struct thr_arg *a = p;
	struct thr_shared *s = a->s;
	unsigned cpu = iommu_iova_this_cpu();
	uint64_t st = 0x9e3779b97f4a7c15ull * (a->id + 1);
	struct live own[64];
	unsigned n = 0;

	/* cmocka's asserts are not for threads: count, check in main. */
	if (cpu >= IOMMU_IOVA_MAX_CPUS || cpu != iommu_iova_this_cpu())
		atomic_fetch_add(&s->bad_cpu, 1);               /* stable per thread */
	for (unsigned long i = 0; i < s->ops; i++) {
		uint64_t k = thr_rnd(&st) % 100;

		if (a->id == 0 && k < 2) {
			/* flushes and reclaims race with everything */
			if (k == 0)
				iommu_iova_free_cpu_cached(s->d, (unsigned)(thr_rnd(&st) % 8));
			else if (thr_rnd(&st) % 2)
				iommu_iova_free_global_cached(s->d);
			else
				iommu_iova_depot_reclaim(s->d, 1);
		} else if (k < 50 && n < 64) {
			uint64_t size = 1 + thr_rnd(&st) % (thr_rnd(&st) % 8 ? 8 : 40);
			uint64_t limit = thr_rnd(&st) % 4 ? 0xfffff : 0x1fffff, pfn;
			bool tree = thr_rnd(&st) % 16 == 0;

			if (tree) {
				if (iommu_iova_alloc(s->d, size, limit, true, &pfn))
					pfn = 0;
			} else {
				pfn = iommu_iova_alloc_fast(s->d, cpu, size, limit, true);
			}
			if (!pfn) {
				atomic_fetch_add(&s->failures, 1);
				continue;
			}
			if (pfn + (tree ? size : rounded(size)) - 1 > limit)
				atomic_fetch_add(&s->outside, 1);
			mark(s, pfn, tree ? size : rounded(size), true);
			own[n++] = (struct live){ pfn, size, !tree };
		} else if (n) {
			unsigned j = (unsigned)(thr_rnd(&st) % n);
			struct live l = own[j];

			own[j] = own[--n];
			if (l.fast && k > 90) {
				/* hand it to another thread, which frees it on its CPU */
				pthread_mutex_lock(&s->xlock);
				if (s->nxfer < 256) {
					s->xfer[s->nxfer++] = l;
					l.size = 0;
				}
				pthread_mutex_unlock(&s->xlock);
				if (!l.size)
					continue;
			}
			mark(s, l.pfn, l.fast ? rounded(l.size) : l.size, false);
			if (l.fast)
				iommu_iova_free_fast(s->d, cpu, l.pfn, l.size);
			else if (iommu_iova_free(s->d, l.pfn))
				atomic_fetch_add(&s->doubles, 1);
		}
		if (k == 77) {
			struct live l = { 0, 0, false };

			pthread_mutex_lock(&s->xlock);
			if (s->nxfer)
				l = s->xfer[--s->nxfer];
			pthread_mutex_unlock(&s->xlock);
			if (l.size) {
				mark(s, l.pfn, rounded(l.size), false);
				iommu_iova_free_fast(s->d, cpu, l.pfn, l.size);
			}
		}
	}
	for (unsigned j = 0; j < n; j++) {
		mark(s, own[j].pfn, own[j].fast ? rounded(own[j].size) : own[j].size, false);
		if (own[j].fast)
			iommu_iova_free_fast(s->d, cpu, own[j].pfn, own[j].size);
		else
			iommu_iova_free(s->d, own[j].pfn);
	}
	return NULL;
}

/* No address handed out twice, no range lost, whatever the interleaving. */
static void test_threads(void **state)
{
	struct thr_shared *s = calloc(1, sizeof(*s));
	pthread_t th[THR_N];
	struct thr_arg args[THR_N];
	struct iommu_iova_stats st;
	const char *e = getenv("IOVA_THREAD_OPS");

	(void)state;
	assert_non_null(s);
	s->d = mk(4096, 1);
	s->ops = e ? strtoul(e, NULL, 0) : 200000ul;
	pthread_mutex_init(&s->xlock, NULL);
	/* a window in the middle of the space, as 7.4's MSI range */
	assert_int_equal(iommu_iova_reserve(s->d, 0xfee00, 0xfeeff), 0);
	for (unsigned i = 0; i < THR_N; i++) {
		args[i] = (struct thr_arg){ s, i };
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
	}
	for (unsigned i = 0; i < THR_N; i++)
		pthread_join(th[i], NULL);
	while (s->nxfer) {
		struct live l = s->xfer[--s->nxfer];

		mark(s, l.pfn, rounded(l.size), false);
		iommu_iova_free_fast(s->d, 0, l.pfn, l.size);
	}
	assert_int_equal(atomic_load(&s->doubles), 0);
	assert_int_equal(atomic_load(&s->outside), 0);
	assert_int_equal(atomic_load(&s->bad_cpu), 0);
	for (size_t i = 0; i < BITMAP_PFNS / 64; i++)
		if (atomic_load(&s->bits[i]))
			fail_msg("pfns %#zx.. still marked", i * 64);
	/* Everything freed: after the flushes only the reservation is left. */
	for (unsigned c = 0; c < IOMMU_IOVA_MAX_CPUS; c++)
		iommu_iova_free_cpu_cached(s->d, c);
	iommu_iova_free_global_cached(s->d);
	iommu_iova_get_stats(s->d, &st);
	assert_int_equal(st.cached_ranges, 0);
	assert_int_equal(st.depot_magazines, 0);
	assert_int_equal(st.live_ranges, 1);
	printf("# threads: %u x %lu operations, %llu rcache hits, %llu misses, %lu failed "
	       "allocations\n", THR_N, s->ops, (unsigned long long)st.rcache_hits,
	       (unsigned long long)st.rcache_misses, (unsigned long)atomic_load(&s->failures));
	check_tree(s->d);
	iommu_iova_domain_destroy(s->d);
	pthread_mutex_destroy(&s->xlock);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_addresses),
		cmocka_unit_test(test_cached32_and_retry),
		cmocka_unit_test(test_max32),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_magazine_lifo),
		cmocka_unit_test(test_magazine_swap_and_depot),
		cmocka_unit_test(test_flush_rcache_retry),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_tree_large),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
