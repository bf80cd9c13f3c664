// SPDX-License-Identifier: MIT
/*
 * Device probe for a whole platform: which IOMMU driver runs, which unit
 * translates each PCI function, the order the core probes them in, the
 * groups they form and their numbers, default domain types and reserved
 * regions.  See ../shared/reference/linux-iommu-behaviour.md sections 2-4.
 *
 * The modelled kernel is Debian's build: CONFIG_IOMMU_DEFAULT_DMA_LAZY,
 * Intel VT-d on by default (except integrated Intel GPUs, Debian's
 * INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF), scalable mode on where the hardware
 * has it, CONFIG_INTEL_IOMMU_FLOPPY_WA.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/quirks.h"
#include "util/bits.h"
#include "util/strv.h"

/* VT-d capability and extended capability bits (VT-d spec 11.4.2, 11.4.3). */
#define VTD_CAP_CM      IOMMU_BIT(7)            /* caching mode */
#define VTD_CAP_SAGAW   IOMMU_GENMASK(12, 8)    /* supported adjusted guest address widths */
#define VTD_ECAP_PT     IOMMU_BIT(6)            /* pass through */
#define VTD_ECAP_SMTS   IOMMU_BIT(43)           /* scalable mode translation */
#define VTD_ECAP_SLTS   IOMMU_BIT(46)           /* second-level translation */
#define VTD_ECAP_FLTS   IOMMU_BIT(47)           /* first-level translation */
IOMMU_FIELDS_DISJOINT(VTD_CAP_CM, VTD_CAP_SAGAW);
IOMMU_FIELDS_DISJOINT(VTD_ECAP_SLTS, VTD_ECAP_FLTS);

/* AMD IOMMU capability header (AMD IOMMU spec 3.2.1): NpCache. */
#define AMD_CAP_NPCACHE IOMMU_BIT(26)

#define MSI_START       UINT64_C(0xfee00000)
#define MSI_END         UINT64_C(0xfeefffff)
#define HT_START        UINT64_C(0xfd00000000)
#define HT_END          UINT64_C(0xffffffffff)
#define ISA_END         UINT64_C(0xffffff)

