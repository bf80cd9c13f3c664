// SPDX-License-Identifier: MIT
/*
 * The core's Intel driver against the VT-d model: the enable handshake as
 * the registers show it, AGAW choice, map/unmap/iova_to_phys with 4 KiB,
 * 2 MiB and 1 GiB pages, attach/detach, translations through the unit,
 * faults after unmap and invalidation (strict, deferred, never), the
 * page-selective address mask, caching mode, identity pass-through.
 * Register fields are checked with literal bit positions from the VT-d
 * specification, not with the driver's masks.
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

#define B(n) (UINT64_C(1) << (n))
#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define G1 UINT64_C(0x40000000)

enum { R_GCMD = 0x18, R_GSTS = 0x1c, R_RTADDR = 0x20, R_IQH = 0x80, R_IQT = 0x88,
       R_IQA = 0x90, R_IVA = 0xf0, R_IOTLB = 0xf8 };
#define GS_TES B(31)
#define GS_RTPS B(30)
#define GS_QIES B(26)

#define CAP_DEFAULT UINT64_C(0x00d2008c22260206)
#define ECAP_DEFAULT UINT64_C(0x0000000000f00f4a)
#define CAP_CM48 UINT64_C(0x00d2008c222f0686)
#define ECAP_CM48 UINT64_C(0x0000000000f00f4e)

static uint64_t cap_aw(uint64_t cap, unsigned sagaw, unsigned mgaw_bits)
{
	cap &= ~(UINT64_C(0x1f) << 8) & ~(UINT64_C(0x3f) << 16);
	return cap | ((uint64_t)sagaw << 8) | ((uint64_t)(mgaw_bits - 1) << 16);
}

static uint64_t cap_sllps(uint64_t cap, unsigned sllps)
{
	return (cap & ~(UINT64_C(0xf) << 34)) | ((uint64_t)sllps << 34);
}

static uint64_t cap_mamv(uint64_t cap, unsigned mamv)
{
	return (cap & ~(UINT64_C(0x3f) << 48)) | ((uint64_t)mamv << 48);
}

struct fx {
	struct iommu_mem *mem;
	struct iommu_vtd_unit *u;
	struct iommu_intel *drv;
};

#define TBASE (UINT64_C(4) << 30)
#define TSIZE (UINT64_C(64) << 20)

static void fx_init(struct fx *f, uint64_t cap, uint64_t ecap, bool force_reg, bool enable)
{
	struct iommu_vtd_config cfg;
	struct iommu_intel_config dc = { 0 };
	struct iommu_error err = { 0 };

	memset(f, 0, sizeof(*f));
	assert_int_equal(iommu_mem_create(UINT64_C(8) << 30, &f->mem), 0);
	iommu_vtd_config_init(&cfg);
	cfg.cap = cap;
	cfg.ecap = ecap;
	cfg.mem = f->mem;
	assert_int_equal(iommu_vtd_create(&cfg, &f->u, &err), 0);
	dc.unit = f->u;
	dc.mem = f->mem;
	dc.table_base = TBASE;
	dc.table_size = TSIZE;
	dc.register_invalidation = force_reg;
	assert_int_equal(iommu_intel_create(&dc, &f->drv, &err), 0);
	if (enable)
		assert_int_equal(iommu_intel_enable(f->drv), 0);
}

static void fx_fini(struct fx *f)
{
	iommu_intel_destroy(f->drv);
	iommu_vtd_destroy(f->u);
	iommu_mem_destroy(f->mem);
}

static uint64_t reg(struct fx *f, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	assert_int_equal(iommu_vtd_mmio_read(f->u, off, size, &v), 0);
	return v;
}

static int xlate(struct fx *f, uint16_t sid, uint64_t addr, bool write,
		 struct iommu_vtd_result *res)
{
	struct iommu_vtd_request rq = { .source_id = sid, .addr = addr, .size = 4, .write = write };

	memset(res, 0, sizeof(*res));
	return iommu_vtd_translate(f->u, &rq, res);
}

static void expect_host(struct fx *f, uint16_t sid, uint64_t addr, uint64_t host)
{
	struct iommu_vtd_result r;

	assert_int_equal(xlate(f, sid, addr, false, &r), 0);
	assert_int_equal(r.host_addr, host);
}

static void expect_fault(struct fx *f, uint16_t sid, uint64_t addr, bool write, unsigned fr)
{
	struct iommu_vtd_result r;

	assert_int_equal(xlate(f, sid, addr, write, &r), -EFAULT);
	assert_int_equal(r.fault_reason, fr);
}

/* --- enable ---------------------------------------------------------------- */

