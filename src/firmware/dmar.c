// SPDX-License-Identifier: MIT
/*
 * DMAR (DMA Remapping Reporting) table decoding and validation.
 *
 * Layout: Intel VT-d specification, chapter 8 ("BIOS Considerations").
 * Validation: the checks the kernel makes on the way from
 * detect_intel_iommu and parse_dmar_table (drivers/iommu/intel/dmar.c)
 * through the per-structure handlers (dmar_parse_one_drhd,
 * dmar_parse_one_rmrr and rmrr_sanity_check, dmar_parse_one_rhsa,
 * dmar_parse_one_andd, ...), each reported with what the kernel does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_internal.h"
#include "util/bits.h"

/* DMAR header (after the 36-byte ACPI header). */
#define DMAR_HOST_ADDRESS_WIDTH 36
#define DMAR_FLAGS              37
#define DMAR_RESERVED           38      /* 10 bytes */
#define DMAR_RESERVED_LEN       10
/* The kernel refuses a width below PAGE_SHIFT - 1 ("Invalid DMAR haw"). */
#define DMAR_MIN_WIDTH          11

#define DMAR_FLAGS_INTR_REMAP           IOMMU_BIT(0)
#define DMAR_FLAGS_X2APIC_OPT_OUT       IOMMU_BIT(1)
#define DMAR_FLAGS_DMA_CTRL_OPT_IN      IOMMU_BIT(2)
#define DMAR_FLAGS_RESERVED             IOMMU_GENMASK(7, 3)
IOMMU_FIELDS_DISJOINT(DMAR_FLAGS_INTR_REMAP | DMAR_FLAGS_X2APIC_OPT_OUT | DMAR_FLAGS_DMA_CTRL_OPT_IN,
		      DMAR_FLAGS_RESERVED);
IOMMU_FIELD_FITS(DMAR_FLAGS_RESERVED, 8);
_Static_assert(DMAR_FLAGS_INTR_REMAP == IOMMU_DMAR_FLAG_INTR_REMAP &&
	       DMAR_FLAGS_X2APIC_OPT_OUT == IOMMU_DMAR_FLAG_X2APIC_OPT_OUT &&
	       DMAR_FLAGS_DMA_CTRL_OPT_IN == IOMMU_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN,
	       "public DMAR flag values");

/* Remapping structure header. */
#define RS_TYPE                 0       /* u16 */
#define RS_LENGTH               2       /* u16 */
#define RS_HEADER_LEN           4

/* DRHD (VT-d 8.3) */
#define DRHD_FLAGS              4
#define DRHD_SIZE               5
#define DRHD_SEGMENT            6
#define DRHD_ADDRESS            8
#define DRHD_SCOPES             16
#define DRHD_FLAGS_INCLUDE_ALL  IOMMU_BIT(0)
#define DRHD_FLAGS_RESERVED     IOMMU_GENMASK(7, 1)
IOMMU_FIELDS_DISJOINT(DRHD_FLAGS_INCLUDE_ALL, DRHD_FLAGS_RESERVED);

/* RMRR (VT-d 8.4) */
#define RMRR_RESERVED           4       /* u16 */
#define RMRR_SEGMENT            6
#define RMRR_BASE               8
#define RMRR_LIMIT              16
#define RMRR_SCOPES             24
#define RMRR_PAGE_MASK          IOMMU_GENMASK(11, 0)

/* ATSR (VT-d 8.5), SATC (8.8), SIDP (8.9) share one layout. */
#define ATSR_FLAGS              4
#define ATSR_RESERVED           5
#define ATSR_SEGMENT            6
#define ATSR_SCOPES             8
#define ATSR_FLAGS_ALL_PORTS    IOMMU_BIT(0)
#define SATC_FLAGS_ATC_REQUIRED IOMMU_BIT(0)
#define SIDP_RESERVED           4       /* u16 */

/* RHSA (VT-d 8.6) */
#define RHSA_RESERVED           4       /* u32 */
#define RHSA_ADDRESS            8
#define RHSA_PROXIMITY          16
#define RHSA_LEN                20

/* ANDD (VT-d 8.7) */
#define ANDD_RESERVED           4       /* 3 bytes */
#define ANDD_DEVICE_NUMBER      7
#define ANDD_NAME               8

