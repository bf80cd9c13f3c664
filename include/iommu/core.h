/* SPDX-License-Identifier: MIT */
/*
 * libiommu core layer: what the kernel's IOMMU core decides for a
 * platform.
 *
 *  - the kernel command line, parsed as the kernel parses it
 *    (iommu=, iommu.passthrough=, iommu.strict=, intel_iommu=, amd_iommu=,
 *    and the out-of-tree pcie_acs_override=);
 *  - device probe: which IOMMU driver runs, which unit translates each
 *    device, which devices get no IOMMU at all and why;
 *  - IOMMU groups (drivers/iommu/iommu.c pci_device_group with the PCI
 *    core's DMA alias walk, ACS checks and quirk tables), numbered as the
 *    modelled kernel version numbers them;
 *  - each group's default domain type and reserved regions, as sysfs
 *    shows them.
 */
#ifndef IOMMU_CORE_H
#define IOMMU_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/base.h"
#include "iommu/firmware.h"
#include "iommu/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Kernel version                                                       */

struct iommu_kernel_version {
	int major, minor;
};

/* "6.1.0-56-amd64", "6.12.117+deb12-amd64", "6.2" -> {6,1}, {6,12}, {6,2}. */
int iommu_kernel_version_parse(const char *release, struct iommu_kernel_version *v);
/* Versions whose behaviour the model knows; others are refused with -ERANGE. */
#define IOMMU_KERNEL_MIN_MAJOR 5
#define IOMMU_KERNEL_MIN_MINOR 10
int iommu_kernel_version_check(struct iommu_kernel_version v, struct iommu_error *err);
static inline bool iommu_kernel_at_least(struct iommu_kernel_version v, int major, int minor)
{
	return v.major > major || (v.major == major && v.minor >= minor);
}

/* ------------------------------------------------------------------ */
/* Kernel command line                                                  */

enum iommu_domain_type {
	IOMMU_DOMAIN_NONE = -1,         /* no default domain */
	IOMMU_DOMAIN_BLOCKED = 0,
	IOMMU_DOMAIN_IDENTITY,
	IOMMU_DOMAIN_UNMANAGED,
	IOMMU_DOMAIN_DMA,
	IOMMU_DOMAIN_DMA_FQ,
};
/* As sysfs "type" prints it: "blocked", "identity", "unmanaged", "DMA", "DMA-FQ". */
const char *iommu_domain_type_name(enum iommu_domain_type t);

#define IOMMU_ACS_OVERRIDE_MAX_IDS 15   /* the patch's table has 16 slots, the last unused */

struct iommu_cmdline {
	/* iommu=pt|nopt and iommu.passthrough=: the last one wins. */
	bool def_domain_set;
	enum iommu_domain_type def_domain;  /* IDENTITY or DMA */
	/* iommu.strict= */
	bool strict_set;
	bool strict;
	bool iommu_off;                     /* iommu=off */
	bool forcedac;

	/* intel_iommu= */
	bool intel_on, intel_off, intel_igfx_off, intel_strict;
	bool intel_sm_on, intel_sm_off, intel_sp_off;

	/* amd_iommu= */
	bool amd_off, amd_fullflush, amd_force_isolation, amd_force_enable;

	/* pcie_acs_override= (out of tree) */
	bool acs_override_downstream, acs_override_multifunction;
	size_t acs_override_n_ids;
	uint16_t acs_override_ids[IOMMU_ACS_OVERRIDE_MAX_IDS][2];

	/* What the kernel would log about the command line ("Unknown option"). */
	char **notes;
	size_t n_notes;
};

/* Parse @line (may be NULL or empty). 0, or -ENOMEM. Oddities become notes. */
int iommu_cmdline_parse(const char *line, struct iommu_cmdline *out);
void iommu_cmdline_release(struct iommu_cmdline *c);

/* ------------------------------------------------------------------ */
/* The computed IOMMU state                                             */

enum iommu_driver {
	IOMMU_DRIVER_NONE,
	IOMMU_DRIVER_INTEL,
	IOMMU_DRIVER_AMD,
};

/* Reserved region types, in the kernel's enum order (used to sort ties). */
enum iommu_resv_type {
	IOMMU_RESV_DIRECT = 0,
	IOMMU_RESV_DIRECT_RELAXABLE,
	IOMMU_RESV_RESERVED,
	IOMMU_RESV_MSI,
	IOMMU_RESV_SW_MSI,
};
const char *iommu_resv_type_name(enum iommu_resv_type t);

