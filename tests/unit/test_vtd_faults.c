// SPDX-License-Identifier: MIT
/*
 * One test per DMA-remapping fault reason the model raises (VT-d 7.1.3,
 * appendix "Non-Recoverable Fault Reason Encodings"), each on tables built
 * by hand, each checking the fault recording register: F, FR, SID, FI, T
 * and AT; then the fault status and event logic (7.3.1, 7.3.3): FRI,
 * PPF, overflow (PFO), FPD, the interrupt's mask and pending bits.
 * Interrupt-remapping reasons (20h-26h) are in test_vtd_ir.c.
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

#define SID 0x0310      /* 03:02.0 */

/* Fault @reason for a request, then FRCD0 holds it with these fields. */
static void check_fault(struct fx *f, uint16_t sid, uint64_t addr, bool write,
			unsigned reason)
{
	uint64_t lo, hi;

	expect_fault(f, sid, addr, write, reason);
	frcd(f, 0, &lo, &hi);
	assert_true(hi & B(63));                                   /* F */
	assert_int_equal((hi >> 32) & 0xff, reason);               /* FR */
	assert_int_equal(hi & 0xffff, sid);                        /* SID */
	assert_int_equal(!!(hi & B(62)), !write);                  /* T: 1 read */
	assert_int_equal((hi >> 60) & 3, 0);                       /* AT */
	assert_int_equal(lo, addr & ~UINT64_C(0xfff));             /* FI */
	assert_true(rd(f, R_FSTS, 4) & B(1));                      /* PPF */
	assert_string_not_equal(iommu_vtd_fault_reason_desc(reason), "");
}

static void test_01_root_not_present(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	check_fault(&f, SID, 0x1234000, false, 0x01);
	fx_close(&f);
}

static void test_02_context_not_present(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	ctx_table(&f, 3);         /* root present, context table all zero */
	fx_enable(&f);
	check_fault(&f, SID, 0x5000, true, 0x02);
	fx_close(&f);
}

static void test_03_context_invalid(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = page(&f);
	/* AW 010b (48-bit) is not in SAGAW 00010b. */
	set_ctx(&f, SID, ctx_lo(top, 0, false), ctx_hi(2, 1));
	check_fault(&f, SID, 0x1000, false, 0x03);
	frcd_clear(&f, 0);
	/* TT 11b is reserved. */
	set_ctx(&f, SID + 1, ctx_lo(top, 3, false), ctx_hi(1, 1));
	expect_fault(&f, SID + 1, 0x1000, false, 0x03);
	/* TT 01b needs ECAP.DT, which the default unit lacks. */
	set_ctx(&f, SID + 2, ctx_lo(top, 1, false), ctx_hi(1, 1));
	expect_fault(&f, SID + 2, 0x1000, false, 0x03);
	/* SLPTPTR beyond memory (64 MiB): error reading the top table. */
	set_ctx(&f, SID + 3, ctx_lo(UINT64_C(1) << 32, 0, false), ctx_hi(1, 1));
	expect_fault(&f, SID + 3, 0x1000, false, 0x03);
	fx_close(&f);
}

static void test_04_address_beyond_aw(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 1);
	map(&f, top, 3, 0x7ffffff000ull, 0x200000, 1, 3);
	expect_ok(&f, SID, 0x7ffffff000ull, false, 0x200000);
	check_fault(&f, SID, UINT64_C(1) << 39, false, 0x04);
	/* A request crossing a page is malformed, not a fault. */
	{
		struct iommu_vtd_request q = { SID, 0x7ffffffffcull, 8, false, 0 };
		struct iommu_vtd_result r;

		assert_int_equal(iommu_vtd_translate(f.u, &q, &r), -EINVAL);
		q.size = 4;
		assert_int_equal(iommu_vtd_translate(f.u, &q, &r), 0);
		assert_int_equal(r.host_addr, 0x200ffc);
	}
	fx_close(&f);
}

static void test_04_mgaw_below_agaw(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	/* SAGAW 39 and 48 bits, MGAW 40: a 4-level context still stops at 2^40. */
	fx_open(&f, cap_aw(CAP_DEFAULT, 0x6, 40), ECAP_DEFAULT);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 2);
	map(&f, top, 4, UINT64_C(0xfffffff000), 0x3000, 1, 3);
	expect_ok(&f, SID, UINT64_C(0xfffffff000), false, 0x3000);
	expect_fault(&f, SID, UINT64_C(1) << 40, false, 0x04);
	fx_close(&f);
}

