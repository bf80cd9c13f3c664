// SPDX-License-Identifier: MIT
/*
 * IVRS (I/O Virtualization Reporting Structure) decoding and validation.
 *
 * Layout: AMD I/O Virtualization Technology (IOMMU) specification, 5.2
 * ("IVRS"): the IVRS header with IVinfo, IVHD blocks (types 10h, 11h,
 * 40h) with their device entries, and IVMD blocks (20h, 21h, 22h).
 * Validation: what early_amd_iommu_init does with the table
 * (drivers/iommu/amd/init.c: check_ivrs_checksum,
 * get_highest_supported_ivhd_type, find_last_devid_acpi,
 * init_iommu_all/init_iommu_from_acpi, init_memory_definitions), each
 * problem reported with what the kernel does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_internal.h"
#include "util/bits.h"

/* IVRS header (after the 36-byte ACPI header). */
#define IVRS_IVINFO             36
#define IVRS_RESERVED           40      /* 8 bytes */

/* IVinfo (AMD IOMMU spec, IVRS header) */
#define IVINFO_EFRSUP           IOMMU_BIT(0)
#define IVINFO_DMA_REMAP        IOMMU_BIT(1)
#define IVINFO_GVASIZE          IOMMU_GENMASK(7, 5)
#define IVINFO_PASIZE           IOMMU_GENMASK(14, 8)
#define IVINFO_VASIZE           IOMMU_GENMASK(21, 15)
#define IVINFO_HTATSRESV        IOMMU_BIT(22)
IOMMU_FIELDS_DISJOINT(IVINFO_GVASIZE, IVINFO_PASIZE);
IOMMU_FIELDS_DISJOINT(IVINFO_PASIZE, IVINFO_VASIZE);
IOMMU_FIELD_FITS(IVINFO_HTATSRESV, 32);
_Static_assert(IVINFO_EFRSUP == IOMMU_IVINFO_EFRSUP && IVINFO_DMA_REMAP == IOMMU_IVINFO_DMA_REMAP,
	       "public IVinfo bits");

/* Block header, common to IVHD and IVMD. */
#define IVB_TYPE                0
#define IVB_FLAGS               1
#define IVB_LENGTH              2       /* u16 */
#define IVB_DEVICE_ID           4       /* u16 */
#define IVB_HEADER_LEN          4

/* IVHD */
#define IVHD_CAPABILITY_OFFSET  6
#define IVHD_BASE_ADDRESS       8
#define IVHD_PCI_SEGMENT        16
#define IVHD_IOMMU_INFO         18
#define IVHD_ATTRIBUTES         20      /* 10h: IOMMU feature reporting */
#define IVHD_EFR                24      /* 11h/40h */
#define IVHD_EFR2               32      /* 11h/40h */
#define IVHD10_LEN              24
#define IVHD11_LEN              40
/* The highest type get_highest_supported_ivhd_type considers. */
#define IVHD_TYPE_MAX_SUPPORTED 0x40

/* IVMD */
#define IVMD_AUX_DATA           6
#define IVMD_PCI_SEGMENT        8
#define IVMD_START_ADDRESS      16
#define IVMD_MEMORY_LENGTH      24
#define IVMD_LEN                32

/* Device entries */
#define ENT_TYPE                0
#define ENT_DEVICE_ID           1
#define ENT_DTE_SETTING         3
#define ENT_EXT                 4       /* u32, 8-byte entries */
#define ENT_HID                 4       /* 8 bytes, ACPI HID entries */
#define ENT_CID                 12      /* 8 bytes */
#define ENT_UID_FORMAT          20
#define ENT_UID_LENGTH          21
#define ENT_UID                 22
#define ENT_HID_LEN             8
/* Length by type: 4 << (type >> 6) below 80h (ivhd_entry_length). */
#define ENT_TYPE_SIZE_CLASS     IOMMU_GENMASK(7, 6)
#define ENT_TYPE_VARIABLE       0x80
/* Fields of ext in 8-byte entries */
#define EXT_ALIAS_DEVID         IOMMU_GENMASK(23, 8)
#define EXT_SPECIAL_HANDLE      IOMMU_GENMASK(7, 0)
#define EXT_SPECIAL_DEVID       IOMMU_GENMASK(23, 8)
#define EXT_SPECIAL_VARIETY     IOMMU_GENMASK(31, 24)
IOMMU_FIELDS_DISJOINT(EXT_SPECIAL_HANDLE, EXT_SPECIAL_DEVID);
IOMMU_FIELDS_DISJOINT(EXT_SPECIAL_DEVID, EXT_SPECIAL_VARIETY);
IOMMU_FIELD_FITS(EXT_SPECIAL_VARIETY, 32);

