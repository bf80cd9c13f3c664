// SPDX-License-Identifier: MIT
/*
 * Writes to /sys/kernel/iommu_groups/N/type (iommu_group_store_type,
 * reference 3.6 and 10.3 D10-D18) for the kernel versions the captures
 * come from:
 *  - 6.1 (Debian 12's kernel; drivers/iommu/iommu.c before the 6.5
 *    rework): single-device groups only (-EINVAL), any bound driver
 *    -EBUSY (device_is_bound, pcieport and vfio-pci included) except for
 *    DMA -> DMA-FQ, -EBUSY when the group is not in its default domain,
 *    the device's required type checked (iommu_change_dev_def_domain);
 *  - 6.12 (6.5+): DMA -> DMA-FQ in place first, then -EPERM while
 *    owner_cnt != 0 (DMA-API drivers bound, claims), then the type check
 *    of iommu_get_default_domain_type (-EINVAL);
 *  - both: the accepted strings (sysfs_streq) and -EINVAL for the rest.
 * A successful write on a started system really replaces the default
 * domain: the members' DMA follows the new type.
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

#include "helpers.h"
#include "iommu/core.h"
#include "iommu/hw.h"

struct sys {
	struct iommu_platform *p;
	struct iommu_system *s;
	char *tmp;
};

/* A copy of capture @name with "BDF=driver" bound and, when @ecap is
 * set, the unit's ECAP register file replaced; built with @kernel. */
static void sys_load(struct sys *x, const char *name, const char *kernel, const char *cmdline,
		     const char *const *drivers, const char *ecap, bool start)
{
	struct iommu_system_options so = { .kernel = kernel, .cmdline = cmdline };
	struct iommu_error err = { 0 };
	char dir[4096];

	memset(x, 0, sizeof(*x));
	assert_non_null(captures_dir());
	snprintf(dir, sizeof(dir), "%s/%s", captures_dir(), name);
	if ((drivers && drivers[0]) || ecap) {
		x->tmp = make_temp_dir();
		assert_non_null(x->tmp);
		assert_int_equal(copy_tree(dir, x->tmp), 0);
		for (size_t i = 0; drivers && drivers[i]; i++) {
			char path[4200], bdf[64];
			const char *eq = strchr(drivers[i], '=');

			snprintf(bdf, sizeof(bdf), "%.*s", (int)(eq - drivers[i]), drivers[i]);
			snprintf(path, sizeof(path), "%s/pci/%s/driver", x->tmp, bdf);
			assert_int_equal(write_file(path, eq + 1, strlen(eq + 1)), 0);
		}
		if (ecap) {
			char path[4200];

			snprintf(path, sizeof(path), "%s/iommu_class/dmar0/intel-iommu/ecap", x->tmp);
			assert_int_equal(write_file(path, ecap, strlen(ecap)), 0);
		}
		snprintf(dir, sizeof(dir), "%s", x->tmp);
	}
	if (iommu_platform_load_snapshot(dir, &x->p, &err))
		fail_msg("%s: %s", dir, err.msg);
	if (iommu_system_build(x->p, &so, &x->s, &err))
		fail_msg("%s: %s", name, err.msg);
	if (start && iommu_system_start(x->s, 0, &err))
		fail_msg("%s: start: %s", name, err.msg);
}

static void sys_free(struct sys *x)
{
	iommu_system_free(x->s);
	iommu_platform_free(x->p);
	if (x->tmp) {
		remove_tree(x->tmp);
		free(x->tmp);
	}
}

static const struct iommu_pci_dev *dev(const struct sys *x, const char *bdf)
{
	struct iommu_pci_addr a;
	const struct iommu_pci_dev *d;

	assert_int_equal(iommu_pci_addr_parse(bdf, &a), 0);
	d = iommu_platform_find_device(x->p, a);
	assert_non_null(d);
	return d;
}

static struct iommu_group_info *group_of(const struct sys *x, const char *bdf)
{
	const struct iommu_device_info *di = iommu_system_device(x->s, dev(x, bdf));

