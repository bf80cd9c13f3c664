// SPDX-License-Identifier: MIT
/*
 * Interrupt remapping (VT-d chapter 5, 9.10): remappable-format MSI
 * decode (handle, SHV and subhandle), IRTE fields, xAPIC and x2APIC
 * destinations, source-id verification, the interrupt-remapping fault
 * reasons 20h-26h with their fault records (FI[63:48] = interrupt_index),
 * FPD, and the interrupt entry cache kept until an IEC invalidation.
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

/* IRTE (9.10): lo P 0, FPD 1, DM 2, RH 3, TM 4, DLM 7:5, IM 15, V 23:16,
 * DST 63:32 (xAPIC: APIC id in 47:40); hi SID 15:0, SQ 17:16, SVT 19:18. */
static uint64_t irte_lo(uint8_t vector, uint32_t dst, unsigned dlm, bool dm,
			bool rh, bool tm)
{
	return 1 | (dm ? B(2) : 0) | (rh ? B(3) : 0) | (tm ? B(4) : 0) |
	       ((uint64_t)dlm << 5) | ((uint64_t)vector << 16) | ((uint64_t)dst << 32);
}

static uint64_t irte_hi(uint16_t sid, unsigned sq, unsigned svt)
{
	return sid | ((uint64_t)sq << 16) | ((uint64_t)svt << 18);
}

struct ir {
	struct fx *f;
	uint64_t table;
};

/* IRTA (10.4.30): IRTA 63:12, EIME 11, S 3:0 (2^(S+1) entries). */
static void ir_open(struct fx *f, struct ir *ir, unsigned s, bool eime, uint64_t table)
{
	ir->f = f;
	ir->table = table ? table : f->next;
	if (!table)   /* whole pages, so that later tables stay aligned */
		f->next += ((UINT64_C(16) << (s + 1)) + 4095) & ~UINT64_C(4095);
	wr(f, R_IRTA, 8, ir->table | (eime ? B(11) : 0) | s);
	gcmd(f, G_SIRTP, true);
	assert_true(rd(f, R_GSTS, 4) & B(24));
	gcmd(f, G_IRE, true);
	assert_true(rd(f, R_GSTS, 4) & B(25));
}

static void ir_set(struct ir *ir, unsigned idx, uint64_t lo, uint64_t hi)
{
	w64(ir->f, ir->table + idx * 16, lo);
	w64(ir->f, ir->table + idx * 16 + 8, hi);
}

/* Remappable MSI address (5.1.2.2): 0xFEE 31:20, handle[14:0] 19:5,
 * format 4, SHV 3, handle[15] 2. */
static uint64_t msi_remap(unsigned handle, bool shv)
{
	return 0xfee00000u | ((handle & 0x7fffu) << 5) | B(4) | (shv ? B(3) : 0) |
	       ((handle & 0x8000u) ? B(2) : 0);
}

static int irq(struct fx *f, uint16_t sid, uint64_t addr, uint32_t data,
	       struct iommu_vtd_irq *out)
{
	struct iommu_vtd_msi m = { .source_id = sid, .addr = addr, .data = data };

	return iommu_vtd_interrupt(f->u, &m, out);
}

static void expect_ir_fault(struct fx *f, uint16_t sid, uint64_t addr, uint32_t data,
			    unsigned reason, unsigned index)
{
	struct iommu_vtd_irq i;
	uint64_t lo, hi;

	assert_int_equal(irq(f, sid, addr, data, &i), -EFAULT);
	assert_int_equal(i.fault_reason, reason);
	assert_true(i.fault_recorded);
	frcd(f, 0, &lo, &hi);
	assert_true(hi & B(63));
	assert_int_equal((hi >> 32) & 0xff, reason);
	assert_int_equal(hi & 0xffff, sid);
	assert_false(hi & B(62));                       /* writes */
	assert_int_equal(lo >> 48, index);
	assert_int_equal(lo & 0xffffffffffffull, 0);
	frcd_clear(f, 0);
}

