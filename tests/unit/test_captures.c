// SPDX-License-Identifier: MIT
/*
 * Every capture in tests/captures/ against what the real tools printed.
 *
 * For each capture directory, the inputs are loaded with
 * iommu_platform_load_snapshot() and every decoded PCI function is
 * compared with the capture's lspci-vvv.txt, which is the output of the
 * real `lspci -vvv` (pciutils 3.9.0, run as root inside the QEMU guest).
 * The lspci text is parsed here, independently of the library (the
 * library's own name tables are not used to read it), after the printf
 * formats of pciutils 3.9.0 (lspci.c show_terse/show_bases, ls-caps.c
 * show_caps/cap_express, ls-ecaps.c show_ext_caps/cap_acs).
 *
 * Compared per function: presence (the two device sets must be equal),
 * vendor, device, class (base and sub-class), prog-if, revision, the
 * subsystem ids (header or, for bridges, SSVID capability), bridge primary/secondary/
 * subordinate bus numbers, the PCI Express capability (version, port
 * type, the slot bit where lspci prints it, interrupt message number),
 * the ACS capability and control bits (all 7 that lspci prints), the
 * capability list (offsets in list order, standard vs. extended, the
 * extended capabilities' versions, and the ids behind the names lspci
 * prints) and the bound driver.
 *
 * lspci -vvv does not print the header type's multifunction bit, so that
 * one is compared with the capture's summary.txt, written on the host by
 * the oracle's annotate.py: it decodes the raw config file itself and adds
 * "hdr-MF-bit" to a function's parenthesised notes exactly when byte 0x0e
 * has bit 7 set (`mf = bool(cfg[0x0E] & 0x80)` in caps()).  The same notes
 * carry the full 16-bit ACS capability and control words
 * ("ACS cap=0x005f ctrl=0x001d"), which are compared too, since lspci
 * shows only bits 0-6.
 *
 * Mismatches are collected over all captures and printed together
 * (capture, function, field, our value, theirs); the test fails at the
 * end if there was any.  Captures are walked at run time, so new ones are
 * picked up without changing this file.
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
#include "iommu/platform.h"

/* The captures are the ground truth: there must be a fair number of them. */
#define MIN_CAPTURES 20

/* ------------------------------------------------------------------ */
/* Mismatch collection                                                  */

struct report {
	char *text;             /* every mismatch, one a line */
	size_t len, cap;
	size_t mismatches;
	size_t comparisons;     /* individual field comparisons made */
	size_t captures;        /* captures fully compared */
	size_t devices;         /* functions compared */
};

