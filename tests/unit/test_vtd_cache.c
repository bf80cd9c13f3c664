// SPDX-License-Identifier: MIT
/*
 * The unit's caches (VT-d chapter 6) seen from outside: IOTLB hits, stale
 * translations that survive table changes until software invalidates them
 * through the CCMD and IOTLB registers (6.5.1: global, domain-selective,
 * device-selective with function mask, page-selective with address mask),
 * replacement in a set, and caching mode (CM=1: not-present entries cached
 * too).  Queued-invalidation descriptors are in test_vtd_qi.c.
 *
 * Replacement: the VT-d specification does not say which entry an IOTLB
 * replaces (it is left to the implementation; 6.1 only says what may be
 * cached and that software must not rely on more).  The model documents
 * its policy (doc/vtd-model.md, "Caches"): a free way first (the lowest),
 * else the victim of a tree pseudo-LRU per set, the policy class hardware
 * caches use.  Definition, which the expectations below are computed
 * from by hand:
 *
 *   The ways, rounded up to a power of two P, are the leaves of a binary
 *   tree; its P - 1 inner nodes are numbered as a heap (node 1 the root,
 *   node n's children 2n, the lower half of its ways, and 2n + 1), way w
 *   is leaf P + w.  Each node holds a bit: 0, the victim is below its
 *   left child; 1, below its right child.  Using a way (a hit or a fill)
 *   sets every node on the path from the root to it to point to the
 *   other child, except that a node whose right child has no ways (ways
 *   not a power of two) keeps pointing left.  The victim is the leaf the
 *   bits lead to from the root.  All bits start at 0; a page-selective
 *   invalidation frees its way and leaves the bits.
 *
 * So for 8 ways, way w's path is node 1, node 2 + w / 4, node 4 + w / 2.
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

#include "iommu/hw.h"

#include "vtd_helpers.h"

/* CCMD (10.4.7): ICC 63, CIRG 62:61, FM 33:32, SID 31:16, DID 15:0. */
static void cc_flush(struct fx *f, unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
	uint64_t v;

	wr(f, R_CCMD, 8, B(63) | ((uint64_t)g << 61) | ((uint64_t)fm << 32) |
			      ((uint64_t)sid << 16) | did);
	v = rd(f, R_CCMD, 8);
	assert_false(v & B(63));                       /* done */
	assert_int_equal((v >> 59) & 3, g);            /* CAIG */
}

/* IVA (10.4.8.2): ADDR 63:12, IH 6, AM 5:0; IOTLB_REG: IVT 63,
 * IIRG 61:60, IAIG 58:57, DID 47:32.  Returns IAIG. */
static unsigned iotlb_flush(struct fx *f, unsigned g, uint16_t did, uint64_t addr,
			    unsigned am, bool ih)
{
	uint64_t v;

	wr(f, R_IVA, 8, addr | (ih ? B(6) : 0) | am);
	wr(f, R_IOTLB, 8, B(63) | ((uint64_t)g << 60) | ((uint64_t)did << 32));
	v = rd(f, R_IOTLB, 8);
	assert_false(v & B(63));
	return (unsigned)((v >> 57) & 3);
}

static void test_iotlb_hit_and_stale_until_psi(void **state)
{
	struct fx f;
	uint64_t top, leaf;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 7, 1);
	leaf = map(&f, top, 3, 0x1000, 0x5000, 1, 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x5000);
	assert_int_equal(xlate(&f, 0x0010, 0x1008, true, &r), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(stats(&f).iotlb_hits, 1);
	assert_int_equal(stats(&f).iotlb_misses, 1);
	assert_int_equal(stats(&f).walk_reads, 5);
	/* Unmap without invalidation: the stale entry keeps translating
	 * (the reason strict mode flushes before freeing the page). */
	w64(&f, leaf, 0);
	expect_ok(&f, 0x0010, 0x1000, false, 0x5000);
	/* A PSI for another page leaves it; one for this page drops it. */
	assert_int_equal(iotlb_flush(&f, 3, 7, 0x2000, 0, false), 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x5000);
	assert_int_equal(iotlb_flush(&f, 3, 7, 0x1000, 0, true), 3);
	expect_fault(&f, 0x0010, 0x1000, false, 0x06);
	fx_close(&f);
}

