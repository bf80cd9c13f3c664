// SPDX-License-Identifier: MIT
/*
 * iommu explain names the exact cause of each kind of shared group, and
 * the cause it names is true of the config space:
 *   - a PCIe-to-PCI bridge (c2-rp-pcie-pci-bridge: 02:01.0 behind 01:00.0)
 *   - a conventional PCI bridge (lx-i82801b11: 04:01.0 behind 00:1e.0)
 *   - a root port without ACS (b4-rootports-noacs: 01:00.0 under 00:10.0)
 *   - functions of a multifunction slot without ACS (e-multifunction:
 *     00:07.2 with 00:07.1; 01:00.1 with 01:00.0)
 *   - a switch downstream port without ACS (d-switch: 03:00.0 under 02:00.0)
 *   - the Intel RCiEP quirk that isolates 00:07.0 (e-multifunction)
 * and the what-if override changes the answer and says it is not mainline.
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
#include "iommu/core.h"

struct fixture {
	struct iommu_platform *p;
	struct iommu_system *s;
};

static int load(struct fixture *f, const char *capture, const struct iommu_system_options *o)
{
	char dir[PATH_MAX];
	struct iommu_error err;

	if (!captures_dir())
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s/%s", captures_dir(), capture);
	if (iommu_platform_load_snapshot(dir, &f->p, &err)) {
		print_message("%s\n", err.msg);
		return -ENOENT;
	}
	if (iommu_system_build(f->p, o, &f->s, &err)) {
		print_message("%s\n", err.msg);
		iommu_platform_free(f->p);
		return -EINVAL;
	}
	return 0;
}

static void unload(struct fixture *f)
{
	iommu_system_free(f->s);
	iommu_platform_free(f->p);
}

static const struct iommu_pci_dev *dev(struct fixture *f, const char *bdf)
{
	struct iommu_pci_addr a;
	const struct iommu_pci_dev *d;

	assert_int_equal(iommu_pci_addr_parse(bdf, &a), 0);
	d = iommu_platform_find_device(f->p, a);
	assert_non_null(d);
	return d;
}

static char *explain(struct fixture *f, const char *bdf)
{
	char *text;

	assert_int_equal(iommu_explain_device(f->s, dev(f, bdf), &text), 0);
	print_message("%s", text);
	return text;
}

#define NEED(f, capture, opts)                                              \
	do {                                                                \
		if (load(f, capture, opts)) {                               \
			print_message("capture %s unavailable: skipped\n", capture); \
			skip();                                             \
		}                                                           \
	} while (0)

static void test_pcie_to_pci_bridge(void **state)
{
	struct fixture f;
	char *t;

	(void)state;
	NEED(&f, "c2-rp-pcie-pci-bridge", NULL);
	/* config space: 01:00.0 is a PCIe-to-PCI bridge leading to bus 02 */
	assert_int_equal(dev(&f, "01:00.0")->pcie_type, IOMMU_PCIE_PCI_BRIDGE);
	assert_int_equal(dev(&f, "01:00.0")->secondary_bus, 2);
	t = explain(&f, "02:01.0");
	assert_non_null(strstr(t, "through PCIe-to-PCI bridge 0000:01:00.0, which tags it as 02:00.0"));
	assert_non_null(strstr(t, "nothing in software"));
	free(t);
	unload(&f);
}

static void test_conventional_bridge(void **state)
{
	struct fixture f;
	char *t;

	(void)state;
	NEED(&f, "lx-i82801b11", NULL);
	/* config space: 00:1e.0 is a type 1 bridge without a PCIe capability */
	assert_true(dev(&f, "00:1e.0")->is_bridge);
	assert_false(iommu_pci_is_pcie(dev(&f, "00:1e.0")));
	t = explain(&f, "04:01.0");
	assert_non_null(strstr(t, "through conventional PCI bridge 0000:00:1e.0, which re-issues it with its own requester id"));
	free(t);
	/* nested: 05:01.0 sits behind 04:03.0, itself behind 00:1e.0 */
	t = explain(&f, "05:01.0");
	assert_non_null(strstr(t, "conventional PCI bridge 0000:04:03.0"));
	free(t);
	unload(&f);
}

static void test_root_port_without_acs(void **state)
{
	struct fixture f;
	char *t;

	(void)state;
	NEED(&f, "b4-rootports-noacs", NULL);
	/* config space: the root port has no ACS extended capability */
	assert_int_equal(dev(&f, "00:10.0")->pcie_type, IOMMU_PCIE_ROOT_PORT);
	assert_int_equal(dev(&f, "00:10.0")->acs_pos, 0);
	t = explain(&f, "01:00.0");
	assert_non_null(strstr(t, "at root port 0000:00:10.0, it has no ACS capability"));
	assert_non_null(strstr(t, "pcie_acs_override=downstream (not mainline)"));
	free(t);
	unload(&f);
}

static void test_multifunction_without_acs(void **state)
{
	struct fixture f;
	char *t;

	(void)state;
	NEED(&f, "e-multifunction", NULL);
	/* config space: 00:07.1 is conventional, 00:07.2 PCIe without ACS */
	assert_false(iommu_pci_is_pcie(dev(&f, "00:07.1")));
	assert_int_equal(dev(&f, "00:07.2")->acs_pos, 0);
	t = explain(&f, "00:07.2");
	assert_non_null(strstr(t, "functions of multifunction slot 0000:00:07 and neither isolates"));
	assert_non_null(strstr(t, "0000:00:07.1: it is conventional PCI, which never has ACS"));
	free(t);
	/* 00:07.0 is an Intel RCiEP: alone, by the quirk */
	assert_int_equal(dev(&f, "00:07.0")->vendor, 0x8086);
	assert_int_equal(dev(&f, "00:07.0")->pcie_type, IOMMU_PCIE_RC_END);
	t = explain(&f, "00:07.0");
	assert_non_null(strstr(t, ", alone."));
	assert_non_null(strstr(t, "pci_quirk_rciep_acs treats 0000:00:07.0 as ACS-isolated"));
	free(t);
	/* behind an isolating root port, endpoint functions without ACS */
	t = explain(&f, "01:00.1");
	assert_non_null(strstr(t, "every bridge from 0000:00:10.0 up to the root isolates"));
	assert_non_null(strstr(t, "0000:01:00.0: it has no ACS capability"));
	free(t);
	unload(&f);
}