static void report_add(struct report *r, const char *capture, const char *bdf,
		       const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report_add(struct report *r, const char *capture, const char *bdf,
		       const char *field, const char *fmt, ...)
{
	char msg[1024];
	char line[1400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "  %s %s %s: %s\n", capture, bdf ? bdf : "-", field, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (r->len + (size_t)n + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8192;

		while (ncap < r->len + (size_t)n + 1)
			ncap *= 2;
		r->text = realloc(r->text, ncap);
		assert_non_null(r->text);
		r->cap = ncap;
	}
	memcpy(r->text + r->len, line, (size_t)n + 1);
	r->len += (size_t)n;
	r->mismatches++;
}

/* Compare two numbers; @width is the number of hex digits to show. */
static void cmp_hex(struct report *r, const char *capture, const char *bdf,
		    const char *field, unsigned long ours, unsigned long theirs, int width)
{
	r->comparisons++;
	if (ours != theirs)
		report_add(r, capture, bdf, field, "ours=%0*lx lspci=%0*lx",
			   width, ours, width, theirs);
}

static void cmp_bool(struct report *r, const char *capture, const char *bdf,
		     const char *field, bool ours, bool theirs, const char *source)
{
	r->comparisons++;
	if (ours != theirs)
		report_add(r, capture, bdf, field, "ours=%s %s=%s", ours ? "yes" : "no",
			   source, theirs ? "yes" : "no");
}

static void cmp_str(struct report *r, const char *capture, const char *bdf,
		    const char *field, const char *ours, const char *theirs)
{
	r->comparisons++;
	if ((ours == NULL) != (theirs == NULL) || (ours && strcmp(ours, theirs)))
		report_add(r, capture, bdf, field, "ours=%s lspci=%s",
			   ours ? ours : "(none)", theirs ? theirs : "(none)");
}

/* ------------------------------------------------------------------ */
/* lspci -vvv, parsed                                                   */

struct lspci_cap {
	uint16_t offset;
	bool extended;
	uint8_t version;        /* extended ones: the "v%d" */
	int id;                 /* from the name lspci printed; -1 when not recognised */
	bool bad;               /* "<chain broken>", "<chain looped>" */
};

#define LSPCI_MAX_CAPS 64

struct lspci_dev {
	char bdf[IOMMU_PCI_ADDR_STRLEN];
	unsigned vendor, device;
	unsigned cls;           /* base << 8 | sub, the "[cccc]" */
	unsigned prog_if;       /* 0 when lspci does not show it */
	bool prog_if_shown;
	unsigned rev;           /* 0 when lspci does not show it (it omits rev 00) */
	bool has_subsys;
	unsigned subsys_vendor, subsys_device;

	bool has_bus;
	unsigned primary, secondary, subordinate;

	bool express;
	unsigned exp_version;
	int exp_type;           /* -1 when the words were not recognised */
	char exp_words[80];
	int exp_slot;           /* -1 not printed, else 0/1 */
	unsigned exp_msi;

	bool has_acs_cap, has_acs_ctl;
	uint16_t acs_cap, acs_ctl;

	struct lspci_cap caps[LSPCI_MAX_CAPS];
	size_t n_caps;
	bool caps_overflow;
	bool caps_denied;       /* "Capabilities: <access denied>" */

	char driver[64];
	bool has_driver;
};

struct lspci {
	struct lspci_dev *devs;
	size_t n;
};

static bool is_hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/*
 * "SSSS:BB:DD.F Class name [cccc]: Vendor Device [vvvv:dddd] (rev xx) (prog-if xx [...])"
 * Names may hold brackets and parentheses themselves ("Advanced Micro
 * Devices, Inc. [AMD]", "82801IB (ICH9) LPC ..."), so the class is the
 * first "[hhhh]: " and the ids are the last "[hhhh:hhhh]".
 */
static bool parse_header(const char *line, struct lspci_dev *d)
{
	struct iommu_pci_addr addr;
	char bdf[32];
	const char *sp = strchr(line, ' ');
	const char *p, *ids = NULL, *cls = NULL;

	if (!sp || (size_t)(sp - line) >= sizeof(bdf))
		return false;
	memcpy(bdf, line, (size_t)(sp - line));
	bdf[sp - line] = '\0';
	if (iommu_pci_addr_parse(bdf, &addr))
		return false;
	iommu_pci_addr_format(addr, d->bdf);

	for (p = sp; (p = strchr(p, '[')); p++) {
		if (!cls && is_hex4(p + 1) && !strncmp(p + 5, "]: ", 3))
			cls = p;
		if (cls && is_hex4(p + 1) && p[5] == ':' && is_hex4(p + 6) && p[10] == ']')
			ids = p;
	}
	if (!cls || !ids)
		return false;
	d->cls = (unsigned)strtoul(cls + 1, NULL, 16);
	d->vendor = (unsigned)strtoul(ids + 1, NULL, 16);
	d->device = (unsigned)strtoul(ids + 6, NULL, 16);
	/* lspci prints "(rev %02x)" only for a nonzero revision. */
	p = strstr(ids, " (rev ");
	if (p && sscanf(p, " (rev %x)", &d->rev) != 1)
		return false;
	/* "(prog-if %02x" when nonzero or when pci.ids names it (even 00). */
	p = strstr(ids, " (prog-if ");
	if (p) {
		if (sscanf(p, " (prog-if %x", &d->prog_if) != 1)
			return false;
		d->prog_if_shown = true;
	}
	return true;
}

/* lspci's words for the PCIe port types (ls-caps.c cap_express). */
static int express_type(const char *words)
{
	static const struct { const char *words; int type; } types[] = {
		{ "Endpoint", 0x0 },
		{ "Legacy Endpoint", 0x1 },
		{ "Root Port", 0x4 },
		{ "Upstream Port", 0x5 },
		{ "Downstream Port", 0x6 },
		{ "PCI-Express to PCI/PCI-X Bridge", 0x7 },
		{ "PCI/PCI-X to PCI-Express Bridge", 0x8 },
		{ "Root Complex Integrated Endpoint", 0x9 },
		{ "Root Complex Event Collector", 0xa },
	};
	int t;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(words, types[i].words))
			return types[i].type;
	if (sscanf(words, "Unknown type %d", &t) == 1)
		return t;
	return -1;
}

/* "Express (v2) Root Port (Slot+), MSI 00" */
static bool parse_express(const char *s, struct lspci_dev *d)
{
	const char *msi, *slot;
	size_t n;
	int used = 0;

	if (sscanf(s, "Express (v%u) %n", &d->exp_version, &used) != 1 || !used)
		return false;
	s += used;
	msi = strstr(s, ", MSI ");
	if (!msi || sscanf(msi, ", MSI %x", &d->exp_msi) != 1)
		return false;
	n = (size_t)(msi - s);
	d->exp_slot = -1;
	slot = strstr(s, " (Slot");
	if (slot && slot < msi) {
		if (slot[6] != '+' && slot[6] != '-')
			return false;
		d->exp_slot = slot[6] == '+';
		n = (size_t)(slot - s);
	}
	if (n >= sizeof(d->exp_words))
		return false;
	memcpy(d->exp_words, s, n);
	d->exp_words[n] = '\0';
	d->exp_type = express_type(d->exp_words);
	d->express = true;
	return true;
}

/* "SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans+" */
static bool parse_acs(const char *s, uint16_t *bits)
{
	static const char *const names[] = {
		"SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd",
		"EgressCtrl", "DirectTrans",
	};

	*bits = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, names[i], n) || (s[n] != '+' && s[n] != '-'))
			return false;
		if (s[n] == '+')
			*bits |= (uint16_t)(1u << i);
		s += n + 1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