static void test_enable_qi(void **state)
{
	struct fx f;
	struct iommu_intel_stats st;
	struct iommu_vtd_stats hs;
	uint64_t rtaddr, iqa;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, false);
	assert_int_equal(reg(&f, R_GSTS, 4), 0);
	assert_int_equal(iommu_intel_enable(f.drv), 0);
	assert_true(iommu_intel_uses_qi(f.drv));
	assert_int_equal(reg(&f, R_GSTS, 4), GS_TES | GS_RTPS | GS_QIES);
	rtaddr = reg(&f, R_RTADDR, 8);
	assert_int_equal(rtaddr & 0xfff, 0);         /* TTM 00b: legacy */
	assert_true(rtaddr >= TBASE && rtaddr < TBASE + TSIZE);
	iqa = reg(&f, R_IQA, 8);
	assert_int_equal(iqa & 0xfff, 0);             /* QS 0: one page, DW 0 */
	assert_true(iqa >= TBASE && iqa < TBASE + TSIZE);
	assert_int_not_equal(iqa, rtaddr);
	/* Two invalidations after SRTP, each followed by a wait. */
	assert_int_equal(reg(&f, R_IQH, 8), 4 * 16);
	assert_int_equal(reg(&f, R_IQT, 8), 4 * 16);
	iommu_intel_get_stats(f.drv, &st);
	assert_int_equal(st.cc_global, 1);
	assert_int_equal(st.iotlb_global, 1);
	assert_int_equal(st.qi_submits, 2);
	assert_int_equal(st.reg_invalidations, 0);
	assert_int_equal(st.gcmd_writes, 3);          /* QIE, SRTP, TE */
	assert_true(st.gsts_reads >= 4);
	assert_int_equal(st.table_pages, 3);          /* queue, status, root */
	iommu_vtd_get_stats(f.u, &hs);
	assert_int_equal(hs.qi_descriptors, 4);
	assert_int_equal(hs.cc_invalidations, 1);
	assert_int_equal(hs.iotlb_invalidations, 1);
	assert_int_equal(iommu_intel_enable(f.drv), -EBUSY);
	fx_fini(&f);
}

static void test_enable_registers(void **state)
{
	struct iommu_intel_stats st;
	struct iommu_vtd_stats hs;
	struct fx f;

	(void)state;
	/* ECAP without QI, and QI present but not used. */
	for (int v = 0; v < 2; v++) {
		fx_init(&f, CAP_DEFAULT, v ? ECAP_DEFAULT : ECAP_DEFAULT & ~B(1), v, true);
		assert_false(iommu_intel_uses_qi(f.drv));
		assert_int_equal(reg(&f, R_GSTS, 4), GS_TES | GS_RTPS);
		assert_int_equal(reg(&f, R_IQA, 8), 0);
		iommu_intel_get_stats(f.drv, &st);
		assert_int_equal(st.reg_invalidations, 2);
		assert_int_equal(st.qi_submits, 0);
		assert_int_equal(st.inv_failed, 0);
		assert_int_equal(st.gcmd_writes, 2);  /* SRTP, TE */
		iommu_vtd_get_stats(f.u, &hs);
		assert_int_equal(hs.cc_invalidations, 1);
		assert_int_equal(hs.iotlb_invalidations, 1);
		assert_int_equal(hs.qi_descriptors, 0);
		/* IOTLB_REG: IAIG (58:57) global, IVT (63) clear. */
		assert_int_equal((reg(&f, R_IOTLB, 8) >> 57) & 3, 1);
		assert_int_equal(reg(&f, R_IOTLB, 8) >> 63, 0);
		fx_fini(&f);
	}
}

static void test_enable_pre_enabled(void **state)
{
	struct iommu_intel_stats st;
	struct fx f;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, false);
	/* Firmware left translation on (GSTS read at init sees it). */
	assert_int_equal(iommu_vtd_mmio_write(f.u, R_GCMD, 4, B(31)), 0);
	assert_int_equal(reg(&f, R_GSTS, 4), GS_TES);
	assert_int_equal(iommu_intel_enable(f.drv), 0);
	assert_int_equal(reg(&f, R_GSTS, 4), GS_TES | GS_RTPS | GS_QIES);
	iommu_intel_get_stats(f.drv, &st);
	/* QIE (with TE kept), TE off, SRTP, TE on. */
	assert_int_equal(st.gcmd_writes, 4);
	fx_fini(&f);
}

/* --- AGAW -------------------------------------------------------------------- */

static void test_agaw(void **state)
{
	static const struct {
		unsigned sagaw, mgaw, req, levels, width;
	} c[] = {
		{ 0x2, 39, 0, 3, 39 }, { 0x2, 39, 48, 3, 39 }, { 0x6, 48, 0, 4, 48 },
		{ 0x6, 48, 39, 3, 39 }, { 0x6, 48, 40, 4, 48 }, { 0x6, 46, 0, 4, 46 },
		{ 0xe, 57, 0, 5, 57 }, { 0xe, 57, 48, 4, 48 }, { 0x4, 48, 39, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct iommu_intel_domain *d;
		struct fx f;
		int ret;

		fx_init(&f, cap_aw(CAP_DEFAULT, c[i].sagaw, c[i].mgaw), ECAP_DEFAULT, false, true);
		ret = iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, c[i].req, &d);
		if (!c[i].levels) {
			assert_int_equal(ret, -EINVAL);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(iommu_intel_domain_levels(d), c[i].levels);
			assert_int_equal(iommu_intel_domain_width(d), c[i].width);
			assert_int_equal(iommu_intel_domain_table_pages(d), 1);
		}
		fx_fini(&f);
	}
}

