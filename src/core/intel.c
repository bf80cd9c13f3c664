// SPDX-License-Identifier: MIT
/*
 * The core's Intel VT-d driver: what drivers/iommu/intel/iommu.c (and the
 * queued-invalidation half of dmar.c) does to a remapping unit, done to
 * the modelled unit of iommu/hw.h through its MMIO registers and tables
 * in modelled memory.  Legacy mode, second-level tables.
 *
 * doc/intel-driver.md lists each step with the kernel function it
 * mirrors.  Written from the VT-d specification and the kernel's
 * observable behaviour; field layouts are in intel.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/intel.h"
#include "core/internal.h"
#include "iommu/hw.h"

/* IOMMU_WAIT_OP gives up after a time; the model completes every command
 * within the write, so a handful of reads is plenty. */
#define WAIT_TRIES 1000
/* The kernel's queue: one 4 KiB page of 128-bit descriptors (QI_LENGTH). */
#define QI_LENGTH 256u
/* desc_status values the wait descriptors write (QI_IN_USE, QI_DONE). */
#define QI_IN_USE 1u
#define QI_DONE 2u
/* DEFAULT_DOMAIN_ADDRESS_WIDTH */
#define DEFAULT_WIDTH 57u

/* --- The table-page allocator ------------------------------------------ */

/*
 * What the driver knows of each page of its table region, outside
 * modelled memory (the kernel's struct page): the page's host pointer
 * (iommu_mem_page_ptr(), so that table entries are read and written as a
 * CPU does, 8 bytes at a time through the pointer), and how many of its
 * entries are present, so that a table left empty by an unmap is freed.
 */
struct tpage {
	uint8_t *host;        /* NULL until the page is first used */
	uint32_t count;       /* present entries */
};

struct pgalloc {
	uint64_t base, npages, bump;
	uint32_t *free;       /* stack of free page indexes */
	size_t nfree;
	struct tpage *tp;     /* by page index */
};

struct iommu_intel {
	struct iommu_vtd_unit *unit;
	struct iommu_mem *mem;
	uint64_t cap, ecap;
	uint32_t gcmd;                  /* iommu->gcmd: the persistent commands */
	bool enabled, qi, force_reg;
	int agaw, msagaw;               /* iommu->agaw, iommu->msagaw */
	unsigned superpage;             /* domain->iommu_superpage */
	unsigned mgaw;
	uint32_t iotlb_reg;             /* ECAP.IRO * 16 */
	uint32_t ndoms;
	uint8_t *did_map;               /* iommu->domain_ids */
	uint64_t root;                  /* root table */
	uint64_t qi_desc, qi_status;    /* queue and desc_status pages */
	unsigned qi_head;               /* qi->free_head */
	struct pgalloc pg;
	struct iommu_intel_domain **dev_dom; /* by source id */
	struct iommu_intel_domain **domains;
	size_t n_domains;
	struct iommu_intel_stats st;
};

struct iommu_intel_domain {
	struct iommu_intel *drv;
	enum iommu_domain_type type;
	bool paging;
	int agaw;
	unsigned levels, gaw;
	uint64_t pgd;
	struct tpage *pgd_tp;
	uint64_t iova_end;              /* 2^gaw: the first IOVA beyond the domain */
	uint16_t did;
	unsigned refs;                  /* devices attached */
	uint64_t pages;                 /* table pages held */
	enum iommu_intel_flush_mode mode;
	bool pending;                   /* deferred unmaps not flushed yet */
	uint64_t *freelist;             /* tables freed, not yet released */
	size_t nfree, capfree;
};

