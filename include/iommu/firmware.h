/* SPDX-License-Identifier: MIT */
/*
 * libiommu firmware layer: the ACPI tables that describe IOMMUs.
 *
 *  - DMAR (Intel VT-d; Intel VT-d specification chapter 8): DRHD, RMRR,
 *    ATSR, RHSA, ANDD, SATC (and SIDP) remapping structures with their
 *    device scopes.
 *  - IVRS (AMD I/O Virtualization Technology specification, 5.2): IVHD
 *    blocks of types 0x10, 0x11 and 0x40 with their device entries, and
 *    IVMD blocks.
 *
 * Parsing decodes every field and keeps structures in table order.
 * Validation follows the kernel (drivers/iommu/intel/dmar.c,
 * drivers/iommu/amd/init.c): every problem is a diagnostic with the table
 * offset and the structure it concerns, and says whether the kernel warns
 * and goes on or refuses the table.  Matching to a platform's PCI devices
 * is done as the kernel does it (dmar_find_matched_drhd_unit,
 * device_lookup_iommu, the RMRR scope walk; the IVRS rlookup and alias
 * tables).
 *
 * Tables come from a binary file, a directory of tables (as in
 * /sys/firmware/acpi/tables or a snapshot's acpi/), the text acpidump
 * prints, or a platform (iommu_platform_acpi_table).  doc/acpi.md has the
 * rules with their kernel references.
 */
#ifndef IOMMU_FIRMWARE_H
#define IOMMU_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/base.h"
#include "iommu/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Common                                                               */

#define IOMMU_ACPI_HEADER_LEN 36

struct iommu_acpi_header {
	char signature[5];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[7];
	char oem_table_id[9];
	uint32_t oem_revision;
	char asl_compiler_id[5];        /* the ACPI specification's "Creator ID" */
	uint32_t asl_compiler_revision; /* ... and "Creator Revision" */
	bool checksum_ok;               /* the bytes of the table sum to 0 (mod 256) */
};

/*
 * Decode the 36-byte standard header of @data.  The checksum is computed
 * over min(@len, length field) bytes.  0, or -EINVAL when @len < 36.
 */
int iommu_acpi_header_parse(const uint8_t *data, size_t len, struct iommu_acpi_header *h);
/* Sum of @len bytes, mod 256 (0 for a table whose checksum is right). */
uint8_t iommu_acpi_checksum(const uint8_t *data, size_t len);

enum iommu_diag_severity {
	IOMMU_DIAG_NOTE,        /* worth knowing; the kernel says nothing or logs info */
	IOMMU_DIAG_WARN,        /* the kernel warns and goes on */
	IOMMU_DIAG_FATAL,       /* the kernel refuses the table (or the structure), hangs
				 * on it, or reads outside it */
};
/* "note", "warning", "fatal" */
const char *iommu_diag_severity_name(enum iommu_diag_severity s);

struct iommu_diag {
	enum iommu_diag_severity severity;
	size_t offset;          /* table offset the problem is at */
	int structure;          /* index in structs/blocks it concerns; -1: the table header */
	char msg[256];          /* "DRHD at 0x30: device scope at 0x40 ..." */
};

/* ------------------------------------------------------------------ */
/* Table sources: files, directories, acpidump text                     */

struct iommu_acpi_table {
	char signature[5];      /* from the table's own header ("" when shorter than 4 bytes) */
	char *name;             /* where it came from: a path, or "DMAR @ 0x..." of acpidump */
	uint8_t *data;
	size_t len;
};

struct iommu_acpi_tables {
	struct iommu_acpi_table *tables;        /* in the order found */
	size_t n;
};

/*
 * Read the text acpidump prints: for each table a line "SIG @ 0xADDR"
 * followed by lines "OFFS: HH HH ... HH  ascii", as people paste it.
 * Offsets must follow each other; every table must hold as many bytes as
 * its header's length field says.  -EINVAL with the line number and what
 * is wrong on malformed text; -ENOMEM.
 */
int iommu_acpi_parse_acpidump(const char *text, size_t len, struct iommu_acpi_tables **out,
			      struct iommu_error *err);
/*
 * A file holding one binary table, or acpidump text (told apart by
 * content).  -ENOENT/-EACCES/... when it cannot be read, -EINVAL when it
 * is empty or malformed acpidump text.
 */
int iommu_acpi_load_file(const char *path, struct iommu_acpi_tables **out,
			 struct iommu_error *err);
/*
 * Every regular file of @dir that holds a binary ACPI table (or acpidump
 * text), sorted by file name; other files (such as *.dsl) are skipped.  A
 * snapshot directory is read through its acpi/ subdirectory.  -ENOENT
 * when @dir holds no table.
 */