static void test_iotlb_domain_and_global(void **state)
{
	struct fx f;
	uint64_t t1, t2;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	t1 = setup_dev(&f, 0x0010, 1, 1);
	t2 = setup_dev(&f, 0x0018, 2, 1);
	map(&f, t1, 3, 0x1000, 0x11000, 1, 3);
	map(&f, t2, 3, 0x1000, 0x21000, 1, 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x11000);
	expect_ok(&f, 0x0018, 0x1000, false, 0x21000);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 2);
	assert_int_equal(iotlb_flush(&f, 2, 1, 0, 0, false), 2);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 1);
	expect_ok(&f, 0x0018, 0x1000, false, 0x21000);
	assert_int_equal(stats(&f).iotlb_hits, 1);
	assert_int_equal(iotlb_flush(&f, 1, 0, 0, 0, false), 1);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 0);
	fx_close(&f);
}

static void test_psi_address_mask_and_superpages(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 1, 1);
	for (unsigned i = 0; i < 8; i++)
		map(&f, top, 3, 0x100000 + i * 0x1000, 0x800000 + i * 0x1000, 1, 3);
	map(&f, top, 3, 0x40000000, 0x40000000, 2, 3);
	for (unsigned i = 0; i < 8; i++)
		expect_ok(&f, 0x0010, 0x100000 + i * 0x1000, false, 0x800000 + i * 0x1000);
	expect_ok(&f, 0x0010, 0x40123000, false, 0x40123000);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 9);
	/* AM 2: four pages from 0x104000 (aligned down). */
	iotlb_flush(&f, 3, 1, 0x105000, 2, false);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 5);
	/* A 4 KiB PSI inside the 2 MiB page takes the whole 2 MiB entry. */
	iotlb_flush(&f, 3, 1, 0x401ff000, 0, false);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 4);
	/* 1 GiB entries hit too. */
	map(&f, top, 3, 0x4000000000ull, 0x80000000, 3, 3);
	expect_ok(&f, 0x0010, 0x4000001000ull, false, 0x80001000);
	{
		struct iommu_vtd_result r;

		assert_int_equal(xlate(&f, 0x0010, 0x403ffff000ull, false, &r), 0);
		assert_true(r.iotlb_hit);
		assert_int_equal(r.host_addr, 0xbffff000);
	}
	iotlb_flush(&f, 3, 1, 0x4000000000ull, 0, false);
	/* A PSI for another domain takes nothing. */
	iotlb_flush(&f, 3, 2, 0x100000, 3, false);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 4);
	/* AM above MAMV (18): performed as domain-selective (IAIG 10b). */
	assert_int_equal(iotlb_flush(&f, 3, 1, 0, 19, false), 2);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 0);
	fx_close(&f);
	/* Without CAP.PSI every PSI is domain-selective. */
	fx_open(&f, CAP_DEFAULT & ~B(39), ECAP_DEFAULT);
	fx_enable(&f);
	assert_int_equal(iotlb_flush(&f, 3, 1, 0, 0, false), 2);
	fx_close(&f);
}

static void test_context_cache_stale_until_flush(void **state)
{
	struct fx f;
	uint64_t t1, t2;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	t1 = setup_dev(&f, 0x0010, 1, 1);
	map(&f, t1, 3, 0x1000, 0x11000, 1, 3);
	t2 = page(&f);
	map(&f, t2, 3, 0x1000, 0x22000, 1, 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x11000);
	assert_int_equal(stats(&f).cc_misses, 1);
	/* Move the device to domain 2 without flushing: old context
	 * (and its IOTLB entry) still used. */
	set_ctx(&f, 0x0010, ctx_lo(t2, 0, false), ctx_hi(1, 2));
	iotlb_flush(&f, 1, 0, 0, 0, false);
	expect_ok(&f, 0x0010, 0x1000, false, 0x11000);
	assert_int_equal(stats(&f).cc_hits, 1);
	/* Device-selective flush of another function: no effect. */
	cc_flush(&f, 3, 1, 0x0011, 0);
	iotlb_flush(&f, 1, 0, 0, 0, false);
	expect_ok(&f, 0x0010, 0x1000, false, 0x11000);
	/* Function mask 11b: all functions of device 00:02 go. */
	cc_flush(&f, 3, 1, 0x0011, 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x22000);
	fx_close(&f);
}

