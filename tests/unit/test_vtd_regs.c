// SPDX-License-Identifier: MIT
/*
 * The register file (VT-d chapter 10): reset values, access rules (size,
 * alignment, window, reserved registers read 0), read-only registers,
 * 32-bit halves of 64-bit registers, the GCMD/GSTS handshakes, the
 * register-based invalidation commands' completion fields, and the
 * configuration checks on CAP/ECAP (defaults from the captures'
 * iommu_class/dmar0/intel-iommu/{cap,ecap}).
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

static void test_reset_values(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	assert_int_equal(rd(&f, R_VER, 4), 0x10);
	assert_int_equal(rd(&f, R_CAP, 8), CAP_DEFAULT);
	assert_int_equal(rd(&f, R_ECAP, 8), ECAP_DEFAULT);
	assert_int_equal(rd(&f, R_CAP + 4, 4), CAP_DEFAULT >> 32);
	assert_int_equal(rd(&f, R_GSTS, 4), 0);
	assert_int_equal(rd(&f, R_FSTS, 4), 0);
	assert_int_equal(rd(&f, R_FECTL, 4), B(31));
	assert_int_equal(rd(&f, R_IECTL, 4), B(31));
	assert_int_equal(rd(&f, R_RTADDR, 8), 0);
	assert_int_equal(iommu_vtd_mmio_size(f.u), 0x1000);
	fx_close(&f);
}

static void test_access_rules(void **state)
{
	struct fx f;
	uint64_t v = 1;

	(void)state;
	fx_open(&f, 0, 0);
	assert_int_equal(iommu_vtd_mmio_read(f.u, 0x18, 2, &v), -EINVAL);
	assert_int_equal(iommu_vtd_mmio_read(f.u, 0x1c, 8, &v), -EINVAL);
	assert_int_equal(iommu_vtd_mmio_read(f.u, 0x1e, 4, &v), -EINVAL);
	assert_int_equal(iommu_vtd_mmio_read(f.u, 0x1000, 4, &v), -EINVAL);
	assert_int_equal(iommu_vtd_mmio_write(f.u, 0xffc, 8, 0), -EINVAL);
	assert_int_equal(iommu_vtd_mmio_write(f.u, 0x18, 1, 0), -EINVAL);
	/* Reserved registers read 0 and ignore writes. */
	assert_int_equal(rd(&f, 0x04, 4), 0);
	assert_int_equal(rd(&f, 0x30, 4), 0);
	assert_int_equal(rd(&f, 0x200, 8), 0);
	assert_int_equal(rd(&f, 0xff8, 8), 0);
	wr(&f, 0x200, 8, ~UINT64_C(0));
	assert_int_equal(rd(&f, 0x200, 8), 0);
	/* Read-only registers. */
	wr(&f, R_CAP, 8, 0);
	wr(&f, R_VER, 4, 0);
	wr(&f, R_GSTS, 4, ~0u);
	assert_int_equal(rd(&f, R_CAP, 8), CAP_DEFAULT);
	assert_int_equal(rd(&f, R_VER, 4), 0x10);
	assert_int_equal(rd(&f, R_GSTS, 4), 0);
	/* GCMD is write-only. */
	wr(&f, R_GCMD, 4, G_QIE);
	assert_int_equal(rd(&f, R_GCMD, 4), 0);
	assert_int_equal(rd(&f, R_GSTS, 4), B(26));
	/* An 8-byte access to a pair of 32-bit registers. */
	assert_int_equal(rd(&f, R_GCMD, 8), (uint64_t)B(26) << 32);
	fx_close(&f);
}

static void test_halves_of_64bit_registers(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	wr(&f, R_RTADDR, 4, 0x12345fff);         /* low bits 11:0 dropped */
	wr(&f, R_RTADDR + 4, 4, 0x7f);            /* bits 38:32 (HAW 39) */
	assert_int_equal(rd(&f, R_RTADDR, 8), 0x7f12345000ull);
	assert_int_equal(rd(&f, R_RTADDR + 4, 4), 0x7f);
	/* Above HAW: dropped. */
	wr(&f, R_RTADDR, 8, UINT64_C(0xff00000000001000));
	assert_int_equal(rd(&f, R_RTADDR, 8), 0x1000);
	/* CCMD as two halves: the command runs on the upper half. */
	wr(&f, R_CCMD, 4, 0);
	wr(&f, R_CCMD + 4, 4, (uint32_t)((B(63) | (UINT64_C(1) << 61)) >> 32));
	assert_int_equal((rd(&f, R_CCMD + 4, 4) >> 27) & 3, 1);  /* CAIG 01b */
	assert_false(rd(&f, R_CCMD + 4, 4) & B(31));              /* ICC 0 */
	assert_int_equal(stats(&f).cc_invalidations, 1);
	fx_close(&f);
}

