// SPDX-License-Identifier: MIT
/*
 * A software I/O page table for the domains of IOMMUs the project does
 * not model in hardware (AMD-Vi).  Its shape follows AMD's IOMMU v1
 * format (AMD IOMMU specification, "I/O Page Tables for Host
 * Translations"): six levels of 512 entries, level n's entries covering
 * 2^(12 + 9 (n - 1)) bytes, the top level indexed by IOVA bits 63:57.
 * A page of 2^order bytes is a leaf at the level whose entries are the
 * largest not above it, repeated over the 2^(order - shift) consecutive
 * entries it covers when it is bigger than one entry (the format's
 * "next level 7" pages), which is how the v1 table serves every power of
 * two the driver advertises (AMD_IOMMU_PGSIZES).
 *
 * The semantics are those of drivers/iommu/amd/io_pgtable.c as the core
 * sees them: a map overwrites what is there (alloc_pte replaces a large
 * page in the way with a table; free_clear_pte drops what an entry held),
 * a lookup answers with the whole page holding an address (fetch_pte),
 * an unmap removes that whole page.  Tables left empty stay until the
 * domain goes, as the kernel's v1 tables do (io_pgtable frees them only
 * in free_pgtable at domain free): a page mapped again where one was
 * unmapped costs no table allocation.
 * One deviation: a map over part of a bigger replicated page removes all
 * of that page's entries, where the kernel clears only those it writes
 * and leaves the rest of the old page mapped (a torn mapping).
 *
 * Entries are host words: 0 empty; a table is the child's address with
 * bit 0 set; a leaf is the page's host-physical base (aligned to its size,
 * at least 4 KiB) with bit 1 set, IOMMU_PROT_* in bits 3:2 and the order
 * in bits 9:4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "util/bits.h"

#define SW_LEVELS 6u
#define SW_PTES 512u
#define SW_STRIDE 9u
#define SW_PAGE_SHIFT 12u

#define SW_E_TABLE      IOMMU_BIT(0)
#define SW_E_LEAF       IOMMU_BIT(1)
#define SW_E_PROT       IOMMU_GENMASK(3, 2)
#define SW_E_ORDER      IOMMU_GENMASK(9, 4)
#define SW_E_ADDR       IOMMU_GENMASK(63, 12)
IOMMU_FIELDS_DISJOINT(SW_E_TABLE | SW_E_LEAF | SW_E_PROT | SW_E_ORDER, SW_E_ADDR);

_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "host pointers fit an entry");

struct sw_node {
	uint64_t e[SW_PTES];
	unsigned used;          /* entries not empty */
};

struct sw_pgtable {
	struct sw_node *top;
	uint64_t nodes;
};

static unsigned lvl_shift(unsigned level)
{
	return SW_PAGE_SHIFT + SW_STRIDE * (level - 1);
}

static unsigned lvl_index(uint64_t iova, unsigned level)
{
	return (unsigned)((iova >> lvl_shift(level)) & (SW_PTES - 1));
}

/* PAGE_SIZE_LEVEL: the level a page of 2^@order bytes lives at. */
static unsigned leaf_level(unsigned order)
{
	return (order - SW_PAGE_SHIFT) / SW_STRIDE + 1;
}

/* PAGE_SIZE_PTE_COUNT: entries one such page takes. */
static unsigned leaf_reps(unsigned order)
{
	return 1u << (order - lvl_shift(leaf_level(order)));
}

static bool is_table(uint64_t e)
{
	return e & SW_E_TABLE;
}

static struct sw_node *child(uint64_t e)
{
	return (struct sw_node *)(uintptr_t)(e & ~(uint64_t)SW_E_TABLE);
}

static unsigned e_order(uint64_t e)
{
	return (unsigned)IOMMU_FIELD_GET(SW_E_ORDER, e);
}

static struct sw_node *node_alloc(struct sw_pgtable *t)
{
	struct sw_node *n = calloc(1, sizeof(*n));

	if (n)
		t->nodes++;
	return n;
}

/* Free @n and everything below it; *@pages counts the pages it held
 * (each page once, at its first entry). */
static void node_free(struct sw_pgtable *t, struct sw_node *n, uint64_t *pages)
{
	for (unsigned i = 0; i < SW_PTES; i++) {
		uint64_t e = n->e[i];

		if (!e)
			continue;
		if (is_table(e))
			node_free(t, child(e), pages);
		else if (pages && (i & (leaf_reps(e_order(e)) - 1)) == 0)
			(*pages)++;
	}
	free(n);
	t->nodes--;
}

