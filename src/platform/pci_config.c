// SPDX-License-Identifier: MIT
/*
 * Configuration space decoding, as the kernel reads it at enumeration
 * (drivers/pci/probe.c pci_setup_device, drivers/pci/pci.c capability
 * walks): header, bridge bus numbers, the capability list and the
 * extended capability list with the kernel's bounds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/platform.h"
#include "platform/pci_regs.h"

/*
 * Hex digits where "SSSS:BB:DD.F" (@n == 12) or "BB:DD.F" (@n == 7) has
 * them, the separators elsewhere: sscanf's %x alone would also take a
 * sign, "0x" and leading blanks ("+000:00:00.0", "0000:-1:00.0").
 */
static bool addr_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char sep = i == n - 2 ? '.' : (i == n - 5 || (n == 12 && i == 4)) ? ':' : 0;

		if (sep ? s[i] != sep : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

int iommu_pci_addr_parse(const char *s, struct iommu_pci_addr *addr)
{
	unsigned seg = 0, bus, slot, func;
	int n = 0;

	if (!s || !addr)
		return -EINVAL;
	n = (int)strnlen(s, 13);
	if ((n != 12 && n != 7) || !addr_chars_ok(s, (size_t)n))
		return -EINVAL;
	n = 0;
	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &seg, &bus, &slot, &func, &n) == 4 &&
	    s[n] == '\0' && n == 12) {
		/* full form */
	} else {
		seg = 0;
		n = 0;
		if (sscanf(s, "%2x:%2x.%1u%n", &bus, &slot, &func, &n) != 3 ||
		    s[n] != '\0' || n != 7)
			return -EINVAL;
	}
	if (slot > 0x1f || func > 7)
		return -EINVAL;
	addr->segment = (uint16_t)seg;
	addr->bus = (uint8_t)bus;
	addr->devfn = IOMMU_PCI_DEVFN(slot, func);
	return 0;
}

char *iommu_pci_addr_format(struct iommu_pci_addr a, char *buf)
{
	snprintf(buf, IOMMU_PCI_ADDR_STRLEN, "%04x:%02x:%02x.%u", a.segment,
		 a.bus, IOMMU_PCI_SLOT(a.devfn), IOMMU_PCI_FUNC(a.devfn));
	return buf;
}

int iommu_pci_addr_cmp(struct iommu_pci_addr a, struct iommu_pci_addr b)
{
	if (a.segment != b.segment)
		return a.segment < b.segment ? -1 : 1;
	if (a.bus != b.bus)
		return a.bus < b.bus ? -1 : 1;
	if (a.devfn != b.devfn)
		return a.devfn < b.devfn ? -1 : 1;
	return 0;
}

const char *iommu_pcie_type_name(int type)
{
	switch (type) {
	case IOMMU_PCIE_ENDPOINT: return "Endpoint";
	case IOMMU_PCIE_LEG_END: return "Legacy Endpoint";
	case IOMMU_PCIE_ROOT_PORT: return "Root Port";
	case IOMMU_PCIE_UPSTREAM: return "Upstream Port";
	case IOMMU_PCIE_DOWNSTREAM: return "Downstream Port";
	case IOMMU_PCIE_PCI_BRIDGE: return "PCI-Express to PCI/PCI-X Bridge";
	case IOMMU_PCIE_PCIE_BRIDGE: return "PCI/PCI-X to PCI-Express Bridge";
	case IOMMU_PCIE_RC_END: return "Root Complex Integrated Endpoint";
	case IOMMU_PCIE_RC_EC: return "Root Complex Event Collector";
	case IOMMU_PCIE_NONE: return "conventional PCI";
	default: return "Unknown type";
	}
}

const char *iommu_pcie_type_id(int type)
{
	switch (type) {
	case IOMMU_PCIE_ENDPOINT: return "endpoint";
	case IOMMU_PCIE_LEG_END: return "legacy_endpoint";
	case IOMMU_PCIE_ROOT_PORT: return "root_port";
	case IOMMU_PCIE_UPSTREAM: return "upstream_port";
	case IOMMU_PCIE_DOWNSTREAM: return "downstream_port";
	case IOMMU_PCIE_PCI_BRIDGE: return "pcie_to_pci_bridge";
	case IOMMU_PCIE_PCIE_BRIDGE: return "pci_to_pcie_bridge";
	case IOMMU_PCIE_RC_END: return "rc_integrated_endpoint";
	case IOMMU_PCIE_RC_EC: return "rc_event_collector";
	case IOMMU_PCIE_NONE: return NULL;
	default: return "unknown";
	}
}

