// SPDX-License-Identifier: MIT
/*
 * DMAR decoding, validation and matching on tables built here byte by
 * byte (VT-d specification chapter 8), each rule with its kernel source
 * (drivers/iommu/intel/dmar.c, iommu.c), and the matching rules of
 * ../shared/reference/linux-iommu-behaviour.md 5.5-5.6 and 10.5 (P1-P11)
 * on the platforms of real captures with tables made for the test.
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
/* A DMAR table builder                                                 */

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

static void tb_header(struct tb *t, uint8_t width_field, uint8_t flags)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "DMAR", 4);
	w8(t, 8, 1);
	memcpy(t->b + 10, "LIBIOM", 6);
	memcpy(t->b + 16, "TESTTBL ", 8);
	w32(t, 24, 7);
	memcpy(t->b + 28, "TEST", 4);
	w32(t, 32, 0x20250101);
	w8(t, 36, width_field);
	w8(t, 37, flags);
	t->n = 48;
}

/* Start a structure of @type with @fixed bytes; returns its offset. */
static size_t tb_struct(struct tb *t, uint16_t type, size_t fixed)
{
	size_t off = t->n;

	w16(t, off, type);
	w16(t, off + 2, (uint16_t)fixed);
	t->n = off + fixed;
	return off;
}

static void tb_end(struct tb *t, size_t off)
{
	w16(t, off + 2, (uint16_t)(t->n - off));
}

static size_t tb_drhd(struct tb *t, uint8_t flags, uint16_t seg, uint64_t base)
{
	size_t off = tb_struct(t, 0, 16);

	w8(t, off + 4, flags);
	w16(t, off + 6, seg);
	w64(t, off + 8, base);
	return off;
}

static size_t tb_rmrr(struct tb *t, uint16_t seg, uint64_t base, uint64_t end)
{
	size_t off = tb_struct(t, 1, 24);

	w16(t, off + 6, seg);
	w64(t, off + 8, base);
	w64(t, off + 16, end);
	return off;
}

/* A scope with @np (device, function) pairs from @path. */
static size_t tb_scope(struct tb *t, uint8_t type, uint8_t id, uint8_t bus, const uint8_t *path,
		       size_t np)
{
	size_t off = t->n;

	w8(t, off, type);
	w8(t, off + 1, (uint8_t)(6 + 2 * np));
	w8(t, off + 4, id);
	w8(t, off + 5, bus);
	for (size_t k = 0; k < 2 * np; k++)
		w8(t, off + 6 + k, path[k]);
	t->n = off + 6 + 2 * np;
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

static struct iommu_dmar *parse_ok(const struct tb *t)
{
	struct iommu_dmar *d = NULL;
	struct iommu_error err;

	assert_int_equal(iommu_dmar_parse(t->b, t->n, &d, &err), 0);
	assert_non_null(d);
	return d;
}

/* The diagnostic of @sev on structure @idx whose message holds @text, or NULL. */
static const struct iommu_diag *find_diag(const struct iommu_dmar *d, enum iommu_diag_severity sev,
					  int idx, const char *text)
{
	for (size_t i = 0; i < d->n_diags; i++)
		if (d->diags[i].severity == sev && d->diags[i].structure == idx &&
		    strstr(d->diags[i].msg, text))
			return &d->diags[i];
	return NULL;
}

static size_t count_sev(const struct iommu_dmar *d, enum iommu_diag_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_diags; i++)
		n += d->diags[i].severity == sev;
	return n;
}

static void print_diags(const struct iommu_dmar *d)
{
	for (size_t i = 0; i < d->n_diags; i++)
		print_message("  %s [0x%zx] s%d %s\n", iommu_diag_severity_name(d->diags[i].severity),
			      d->diags[i].offset, d->diags[i].structure, d->diags[i].msg);
}

/* ------------------------------------------------------------------ */
/* Decoding                                                             */

