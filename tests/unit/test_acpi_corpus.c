// SPDX-License-Identifier: MIT
/*
 * The DMAR and IVRS tables of 258 real machines (../shared/corpus/acpi,
 * linux-hardware.org / linuxhw ACPI collection, CC BY 4.0), read there at
 * test time.
 *
 *  1. Every table is decoded and compared field by field with the ACPICA
 *     disassembler's decode beside it (iasl.dsl, iasl 20200925), both ways:
 *     every field ACPICA prints must be one of ours at the same offset with
 *     the same value, and every field of ours in a structure ACPICA
 *     decodes must be among ACPICA's.  That iasl does not know DMAR
 *     structure types from 5 (SATC, SIDP: it stops the table there) nor
 *     IVRS block types 40h and 51h (it prints their first four fields and
 *     moves on); those are checked against the specifications with
 *     expectations derived by hand from the tables' bytes, for four tables.
 *  2. Every table goes through acpidump text and back.
 *  3. Bad input from every table: truncated at every byte offset (the
 *     file cut, and the length field cut with it), every length field
 *     (structure, scope, block, entry) corrupted, the checksum wrong,
 *     scopes pointing past their structure and the table, acpidump text
 *     with broken hex.  Each must give a clear result, never a crash (the
 *     sanitizer build runs this too).
 *
 * Without the corpus, every test is skipped and says so.
 */
#include <dirent.h>
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

#define MIN_DMAR 195
#define MIN_IVRS 63

/* ------------------------------------------------------------------ */
/* The corpus                                                           */

struct entry {
	char id[64];
	char kind[5];           /* "DMAR" or "IVRS" */
	uint8_t *table;
	size_t len;
	char *dsl;
	size_t dsl_len;
};

static struct entry *corpus;
static size_t n_corpus, n_dmar, n_ivrs;
static char corpus_dir[PATH_MAX];

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	return c ? c : strcmp(x->id, y->id);
}

static void load_kind(const char *kind)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", corpus_dir, kind);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX + 300];
		struct entry *x;

		if (e->d_name[0] == '.')
			continue;
		corpus = realloc(corpus, (n_corpus + 1) * sizeof(*corpus));
		x = &corpus[n_corpus];
		memset(x, 0, sizeof(*x));
		snprintf(x->id, sizeof(x->id), "%s", e->d_name);
		memcpy(x->kind, kind, 5);
		snprintf(path, sizeof(path), "%s/%s/table.bin", dir, e->d_name);
		x->table = (uint8_t *)slurp(path, &x->len);
		snprintf(path, sizeof(path), "%s/%s/iasl.dsl", dir, e->d_name);
		x->dsl = slurp(path, &x->dsl_len);
		if (!x->table || !x->dsl) {
			free(x->table);
			free(x->dsl);
			continue;
		}
		n_corpus++;
		if (!strcmp(kind, "DMAR"))
			n_dmar++;
		else
			n_ivrs++;
	}
	closedir(d);
}

static int setup(void **state)
{
	const char *shared = getenv("IOMMU_SHARED");

	(void)state;
	if (!shared || !*shared)
		return 0;
	snprintf(corpus_dir, sizeof(corpus_dir), "%s/corpus/acpi", shared);
	load_kind("DMAR");
	load_kind("IVRS");
	if (n_corpus)
		qsort(corpus, n_corpus, sizeof(*corpus), cmp_entry);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_corpus; i++) {
		free(corpus[i].table);
		free(corpus[i].dsl);
	}
	free(corpus);
	return 0;
}

/* Tests skipped for want of the corpus: the program then exits with 77,
 * which meson reports as SKIP, never as a pass. */
static size_t n_skipped;

/* Every test starts here: without the corpus it is skipped, and says so. */
static bool have_corpus(void)
{
	if (n_corpus == 0) {
		n_skipped++;
		print_message("SKIP: no ACPI corpus at %s (IOMMU_SHARED=%s); nothing was checked\n",
			      corpus_dir[0] ? corpus_dir : "(unset)",
			      getenv("IOMMU_SHARED") ? getenv("IOMMU_SHARED") : "(unset)");
		return false;
	}
	assert_true(n_dmar >= MIN_DMAR);
	assert_true(n_ivrs >= MIN_IVRS);
	return true;
}

static const struct entry *find_entry(const char *kind, const char *id)
{
	for (size_t i = 0; i < n_corpus; i++)
		if (!strcmp(corpus[i].kind, kind) && !strcmp(corpus[i].id, id))
			return &corpus[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* ACPICA's decode: "[OFFh DEC LEN]  Field Name : value"                */

struct dsl_field {
	size_t off, len;
	char name[48];
	char value[160];
};

static size_t parse_dsl(const char *text, struct dsl_field **out)
{
	struct dsl_field *v = NULL;
	size_t n = 0;
	const char *l = text;

	while (*l) {
		const char *eol = strchr(l, '\n');
		size_t ll = eol ? (size_t)(eol - l) : strlen(l);
		char line[512];
		unsigned off, dec, len;
		char *colon, *name;
		int used = 0;

		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, l, ll);
		line[ll] = '\0';
		l = eol ? eol + 1 : l + ll;
		if (sscanf(line, "[%xh %u %u]%n", &off, &dec, &len, &used) != 3 || !used)
			continue;
		assert_int_equal(off, dec);
		colon = strstr(line + used, " : ");
		assert_non_null(colon);
		*colon = '\0';
		name = line + used;
		while (*name == ' ')
			name++;
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n].off = off;
		v[n].len = len;
		snprintf(v[n].name, sizeof(v[n].name), "%s", name);
		snprintf(v[n].value, sizeof(v[n].value), "%s", colon + 3);
		/* trailing blanks */
		for (size_t k = strlen(v[n].value); k && v[n].value[k - 1] == ' '; k--)
			v[n].value[k - 1] = '\0';
		n++;
	}
	*out = v;
	return n;
}

/* ------------------------------------------------------------------ */
/* Our decode as a list of fields named as ACPICA names them            */

enum kind { NUM, STR, BYTES, PATH };

struct field {
	size_t off, len;
	const char *name;
	enum kind kind;
	uint64_t num;
	char str[64];
	uint8_t bytes[16];
	bool acpica;            /* in a structure ACPICA decodes */
	bool seen;
};

struct fields {
	struct field *v;
	size_t n;
	bool acpica;            /* the flag for fields added now */
};

static struct field *add_field(struct fields *f, size_t off, size_t len, const char *name, enum kind k)
{
	struct field *x;

	f->v = realloc(f->v, (f->n + 1) * sizeof(*f->v));
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->off = off;
	x->len = len;
	x->name = name;
	x->kind = k;
	x->acpica = f->acpica;
	return x;
}

static void fnum(struct fields *f, size_t off, size_t len, const char *name, uint64_t v)
{
	add_field(f, off, len, name, NUM)->num = v;
}

static void fstr(struct fields *f, size_t off, size_t len, const char *name, const char *s)
{
	snprintf(add_field(f, off, len, name, STR)->str, 64, "%s", s);
}

static void fbytes(struct fields *f, size_t off, size_t len, const char *name, const uint8_t *b)
{
	memcpy(add_field(f, off, len, name, BYTES)->bytes, b, len);
}

