// SPDX-License-Identifier: MIT
/*
 * The PCI quirks that change grouping (src/core/quirks.c) on synthetic
 * config spaces: the device-specific ACS table of drivers/pci/quirks.c
 * (Linux 6.1) and the DMA alias fixups.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/quirks.h"
#include "helpers.h"
#include "iommu/core.h"
#include "iommu/platform.h"

#define REQ IOMMU_REQ_ACS_FLAGS
#define K61 1
#define K612 12

/* PCIe capability at 0x40, ACS (when present) at 0x100. */
#define PCIE_POS 0x40
#define ACS_POS 0x100

static struct iommu_pci_addr addr(unsigned bus, unsigned slot, unsigned fn)
{
	return (struct iommu_pci_addr){ .segment = 0, .bus = (uint8_t)bus,
					.devfn = IOMMU_PCI_DEVFN(slot, fn) };
}

static void decode(struct iommu_pci_dev *d, struct cfg *c, struct iommu_pci_addr a)
{
	struct iommu_error err = { 0 };

	assert_int_equal(iommu_pci_decode_config(d, a, c->b, c->size, NULL, NULL, &err), 0);
}

/* A function (type 1 header for ports) with a PCIe capability of @type (none for IOMMU_PCIE_NONE), no ACS. */
static void pcie_fn(struct iommu_pci_dev *d, uint16_t vendor, uint16_t device, uint32_t cls,
		    int type, bool mf, struct iommu_pci_addr a)
{
	struct cfg c;
	bool bridge = type == IOMMU_PCIE_ROOT_PORT || type == IOMMU_PCIE_DOWNSTREAM ||
		      type == IOMMU_PCIE_UPSTREAM || type == IOMMU_PCIE_PCI_BRIDGE;

	cfg_init(&c, 4096, vendor, device, cls, (uint8_t)((bridge ? 1 : 0) | (mf ? 0x80 : 0)));
	if (type != IOMMU_PCIE_NONE)
		cfg_add_pcie(&c, PCIE_POS, type);
	decode(d, &c, a);
}

/* ---- Intel RCiEP ---------------------------------------------------- */

static void test_rciep(void **state)
{
	struct iommu_pci_dev d;
	const char *name = "x";

	(void)state;
	/* Intel RC integrated endpoint (e.g. a CBDMA channel, multifunction) */
	pcie_fn(&d, 0x8086, 0x2021, 0x088000, IOMMU_PCIE_RC_END, true, addr(0, 4, 1));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_rciep_acs");
	/* EC is not among the flags the hook stands for: it decides "no" */
	assert_int_equal(iommu_quirk_acs(&d, REQ | IOMMU_ACS_EC, false, K61, &name), 0);
	assert_string_equal(name, "pci_quirk_rciep_acs");
	iommu_pci_dev_release(&d);

	/* the same function from another vendor: no quirk */
	pcie_fn(&d, 0x1022, 0x2021, 0x088000, IOMMU_PCIE_RC_END, true, addr(0, 4, 1));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), -ENOTTY);
	assert_null(name);
	iommu_pci_dev_release(&d);

	/* an Intel endpoint that is not RC-integrated: no quirk */
	pcie_fn(&d, 0x8086, 0x2021, 0x088000, IOMMU_PCIE_ENDPOINT, true, addr(1, 0, 1));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), -ENOTTY);
	assert_null(name);
	iommu_pci_dev_release(&d);

	/* an Intel conventional function (no PCIe capability): pci_pcie_type is 0 there */
	{
		struct cfg c;

		cfg_init(&c, 256, 0x8086, 0x2021, 0x088000, 0x80);
		decode(&d, &c, addr(0, 0x1f, 3));
		assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), -ENOTTY);
		iommu_pci_dev_release(&d);
	}
}

/* ---- multifunction endpoints ------------------------------------------ */

