// SPDX-License-Identifier: MIT
/*
 * Legacy-mode translation (VT-d 3.4-3.7) on hand-built tables: 3-, 4- and
 * 5-level second-level tables, 2 MiB and 1 GiB leaves, permissions
 * combined across levels, pass-through (TT 10b), translation disabled,
 * request validation, device DMA through the unit, and the number of
 * table reads a walk costs.
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

static void test_three_level_4k(void **state)
{
	struct fx f;
	uint64_t top;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0008, 5, 1);
	map(&f, top, 3, 0x12345000, 0xabcd000, 1, 3);
	assert_int_equal(xlate(&f, 0x0008, 0x12345678, true, &r), 0);
	assert_int_equal(r.host_addr, 0xabcd678);
	assert_int_equal(r.page_size, 4096);
	assert_true(r.read);
	assert_true(r.write);
	assert_false(r.passthrough);
	assert_false(r.iotlb_hit);
	assert_int_equal(r.domain_id, 5);
	/* Root + context + 3 levels. */
	assert_int_equal(stats(&f).walk_reads, 5);
	assert_int_equal(stats(&f).walks, 1);
	/* Neighbouring page unmapped. */
	expect_fault(&f, 0x0008, 0x12346000, false, 0x06);
	fx_close(&f);
}

static void test_four_and_five_levels(void **state)
{
	struct fx f;
	uint64_t top;
	uint64_t iova48 = UINT64_C(0xfedcba987000);
	uint64_t iova57 = UINT64_C(0x1fedcba98765000);

	(void)state;
	fx_open(&f, cap_aw(CAP_DEFAULT, 0x4, 48), ECAP_DEFAULT);
	fx_enable(&f);
	top = setup_dev(&f, 0x0100, 1, 2);
	map(&f, top, 4, iova48, 0x3000000, 1, 3);
	expect_ok(&f, 0x0100, iova48 + 0x10, false, 0x3000010);
	assert_int_equal(stats(&f).walk_reads, 6);
	/* A 3-level context on a 4-level-only unit. */
	set_ctx(&f, 0x0101, ctx_lo(page(&f), 0, false), ctx_hi(1, 2));
	expect_fault(&f, 0x0101, 0x1000, false, 0x03);
	fx_close(&f);

	fx_open(&f, cap_aw(CAP_DEFAULT, 0xe, 57), ECAP_DEFAULT);
	fx_enable(&f);
	top = setup_dev(&f, 0x0100, 1, 3);
	map(&f, top, 5, iova57, 0x5000000, 1, 1);
	expect_ok(&f, 0x0100, iova57 + 0xff8, false, 0x5000ff8);
	expect_fault(&f, 0x0100, iova57, true, 0x05);
	expect_fault(&f, 0x0100, UINT64_C(1) << 57, false, 0x04);
	/* The same unit still walks 3- and 4-level contexts. */
	top = setup_dev(&f, 0x0200, 2, 1);
	map(&f, top, 3, 0x5000, 0x6000, 1, 3);
	expect_ok(&f, 0x0200, 0x5000, true, 0x6000);
	top = setup_dev(&f, 0x0201, 3, 2);
	map(&f, top, 4, iova48, 0x7000, 1, 3);
	expect_ok(&f, 0x0201, iova48, true, 0x7000);
	fx_close(&f);
}

static void test_superpages(void **state)
{
	struct fx f;
	uint64_t top;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 1, 1);
	map(&f, top, 3, 0x40000000, 0x80000000, 2, 3);           /* 2 MiB */
	map(&f, top, 3, 0x4000000000ull, 0xc0000000, 3, 1);      /* 1 GiB */
	assert_int_equal(xlate(&f, 0x0010, 0x401fffff & ~3u, false, &r), 0);
	assert_int_equal(r.host_addr, 0x801ffffc);
	assert_int_equal(r.page_size, 2u << 20);
	assert_int_equal(xlate(&f, 0x0010, 0x4000000000ull + 0x3ffff000, false, &r), 0);
	assert_int_equal(r.host_addr, 0xfffff000);
	assert_int_equal(r.page_size, 1u << 30);
	assert_true(r.read);
	assert_false(r.write);
	fx_close(&f);
}

static void test_permissions_and_across_levels(void **state)
{
	struct fx f;
	uint64_t top, pde;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 1, 1);
	map(&f, top, 3, 0x200000, 0x900000, 1, 3);
	/* Make the level-2 entry read-only: the RW leaf becomes read-only. */
	pde = r64(&f, top) & ~UINT64_C(0xfff);
	pde += ((0x200000 >> 21) & 511) * 8;
	w64(&f, pde, (r64(&f, pde) & ~UINT64_C(3)) | 1);
	assert_int_equal(xlate(&f, 0x0010, 0x200000, false, &r), 0);
	assert_true(r.read);
	assert_false(r.write);
	expect_fault(&f, 0x0010, 0x200004, true, 0x05);
	fx_close(&f);
}

