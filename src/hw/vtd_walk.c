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
	{
		/* 3.6: the input address must fit min(MGAW, AGAW of AW). */
		unsigned width = out->agaw < u->mgaw ? out->agaw : u->mgaw;

		out->aw_mask = width < 64 ? ~((UINT64_C(1) << width) - 1) : 0;
	}
	out->res_did = vtd_result_flags(false, false, false, out->did);
	out->iotlb_key1 = vtd_iotlb_key_tag(out->did, 1);
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

/* The permission check and the answer, from an IOTLB entry or a walk. */
static int translate_finish(struct iommu_vtd_unit *u, const struct vtd_cc_data *c,
			    const struct iommu_vtd_request *req,
			    struct iommu_vtd_result *res, uint64_t hpa, unsigned level,
			    unsigned perms)
{
	unsigned need = req->write ? IOMMU_VTD_SL_W : IOMMU_VTD_SL_R;
	uint64_t psize;

	res->read = perms & IOMMU_VTD_SL_R;
	res->write = perms & IOMMU_VTD_SL_W;
	if (!(perms & need))
		return fault(u, req, res, perm_fault(req->write), c->fpd);
	psize = UINT64_C(1) << (12u + IOMMU_VTD_SL_LEVEL_BITS * (level - 1));
	res->page_size = psize;
	res->host_addr = hpa | (req->addr & (psize - 1));
	return 0;
}

/* After an IOTLB miss: the walk, the fill, the answer or the fault
 * (@res zeroed but for domain_id). */
static int translate_walked(struct iommu_vtd_unit *u, const struct vtd_cc_data *c,
			    const struct iommu_vtd_request *req,
			    struct iommu_vtd_result *res)
{
	bool fpd = c->fpd;
	uint16_t did = c->did;
	unsigned fr, level = 1, perms = 0;
	uint64_t hpa = 0;

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
	return translate_finish(u, c, req, res, hpa, level, perms);
}

/* The general path: every case, in the order of 3.4-3.7 and 7.1.3. */
static __attribute__((noinline)) int translate_slow(struct iommu_vtd_unit *u,
			  const struct iommu_vtd_request *req,
			  struct iommu_vtd_result *res)
{
	const struct vtd_cc_data *c;
	struct vtd_cc_data fetched;
	const struct vtd_iotlb_entry *t;
	unsigned fr, level, perms;
	uint64_t hpa;

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
	if ((req->addr + req->size - 1) & c->aw_mask)
		return fault(u, req, res, IOMMU_VTD_FR_ADDR_BEYOND_AW, c->fpd);

	t = vtd_iotlb_lookup(u, c->did, req->addr);
	if (!t)
		return translate_walked(u, c, req, res);
	res->iotlb_hit = true;
	level = vtd_iotlb_key_level(vtd_iotlb_entry_key(t));
	hpa = t->hpa;
	perms = vtd_iotlb_entry_perms(t);
	return translate_finish(u, c, req, res, hpa, level, perms);

identity:
	res->passthrough = true;
	res->host_addr = req->addr;
	res->page_size = IOMMU_MEM_PAGE_SIZE;
	res->read = res->write = true;
	return 0;
}

/*
 * The second-level walk of the fast path: the same reads and checks as
 * sl_walk(), over the memory's flat part, with no side effect.  True
 * when it ends at a well-formed leaf whose permissions allow @need; any
 * other outcome (a fault to record, a table outside the flat part) is
 * left to the general path, which walks again and decides.
 */
static inline bool sl_walk_fast(const struct iommu_vtd_unit *u,
				const struct vtd_cc_data *c, uint64_t addr,
				unsigned need, uint64_t *hpa, unsigned *level_out,
				unsigned *perms_out)
{
	const uint8_t *flat = u->mem->flat;
	uint64_t flat_size = u->mem->flat_size;
	uint64_t table = c->slptptr;
	unsigned level = c->levels;
	unsigned perms = IOMMU_VTD_SL_R | IOMMU_VTD_SL_W;

	for (;;) {
		unsigned sh = vtd_level_shift(level);
		uint64_t slot = table + ((addr >> sh) & (IOMMU_VTD_SL_ENTRIES - 1)) * 8;
		uint64_t pte;

		if (slot >= flat_size)
			return false;
		pte = iommu_ld64(flat + slot);
		if (!(pte & (IOMMU_VTD_SL_R | IOMMU_VTD_SL_W)))
			return false;
		perms &= (unsigned)pte;
		if (level == 1 || (level <= 3 && (pte & IOMMU_VTD_SL_PS))) {
			if ((pte & u->sl_rsvd_leaf[level]) || !(perms & need))
				return false;
			*hpa = pte & IOMMU_VTD_SL_ADDR & ~((UINT64_C(1) << sh) - 1);
			*level_out = level;
			*perms_out = perms & (IOMMU_VTD_SL_R | IOMMU_VTD_SL_W);
			return true;
		}
		if (pte & u->sl_rsvd_dir[level])
			return false;
		table = pte & IOMMU_VTD_SL_ADDR;
		level--;
	}
}