static void test_mf_endpoint(void **state)
{
	struct iommu_pci_dev d;
	const char *name = NULL;

	(void)state;
	/* Intel 82576 function 1 */
	pcie_fn(&d, 0x8086, 0x10c9, 0x020000, IOMMU_PCIE_ENDPOINT, true, addr(3, 0, 1));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_mf_endpoint_acs");
	/* DT and TB are covered, EC is not */
	assert_int_equal(iommu_quirk_acs(&d, REQ | IOMMU_ACS_DT | IOMMU_ACS_TB, false, K61, &name), 1);
	assert_int_equal(iommu_quirk_acs(&d, REQ | IOMMU_ACS_EC, false, K61, &name), 0);
	/* 6.12 has the same row */
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K612, &name), 1);
	iommu_pci_dev_release(&d);

	/* Emulex Skyhawk-R sits before the override row, Broadcom after it */
	pcie_fn(&d, 0x10df, 0x0720, 0x020000, IOMMU_PCIE_ENDPOINT, true, addr(3, 0, 0));
	assert_int_equal(iommu_quirk_acs_range(&d, REQ, false, K61, &name, 0,
					       iommu_quirk_acs_override_row), 1);
	assert_int_equal(iommu_quirk_acs_range(&d, REQ, false, K61, &name,
					       iommu_quirk_acs_override_row,
					       iommu_quirk_acs_rows), -ENOTTY);
	iommu_pci_dev_release(&d);

	pcie_fn(&d, 0x14e4, 0x16d7, 0x020000, IOMMU_PCIE_ENDPOINT, true, addr(3, 0, 0));
	assert_int_equal(iommu_quirk_acs_range(&d, REQ, false, K61, &name, 0,
					       iommu_quirk_acs_override_row), -ENOTTY);
	assert_int_equal(iommu_quirk_acs_range(&d, REQ, false, K61, &name,
					       iommu_quirk_acs_override_row,
					       iommu_quirk_acs_rows), 1);
	assert_string_equal(name, "pci_quirk_mf_endpoint_acs");
	iommu_pci_dev_release(&d);
}

/* ---- Intel PCH root ports -------------------------------------------- */

