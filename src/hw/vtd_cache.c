/* SPDX-License-Identifier: MIT */
/*
 * The unit's translation caches (VT-d chapter 6): a context cache tagged
 * by source-id, an IOTLB tagged by domain id and page, and an interrupt
 * entry cache tagged by interrupt_index.
 *
 * Both the context cache and the IOTLB are set-associative arrays with
 * LRU replacement: the tags of a set are contiguous 64-bit (IOTLB) or
 * 32-bit (context cache) words so that a probe is a short linear compare.
 * The IOTLB holds 4 KiB, 2 MiB and 1 GiB entries in the same array, each
 * indexed by its own page number; a lookup probes the 4 KiB set first and
 * the larger sizes only while entries of that size are present.
 *
 * Entries stay until software invalidates them (6.5): that is the point.
 * The paging-structure caches (PML4/PDPE/PDE caches) are not modelled:
 * every IOTLB miss walks from the top.
 */
#include <stdlib.h>

#include "hw/hw_internal.h"

int vtd_caches_alloc(struct iommu_vtd_unit *u)
{
	size_t n = (size_t)u->iotlb_sets * u->iotlb_ways;

	u->iotlb_tags = calloc(n, sizeof(*u->iotlb_tags));
	u->iotlb = calloc(n, sizeof(*u->iotlb));
	u->iotlb_stamps = calloc(n, sizeof(*u->iotlb_stamps));
	u->iotlb_fp = calloc((size_t)u->iotlb_sets * u->iotlb_fp_words,
			     sizeof(*u->iotlb_fp));
	u->cc_tags = calloc((size_t)u->cc_sets * u->cc_ways,
			    sizeof(*u->cc_tags));
	u->cc = calloc((size_t)u->cc_sets * u->cc_ways, sizeof(*u->cc));
	u->iec_tags = calloc(u->iec_entries, sizeof(*u->iec_tags));
	u->iec = calloc(u->iec_entries, sizeof(*u->iec));
	if (!u->iotlb_tags || !u->iotlb || !u->iotlb_stamps || !u->iotlb_fp || !u->cc_tags || !u->cc ||
	    !u->iec_tags || !u->iec) {
		vtd_caches_free(u);
		return -ENOMEM;
	}
	vtd_caches_reset(u);
	return 0;
}

void vtd_caches_free(struct iommu_vtd_unit *u)
{
	free(u->iotlb_tags);
	free(u->iotlb);
	free(u->iotlb_stamps);
	free(u->iotlb_fp);
	free(u->cc_tags);
	free(u->cc);
	free(u->iec_tags);
	free(u->iec);
	u->iotlb_tags = NULL;
	u->iotlb = NULL;
	u->iotlb_stamps = NULL;
	u->iotlb_fp = NULL;
	u->cc_tags = NULL;
	u->cc = NULL;
	u->iec_tags = NULL;
	u->iec = NULL;
}

/* Every way free: invalid tags, stamps holding only the way number. */
static void iotlb_clear_all(struct iommu_vtd_unit *u)
{
	size_t n = (size_t)u->iotlb_sets * u->iotlb_ways;

	memset(u->iotlb_tags, 0xff, n * sizeof(*u->iotlb_tags));
	for (size_t i = 0; i < n; i++)
		u->iotlb_stamps[i] = i % u->iotlb_ways;
}

void vtd_caches_reset(struct iommu_vtd_unit *u)
{
	iotlb_clear_all(u);
	for (size_t i = 0; i < (size_t)u->cc_sets * u->cc_ways; i++)
		u->cc_tags[i] = VTD_CC_INVALID;
	for (size_t i = 0; i < u->iec_entries; i++)
		u->iec_tags[i] = VTD_IEC_INVALID;
	memset(u->iotlb_large, 0, sizeof(u->iotlb_large));
	vtd_hot_clear(u);
}

/* ------------------------------------------------------------------ */
/* Context cache                                                        */

static inline unsigned cc_set(const struct iommu_vtd_unit *u, uint16_t sid)
{
	return ((unsigned)sid ^ ((unsigned)sid >> 8)) & (u->cc_sets - 1);
}

/* The translation fast path (vtd_walk.c) starts from the hot entry: a
 * present context of TT 00b or 01b, the one that untranslated requests
 * walk through. */
void vtd_hot_set(struct iommu_vtd_unit *u, uint16_t sid, struct vtd_cc_data *c)
{
	if (c == u->hot_cc)
		return;
	vtd_hot_drop(u);
	if (c->present && (c->tt == IOMMU_VTD_TT_UNTRANSLATED ||
			   c->tt == IOMMU_VTD_TT_ALL)) {
		u->hot_sid = sid;
		u->hot_cc = c;
	}
}