int iommu_acpi_load_dir(const char *dir, struct iommu_acpi_tables **out,
			struct iommu_error *err);
/* A file or a directory, as above. */
int iommu_acpi_load_path(const char *path, struct iommu_acpi_tables **out,
			 struct iommu_error *err);
/* The tables of a platform (iommu_platform_acpi_table). */
int iommu_acpi_load_platform(const struct iommu_platform *p, struct iommu_acpi_tables **out,
			     struct iommu_error *err);
/* Instance @instance (0 = first) of @signature, or NULL. */
const struct iommu_acpi_table *iommu_acpi_tables_find(const struct iommu_acpi_tables *t,
						      const char *signature, size_t instance);
void iommu_acpi_tables_free(struct iommu_acpi_tables *t);

/* ------------------------------------------------------------------ */
/* DMAR                                                                 */

#define IOMMU_DMAR_HEADER_LEN 48

#define IOMMU_DMAR_FLAG_INTR_REMAP             0x01
#define IOMMU_DMAR_FLAG_X2APIC_OPT_OUT         0x02
#define IOMMU_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN 0x04

enum iommu_dmar_type {
	IOMMU_DMAR_DRHD = 0,
	IOMMU_DMAR_RMRR = 1,
	IOMMU_DMAR_ATSR = 2,
	IOMMU_DMAR_RHSA = 3,
	IOMMU_DMAR_ANDD = 4,
	IOMMU_DMAR_SATC = 5,
	IOMMU_DMAR_SIDP = 6,    /* VT-d 4.1+; the kernel has no handler and skips it */
};

#define IOMMU_DRHD_FLAG_INCLUDE_PCI_ALL 0x01
#define IOMMU_ATSR_FLAG_ALL_PORTS       0x01
#define IOMMU_SATC_FLAG_ATC_REQUIRED    0x01

enum iommu_dmar_scope_type {
	IOMMU_SCOPE_ENDPOINT = 1,
	IOMMU_SCOPE_BRIDGE = 2,
	IOMMU_SCOPE_IOAPIC = 3,
	IOMMU_SCOPE_HPET = 4,
	IOMMU_SCOPE_NAMESPACE = 5,
};

struct iommu_dmar_path {
	uint8_t device;
	uint8_t function;
};

struct iommu_dmar_scope {
	size_t offset;              /* in the table */
	uint8_t type;               /* enum iommu_dmar_scope_type, or unknown */
	uint8_t length;
	uint16_t reserved;          /* bytes 2-3 as a little-endian word */
	uint8_t flags;              /* byte 2 (VT-d 4.x "Flags"; reserved before) */
	uint8_t enumeration_id;     /* IOAPIC id, HPET number, ANDD device number */
	uint8_t start_bus;
	size_t n_path;
	struct iommu_dmar_path *path;
};

/* One remapping structure; which fields mean something depends on type. */
struct iommu_dmar_struct {
	size_t offset;
	uint16_t type;
	uint16_t length;
	uint8_t flags;              /* DRHD, ATSR, SATC */
	uint8_t size;               /* DRHD: register set size, 2^size 4 KiB pages */
	uint16_t segment;           /* DRHD, RMRR, ATSR, SATC, SIDP */
	uint64_t address;           /* DRHD: register base; RHSA: register base */
	uint64_t base, end;         /* RMRR: base address and end (limit, inclusive) */
	uint32_t proximity_domain;  /* RHSA */
	uint8_t acpi_device_number; /* ANDD */
	char *object_name;          /* ANDD: ACPI object name, NUL-terminated */
	uint32_t reserved;          /* the reserved field after the header (RMRR, ATSR, RHSA,
				     * ANDD, SATC, SIDP), little-endian, whatever its width */
	struct iommu_dmar_scope *scopes;
	size_t n_scopes;
	const uint8_t *raw;         /* the structure's bytes (inside the parsed copy) */
	bool known;                 /* false for types this version does not know */
	bool truncated;             /* shorter than its type's fixed part, or cut by the
				     * table end: fields past it are 0; matching skips it */
	bool duplicate;             /* DRHD with the segment and base of an earlier one:
				     * the kernel ignores it (dmar_find_dmaru) */
};

struct iommu_dmar {
	struct iommu_acpi_header header;
	uint8_t host_address_width; /* the field: width - 1 */
	uint8_t flags;
	struct iommu_dmar_struct *structs;   /* table order */
	size_t n_structs;
	struct iommu_diag *diags;
	size_t n_diags;
	bool refused;               /* the kernel would not use this table */
	uint8_t *data;              /* private copy of the table */
	size_t len;
};

