// SPDX-License-Identifier: MIT
/*
 * core_unmap_checked() (src/core/internal.h), what the DMA layer's unmap
 * calls: iommu_dma_unmap_page's
 *
 *     phys = iommu_iova_to_phys(domain, addr); if (!phys) WARN, return;
 *     unmapped = iommu_unmap(domain, iova, size);
 *
 * (drivers/iommu/dma-iommu.c, reference 7.4) in one lock round and, where
 * the table allows, one walk.  Differential: two systems started alike,
 * the same random sequence of maps and unmaps on one DMA domain of each,
 * one unmapping with core_unmap_checked(), the other with the kernel's
 * two public calls.  After every step the answers (mapped or not, bytes
 * unmapped), the domains' counters, the VT-d drivers' invalidation
 * counters and table pages, and iommu_iova_to_phys() around the range
 * must be identical; at the end, every page of the window.
 *
 * Each platform runs three mixes, because the one-walk paths depend on the
 * domain's history: small pages only (the one-walk paths throughout),
 * mappings of physical page 0 (whose iova_to_phys is 0: the check must
 * refuse their unmap, as the kernel's WARN does), and 2 MiB pages (VT-d
 * superpages; AMD pages that start before the IOVA asked for).  The
 * domains: intel-server's 00:08.0 strict (DMA, page-selective
 * invalidation on every unmap) and lazy (DMA-FQ, nothing until the
 * flush), amd-server's 00:02.0 (DMA, software v1 table).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/internal.h"
#include "dma_fixture.h"

#define STRICT "console=ttyS0 intel_iommu=on iommu.strict=1"
#define WIN_BASE UINT64_C(0x100000000)      /* 4 GiB: no direct region there */
#define WIN_PAGES UINT64_C(2048)            /* 8 MiB: four 2 MiB slots */
#define STEPS 3000
#define M2 (2 * MiB)

enum mix { MIX_SMALL, MIX_PAGE0, MIX_2M };

