// SPDX-License-Identifier: MIT
/*
 * iommu-bench, VT-d part: the modelled remapping unit (iommu/hw.h) and
 * the core's Intel driver (iommu/core.h), each figure against a floor or
 * a peer measured in the same run on the same access pattern, printed as
 * a ratio next to the target of issue 5 ("What it must show", item 4;
 * designs in reference/performance.md section 6).  Asserts nothing.
 *
 *   iotlb hit        vs a set-associative probe of the same geometry
 *   iotlb hit        vs a GLib GHashTable lookup (only when built with glib)
 *   walk on a miss   vs a pointer chase through the same levels and table size
 *   single map/unmap vs a hot walk + one 8-byte store
 *   256-page batch   vs 256 8-byte PTE stores
 *   1 GiB of 4 KiB   vs PTE stores + zeroing the new table pages
 *   table memory     vs the arithmetic minimum; after a full unmap
 *   IRTE lookup      absolute (<= 5 ns); floor: an array-indexed IRTE read
 *   fault record     absolute (<= 50 ns); floor: a 16-byte ring store
 *
 * Each case prints one JSON line through bench_report() (bench_common.h),
 * its human description as the note.  Table memory cases carry pages,
 * not ns, in ns_per_op and floor_ns (the note says so).
 *
 * Times: CLOCK_MONOTONIC, best of REPS repetitions of ~40 ms each.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommu/core.h"
#include "iommu/hw.h"

#include "bench_common.h"

#ifdef HAVE_GLIB
#include <glib.h>
#endif

#define REPS 5
#define REP_SECONDS 0.04

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define PG 4096u

#define MEM_SIZE (UINT64_C(8) * GiB)
#define TABLE_BASE (UINT64_C(4) * GiB)
#define TABLE_SIZE (UINT64_C(64) * MiB)
#define IRT_BASE (UINT64_C(256) * MiB)

#define SID_HIT 0x0010   /* 00:02.0: the small warm domain */
#define SID_MISS 0x0018  /* 00:03.0: the 1 GiB domain */
#define SID_NONE 0x0020  /* 00:04.0: never attached */

/* Registers used directly (VT-d specification 10.4). */
#define REG_CAP 0x008u
#define REG_GCMD 0x018u
#define REG_GSTS 0x01cu
#define REG_IRTA 0x0b8u
#define GSTS_PERSIST ((1u << 31) | (1u << 26) | (1u << 25) | (1u << 23)) /* TE QIE IRE CFI */
#define GCMD_IRE (1u << 25)
#define GCMD_SIRTP (1u << 24)

static volatile uint64_t sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/* ns per iteration of @fn: calibrated to ~REP_SECONDS, best of REPS. */
typedef void (*loop_fn)(void *ctx, uint64_t n);

static double per_op_ns(loop_fn fn, void *ctx)
{
	uint64_t n = 256;
	double t, best = 1e30;

	for (;;) {
		double t0 = now();

		fn(ctx, n);
		t = now() - t0;
		if (t >= 0.005 || n >= (UINT64_C(1) << 32))
			break;
		n *= 4;
	}
	n = (uint64_t)((double)n * REP_SECONDS / (t > 0 ? t : 1e-9));
	if (n < 1)
		n = 1;
	for (int r = 0; r < REPS; r++) {
		double t0 = now();

		fn(ctx, n);
		t = now() - t0;
		if (t < best)
			best = t;
	}
	return best * 1e9 / (double)n;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "iommu-bench: %s: %d (%s)\n", what, ret, strerror(ret < 0 ? -ret : ret));
	exit(1);
}

/* ------------------------------------------------------------------ */
/* Plain 3-level radix tables in an array: the floors' page tables.     */
/* Entries hold (page index << 12) | R | W, like a VT-d second-level    */
/* entry holds a table address.                                          */

struct ftab {
	uint64_t (*pg)[512];
	size_t npages, used;
};

static void ftab_init(struct ftab *t, size_t npages)
{
	t->pg = aligned_alloc(PG, npages * PG);
	if (!t->pg)
		die("aligned_alloc", -ENOMEM);
	memset(t->pg, 0, npages * PG);
	t->npages = npages;
	t->used = 1; /* page 0: the top table */
}

/* Build the path for @iova (levels 3, 2) and set its leaf. */
static void ftab_map(struct ftab *t, uint64_t iova, uint64_t pte)
{
	size_t p = 0;

	for (int lvl = 3; lvl > 1; lvl--) {
		unsigned idx = (unsigned)(iova >> (12 + 9 * (lvl - 1))) & 511;

		if (!t->pg[p][idx]) {
			if (t->used == t->npages)
				die("floor table full", -ENOMEM);
			t->pg[p][idx] = ((uint64_t)t->used++ << 12) | 3;
		}
		p = (size_t)(t->pg[p][idx] >> 12);
	}
	t->pg[p][(iova >> 12) & 511] = pte;
}

