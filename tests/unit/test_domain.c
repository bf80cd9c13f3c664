// SPDX-License-Identifier: MIT
/*
 * Domains of a started system (src/core/domain.c), against the kernel's
 * captures and the kernel's rules:
 *  - boot: each group's default domain has the type the kernel's sysfs
 *    showed; identity goes through VT-d pass-through; direct reserved
 *    regions are mapped 1:1 in DMA domains (iommu_create_device_direct_mappings);
 *  - geometry and page sizes as the kernel reported them to VFIO in the
 *    captures (iova_pgsizes, iova ranges);
 *  - attach, detach, DMA ownership claims with the errnos of 6.1 and
 *    6.12 (the captures' VFIO_GROUP_SET_CONTAINER replies);
 *  - iommu_map / iommu_unmap / iommu_map_sg / iommu_iova_to_phys answers
 *    traced to drivers/iommu/iommu.c and the Intel and AMD drivers, and
 *    DMA through the modelled VT-d unit (strict and lazy invalidation);
 *  - iommu_pgsize() on the kernel's own examples;
 *  - several threads mapping and unmapping on one domain.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"
#include "helpers.h"
#include "iommu/core.h"
#include "iommu/hw.h"

#define K4 UINT64_C(0x1000)
#define K8 UINT64_C(0x2000)
#define M2 UINT64_C(0x200000)
#define G1 UINT64_C(0x40000000)
#define RW (IOMMU_PROT_READ | IOMMU_PROT_WRITE)

/* --- fixtures ------------------------------------------------------------- */

struct sys {
	struct iommu_platform *p;
	struct iommu_system *s;
	char *tmp;
};

/*
 * Load capture @name (optionally with @kernel / @cmdline what-ifs and
 * drivers bound: "BDF=driver" strings written into a copy's
 * pci/<BDF>/driver), build the system, and start it when @start.
 */
