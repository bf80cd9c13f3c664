// SPDX-License-Identifier: MIT
/*
 * PCI quirks that change IOMMU grouping, as facts of the Linux kernel.
 *
 * Where the facts come from: drivers/pci/quirks.c and include/linux/pci_ids.h
 * of Linux 6.1.166 (unifreq/linux-6.1.y @525d1212a677aa9e9a030d9478ca66e87a828527, 6.1.166),
 * compared with 6.12.15 (unifreq/linux-6.12.y @b7b5852e82a47c2de1ca02add189cd61b70213e5) and
 * stable-review mails of the rows that 6.1.y gained later than 6.12.15.
 * This file restates those facts in its own structure: a table of
 * {vendor, device, hook, since} rows and one C function per hook that
 * reads the decoded configuration space the way the kernel reads the
 * device.
 *
 * 6.1 against 6.12.  Both stable lines carry the same table once their
 * late releases are compared: the rows that 6.12.15 lacks (Loongson root
 * ports, mainline 6.16; Qualcomm Hamoa and Glymur root ports, mainline 7.0)
 * reached 6.1.y and 6.12.y alike as stable backports.  The hooks are the
 * same code in both.  So every row has since = 0 ("every modelled kernel")
 * and the kernel_minor argument changes nothing today; it is there for
 * rows a future kernel adds.  The one known ordering hazard is outside this
 * table: 6.1.16x had "PCI: Enable ACS after configuring IOMMU for OF
 * platforms" (ACS enabled only when a driver binds, after the groups
 * form), reverted in 6.1.169; the model follows the reverted, usual
 * order (ACS and the Intel PCH quirk are enabled when the device is added).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/quirks.h"

/* PCI_ANY_ID as the table compares it (a u16). */
#define ANY 0xffffu

/* Offsets inside the ACS extended capability. */
#define ACS_CAP_REG 4
#define ACS_CTRL_REG 6
/* Sunrise Point and later PCH root ports: capability and control are dwords, control at +8. */
#define SPT_ACS_CTRL_REG 8

/* The four flags the hardware-isolated ports and endpoints stand for. */
#define ACS_ISOLATED (IOMMU_ACS_SV | IOMMU_ACS_RR | IOMMU_ACS_CR | IOMMU_ACS_UF)

/* ------------------------------------------------------------------ */
/* Helpers mirroring the kernel's accessors                            */

/* pci_pcie_type(): the type field of the PCIe flags, 0 (endpoint) without a PCIe capability. */
static int kernel_pcie_type(const struct iommu_pci_dev *dev)
{
	if (!dev->pcie_pos)
		return 0;
	return (dev->pcie_flags >> 4) & 0xf;
}

static bool is_root_port(const struct iommu_pci_dev *dev)
{
	return iommu_pci_is_pcie(dev) && kernel_pcie_type(dev) == IOMMU_PCIE_ROOT_PORT;
}

/* pci_is_root_bus(); a device that has no bus in the model counts as on a root bus. */
static bool on_root_bus(const struct iommu_pci_dev *dev)
{
	return !dev->bus || !dev->bus->parent;
}

/*
 * pdev->multifunction as pci_scan_slot leaves it: the header bit, and set
 * for every function other than 0 (those are only scanned when function 0
 * says multifunction).  SR-IOV VFs would be 0, but no VF reaches a hook
 * that looks at this (only the AMD southbridge one does).
 */
static bool kernel_multifunction(const struct iommu_pci_dev *dev)
{
	return dev->multifunction || IOMMU_PCI_FUNC(dev->addr.devfn) != 0;
}

/* pci_acs_ctrl_enabled(): every requested control is among those provided. */
static int acs_provides(uint16_t requested, uint16_t provided)
{
	return (requested & provided) == requested ? 1 : 0;
}

