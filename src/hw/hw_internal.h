/* SPDX-License-Identifier: MIT */
/*
 * Internals of the hardware layer: the memory's radix of pages with its
 * inline fast path, the unit's state, and the calls between the files of
 * src/hw/.
 */
#ifndef IOMMU_HW_INTERNAL_H
#define IOMMU_HW_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iommu/hw.h"
#include "hw/vtd_spec.h"

/* ------------------------------------------------------------------ */
/* Memory: a two-level radix of page pointers.  The top level has one   */
/* slot per GiB of the size; each leaf holds 2^18 page pointers.        */

#define IOMMU_MEM_PAGE_SHIFT 12u
#define IOMMU_MEM_LEAF_SHIFT 18u  /* pages per leaf: 2^18 (1 GiB) */
#define IOMMU_MEM_LEAF_PAGES (1u << IOMMU_MEM_LEAF_SHIFT)
#define IOMMU_MEM_TOP_SHIFT (IOMMU_MEM_PAGE_SHIFT + IOMMU_MEM_LEAF_SHIFT)

struct iommu_mem {
	uint64_t size;
	uint64_t top_entries;
	uint8_t ***top;          /* top[gib][page] -> 4 KiB or NULL */
	uint64_t pages;
};

/* The page holding @addr, or NULL when never written (addr < size). */
static inline uint8_t *iommu_mem__page(const struct iommu_mem *m,
				       uint64_t addr)
{
	uint8_t **leaf = m->top[addr >> IOMMU_MEM_TOP_SHIFT];

	if (!leaf)
		return NULL;
	return leaf[(addr >> IOMMU_MEM_PAGE_SHIFT) & (IOMMU_MEM_LEAF_PAGES - 1)];
}

/* Fast path for table walks: an 8-byte-aligned little-endian load. */
static inline int iommu_mem__rd64(const struct iommu_mem *m, uint64_t addr,
				  uint64_t *v)
{
	const uint8_t *pg;

	if (addr >= m->size || (addr & 7))
		return -EFAULT;
	pg = iommu_mem__page(m, addr);
	if (!pg) {
		*v = 0;
		return 0;
	}
	*v = iommu_le64(pg + (addr & (IOMMU_MEM_PAGE_SIZE - 1)));
	return 0;
}

