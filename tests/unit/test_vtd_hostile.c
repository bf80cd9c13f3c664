// SPDX-License-Identifier: MIT
/*
 * Hostile tables: entries pointing at themselves, at their own table
 * through superpage bits, beyond memory, with every bit set, and pages of
 * random bits.  Every request must end, after at most root + context +
 * 5 levels of reads, in a translation or a fault with a reason the
 * specification defines; never a crash, a hang, or an error code the API
 * does not promise.  (A self-referencing directory entry with R or W set
 * is a legal "recursive" mapping on real hardware: the model, like the
 * hardware, answers with the table page itself.)
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

/* Any outcome must be one the API promises. */
static void check_outcome(struct fx *f, int rc, const struct iommu_vtd_result *r,
			  uint64_t addr, uint64_t reads_before)
{
	uint64_t reads = stats(f).walk_reads - reads_before;

	assert_true(reads <= 7);
	if (rc == 0) {
		assert_true(r->page_size == 4096 || r->page_size == (2u << 20) ||
			    r->page_size == (1u << 30));
		assert_int_equal(r->host_addr & (r->page_size - 1),
				 addr & (r->page_size - 1));
	} else {
		assert_int_equal(rc, -EFAULT);
		assert_non_null(iommu_vtd_fault_reason_desc(r->fault_reason));
	}
}

static int try(struct fx *f, uint16_t sid, uint64_t addr, bool write,
	       struct iommu_vtd_result *r)
{
	uint64_t before = stats(f).walk_reads;
	int rc = xlate(f, sid, addr, write, r);

	check_outcome(f, rc, r, addr, before);
	/* Drop what got cached so the next request walks again. */
	wr(f, R_CCMD, 8, B(63) | (UINT64_C(1) << 61));
	wr(f, R_IOTLB, 8, B(63) | (UINT64_C(1) << 60));
	frcd_clear(f, 0);
	wr(f, R_FSTS, 4, 0x7d);
	return rc;
}

static void test_self_reference(void **state)
{
	static const struct { unsigned sagaw, mgaw, aw, levels; } cfgs[] = {
		{ 0x2, 39, 1, 3 }, { 0x4, 48, 2, 4 }, { 0x8, 57, 3, 5 },
	};

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		struct fx f;
		struct iommu_vtd_result r;
		uint64_t top;

		fx_open(&f, cap_aw(CAP_DEFAULT, cfgs[c].sagaw, cfgs[c].mgaw), ECAP_DEFAULT);
		fx_enable(&f);
		top = setup_dev(&f, 0x10, 1, cfgs[c].aw);
		/* Entry 0 points at its own table. */
		w64(&f, top, top | 3);
		assert_int_equal(try(&f, 0x10, 0x10, true, &r), 0);
		assert_int_equal(r.host_addr, top + 0x10);
		/* The same through the PS bit: a superpage whose address is a
		 * 4 KiB table is reserved (or PS itself is, at levels 4-5). */
		w64(&f, top, top | 3 | B(7));
		assert_int_equal(try(&f, 0x10, 0x10, true, &r), -EFAULT);
		assert_int_equal(r.fault_reason, 0x0c);
		/* The context entry's own table as the paging table. */
		set_ctx(&f, 0x10, ctx_lo(ctx_table(&f, 0), 0, false), ctx_hi(cfgs[c].aw, 1));
		(void)try(&f, 0x10, 0, false, &r);
		/* The root table as a context table and as a paging table. */
		w64(&f, f.rta, f.rta | 1);
		(void)try(&f, 0x10, 0, false, &r);
		(void)try(&f, 0x00, 0, true, &r);
		fx_close(&f);
	}
}

