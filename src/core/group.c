// SPDX-License-Identifier: MIT
/*
 * IOMMU group formation for PCI devices, as the kernel does it:
 *  - pci_acs_enabled / pci_acs_path_enabled (drivers/pci/pci.c),
 *    with the device-specific quirks (drivers/pci/quirks.c) and the
 *    out-of-tree pcie_acs_override row;
 *  - pci_for_each_dma_alias (drivers/pci/search.c);
 *  - pci_device_group and its alias searches (drivers/iommu/iommu.c).
 * The steps follow ../shared/reference/linux-iommu-behaviour.md 1.2-1.4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/quirks.h"

/* --- ACS -------------------------------------------------------------- */

/*
 * The pcie_acs_override hook (out of tree): no opinion for conventional
 * functions and for any function that has an ACS capability at all.
 */
static int acs_override(const struct iommu_system *s, const struct iommu_device_info *di)
{
	const struct iommu_cmdline *c = &s->cmdline;
	const struct iommu_pci_dev *d = di->pdev;

	if (!iommu_pci_is_pcie(d) || d->acs_pos)
		return -ENOTTY;
	for (size_t i = 0; i < c->acs_override_n_ids; i++)
		if (c->acs_override_ids[i][0] == d->vendor && c->acs_override_ids[i][1] == d->device)
			return 1;
	switch (d->pcie_type) {
	case IOMMU_PCIE_ROOT_PORT:
	case IOMMU_PCIE_DOWNSTREAM:
		if (c->acs_override_downstream)
			return 1;
		break;
	case IOMMU_PCIE_ENDPOINT:
	case IOMMU_PCIE_UPSTREAM:
	case IOMMU_PCIE_LEG_END:
	case IOMMU_PCIE_RC_END:
		if (di->multifunction && c->acs_override_multifunction)
			return 1;
		break;
	default:
		break;
	}
	return -ENOTTY;
}

/* pci_acs_flags_enabled: the control bits, masked by what the capability implements. */
static bool acs_flags_enabled(const struct iommu_pci_dev *d, uint16_t flags, uint16_t *missing)
{
	if (!d->acs_pos) {
		*missing = flags;
		return false;
	}
	flags &= (uint16_t)(d->acs_cap | IOMMU_ACS_EC);
	*missing = (uint16_t)(flags & ~d->acs_ctrl);
	return (d->acs_ctrl & flags) == flags;
}

struct iommu_acs_verdict iommu_acs_enabled(const struct iommu_system *s,
					   const struct iommu_pci_dev *d, uint16_t flags)
{
	struct iommu_acs_verdict v = { 0 };
	const struct iommu_device_info *di = iommu_system_device(s, d);
	bool amd_ivrs = s->ivrs != NULL;
	int ret;

	/* 1. device-specific quirks, in table order, the override row in its place */
	ret = iommu_quirk_acs_range(d, flags, amd_ivrs, (s->kernel.major == 6 ? s->kernel.minor : 0), &v.quirk,
				    0, iommu_quirk_acs_override_row);
	if (ret < 0 && s->acs_override_active && di) {
		ret = acs_override(s, di);
		if (ret >= 0) {
			v.enabled = ret > 0;
			v.src = IOMMU_ACS_SRC_OVERRIDE;
			v.quirk = "pcie_acs_override";
			return v;
		}
	}
	if (ret < 0)
		ret = iommu_quirk_acs_range(d, flags, amd_ivrs, (s->kernel.major == 6 ? s->kernel.minor : 0), &v.quirk,
					    iommu_quirk_acs_override_row, iommu_quirk_acs_rows);
	if (ret >= 0) {
		v.enabled = ret > 0;
		v.src = IOMMU_ACS_SRC_QUIRK;
		return v;
	}
	v.quirk = NULL;

	/* 2. conventional PCI and PCI-X never isolate */
	if (!iommu_pci_is_pcie(d)) {
		v.src = IOMMU_ACS_SRC_NOT_PCIE;
		v.missing = flags;
		return v;
	}
	switch (d->pcie_type) {
	case IOMMU_PCIE_PCIE_BRIDGE:
	case IOMMU_PCIE_PCI_BRIDGE:
	case IOMMU_PCIE_RC_EC:
		v.src = IOMMU_ACS_SRC_BRIDGE_TYPE;
		v.missing = flags;
		return v;
	case IOMMU_PCIE_DOWNSTREAM:
	case IOMMU_PCIE_ROOT_PORT:
		v.src = IOMMU_ACS_SRC_CAPABILITY;
		v.enabled = acs_flags_enabled(d, flags, &v.missing);
		return v;
	case IOMMU_PCIE_ENDPOINT:
	case IOMMU_PCIE_UPSTREAM:
	case IOMMU_PCIE_LEG_END:
	case IOMMU_PCIE_RC_END:
		if (di && !di->multifunction)
			break;
		v.src = IOMMU_ACS_SRC_CAPABILITY;
		v.enabled = acs_flags_enabled(d, flags, &v.missing);
		return v;
	default:
		v.src = IOMMU_ACS_SRC_OTHER_TYPE;
		v.enabled = true;
		return v;
	}
	v.src = IOMMU_ACS_SRC_SINGLE_FUNCTION;
	v.enabled = true;
	return v;
}

