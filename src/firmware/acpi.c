// SPDX-License-Identifier: MIT
/*
 * ACPI tables in general: the standard header, diagnostics, and where
 * tables come from (binary files, directories, acpidump text, platforms).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/fw_internal.h"
#include "util/bits.h"

/* The RSDP (ACPI specification, "Root System Description Pointer"). */
#define RSDP_REVISION   15
#define RSDP_LENGTH     20
#define RSDP_V1_LEN     20

/* The largest table or acpidump file read (a DSDT is rarely above 1 MiB). */
#define ACPI_MAX_FILE (64u << 20)

/* ------------------------------------------------------------------ */
/* Header, checksum, diagnostics                                        */

uint8_t iommu_acpi_checksum(const uint8_t *data, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + data[i]);
	return sum;
}

static void copy_field(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int iommu_acpi_header_parse(const uint8_t *data, size_t len, struct iommu_acpi_header *h)
{
	size_t n;

	memset(h, 0, sizeof(*h));
	if (len < IOMMU_ACPI_HEADER_LEN)
		return -EINVAL;
	copy_field(h->signature, data + ACPI_HDR_SIGNATURE, 4);
	h->length = iommu_le32(data + ACPI_HDR_LENGTH);
	h->revision = data[ACPI_HDR_REVISION];
	h->checksum = data[ACPI_HDR_CHECKSUM];
	copy_field(h->oem_id, data + ACPI_HDR_OEM_ID, 6);
	copy_field(h->oem_table_id, data + ACPI_HDR_OEM_TABLE_ID, 8);
	h->oem_revision = iommu_le32(data + ACPI_HDR_OEM_REVISION);
	copy_field(h->asl_compiler_id, data + ACPI_HDR_CREATOR_ID, 4);
	h->asl_compiler_revision = iommu_le32(data + ACPI_HDR_CREATOR_REV);
	n = h->length < len ? h->length : len;
	h->checksum_ok = iommu_acpi_checksum(data, n) == 0;
	return 0;
}

const char *iommu_diag_severity_name(enum iommu_diag_severity s)
{
	switch (s) {
	case IOMMU_DIAG_NOTE:
		return "note";
	case IOMMU_DIAG_WARN:
		return "warning";
	case IOMMU_DIAG_FATAL:
		return "fatal";
	}
	return "?";
}

bool fw_grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

void fw_diag(struct fw_diags *d, enum iommu_diag_severity sev, size_t offset, int structure,
	     const char *fmt, ...)
{
	struct iommu_diag *g;
	va_list ap;

	if (!fw_grow((void **)&d->v, &d->cap, d->n + 1, sizeof(*d->v))) {
		d->oom = true;
		return;
	}
	g = &d->v[d->n++];
	g->severity = sev;
	g->offset = offset;
	g->structure = structure;
	va_start(ap, fmt);
	vsnprintf(g->msg, sizeof(g->msg), fmt, ap);
	va_end(ap);
}

size_t fw_check_header(const uint8_t *data, size_t len, struct iommu_acpi_header *h,
		       struct fw_diags *d, enum iommu_diag_severity checksum_sev,
		       const char *checksum_consequence, bool *refused)
{
	size_t end;

	iommu_acpi_header_parse(data, len, h);
	end = h->length;
	if (end > len) {
		fw_diag(d, IOMMU_DIAG_FATAL, ACPI_HDR_LENGTH, -1,
			"table header: length field says %u bytes but only %zu are present: "
			"the table is truncated, decoding what is there", h->length, len);
		*refused = true;
		end = len;
	} else if (end < len) {
		fw_diag(d, IOMMU_DIAG_NOTE, end, -1,
			"table header: %zu bytes after the table's length (%u) are not part of it",
			len - end, h->length);
	}
	if (!h->checksum_ok && h->length <= len) {
		uint8_t sum = iommu_acpi_checksum(data, end);

		fw_diag(d, checksum_sev, ACPI_HDR_CHECKSUM, -1,
			"table header: checksum 0x%02x is wrong, it should be 0x%02x: %s",
			h->checksum, (uint8_t)(h->checksum - sum), checksum_consequence);
		if (checksum_sev == IOMMU_DIAG_FATAL)
			*refused = true;
	}
	return end;
}

/* ------------------------------------------------------------------ */
/* Table lists                                                          */

void iommu_acpi_tables_free(struct iommu_acpi_tables *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->tables[i].name);
		free(t->tables[i].data);
	}
	free(t->tables);
	free(t);
}