/* --- map / unmap / iova_to_phys ------------------------------------------------ */

static void expect_phys(struct iommu_intel_domain *d, uint64_t iova, uint64_t phys,
			uint64_t pgsize)
{
	uint64_t p = 0, s = 0;

	assert_int_equal(iommu_intel_iova_to_phys(d, iova, &p, &s), 0);
	assert_int_equal(p, phys);
	assert_int_equal(s, pgsize);
}

static void test_map_page_sizes(void **state)
{
	struct iommu_intel_domain *d;
	struct fx f;
	uint64_t un, pages;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);

	/* 4 KiB */
	assert_int_equal(iommu_intel_map(d, 0x1000, 0x5000, K4, IOMMU_PROT_READ), 0);
	expect_phys(d, 0x1abc, 0x5abc, K4);
	assert_int_equal(iommu_intel_domain_table_pages(d), 3); /* PDPT, PD, PT */
	/* 2 MiB: both aligned */
	assert_int_equal(iommu_intel_map(d, 0x40000000, 0x80000000, M2, 3), 0);
	expect_phys(d, 0x40012345, 0x80012345, M2);
	/* 1 GiB */
	assert_int_equal(iommu_intel_map(d, 2 * G1, 3 * G1, G1, 3), 0);
	expect_phys(d, 2 * G1 + 0x123456, 3 * G1 + 0x123456, G1);
	/* paddr only 4 KiB aligned: 4 KiB pages although iova is 2 MiB aligned */
	assert_int_equal(iommu_intel_map(d, 0x40400000, 0x80401000, M2 + K4, 3), 0);
	expect_phys(d, 0x40400000, 0x80401000, K4);
	expect_phys(d, 0x40600000, 0x80601000, K4);
	/* 4 KiB up to the 2 MiB boundary, 2 MiB pages, 4 KiB tail */
	assert_int_equal(iommu_intel_map(d, 7 * G1 - 2 * K4, 0x10000000 - 2 * K4,
					 2 * K4 + 2 * M2 + K4, 3), 0);
	expect_phys(d, 7 * G1 - K4, 0x10000000 - K4, K4);
	expect_phys(d, 7 * G1, 0x10000000, M2);
	expect_phys(d, 7 * G1 + M2 + 5, 0x10000000 + M2 + 5, M2);
	expect_phys(d, 7 * G1 + 2 * M2, 0x10000000 + 2 * M2, K4);
	/* 1 GiB + 2 MiB at a 1 GiB boundary: one 1 GiB, one 2 MiB */
	assert_int_equal(iommu_intel_map(d, 4 * G1, 5 * G1, G1 + M2, 3), 0);
	expect_phys(d, 4 * G1 + 7, 5 * G1 + 7, G1);
	expect_phys(d, 5 * G1, 6 * G1, M2);
	assert_int_equal(iommu_intel_iova_to_phys(d, 5 * G1 + M2, NULL, NULL), -ENOENT);
	assert_int_equal(iommu_intel_iova_to_phys(d, 0x2000, NULL, NULL), -ENOENT);

	/* errors */
	assert_int_equal(iommu_intel_map(d, 0x1000, 0x5000, K4, 3), -EBUSY);
	assert_int_equal(iommu_intel_map(d, 0x1800, 0x5000, K4, 3), -EINVAL);
	assert_int_equal(iommu_intel_map(d, 0x8000, 0x5000, 0, 3), -EINVAL);
	assert_int_equal(iommu_intel_map(d, 0x8000, 0x5000, K4, 0), -EINVAL);
	assert_int_equal(iommu_intel_map(d, B(39) - K4, 0, 2 * K4, 3), -EFAULT);
	/* A superpage over an existing table, and a range running into a
	 * mapped page: -EBUSY with nothing left behind. */
	assert_int_equal(iommu_intel_map(d, 0, 0, M2, 3), -EBUSY);
	pages = iommu_intel_domain_table_pages(d);
	assert_int_equal(iommu_intel_map(d, 0x40400000 - 2 * K4, 0x90000000, 3 * M2, 3), -EBUSY);
	assert_int_equal(iommu_intel_iova_to_phys(d, 0x40400000 - K4, NULL, NULL), -ENOENT);
	assert_int_equal(iommu_intel_iova_to_phys(d, 0x40400000 - 2 * K4, NULL, NULL), -ENOENT);
	assert_int_equal(iommu_intel_domain_table_pages(d), pages);

	/* unmap: part of a superpage takes the whole page */
	assert_int_equal(iommu_intel_unmap(d, 0x40001000, K4, &un), 0);
	assert_int_equal(un, M2);
	assert_int_equal(iommu_intel_iova_to_phys(d, 0x40000000, NULL, NULL), -ENOENT);
	assert_int_equal(iommu_intel_unmap(d, 2 * G1 + M2, K4, &un), 0);
	assert_int_equal(un, G1);
	/* nothing mapped: 0 */
	assert_int_equal(iommu_intel_unmap(d, 0x40000000, M2, &un), 0);
	assert_int_equal(un, 0);
	assert_int_equal(iommu_intel_unmap(d, 0x1001, K4, &un), -EINVAL);
	/* a range with holes: the pages in it */
	assert_int_equal(iommu_intel_unmap(d, 0, 0x40000000 + 0x400000 + M2 + K4, &un), 0);
	assert_int_equal(un, K4 + M2 + K4);
	/* everything: back to the top table alone */
	assert_int_equal(iommu_intel_unmap(d, 0, B(39), &un), 0);
	assert_int_equal(un, 2 * K4 + 2 * M2 + K4 + G1 + M2);
	assert_int_equal(iommu_intel_domain_table_pages(d), 1);
	fx_fini(&f);
}