/*
 * The capability id behind the name lspci printed (ls-caps.c show_caps,
 * ls-ecaps.c show_ext_caps, pciutils 3.9.0); -1 for names not listed.
 * Entries are prefixes of what lspci prints after "[xx] ".
 */
static int cap_id_from_name(const char *s, bool extended)
{
	static const struct { const char *prefix; int id; } std[] = {
		{ "Null", 0x00 }, { "Power Management version", 0x01 }, { "AGP version", 0x02 },
		{ "Vital Product Data", 0x03 }, { "Slot ID:", 0x04 }, { "MSI:", 0x05 },
		{ "CompactPCI hot-swap", 0x06 }, { "PCI-X ", 0x07 }, { "HyperTransport", 0x08 },
		{ "Vendor Specific Information", 0x09 }, { "VirtIO:", 0x09 },
		{ "Debug port:", 0x0a }, { "CompactPCI central resource control", 0x0b },
		{ "Hot-plug capable", 0x0c }, { "Subsystem:", 0x0d }, { "AGP3", 0x0e },
		{ "Secure device", 0x0f }, { "Express ", 0x10 }, { "MSI-X:", 0x11 },
		{ "SATA HBA", 0x12 }, { "PCI Advanced Features", 0x13 },
		{ "Enhanced Allocation (EA)", 0x14 },
	};
	static const struct { const char *prefix; int id; } ext[] = {
		{ "Null", 0x00 }, { "Advanced Error Reporting", 0x01 },
		/* "Virtual Channel" is printed for both 0x02 and 0x09: see below. */
		{ "Device Serial Number", 0x03 }, { "Power Budgeting", 0x04 },
		{ "Root Complex Link", 0x05 }, { "Root Complex Internal Link", 0x06 },
		{ "Root Complex Event Collector Endpoint Association", 0x07 },
		{ "Multi-Function Virtual Channel", 0x08 }, { "Root Complex Register Block", 0x0a },
		{ "Vendor Specific Information", 0x0b }, { "Access Control Services", 0x0d },
		{ "Alternative Routing-ID Interpretation (ARI)", 0x0e },
		{ "Address Translation Service (ATS)", 0x0f },
		{ "Single Root I/O Virtualization (SR-IOV)", 0x10 },
		{ "Multi-Root I/O Virtualization", 0x11 }, { "Multicast", 0x12 },
		{ "Page Request Interface (PRI)", 0x13 }, { "Physical Resizable BAR", 0x15 },
		{ "Dynamic Power Allocation", 0x16 }, { "Transaction Processing Hints", 0x17 },
		{ "Latency Tolerance Reporting", 0x18 }, { "Secondary PCI Express", 0x19 },
		{ "Protocol Multiplexing", 0x1a }, { "Process Address Space ID (PASID)", 0x1b },
		{ "LN Requester", 0x1c }, { "Downstream Port Containment", 0x1d },
		{ "L1 PM Substates", 0x1e }, { "Precision Time Measurement", 0x1f },
		{ "PCI Express over M_PHY", 0x20 }, { "FRS Queueing", 0x21 },
		{ "Readiness Time Reporting", 0x22 }, { "Designated Vendor-Specific", 0x23 },
		{ "Virtual Resizable BAR", 0x24 }, { "Data Link Feature", 0x25 },
		{ "Physical Layer 16.0 GT/s", 0x26 }, { "Lane Margining at the Receiver", 0x27 },
		{ "Hierarchy ID", 0x28 }, { "Native PCIe Enclosure Management", 0x29 },
		{ "Data Object Exchange", 0x2e },
	};
	unsigned id;

	if (!extended) {
		for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
			if (!strncmp(s, std[i].prefix, strlen(std[i].prefix)))
				return std[i].id;
		if (sscanf(s, "Capability ID %x", &id) == 1)
			return (int)id;
		return -1;
	}
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (!strncmp(s, ext[i].prefix, strlen(ext[i].prefix)))
			return ext[i].id;
	if (sscanf(s, "Extended Capability ID %x", &id) == 1)
		return (int)id;
	return -1;
}