struct iommu_resv_region {
	uint64_t start;
	uint64_t end;       /* inclusive */
	enum iommu_resv_type type;
};

/* Why a device has no group. */
enum iommu_nogroup_reason {
	IOMMU_NOGROUP_NONE = 0,             /* it has a group */
	IOMMU_NOGROUP_NO_IOMMU,             /* no IOMMU driver runs on this platform */
	IOMMU_NOGROUP_DISABLED,             /* the command line turned the IOMMU off */
	IOMMU_NOGROUP_NO_UNIT,              /* outside every DRHD scope / IVHD range */
	IOMMU_NOGROUP_IGNORED_UNIT,         /* its unit is ignored (igfx_off, empty scope) */
	IOMMU_NOGROUP_UNUSABLE_UNIT,        /* its unit reports no usable address width */
	IOMMU_NOGROUP_IOMMU_FUNCTION,       /* the AMD IOMMU's own PCI function */
	IOMMU_NOGROUP_EXCLUDED,             /* integrated Intel GPU (Debian's intgpu_off default) */
};
const char *iommu_nogroup_reason_text(enum iommu_nogroup_reason r);

/* One IOMMU unit: a DRHD or an IVHD the driver registered. */
struct iommu_unit {
	char name[16];              /* "dmar0", "ivhd0" */
	uint64_t base;              /* register base */
	uint16_t segment;
	const void *fw;             /* const struct iommu_dmar_struct * or iommu_ivrs_block * */
	bool ignored;
	bool include_all;
	uint64_t cap, ecap;         /* Intel; AMD: cap = capability header, ecap = EFR */
	bool have_regs;
};

struct iommu_group_info;
struct iommu_domain;
struct iommu_runtime;

/* Per PCI function. */
struct iommu_device_info {
	struct iommu_pci_dev *pdev;
	struct iommu_group_info *group;     /* NULL: no group */
	enum iommu_nogroup_reason nogroup;
	int unit;                           /* index into units, -1 for none */
	int probe_order;                    /* order the core probed it, -1 never */
	bool multifunction;                 /* the kernel's pdev->multifunction */
	uint8_t dma_alias_mask[32];         /* devfns on its bus it also uses */
	const char *alias_source;           /* quirk or "IVRS alias" that set the mask */
	bool pcie_bridge_alias;             /* PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS quirk */
	bool bridge_xlate_root;             /* PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT quirk */
	bool untrusted;
	enum iommu_domain_type driver_type; /* what the driver asks for (NONE: no opinion) */
};

struct iommu_group_info {
	int id;
	enum iommu_domain_type type;        /* the default domain's type */
	struct iommu_device_info **devices; /* in the order they joined */
	size_t n_devices;
	struct iommu_resv_region *resv;     /* as the sysfs file lists them */
	size_t n_resv;
	/* The running side (iommu_system_start; all NULL/0 before), kept
	 * under the system's group lock; read them through the functions
	 * of the Domains section. */
	struct iommu_system *system;
	struct iommu_domain *default_domain;
	struct iommu_domain *domain;        /* attached now */
	struct iommu_domain *blocking_domain;
	unsigned owner_cnt;                 /* DMA ownership claims */
	const void *owner;
};

struct iommu_system_options {
	const char *cmdline;                /* NULL: the platform's */
	const char *kernel;                 /* NULL: the platform's release; "6.1" etc. */
	const char *acs_override;           /* what-if: "downstream,multifunction,id:..." */
};

struct iommu_system {
	const struct iommu_platform *platform;
	struct iommu_kernel_version kernel;
	char *cmdline_line;                 /* the command line modelled */
	struct iommu_cmdline cmdline;
	enum iommu_driver driver;
	enum iommu_domain_type global_default;
	bool strict_forced;                 /* a driver turned lazy into strict */
	const char *strict_reason;
	struct iommu_dmar *dmar;
	struct iommu_ivrs *ivrs;
	struct iommu_ivrs_map *ivrs_map;
	struct iommu_unit *units;           /* in registration order */
	size_t n_units;
	struct iommu_device_info *devices;  /* same order as the platform's devices */
	size_t n_devices;
	struct iommu_group_info **groups;   /* by id */
	size_t n_groups;
	char **notes;                       /* what the kernel would log worth knowing */
	size_t n_notes;
	bool acs_override_active;
	/* The running side (iommu_system_start): memory, units, drivers,
	 * domains, locks; NULL while stopped. */
	struct iommu_runtime *rt;
};

/* Compute everything for @p.  The platform must outlive the system. */
int iommu_system_build(const struct iommu_platform *p, const struct iommu_system_options *opts,
		       struct iommu_system **out, struct iommu_error *err);
