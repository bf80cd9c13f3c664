// SPDX-License-Identifier: MIT
/*
 * Why a device is in its IOMMU group, as a chain a person can follow:
 * the group search is run again as it ran when the device was probed
 * (core_trace_device_group), and each step is put in words, with the
 * config-space facts behind it (port types, ACS capability and control
 * bits, multifunction slots, quirks).  Then what would isolate it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

struct text {
	char *buf;
	size_t len, cap;
	int err;
};

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->err = -EINVAL;
			return;
		}
		if (t->buf && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t ncap = (t->cap ? t->cap * 2 : 1024) + (size_t)n;
		char *nb = realloc(t->buf, ncap);

		if (!nb) {
			t->err = -ENOMEM;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
}

static const char *kind_of(const struct iommu_pci_dev *d)
{
	if (!iommu_pci_is_pcie(d))
		return d->is_bridge ? "conventional PCI bridge" : "conventional PCI device";
	switch (d->pcie_type) {
	case IOMMU_PCIE_ROOT_PORT: return "root port";
	case IOMMU_PCIE_DOWNSTREAM: return "switch downstream port";
	case IOMMU_PCIE_UPSTREAM: return "switch upstream port";
	case IOMMU_PCIE_PCI_BRIDGE: return "PCIe-to-PCI bridge";
	case IOMMU_PCIE_PCIE_BRIDGE: return "PCI-to-PCIe bridge";
	case IOMMU_PCIE_RC_END: return "root-complex integrated endpoint";
	case IOMMU_PCIE_RC_EC: return "root-complex event collector";
	case IOMMU_PCIE_LEG_END: return "legacy endpoint";
	default: return "endpoint";
	}
}

static void acs_words(uint16_t bits, char *buf, size_t len)
{
	static const struct { uint16_t b; const char *n; } w[] = {
		{ IOMMU_ACS_SV, "SV" }, { IOMMU_ACS_RR, "RR" }, { IOMMU_ACS_CR, "CR" }, { IOMMU_ACS_UF, "UF" },
		{ IOMMU_ACS_TB, "TB" }, { IOMMU_ACS_EC, "EC" }, { IOMMU_ACS_DT, "DT" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (bits & w[i].b) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", w[i].n);

			if (n > 0 && (size_t)n < len - used)
				used += (size_t)n;
		}
}

/* Why @d does or does not count as isolating, in one line. */
static void acs_reason(const struct iommu_system *s, const struct iommu_pci_dev *d,
		       struct text *t)
{
	struct iommu_acs_verdict v = iommu_acs_enabled(s, d, IOMMU_REQ_ACS_FLAGS);
	char miss[64], cap[64], ctl[64];

	switch (v.src) {
	case IOMMU_ACS_SRC_QUIRK:
		tprintf(t, "the kernel quirk %s says it %s", v.quirk, v.enabled ? "isolates" : "does not isolate");
		break;
	case IOMMU_ACS_SRC_OVERRIDE:
		tprintf(t, "pcie_acs_override (out-of-tree, not mainline) treats it as isolating");
		break;
	case IOMMU_ACS_SRC_NOT_PCIE:
		tprintf(t, "it is conventional PCI, which never has ACS");
		break;
	case IOMMU_ACS_SRC_BRIDGE_TYPE:
		tprintf(t, "a %s never counts as isolating", kind_of(d));
		break;
	case IOMMU_ACS_SRC_SINGLE_FUNCTION:
		tprintf(t, "a single-function %s needs no ACS", kind_of(d));
		break;
	case IOMMU_ACS_SRC_OTHER_TYPE:
		tprintf(t, "its port type needs no ACS");
		break;
	case IOMMU_ACS_SRC_CAPABILITY:
		if (!d->acs_pos) {
			tprintf(t, "it has no ACS capability");
			break;
		}
		acs_words(v.missing, miss, sizeof(miss));
		acs_words(d->acs_cap & 0x7f, cap, sizeof(cap));
		acs_words(d->acs_ctrl & 0x7f, ctl, sizeof(ctl));
		if (v.enabled)
			tprintf(t, "its ACS control has SV RR CR UF where implemented (cap: %s; ctl: %s)",
				cap[0] ? cap : "none", ctl[0] ? ctl : "none");
		else
			tprintf(t, "its ACS control lacks %s (cap: %s; ctl: %s)", miss,
				cap[0] ? cap : "none", ctl[0] ? ctl : "none");
		break;
	}
}