static void test_05_06_permissions(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 1);
	map(&f, top, 3, 0x10000, 0x400000, 1, 1);    /* read-only */
	map(&f, top, 3, 0x11000, 0x401000, 1, 2);    /* write-only */
	expect_ok(&f, SID, 0x10000, false, 0x400000);
	check_fault(&f, SID, 0x10008, true, 0x05);
	frcd_clear(&f, 0);
	expect_ok(&f, SID, 0x11000, true, 0x401000);
	check_fault(&f, SID, 0x11010, false, 0x06);
	frcd_clear(&f, 0);
	/* Not present (R = W = 0): the reason follows the request type. */
	check_fault(&f, SID, 0x12000, false, 0x06);
	frcd_clear(&f, 0);
	check_fault(&f, SID, 0x12000, true, 0x05);
	fx_close(&f);
}

static void test_07_sl_table_access(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 1);
	/* The top-level entry points beyond the 64 MiB of memory. */
	w64(&f, top, (UINT64_C(1) << 30) | 3);
	check_fault(&f, SID, 0x1000, false, 0x07);
	fx_close(&f);
}

static void test_08_root_table_access(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	f.rta = UINT64_C(1) << 32;       /* beyond memory, inside HAW */
	fx_enable(&f);
	check_fault(&f, SID, 0x1000, false, 0x08);
	fx_close(&f);
}

static void test_09_context_table_access(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	w64(&f, f.rta + 3 * 16, (UINT64_C(1) << 33) | 1);
	check_fault(&f, SID, 0x1000, false, 0x09);
	fx_close(&f);
}

static void test_0a_root_reserved(void **state)
{
	struct fx f;
	uint64_t ctp;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	ctp = ctx_table(&f, 3);
	w64(&f, f.rta + 3 * 16, ctp | 1 | B(1));          /* bit 1 */
	check_fault(&f, SID, 0x1000, false, 0x0a);
	frcd_clear(&f, 0);
	w64(&f, f.rta + 3 * 16, ctp | 1);
	w64(&f, f.rta + 3 * 16 + 8, 1);                    /* bit 64 */
	expect_fault(&f, SID, 0x1000, false, 0x0a);
	w64(&f, f.rta + 3 * 16 + 8, 0);
	w64(&f, f.rta + 3 * 16, ctp | 1 | B(39));          /* above HAW 39 */
	expect_fault(&f, SID, 0x1000, false, 0x0a);
	fx_close(&f);
}

static void test_0b_context_reserved(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = page(&f);
	set_ctx(&f, SID, ctx_lo(top, 0, false) | B(4), ctx_hi(1, 1));
	check_fault(&f, SID, 0x1000, false, 0x0b);
	set_ctx(&f, SID + 1, ctx_lo(top, 0, false), ctx_hi(1, 1) | B(7));
	expect_fault(&f, SID + 1, 0x1000, false, 0x0b);
	set_ctx(&f, SID + 2, ctx_lo(top, 0, false), ctx_hi(1, 1) | B(24));
	expect_fault(&f, SID + 2, 0x1000, false, 0x0b);
	set_ctx(&f, SID + 3, ctx_lo(top | B(45), 0, false), ctx_hi(1, 1));
	expect_fault(&f, SID + 3, 0x1000, false, 0x0b);
	fx_close(&f);
}

static void test_0b_did_beyond_nd(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	/* ND 0: 4-bit domain ids; DID 16 sets a reserved bit. */
	fx_open(&f, CAP_DEFAULT & ~UINT64_C(7), ECAP_DEFAULT);
	fx_enable(&f);
	top = page(&f);
	set_ctx(&f, SID, ctx_lo(top, 0, false), ctx_hi(1, 15));
	map(&f, top, 3, 0, 0x5000, 1, 3);
	expect_ok(&f, SID, 0, false, 0x5000);
	set_ctx(&f, SID + 1, ctx_lo(top, 0, false), ctx_hi(1, 16));
	expect_fault(&f, SID + 1, 0, false, 0x0b);
	fx_close(&f);
}

