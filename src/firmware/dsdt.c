// SPDX-License-Identifier: MIT
/*
 * PCI host bridges in ACPI namespace order, from the DSDT's AML.
 *
 * The kernel adds PCI root buses as the ACPI namespace walk meets PNP0A03 /
 * PNP0A08 devices (drivers/acpi/pci_root.c acpi_pci_root_add), so the
 * order of host bridges in the DSDT is the order their buses are
 * enumerated in, and so the order their devices are probed and numbered.
 *
 * This is not an AML interpreter: it walks DeviceOp objects (ACPI 6.x
 * 20.2.5.2: ExtOpPrefix 0x5B, 0x82, PkgLength, NameString, TermList) and
 * reads the constant values of Name(_HID), Name(_CID), Name(_BBN) and
 * Name(_SEG) declared directly in each device; a device without _BBN has
 * base bus 0 (ACPI 6.5.5).  A bus number a method computes is reported as
 * unknown.  Bounds are checked on every byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iommu/firmware.h"

#define AML_START       36      /* after the ACPI table header */
#define EXT_OP          0x5b
#define DEVICE_OP       0x82
#define NAME_OP         0x08
#define METHOD_OP       0x14
#define ZERO_OP         0x00
#define ONE_OP          0x01
#define BYTE_PREFIX     0x0a
#define WORD_PREFIX     0x0b
#define DWORD_PREFIX    0x0c
#define STRING_PREFIX   0x0d
#define QWORD_PREFIX    0x0e
#define ONES_OP         0xff
#define DUAL_NAME       0x2e
#define MULTI_NAME      0x2f

/* EISA ids as AML stores them (EISAID("PNP0A03") and "PNP0A08"). */
#define EISA_PNP0A03    0x030ad041u
#define EISA_PNP0A08    0x080ad041u

/* PkgLength (ACPI 20.2.4): returns the package's end offset, 0 when malformed. */
static size_t pkg_end(const uint8_t *t, size_t len, size_t pos)
{
	uint8_t lead;
	unsigned extra;
	size_t value;

	if (pos >= len)
		return 0;
	lead = t[pos];
	extra = lead >> 6;
	if (pos + 1 + extra > len)
		return 0;
	if (!extra) {
		value = lead & 0x3f;
	} else {
		value = lead & 0x0f;
		for (unsigned i = 0; i < extra; i++)
			value |= (size_t)t[pos + 1 + i] << (4 + 8 * i);
	}
	if (value == 0 || pos + value > len)
		return 0;
	return pos + value;
}

/* Skip a NameString; the last segment goes to @seg (may be NULL). 0 when malformed. */
static size_t name_string(const uint8_t *t, size_t end, size_t pos, char seg[5])
{
	unsigned count = 1;

	while (pos < end && (t[pos] == '\\' || t[pos] == '^'))
		pos++;
	if (pos >= end)
		return 0;
	if (t[pos] == 0x00) {
		if (seg)
			seg[0] = '\0';
		return pos + 1;
	}
	if (t[pos] == DUAL_NAME) {
		count = 2;
		pos++;
	} else if (t[pos] == MULTI_NAME) {
		if (pos + 1 >= end)
			return 0;
		count = t[pos + 1];
		pos += 2;
	}
	if (count == 0 || pos + 4 * (size_t)count > end)
		return 0;
	if (seg) {
		memcpy(seg, t + pos + 4 * (size_t)(count - 1), 4);
		seg[4] = '\0';
	}
	return pos + 4 * (size_t)count;
}

/* A constant integer at @pos; false when it is not one. */
static bool integer(const uint8_t *t, size_t end, size_t pos, uint64_t *v)
{
	unsigned n;

	if (pos >= end)
		return false;
	switch (t[pos]) {
	case ZERO_OP: *v = 0; return true;
	case ONE_OP: *v = 1; return true;
	case ONES_OP: *v = UINT64_MAX; return true;
	case BYTE_PREFIX: n = 1; break;
	case WORD_PREFIX: n = 2; break;
	case DWORD_PREFIX: n = 4; break;
	case QWORD_PREFIX: n = 8; break;
	default: return false;
	}
	if (pos + 1 + n > end)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)t[pos + 1 + i] << (8 * i);
	return true;
}