static void test_context_cache_domain_and_global(void **state)
{
	struct fx f;
	uint64_t t1, t2;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	t1 = setup_dev(&f, 0x0010, 1, 1);
	t2 = setup_dev(&f, 0x0020, 2, 1);
	map(&f, t1, 3, 0, 0x1000, 1, 3);
	map(&f, t2, 3, 0, 0x2000, 1, 3);
	expect_ok(&f, 0x0010, 0, false, 0x1000);
	expect_ok(&f, 0x0020, 0, false, 0x2000);
	assert_int_equal(iommu_vtd_cc_count(f.u), 2);
	cc_flush(&f, 2, 2, 0, 0);
	assert_int_equal(iommu_vtd_cc_count(f.u), 1);
	cc_flush(&f, 1, 0, 0, 0);
	assert_int_equal(iommu_vtd_cc_count(f.u), 0);
	assert_int_equal(stats(&f).cc_invalidations, 2);
	fx_close(&f);
}

/* 1 set x 2 ways: one tree node, and the pseudo-LRU is exactly LRU. */
static void test_plru_two_ways(void **state)
{
	struct fx f;
	struct fx_opts o = { .sets = 1, .ways = 2, .cc = 1 };
	uint64_t top;
	struct iommu_vtd_result r;

	(void)state;
	fx_open_opts(&f, &o);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 1, 1);
	map(&f, top, 3, 0xa000, 0x1a000, 1, 3);
	map(&f, top, 3, 0xb000, 0x1b000, 1, 3);
	map(&f, top, 3, 0xc000, 0x1c000, 1, 3);
	expect_ok(&f, 0x0010, 0xa000, false, 0x1a000);   /* way 0; node 1 = 1 */
	expect_ok(&f, 0x0010, 0xb000, false, 0x1b000);   /* way 1; node 1 = 0 */
	expect_ok(&f, 0x0010, 0xa000, false, 0x1a000);   /* hit way 0; node 1 = 1 */
	expect_ok(&f, 0x0010, 0xc000, false, 0x1c000);   /* victim way 1: B */
	assert_int_equal(stats(&f).iotlb_evictions, 1);
	assert_int_equal(xlate(&f, 0x0010, 0xa000, false, &r), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(xlate(&f, 0x0010, 0xb000, false, &r), 0);
	assert_false(r.iotlb_hit);
	/* One-entry context cache: a second device evicts the first. */
	setup_dev(&f, 0x0020, 2, 1);
	expect_fault(&f, 0x0020, 0, false, 0x06);
	assert_int_equal(stats(&f).cc_evictions, 1);
	assert_int_equal(iommu_vtd_cc_count(f.u), 1);
	fx_close(&f);
}

/*
 * A read of @iova: 1 when the IOTLB answered, 0 when it missed (the
 * translation itself must succeed).  Through sid 0x0010; or, with
 * hit_alternate set, through 0x0010 and 0x0018 in turn (two devices of
 * the same domain: set_up_domain()), so that each request comes from
 * another device than the last and none is answered the way repeated
 * requests of one device are (the unit's fast path): the replacement
 * must not depend on which path answered.
 */
static bool hit_alternate;
static unsigned hit_count;

static int hit(struct fx *f, uint64_t iova)
{
	struct iommu_vtd_result r;
	uint16_t sid = hit_alternate && (hit_count++ & 1) ? 0x0018 : 0x0010;

	assert_int_equal(xlate(f, sid, iova, false, &r), 0);
	return r.iotlb_hit;
}

/* Domain @did's top table, context entries for 0x0010 and 0x0018. */
static uint64_t set_up_domain(struct fx *f, unsigned did)
{
	uint64_t top = setup_dev(f, 0x0010, did, 1);

	set_ctx(f, 0x0018, ctx_lo(top, 0, false), ctx_hi(1, did));
	return top;
}

/*
 * 1 set x 8 ways, victims computed by hand from the definition above
 * (bits written n1..n7).  Where exact LRU would choose differently the
 * comment says so: these expectations fail for LRU.
 */