struct side {
	struct fx f;
	struct iommu_domain *d;
	struct iommu_intel *drv;            /* VT-d: the unit's driver */
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void side_start(struct side *x, const char *plat, const char *cmdline, const char *bdf)
{
	struct iommu_dma_device *dev;

	fx_start(&x->f, plat, cmdline);
	dev = fx_dev(&x->f, bdf);
	x->d = iommu_dma_device_domain(dev);
	assert_non_null(x->d);
	x->drv = iommu_domain_intel(x->d) ? iommu_system_intel(x->f.s, iommu_domain_unit(x->d))
					   : NULL;
}

static void same_state(struct side *a, struct side *b, uint64_t lo, uint64_t hi, unsigned step)
{
	struct iommu_domain_stats sa, sb;

	iommu_domain_get_stats(a->d, &sa);
	iommu_domain_get_stats(b->d, &sb);
	if (memcmp(&sa, &sb, sizeof(sa)))
		fail_msg("step %u: domain counters differ (unmaps %llu/%llu, bytes %llu/%llu)", step,
			 (unsigned long long)sa.unmaps, (unsigned long long)sb.unmaps,
			 (unsigned long long)sa.bytes_unmapped, (unsigned long long)sb.bytes_unmapped);
	if (a->drv) {
		struct iommu_intel_stats ia, ib;

		iommu_intel_get_stats(a->drv, &ia);
		iommu_intel_get_stats(b->drv, &ib);
		if (memcmp(&ia, &ib, sizeof(ia)))
			fail_msg("step %u: VT-d driver counters differ (page %llu/%llu, domain "
				 "%llu/%llu, table pages %llu/%llu)", step,
				 (unsigned long long)ia.iotlb_page, (unsigned long long)ib.iotlb_page,
				 (unsigned long long)ia.iotlb_domain, (unsigned long long)ib.iotlb_domain,
				 (unsigned long long)ia.table_pages, (unsigned long long)ib.table_pages);
		assert_int_equal(iommu_intel_domain_table_pages(iommu_domain_intel(a->d)),
				 iommu_intel_domain_table_pages(iommu_domain_intel(b->d)));
	}
	for (uint64_t v = lo; v < hi; v += PG) {
		uint64_t pa = iommu_iova_to_phys(a->d, v), pb = iommu_iova_to_phys(b->d, v);

		if (pa != pb)
			fail_msg("step %u: iova_to_phys(0x%llx) 0x%llx, the two calls leave 0x%llx",
				 step, (unsigned long long)v, (unsigned long long)pa,
				 (unsigned long long)pb);
	}
}

/* A 4 KiB-aligned physical address for a page of @size (aligned to it
 * when @aligned), never 0 unless the mix maps page 0 and the dice say so. */
static uint64_t pick_paddr(uint64_t *rng, enum mix mix, uint64_t size, bool aligned)
{
	uint64_t pa;

	if (mix == MIX_PAGE0 && rnd(rng) % 6 == 0)
		return 0;
	pa = (1 + rnd(rng) % 4000) * PG;
	if (aligned)
		pa = (pa + size - 1) & ~(size - 1);
	return pa;
}

static void run(const char *plat, const char *cmdline, const char *bdf, enum mix mix,
		uint64_t seed)
{
	static const uint64_t sizes[] = { PG, PG, PG, 2 * PG, 3 * PG, 4 * PG, 16 * PG };
	struct side a, b;
	uint64_t rng = seed, limit;
	struct iommu_domain_geometry geo;
	unsigned refused = 0, unmapped_steps = 0;

	side_start(&a, plat, cmdline, bdf);
	side_start(&b, plat, cmdline, bdf);
	iommu_domain_get_geometry(a.d, &geo);
	limit = geo.aperture_end;
	for (unsigned step = 0; step < STEPS; step++) {
		uint64_t r = rnd(&rng), iova, size, lo, hi;

		if (r % 16 < 7) {
			/* map: small, or a 2 MiB-aligned 2 MiB page in that mix */
			bool big = mix == MIX_2M && r % 5 == 0;
			uint64_t pa;
			int prot = r & 64 ? IOMMU_PROT_READ : IOMMU_PROT_READ | IOMMU_PROT_WRITE;
			int ra, rb;

			size = big ? M2 : sizes[(r >> 8) % 7];
			iova = WIN_BASE + (big ? ((r >> 16) % (WIN_PAGES * PG / M2)) * M2
					       : ((r >> 16) % (WIN_PAGES - 16)) * PG);
			pa = pick_paddr(&rng, mix, size, big);
			ra = iommu_map(a.d, iova, pa, size, prot);
			rb = iommu_map(b.d, iova, pa, size, prot);
			assert_int_equal(ra, rb);
		} else if (r % 16 < 15) {
			/* dma-iommu's unmap: addr in the first page of the range */
			uint64_t addr, na, nb;
			bool ma, mb;

			if (mix == MIX_2M && r % 7 == 0)
				size = M2;
			else
				size = sizes[(r >> 8) % 7];
			iova = WIN_BASE + ((r >> 16) % (WIN_PAGES - 16)) * PG;
			if (r % 97 == 0)        /* beyond the VT-d domain's width */
				iova = limit < UINT64_MAX ? (limit + 1) & ~(PG - 1) : iova;
			/* at the page's start half the time in the page-0 mix,
			 * where only offset 0 reads as a hole */
			addr = iova + (mix == MIX_PAGE0 && r & 2 ? 0 : (r >> 40) % PG);
			na = core_unmap_checked(a.d, addr, iova, size, &ma, NULL);
			mb = iommu_iova_to_phys(b.d, addr) != 0;
			nb = mb ? iommu_unmap(b.d, iova, size) : 0;
			if (ma != mb || na != nb)
				fail_msg("step %u: unmap of 0x%llx+0x%llx at 0x%llx: mapped %d, 0x%llx "
					 "bytes; the two calls: mapped %d, 0x%llx bytes", step,
					 (unsigned long long)iova, (unsigned long long)size,
					 (unsigned long long)addr, ma, (unsigned long long)na, mb,
					 (unsigned long long)nb);
			refused += !ma;
			unmapped_steps += na != 0;
		} else {
			iommu_flush_iotlb_all(a.d);
			iommu_flush_iotlb_all(b.d);
			iova = WIN_BASE;
			size = PG;
		}
		lo = iova >= PG ? iova - PG : iova;
		hi = iova + size + PG < iova ? UINT64_MAX & ~(PG - 1) : iova + size + PG;
		if (hi - lo > 1024 * PG)
			hi = lo + 1024 * PG;
		same_state(&a, &b, lo, hi, step);
	}
	same_state(&a, &b, WIN_BASE, WIN_BASE + WIN_PAGES * PG, STEPS);
	/* Both outcomes happened often enough to mean something. */
	assert_true(refused > STEPS / 20);
	assert_true(unmapped_steps > STEPS / 20);
	fx_stop(&a.f);
	fx_stop(&b.f);
}

static void test_intel_strict(void **state)
{
	(void)state;
	run("intel-server", STRICT, "00:08.0", MIX_SMALL, 0x9e3779b97f4a7c15u);
	run("intel-server", STRICT, "00:08.0", MIX_PAGE0, 0x2545f4914f6cdd1du);
	run("intel-server", STRICT, "00:08.0", MIX_2M, 0x853c49e6748fea9bu);
}

static void test_intel_lazy(void **state)
{
	(void)state;
	run("intel-server", NULL, "00:08.0", MIX_SMALL, 0xda3e39cb94b95bdbu);
	run("intel-server", NULL, "00:08.0", MIX_PAGE0, 0x6c8e9cf570932bd5u);
	run("intel-server", NULL, "00:08.0", MIX_2M, 0x94d049bb133111ebu);
}

static void test_amd(void **state)
{
	(void)state;
	run("amd-server", NULL, "00:02.0", MIX_SMALL, 0xbf58476d1ce4e5b9u);
	run("amd-server", NULL, "00:02.0", MIX_PAGE0, 0x369dea0f31a53f85u);
	run("amd-server", NULL, "00:02.0", MIX_2M, 0xd6e8feb86659fd93u);
}

/*
 * The kernel's WARN case itself, step by step on each domain: an address
 * never mapped, a double unmap, a mapping of physical page 0 at offset 0
 * (iova_to_phys 0: refused, and the mapping stays, as the kernel leaves
 * it) and at an offset inside it (not 0: unmapped).
 */
static void test_refusals(void **state)
{
	static const struct {
		const char *plat, *cmdline, *bdf;
	} doms[] = {
		{ "intel-server", STRICT, "00:08.0" },
		{ "intel-server", NULL, "00:08.0" },
		{ "amd-server", NULL, "00:02.0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		struct side x;
		uint64_t v = WIN_BASE;
		enum iommu_domain_type t;
		bool m;

		side_start(&x, doms[i].plat, doms[i].cmdline, doms[i].bdf);
		assert_int_equal(core_unmap_checked(x.d, v + 0x10, v, PG, &m, NULL), 0);
		assert_false(m);
		assert_int_equal(iommu_map(x.d, v, 0x200000, PG, IOMMU_PROT_READ), 0);
		assert_int_equal(core_unmap_checked(x.d, v + 0x10, v, PG, &m, &t), PG);
		assert_true(m);
		assert_int_equal(t, iommu_domain_get_type(x.d));   /* DMA or DMA-FQ */
		assert_int_equal(iommu_iova_to_phys(x.d, v), 0);
		assert_int_equal(core_unmap_checked(x.d, v + 0x10, v, PG, &m, NULL), 0);
		assert_false(m);
		/* physical page 0 */
		assert_int_equal(iommu_map(x.d, v, 0, PG, IOMMU_PROT_READ), 0);
		assert_int_equal(core_unmap_checked(x.d, v, v, PG, &m, NULL), 0);
		assert_false(m);
		assert_int_equal(iommu_iova_to_phys(x.d, v + 8), 8);     /* still mapped */
		assert_int_equal(core_unmap_checked(x.d, v + 8, v, PG, &m, NULL), PG);
		assert_true(m);
		assert_int_equal(iommu_iova_to_phys(x.d, v + 8), 0);
		fx_stop(&x.f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_intel_strict),
		cmocka_unit_test(test_intel_lazy),
		cmocka_unit_test(test_amd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