static void test_beyond_memory_each_level(void **state)
{
	struct fx f;
	struct iommu_vtd_result r;
	uint64_t top, t2, t1;
	uint64_t far = UINT64_C(1) << 36;      /* inside HAW, beyond 64 MiB */

	(void)state;
	fx_open(&f, cap_aw(CAP_DEFAULT, 0x4, 48), ECAP_DEFAULT);
	fx_enable(&f);
	top = setup_dev(&f, 0x10, 1, 2);
	map(&f, top, 4, 0, 0x1000, 1, 3);
	t2 = r64(&f, top) & ~UINT64_C(0xfff);
	t1 = r64(&f, t2) & ~UINT64_C(0xfff);
	w64(&f, t1, far | 3);                                   /* level 2 */
	assert_int_equal(try(&f, 0x10, 0, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x07);
	w64(&f, t2, far | 3);                                   /* level 3 */
	assert_int_equal(try(&f, 0x10, 0, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x07);
	w64(&f, top, (UINT64_C(1) << 47) | 3);                   /* level 4, below HAW */
	assert_int_equal(try(&f, 0x10, 0, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x07);
	w64(&f, top, (UINT64_C(1) << 48) | 3);                   /* above HAW */
	assert_int_equal(try(&f, 0x10, 0, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x0c);
	/* Root table in the last page of memory, context beyond. */
	f.rta = (UINT64_C(64) << 20) - 4096;
	w64(&f, f.rta + 0xff0, far | 1);
	wr(&f, R_RTADDR, 8, f.rta);
	gcmd(&f, G_SRTP, true);
	assert_int_equal(try(&f, 0xff00, 0, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x09);
	fx_close(&f);
}

static void test_all_ones(void **state)
{
	struct fx f;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	assert_int_equal(iommu_mem_fill(f.mem, 0, 0xff, 64 << 20), 0);
	wr(&f, R_RTADDR, 8, 0x1000);
	gcmd(&f, G_SRTP, true);
	gcmd(&f, G_TE, true);
	for (unsigned i = 0; i < 64; i++) {
		assert_int_equal(try(&f, (uint16_t)(i * 1031), i * 0x123456789ull, i & 1, &r), -EFAULT);
		assert_int_equal(r.fault_reason, 0x0a);
	}
	fx_close(&f);
}

/* Random bits in a small window of pages that all pointers land in. */
static void randomize(struct fx *f, uint64_t base, unsigned pages, unsigned density)
{
	for (uint64_t a = base; a < base + pages * 4096ull; a += 8) {
		uint64_t v = rnd();

		if ((rnd() % 16) >= density) {
			v = 0;
		} else if (rnd() & 1) {
			/* A plausible word: a pointer into the window with P/R/W
			 * (root, context low, directory, leaf), with PS, or an
			 * AW/DID context high word; now and then a stray bit. */
			uint64_t ptr = base + (rnd() % pages) * 4096;

			switch (rnd() % 4) {
			case 0: v = ptr | 1; break;
			case 1: v = ptr | 3; break;
			case 2: v = ptr | 3 | B(7); break;
			default: v = 1 + rnd() % 3 + ((rnd() % 16) << 8); break;
			}
			if (rnd() % 8 == 0)
				v ^= B(rnd() % 64);
		}
		w64(f, a, v);
	}
}

static void test_random_tables(void **state)
{
	static const uint64_t caps[] = {
		CAP_DEFAULT, CAP_CM48, 0, 0,
	};
	unsigned total = 0, ok = 0;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned round = 0; round < 40; round++) {
		struct fx f;
		struct fx_opts o = { .sets = 4, .ways = 2, .cc = 4, .memsize = 1 << 22 };
		uint64_t cap = caps[round % 4];

		if (round % 4 == 2)
			cap = cap_aw(CAP_DEFAULT, 0xe, 57);
		if (round % 4 == 3)
			cap = cap_aw(CAP_DEFAULT & ~(UINT64_C(0xf) << 34), 0x6, 48);
		o.cap = cap;
		o.ecap = cap == CAP_CM48 ? ECAP_CM48 : ECAP_DEFAULT;
		fx_open_opts(&f, &o);
		randomize(&f, 0x100000, 32, 1 + round % 15);
		wr(&f, R_RTADDR, 8, 0x100000 + (rnd() % 32) * 4096);
		gcmd(&f, G_SRTP, true);
		gcmd(&f, G_TE, true);
		for (unsigned i = 0; i < 500; i++) {
			struct iommu_vtd_request q = {
				.source_id = (uint16_t)rnd(),
				.addr = rnd() >> (rnd() % 64),
				.size = 1 + rnd() % 8,
				.write = rnd() & 1,
			};
			struct iommu_vtd_result r;
			uint64_t before = stats(&f).walk_reads;
			int rc;

			q.addr &= ~UINT64_C(7);
			rc = iommu_vtd_translate(f.u, &q, &r);
			check_outcome(&f, rc, &r, q.addr, before);
			total++;
			ok += rc == 0;

			if (i % 50 == 49) {
				wr(&f, R_CCMD, 8, B(63) | (UINT64_C(1) << 61));
				wr(&f, R_IOTLB, 8, B(63) | (UINT64_C(1) << 60));
				frcd_clear(&f, 0);
				wr(&f, R_FSTS, 4, 0x7d);
			}
		}
		fx_close(&f);
	}
	assert_int_equal(total, 20000);
	(void)ok;
}

/* Valid tables for a few devices, then random bit flips in them. */
static void test_mutated_tables(void **state)
{
	unsigned ok = 0, faults = 0;

	(void)state;
	rng_state = 0x1234567887654321ull;
	for (unsigned round = 0; round < 100; round++) {
		struct fx f;
		struct fx_opts o = { .cap = CAP_CM48, .ecap = ECAP_CM48,
				     .sets = 8, .ways = 2, .cc = 4 };
		uint64_t iova[16];
		uint16_t sids[4] = { 0x0010, 0x0011, 0x0300, 0xff07 };

		fx_open_opts(&f, &o);
		fx_enable(&f);
		for (unsigned d = 0; d < 4; d++) {
			unsigned aw = 1 + d % 2;
			uint64_t top = setup_dev(&f, sids[d], d + 1, aw);

			for (unsigned k = 0; k < 4; k++) {
				unsigned leaf = 1 + rnd() % 3;
				uint64_t sz = UINT64_C(1) << (12 + 9 * (leaf - 1));

				iova[d * 4 + k] = (rnd() & ((UINT64_C(1) << (aw == 1 ? 39 : 48)) - 1)) & ~(sz - 1);
				map(&f, top, aw + 2, iova[d * 4 + k], (rnd() % 64) * sz, leaf,
				    1 + rnd() % 3);
			}
		}
		for (unsigned flips = 0; flips < 1 + round % 8; flips++) {
			uint64_t a = f.rta + (rnd() % ((f.next - f.rta) / 8)) * 8;

			w64(&f, a, r64(&f, a) ^ B(rnd() % 64));
		}
		for (unsigned i = 0; i < 200; i++) {
			unsigned d = rnd() % 4;
			struct iommu_vtd_result r;
			uint64_t addr = iova[d * 4 + rnd() % 4] + (rnd() % 4096) * 8;
			int rc = try(&f, sids[d], addr & ~UINT64_C(7), rnd() & 1, &r);

			ok += rc == 0;
			faults += rc != 0;
		}
		fx_close(&f);
	}
	/* Both outcomes are exercised. */
	assert_true(ok > 1000);
	assert_true(faults > 1000);
}

static void test_random_interrupt_tables(void **state)
{
	struct fx f;

	(void)state;
	rng_state = 12345;
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT | B(4));
	randomize(&f, 0x100000, 16, 8);
	wr(&f, R_IRTA, 8, 0x100000 | (rnd() & B(11)) | 15);
	gcmd(&f, G_SIRTP, true);
	gcmd(&f, G_IRE, true);
	for (unsigned i = 0; i < 5000; i++) {
		struct iommu_vtd_msi m = {
			.source_id = (uint16_t)rnd(),
			.addr = 0xfee00000u | (rnd() & 0xfffff),
			.data = (uint32_t)(rnd() >> (rnd() % 32)),
		};
		struct iommu_vtd_irq irq;
		int rc = iommu_vtd_interrupt(f.u, &m, &irq);

		if (rc) {
			assert_int_equal(rc, -EFAULT);
			assert_non_null(iommu_vtd_fault_reason_desc(irq.fault_reason));
			assert_true(irq.fault_reason >= 0x20 && irq.fault_reason <= 0x26);
		}
		if (i % 100 == 0) {
			frcd_clear(&f, 0);
			wr(&f, R_FSTS, 4, 0x7d);
		}
	}
	fx_close(&f);
}

static void test_random_invalidation_queue(void **state)
{
	struct fx f;

	(void)state;
	rng_state = 777;
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT);
	for (unsigned round = 0; round < 200; round++) {
		uint64_t before = stats(&f).qi_descriptors;

		randomize(&f, 0x100000, 8, 12);
		/* Some well-formed waits among the noise. */
		for (unsigned k = 0; k < 8; k++) {
			uint64_t at = 0x100000 + (k < 2 ? k : rnd() % 2048) * 16;

			w64(&f, at, 5 | (rnd() & 0x70));
			w64(&f, at + 8, 0x100000 + (rnd() % 4096) * 4);
		}
		wr(&f, R_IQA, 8, 0x100000 | (rnd() % 2));
		gcmd(&f, G_QIE, true);
		wr(&f, R_IQT, 8, (rnd() % 600) << 4);
		/* Recover from errors a few times: bounded work each time. */
		for (unsigned k = 0; k < 4 && (rd(&f, R_FSTS, 4) & B(4)); k++)
			wr(&f, R_FSTS, 4, B(4));
		assert_true(stats(&f).qi_descriptors - before <= 5 * 512);

		gcmd(&f, G_QIE, false);
		wr(&f, R_FSTS, 4, B(4));
	}
	assert_true(stats(&f).qi_descriptors > 0);
	assert_true(stats(&f).qi_errors > 0);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_reference),
		cmocka_unit_test(test_beyond_memory_each_level),
		cmocka_unit_test(test_all_ones),
		cmocka_unit_test(test_random_tables),
		cmocka_unit_test(test_mutated_tables),
		cmocka_unit_test(test_random_interrupt_tables),
		cmocka_unit_test(test_random_invalidation_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
