// SPDX-License-Identifier: MIT
/*
 * iommu acpi: the DMAR and IVRS tables, decoded structure by structure and
 * checked as the kernel checks them; with a platform, matched to its PCI
 * devices as the kernel matches them.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "iommu/firmware.h"

static const char help[] =
"Usage: iommu acpi [FILE|DIR] [--json]\n"
"       iommu acpi [PLATFORM] [--json]\n"
"\n"
"Decodes the ACPI tables that describe IOMMUs, field by field and in table\n"
"order: DMAR (Intel VT-d: DRHD, RMRR, ATSR, RHSA, ANDD, SATC, SIDP with\n"
"their device scopes) and IVRS (AMD-Vi: IVHD blocks of types 10h, 11h and\n"
"40h with every device entry, IVMD blocks).  Each table is checked as the\n"
"kernel checks it (checksum, lengths, zero-length structures, scopes that\n"
"lead nowhere, ...): every problem is shown with its table offset, the\n"
"structure it concerns, and what the kernel does about it (note, warning,\n"
"or fatal: the kernel refuses the table, hangs on it or reads outside it).\n"
"\n"
"  FILE   a binary table (/sys/firmware/acpi/tables/DMAR, a snapshot's\n"
"         acpi/IVRS, 'acpidump -b' output) or the text acpidump prints\n"
"  DIR    a directory of tables (/sys/firmware/acpi/tables, a snapshot or\n"
"         its acpi/); other files are skipped\n"
"\n"
"With a platform instead, its tables are decoded with device scopes and\n"
"device entries resolved to its PCI functions, then matched as the kernel\n"
"does: each IOMMU unit (dmarN, ivhdN) with the devices it translates, the\n"
"reserved regions (RMRR, IVMD) and aliases they get, and the devices that\n"
"get no IOMMU.\n"
"\n"
"  --json   {\"tables\": [{\"signature\": \"DMAR\", ..., \"structures\": [...],\n"
"           \"diagnostics\": [...]}], \"matching\": {...}}; fields are named\n"
"           after the specifications' field names in snake_case, integers\n"
"           are JSON numbers, structures are in table order\n"
"\n"
PLATFORM_HELP
"Without FILE, DIR or a platform option the built-in default platform is used.\n"
"\n"
"Exit status: 0 decoded (even with problems: see the diagnostics); 3 the\n"
"input is missing, unreadable, or holds no DMAR or IVRS table.\n"
"\n"
"Examples:\n"
"  sudo iommu acpi /sys/firmware/acpi/tables/DMAR\n"
"  iommu acpi acpidump.txt --json | jq '.tables[].diagnostics'\n"
"  iommu acpi --builtin amd-server\n";

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

/* A field of raw bytes, printable or escaped. */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t j = 0;

	for (; *s && j + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isprint(ch) && ch != '"') {
			buf[j++] = (char)ch;
		} else {
			snprintf(buf + j, len - j, "\\x%02x", ch);
			j += 4;
		}
	}
	buf[j] = '\0';
	return buf;
}

static const char *devid_str(uint16_t segment, uint16_t devid, char *buf)
{
	struct iommu_pci_addr a = { .segment = segment, .bus = (uint8_t)(devid >> 8),
				    .devfn = (uint8_t)devid };

	return iommu_pci_addr_format(a, buf);
}

/* A JSON string from table bytes: bytes above 0x7f are taken as Latin-1, so
 * that the output is always valid UTF-8. */
static json_object *jstr(const char *s)
{
	size_t n = s ? strlen(s) : 0, j = 0;
	char small[256], *buf = n * 2 + 1 <= sizeof(small) ? small : malloc(n * 2 + 1);
	json_object *o;

	if (!buf)
		return json_object_new_string("");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x80) {
			buf[j++] = (char)ch;
		} else {
			buf[j++] = (char)(0xc0 | ch >> 6);
			buf[j++] = (char)(0x80 | (ch & 0x3f));
		}
	}
	buf[j] = '\0';
	o = json_object_new_string(buf);
	if (buf != small)
		free(buf);
	return o;
}

static json_object *ju64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/* ------------------------------------------------------------------ */
/* Tables as text                                                       */

struct ctx {
	const struct iommu_platform *p;
	bool json;
};

static void print_header(const struct iommu_acpi_header *h, const char *source)
{
	char a[64], b[64], c[64];

	printf("%s table (%s)\n", h->signature, source);
	printf("  length %u, revision %u, checksum 0x%02x (%s)\n", h->length, h->revision, h->checksum,
	       h->checksum_ok ? "ok" : "wrong");
	printf("  OEM \"%s\", OEM table \"%s\", OEM revision 0x%08x, creator \"%s\" revision 0x%08x\n",
	       esc(h->oem_id, a, sizeof(a)), esc(h->oem_table_id, b, sizeof(b)), h->oem_revision,
	       esc(h->asl_compiler_id, c, sizeof(c)), h->asl_compiler_revision);
}

static void print_diags(const struct iommu_diag *v, size_t n, const char *title)
{
	if (!n)
		return;
	printf("  %s:\n", title);
	for (size_t i = 0; i < n; i++)
		printf("    %-7s [0x%03zx] %s\n", iommu_diag_severity_name(v[i].severity), v[i].offset, v[i].msg);
}