/*
 * Parse a DMAR table.  Returns 0 with *out set even when the table has
 * problems (they are in out->diags); -EINVAL only when there is no table
 * to speak of (shorter than the header, wrong signature), -ENOMEM.
 */
int iommu_dmar_parse(const uint8_t *data, size_t len, struct iommu_dmar **out,
		     struct iommu_error *err);
void iommu_dmar_free(struct iommu_dmar *dmar);
const char *iommu_dmar_type_name(uint16_t type);         /* "DRHD", ... */
const char *iommu_dmar_scope_type_name(uint8_t type);    /* "endpoint", ... */

/*
 * Whether @scope names @dev (a PCI function of segment @segment) as the
 * kernel's dmar_match_pci_path decides: 0 no, 1 the path from the root
 * bus matches, 2 only through the kernel's single-element fallback (the
 * firmware wrote the device's own bus: "[Firmware Bug]: RMRR entry for
 * device ... is broken - applying workaround").  Scope types 1 and 2 only.
 */
int iommu_dmar_scope_match(const struct iommu_dmar_scope *scope, uint16_t segment,
			   const struct iommu_pci_dev *dev);

/*
 * Resolve a device scope's path to the PCI function it names on @p (SR-IOV
 * VFs aside, as the kernel never enters them in scopes): the one whose path
 * from its root bus matches, else the one the single-element fallback
 * matches (iommu_dmar_scope_match).  NULL when the path leads nowhere on
 * this platform.
 */
struct iommu_pci_dev *iommu_dmar_scope_device(const struct iommu_dmar_scope *scope,
					      uint16_t segment,
					      const struct iommu_platform *p);

/* DRHD units in the kernel's dmar_drhd_units list order: explicit-scope
 * units in reverse table order, then INCLUDE_PCI_ALL units in table order.
 * Duplicates and truncated units are left out.  Returns how many; fills
 * up to @max. */
size_t iommu_dmar_drhd_order(const struct iommu_dmar *dmar,
			     const struct iommu_dmar_struct **out, size_t max);

/* The unit's sequence number, N of its sysfs name dmarN (table order among
 * the DRHDs the kernel allocates), or -1 for a duplicate or truncated one. */
int iommu_dmar_drhd_seq_id(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd);

/*
 * The DRHD that translates @dev, as the kernel finds it: the first unit in
 * list order whose scope names @dev itself, or a bridge above it (bridge
 * scope covering its bus), or, failing all explicit scopes, the
 * INCLUDE_PCI_ALL unit of @dev's segment.  NULL when none.  SR-IOV VFs are
 * looked up through their physical function, as the kernel does.  A
 * device whose scope entry has the wrong type ("Device scope type does
 * not match") is in no unit's scope.  The unit is returned even when the
 * kernel ignores it (iommu_dmar_drhd_empty, iommu_dmar_drhd_gfx_only):
 * the kernel does not fall through to another unit then, the device has
 * no IOMMU.  NULL too when the kernel refuses the table.
 */
const struct iommu_dmar_struct *iommu_dmar_device_drhd(const struct iommu_dmar *dmar,
						       const struct iommu_platform *p,
						       const struct iommu_pci_dev *dev);

/* Whether a DRHD's explicit scope names no device present on @p (the
 * kernel then ignores the unit: init_no_remapping_devices).  A namespace
 * (type 5) scope counts as present when an ANDD declares its device
 * number: the ACPI namespace itself is not part of a platform.  False for
 * INCLUDE_PCI_ALL units. */
bool iommu_dmar_drhd_empty(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd,
			   const struct iommu_platform *p);
/* Whether every device in a DRHD's explicit scope is a PCI display device
 * (the graphics-only unit that intel_iommu=igfx_off ignores).  False for
 * INCLUDE_PCI_ALL units and for empty ones. */
bool iommu_dmar_drhd_gfx_only(const struct iommu_dmar *dmar, const struct iommu_dmar_struct *drhd,
			      const struct iommu_platform *p);

/* RMRRs whose scope names @dev or a bridge above it, in table order (the
 * kernel's list is in reverse table order; the core sorts regions by
 * address anyway).  Returns how many; fills up to @max. */
size_t iommu_dmar_device_rmrrs(const struct iommu_dmar *dmar, const struct iommu_platform *p,
			       const struct iommu_pci_dev *dev,
			       const struct iommu_dmar_struct **out, size_t max);

/*
 * What the kernel logs while it matches the scopes to @p's devices: scope
 * type mismatches, the fallback workaround, scopes that name no device,
 * units it ignores.  *out is malloc'd (free it); 0 or -ENOMEM.
 */