#define UID_NOT_PRESENT         0
#define UID_IS_INTEGER          1
#define UID_IS_CHARACTER        2

/* More IOMMUs than this and the kernel gives up (MAX_IOMMUS). */
#define KERNEL_MAX_IOMMUS       32

struct ivrs_ctx {
	struct iommu_ivrs *r;
	struct fw_diags diags;
	size_t end;
	bool oom;
};

#define DIAG(c, sev, off, idx, ...) fw_diag(&(c)->diags, sev, off, idx, __VA_ARGS__)

const char *iommu_ivrs_block_name(uint8_t type)
{
	switch (type) {
	case IOMMU_IVHD_10:
		return "IVHD type 10h";
	case IOMMU_IVHD_11:
		return "IVHD type 11h";
	case IOMMU_IVHD_40:
		return "IVHD type 40h";
	case IOMMU_IVMD_ALL:
		return "IVMD all";
	case IOMMU_IVMD_SELECT:
		return "IVMD select";
	case IOMMU_IVMD_RANGE:
		return "IVMD range";
	}
	return "unknown block";
}

const char *iommu_ivhd_entry_name(uint8_t type)
{
	switch (type) {
	case IOMMU_IVHD_DEV_PAD:
		return "padding";
	case IOMMU_IVHD_DEV_ALL:
		return "all";
	case IOMMU_IVHD_DEV_SELECT:
		return "select";
	case IOMMU_IVHD_DEV_SELECT_RANGE_START:
		return "range start";
	case IOMMU_IVHD_DEV_RANGE_END:
		return "range end";
	case IOMMU_IVHD_DEV_ALIAS:
		return "alias select";
	case IOMMU_IVHD_DEV_ALIAS_RANGE:
		return "alias range start";
	case IOMMU_IVHD_DEV_EXT_SELECT:
		return "extended select";
	case IOMMU_IVHD_DEV_EXT_SELECT_RANGE:
		return "extended range start";
	case IOMMU_IVHD_DEV_SPECIAL:
		return "special";
	case IOMMU_IVHD_DEV_ACPI_HID:
		return "ACPI HID";
	}
	return "unknown";
}

static bool is_ivhd(uint8_t type)
{
	return type == IOMMU_IVHD_10 || type == IOMMU_IVHD_11 || type == IOMMU_IVHD_40;
}

static bool is_ivmd(uint8_t type)
{
	return type == IOMMU_IVMD_ALL || type == IOMMU_IVMD_SELECT || type == IOMMU_IVMD_RANGE;
}

static size_t ivhd_header_len(uint8_t type)
{
	return type == IOMMU_IVHD_10 ? IVHD10_LEN : IVHD11_LEN;
}

uint8_t iommu_ivrs_ivhd_type(const struct iommu_ivrs *ivrs)
{
	uint8_t last;
	uint16_t devid;

	if (!ivrs || ivrs->n_blocks == 0)
		return 0;
	/* The kernel takes the first block as "the first IVHD", whatever it is. */
	last = ivrs->blocks[0].type;
	devid = ivrs->blocks[0].device_id;
	for (size_t i = 0; i < ivrs->n_blocks && ivrs->blocks[i].type <= IVHD_TYPE_MAX_SUPPORTED; i++)
		if (ivrs->blocks[i].device_id == devid)
			last = ivrs->blocks[i].type;
	return last;
}

size_t iommu_ivrs_units(const struct iommu_ivrs *ivrs, size_t *out, size_t max)
{
	uint8_t t = iommu_ivrs_ivhd_type(ivrs);
	size_t n = 0;

	if (!is_ivhd(t))
		return 0;
	for (size_t i = 0; i < ivrs->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &ivrs->blocks[i];

		if (b->type != t || b->truncated)
			continue;
		if (n < max)
			out[n] = i;
		n++;
	}
	return n;
}