static void print_scope(const struct ctx *x, const struct iommu_dmar_struct *st,
			const struct iommu_dmar_scope *sc)
{
	printf("        scope [0x%03zx] %-21s length %u", sc->offset, iommu_dmar_scope_type_name(sc->type),
	       sc->length);
	if (sc->type == IOMMU_SCOPE_IOAPIC || sc->type == IOMMU_SCOPE_HPET ||
	    sc->type == IOMMU_SCOPE_NAMESPACE)
		printf("  %s %u", sc->type == IOMMU_SCOPE_IOAPIC ? "IOAPIC id" :
		       sc->type == IOMMU_SCOPE_HPET ? "HPET number" : "ACPI device", sc->enumeration_id);
	printf("  bus %02x path", sc->start_bus);
	if (!sc->n_path)
		printf(" (empty)");
	for (size_t k = 0; k < sc->n_path; k++)
		printf("%s%02x.%x", k ? "/" : " ", sc->path[k].device, sc->path[k].function);
	if (sc->flags)
		printf("  flags 0x%02x", sc->flags);
	if (x->p && (sc->type == IOMMU_SCOPE_ENDPOINT || sc->type == IOMMU_SCOPE_BRIDGE)) {
		const struct iommu_pci_dev *d = iommu_dmar_scope_device(sc, st->segment, x->p);

		printf("  -> %s", d ? d->name : "no device");
	}
	putchar('\n');
}

static void print_dmar(const struct ctx *x, const struct iommu_dmar *d, const char *source)
{
	char buf[512];

	print_header(&d->header, source);
	printf("  host address width %u (field %u), flags 0x%02x%s%s%s\n", d->host_address_width + 1,
	       d->host_address_width, d->flags,
	       d->flags & IOMMU_DMAR_FLAG_INTR_REMAP ? " INTR_REMAP" : "",
	       d->flags & IOMMU_DMAR_FLAG_X2APIC_OPT_OUT ? " X2APIC_OPT_OUT" : "",
	       d->flags & IOMMU_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN ? " DMA_CTRL_PLATFORM_OPT_IN" : "");
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *st = &d->structs[i];

		printf("  [0x%03zx] %-4s length %u", st->offset, iommu_dmar_type_name(st->type), st->length);
		switch (st->type) {
		case IOMMU_DMAR_DRHD:
			printf("  flags 0x%02x%s  size %u  segment %04x  register base 0x%016" PRIx64,
			       st->flags, st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL ? " INCLUDE_PCI_ALL" : "",
			       st->size, st->segment, st->address);
			if (iommu_dmar_drhd_seq_id(d, st) >= 0)
				printf("  dmar%d", iommu_dmar_drhd_seq_id(d, st));
			if (st->duplicate)
				printf("  (duplicate)");
			break;
		case IOMMU_DMAR_RMRR:
			printf("  segment %04x  base 0x%016" PRIx64 "  end 0x%016" PRIx64, st->segment,
			       st->base, st->end);
			break;
		case IOMMU_DMAR_ATSR:
			printf("  flags 0x%02x%s  segment %04x", st->flags,
			       st->flags & IOMMU_ATSR_FLAG_ALL_PORTS ? " ALL_PORTS" : "", st->segment);
			break;
		case IOMMU_DMAR_RHSA:
			printf("  register base 0x%016" PRIx64 "  proximity domain 0x%x", st->address,
			       st->proximity_domain);
			break;
		case IOMMU_DMAR_ANDD:
			printf("  ACPI device %u  name \"%s\"", st->acpi_device_number,
			       esc(st->object_name ? st->object_name : "", buf, sizeof(buf)));
			break;
		case IOMMU_DMAR_SATC:
			printf("  flags 0x%02x%s  segment %04x", st->flags,
			       st->flags & IOMMU_SATC_FLAG_ATC_REQUIRED ? " ATC_REQUIRED" : "", st->segment);
			break;
		case IOMMU_DMAR_SIDP:
			printf("  segment %04x", st->segment);
			break;
		default:
			printf("  (unknown type %u)", st->type);
			break;
		}
		if (st->truncated)
			printf("  (truncated)");
		putchar('\n');
		for (size_t k = 0; k < st->n_scopes; k++)
			print_scope(x, st, &st->scopes[k]);
	}
	if (d->refused)
		printf("  The kernel would not use this table.\n");
	print_diags(d->diags, d->n_diags, "Diagnostics");
}