/* A 16-byte-aligned 128-bit entry as two words. */
static inline int iommu_mem__rd128(const struct iommu_mem *m, uint64_t addr,
				   uint64_t *lo, uint64_t *hi)
{
	const uint8_t *pg;

	if (addr >= m->size || (addr & 15))
		return -EFAULT;
	pg = iommu_mem__page(m, addr);
	if (!pg) {
		*lo = *hi = 0;
		return 0;
	}
	pg += addr & (IOMMU_MEM_PAGE_SIZE - 1);
	*lo = iommu_le64(pg);
	*hi = iommu_le64(pg + 8);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Caches                                                               */

/* IOTLB key: page number (addr >> 12, at most 45 bits for 57-bit input
 * addresses) << 19 | level << 16 | domain id.  Level is 1..3 so the
 * all-ones invalid tag never matches a real key. */
#define VTD_IOTLB_INVALID (~UINT64_C(0))

static inline uint64_t vtd_iotlb_key(uint64_t addr, unsigned level,
				     uint16_t did)
{
	return ((addr >> 12) << 19) | ((uint64_t)level << 16) | did;
}

struct vtd_iotlb_data {
	uint64_t hpa;       /* output page base */
	uint64_t stamp;     /* LRU */
	uint16_t did;
	uint8_t level;      /* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB */
	uint8_t perms;      /* bit 0 read, bit 1 write; 0: cached
			       not-present (CM=1) */
};

#define VTD_CC_INVALID UINT32_C(0xffffffff)

struct vtd_cc_data {
	uint64_t slptptr;
	uint64_t stamp;
	uint16_t did;
	uint8_t tt;
	uint8_t levels;     /* second-level paging levels (3..5) */
	uint8_t agaw;       /* address width in bits of AW */
	bool fpd;
	bool present;       /* false: cached not-present entry (CM=1) */
};

#define VTD_IEC_INVALID UINT32_C(0xffffffff)

struct vtd_iec_data {
	uint64_t lo, hi;    /* the IRTE as read (present, checked) */
};

/* ------------------------------------------------------------------ */
/* The unit                                                             */

struct iommu_vtd_unit {
	struct iommu_vtd_config cfg;
	struct iommu_mem *mem;

	/* decoded capabilities */
	uint64_t cap, ecap;
	uint32_t fro;           /* fault recording registers offset */
	uint32_t nfr;           /* number of them */
	uint32_t iro;           /* IOTLB registers offset */
	uint32_t mmio_size;
	unsigned mgaw;          /* bits */
	unsigned haw;           /* bits */
	uint64_t haw_mask;      /* bits haw-1..0 */
	uint16_t did_mask;      /* ND */
	uint8_t sagaw;
	uint8_t sllps;
	uint8_t mamv;
	bool cm, psi, qi, ir, pt, dt, eim, sc, rwbf;
	/* reserved bits of a second-level entry, by level (1..5): as a leaf
	 * (levels 1..3) and as a pointer to the next table (levels 2..5) */
	uint64_t sl_rsvd_leaf[6];
	uint64_t sl_rsvd_dir[6];

	/* registers */
	uint32_t gsts;
	uint64_t rtaddr;        /* as written */
	uint64_t rta;           /* latched by SRTP */
	uint64_t ccmd;
	uint32_t fsts;          /* RW1C bits and FRI; PPF computed */
	uint32_t fectl, fedata, feaddr, feuaddr;
	uint64_t *frcd;         /* 2 words per register */
	uint64_t aflog;
	uint32_t pmen, plmbase, plmlimit;
	uint64_t phmbase, phmlimit;
	uint64_t iqh, iqt, iqa;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t iqercd;
	uint64_t irtaddr;       /* IRTA as written */
	uint64_t irta;          /* latched by SIRTP */
	uint64_t iva, iotlb_reg;

	/* caches */
	unsigned iotlb_sets, iotlb_ways, iotlb_set_mask;
	uint64_t *iotlb_tags;   /* sets * ways */
	struct vtd_iotlb_data *iotlb;
	unsigned iotlb_large[4];  /* valid entries per level (1..3) */
	unsigned cc_sets, cc_ways;
	uint32_t *cc_tags;
	struct vtd_cc_data *cc;
	unsigned iec_entries;
	uint32_t *iec_tags;
	struct vtd_iec_data *iec;
	uint64_t clock;

	struct iommu_vtd_stats st;
};

/* vtd_fault.c */
/* Record a fault as 7.3.1 says; true when it went to a FRCD register. */
bool vtd_fault_record(struct iommu_vtd_unit *u, uint16_t sid, unsigned fr,
		      uint64_t fi, bool read, unsigned at);
/* A status condition was raised (PPF/PFO/IQE...): fault event (7.3.3). */
void vtd_fault_event(struct iommu_vtd_unit *u);
/* After a software write clears status: drop a pending IP if nothing is
 * left to service. */
void vtd_fault_status_serviced(struct iommu_vtd_unit *u);
uint32_t vtd_fsts_read(const struct iommu_vtd_unit *u);
void vtd_fsts_write(struct iommu_vtd_unit *u, uint32_t val);
void vtd_fectl_write(struct iommu_vtd_unit *u, uint32_t val);
void vtd_frcd_write(struct iommu_vtd_unit *u, uint32_t idx, unsigned word,
		    uint64_t val);
void vtd_inv_event(struct iommu_vtd_unit *u);
void vtd_iectl_write(struct iommu_vtd_unit *u, uint32_t val);
void vtd_ics_write(struct iommu_vtd_unit *u, uint32_t val);
void vtd_send(struct iommu_vtd_unit *u, enum iommu_vtd_event ev,
	      uint32_t addr, uint32_t uaddr, uint32_t data);

/* vtd_cache.c */
int vtd_caches_alloc(struct iommu_vtd_unit *u);
void vtd_caches_free(struct iommu_vtd_unit *u);
void vtd_caches_reset(struct iommu_vtd_unit *u);
const struct vtd_cc_data *vtd_cc_lookup(struct iommu_vtd_unit *u,
					uint16_t sid);
void vtd_cc_insert(struct iommu_vtd_unit *u, uint16_t sid,
		   const struct vtd_cc_data *d);
/* granularity: IOMMU_VTD_GRAN_*; fm: function mask (0..3). */
void vtd_cc_invalidate(struct iommu_vtd_unit *u, unsigned gran,
		       uint16_t did, uint16_t sid, unsigned fm);
const struct vtd_iotlb_data *vtd_iotlb_lookup(struct iommu_vtd_unit *u,
					      uint16_t did, uint64_t addr);
void vtd_iotlb_insert(struct iommu_vtd_unit *u, uint16_t did, uint64_t addr,
		      unsigned level, uint64_t hpa, unsigned perms);
/* addr/am used for page-selective: 2^am pages from addr. */
void vtd_iotlb_invalidate(struct iommu_vtd_unit *u, unsigned gran,
			  uint16_t did, uint64_t addr, unsigned am, bool ih);
const struct vtd_iec_data *vtd_iec_lookup(struct iommu_vtd_unit *u,
					  uint16_t index);
void vtd_iec_insert(struct iommu_vtd_unit *u, uint16_t index, uint64_t lo,
		    uint64_t hi);
/* global, or 2^im entries from index (aligned down). */
void vtd_iec_invalidate(struct iommu_vtd_unit *u, bool global,
			uint16_t index, unsigned im);

/* vtd_qi.c */
void vtd_qi_run(struct iommu_vtd_unit *u);
void vtd_iqt_write(struct iommu_vtd_unit *u, uint64_t val);
void vtd_iqa_write(struct iommu_vtd_unit *u, uint64_t val);
void vtd_qi_enable(struct iommu_vtd_unit *u, bool on);

/* vtd_regs.c */
void vtd_regs_reset(struct iommu_vtd_unit *u);

#endif /* IOMMU_HW_INTERNAL_H */
