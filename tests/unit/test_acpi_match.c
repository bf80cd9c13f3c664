// SPDX-License-Identifier: MIT
/*
 * DMAR and IVRS matching against the real kernel, on every capture in
 * tests/captures/ (Debian's kernels 6.1 and 6.12 under QEMU, intel-iommu
 * or amd-iommu, with tables QEMU made or tables upgraded through the
 * initrd to carry RMRRs, IVMDs, explicit scopes and aliases).
 *
 * Inputs are the capture's snapshot (its platform and ACPI tables); the
 * answers, read only here, are:
 *  - dmesg.txt: the table header ACPI prints ("ACPI: DMAR 0x... 00012A (v01
 *    BOCHS  BXPC ...)"), and what the drivers log while parsing:
 *    "DMAR: Host address width", "DMAR: DRHD base: ... flags: ...", "DMAR:
 *    RMRR base: ... end: ...", "DMAR: ATSR flags:", "DMAR: RHSA base:",
 *    "DMAR: SATC flags:", "DMAR: dmarN: reg_base_addr ...", "DMAR-IR:
 *    IOAPIC id N under DRHD base 0x... IOMMU N", "bad RMRR" and the
 *    matching firmware bugs; "pci ...: AMD-Vi: Found IOMMU cap 0x..",
 *    "AMD-Vi: Using global IVHD EFR:..., EFR2:...";
 *  - iommu_class/<unit>/devices: the devices each unit translates, and
 *    iommu_class/dmarN/intel-iommu/address;
 *  - iommu_groups/<n>/{devices,reserved_regions}: the direct regions each
 *    group gets, which must be exactly the RMRRs/IVMDs we match to its
 *    members (but for the ISA-bridge floppy region intel-iommu adds on its
 *    own, which comes from no table).
 * Every line of those kinds is accounted for, both ways.  Mismatches over
 * all captures are printed together and fail the test at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sys/wait.h>

#include "helpers.h"
#include "iommu/firmware.h"

#define MIN_CAPTURES_WITH_TABLES 40

static size_t n_skipped;

struct stats {
	size_t captures, dmar, ivrs, units, devices, lines, regions, groups, mismatches;
};

static void mismatch(struct stats *s, const char *cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mismatch(struct stats *s, const char *cap, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	print_message("MISMATCH %s: %s\n", cap, buf);
	s->mismatches++;
}

/* ------------------------------------------------------------------ */
/* dmesg                                                                */

struct lines {
	char **v;
	size_t n;
};

/* The messages of dmesg.txt without their timestamps. */
static void read_dmesg(const char *path, struct lines *l)
{
	size_t len;
	char *text = slurp(path, &len), *p, *save = NULL;

	l->v = NULL;
	l->n = 0;
	if (!text)
		return;
	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		char *m = p;

		if (*m == '[') {
			char *e = strchr(m, ']');

			if (e)
				m = e + 1;
			while (*m == ' ')
				m++;
		}
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = strdup(m);
	}
	free(text);
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Lines starting with @prefix (after any "pci ...: " device prefix when @anywhere). */
static size_t grep(const struct lines *l, const char *prefix, bool anywhere, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		const char *m = anywhere ? strstr(l->v[i], prefix) : l->v[i];

		if (!m || strncmp(m, prefix, strlen(prefix)))
			continue;
		if (n < max)
			out[n] = l->v[i];
		n++;
	}
	return n;
}