void iommu_system_free(struct iommu_system *s);

struct iommu_device_info *iommu_system_device(const struct iommu_system *s,
					      const struct iommu_pci_dev *pdev);

/* The sysfs reserved_regions text of @g ("0x... 0x... msi\n" lines) into @buf. */
size_t iommu_group_resv_text(const struct iommu_group_info *g, char *buf, size_t len);

/*
 * Why @d is in its group, step by step as the kernel decided it, and what
 * would isolate it: malloc'd text in *@out.  0, -ENOENT (not a device of
 * the system), -ENOMEM.
 */
int iommu_explain_device(const struct iommu_system *s, const struct iommu_pci_dev *d, char **out);

/* ------------------------------------------------------------------ */
/* ACS as the kernel judges it                                          */

/* The ACS flags pci_device_group requires: SV | RR | CR | UF. */
#define IOMMU_REQ_ACS_FLAGS (IOMMU_ACS_SV | IOMMU_ACS_RR | IOMMU_ACS_CR | IOMMU_ACS_UF)

enum iommu_acs_verdict_src {
	IOMMU_ACS_SRC_QUIRK,            /* a device-specific quirk decided */
	IOMMU_ACS_SRC_OVERRIDE,         /* pcie_acs_override decided (not mainline) */
	IOMMU_ACS_SRC_NOT_PCIE,         /* conventional PCI: never */
	IOMMU_ACS_SRC_BRIDGE_TYPE,      /* PCIe<->PCI bridge or event collector: never */
	IOMMU_ACS_SRC_CAPABILITY,       /* the ACS capability's control bits decided */
	IOMMU_ACS_SRC_SINGLE_FUNCTION,  /* endpoint/upstream port that is not multifunction */
	IOMMU_ACS_SRC_OTHER_TYPE,       /* another PCIe type: always */
};

struct iommu_acs_verdict {
	bool enabled;
	enum iommu_acs_verdict_src src;
	const char *quirk;              /* the quirk's name when src is QUIRK */
	uint16_t missing;               /* requested flags not enabled (capability case) */
};

/* pci_acs_enabled(dev, flags) with the reason. */
struct iommu_acs_verdict iommu_acs_enabled(const struct iommu_system *s,
					   const struct iommu_pci_dev *dev, uint16_t flags);

/* ================================================================== */
/* The Intel VT-d driver (drivers/iommu/intel/iommu.c), programming a   */
/* modelled remapping unit (iommu/hw.h) through its registers and       */
/* tables in modelled memory.  doc/intel-driver.md says what it does    */
/* and which kernel function each step mirrors.  Legacy (non-scalable)  */
/* mode, second-level tables.  Single-threaded, like the unit.          */

struct iommu_vtd_unit;
struct iommu_mem;
struct iommu_intel;          /* the driver bound to one unit */
struct iommu_intel_domain;   /* a domain of that driver */

struct iommu_intel_config {
	struct iommu_vtd_unit *unit;  /* required; not owned */
	struct iommu_mem *mem;        /* required: the unit's memory; not owned */
	/* Region of @mem the driver takes its table pages from (root,
	 * context and page tables, the invalidation queue).  4 KiB aligned;
	 * table_size 0: the top eighth of memory, at most 256 MiB. */
	uint64_t table_base, table_size;
	/* Use CCMD/IOTLB register invalidation even where ECAP.QI. */
	bool register_invalidation;
};

/* A driver for @cfg->unit, not yet enabled.  -EINVAL (message in @err)
 * for a missing unit or memory or a table region outside memory;
 * -ENOMEM. */
int iommu_intel_create(const struct iommu_intel_config *cfg, struct iommu_intel **out,
		       struct iommu_error *err);
/* Frees every domain still allocated (detaching their devices first). */
void iommu_intel_destroy(struct iommu_intel *drv);

/*
 * Bring the unit up as the kernel does at boot: queued invalidation
 * where ECAP.QI allows (else register-based), root table, SRTP, the
 * global flushes, TE; each command through GCMD and a GSTS wait.
 * 0, -ETIMEDOUT (a status bit never moved), -ENOMEM, -EBUSY (already on).
 */
int iommu_intel_enable(struct iommu_intel *drv);
bool iommu_intel_uses_qi(const struct iommu_intel *drv);
/* The AGAW the kernel's iommu->agaw would be (SAGAW bit), its width. */
unsigned iommu_intel_agaw(const struct iommu_intel *drv);

