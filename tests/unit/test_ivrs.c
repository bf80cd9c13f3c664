// SPDX-License-Identifier: MIT
/*
 * IVRS decoding, validation and the kernel's per-segment tables, on
 * tables built here byte by byte (AMD IOMMU specification 5.2), each
 * rule with its kernel source (drivers/iommu/amd/init.c), and the cases
 * P12-P15 of ../shared/reference/linux-iommu-behaviour.md 10.5.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/firmware.h"

/* ------------------------------------------------------------------ */
/* An IVRS table builder                                                */

struct tb {
	uint8_t b[8192];
	size_t n;
};

static void w8(struct tb *t, size_t off, uint8_t v)
{
	t->b[off] = v;
	if (off + 1 > t->n)
		t->n = off + 1;
}

static void w16(struct tb *t, size_t off, uint16_t v)
{
	w8(t, off, (uint8_t)v);
	w8(t, off + 1, (uint8_t)(v >> 8));
}

static void w32(struct tb *t, size_t off, uint32_t v)
{
	w16(t, off, (uint16_t)v);
	w16(t, off + 2, (uint16_t)(v >> 16));
}

static void w64(struct tb *t, size_t off, uint64_t v)
{
	w32(t, off, (uint32_t)v);
	w32(t, off + 4, (uint32_t)(v >> 32));
}

static void tb_header(struct tb *t, uint32_t ivinfo)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "IVRS", 4);
	w8(t, 8, 2);
	memcpy(t->b + 10, "AMD   ", 6);
	memcpy(t->b + 16, "TESTIVRS", 8);
	w32(t, 24, 1);
	memcpy(t->b + 28, "TEST", 4);
	w32(t, 32, 3);
	w32(t, 36, ivinfo);
	t->n = 48;
}

/* An IVHD of @type for the IOMMU at @devid; entries follow. */
static size_t tb_ivhd(struct tb *t, uint8_t type, uint16_t devid, uint16_t seg, uint64_t base)
{
	size_t off = t->n, len = type == 0x10 ? 24 : 40;

	w8(t, off, type);
	w8(t, off + 1, 0xb0);
	w16(t, off + 2, (uint16_t)len);
	w16(t, off + 4, devid);
	w16(t, off + 6, 0x40);
	w64(t, off + 8, base);
	w16(t, off + 16, seg);
	w16(t, off + 18, 0x1300);
	w32(t, off + 20, 0x80048f6e);
	if (type != 0x10) {
		w64(t, off + 24, 0x004f77ef22294adaull);
		w64(t, off + 32, 0x5);
	}
	t->n = off + len;
	return off;
}

static void tb_end(struct tb *t, size_t off)
{
	w16(t, off + 2, (uint16_t)(t->n - off));
}

static size_t e4(struct tb *t, uint8_t type, uint16_t devid, uint8_t dte)
{
	size_t off = t->n;

	w8(t, off, type);
	w16(t, off + 1, devid);
	w8(t, off + 3, dte);
	return off;
}

static size_t e8(struct tb *t, uint8_t type, uint16_t devid, uint8_t dte, uint32_t ext)
{
	size_t off = e4(t, type, devid, dte);

	w32(t, off + 4, ext);
	return off;
}

static size_t e_hid(struct tb *t, uint16_t devid, uint8_t dte, const char *hid, const char *cid,
		    uint8_t uidf, const void *uid, uint8_t uidl)
{
	size_t off = e4(t, 0xf0, devid, dte);

	memcpy(t->b + off + 4, hid, strlen(hid));
	if (cid)
		memcpy(t->b + off + 12, cid, strlen(cid));
	w8(t, off + 20, uidf);
	w8(t, off + 21, uidl);
	if (uidl)
		memcpy(t->b + off + 22, uid, uidl);
	t->n = off + 22 + uidl;
	return off;
}

static size_t tb_ivmd(struct tb *t, uint8_t type, uint8_t flags, uint16_t devid, uint16_t aux,
		      uint16_t seg, uint64_t start, uint64_t len)
{
	size_t off = t->n;

	w8(t, off, type);
	w8(t, off + 1, flags);
	w16(t, off + 2, 32);
	w16(t, off + 4, devid);
	w16(t, off + 6, aux);
	w16(t, off + 8, seg);
	w64(t, off + 16, start);
	w64(t, off + 24, len);
	t->n = off + 32;
	return off;
}

static void tb_finish(struct tb *t)
{
	uint8_t sum = 0;

	w32(t, 4, (uint32_t)t->n);
	t->b[9] = 0;
	for (size_t i = 0; i < t->n; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)(0x100 - sum);
}

static struct iommu_ivrs *parse_ok(const struct tb *t)
{
	struct iommu_ivrs *r = NULL;
	struct iommu_error err;