static void test_plru_victims_8_ways(void **state)
{
	struct fx_opts o = { .sets = 1, .ways = 8 };
	/* A0..A7, then B..F, 4 KiB pages of domain 7 */
	const uint64_t A = 0x100000, B = 0x200000, C = 0x201000, D = 0x202000,
		       E = 0x203000, F = 0x204000;
	uint64_t top;
	struct fx f;

	(void)state;
	fx_open_opts(&f, &o);
	fx_enable(&f);
	top = set_up_domain(&f, 7);
	for (unsigned i = 0; i < 8; i++)
		map(&f, top, 3, A + i * 0x1000, 0x800000 + i * 0x1000, 1, 3);
	for (unsigned i = 0; i < 6; i++)
		map(&f, top, 3, B + i * 0x1000, 0x900000 + i * 0x1000, 1, 3);

	/* A0..A7 fill the free ways 0..7 in order.  Each node was last set
	 * by the highest way below it, which lies right: all bits 0. */
	for (unsigned i = 0; i < 8; i++)
		assert_false(hit(&f, A + i * 0x1000));
	/* Hit A0 (way 0): n1 = n2 = n4 = 1. */
	assert_true(hit(&f, A));
	/* B: n1 = 1 -> node 3 (0) -> node 6 (0) -> leaf 12: way 4, A4.
	 * (LRU: A1.)  Using way 4: n1 = 0, n3 = 1, n6 = 1. */
	assert_false(hit(&f, B));
	/* C: n1 = 0 -> node 2 (1) -> node 5 (0) -> leaf 10: way 2, A2.
	 * (LRU: A2.)  Using way 2: n1 = 1, n2 = 0, n5 = 1. */
	assert_false(hit(&f, C));
	/* D: n1 = 1 -> node 3 (1) -> node 7 (0) -> leaf 14: way 6, A6.
	 * (LRU: A3.)  Using way 6: n1 = 0, n3 = 0, n7 = 1. */
	assert_false(hit(&f, D));
	/* E: n1 = 0 -> node 2 (0) -> node 4 (1) -> leaf 9: way 1, A1.
	 * (LRU: A4.)  Using way 1: n1 = 1, n2 = 1, n4 = 0. */
	assert_false(hit(&f, E));
	assert_int_equal(stats(&f).iotlb_evictions, 4);
	/* Ways: A0 E C A3 B A5 D A7.  Eight hits are the whole set.  In
	 * that order (ways 0 3 5 7 4 2 6 1) the bits end as: n1 = 1 (way 1,
	 * left), n2 = 1 (way 1, left), n3 = 0 (way 6, right), n4 = 0 (way
	 * 1, right), n5 = 1 (way 2, left), n6 = 1 (way 4, left), n7 = 1
	 * (way 6, left). */
	assert_true(hit(&f, A));
	assert_true(hit(&f, A + 3 * 0x1000));
	assert_true(hit(&f, A + 5 * 0x1000));
	assert_true(hit(&f, A + 7 * 0x1000));
	assert_true(hit(&f, B));
	assert_true(hit(&f, C));
	assert_true(hit(&f, D));
	assert_true(hit(&f, E));
	assert_int_equal(stats(&f).iotlb_evictions, 4);
	/* F: n1 = 1 -> node 3 (0) -> node 6 (1) -> leaf 13: way 5, A5.
	 * (LRU: A0, the least recently used.) */
	assert_false(hit(&f, F));
	assert_int_equal(stats(&f).iotlb_evictions, 5);
	assert_true(hit(&f, A));
	assert_false(hit(&f, A + 5 * 0x1000));
	fx_close(&f);
}

/*
 * 1 set x 3 ways: P = 4, nodes 1..3, and node 3's right child (way 3)
 * does not exist, so node 3 always points left, to way 2.
 */
static void test_plru_victims_3_ways(void **state)
{
	struct fx_opts o = { .sets = 1, .ways = 3 };
	const uint64_t X = 0x100000, Y = 0x104000, Z = 0x105000;
	uint64_t top;
	struct fx f;

	(void)state;
	fx_open_opts(&f, &o);
	fx_enable(&f);
	top = set_up_domain(&f, 7);
	for (unsigned i = 0; i < 6; i++)
		map(&f, top, 3, X + i * 0x1000, 0x800000 + i * 0x1000, 1, 3);
	/* X0 X1 X2 into ways 0 1 2: using way 0, n1 = 1, n2 = 1; way 1,
	 * n1 = 1, n2 = 0; way 2, n1 = 0 (n3 stays 0). */
	for (unsigned i = 0; i < 3; i++)
		assert_false(hit(&f, X + i * 0x1000));
	/* Hit X0: n1 = 1, n2 = 1. */
	assert_true(hit(&f, X));
	/* Y: n1 = 1 -> node 3 -> way 2, X2 (LRU: X1).  Using way 2: n1 = 0. */
	assert_false(hit(&f, Y));
	/* Z: n1 = 0 -> node 2 (1) -> way 1, X1.  Using way 1: n1 = 1,
	 * n2 = 0. */
	assert_false(hit(&f, Z));
	assert_int_equal(stats(&f).iotlb_evictions, 2);
	/* Ways: X0 Z Y. */
	assert_true(hit(&f, X));
	assert_true(hit(&f, Z));
	assert_true(hit(&f, Y));
	assert_false(hit(&f, X + 0x1000));
	assert_false(hit(&f, X + 0x2000));
	fx_close(&f);
}

