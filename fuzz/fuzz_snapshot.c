// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a whole platform from in-memory snapshot files.
 *
 * The input is a sequence of records, each naming one snapshot file and
 * giving its contents; the files go to iommu_platform_load_files() and,
 * when that succeeds, the platform is walked through its whole API.
 *
 * Record format (all records back to back; a trailing partial header is
 * ignored; at most MAX_RECORDS records are read):
 *
 *   offset size  field
 *   0      1     kind  bits 0-3: which file (table below)
 *                      bit 4:    PCI segment 0001 instead of 0000
 *                      bit 5:    spell the PCI address with upper-case hex
 *                      bits 6-7: ignored
 *   1      1     a     PCI bus number; ACPI table / IOMMU unit selector
 *   2      1     b     PCI devfn (slot << 3 | function); attribute selector
 *   3      2     len   content length, little endian, clipped to what is left
 *   5      len   content
 *
 *   kind & 15  file
 *   0..9       pci/SSSS:BB:DD.F/<attr>, attr = config, driver, vendor, device,
 *              class, revision, subsystem_vendor, subsystem_device,
 *              resource, irq (in that order)
 *   10         acpi/<sig>, sig = acpi_names[a % N] (DMAR, IVRS, ...)
 *   11         cmdline
 *   12         kernel-release
 *   13         iommu_class/dmar<a % 8>/intel-iommu/<intel_attrs[b % N]>
 *   14         iommu_class/ivhd<a % 8>/amd-iommu/<amd_attrs[b % N]>
 *   15         a raw path: content is "<path>\0<data>" (the path is the bytes
 *              before the first NUL, at most 255 of them; no NUL: the path
 *              is the whole content and the data is empty)
 *
 * Repeated and invalid paths are handed over as they come: refusing them
 * with a message is part of what is tested.  Checks abort (a crash for
 * libFuzzer) when the loaded platform breaks a promise of the API, such as
 * a bus tree that does not hold every device exactly once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/platform.h"
#include "platform/fileset.h"

#define MAX_RECORDS 512
#define MAX_DEPTH 300

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