static void fpath(struct fields *f, size_t off, uint8_t dev, uint8_t fn)
{
	struct field *x = add_field(f, off, 2, "PCI Path", PATH);

	x->bytes[0] = dev;
	x->bytes[1] = fn;
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void header_fields(struct fields *f, const struct iommu_acpi_header *h)
{
	fstr(f, 0, 4, "Signature", h->signature);
	fnum(f, 4, 4, "Table Length", h->length);
	fnum(f, 8, 1, "Revision", h->revision);
	fnum(f, 9, 1, "Checksum", h->checksum);
	fstr(f, 10, 6, "Oem ID", h->oem_id);
	fstr(f, 16, 8, "Oem Table ID", h->oem_table_id);
	fnum(f, 24, 4, "Oem Revision", h->oem_revision);
	fstr(f, 28, 4, "Asl Compiler ID", h->asl_compiler_id);
	fnum(f, 32, 4, "Asl Compiler Revision", h->asl_compiler_revision);
}

static void dmar_fields(const struct iommu_dmar *d, struct fields *f)
{
	f->acpica = true;
	header_fields(f, &d->header);
	fnum(f, 36, 1, "Host Address Width", d->host_address_width);
	fnum(f, 37, 1, "Flags", d->flags);
	fbytes(f, 38, 10, "Reserved", d->data + 38);
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *s = &d->structs[i];
		size_t o = s->offset;

		fnum(f, o, 2, "Subtable Type", s->type);
		fnum(f, o + 2, 2, "Length", s->length);
		/* iasl 20200925 knows types 0-4 and stops the table at the first other one */
		if (s->type > IOMMU_DMAR_ANDD)
			f->acpica = false;
		switch (s->type) {
		case IOMMU_DMAR_DRHD:
			fnum(f, o + 4, 1, "Flags", s->flags);
			fnum(f, o + 5, 1, "Reserved", s->size);
			fnum(f, o + 6, 2, "PCI Segment Number", s->segment);
			fnum(f, o + 8, 8, "Register Base Address", s->address);
			break;
		case IOMMU_DMAR_RMRR:
			fnum(f, o + 4, 2, "Reserved", s->reserved);
			fnum(f, o + 6, 2, "PCI Segment Number", s->segment);
			fnum(f, o + 8, 8, "Base Address", s->base);
			fnum(f, o + 16, 8, "End Address (limit)", s->end);
			break;
		case IOMMU_DMAR_ATSR:
			fnum(f, o + 4, 1, "Flags", s->flags);
			fnum(f, o + 5, 1, "Reserved", s->reserved);
			fnum(f, o + 6, 2, "PCI Segment Number", s->segment);
			break;
		case IOMMU_DMAR_RHSA:
			fnum(f, o + 4, 4, "Reserved", s->reserved);
			fnum(f, o + 8, 8, "Base Address", s->address);
			fnum(f, o + 16, 4, "Proximity Domain", s->proximity_domain);
			break;
		case IOMMU_DMAR_ANDD:
			fnum(f, o + 4, 3, "Reserved", s->reserved);
			fnum(f, o + 7, 1, "Device Number", s->acpi_device_number);
			fstr(f, o + 8, strlen(s->object_name) + 1, "Device Name", s->object_name);
			break;
		}
		for (size_t k = 0; k < s->n_scopes; k++) {
			const struct iommu_dmar_scope *sc = &s->scopes[k];

			fnum(f, sc->offset, 1, "Device Scope Type", sc->type);
			fnum(f, sc->offset + 1, 1, "Entry Length", sc->length);
			fnum(f, sc->offset + 2, 2, "Reserved", sc->reserved);
			fnum(f, sc->offset + 4, 1, "Enumeration ID", sc->enumeration_id);
			fnum(f, sc->offset + 5, 1, "PCI Bus Number", sc->start_bus);
			for (size_t p = 0; p < sc->n_path; p++)
				fpath(f, sc->offset + 6 + 2 * p, sc->path[p].device, sc->path[p].function);
		}
	}
}