bool core_acs_enabled(const struct iommu_system *s, const struct iommu_pci_dev *d, uint16_t flags)
{
	return iommu_acs_enabled(s, d, flags).enabled;
}

/*
 * pci_acs_path_enabled(start, NULL, flags): every bridge from @start up to
 * the one on the root bus must pass.  Returns the first that fails in
 * *@failed (NULL when the path isolates).
 */
bool core_acs_path_enabled(const struct iommu_system *s, const struct iommu_pci_dev *start,
			   uint16_t flags, const struct iommu_pci_dev **failed)
{
	const struct iommu_pci_dev *d = start;

	*failed = NULL;
	while (d) {
		if (!core_acs_enabled(s, d, flags)) {
			*failed = d;
			return false;
		}
		if (iommu_pci_bus_is_root(d->bus))
			return true;
		d = d->bus->self;
	}
	return true;
}

/* --- DMA aliases -------------------------------------------------------- */

bool core_devs_are_dma_aliases(const struct iommu_system *s, const struct iommu_pci_dev *a,
			       const struct iommu_pci_dev *b)
{
	const struct iommu_device_info *da = iommu_system_device(s, a);
	const struct iommu_device_info *db = iommu_system_device(s, b);

	if (da && (da->dma_alias_mask[b->addr.devfn / 8] & (1u << (b->addr.devfn % 8))))
		return true;
	if (db && (db->dma_alias_mask[a->addr.devfn / 8] & (1u << (a->addr.devfn % 8))))
		return true;
	return false;
}

/*
 * pci_for_each_dma_alias: @fn is called with the device and each alias
 * requester; a non-zero return stops the walk and is returned.
 */