/* Three dependent loads with the masks, as the walker does them. */
static inline uint64_t ftab_walk(const struct ftab *t, uint64_t iova)
{
	uint64_t e = t->pg[0][(iova >> 30) & 511];

	e = t->pg[e >> 12][(iova >> 21) & 511];
	e = t->pg[e >> 12][(iova >> 12) & 511];
	return (e & ~UINT64_C(0xfff)) | (iova & 0xfff);
}

/* Hot walk to the leaf table, then one 8-byte store. */
__attribute__((noinline)) static void ftab_walk_store(struct ftab *t, uint64_t iova, uint64_t pte)
{
	uint64_t e = t->pg[0][(iova >> 30) & 511];

	e = t->pg[e >> 12][(iova >> 21) & 511];
	((volatile uint64_t *)t->pg[e >> 12])[(iova >> 12) & 511] = pte;
}

/* ------------------------------------------------------------------ */
/* The set-associative probe floor: the IOTLB's geometry, tags of a set */
/* contiguous and compared in a row.                                     */

struct probe {
	unsigned sets, ways;
	uint64_t *tag, *data;
};

#define PROBE_VALID (UINT64_C(1) << 63)

static void probe_init(struct probe *p, unsigned sets, unsigned ways)
{
	p->sets = sets;
	p->ways = ways;
	p->tag = calloc((size_t)sets * ways, sizeof(uint64_t));
	p->data = calloc((size_t)sets * ways, sizeof(uint64_t));
	if (!p->tag || !p->data)
		die("calloc", -ENOMEM);
}

static void probe_insert(struct probe *p, uint16_t did, uint64_t pfn, uint64_t host)
{
	size_t set = (size_t)(pfn & (p->sets - 1)) * p->ways;
	uint64_t tag = PROBE_VALID | (uint64_t)did << 40 | pfn;

	for (unsigned w = 0; w < p->ways; w++)
		if (!p->tag[set + w]) {
			p->tag[set + w] = tag;
			p->data[set + w] = host;
			return;
		}
	die("probe set full", -ENOSPC);
}

__attribute__((noinline)) static uint64_t probe_lookup(const struct probe *p, uint16_t did,
							uint64_t addr)
{
	uint64_t pfn = addr >> 12;
	size_t set = (size_t)(pfn & (p->sets - 1)) * p->ways;
	uint64_t tag = PROBE_VALID | (uint64_t)did << 40 | pfn;
	const uint64_t *t = &p->tag[set];

	for (unsigned w = 0; w < p->ways; w++)
		if (t[w] == tag)
			return p->data[set + w] | (addr & 0xfff);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loops                                                                */

#define PATTERN 4096u /* power of two */

struct xlate_ctx {
	struct iommu_vtd_unit *unit;
	uint16_t sid;
	const uint64_t *addrs;
	size_t mask;
	struct probe *probe;
	uint16_t did;
	const struct ftab *ftab;
#ifdef HAVE_GLIB
	GHashTable *ht;
	const uint64_t *keys;
#endif
};

static void loop_translate(void *c, uint64_t n)
{
	struct xlate_ctx *x = c;
	struct iommu_vtd_request req = { .source_id = x->sid, .size = 8 };
	struct iommu_vtd_result res;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		req.addr = x->addrs[i & x->mask];
		if (iommu_vtd_translate(x->unit, &req, &res) == 0)
			acc += res.host_addr;
	}
	sink += acc;
}

static void loop_probe(void *c, uint64_t n)
{
	struct xlate_ctx *x = c;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++)
		acc += probe_lookup(x->probe, x->did, x->addrs[i & x->mask]);
	sink += acc;
}

static void loop_chase(void *c, uint64_t n)
{
	struct xlate_ctx *x = c;
	uint64_t acc = 0, prev = 0;

	for (uint64_t i = 0; i < n; i++) {
		/* prev >> 63 is 0 (host addresses are below 2^39), but the
		 * next address now waits for this walk: a true chase. */
		prev = ftab_walk(x->ftab, x->addrs[(i ^ (prev >> 63)) & x->mask]);
		acc += prev;
	}
	sink += acc;
}

static void loop_chase_indep(void *c, uint64_t n)
{
	struct xlate_ctx *x = c;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++)
		acc += ftab_walk(x->ftab, x->addrs[i & x->mask]);
	sink += acc;
}

/* The same chaining through the unit. */
static void loop_translate_chained(void *c, uint64_t n)
{
	struct xlate_ctx *x = c;
	struct iommu_vtd_request req = { .source_id = x->sid, .size = 8 };
	struct iommu_vtd_result res = { 0 };
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		req.addr = x->addrs[(i ^ (res.host_addr >> 63)) & x->mask];
		if (iommu_vtd_translate(x->unit, &req, &res) == 0)
			acc += res.host_addr;
	}
	sink += acc;
}

