// SPDX-License-Identifier: MIT
/*
 * The kernel command line, kernel versions, and bad input to the core:
 *   - parsing as the kernel's early parameters read it (kernel/params.c,
 *     arch/x86/kernel/pci-dma.c iommu_setup, drivers/iommu/iommu.c,
 *     intel_iommu_setup, parse_amd_iommu_options): last of iommu=pt /
 *     iommu=nopt / iommu.passthrough= wins, kstrtobool, '-' == '_', quotes;
 *   - default domain types from it (reference 3.2-3.4);
 *   - garbage command lines, unknown kernel versions, tables that name
 *     devices which do not exist: clear errors or notes, never a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/core.h"

static void test_last_passthrough_option_wins(void **state)
{
	struct iommu_cmdline c;

	(void)state;
	assert_int_equal(iommu_cmdline_parse("iommu=pt iommu=nopt", &c), 0);
	assert_true(c.def_domain_set);
	assert_int_equal(c.def_domain, IOMMU_DOMAIN_DMA);
	iommu_cmdline_release(&c);
	assert_int_equal(iommu_cmdline_parse("iommu=nopt iommu.passthrough=1", &c), 0);
	assert_int_equal(c.def_domain, IOMMU_DOMAIN_IDENTITY);
	iommu_cmdline_release(&c);
	assert_int_equal(iommu_cmdline_parse("iommu.passthrough=on iommu=force,nopt", &c), 0);
	assert_int_equal(c.def_domain, IOMMU_DOMAIN_DMA);
	iommu_cmdline_release(&c);
}

static void test_booleans_and_names(void **state)
{
	struct iommu_cmdline c;

	(void)state;
	/* kstrtobool: y/Y/1/on, n/N/0/off; '-' and '_' are the same in names */
	assert_int_equal(iommu_cmdline_parse("iommu.strict=Y", &c), 0);
	assert_true(c.strict_set && c.strict);
	iommu_cmdline_release(&c);
	assert_int_equal(iommu_cmdline_parse("iommu.strict=off", &c), 0);
	assert_true(c.strict_set && !c.strict);
	iommu_cmdline_release(&c);
	assert_int_equal(iommu_cmdline_parse("intel-iommu=on,sm_on,igfx_off", &c), 0);
	assert_true(c.intel_on && c.intel_sm_on && c.intel_igfx_off);
	iommu_cmdline_release(&c);
	/* a malformed boolean is ignored with a note */
	assert_int_equal(iommu_cmdline_parse("iommu.strict=maybe", &c), 0);
	assert_false(c.strict_set);
	assert_int_equal(c.n_notes, 1);
	assert_non_null(strstr(c.notes[0], "iommu.strict=maybe"));
	iommu_cmdline_release(&c);
}

static void test_quotes_and_init_args(void **state)
{
	struct iommu_cmdline c;

	(void)state;
	/* quotes group; after "--" everything belongs to init */
	assert_int_equal(iommu_cmdline_parse("foo=\"a b\" intel_iommu=\"off\" -- iommu=pt", &c), 0);
	assert_true(c.intel_off);
	assert_false(c.def_domain_set);
	iommu_cmdline_release(&c);
}

static void test_unknown_options_are_noted(void **state)
{
	struct iommu_cmdline c;

	(void)state;
	/* "amd_iommu=on is not a valid option" (the oracle's README) */
	assert_int_equal(iommu_cmdline_parse("amd_iommu=on intel_iommu=bogus", &c), 0);
	assert_int_equal(c.n_notes, 2);
	assert_string_equal(c.notes[0], "AMD-Vi: Unknown option - 'on'");
	assert_string_equal(c.notes[1], "DMAR: Unknown option - 'bogus'");
	assert_false(c.amd_off);
	iommu_cmdline_release(&c);
}

static void test_garbage_cmdline(void **state)
{
	struct iommu_cmdline c;
	char junk[4096];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 500; round++) {
		size_t n = (seed = seed * 1103515245u + 12345u) % (sizeof(junk) - 1);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (char)(1 + (seed >> 16) % 255);
		}
		junk[n] = '\0';
		assert_int_equal(iommu_cmdline_parse(junk, &c), 0);
		iommu_cmdline_release(&c);
	}
	assert_int_equal(iommu_cmdline_parse("iommu= intel_iommu= = == =x \"unterminated", &c), 0);
	iommu_cmdline_release(&c);
	assert_int_equal(iommu_cmdline_parse(NULL, &c), 0);
	iommu_cmdline_release(&c);
}

