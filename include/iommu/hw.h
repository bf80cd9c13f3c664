/* SPDX-License-Identifier: MIT */
/*
 * libiommu hardware layer: modelled physical memory and Intel VT-d
 * remapping hardware, to the bit.
 *
 * The model is the hardware side of the line the kernel's Intel driver
 * sees: software writes root, context, second-level page and interrupt
 * remapping tables into modelled memory at real addresses and programs the
 * unit through MMIO register accesses in the layout of the Intel VT-d
 * specification (chapter 11); devices issue requests that the unit
 * translates by walking those tables (chapter 3), caching what it finds
 * (chapter 6) and recording faults (chapter 7).  doc/vtd-model.md lists
 * what is modelled and what is not.
 *
 * Every function returns 0 or a negative errno.  A unit and a memory are
 * single-threaded objects: callers serialise access to each.  There is no
 * global state; several units may share one memory.
 */
#ifndef IOMMU_HW_H
#define IOMMU_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Modelled physical memory                                             */

/*
 * Sparse, page-granular physical memory of a fixed size.  Pages are
 * allocated on first write; never-written pages read as zero.  Accesses
 * at or beyond the size fail with -EFAULT (the unit turns that into the
 * fault the specification defines for the table being read).
 */
struct iommu_mem;

#define IOMMU_MEM_PAGE_SIZE 4096u
/* Largest size accepted by iommu_mem_create (52-bit physical addresses). */
#define IOMMU_MEM_MAX_SIZE (UINT64_C(1) << 52)

/* A memory of @size_bytes (a non-zero multiple of 4 KiB, at most
 * IOMMU_MEM_MAX_SIZE).  0, -EINVAL or -ENOMEM. */
int iommu_mem_create(uint64_t size_bytes, struct iommu_mem **out);
void iommu_mem_destroy(struct iommu_mem *mem);

uint64_t iommu_mem_size(const struct iommu_mem *mem);
/* Pages allocated so far (each written page once). */
uint64_t iommu_mem_pages_allocated(const struct iommu_mem *mem);

/* Copy @len bytes at @addr.  -EFAULT when any byte lies beyond the size
 * (nothing is copied then), -ENOMEM when a page cannot be allocated. */
int iommu_mem_read(const struct iommu_mem *mem, uint64_t addr, void *buf,
		   size_t len);
int iommu_mem_write(struct iommu_mem *mem, uint64_t addr, const void *buf,
		    size_t len);
/* Little-endian 32/64-bit accessors (any alignment). */
int iommu_mem_read32(const struct iommu_mem *mem, uint64_t addr, uint32_t *v);
int iommu_mem_write32(struct iommu_mem *mem, uint64_t addr, uint32_t v);
int iommu_mem_read64(const struct iommu_mem *mem, uint64_t addr, uint64_t *v);
int iommu_mem_write64(struct iommu_mem *mem, uint64_t addr, uint64_t v);
/* Set @len bytes at @addr to @byte (zero over unallocated pages allocates
 * nothing). */
int iommu_mem_fill(struct iommu_mem *mem, uint64_t addr, uint8_t byte,
		   size_t len);

/*
 * Direct access for software that keeps its own structures in the memory
 * (the core's Intel driver and its page tables), as a CPU reaches memory
 * without going through the accessors above: a host pointer to the
 * 4 KiB page holding @addr (the page's first byte).  The page counts as
 * allocated from now on (it is allocated if it never was).  Its bytes are
 * the memory's, in the memory's little-endian layout: what is stored
 * through the pointer is what the unit's walk and iommu_mem_read see.
 * The pointer stays valid until the memory is destroyed.  NULL when @mem
 * is NULL, @addr is at or beyond the size, or a page cannot be allocated.
 */
void *iommu_mem_page_ptr(struct iommu_mem *mem, uint64_t addr);

/* ------------------------------------------------------------------ */
/* VT-d fault reasons (VT-d specification, appendix "Non-Recoverable    */
/* Fault Reason Encodings"; legacy-mode and interrupt-remapping ones)   */

