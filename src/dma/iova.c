// SPDX-License-Identifier: MIT
/*
 * The kernel's IOVA allocator (drivers/iommu/iova.c, v6.6 and later;
 * reference section 7), with the same answers for the same calls and a
 * search that stays O(log n) however many ranges are live.
 *
 * What the kernel keeps, we keep: the ranges in a tree ordered by pfn,
 * an anchor range at pfn ~0 that is always the last one, cached_node
 * and cached32_node, max32_alloc_size, and per order (1..32 granules)
 * per-CPU loaded/prev magazines of 127 pfns over a depot list.
 *
 * The difference is the search.  The kernel walks its rbtree node by
 * node downwards from the cached node, so a fragmented tree costs O(n)
 * per allocation.  Here the tree is an AVL tree where every node also
 * describes the free gap just below it (from its predecessor's pfn_hi + 1
 * to its own pfn_lo - 1) and every subtree keeps the largest gap length
 * and the largest naturally aligned power-of-two block found in any of
 * its gaps.  The kernel's walk returns, for a request, the highest
 * aligned fit inside a window of pfns that its cached node decides
 * (doc/iova.md proves it); "highest fit inside a window" is what the
 * augmented tree answers by a right-first descent that skips every
 * subtree whose maxima rule out a fit.
 *
 * Locks, taken in this order only: a CPU cache's lock, then its order's
 * depot lock, then the tree lock (as the kernel's cpu_rcache->lock,
 * rcache->lock and iova_rbtree_lock).  All three are spinlocks that give
 * the processor away after a short spin (a holder may be preempted in
 * user space).  doc/iova.md has the design and the kernel behaviours.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/dma.h"
#include "dma/iova_internal.h"

#define IOVA_ANCHOR UINT64_MAX          /* the anchor's pfn_lo and pfn_hi */
#define IOVA_GRANULE_MAX (UINT64_C(1) << 16) /* the largest PAGE_SIZE (arm64, powerpc) */
#define NODES_PER_CHUNK 2048u
#define SPARE_MAGS_MAX 16u              /* empty magazines kept per order */
#define CACHELINE 64

/* ------------------------------------------------------------------ */
/* Spinlocks                                                            */