static void test_decode_every_structure(void **state)
{
	static const uint8_t p_gpu[] = { 0x02, 0x0 };
	static const uint8_t p_deep[] = { 0x1c, 0x4, 0x00, 0x0 };
	static const uint8_t p_rp[] = { 0x1c, 0x0 };
	static const uint8_t p_ioapic[] = { 0x1e, 0x7 };
	static const uint8_t p_andd[] = { 0x15, 0x1 };
	struct tb t;
	size_t o_drhd, o_all, o_rmrr, o_atsr, o_rhsa, o_andd, o_satc, o_sidp, o_unk;
	struct iommu_dmar *d;
	const struct iommu_dmar_struct *s;

	(void)state;
	tb_header(&t, 38, 0x05);
	o_drhd = tb_drhd(&t, 0x00, 0x0000, 0xfed90000);
	w8(&t, o_drhd + 5, 4);
	tb_scope(&t, 1, 0, 0x00, p_gpu, 1);
	tb_end(&t, o_drhd);
	o_all = tb_drhd(&t, 0x01, 0x0000, 0xfed91000);
	tb_scope(&t, 3, 2, 0xf0, p_ioapic, 1);
	tb_scope(&t, 4, 0, 0x00, p_ioapic, 1);
	tb_scope(&t, 5, 1, 0x00, p_andd, 1);
	tb_end(&t, o_all);
	o_rmrr = tb_rmrr(&t, 0, 0x7b800000, 0x7fffffff);
	w16(&t, o_rmrr + 4, 0xabcd);
	tb_scope(&t, 1, 0, 0x00, p_deep, 2);
	tb_end(&t, o_rmrr);
	o_atsr = tb_struct(&t, 2, 8);
	w8(&t, o_atsr + 4, 0x00);
	w16(&t, o_atsr + 6, 0);
	tb_scope(&t, 2, 0, 0x00, p_rp, 1);
	tb_end(&t, o_atsr);
	o_rhsa = tb_struct(&t, 3, 20);
	w64(&t, o_rhsa + 8, 0xfed91000);
	w32(&t, o_rhsa + 16, 0x12345678);
	o_andd = tb_struct(&t, 4, 8);
	w8(&t, o_andd + 7, 1);
	memcpy(t.b + t.n, "\\_SB.PCI0.I2C0", 15);
	t.n += 15 + 1;  /* one more NUL of padding */
	tb_end(&t, o_andd);
	o_satc = tb_struct(&t, 5, 8);
	w8(&t, o_satc + 4, 0x01);
	tb_scope(&t, 1, 0, 0x00, p_gpu, 1);
	tb_end(&t, o_satc);
	o_sidp = tb_struct(&t, 6, 8);
	tb_scope(&t, 1, 0, 0x00, p_gpu, 1);
	w8(&t, t.n - 6, 0x1f);  /* scope flags */
	tb_end(&t, o_sidp);
	o_unk = tb_struct(&t, 9, 12);
	w32(&t, o_unk + 8, 0xdeadbeef);
	tb_finish(&t);

	d = parse_ok(&t);
	print_diags(d);
	assert_false(d->refused);
	assert_true(d->header.checksum_ok);
	assert_string_equal(d->header.signature, "DMAR");
	assert_int_equal(d->header.length, t.n);
	assert_int_equal(d->header.revision, 1);
	assert_string_equal(d->header.oem_id, "LIBIOM");
	assert_string_equal(d->header.oem_table_id, "TESTTBL ");
	assert_int_equal(d->header.oem_revision, 7);
	assert_string_equal(d->header.asl_compiler_id, "TEST");
	assert_int_equal(d->header.asl_compiler_revision, 0x20250101);
	assert_int_equal(d->host_address_width, 38);
	assert_int_equal(d->flags, IOMMU_DMAR_FLAG_INTR_REMAP | IOMMU_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
	assert_int_equal(d->n_structs, 9);

	s = &d->structs[0];
	assert_int_equal(s->offset, o_drhd);
	assert_int_equal(s->type, IOMMU_DMAR_DRHD);
	assert_int_equal(s->length, 24);
	assert_int_equal(s->flags, 0);
	assert_int_equal(s->size, 4);
	assert_int_equal(s->segment, 0);
	assert_int_equal(s->address, 0xfed90000);
	assert_int_equal(s->n_scopes, 1);
	assert_int_equal(s->scopes[0].type, IOMMU_SCOPE_ENDPOINT);
	assert_int_equal(s->scopes[0].length, 8);
	assert_int_equal(s->scopes[0].start_bus, 0);
	assert_int_equal(s->scopes[0].n_path, 1);
	assert_int_equal(s->scopes[0].path[0].device, 2);
	assert_int_equal(s->scopes[0].path[0].function, 0);
	assert_ptr_equal(s->raw, d->data + o_drhd);
	assert_true(s->known);

	s = &d->structs[1];
	assert_int_equal(s->flags, IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL);
	assert_int_equal(s->address, 0xfed91000);
	assert_int_equal(s->n_scopes, 3);
	assert_int_equal(s->scopes[0].type, IOMMU_SCOPE_IOAPIC);
	assert_int_equal(s->scopes[0].enumeration_id, 2);
	assert_int_equal(s->scopes[0].start_bus, 0xf0);
	assert_int_equal(s->scopes[0].path[0].device, 0x1e);
	assert_int_equal(s->scopes[0].path[0].function, 7);
	assert_int_equal(s->scopes[1].type, IOMMU_SCOPE_HPET);
	assert_int_equal(s->scopes[2].type, IOMMU_SCOPE_NAMESPACE);
	assert_int_equal(s->scopes[2].enumeration_id, 1);

	s = &d->structs[2];
	assert_int_equal(s->type, IOMMU_DMAR_RMRR);
	assert_int_equal(s->reserved, 0xabcd);
	assert_int_equal(s->base, 0x7b800000);
	assert_int_equal(s->end, 0x7fffffff);
	assert_int_equal(s->scopes[0].length, 10);
	assert_int_equal(s->scopes[0].n_path, 2);
	assert_int_equal(s->scopes[0].path[0].device, 0x1c);
	assert_int_equal(s->scopes[0].path[0].function, 4);
	assert_int_equal(s->scopes[0].path[1].device, 0);

	s = &d->structs[3];
	assert_int_equal(s->type, IOMMU_DMAR_ATSR);
	assert_int_equal(s->n_scopes, 1);
	assert_int_equal(s->scopes[0].type, IOMMU_SCOPE_BRIDGE);

	s = &d->structs[4];
	assert_int_equal(s->type, IOMMU_DMAR_RHSA);
	assert_int_equal(s->address, 0xfed91000);
	assert_int_equal(s->proximity_domain, 0x12345678);

	s = &d->structs[5];
	assert_int_equal(s->type, IOMMU_DMAR_ANDD);
	assert_int_equal(s->acpi_device_number, 1);
	assert_string_equal(s->object_name, "\\_SB.PCI0.I2C0");

	s = &d->structs[6];
	assert_int_equal(s->type, IOMMU_DMAR_SATC);
	assert_int_equal(s->flags, IOMMU_SATC_FLAG_ATC_REQUIRED);
	assert_int_equal(s->n_scopes, 1);

	s = &d->structs[7];
	assert_int_equal(s->type, IOMMU_DMAR_SIDP);
	assert_int_equal(s->scopes[0].flags, 0x1f);
	assert_int_equal(s->scopes[0].reserved, 0x001f);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 7, "no handler"));

	s = &d->structs[8];
	assert_int_equal(s->type, 9);
	assert_false(s->known);
	assert_int_equal(s->length, 12);
	assert_int_equal(s->raw[8] | s->raw[9] << 8 | s->raw[10] << 16 | (uint32_t)s->raw[11] << 24, 0xdeadbeef);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 8, "does not know"));

	/* A well-formed table has nothing worse than notes. */
	assert_int_equal(count_sev(d, IOMMU_DIAG_WARN) + count_sev(d, IOMMU_DIAG_FATAL), 0);
	assert_string_equal(iommu_dmar_type_name(0), "DRHD");
	assert_string_equal(iommu_dmar_type_name(5), "SATC");
	assert_string_equal(iommu_dmar_scope_type_name(5), "ACPI namespace device");
	iommu_dmar_free(d);
}

