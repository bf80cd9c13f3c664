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

/*
 * Hand-built tables and register programming, written from the VT-d
 * specification's layouts with literal bit positions (not the model's
 * masks, not a driver): a typo in the model's definitions shows up here.
 */
#define HELPER static __attribute__((unused))
#define B(n) (UINT64_C(1) << (n))

/* Register offsets (VT-d 10.4) for the default CAP/ECAP (FRO 0x220,
 * IRO 0xf0). */
enum {
	R_VER = 0x0, R_CAP = 0x8, R_ECAP = 0x10, R_GCMD = 0x18, R_GSTS = 0x1c,
	R_RTADDR = 0x20, R_CCMD = 0x28, R_FSTS = 0x34, R_FECTL = 0x38,
	R_FEDATA = 0x3c, R_FEADDR = 0x40, R_FEUADDR = 0x44, R_IQH = 0x80,
	R_IQT = 0x88, R_IQA = 0x90, R_ICS = 0x9c, R_IECTL = 0xa0,
	R_IEDATA = 0xa4, R_IEADDR = 0xa8, R_IEUADDR = 0xac, R_IQERCD = 0xb0,
	R_IRTA = 0xb8, R_IVA = 0xf0, R_IOTLB = 0xf8, R_FRCD = 0x220,
};
/* GCMD/GSTS bits (10.4.4) */
#define G_TE B(31)
#define G_SRTP B(30)
#define G_QIE B(26)
#define G_IRE B(25)
#define G_SIRTP B(24)
#define G_CFI B(23)
#define G_PERSIST (G_TE | G_QIE | G_IRE | G_CFI)

#define CAP_DEFAULT UINT64_C(0x00d2008c22260206)   /* QEMU, 39-bit */
#define ECAP_DEFAULT UINT64_C(0x0000000000f00f4a)
#define CAP_CM48 UINT64_C(0x00d2008c222f0686)      /* QEMU caching-mode, 48-bit */
#define ECAP_CM48 UINT64_C(0x0000000000f00f4e)
/* CAP with SAGAW (12:8) and MGAW (21:16) replaced. */
HELPER uint64_t cap_aw(uint64_t cap, unsigned sagaw, unsigned mgaw_bits)
{
	cap &= ~(UINT64_C(0x1f) << 8) & ~(UINT64_C(0x3f) << 16);
	return cap | ((uint64_t)sagaw << 8) | ((uint64_t)(mgaw_bits - 1) << 16);
}
/* CAP with NFR (47:40) set to @n registers. */
HELPER uint64_t cap_nfr(uint64_t cap, unsigned n)
{
	return (cap & ~(UINT64_C(0xff) << 40)) | ((uint64_t)(n - 1) << 40);
}

struct fx {
	struct iommu_mem *mem;
	struct iommu_vtd_unit *u;
	uint64_t next;      /* next free table page */
	uint64_t rta;       /* root table */
	int events;
	enum iommu_vtd_event ev_kind;
	uint64_t ev_addr;
	uint32_t ev_data;
};

HELPER void on_event(void *ctx, enum iommu_vtd_event ev, uint64_t a, uint32_t d)
{
	struct fx *f = ctx;

	f->events++;
	f->ev_kind = ev;
	f->ev_addr = a;
	f->ev_data = d;
}

struct fx_opts {
	uint64_t cap, ecap, memsize;
	unsigned sets, ways, cc, iec;
};

HELPER uint64_t page(struct fx *f)
{
	uint64_t p = f->next;

	f->next += 4096;
	return p;
}

HELPER void fx_open_opts(struct fx *f, const struct fx_opts *o)
{
	struct iommu_vtd_config cfg;
	struct iommu_error err;

	memset(f, 0, sizeof(*f));
	assert_int_equal(iommu_mem_create(o->memsize ? o->memsize : (UINT64_C(64) << 20),
					  &f->mem), 0);
	iommu_vtd_config_init(&cfg);
	if (o->cap) {
		cfg.cap = o->cap;
		cfg.ecap = o->ecap;
	}
	if (o->sets)
		cfg.iotlb_sets = o->sets;
	if (o->ways)
		cfg.iotlb_ways = o->ways;
	if (o->cc)
		cfg.context_cache_entries = o->cc;
	if (o->iec)
		cfg.iec_entries = o->iec;
	cfg.mem = f->mem;
	cfg.event = on_event;
	cfg.event_ctx = f;
	iommu_error_clear(&err);
	if (iommu_vtd_create(&cfg, &f->u, &err) != 0)
		fail_msg("iommu_vtd_create: %s", err.msg);
	f->next = 0x100000;
	f->rta = page(f);
}

HELPER void fx_open(struct fx *f, uint64_t cap, uint64_t ecap)
{
	struct fx_opts o = { .cap = cap, .ecap = ecap };

	fx_open_opts(f, &o);
}

HELPER void fx_close(struct fx *f)
{
	iommu_vtd_destroy(f->u);
	iommu_mem_destroy(f->mem);
}

HELPER void w64(struct fx *f, uint64_t a, uint64_t v)
{
	assert_int_equal(iommu_mem_write64(f->mem, a, v), 0);
}

HELPER uint64_t r64(struct fx *f, uint64_t a)
{
	uint64_t v = 0;

	assert_int_equal(iommu_mem_read64(f->mem, a, &v), 0);
	return v;
}

HELPER uint64_t rd(struct fx *f, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	assert_int_equal(iommu_vtd_mmio_read(f->u, off, size, &v), 0);
	return v;
}

HELPER void wr(struct fx *f, uint32_t off, unsigned size, uint64_t v)
{
	assert_int_equal(iommu_vtd_mmio_write(f->u, off, size, v), 0);
}