const struct iommu_acpi_table *iommu_acpi_tables_find(const struct iommu_acpi_tables *t,
						      const char *signature, size_t instance)
{
	if (!t || !signature)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (!strncmp(t->tables[i].signature, signature, 4) && instance-- == 0)
			return &t->tables[i];
	return NULL;
}

/* Append a table (data copied). */
static int tables_add(struct iommu_acpi_tables *t, size_t *cap, const char *name,
		      const uint8_t *data, size_t len)
{
	struct iommu_acpi_table *e;

	if (!fw_grow((void **)&t->tables, cap, t->n + 1, sizeof(*t->tables)))
		return -ENOMEM;
	e = &t->tables[t->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	e->data = malloc(len ? len : 1);
	if (!e->name || !e->data) {
		free(e->name);
		free(e->data);
		return -ENOMEM;
	}
	if (len)
		memcpy(e->data, data, len);
	e->len = len;
	if (len >= 4)
		copy_field(e->signature, data, 4);
	t->n++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* acpidump text                                                        */

struct dump_state {
	const char *text;
	size_t len;
	size_t line_no;
	/* the table being read */
	bool in_table;
	char sig[5];
	char name[64];
	size_t header_line;
	uint8_t *buf;
	size_t n, cap;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Printable characters as they are, others as '?', for messages. */
static void show(char *dst, size_t dlen, const char *src, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < dlen; i++)
		dst[j++] = isprint((unsigned char)src[i]) ? src[i] : '?';
	dst[j] = '\0';
}

/* Finish the table being read: check it is whole, then keep it. */
static int dump_finish(struct dump_state *s, struct iommu_acpi_tables *t, size_t *cap,
		       struct iommu_error *err)
{
	int ret;

	if (!s->in_table)
		return 0;
	s->in_table = false;
	if (!strcmp(s->sig, "RSDP")) {
		/* The RSDP has no standard header: keep it as it is. */
		if (s->n < RSDP_V1_LEN)
			return iommu_error_set(err, -EINVAL,
					       "acpidump line %zu: table RSDP has %zu bytes, fewer than the 20 of an RSDP",
					       s->header_line, s->n);
	} else {
		uint32_t tlen;

		if (s->n < IOMMU_ACPI_HEADER_LEN)
			return iommu_error_set(err, -EINVAL,
					       "acpidump line %zu: table %s has %zu bytes, fewer than the 36 of an ACPI table header",
					       s->header_line, s->sig, s->n);
		tlen = iommu_le32(s->buf + ACPI_HDR_LENGTH);
		if (tlen > s->n)
			return iommu_error_set(err, -EINVAL,
					       "acpidump line %zu: table %s is truncated: its header says %u bytes, the dump has %zu",
					       s->header_line, s->sig, tlen, s->n);
		if (tlen < s->n)
			return iommu_error_set(err, -EINVAL,
					       "acpidump line %zu: table %s has %zu bytes, more than the %u its header says",
					       s->header_line, s->sig, s->n, tlen);
	}
	ret = tables_add(t, cap, s->name, s->buf, s->n);
	if (ret)
		return iommu_error_set(err, ret, "acpidump: out of memory");
	return 0;
}

/*
 * "SIG @ 0xADDR": returns true and fills the signature.  The signature is
 * four printable characters ("RSD PTR" is shown as "RSDP").
 */
static bool dump_header_line(const char *l, size_t n, char sig[5])
{
	size_t i = 4;

	if (n < 8)
		return false;
	for (size_t k = 0; k < 4; k++)
		if (!isgraph((unsigned char)l[k]))
			return false;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i == 4 || i >= n || l[i] != '@')
		return false;
	i++;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i + 2 >= n || l[i] != '0' || (l[i + 1] != 'x' && l[i + 1] != 'X') ||
	    hexval((unsigned char)l[i + 2]) < 0)
		return false;
	memcpy(sig, l, 4);
	sig[4] = '\0';
	return true;
}

/* "OFFS:" with 1 to 8 hex digits; returns the position after ':' or 0. */
static size_t dump_offset(const char *l, size_t n, unsigned long *off)
{
	size_t i = 0;

	*off = 0;
	while (i < n && i < 9 && hexval((unsigned char)l[i]) >= 0) {
		*off = *off * 16 + (unsigned long)hexval((unsigned char)l[i]);
		i++;
	}
	if (i == 0 || i > 8 || i >= n || l[i] != ':')
		return 0;
	return i + 1;
}