/* ------------------------------------------------------------------ */
/* Validation, rule by rule                                             */

static void base_table(struct tb *t)
{
	static const uint8_t p[] = { 0x02, 0x0 };
	size_t o;

	tb_header(t, 38, 1);
	o = tb_drhd(t, 0, 0, 0xfed90000);
	tb_scope(t, 1, 0, 0, p, 1);
	tb_end(t, o);
	o = tb_drhd(t, 1, 0, 0xfed91000);
	tb_end(t, o);
}

static void test_not_a_table(void **state)
{
	struct tb t;
	struct iommu_dmar *d = (void *)1;
	struct iommu_error err;

	(void)state;
	base_table(&t);
	tb_finish(&t);
	for (size_t len = 0; len < 36; len++) {
		assert_int_equal(iommu_dmar_parse(t.b, len, &d, &err), -EINVAL);
		assert_null(d);
		assert_non_null(strstr(err.msg, "shorter than the 36-byte"));
	}
	memcpy(t.b, "DMAX", 4);
	assert_int_equal(iommu_dmar_parse(t.b, t.n, &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'DMAX', not a DMAR"));
	assert_int_equal(iommu_dmar_parse(t.b, t.n, &d, NULL), -EINVAL);
}

/* P1/P2: width field 10 is refused ("Invalid DMAR haw"), 11 is not. */
static void test_host_address_width(void **state)
{
	struct tb t;
	struct iommu_dmar *d;

	(void)state;
	base_table(&t);
	w8(&t, 36, 10);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, -1, "Invalid DMAR haw"));
	assert_int_equal(find_diag(d, IOMMU_DIAG_FATAL, -1, "Invalid DMAR haw")->offset, 36);
	iommu_dmar_free(d);
	w8(&t, 36, 11);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_false(d->refused);
	assert_int_equal(d->n_diags, 0);
	iommu_dmar_free(d);
}

/* ACPICA warns about a wrong checksum and the kernel uses the table. */
static void test_checksum(void **state)
{
	struct tb t;
	struct iommu_dmar *d;
	const struct iommu_diag *g;

	(void)state;
	base_table(&t);
	tb_finish(&t);
	t.b[9] ^= 0x5a;
	d = parse_ok(&t);
	assert_false(d->header.checksum_ok);
	g = find_diag(d, IOMMU_DIAG_WARN, -1, "checksum");
	assert_non_null(g);
	assert_int_equal(g->offset, 9);
	assert_non_null(strstr(g->msg, "uses the table"));
	assert_false(d->refused);
	assert_int_equal(d->n_structs, 2);
	iommu_dmar_free(d);
}

/* P11: a zero-length structure ends the walk; the kernel goes on with what it has. */
static void test_zero_length_structure(void **state)
{
	struct tb t;
	struct iommu_dmar *d;
	size_t o;

	(void)state;
	base_table(&t);
	o = tb_rmrr(&t, 0, 0x1000, 0x1fff);
	w16(&t, o + 2, 0);
	tb_rmrr(&t, 0, 0x2000, 0x2fff);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_int_equal(d->n_structs, 2);
	assert_false(d->refused);
	assert_int_equal(find_diag(d, IOMMU_DIAG_WARN, -1, "length 0")->offset, o);
	iommu_dmar_free(d);
}

/* "Record passes table end": refused; and a length past the data we have. */
static void test_structure_past_end(void **state)
{
	struct tb t;
	struct iommu_dmar *d;
	size_t o;

	(void)state;
	base_table(&t);
	o = tb_rmrr(&t, 0, 0x1000, 0x1fff);
	w16(&t, o + 2, 200);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_int_equal(d->n_structs, 3);
	assert_true(d->structs[2].truncated);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, 2, "Record passes table end"));
	assert_int_equal(find_diag(d, IOMMU_DIAG_FATAL, 2, "passes")->offset, o + 2);
	iommu_dmar_free(d);

	/* 1-3 stray bytes after the last structure */
	base_table(&t);
	t.n += 3;
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, -1, "too few for a structure header"));
	iommu_dmar_free(d);
}

