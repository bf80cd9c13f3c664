// SPDX-License-Identifier: MIT
/*
 * The DMA API's IOVAs and bad input (issue 6, "What it must show" items 1
 * and 5).  Every expected address is derived in the comment next to it
 * from the reference notes (reference/linux-iommu-behaviour.md 7.1-7.4):
 *
 *  R1 (7.1)  init_iova_domain(granule 4 KiB, start_pfn max(1, 0)): pfn 0
 *            is never handed out; the anchor node sits at pfn ~0.
 *  R2 (7.4)  PCI devices (64-bit masks) try alloc_iova_fast(len,
 *            0xfffff, no flush) first; after the first failure the
 *            device's workaround is cleared for good with the notice
 *            "Using %d-bit DMA addresses", bits_per(dma_limit), and every
 *            later allocation goes to min(mask, aperture end).
 *  R3 (7.3)  alloc_iova_fast rounds sizes below 32 granules up to a power
 *            of two; sizes of order < 6 (<= 32 granules) come from and go
 *            back to the per-CPU magazines, LIFO; larger ones go to the
 *            tree.
 *  R4 (7.2)  alloc_iova(size_aligned): new_pfn = (high - size) &
 *            ~(2^fls(size - 1) - 1), walking down from cached32_node (for
 *            limits <= 4 GiB) where high starts at the limit + 1 and
 *            becomes each node's pfn_lo; the first gap that holds the
 *            aligned range wins (top-down first fit below the cached
 *            node); on success cached32_node = the new node.
 *  R5 (7.2)  freeing a tree node at/above cached32_node moves the cache
 *            to the node's successor.
 *  R6 (7.4)  reserved regions (except SW_MSI) and PCI host bridge windows
 *            are reserve_iova()'d: never handed out.
 *  R7 (dma-iommu __iommu_dma_map) the DMA address is the IOVA plus the
 *            buffer's offset in its granule; the size mapped is
 *            iova_align(size + offset).
 *
 * The intel-server built-in platform (tests/captures/lx-intel-server-rmrr):
 * a 39-bit QEMU VT-d unit (3-level SAGAW, so the domains' aperture is
 * [0, 2^39 - 1]); 00:08.0 is alone in group 1 whose only reserved region
 * is the MSI window 0xfee00000-0xfeefffff; group 11 (02:00.x) also has
 * the direct RMRR 0x3fff0000-0x3fffffff.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dma_fixture.h"

#define STRICT "console=ttyS0 intel_iommu=on iommu.strict=1"
#define LAZY NULL       /* the capture's own command line: DMA-FQ */
#define ERR IOMMU_DMA_MAPPING_ERROR
#define TO IOMMU_DMA_TO_DEVICE
#define BI IOMMU_DMA_BIDIRECTIONAL

static uint64_t map(struct iommu_dma_device *d, uint64_t phys, uint64_t size)
{
	struct iommu_error err = { 0 };
	uint64_t a = iommu_dma_map_single(d, phys, size, TO, &err);

	if (a == ERR)
		fprintf(stderr, "map failed: %s\n", err.msg);
	return a;
}

static void unmap(struct iommu_dma_device *d, uint64_t addr, uint64_t size)
{
	struct iommu_error err = { 0 };
	int ret = iommu_dma_unmap_single(d, addr, size, TO, &err);

	if (ret)
		fprintf(stderr, "unmap failed: %s\n", err.msg);
	assert_int_equal(ret, 0);
}

static uint64_t xlate(struct iommu_dma_device *d, uint64_t addr)
{
	struct iommu_dma_access a;

	if (iommu_dma_device_access(d, addr, 1, false, &a))
		return ~UINT64_C(0);
	return a.host_addr;
}