	assert_non_null(di);
	assert_non_null(di->group);
	return di->group;
}

static int store(struct sys *x, const char *bdf, const char *buf)
{
	struct iommu_error err = { 0 };
	int ret = iommu_group_store_type(x->s, group_of(x, bdf), buf, &err);

	/* a refusal always says why */
	if (ret)
		assert_true(err.msg[0] != '\0');
	return ret;
}

static enum iommu_domain_type type_of(const struct sys *x, const char *bdf)
{
	return group_of(x, bdf)->type;
}

/* sysfs_streq: the four words, one trailing newline allowed; "blocked"
 * and "unmanaged" are types the file shows but never accepts (D14). */
static void test_strings(void **state)
{
	static const char *const bad[] = { "blocked", "unmanaged", "", "dma", "identity\n\n",
					   " identity", "identity ", "DMA-FQ\r", "auto\nx" };
	struct sys x;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, NULL, true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(store(&x, "0000:01:00.0", bad[i]), -EINVAL);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(store(&x, "0000:01:00.0", "identity\n"), 0);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_IDENTITY);
	assert_int_equal(iommu_group_store_type(x.s, NULL, "DMA", NULL), -EINVAL);
	assert_int_equal(iommu_group_store_type(x.s, group_of(&x, "0000:01:00.0"), NULL, NULL), -EINVAL);
	sys_free(&x);
}

/*
 * 6.1: iommu_group_store_type before the 6.5 rework.  Group 2 (three
 * functions of 00:08) -> "Group has more than one device" -EINVAL; group
 * 4 (00:1c.0, pcieport bound) -> "Device is still bound to driver" -EBUSY;
 * group 10 (01:00.0, no driver) -> each type in turn, the domain really
 * replaced: identity is VT-d pass-through, DMA translates only what is
 * mapped.  DMA -> DMA-FQ keeps the domain object (the flush queue comes
 * up in place); "auto" is the global default (DMA-FQ here).
 */
static void test_v61_rules(void **state)
{
	struct sys x;
	struct iommu_group_info *g;
	struct iommu_domain *d;
	struct iommu_device_xlate xl;
	const struct iommu_pci_dev *pd;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, NULL, true);
	assert_int_equal(x.s->kernel.minor, 1);
	assert_int_equal(store(&x, "0000:00:08.1", "identity"), -EINVAL);
	assert_int_equal(type_of(&x, "0000:00:08.1"), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(store(&x, "0000:00:1c.0", "identity"), -EBUSY);
	assert_int_equal(store(&x, "0000:00:1c.0", "DMA"), -EBUSY);

	g = group_of(&x, "0000:01:00.0");
	pd = dev(&x, "0000:01:00.0");
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), 0);
	assert_int_equal(iommu_domain_get_type(iommu_group_default_domain(g)), IOMMU_DOMAIN_IDENTITY);
	assert_ptr_equal(iommu_group_domain(g), iommu_group_default_domain(g));
	assert_int_equal(iommu_device_translate(x.s, pd, 0x12345000, false, &xl), 0);
	assert_true(xl.direct);
	assert_int_equal(xl.host_addr, 0x12345000);

	assert_int_equal(store(&x, "0000:01:00.0", "DMA"), 0);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_DMA);
	d = iommu_group_default_domain(g);
	assert_int_equal(iommu_domain_get_type(d), IOMMU_DOMAIN_DMA);
	assert_int_equal(iommu_device_translate(x.s, pd, 0x12345000, false, &xl), -EFAULT);
	assert_int_equal(iommu_map(d, 0x12345000, 0x5000, 0x1000, IOMMU_PROT_READ), 0);
	assert_int_equal(iommu_device_translate(x.s, pd, 0x12345000, false, &xl), 0);
	assert_int_equal(xl.host_addr, 0x5000);

	/* the same type: nothing to do (prev_dom->type == type) */
	assert_int_equal(store(&x, "0000:01:00.0", "DMA"), 0);
	assert_ptr_equal(iommu_group_default_domain(g), d);
	/* DMA -> DMA-FQ in place: the same domain, now lazy */
	assert_int_equal(store(&x, "0000:01:00.0", "DMA-FQ"), 0);
	assert_ptr_equal(iommu_group_default_domain(g), d);
	assert_int_equal(iommu_domain_get_type(d), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(iommu_iova_to_phys(d, 0x12345000), 0x5000);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), 0);
	assert_int_equal(store(&x, "0000:01:00.0", "auto"), 0);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_DMA_FQ);
	sys_free(&x);
}