	assert_int_equal(iommu_ivrs_parse(t->b, t->n, &r, &err), 0);
	assert_non_null(r);
	return r;
}

static const struct iommu_diag *find_diag(const struct iommu_ivrs *r, enum iommu_diag_severity sev,
					  int idx, const char *text)
{
	for (size_t i = 0; i < r->n_diags; i++)
		if (r->diags[i].severity == sev && r->diags[i].structure == idx &&
		    strstr(r->diags[i].msg, text))
			return &r->diags[i];
	return NULL;
}

static void print_diags(const struct iommu_ivrs *r)
{
	for (size_t i = 0; i < r->n_diags; i++)
		print_message("  %s [0x%zx] s%d %s\n", iommu_diag_severity_name(r->diags[i].severity),
			      r->diags[i].offset, r->diags[i].structure, r->diags[i].msg);
}

static size_t count_bad(const struct iommu_ivrs *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_diags; i++)
		n += r->diags[i].severity != IOMMU_DIAG_NOTE;
	return n;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                             */

static void test_decode_everything(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;
	const struct iommu_ivrs_block *b;
	const struct iommu_ivhd_entry *e;
	size_t h10, h11, h40, m0, m1, m2;
	static const uint8_t uid_int[] = { 0x34, 0x12 };

	(void)state;
	tb_header(&t, 0x00203041);
	h10 = tb_ivhd(&t, 0x10, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x00, 0, 0);                                     /* padding */
	e4(&t, 0x01, 0, 0x01);                                  /* all */
	e4(&t, 0x02, 0x00a0, 0xd7);                             /* select */
	e4(&t, 0x03, 0x0100, 0x00);                             /* range start */
	e4(&t, 0x04, 0x01ff, 0x00);                             /* range end */
	e8(&t, 0x42, 0x0300, 0x00, 0x00020100 | 0);             /* alias select -> 0201 */
	e8(&t, 0x43, 0x0400, 0x00, 0x0003ff00);                 /* alias range -> 03ff */
	e4(&t, 0x04, 0x04ff, 0x00);
	e8(&t, 0x46, 0x0500, 0x00, 0x80000000);                 /* extended select, ATS disabled */
	e8(&t, 0x47, 0x0600, 0x00, 0x00000001);                 /* extended range */
	e4(&t, 0x04, 0x06ff, 0x00);
	e8(&t, 0x48, 0x0000, 0xd7, 0x0100a021);                 /* P15: IOAPIC 0x21 at 00:14.0 */
	e8(&t, 0x48, 0x0000, 0x00, 0x0200a000);                 /* HPET 0 at 00:14.0 */
	tb_end(&t, h10);
	h11 = tb_ivhd(&t, 0x11, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x03, 0x0008, 0);
	e4(&t, 0x04, 0xfffe, 0);
	tb_end(&t, h11);
	h40 = tb_ivhd(&t, 0x40, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x03, 0x0008, 0);
	e4(&t, 0x04, 0xfffe, 0);
	e_hid(&t, 0x00a5, 0x40, "AMDI0020", NULL, 2, "\\_SB.FUR0", 9);
	e_hid(&t, 0x00a6, 0x40, "AMDI0030", "PNP0C09", 1, uid_int, 2);
	e_hid(&t, 0x00a7, 0x00, "AMDI0040", NULL, 0, NULL, 0);
	tb_end(&t, h40);
	m0 = tb_ivmd(&t, 0x20, 0x07, 0, 0, 0, 0x000f0000, 0x10000);
	m1 = tb_ivmd(&t, 0x21, 0x08, 0x0100, 0, 0, 0xc9f42000, 0x26000);
	m2 = tb_ivmd(&t, 0x22, 0x07, 0x0200, 0x0201, 0, 0x3fff0000, 0x10000);
	tb_finish(&t);

	r = parse_ok(&t);
	print_diags(r);
	assert_false(r->refused);
	assert_true(r->header.checksum_ok);
	assert_string_equal(r->header.signature, "IVRS");
	assert_int_equal(r->header.revision, 2);
	assert_string_equal(r->header.oem_table_id, "TESTIVRS");
	assert_int_equal(r->iv_info, 0x00203041);
	assert_int_equal(r->n_blocks, 6);

	b = &r->blocks[0];
	assert_int_equal(b->offset, h10);
	assert_int_equal(b->type, 0x10);
	assert_int_equal(b->flags, 0xb0);
	assert_int_equal(b->device_id, 0x0002);
	assert_int_equal(b->capability_offset, 0x40);
	assert_int_equal(b->base_address, 0xfeb80000);
	assert_int_equal(b->pci_segment, 0);
	assert_int_equal(b->iommu_info, 0x1300);
	assert_int_equal(b->iommu_attributes, 0x80048f6e);
	assert_int_equal(b->efr_register, 0);
	assert_int_equal(b->n_entries, 13);
	assert_ptr_equal(b->raw, r->data + h10);
	e = b->entries;
	assert_int_equal(e[0].type, 0x00);
	assert_int_equal(e[0].length, 4);
	assert_int_equal(e[1].type, IOMMU_IVHD_DEV_ALL);
	assert_int_equal(e[1].data_setting, 0x01);
	assert_int_equal(e[2].device_id, 0x00a0);
	assert_int_equal(e[2].data_setting, 0xd7);
	assert_int_equal(e[3].offset, h10 + 24 + 12);
	assert_int_equal(e[5].type, IOMMU_IVHD_DEV_ALIAS);
	assert_int_equal(e[5].length, 8);
	assert_int_equal(e[5].alias_id, 0x0201);
	assert_int_equal(e[6].alias_id, 0x03ff);
	assert_int_equal(e[8].type, IOMMU_IVHD_DEV_EXT_SELECT);
	assert_int_equal(e[8].ext_data, 0x80000000);
	assert_int_equal(e[9].ext_data, 1);
	assert_int_equal(e[11].type, IOMMU_IVHD_DEV_SPECIAL);
	assert_int_equal(e[11].special_handle, 0x21);
	assert_int_equal(e[11].special_device_id, 0x00a0);
	assert_int_equal(e[11].special_variety, IOMMU_IVHD_SPECIAL_IOAPIC);
	assert_int_equal(e[11].data_setting, 0xd7);
	assert_int_equal(e[12].special_variety, IOMMU_IVHD_SPECIAL_HPET);
	assert_int_equal(e[12].special_handle, 0);

	b = &r->blocks[1];
	assert_int_equal(b->type, 0x11);
	assert_int_equal(b->efr_register, 0x004f77ef22294adaull);
	assert_int_equal(b->efr_register2, 5);
	assert_int_equal(b->n_entries, 2);

	b = &r->blocks[2];
	assert_int_equal(b->type, 0x40);
	assert_int_equal(b->n_entries, 5);
	e = &b->entries[2];
	assert_int_equal(e->type, IOMMU_IVHD_DEV_ACPI_HID);
	assert_int_equal(e->device_id, 0x00a5);
	assert_int_equal(e->data_setting, 0x40);
	assert_string_equal(e->hid, "AMDI0020");
	assert_string_equal(e->cid, "");
	assert_int_equal(e->uid_format, 2);
	assert_int_equal(e->uid_length, 9);
	assert_string_equal(e->uid, "\\_SB.FUR0");
	assert_int_equal(e->length, 31);
	e = &b->entries[3];
	assert_string_equal(e->cid, "PNP0C09");
	assert_int_equal(e->uid_format, 1);
	assert_string_equal(e->uid, "4660");
	e = &b->entries[4];
	assert_null(e->uid);
	assert_int_equal(e->length, 22);

	b = &r->blocks[3];
	assert_int_equal(b->offset, m0);
	assert_int_equal(b->type, IOMMU_IVMD_ALL);
	assert_int_equal(b->flags, 7);
	assert_int_equal(b->start_address, 0xf0000);
	assert_int_equal(b->memory_length, 0x10000);
	b = &r->blocks[4];
	assert_int_equal(b->offset, m1);
	assert_int_equal(b->device_id, 0x0100);
	b = &r->blocks[5];
	assert_int_equal(b->offset, m2);
	assert_int_equal(b->aux_data, 0x0201);

	/* P12: 10h, 11h and 40h for one IOMMU: the kernel uses 40h */
	assert_int_equal(iommu_ivrs_ivhd_type(r), 0x40);
	{
		size_t u[4];

		assert_int_equal(iommu_ivrs_units(r, u, 4), 1);
		assert_int_equal(u[0], 2);
	}
	assert_int_equal(count_bad(r), 0);
	assert_string_equal(iommu_ivrs_block_name(0x21), "IVMD select");
	assert_string_equal(iommu_ivhd_entry_name(0x43), "alias range start");
	iommu_ivrs_free(r);
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

static void base_table(struct tb *t)
{
	size_t o;

	tb_header(t, 0);
	o = tb_ivhd(t, 0x10, 0x0002, 0, 0xfeb80000);
	e4(t, 0x03, 0x0000, 0);
	e4(t, 0x04, 0x00ff, 0);
	tb_end(t, o);
}

static void test_header_rules(void **state)
{
	struct tb t;
	struct iommu_ivrs *r = (void *)1;
	struct iommu_error err;

	(void)state;
	base_table(&t);
	tb_finish(&t);
	for (size_t len = 0; len < 36; len++)
		assert_int_equal(iommu_ivrs_parse(t.b, len, &r, &err), -EINVAL);
	assert_null(r);
	memcpy(t.b, "DMAR", 4);
	assert_int_equal(iommu_ivrs_parse(t.b, t.n, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an IVRS"));

	/* the kernel checks the checksum itself and refuses the table */
	base_table(&t);
	tb_finish(&t);
	t.b[9]++;
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "IVRS invalid checksum"));
	iommu_ivrs_free(r);

	/* shorter than the IVRS header */
	base_table(&t);
	t.n = 44;
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "48-byte IVRS header"));
	iommu_ivrs_free(r);

	/* cut short */
	base_table(&t);
	tb_finish(&t);
	assert_int_equal(iommu_ivrs_parse(t.b, t.n - 1, &r, NULL), 0);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "truncated"));
	iommu_ivrs_free(r);
}