/* A strict domain, the order of the reference's worked examples. */
static void test_iova_sequence_strict(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	uint64_t a1, a2, a3, a4, big, off, cross;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_IOMMU_STRICT);

	/* R2: 32-bit first, limit pfn 0xfffff; R4 from the anchor: high =
	 * 0x100000, new_pfn = 0x100000 - 1 = 0xfffff (nothing reserved
	 * there: MSI is 0xfee00-0xfeeff).  Reference I1. */
	a1 = map(d, 0x100000, 4096);
	assert_int_equal(a1, 0xfffff000);
	/* R3: 3 pages round to 4; R4 from cached32 = 0xfffff: (0xfffff - 4)
	 * & ~3 = 0xffff8, leaving 0xffffc-0xffffe unused.  Reference I2. */
	a2 = map(d, 0x200000, 12 * KiB);
	assert_int_equal(a2, 0xffff8000);
	/* R4 from cached32 = 0xffff8: 0xffff8 - 1 = 0xffff7 (the gap above
	 * the cached node is not looked at). */
	a3 = map(d, 0x300000, 4096);
	assert_int_equal(a3, 0xffff7000);
	/* R3: the strict unmap puts pfn 0xfffff in this CPU's order-0
	 * magazine; the next 1-page allocation pops it.  Reference I3. */
	unmap(d, a1, 4096);
	a4 = map(d, 0x400000, 4096);
	assert_int_equal(a4, 0xfffff000);
	/* R3: 64 pages are not rounded and not cached; R4 from cached32 =
	 * 0xffff7 (magazine hits leave the tree's cache alone): (0xffff7 -
	 * 64) & ~63 = 0xfff80.  Reference I5. */
	big = map(d, 0x1000000, 256 * KiB);
	assert_int_equal(big, 0xfff80000);
	/* R3: freed to the tree, R5: cached32 moves to its successor
	 * (0xffff7), so the same search finds the same slot again. */
	unmap(d, big, 256 * KiB);
	big = map(d, 0x1000000, 256 * KiB);
	assert_int_equal(big, 0xfff80000);
	/* R7: offset 0x456 kept; R4 from cached32 = 0xfff80: 0xfff7f. */
	off = map(d, 0x123456, 0x100);
	assert_int_equal(off, 0xfff7f456);
	/* R7: 0xff0 + 0x20 crosses into a second page: 2 pages, aligned to
	 * 2: (0xfff7f - 2) & ~1 = 0xfff7c; the address keeps 0xff0. */
	cross = map(d, 0x200ff0, 0x20);
	assert_int_equal(cross, 0xfff7cff0);
	/* What the device reaches: the buffer itself, byte for byte. */
	assert_int_equal(xlate(d, off), 0x123456);
	assert_int_equal(xlate(d, cross + 0x1f), 0x200ff0 + 0x1f);
	assert_int_equal(xlate(d, a2 + 0x2abc), 0x202abc);
	assert_int_equal(fx_log_count(&f, "DMA addresses"), 0);
	fx_stop(&f);
}

/* R3: magazines are LIFO: three 1-page IOVAs freed A, B, C come back C,
 * B, A (the last pushed is popped first). */
static void test_rcache_lifo(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	uint64_t a, b, c;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	a = map(d, 0x100000, 4096);     /* 0xfffff000 (R4) */
	b = map(d, 0x101000, 4096);     /* 0xffffe000 */
	c = map(d, 0x102000, 4096);     /* 0xffffd000 */
	assert_int_equal(a, 0xfffff000);
	assert_int_equal(b, 0xffffe000);
	assert_int_equal(c, 0xffffd000);
	unmap(d, a, 4096);
	unmap(d, b, 4096);
	unmap(d, c, 4096);
	assert_int_equal(map(d, 0x200000, 4096), c);
	assert_int_equal(map(d, 0x201000, 4096), b);
	assert_int_equal(map(d, 0x202000, 4096), a);
	/* The magazine is empty again: the tree continues below cached32
	 * (0xffffd): 0xffffc. */
	assert_int_equal(map(d, 0x203000, 4096), 0xffffc000);
	/* Two-page ranges have their own magazine (order 1): an order-0
	 * free does not serve them. */
	unmap(d, 0xffffc000, 4096);
	assert_int_equal(map(d, 0x300000, 8 * KiB), 0xffffa000); /* (0xffffc-2)&~1 */
	fx_stop(&f);
}

