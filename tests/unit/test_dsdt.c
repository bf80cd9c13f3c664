// SPDX-License-Identifier: MIT
/*
 * PCI host bridges from the DSDT in namespace order (the order the kernel
 * adds root buses in, acpi_pci_root_add).  The lx-pxb capture's DSDT lists
 * PCI0, then the expander bridges PC80 and PC40; its dmesg shows the root
 * buses added in that order ("PCI Root Bridge [PC80]" before "[PC40]").
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/firmware.h"

static uint8_t *load_dsdt(const char *capture, size_t *len)
{
	char path[PATH_MAX];

	if (!captures_dir())
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/acpi/DSDT", captures_dir(), capture);
	return (uint8_t *)slurp(path, len);
}

static void test_pxb_order(void **state)
{
	struct iommu_acpi_host_bridge hb[8];
	size_t len, n;
	uint8_t *t = load_dsdt("lx-pxb", &len);
	char path[PATH_MAX], *dmesg;

	(void)state;
	if (!t)
		skip();
	n = iommu_acpi_host_bridges(t, len, hb, 8);
	assert_int_equal(n, 3);
	assert_string_equal(hb[0].name, "PCI0");
	assert_int_equal(hb[0].bus, 0);
	assert_true(hb[0].bus_known);
	assert_string_equal(hb[1].name, "PC80");
	assert_int_equal(hb[1].bus, 0x80);
	assert_string_equal(hb[2].name, "PC40");
	assert_int_equal(hb[2].bus, 0x40);
	/* the kernel's own log agrees on the order */
	snprintf(path, sizeof(path), "%s/lx-pxb/dmesg.txt", captures_dir());
	dmesg = slurp(path, NULL);
	assert_non_null(dmesg);
	assert_non_null(strstr(dmesg, "PCI Root Bridge [PC80]"));
	assert_true(strstr(dmesg, "PCI Root Bridge [PC80]") < strstr(dmesg, "PCI Root Bridge [PC40]"));
	free(dmesg);
	free(t);
}

static void test_single_root(void **state)
{
	struct iommu_acpi_host_bridge hb[8];
	size_t len;
	uint8_t *t = load_dsdt("d-switch", &len);

	(void)state;
	if (!t)
		skip();
	assert_int_equal(iommu_acpi_host_bridges(t, len, hb, 8), 1);
	assert_string_equal(hb[0].name, "PCI0");
	free(t);
}

/* Cut at every length and with bytes flipped: no crash, no overrun. */
static void test_truncated_and_corrupt(void **state)
{
	struct iommu_acpi_host_bridge hb[4];
	size_t len;
	uint8_t *t = load_dsdt("lx-pxb", &len);

	(void)state;
	if (!t)
		skip();
	for (size_t cut = 0; cut <= len; cut += 7) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, t, cut);
		assert_true(iommu_acpi_host_bridges(copy, cut, hb, 4) <= 3);
		free(copy);
	}
	for (size_t i = 36; i < len; i += 13) {
		uint8_t save = t[i];

		t[i] = (uint8_t)(save ^ 0xc0);
		(void)iommu_acpi_host_bridges(t, len, hb, 4);
		t[i] = save;
	}
	assert_int_equal(iommu_acpi_host_bridges(NULL, 0, hb, 4), 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pxb_order),
		cmocka_unit_test(test_single_root),
		cmocka_unit_test(test_truncated_and_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