/* "ACPI: DMAR 0x000000003FFC5000 00012A (v01 BOCHS  BXPC     00000002 BXPC 00000001)" */
static void check_acpi_header(struct stats *s, const char *cap, const struct lines *l, const char *sig,
			      const struct iommu_acpi_header *h)
{
	char prefix[16];
	const char *last = NULL;

	snprintf(prefix, sizeof(prefix), "ACPI: %s 0x", sig);
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], prefix, strlen(prefix)) && strstr(l->v[i], " (v"))
			last = l->v[i];
	if (!last) {
		mismatch(s, cap, "no 'ACPI: %s' header line in dmesg", sig);
		return;
	}
	{
		unsigned len, rev, oemrev, crrev;
		char oem[8], tbl[10], cr[6];
		const char *p = strstr(last, " (v");
		const char *q = p;

		while (q > last && q[-1] != ' ')
			q--;
		if (sscanf(q, "%x", &len) != 1 || sscanf(p, " (v%u", &rev) != 1) {
			mismatch(s, cap, "cannot read '%s'", last);
			return;
		}
		/* "(v01 %-6.6s %-8.8s %08X %-4.4s %08X)" */
		p += 6;
		memcpy(oem, p, 6);
		oem[6] = '\0';
		memcpy(tbl, p + 7, 8);
		tbl[8] = '\0';
		memcpy(cr, p + 25, 4);
		cr[4] = '\0';
		if (sscanf(p + 16, "%x", &oemrev) != 1 || sscanf(p + 30, "%x", &crrev) != 1) {
			mismatch(s, cap, "cannot read '%s'", last);
			return;
		}
		if (len != h->length || rev != h->revision || strcmp(oem, h->oem_id) ||
		    strcmp(tbl, h->oem_table_id) || oemrev != h->oem_revision ||
		    strcmp(cr, h->asl_compiler_id) || crrev != h->asl_compiler_revision)
			mismatch(s, cap, "'%s' but we decode length %06X v%02u '%s' '%s' %08X '%s' %08X", last,
				 h->length, h->revision, h->oem_id, h->oem_table_id, h->oem_revision,
				 h->asl_compiler_id, h->asl_compiler_revision);
		s->lines++;
	}
}

/* ------------------------------------------------------------------ */
/* iommu_class and iommu_groups                                         */

/* Sorted lines of a file; n = 0 when absent. */
static char **file_lines(const char *path, size_t *n)
{
	size_t len;
	char *text = slurp(path, &len), *p, *save = NULL;
	char **v = NULL;

	*n = 0;
	if (!text)
		return NULL;
	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(p);
	}
	free(text);
	return v;
}

static bool dir_has_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

static bool in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* The kernel's devices of @unit against ours (@ours, @n_ours names). */
static void compare_devices(struct stats *s, const char *cap, const char *unit, char **ours, size_t n_ours)
{
	char path[PATH_MAX];
	size_t n;
	char **theirs;

	snprintf(path, sizeof(path), "%s/%s/iommu_class/%s/devices", captures_dir(), cap, unit);
	theirs = file_lines(path, &n);
	for (size_t i = 0; i < n; i++)
		if (!in_list(ours, n_ours, theirs[i]))
			mismatch(s, cap, "%s translates %s, we give it no device of that unit", unit, theirs[i]);
	for (size_t i = 0; i < n_ours; i++)
		if (!in_list(theirs, n, ours[i]))
			mismatch(s, cap, "we put %s under %s, the kernel does not", ours[i], unit);
	s->devices += n;
	s->units++;
	free_list(theirs, n);
}

struct region {
	uint64_t start, end;
	char what[48];
};

/*
 * Every group: its direct regions (reserved_regions "direct" or
 * "direct-relaxable") must be the union of what we give its members.
 * @regions_of fills a member's regions.
 */
typedef size_t (*regions_fn)(void *ctx, const struct iommu_pci_dev *d, struct region *out, size_t max);