static void test_block_rules(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;
	size_t o;

	(void)state;
	/* length 0: every kernel walk loops forever */
	base_table(&t);
	o = tb_ivmd(&t, 0x21, 0x07, 0x10, 0, 0, 0x1000, 0x1000);
	w16(&t, o + 2, 0);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_int_equal(find_diag(r, IOMMU_DIAG_FATAL, -1, "boot hangs")->offset, o + 2);
	iommu_ivrs_free(r);

	/* past the table end */
	base_table(&t);
	o = tb_ivmd(&t, 0x21, 0x07, 0x10, 0, 0, 0x1000, 0x1000);
	w16(&t, o + 2, 64);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->blocks[1].truncated);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 1, "runs past the table end"));
	iommu_ivrs_free(r);

	/* too short for their types */
	base_table(&t);
	o = tb_ivmd(&t, 0x22, 0x07, 0x10, 0x20, 0, 0x1000, 0x1000);
	w16(&t, o + 2, 24);
	t.n = o + 24;
	o = tb_ivhd(&t, 0x11, 0x0002, 0, 0xfeb80000);
	w16(&t, o + 2, 24);
	t.n = o + 24;
	tb_finish(&t);
	r = parse_ok(&t);
	print_diags(r);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 1, "too short for its type (32 bytes)"));
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 2, "too short for its type (40 bytes)"));
	assert_true(r->blocks[2].truncated);
	/* the truncated 11h block still counts for the choice, but makes no unit */
	assert_int_equal(iommu_ivrs_ivhd_type(r), 0x11);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "no usable IVHD block of type 11h"));
	iommu_ivrs_free(r);

	/* stray bytes, an unknown block, no IVHD */
	base_table(&t);
	o = t.n;
	w8(&t, o, 0x51);
	w16(&t, o + 2, 8);
	t.n = o + 8 + 2;
	tb_finish(&t);
	r = parse_ok(&t);
	assert_non_null(find_diag(r, IOMMU_DIAG_NOTE, 1, "type 0x51"));
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "too few for a block header"));
	iommu_ivrs_free(r);
	tb_header(&t, 0);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "no IVHD block"));
	iommu_ivrs_free(r);
}

