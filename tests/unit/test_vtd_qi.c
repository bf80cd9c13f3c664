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

#include "vtd_helpers.h"

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