struct iova_lock {
	atomic_int v;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static __attribute__((noinline, cold)) void iova_lock_slow(struct iova_lock *l)
{
	unsigned spins = 0;

	for (;;) {
		while (atomic_load_explicit(&l->v, memory_order_relaxed)) {
			if (++spins < 128)
				cpu_relax();
			else
				sched_yield();
		}
		if (!atomic_exchange_explicit(&l->v, 1, memory_order_acquire))
			return;
	}
}

static inline void iova_lock(struct iova_lock *l)
{
	if (__builtin_expect(atomic_exchange_explicit(&l->v, 1, memory_order_acquire), 0))
		iova_lock_slow(l);
}

static inline void iova_unlock(struct iova_lock *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Structures                                                           */

/* struct iova, plus the AVL links and the gap summary. */
struct iova_node {
	struct iova_node *left, *right, *parent;
	uint64_t pfn_lo, pfn_hi;        /* inclusive */
	uint64_t gap_lo;                /* the free gap below is [gap_lo, pfn_lo) */
	uint64_t max_gap;               /* longest gap in this subtree */
	uint8_t height;                 /* AVL height, a leaf is 1 */
	int8_t order;                   /* largest k: own gap holds an aligned 2^k block; -1 none */
	int8_t max_order;               /* largest order in this subtree */
};

struct iova_node_chunk {
	struct iova_node_chunk *next;
	struct iova_node n[NODES_PER_CHUNK];
};

struct iova_magazine {
	unsigned size;
	struct iova_magazine *next;     /* depot and spare lists */
	uint64_t pfns[IOMMU_IOVA_MAG_SIZE];
};

struct iova_cpu_rcache {
	struct iova_lock lock;
	struct iova_magazine *loaded, *prev;    /* NULL: an empty magazine not allocated yet */
	uint64_t hits;
} __attribute__((aligned(CACHELINE)));

struct iova_rcache {
	struct iova_lock lock;
	unsigned depot_size;
	struct iova_magazine *depot;    /* the kernel's unbounded list, head = last pushed */
	struct iova_magazine *spare;    /* empty magazines for reuse (the kmem_cache) */
	unsigned nr_spare;
} __attribute__((aligned(CACHELINE)));

struct iommu_iova_domain {
	struct iova_lock lock;          /* iova_rbtree_lock */
	struct iova_node *root;
	struct iova_node *anchor;
	struct iova_node *cached_node, *cached32_node;
	uint64_t granule, start_pfn, dma_32bit_pfn, max32_alloc_size;
	unsigned shift;
	uint64_t nodes;                 /* anchor included */
	uint64_t tree_allocs, tree_frees, fast_misses;
	struct iova_node *free_nodes;   /* linked through ->left */
	struct iova_node_chunk *chunks;
	struct iova_rcache rcaches[IOMMU_IOVA_RANGE_CACHE_MAX_SIZE];
	struct iova_cpu_rcache cpu[IOMMU_IOVA_MAX_CPUS][IOMMU_IOVA_RANGE_CACHE_MAX_SIZE];
};

/* ------------------------------------------------------------------ */
/* Bits                                                                 */

static inline unsigned fls64(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* The kernel's order_base_2: ceil(log2(n)), 0 for n <= 1. */
static inline unsigned order_base_2(uint64_t n)
{
	return n > 1 ? fls64(n - 1) : 0u;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Largest k such that [lo, end) holds [m * 2^k, (m + 1) * 2^k); -1 when
 * the gap is empty.  A gap of length L >= 2^k always holds an aligned
 * 2^(k-1) block, so the answer is floor(log2 L) or one less. */
static int8_t gap_order(uint64_t lo, uint64_t end)
{
	uint64_t len = end - lo, a, start;
	int k;

	if (!len)
		return -1;
	k = 63 - __builtin_clzll(len);
	a = UINT64_C(1) << k;
	if (lo <= UINT64_MAX - (a - 1)) {
		start = (lo + a - 1) & ~(a - 1);
		if (start <= end - a)
			return (int8_t)k;
	}
	return (int8_t)(k - 1);
}

/* ------------------------------------------------------------------ */
/* Nodes                                                                */

static struct iova_node *node_alloc(struct iommu_iova_domain *d)
{
	struct iova_node *n = d->free_nodes;

	if (!n) {
		struct iova_node_chunk *c = malloc(sizeof(*c));

		if (!c)
			return NULL;
		c->next = d->chunks;
		d->chunks = c;
		for (unsigned i = NODES_PER_CHUNK; i-- > 0;) {
			c->n[i].left = d->free_nodes;
			d->free_nodes = &c->n[i];
		}
		n = d->free_nodes;
	}
	d->free_nodes = n->left;
	return n;
}

static void node_free(struct iommu_iova_domain *d, struct iova_node *n)
{
	n->left = d->free_nodes;
	d->free_nodes = n;
}

static inline unsigned node_h(const struct iova_node *n)
{
	return n ? n->height : 0u;
}

/* After gap_lo or pfn_lo of @n changed. */
static inline void node_own(struct iova_node *n)
{
	n->order = gap_order(n->gap_lo, n->pfn_lo);
}

/* Height and subtree maxima from the node's own gap and its children. */
static inline void node_pull(struct iova_node *n)
{
	uint64_t g = n->pfn_lo - n->gap_lo;
	int8_t o = n->order;
	unsigned hl = node_h(n->left), hr = node_h(n->right);

	if (n->left) {
		if (n->left->max_gap > g)
			g = n->left->max_gap;
		if (n->left->max_order > o)
			o = n->left->max_order;
	}
	if (n->right) {
		if (n->right->max_gap > g)
			g = n->right->max_gap;
		if (n->right->max_order > o)
			o = n->right->max_order;
	}
	n->max_gap = g;
	n->max_order = o;
	n->height = (uint8_t)((hl > hr ? hl : hr) + 1);
}

static struct iova_node *node_next(const struct iova_node *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct iova_node *)n;
	}
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

static struct iova_node *node_first(struct iova_node *n)
{
	if (n)
		while (n->left)
			n = n->left;
	return n;
}

/* ------------------------------------------------------------------ */
/* AVL tree with the gap augmentation                                   */

static void replace_child(struct iommu_iova_domain *d, struct iova_node *parent,
			  struct iova_node *old, struct iova_node *new)
{
	if (!parent)
		d->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
	if (new)
		new->parent = parent;
}

static struct iova_node *rotate_left(struct iommu_iova_domain *d, struct iova_node *x)
{
	struct iova_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	replace_child(d, x->parent, x, y);
	y->left = x;
	x->parent = y;
	node_pull(x);
	node_pull(y);
	return y;
}

static struct iova_node *rotate_right(struct iommu_iova_domain *d, struct iova_node *x)
{
	struct iova_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	replace_child(d, x->parent, x, y);
	y->right = x;
	x->parent = y;
	node_pull(x);
	node_pull(y);
	return y;
}

/* Recompute from @n up to the root, rebalancing on the way. */
static void retrace(struct iommu_iova_domain *d, struct iova_node *n)
{
	while (n) {
		int bf;

		node_pull(n);
		bf = (int)node_h(n->left) - (int)node_h(n->right);
		if (bf > 1) {
			if (node_h(n->left->left) < node_h(n->left->right))
				rotate_left(d, n->left);
			n = rotate_right(d, n);
		} else if (bf < -1) {
			if (node_h(n->right->right) < node_h(n->right->left))
				rotate_right(d, n->right);
			n = rotate_left(d, n);
		}
		n = n->parent;
	}
}

/* Link @n (pfn_lo/pfn_hi set, overlapping nothing) into the tree. */
static void tree_insert(struct iommu_iova_domain *d, struct iova_node *n)
{
	struct iova_node **link = &d->root, *parent = NULL, *pred = NULL, *succ = NULL;

	while (*link) {
		parent = *link;
		if (n->pfn_lo < parent->pfn_lo) {
			succ = parent;
			link = &parent->left;
		} else {
			pred = parent;
			link = &parent->right;
		}
	}
	n->left = n->right = NULL;
	n->parent = parent;
	*link = n;
	n->gap_lo = pred ? pred->pfn_hi + 1 : 0;
	node_own(n);
	/* The successor is an ancestor of a new leaf: the retrace pulls it. */
	if (succ) {
		succ->gap_lo = n->pfn_hi + 1;
		node_own(succ);
	}
	retrace(d, n);
	d->nodes++;
}

/* Unlink @n (never the anchor, so it has a successor). */
static void tree_erase(struct iommu_iova_domain *d, struct iova_node *n)
{
	struct iova_node *succ = node_next(n);

	succ->gap_lo = n->gap_lo;
	node_own(succ);
	if (n->left && n->right) {
		/* succ is the leftmost node of n's right subtree: it takes n's place. */
		struct iova_node *sp = succ->parent, *start;

		if (sp != n) {
			sp->left = succ->right;
			if (succ->right)
				succ->right->parent = sp;
			succ->right = n->right;
			n->right->parent = succ;
			start = sp;
		} else {
			start = succ;
		}
		succ->left = n->left;
		n->left->parent = succ;
		replace_child(d, n->parent, n, succ);
		retrace(d, start);
	} else {
		struct iova_node *c = n->left ? n->left : n->right;
		struct iova_node *p = n->parent;

		replace_child(d, p, n, c);
		/* With only a right child, that child is succ: pull it too. */
		retrace(d, c ? c : p);
	}
	d->nodes--;
}

/* private_find_iova: the node whose range holds @pfn. */
static struct iova_node *tree_find(const struct iommu_iova_domain *d, uint64_t pfn)
{
	struct iova_node *n = d->root;

	while (n) {
		if (pfn < n->pfn_lo)
			n = n->left;
		else if (pfn > n->pfn_hi)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

/* The lowest node whose pfn_hi >= @pfn (the anchor at worst). */
static struct iova_node *tree_first_hi_at_least(const struct iommu_iova_domain *d, uint64_t pfn)
{
	struct iova_node *n = d->root, *best = NULL;

	while (n) {
		if (n->pfn_hi >= pfn) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/*
 * The highest p with p & ~mask == 0, lo <= p, p + size <= hi, and
 * [p, p + size - 1] inside one gap: the answer of the kernel's downward
 * walk over the window [lo, hi) (doc/iova.md, "Why the answers match").
 */
struct fit_query {
	uint64_t lo, hi;        /* window, hi exclusive */
	uint64_t size, mask;
	int need;               /* a subtree below this max_order cannot hold a fit */
};

/* Gaps of the subtree at @n all lie in [lb, ub). */
static bool fit_search(const struct iova_node *n, uint64_t lb, uint64_t ub,
		       const struct fit_query *q, uint64_t *out)
{
	while (n) {
		uint64_t glo, ghi, p;

		if (n->max_gap < q->size || n->max_order < q->need)
			return false;
		if (lb >= q->hi || ub <= q->lo || ub < q->size)
			return false;
		/* Right first: the highest fit wins.  Only the anchor has
		 * pfn_hi == ~0, and it has no right child. */
		if (n->right && fit_search(n->right, n->pfn_hi + 1, ub, q, out))
			return true;
		glo = n->gap_lo > q->lo ? n->gap_lo : q->lo;
		ghi = min_u64(n->pfn_lo, q->hi);
		if (ghi >= q->size) {
			p = (ghi - q->size) & q->mask;
			if (p >= glo) {
				*out = p;
				return true;
			}
		}
		ub = n->pfn_lo;
		n = n->left;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* The tree-level allocator (called with d->lock held)                  */

/* __cached_rbnode_delete_update, then the erase: remove_iova. */
static void remove_locked(struct iommu_iova_domain *d, struct iova_node *f)
{
	struct iova_node *c32 = d->cached32_node;

	if (f == c32 || (f->pfn_hi < d->dma_32bit_pfn && f->pfn_lo >= c32->pfn_lo))
		d->cached32_node = node_next(f);
	if (f->pfn_lo < d->dma_32bit_pfn)
		d->max32_alloc_size = d->dma_32bit_pfn;
	if (f->pfn_lo >= d->cached_node->pfn_lo)
		d->cached_node = node_next(f);
	tree_erase(d, f);
	node_free(d, f);
	d->tree_frees++;
}

/* __alloc_and_insert_iova_range with @limit_pfn inclusive (< ~0). */
static int alloc_locked(struct iommu_iova_domain *d, uint64_t size, uint64_t limit_pfn,
			bool size_aligned, uint64_t *pfn_lo)
{
	uint64_t bound = limit_pfn + 1, retry_pfn, pfn = 0;
	unsigned a = size_aligned ? fls64(size - 1) : 0;
	struct fit_query q;
	struct iova_node *c, *n;
	bool found;

	if (bound <= d->dma_32bit_pfn && size >= d->max32_alloc_size)
		return -ENOMEM;         /* the fast fail: no state changes */
	n = node_alloc(d);
	if (!n)
		return -ENOMEM;
	c = bound <= d->dma_32bit_pfn ? d->cached32_node : d->cached_node;
	retry_pfn = c->pfn_hi;

	q.size = size;
	q.mask = ~((UINT64_C(1) << a) - 1);
	/* A block that is its own alignment fits iff its order does; a
	 * non-power-of-two size s, 2^(a-1) < s < 2^a, needs at least an
	 * aligned 2^(a-1) block at the start of its slot. */
	q.need = (!size_aligned || size == UINT64_C(1) << a) ? (int)a : (int)a - 1;
	/* First pass: below the cached node, down to start_pfn. */
	q.lo = d->start_pfn;
	q.hi = min_u64(bound, c->pfn_lo);
	found = fit_search(d->root, 0, UINT64_MAX, &q, &pfn);
	/* The retry: the space above the cached node, up to the limit. */
	if (!found && retry_pfn < bound) {
		q.lo = retry_pfn + 1;
		q.hi = bound;
		found = fit_search(d->root, 0, UINT64_MAX, &q, &pfn);
	}
	if (!found) {
		d->max32_alloc_size = size;     /* even for 64-bit requests, as the kernel */
		node_free(d, n);
		return -ENOMEM;
	}
	n->pfn_lo = pfn;
	n->pfn_hi = pfn + size - 1;
	tree_insert(d, n);
	/* __cached_rbnode_insert_update */
	if (n->pfn_hi < d->dma_32bit_pfn)
		d->cached32_node = n;
	else
		d->cached_node = n;
	d->tree_allocs++;
	*pfn_lo = pfn;
	return 0;
}

static int free_locked(struct iommu_iova_domain *d, uint64_t pfn)
{
	struct iova_node *n = tree_find(d, pfn);

	if (!n || n == d->anchor)
		return -ENOENT;
	remove_locked(d, n);
	return 0;
}

/* reserve_iova: the kernel's loop over the overlapping nodes. */
static int reserve_locked(struct iommu_iova_domain *d, uint64_t pfn_lo, uint64_t pfn_hi)
{
	struct iova_node *n;
	bool overlap = false;

	for (n = tree_first_hi_at_least(d, pfn_lo); n; n = node_next(n)) {
		if (pfn_lo <= n->pfn_hi && pfn_hi >= n->pfn_lo) {
			/* __adjust_overlap_range: the node grows down to the
			 * request, the request continues above the node. */
			if (pfn_lo < n->pfn_lo) {
				n->pfn_lo = pfn_lo;
				node_own(n);
				retrace(d, n);
			}
			if (pfn_hi > n->pfn_hi)
				pfn_lo = n->pfn_hi + 1;
			if (pfn_lo >= n->pfn_lo && pfn_hi <= n->pfn_hi)
				return 0;
			overlap = true;
		} else if (overlap || n->pfn_lo > pfn_hi) {
			break;
		}
	}
	n = node_alloc(d);
	if (!n)
		return -ENOMEM;
	n->pfn_lo = pfn_lo;
	n->pfn_hi = pfn_hi;
	tree_insert(d, n);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Magazines and the depot                                              */

static inline bool mag_full(const struct iova_magazine *m)
{
	return m && m->size == IOMMU_IOVA_MAG_SIZE;
}

static inline bool mag_empty(const struct iova_magazine *m)
{
	return !m || m->size == 0;
}

static struct iova_magazine *mag_new(void)
{
	struct iova_magazine *m = malloc(sizeof(*m));

	if (m) {
		m->size = 0;
		m->next = NULL;
	}
	return m;
}

/* iova_magazine_pop: from the top down, the first pfn <= @limit_pfn,
 * swapped with the last one to take it out; 0 when none qualifies. */
static inline uint64_t mag_pop(struct iova_magazine *m, uint64_t limit_pfn)
{
	unsigned i = m->size - 1;
	uint64_t pfn;

	while (m->pfns[i] > limit_pfn) {
		if (i == 0)
			return 0;
		i--;
	}
	pfn = m->pfns[i];
	m->pfns[i] = m->pfns[--m->size];
	return pfn;
}

/* With rc->lock held. */
static struct iova_magazine *depot_pop(struct iova_rcache *rc)
{
	struct iova_magazine *m = rc->depot;

	rc->depot = m->next;
	rc->depot_size--;
	m->next = NULL;
	return m;
}

static void depot_push(struct iova_rcache *rc, struct iova_magazine *m)
{
	m->next = rc->depot;
	rc->depot = m;
	rc->depot_size++;
}

static void spare_put(struct iova_rcache *rc, struct iova_magazine *m)
{
	if (!m)
		return;
	if (rc->nr_spare >= SPARE_MAGS_MAX) {
		free(m);
		return;
	}
	m->size = 0;
	m->next = rc->spare;
	rc->spare = m;
	rc->nr_spare++;
}

static struct iova_magazine *spare_get(struct iova_rcache *rc)
{
	struct iova_magazine *m = rc->spare;

	if (!m)
		return mag_new();
	rc->spare = m->next;
	rc->nr_spare--;
	m->next = NULL;
	return m;
}

/* iova_magazine_free_pfns, with d->lock held: in magazine order. */
static void mag_free_pfns_locked(struct iommu_iova_domain *d, struct iova_magazine *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->size; i++) {
		struct iova_node *n = tree_find(d, m->pfns[i]);

		/* The kernel WARNs and goes on: a pfn freed twice, or one
		 * that free_iova() already took back. */
		if (n && n != d->anchor)
			remove_locked(d, n);
	}
	m->size = 0;
}

/* __iova_rcache_insert, the part after the loaded magazine was found
 * full (or missing), with cc->lock held; releases it. */
static __attribute__((noinline)) bool rcache_insert_slow(struct iova_cpu_rcache *cc,
							 struct iova_rcache *rc, uint64_t pfn)
{
	struct iova_magazine *t;
	bool ok = false;

	if (!mag_full(cc->loaded)) {
		ok = true;
	} else if (!mag_full(cc->prev)) {
		t = cc->prev;
		cc->prev = cc->loaded;
		cc->loaded = t;
		ok = true;
	} else {
		iova_lock(&rc->lock);
		t = spare_get(rc);
		if (t) {
			depot_push(rc, cc->loaded);
			cc->loaded = t;
			ok = true;
		}
		iova_unlock(&rc->lock);
	}
	if (ok && !cc->loaded) {
		cc->loaded = mag_new();
		ok = cc->loaded != NULL;
	}
	if (ok)
		cc->loaded->pfns[cc->loaded->size++] = pfn;
	iova_unlock(&cc->lock);
	return ok;
}

/* __iova_rcache_insert: the common case is a push on the loaded one. */
static inline bool rcache_insert(struct iommu_iova_domain *d, unsigned cpu, unsigned order,
				 uint64_t pfn)
{
	struct iova_cpu_rcache *cc = &d->cpu[cpu][order];
	struct iova_magazine *m;

	iova_lock(&cc->lock);
	m = cc->loaded;
	if (__builtin_expect(!m || m->size == IOMMU_IOVA_MAG_SIZE, 0))
		return rcache_insert_slow(cc, &d->rcaches[order], pfn);
	m->pfns[m->size++] = pfn;
	iova_unlock(&cc->lock);
	return true;
}

/* __iova_rcache_get after the loaded magazine was found empty, with
 * cc->lock held; releases it. */
static __attribute__((noinline)) uint64_t rcache_get_slow(struct iova_cpu_rcache *cc,
							  struct iova_rcache *rc,
							  uint64_t limit_pfn)
{
	struct iova_magazine *t;
	bool has_pfn = false;
	uint64_t pfn = 0;

	if (!mag_empty(cc->prev)) {
		t = cc->prev;
		cc->prev = cc->loaded;
		cc->loaded = t;
		has_pfn = true;
	} else {
		iova_lock(&rc->lock);
		if (rc->depot) {
			spare_put(rc, cc->loaded);
			cc->loaded = depot_pop(rc);
			has_pfn = true;
		}
		iova_unlock(&rc->lock);
	}
	if (has_pfn)
		pfn = mag_pop(cc->loaded, limit_pfn);
	if (pfn)
		cc->hits++;
	iova_unlock(&cc->lock);
	return pfn;
}

/* __iova_rcache_get, @limit_pfn the highest pfn_lo acceptable. */
static inline uint64_t rcache_get(struct iommu_iova_domain *d, unsigned cpu, unsigned order,
				  uint64_t limit_pfn)
{
	struct iova_cpu_rcache *cc = &d->cpu[cpu][order];
	struct iova_magazine *m;
	uint64_t pfn;

	iova_lock(&cc->lock);
	m = cc->loaded;
	if (__builtin_expect(mag_empty(m), 0))
		return rcache_get_slow(cc, &d->rcaches[order], limit_pfn);
	pfn = mag_pop(m, limit_pfn);
	cc->hits += pfn != 0;
	iova_unlock(&cc->lock);
	return pfn;
}

/* ------------------------------------------------------------------ */
/* The API                                                              */

int iommu_iova_domain_create(uint64_t granule, uint64_t start_pfn,
			     struct iommu_iova_domain **out)
{
	struct iommu_iova_domain *d;
	size_t sz;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!granule || (granule & (granule - 1)) || granule > IOVA_GRANULE_MAX)
		return -EINVAL;
	sz = (sizeof(*d) + CACHELINE - 1) & ~(size_t)(CACHELINE - 1);
	d = aligned_alloc(CACHELINE, sz);
	if (!d)
		return -ENOMEM;
	memset(d, 0, sz);
	d->granule = granule;
	d->shift = (unsigned)__builtin_ctzll(granule);
	if (start_pfn > (UINT64_MAX >> d->shift) || start_pfn == IOVA_ANCHOR) {
		free(d);
		return -EINVAL;
	}
	d->start_pfn = start_pfn;
	d->dma_32bit_pfn = UINT64_C(1) << (32 - d->shift);
	d->max32_alloc_size = d->dma_32bit_pfn;
	d->anchor = node_alloc(d);
	if (!d->anchor) {
		free(d);
		return -ENOMEM;
	}
	d->anchor->pfn_lo = d->anchor->pfn_hi = IOVA_ANCHOR;
	tree_insert(d, d->anchor);
	d->cached_node = d->cached32_node = d->anchor;
	*out = d;
	return 0;
}

void iommu_iova_domain_destroy(struct iommu_iova_domain *d)
{
	if (!d)
		return;
	for (unsigned o = 0; o < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct iova_rcache *rc = &d->rcaches[o];

		for (unsigned c = 0; c < IOMMU_IOVA_MAX_CPUS; c++) {
			free(d->cpu[c][o].loaded);
			free(d->cpu[c][o].prev);
		}
		while (rc->depot)
			free(depot_pop(rc));
		while (rc->spare) {
			struct iova_magazine *m = rc->spare;

			rc->spare = m->next;
			free(m);
		}
	}
	while (d->chunks) {
		struct iova_node_chunk *c = d->chunks;

		d->chunks = c->next;
		free(c);
	}
	free(d);
}

unsigned iommu_iova_shift(const struct iommu_iova_domain *d)
{
	return d ? d->shift : 0;
}

int iommu_iova_alloc(struct iommu_iova_domain *d, uint64_t size, uint64_t limit_pfn,
		     bool size_aligned, uint64_t *pfn_lo)
{
	int ret;

	if (!d || !pfn_lo || !size || limit_pfn == UINT64_MAX ||
	    (size_aligned && size > (UINT64_C(1) << 63)))
		return -EINVAL;
	iova_lock(&d->lock);
	ret = alloc_locked(d, size, limit_pfn, size_aligned, pfn_lo);
	iova_unlock(&d->lock);
	return ret;
}

int iommu_iova_free(struct iommu_iova_domain *d, uint64_t pfn)
{
	int ret;

	if (!d)
		return -EINVAL;
	iova_lock(&d->lock);
	ret = free_locked(d, pfn);
	iova_unlock(&d->lock);
	return ret;
}

int iommu_iova_find(struct iommu_iova_domain *d, uint64_t pfn, uint64_t *lo, uint64_t *hi)
{
	struct iova_node *n;
	int ret = -ENOENT;

	if (!d)
		return -EINVAL;
	iova_lock(&d->lock);
	n = tree_find(d, pfn);
	if (n && n != d->anchor) {
		if (lo)
			*lo = n->pfn_lo;
		if (hi)
			*hi = n->pfn_hi;
		ret = 0;
	}
	iova_unlock(&d->lock);
	return ret;
}

int iommu_iova_reserve(struct iommu_iova_domain *d, uint64_t pfn_lo, uint64_t pfn_hi)
{
	int ret;

	/* The kernel refuses pfns no address can have; the anchor's pfn
	 * (only reachable with a 1-byte granule) is refused as well. */
	if (!d || pfn_lo > pfn_hi || ((pfn_lo | pfn_hi) > (UINT64_MAX >> d->shift)) ||
	    pfn_hi == IOVA_ANCHOR)
		return -EINVAL;
	iova_lock(&d->lock);
	ret = reserve_locked(d, pfn_lo, pfn_hi);
	iova_unlock(&d->lock);
	return ret;
}

void iommu_iova_free_cpu_cached(struct iommu_iova_domain *d, unsigned cpu)
{
	if (!d || cpu >= IOMMU_IOVA_MAX_CPUS)
		return;
	for (unsigned o = 0; o < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct iova_cpu_rcache *cc = &d->cpu[cpu][o];

		iova_lock(&cc->lock);
		if (!mag_empty(cc->loaded) || !mag_empty(cc->prev)) {
			iova_lock(&d->lock);
			mag_free_pfns_locked(d, cc->loaded);
			mag_free_pfns_locked(d, cc->prev);
			iova_unlock(&d->lock);
		}
		iova_unlock(&cc->lock);
	}
}

void iommu_iova_free_global_cached(struct iommu_iova_domain *d)
{
	if (!d)
		return;
	for (unsigned o = 0; o < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct iova_rcache *rc = &d->rcaches[o];

		iova_lock(&rc->lock);
		while (rc->depot) {
			struct iova_magazine *m = depot_pop(rc);

			iova_lock(&d->lock);
			mag_free_pfns_locked(d, m);
			iova_unlock(&d->lock);
			free(m);
		}
		iova_unlock(&rc->lock);
	}
}

void iommu_iova_depot_reclaim(struct iommu_iova_domain *d, unsigned online_cpus)
{
	if (!d)
		return;
	for (unsigned o = 0; o < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct iova_rcache *rc = &d->rcaches[o];

		/* Each run of iova_depot_work_func pops one magazine and
		 * reschedules itself while the depot is above the CPU count. */
		for (;;) {
			struct iova_magazine *m = NULL;

			iova_lock(&rc->lock);
			if (rc->depot_size > online_cpus)
				m = depot_pop(rc);
			iova_unlock(&rc->lock);
			if (!m)
				break;
			iova_lock(&d->lock);
			mag_free_pfns_locked(d, m);
			iova_unlock(&d->lock);
			free(m);
		}
	}
}

/* alloc_iova_fast past the magazines: the tree, and the flush and retry. */
static __attribute__((noinline)) uint64_t alloc_fast_slow(struct iommu_iova_domain *d,
							  uint64_t size, uint64_t limit_pfn,
							  bool flush_rcache)
{
	uint64_t pfn;
	int ret;

	for (bool first = true;; first = false) {
		iova_lock(&d->lock);
		d->fast_misses += first;
		ret = alloc_locked(d, size, limit_pfn, true, &pfn);
		iova_unlock(&d->lock);
		if (!ret)
			return pfn;
		if (!flush_rcache)
			return 0;
		/* Try replenishing IOVAs by flushing every cache. */
		flush_rcache = false;
		for (unsigned c = 0; c < IOMMU_IOVA_MAX_CPUS; c++)
			iommu_iova_free_cpu_cached(d, c);
		iommu_iova_free_global_cached(d);
	}
}

uint64_t iommu_iova_alloc_fast(struct iommu_iova_domain *d, unsigned cpu, uint64_t size,
			       uint64_t limit_pfn, bool flush_rcache)
{
	unsigned order;
	uint64_t pfn;

	if (__builtin_expect(!d || cpu >= IOMMU_IOVA_MAX_CPUS || !size ||
			     limit_pfn == UINT64_MAX || size > (UINT64_C(1) << 63), 0))
		return 0;
	/* Cacheable sizes are rounded up so that a range freed into a
	 * magazine serves every size of its order (order_base_2 of the
	 * rounded size is the order of the size asked for). */
	order = order_base_2(size);
	if (size < (UINT64_C(1) << (IOMMU_IOVA_RANGE_CACHE_MAX_SIZE - 1)))
		size = UINT64_C(1) << order;
	/* iova_rcache_get(size, limit_pfn + 1): the pfn must satisfy
	 * pfn <= limit_pfn + 1 - size.  The kernel's subtraction wraps when
	 * the limit is below the size and would accept any cached pfn; such
	 * a request goes to the tree here, which refuses it. */
	if (__builtin_expect(order < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE && limit_pfn + 1 >= size, 1)) {
		pfn = rcache_get(d, cpu, order, limit_pfn + 1 - size);
		if (__builtin_expect(pfn != 0, 1))
			return pfn;
	}
	return alloc_fast_slow(d, size, limit_pfn, flush_rcache);
}

static __attribute__((noinline)) void free_fast_slow(struct iommu_iova_domain *d, uint64_t pfn)
{
	if (!d || pfn == IOVA_ANCHOR)
		return;
	iova_lock(&d->lock);
	free_locked(d, pfn);
	iova_unlock(&d->lock);
}

void iommu_iova_free_fast(struct iommu_iova_domain *d, unsigned cpu, uint64_t pfn, uint64_t size)
{
	unsigned order = order_base_2(size);

	if (__builtin_expect(d && cpu < IOMMU_IOVA_MAX_CPUS && order < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE &&
			     pfn != IOVA_ANCHOR, 1) &&
	    __builtin_expect(rcache_insert(d, cpu, order, pfn), 1))
		return;
	free_fast_slow(d, pfn);
}

static atomic_uint iova_next_slot;
static _Thread_local unsigned iova_slot_plus1;

unsigned iommu_iova_this_cpu(void)
{
	unsigned s = iova_slot_plus1;

	if (__builtin_expect(!s, 0)) {
		s = atomic_fetch_add_explicit(&iova_next_slot, 1, memory_order_relaxed) %
			    IOMMU_IOVA_MAX_CPUS + 1;
		iova_slot_plus1 = s;
	}
	return s - 1;
}

void iommu_iova_get_stats(struct iommu_iova_domain *d, struct iommu_iova_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!d)
		return;
	iova_lock(&d->lock);
	st->live_ranges = d->nodes - 1;
	st->rcache_misses = d->fast_misses;
	st->tree_allocs = d->tree_allocs;
	st->tree_frees = d->tree_frees;
	iova_unlock(&d->lock);
	for (unsigned o = 0; o < IOMMU_IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct iova_rcache *rc = &d->rcaches[o];

		iova_lock(&rc->lock);
		st->depot_magazines += rc->depot_size;
		for (struct iova_magazine *m = rc->depot; m; m = m->next)
			st->cached_ranges += m->size;
		iova_unlock(&rc->lock);
		for (unsigned c = 0; c < IOMMU_IOVA_MAX_CPUS; c++) {
			struct iova_cpu_rcache *cc = &d->cpu[c][o];

			iova_lock(&cc->lock);
			st->cached_ranges += (cc->loaded ? cc->loaded->size : 0) +
					     (cc->prev ? cc->prev->size : 0);
			st->rcache_hits += cc->hits;
			iova_unlock(&cc->lock);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Internal views for the tests (dma/iova_internal.h)                   */

void iova_debug_state(struct iommu_iova_domain *d, struct iova_debug_state *st)
{
	iova_lock(&d->lock);
	st->granule = d->granule;
	st->start_pfn = d->start_pfn;
	st->dma_32bit_pfn = d->dma_32bit_pfn;
	st->max32_alloc_size = d->max32_alloc_size;
	st->cached_lo = d->cached_node->pfn_lo;
	st->cached_hi = d->cached_node->pfn_hi;
	st->cached32_lo = d->cached32_node->pfn_lo;
	st->cached32_hi = d->cached32_node->pfn_hi;
	st->nodes = d->nodes;
	iova_unlock(&d->lock);
}

size_t iova_debug_ranges(struct iommu_iova_domain *d, uint64_t *lo, uint64_t *hi, size_t max)
{
	size_t k = 0;

	iova_lock(&d->lock);
	for (struct iova_node *n = node_first(d->root); n && n != d->anchor; n = node_next(n)) {
		if (k < max) {
			lo[k] = n->pfn_lo;
			hi[k] = n->pfn_hi;
		}
		k++;
	}
	iova_unlock(&d->lock);
	return k;
}

unsigned iova_debug_magazine(struct iommu_iova_domain *d, unsigned cpu, unsigned order,
			     bool prev, uint64_t *pfns)
{
	struct iova_cpu_rcache *cc = &d->cpu[cpu][order];
	struct iova_magazine *m;
	unsigned n = 0;

	iova_lock(&cc->lock);
	m = prev ? cc->prev : cc->loaded;
	if (m) {
		n = m->size;
		memcpy(pfns, m->pfns, n * sizeof(*pfns));
	}
	iova_unlock(&cc->lock);
	return n;
}

unsigned iova_debug_depot(struct iommu_iova_domain *d, unsigned order, unsigned idx,
			  uint64_t *pfns)
{
	struct iova_rcache *rc = &d->rcaches[order];
	struct iova_magazine *m;
	unsigned n, i = 0;

	iova_lock(&rc->lock);
	n = rc->depot_size;
	for (m = rc->depot; m && i < idx; m = m->next)
		i++;
	if (m && pfns)
		memcpy(pfns, m->pfns, m->size * sizeof(*pfns));
	iova_unlock(&rc->lock);
	return n;
}

static int check_fail(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int check_fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (msg && len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}

/* gap_order() the slow way, for the check: every k from the top. */
static int8_t gap_order_slow(uint64_t lo, uint64_t end)
{
	for (int k = 63; k >= 0; k--) {
		uint64_t a = UINT64_C(1) << k, start;

		if (lo > UINT64_MAX - (a - 1))
			continue;
		start = (lo + a - 1) & ~(a - 1);
		if (start < end && end - start >= a)
			return (int8_t)k;
	}
	return -1;
}

/* Returns the subtree height, or -1 after writing @msg. */
static int check_subtree(const struct iova_node *n, const struct iova_node *parent,
			 char *msg, size_t len)
{
	int hl, hr;
	uint64_t g;
	int8_t o;

	if (!n)
		return 0;
	if (n->parent != parent) {
		check_fail(msg, len, "node [%#llx, %#llx]: wrong parent link",
			   (unsigned long long)n->pfn_lo, (unsigned long long)n->pfn_hi);
		return -1;
	}
	hl = check_subtree(n->left, n, msg, len);
	if (hl < 0)
		return -1;
	hr = check_subtree(n->right, n, msg, len);
	if (hr < 0)
		return -1;
	g = n->pfn_lo - n->gap_lo;
	o = gap_order_slow(n->gap_lo, n->pfn_lo);
	if (n->left) {
		g = n->left->max_gap > g ? n->left->max_gap : g;
		o = n->left->max_order > o ? n->left->max_order : o;
	}
	if (n->right) {
		g = n->right->max_gap > g ? n->right->max_gap : g;
		o = n->right->max_order > o ? n->right->max_order : o;
	}
	if (n->order != gap_order_slow(n->gap_lo, n->pfn_lo) || n->max_gap != g || n->max_order != o ||
	    n->height != (hl > hr ? hl : hr) + 1 || hl - hr > 1 || hr - hl > 1) {
		check_fail(msg, len, "node [%#llx, %#llx]: stale height or gap summary",
			   (unsigned long long)n->pfn_lo, (unsigned long long)n->pfn_hi);
		return -1;
	}
	return n->height;
}

int iova_debug_check(struct iommu_iova_domain *d, char *msg, size_t len)
{
	const struct iova_node *n, *prev = NULL;
	bool c = false, c32 = false;
	uint64_t count = 0;
	int ret = 0;

	iova_lock(&d->lock);
	if (check_subtree(d->root, NULL, msg, len) < 0) {
		ret = -EUCLEAN;
		goto out;
	}
	for (n = node_first(d->root); n; prev = n, n = node_next(n)) {
		count++;
		if (n->pfn_lo > n->pfn_hi) {
			ret = check_fail(msg, len, "node [%#llx, %#llx]: inverted",
					 (unsigned long long)n->pfn_lo, (unsigned long long)n->pfn_hi);
			goto out;
		}
		if (prev ? (prev->pfn_hi >= n->pfn_lo || n->gap_lo != prev->pfn_hi + 1) : n->gap_lo) {
			ret = check_fail(msg, len, "node [%#llx, %#llx]: overlaps or wrong gap",
					 (unsigned long long)n->pfn_lo, (unsigned long long)n->pfn_hi);
			goto out;
		}
		c |= n == d->cached_node;
		c32 |= n == d->cached32_node;
	}
	if (prev != d->anchor || count != d->nodes || !c || !c32)
		ret = check_fail(msg, len, "anchor not last, node count %llu != %llu, or a cached "
				 "node not in the tree", (unsigned long long)count,
				 (unsigned long long)d->nodes);
out:
	iova_unlock(&d->lock);
	return ret;
}