static void test_truncated_and_trailing(void **state)
{
	struct tb t;
	struct iommu_dmar *d;

	(void)state;
	base_table(&t);
	tb_finish(&t);
	/* a file cut short: the length field says more */
	d = NULL;
	assert_int_equal(iommu_dmar_parse(t.b, t.n - 5, &d, NULL), 0);
	assert_true(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, -1, "truncated"));
	assert_int_equal(find_diag(d, IOMMU_DIAG_FATAL, -1, "truncated")->offset, 4);
	iommu_dmar_free(d);
	/* bytes after the table */
	assert_int_equal(iommu_dmar_parse(t.b, t.n + 7, &d, NULL), 0);
	assert_false(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, -1, "7 bytes after"));
	iommu_dmar_free(d);
	/* a length field below the DMAR header */
	w32(&t, 4, 40);
	assert_int_equal(iommu_dmar_parse(t.b, 40, &d, NULL), 0);
	assert_true(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, -1, "48-byte DMAR header"));
	assert_int_equal(d->n_structs, 0);
	iommu_dmar_free(d);
}

static void test_short_structures(void **state)
{
	static const uint16_t types[] = { 0, 1, 2, 3, 4, 5, 6 };
	static const size_t need[] = { 16, 24, 8, 20, 8, 8, 8 };

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct tb t;
		struct iommu_dmar *d;
		size_t o;
		char what[64];

		base_table(&t);
		o = tb_struct(&t, types[i], need[i] - 1);
		tb_finish(&t);
		d = parse_ok(&t);
		assert_true(d->structs[2].truncated);
		snprintf(what, sizeof(what), "too short for a %s (%zu bytes)", iommu_dmar_type_name(types[i]),
			 need[i]);
		assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, 2, what));
		assert_int_equal(find_diag(d, IOMMU_DIAG_FATAL, 2, what)->offset, o + 2);
		iommu_dmar_free(d);
	}
}

static void test_drhd_rules(void **state)
{
	static const uint8_t p[] = { 0x03, 0x0 };
	struct tb t;
	struct iommu_dmar *d;
	const struct iommu_dmar_struct *order[8];
	size_t o;

	(void)state;
	/* register base 0: detect_intel_iommu refuses the table */
	base_table(&t);
	tb_drhd(&t, 0, 0, 0);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, 2, "DMAR reported at address 0"));
	iommu_dmar_free(d);

	/* P3: a duplicate (same segment and base) is ignored */
	base_table(&t);
	o = tb_drhd(&t, 0, 0, 0xfed90000);
	tb_scope(&t, 1, 0, 0, p, 1);
	tb_end(&t, o);
	tb_drhd(&t, 0, 1, 0xfed90000);   /* another segment: not a duplicate */
	tb_finish(&t);
	d = parse_ok(&t);
	assert_false(d->refused);
	assert_true(d->structs[2].duplicate);
	assert_false(d->structs[3].duplicate);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 2, "dmar_find_dmaru"));
	assert_int_equal(iommu_dmar_drhd_seq_id(d, &d->structs[0]), 0);
	assert_int_equal(iommu_dmar_drhd_seq_id(d, &d->structs[1]), 1);
	assert_int_equal(iommu_dmar_drhd_seq_id(d, &d->structs[2]), -1);
	assert_int_equal(iommu_dmar_drhd_seq_id(d, &d->structs[3]), 2);
	/* list order: explicit units in reverse table order, then INCLUDE_ALL ones */
	assert_int_equal(iommu_dmar_drhd_order(d, order, 8), 3);
	assert_ptr_equal(order[0], &d->structs[3]);
	assert_ptr_equal(order[1], &d->structs[0]);
	assert_ptr_equal(order[2], &d->structs[1]);
	assert_int_equal(iommu_dmar_drhd_order(d, order, 1), 3);
	iommu_dmar_free(d);

	/* no DRHD at all */
	tb_header(&t, 38, 0);
	tb_rmrr(&t, 0, 0x1000, 0x1fff);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, -1, "No DRHD structure found"));
	iommu_dmar_free(d);

	/* two INCLUDE_PCI_ALL units for one segment */
	base_table(&t);
	tb_drhd(&t, 1, 0, 0xfed92000);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 2, "second INCLUDE_PCI_ALL"));
	iommu_dmar_free(d);
}

/* P7: a bad RMRR is warned about and still used. */
static void test_rmrr_sanity(void **state)
{
	static const struct { uint64_t base, end; const char *why; } bad[] = {
		{ 0x1001, 0x1fff, "base that is not 4 KiB aligned" },
		{ 0x1000, 0x1ffe, "does not end just before a 4 KiB boundary" },
		{ 0x2000, 0x1fff, "ends at or below its base" },
		{ 0x2000, 0x2000, "ends at or below its base" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tb t;
		struct iommu_dmar *d;
		const struct iommu_diag *g;

		base_table(&t);
		tb_rmrr(&t, 0, bad[i].base, bad[i].end);
		tb_finish(&t);
		d = parse_ok(&t);
		g = find_diag(d, IOMMU_DIAG_WARN, 2, "bad RMRR");
		assert_non_null(g);
		assert_non_null(strstr(g->msg, bad[i].why));
		assert_non_null(strstr(g->msg, "still uses it"));
		assert_false(d->refused);
		iommu_dmar_free(d);
	}
}

static void test_rhsa_andd(void **state)
{
	struct tb t;
	struct iommu_dmar *d;
	size_t o;

	(void)state;
	/* RHSA naming no DRHD before it */
	base_table(&t);
	o = tb_struct(&t, 3, 20);
	w64(&t, o + 8, 0xfed99000);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "RHSA refers to non-existent DMAR unit"));
	iommu_dmar_free(d);
	base_table(&t);
	o = tb_struct(&t, 3, 20);
	w64(&t, o + 8, 0xfed91000);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_int_equal(d->n_diags, 0);
	iommu_dmar_free(d);

	/* ANDD: the name must end with a NUL inside the structure */
	base_table(&t);
	o = tb_struct(&t, 4, 8);
	memcpy(t.b + t.n, "\\_SB.I2C0", 9);
	t.n += 9;
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_string_equal(d->structs[2].object_name, "\\_SB.I2C0");
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, 2, "not NUL-terminated"));
	iommu_dmar_free(d);
	/* an empty name field is not terminated either */
	base_table(&t);
	tb_struct(&t, 4, 8);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	iommu_dmar_free(d);
}