static void print_entry(const struct ctx *x, const struct iommu_ivrs_block *b,
			const struct iommu_ivhd_entry *e)
{
	char a[IOMMU_PCI_ADDR_STRLEN], c[IOMMU_PCI_ADDR_STRLEN], buf[256];

	printf("        [0x%03zx] %-20s", e->offset, iommu_ivhd_entry_name(e->type));
	if (e->type != IOMMU_IVHD_DEV_PAD && e->type != IOMMU_IVHD_DEV_ALL)
		printf(" %s", devid_str(b->pci_segment, e->device_id, a));
	printf("  DTE 0x%02x", e->data_setting);
	switch (e->type) {
	case IOMMU_IVHD_DEV_ALIAS:
	case IOMMU_IVHD_DEV_ALIAS_RANGE:
		printf("  alias %s", devid_str(b->pci_segment, e->alias_id, c));
		break;
	case IOMMU_IVHD_DEV_EXT_SELECT:
	case IOMMU_IVHD_DEV_EXT_SELECT_RANGE:
		printf("  extended DTE 0x%08x", e->ext_data);
		break;
	case IOMMU_IVHD_DEV_SPECIAL:
		printf("  %s %u at %s", e->special_variety == IOMMU_IVHD_SPECIAL_IOAPIC ? "IOAPIC" :
		       e->special_variety == IOMMU_IVHD_SPECIAL_HPET ? "HPET" : "variety?",
		       e->special_handle, devid_str(b->pci_segment, e->special_device_id, c));
		break;
	case IOMMU_IVHD_DEV_ACPI_HID:
		printf("  HID \"%s\"", esc(e->hid, buf, sizeof(buf)));
		printf(" CID \"%s\" UID", esc(e->cid, buf, sizeof(buf)));
		printf(" %s", e->uid ? esc(e->uid, buf, sizeof(buf)) : "(none)");
		break;
	default:
		if (e->length == 8)
			printf("  ext 0x%08x", e->ext_data);
		break;
	}
	if (x->p && (e->type == IOMMU_IVHD_DEV_SELECT || e->type == IOMMU_IVHD_DEV_EXT_SELECT ||
		     e->type == IOMMU_IVHD_DEV_ALIAS)) {
		struct iommu_pci_addr ad = { .segment = b->pci_segment, .bus = (uint8_t)(e->device_id >> 8),
					     .devfn = (uint8_t)e->device_id };

		if (!iommu_platform_find_device(x->p, ad))
			printf("  (not on this platform)");
	}
	putchar('\n');
}

static void print_ivrs(const struct ctx *x, const struct iommu_ivrs *r, const char *source)
{
	char a[IOMMU_PCI_ADDR_STRLEN];
	size_t units[64], n_units;

	print_header(&r->header, source);
	printf("  IVinfo 0x%08x%s%s  (GVA size %u, PA size %u, VA size %u)\n", r->iv_info,
	       r->iv_info & IOMMU_IVINFO_EFRSUP ? " EFRSup" : "",
	       r->iv_info & IOMMU_IVINFO_DMA_REMAP ? " DMA-remap" : "",
	       (r->iv_info >> 5) & 7, (r->iv_info >> 8) & 0x7f, (r->iv_info >> 15) & 0x7f);
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &r->blocks[i];

		printf("  [0x%03zx] %-13s length %u  flags 0x%02x", b->offset, iommu_ivrs_block_name(b->type),
		       b->length, b->flags);
		if (b->type == IOMMU_IVHD_10 || b->type == IOMMU_IVHD_11 || b->type == IOMMU_IVHD_40) {
			printf("  IOMMU %s  capability 0x%02x  base 0x%016" PRIx64 "  info 0x%04x",
			       devid_str(b->pci_segment, b->device_id, a), b->capability_offset,
			       b->base_address, b->iommu_info);
			if (b->type == IOMMU_IVHD_10)
				printf("  features 0x%08x", b->iommu_attributes);
			else
				printf("  attributes 0x%08x  EFR 0x%016" PRIx64 "  EFR2 0x%016" PRIx64,
				       b->iommu_attributes, b->efr_register, b->efr_register2);
		} else if (b->type == IOMMU_IVMD_ALL || b->type == IOMMU_IVMD_SELECT ||
			   b->type == IOMMU_IVMD_RANGE) {
			printf("%s%s%s%s", b->flags & IOMMU_IVMD_FLAG_UNITY ? " unity" : "",
			       b->flags & IOMMU_IVMD_FLAG_IR ? " IR" : "", b->flags & IOMMU_IVMD_FLAG_IW ? " IW" : "",
			       b->flags & IOMMU_IVMD_FLAG_EXCL ? " exclusion" : "");
			if (b->type != IOMMU_IVMD_ALL)
				printf("  device %s", devid_str(b->pci_segment, b->device_id, a));
			if (b->type == IOMMU_IVMD_RANGE)
				printf(" to %s", devid_str(b->pci_segment, b->aux_data, a));
			printf("  start 0x%016" PRIx64 "  length 0x%" PRIx64, b->start_address, b->memory_length);
		} else {
			printf("  device id %04x", b->device_id);
		}
		if (b->truncated)
			printf("  (truncated)");
		putchar('\n');
		for (size_t k = 0; k < b->n_entries; k++)
			print_entry(x, b, &b->entries[k]);
	}
	n_units = iommu_ivrs_units(r, units, 64);
	printf("  The kernel uses IVHD type %02xh:", iommu_ivrs_ivhd_type(r));
	for (size_t u = 0; u < n_units && u < 64; u++)
		printf(" ivhd%zu = [0x%03zx]", u, r->blocks[units[u]].offset);
	if (!n_units)
		printf(" no IOMMU");
	putchar('\n');
	if (r->refused)
		printf("  The kernel would not use this table.\n");
	print_diags(r->diags, r->n_diags, "Diagnostics");
}

/* ------------------------------------------------------------------ */
/* Tables as JSON                                                       */

