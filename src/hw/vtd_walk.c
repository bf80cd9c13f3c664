/* SPDX-License-Identifier: MIT */
/*
 * DMA address translation in legacy mode (VT-d 3.4, 3.6, 3.7): root
 * entry by bus, context entry by devfn, then the second-level paging
 * structure of 3, 4 or 5 levels the context entry's AW selects, with
 * 2 MiB / 1 GiB leaves where CAP.SLLPS allows them.  Faults are the
 * conditions of 7.1.3 with their reason codes.
 *
 * Every table read goes through the memory model and is bounds-checked
 * there; the walk descends one level per entry read, so it ends after at
 * most 2 + 5 reads whatever the tables hold.
 */
#include "hw/hw_internal.h"

#define NOT_PRESENT 0x100u  /* walk result: an entry with R = W = 0 */

/* Faults that a present context entry's FPD suppresses (7.1.3, the
 * "qualified" conditions, detected after the context entry was found
 * present and well formed). */
static bool qualified(unsigned fr)
{
	switch (fr) {
	case IOMMU_VTD_FR_ADDR_BEYOND_AW:
	case IOMMU_VTD_FR_WRITE:
	case IOMMU_VTD_FR_READ:
	case IOMMU_VTD_FR_SL_ACCESS:
	case IOMMU_VTD_FR_SL_RSVD:
		return true;
	default:
		return false;
	}
}

static int fault(struct iommu_vtd_unit *u, const struct iommu_vtd_request *req,
		 struct iommu_vtd_result *res, unsigned fr, bool fpd)
{
	res->fault_reason = (uint8_t)fr;
	u->st.faults++;
	if (fpd && qualified(fr))
		res->fault_recorded = false;
	else
		res->fault_recorded =
			vtd_fault_record(u, req->source_id, fr,
					 req->addr & IOMMU_VTD_FRCD_LO_FI,
					 !req->write, req->at);
	return -EFAULT;
}

/*
 * Root and context entry for @sid (3.4.2, 9.1, 9.3).  0 with @out filled,
 * or the fault reason.  *@cache tells whether @out may be cached: a
 * well-formed present entry always, a not-present one only with CM=1.
 */
static unsigned ctx_fetch(struct iommu_vtd_unit *u, uint16_t sid,
			  struct vtd_cc_data *out, bool *cache)
{
	uint64_t lo, hi, ctp;
	unsigned tt, aw;

	*cache = false;
	u->st.walk_reads++;
	if (iommu_mem__rd128(u->mem, u->rta + (uint64_t)(sid >> 8) * 16,
			     &lo, &hi))
		return IOMMU_VTD_FR_ROOT_ACCESS;
	if (!(lo & IOMMU_VTD_ROOT_LO_P))
		return IOMMU_VTD_FR_ROOT_NOT_PRESENT;
	if ((lo & IOMMU_VTD_ROOT_LO_RSVD_11_1) ||
	    (lo & IOMMU_VTD_ROOT_LO_CTP & ~u->haw_mask) ||
	    (hi & IOMMU_VTD_ROOT_HI_RSVD_63_0))
		return IOMMU_VTD_FR_ROOT_RSVD;
	ctp = lo & IOMMU_VTD_ROOT_LO_CTP;

	u->st.walk_reads++;
	if (iommu_mem__rd128(u->mem, ctp + (uint64_t)(sid & 0xff) * 16,
			     &lo, &hi))
		return IOMMU_VTD_FR_CTX_ACCESS;
	if (!(lo & IOMMU_VTD_CTX_LO_P)) {
		if (u->cm) {
			memset(out, 0, sizeof(*out));
			out->present = false;
			*cache = true;
		}
		return IOMMU_VTD_FR_CTX_NOT_PRESENT;
	}
	if ((lo & IOMMU_VTD_CTX_LO_RSVD_11_4) ||
	    (lo & IOMMU_VTD_CTX_LO_SLPTPTR & ~u->haw_mask) ||
	    (hi & (IOMMU_VTD_CTX_HI_RSVD_7 | IOMMU_VTD_CTX_HI_RSVD_63_24)) ||
	    (IOMMU_FIELD_GET(IOMMU_VTD_CTX_HI_DID, hi) & ~(uint64_t)u->did_mask))
		return IOMMU_VTD_FR_CTX_RSVD;
	tt = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_CTX_LO_TT, lo);
	aw = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_CTX_HI_AW, hi);
	if (tt == IOMMU_VTD_TT_RSVD || (tt == IOMMU_VTD_TT_ALL && !u->dt) ||
	    (tt == IOMMU_VTD_TT_PASSTHROUGH && !u->pt))
		return IOMMU_VTD_FR_CTX_INVALID;
	if (tt != IOMMU_VTD_TT_PASSTHROUGH && !(u->sagaw & (1u << aw)))
		return IOMMU_VTD_FR_CTX_INVALID;
	out->slptptr = lo & IOMMU_VTD_CTX_LO_SLPTPTR;
	out->did = (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_CTX_HI_DID, hi);
	out->tt = (uint8_t)tt;
	out->levels = (uint8_t)(aw + 2);
	out->agaw = (uint8_t)(30 + 9 * aw);
	out->fpd = lo & IOMMU_VTD_CTX_LO_FPD;
	out->present = true;
	out->stamp = 0;
	*cache = true;
	return 0;
}