#ifdef HAVE_GLIB
static void loop_ghash(void *c, uint64_t n)
{
	struct xlate_ctx *x = c;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		const uint64_t *v = g_hash_table_lookup(x->ht, &x->keys[i & x->mask]);

		if (v)
			acc += *v | (x->addrs[i & x->mask] & 0xfff);
	}
	sink += acc;
}
#endif

struct irq_ctx {
	struct iommu_vtd_unit *unit;
	struct iommu_vtd_msi msi[64];
	const uint64_t (*irt)[2];   /* the floor's table: 128-bit entries */
};

/* The array-index floor of an IRTE lookup: the handle from the MSI
 * address (5.1.2.2), the entry it indexes, its P bit and vector. */
__attribute__((noinline)) static unsigned irte_floor_lookup(const uint64_t (*irt)[2],
							    const struct iommu_vtd_msi *m)
{
	uint32_t a = (uint32_t)m->addr;
	unsigned idx = ((a >> 5) & 0x7fff) | ((a >> 2) & 1) << 15;
	uint64_t lo = irt[idx & 255][0];

	return (lo & 1) ? (unsigned)(lo >> 16) & 0xff : 0;
}

static void loop_irte_floor(void *c, uint64_t n)
{
	struct irq_ctx *x = c;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++)
		acc += irte_floor_lookup(x->irt, &x->msi[i & 31]);
	sink += acc;
}

static void loop_irq(void *c, uint64_t n)
{
	struct irq_ctx *x = c;
	struct iommu_vtd_irq irq;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (iommu_vtd_interrupt(x->unit, &x->msi[i & 31], &irq) == 0)
			acc += irq.vector;
	}
	sink += acc;
}

struct fault_ctx {
	struct iommu_vtd_unit *unit;
	struct iommu_vtd_request req;
	uint32_t frcd_hi;
	uint64_t (*ring)[2];
	unsigned head;
};

/* The fault record floor: a 16-byte record (address; source-id, reason,
 * type) stored into a ring, as a malloc-free fault log does it. */
__attribute__((noinline)) static void ring_store(struct fault_ctx *x, uint16_t sid,
						 uint64_t addr, unsigned reason)
{
	uint64_t *r = x->ring[x->head++ & 255];

	r[0] = addr;
	r[1] = (uint64_t)sid | (uint64_t)reason << 32 | UINT64_C(1) << 63;
}

static void loop_ring_floor(void *c, uint64_t n)
{
	struct fault_ctx *x = c;

	for (uint64_t i = 0; i < n; i++)
		ring_store(x, x->req.source_id, x->req.addr, 6);
	sink += x->head;
}

static void loop_fault(void *c, uint64_t n)
{
	struct fault_ctx *x = c;
	struct iommu_vtd_result res;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (iommu_vtd_translate(x->unit, &x->req, &res) == -EFAULT)
			acc += res.fault_recorded;
		/* F is RW1C: clear the record so the next fault is recorded. */
		iommu_vtd_mmio_write(x->unit, x->frcd_hi, 8, UINT64_C(1) << 63);
	}
	sink += acc;
}

/* ------------------------------------------------------------------ */

static uint64_t rd_reg(struct iommu_vtd_unit *u, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	iommu_vtd_mmio_read(u, off, size, &v);
	return v;
}

static struct iommu_intel_domain *new_domain(struct iommu_intel *drv)
{
	struct iommu_intel_domain *d;
	int ret = iommu_intel_domain_alloc(drv, IOMMU_DOMAIN_DMA_FQ, 0, &d);

	if (ret)
		die("domain_alloc", ret);
	return d;
}

static void check(int ret, const char *what)
{
	if (ret)
		die(what, ret);
}