static void ivrs_fields(const struct iommu_ivrs *r, struct fields *f)
{
	f->acpica = true;
	header_fields(f, &r->header);
	fnum(f, 36, 4, "Virtualization Info", r->iv_info);
	fnum(f, 40, 8, "Reserved", le(r->data + 40, 8));
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &r->blocks[i];
		size_t o = b->offset;

		f->acpica = true;
		fnum(f, o, 1, "Subtable Type", b->type);
		fnum(f, o + 1, 1, "Flags", b->flags);
		fnum(f, o + 2, 2, "Length", b->length);
		fnum(f, o + 4, 2, "DeviceId", b->device_id);
		/* iasl 20200925 does not know 40h (nor 51h): it stops at the device id */
		f->acpica = b->type == 0x10 || b->type == 0x11 || (b->type >= 0x20 && b->type <= 0x22);
		if (b->type == 0x10 || b->type == 0x11 || b->type == 0x40) {
			fnum(f, o + 6, 2, "Capability Offset", b->capability_offset);
			fnum(f, o + 8, 8, "Base Address", b->base_address);
			fnum(f, o + 16, 2, "PCI Segment Group", b->pci_segment);
			fnum(f, o + 18, 2, "Virtualization Info", b->iommu_info);
			if (b->type == 0x10) {
				fnum(f, o + 20, 4, "Feature Reporting", b->iommu_attributes);
			} else {
				fnum(f, o + 20, 4, "Attributes", b->iommu_attributes);
				fnum(f, o + 24, 8, "EFR Image", b->efr_register);
				fnum(f, o + 32, 8, "Reserved", b->efr_register2);
			}
		} else if (b->type >= 0x20 && b->type <= 0x22) {
			fnum(f, o + 6, 2, "Auxiliary Data", b->aux_data);
			fnum(f, o + 8, 8, "Reserved", le(b->raw + 8, 8));
			fnum(f, o + 16, 8, "Start Address", b->start_address);
			fnum(f, o + 24, 8, "Memory Length", b->memory_length);
		}
		for (size_t k = 0; k < b->n_entries; k++) {
			const struct iommu_ivhd_entry *e = &b->entries[k];
			size_t eo = e->offset;

			fnum(f, eo, 1, "Entry Type", e->type);
			fnum(f, eo + 1, 2, "Device ID", e->device_id);
			fnum(f, eo + 3, 1, "Data Setting", e->data_setting);
			if (e->type == IOMMU_IVHD_DEV_ALIAS || e->type == IOMMU_IVHD_DEV_ALIAS_RANGE) {
				fnum(f, eo + 4, 1, "Reserved", e->ext_data & 0xff);
				fnum(f, eo + 5, 2, "Source Used Device ID", e->alias_id);
				fnum(f, eo + 7, 1, "Reserved", e->ext_data >> 24);
			} else if (e->type == IOMMU_IVHD_DEV_SPECIAL) {
				fnum(f, eo + 4, 1, "Handle", e->special_handle);
				fnum(f, eo + 5, 2, "Source Used Device ID", e->special_device_id);
				fnum(f, eo + 7, 1, "Variety", e->special_variety);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Comparison                                                           */

static bool parse_hex_prefix(const char *s, uint64_t *v)
{
	int digits = 0;

	*v = 0;
	while (*s) {
		int c = *s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		*v = *v << 4 | (uint64_t)d;
		digits++;
		s++;
	}
	return digits > 0 && digits <= 16;
}

static bool value_equal(const struct field *x, const char *value, char *why, size_t wl)
{
	uint64_t v;

	switch (x->kind) {
	case NUM:
		if (!parse_hex_prefix(value, &v)) {
			snprintf(why, wl, "ACPICA value '%s' is no number", value);
			return false;
		}
		if (v != x->num) {
			snprintf(why, wl, "ours 0x%llx, ACPICA '%s'", (unsigned long long)x->num, value);
			return false;
		}
		return true;
	case STR: {
		const char *q = strchr(value, '"'), *e;
		size_t n;

		if (!q || !(e = strchr(q + 1, '"'))) {
			snprintf(why, wl, "ACPICA value '%s' is no string", value);
			return false;
		}
		/* ACPICA shows characters that are not printable as blanks
		 * (AcpiUtCheckAndRepairAscii); so does the comparison. */
		char shown[64];

		snprintf(shown, sizeof(shown), "%s", x->str);
		for (char *c = shown; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				*c = ' ';
		n = (size_t)(e - q - 1);
		if (n != strlen(shown) || memcmp(q + 1, shown, n)) {
			snprintf(why, wl, "ours \"%s\", ACPICA %s", x->str, value);
			return false;
		}
		return true;
	}
	case BYTES:
		for (size_t i = 0; i < x->len; i++) {
			unsigned b;

			if (sscanf(value + 3 * i, "%2x", &b) != 1 || b != x->bytes[i]) {
				snprintf(why, wl, "byte %zu differs: ACPICA '%s'", i, value);
				return false;
			}
		}
		return true;
	case PATH: {
		unsigned dv, fn;

		if (sscanf(value, "%2x,%2x", &dv, &fn) != 2 || dv != x->bytes[0] || fn != x->bytes[1]) {
			snprintf(why, wl, "ours %02X,%02X, ACPICA '%s'", x->bytes[0], x->bytes[1], value);
			return false;
		}
		return true;
	}
	}
	return false;
}

struct totals {
	size_t tables, dsl_fields, our_fields, acpica_fields, spec_only_fields, structures, failures;
};

/* Compare one table; failures are printed and counted. */
static void compare(const struct entry *x, struct totals *t)
{
	struct dsl_field *dsl;
	struct fields f = { 0 };
	size_t nd = parse_dsl(x->dsl, &dsl), fails = 0;
	struct iommu_error err;

	if (!strcmp(x->kind, "DMAR")) {
		struct iommu_dmar *d;

		assert_int_equal(iommu_dmar_parse(x->table, x->len, &d, &err), 0);
		dmar_fields(d, &f);
		t->structures += d->n_structs;
		iommu_dmar_free(d);
	} else {
		struct iommu_ivrs *r;

		assert_int_equal(iommu_ivrs_parse(x->table, x->len, &r, &err), 0);
		ivrs_fields(r, &f);
		t->structures += r->n_blocks;
		for (size_t i = 0; i < r->n_blocks; i++)
			t->structures += r->blocks[i].n_entries;
		iommu_ivrs_free(r);
	}
	for (size_t i = 0; i < nd; i++) {
		struct field *m = NULL;
		char why[256] = "";

		for (size_t k = 0; k < f.n && !m; k++)
			if (f.v[k].off == dsl[i].off && !strcmp(f.v[k].name, dsl[i].name))
				m = &f.v[k];
		if (!m) {
			print_message("%s/%s: ACPICA decodes [0x%zx] %s : %s, we have no such field\n", x->kind,
				      x->id, dsl[i].off, dsl[i].name, dsl[i].value);
			fails++;
			continue;
		}
		if (m->len != dsl[i].len) {
			print_message("%s/%s: [0x%zx] %s: %zu bytes for ACPICA, %zu for us\n", x->kind, x->id,
				      dsl[i].off, dsl[i].name, dsl[i].len, m->len);
			fails++;
		}
		if (!value_equal(m, dsl[i].value, why, sizeof(why))) {
			print_message("%s/%s: [0x%zx] %s: %s\n", x->kind, x->id, dsl[i].off, dsl[i].name, why);
			fails++;
		}
		m->seen = true;
	}
	for (size_t k = 0; k < f.n; k++) {
		if (f.v[k].acpica && !f.v[k].seen) {
			print_message("%s/%s: our field [0x%zx] %s is not in ACPICA's decode\n", x->kind, x->id,
				      f.v[k].off, f.v[k].name);
			fails++;
		}
		if (f.v[k].acpica)
			t->acpica_fields++;
		else
			t->spec_only_fields++;
	}
	t->tables++;
	t->dsl_fields += nd;
	t->our_fields += f.n;
	t->failures += fails;
	free(dsl);
	free(f.v);
}

static void test_corpus_against_acpica(void **state)
{
	struct totals t = { 0 };

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++)
		compare(&corpus[i], &t);
	print_message("%zu tables (%zu DMAR, %zu IVRS), %zu structures and entries; %zu ACPICA fields "
		      "compared, %zu of our fields in structures ACPICA decodes, %zu in structures only "
		      "the specifications describe; %zu mismatches\n", t.tables, n_dmar, n_ivrs,
		      t.structures, t.dsl_fields, t.acpica_fields, t.spec_only_fields, t.failures);
	assert_int_equal(t.tables, n_corpus);
	assert_int_equal(t.failures, 0);
	assert_true(t.dsl_fields > 10000);
}

/* Every real table decodes; only the two with a DRHD at address 0 (the
 * firmware of a ThinkPad E15 Gen 2 and a sibling reports a disabled unit
 * so; the kernel says "Your BIOS is broken" and does without VT-d) are
 * refused, and nothing is worse than a note elsewhere. */
static void test_corpus_diagnostics(void **state)
{
	static const char *const refused[] = { "188EB681251A", "D19FB82D46CF" };
	size_t notes = 0, n_refused = 0;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++) {
		const struct entry *x = &corpus[i];
		const struct iommu_diag *v;
		size_t n;
		bool r, expect = false;
		struct iommu_dmar *d = NULL;
		struct iommu_ivrs *iv = NULL;

		if (!strcmp(x->kind, "DMAR")) {
			assert_int_equal(iommu_dmar_parse(x->table, x->len, &d, NULL), 0);
			v = d->diags;
			n = d->n_diags;
			r = d->refused;
			for (size_t k = 0; k < 2; k++)
				expect |= !strcmp(x->id, refused[k]);
		} else {
			assert_int_equal(iommu_ivrs_parse(x->table, x->len, &iv, NULL), 0);
			v = iv->diags;
			n = iv->n_diags;
			r = iv->refused;
		}
		if (r != expect) {
			print_message("%s/%s: refused %d\n", x->kind, x->id, r);
			fail();
		}
		n_refused += r;
		for (size_t k = 0; k < n; k++) {
			if (v[k].severity == IOMMU_DIAG_NOTE) {
				notes++;
				continue;
			}
			if (!expect || !strstr(v[k].msg, "address 0")) {
				print_message("%s/%s: %s\n", x->kind, x->id, v[k].msg);
				fail();
			}
		}
		iommu_dmar_free(d);
		iommu_ivrs_free(iv);
	}
	assert_int_equal(n_refused, 2);
	print_message("%zu notes over the corpus, 2 tables refused as the kernel would\n", notes);
}

/* ------------------------------------------------------------------ */
/* Hand-checked expectations where ACPICA stops                         */

struct exp_scope {
	uint8_t type, length, flags, bus, dev, fn;
};

static void check_scopes(const struct iommu_dmar_struct *s, const struct exp_scope *e, size_t n)
{
	assert_int_equal(s->n_scopes, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s->scopes[i].type, e[i].type);
		assert_int_equal(s->scopes[i].length, e[i].length);
		assert_int_equal(s->scopes[i].flags, e[i].flags);
		assert_int_equal(s->scopes[i].start_bus, e[i].bus);
		assert_int_equal(s->scopes[i].n_path, 1);
		assert_int_equal(s->scopes[i].path[0].device, e[i].dev);
		assert_int_equal(s->scopes[i].path[0].function, e[i].fn);
	}
}

/*
 * DMAR/717EDB7C4975 (Framework Laptop 13, Meteor Lake), bytes 0x68-0x97:
 *   05 00 18 00 01 00 00 00 | 01 08 00 00 00 00 02 00 | 01 08 00 00 00 00 0b 00
 *   06 00 18 00 00 00 00 00 | 01 08 1f 00 00 00 02 00 | 01 08 1c 00 00 00 0b 00
 * SATC (VT-d 8.8): type 5, length 24, flags 1 (ATC_REQUIRED), reserved 0,
 * segment 0, endpoint scopes 00:02.0 and 00:0b.0; SIDP (VT-d 8.9): type 6,
 * length 24, segment 0, endpoint scopes with flags 1fh and 1ch.
 */
static void test_hand_satc_framework(void **state)
{
	static const struct exp_scope satc[] = {
		{ 1, 8, 0, 0, 0x02, 0 }, { 1, 8, 0, 0, 0x0b, 0 },
	};
	static const struct exp_scope sidp[] = {
		{ 1, 8, 0x1f, 0, 0x02, 0 }, { 1, 8, 0x1c, 0, 0x0b, 0 },
	};
	const struct entry *x;
	struct iommu_dmar *d;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	x = find_entry("DMAR", "717EDB7C4975");
	assert_non_null(x);
	assert_int_equal(iommu_dmar_parse(x->table, x->len, &d, NULL), 0);
	assert_int_equal(d->n_structs, 4);
	assert_int_equal(d->host_address_width, 0x29);
	assert_int_equal(d->flags, 0x05);
	assert_int_equal(d->structs[2].offset, 0x68);
	assert_int_equal(d->structs[2].type, IOMMU_DMAR_SATC);
	assert_int_equal(d->structs[2].length, 24);
	assert_int_equal(d->structs[2].flags, IOMMU_SATC_FLAG_ATC_REQUIRED);
	assert_int_equal(d->structs[2].reserved, 0);
	assert_int_equal(d->structs[2].segment, 0);
	check_scopes(&d->structs[2], satc, 2);
	assert_int_equal(d->structs[2].scopes[1].offset, 0x78);
	assert_int_equal(d->structs[3].offset, 0x80);
	assert_int_equal(d->structs[3].type, IOMMU_DMAR_SIDP);
	assert_int_equal(d->structs[3].length, 24);
	assert_int_equal(d->structs[3].segment, 0);
	check_scopes(&d->structs[3], sidp, 2);
	assert_int_equal(d->structs[3].scopes[0].reserved, 0x001f);
	assert_false(d->refused);
	iommu_dmar_free(d);
}

/*
 * DMAR/F253BBB7B294 (MSI Prestige 13 AI+ Evo A2VMG, Lunar Lake), bytes
 * 0x98-0xd7:
 *   05 00 20 00 01 00 00 00 | 01 08 00 00 00 00 02 00 | 01 08 00 00 00 00 05 00
 *   01 08 00 00 00 00 0b 00 | 06 00 20 00 00 00 00 00 | 01 08 1f 00 00 00 02 00
 *   01 08 1f 00 00 00 05 00 | 01 08 1c 00 00 00 0b 00
 * and DRHD size bytes 04 (2^4 pages) at 0x35, 0x4d, 0x7d.
 */
static void test_hand_satc_msi(void **state)
{
	static const struct exp_scope satc[] = {
		{ 1, 8, 0, 0, 0x02, 0 }, { 1, 8, 0, 0, 0x05, 0 }, { 1, 8, 0, 0, 0x0b, 0 },
	};
	static const struct exp_scope sidp[] = {
		{ 1, 8, 0x1f, 0, 0x02, 0 }, { 1, 8, 0x1f, 0, 0x05, 0 }, { 1, 8, 0x1c, 0, 0x0b, 0 },
	};
	const struct entry *x;
	struct iommu_dmar *d;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	x = find_entry("DMAR", "F253BBB7B294");
	assert_non_null(x);
	assert_int_equal(iommu_dmar_parse(x->table, x->len, &d, NULL), 0);
	assert_int_equal(d->n_structs, 5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(d->structs[i].size, 4);
	assert_int_equal(d->structs[2].flags, IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL);
	assert_int_equal(d->structs[2].address, 0xfc820000);
	assert_int_equal(d->structs[3].offset, 0x98);
	assert_int_equal(d->structs[3].type, IOMMU_DMAR_SATC);
	assert_int_equal(d->structs[3].length, 32);
	assert_int_equal(d->structs[3].flags, 1);
	check_scopes(&d->structs[3], satc, 3);
	assert_int_equal(d->structs[4].offset, 0xb8);
	assert_int_equal(d->structs[4].type, IOMMU_DMAR_SIDP);
	assert_int_equal(d->structs[4].length, 32);
	check_scopes(&d->structs[4], sidp, 3);
	iommu_dmar_free(d);
}

struct exp_entry {
	size_t offset;
	uint8_t type;
	uint16_t devid;
	uint8_t dte;
	uint16_t other;         /* alias id, or special device id */
	uint8_t handle, variety;
};

static void check_entries(const struct iommu_ivrs_block *b, const struct exp_entry *e, size_t n)
{
	assert_int_equal(b->n_entries, n);
	for (size_t i = 0; i < n; i++) {
		const struct iommu_ivhd_entry *x = &b->entries[i];

		assert_int_equal(x->offset, e[i].offset);
		assert_int_equal(x->type, e[i].type);
		assert_int_equal(x->device_id, e[i].devid);
		assert_int_equal(x->data_setting, e[i].dte);
		if (x->type == IOMMU_IVHD_DEV_ALIAS_RANGE)
			assert_int_equal(x->alias_id, e[i].other);
		if (x->type == IOMMU_IVHD_DEV_SPECIAL) {
			assert_int_equal(x->special_device_id, e[i].other);
			assert_int_equal(x->special_handle, e[i].handle);
			assert_int_equal(x->special_variety, e[i].variety);
		}
	}
}

/*
 * IVRS/405067A82A69 (Lenovo ThinkPad, Renoir), the 40h block at 0xf0:
 *   40 b0 d4 00 02 00 40 00 | 00 00 f0 fd 00 00 00 00 | 00 00 00 00 00 02 04 00
 *   de 4a 25 22 ef 73 6d 20 | 00 00 00 00 00 00 00 00
 * type 40h, flags b0h, length 212, IOMMU 00:00.2, capability 40h, base
 * fdf00000h, segment 0, info 0, attributes 00040200h, EFR 206d73ef22254adeh,
 * EFR2 0; entries from 0x118: range 0008-fffe; alias range ff00-ffff to
 * 00:14.5 (00a5h); padding; HPET 0, IOAPIC 20h and 21h; four ACPI HID
 * entries "AMDI0020", no CID, UID format 2 (string), 9 bytes "\_SB.FURn".
 * Then a block of type 51h (flags 08h, length 32, device id 0100h).
 */
static void test_hand_ivhd40_lenovo(void **state)
{
	static const struct exp_entry ent[] = {
		{ 0x118, 0x03, 0x0008, 0x00, 0, 0, 0 },
		{ 0x11c, 0x04, 0xfffe, 0x00, 0, 0, 0 },
		{ 0x120, 0x43, 0xff00, 0x00, 0x00a5, 0, 0 },
		{ 0x128, 0x04, 0xffff, 0x00, 0, 0, 0 },
		{ 0x12c, 0x00, 0x0000, 0x00, 0, 0, 0 },
		{ 0x130, 0x48, 0x0000, 0x00, 0x00a0, 0x00, 2 },
		{ 0x138, 0x48, 0x0000, 0xd7, 0x00a0, 0x20, 1 },
		{ 0x140, 0x48, 0x0000, 0x00, 0x0001, 0x21, 1 },
		{ 0x148, 0xf0, 0x00a5, 0x40, 0, 0, 0 },
		{ 0x167, 0xf0, 0x00a5, 0x40, 0, 0, 0 },
		{ 0x186, 0xf0, 0x00a5, 0x40, 0, 0, 0 },
		{ 0x1a5, 0xf0, 0x00a5, 0x40, 0, 0, 0 },
	};
	const struct entry *x;
	struct iommu_ivrs *r;
	const struct iommu_ivrs_block *b;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	x = find_entry("IVRS", "405067A82A69");
	assert_non_null(x);
	assert_int_equal(iommu_ivrs_parse(x->table, x->len, &r, NULL), 0);
	assert_int_equal(r->n_blocks, 5);
	b = &r->blocks[3];
	assert_int_equal(b->offset, 0xf0);
	assert_int_equal(b->type, 0x40);
	assert_int_equal(b->flags, 0xb0);
	assert_int_equal(b->length, 212);
	assert_int_equal(b->device_id, 0x0002);
	assert_int_equal(b->capability_offset, 0x40);
	assert_int_equal(b->base_address, 0xfdf00000);
	assert_int_equal(b->pci_segment, 0);
	assert_int_equal(b->iommu_info, 0);
	assert_int_equal(b->iommu_attributes, 0x00040200);
	assert_int_equal(b->efr_register, 0x206d73ef22254adeull);
	assert_int_equal(b->efr_register2, 0);
	check_entries(b, ent, sizeof(ent) / sizeof(ent[0]));
	for (size_t i = 8; i < 12; i++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "\\_SB.FUR%zu", i - 8);
		assert_string_equal(b->entries[i].hid, "AMDI0020");
		assert_string_equal(b->entries[i].cid, "");
		assert_int_equal(b->entries[i].uid_format, 2);
		assert_int_equal(b->entries[i].uid_length, 9);
		assert_string_equal(b->entries[i].uid, uid);
		assert_int_equal(b->entries[i].length, 31);
	}
	b = &r->blocks[4];
	assert_int_equal(b->offset, 0x1c4);
	assert_int_equal(b->type, 0x51);
	assert_false(b->known);
	assert_int_equal(b->flags, 0x08);
	assert_int_equal(b->length, 32);
	assert_int_equal(b->device_id, 0x0100);
	/* the kernel's walk stops at 51h and uses 40h */
	assert_int_equal(iommu_ivrs_ivhd_type(r), 0x40);
	iommu_ivrs_free(r);
}

/*
 * IVRS/4C483D36D3E6 (ASRock X370 Killer SLI), the 40h block at 0x100:
 *   40 30 86 00 02 00 40 00 | 00 00 20 fd 00 00 00 00 | 00 00 00 00 00 80 04 00
 *   da 4a 29 22 ef 77 4f 00 | 00 00 00 00 00 00 00 00
 * entries: range 0003-03ff, selects 0100-0103, 0300-0304, 0306, IOAPIC 1 at
 * 00:00.1, HPET 0 and IOAPIC 0 at 00:14.0, and at 0x170 an ACPI HID entry
 *   f0 99 00 f7 "AMDI0040" 00x8 00 00
 * for device 00:13.1, DTE f7h, no CID, no UID (22 bytes, the table's end).
 */
static void test_hand_ivhd40_asrock(void **state)
{
	static const struct exp_entry ent[] = {
		{ 0x128, 0x03, 0x0003, 0, 0, 0, 0 }, { 0x12c, 0x04, 0x03ff, 0, 0, 0, 0 },
		{ 0x130, 0x02, 0x0100, 0, 0, 0, 0 }, { 0x134, 0x02, 0x0101, 0, 0, 0, 0 },
		{ 0x138, 0x02, 0x0102, 0, 0, 0, 0 }, { 0x13c, 0x02, 0x0103, 0, 0, 0, 0 },
		{ 0x140, 0x02, 0x0300, 0, 0, 0, 0 }, { 0x144, 0x02, 0x0301, 0, 0, 0, 0 },
		{ 0x148, 0x02, 0x0302, 0, 0, 0, 0 }, { 0x14c, 0x02, 0x0303, 0, 0, 0, 0 },
		{ 0x150, 0x02, 0x0304, 0, 0, 0, 0 }, { 0x154, 0x02, 0x0306, 0, 0, 0, 0 },
		{ 0x158, 0x48, 0x0000, 0, 0x0001, 1, 1 }, { 0x160, 0x48, 0x0000, 0, 0x00a0, 0, 2 },
		{ 0x168, 0x48, 0x0000, 0xd7, 0x00a0, 0, 1 }, { 0x170, 0xf0, 0x0099, 0xf7, 0, 0, 0 },
	};
	const struct entry *x;
	struct iommu_ivrs *r;
	const struct iommu_ivrs_block *b;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	x = find_entry("IVRS", "4C483D36D3E6");
	assert_non_null(x);
	assert_int_equal(iommu_ivrs_parse(x->table, x->len, &r, NULL), 0);
	b = &r->blocks[r->n_blocks - 1];
	assert_int_equal(b->offset, 0x100);
	assert_int_equal(b->type, 0x40);
	assert_int_equal(b->flags, 0x30);
	assert_int_equal(b->length, 0x86);
	assert_int_equal(b->base_address, 0xfd200000);
	assert_int_equal(b->iommu_attributes, 0x00048000);
	assert_int_equal(b->efr_register, 0x004f77ef22294adaull);
	check_entries(b, ent, sizeof(ent) / sizeof(ent[0]));
	assert_string_equal(b->entries[15].hid, "AMDI0040");
	assert_string_equal(b->entries[15].cid, "");
	assert_int_equal(b->entries[15].uid_format, 0);
	assert_int_equal(b->entries[15].uid_length, 0);
	assert_null(b->entries[15].uid);
	assert_int_equal(b->entries[15].length, 22);
	assert_int_equal(b->entries[15].offset + 22, x->len);
	iommu_ivrs_free(r);
}

/* ------------------------------------------------------------------ */
/* acpidump text                                                        */

/* Write @len bytes as acpidump prints a table. */
static size_t dump_table(char *out, size_t cap, const char *sig, uint64_t addr,
			 const uint8_t *b, size_t len, bool lower)
{
	size_t n = 0;

	n += (size_t)snprintf(out + n, cap - n, "%s @ 0x%016llx\n", sig, (unsigned long long)addr);
	for (size_t off = 0; off < len; off += 16) {
		n += (size_t)snprintf(out + n, cap - n, "    %04zX:", off);
		for (size_t i = 0; i < 16; i++) {
			if (off + i < len)
				n += (size_t)snprintf(out + n, cap - n, lower ? " %02x" : " %02X", b[off + i]);
			else
				n += (size_t)snprintf(out + n, cap - n, "   ");
		}
		n += (size_t)snprintf(out + n, cap - n, "  ");
		for (size_t i = 0; i < 16 && off + i < len; i++)
			out[n++] = b[off + i] >= 0x20 && b[off + i] < 0x7f ? (char)b[off + i] : '.';
		out[n++] = '\n';
	}
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

static void test_acpidump_round_trip(void **state)
{
	size_t cap = 1 << 20;
	char *text = malloc(cap);
	size_t checked = 0;

	(void)state;
	if (!have_corpus()) {
		free(text);
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++) {
		const struct entry *x = &corpus[i];
		struct iommu_acpi_tables *t;
		struct iommu_error err;
		size_t n = 0;

		/* a dump with an RSDP, a message line, then the table; Windows line ends on odd ones */
		n += (size_t)snprintf(text + n, cap - n, "Firmware Warning (ACPI): something\n");
		n += dump_table(text + n, cap - n, "RSDP", 0xf05b0, (const uint8_t *)"RSD PTR \x55OEMID \x00"
				"\x00\x10\x00\x00\x24\x00\x00\x00", 20, false);
		n += dump_table(text + n, cap - n, x->kind, 0x7f6f4000, x->table, x->len, i % 3 == 0);
		if (i % 5 == 1) {
			/* as a web forum shows it: runs of blanks squeezed to one */
			size_t m = 0;

			for (size_t k = 0; k < n; k++)
				if (!(text[k] == ' ' && m && text[m - 1] == ' '))
					text[m++] = text[k];
			n = m;
			text[n] = '\0';
		}
		if (i % 2) {
			/* as pasted from Windows: CRLF */
			char *crlf = malloc(2 * n + 1);
			size_t m = 0;

			for (size_t k = 0; k < n; k++) {
				if (text[k] == '\n')
					crlf[m++] = '\r';
				crlf[m++] = text[k];
			}
			memcpy(text, crlf, m);
			n = m;
			free(crlf);
		}
		if (iommu_acpi_parse_acpidump(text, n, &t, &err)) {
			print_message("%s/%s: %s\n", x->kind, x->id, err.msg);
			fail();
		}
		assert_int_equal(t->n, 2);
		assert_string_equal(t->tables[0].signature, "RSD ");
		assert_string_equal(t->tables[1].signature, x->kind);
		assert_int_equal(t->tables[1].len, x->len);
		assert_memory_equal(t->tables[1].data, x->table, x->len);
		assert_ptr_equal(iommu_acpi_tables_find(t, x->kind, 0), &t->tables[1]);
		assert_null(iommu_acpi_tables_find(t, x->kind, 1));
		iommu_acpi_tables_free(t);
		checked++;
	}
	print_message("%zu tables through acpidump text and back\n", checked);
	free(text);
}

/* Broken acpidump text: a clear error with the line, never a crash. */
static void test_acpidump_broken(void **state)
{
	const struct entry *x;
	size_t cap = 1 << 16, len, errors = 0;
	char *good = malloc(cap), *bad = malloc(cap);

	(void)state;
	if (!have_corpus()) {
		free(good);
		free(bad);
		skip();
		return;
	}
	x = find_entry("DMAR", "717EDB7C4975");
	assert_non_null(x);
	len = dump_table(good, cap, "DMAR", 0x7f6f4000, x->table, x->len, false);

	/* every hex digit of the dump, made 'G' */
	for (size_t i = 0; i < len; i++) {
		struct iommu_acpi_tables *t = NULL;
		struct iommu_error err;
		const char *line_start;
		int ret;

		if (!strchr("0123456789ABCDEF", good[i]))
			continue;
		line_start = good + i;
		while (line_start > good && line_start[-1] != '\n')
			line_start--;
		/* only the hex bytes and offsets, not the ASCII column */
		if ((size_t)(good + i - line_start) > 4 + 5 + 48)
			continue;
		if (line_start[0] != ' ')
			continue;       /* the header line's address */
		memcpy(bad, good, len + 1);
		bad[i] = 'G';
		ret = iommu_acpi_parse_acpidump(bad, len, &t, &err);
		if (ret == 0) {
			print_message("a 'G' at %zu was accepted\n", i);
			iommu_acpi_tables_free(t);
			fail();
		}
		assert_int_equal(ret, -EINVAL);
		assert_null(t);
		assert_non_null(strstr(err.msg, "acpidump line "));
		errors++;
	}
	/* every cut of the text */
	for (size_t cut = 0; cut < len; cut++) {
		struct iommu_acpi_tables *t = NULL;
		struct iommu_error err;
		int ret = iommu_acpi_parse_acpidump(good, cut, &t, &err);

		if (ret == 0) {
			/* only a cut inside the trailing ASCII column or blank line keeps all bytes */
			assert_int_equal(t->n, 1);
			assert_int_equal(t->tables[0].len, x->len);
			iommu_acpi_tables_free(t);
			continue;
		}
		assert_int_equal(ret, -EINVAL);
		if (!(strstr(err.msg, "truncated") || strstr(err.msg, "no table found") ||
		      strstr(err.msg, "fewer than the 36") || strstr(err.msg, "not a hex") ||
		      strstr(err.msg, "no hex bytes"))) {
			print_message("cut at %zu: %s\n", cut, err.msg);
			fail();
		}
		errors++;
	}
	/* a line missing, offsets out of order, a line before any header, NUL bytes */
	{
		static const char *const cases[][2] = {
			{ "DMAR @ 0x0\n    0000: 44 4D 41 52 98 00 00 00 01 D6 49 4E 53 59 44 45\n"
			  "    0020: 00 00\n", "offset 0020, but 16 bytes" },
			{ "    0000: 44 4D 41 52\n", "before any 'SIG @ 0xADDRESS'" },
			{ "DMAR @ 0x0\n    0000: 44 4D 41 52 98\n", "fewer than the 36" },
			{ "DMAR @ 0x0\n    0000:\n", "no hex bytes" },
			{ "DMAR @ 0x0\n    0000: 4 4D\n", "not a hex byte" },
			{ "DMAR @ 0x0\n    0000: 444D\n", "not a hex byte" },
			{ "hello\nworld\n", "no table found" },
			{ "", "no table found" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct iommu_acpi_tables *t = NULL;
			struct iommu_error err;

			assert_int_equal(iommu_acpi_parse_acpidump(cases[i][0], strlen(cases[i][0]), &t, &err),
					 -EINVAL);
			if (!strstr(err.msg, cases[i][1])) {
				print_message("case %zu: %s\n", i, err.msg);
				fail();
			}
			assert_null(t);
		}
	}
	{
		char nul[] = "DMAR @ 0x0\n    0000: 44 4D\0 41\n";
		struct iommu_acpi_tables *t = NULL;
		struct iommu_error err;

		assert_int_equal(iommu_acpi_parse_acpidump(nul, sizeof(nul) - 1, &t, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "NUL byte"));
	}
	print_message("%zu broken texts refused with a message\n", errors);
	free(good);
	free(bad);
}

/* Files and directories: binary tables, acpidump text, a snapshot. */
static void test_load_files_and_dirs(void **state)
{
	const struct entry *dm, *iv;
	char *tmp, path[PATH_MAX], *text;
	struct iommu_acpi_tables *t;
	struct iommu_error err;
	size_t n;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	dm = find_entry("DMAR", "717EDB7C4975");
	iv = find_entry("IVRS", "405067A82A69");
	tmp = make_temp_dir();
	assert_non_null(tmp);
	/* a directory as /sys/firmware/acpi/tables: binary tables, subdirectories, other files */
	snprintf(path, sizeof(path), "%s/tables/DMAR", tmp);
	assert_int_equal(write_file(path, dm->table, dm->len), 0);
	snprintf(path, sizeof(path), "%s/tables/IVRS", tmp);
	assert_int_equal(write_file(path, iv->table, iv->len), 0);
	snprintf(path, sizeof(path), "%s/tables/DMAR.dsl", tmp);
	assert_int_equal(write_file(path, dm->dsl, dm->dsl_len), 0);
	snprintf(path, sizeof(path), "%s/tables/dynamic/SSDT9", tmp);
	assert_int_equal(write_file(path, "SSDT", 4), 0);
	snprintf(path, sizeof(path), "%s/tables", tmp);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), 0);
	assert_int_equal(t->n, 2);
	assert_string_equal(t->tables[0].signature, "DMAR");
	assert_string_equal(t->tables[1].signature, "IVRS");
	assert_memory_equal(t->tables[1].data, iv->table, iv->len);
	assert_non_null(strstr(t->tables[0].name, "tables/DMAR"));
	iommu_acpi_tables_free(t);
	/* a snapshot: read through its acpi/ */
	snprintf(path, sizeof(path), "%s/snap/acpi/DMAR", tmp);
	assert_int_equal(write_file(path, dm->table, dm->len), 0);
	snprintf(path, sizeof(path), "%s/snap/cmdline", tmp);
	assert_int_equal(write_file(path, "quiet\n", 6), 0);
	snprintf(path, sizeof(path), "%s/snap", tmp);
	assert_int_equal(iommu_acpi_load_dir(path, &t, &err), 0);
	assert_int_equal(t->n, 1);
	iommu_acpi_tables_free(t);
	/* acpidump text as a file, and in a directory */
	text = malloc(1 << 16);
	n = dump_table(text, 1 << 16, "DMAR", 0x1000, dm->table, dm->len, false);
	n += dump_table(text + n, (1 << 16) - n, "IVRS", 0x2000, iv->table, iv->len, true);
	snprintf(path, sizeof(path), "%s/dump/acpidump.txt", tmp);
	assert_int_equal(write_file(path, text, n), 0);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), 0);
	assert_int_equal(t->n, 2);
	assert_non_null(strstr(t->tables[1].name, "IVRS @ 0x"));
	iommu_acpi_tables_free(t);
	snprintf(path, sizeof(path), "%s/dump", tmp);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), 0);
	assert_int_equal(t->n, 2);
	iommu_acpi_tables_free(t);
	/* broken text named on its own is an error */
	text[30] = 'Z';
	snprintf(path, sizeof(path), "%s/bad.txt", tmp);
	assert_int_equal(write_file(path, text, n), 0);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), -EINVAL);
	if (!strstr(err.msg, "bad.txt: acpidump line 2:")) {
		print_message("%s\n", err.msg);
		fail();
	}
	free(text);
	/* missing, empty, a directory without tables */
	snprintf(path, sizeof(path), "%s/none", tmp);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), -ENOENT);
	snprintf(path, sizeof(path), "%s/empty", tmp);
	assert_int_equal(write_file(path, "", 0), 0);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/emptydir/x.txt", tmp);
	assert_int_equal(write_file(path, "nothing here\n", 13), 0);
	snprintf(path, sizeof(path), "%s/emptydir", tmp);
	assert_int_equal(iommu_acpi_load_path(path, &t, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no ACPI table"));
	remove_tree(tmp);
	free(tmp);
}

/* ------------------------------------------------------------------ */
/* Bad input from every real table                                      */

/* What the API promises for any input that parses. */
static void dmar_invariants(const struct iommu_dmar *d, size_t len)
{
	assert_int_equal(d->len, len);
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *s = &d->structs[i];

		assert_true(s->offset >= 48 && s->offset + 4 <= len);
		assert_ptr_equal(s->raw, d->data + s->offset);
		assert_true(s->length > 0);
		for (size_t k = 0; k < s->n_scopes; k++) {
			const struct iommu_dmar_scope *sc = &s->scopes[k];

			assert_true(sc->offset >= s->offset && sc->offset < len);
			assert_true(sc->offset + 6 + 2 * sc->n_path <= len || sc->n_path == 0);
		}
		if (s->type == IOMMU_DMAR_ANDD)
			assert_non_null(s->object_name);
	}
	for (size_t i = 0; i < d->n_diags; i++) {
		assert_true(d->diags[i].offset <= len);
		assert_true(d->diags[i].structure >= -1 && d->diags[i].structure < (int)d->n_structs);
		assert_true(d->diags[i].msg[0] != '\0');
	}
}