/*
 * R2 and the one-time notice: 1 GiB mappings fill the 32-bit space.
 * Sizes of 2^18 granules are aligned to 1 GiB (R4):
 *   1st: from the anchor, (0x100000 - 0x40000) & ~0x3ffff = 0xc0000, but
 *        [0xc0000, 0xfffff] holds the MSI node (pfn_hi 0xfeeff >=
 *        0xc0000), so the walk moves on: high = 0xfee00, (0xfee00 -
 *        0x40000) & ~0x3ffff = 0x80000 -> 0x80000000;
 *   2nd: high = 0x80000 -> 0x40000 -> 0x40000000;
 *   3rd: high = 0x40000 -> 0 < start_pfn 1: no room (the retry pass over
 *        [0x80000, 0x100000) finds nothing either) -> "Using 39-bit DMA
 *        addresses" (bits_per(0x7fffffffff) = 39), then the 39-bit limit:
 *        (0x8000000 - 0x40000) & ~0x3ffff = 0x7fc0000 -> 0x7fc0000000.
 *   A 4 KiB map afterwards does not try 32 bits again: 0x7fbffff000.
 * Reference I6.
 */
static void test_32bit_first_then_39_bits(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), 0x80000000);
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), 0x40000000);
	assert_int_equal(fx_log_count(&f, NULL), 0);
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), UINT64_C(0x7fc0000000));
	assert_int_equal(fx_log_count(&f, "0000:00:08.0: Using 39-bit DMA addresses"), 1);
	assert_int_equal(map(d, 0x100000, 4096), UINT64_C(0x7fbffff000));
	assert_int_equal(xlate(d, UINT64_C(0x7fc0000000) + 0x12345), 1 * GiB + 0x12345);
	/* Once per device: no second notice. */
	assert_int_equal(map(d, 0x101000, 4096), UINT64_C(0x7fbfffe000));
	assert_int_equal(fx_log_count(&f, NULL), 0);
	/* Another device of another group still starts below 4 GiB. */
	assert_int_equal(map(fx_dev(&f, "01:00.0"), 0x100000, 4096), 0xfffff000);
	fx_stop(&f);
}

/* A 32-bit mask never leaves the 32-bit space: dma_limit <= 4 GiB - 1,
 * so R2's first attempt is skipped and the limit is 0xfffff; when it is
 * full, DMA_MAPPING_ERROR (no notice: the workaround does not apply). */
static void test_32bit_mask(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(iommu_dma_set_mask(d, 0xffffffff), 0);
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), 0x80000000);
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), 0x40000000);
	assert_int_equal(iommu_dma_map_single(d, 1 * GiB, 1 * GiB, TO, &err), ERR);
	assert_int_equal(err.code, -ENOMEM);
	assert_int_equal(fx_log_count(&f, "DMA addresses"), 0);
	/* Small ones still fit below the first big one: (0x40000 - 1). */
	assert_int_equal(map(d, 0x100000, 4096), 0x3ffff000);
	fx_stop(&f);
}

/* iommu.forcedac=1: no 32-bit attempt at all (R2): the first 4 KiB map
 * is at the top of the 39-bit aperture, 0x7ffffff000.  Reference I7. */
static void test_forcedac(void **state)
{
	struct fx f;

	(void)state;
	fx_start(&f, "intel-server", "console=ttyS0 intel_iommu=on iommu.forcedac=1");
	assert_int_equal(map(fx_dev(&f, "00:08.0"), 0x100000, 4096), UINT64_C(0x7ffffff000));
	assert_int_equal(fx_log_count(&f, "DMA addresses"), 0);
	fx_stop(&f);
}

/*
 * R6 with a direct RMRR: group 11 reserves 0x3fff0000-0x3fffffff (its
 * pages are also mapped 1:1 in the domain).  After two 1 GiB maps
 * (0x80000000, 0x40000000 as above) cached32 is 0x40000: a 4 KiB map
 * would take 0x3ffff, inside the RMRR node (pfn_hi 0x3ffff >= 0x3ffff),
 * so the walk continues below it: high = 0x3fff0 -> 0x3ffef000.
 */
static void test_rmrr_skipped(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "02:00.0");
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), 0x80000000);
	assert_int_equal(map(d, 1 * GiB, 1 * GiB), 0x40000000);
	assert_int_equal(map(d, 0x100000, 4096), 0x3ffef000);
	/* The RMRR window itself still reaches its own memory 1:1. */
	assert_int_equal(xlate(d, 0x3fff0800), 0x3fff0800);
	fx_stop(&f);
}