static void compare_groups(struct stats *s, const char *cap, const struct iommu_platform *p,
			   regions_fn regions_of, void *ctx)
{
	char dir[PATH_MAX];

	for (int g = 0; g < 4096; g++) {
		char path[PATH_MAX + 32];
		char **members, **lines;
		size_t nm, nl;
		struct region ours[256];
		size_t no = 0;
		bool isa = false;

		snprintf(dir, sizeof(dir), "%s/%s/iommu_groups/%d", captures_dir(), cap, g);
		snprintf(path, sizeof(path), "%s/devices", dir);
		members = file_lines(path, &nm);
		if (!members)
			continue;
		snprintf(path, sizeof(path), "%s/reserved_regions", dir);
		lines = file_lines(path, &nl);
		for (size_t i = 0; i < nm; i++) {
			struct iommu_pci_addr a;
			const struct iommu_pci_dev *d;

			if (iommu_pci_addr_parse(members[i], &a) || !(d = iommu_platform_find_device(p, a))) {
				mismatch(s, cap, "group %d member %s is not on the platform", g, members[i]);
				continue;
			}
			if ((d->class_code >> 8) == 0x0601)
				isa = true;
			no += regions_of(ctx, d, ours + no, 256 - no);
		}
		/* theirs within ours */
		for (size_t i = 0; i < nl; i++) {
			unsigned long long a, b;
			char type[32];
			bool covered = false;

			if (sscanf(lines[i], "%llx %llx %31s", &a, &b, type) != 3 ||
			    (strcmp(type, "direct") && strcmp(type, "direct-relaxable")))
				continue;
			/* intel_iommu_get_resv_regions adds [0, 16 MiB) for ISA bridges itself */
			if (isa && a == 0 && b == 0xffffff && !strcmp(type, "direct-relaxable"))
				continue;
			for (size_t k = 0; k < no && !covered; k++)
				covered = ours[k].start == a && ours[k].end == b;
			if (!covered)
				mismatch(s, cap, "group %d has %s region %#llx-%#llx that no member's table region gives",
					 g, type, a, b);
			s->regions++;
		}
		/* ours within theirs */
		for (size_t k = 0; k < no; k++) {
			bool found = false;

			for (size_t i = 0; i < nl && !found; i++) {
				unsigned long long a, b;
				char type[32];

				found = sscanf(lines[i], "%llx %llx %31s", &a, &b, type) == 3 &&
					!strncmp(type, "direct", 6) && a <= ours[k].start && b >= ours[k].end;
			}
			if (!found)
				mismatch(s, cap, "group %d: we give a member %s %#" PRIx64 "-%#" PRIx64
					 ", the kernel's group has no such region", g, ours[k].what,
					 ours[k].start, ours[k].end);
		}
		s->groups++;
		free_list(members, nm);
		free_list(lines, nl);
	}
}

/* ------------------------------------------------------------------ */
/* Intel                                                                */

struct dmar_ctx {
	const struct iommu_dmar *d;
	const struct iommu_platform *p;
};

static size_t rmrr_regions(void *ctx, const struct iommu_pci_dev *dev, struct region *out, size_t max)
{
	struct dmar_ctx *c = ctx;
	const struct iommu_dmar_struct *rm[64];
	size_t n = iommu_dmar_device_rmrrs(c->d, c->p, dev, rm, 64), k;

	for (k = 0; k < n && k < max && k < 64; k++) {
		out[k].start = rm[k]->base;
		out[k].end = rm[k]->end;
		snprintf(out[k].what, sizeof(out[k].what), "the RMRR at 0x%zx", rm[k]->offset);
	}
	return k;
}

static uint64_t hex_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : UINT64_MAX;
}

