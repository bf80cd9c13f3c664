// SPDX-License-Identifier: MIT
/*
 * Config space decoding on synthetic config spaces, field by field, against
 * the layouts in the PCI Local Bus and PCI Express Base specifications and
 * the kernel's capability walks (drivers/pci/pci.c __pci_find_next_cap_ttl,
 * pci_find_next_ext_capability).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/platform.h"

struct warnings {
	int n;
	char last[512];
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static struct iommu_pci_addr addr(unsigned bus, unsigned slot, unsigned fn)
{
	return (struct iommu_pci_addr){ .segment = 0, .bus = (uint8_t)bus,
					.devfn = IOMMU_PCI_DEVFN(slot, fn) };
}

static void test_addr_parse_format(void **state)
{
	struct iommu_pci_addr a;
	char buf[IOMMU_PCI_ADDR_STRLEN];

	(void)state;
	assert_int_equal(iommu_pci_addr_parse("0001:3a:1f.7", &a), 0);
	assert_int_equal(a.segment, 1);
	assert_int_equal(a.bus, 0x3a);
	assert_int_equal(IOMMU_PCI_SLOT(a.devfn), 0x1f);
	assert_int_equal(IOMMU_PCI_FUNC(a.devfn), 7);
	assert_string_equal(iommu_pci_addr_format(a, buf), "0001:3a:1f.7");
	assert_int_equal(iommu_pci_addr_parse("00:1c.0", &a), 0);
	assert_int_equal(a.segment, 0);
	assert_int_equal(iommu_pci_addr_rid(a), 0x00e0);
	/* slot 0x20 and function 8 do not exist; trailing junk is refused */
	assert_int_equal(iommu_pci_addr_parse("0000:00:20.0", &a), -EINVAL);
	assert_int_equal(iommu_pci_addr_parse("0000:00:1f.8", &a), -EINVAL);
	assert_int_equal(iommu_pci_addr_parse("0000:00:1f.0x", &a), -EINVAL);
	assert_int_equal(iommu_pci_addr_parse("", &a), -EINVAL);
	assert_true(iommu_pci_addr_cmp(addr(0, 2, 0), addr(0, 1, 7)) > 0);
	assert_true(iommu_pci_addr_cmp(addr(1, 0, 0), addr(0, 31, 7)) > 0);
}