int iommu_dmar_check_platform(const struct iommu_dmar *dmar, const struct iommu_platform *p,
			      struct iommu_diag **out, size_t *n);

/* ------------------------------------------------------------------ */
/* IVRS                                                                 */

#define IOMMU_IVRS_HEADER_LEN 48

/* IVinfo fields (AMD IOMMU spec, IVRS header). */
#define IOMMU_IVINFO_EFRSUP     0x00000001u
#define IOMMU_IVINFO_DMA_REMAP  0x00000002u  /* pre-boot DMA protection */

enum iommu_ivrs_type {
	IOMMU_IVHD_10 = 0x10,
	IOMMU_IVHD_11 = 0x11,
	IOMMU_IVHD_40 = 0x40,
	IOMMU_IVMD_ALL = 0x20,
	IOMMU_IVMD_SELECT = 0x21,
	IOMMU_IVMD_RANGE = 0x22,
};

/* IVMD flags */
#define IOMMU_IVMD_FLAG_UNITY   0x01
#define IOMMU_IVMD_FLAG_IR      0x02
#define IOMMU_IVMD_FLAG_IW      0x04
#define IOMMU_IVMD_FLAG_EXCL    0x08

/* IVHD device entry types (AMD IOMMU spec table "IVHD device entry type codes"). */
enum iommu_ivhd_entry_type {
	IOMMU_IVHD_DEV_PAD = 0x00,
	IOMMU_IVHD_DEV_ALL = 0x01,
	IOMMU_IVHD_DEV_SELECT = 0x02,
	IOMMU_IVHD_DEV_SELECT_RANGE_START = 0x03,
	IOMMU_IVHD_DEV_RANGE_END = 0x04,
	IOMMU_IVHD_DEV_ALIAS = 0x42,
	IOMMU_IVHD_DEV_ALIAS_RANGE = 0x43,
	IOMMU_IVHD_DEV_EXT_SELECT = 0x46,
	IOMMU_IVHD_DEV_EXT_SELECT_RANGE = 0x47,
	IOMMU_IVHD_DEV_SPECIAL = 0x48,
	IOMMU_IVHD_DEV_ACPI_HID = 0xf0,
};

#define IOMMU_IVHD_SPECIAL_IOAPIC 1
#define IOMMU_IVHD_SPECIAL_HPET   2

struct iommu_ivhd_entry {
	size_t offset;
	uint8_t type;
	uint16_t device_id;         /* devid = bus << 8 | devfn */
	uint8_t data_setting;       /* DTE settings byte */
	uint16_t alias_id;          /* 0x42/0x43: source-used device id */
	uint32_t ext_data;          /* 8-byte entries: bytes 4-7 as a little-endian word
				     * (0x46/0x47: the extended DTE setting) */
	uint8_t special_handle;     /* 0x48: IOAPIC id / HPET number */
	uint8_t special_variety;    /* 0x48: 1 IOAPIC, 2 HPET */
	uint16_t special_device_id; /* 0x48: the device id it is at */
	char hid[9], cid[9];        /* 0xf0 */
	char *uid;                  /* 0xf0: NUL-terminated, or NULL; an integer UID
				     * (format 1) in decimal */
	uint8_t uid_format, uid_length;
	uint16_t length;            /* bytes this entry took */
};

struct iommu_ivrs_block {
	size_t offset;
	uint8_t type;
	uint8_t flags;
	uint16_t length;
	uint16_t device_id;
	/* IVHD */
	uint16_t capability_offset;
	uint64_t base_address;
	uint16_t pci_segment;       /* IVHD; IVMD: bytes 8-9 (PCI segment in newer specs) */
	uint16_t iommu_info;
	uint32_t iommu_attributes;  /* 0x10: feature reporting; 0x11/0x40: attributes */
	uint64_t efr_register;      /* 0x11/0x40 */
	uint64_t efr_register2;     /* 0x11/0x40 (reserved in older specs) */
	struct iommu_ivhd_entry *entries;
	size_t n_entries;
	/* IVMD */
	uint16_t aux_data;
	uint64_t start_address;
	uint64_t memory_length;
	bool known;
	bool truncated;             /* shorter than its type's fixed part, or cut by the
				     * table end: fields past it are 0 */
	const uint8_t *raw;
};

struct iommu_ivrs {
	struct iommu_acpi_header header;
	uint32_t iv_info;
	struct iommu_ivrs_block *blocks;     /* table order */
	size_t n_blocks;
	struct iommu_diag *diags;
	size_t n_diags;
	bool refused;
	uint8_t *data;
	size_t len;
};