/* "[40] Express ...", "[100 v2] Advanced Error Reporting" (after "\tCapabilities: "). */
static bool parse_cap(const char *s, struct lspci_dev *d)
{
	struct lspci_cap *c;
	unsigned off, ver = 0;
	int used = 0;
	const char *rest;

	if (!strncmp(s, "<access denied>", 15)) {
		d->caps_denied = true;
		return true;
	}
	if (d->n_caps == LSPCI_MAX_CAPS) {
		d->caps_overflow = true;
		return true;
	}
	c = &d->caps[d->n_caps];
	memset(c, 0, sizeof(*c));
	if (sscanf(s, "[%x v%u] %n", &off, &ver, &used) == 2 && used) {
		c->extended = true;
	} else if (used = 0, sscanf(s, "[%x] %n", &off, &used) == 1 && used) {
		c->extended = false;
	} else {
		return false;
	}
	rest = s + used;
	c->offset = (uint16_t)off;
	c->version = (uint8_t)ver;
	/*
	 * lspci prints an entry for a looped or broken link too
	 * ("[xx] <chain looped>", "[xx] <chain broken>" for an id of 0xff);
	 * neither is a capability (the kernel stops its walk there).
	 */
	c->bad = rest[0] == '<';
	c->id = c->bad ? -1 : cap_id_from_name(rest, c->extended);
	/* ls-ecaps.c prints "Virtual Channel" for ids 0x02 and 0x09 alike. */
	if (c->extended && !strncmp(rest, "Virtual Channel", 15))
		c->id = -2;
	if (!c->extended && !strncmp(rest, "Express ", 8) && !parse_express(rest, d))
		return false;
	d->n_caps++;
	return true;
}

static void lspci_free(struct lspci *l)
{
	free(l->devs);
	l->devs = NULL;
	l->n = 0;
}

/*
 * Parse @path.  Lines that cannot be read as lspci 3.9 writes them are
 * reported (each is a mismatch, since then nothing is compared for them).
 */
static int lspci_parse(const char *path, const char *capture, struct lspci *l,
		       struct report *r)
{
	char *text = slurp(path, NULL);
	char *save = NULL, *line;
	struct lspci_dev *cur = NULL;
	unsigned lineno = 0;