static void ivrs_invariants(const struct iommu_ivrs *r, size_t len)
{
	assert_int_equal(r->len, len);
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &r->blocks[i];

		assert_true(b->offset >= 48 && b->offset + 4 <= len);
		assert_true(b->length > 0);
		for (size_t k = 0; k < b->n_entries; k++)
			assert_true(b->entries[k].offset + b->entries[k].length <= len);
	}
	for (size_t i = 0; i < r->n_diags; i++) {
		assert_true(r->diags[i].offset <= len);
		assert_true(r->diags[i].structure >= -1 && r->diags[i].structure < (int)r->n_blocks);
	}
}

static size_t bad_count(const struct iommu_diag *v, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += v[i].severity != IOMMU_DIAG_NOTE;
	return c;
}

static void fix_checksum(uint8_t *b, size_t len)
{
	uint8_t sum = 0;

	b[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	b[9] = (uint8_t)(0x100 - sum);
}

/* Parse @b (@len bytes) as @kind and check the promises; returns the number
 * of warnings and fatal diagnostics, or -1 when the parse refused the input. */
static int parse_any(const char *kind, const uint8_t *b, size_t len, bool *refused)
{
	struct iommu_error err;
	int ret, bad = 0;

	iommu_error_clear(&err);
	if (!strcmp(kind, "DMAR")) {
		struct iommu_dmar *d = NULL;

		ret = iommu_dmar_parse(b, len, &d, &err);
		if (ret) {
			assert_int_equal(ret, -EINVAL);
			assert_null(d);
			assert_true(err.msg[0]);
			return -1;
		}
		dmar_invariants(d, len);
		bad = (int)bad_count(d->diags, d->n_diags);
		*refused = d->refused;
		/* matching never trips over a damaged table either */
		(void)iommu_dmar_drhd_order(d, NULL, 0);
		iommu_dmar_free(d);
	} else {
		struct iommu_ivrs *r = NULL;
		struct iommu_ivrs_map *m = NULL;

		ret = iommu_ivrs_parse(b, len, &r, &err);
		if (ret) {
			assert_int_equal(ret, -EINVAL);
			assert_null(r);
			return -1;
		}
		ivrs_invariants(r, len);
		bad = (int)bad_count(r->diags, r->n_diags);
		*refused = r->refused;
		(void)iommu_ivrs_ivhd_type(r);
		assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
		iommu_ivrs_map_free(m);
		iommu_ivrs_free(r);
	}
	return bad;
}

static void test_truncated_everywhere(void **state)
{
	size_t parses = 0;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++) {
		const struct entry *x = &corpus[i];
		uint8_t *b = malloc(x->len);

		for (size_t cut = 0; cut < x->len; cut++) {
			bool refused = false;
			int bad;

			/* the file cut: the length field still says more */
			memcpy(b, x->table, cut);
			bad = parse_any(x->kind, b, cut, &refused);
			if (cut < 36) {
				assert_int_equal(bad, -1);
			} else {
				assert_true(bad >= 1);
				assert_true(refused);
			}
			/* the table cut: length field and checksum made to agree */
			if (cut >= 36) {
				memcpy(b, x->table, cut);
				b[4] = (uint8_t)cut;
				b[5] = (uint8_t)(cut >> 8);
				b[6] = b[7] = 0;
				fix_checksum(b, cut);
				bad = parse_any(x->kind, b, cut, &refused);
				assert_true(bad >= 0);
			}
			parses += 2;
		}
		free(b);
	}
	print_message("%zu parses of truncated tables\n", parses);
}