static void test_0c_sl_reserved(void **state)
{
	struct fx f;
	uint64_t top, leaf;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 1);
	leaf = map(&f, top, 3, 0x40000, 0x800000, 1, 3);
	w64(&f, leaf, 0x800000 | 3 | B(11));        /* SNP without ECAP.SC */
	check_fault(&f, SID, 0x40000, false, 0x0c);
	w64(&f, leaf, 0x800000 | 3 | B(62));        /* TM without ECAP.DT */
	expect_fault(&f, SID, 0x40000, false, 0x0c);
	w64(&f, leaf, 0x800000 | 3 | B(40));        /* address above HAW */
	expect_fault(&f, SID, 0x40000, false, 0x0c);
	/* A 2 MiB leaf with address bits 20:12 set. */
	map(&f, top, 3, 0x40000000, 0x1001000, 2, 3);
	expect_fault(&f, SID, 0x40000000, false, 0x0c);
	map(&f, top, 3, 0x40000000, 0x1100000, 2, 3);      /* bit 20 */
	expect_fault(&f, SID, 0x40000000, false, 0x0c);
	map(&f, top, 3, 0x40000000, 0x1200000, 2, 3);      /* 2 MiB aligned */
	expect_ok(&f, SID, 0x40000000, false, 0x1200000);
	/* A 1 GiB leaf with bit 29 set. */
	map(&f, top, 3, 0x4000000000ull, 0x60000000, 3, 3);
	expect_fault(&f, SID, 0x4000000000ull, false, 0x0c);
	/* Reserved bits only count when R or W is set. */
	w64(&f, leaf, 0x800000 | B(11));
	expect_fault(&f, SID, 0x40000, false, 0x06);
	fx_close(&f);
}

static void test_0c_ps_where_not_allowed(void **state)
{
	struct fx f;
	uint64_t top;

	(void)state;
	/* No 1 GiB pages (SLLPS = 01b): PS in a PDPE is reserved. */
	fx_open(&f, CAP_DEFAULT & ~(UINT64_C(2) << 34), ECAP_DEFAULT);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 1);
	map(&f, top, 3, 0x80000000, 0x40000000, 3, 3);
	expect_fault(&f, SID, 0x80000000, false, 0x0c);
	fx_close(&f);
	/* 4-level table: PS in a PML4E is always reserved. */
	fx_open(&f, cap_aw(CAP_DEFAULT, 0x4, 48), ECAP_DEFAULT);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 2);
	w64(&f, top, 0 | 3 | B(7));
	expect_fault(&f, SID, 0x1000, false, 0x0c);
	fx_close(&f);
}

static void test_0d_tt_blocked(void **state)
{
	struct fx f;
	uint64_t top, lo, hi;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, SID, 1, 1);
	map(&f, top, 3, 0x1000, 0x9000, 1, 3);
	/* A translated request (AT 10b) under TT 00b. */
	assert_int_equal(xlate_at(&f, SID, 0x1000, true, 2, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x0d);
	frcd(&f, 0, &lo, &hi);
	assert_int_equal((hi >> 32) & 0xff, 0x0d);
	assert_int_equal((hi >> 60) & 3, 2);
	assert_false(hi & B(62));
	frcd_clear(&f, 0);
	/* A translation request (AT 01b) likewise. */
	assert_int_equal(xlate_at(&f, SID, 0x1000, false, 1, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x0d);
	fx_close(&f);
	/* With ECAP.DT and TT 01b: translation requests translate and
	 * translated requests pass. */
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT | B(2));
	fx_enable(&f);
	top = page(&f);
	set_ctx(&f, SID, ctx_lo(top, 1, false), ctx_hi(1, 1));
	map(&f, top, 3, 0x1000, 0x9000, 1, 3);
	assert_int_equal(xlate_at(&f, SID, 0x1000, false, 1, &r), 0);
	assert_int_equal(r.host_addr, 0x9000);
	assert_int_equal(xlate_at(&f, SID, 0x77000, false, 2, &r), 0);
	assert_int_equal(r.host_addr, 0x77000);
	fx_close(&f);
}

static void test_every_reason_described(void **state)
{
	static const unsigned codes[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb,
					  0xc, 0xd, 0x20, 0x21, 0x22, 0x23,
					  0x24, 0x25, 0x26 };

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_non_null(iommu_vtd_fault_reason_desc(codes[i]));
		assert_non_null(iommu_vtd_fault_reason_name(codes[i]));
	}
	assert_null(iommu_vtd_fault_reason_desc(0));
	assert_null(iommu_vtd_fault_reason_desc(0x0e));
	assert_null(iommu_vtd_fault_reason_desc(0x27));
	assert_string_equal(iommu_vtd_fault_reason_name(1), "root-not-present");
}