/* Device scope (VT-d 8.3.1) */
#define SCOPE_TYPE              0
#define SCOPE_LENGTH            1
#define SCOPE_FLAGS             2
#define SCOPE_RESERVED          3
#define SCOPE_ENUMERATION_ID    4
#define SCOPE_START_BUS         5
#define SCOPE_PATH              6
#define SCOPE_PATH_ELEM         2

struct dmar_ctx {
	struct iommu_dmar *d;
	struct fw_diags diags;
	size_t end;             /* bytes of the table we have */
	bool oom;
};

static const char *const type_names[] = {
	"DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP",
};

const char *iommu_dmar_type_name(uint16_t type)
{
	if (type < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[type];
	return "unknown";
}

const char *iommu_dmar_scope_type_name(uint8_t type)
{
	switch (type) {
	case IOMMU_SCOPE_ENDPOINT:
		return "endpoint";
	case IOMMU_SCOPE_BRIDGE:
		return "bridge";
	case IOMMU_SCOPE_IOAPIC:
		return "IOAPIC";
	case IOMMU_SCOPE_HPET:
		return "HPET";
	case IOMMU_SCOPE_NAMESPACE:
		return "ACPI namespace device";
	}
	return "unknown";
}

/* Fixed part of each known structure type. */
static size_t min_length(uint16_t type)
{
	switch (type) {
	case IOMMU_DMAR_DRHD:
		return DRHD_SCOPES;
	case IOMMU_DMAR_RMRR:
		return RMRR_SCOPES;
	case IOMMU_DMAR_ATSR:
	case IOMMU_DMAR_SATC:
	case IOMMU_DMAR_SIDP:
		return ATSR_SCOPES;
	case IOMMU_DMAR_RHSA:
		return RHSA_LEN;
	case IOMMU_DMAR_ANDD:
		return ANDD_NAME;
	}
	return RS_HEADER_LEN;
}

#define DIAG(c, sev, off, idx, ...) fw_diag(&(c)->diags, sev, off, idx, __VA_ARGS__)

/*
 * Field readers bounded by the structure: a field that does not fit in
 * @avail bytes reads as 0 (the structure is marked truncated already).
 */
static uint8_t rd8(const uint8_t *s, size_t avail, size_t off)
{
	return off + 1 <= avail ? s[off] : 0;
}

static uint16_t rd16(const uint8_t *s, size_t avail, size_t off)
{
	return off + 2 <= avail ? iommu_le16(s + off) : 0;
}

static uint32_t rd32(const uint8_t *s, size_t avail, size_t off)
{
	return off + 4 <= avail ? iommu_le32(s + off) : 0;
}

static uint64_t rd64(const uint8_t *s, size_t avail, size_t off)
{
	return off + 8 <= avail ? iommu_le64(s + off) : 0;
}

/*
 * Device scopes of structure @idx from table offset @from to @to (the
 * structure's end).  @walked: the kernel walks these scopes (and would
 * loop forever on a zero length).
 */
static void parse_scopes(struct dmar_ctx *c, int idx, size_t from, size_t to, bool walked)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];
	const uint8_t *b = c->d->data;
	const char *what = iommu_dmar_type_name(st->type);
	size_t cap = 0, off = from;

	while (off < to) {
		struct iommu_dmar_scope *sc;
		size_t slen, path_end;

		if (c->end - off < 2) {
			DIAG(c, IOMMU_DIAG_FATAL, off, idx,
			     "%s at 0x%zx: device scope at 0x%zx: its header runs past the table end: "
			     "the kernel reads past the table", what, st->offset, off);
			return;
		}
		if (!fw_grow((void **)&st->scopes, &cap, st->n_scopes + 1, sizeof(*st->scopes))) {
			c->oom = true;
			return;
		}
		sc = &st->scopes[st->n_scopes++];
		memset(sc, 0, sizeof(*sc));
		sc->offset = off;
		sc->type = b[off + SCOPE_TYPE];
		sc->length = b[off + SCOPE_LENGTH];
		slen = sc->length;
		if (slen == 0) {
			if (walked) {
				DIAG(c, IOMMU_DIAG_FATAL, off, idx,
				     "%s at 0x%zx: device scope at 0x%zx has length 0: the kernel's scope walk "
				     "(dmar_alloc_dev_scope) never moves on and the boot hangs",
				     what, st->offset, off);
				c->d->refused = true;
			} else {
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: device scope at 0x%zx has length 0: the scopes after it cannot be found",
				     what, st->offset, off);
			}
			return;
		}
		if (off + SCOPE_PATH <= c->end) {
			sc->reserved = iommu_le16(b + off + SCOPE_FLAGS);
			sc->flags = b[off + SCOPE_FLAGS];
			sc->enumeration_id = b[off + SCOPE_ENUMERATION_ID];
			sc->start_bus = b[off + SCOPE_START_BUS];
		}
		if (slen < SCOPE_PATH) {
			DIAG(c, IOMMU_DIAG_WARN, off, idx,
			     "%s at 0x%zx: device scope at 0x%zx has length %zu, shorter than its 6-byte header: "
			     "the kernel computes a negative path length and the scope names no device",
			     what, st->offset, off, slen);
			off += slen;
			continue;
		}
		path_end = off + slen;
		if ((slen - SCOPE_PATH) % SCOPE_PATH_ELEM)
			DIAG(c, IOMMU_DIAG_WARN, off, idx,
			     "%s at 0x%zx: device scope at 0x%zx has length %zu: its path is not a whole number "
			     "of (device, function) pairs; the kernel ignores the last byte",
			     what, st->offset, off, slen);
		if (path_end > c->end) {
			DIAG(c, IOMMU_DIAG_FATAL, off, idx,
			     "%s at 0x%zx: device scope at 0x%zx (length %zu) runs past the table end at 0x%zx: "
			     "the kernel reads past the table", what, st->offset, off, slen, c->end);
			path_end = c->end;
		} else if (path_end > to) {
			DIAG(c, IOMMU_DIAG_WARN, off, idx,
			     "%s at 0x%zx: device scope at 0x%zx (length %zu) runs %zu bytes past the end of its "
			     "structure: the kernel reads them as its path", what, st->offset, off, slen,
			     path_end - to);
		}
		if (path_end >= off + SCOPE_PATH)
			sc->n_path = (path_end - off - SCOPE_PATH) / SCOPE_PATH_ELEM;
		if (sc->n_path) {
			sc->path = calloc(sc->n_path, sizeof(*sc->path));
			if (!sc->path) {
				sc->n_path = 0;
				c->oom = true;
				return;
			}
			for (size_t k = 0; k < sc->n_path; k++) {
				sc->path[k].device = b[off + SCOPE_PATH + k * SCOPE_PATH_ELEM];
				sc->path[k].function = b[off + SCOPE_PATH + k * SCOPE_PATH_ELEM + 1];
			}
		}
		switch (sc->type) {
		case IOMMU_SCOPE_ENDPOINT:
		case IOMMU_SCOPE_BRIDGE:
			if (sc->n_path == 0)
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: %s scope at 0x%zx has an empty path: it names no device",
				     what, st->offset, iommu_dmar_scope_type_name(sc->type), off);
			for (size_t k = 0; k < sc->n_path; k++)
				if (sc->path[k].device > 31 || sc->path[k].function > 7) {
					DIAG(c, IOMMU_DIAG_WARN, off, idx,
					     "%s at 0x%zx: %s scope at 0x%zx: path element %zu (%02x,%02x) is no PCI "
					     "device/function: the scope names no device",
					     what, st->offset, iommu_dmar_scope_type_name(sc->type), off, k,
					     sc->path[k].device, sc->path[k].function);
					break;
				}
			break;
		case IOMMU_SCOPE_IOAPIC:
		case IOMMU_SCOPE_HPET:
		case IOMMU_SCOPE_NAMESPACE:
			break;
		default:
			if (walked)
				DIAG(c, IOMMU_DIAG_WARN, off, idx,
				     "%s at 0x%zx: device scope at 0x%zx has type %u: the kernel logs "
				     "\"Unsupported device scope\" and ignores it",
				     what, st->offset, off, sc->type);
			else
				DIAG(c, IOMMU_DIAG_NOTE, off, idx,
				     "%s at 0x%zx: device scope at 0x%zx has unknown type %u",
				     what, st->offset, off, sc->type);
			break;
		}
		off += slen;
	}
}

