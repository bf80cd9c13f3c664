/* SPDX-License-Identifier: MIT */
/*
 * libiommu platform layer: the PCI platform an IOMMU sits in.
 *
 * A platform is a set of PCI functions with their raw configuration space
 * (decoded here the way the kernel reads it), the bus tree built from the
 * bridges' bus-number registers, the ACPI tables, the kernel command line
 * and release, and the IOMMU units' registers as sysfs shows them.
 *
 * It comes from one of three sources, all loaded through the same parser:
 *  - a snapshot directory (the layout of the oracle's captures),
 *  - the live host (/sys, /proc),
 *  - a platform built into the library (iommu_builtin_*).
 * Any platform can be written back out as a snapshot directory.
 *
 * The platform keeps every input file it read, byte for byte; only the
 * inputs listed in doc/snapshot-format.md are ever read.  The kernel's
 * answers that a capture also holds (groups, lspci output, dmesg) are never
 * opened.
 */
#ifndef IOMMU_PLATFORM_H
#define IOMMU_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* PCI addresses                                                        */

struct iommu_pci_addr {
	uint16_t segment;   /* PCI segment group ("domain") */
	uint8_t bus;
	uint8_t devfn;      /* device << 3 | function */
};

#define IOMMU_PCI_DEVFN(slot, func) ((uint8_t)((((slot) & 0x1f) << 3) | ((func) & 0x07)))
#define IOMMU_PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define IOMMU_PCI_FUNC(devfn) ((devfn) & 0x07)

/* "0000:00:1c.0" plus the terminating NUL. */
#define IOMMU_PCI_ADDR_STRLEN 13

/* Parse "SSSS:BB:DD.F" or "BB:DD.F" (segment 0).  0 or -EINVAL. */
int iommu_pci_addr_parse(const char *s, struct iommu_pci_addr *addr);
/* Format as "SSSS:BB:DD.F" into @buf (IOMMU_PCI_ADDR_STRLEN bytes); returns buf. */
char *iommu_pci_addr_format(struct iommu_pci_addr addr, char *buf);
/* Order by segment, bus, devfn, as the kernel and lspci sort devices. */
int iommu_pci_addr_cmp(struct iommu_pci_addr a, struct iommu_pci_addr b);
/* 16-bit requester id: bus << 8 | devfn. */
static inline uint16_t iommu_pci_addr_rid(struct iommu_pci_addr a)
{
	return (uint16_t)((a.bus << 8) | a.devfn);
}

/* ------------------------------------------------------------------ */
/* Decoded configuration space                                          */

/* PCI Express device/port type (PCIe capability flags, bits 7:4). */
enum iommu_pcie_type {
	IOMMU_PCIE_NONE = -1,           /* no PCI Express capability */
	IOMMU_PCIE_ENDPOINT = 0x0,
	IOMMU_PCIE_LEG_END = 0x1,       /* legacy endpoint */
	IOMMU_PCIE_ROOT_PORT = 0x4,
	IOMMU_PCIE_UPSTREAM = 0x5,      /* switch upstream port */
	IOMMU_PCIE_DOWNSTREAM = 0x6,    /* switch downstream port */
	IOMMU_PCIE_PCI_BRIDGE = 0x7,    /* PCIe to PCI/PCI-X bridge */
	IOMMU_PCIE_PCIE_BRIDGE = 0x8,   /* PCI/PCI-X to PCIe bridge */
	IOMMU_PCIE_RC_END = 0x9,        /* root complex integrated endpoint */
	IOMMU_PCIE_RC_EC = 0xa,         /* root complex event collector */
};

/* The words lspci uses ("Root Port", "Endpoint", ...); "Unknown type N" otherwise. */
const char *iommu_pcie_type_name(int type);
/* Short machine-friendly names ("root_port", "endpoint", ...); NULL for none. */
const char *iommu_pcie_type_id(int type);