/*
 * A reference tree pseudo-LRU, written top-down from the definition above
 * (the model keeps per-way masks instead), for one set.
 */
struct ref_plru {
	unsigned ways, leaves;
	bool node[128];
	bool valid[64];
	uint64_t page[64];
	unsigned evictions;
};

static void ref_init(struct ref_plru *r, unsigned ways)
{
	memset(r, 0, sizeof(*r));
	r->ways = ways;
	r->leaves = 1;
	while (r->leaves < ways)
		r->leaves *= 2;
}

static int ref_find(const struct ref_plru *r, uint64_t page)
{
	for (unsigned w = 0; w < r->ways; w++)
		if (r->valid[w] && r->page[w] == page)
			return (int)w;
	return -1;
}

static void ref_touch(struct ref_plru *r, unsigned w)
{
	unsigned n = 1, lo = 0, size = r->leaves;

	while (size > 1) {
		unsigned half = size / 2;
		bool right = w >= lo + half;

		/* away from w; left when the right half has no ways */
		r->node[n] = !right && lo + half < r->ways;
		n = 2 * n + right;
		lo += right ? half : 0;
		size = half;
	}
}

static unsigned ref_victim(const struct ref_plru *r)
{
	unsigned n = 1, lo = 0, size = r->leaves;

	while (size > 1) {
		unsigned half = size / 2;
		bool right = r->node[n];

		n = 2 * n + right;
		lo += right ? half : 0;
		size = half;
	}
	return lo;
}

/* The access; true when it hits. */
static bool ref_access(struct ref_plru *r, uint64_t page)
{
	int found = ref_find(r, page);
	unsigned w = 0;

	if (found >= 0) {
		ref_touch(r, (unsigned)found);
		return true;
	}
	while (w < r->ways && r->valid[w])
		w++;
	if (w == r->ways) {
		w = ref_victim(r);
		r->evictions++;
	}
	r->valid[w] = true;
	r->page[w] = page;
	ref_touch(r, w);
	return false;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Long random sequences in one set of 2, 3, 5, 8, 16 and 64 ways: every
 * translation hits exactly when the reference says, and the eviction
 * counter agrees.  After every hit, a page the set does not hold is
 * brought in, and the page just hit must still be there: the way used
 * last is never the next victim (its whole path points away from it).
 */
static void test_plru_reference_random(void **state)
{
	static const unsigned ways[] = { 2, 3, 5, 8, 16, 64 };

	(void)state;
	for (unsigned k = 0; k < sizeof(ways) / sizeof(ways[0]); k++) {
		struct fx_opts o = { .sets = 1, .ways = ways[k] };
		unsigned n = ways[k], pages = 3 * n;
		uint64_t seed = 0x5eed0000u + n, top;
		struct ref_plru ref;
		struct fx f;

		fx_open_opts(&f, &o);
		fx_enable(&f);
		top = set_up_domain(&f, 3);
		for (unsigned p = 0; p < pages; p++)
			map(&f, top, 3, 0x100000 + p * 0x1000, 0x800000 + p * 0x1000, 1, 3);
		ref_init(&ref, n);
		for (unsigned step = 0; step < 3000; step++) {
			/* half the time one of the first n pages: more hits */
			unsigned p = (unsigned)(rng_next(&seed) % (step & 1 ? n : pages));
			uint64_t x = 0x100000 + p * 0x1000;
			bool want = ref_access(&ref, x);

			assert_int_equal(hit(&f, x), want);
			if (want) {
				unsigned q = (unsigned)(rng_next(&seed) % pages);
				uint64_t y;

				while (ref_find(&ref, 0x100000 + q * 0x1000) >= 0)
					q = (q + 1) % pages;
				y = 0x100000 + q * 0x1000;
				assert_false(ref_access(&ref, y));
				assert_false(hit(&f, y));
				/* the page hit before y came in */
				assert_true(ref_access(&ref, x));
				assert_true(hit(&f, x));
			}
		}
		assert_int_equal(stats(&f).iotlb_evictions, ref.evictions);
		assert_true(ref.evictions > 1000);
		fx_close(&f);
	}
}

/* The same, every request from another device than the last. */
static void test_plru_alternating_devices(void **state)
{
	hit_alternate = true;
	test_plru_victims_8_ways(state);
	test_plru_victims_3_ways(state);
	test_plru_reference_random(state);
}

static int hit_alternate_off(void **state)
{
	(void)state;
	hit_alternate = false;
	return 0;
}

/* An invalidated way is free, and the next fill of its set takes it
 * rather than evicting (6.5: invalidation removes the entry). */
static void test_invalidated_way_refilled_first(void **state)
{
	struct fx_opts o = { .sets = 1, .ways = 8 };
	uint64_t top;
	struct fx f;

	(void)state;
	fx_open_opts(&f, &o);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 7, 1);
	for (unsigned i = 0; i < 9; i++)
		map(&f, top, 3, 0x100000 + i * 0x1000, 0x800000 + i * 0x1000, 1, 3);
	for (unsigned i = 0; i < 8; i++)
		assert_false(hit(&f, 0x100000 + i * 0x1000));
	assert_int_equal(iotlb_flush(&f, 3, 7, 0x105000, 0, false), 3);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 7);
	assert_false(hit(&f, 0x108000));
	assert_int_equal(stats(&f).iotlb_evictions, 0);
	for (unsigned i = 0; i < 9; i++)
		if (i != 5)
			assert_true(hit(&f, 0x100000 + i * 0x1000));
	assert_int_equal(stats(&f).iotlb_evictions, 0);
	fx_close(&f);
}