/* How unmap invalidates the IOTLB. */
enum iommu_intel_flush_mode {
	IOMMU_INTEL_FLUSH_STRICT,   /* page-selective flush before unmap returns */
	IOMMU_INTEL_FLUSH_DEFERRED, /* nothing until iommu_intel_flush() (flush queues) */
	IOMMU_INTEL_FLUSH_NEVER,    /* tests: never invalidate after map/unmap */
};

/*
 * A domain: IOMMU_DOMAIN_DMA or _UNMANAGED (strict) and _DMA_FQ
 * (deferred) are paging domains; @addr_width 0 asks for the kernel's
 * default (57 bits), and the AGAW is the largest SAGAW supports not above
 * it.  IOMMU_DOMAIN_IDENTITY is pass-through (-EOPNOTSUPP without
 * ECAP.PT; the kernel's 1:1 page table fallback is not modelled).
 * IOMMU_DOMAIN_BLOCKED is a domain without translation: attaching it
 * clears the context entry.  -EINVAL (bad type, no AGAW fits), -ENOMEM.
 */
int iommu_intel_domain_alloc(struct iommu_intel *drv, enum iommu_domain_type type,
			     unsigned addr_width, struct iommu_intel_domain **out);
/* Detaches its devices, frees its tables. */
void iommu_intel_domain_free(struct iommu_intel_domain *dom);
void iommu_intel_domain_set_flush_mode(struct iommu_intel_domain *dom,
				       enum iommu_intel_flush_mode mode);
unsigned iommu_intel_domain_levels(const struct iommu_intel_domain *dom); /* 3, 4, 5; 0 non-paging */
unsigned iommu_intel_domain_width(const struct iommu_intel_domain *dom);  /* gaw bits */
/* Domain id on the unit: allocated at first attach, 0 while detached. */
uint16_t iommu_intel_domain_id(const struct iommu_intel_domain *dom);
/* Page-table pages the domain holds now (the top table included). */
uint64_t iommu_intel_domain_table_pages(const struct iommu_intel_domain *dom);

#define IOMMU_PROT_READ  1
#define IOMMU_PROT_WRITE 2

/*
 * Map [iova, iova + size) to paddr (all 4 KiB aligned, size > 0) with
 * 2 MiB and 1 GiB pages where CAP.SLLPS allows and iova, paddr and the
 * remaining size permit.  -EINVAL (alignment, no READ/WRITE, not a paging
 * domain), -EFAULT (beyond the domain's width), -EBUSY (something is
 * mapped there already: nothing is left mapped), -ENOMEM (table pages).
 */
int iommu_intel_map(struct iommu_intel_domain *dom, uint64_t iova, uint64_t paddr,
		    uint64_t size, int prot);
/*
 * Unmap every page overlapping [iova, iova + size): a page partly
 * inside goes whole (a superpage too).  *@unmapped: bytes unmapped (0:
 * nothing was mapped).  Tables left empty are freed (after the flush).
 * Strict domains flush the IOTLB before returning.  -EINVAL.
 */
int iommu_intel_unmap(struct iommu_intel_domain *dom, uint64_t iova, uint64_t size,
		      uint64_t *unmapped);
/* The deferred flush: domain-selective IOTLB invalidation for what
 * unmaps left (the kernel's flush_iotlb_all), then the freed tables go
 * back to the allocator.  0 when nothing is pending. */
int iommu_intel_flush(struct iommu_intel_domain *dom);
/* Global context-cache and IOTLB invalidation. */
int iommu_intel_flush_all(struct iommu_intel *drv);
/* The mapping of @iova from the tables: 0, or -ENOENT. */
int iommu_intel_iova_to_phys(const struct iommu_intel_domain *dom, uint64_t iova,
			     uint64_t *phys, uint64_t *page_size);

/* Point requester @sid's context entry at @dom (detaching it from its
 * previous domain first).  -EINVAL, -ENOMEM, -ENOSPC (no domain id). */
int iommu_intel_attach(struct iommu_intel_domain *dom, uint16_t sid);
/* Clear @sid's context entry, with the invalidations.  0 when it was not
 * attached. */
int iommu_intel_detach(struct iommu_intel *drv, uint16_t sid);
/* Attach @pdev and every requester id it uses (its DMA aliases), as
 * domain_context_mapping() does. */
int iommu_intel_attach_device(struct iommu_intel_domain *dom, const struct iommu_system *s,
			      const struct iommu_pci_dev *pdev);