static void check_dmar(struct stats *s, const char *cap, const struct iommu_platform *p,
		       const struct iommu_dmar *d, const struct lines *l)
{
	const char *got[256];
	size_t n, k;
	struct iommu_diag *dg = NULL;
	size_t ndg = 0;
	char path[PATH_MAX];

	s->dmar++;
	check_acpi_header(s, cap, l, "DMAR", &d->header);
	n = grep(l, "DMAR: Host address width ", false, got, 256);
	if (n == 0)
		mismatch(s, cap, "the kernel did not parse the DMAR table (no 'Host address width' line)");
	for (size_t i = 0; i < n && i < 256; i++) {
		if ((unsigned)atoi(got[i] + strlen("DMAR: Host address width ")) != d->host_address_width + 1u)
			mismatch(s, cap, "'%s', we decode width field %u", got[i], d->host_address_width);
		s->lines++;
	}
	/* One line per structure, in table order, as dmar_table_print_dmar_entry prints them. */
	{
		static const struct { uint16_t type; const char *prefix; } kinds[] = {
			{ IOMMU_DMAR_DRHD, "DMAR: DRHD base: " }, { IOMMU_DMAR_RMRR, "DMAR: RMRR base: " },
			{ IOMMU_DMAR_ATSR, "DMAR: ATSR flags: " }, { IOMMU_DMAR_RHSA, "DMAR: RHSA base: " },
			{ IOMMU_DMAR_SATC, "DMAR: SATC flags: " },
		};

		for (size_t t = 0; t < sizeof(kinds) / sizeof(kinds[0]); t++) {
			n = grep(l, kinds[t].prefix, false, got, 256);
			k = 0;
			for (size_t i = 0; i < d->n_structs; i++) {
				const struct iommu_dmar_struct *st = &d->structs[i];
				bool ok;

				if (st->type != kinds[t].type)
					continue;
				if (k >= n) {
					mismatch(s, cap, "%s at 0x%zx: the kernel printed no line for it",
						 iommu_dmar_type_name(st->type), st->offset);
					k++;
					continue;
				}
				switch (st->type) {
				case IOMMU_DMAR_DRHD:
					ok = hex_after(got[k], "base: ") == st->address &&
					     hex_after(got[k], "flags: ") == st->flags;
					break;
				case IOMMU_DMAR_RMRR:
					ok = hex_after(got[k], "base: ") == st->base &&
					     hex_after(got[k], "end: ") == st->end;
					break;
				case IOMMU_DMAR_RHSA:
					ok = hex_after(got[k], "base: ") == st->address &&
					     hex_after(got[k], "domain: ") == st->proximity_domain;
					break;
				default:
					ok = hex_after(got[k], "flags: ") == st->flags;
					break;
				}
				if (!ok)
					mismatch(s, cap, "'%s' for our %s at 0x%zx", got[k],
						 iommu_dmar_type_name(st->type), st->offset);
				s->lines++;
				k++;
			}
			if (k < n)
				mismatch(s, cap, "the kernel printed %zu '%s' lines, we have %zu", n, kinds[t].prefix, k);
		}
	}
	/* "DMAR: dmarN: reg_base_addr fed90000 ver ..." */
	n = grep(l, "DMAR: dmar", false, got, 256);
	for (size_t i = 0; i < n && i < 256; i++) {
		int seq;
		unsigned long long base;
		bool found = false;

		if (sscanf(got[i], "DMAR: dmar%d: reg_base_addr %llx", &seq, &base) != 2)
			continue;
		for (size_t j = 0; j < d->n_structs && !found; j++)
			found = d->structs[j].type == IOMMU_DMAR_DRHD &&
				iommu_dmar_drhd_seq_id(d, &d->structs[j]) == seq && d->structs[j].address == base;
		if (!found)
			mismatch(s, cap, "'%s': we have no dmar%d at that base", got[i], seq);
		s->lines++;
	}
	/* "DMAR-IR: IOAPIC id 0 under DRHD base  0xfed90000 IOMMU 0", both ways */
	n = grep(l, "DMAR-IR: IOAPIC id ", false, got, 256);
	{
		size_t ours = 0;

		for (size_t j = 0; j < d->n_structs; j++) {
			const struct iommu_dmar_struct *st = &d->structs[j];

			if (st->type != IOMMU_DMAR_DRHD)
				continue;
			for (size_t q = 0; q < st->n_scopes; q++) {
				char want[128];
				bool found = false;

				if (st->scopes[q].type != IOMMU_SCOPE_IOAPIC)
					continue;
				snprintf(want, sizeof(want), "DMAR-IR: IOAPIC id %u under DRHD base  %#" PRIx64
					 " IOMMU %d", st->scopes[q].enumeration_id, st->address,
					 iommu_dmar_drhd_seq_id(d, st));
				for (size_t i = 0; i < n && i < 256 && !found; i++)
					found = !strcmp(got[i], want);
				if (!found && n)
					mismatch(s, cap, "no '%s' in dmesg", want);
				ours++;
			}
		}
		if (n && n != ours)
			mismatch(s, cap, "%zu IOAPIC lines in dmesg, %zu IOAPIC scopes in our DRHDs", n, ours);
		s->lines += n;
	}
	/* "bad RMRR": ours must be the kernel's; the kernel may add those E820 refuses */
	n = grep(l, "DMAR: [Firmware Bug]: Your BIOS is broken; bad RMRR [", false, got, 256);
	for (size_t i = 0; i < n && i < 256; i++) {
		const char *range = strchr(got[i], '[') + strlen("[Firmware Bug]: Your BIOS is broken; bad RMRR ");
		bool ours = false, e820 = false;

		for (size_t j = 0; j < d->n_diags; j++)
			ours |= strstr(d->diags[j].msg, "bad RMRR") && strstr(d->diags[j].msg, range) != NULL;
		for (size_t j = 0; j < l->n; j++)
			e820 |= strstr(l->v[j], "No firmware reserved region can cover this RMRR") &&
				strstr(l->v[j], range) != NULL;
		if (!ours && !e820)
			mismatch(s, cap, "'%s' from neither the table nor E820", got[i]);
		s->lines++;
	}
	for (size_t j = 0; j < d->n_diags; j++)
		if (strstr(d->diags[j].msg, "bad RMRR") && n == 0)
			mismatch(s, cap, "we find a bad RMRR, the kernel does not: %s", d->diags[j].msg);
	/* the firmware bugs of matching */
	assert_int_equal(iommu_dmar_check_platform(d, p, &dg, &ndg), 0);
	{
		size_t kf = grep(l, "is broken - applying workaround", true, got, 0);
		size_t km = grep(l, "Device scope type does not match", true, got, 0);
		size_t of = 0, om = 0;

		for (size_t j = 0; j < ndg; j++) {
			of += strstr(dg[j].msg, "applying workaround") != NULL;
			om += strstr(dg[j].msg, "does not match") != NULL;
		}
		if (kf != of || km != om)
			mismatch(s, cap, "matching firmware bugs: kernel %zu fallbacks %zu mismatches, ours %zu %zu",
				 kf, km, of, om);
	}
	free(dg);

	/* iommu_class/dmarN: address and devices */
	{
		const struct iommu_dmar_struct *order[64];
		size_t nu = iommu_dmar_drhd_order(d, order, 64);

		snprintf(path, sizeof(path), "%s/%s/iommu_class", captures_dir(), cap);
		for (size_t u = 0; u < nu && u < 64; u++) {
			char unit[16], apath[PATH_MAX + 64], **addr, **ours = NULL;
			size_t na, no = 0;
			int seq = iommu_dmar_drhd_seq_id(d, order[u]);

			snprintf(unit, sizeof(unit), "dmar%d", seq);
			snprintf(apath, sizeof(apath), "%s/%s/intel-iommu/address", path, unit);
			addr = file_lines(apath, &na);
			if (!addr) {
				/* no class: the IOMMU is off, or the kernel ignores the unit */
				if (dir_has_entries(path) && !iommu_dmar_drhd_empty(d, order[u], p))
					mismatch(s, cap, "no %s in iommu_class", unit);
				continue;
			}
			if (strtoull(addr[0], NULL, 16) != order[u]->address)
				mismatch(s, cap, "%s address %s, ours 0x%" PRIx64, unit, addr[0], order[u]->address);
			free_list(addr, na);
			for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
				const struct iommu_pci_dev *dev = iommu_platform_device(p, i);

				if (iommu_dmar_device_drhd(d, p, dev) != order[u])
					continue;
				ours = realloc(ours, (no + 1) * sizeof(*ours));
				ours[no++] = strdup(dev->name);
			}
			compare_devices(s, cap, unit, ours, no);
			free_list(ours, no);
		}
	}
	{
		struct dmar_ctx c = { d, p };

		compare_groups(s, cap, p, rmrr_regions, &c);
	}
}

