/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space layout: offsets and fields from the PCI Local Bus
 * Specification 3.0 (type 0/1 headers, capability list), the PCI-to-CardBus
 * bridge header (type 2), and the PCI Express Base Specification (PCI
 * Express capability, extended capabilities: ACS 7.7.8, ARI 7.8.8,
 * SR-IOV 9.3.3).  Names follow the kernel's include/uapi/linux/pci_regs.h
 * vocabulary with an IPCI_ prefix so that they never clash with libpci's.
 */
#ifndef IOMMU_PLATFORM_PCI_REGS_H
#define IOMMU_PLATFORM_PCI_REGS_H

#include "util/bits.h"

/* Sizes. */
#define IPCI_CFG_HEADER_SIZE   64     /* standard header, all types */
#define IPCI_CFG_SIZE          256    /* conventional PCI */
#define IPCI_CFG_EXP_SIZE      4096   /* PCI Express extended space */

/* Common header (all header types). */
#define IPCI_VENDOR_ID         0x00   /* 16 bits */
#define IPCI_DEVICE_ID         0x02   /* 16 bits */
#define IPCI_COMMAND           0x04   /* 16 bits */
#define IPCI_STATUS            0x06   /* 16 bits */
#define  IPCI_STATUS_CAP_LIST  IOMMU_BIT(4)
#define IPCI_REVISION_ID       0x08
#define IPCI_CLASS_PROG        0x09   /* class code: prog-if, sub, base */
#define IPCI_HEADER_TYPE       0x0e
#define  IPCI_HEADER_TYPE_LAYOUT   IOMMU_GENMASK(6, 0)
#define  IPCI_HEADER_TYPE_MFD      IOMMU_BIT(7)
#define  IPCI_HEADER_TYPE_NORMAL   0
#define  IPCI_HEADER_TYPE_BRIDGE   1
#define  IPCI_HEADER_TYPE_CARDBUS  2
IOMMU_FIELDS_DISJOINT(IPCI_HEADER_TYPE_LAYOUT, IPCI_HEADER_TYPE_MFD);
IOMMU_FIELD_FITS(IPCI_HEADER_TYPE_LAYOUT | IPCI_HEADER_TYPE_MFD, 8);

/* Type 0 header. */
#define IPCI_SUBSYSTEM_VENDOR_ID 0x2c
#define IPCI_SUBSYSTEM_ID        0x2e
#define IPCI_CAPABILITY_LIST     0x34  /* types 0 and 1 */
#define IPCI_INTERRUPT_PIN       0x3d

/* Type 1 header (PCI-to-PCI bridge). */
#define IPCI_PRIMARY_BUS       0x18
#define IPCI_SECONDARY_BUS     0x19
#define IPCI_SUBORDINATE_BUS   0x1a

/* Type 2 header (CardBus bridge). */
#define IPCI_CB_CAPABILITY_LIST 0x14
#define IPCI_CB_PRIMARY_BUS     0x18
#define IPCI_CB_CARD_BUS        0x19
#define IPCI_CB_SUBORDINATE_BUS 0x1a
#define IPCI_CB_SUBSYSTEM_VENDOR_ID 0x40
#define IPCI_CB_SUBSYSTEM_ID    0x42

/* Class codes (base class and sub-class, as the 16-bit "device class"). */
#define IPCI_CLASS_BRIDGE_HOST    0x0600
#define IPCI_CLASS_BRIDGE_ISA     0x0601
#define IPCI_CLASS_BRIDGE_PCI     0x0604
#define IPCI_CLASS_BRIDGE_CARDBUS 0x0607
#define IPCI_BASE_CLASS_BRIDGE    0x06