const struct vtd_cc_data *vtd_cc_lookup(struct iommu_vtd_unit *u,
					uint16_t sid)
{
	unsigned base = cc_set(u, sid) * u->cc_ways;

	for (unsigned w = 0; w < u->cc_ways; w++) {
		if (u->cc_tags[base + w] == sid) {
			/* The hot entry's stamp first, so that this one is
			 * newer. */
			if (&u->cc[base + w] != u->hot_cc)
				vtd_hot_writeback(u);
			u->cc[base + w].stamp = vtd_tick(u);
			u->st.cc_hits++;
			vtd_hot_set(u, sid, &u->cc[base + w]);
			return &u->cc[base + w];
		}
	}
	u->st.cc_misses++;
	return NULL;
}

void vtd_cc_insert(struct iommu_vtd_unit *u, uint16_t sid,
		   const struct vtd_cc_data *d)
{
	unsigned base = cc_set(u, sid) * u->cc_ways;
	unsigned victim = base;

	/* The hot entry may be the one replaced: its stamp back, then no
	 * hot entry until the new one is in. */
	vtd_hot_clear(u);
	for (unsigned w = 0; w < u->cc_ways; w++) {
		unsigned i = base + w;

		if (u->cc_tags[i] == sid || u->cc_tags[i] == VTD_CC_INVALID) {
			victim = i;
			goto fill;
		}
		if (u->cc[i].stamp < u->cc[victim].stamp)
			victim = i;
	}
	u->st.cc_evictions++;
fill:
	u->cc_tags[victim] = sid;
	u->cc[victim] = *d;
	u->cc[victim].stamp = vtd_tick(u);
	u->st.cc_fills++;
	vtd_hot_set(u, sid, &u->cc[victim]);
}

/* Function mask (FM, 10.4.7): 0 none, 1 ignore function bit 2, 2 bits
 * 2:1, 3 bits 2:0. */