static size_t entry_length(const uint8_t *b, size_t off, size_t end, bool *cut)
{
	uint8_t type = b[off];

	*cut = false;
	if (type < ENT_TYPE_VARIABLE)
		return (size_t)4 << IOMMU_FIELD_GET(ENT_TYPE_SIZE_CLASS, type);
	if (type == IOMMU_IVHD_DEV_ACPI_HID) {
		if (off + ENT_UID_LENGTH >= end) {
			*cut = true;
			return 0;
		}
		return (size_t)b[off + ENT_UID_LENGTH] + ENT_UID;
	}
	return 0;
}

static void copy_id(char dst[9], const uint8_t *src)
{
	memcpy(dst, src, ENT_HID_LEN);
	dst[ENT_HID_LEN] = '\0';
}

/* The device entries of IVHD @idx.  @used: the kernel uses this block. */
static void parse_entries(struct ivrs_ctx *c, int idx, bool used)
{
	struct iommu_ivrs_block *bl = &c->r->blocks[idx];
	const uint8_t *b = c->r->data;
	const char *what = iommu_ivrs_block_name(bl->type);
	size_t off = bl->offset + ivhd_header_len(bl->type);
	size_t bend = bl->offset + bl->length;
	size_t cap = 0;
	bool in_range = false, have_start = false, counted = false;
	size_t range_off = 0;

	while (off < bend) {
		struct iommu_ivhd_entry *e;
		bool cut;
		size_t elen = entry_length(b, off, c->end, &cut);

		if (cut) {
			DIAG(c, IOMMU_DIAG_FATAL, off, idx,
			     "%s at 0x%zx: ACPI HID entry at 0x%zx is cut by the table end: the kernel reads "
			     "past the table", what, bl->offset, off);
			return;
		}
		if (elen == 0) {
			if (used) {
				DIAG(c, IOMMU_DIAG_FATAL, off, idx,
				     "%s at 0x%zx: device entry at 0x%zx has type 0x%02x, which has no length: the "
				     "kernel's entry walk (ivhd_entry_length returns 0) never moves on and the boot hangs",
				     what, bl->offset, off, b[off]);
				c->r->refused = true;
			} else {
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: device entry at 0x%zx has type 0x%02x, which has no length: the "
				     "entries after it cannot be found (the kernel does not use this block)",
				     what, bl->offset, off, b[off]);
			}
			return;
		}
		if (off + elen > c->end) {
			DIAG(c, IOMMU_DIAG_FATAL, off, idx,
			     "%s at 0x%zx: %s entry at 0x%zx (%zu bytes) runs past the table end: the kernel "
			     "reads past the table", what, bl->offset, iommu_ivhd_entry_name(b[off]), off, elen);
			return;
		}
		if (off + elen > bend)
			DIAG(c, used ? IOMMU_DIAG_WARN : IOMMU_DIAG_NOTE, off, idx,
			     "%s at 0x%zx: %s entry at 0x%zx (%zu bytes) runs %zu bytes past the end of its "
			     "block: the kernel reads them as part of it%s", what, bl->offset,
			     iommu_ivhd_entry_name(b[off]), off, elen, off + elen - bend,
			     used ? " and prints a WARN_ON backtrace (find_last_devid_from_ivhd)" :
				    " (it does not use this block)");
		if (!fw_grow((void **)&bl->entries, &cap, bl->n_entries + 1, sizeof(*bl->entries))) {
			c->oom = true;
			return;
		}
		e = &bl->entries[bl->n_entries++];
		memset(e, 0, sizeof(*e));
		e->offset = off;
		e->type = b[off + ENT_TYPE];
		e->device_id = iommu_le16(b + off + ENT_DEVICE_ID);
		e->data_setting = b[off + ENT_DTE_SETTING];
		e->length = (uint16_t)elen;
		if (elen == 8) {
			e->ext_data = iommu_le32(b + off + ENT_EXT);
			if (e->type == IOMMU_IVHD_DEV_ALIAS || e->type == IOMMU_IVHD_DEV_ALIAS_RANGE)
				e->alias_id = (uint16_t)IOMMU_FIELD_GET(EXT_ALIAS_DEVID, e->ext_data);
			if (e->type == IOMMU_IVHD_DEV_SPECIAL) {
				e->special_handle = (uint8_t)IOMMU_FIELD_GET(EXT_SPECIAL_HANDLE, e->ext_data);
				e->special_device_id = (uint16_t)IOMMU_FIELD_GET(EXT_SPECIAL_DEVID, e->ext_data);
				e->special_variety = (uint8_t)IOMMU_FIELD_GET(EXT_SPECIAL_VARIETY, e->ext_data);
			}
		}
		if (e->type == IOMMU_IVHD_DEV_ACPI_HID) {
			size_t ulen;

			copy_id(e->hid, b + off + ENT_HID);
			copy_id(e->cid, b + off + ENT_CID);
			e->uid_format = b[off + ENT_UID_FORMAT];
			e->uid_length = b[off + ENT_UID_LENGTH];
			ulen = e->uid_length;
			if (e->uid_format == UID_IS_INTEGER) {
				uint64_t v = 0;

				for (size_t k = 0; k < ulen && k < 8; k++)
					v |= (uint64_t)b[off + ENT_UID + k] << (8 * k);
				e->uid = malloc(24);
				if (e->uid)
					snprintf(e->uid, 24, "%llu", (unsigned long long)v);
			} else if (e->uid_format == UID_IS_CHARACTER) {
				e->uid = malloc(ulen + 1);
				if (e->uid) {
					memcpy(e->uid, b + off + ENT_UID, ulen);
					e->uid[ulen] = '\0';
				}
			}
			if ((e->uid_format == UID_IS_INTEGER || e->uid_format == UID_IS_CHARACTER) && !e->uid) {
				c->oom = true;
				return;
			}
		}

		/* What init_iommu_from_acpi makes of it. */
		switch (e->type) {
		case IOMMU_IVHD_DEV_PAD:
			break;
		case IOMMU_IVHD_DEV_ALL:
		case IOMMU_IVHD_DEV_SELECT:
		case IOMMU_IVHD_DEV_ALIAS:
		case IOMMU_IVHD_DEV_EXT_SELECT:
			counted = true;
			break;
		case IOMMU_IVHD_DEV_SELECT_RANGE_START:
		case IOMMU_IVHD_DEV_ALIAS_RANGE:
		case IOMMU_IVHD_DEV_EXT_SELECT_RANGE:
			if (in_range && used)
				DIAG(c, IOMMU_DIAG_NOTE, off, idx,
				     "%s at 0x%zx: range start at 0x%zx follows the range start at 0x%zx that no "
				     "range end closed: the kernel forgets the first", what, bl->offset, off, range_off);
			in_range = have_start = true;
			range_off = off;
			break;
		case IOMMU_IVHD_DEV_RANGE_END:
			counted = true;
			if (!have_start && used)
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: range end at 0x%zx has no range start before it: the kernel uses "
				     "its initial start, device id 0000, and maps 0000-%04x", what, bl->offset, off,
				     e->device_id);
			else if (!in_range && used)
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: range end at 0x%zx follows another range end: the kernel maps "
				     "again from the start at 0x%zx", what, bl->offset, off, range_off);
			else if (used) {
				const struct iommu_ivhd_entry *s = NULL;

				for (size_t k = bl->n_entries; k-- > 0;)
					if (bl->entries[k].offset == range_off) {
						s = &bl->entries[k];
						break;
					}
				if (s && s->device_id > e->device_id)
					DIAG(c, IOMMU_DIAG_WARN, off, idx,
					     "%s at 0x%zx: range %04x-%04x (0x%zx-0x%zx) ends before it starts: the "
					     "kernel maps nothing", what, bl->offset, s->device_id, e->device_id,
					     range_off, off);
			}
			in_range = false;
			break;
		case IOMMU_IVHD_DEV_SPECIAL:
			if (e->special_variety != IOMMU_IVHD_SPECIAL_IOAPIC &&
			    e->special_variety != IOMMU_IVHD_SPECIAL_HPET) {
				if (used) {
					DIAG(c, IOMMU_DIAG_FATAL, off, idx,
					     "%s at 0x%zx: special entry at 0x%zx has variety %u (neither IOAPIC nor "
					     "HPET): add_special_device fails and the kernel gives up on AMD-Vi",
					     what, bl->offset, off, e->special_variety);
					c->r->refused = true;
				} else {
					DIAG(c, IOMMU_DIAG_NOTE, off, idx,
					     "%s at 0x%zx: special entry at 0x%zx has variety %u (neither IOAPIC nor HPET)",
					     what, bl->offset, off, e->special_variety);
				}
			}
			break;
		case IOMMU_IVHD_DEV_ACPI_HID:
			if (!used)
				break;
			if (bl->type != IOMMU_IVHD_40)
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: ACPI HID entry at 0x%zx in a block of type %02xh: the kernel "
				     "ignores it (\"[Firmware Bug]: Invalid IVHD device type 0xf0\")", what,
				     bl->offset, off, bl->type);
			else if (!e->hid[0])
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: ACPI HID entry at 0x%zx has an empty HID: the kernel ignores "
				     "it (\"[Firmware Bug]: Invalid HID.\")", what, bl->offset, off);
			else if (e->uid_format == UID_NOT_PRESENT && e->uid_length)
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: ACPI HID entry at 0x%zx has no UID but a UID length of %u: the "
				     "kernel warns (\"[Firmware Bug]: Invalid UID length.\")", what, bl->offset,
				     off, e->uid_length);
			else if (e->uid_format > UID_IS_CHARACTER)
				DIAG(c, IOMMU_DIAG_NOTE, off, idx,
				     "%s at 0x%zx: ACPI HID entry at 0x%zx has UID format %u: the kernel uses no UID",
				     what, bl->offset, off, e->uid_format);
			break;
		default:
			if (used)
				DIAG(c, IOMMU_DIAG_NOTE, off, idx,
				     "%s at 0x%zx: device entry at 0x%zx has type 0x%02x, which the kernel skips",
				     what, bl->offset, off, e->type);
			break;
		}
		off += elen;
	}
	if (in_range && used)
		DIAG(c, IOMMU_DIAG_NOTE, range_off, idx,
		     "%s at 0x%zx: range start at 0x%zx is never closed by a range end: the kernel maps nothing for it",
		     what, bl->offset, range_off);
	if (used && !counted) {
		DIAG(c, IOMMU_DIAG_FATAL, bl->offset, idx,
		     "%s at 0x%zx: no entry names a device id the kernel sizes its tables by (all, select, "
		     "range end, alias select, extended select): find_last_devid_acpi fails and the kernel "
		     "gives up on AMD-Vi", what, bl->offset);
		c->r->refused = true;
	}
}