/* The flag bytes of a result (vtd_result_flags() in hw_internal.h) in
 * one store. */

static inline void vtd_result_flags_store(struct iommu_vtd_result *res,
					  uint64_t flags)
{
	memcpy((char *)res + VTD_RES_FLAGS_AT, &flags, sizeof(flags));
}

static inline void set_result(struct iommu_vtd_result *res, uint64_t addr,
			      uint64_t hpa, unsigned level, unsigned perms,
			      bool hit, uint16_t did)
{
	unsigned sh = vtd_level_shift(level);

	*res = (struct iommu_vtd_result){
		.host_addr = hpa | (addr & ((UINT64_C(1) << sh) - 1)),
		.page_size = UINT64_C(1) << sh,
		.read = perms & IOMMU_VTD_SL_R,
		.write = (perms & IOMMU_VTD_SL_W) != 0,
		.iotlb_hit = hit,
		.domain_id = did,
	};
}

/* An IOTLB hit of the fast path (entry @t, way @w of the set whose words
 * are @setw; @level known to the caller, or 0: the entry's): the access
 * allowed, the hit counted, the pseudo-LRU bits moved, the result.  (The
 * hot context's own stamp: vtd_hot_writeback().) */
static inline __attribute__((always_inline)) int
translate_hit(struct iommu_vtd_unit *u, const struct iommu_vtd_request *req,
	      struct iommu_vtd_result *res, const struct vtd_iotlb_entry *t,
	      uint64_t *setw, unsigned w, unsigned level)
{
	uint64_t psize;

	/* Denied (or a not-present entry cached under CM=1): the general
	 * path records the fault. */
	if (__builtin_expect(!vtd_iotlb_allows(t, req->write), 0))
		return translate_slow(u, req, res);
	u->fast_iotlb_hits++;
	vtd_iotlb_touch(u, setw, w);
	psize = UINT64_C(1) << vtd_level_shift(level ? level
						     : vtd_iotlb_key_level(vtd_iotlb_entry_key(t)));
	res->host_addr = t->hpa | (req->addr & (psize - 1));
	res->page_size = psize;
	vtd_result_flags_store(res, t->res_flags);
	return 0;
}

/*
 * The fast path when no 4 KiB entry answers: the large page sizes while
 * the IOTLB holds any, then the walk and the fill (a 4 KiB leaf with the
 * key and into the set the caller computed); anything else to the
 * general path.  (The caller checked the request against the hot
 * context.)
 */
static __attribute__((noinline)) int
translate_walk(struct iommu_vtd_unit *u, const struct iommu_vtd_request *req,
	       struct iommu_vtd_result *res, uint64_t key4k, unsigned set4k)
{
	struct vtd_cc_data *c = u->hot_cc;
	uint64_t addr = req->addr, hpa;
	unsigned level, perms;

	if (u->iotlb_large[2] | u->iotlb_large[3]) {
		struct vtd_iotlb_way at;
		const struct vtd_iotlb_entry *t = vtd_iotlb_find_large(u, c->did, addr, &at);

		if (t)
			return translate_hit(u, req, res, t, vtd_iotlb_set(u, at.set),
					     at.way, 0);
	}
	if (!sl_walk_fast(u, c, addr, req->write ? IOMMU_VTD_SL_W : IOMMU_VTD_SL_R,
			  &hpa, &level, &perms)) {
		/* A fault, or tables the fast walk does not read: on from
		 * where the general path would be now (a context-cache hit,
		 * an IOTLB miss). */
		memset(res, 0, sizeof(*res));
		u->st.translations++;
		u->st.cc_hits++;
		c->stamp = vtd_tick(u);
		u->st.iotlb_misses++;
		res->domain_id = c->did;
		return translate_walked(u, c, req, res);
	}
	/* (The hot context's own stamp: vtd_hot_writeback().) */
	u->fast_walks[c->levels][level]++;
	set_result(res, addr, hpa, level, perms, false, c->did);
	if (level == 1)
		vtd_iotlb_fill_pos(u, (struct vtd_iotlb_pos){
					   key4k, set4k, vtd_iotlb_fp(key4k) },
				   c->res_did, 1, hpa, perms);
	else
		vtd_iotlb_fill(u, c->did, c->res_did, addr, level, hpa, perms);
	return 0;
}

/* The fast path's 4 KiB probe when the inline one cannot decide (not 8
 * ways a set, a fingerprint shared by another key, or an access the
 * entry does not allow). */