enum iommu_vtd_fault_reason {
	IOMMU_VTD_FR_NONE = 0x00,            /* no fault */
	IOMMU_VTD_FR_ROOT_NOT_PRESENT = 0x01,
	IOMMU_VTD_FR_CTX_NOT_PRESENT = 0x02,
	IOMMU_VTD_FR_CTX_INVALID = 0x03,
	IOMMU_VTD_FR_ADDR_BEYOND_AW = 0x04,
	IOMMU_VTD_FR_WRITE = 0x05,
	IOMMU_VTD_FR_READ = 0x06,
	IOMMU_VTD_FR_SL_ACCESS = 0x07,
	IOMMU_VTD_FR_ROOT_ACCESS = 0x08,
	IOMMU_VTD_FR_CTX_ACCESS = 0x09,
	IOMMU_VTD_FR_ROOT_RSVD = 0x0a,
	IOMMU_VTD_FR_CTX_RSVD = 0x0b,
	IOMMU_VTD_FR_SL_RSVD = 0x0c,
	IOMMU_VTD_FR_TT_BLOCKED = 0x0d,
	IOMMU_VTD_FR_IR_REQ_RSVD = 0x20,
	IOMMU_VTD_FR_IR_INDEX = 0x21,
	IOMMU_VTD_FR_IR_NOT_PRESENT = 0x22,
	IOMMU_VTD_FR_IR_TABLE_ACCESS = 0x23,
	IOMMU_VTD_FR_IR_RSVD = 0x24,
	IOMMU_VTD_FR_IR_COMPAT_BLOCKED = 0x25,
	IOMMU_VTD_FR_IR_SID = 0x26,
};

/* The specification's description of @reason ("The Present (P) field in
 * the root-entry ... is 0"), or NULL for a code the model does not raise. */
const char *iommu_vtd_fault_reason_desc(unsigned reason);
/* A short name ("root-not-present"), or NULL likewise. */
const char *iommu_vtd_fault_reason_name(unsigned reason);

/* ------------------------------------------------------------------ */
/* A remapping unit (one per DRHD)                                      */

struct iommu_vtd_unit;

/* Interrupt messages the unit sends (through the config's callback). */
enum iommu_vtd_event {
	IOMMU_VTD_EVENT_FAULT = 1,        /* FEADDR/FEUADDR/FEDATA message */
	IOMMU_VTD_EVENT_INV_COMPLETE = 2, /* IEADDR/IEUADDR/IEDATA message */
};

/* Called from inside the register write or request that raised the
 * event; it must not call back into the same unit (queue the interrupt
 * and deliver it afterwards). */
typedef void (*iommu_vtd_event_fn)(void *ctx, enum iommu_vtd_event ev,
				   uint64_t msi_addr, uint32_t msi_data);

/*
 * QEMU's legacy-mode vIOMMU as the captures in tests/captures show it
 * (iommu_class/dmar0/intel-iommu/{cap,ecap}): 39-bit MGAW, SAGAW 3-level,
 * 2 MiB and 1 GiB pages, PSI with MAMV 18, one fault recording register at
 * 0x220, IOTLB registers at 0xf0; QI, IR and pass-through.
 */
#define IOMMU_VTD_DEFAULT_CAP UINT64_C(0x00d2008c22260206)
#define IOMMU_VTD_DEFAULT_ECAP UINT64_C(0x0000000000f00f4a)
#define IOMMU_VTD_DEFAULT_REG_BASE UINT64_C(0xfed90000)