static void decode_drhd(struct dmar_ctx *c, int idx, const uint8_t *s, size_t avail)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];

	st->flags = rd8(s, avail, DRHD_FLAGS);
	st->size = rd8(s, avail, DRHD_SIZE);
	st->segment = rd16(s, avail, DRHD_SEGMENT);
	st->address = rd64(s, avail, DRHD_ADDRESS);
	if (st->truncated)
		return;
	if (IOMMU_FIELD_GET(DRHD_FLAGS_RESERVED, st->flags))
		DIAG(c, IOMMU_DIAG_NOTE, st->offset + DRHD_FLAGS, idx,
		     "DRHD at 0x%zx: reserved flag bits set (flags 0x%02x)", st->offset, st->flags);
	if (st->address == 0) {
		DIAG(c, IOMMU_DIAG_FATAL, st->offset + DRHD_ADDRESS, idx,
		     "DRHD at 0x%zx: register base address 0: the kernel refuses the table "
		     "(\"Your BIOS is broken; DMAR reported at address 0\")", st->offset);
		c->d->refused = true;
	}
	for (int k = 0; k < idx; k++) {
		const struct iommu_dmar_struct *o = &c->d->structs[k];

		if (o->type == IOMMU_DMAR_DRHD && !o->truncated && !o->duplicate &&
		    o->segment == st->segment && o->address == st->address) {
			st->duplicate = true;
			DIAG(c, IOMMU_DIAG_NOTE, st->offset, idx,
			     "DRHD at 0x%zx: same segment %04x and register base 0x%llx as the DRHD at 0x%zx: "
			     "the kernel ignores it (dmar_find_dmaru)", st->offset, st->segment,
			     (unsigned long long)st->address, o->offset);
			break;
		}
	}
	parse_scopes(c, idx, st->offset + DRHD_SCOPES, st->offset + st->length, true);
	if (st->flags & DRHD_FLAGS_INCLUDE_ALL) {
		for (size_t k = 0; k < st->n_scopes; k++) {
			uint8_t t = st->scopes[k].type;

			if (t == IOMMU_SCOPE_ENDPOINT || t == IOMMU_SCOPE_BRIDGE) {
				DIAG(c, IOMMU_DIAG_NOTE, st->scopes[k].offset, idx,
				     "DRHD at 0x%zx: INCLUDE_PCI_ALL unit with a PCI %s scope: the kernel "
				     "does not use PCI scopes of such units", st->offset,
				     iommu_dmar_scope_type_name(t));
				break;
			}
		}
	}
}