static void sys_load(struct sys *x, const char *name, const char *kernel, const char *cmdline,
		     const char *const *drivers, bool start)
{
	struct iommu_system_options so = { .kernel = kernel, .cmdline = cmdline };
	struct iommu_error err = { 0 };
	char dir[4096];

	memset(x, 0, sizeof(*x));
	assert_non_null(captures_dir());
	snprintf(dir, sizeof(dir), "%s/%s", captures_dir(), name);
	if (drivers && drivers[0]) {
		x->tmp = make_temp_dir();
		assert_non_null(x->tmp);
		assert_int_equal(copy_tree(dir, x->tmp), 0);
		for (size_t i = 0; drivers[i]; i++) {
			char path[4200], bdf[64];
			const char *eq = strchr(drivers[i], '=');

			assert_non_null(eq);
			snprintf(bdf, sizeof(bdf), "%.*s", (int)(eq - drivers[i]), drivers[i]);
			snprintf(path, sizeof(path), "%s/pci/%s/driver", x->tmp, bdf);
			assert_int_equal(write_file(path, eq + 1, strlen(eq + 1)), 0);
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

static struct iommu_vtd_unit *unit_of(const struct sys *x, const char *bdf)
{
	const struct iommu_device_info *di = iommu_system_device(x->s, dev(x, bdf));
	struct iommu_vtd_unit *u = iommu_system_vtd_unit(x->s, di->unit);

	assert_non_null(u);
	return u;
}

/* One read request of @bdf at @addr through its VT-d unit. */
static int vtd_read(const struct sys *x, const char *bdf, uint64_t addr, struct iommu_vtd_result *r)
{
	const struct iommu_pci_dev *d = dev(x, bdf);
	struct iommu_vtd_request rq = { .source_id = iommu_pci_addr_rid(d->addr), .addr = addr,
					.size = 4 };

	memset(r, 0, sizeof(*r));
	return iommu_vtd_translate(unit_of(x, bdf), &rq, r);
}

static bool notes_have(const struct iommu_system *s, const char *needle)
{
	for (size_t i = 0; i < s->n_notes; i++)
		if (strstr(s->notes[i], needle))
			return true;
	return false;
}

/* The kernel's group types from the capture's groups.txt. */
static enum iommu_domain_type type_from_name(const char *t)
{
	if (!strcmp(t, "identity"))
		return IOMMU_DOMAIN_IDENTITY;
	if (!strcmp(t, "DMA"))
		return IOMMU_DOMAIN_DMA;
	if (!strcmp(t, "DMA-FQ"))
		return IOMMU_DOMAIN_DMA_FQ;
	if (!strcmp(t, "blocked"))
		return IOMMU_DOMAIN_BLOCKED;
	return IOMMU_DOMAIN_NONE;
}

/* --- boot ----------------------------------------------------------------- */

/*
 * After start, every group's default domain is the type the real kernel's
 * /sys/kernel/iommu_groups/N/type showed (groups.txt of the capture), and
 * the group is attached to it (iommu_get_domain_for_dev == default, as
 * bus_iommu_probe leaves it).
 */
static void test_start_types_match_captures(void **state)
{
	static const char *const caps[] = {
		"lx-intel-server-rmrr", "lx-intel-server-rmrr-k612", "lx-amd-server",
		"lx-amd-server-ivmd", "f1-pt", "f2-strict", "f7-pt-k612", "lx-intel-server-strict1",
		"lx-amd-server-pt", "lx-intel-server-rmrr-pt",
	};

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		char path[4096], line[1024];
		struct sys x;
		FILE *f;
		size_t seen = 0;

		sys_load(&x, caps[c], NULL, NULL, NULL, true);
		snprintf(path, sizeof(path), "%s/%s/groups.txt", captures_dir(), caps[c]);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			int id;
			char type[32];
			struct iommu_group_info *g;
			struct iommu_domain *d;

			if (sscanf(line, "group %d type=%31s", &id, type) != 2)
				continue;
			assert_true((size_t)id < x.s->n_groups);
			g = x.s->groups[id];
			d = iommu_group_default_domain(g);
			if (!d)
				fail_msg("%s: group %d has no default domain", caps[c], id);
			if (iommu_domain_get_type(d) != type_from_name(type))
				fail_msg("%s: group %d: default domain %s, the kernel's %s", caps[c], id,
					 iommu_domain_type_name(iommu_domain_get_type(d)), type);
			assert_ptr_equal(iommu_group_domain(g), d);
			/* unclaimed: owner_cnt is the bound DMA-API drivers only */
			assert_int_equal(iommu_group_dma_owner_claimed(g),
					 iommu_group_dma_api_drivers(g) != 0);
			seen++;
		}
		fclose(f);
		assert_int_equal(seen, x.s->n_groups);
		sys_free(&x);
	}
}

/*
 * iommu=pt on VT-d with ECAP.PT: identity default domains are context
 * entries with TT = pass-through (domain_context_mapping_one); a member's
 * DMA comes out at its own address, for any address.  The kernel's
 * iommu_iova_to_phys returns the IOVA for an identity domain; iommu_map
 * refuses a non-paging domain (__iommu_map: -EINVAL).
 */
static void test_identity_is_passthrough(void **state)
{
	struct sys x;
	struct iommu_vtd_result r;
	struct iommu_domain *d;
	struct iommu_domain_geometry geo;
	struct iommu_device_xlate xl;

	(void)state;
	sys_load(&x, "f1-pt", NULL, NULL, NULL, true);
	d = iommu_group_default_domain(group_of(&x, "0000:01:00.0"));
	assert_int_equal(iommu_domain_get_type(d), IOMMU_DOMAIN_IDENTITY);
	assert_int_equal(vtd_read(&x, "0000:01:00.0", UINT64_C(0x123456000), &r), 0);
	assert_true(r.passthrough);
	assert_int_equal(r.host_addr, UINT64_C(0x123456000));
	assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:01:00.0"), 0x7000, true, &xl), 0);
	assert_true(xl.direct);
	assert_int_equal(xl.host_addr, 0x7000);
	assert_int_equal(iommu_iova_to_phys(d, 0xabc000), 0xabc000);
	assert_int_equal(iommu_map(d, 0x1000, 0x1000, K4, RW), -EINVAL);
	assert_int_equal(iommu_unmap(d, 0x1000, K4), 0);     /* __iommu_unmap: not paging */
	iommu_domain_get_geometry(d, &geo);
	assert_int_equal(geo.pgsize_bitmap, 0);
	sys_free(&x);
}

/*
 * lx-intel-server-rmrr: RMRRs 0xf0000-0xfffff (00:14.0, USB: relaxable)
 * and 0x3e000000-0x3e0fffff (09:00.0, NVMe: direct); the ISA bridge
 * 00:1f.0 lists [0, 16 MiB) (FLOPPY_WA).  In DMA default domains they are
 * mapped 1:1 before the devices attach (iommu_create_device_direct_mappings,
 * both DIRECT and DIRECT_RELAXABLE), so the members' DMA to them
 * translates to the same address through the VT-d unit, for every member
 * of the group (07:01.0 shares 09:00.0's domain), and a group without
 * such regions faults there.
 */
static void test_rmrr_direct_mappings(void **state)
{
	static const char *const caps[] = { "lx-intel-server-rmrr", "lx-intel-server-rmrr-k612" };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct sys x;
		struct iommu_vtd_result r;

		sys_load(&x, caps[c], NULL, NULL, NULL, true);
		assert_int_equal(vtd_read(&x, "0000:09:00.0", UINT64_C(0x3e000000) + 0x1234, &r), 0);
		assert_false(r.passthrough);
		assert_int_equal(r.host_addr, UINT64_C(0x3e001234));
		assert_int_equal(vtd_read(&x, "0000:09:00.0", UINT64_C(0x3e0ff000), &r), 0);
		assert_int_equal(r.host_addr, UINT64_C(0x3e0ff000));
		/* one past the region: nothing mapped */
		assert_int_equal(vtd_read(&x, "0000:09:00.0", UINT64_C(0x3e100000), &r), -EFAULT);
		/* the other member of group 16 uses the same domain */
		assert_int_equal(vtd_read(&x, "0000:07:01.0", UINT64_C(0x3e080000), &r), 0);
		assert_int_equal(r.host_addr, UINT64_C(0x3e080000));
		/* relaxable USB RMRR: mapped as well */
		assert_int_equal(vtd_read(&x, "0000:00:14.0", UINT64_C(0xf8000), &r), 0);
		assert_int_equal(r.host_addr, UINT64_C(0xf8000));
		/* ISA bridge group: [0, 16 MiB) for 00:1f.2 too (same group) */
		assert_int_equal(vtd_read(&x, "0000:00:1f.2", UINT64_C(0x800000), &r), 0);
		assert_int_equal(r.host_addr, UINT64_C(0x800000));
		/* a group without direct regions: the same address faults */
		assert_int_equal(vtd_read(&x, "0000:01:00.0", UINT64_C(0xf8000), &r), -EFAULT);
		assert_int_equal(iommu_iova_to_phys(iommu_group_default_domain(group_of(&x, "0000:09:00.0")),
						    UINT64_C(0x3e000010)), UINT64_C(0x3e000010));
		sys_free(&x);
	}
}

/* AMD IVMD unity ranges (lx-amd-server-ivmd: 0x3e000000-0x3e0fffff for
 * 09:00.0, 0xf0000-0xfffff for 00:02.0) are direct regions: mapped 1:1 in
 * the DMA default domains, in the software page table. */
