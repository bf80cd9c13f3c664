// SPDX-License-Identifier: MIT
/*
 * Matching DMAR structures to a platform's PCI devices, as the kernel does.
 *
 *  - Scope matching: dmar_match_pci_path, with its single-element fallback.
 *  - Which unit a device is entered into: dmar_pci_bus_add_dev walks the
 *    explicit-scope units in dmar_drhd_units order and stops at the first
 *    match, or at a scope whose type does not fit the device
 *    (dmar_insert_dev_scope: "Device scope type does not match"), which
 *    leaves the device out of every scope.  RMRRs, ATSRs and SATCs follow
 *    (dmar_iommu_notify_scope_dev) unless that happened.
 *  - Which unit translates a device: device_to_iommu/device_lookup_iommu
 *    (the entered devices, bridges above the device through their bus
 *    range, then INCLUDE_PCI_ALL), a VF through its PF.
 *  - Units the kernel ignores: init_no_remapping_devices.
 *  - RMRRs of a device: intel_iommu_get_resv_regions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_internal.h"

#define PCI_HEADER_TYPE_NORMAL  0
#define PCI_BASE_CLASS_DISPLAY  0x03
#define PCI_BASE_CLASS_BRIDGE   0x06
/* Deeper PCI hierarchies than this do not exist (256 buses). */
#define MAX_DEPTH               256

/* The kernel's dmar_pci_notify_info path: root bus, then (dev, fn) from the root down. */
struct dev_path {
	uint8_t root_bus;
	size_t level;
	uint8_t devfn[MAX_DEPTH];
};

static void build_path(const struct iommu_pci_dev *dev, struct dev_path *p)
{
	const struct iommu_pci_dev *chain[MAX_DEPTH];
	size_t n = 0;

	p->root_bus = dev->bus ? dev->bus->number : dev->addr.bus;
	for (const struct iommu_pci_dev *t = dev; t && n < MAX_DEPTH; t = t->bus ? t->bus->self : NULL) {
		chain[n++] = t;
		if (t->bus)
			p->root_bus = t->bus->number;
		else
			p->root_bus = t->addr.bus;
	}
	p->level = n;
	for (size_t i = 0; i < n; i++)
		p->devfn[i] = chain[n - 1 - i]->addr.devfn;
}

static int match_path(const struct iommu_dmar_scope *sc, const struct iommu_pci_dev *dev,
		      const struct dev_path *p)
{
	bool exact = sc->start_bus == p->root_bus && sc->n_path == p->level;

	for (size_t i = 0; exact && i < sc->n_path; i++)
		exact = IOMMU_PCI_DEVFN(sc->path[i].device, sc->path[i].function) == p->devfn[i] &&
			sc->path[i].device < 32 && sc->path[i].function < 8;
	if (exact)
		return 1;
	if (sc->n_path == 1 && sc->start_bus == dev->addr.bus && sc->path[0].device < 32 &&
	    sc->path[0].function < 8 &&
	    IOMMU_PCI_DEVFN(sc->path[0].device, sc->path[0].function) == dev->addr.devfn)
		return 2;
	return 0;
}

static bool is_pci_scope(const struct iommu_dmar_scope *sc)
{
	return sc->type == IOMMU_SCOPE_ENDPOINT || sc->type == IOMMU_SCOPE_BRIDGE;
}

int iommu_dmar_scope_match(const struct iommu_dmar_scope *scope, uint16_t segment,
			   const struct iommu_pci_dev *dev)
{
	struct dev_path p;

	if (!scope || !dev || !is_pci_scope(scope) || dev->addr.segment != segment || !scope->n_path)
		return 0;
	build_path(dev, &p);
	return match_path(scope, dev, &p);
}

struct iommu_pci_dev *iommu_dmar_scope_device(const struct iommu_dmar_scope *scope,
					      uint16_t segment,
					      const struct iommu_platform *p)
{
	struct iommu_pci_dev *fallback = NULL;

	if (!scope || !p || !is_pci_scope(scope))
		return NULL;
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		struct iommu_pci_dev *d = iommu_platform_device(p, i);
		int m;

		if (d->is_virtfn)
			continue;
		m = iommu_dmar_scope_match(scope, segment, d);
		if (m == 1)
			return d;
		if (m == 2 && !fallback)
			fallback = d;
	}
	return fallback;
}

/* Whether the scope's type fits the device (dmar_insert_dev_scope). */
static bool type_fits(const struct iommu_dmar_scope *sc, const struct iommu_pci_dev *d)
{
	if (sc->type == IOMMU_SCOPE_ENDPOINT)
		return d->header_type == PCI_HEADER_TYPE_NORMAL;
	return !(d->header_type == PCI_HEADER_TYPE_NORMAL &&
		 (d->class_code >> 16) != PCI_BASE_CLASS_BRIDGE);
}