static void decode_rmrr(struct dmar_ctx *c, int idx, const uint8_t *s, size_t avail)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];

	st->reserved = rd16(s, avail, RMRR_RESERVED);
	st->segment = rd16(s, avail, RMRR_SEGMENT);
	st->base = rd64(s, avail, RMRR_BASE);
	st->end = rd64(s, avail, RMRR_LIMIT);
	if (st->truncated)
		return;
	if ((st->base & RMRR_PAGE_MASK) || ((st->end + 1) & RMRR_PAGE_MASK) || st->end <= st->base)
		DIAG(c, IOMMU_DIAG_WARN, st->offset + RMRR_BASE, idx,
		     "RMRR at 0x%zx: [0x%016llx-0x%016llx] %s: the kernel warns (\"Your BIOS is broken; "
		     "bad RMRR\"), taints itself and still uses it", st->offset,
		     (unsigned long long)st->base, (unsigned long long)st->end,
		     st->end <= st->base ? "ends at or below its base" :
		     (st->base & RMRR_PAGE_MASK) ? "has a base that is not 4 KiB aligned" :
		     "does not end just before a 4 KiB boundary");
	parse_scopes(c, idx, st->offset + RMRR_SCOPES, st->offset + st->length, true);
}

static void decode_atsr_like(struct dmar_ctx *c, int idx, const uint8_t *s, size_t avail)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];
	bool walked = true;

	if (st->type == IOMMU_DMAR_SIDP) {
		st->reserved = rd16(s, avail, SIDP_RESERVED);
		walked = false;
	} else {
		st->flags = rd8(s, avail, ATSR_FLAGS);
		st->reserved = rd8(s, avail, ATSR_RESERVED);
	}
	st->segment = rd16(s, avail, ATSR_SEGMENT);
	if (st->truncated)
		return;
	if (st->type == IOMMU_DMAR_ATSR && (st->flags & ATSR_FLAGS_ALL_PORTS))
		walked = false;         /* the kernel does not look at its scopes */
	parse_scopes(c, idx, st->offset + ATSR_SCOPES, st->offset + st->length, walked);
	if (st->type == IOMMU_DMAR_SIDP)
		DIAG(c, IOMMU_DIAG_NOTE, st->offset, idx,
		     "SIDP at 0x%zx: the kernel has no handler for SoC integrated device properties "
		     "and skips it", st->offset);
}

