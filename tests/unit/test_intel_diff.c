// SPDX-License-Identifier: MIT
/*
 * Randomized differential test of the Intel driver over the VT-d model:
 * long random sequences of map/unmap with mixed page sizes through the
 * driver, against a plain reference list of mapped extents, translating
 * addresses through the unit after every step.
 *
 *  - strict invalidation: every answer equals the reference;
 *  - no invalidation (FLUSH_NEVER) and deferred invalidation between
 *    flushes: an answer differs from the reference exactly where the
 *    IOTLB still holds a translation the unmap did not invalidate.  The
 *    test predicts that with a shadow of what the unit cached: every walk
 *    that found a leaf fills the IOTLB with that leaf (page base, size,
 *    host base, permissions), lookups probe 4 KiB, then 2 MiB, then
 *    1 GiB entries, and nothing is evicted (the IOTLB is made large
 *    enough, and the test checks the unit's eviction counter).
 *
 * Fixed seeds; the whole run stays well under 20 s with ASan.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iommu/core.h"
#include "iommu/hw.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define G1 UINT64_C(0x40000000)
#define WINDOW (UINT64_C(16) << 30)     /* IOVAs used */
#define PWINDOW (UINT64_C(1) << 38)     /* host addresses used */
#define SID 0x0008
#define STEPS 2000
#define PROBES 8

static const uint64_t seeds[5] = { 1, 0x5eed, 0xdecafbad, 20240607, 0x123456789abcdefull };

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* --- the reference: mapped extents -------------------------------------- */

struct ext {
	uint64_t iova, size, paddr;
	bool w;
};

struct ref {
	struct ext *v;
	size_t n, cap;
};

static const struct ext *ref_find(const struct ref *r, uint64_t a)
{
	for (size_t i = 0; i < r->n; i++)
		if (a >= r->v[i].iova && a - r->v[i].iova < r->v[i].size)
			return &r->v[i];
	return NULL;
}

static bool ref_overlaps(const struct ref *r, uint64_t iova, uint64_t size)
{
	for (size_t i = 0; i < r->n; i++)
		if (iova < r->v[i].iova + r->v[i].size && r->v[i].iova < iova + size)
			return true;
	return false;
}

static void ref_add(struct ref *r, struct ext e)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	r->v[r->n++] = e;
}

static void ref_del(struct ref *r, size_t i)
{
	r->v[i] = r->v[--r->n];
}

/* --- the shadow of the IOTLB: (page base | level) -> leaf ---------------- */

struct shent {
	uint64_t key;      /* 0: empty */
	uint64_t hbase;
	bool r, w;
};

#define SH_BITS 17
#define SH_SIZE (1u << SH_BITS)

struct shadow {
	struct shent *t;
	size_t n;
};

static size_t sh_slot(const struct shadow *s, uint64_t key)
{
	size_t i = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - SH_BITS));

	while (s->t[i].key && s->t[i].key != key)
		i = (i + 1) & (SH_SIZE - 1);
	return i;
}

static uint64_t sh_key(uint64_t addr, uint64_t size)
{
	unsigned level = size == K4 ? 1 : size == M2 ? 2 : 3;

	return (addr & ~(size - 1)) | level;
}

static void sh_clear(struct shadow *s)
{
	memset(s->t, 0, SH_SIZE * sizeof(*s->t));
	s->n = 0;
}

/* What the IOTLB answers for @addr, probing as the unit does. */
static const struct shent *sh_lookup(const struct shadow *s, uint64_t addr, uint64_t *size)
{
	static const uint64_t sizes[3] = { K4, M2, G1 };

	for (int i = 0; i < 3; i++) {
		size_t k = sh_slot(s, sh_key(addr, sizes[i]));

		if (s->t[k].key) {
			*size = sizes[i];
			return &s->t[k];
		}
	}
	return NULL;
}

static void sh_insert(struct shadow *s, uint64_t addr, uint64_t size, uint64_t hbase, bool w)
{
	size_t k = sh_slot(s, sh_key(addr, size));

	assert_true(s->n < SH_SIZE / 2);
	assert_int_equal(s->t[k].key, 0);
	s->t[k].key = sh_key(addr, size);
	s->t[k].hbase = hbase;
	s->t[k].r = true;
	s->t[k].w = w;
	s->n++;
}

/* --- one run -------------------------------------------------------------- */