static void test_remap_decode_xapic(void **state)
{
	struct fx f;
	struct ir ir;
	struct iommu_vtd_irq i;

	(void)state;
	fx_open(&f, 0, 0);
	ir_open(&f, &ir, 7, false, 0);
	ir_set(&ir, 5, irte_lo(0x41, 0x0300, 1, true, true, true), 0);
	assert_int_equal(irq(&f, 0x00f8, msi_remap(5, false), 0, &i), 0);
	assert_true(i.remapped);
	assert_int_equal(i.index, 5);
	assert_int_equal(i.vector, 0x41);
	assert_int_equal(i.dest_id, 0x03);                  /* DST[15:8] */
	assert_int_equal(i.delivery_mode, 1);
	assert_true(i.dest_logical);
	assert_true(i.redir_hint);
	assert_true(i.level);
	assert_false(i.iec_hit);
	/* SHV: index = handle + subhandle (data 15:0). */
	ir_set(&ir, 9, irte_lo(0x52, 0x0100, 0, false, false, false), 0);
	assert_int_equal(irq(&f, 0x00f8, msi_remap(5, true), 4, &i), 0);
	assert_int_equal(i.index, 9);
	assert_int_equal(i.vector, 0x52);
	assert_int_equal(i.dest_id, 0x01);
	assert_false(i.dest_logical);
	fx_close(&f);
}

static void test_x2apic_and_high_handle(void **state)
{
	struct fx f;
	struct ir ir;
	struct iommu_vtd_irq i;

	(void)state;
	/* ECAP.EIM set: IRTA.EIME takes; DST is a 32-bit x2APIC id. */
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT | B(4));
	ir_open(&f, &ir, 15, true, 0);
	ir_set(&ir, 0x8001, irte_lo(0x99, 0x12345678, 0, false, false, false), 0);
	assert_int_equal(irq(&f, 0x0100, msi_remap(0x8001, false), 0, &i), 0);
	assert_int_equal(i.index, 0x8001);
	assert_int_equal(i.dest_id, 0x12345678);
	/* Compatibility format is blocked in x2APIC mode. */
	gcmd(&f, G_CFI, true);
	expect_ir_fault(&f, 0x0100, 0xfee00000, 0x30, 0x25, 0);
	fx_close(&f);
}

static void test_faults_20_to_24(void **state)
{
	struct fx f;
	struct ir ir;

	(void)state;
	fx_open(&f, 0, 0);
	ir_open(&f, &ir, 3, false, 0);                 /* 16 entries */
	/* 20h: SHV with data bits 31:16 set. */
	expect_ir_fault(&f, 0x0010, msi_remap(1, true), 0x10000, 0x20, 1);
	/* 21h: index 16 in a 16-entry table. */
	expect_ir_fault(&f, 0x0010, msi_remap(16, false), 0, 0x21, 16);
	expect_ir_fault(&f, 0x0010, msi_remap(10, true), 6, 0x21, 16);
	/* 22h: not present. */
	expect_ir_fault(&f, 0x0010, msi_remap(2, false), 0, 0x22, 2);
	/* 24h: reserved bits, reserved delivery mode, SVT 11b, xAPIC DST
	 * bits outside 47:40, posted (IM) without CAP.PI. */
	ir_set(&ir, 3, irte_lo(0x30, 0x100, 0, false, false, false) | B(12), 0);
	expect_ir_fault(&f, 0x0010, msi_remap(3, false), 0, 0x24, 3);
	ir_set(&ir, 3, irte_lo(0x30, 0x100, 3, false, false, false), 0);
	expect_ir_fault(&f, 0x0010, msi_remap(3, false), 0, 0x24, 3);
	ir_set(&ir, 3, irte_lo(0x30, 0x100, 0, false, false, false), irte_hi(0, 0, 3));
	expect_ir_fault(&f, 0x0010, msi_remap(3, false), 0, 0x24, 3);
	ir_set(&ir, 3, irte_lo(0x30, 0x101, 0, false, false, false), 0);
	expect_ir_fault(&f, 0x0010, msi_remap(3, false), 0, 0x24, 3);
	ir_set(&ir, 3, irte_lo(0x30, 0x100, 0, false, false, false) | B(15), 0);
	expect_ir_fault(&f, 0x0010, msi_remap(3, false), 0, 0x24, 3);
	ir_set(&ir, 3, irte_lo(0x30, 0x100, 0, false, false, false), B(20));
	expect_ir_fault(&f, 0x0010, msi_remap(3, false), 0, 0x24, 3);
	fx_close(&f);
	/* 23h: the table lies beyond memory. */
	fx_open(&f, 0, 0);
	ir_open(&f, &ir, 3, false, UINT64_C(1) << 32);
	expect_ir_fault(&f, 0x0010, msi_remap(0, false), 0, 0x23, 0);
	fx_close(&f);
}