static void test_amd_ivmd_direct_mappings(void **state)
{
	struct sys x;
	struct iommu_device_xlate xl;

	(void)state;
	sys_load(&x, "lx-amd-server-ivmd", NULL, NULL, NULL, true);
	assert_int_equal(iommu_iova_to_phys(iommu_group_default_domain(group_of(&x, "0000:09:00.0")),
					    UINT64_C(0x3e000800)), UINT64_C(0x3e000800));
	assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:00:02.0"), 0xf1000, false, &xl), 0);
	assert_int_equal(xl.host_addr, 0xf1000);
	assert_false(xl.modelled_unit);
	/* another group: no mapping there */
	assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:00:03.0"), 0xf1000, false, &xl),
			 -EFAULT);
	assert_true(notes_have(x.s, "AMD-Vi hardware is not modelled"));
	sys_free(&x);
}

/*
 * Geometry and page sizes as the kernel reported them to VFIO on the
 * same platforms (captures/i-vfio, i2-vfio-amd: VFIO_IOMMU_GET_INFO):
 * Intel iova_pgsizes 0x40201000 (4 KiB | CAP.SLLPS 2 MiB, 1 GiB), the last
 * IOVA range ending at 0x7fffffffff (39-bit domain); AMD
 * 0xffffff7ffffff000 (AMD_IOMMU_PGSIZES) and a range to 2^64 - 1.
 * intel_iommu=sp_off: 4 KiB only.
 */
static void test_geometry(void **state)
{
	struct sys x;
	struct iommu_domain *d;
	struct iommu_domain_geometry geo;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_UNMANAGED,
					    &d), 0);
	iommu_domain_get_geometry(d, &geo);
	assert_int_equal(geo.pgsize_bitmap, UINT64_C(0x40201000));
	assert_int_equal(geo.aperture_start, 0);
	assert_int_equal(geo.aperture_end, UINT64_C(0x7fffffffff));
	assert_true(geo.force_aperture);
	iommu_domain_free(d);
	sys_free(&x);

	sys_load(&x, "lx-intel-server-rmrr", NULL, "intel_iommu=on intel_iommu=sp_off", NULL, true);
	iommu_domain_get_geometry(iommu_group_default_domain(group_of(&x, "0000:01:00.0")), &geo);
	assert_int_equal(geo.pgsize_bitmap, K4);
	sys_free(&x);

	sys_load(&x, "lx-amd-server", NULL, NULL, NULL, true);
	iommu_domain_get_geometry(iommu_group_default_domain(group_of(&x, "0000:00:02.0")), &geo);
	assert_int_equal(geo.pgsize_bitmap, UINT64_C(0xffffff7ffffff000));
	assert_int_equal(geo.pgsize_bitmap, IOMMU_AMD_V1_PGSIZES);
	assert_int_equal(geo.aperture_end, ~UINT64_C(0));
	sys_free(&x);
}

/* --- attach, detach, ownership ------------------------------------------- */

/*
 * __iommu_attach_group (6.1 and 6.12 alike): a group may leave its
 * default (or blocking) domain for any domain, owned or not; while it is
 * in another domain, attaching any domain (that one too) is -EBUSY;
 * iommu_detach_group goes back to the default domain
 * (__iommu_group_set_core_domain).  The member's DMA follows.
 */
static void test_attach_detach(void **state)
{
	struct sys x;
	struct iommu_group_info *g;
	struct iommu_domain *d1, *d2, *def;
	struct iommu_vtd_result r;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	g = group_of(&x, "0000:01:00.0");
	def = iommu_group_default_domain(g);
	assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_UNMANAGED, &d1), 0);
	assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_UNMANAGED, &d2), 0);
	assert_int_equal(iommu_map(d1, 0x100000, 0x7000000, K4, RW), 0);
	assert_int_equal(iommu_attach_group(d1, g), 0);
	assert_ptr_equal(iommu_group_domain(g), d1);
	assert_int_equal(vtd_read(&x, "0000:01:00.0", 0x100010, &r), 0);
	assert_int_equal(r.host_addr, 0x7000010);
	assert_int_equal(iommu_attach_group(d2, g), -EBUSY);
	assert_int_equal(iommu_attach_group(d1, g), -EBUSY);
	/* a domain still attached is not freed */
	iommu_domain_free(d1);
	assert_true(notes_have(x.s, "not freed"));
	iommu_detach_group(d1, g);
	assert_ptr_equal(iommu_group_domain(g), def);
	assert_int_equal(vtd_read(&x, "0000:01:00.0", 0x100010, &r), -EFAULT);
	assert_int_equal(iommu_attach_group(d2, g), 0);
	iommu_detach_group(d2, g);
	iommu_domain_free(d1);
	iommu_domain_free(d2);
	/* bad input */
	assert_int_equal(iommu_attach_group(NULL, g), -EINVAL);
	assert_int_equal(iommu_domain_alloc(x.s, g, (enum iommu_domain_type)42, &d1), -EINVAL);
	assert_null(d1);
	sys_free(&x);
}

/*
 * iommu_group_claim_dma_owner (reference 8.1): a claim puts the group in
 * its blocking domain, so the member's DMA faults; another owner gets
 * -EPERM (owner_cnt); the owner may attach its domain and detach back to
 * blocking (owned: __iommu_group_set_core_domain picks the blocking
 * domain); the last release returns to the default domain.  Claiming a
 * group attached to a non-default domain is -EBUSY.  The blocking domain
 * is BLOCKED on 6.12 (intel blocking_domain, 6.3+) and an empty
 * UNMANAGED domain on 6.1 (__iommu_group_alloc_blocking_domain's
 * fallback).
 */
