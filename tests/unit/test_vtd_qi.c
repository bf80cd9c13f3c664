// SPDX-License-Identifier: MIT
/*
 * Queued invalidation (VT-d 6.5.2): descriptors written by hand into the
 * queue at IQA, executed when IQT moves; wait descriptors' status write
 * and completion interrupt (ICS.IWC, IECTL); invalidation queue errors
 * (FSTS.IQE, IQERCD.IQEI, IQH left on the bad descriptor) and recovery.
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

struct q {
	struct fx *f;
	uint64_t base;
	unsigned tail;      /* in descriptors */
	unsigned n;
};

/* IQA (10.4.24): IQA 63:12, QS 2:0 (2^QS pages of 256 descriptors). */
static void q_open(struct fx *f, struct q *q, unsigned qs)
{
	q->f = f;
	q->base = f->next;
	f->next += (UINT64_C(4096) << qs);
	q->tail = 0;
	q->n = 256u << qs;
	wr(f, R_IQA, 8, q->base | qs);
	wr(f, R_IQT, 8, 0);
	gcmd(f, G_QIE, true);
	assert_true(rd(f, R_GSTS, 4) & B(26));
}

static void q_put(struct q *q, uint64_t lo, uint64_t hi)
{
	w64(q->f, q->base + q->tail * 16, lo);
	w64(q->f, q->base + q->tail * 16 + 8, hi);
	q->tail = (q->tail + 1) % q->n;
}

/* IQT (10.4.23): QT 18:4. */
static void q_submit(struct q *q)
{
	wr(q->f, R_IQT, 8, (uint64_t)q->tail << 4);
}

/* Descriptors (6.5.2.1, .3, .7, .8), type in bits 3:0. */
static uint64_t d_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
	return 1 | ((uint64_t)g << 4) | ((uint64_t)did << 16) |
	       ((uint64_t)sid << 32) | ((uint64_t)fm << 48);
}

static uint64_t d_iotlb(unsigned g, uint16_t did)
{
	return 2 | ((uint64_t)g << 4) | ((uint64_t)did << 16);
}

static uint64_t d_iotlb_hi(uint64_t addr, unsigned am, bool ih)
{
	return addr | (ih ? B(6) : 0) | am;
}

static uint64_t d_iec(bool index_sel, unsigned im, uint16_t idx)
{
	return 4 | (index_sel ? B(4) : 0) | ((uint64_t)im << 27) | ((uint64_t)idx << 32);
}

static uint64_t d_wait(bool iflag, bool sw, uint32_t data)
{
	return 5 | (iflag ? B(4) : 0) | (sw ? B(5) : 0) | ((uint64_t)data << 32);
}

static void test_wait_status_write(void **state)
{
	struct fx f;
	struct q q;
	uint64_t status;

	(void)state;
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	status = page(&f);
	w64(&f, status, 0xffffffffffffffffull);
	q_put(&q, d_wait(false, true, 0x600d), status);
	q_submit(&q);
	assert_int_equal(r64(&f, status), 0xffffffff0000600dull);   /* 32-bit write */
	assert_int_equal(rd(&f, R_IQH, 8), 1 << 4);
	assert_int_equal(stats(&f).qi_descriptors, 1);
	assert_int_equal(f.events, 0);
	assert_int_equal(rd(&f, R_ICS, 4), 0);
	fx_close(&f);
}

static void test_wait_interrupt(void **state)
{
	struct fx f;
	struct q q;

	(void)state;
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	wr(&f, R_IEDATA, 4, 0x55);
	wr(&f, R_IEADDR, 4, 0xfee00000);
	/* IECTL.IM set at reset: IWC and IP set, no message. */
	assert_int_equal(rd(&f, R_IECTL, 4), B(31));
	q_put(&q, d_wait(true, false, 0), 0);
	q_submit(&q);
	assert_int_equal(rd(&f, R_ICS, 4), 1);
	assert_int_equal(rd(&f, R_IECTL, 4), B(31) | B(30));
	assert_int_equal(f.events, 0);
	wr(&f, R_IECTL, 4, 0);
	assert_int_equal(f.events, 1);
	assert_int_equal(f.ev_kind, IOMMU_VTD_EVENT_INV_COMPLETE);
	assert_int_equal(f.ev_addr, 0xfee00000);
	assert_int_equal(f.ev_data, 0x55);
	/* IWC still set: the next completion sends nothing. */
	q_put(&q, d_wait(true, false, 0), 0);
	q_submit(&q);
	assert_int_equal(f.events, 1);
	wr(&f, R_ICS, 4, 1);
	assert_int_equal(rd(&f, R_ICS, 4), 0);
	q_put(&q, d_wait(true, false, 0), 0);
	q_submit(&q);
	assert_int_equal(f.events, 2);
	fx_close(&f);
}

