/* SPDX-License-Identifier: MIT */
/* Internal interfaces of the core layer. */
#ifndef IOMMU_CORE_INTERNAL_H
#define IOMMU_CORE_INTERNAL_H

#include "iommu/core.h"

enum core_alias_kind {
	CORE_ALIAS_SELF,                /* the device's own requester id */
	CORE_ALIAS_MASK,                /* a devfn from its DMA alias mask */
	CORE_ALIAS_PCIE_TO_PCI,         /* PCIe-to-PCI bridge: (secondary bus, 00.0) */
	CORE_ALIAS_PCI_TO_PCIE,         /* PCI-to-PCIe bridge: the bridge's own id */
	CORE_ALIAS_QUIRK_BRIDGE,        /* conventional bridge with the PCIe-bridge alias quirk */
	CORE_ALIAS_CONVENTIONAL_BRIDGE, /* conventional bridge: the bridge's own id */
};

typedef int (*core_alias_fn)(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			     uint16_t rid, enum core_alias_kind kind, void *data);

int core_for_each_dma_alias(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			    core_alias_fn fn, void *data);
bool core_devs_are_dma_aliases(const struct iommu_system *s, const struct iommu_pci_dev *a,
			       const struct iommu_pci_dev *b);
bool core_acs_enabled(const struct iommu_system *s, const struct iommu_pci_dev *d, uint16_t flags);
bool core_acs_path_enabled(const struct iommu_system *s, const struct iommu_pci_dev *start,
			   uint16_t flags, const struct iommu_pci_dev **failed);
/* The group pci_device_group would put @dev in; NULL means a new one. */
struct iommu_group_info *core_pci_device_group(const struct iommu_system *s,
					       const struct iommu_pci_dev *dev);

/* resv.c */
int core_resv_insert(struct iommu_resv_region **list, size_t *n, struct iommu_resv_region r);

#endif