static void test_entry_rules(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;
	size_t o, e;

	(void)state;
	/* a type without a length, in the block the kernel uses: it hangs */
	base_table(&t);
	o = tb_ivhd(&t, 0x10, 0x0003, 0, 0xfeb90000);
	e4(&t, 0x02, 0x0300, 0);
	e = e4(&t, 0x85, 0x0301, 0);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_int_equal(find_diag(r, IOMMU_DIAG_FATAL, 1, "boot hangs")->offset, e);
	iommu_ivrs_free(r);
	/* ... in a block of a type it does not use: no hang */
	base_table(&t);
	o = tb_ivhd(&t, 0x11, 0x0003, 0, 0xfeb90000);
	e4(&t, 0x85, 0x0301, 0);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_int_equal(iommu_ivrs_ivhd_type(r), 0x10);
	assert_false(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 1, "does not use this block"));
	iommu_ivrs_free(r);

	/* an entry running past its block into the next one (whose header is
	 * the entry's last 4 bytes), and one running past the table */
	base_table(&t);
	o = tb_ivhd(&t, 0x10, 0x0003, 0, 0xfeb90000);
	e4(&t, 0x02, 0x0300, 0);
	e = e8(&t, 0x42, 0x0301, 0, 0x00080051);        /* bytes 4-7: 51 00 08 00 */
	w16(&t, o + 2, (uint16_t)(e + 4 - o));
	t.n = e + 12;
	tb_finish(&t);
	r = parse_ok(&t);
	print_diags(r);
	assert_int_equal(r->n_blocks, 3);
	assert_int_equal(r->blocks[2].type, 0x51);
	assert_int_equal(r->blocks[2].offset, e + 4);
	assert_int_equal(r->blocks[1].n_entries, 2);
	assert_int_equal(r->blocks[1].entries[1].alias_id, 0x0800);
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 1, "runs 4 bytes past the end of its block"));
	iommu_ivrs_free(r);
	base_table(&t);
	o = tb_ivhd(&t, 0x10, 0x0003, 0, 0xfeb90000);
	e4(&t, 0x02, 0x0300, 0);
	e = e8(&t, 0x42, 0x0301, 0, 0x030200);
	t.n = e + 6;
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 1, "runs past the table end"));
	iommu_ivrs_free(r);

	/* ACPI HID entries: outside a 40h block, an empty HID, a UID length without UID */
	base_table(&t);
	o = tb_ivhd(&t, 0x10, 0x0003, 0, 0xfeb90000);
	e4(&t, 0x02, 0x0300, 0);
	e_hid(&t, 0x00a5, 0, "AMDI0020", NULL, 0, NULL, 0);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 1, "Invalid IVHD device type 0xf0"));
	iommu_ivrs_free(r);
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x40, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x02, 0x0300, 0);
	e_hid(&t, 0x00a5, 0, "", NULL, 0, NULL, 0);
	e = e_hid(&t, 0x00a6, 0, "AMDI0020", NULL, 0, "xy", 2);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 0, "Invalid HID"));
	assert_int_equal(find_diag(r, IOMMU_DIAG_WARN, 0, "Invalid UID length")->offset, e);
	iommu_ivrs_free(r);
	/* an ACPI HID entry whose UID length byte is past the table */
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x40, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x02, 0x0300, 0);
	e = e4(&t, 0xf0, 0x00a5, 0);
	t.n = e + 10;
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 0, "cut by the table end"));
	iommu_ivrs_free(r);

	/* ranges: an end without a start, a reversed range, a start never closed */
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x10, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x04, 0x0010, 0);
	e4(&t, 0x03, 0x0200, 0);
	e4(&t, 0x04, 0x0100, 0);
	e4(&t, 0x04, 0x0300, 0);
	e4(&t, 0x47, 0x0400, 0);
	t.n += 4;
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	print_diags(r);
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 0, "no range start before it"));
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 0, "ends before it starts"));
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 0, "follows another range end"));
	assert_non_null(find_diag(r, IOMMU_DIAG_NOTE, 0, "never closed"));
	iommu_ivrs_free(r);

	/* a special entry of another variety: add_special_device fails */
	base_table(&t);
	w16(&t, 50, 24 + 8 + 8);
	e8(&t, 0x48, 0, 0, 0x0300a000);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 0, "variety 3"));
	iommu_ivrs_free(r);

	/* no entry the kernel sizes its tables by: find_last_devid_acpi fails */
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x10, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x03, 0x0000, 0);
	e8(&t, 0x48, 0, 0, 0x0100a000);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, 0, "find_last_devid_acpi"));
	iommu_ivrs_free(r);
}