static json_object *diags_json(const struct iommu_diag *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		add(o, "severity", jstr(iommu_diag_severity_name(v[i].severity)));
		add(o, "offset", ju64(v[i].offset));
		add(o, "structure", v[i].structure >= 0 ? json_object_new_int(v[i].structure) : NULL);
		add(o, "message", jstr(v[i].msg));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *header_json(const struct iommu_acpi_header *h, const char *source)
{
	json_object *o = json_object_new_object();

	add(o, "signature", jstr(h->signature));
	add(o, "source", jstr(source));
	add(o, "length", ju64(h->length));
	add(o, "revision", json_object_new_int(h->revision));
	add(o, "checksum", json_object_new_int(h->checksum));
	add(o, "checksum_ok", json_object_new_boolean(h->checksum_ok));
	add(o, "oem_id", jstr(h->oem_id));
	add(o, "oem_table_id", jstr(h->oem_table_id));
	add(o, "oem_revision", ju64(h->oem_revision));
	add(o, "creator_id", jstr(h->asl_compiler_id));
	add(o, "creator_revision", ju64(h->asl_compiler_revision));
	return o;
}

static json_object *scope_json(const struct ctx *x, const struct iommu_dmar_struct *st,
			       const struct iommu_dmar_scope *sc)
{
	json_object *o = json_object_new_object();
	json_object *path = json_object_new_array();

	add(o, "offset", ju64(sc->offset));
	add(o, "type", json_object_new_int(sc->type));
	add(o, "type_name", jstr(iommu_dmar_scope_type_name(sc->type)));
	add(o, "length", json_object_new_int(sc->length));
	add(o, "flags", json_object_new_int(sc->flags));
	add(o, "reserved", json_object_new_int(sc->reserved >> 8));
	add(o, "enumeration_id", json_object_new_int(sc->enumeration_id));
	add(o, "start_bus_number", json_object_new_int(sc->start_bus));
	for (size_t k = 0; k < sc->n_path; k++) {
		json_object *e = json_object_new_object();

		add(e, "device", json_object_new_int(sc->path[k].device));
		add(e, "function", json_object_new_int(sc->path[k].function));
		json_object_array_add(path, e);
	}
	add(o, "path", path);
	if (x->p) {
		const struct iommu_pci_dev *d = NULL;

		if (sc->type == IOMMU_SCOPE_ENDPOINT || sc->type == IOMMU_SCOPE_BRIDGE)
			d = iommu_dmar_scope_device(sc, st->segment, x->p);
		add(o, "device", d ? jstr(d->name) : NULL);
	}
	return o;
}

static json_object *dmar_json(const struct ctx *x, const struct iommu_dmar *d, const char *source)
{
	json_object *t = header_json(&d->header, source);
	json_object *arr = json_object_new_array();

	add(t, "host_address_width", json_object_new_int(d->host_address_width));
	add(t, "flags", json_object_new_int(d->flags));
	add(t, "intr_remap", json_object_new_boolean(d->flags & IOMMU_DMAR_FLAG_INTR_REMAP));
	add(t, "x2apic_opt_out", json_object_new_boolean(d->flags & IOMMU_DMAR_FLAG_X2APIC_OPT_OUT));
	add(t, "dma_ctrl_platform_opt_in",
	    json_object_new_boolean(d->flags & IOMMU_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN));
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *st = &d->structs[i];
		json_object *o = json_object_new_object();
		bool scopes = false;

		add(o, "offset", ju64(st->offset));
		add(o, "type", json_object_new_int(st->type));
		add(o, "type_name", jstr(iommu_dmar_type_name(st->type)));
		add(o, "length", json_object_new_int(st->length));
		switch (st->type) {
		case IOMMU_DMAR_DRHD:
			add(o, "flags", json_object_new_int(st->flags));
			add(o, "include_pci_all", json_object_new_boolean(st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL));
			add(o, "size", json_object_new_int(st->size));
			add(o, "segment_number", json_object_new_int(st->segment));
			add(o, "register_base_address", ju64(st->address));
			add(o, "unit", iommu_dmar_drhd_seq_id(d, st) >= 0 ?
			    json_object_new_int(iommu_dmar_drhd_seq_id(d, st)) : NULL);
			add(o, "duplicate", json_object_new_boolean(st->duplicate));
			scopes = true;
			break;
		case IOMMU_DMAR_RMRR:
			add(o, "reserved", json_object_new_int((int)st->reserved));
			add(o, "segment_number", json_object_new_int(st->segment));
			add(o, "reserved_memory_region_base_address", ju64(st->base));
			add(o, "reserved_memory_region_limit_address", ju64(st->end));
			scopes = true;
			break;
		case IOMMU_DMAR_ATSR:
		case IOMMU_DMAR_SATC:
			add(o, "flags", json_object_new_int(st->flags));
			if (st->type == IOMMU_DMAR_ATSR)
				add(o, "all_ports", json_object_new_boolean(st->flags & IOMMU_ATSR_FLAG_ALL_PORTS));
			else
				add(o, "atc_required", json_object_new_boolean(st->flags & IOMMU_SATC_FLAG_ATC_REQUIRED));
			add(o, "reserved", json_object_new_int((int)st->reserved));
			add(o, "segment_number", json_object_new_int(st->segment));
			scopes = true;
			break;
		case IOMMU_DMAR_SIDP:
			add(o, "reserved", json_object_new_int((int)st->reserved));
			add(o, "segment_number", json_object_new_int(st->segment));
			scopes = true;
			break;
		case IOMMU_DMAR_RHSA:
			add(o, "reserved", ju64(st->reserved));
			add(o, "register_base_address", ju64(st->address));
			add(o, "proximity_domain", ju64(st->proximity_domain));
			break;
		case IOMMU_DMAR_ANDD:
			add(o, "reserved", ju64(st->reserved));
			add(o, "acpi_device_number", json_object_new_int(st->acpi_device_number));
			add(o, "acpi_object_name", jstr(st->object_name));
			break;
		default: {
			char *hex = malloc((size_t)st->length * 2 + 1);

			if (hex) {
				size_t avail = st->offset + st->length <= d->len ? st->length : d->len - st->offset;

				for (size_t k = 0; k < avail; k++)
					sprintf(hex + 2 * k, "%02x", st->raw[k]);
				hex[2 * avail] = '\0';
				add(o, "raw", jstr(hex));
				free(hex);
			}
			break;
		}
		}
		if (scopes) {
			json_object *sa = json_object_new_array();

			for (size_t k = 0; k < st->n_scopes; k++)
				json_object_array_add(sa, scope_json(x, st, &st->scopes[k]));
			add(o, "device_scopes", sa);
		}
		add(o, "truncated", json_object_new_boolean(st->truncated));
		json_object_array_add(arr, o);
	}
	add(t, "structures", arr);
	add(t, "refused", json_object_new_boolean(d->refused));
	add(t, "diagnostics", diags_json(d->diags, d->n_diags));
	return t;
}