static int add_block(struct ivrs_ctx *c, size_t *cap, size_t off, size_t length, size_t avail)
{
	struct iommu_ivrs_block *bl;
	const uint8_t *s = c->r->data + off;
	size_t need;
	int idx;

	if (!fw_grow((void **)&c->r->blocks, cap, c->r->n_blocks + 1, sizeof(*c->r->blocks))) {
		c->oom = true;
		return -1;
	}
	idx = (int)c->r->n_blocks++;
	bl = &c->r->blocks[idx];
	memset(bl, 0, sizeof(*bl));
	bl->offset = off;
	bl->type = s[IVB_TYPE];
	bl->flags = s[IVB_FLAGS];
	bl->length = (uint16_t)length;
	bl->raw = s;
	bl->known = is_ivhd(bl->type) || is_ivmd(bl->type);
	if (avail >= IVB_DEVICE_ID + 2)
		bl->device_id = iommu_le16(s + IVB_DEVICE_ID);
	if (avail < length)
		bl->truncated = true;
	need = is_ivhd(bl->type) ? ivhd_header_len(bl->type) : is_ivmd(bl->type) ? IVMD_LEN : IVB_HEADER_LEN;
	if (length < need) {
		bl->truncated = true;
		DIAG(c, IOMMU_DIAG_FATAL, off + IVB_LENGTH, idx,
		     "%s at 0x%zx: length %zu is too short for its type (%zu bytes): the kernel reads the "
		     "bytes after it as its fields", iommu_ivrs_block_name(bl->type), off, length, need);
	}
	if (avail > length)
		avail = length;
#define F16(o) ((o) + 2 <= avail ? iommu_le16(s + (o)) : 0)
#define F32(o) ((o) + 4 <= avail ? iommu_le32(s + (o)) : 0)
#define F64(o) ((o) + 8 <= avail ? iommu_le64(s + (o)) : 0)
	if (is_ivhd(bl->type)) {
		bl->capability_offset = F16(IVHD_CAPABILITY_OFFSET);
		bl->base_address = F64(IVHD_BASE_ADDRESS);
		bl->pci_segment = F16(IVHD_PCI_SEGMENT);
		bl->iommu_info = F16(IVHD_IOMMU_INFO);
		bl->iommu_attributes = F32(IVHD_ATTRIBUTES);
		if (bl->type != IOMMU_IVHD_10) {
			bl->efr_register = F64(IVHD_EFR);
			bl->efr_register2 = F64(IVHD_EFR2);
		}
	} else if (is_ivmd(bl->type)) {
		bl->aux_data = F16(IVMD_AUX_DATA);
		bl->pci_segment = F16(IVMD_PCI_SEGMENT);
		bl->start_address = F64(IVMD_START_ADDRESS);
		bl->memory_length = F64(IVMD_MEMORY_LENGTH);
	}
#undef F16
#undef F32
#undef F64
	return idx;
}