static void test_ivmd_rules(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;

	(void)state;
	base_table(&t);
	tb_ivmd(&t, 0x21, 0x06, 0x10, 0, 0, 0x1000, 0x1000);        /* neither unity nor exclusion */
	tb_ivmd(&t, 0x22, 0x07, 0x20, 0x10, 0, 0x1000, 0x1000);     /* reversed */
	tb_ivmd(&t, 0x21, 0x07, 0x10, 0, 0, 0x1800, 0x0800);        /* unaligned */
	tb_finish(&t);
	r = parse_ok(&t);
	assert_non_null(find_diag(r, IOMMU_DIAG_NOTE, 1, "the kernel ignores it"));
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 2, "end before they start"));
	assert_non_null(find_diag(r, IOMMU_DIAG_NOTE, 3, "rounds both up"));
	assert_false(r->refused);
	iommu_ivrs_free(r);
}

static void test_more_rules(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;
	size_t o;

	(void)state;
	/* base address 0, reserved header bytes, a range start after a range start */
	tb_header(&t, 0);
	w8(&t, 44, 1);
	o = tb_ivhd(&t, 0x10, 0x0002, 0, 0);
	e4(&t, 0x03, 0x0100, 0);
	e8(&t, 0x47, 0x0200, 0, 0x80000000);
	e4(&t, 0x04, 0x02ff, 0);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	print_diags(r);
	assert_non_null(find_diag(r, IOMMU_DIAG_WARN, 0, "base address 0"));
	assert_non_null(find_diag(r, IOMMU_DIAG_NOTE, -1, "reserved bytes 40-47"));
	assert_non_null(find_diag(r, IOMMU_DIAG_NOTE, 0, "the kernel forgets the first"));
	assert_string_equal(iommu_ivhd_entry_name(r->blocks[0].entries[1].type), "extended range start");
	assert_int_equal(r->blocks[0].entries[1].ext_data, 0x80000000);
	{
		struct iommu_ivrs_map *m;

		assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
		/* the extended range start replaced the first start */
		assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0150), -1);
		assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0250), 0);
		iommu_ivrs_map_free(m);
	}
	iommu_ivrs_free(r);

	/* more IOMMUs than the kernel's 32 */
	tb_header(&t, 0);
	for (int i = 0; i < 33; i++) {
		o = tb_ivhd(&t, 0x10, (uint16_t)(0x0002 + i), (uint16_t)i, 0xfeb80000 + 0x1000 * (uint64_t)i);
		e4(&t, 0x02, 0x0010, 0);
		tb_end(&t, o);
	}
	tb_finish(&t);
	r = parse_ok(&t);
	assert_true(r->refused);
	assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "more than the kernel's 32"));
	{
		size_t u[40];
		struct iommu_ivrs_map *m;

		assert_int_equal(iommu_ivrs_units(r, u, 40), 33);
		assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
		assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0010), -1);
		iommu_ivrs_map_free(m);
	}
	iommu_ivrs_free(r);
}