/* ------------------------------------------------------------------ */
/* AMD                                                                  */

struct ivrs_ctx {
	const struct iommu_ivrs *r;
	const struct iommu_ivrs_map *m;
};

static size_t ivmd_regions(void *ctx, const struct iommu_pci_dev *dev, struct region *out, size_t max)
{
	struct ivrs_ctx *c = ctx;
	const struct iommu_ivrs_block *iv[64];
	size_t n = iommu_ivrs_device_ivmds(c->r, c->m, dev->addr.segment, iommu_pci_addr_rid(dev->addr),
					   iv, 64), k;

	for (k = 0; k < n && k < max && k < 64; k++) {
		uint64_t a, b;

		iommu_ivrs_ivmd_range(iv[k], &a, &b);
		out[k].start = a;
		out[k].end = b - 1;
		snprintf(out[k].what, sizeof(out[k].what), "the IVMD at 0x%zx", iv[k]->offset);
	}
	return k;
}

static void check_ivrs(struct stats *s, const char *cap, const struct iommu_platform *p,
		       const struct iommu_ivrs *r, const struct lines *l)
{
	struct iommu_ivrs_map *m;
	size_t units[32], nu, n;
	const char *got[64];

	s->ivrs++;
	check_acpi_header(s, cap, l, "IVRS", &r->header);
	assert_int_equal(iommu_ivrs_build_map(r, &m, NULL), 0);
	nu = iommu_ivrs_units(r, units, 32);
	/* "pci 0000:00:01.0: AMD-Vi: Found IOMMU cap 0x40", in amd_iommu_list order */
	n = grep(l, "AMD-Vi: Found IOMMU cap ", true, got, 64);
	if (n && n != nu)
		mismatch(s, cap, "%zu 'Found IOMMU' lines, %zu units", n, nu);
	for (size_t u = 0; u < n && u < nu && u < 64; u++) {
		const struct iommu_ivrs_block *b = &r->blocks[units[u]];
		char want[96];

		snprintf(want, sizeof(want), "pci %04x:%02x:%02x.%x: AMD-Vi: Found IOMMU cap %#x", b->pci_segment,
			 b->device_id >> 8, (b->device_id >> 3) & 0x1f, b->device_id & 7, b->capability_offset);
		if (strcmp(got[u], want))
			mismatch(s, cap, "'%s', we expect '%s'", got[u], want);
		s->lines++;
	}
	/* "AMD-Vi: Using global IVHD EFR:0x0, EFR2:0x0": the EFR of 11h/40h blocks when IVinfo says so */
	n = grep(l, "AMD-Vi: Using global IVHD EFR:", false, got, 64);
	for (size_t i = 0; i < n && i < 64 && nu; i++) {
		const struct iommu_ivrs_block *b = &r->blocks[units[0]];
		bool efr = (r->iv_info & IOMMU_IVINFO_EFRSUP) && b->type != IOMMU_IVHD_10;

		if (hex_after(got[i], "EFR:") != (efr ? b->efr_register : 0) ||
		    hex_after(got[i], "EFR2:") != (efr ? b->efr_register2 : 0))
			mismatch(s, cap, "'%s', ours EFR 0x%" PRIx64 " EFR2 0x%" PRIx64 " (type %02xh, IVinfo %#x)",
				 got[i], efr ? b->efr_register : 0, efr ? b->efr_register2 : 0, b->type, r->iv_info);
		s->lines++;
	}
	for (size_t u = 0; u < nu && u < 32; u++) {
		char unit[16], path[PATH_MAX], **ours = NULL;
		size_t no = 0, nl;
		char **probe;

		snprintf(unit, sizeof(unit), "ivhd%zu", u);
		snprintf(path, sizeof(path), "%s/%s/iommu_class/%s/devices", captures_dir(), cap, unit);
		probe = file_lines(path, &nl);
		if (!probe) {
			char cls[PATH_MAX];

			snprintf(cls, sizeof(cls), "%s/%s/iommu_class", captures_dir(), cap);
			if (dir_has_entries(cls))
				mismatch(s, cap, "no %s in iommu_class", unit);
			continue;
		}
		free_list(probe, nl);
		for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
			const struct iommu_pci_dev *dev = iommu_platform_device(p, i);

			if (iommu_ivrs_map_ivhd(m, dev->addr.segment, iommu_pci_addr_rid(dev->addr)) != (int)units[u])
				continue;
			ours = realloc(ours, (no + 1) * sizeof(*ours));
			ours[no++] = strdup(dev->name);
		}
		compare_devices(s, cap, unit, ours, no);
		free_list(ours, no);
	}
	{
		struct ivrs_ctx c = { r, m };

		compare_groups(s, cap, p, ivmd_regions, &c);
	}
	iommu_ivrs_map_free(m);
}

