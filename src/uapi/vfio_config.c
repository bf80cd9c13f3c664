// SPDX-License-Identifier: MIT
/*
 * A VFIO device's configuration space as the user sees it through the
 * config region (drivers/vfio/pci/vfio_pci_config.c).
 *
 * The modelled device has a physical config space: the platform's bytes,
 * changed the way vfio_pci_core_enable() leaves them (power state D0,
 * bus mastering off, memory and I/O decoding on for the BARs it has,
 * INTx unmasked) and by what the user writes through.  Over it, vfio-pci
 * keeps a virtual copy (vconfig) and per byte of config space a
 * permission: which bits are virtualised (read from and written to
 * vconfig) and which may be written to the hardware.  Its rules:
 *
 *  - the capability list is walked as vfio_cap_init/vfio_ecap_init do:
 *    capabilities vfio-pci does not know (length 0 in its tables: slot
 *    id, CompactPCI, debug port, secure device, Enhanced Allocation, and
 *    among extended ones RCLD, RCILC, RCEC, RCRB, MR-IOV, SECPCI, PMUX,
 *    L1 PM substates, PTM and every id past DVSEC) are hidden by
 *    rewriting the previous next pointer; a hidden first extended
 *    capability becomes a placeholder with id 0;
 *  - the header: vendor and device ids, INTx disable, the capabilities
 *    bit, the BARs (sized from the resources: a BAR with no resource
 *    reads 0), the ROM BAR, the capability pointer, the interrupt line
 *    and pin (0 when INTx is hidden) are virtual;
 *  - power management: PME support, PME status and enable read 0;
 *  - PCI Express: FLR, payload and read request size are virtual;
 *    writing FLR resets the device when it has FLR;
 *  - MSI: control, address and data are virtual; MSI is enabled through
 *    VFIO_DEVICE_SET_IRQS, never by a config write;
 *  - bytes outside every capability pass straight to the device.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "uapi/internal.h"
#include "util/bits.h"

#define CAP_ID_BASIC 0
/* struct resource flags as the sysfs resource file shows them */
#define IORESOURCE_IO 0x00000100
#define IORESOURCE_PREFETCH 0x00002000
#define IORESOURCE_MEM_64 0x00100000
#define CAP_ID_INVALID 0xff

enum { WK_NONE, WK_DEFAULT, WK_RAW };

/* pci_cap_length: 0 hidden, 0xff variable. */
static const uint8_t cap_length[PCI_CAP_ID_MAX + 1] = {
	[CAP_ID_BASIC] = PCI_STD_HEADER_SIZEOF,
	[PCI_CAP_ID_PM] = PCI_PM_SIZEOF,
	[PCI_CAP_ID_AGP] = PCI_AGP_SIZEOF,
	[PCI_CAP_ID_VPD] = PCI_CAP_VPD_SIZEOF,
	[PCI_CAP_ID_MSI] = 0xff,
	[PCI_CAP_ID_PCIX] = 0xff,
	[PCI_CAP_ID_HT] = 0xff,
	[PCI_CAP_ID_VNDR] = 0xff,
	[PCI_CAP_ID_EXP] = 0xff,
	[PCI_CAP_ID_MSIX] = PCI_CAP_MSIX_SIZEOF,
	[PCI_CAP_ID_SATA] = 0xff,
	[PCI_CAP_ID_AF] = PCI_CAP_AF_SIZEOF,
};

/* pci_ext_cap_length */
static const uint8_t ext_cap_length[PCI_EXT_CAP_ID_MAX + 1] = {
	[PCI_EXT_CAP_ID_ERR] = PCI_ERR_ROOT_COMMAND,
	[PCI_EXT_CAP_ID_VC] = 0xff,
	[PCI_EXT_CAP_ID_DSN] = PCI_EXT_CAP_DSN_SIZEOF,
	[PCI_EXT_CAP_ID_PWR] = PCI_EXT_CAP_PWR_SIZEOF,
	[PCI_EXT_CAP_ID_MFVC] = 0xff,
	[PCI_EXT_CAP_ID_VC9] = 0xff,
	[PCI_EXT_CAP_ID_VNDR] = 0xff,
	[PCI_EXT_CAP_ID_ACS] = 0xff,
	[PCI_EXT_CAP_ID_ARI] = PCI_EXT_CAP_ARI_SIZEOF,
	[PCI_EXT_CAP_ID_ATS] = PCI_EXT_CAP_ATS_SIZEOF,
	[PCI_EXT_CAP_ID_SRIOV] = PCI_EXT_CAP_SRIOV_SIZEOF,
	[PCI_EXT_CAP_ID_MCAST] = PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF,
	[PCI_EXT_CAP_ID_PRI] = PCI_EXT_CAP_PRI_SIZEOF,
	[PCI_EXT_CAP_ID_REBAR] = 0xff,
	[PCI_EXT_CAP_ID_DPA] = 0xff,
	[PCI_EXT_CAP_ID_TPH] = 0xff,
	[PCI_EXT_CAP_ID_LTR] = PCI_EXT_CAP_LTR_SIZEOF,
	[PCI_EXT_CAP_ID_PASID] = PCI_EXT_CAP_PASID_SIZEOF,
	[PCI_EXT_CAP_ID_DVSEC] = 0xff,
};

