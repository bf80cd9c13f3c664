/* SPDX-License-Identifier: MIT */
/* Firmware layer internals shared by the DMAR and IVRS decoders. */
#ifndef IOMMU_FW_INTERNAL_H
#define IOMMU_FW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/firmware.h"

/* Standard ACPI header (ACPI specification, "System Description Table Header"). */
#define ACPI_HDR_SIGNATURE      0
#define ACPI_HDR_LENGTH         4
#define ACPI_HDR_REVISION       8
#define ACPI_HDR_CHECKSUM       9
#define ACPI_HDR_OEM_ID         10
#define ACPI_HDR_OEM_TABLE_ID   16
#define ACPI_HDR_OEM_REVISION   24
#define ACPI_HDR_CREATOR_ID     28
#define ACPI_HDR_CREATOR_REV    32

/*
 * A growing list of diagnostics.  An allocation failure is remembered
 * (oom) and reported by the parser at the end as -ENOMEM.
 */
struct fw_diags {
	struct iommu_diag *v;
	size_t n, cap;
	bool oom;
};

void fw_diag(struct fw_diags *d, enum iommu_diag_severity sev, size_t offset, int structure,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Grow *v (of element size @size) to hold at least @need; false when out of memory. */
bool fw_grow(void **v, size_t *cap, size_t need, size_t size);

/* Header checks common to DMAR and IVRS: fills @h, reports truncation,
 * trailing bytes and (as @checksum_sev) a wrong checksum.  Returns the
 * number of bytes that belong to the table (min of @len and its length). */
size_t fw_check_header(const uint8_t *data, size_t len, struct iommu_acpi_header *h,
		       struct fw_diags *d, enum iommu_diag_severity checksum_sev,
		       const char *checksum_consequence, bool *refused);

#endif