static void test_type0_header(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 256, 0x8086, 0x10d3, 0x020000, 0x80);
	cfg_w8(&c, 0x08, 0x02);
	cfg_w16(&c, 0x2c, 0x1af4);
	cfg_w16(&c, 0x2e, 0x1100);
	assert_int_equal(iommu_pci_decode_config(&d, addr(3, 0, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(d.vendor, 0x8086);
	assert_int_equal(d.device, 0x10d3);
	assert_int_equal(d.class_code, 0x020000);
	assert_int_equal(d.revision, 2);
	assert_int_equal(d.header_type, 0);
	assert_true(d.multifunction);
	assert_false(d.is_bridge);
	assert_int_equal(d.subsystem_vendor, 0x1af4);
	assert_int_equal(d.subsystem_device, 0x1100);
	assert_int_equal(d.pcie_type, IOMMU_PCIE_NONE);
	assert_int_equal(d.n_caps, 0);
	assert_string_equal(d.name, "0000:03:00.0");
	iommu_pci_dev_release(&d);
}

static void test_type1_bridge(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 4096, 0x1b36, 0x000c, 0x060400, 0x01);
	cfg_set_bus(&c, 0x00, 0x01, 0x05);
	cfg_add_pcie(&c, 0x54, IOMMU_PCIE_ROOT_PORT);
	cfg_w16(&c, 0x54 + 2, 0x0142);  /* v2, root port, slot implemented */
	cfg_add_ext_cap(&c, 0x100, 0x0001, 2);  /* AER first, as QEMU's root port */
	cfg_add_acs(&c, 0x148, 0x005f, 0x001d);
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 0x10, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_true(d.is_bridge);
	assert_false(d.multifunction);
	assert_int_equal(d.primary_bus, 0);
	assert_int_equal(d.secondary_bus, 1);
	assert_int_equal(d.subordinate_bus, 5);
	assert_int_equal(d.pcie_pos, 0x54);
	assert_int_equal(d.pcie_type, IOMMU_PCIE_ROOT_PORT);
	assert_int_equal(d.pcie_version, 2);
	assert_true(d.pcie_flags & 0x100);
	assert_int_equal(d.acs_pos, 0x148);
	assert_int_equal(d.acs_cap, 0x005f);
	assert_int_equal(d.acs_ctrl, 0x001d);
	assert_string_equal(iommu_pcie_type_name(d.pcie_type), "Root Port");
	iommu_pci_dev_release(&d);
}

static void test_cardbus_bridge(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 256, 0x1217, 0x7134, 0x060700, 0x02);
	cfg_w8(&c, 0x18, 0x02);
	cfg_w8(&c, 0x19, 0x03);
	cfg_w8(&c, 0x1a, 0x06);
	/* CardBus keeps its capability pointer at 0x14, not 0x34 */
	cfg_w8(&c, 0x06, 0x10);
	cfg_w8(&c, 0x14, 0x80);
	cfg_w8(&c, 0x80, 0x01);
	cfg_w16(&c, 0x40, 0x1028);
	assert_int_equal(iommu_pci_decode_config(&d, addr(2, 1, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_true(d.is_bridge);
	assert_int_equal(d.secondary_bus, 3);
	assert_int_equal(d.subordinate_bus, 6);
	assert_int_equal(d.n_caps, 1);
	assert_int_equal(d.caps[0].offset, 0x80);
	assert_int_equal(d.subsystem_vendor, 0x1028);
	iommu_pci_dev_release(&d);
}

static void test_capability_order_and_lookup(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 4096, 0x1af4, 0x1041, 0x020000, 0x00);
	cfg_add_cap(&c, 0x98, 0x11);    /* MSI-X */
	cfg_add_cap(&c, 0x84, 0x09);    /* vendor */
	cfg_add_pcie(&c, 0x40, IOMMU_PCIE_ENDPOINT);
	cfg_add_ext_cap(&c, 0x100, 0x0001, 2);  /* AER */
	cfg_add_ext_cap(&c, 0x148, 0x000e, 1);  /* ARI */
	cfg_w16(&c, 0x148 + 4, 0x0300 | 0x2);   /* next function 3, ACS function groups */
	cfg_w16(&c, 0x148 + 6, 0x0002);
	assert_int_equal(iommu_pci_decode_config(&d, addr(1, 0, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(d.n_caps, 5);
	/* list order, not offset order */
	assert_int_equal(d.caps[0].offset, 0x98);
	assert_int_equal(d.caps[1].offset, 0x84);
	assert_int_equal(d.caps[2].offset, 0x40);
	assert_true(d.caps[3].extended);
	assert_int_equal(d.caps[3].version, 2);
	assert_int_equal(iommu_pci_find_cap(&d, 0x10), 0x40);
	assert_int_equal(iommu_pci_find_cap(&d, 0x05), 0);
	assert_int_equal(iommu_pci_find_ext_cap(&d, 0x000e), 0x148);
	assert_int_equal(d.ari_pos, 0x148);
	assert_int_equal(d.ari_cap >> 8, 3);
	assert_int_equal(d.ari_ctrl, 2);
	assert_string_equal(iommu_pci_cap_name(&d.caps[0]), "MSI-X");
	assert_string_equal(iommu_pci_cap_name(&d.caps[4]),
			    "Alternative Routing-ID Interpretation (ARI)");
	iommu_pci_dev_release(&d);
}

static void test_sriov(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 4096, 0x1b36, 0x0010, 0x010802, 0x00);
	cfg_add_pcie(&c, 0x80, IOMMU_PCIE_ENDPOINT);
	cfg_add_ext_cap(&c, 0x100, 0x0010, 1);
	cfg_w32(&c, 0x100 + 0x04, 0x00000002);
	cfg_w16(&c, 0x100 + 0x08, 0x0019);      /* VF enable, MSE, ARI hierarchy */
	cfg_w16(&c, 0x100 + 0x0c, 8);
	cfg_w16(&c, 0x100 + 0x0e, 8);
	cfg_w16(&c, 0x100 + 0x10, 3);
	cfg_w16(&c, 0x100 + 0x14, 1);
	cfg_w16(&c, 0x100 + 0x16, 1);
	cfg_w16(&c, 0x100 + 0x1a, 0x0011);
	assert_int_equal(iommu_pci_decode_config(&d, addr(1, 0, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(d.sriov.offset, 0x100);
	assert_int_equal(d.sriov.total_vfs, 8);
	assert_int_equal(d.sriov.num_vfs, 3);
	assert_int_equal(d.sriov.vf_offset, 1);
	assert_int_equal(d.sriov.vf_stride, 1);
	assert_int_equal(d.sriov.vf_device, 0x0011);
	assert_int_equal(d.sriov.ctrl, 0x0019);
	iommu_pci_dev_release(&d);
}

/* The kernel reads extended capabilities of PCI Express functions only. */
static void test_ext_caps_need_pcie(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 4096, 0x8086, 0x1234, 0x020000, 0x00);
	cfg_add_acs(&c, 0x100, 0x001f, 0x001f);
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(d.acs_pos, 0);
	assert_int_equal(d.n_caps, 0);
	iommu_pci_dev_release(&d);
}

/* Without the status bit the capability pointer is not followed. */
static void test_no_cap_list_bit(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 256, 0x8086, 0x1234, 0x020000, 0x00);
	cfg_add_cap(&c, 0x40, 0x05);
	cfg_w8(&c, 0x06, 0x00);
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(d.n_caps, 0);
	iommu_pci_dev_release(&d);
}

static void test_cap_loop_warns_and_stops(void **state)
{
	struct warnings w = { 0 };
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 256, 0x8086, 0x1234, 0x020000, 0x00);
	cfg_add_cap(&c, 0x40, 0x05);
	cfg_add_cap(&c, 0x50, 0x01);
	cfg_w8(&c, 0x51, 0x40);     /* 0x50 points back to 0x40 */
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, c.size, collect, &w, &err), 0);
	assert_int_equal(d.n_caps, 2);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "0000:00:02.0"));
	assert_non_null(strstr(w.last, "loops back to 0x40"));
	iommu_pci_dev_release(&d);
}