static void test_map_sllps(void **state)
{
	struct iommu_intel_domain *d;
	struct fx f;
	uint64_t un;

	(void)state;
	/* 2 MiB only: a 1 GiB range becomes 512 2 MiB pages */
	fx_init(&f, cap_sllps(CAP_DEFAULT, 1), ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_map(d, G1, 2 * G1, G1, 3), 0);
	expect_phys(d, G1 + 0x12345678, 2 * G1 + 0x12345678, M2);
	assert_int_equal(iommu_intel_domain_table_pages(d), 2);
	assert_int_equal(iommu_intel_unmap(d, G1, G1, &un), 0);
	assert_int_equal(un, G1);
	assert_int_equal(iommu_intel_domain_table_pages(d), 1);
	fx_fini(&f);
	/* no superpages */
	fx_init(&f, cap_sllps(CAP_DEFAULT, 0), ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_map(d, G1, 2 * G1, 2 * M2, 3), 0);
	expect_phys(d, G1 + M2 + 8, 2 * G1 + M2 + 8, K4);
	assert_int_equal(iommu_intel_domain_table_pages(d), 4);
	fx_fini(&f);
}

/* --- attach, translate, invalidate --------------------------------------------- */

static uint64_t mem64(struct fx *f, uint64_t addr)
{
	uint64_t v;

	assert_int_equal(iommu_mem_read64(f->mem, addr, &v), 0);
	return v;
}

static void test_attach_detach(void **state)
{
	struct iommu_intel_domain *d, *d2;
	struct iommu_vtd_result r;
	uint64_t root, ctp, lo, hi;
	const uint16_t sid = 0x0310;   /* 03:02.0 */
	struct fx f;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_domain_id(d), 0);
	assert_int_equal(iommu_intel_map(d, 0x100000, 0x200000, 4 * K4, IOMMU_PROT_READ), 0);
	expect_fault(&f, sid, 0x100000, false, 0x01);   /* root entry not present */
	assert_int_equal(iommu_intel_attach(d, sid), 0);
	assert_int_equal(iommu_intel_domain_id(d), 1);

	/* The entries as the specification lays them out. */
	root = reg(&f, R_RTADDR, 8) & ~UINT64_C(0xfff);
	lo = mem64(&f, root + 3 * 16);
	assert_int_equal(lo & 1, 1);
	assert_int_equal(mem64(&f, root + 3 * 16 + 8), 0);
	ctp = lo & ~UINT64_C(0xfff);
	lo = mem64(&f, ctp + 0x10 * 16);
	hi = mem64(&f, ctp + 0x10 * 16 + 8);
	assert_int_equal(lo & 1, 1);                     /* P */
	assert_int_equal((lo >> 1) & 1, 0);              /* FPD */
	assert_int_equal((lo >> 2) & 3, 0);              /* TT: second level */
	assert_int_equal(hi & 7, 1);                     /* AW: 39-bit */
	assert_int_equal((hi >> 8) & 0xffff, 1);         /* DID */
	assert_true((lo & ~UINT64_C(0xfff)) >= TBASE);

	assert_int_equal(xlate(&f, sid, 0x102abc, false, &r), 0);
	assert_int_equal(r.host_addr, 0x202abc);
	assert_int_equal(r.page_size, K4);
	assert_int_equal(r.domain_id, 1);
	assert_true(r.read);
	assert_false(r.write);
	assert_false(r.iotlb_hit);
	assert_int_equal(xlate(&f, sid, 0x102000, false, &r), 0);
	assert_true(r.iotlb_hit);
	expect_fault(&f, sid, 0x102000, true, 0x05);     /* write to read-only */
	expect_fault(&f, sid, 0x104000, false, 0x06);    /* not mapped */
	expect_fault(&f, 0x0311, 0x102000, false, 0x02); /* another function */

	/* A second domain gets the next id; moving the device drops the
	 * old domain's id and cached entries. */
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d2), 0);
	assert_int_equal(iommu_intel_map(d2, 0x100000, 0x700000, K4, 3), 0);
	assert_int_equal(iommu_intel_attach(d2, 0x0400), 0);
	assert_int_equal(iommu_intel_domain_id(d2), 2);
	assert_int_equal(iommu_intel_attach(d2, sid), 0);
	assert_int_equal(iommu_intel_domain_id(d), 0);
	expect_host(&f, sid, 0x100010, 0x700010);
	/* detach: context cleared and flushed */
	assert_int_equal(iommu_intel_detach(f.drv, sid), 0);
	expect_fault(&f, sid, 0x100000, false, 0x02);
	assert_int_equal(iommu_intel_detach(f.drv, sid), 0);
	expect_host(&f, 0x0400, 0x100010, 0x700010);
	iommu_intel_domain_free(d2);                     /* detaches 04:00.0 */
	expect_fault(&f, 0x0400, 0x100000, false, 0x02);
	assert_int_equal(iommu_intel_attach(d, sid), 0);
	assert_int_equal(iommu_intel_domain_id(d), 1);
	expect_host(&f, sid, 0x100010, 0x200010);
	fx_fini(&f);
}