static bool is_host_bridge_id(const uint8_t *t, size_t end, size_t pos)
{
	uint64_t v;

	if (pos < end && t[pos] == STRING_PREFIX)
		return pos + 9 <= end && (!memcmp(t + pos + 1, "PNP0A03", 8) ||
					  !memcmp(t + pos + 1, "PNP0A08", 8));
	if (integer(t, end, pos, &v))
		return v == EISA_PNP0A03 || v == EISA_PNP0A08;
	return false;
}

struct walk {
	struct iommu_acpi_host_bridge *out;
	size_t max, n;
};

static void scan(const uint8_t *t, size_t start, size_t end, struct walk *w, int depth);

/* One Device: its own Name()s, then the devices nested in it. */
static void device(const uint8_t *t, size_t body, size_t end, const char *name,
		   struct walk *w, int depth)
{
	bool host = false, have_bus = true;   /* no _BBN means bus 0 (ACPI 6.5.5) */
	uint64_t bus = 0, seg = 0;

	for (size_t pos = body; pos + 5 <= end; pos++) {
		if (t[pos] == METHOD_OP) {
			/* Method (_BBN): the bus number is computed, not known here */
			size_t e = pkg_end(t, end, pos + 1);
			size_t nm = e ? pos + 2 + (t[pos + 1] >> 6) : 0;

			if (e && nm + 4 <= e && !memcmp(t + nm, "_BBN", 4))
				have_bus = false;
			continue;
		}
		if (t[pos] == EXT_OP && t[pos + 1] == DEVICE_OP) {
			size_t e = pkg_end(t, end, pos + 2);

			if (e > pos)
				pos = e - 1;    /* a nested device's names are its own */
			continue;
		}
		if (t[pos] != NAME_OP)
			continue;
		if (!memcmp(t + pos + 1, "_HID", 4) || !memcmp(t + pos + 1, "_CID", 4))
			host |= is_host_bridge_id(t, end, pos + 5);
		else if (!memcmp(t + pos + 1, "_BBN", 4))
			have_bus = integer(t, end, pos + 5, &bus);

		else if (!memcmp(t + pos + 1, "_SEG", 4))
			integer(t, end, pos + 5, &seg);
	}
	if (host) {
		if (w->n < w->max) {
			struct iommu_acpi_host_bridge *h = &w->out[w->n];

			memcpy(h->name, name, 5);
			h->segment = (uint16_t)seg;
			h->bus = (uint8_t)bus;
			h->bus_known = have_bus && bus <= 0xff;
		}
		w->n++;
	}
	scan(t, body, end, w, depth + 1);
}

static void scan(const uint8_t *t, size_t start, size_t end, struct walk *w, int depth)
{
	if (depth > 16)
		return;
	for (size_t pos = start; pos + 2 < end; pos++) {
		size_t e, body;
		char name[5];

		if (t[pos] != EXT_OP || t[pos + 1] != DEVICE_OP)
			continue;
		e = pkg_end(t, end, pos + 2);
		if (!e)
			continue;
		/* the PkgLength bytes, then the name */
		body = name_string(t, e, pos + 3 + (t[pos + 2] >> 6), name);
		if (!body)
			continue;
		device(t, body, e, name, w, depth);
		pos = e - 1;
	}
}

size_t iommu_acpi_host_bridges(const uint8_t *table, size_t len,
			       struct iommu_acpi_host_bridge *out, size_t max)
{
	struct walk w = { .out = out, .max = max };

	if (!table || len <= AML_START)
		return 0;
	scan(table, AML_START, len, &w, 0);
	return w.n;
}