static void snote(struct iommu_system *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void snote(struct iommu_system *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iommu_strv_vaddf(&s->notes, &s->n_notes, fmt, ap);
	va_end(ap);
}

const char *iommu_nogroup_reason_text(enum iommu_nogroup_reason r)
{
	switch (r) {
	case IOMMU_NOGROUP_NONE: return "in a group";
	case IOMMU_NOGROUP_NO_IOMMU: return "no IOMMU on this platform (no DMAR or IVRS table)";
	case IOMMU_NOGROUP_DISABLED: return "the IOMMU is turned off on the kernel command line";
	case IOMMU_NOGROUP_NO_UNIT: return "no IOMMU unit covers it (outside every DRHD scope / IVHD range)";
	case IOMMU_NOGROUP_IGNORED_UNIT: return "its IOMMU unit is ignored by the driver";
	case IOMMU_NOGROUP_UNUSABLE_UNIT: return "its IOMMU unit reports no supported address width";
	case IOMMU_NOGROUP_IOMMU_FUNCTION: return "it is the AMD IOMMU's own PCI function";
	case IOMMU_NOGROUP_EXCLUDED: return "integrated Intel graphics, which Debian's kernel leaves untranslated";
	}
	return "unknown";
}

static int cmp_info(const void *key, const void *elem)
{
	const struct iommu_pci_dev *k = key;
	const struct iommu_device_info *e = elem;

	return iommu_pci_addr_cmp(k->addr, e->pdev->addr);
}

struct iommu_device_info *iommu_system_device(const struct iommu_system *s,
					      const struct iommu_pci_dev *pdev)
{
	if (!pdev)
		return NULL;
	return bsearch(pdev, s->devices, s->n_devices, sizeof(*s->devices), cmp_info);
}

/* --- helpers ------------------------------------------------------------ */

/* The kernel's pdev->multifunction: the header bit for function 0, always
 * for a later function found by the slot scan, never for a VF. */
static bool kernel_multifunction(const struct iommu_pci_dev *d)
{
	const struct iommu_pci_dev *up = d->bus ? d->bus->self : NULL;
	bool ari = up && iommu_pci_is_pcie(up) && (up->pcie_devctl2 & IOMMU_BIT(5));
	unsigned fn = ari ? d->addr.devfn : IOMMU_PCI_FUNC(d->addr.devfn);

	if (d->is_virtfn)
		return false;
	return fn > 0 || d->multifunction;
}

/* Find iommu_class/<name>/intel-iommu/ whose address file is @base. */
static void intel_unit_regs(const struct iommu_platform *p, struct iommu_unit *u)
{
	for (size_t i = 0; i < iommu_platform_num_files(p); i++) {
		const char *path = iommu_platform_file_path(p, i);
		char prefix[256], f[300];
		const char *tail;
		uint64_t addr;

		if (strncmp(path, "iommu_class/", 12))
			continue;
		tail = strstr(path, "/intel-iommu/address");
		if (!tail || tail[20] != '\0' || (size_t)(tail - path) >= sizeof(prefix))
			continue;
		memcpy(prefix, path, (size_t)(tail - path));
		prefix[tail - path] = '\0';
		if (iommu_platform_file_hex(p, path, &addr) || addr != u->base)
			continue;
		snprintf(f, sizeof(f), "%s/intel-iommu/cap", prefix);
		if (iommu_platform_file_hex(p, f, &u->cap))
			continue;
		snprintf(f, sizeof(f), "%s/intel-iommu/ecap", prefix);
		u->have_regs = iommu_platform_file_hex(p, f, &u->ecap) == 0;
		return;
	}
}

static int add_unit(struct iommu_system *s, struct iommu_unit u)
{
	struct iommu_unit *v = realloc(s->units, (s->n_units + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->units = v;
	s->units[s->n_units++] = u;
	return 0;
}

/*
 * Root buses in the order the kernel enumerates host bridges: ACPI
 * namespace order of the PNP0A03/PNP0A08 devices in the DSDT
 * (acpi_pci_root_add).  Roots the DSDT does not name (no DSDT, or a _BBN
 * computed by a method) follow, segment 0 bus 0 first, then by number.
 */
static size_t root_order(struct iommu_system *s, const struct iommu_pci_bus **out, size_t max)
{
	const struct iommu_platform *p = s->platform;
	size_t n = iommu_platform_num_root_buses(p), k = 0, nb = 0;
	struct iommu_acpi_host_bridge hb[64];
	bool *taken = calloc(n ? n : 1, sizeof(*taken));
	const uint8_t *dsdt;
	size_t dlen;

	if (!taken)
		return 0;
	if (!iommu_platform_acpi_table(p, "DSDT", &dsdt, &dlen))
		nb = iommu_acpi_host_bridges(dsdt, dlen, hb, 64);
	for (size_t h = 0; h < nb && h < 64; h++) {
		if (!hb[h].bus_known)
			continue;
		for (size_t i = 0; i < n && k < max; i++) {
			const struct iommu_pci_bus *b = iommu_platform_root_bus(p, i);

			if (!taken[i] && b->segment == hb[h].segment && b->number == hb[h].bus) {
				out[k++] = b;
				taken[i] = true;
			}
		}
	}
	if (nb && k < n)
		snote(s, "the DSDT does not name every root bus with a constant _BBN; the others are "
		      "taken in bus order");
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n && k < max; i++) {
			const struct iommu_pci_bus *b = iommu_platform_root_bus(p, i);
			bool zero = b->segment == 0 && b->number == 0;

			if (!taken[i] && zero == (pass == 0)) {
				out[k++] = b;
				taken[i] = true;
			}
		}
	free(taken);
	return k;
}

/* pci_bus_add_devices: every function of a bus, then each child bus depth first. */
static void add_order_bus(const struct iommu_pci_bus *bus, const struct iommu_pci_dev **order,
			  size_t *n, size_t max)
{
	for (size_t i = 0; i < bus->n_devices && *n < max; i++)
		if (!bus->devices[i]->is_virtfn)
			order[(*n)++] = bus->devices[i];
	for (size_t i = 0; i < bus->n_devices; i++)
		if (bus->devices[i]->subordinate)
			add_order_bus(bus->devices[i]->subordinate, order, n, max);
}

/* --- the system ------------------------------------------------------------- */

static struct iommu_group_info *new_group(struct iommu_system *s)
{
	struct iommu_group_info *g = calloc(1, sizeof(*g));
	struct iommu_group_info **v;

	if (!g)
		return NULL;
	v = realloc(s->groups, (s->n_groups + 1) * sizeof(*v));
	if (!v) {
		free(g);
		return NULL;
	}
	s->groups = v;
	g->id = (int)s->n_groups;       /* ida_alloc: lowest free; nothing is freed here */
	g->type = IOMMU_DOMAIN_NONE;
	s->groups[s->n_groups++] = g;
	return g;
}

static int group_add(struct iommu_group_info *g, struct iommu_device_info *di)
{
	struct iommu_device_info **v = realloc(g->devices, (g->n_devices + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	g->devices = v;
	g->devices[g->n_devices++] = di;
	di->group = g;
	return 0;
}

static void set_alias(struct iommu_device_info *di, unsigned devfn, const char *why)
{
	di->dma_alias_mask[devfn / 8] |= (uint8_t)(1u << (devfn % 8));
	if (!di->alias_source)
		di->alias_source = why;
}

/* Per-device reserved regions (ops->get_resv_regions). */
static int device_resv(struct iommu_system *s, const struct iommu_device_info *di,
		       struct iommu_resv_region **list, size_t *n)
{
	const struct iommu_pci_dev *d = di->pdev;
	int ret = 0;

	if (s->driver == IOMMU_DRIVER_INTEL) {
		const struct iommu_dmar_struct *rmrr[64];
		size_t nr = iommu_dmar_device_rmrrs(s->dmar, s->platform, d, rmrr, 64);

		for (size_t i = 0; i < nr && i < 64 && !ret; i++) {
			bool relax = (d->class_code >> 8) == 0x0c03 || (d->class_code >> 16) == 0x03;

			ret = core_resv_insert(list, n, (struct iommu_resv_region){
				.start = rmrr[i]->base, .end = rmrr[i]->end,
				.type = relax ? IOMMU_RESV_DIRECT_RELAXABLE : IOMMU_RESV_DIRECT });
		}
		if (!ret && (d->class_code >> 8) == 0x0601)
			ret = core_resv_insert(list, n, (struct iommu_resv_region){
				.start = 0, .end = ISA_END, .type = IOMMU_RESV_DIRECT_RELAXABLE });
		if (!ret)
			ret = core_resv_insert(list, n, (struct iommu_resv_region){
				.start = MSI_START, .end = MSI_END, .type = IOMMU_RESV_MSI });
	} else if (s->driver == IOMMU_DRIVER_AMD) {
		const struct iommu_ivrs_block *ivmd[64];
		size_t nm = iommu_ivrs_device_ivmds(s->ivrs, s->ivrs_map, d->addr.segment,
						    iommu_pci_addr_rid(d->addr), ivmd, 64);

		for (size_t i = 0; i < nm && i < 64 && !ret; i++) {
			uint64_t start, end;

			/* init_unity_map_range's rounding; [start, end) */
			iommu_ivrs_ivmd_range(ivmd[i], &start, &end);
			if (end <= start)
				continue;
			ret = core_resv_insert(list, n, (struct iommu_resv_region){
				.start = start, .end = end - 1, .type = IOMMU_RESV_DIRECT });
		}
		if (!ret)
			ret = core_resv_insert(list, n, (struct iommu_resv_region){
				.start = MSI_START, .end = MSI_END, .type = IOMMU_RESV_MSI });
		if (!ret)
			ret = core_resv_insert(list, n, (struct iommu_resv_region){
				.start = HT_START, .end = HT_END, .type = IOMMU_RESV_RESERVED });
	}
	return ret;
}

/* The global default domain type (iommu_subsys_init) and the drivers' strict switch. */
static void global_default(struct iommu_system *s)
{
	const struct iommu_cmdline *c = &s->cmdline;
	enum iommu_domain_type def = IOMMU_DOMAIN_DMA;
	bool strict = false;            /* CONFIG_IOMMU_DEFAULT_DMA_LAZY */

	if (c->def_domain_set)
		def = c->def_domain;
	if (c->strict_set)
		strict = c->strict;
	if (def != IOMMU_DOMAIN_IDENTITY && !strict)
		def = IOMMU_DOMAIN_DMA_FQ;
	/* iommu_set_dma_strict() from the drivers, after the subsystem default */
	if (s->driver == IOMMU_DRIVER_INTEL && c->intel_strict) {
		s->strict_forced = true;
		s->strict_reason = "intel_iommu=strict";
	}
	if (s->driver == IOMMU_DRIVER_AMD && c->amd_fullflush) {
		s->strict_forced = true;
		s->strict_reason = "amd_iommu=fullflush";
	}
	if (s->strict_forced && def == IOMMU_DOMAIN_DMA_FQ)
		def = IOMMU_DOMAIN_DMA;
	s->global_default = def;
}

static bool intel_first_level_by_default(const struct iommu_system *s)
{
	bool sm = !s->cmdline.intel_sm_off, fl = true, sl = true;
	size_t active = 0;

	/* scalable mode needs every active unit to support it (scalable_mode_support) */
	for (size_t i = 0; i < s->n_units; i++) {
		if (s->units[i].ignored)
			continue;
		active++;
		if (!s->units[i].have_regs || !(s->units[i].ecap & VTD_ECAP_SMTS))
			sm = false;
		if (!(s->units[i].ecap & VTD_ECAP_FLTS))
			fl = false;
		if (!(s->units[i].ecap & VTD_ECAP_SLTS))
			sl = false;
	}
	if (!sm || !active)
		return false;
	if (fl != sl)
		return fl;
	return true;    /* both: first level for DMA domains */
}

/* --- Intel ------------------------------------------------------------------- */

static int setup_intel(struct iommu_system *s, struct iommu_error *err)
{
	const struct iommu_platform *p = s->platform;
	size_t n = iommu_dmar_drhd_order(s->dmar, NULL, 0);
	const struct iommu_dmar_struct **order = calloc(n ? n : 1, sizeof(*order));
	int ret;

	if (s->dmar->host_address_width + 1 < 12) {
		snote(s, "DMAR: Invalid DMAR haw (%u): the kernel does not enable VT-d",
		      s->dmar->host_address_width + 1u);
		s->driver = IOMMU_DRIVER_NONE;
		free(order);
		return 0;
	}
	if (!order)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	n = iommu_dmar_drhd_order(s->dmar, order, n);
	for (size_t i = 0; i < n; i++) {
		struct iommu_unit u = { 0 };
		const struct iommu_dmar_struct *drhd = order[i];

		u.base = drhd->address;
		u.segment = drhd->segment;
		u.fw = drhd;
		u.include_all = drhd->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL;
		/* dmarN follows the table's order, not the list's */
		snprintf(u.name, sizeof(u.name), "dmar%d", iommu_dmar_drhd_seq_id(s->dmar, drhd));
		intel_unit_regs(p, &u);
		if (!u.include_all && iommu_dmar_drhd_empty(s->dmar, drhd, p)) {
			u.ignored = true;
		} else if (s->cmdline.intel_igfx_off && !u.include_all &&
			   iommu_dmar_drhd_gfx_only(s->dmar, drhd, p)) {
			u.ignored = true;
			snote(s, "%s: graphics-only unit ignored (intel_iommu=igfx_off)", u.name);
		} else if (u.have_regs && !IOMMU_FIELD_GET(VTD_CAP_SAGAW, u.cap)) {
			u.ignored = true;
			snote(s, "%s: No supported address widths. Not attempting DMA translation.", u.name);
		}
		ret = add_unit(s, u);
		if (ret) {
			free(order);
			return iommu_error_set(err, ret, "out of memory");
		}
	}
	free(order);
	for (size_t i = 0; i < s->n_units; i++) {
		if (s->units[i].ignored || !(s->units[i].cap & VTD_CAP_CM))
			continue;
		if (!intel_first_level_by_default(s)) {
			s->strict_forced = true;
			s->strict_reason = "IOMMU batching disallowed due to virtualization (VT-d caching mode)";
		}
		break;
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		struct iommu_device_info *di = &s->devices[i];
		const struct iommu_pci_dev *d = di->pdev;
		const struct iommu_dmar_struct *drhd = iommu_dmar_device_drhd(s->dmar, p, d);

		di->unit = -1;
		if (!drhd) {
			di->nogroup = IOMMU_NOGROUP_NO_UNIT;
			continue;
		}
		for (size_t k = 0; k < s->n_units; k++)
			if (s->units[k].fw == drhd)
				di->unit = (int)k;
		if (di->unit < 0) {
			di->nogroup = IOMMU_NOGROUP_NO_UNIT;
			continue;
		}
		if (s->units[di->unit].ignored) {
			di->nogroup = s->units[di->unit].have_regs &&
				      !IOMMU_FIELD_GET(VTD_CAP_SAGAW, s->units[di->unit].cap) ?
				      IOMMU_NOGROUP_UNUSABLE_UNIT : IOMMU_NOGROUP_IGNORED_UNIT;
			continue;
		}
		/* Debian: integrated Intel GPUs stay untranslated unless asked */
		if (d->vendor == 0x8086 && (d->class_code >> 16) == 0x03 &&
		    iommu_pci_bus_is_root(d->bus)) {
			di->nogroup = IOMMU_NOGROUP_EXCLUDED;
			continue;
		}
		/* Since 6.12 an identity domain needs hardware pass-through. */
		if (iommu_kernel_at_least(s->kernel, 6, 12) && s->units[di->unit].have_regs &&
		    !(s->units[di->unit].ecap & VTD_ECAP_PT))
			di->driver_type = IOMMU_DOMAIN_DMA;
	}
	return 0;
}

/* --- AMD ------------------------------------------------------------------------- */

static int setup_amd(struct iommu_system *s, struct iommu_error *err)
{
	const struct iommu_platform *p = s->platform;
	int ret;

	ret = iommu_ivrs_build_map(s->ivrs, &s->ivrs_map, err);
	if (ret)
		return ret;
	size_t blocks[64], nu = iommu_ivrs_units(s->ivrs, blocks, 64);

	for (size_t i = 0, seq = 0; i < nu && i < 64; i++) {
		const struct iommu_ivrs_block *b = &s->ivrs->blocks[blocks[i]];
		struct iommu_unit u = { 0 };
		struct iommu_pci_addr a = { .segment = b->pci_segment, .bus = (uint8_t)(b->device_id >> 8),
					    .devfn = (uint8_t)b->device_id };
		const struct iommu_pci_dev *fn;

		snprintf(u.name, sizeof(u.name), "ivhd%zu", seq++);
		u.base = b->base_address;
		u.segment = b->pci_segment;
		u.fw = b;
		/* NpCache lives in the IOMMU's capability header in its own config space */
		fn = iommu_platform_find_device(p, a);
		if (fn && b->capability_offset) {
			u.cap = iommu_pci_read32(fn, b->capability_offset);
			u.have_regs = u.cap != 0xffffffff;
		}
		u.ecap = b->efr_register;
		if (u.have_regs && (u.cap & AMD_CAP_NPCACHE)) {
			s->strict_forced = true;
			s->strict_reason = "AMD-Vi: Using strict mode due to virtualization (NpCache)";
		}
		ret = add_unit(s, u);
		if (ret)
			return iommu_error_set(err, ret, "out of memory");
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		struct iommu_device_info *di = &s->devices[i];
		const struct iommu_pci_dev *d = di->pdev;
		uint16_t devid = iommu_pci_addr_rid(d->addr);
		int blk = iommu_ivrs_map_ivhd(s->ivrs_map, d->addr.segment, devid);

		di->unit = -1;
		/* the IOMMU's own function: IVRS may list it, the driver drops it */
		for (size_t k = 0; k < s->n_units; k++) {
			const struct iommu_ivrs_block *b = s->units[k].fw;

			if (b->pci_segment == d->addr.segment && b->device_id == devid)
				di->nogroup = IOMMU_NOGROUP_IOMMU_FUNCTION;
		}
		if (di->nogroup)
			continue;
		if (blk < 0 || devid > iommu_ivrs_map_last_bdf(s->ivrs_map, d->addr.segment)) {
			di->nogroup = IOMMU_NOGROUP_NO_UNIT;
			continue;
		}
		for (size_t k = 0; k < s->n_units; k++)
			if (s->units[k].fw == &s->ivrs->blocks[blk])
				di->unit = (int)k;
		if (di->unit < 0)
			di->nogroup = IOMMU_NOGROUP_NO_UNIT;
	}
	return 0;
}

/* AMD sets the IVRS alias at probe time, just before the group is chosen. */
static void amd_probe_alias(struct iommu_system *s, struct iommu_device_info *di)
{
	const struct iommu_pci_dev *d = di->pdev;
	uint16_t devid = iommu_pci_addr_rid(d->addr);
	uint16_t alias = iommu_ivrs_map_alias(s->ivrs_map, d->addr.segment, devid);

	if (alias != devid && (alias >> 8) == d->addr.bus)
		set_alias(di, alias & 0xff, "IVRS alias");
}

/* --- probing ---------------------------------------------------------------------- */

static int probe_one(struct iommu_system *s, struct iommu_device_info *di, int *order,
		     struct iommu_group_info ***fresh, size_t *n_fresh)
{
	struct iommu_group_info *g;

	if (s->driver == IOMMU_DRIVER_AMD)
		amd_probe_alias(s, di);
	di->probe_order = (*order)++;
	g = core_pci_device_group(s, di->pdev);
	if (!g) {
		struct iommu_group_info **v;

		g = new_group(s);
		if (!g)
			return -ENOMEM;
		v = realloc(*fresh, (*n_fresh + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		*fresh = v;
		(*fresh)[(*n_fresh)++] = g;
	}
	return group_add(g, di);
}

/* Default domains for the groups a pass created (iommu_get_default_domain_type). */
static void default_domains(struct iommu_system *s, struct iommu_group_info **fresh, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct iommu_group_info *g = fresh[i];
		enum iommu_domain_type drv = IOMMU_DOMAIN_NONE;
		bool untrusted = false;

		for (size_t k = 0; k < g->n_devices; k++) {
			enum iommu_domain_type t = g->devices[k]->driver_type;

			untrusted |= g->devices[k]->untrusted;
			if (t == IOMMU_DOMAIN_NONE || t == drv)
				continue;
			if (drv == IOMMU_DOMAIN_NONE) {
				drv = t;
			} else if (iommu_kernel_at_least(s->kernel, 6, 5)) {
				snote(s, "group %d: IOMMU driver error, requesting conflicting def_domain_type, "
				      "%s and %s", g->id, iommu_domain_type_name(drv), iommu_domain_type_name(t));
				if (t == IOMMU_DOMAIN_IDENTITY)
					drv = t;
			} else {
				drv = IOMMU_DOMAIN_NONE;
				break;
			}
		}
		if (untrusted && (drv == IOMMU_DOMAIN_NONE || drv == IOMMU_DOMAIN_DMA))
			drv = IOMMU_DOMAIN_DMA;
		g->type = drv != IOMMU_DOMAIN_NONE ? drv : s->global_default;
	}
}

static int cmp_vf(const void *a, const void *b)
{
	const struct iommu_pci_dev *x = (*(struct iommu_device_info *const *)a)->pdev;
	const struct iommu_pci_dev *y = (*(struct iommu_device_info *const *)b)->pdev;
	int c = iommu_pci_addr_cmp(x->physfn->addr, y->physfn->addr);

	if (c)
		return c;
	return x->vf_index < y->vf_index ? -1 : x->vf_index > y->vf_index;
}

static int probe_all(struct iommu_system *s)
{
	const struct iommu_platform *p = s->platform;
	size_t nd = iommu_platform_num_devices(p);
	const struct iommu_pci_dev **order = calloc(nd ? nd : 1, sizeof(*order));
	size_t max_roots = iommu_platform_num_root_buses(p);
	const struct iommu_pci_bus **roots = calloc(max_roots ? max_roots : 1, sizeof(*roots));
	struct iommu_group_info **fresh = NULL;
	size_t n = 0, nroots, n_fresh = 0, passes;
	int probe_seq = 0, ret = 0;
	bool per_unit;

	if (!order || !roots) {
		free(order);
		free(roots);
		return -ENOMEM;
	}
	nroots = root_order(s, roots, max_roots);
	for (size_t r = 0; r < nroots; r++)
		add_order_bus(roots[r], order, &n, nd);

	/*
	 * Up to 6.1 every unit registered first and one pass probed the PCI
	 * bus; from 6.2 each unit's registration probes the bus, and only
	 * devices behind registered units get an IOMMU.
	 */
	per_unit = iommu_kernel_at_least(s->kernel, 6, 2);
	passes = per_unit ? s->n_units : 1;
	for (size_t u = 0; u < passes && !ret; u++) {
		if (per_unit && s->units[u].ignored)
			continue;
		n_fresh = 0;
		for (size_t i = 0; i < n && !ret; i++) {
			struct iommu_device_info *di = iommu_system_device(s, order[i]);

			if (di->nogroup || di->group || di->unit < 0)
				continue;
			if (per_unit && (size_t)di->unit > u)
				continue;
			ret = probe_one(s, di, &probe_seq, &fresh, &n_fresh);
		}
		default_domains(s, fresh, n_fresh);
	}

	/* SR-IOV VFs come later, when their PF enables them: PF order, VF index order. */
	{
		struct iommu_device_info **vfs = calloc(s->n_devices ? s->n_devices : 1, sizeof(*vfs));
		size_t nvf = 0;

		if (!vfs) {
			ret = -ENOMEM;
		} else {
			for (size_t k = 0; k < s->n_devices; k++)
				if (s->devices[k].pdev->is_virtfn)
					vfs[nvf++] = &s->devices[k];
			qsort(vfs, nvf, sizeof(*vfs), cmp_vf);
			for (size_t k = 0; k < nvf && !ret; k++) {
				struct iommu_device_info *di = vfs[k];

				if (di->nogroup || di->group || di->unit < 0)
					continue;
				n_fresh = 0;
				ret = probe_one(s, di, &probe_seq, &fresh, &n_fresh);
				default_domains(s, fresh, n_fresh);
			}
			free(vfs);
		}
	}
	free(fresh);
	free(order);
	free(roots);
	return ret;
}

static int all_resv(struct iommu_system *s)
{
	for (size_t i = 0; i < s->n_groups; i++) {
		struct iommu_group_info *g = s->groups[i];

		for (size_t k = 0; k < g->n_devices; k++) {
			int ret = device_resv(s, g->devices[k], &g->resv, &g->n_resv);

			if (ret)
				return ret;
		}
	}
	return 0;
}

int iommu_system_build(const struct iommu_platform *p, const struct iommu_system_options *opts,
		       struct iommu_system **out, struct iommu_error *err)
{
	struct iommu_system_options none = { 0 };
	struct iommu_system *s;
	const char *release, *line;
	const uint8_t *tab;
	size_t tlen;
	int ret;

	iommu_error_clear(err);
	*out = NULL;
	if (!opts)
		opts = &none;
	s = calloc(1, sizeof(*s));
	if (!s)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	s->platform = p;

	release = opts->kernel ? opts->kernel : iommu_platform_kernel_release(p);
	if (!release) {
		release = "6.1";
		snote(s, "the platform does not say which kernel it ran; modelling 6.1 (use --kernel)");
	}
	if (iommu_kernel_version_parse(release, &s->kernel)) {
		ret = iommu_error_set(err, -EINVAL, "kernel version \"%s\" is not MAJOR.MINOR[...]", release);
		goto fail;
	}
	ret = iommu_kernel_version_check(s->kernel, err);
	if (ret)
		goto fail;

	line = opts->cmdline ? opts->cmdline : iommu_platform_cmdline(p);
	s->cmdline_line = strdup(line ? line : "");
	if (!s->cmdline_line) {
		ret = iommu_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = iommu_cmdline_parse(line, &s->cmdline);
	if (ret) {
		iommu_error_set(err, ret, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->cmdline.n_notes; i++)
		snote(s, "%s", s->cmdline.notes[i]);
	if (s->cmdline.acs_override_downstream || s->cmdline.acs_override_multifunction ||
	    s->cmdline.acs_override_n_ids)
		snote(s, "pcie_acs_override= is an out-of-tree patch: mainline kernels ignore it, and so "
		      "does this model unless asked with --acs-override");
	/* The what-if override replaces whatever the command line said. */
	s->cmdline.acs_override_downstream = false;
	s->cmdline.acs_override_multifunction = false;
	s->cmdline.acs_override_n_ids = 0;
	if (opts->acs_override) {
		struct iommu_cmdline tmp;
		char *word = malloc(strlen(opts->acs_override) + 32);

		if (!word) {
			ret = iommu_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		sprintf(word, "pcie_acs_override=%s", opts->acs_override);
		ret = iommu_cmdline_parse(word, &tmp);
		free(word);
		if (ret) {
			ret = iommu_error_set(err, ret, "out of memory");
			goto fail;
		}
		if (tmp.n_notes) {
			ret = iommu_error_set(err, -EINVAL, "--acs-override: %s", tmp.notes[0]);
			iommu_cmdline_release(&tmp);
			goto fail;
		}
		s->cmdline.acs_override_downstream = tmp.acs_override_downstream;
		s->cmdline.acs_override_multifunction = tmp.acs_override_multifunction;
		s->cmdline.acs_override_n_ids = tmp.acs_override_n_ids;
		memcpy(s->cmdline.acs_override_ids, tmp.acs_override_ids, sizeof(tmp.acs_override_ids));
		iommu_cmdline_release(&tmp);
		s->acs_override_active = true;
		snote(s, "Warning: PCIe ACS overrides enabled; This may allow non-IOMMU protected "
		      "peer-to-peer DMA (what-if: pcie_acs_override is not mainline)");
	}

	s->n_devices = iommu_platform_num_devices(p);
	s->devices = calloc(s->n_devices ? s->n_devices : 1, sizeof(*s->devices));
	if (!s->devices) {
		ret = iommu_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		struct iommu_device_info *di = &s->devices[i];
		struct iommu_dma_alias_quirk q;

		di->pdev = iommu_platform_device(p, i);
		di->unit = -1;
		di->probe_order = -1;
		di->driver_type = IOMMU_DOMAIN_NONE;
		di->multifunction = kernel_multifunction(di->pdev);
		iommu_quirk_dma_alias(di->pdev, &q);
		memcpy(di->dma_alias_mask, q.mask, sizeof(q.mask));
		di->alias_source = q.name;
		di->pcie_bridge_alias = q.pcie_bridge_alias;
		di->bridge_xlate_root = q.bridge_xlate_root;
	}

	/* Which driver: VT-d when there is a DMAR, AMD-Vi when there is an IVRS. */
	if (!iommu_platform_acpi_table(p, "DMAR", &tab, &tlen)) {
		ret = iommu_dmar_parse(tab, tlen, &s->dmar, err);
		if (ret)
			goto fail;
		s->driver = IOMMU_DRIVER_INTEL;
	} else if (!iommu_platform_acpi_table(p, "IVRS", &tab, &tlen)) {
		ret = iommu_ivrs_parse(tab, tlen, &s->ivrs, err);
		if (ret)
			goto fail;
		s->driver = IOMMU_DRIVER_AMD;
	}
	if (s->driver == IOMMU_DRIVER_NONE) {
		for (size_t i = 0; i < s->n_devices; i++)
			s->devices[i].nogroup = IOMMU_NOGROUP_NO_IOMMU;
		snote(s, "no DMAR or IVRS table: the kernel finds no IOMMU, so there are no groups");
	} else if (s->cmdline.iommu_off ||
		   (s->driver == IOMMU_DRIVER_INTEL && s->cmdline.intel_off) ||
		   (s->driver == IOMMU_DRIVER_AMD && s->cmdline.amd_off)) {
		for (size_t i = 0; i < s->n_devices; i++)
			s->devices[i].nogroup = IOMMU_NOGROUP_DISABLED;
		snote(s, "%s on the kernel command line: no DMA remapping, so there are no groups",
		      s->cmdline.iommu_off ? "iommu=off" :
		      s->driver == IOMMU_DRIVER_INTEL ? "intel_iommu=off" : "amd_iommu=off");
		s->driver = IOMMU_DRIVER_NONE;
	} else if ((s->driver == IOMMU_DRIVER_INTEL && s->dmar->refused) ||
		   (s->driver == IOMMU_DRIVER_AMD && s->ivrs->refused)) {
		for (size_t i = 0; i < s->n_devices; i++)
			s->devices[i].nogroup = IOMMU_NOGROUP_NO_IOMMU;
		snote(s, "the %s table is one the kernel refuses: no IOMMU",
		      s->driver == IOMMU_DRIVER_INTEL ? "DMAR" : "IVRS");
		s->driver = IOMMU_DRIVER_NONE;
	}

	if (s->driver == IOMMU_DRIVER_INTEL)
		ret = setup_intel(s, err);
	else if (s->driver == IOMMU_DRIVER_AMD)
		ret = setup_amd(s, err);
	if (ret)
		goto fail;
	global_default(s);
	if (s->driver != IOMMU_DRIVER_NONE) {
		ret = probe_all(s);
		if (!ret)
			ret = all_resv(s);
		if (ret) {
			iommu_error_set(err, ret, "out of memory");
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	iommu_system_free(s);
	return ret;
}

void iommu_system_free(struct iommu_system *s)
{
	if (!s)
		return;
	core_runtime_release(s);        /* domain.c: stop what iommu_system_start ran */
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i]->devices);
		free(s->groups[i]->resv);
		free(s->groups[i]);
	}
	free(s->groups);
	free(s->devices);
	free(s->units);
	iommu_strv_free(&s->notes, &s->n_notes);
	iommu_cmdline_release(&s->cmdline);
	free(s->cmdline_line);
	iommu_dmar_free(s->dmar);
	iommu_ivrs_map_free(s->ivrs_map);
	iommu_ivrs_free(s->ivrs);
	free(s);
}