/* The offsets of every length field of a table: (offset, width). */
struct lenfield {
	size_t off, width, value;
};

static size_t length_fields(const struct entry *x, struct lenfield *v, size_t max)
{
	size_t n = 0;

	if (!strcmp(x->kind, "DMAR")) {
		struct iommu_dmar *d;

		assert_int_equal(iommu_dmar_parse(x->table, x->len, &d, NULL), 0);
		for (size_t i = 0; i < d->n_structs && n < max; i++) {
			v[n++] = (struct lenfield){ d->structs[i].offset + 2, 2, d->structs[i].length };
			for (size_t k = 0; k < d->structs[i].n_scopes && n < max; k++)
				v[n++] = (struct lenfield){ d->structs[i].scopes[k].offset + 1, 1,
							    d->structs[i].scopes[k].length };
		}
		iommu_dmar_free(d);
	} else {
		struct iommu_ivrs *r;

		assert_int_equal(iommu_ivrs_parse(x->table, x->len, &r, NULL), 0);
		for (size_t i = 0; i < r->n_blocks && n < max; i++) {
			v[n++] = (struct lenfield){ r->blocks[i].offset + 2, 2, r->blocks[i].length };
			for (size_t k = 0; k < r->blocks[i].n_entries && n < max; k++) {
				const struct iommu_ivhd_entry *e = &r->blocks[i].entries[k];

				/* entry lengths are in the type byte (and the UID length) */
				v[n++] = (struct lenfield){ e->offset, 1, e->type };
				if (e->type == IOMMU_IVHD_DEV_ACPI_HID)
					v[n++] = (struct lenfield){ e->offset + 21, 1, e->uid_length };
			}
		}
		iommu_ivrs_free(r);
	}
	return n;
}

