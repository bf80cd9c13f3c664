// SPDX-License-Identifier: MIT
/*
 * Reserved-region lists as drivers/iommu/iommu.c builds them
 * (iommu_insert_resv_region; reference 4.2): sorted by start, ties by the
 * type's enum value; regions of the inserted type merge when they overlap
 * or touch; different types never merge.  And the sysfs text format
 * (iommu_group_show_resv_regions: "0x%016llx 0x%016llx %s\n").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"

static struct iommu_resv_region R(uint64_t s, uint64_t e, enum iommu_resv_type t)
{
	return (struct iommu_resv_region){ .start = s, .end = e, .type = t };
}

static void text_of(struct iommu_resv_region *v, size_t n, char *buf, size_t len)
{
	struct iommu_group_info g = { .resv = v, .n_resv = n };

	iommu_group_resv_text(&g, buf, len);
}

static void test_sorted_by_start_then_type(void **state)
{
	struct iommu_resv_region *v = NULL;
	size_t n = 0;
	char buf[512];

	(void)state;
	assert_int_equal(core_resv_insert(&v, &n, R(0xfee00000, 0xfeefffff, IOMMU_RESV_MSI)), 0);
	assert_int_equal(core_resv_insert(&v, &n, R(0x0, 0xffffff, IOMMU_RESV_DIRECT_RELAXABLE)), 0);
	assert_int_equal(core_resv_insert(&v, &n, R(0x0, 0xfff, IOMMU_RESV_DIRECT)), 0);
	text_of(v, n, buf, sizeof(buf));
	/* same start: DIRECT (0) before DIRECT_RELAXABLE (1); overlapping types both stay */
	assert_string_equal(buf,
		"0x0000000000000000 0x0000000000000fff direct\n"
		"0x0000000000000000 0x0000000000ffffff direct-relaxable\n"
		"0x00000000fee00000 0x00000000feefffff msi\n");
	free(v);
}

static void test_same_type_merges_when_touching(void **state)
{
	struct iommu_resv_region *v = NULL;
	size_t n = 0;

	(void)state;
	/* the same MSI window from every device of a group is one line */
	for (int i = 0; i < 4; i++)
		assert_int_equal(core_resv_insert(&v, &n, R(0xfee00000, 0xfeefffff, IOMMU_RESV_MSI)), 0);
	assert_int_equal(n, 1);
	/* adjacent: [0x1000-0x1fff] then [0x2000-0x2fff] become one */
	assert_int_equal(core_resv_insert(&v, &n, R(0x1000, 0x1fff, IOMMU_RESV_DIRECT)), 0);
	assert_int_equal(core_resv_insert(&v, &n, R(0x2000, 0x2fff, IOMMU_RESV_DIRECT)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].start, 0x1000);
	assert_int_equal(v[0].end, 0x2fff);
	/* a gap of one byte keeps them apart */
	assert_int_equal(core_resv_insert(&v, &n, R(0x3001, 0x3fff, IOMMU_RESV_DIRECT)), 0);
	assert_int_equal(n, 3);
	/* overlapping, contained: absorbed */
	assert_int_equal(core_resv_insert(&v, &n, R(0x1800, 0x1900, IOMMU_RESV_DIRECT)), 0);
	assert_int_equal(n, 3);
	free(v);
}

static void test_other_types_never_merge(void **state)
{
	struct iommu_resv_region *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(core_resv_insert(&v, &n, R(0x100000, 0x1fffff, IOMMU_RESV_DIRECT)), 0);
	assert_int_equal(core_resv_insert(&v, &n, R(0x180000, 0x2fffff, IOMMU_RESV_RESERVED)), 0);
	assert_int_equal(core_resv_insert(&v, &n, R(0x200000, 0x2fffff, IOMMU_RESV_DIRECT)), 0);
	/* the two DIRECT ones touch across the RESERVED one and merge; RESERVED stays */
	assert_int_equal(n, 2);
	assert_int_equal(v[0].type, IOMMU_RESV_DIRECT);
	assert_int_equal(v[0].end, 0x2fffff);
	assert_int_equal(v[1].type, IOMMU_RESV_RESERVED);
	free(v);
}

static void test_top_of_address_space(void **state)
{
	struct iommu_resv_region *v = NULL;
	size_t n = 0;

	(void)state;
	/* end + 1 wraps to 0 in the kernel's arithmetic: a later region is kept apart */
	assert_int_equal(core_resv_insert(&v, &n, R(0xfffffffffffff000ull, UINT64_MAX, IOMMU_RESV_RESERVED)), 0);
	assert_int_equal(core_resv_insert(&v, &n, R(0x0, 0xfff, IOMMU_RESV_RESERVED)), 0);
	assert_int_equal(n, 2);
	free(v);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(iommu_resv_type_name(IOMMU_RESV_DIRECT), "direct");
	assert_string_equal(iommu_resv_type_name(IOMMU_RESV_DIRECT_RELAXABLE), "direct-relaxable");
	assert_string_equal(iommu_resv_type_name(IOMMU_RESV_RESERVED), "reserved");
	assert_string_equal(iommu_resv_type_name(IOMMU_RESV_MSI), "msi");
	assert_string_equal(iommu_resv_type_name(IOMMU_RESV_SW_MSI), "msi");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_by_start_then_type),
		cmocka_unit_test(test_same_type_merges_when_touching),
		cmocka_unit_test(test_other_types_never_merge),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