static bool usable(const struct iommu_dmar_struct *st)
{
	return st->known && !st->truncated && !st->duplicate;
}

size_t iommu_dmar_drhd_order(const struct iommu_dmar *dmar,
			     const struct iommu_dmar_struct **out, size_t max)
{
	size_t n = 0;

	if (!dmar)
		return 0;
	for (size_t i = dmar->n_structs; i-- > 0;) {
		const struct iommu_dmar_struct *st = &dmar->structs[i];

		if (st->type == IOMMU_DMAR_DRHD && usable(st) && !(st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL)) {
			if (n < max)
				out[n] = st;
			n++;
		}
	}
	for (size_t i = 0; i < dmar->n_structs; i++) {
		const struct iommu_dmar_struct *st = &dmar->structs[i];

		if (st->type == IOMMU_DMAR_DRHD && usable(st) && (st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL)) {
			if (n < max)
				out[n] = st;
			n++;
		}
	}
	return n;
}

int iommu_dmar_drhd_seq_id(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd)
{
	int seq = 0;

	if (!dmar || !drhd)
		return -1;
	for (size_t i = 0; i < dmar->n_structs; i++) {
		const struct iommu_dmar_struct *st = &dmar->structs[i];

		if (st->type != IOMMU_DMAR_DRHD || !usable(st))
			continue;
		if (st == drhd)
			return seq;
		seq++;
	}
	return -1;
}

/* A list of DRHDs in dmar_drhd_units order (malloc'd). */
static const struct iommu_dmar_struct **drhd_list(const struct iommu_dmar *dmar, size_t *n)
{
	const struct iommu_dmar_struct **v;

	*n = iommu_dmar_drhd_order(dmar, NULL, 0);
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (v)
		iommu_dmar_drhd_order(dmar, v, *n);
	return v;
}

/*
 * Where dmar_pci_bus_add_dev enters a (non-VF) device: the explicit unit,
 * NULL for none; *mismatch set when a scope of the wrong type stopped it.
 */
static const struct iommu_dmar_struct *entered_unit(const struct iommu_dmar_struct **units, size_t n,
						    const struct iommu_pci_dev *d, bool *mismatch,
						    const struct iommu_dmar_scope **which)
{
	struct dev_path p;

	*mismatch = false;
	if (which)
		*which = NULL;
	build_path(d, &p);
	for (size_t u = 0; u < n; u++) {
		const struct iommu_dmar_struct *st = units[u];

		if ((st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL) || st->segment != d->addr.segment)
			continue;
		for (size_t k = 0; k < st->n_scopes; k++) {
			const struct iommu_dmar_scope *sc = &st->scopes[k];

			if (!is_pci_scope(sc) || !sc->n_path || !match_path(sc, d, &p))
				continue;
			if (which)
				*which = sc;
			if (!type_fits(sc, d)) {
				*mismatch = true;
				return NULL;
			}
			return st;
		}
	}
	return NULL;
}

static bool is_downstream(const struct iommu_pci_dev *dev, const struct iommu_pci_dev *bridge)
{
	const struct iommu_pci_bus *sub = bridge->subordinate;
	uint8_t bus = dev->bus ? dev->bus->number : dev->addr.bus;

	return sub && sub->number <= bus && sub->busn_end >= bus;
}

static const struct iommu_pci_dev *dma_dev(const struct iommu_pci_dev *dev)
{
	return dev->is_virtfn && dev->physfn ? dev->physfn : dev;
}

const struct iommu_dmar_struct *iommu_dmar_device_drhd(const struct iommu_dmar *dmar,
						       const struct iommu_platform *p,
						       const struct iommu_pci_dev *dev)
{
	const struct iommu_dmar_struct **units, *found = NULL, *entered;
	size_t n;
	bool mismatch;

	if (!dmar || !p || !dev || dmar->refused)
		return NULL;
	units = drhd_list(dmar, &n);
	if (!units)
		return NULL;
	dev = dma_dev(dev);
	entered = entered_unit(units, n, dev, &mismatch, NULL);
	for (size_t u = 0; u < n && !found; u++) {
		const struct iommu_dmar_struct *st = units[u];

		if (st->segment != dev->addr.segment)
			continue;
		if (entered == st) {
			found = st;
			break;
		}
		/*
		 * A bridge entered in this unit with the device below it.  In a
		 * platform the bus tree holds together, the bridges whose bus
		 * range holds the device are exactly its ancestors, so walking
		 * up is the same as the kernel's scan and costs only the depth.
		 */
		for (const struct iommu_pci_bus *bus = dev->bus; bus && !found; bus = bus->parent) {
			const struct iommu_pci_dev *b = bus->self;
			bool mm;

			if (!b || b == dev || !b->is_bridge || b->is_virtfn || b->addr.segment != st->segment ||
			    !is_downstream(dev, b))
				continue;
			if (entered_unit(units, n, b, &mm, NULL) == st)
				found = st;
		}
		if (!found && (st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL))
			found = st;
	}
	free(units);
	return found;
}