struct run_cfg {
	enum iommu_intel_flush_mode mode;
	bool force_reg;
	uint64_t cap, ecap;            /* 0: defaults */
	unsigned flush_every;          /* deferred: flush every N steps */
};

struct run_stats {
	uint64_t probes, stale, stale_differs, maps, unmaps, busy;
};

struct ctx {
	struct iommu_mem *mem;
	struct iommu_vtd_unit *u;
	struct iommu_intel *drv;
	struct iommu_intel_domain *d;
	struct ref ref;
	struct ext recent[32];
	unsigned nrecent;
	struct shadow sh;
	const struct run_cfg *cfg;
	struct run_stats st;
	uint64_t seed, step;
};

static void fail_at(const struct ctx *c, const char *what, uint64_t addr)
{
	print_error("seed %llu step %llu: %s at iova 0x%llx\n", (unsigned long long)c->seed,
		    (unsigned long long)c->step, what,
		    (unsigned long long)addr);
	fail();
}

static void probe(struct ctx *c, uint64_t addr, bool write)
{
	const struct ext *e = ref_find(&c->ref, addr);
	struct iommu_vtd_request rq = { .source_id = SID, .addr = addr, .size = 4, .write = write };
	struct iommu_vtd_result res;
	bool exp_mapped, exp_w, stale = false;
	uint64_t exp_host = 0, size = 0;
	const struct shent *s = NULL;
	int ret;

	c->st.probes++;
	if (c->cfg->mode != IOMMU_INTEL_FLUSH_STRICT)
		s = sh_lookup(&c->sh, addr, &size);
	if (s) {
		/* The IOTLB answers from what it cached. */
		stale = true;
		exp_mapped = true;
		exp_w = s->w;
		exp_host = s->hbase + (addr & (size - 1));
		c->st.stale++;
		if (!e || e->paddr + (addr - e->iova) != exp_host || e->w != exp_w)
			c->st.stale_differs++;
	} else {
		exp_mapped = e != NULL;
		exp_w = e && e->w;
		if (e)
			exp_host = e->paddr + (addr - e->iova);
	}
	memset(&res, 0, sizeof(res));
	ret = iommu_vtd_translate(c->u, &rq, &res);
	if (exp_mapped && (!write || exp_w)) {
		if (ret != 0)
			fail_at(c, stale ? "expected a stale IOTLB answer, got a fault"
					 : "mapped address faulted", addr);
		if (res.host_addr != exp_host)
			fail_at(c, stale ? "stale answer is not the cached translation"
					 : "translation differs from the reference", addr);
		if (c->cfg->mode != IOMMU_INTEL_FLUSH_STRICT && res.iotlb_hit != stale)
			fail_at(c, stale ? "predicted an IOTLB hit, the unit walked"
					 : "unit answered from the IOTLB where nothing stale was predicted", addr);
	} else {
		if (ret != -EFAULT)
			fail_at(c, exp_mapped ? "write to a read-only page did not fault"
					      : "unmapped address translated", addr);
		if (res.fault_reason != (write ? 0x05 : 0x06))
			fail_at(c, "wrong fault reason", addr);
	}
	/* A walk that found a leaf filled the IOTLB with it. */
	if (!s && e && c->cfg->mode != IOMMU_INTEL_FLUSH_STRICT) {
		uint64_t phys, pgsz;

		assert_int_equal(iommu_intel_iova_to_phys(c->d, addr, &phys, &pgsz), 0);
		assert_int_equal(phys, exp_host);
		sh_insert(&c->sh, addr, pgsz, phys & ~(pgsz - 1), e->w);
	}
}

static uint64_t aligned_rand(uint64_t limit, uint64_t align)
{
	return (rnd() % (limit / align)) * align;
}

static void do_map(struct ctx *c)
{
	unsigned cls = (unsigned)(rnd() % 10);
	uint64_t size, ia, pa, iova, paddr;
	bool w = rnd() % 4 != 0;
	int ret;

	if (cls < 6) {
		size = (1 + rnd() % 600) * K4;
		ia = rnd() % 3 ? K4 : M2;
		pa = ia == M2 && rnd() % 2 ? M2 : K4;
	} else if (cls < 9) {
		size = (1 + rnd() % 4) * M2 + (rnd() % 2 ? (rnd() % 3) * K4 : 0);
		ia = pa = M2;
	} else {
		size = G1 + (rnd() % 2 ? M2 : 0);
		ia = pa = G1;
	}
	iova = aligned_rand(WINDOW - size, ia);
	paddr = aligned_rand(PWINDOW - size, pa);
	ret = iommu_intel_map(c->d, iova, paddr, size, IOMMU_PROT_READ | (w ? IOMMU_PROT_WRITE : 0));
	if (ref_overlaps(&c->ref, iova, size)) {
		if (ret != -EBUSY)
			fail_at(c, "map over a mapped range did not fail with -EBUSY", iova);
		c->st.busy++;
		return;
	}
	if (ret)
		fail_at(c, "map failed", iova);
	ref_add(&c->ref, (struct ext){ iova, size, paddr, w });
	c->st.maps++;
}