static void test_cc_and_iotlb_descriptors(void **state)
{
	struct fx f;
	struct q q;
	uint64_t top, leaf, status;

	(void)state;
	fx_open(&f, 0, 0);
	fx_enable(&f);
	q_open(&f, &q, 0);
	status = page(&f);
	top = setup_dev(&f, 0x0010, 3, 1);
	leaf = map(&f, top, 3, 0x7000, 0x17000, 1, 3);
	map(&f, top, 3, 0x8000, 0x18000, 1, 3);
	expect_ok(&f, 0x0010, 0x7000, false, 0x17000);
	expect_ok(&f, 0x0010, 0x8000, false, 0x18000);
	w64(&f, leaf, 0);
	/* Page-selective for 0x7000, then a wait, in one batch. */
	q_put(&q, d_iotlb(3, 3), d_iotlb_hi(0x7000, 0, false));
	q_put(&q, d_wait(false, true, 1), status);
	q_submit(&q);
	assert_int_equal(r64(&f, status) & 0xffffffff, 1);
	expect_fault(&f, 0x0010, 0x7000, false, 0x06);
	expect_ok(&f, 0x0010, 0x8000, false, 0x18000);
	/* Domain-selective. */
	q_put(&q, d_iotlb(2, 3), 0);
	q_submit(&q);
	assert_int_equal(iommu_vtd_iotlb_count(f.u), 0);
	/* Context cache: device-selective, then global. */
	assert_int_equal(iommu_vtd_cc_count(f.u), 1);
	q_put(&q, d_cc(3, 3, 0x0011, 0), 0);
	q_submit(&q);
	assert_int_equal(iommu_vtd_cc_count(f.u), 1);
	q_put(&q, d_cc(3, 3, 0x0011, 1), 0);     /* FM 01b masks fn bit 2 only: 0x10 and 0x11 still differ */
	q_submit(&q);
	assert_int_equal(iommu_vtd_cc_count(f.u), 1);
	q_put(&q, d_cc(1, 0, 0, 0), 0);
	q_submit(&q);
	assert_int_equal(iommu_vtd_cc_count(f.u), 0);
	/* Register-based invalidation is not performed while QI is on. */
	expect_ok(&f, 0x0010, 0x8000, false, 0x18000);
	wr(&f, R_CCMD, 8, B(63) | (UINT64_C(1) << 61));
	assert_int_equal((rd(&f, R_CCMD, 8) >> 59) & 3, 0);
	assert_int_equal(iommu_vtd_cc_count(f.u), 1);
	fx_close(&f);
}

static void test_iec_descriptor(void **state)
{
	struct fx f;
	struct q q;

	(void)state;
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	q_put(&q, d_iec(false, 0, 0), 0);
	q_put(&q, d_iec(true, 4, 0x30), 0);
	q_submit(&q);
	assert_int_equal(stats(&f).iec_invalidations, 2);
	assert_false(rd(&f, R_FSTS, 4) & B(4));
	fx_close(&f);
}

