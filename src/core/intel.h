/* SPDX-License-Identifier: MIT */
/*
 * The core's Intel VT-d driver: the register and table fields it writes,
 * defined here from the VT-d specification independently of the hardware
 * model's src/hw/vtd_spec.h, so that a typo on either side shows up as a
 * disagreement between driver and model instead of cancelling out.
 *
 * Each 64-bit word (or 32-bit register) the driver builds is proved at
 * compile time to be tiled exactly by the fields listed for it
 * (INTEL_TILES64/32: no gap, no overlap).  Section numbers are those of
 * the VT-d specification, revisions 3.x/4.x.
 */
#ifndef IOMMU_CORE_INTEL_H
#define IOMMU_CORE_INTEL_H

#include "util/bits.h"

#define INTEL__OR8(a, b, c, d, e, f, g, h) \
	((uint64_t)(a) | (b) | (c) | (d) | (e) | (f) | (g) | (h))
#define INTEL__POP8(a, b, c, d, e, f, g, h) \
	(__builtin_popcountll(a) + __builtin_popcountll(b) + \
	 __builtin_popcountll(c) + __builtin_popcountll(d) + \
	 __builtin_popcountll(e) + __builtin_popcountll(f) + \
	 __builtin_popcountll(g) + __builtin_popcountll(h))