int main(void)
{
	struct iommu_mem *mem;
	struct iommu_vtd_config cfg;
	struct iommu_vtd_unit *unit;
	struct iommu_intel_config dc = { 0 };
	struct iommu_intel *drv;
	struct iommu_error err = { 0 };
	struct iommu_intel_stats ist;
	struct iommu_vtd_stats vst;
	double t0, ns, fns;

	check(iommu_mem_create(MEM_SIZE, &mem), "mem_create");
	iommu_vtd_config_init(&cfg);
	cfg.mem = mem;
	if (iommu_vtd_create(&cfg, &unit, &err)) {
		fprintf(stderr, "iommu-bench: %s\n", err.msg);
		return 1;
	}
	dc.unit = unit;
	dc.mem = mem;
	dc.table_base = TABLE_BASE;
	dc.table_size = TABLE_SIZE;
	if (iommu_intel_create(&dc, &drv, &err)) {
		fprintf(stderr, "iommu-bench: %s\n", err.msg);
		return 1;
	}
	check(iommu_intel_enable(drv), "enable");

	{
		struct iommu_intel_domain *d = new_domain(drv);

		printf("# VT-d model: QEMU default CAP/ECAP, IOTLB %u sets x %u ways, %u-level tables (AGAW %u), %s invalidation; "
		       "times: best of %d x ~%.0f ms\n",
		       cfg.iotlb_sets, cfg.iotlb_ways, iommu_intel_domain_levels(d),
		       iommu_intel_agaw(drv), iommu_intel_uses_qi(drv) ? "queued" : "register",
		       REPS, REP_SECONDS * 1e3);
		if (iommu_intel_domain_levels(d) != 3) {
			fprintf(stderr, "iommu-bench: the floors assume 3-level tables\n");
			return 1;
		}
		iommu_intel_domain_free(d);
	}

	/* ---- 6 + 7: 1 GiB of 4 KiB pages into a fresh domain ---------- */
	const uint64_t big_iova = GiB, big_pa = UINT64_C(0x1000); /* pa not 2M aligned: 4 KiB leaves */
	const uint64_t big_pages = GiB / PG;
	const uint64_t min_pages = 1 + 1 + big_pages / 512; /* top + one L2 + 512 L1 */
	uint64_t base_pages, peak_delta = 0, dom_pages_mapped = 0, left_unflushed = 0,
		 left_flushed = 0;
	double best_map = 1e30, best_unmap = 1e30, best_floor = 1e30;

	iommu_intel_get_stats(drv, &ist);
	base_pages = ist.table_pages;
	for (int r = 0; r < REPS; r++) {
		struct iommu_intel_domain *d = new_domain(drv);
		uint64_t unmapped = 0, phys = 0, psz = 0;

		t0 = now();
		check(iommu_intel_map(d, big_iova, big_pa, GiB, IOMMU_PROT_READ | IOMMU_PROT_WRITE),
		      "map 1 GiB");
		ns = now() - t0;
		if (ns < best_map)
			best_map = ns;
		check(iommu_intel_iova_to_phys(d, big_iova + 12345 * PG, &phys, &psz), "iova_to_phys");
		if (psz != PG || phys != big_pa + 12345 * PG)
			die("1 GiB map is not made of 4 KiB pages", -EINVAL);
		dom_pages_mapped = iommu_intel_domain_table_pages(d);
		iommu_intel_get_stats(drv, &ist);
		if (ist.table_pages_peak - base_pages > peak_delta)
			peak_delta = ist.table_pages_peak - base_pages;
		t0 = now();
		check(iommu_intel_unmap(d, big_iova, GiB, &unmapped), "unmap 1 GiB");
		ns = now() - t0;
		if (ns < best_unmap)
			best_unmap = ns;
		if (unmapped != GiB)
			die("unmap 1 GiB: short", -EINVAL);
		left_unflushed = iommu_intel_domain_table_pages(d);
		check(iommu_intel_flush(d), "flush");
		left_flushed = iommu_intel_domain_table_pages(d);
		iommu_intel_domain_free(d);
	}
	{
		/* Floor: zero the new table pages (L2 + 512 L1), store their
		 * directory entries and the 262144 leaves. */
		struct ftab ft;

		ftab_init(&ft, (size_t)min_pages);
		for (int r = 0; r < REPS; r++) {
			volatile uint64_t *top = ft.pg[0];

			t0 = now();
			memset(ft.pg[1], 0, (size_t)(min_pages - 1) * PG);
			top[1] = (UINT64_C(1) << 12) | 3;
			for (uint64_t l1 = 0; l1 < 512; l1++) {
				volatile uint64_t *l2 = ft.pg[1];
				volatile uint64_t *leaf = ft.pg[2 + l1];
				uint64_t pa = big_pa + l1 * 2 * MiB;

				l2[l1] = ((2 + l1) << 12) | 3;
				for (unsigned i = 0; i < 512; i++)
					leaf[i] = (pa + (uint64_t)i * PG) | 3;
			}
			ns = now() - t0;
			if (ns < best_floor)
				best_floor = ns;
		}
		sink += ftab_walk(&ft, big_iova + 777 * PG);
		free(ft.pg);
	}
	bench_report("vtd_map_1g_4k_fresh_domain", best_map * 1e9 / (double)big_pages,
		     best_floor * 1e9 / (double)big_pages, 2, false,
		     "map 1 GiB of 4 KiB pages into a fresh domain, per page: %.3f ms in all; floor: "
		     "zero the %" PRIu64 " new tables + store the %" PRIu64 " PTEs and their directory "
		     "entries, %.3f ms (unmapping the 1 GiB takes %.3f ms = %.2f ns/page, no target)",
		     best_map * 1e3, min_pages - 1, big_pages, best_floor * 1e3, best_unmap * 1e3,
		     best_unmap * 1e9 / (double)big_pages);
	bench_report("vtd_table_memory_peak_1g_4k", (double)peak_delta, (double)min_pages, 1.01,
		     false,
		     "table memory (in pages, not ns) at the peak of mapping 1 GiB of 4 KiB pages: "
		     "%" PRIu64 " pages (the domain holds %" PRIu64 "); floor: the arithmetic minimum, "
		     "top + one level-2 table + %" PRIu64 " leaf tables = %" PRIu64,
		     peak_delta, dom_pages_mapped, big_pages / 512, min_pages);
	bench_report("vtd_table_memory_after_unmap", (double)left_flushed, 1, 1, false,
		     "table memory (in pages, not ns) of the domain after unmapping all of the 1 GiB: "
		     "%" PRIu64 " page(s) (%" PRIu64 " before the deferred flush released the freed "
		     "tables); floor: the one top-level page every domain keeps",
		     left_flushed, left_unflushed);

	/* ---- domains for the translation lines ------------------------- */
	struct iommu_intel_domain *dh = new_domain(drv), *dm = new_domain(drv);
	const uint64_t hit_iova = 0x100000, hit_pa = 0x2000000;
	const unsigned hit_pages = 256;

	check(iommu_intel_map(dh, hit_iova, hit_pa, (uint64_t)hit_pages * PG,
			      IOMMU_PROT_READ | IOMMU_PROT_WRITE), "map hit set");
	check(iommu_intel_attach(dh, SID_HIT), "attach");
	check(iommu_intel_map(dm, big_iova, big_pa, GiB, IOMMU_PROT_READ | IOMMU_PROT_WRITE),
	      "map miss set");
	check(iommu_intel_attach(dm, SID_MISS), "attach");

	/* ---- 1, 2: IOTLB hit ------------------------------------------- */
	{
		static uint64_t addrs[PATTERN];
		struct probe pr;
		struct xlate_ctx x = { .unit = unit, .sid = SID_HIT, .addrs = addrs,
				       .mask = PATTERN - 1, .probe = &pr,
				       .did = iommu_intel_domain_id(dh) };
		struct iommu_vtd_request req = { .source_id = SID_HIT, .size = 8 };
		struct iommu_vtd_result res;
		uint64_t hits, tr;

		for (unsigned i = 0; i < PATTERN; i++)
			addrs[i] = hit_iova + (rnd() % hit_pages) * PG + (rnd() & 0xff8);
		probe_init(&pr, cfg.iotlb_sets, cfg.iotlb_ways);
		for (unsigned p = 0; p < hit_pages; p++)
			probe_insert(&pr, x.did, (hit_iova >> 12) + p, hit_pa + (uint64_t)p * PG);
		for (unsigned i = 0; i < PATTERN; i++) {
			req.addr = addrs[i];
			check(iommu_vtd_translate(unit, &req, &res), "translate");
			if (res.host_addr != hit_pa + (addrs[i] - hit_iova) ||
			    probe_lookup(&pr, x.did, addrs[i]) != res.host_addr)
				die("hit: wrong translation", -EINVAL);
		}
		iommu_vtd_clear_stats(unit);
		ns = per_op_ns(loop_translate, &x);
		iommu_vtd_get_stats(unit, &vst);
		hits = vst.iotlb_hits;
		tr = vst.translations;
		fns = per_op_ns(loop_probe, &x);
		bench_report("vtd_iotlb_hit_vs_setassoc_probe", ns, fns, 3, false,
			     "iotlb hit: iommu_vtd_translate of random addresses in %u mapped pages "
			     "(%.2f%% IOTLB hits); floor: a set-associative probe of the same "
			     "geometry (%ux%u) on the same pattern",
			     hit_pages, 100.0 * (double)hits / (double)tr, cfg.iotlb_sets,
			     cfg.iotlb_ways);
#ifdef HAVE_GLIB
		{
			static uint64_t keys[PATTERN];
			static uint64_t vals[256];
			GHashTable *ht = g_hash_table_new(g_int64_hash, g_int64_equal);
			static uint64_t hkeys[256];

			for (unsigned p = 0; p < hit_pages; p++) {
				hkeys[p] = (uint64_t)x.did << 40 | ((hit_iova >> 12) + p);
				vals[p] = hit_pa + (uint64_t)p * PG;
				g_hash_table_insert(ht, &hkeys[p], &vals[p]);
			}
			for (unsigned i = 0; i < PATTERN; i++)
				keys[i] = (uint64_t)x.did << 40 | (addrs[i] >> 12);
			x.ht = ht;
			x.keys = keys;
			fns = per_op_ns(loop_ghash, &x);
			bench_report("vtd_iotlb_hit_vs_ghashtable", ns, fns, 0.75, false,
				     "iotlb hit (as above); peer: g_hash_table_lookup of the same "
				     "pages as 64-bit keys (g_int64_hash, QEMU's VT-d IOTLB design), "
				     "same pattern");
			g_hash_table_destroy(ht);
		}
#else
		printf("# vtd_iotlb_hit_vs_ghashtable: not measured, iommu-bench was built without "
		       "GLib (libglib2.0-dev)\n");
#endif
		free(pr.tag);
		free(pr.data);
	}

	/* ---- 3: walk on a miss ------------------------------------------ */
	{
		static uint64_t addrs[65536];
		struct ftab ft;
		struct xlate_ctx x = { .unit = unit, .sid = SID_MISS, .addrs = addrs,
				       .mask = 65535, .ftab = &ft };
		struct iommu_vtd_request req = { .source_id = SID_MISS, .size = 8 };
		struct iommu_vtd_result res;

		for (unsigned i = 0; i < 65536; i++)
			addrs[i] = big_iova + (rnd() % big_pages) * PG + (rnd() & 0xff8);
		ftab_init(&ft, (size_t)min_pages);
		for (uint64_t p = 0; p < big_pages; p++)
			ftab_map(&ft, big_iova + p * PG, (big_pa + p * PG) | 3);
		for (unsigned i = 0; i < 4096; i++) {
			req.addr = addrs[i];
			check(iommu_vtd_translate(unit, &req, &res), "translate");
			if (res.host_addr != big_pa + (addrs[i] - big_iova) ||
			    ftab_walk(&ft, addrs[i]) != res.host_addr)
				die("miss: wrong translation", -EINVAL);
		}
		iommu_vtd_clear_stats(unit);
		ns = per_op_ns(loop_translate_chained, &x);
		iommu_vtd_get_stats(unit, &vst);
		fns = per_op_ns(loop_chase, &x);
		{
			double ins = per_op_ns(loop_translate, &x);
			double ifns = per_op_ns(loop_chase_indep, &x);

			bench_report("vtd_walk_on_miss_dependent", ns, fns, 1.3, false,
				     "walk on a miss: iommu_vtd_translate of random 4 KiB pages over "
				     "1 GiB mapped (%.2f%% IOTLB misses, %.2f entries read/walk, tables "
				     "%" PRIu64 " KiB), each address waiting for the previous result; "
				     "floor: the same 3-level dependent chase through a %" PRIu64
				     " KiB array on the same pattern (independent requests, which the "
				     "CPU may overlap, no target: walk %.2f ns, floor %.2f ns)",
				     100.0 * (double)vst.iotlb_misses / (double)vst.translations,
				     vst.walks ? (double)vst.walk_reads / (double)vst.walks : 0.0,
				     min_pages * 4, min_pages * 4, ins, ifns);
		}
		free(ft.pg);
	}

	/* ---- 4, 5: single and batched maps on a warm domain ------------- */
	{
		struct iommu_intel_domain *dw = new_domain(drv);
		struct ftab ft;
		const uint64_t r1 = 2 * MiB, r2 = 4 * MiB; /* two 2 MiB regions */
		const uint64_t pa1 = 0x3000000, pa2 = 0x4000000;
		const int prot = IOMMU_PROT_READ | IOMMU_PROT_WRITE;
		double bmap = 1e30, bunmap = 1e30, fmap = 1e30, funmap = 1e30;
		const int rounds = 40;
		uint64_t unmapped;

		/* Pin the leaf tables: one page stays mapped in each region. */
		check(iommu_intel_map(dw, r1, pa1, PG, prot), "pin");
		check(iommu_intel_map(dw, r2 + 2 * MiB - PG, pa2 + 2 * MiB - PG, PG, prot), "pin");
		ftab_init(&ft, 4);
		ftab_map(&ft, r1, pa1 | 3);
		ftab_map(&ft, r2 + 2 * MiB - PG, (pa2 + 2 * MiB - PG) | 3);

		/* single 4 KiB: 511 maps, then 511 unmaps, one call each */
		for (int r = 0; r < REPS; r++) {
			double tm = 0, tu = 0, fm = 0, fu = 0;

			for (int k = 0; k < rounds; k++) {
				t0 = now();
				for (unsigned i = 1; i < 512; i++)
					iommu_intel_map(dw, r1 + i * PG, pa1 + i * PG, PG, prot);
				tm += now() - t0;
				t0 = now();
				for (unsigned i = 1; i < 512; i++)
					iommu_intel_unmap(dw, r1 + i * PG, PG, &unmapped);
				tu += now() - t0;
				check(iommu_intel_flush(dw), "flush");
				t0 = now();
				for (unsigned i = 1; i < 512; i++)
					ftab_walk_store(&ft, r1 + i * PG, (pa1 + i * PG) | 3);
				fm += now() - t0;
				t0 = now();
				for (unsigned i = 1; i < 512; i++)
					ftab_walk_store(&ft, r1 + i * PG, 0);
				fu += now() - t0;
			}
			if (tm < bmap) bmap = tm;
			if (tu < bunmap) bunmap = tu;
			if (fm < fmap) fmap = fm;
			if (fu < funmap) funmap = fu;
		}
		if (iommu_intel_domain_table_pages(dw) != 4)
			die("warm domain lost its tables", -EINVAL);
		{
			double n = (double)rounds * 511;

			bench_report("vtd_map_4k_single", bmap * 1e9 / n, fmap * 1e9 / n, 4, false,
				     "single 4 KiB map: iommu_intel_map of one page, 511 in a row "
				     "into a warm leaf table (deferred-flush domain); floor: a hot "
				     "3-level walk + one 8-byte store for the same pages");
			bench_report("vtd_unmap_4k_single", bunmap * 1e9 / n, funmap * 1e9 / n, 4.8,
				     false,
				     "single 4 KiB unmap: iommu_intel_unmap of one page, 511 in a "
				     "row (deferred-flush domain, the leaf table stays); floor: a hot "
				     "3-level walk + one 8-byte store");
		}

		/* batched: one map of 1 MiB (256 pages), one unmap of it */
		bmap = bunmap = fmap = funmap = 1e30;
		{
			static uint64_t arr[512] __attribute__((aligned(64)));
			const int brounds = 2000;

			for (int r = 0; r < REPS; r++) {
				double tm = 0, tu = 0, fm = 0, fu = 0;

				for (int k = 0; k < brounds; k++) {
					t0 = now();
					iommu_intel_map(dw, r2, pa2, MiB, prot);
					tm += now() - t0;
					t0 = now();
					iommu_intel_unmap(dw, r2, MiB, &unmapped);
					tu += now() - t0;
					if (unmapped != MiB)
						die("batched unmap: short", -EINVAL);
					if ((k & 63) == 63)
						check(iommu_intel_flush(dw), "flush");
					{
						volatile uint64_t *a = arr;

						t0 = now();
						for (unsigned i = 0; i < 256; i++)
							a[i] = (pa2 + (uint64_t)i * PG) | 3;
						fm += now() - t0;
						t0 = now();
						for (unsigned i = 0; i < 256; i++)
							a[i] = 0;
						fu += now() - t0;
					}
				}
				if (tm < bmap) bmap = tm;
				if (tu < bunmap) bunmap = tu;
				if (fm < fmap) fmap = fm;
				if (fu < funmap) funmap = fu;
			}
			check(iommu_intel_flush(dw), "flush");
			{
				double n = (double)brounds * 256;

				bench_report("vtd_map_256x4k_batched", bmap * 1e9 / n, fmap * 1e9 / n, 3,
					     false,
					     "256 batched 4 KiB maps: one iommu_intel_map of 1 MiB into a "
					     "warm leaf table, per page (%.0f ns a call); floor: 256 "
					     "8-byte PTE stores, per store",
					     bmap * 1e9 / brounds);
				bench_report("vtd_unmap_256x4k_batched", bunmap * 1e9 / n,
					     funmap * 1e9 / n, 2, false,
					     "256 batched 4 KiB unmaps: one iommu_intel_unmap of 1 MiB, "
					     "per page (%.0f ns a call); floor: 256 8-byte zero stores, "
					     "per store",
					     bunmap * 1e9 / brounds);
			}
		}
		free(ft.pg);
		iommu_intel_domain_free(dw);
	}

	/* ---- 8: interrupt remapping and fault recording ------------------ */
	{
		struct irq_ctx ic = { .unit = unit };
		struct iommu_vtd_irq irq;
		uint32_t gsts;

		for (unsigned i = 0; i < 256; i++) {
			/* P, DLM fixed, vector 0x30 + i, xAPIC destination 1 (DST[15:8]) */
			uint64_t lo = 1 | (uint64_t)((0x30 + i) & 0xff) << 16 | UINT64_C(1) << 40;

			check(iommu_mem_write64(mem, IRT_BASE + 16 * i, lo), "irte");
			check(iommu_mem_write64(mem, IRT_BASE + 16 * i + 8, 0), "irte");
		}
		check(iommu_vtd_mmio_write(unit, REG_IRTA, 8, IRT_BASE | 7), "IRTA"); /* 256 entries */
		gsts = (uint32_t)rd_reg(unit, REG_GSTS, 4) & GSTS_PERSIST;
		check(iommu_vtd_mmio_write(unit, REG_GCMD, 4, gsts | GCMD_SIRTP), "SIRTP");
		check(iommu_vtd_mmio_write(unit, REG_GCMD, 4, gsts | GCMD_IRE), "IRE");
		if (!(rd_reg(unit, REG_GSTS, 4) & GCMD_IRE) || !(rd_reg(unit, REG_GSTS, 4) & (1u << 31)))
			die("interrupt remapping did not come on", -EINVAL);
		for (unsigned i = 0; i < 64; i++) {
			unsigned idx = i * 3 + 1; /* 32 distinct IEC slots for i < 32 */

			ic.msi[i].source_id = SID_HIT;
			ic.msi[i].addr = 0xfee00000u | (idx & 0x7fff) << 5 | 1u << 4;
			ic.msi[i].data = 0;
		}
		for (unsigned i = 0; i < 32; i++) {
			check(iommu_vtd_interrupt(unit, &ic.msi[i], &irq), "interrupt");
			if (!irq.remapped || irq.vector != ((0x30 + i * 3 + 1) & 0xff) || irq.dest_id != 1)
				die("interrupt: wrong remapping", -EINVAL);
		}
		{
			static uint64_t irt[256][2];

			for (unsigned i = 0; i < 256; i++)
				check(iommu_mem_read(mem, IRT_BASE + 16 * i, irt[i], 16), "irte");
			ic.irt = (const uint64_t (*)[2])irt;
			iommu_vtd_clear_stats(unit);
			ns = per_op_ns(loop_irq, &ic);
			iommu_vtd_get_stats(unit, &vst);
			fns = per_op_ns(loop_irte_floor, &ic);
			bench_report("vtd_irte_lookup", ns, fns, 5, true,
				     "interrupt remapping lookup: iommu_vtd_interrupt of remappable MSIs "
				     "through 32 IRTEs, warm (%.2f%% IEC hits); target in ns; floor: "
				     "the IRTE indexed in a plain array and its P bit checked",
				     100.0 * (double)vst.iec_hits / (double)vst.interrupts);
		}
	}
	{
		uint64_t cap = rd_reg(unit, REG_CAP, 8);
		uint32_t fro = (uint32_t)((cap >> 24) & 0x3ff) * 16;
		static uint64_t ring[256][2];
		struct fault_ctx fc = { .unit = unit, .frcd_hi = fro + 8, .ring = ring };
		struct iommu_vtd_result res;

		/* (a) a DMA to an unmapped IOVA of an attached device: context
		 * cache hit, IOTLB miss, walk stops at a not-present entry. */
		fc.req = (struct iommu_vtd_request){ .source_id = SID_HIT, .addr = 0x40000000 - PG,
						     .size = 8 };
		if (iommu_vtd_translate(unit, &fc.req, &res) != -EFAULT || !res.fault_recorded)
			die("fault (a) not recorded", -EINVAL);
		iommu_vtd_mmio_write(unit, fc.frcd_hi, 8, UINT64_C(1) << 63);
		iommu_vtd_clear_stats(unit);
		ns = per_op_ns(loop_fault, &fc);
		iommu_vtd_get_stats(unit, &vst);
		fns = per_op_ns(loop_ring_floor, &fc);
		bench_report("vtd_fault_record_unmapped_iova", ns, fns, 50, true,
			     "fault record: a translation of an unmapped IOVA of an attached device "
			     "(walk, fault %s recorded in the FRCD, F cleared by an 8-byte MMIO "
			     "write each time; %.1f%% recorded, %" PRIu64 " lost); target in ns; "
			     "floor: a 16-byte ring store",
			     iommu_vtd_fault_reason_name(res.fault_reason),
			     100.0 * (double)vst.faults_recorded / (double)vst.faults,
			     vst.faults_overflowed);

		/* (b) a device with no context entry: root + context read. */
		fc.req.source_id = SID_NONE;
		if (iommu_vtd_translate(unit, &fc.req, &res) != -EFAULT || !res.fault_recorded)
			die("fault (b) not recorded", -EINVAL);
		iommu_vtd_mmio_write(unit, fc.frcd_hi, 8, UINT64_C(1) << 63);
		iommu_vtd_clear_stats(unit);
		ns = per_op_ns(loop_fault, &fc);
		iommu_vtd_get_stats(unit, &vst);
		fns = per_op_ns(loop_ring_floor, &fc);
		bench_report("vtd_fault_record_no_context", ns, fns, 50, true,
			     "fault record: a request of a device with no context entry (root and "
			     "context entry read, fault %s recorded, F cleared; %.1f%% recorded); "
			     "target in ns; floor: a 16-byte ring store",
			     iommu_vtd_fault_reason_name(res.fault_reason),
			     100.0 * (double)vst.faults_recorded / (double)vst.faults);
	}

	iommu_intel_domain_free(dh);
	iommu_intel_domain_free(dm);
	iommu_intel_destroy(drv);
	iommu_vtd_destroy(unit);
	iommu_mem_destroy(mem);

	bench_run_later_layers();
	return 0;
}