static void test_overflow_single_register(void **state)
{
	struct fx f;
	uint64_t lo, hi;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	expect_fault(&f, 0x0100, 0x1000, false, 0x01);
	/* The only register is full: the next fault sets PFO, is lost. */
	expect_fault(&f, 0x0200, 0x2000, true, 0x01);
	assert_int_equal(rd(&f, R_FSTS, 4) & 3, 3);          /* PPF | PFO */
	frcd(&f, 0, &lo, &hi);
	assert_int_equal(hi & 0xffff, 0x0100);
	assert_int_equal(lo, 0x1000);
	assert_int_equal(stats(&f).faults_overflowed, 1);
	/* Clearing F alone: PFO still blocks recording. */
	frcd_clear(&f, 0);
	assert_int_equal(rd(&f, R_FSTS, 4) & 3, 1);
	expect_fault(&f, 0x0300, 0x3000, false, 0x01);
	frcd(&f, 0, &lo, &hi);
	assert_false(hi & B(63));
	/* PFO is RW1C; afterwards faults are recorded again. */
	wr(&f, R_FSTS, 4, 1);
	assert_int_equal(rd(&f, R_FSTS, 4) & 3, 0);
	expect_fault(&f, 0x0400, 0x4000, false, 0x01);
	frcd(&f, 0, &lo, &hi);
	assert_true(hi & B(63));
	assert_int_equal(hi & 0xffff, 0x0400);
	fx_close(&f);
}

static void test_fri_wraps_over_four_registers(void **state)
{
	struct fx f;
	uint64_t lo, hi;

	(void)state;
	fx_open(&f, cap_nfr(CAP_DEFAULT, 4), ECAP_DEFAULT);
	fx_enable(&f);
	for (unsigned i = 0; i < 4; i++) {
		expect_fault(&f, (uint16_t)(0x100 * (i + 1)), 0x1000 * (i + 1), false, 1);
		assert_int_equal((rd(&f, R_FSTS, 4) >> 8) & 0xff, (i + 1) % 4);
	}
	for (unsigned i = 0; i < 4; i++) {
		frcd(&f, i, &lo, &hi);
		assert_int_equal(hi & 0xffff, 0x100 * (i + 1));
	}
	/* Full: overflow. */
	expect_fault(&f, 0x500, 0x5000, false, 1);
	assert_true(rd(&f, R_FSTS, 4) & 1);
	/* Software frees register 0 (where FRI points) and PFO. */
	frcd_clear(&f, 0);
	wr(&f, R_FSTS, 4, 1);
	expect_fault(&f, 0x600, 0x6000, true, 1);
	frcd(&f, 0, &lo, &hi);
	assert_int_equal(hi & 0xffff, 0x600);
	assert_false(hi & B(62));
	assert_int_equal((rd(&f, R_FSTS, 4) >> 8) & 0xff, 1);
	/* FRI at a register still full: overflow although 0 was free. */
	expect_fault(&f, 0x700, 0x7000, false, 1);
	assert_true(rd(&f, R_FSTS, 4) & 1);
	fx_close(&f);
}

