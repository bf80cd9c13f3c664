// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the VT-d model (doc/vtd-model.md, "Fuzzing"): the
 * input is a unit configuration, a list of operations, and the contents
 * of the first pages of memory, where the root, context, paging,
 * interrupt remapping tables and the invalidation queue all point.
 *
 *   bytes 0..15   header: [0] capability variant, [1] root table page,
 *                 [2] IRTA page and size, [3] IQA page and size,
 *                 [4] number of operations, [5..15] spare seed bits
 *   then          operations, 12 bytes each (see run_op)
 *   then          memory image, written at address 0 (up to 64 KiB)
 *
 * It aborts when the model breaks a promise of include/iommu/hw.h: a
 * result other than 0/-EFAULT for a well-formed request, a fault reason
 * without a description, more than root + context + 5 table reads for
 * one translation, a host address that does not keep the page offset,
 * PPF out of step with the F fields, or a successful translation that
 * the caches answer differently when it is repeated at once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/hw.h"

#define MEM_SIZE (UINT64_C(1) << 22)
#define IMAGE_MAX 65536u

static void check(int cond)
{
	if (!cond)
		abort();
}

static void on_event(void *ctx, enum iommu_vtd_event ev, uint64_t a, uint32_t d)
{
	(void)a;
	(void)d;
	check(ev == IOMMU_VTD_EVENT_FAULT || ev == IOMMU_VTD_EVENT_INV_COMPLETE);
	(*(unsigned *)ctx)++;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t cap_variant(unsigned v, uint64_t *ecap)
{
	uint64_t cap = IOMMU_VTD_DEFAULT_CAP;

	*ecap = IOMMU_VTD_DEFAULT_ECAP;
	switch (v % 6) {
	case 1: /* QEMU caching mode, 39/48-bit */
		cap = UINT64_C(0x00d2008c222f0686);
		*ecap = UINT64_C(0xf00f4e);
		break;
	case 2: /* 3/4/5 levels, MGAW 57 */
		cap = (cap & ~(UINT64_C(0x1f) << 8) & ~(UINT64_C(0x3f) << 16)) |
		      (UINT64_C(0xe) << 8) | (UINT64_C(56) << 16);
		break;
	case 3: /* no superpages, 4 fault recording registers, ND 0 */
		cap = (cap & ~(UINT64_C(0xf) << 34) & ~(UINT64_C(0xff) << 40) &
		       ~UINT64_C(7)) | (UINT64_C(3) << 40);
		break;
	case 4: /* x2APIC, snoop control, device TLB */
		*ecap |= (1u << 4) | (1u << 7) | (1u << 2);
		break;
	default:
		break;
	}
	return cap;
}

static void check_ppf(struct iommu_vtd_unit *u, unsigned nfr)
{
	uint64_t fsts, hi;
	int any = 0;

	check(iommu_vtd_mmio_read(u, 0x34, 4, &fsts) == 0);
	for (unsigned i = 0; i < nfr; i++) {
		check(iommu_vtd_mmio_read(u, 0x220 + 16 * i + 8, 8, &hi) == 0);
		any |= (hi >> 63) & 1;
	}
	check(((fsts >> 1) & 1) == (uint64_t)any);
}

/*
 * One operation: op[0] selects, the rest are arguments.
 *  0-3  translate (sid op[1..2], addr op[3..10], write op[11] bit 0,
 *       AT op[11] bits 2:1)
 *  4    interrupt (sid, address low bits, data)
 *  5    move IQT (op[1..2])
 *  6    register invalidation: CCMD or IOTLB with IVA
 *  7    clear faults (FSTS all status bits, every F)
 *  8    GCMD toggle of one bit
 *  9    any register write (offset op[1..2], value op[3..10])
 */
static void run_op(struct iommu_vtd_unit *u, const uint8_t *op, unsigned nfr)
{
	uint64_t v;

	switch (op[0] % 10) {
	case 0: case 1: case 2: case 3: {
		struct iommu_vtd_request q = {
			.source_id = (uint16_t)le(op + 1, 2),
			.addr = le(op + 3, 8) & ~UINT64_C(7),
			.size = 8,
			.write = op[11] & 1,
			.at = (uint8_t)((op[11] >> 1) % 3),
		};
		struct iommu_vtd_result r;
		struct iommu_vtd_stats a, b;
		int rc;

		iommu_vtd_get_stats(u, &a);
		rc = iommu_vtd_translate(u, &q, &r);
		iommu_vtd_get_stats(u, &b);
		check(b.walk_reads - a.walk_reads <= 7);
		if (rc == 0) {
			struct iommu_vtd_result again;

			check(r.page_size == 4096 || r.page_size == (2u << 20) ||
			      r.page_size == (1u << 30));
			check((r.host_addr & (r.page_size - 1)) ==
			      (q.addr & (r.page_size - 1)));
			check(r.fault_reason == 0);
			/* The caches now hold what answered: the same request
			 * again (the fast path, when it applies) answers the
			 * same, from the IOTLB when it was translated. */
			check(iommu_vtd_translate(u, &q, &again) == 0);
			check(again.host_addr == r.host_addr &&
			      again.page_size == r.page_size &&
			      again.read == r.read && again.write == r.write &&
			      again.passthrough == r.passthrough &&
			      again.domain_id == r.domain_id &&
			      again.fault_reason == 0);
			check(again.iotlb_hit == !r.passthrough);
		} else {
			check(rc == -EFAULT);
			check(iommu_vtd_fault_reason_desc(r.fault_reason) != NULL);
		}
		break;
	}
	case 4: {
		struct iommu_vtd_msi m = {
			.source_id = (uint16_t)le(op + 1, 2),
			.addr = 0xfee00000u | (le(op + 3, 3) & 0xfffff),
			.data = (uint32_t)le(op + 6, 4),
		};
		struct iommu_vtd_irq irq;
		int rc = iommu_vtd_interrupt(u, &m, &irq);

		if (rc) {
			check(rc == -EFAULT);
			check(irq.fault_reason >= 0x20 && irq.fault_reason <= 0x26);
		}
		break;
	}
	case 5:
		check(iommu_vtd_mmio_write(u, 0x88, 8, le(op + 1, 2) << 4) == 0);
		break;
	case 6:
		if (op[1] & 1) {
			check(iommu_vtd_mmio_write(u, 0x28, 8, le(op + 3, 8) | (UINT64_C(1) << 63)) == 0);
		} else {
			check(iommu_vtd_mmio_write(u, 0xf0, 8, le(op + 3, 8)) == 0);
			check(iommu_vtd_mmio_write(u, 0xf8, 8,
						   (le(op + 4, 8) & ~UINT64_C(0xffffffff)) |
							   (UINT64_C(1) << 63)) == 0);
		}
		break;
	case 7:
		check(iommu_vtd_mmio_write(u, 0x34, 4, 0xff) == 0);
		for (unsigned i = 0; i < nfr; i++)
			check(iommu_vtd_mmio_write(u, 0x220 + 16 * i + 12, 4, 1u << 31) == 0);
		break;
	case 8:
		check(iommu_vtd_mmio_read(u, 0x1c, 4, &v) == 0);
		v &= 0x86800000u;       /* TE, QIE, IRE, CFI */
		v ^= 1u << (23 + op[1] % 9);
		check(iommu_vtd_mmio_write(u, 0x18, 4, v) == 0);
		break;
	default: {
		uint32_t off = (uint32_t)(le(op + 1, 2) % 0x400) & ~3u;
		unsigned size = (op[11] & 1) ? 8 : 4;

		if (size == 8)
			off &= ~7u;
		check(iommu_vtd_mmio_write(u, off, size, le(op + 3, 8)) == 0);
		break;
	}
	}
	check_ppf(u, nfr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommu_mem *mem;
	struct iommu_vtd_config cfg;
	struct iommu_vtd_unit *u;
	unsigned events = 0, nops, nfr;
	const uint8_t *ops;
	size_t image;

	if (size < 16)
		return 0;
	if (iommu_mem_create(MEM_SIZE, &mem))
		abort();
	iommu_vtd_config_init(&cfg);
	cfg.cap = cap_variant(data[0], &cfg.ecap);
	cfg.iotlb_sets = 1u << (data[5] % 4);
	cfg.iotlb_ways = 1 + data[6] % 4;
	cfg.context_cache_entries = 1u << (data[7] % 3);
	cfg.iec_entries = 1u << (data[8] % 3);
	cfg.mem = mem;
	cfg.event = on_event;
	cfg.event_ctx = &events;
	if (iommu_vtd_create(&cfg, &u, NULL))
		abort();
	nfr = (unsigned)((cfg.cap >> 40) & 0xff) + 1;

	nops = data[4];
	ops = data + 16;
	if ((size - 16) / 12 < nops)
		nops = (unsigned)((size - 16) / 12);
	image = size - 16 - (size_t)nops * 12;
	if (image > IMAGE_MAX)
		image = IMAGE_MAX;
	if (iommu_mem_write(mem, 0, ops + (size_t)nops * 12, image))
		abort();

	/* Program the unit as a driver would, from the header. */
	check(iommu_vtd_mmio_write(u, 0x20, 8, (uint64_t)(data[1] % 16) << 12) == 0);
	check(iommu_vtd_mmio_write(u, 0xb8, 8, ((uint64_t)(data[2] % 16) << 12) |
						  (data[2] >> 4)) == 0);
	check(iommu_vtd_mmio_write(u, 0x90, 8, ((uint64_t)(data[3] % 16) << 12) |
						  ((data[3] >> 4) % 2)) == 0);
	check(iommu_vtd_mmio_write(u, 0x38, 4, 0) == 0);
	check(iommu_vtd_mmio_write(u, 0x18, 4, 1u << 30) == 0);              /* SRTP */
	check(iommu_vtd_mmio_write(u, 0x18, 4, 1u << 24) == 0);              /* SIRTP */
	check(iommu_vtd_mmio_write(u, 0x18, 4, (1u << 31) | (1u << 26) |
						 (1u << 25) | ((data[9] & 1u) << 23)) == 0);

	for (unsigned i = 0; i < nops; i++)
		run_op(u, ops + (size_t)i * 12, nfr);
	/* With no operations, at least walk a few addresses. */
	if (nops == 0) {
		uint8_t op[12] = { 0 };

		for (unsigned i = 0; i < 16; i++) {
			op[1] = data[10 + i % 6];
			op[2] = (uint8_t)i;
			op[5] = (uint8_t)(i * 37);
			op[11] = (uint8_t)i;
			run_op(u, op, nfr);
		}
	}
	iommu_vtd_destroy(u);
	iommu_mem_destroy(mem);
	return 0;
}
