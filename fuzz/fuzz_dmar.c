// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a DMAR table, decoded, checked and matched.
 *
 * Input: one control byte, then the table's bytes.
 *   control bit 0: write "DMAR" over the signature (so that mutations are
 *                  not spent on it)
 *   control bit 1: set the length field to the size of the input
 *   control bit 2: fix the checksum
 * Seeds: the real tables of ../shared/corpus/acpi/DMAR, each with control
 * byte 0x07 (doc/acpi.md says how to make them).
 *
 * The table goes to iommu_dmar_parse(); what comes back is checked against
 * the promises of include/iommu/firmware.h (offsets inside the table,
 * diagnostics with messages naming real structures, ...), and then matched
 * to a small platform (host bridge, display, USB, a root port with a
 * multifunction endpoint behind it, an ISA bridge) through every matching
 * function, with the scopes resolved and the kernel's matching diagnostics.
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

		CHECK(iommu_diag_severity_name(v[i].severity)[0]);
	}
}

static void check_and_match(const struct iommu_dmar *d, size_t len)
{
	const struct iommu_dmar_struct *order[512];
	size_t n_order, fatal = 0;
	struct iommu_diag *dg;
	size_t ndg;

	CHECK(d->len == len);
	CHECK(d->data && !memcmp(d->header.signature, "DMAR", 4));
	check_diags(d->diags, d->n_diags, len, d->n_structs);
	for (size_t i = 0; i < d->n_diags; i++)
		fatal += d->diags[i].severity == IOMMU_DIAG_FATAL;
	/* something made the table unusable: a fatal diagnostic says what */
	if (d->refused)
		CHECK(fatal > 0);
	for (size_t i = 0; i < d->n_structs; i++) {
		const struct iommu_dmar_struct *s = &d->structs[i];

		CHECK(s->offset >= IOMMU_DMAR_HEADER_LEN && s->offset + 4 <= len);
		CHECK(i == 0 || s->offset > d->structs[i - 1].offset);
		CHECK(s->length > 0);
		CHECK(s->raw == d->data + s->offset);
		CHECK(iommu_dmar_type_name(s->type) != NULL);
		if (s->type == IOMMU_DMAR_ANDD)
			CHECK(s->object_name != NULL);
		for (size_t k = 0; k < s->n_scopes; k++) {
			const struct iommu_dmar_scope *sc = &s->scopes[k];

			CHECK(sc->offset >= s->offset && sc->offset + 2 <= len);
			CHECK(sc->n_path == 0 || sc->offset + 6 + 2 * sc->n_path <= len);
			CHECK(sc->length >= 6 || sc->n_path == 0);
			CHECK(iommu_dmar_scope_type_name(sc->type) != NULL);
			(void)iommu_dmar_scope_device(sc, s->segment, platform);
			for (size_t j = 0; j < iommu_platform_num_devices(platform); j++) {
				int m = iommu_dmar_scope_match(sc, s->segment, iommu_platform_device(platform, j));

				CHECK(m >= 0 && m <= 2);
			}
		}
	}
	n_order = iommu_dmar_drhd_order(d, order, 512);
	CHECK(n_order == iommu_dmar_drhd_order(d, NULL, 0));
	for (size_t u = 0; u < n_order && u < 512; u++) {
		CHECK(order[u]->type == IOMMU_DMAR_DRHD && !order[u]->duplicate && !order[u]->truncated);
		CHECK(iommu_dmar_drhd_seq_id(d, order[u]) >= 0);
		/* explicit units first, INCLUDE_ALL last */
		if (u && !(order[u]->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL))
			CHECK(!(order[u - 1]->flags & IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL));
		if (iommu_dmar_drhd_gfx_only(d, order[u], platform))
			CHECK(!iommu_dmar_drhd_empty(d, order[u], platform));
	}
	for (size_t j = 0; j < iommu_platform_num_devices(platform); j++) {
		const struct iommu_pci_dev *dev = iommu_platform_device(platform, j);
		const struct iommu_dmar_struct *u = iommu_dmar_device_drhd(d, platform, dev);
		const struct iommu_dmar_struct *rm[64];
		size_t nr;

		if (u) {
			bool listed = false;

			CHECK(!d->refused);
			for (size_t k = 0; k < n_order && k < 512; k++)
				listed |= order[k] == u;
			CHECK(listed);
			CHECK(u->segment == dev->addr.segment);
		}
		nr = iommu_dmar_device_rmrrs(d, platform, dev, rm, 64);
		for (size_t k = 0; k < nr && k < 64; k++) {
			CHECK(rm[k]->type == IOMMU_DMAR_RMRR);
			CHECK(k == 0 || rm[k]->offset > rm[k - 1]->offset);
		}
	}
	CHECK(iommu_dmar_check_platform(d, platform, &dg, &ndg) == 0);
	check_diags(dg, ndg, len, d->n_structs);
	free(dg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommu_dmar *d = NULL;
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
		memcpy(t, "DMAR", 4);
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
	ret = iommu_dmar_parse(t, len, &d, &err);
	if (ret) {
		CHECK(ret == -EINVAL);
		CHECK(d == NULL);
		CHECK(err.code == ret && err.msg[0]);
		CHECK(len < IOMMU_ACPI_HEADER_LEN || memcmp(t, "DMAR", 4));
	} else {
		CHECK(d != NULL);
		CHECK(len >= IOMMU_ACPI_HEADER_LEN);
		/* the parser works on its own copy */
		CHECK(d->data != t && !memcmp(d->data, t, len));
		check_and_match(d, len);
		iommu_dmar_free(d);
	}
	free(t);
	return 0;
}