static int dump_data_line(struct dump_state *s, const char *l, size_t n, size_t pos,
			  unsigned long off, size_t indent, struct iommu_error *err)
{
	size_t count = 0, want = 16;
	char shown[16];

	/* Once the length field is in, a line holds no more bytes than the
	 * table has left: what follows is the ASCII column, even when the
	 * blanks before it were squeezed to one (as web forums do). */
	if (s->n >= ACPI_HDR_LENGTH + 4) {
		uint32_t tlen = iommu_le32(s->buf + ACPI_HDR_LENGTH);

		if (!strcmp(s->sig, "RSDP"))    /* ACPI 1.0: 20 bytes; later: length at 20 */
			tlen = s->n >= RSDP_REVISION + 1 && s->buf[RSDP_REVISION] < 2 ? RSDP_V1_LEN :
			       s->n >= RSDP_LENGTH + 4 ? iommu_le32(s->buf + RSDP_LENGTH) : 0;
		if (tlen > s->n && tlen - s->n < want)
			want = tlen - s->n;
	}
	if (off != s->n)
		return iommu_error_set(err, -EINVAL,
				       "acpidump line %zu: offset %04lX, but %zu bytes (%04zX) of table %s were read so far",
				       s->line_no, off, s->n, s->n, s->sig);
	/* Bytes are "HH" separated by one space; two spaces start the ASCII column. */
	while (pos < n && (l[pos] == ' ' || l[pos] == '\t'))
		pos++;
	while (pos < n && count < want) {
		int hi = hexval((unsigned char)l[pos]);
		int lo = pos + 1 < n ? hexval((unsigned char)l[pos + 1]) : -1;
		bool sep_ok = pos + 2 >= n || l[pos + 2] == ' ' || l[pos + 2] == '\t';

		if (hi < 0 || lo < 0 || !sep_ok) {
			show(shown, sizeof(shown), l + pos, n - pos < 3 ? n - pos : 3);
			return iommu_error_set(err, -EINVAL,
					       "acpidump line %zu, column %zu: '%s' is not a hex byte (table %s, offset %04zX)",
					       s->line_no, indent + pos + 1, shown, s->sig, s->n);
		}
		if (!fw_grow((void **)&s->buf, &s->cap, s->n + 1, 1))
			return iommu_error_set(err, -ENOMEM, "acpidump: out of memory");
		s->buf[s->n++] = (uint8_t)(hi << 4 | lo);
		count++;
		pos += 2;
		if (pos >= n)
			break;
		/* one separator: more bytes; two or more: the ASCII column */
		if (pos + 1 < n && (l[pos + 1] == ' ' || l[pos + 1] == '\t'))
			break;
		pos++;
	}
	if (count == 0)
		return iommu_error_set(err, -EINVAL,
				       "acpidump line %zu: no hex bytes after the offset (table %s)",
				       s->line_no, s->sig);
	if (s->n > ACPI_MAX_FILE)
		return iommu_error_set(err, -EFBIG, "acpidump line %zu: table %s is larger than %u bytes",
				       s->line_no, s->sig, ACPI_MAX_FILE);
	return 0;
}