struct collect {
	const struct iommu_system *s;
	struct text *t;
	const struct iommu_pci_dev *dev;
	int step;
	const struct iommu_pci_dev *blocker;     /* first bridge whose ACS path failed */
	const struct iommu_pci_dev *alias_bridge; /* bridge whose requester id the device uses */
	bool function_peer;
	bool dma_alias_peer;
};

static void on_event(const struct core_trace_event *e, void *data)
{
	struct collect *c = data;
	struct text *t = c->t;
	const char *ga = e->group ? "which already had group " : "";

	switch (e->kind) {
	case CORE_TRACE_ALIAS:
		if (e->alias_kind == CORE_ALIAS_SELF)
			return;
		c->step++;
		if (e->alias_kind == CORE_ALIAS_MASK) {
			tprintf(t, "  %d. it also issues DMA as %02x:%02x.%u (%s)", c->step, e->rid >> 8,
				(e->rid >> 3) & 0x1f, e->rid & 7,
				iommu_system_device(c->s, e->a)->alias_source ?
				iommu_system_device(c->s, e->a)->alias_source : "DMA alias");
		} else {
			c->alias_bridge = e->a;
			tprintf(t, "  %d. its DMA reaches the IOMMU through %s %s, ", c->step, kind_of(e->a), e->a->name);
			if (e->alias_kind == CORE_ALIAS_PCIE_TO_PCI || e->alias_kind == CORE_ALIAS_QUIRK_BRIDGE)
				tprintf(t, "which tags it as %02x:00.0 (its secondary bus)", e->rid >> 8);
			else
				tprintf(t, "which re-issues it with its own requester id");
			tprintf(t, ", so it cannot be told apart from that bridge");
		}
		if (e->group)
			tprintf(t, ", %s%d", ga, e->group->id);
		tprintf(t, "\n");
		return;
	case CORE_TRACE_PATH_ISOLATED:
		c->step++;
		tprintf(t, "  %d. every bridge from %s up to the root isolates (ACS SV RR CR UF)\n",
			c->step, e->a->name);
		return;
	case CORE_TRACE_PATH_NOT_ISOLATED:
		c->step++;
		if (!c->blocker)
			c->blocker = e->b;
		tprintf(t, "  %d. the path up through %s %s is not isolated: at %s %s, ", c->step,
			kind_of(e->a), e->a->name, kind_of(e->b), e->b->name);
		acs_reason(c->s, e->b, t);
		tprintf(t, "; so it goes with %s", e->a->name);
		if (e->group)
			tprintf(t, ", %s%d", ga, e->group->id);
		tprintf(t, "\n");
		return;
	case CORE_TRACE_DMA_ALIAS_PEER:
		c->step++;
		c->dma_alias_peer = true;
		tprintf(t, "  %d. %s and %s are DMA aliases of each other on bus %02x", c->step, e->a->name,
			e->b->name, e->a->addr.bus);
		if (e->group)
			tprintf(t, ", and %s has group %d", e->b->name, e->group->id);
		tprintf(t, "\n");
		return;
	case CORE_TRACE_FUNCTION_PEER:
		c->step++;
		c->function_peer = true;
		tprintf(t, "  %d. %s and %s are functions of multifunction slot %.10s and neither isolates "
			"(%s: ", c->step, e->a->name, e->b->name, e->a->name, e->a->name);
		acs_reason(c->s, e->a, t);
		tprintf(t, "; %s: ", e->b->name);
		acs_reason(c->s, e->b, t);
		tprintf(t, ")");
		if (e->group)
			tprintf(t, ", and %s has group %d", e->b->name, e->group->id);
		tprintf(t, "\n");
		return;
	}
}

/* Ports below which a device would be alone: isolated paths with a free-standing slot. */
static void isolated_ports(const struct iommu_system *s, struct text *t)
{
	int shown = 0;

	for (size_t i = 0; i < s->n_devices && shown < 6; i++) {
		const struct iommu_pci_dev *d = s->devices[i].pdev;
		const struct iommu_pci_dev *failed;

		if (!iommu_pci_is_pcie(d) || (d->pcie_type != IOMMU_PCIE_ROOT_PORT &&
					      d->pcie_type != IOMMU_PCIE_DOWNSTREAM))
			continue;
		if (!core_acs_path_enabled(s, d, IOMMU_REQ_ACS_FLAGS, &failed))
			continue;
		tprintf(t, "%s%s", shown ? ", " : "       isolated slots on this platform: below ", d->name);
		shown++;
	}
	if (shown)
		tprintf(t, "\n");
	else
		tprintf(t, "       (no root or downstream port on this platform isolates its slot)\n");
}