static void check_blocks(struct ivrs_ctx *c)
{
	struct iommu_ivrs *r = c->r;
	uint8_t target = iommu_ivrs_ivhd_type(r);
	size_t n_units = 0;

	for (size_t i = 0; i < r->n_blocks; i++) {
		struct iommu_ivrs_block *bl = &r->blocks[i];

		if (is_ivhd(bl->type) && !bl->truncated) {
			parse_entries(c, (int)i, bl->type == target);
			if (c->oom)
				return;
			if (bl->type == target)
				n_units++;
			if (bl->type == target && bl->base_address == 0)
				DIAG(c, IOMMU_DIAG_WARN, bl->offset + IVHD_BASE_ADDRESS, (int)i,
				     "%s at 0x%zx: IOMMU base address 0: the kernel cannot map the IOMMU's registers",
				     iommu_ivrs_block_name(bl->type), bl->offset);
		} else if (is_ivmd(bl->type) && !bl->truncated) {
			if (!(bl->flags & (IOMMU_IVMD_FLAG_UNITY | IOMMU_IVMD_FLAG_EXCL)))
				DIAG(c, IOMMU_DIAG_NOTE, bl->offset + IVB_FLAGS, (int)i,
				     "%s at 0x%zx: neither unity map nor exclusion range is set (flags 0x%02x): "
				     "the kernel ignores it", iommu_ivrs_block_name(bl->type), bl->offset, bl->flags);
			if (bl->type == IOMMU_IVMD_RANGE && bl->aux_data < bl->device_id)
				DIAG(c, IOMMU_DIAG_WARN, bl->offset + IVMD_AUX_DATA, (int)i,
				     "IVMD range at 0x%zx: device ids %04x-%04x end before they start: it applies to "
				     "no device", bl->offset, bl->device_id, bl->aux_data);
			if ((bl->start_address | bl->memory_length) & IOMMU_GENMASK(11, 0))
				DIAG(c, IOMMU_DIAG_NOTE, bl->offset + IVMD_START_ADDRESS, (int)i,
				     "%s at 0x%zx: start 0x%llx or length 0x%llx is not 4 KiB aligned: the kernel "
				     "rounds both up to a page", iommu_ivrs_block_name(bl->type), bl->offset,
				     (unsigned long long)bl->start_address, (unsigned long long)bl->memory_length);
		} else if (!bl->known) {
			DIAG(c, IOMMU_DIAG_NOTE, bl->offset, (int)i,
			     "block at 0x%zx has type 0x%02x, which this version does not know: skipped, as the "
			     "kernel skips it", bl->offset, bl->type);
		}
	}
	if (r->n_blocks == 0 || !is_ivhd(target)) {
		DIAG(c, IOMMU_DIAG_FATAL, IOMMU_IVRS_HEADER_LEN, -1,
		     r->n_blocks == 0 ? "no IVHD block: the kernel finds no AMD IOMMU" :
		     "the kernel's choice of IVHD type (get_highest_supported_ivhd_type) lands on type "
		     "0x%02x, the type of a block that is no IVHD but has the first block's device id: "
		     "it finds no AMD IOMMU", target);
		r->refused = true;
	} else if (n_units == 0) {
		DIAG(c, IOMMU_DIAG_FATAL, IOMMU_IVRS_HEADER_LEN, -1,
		     "no usable IVHD block of type %02xh: the kernel finds no AMD IOMMU", target);
		r->refused = true;
	} else if (n_units > KERNEL_MAX_IOMMUS) {
		DIAG(c, IOMMU_DIAG_FATAL, IOMMU_IVRS_HEADER_LEN, -1,
		     "%zu IVHD blocks of type %02xh: more than the kernel's %d IOMMUs (\"System has more "
		     "IOMMUs than supported by this driver\"), it gives up on AMD-Vi", n_units, target,
		     KERNEL_MAX_IOMMUS);
		r->refused = true;
	}
}