/* ------------------------------------------------------------------ */
/* The IVHD type the kernel chooses                                     */

static uint8_t chosen(const uint8_t *types, const uint16_t *devids, size_t n)
{
	struct tb t;
	struct iommu_ivrs *r;
	uint8_t ty;

	tb_header(&t, 0);
	for (size_t i = 0; i < n; i++) {
		size_t o;

		if (types[i] >= 0x20 && types[i] <= 0x22) {
			tb_ivmd(&t, types[i], 0x07, devids[i], 0, 0, 0x1000, 0x1000);
			continue;
		}
		if (types[i] == 0x51) {
			o = t.n;
			w8(&t, o, 0x51);
			w16(&t, o + 2, 8);
			w16(&t, o + 4, devids[i]);
			t.n = o + 8;
			continue;
		}
		o = tb_ivhd(&t, types[i], devids[i], 0, 0xfeb80000 + i * 0x1000);
		e4(&t, 0x02, 0x0010, 0);
		tb_end(&t, o);
	}
	tb_finish(&t);
	r = parse_ok(&t);
	ty = iommu_ivrs_ivhd_type(r);
	iommu_ivrs_free(r);
	return ty;
}

static void test_ivhd_type_choice(void **state)
{
	(void)state;
	/* P12 */
	assert_int_equal(chosen((const uint8_t[]){ 0x10, 0x11 }, (const uint16_t[]){ 2, 2 }, 2), 0x11);
	assert_int_equal(chosen((const uint8_t[]){ 0x10, 0x11, 0x10, 0x11 },
				(const uint16_t[]){ 2, 2, 3, 3 }, 4), 0x11);
	/* only blocks of the first IOMMU count */
	assert_int_equal(chosen((const uint8_t[]){ 0x10, 0x40 }, (const uint16_t[]){ 2, 3 }, 2), 0x10);
	/* the walk stops at the first type above 40h */
	assert_int_equal(chosen((const uint8_t[]){ 0x10, 0x51, 0x11 }, (const uint16_t[]){ 2, 2, 2 }, 3), 0x10);
	/* the last one seen wins, not the highest */
	assert_int_equal(chosen((const uint8_t[]){ 0x40, 0x10 }, (const uint16_t[]){ 2, 2 }, 2), 0x10);
	/* an IVMD with the first IOMMU's device id: the kernel lands on 21h */
	assert_int_equal(chosen((const uint8_t[]){ 0x10, 0x21 }, (const uint16_t[]){ 2, 2 }, 2), 0x21);
	assert_int_equal(chosen((const uint8_t[]){ 0x10, 0x21 }, (const uint16_t[]){ 2, 0x10 }, 2), 0x10);
	{
		struct tb t;
		struct iommu_ivrs *r;

		base_table(&t);
		tb_ivmd(&t, 0x21, 0x07, 0x0002, 0, 0, 0x1000, 0x1000);
		tb_finish(&t);
		r = parse_ok(&t);
		assert_true(r->refused);
		assert_non_null(find_diag(r, IOMMU_DIAG_FATAL, -1, "lands on type 0x21"));
		iommu_ivrs_free(r);
	}
}

/* ------------------------------------------------------------------ */
/* The kernel's tables                                                  */