static void test_compat_format(void **state)
{
	struct fx f;
	struct ir ir;
	struct iommu_vtd_irq i;

	(void)state;
	fx_open(&f, 0, 0);
	/* IR off: delivered as is. Compat address: dest 19:12, RH 3, DM 2;
	 * data: vector 7:0, DLM 10:8, TM 15. */
	assert_int_equal(irq(&f, 0x10, 0xfee0500c, 0x8123, &i), 0);
	assert_false(i.remapped);
	assert_int_equal(i.dest_id, 5);
	assert_true(i.dest_logical);
	assert_true(i.redir_hint);
	assert_int_equal(i.vector, 0x23);
	assert_int_equal(i.delivery_mode, 1);
	assert_true(i.level);
	ir_open(&f, &ir, 3, false, 0);
	/* 25h: CFIS clear. */
	expect_ir_fault(&f, 0x0010, 0xfee05000, 0x23, 0x25, 0);
	gcmd(&f, G_CFI, true);
	assert_true(rd(&f, R_GSTS, 4) & B(23));
	assert_int_equal(irq(&f, 0x10, 0xfee05000, 0x23, &i), 0);
	assert_false(i.remapped);
	/* Not an interrupt address at all. */
	assert_int_equal(irq(&f, 0x10, 0xfed00000, 0, &i), -EINVAL);
	assert_int_equal(irq(&f, 0x10, 0x1fee00000ull, 0, &i), -EINVAL);
	fx_close(&f);
}

static void test_source_id_verification(void **state)
{
	struct fx f;
	struct ir ir;
	struct iommu_vtd_irq i;
	uint64_t lo = irte_lo(0x60, 0x200, 0, false, false, false);

	(void)state;
	fx_open(&f, 0, 0);
	ir_open(&f, &ir, 3, false, 0);
	/* SVT 01b, SQ 00b: all 16 bits. */
	ir_set(&ir, 1, lo, irte_hi(0x0312, 0, 1));
	assert_int_equal(irq(&f, 0x0312, msi_remap(1, false), 0, &i), 0);
	expect_ir_fault(&f, 0x0313, msi_remap(1, false), 0, 0x26, 1);
	/* SQ 11b: function bits 2:0 ignored. */
	ir_set(&ir, 1, lo, irte_hi(0x0310, 3, 1));
	/* The cached IRTE needs an IEC invalidation (queued). */
	{
		uint64_t qb = page(&f);

		wr(&f, R_IQA, 8, qb);
		gcmd(&f, G_QIE, true);
		w64(&f, qb, 4);      /* IEC global */
		w64(&f, qb + 8, 0);
		wr(&f, R_IQT, 8, 1 << 4);
	}
	assert_int_equal(irq(&f, 0x0317, msi_remap(1, false), 0, &i), 0);
	expect_ir_fault(&f, 0x0318, msi_remap(1, false), 0, 0x26, 1);
	/* SVT 10b: bus in [SID 15:8, SID 7:0]. */
	ir_set(&ir, 2, lo, irte_hi(0x0406, 0, 2));
	assert_int_equal(irq(&f, 0x0400, msi_remap(2, false), 0, &i), 0);
	assert_int_equal(irq(&f, 0x06ff, msi_remap(2, false), 0, &i), 0);
	expect_ir_fault(&f, 0x0700, msi_remap(2, false), 0, 0x26, 2);
	expect_ir_fault(&f, 0x03ff, msi_remap(2, false), 0, 0x26, 2);
	fx_close(&f);
}