static const char *const pci_attrs[] = {
	"config", "driver", "vendor", "device", "class", "revision",
	"subsystem_vendor", "subsystem_device", "resource", "irq",
};
static const char *const acpi_names[] = {
	"DMAR", "IVRS", "APIC", "MCFG", "SSDT1", "DSDT", "FACP", "HPET",
};
static const char *const intel_attrs[] = { "cap", "ecap", "version", "address" };
static const char *const amd_attrs[] = { "cap", "features" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct records {
	size_t n;
	char *paths[MAX_RECORDS];
	const uint8_t *data[MAX_RECORDS];
	size_t lens[MAX_RECORDS];
};

static char *path_of(uint8_t kind, uint8_t a, uint8_t b, const uint8_t **content,
		     size_t *len)
{
	char buf[320];
	unsigned what = kind & 15;

	if (what <= 9) {
		snprintf(buf, sizeof(buf), (kind & 0x20) ? "pci/%04X:%02X:%02X.%u/%s"
							 : "pci/%04x:%02x:%02x.%u/%s",
			 (kind & 0x10) ? 1u : 0u, a, IOMMU_PCI_SLOT(b), IOMMU_PCI_FUNC(b),
			 pci_attrs[what]);
	} else if (what == 10) {
		snprintf(buf, sizeof(buf), "acpi/%s", acpi_names[a % N(acpi_names)]);
	} else if (what == 11) {
		snprintf(buf, sizeof(buf), "cmdline");
	} else if (what == 12) {
		snprintf(buf, sizeof(buf), "kernel-release");
	} else if (what == 13) {
		snprintf(buf, sizeof(buf), "iommu_class/dmar%u/intel-iommu/%s", a % 8u,
			 intel_attrs[b % N(intel_attrs)]);
	} else if (what == 14) {
		snprintf(buf, sizeof(buf), "iommu_class/ivhd%u/amd-iommu/%s", a % 8u,
			 amd_attrs[b % N(amd_attrs)]);
	} else {
		const uint8_t *nul = memchr(*content, '\0', *len);
		size_t plen = nul ? (size_t)(nul - *content) : *len;

		if (plen > 255)
			plen = 255;
		memcpy(buf, *content, plen);
		buf[plen] = '\0';
		if (nul && (size_t)(nul - *content) == plen) {
			*len -= plen + 1;
			*content += plen + 1;
		} else {
			*content += *len;
			*len = 0;
		}
	}
	return strdup(buf);
}

static void parse(const uint8_t *data, size_t size, struct records *r)
{
	size_t pos = 0;

	r->n = 0;
	while (r->n < MAX_RECORDS && size - pos >= 5) {
		uint8_t kind = data[pos], a = data[pos + 1], b = data[pos + 2];
		size_t len = (size_t)data[pos + 3] | (size_t)data[pos + 4] << 8;
		const uint8_t *content;

		pos += 5;
		if (len > size - pos)
			len = size - pos;
		content = data + pos;
		pos += len;
		r->paths[r->n] = path_of(kind, a, b, &content, &len);
		CHECK(r->paths[r->n]);
		r->data[r->n] = content;
		r->lens[r->n] = len;
		r->n++;
	}
}

struct walk {
	const struct iommu_platform *p;
	size_t buses;
	size_t devices;
};

static void walk_bus(struct walk *w, const struct iommu_pci_bus *bus,
		     const struct iommu_pci_bus *parent, unsigned depth)
{
	CHECK(depth < MAX_DEPTH);
	CHECK(bus->parent == parent);
	CHECK(iommu_platform_find_bus(w->p, bus->segment, bus->number) == bus);
	CHECK(bus->busn_end >= bus->number);
	if (parent && bus->self) {
		CHECK(bus->self->bus == parent);
		CHECK(bus->self->subordinate == bus);
		CHECK(bus->self->secondary_bus == bus->number);
		CHECK(bus->busn_end == bus->self->subordinate_bus);
		CHECK(bus->segment == parent->segment);
		CHECK(bus->number > parent->number);
		CHECK(bus->busn_end <= parent->busn_end);
	} else if (parent) {
		/* The virtual bus of SR-IOV VFs whose PF sits on the parent bus. */
		CHECK(bus->n_devices > 0);
		for (size_t i = 0; i < bus->n_devices; i++) {
			const struct iommu_pci_dev *d = bus->devices[i];

			CHECK(d->is_virtfn && d->physfn && d->physfn->bus == parent);
		}
		CHECK(bus->segment == parent->segment);
		CHECK(bus->number > parent->number);
	} else {
		CHECK(bus->self == NULL);
	}
	w->buses++;

	for (size_t i = 0; i < bus->n_devices; i++) {
		const struct iommu_pci_dev *d = bus->devices[i];

		CHECK(d && d->bus == bus);
		CHECK(d->addr.segment == bus->segment && d->addr.bus == bus->number);
		if (i)
			CHECK(bus->devices[i - 1]->addr.devfn < d->addr.devfn);
		CHECK(iommu_platform_find_device(w->p, d->addr) == d);
		w->devices++;
	}
	for (size_t i = 0; i < bus->n_children; i++) {
		const struct iommu_pci_bus *c = bus->children[i];

		CHECK(c);
		if (i) {
			/*
			 * Siblings: behind bridges in bridge order with disjoint
			 * ranges, then the virtual buses of VFs by number.
			 */
			const struct iommu_pci_bus *prev = bus->children[i - 1];

			if (prev->self && c->self) {
				CHECK(iommu_pci_addr_cmp(prev->self->addr, c->self->addr) < 0);
				CHECK(prev->busn_end < c->number || c->busn_end < prev->number);
			} else {
				CHECK(!c->self);
				CHECK(prev->self || prev->number < c->number);
			}
		}
		walk_bus(w, c, bus, depth + 1);
	}
}

static void check_device(const struct iommu_platform *p, const struct iommu_pci_dev *d)
{
	char name[IOMMU_PCI_ADDR_STRLEN];
	char acs[128];

	CHECK(!strcmp(d->name, iommu_pci_addr_format(d->addr, name)));
	CHECK(d->config && d->config_size >= 64 && d->config_size <= 4096);
	CHECK(d->bus != NULL);
	if (d->is_bridge) {
		CHECK(d->subordinate && d->subordinate->self == d);
		CHECK(d->secondary_bus > d->addr.bus);
		CHECK(d->subordinate_bus >= d->secondary_bus);
	} else {
		CHECK(d->subordinate == NULL);
	}
	for (size_t i = 0; i < d->n_caps; i++) {
		CHECK(d->caps[i].offset < d->config_size);
		CHECK(iommu_pci_cap_name(&d->caps[i]) != NULL);
	}
	(void)iommu_pci_find_cap(d, 0x10);
	(void)iommu_pci_find_ext_cap(d, 0x0d);
	(void)iommu_pci_read8(d, d->config_size - 1);
	(void)iommu_pci_read16(d, d->config_size - 1);
	(void)iommu_pci_read32(d, d->config_size - 3);
	CHECK(iommu_pci_read32(d, d->config_size) == 0xffffffff);
	iommu_acs_format(d->acs_ctrl, acs, sizeof(acs));
	CHECK(iommu_pcie_type_name(d->pcie_type) != NULL);
	if (d->driver)
		CHECK(d->driver[0] != '\0' && strlen(d->driver) < 65536);
	CHECK(d->irq >= -1);
	(void)p;
}

static void walk_platform(const struct iommu_platform *p)
{
	size_t n = iommu_platform_num_devices(p);
	struct walk w = { .p = p };
	size_t buses_found = 0;

	CHECK(iommu_platform_source(p) == IOMMU_SOURCE_MEMORY);
	CHECK(!strcmp(iommu_platform_label(p), "fuzz"));
	CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct iommu_pci_dev *d = iommu_platform_device(p, i);

		CHECK(d);
		if (i)
			CHECK(iommu_pci_addr_cmp(iommu_platform_device(p, i - 1)->addr, d->addr) < 0);
		check_device(p, d);
	}
	CHECK(iommu_platform_device(p, n) == NULL);

	/* The bus tree holds every bus and every device exactly once. */
	for (size_t i = 0; i < iommu_platform_num_root_buses(p); i++) {
		const struct iommu_pci_bus *r = iommu_platform_root_bus(p, i);

		CHECK(r);
		if (i) {
			const struct iommu_pci_bus *q = iommu_platform_root_bus(p, i - 1);

			CHECK(((uint32_t)q->segment << 8 | q->number) <
			      ((uint32_t)r->segment << 8 | r->number));
		}
		walk_bus(&w, r, NULL, 0);
	}
	CHECK(iommu_platform_root_bus(p, iommu_platform_num_root_buses(p)) == NULL);
	CHECK(w.devices == n);
	for (size_t i = 0; i < n; i++) {
		uint16_t seg = iommu_platform_device(p, i)->addr.segment;

		if (i && iommu_platform_device(p, i - 1)->addr.segment == seg)
			continue;
		for (unsigned b = 0; b < 256; b++)
			if (iommu_platform_find_bus(p, seg, (uint8_t)b))
				buses_found++;
	}
	CHECK(w.buses == buses_found);

	/* Everything else. */
	CHECK(iommu_platform_cmdline(p) != NULL);
	(void)iommu_platform_kernel_release(p);
	for (size_t i = 0; i < iommu_platform_num_acpi_tables(p); i++) {
		const char *sig = iommu_platform_acpi_table_name(p, i);
		const uint8_t *data;
		size_t len;

		CHECK(sig);
		CHECK(iommu_platform_acpi_table(p, sig, &data, &len) == 0);
	}
	CHECK(iommu_platform_acpi_table_name(p, iommu_platform_num_acpi_tables(p)) == NULL);
	for (size_t i = 0; i < iommu_platform_num_files(p); i++) {
		const char *path = iommu_platform_file_path(p, i);
		const uint8_t *data;
		size_t len;

		CHECK(path && iommu_snapshot_input_allowed(path));
		CHECK(iommu_platform_file(p, path, &data, &len) == 0);
		CHECK(len <= iommu_snapshot_max_size(path));
		if (i)
			CHECK(strcmp(iommu_platform_file_path(p, i - 1), path) < 0);
	}
	CHECK(iommu_platform_file_path(p, iommu_platform_num_files(p)) == NULL);
	for (size_t i = 0; i < iommu_platform_num_warnings(p); i++) {
		const char *msg = iommu_platform_warning(p, i);

		CHECK(msg && msg[0]);
	}
	CHECK(iommu_platform_warning(p, iommu_platform_num_warnings(p)) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct records r;
	struct iommu_platform *p = (struct iommu_platform *)&r;  /* must be reset */
	struct iommu_error err;
	int ret;

	parse(data, size, &r);
	ret = iommu_platform_load_files("fuzz", r.n, (const char *const *)r.paths,
					r.data, r.lens, &p, &err);
	if (ret) {
		CHECK(ret < 0);
		CHECK(p == NULL);
		CHECK(err.code == ret);
		CHECK(err.msg[0] != '\0');
#ifdef FUZZ_DEBUG
		fprintf(stderr, "load failed (%d): %s\n", ret, err.msg);
#endif
	} else {
#ifdef FUZZ_DEBUG
		fprintf(stderr, "loaded %zu devices, %zu root buses, %zu warnings\n",
			iommu_platform_num_devices(p), iommu_platform_num_root_buses(p),
			iommu_platform_num_warnings(p));
		for (size_t i = 0; i < iommu_platform_num_warnings(p); i++)
			fprintf(stderr, "  warning: %s\n", iommu_platform_warning(p, i));
		for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
			const struct iommu_pci_dev *d = iommu_platform_device(p, i);

			fprintf(stderr, "  %s hdr %u bridge %d [%02x-%02x] bus %p(%02x) sub %p\n",
				d->name, d->header_type, d->is_bridge, d->secondary_bus,
				d->subordinate_bus, (void *)d->bus, d->bus ? d->bus->number : 0,
				(void *)d->subordinate);
		}
		for (size_t i = 0; i < iommu_platform_num_root_buses(p); i++) {
			const struct iommu_pci_bus *b = iommu_platform_root_bus(p, i);

			fprintf(stderr, "  root %04x:%02x end %02x devs %zu children %zu\n", b->segment,
				b->number, b->busn_end, b->n_devices, b->n_children);
		}
#endif
		CHECK(p != NULL);
		CHECK(err.code == 0);
		walk_platform(p);
		iommu_platform_free(p);
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.paths[i]);
	return 0;
}