/* Table entries are little-endian 64-bit words in modelled memory. */
static inline uint64_t pte_get(const uint8_t *table, unsigned idx)
{
	uint64_t v;

	memcpy(&v, table + 8u * idx, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void pte_set(uint8_t *table, unsigned idx, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(table + 8u * idx, &v, sizeof(v));
}

/* alloc_pgtable_page(): a zeroed page of the region, its tpage in @tp. */
static int pg_alloc_tp(struct iommu_intel *drv, uint64_t *addr, struct tpage **tp)
{
	struct pgalloc *pg = &drv->pg;
	struct tpage *t;
	uint64_t idx;

	if (pg->nfree)
		idx = pg->free[--pg->nfree];
	else if (pg->bump < pg->npages)
		idx = pg->bump++;
	else
		return -ENOMEM;
	*addr = pg->base + idx * DRV_PAGE_SIZE;
	t = &pg->tp[idx];
	if (!t->host && !(t->host = iommu_mem_page_ptr(drv->mem, *addr))) {
		pg->free[pg->nfree++] = (uint32_t)idx;
		return -ENOMEM;
	}
	memset(t->host, 0, DRV_PAGE_SIZE);
	t->count = 0;
	drv->st.table_pages++;
	if (drv->st.table_pages > drv->st.table_pages_peak)
		drv->st.table_pages_peak = drv->st.table_pages;
	*tp = t;
	return 0;
}

static int pg_alloc(struct iommu_intel *drv, uint64_t *addr)
{
	struct tpage *tp;

	return pg_alloc_tp(drv, addr, &tp);
}

static void pg_free(struct iommu_intel *drv, uint64_t addr)
{
	struct pgalloc *pg = &drv->pg;

	pg->free[pg->nfree++] = (uint32_t)((addr - pg->base) / DRV_PAGE_SIZE);
	drv->st.table_pages--;
}

/* The tpage of the table at @table, read from an entry: NULL when the
 * entry does not point at a page of the region the driver allocated (a
 * table someone else wrote over). */
static inline struct tpage *tp_of(struct iommu_intel *drv, uint64_t table)
{
	uint64_t idx = (table - drv->pg.base) >> DRV_PAGE_SHIFT;
	struct tpage *t;

	if (idx >= drv->pg.bump)
		return NULL;
	t = &drv->pg.tp[idx];
	return t->host ? t : NULL;
}

/* --- Registers ---------------------------------------------------------- */

static uint64_t rd64(struct iommu_intel *drv, uint32_t off)
{
	uint64_t v = 0;

	iommu_vtd_mmio_read(drv->unit, off, 8, &v);
	return v;
}

static uint32_t rd32(struct iommu_intel *drv, uint32_t off)
{
	uint64_t v = 0;

	iommu_vtd_mmio_read(drv->unit, off, 4, &v);
	if (off == DRV_REG_GSTS)
		drv->st.gsts_reads++;
	return (uint32_t)v;
}

static void wr64(struct iommu_intel *drv, uint32_t off, uint64_t v)
{
	iommu_vtd_mmio_write(drv->unit, off, 8, v);
}

static void wr32(struct iommu_intel *drv, uint32_t off, uint32_t v)
{
	iommu_vtd_mmio_write(drv->unit, off, 4, v);
	if (off == DRV_REG_GCMD)
		drv->st.gcmd_writes++;
}

/* IOMMU_WAIT_OP(iommu, DMAR_GSTS_REG, readl, cond, sts) */
static int wait_gsts(struct iommu_intel *drv, uint32_t bit, bool set)
{
	for (int i = 0; i < WAIT_TRIES; i++)
		if (!!(rd32(drv, DRV_REG_GSTS) & bit) == set)
			return 0;
	return -ETIMEDOUT;
}

/* iommu_flush_write_buffer(): only where CAP.RWBF asks for it. */
static int flush_write_buffer(struct iommu_intel *drv)
{
	if (!(drv->cap & DRV_CAP_RWBF))
		return 0;
	drv->st.write_buffer_flushes++;
	wr32(drv, DRV_REG_GCMD, drv->gcmd | (uint32_t)DRV_GCMD_WBF);
	return wait_gsts(drv, (uint32_t)DRV_GSTS_WBFS, false);
}

/* --- Queued invalidation (dmar.c qi_submit_sync) ------------------------- */

static int qi_submit_sync(struct iommu_intel *drv, const uint64_t (*desc)[2], unsigned count)
{
	unsigned index = drv->qi_head, wait_index = (index + count) % QI_LENGTH;
	uint64_t status = drv->qi_status + 4u * wait_index;
	uint64_t wait[2];
	int ret = 0;
	uint32_t v = 0;

	for (unsigned i = 0; i < count; i++) {
		uint64_t at = drv->qi_desc + 16u * ((index + i) % QI_LENGTH);

		if ((ret = iommu_mem_write64(drv->mem, at, desc[i][0])) ||
		    (ret = iommu_mem_write64(drv->mem, at + 8, desc[i][1])))
			return ret;
	}
	wait[0] = IOMMU_FIELD_PREP(DRV_INV_TYPE, DRV_INV_WAIT) | DRV_QWAIT_SW |
		  IOMMU_FIELD_PREP(DRV_QWAIT_SDATA, QI_DONE);
	wait[1] = status & DRV_QWAIT_SADDR;
	if ((ret = iommu_mem_write32(drv->mem, status, QI_IN_USE)) ||
	    (ret = iommu_mem_write64(drv->mem, drv->qi_desc + 16u * wait_index, wait[0])) ||
	    (ret = iommu_mem_write64(drv->mem, drv->qi_desc + 16u * wait_index + 8, wait[1])))
		return ret;
	drv->qi_head = (wait_index + 1) % QI_LENGTH;
	drv->st.qi_submits++;
	drv->st.qi_descriptors += count + 1;
	/* The tail moves with a 32-bit write, as writel() does. */
	wr32(drv, DRV_REG_IQT, drv->qi_head << DRV_IQ_SHIFT);
	for (int i = 0; i < WAIT_TRIES; i++) {
		uint32_t fsts;

		if (iommu_mem_read32(drv->mem, status, &v))
			return -EFAULT;
		if (v == QI_DONE)
			return ret;
		/* qi_check_fault(): on an Invalidation Queue Error at one of
		 * ours, put the wait descriptor in its place and clear IQE so
		 * the queue drains; the submission fails. */
		fsts = rd32(drv, DRV_REG_FSTS);
		if (fsts & DRV_FSTS_IQE) {
			unsigned head = (unsigned)IOMMU_FIELD_GET(DRV_IQ_QPTR, rd64(drv, DRV_REG_IQH));
			uint64_t at = drv->qi_desc + 16u * head;

			drv->st.qi_errors++;
			iommu_mem_write64(drv->mem, at, wait[0]);
			iommu_mem_write64(drv->mem, at + 8, wait[1]);
			wr32(drv, DRV_REG_FSTS, (uint32_t)DRV_FSTS_IQE);
			ret = -EINVAL;
		}
	}
	return -ETIMEDOUT;
}

/* --- Invalidation: flush.flush_context and flush.flush_iotlb -------------- */

static int flush_context(struct iommu_intel *drv, uint16_t did, uint16_t sid, unsigned fm,
			 unsigned gran)
{
	uint64_t val;

	if (gran == DRV_GRAN_GLOBAL)
		drv->st.cc_global++;
	else if (gran == DRV_GRAN_DOMAIN)
		drv->st.cc_domain++;
	else
		drv->st.cc_device++;
	if (gran == DRV_GRAN_GLOBAL)
		did = sid = 0, fm = 0;
	else if (gran == DRV_GRAN_DOMAIN)
		sid = 0, fm = 0;
	if (drv->qi) {
		/* qi_flush_context() */
		uint64_t d[1][2] = { {
			IOMMU_FIELD_PREP(DRV_INV_TYPE, DRV_INV_CC) |
			IOMMU_FIELD_PREP(DRV_QCC_G, gran) | IOMMU_FIELD_PREP(DRV_QCC_DID, did) |
			IOMMU_FIELD_PREP(DRV_QCC_SID, sid) | IOMMU_FIELD_PREP(DRV_QCC_FM, fm),
			0 } };

		return qi_submit_sync(drv, d, 1);
	}
	/* __iommu_flush_context() */
	drv->st.reg_invalidations++;
	val = DRV_CCMD_ICC | IOMMU_FIELD_PREP(DRV_CCMD_CIRG, gran) |
	      IOMMU_FIELD_PREP(DRV_CCMD_DID, did) | IOMMU_FIELD_PREP(DRV_CCMD_SID, sid) |
	      IOMMU_FIELD_PREP(DRV_CCMD_FM, fm);
	wr64(drv, DRV_REG_CCMD, val);
	for (int i = 0; i < WAIT_TRIES; i++) {
		val = rd64(drv, DRV_REG_CCMD);
		if (!(val & DRV_CCMD_ICC)) {
			if (!IOMMU_FIELD_GET(DRV_CCMD_CAIG, val))
				drv->st.inv_failed++;
			return 0;
		}
	}
	return -ETIMEDOUT;
}

/* @addr carries IH in bit 6 for a page-selective flush, as the kernel
 * passes it. */
static int flush_iotlb(struct iommu_intel *drv, uint16_t did, uint64_t addr, unsigned am,
		       unsigned gran)
{
	bool dw = drv->cap & DRV_CAP_DWD, dr = drv->cap & DRV_CAP_DRD;
	uint64_t val;

	if (gran == DRV_GRAN_GLOBAL)
		drv->st.iotlb_global++;
	else if (gran == DRV_GRAN_DOMAIN)
		drv->st.iotlb_domain++;
	else
		drv->st.iotlb_page++;
	if (gran == DRV_GRAN_GLOBAL)
		did = 0;
	if (drv->qi) {
		/* qi_flush_iotlb() */
		uint64_t d[1][2] = { {
			IOMMU_FIELD_PREP(DRV_INV_TYPE, DRV_INV_IOTLB) |
			IOMMU_FIELD_PREP(DRV_QIOTLB_G, gran) |
			(dw ? DRV_QIOTLB_DW : 0) | (dr ? DRV_QIOTLB_DR : 0) |
			IOMMU_FIELD_PREP(DRV_QIOTLB_DID, did),
			gran == DRV_GRAN_PAGE ? (addr & (DRV_QIOTLB_ADDR | DRV_QIOTLB_IH)) |
						IOMMU_FIELD_PREP(DRV_QIOTLB_AM, am) : 0 } };

		return qi_submit_sync(drv, d, 1);
	}
	/* __iommu_flush_iotlb(): IVA first for a page-selective flush. */
	drv->st.reg_invalidations++;
	val = DRV_IOTLB_IVT | IOMMU_FIELD_PREP(DRV_IOTLB_IIRG, gran) |
	      (gran != DRV_GRAN_GLOBAL ? IOMMU_FIELD_PREP(DRV_IOTLB_DID, did) : 0) |
	      (dr ? DRV_IOTLB_DR : 0) | (dw ? DRV_IOTLB_DW : 0);
	if (gran == DRV_GRAN_PAGE)
		wr64(drv, drv->iotlb_reg, (addr & (DRV_IVA_ADDR | DRV_IVA_IH)) |
					  IOMMU_FIELD_PREP(DRV_IVA_AM, am));
	wr64(drv, drv->iotlb_reg + 8, val);
	for (int i = 0; i < WAIT_TRIES; i++) {
		val = rd64(drv, drv->iotlb_reg + 8);
		if (!(val & DRV_IOTLB_IVT)) {
			if (!IOMMU_FIELD_GET(DRV_IOTLB_IAIG, val))
				drv->st.inv_failed++;    /* "Flush IOTLB failed" */
			return 0;
		}
	}
	return -ETIMEDOUT;
}

/*
 * iommu_flush_iotlb_psi(): the pages rounded up to a power of two; when
 * @pfn is not aligned to that, the smallest aligned block holding both
 * ends.  Domain-selective without CAP.PSI or with a mask above MAMV.
 */
static int flush_iotlb_psi(struct iommu_intel_domain *dom, uint64_t pfn, uint64_t pages,
			   bool ih)
{
	struct iommu_intel *drv = dom->drv;
	unsigned mask = 0;
	uint64_t aligned = 1;

	while (aligned < pages) {
		aligned <<= 1;
		mask++;
	}
	if (pfn & (aligned - 1)) {
		uint64_t end_pfn = pfn + pages - 1;
		uint64_t shared = ~(pfn ^ end_pfn) & ~(aligned - 1);

		mask = shared ? (unsigned)__builtin_ctzll(shared) : 64;
	}
	if (!(drv->cap & DRV_CAP_PSI) || mask > IOMMU_FIELD_GET(DRV_CAP_MAMV, drv->cap)) {
		drv->st.psi_fallbacks++;
		return flush_iotlb(drv, dom->did, 0, 0, DRV_GRAN_DOMAIN);
	}
	return flush_iotlb(drv, dom->did, (pfn << DRV_PAGE_SHIFT) | (ih ? DRV_IVA_IH : 0), mask,
			   DRV_GRAN_PAGE);
}

int iommu_intel_flush_all(struct iommu_intel *drv)
{
	int ret;

	if (!drv->enabled)
		return -ENODEV;
	ret = flush_context(drv, 0, 0, 0, DRV_GRAN_GLOBAL);
	if (!ret)
		ret = flush_iotlb(drv, 0, 0, 0, DRV_GRAN_GLOBAL);
	return ret;
}

/* --- Create, enable ------------------------------------------------------ */

static unsigned width_to_agaw(unsigned width)
{
	return (width - 30 + 8) / 9;
}

static unsigned agaw_to_width(int agaw)
{
	unsigned w = 30u + (unsigned)agaw * 9u;

	return w > 64 ? 64 : w;
}

/* __iommu_calculate_agaw(): the largest SAGAW bit not above the width. */
static int calculate_agaw(uint64_t cap, unsigned width)
{
	unsigned sagaw = (unsigned)IOMMU_FIELD_GET(DRV_CAP_SAGAW, cap);
	int agaw = (int)width_to_agaw(width);

	if (agaw > 4)
		agaw = 4;
	for (; agaw >= 0; agaw--)
		if (sagaw & (1u << agaw))
			break;
	return agaw;
}

static void seterr(struct iommu_error *err, const char *msg)
{
	if (err)
		iommu_error_set(err, -EINVAL, "%s", msg);
}

int iommu_intel_create(const struct iommu_intel_config *cfg, struct iommu_intel **out,
		       struct iommu_error *err)
{
	struct iommu_intel *drv;
	uint64_t memsz, base, size, sllps;

	*out = NULL;
	if (!cfg || !cfg->unit || !cfg->mem) {
		seterr(err, "intel driver: a unit and its memory are required");
		return -EINVAL;
	}
	memsz = iommu_mem_size(cfg->mem);
	base = cfg->table_base;
	size = cfg->table_size;
	if (!size) {
		size = memsz / 8;
		if (size > (UINT64_C(256) << 20))
			size = UINT64_C(256) << 20;
		size &= ~(DRV_PAGE_SIZE - 1);
		base = memsz - size;
	}
	if ((base | size) & (DRV_PAGE_SIZE - 1) || size < 4 * DRV_PAGE_SIZE || base >= memsz ||
	    size > memsz - base || size / DRV_PAGE_SIZE > UINT32_MAX) {
		seterr(err, "intel driver: the table region is not 4 KiB aligned pages inside memory");
		return -EINVAL;
	}
	drv = calloc(1, sizeof(*drv));
	if (!drv)
		return -ENOMEM;
	drv->unit = cfg->unit;
	drv->mem = cfg->mem;
	drv->force_reg = cfg->register_invalidation;
	drv->pg.base = base;
	drv->pg.npages = size / DRV_PAGE_SIZE;
	drv->pg.free = malloc(drv->pg.npages * sizeof(*drv->pg.free));
	drv->pg.tp = calloc(drv->pg.npages, sizeof(*drv->pg.tp));
	drv->dev_dom = calloc(65536, sizeof(*drv->dev_dom));
	/* The driver learns the unit from its registers, as alloc_iommu(). */
	drv->cap = rd64(drv, DRV_REG_CAP);
	drv->ecap = rd64(drv, DRV_REG_ECAP);
	drv->ndoms = UINT32_C(1) << (4 + 2 * IOMMU_FIELD_GET(DRV_CAP_ND, drv->cap));
	if (drv->ndoms > 65536)
		drv->ndoms = 65536;
	drv->did_map = calloc(drv->ndoms / 8 + 1, 1);
	if (!drv->pg.free || !drv->pg.tp || !drv->dev_dom || !drv->did_map) {
		iommu_intel_destroy(drv);
		return -ENOMEM;
	}
	drv->agaw = calculate_agaw(drv->cap, DEFAULT_WIDTH);
	drv->msagaw = calculate_agaw(drv->cap, 64);
	drv->mgaw = (unsigned)IOMMU_FIELD_GET(DRV_CAP_MGAW, drv->cap) + 1;
	/* domain_update_iommu_superpage(): fls(SLLPS). */
	sllps = IOMMU_FIELD_GET(DRV_CAP_SLLPS, drv->cap);
	while (sllps) {
		drv->superpage++;
		sllps >>= 1;
	}
	drv->iotlb_reg = (uint32_t)IOMMU_FIELD_GET(DRV_ECAP_IRO, drv->ecap) * 16u;
	if (drv->agaw < 1) {
		seterr(err, "intel driver: the unit supports no usable address width (SAGAW)");
		iommu_intel_destroy(drv);
		return -EINVAL;
	}
	*out = drv;
	return 0;
}

bool iommu_intel_uses_qi(const struct iommu_intel *drv)
{
	return drv->qi;
}

unsigned iommu_intel_agaw(const struct iommu_intel *drv)
{
	return (unsigned)drv->agaw;
}

/* dmar_fault(-1, iommu) at init: clear what firmware left recorded. */
static void clear_faults(struct iommu_intel *drv)
{
	unsigned nfr = (unsigned)IOMMU_FIELD_GET(DRV_CAP_NFR, drv->cap) + 1;
	uint32_t fro = (uint32_t)IOMMU_FIELD_GET(DRV_CAP_FRO, drv->cap) * 16u;

	for (unsigned i = 0; i < nfr; i++) {
		uint32_t off = fro + 16u * i + 8u;

		if (rd64(drv, off) & DRV_FRCD_HI_F)
			wr32(drv, off + 4, (uint32_t)(DRV_FRCD_HI_F >> 32));
	}
	wr32(drv, DRV_REG_FSTS, (uint32_t)(DRV_FSTS_PFO | DRV_FSTS_IQE | DRV_FSTS_ICE |
					   DRV_FSTS_ITE));
}

/* dmar_disable_qi() */
static int disable_qi(struct iommu_intel *drv)
{
	if (!(drv->ecap & DRV_ECAP_QI) || !(rd32(drv, DRV_REG_GSTS) & DRV_GSTS_QIES))
		return 0;
	for (int i = 0; i < WAIT_TRIES && rd64(drv, DRV_REG_IQT) != rd64(drv, DRV_REG_IQH); i++)
		;
	drv->gcmd &= ~(uint32_t)DRV_GCMD_QIE;
	wr32(drv, DRV_REG_GCMD, drv->gcmd);
	return wait_gsts(drv, (uint32_t)DRV_GSTS_QIES, false);
}

/* dmar_enable_qi() / __dmar_enable_qi() */
static int enable_qi(struct iommu_intel *drv)
{
	int ret;

	if ((ret = pg_alloc(drv, &drv->qi_desc)) || (ret = pg_alloc(drv, &drv->qi_status)))
		return ret;
	drv->qi_head = 0;
	wr32(drv, DRV_REG_IQT, 0);
	wr64(drv, DRV_REG_IQA, (drv->qi_desc & DRV_IQA_IQA) | IOMMU_FIELD_PREP(DRV_IQA_QS, 0));
	drv->gcmd |= (uint32_t)DRV_GCMD_QIE;
	wr32(drv, DRV_REG_GCMD, drv->gcmd);
	ret = wait_gsts(drv, (uint32_t)DRV_GSTS_QIES, true);
	if (!ret)
		drv->qi = true;
	return ret;
}

int iommu_intel_enable(struct iommu_intel *drv)
{
	uint32_t gsts;
	int ret;

	if (drv->enabled)
		return -EBUSY;
	/* alloc_iommu(): the persistent commands as the status shows them. */
	gsts = rd32(drv, DRV_REG_GSTS);
	drv->gcmd = 0;
	if (gsts & DRV_GSTS_IRES)
		drv->gcmd |= (uint32_t)DRV_GCMD_IRE;
	if (gsts & DRV_GSTS_TES)
		drv->gcmd |= (uint32_t)DRV_GCMD_TE;
	if (gsts & DRV_GSTS_QIES)
		drv->gcmd |= (uint32_t)DRV_GCMD_QIE;

	/* intel_iommu_init_qi() */
	clear_faults(drv);
	if ((ret = disable_qi(drv)))
		return ret;
	if ((drv->ecap & DRV_ECAP_QI) && !drv->force_reg) {
		if ((ret = enable_qi(drv)))
			return ret;
	}

	/* iommu_init_domains(): domain id 0 is never handed out. */
	memset(drv->did_map, 0, drv->ndoms / 8 + 1);
	drv->did_map[0] |= 1;

	/* init_translation_status(): translation left on by firmware (not a
	 * kdump kernel) is turned off before the tables change. */
	if (gsts & DRV_GSTS_TES) {
		drv->gcmd &= ~(uint32_t)DRV_GCMD_TE;
		wr32(drv, DRV_REG_GCMD, drv->gcmd);
		if ((ret = wait_gsts(drv, (uint32_t)DRV_GSTS_TES, false)))
			return ret;
	}

	/* iommu_alloc_root_entry() */
	if (!drv->root && (ret = pg_alloc(drv, &drv->root)))
		return ret;

	/* iommu_flush_write_buffer(); iommu_set_root_entry() */
	if ((ret = flush_write_buffer(drv)))
		return ret;
	wr64(drv, DRV_REG_RTADDR, (drv->root & DRV_RTADDR_RTA) |
				  IOMMU_FIELD_PREP(DRV_RTADDR_TTM, 0));
	wr32(drv, DRV_REG_GCMD, drv->gcmd | (uint32_t)DRV_GCMD_SRTP);
	if ((ret = wait_gsts(drv, (uint32_t)DRV_GSTS_RTPS, true)))
		return ret;
	if (!(drv->cap & DRV_CAP_ESRTPS)) {
		if ((ret = flush_context(drv, 0, 0, 0, DRV_GRAN_GLOBAL)) ||
		    (ret = flush_iotlb(drv, 0, 0, 0, DRV_GRAN_GLOBAL)))
			return ret;
	}
	if ((ret = flush_write_buffer(drv)))
		return ret;

	/* iommu_enable_translation() */
	drv->gcmd |= (uint32_t)DRV_GCMD_TE;
	wr32(drv, DRV_REG_GCMD, drv->gcmd);
	if ((ret = wait_gsts(drv, (uint32_t)DRV_GSTS_TES, true)))
		return ret;

	/* iommu_disable_protect_mem_regions() */
	if (drv->cap & (DRV_CAP_PLMR | DRV_CAP_PHMR)) {
		uint32_t pmen = rd32(drv, DRV_REG_PMEN) & ~(uint32_t)DRV_PMEN_EPM;

		wr32(drv, DRV_REG_PMEN, pmen);
		for (int i = 0; i < WAIT_TRIES && (rd32(drv, DRV_REG_PMEN) & DRV_PMEN_PRS); i++)
			;
	}
	drv->enabled = true;
	return 0;
}

void iommu_intel_get_stats(const struct iommu_intel *drv, struct iommu_intel_stats *st)
{
	*st = drv->st;
}

/* --- Domains -------------------------------------------------------------- */

static unsigned lvl_shift(unsigned level)
{
	return DRV_PAGE_SHIFT + DRV_STRIDE_SHIFT * (level - 1);
}

static uint64_t pte_slot(uint64_t table, uint64_t iova, unsigned level)
{
	return table + ((iova >> lvl_shift(level)) & (DRV_PTES - 1)) * 8u;
}

static bool pte_present(uint64_t pte)
{
	return pte & (DRV_PTE_R | DRV_PTE_W);
}

static bool pte_leaf(uint64_t pte, unsigned level)
{
	return level == 1 || (level <= 3 && (pte & DRV_PTE_PS));
}

int iommu_intel_domain_alloc(struct iommu_intel *drv, enum iommu_domain_type type,
			     unsigned addr_width, struct iommu_intel_domain **out)
{
	struct iommu_intel_domain *dom, **v;
	int ret;

	*out = NULL;
	switch (type) {
	case IOMMU_DOMAIN_IDENTITY:
		/* Without ECAP.PT the kernel builds a 1:1 page table over all
		 * memory (si_domain_init); not modelled. */
		if (!(drv->ecap & DRV_ECAP_PT))
			return -EOPNOTSUPP;
		break;
	case IOMMU_DOMAIN_BLOCKED:
	case IOMMU_DOMAIN_UNMANAGED:
	case IOMMU_DOMAIN_DMA:
	case IOMMU_DOMAIN_DMA_FQ:
		break;
	default:
		return -EINVAL;
	}
	if (!addr_width)
		addr_width = DEFAULT_WIDTH;
	if (addr_width < 30 || addr_width > 64)
		return -EINVAL;
	dom = calloc(1, sizeof(*dom));
	v = realloc(drv->domains, (drv->n_domains + 1) * sizeof(*v));
	if (!dom || !v) {
		free(dom);
		if (v)
			drv->domains = v;
		return -ENOMEM;
	}
	drv->domains = v;
	dom->drv = drv;
	dom->type = type;
	dom->mode = type == IOMMU_DOMAIN_DMA_FQ ? IOMMU_INTEL_FLUSH_DEFERRED
						: IOMMU_INTEL_FLUSH_STRICT;
	dom->paging = type == IOMMU_DOMAIN_UNMANAGED || type == IOMMU_DOMAIN_DMA ||
		      type == IOMMU_DOMAIN_DMA_FQ;
	if (dom->paging) {
		unsigned w;

		dom->agaw = calculate_agaw(drv->cap, addr_width);
		if (dom->agaw < 1) {
			free(dom);
			return -EINVAL;
		}
		dom->levels = (unsigned)dom->agaw + 2;
		w = agaw_to_width(dom->agaw);
		dom->gaw = w < drv->mgaw ? w : drv->mgaw;
		dom->iova_end = dom->gaw < 64 ? UINT64_C(1) << dom->gaw : UINT64_MAX;
		ret = pg_alloc_tp(drv, &dom->pgd, &dom->pgd_tp);
		if (ret) {
			free(dom);
			return ret;
		}
		dom->pages = 1;
	}
	drv->domains[drv->n_domains++] = dom;
	*out = dom;
	return 0;
}

void iommu_intel_domain_set_flush_mode(struct iommu_intel_domain *dom,
				       enum iommu_intel_flush_mode mode)
{
	dom->mode = mode;
}

unsigned iommu_intel_domain_levels(const struct iommu_intel_domain *dom)
{
	return dom->paging ? dom->levels : 0;
}

unsigned iommu_intel_domain_width(const struct iommu_intel_domain *dom)
{
	return dom->paging ? dom->gaw : 0;
}

uint16_t iommu_intel_domain_id(const struct iommu_intel_domain *dom)
{
	return dom->did;
}

uint64_t iommu_intel_domain_table_pages(const struct iommu_intel_domain *dom)
{
	return dom->pages;
}

static int defer_free(struct iommu_intel_domain *dom, uint64_t page)
{
	if (dom->nfree == dom->capfree) {
		size_t n = dom->capfree ? 2 * dom->capfree : 16;
		uint64_t *v = realloc(dom->freelist, n * sizeof(*v));

		if (!v) {
			/* Cannot remember it: release it now (the model has
			 * no paging-structure caches that could still use it). */
			pg_free(dom->drv, page);
			return 0;
		}
		dom->freelist = v;
		dom->capfree = n;
	}
	dom->freelist[dom->nfree++] = page;
	return 0;
}

static void release_freelist(struct iommu_intel_domain *dom, size_t from)
{
	for (size_t i = from; i < dom->nfree; i++)
		pg_free(dom->drv, dom->freelist[i]);
	dom->nfree = from;
}

static void free_tables(struct iommu_intel_domain *dom, uint64_t table, unsigned level)
{
	struct tpage *tp = tp_of(dom->drv, table);

	/* Not a page the driver handed out (an entry someone else wrote
	 * over): nothing of the driver's to free there. */
	if (!tp)
		return;
	if (level > 1 && tp->count) {
		for (unsigned i = 0; i < DRV_PTES; i++) {
			uint64_t pte = pte_get(tp->host, i);

			if (pte_present(pte) && !pte_leaf(pte, level))
				free_tables(dom, pte & DRV_PTE_ADDR, level - 1);
		}
	}
	pg_free(dom->drv, table);
	dom->pages--;
}

void iommu_intel_domain_free(struct iommu_intel_domain *dom)
{
	struct iommu_intel *drv;

	if (!dom)
		return;
	drv = dom->drv;
	for (uint32_t sid = 0; sid < 65536 && dom->refs; sid++)
		if (drv->dev_dom[sid] == dom)
			iommu_intel_detach(drv, (uint16_t)sid);
	release_freelist(dom, 0);
	if (dom->paging)
		free_tables(dom, dom->pgd, dom->levels);
	for (size_t i = 0; i < drv->n_domains; i++)
		if (drv->domains[i] == dom) {
			drv->domains[i] = drv->domains[--drv->n_domains];
			break;
		}
	free(dom->freelist);
	free(dom);
}

void iommu_intel_destroy(struct iommu_intel *drv)
{
	if (!drv)
		return;
	while (drv->n_domains)
		iommu_intel_domain_free(drv->domains[drv->n_domains - 1]);
	free(drv->domains);
	free(drv->pg.free);
	free(drv->pg.tp);
	free(drv->dev_dom);
	free(drv->did_map);
	free(drv);
}

/* --- map, unmap, iova_to_phys -------------------------------------------- */

/* hardware_largepage_caps(): the largest level whose page both
 * addresses are aligned to and the remaining size fills. */
static unsigned largepage_level(const struct iommu_intel_domain *dom, uint64_t iov_pfn,
				uint64_t phys_pfn, uint64_t pages)
{
	unsigned support = dom->drv->superpage, level = 1;
	uint64_t merge = iov_pfn | phys_pfn;

	while (support && !(merge & (DRV_PTES - 1))) {
		pages >>= DRV_STRIDE_SHIFT;
		if (!pages)
			break;
		merge >>= DRV_STRIDE_SHIFT;
		level++;
		support--;
	}
	return level;
}

/*
 * pfn_to_dma_pte() with a target level: the table at @target for @iova,
 * allocating the tables above it.  *@fresh: that table was allocated
 * now (so it is all zero).  -EBUSY: a superpage is in the way; -EFAULT:
 * an entry points outside the driver's tables (memory written by someone
 * else); -ENOMEM.
 */
static int table_for(struct iommu_intel_domain *dom, uint64_t iova, unsigned target,
		     struct tpage **out, bool *fresh)
{
	struct iommu_intel *drv = dom->drv;
	struct tpage *tp = dom->pgd_tp;
	bool new_table = false;
	int ret;

	for (unsigned level = dom->levels; level > target; level--) {
		unsigned idx = (unsigned)(iova >> lvl_shift(level)) & (DRV_PTES - 1);
		uint64_t pte = pte_get(tp->host, idx), page;
		struct tpage *child;

		if (pte_present(pte)) {
			if (pte_leaf(pte, level))
				return -EBUSY;   /* a superpage is in the way */
			if (!(child = tp_of(drv, pte & DRV_PTE_ADDR)))
				return -EFAULT;
			tp = child;
			new_table = false;
			continue;
		}
		if ((ret = pg_alloc_tp(drv, &page, &child)))
			return ret;
		/* Directory entries carry R and W; the leaf decides. */
		pte_set(tp->host, idx, (page & DRV_PTE_ADDR) | DRV_PTE_R | DRV_PTE_W);
		tp->count++;
		dom->pages++;
		tp = child;
		new_table = true;
	}
	*out = tp;
	*fresh = new_table;
	return 0;
}

struct gather {
	uint64_t start, end;      /* inclusive; start > end: empty */
	uint64_t unmapped;
	bool freed;               /* a table was freed */
	int err;                  /* an entry pointed outside the tables */
};

static inline void gather_add(struct gather *g, uint64_t first, uint64_t last)
{
	/* Leaves are cleared in address order. */
	if (g->start == UINT64_MAX)
		g->start = first;
	g->end = last;
}

/*
 * dma_pte_clear_level() with the freeing of tables left empty: clear
 * the leaves of @tp (a table at @level) overlapping [start, last], which
 * lies inside the table's span; a page partly inside goes whole.
 */
static void clear_level(struct iommu_intel_domain *dom, struct tpage *tp, unsigned level,
			uint64_t start, uint64_t last, struct gather *g)
{
	struct iommu_intel *drv = dom->drv;
	unsigned shift = lvl_shift(level);
	uint64_t size = UINT64_C(1) << shift;
	unsigned i = (unsigned)(start >> shift) & (DRV_PTES - 1);
	unsigned end = (unsigned)(last >> shift) & (DRV_PTES - 1);
	uint64_t span_base = start & ~((size << DRV_STRIDE_SHIFT) - 1);
	uint8_t *pt = tp->host;

	if (level == 1) {
		/* The common case, entry after entry in one table. */
		unsigned first = DRV_PTES, lastc = 0, n = 0;

		for (; i <= end; i++) {
			if (pte_present(pte_get(pt, i))) {
				pte_set(pt, i, 0);
				first = first < i ? first : i;
				lastc = i;
				n++;
			}
		}
		if (n) {
			tp->count -= n;
			g->unmapped += (uint64_t)n << shift;
			gather_add(g, span_base + ((uint64_t)first << shift),
				   span_base + ((uint64_t)(lastc + 1) << shift) - 1);
		}
		return;
	}
	for (; i <= end; i++) {
		uint64_t pte = pte_get(pt, i), base = span_base + ((uint64_t)i << shift);
		struct tpage *child;

		if (!pte_present(pte))
			continue;
		if (pte_leaf(pte, level)) {
			pte_set(pt, i, 0);
			tp->count--;
			g->unmapped += size;
			gather_add(g, base, base + size - 1);
			continue;
		}
		if (!(child = tp_of(drv, pte & DRV_PTE_ADDR))) {
			g->err = -EFAULT;
			continue;
		}
		clear_level(dom, child, level - 1, base > start ? base : start,
			    base + size - 1 < last ? base + size - 1 : last, g);
		if (child->count == 0) {
			pte_set(pt, i, 0);
			tp->count--;
			dom->pages--;
			g->freed = true;
			defer_free(dom, pte & DRV_PTE_ADDR);
		}
	}
}

/*
 * Unmap [iova, last]: down the tables while the range lies under one
 * directory entry (as a single page or a run in one leaf table does),
 * clear_level() where it spreads, then free the tables of that path the
 * unmap left empty, bottom up.  The top table stays.
 */
static int unmap_range(struct iommu_intel_domain *dom, uint64_t iova, uint64_t last,
		       struct gather *g)
{
	struct iommu_intel *drv = dom->drv;
	struct tpage *path[6], *tp = dom->pgd_tp;
	unsigned slot[6], level = dom->levels;

	g->start = UINT64_MAX;
	g->end = 0;
	g->unmapped = 0;
	g->freed = false;
	g->err = 0;
	while (level > 1) {
		unsigned shift = lvl_shift(level), i;
		uint64_t pte;
		struct tpage *child;

		if ((iova >> shift) != (last >> shift))
			break;
		i = (unsigned)(iova >> shift) & (DRV_PTES - 1);
		pte = pte_get(tp->host, i);
		if (!pte_present(pte) || pte_leaf(pte, level) ||
		    !(child = tp_of(drv, pte & DRV_PTE_ADDR)))
			break;     /* clear_level() decides */
		path[level] = tp;
		slot[level] = i;
		tp = child;
		level--;
	}
	clear_level(dom, tp, level, iova, last, g);
	for (; level < dom->levels && tp->count == 0; level++) {
		struct tpage *parent = path[level + 1];
		unsigned i = slot[level + 1];
		uint64_t pte = pte_get(parent->host, i);

		pte_set(parent->host, i, 0);
		parent->count--;
		dom->pages--;
		g->freed = true;
		defer_free(dom, pte & DRV_PTE_ADDR);
		tp = parent;
	}
	return g->err;
}

/* __mapping_notify_one(): with caching mode, a not-present entry may be
 * cached: flush the range; else the write buffer.  Nothing while no
 * device is attached. */
static int map_notify(struct iommu_intel_domain *dom, uint64_t iova, uint64_t size)
{
	struct iommu_intel *drv = dom->drv;

	if (!dom->refs)
		return 0;
	if ((drv->cap & DRV_CAP_CM) && dom->mode != IOMMU_INTEL_FLUSH_NEVER)
		return flush_iotlb_psi(dom, iova >> DRV_PAGE_SHIFT, size >> DRV_PAGE_SHIFT, false);
	return flush_write_buffer(drv);
}

/* The general map: any size, tables allocated on the way. */
static __attribute__((noinline)) int map_range(struct iommu_intel_domain *dom, uint64_t iova,
					       uint64_t paddr, uint64_t size, int prot)
{
	uint64_t bits = 0, done = 0;
	size_t mark = dom->nfree;
	int ret = 0;

	if (!dom->paging || !size || ((iova | paddr | size) & (DRV_PAGE_SIZE - 1)))
		return -EINVAL;
	if (prot & IOMMU_PROT_READ)
		bits |= DRV_PTE_R;
	if (prot & IOMMU_PROT_WRITE)
		bits |= DRV_PTE_W;
	if (!bits)
		return -EINVAL;
	/* intel_iommu_map(): the end must fit the domain's width. */
	if (iova + size < iova || (dom->gaw < 64 && iova + size > UINT64_C(1) << dom->gaw))
		return -EFAULT;
	if (paddr + size < paddr || paddr + size - 1 > DRV_PTE_ADDR)
		return -EINVAL;

	/*
	 * __domain_mapping(): the page size for the rest of the range, the
	 * table that holds its entries (walked to once), then every entry
	 * of the run that table holds, stored through the page pointer.
	 */
	while (done < size) {
		uint64_t va = iova + done, pa = paddr + done;
		unsigned lvl = largepage_level(dom, va >> DRV_PAGE_SHIFT, pa >> DRV_PAGE_SHIFT,
					       (size - done) >> DRV_PAGE_SHIFT);
		unsigned shift = lvl_shift(lvl);
		unsigned idx = (unsigned)(va >> shift) & (DRV_PTES - 1), n, k;
		uint64_t left = (size - done) >> shift, pteval;
		struct tpage *tp;
		bool fresh;
		uint8_t *pt;

		if ((ret = table_for(dom, va, lvl, &tp, &fresh)))
			goto fail;
		n = DRV_PTES - idx;
		if (left < n)
			n = (unsigned)left;
		pteval = (pa & DRV_PTE_ADDR) | bits | (lvl > 1 ? DRV_PTE_PS : 0);
		pt = tp->host;
		if (fresh) {
			/* A table allocated now is all zero. */
			for (k = 0; k < n; k++)
				pte_set(pt, idx + k, pteval + ((uint64_t)k << shift));
		} else {
			for (k = 0; k < n; k++) {
				if (__builtin_expect(pte_get(pt, idx + k) != 0, 0))
					break;
				pte_set(pt, idx + k, pteval + ((uint64_t)k << shift));
			}
		}
		tp->count += k;
		done += (uint64_t)k << shift;
		if (k < n) {
			/* The kernel's cmpxchg finds the entry set and warns;
			 * here the map fails as a whole. */
			ret = -EBUSY;
			goto fail;
		}
	}

	return map_notify(dom, iova, size);

fail:
	/* iommu_map() undoes a partial mapping; nothing of it can be cached
	 * yet, and the tables it emptied go back at once. */
	if (done) {
		struct gather g;

		unmap_range(dom, iova, iova + done - 1, &g);
		release_freelist(dom, mark);
	}
	return ret;
}

/*
 * The leaf table of @iova when every table down to it exists (NULL when
 * one is missing, a superpage is in the way, or an entry points outside
 * the driver's tables: the general path decides those).
 */
static inline struct tpage *leaf_table(struct iommu_intel_domain *dom, uint64_t iova)
{
	struct tpage *tp = dom->pgd_tp;

	for (unsigned level = dom->levels; level > 1; level--) {
		uint64_t pte = pte_get(tp->host, (unsigned)(iova >> lvl_shift(level)) &
						       (DRV_PTES - 1));

		if (!pte_present(pte) || pte_leaf(pte, level) ||
		    !(tp = tp_of(dom->drv, pte & DRV_PTE_ADDR)))
			return NULL;
	}
	return tp;
}

/*
 * One 4 KiB page whose leaf table exists: the checks of map_range() for
 * this size, a walk to the table, one entry.  Anything else goes to
 * map_range().
 */
int iommu_intel_map(struct iommu_intel_domain *dom, uint64_t iova, uint64_t paddr,
		    uint64_t size, int prot)
{
	uint64_t bits = (prot & IOMMU_PROT_READ ? DRV_PTE_R : 0) |
			(prot & IOMMU_PROT_WRITE ? DRV_PTE_W : 0);
	unsigned idx = (unsigned)(iova >> DRV_PAGE_SHIFT) & (DRV_PTES - 1);
	struct tpage *tp;

	if (size != DRV_PAGE_SIZE || !dom->paging || !bits ||
	    ((iova | paddr) & (DRV_PAGE_SIZE - 1)) || iova + size < iova ||
	    iova + size > dom->iova_end || paddr + size - 1 > DRV_PTE_ADDR ||
	    !(tp = leaf_table(dom, iova)))
		return map_range(dom, iova, paddr, size, prot);
	if (pte_get(tp->host, idx))
		return -EBUSY;
	pte_set(tp->host, idx, paddr | bits);
	tp->count++;
	return dom->refs ? map_notify(dom, iova, size) : 0;
}

/* After an unmap: the IOTLB flush its domain's mode asks for, and the
 * tables it freed released when nothing can use them any more. */
static int unmap_finish(struct iommu_intel_domain *dom, const struct gather *g, size_t mark,
			int ret)
{
	switch (dom->mode) {
	case IOMMU_INTEL_FLUSH_STRICT:
		/* intel_iommu_tlb_sync(): page-selective over what the
		 * gather covers; IH when no table was freed. */
		if (dom->refs && g->unmapped) {
			int r = flush_iotlb_psi(dom, g->start >> DRV_PAGE_SHIFT,
						(g->end - g->start + 1) >> DRV_PAGE_SHIFT, !g->freed);
			if (!ret)
				ret = r;
		}
		release_freelist(dom, mark);
		break;
	case IOMMU_INTEL_FLUSH_DEFERRED:
		dom->pending = true;
		break;
	case IOMMU_INTEL_FLUSH_NEVER:
		release_freelist(dom, mark);
		break;
	}
	return ret;
}

/* The general unmap. */
static __attribute__((noinline)) int unmap_any(struct iommu_intel_domain *dom, uint64_t iova,
					       uint64_t size, uint64_t *unmapped)
{
	uint64_t last, limit;
	size_t mark = dom->nfree;
	struct gather g;
	int ret;

	*unmapped = 0;
	if (!dom->paging || !size || ((iova | size) & (DRV_PAGE_SIZE - 1)) || iova + size < iova)
		return -EINVAL;
	limit = dom->gaw < 64 ? (UINT64_C(1) << dom->gaw) - 1 : UINT64_MAX;
	if (iova > limit)
		return 0;
	last = iova + size - 1 > limit ? limit : iova + size - 1;
	ret = unmap_range(dom, iova, last, &g);
	*unmapped = g.unmapped;
	if (!g.unmapped && dom->nfree == mark)
		return ret;
	return unmap_finish(dom, &g, mark, ret);
}

/*
 * One mapped 4 KiB page whose leaf table keeps other entries (so no
 * table is freed): a walk to the table, one entry cleared, the flush.
 * Anything else goes to unmap_any().
 */
int iommu_intel_unmap(struct iommu_intel_domain *dom, uint64_t iova, uint64_t size,
		      uint64_t *unmapped)
{
	unsigned idx = (unsigned)(iova >> DRV_PAGE_SHIFT) & (DRV_PTES - 1);
	struct gather g;
	struct tpage *tp;

	if (size != DRV_PAGE_SIZE || !dom->paging || (iova & (DRV_PAGE_SIZE - 1)) ||
	    iova + size < iova || iova + size > dom->iova_end ||
	    !(tp = leaf_table(dom, iova)) || tp->count < 2 ||
	    !pte_present(pte_get(tp->host, idx)))
		return unmap_any(dom, iova, size, unmapped);
	pte_set(tp->host, idx, 0);
	tp->count--;
	*unmapped = DRV_PAGE_SIZE;
	if (dom->mode == IOMMU_INTEL_FLUSH_DEFERRED) {
		dom->pending = true;
		return 0;
	}
	g.start = iova;
	g.end = iova + DRV_PAGE_SIZE - 1;
	g.unmapped = DRV_PAGE_SIZE;
	g.freed = false;
	g.err = 0;
	return unmap_finish(dom, &g, dom->nfree, 0);
}

int iommu_intel_flush(struct iommu_intel_domain *dom)
{
	int ret = 0;

	/* intel_flush_iotlb_all(): domain-selective on the unit. */
	if (dom->pending && dom->refs)
		ret = flush_iotlb(dom->drv, dom->did, 0, 0, DRV_GRAN_DOMAIN);
	dom->pending = false;
	release_freelist(dom, 0);
	return ret;
}

int iommu_intel_iova_to_phys(const struct iommu_intel_domain *dom, uint64_t iova,
			     uint64_t *phys, uint64_t *page_size)
{
	uint64_t table;

	if (!dom->paging || (dom->gaw < 64 && iova >> dom->gaw))
		return -ENOENT;
	table = dom->pgd;
	for (unsigned level = dom->levels; level >= 1; level--) {
		uint64_t pte;

		if (iommu_mem_read64(dom->drv->mem, pte_slot(table, iova, level), &pte) ||
		    !pte_present(pte))
			return -ENOENT;
		if (pte_leaf(pte, level)) {
			uint64_t sz = UINT64_C(1) << lvl_shift(level);

			if (phys)
				*phys = (pte & DRV_PTE_ADDR & ~(sz - 1)) | (iova & (sz - 1));
			if (page_size)
				*page_size = sz;
			return 0;
		}
		table = pte & DRV_PTE_ADDR;
	}
	return -ENOENT;
}

/* --- attach / detach ------------------------------------------------------ */

/* domain_attach_iommu(): the first device on the unit gets the domain an id. */
static int domain_attach_iommu(struct iommu_intel_domain *dom)
{
	struct iommu_intel *drv = dom->drv;

	if (dom->refs++)
		return 0;
	for (uint32_t id = 1; id < drv->ndoms; id++)
		if (!(drv->did_map[id / 8] & (1u << (id % 8)))) {
			drv->did_map[id / 8] |= (uint8_t)(1u << (id % 8));
			dom->did = (uint16_t)id;
			return 0;
		}
	dom->refs--;
	return -ENOSPC;
}

static void domain_detach_iommu(struct iommu_intel_domain *dom)
{
	struct iommu_intel *drv = dom->drv;

	if (--dom->refs)
		return;
	drv->did_map[dom->did / 8] &= (uint8_t)~(1u << (dom->did % 8));
	dom->did = 0;
	/* The detach flushed the whole domain: nothing stays pending. */
	dom->pending = false;
	release_freelist(dom, 0);
}

/* iommu_context_addr(): the context entry of @sid, with the context table
 * allocated (and the root entry written) when @alloc. */
static int context_addr(struct iommu_intel *drv, uint16_t sid, bool alloc, uint64_t *out)
{
	uint64_t rslot = drv->root + 16u * (sid >> 8), lo, page;
	int ret;

	if ((ret = iommu_mem_read64(drv->mem, rslot, &lo)))
		return ret;
	if (!(lo & DRV_ROOT_P)) {
		if (!alloc)
			return -ENOENT;
		if ((ret = pg_alloc(drv, &page)))
			return ret;
		lo = (page & DRV_ROOT_CTP) | DRV_ROOT_P;
		if ((ret = iommu_mem_write64(drv->mem, rslot + 8, 0)) ||
		    (ret = iommu_mem_write64(drv->mem, rslot, lo)))
			return ret;
	}
	*out = (lo & DRV_ROOT_CTP) + 16u * (sid & 0xff);
	return 0;
}

int iommu_intel_detach(struct iommu_intel *drv, uint16_t sid)
{
	struct iommu_intel_domain *dom = drv->dev_dom[sid];
	uint64_t slot, hi = 0;
	uint16_t did_old;
	int ret, r;

	if (!dom)
		return 0;
	/* domain_context_clear_one() */
	if ((ret = context_addr(drv, sid, false, &slot)) ||
	    (ret = iommu_mem_read64(drv->mem, slot + 8, &hi)))
		return ret;
	did_old = (uint16_t)IOMMU_FIELD_GET(DRV_CTX_DID, hi);
	if ((ret = iommu_mem_write64(drv->mem, slot, 0)) ||
	    (ret = iommu_mem_write64(drv->mem, slot + 8, 0)))
		return ret;
	ret = flush_context(drv, did_old, sid, 0, DRV_GRAN_DEVICE);
	r = flush_iotlb(drv, did_old, 0, 0, DRV_GRAN_DOMAIN);
	drv->dev_dom[sid] = NULL;
	domain_detach_iommu(dom);
	return ret ? ret : r;
}

int iommu_intel_attach(struct iommu_intel_domain *dom, uint16_t sid)
{
	struct iommu_intel *drv = dom->drv;
	uint64_t slot, lo, hi;
	unsigned tt;
	int ret;

	if (!drv->enabled)
		return -ENODEV;
	if (drv->dev_dom[sid] == dom)
		return 0;        /* context already present for it */
	/* The core blocks the device before the new domain goes in. */
	if (drv->dev_dom[sid] && (ret = iommu_intel_detach(drv, sid)))
		return ret;
	if (dom->type == IOMMU_DOMAIN_BLOCKED)
		return 0;
	if ((ret = context_addr(drv, sid, true, &slot)))
		return ret;
	if ((ret = domain_attach_iommu(dom)))
		return ret;

	/* domain_context_mapping_one() */
	if (dom->paging) {
		tt = DRV_TT_MULTI_LEVEL;
		lo = dom->pgd & DRV_CTX_SLPTPTR;
		hi = IOMMU_FIELD_PREP(DRV_CTX_AW, dom->agaw);
	} else {
		/* Pass-through: AW is the largest AGAW the unit supports. */
		tt = DRV_TT_PASS_THROUGH;
		lo = 0;
		hi = IOMMU_FIELD_PREP(DRV_CTX_AW, drv->msagaw);
	}
	hi |= IOMMU_FIELD_PREP(DRV_CTX_DID, dom->did);
	lo |= IOMMU_FIELD_PREP(DRV_CTX_TT, tt) | DRV_CTX_P;  /* FPD = 0: faults reported */
	if ((ret = iommu_mem_write64(drv->mem, slot + 8, hi)) ||
	    (ret = iommu_mem_write64(drv->mem, slot, lo))) {
		domain_detach_iommu(dom);
		return ret;
	}
	drv->dev_dom[sid] = dom;
	/*
	 * Not present to present: a unit in caching mode may have cached
	 * the not-present entry (in domain 0): flush the device's context
	 * and the domain's IOTLB.  Otherwise the write buffer is enough.
	 */
	if (drv->cap & DRV_CAP_CM) {
		if ((ret = flush_context(drv, 0, sid, 0, DRV_GRAN_DEVICE)))
			return ret;
		return flush_iotlb(drv, dom->did, 0, 0, DRV_GRAN_DOMAIN);
	}
	return flush_write_buffer(drv);
}

struct alias_attach {
	struct iommu_intel_domain *dom;
};

static int attach_alias(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			uint16_t rid, enum core_alias_kind kind, void *data)
{
	struct alias_attach *a = data;

	(void)s;
	(void)pdev;
	(void)kind;
	return iommu_intel_attach(a->dom, rid);
}

int iommu_intel_attach_device(struct iommu_intel_domain *dom, const struct iommu_system *s,
			      const struct iommu_pci_dev *pdev)
{
	struct alias_attach a = { dom };

	/* domain_context_mapping(): every requester id the device uses. */
	return core_for_each_dma_alias(s, pdev, attach_alias, &a);
}

/* --- The walk as the unit does it (dmar_fault_dump_ptes) ----------------- */

int iommu_intel_walk(const struct iommu_intel *drv, uint16_t sid, uint64_t iova,
		     struct iommu_intel_walk_step steps[IOMMU_INTEL_WALK_MAX], size_t *n)
{
	struct iommu_intel_walk_step *s;
	uint64_t table;
	unsigned levels, tt;

	*n = 0;
	if (!drv->enabled)
		return 0;
	s = &steps[(*n)++];
	s->kind = IOMMU_INTEL_WALK_ROOT;
	s->level = 0;
	s->addr = drv->root + 16u * (sid >> 8);
	if (iommu_mem_read64(drv->mem, s->addr, &s->lo) ||
	    iommu_mem_read64(drv->mem, s->addr + 8, &s->hi))
		return -EFAULT;
	if (!(s->lo & DRV_ROOT_P))
		return 0;
	table = s->lo & DRV_ROOT_CTP;
	s = &steps[(*n)++];
	s->kind = IOMMU_INTEL_WALK_CONTEXT;
	s->level = 0;
	s->addr = table + 16u * (sid & 0xff);
	if (iommu_mem_read64(drv->mem, s->addr, &s->lo) ||
	    iommu_mem_read64(drv->mem, s->addr + 8, &s->hi))
		return -EFAULT;
	tt = (unsigned)IOMMU_FIELD_GET(DRV_CTX_TT, s->lo);
	levels = (unsigned)IOMMU_FIELD_GET(DRV_CTX_AW, s->hi) + 2;
	if (!(s->lo & DRV_CTX_P) || tt == DRV_TT_PASS_THROUGH || tt > DRV_TT_PASS_THROUGH ||
	    levels < 3 || levels > 5)
		return 0;
	table = s->lo & DRV_CTX_SLPTPTR;
	for (unsigned level = levels; level >= 1; level--) {
		s = &steps[(*n)++];
		s->kind = IOMMU_INTEL_WALK_PTE;
		s->level = level;
		s->addr = pte_slot(table, iova, level);
		s->hi = 0;
		if (iommu_mem_read64(drv->mem, s->addr, &s->lo))
			return -EFAULT;
		if (!pte_present(s->lo) || pte_leaf(s->lo, level))
			break;
		table = s->lo & DRV_PTE_ADDR;
	}
	return 0;
}

static const char *tt_name(unsigned tt)
{
	static const char *const names[4] = {
		"untranslated requests through the second-level tables",
		"all requests, device-TLB enabled", "pass-through", "reserved",
	};

	return names[tt & 3];
}

void iommu_intel_walk_step_describe(const struct iommu_intel_walk_step *st, char *buf,
				    size_t len)
{
	static const char *const lname[6] = { "", "PTE", "PDE", "PDPE", "PML4E", "PML5E" };

	switch (st->kind) {
	case IOMMU_INTEL_WALK_ROOT:
		snprintf(buf, len, "root entry    @0x%09llx  %016llx_%016llx  P=%u CTP=0x%llx",
			 (unsigned long long)st->addr, (unsigned long long)st->hi,
			 (unsigned long long)st->lo, (unsigned)(st->lo & DRV_ROOT_P),
			 (unsigned long long)(st->lo & DRV_ROOT_CTP));
		break;
	case IOMMU_INTEL_WALK_CONTEXT: {
		unsigned tt = (unsigned)IOMMU_FIELD_GET(DRV_CTX_TT, st->lo);
		unsigned aw = (unsigned)IOMMU_FIELD_GET(DRV_CTX_AW, st->hi);

		snprintf(buf, len,
			 "context entry @0x%09llx  %016llx_%016llx  P=%u FPD=%u TT=%u%u (%s) "
			 "SLPTPTR=0x%llx AW=%u (%u-level, %u-bit) DID=%u",
			 (unsigned long long)st->addr, (unsigned long long)st->hi,
			 (unsigned long long)st->lo, (unsigned)(st->lo & DRV_CTX_P),
			 (unsigned)IOMMU_FIELD_GET(DRV_CTX_FPD, st->lo), (tt >> 1) & 1, tt & 1,
			 tt_name(tt), (unsigned long long)(st->lo & DRV_CTX_SLPTPTR), aw, aw + 2,
			 30 + 9 * aw, (unsigned)IOMMU_FIELD_GET(DRV_CTX_DID, st->hi));
		break;
	}
	case IOMMU_INTEL_WALK_PTE: {
		bool present = pte_present(st->lo), leaf = present && pte_leaf(st->lo, st->level);
		char what[64];

		if (!present)
			snprintf(what, sizeof(what), "not present");
		else if (leaf)
			snprintf(what, sizeof(what), "%s page at 0x%llx",
				 st->level == 1 ? "4 KiB" : st->level == 2 ? "2 MiB" : "1 GiB",
				 (unsigned long long)(st->lo & DRV_PTE_ADDR));
		else
			snprintf(what, sizeof(what), "next table at 0x%llx",
				 (unsigned long long)(st->lo & DRV_PTE_ADDR));
		snprintf(buf, len,
			 "level %u %-5s  @0x%09llx  %016llx  R=%u W=%u PS=%u SNP=%u ADDR=0x%llx: %s",
			 st->level, st->level <= 5 ? lname[st->level] : "?",
			 (unsigned long long)st->addr, (unsigned long long)st->lo,
			 (unsigned)(st->lo & DRV_PTE_R), (unsigned)IOMMU_FIELD_GET(DRV_PTE_W, st->lo),
			 (unsigned)IOMMU_FIELD_GET(DRV_PTE_PS, st->lo),
			 (unsigned)IOMMU_FIELD_GET(DRV_PTE_SNP, st->lo),
			 (unsigned long long)(st->lo & DRV_PTE_ADDR), what);
		break;
	}
	}
}