static json_object *entry_json(const struct iommu_ivhd_entry *e)
{
	json_object *o = json_object_new_object();

	add(o, "offset", ju64(e->offset));
	add(o, "type", json_object_new_int(e->type));
	add(o, "type_name", jstr(iommu_ivhd_entry_name(e->type)));
	add(o, "length", json_object_new_int(e->length));
	add(o, "device_id", json_object_new_int(e->device_id));
	add(o, "dte_setting", json_object_new_int(e->data_setting));
	switch (e->type) {
	case IOMMU_IVHD_DEV_ALIAS:
	case IOMMU_IVHD_DEV_ALIAS_RANGE:
		add(o, "source_device_id", json_object_new_int(e->alias_id));
		break;
	case IOMMU_IVHD_DEV_EXT_SELECT:
	case IOMMU_IVHD_DEV_EXT_SELECT_RANGE:
		add(o, "extended_dte_setting", ju64(e->ext_data));
		break;
	case IOMMU_IVHD_DEV_SPECIAL:
		add(o, "handle", json_object_new_int(e->special_handle));
		add(o, "source_device_id", json_object_new_int(e->special_device_id));
		add(o, "variety", json_object_new_int(e->special_variety));
		break;
	case IOMMU_IVHD_DEV_ACPI_HID:
		add(o, "hardware_id", jstr(e->hid));
		add(o, "compatible_id", jstr(e->cid));
		add(o, "uid_format", json_object_new_int(e->uid_format));
		add(o, "uid_length", json_object_new_int(e->uid_length));
		add(o, "uid", e->uid ? jstr(e->uid) : NULL);
		break;
	default:
		if (e->length == 8)
			add(o, "ext", ju64(e->ext_data));
		break;
	}
	return o;
}

