// SPDX-License-Identifier: MIT
/*
 * What the kernel builds from an IVRS table, per PCI segment: the rlookup
 * table (which IOMMU translates each device id), the alias table, the
 * DTE settings, last_bdf; and the IVMD unity maps.
 *
 * drivers/iommu/amd/init.c: find_last_devid_acpi sizes each segment's
 * tables from the IVHDs of the chosen type; init_iommu_from_acpi walks
 * their entries in table order (set_dev_entry_from_acpi: a later entry
 * overrides an earlier one); init_iommu_one_late clears each IOMMU's own
 * device id ("the IVRS table tells us so, but this is a lie");
 * check_device refuses device ids above last_bdf; init_unity_map_range
 * turns IVMDs into per-segment unity maps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_internal.h"
#include "util/bits.h"

#define PAGE_SIZE_4K 4096ull
#define IVB_DEVICE_ID_OFFSET 4

/*
 * The kernel fills tables of 64K entries per segment, entry after entry.
 * Here each write is kept as an operation on a range of device ids, in the
 * kernel's order; a lookup takes the last operation that covers the id.
 * Same answers, a few hundred bytes instead of 320 KiB per segment.
 */
struct set_op {                 /* set_dev_entry_from_acpi over lo..hi */
	uint16_t lo, hi;
	uint32_t block;         /* index into blocks; UINT32_MAX: rlookup cleared */
	uint8_t flags;
};

struct alias_op {               /* alias_table[lo..hi] = to */
	uint16_t lo, hi, to;
};

struct seg_map {
	uint16_t segment;
	uint16_t last_bdf;
	struct set_op *set;
	size_t n_set, cap_set;
	struct alias_op *alias;
	size_t n_alias, cap_alias;
};

struct iommu_ivrs_map {
	struct seg_map *segs;
	size_t n;
	bool oom;
};

#define CLEARED UINT32_MAX

static struct seg_map *find_seg(const struct iommu_ivrs_map *m, uint16_t segment)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (m->segs[i].segment == segment)
			return &m->segs[i];
	return NULL;
}

void iommu_ivrs_map_free(struct iommu_ivrs_map *map)
{
	if (!map)
		return;
	for (size_t i = 0; i < map->n; i++) {
		free(map->segs[i].set);
		free(map->segs[i].alias);
	}
	free(map->segs);
	free(map);
}

/* find_last_devid_from_ivhd: -1 when no entry names a device id. */
static int last_devid(const struct iommu_ivrs_block *b)
{
	int last = -1;

	for (size_t k = 0; k < b->n_entries; k++) {
		const struct iommu_ivhd_entry *e = &b->entries[k];

		switch (e->type) {
		case IOMMU_IVHD_DEV_ALL:
			return 0xffff;
		case IOMMU_IVHD_DEV_SELECT:
		case IOMMU_IVHD_DEV_RANGE_END:
		case IOMMU_IVHD_DEV_ALIAS:
		case IOMMU_IVHD_DEV_EXT_SELECT:
			if (e->device_id > last)
				last = e->device_id;
			break;
		default:
			break;
		}
	}
	return last;
}

static void set_range(struct iommu_ivrs_map *m, struct seg_map *s, uint16_t lo, uint16_t hi,
		      uint32_t block, uint8_t flags)
{
	if (!fw_grow((void **)&s->set, &s->cap_set, s->n_set + 1, sizeof(*s->set))) {
		m->oom = true;
		return;
	}
	s->set[s->n_set++] = (struct set_op){ lo, hi, block, flags };
}

static void alias_range(struct iommu_ivrs_map *m, struct seg_map *s, uint16_t lo, uint16_t hi, uint16_t to)
{
	if (!fw_grow((void **)&s->alias, &s->cap_alias, s->n_alias + 1, sizeof(*s->alias))) {
		m->oom = true;
		return;
	}
	s->alias[s->n_alias++] = (struct alias_op){ lo, hi, to };
}