static void test_length_fields_corrupted(void **state)
{
	static const long deltas[] = { -1, 1, -4, 4, -8, 8 };
	static const size_t absolute[] = { 0, 1, 2, 3, 4, 5, 6, 7, 0x80, 0xf0, 0xff, 0xffff };
	size_t parses = 0, zero_detected = 0;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++) {
		const struct entry *x = &corpus[i];
		struct lenfield lf[1024];
		size_t n = length_fields(x, lf, 1024);
		uint8_t *b = malloc(x->len);

		for (size_t k = 0; k < n; k++) {
			size_t vals[32], nv = 0;

			for (size_t a = 0; a < sizeof(absolute) / sizeof(absolute[0]); a++)
				vals[nv++] = absolute[a];
			for (size_t a = 0; a < sizeof(deltas) / sizeof(deltas[0]); a++)
				vals[nv++] = (size_t)((long)lf[k].value + deltas[a]);
			vals[nv++] = x->len;
			for (size_t a = 0; a < nv; a++) {
				size_t val = vals[a] & (lf[k].width == 1 ? 0xff : 0xffff);
				bool refused = false;
				int bad;

				if (val == lf[k].value)
					continue;
				memcpy(b, x->table, x->len);
				b[lf[k].off] = (uint8_t)val;
				if (lf[k].width == 2)
					b[lf[k].off + 1] = (uint8_t)(val >> 8);
				fix_checksum(b, x->len);
				bad = parse_any(x->kind, b, x->len, &refused);
				assert_true(bad >= 0);
				/* a structure or scope length of 0 is always reported */
				if (val == 0 && !(lf[k].width == 1 && !strcmp(x->kind, "IVRS"))) {
					assert_true(bad >= 1);
					zero_detected++;
				}
				parses++;
			}
		}
		free(b);
	}
	print_message("%zu parses with a corrupted length field; %zu zero lengths reported\n", parses,
		      zero_detected);
}