	memset(l, 0, sizeof(*l));
	if (!text)
		return -errno;
	for (char *s = text; ; s = NULL) {
		line = strtok_r(s, "\n", &save);
		if (!line)
			break;
		lineno++;
		if (line[0] == '\0')
			continue;
		if (line[0] != '\t') {
			struct lspci_dev *v = realloc(l->devs, (l->n + 1) * sizeof(*v));

			assert_non_null(v);
			l->devs = v;
			cur = &l->devs[l->n];
			memset(cur, 0, sizeof(*cur));
			cur->exp_slot = -1;
			cur->exp_type = -1;
			if (!parse_header(line, cur)) {
				report_add(r, capture, NULL, "lspci-vvv.txt",
					   "cannot read device line %u: %.200s", lineno, line);
				cur = NULL;
				continue;
			}
			l->n++;
			continue;
		}
		if (!cur)
			continue;
		if (!strncmp(line, "\tSubsystem: ", 12)) {
			const char *p, *ids = NULL;

			for (p = line; (p = strchr(p, '[')); p++)
				if (is_hex4(p + 1) && p[5] == ':' && is_hex4(p + 6) && p[10] == ']')
					ids = p;
			if (!ids) {
				report_add(r, capture, cur->bdf, "lspci-vvv.txt",
					   "cannot read line %u: %.200s", lineno, line);
				continue;
			}
			cur->has_subsys = true;
			cur->subsys_vendor = (unsigned)strtoul(ids + 1, NULL, 16);
			cur->subsys_device = (unsigned)strtoul(ids + 6, NULL, 16);
		} else if (!strncmp(line, "\tBus: ", 6)) {
			if (sscanf(line, "\tBus: primary=%x, secondary=%x, subordinate=%x",
				   &cur->primary, &cur->secondary, &cur->subordinate) != 3) {
				report_add(r, capture, cur->bdf, "lspci-vvv.txt",
					   "cannot read line %u: %.200s", lineno, line);
				continue;
			}
			cur->has_bus = true;
		} else if (!strncmp(line, "\tCapabilities: ", 15)) {
			if (!parse_cap(line + 15, cur))
				report_add(r, capture, cur->bdf, "lspci-vvv.txt",
					   "cannot read line %u: %.200s", lineno, line);
		} else if (!strncmp(line, "\t\tACSCap:", 9)) {
			if (!parse_acs(line + 9, &cur->acs_cap))
				report_add(r, capture, cur->bdf, "lspci-vvv.txt",
					   "cannot read line %u: %.200s", lineno, line);
			else
				cur->has_acs_cap = true;
		} else if (!strncmp(line, "\t\tACSCtl:", 9)) {
			if (!parse_acs(line + 9, &cur->acs_ctl))
				report_add(r, capture, cur->bdf, "lspci-vvv.txt",
					   "cannot read line %u: %.200s", lineno, line);
			else
				cur->has_acs_ctl = true;
		} else if (!strncmp(line, "\tKernel driver in use: ", 23)) {
			snprintf(cur->driver, sizeof(cur->driver), "%s", line + 23);
			cur->has_driver = true;
		}
	}
	free(text);
	return 0;
}