static void test_invalid_descriptor_stops_queue(void **state)
{
	struct fx f;
	struct q q;
	uint64_t status, bad;

	(void)state;
	fx_open(&f, 0, 0);
	wr(&f, R_FECTL, 4, 0);
	q_open(&f, &q, 0);
	status = page(&f);
	q_put(&q, d_wait(false, true, 1), status);
	bad = q.base + q.tail * 16;
	q_put(&q, 0x9, 0);                        /* type 9: invalid */
	q_put(&q, d_wait(false, true, 2), status);
	q_submit(&q);
	assert_int_equal(r64(&f, status) & 0xffffffff, 1);
	assert_true(rd(&f, R_FSTS, 4) & B(4));          /* IQE */
	assert_int_equal(rd(&f, R_IQERCD, 8) & 0xf, 3); /* invalid type */
	assert_int_equal(rd(&f, R_IQH, 8), 1 << 4);     /* on the bad one */
	assert_int_equal(f.events, 1);
	assert_int_equal(f.ev_kind, IOMMU_VTD_EVENT_FAULT);
	/* Software replaces it with a wait and clears IQE: the queue runs on. */
	w64(&f, bad, d_wait(false, false, 0));
	wr(&f, R_FSTS, 4, B(4));
	assert_false(rd(&f, R_FSTS, 4) & B(4));
	assert_int_equal(r64(&f, status) & 0xffffffff, 2);
	assert_int_equal(rd(&f, R_IQH, 8), 3 << 4);
	/* Reserved bit in an IOTLB descriptor: IQEI 4. */
	q_put(&q, d_iotlb(1, 0) | B(40), 0);
	q_submit(&q);
	assert_int_equal(rd(&f, R_IQERCD, 8) & 0xf, 4);
	assert_int_equal(stats(&f).qi_errors, 2);
	fx_close(&f);
}

static void test_queue_errors(void **state)
{
	struct fx f;
	struct q q;

	(void)state;
	/* Tail beyond a 256-entry queue: IQEI 1. */
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	wr(&f, R_IQT, 8, 300 << 4);
	assert_true(rd(&f, R_FSTS, 4) & B(4));
	assert_int_equal(rd(&f, R_IQERCD, 8) & 0xf, 1);
	fx_close(&f);
	/* Queue beyond memory: fetch error, IQEI 2. */
	fx_open(&f, 0, 0);
	wr(&f, R_IQA, 8, UINT64_C(1) << 32);
	gcmd(&f, G_QIE, true);
	wr(&f, R_IQT, 8, 1 << 4);
	assert_int_equal(rd(&f, R_IQERCD, 8) & 0xf, 2);
	assert_int_equal(rd(&f, R_IQH, 8), 0);
	fx_close(&f);
	/* Device-TLB descriptor without ECAP.DT; page-selective above MAMV. */
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	q_put(&q, 3, 0);
	q_submit(&q);
	assert_int_equal(rd(&f, R_IQERCD, 8) & 0xf, 3);
	fx_close(&f);
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	q_put(&q, d_iotlb(3, 1), d_iotlb_hi(0, 19, false));
	q_submit(&q);
	assert_int_equal(rd(&f, R_IQERCD, 8) & 0xf, 4);
	fx_close(&f);
}

static void test_wraparound_and_disable(void **state)
{
	struct fx f;
	struct q q;
	uint64_t status;

	(void)state;
	fx_open(&f, 0, 0);
	q_open(&f, &q, 0);
	status = page(&f);
	for (unsigned i = 0; i < 600; i++) {
		q_put(&q, d_wait(false, true, i), status);
		if (i % 7 == 6)
			q_submit(&q);
	}
	q_submit(&q);
	assert_int_equal(r64(&f, status) & 0xffffffff, 599);
	assert_int_equal(rd(&f, R_IQH, 8), (600 % 256) << 4);
	assert_int_equal(stats(&f).qi_descriptors, 600);
	/* Disabling QI resets IQH. */
	gcmd(&f, G_QIE, false);
	assert_false(rd(&f, R_GSTS, 4) & B(26));
	assert_int_equal(rd(&f, R_IQH, 8), 0);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_status_write),
		cmocka_unit_test(test_wait_interrupt),
		cmocka_unit_test(test_cc_and_iotlb_descriptors),
		cmocka_unit_test(test_iec_descriptor),
		cmocka_unit_test(test_invalid_descriptor_stops_queue),
		cmocka_unit_test(test_queue_errors),
		cmocka_unit_test(test_wraparound_and_disable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