static void test_ext_cap_loop_warns_and_stops(void **state)
{
	struct warnings w = { 0 };
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 4096, 0x8086, 0x1234, 0x020000, 0x00);
	cfg_add_pcie(&c, 0x40, IOMMU_PCIE_ENDPOINT);
	cfg_w32(&c, 0x100, 0x0001 | (1u << 16) | (0x200u << 20));
	cfg_w32(&c, 0x200, 0x000d | (1u << 16) | (0x100u << 20));
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, c.size, collect, &w, &err), 0);
	assert_int_equal(iommu_pci_find_ext_cap(&d, 0x000d), 0x200);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "extended capability list loops back to 0x100"));
	iommu_pci_dev_release(&d);
}

/* An id of 0xff ends the walk (the kernel's "if (id == 0xff) break"). */
static void test_cap_id_ff_ends_walk(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 256, 0x8086, 0x1234, 0x020000, 0x00);
	cfg_add_cap(&c, 0x40, 0x05);
	cfg_add_cap(&c, 0x50, 0xff);
	cfg_add_cap(&c, 0x60, 0x01);
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(d.n_caps, 1);
	iommu_pci_dev_release(&d);
}

static void test_short_config_space(void **state)
{
	struct warnings w = { 0 };
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 64, 0x8086, 0x1234, 0x020000, 0x00);
	cfg_add_cap(&c, 0x40, 0x10);    /* points past the 64 bytes we have */
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, 64, collect, &w, &err), 0);
	assert_int_equal(d.n_caps, 0);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "beyond the 64 bytes"));
	iommu_pci_dev_release(&d);

	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, 63, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "0000:00:02.0"));
	assert_non_null(strstr(err.msg, "63 bytes"));
}

static void test_acs_format(void **state)
{
	char buf[160];

	(void)state;
	iommu_acs_format(0x005f, buf, sizeof(buf));
	assert_string_equal(buf, "SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ "
				 "EgressCtrl- DirectTrans+");
	iommu_acs_format(0x001d, buf, sizeof(buf));
	assert_string_equal(buf, "SrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ "
				 "EgressCtrl- DirectTrans-");
	/* a short buffer is cut, never overrun */
	iommu_acs_format(0x7f, buf, 10);
	assert_int_equal(strlen(buf), 9);
}

static void test_bounded_reads(void **state)
{
	struct iommu_pci_dev d;
	struct iommu_error err;
	struct cfg c;

	(void)state;
	cfg_init(&c, 256, 0x8086, 0x1234, 0x020000, 0x00);
	assert_int_equal(iommu_pci_decode_config(&d, addr(0, 2, 0), c.b, c.size, NULL, NULL, &err), 0);
	assert_int_equal(iommu_pci_read16(&d, 0), 0x8086);
	assert_int_equal(iommu_pci_read32(&d, 254), 0xffffffff);
	assert_int_equal(iommu_pci_read16(&d, 255), 0xffff);
	assert_int_equal(iommu_pci_read8(&d, 256), 0xff);
	assert_int_equal(iommu_pci_read8(&d, 255), 0);
	iommu_pci_dev_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_format),
		cmocka_unit_test(test_type0_header),
		cmocka_unit_test(test_type1_bridge),
		cmocka_unit_test(test_cardbus_bridge),
		cmocka_unit_test(test_capability_order_and_lookup),
		cmocka_unit_test(test_sriov),
		cmocka_unit_test(test_ext_caps_need_pcie),
		cmocka_unit_test(test_no_cap_list_bit),
		cmocka_unit_test(test_cap_loop_warns_and_stops),
		cmocka_unit_test(test_ext_cap_loop_warns_and_stops),
		cmocka_unit_test(test_cap_id_ff_ends_walk),
		cmocka_unit_test(test_short_config_space),
		cmocka_unit_test(test_acs_format),
		cmocka_unit_test(test_bounded_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