int iommu_ivrs_parse(const uint8_t *data, size_t len, struct iommu_ivrs **out,
		     struct iommu_error *err)
{
	struct ivrs_ctx c = { 0 };
	struct iommu_ivrs *r;
	size_t cap = 0, off;

	*out = NULL;
	if (len < IOMMU_ACPI_HEADER_LEN)
		return iommu_error_set(err, -EINVAL,
				       "IVRS: %zu bytes, shorter than the 36-byte ACPI table header", len);
	if (memcmp(data, "IVRS", 4)) {
		char sig[5];

		for (int i = 0; i < 4; i++)
			sig[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
		sig[4] = '\0';
		return iommu_error_set(err, -EINVAL, "signature '%s', not an IVRS table", sig);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return iommu_error_set(err, -ENOMEM, "IVRS: out of memory");
	r->data = malloc(len);
	if (!r->data) {
		free(r);
		return iommu_error_set(err, -ENOMEM, "IVRS: out of memory");
	}
	memcpy(r->data, data, len);
	r->len = len;
	c.r = r;
	c.end = fw_check_header(r->data, len, &r->header, &c.diags, IOMMU_DIAG_FATAL,
				"the kernel refuses the table (\"[Firmware Bug]: IVRS invalid checksum\")",
				&r->refused);
	if (c.end < IOMMU_IVRS_HEADER_LEN) {
		DIAG(&c, IOMMU_DIAG_FATAL, ACPI_HDR_LENGTH, -1,
		     "table header: %zu bytes, shorter than the 48-byte IVRS header: the kernel reads "
		     "past the table", c.end);
		r->refused = true;
		if (c.end >= IVRS_IVINFO + 4)
			r->iv_info = iommu_le32(r->data + IVRS_IVINFO);
		goto done;
	}
	r->iv_info = iommu_le32(r->data + IVRS_IVINFO);
	if (iommu_le64(r->data + IVRS_RESERVED))
		DIAG(&c, IOMMU_DIAG_NOTE, IVRS_RESERVED, -1, "table header: reserved bytes 40-47 are not zero");

	off = IOMMU_IVRS_HEADER_LEN;
	while (off < c.end && !c.oom) {
		uint16_t length;
		int idx;

		if (c.end - off < IVB_HEADER_LEN) {
			DIAG(&c, IOMMU_DIAG_FATAL, off, -1,
			     "%zu bytes at 0x%zx are too few for a block header: the kernel reads the rest "
			     "past the table end", c.end - off, off);
			break;
		}
		length = iommu_le16(r->data + off + IVB_LENGTH);
		if (length == 0) {
			DIAG(&c, IOMMU_DIAG_FATAL, off + IVB_LENGTH, -1,
			     "block at 0x%zx (type 0x%02x) has length 0: the kernel's IVRS walks never move "
			     "on and the boot hangs", off, r->data[off]);
			r->refused = true;
			break;
		}
		if ((size_t)length > c.end - off) {
			idx = add_block(&c, &cap, off, length, c.end - off);
			if (idx < 0)
				break;
			DIAG(&c, IOMMU_DIAG_FATAL, off + IVB_LENGTH, idx,
			     "%s at 0x%zx: length %u runs past the table end at 0x%zx: the kernel reads past "
			     "the table", iommu_ivrs_block_name(r->blocks[idx].type), off, length, c.end);
			break;
		}
		idx = add_block(&c, &cap, off, length, length);
		if (idx < 0)
			break;
		off += length;
	}
	if (!c.oom)
		check_blocks(&c);
done:
	r->diags = c.diags.v;
	r->n_diags = c.diags.n;
	if (c.oom || c.diags.oom) {
		iommu_ivrs_free(r);
		return iommu_error_set(err, -ENOMEM, "IVRS: out of memory");
	}
	*out = r;
	return 0;
}

void iommu_ivrs_free(struct iommu_ivrs *ivrs)
{
	if (!ivrs)
		return;
	for (size_t i = 0; i < ivrs->n_blocks; i++) {
		struct iommu_ivrs_block *bl = &ivrs->blocks[i];

		for (size_t k = 0; k < bl->n_entries; k++)
			free(bl->entries[k].uid);
		free(bl->entries);
	}
	free(ivrs->blocks);
	free(ivrs->diags);
	free(ivrs->data);
	free(ivrs);
}