/*
 * Second-level walk (3.7): from SLPTPTR down to a leaf.  0 with the page
 * base, level and cumulative permissions; NOT_PRESENT with the level
 * where R = W = 0 was found; or a fault reason.
 */
static unsigned sl_walk(struct iommu_vtd_unit *u, const struct vtd_cc_data *c,
			uint64_t addr, uint64_t *hpa, unsigned *level_out,
			unsigned *perms_out)
{
	uint64_t table = c->slptptr;
	unsigned level = c->levels;
	unsigned perms = IOMMU_VTD_SL_R | IOMMU_VTD_SL_W;

	u->st.walks++;
	for (;;) {
		unsigned sh = 12u + IOMMU_VTD_SL_LEVEL_BITS * (level - 1);
		uint64_t pte;
		bool leaf;

		u->st.walk_reads++;
		if (iommu_mem__rd64(u->mem,
				    table + ((addr >> sh) & (IOMMU_VTD_SL_ENTRIES - 1)) * 8,
				    &pte))
			return level == c->levels ? IOMMU_VTD_FR_CTX_INVALID
						  : IOMMU_VTD_FR_SL_ACCESS;
		if (!(pte & (IOMMU_VTD_SL_R | IOMMU_VTD_SL_W))) {
			*level_out = level;
			return NOT_PRESENT;
		}
		perms &= (unsigned)(pte & (IOMMU_VTD_SL_R | IOMMU_VTD_SL_W));
		leaf = level == 1 || (level <= 3 && (pte & IOMMU_VTD_SL_PS));
		if (pte & (leaf ? u->sl_rsvd_leaf[level] : u->sl_rsvd_dir[level]))
			return IOMMU_VTD_FR_SL_RSVD;
		if (leaf) {
			*hpa = pte & IOMMU_VTD_SL_ADDR &
			       ~((UINT64_C(1) << sh) - 1);
			*level_out = level;
			*perms_out = perms;
			return 0;
		}
		table = pte & IOMMU_VTD_SL_ADDR;
		level--;
	}
}

static unsigned perm_fault(bool write)
{
	return write ? IOMMU_VTD_FR_WRITE : IOMMU_VTD_FR_READ;
}

int iommu_vtd_translate(struct iommu_vtd_unit *u,
			const struct iommu_vtd_request *req,
			struct iommu_vtd_result *res)
{
	const struct vtd_cc_data *c;
	struct vtd_cc_data fetched;
	const struct vtd_iotlb_data *t;
	unsigned fr, level = 1, perms = 0, need;
	uint64_t hpa = 0, psize;
	unsigned width;

