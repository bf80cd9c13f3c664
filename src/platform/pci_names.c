// SPDX-License-Identifier: MIT
/*
 * Vendor, device and class names from pci.ids, through libpci, so that
 * names read exactly as lspci prints them.  udev's hwdb is not asked:
 * pci.ids alone gives the same answer on every machine with the same
 * database.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "iommu/platform.h"

struct iommu_pci_names {
	struct pci_access *pacc;
};

/* libpci's error hook must not return; it is only called when out of memory. */
static void names_error(char *msg, ...) __attribute__((noreturn));

static void names_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	fputs("libiommu: libpci: ", stderr);
	vfprintf(stderr, msg, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(70);
}

static void names_warning(char *msg, ...)
{
	(void)msg;      /* a missing pci.ids only means numbers instead of names */
}

struct iommu_pci_names *iommu_pci_names_open(void)
{
	struct iommu_pci_names *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->pacc = pci_alloc();
	if (!n->pacc) {
		free(n);
		return NULL;
	}
	n->pacc->error = names_error;
	n->pacc->warning = names_warning;
	n->pacc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
	return n;
}

void iommu_pci_names_close(struct iommu_pci_names *n)
{
	if (!n)
		return;
	pci_cleanup(n->pacc);
	free(n);
}

/* libpci answers in @buf or in its own storage; always hand back @buf. */
static const char *copy_out(const char *s, char *buf, size_t len)
{
	if (!s)
		snprintf(buf, len, "%s", "");
	else if (s != buf)
		snprintf(buf, len, "%s", s);
	return buf;
}

const char *iommu_pci_vendor_name(struct iommu_pci_names *n, uint16_t vendor,
				  bool with_ids, char *buf, size_t len)
{
	int flags = PCI_LOOKUP_VENDOR | (with_ids ? PCI_LOOKUP_MIXED : 0);

	if (!n) {
		snprintf(buf, len, "Vendor %04x", vendor);
		return buf;
	}
	return copy_out(pci_lookup_name(n->pacc, buf, (int)len, flags, vendor), buf, len);
}

const char *iommu_pci_device_name(struct iommu_pci_names *n, uint16_t vendor,
				  uint16_t device, bool with_ids, char *buf, size_t len)
{
	int flags = PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | (with_ids ? PCI_LOOKUP_MIXED : 0);

	if (!n) {
		if (with_ids)
			snprintf(buf, len, "Device [%04x:%04x]", vendor, device);
		else
			snprintf(buf, len, "Device %04x:%04x", vendor, device);
		return buf;
	}
	return copy_out(pci_lookup_name(n->pacc, buf, (int)len, flags, vendor, device), buf, len);
}

const char *iommu_pci_device_only_name(struct iommu_pci_names *n, uint16_t vendor,
				       uint16_t device, char *buf, size_t len)
{
	if (!n) {
		snprintf(buf, len, "Device %04x", device);
		return buf;
	}
	return copy_out(pci_lookup_name(n->pacc, buf, (int)len, PCI_LOOKUP_DEVICE, vendor, device),
			buf, len);
}

const char *iommu_pci_class_name(struct iommu_pci_names *n, uint16_t cls,
				 bool with_ids, char *buf, size_t len)
{
	int flags = PCI_LOOKUP_CLASS | (with_ids ? PCI_LOOKUP_MIXED : 0);

	if (!n) {
		snprintf(buf, len, "Class %04x", cls);
		return buf;
	}
	return copy_out(pci_lookup_name(n->pacc, buf, (int)len, flags, cls), buf, len);
}

const char *iommu_pci_subsystem_name(struct iommu_pci_names *n, uint16_t vendor,
				     uint16_t device, uint16_t sub_vendor,
				     uint16_t sub_device, bool with_ids, char *buf, size_t len)
{
	int flags = PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE |
		    (with_ids ? PCI_LOOKUP_MIXED : 0);

	if (!n) {
		snprintf(buf, len, "Device [%04x:%04x]", sub_vendor, sub_device);
		return buf;
	}
	return copy_out(pci_lookup_name(n->pacc, buf, (int)len, flags, vendor, device,
					sub_vendor, sub_device), buf, len);
}

const char *iommu_pci_progif_name(struct iommu_pci_names *n, uint16_t cls, uint8_t prog_if,
				  char *buf, size_t len)
{
	const char *s;

	if (!n)
		return NULL;
	s = pci_lookup_name(n->pacc, buf, (int)len, PCI_LOOKUP_PROGIF | PCI_LOOKUP_NO_NUMBERS,
			    cls, prog_if);
	return s ? copy_out(s, buf, len) : NULL;
}