static void test_passthrough_and_disabled(void **state)
{
	struct fx f;
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	/* TE clear: everything passes untranslated, no table is read. */
	assert_int_equal(xlate(&f, 0x1234, 0xdead0000, true, &r), 0);
	assert_true(r.passthrough);
	assert_int_equal(r.host_addr, 0xdead0000);
	assert_int_equal(stats(&f).walk_reads, 0);
	fx_enable(&f);
	set_ctx(&f, 0x0020, ctx_lo(0, 2, false), ctx_hi(1, 9));
	assert_int_equal(xlate(&f, 0x0020, 0x123456789ull, true, &r), 0);
	assert_true(r.passthrough);
	assert_int_equal(r.host_addr, 0x123456789ull);
	assert_int_equal(r.domain_id, 9);
	fx_close(&f);
	/* Without ECAP.PT, TT 10b is invalid programming. */
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT & ~B(6));
	fx_enable(&f);
	set_ctx(&f, 0x0020, ctx_lo(0, 2, false), ctx_hi(1, 9));
	expect_fault(&f, 0x0020, 0x1000, false, 0x03);
	fx_close(&f);
}

static void test_request_validation(void **state)
{
	struct fx f;
	struct iommu_vtd_result r;
	struct iommu_vtd_request q = { 0x10, 0x1000, 0, false, 0 };

	(void)state;
	fx_open(&f, 0, 0);
	assert_int_equal(iommu_vtd_translate(f.u, &q, &r), -EINVAL);
	q.size = 4097;
	assert_int_equal(iommu_vtd_translate(f.u, &q, &r), -EINVAL);
	q.size = 4096;
	assert_int_equal(iommu_vtd_translate(f.u, &q, &r), 0);
	q.addr = 0x1001;
	assert_int_equal(iommu_vtd_translate(f.u, &q, &r), -EINVAL);
	q.addr = 0x1000;
	q.at = 3;
	assert_int_equal(iommu_vtd_translate(f.u, &q, &r), -EINVAL);
	assert_int_equal(iommu_vtd_translate(NULL, &q, &r), -EINVAL);
	assert_int_equal(stats(&f).translations, 1);
	fx_close(&f);
}

static void test_dma_through_unit(void **state)
{
	struct fx f;
	uint64_t top;
	char out[5000], in[5000];
	struct iommu_vtd_result r;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0300, 1, 1);
	/* Two IOVA pages to two far-apart host pages. */
	map(&f, top, 3, 0x10000, 0x2000000, 1, 3);
	map(&f, top, 3, 0x11000, 0x1000000, 1, 3);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 13);
	assert_int_equal(iommu_vtd_dma_write(f.u, 0x0300, 0x10100, in, 5000, &r), 0);
	assert_int_equal(iommu_mem_read(f.mem, 0x2000100, out, 3840), 0);
	assert_memory_equal(out, in, 3840);
	assert_int_equal(iommu_mem_read(f.mem, 0x1000000, out, 1160), 0);
	assert_memory_equal(out, in + 3840, 1160);
	memset(out, 0, sizeof(out));
	assert_int_equal(iommu_vtd_dma_read(f.u, 0x0300, 0x10100, out, 5000, &r), 0);
	assert_memory_equal(out, in, 5000);
	/* Running into an unmapped page faults there. */
	assert_int_equal(iommu_vtd_dma_read(f.u, 0x0300, 0x11f00, out, 512, &r), -EFAULT);
	assert_int_equal(r.fault_reason, 0x06);
	fx_close(&f);
}

static void test_rtaddr_latched_by_srtp(void **state)
{
	struct fx f;
	uint64_t top, other;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	top = setup_dev(&f, 0x0010, 1, 1);
	map(&f, top, 3, 0x1000, 0x5000, 1, 3);
	expect_ok(&f, 0x0010, 0x1000, false, 0x5000);
	/* A new RTADDR has no effect until SRTP (and a context flush). */
	other = page(&f);
	wr(&f, R_RTADDR, 8, other);
	assert_int_equal(rd(&f, R_RTADDR, 8), other);
	wr(&f, R_CCMD, 8, B(63) | (UINT64_C(1) << 61));  /* global cc flush */
	expect_ok(&f, 0x0010, 0x1000, false, 0x5000);
	gcmd(&f, G_SRTP, true);
	wr(&f, R_CCMD, 8, B(63) | (UINT64_C(1) << 61));
	expect_fault(&f, 0x0010, 0x1000, false, 0x01);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_level_4k),
		cmocka_unit_test(test_four_and_five_levels),
		cmocka_unit_test(test_superpages),
		cmocka_unit_test(test_permissions_and_across_levels),
		cmocka_unit_test(test_passthrough_and_disabled),
		cmocka_unit_test(test_request_validation),
		cmocka_unit_test(test_dma_through_unit),
		cmocka_unit_test(test_rtaddr_latched_by_srtp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