/* ACS capability and control bits (PCIe Base 7.7.8). */
#define IOMMU_ACS_SV 0x0001  /* source validation */
#define IOMMU_ACS_TB 0x0002  /* translation blocking */
#define IOMMU_ACS_RR 0x0004  /* P2P request redirect */
#define IOMMU_ACS_CR 0x0008  /* P2P completion redirect */
#define IOMMU_ACS_UF 0x0010  /* upstream forwarding */
#define IOMMU_ACS_EC 0x0020  /* P2P egress control */
#define IOMMU_ACS_DT 0x0040  /* direct translated P2P */
/* Write "SrcValid+ TransBlk- ..." as lspci prints ACSCap/ACSCtl. */
void iommu_acs_format(uint16_t bits, char *buf, size_t len);

/* One entry of the capability list or of the extended capability list. */
struct iommu_pci_cap {
	uint16_t offset;
	uint16_t id;
	uint8_t version;    /* extended capabilities only */
	bool extended;
};

struct iommu_pci_sriov {
	uint16_t offset;        /* of the capability */
	uint32_t cap;
	uint16_t ctrl;
	uint16_t initial_vfs, total_vfs, num_vfs;
	uint8_t func_link;
	uint16_t vf_offset, vf_stride, vf_device;
};

struct iommu_pci_bus;

struct iommu_pci_dev {
	struct iommu_pci_addr addr;
	char name[IOMMU_PCI_ADDR_STRLEN];   /* "0000:00:1c.0" */

	/* Raw configuration space as read (64, 256 or 4096 bytes). */
	const uint8_t *config;
	size_t config_size;

	/* Standard header. */
	uint16_t vendor, device;
	/* Type 0 header, or a bridge's subsystem vendor id capability; 0 where absent. */
	uint16_t subsystem_vendor, subsystem_device;
	uint32_t class_code;    /* base << 16 | sub << 8 | prog-if */
	uint8_t revision;
	uint8_t header_type;    /* layout, bit 7 masked off */
	bool multifunction;     /* header type bit 7 (function 0's is what counts) */
	uint16_t command, status;

	/* Bridges (header types 1 and 2). */
	bool is_bridge;
	uint8_t primary_bus, secondary_bus, subordinate_bus;

	/* Capability lists, in list order. */
	struct iommu_pci_cap *caps;
	size_t n_caps;

	/* PCI Express capability; pcie_pos == 0 when absent. */
	uint16_t pcie_pos;
	uint16_t pcie_flags;
	int pcie_type;          /* enum iommu_pcie_type */
	uint8_t pcie_version;
	uint32_t pcie_devcap;
	uint32_t pcie_devcap2;  /* 0 for version 1 capabilities */
	uint16_t pcie_devctl2;

	/* ACS; acs_pos == 0 when absent. */
	uint16_t acs_pos;
	uint16_t acs_cap, acs_ctrl;

	/* ARI; ari_pos == 0 when absent. */
	uint16_t ari_pos;
	uint16_t ari_cap, ari_ctrl;

	/* SR-IOV; sriov.offset == 0 when absent. */
	struct iommu_pci_sriov sriov;
	/* An SR-IOV virtual function: its physical function and VF index. */
	bool is_virtfn;
	struct iommu_pci_dev *physfn;
	int vf_index;

	/* sysfs attributes where the source has them. */
	const char *driver;     /* bound driver, NULL for none */
	int irq;                /* -1 when unknown */

	/* Topology. */
	struct iommu_pci_bus *bus;          /* the bus this function sits on */
	struct iommu_pci_bus *subordinate;  /* for bridges: the bus behind it */
};

static inline bool iommu_pci_is_pcie(const struct iommu_pci_dev *d)
{
	return d->pcie_pos != 0;
}

/* Look up a capability (standard list) by id; returns offset or 0. */
uint16_t iommu_pci_find_cap(const struct iommu_pci_dev *dev, uint16_t id);
/* Look up an extended capability by id; returns offset or 0. */
uint16_t iommu_pci_find_ext_cap(const struct iommu_pci_dev *dev, uint16_t id);
/* Capability names as lspci words them ("Express", "MSI-X", "Access Control Services"). */
const char *iommu_pci_cap_name(const struct iommu_pci_cap *cap);

/* Read config space with bounds checks: out of range reads return all ones. */
uint8_t iommu_pci_read8(const struct iommu_pci_dev *dev, size_t off);
uint16_t iommu_pci_read16(const struct iommu_pci_dev *dev, size_t off);
uint32_t iommu_pci_read32(const struct iommu_pci_dev *dev, size_t off);

