// SPDX-License-Identifier: MIT
/*
 * The unit's caches (VT-d chapter 6) seen from outside: IOTLB hits, stale
 * translations that survive table changes until software invalidates them
 * through the CCMD and IOTLB registers (6.5.1: global, domain-selective,
 * device-selective with function mask, page-selective with address mask),
 * LRU replacement in a set, and caching mode (CM=1: not-present entries
 * cached too).  Queued-invalidation descriptors are in test_vtd_qi.c.
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

static void test_lru_replacement(void **state)
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
	expect_ok(&f, 0x0010, 0xa000, false, 0x1a000);
	expect_ok(&f, 0x0010, 0xb000, false, 0x1b000);
	expect_ok(&f, 0x0010, 0xa000, false, 0x1a000);   /* A most recent */
	expect_ok(&f, 0x0010, 0xc000, false, 0x1c000);   /* evicts B */
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
 * IOTLB once filled, and the next page evicts the least recently used.
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
		/* page 0 used again: page 1 is now the least recently used */
		expect_ok(&f, 0x0010, 0x100000, false, 0x900000);
		expect_ok(&f, 0x0010, 0x100000 + n * 0x1000, false, 0x900000 + n * 0x2000);
		st = stats(&f);
		assert_int_equal(st.iotlb_evictions, 1);
		assert_int_equal(xlate(&f, 0x0010, 0x100000, false, &a), 0);
		assert_true(a.iotlb_hit);
		assert_int_equal(xlate(&f, 0x0010, 0x100000 + 0x1000, false, &a), 0);
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
		cmocka_unit_test(test_lru_replacement),
		cmocka_unit_test(test_caching_mode),
		cmocka_unit_test(test_cache_geometry_config),
		cmocka_unit_test(test_ways_and_counters),
		cmocka_unit_test(test_devices_in_turn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