/*
 * R6 with the host bridge windows the capture's kernel reported
 * ("root bus resource [mem ...]" in its dmesg): 0xa0000-0xbffff,
 * 0x40000000-0xafffffff, 0xc0000000-0xfebfffff, 0x100000000-0x8ffffffff.
 * 256 MiB maps (2^16 granules, aligned to 256 MiB) top-down in 32 bits:
 *   0xf0000000 overlaps the window 0xc0000000-0xfebfffff, and every slot
 *   down to 0xc0000000 too; 0xb0000000-0xbfffffff is free -> 0xb0000000;
 *   then 0x40000000-0xafffffff is a window: next is 0x30000000, then
 *   0x20000000, 0x10000000; 0x00000000 would hold pfn 0 (R1) and the
 *   0xa0000 window: no 32-bit room -> "Using 39-bit", then the top of 39
 *   bits, 0x7ff0000000 (far above the 0x8ffffffff window).
 * A 4 KiB map before all that still lands at 0xfffff000: the window ends
 * at 0xfebfffff.
 */
static void test_pci_windows(void **state)
{
	static const struct iommu_dma_window win[] = {
		{ 0xa0000, 0xbffff },
		{ 0x40000000, 0xafffffff },
		{ 0xc0000000, 0xfebfffff },
		{ UINT64_C(0x100000000), UINT64_C(0x8ffffffff) },
	};
	struct iommu_dma_config cfg;
	struct fx f;
	struct iommu_dma_device *d;

	(void)state;
	iommu_dma_config_init(&cfg);
	cfg.pci_windows = win;
	cfg.n_pci_windows = 4;
	fx_start_cfg(&f, "intel-server", STRICT, &cfg);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(map(d, 0x100000, 4096), 0xfffff000);
	assert_int_equal(map(d, 1 * GiB, 256 * MiB), 0xb0000000);
	assert_int_equal(map(d, 1 * GiB, 256 * MiB), 0x30000000);
	assert_int_equal(map(d, 1 * GiB, 256 * MiB), 0x20000000);
	assert_int_equal(map(d, 1 * GiB, 256 * MiB), 0x10000000);
	assert_int_equal(fx_log_count(&f, NULL), 0);
	assert_int_equal(map(d, 1 * GiB, 256 * MiB), UINT64_C(0x7ff0000000));
	assert_int_equal(fx_log_count(&f, "Using 39-bit DMA addresses"), 1);
	fx_stop(&f);
}

/*
 * dma_map_sg: one IOVA allocation for the whole list (dma-iommu
 * iommu_dma_map_sg).  Entries of 4 KiB at 0x100000 and 0x200000 and 0x100
 * bytes at 0x300800: granule-aligned lengths 1 + 1 + 1 = 3 pages, rounded
 * to 4 (R3), (0x100000 - 4) & ~3 = 0xffffc (R4).  Segments: the first two
 * are whole pages, back to back in IOVA space and within the 64 KiB
 * segment limit, so they merge: 0xffffc000 + 0x2000; the third starts at
 * offset 0x800 of its page: a new segment at 0xffffe800 + 0x100.
 */