/* Up to eight fields; pad with 0. */
#define INTEL_TILES64(name, a, b, c, d, e, f, g, h)                          \
	_Static_assert(INTEL__OR8(a, b, c, d, e, f, g, h) == ~UINT64_C(0) &&  \
		       INTEL__POP8(a, b, c, d, e, f, g, h) == 64,              \
		       #name ": fields do not tile 64 bits")
#define INTEL_TILES32(name, a, b, c, d, e, f, g, h)                          \
	_Static_assert(INTEL__OR8(a, b, c, d, e, f, g, h) ==                   \
			       UINT64_C(0xffffffff) &&                         \
		       INTEL__POP8(a, b, c, d, e, f, g, h) == 32,              \
		       #name ": fields do not tile 32 bits")

/* --- Registers (10.4) --------------------------------------------------- */

enum {
	DRV_REG_VER = 0x000, DRV_REG_CAP = 0x008, DRV_REG_ECAP = 0x010,
	DRV_REG_GCMD = 0x018, DRV_REG_GSTS = 0x01c, DRV_REG_RTADDR = 0x020,
	DRV_REG_CCMD = 0x028, DRV_REG_FSTS = 0x034, DRV_REG_PMEN = 0x064,
	DRV_REG_IQH = 0x080, DRV_REG_IQT = 0x088, DRV_REG_IQA = 0x090,
};

/* CAP_REG (10.4.2): the fields the driver reads. */
#define DRV_CAP_ND       IOMMU_GENMASK(2, 0)
#define DRV_CAP_RWBF     IOMMU_BIT(4)
#define DRV_CAP_PLMR     IOMMU_BIT(5)
#define DRV_CAP_PHMR     IOMMU_BIT(6)
#define DRV_CAP_CM       IOMMU_BIT(7)
#define DRV_CAP_SAGAW    IOMMU_GENMASK(12, 8)
#define DRV_CAP_MGAW     IOMMU_GENMASK(21, 16)
#define DRV_CAP_FRO      IOMMU_GENMASK(33, 24)
#define DRV_CAP_SLLPS    IOMMU_GENMASK(37, 34)
#define DRV_CAP_PSI      IOMMU_BIT(39)
#define DRV_CAP_NFR      IOMMU_GENMASK(47, 40)
#define DRV_CAP_MAMV     IOMMU_GENMASK(53, 48)
#define DRV_CAP_DWD      IOMMU_BIT(54)
#define DRV_CAP_DRD      IOMMU_BIT(55)
#define DRV_CAP_ESRTPS   IOMMU_BIT(63)
IOMMU_FIELDS_DISJOINT(DRV_CAP_ND | DRV_CAP_RWBF | DRV_CAP_PLMR | DRV_CAP_PHMR |
		      DRV_CAP_CM | DRV_CAP_SAGAW | DRV_CAP_MGAW | DRV_CAP_FRO,
		      DRV_CAP_SLLPS | DRV_CAP_PSI | DRV_CAP_NFR | DRV_CAP_MAMV |
		      DRV_CAP_DWD | DRV_CAP_DRD | DRV_CAP_ESRTPS);

/* ECAP_REG (10.4.3) */
#define DRV_ECAP_QI      IOMMU_BIT(1)
#define DRV_ECAP_PT      IOMMU_BIT(6)
#define DRV_ECAP_IRO     IOMMU_GENMASK(17, 8)
IOMMU_FIELDS_DISJOINT(DRV_ECAP_QI | DRV_ECAP_PT, DRV_ECAP_IRO);

/* GCMD_REG / GSTS_REG (10.4.4, 10.4.5): status bit n reflects command n. */
#define DRV_GCMD_TE      IOMMU_BIT(31)
#define DRV_GCMD_SRTP    IOMMU_BIT(30)
#define DRV_GCMD_SFL     IOMMU_BIT(29)
#define DRV_GCMD_EAFL    IOMMU_BIT(28)
#define DRV_GCMD_WBF     IOMMU_BIT(27)
#define DRV_GCMD_QIE     IOMMU_BIT(26)
#define DRV_GCMD_IRE     IOMMU_BIT(25)
#define DRV_GCMD_SIRTP   IOMMU_BIT(24)
#define DRV_GCMD_CFI     IOMMU_BIT(23)
#define DRV_GCMD_RSVD    IOMMU_GENMASK(22, 0)
INTEL_TILES32(GCMD, DRV_GCMD_TE | DRV_GCMD_SRTP, DRV_GCMD_SFL, DRV_GCMD_EAFL,
	      DRV_GCMD_WBF, DRV_GCMD_QIE, DRV_GCMD_IRE | DRV_GCMD_SIRTP,
	      DRV_GCMD_CFI, DRV_GCMD_RSVD);
#define DRV_GSTS_TES     DRV_GCMD_TE
#define DRV_GSTS_RTPS    DRV_GCMD_SRTP
#define DRV_GSTS_WBFS    DRV_GCMD_WBF
#define DRV_GSTS_QIES    DRV_GCMD_QIE
#define DRV_GSTS_IRES    DRV_GCMD_IRE

/* RTADDR_REG (10.4.6) */
#define DRV_RTADDR_RSVD  IOMMU_GENMASK(9, 0)
#define DRV_RTADDR_TTM   IOMMU_GENMASK(11, 10)
#define DRV_RTADDR_RTA   IOMMU_GENMASK(63, 12)
INTEL_TILES64(RTADDR, DRV_RTADDR_RSVD, DRV_RTADDR_TTM, DRV_RTADDR_RTA,
	      0, 0, 0, 0, 0);

/* CCMD_REG (10.4.7) */
#define DRV_CCMD_DID     IOMMU_GENMASK(15, 0)
#define DRV_CCMD_SID     IOMMU_GENMASK(31, 16)
#define DRV_CCMD_FM      IOMMU_GENMASK(33, 32)
#define DRV_CCMD_RSVD    IOMMU_GENMASK(58, 34)
#define DRV_CCMD_CAIG    IOMMU_GENMASK(60, 59)
#define DRV_CCMD_CIRG    IOMMU_GENMASK(62, 61)
#define DRV_CCMD_ICC     IOMMU_BIT(63)
INTEL_TILES64(CCMD, DRV_CCMD_DID, DRV_CCMD_SID, DRV_CCMD_FM, DRV_CCMD_RSVD,
	      DRV_CCMD_CAIG, DRV_CCMD_CIRG, DRV_CCMD_ICC, 0);

/* Invalidation granularities (CIRG, IIRG, descriptor G fields). */
#define DRV_GRAN_GLOBAL  1u
#define DRV_GRAN_DOMAIN  2u
#define DRV_GRAN_DEVICE  3u /* context cache */
#define DRV_GRAN_PAGE    3u /* IOTLB */

/* IVA_REG (10.4.8.2), at ECAP.IRO * 16 */
#define DRV_IVA_AM       IOMMU_GENMASK(5, 0)
#define DRV_IVA_IH       IOMMU_BIT(6)
#define DRV_IVA_RSVD     IOMMU_GENMASK(11, 7)
#define DRV_IVA_ADDR     IOMMU_GENMASK(63, 12)
INTEL_TILES64(IVA, DRV_IVA_AM, DRV_IVA_IH, DRV_IVA_RSVD, DRV_IVA_ADDR,
	      0, 0, 0, 0);

/* IOTLB_REG (10.4.8.1), at ECAP.IRO * 16 + 8 */
#define DRV_IOTLB_RSVD_LO IOMMU_GENMASK(31, 0)
#define DRV_IOTLB_DID    IOMMU_GENMASK(47, 32)
#define DRV_IOTLB_DW     IOMMU_BIT(48)
#define DRV_IOTLB_DR     IOMMU_BIT(49)
#define DRV_IOTLB_RSVD_HI (IOMMU_GENMASK(56, 50) | IOMMU_BIT(59) | IOMMU_BIT(62))
#define DRV_IOTLB_IAIG   IOMMU_GENMASK(58, 57)
#define DRV_IOTLB_IIRG   IOMMU_GENMASK(61, 60)
#define DRV_IOTLB_IVT    IOMMU_BIT(63)
INTEL_TILES64(IOTLB, DRV_IOTLB_RSVD_LO, DRV_IOTLB_DID, DRV_IOTLB_DW,
	      DRV_IOTLB_DR, DRV_IOTLB_RSVD_HI, DRV_IOTLB_IAIG, DRV_IOTLB_IIRG,
	      DRV_IOTLB_IVT);

/* FSTS_REG (10.4.9): the write-1-to-clear bits the driver clears. */
#define DRV_FSTS_PFO     IOMMU_BIT(0)
#define DRV_FSTS_IQE     IOMMU_BIT(4)
#define DRV_FSTS_ICE     IOMMU_BIT(5)
#define DRV_FSTS_ITE     IOMMU_BIT(6)
/* FRCD_REG (10.4.14): F is bit 127, bit 63 of the upper quadword. */
#define DRV_FRCD_HI_F    IOMMU_BIT(63)

/* PMEN_REG (10.4.16) */
#define DRV_PMEN_PRS     IOMMU_BIT(0)
#define DRV_PMEN_EPM     IOMMU_BIT(31)

/* IQH/IQT (10.4.22-23), 128-bit descriptors: QH/QT at 18:4. */
#define DRV_IQ_QPTR      IOMMU_GENMASK(18, 4)
#define DRV_IQ_SHIFT     4u
/* IQA_REG (10.4.24) */
#define DRV_IQA_QS       IOMMU_GENMASK(2, 0)
#define DRV_IQA_RSVD     IOMMU_GENMASK(10, 3)
#define DRV_IQA_DW       IOMMU_BIT(11)
#define DRV_IQA_IQA      IOMMU_GENMASK(63, 12)
INTEL_TILES64(IQA, DRV_IQA_QS, DRV_IQA_RSVD, DRV_IQA_DW, DRV_IQA_IQA,
	      0, 0, 0, 0);

/* --- Invalidation descriptors (6.5.2), 128-bit ------------------------ */

#define DRV_INV_TYPE     IOMMU_GENMASK(3, 0)
#define DRV_INV_CC       1u
#define DRV_INV_IOTLB    2u
#define DRV_INV_WAIT     5u

/* Context-cache invalidate (6.5.2.1), low quadword */
#define DRV_QCC_G        IOMMU_GENMASK(5, 4)
#define DRV_QCC_RSVD     (IOMMU_GENMASK(15, 6) | IOMMU_GENMASK(63, 50))
#define DRV_QCC_DID      IOMMU_GENMASK(31, 16)
#define DRV_QCC_SID      IOMMU_GENMASK(47, 32)
#define DRV_QCC_FM       IOMMU_GENMASK(49, 48)
INTEL_TILES64(QI_CC_LO, DRV_INV_TYPE, DRV_QCC_G, DRV_QCC_RSVD, DRV_QCC_DID,
	      DRV_QCC_SID, DRV_QCC_FM, 0, 0);

/* IOTLB invalidate (6.5.2.3) */
#define DRV_QIOTLB_G     IOMMU_GENMASK(5, 4)
#define DRV_QIOTLB_DW    IOMMU_BIT(6)
#define DRV_QIOTLB_DR    IOMMU_BIT(7)
#define DRV_QIOTLB_RSVD  (IOMMU_GENMASK(15, 8) | IOMMU_GENMASK(63, 32))
#define DRV_QIOTLB_DID   IOMMU_GENMASK(31, 16)
INTEL_TILES64(QI_IOTLB_LO, DRV_INV_TYPE, DRV_QIOTLB_G, DRV_QIOTLB_DW,
	      DRV_QIOTLB_DR, DRV_QIOTLB_RSVD, DRV_QIOTLB_DID, 0, 0);
#define DRV_QIOTLB_AM    IOMMU_GENMASK(5, 0)
#define DRV_QIOTLB_IH    IOMMU_BIT(6)
#define DRV_QIOTLB_RSVD_HI IOMMU_GENMASK(11, 7)
#define DRV_QIOTLB_ADDR  IOMMU_GENMASK(63, 12)
INTEL_TILES64(QI_IOTLB_HI, DRV_QIOTLB_AM, DRV_QIOTLB_IH, DRV_QIOTLB_RSVD_HI,
	      DRV_QIOTLB_ADDR, 0, 0, 0, 0);

/* Invalidation wait (6.5.2.8) */
#define DRV_QWAIT_IF     IOMMU_BIT(4)
#define DRV_QWAIT_SW     IOMMU_BIT(5)
#define DRV_QWAIT_FN     IOMMU_BIT(6)
#define DRV_QWAIT_RSVD   (IOMMU_GENMASK(31, 7))
#define DRV_QWAIT_SDATA  IOMMU_GENMASK(63, 32)
INTEL_TILES64(QI_WAIT_LO, DRV_INV_TYPE, DRV_QWAIT_IF, DRV_QWAIT_SW,
	      DRV_QWAIT_FN, DRV_QWAIT_RSVD, DRV_QWAIT_SDATA, 0, 0);
#define DRV_QWAIT_HI_RSVD IOMMU_GENMASK(1, 0)
#define DRV_QWAIT_SADDR  IOMMU_GENMASK(63, 2)
INTEL_TILES64(QI_WAIT_HI, DRV_QWAIT_HI_RSVD, DRV_QWAIT_SADDR, 0, 0, 0, 0, 0, 0);

/* --- In-memory structures -------------------------------------------- */

/* Root entry (9.1), legacy mode; HI is reserved (zero). */
#define DRV_ROOT_P       IOMMU_BIT(0)
#define DRV_ROOT_RSVD    IOMMU_GENMASK(11, 1)
#define DRV_ROOT_CTP     IOMMU_GENMASK(63, 12)
INTEL_TILES64(ROOT_LO, DRV_ROOT_P, DRV_ROOT_RSVD, DRV_ROOT_CTP, 0, 0, 0, 0, 0);

/* Context entry (9.3), legacy mode */
#define DRV_CTX_P        IOMMU_BIT(0)
#define DRV_CTX_FPD      IOMMU_BIT(1)
#define DRV_CTX_TT       IOMMU_GENMASK(3, 2)
#define DRV_CTX_RSVD_LO  IOMMU_GENMASK(11, 4)
#define DRV_CTX_SLPTPTR  IOMMU_GENMASK(63, 12)
INTEL_TILES64(CTX_LO, DRV_CTX_P, DRV_CTX_FPD, DRV_CTX_TT, DRV_CTX_RSVD_LO,
	      DRV_CTX_SLPTPTR, 0, 0, 0);
#define DRV_CTX_AW       IOMMU_GENMASK(2, 0)
#define DRV_CTX_AVAIL    IOMMU_GENMASK(6, 3)
#define DRV_CTX_RSVD_HI  (IOMMU_BIT(7) | IOMMU_GENMASK(63, 24))
#define DRV_CTX_DID      IOMMU_GENMASK(23, 8)
INTEL_TILES64(CTX_HI, DRV_CTX_AW, DRV_CTX_AVAIL, DRV_CTX_RSVD_HI, DRV_CTX_DID,
	      0, 0, 0, 0);
#define DRV_TT_MULTI_LEVEL  0u
#define DRV_TT_DEV_IOTLB    1u
#define DRV_TT_PASS_THROUGH 2u

/* Second-level paging entry (9.8) */
#define DRV_PTE_R        IOMMU_BIT(0)
#define DRV_PTE_W        IOMMU_BIT(1)
#define DRV_PTE_X_EMT_IPAT IOMMU_GENMASK(6, 2)
#define DRV_PTE_PS       IOMMU_BIT(7)
#define DRV_PTE_A_D_IGN  IOMMU_GENMASK(10, 8)
#define DRV_PTE_SNP      IOMMU_BIT(11)
#define DRV_PTE_ADDR     IOMMU_GENMASK(51, 12)
#define DRV_PTE_HIGH     IOMMU_GENMASK(63, 52)
INTEL_TILES64(SL_PTE, DRV_PTE_R | DRV_PTE_W, DRV_PTE_X_EMT_IPAT, DRV_PTE_PS,
	      DRV_PTE_A_D_IGN, DRV_PTE_SNP, DRV_PTE_ADDR, DRV_PTE_HIGH, 0);

#define DRV_PAGE_SHIFT   12u
#define DRV_PAGE_SIZE    (UINT64_C(1) << DRV_PAGE_SHIFT)
#define DRV_STRIDE_SHIFT 9u
#define DRV_PTES         512u

#endif /* IOMMU_CORE_INTEL_H */