static void test_claim_release(void **state)
{
	static const struct { const char *cap; enum iommu_domain_type blocking; } v[] = {
		{ "lx-intel-server-rmrr", IOMMU_DOMAIN_UNMANAGED },
		{ "lx-intel-server-rmrr-k612", IOMMU_DOMAIN_BLOCKED },
	};
	int a, b;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct sys x;
		struct iommu_group_info *g;
		struct iommu_domain *d, *def;
		struct iommu_vtd_result r;

		sys_load(&x, v[i].cap, NULL, NULL, NULL, true);
		g = group_of(&x, "0000:00:14.0");       /* relaxable RMRR: claim allowed */
		def = iommu_group_default_domain(g);
		assert_int_equal(vtd_read(&x, "0000:00:14.0", 0xf0000, &r), 0);
		assert_int_equal(iommu_group_claim_dma_owner(g, NULL), -EINVAL);
		assert_int_equal(iommu_group_claim_dma_owner(g, &a), 0);
		assert_true(iommu_group_dma_owner_claimed(g));
		assert_int_equal(iommu_domain_get_type(iommu_group_domain(g)), v[i].blocking);
		/* blocked: the RMRR mapping is gone for the device */
		assert_int_equal(vtd_read(&x, "0000:00:14.0", 0xf0000, &r), -EFAULT);
		assert_int_equal(iommu_group_claim_dma_owner(g, &b), -EPERM);
		assert_int_equal(iommu_group_claim_dma_owner(g, &a), 0);     /* counted */
		assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_UNMANAGED, &d), 0);
		assert_int_equal(iommu_map(d, 0, 0x5000000, M2, RW), 0);
		assert_int_equal(iommu_attach_group(d, g), 0);
		assert_int_equal(vtd_read(&x, "0000:00:14.0", 0x1000, &r), 0);
		assert_int_equal(r.host_addr, 0x5001000);
		iommu_detach_group(d, g);
		assert_int_equal(iommu_domain_get_type(iommu_group_domain(g)), v[i].blocking);
		iommu_group_release_dma_owner(g);
		assert_true(iommu_group_dma_owner_claimed(g));  /* one claim left */
		iommu_group_release_dma_owner(g);
		assert_false(iommu_group_dma_owner_claimed(g));
		assert_ptr_equal(iommu_group_domain(g), def);
		assert_int_equal(vtd_read(&x, "0000:00:14.0", 0xf0000, &r), 0);
		/* __iommu_take_dma_ownership: not from a non-default domain */
		assert_int_equal(iommu_attach_group(d, g), 0);
		assert_int_equal(iommu_group_claim_dma_owner(g, &a), -EBUSY);
		iommu_detach_group(d, g);
		iommu_domain_free(d);
		sys_free(&x);
	}
}

/*
 * A group with a direct (not relaxable) RMRR, 09:00.0's group 16: the
 * kernel's VFIO_GROUP_SET_CONTAINER (iommu_group_claim_dma_owner) failed
 * with EPERM on 6.1 and EINVAL on 6.12 (captures
 * lx-intel-server-rmrr-vfio{,-k612}/vfio/group-16.txt).  6.1: the blocking
 * domain is UNMANAGED and intel_iommu_attach_device refuses it for an
 * RMRR-locked device; 6.5+: __iommu_device_set_domain refuses a blocking
 * domain for require_direct.  On 6.1 a user's UNMANAGED domain is refused
 * the same way; on 6.12 it attaches (only blocking is refused).  The
 * group is left where it was, its RMRR mapping intact.
 */
static void test_claim_direct_rmrr(void **state)
{
	struct sys x;
	struct iommu_group_info *g;
	struct iommu_domain *d, *blk;
	struct iommu_vtd_result r;
	int a;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	g = group_of(&x, "0000:09:00.0");
	assert_int_equal(iommu_group_claim_dma_owner(g, &a), -EPERM);
	assert_false(iommu_group_dma_owner_claimed(g));
	assert_true(notes_have(x.s, "ineligible for IOMMU domain attach due to platform RMRR"));
	assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_UNMANAGED, &d), 0);
	assert_int_equal(iommu_attach_group(d, g), -EPERM);
	assert_ptr_equal(iommu_group_domain(g), iommu_group_default_domain(g));
	assert_int_equal(vtd_read(&x, "0000:09:00.0", UINT64_C(0x3e000000), &r), 0);
	iommu_domain_free(d);
	sys_free(&x);

	sys_load(&x, "lx-intel-server-rmrr-k612", NULL, NULL, NULL, true);
	g = group_of(&x, "0000:09:00.0");
	assert_int_equal(iommu_group_claim_dma_owner(g, &a), -EINVAL);
	assert_false(iommu_group_dma_owner_claimed(g));
	assert_true(notes_have(x.s, "Firmware has requested this device have a 1:1 IOMMU mapping"));
	assert_int_equal(vtd_read(&x, "0000:09:00.0", UINT64_C(0x3e000000), &r), 0);
	assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_BLOCKED, &blk), 0);
	assert_int_equal(iommu_attach_group(blk, g), -EINVAL);
	assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_UNMANAGED, &d), 0);
	assert_int_equal(iommu_attach_group(d, g), 0);
	iommu_detach_group(d, g);
	iommu_domain_free(d);
	iommu_domain_free(blk);
	sys_free(&x);
}

/* AMD IVMD unity ranges: 6.1 claimed both groups (set_container rc=0),
 * 6.12 refused both with EINVAL (lx-amd-server-ivmd-vfio{,-k612}). */
static void test_claim_amd_ivmd(void **state)
{
	struct sys x;
	int a;

	(void)state;
	sys_load(&x, "lx-amd-server-ivmd", NULL, NULL, NULL, true);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:09:00.0"), &a), 0);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:00:02.0"), &a), 0);
	iommu_group_release_dma_owner(group_of(&x, "0000:09:00.0"));
	iommu_group_release_dma_owner(group_of(&x, "0000:00:02.0"));
	sys_free(&x);
	sys_load(&x, "lx-amd-server-ivmd", "6.12", NULL, NULL, true);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:09:00.0"), &a), -EINVAL);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:00:02.0"), &a), -EINVAL);
	sys_free(&x);
}