/* After unmap: strict faults at once; deferred keeps translating from the
 * IOTLB until the flush; never keeps it. */
static void run_unmap_modes(bool force_reg)
{
	static const enum iommu_intel_flush_mode modes[3] = {
		IOMMU_INTEL_FLUSH_STRICT, IOMMU_INTEL_FLUSH_DEFERRED, IOMMU_INTEL_FLUSH_NEVER,
	};

	for (int m = 0; m < 3; m++) {
		struct iommu_intel_domain *d;
		struct iommu_intel_stats st;
		struct iommu_vtd_result r;
		struct fx f;
		uint64_t un;

		uint64_t base;

		fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, force_reg, true);
		/* queue and status pages with QI, the root table, then the
		 * context table of bus 0 */
		base = (iommu_intel_uses_qi(f.drv) ? 3 : 1) + 1;
		assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
		iommu_intel_domain_set_flush_mode(d, modes[m]);
		assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
		assert_int_equal(iommu_intel_map(d, 0x40000000, 0x80000000, M2, 3), 0);
		assert_int_equal(iommu_intel_map(d, 0x10000, 0x30000, K4, 3), 0);
		expect_host(&f, 0x0008, 0x40001000, 0x80001000);
		expect_host(&f, 0x0008, 0x10000, 0x30000);
		assert_int_equal(iommu_intel_unmap(d, 0x40000000, M2, &un), 0);
		assert_int_equal(un, M2);
		assert_int_equal(iommu_intel_unmap(d, 0x10000, K4, &un), 0);
		if (modes[m] == IOMMU_INTEL_FLUSH_STRICT) {
			expect_fault(&f, 0x0008, 0x40001000, false, 0x06);
			expect_fault(&f, 0x0008, 0x10000, false, 0x06);
		} else {
			assert_int_equal(xlate(&f, 0x0008, 0x40001000, false, &r), 0);
			assert_true(r.iotlb_hit);
			assert_int_equal(r.host_addr, 0x80001000);
			expect_host(&f, 0x0008, 0x10000, 0x30000);
			/* the freed tables wait for the flush (deferred) */
			iommu_intel_get_stats(f.drv, &st);
			assert_int_equal(st.table_pages,
					 modes[m] == IOMMU_INTEL_FLUSH_DEFERRED ? base + 4 : base + 1);
			assert_int_equal(iommu_intel_flush(d), 0);
			if (modes[m] == IOMMU_INTEL_FLUSH_DEFERRED) {
				expect_fault(&f, 0x0008, 0x40001000, false, 0x06);
				expect_fault(&f, 0x0008, 0x10000, false, 0x06);
			} else {
				expect_host(&f, 0x0008, 0x10000, 0x30000);
			}
		}
		iommu_intel_get_stats(f.drv, &st);
		assert_int_equal(st.table_pages, base + 1);
		assert_int_equal(iommu_intel_domain_table_pages(d), 1);
		assert_int_equal(st.iotlb_page, modes[m] == IOMMU_INTEL_FLUSH_STRICT ? 2 : 0);
		assert_int_equal(st.iotlb_domain, modes[m] == IOMMU_INTEL_FLUSH_DEFERRED ? 1 : 0);
		assert_int_equal(st.inv_failed, 0);
		fx_fini(&f);
	}
}

static void test_unmap_invalidation(void **state)
{
	(void)state;
	run_unmap_modes(false);
	run_unmap_modes(true);
}

/* The address mask of a page-selective flush, IH, and the fallbacks, as
 * IVA_REG shows them after a register-based invalidation. */