/* Root bus 0 with a Cougar Point root port at 1c.0 and, when @rcba is not ~0, an LPC at 1f.0. */
static void test_intel_pch(void **state)
{
	struct iommu_pci_dev rp, lpc;
	struct iommu_pci_dev *devs[2];
	struct iommu_pci_bus bus0 = { 0 };
	struct cfg c;
	const char *name = NULL;

	(void)state;
	cfg_init(&c, 4096, 0x8086, 0x1c10, 0x060400, 0x81);
	cfg_add_pcie(&c, PCIE_POS, IOMMU_PCIE_ROOT_PORT);
	cfg_set_bus(&c, 0, 1, 1);
	decode(&rp, &c, addr(0, 0x1c, 0));

	/* no bus known: a missing LPC reads as all ones, so the workaround counts as enabled */
	assert_int_equal(iommu_quirk_acs(&rp, REQ, false, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_intel_pch_acs");

	/* LPC with RCBA enabled */
	cfg_init(&c, 256, 0x8086, 0x1c44, 0x060100, 0x80);
	cfg_w32(&c, 0xf0, 0xfed1c001);
	decode(&lpc, &c, addr(0, 0x1f, 0));
	devs[0] = &rp;
	devs[1] = &lpc;
	bus0.devices = devs;
	bus0.n_devices = 2;
	rp.bus = &bus0;
	lpc.bus = &bus0;
	assert_int_equal(iommu_quirk_acs(&rp, REQ, false, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_intel_pch_acs");
	iommu_pci_dev_release(&lpc);

	/* RCBA disabled: the kernel could not enable the workaround, and the hook says no */
	cfg_w32(&c, 0xf0, 0xfed1c000);
	decode(&lpc, &c, addr(0, 0x1f, 0));
	lpc.bus = &bus0;
	assert_int_equal(iommu_quirk_acs(&rp, REQ, false, K61, &name), 0);
	assert_string_equal(name, "pci_quirk_intel_pch_acs");
	/* only an empty request is then satisfied */
	assert_int_equal(iommu_quirk_acs(&rp, 0, false, K61, &name), 1);
	iommu_pci_dev_release(&lpc);
	iommu_pci_dev_release(&rp);

	/* an Intel root port not on the list (and not Sunrise Point): no quirk */
	cfg_init(&c, 4096, 0x8086, 0x2942, 0x060400, 0x81);
	cfg_add_pcie(&c, PCIE_POS, IOMMU_PCIE_ROOT_PORT);
	decode(&rp, &c, addr(0, 0x1c, 1));
	assert_int_equal(iommu_quirk_acs(&rp, REQ, false, K61, &name), -ENOTTY);
	assert_null(name);
	iommu_pci_dev_release(&rp);

	/* a listed id that is not a root port: no quirk */
	pcie_fn(&rp, 0x8086, 0x1c10, 0x060400, IOMMU_PCIE_DOWNSTREAM, false, addr(2, 0, 0));
	assert_int_equal(iommu_quirk_acs(&rp, REQ, false, K61, &name), -ENOTTY);
	iommu_pci_dev_release(&rp);
}

/* ---- Sunrise Point PCH root ports -------------------------------------- */

static void spt_port(struct iommu_pci_dev *d, uint32_t cap, uint32_t ctrl)
{
	struct cfg c;

	cfg_init(&c, 4096, 0x8086, 0xa110, 0x060400, 0x81);
	cfg_add_pcie(&c, PCIE_POS, IOMMU_PCIE_ROOT_PORT);
	/* the standard layout's words read cap low half at +4 and cap high half at +6 */
	cfg_add_acs(&c, ACS_POS, (uint16_t)cap, (uint16_t)(cap >> 16));
	cfg_w32(&c, ACS_POS + 4, cap);
	cfg_w32(&c, ACS_POS + 8, ctrl);
	decode(d, &c, addr(0, 0x1c, 0));
}

static void test_intel_spt_pch(void **state)
{
	struct iommu_pci_dev d;
	const char *name = NULL;
	uint32_t cap = IOMMU_ACS_SV | IOMMU_ACS_RR | IOMMU_ACS_CR | IOMMU_ACS_UF | IOMMU_ACS_TB;

	(void)state;
	/* control dword at +8 with SV|RR|CR|UF: enabled, though the word at +6 reads 0 */
	spt_port(&d, cap, REQ);
	assert_int_equal(d.acs_ctrl, 0);
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_intel_spt_pch_acs");
	/* EC is asked for but not in the capability: it stays required, and is off */
	assert_int_equal(iommu_quirk_acs(&d, REQ | IOMMU_ACS_EC, false, K61, &name), 0);
	iommu_pci_dev_release(&d);

	/* RR off in the dword control: not enabled */
	spt_port(&d, cap, IOMMU_ACS_SV | IOMMU_ACS_CR | IOMMU_ACS_UF);
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 0);
	assert_string_equal(name, "pci_quirk_intel_spt_pch_acs");
	iommu_pci_dev_release(&d);

	/* a flag the capability lacks is not required (UF here) */
	spt_port(&d, IOMMU_ACS_SV | IOMMU_ACS_RR | IOMMU_ACS_CR, IOMMU_ACS_SV | IOMMU_ACS_RR | IOMMU_ACS_CR);
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	iommu_pci_dev_release(&d);

	/* a Sunrise Point id without an ACS capability: no opinion */
	pcie_fn(&d, 0x8086, 0xa110, 0x060400, IOMMU_PCIE_ROOT_PORT, true, addr(0, 0x1c, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), -ENOTTY);
	assert_null(name);
	iommu_pci_dev_release(&d);
}

/* ---- other ACS hooks ------------------------------------------------- */

static void test_other_acs_hooks(void **state)
{
	struct iommu_pci_dev d;
	const char *name = NULL;

	(void)state;
	/* AMD SB SMBus on the root bus, multifunction: needs IVRS */
	pcie_fn(&d, 0x1002, 0x4385, 0x0c0500, IOMMU_PCIE_NONE, true, addr(0, 0x14, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), -ENOTTY);
	/* with IVRS only RR|CR count; SV/UF are filtered out of the request */
	assert_int_equal(iommu_quirk_acs(&d, REQ, true, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_amd_sb_acs");
	assert_int_equal(iommu_quirk_acs(&d, REQ | IOMMU_ACS_DT, true, K61, &name), 0);
	iommu_pci_dev_release(&d);

	/* Cavium ThunderX2 root port */
	pcie_fn(&d, 0x177d, 0xaf84, 0x060400, IOMMU_PCIE_ROOT_PORT, false, addr(0, 1, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	assert_string_equal(name, "pci_quirk_cavium_acs");
	iommu_pci_dev_release(&d);

	/* Zhaoxin: a listed root port passes, an unlisted one fails outright */
	pcie_fn(&d, 0x1d17, 0x0715, 0x060400, IOMMU_PCIE_ROOT_PORT, false, addr(0, 2, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	iommu_pci_dev_release(&d);
	pcie_fn(&d, 0x1d17, 0x0800, 0x060400, IOMMU_PCIE_ROOT_PORT, false, addr(0, 2, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 0);
	assert_string_equal(name, "pci_quirk_zhaoxin_pcie_ports_acs");
	iommu_pci_dev_release(&d);

	/* Wangxun: unlisted function decides "no" */
	pcie_fn(&d, 0x8088, 0x1001, 0x020000, IOMMU_PCIE_ENDPOINT, true, addr(5, 0, 1));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	iommu_pci_dev_release(&d);
	pcie_fn(&d, 0x8088, 0x0200, 0x020000, IOMMU_PCIE_ENDPOINT, true, addr(5, 0, 1));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 0);
	iommu_pci_dev_release(&d);

	/* Annapurna: only SV|RR|CR|UF are provided */
	pcie_fn(&d, 0x1c36, 0x0031, 0x060400, IOMMU_PCIE_ROOT_PORT, false, addr(0, 0, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K61, &name), 1);
	assert_int_equal(iommu_quirk_acs(&d, REQ | IOMMU_ACS_TB, false, K61, &name), 0);
	iommu_pci_dev_release(&d);

	/* table shape: the override row sits between the Emulex rows and Cavium */
	assert_int_equal(iommu_quirk_acs_rows, 132);
	assert_string_equal(iommu_quirk_acs_row_hook(iommu_quirk_acs_override_row),
			    "pci_quirk_cavium_acs");
	assert_string_equal(iommu_quirk_acs_row_hook(iommu_quirk_acs_override_row - 1),
			    "pci_quirk_mf_endpoint_acs");
	assert_null(iommu_quirk_acs_row_hook(iommu_quirk_acs_rows));
	assert_int_equal(iommu_quirk_acs_range(&d, REQ, false, K61, &name, 5, 4), -EINVAL);
	assert_int_equal(iommu_quirk_acs(NULL, REQ, false, K61, &name), -EINVAL);
}

/* ---- DMA aliases ----------------------------------------------------- */

static void test_ricoh_func0(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_dma_alias_quirk q;

	(void)state;
	pcie_fn(&d, 0x1180, 0xe832, 0x088000, IOMMU_PCIE_ENDPOINT, true, addr(5, 0, 3));
	iommu_quirk_dma_alias(&d, &q);
	assert_string_equal(q.name, "quirk_dma_func0_alias");
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(0, 0)));
	for (unsigned devfn = 1; devfn < 256; devfn++)
		assert_false(iommu_dma_alias_test(&q, (uint8_t)devfn));
	assert_false(q.pcie_bridge_alias);
	iommu_pci_dev_release(&d);

	/* function 0 itself adds nothing */
	pcie_fn(&d, 0x1180, 0xe832, 0x088000, IOMMU_PCIE_ENDPOINT, true, addr(5, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_null(q.name);
	assert_false(iommu_dma_alias_test(&q, 0));
	iommu_pci_dev_release(&d);
}

static void test_marvell_func1(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_dma_alias_quirk q;

	(void)state;
	/* Marvell 88SE9230 at 04:00.0 aliases the phantom 04:00.1 */
	pcie_fn(&d, 0x1b4b, 0x9230, 0x010601, IOMMU_PCIE_LEG_END, false, addr(4, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_string_equal(q.name, "quirk_dma_func1_alias");
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(0, 1)));
	assert_false(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(0, 0)));
	iommu_pci_dev_release(&d);

	/* a Marvell id not on the list */
	pcie_fn(&d, 0x1b4b, 0x9999, 0x010601, IOMMU_PCIE_LEG_END, false, addr(4, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_null(q.name);
	iommu_pci_dev_release(&d);
}

static void test_asmedia_bridge(void **state)
{
	struct iommu_pci_dev rp, br;
	struct iommu_pci_bus bus0 = { 0 }, bus2 = { 0 };
	struct iommu_dma_alias_quirk q;
	struct cfg c;

	(void)state;
	pcie_fn(&rp, 0x8086, 0x1c12, 0x060400, IOMMU_PCIE_ROOT_PORT, true, addr(0, 0x1c, 1));
	bus0.number = 0;
	bus2.number = 2;
	bus2.self = &rp;
	bus2.parent = &bus0;
	rp.bus = &bus0;

	/* ASM1083: a type 1 header without a PCIe capability, behind a root port */
	cfg_init(&c, 256, 0x1b21, 0x1080, 0x060401, 0x01);
	cfg_set_bus(&c, 2, 3, 3);
	decode(&br, &c, addr(2, 0, 0));
	br.bus = &bus2;
	iommu_quirk_dma_alias(&br, &q);
	assert_string_equal(q.name, "quirk_use_pcie_bridge_dma_alias");
	assert_true(q.pcie_bridge_alias);
	assert_false(q.bridge_xlate_root);
	assert_false(iommu_dma_alias_test(&q, 0));

	/* behind a PCIe-to-PCI bridge the test fails */
	iommu_pci_dev_release(&rp);
	pcie_fn(&rp, 0x1234, 0x5678, 0x060400, IOMMU_PCIE_PCI_BRIDGE, false, addr(1, 0, 0));
	iommu_quirk_dma_alias(&br, &q);
	assert_false(q.pcie_bridge_alias);
	assert_null(q.name);

	/* on a root bus the test fails */
	br.bus = &bus0;
	iommu_quirk_dma_alias(&br, &q);
	assert_false(q.pcie_bridge_alias);
	iommu_pci_dev_release(&br);
	iommu_pci_dev_release(&rp);
}

static void test_other_aliases(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_dma_alias_quirk q;
	struct cfg c;
	unsigned n;

	(void)state;
	/* Intel VCA: functions 0-4 of every slot */
	pcie_fn(&d, 0x8086, 0x2954, 0x068000, IOMMU_PCIE_ENDPOINT, false, addr(7, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_string_equal(q.name, "quirk_pex_vca_alias");
	n = 0;
	for (unsigned devfn = 0; devfn < 256; devfn++)
		n += iommu_dma_alias_test(&q, (uint8_t)devfn);
	assert_int_equal(n, 32 * 5);
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(31, 4)));
	assert_false(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(31, 5)));
	iommu_pci_dev_release(&d);

	/* PLX NTB: all 256 */
	pcie_fn(&d, 0x10b5, 0x87b0, 0x068000, IOMMU_PCIE_ENDPOINT, false, addr(7, 0, 1));
	iommu_quirk_dma_alias(&d, &q);
	assert_string_equal(q.name, "quirk_plx_ntb_dma_alias");
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(q.mask[i], 0xff);
	iommu_pci_dev_release(&d);

	/* MIC x200 */
	pcie_fn(&d, 0x8086, 0x2264, 0x0b4000, IOMMU_PCIE_ENDPOINT, false, addr(8, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(0x10, 0)));
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(0x11, 0)));
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(0x12, 3)));
	iommu_pci_dev_release(&d);

	/* ThunderX2 root bridge */
	pcie_fn(&d, 0x14e4, 0x9084, 0x060400, IOMMU_PCIE_ROOT_PORT, false, addr(0, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_true(q.bridge_xlate_root);
	assert_string_equal(q.name, "quirk_bridge_cavm_thrx2_pcie_root");
	iommu_pci_dev_release(&d);

	/* Adaptec 3405 by subsystem id */
	cfg_init(&c, 256, 0x9005, 0x0285, 0x010400, 0x00);
	cfg_w16(&c, 0x2c, 0x9005);
	cfg_w16(&c, 0x2e, 0x02bb);
	decode(&d, &c, addr(9, 0x0e, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_string_equal(q.name, "quirk_fixed_dma_alias");
	assert_true(iommu_dma_alias_test(&q, IOMMU_PCI_DEVFN(1, 0)));
	iommu_pci_dev_release(&d);

	/* Switchtec NTB (class 0680): named, no aliases known; other class: nothing */
	pcie_fn(&d, 0x11f8, 0x8532, 0x068000, IOMMU_PCIE_ENDPOINT, true, addr(10, 0, 1));
	iommu_quirk_dma_alias(&d, &q);
	assert_string_equal(q.name, "quirk_switchtec_ntb_dma_alias");
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(q.mask[i], 0);
	iommu_pci_dev_release(&d);
	pcie_fn(&d, 0x11f8, 0x8532, 0x058000, IOMMU_PCIE_ENDPOINT, true, addr(10, 0, 0));
	iommu_quirk_dma_alias(&d, &q);
	assert_null(q.name);
	iommu_pci_dev_release(&d);
}

/* ---- no quirk ------------------------------------------------------- */

static void test_no_quirk(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_dma_alias_quirk q;
	struct cfg c;
	const char *name = "x";

	(void)state;
	/* Red Hat virtio network device, multifunction endpoint with an ACS capability */
	cfg_init(&c, 4096, 0x1af4, 0x1041, 0x020000, 0x80);
	cfg_add_pcie(&c, PCIE_POS, IOMMU_PCIE_ENDPOINT);
	cfg_add_acs(&c, ACS_POS, 0, 0);
	decode(&d, &c, addr(1, 0, 0));
	assert_int_equal(iommu_quirk_acs(&d, REQ, true, K61, &name), -ENOTTY);
	assert_null(name);
	assert_int_equal(iommu_quirk_acs(&d, REQ, false, K612, NULL), -ENOTTY);
	iommu_quirk_dma_alias(&d, &q);
	assert_null(q.name);
	assert_false(q.pcie_bridge_alias);
	assert_false(q.bridge_xlate_root);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(q.mask[i], 0);
	iommu_pci_dev_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rciep),
		cmocka_unit_test(test_mf_endpoint),
		cmocka_unit_test(test_intel_pch),
		cmocka_unit_test(test_intel_spt_pch),
		cmocka_unit_test(test_other_acs_hooks),
		cmocka_unit_test(test_ricoh_func0),
		cmocka_unit_test(test_marvell_func1),
		cmocka_unit_test(test_asmedia_bridge),
		cmocka_unit_test(test_other_aliases),
		cmocka_unit_test(test_no_quirk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