static uint16_t fm_mask(unsigned fm)
{
	static const uint16_t m[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

	return m[fm & 3];
}

void vtd_cc_invalidate(struct iommu_vtd_unit *u, unsigned gran,
		       uint16_t did, uint16_t sid, unsigned fm)
{
	size_t n = (size_t)u->cc_sets * u->cc_ways;
	uint16_t mask = fm_mask(fm);

	u->st.cc_invalidations++;
	vtd_hot_clear(u);
	did &= u->did_mask;
	for (size_t i = 0; i < n; i++) {
		bool hit;

		if (u->cc_tags[i] == VTD_CC_INVALID)
			continue;
		switch (gran) {
		case IOMMU_VTD_GRAN_GLOBAL:
			hit = true;
			break;
		case IOMMU_VTD_GRAN_DOMAIN:
			/* A cached not-present entry has no domain: a
			 * domain-selective flush drops it too, as software
			 * making an entry present flushes by its new DID. */
			hit = !u->cc[i].present || u->cc[i].did == did;
			break;
		default: /* device-selective */
			hit = ((uint16_t)u->cc_tags[i] & mask) == (sid & mask);
			break;
		}
		if (hit) {
			u->cc_tags[i] = VTD_CC_INVALID;
			u->st.cc_entries_invalidated++;
		}
	}
}

/* ------------------------------------------------------------------ */
/* IOTLB                                                                */

static inline unsigned level_shift(unsigned level)
{
	return vtd_level_shift(level);
}

const struct vtd_iotlb_data *vtd_iotlb_lookup(struct iommu_vtd_unit *u,
					      uint16_t did, uint64_t addr)
{
	unsigned w;
	long i = vtd_iotlb_find(u, did, addr, &w);

	if (i < 0) {
		u->st.iotlb_misses++;
		return NULL;
	}
	vtd_iotlb_touch(u, i, w, vtd_tick(u));
	u->st.iotlb_hits++;
	return &u->iotlb[i];
}

long vtd_iotlb_find_large(const struct iommu_vtd_unit *u, uint16_t did,
			  uint64_t addr, unsigned *way)
{
	long i = -1;

	if (u->iotlb_large[2])
		i = vtd_iotlb_probe(u, did, addr, 2, way);
	if (i < 0 && u->iotlb_large[3])
		i = vtd_iotlb_probe(u, did, addr, 3, way);
	return i;
}

static void iotlb_drop(struct iommu_vtd_unit *u, size_t i)
{
	u->iotlb_large[u->iotlb[i].level]--;
	u->iotlb_tags[i] = VTD_IOTLB_INVALID;
	u->iotlb_stamps[i] = i % u->iotlb_ways;
}

void vtd_iotlb_insert(struct iommu_vtd_unit *u, uint16_t did, uint64_t addr,
		      unsigned level, uint64_t hpa, unsigned perms)
{
	unsigned w;
	long i = vtd_iotlb_probe(u, did, addr, level, &w);

	/* The same key again takes its own way (a fill assumes a miss). */
	if (i >= 0)
		iotlb_drop(u, (size_t)i);
	vtd_iotlb_fill(u, did, vtd_result_flags(false, false, false, did), addr,
		       level, hpa, perms);
	u->st.iotlb_fills++;
}

/*
 * Global, domain-selective, or page-selective-within-domain (2^am 4 KiB
 * pages from addr, aligned down to that size; an entry of any page size
 * overlapping the range goes).  IH (invalidation hint) only spares the
 * paging-structure caches, which the model does not have: leaf entries
 * are always invalidated.
 */
void vtd_iotlb_invalidate(struct iommu_vtd_unit *u, unsigned gran,
			  uint16_t did, uint64_t addr, unsigned am, bool ih)
{
	size_t n = (size_t)u->iotlb_sets * u->iotlb_ways;
	uint64_t start = 0, end = 0;

	(void)ih;
	u->st.iotlb_invalidations++;
	did &= u->did_mask;
	if (gran == IOMMU_VTD_GRAN_GLOBAL || iommu_vtd_iotlb_count(u) == 0) {
		/* Everything goes: one fill of the tag array (all-ones is
		 * the invalid tag), no per-entry decisions. */
		u->st.iotlb_entries_invalidated += iommu_vtd_iotlb_count(u);
		if (iommu_vtd_iotlb_count(u))
			iotlb_clear_all(u);
		memset(u->iotlb_large, 0, sizeof(u->iotlb_large));
		return;
	}
	if (gran == IOMMU_VTD_GRAN_PAGE) {
		if (am > 52)
			am = 52;
		start = addr & ~((UINT64_C(1) << (12 + am)) - 1);
		end = start + (UINT64_C(1) << (12 + am)) - 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vtd_iotlb_data *d;
		bool hit;

		if (u->iotlb_tags[i] == VTD_IOTLB_INVALID)
			continue;
		d = &u->iotlb[i];
		switch (gran) {
		case IOMMU_VTD_GRAN_GLOBAL:
			hit = true;
			break;
		case IOMMU_VTD_GRAN_DOMAIN:
			hit = d->did == did;
			break;
		default: {
			unsigned sh = level_shift(d->level);
			uint64_t pstart = (u->iotlb_tags[i] >> 19) << 12;
			uint64_t pend = pstart + (UINT64_C(1) << sh) - 1;

			hit = d->did == did && pstart <= end && start <= pend;
			break;
		}
		}
		if (hit) {
			iotlb_drop(u, i);
			u->st.iotlb_entries_invalidated++;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Interrupt entry cache: direct-mapped by interrupt_index.             */

const struct vtd_iec_data *vtd_iec_lookup(struct iommu_vtd_unit *u,
					  uint16_t index)
{
	unsigned slot = index & u->iec_mask;

	if (u->iec_tags[slot] == index) {
		u->st.iec_hits++;
		return &u->iec[slot];
	}
	u->st.iec_misses++;
	return NULL;
}

void vtd_iec_insert(struct iommu_vtd_unit *u, uint16_t index, uint64_t lo,
		    uint64_t hi)
{
	unsigned slot = index & u->iec_mask;

	u->iec_tags[slot] = index;
	vtd_irte_decode(u, lo, hi, &u->iec[slot]);
}

void vtd_iec_redecode(struct iommu_vtd_unit *u)
{
	for (unsigned i = 0; i < u->iec_entries; i++)
		if (u->iec_tags[i] != VTD_IEC_INVALID)
			vtd_irte_decode(u, u->iec[i].lo, u->iec[i].hi, &u->iec[i]);
}

void vtd_iec_invalidate(struct iommu_vtd_unit *u, bool global,
			uint16_t index, unsigned im)
{
	uint32_t first = 0, last = 0xffff;

	u->st.iec_invalidations++;
	if (!global) {
		if (im > 16)
			im = 16;
		first = index & ~((UINT32_C(1) << im) - 1);
		last = first + (UINT32_C(1) << im) - 1;
	}
	for (unsigned i = 0; i < u->iec_entries; i++) {
		uint32_t t = u->iec_tags[i];

		if (t != VTD_IEC_INVALID && t >= first && t <= last) {
			u->iec_tags[i] = VTD_IEC_INVALID;
			u->st.iec_entries_invalidated++;
		}
	}
}

unsigned iommu_vtd_iotlb_count(const struct iommu_vtd_unit *u)
{
	return u->iotlb_large[1] + u->iotlb_large[2] + u->iotlb_large[3];
}

unsigned iommu_vtd_cc_count(const struct iommu_vtd_unit *u)
{
	unsigned c = 0;

	for (size_t i = 0; i < (size_t)u->cc_sets * u->cc_ways; i++)
		c += u->cc_tags[i] != VTD_CC_INVALID;
	return c;
}

unsigned iommu_vtd_iec_count(const struct iommu_vtd_unit *u)
{
	unsigned c = 0;

	for (unsigned i = 0; i < u->iec_entries; i++)
		c += u->iec_tags[i] != VTD_IEC_INVALID;
	return c;
}
