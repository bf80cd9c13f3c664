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

/*
 * IOTLB key: the page's address (bits 56:12; input addresses are below
 * 2^57, the widest AGAW, by the time the IOTLB is looked at), the domain
 * id's bits 11:0 in bits 11:0 and its bits 15:12 in bits 60:57, the
 * level (1..3) in bits 62:61.  Bit 63 is clear, so the all-ones invalid
 * key never matches a real one.  A 4 KiB key is the address with its low
 * 12 bits cleared, ORed with the (domain id, level) part: two operations.
 */
#define VTD_IOTLB_INVALID (~UINT64_C(0))
#define VTD_IOTLB_KEY_PAGE (((UINT64_C(1) << 57) - 1) & ~UINT64_C(0xfff))

static inline uint64_t vtd_iotlb_key_tag(uint16_t did, unsigned level)
{
	return (did & UINT64_C(0xfff)) | ((uint64_t)(did >> 12) << 57) |
	       ((uint64_t)level << 61);
}

/* The key of the page of size @level holding @addr. */
static inline uint64_t vtd_iotlb_key(uint64_t addr, unsigned level,
				     uint16_t did)
{
	unsigned sh = 12u + 9u * (level - 1);

	return (addr & VTD_IOTLB_KEY_PAGE & ~((UINT64_C(1) << sh) - 1)) |
	       vtd_iotlb_key_tag(did, level);
}

static inline unsigned vtd_iotlb_key_level(uint64_t key)
{
	return (unsigned)(key >> 61) & 3;
}

static inline uint16_t vtd_iotlb_key_did(uint64_t key)
{
	return (uint16_t)((key & 0xfff) | (((key >> 57) & 0xf) << 12));
}

/*
 * An IOTLB way: its key, once for reads and once for writes, each with
 * bit 63 set (VTD_IOTLB_DENY) when the entry does not allow that access,
 * so that a probe for an access it allows compares one word; then what
 * it translates to.  A free way has VTD_IOTLB_INVALID in both.
 */
#define VTD_IOTLB_DENY (UINT64_C(1) << 63)

struct vtd_iotlb_entry {
	uint64_t key_rw[2]; /* [0] reads, [1] writes */
	uint64_t hpa;       /* output page base */
	uint64_t res_flags; /* vtd_result_flags(read, write, hit, did) */
};

_Static_assert(sizeof(struct vtd_iotlb_entry) == 32,
	       "an IOTLB entry is 32 bytes: two to a cache line");

static inline bool vtd_iotlb_free(const struct vtd_iotlb_entry *t)
{
	return t->key_rw[0] == VTD_IOTLB_INVALID;
}

/* The entry's key (of a free entry, a value no key has: its level bits
 * say 1 GiB, and its page bits are not 1 GiB-aligned). */
static inline uint64_t vtd_iotlb_entry_key(const struct vtd_iotlb_entry *t)
{
	return t->key_rw[0] & ~VTD_IOTLB_DENY;
}

/* Bit 0 read, bit 1 write (0: a cached not-present entry, CM=1). */
static inline unsigned vtd_iotlb_entry_perms(const struct vtd_iotlb_entry *t)
{
	return (unsigned)!(t->key_rw[0] & VTD_IOTLB_DENY) |
	       (unsigned)!(t->key_rw[1] & VTD_IOTLB_DENY) << 1;
}

static inline void vtd_iotlb_entry_clear(struct vtd_iotlb_entry *t)
{
	t->key_rw[0] = t->key_rw[1] = VTD_IOTLB_INVALID;
}

#define VTD_CC_INVALID UINT32_C(0xffffffff)

