// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the text acpidump prints, as people paste it.
 *
 * Input: the text, as is.  Seeds: acpidump-format dumps of the real
 * tables of ../shared/corpus/acpi (doc/acpi.md says how to make them).
 *
 * iommu_acpi_parse_acpidump() must either refuse the text with a message
 * naming "acpidump" (and a line for what it found wrong in a line), or
 * give tables whose bytes agree with their headers; every DMAR and IVRS
 * table it gives is then decoded too.  A broken promise aborts (a crash,
 * for libFuzzer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommu_acpi_tables *t = (void *)1;
	struct iommu_error err;
	int ret;

	iommu_error_clear(&err);
	ret = iommu_acpi_parse_acpidump((const char *)data, size, &t, &err);
	if (ret) {
		CHECK(ret == -EINVAL || ret == -EFBIG);
		CHECK(t == NULL);
		CHECK(err.code == ret);
		CHECK(strstr(err.msg, "acpidump") != NULL);
		return 0;
	}
	CHECK(t != NULL && t->n > 0);
	for (size_t i = 0; i < t->n; i++) {
		const struct iommu_acpi_table *x = &t->tables[i];
		struct iommu_dmar *d;
		struct iommu_ivrs *r;

		CHECK(x->name && x->name[0]);
		CHECK(x->data != NULL);
		CHECK(x->len >= 20);
		CHECK(strlen(x->signature) <= 4);
		CHECK(!memcmp(x->signature, x->data, strlen(x->signature)));
		CHECK(iommu_acpi_tables_find(t, x->signature, 0) != NULL);
		if (x->len >= IOMMU_ACPI_HEADER_LEN && strncmp(x->name, "RSDP", 4)) {
			struct iommu_acpi_header h;

			CHECK(iommu_acpi_header_parse(x->data, x->len, &h) == 0);
			CHECK(h.length == x->len);
		}
		if (!strcmp(x->signature, "DMAR") && iommu_dmar_parse(x->data, x->len, &d, NULL) == 0)
			iommu_dmar_free(d);
		if (!strcmp(x->signature, "IVRS") && iommu_ivrs_parse(x->data, x->len, &r, NULL) == 0)
			iommu_ivrs_free(r);
	}
	iommu_acpi_tables_free(t);
	return 0;
}