static void test_fpd(void **state)
{
	struct fx f;
	struct ir ir;
	struct iommu_vtd_irq i;

	(void)state;
	fx_open(&f, 0, 0);
	ir_open(&f, &ir, 3, false, 0);
	ir_set(&ir, 1, B(1), 0);                       /* not present, FPD */
	assert_int_equal(irq(&f, 0x10, msi_remap(1, false), 0, &i), -EFAULT);
	assert_int_equal(i.fault_reason, 0x22);
	assert_false(i.fault_recorded);
	ir_set(&ir, 2, irte_lo(1, 0, 0, false, false, false) | B(1), irte_hi(1, 0, 1));
	assert_int_equal(irq(&f, 0x10, msi_remap(2, false), 0, &i), -EFAULT);
	assert_int_equal(i.fault_reason, 0x26);
	assert_false(i.fault_recorded);
	assert_int_equal(rd(&f, R_FSTS, 4) & 3, 0);
	fx_close(&f);
}

static void test_iec_stale_until_invalidated(void **state)
{
	struct fx f;
	struct ir ir;
	struct iommu_vtd_irq i;
	uint64_t qb;

	(void)state;
	fx_open(&f, 0, 0);
	ir_open(&f, &ir, 7, false, 0);
	qb = page(&f);
	wr(&f, R_IQA, 8, qb);
	gcmd(&f, G_QIE, true);
	ir_set(&ir, 40, irte_lo(0x20, 0x100, 0, false, false, false), 0);
	ir_set(&ir, 41, irte_lo(0x21, 0x100, 0, false, false, false), 0);
	assert_int_equal(irq(&f, 0x10, msi_remap(40, false), 0, &i), 0);
	assert_int_equal(irq(&f, 0x10, msi_remap(41, false), 0, &i), 0);
	assert_int_equal(iommu_vtd_iec_count(f.u), 2);
	/* Change both IRTEs: the cached ones keep answering. */
	ir_set(&ir, 40, irte_lo(0x30, 0x100, 0, false, false, false), 0);
	ir_set(&ir, 41, 0, 0);
	assert_int_equal(irq(&f, 0x10, msi_remap(40, false), 0, &i), 0);
	assert_true(i.iec_hit);
	assert_int_equal(i.vector, 0x20);
	/* Index-selective IEC for 40 (IM 0): 41 stays stale. */
	w64(&f, qb, 4 | B(4) | ((uint64_t)40 << 32));
	w64(&f, qb + 8, 0);
	wr(&f, R_IQT, 8, 1 << 4);
	assert_int_equal(irq(&f, 0x10, msi_remap(40, false), 0, &i), 0);
	assert_false(i.iec_hit);
	assert_int_equal(i.vector, 0x30);
	assert_int_equal(irq(&f, 0x10, msi_remap(41, false), 0, &i), 0);
	assert_int_equal(i.vector, 0x21);
	/* IM 1 around 40: 40 and 41 go. */
	w64(&f, qb + 16, 4 | B(4) | (UINT64_C(1) << 27) | ((uint64_t)40 << 32));
	w64(&f, qb + 24, 0);
	wr(&f, R_IQT, 8, 2 << 4);
	assert_int_equal(iommu_vtd_iec_count(f.u), 0);
	assert_int_equal(irq(&f, 0x10, msi_remap(41, false), 0, &i), -EFAULT);
	assert_int_equal(i.fault_reason, 0x22);
	fx_close(&f);
}