struct vtd_cc_data {
	uint64_t slptptr;
	uint64_t stamp;
	uint64_t aw_mask;   /* input address bits at or above
			       min(MGAW, AGAW of AW): set means fault 04h */
	uint64_t iotlb_key1; /* vtd_iotlb_key_tag(did, 1) */
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
	/* The hot entry's aw_mask, iotlb_key1 (with level 0, which no key
	 * has, when the translation fast path cannot probe inline: not 8
	 * ways a set) and vtd_iotlb_set_mix() << 5, here so that a hit does
	 * not read the entry. */
	uint64_t hot_aw_mask, hot_key1, hot_set_mix_32;
	/*
	 * The IOTLB: per set, a header of iotlb_hdr_size bytes (VTD_SET_*
	 * words: the tree pseudo-LRU bits, the valid ways, a 7-bit
	 * fingerprint of each way's key in a byte, 8 ways a word), and the
	 * ways' entries.  A probe compares the key of the ways whose
	 * fingerprint matches, not all.  8 ways: 32 and 256 bytes a set.
	 */
	uint8_t *iotlb_hdrs;
	struct vtd_iotlb_entry *iotlb;  /* sets x ways */
	unsigned iotlb_hdr_size;
	unsigned iotlb_fp_words;  /* fingerprint words per set: ways / 8 rounded up */
	/* iotlb_set_mask << 5 with 8 ways a set, else 0 (the fast path's
	 * inline probe then reads the first set's 8 ways' worth of bytes,
	 * and finds nothing: hot_key1). */
	uint64_t iotlb_inline_mask_32;
	/* The constants of the inline probe, read from here rather than
	 * made in registers (loads are cheaper than ALU operations there). */
	uint64_t iotlb_hash_mul, bytes_01, bytes_80;
	uint64_t iotlb_fp_last;   /* bytes of the last word that are ways */
	uint64_t iotlb_ways_mask; /* bit w for each way w */
	bool iotlb_inline;        /* 8 ways: the fast path probes inline */
	unsigned iotlb_plru_leaves; /* ways rounded up to a power of two */
	uint64_t res_perm_flags[4]; /* vtd_result_flags(R, W, hit) by perms */
	unsigned iotlb_large[4];  /* valid entries per level (1..3) */
	/* Requests the fast path answered, from the IOTLB and by a walk
	 * (each also a translation and a context-cache hit; folded into the
	 * counters by iommu_vtd_get_stats).  IOTLB hits of the inline probe
	 * are counted in their sets' tree words (vtd_iotlb_touch_count),
	 * the others here. */
	uint64_t fast_iotlb_hits;
	uint64_t fast_walks[6][4];  /* by the context's levels and the leaf's */
	uint64_t fast_irq_hits;  /* interrupts answered from the IEC */
	uint32_t irt_entries;    /* IRTE count of the latched IRTA */
	unsigned iec_mask;
	uint32_t *iec_tags;
	struct vtd_iec_data *iec;
	uint32_t gsts;
	/* Tree pseudo-LRU (vtd_iotlb_touch): for each way, the bits of the
	 * set's tree word to keep and to set when the way is used; for the
	 * fast path's 8 ways the same indexed by 8w + 7, the bits to set
	 * plus one hit (vtd_iotlb_touch_count). */
	uint64_t iotlb_plru_keep[64], iotlb_plru_set[64];
	uint64_t iotlb_plru8_keep[64], iotlb_plru8_set_hit[64];
	/* The context cache's LRU clock. */
	uint64_t clock;

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

/* The context cache's LRU clock. */
static inline uint64_t vtd_tick(struct iommu_vtd_unit *u)
{
	return ++u->clock;
}

/* ------------------------------------------------------------------ */
/* IOTLB probing, shared by the cache code and the translation fast     */
/* path.  Probes have no side effect: the caller updates the pseudo-LRU */
/* and the counters.                                                    */

static inline unsigned vtd_level_shift(unsigned level)
{
	return 12u + IOMMU_VTD_SL_LEVEL_BITS * (level - 1);
}

/* The index of the lowest set bit of @m, not 0. */
static inline uint64_t vtd_ctz64(uint64_t m)
{
#if defined(__x86_64__) && defined(__GNUC__)
	uint64_t r;

	/* (tzcnt, or bsf on processors without it: the same for m != 0;
	 * the builtin's int costs a sign extension.) */
	__asm__("tzcnt %1, %0" : "=r"(r) : "rm"(m) : "cc");
	return r;
#else
	return (uint64_t)__builtin_ctzll(m);
#endif
}

#define VTD_BYTES_01 UINT64_C(0x0101010101010101)
#define VTD_BYTES_80 UINT64_C(0x8080808080808080)

/* The fingerprint of an IOTLB key: bits 63:57 of key * this (Fibonacci
 * hashing). */
#define VTD_IOTLB_HASH_MUL UINT64_C(0x9e3779b97f4a7c15)

static inline uint64_t vtd_iotlb_fp(uint64_t key)
{
	return (key * VTD_IOTLB_HASH_MUL) >> 57;
}

/* The set of an IOTLB entry: the low bits of its page number at its own
 * size, XORed with this hash of the domain id and the size (so that the
 * same page number of two domains or two sizes falls in different sets;
 * sets are at most 2^20). */
static inline uint64_t vtd_iotlb_set_mix(uint16_t did, unsigned level)
{
	return (((uint64_t)did << 2 | level) * VTD_IOTLB_HASH_MUL) >> 40;
}

/* Where a key lives: its set, and the byte the set's fingerprint words
 * hold for it. */
struct vtd_iotlb_pos {
	uint64_t key;
	unsigned set;
	uint64_t fp;        /* the byte: 0..127 */
};

static inline struct vtd_iotlb_pos
vtd_iotlb_pos(const struct iommu_vtd_unit *u, uint64_t addr, unsigned level,
	      uint16_t did)
{
	struct vtd_iotlb_pos p;

	p.key = vtd_iotlb_key(addr, level, did);
	p.set = (unsigned)(((addr & VTD_IOTLB_KEY_PAGE) >> vtd_level_shift(level)) ^
			   vtd_iotlb_set_mix(did, level)) & u->iotlb_set_mask;
	p.fp = vtd_iotlb_fp(p.key);
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

/* Whether entry @t allows the access. */
static inline bool vtd_iotlb_allows(const struct vtd_iotlb_entry *t, bool write)
{
	return !(t->key_rw[write] & VTD_IOTLB_DENY);
}

/* The words of a set's header. */
enum {
	VTD_SET_PLRU = 0,   /* tree pseudo-LRU bits (vtd_iotlb_touch) */
	VTD_SET_VALID = 1,  /* bit w: way w holds an entry */
	VTD_SET_FP = 2,     /* the fingerprint words */
};

static inline uint64_t *vtd_iotlb_set(const struct iommu_vtd_unit *u,
				      unsigned set)
{
	return (uint64_t *)(u->iotlb_hdrs + (size_t)set * u->iotlb_hdr_size);
}

static inline struct vtd_iotlb_entry *
vtd_iotlb_entry(const struct iommu_vtd_unit *u, unsigned set, unsigned w)
{
	return &u->iotlb[(size_t)set * u->iotlb_ways + w];
}

/* Where a probe found its key: the set and the way. */
struct vtd_iotlb_way {
	unsigned set, way;
};

/* The entry of @p's set holding its key, or NULL (@at: where). */
static inline struct vtd_iotlb_entry *
vtd_iotlb_probe_pos(const struct iommu_vtd_unit *u, struct vtd_iotlb_pos p,
		    struct vtd_iotlb_way *at)
{
	const uint64_t *fp = vtd_iotlb_set(u, p.set) + VTD_SET_FP;
	uint64_t f = p.fp * VTD_BYTES_01;

	for (unsigned k = 0; k < u->iotlb_fp_words; k++) {
		uint64_t x = fp[k] ^ f;
		/* Bytes of x (each below 0x80) that are zero (and, above a
		 * zero byte, perhaps some that are not): candidates,
		 * confirmed by the key. */
		uint64_t m = (x - VTD_BYTES_01) & VTD_BYTES_80;

		if (k == u->iotlb_fp_words - 1)
			m &= u->iotlb_fp_last;
		while (m) {
			unsigned w = k * 8 + ((unsigned)__builtin_ctzll(m) >> 3);
			struct vtd_iotlb_entry *t = vtd_iotlb_entry(u, p.set, w);

			if (vtd_iotlb_entry_key(t) == p.key) {
				at->set = p.set;
				at->way = w;
				return t;
			}
			m &= m - 1;
		}
	}
	return NULL;
}

/* The entry holding (@did, @addr) at page size @level, or NULL. */
static inline struct vtd_iotlb_entry *
vtd_iotlb_probe(const struct iommu_vtd_unit *u, uint16_t did, uint64_t addr,
		unsigned level, struct vtd_iotlb_way *at)
{
	return vtd_iotlb_probe_pos(u, vtd_iotlb_pos(u, addr, level, did), at);
}

struct vtd_iotlb_entry *vtd_iotlb_find_large(const struct iommu_vtd_unit *u,
					     uint16_t did, uint64_t addr,
					     struct vtd_iotlb_way *at);

/* 4 KiB first, the larger sizes only while entries of that size exist. */
static inline struct vtd_iotlb_entry *
vtd_iotlb_find(const struct iommu_vtd_unit *u, uint16_t did, uint64_t addr,
	       struct vtd_iotlb_way *at)
{
	struct vtd_iotlb_entry *t = vtd_iotlb_probe(u, did, addr, 1, at);

	if (__builtin_expect(t != NULL, 1))
		return t;
	if (u->iotlb_large[2] | u->iotlb_large[3])
		return vtd_iotlb_find_large(u, did, addr, at);
	return NULL;
}

/*
 * The replacement policy is a tree pseudo-LRU per set, as hardware
 * caches commonly have (the VT-d specification leaves it to the
 * implementation).  The ways, rounded up to a power of two P, are the
 * leaves of a binary tree whose P - 1 inner nodes are numbered as a heap:
 * node 1 is the root, node n has children 2n (the lower ways) and
 * 2n + 1, and way w is leaf P + w.  Bit n of the set's word says where
 * the next victim is below node n: 0 left, 1 right.
 *
 * Using way @w (a hit or a fill) points every node on its path away from
 * it; a node whose right subtree holds no way (ways not a power of two)
 * keeps pointing left.  The tables are made by vtd_iotlb_plru_init().
 */
static inline void vtd_iotlb_touch(const struct iommu_vtd_unit *u,
				   uint64_t *setw, unsigned w)
{
	setw[VTD_SET_PLRU] = (setw[VTD_SET_PLRU] & u->iotlb_plru_keep[w]) |
			     u->iotlb_plru_set[w];
}

/*
 * With 8 ways or fewer the tree bits are bits 1..7 of the word, and the
 * bits above them count the hits the translation fast path answered from
 * the set (iommu_vtd_get_stats adds them up): one read-modify-write of a
 * word of the set does both.  The fast path finds way w as bit 8w + 7 of
 * a mask, and its tables are indexed by that bit.
 */
#define VTD_PLRU_HIT_SHIFT 8u

static inline void vtd_iotlb_touch_count(const struct iommu_vtd_unit *u,
					 uint64_t *setw, uint64_t bit)
{
	/* The bits set are clear after the AND: adding them sets them,
	 * and adds the hit. */
	setw[VTD_SET_PLRU] = (setw[VTD_SET_PLRU] & u->iotlb_plru8_keep[bit]) +
			     u->iotlb_plru8_set_hit[bit];
}

/* The way a fill replaces when none is free: the leaf the bits lead to
 * from the root. */
static inline unsigned vtd_iotlb_plru_victim(const struct iommu_vtd_unit *u,
					     uint64_t plru)
{
	unsigned n = 1, leaves = u->iotlb_plru_leaves;

	while (n < leaves)
		n = 2 * n + (unsigned)((plru >> n) & 1);
	return n - leaves;
}

/*
 * Fill the IOTLB with a translation the caller has just missed (so the
 * key is in no way of its set): into the set's lowest free way, else the
 * pseudo-LRU victim.
 */
static inline void vtd_iotlb_fill_pos(struct iommu_vtd_unit *u,
				      struct vtd_iotlb_pos p, uint64_t res_did,
				      unsigned level, uint64_t hpa, unsigned perms)
{
	uint64_t *setw = vtd_iotlb_set(u, p.set);
	uint64_t free_ways = ~setw[VTD_SET_VALID] & u->iotlb_ways_mask;
	unsigned w, old_level = 0, sh = vtd_level_shift(level);
	struct vtd_iotlb_entry *t;

	if (__builtin_expect(free_ways != 0, 1)) {
		w = (unsigned)__builtin_ctzll(free_ways);
		setw[VTD_SET_VALID] |= UINT64_C(1) << w;
		t = vtd_iotlb_entry(u, p.set, w);
	} else {
		w = vtd_iotlb_plru_victim(u, setw[VTD_SET_PLRU]);
		t = vtd_iotlb_entry(u, p.set, w);
		old_level = vtd_iotlb_key_level(vtd_iotlb_entry_key(t));
		u->st.iotlb_evictions++;
	}
	/* As few stores as can be (a miss is followed by the next request
	 * while they wait to retire): the tree bits, the fingerprint byte,
	 * the entry. */
	vtd_iotlb_touch(u, setw, w);
	((uint8_t *)(setw + VTD_SET_FP))[vtd_fp_byte(w)] = (uint8_t)p.fp;
	*t = (struct vtd_iotlb_entry){
		.key_rw = { p.key | (perms & IOMMU_VTD_SL_R ? 0 : VTD_IOTLB_DENY),
			    p.key | (perms & IOMMU_VTD_SL_W ? 0 : VTD_IOTLB_DENY) },
		.hpa = hpa & ~((UINT64_C(1) << sh) - 1),
		.res_flags = u->res_perm_flags[perms & 3] | res_did,
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
	vtd_iotlb_fill_pos(u, vtd_iotlb_pos(u, addr, level, did), res_did, level,
			   hpa, perms);
}

/*
 * The hot context's LRU stamp (the context cache keeps an exact LRU) is
 * not moved by each request the fast path answers: the hot entry is by
 * definition the context cache's most recently used, and it is given a fresh stamp whenever that may stop
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
/* The pseudo-LRU tables for u->iotlb_ways (vtd_iotlb_touch). */
void vtd_iotlb_plru_init(struct iommu_vtd_unit *u);
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
const struct vtd_iotlb_entry *vtd_iotlb_lookup(struct iommu_vtd_unit *u,
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
