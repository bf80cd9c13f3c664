/* SPDX-License-Identifier: MIT */
/*
 * Modelled physical memory: sparse, page-granular, allocated on first
 * write.  Lookup is two dependent loads (a top slot per GiB, then the page
 * pointer), so a table walk's memory reads stay close to the cost of the
 * loads themselves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"

int iommu_mem_create(uint64_t size_bytes, struct iommu_mem **out)
{
	struct iommu_mem *m;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (size_bytes == 0 || size_bytes > IOMMU_MEM_MAX_SIZE ||
	    (size_bytes & (IOMMU_MEM_PAGE_SIZE - 1)))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->size = size_bytes;
	m->top_entries = ((size_bytes - 1) >> IOMMU_MEM_TOP_SHIFT) + 1;
	m->top = calloc(m->top_entries, sizeof(*m->top));
	if (!m->top) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

/* Page slots in leaf @t: a full leaf, or what is left of the size (a
 * small memory does not pay for a whole GiB of slots). */
static uint64_t leaf_pages(const struct iommu_mem *m, uint64_t t)
{
	uint64_t pages = m->size >> IOMMU_MEM_PAGE_SHIFT;
	uint64_t first = t << IOMMU_MEM_LEAF_SHIFT;

	return pages - first < IOMMU_MEM_LEAF_PAGES ? pages - first
						    : IOMMU_MEM_LEAF_PAGES;
}

void iommu_mem_destroy(struct iommu_mem *m)
{
	if (!m)
		return;
	for (uint64_t t = 0; t < m->top_entries; t++) {
		uint8_t **leaf = m->top[t];

		if (!leaf)
			continue;
		for (uint64_t i = 0, n = leaf_pages(m, t); i < n; i++)
			free(leaf[i]);
		free(leaf);
	}
	free(m->top);
	free(m);
}

uint64_t iommu_mem_size(const struct iommu_mem *m)
{
	return m ? m->size : 0;
}

uint64_t iommu_mem_pages_allocated(const struct iommu_mem *m)
{
	return m ? m->pages : 0;
}

static bool range_ok(const struct iommu_mem *m, uint64_t addr, size_t len)
{
	return addr < m->size && len <= m->size - addr;
}

/* The page at @addr, allocated if needed; NULL on allocation failure. */
static uint8_t *page_get(struct iommu_mem *m, uint64_t addr)
{
	uint64_t t = addr >> IOMMU_MEM_TOP_SHIFT;
	uint8_t ***slot = &m->top[t];
	uint8_t **pp;

	if (!*slot) {
		*slot = calloc(leaf_pages(m, t), sizeof(**slot));
		if (!*slot)
			return NULL;
	}
	pp = &(*slot)[(addr >> IOMMU_MEM_PAGE_SHIFT) &
		      (IOMMU_MEM_LEAF_PAGES - 1)];
	if (!*pp) {
		*pp = calloc(1, IOMMU_MEM_PAGE_SIZE);
		if (!*pp)
			return NULL;
		m->pages++;
	}
	return *pp;
}

int iommu_mem_read(const struct iommu_mem *m, uint64_t addr, void *buf,
		   size_t len)
{
	uint8_t *out = buf;

	if (!m || (!buf && len))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!range_ok(m, addr, len))
		return -EFAULT;
	while (len) {
		size_t off = addr & (IOMMU_MEM_PAGE_SIZE - 1);
		size_t n = IOMMU_MEM_PAGE_SIZE - off;
		const uint8_t *pg = iommu_mem__page(m, addr);

		if (n > len)
			n = len;
		if (pg)
			memcpy(out, pg + off, n);
		else
			memset(out, 0, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int iommu_mem_write(struct iommu_mem *m, uint64_t addr, const void *buf,
		    size_t len)
{
	const uint8_t *in = buf;

	if (!m || (!buf && len))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!range_ok(m, addr, len))
		return -EFAULT;
	while (len) {
		size_t off = addr & (IOMMU_MEM_PAGE_SIZE - 1);
		size_t n = IOMMU_MEM_PAGE_SIZE - off;
		uint8_t *pg = page_get(m, addr);

		if (!pg)
			return -ENOMEM;
		if (n > len)
			n = len;
		memcpy(pg + off, in, n);
		in += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int iommu_mem_fill(struct iommu_mem *m, uint64_t addr, uint8_t byte,
		   size_t len)
{
	if (!m)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!range_ok(m, addr, len))
		return -EFAULT;
	while (len) {
		size_t off = addr & (IOMMU_MEM_PAGE_SIZE - 1);
		size_t n = IOMMU_MEM_PAGE_SIZE - off;
		uint8_t *pg;

		if (n > len)
			n = len;
		if (byte == 0 && !iommu_mem__page(m, addr)) {
			/* already zero; allocate nothing */
		} else {
			pg = page_get(m, addr);
			if (!pg)
				return -ENOMEM;
			memset(pg + off, byte, n);
		}
		addr += n;
		len -= n;
	}
	return 0;
}

int iommu_mem_read32(const struct iommu_mem *m, uint64_t addr, uint32_t *v)
{
	uint8_t b[4];
	int rc = iommu_mem_read(m, addr, b, sizeof(b));

	if (rc == 0 && v)
		*v = iommu_le32(b);
	return rc;
}

int iommu_mem_read64(const struct iommu_mem *m, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	int rc = iommu_mem_read(m, addr, b, sizeof(b));

	if (rc == 0 && v)
		*v = iommu_le64(b);
	return rc;
}

int iommu_mem_write32(struct iommu_mem *m, uint64_t addr, uint32_t v)
{
	uint8_t b[4];

	for (unsigned i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return iommu_mem_write(m, addr, b, sizeof(b));
}

int iommu_mem_write64(struct iommu_mem *m, uint64_t addr, uint64_t v)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return iommu_mem_write(m, addr, b, sizeof(b));
}