/* init_iommu_from_acpi for one IVHD block. */
static void apply_block(struct iommu_ivrs_map *m, struct seg_map *s, const struct iommu_ivrs_block *b,
			uint32_t idx)
{
	uint16_t devid_start = 0, devid_to = 0;
	uint8_t flags = 0;
	bool alias = false;

	for (size_t k = 0; k < b->n_entries; k++) {
		const struct iommu_ivhd_entry *e = &b->entries[k];

		switch (e->type) {
		case IOMMU_IVHD_DEV_ALL:
			set_range(m, s, 0, s->last_bdf, idx, e->data_setting);
			break;
		case IOMMU_IVHD_DEV_SELECT:
		case IOMMU_IVHD_DEV_EXT_SELECT:
			set_range(m, s, e->device_id, e->device_id, idx, e->data_setting);
			break;
		case IOMMU_IVHD_DEV_SELECT_RANGE_START:
		case IOMMU_IVHD_DEV_EXT_SELECT_RANGE:
			devid_start = e->device_id;
			flags = e->data_setting;
			alias = false;
			break;
		case IOMMU_IVHD_DEV_ALIAS:
			set_range(m, s, e->device_id, e->device_id, idx, e->data_setting);
			set_range(m, s, e->alias_id, e->alias_id, idx, e->data_setting);
			alias_range(m, s, e->device_id, e->device_id, e->alias_id);
			break;
		case IOMMU_IVHD_DEV_ALIAS_RANGE:
			devid_start = e->device_id;
			flags = e->data_setting;
			devid_to = e->alias_id;
			alias = true;
			break;
		case IOMMU_IVHD_DEV_RANGE_END:
			if (devid_start > e->device_id)
				break;          /* the kernel's loop runs no round */
			if (alias) {
				alias_range(m, s, devid_start, e->device_id, devid_to);
				set_range(m, s, devid_to, devid_to, idx, flags);
			}
			set_range(m, s, devid_start, e->device_id, idx, flags);
			break;
		case IOMMU_IVHD_DEV_SPECIAL:
			if (e->special_variety == IOMMU_IVHD_SPECIAL_IOAPIC ||
			    e->special_variety == IOMMU_IVHD_SPECIAL_HPET)
				set_range(m, s, e->special_device_id, e->special_device_id, idx, e->data_setting);
			break;
		case IOMMU_IVHD_DEV_ACPI_HID:
			if (b->type == IOMMU_IVHD_40 && e->hid[0])
				set_range(m, s, e->device_id, e->device_id, idx, e->data_setting);
			break;
		default:
			break;
		}
	}
}

static struct seg_map *add_seg(struct iommu_ivrs_map *m, size_t *cap, uint16_t segment)
{
	struct seg_map *s;

	if (!fw_grow((void **)&m->segs, cap, m->n + 1, sizeof(*m->segs)))
		return NULL;
	s = &m->segs[m->n++];
	memset(s, 0, sizeof(*s));
	s->segment = segment;
	return s;
}

int iommu_ivrs_build_map(const struct iommu_ivrs *ivrs, struct iommu_ivrs_map **out,
			 struct iommu_error *err)
{
	struct iommu_ivrs_map *m;
	size_t cap = 0, units[32];
	size_t n_units;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return iommu_error_set(err, -ENOMEM, "IVRS map: out of memory");
	if (!ivrs || ivrs->refused) {
		*out = m;       /* the kernel uses no IOMMU: an empty map */
		return 0;
	}
	n_units = iommu_ivrs_units(ivrs, units, sizeof(units) / sizeof(units[0]));
	if (n_units > sizeof(units) / sizeof(units[0]))
		n_units = 0;    /* more than MAX_IOMMUS: refused already */
	/* Segments and their last_bdf (find_last_devid_acpi). */
	for (size_t u = 0; u < n_units; u++) {
		const struct iommu_ivrs_block *b = &ivrs->blocks[units[u]];
		struct seg_map *s = find_seg(m, b->pci_segment);
		int last = last_devid(b);

		if (!s) {
			s = add_seg(m, &cap, b->pci_segment);
			if (!s) {
				iommu_ivrs_map_free(m);
				return iommu_error_set(err, -ENOMEM, "IVRS map: out of memory");
			}
		}
		if (last > s->last_bdf)
			s->last_bdf = (uint16_t)last;
	}
	for (size_t u = 0; u < n_units; u++)
		apply_block(m, find_seg(m, ivrs->blocks[units[u]].pci_segment), &ivrs->blocks[units[u]],
			    (uint32_t)units[u]);
	/* init_iommu_one_late: an IOMMU does not translate itself. */
	for (size_t u = 0; u < n_units; u++) {
		const struct iommu_ivrs_block *b = &ivrs->blocks[units[u]];

		set_range(m, find_seg(m, b->pci_segment), b->device_id, b->device_id, CLEARED, 0);
	}
	if (m->oom) {
		iommu_ivrs_map_free(m);
		return iommu_error_set(err, -ENOMEM, "IVRS map: out of memory");
	}
	*out = m;
	return 0;
}

