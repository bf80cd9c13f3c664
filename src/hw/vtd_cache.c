/* SPDX-License-Identifier: MIT */
/*
 * The unit's translation caches (VT-d chapter 6): a context cache tagged
 * by source-id, an IOTLB tagged by domain id and page, and an interrupt
 * entry cache tagged by interrupt_index.
 *
 * Both the context cache and the IOTLB are set-associative.  The context
 * cache's tags of a set are contiguous 32-bit words, and it replaces its
 * least recently used way.  An IOTLB set (hw_internal.h) has a header
 * with its tree pseudo-LRU bits, its valid ways and a fingerprint byte of
 * each way's key, and its ways' entries; a probe reads the key of the
 * ways whose fingerprint matches.  It replaces, as hardware IOTLBs do, a
 * tree pseudo-LRU victim (vtd_iotlb_touch), which a hit keeps up to date
 * with a few bits of its own set.
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
	/* Cache-line aligned, so that an entry never straddles two lines;
	 * at least one set of 8 ways, which the translation fast path may
	 * read whatever the geometry (iotlb_inline_mask_32): entries past
	 * the last set's are free ways no fill ever takes. */
	size_t hdr = (size_t)u->iotlb_sets * u->iotlb_hdr_size;
	size_t n = (size_t)u->iotlb_sets * u->iotlb_ways;

	hdr = ((hdr < 32 ? 32 : hdr) + 63) & ~(size_t)63;
	n = n < 8 ? 8 : n;
	u->iotlb_hdrs = aligned_alloc(64, hdr);
	u->iotlb = aligned_alloc(64, (n * sizeof(*u->iotlb) + 63) & ~(size_t)63);
	if (u->iotlb_hdrs)
		memset(u->iotlb_hdrs, 0, hdr);
	if (u->iotlb) {
		memset(u->iotlb, 0, n * sizeof(*u->iotlb));
		for (size_t i = 0; i < n; i++)
			vtd_iotlb_entry_clear(&u->iotlb[i]);
	}
	u->cc_tags = calloc((size_t)u->cc_sets * u->cc_ways,
			    sizeof(*u->cc_tags));
	u->cc = calloc((size_t)u->cc_sets * u->cc_ways, sizeof(*u->cc));
	u->iec_tags = calloc(u->iec_entries, sizeof(*u->iec_tags));
	u->iec = calloc(u->iec_entries, sizeof(*u->iec));
	vtd_iotlb_plru_init(u);
	if (!u->iotlb_hdrs || !u->iotlb || !u->cc_tags || !u->cc ||
	    !u->iec_tags || !u->iec) {
		vtd_caches_free(u);
		return -ENOMEM;
	}
	vtd_caches_reset(u);
	return 0;
}

void vtd_caches_free(struct iommu_vtd_unit *u)
{
	free(u->iotlb_hdrs);
	free(u->iotlb);
	free(u->cc_tags);
	free(u->cc);
	free(u->iec_tags);
	free(u->iec);
	u->iotlb_hdrs = NULL;
	u->iotlb = NULL;
	u->cc_tags = NULL;
	u->cc = NULL;
	u->iec_tags = NULL;
	u->iec = NULL;
}

/* The lowest way below tree node @node (hw_internal.h, vtd_iotlb_touch):
 * its leftmost leaf. */
static unsigned plru_first_way(unsigned node, unsigned leaves)
{
	while (node < leaves)
		node *= 2;
	return node - leaves;
}

/*
 * The pseudo-LRU path of each way (hw_internal.h, vtd_iotlb_touch): the
 * nodes from leaf P + w up to the root, each to be pointed at the child
 * the path does not take; a node whose right subtree has no way stays 0.
 */
void vtd_iotlb_plru_init(struct iommu_vtd_unit *u)
{
	unsigned ways = u->iotlb_ways, leaves = 1;

	while (leaves < ways)
		leaves *= 2;
	u->iotlb_plru_leaves = leaves;
	memset(u->iotlb_plru_keep, 0xff, sizeof(u->iotlb_plru_keep));
	memset(u->iotlb_plru_set, 0, sizeof(u->iotlb_plru_set));
	memset(u->iotlb_plru8_keep, 0xff, sizeof(u->iotlb_plru8_keep));
	memset(u->iotlb_plru8_set_hit, 0, sizeof(u->iotlb_plru8_set_hit));
	for (unsigned w = 0; w < ways; w++) {
		uint64_t path = 0, away = 0;

		for (unsigned child = leaves + w; child > 1; child /= 2) {
			unsigned n = child / 2;

			path |= UINT64_C(1) << n;
			/* The path goes left: point right, if ways are there. */
			if (!(child & 1) && plru_first_way(2 * n + 1, leaves) < ways)
				away |= UINT64_C(1) << n;
		}
		u->iotlb_plru_keep[w] = ~path;
		u->iotlb_plru_set[w] = away;
		if (w < 8) {
			u->iotlb_plru8_keep[8 * w + 7] = ~path;
			u->iotlb_plru8_set_hit[8 * w + 7] =
				away + (UINT64_C(1) << VTD_PLRU_HIT_SHIFT);
		}
	}
}