struct iommu_intel_stats {
	uint64_t table_pages, table_pages_peak; /* pages taken from the region */
	uint64_t cc_global, cc_domain, cc_device;       /* context-cache invalidations */
	uint64_t iotlb_global, iotlb_domain, iotlb_page; /* IOTLB invalidations by kind */
	uint64_t psi_fallbacks;     /* page-selective wanted, domain-selective issued */
	uint64_t qi_submits, qi_descriptors, qi_errors; /* queued invalidation */
	uint64_t reg_invalidations; /* through CCMD / IOTLB_REG */
	uint64_t inv_failed;        /* IAIG/CAIG 0: the unit did not perform it */
	uint64_t write_buffer_flushes;
	uint64_t gcmd_writes, gsts_reads;
};
void iommu_intel_get_stats(const struct iommu_intel *drv, struct iommu_intel_stats *st);

/* One entry the unit reads translating a request, as
 * dmar_fault_dump_ptes() prints them. */
enum iommu_intel_walk_kind {
	IOMMU_INTEL_WALK_ROOT,
	IOMMU_INTEL_WALK_CONTEXT,
	IOMMU_INTEL_WALK_PTE,
};
struct iommu_intel_walk_step {
	enum iommu_intel_walk_kind kind;
	unsigned level;      /* PTE: 5..1 */
	uint64_t addr;       /* where the entry is */
	uint64_t lo, hi;     /* its value (hi: 128-bit entries) */
};
#define IOMMU_INTEL_WALK_MAX 7
/* The entries a walk for (@sid, @iova) reads from the tables now, in
 * order, stopping where the hardware would.  0 or -EFAULT (memory). */
int iommu_intel_walk(const struct iommu_intel *drv, uint16_t sid, uint64_t iova,
		     struct iommu_intel_walk_step steps[IOMMU_INTEL_WALK_MAX], size_t *n);
/* "context entry @0x...: P=1 FPD=0 TT=00b(...) SLPTPTR=0x... AW=1 DID=1". */
void iommu_intel_walk_step_describe(const struct iommu_intel_walk_step *st, char *buf,
				    size_t len);

/* ================================================================== */
/* Domains (drivers/iommu/iommu.c): the running side of a system.       */
/* A system that has been started has hardware behind it (one modelled */
/* memory; one VT-d unit and Intel driver per DRHD in use) and each     */
/* group has its default domain attached, as after boot.  Reference     */
/* section 3 for the type rules, 4 for reserved regions, 8.1 for DMA    */
/* ownership; doc/domains.md says which kernel function each rule       */
/* comes from and where kernel versions differ (the system models       */
/* s->kernel).                                                          */
/*                                                                      */
/* Thread safety: iommu_map, iommu_unmap, iommu_map_sg,                  */
/* iommu_iova_to_phys, iommu_flush_iotlb_all and the device DMA calls   */
/* may run on many threads at once, on one domain or several: each      */
/* domain has a lock, and every access to the modelled hardware (units, */
/* Intel drivers, memory: single-threaded objects that share one        */
/* memory) goes through one hardware lock per system.  Attach, detach,  */
/* claims, domain allocation and type writes serialise on a lock of the */
/* system's groups (the kernel's group->mutex).  Lock order: groups,    */
/* then domain, then hardware.  Starting and freeing the system are not */
/* concurrent with anything.                                            */

struct iommu_domain;

struct iommu_domain_geometry {
	uint64_t aperture_start, aperture_end;  /* inclusive */
	bool force_aperture;
	uint64_t pgsize_bitmap;                 /* page sizes the domain maps */
};

/* AMD's IOMMU v1 page-table sizes (AMD_IOMMU_PGSIZES): every power of two
 * from 4 KiB up except 512 GiB.  The kernel's captured VFIO
 * iova_pgsizes on AMD reads the same. */
#define IOMMU_AMD_V1_PGSIZES (~UINT64_C(0xfff) & ~(UINT64_C(2) << 38))

/*
 * Boot the system's IOMMUs: modelled memory of @mem_size bytes (0: one
 * that spans the units' MGAW, at most 2^46 bytes; else a multiple of
 * 4 KiB, at least 1 MiB), the Intel driver on one VT-d unit per DRHD
 * that translates a grouped device (CAP/ECAP from the platform where it
 * has them, else QEMU's), translation enabled, and every group's default
 * domain (group->type) allocated, its direct reserved regions mapped 1:1
 * when it is a DMA domain, and its devices (with their DMA aliases)
 * attached, as probe leaves them.  On AMD platforms the domains keep
 * their page tables in software (AMD-Vi hardware is not modelled).
 * 0, -ENODEV (no IOMMU driver runs), -EALREADY, -EINVAL (@mem_size),
 * -ENOMEM; the message is in @err.  iommu_system_free() stops it.
 */