static const struct iommu_pci_dev *bus_function(const struct iommu_pci_bus *bus, uint8_t devfn)
{
	if (!bus)
		return NULL;
	for (size_t i = 0; i < bus->n_devices; i++)
		if (bus->devices[i] && bus->devices[i]->addr.devfn == devfn)
			return bus->devices[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The hooks                                                           */

/*
 * AMD/ATI southbridge functions (SMBus, IDE, HDA, LPC, PCI bridge, OHCI, FCH):
 * they do no peer-to-peer when an AMD IOMMU is present, so they stand for
 * RR and CR.  Only multifunction functions on a root bus, and only when the
 * ACPI IVRS table exists; otherwise -ENODEV, which the scan treats like
 * -ENOTTY (keep looking).  Kernels built without ACPI always give -ENODEV.
 */
static int hook_amd_sb(const struct iommu_pci_dev *dev, uint16_t flags, bool amd_ivrs)
{
	if (!kernel_multifunction(dev) || !on_root_bus(dev))
		return -ENODEV;
	if (!amd_ivrs)
		return -ENODEV;
	flags &= IOMMU_ACS_RR | IOMMU_ACS_CR | IOMMU_ACS_EC | IOMMU_ACS_DT;
	return acs_provides(flags, IOMMU_ACS_RR | IOMMU_ACS_CR);
}

/*
 * Multifunction endpoints whose vendor vouches that functions never talk to
 * each other: SV, TB, RR, CR, UF and DT count as provided (EC does not).
 * No check of the device type.
 */
static int hook_mf_endpoint(const struct iommu_pci_dev *dev, uint16_t flags)
{
	(void)dev;
	return acs_provides(flags, IOMMU_ACS_SV | IOMMU_ACS_TB | IOMMU_ACS_RR |
			    IOMMU_ACS_CR | IOMMU_ACS_UF | IOMMU_ACS_DT);
}

/* Any Intel root-complex integrated endpoint (VT-d requires translated-only p2p). */
static int hook_rciep(const struct iommu_pci_dev *dev, uint16_t flags)
{
	if (kernel_pcie_type(dev) != IOMMU_PCIE_RC_END)
		return -ENOTTY;
	return acs_provides(flags, ACS_ISOLATED);
}

/*
 * Root ports that are isolated by design, with no further test on the
 * device: Qualcomm QDF2xxx/SA8775P/Hamoa/Glymur and HXT SD4800, NXP LX2xx0,
 * APM X-Gene and Ampere, Broadcom iProc PAXB, Loongson.  The kernel has one
 * function per vendor; they compute the same thing.
 */
static int hook_isolated_port(const struct iommu_pci_dev *dev, uint16_t flags)
{
	(void)dev;
	return acs_provides(flags, ACS_ISOLATED);
}

/* Cavium ThunderX1 (0xa000-0xa7ff), ThunderX2 (0xaf84), ThunderX3 (0xb884) root ports. */
static int hook_cavium(const struct iommu_pci_dev *dev, uint16_t flags)
{
	if (!is_root_port(dev))
		return -ENOTTY;
	if (!((dev->device >= 0xa000 && dev->device <= 0xa7ff) ||
	      dev->device == 0xaf84 || dev->device == 0xb884))
		return -ENOTTY;
	return acs_provides(flags, ACS_ISOLATED);
}

/*
 * Zhaoxin root and switch downstream ports.  Listed device ids stand for
 * SV|RR|CR|UF.  Any other Zhaoxin root or downstream port gets 0 ("not
 * enabled") and that decides: the kernel's hook returns false there, so
 * the scan stops and the port's own ACS capability is never looked at.
 */
static int hook_zhaoxin_ports(const struct iommu_pci_dev *dev, uint16_t flags)
{
	int type = kernel_pcie_type(dev);
	uint16_t id = dev->device;

	if (!iommu_pci_is_pcie(dev) ||
	    (type != IOMMU_PCIE_ROOT_PORT && type != IOMMU_PCIE_DOWNSTREAM))
		return -ENOTTY;
	if ((id >= 0x0710 && id <= 0x071e) || id == 0x0721 || (id >= 0x0723 && id <= 0x0752))
		return acs_provides(flags, ACS_ISOLATED);
	return 0;
}

/*
 * Intel PCH root ports without an ACS capability whose isolation the
 * kernel turns on by hand (Red Hat bugzilla 1037684): 5 series (Ibex Peak),
 * 6 (Cougar Point), 7 (Panther Point), 8 (Lynx Point H and LP), Wildcat
 * Point LP, X79 (Patsburg), X99 (Wellsburg), 9 series.
 */
static const uint16_t intel_pch_root_ports[] = {
	/* Ibex Peak */
	0x3b42, 0x3b43, 0x3b44, 0x3b45, 0x3b46, 0x3b47, 0x3b48, 0x3b49,
	0x3b4a, 0x3b4b, 0x3b4c, 0x3b4d, 0x3b4e, 0x3b4f, 0x3b50, 0x3b51,
	/* Cougar Point */
	0x1c10, 0x1c11, 0x1c12, 0x1c13, 0x1c14, 0x1c15, 0x1c16, 0x1c17,
	0x1c18, 0x1c19, 0x1c1a, 0x1c1b, 0x1c1c, 0x1c1d, 0x1c1e, 0x1c1f,
	/* Panther Point */
	0x1e10, 0x1e11, 0x1e12, 0x1e13, 0x1e14, 0x1e15, 0x1e16, 0x1e17,
	0x1e18, 0x1e19, 0x1e1a, 0x1e1b, 0x1e1c, 0x1e1d, 0x1e1e, 0x1e1f,
	/* Lynx Point-H */
	0x8c10, 0x8c11, 0x8c12, 0x8c13, 0x8c14, 0x8c15, 0x8c16, 0x8c17,
	0x8c18, 0x8c19, 0x8c1a, 0x8c1b, 0x8c1c, 0x8c1d, 0x8c1e, 0x8c1f,
	/* Lynx Point-LP */
	0x9c10, 0x9c11, 0x9c12, 0x9c13, 0x9c14, 0x9c15, 0x9c16, 0x9c17,
	0x9c18, 0x9c19, 0x9c1a, 0x9c1b,
	/* Wildcat Point-LP */
	0x9c90, 0x9c91, 0x9c92, 0x9c93, 0x9c94, 0x9c95, 0x9c96, 0x9c97,
	0x9c98, 0x9c99, 0x9c9a, 0x9c9b,
	/* Patsburg (X79): even ids only */
	0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e,
	/* Wellsburg (X99) */
	0x8d10, 0x8d11, 0x8d12, 0x8d13, 0x8d14, 0x8d15, 0x8d16, 0x8d17,
	0x8d18, 0x8d19, 0x8d1a, 0x8d1b, 0x8d1c, 0x8d1d, 0x8d1e,
	/* 9 series: even ids only */
	0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e,
};

static bool intel_pch_match(const struct iommu_pci_dev *dev)
{
	if (!is_root_port(dev))
		return false;
	for (size_t i = 0; i < sizeof(intel_pch_root_ports) / sizeof(intel_pch_root_ports[0]); i++)
		if (intel_pch_root_ports[i] == dev->device)
			return true;
	return false;
}

/* LPC bridge register holding the Root Complex Base Address; bit 0 enables it. */
#define INTEL_LPC_RCBA 0xf0

/*
 * Did pci_quirk_enable_intel_pch_acs set PCI_DEV_FLAGS_ACS_ENABLED_QUIRK?
 * It runs when the root port is added, ACS having been requested by the
 * IOMMU driver's early detection.  It reads RCBA from function 31.0 on the
 * root port's bus and gives up (no flag) when the enable bit is clear.
 * Otherwise it maps the RCBA window and sets the flag whatever it finds
 * there (it only clears peer decodes), so the flag follows that one bit.
 * A missing function reads as all ones, enable bit included; so does a
 * register beyond the config bytes the platform holds.  A failed ioremap
 * (which would also leave the flag clear) is not modelled.
 */
static bool intel_pch_quirk_enabled(const struct iommu_pci_dev *dev)
{
	const struct iommu_pci_dev *lpc = bus_function(dev->bus, IOMMU_PCI_DEVFN(31, 0));
	uint32_t rcba = lpc ? iommu_pci_read32(lpc, INTEL_LPC_RCBA) : 0xffffffffu;

	return (rcba & 1) != 0;
}

static int hook_intel_pch(const struct iommu_pci_dev *dev, uint16_t flags)
{
	if (!intel_pch_match(dev))
		return -ENOTTY;
	if (intel_pch_quirk_enabled(dev))
		return acs_provides(flags, ACS_ISOLATED);
	/* The workaround is off: only an empty request is satisfied, and that decides. */
	return acs_provides(flags, 0);
}

/*
 * Sunrise Point (100 series), Union Point (200 series) and 7th/8th gen
 * mobile PCH root ports: an ACS capability whose capability and control
 * registers are dwords, control at +8 instead of the word at +6.
 */
static bool intel_spt_match(const struct iommu_pci_dev *dev)
{
	uint16_t id = dev->device;

	if (!is_root_port(dev))
		return false;
	return (id >= 0xa110 && id <= 0xa11f) || (id >= 0xa167 && id <= 0xa16a) ||
	       (id >= 0xa290 && id <= 0xa29f) || (id >= 0xa2e7 && id <= 0xa2ee) ||
	       (id >= 0x9d10 && id <= 0x9d1b);
}

static int hook_intel_spt_pch(const struct iommu_pci_dev *dev, uint16_t flags)
{
	uint32_t cap, ctrl;

	if (!intel_spt_match(dev) || !dev->acs_pos)
		return -ENOTTY;
	/* pci_acs_flags_enabled's rule, on the dword registers */
	cap = iommu_pci_read32(dev, (size_t)dev->acs_pos + ACS_CAP_REG);
	flags &= (uint16_t)(cap | IOMMU_ACS_EC);
	ctrl = iommu_pci_read32(dev, (size_t)dev->acs_pos + SPT_ACS_CTRL_REG);
	return acs_provides(flags, (uint16_t)ctrl);
}

/* Amazon Annapurna Labs root ports: SV|RR|CR|UF are provided, anything else asked for is not. */
static int hook_annapurna(const struct iommu_pci_dev *dev, uint16_t flags)
{
	if (kernel_pcie_type(dev) != IOMMU_PCIE_ROOT_PORT)
		return -ENOTTY;
	flags &= (uint16_t)~ACS_ISOLATED;
	return flags ? 0 : 1;
}

/*
 * Wangxun NICs: the listed functions (SFxxx 1G 0x0100-0x010f, RP1000/RP2000
 * 0x1001/0x2001, FF5xxx 0x5010/5025/5040/5110/5125/5140) isolate their
 * functions.  Every other Wangxun function gets 0, which decides.
 */
static int hook_wangxun(const struct iommu_pci_dev *dev, uint16_t flags)
{
	switch (dev->device) {
	case 0x1001: case 0x2001:
	case 0x5010: case 0x5025: case 0x5040:
	case 0x5110: case 0x5125: case 0x5140:
		return acs_provides(flags, ACS_ISOLATED);
	default:
		if (dev->device >= 0x0100 && dev->device <= 0x010f)
			return acs_provides(flags, ACS_ISOLATED);
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

enum acs_hook {
	H_AMD_SB,
	H_MF_ENDPOINT,
	H_RCIEP,
	H_QCOM_RP,
	H_INTEL_PCH,
	H_INTEL_SPT_PCH,
	H_CAVIUM,
	H_XGENE,
	H_BRCM,
	H_LOONGSON,
	H_AL,
	H_NXP_RP,
	H_ZHAOXIN_PORTS,
	H_WANGXUN,
};

static const char *const hook_names[] = {
	[H_AMD_SB] = "pci_quirk_amd_sb_acs",
	[H_MF_ENDPOINT] = "pci_quirk_mf_endpoint_acs",
	[H_RCIEP] = "pci_quirk_rciep_acs",
	[H_QCOM_RP] = "pci_quirk_qcom_rp_acs",
	[H_INTEL_PCH] = "pci_quirk_intel_pch_acs",
	[H_INTEL_SPT_PCH] = "pci_quirk_intel_spt_pch_acs",
	[H_CAVIUM] = "pci_quirk_cavium_acs",
	[H_XGENE] = "pci_quirk_xgene_acs",
	[H_BRCM] = "pci_quirk_brcm_acs",
	[H_LOONGSON] = "pci_quirk_loongson_acs",
	[H_AL] = "pci_quirk_al_acs",
	[H_NXP_RP] = "pci_quirk_nxp_rp_acs",
	[H_ZHAOXIN_PORTS] = "pci_quirk_zhaoxin_pcie_ports_acs",
	[H_WANGXUN] = "pci_quirk_wangxun_nic_acs",
};

struct acs_row {
	uint16_t vendor, device;        /* ANY matches every value */
	uint8_t hook;                   /* enum acs_hook */
	uint8_t since;                  /* first 6.x minor with the row; 0: every modelled kernel */
};

#define ROW(v, d, h) { (v), (d), (h), 0 }

/* Vendor ids (include/linux/pci_ids.h). */
#define V_ATI 0x1002
#define V_AMD 0x1022
#define V_SOLARFLARE 0x1924
#define V_INTEL 0x8086
#define V_QCOM 0x17cb
#define V_HXT 0x1dbf
#define V_EMULEX_BE 0x19a2
#define V_EMULEX 0x10df
#define V_CAVIUM 0x177d
#define V_AMCC 0x10e8
#define V_AMPERE 0x1def
#define V_BROADCOM 0x14e4
#define V_LOONGSON 0x0014
#define V_ANNAPURNA 0x1c36
#define V_ZHAOXIN 0x1d17
#define V_NXP 0x1957
#define V_WANGXUN 0x8088

static const struct acs_row acs_table[] = {
	/* AMD/ATI SB7x0..SB9x0 and FCH functions */
	ROW(V_ATI, 0x4385, H_AMD_SB), ROW(V_ATI, 0x439c, H_AMD_SB),
	ROW(V_ATI, 0x4383, H_AMD_SB), ROW(V_ATI, 0x439d, H_AMD_SB),
	ROW(V_ATI, 0x4384, H_AMD_SB), ROW(V_ATI, 0x4399, H_AMD_SB),
	ROW(V_AMD, 0x780f, H_AMD_SB), ROW(V_AMD, 0x7809, H_AMD_SB),
	/* Solarflare NICs */
	ROW(V_SOLARFLARE, 0x0903, H_MF_ENDPOINT), ROW(V_SOLARFLARE, 0x0923, H_MF_ENDPOINT),
	ROW(V_SOLARFLARE, 0x0a03, H_MF_ENDPOINT),
	/* Intel 10GbE (82598/82599/X520/X540 family) */
	ROW(V_INTEL, 0x10c6, H_MF_ENDPOINT), ROW(V_INTEL, 0x10db, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10dd, H_MF_ENDPOINT), ROW(V_INTEL, 0x10e1, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10f1, H_MF_ENDPOINT), ROW(V_INTEL, 0x10f7, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10f8, H_MF_ENDPOINT), ROW(V_INTEL, 0x10f9, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10fa, H_MF_ENDPOINT), ROW(V_INTEL, 0x10fb, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10fc, H_MF_ENDPOINT), ROW(V_INTEL, 0x1507, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1514, H_MF_ENDPOINT), ROW(V_INTEL, 0x151c, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1529, H_MF_ENDPOINT), ROW(V_INTEL, 0x152a, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x154d, H_MF_ENDPOINT), ROW(V_INTEL, 0x154f, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1551, H_MF_ENDPOINT), ROW(V_INTEL, 0x1558, H_MF_ENDPOINT),
	/* Intel 82580 */
	ROW(V_INTEL, 0x1509, H_MF_ENDPOINT), ROW(V_INTEL, 0x150e, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x150f, H_MF_ENDPOINT), ROW(V_INTEL, 0x1510, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1511, H_MF_ENDPOINT), ROW(V_INTEL, 0x1516, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1527, H_MF_ENDPOINT),
	/* Intel 82576 */
	ROW(V_INTEL, 0x10c9, H_MF_ENDPOINT), ROW(V_INTEL, 0x10e6, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10e7, H_MF_ENDPOINT), ROW(V_INTEL, 0x10e8, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x150a, H_MF_ENDPOINT), ROW(V_INTEL, 0x150d, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1518, H_MF_ENDPOINT), ROW(V_INTEL, 0x1526, H_MF_ENDPOINT),
	/* Intel 82575 */
	ROW(V_INTEL, 0x10a7, H_MF_ENDPOINT), ROW(V_INTEL, 0x10a9, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x10d6, H_MF_ENDPOINT),
	/* Intel I350 */
	ROW(V_INTEL, 0x1521, H_MF_ENDPOINT), ROW(V_INTEL, 0x1522, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1523, H_MF_ENDPOINT), ROW(V_INTEL, 0x1524, H_MF_ENDPOINT),
	/* Intel 82571 (not the quad-port parts, which sit behind a switch without ACS) */
	ROW(V_INTEL, 0x105e, H_MF_ENDPOINT), ROW(V_INTEL, 0x105f, H_MF_ENDPOINT),
	ROW(V_INTEL, 0x1060, H_MF_ENDPOINT), ROW(V_INTEL, 0x10d9, H_MF_ENDPOINT),
	/* Intel I219 */
	ROW(V_INTEL, 0x15b7, H_MF_ENDPOINT), ROW(V_INTEL, 0x15b8, H_MF_ENDPOINT),
	/* every Intel root-complex integrated endpoint */
	ROW(V_INTEL, ANY, H_RCIEP),
	/* Qualcomm QDF2xxx, SA8775P, Hamoa, Glymur root ports; HXT SD4800 (same design).
	 * Hamoa (0x0111) and Glymur (0x0120): mainline 7.0, in 6.1.y and 6.12.y by backport. */
	ROW(V_QCOM, 0x0400, H_QCOM_RP), ROW(V_QCOM, 0x0401, H_QCOM_RP),
	ROW(V_QCOM, 0x0115, H_QCOM_RP), ROW(V_QCOM, 0x0111, H_QCOM_RP),
	ROW(V_QCOM, 0x0120, H_QCOM_RP), ROW(V_HXT, 0x0401, H_QCOM_RP),
	/* Intel PCH root ports: the listed older PCHs, then Sunrise Point and later */
	ROW(V_INTEL, ANY, H_INTEL_PCH),
	ROW(V_INTEL, ANY, H_INTEL_SPT_PCH),
	/* Emulex BE3-R and Skyhawk-R */
	ROW(V_EMULEX_BE, 0x0710, H_MF_ENDPOINT), ROW(V_EMULEX, 0x0720, H_MF_ENDPOINT),
	/* <- the out-of-tree pcie_acs_override row goes here (iommu_quirk_acs_override_row) */
	/* Cavium ThunderX root ports, then Cavium multifunction devices */
	ROW(V_CAVIUM, ANY, H_CAVIUM),
	ROW(V_CAVIUM, 0xa026, H_MF_ENDPOINT), ROW(V_CAVIUM, 0xa059, H_MF_ENDPOINT),
	ROW(V_CAVIUM, 0xa060, H_MF_ENDPOINT),
	/* APM X-Gene, Ampere root ports */
	ROW(V_AMCC, 0xe004, H_XGENE),
	ROW(V_AMPERE, 0xe005, H_XGENE), ROW(V_AMPERE, 0xe006, H_XGENE),
	ROW(V_AMPERE, 0xe007, H_XGENE), ROW(V_AMPERE, 0xe008, H_XGENE),
	ROW(V_AMPERE, 0xe009, H_XGENE), ROW(V_AMPERE, 0xe00a, H_XGENE),
	ROW(V_AMPERE, 0xe00b, H_XGENE), ROW(V_AMPERE, 0xe00c, H_XGENE),
	/* Broadcom multifunction NICs, then iProc PAXB root port */
	ROW(V_BROADCOM, 0x16d7, H_MF_ENDPOINT), ROW(V_BROADCOM, 0x1750, H_MF_ENDPOINT),
	ROW(V_BROADCOM, 0x1751, H_MF_ENDPOINT), ROW(V_BROADCOM, 0x1752, H_MF_ENDPOINT),
	ROW(V_BROADCOM, 0x1760, H_MF_ENDPOINT), ROW(V_BROADCOM, 0x1761, H_MF_ENDPOINT),
	ROW(V_BROADCOM, 0x1762, H_MF_ENDPOINT), ROW(V_BROADCOM, 0x1763, H_MF_ENDPOINT),
	ROW(V_BROADCOM, 0xd714, H_BRCM),
	/* Loongson root ports (mainline 6.16; in 6.1.y and 6.12.y by backport) */
	ROW(V_LOONGSON, 0x3c09, H_LOONGSON), ROW(V_LOONGSON, 0x3c19, H_LOONGSON),
	ROW(V_LOONGSON, 0x3c29, H_LOONGSON), ROW(V_LOONGSON, 0x7a09, H_LOONGSON),
	ROW(V_LOONGSON, 0x7a19, H_LOONGSON), ROW(V_LOONGSON, 0x7a29, H_LOONGSON),
	ROW(V_LOONGSON, 0x7a39, H_LOONGSON), ROW(V_LOONGSON, 0x7a49, H_LOONGSON),
	ROW(V_LOONGSON, 0x7a59, H_LOONGSON), ROW(V_LOONGSON, 0x7a69, H_LOONGSON),
	/* Amazon Annapurna Labs root port */
	ROW(V_ANNAPURNA, 0x0031, H_AL),
	/* Zhaoxin multifunction devices */
	ROW(V_ZHAOXIN, 0x3038, H_MF_ENDPOINT), ROW(V_ZHAOXIN, 0x3104, H_MF_ENDPOINT),
	ROW(V_ZHAOXIN, 0x9083, H_MF_ENDPOINT),
	/* NXP LX2xx0/LX2xx2 root ports (A, C, E, N variants; 16/12/8 cores) */
	ROW(V_NXP, 0x8d81, H_NXP_RP), ROW(V_NXP, 0x8da1, H_NXP_RP), ROW(V_NXP, 0x8d83, H_NXP_RP),
	ROW(V_NXP, 0x8d80, H_NXP_RP), ROW(V_NXP, 0x8da0, H_NXP_RP), ROW(V_NXP, 0x8d82, H_NXP_RP),
	ROW(V_NXP, 0x8d90, H_NXP_RP), ROW(V_NXP, 0x8db0, H_NXP_RP), ROW(V_NXP, 0x8d92, H_NXP_RP),
	ROW(V_NXP, 0x8d91, H_NXP_RP), ROW(V_NXP, 0x8db1, H_NXP_RP), ROW(V_NXP, 0x8d93, H_NXP_RP),
	ROW(V_NXP, 0x8d89, H_NXP_RP), ROW(V_NXP, 0x8da9, H_NXP_RP), ROW(V_NXP, 0x8d8b, H_NXP_RP),
	ROW(V_NXP, 0x8d88, H_NXP_RP), ROW(V_NXP, 0x8da8, H_NXP_RP), ROW(V_NXP, 0x8d8a, H_NXP_RP),
	ROW(V_NXP, 0x8d98, H_NXP_RP), ROW(V_NXP, 0x8db8, H_NXP_RP), ROW(V_NXP, 0x8d9a, H_NXP_RP),
	ROW(V_NXP, 0x8d99, H_NXP_RP), ROW(V_NXP, 0x8db9, H_NXP_RP), ROW(V_NXP, 0x8d9b, H_NXP_RP),
	/* Zhaoxin root and downstream ports */
	ROW(V_ZHAOXIN, ANY, H_ZHAOXIN_PORTS),
	/* Wangxun NICs */
	ROW(V_WANGXUN, ANY, H_WANGXUN),
};

#define ACS_ROWS ((int)(sizeof(acs_table) / sizeof(acs_table[0])))

/* Index of the Cavium ThunderX row: the override row sits just before it. */
const int iommu_quirk_acs_override_row = 70;
const int iommu_quirk_acs_rows = ACS_ROWS;

_Static_assert(sizeof(acs_table) / sizeof(acs_table[0]) == 132, "6.1 table has 132 rows");

static int run_hook(const struct acs_row *r, const struct iommu_pci_dev *dev, uint16_t flags,
		    bool amd_ivrs)
{
	switch ((enum acs_hook)r->hook) {
	case H_AMD_SB:
		return hook_amd_sb(dev, flags, amd_ivrs);
	case H_MF_ENDPOINT:
		return hook_mf_endpoint(dev, flags);
	case H_RCIEP:
		return hook_rciep(dev, flags);
	case H_QCOM_RP:
	case H_XGENE:
	case H_BRCM:
	case H_LOONGSON:
	case H_NXP_RP:
		return hook_isolated_port(dev, flags);
	case H_INTEL_PCH:
		return hook_intel_pch(dev, flags);
	case H_INTEL_SPT_PCH:
		return hook_intel_spt_pch(dev, flags);
	case H_CAVIUM:
		return hook_cavium(dev, flags);
	case H_AL:
		return hook_annapurna(dev, flags);
	case H_ZHAOXIN_PORTS:
		return hook_zhaoxin_ports(dev, flags);
	case H_WANGXUN:
		return hook_wangxun(dev, flags);
	}
	return -ENOTTY;
}

int iommu_quirk_acs_range(const struct iommu_pci_dev *dev, uint16_t flags, bool amd_ivrs,
			  int kernel_minor, const char **name, int first_row, int end_row)
{
	if (name)
		*name = NULL;
	if (!dev || first_row < 0 || end_row > ACS_ROWS || first_row > end_row)
		return -EINVAL;
	if (kernel_minor < 1)
		kernel_minor = 1;

	for (int i = first_row; i < end_row; i++) {
		const struct acs_row *r = &acs_table[i];
		int ret;

		if (r->since > kernel_minor)
			continue;
		if (r->vendor != dev->vendor && r->vendor != ANY)
			continue;
		if (r->device != dev->device && r->device != ANY)
			continue;
		ret = run_hook(r, dev, flags, amd_ivrs);
		if (ret >= 0) {
			if (name)
				*name = hook_names[r->hook];
			return ret;
		}
	}
	return -ENOTTY;
}

int iommu_quirk_acs(const struct iommu_pci_dev *dev, uint16_t flags, bool amd_ivrs,
		    int kernel_minor, const char **name)
{
	return iommu_quirk_acs_range(dev, flags, amd_ivrs, kernel_minor, name, 0, ACS_ROWS);
}

const char *iommu_quirk_acs_row_hook(int row)
{
	if (row < 0 || row >= ACS_ROWS)
		return NULL;
	return hook_names[acs_table[row].hook];
}

/* ------------------------------------------------------------------ */
/* DMA alias fixups                                                    */

struct id_pair {
	uint16_t vendor, device;
};

static bool id_listed(const struct id_pair *list, size_t n, const struct iommu_pci_dev *dev)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].vendor == dev->vendor && list[i].device == dev->device)
			return true;
	return false;
}

#define LISTED(list, dev) id_listed((list), sizeof(list) / sizeof((list)[0]), (dev))

/* pci_add_dma_alias(dev, first, count): @count devfns from @first (devfns wrap at 256). */
static void add_alias(struct iommu_dma_alias_quirk *q, unsigned first, unsigned count)
{
	for (unsigned i = 0; i < count && first + i < 256; i++) {
		unsigned devfn = first + i;

		q->mask[devfn >> 3] |= (uint8_t)(1u << (devfn & 7));
	}
}

/* Functions that issue DMA with function 0's requester id (Ricoh card readers, Glenfly Arise). */
static const struct id_pair dma_func0[] = {
	{ 0x1180, 0xe832 }, { 0x1180, 0xe476 },
	{ 0x6766, 0x3d40 }, { 0x6766, 0x3d41 },
};

/*
 * Functions that issue DMA with function 1's requester id, often a function
 * that does not exist: Marvell SATA/IDE controllers, HighPoint (TTI)
 * RocketRAID 642L/644L, JMicron JMB388 eSD, Plextor M6E (Lite-On).
 */
static const struct id_pair dma_func1[] = {
	{ 0x1b4b, 0x9120 }, { 0x1b4b, 0x9123 }, { 0x1b4b, 0x9125 }, { 0x1b4b, 0x9128 },
	{ 0x1b4b, 0x9130 }, { 0x1b4b, 0x9170 }, { 0x1b4b, 0x9172 }, { 0x1b4b, 0x917a },
	{ 0x1b4b, 0x9182 }, { 0x1b4b, 0x9183 }, { 0x1b4b, 0x91a0 }, { 0x1b4b, 0x9215 },
	{ 0x1b4b, 0x9220 }, { 0x1b4b, 0x9230 }, { 0x1b4b, 0x9235 },
	{ 0x1103, 0x0642 }, { 0x1103, 0x0645 },
	{ 0x197b, 0x2392 },
	{ 0x1c28, 0x0122 },
};

/* Conventional bridges that are really PCIe-to-PCI bridges (ASM1083/1085, Tundra 8113, ITE 8892/8893, Intel 82801). */
static const struct id_pair pcie_bridge_alias[] = {
	{ 0x1b21, 0x1080 }, { 0x10e3, 0x8113 }, { 0x1283, 0x8892 }, { 0x1283, 0x8893 },
	{ 0x8086, 0x244e },
};

/* Intel Xeon Phi (MIC) x200 DMA engines. */
static const struct id_pair mic_x200[] = {
	{ 0x8086, 0x2260 }, { 0x8086, 0x2264 },
};

/* Intel Visual Compute Accelerator NTBs (0x2957 is not among them). */
static const struct id_pair pex_vca[] = {
	{ 0x8086, 0x2954 }, { 0x8086, 0x2955 }, { 0x8086, 0x2956 }, { 0x8086, 0x2958 },
	{ 0x8086, 0x2959 }, { 0x8086, 0x295a },
};

/* Broadcom Vulcan / Cavium ThunderX2 root-complex bridges. */
static const struct id_pair cavm_thrx2_root[] = {
	{ 0x14e4, 0x9000 }, { 0x14e4, 0x9084 },
};

/* PLX (Broadcom) NTB endpoints. */
static const struct id_pair plx_ntb[] = {
	{ 0x10b5, 0x87b0 }, { 0x10b5, 0x87b1 },
};

/*
 * Microsemi (Microchip) Switchtec switches' NTB functions: PFX/PSX/PAX/PFXL/PFXI
 * Gen3, PFX/PSX/PAX/PFXA/PSXA/PAXA Gen4 and Gen5.  Matched with the class
 * "other bridge" (0x0680) as a final fixup.
 */
static const uint16_t switchtec_ids[] = {
	0x8531, 0x8532, 0x8533, 0x8534, 0x8535, 0x8536,
	0x8541, 0x8542, 0x8543, 0x8544, 0x8545, 0x8546,
	0x8551, 0x8552, 0x8553, 0x8554, 0x8555, 0x8556,
	0x8561, 0x8562, 0x8563, 0x8564, 0x8565, 0x8566,
	0x8571, 0x8572, 0x8573, 0x8574, 0x8575, 0x8576,
	0x4000, 0x4084, 0x4068, 0x4052, 0x4036, 0x4028,
	0x4100, 0x4184, 0x4168, 0x4152, 0x4136, 0x4128,
	0x4200, 0x4284, 0x4268, 0x4252, 0x4236, 0x4228,
	0x4352, 0x4336, 0x4328, 0x4452, 0x4436, 0x4428,
	0x4552, 0x4536, 0x4528,
	0x5000, 0x5084, 0x5068, 0x5052, 0x5036, 0x5028,
	0x5100, 0x5184, 0x5168, 0x5152, 0x5136, 0x5128,
	0x5200, 0x5284, 0x5268, 0x5252, 0x5236, 0x5228,
	0x5300, 0x5384, 0x5368, 0x5352, 0x5336, 0x5328,
	0x5400, 0x5484, 0x5468, 0x5452, 0x5436, 0x5428,
	0x5500, 0x5584, 0x5568, 0x5552, 0x5536, 0x5528,
};
_Static_assert(sizeof(switchtec_ids) / sizeof(switchtec_ids[0]) == 93, "93 Switchtec ids");

#define V_MICROSEMI 0x11f8
/* Switchtec PCI100x parts sold under the EFAR vendor id (6.1.y and later 6.12.y; not in 6.12.15). */
#define V_EFAR 0x1055
#define CLASS_BRIDGE_OTHER 0x0680

static bool switchtec_ntb(const struct iommu_pci_dev *dev)
{
	if ((dev->class_code >> 8) != CLASS_BRIDGE_OTHER)
		return false;
	if (dev->vendor == V_EFAR)
		return dev->device >= 0x1001 && dev->device <= 0x1006;
	if (dev->vendor != V_MICROSEMI)
		return false;
	for (size_t i = 0; i < sizeof(switchtec_ids) / sizeof(switchtec_ids[0]); i++)
		if (switchtec_ids[i] == dev->device)
			return true;
	return false;
}

/*
 * quirk_use_pcie_bridge_dma_alias: a type 1 function without a PCIe
 * capability, not on a root bus, whose upstream bridge is PCIe but not a
 * PCIe-to-PCI bridge, is really a PCIe-to-PCI bridge.
 */
static bool acts_as_pcie_bridge(const struct iommu_pci_dev *dev)
{
	const struct iommu_pci_dev *up;

	if (on_root_bus(dev) || dev->header_type != 1 || iommu_pci_is_pcie(dev))
		return false;
	up = dev->bus->self;
	return up && iommu_pci_is_pcie(up) && kernel_pcie_type(up) != IOMMU_PCIE_PCI_BRIDGE;
}

/*
 * @out->name is set when the fixup changed something: a function 0 that
 * would alias itself to function 0, an Adaptec 0x0285 with another
 * subsystem, or a listed bridge that fails the PCIe-bridge test runs the
 * fixup to no effect and leaves the name NULL.  The Switchtec fixup is the
 * exception: its effect is unknown here, so it is always named.
 */
void iommu_quirk_dma_alias(const struct iommu_pci_dev *dev, struct iommu_dma_alias_quirk *out)
{
	unsigned slot, fn;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!dev)
		return;
	slot = IOMMU_PCI_SLOT(dev->addr.devfn);
	fn = IOMMU_PCI_FUNC(dev->addr.devfn);

	if (LISTED(dma_func0, dev)) {
		if (fn != 0) {
			out->name = "quirk_dma_func0_alias";
			add_alias(out, IOMMU_PCI_DEVFN(slot, 0), 1);
		}
	} else if (LISTED(dma_func1, dev)) {
		if (fn != 1) {
			out->name = "quirk_dma_func1_alias";
			add_alias(out, IOMMU_PCI_DEVFN(slot, 1), 1);
		}
	} else if (dev->vendor == 0x9005 && dev->device == 0x0285) {
		/* Adaptec 3405 and 3805, told apart by subsystem: the hidden DMA engine at 01.0 */
		if (dev->subsystem_vendor == 0x9005 &&
		    (dev->subsystem_device == 0x02bb || dev->subsystem_device == 0x02bc)) {
			out->name = "quirk_fixed_dma_alias";
			add_alias(out, IOMMU_PCI_DEVFN(1, 0), 1);
		}
	} else if (LISTED(pcie_bridge_alias, dev)) {
		if (acts_as_pcie_bridge(dev)) {
			out->name = "quirk_use_pcie_bridge_dma_alias";
			out->pcie_bridge_alias = true;
		}
	} else if (LISTED(mic_x200, dev)) {
		out->name = "quirk_mic_x200_dma_alias";
		add_alias(out, IOMMU_PCI_DEVFN(0x10, 0), 1);
		add_alias(out, IOMMU_PCI_DEVFN(0x11, 0), 1);
		add_alias(out, IOMMU_PCI_DEVFN(0x12, 3), 1);
	} else if (LISTED(pex_vca, dev)) {
		/* functions 0-4 of every slot on the bus */
		out->name = "quirk_pex_vca_alias";
		for (unsigned s = 0; s < 32; s++)
			add_alias(out, IOMMU_PCI_DEVFN(s, 0), 5);
	} else if (LISTED(cavm_thrx2_root, dev)) {
		out->name = "quirk_bridge_cavm_thrx2_pcie_root";
		out->bridge_xlate_root = true;
	} else if (LISTED(plx_ntb, dev)) {
		out->name = "quirk_plx_ntb_dma_alias";
		add_alias(out, 0, 256);
	} else if (switchtec_ntb(dev)) {
		/*
		 * The kernel maps BAR 0 and aliases every proxy requester id
		 * in the request-id tables of the other NTB partitions.  A
		 * platform holds no MMIO, so the mask stays empty.
		 */
		out->name = "quirk_switchtec_ntb_dma_alias";
	}
}