/*
 * Decode @config (copied) into @dev.  @name is used in messages.
 * Errors: -EINVAL when the config space is shorter than the 64-byte
 * header, longer than 4096 bytes, or reads as all ones (no device).
 * Damaged capability lists (pointers past the end, loops) are not
 * errors, as the kernel walks them with a bound and stops: each is
 * reported through @warn (may be NULL) and the walk ends there.
 */
typedef void (*iommu_warn_fn)(void *ctx, const char *msg);
int iommu_pci_decode_config(struct iommu_pci_dev *dev, struct iommu_pci_addr addr,
			    const uint8_t *config, size_t size,
			    iommu_warn_fn warn, void *warn_ctx,
			    struct iommu_error *err);
/* Free what iommu_pci_decode_config allocated (not @dev itself). */
void iommu_pci_dev_release(struct iommu_pci_dev *dev);

/* ------------------------------------------------------------------ */
/* Bus tree                                                             */

struct iommu_pci_bus {
	uint16_t segment;
	uint8_t number;
	uint8_t busn_end;               /* last bus number below this bus */
	/*
	 * The bridge leading here; NULL for a root bus, and for the virtual
	 * bus SR-IOV virtual functions sit on when their bus number differs
	 * from the physical function's (that bus's parent is the PF's bus).
	 */
	struct iommu_pci_dev *self;
	struct iommu_pci_bus *parent;   /* NULL for a root bus */
	struct iommu_pci_dev **devices; /* in devfn order */
	size_t n_devices;
	struct iommu_pci_bus **children; /* in bridge devfn order */
	size_t n_children;
};

static inline bool iommu_pci_bus_is_root(const struct iommu_pci_bus *b)
{
	return b->parent == NULL;
}

/* ------------------------------------------------------------------ */
/* Platforms                                                            */

struct iommu_platform;

enum iommu_platform_source {
	IOMMU_SOURCE_SNAPSHOT,
	IOMMU_SOURCE_HOST,
	IOMMU_SOURCE_BUILTIN,
	IOMMU_SOURCE_MEMORY,    /* built from files handed over by the caller */
};

/* Load the snapshot directory @dir. */
int iommu_platform_load_snapshot(const char *dir, struct iommu_platform **out,
				 struct iommu_error *err);

/*
 * Load the running machine.  @sysfs and @procfs name the mount points
 * ("/sys" and "/proc" when NULL), so that a copy of a host's files can be
 * loaded as a host would be.  Configuration space beyond the 64-byte
 * header and the ACPI tables are readable by root only: without them the
 * load fails with -EACCES and a message that says so.
 */
int iommu_platform_load_host(const char *sysfs, const char *procfs,
			     struct iommu_platform **out, struct iommu_error *err);

/* Built-in platforms. */
size_t iommu_builtin_count(void);
const char *iommu_builtin_name(size_t i);
const char *iommu_builtin_description(size_t i);
const char *iommu_builtin_default(void);
int iommu_platform_load_builtin(const char *name, struct iommu_platform **out,
				struct iommu_error *err);

/*
 * Load from files held in memory: @paths[i] (snapshot-relative, such as
 * "pci/0000:00:00.0/config") has @lens[i] bytes at @data[i].  Used by the
 * built-in platforms and by the fuzz targets.
 */
int iommu_platform_load_files(const char *label, size_t n, const char *const *paths,
			      const uint8_t *const *data, const size_t *lens,
			      struct iommu_platform **out, struct iommu_error *err);

/* Write @p as a snapshot directory (created if needed; must be empty or absent). */
int iommu_platform_write_snapshot(const struct iommu_platform *p, const char *dir,
				  struct iommu_error *err);

void iommu_platform_free(struct iommu_platform *p);

enum iommu_platform_source iommu_platform_source(const struct iommu_platform *p);
/* Where it came from: a directory, "host", or the built-in name. */
const char *iommu_platform_label(const struct iommu_platform *p);

/* Devices, sorted by address. */
size_t iommu_platform_num_devices(const struct iommu_platform *p);
struct iommu_pci_dev *iommu_platform_device(const struct iommu_platform *p, size_t i);
struct iommu_pci_dev *iommu_platform_find_device(const struct iommu_platform *p,
						 struct iommu_pci_addr addr);