/*
 * owner_cnt counts members bound to a driver that uses the DMA API
 * (iommu_device_use_default_domain at driver probe); vfio-pci, pci-stub
 * and pcieport set driver_managed_dma and do not count.  A claim on a
 * group with such a member is -EPERM (reference 8.1, V1/V2; captures
 * i-vfio group 4 with 8139cp bound: set_container EPERM).
 */
static void test_claim_bound_drivers(void **state)
{
	static const char *const nvme[] = { "0000:0a:00.0=nvme", NULL };
	static const char *const stub[] = { "0000:0a:00.0=vfio-pci", "0000:01:00.0=pci-stub", NULL };
	struct sys x;
	int a;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, nvme, true);
	assert_true(iommu_group_dma_owner_claimed(group_of(&x, "0000:0a:00.0")));
	assert_int_equal(iommu_group_dma_api_drivers(group_of(&x, "0000:0a:00.0")), 1);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:0a:00.0"), &a), -EPERM);
	/* 07:02.0 (pcieport) shares the group: it does not count */
	assert_string_equal(dev(&x, "0000:07:02.0")->driver, "pcieport");
	sys_free(&x);
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, stub, true);
	assert_false(iommu_group_dma_owner_claimed(group_of(&x, "0000:0a:00.0")));
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:0a:00.0"), &a), 0);
	assert_int_equal(iommu_group_claim_dma_owner(group_of(&x, "0000:01:00.0"), &a), 0);
	sys_free(&x);
}

/* --- map, unmap ---------------------------------------------------------- */

/*
 * The checks of __iommu_map and intel_iommu_map, in the kernel's order:
 * alignment to the smallest page size (-EINVAL), size 0 (0: the loop does
 * not run), the end beyond the domain's width (-EFAULT), no READ/WRITE
 * (__domain_mapping: -EINVAL); a wrapping range is refused (-EINVAL)
 * before anything maps.  Then a DMA of the attached member reaches the
 * mapped host address through the VT-d unit.
 */
static void test_map_checks_intel(void **state)
{
	struct sys x;
	struct iommu_group_info *g;
	struct iommu_domain *d;
	struct iommu_mem *mem;
	struct iommu_device_xlate xl;
	const struct iommu_pci_dev *pd;
	uint8_t out[16] = { 0 }, back[16];

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	g = group_of(&x, "0000:01:00.0");
	pd = dev(&x, "0000:01:00.0");
	assert_int_equal(iommu_domain_alloc(x.s, g, IOMMU_DOMAIN_UNMANAGED, &d), 0);
	assert_int_equal(iommu_attach_group(d, g), 0);
	assert_int_equal(iommu_map(d, 0x100800, 0x200000, K4, RW), -EINVAL);
	assert_int_equal(iommu_map(d, 0x100000, 0x200800, K4, RW), -EINVAL);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, 0x800, RW), -EINVAL);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, 0, RW), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x100000), 0);
	assert_int_equal(iommu_map(d, UINT64_C(0x8000000000), 0x200000, K4, RW), -EFAULT);
	assert_int_equal(iommu_map(d, UINT64_C(0x7ffffff000), 0x200000, K8, RW), -EFAULT);
	assert_int_equal(iommu_map(d, UINT64_C(0x7ffffff000), 0x200000, K4, RW), 0);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, K4, 0), -EINVAL);
	assert_int_equal(iommu_map(d, ~UINT64_C(0xfff), 0x200000, K8, RW), -EINVAL);
	assert_int_equal(iommu_map(NULL, 0x100000, 0x200000, K4, RW), -EINVAL);

	assert_int_equal(iommu_map(d, 0x100000, 0x200000, K4, RW), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x100234), 0x200234);
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(iommu_device_dma_write(x.s, pd, 0x100040, out, sizeof(out), &xl), 0);
	assert_true(xl.modelled_unit);
	assert_false(xl.direct);
	mem = iommu_system_mem(x.s);
	assert_int_equal(iommu_mem_read(mem, 0x200040, back, sizeof(back)), 0);
	assert_memory_equal(out, back, sizeof(out));
	/* and the CPU's locked view of the same memory */
	memset(back, 0, sizeof(back));
	assert_int_equal(iommu_system_mem_read(x.s, 0x200040, back, sizeof(back)), 0);
	assert_memory_equal(out, back, sizeof(out));
	assert_int_equal(iommu_system_mem_write(x.s, 0x200040, "zz", 2), 0);
	assert_int_equal(iommu_device_dma_read(x.s, pd, 0x100040, back, 2, &xl), 0);
	assert_memory_equal(back, "zz", 2);
	assert_int_equal(iommu_system_mem_read(x.s, ~UINT64_C(0) - 8, back, 4), -EFAULT);
	/* read-only: a write faults (VT-d fault reason 5, write) */
	assert_int_equal(iommu_map(d, 0x300000, 0x400000, K4, IOMMU_PROT_READ), 0);
	assert_int_equal(iommu_device_dma_write(x.s, pd, 0x300000, out, 4, &xl), -EFAULT);
	assert_int_equal(xl.fault_reason, IOMMU_VTD_FR_WRITE);
	assert_int_equal(iommu_device_dma_read(x.s, pd, 0x300000, back, 4, &xl), 0);
	iommu_detach_group(d, g);
	iommu_domain_free(d);
	sys_free(&x);
}

/*
 * Mapping over a mapping.  Intel (__domain_mapping): the PTE found set
 * stays (cmpxchg fails, "ERROR: DMA PTE for vPFN ... already set", WARN),
 * the other pages are mapped, the call returns 0.  AMD
 * (iommu_v1_map_pages): the old entry is overwritten.
 */