static void test_fault_event_mask_and_pending(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	wr(&f, R_FEDATA, 4, 0x4021);
	wr(&f, R_FEADDR, 4, 0xfee01000);
	wr(&f, R_FEUADDR, 4, 0);
	/* Reset: IM set.  A fault sets IP, sends nothing. */
	assert_int_equal(rd(&f, R_FECTL, 4), B(31));
	expect_fault(&f, SID, 0x1000, false, 1);
	assert_int_equal(f.events, 0);
	assert_int_equal(rd(&f, R_FECTL, 4), B(31) | B(30));
	/* Unmasking sends it and clears IP. */
	wr(&f, R_FECTL, 4, 0);
	assert_int_equal(f.events, 1);
	assert_int_equal(f.ev_kind, IOMMU_VTD_EVENT_FAULT);
	assert_int_equal(f.ev_addr, 0xfee01000);
	assert_int_equal(f.ev_data, 0x4021);
	assert_int_equal(rd(&f, R_FECTL, 4), 0);
	/* PPF already set: a further fault (overflow here) is no new
	 * primary-fault event, but PFO is a new condition. */
	expect_fault(&f, SID, 0x2000, false, 1);
	assert_int_equal(f.events, 2);
	/* Serviced: next fault sends at once (unmasked). */
	frcd_clear(&f, 0);
	wr(&f, R_FSTS, 4, 1);
	expect_fault(&f, SID, 0x3000, false, 1);
	assert_int_equal(f.events, 3);
	/* Masked again, fault pending, then serviced: IP drops without a
	 * message. */
	frcd_clear(&f, 0);
	wr(&f, R_FECTL, 4, B(31));
	expect_fault(&f, SID, 0x4000, false, 1);
	assert_true(rd(&f, R_FECTL, 4) & B(30));
	frcd_clear(&f, 0);
	assert_false(rd(&f, R_FECTL, 4) & B(30));
	wr(&f, R_FECTL, 4, 0);
	assert_int_equal(f.events, 3);
	fx_close(&f);
}

static void test_one_event_while_ppf_set(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, cap_nfr(CAP_DEFAULT, 4), ECAP_DEFAULT);
	fx_enable(&f);
	wr(&f, R_FECTL, 4, 0);
	expect_fault(&f, SID, 0x1000, false, 1);
	expect_fault(&f, SID, 0x2000, false, 1);
	expect_fault(&f, SID, 0x3000, false, 1);
	assert_int_equal(f.events, 1);         /* PPF stayed set */
	for (unsigned i = 0; i < 3; i++)
		frcd_clear(&f, i);
	assert_false(rd(&f, R_FSTS, 4) & B(1));
	expect_fault(&f, SID, 0x4000, false, 1);
	assert_int_equal(f.events, 2);
	fx_close(&f);
}

static void test_fpd_suppresses_qualified_faults(void **state)
{
	struct fx f;
	uint64_t top;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = page(&f);
	set_ctx(&f, SID, ctx_lo(top, 0, true), ctx_hi(1, 1));
	assert_int_equal(xlate(&f, SID, 0x1000, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x06);
	assert_false(r.fault_recorded);
	assert_int_equal(rd(&f, R_FSTS, 4) & 3, 0);
	assert_int_equal(xlate(&f, SID, UINT64_C(1) << 39, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x04);
	assert_false(r.fault_recorded);
	/* SLPTPTR beyond memory (3h) is not a qualified fault either. */
	set_ctx(&f, SID + 2, ctx_lo(UINT64_C(1) << 30, 0, true), ctx_hi(1, 1));
	assert_int_equal(xlate(&f, SID + 2, 0x1000, false, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x03);
	assert_true(r.fault_recorded);
	frcd_clear(&f, 0);
	/* A malformed entry with FPD is still reported (not qualified). */
	set_ctx(&f, SID + 1, ctx_lo(top, 3, true), ctx_hi(1, 1));
	assert_int_equal(xlate(&f, SID + 1, 0x1000, false, &r), -EFAULT);
	assert_true(r.fault_recorded);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_01_root_not_present),
		cmocka_unit_test(test_02_context_not_present),
		cmocka_unit_test(test_03_context_invalid),
		cmocka_unit_test(test_04_address_beyond_aw),
		cmocka_unit_test(test_04_mgaw_below_agaw),
		cmocka_unit_test(test_05_06_permissions),
		cmocka_unit_test(test_07_sl_table_access),
		cmocka_unit_test(test_08_root_table_access),
		cmocka_unit_test(test_09_context_table_access),
		cmocka_unit_test(test_0a_root_reserved),
		cmocka_unit_test(test_0b_context_reserved),
		cmocka_unit_test(test_0b_did_beyond_nd),
		cmocka_unit_test(test_0c_sl_reserved),
		cmocka_unit_test(test_0c_ps_where_not_allowed),
		cmocka_unit_test(test_0d_tt_blocked),
		cmocka_unit_test(test_every_reason_described),
		cmocka_unit_test(test_overflow_single_register),
		cmocka_unit_test(test_fri_wraps_over_four_registers),
		cmocka_unit_test(test_fault_event_mask_and_pending),
		cmocka_unit_test(test_one_event_while_ppf_set),
		cmocka_unit_test(test_fpd_suppresses_qualified_faults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