static json_object *ivrs_json(const struct iommu_ivrs *r, const char *source)
{
	json_object *t = header_json(&r->header, source);
	json_object *arr = json_object_new_array();
	json_object *ua = json_object_new_array();
	size_t units[64], n_units;

	add(t, "iv_info", ju64(r->iv_info));
	add(t, "efr_sup", json_object_new_boolean(r->iv_info & IOMMU_IVINFO_EFRSUP));
	add(t, "dma_remap_support", json_object_new_boolean(r->iv_info & IOMMU_IVINFO_DMA_REMAP));
	add(t, "gva_size", json_object_new_int((r->iv_info >> 5) & 7));
	add(t, "pa_size", json_object_new_int((r->iv_info >> 8) & 0x7f));
	add(t, "va_size", json_object_new_int((r->iv_info >> 15) & 0x7f));
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &r->blocks[i];
		json_object *o = json_object_new_object();

		add(o, "offset", ju64(b->offset));
		add(o, "type", json_object_new_int(b->type));
		add(o, "type_name", jstr(iommu_ivrs_block_name(b->type)));
		add(o, "flags", json_object_new_int(b->flags));
		add(o, "length", json_object_new_int(b->length));
		add(o, "device_id", json_object_new_int(b->device_id));
		if (b->type == IOMMU_IVHD_10 || b->type == IOMMU_IVHD_11 || b->type == IOMMU_IVHD_40) {
			json_object *ea = json_object_new_array();

			add(o, "capability_offset", json_object_new_int(b->capability_offset));
			add(o, "iommu_base_address", ju64(b->base_address));
			add(o, "pci_segment_group", json_object_new_int(b->pci_segment));
			add(o, "iommu_info", json_object_new_int(b->iommu_info));
			if (b->type == IOMMU_IVHD_10) {
				add(o, "iommu_feature_reporting", ju64(b->iommu_attributes));
			} else {
				add(o, "iommu_attributes", ju64(b->iommu_attributes));
				add(o, "efr_register_image", ju64(b->efr_register));
				add(o, "efr_register_image_2", ju64(b->efr_register2));
			}
			for (size_t k = 0; k < b->n_entries; k++)
				json_object_array_add(ea, entry_json(&b->entries[k]));
			add(o, "device_entries", ea);
		} else if (b->type == IOMMU_IVMD_ALL || b->type == IOMMU_IVMD_SELECT ||
			   b->type == IOMMU_IVMD_RANGE) {
			add(o, "unity", json_object_new_boolean(b->flags & IOMMU_IVMD_FLAG_UNITY));
			add(o, "ir", json_object_new_boolean(b->flags & IOMMU_IVMD_FLAG_IR));
			add(o, "iw", json_object_new_boolean(b->flags & IOMMU_IVMD_FLAG_IW));
			add(o, "exclusion_range", json_object_new_boolean(b->flags & IOMMU_IVMD_FLAG_EXCL));
			add(o, "auxiliary_data", json_object_new_int(b->aux_data));
			add(o, "pci_segment_group", json_object_new_int(b->pci_segment));
			add(o, "ivmd_start_address", ju64(b->start_address));
			add(o, "ivmd_memory_block_length", ju64(b->memory_length));
		}
		if (!b->known) {
			size_t avail = b->offset + b->length <= r->len ? b->length : r->len - b->offset;
			char *hex = malloc(avail * 2 + 1);

			if (hex) {
				for (size_t k = 0; k < avail; k++)
					sprintf(hex + 2 * k, "%02x", b->raw[k]);
				hex[2 * avail] = '\0';
				add(o, "raw", jstr(hex));
				free(hex);
			}
		}
		add(o, "truncated", json_object_new_boolean(b->truncated));
		json_object_array_add(arr, o);
	}
	add(t, "structures", arr);
	add(t, "ivhd_type_used", json_object_new_int(iommu_ivrs_ivhd_type(r)));
	n_units = iommu_ivrs_units(r, units, 64);
	for (size_t u = 0; u < n_units && u < 64; u++)
		json_object_array_add(ua, json_object_new_int((int)units[u]));
	add(t, "units", ua);
	add(t, "refused", json_object_new_boolean(r->refused));
	add(t, "diagnostics", diags_json(r->diags, r->n_diags));
	return t;
}

/* ------------------------------------------------------------------ */
/* Matching                                                             */

static void region_text(uint64_t start, uint64_t last, const char *what, size_t off)
{
	printf("        reserved [0x%016" PRIx64 "-0x%016" PRIx64 "] from %s at 0x%zx\n", start, last, what, off);
}

static json_object *region_json(uint64_t start, uint64_t last, const char *what, size_t off)
{
	json_object *o = json_object_new_object();

	add(o, "start", ju64(start));
	add(o, "end", ju64(last));
	add(o, "source", jstr(what));
	add(o, "structure_offset", ju64(off));
	return o;
}

static json_object *match_dmar(const struct ctx *x, const struct iommu_dmar *d)
{
	const struct iommu_platform *p = x->p;
	const struct iommu_dmar_struct **units;
	size_t n = iommu_dmar_drhd_order(d, NULL, 0);
	json_object *ja = json_object_new_array(), *none = json_object_new_array();
	struct iommu_diag *dg = NULL;
	size_t ndg = 0;

	units = calloc(n ? n : 1, sizeof(*units));
	if (!units)
		return ja;
	iommu_dmar_drhd_order(d, units, n);
	if (!x->json)
		printf("Matching (DMAR, as the kernel does; units in dmar_drhd_units order):\n");
	for (size_t u = 0; u < n; u++) {
		const struct iommu_dmar_struct *st = units[u];
		json_object *o = json_object_new_object(), *devs = json_object_new_array();
		bool empty = iommu_dmar_drhd_empty(d, st, p), gfx = iommu_dmar_drhd_gfx_only(d, st, p);
		char name[16];

		snprintf(name, sizeof(name), "dmar%d", iommu_dmar_drhd_seq_id(d, st));
		if (!x->json)
			printf("  %s  DRHD [0x%03zx]  register base 0x%" PRIx64 "  segment %04x%s%s%s\n", name,
			       st->offset, st->address, st->segment,
			       st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL ? "  INCLUDE_PCI_ALL" : "",
			       empty ? "  ignored: no device of its scope is present" : "",
			       gfx ? "  graphics only (ignored with intel_iommu=igfx_off)" : "");
		for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
			const struct iommu_pci_dev *dev = iommu_platform_device(p, i);
			const struct iommu_dmar_struct *rm[64];
			size_t nr;
			json_object *jd, *regs;

			if (iommu_dmar_device_drhd(d, p, dev) != st)
				continue;
			jd = json_object_new_object();
			regs = json_object_new_array();
			add(jd, "bdf", jstr(dev->name));
			if (!x->json)
				printf("      %s%s\n", dev->name, dev->is_virtfn ? "  (VF: through its PF)" : "");
			nr = iommu_dmar_device_rmrrs(d, p, dev, rm, 64);
			for (size_t k = 0; k < nr && k < 64; k++) {
				if (x->json)
					json_object_array_add(regs, region_json(rm[k]->base, rm[k]->end, "RMRR",
										rm[k]->offset));
				else
					region_text(rm[k]->base, rm[k]->end, "RMRR", rm[k]->offset);
			}
			add(jd, "reserved_regions", regs);
			json_object_array_add(devs, jd);
		}
		add(o, "name", jstr(name));
		add(o, "table", jstr("DMAR"));
		add(o, "structure_offset", ju64(st->offset));
		add(o, "register_base_address", ju64(st->address));
		add(o, "segment_number", json_object_new_int(st->segment));
		add(o, "include_pci_all", json_object_new_boolean(st->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL));
		add(o, "ignored", json_object_new_boolean(empty));
		add(o, "graphics_only", json_object_new_boolean(gfx));
		add(o, "devices", devs);
		json_object_array_add(ja, o);
	}
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		const struct iommu_pci_dev *dev = iommu_platform_device(p, i);

		if (iommu_dmar_device_drhd(d, p, dev))
			continue;
		if (!x->json)
			printf("  no IOMMU: %s\n", dev->name);
		json_object_array_add(none, jstr(dev->name));
	}
	free(units);
	if (iommu_dmar_check_platform(d, p, &dg, &ndg) == 0) {
		if (!x->json)
			print_diags(dg, ndg, "Matching diagnostics");
	}
	{
		json_object *m = json_object_new_object();

		add(m, "units", ja);
		add(m, "no_iommu", none);
		add(m, "diagnostics", diags_json(dg, ndg));
		free(dg);
		return m;
	}
}