struct iommu_vtd_config {
	uint64_t cap;               /* CAP_REG; 0: IOMMU_VTD_DEFAULT_CAP */
	uint64_t ecap;              /* ECAP_REG; 0 (with cap 0): default */
	uint32_t version;           /* VER_REG; 0: 0x10 (1.0) */
	uint64_t reg_base;          /* DRHD register base (informational) */
	unsigned haw_bits;          /* host address width, 32..52; 0: min(MGAW, 52) */
	unsigned iotlb_sets;        /* power of two; 0: 64 */
	unsigned iotlb_ways;        /* 0: 8 */
	unsigned context_cache_entries; /* power of two; 0: 64 (4-way) */
	unsigned iec_entries;       /* interrupt entry cache, power of two;
				       0: 64 (direct-mapped) */
	struct iommu_mem *mem;      /* required; not owned */
	iommu_vtd_event_fn event;   /* may be NULL */
	void *event_ctx;
};

/* Fill @cfg with the defaults above (mem and event left NULL). */
void iommu_vtd_config_init(struct iommu_vtd_config *cfg);

/*
 * A unit in its reset state: translation and interrupt remapping off,
 * FECTL.IM and IECTL.IM set, caches empty.  -EINVAL (with a message in
 * @err, may be NULL) when the config is inconsistent: no memory, a CAP
 * whose SAGAW is empty or names levels the model does not have, fault
 * recording or IOTLB registers outside the register window, cache
 * geometry that is not a power of two.  -ENOMEM.
 */
int iommu_vtd_create(const struct iommu_vtd_config *cfg,
		     struct iommu_vtd_unit **out, struct iommu_error *err);
void iommu_vtd_destroy(struct iommu_vtd_unit *unit);
/* Back to the reset state (registers, caches, counters). */
void iommu_vtd_reset(struct iommu_vtd_unit *unit);

/* Size of the register window in bytes (4 KiB unless FRO/IRO need more). */
uint32_t iommu_vtd_mmio_size(const struct iommu_vtd_unit *unit);

/*
 * Register access as the CPU does it: @size 4 or 8, @offset aligned to it
 * and inside the window, else -EINVAL.  Reserved and unimplemented
 * registers read 0 and ignore writes.  64-bit registers may be accessed as
 * two 4-byte halves; a command takes effect when the half holding its
 * trigger bit is written (ICC, IVT: upper half; IQT: lower half).
 */
int iommu_vtd_mmio_read(struct iommu_vtd_unit *unit, uint32_t offset,
			unsigned size, uint64_t *val);
int iommu_vtd_mmio_write(struct iommu_vtd_unit *unit, uint32_t offset,
			 unsigned size, uint64_t val);

/* ------------------------------------------------------------------ */
/* DMA translation                                                      */

/* PCIe address type of a request (AT field). */
enum iommu_vtd_at {
	IOMMU_VTD_AT_UNTRANSLATED = 0,
	IOMMU_VTD_AT_TRANSLATION_REQ = 1,  /* ATS translation request */
	IOMMU_VTD_AT_TRANSLATED = 2,       /* address already translated */
};

struct iommu_vtd_request {
	uint16_t source_id;   /* requester id: bus << 8 | devfn */
	uint64_t addr;        /* input (DMA) address */
	uint32_t size;        /* bytes, 1..4096, not crossing a 4 KiB page */
	bool write;           /* write request (else read) */
	uint8_t at;           /* enum iommu_vtd_at; 0 for ordinary DMA */
};

struct iommu_vtd_result {
	uint64_t host_addr;   /* output address of @addr */
	uint64_t page_size;   /* 4 KiB, 2 MiB or 1 GiB; 4 KiB untranslated */
	bool read, write;     /* effective permissions of the mapping */
	bool passthrough;     /* TES clear or context TT=10b */
	bool iotlb_hit;       /* answered from the IOTLB */
	uint16_t domain_id;   /* context entry DID (translated requests) */
	uint8_t fault_reason; /* enum iommu_vtd_fault_reason; 0 on success */
	bool fault_recorded;  /* the fault went to a FRCD register (not
				 suppressed by FPD, not lost to overflow) */
};

/*
 * Translate one request.  0 with @res filled, -EFAULT on a translation
 * fault (res->fault_reason set, the fault recorded as the specification
 * says), -EINVAL for a malformed request (size 0, above 4 KiB or crossing
 * a page).  Table reads go through the memory model: any table contents
 * end in a translation or a fault.
 */