static void test_map_sg(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };
	struct iommu_dma_sg sg[3] = {
		{ .phys = 0x100000, .length = 0x1000 },
		{ .phys = 0x200000, .length = 0x1000 },
		{ .phys = 0x300800, .length = 0x100 },
	};
	struct iommu_dma_sg many[17];

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(iommu_dma_map_sg(d, sg, 3, BI, &err), 2);
	assert_int_equal(sg[0].dma_address, 0xffffc000);
	assert_int_equal(sg[0].dma_length, 0x2000);
	assert_int_equal(sg[1].dma_address, 0xffffe800);
	assert_int_equal(sg[1].dma_length, 0x100);
	assert_int_equal(sg[2].dma_length, 0);
	assert_int_equal(xlate(d, 0xffffd010), 0x200010);
	assert_int_equal(xlate(d, 0xffffe8ff), 0x3008ff);
	assert_int_equal(iommu_dma_unmap_sg(d, sg, 3, BI, &err), 0);
	assert_int_equal(xlate(d, 0xffffc000), ~UINT64_C(0));
	/* The 3-page range went back to the order-2 magazine (R3): the next
	 * 4-page map gets it again. */
	assert_int_equal(map(d, 0x500000, 16 * KiB), 0xffffc000);

	/* 17 whole pages: the 64 KiB PCI segment limit cuts after 16. 17
	 * pages are not rounded (17 < 32 rounds to 32, R3): (0xffffc - 32)
	 * & ~31 = 0xfffc0. */
	for (int i = 0; i < 17; i++)
		many[i] = (struct iommu_dma_sg){ .phys = 0x1000000 + (uint64_t)i * 0x3000,
						 .length = 0x1000 };
	assert_int_equal(iommu_dma_map_sg(d, many, 17, TO, &err), 2);
	assert_int_equal(many[0].dma_address, 0xfffc0000);
	assert_int_equal(many[0].dma_length, 0x10000);
	assert_int_equal(many[1].dma_address, 0xfffd0000);
	assert_int_equal(many[1].dma_length, 0x1000);
	assert_int_equal(xlate(d, 0xfffd0000), 0x1000000 + 16 * 0x3000);
	assert_int_equal(iommu_dma_unmap_sg(d, many, 17, TO, &err), 0);
	fx_stop(&f);
}

/* dma_alloc_coherent: zeroed pages from the pool, mapped with the
 * coherent mask like any other range (2 pages, aligned: 0xffffe000 on a
 * fresh domain), readable and writable by the device. */
static void test_coherent(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };
	uint64_t handle, phys, junk = 0x5a5a5a5a5a5a5a5a, v = 1;
	struct iommu_device_xlate x;

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "00:08.0");
	/* Dirty the pool first: the allocation must come back zeroed. */
	assert_int_equal(iommu_mem_write(iommu_system_mem(f.s), 256 * MiB + 8, &junk, 8), 0);
	assert_int_equal(iommu_dma_alloc_coherent(d, 8 * KiB, &handle, &phys, &err), 0);
	assert_int_equal(handle, 0xffffe000);
	assert_int_equal(phys, 256 * MiB);
	assert_int_equal(iommu_device_dma_read(f.s, iommu_dma_device_pdev(d), handle + 8, &v, 8,
					       &x), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xlate(d, handle + 0x1fff), phys + 0x1fff);
	assert_int_equal(iommu_dma_free_coherent(d, 8 * KiB, phys, handle, &err), 0);
	assert_int_equal(xlate(d, handle), ~UINT64_C(0));
	/* Size 0: dma_alloc_attrs gives NULL. */
	assert_int_equal(iommu_dma_alloc_coherent(d, 0, &handle, &phys, &err), -EINVAL);
	fx_stop(&f);
}

/* Direct paths: iommu=pt puts the group in an identity domain, so
 * dma-direct hands out the physical address and the unit passes the
 * request through (reference 3.4 table; dma-iommu is not used). */
static void test_identity_direct(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_dma_access a;
	struct iommu_error err = { 0 };
	struct iommu_dma_stats st;

	(void)state;
	fx_start(&f, "intel-server", "console=ttyS0 intel_iommu=on iommu=pt");
	d = fx_dev(&f, "00:08.0");
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_DIRECT_IDENTITY);
	assert_int_equal(map(d, 0x123456, 100), 0x123456);
	assert_int_equal(iommu_dma_device_access(d, 0x123456, 1, true, &a), 0);
	assert_true(a.direct);
	assert_int_equal(a.host_addr, 0x123456);
	/* dma_capable(): a 32-bit mask cannot reach a buffer above 4 GiB;
	 * without bounce buffers that is DMA_MAPPING_ERROR. */
	assert_int_equal(iommu_dma_set_mask(d, 0xffffffff), 0);
	assert_int_equal(iommu_dma_map_single(d, 5 * GiB, 4096, TO, &err), ERR);
	assert_int_equal(err.code, -EIO);
	/* dma_direct_supported(): below ZONE_DMA's 24 bits: -EIO. */
	assert_int_equal(iommu_dma_set_mask(d, 0xfffff), -EIO);
	unmap(d, 0x123456, 100);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.direct_maps, 1);
	assert_int_equal(st.live_mappings, 0);
	fx_stop(&f);
}