static void test_scope_rules(void **state)
{
	static const uint8_t p[] = { 0x02, 0x0, 0x00, 0x0 };
	struct tb t;
	struct iommu_dmar *d;
	size_t o, s;

	(void)state;
	/* length 0: the kernel's walk never moves on */
	base_table(&t);
	o = tb_drhd(&t, 0, 0, 0xfed92000);
	s = tb_scope(&t, 1, 0, 0, p, 1);
	w8(&t, s + 1, 0);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_int_equal(find_diag(d, IOMMU_DIAG_FATAL, 2, "boot hangs")->offset, s);
	iommu_dmar_free(d);

	/* ... but not in an ATSR with ALL_PORTS, whose scopes the kernel never walks */
	base_table(&t);
	o = tb_struct(&t, 2, 8);
	w8(&t, o + 4, 1);
	s = tb_scope(&t, 2, 0, 0, p, 1);
	w8(&t, s + 1, 0);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_false(d->refused);
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "length 0"));
	iommu_dmar_free(d);

	/* shorter than the scope header, odd path, unknown type, empty path */
	base_table(&t);
	o = tb_drhd(&t, 0, 0, 0xfed92000);
	s = tb_scope(&t, 1, 0, 0, p, 1);
	w8(&t, s + 1, 4);
	t.n = s + 4;
	s = tb_scope(&t, 1, 0, 0, p, 2);
	w8(&t, s + 1, 9);
	t.n = s + 9;
	tb_scope(&t, 7, 0, 0, p, 1);
	tb_scope(&t, 2, 0, 0, p, 0);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	print_diags(d);
	assert_false(d->refused);
	assert_int_equal(d->structs[2].n_scopes, 4);
	assert_int_equal(d->structs[2].scopes[0].n_path, 0);
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "shorter than its 6-byte header"));
	assert_int_equal(d->structs[2].scopes[1].n_path, 1);
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "ignores the last byte"));
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "Unsupported device scope"));
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "empty path"));
	iommu_dmar_free(d);

	/* a scope running past its structure, and past the table */
	base_table(&t);
	o = tb_rmrr(&t, 0, 0x1000, 0x1fff);
	s = tb_scope(&t, 1, 0, 0, p, 2);
	tb_end(&t, o);
	w16(&t, o + 2, (uint16_t)(t.n - o - 2));
	tb_rmrr(&t, 0, 0x2000, 0x2fff);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_non_null(find_diag(d, IOMMU_DIAG_WARN, 2, "runs 2 bytes past the end of its structure"));
	assert_int_equal(d->structs[2].scopes[0].n_path, 2);
	iommu_dmar_free(d);
	base_table(&t);
	o = tb_rmrr(&t, 0, 0x1000, 0x1fff);
	s = tb_scope(&t, 1, 0, 0, p, 2);
	w8(&t, s + 1, 40);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_non_null(find_diag(d, IOMMU_DIAG_FATAL, 2, "runs past the table end"));
	iommu_dmar_free(d);

	/* a namespace scope naming no ANDD */
	base_table(&t);
	o = tb_drhd(&t, 0, 0, 0xfed92000);
	tb_scope(&t, 5, 9, 0, p, 1);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 2, "which no ANDD declares"));
	iommu_dmar_free(d);
}

/* Reserved bits and bytes, and an RHSA longer than it needs: notes only. */
static void test_notes(void **state)
{
	struct tb t;
	struct iommu_dmar *d;
	size_t o;

	(void)state;
	base_table(&t);
	w8(&t, 37, 0x09);               /* INTR_REMAP and a reserved bit */
	w8(&t, 40, 0x01);               /* a reserved byte */
	w8(&t, 48 + 4, 0x02);           /* a reserved DRHD flag */
	o = tb_struct(&t, 3, 24);
	w64(&t, o + 8, 0xfed90000);
	tb_finish(&t);
	d = parse_ok(&t);
	print_diags(d);
	assert_false(d->refused);
	assert_int_equal(count_sev(d, IOMMU_DIAG_WARN) + count_sev(d, IOMMU_DIAG_FATAL), 0);
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, -1, "reserved flag bits set (flags 0x09)"));
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, -1, "reserved bytes 38-47"));
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 0, "reserved flag bits set (flags 0x02)"));
	assert_non_null(find_diag(d, IOMMU_DIAG_NOTE, 2, "4 bytes after its 20-byte fixed part"));
	assert_int_equal(d->flags, 0x09);
	assert_string_equal(iommu_dmar_scope_type_name(4), "HPET");
	assert_string_equal(iommu_dmar_scope_type_name(9), "unknown");
	assert_string_equal(iommu_dmar_type_name(77), "unknown");
	iommu_dmar_free(d);
}

/* ------------------------------------------------------------------ */
/* Matching on real captured platforms                                  */

static struct iommu_platform *load_capture(const char *name)
{
	char path[PATH_MAX];
	struct iommu_platform *p = NULL;
	struct iommu_error err;