int iommu_acpi_parse_acpidump(const char *text, size_t len, struct iommu_acpi_tables **out,
			      struct iommu_error *err)
{
	struct dump_state s = { .text = text, .len = len };
	struct iommu_acpi_tables *t;
	size_t cap = 0, pos = 0;
	int ret = 0;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return iommu_error_set(err, -ENOMEM, "acpidump: out of memory");
	while (pos < len && !ret) {
		const char *l = text + pos;
		size_t n = 0, indent = 0;
		unsigned long off;
		size_t after;
		char sig[5];

		while (pos + n < len && text[pos + n] != '\n')
			n++;
		pos += n + 1;
		s.line_no++;
		if (n && l[n - 1] == '\r')
			n--;
		while (indent < n && (l[indent] == ' ' || l[indent] == '\t'))
			indent++;
		l += indent;
		n -= indent;
		if (n == 0)
			continue;
		if (memchr(l, '\0', n)) {
			ret = iommu_error_set(err, -EINVAL,
					      "acpidump line %zu: a NUL byte: this is not acpidump text",
					      s.line_no);
			break;
		}
		if (dump_header_line(l, n, sig)) {
			ret = dump_finish(&s, t, &cap, err);
			if (ret)
				break;
			s.in_table = true;
			s.n = 0;
			s.header_line = s.line_no;
			memcpy(s.sig, sig, 5);
			show(s.name, sizeof(s.name), l, n < sizeof(s.name) - 1 ? n : sizeof(s.name) - 1);
			continue;
		}
		after = dump_offset(l, n, &off);
		if (after) {
			if (!s.in_table) {
				ret = iommu_error_set(err, -EINVAL,
						      "acpidump line %zu: hex dump line before any 'SIG @ 0xADDRESS' table header",
						      s.line_no);
				break;
			}
			ret = dump_data_line(&s, l, n, after, off, indent, err);
			continue;
		}
		/* "0Z10: ..." inside a table: a damaged offset, not the end of the table. */
		if (s.in_table && !(s.n >= IOMMU_ACPI_HEADER_LEN && iommu_le32(s.buf + ACPI_HDR_LENGTH) <= s.n)) {
			const char *colon = memchr(l, ':', n < 10 ? n : 10);
			bool word = colon && colon > l;

			for (const char *c = l; word && c < colon; c++)
				word = isalnum((unsigned char)*c);
			if (word) {
				char shown[16];

				show(shown, sizeof(shown), l, (size_t)(colon - l));
				ret = iommu_error_set(err, -EINVAL,
						      "acpidump line %zu: '%s' is not a hex offset (table %s)",
						      s.line_no, shown, s.sig);
				break;
			}
		}
		/* Any other line (a message, forum text) ends the table being read. */
		ret = dump_finish(&s, t, &cap, err);
	}
	if (!ret)
		ret = dump_finish(&s, t, &cap, err);
	free(s.buf);
	if (!ret && t->n == 0)
		ret = iommu_error_set(err, -EINVAL,
				      "acpidump: no table found (expected 'SIG @ 0xADDRESS' lines followed by hex dump lines)");
	if (ret) {
		iommu_acpi_tables_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files and directories                                                */

static int read_whole(const char *path, uint8_t **data, size_t *len, struct iommu_error *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int fd, ret = 0;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EPERM)
			return iommu_error_set(err, ret, "%s: permission denied (ACPI tables in /sys are readable by root only)",
					       path);
		return iommu_error_set(err, ret, "%s: %s", path, strerror(-ret));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return iommu_error_set(err, -EISDIR, "%s: is a directory", path);
	}
	for (;;) {
		ssize_t r;

		if (!fw_grow((void **)&buf, &cap, n + 65536, 1)) {
			ret = iommu_error_set(err, -ENOMEM, "%s: out of memory", path);
			break;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			iommu_error_set(err, ret, "%s: %s", path, strerror(-ret));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > ACPI_MAX_FILE) {
			ret = iommu_error_set(err, -EFBIG, "%s: larger than %u bytes, not an ACPI table",
					      path, ACPI_MAX_FILE);
			break;
		}
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* A binary table: four signature characters and NUL bytes somewhere in the
 * header (lengths and revisions hold them), or an exact length field. */
static bool looks_binary_table(const uint8_t *d, size_t len)
{
	size_t hdr = len < IOMMU_ACPI_HEADER_LEN ? len : IOMMU_ACPI_HEADER_LEN;

	if (len < 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isalnum(d[i]) && d[i] != '_' && d[i] != '$' && d[i] != ' ')
			return false;
	if (len >= 8 && iommu_le32(d + ACPI_HDR_LENGTH) == len)
		return true;
	return memchr(d, '\0', hdr) != NULL;
}

/* Whether some line of @text is an acpidump "SIG @ 0xADDRESS" line. */
static bool has_dump_header(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *l = text + pos;
		size_t n = 0;
		char sig[5];

		while (pos + n < len && text[pos + n] != '\n')
			n++;
		pos += n + 1;
		while (n && (*l == ' ' || *l == '\t')) {
			l++;
			n--;
		}
		if (dump_header_line(l, n, sig))
			return true;
	}
	return false;
}

static bool looks_text(const uint8_t *d, size_t len)
{
	return len > 0 && !memchr(d, '\0', len);
}

/* Read @path as a binary table or acpidump text and append to @t.
 * @strict: the file must be one of the two (a single file named on the
 * command line); otherwise files that are neither are skipped (1). */
static int load_one(const char *path, const char *label, struct iommu_acpi_tables *t, size_t *cap,
		    bool strict, struct iommu_error *err)
{
	uint8_t *data;
	size_t len;
	int ret;

	ret = read_whole(path, &data, &len, err);
	if (ret)
		return ret;
	if (len == 0) {
		free(data);
		if (!strict)
			return 1;
		return iommu_error_set(err, -EINVAL, "%s: empty file, no ACPI table", path);
	}
	if (strict ? !looks_text(data, len) || looks_binary_table(data, len)
		   : looks_binary_table(data, len)) {
		ret = tables_add(t, cap, label, data, len);
		if (ret)
			iommu_error_set(err, ret, "%s: out of memory", path);
	} else if (looks_text(data, len) && (strict || has_dump_header((const char *)data, len))) {
		struct iommu_acpi_tables *dump;

		ret = iommu_acpi_parse_acpidump((const char *)data, len, &dump, err);
		if (ret) {
			iommu_error_prefix(err, "%s", path);
		} else {
			for (size_t i = 0; i < dump->n && !ret; i++) {
				char name[PATH_MAX + 80];

				snprintf(name, sizeof(name), "%s: %s", label, dump->tables[i].name);
				ret = tables_add(t, cap, name, dump->tables[i].data, dump->tables[i].len);
			}
			if (ret)
				iommu_error_set(err, ret, "%s: out of memory", path);
			iommu_acpi_tables_free(dump);
		}
	} else {
		ret = 1;
	}
	free(data);
	return ret;
}

int iommu_acpi_load_file(const char *path, struct iommu_acpi_tables **out,
			 struct iommu_error *err)
{
	struct iommu_acpi_tables *t;
	size_t cap = 0;
	int ret;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	ret = load_one(path, path, t, &cap, true, err);
	if (ret) {
		iommu_acpi_tables_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(const char *dir, struct iommu_acpi_tables *t, size_t *cap, int depth,
		    struct iommu_error *err)
{
	char **names = NULL;
	size_t n = 0, ncap = 0;
	bool has_acpi_subdir = false;
	struct dirent *e;
	DIR *d;
	int ret = 0;

	d = opendir(dir);
	if (!d) {
		ret = -errno;
		return iommu_error_set(err, ret, "%s: %s", dir, strerror(-ret));
	}
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (!strcmp(e->d_name, "acpi"))
				has_acpi_subdir = true;
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (!fw_grow((void **)&names, &ncap, n + 1, sizeof(*names)) ||
		    !(names[n] = strdup(e->d_name))) {
			ret = iommu_error_set(err, -ENOMEM, "%s: out of memory", dir);
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && ret >= 0; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = load_one(path, path, t, cap, false, err);
		if (ret > 0)
			ret = 0;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ret < 0)
		return ret;
	/* A snapshot directory: its tables are in acpi/. */
	if (t->n == 0 && has_acpi_subdir && depth == 0) {
		char sub[PATH_MAX];

		snprintf(sub, sizeof(sub), "%s/acpi", dir);
		return load_dir(sub, t, cap, depth + 1, err);
	}
	return 0;
}

int iommu_acpi_load_dir(const char *dir, struct iommu_acpi_tables **out,
			struct iommu_error *err)
{
	struct iommu_acpi_tables *t;
	size_t cap = 0;
	int ret;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	ret = load_dir(dir, t, &cap, 0, err);
	if (!ret && t->n == 0)
		ret = iommu_error_set(err, -ENOENT, "%s: no ACPI table in this directory", dir);
	if (ret) {
		iommu_acpi_tables_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int iommu_acpi_load_path(const char *path, struct iommu_acpi_tables **out,
			 struct iommu_error *err)
{
	struct stat st;

	if (stat(path, &st)) {
		int ret = -errno;

		*out = NULL;
		return iommu_error_set(err, ret, "%s: %s", path, strerror(-ret));
	}
	if (S_ISDIR(st.st_mode))
		return iommu_acpi_load_dir(path, out, err);
	return iommu_acpi_load_file(path, out, err);
}

int iommu_acpi_load_platform(const struct iommu_platform *p, struct iommu_acpi_tables **out,
			     struct iommu_error *err)
{
	struct iommu_acpi_tables *t;
	size_t cap = 0;
	int ret = 0;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < iommu_platform_num_acpi_tables(p) && !ret; i++) {
		const char *name = iommu_platform_acpi_table_name(p, i);
		const uint8_t *data;
		size_t len;
		char label[96];

		if (!name || iommu_platform_acpi_table(p, name, &data, &len))
			continue;
		if (!looks_binary_table(data, len))
			continue;       /* acpi/DMAR.dsl and such */
		snprintf(label, sizeof(label), "acpi/%s", name);
		ret = tables_add(t, &cap, label, data, len);
		if (ret)
			iommu_error_set(err, ret, "out of memory");
	}
	if (ret) {
		iommu_acpi_tables_free(t);
		return ret;
	}
	*out = t;
	return 0;
}