/* The unit dmar_acpi_insert_dev_scope puts ANDD device @number in. */
static const struct iommu_dmar_struct *namespace_unit(const struct iommu_dmar_struct **units, size_t n,
						      uint8_t number)
{
	for (size_t u = 0; u < n; u++)
		for (size_t k = 0; k < units[u]->n_scopes; k++)
			if (units[u]->scopes[k].type == IOMMU_SCOPE_NAMESPACE &&
			    units[u]->scopes[k].enumeration_id == number)
				return units[u];
	return NULL;
}

/* Count the active devices of @drhd: PCI ones (display ones in *gfx) and namespace ones. */
static void unit_devices(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd,
			 const struct iommu_platform *p, size_t *pci, size_t *gfx, size_t *acpi)
{
	const struct iommu_dmar_struct **units;
	size_t n;

	*pci = *gfx = *acpi = 0;
	units = drhd_list(dmar, &n);
	if (!units)
		return;
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		const struct iommu_pci_dev *d = iommu_platform_device(p, i);
		bool mm;

		if (d->is_virtfn || entered_unit(units, n, d, &mm, NULL) != drhd)
			continue;
		(*pci)++;
		if ((d->class_code >> 16) == PCI_BASE_CLASS_DISPLAY)
			(*gfx)++;
	}
	for (size_t i = 0; i < dmar->n_structs; i++) {
		const struct iommu_dmar_struct *a = &dmar->structs[i];

		if (a->type == IOMMU_DMAR_ANDD && !a->truncated &&
		    namespace_unit(units, n, a->acpi_device_number) == drhd)
			(*acpi)++;
	}
	free(units);
}

bool iommu_dmar_drhd_empty(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd,
			   const struct iommu_platform *p)
{
	size_t pci, gfx, acpi;

	if (!dmar || !drhd || !p || (drhd->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL))
		return false;
	unit_devices(dmar, drhd, p, &pci, &gfx, &acpi);
	return pci + acpi == 0;
}

bool iommu_dmar_drhd_gfx_only(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd,
			      const struct iommu_platform *p)
{
	size_t pci, gfx, acpi;

	if (!dmar || !drhd || !p || (drhd->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL))
		return false;
	unit_devices(dmar, drhd, p, &pci, &gfx, &acpi);
	return pci > 0 && acpi == 0 && gfx == pci;
}

/*
 * The RMRRs a (non-VF) device is entered in: marks[i] for structure i.
 * dmar_iommu_notify_scope_dev walks the RMRR list (reverse table order)
 * and stops at a scope whose type does not fit; nothing is entered when
 * the DRHD pass already failed.
 */
static void entered_rmrrs(const struct iommu_dmar *dmar, const struct iommu_dmar_struct **units,
			  size_t n, const struct iommu_pci_dev *d, bool *marks)
{
	struct dev_path p;
	bool mismatch;

	memset(marks, 0, dmar->n_structs * sizeof(*marks));
	entered_unit(units, n, d, &mismatch, NULL);
	if (mismatch)
		return;
	build_path(d, &p);
	for (size_t i = dmar->n_structs; i-- > 0;) {
		const struct iommu_dmar_struct *st = &dmar->structs[i];

		if (st->type != IOMMU_DMAR_RMRR || !usable(st) || st->segment != d->addr.segment)
			continue;
		for (size_t k = 0; k < st->n_scopes; k++) {
			const struct iommu_dmar_scope *sc = &st->scopes[k];

			if (!is_pci_scope(sc) || !sc->n_path || !match_path(sc, d, &p))
				continue;
			if (!type_fits(sc, d))
				return;
			marks[i] = true;
			break;
		}
	}
}

size_t iommu_dmar_device_rmrrs(const struct iommu_dmar *dmar, const struct iommu_platform *p,
			       const struct iommu_pci_dev *dev,
			       const struct iommu_dmar_struct **out, size_t max)
{
	const struct iommu_dmar_struct **units;
	bool *hit, *marks;
	size_t n, count = 0;

	if (!dmar || !p || !dev || dmar->refused || !dmar->n_structs)
		return 0;
	units = drhd_list(dmar, &n);
	hit = calloc(dmar->n_structs, sizeof(*hit));
	marks = calloc(dmar->n_structs, sizeof(*marks));
	if (!units || !hit || !marks)
		goto out;
	/*
	 * The device itself, and every bridge whose bus range holds it: its
	 * ancestors, walked up the bus tree (see iommu_dmar_device_drhd).
	 */
	{
		const struct iommu_pci_dev *x = dev;
		const struct iommu_pci_bus *bus = dev->bus;

		for (;;) {
			if (x && !x->is_virtfn && x->addr.segment == dev->addr.segment &&
			    (x == dev || (x->is_bridge && is_downstream(dev, x)))) {
				entered_rmrrs(dmar, units, n, x, marks);
				for (size_t k = 0; k < dmar->n_structs; k++)
					hit[k] |= marks[k];
			}
			if (!bus)
				break;
			x = bus->self;
			bus = bus->parent;
		}
	}
	for (size_t k = 0; k < dmar->n_structs; k++) {
		if (!hit[k])
			continue;
		if (count < max)
			out[count] = &dmar->structs[k];
		count++;
	}
out:
	free(units);
	free(hit);
	free(marks);
	return count;
}

