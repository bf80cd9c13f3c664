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
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iommu/hw.h"
#include "hw/vtd_spec.h"

/* ------------------------------------------------------------------ */
/* Memory.  The first IOMMU_MEM_FLAT_MAX bytes (all of a memory up to    */
/* that size) are one host mapping reserved at creation and committed   */
/* by the host page by page on first touch, so a modelled address is    */
/* its host address minus one base: a table read is the entry's own     */
/* load.  A bitmap tells which of those pages were written (allocated). */
/* Above that, a two-level radix of page pointers: a top slot per GiB,  */
/* each leaf holding 2^18 page pointers.  When the host refuses the     */
/* reservation the radix covers everything.                             */

#define IOMMU_MEM_PAGE_SHIFT 12u
#define IOMMU_MEM_PAGE_MASK (IOMMU_MEM_PAGE_SIZE - 1)
#define IOMMU_MEM_LEAF_SHIFT 18u  /* pages per leaf: 2^18 (1 GiB) */
#define IOMMU_MEM_LEAF_PAGES (1u << IOMMU_MEM_LEAF_SHIFT)
#define IOMMU_MEM_TOP_SHIFT (IOMMU_MEM_PAGE_SHIFT + IOMMU_MEM_LEAF_SHIFT)
#define IOMMU_MEM_FLAT_MAX (UINT64_C(256) << 30)

struct iommu_mem {
	uint8_t *flat;           /* host view of [0, flat_size) */
	uint64_t flat_size;      /* 0: no flat part */
	uint64_t size;
	uint64_t *written;       /* flat pages allocated: one bit each */
	uint64_t top_entries;
	uint8_t ***top;          /* top[gib][page] -> 4 KiB or NULL, for
				    addresses at or above flat_size */
	uint64_t pages;
};

/*
 * The bytes of a struct iommu_vtd_result from `read` to `fault_recorded`
 * (the end), as one word in host byte order: the parts an IOTLB entry
 * and a context entry know are computed when they are cached, ORed (they
 * set different bytes) and stored at once by the fast path.
 */
#define VTD_RES_FLAGS_AT offsetof(struct iommu_vtd_result, read)
_Static_assert(offsetof(struct iommu_vtd_result, fault_recorded) ==
		       VTD_RES_FLAGS_AT + 7 &&
	       sizeof(struct iommu_vtd_result) == VTD_RES_FLAGS_AT + 8,
	       "struct iommu_vtd_result: the flag bytes are the last word");

static inline uint64_t vtd_result_flags(bool read, bool write, bool hit,
					uint16_t did)
{
	struct iommu_vtd_result r;
	uint64_t v;

	memset(&r, 0, sizeof(r));
	r.read = read;
	r.write = write;
	r.iotlb_hit = hit;
	r.domain_id = did;
	memcpy(&v, (const char *)&r + VTD_RES_FLAGS_AT, sizeof(v));
	return v;
}