int iommu_system_start(struct iommu_system *s, uint64_t mem_size, struct iommu_error *err);
bool iommu_system_started(const struct iommu_system *s);
/* The modelled memory every DMA of the system lands in (NULL before
 * start).  Not owned by the caller; like every hardware object it is
 * single-threaded: while other threads may map or DMA, reach it only
 * through the calls of this section. */
struct iommu_mem *iommu_system_mem(const struct iommu_system *s);
/* The CPU's access to that memory, serialised with the modelled hardware
 * (safe while other threads map or DMA).  0, -EFAULT (beyond the size),
 * -ENOMEM, -ENODEV (not started), -EINVAL. */
int iommu_system_mem_read(struct iommu_system *s, uint64_t addr, void *buf, size_t len);
int iommu_system_mem_write(struct iommu_system *s, uint64_t addr, const void *buf, size_t len);
/* The Intel driver of units[@unit] (NULL: not Intel, not started, or a
 * unit that translates no grouped device). */
struct iommu_intel *iommu_system_intel(const struct iommu_system *s, int unit);
/* The modelled VT-d unit of units[@unit] (NULL likewise). */
struct iommu_vtd_unit *iommu_system_vtd_unit(const struct iommu_system *s, int unit);

/*
 * The VT-d unit configuration the system models for units[@unit], as
 * iommu_system_start and `iommu translate` build it: CAP and ECAP from
 * the platform (QEMU's defaults where it has none), the register base.
 * cfg->mem is left NULL.  0, -EINVAL (not an Intel unit).  *@mem_size
 * (may be NULL): the memory the unit can address, 2^min(MGAW, 46) bytes.
 */
struct iommu_vtd_config;
int iommu_system_vtd_config(const struct iommu_system *s, int unit, struct iommu_vtd_config *cfg,
			    uint64_t *mem_size);

/* The domain the group was given at probe (group->default_domain), NULL
 * before start or when the group has none. */
struct iommu_domain *iommu_group_default_domain(const struct iommu_group_info *g);
/* The domain the group is attached to now (iommu_get_domain_for_dev). */
struct iommu_domain *iommu_group_domain(const struct iommu_group_info *g);

/*
 * A new domain of @type for the IOMMU that translates @g's devices
 * (__iommu_domain_alloc / iommu_paging_domain_alloc): BLOCKED, IDENTITY,
 * UNMANAGED, DMA, DMA_FQ.  -EINVAL (bad type, NULL argument), -ENODEV
 * (not started, no unit), -EOPNOTSUPP (IDENTITY on a VT-d unit without
 * ECAP.PT from kernel 6.12; before, the kernel's 1:1 page table over all
 * of memory stands in, as si_domain), -ENOMEM.
 */
int iommu_domain_alloc(struct iommu_system *s, const struct iommu_group_info *g,
		       enum iommu_domain_type type, struct iommu_domain **out);
/* iommu_domain_free.  A domain still in use (some group's current,
 * default or blocking domain) is not freed: the call is refused with a
 * note in the system's notes (the kernel would be left with a dangling
 * pointer); it goes with the system. */
void iommu_domain_free(struct iommu_domain *d);
enum iommu_domain_type iommu_domain_get_type(const struct iommu_domain *d);
/* Paging domains: Intel: [0, 2^width - 1] and 4 KiB plus the superpages
 * CAP.SLLPS offers (2 MiB, 1 GiB); AMD: [0, 2^64 - 1] and
 * IOMMU_AMD_V1_PGSIZES.  Identity and blocked domains: all zero. */
void iommu_domain_get_geometry(const struct iommu_domain *d, struct iommu_domain_geometry *geo);
/* The index in s->units of the IOMMU the domain belongs to. */
int iommu_domain_unit(const struct iommu_domain *d);
/* The Intel driver's domain behind @d (NULL: AMD, or not Intel), for
 * inspection (table pages, domain id) while no other thread uses it. */
struct iommu_intel_domain *iommu_domain_intel(const struct iommu_domain *d);

