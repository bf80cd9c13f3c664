/* SPDX-License-Identifier: MIT */
/*
 * The PCI quirks of the Linux kernel (drivers/pci/quirks.c) that change how
 * IOMMU groups form:
 *  - the device-specific ACS table (pci_dev_acs_enabled[], walked by
 *    pci_dev_specific_acs_enabled) with every hook it names;
 *  - the header/final fixups that give a function extra DMA requester ids
 *    (pci_add_dma_alias) or set PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS /
 *    PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT.
 *
 * Facts are those of Linux 6.1 as the late 6.1.y stable releases carry them
 * (Debian's 6.1.0-x); the late 6.12.y tables are the same (see quirks.c for
 * the rows that reached both through stable backports).  Internal header:
 * the grouping code (core/group.c) is the only user.
 */
#ifndef IOMMU_CORE_QUIRKS_H
#define IOMMU_CORE_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Device-specific ACS verdict, as pci_dev_specific_acs_enabled gives it:
 * the table is scanned in the kernel's order and the first hook whose row
 * matches @dev and that returns >= 0 decides.
 *
 * Returns 1 (the device provides every flag asked for), 0 (it does not), or
 * -ENOTTY when no quirk has an opinion; -EINVAL for a NULL @dev.  When a
 * quirk decides, *@name (if @name is not NULL) gets the kernel function
 * name of the hook ("pci_quirk_rciep_acs"); otherwise it is set to NULL.
 *
 * @flags:        the ACS flags asked for (IOMMU_ACS_*).
 * @amd_ivrs:     the platform has an ACPI IVRS table (pci_quirk_amd_sb_acs
 *                only answers then).
 * @kernel_minor: the 6.x minor being modelled (1 for 6.1, 12 for 6.12).
 *                Rows carry the first minor that has them; today no row
 *                differs between the modelled 6.1 and 6.12 kernels, so any
 *                value gives the same table.  Values below 1 (5.x kernels)
 *                are treated like 6.1: the 5.x tables are not modelled.
 *
 * Assumptions (see quirks.c): the IOMMU driver asked for ACS before PCI
 * enumeration (pci_request_acs), which every x86 IOMMU driver does when it
 * is active; a function's pdev->multifunction is its header bit or it is
 * not function 0.
 *
 * The out-of-tree pcie_acs_override row is NOT in the table: the caller
 * evaluates rows [0, iommu_quirk_acs_override_row), then the override,
 * then rows [iommu_quirk_acs_override_row, iommu_quirk_acs_rows).
 */
int iommu_quirk_acs(const struct iommu_pci_dev *dev, uint16_t flags, bool amd_ivrs,
		    int kernel_minor, const char **name);

/* The same over rows [@first_row, @end_row) only; -EINVAL for a bad range. */
int iommu_quirk_acs_range(const struct iommu_pci_dev *dev, uint16_t flags, bool amd_ivrs,
			  int kernel_minor, const char **name, int first_row, int end_row);

/*
 * Where the pcie_acs_override row sits in patched kernels: after the two
 * Emulex rows and before the Cavium ThunderX row, i.e. the index of the
 * first row that follows it.
 */
extern const int iommu_quirk_acs_override_row;
/* Number of rows in the table. */
extern const int iommu_quirk_acs_rows;

/* Kernel function name of row @row's hook, or NULL when out of range (for tools and tests). */
const char *iommu_quirk_acs_row_hook(int row);

struct iommu_dma_alias_quirk {
	uint8_t mask[32];            /* devfns on the device's bus added as DMA aliases (pci_add_dma_alias) */
	bool pcie_bridge_alias;      /* PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS (quirk_use_pcie_bridge_dma_alias) */
	bool bridge_xlate_root;      /* PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT (quirk_bridge_cavm_thrx2_pcie_root) */
	const char *name;            /* kernel function name of the quirk applied, or NULL */
};

/*
 * The fixups that add DMA aliases or alias-related flags at enumeration,
 * for @dev: quirk_dma_func0_alias, quirk_dma_func1_alias,
 * quirk_fixed_dma_alias, quirk_use_pcie_bridge_dma_alias,
 * quirk_mic_x200_dma_alias, quirk_pex_vca_alias,
 * quirk_bridge_cavm_thrx2_pcie_root, quirk_switchtec_ntb_dma_alias and
 * quirk_plx_ntb_dma_alias, with the vendor/device (and, where the kernel
 * matches it, class and subsystem) lists of 6.1.
 *
 * @out is always filled (zeroed first).  @out->name is set only when the
 * fixup changed something (function 0 of a func0-alias device, an Adaptec
 * 0x0285 of another subsystem, or a listed bridge that fails the PCIe
 * bridge test leave it NULL), except for Switchtec (below), which is always
 * named.  quirk_use_pcie_bridge_dma_alias
 * looks at @dev->bus and its bridge; a @dev without a bus counts as being on
 * a root bus.  The Switchtec aliases come from the switch's MMIO registers,
 * which a platform does not hold: the quirk is named with an empty mask.
 * The AMD IVRS alias (amd_iommu's pci_add_dma_alias) is not a quirk and is
 * not here.
 */
void iommu_quirk_dma_alias(const struct iommu_pci_dev *dev, struct iommu_dma_alias_quirk *out);

static inline bool iommu_dma_alias_test(const struct iommu_dma_alias_quirk *q, uint8_t devfn)
{
	return (q->mask[devfn >> 3] >> (devfn & 7)) & 1;
}

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_CORE_QUIRKS_H */