static __attribute__((noinline)) int
translate_probe(struct iommu_vtd_unit *u, const struct iommu_vtd_request *req,
		struct iommu_vtd_result *res)
{
	struct vtd_iotlb_way at;
	struct vtd_iotlb_pos p = vtd_iotlb_pos(u, req->addr, 1, u->hot_cc->did);
	const struct vtd_iotlb_entry *t = vtd_iotlb_probe_pos(u, p, &at);

	if (t)
		return translate_hit(u, req, res, t, vtd_iotlb_set(u, at.set), at.way, 1);
	return translate_walk(u, req, res, p.key, p.set);
}

/*
 * The fast path: a well-formed untranslated request from the source-id
 * whose context entry was used last (the hot context-cache entry), an
 * address inside the domain's width, and then either an IOTLB hit or a
 * clean walk, with the access allowed.  It decides nothing the general
 * path would decide differently: it touches no state until it knows the
 * request succeeds, and hands anything else to translate_slow().  The
 * counters it keeps its own way are folded in by iommu_vtd_get_stats;
 * the IOTLB's pseudo-LRU bits move as in the general path.
 *
 * The 4 KiB probe is inline here for sets of 8 ways (one fingerprint
 * word); the rest is in the functions above, each reached by a tail
 * call.
 */
int iommu_vtd_translate(struct iommu_vtd_unit *u,
			const struct iommu_vtd_request *req,
			struct iommu_vtd_result *res)
{
	const struct vtd_iotlb_entry *t;
	uint64_t addr, off, key, m, set32, tz, b01, *hdr;

	/* (Three tests the compiler is kept from merging into flag
	 * arithmetic: three fused compare-and-branches are cheaper.) */
	if (__builtin_expect(!u, 0))
		return -EINVAL;
	__asm__("" : "+r"(req));
	if (__builtin_expect(!req, 0))
		return -EINVAL;
	__asm__("" : "+r"(res));
	if (__builtin_expect(!res, 0))
		return -EINVAL;
	addr = req->addr;
	off = addr & IOMMU_MEM_PAGE_MASK;
	/* Size 1..4096 bytes not crossing a page is one comparison: the
	 * offset of the last byte within the page, wrapping for size 0.
	 * The last byte is then in the page of the first, and the width is
	 * at least 30 bits: the first byte's address says if it fits. */
	if (__builtin_expect(req->source_id != u->hot_sid ||
			     req->at != IOMMU_VTD_AT_UNTRANSLATED ||
			     off + (uint64_t)req->size - 1 > IOMMU_MEM_PAGE_MASK ||
			     (addr & u->hot_aw_mask), 0))
		return translate_slow(u, req, res);
	/*
	 * vtd_iotlb_pos() and vtd_iotlb_probe_pos() for a 4 KiB page in a
	 * set of 8 ways, the context's parts of the key and of the set
	 * precomputed: the set as a byte offset of its 32-byte header (and
	 * of its 256 bytes of entries, times 8; addr >> 7 is the page number
	 * times 32, and 5 bits the mask drops), the candidates of its
	 * fingerprint word.
	 */
	key = (addr & ~(uint64_t)IOMMU_MEM_PAGE_MASK) | u->hot_key1;
	set32 = ((addr >> 7) ^ u->hot_set_mix_32) & u->iotlb_inline_mask_32;
	hdr = (uint64_t *)(u->iotlb_hdrs + set32);
	b01 = u->bytes_01;
	m = hdr[VTD_SET_FP] ^ (((key * u->iotlb_hash_mul) >> 57) * b01);
	m = (m - b01) & u->bytes_80;
	if (__builtin_expect(m != 0, 1)) {
		/* The first candidate, way w: bit 8w + 7 of m; its entry
		 * 32w = 4 tz - 28 bytes into the set's.  If its key for
		 * this access is not the key (another page, the access not
		 * allowed, or the sets have not 8 ways: hot_key1 then never
		 * matches), the full probe decides. */
		tz = vtd_ctz64(m);
		t = (const struct vtd_iotlb_entry *)((const char *)u->iotlb + set32 * 8 +
						     4 * tz - 28);
		if (__builtin_expect(t->key_rw[req->write] != key, 0))
			return translate_probe(u, req, res);
		vtd_iotlb_touch_count(u, hdr, tz);
		res->host_addr = t->hpa | off;
		res->page_size = IOMMU_MEM_PAGE_SIZE;
		vtd_result_flags_store(res, t->res_flags);
		return 0;
	}
	if (__builtin_expect(!u->iotlb_inline, 0))
		return translate_probe(u, req, res);
	return translate_walk(u, req, res, key, (unsigned)(set32 >> 5));
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