/*
 * 6.1: DMA -> DMA-FQ is the one change allowed with a driver bound
 * (iommu.strict=1 makes the groups DMA): pcieport's group 4 converts,
 * any other write -EBUSY.  A claimed group is not in its default domain:
 * "Group not assigned to default domain" -EBUSY.
 */
static void test_v61_bound_and_owned(void **state)
{
	struct sys x;
	int owner;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, "intel_iommu=on iommu.strict=1", NULL, NULL, true);
	assert_int_equal(type_of(&x, "0000:00:1c.0"), IOMMU_DOMAIN_DMA);
	assert_int_equal(store(&x, "0000:00:1c.0", "DMA-FQ"), 0);
	assert_int_equal(type_of(&x, "0000:00:1c.0"), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(store(&x, "0000:00:1c.0", "DMA"), -EBUSY);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:01:00.0"), &owner), 0);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), -EBUSY);
	iommu_group_release_dma_owner(group_of(&x, "0000:01:00.0"));
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), 0);
	sys_free(&x);
}

/*
 * 6.12 (the 6.5+ code): no one-device rule (group 13 of four functions
 * changes), driver_managed_dma drivers do not count (pcieport's group 4
 * changes), a DMA-API driver bound is -EPERM (D10: virtio-pci on 00:08.1
 * as the captured 6.12 kernel had it; nvme bound on 0a:00.0), the same
 * type with a driver bound is -EPERM too (D13: the ownership check comes
 * before the no-op), DMA -> DMA-FQ with the driver bound succeeds (D12),
 * a claimed group is -EPERM.
 */
static void test_v612_rules(void **state)
{
	static const char *const nvme[] = { "0000:0a:00.0=nvme", NULL };
	struct sys x;
	int owner;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr-k612", NULL, NULL, nvme, NULL, true);
	assert_int_equal(x.s->kernel.minor, 12);
	assert_string_equal(dev(&x, "0000:00:08.1")->driver, "virtio-pci");
	assert_int_equal(store(&x, "0000:00:08.1", "identity"), -EPERM);
	assert_int_equal(type_of(&x, "0000:00:08.2"), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(store(&x, "0000:04:00.0", "identity"), 0);
	assert_int_equal(type_of(&x, "0000:05:03.0"), IOMMU_DOMAIN_IDENTITY);
	assert_int_equal(store(&x, "0000:00:1c.0", "identity"), 0);
	assert_int_equal(store(&x, "0000:0a:00.0", "identity"), -EPERM);
	assert_int_equal(store(&x, "0000:0a:00.0", "DMA-FQ"), -EPERM);   /* D13 */
	assert_int_equal(type_of(&x, "0000:0a:00.0"), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:01:00.0"), &owner), 0);
	assert_int_equal(store(&x, "0000:01:00.0", "DMA"), -EPERM);
	iommu_group_release_dma_owner(group_of(&x, "0000:01:00.0"));
	assert_int_equal(store(&x, "0000:01:00.0", "DMA"), 0);
	sys_free(&x);

	/* D12: strict groups, DMA -> DMA-FQ with nvme bound */
	sys_load(&x, "lx-intel-server-rmrr-k612", NULL, "intel_iommu=on iommu.strict=1", nvme, NULL, true);
	assert_int_equal(type_of(&x, "0000:0a:00.0"), IOMMU_DOMAIN_DMA);
	assert_int_equal(store(&x, "0000:0a:00.0", "DMA-FQ"), 0);
	assert_int_equal(type_of(&x, "0000:0a:00.0"), IOMMU_DOMAIN_DMA_FQ);
	sys_free(&x);
}

/*
 * A VT-d unit without ECAP.PT (bit 6 cleared in the platform's ECAP).
 * 6.12: device_def_domain_type requires DMA, so boot gives DMA (strict)
 * groups, "identity" is refused (-EINVAL, D16's rule for a driver type),
 * and DMA -> DMA-FQ still converts in place (before any type check).
 * 6.1: no such requirement; identity is the 1:1 page-table domain
 * (si_domain): DMA translates through page tables to the same address.
 */
static void test_no_passthrough(void **state)
{
	struct sys x;
	struct iommu_device_xlate xl;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr-k612", NULL, NULL, NULL, "f00f0a\n", true);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_DMA);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), -EINVAL);
	assert_int_equal(store(&x, "0000:01:00.0", "DMA-FQ"), 0);
	assert_int_equal(store(&x, "0000:01:00.0", "auto"), 0);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_DMA);
	sys_free(&x);

	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, "f00f0a\n", true);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), 0);
	assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:01:00.0"), 0x23456000, true, &xl), 0);
	assert_false(xl.direct);        /* through the 1:1 page table, not pass-through */
	assert_int_equal(xl.host_addr, 0x23456000);
	sys_free(&x);
}