int iommu_ivrs_map_ivhd(const struct iommu_ivrs_map *map, uint16_t segment, uint16_t devid)
{
	const struct seg_map *s = find_seg(map, segment);

	if (!s || devid > s->last_bdf)
		return -1;
	for (size_t i = s->n_set; i-- > 0;)
		if (s->set[i].lo <= devid && devid <= s->set[i].hi)
			return s->set[i].block == CLEARED ? -1 : (int)s->set[i].block;
	return -1;
}

uint16_t iommu_ivrs_map_alias(const struct iommu_ivrs_map *map, uint16_t segment, uint16_t devid)
{
	const struct seg_map *s = find_seg(map, segment);

	if (!s || devid > s->last_bdf)
		return devid;
	for (size_t i = s->n_alias; i-- > 0;)
		if (s->alias[i].lo <= devid && devid <= s->alias[i].hi)
			return s->alias[i].to;
	return devid;
}

uint16_t iommu_ivrs_map_last_bdf(const struct iommu_ivrs_map *map, uint16_t segment)
{
	const struct seg_map *s = find_seg(map, segment);

	return s ? s->last_bdf : 0;
}

uint8_t iommu_ivrs_map_dte(const struct iommu_ivrs_map *map, uint16_t segment, uint16_t devid)
{
	const struct seg_map *s = find_seg(map, segment);
	uint8_t flags = 0;

	if (!s)
		return 0;
	for (size_t i = 0; i < s->n_set; i++)
		if (s->set[i].lo <= devid && devid <= s->set[i].hi)
			flags |= s->set[i].flags;
	return flags;
}