static void test_acs_override_parse(void **state)
{
	struct iommu_cmdline c;
	char line[1024] = "pcie_acs_override=downstream,multifunction";

	(void)state;
	for (int i = 0; i < 17; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), ",id:8086:%04x", 0x1000 + i);
	assert_int_equal(iommu_cmdline_parse(line, &c), 0);
	assert_true(c.acs_override_downstream && c.acs_override_multifunction);
	assert_int_equal(c.acs_override_n_ids, 15);
	assert_int_equal(c.acs_override_ids[14][1], 0x100e);
	assert_non_null(strstr(c.notes[0], "Out of PCIe ACS override slots (16)"));
	iommu_cmdline_release(&c);
}

static void test_kernel_versions(void **state)
{
	struct iommu_kernel_version v;
	struct iommu_error err;

	(void)state;
	assert_int_equal(iommu_kernel_version_parse("6.1.0-56-amd64", &v), 0);
	assert_int_equal(v.major, 6);
	assert_int_equal(v.minor, 1);
	assert_int_equal(iommu_kernel_version_parse("6.12.117+deb12-amd64", &v), 0);
	assert_int_equal(v.minor, 12);
	assert_int_equal(iommu_kernel_version_check(v, &err), 0);
	assert_int_equal(iommu_kernel_version_parse("banana", &v), -EINVAL);
	assert_int_equal(iommu_kernel_version_parse("6", &v), -EINVAL);
	assert_int_equal(iommu_kernel_version_parse("6.x", &v), -EINVAL);
	assert_int_equal(iommu_kernel_version_parse("4.19.0", &v), 0);
	assert_int_equal(iommu_kernel_version_check(v, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "kernel 4.19"));
	assert_int_equal(iommu_kernel_version_parse("9.0", &v), 0);
	assert_int_equal(iommu_kernel_version_check(v, &err), -ERANGE);
}

/* --- on a platform ------------------------------------------------------ */

struct synth {
	struct cfg cfg[3];
	uint8_t dmar[128];
	size_t dmar_len;
	struct iommu_platform *p;
};

