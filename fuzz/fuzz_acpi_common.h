/* SPDX-License-Identifier: MIT */
/*
 * What the DMAR and IVRS fuzz targets share: the CHECK macro that turns a
 * broken promise into a crash, the small platform tables are matched to,
 * and the checks every diagnostic must pass.
 */
#ifndef IOMMU_FUZZ_ACPI_COMMON_H
#define IOMMU_FUZZ_ACPI_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/firmware.h"

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* ------------------------------------------------------------------ */
/* The platform                                                         */

struct dev_spec {
	const char *path;
	uint16_t vendor, device;
	uint32_t class_code;
	uint8_t header;
	int pcie_type;          /* -1: none */
	uint8_t sec, sub;
};

static const struct dev_spec devs[] = {
	{ "pci/0000:00:00.0/config", 0x8086, 0x29c0, 0x060000, 0x00, -1, 0, 0 },
	{ "pci/0000:00:02.0/config", 0x8086, 0x9a49, 0x030000, 0x00, -1, 0, 0 },
	{ "pci/0000:00:14.0/config", 0x1b36, 0x000d, 0x0c0330, 0x00, 0x9, 0, 0 },
	{ "pci/0000:00:1c.0/config", 0x8086, 0x2940, 0x060400, 0x81, 0x4, 1, 2 },
	{ "pci/0000:00:1c.1/config", 0x8086, 0x2942, 0x060400, 0x01, 0x4, 3, 3 },
	{ "pci/0000:01:00.0/config", 0x1b36, 0x0010, 0x010802, 0x80, 0x0, 0, 0 },
	{ "pci/0000:01:00.1/config", 0x1b36, 0x0010, 0x010802, 0x00, 0x0, 0, 0 },
	{ "pci/0000:03:00.0/config", 0x8086, 0x0e0d, 0x068000, 0x00, 0x0, 0, 0 },
	{ "pci/0000:00:1f.0/config", 0x8086, 0x2918, 0x060100, 0x80, -1, 0, 0 },
};
#define N_DEVS (sizeof(devs) / sizeof(devs[0]))

static struct iommu_platform *platform;

static void build_platform(void)
{
	static uint8_t cfg[N_DEVS][256];
	const char *paths[N_DEVS];
	const uint8_t *data[N_DEVS];
	size_t lens[N_DEVS];
	struct iommu_error err;

	for (size_t i = 0; i < N_DEVS; i++) {
		uint8_t *c = cfg[i];

		memset(c, 0, 256);
		c[0] = (uint8_t)devs[i].vendor;
		c[1] = (uint8_t)(devs[i].vendor >> 8);
		c[2] = (uint8_t)devs[i].device;
		c[3] = (uint8_t)(devs[i].device >> 8);
		c[9] = (uint8_t)devs[i].class_code;
		c[10] = (uint8_t)(devs[i].class_code >> 8);
		c[11] = (uint8_t)(devs[i].class_code >> 16);
		c[0x0e] = devs[i].header;
		if ((devs[i].header & 0x7f) == 1) {
			c[0x19] = devs[i].sec;
			c[0x1a] = devs[i].sub;
		}
		if (devs[i].pcie_type >= 0) {
			c[0x06] = 0x10;
			c[0x34] = 0x40;
			c[0x40] = 0x10;
			c[0x42] = (uint8_t)(2 | devs[i].pcie_type << 4);
		}
		paths[i] = devs[i].path;
		data[i] = c;
		lens[i] = 256;
	}
	if (iommu_platform_load_files("fuzz", N_DEVS, paths, data, lens, &platform, &err)) {
		fprintf(stderr, "cannot build the platform: %s\n", err.msg);
		abort();
	}
}

/* ------------------------------------------------------------------ */

static void check_diags(const struct iommu_diag *v, size_t n, size_t len, size_t n_units)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(v[i].severity <= IOMMU_DIAG_FATAL);
		CHECK(v[i].offset <= len);
		CHECK(v[i].structure >= -1 && v[i].structure < (int)n_units);
		CHECK(v[i].msg[0] != '\0');
		CHECK(memchr(v[i].msg, '\0', sizeof(v[i].msg)) != NULL);

#endif /* IOMMU_FUZZ_ACPI_COMMON_H */