static void test_psi_mask(void **state)
{
	struct iommu_intel_domain *d;
	struct iommu_intel_stats st;
	struct fx f;
	uint64_t un, iva;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, true, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	assert_int_equal(iommu_intel_map(d, 0, 0x100000, 16 * K4, 3), 0);
	/* 3 pages at pfn 1: rounded to 4, but pfn 1 is not 4-aligned: the
	 * block holding pfns 1..3 is pfns 0..3: AM 2.  No table freed: IH. */
	assert_int_equal(iommu_intel_unmap(d, K4, 3 * K4, &un), 0);
	iva = reg(&f, R_IVA, 8);
	assert_int_equal(iva & 0x3f, 2);
	assert_int_equal((iva >> 6) & 1, 1);
	assert_int_equal(iva & ~UINT64_C(0xfff), 0x1000);  /* the first page, as given */
	assert_int_equal((reg(&f, R_IOTLB, 8) >> 57) & 3, 3);   /* IAIG: page */
	/* pfns 7..8 cross an 8-block: AM 4 (pfns 0..15) */
	assert_int_equal(iommu_intel_unmap(d, 7 * K4, 2 * K4, &un), 0);
	assert_int_equal(reg(&f, R_IVA, 8) & 0x3f, 4);
	/* the last pages free the table: IH clear */
	assert_int_equal(iommu_intel_unmap(d, 0, 16 * K4, &un), 0);
	assert_int_equal(un, 11 * K4);
	assert_int_equal((reg(&f, R_IVA, 8) >> 6) & 1, 0);
	assert_int_equal(reg(&f, R_IVA, 8) & 0x3f, 4);
	iommu_intel_get_stats(f.drv, &st);
	assert_int_equal(st.iotlb_page, 3);
	assert_int_equal(st.psi_fallbacks, 0);
	fx_fini(&f);

	/* MAMV 0: more than one page falls back to domain-selective */
	fx_init(&f, cap_mamv(CAP_DEFAULT, 0), ECAP_DEFAULT, true, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	assert_int_equal(iommu_intel_map(d, 0, 0x100000, 4 * K4, 3), 0);
	assert_int_equal(iommu_intel_unmap(d, 0, K4, &un), 0);
	iommu_intel_get_stats(f.drv, &st);
	assert_int_equal(st.iotlb_page, 1);
	assert_int_equal(st.psi_fallbacks, 0);
	assert_int_equal(iommu_intel_unmap(d, K4, 2 * K4, &un), 0);
	iommu_intel_get_stats(f.drv, &st);
	assert_int_equal(st.psi_fallbacks, 1);
	assert_int_equal((reg(&f, R_IOTLB, 8) >> 57) & 3, 2);   /* IAIG: domain */
	fx_fini(&f);

	/* no PSI at all */
	fx_init(&f, CAP_DEFAULT & ~B(39), ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	assert_int_equal(iommu_intel_map(d, 0, 0x100000, K4, 3), 0);
	expect_host(&f, 0x0008, 0, 0x100000);
	assert_int_equal(iommu_intel_unmap(d, 0, K4, &un), 0);
	expect_fault(&f, 0x0008, 0, false, 0x06);
	iommu_intel_get_stats(f.drv, &st);
	assert_int_equal(st.psi_fallbacks, 1);
	assert_int_equal(st.iotlb_page, 0);
	fx_fini(&f);
}

/* CM = 1: not-present entries are cached; the driver's flushes on
 * attach and on map make them go. */
static void test_caching_mode(void **state)
{
	struct iommu_intel_domain *d;
	struct iommu_intel_stats st;
	struct fx f;

	(void)state;
	for (int never = 0; never < 2; never++) {
		fx_init(&f, CAP_CM48, ECAP_CM48, false, true);
		assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
		assert_int_equal(iommu_intel_domain_levels(d), 4);
		/* the context is read (root present after another device) */
		assert_int_equal(iommu_intel_attach(d, 0x0100), 0);
		expect_fault(&f, 0x0108, 0, false, 0x02);
		assert_int_equal(iommu_intel_attach(d, 0x0108), 0);
		iommu_intel_get_stats(f.drv, &st);
		assert_int_equal(st.cc_device, 2);
		assert_int_equal(st.iotlb_domain, 2);
		expect_fault(&f, 0x0108, 0x5000, false, 0x06);
		if (never)
			iommu_intel_domain_set_flush_mode(d, IOMMU_INTEL_FLUSH_NEVER);
		assert_int_equal(iommu_intel_map(d, 0x5000, 0x9000, K4, 3), 0);
		if (never)
			expect_fault(&f, 0x0108, 0x5000, false, 0x06);
		else
			expect_host(&f, 0x0108, 0x5000, 0x9000);
		fx_fini(&f);
	}
}

static void test_identity(void **state)
{
	struct iommu_intel_domain *d;
	struct iommu_vtd_result r;
	struct fx f;
	uint64_t lo, hi, ctp;

	(void)state;
	fx_init(&f, cap_aw(CAP_DEFAULT, 0x6, 48), ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_IDENTITY, 0, &d), 0);
	assert_int_equal(iommu_intel_map(d, 0, 0, K4, 3), -EINVAL);
	assert_int_equal(iommu_intel_attach(d, 0x00f8), 0);
	assert_int_equal(xlate(&f, 0x00f8, 0x12345678, true, &r), 0);
	assert_true(r.passthrough);
	assert_int_equal(r.host_addr, 0x12345678);
	ctp = mem64(&f, reg(&f, R_RTADDR, 8)) & ~UINT64_C(0xfff);
	lo = mem64(&f, ctp + 0xf8 * 16);
	hi = mem64(&f, ctp + 0xf8 * 16 + 8);
	assert_int_equal((lo >> 2) & 3, 2);       /* TT pass-through */
	assert_int_equal(hi & 7, 2);              /* AW: largest AGAW (48-bit) */
	assert_int_equal((hi >> 8) & 0xffff, 1);
	fx_fini(&f);

	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT & ~B(6), false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_IDENTITY, 0, &d), -EOPNOTSUPP);
	fx_fini(&f);
}