/*
 * Geometries the unit's fast path does not probe inline (other than 8
 * ways), with domain id 0 and page 0, whose key is all zeroes but for its
 * size: repeated requests answer from the IOTLB what the tables say.
 */
static void test_other_geometries_page_zero(void **state)
{
	static const struct { unsigned sets, ways; } g[] = {
		{ 1, 2 }, { 1, 3 }, { 2, 3 }, { 4, 2 }, { 1, 16 }, { 2, 7 },
	};

	(void)state;
	for (unsigned k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		struct fx_opts o = { .sets = g[k].sets, .ways = g[k].ways };
		struct iommu_vtd_result r;
		uint64_t top;
		struct fx f;

		fx_open_opts(&f, &o);
		fx_enable(&f);
		top = setup_dev(&f, 0x0010, 0, 1);
		map(&f, top, 3, 0, 0x7000, 1, 3);
		map(&f, top, 3, 0x1000, 0x9000, 1, 1);
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(xlate(&f, 0x0010, 0x18, false, &r), 0);
			assert_int_equal(r.host_addr, 0x7018);
			assert_int_equal(r.iotlb_hit, i > 0);
			assert_int_equal(xlate(&f, 0x0010, 0x1018, false, &r), 0);
			assert_int_equal(r.host_addr, 0x9018);
			expect_fault(&f, 0x0010, 0x1018, true, 0x05);
		}
		assert_int_equal(stats(&f).iotlb_misses, 2);
		fx_close(&f);
	}
}

/*
 * The counters of hits the translation fast path answers (kept by set and
 * folded in by iommu_vtd_get_stats) add up, restart at clear_stats and
 * reset, and survive a global invalidation (which empties the sets).
 */
static void test_hit_counters(void **state)
{
	struct fx f;
	struct iommu_vtd_stats st;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 7, 1);
	for (unsigned i = 0; i < 100; i++)
		map(&f, top, 3, 0x100000 + i * 0x1000, 0x800000 + i * 0x1000, 1, 3);
	for (unsigned i = 0; i < 100; i++)
		assert_false(hit(&f, 0x100000 + i * 0x1000));
	for (unsigned i = 0; i < 100; i++)
		assert_true(hit(&f, 0x100000 + i * 0x1000));
	st = stats(&f);
	assert_int_equal(st.iotlb_hits, 100);
	assert_int_equal(st.iotlb_misses, 100);
	assert_int_equal(st.translations, 200);
	iommu_vtd_clear_stats(f.u);
	st = stats(&f);
	assert_int_equal(st.iotlb_hits, 0);
	assert_int_equal(st.translations, 0);
	for (unsigned i = 0; i < 50; i++)
		assert_true(hit(&f, 0x100000 + i * 0x1000));
	assert_int_equal(stats(&f).iotlb_hits, 50);
	iotlb_flush(&f, 1, 0, 0, 0, false);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 0);
	st = stats(&f);
	assert_int_equal(st.iotlb_hits, 50);
	assert_int_equal(st.cc_hits, 50);
	assert_false(hit(&f, 0x100000));
	assert_true(hit(&f, 0x100000));
	st = stats(&f);
	assert_int_equal(st.iotlb_hits, 51);
	assert_int_equal(st.iotlb_misses, 1);
	assert_int_equal(st.translations, 52);
	iommu_vtd_reset(f.u);
	st = stats(&f);
	assert_int_equal(st.iotlb_hits, 0);
	assert_int_equal(st.translations, 0);
	fx_close(&f);
}