static json_object *match_ivrs(const struct ctx *x, const struct iommu_ivrs *r)
{
	const struct iommu_platform *p = x->p;
	struct iommu_ivrs_map *map;
	size_t units[64], n_units;
	json_object *ja = json_object_new_array(), *none = json_object_new_array();
	json_object *m = json_object_new_object();
	struct iommu_diag *dg = NULL;
	size_t ndg = 0;
	char a[IOMMU_PCI_ADDR_STRLEN];

	if (iommu_ivrs_build_map(r, &map, NULL)) {
		json_object_put(ja);
		json_object_put(none);
		return m;
	}
	n_units = iommu_ivrs_units(r, units, 64);
	if (n_units > 64)
		n_units = 64;
	if (r->refused)
		n_units = 0;
	if (!x->json)
		printf("Matching (IVRS, as the kernel does; IVHD type %02xh):\n", iommu_ivrs_ivhd_type(r));
	for (size_t u = 0; u < n_units; u++) {
		const struct iommu_ivrs_block *b = &r->blocks[units[u]];
		json_object *o = json_object_new_object(), *devs = json_object_new_array();
		char name[16];

		snprintf(name, sizeof(name), "ivhd%zu", u);
		if (!x->json)
			printf("  %s  %s [0x%03zx]  IOMMU %s  base 0x%" PRIx64 "  last_bdf %04x\n", name,
			       iommu_ivrs_block_name(b->type), b->offset, devid_str(b->pci_segment, b->device_id, a),
			       b->base_address, iommu_ivrs_map_last_bdf(map, b->pci_segment));
		for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
			const struct iommu_pci_dev *dev = iommu_platform_device(p, i);
			uint16_t devid = iommu_pci_addr_rid(dev->addr), alias;
			const struct iommu_ivrs_block *iv[64];
			size_t ni;
			json_object *jd, *regs;

			if (iommu_ivrs_map_ivhd(map, dev->addr.segment, devid) != (int)units[u])
				continue;
			alias = iommu_ivrs_map_alias(map, dev->addr.segment, devid);
			jd = json_object_new_object();
			regs = json_object_new_array();
			add(jd, "bdf", jstr(dev->name));
			add(jd, "dte_setting", json_object_new_int(iommu_ivrs_map_dte(map, dev->addr.segment, devid)));
			add(jd, "alias", alias != devid ? jstr(devid_str(dev->addr.segment, alias, a)) : NULL);
			if (!x->json) {
				printf("      %s", dev->name);
				if (alias != devid)
					printf("  alias %s", devid_str(dev->addr.segment, alias, a));
				putchar('\n');
			}
			ni = iommu_ivrs_device_ivmds(r, map, dev->addr.segment, devid, iv, 64);
			for (size_t k = 0; k < ni && k < 64; k++) {
				uint64_t s, e;

				iommu_ivrs_ivmd_range(iv[k], &s, &e);
				if (x->json)
					json_object_array_add(regs, region_json(s, e - 1, iommu_ivrs_block_name(iv[k]->type),
										iv[k]->offset));
				else
					region_text(s, e - 1, iommu_ivrs_block_name(iv[k]->type), iv[k]->offset);
			}
			add(jd, "reserved_regions", regs);
			json_object_array_add(devs, jd);
		}
		add(o, "name", jstr(name));
		add(o, "table", jstr("IVRS"));
		add(o, "structure_offset", ju64(b->offset));
		add(o, "iommu_base_address", ju64(b->base_address));
		add(o, "device_id", json_object_new_int(b->device_id));
		add(o, "pci_segment_group", json_object_new_int(b->pci_segment));
		add(o, "last_bdf", json_object_new_int(iommu_ivrs_map_last_bdf(map, b->pci_segment)));
		add(o, "devices", devs);
		json_object_array_add(ja, o);
	}
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		const struct iommu_pci_dev *dev = iommu_platform_device(p, i);

		if (iommu_ivrs_map_ivhd(map, dev->addr.segment, iommu_pci_addr_rid(dev->addr)) >= 0)
			continue;
		if (!x->json)
			printf("  no IOMMU: %s\n", dev->name);
		json_object_array_add(none, jstr(dev->name));
	}
	if (iommu_ivrs_check_platform(r, map, p, &dg, &ndg) == 0 && !x->json)
		print_diags(dg, ndg, "Matching diagnostics");
	add(m, "units", ja);
	add(m, "no_iommu", none);
	add(m, "diagnostics", diags_json(dg, ndg));
	free(dg);
	iommu_ivrs_map_free(map);
	return m;
}