/*
 * iommu_attach_group: every device of @g (and its DMA aliases) to @d.
 * As the kernel (5.19 and later, __iommu_attach_group): -EBUSY when the
 * group is attached to a domain other than its default or blocking
 * domain (attached to @d already included); no ownership claim is
 * required by the core.  -EINVAL (NULL, another system, a domain of
 * another unit: the model keeps one page table per unit, where the
 * kernel would share one), -ENODEV (not started), -EPERM (kernel < 6.5,
 * Intel: an UNMANAGED domain and a member with a direct RMRR,
 * intel_iommu_attach_device's "ineligible ... due to platform RMRR
 * requirement"), -EINVAL (kernel >= 6.5: a BLOCKED domain and a member
 * with a direct region, __iommu_device_set_domain's require_direct).
 * On failure the group is back in the domain it had.
 * iommu_detach_group: back to the default domain, or to the blocking
 * domain while the group's DMA is owned (__iommu_group_set_core_domain,
 * the same in 6.1 and 6.12); @d is not consulted, as in the kernel.
 */
int iommu_attach_group(struct iommu_domain *d, struct iommu_group_info *g);
void iommu_detach_group(struct iommu_domain *d, struct iommu_group_info *g);

/*
 * iommu_group_claim_dma_owner, as VFIO and iommufd make it:
 *  -EINVAL   @owner NULL;
 *  -ENODEV   the system is not started;
 *  -EPERM    the group is claimed by another owner, or a member is bound
 *            to a kernel driver that uses the DMA API (any driver but
 *            vfio-pci and its variants, pci-stub and pcieport, which set
 *            driver_managed_dma; the platform's pci/<BDF>/driver);
 *  -EBUSY    the group is attached to a domain other than its default;
 *  then the group moves to its blocking domain, which refuses as the
 *  kernel version does: -EINVAL from 6.5 when a member has a direct
 *  (not relaxable: RMRR of a device other than USB or graphics, or AMD
 *  IVMD unity) reserved region (require_direct); before 6.5 on Intel the
 *  blocking domain is an empty UNMANAGED domain (until 6.3 the driver
 *  has no BLOCKED type) and the driver's RMRR check gives -EPERM.
 * The same owner may claim again: a count is kept, as
 * iommu_device_claim_dma_owner keeps it (the kernel's group variant
 * would answer -EPERM to the second claim).  Release undoes one claim;
 * the last one puts the group back in its default domain.
 */
int iommu_group_claim_dma_owner(struct iommu_group_info *g, const void *owner);
void iommu_group_release_dma_owner(struct iommu_group_info *g);
/* owner_cnt != 0: claimed, or a member bound to a DMA-API driver (the
 * kernel counts both; VFIO's viability is the negation). */
bool iommu_group_dma_owner_claimed(const struct iommu_group_info *g);

/*
 * iommu_map: [iova, iova + size) to paddr with IOMMU_PROT_* on a paging
 * domain, split into page sizes as iommu_pgsize() does.  The kernel's
 * answers (doc/domains.md traces each):
 *  0         size 0 (nothing mapped: __iommu_map's loop does not run);
 *  -EINVAL   iova, paddr or size not aligned to the smallest page size;
 *            not a paging domain (identity; blocked from 6.3, -ENODEV
 *            before); neither READ nor WRITE (__domain_mapping); a range
 *            that wraps past 2^64 (model: refused before anything maps);
 *  -EFAULT   Intel: the end is beyond the domain's width
 *            (intel_iommu_map); AMD's aperture is all of 64 bits;
 *  0         already mapped: Intel keeps the old entry, maps the rest
 *            and warns "DMA PTE for vPFN ... already set" (a note; a
 *            superpage over small pages replaces them); AMD replaces;
 *  -ENOMEM   no table pages; what was mapped is unmapped again.
 * iommu_unmap: bytes unmapped, as the driver counts them: 0 for an
 * unaligned request, size 0, a non-paging domain; Intel returns at least
 * the size asked for inside the domain's width (intel_iommu_unmap counts
 * a hole as unmapped, and a superpage it meets whole), 0 beyond it; AMD
 * stops at the first hole (0 when nothing is mapped at @iova).  Strict
 * domains have invalidated the IOTLB when it returns; a DMA_FQ domain
 * leaves it to iommu_flush_iotlb_all (dma-iommu's iommu_unmap_fast with a
 * queued gather: the flush queue's job).
 */
int iommu_map(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size, int prot);
uint64_t iommu_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size);
struct iommu_sg_entry {
	uint64_t paddr;
	uint64_t length;
};
/* iommu_map_sg: the entries back to back from @iova, physically
 * contiguous ones mapped together.  Bytes mapped, or a negative errno
 * (iommu_map's) with nothing left mapped; 0 for nents 0. */
int64_t iommu_map_sg(struct iommu_domain *d, uint64_t iova, const struct iommu_sg_entry *sg,
		     size_t nents, int prot);