static void decode_rhsa(struct dmar_ctx *c, int idx, const uint8_t *s, size_t avail)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];
	bool found = false;

	st->reserved = rd32(s, avail, RHSA_RESERVED);
	st->address = rd64(s, avail, RHSA_ADDRESS);
	st->proximity_domain = rd32(s, avail, RHSA_PROXIMITY);
	if (st->truncated)
		return;
	/* Units registered so far: the DRHDs before it. */
	for (int k = 0; k < idx && !found; k++) {
		const struct iommu_dmar_struct *o = &c->d->structs[k];

		found = o->type == IOMMU_DMAR_DRHD && !o->truncated && o->address == st->address;
	}
	if (!found)
		DIAG(c, IOMMU_DIAG_WARN, st->offset + RHSA_ADDRESS, idx,
		     "RHSA at 0x%zx: register base 0x%llx is no DRHD before it: the kernel warns "
		     "(\"Your BIOS is broken; RHSA refers to non-existent DMAR unit\") and taints itself",
		     st->offset, (unsigned long long)st->address);
	if (st->length > RHSA_LEN)
		DIAG(c, IOMMU_DIAG_NOTE, st->offset + RHSA_LEN, idx,
		     "RHSA at 0x%zx: %u bytes after its 20-byte fixed part", st->offset,
		     st->length - RHSA_LEN);
}

static void decode_andd(struct dmar_ctx *c, int idx, const uint8_t *s, size_t avail)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];
	size_t name_len, room;

	st->reserved = avail >= ANDD_DEVICE_NUMBER ?
		       (uint32_t)(s[ANDD_RESERVED] | s[ANDD_RESERVED + 1] << 8 | s[ANDD_RESERVED + 2] << 16) : 0;
	st->acpi_device_number = rd8(s, avail, ANDD_DEVICE_NUMBER);
	room = avail > ANDD_NAME ? avail - ANDD_NAME : 0;
	name_len = room ? strnlen((const char *)s + ANDD_NAME, room) : 0;
	st->object_name = malloc(name_len + 1);
	if (!st->object_name) {
		c->oom = true;
		return;
	}
	memcpy(st->object_name, s + ANDD_NAME, name_len);
	st->object_name[name_len] = '\0';
	if (st->truncated)
		return;
	if (name_len == room) {
		DIAG(c, IOMMU_DIAG_FATAL, st->offset + ANDD_NAME, idx,
		     "ANDD at 0x%zx: the ACPI object name is not NUL-terminated within the structure: "
		     "the kernel refuses the table (\"Your BIOS is broken; ANDD object name is not "
		     "NUL-terminated\")", st->offset);
		c->d->refused = true;
	}
}

/* One structure at table offset @off whose length fits in the table. */
static int add_struct(struct dmar_ctx *c, size_t *cap, size_t off, uint16_t type, size_t length,
		      size_t avail)
{
	struct iommu_dmar_struct *st;
	int idx;

	if (!fw_grow((void **)&c->d->structs, cap, c->d->n_structs + 1, sizeof(*c->d->structs))) {
		c->oom = true;
		return -1;
	}
	idx = (int)c->d->n_structs++;
	st = &c->d->structs[idx];
	memset(st, 0, sizeof(*st));
	st->offset = off;
	st->type = type;
	st->length = (uint16_t)length;
	st->raw = c->d->data + off;
	st->known = type <= IOMMU_DMAR_SIDP;
	if (avail < length)
		st->truncated = true;
	if (st->known && length < min_length(type)) {
		st->truncated = true;
		DIAG(c, IOMMU_DIAG_FATAL, off + RS_LENGTH, idx,
		     "%s at 0x%zx: length %zu is too short for a %s (%zu bytes): the kernel reads the "
		     "bytes after it as its fields", iommu_dmar_type_name(type), off, length,
		     iommu_dmar_type_name(type), min_length(type));
	}
	return idx;
}