/* ------------------------------------------------------------------ */
/* What the kernel logs while matching                                  */

int iommu_dmar_check_platform(const struct iommu_dmar *dmar, const struct iommu_platform *p,
			      struct iommu_diag **out, size_t *n_out)
{
	struct fw_diags dg = { 0 };
	const struct iommu_dmar_struct **units;
	size_t n;

	*out = NULL;
	*n_out = 0;
	if (!dmar || !p)
		return 0;
	units = drhd_list(dmar, &n);
	if (!units)
		return -ENOMEM;
	/* Scope types that do not fit, for each device entered in order. */
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		const struct iommu_pci_dev *d = iommu_platform_device(p, i);
		const struct iommu_dmar_scope *sc;
		bool mm;

		if (d->is_virtfn)
			continue;
		entered_unit(units, n, d, &mm, &sc);
		if (mm)
			fw_diag(&dg, IOMMU_DIAG_WARN, sc->offset, -1,
				"%s scope at 0x%zx names %s, a %s: the kernel logs \"Device scope type does not "
				"match for %s\" and leaves the device out of every scope",
				iommu_dmar_scope_type_name(sc->type), sc->offset, d->name,
				d->header_type == PCI_HEADER_TYPE_NORMAL ? "device with a normal header" : "bridge",
				d->name);
	}
	for (size_t i = 0; i < dmar->n_structs; i++) {
		const struct iommu_dmar_struct *st = &dmar->structs[i];
		bool pci_scopes_used;

		if (!usable(st))
			continue;
		pci_scopes_used = (st->type == IOMMU_DMAR_DRHD && !(st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL)) ||
				  st->type == IOMMU_DMAR_RMRR || st->type == IOMMU_DMAR_SATC ||
				  (st->type == IOMMU_DMAR_ATSR && !(st->flags & IOMMU_ATSR_FLAG_ALL_PORTS));
		for (size_t k = 0; k < st->n_scopes && pci_scopes_used; k++) {
			const struct iommu_dmar_scope *sc = &st->scopes[k];
			const struct iommu_pci_dev *d;

			if (!is_pci_scope(sc) || !sc->n_path)
				continue;
			d = iommu_dmar_scope_device(sc, st->segment, p);
			if (!d)
				fw_diag(&dg, IOMMU_DIAG_NOTE, sc->offset, (int)i,
					"%s at 0x%zx: %s scope at 0x%zx (bus %02x, path %02x.%x%s) names no device on this platform",
					iommu_dmar_type_name(st->type), st->offset,
					iommu_dmar_scope_type_name(sc->type), sc->offset, sc->start_bus,
					sc->path[0].device, sc->path[0].function, sc->n_path > 1 ? "/..." : "");
			else if (iommu_dmar_scope_match(sc, st->segment, d) == 2)
				fw_diag(&dg, IOMMU_DIAG_WARN, sc->offset, (int)i,
					"%s at 0x%zx: %s scope at 0x%zx gives %s's own bus instead of the path from "
					"its root bus: the kernel logs \"[Firmware Bug]: RMRR entry for device "
					"%02x:%02x.%x is broken - applying workaround\" and matches it",
					iommu_dmar_type_name(st->type), st->offset,
					iommu_dmar_scope_type_name(sc->type), sc->offset, d->name, sc->start_bus,
					sc->path[0].device, sc->path[0].function);
		}
		if (st->type == IOMMU_DMAR_DRHD && iommu_dmar_drhd_empty(dmar, st, p))
			fw_diag(&dg, IOMMU_DIAG_NOTE, st->offset, (int)i,
				"DRHD at 0x%zx (dmar%d): no device of its scope is present: the kernel ignores the "
				"unit (init_no_remapping_devices)", st->offset, iommu_dmar_drhd_seq_id(dmar, st));
	}
	free(units);
	if (dg.oom) {
		free(dg.v);
		return -ENOMEM;
	}
	*out = dg.v;
	*n_out = dg.n;
	return 0;
}
