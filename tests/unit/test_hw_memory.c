// SPDX-License-Identifier: MIT
/*
 * Modelled physical memory (include/iommu/hw.h): sparse pages allocated on
 * first write, zero reads of untouched pages, bounds at the size, direct
 * page pointers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iommu/hw.h"

static void test_create_sizes(void **state)
{
	struct iommu_mem *m = (void *)1;

	(void)state;
	assert_int_equal(iommu_mem_create(0, &m), -EINVAL);
	assert_null(m);
	assert_int_equal(iommu_mem_create(4095, &m), -EINVAL);
	assert_int_equal(iommu_mem_create(4097, &m), -EINVAL);
	assert_int_equal(iommu_mem_create((UINT64_C(1) << 52) + 4096, &m), -EINVAL);
	assert_int_equal(iommu_mem_create(4096, NULL), -EINVAL);
	assert_int_equal(iommu_mem_create(4096, &m), 0);
	assert_int_equal(iommu_mem_size(m), 4096);
	assert_int_equal(iommu_mem_pages_allocated(m), 0);
	iommu_mem_destroy(m);
	iommu_mem_destroy(NULL);
}

static void test_unwritten_reads_zero(void **state)
{
	struct iommu_mem *m;
	uint8_t buf[64];
	uint64_t v = 1;

	(void)state;
	assert_int_equal(iommu_mem_create(UINT64_C(1) << 30, &m), 0);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(iommu_mem_read(m, 0x12345, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(iommu_mem_read64(m, (UINT64_C(1) << 30) - 8, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 0);
	iommu_mem_destroy(m);
}

static void test_write_allocates_lazily(void **state)
{
	struct iommu_mem *m;
	uint8_t in[6000], out[6000];

	(void)state;
	assert_int_equal(iommu_mem_create(UINT64_C(1) << 32, &m), 0);
	assert_int_equal(iommu_mem_write64(m, 0x1000, 0x1122334455667788ull), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 1);
	/* Same page again: no new page. */
	assert_int_equal(iommu_mem_write32(m, 0x1ffc, 0xdeadbeef), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 1);
	/* Little-endian layout. */
	{
		uint8_t b[8];
		uint32_t w;

		assert_int_equal(iommu_mem_read(m, 0x1000, b, 8), 0);
		assert_int_equal(b[0], 0x88);
		assert_int_equal(b[7], 0x11);
		assert_int_equal(iommu_mem_read32(m, 0x1004, &w), 0);
		assert_int_equal(w, 0x11223344);
	}
	/* A write across three pages (two new, in another GiB). */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(iommu_mem_write(m, 0x80000f00, in, sizeof(in)), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 4);
	assert_int_equal(iommu_mem_read(m, 0x80000f00, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* Unaligned 64-bit access across a page boundary. */
	assert_int_equal(iommu_mem_write64(m, 0x3ffc, 0x0102030405060708ull), 0);
	{
		uint64_t v;

		assert_int_equal(iommu_mem_read64(m, 0x3ffc, &v), 0);
		assert_int_equal(v, 0x0102030405060708ull);
	}
	assert_int_equal(iommu_mem_pages_allocated(m), 6);
	iommu_mem_destroy(m);
}

static void test_bounds(void **state)
{
	struct iommu_mem *m;
	uint8_t buf[16] = { 0 };
	uint64_t v;

	(void)state;
	assert_int_equal(iommu_mem_create(0x10000, &m), 0);
	assert_int_equal(iommu_mem_read(m, 0x10000, buf, 1), -EFAULT);
	assert_int_equal(iommu_mem_read(m, 0xfff8, buf, 16), -EFAULT);
	assert_int_equal(iommu_mem_read(m, 0xfff0, buf, 16), 0);
	assert_int_equal(iommu_mem_read64(m, 0xfffc, &v), -EFAULT);
	assert_int_equal(iommu_mem_read64(m, UINT64_MAX - 3, &v), -EFAULT);
	assert_int_equal(iommu_mem_write(m, 0xfff8, buf, 16), -EFAULT);
	assert_int_equal(iommu_mem_write64(m, UINT64_MAX, 1), -EFAULT);
	/* A failed write allocates nothing. */
	assert_int_equal(iommu_mem_pages_allocated(m), 0);
	assert_int_equal(iommu_mem_read(m, 0, NULL, 0), 0);
	assert_int_equal(iommu_mem_read(m, 0, NULL, 4), -EINVAL);
	iommu_mem_destroy(m);
}

static void test_fill(void **state)
{
	struct iommu_mem *m;
	uint8_t b[3];

	(void)state;
	assert_int_equal(iommu_mem_create(0x100000, &m), 0);
	assert_int_equal(iommu_mem_fill(m, 0, 0, 0x100000), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 0);
	assert_int_equal(iommu_mem_fill(m, 0x1fff, 0xff, 2), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 2);
	assert_int_equal(iommu_mem_read(m, 0x1ffe, b, 3), 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(b[2], 0xff);
	assert_int_equal(iommu_mem_fill(m, 0x1fff, 0, 1), 0);
	assert_int_equal(iommu_mem_read(m, 0x1fff, b, 1), 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(iommu_mem_fill(m, 0xfffff, 1, 2), -EFAULT);
	iommu_mem_destroy(m);
}

static void test_huge_sparse_and_independent(void **state)
{
	struct iommu_mem *a, *b;
	uint64_t top = (UINT64_C(1) << 46) - 8, v;

	(void)state;
	assert_int_equal(iommu_mem_create(UINT64_C(1) << 46, &a), 0);
	assert_int_equal(iommu_mem_create(UINT64_C(1) << 20, &b), 0);
	assert_int_equal(iommu_mem_write64(a, top, 42), 0);
	assert_int_equal(iommu_mem_write64(a, 0, 7), 0);
	assert_int_equal(iommu_mem_read64(a, top, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(iommu_mem_read64(b, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(iommu_mem_pages_allocated(a), 2);
	assert_int_equal(iommu_mem_pages_allocated(b), 0);
	iommu_mem_destroy(a);
	iommu_mem_destroy(b);
}


/* Direct page access: the pointer is the page's bytes, in the memory's
 * little-endian layout, both ways; the page counts as allocated once;
 * the pointer is stable; nothing beyond the size. */
static void test_page_ptr(void **state)
{
	struct iommu_mem *m;
	uint8_t *p, *q;
	uint64_t v;

	(void)state;
	assert_int_equal(iommu_mem_create(UINT64_C(1) << 30, &m), 0);
	assert_null(iommu_mem_page_ptr(m, UINT64_C(1) << 30));
	assert_null(iommu_mem_page_ptr(NULL, 0));
	assert_int_equal(iommu_mem_write64(m, 0x5008, 0x1122334455667788ull), 0);
	p = iommu_mem_page_ptr(m, 0x5abc);
	assert_non_null(p);
	assert_int_equal(iommu_mem_pages_allocated(m), 1);
	assert_int_equal(p[8], 0x88);
	assert_int_equal(p[15], 0x11);
	p[0x100] = 0xab;
	assert_int_equal(iommu_mem_read64(m, 0x5100, &v), 0);
	assert_int_equal(v, 0xab);
	/* a page never written: zero, allocated now */
	q = iommu_mem_page_ptr(m, 0x3fff0000);
	assert_non_null(q);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(q[i], 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 2);
	assert_ptr_equal(iommu_mem_page_ptr(m, 0x5000), p);
	assert_int_equal(iommu_mem_pages_allocated(m), 2);
	/* a zero fill over it is a write to an allocated page */
	q[7] = 9;
	assert_int_equal(iommu_mem_fill(m, 0x3fff0000, 0, 4096), 0);
	assert_int_equal(q[7], 0);
	iommu_mem_destroy(m);
}

/* A memory larger than the part kept as one host mapping (256 GiB): an
 * access across that boundary, page pointers on both sides, the counts. */
static void test_beyond_flat_part(void **state)
{
	const uint64_t edge = UINT64_C(256) << 30;
	struct iommu_mem *m;
	uint8_t in[64], out[64];
	uint8_t *lo, *hi;

	(void)state;
	assert_int_equal(iommu_mem_create(UINT64_C(512) << 30, &m), 0);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(3 * i + 1);
	assert_int_equal(iommu_mem_write(m, edge - 32, in, sizeof(in)), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 2);
	assert_int_equal(iommu_mem_read(m, edge - 32, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	lo = iommu_mem_page_ptr(m, edge - 1);
	hi = iommu_mem_page_ptr(m, edge);
	assert_non_null(lo);
	assert_non_null(hi);
	assert_memory_equal(lo + 4096 - 32, in, 32);
	assert_memory_equal(hi, in + 32, 32);
	assert_int_equal(iommu_mem_pages_allocated(m), 2);
	assert_non_null(iommu_mem_page_ptr(m, (UINT64_C(512) << 30) - 1));
	assert_int_equal(iommu_mem_pages_allocated(m), 3);
	assert_int_equal(iommu_mem_fill(m, edge + 4096, 0, 4096), 0);
	assert_int_equal(iommu_mem_pages_allocated(m), 3);
	iommu_mem_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_sizes),
		cmocka_unit_test(test_unwritten_reads_zero),
		cmocka_unit_test(test_write_allocates_lazily),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_huge_sparse_and_independent),
		cmocka_unit_test(test_page_ptr),
		cmocka_unit_test(test_beyond_flat_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
