// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: one function's configuration space.
 *
 * Input: the raw bytes of a config space, as pci/<BDF>/config holds them
 * (any length: the decoder must reject less than 64 and more than 4096
 * bytes with a message, and never read outside what it was given).
 *
 * The input is decoded with iommu_pci_decode_config(), then everything
 * the decoded function offers is read back: the capability lookups, the
 * bounds-checked accessors at offsets in and around the config space,
 * capability names, and iommu_acs_format() into buffers of every small
 * size.  Consistency checks abort (a crash for libFuzzer) when the
 * decoder returns something the API says it never does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/platform.h"

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

struct warn_state {
	const char *name;
	size_t n;
};

static void on_warning(void *ctx, const char *msg)
{
	struct warn_state *w = ctx;

	/* Each warning names the function it is about. */
	CHECK(msg && msg[0]);
	CHECK(!strncmp(msg, w->name, strlen(w->name)));
	w->n++;
	/* 48 standard + 480 extended entries at most, plus a handful more. */
	CHECK(w->n < 64);
}

static void check_read(const struct iommu_pci_dev *dev, size_t off)
{
	uint8_t v8 = iommu_pci_read8(dev, off);
	uint16_t v16 = iommu_pci_read16(dev, off);
	uint32_t v32 = iommu_pci_read32(dev, off);

	if (off < dev->config_size)
		CHECK(v8 == dev->config[off]);
	else
		CHECK(v8 == 0xff);
	if (off <= dev->config_size && dev->config_size - off >= 2)
		CHECK(v16 == (uint16_t)(dev->config[off] | dev->config[off + 1] << 8));
	else
		CHECK(v16 == 0xffff);
	if (off <= dev->config_size && dev->config_size - off >= 4)
		CHECK((v16 == (uint16_t)v32));
	else
		CHECK(v32 == 0xffffffff);
}

static void check_acs_format(uint16_t bits)
{
	char full[128];
	char small[80];

	iommu_acs_format(bits, full, sizeof(full));
	CHECK(strlen(full) < sizeof(full));
	CHECK(!strncmp(full, "SrcValid", 8));
	/* Every shorter buffer holds a NUL-terminated prefix of the full text. */
	for (size_t len = 1; len <= sizeof(small); len++) {
		memset(small, 'X', sizeof(small));
		iommu_acs_format(bits, small, len);
		CHECK(memchr(small, '\0', len) != NULL);
		CHECK(!strncmp(small, full, strlen(small)));
		for (size_t i = len; i < sizeof(small); i++)
			CHECK(small[i] == 'X');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommu_pci_addr addr = {
		.segment = (uint16_t)(size & 0xffff),
		.bus = (uint8_t)(size >> 4),
		.devfn = (uint8_t)size,
	};
	struct iommu_pci_dev dev;
	struct iommu_error err;
	char name[IOMMU_PCI_ADDR_STRLEN];
	struct warn_state w = { .name = iommu_pci_addr_format(addr, name) };
	int ret;

	iommu_error_clear(&err);
	ret = iommu_pci_decode_config(&dev, addr, data, size, on_warning, &w, &err);
	if (ret) {
		CHECK(ret < 0);
		CHECK(err.code == ret);
		CHECK(err.msg[0] != '\0');
		CHECK(strlen(err.msg) < sizeof(err.msg));
		/* The message names the function. */
		CHECK(strstr(err.msg, name) != NULL);
		CHECK(dev.config == NULL && dev.caps == NULL);
		/* Only these inputs may be refused. */
		CHECK(size < 64 || size > 4096 ||
		      (data[0] == 0xff && data[1] == 0xff && data[2] == 0xff && data[3] == 0xff) ||
		      (data[0x0e] & 0x7f) > 2);
		/* A second decode without an error struct or warnings must agree. */
		CHECK(iommu_pci_decode_config(&dev, addr, data, size, NULL, NULL, NULL) == ret);
		return 0;
	}

	CHECK(dev.config_size == size);
	CHECK(dev.config != data && !memcmp(dev.config, data, size));
	CHECK(!strcmp(dev.name, name));
	CHECK(dev.vendor == (uint16_t)(data[0] | data[1] << 8));
	CHECK(dev.header_type <= 2);
	CHECK(dev.is_bridge == (dev.header_type != 0));
	CHECK(dev.n_caps <= 48 + 480);

	for (size_t i = 0; i < dev.n_caps; i++) {
		const struct iommu_pci_cap *c = &dev.caps[i];
		const char *cap_name = iommu_pci_cap_name(c);

		CHECK(cap_name && cap_name[0]);
		if (c->extended) {
			CHECK(c->offset >= 0x100 && c->offset + 4u <= size);
			CHECK(iommu_pci_find_ext_cap(&dev, c->id) != 0);
		} else {
			CHECK(c->offset >= 0x40 && c->offset + 2u <= size && c->offset < 0x100);
			CHECK(iommu_pci_find_cap(&dev, c->id) != 0);
		}
		check_read(&dev, c->offset);
	}
	if (dev.pcie_pos) {
		CHECK(dev.pcie_pos + 0x14u <= size);
		CHECK(iommu_pci_find_cap(&dev, 0x10) == dev.pcie_pos);
		CHECK(iommu_pcie_type_name(dev.pcie_type) != NULL);
		(void)iommu_pcie_type_id(dev.pcie_type);
	} else {
		CHECK(dev.pcie_type == IOMMU_PCIE_NONE);
	}
	if (dev.acs_pos)
		CHECK(dev.acs_pos + 8u <= size);
	if (dev.ari_pos)
		CHECK(dev.ari_pos + 8u <= size);
	if (dev.sriov.offset)
		CHECK(dev.sriov.offset + 0x40u <= size);

	/* All ids, found or not. */
	for (uint16_t id = 0; id < 0x30; id++) {
		uint16_t pos = iommu_pci_find_cap(&dev, id);

		CHECK(pos == 0 || (pos >= 0x40 && pos < size));
		pos = iommu_pci_find_ext_cap(&dev, id);
		CHECK(pos == 0 || (pos >= 0x100 && pos < size));
	}
	(void)iommu_pci_find_cap(&dev, 0xffff);
	(void)iommu_pci_find_ext_cap(&dev, 0xffff);

	/* Reads in, at, and past the end of config space. */
	static const size_t edges[] = { 0, 1, 2, 3, 4, 0x3c, 0x3f, 0x40, 0xfe, 0xff,
					0x100, 0xffd, 0xffe, 0xfff, 0x1000, 0x1001,
					SIZE_MAX - 3, SIZE_MAX - 1, SIZE_MAX };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_read(&dev, edges[i]);
	for (size_t d = 0; d < 6; d++) {
		check_read(&dev, size + d);
		if (size >= d)
			check_read(&dev, size - d);
	}

	check_acs_format(dev.acs_cap);
	check_acs_format(dev.acs_ctrl);

	iommu_pci_dev_release(&dev);
	CHECK(dev.config == NULL && dev.caps == NULL && dev.n_caps == 0);
	/* Releasing twice is harmless. */
	iommu_pci_dev_release(&dev);
	return 0;
}