/* Blocked domain: attaching it clears the context. */
static void test_blocked(void **state)
{
	struct iommu_intel_domain *d, *b;
	struct fx f;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_BLOCKED, 0, &b), 0);
	assert_int_equal(iommu_intel_map(d, 0, 0x100000, K4, 3), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	expect_host(&f, 0x0008, 0x10, 0x100010);
	assert_int_equal(iommu_intel_attach(b, 0x0008), 0);
	expect_fault(&f, 0x0008, 0x10, false, 0x02);
	fx_fini(&f);
}

/* The walk the translate command prints. */
static void test_walk(void **state)
{
	struct iommu_intel_walk_step st[IOMMU_INTEL_WALK_MAX];
	struct iommu_intel_domain *d;
	struct fx f;
	size_t n;
	char buf[256];

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_walk(f.drv, 0x0008, 0, st, &n), 0);
	assert_int_equal(n, 1);                   /* root not present */
	assert_int_equal(iommu_intel_map(d, 0x40000000, 0x80000000, M2, 1), 0);
	assert_int_equal(iommu_intel_map(d, 0x1000, 0x2000, K4, 1), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	assert_int_equal(iommu_intel_walk(f.drv, 0x0008, 0x40000000, st, &n), 0);
	assert_int_equal(n, 4);                   /* root, context, PDPE, PDE (2 MiB) */
	assert_int_equal(st[3].level, 2);
	assert_int_equal(st[3].lo & ~UINT64_C(0xfff), 0x80000000);
	iommu_intel_walk_step_describe(&st[3], buf, sizeof(buf));
	assert_non_null(strstr(buf, "2 MiB page at 0x80000000"));
	iommu_intel_walk_step_describe(&st[1], buf, sizeof(buf));
	assert_non_null(strstr(buf, "DID=1"));
	assert_int_equal(iommu_intel_walk(f.drv, 0x0008, 0x1000, st, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(iommu_intel_walk(f.drv, 0x0008, 0x3000, st, &n), 0);
	assert_int_equal(n, 5);
	iommu_intel_walk_step_describe(&st[4], buf, sizeof(buf));
	assert_non_null(strstr(buf, "not present"));
	fx_fini(&f);
}


/*
 * The leaf path the driver takes for runs of pages and for single pages:
 * the entries it stores are in the specification's second-level format
 * (9.8: ADDR | R | W, little-endian in memory) where the walk reads them;
 * single pages going in and out of an existing leaf table, the last one
 * taking the emptied tables with it; a strict single-page unmap flushing
 * that page (intel_iommu_tlb_sync(), IH since no table was freed).
 */
static void test_single_pages_and_runs(void **state)
{
	struct iommu_intel_walk_step st[IOMMU_INTEL_WALK_MAX];
	struct iommu_intel_domain *d;
	struct iommu_intel_stats s0, s1;
	struct fx f;
	uint64_t un, v;
	size_t n;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, true, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	/* 300 pages one call each: the first allocates the tables */
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(iommu_intel_map(d, 0x200000 + i * K4, 0x7000000 + i * K4, K4,
						 i % 3 == 2 ? IOMMU_PROT_READ : 3), 0);
	assert_int_equal(iommu_intel_domain_table_pages(d), 3);
	for (unsigned i = 0; i < 300; i += 37) {
		assert_int_equal(iommu_intel_walk(f.drv, 0x0008, 0x200000 + i * K4, st, &n), 0);
		assert_int_equal(n, 5);
		assert_int_equal(iommu_mem_read64(f.mem, st[4].addr, &v), 0);
		/* bits 1:0 W, R; bits 51:12 the page */
		assert_int_equal(v, (0x7000000 + i * K4) | (i % 3 == 2 ? 1 : 3));
		expect_host(&f, 0x0008, 0x200000 + i * K4 + 8, 0x7000000 + i * K4 + 8);
		if (i % 3 == 2)
			expect_fault(&f, 0x0008, 0x200000 + i * K4, true, 0x05);
	}
	/* one more on a page that is mapped: nothing changes */
	assert_int_equal(iommu_intel_map(d, 0x200000 + 7 * K4, 0x9000000, K4, 3), -EBUSY);
	expect_phys(d, 0x200000 + 7 * K4, 0x7000000 + 7 * K4, K4);
	/* a run of 212 pages to the end of that leaf table, in one call */
	assert_int_equal(iommu_intel_map(d, 0x200000 + 300 * K4, 0x7000000 + 300 * K4,
					 212 * K4, 3), 0);
	expect_phys(d, 0x200000 + 511 * K4 + 5, 0x7000000 + 511 * K4 + 5, K4);
	assert_int_equal(iommu_intel_domain_table_pages(d), 3);

	/* strict single-page unmap: that page faults at once */
	iommu_intel_get_stats(f.drv, &s0);
	expect_host(&f, 0x0008, 0x200000 + 5 * K4, 0x7000000 + 5 * K4);
	assert_int_equal(iommu_intel_unmap(d, 0x200000 + 5 * K4, K4, &un), 0);
	assert_int_equal(un, K4);
	expect_fault(&f, 0x0008, 0x200000 + 5 * K4, false, 0x06);
	expect_host(&f, 0x0008, 0x200000 + 6 * K4, 0x7000000 + 6 * K4);
	iommu_intel_get_stats(f.drv, &s1);
	assert_int_equal(s1.iotlb_page, s0.iotlb_page + 1);
	assert_int_equal(reg(&f, R_IVA, 8), (0x200000 + 5 * K4) | B(6)); /* AM 0, IH */
	/* unmapping it again: nothing, no flush */
	assert_int_equal(iommu_intel_unmap(d, 0x200000 + 5 * K4, K4, &un), 0);
	assert_int_equal(un, 0);
	iommu_intel_get_stats(f.drv, &s0);
	assert_int_equal(s0.iotlb_page, s1.iotlb_page);
	/* every other page one by one: the last takes the two tables */
	for (unsigned i = 0; i < 512; i++) {
		if (i == 5)
			continue;
		assert_int_equal(iommu_intel_unmap(d, 0x200000 + i * K4, K4, &un), 0);
		assert_int_equal(un, K4);
		assert_int_equal(iommu_intel_domain_table_pages(d), i == 511 ? 1 : 3);
	}
	expect_fault(&f, 0x0008, 0x200000 + 511 * K4, false, 0x06);
	fx_fini(&f);
}

/*
 * Tables someone else wrote over: a directory entry of the domain made
 * to point outside the driver's table region.  map and unmap end in
 * -EFAULT instead of following it; the rest of the domain still works.
 */
static void test_foreign_table_pointer(void **state)
{
	struct iommu_intel_walk_step st[IOMMU_INTEL_WALK_MAX];
	struct iommu_intel_domain *d;
	struct fx f;
	uint64_t un, pde;
	size_t n;

	(void)state;
	fx_init(&f, CAP_DEFAULT, ECAP_DEFAULT, false, true);
	assert_int_equal(iommu_intel_domain_alloc(f.drv, IOMMU_DOMAIN_DMA, 0, &d), 0);
	assert_int_equal(iommu_intel_attach(d, 0x0008), 0);
	assert_int_equal(iommu_intel_map(d, 0x200000, 0x7000000, 4 * K4, 3), 0);
	assert_int_equal(iommu_intel_map(d, G1, 0x8000000, K4, 3), 0);
	assert_int_equal(iommu_intel_walk(f.drv, 0x0008, 0x200000, st, &n), 0);
	assert_int_equal(n, 5);
	/* the PDE (level 2) now names a page at 1 MiB, outside the region
	 * at 4 GiB and beyond anything the driver allocated */
	pde = st[3].addr;
	assert_int_equal(iommu_mem_write64(f.mem, pde, 0x100000 | 3), 0);
	assert_int_equal(iommu_intel_map(d, 0x200000 + 8 * K4, 0, K4, 3), -EFAULT);
	assert_int_equal(iommu_intel_map(d, 0x200000 + 8 * K4, 0, 2 * K4, 3), -EFAULT);
	assert_int_equal(iommu_intel_unmap(d, 0x200000, K4, &un), -EFAULT);
	assert_int_equal(un, 0);
	assert_int_equal(iommu_intel_unmap(d, 0x200000, 4 * K4, &un), -EFAULT);
	/* the other GiB is untouched */
	expect_phys(d, G1 + 4, 0x8000000 + 4, K4);
	assert_int_equal(iommu_intel_map(d, G1 + K4, 0x8001000, K4, 3), 0);
	assert_int_equal(iommu_intel_unmap(d, G1, 2 * K4, &un), 0);
	assert_int_equal(un, 2 * K4);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enable_qi),
		cmocka_unit_test(test_enable_registers),
		cmocka_unit_test(test_enable_pre_enabled),
		cmocka_unit_test(test_agaw),
		cmocka_unit_test(test_map_page_sizes),
		cmocka_unit_test(test_map_sllps),
		cmocka_unit_test(test_attach_detach),
		cmocka_unit_test(test_unmap_invalidation),
		cmocka_unit_test(test_psi_mask),
		cmocka_unit_test(test_caching_mode),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_blocked),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_single_pages_and_runs),
		cmocka_unit_test(test_foreign_table_pointer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