static struct lspci_dev *lspci_find(struct lspci *l, const char *bdf)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->devs[i].bdf, bdf))
			return &l->devs[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Comparison with lspci                                                */

static void format_our_caps(const struct iommu_pci_dev *d, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_caps && used < len; i++) {
		const struct iommu_pci_cap *c = &d->caps[i];
		int n = c->extended ?
			snprintf(buf + used, len - used, "%s[%03x v%u]#%02x", i ? " " : "",
				 c->offset, c->version, c->id) :
			snprintf(buf + used, len - used, "%s[%02x]#%02x", i ? " " : "",
				 c->offset, c->id);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void format_lspci_caps(const struct lspci_dev *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n_caps && used < len; i++) {
		const struct lspci_cap *c = &l->caps[i];
		int n;

		if (c->bad)
			continue;
		n = c->extended ?
			snprintf(buf + used, len - used, "%s[%03x v%u]#%02x", used ? " " : "",
				 c->offset, c->version, c->id < 0 ? 0xff : c->id) :
			snprintf(buf + used, len - used, "%s[%02x]#%02x", used ? " " : "",
				 c->offset, c->id < 0 ? 0xff : c->id);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void compare_caps(struct report *r, const char *capture,
			 const struct iommu_pci_dev *d, const struct lspci_dev *l)
{
	size_t n_lspci = 0;
	bool same = true;

	if (l->caps_denied || l->caps_overflow) {
		report_add(r, capture, d->name, "capabilities",
			   "lspci could not list them (%s)",
			   l->caps_denied ? "access denied" : "too many");
		return;
	}
	for (size_t i = 0; i < l->n_caps; i++)
		if (!l->caps[i].bad)
			n_lspci++;
	r->comparisons++;
	if (n_lspci != d->n_caps)
		same = false;
	for (size_t i = 0, j = 0; same && i < l->n_caps; i++) {
		const struct lspci_cap *lc = &l->caps[i];
		const struct iommu_pci_cap *oc;

		if (lc->bad)
			continue;
		oc = &d->caps[j++];
		r->comparisons += lc->extended ? 4 : 3;
		if (oc->offset != lc->offset || oc->extended != lc->extended ||
		    (lc->extended && oc->version != lc->version))
			same = false;
		/* The id where lspci's name tells it (-1: name not in our table). */
		else if (lc->id >= 0 && oc->id != lc->id)
			same = false;
		else if (lc->id == -2 && oc->id != 0x02 && oc->id != 0x09)
			same = false;
	}
	if (!same) {
		char ours[1024], theirs[1024];

		format_our_caps(d, ours, sizeof(ours));
		format_lspci_caps(l, theirs, sizeof(theirs));
		report_add(r, capture, d->name, "capabilities", "ours=%s lspci=%s", ours, theirs);
	}
}

static const char *acs_bit_name(int bit)
{
	static const char *const names[] = {
		"SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd",
		"EgressCtrl", "DirectTrans",
	};

	return names[bit];
}

static void compare_acs(struct report *r, const char *capture, const char *bdf,
			const char *what, uint16_t ours, uint16_t theirs)
{
	for (int bit = 0; bit < 7; bit++) {
		char field[64];
		bool o = ours & (1u << bit), t = theirs & (1u << bit);

		snprintf(field, sizeof(field), "%s %s", what, acs_bit_name(bit));
		r->comparisons++;
		if (o != t)
			report_add(r, capture, bdf, field, "ours=%c lspci=%c", o ? '+' : '-', t ? '+' : '-');
	}
}

static void compare_device(struct report *r, const char *capture,
			   const struct iommu_pci_dev *d, const struct lspci_dev *l)
{
	const char *bdf = d->name;

	cmp_hex(r, capture, bdf, "vendor", d->vendor, l->vendor, 4);
	cmp_hex(r, capture, bdf, "device", d->device, l->device, 4);
	cmp_hex(r, capture, bdf, "class", d->class_code >> 8, l->cls, 4);
	/*
	 * lspci leaves out "(prog-if ..)" when the prog-if is 0 and pci.ids
	 * has no name for it, and "(rev ..)" when the revision is 0
	 * (lspci.c show_terse): absent means 0.
	 */
	cmp_hex(r, capture, bdf, "prog-if", d->class_code & 0xff, l->prog_if, 2);
	cmp_hex(r, capture, bdf, "revision", d->revision, l->rev, 2);
	/*
	 * lspci's "Subsystem:" line comes from sysfs, where the kernel puts the
	 * header's subsystem ids for normal functions and the SSVID
	 * capability's for bridges (pci_setup_device); the library decodes
	 * both.  lspci prints nothing for a subsystem vendor of 0 or 0xffff.
	 */
	{
		bool ours = d->subsystem_vendor && d->subsystem_vendor != 0xffff;

		cmp_bool(r, capture, bdf, "has subsystem", ours, l->has_subsys, "lspci");
		if (ours && l->has_subsys) {
			cmp_hex(r, capture, bdf, "subsystem vendor", d->subsystem_vendor,
				l->subsys_vendor, 4);
			cmp_hex(r, capture, bdf, "subsystem device", d->subsystem_device,
				l->subsys_device, 4);
		}
	}

	/* Bridges: lspci prints "Bus:" for header types 1 and 2. */
	cmp_bool(r, capture, bdf, "is bridge (Bus: line)", d->is_bridge, l->has_bus, "lspci");
	if (d->is_bridge && l->has_bus) {
		cmp_hex(r, capture, bdf, "primary bus", d->primary_bus, l->primary, 2);
		cmp_hex(r, capture, bdf, "secondary bus", d->secondary_bus, l->secondary, 2);
		cmp_hex(r, capture, bdf, "subordinate bus", d->subordinate_bus, l->subordinate, 2);
	}

	cmp_bool(r, capture, bdf, "PCI Express", iommu_pci_is_pcie(d), l->express, "lspci");
	if (iommu_pci_is_pcie(d) && l->express) {
		r->comparisons++;
		if (l->exp_type < 0)
			report_add(r, capture, bdf, "PCIe port type",
				   "ours=%d (%s) lspci=\"%s\" (words not recognised)",
				   d->pcie_type, iommu_pcie_type_name(d->pcie_type), l->exp_words);
		else if (d->pcie_type != l->exp_type)
			report_add(r, capture, bdf, "PCIe port type", "ours=%d (%s) lspci=%d (%s)",
				   d->pcie_type, iommu_pcie_type_name(d->pcie_type),
				   l->exp_type, l->exp_words);
		cmp_hex(r, capture, bdf, "PCIe capability version", d->pcie_version,
			l->exp_version, 1);
		/* lspci prints (Slot+/-) for root ports, downstream ports and PCI-to-PCIe bridges. */
		if (l->exp_slot >= 0)
			cmp_bool(r, capture, bdf, "PCIe slot implemented", d->pcie_flags & 0x0100,
				 l->exp_slot, "lspci");
		cmp_hex(r, capture, bdf, "PCIe interrupt message number",
			(d->pcie_flags >> 9) & 0x1f, l->exp_msi, 2);
	}

	cmp_bool(r, capture, bdf, "ACS capability present", d->acs_pos != 0,
		 l->has_acs_cap && l->has_acs_ctl, "lspci");
	if (d->acs_pos && l->has_acs_cap && l->has_acs_ctl) {
		compare_acs(r, capture, bdf, "ACSCap", d->acs_cap, l->acs_cap);
		compare_acs(r, capture, bdf, "ACSCtl", d->acs_ctrl, l->acs_ctl);
	}

	compare_caps(r, capture, d, l);

	cmp_str(r, capture, bdf, "driver", d->driver, l->has_driver ? l->driver : NULL);
}

/* ------------------------------------------------------------------ */
/* Comparison with summary.txt (annotate.py)                            */

struct summary_dev {
	char bdf[IOMMU_PCI_ADDR_STRLEN];
	bool mf;
	bool has_acs;
	unsigned acs_cap, acs_ctrl;
};

/*
 * Device lines of summary.txt:
 *   "    0000:00:1f.0 [8086:2918] class 060100 NAME (conventional-PCI, hdr-MF-bit; cfg 256B)"
 * The notes are the last parenthesised part (they hold no parentheses
 * themselves, unlike some device names).
 */
static struct summary_dev *summary_parse(const char *path, size_t *n)
{
	char *text = slurp(path, NULL);
	char *save = NULL, *line;
	struct summary_dev *v = NULL;

	*n = 0;
	if (!text)
		return NULL;
	for (char *s = text; (line = strtok_r(s, "\n", &save)); s = NULL) {
		struct iommu_pci_addr addr;
		char bdf[16];
		char *notes, *end, *acs;

		if (strncmp(line, "    ", 4) || line[4] == ' ' ||
		    sscanf(line + 4, "%15s", bdf) != 1 || iommu_pci_addr_parse(bdf, &addr))
			continue;
		notes = strrchr(line, '(');
		end = strrchr(line, ')');
		if (!notes || !end || end < notes)
			continue;
		*end = '\0';
		v = realloc(v, (*n + 1) * sizeof(*v));
		assert_non_null(v);
		memset(&v[*n], 0, sizeof(v[*n]));
		iommu_pci_addr_format(addr, v[*n].bdf);
		v[*n].mf = strstr(notes, "hdr-MF-bit") != NULL;
		acs = strstr(notes, "ACS cap=");
		if (acs && sscanf(acs, "ACS cap=%x ctrl=%x", &v[*n].acs_cap, &v[*n].acs_ctrl) == 2)
			v[*n].has_acs = true;
		(*n)++;
	}
	free(text);
	return v;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */

static struct iommu_platform *load_capture(struct report *r, const char *name, char *dir,
					   size_t dirlen)
{
	struct iommu_platform *p = NULL;
	struct iommu_error err;

	snprintf(dir, dirlen, "%s/%s", captures_dir(), name);
	if (iommu_platform_load_snapshot(dir, &p, &err)) {
		report_add(r, name, NULL, "load", "iommu_platform_load_snapshot failed: %s", err.msg);
		return NULL;
	}
	return p;
}

static char **need_captures(size_t *n)
{
	char **names;

	if (!captures_dir()) {
		print_message("IOMMU_CAPTURES is not set: no captures to compare with\n");
		skip();
	}
	names = list_captures(n);
	if (!*n) {
		print_message("no capture directories (with pci/) under %s\n", captures_dir());
		skip();
	}
	return names;
}

static void finish(struct report *r, const char *what)
{
	print_message("%s: %zu captures, %zu functions, %zu field comparisons, %zu mismatches\n",
		      what, r->captures, r->devices, r->comparisons, r->mismatches);
	if (r->mismatches)
		print_message("mismatches (capture, function, field: ours, theirs):\n%s", r->text);
	free(r->text);
	if (r->mismatches)
		fail_msg("%zu mismatches in %s", r->mismatches, what);
	if (r->captures < MIN_CAPTURES)
		fail_msg("only %zu captures compared under %s; at least %d expected",
			 r->captures, captures_dir(), MIN_CAPTURES);
}

static void test_devices_match_lspci(void **state)
{
	struct report r = { 0 };
	size_t n_caps;
	char **names;

	(void)state;
	names = need_captures(&n_caps);
	for (size_t c = 0; c < n_caps; c++) {
		const char *name = names[c];
		char dir[PATH_MAX], path[PATH_MAX + 32];
		struct iommu_platform *p;
		struct lspci l;
		bool *seen;

		p = load_capture(&r, name, dir, sizeof(dir));
		if (!p)
			continue;
		snprintf(path, sizeof(path), "%s/lspci-vvv.txt", dir);
		if (lspci_parse(path, name, &l, &r)) {
			report_add(&r, name, NULL, "lspci-vvv.txt", "cannot read %s", path);
			iommu_platform_free(p);
			continue;
		}
		seen = calloc(l.n + 1, sizeof(*seen));
		assert_non_null(seen);
		for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
			const struct iommu_pci_dev *d = iommu_platform_device(p, i);
			struct lspci_dev *ld = lspci_find(&l, d->name);

			r.comparisons++;
			if (!ld) {
				report_add(&r, name, d->name, "present", "ours=yes lspci=no");
				continue;
			}
			seen[ld - l.devs] = true;
			compare_device(&r, name, d, ld);
			r.devices++;
		}
		for (size_t i = 0; i < l.n; i++)
			if (!seen[i]) {
				r.comparisons++;
				report_add(&r, name, l.devs[i].bdf, "present", "ours=no lspci=yes");
			}
		/* Real kernels' config spaces should load without a complaint. */
		for (size_t i = 0; i < iommu_platform_num_warnings(p); i++)
			report_add(&r, name, NULL, "load warning", "%s", iommu_platform_warning(p, i));
		free(seen);
		lspci_free(&l);
		iommu_platform_free(p);
		r.captures++;
	}
	free_list(names, n_caps);
	finish(&r, "lspci -vvv");
}

static void test_multifunction_matches_summary(void **state)
{
	struct report r = { 0 };
	size_t n_caps;
	char **names;

	(void)state;
	names = need_captures(&n_caps);
	for (size_t c = 0; c < n_caps; c++) {
		const char *name = names[c];
		char dir[PATH_MAX], path[PATH_MAX + 32];
		struct iommu_platform *p;
		struct summary_dev *s;
		size_t n_s;
		bool *seen;

		p = load_capture(&r, name, dir, sizeof(dir));
		if (!p)
			continue;
		snprintf(path, sizeof(path), "%s/summary.txt", dir);
		s = summary_parse(path, &n_s);
		if (!s) {
			report_add(&r, name, NULL, "summary.txt", "cannot read %s or it lists no function",
				   path);
			iommu_platform_free(p);
			continue;
		}
		seen = calloc(n_s, sizeof(*seen));
		assert_non_null(seen);
		for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
			const struct iommu_pci_dev *d = iommu_platform_device(p, i);
			struct summary_dev *sd = NULL;

			for (size_t j = 0; j < n_s; j++)
				if (!strcmp(s[j].bdf, d->name)) {
					sd = &s[j];
					seen[j] = true;
					break;
				}
			r.comparisons++;
			if (!sd) {
				report_add(&r, name, d->name, "present", "ours=yes summary.txt=no");
				continue;
			}
			/* Header type bit 7 as the config file holds it (annotate.py: cfg[0x0E] & 0x80). */
			cmp_bool(&r, name, d->name, "multifunction (hdr-MF-bit)", d->multifunction, sd->mf,
				 "summary.txt");
			/* All 16 bits of the ACS words (lspci shows bits 0-6 only). */
			cmp_bool(&r, name, d->name, "ACS capability present", d->acs_pos != 0,
				 sd->has_acs, "summary.txt");
			if (d->acs_pos && sd->has_acs) {
				r.comparisons += 2;
				if (d->acs_cap != sd->acs_cap || d->acs_ctrl != sd->acs_ctrl)
					report_add(&r, name, d->name, "ACS words",
						   "ours=cap %04x ctrl %04x summary.txt=cap %04x ctrl %04x",
						   d->acs_cap, d->acs_ctrl, sd->acs_cap, sd->acs_ctrl);
			}
			r.devices++;
		}
		for (size_t j = 0; j < n_s; j++)
			if (!seen[j]) {
				r.comparisons++;
				report_add(&r, name, s[j].bdf, "present", "ours=no summary.txt=yes");
			}
		free(seen);
		free(s);
		iommu_platform_free(p);
		r.captures++;
	}
	free_list(names, n_caps);
	finish(&r, "summary.txt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices_match_lspci),
		cmocka_unit_test(test_multifunction_matches_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