/* Every way free: invalid keys, no valid ways, tree bits 0 (the hit
 * counts above them, with 8 ways or fewer, stay). */
static void iotlb_clear_all(struct iommu_vtd_unit *u)
{
	uint64_t keep = u->iotlb_ways <= 8 ? ~((UINT64_C(1) << VTD_PLRU_HIT_SHIFT) - 1) : 0;

	for (unsigned set = 0; set < u->iotlb_sets; set++) {
		uint64_t *setw = vtd_iotlb_set(u, set);

		setw[VTD_SET_PLRU] &= keep;
		setw[VTD_SET_VALID] = 0;
		for (unsigned w = 0; w < u->iotlb_ways; w++)
			vtd_iotlb_entry_clear(vtd_iotlb_entry(u, set, w));
	}
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
		u->hot_aw_mask = c->aw_mask;
		/* Level 0 (no key has it) when the IOTLB has other than 8
		 * ways: the inline probe then never hits. */
		u->hot_key1 = u->iotlb_inline ? c->iotlb_key1 : vtd_iotlb_key_tag(c->did, 0);
		u->hot_set_mix_32 = vtd_iotlb_set_mix(c->did, 1) << 5;
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

const struct vtd_iotlb_entry *vtd_iotlb_lookup(struct iommu_vtd_unit *u,
					      uint16_t did, uint64_t addr)
{
	struct vtd_iotlb_way at;
	const struct vtd_iotlb_entry *t = vtd_iotlb_find(u, did, addr, &at);

	if (!t) {
		u->st.iotlb_misses++;
		return NULL;
	}
	vtd_iotlb_touch(u, vtd_iotlb_set(u, at.set), at.way);
	u->st.iotlb_hits++;
	return t;
}

struct vtd_iotlb_entry *vtd_iotlb_find_large(const struct iommu_vtd_unit *u,
					     uint16_t did, uint64_t addr,
					     struct vtd_iotlb_way *at)
{
	struct vtd_iotlb_entry *t = NULL;

	if (u->iotlb_large[2])
		t = vtd_iotlb_probe(u, did, addr, 2, at);
	if (!t && u->iotlb_large[3])
		t = vtd_iotlb_probe(u, did, addr, 3, at);
	return t;
}

/* An invalidated way is free (the next fill of its set takes the lowest
 * free way); the tree bits are left as they are. */
static void iotlb_drop(struct iommu_vtd_unit *u, unsigned set, unsigned w)
{
	struct vtd_iotlb_entry *t = vtd_iotlb_entry(u, set, w);

	u->iotlb_large[vtd_iotlb_key_level(vtd_iotlb_entry_key(t))]--;
	vtd_iotlb_entry_clear(t);
	vtd_iotlb_set(u, set)[VTD_SET_VALID] &= ~(UINT64_C(1) << w);
}

void vtd_iotlb_insert(struct iommu_vtd_unit *u, uint16_t did, uint64_t addr,
		      unsigned level, uint64_t hpa, unsigned perms)
{
	struct vtd_iotlb_way at;

	/* The same key again takes its own way (a fill assumes a miss). */
	if (vtd_iotlb_probe(u, did, addr, level, &at))
		iotlb_drop(u, at.set, at.way);
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
	uint64_t start = 0, end = 0;

	(void)ih;
	u->st.iotlb_invalidations++;
	did &= u->did_mask;
	if (gran == IOMMU_VTD_GRAN_GLOBAL || iommu_vtd_iotlb_count(u) == 0) {
		/* Everything goes, no per-entry decisions. */
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
	for (unsigned set = 0; set < u->iotlb_sets; set++) {
		for (unsigned w = 0; w < u->iotlb_ways; w++) {
			const struct vtd_iotlb_entry *d = vtd_iotlb_entry(u, set, w);
			uint64_t key = vtd_iotlb_entry_key(d);
			bool hit;

			if (vtd_iotlb_free(d))
				continue;
			if (gran == IOMMU_VTD_GRAN_DOMAIN) {
				hit = vtd_iotlb_key_did(key) == did;
			} else {
				uint64_t pstart = key & VTD_IOTLB_KEY_PAGE;
				uint64_t pend = pstart - 1 +
						(UINT64_C(1) << vtd_level_shift(vtd_iotlb_key_level(key)));

				hit = vtd_iotlb_key_did(key) == did && pstart <= end &&
				      start <= pend;
			}
			if (hit) {
				iotlb_drop(u, set, w);
				u->st.iotlb_entries_invalidated++;
			}
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