static void remember(struct ctx *c, const struct ext *e)
{
	c->recent[c->nrecent++ % 32] = *e;
}

static void do_unmap(struct ctx *c, bool range)
{
	uint64_t start, end, expect = 0, un;
	size_t i;
	bool grew;

	if (!c->ref.n)
		return;
	i = (size_t)(rnd() % c->ref.n);
	start = c->ref.v[i].iova;
	end = start + c->ref.v[i].size;
	if (range) {
		/* Every extent starting in the next 256 MiB, grown until no
		 * extent is cut. */
		uint64_t lim = start + (UINT64_C(256) << 20);

		for (size_t k = 0; k < c->ref.n; k++)
			if (c->ref.v[k].iova >= start && c->ref.v[k].iova < lim &&
			    c->ref.v[k].iova + c->ref.v[k].size > end)
				end = c->ref.v[k].iova + c->ref.v[k].size;
		do {
			grew = false;
			for (size_t k = 0; k < c->ref.n; k++)
				if (c->ref.v[k].iova >= start && c->ref.v[k].iova < end &&
				    c->ref.v[k].iova + c->ref.v[k].size > end) {
					end = c->ref.v[k].iova + c->ref.v[k].size;
					grew = true;
				}
		} while (grew);
	}
	for (size_t k = 0; k < c->ref.n;) {
		if (c->ref.v[k].iova >= start && c->ref.v[k].iova < end) {
			expect += c->ref.v[k].size;
			remember(c, &c->ref.v[k]);
			ref_del(&c->ref, k);
		} else {
			k++;
		}
	}
	if (iommu_intel_unmap(c->d, start, end - start, &un))
		fail_at(c, "unmap failed", start);
	if (un != expect)
		fail_at(c, "unmap returned another size than was mapped", start);
	c->st.unmaps++;
}