static void decode(struct dmar_ctx *c, int idx)
{
	struct iommu_dmar_struct *st = &c->d->structs[idx];
	size_t avail = st->length;

	if (st->offset + avail > c->end)
		avail = c->end - st->offset;
	switch (st->type) {
	case IOMMU_DMAR_DRHD:
		decode_drhd(c, idx, st->raw, avail);
		break;
	case IOMMU_DMAR_RMRR:
		decode_rmrr(c, idx, st->raw, avail);
		break;
	case IOMMU_DMAR_ATSR:
	case IOMMU_DMAR_SATC:
	case IOMMU_DMAR_SIDP:
		decode_atsr_like(c, idx, st->raw, avail);
		break;
	case IOMMU_DMAR_RHSA:
		decode_rhsa(c, idx, st->raw, avail);
		break;
	case IOMMU_DMAR_ANDD:
		decode_andd(c, idx, st->raw, avail);
		break;
	default:
		DIAG(c, IOMMU_DIAG_NOTE, st->offset, idx,
		     "structure at 0x%zx has type %u, which this version does not know: skipped, "
		     "as the kernel skips it", st->offset, st->type);
		break;
	}
}

static void check_table(struct dmar_ctx *c)
{
	struct iommu_dmar *d = c->d;
	size_t n_drhd = 0;

	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *st = &d->structs[i];

		if (st->type == IOMMU_DMAR_DRHD && !st->truncated && !st->duplicate)
			n_drhd++;
	}
	if (n_drhd == 0) {
		DIAG(c, IOMMU_DIAG_FATAL, IOMMU_DMAR_HEADER_LEN, -1,
		     "no DRHD structure: the kernel warns (\"No DRHD structure found in DMAR table\") "
		     "and finds no DMAR device");
		d->refused = true;
	}
	/* Several INCLUDE_PCI_ALL units of one segment: the first one wins. */
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *a = &d->structs[i];

		if (a->type != IOMMU_DMAR_DRHD || a->truncated || a->duplicate ||
		    !(a->flags & DRHD_FLAGS_INCLUDE_ALL))
			continue;
		for (size_t k = i + 1; k < d->n_structs; k++) {
			const struct iommu_dmar_struct *b = &d->structs[k];

			if (b->type == IOMMU_DMAR_DRHD && !b->truncated && !b->duplicate &&
			    (b->flags & DRHD_FLAGS_INCLUDE_ALL) && b->segment == a->segment)
				DIAG(c, IOMMU_DIAG_NOTE, b->offset, (int)k,
				     "DRHD at 0x%zx: a second INCLUDE_PCI_ALL unit for segment %04x (the first is "
				     "at 0x%zx): the kernel matches devices to the first only",
				     b->offset, b->segment, a->offset);
		}
	}
	/* Namespace scopes refer to ANDD device numbers. */
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *st = &d->structs[i];

		for (size_t k = 0; k < st->n_scopes; k++) {
			const struct iommu_dmar_scope *sc = &st->scopes[k];
			bool found = false;

			if (sc->type != IOMMU_SCOPE_NAMESPACE)
				continue;
			for (size_t j = 0; j < d->n_structs && !found; j++)
				found = d->structs[j].type == IOMMU_DMAR_ANDD && !d->structs[j].truncated &&
					d->structs[j].acpi_device_number == sc->enumeration_id;
			if (!found)
				DIAG(c, IOMMU_DIAG_NOTE, sc->offset, (int)i,
				     "%s at 0x%zx: namespace scope at 0x%zx names ACPI device number %u, which no "
				     "ANDD declares: it names no device", iommu_dmar_type_name(st->type),
				     st->offset, sc->offset, sc->enumeration_id);
		}
	}
}

int iommu_dmar_parse(const uint8_t *data, size_t len, struct iommu_dmar **out,
		     struct iommu_error *err)
{
	struct dmar_ctx c = { 0 };
	struct iommu_dmar *d;
	size_t cap = 0, off;