static void dmar_finish(uint8_t *t, size_t len)
{
	uint8_t sum = 0;

	t[4] = (uint8_t)len;
	t[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	t[9] = (uint8_t)(0x100 - sum);
}

/* 00:00.0 host bridge, 00:02.0 endpoint, 00:03.0 endpoint; DMAR given. */
static void synth_load(struct synth *s)
{
	const char *paths[] = { "pci/0000:00:00.0/config", "pci/0000:00:02.0/config",
				"pci/0000:00:03.0/config", "acpi/DMAR", "kernel-release" };
	const uint8_t *data[5];
	size_t lens[5];
	struct iommu_error err;

	cfg_init(&s->cfg[0], 256, 0x8086, 0x29c0, 0x060000, 0);
	cfg_init(&s->cfg[1], 256, 0x1af4, 0x1000, 0x020000, 0);
	cfg_init(&s->cfg[2], 256, 0x1af4, 0x1001, 0x010000, 0);
	for (int i = 0; i < 3; i++) {
		data[i] = s->cfg[i].b;
		lens[i] = s->cfg[i].size;
	}
	data[3] = s->dmar;
	lens[3] = s->dmar_len;
	data[4] = (const uint8_t *)"6.1.0-1-amd64";
	lens[4] = 13;
	assert_int_equal(iommu_platform_load_files("synthetic", 5, paths, data, lens, &s->p, &err), 0);
}

static size_t dmar_header(uint8_t *t)
{
	memset(t, 0, 128);
	memcpy(t, "DMAR", 4);
	t[8] = 1;
	t[36] = 38;     /* host address width 39 */
	return 48;
}

static size_t drhd(uint8_t *t, size_t off, uint8_t flags, const uint8_t *scope, size_t scope_len)
{
	t[off] = 0;
	t[off + 2] = (uint8_t)(16 + scope_len);
	t[off + 4] = flags;
	t[off + 10] = 0xd9;
	t[off + 11] = 0xfe;     /* base 0xfed90000 */
	if (scope_len)
		memcpy(t + off + 16, scope, scope_len);
	return off + 16 + scope_len;
}

static void test_default_domain_from_cmdline(void **state)
{
	static const struct {
		const char *cmdline;
		const char *type;
	} cases[] = {
		{ "", "DMA-FQ" },
		{ "iommu=pt", "identity" },
		{ "iommu.passthrough=1", "identity" },
		{ "iommu=pt iommu=nopt", "DMA-FQ" },
		{ "iommu.strict=1", "DMA" },
		{ "iommu.strict=1 iommu.passthrough=0", "DMA" },
		{ "intel_iommu=strict", "DMA" },
		{ "iommu=pt iommu.strict=1", "identity" },
	};
	struct synth s;

	(void)state;
	s.dmar_len = drhd(s.dmar, dmar_header(s.dmar), 1, NULL, 0);
	dmar_finish(s.dmar, s.dmar_len);
	synth_load(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iommu_system_options o = { .cmdline = cases[i].cmdline };
		struct iommu_system *sys;
		struct iommu_error err;

		assert_int_equal(iommu_system_build(s.p, &o, &sys, &err), 0);
		assert_int_equal(sys->n_groups, 3);
		for (size_t g = 0; g < sys->n_groups; g++)
			if (strcmp(iommu_domain_type_name(sys->groups[g]->type), cases[i].type))
				fail_msg("\"%s\": group %zu is %s, expected %s", cases[i].cmdline, g,
					 iommu_domain_type_name(sys->groups[g]->type), cases[i].type);
		iommu_system_free(sys);
	}
	{
		struct iommu_system_options o = { .cmdline = "intel_iommu=off" };
		struct iommu_system *sys;
		struct iommu_error err;

		assert_int_equal(iommu_system_build(s.p, &o, &sys, &err), 0);
		assert_int_equal(sys->n_groups, 0);
		assert_int_equal(sys->devices[1].nogroup, IOMMU_NOGROUP_DISABLED);
		iommu_system_free(sys);
	}
	iommu_platform_free(s.p);
}

static void test_unknown_kernel_refused(void **state)
{
	struct iommu_system_options o = { .kernel = "3.10" };
	struct iommu_system *sys = (void *)1;
	struct iommu_error err;
	struct synth s;

	(void)state;
	s.dmar_len = drhd(s.dmar, dmar_header(s.dmar), 1, NULL, 0);
	dmar_finish(s.dmar, s.dmar_len);
	synth_load(&s);
	assert_int_equal(iommu_system_build(s.p, &o, &sys, &err), -ERANGE);
	assert_null(sys);
	assert_non_null(strstr(err.msg, "3.10"));
	o.kernel = "not-a-version";
	assert_int_equal(iommu_system_build(s.p, &o, &sys, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not-a-version"));
	iommu_platform_free(s.p);
}

/*
 * A DMAR whose only DRHD names a device that does not exist: the kernel
 * ignores a unit with no devices (init_no_remapping_devices), so nothing
 * gets a group; an RMRR for a missing device is simply never used.
 */
static void test_tables_naming_missing_devices(void **state)
{
	/* endpoint scope: type 1, length 8, bus 0, path 00:1d.0 (absent) */
	static const uint8_t scope[] = { 1, 8, 0, 0, 0, 0, 0x1d, 0 };
	struct iommu_system *sys;
	struct iommu_error err;
	struct synth s;
	size_t off;

	(void)state;
	off = drhd(s.dmar, dmar_header(s.dmar), 0, scope, sizeof(scope));
	/* RMRR for the same absent device */
	s.dmar[off] = 1;
	s.dmar[off + 2] = 24 + sizeof(scope);
	s.dmar[off + 9] = 0x10;                         /* base 0x100000 */
	s.dmar[off + 16] = 0xff; s.dmar[off + 17] = 0xff; s.dmar[off + 18] = 0x1f; /* end 0x1fffff */
	memcpy(s.dmar + off + 24, scope, sizeof(scope));
	s.dmar_len = off + 24 + sizeof(scope);
	dmar_finish(s.dmar, s.dmar_len);
	synth_load(&s);
	assert_int_equal(iommu_system_build(s.p, NULL, &sys, &err), 0);
	assert_int_equal(sys->n_groups, 0);
	assert_int_equal(sys->n_units, 1);
	assert_true(sys->units[0].ignored);
	assert_int_equal(sys->devices[1].nogroup, IOMMU_NOGROUP_NO_UNIT);
	iommu_system_free(sys);
	iommu_platform_free(s.p);
}

/*
 * Numbering across kernel versions (reference 2.3): with an explicit-scope
 * DRHD for 00:03.0 and an INCLUDE_PCI_ALL DRHD, 6.1 probes the PCI bus
 * once, in order (00:00.0 = 0, 00:02.0 = 1, 00:03.0 = 2); from 6.2 each
 * unit probes when it registers, explicit units first, so 00:03.0 = 0.
 */
static void test_numbering_by_kernel_version(void **state)
{
	static const uint8_t scope[] = { 1, 8, 0, 0, 0, 0, 0x03, 0 };
	struct iommu_system_options o61 = { .kernel = "6.1" }, o62 = { .kernel = "6.2" };
	struct iommu_system *sys;
	struct iommu_error err;
	struct synth s;
	size_t off;

	(void)state;
	off = drhd(s.dmar, dmar_header(s.dmar), 0, scope, sizeof(scope));
	s.dmar[off - 16 - sizeof(scope) + 10] = 0xda;   /* a second register base */
	off = drhd(s.dmar, off, 1, NULL, 0);
	s.dmar_len = off;
	dmar_finish(s.dmar, s.dmar_len);
	synth_load(&s);

	assert_int_equal(iommu_system_build(s.p, &o61, &sys, &err), 0);
	assert_int_equal(sys->n_units, 2);
	assert_false(sys->units[0].include_all);        /* explicit units lead the list */
	assert_int_equal(sys->devices[0].group->id, 0);
	assert_int_equal(sys->devices[1].group->id, 1);
	assert_int_equal(sys->devices[2].group->id, 2);
	iommu_system_free(sys);

	assert_int_equal(iommu_system_build(s.p, &o62, &sys, &err), 0);
	assert_int_equal(sys->devices[2].group->id, 0);
	assert_int_equal(sys->devices[0].group->id, 1);
	assert_int_equal(sys->devices[1].group->id, 2);
	iommu_system_free(sys);
	iommu_platform_free(s.p);
}

/*
 * A unit whose capability register has no supported address width (QEMU's
 * dma-translation=off): the driver does not translate for it, so its
 * devices get no group (reference README rule 9; alloc_iommu).
 */
static void test_unit_without_address_widths(void **state)
{
	struct cfg host, ep;
	const char *paths[] = { "pci/0000:00:00.0/config", "pci/0000:00:02.0/config", "acpi/DMAR",
				"iommu_class/dmar0/intel-iommu/address",
				"iommu_class/dmar0/intel-iommu/cap",
				"iommu_class/dmar0/intel-iommu/ecap", "kernel-release" };
	const char *caps[] = { "d2008c22260206\n", "d2008c22260006\n" };   /* SAGAW 0x2, then 0 */
	struct synth s;

	(void)state;
	s.dmar_len = drhd(s.dmar, dmar_header(s.dmar), 1, NULL, 0);
	dmar_finish(s.dmar, s.dmar_len);
	cfg_init(&host, 256, 0x8086, 0x29c0, 0x060000, 0);
	cfg_init(&ep, 256, 0x1af4, 0x1000, 0x020000, 0);
	for (int k = 0; k < 2; k++) {
		const uint8_t *data[] = { host.b, ep.b, s.dmar, (const uint8_t *)"fed90000\n",
					  (const uint8_t *)caps[k], (const uint8_t *)"f00f4a\n",
					  (const uint8_t *)"6.1.0-1-amd64" };
		size_t lens[] = { 256, 256, s.dmar_len, 9, strlen(caps[k]), 7, 13 };
		struct iommu_platform *p;
		struct iommu_system *sys;
		struct iommu_error err;

		assert_int_equal(iommu_platform_load_files("synthetic", 7, paths, data, lens, &p, &err), 0);
		assert_int_equal(iommu_system_build(p, NULL, &sys, &err), 0);
		assert_true(sys->units[0].have_regs);
		if (k == 0) {
			assert_int_equal(sys->n_groups, 2);
		} else {
			assert_int_equal(sys->n_groups, 0);
			assert_int_equal(sys->devices[1].nogroup, IOMMU_NOGROUP_UNUSABLE_UNIT);
		}
		iommu_system_free(sys);
		iommu_platform_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_passthrough_option_wins),
		cmocka_unit_test(test_booleans_and_names),
		cmocka_unit_test(test_quotes_and_init_args),
		cmocka_unit_test(test_unknown_options_are_noted),
		cmocka_unit_test(test_garbage_cmdline),
		cmocka_unit_test(test_acs_override_parse),
		cmocka_unit_test(test_kernel_versions),
		cmocka_unit_test(test_default_domain_from_cmdline),
		cmocka_unit_test(test_unknown_kernel_refused),
		cmocka_unit_test(test_tables_naming_missing_devices),
		cmocka_unit_test(test_numbering_by_kernel_version),
		cmocka_unit_test(test_unit_without_address_widths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