static void test_checksum_wrong(void **state)
{
	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++) {
		const struct entry *x = &corpus[i];
		uint8_t *b = malloc(x->len);
		bool refused = false, was_refused = false;
		int bad, before;

		memcpy(b, x->table, x->len);
		before = parse_any(x->kind, b, x->len, &was_refused);
		b[9] ^= 0x01;
		bad = parse_any(x->kind, b, x->len, &refused);
		assert_int_equal(bad, before + 1);
		/* ACPICA warns for DMAR; the AMD driver refuses IVRS */
		if (!strcmp(x->kind, "IVRS"))
			assert_true(refused);
		else
			assert_int_equal(refused, was_refused);
		free(b);
	}
}

/* Every scope made to run past its structure, then past the table. */
static void test_scopes_past_end(void **state)
{
	size_t n = 0;

	(void)state;
	if (!have_corpus()) {
		skip();
		return;
	}
	for (size_t i = 0; i < n_corpus; i++) {
		const struct entry *x = &corpus[i];
		struct iommu_dmar *d;
		uint8_t *b;

		if (strcmp(x->kind, "DMAR"))
			continue;
		assert_int_equal(iommu_dmar_parse(x->table, x->len, &d, NULL), 0);
		b = malloc(x->len);
		for (size_t s = 0; s < d->n_structs; s++) {
			const struct iommu_dmar_struct *st = &d->structs[s];

			for (size_t k = 0; k < st->n_scopes; k++) {
				size_t off = st->scopes[k].offset;
				size_t to_struct_end = st->offset + st->length - off;
				size_t to_table_end = x->len - off;
				bool refused = false;

				if (to_struct_end + 2 <= 0xff && off + to_struct_end + 2 <= x->len) {
					memcpy(b, x->table, x->len);
					b[off + 1] = (uint8_t)(to_struct_end + 2);
					fix_checksum(b, x->len);
					assert_true(parse_any("DMAR", b, x->len, &refused) >= 1);
					n++;
				}
				if (to_table_end + 2 <= 0xff) {
					memcpy(b, x->table, x->len);
					b[off + 1] = (uint8_t)(to_table_end + 2);
					fix_checksum(b, x->len);
					assert_true(parse_any("DMAR", b, x->len, &refused) >= 1);
					n++;
				}
			}
		}
		free(b);
		iommu_dmar_free(d);
	}
	print_message("%zu scopes made to point past their structure or the table, all reported\n", n);
	assert_true(n > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_against_acpica),
		cmocka_unit_test(test_corpus_diagnostics),
		cmocka_unit_test(test_hand_satc_framework),
		cmocka_unit_test(test_hand_satc_msi),
		cmocka_unit_test(test_hand_ivhd40_lenovo),
		cmocka_unit_test(test_hand_ivhd40_asrock),
		cmocka_unit_test(test_acpidump_round_trip),
		cmocka_unit_test(test_acpidump_broken),
		cmocka_unit_test(test_load_files_and_dirs),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_length_fields_corrupted),
		cmocka_unit_test(test_checksum_wrong),
		cmocka_unit_test(test_scopes_past_end),
	};

	int failed = cmocka_run_group_tests(tests, setup, teardown);

	return failed ? failed : n_skipped ? 77 : 0;
}