	if (!captures_dir())
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", captures_dir(), name);
	if (iommu_platform_load_snapshot(path, &p, &err)) {
		print_message("cannot load %s: %s\n", path, err.msg);
		return NULL;
	}
	return p;
}

static const struct iommu_pci_dev *dev_at(const struct iommu_platform *p, const char *bdf)
{
	struct iommu_pci_addr a;

	assert_int_equal(iommu_pci_addr_parse(bdf, &a), 0);
	return iommu_platform_find_device(p, a);
}

/* The structure index of the unit translating @bdf, -1 for none. */
static int unit_of(const struct iommu_dmar *d, const struct iommu_platform *p, const char *bdf)
{
	const struct iommu_pci_dev *dev = dev_at(p, bdf);
	const struct iommu_dmar_struct *u;

	assert_non_null(dev);
	u = iommu_dmar_device_drhd(d, p, dev);
	return u ? (int)(u - d->structs) : -1;
}

/*
 * lx-intel-server: 00:1c.3 -> 04:00.0 (PCIe-PCI bridge) -> 05:0x.0;
 * 00:1d.0 -> switch 06:00.0 -> 07:0x.0 -> 08:00.0, 09:00.0, 0a:00.0.
 */
static void test_match_paths(void **state)
{
	static const uint8_t p_nvme[] = { 0x1d, 0, 0x00, 0, 0x01, 0, 0x00, 0 };   /* 09:00.0 */
	static const uint8_t p_sw[] = { 0x1d, 0 };                                /* bridge 00:1d.0 */
	static const uint8_t p_fallback[] = { 0x00, 0 };                          /* bus 02, 00.0 */
	static const uint8_t p_bridge_as_ep[] = { 0x1c, 0x3 };
	static const uint8_t p_usb[] = { 0x14, 0 };
	struct iommu_platform *p = load_capture("lx-intel-server");
	struct tb t;
	struct iommu_dmar *d;
	size_t o;
	struct iommu_diag *dg;
	size_t ndg;

	(void)state;
	if (!p) {
		skip();
		return;
	}
	tb_header(&t, 38, 1);
	o = tb_drhd(&t, 0, 0, 0xfed91000);              /* 0: bridge scope, P5 fallback */
	tb_scope(&t, 2, 0, 0x00, p_sw, 1);
	tb_scope(&t, 1, 0, 0x02, p_fallback, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 0, 0, 0xfed90000);              /* 1: P4 full path; before 0 in list order */
	tb_scope(&t, 1, 0, 0x00, p_nvme, 4);
	tb_end(&t, o);
	o = tb_drhd(&t, 0, 0, 0xfed92000);              /* 2: P6 endpoint scope on a bridge */
	tb_scope(&t, 1, 0, 0x00, p_bridge_as_ep, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 1, 0, 0xfed93000);              /* 3: include all */
	tb_end(&t, o);
	o = tb_rmrr(&t, 0, 0x3e000000, 0x3e0fffff);      /* 4: RMRR on a bridge */
	tb_scope(&t, 2, 0, 0x00, p_sw, 1);
	tb_end(&t, o);
	o = tb_rmrr(&t, 0, 0x000f0000, 0x000fffff);      /* 5: RMRR on an endpoint */
	tb_scope(&t, 1, 0, 0x00, p_usb, 1);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_false(d->refused);

	/* scope resolution */
	assert_ptr_equal(iommu_dmar_scope_device(&d->structs[1].scopes[0], 0, p), dev_at(p, "0000:09:00.0"));
	assert_int_equal(iommu_dmar_scope_match(&d->structs[1].scopes[0], 0, dev_at(p, "0000:09:00.0")), 1);
	assert_int_equal(iommu_dmar_scope_match(&d->structs[1].scopes[0], 1, dev_at(p, "0000:09:00.0")), 0);
	assert_int_equal(iommu_dmar_scope_match(&d->structs[1].scopes[0], 0, dev_at(p, "0000:0a:00.0")), 0);
	assert_int_equal(iommu_dmar_scope_match(&d->structs[1].scopes[0], 0, dev_at(p, "0000:07:01.0")), 0);
	assert_ptr_equal(iommu_dmar_scope_device(&d->structs[0].scopes[1], 0, p), dev_at(p, "0000:02:00.0"));
	assert_int_equal(iommu_dmar_scope_match(&d->structs[0].scopes[1], 0, dev_at(p, "0000:02:00.0")), 2);
	assert_null(iommu_dmar_scope_device(&d->structs[0].scopes[1], 1, p));

	/* P4: the full path names 09:00.0 only (its parents are not in it) */
	assert_int_equal(unit_of(d, p, "0000:09:00.0"), 1);
	/* bridge scope: everything below 00:1d.0, and the bridge itself */
	assert_int_equal(unit_of(d, p, "0000:00:1d.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:06:00.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:07:01.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:08:00.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:0a:00.0"), 0);
	/* P5: the fallback matches 02:00.0 */
	assert_int_equal(unit_of(d, p, "0000:02:00.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:02:00.1"), 3);
	/* P6: 00:1c.3 is a bridge named by an endpoint scope: in no scope, so
	 * the INCLUDE_ALL unit; and so are the devices behind it */
	assert_int_equal(unit_of(d, p, "0000:00:1c.3"), 3);
	assert_int_equal(unit_of(d, p, "0000:05:01.0"), 3);
	/* P8: everything else under INCLUDE_ALL */
	assert_int_equal(unit_of(d, p, "0000:00:00.0"), 3);
	assert_int_equal(unit_of(d, p, "0000:01:00.0"), 3);
	/* unit 2's only scope failed: it has no device and the kernel ignores it */
	assert_true(iommu_dmar_drhd_empty(d, &d->structs[2], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[0], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[1], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[3], p));
	assert_false(iommu_dmar_drhd_gfx_only(d, &d->structs[0], p));

	/* RMRRs: the bridge's covers the hierarchy below it, the endpoint's the endpoint */
	{
		const struct iommu_dmar_struct *rm[4];

		assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:09:00.0"), rm, 4), 1);
		assert_ptr_equal(rm[0], &d->structs[4]);
		assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:00:1d.0"), rm, 4), 1);
		assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:00:14.0"), rm, 4), 1);
		assert_ptr_equal(rm[0], &d->structs[5]);
		assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:00:1f.0"), rm, 4), 0);
		assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:00:1c.3"), rm, 4), 0);
	}

	/* what the kernel logs while matching */
	assert_int_equal(iommu_dmar_check_platform(d, p, &dg, &ndg), 0);
	{
		bool mismatch = false, fallback = false, ignored = false;

		for (size_t i = 0; i < ndg; i++) {
			print_message("  %s %s\n", iommu_diag_severity_name(dg[i].severity), dg[i].msg);
			mismatch |= strstr(dg[i].msg, "Device scope type does not match for 0000:00:1c.3") != NULL;
			fallback |= strstr(dg[i].msg, "RMRR entry for device 02:00.0 is broken") != NULL;
			ignored |= strstr(dg[i].msg, "(dmar2): no device of its scope is present") != NULL;
		}
		assert_true(mismatch);
		assert_true(fallback);
		assert_true(ignored);
	}
	free(dg);
	iommu_dmar_free(d);

	/* P9: no INCLUDE_ALL unit, no scope: no IOMMU */
	tb_header(&t, 38, 1);
	o = tb_drhd(&t, 0, 0, 0xfed90000);
	tb_scope(&t, 2, 0, 0x00, p_sw, 1);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_int_equal(unit_of(d, p, "0000:07:00.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:00:1f.0"), -1);
	iommu_dmar_free(d);

	/* A refused table translates nothing */
	tb_header(&t, 10, 1);
	o = tb_drhd(&t, 1, 0, 0xfed90000);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_true(d->refused);
	assert_int_equal(unit_of(d, p, "0000:00:1f.0"), -1);
	iommu_dmar_free(d);
	iommu_platform_free(p);
}

