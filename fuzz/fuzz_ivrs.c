// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: an IVRS table, decoded, checked, and turned into the
 * kernel's per-segment tables.
 *
 * Input: one control byte, then the table's bytes.
 *   control bit 0: write "IVRS" over the signature
 *   control bit 1: set the length field to the size of the input
 *   control bit 2: fix the checksum (a wrong one makes the kernel, and so
 *                  the map, refuse the table)
 * Seeds: the real tables of ../shared/corpus/acpi/IVRS, each with control
 * byte 0x07 (doc/acpi.md says how to make them).
 *
 * The table goes to iommu_ivrs_parse(); what comes back is checked against
 * the promises of include/iommu/firmware.h, then iommu_ivrs_build_map()
 * runs and every device id of the segments the table names is looked up
 * (IVHD, alias, DTE, IVMDs), and the map is matched to a small platform.
 * A broken promise aborts (a crash, for libFuzzer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/firmware.h"

#include "fuzz_acpi_common.h"

	}
}

static bool is_ivhd(uint8_t t)
{
	return t == IOMMU_IVHD_10 || t == IOMMU_IVHD_11 || t == IOMMU_IVHD_40;
}

static void check_and_map(const struct iommu_ivrs *r, size_t len)
{
	struct iommu_ivrs_map *m = NULL;
	struct iommu_error err;
	size_t units[64], nu, fatal = 0;
	uint16_t segs[8];
	size_t nseg = 0;
	struct iommu_diag *dg;
	size_t ndg;

	CHECK(r->len == len);
	check_diags(r->diags, r->n_diags, len, r->n_blocks);
	for (size_t i = 0; i < r->n_diags; i++)
		fatal += r->diags[i].severity == IOMMU_DIAG_FATAL;
	if (r->refused)
		CHECK(fatal > 0);
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct iommu_ivrs_block *b = &r->blocks[i];

		CHECK(b->offset >= IOMMU_IVRS_HEADER_LEN && b->offset + 4 <= len);
		CHECK(i == 0 || b->offset > r->blocks[i - 1].offset);
		CHECK(b->length > 0 && b->raw == r->data + b->offset);
		CHECK(iommu_ivrs_block_name(b->type) != NULL);
		CHECK(b->n_entries == 0 || is_ivhd(b->type));
		for (size_t k = 0; k < b->n_entries; k++) {
			const struct iommu_ivhd_entry *e = &b->entries[k];

			CHECK(e->offset >= b->offset && e->offset + e->length <= len);
			CHECK(k == 0 || e->offset == b->entries[k - 1].offset + b->entries[k - 1].length);
			CHECK(e->length >= 4);
			CHECK(iommu_ivhd_entry_name(e->type) != NULL);
			if (e->type == IOMMU_IVHD_DEV_ACPI_HID) {
				CHECK(e->length == 22u + e->uid_length);
				CHECK(strlen(e->hid) <= 8 && strlen(e->cid) <= 8);
				if (e->uid_format == 1 || e->uid_format == 2)
					CHECK(e->uid != NULL);
			}
		}
		if (is_ivhd(b->type) && nseg < 8) {
			bool seen = false;

			for (size_t s = 0; s < nseg; s++)
				seen |= segs[s] == b->pci_segment;
			if (!seen)
				segs[nseg++] = b->pci_segment;
		}
	}
	(void)iommu_ivrs_ivhd_type(r);
	nu = iommu_ivrs_units(r, units, 64);
	for (size_t u = 0; u < nu && u < 64; u++) {
		CHECK(units[u] < r->n_blocks);
		CHECK(r->blocks[units[u]].type == iommu_ivrs_ivhd_type(r));
	}
	CHECK(iommu_ivrs_build_map(r, &m, &err) == 0);
	CHECK(m != NULL);
	for (size_t s = 0; s < nseg; s++) {
		uint16_t last = iommu_ivrs_map_last_bdf(m, segs[s]);

		/* every device id: sampled densely at the low end, sparsely above */
		for (uint32_t devid = 0; devid <= 0xffff; devid += devid < 0x200 ? 1 : 257) {
			int ivhd = iommu_ivrs_map_ivhd(m, segs[s], (uint16_t)devid);
			const struct iommu_ivrs_block *iv[16];
			size_t n;

			if (ivhd >= 0) {
				bool unit = false;

				CHECK(!r->refused);
				CHECK(devid <= last);
				for (size_t u = 0; u < nu && u < 64; u++)
					unit |= units[u] == (size_t)ivhd;
				CHECK(unit);
				CHECK(r->blocks[ivhd].pci_segment == segs[s]);
			}
			if (devid > last)
				CHECK(iommu_ivrs_map_alias(m, segs[s], (uint16_t)devid) == devid);
			(void)iommu_ivrs_map_dte(m, segs[s], (uint16_t)devid);
			n = iommu_ivrs_device_ivmds(r, m, segs[s], (uint16_t)devid, iv, 16);
			for (size_t k = 0; k < n && k < 16; k++) {
				uint64_t a, e;

				CHECK(iv[k]->type >= IOMMU_IVMD_ALL && iv[k]->type <= IOMMU_IVMD_RANGE);
				CHECK(iv[k]->pci_segment == segs[s]);
				iommu_ivrs_ivmd_range(iv[k], &a, &e);
				CHECK((a & 0xfff) == 0);
			}
		}
	}
	CHECK(iommu_ivrs_check_platform(r, m, platform, &dg, &ndg) == 0);
	check_diags(dg, ndg, len, r->n_blocks);
	free(dg);
	iommu_ivrs_map_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommu_ivrs *r = NULL;
	struct iommu_error err;
	uint8_t *t;
	size_t len;
	int ret;

	if (!platform)
		build_platform();
	if (size < 1)
		return 0;
	len = size - 1;
	t = malloc(len ? len : 1);
	if (!t)
		return 0;
	memcpy(t, data + 1, len);
	if ((data[0] & 1) && len >= 4)
		memcpy(t, "IVRS", 4);
	if ((data[0] & 2) && len >= 8) {
		t[4] = (uint8_t)len;
		t[5] = (uint8_t)(len >> 8);
		t[6] = (uint8_t)(len >> 16);
		t[7] = (uint8_t)(len >> 24);
	}
	if ((data[0] & 4) && len >= 10) {
		uint8_t sum = 0;

		t[9] = 0;
		for (size_t i = 0; i < len; i++)
			sum = (uint8_t)(sum + t[i]);
		t[9] = (uint8_t)-sum;
	}
	iommu_error_clear(&err);
	ret = iommu_ivrs_parse(t, len, &r, &err);
	if (ret) {
		CHECK(ret == -EINVAL);
		CHECK(r == NULL);
		CHECK(err.code == ret && err.msg[0]);
		CHECK(len < IOMMU_ACPI_HEADER_LEN || memcmp(t, "IVRS", 4));
	} else {
		CHECK(r != NULL && len >= IOMMU_ACPI_HEADER_LEN);
		CHECK(r->data != t && !memcmp(r->data, t, len));
		check_and_map(r, len);
		iommu_ivrs_free(r);
	}
	free(t);
	return 0;
}