/* Write GCMD as drivers do: the persistent status bits plus one change. */
HELPER void gcmd(struct fx *f, uint64_t bit, bool on)
{
	uint64_t st = rd(f, R_GSTS, 4) & G_PERSIST;

	wr(f, R_GCMD, 4, on ? (st | bit) : (st & ~bit));
}

HELPER void fx_enable(struct fx *f)
{
	wr(f, R_RTADDR, 8, f->rta);
	gcmd(f, G_SRTP, true);
	assert_true(rd(f, R_GSTS, 4) & B(30));     /* RTPS */
	gcmd(f, G_TE, true);
	assert_true(rd(f, R_GSTS, 4) & B(31));     /* TES */
}

/* Root entry (9.1): P bit 0, CTP 63:12. */
HELPER uint64_t ctx_table(struct fx *f, unsigned bus)
{
	uint64_t re = r64(f, f->rta + bus * 16);

	if (re & 1)
		return re & ~UINT64_C(0xfff);
	re = page(f);
	w64(f, f->rta + bus * 16, re | 1);
	w64(f, f->rta + bus * 16 + 8, 0);
	return re;
}

/* Context entry (9.3): lo P 0, FPD 1, TT 3:2, SLPTPTR 63:12;
 * hi AW 2:0, DID 23:8. */
HELPER uint64_t ctx_lo(uint64_t slpt, unsigned tt, bool fpd)
{
	return slpt | ((uint64_t)tt << 2) | (fpd ? 2 : 0) | 1;
}

HELPER uint64_t ctx_hi(unsigned aw, unsigned did)
{
	return aw | ((uint64_t)did << 8);
}

HELPER uint64_t ctx_addr(struct fx *f, uint16_t sid)
{
	return ctx_table(f, sid >> 8) + (sid & 0xff) * 16;
}

HELPER void set_ctx(struct fx *f, uint16_t sid, uint64_t lo, uint64_t hi)
{
	uint64_t a = ctx_addr(f, sid);

	w64(f, a, lo);
	w64(f, a + 8, hi);
}

/* A translated device: context entry with a fresh top-level table. */
HELPER uint64_t setup_dev(struct fx *f, uint16_t sid, unsigned did, unsigned aw)
{
	uint64_t top = page(f);

	set_ctx(f, sid, ctx_lo(top, 0, false), ctx_hi(aw, did));
	return top;
}

/* Second-level entry (9.8): R 0, W 1, PS 7, ADDR 51:12.  Map @iova to
 * @hpa with a leaf at @leaf (1: 4 KiB, 2: 2 MiB, 3: 1 GiB); directory
 * entries get R|W.  Returns the leaf entry's address. */
HELPER uint64_t map(struct fx *f, uint64_t top, unsigned levels, uint64_t iova,
		    uint64_t hpa, unsigned leaf, unsigned perms)
{
	uint64_t table = top;

	for (unsigned l = levels; l > leaf; l--) {
		uint64_t a = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8;
		uint64_t e = r64(f, a);

		if (!(e & 3)) {
			e = page(f) | 3;
			w64(f, a, e);
		}
		table = e & UINT64_C(0x000ffffffffff000);
	}
	{
		uint64_t a = table + ((iova >> (12 + 9 * (leaf - 1))) & 511) * 8;

		w64(f, a, hpa | perms | (leaf > 1 ? B(7) : 0));
		return a;
	}
}

HELPER int xlate_at(struct fx *f, uint16_t sid, uint64_t addr, bool write,
		    uint8_t at, struct iommu_vtd_result *r)
{
	struct iommu_vtd_request q = {
		.source_id = sid, .addr = addr, .size = 4, .write = write, .at = at,
	};

	return iommu_vtd_translate(f->u, &q, r);
}

HELPER int xlate(struct fx *f, uint16_t sid, uint64_t addr, bool write,
		 struct iommu_vtd_result *r)
{
	return xlate_at(f, sid, addr, write, 0, r);
}

/* Translation must succeed with this host address. */
HELPER void expect_ok(struct fx *f, uint16_t sid, uint64_t addr, bool write,
		      uint64_t host)
{
	struct iommu_vtd_result r;
	int rc = xlate(f, sid, addr, write, &r);

	if (rc != 0)
		fail_msg("translate %04x:%llx: rc %d reason 0x%x", sid,
			 (unsigned long long)addr, rc, r.fault_reason);
	assert_int_equal(r.host_addr, host);
}

/* Translation must fault with @reason. */
HELPER void expect_fault(struct fx *f, uint16_t sid, uint64_t addr, bool write,
			 unsigned reason)
{
	struct iommu_vtd_result r;
	int rc = xlate(f, sid, addr, write, &r);

	if (rc != -EFAULT || r.fault_reason != reason)
		fail_msg("translate %04x:%llx: rc %d reason 0x%x, want fault 0x%x",
			 sid, (unsigned long long)addr, rc, r.fault_reason, reason);
}

/* FRCD register @i (10.4.14): lo FI 63:12; hi SID 15:0, FR 39:32,
 * AT 61:60, T 62, F 63. */
HELPER void frcd(struct fx *f, unsigned i, uint64_t *lo, uint64_t *hi)
{
	*lo = rd(f, R_FRCD + 16 * i, 8);
	*hi = rd(f, R_FRCD + 16 * i + 8, 8);
}

HELPER void frcd_clear(struct fx *f, unsigned i)
{
	wr(f, R_FRCD + 16 * i + 12, 4, B(31));   /* F is RW1C */
}

HELPER struct iommu_vtd_stats stats(struct fx *f)
{
	struct iommu_vtd_stats s;

	iommu_vtd_get_stats(f->u, &s);
	return s;
}

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