static void test_map_over_existing(void **state)
{
	struct sys x;
	struct iommu_domain *d;
	struct iommu_domain_stats st;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_UNMANAGED,
					    &d), 0);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, K4, RW), 0);
	assert_int_equal(iommu_map(d, 0xff000, 0x900000, 3 * K4, RW), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0xff000), 0x900000);
	assert_int_equal(iommu_iova_to_phys(d, 0x100000), 0x200000);     /* kept */
	assert_int_equal(iommu_iova_to_phys(d, 0x101000), 0x902000);
	iommu_domain_get_stats(d, &st);
	assert_int_equal(st.pte_already_set, 1);
	assert_true(notes_have(x.s, "DMA PTE for vPFN 0x100 already set"));
	iommu_domain_free(d);
	sys_free(&x);

	sys_load(&x, "lx-amd-server", NULL, NULL, NULL, true);
	assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, "0000:00:02.0"), IOMMU_DOMAIN_UNMANAGED,
					    &d), 0);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, K4, RW), 0);
	assert_int_equal(iommu_map(d, 0xff000, 0x900000, 3 * K4, RW), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x100000), 0x901000);     /* replaced */
	iommu_domain_get_stats(d, &st);
	assert_int_equal(st.replaced, 1);
	assert_int_equal(st.pte_already_set, 0);
	/* AMD's aperture is 64 bits: 2^39 maps (i2-vfio-amd map.at_2^39 rc=0) */
	assert_int_equal(iommu_map(d, UINT64_C(0x8000000000), 0x200000, K4, RW), 0);
	assert_int_equal(iommu_map(d, UINT64_C(0xfffffffff000), 0x200000, K4, RW), 0);
	iommu_domain_free(d);
	sys_free(&x);
}

/*
 * iommu_unmap's return value.  Intel (intel_iommu_unmap): the chunk asked
 * for, or the whole superpage found at its start, whether or not anything
 * was mapped there; nothing beyond the domain's width.  AMD
 * (iommu_v1_unmap_pages): whole pages, stopping at the first hole (0 for a
 * hole).  Both: 0 for an unaligned request or size 0 (__iommu_unmap).
 */
static void test_unmap_returns(void **state)
{
	struct sys x;
	struct iommu_domain *d;
	uint64_t phys = 0, psize = 0;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_UNMANAGED,
					    &d), 0);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, 4 * K4, RW), 0);
	assert_int_equal(iommu_unmap(d, 0x100000, 0x800), 0);
	assert_int_equal(iommu_unmap(d, 0x100800, K4), 0);
	assert_int_equal(iommu_unmap(d, 0x100000, 0), 0);
	assert_int_equal(iommu_unmap(d, 0x100000, 2 * K4), 2 * K4);
	assert_int_equal(iommu_iova_to_phys(d, 0x101000), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x102000), 0x202000);
	/* a hole: intel_iommu_unmap counts it */
	assert_int_equal(iommu_unmap(d, 0x500000, 3 * K4), 3 * K4);
	assert_int_equal(iommu_unmap(d, UINT64_C(0x8000000000), K4), 0);
	/* a 2 MiB superpage (iova, paddr 2 MiB aligned) goes whole */
	assert_int_equal(iommu_map(d, 0x400000, 0x600000, M2, RW), 0);
	assert_int_equal(iommu_intel_iova_to_phys(iommu_domain_intel(d), 0x400000, &phys, &psize), 0);
	assert_int_equal(psize, M2);
	assert_int_equal(iommu_unmap(d, 0x401000, K4), M2);
	assert_int_equal(iommu_iova_to_phys(d, 0x400000), 0);
	/* 1 GiB pages where CAP.SLLPS has them */
	assert_int_equal(iommu_map(d, G1, 2 * G1, G1, RW), 0);
	assert_int_equal(iommu_intel_iova_to_phys(iommu_domain_intel(d), G1 + 0x1234, &phys, &psize), 0);
	assert_int_equal(psize, G1);
	assert_int_equal(phys, 2 * G1 + 0x1234);
	assert_int_equal(iommu_unmap(d, G1, G1), G1);
	iommu_domain_free(d);
	sys_free(&x);

	sys_load(&x, "lx-amd-server", NULL, NULL, NULL, true);
	assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, "0000:00:02.0"), IOMMU_DOMAIN_UNMANAGED,
					    &d), 0);
	assert_int_equal(iommu_unmap(d, 0x500000, 3 * K4), 0);
	assert_int_equal(iommu_map(d, 0x100000, 0x200000, 2 * K4, RW), 0);
	/* one 8 KiB page (AMD_IOMMU_PGSIZES has 8 KiB): a 4 KiB unmap takes it whole */
	assert_int_equal(iommu_unmap(d, 0x101000, K4), K8);
	assert_int_equal(iommu_iova_to_phys(d, 0x100000), 0);
	/* stops at the first hole */
	assert_int_equal(iommu_map(d, 0x300000, 0x200000, K4, RW), 0);
	assert_int_equal(iommu_map(d, 0x302000, 0x200000, K4, RW), 0);
	assert_int_equal(iommu_unmap(d, 0x300000, 3 * K4), K4);
	assert_int_equal(iommu_iova_to_phys(d, 0x302000), 0x200000);
	iommu_domain_free(d);
	sys_free(&x);
}

/*
 * iommu_pgsize() on the kernel's own logic: the largest page size of the
 * bitmap that fits the size and the alignment of iova | paddr; the count
 * stops where a bigger size becomes usable (iova and paddr offset alike
 * and the size reaching a whole bigger page past the boundary).
 */