static void test_map(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;
	struct iommu_ivrs_map *m;
	const struct iommu_ivrs_block *iv[8];
	uint64_t s, e;
	size_t o;

	(void)state;
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x10, 0x0002, 0, 0xfeb80000);           /* block 0 */
	e4(&t, 0x02, 0x0002, 0);                                /* the IOMMU itself */
	e4(&t, 0x02, 0x0008, 0x01);
	e4(&t, 0x03, 0x0100, 0x04);                             /* P13 */
	e4(&t, 0x04, 0x01ff, 0);
	e8(&t, 0x43, 0x0800, 0x00, 0x070000);                   /* P14: 0800-08ff -> 0700 */
	e4(&t, 0x04, 0x08ff, 0);
	e8(&t, 0x42, 0x0a00, 0x00, 0x09ff00);                   /* alias select 0a00 -> 09ff */
	e8(&t, 0x48, 0, 0x00, 0x0100a021);                      /* IOAPIC at 00:14.0 */
	e4(&t, 0x02, 0x0008, 0x80);                             /* flags accumulate */
	tb_end(&t, o);
	o = tb_ivhd(&t, 0x10, 0x0040, 0, 0xfeb90000);           /* block 1 */
	e4(&t, 0x02, 0x0150, 0);                                /* overrides block 0 */
	e4(&t, 0x02, 0x0c00, 0);
	tb_end(&t, o);
	o = tb_ivhd(&t, 0x10, 0x0002, 1, 0xfeba0000);           /* block 2: segment 1 */
	e4(&t, 0x01, 0, 0);
	tb_end(&t, o);
	tb_ivmd(&t, 0x21, 0x07, 0x0150, 0, 0, 0x000f0000, 0x10000);   /* 3 */
	tb_ivmd(&t, 0x22, 0x07, 0x0100, 0x0180, 0, 0x3fff0000, 0x800); /* 4 */
	tb_ivmd(&t, 0x20, 0x08, 0, 0, 1, 0x3d000001, 0x1000);          /* 5: segment 1 */
	tb_ivmd(&t, 0x21, 0x06, 0x0150, 0, 0, 0x5000, 0x1000);         /* 6: no unity/exclusion */
	tb_finish(&t);
	r = parse_ok(&t);
	print_diags(r);
	assert_false(r->refused);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);

	assert_int_equal(iommu_ivrs_map_last_bdf(m, 0), 0x0c00);
	assert_int_equal(iommu_ivrs_map_last_bdf(m, 1), 0xffff);
	assert_int_equal(iommu_ivrs_map_last_bdf(m, 2), 0);
	/* the IOMMUs' own functions are cleared */
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0002), -1);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 1, 0x0002), -1);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 1, 0x0003), 2);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0008), 0);
	assert_int_equal(iommu_ivrs_map_dte(m, 0, 0x0008), 0x81);
	/* P13 */
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x00ff), -1);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0100), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x01ff), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0200), -1);
	assert_int_equal(iommu_ivrs_map_dte(m, 0, 0x0120), 0x04);
	/* a later entry overrides */
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0150), 1);
	/* P14 */
	assert_int_equal(iommu_ivrs_map_alias(m, 0, 0x0800), 0x0700);
	assert_int_equal(iommu_ivrs_map_alias(m, 0, 0x08ff), 0x0700);
	assert_int_equal(iommu_ivrs_map_alias(m, 0, 0x0900), 0x0900);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0700), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0850), 0);
	assert_int_equal(iommu_ivrs_map_alias(m, 0, 0x0a00), 0x09ff);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x09ff), 0);
	/* P15: the IOAPIC's device is translated */
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x00a0), 0);
	/* a segment without IVHD */
	assert_int_equal(iommu_ivrs_map_ivhd(m, 2, 0x0008), -1);
	assert_int_equal(iommu_ivrs_map_alias(m, 2, 0x0008), 0x0008);

	/* IVMDs: by the device's own id, in its segment */
	assert_int_equal(iommu_ivrs_device_ivmds(r, m, 0, 0x0150, iv, 8), 2);
	assert_ptr_equal(iv[0], &r->blocks[3]);
	assert_ptr_equal(iv[1], &r->blocks[4]);
	assert_int_equal(iommu_ivrs_device_ivmds(r, m, 0, 0x0181, iv, 8), 0);
	assert_int_equal(iommu_ivrs_device_ivmds(r, m, 0, 0x0180, iv, 1), 1);
	assert_int_equal(iommu_ivrs_device_ivmds(r, m, 1, 0xfffe, iv, 8), 1);
	assert_ptr_equal(iv[0], &r->blocks[5]);
	iommu_ivrs_ivmd_range(&r->blocks[4], &s, &e);
	assert_int_equal(s, 0x3fff0000);
	assert_int_equal(e, 0x3fff1000);
	iommu_ivrs_ivmd_range(&r->blocks[5], &s, &e);
	assert_int_equal(s, 0x3d001000);
	assert_int_equal(e, 0x3d002000);
	iommu_ivrs_map_free(m);
	iommu_ivrs_free(r);

	/* a refused table gives an empty map */
	tb_header(&t, 0);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0), -1);
	assert_int_equal(iommu_ivrs_device_ivmds(r, m, 0, 0, iv, 8), 0);
	iommu_ivrs_map_free(m);
	iommu_ivrs_free(r);
}