/* ------------------------------------------------------------------ */

static void test_captures_match_the_kernel(void **state)
{
	struct stats s = { 0 };
	size_t n;
	char **caps = list_captures(&n);

	(void)state;
	if (!captures_dir() || !n) {
		n_skipped++;
		print_message("SKIP: no captures (IOMMU_CAPTURES unset or empty)\n");
		free_list(caps, n);
		skip();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct iommu_platform *p;
		struct iommu_error err;
		const uint8_t *data;
		size_t len;
		struct lines l;

		snprintf(path, sizeof(path), "%s/%s", captures_dir(), caps[i]);
		if (iommu_platform_load_snapshot(path, &p, &err)) {
			mismatch(&s, caps[i], "cannot load: %s", err.msg);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s/dmesg.txt", captures_dir(), caps[i]);
		read_dmesg(path, &l);
		if (iommu_platform_acpi_table(p, "DMAR", &data, &len) == 0) {
			struct iommu_dmar *d;

			assert_int_equal(iommu_dmar_parse(data, len, &d, &err), 0);
			check_dmar(&s, caps[i], p, d, &l);
			iommu_dmar_free(d);
			s.captures++;
		}
		if (iommu_platform_acpi_table(p, "IVRS", &data, &len) == 0) {
			struct iommu_ivrs *r;

			assert_int_equal(iommu_ivrs_parse(data, len, &r, &err), 0);
			check_ivrs(&s, caps[i], p, r, &l);
			iommu_ivrs_free(r);
			s.captures++;
		}
		free_lines(&l);
		iommu_platform_free(p);
	}
	print_message("%zu captures with tables (%zu DMAR, %zu IVRS): %zu IOMMU units and %zu devices "
		      "compared with iommu_class, %zu dmesg lines, %zu groups with %zu direct regions; "
		      "%zu mismatches\n", s.captures, s.dmar, s.ivrs, s.units, s.devices, s.lines, s.groups,
		      s.regions, s.mismatches);
	free_list(caps, n);
	assert_true(s.captures >= MIN_CAPTURES_WITH_TABLES);
	assert_true(s.units >= MIN_CAPTURES_WITH_TABLES);
	assert_int_equal(s.mismatches, 0);
}

/* ------------------------------------------------------------------ */
/* The iommu acpi command                                               */

/* Run "$IOMMU_BIN acpi ARGS" and return its exit status; stdout and stderr in *out, *errout. */
static int run_acpi(const char *args, char **out, char **errout)
{
	const char *bin = getenv("IOMMU_BIN");
	char *tmp = make_temp_dir(), cmd[PATH_MAX * 3];
	int st;

	assert_non_null(bin);
	assert_non_null(tmp);
	snprintf(cmd, sizeof(cmd), "%s acpi %s >%s/out 2>%s/err", bin, args, tmp, tmp);
	st = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s/out", tmp);
	*out = slurp(cmd, NULL);
	snprintf(cmd, sizeof(cmd), "%s/err", tmp);
	*errout = slurp(cmd, NULL);
	remove_tree(tmp);
	free(tmp);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void test_command(void **state)
{
	char args[PATH_MAX * 2], *out, *err, path[PATH_MAX];
	json_object *root, *t, *m, *u;
	struct iommu_platform *p;
	struct iommu_error e;

	(void)state;
	if (!getenv("IOMMU_BIN") || !captures_dir()) {
		n_skipped++;
		print_message("SKIP: IOMMU_BIN or IOMMU_CAPTURES unset\n");
		skip();
		return;
	}
	/* a capture: decode and matching, as JSON */
	snprintf(path, sizeof(path), "%s/lx-intel-server-rmrr", captures_dir());
	snprintf(args, sizeof(args), "--snapshot %s --json", path);
	assert_int_equal(run_acpi(args, &out, &err), 0);
	root = json_tokener_parse(out);
	assert_non_null(root);
	t = json_object_array_get_idx(member(root, "tables"), 0);
	assert_string_equal(json_object_get_string(member(t, "signature")), "DMAR");
	assert_int_equal(json_object_get_int(member(t, "host_address_width")), 38);
	assert_int_equal(json_object_array_length(member(t, "structures")), 4);
	u = json_object_array_get_idx(member(t, "structures"), 0);
	assert_int_equal(json_object_get_int64(member(u, "register_base_address")), 0xfed90000);
	assert_string_equal(json_object_get_string(member(u, "type_name")), "DRHD");
	u = json_object_array_get_idx(member(t, "structures"), 1);
	assert_int_equal(json_object_get_int64(member(u, "reserved_memory_region_base_address")), 0xf0000);
	m = json_object_array_get_idx(member(root, "matching"), 0);
	u = json_object_array_get_idx(member(m, "units"), 0);
	assert_string_equal(json_object_get_string(member(u, "name")), "dmar0");
	{
		/* the same devices as the kernel's dmar0 */
		size_t n;
		char **theirs, dp[PATH_MAX + 64];
		json_object *devs = member(u, "devices");

		snprintf(dp, sizeof(dp), "%s/iommu_class/dmar0/devices", path);
		theirs = file_lines(dp, &n);
		assert_int_equal(json_object_array_length(devs), n);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(json_object_get_string(member(json_object_array_get_idx(devs, i), "bdf")),
					    theirs[i]);
		free_list(theirs, n);
	}
	json_object_put(root);
	free(out);
	free(err);

	/* text, for the built-in AMD platform */
	assert_int_equal(run_acpi("--builtin amd-server", &out, &err), 0);
	assert_non_null(strstr(out, "IVRS table"));
	assert_non_null(strstr(out, "ivhd0"));
	assert_non_null(strstr(out, "alias 0000:01:00.0"));
	free(out);
	free(err);

	/* a snapshot's acpi/ directory, and one table file */
	snprintf(args, sizeof(args), "%s/lx-amd-server-ivmd/acpi --json", captures_dir());
	assert_int_equal(run_acpi(args, &out, &err), 0);
	root = json_tokener_parse(out);
	assert_non_null(root);
	t = json_object_array_get_idx(member(root, "tables"), 0);
	assert_string_equal(json_object_get_string(member(t, "signature")), "IVRS");
	assert_false(json_object_object_get_ex(root, "matching", NULL));
	json_object_put(root);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "%s/lx-intel-server/acpi/DMAR", captures_dir());
	assert_int_equal(run_acpi(args, &out, &err), 0);
	assert_non_null(strstr(out, "[0x098] DRHD") ? out : strstr(out, "scope [0x098] bridge"));
	free(out);
	free(err);

	/* exit statuses: 3 for missing or bad input, 2 for a bad command line */
	assert_int_equal(run_acpi("/nonexistent/DMAR", &out, &err), 3);
	assert_non_null(strstr(err, "No such file"));
	free(out);
	free(err);
	snprintf(args, sizeof(args), "%s/lx-intel-server/cmdline", captures_dir());
	assert_int_equal(run_acpi(args, &out, &err), 3);
	assert_non_null(strstr(err, "acpidump"));
	free(out);
	free(err);
	snprintf(args, sizeof(args), "%s/lx-intel-server/acpi/APIC", captures_dir());
	assert_int_equal(run_acpi(args, &out, &err), 3);
	assert_non_null(strstr(err, "no DMAR or IVRS table"));
	free(out);
	free(err);
	assert_int_equal(run_acpi("--frobnicate", &out, &err), 2);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "x --snapshot %s", path);
	assert_int_equal(run_acpi(args, &out, &err), 2);
	free(out);
	free(err);
	assert_int_equal(run_acpi("--help", &out, &err), 0);
	assert_non_null(strstr(out, "Usage: iommu acpi"));
	free(out);
	free(err);
	/* a platform without tables: said, not an error */
	snprintf(args, sizeof(args), "--snapshot %s/z-no-iommu", captures_dir());
	assert_int_equal(run_acpi(args, &out, &err), 0);
	assert_non_null(strstr(out, "no DMAR or IVRS table"));
	free(out);
	free(err);
	(void)p;
	(void)e;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures_match_the_kernel),
		cmocka_unit_test(test_command),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* 77: meson's SKIP, when the captures were not there */
	return failed ? failed : n_skipped ? 77 : 0;
}