static void test_switch_downstream_port(void **state)
{
	struct fixture f;
	char *t;

	(void)state;
	NEED(&f, "d-switch", NULL);
	assert_int_equal(dev(&f, "02:00.0")->pcie_type, IOMMU_PCIE_DOWNSTREAM);
	assert_int_equal(dev(&f, "02:00.0")->acs_pos, 0);
	t = explain(&f, "03:00.0");
	assert_non_null(strstr(t, "at switch downstream port 0000:02:00.0, it has no ACS capability"));
	assert_non_null(strstr(t, "isolated slots on this platform: below 0000:00:10.0"));
	free(t);
	unload(&f);
}

/* A port that has ACS but leaves a bit off is named with the missing bits. */
static void test_acs_bits_missing(void **state)
{
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_error err;
	struct cfg host, rp, ep;
	const char *paths[] = { "pci/0000:00:00.0/config", "pci/0000:00:1c.0/config",
				"pci/0000:01:00.0/config", "kernel-release", "acpi/DMAR" };
	/* a DMAR with one INCLUDE_PCI_ALL unit for segment 0 */
	uint8_t dmar[64] = { 'D', 'M', 'A', 'R', 64, 0, 0, 0, 1, 0 };
	const uint8_t *data[5];
	size_t lens[5];
	char *t;
	uint8_t sum = 0;

	(void)state;
	dmar[36] = 38;                          /* host address width 39 */
	dmar[48] = 0; dmar[50] = 16;            /* DRHD, length 16 */
	dmar[52] = 1;                           /* INCLUDE_PCI_ALL */
	dmar[56] = 0x00; dmar[57] = 0x00; dmar[58] = 0xd9; dmar[59] = 0xfe;
	for (int i = 0; i < 64; i++)
		sum = (uint8_t)(sum + dmar[i]);
	dmar[9] = (uint8_t)(0x100 - sum);
	cfg_init(&host, 256, 0x8086, 0x29c0, 0x060000, 0);
	cfg_init(&rp, 4096, 0x8086, 0x1234, 0x060400, 1);
	cfg_set_bus(&rp, 0, 1, 1);
	cfg_add_pcie(&rp, 0x40, IOMMU_PCIE_ROOT_PORT);
	cfg_add_acs(&rp, 0x100, IOMMU_ACS_SV | IOMMU_ACS_RR | IOMMU_ACS_CR | IOMMU_ACS_UF,
		    IOMMU_ACS_SV | IOMMU_ACS_UF);    /* RR and CR implemented but off */
	cfg_init(&ep, 4096, 0x15b3, 0x1017, 0x020000, 0);
	cfg_add_pcie(&ep, 0x40, IOMMU_PCIE_ENDPOINT);
	data[0] = host.b; lens[0] = host.size;
	data[1] = rp.b; lens[1] = rp.size;
	data[2] = ep.b; lens[2] = ep.size;
	data[3] = (const uint8_t *)"6.1.0-1-amd64\n"; lens[3] = 14;
	data[4] = dmar; lens[4] = 64;
	assert_int_equal(iommu_platform_load_files("synthetic", 5, paths, data, lens, &p, &err), 0);
	assert_int_equal(iommu_system_build(p, NULL, &s, &err), 0);
	{
		struct iommu_pci_addr a;

		iommu_pci_addr_parse("01:00.0", &a);
		assert_int_equal(iommu_explain_device(s, iommu_platform_find_device(p, a), &t), 0);
	}
	print_message("%s", t);
	assert_non_null(strstr(t, "its ACS control lacks RR CR (cap: SV RR CR UF; ctl: SV UF)"));
	assert_non_null(strstr(t, "ACS RR CR enabled at 0000:00:1c.0"));
	free(t);
	iommu_system_free(s);
	iommu_platform_free(p);
}

/* pcie_acs_override as a what-if: E13 of the reference, on b4-rootports-noacs. */
static void test_acs_override_what_if(void **state)
{
	struct iommu_system_options o = { .acs_override = "downstream,multifunction" };
	struct fixture f;
	char *t;

	(void)state;
	NEED(&f, "b4-rootports-noacs", &o);
	assert_true(f.s->acs_override_active);
	assert_ptr_not_equal(iommu_system_device(f.s, dev(&f, "01:00.0"))->group,
			     iommu_system_device(f.s, dev(&f, "00:10.0"))->group);
	t = explain(&f, "00:10.0");
	assert_non_null(strstr(t, "pcie_acs_override treats 0000:00:10.0 as ACS-isolated"));
	free(t);
	{
		bool said = false;

		for (size_t i = 0; i < f.s->n_notes; i++)
			if (strstr(f.s->notes[i], "not mainline"))
				said = true;
		assert_true(said);
	}
	unload(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcie_to_pci_bridge),
		cmocka_unit_test(test_conventional_bridge),
		cmocka_unit_test(test_root_port_without_acs),
		cmocka_unit_test(test_multifunction_without_acs),
		cmocka_unit_test(test_switch_downstream_port),
		cmocka_unit_test(test_acs_bits_missing),
		cmocka_unit_test(test_acs_override_what_if),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