void iommu_acs_format(uint16_t bits, char *buf, size_t len)
{
	static const struct { uint16_t bit; const char *name; } names[] = {
		{ IOMMU_ACS_SV, "SrcValid" },  { IOMMU_ACS_TB, "TransBlk" },
		{ IOMMU_ACS_RR, "ReqRedir" },  { IOMMU_ACS_CR, "CmpltRedir" },
		{ IOMMU_ACS_UF, "UpstreamFwd" }, { IOMMU_ACS_EC, "EgressCtrl" },
		{ IOMMU_ACS_DT, "DirectTrans" },
	};
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* Past the end of @buf only count: buf + used would point outside it. */
		int n = snprintf(len > used ? buf + used : NULL, len > used ? len - used : 0, "%s%s%c",
				 i ? " " : "", names[i].name,
				 (bits & names[i].bit) ? '+' : '-');
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

const char *iommu_pci_cap_name(const struct iommu_pci_cap *cap)
{
	if (!cap->extended) {
		switch (cap->id) {
		case 0x01: return "Power Management";
		case 0x02: return "AGP";
		case 0x03: return "Vital Product Data";
		case 0x04: return "Slot ID";
		case 0x05: return "MSI";
		case 0x06: return "CompactPCI hot-swap";
		case 0x07: return "PCI-X";
		case 0x08: return "HyperTransport";
		case 0x09: return "Vendor Specific Information";
		case 0x0a: return "Debug port";
		case 0x0b: return "CompactPCI central resource control";
		case 0x0c: return "Hot-plug capable";
		case 0x0d: return "Subsystem";
		case 0x0e: return "AGP3";
		case 0x0f: return "Secure device";
		case 0x10: return "Express";
		case 0x11: return "MSI-X";
		case 0x12: return "SATA HBA";
		case 0x13: return "PCI Advanced Features";
		case 0x14: return "PCI Enhanced Allocation";
		case 0x15: return "Flattening Portal Bridge";
		default: return "Unknown capability";
		}
	}
	switch (cap->id) {
	case 0x0001: return "Advanced Error Reporting";
	case 0x0002: return "Virtual Channel";
	case 0x0003: return "Device Serial Number";
	case 0x0004: return "Power Budgeting";
	case 0x0005: return "Root Complex Link";
	case 0x0006: return "Root Complex Internal Link";
	case 0x0007: return "Root Complex Event Collector";
	case 0x0008: return "Multi-Function Virtual Channel";
	case 0x0009: return "Virtual Channel";
	case 0x000a: return "Root Complex Register Block";
	case 0x000b: return "Vendor Specific Information";
	case 0x000c: return "Configuration Access Correlation";
	case 0x000d: return "Access Control Services";
	case 0x000e: return "Alternative Routing-ID Interpretation (ARI)";
	case 0x000f: return "Address Translation Service (ATS)";
	case 0x0010: return "Single Root I/O Virtualization (SR-IOV)";
	case 0x0011: return "Multi-Root I/O Virtualization (MR-IOV)";
	case 0x0012: return "Multicast";
	case 0x0013: return "Page Request Interface (PRI)";
	case 0x0015: return "Resizable BAR";
	case 0x0016: return "Dynamic Power Allocation";
	case 0x0017: return "TPH Requester";
	case 0x0018: return "Latency Tolerance Reporting";
	case 0x0019: return "Secondary PCI Express";
	case 0x001b: return "Process Address Space ID (PASID)";
	case 0x001d: return "Downstream Port Containment";
	case 0x001e: return "L1 PM Substates";
	case 0x001f: return "Precision Time Measurement";
	case 0x0023: return "Designated Vendor-Specific";
	case 0x0024: return "VF Resizable BAR";
	case 0x0025: return "Data Link Feature";
	case 0x0026: return "Physical Layer 16.0 GT/s";
	case 0x0027: return "Lane Margining at the Receiver";
	default: return "Extended Capability";
	}
}

uint8_t iommu_pci_read8(const struct iommu_pci_dev *dev, size_t off)
{
	if (!dev->config || off >= dev->config_size)
		return 0xff;
	return dev->config[off];
}

uint16_t iommu_pci_read16(const struct iommu_pci_dev *dev, size_t off)
{
	if (!dev->config || off > dev->config_size || dev->config_size - off < 2)
		return 0xffff;
	return iommu_le16(dev->config + off);
}

uint32_t iommu_pci_read32(const struct iommu_pci_dev *dev, size_t off)
{
	if (!dev->config || off > dev->config_size || dev->config_size - off < 4)
		return 0xffffffff;
	return iommu_le32(dev->config + off);
}

uint16_t iommu_pci_find_cap(const struct iommu_pci_dev *dev, uint16_t id)
{
	for (size_t i = 0; i < dev->n_caps; i++)
		if (!dev->caps[i].extended && dev->caps[i].id == id)
			return dev->caps[i].offset;
	return 0;
}

uint16_t iommu_pci_find_ext_cap(const struct iommu_pci_dev *dev, uint16_t id)
{
	for (size_t i = 0; i < dev->n_caps; i++)
		if (dev->caps[i].extended && dev->caps[i].id == id)
			return dev->caps[i].offset;
	return 0;
}

static void warnf(iommu_warn_fn warn, void *ctx, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warnf(iommu_warn_fn warn, void *ctx, const char *name, const char *fmt, ...)
{
	char msg[384];
	char full[448];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", name, msg);
	warn(ctx, full);
}

static int add_cap(struct iommu_pci_dev *dev, size_t *alloc, uint16_t offset,
		   uint16_t id, uint8_t version, bool extended)
{
	if (dev->n_caps == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 8;
		struct iommu_pci_cap *c = realloc(dev->caps, n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		dev->caps = c;
		*alloc = n;
	}
	dev->caps[dev->n_caps++] = (struct iommu_pci_cap){
		.offset = offset, .id = id, .version = version, .extended = extended,
	};
	return 0;
}

/*
 * The standard capability list: a pointer at 0x34 (0x14 for CardBus),
 * entries dword aligned in 0x40..0xff, at most 48 of them (the kernel's
 * PCI_FIND_CAP_TTL).  An id of 0xff ends the walk as in the kernel.
 */
static int walk_caps(struct iommu_pci_dev *dev, size_t *alloc,
		     iommu_warn_fn warn, void *ctx)
{
	uint8_t seen[IPCI_CFG_SIZE / 4] = { 0 };
	uint8_t ptr_off;
	unsigned pos;
	int ttl = IPCI_CAP_LIST_TTL;

	if (!(dev->status & IPCI_STATUS_CAP_LIST))
		return 0;
	switch (dev->header_type) {
	case IPCI_HEADER_TYPE_NORMAL:
	case IPCI_HEADER_TYPE_BRIDGE:
		ptr_off = IPCI_CAPABILITY_LIST;
		break;
	case IPCI_HEADER_TYPE_CARDBUS:
		ptr_off = IPCI_CB_CAPABILITY_LIST;
		break;
	default:
		return 0;
	}
	pos = dev->config[ptr_off];
	while (ttl--) {
		if (pos < IPCI_CFG_HEADER_SIZE)
			return 0;
		pos &= IPCI_CAP_PTR_MASK;
		if (pos + 2 > dev->config_size) {
			warnf(warn, ctx, dev->name,
			      "capability pointer 0x%02x lies beyond the %zu bytes of config space read; "
			      "capability list ends there", pos, dev->config_size);
			return 0;
		}
		if (seen[pos / 4]) {
			warnf(warn, ctx, dev->name,
			      "capability list loops back to 0x%02x; the walk stops there", pos);
			return 0;
		}
		seen[pos / 4] = 1;
		uint8_t id = dev->config[pos + IPCI_CAP_LIST_ID];

		if (id == 0xff)
			return 0;
		int ret = add_cap(dev, alloc, (uint16_t)pos, id, 0, false);

		if (ret)
			return ret;
		pos = dev->config[pos + IPCI_CAP_LIST_NEXT];
	}
	warnf(warn, ctx, dev->name,
	      "capability list has more than %d entries; the walk stops there",
	      IPCI_CAP_LIST_TTL);
	return 0;
}

/*
 * The extended capability list: from 0x100, 32-bit headers, next pointers
 * dword aligned and at least 0x100, at most 480 entries.  A header of 0 or
 * all ones means there are none.
 */
static int walk_ext_caps(struct iommu_pci_dev *dev, size_t *alloc,
			 iommu_warn_fn warn, void *ctx)
{
	uint8_t seen[IPCI_CFG_EXP_SIZE / 4] = { 0 };
	unsigned pos = IPCI_EXT_CAP_START;
	int ttl = IPCI_EXT_CAP_TTL;

	if (dev->config_size <= IPCI_CFG_SIZE)
		return 0;
	while (ttl--) {
		if (pos + 4 > dev->config_size) {
			warnf(warn, ctx, dev->name,
			      "extended capability pointer 0x%03x lies beyond the %zu bytes of config space read; "
			      "extended capability list ends there", pos, dev->config_size);
			return 0;
		}
		uint32_t header = iommu_le32(dev->config + pos);

		if (header == 0 || header == 0xffffffff)
			return 0;
		if (seen[pos / 4]) {
			warnf(warn, ctx, dev->name,
			      "extended capability list loops back to 0x%03x; the walk stops there", pos);
			return 0;
		}
		seen[pos / 4] = 1;
		int ret = add_cap(dev, alloc, (uint16_t)pos,
				  (uint16_t)IOMMU_FIELD_GET(IPCI_EXT_CAP_ID, header),
				  (uint8_t)IOMMU_FIELD_GET(IPCI_EXT_CAP_VER, header), true);

		if (ret)
			return ret;
		/* bits 31:20 are the offset itself; its low two bits are reserved */
		pos = (unsigned)IOMMU_FIELD_GET(IPCI_EXT_CAP_NEXT, header) &
		      IPCI_EXT_CAP_NEXT_ALIGN;
		if (pos < IPCI_EXT_CAP_START)
			return 0;
	}
	warnf(warn, ctx, dev->name,
	      "extended capability list has more than %d entries; the walk stops there",
	      IPCI_EXT_CAP_TTL);
	return 0;
}

/* True when @size bytes from @pos are inside the config space read. */
static bool cap_fits(const struct iommu_pci_dev *dev, unsigned pos, unsigned size)
{
	return pos + size <= dev->config_size;
}

static void decode_pcie(struct iommu_pci_dev *dev, iommu_warn_fn warn, void *ctx)
{
	uint16_t pos = iommu_pci_find_cap(dev, IPCI_CAP_ID_EXP);

	if (!pos)
		return;
	if (!cap_fits(dev, pos, IPCI_EXP_V1_SIZE)) {
		warnf(warn, ctx, dev->name,
		      "PCI Express capability at 0x%02x is cut off by the end of config space; ignored",
		      pos);
		return;
	}
	dev->pcie_pos = pos;
	dev->pcie_flags = iommu_le16(dev->config + pos + IPCI_EXP_FLAGS);
	dev->pcie_version = (uint8_t)IOMMU_FIELD_GET(IPCI_EXP_FLAGS_VERS, dev->pcie_flags);
	dev->pcie_type = (int)IOMMU_FIELD_GET(IPCI_EXP_FLAGS_TYPE, dev->pcie_flags);
	dev->pcie_devcap = iommu_le32(dev->config + pos + IPCI_EXP_DEVCAP);
	if (dev->pcie_version >= 2 && cap_fits(dev, pos, IPCI_EXP_DEVCTL2 + 2)) {
		dev->pcie_devcap2 = iommu_le32(dev->config + pos + IPCI_EXP_DEVCAP2);
		dev->pcie_devctl2 = iommu_le16(dev->config + pos + IPCI_EXP_DEVCTL2);
	}
}

static void decode_ext(struct iommu_pci_dev *dev, iommu_warn_fn warn, void *ctx)
{
	uint16_t pos;

	pos = iommu_pci_find_ext_cap(dev, IPCI_EXT_CAP_ID_ACS);
	if (pos) {
		if (cap_fits(dev, pos, IPCI_ACS_CTRL + 2)) {
			dev->acs_pos = pos;
			dev->acs_cap = iommu_le16(dev->config + pos + IPCI_ACS_CAP);
			dev->acs_ctrl = iommu_le16(dev->config + pos + IPCI_ACS_CTRL);
		} else {
			warnf(warn, ctx, dev->name, "ACS capability at 0x%03x is cut off; ignored", pos);
		}
	}
	pos = iommu_pci_find_ext_cap(dev, IPCI_EXT_CAP_ID_ARI);
	if (pos) {
		if (cap_fits(dev, pos, IPCI_ARI_CTRL + 2)) {
			dev->ari_pos = pos;
			dev->ari_cap = iommu_le16(dev->config + pos + IPCI_ARI_CAP);
			dev->ari_ctrl = iommu_le16(dev->config + pos + IPCI_ARI_CTRL);
		} else {
			warnf(warn, ctx, dev->name, "ARI capability at 0x%03x is cut off; ignored", pos);
		}
	}
	pos = iommu_pci_find_ext_cap(dev, IPCI_EXT_CAP_ID_SRIOV);
	if (pos) {
		if (cap_fits(dev, pos, IPCI_SRIOV_SIZE)) {
			const uint8_t *c = dev->config + pos;
			struct iommu_pci_sriov *s = &dev->sriov;

			s->offset = pos;
			s->cap = iommu_le32(c + IPCI_SRIOV_CAP);
			s->ctrl = iommu_le16(c + IPCI_SRIOV_CTRL);
			s->initial_vfs = iommu_le16(c + IPCI_SRIOV_INITIAL_VF);
			s->total_vfs = iommu_le16(c + IPCI_SRIOV_TOTAL_VF);
			s->num_vfs = iommu_le16(c + IPCI_SRIOV_NUM_VF);
			s->func_link = c[IPCI_SRIOV_FUNC_LINK];
			s->vf_offset = iommu_le16(c + IPCI_SRIOV_VF_OFFSET);
			s->vf_stride = iommu_le16(c + IPCI_SRIOV_VF_STRIDE);
			s->vf_device = iommu_le16(c + IPCI_SRIOV_VF_DID);
		} else {
			warnf(warn, ctx, dev->name, "SR-IOV capability at 0x%03x is cut off; ignored", pos);
		}
	}
}

int iommu_pci_decode_config(struct iommu_pci_dev *dev, struct iommu_pci_addr addr,
			    const uint8_t *config, size_t size,
			    iommu_warn_fn warn, void *warn_ctx,
			    struct iommu_error *err)
{
	size_t alloc = 0;
	uint8_t *copy;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->addr = addr;
	dev->pcie_type = IOMMU_PCIE_NONE;
	dev->irq = -1;
	iommu_pci_addr_format(addr, dev->name);

	if (size < IPCI_CFG_HEADER_SIZE)
		return iommu_error_set(err, -EINVAL,
				       "%s: config space is %zu bytes, shorter than the %d-byte header",
				       dev->name, size, IPCI_CFG_HEADER_SIZE);
	if (size > IPCI_CFG_EXP_SIZE)
		return iommu_error_set(err, -EINVAL,
				       "%s: config space is %zu bytes, longer than the %d bytes PCI Express allows",
				       dev->name, size, IPCI_CFG_EXP_SIZE);
	if (iommu_le32(config) == 0xffffffff)
		return iommu_error_set(err, -EINVAL,
				       "%s: config space reads as all ones (no function answers there)",
				       dev->name);

	copy = malloc(size);
	if (!copy)
		return iommu_error_set(err, -ENOMEM, "%s: out of memory", dev->name);
	memcpy(copy, config, size);
	dev->config = copy;
	dev->config_size = size;

	dev->vendor = iommu_le16(copy + IPCI_VENDOR_ID);
	dev->device = iommu_le16(copy + IPCI_DEVICE_ID);
	dev->command = iommu_le16(copy + IPCI_COMMAND);
	dev->status = iommu_le16(copy + IPCI_STATUS);
	dev->revision = copy[IPCI_REVISION_ID];
	dev->class_code = (uint32_t)copy[IPCI_CLASS_PROG] |
			  ((uint32_t)copy[IPCI_CLASS_PROG + 1] << 8) |
			  ((uint32_t)copy[IPCI_CLASS_PROG + 2] << 16);
	dev->header_type = (uint8_t)IOMMU_FIELD_GET(IPCI_HEADER_TYPE_LAYOUT, copy[IPCI_HEADER_TYPE]);
	dev->multifunction = IOMMU_FIELD_GET(IPCI_HEADER_TYPE_MFD, copy[IPCI_HEADER_TYPE]) != 0;

	switch (dev->header_type) {
	case IPCI_HEADER_TYPE_NORMAL:
		dev->subsystem_vendor = iommu_le16(copy + IPCI_SUBSYSTEM_VENDOR_ID);
		dev->subsystem_device = iommu_le16(copy + IPCI_SUBSYSTEM_ID);
		break;
	case IPCI_HEADER_TYPE_BRIDGE:
		dev->is_bridge = true;
		dev->primary_bus = copy[IPCI_PRIMARY_BUS];
		dev->secondary_bus = copy[IPCI_SECONDARY_BUS];
		dev->subordinate_bus = copy[IPCI_SUBORDINATE_BUS];
		break;
	case IPCI_HEADER_TYPE_CARDBUS:
		dev->is_bridge = true;
		dev->primary_bus = copy[IPCI_CB_PRIMARY_BUS];
		dev->secondary_bus = copy[IPCI_CB_CARD_BUS];
		dev->subordinate_bus = copy[IPCI_CB_SUBORDINATE_BUS];
		if (size >= IPCI_CB_SUBSYSTEM_ID + 2) {
			dev->subsystem_vendor = iommu_le16(copy + IPCI_CB_SUBSYSTEM_VENDOR_ID);
			dev->subsystem_device = iommu_le16(copy + IPCI_CB_SUBSYSTEM_ID);
		}
		break;
	default:
		/* The kernel ignores such a function (pci_setup_device: -EIO). */
		ret = iommu_error_set(err, -EINVAL, "%s: unknown header type 0x%02x",
				      dev->name, dev->header_type);
		iommu_pci_dev_release(dev);
		return ret;
	}

	ret = walk_caps(dev, &alloc, warn, warn_ctx);
	if (!ret) {
		decode_pcie(dev, warn, warn_ctx);
		/*
		 * The kernel reads the extended space only of PCI Express
		 * functions (pci_cfg_space_size); bytes past 256 of anything
		 * else are not capabilities.
		 */
		if (dev->pcie_pos)
			ret = walk_ext_caps(dev, &alloc, warn, warn_ctx);
	}
	if (ret) {
		iommu_pci_dev_release(dev);
		return iommu_error_set(err, ret, "%s: out of memory", dev->name);
	}
	decode_ext(dev, warn, warn_ctx);
	/*
	 * Bridges carry their subsystem ids in the bridge subsystem vendor id
	 * capability, where the kernel reads them (pci_setup_device).
	 */
	if (dev->header_type == IPCI_HEADER_TYPE_BRIDGE) {
		uint16_t pos = iommu_pci_find_cap(dev, IPCI_CAP_ID_SSVID);

		if (pos && (size_t)pos + IPCI_SSVID_DEVICE_ID + 2 <= dev->config_size) {
			dev->subsystem_vendor = iommu_le16(dev->config + pos + IPCI_SSVID_VENDOR_ID);
			dev->subsystem_device = iommu_le16(dev->config + pos + IPCI_SSVID_DEVICE_ID);
		}
	}
	return 0;
}

void iommu_pci_dev_release(struct iommu_pci_dev *dev)
{
	free((void *)dev->config);
	free(dev->caps);
	dev->config = NULL;
	dev->caps = NULL;
	dev->n_caps = 0;
	dev->config_size = 0;
}