/* Capability list entries. */
#define IPCI_CAP_LIST_ID       0      /* offset of the id in an entry */
#define IPCI_CAP_LIST_NEXT     1      /* offset of the next pointer */
#define IPCI_CAP_PTR_MASK      0xfc   /* pointers are dword aligned */
#define IPCI_CAP_LIST_TTL      48     /* the kernel's PCI_FIND_CAP_TTL */
#define IPCI_CAP_ID_PM         0x01
#define IPCI_CAP_ID_MSI        0x05
#define IPCI_CAP_ID_VNDR       0x09
#define IPCI_CAP_ID_SSVID      0x0d   /* bridge subsystem vendor id */
#define  IPCI_SSVID_VENDOR_ID  4
#define  IPCI_SSVID_DEVICE_ID  6
#define IPCI_CAP_ID_EXP        0x10
#define IPCI_CAP_ID_MSIX       0x11

/* PCI Express capability (PCIe Base 7.5.3). */
#define IPCI_EXP_FLAGS         0x02   /* 16 bits */
#define  IPCI_EXP_FLAGS_VERS   IOMMU_GENMASK(3, 0)
#define  IPCI_EXP_FLAGS_TYPE   IOMMU_GENMASK(7, 4)
#define  IPCI_EXP_FLAGS_SLOT   IOMMU_BIT(8)
#define  IPCI_EXP_FLAGS_IRQ    IOMMU_GENMASK(13, 9)
IOMMU_FIELDS_DISJOINT(IPCI_EXP_FLAGS_VERS, IPCI_EXP_FLAGS_TYPE);
IOMMU_FIELDS_DISJOINT(IPCI_EXP_FLAGS_TYPE, IPCI_EXP_FLAGS_SLOT);
IOMMU_FIELDS_DISJOINT(IPCI_EXP_FLAGS_SLOT, IPCI_EXP_FLAGS_IRQ);
IOMMU_FIELD_FITS(IPCI_EXP_FLAGS_IRQ, 16);
#define IPCI_EXP_DEVCAP        0x04   /* 32 bits */
#define  IPCI_EXP_DEVCAP_FLR   IOMMU_BIT(28)
#define IPCI_EXP_DEVCAP2       0x24   /* 32 bits */
#define  IPCI_EXP_DEVCAP2_ARI  IOMMU_BIT(5)
#define IPCI_EXP_DEVCTL2       0x28   /* 16 bits */
#define  IPCI_EXP_DEVCTL2_ARI  IOMMU_BIT(5)
#define IPCI_EXP_V1_SIZE       0x14   /* v1 capability ends before DEVCAP2 */

/* Extended capabilities (PCIe Base 7.6.3). */
#define IPCI_EXT_CAP_START     0x100
#define  IPCI_EXT_CAP_ID       IOMMU_GENMASK(15, 0)
#define  IPCI_EXT_CAP_VER      IOMMU_GENMASK(19, 16)
#define  IPCI_EXT_CAP_NEXT     IOMMU_GENMASK(31, 20)
IOMMU_FIELDS_DISJOINT(IPCI_EXT_CAP_ID, IPCI_EXT_CAP_VER);
IOMMU_FIELDS_DISJOINT(IPCI_EXT_CAP_VER, IPCI_EXT_CAP_NEXT);
IOMMU_FIELD_FITS(IPCI_EXT_CAP_NEXT, 32);
#define IPCI_EXT_CAP_NEXT_ALIGN 0xffc
/* The kernel's bound on the walk: (4096 - 256) / 8 entries. */
#define IPCI_EXT_CAP_TTL       ((IPCI_CFG_EXP_SIZE - IPCI_CFG_SIZE) / 8)

#define IPCI_EXT_CAP_ID_ERR    0x0001
#define IPCI_EXT_CAP_ID_ACS    0x000d
#define IPCI_EXT_CAP_ID_ARI    0x000e
#define IPCI_EXT_CAP_ID_ATS    0x000f
#define IPCI_EXT_CAP_ID_SRIOV  0x0010
#define IPCI_EXT_CAP_ID_PRI    0x0013
#define IPCI_EXT_CAP_ID_PASID  0x001b