static void test_gcmd_handshakes(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	wr(&f, R_RTADDR, 8, 0x5000);
	gcmd(&f, G_SRTP, true);
	assert_int_equal(rd(&f, R_GSTS, 4), B(30));
	gcmd(&f, G_TE, true);
	assert_int_equal(rd(&f, R_GSTS, 4), B(31) | B(30));
	gcmd(&f, G_QIE, true);
	gcmd(&f, G_IRE, true);
	gcmd(&f, G_CFI, true);
	assert_int_equal(rd(&f, R_GSTS, 4), B(31) | B(30) | B(26) | B(25) | B(23));
	wr(&f, R_IRTA, 8, 0x9000 | 7);
	gcmd(&f, G_SIRTP, true);
	assert_true(rd(&f, R_GSTS, 4) & B(24));
	assert_int_equal(rd(&f, R_IRTA, 8), 0x9007);
	/* One bit off at a time, the others kept. */
	gcmd(&f, G_TE, false);
	assert_int_equal(rd(&f, R_GSTS, 4) & G_PERSIST, G_QIE | G_IRE | G_CFI);
	gcmd(&f, G_IRE, false);
	gcmd(&f, G_QIE, false);
	gcmd(&f, G_CFI, false);
	assert_int_equal(rd(&f, R_GSTS, 4) & G_PERSIST, 0);
	fx_close(&f);
	/* A unit without QI and IR ignores QIE, IRE, SIRTP; its IQ and IR
	 * registers read 0. */
	fx_open(&f, CAP_DEFAULT, ECAP_DEFAULT & ~(B(1) | B(3)));
	gcmd(&f, G_QIE, true);
	gcmd(&f, G_IRE, true);
	gcmd(&f, G_SIRTP, true);
	assert_int_equal(rd(&f, R_GSTS, 4), 0);
	wr(&f, R_IQA, 8, 0x3000);
	wr(&f, R_IRTA, 8, 0x3000);
	assert_int_equal(rd(&f, R_IQA, 8), 0);
	assert_int_equal(rd(&f, R_IRTA, 8), 0);
	fx_close(&f);
}

static void test_iotlb_register_completion(void **state)
{
	struct fx f;
	uint64_t v;

	(void)state;
	fx_open(&f, 0, 0);
	wr(&f, R_IOTLB, 8, B(63) | (UINT64_C(1) << 60));
	v = rd(&f, R_IOTLB, 8);
	assert_false(v & B(63));
	assert_int_equal((v >> 57) & 3, 1);
	/* IIRG 00b is reserved: nothing done, IAIG 00b. */
	wr(&f, R_IOTLB, 8, B(63));
	v = rd(&f, R_IOTLB, 8);
	assert_int_equal((v >> 57) & 3, 0);
	assert_int_equal(stats(&f).iotlb_invalidations, 1);
	/* IVA keeps ADDR, IH, AM. */
	wr(&f, R_IVA, 8, 0x12345000 | B(6) | 3 | 0x780);
	assert_int_equal(rd(&f, R_IVA, 8), 0x12345000 | B(6) | 3);
	fx_close(&f);
}

static void test_capture_capabilities(void **state)
{
	struct fx f;
	struct fx_opts o = { .cap = CAP_CM48, .ecap = ECAP_CM48 };

	(void)state;
	/* The caching-mode capture (f5-cm-aw48-iotlb). */
	fx_open_opts(&f, &o);
	assert_int_equal(rd(&f, R_CAP, 8), CAP_CM48);
	assert_int_equal(iommu_vtd_mmio_size(f.u), 0x1000);
	/* Its FRCD at 0x220, IOTLB registers at 0xf0. */
	wr(&f, R_IOTLB, 8, B(63) | (UINT64_C(1) << 60));
	assert_int_equal((rd(&f, R_IOTLB, 8) >> 57) & 3, 1);
	fx_close(&f);
	/* More fault recording registers move nothing else. */
	fx_open(&f, cap_nfr(CAP_DEFAULT, 8), ECAP_DEFAULT);
	assert_int_equal(rd(&f, R_FRCD + 7 * 16 + 8, 8), 0);
	fx_close(&f);
}

static void test_bad_configs(void **state)
{
	struct iommu_mem *m;
	struct iommu_vtd_config c;
	struct iommu_vtd_unit *u = NULL;
	struct iommu_error err;

	(void)state;
	assert_int_equal(iommu_mem_create(1 << 20, &m), 0);
	iommu_vtd_config_init(&c);
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);   /* no memory */
	assert_null(u);
	c.mem = m;
	c.cap = CAP_DEFAULT & ~(UINT64_C(0x1f) << 8);                 /* SAGAW 0 */
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "SAGAW"));
	c.cap = cap_aw(CAP_DEFAULT, 0x11, 39);                        /* reserved SAGAW bits */
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	/* FRO in the architectural registers. */
	c.cap = (CAP_DEFAULT & ~(UINT64_C(0x3ff) << 24)) | (UINT64_C(2) << 24);
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	/* FRO and IRO overlapping. */
	c.cap = (CAP_DEFAULT & ~(UINT64_C(0x3ff) << 24)) | (UINT64_C(0xf) << 24);
	assert_int_equal(iommu_vtd_create(&c, &u, &err), -EINVAL);
	/* Far FRCDs make a larger window. */
	c.cap = cap_nfr((CAP_DEFAULT & ~(UINT64_C(0x3ff) << 24)) | (UINT64_C(0xff) << 24), 32);
	c.ecap = ECAP_DEFAULT;
	assert_int_equal(iommu_vtd_create(&c, &u, &err), 0);
	assert_int_equal(iommu_vtd_mmio_size(u), 0x2000);
	iommu_vtd_destroy(u);
	iommu_mem_destroy(m);
}

static void test_reset(void **state)
{
	struct fx f;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	expect_fault(&f, 0x10, 0x1000, false, 1);
	assert_true(rd(&f, R_FSTS, 4) & B(1));
	iommu_vtd_reset(f.u);
	assert_int_equal(rd(&f, R_GSTS, 4), 0);
	assert_int_equal(rd(&f, R_FSTS, 4), 0);
	assert_int_equal(rd(&f, R_FRCD + 8, 8), 0);
	assert_int_equal(stats(&f).faults, 0);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),
		cmocka_unit_test(test_access_rules),
		cmocka_unit_test(test_halves_of_64bit_registers),
		cmocka_unit_test(test_gcmd_handshakes),
		cmocka_unit_test(test_iotlb_register_completion),
		cmocka_unit_test(test_capture_capabilities),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