static void test_caching_mode(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	/* CM=0: a not-present context entry made present works at once. */
	fx_open(&f, 0, 0);
	fx_enable(&f);
	ctx_table(&f, 0);
	expect_fault(&f, 0x0010, 0x1000, false, 0x02);
	top = setup_dev(&f, 0x0010, 1, 1);
	map(&f, top, 3, 0x1000, 0x3000, 1, 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x3000);
	fx_close(&f);

	/* CM=1 (QEMU's caching-mode vIOMMU): the not-present context entry
	 * and the not-present page are cached until invalidated. */
	fx_open(&f, CAP_CM48, ECAP_CM48);
	fx_enable(&f);
	ctx_table(&f, 0);
	expect_fault(&f, 0x0010, 0x1000, false, 0x02);
	top = setup_dev(&f, 0x0010, 1, 1);
	expect_fault(&f, 0x0010, 0x1000, false, 0x02);
	cc_flush(&f, 3, 1, 0x0010, 0);
	expect_fault(&f, 0x0010, 0x1000, false, 0x06);
	map(&f, top, 3, 0x1000, 0x3000, 1, 3);
	expect_fault(&f, 0x0010, 0x1000, true, 0x05);    /* cached not-present */
	iotlb_flush(&f, 3, 1, 0x1000, 0, false);
	expect_ok(&f, 0x0010, 0x1000, false, 0x3000);
	fx_close(&f);
}

static void test_cache_geometry_config(void **state)
{
	struct iommu_mem *m;
	struct iommu_vtd_config c;
	struct iommu_vtd_unit *u = NULL;
	struct iommu_error err;

	(void)state;
	assert_int_equal(iommu_mem_create(1 << 20, &m), 0);
	iommu_vtd_config_init(&c);
	c.mem = m;
	c.iotlb_sets = 48;
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "IOTLB"));
	c.iotlb_sets = 1024;
	c.iotlb_ways = 16;
	c.context_cache_entries = 3;
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	c.context_cache_entries = 256;
	c.iec_entries = 1000;
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	c.iec_entries = 1024;
	assert_int_equal(iommu_vtd_create(&c, &u, &err), 0);
	iommu_vtd_destroy(u);
	iommu_mem_destroy(m);
}


/*
 * One set of 3, 8, 16 or 64 ways (ways need not come in eights): the
 * set holds exactly its ways' worth of pages, each answering from the
 * IOTLB once filled, and the next page evicts the pseudo-LRU victim.
 * The result of a hit is the result of the walk that filled it, with
 * iotlb_hit set.  The counters add up: every translation a context-cache
 * hit or miss, every IOTLB lookup a hit or miss.
 */