static void test_pgsize(void **state)
{
	const uint64_t intel = K4 | M2 | G1;
	uint64_t count;

	(void)state;
	/* 4 MiB at 0 -> 2 MiB pages, two of them */
	assert_int_equal(core_pgsize(intel, 0, 0, 4 * M2 / 2, &count), M2);
	assert_int_equal(count, 2);
	/* 0x1ff000 + 0x201000: one 4 KiB page up to the 2 MiB boundary */
	assert_int_equal(core_pgsize(intel, 0x1ff000, 0x1ff000, 0x201000, &count), K4);
	assert_int_equal(count, 1);
	/* iova and paddr offset differently in 2 MiB: 4 KiB all the way */
	assert_int_equal(core_pgsize(intel, 0x1ff000, 0x2ff000, 0x401000, &count), K4);
	assert_int_equal(count, 0x401);
	/* not reaching a whole 2 MiB page past the boundary: all 4 KiB */
	assert_int_equal(core_pgsize(intel, 0x1ff000, 0x1ff000, 0x101000, &count), K4);
	assert_int_equal(count, 0x101);
	/* AMD v1 sizes: 12 KiB at 0 -> one 8 KiB page first */
	assert_int_equal(core_pgsize(IOMMU_AMD_V1_PGSIZES, 0, 0, 3 * K4, &count), K8);
	assert_int_equal(count, 1);
	/* 512 GiB is not an AMD v1 size: 1 TiB aligned 512 GiB maps as 256 GiB */
	assert_int_equal(core_pgsize(IOMMU_AMD_V1_PGSIZES, UINT64_C(1) << 40, UINT64_C(1) << 40,
				     UINT64_C(1) << 39, &count), UINT64_C(1) << 38);
	assert_int_equal(count, 2);
}

/*
 * __iommu_map_sg: physically contiguous entries are mapped together, the
 * result is the bytes mapped; a bad entry unmaps what the call mapped and
 * returns the error.
 */
static void test_map_sg(void **state)
{
	static const char *const caps[] = { "lx-intel-server-rmrr", "lx-amd-server" };
	static const char *const bdf[] = { "0000:01:00.0", "0000:00:02.0" };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct sys x;
		struct iommu_domain *d;
		struct iommu_sg_entry sg[3] = {
			{ 0x400000, K4 }, { 0x401000, K8 }, { 0x900000, K4 },
		};
		struct iommu_sg_entry bad[3] = {
			{ 0x400000, K4 }, { 0x800000, 0x800 }, { 0x900000, K4 },
		};

		sys_load(&x, caps[c], NULL, NULL, NULL, true);
		assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, bdf[c]), IOMMU_DOMAIN_UNMANAGED, &d), 0);
		assert_int_equal(iommu_map_sg(d, 0x10000000, sg, 0, RW), 0);
		assert_int_equal(iommu_map_sg(d, 0x10000000, sg, 3, RW), 4 * K4);
		assert_int_equal(iommu_iova_to_phys(d, 0x10000000), 0x400000);
		assert_int_equal(iommu_iova_to_phys(d, 0x10002000), 0x402000);
		assert_int_equal(iommu_iova_to_phys(d, 0x10003000), 0x900000);
		assert_int_equal(iommu_map_sg(d, 0x20000000, bad, 3, RW), -EINVAL);
		assert_int_equal(iommu_iova_to_phys(d, 0x20000000), 0);
		assert_int_equal(iommu_map_sg(d, 0x20000000, NULL, 2, RW), -EINVAL);
		iommu_domain_free(d);
		sys_free(&x);
	}
}

/*
 * Strict and lazy invalidation through the VT-d model.  A DMA fills the
 * unit's IOTLB; after iommu_unmap on a strict (DMA/UNMANAGED) domain the
 * same DMA faults at once; on the lazy DMA-FQ default domain it still
 * succeeds from the IOTLB (the flush queue's window) until
 * iommu_flush_iotlb_all, then faults.
 */
static void test_strict_and_lazy(void **state)
{
	struct sys x;
	struct iommu_group_info *g;
	struct iommu_domain *fq, *strict;
	struct iommu_device_xlate xl;
	const struct iommu_pci_dev *pd;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, true);
	g = group_of(&x, "0000:01:00.0");
	pd = dev(&x, "0000:01:00.0");
	fq = iommu_group_default_domain(g);
	assert_int_equal(iommu_domain_get_type(fq), IOMMU_DOMAIN_DMA_FQ);
	assert_int_equal(iommu_map(fq, 0xfffff000, 0x3000000, K4, RW), 0);
	assert_int_equal(iommu_device_translate(x.s, pd, 0xfffff010, false, &xl), 0);
	assert_int_equal(xl.host_addr, 0x3000010);
	assert_int_equal(iommu_unmap(fq, 0xfffff000, K4), K4);
	assert_int_equal(iommu_iova_to_phys(fq, 0xfffff000), 0);
	assert_int_equal(iommu_device_translate(x.s, pd, 0xfffff010, false, &xl), 0);
	assert_true(xl.iotlb_hit);              /* stale */
	iommu_flush_iotlb_all(fq);
	assert_int_equal(iommu_device_translate(x.s, pd, 0xfffff010, false, &xl), -EFAULT);
	sys_free(&x);

	sys_load(&x, "f2-strict", NULL, NULL, NULL, true);
	g = group_of(&x, "0000:01:00.0");
	pd = dev(&x, "0000:01:00.0");
	strict = iommu_group_default_domain(g);
	assert_int_equal(iommu_domain_get_type(strict), IOMMU_DOMAIN_DMA);
	assert_int_equal(iommu_map(strict, 0xfffff000, 0x3000000, K4, RW), 0);
	assert_int_equal(iommu_device_translate(x.s, pd, 0xfffff010, false, &xl), 0);
	assert_int_equal(iommu_unmap(strict, 0xfffff000, K4), K4);
	assert_int_equal(iommu_device_translate(x.s, pd, 0xfffff010, false, &xl), -EFAULT);
	sys_free(&x);
}