	*out = NULL;
	if (len < IOMMU_ACPI_HEADER_LEN)
		return iommu_error_set(err, -EINVAL,
				       "DMAR: %zu bytes, shorter than the 36-byte ACPI table header", len);
	if (memcmp(data, "DMAR", 4)) {
		char sig[5];

		for (int i = 0; i < 4; i++)
			sig[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
		sig[4] = '\0';
		return iommu_error_set(err, -EINVAL, "signature '%s', not a DMAR table", sig);
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return iommu_error_set(err, -ENOMEM, "DMAR: out of memory");
	d->data = malloc(len);
	if (!d->data) {
		free(d);
		return iommu_error_set(err, -ENOMEM, "DMAR: out of memory");
	}
	memcpy(d->data, data, len);
	d->len = len;
	c.d = d;
	/* ACPICA verifies table checksums when tables are installed, warns and
	 * goes on (acpi_tb_verify_checksum); the DMAR code does not check. */
	c.end = fw_check_header(d->data, len, &d->header, &c.diags, IOMMU_DIAG_WARN,
				"ACPICA warns (\"Incorrect checksum in table [DMAR]\") and the kernel "
				"uses the table", &d->refused);
	if (c.end < IOMMU_DMAR_HEADER_LEN) {
		DIAG(&c, IOMMU_DIAG_FATAL, ACPI_HDR_LENGTH, -1,
		     "table header: %zu bytes, shorter than the 48-byte DMAR header: the kernel "
		     "cannot use the table", c.end);
		d->refused = true;
		if (c.end > DMAR_HOST_ADDRESS_WIDTH)
			d->host_address_width = d->data[DMAR_HOST_ADDRESS_WIDTH];
		if (c.end > DMAR_FLAGS)
			d->flags = d->data[DMAR_FLAGS];
		goto done;
	}
	d->host_address_width = d->data[DMAR_HOST_ADDRESS_WIDTH];
	d->flags = d->data[DMAR_FLAGS];
	if (d->host_address_width < DMAR_MIN_WIDTH) {
		DIAG(&c, IOMMU_DIAG_FATAL, DMAR_HOST_ADDRESS_WIDTH, -1,
		     "table header: host address width field %u (width %u): the kernel refuses the "
		     "table (\"Invalid DMAR haw\")", d->host_address_width, d->host_address_width + 1);
		d->refused = true;
	}
	if (IOMMU_FIELD_GET(DMAR_FLAGS_RESERVED, d->flags))
		DIAG(&c, IOMMU_DIAG_NOTE, DMAR_FLAGS, -1,
		     "table header: reserved flag bits set (flags 0x%02x)", d->flags);
	for (size_t i = 0; i < DMAR_RESERVED_LEN; i++)
		if (d->data[DMAR_RESERVED + i]) {
			DIAG(&c, IOMMU_DIAG_NOTE, DMAR_RESERVED + i, -1,
			     "table header: reserved bytes 38-47 are not zero");
			break;
		}

	/* dmar_walk_remapping_entries */
	off = IOMMU_DMAR_HEADER_LEN;
	while (off < c.end && !c.oom) {
		uint16_t type, length;
		int idx;

		if (c.end - off < RS_HEADER_LEN) {
			DIAG(&c, IOMMU_DIAG_FATAL, off, -1,
			     "%zu bytes at 0x%zx are too few for a structure header: the kernel reads the "
			     "rest of the header past the table end", c.end - off, off);
			d->refused = true;
			break;
		}
		type = iommu_le16(d->data + off + RS_TYPE);
		length = iommu_le16(d->data + off + RS_LENGTH);
		if (length == 0) {
			DIAG(&c, IOMMU_DIAG_WARN, off, -1,
			     "structure at 0x%zx (type %u) has length 0: the kernel stops there (\"Invalid "
			     "0-length structure\", debug level) and ignores the %zu bytes from there on",
			     off, type, c.end - off);
			break;
		}
		if ((size_t)length > c.end - off) {
			idx = add_struct(&c, &cap, off, type, length, c.end - off);
			if (idx < 0)
				break;
			DIAG(&c, IOMMU_DIAG_FATAL, off + RS_LENGTH, idx,
			     "%s at 0x%zx: length %u runs past the table end at 0x%zx: the kernel refuses "
			     "the table (\"Record passes table end\")", iommu_dmar_type_name(type), off,
			     length, c.end);
			d->refused = true;
			decode(&c, idx);
			break;
		}
		idx = add_struct(&c, &cap, off, type, length, length);
		if (idx < 0)
			break;
		decode(&c, idx);
		off += length;
	}
	if (!c.oom)
		check_table(&c);
done:
	d->diags = c.diags.v;
	d->n_diags = c.diags.n;
	if (c.oom || c.diags.oom) {
		iommu_dmar_free(d);
		return iommu_error_set(err, -ENOMEM, "DMAR: out of memory");
	}
	*out = d;
	return 0;
}

void iommu_dmar_free(struct iommu_dmar *dmar)
{
	if (!dmar)
		return;
	for (size_t i = 0; i < dmar->n_structs; i++) {
		struct iommu_dmar_struct *st = &dmar->structs[i];

		for (size_t k = 0; k < st->n_scopes; k++)
			free(st->scopes[k].path);
		free(st->scopes);
		free(st->object_name);
	}
	free(dmar->structs);
	free(dmar->diags);
	free(dmar->data);
	free(dmar);
}