int sw_pgtable_create(struct sw_pgtable **out)
{
	struct sw_pgtable *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->top = node_alloc(t);
	if (!t->top) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void sw_pgtable_destroy(struct sw_pgtable *t)
{
	if (!t)
		return;
	node_free(t, t->top, NULL);
	free(t);
}

uint64_t sw_pgtable_nodes(const struct sw_pgtable *t)
{
	return t ? t->nodes : 0;
}

/* Clear the whole page whose entry is n->e[idx] (a leaf): every replica. */
static void clear_leaf(struct sw_node *n, unsigned idx)
{
	unsigned reps = leaf_reps(e_order(n->e[idx]));
	unsigned first = idx & ~(reps - 1);

	for (unsigned i = 0; i < reps; i++)
		if (n->e[first + i]) {
			n->e[first + i] = 0;
			n->used--;
		}
}

int sw_map_page(struct sw_pgtable *t, uint64_t iova, uint64_t paddr, unsigned order, int prot,
		uint64_t *replaced)
{
	struct sw_node *n;
	unsigned level, reps, first;
	uint64_t mask, leaf, dropped = 0;

	if (!t || order < SW_PAGE_SHIFT || order > 63)
		return -EINVAL;
	mask = (UINT64_C(1) << order) - 1;
	if ((iova | paddr) & mask)
		return -EINVAL;
	level = leaf_level(order);
	reps = leaf_reps(order);
	n = t->top;
	/* alloc_pte(): walk down, making tables; a large page in the way is
	 * replaced by a table (its mapping is gone). */
	for (unsigned l = SW_LEVELS; l > level; l--) {
		unsigned idx = lvl_index(iova, l);
		uint64_t e = n->e[idx];
		struct sw_node *c;

		if (e && is_table(e)) {
			n = child(e);
			continue;
		}
		if (e) {
			clear_leaf(n, idx);
			dropped++;
		}
		c = node_alloc(t);
		if (!c) {
			if (replaced)
				*replaced += dropped;
			return -ENOMEM;
		}
		n->e[idx] = (uint64_t)(uintptr_t)c | SW_E_TABLE;
		n->used++;
		n = c;
	}
	/* free_clear_pte() on each entry the page takes, then the page. */
	first = lvl_index(iova, level);
	for (unsigned i = 0; i < reps; i++) {
		uint64_t e = n->e[first + i];

		if (!e)
			continue;
		if (is_table(e)) {
			node_free(t, child(e), &dropped);
			n->e[first + i] = 0;
			n->used--;
		} else {
			/* A bigger replicated page goes whole; a smaller one lies
			 * inside the new page and goes too. */
			clear_leaf(n, first + i);
			dropped++;
		}
	}
	leaf = (paddr & SW_E_ADDR) | SW_E_LEAF |
	       IOMMU_FIELD_PREP(SW_E_PROT, (unsigned)prot & 3u) | IOMMU_FIELD_PREP(SW_E_ORDER, order);
	for (unsigned i = 0; i < reps; i++) {
		n->e[first + i] = leaf;
		n->used++;
	}
	if (replaced)
		*replaced += dropped;
	return 0;
}

int sw_lookup(const struct sw_pgtable *t, uint64_t iova, struct sw_leaf *out)
{
	const struct sw_node *n = t ? t->top : NULL;

	for (unsigned l = SW_LEVELS; n && l >= 1; l--) {
		uint64_t e = n->e[lvl_index(iova, l)];

		if (!e)
			return -ENOENT;
		if (is_table(e)) {
			n = child(e);
			continue;
		}
		if (out) {
			unsigned order = e_order(e);
			uint64_t mask = order >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << order) - 1;

			out->order = order;
			out->base = iova & ~mask;
			out->paddr = e & SW_E_ADDR & ~mask;
			out->prot = (int)IOMMU_FIELD_GET(SW_E_PROT, e);
		}
		return 0;
	}
	return -ENOENT;
}

uint64_t sw_unmap_page(struct sw_pgtable *t, uint64_t iova)
{
	struct sw_node *n;
	unsigned order;

	if (!t)
		return 0;
	n = t->top;
	for (unsigned l = SW_LEVELS; l >= 1; l--) {
		unsigned idx = lvl_index(iova, l);
		uint64_t e = n->e[idx];

		if (!e)
			return 0;
		if (is_table(e)) {
			n = child(e);
			continue;
		}
		order = e_order(e);
		clear_leaf(n, idx);
		return UINT64_C(1) << order;
	}
	return 0;
}

uint64_t sw_unmap_page_phys(struct sw_pgtable *t, uint64_t iova, uint64_t addr, bool at_iova,
			    uint64_t *phys)
{
	struct sw_node *n;

	*phys = 0;
	if (!t || (iova ^ addr) >> SW_PAGE_SHIFT)
		return 0;
	n = t->top;
	for (unsigned l = SW_LEVELS; l >= 1; l--) {
		unsigned idx = lvl_index(iova, l), order;
		uint64_t e = n->e[idx], mask;

		if (!e)
			return 0;
		if (is_table(e)) {
			n = child(e);
			continue;
		}
		/* fetch_pte's answer, as sw_lookup gives it to iova_to_phys */
		order = e_order(e);
		mask = order >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << order) - 1;
		*phys = (e & SW_E_ADDR & ~mask) + (addr & mask);
		if (!*phys || (at_iova && (iova & mask)))
			return 0;
		clear_leaf(n, idx);
		return UINT64_C(1) << order;
	}
	return 0;
}