int iommu_explain_device(const struct iommu_system *s, const struct iommu_pci_dev *d, char **out)
{
	const struct iommu_device_info *di = iommu_system_device(s, d);
	struct text t = { 0 };
	struct collect c = { .s = s, .t = &t, .dev = d };
	const struct iommu_group_info *g;

	*out = NULL;
	if (!di)
		return -ENOENT;
	g = di->group;
	if (!g) {
		tprintf(&t, "%s has no IOMMU group: %s.\n", d->name, iommu_nogroup_reason_text(di->nogroup));
		goto done;
	}
	tprintf(&t, "%s (%s) is in IOMMU group %d", d->name, kind_of(d), g->id);
	if (g->n_devices == 1) {
		tprintf(&t, ", alone.\n");
	} else {
		tprintf(&t, " with");
		for (size_t i = 0; i < g->n_devices; i++)
			if (g->devices[i] != di)
				tprintf(&t, " %s", g->devices[i]->pdev->name);
		tprintf(&t, ".\n");
	}
	if (di->alias_source)
		tprintf(&t, "  quirk: %s gives it DMA aliases on its bus\n", di->alias_source);
	{
		struct iommu_acs_verdict v = iommu_acs_enabled(s, d, IOMMU_REQ_ACS_FLAGS);

		if (v.src == IOMMU_ACS_SRC_QUIRK || v.src == IOMMU_ACS_SRC_OVERRIDE)
			tprintf(&t, "  quirk: %s treats %s as %s\n", v.quirk, d->name,
				v.enabled ? "ACS-isolated" : "not isolated");
	}
	tprintf(&t, "Why (as the kernel decided when it probed %s, probe #%d):\n", d->name, di->probe_order);
	core_trace_device_group(s, d, on_event, &c);
	if (c.step == 0)
		tprintf(&t, "  1. nothing ties it to another device: no DMA alias, and its path to the root "
			"isolates or it sits on the root bus\n");
	if (g->n_devices > 1 && g->devices[0] != di)
		tprintf(&t, "  (the group was made by %s, probed first)\n", g->devices[0]->pdev->name);

	if (g->n_devices > 1) {
		tprintf(&t, "What would isolate it:\n");
		if (c.alias_bridge)
			tprintf(&t, "  - nothing in software: behind the %s %s its requests carry the bridge's id; "
				"only a PCIe slot of its own would separate it\n",
				kind_of(c.alias_bridge), c.alias_bridge->name);
		if (c.blocker) {
			const struct iommu_pci_dev *b = c.blocker;

			if (!iommu_pci_is_pcie(b) || b->pcie_type == IOMMU_PCIE_PCI_BRIDGE ||
			    b->pcie_type == IOMMU_PCIE_PCIE_BRIDGE) {
				tprintf(&t, "  - nothing at %s: a %s can never isolate\n", b->name, kind_of(b));
			} else if (b->acs_pos) {
				char miss[64];

				acs_words(iommu_acs_enabled(s, b, IOMMU_REQ_ACS_FLAGS).missing, miss, sizeof(miss));
				tprintf(&t, "  - ACS %s enabled at %s (its capability offers only what it shows; "
					"firmware may expose more)\n", miss, b->name);
			} else {
				tprintf(&t, "  - ACS at %s: the %s has no ACS capability; a kernel quirk for %04x:%04x "
					"would do, or the out-of-tree pcie_acs_override=%s (not mainline)\n",
					b->name, kind_of(b), b->vendor, b->device,
					b->pcie_type == IOMMU_PCIE_ROOT_PORT || b->pcie_type == IOMMU_PCIE_DOWNSTREAM ?
					"downstream" : "multifunction");
			}
			tprintf(&t, "  - a different slot: one whose ports all isolate\n");
			isolated_ports(s, &t);
		}
		if (c.function_peer && !iommu_pci_is_pcie(d))
			tprintf(&t, "  - nothing but a kernel quirk for %04x:%04x: conventional PCI functions of one "
				"slot never have ACS (pcie_acs_override cannot help either); or assign the whole "
				"group together\n", d->vendor, d->device);
		else if (c.function_peer)
			tprintf(&t, "  - ACS on the functions of slot %.10s, a kernel quirk for %04x:%04x, or the "
				"out-of-tree pcie_acs_override=multifunction (not mainline); or assign the whole "
				"group together\n", d->name, d->vendor, d->device);
		if (c.dma_alias_peer)
			tprintf(&t, "  - nothing in software: the devices share requester ids\n");
	}
done:
	if (t.err) {
		free(t.buf);
		return t.err;
	}
	*out = t.buf;
	return 0;
}