/* Two explicit units naming the same device: the later in table order is
 * first in dmar_drhd_units (head insertion), so it wins; and a bridge scope
 * in a unit earlier in the list wins over the exact path of a device below
 * it in a later one (device_to_iommu checks both per unit, in list order). */
static void test_match_list_order(void **state)
{
	static const uint8_t p_nic[] = { 0x08, 0 };
	struct iommu_platform *p = load_capture("lx-intel-server");
	struct tb t;
	struct iommu_dmar *d;
	size_t o;

	(void)state;
	if (!p) {
		skip();
		return;
	}
	tb_header(&t, 38, 1);
	o = tb_drhd(&t, 0, 0, 0xfed90000);
	tb_scope(&t, 1, 0, 0, p_nic, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 0, 0, 0xfed91000);
	tb_scope(&t, 1, 0, 0, p_nic, 1);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_int_equal(unit_of(d, p, "0000:00:08.0"), 1);
	assert_true(iommu_dmar_drhd_empty(d, &d->structs[0], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[1], p));
	iommu_dmar_free(d);

	{
		static const uint8_t p_nvme[] = { 0x1d, 0, 0x00, 0, 0x01, 0, 0x00, 0 };
		static const uint8_t p_sw[] = { 0x1d, 0 };

		tb_header(&t, 38, 1);
		o = tb_drhd(&t, 0, 0, 0xfed90000);
		tb_scope(&t, 1, 0, 0x00, p_nvme, 4);
		tb_end(&t, o);
		o = tb_drhd(&t, 0, 0, 0xfed91000);
		tb_scope(&t, 2, 0, 0x00, p_sw, 1);
		tb_end(&t, o);
		tb_finish(&t);
		d = parse_ok(&t);
		assert_int_equal(unit_of(d, p, "0000:09:00.0"), 1);
		assert_int_equal(unit_of(d, p, "0000:0a:00.0"), 1);
		/* 09:00.0 is still entered in unit 0, which is not empty */
		assert_false(iommu_dmar_drhd_empty(d, &d->structs[0], p));
		iommu_dmar_free(d);
	}
	iommu_platform_free(p);
}

/* P10: a VF is looked up through its PF; a bridge scope of an NTB-like
 * endpoint (class 0x06) is accepted. lx-sriov: PF 00:05.0 with VFs 05.1-05.3. */