/* 0 when nothing is mapped at @iova (identity: @iova itself; blocked: 0). */
uint64_t iommu_iova_to_phys(struct iommu_domain *d, uint64_t iova);
/* iommu_flush_iotlb_all: invalidate what unmaps left (domain-selective on
 * VT-d when something is pending; freed table pages go back then). */
void iommu_flush_iotlb_all(struct iommu_domain *d);

struct iommu_domain_stats {
	uint64_t maps, unmaps;          /* calls that did something */
	uint64_t bytes_mapped, bytes_unmapped;
	uint64_t pte_already_set;       /* Intel "DMA PTE ... already set" warnings */
	uint64_t replaced;              /* AMD: mappings replaced by a new map */
};
void iommu_domain_get_stats(struct iommu_domain *d, struct iommu_domain_stats *st);

/* ------------------------------------------------------------------ */
/* A device's DMA as the platform routes it                             */

/* What one request became. */
struct iommu_device_xlate {
	uint64_t host_addr;     /* where it lands (on success) */
	bool direct;            /* untranslated: no IOMMU for it, pass-through,
				   or an identity domain */
	bool modelled_unit;     /* a VT-d unit model answered (else software
				   page tables, or direct) */
	bool iotlb_hit;         /* the unit answered from its IOTLB */
	unsigned fault_reason;  /* VT-d fault reason, 0 on success or
				   without a unit */
};

/*
 * A request of @pdev at DMA address @addr (@write: a write), as the
 * hardware handles it: through the device's VT-d unit model (its IOTLB
 * included, so a stale entry still translates until invalidated), or on
 * AMD through the software page table of the group's current domain, or
 * untranslated when no IOMMU translates the device.  0 with @res filled,
 * -EFAULT (a fault; @res->fault_reason on VT-d), -ENODEV (not started),
 * -EINVAL (NULL, not a device of the system).
 */
int iommu_device_translate(struct iommu_system *s, const struct iommu_pci_dev *pdev,
			   uint64_t addr, bool write, struct iommu_device_xlate *res);
/* A DMA of @len bytes into / out of the modelled memory, page by page:
 * 0, -EFAULT (the first fault; nothing after it moves; @res may be NULL),
 * -ENODEV, -EINVAL. */
int iommu_device_dma_read(struct iommu_system *s, const struct iommu_pci_dev *pdev,
			  uint64_t addr, void *buf, size_t len, struct iommu_device_xlate *res);
int iommu_device_dma_write(struct iommu_system *s, const struct iommu_pci_dev *pdev,
			   uint64_t addr, const void *buf, size_t len,
			   struct iommu_device_xlate *res);

/*
 * A write of @buf to /sys/kernel/iommu_groups/<id>/type
 * (iommu_group_store_type, reference 3.6) for the kernel version the
 * system models: "identity", "DMA", "DMA-FQ", "auto" (sysfs_streq: one
 * trailing newline allowed); 0 when the write took effect (including a
 * write of the type the group has), else the errno the write fails with
 * and a message in @err.  The caller is taken to have CAP_SYS_ADMIN and
 * CAP_SYS_RAWIO (no -EACCES for capabilities).
 *  all       -EINVAL: another string ("blocked", "unmanaged" included),
 *            no default domain; -EACCES: kernel 5.10 (the file is
 *            read-only before 5.11).
 *  >= 6.5    DMA -> DMA-FQ converts in place, drivers bound or not;
 *            otherwise -EPERM while owner_cnt != 0 (a DMA-API driver
 *            bound to a member, or a claim), then -EINVAL when the type
 *            conflicts with what the driver requires (untrusted device:
 *            DMA; Intel without ECAP.PT from 6.12: DMA).
 *  < 6.5     -EINVAL for a group of more than one device; -EBUSY when a
 *            member has any driver bound (pcieport and vfio-pci too),
 *            except for DMA -> DMA-FQ; -EBUSY when the group is not in its
 *            default domain; -EINVAL on a type conflict (DMA-FQ on an
 *            untrusted device too); DMA-FQ itself needs 5.15.
 * It changes group->type, and on a started system replaces the default
 * domain (a new domain object: the old one is freed) and attaches it.
 */
int iommu_group_store_type(struct iommu_system *s, struct iommu_group_info *g,
			   const char *buf, struct iommu_error *err);

/* How many members of @g are bound to a driver that uses the DMA API
 * (what the kernel adds to owner_cnt at driver probe). */
size_t iommu_group_dma_api_drivers(const struct iommu_group_info *g);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_CORE_H */