static void test_ways_and_counters(void **state)
{
	static const unsigned ways[] = { 3, 8, 16, 64 };

	(void)state;
	for (unsigned k = 0; k < sizeof(ways) / sizeof(ways[0]); k++) {
		struct fx_opts o = { .sets = 1, .ways = ways[k] };
		struct iommu_vtd_result a, b;
		struct iommu_vtd_stats st;
		unsigned n = ways[k];
		uint64_t top;
		struct fx f;

		fx_open_opts(&f, &o);
		fx_enable(&f);
		top = setup_dev(&f, 0x0010, 7, 1);
		for (unsigned p = 0; p <= n; p++)
			map(&f, top, 3, 0x100000 + p * 0x1000, 0x900000 + p * 0x2000, 1,
			    p % 2 ? 1 : 3);
		for (unsigned p = 0; p < n; p++) {
			assert_int_equal(xlate(&f, 0x0010, 0x100000 + p * 0x1000 + 0x18, false, &a), 0);
			assert_false(a.iotlb_hit);
			assert_int_equal(xlate(&f, 0x0010, 0x100000 + p * 0x1000 + 0x18, false, &b), 0);
			assert_true(b.iotlb_hit);
			b.iotlb_hit = false;
			assert_memory_equal(&a, &b, sizeof(a));
			assert_int_equal(a.host_addr, 0x900000 + p * 0x2000 + 0x18);
			assert_int_equal(a.page_size, 0x1000);
			assert_int_equal(a.domain_id, 7);
			assert_true(a.read);
			assert_int_equal(a.write, p % 2 == 0);
			/* a write to a read-only page: the cached entry says no */
			if (p % 2)
				expect_fault(&f, 0x0010, 0x100000 + p * 0x1000, true, 0x05);
		}
		st = stats(&f);
		assert_int_equal(st.iotlb_fills, n);
		assert_int_equal(st.iotlb_evictions, 0);
		/*
		 * Page p is in way p, and the ways were used last in the order
		 * 0..n-1: every node was last set by the highest way below it,
		 * which lies right, so all bits are 0.  Page 0 used again: its
		 * path (the leftmost) points right.  The victim is then the
		 * first way of the right half, n / 2 for 8, 16 and 64 ways;
		 * for 3 (P = 4) node 3 has only way 2 below it: way 2.
		 */
		expect_ok(&f, 0x0010, 0x100000, false, 0x900000);
		expect_ok(&f, 0x0010, 0x100000 + n * 0x1000, false, 0x900000 + n * 0x2000);
		st = stats(&f);
		assert_int_equal(st.iotlb_evictions, 1);
		assert_int_equal(xlate(&f, 0x0010, 0x100000, false, &a), 0);
		assert_true(a.iotlb_hit);
		assert_int_equal(xlate(&f, 0x0010, 0x100000 + 0x1000, false, &a), 0);
		assert_true(a.iotlb_hit);
		assert_int_equal(xlate(&f, 0x0010, 0x100000 + (n == 3 ? 2 : n / 2) * 0x1000,
				       false, &a), 0);
		assert_false(a.iotlb_hit);
		st = stats(&f);
		assert_int_equal(st.translations, st.cc_hits + st.cc_misses);
		assert_int_equal(st.cc_misses, 1);
		assert_int_equal(st.iotlb_hits + st.iotlb_misses, st.translations);
		assert_int_equal(st.iotlb_misses, st.walks);
		assert_int_equal(st.walk_reads, 2 + 3 * st.walks);
		assert_int_equal(iommu_vtd_iotlb_count(f.u), n);
		fx_close(&f);
	}
}

/*
 * Two devices in turn, each through its own context entry and domain:
 * every request finds its own context, cached; a context entry changed
 * in memory keeps its cached value until a device-selective
 * context-cache invalidation (6.5.1), then the new one is used.
 */
static void test_devices_in_turn(void **state)
{
	struct fx f;
	uint64_t t1, t2, t3;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	t1 = setup_dev(&f, 0x0010, 1, 1);
	t2 = setup_dev(&f, 0x0018, 2, 1);
	t3 = page(&f);
	map(&f, t1, 3, 0x5000, 0x15000, 1, 3);
	map(&f, t2, 3, 0x5000, 0x25000, 1, 3);
	map(&f, t3, 3, 0x5000, 0x35000, 1, 3);
	for (unsigned i = 0; i < 6; i++) {
		expect_ok(&f, 0x0010, 0x5008, i & 1, 0x15008);
		expect_ok(&f, 0x0018, 0x5008, i & 1, 0x25008);
	}
	assert_int_equal(stats(&f).cc_misses, 2);
	set_ctx(&f, 0x0018, ctx_lo(t3, 0, false), ctx_hi(1, 3));
	expect_ok(&f, 0x0018, 0x5008, false, 0x25008);
	expect_ok(&f, 0x0010, 0x5008, false, 0x15008);
	cc_flush(&f, 3, 2, 0x0018, 0);
	expect_ok(&f, 0x0018, 0x5008, false, 0x35008);
	expect_ok(&f, 0x0010, 0x5008, false, 0x15008);
	expect_ok(&f, 0x0018, 0x5008, false, 0x35008);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iotlb_hit_and_stale_until_psi),
		cmocka_unit_test(test_iotlb_domain_and_global),
		cmocka_unit_test(test_psi_address_mask_and_superpages),
		cmocka_unit_test(test_context_cache_stale_until_flush),
		cmocka_unit_test(test_context_cache_domain_and_global),
		cmocka_unit_test(test_plru_two_ways),
		cmocka_unit_test(test_plru_victims_8_ways),
		cmocka_unit_test(test_plru_victims_3_ways),
		cmocka_unit_test(test_plru_reference_random),
		cmocka_unit_test_teardown(test_plru_alternating_devices, hit_alternate_off),
		cmocka_unit_test(test_invalidated_way_refilled_first),
		cmocka_unit_test(test_other_geometries_page_zero),
		cmocka_unit_test(test_hit_counters),
		cmocka_unit_test(test_caching_mode),
		cmocka_unit_test(test_cache_geometry_config),
		cmocka_unit_test(test_ways_and_counters),
		cmocka_unit_test(test_devices_in_turn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