void iommu_ivrs_ivmd_range(const struct iommu_ivrs_block *b, uint64_t *start, uint64_t *end)
{
	uint64_t s = (b->start_address + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
	uint64_t l = (b->memory_length + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);

	*start = s;
	*end = s + l;
}

size_t iommu_ivrs_device_ivmds(const struct iommu_ivrs *ivrs, const struct iommu_ivrs_map *map,
			       uint16_t segment, uint16_t devid,
			       const struct iommu_ivrs_block **out, size_t max)
{
	size_t n = 0;

	if (!ivrs || ivrs->refused)
		return 0;
	for (size_t i = 0; i < ivrs->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &ivrs->blocks[i];
		uint32_t lo, hi;

		if (b->truncated || !(b->flags & (IOMMU_IVMD_FLAG_UNITY | IOMMU_IVMD_FLAG_EXCL)) ||
		    b->pci_segment != segment)
			continue;
		switch (b->type) {
		case IOMMU_IVMD_SELECT:
			lo = hi = b->device_id;
			break;
		case IOMMU_IVMD_ALL:
			lo = 0;
			hi = iommu_ivrs_map_last_bdf(map, segment);
			break;
		case IOMMU_IVMD_RANGE:
			lo = b->device_id;
			hi = b->aux_data;
			break;
		default:
			continue;
		}
		if (devid < lo || devid > hi)
			continue;
		if (n < max)
			out[n] = b;
		n++;
	}
	return n;
}

int iommu_ivrs_check_platform(const struct iommu_ivrs *ivrs, const struct iommu_ivrs_map *map,
			      const struct iommu_platform *p,
			      struct iommu_diag **out, size_t *n_out)
{
	struct fw_diags dg = { 0 };
	size_t units[32], n_units;

	*out = NULL;
	*n_out = 0;
	if (!ivrs || !map || !p || ivrs->refused)
		return 0;
	n_units = iommu_ivrs_units(ivrs, units, 32);
	if (n_units > 32)
		n_units = 32;
	for (size_t u = 0; u < n_units; u++) {
		const struct iommu_ivrs_block *b = &ivrs->blocks[units[u]];
		struct iommu_pci_addr a = {
			.segment = b->pci_segment, .bus = (uint8_t)(b->device_id >> 8),
			.devfn = (uint8_t)b->device_id,
		};
		char name[IOMMU_PCI_ADDR_STRLEN];

		iommu_pci_addr_format(a, name);
		if (iommu_platform_find_device(p, a))
			fw_diag(&dg, IOMMU_DIAG_NOTE, b->offset + IVB_DEVICE_ID_OFFSET, (int)units[u],
				"%s at 0x%zx (ivhd%zu) is the IOMMU at %s: the kernel does not let it "
				"translate itself, it gets no IOMMU group", iommu_ivrs_block_name(b->type),
				b->offset, u, name);
		else
			fw_diag(&dg, IOMMU_DIAG_NOTE, b->offset + IVB_DEVICE_ID_OFFSET, (int)units[u],
				"%s at 0x%zx (ivhd%zu): the IOMMU's own function %s is not on this platform",
				iommu_ivrs_block_name(b->type), b->offset, u, name);
		/* Select entries naming no device. */
		for (size_t k = 0; k < b->n_entries; k++) {
			const struct iommu_ivhd_entry *e = &b->entries[k];

			a.bus = (uint8_t)(e->device_id >> 8);
			a.devfn = (uint8_t)e->device_id;
			if ((e->type == IOMMU_IVHD_DEV_SELECT || e->type == IOMMU_IVHD_DEV_EXT_SELECT ||
			     e->type == IOMMU_IVHD_DEV_ALIAS) && !iommu_platform_find_device(p, a))
				fw_diag(&dg, IOMMU_DIAG_NOTE, e->offset, (int)units[u],
					"%s at 0x%zx: %s entry at 0x%zx names %s, which is not on this platform",
					iommu_ivrs_block_name(b->type), b->offset, iommu_ivhd_entry_name(e->type),
					e->offset, iommu_pci_addr_format(a, name));
		}
	}
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		const struct iommu_pci_dev *d = iommu_platform_device(p, i);
		uint16_t devid = iommu_pci_addr_rid(d->addr);
		bool own = false;

		for (size_t u = 0; u < n_units && !own; u++)
			own = ivrs->blocks[units[u]].device_id == devid &&
			      ivrs->blocks[units[u]].pci_segment == d->addr.segment;
		if (own || iommu_ivrs_map_ivhd(map, d->addr.segment, devid) >= 0)
			continue;
		if (devid > iommu_ivrs_map_last_bdf(map, d->addr.segment) && find_seg(map, d->addr.segment))
			fw_diag(&dg, IOMMU_DIAG_NOTE, 0, -1,
				"%s (device id %04x) is above last_bdf %04x of segment %04x: the kernel gives it "
				"no IOMMU (check_device)", d->name, devid,
				iommu_ivrs_map_last_bdf(map, d->addr.segment), d->addr.segment);
		else
			fw_diag(&dg, IOMMU_DIAG_NOTE, 0, -1,
				"%s (device id %04x) is in no device entry of an IVHD of the type the kernel "
				"uses: it gets no IOMMU", d->name, devid);
	}
	if (dg.oom) {
		free(dg.v);
		return -ENOMEM;
	}
	*out = dg.v;
	*n_out = dg.n;
	return 0;
}