/* A device the kernel gives no group (lx-pxb-bypass: a PCI expander
 * bridge outside every DRHD scope): dma-direct, untranslated. */
static void test_no_iommu_direct(void **state)
{
	struct fx f;
	struct iommu_dma_device *d = NULL;
	struct iommu_dma_access a;

	(void)state;
	fx_start(&f, "capture:lx-pxb-bypass", NULL);
	for (size_t i = 0; i < f.s->n_devices; i++)
		if (!f.s->devices[i].group) {
			assert_int_equal(iommu_dma_device_get(f.dma, f.s->devices[i].pdev, &d), 0);
			break;
		}
	assert_non_null(d);
	assert_int_equal(iommu_dma_device_path(d), IOMMU_DMA_PATH_DIRECT_NO_IOMMU);
	assert_int_equal(map(d, 0x200000, 4096), 0x200000);
	assert_int_equal(iommu_dma_device_access(d, 0x200000, 4, false, &a), 0);
	assert_true(a.direct);
	fx_stop(&f);
}

/* AMD: software page tables, a 64-bit aperture (bits_per(~0) = 64), the
 * same allocator rules: 0xfffff000 first. */
static void test_amd(void **state)
{
	struct fx f;
	struct iommu_dma_device *d = NULL;

	(void)state;
	fx_start(&f, "amd-server", NULL);
	for (size_t i = 0; i < f.s->n_devices && !d; i++) {
		struct iommu_dma_device *c;

		if (!f.s->devices[i].group)
			continue;
		assert_int_equal(iommu_dma_device_get(f.dma, f.s->devices[i].pdev, &c), 0);
		if (iommu_dma_device_path(c) >= IOMMU_DMA_PATH_IOMMU_STRICT &&
		    f.s->devices[i].group->n_resv <= 2)
			d = c;
	}
	assert_non_null(d);
	assert_int_equal(map(d, 0x100000, 4096), 0xfffff000);
	assert_int_equal(xlate(d, 0xfffff123), 0x100123);
	fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Bad input (item 5)                                                   */

static void check_allocator_consistent(struct iommu_dma_device *d, uint64_t phys)
{
	/* Two fresh maps never share an IOVA. */
	uint64_t x = map(d, phys, 4096), y = map(d, phys + 4096, 4096);

	assert_int_not_equal(x, ERR);
	assert_int_not_equal(y, ERR);
	assert_int_not_equal(x & ~UINT64_C(0xfff), y & ~UINT64_C(0xfff));
	unmap(d, x, 4096);
	unmap(d, y, 4096);
}

static void bad_input(bool debug)
{
	struct iommu_dma_config cfg;
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };
	struct iommu_dma_stats st;
	uint64_t a, b, h, p;
	struct iommu_dma_sg sg[2] = { { .phys = 0x100000, .length = 4096 },
				      { .phys = 0x300000, .length = 4096 } };

	iommu_dma_config_init(&cfg);
	cfg.debug = debug;
	fx_start_cfg(&f, "intel-server", STRICT, &cfg);
	d = fx_dev(&f, "00:08.0");

	/* DMA_NONE and garbage directions: the kernel BUG()s; refused. */
	assert_int_equal(iommu_dma_map_single(d, 0x100000, 4096, IOMMU_DMA_NONE, &err), ERR);
	assert_int_equal(err.code, -EINVAL);
	assert_int_equal(iommu_dma_map_single(d, 0x100000, 4096, 7, &err), ERR);
	/* Size 0 on the IOMMU path: refused, no IOVA taken (the next map is
	 * still the first address, R2/R4). */
	assert_int_equal(iommu_dma_map_single(d, 0x100000, 0, TO, &err), ERR);
	assert_int_equal(err.code, -EINVAL);
	/* A buffer beyond the modelled memory, or wrapping. */
	assert_int_equal(iommu_dma_map_single(d, FX_MEM - 4096, 8192, TO, &err), ERR);
	assert_int_equal(iommu_dma_map_single(d, 0x1000, UINT64_MAX, TO, &err), ERR);
	assert_int_equal(iommu_dma_set_mask(d, 0), -EIO);
	/* Nothing above took an IOVA. */
	a = map(d, 0x100000, 0x10);
	assert_int_equal(a, 0xfffff000);

	/* Unaligned sizes and offsets are the normal case: R7. */
	b = map(d, 0x200001, 3);
	assert_int_equal(b, 0xffffe001);
	assert_int_equal(xlate(d, b + 2), 0x200003);
	unmap(d, b, 3);

	/* An unmap of a range never mapped: iommu_dma_unmap_page's
	 * iova_to_phys() finds nothing (WARN) and nothing changes. */
	assert_int_equal(iommu_dma_unmap_single(d, 0xabc00000, 4096, TO, &err), -ENOENT);
	/* Beyond the 39-bit aperture. */
	assert_int_equal(iommu_dma_unmap_single(d, UINT64_C(1) << 45, 4096, TO, &err), -ENOENT);
	/* A double unmap: the second finds nothing. */
	unmap(d, a, 0x10);
	assert_int_equal(iommu_dma_unmap_single(d, a, 0x10, TO, &err), -ENOENT);
	/* The freed IOVA went back once: the next two maps differ. */
	check_allocator_consistent(d, 0x400000);

	if (debug) {
		/* dma-debug catches what dma-iommu cannot: the mapping stays. */
		a = map(d, 0x500000, 8192);
		assert_int_equal(iommu_dma_unmap_single(d, a, 4096, TO, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "different size"));
		assert_int_equal(iommu_dma_unmap_single(d, a, 8192, IOMMU_DMA_FROM_DEVICE, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "different direction"));
		assert_int_equal(iommu_dma_unmap_sg(d, sg, 1, TO, &err), -ENOENT);
		assert_int_equal(xlate(d, a + 4096), 0x501000);
		unmap(d, a, 8192);
		/* sg lists: a different entry count is refused.  (Two whole
		 * pages back to back in IOVA space: one DMA segment.) */
		assert_int_equal(iommu_dma_map_sg(d, sg, 2, TO, &err), 1);
		assert_int_equal(iommu_dma_unmap_sg(d, sg, 1, TO, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "different entry count"));
		assert_int_equal(iommu_dma_unmap_sg(d, sg, 2, TO, &err), 0);
		/* Coherent memory freed with the wrong CPU address. */
		assert_int_equal(iommu_dma_alloc_coherent(d, 4096, &h, &p, &err), 0);
		assert_int_equal(iommu_dma_free_coherent(d, 4096, p + 4096, h, &err), -EINVAL);
		assert_int_equal(iommu_dma_free_coherent(d, 4096, p, h, &err), 0);
		assert_int_equal(iommu_dma_free_coherent(d, 4096, p, h, &err), -ENOENT);
		assert_true(fx_log_count(&f, "DMA-API") >= 5);
	} else {
		/* Without dma-debug the kernel's own checks still hold: a
		 * double unmap of an sg list and a double coherent free find
		 * nothing mapped. */
		assert_int_equal(iommu_dma_map_sg(d, sg, 2, TO, &err), 1);
		assert_int_equal(iommu_dma_unmap_sg(d, sg, 2, TO, &err), 0);
		assert_int_equal(iommu_dma_unmap_sg(d, sg, 2, TO, &err), -ENOENT);
		assert_int_equal(iommu_dma_alloc_coherent(d, 4096, &h, &p, &err), 0);
		assert_int_equal(iommu_dma_free_coherent(d, 4096, p, h, &err), 0);
		assert_int_equal(iommu_dma_free_coherent(d, 4096, p, h, &err), -EINVAL);
	}
	check_allocator_consistent(d, 0x600000);
	iommu_dma_get_stats(f.dma, &st);
	assert_int_equal(st.live_mappings, 0);
	assert_int_equal(st.maps, st.unmaps);
	assert_true(st.bad_unmaps >= 4);
	assert_true(st.map_errors >= 5);
	assert_int_equal(iommu_dma_report_leaks(f.dma), 0);
	fx_stop(&f);
}