/*
 * A hit in the interrupt entry cache answers exactly what the fill did
 * (5.1.4: the cached IRTE is the one checked), whatever the fields; the
 * source-id check still runs on every request (9.10 SVT 01b with SQ,
 * 10b bus range), a rejected requester leaving the entry cached.  The
 * model reads a cached IRTE in the mode of the IRTA latched last (EIME);
 * software invalidates the IEC after SIRTP anyway (10.4.4).
 */
static void test_iec_hit_answers_as_fill(void **state)
{
	static const struct { uint16_t good, bad; } e[] = {
		{ 0x0010, 0 },                     /* SVT 00b */
		{ 0x0220, 0x0221 },                /* SVT 01b, SQ 0: exact */
		{ 0x0225, 0x0229 },                /* SVT 01b, SQ 3: 15:3 */
		{ 0x0500, 0x0700 },                /* SVT 10b: buses 4..6 */
	};
	struct iommu_vtd_irq a, b;
	struct fx f;
	struct ir ir;
	uint64_t lo[4], hi[4];

	(void)state;
	lo[0] = irte_lo(0x31, 0x0100, 0, false, false, false);
	hi[0] = irte_hi(0, 0, 0);
	lo[1] = irte_lo(0x42, 0x0a00, 1, true, true, false);
	hi[1] = irte_hi(0x0220, 0, 1);
	lo[2] = irte_lo(0x53, 0xff00, 4, false, true, true);
	hi[2] = irte_hi(0x0220, 3, 1);
	lo[3] = irte_lo(0x64, 0x0200, 7, true, false, true);
	hi[3] = irte_hi(0x0406, 0, 2);
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT | B(4));
	ir_open(&f, &ir, 7, false, 0);
	for (unsigned k = 0; k < 4; k++) {
		unsigned idx = 3 + 17 * k;

		ir_set(&ir, idx, lo[k], hi[k]);
		assert_int_equal(irq(&f, e[k].good, msi_remap(idx, false), 0, &a), 0);
		assert_false(a.iec_hit);
		assert_int_equal(irq(&f, e[k].good, msi_remap(idx, false), 0, &b), 0);
		assert_true(b.iec_hit);
		b.iec_hit = false;
		assert_memory_equal(&a, &b, sizeof(a));
		assert_int_equal(a.index, idx);
		assert_int_equal(a.vector, (lo[k] >> 16) & 0xff);
		assert_int_equal(a.dest_id, (lo[k] >> 40) & 0xff);   /* xAPIC */
		assert_int_equal(a.delivery_mode, (lo[k] >> 5) & 7);
		if (e[k].bad) {
			expect_ir_fault(&f, e[k].bad, msi_remap(idx, false), 0, 0x26, idx);
			assert_int_equal(irq(&f, e[k].good, msi_remap(idx, false), 0, &b), 0);
			assert_true(b.iec_hit);
		}
	}
	/* x2APIC mode latched (EIME): the cached entries give DST[31:0]. */
	wr(&f, R_IRTA, 8, ir.table | B(11) | 7);
	gcmd(&f, G_SIRTP, true);
	assert_int_equal(irq(&f, 0x0010, msi_remap(3, false), 0, &b), 0);
	assert_true(b.iec_hit);
	assert_int_equal(b.dest_id, 0x0100);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remap_decode_xapic),
		cmocka_unit_test(test_x2apic_and_high_handle),
		cmocka_unit_test(test_faults_20_to_24),
		cmocka_unit_test(test_compat_format),
		cmocka_unit_test(test_source_id_verification),
		cmocka_unit_test(test_fpd),
		cmocka_unit_test(test_iec_stale_until_invalidated),
		cmocka_unit_test(test_iec_hit_answers_as_fill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