int core_for_each_dma_alias(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			    core_alias_fn fn, void *data)
{
	const struct iommu_device_info *di = iommu_system_device(s, pdev);
	const struct iommu_pci_bus *bus;
	int ret;

	ret = fn(s, pdev, iommu_pci_addr_rid(pdev->addr), CORE_ALIAS_SELF, data);
	if (ret)
		return ret;
	for (unsigned devfn = 0; di && devfn < 256; devfn++) {
		if (!(di->dma_alias_mask[devfn / 8] & (1u << (devfn % 8))))
			continue;
		ret = fn(s, pdev, (uint16_t)(pdev->addr.bus << 8 | devfn), CORE_ALIAS_MASK, data);
		if (ret)
			return ret;
	}
	for (bus = pdev->bus; !iommu_pci_bus_is_root(bus); bus = bus->parent) {
		const struct iommu_pci_dev *br = bus->self;
		const struct iommu_device_info *bi;

		if (!br)
			continue;       /* the virtual bus of SR-IOV VFs */
		bi = iommu_system_device(s, br);
		if (bi && bi->bridge_xlate_root)
			break;
		if (iommu_pci_is_pcie(br)) {
			switch (br->pcie_type) {
			case IOMMU_PCIE_PCI_BRIDGE:
				ret = fn(s, br, (uint16_t)(br->subordinate->number << 8), CORE_ALIAS_PCIE_TO_PCI,
					 data);
				break;
			case IOMMU_PCIE_PCIE_BRIDGE:
				ret = fn(s, br, iommu_pci_addr_rid(br->addr), CORE_ALIAS_PCI_TO_PCIE, data);
				break;
			default:
				continue;
			}
		} else if (bi && bi->pcie_bridge_alias) {
			ret = fn(s, br, (uint16_t)(br->subordinate->number << 8), CORE_ALIAS_QUIRK_BRIDGE, data);
		} else {
			ret = fn(s, br, iommu_pci_addr_rid(br->addr), CORE_ALIAS_CONVENTIONAL_BRIDGE, data);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* --- pci_device_group ------------------------------------------------ */

/*
 * The search runs against the groups that exist at the moment a device is
 * probed: devices probed later have none yet.  While building, that is
 * simply "has a group"; when explaining afterwards, @cutoff is the probe
 * position of the device explained.
 */
struct search {
	const struct iommu_system *s;
	int cutoff;
	core_trace_fn trace;
	void *tdata;
};

static struct iommu_group_info *group_then(const struct search *x, const struct iommu_pci_dev *d)
{
	const struct iommu_device_info *di = iommu_system_device(x->s, d);

	if (!di || !di->group || di->probe_order < 0 || di->probe_order >= x->cutoff)
		return NULL;
	return di->group;
}

static void trace(const struct search *x, enum core_trace_kind k, const struct iommu_pci_dev *a,
		  const struct iommu_pci_dev *b, int alias_kind, uint16_t rid,
		  struct iommu_group_info *g)
{
	if (x->trace) {
		struct core_trace_event e = { .kind = k, .a = a, .b = b, .alias_kind = alias_kind,
					      .rid = rid, .group = g };

		x->trace(&e, x->tdata);
	}
}

struct alias_data {
	const struct search *x;
	const struct iommu_pci_dev *last;
	struct iommu_group_info *group;
};

static int alias_or_group(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			  uint16_t rid, enum core_alias_kind kind, void *data)
{
	struct alias_data *a = data;

	(void)s;
	a->last = pdev;
	a->group = group_then(a->x, pdev);
	trace(a->x, CORE_TRACE_ALIAS, pdev, NULL, (int)kind, rid, a->group);
	return a->group != NULL;
}

/*
 * Devices on @bus in the order the kernel's device list has them:
 * enumeration order (devfn), then virtual functions, added later.
 */
#define FOR_EACH_ON_BUS(bus, tmp, pass, i)                                        \
	for (int pass = 0; pass < 2; pass++)                                       \
		for (size_t i = 0; i < (bus)->n_devices; i++)                      \
			if (((tmp) = (bus)->devices[i])->is_virtfn == (pass == 1))

static struct iommu_group_info *function_alias_group(const struct search *x,
						     const struct iommu_pci_dev *pdev,
						     uint8_t devfns[32]);

/* get_pci_alias_group */
static struct iommu_group_info *alias_group(const struct search *x,
					    const struct iommu_pci_dev *pdev, uint8_t devfns[32])
{
	const struct iommu_pci_dev *tmp;
	uint8_t bit = (uint8_t)(1u << (pdev->addr.devfn % 8));
	struct iommu_group_info *g;

	if (devfns[pdev->addr.devfn / 8] & bit)
		return NULL;
	devfns[pdev->addr.devfn / 8] |= bit;
	g = group_then(x, pdev);
	if (g)
		return g;
	FOR_EACH_ON_BUS(pdev->bus, tmp, pass, i) {
		if (tmp == pdev || !core_devs_are_dma_aliases(x->s, pdev, tmp))
			continue;
		trace(x, CORE_TRACE_DMA_ALIAS_PEER, pdev, tmp, 0, 0, group_then(x, tmp));
		g = alias_group(x, tmp, devfns);
		if (g)
			return g;
		g = function_alias_group(x, tmp, devfns);
		if (g)
			return g;
	}
	return NULL;
}

/* get_pci_function_alias_group */
static struct iommu_group_info *function_alias_group(const struct search *x,
						     const struct iommu_pci_dev *pdev,
						     uint8_t devfns[32])
{
	const struct iommu_device_info *di = iommu_system_device(x->s, pdev);
	const struct iommu_pci_dev *tmp;
	struct iommu_group_info *g;

	if (!di || !di->multifunction || core_acs_enabled(x->s, pdev, IOMMU_REQ_ACS_FLAGS))
		return NULL;
	FOR_EACH_ON_BUS(pdev->bus, tmp, pass, i) {
		if (tmp == pdev || IOMMU_PCI_SLOT(tmp->addr.devfn) != IOMMU_PCI_SLOT(pdev->addr.devfn) ||
		    core_acs_enabled(x->s, tmp, IOMMU_REQ_ACS_FLAGS))
			continue;
		trace(x, CORE_TRACE_FUNCTION_PEER, pdev, tmp, 0, 0, group_then(x, tmp));
		g = alias_group(x, tmp, devfns);
		if (g)
			return g;
	}
	return NULL;
}

static struct iommu_group_info *device_group(const struct search *x, const struct iommu_pci_dev *dev)
{
	struct alias_data a = { .x = x };
	const struct iommu_pci_dev *pdev;
	const struct iommu_pci_bus *bus;
	uint8_t devfns[32] = { 0 };
	struct iommu_group_info *g;

	/* 1. the alias walk: the first alias that has a group gives it */
	if (core_for_each_dma_alias(x->s, dev, alias_or_group, &a))
		return a.group;
	pdev = a.last;

	/* 2. climb while the path up is not isolated */
	for (bus = pdev->bus; !iommu_pci_bus_is_root(bus); bus = bus->parent) {
		const struct iommu_pci_dev *failed;

		if (!bus->self)
			continue;
		if (core_acs_path_enabled(x->s, bus->self, IOMMU_REQ_ACS_FLAGS, &failed)) {
			trace(x, CORE_TRACE_PATH_ISOLATED, bus->self, NULL, 0, 0, NULL);
			break;
		}
		pdev = bus->self;
		g = group_then(x, pdev);
		trace(x, CORE_TRACE_PATH_NOT_ISOLATED, pdev, failed, 0, 0, g);
		if (g)
			return g;
	}

	/* 3. devices that alias pdev, or that pdev aliases */
	g = alias_group(x, pdev, devfns);
	if (g)
		return g;
	/* 4. non-isolated sibling functions of a multifunction slot */
	return function_alias_group(x, pdev, devfns);
}

struct iommu_group_info *core_pci_device_group(const struct iommu_system *s,
					       const struct iommu_pci_dev *dev)
{
	struct search x = { .s = s, .cutoff = 1 << 30 };

	return device_group(&x, dev);
}

struct iommu_group_info *core_trace_device_group(const struct iommu_system *s,
						 const struct iommu_pci_dev *dev,
						 core_trace_fn fn, void *data)
{
	const struct iommu_device_info *di = iommu_system_device(s, dev);
	struct search x = { .s = s, .cutoff = di ? di->probe_order : 0, .trace = fn, .tdata = data };

	return device_group(&x, dev);
}