/* ------------------------------------------------------------------ */

int cmd_acpi(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_platform *p = NULL;
	struct iommu_acpi_tables *tables = NULL;
	struct iommu_error err;
	struct ctx x = { 0 };
	const char *path = NULL;
	json_object *root = NULL, *jt = NULL, *jm = NULL;
	size_t found = 0;
	int c, ret, status = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		case OPT_JSON:
			x.json = true;
			continue;
		}
		ret = platform_option(&pc, c, optarg);
		if (ret < 0)
			return usage_error("acpi", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("acpi", "unknown option");
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return usage_error("acpi", "unexpected argument '%s'", argv[optind]);
	if (path && (pc.snapshot || pc.builtin || pc.host || pc.sysfs || pc.procfs))
		return usage_error("acpi", "give either FILE/DIR or a platform, not both");

	iommu_error_clear(&err);
	if (path) {
		ret = iommu_acpi_load_path(path, &tables, &err);
		if (ret) {
			fprintf(stderr, "iommu acpi: %s\n", err.msg);
			return ret == -ENOMEM ? EXIT_FAILURE_RUNTIME :
			       (ret == -EACCES || ret == -EPERM) ? EXIT_PERMISSION : EXIT_PLATFORM;
		}
	} else {
		ret = platform_load(&pc, false, &p);
		if (ret)
			return ret;
		if (!x.json)
			platform_print_warnings(p);
		ret = iommu_acpi_load_platform(p, &tables, &err);
		if (ret) {
			fprintf(stderr, "iommu acpi: %s\n", err.msg);
			iommu_platform_free(p);
			return EXIT_FAILURE_RUNTIME;
		}
		x.p = p;
	}
	if (x.json) {
		root = json_object_new_object();
		jt = json_object_new_array();
		jm = json_object_new_array();
	}
	for (size_t i = 0; i < tables->n; i++) {
		const struct iommu_acpi_table *t = &tables->tables[i];

		if (!strcmp(t->signature, "DMAR")) {
			struct iommu_dmar *d;

			if (iommu_dmar_parse(t->data, t->len, &d, &err)) {
				fprintf(stderr, "iommu acpi: %s: %s\n", t->name, err.msg);
				status = EXIT_PLATFORM;
				continue;
			}
			found++;
			if (x.json) {
				json_object_array_add(jt, dmar_json(&x, d, t->name));
				if (p)
					json_object_array_add(jm, match_dmar(&x, d));
			} else {
				if (found > 1)
					putchar('\n');
				print_dmar(&x, d, t->name);
				if (p) {
					putchar('\n');
					json_object_put(match_dmar(&x, d));
				}
			}
			iommu_dmar_free(d);
		} else if (!strcmp(t->signature, "IVRS")) {
			struct iommu_ivrs *r;

			if (iommu_ivrs_parse(t->data, t->len, &r, &err)) {
				fprintf(stderr, "iommu acpi: %s: %s\n", t->name, err.msg);
				status = EXIT_PLATFORM;
				continue;
			}
			found++;
			if (x.json) {
				json_object_array_add(jt, ivrs_json(r, t->name));
				if (p)
					json_object_array_add(jm, match_ivrs(&x, r));
			} else {
				if (found > 1)
					putchar('\n');
				print_ivrs(&x, r, t->name);
				if (p) {
					putchar('\n');
					json_object_put(match_ivrs(&x, r));
				}
			}
			iommu_ivrs_free(r);
		}
	}
	if (!found && status == EXIT_OK) {
		if (p) {
			if (!x.json)
				printf("%s has no DMAR or IVRS table: the kernel finds no Intel or AMD IOMMU there.\n",
				       iommu_platform_label(p));
		} else {
			fprintf(stderr, "iommu acpi: %s: no DMAR or IVRS table\n", path);
			status = EXIT_PLATFORM;
		}
	}
	if (x.json) {
		add(root, "tables", jt);
		if (p)
			add(root, "matching", jm);
		else
			json_object_put(jm);
		if (status == EXIT_OK || found)
			puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	}
	iommu_acpi_tables_free(tables);
	iommu_platform_free(p);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "iommu acpi: cannot write output\n");
		return EXIT_FAILURE_RUNTIME;
	}
	return status;
}