/* Little-endian 64-bit load and store at any host address. */
static inline uint64_t iommu_ld64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void iommu_st64(void *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

/* The page holding @addr (< size) for reading, or NULL when it was never
 * written and reads as zero (a flat page reads as zero by itself). */
static inline uint8_t *iommu_mem__page(const struct iommu_mem *m,
				       uint64_t addr)
{
	uint8_t **leaf;

	if (addr < m->flat_size)
		return m->flat + (addr & ~(uint64_t)IOMMU_MEM_PAGE_MASK);
	leaf = m->top[addr >> IOMMU_MEM_TOP_SHIFT];
	if (!leaf)
		return NULL;
	return leaf[(addr >> IOMMU_MEM_PAGE_SHIFT) & (IOMMU_MEM_LEAF_PAGES - 1)];
}

/* Fast path for table walks: an 8-byte-aligned little-endian load. */
static inline int iommu_mem__rd64(const struct iommu_mem *m, uint64_t addr,
				  uint64_t *v)
{
	const uint8_t *pg;

	if (addr < m->flat_size && !(addr & 7)) {
		*v = iommu_ld64(m->flat + addr);
		return 0;
	}
	if (addr >= m->size || (addr & 7))
		return -EFAULT;
	pg = iommu_mem__page(m, addr);
	if (!pg) {
		*v = 0;
		return 0;
	}
	*v = iommu_ld64(pg + (addr & IOMMU_MEM_PAGE_MASK));
	return 0;
}

/* A 16-byte-aligned 128-bit entry as two words. */
static inline int iommu_mem__rd128(const struct iommu_mem *m, uint64_t addr,
				   uint64_t *lo, uint64_t *hi)
{
	const uint8_t *pg;

	if (addr >= m->size || (addr & 15))
		return -EFAULT;
	if (addr < m->flat_size) {
		*lo = iommu_ld64(m->flat + addr);
		*hi = iommu_ld64(m->flat + addr + 8);
		return 0;
	}
	pg = iommu_mem__page(m, addr);
	if (!pg) {
		*lo = *hi = 0;
		return 0;
	}
	pg += addr & IOMMU_MEM_PAGE_MASK;
	*lo = iommu_ld64(pg);
	*hi = iommu_ld64(pg + 8);
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

/* An IOTLB way's payload; its tag and LRU stamp are in arrays of their
 * own, so that a set's tags are one cache line and its stamps another. */
struct vtd_iotlb_data {
	uint64_t hpa;       /* output page base */
	uint64_t res_flags; /* vtd_result_flags(read, write, hit, did) */
	uint16_t did;
	uint8_t level;      /* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB */
	uint8_t perms;      /* bit 0 read, bit 1 write; 0: cached
			       not-present (CM=1) */
};

#define VTD_CC_INVALID UINT32_C(0xffffffff)

struct vtd_cc_data {
	uint64_t slptptr;
	uint64_t stamp;
	uint64_t aw_mask;   /* input address bits at or above
			       min(MGAW, AGAW of AW): set means fault 04h */
	uint64_t iotlb_hash1, iotlb_key1; /* the DID's part of a 4 KiB
					     IOTLB entry's hash and key */
	uint64_t res_did;   /* vtd_result_flags() of the domain id alone */
	uint16_t did;
	uint8_t tt;
	uint8_t levels;     /* second-level paging levels (3..5) */
	uint8_t agaw;       /* address width in bits of AW */
	bool fpd;
	bool present;       /* false: cached not-present entry (CM=1) */
};

#define VTD_IEC_INVALID UINT32_C(0xffffffff)

/* An IRTE as the interrupt entry cache holds it: the entry as read
 * (present, checked), and pre-decoded, so that a hit is the index, the
 * tag compare and the source-id check. */
struct vtd_iec_data {
	uint64_t lo, hi;
	struct iommu_vtd_irq irq;   /* the delivered interrupt, iec_hit set;
				       index filled in per request */
	uint16_t sid_mask, sid_val; /* SVT 00b/01b: (rid & mask) == val */
	uint8_t bus_lo, bus_hi;     /* SVT 10b: bus in [lo, hi] */
	bool bus_range;
};

/* ------------------------------------------------------------------ */
/* The unit                                                             */

struct iommu_vtd_unit {
	/* What a translation or interrupt that hits its caches touches,
	 * together at the start. */
	struct iommu_mem *mem;
	/* The context-cache entry last used for a translating request
	 * (present, TT 00b/01b), by source-id; VTD_CC_INVALID: none.  Any
	 * change to the context cache or to GSTS drops it. */
	uint32_t hot_sid;
	unsigned iotlb_ways, iotlb_set_mask;
	struct vtd_cc_data *hot_cc;
	uint64_t *iotlb_tags;   /* sets * ways */
	struct vtd_iotlb_data *iotlb;
	/* LRU: clock << 6 | way, distinct in a set; a free way holds its
	 * way number alone, older than any valid one. */
	uint64_t *iotlb_stamps;
	/* Per set, a byte of each way's tag hash (8 ways a word): a probe
	 * compares the tags of the ways whose byte matches, not all. */
	uint64_t *iotlb_fp;
	unsigned iotlb_fp_words;  /* words per set: ways / 8 rounded up */
	unsigned iotlb_set_bits;  /* log2(sets) */
	uint64_t iotlb_fp_last;   /* bytes of the last word that are ways */
	uint64_t iotlb_fp_fast;   /* 8 ways a set: the 0x80 bits; else 0 */
	uint64_t res_perm_flags[4]; /* vtd_result_flags(R, W, hit) by perms */
	unsigned iotlb_large[4];  /* valid entries per level (1..3) */
	uint64_t clock;
	/* Requests the fast path answered: from the IOTLB (each the one
	 * clock tick not counted in ticks_slow), and by a walk (each also a
	 * translation and a context-cache hit; folded into the counters by
	 * iommu_vtd_get_stats). */
	uint64_t ticks_slow;     /* clock ticks other than fast-path hits */
	uint64_t fast_hits_base; /* clock - ticks_slow when stats were cleared */
	uint64_t fast_walks[6][4];  /* by the context's levels and the leaf's */
	uint64_t fast_irq_hits;  /* interrupts answered from the IEC */
	uint32_t irt_entries;    /* IRTE count of the latched IRTA */
	unsigned iec_mask;
	uint32_t *iec_tags;
	struct vtd_iec_data *iec;
	uint32_t gsts;

	struct iommu_vtd_config cfg;

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

	/* registers (gsts above) */
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

	/* caches (the hot fields above) */
	unsigned iotlb_sets;
	unsigned cc_sets, cc_ways;
	uint32_t *cc_tags;
	struct vtd_cc_data *cc;
	unsigned iec_entries;

	struct iommu_vtd_stats st;
};

/* The LRU clock.  Every tick but those of the fast path's IOTLB hits is
 * counted in ticks_slow, so that those hits need no counter of their own
 * (iommu_vtd_get_stats: fast hits = clock - ticks_slow). */
static inline uint64_t vtd_tick(struct iommu_vtd_unit *u)
{
	u->ticks_slow++;
	return ++u->clock;
}

/* ------------------------------------------------------------------ */
/* IOTLB probing, shared by the cache code and the translation fast     */
/* path.  Probes have no side effect: the caller updates LRU and stats. */

static inline unsigned vtd_level_shift(unsigned level)
{
	return 12u + IOMMU_VTD_SL_LEVEL_BITS * (level - 1);
}

#define VTD_STAMP_WAY_BITS 6u    /* ways are at most 64 */
#define VTD_BYTES_01 UINT64_C(0x0101010101010101)
#define VTD_BYTES_80 UINT64_C(0x8080808080808080)

/* The set hash of an IOTLB key is its page number mixed with this. */
static inline uint64_t vtd_iotlb_hash_did(uint16_t did, unsigned level)
{
	return ((uint64_t)did * 0x9e3779b1u) ^ ((uint64_t)level << 5);
}

/* Where a key lives: its set (the low bits of the hash), and the byte
 * the set's fingerprint words hold for it (the hash's next 8 bits). */
struct vtd_iotlb_pos {
	uint64_t key;
	unsigned set;
	uint64_t fp;        /* the byte */
};

static inline struct vtd_iotlb_pos
vtd_iotlb_pos(const struct iommu_vtd_unit *u, uint64_t addr, unsigned level,
	      uint16_t did)
{
	unsigned sh = vtd_level_shift(level);
	uint64_t vpn = addr >> sh;
	uint64_t h;
	struct vtd_iotlb_pos p;

	h = vpn ^ vtd_iotlb_hash_did(did, level);
	h ^= h >> 17;
	p.key = vtd_iotlb_key(vpn << sh, level, did);
	p.set = (unsigned)h & u->iotlb_set_mask;
	p.fp = (h >> u->iotlb_set_bits) & 0xff;
	return p;
}

/* Where, in the bytes of a set's fingerprint words, way @w's byte is:
 * byte w % 8 of word w / 8 counted from the least significant end. */
static inline size_t vtd_fp_byte(unsigned w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (w & ~7u) + 7 - (w & 7u);
#else
	return w;
#endif
}

/* The way of @p's set holding its key, or -1 (@way: its number). */
static inline long vtd_iotlb_probe_pos(const struct iommu_vtd_unit *u,
				       struct vtd_iotlb_pos p, unsigned *way)
{
	unsigned base = p.set * u->iotlb_ways;
	const uint64_t *fp = &u->iotlb_fp[(size_t)p.set * u->iotlb_fp_words];
	uint64_t f = p.fp * VTD_BYTES_01;

	for (unsigned k = 0; k < u->iotlb_fp_words; k++) {
		uint64_t x = fp[k] ^ f;
		/* Bytes of x that are zero (and, above a zero byte, perhaps
		 * some that are not): candidates, confirmed by the tag. */
		uint64_t m = (x - VTD_BYTES_01) & ~x & VTD_BYTES_80;

		if (k == u->iotlb_fp_words - 1)
			m &= u->iotlb_fp_last;
		while (m) {
			unsigned w = k * 8 + ((unsigned)__builtin_ctzll(m) >> 3);

			if (u->iotlb_tags[base + w] == p.key) {
				*way = w;
				return (long)(base + w);
			}
			m &= m - 1;
		}
	}
	return -1;
}

/* The way holding (@did, @addr) at page size @level, or -1. */
static inline long vtd_iotlb_probe(const struct iommu_vtd_unit *u, uint16_t did,
				   uint64_t addr, unsigned level, unsigned *way)
{
	return vtd_iotlb_probe_pos(u, vtd_iotlb_pos(u, addr, level, did), way);
}

long vtd_iotlb_find_large(const struct iommu_vtd_unit *u, uint16_t did,
			  uint64_t addr, unsigned *way);

/* 4 KiB first, the larger sizes only while entries of that size exist. */
static inline long vtd_iotlb_find(const struct iommu_vtd_unit *u, uint16_t did,
				  uint64_t addr, unsigned *way)
{
	long i = vtd_iotlb_probe(u, did, addr, 1, way);

	if (__builtin_expect(i >= 0, 1))
		return i;
	if (u->iotlb_large[2] | u->iotlb_large[3])
		return vtd_iotlb_find_large(u, did, addr, way);
	return -1;
}

/* Mark way @w (entry @i) most recently used. */
static inline void vtd_iotlb_touch(struct iommu_vtd_unit *u, long i, unsigned w,
				   uint64_t tick)
{
	u->iotlb_stamps[i] = (tick << VTD_STAMP_WAY_BITS) | w;
}

/*
 * Fill the IOTLB with a translation the caller has just missed (so the
 * key is in no way of its set): into the set's first free way, else its
 * least recently used one.  The smallest stamp names the way, so the
 * choice takes no data-dependent branch.
 */
static inline void vtd_iotlb_fill_pos(struct iommu_vtd_unit *u,
				      struct vtd_iotlb_pos p, uint16_t did,
				      uint64_t res_did, unsigned level, uint64_t hpa,
				      unsigned perms)
{
	unsigned ways = u->iotlb_ways;
	unsigned base = p.set * ways;
	const uint64_t *stamps = &u->iotlb_stamps[base];
	uint64_t oldest = stamps[0];
	unsigned w, old_level = 0, sh = vtd_level_shift(level);

	for (unsigned k = 1; k < ways; k++)
		oldest = stamps[k] < oldest ? stamps[k] : oldest;
	w = (unsigned)(oldest & ((1u << VTD_STAMP_WAY_BITS) - 1));
	if (u->iotlb_tags[base + w] != VTD_IOTLB_INVALID) {
		old_level = u->iotlb[base + w].level;
		u->st.iotlb_evictions++;
	}
	/* As few stores as can be (a miss is followed by the next request
	 * while they wait to retire): the tag, the stamp and the clock, the
	 * fingerprint byte, the entry. */
	u->iotlb_tags[base + w] = p.key;
	vtd_iotlb_touch(u, base + w, w, vtd_tick(u));
	((uint8_t *)&u->iotlb_fp[(size_t)p.set * u->iotlb_fp_words])[vtd_fp_byte(w)] =
		(uint8_t)p.fp;
	u->iotlb[base + w] = (struct vtd_iotlb_data){
		.hpa = hpa & ~((UINT64_C(1) << sh) - 1),
		.res_flags = u->res_perm_flags[perms & 3] | res_did,
		.did = did,
		.level = (uint8_t)level,
		.perms = (uint8_t)perms,
	};
	/* Per-size counts: nothing moves when an entry replaces one of its
	 * own size (the usual case), which keeps stores to addresses that
	 * depend on a load off the common path. */
	if (old_level != level) {
		if (old_level)
			u->iotlb_large[old_level]--;
		u->iotlb_large[level]++;
	}
}

static inline void vtd_iotlb_fill(struct iommu_vtd_unit *u, uint16_t did,
				  uint64_t res_did, uint64_t addr, unsigned level,
				  uint64_t hpa, unsigned perms)
{
	vtd_iotlb_fill_pos(u, vtd_iotlb_pos(u, addr, level, did), did, res_did,
			   level, hpa, perms);
}

/*
 * The hot context's LRU stamp is not moved by each request the fast path
 * answers: the hot entry is by definition the context cache's most
 * recently used, and it is given a fresh stamp whenever that may stop
 * being true or is looked at (another entry used or filled, the hot
 * entry dropped).
 */
static inline void vtd_hot_writeback(struct iommu_vtd_unit *u)
{
	if (u->hot_cc)
		u->hot_cc->stamp = vtd_tick(u);
}

static inline void vtd_hot_drop(struct iommu_vtd_unit *u)
{
	u->hot_sid = VTD_CC_INVALID;
	u->hot_cc = NULL;
}

static inline void vtd_hot_clear(struct iommu_vtd_unit *u)
{
	vtd_hot_writeback(u);
	vtd_hot_drop(u);
}

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
/* Make @c the hot context of @sid when it translates requests (the
 * previous hot entry's stamp written back by the caller). */
void vtd_hot_set(struct iommu_vtd_unit *u, uint16_t sid, struct vtd_cc_data *c);
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
/* Re-decode the cached IRTEs (the latched IRTA's EIME changed). */
void vtd_iec_redecode(struct iommu_vtd_unit *u);
/* global, or 2^im entries from index (aligned down). */
void vtd_iec_invalidate(struct iommu_vtd_unit *u, bool global,
			uint16_t index, unsigned im);

/* vtd_qi.c */
void vtd_qi_run(struct iommu_vtd_unit *u);
void vtd_iqt_write(struct iommu_vtd_unit *u, uint64_t val);
void vtd_iqa_write(struct iommu_vtd_unit *u, uint64_t val);
void vtd_qi_enable(struct iommu_vtd_unit *u, bool on);

/* vtd_ir.c */
/* The interrupt an IRTE (present, not reserved) delivers, and its
 * source-id check, into a cache entry. */
void vtd_irte_decode(const struct iommu_vtd_unit *u, uint64_t lo, uint64_t hi,
		     struct vtd_iec_data *e);

/* vtd_regs.c */
void vtd_regs_reset(struct iommu_vtd_unit *u);

#endif /* IOMMU_HW_INTERNAL_H */