	if (!u || !req || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	if (req->size == 0 || req->size > IOMMU_MEM_PAGE_SIZE ||
	    req->at > IOMMU_VTD_AT_TRANSLATED ||
	    (req->addr & (IOMMU_MEM_PAGE_SIZE - 1)) + req->size >
		    IOMMU_MEM_PAGE_SIZE)
		return -EINVAL;
	u->st.translations++;

	/* DMA remapping disabled: requests go through untranslated. */
	if (!(u->gsts & IOMMU_VTD_GSTS_TES))
		goto identity;

	c = vtd_cc_lookup(u, req->source_id);
	if (!c) {
		bool cache;

		fr = ctx_fetch(u, req->source_id, &fetched, &cache);
		if (cache)
			vtd_cc_insert(u, req->source_id, &fetched);
		if (fr)
			return fault(u, req, res, fr, false);
		c = &fetched;
	}
	if (!c->present)   /* a not-present entry cached under CM=1 */
		return fault(u, req, res, IOMMU_VTD_FR_CTX_NOT_PRESENT, false);
	res->domain_id = c->did;
	/* 3.9 / 9.3 TT: device-TLB traffic (translation requests and
	 * translated requests) only with TT=01b; translated requests then
	 * bypass translation. */
	if (req->at != IOMMU_VTD_AT_UNTRANSLATED) {
		if (c->tt != IOMMU_VTD_TT_ALL)
			return fault(u, req, res, IOMMU_VTD_FR_TT_BLOCKED, false);
		if (req->at == IOMMU_VTD_AT_TRANSLATED)
			goto identity;
	}
	if (c->tt == IOMMU_VTD_TT_PASSTHROUGH)
		goto identity;

	/* 3.6: the input address must fit min(MGAW, AGAW of AW). */
	width = c->agaw < u->mgaw ? c->agaw : u->mgaw;
	if (width < 64 &&
	    ((req->addr + req->size - 1) >> width) != 0)
		return fault(u, req, res, IOMMU_VTD_FR_ADDR_BEYOND_AW, c->fpd);

	need = req->write ? IOMMU_VTD_SL_W : IOMMU_VTD_SL_R;
	t = vtd_iotlb_lookup(u, c->did, req->addr);
	if (t) {
		res->iotlb_hit = true;
		level = t->level;
		hpa = t->hpa;
		perms = t->perms;
	} else {
		bool fpd = c->fpd;
		uint16_t did = c->did;

		fr = sl_walk(u, c, req->addr, &hpa, &level, &perms);
		if (fr == NOT_PRESENT) {
			/* CM=1: not-present entries may be cached. */
			if (u->cm)
				vtd_iotlb_insert(u, did, req->addr, 1, 0, 0);
			return fault(u, req, res, perm_fault(req->write), fpd);
		}
		if (fr)
			return fault(u, req, res, fr, fpd);
		vtd_iotlb_insert(u, did, req->addr, level, hpa, perms);
	}
	res->read = perms & IOMMU_VTD_SL_R;
	res->write = perms & IOMMU_VTD_SL_W;
	if (!(perms & need))
		return fault(u, req, res, perm_fault(req->write), c->fpd);
	psize = UINT64_C(1) << (12u + IOMMU_VTD_SL_LEVEL_BITS * (level - 1));
	res->page_size = psize;
	res->host_addr = hpa | (req->addr & (psize - 1));
	return 0;

identity:
	res->passthrough = true;
	res->host_addr = req->addr;
	res->page_size = IOMMU_MEM_PAGE_SIZE;
	res->read = res->write = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Device DMA through the unit                                          */

static int dma(struct iommu_vtd_unit *u, uint16_t sid, uint64_t addr,
	       void *rbuf, const void *wbuf, size_t len,
	       struct iommu_vtd_result *out)
{
	struct iommu_vtd_result res;

	if (!u || (!rbuf && !wbuf && len))
		return -EINVAL;
	while (len) {
		struct iommu_vtd_request req;
		size_t n = IOMMU_MEM_PAGE_SIZE - (addr & (IOMMU_MEM_PAGE_SIZE - 1));
		int rc;

		if (n > len)
			n = len;
		req.source_id = sid;
		req.addr = addr;
		req.size = (uint32_t)n;
		req.write = wbuf != NULL;
		req.at = IOMMU_VTD_AT_UNTRANSLATED;
		rc = iommu_vtd_translate(u, &req, &res);
		if (out)
			*out = res;
		if (rc)
			return rc;
		if (wbuf) {
			rc = iommu_mem_write(u->mem, res.host_addr, wbuf, n);
			wbuf = (const uint8_t *)wbuf + n;
		} else {
			rc = iommu_mem_read(u->mem, res.host_addr, rbuf, n);
			rbuf = (uint8_t *)rbuf + n;
		}
		if (rc)
			return rc;
		addr += n;
		len -= n;
	}
	return 0;
}

int iommu_vtd_dma_read(struct iommu_vtd_unit *u, uint16_t source_id,
		       uint64_t addr, void *buf, size_t len,
		       struct iommu_vtd_result *res)
{
	if (!buf && len)
		return -EINVAL;
	return dma(u, source_id, addr, buf, NULL, len, res);
}

int iommu_vtd_dma_write(struct iommu_vtd_unit *u, uint16_t source_id,
			uint64_t addr, const void *buf, size_t len,
			struct iommu_vtd_result *res)
{
	if (!buf && len)
		return -EINVAL;
	return dma(u, source_id, addr, NULL, buf, len, res);
}