/* The "all" entry maps 0..last_bdf; ACPI HID devices count only in 40h blocks. */
static void test_map_all_and_hid(void **state)
{
	struct tb t;
	struct iommu_ivrs *r;
	struct iommu_ivrs_map *m;
	size_t o;

	(void)state;
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x40, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x02, 0x0010, 0);
	e4(&t, 0x02, 0x00f0, 0);
	e_hid(&t, 0x00a5, 0x40, "AMDI0020", NULL, 2, "\\_SB.FUR0", 9);
	e_hid(&t, 0x00c0, 0x40, "", NULL, 0, NULL, 0);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
	assert_int_equal(iommu_ivrs_map_last_bdf(m, 0), 0x00f0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x00a5), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x00c0), -1);
	assert_int_equal(iommu_ivrs_map_dte(m, 0, 0x00a5), 0x40);
	iommu_ivrs_map_free(m);
	iommu_ivrs_free(r);

	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x11, 0x0002, 0, 0xfeb80000);
	e4(&t, 0x02, 0x0010, 0);
	e4(&t, 0x01, 0, 0x01);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
	assert_int_equal(iommu_ivrs_map_last_bdf(m, 0), 0xffff);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0xffff), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x1234), 0);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0002), -1);
	iommu_ivrs_map_free(m);
	iommu_ivrs_free(r);
}

/* On a real captured platform: the IOMMU's own function and devices above last_bdf. */
static void test_check_platform(void **state)
{
	char path[PATH_MAX];
	struct iommu_platform *p;
	struct iommu_error err;
	struct tb t;
	struct iommu_ivrs *r;
	struct iommu_ivrs_map *m;
	struct iommu_diag *dg;
	size_t o, ndg;
	bool own = false, above = false, missing = false, missing_entry = false;

	(void)state;
	if (!captures_dir()) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/lx-amd-server", captures_dir());
	if (iommu_platform_load_snapshot(path, &p, &err)) {
		print_message("%s\n", err.msg);
		fail();
	}
	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x10, 0x00f9, 0, 0xfed80000);   /* an IOMMU at 00:1f.1, which is not there */
	e4(&t, 0x02, 0x0000, 0);
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
	assert_int_equal(iommu_ivrs_check_platform(r, m, p, &dg, &ndg), 0);
	{
		bool absent = false;

		for (size_t i = 0; i < ndg; i++)
			absent |= strstr(dg[i].msg, "own function 0000:00:1f.1 is not on this platform") != NULL;
		assert_true(absent);
	}
	free(dg);
	iommu_ivrs_map_free(m);
	iommu_ivrs_free(r);

	tb_header(&t, 0);
	o = tb_ivhd(&t, 0x10, 0x0008, 0, 0xfed80000);   /* the IOMMU at 00:01.0 */
	e4(&t, 0x03, 0x0000, 0);
	e4(&t, 0x04, 0x00ff, 0);
	e4(&t, 0x02, 0x0777, 0);                        /* no such device */
	tb_end(&t, o);
	tb_finish(&t);
	r = parse_ok(&t);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
	assert_int_equal(iommu_ivrs_check_platform(r, m, p, &dg, &ndg), 0);
	for (size_t i = 0; i < ndg; i++) {
		print_message("  %s\n", dg[i].msg);
		own |= strstr(dg[i].msg, "is the IOMMU at 0000:00:01.0") != NULL;
		missing |= strstr(dg[i].msg, "names 0000:07:0e.7, which is not on this platform") != NULL;
		above |= strstr(dg[i].msg, "0000:09:00.0 (device id 0900) is above last_bdf 0777") != NULL;
		missing_entry |= strstr(dg[i].msg, "0000:07:00.0 (device id 0700) is in no device entry") != NULL;
	}
	assert_true(own);
	assert_true(missing);
	assert_true(above);
	assert_true(missing_entry);
	/* the IOMMU's own function and 00:00.0 in the range: */
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0008), -1);
	assert_int_equal(iommu_ivrs_map_ivhd(m, 0, 0x0000), 0);
	free(dg);
	iommu_ivrs_map_free(m);
	iommu_ivrs_free(r);
	iommu_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_everything),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_block_rules),
		cmocka_unit_test(test_entry_rules),
		cmocka_unit_test(test_ivmd_rules),
		cmocka_unit_test(test_more_rules),
		cmocka_unit_test(test_ivhd_type_choice),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_map_all_and_hid),
		cmocka_unit_test(test_check_platform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