/* Root buses, sorted by segment and number. */
size_t iommu_platform_num_root_buses(const struct iommu_platform *p);
struct iommu_pci_bus *iommu_platform_root_bus(const struct iommu_platform *p, size_t i);
/* The bus @number of @segment, or NULL when no function is there and no bridge leads to it. */
struct iommu_pci_bus *iommu_platform_find_bus(const struct iommu_platform *p,
					      uint16_t segment, uint8_t number);

/* Kernel command line ("" when the source has none) and release (NULL when unknown). */
const char *iommu_platform_cmdline(const struct iommu_platform *p);
const char *iommu_platform_kernel_release(const struct iommu_platform *p);

/* ACPI tables by signature ("DMAR", "IVRS", ...); instance 0 is the first. */
int iommu_platform_acpi_table(const struct iommu_platform *p, const char *signature,
			      const uint8_t **data, size_t *len);
size_t iommu_platform_num_acpi_tables(const struct iommu_platform *p);
const char *iommu_platform_acpi_table_name(const struct iommu_platform *p, size_t i);

/*
 * Any input file by snapshot-relative path ("iommu_class/dmar0/intel-iommu/cap").
 * 0, or -ENOENT when the platform has no such file.
 */
int iommu_platform_file(const struct iommu_platform *p, const char *path,
			const uint8_t **data, size_t *len);
/* A text file holding one hexadecimal number ("fed90000", "0x8086"), as the
 * sysfs attributes and the iommu_class registers are: 0, -ENOENT, or
 * -EINVAL when it holds anything else. */
int iommu_platform_file_hex(const struct iommu_platform *p, const char *path, uint64_t *val);
size_t iommu_platform_num_files(const struct iommu_platform *p);
const char *iommu_platform_file_path(const struct iommu_platform *p, size_t i);

/* Non-fatal findings made while loading (damaged capability lists, ...). */
size_t iommu_platform_num_warnings(const struct iommu_platform *p);
const char *iommu_platform_warning(const struct iommu_platform *p, size_t i);

/* ------------------------------------------------------------------ */
/* Names (pci.ids through libpci)                                       */

struct iommu_pci_names;

/*
 * Open the pci.ids database through libpci.  Never NULL unless out of
 * memory; when the database is missing, lookups give numbers as lspci does.
 */
struct iommu_pci_names *iommu_pci_names_open(void);
void iommu_pci_names_close(struct iommu_pci_names *n);
/*
 * Names as lspci prints them.  With @with_ids the numbers follow in
 * brackets, as with lspci -nn: "Intel Corporation [8086]".  Each returns @buf.
 */
const char *iommu_pci_vendor_name(struct iommu_pci_names *n, uint16_t vendor,
				  bool with_ids, char *buf, size_t len);
/* "Intel Corporation 82574L Gigabit Network Connection [8086:10d3]" (lspci -tvnn). */
const char *iommu_pci_device_name(struct iommu_pci_names *n, uint16_t vendor,
				  uint16_t device, bool with_ids, char *buf, size_t len);
/* Device alone: "82574L Gigabit Network Connection". */
const char *iommu_pci_device_only_name(struct iommu_pci_names *n, uint16_t vendor,
				       uint16_t device, char *buf, size_t len);
/* "Ethernet controller" for the 16-bit base and sub-class ("... [0200]" with ids). */
const char *iommu_pci_class_name(struct iommu_pci_names *n, uint16_t cls,
				 bool with_ids, char *buf, size_t len);
/* Programming interface name ("AHCI 1.0"), or NULL when pci.ids has none. */
const char *iommu_pci_progif_name(struct iommu_pci_names *n, uint16_t cls, uint8_t prog_if,
				  char *buf, size_t len);
/* Subsystem as lspci's "Subsystem:" line: "Red Hat, Inc. QEMU Virtual Machine". */
const char *iommu_pci_subsystem_name(struct iommu_pci_names *n, uint16_t vendor,
				     uint16_t device, uint16_t sub_vendor,
				     uint16_t sub_device, bool with_ids, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_PLATFORM_H */