static uint8_t rd8(const uint8_t *c, size_t o)
{
	return c[o];
}

static uint16_t rd16(const uint8_t *c, size_t o)
{
	return iommu_le16(c + o);
}

static uint32_t rd32(const uint8_t *c, size_t o)
{
	return iommu_le32(c + o);
}

static void wr16(uint8_t *c, size_t o, uint16_t v)
{
	c[o] = (uint8_t)v;
	c[o + 1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *c, size_t o, uint32_t v)
{
	wr16(c, o, (uint16_t)v);
	wr16(c, o + 2, (uint16_t)(v >> 16));
}

/* Permission setters over a byte range of the per-device tables. */
static void p_set(struct vfio_pci_state *st, size_t off, unsigned width, uint32_t virt,
		  uint32_t write)
{
	for (unsigned i = 0; i < width && off + i < st->cfg_size; i++) {
		st->virt[off + i] = (uint8_t)(virt >> (8 * i));
		st->wr[off + i] = (uint8_t)(write >> (8 * i));
	}
}

/* ------------------------------------------------------------------ */
/* Capability lengths                                                   */

static int msi_cap_len(uint16_t flags)
{
	int len = 10;

	if (flags & PCI_MSI_FLAGS_64BIT)
		len += 4;
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 10;
	return len;
}

static int cap_len(struct vfio_pci_state *st, uint8_t cap, uint16_t pos)
{
	const uint8_t *c = st->phys;

	switch (cap) {
	case PCI_CAP_ID_MSI:
		return msi_cap_len(rd16(c, pos + PCI_MSI_FLAGS));
	case PCI_CAP_ID_PCIX:
		if (PCI_X_CMD_VERSION(rd16(c, pos + PCI_X_CMD))) {
			if (st->cfg_size > PCI_CFG_SPACE_SIZE)
				st->extended_caps = rd32(c, PCI_CFG_SPACE_SIZE) != 0;
			return PCI_CAP_PCIX_SIZEOF_V2;
		}
		return PCI_CAP_PCIX_SIZEOF_V0;
	case PCI_CAP_ID_VNDR:
		return rd8(c, pos + PCI_CAP_FLAGS);
	case PCI_CAP_ID_EXP: {
		uint16_t flags = rd16(c, pos + PCI_EXP_FLAGS);
		bool rc_end = IOMMU_FIELD_GET(PCI_EXP_FLAGS_TYPE, flags) == PCI_EXP_TYPE_RC_END;

		if (st->cfg_size > PCI_CFG_SPACE_SIZE)
			st->extended_caps = rd32(c, PCI_CFG_SPACE_SIZE) != 0;
		if (IOMMU_FIELD_GET(PCI_EXP_FLAGS_VERS, flags) == 1)
			return rc_end ? 0xc : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
		return rc_end ? 0x2c : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
	}
	case PCI_CAP_ID_HT:
		return (rd8(c, pos + 3) & HT_3BIT_CAP_MASK) ? HT_CAP_SIZEOF_SHORT : HT_CAP_SIZEOF_LONG;
	case PCI_CAP_ID_SATA:
		return (rd8(c, pos + PCI_SATA_REGS) & PCI_SATA_REGS_MASK) == PCI_SATA_REGS_INLINE
			       ? PCI_SATA_SIZEOF_LONG : PCI_SATA_SIZEOF_SHORT;
	default:
		return 0;
	}
}

static int vc_cap_len(const uint8_t *c, uint16_t pos)
{
	uint32_t cap1 = rd32(c, pos + PCI_VC_PORT_CAP1), cap2 = rd32(c, pos + PCI_VC_PORT_CAP2);
	int evcc = (int)IOMMU_FIELD_GET(PCI_VC_CAP1_EVCC, cap1);
	int len = PCI_CAP_VC_BASE_SIZEOF, phases;

	if (cap2 & PCI_VC_CAP2_128_PHASE)
		phases = 128;
	else if (cap2 & PCI_VC_CAP2_64_PHASE)
		phases = 64;
	else if (cap2 & PCI_VC_CAP2_32_PHASE)
		phases = 32;
	else
		phases = 0;
	len += (1 + evcc) * PCI_CAP_VC_PER_VC_SIZEOF;
	if (phases) {
		len = (len + 15) & ~15;
		len += phases * 4 / 8;
	}
	return len;
}

static int ext_cap_len(const uint8_t *c, uint16_t ecap, uint16_t pos)
{
	switch (ecap) {
	case PCI_EXT_CAP_ID_VNDR:
		return (int)PCI_VNDR_HEADER_LEN(rd32(c, pos + PCI_VNDR_HEADER));
	case PCI_EXT_CAP_ID_VC:
	case PCI_EXT_CAP_ID_VC9:
	case PCI_EXT_CAP_ID_MFVC:
		return vc_cap_len(c, pos);
	case PCI_EXT_CAP_ID_ACS: {
		uint8_t cap = rd8(c, pos + PCI_ACS_CAP);

		if (cap & PCI_ACS_EC) {
			uint8_t b = rd8(c, pos + PCI_ACS_EGRESS_BITS);
			int bits = b ? (b + 31) / 32 * 32 : 256;

			return 8 + bits / 8;
		}
		return 8;
	}
	case PCI_EXT_CAP_ID_REBAR:
		return 4 + (int)IOMMU_FIELD_GET(PCI_REBAR_CTRL_NBAR_MASK, rd8(c, pos + PCI_REBAR_CTRL)) * 8;
	case PCI_EXT_CAP_ID_DPA:
		return PCI_DPA_BASE_SIZEOF + (rd8(c, pos + PCI_DPA_CAP) & PCI_DPA_CAP_SUBSTATE_MASK) + 1;
	case PCI_EXT_CAP_ID_TPH: {
		uint32_t d = rd32(c, pos + PCI_TPH_CAP);

		if ((d & PCI_TPH_CAP_LOC_MASK) == PCI_TPH_LOC_CAP)
			return PCI_TPH_BASE_SIZEOF + (int)IOMMU_FIELD_GET(PCI_TPH_CAP_ST_MASK, d) * 2 + 2;
		return PCI_TPH_BASE_SIZEOF;
	}
	case PCI_EXT_CAP_ID_DVSEC:
		return (int)PCI_DVSEC_HEADER1_LEN(rd32(c, pos + PCI_DVSEC_HEADER1));
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Permissions                                                          */

static void perms_basic(struct vfio_pci_state *st)
{
	for (size_t i = 0; i < PCI_STD_HEADER_SIZEOF; i++) {
		st->rd[i] = VFIO_READ_DEFAULT;
		st->virt[i] = 0;
		st->wr[i] = 0;
	}
	p_set(st, PCI_VENDOR_ID, 2, 0xffff, 0);
	p_set(st, PCI_DEVICE_ID, 2, 0xffff, 0);
	p_set(st, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE, 0xffff);
	p_set(st, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	p_set(st, PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
	p_set(st, PCI_LATENCY_TIMER, 1, 0, 0xff);
	p_set(st, PCI_BIST, 1, 0, 0xff);
	for (unsigned b = PCI_BASE_ADDRESS_0; b <= PCI_BASE_ADDRESS_5; b += 4)
		p_set(st, b, 4, 0xffffffff, 0xffffffff);
	p_set(st, PCI_ROM_ADDRESS, 4, 0xffffffff, 0xffffffff);
	p_set(st, PCI_CAPABILITY_LIST, 1, 0xff, 0);
	p_set(st, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
	p_set(st, PCI_INTERRUPT_PIN, 1, 0xff, 0);
}

/* A capability's bytes: direct read (header from vconfig) or the
 * default read with its permission table, as the kernel's cap_perms. */
static void perms_cap(struct vfio_pci_state *st, uint8_t cap, uint16_t pos, int len)
{
	bool table = cap == PCI_CAP_ID_PM || cap == PCI_CAP_ID_VPD || cap == PCI_CAP_ID_PCIX ||
		     cap == PCI_CAP_ID_EXP || cap == PCI_CAP_ID_AF || cap == PCI_CAP_ID_MSI;

	for (int i = 0; i < len; i++) {
		st->rd[pos + i] = VFIO_READ_DEFAULT;
		st->virt[pos + i] = 0;
		st->wr[pos + i] = cap == PCI_CAP_ID_VNDR ? 0xff : 0;
	}
	if (!table) {
		/* vfio_direct_config_read: id and next from vconfig */
		st->virt[pos] = 0xff;
		st->virt[pos + 1] = 0xff;
		return;
	}
	/* every table virtualises the next pointer */
	p_set(st, pos + PCI_CAP_LIST_NEXT, 1, 0xff, 0);
	switch (cap) {
	case PCI_CAP_ID_PM:
		p_set(st, pos + PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK, 0);
		p_set(st, pos + PCI_PM_CTRL, 4, PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
		      ~(uint32_t)(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_STATE_MASK));
		break;
	case PCI_CAP_ID_VPD:
		p_set(st, pos + PCI_VPD_ADDR, 2, 0xffff, 0xffff);
		p_set(st, pos + PCI_VPD_DATA, 4, 0xffffffff, 0xffffffff);
		break;
	case PCI_CAP_ID_PCIX:
		p_set(st, pos + PCI_X_CMD, 2, 0, 0xffff);
		if (len > PCI_X_ECC_CSR)
			p_set(st, pos + PCI_X_ECC_CSR, 4, 0, 0xffffffff);
		break;
	case PCI_CAP_ID_EXP:
		p_set(st, pos + PCI_EXP_DEVCTL, 2,
		      PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ,
		      (uint16_t)~PCI_EXP_DEVCTL_PHANTOM);
		if (len > PCI_EXP_DEVCTL2)
			p_set(st, pos + PCI_EXP_DEVCTL2, 2, 0, (uint16_t)~PCI_EXP_DEVCTL2_ARI);
		break;
	case PCI_CAP_ID_AF:
		p_set(st, pos + PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR, PCI_AF_CTRL_FLR);
		break;
	case PCI_CAP_ID_MSI: {
		uint16_t flags = st->msi_flags;

		p_set(st, pos + PCI_MSI_FLAGS, 1, 0xff, 0xff);
		p_set(st, pos + PCI_MSI_ADDRESS_LO, 4, 0xffffffff, 0xffffffff);
		if (flags & PCI_MSI_FLAGS_64BIT) {
			p_set(st, pos + PCI_MSI_ADDRESS_HI, 4, 0xffffffff, 0xffffffff);
			p_set(st, pos + PCI_MSI_DATA_64, 2, 0xffff, 0xffff);
			if (flags & PCI_MSI_FLAGS_MASKBIT) {
				p_set(st, pos + PCI_MSI_MASK_64, 4, 0, 0xffffffff);
				p_set(st, pos + PCI_MSI_PENDING_64, 4, 0, 0xffffffff);
			}
		} else {
			p_set(st, pos + PCI_MSI_DATA_32, 2, 0xffff, 0xffff);
			if (flags & PCI_MSI_FLAGS_MASKBIT) {
				p_set(st, pos + PCI_MSI_MASK_32, 4, 0, 0xffffffff);
				p_set(st, pos + PCI_MSI_PENDING_32, 4, 0, 0xffffffff);
			}
		}
		break;
	}
	}
}

static void perms_ext_cap(struct vfio_pci_state *st, uint16_t ecap, uint16_t pos, int len,
			  bool hidden)
{
	for (int i = 0; i < len && pos + i < (int)st->cfg_size; i++) {
		st->rd[pos + i] = VFIO_READ_DEFAULT;
		st->virt[pos + i] = 0;
		st->wr[pos + i] = !hidden && (ecap == PCI_EXT_CAP_ID_VNDR || ecap == PCI_EXT_CAP_ID_DVSEC)
					  ? 0xff : 0;
	}
	/* The first dword (id, version, next) always reads from vconfig. */
	p_set(st, pos, 4, 0xffffffff, 0);
	if (hidden)
		return;
	if (ecap == PCI_EXT_CAP_ID_ERR) {
		uint32_t unc = PCI_ERR_UNC_UND | PCI_ERR_UNC_DLP | PCI_ERR_UNC_SURPDN |
			       PCI_ERR_UNC_POISON_TLP | PCI_ERR_UNC_FCP | PCI_ERR_UNC_COMP_TIME |
			       PCI_ERR_UNC_COMP_ABORT | PCI_ERR_UNC_UNX_COMP | PCI_ERR_UNC_RX_OVER |
			       PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_ECRC | PCI_ERR_UNC_UNSUP |
			       PCI_ERR_UNC_ACSV | PCI_ERR_UNC_INTN | PCI_ERR_UNC_MCBTLP |
			       PCI_ERR_UNC_ATOMEG | PCI_ERR_UNC_TLPPRE;
		uint32_t cor = PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP | PCI_ERR_COR_BAD_DLLP |
			       PCI_ERR_COR_REP_ROLL | PCI_ERR_COR_REP_TIMER | PCI_ERR_COR_ADV_NFAT |
			       PCI_ERR_COR_INTERNAL | PCI_ERR_COR_LOG_OVER;

		p_set(st, pos + PCI_ERR_UNCOR_STATUS, 4, 0, unc);
		p_set(st, pos + PCI_ERR_UNCOR_MASK, 4, 0, unc);
		p_set(st, pos + PCI_ERR_UNCOR_SEVER, 4, 0, unc);
		p_set(st, pos + PCI_ERR_COR_STATUS, 4, 0, cor);
		p_set(st, pos + PCI_ERR_COR_MASK, 4, 0, cor);
		p_set(st, pos + PCI_ERR_CAP, 4, 0, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
	} else if (ecap == PCI_EXT_CAP_ID_PWR) {
		p_set(st, pos + PCI_PWR_DATA, 1, 0, 0xff);
	}
}

/* ------------------------------------------------------------------ */
/* Init                                                                 */

/* vfio_cap_init */
static void cap_init(struct vfio_pci_state *st)
{
	uint8_t *prev = &st->vconfig[PCI_CAPABILITY_LIST];
	uint8_t pos;
	int loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / PCI_CAP_SIZEOF, caps = 0;

	if (!(rd16(st->phys, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	pos = rd8(st->phys, PCI_CAPABILITY_LIST);
	while (pos && loops--) {
		uint8_t cap = rd8(st->phys, pos), next = rd8(st->phys, pos + PCI_CAP_LIST_NEXT);
		int len = 0;

		/* ID 0 is a NULL capability: hidden. */
		if (cap && cap <= PCI_CAP_ID_MAX) {
			len = cap_length[cap];
			if (len == 0xff)
				len = cap_len(st, cap, pos);
		}
		if (pos + len > PCI_CFG_SPACE_SIZE)
			len = PCI_CFG_SPACE_SIZE - pos;
		if (!len) {
			*prev = next;
			pos = next;
			continue;
		}
		memset(st->map + pos, cap, (size_t)len);
		memcpy(st->vconfig + pos, st->phys + pos, (size_t)len);
		if (cap == PCI_CAP_ID_PM) {
			/* vfio_update_pm_vconfig_bytes */
			wr16(st->vconfig, pos + PCI_PM_PMC,
			     rd16(st->vconfig, pos + PCI_PM_PMC) & (uint16_t)~PCI_PM_CAP_PME_MASK);
			wr16(st->vconfig, pos + PCI_PM_CTRL,
			     rd16(st->vconfig, pos + PCI_PM_CTRL) &
			     (uint16_t)~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS));
			st->pm_pos = pos;
		}
		if (cap == PCI_CAP_ID_MSI) {
			st->msi_pos = pos;
			st->msi_flags = rd16(st->phys, pos + PCI_MSI_FLAGS);
		}
		if (cap == PCI_CAP_ID_MSIX)
			st->msix_pos = pos;
		if (cap == PCI_CAP_ID_EXP)
			st->exp_pos = pos;
		if (cap == PCI_CAP_ID_AF)
			st->af_pos = pos;
		perms_cap(st, cap, pos, len);
		prev = &st->vconfig[pos + PCI_CAP_LIST_NEXT];
		pos = next;
		caps++;
	}
	/* If we didn't fill any capabilities, clear the status flag */
	if (!caps)
		wr16(st->vconfig, PCI_STATUS, rd16(st->vconfig, PCI_STATUS) & (uint16_t)~PCI_STATUS_CAP_LIST);
}

/* vfio_ecap_init */
static void ecap_init(struct vfio_pci_state *st)
{
	uint16_t epos = PCI_CFG_SPACE_SIZE;
	uint8_t *prev = NULL;
	int loops, ecaps = 0;

	if (!st->extended_caps)
		return;
	loops = (int)(st->cfg_size - PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
	while (loops-- && epos >= PCI_CFG_SPACE_SIZE && epos + 4u <= st->cfg_size) {
		uint32_t header = rd32(st->phys, epos);
		uint16_t ecap = (uint16_t)PCI_EXT_CAP_ID(header);
		bool hidden = false;
		int len = 0;

		if (ecap <= PCI_EXT_CAP_ID_MAX) {
			len = ext_cap_length[ecap];
			if (len == 0xff)
				len = ext_cap_len(st->phys, ecap, epos);
		}
		if (!len) {
			/* If not the first in the chain, we can skip over it */
			if (prev) {
				uint32_t p = rd32(prev, 0);

				epos = (uint16_t)PCI_EXT_CAP_NEXT(header);
				p &= ~(0xffcU << 20);
				p |= (uint32_t)epos << 20;
				wr32(prev, 0, p);
				continue;
			}
			/* Otherwise a placeholder the reads virtualise. */
			len = PCI_CAP_SIZEOF;
			hidden = true;
		}
		if (epos + len > (int)st->cfg_size)
			len = (int)st->cfg_size - epos;
		memset(st->map + epos, ecap > 0xfe ? 0xfe : ecap, (size_t)len);
		memcpy(st->vconfig + epos, st->phys + epos, (size_t)len);
		perms_ext_cap(st, ecap, epos, len, hidden);
		if (hidden)
			wr32(st->vconfig, epos, rd32(st->vconfig, epos) & (0xffcU << 20));
		else
			ecaps++;
		prev = &st->vconfig[epos];
		epos = (uint16_t)PCI_EXT_CAP_NEXT(header);
	}
	if (!ecaps)
		wr32(st->vconfig, PCI_CFG_SPACE_SIZE, 0);
}

/* vfio_pci_nointx: devices whose INTx masking is broken. */
static bool nointx_quirk(const struct iommu_pci_dev *pdev)
{
	uint16_t d = pdev->device;

	if (pdev->vendor != 0x8086)
		return false;
	return d == 0x1572 || d == 0x1574 || (d >= 0x1580 && d <= 0x1581) ||
	       (d >= 0x1583 && d <= 0x158b) || (d >= 0x37d0 && d <= 0x37d2) || d == 0x1563;
}

int vfio_config_init(struct vfio_device *vdev, struct vfio_pci_state *st)
{
	const struct iommu_pci_dev *pdev = vdev->pdev;
	uint16_t cmd;

	st->cfg_size = iommu_pci_is_pcie(pdev) && pdev->config_size > PCI_CFG_SPACE_SIZE
			       ? VFIO_CFG_MAX : PCI_CFG_SPACE_SIZE;
	memset(st->phys, 0xff, sizeof(st->phys));
	memcpy(st->phys, pdev->config,
	       pdev->config_size < st->cfg_size ? pdev->config_size : st->cfg_size);

	/* vfio_pci_core_enable: D0, bus mastering off, decoding on. */
	st->power_state = 0;
	if (pdev->config_size >= PCI_STD_HEADER_SIZEOF) {
		uint16_t pm = iommu_pci_find_cap(pdev, PCI_CAP_ID_PM);

		if (pm)
			wr16(st->phys, pm + PCI_PM_CTRL,
			     rd16(st->phys, pm + PCI_PM_CTRL) & (uint16_t)~PCI_PM_CTRL_STATE_MASK);
	}
	cmd = rd16(st->phys, PCI_COMMAND);
	cmd &= (uint16_t)~PCI_COMMAND_MASTER;
	for (int b = 0; b < 6; b++) {
		if (!st->bar[b].len)
			continue;
		cmd |= (st->bar[b].flags & IORESOURCE_IO) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	st->nointx = nointx_quirk(pdev);
	st->pci_2_3 = !st->nointx;
	if (st->nointx)
		cmd |= PCI_COMMAND_INTX_DISABLE;        /* pci_intx(pdev, 0) */
	else if (cmd & PCI_COMMAND_INTX_DISABLE)
		cmd &= (uint16_t)~PCI_COMMAND_INTX_DISABLE;
	wr16(st->phys, PCI_COMMAND, cmd);

	/* vfio_config_init */
	memset(st->map, CAP_ID_INVALID, sizeof(st->map));
	memset(st->map, CAP_ID_BASIC, PCI_STD_HEADER_SIZEOF);
	memset(st->rd, VFIO_READ_RAW, sizeof(st->rd));
	memset(st->virt, 0, sizeof(st->virt));
	memset(st->wr, 0xff, sizeof(st->wr));   /* unassigned: raw writes */
	memcpy(st->vconfig, st->phys, sizeof(st->vconfig));
	perms_basic(st);
	st->bardirty = true;
	if (pdev->is_virtfn) {
		wr16(st->vconfig, PCI_VENDOR_ID, pdev->vendor);
		wr16(st->vconfig, PCI_DEVICE_ID, pdev->device);
		if (st->vconfig[PCI_INTERRUPT_PIN] && !(pdev->vendor == 0x8086 && pdev->device == 0x270c))
			uapi_dev_log(vdev->u, pdev, "vfio-pci", "Hardware bug: VF reports bogus INTx pin %d",
				     st->vconfig[PCI_INTERRUPT_PIN]);
		st->vconfig[PCI_INTERRUPT_PIN] = 0;
		/* no_command_memory: the virtual memory enable */
		wr16(st->vconfig, PCI_COMMAND, rd16(st->vconfig, PCI_COMMAND) | PCI_COMMAND_MEMORY);
	}
	if (st->nointx || pdev->irq == INT_MIN)
		st->vconfig[PCI_INTERRUPT_PIN] = 0;
	cap_init(st);
	ecap_init(st);
	st->virq_disabled = false;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Access                                                               */

static bool is_bar(size_t off)
{
	return (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_5 + 4) ||
	       (off >= PCI_ROM_ADDRESS && off < PCI_ROM_ADDRESS + 4);
}

/* vfio_bar_fixup: the virtual BARs report the resources' sizes. */
static void bar_fixup(struct vfio_pci_state *st)
{
	if (!st->bardirty)
		return;
	for (int i = 0; i < 6; i++) {
		size_t off = PCI_BASE_ADDRESS_0 + 4 * (size_t)i;
		uint32_t v = rd32(st->vconfig, off), flags;
		uint64_t mask;

		if (!st->bar[i].start) {
			wr32(st->vconfig, off, 0);      /* unmapped by host = unimplemented to user */
			continue;
		}
		mask = ~(st->bar[i].len - 1);
		if (st->bar[i].flags & IORESOURCE_IO) {
			flags = PCI_BASE_ADDRESS_SPACE_IO;
		} else {
			flags = PCI_BASE_ADDRESS_SPACE_MEMORY;
			if (st->bar[i].flags & IORESOURCE_PREFETCH)
				flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
			if (st->bar[i].flags & IORESOURCE_MEM_64)
				flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		}
		v = (v & (uint32_t)mask) | flags;
		wr32(st->vconfig, off, v);
		if ((v & PCI_BASE_ADDRESS_MEM_TYPE_64) && !(flags & PCI_BASE_ADDRESS_SPACE_IO) && i < 5) {
			i++;
			off += 4;
			wr32(st->vconfig, off, rd32(st->vconfig, off) & (uint32_t)(mask >> 32));
		}
	}
	if (st->bar[6].start) {
		uint64_t mask = ~(st->bar[6].len - 1) | PCI_ROM_ADDRESS_ENABLE;

		wr32(st->vconfig, PCI_ROM_ADDRESS, rd32(st->vconfig, PCI_ROM_ADDRESS) & (uint32_t)mask);
	} else {
		wr32(st->vconfig, PCI_ROM_ADDRESS, 0);
	}
	st->bardirty = false;
}

static uint8_t read_byte(struct vfio_pci_state *st, size_t off)
{
	if (st->rd[off] == VFIO_READ_RAW)
		return st->phys[off];
	return (uint8_t)((st->phys[off] & ~st->virt[off]) | (st->vconfig[off] & st->virt[off]));
}

/* Reset through FLR (PCIe or AF): the device's registers go back to
 * their post-enable state in this model (nothing to restore here). */
static void flr(struct vfio_device *vdev)
{
	(void)vdev;
}

static void after_write(struct vfio_device *vdev, struct vfio_pci_state *st, size_t pos,
			size_t count, const uint8_t *val)
{
	size_t end = pos + count;

	/* basic header */
	if (pos < PCI_COMMAND + 2 && end > PCI_COMMAND) {
		uint16_t v = rd16(st->vconfig, PCI_COMMAND);
		uint16_t mask = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
		bool intx_disable;

		/* Save current memory/io enable bits in vconfig. */
		if (pos <= PCI_COMMAND && end >= PCI_COMMAND + 1) {
			uint16_t newc = val[PCI_COMMAND - pos];

			if (end >= PCI_COMMAND + 2)
				newc |= (uint16_t)(val[PCI_COMMAND + 1 - pos] << 8);
			v = (uint16_t)((v & ~mask) | (newc & mask));
			wr16(st->vconfig, PCI_COMMAND, v);
		}
		intx_disable = v & PCI_COMMAND_INTX_DISABLE;
		if (intx_disable && !st->virq_disabled) {
			st->virq_disabled = true;
			if (st->irq_type == VFIO_PCI_INTX_IRQ_INDEX)
				st->intx_masked = true;
		} else if (!intx_disable && st->virq_disabled) {
			st->virq_disabled = false;
		}
	}
	for (size_t o = pos; o < end; o++)
		if (is_bar(o))
			st->bardirty = true;
	/* power management: the state goes to the device */
	if (st->pm_pos && pos < (size_t)st->pm_pos + PCI_PM_CTRL + 1 && end > (size_t)st->pm_pos + PCI_PM_CTRL) {
		uint16_t ctrl = rd16(st->phys, st->pm_pos + PCI_PM_CTRL);
		int state = val[st->pm_pos + PCI_PM_CTRL - pos] & PCI_PM_CTRL_STATE_MASK;

		st->power_state = state;
		wr16(st->phys, st->pm_pos + PCI_PM_CTRL,
		     (uint16_t)((ctrl & ~PCI_PM_CTRL_STATE_MASK) | (uint16_t)state));
	}
	/* PCI Express device control: FLR, read request size */
	if (st->exp_pos && pos < (size_t)st->exp_pos + PCI_EXP_DEVCTL + 2 &&
	    end > (size_t)st->exp_pos + PCI_EXP_DEVCTL) {
		size_t o = st->exp_pos + PCI_EXP_DEVCTL;
		uint16_t ctrl = rd16(st->vconfig, o), pctrl;
		uint32_t readrq, mps;

		if (ctrl & PCI_EXP_DEVCTL_BCR_FLR) {
			wr16(st->vconfig, o, ctrl & (uint16_t)~PCI_EXP_DEVCTL_BCR_FLR);
			if (rd32(st->phys, st->exp_pos + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR)
				flr(vdev);
			ctrl = rd16(st->vconfig, o);
		}
		/* pcie_set_readrq with the floor at the device's MPS */
		pctrl = rd16(st->phys, o);
		readrq = 128u << IOMMU_FIELD_GET(PCI_EXP_DEVCTL_READRQ, ctrl);
		mps = 128u << IOMMU_FIELD_GET(PCI_EXP_DEVCTL_PAYLOAD, pctrl);
		if (readrq < mps)
			readrq = mps;
		pctrl = (uint16_t)((pctrl & ~PCI_EXP_DEVCTL_READRQ) |
				   IOMMU_FIELD_PREP(PCI_EXP_DEVCTL_READRQ, __builtin_ctz(readrq) - 7));
		wr16(st->phys, o, pctrl);
	}
	/* Advanced features: FLR */
	if (st->af_pos && pos <= (size_t)st->af_pos + PCI_AF_CTRL && end > (size_t)st->af_pos + PCI_AF_CTRL) {
		size_t o = st->af_pos + PCI_AF_CTRL;

		if (st->vconfig[o] & PCI_AF_CTRL_FLR) {
			uint8_t cap = st->phys[st->af_pos + PCI_AF_CAP];

			st->vconfig[o] &= (uint8_t)~PCI_AF_CTRL_FLR;
			if ((cap & PCI_AF_CAP_FLR) && (cap & PCI_AF_CAP_TP))
				flr(vdev);
		}
	}
	/* MSI: enable only through SET_IRQS, queue size at most msi_qmax */
	if (st->msi_pos && pos <= (size_t)st->msi_pos + PCI_MSI_FLAGS &&
	    end > (size_t)st->msi_pos + PCI_MSI_FLAGS) {
		size_t o = st->msi_pos + PCI_MSI_FLAGS;
		uint16_t flags = rd16(st->vconfig, o);

		if (st->irq_type != VFIO_PCI_MSI_IRQ_INDEX)
			flags &= (uint16_t)~PCI_MSI_FLAGS_ENABLE;
		if (IOMMU_FIELD_GET(PCI_MSI_FLAGS_QSIZE, flags) > (unsigned)st->msi_qmax)
			flags = (uint16_t)((flags & ~PCI_MSI_FLAGS_QSIZE) |
					   IOMMU_FIELD_PREP(PCI_MSI_FLAGS_QSIZE, st->msi_qmax));
		wr16(st->vconfig, o, flags);
		wr16(st->phys, o, flags);
	}
}

ssize_t vfio_config_rw(struct vfio_device *vdev, void *buf, size_t count, uint64_t pos,
		       bool write)
{
	struct vfio_pci_state *st = vdev->pci;
	uint8_t *b = buf;

	pos &= ((uint64_t)1 << VFIO_PCI_OFFSET_SHIFT) - 1;
	if (pos >= st->cfg_size || count > st->cfg_size - pos)
		return -EFAULT;
	if (!write) {
		for (size_t i = 0; i < count; i++)
			if (is_bar(pos + i))
				bar_fixup(st);
		for (size_t i = 0; i < count; i++)
			b[i] = read_byte(st, pos + i);
		/* Mask in virtual memory enable (no_command_memory) */
		if (vdev->pdev->is_virtfn && pos <= PCI_COMMAND && pos + count > PCI_COMMAND)
			b[PCI_COMMAND - pos] |= st->vconfig[PCI_COMMAND] & PCI_COMMAND_MEMORY;
		return (ssize_t)count;
	}
	for (size_t i = 0; i < count; i++) {
		size_t o = pos + i;
		uint8_t w = st->wr[o], v = st->virt[o];

		if (st->rd[o] == VFIO_READ_RAW) {
			st->phys[o] = b[i];
			continue;
		}
		if (!w)
			continue;       /* drop, no writable bits */
		if (w & v)
			st->vconfig[o] = (uint8_t)((st->vconfig[o] & ~(w & v)) | (b[i] & w & v));
		if (w & ~v)
			st->phys[o] = (uint8_t)((st->phys[o] & ~(w & ~v)) | (b[i] & w & ~v));
	}
	after_write(vdev, st, (size_t)pos, count, b);
	return (ssize_t)count;
}