/* An allocation failure half way (-ENOMEM from the driver's table pages):
 * __iommu_map unmaps what it mapped; the domain is as before. */
static void test_map_enomem_unwinds(void **state)
{
	struct sys x;
	struct iommu_error err = { 0 };
	struct iommu_domain *d;
	uint64_t pages;

	(void)state;
	sys_load(&x, "lx-intel-server-rmrr", NULL, NULL, NULL, false);
	/* 16 MiB of memory: 2 MiB of table pages for the unit */
	assert_int_equal(iommu_system_start(x.s, 16 << 20, &err), 0);
	assert_int_equal(iommu_domain_alloc(x.s, group_of(&x, "0000:01:00.0"), IOMMU_DOMAIN_UNMANAGED,
					    &d), 0);
	pages = iommu_intel_domain_table_pages(iommu_domain_intel(d));
	/* 1 GiB of 4 KiB pages (paddr not 2 MiB aligned) needs 512 leaf tables */
	assert_int_equal(iommu_map(d, G1, 0x1000, G1, RW), -ENOMEM);
	assert_int_equal(iommu_iova_to_phys(d, G1), 0);
	assert_int_equal(iommu_intel_domain_table_pages(iommu_domain_intel(d)), pages);
	assert_int_equal(iommu_map(d, G1, 0x1000, K4, RW), 0);
	iommu_domain_free(d);
	sys_free(&x);
}

/* --- start: bad input ------------------------------------------------------ */

static void test_start_errors(void **state)
{
	struct sys x;
	struct iommu_error err = { 0 };

	(void)state;
	sys_load(&x, "z-no-iommu", NULL, NULL, NULL, false);
	assert_int_equal(iommu_system_start(x.s, 0, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "no IOMMU driver"));
	assert_false(iommu_system_started(x.s));
	sys_free(&x);
	sys_load(&x, "f1-pt", NULL, NULL, NULL, false);
	assert_int_equal(iommu_system_start(x.s, 12345, &err), -EINVAL);
	assert_int_equal(iommu_system_start(x.s, 4096, &err), -EINVAL);
	assert_int_equal(iommu_system_start(x.s, 0, &err), 0);
	assert_int_equal(iommu_system_start(x.s, 0, &err), -EALREADY);
	assert_true(iommu_system_started(x.s));
	assert_non_null(iommu_system_mem(x.s));
	assert_null(iommu_system_intel(x.s, 99));
	sys_free(&x);
	/* not started: the group functions say so */
	sys_load(&x, "f1-pt", NULL, NULL, NULL, false);
	{
		int a;
		struct iommu_domain *d;

		assert_int_equal(iommu_group_claim_dma_owner(x.s->groups[0], &a), -ENODEV);
		assert_int_equal(iommu_domain_alloc(x.s, x.s->groups[0], IOMMU_DOMAIN_DMA, &d), -ENODEV);
		assert_null(iommu_group_default_domain(x.s->groups[0]));
		assert_int_equal(iommu_device_translate(x.s, dev(&x, "0000:01:00.0"), 0, false, NULL),
				 -ENODEV);
	}
	sys_free(&x);
}

/* --- threads ------------------------------------------------------------------ */

struct worker {
	struct iommu_domain *d;
	uint64_t base;
	int errors;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < 2000; i++) {
		uint64_t iova = w->base + (uint64_t)(i % 64) * K4 * 4, pa = 0x10000000 + (uint64_t)i * K4;

		if (iommu_map(w->d, iova, pa, K4, RW))
			w->errors++;
		if (iommu_iova_to_phys(w->d, iova + 8) != pa + 8)
			w->errors++;
		if (iommu_unmap(w->d, iova, K4) != K4)
			w->errors++;
	}
	return NULL;
}

/* Map/unmap from four threads on one domain (disjoint IOVAs), on Intel and
 * AMD: every call answers as alone; the domain ends empty. */
static void test_threads(void **state)
{
	static const char *const caps[] = { "lx-intel-server-rmrr", "lx-amd-server" };
	static const char *const bdf[] = { "0000:01:00.0", "0000:00:02.0" };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct sys x;
		struct iommu_domain *d;
		struct worker w[4];
		pthread_t t[4];

		sys_load(&x, caps[c], NULL, NULL, NULL, true);
		d = iommu_group_default_domain(group_of(&x, bdf[c]));
		for (int i = 0; i < 4; i++) {
			w[i] = (struct worker){ .d = d, .base = UINT64_C(0x100000000) * (uint64_t)(i + 1) };
			assert_int_equal(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(w[i].errors, 0);
		}
		iommu_flush_iotlb_all(d);
		for (int i = 0; i < 4; i++)
			assert_int_equal(iommu_iova_to_phys(d, w[i].base), 0);
		sys_free(&x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_types_match_captures),
		cmocka_unit_test(test_identity_is_passthrough),
		cmocka_unit_test(test_rmrr_direct_mappings),
		cmocka_unit_test(test_amd_ivmd_direct_mappings),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_attach_detach),
		cmocka_unit_test(test_claim_release),
		cmocka_unit_test(test_claim_direct_rmrr),
		cmocka_unit_test(test_claim_amd_ivmd),
		cmocka_unit_test(test_claim_bound_drivers),
		cmocka_unit_test(test_map_checks_intel),
		cmocka_unit_test(test_map_over_existing),
		cmocka_unit_test(test_unmap_returns),
		cmocka_unit_test(test_pgsize),
		cmocka_unit_test(test_map_sg),
		cmocka_unit_test(test_strict_and_lazy),
		cmocka_unit_test(test_map_enomem_unwinds),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