int iommu_vtd_translate(struct iommu_vtd_unit *unit,
			const struct iommu_vtd_request *req,
			struct iommu_vtd_result *res);

/*
 * A device DMA of @len bytes through the unit into memory, split at page
 * boundaries.  0, or the first translation's -EFAULT (@res, may be NULL,
 * holds that fault; nothing after it is transferred), or the memory's
 * error.
 */
int iommu_vtd_dma_read(struct iommu_vtd_unit *unit, uint16_t source_id,
		       uint64_t addr, void *buf, size_t len,
		       struct iommu_vtd_result *res);
int iommu_vtd_dma_write(struct iommu_vtd_unit *unit, uint16_t source_id,
			uint64_t addr, const void *buf, size_t len,
			struct iommu_vtd_result *res);

/* ------------------------------------------------------------------ */
/* Interrupt remapping                                                  */

struct iommu_vtd_msi {
	uint16_t source_id;
	uint64_t addr;        /* 0xFEEx_xxxx */
	uint32_t data;
};

/* The interrupt as the unit delivers it. */
struct iommu_vtd_irq {
	bool remapped;        /* through an IRTE (else compatibility format) */
	uint16_t index;       /* interrupt_index (remapped) */
	uint8_t vector;
	uint32_t dest_id;     /* APIC id: 8 bits in xAPIC mode, 32 in x2APIC */
	bool dest_logical;    /* DM */
	bool redir_hint;      /* RH */
	bool level;           /* TM: level-triggered */
	uint8_t delivery_mode;/* DLM */
	bool iec_hit;         /* IRTE from the interrupt entry cache */
	uint8_t fault_reason; /* enum iommu_vtd_fault_reason; 0 on success */
	bool fault_recorded;
};

/*
 * Remap one interrupt message.  0 with @irq filled; -EFAULT when the
 * unit blocks it (irq->fault_reason set and recorded unless FPD); -EINVAL
 * when @msi->addr is not in the interrupt address range.
 */
int iommu_vtd_interrupt(struct iommu_vtd_unit *unit,
			const struct iommu_vtd_msi *msi,
			struct iommu_vtd_irq *irq);

/* ------------------------------------------------------------------ */
/* Counters                                                             */

struct iommu_vtd_stats {
	uint64_t translations;      /* iommu_vtd_translate calls (valid ones) */
	uint64_t faults;            /* translation and IR faults detected */
	uint64_t faults_recorded;   /* of which written to FRCD registers */
	uint64_t faults_overflowed; /* lost to PFO */
	uint64_t iotlb_hits, iotlb_misses;
	uint64_t iotlb_fills, iotlb_evictions;
	uint64_t iotlb_invalidations;  /* invalidation requests (any source) */
	uint64_t iotlb_entries_invalidated;
	uint64_t cc_hits, cc_misses, cc_fills, cc_evictions;
	uint64_t cc_invalidations, cc_entries_invalidated;
	uint64_t walks;             /* second-level walks started */
	uint64_t walk_reads;        /* table entries read (root..leaf) */
	uint64_t iec_hits, iec_misses;
	uint64_t iec_invalidations, iec_entries_invalidated;
	uint64_t interrupts;        /* iommu_vtd_interrupt calls */
	uint64_t qi_descriptors;    /* descriptors executed */
	uint64_t qi_errors;         /* IQE raised */
	uint64_t events_sent;       /* interrupt messages sent */
};

void iommu_vtd_get_stats(const struct iommu_vtd_unit *unit,
			 struct iommu_vtd_stats *stats);
void iommu_vtd_clear_stats(struct iommu_vtd_unit *unit);

/* Valid entries now held (tests: what a flush left behind). */
unsigned iommu_vtd_iotlb_count(const struct iommu_vtd_unit *unit);
unsigned iommu_vtd_cc_count(const struct iommu_vtd_unit *unit);
unsigned iommu_vtd_iec_count(const struct iommu_vtd_unit *unit);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_HW_H */