static void test_match_vf(void **state)
{
	static const uint8_t p_pf[] = { 0x05, 0 };
	struct iommu_platform *p = load_capture("lx-sriov");
	struct tb t;
	struct iommu_dmar *d;
	const struct iommu_dmar_struct *rm[2];
	size_t o;

	(void)state;
	if (!p) {
		skip();
		return;
	}
	assert_true(dev_at(p, "0000:00:05.1")->is_virtfn);
	tb_header(&t, 38, 1);
	o = tb_drhd(&t, 0, 0, 0xfed90000);
	tb_scope(&t, 1, 0, 0, p_pf, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 1, 0, 0xfed91000);
	tb_end(&t, o);
	o = tb_rmrr(&t, 0, 0x10000, 0x1ffff);
	tb_scope(&t, 1, 0, 0, p_pf, 1);
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	assert_int_equal(unit_of(d, p, "0000:00:05.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:00:05.1"), 0);
	assert_int_equal(unit_of(d, p, "0000:00:05.3"), 0);
	assert_int_equal(unit_of(d, p, "0000:01:00.1"), 1);
	/* the RMRR names the PF; the VF is not below it (intel_iommu_get_resv_regions) */
	assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:00:05.0"), rm, 2), 1);
	assert_int_equal(iommu_dmar_device_rmrrs(d, p, dev_at(p, "0000:00:05.1"), rm, 2), 0);
	iommu_dmar_free(d);
	iommu_platform_free(p);
}

/* A synthetic platform: 00:00.0 host bridge, 00:02.0 VGA, 00:03.0 an
 * NTB-like bridge-class endpoint (0680), 00:1f.0 LPC. */
static struct iommu_platform *gfx_platform(void)
{
	static struct cfg c[4];
	const char *paths[] = {
		"pci/0000:00:00.0/config", "pci/0000:00:02.0/config",
		"pci/0000:00:03.0/config", "pci/0000:00:1f.0/config",
	};
	const uint8_t *data[4];
	size_t lens[4];
	struct iommu_platform *p = NULL;
	struct iommu_error err;

	cfg_init(&c[0], 256, 0x8086, 0x29c0, 0x060000, 0);
	cfg_init(&c[1], 256, 0x8086, 0x9a49, 0x030000, 0);
	cfg_init(&c[2], 256, 0x8086, 0x0e0d, 0x068000, 0);
	cfg_init(&c[3], 256, 0x8086, 0x2918, 0x060100, 0x80);
	for (int i = 0; i < 4; i++) {
		data[i] = c[i].b;
		lens[i] = c[i].size;
	}
	assert_int_equal(iommu_platform_load_files("gfx", 4, paths, data, lens, &p, &err), 0);
	return p;
}

/* A graphics-only unit; a unit kept alive by an ANDD device; a unit
 * naming nothing present; a bridge scope on a bridge-class endpoint. */
static void test_gfx_and_namespace_units(void **state)
{
	static const uint8_t p_vga[] = { 0x02, 0 };
	static const uint8_t p_ntb[] = { 0x03, 0 };
	static const uint8_t p_none[] = { 0x1e, 0 };
	struct iommu_platform *p = gfx_platform();
	struct tb t;
	struct iommu_dmar *d;
	struct iommu_diag *dg;
	size_t o, ndg;

	(void)state;
	tb_header(&t, 38, 1);
	o = tb_drhd(&t, 0, 0, 0xfed90000);      /* 0: graphics only */
	tb_scope(&t, 1, 0, 0, p_vga, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 0, 0, 0xfed91000);      /* 1: a namespace device only */
	tb_scope(&t, 5, 3, 0, p_none, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 0, 0, 0xfed92000);      /* 2: names nothing present */
	tb_scope(&t, 1, 0, 0, p_none, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 0, 0, 0xfed94000);      /* 3: bridge scope, bridge-class endpoint */
	tb_scope(&t, 2, 0, 0, p_ntb, 1);
	tb_end(&t, o);
	o = tb_drhd(&t, 1, 0, 0xfed93000);      /* 4 */
	tb_end(&t, o);
	o = tb_struct(&t, 4, 8);
	w8(&t, o + 7, 3);
	memcpy(t.b + t.n, "\\_SB.UAR0", 10);
	t.n += 10;
	tb_end(&t, o);
	tb_finish(&t);
	d = parse_ok(&t);
	print_diags(d);
	assert_int_equal(d->n_diags, 0);
	assert_true(iommu_dmar_drhd_gfx_only(d, &d->structs[0], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[0], p));
	assert_false(iommu_dmar_drhd_gfx_only(d, &d->structs[1], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[1], p));
	assert_true(iommu_dmar_drhd_empty(d, &d->structs[2], p));
	assert_false(iommu_dmar_drhd_gfx_only(d, &d->structs[2], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[3], p));
	assert_false(iommu_dmar_drhd_gfx_only(d, &d->structs[4], p));
	assert_false(iommu_dmar_drhd_empty(d, &d->structs[4], p));
	assert_int_equal(unit_of(d, p, "0000:00:02.0"), 0);
	assert_int_equal(unit_of(d, p, "0000:00:03.0"), 3);
	assert_int_equal(unit_of(d, p, "0000:00:1f.0"), 4);
	assert_int_equal(iommu_dmar_check_platform(d, p, &dg, &ndg), 0);
	for (size_t i = 0; i < ndg; i++) {
		print_message("  %s\n", dg[i].msg);
		assert_null(strstr(dg[i].msg, "does not match"));
	}
	free(dg);
	iommu_dmar_free(d);
	iommu_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_every_structure),
		cmocka_unit_test(test_not_a_table),
		cmocka_unit_test(test_host_address_width),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_zero_length_structure),
		cmocka_unit_test(test_structure_past_end),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_short_structures),
		cmocka_unit_test(test_drhd_rules),
		cmocka_unit_test(test_rmrr_sanity),
		cmocka_unit_test(test_rhsa_andd),
		cmocka_unit_test(test_scope_rules),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_match_paths),
		cmocka_unit_test(test_match_list_order),
		cmocka_unit_test(test_match_vf),
		cmocka_unit_test(test_gfx_and_namespace_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
