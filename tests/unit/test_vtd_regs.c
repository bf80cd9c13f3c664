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