int iommu_ivrs_parse(const uint8_t *data, size_t len, struct iommu_ivrs **out,
		     struct iommu_error *err);
void iommu_ivrs_free(struct iommu_ivrs *ivrs);
const char *iommu_ivrs_block_name(uint8_t type);   /* "IVHD type 10h", "IVMD select" */
const char *iommu_ivhd_entry_name(uint8_t type);   /* "select", "alias range", ... */

/* The IVHD type the kernel uses: the highest type it supports (0x10, 0x11,
 * 0x40) among the blocks for the first IOMMU (get_highest_supported_ivhd_type).
 * As the kernel, it can land on a block type that is no IVHD (an IVMD
 * whose device id is the first IVHD's): then no IOMMU is used. */
uint8_t iommu_ivrs_ivhd_type(const struct iommu_ivrs *ivrs);

/* The IOMMU units the kernel creates: the IVHD blocks of the chosen type,
 * in table order (unit i is sysfs "ivhd<i>").  Returns how many; fills up
 * to @max with block indexes. */
size_t iommu_ivrs_units(const struct iommu_ivrs *ivrs, size_t *out, size_t max);

/*
 * What the kernel's IVRS pass builds for one PCI segment, per device id
 * (0..0xffff): whether an IOMMU covers it, which IVHD (index into blocks),
 * the DTE settings, and the alias it requests.  Built once per table.
 */
struct iommu_ivrs_map;
int iommu_ivrs_build_map(const struct iommu_ivrs *ivrs, struct iommu_ivrs_map **out,
			 struct iommu_error *err);
void iommu_ivrs_map_free(struct iommu_ivrs_map *map);
/* Index of the IVHD block covering @devid on @segment, or -1: the
 * kernel's rlookup entry, cleared for each IOMMU's own device id, and
 * only for device ids up to last_bdf (check_device). */
int iommu_ivrs_map_ivhd(const struct iommu_ivrs_map *map, uint16_t segment, uint16_t devid);
/* The alias device id for @devid (== devid when none). */
uint16_t iommu_ivrs_map_alias(const struct iommu_ivrs_map *map, uint16_t segment, uint16_t devid);
/* Highest device id described (the kernel's last_bdf); 0 for a segment no
 * IVHD of the chosen type describes. */
uint16_t iommu_ivrs_map_last_bdf(const struct iommu_ivrs_map *map, uint16_t segment);
/* The DTE setting byte the entries gave @devid (ORed, as the kernel sets bits). */
uint8_t iommu_ivrs_map_dte(const struct iommu_ivrs_map *map, uint16_t segment, uint16_t devid);

/* IVMD blocks that apply to @devid, in table order, as
 * amd_iommu_get_resv_regions finds them: unity map or exclusion range
 * flag set, the block's PCI segment (bytes 8-9) is @segment, @devid (the
 * device's own id: the kernel does not look at aliases here) within the
 * block's range (IVMD all: 0..last_bdf). */
size_t iommu_ivrs_device_ivmds(const struct iommu_ivrs *ivrs, const struct iommu_ivrs_map *map,
			       uint16_t segment, uint16_t devid,
			       const struct iommu_ivrs_block **out, size_t max);

/* An IVMD's memory range as init_unity_map_range makes it: start and
 * length each rounded up to 4 KiB; [*start, *end) (end exclusive). */
void iommu_ivrs_ivmd_range(const struct iommu_ivrs_block *ivmd, uint64_t *start, uint64_t *end);

/*
 * What matching the map to @p's devices shows: device entries naming no
 * device, devices no IVHD covers, the IOMMUs' own functions.  *out is
 * malloc'd; 0 or -ENOMEM.
 */
int iommu_ivrs_check_platform(const struct iommu_ivrs *ivrs, const struct iommu_ivrs_map *map,
			      const struct iommu_platform *p,
			      struct iommu_diag **out, size_t *n);

/* ------------------------------------------------------------------ */
/* PCI host bridges in the DSDT                                         */

struct iommu_acpi_host_bridge {
	char name[5];           /* the ACPI device's own name segment ("PCI0") */
	uint16_t segment;       /* _SEG, 0 when absent */
	uint8_t bus;            /* _BBN */
	bool bus_known;         /* false when _BBN is a method (absent means 0) */
};

/*
 * PNP0A03/PNP0A08 devices of an AML table (the DSDT) in namespace order,
 * the order the kernel adds their root buses in.  Returns how many were
 * found; fills up to @max.  Only constant Name() values are read.
 */
size_t iommu_acpi_host_bridges(const uint8_t *table, size_t len,
			       struct iommu_acpi_host_bridge *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_FIRMWARE_H */
