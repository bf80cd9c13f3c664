/* SPDX-License-Identifier: MIT */
/*
 * A platform's input files, held in memory under their snapshot-relative
 * paths.  Every source (snapshot directory, live host, built-in data)
 * gathers its files into a fileset; one parser turns a fileset into a
 * platform, and the snapshot writer writes a fileset back out.
 */
#ifndef IOMMU_PLATFORM_FILESET_H
#define IOMMU_PLATFORM_FILESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/base.h"

/* Bounds on what a source may hand over. */
#define IOMMU_SNAPSHOT_MAX_FILE     (16u << 20)  /* an ACPI table, say */
#define IOMMU_SNAPSHOT_MAX_ATTR     (64u << 10)  /* a small sysfs attribute */
#define IOMMU_SNAPSHOT_MAX_CONFIG   4096u
#define IOMMU_SNAPSHOT_MAX_FILES    (1u << 18)

struct iommu_file {
	char *path;
	uint8_t *data;
	size_t len;
};

struct iommu_fileset {
	struct iommu_file *files;
	size_t n, alloc;
	bool sorted;
};

/* Copy @len bytes at @data under @path.  -EEXIST for a repeated path. */
int iommu_fileset_add(struct iommu_fileset *fs, const char *path,
		      const uint8_t *data, size_t len, struct iommu_error *err);
/* Take ownership of @data (malloc'd) instead of copying. */
int iommu_fileset_add_owned(struct iommu_fileset *fs, const char *path,
			    uint8_t *data, size_t len, struct iommu_error *err);
void iommu_fileset_sort(struct iommu_fileset *fs);
/* Binary search; the fileset must be sorted. */
const struct iommu_file *iommu_fileset_get(const struct iommu_fileset *fs,
					   const char *path);
void iommu_fileset_release(struct iommu_fileset *fs);

/*
 * Whether @path names one of the inputs a snapshot may hold:
 *   pci/<SSSS:BB:DD.F>/{config,driver,vendor,device,class,revision,
 *                        subsystem_vendor,subsystem_device,resource,irq}
 *   acpi/<TABLE>            (no dot in the name: "DMAR", "SSDT1")
 *   cmdline, kernel-release
 *   iommu_class/<unit>/{intel-iommu,amd-iommu}/<attribute>
 * Anything else in a capture (groups.txt, iommu_groups/, lspci output,
 * dmesg, pci/<BDF>/iommu_group, ...) is the kernel's answer and is
 * never read.
 */
bool iommu_snapshot_input_allowed(const char *path);

/* The per-function attribute files a snapshot may hold, "config" first. */
extern const char *const iommu_snapshot_pci_attrs[];
extern const size_t iommu_snapshot_num_pci_attrs;

/* Upper bound on the size of the file at @path. */
size_t iommu_snapshot_max_size(const char *path);

/* Parse a fileset into a platform (takes ownership of @fs's contents). */
struct iommu_platform;
int iommu_platform_from_fileset(struct iommu_fileset *fs, int source,
				const char *label, struct iommu_platform **out,
				struct iommu_error *err);
const struct iommu_fileset *iommu_platform_fileset(const struct iommu_platform *p);

#endif /* IOMMU_PLATFORM_FILESET_H */