static void run(uint64_t seed, const struct run_cfg *cfg, struct run_stats *out)
{
	struct iommu_vtd_config vc;
	struct iommu_intel_config dc = { 0 };
	struct iommu_vtd_stats hs;
	struct iommu_error err = { 0 };
	struct ctx c;
	uint64_t un;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.seed = seed;
	rng_state = seed * 2 + 1;
	assert_int_equal(iommu_mem_create(UINT64_C(1) << 39, &c.mem), 0);
	iommu_vtd_config_init(&vc);
	if (cfg->cap) {
		vc.cap = cfg->cap;
		vc.ecap = cfg->ecap;
	}
	vc.mem = c.mem;
	if (cfg->mode != IOMMU_INTEL_FLUSH_STRICT) {
		/* Room for everything the run caches: no evictions. */
		vc.iotlb_sets = 8192;
		vc.iotlb_ways = 16;
	} else {
		vc.iotlb_sets = 16;     /* small: evictions, refills */
		vc.iotlb_ways = 4;
	}
	assert_int_equal(iommu_vtd_create(&vc, &c.u, &err), 0);
	dc.unit = c.u;
	dc.mem = c.mem;
	dc.table_base = UINT64_C(1) << 38;
	dc.table_size = UINT64_C(256) << 20;
	dc.register_invalidation = cfg->force_reg;
	assert_int_equal(iommu_intel_create(&dc, &c.drv, &err), 0);
	assert_int_equal(iommu_intel_enable(c.drv), 0);
	assert_int_equal(iommu_intel_domain_alloc(c.drv, IOMMU_DOMAIN_DMA, 0, &c.d), 0);
	iommu_intel_domain_set_flush_mode(c.d, cfg->mode);
	assert_int_equal(iommu_intel_attach(c.d, SID), 0);
	c.sh.t = calloc(SH_SIZE, sizeof(*c.sh.t));
	assert_non_null(c.sh.t);

	for (c.step = 0; c.step < STEPS; c.step++) {
		unsigned op = (unsigned)(rnd() % 10);

		if (op < 6)
			do_map(&c);
		else if (op < 9)
			do_unmap(&c, false);
		else
			do_unmap(&c, true);
		if (cfg->mode == IOMMU_INTEL_FLUSH_DEFERRED && cfg->flush_every &&
		    c.step % cfg->flush_every == cfg->flush_every - 1) {
			assert_int_equal(iommu_intel_flush(c.d), 0);
			sh_clear(&c.sh);
		}
		for (int p = 0; p < PROBES; p++) {
			unsigned kind = (unsigned)(rnd() % 8);
			bool write = rnd() % 3 == 0;
			uint64_t addr;

			if (kind < 3 && c.ref.n) {
				const struct ext *e = &c.ref.v[rnd() % c.ref.n];

				addr = e->iova + (rnd() % e->size & ~UINT64_C(3));
			} else if (kind < 6 && c.nrecent) {
				const struct ext *e = &c.recent[rnd() % (c.nrecent < 32 ? c.nrecent : 32)];

				addr = e->iova + (rnd() % e->size & ~UINT64_C(3));
			} else {
				addr = rnd() % WINDOW & ~UINT64_C(3);
			}
			probe(&c, addr, write);
		}
	}
	iommu_vtd_get_stats(c.u, &hs);
	if (cfg->mode != IOMMU_INTEL_FLUSH_STRICT)
		assert_int_equal(hs.iotlb_evictions, 0);   /* the prediction's premise */
	else
		assert_true(hs.iotlb_evictions > 0);
	/* Everything unmapped and flushed: one page left in the domain. */
	assert_int_equal(iommu_intel_unmap(c.d, 0, WINDOW, &un), 0);
	assert_int_equal(iommu_intel_flush(c.d), 0);
	assert_int_equal(iommu_intel_domain_table_pages(c.d), 1);

	out->probes += c.st.probes;
	out->stale += c.st.stale;
	out->stale_differs += c.st.stale_differs;
	out->maps += c.st.maps;
	out->unmaps += c.st.unmaps;
	out->busy += c.st.busy;
	free(c.sh.t);
	free(c.ref.v);
	iommu_intel_destroy(c.drv);
	iommu_vtd_destroy(c.u);
	iommu_mem_destroy(c.mem);
}

static void report(const char *name, const struct run_stats *s)
{
	printf("# %s: %llu maps, %llu unmaps, %llu refused overlaps, %llu probes, "
	       "%llu IOTLB answers predicted, %llu of them differing from the reference\n",
	       name, (unsigned long long)s->maps, (unsigned long long)s->unmaps,
	       (unsigned long long)s->busy, (unsigned long long)s->probes,
	       (unsigned long long)s->stale, (unsigned long long)s->stale_differs);
}

static void test_strict_equals_reference(void **state)
{
	struct run_stats s = { 0 };

	(void)state;
	for (int i = 0; i < 5; i++) {
		/* QI and register invalidation; one seed in caching mode. */
		struct run_cfg cfg = { .mode = IOMMU_INTEL_FLUSH_STRICT, .force_reg = i % 2 };

		if (i == 4) {
			cfg.cap = UINT64_C(0x00d2008c222f0686);
			cfg.ecap = UINT64_C(0x0000000000f00f4e);
		}
		run(seeds[i], &cfg, &s);
	}
	report("strict", &s);
	assert_true(s.maps > 1000 && s.unmaps > 500 && s.busy > 0);
	assert_int_equal(s.stale, 0);
}

static void test_never_stale_exactly_cached(void **state)
{
	struct run_stats s = { 0 };

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct run_cfg cfg = { .mode = IOMMU_INTEL_FLUSH_NEVER, .force_reg = i % 2 };

		run(seeds[i], &cfg, &s);
	}
	report("never", &s);
	/* The test means something only if stale answers happened. */
	assert_true(s.stale_differs > 100);
}

static void test_deferred_stale_until_flush(void **state)
{
	struct run_stats s = { 0 };

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct run_cfg cfg = { .mode = IOMMU_INTEL_FLUSH_DEFERRED, .force_reg = i % 2,
				       .flush_every = 16 };

		run(seeds[i], &cfg, &s);
	}
	report("deferred", &s);
	assert_true(s.stale_differs > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_equals_reference),
		cmocka_unit_test(test_never_stale_exactly_cached),
		cmocka_unit_test(test_deferred_stale_until_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