/*
 * A mask below every IOVA: iommu_dma_ops accepts any mask (no
 * dma_supported), the allocation fails (limit pfn 0 < start_pfn 1, R1).
 * The failed search leaves max32_alloc_size = 1 (7.2 step 6), so with the
 * mask back at 64 bits the 32-bit attempt of the next 1-page map fails
 * at once (7.2 step 2: bound <= 4 GiB and size >= max32_alloc_size): the
 * device goes to 39-bit addresses for good, 0x7ffffff000, as the kernel
 * would.  A free below 4 GiB would have reset it; there was none.
 */
static void test_tiny_mask(void **state)
{
	struct fx f;
	struct iommu_dma_device *d;
	struct iommu_error err = { 0 };

	(void)state;
	fx_start(&f, "intel-server", STRICT);
	d = fx_dev(&f, "01:00.0");
	assert_int_equal(iommu_dma_set_mask(d, 0xfff), 0);
	assert_int_equal(iommu_dma_map_single(d, 0x100000, 4096, TO, &err), ERR);
	assert_int_equal(err.code, -ENOMEM);
	assert_int_equal(fx_log_count(&f, NULL), 0);
	assert_int_equal(iommu_dma_set_mask(d, ~UINT64_C(0)), 0);
	assert_int_equal(map(d, 0x100000, 4096), UINT64_C(0x7ffffff000));
	assert_int_equal(fx_log_count(&f, "Using 39-bit DMA addresses"), 1);
	fx_stop(&f);
}