/* ACS extended capability (PCIe Base 7.7.8). */
#define IPCI_ACS_CAP           0x04   /* 16 bits */
#define IPCI_ACS_CTRL          0x06   /* 16 bits */
#define  IPCI_ACS_SV           IOMMU_BIT(0)
#define  IPCI_ACS_TB           IOMMU_BIT(1)
#define  IPCI_ACS_RR           IOMMU_BIT(2)
#define  IPCI_ACS_CR           IOMMU_BIT(3)
#define  IPCI_ACS_UF           IOMMU_BIT(4)
#define  IPCI_ACS_EC           IOMMU_BIT(5)
#define  IPCI_ACS_DT           IOMMU_BIT(6)
#define  IPCI_ACS_CAP_EGRESS_VECTOR_SIZE IOMMU_GENMASK(15, 8) /* cap only */
IOMMU_FIELDS_DISJOINT(IPCI_ACS_DT, IPCI_ACS_CAP_EGRESS_VECTOR_SIZE);
IOMMU_FIELD_FITS(IPCI_ACS_CAP_EGRESS_VECTOR_SIZE, 16);

/* ARI extended capability (PCIe Base 7.8.8). */
#define IPCI_ARI_CAP           0x04   /* 16 bits */
#define  IPCI_ARI_CAP_MFVC     IOMMU_BIT(0)
#define  IPCI_ARI_CAP_ACS      IOMMU_BIT(1)
#define  IPCI_ARI_CAP_NFN      IOMMU_GENMASK(15, 8)
#define IPCI_ARI_CTRL          0x06   /* 16 bits */
#define  IPCI_ARI_CTRL_MFVC    IOMMU_BIT(0)
#define  IPCI_ARI_CTRL_ACS     IOMMU_BIT(1)
#define  IPCI_ARI_CTRL_FG      IOMMU_GENMASK(6, 4)
IOMMU_FIELDS_DISJOINT(IPCI_ARI_CAP_ACS, IPCI_ARI_CAP_NFN);
IOMMU_FIELDS_DISJOINT(IPCI_ARI_CTRL_ACS, IPCI_ARI_CTRL_FG);
IOMMU_FIELD_FITS(IPCI_ARI_CAP_NFN, 16);

/* SR-IOV extended capability (PCIe Base 9.3.3). */
#define IPCI_SRIOV_CAP         0x04   /* 32 bits */
#define  IPCI_SRIOV_CAP_VFM    IOMMU_BIT(0)
#define  IPCI_SRIOV_CAP_ARI_PRESERVED IOMMU_BIT(1)
#define  IPCI_SRIOV_CAP_INTR   IOMMU_GENMASK(31, 21)
IOMMU_FIELDS_DISJOINT(IPCI_SRIOV_CAP_ARI_PRESERVED, IPCI_SRIOV_CAP_INTR);
#define IPCI_SRIOV_CTRL        0x08   /* 16 bits */
#define  IPCI_SRIOV_CTRL_VFE   IOMMU_BIT(0)
#define  IPCI_SRIOV_CTRL_MSE   IOMMU_BIT(3)
#define  IPCI_SRIOV_CTRL_ARI   IOMMU_BIT(4)
#define IPCI_SRIOV_STATUS      0x0a
#define IPCI_SRIOV_INITIAL_VF  0x0c
#define IPCI_SRIOV_TOTAL_VF    0x0e
#define IPCI_SRIOV_NUM_VF      0x10
#define IPCI_SRIOV_FUNC_LINK   0x12
#define IPCI_SRIOV_VF_OFFSET   0x14
#define IPCI_SRIOV_VF_STRIDE   0x16
#define IPCI_SRIOV_VF_DID      0x1a
#define IPCI_SRIOV_SUP_PGSIZE  0x1c
#define IPCI_SRIOV_SYS_PGSIZE  0x20
#define IPCI_SRIOV_SIZE        0x40   /* through the VF BARs and migration */

#endif /* IOMMU_PLATFORM_PCI_REGS_H */