/* Versions: the file is read-only before 5.11 (-EACCES); 5.11-5.14 do
 * not know "DMA-FQ" (-EINVAL) but take the other words. */
static void test_versions(void **state)
{
	struct sys x;

	(void)state;
	sys_load(&x, "f2-strict", "5.10", NULL, NULL, NULL, false);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), -EACCES);
	sys_free(&x);
	sys_load(&x, "f2-strict", "5.11", NULL, NULL, NULL, false);
	assert_int_equal(store(&x, "0000:01:00.0", "DMA-FQ"), -EINVAL);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), 0);
	sys_free(&x);
}

/* On a stopped system the write applies the same rules and changes the
 * type probe gave the group (what `iommu groups` shows after). */
static void test_stopped_system(void **state)
{
	struct sys x;

	(void)state;
	sys_load(&x, "f2-strict", NULL, NULL, NULL, NULL, false);
	assert_false(iommu_system_started(x.s));
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_DMA);
	assert_int_equal(store(&x, "0000:01:00.0", "identity"), 0);
	assert_int_equal(type_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_IDENTITY);
	assert_int_equal(store(&x, "0000:00:1f.0", "identity"), -EINVAL);       /* 3 devices, 6.1 */
	assert_null(iommu_group_default_domain(group_of(&x, "0000:01:00.0")));
	sys_free(&x);
}

/* AMD (software page tables): DMA (NpCache: strict) -> DMA-FQ in place,
 * identity makes the device's DMA untranslated, "auto" back to DMA. */
static void test_amd(void **state)
{
	struct sys x;
	struct iommu_device_xlate xl;

	(void)state;
	sys_load(&x, "lx-amd-server", NULL, NULL, NULL, NULL, true);
	assert_int_equal(type_of(&x, "0000:00:02.0"), IOMMU_DOMAIN_DMA);
	assert_int_equal(store(&x, "0000:00:02.0", "DMA-FQ"), 0);
	assert_int_equal(store(&x, "0000:00:02.0", "identity"), 0);
	assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:00:02.0"), 0x9000, false, &xl), 0);
	assert_true(xl.direct);
	assert_int_equal(store(&x, "0000:00:02.0", "auto"), 0);
	assert_int_equal(type_of(&x, "0000:00:02.0"), IOMMU_DOMAIN_DMA);
	assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:00:02.0"), 0x9000, false, &xl), -EFAULT);
	sys_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_v61_rules),
		cmocka_unit_test(test_v61_bound_and_owned),
		cmocka_unit_test(test_v612_rules),
		cmocka_unit_test(test_no_passthrough),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_stopped_system),
		cmocka_unit_test(test_amd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