static void test_bad_input_debug(void **state)
{
	(void)state;
	bad_input(true);
}

static void test_bad_input_no_debug(void **state)
{
	(void)state;
	bad_input(false);
}

/* The context refuses what it cannot model. */
static void test_create_errors(void **state)
{
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_dma *dma = NULL;
	struct iommu_dma_config cfg;
	struct iommu_error err = { 0 };
	struct iommu_dma_window w = { 0x2000, 0x1000 };

	(void)state;
	assert_int_equal(iommu_platform_load_builtin("intel-server", &p, &err), 0);
	assert_int_equal(iommu_system_build(p, &(struct iommu_system_options){ 0 }, &s, &err), 0);
	/* Not started. */
	assert_int_equal(iommu_dma_create(s, NULL, &dma, &err), -EINVAL);
	assert_null(dma);
	assert_int_equal(iommu_system_start(s, FX_MEM, &err), 0);
	iommu_dma_config_init(&cfg);
	cfg.pci_windows = &w;
	cfg.n_pci_windows = 1;
	assert_int_equal(iommu_dma_create(s, &cfg, &dma, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "precedes"));
	iommu_dma_config_init(&cfg);
	cfg.coherent_base = FX_MEM - 4096;
	cfg.coherent_size = 8192;
	assert_int_equal(iommu_dma_create(s, &cfg, &dma, &err), -EINVAL);
	cfg.coherent_base = 0x1234;
	cfg.coherent_size = 4096;
	assert_int_equal(iommu_dma_create(s, &cfg, &dma, &err), -EINVAL);
	assert_int_equal(iommu_dma_create(s, NULL, &dma, &err), 0);
	assert_int_equal(iommu_dma_device_get(dma, NULL, &(struct iommu_dma_device *){ NULL }),
			 -ENOENT);
	iommu_dma_destroy(dma);
	iommu_system_free(s);
	iommu_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iova_sequence_strict),
		cmocka_unit_test(test_rcache_lifo),
		cmocka_unit_test(test_32bit_first_then_39_bits),
		cmocka_unit_test(test_32bit_mask),
		cmocka_unit_test(test_forcedac),
		cmocka_unit_test(test_rmrr_skipped),
		cmocka_unit_test(test_pci_windows),
		cmocka_unit_test(test_map_sg),
		cmocka_unit_test(test_coherent),
		cmocka_unit_test(test_identity_direct),
		cmocka_unit_test(test_no_iommu_direct),
		cmocka_unit_test(test_amd),
		cmocka_unit_test(test_tiny_mask),
		cmocka_unit_test(test_bad_input_debug),
		cmocka_unit_test(test_bad_input_no_debug),
		cmocka_unit_test(test_create_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
