/* SPDX-License-Identifier: MIT */
/*
 * Modelled physical memory: sparse, page-granular, allocated on first
 * write.  The low IOMMU_MEM_FLAT_MAX bytes are one reserved host mapping
 * (the host commits a page when it is first touched), so a table read is
 * a load at base + address; above that, a two-level radix of page
 * pointers (a top slot per GiB, then the page pointer).  A bitmap keeps
 * which flat pages were written, so that iommu_mem_pages_allocated()
 * counts the same pages whichever part holds them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hw/hw_internal.h"

static void flat_reserve(struct iommu_mem *m)
{
	uint64_t len = m->size < IOMMU_MEM_FLAT_MAX ? m->size : IOMMU_MEM_FLAT_MAX;
	uint64_t words = ((len >> IOMMU_MEM_PAGE_SHIFT) + 63) / 64;
	void *p;

	if (len != (size_t)len)
		return;
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;     /* the radix covers everything */
#ifdef MADV_NOHUGEPAGE
	/* Page-granular like the model: a written page costs one host page. */
	(void)madvise(p, (size_t)len, MADV_NOHUGEPAGE);
#endif
	m->written = calloc(words, sizeof(*m->written));
	if (!m->written) {
		munmap(p, (size_t)len);
		return;
	}
	m->flat = p;
	m->flat_size = len;
}

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
	flat_reserve(m);
	if (m->flat_size < m->size) {
		m->top_entries = ((size_bytes - 1) >> IOMMU_MEM_TOP_SHIFT) + 1;
		m->top = calloc(m->top_entries, sizeof(*m->top));
		if (!m->top) {
			iommu_mem_destroy(m);
			return -ENOMEM;
		}
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
	for (uint64_t t = 0; m->top && t < m->top_entries; t++) {
		uint8_t **leaf = m->top[t];

		if (!leaf)
			continue;
		for (uint64_t i = 0, n = leaf_pages(m, t); i < n; i++)
			free(leaf[i]);
		free(leaf);
	}
	free(m->top);
	if (m->flat)
		munmap(m->flat, (size_t)m->flat_size);
	free(m->written);
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

/* Whether the page at @addr (< size) was ever written. */
static bool page_allocated(const struct iommu_mem *m, uint64_t addr)
{
	if (addr < m->flat_size) {
		uint64_t pfn = addr >> IOMMU_MEM_PAGE_SHIFT;

		return m->written[pfn / 64] & (UINT64_C(1) << (pfn % 64));
	}
	return iommu_mem__page(m, addr) != NULL;
}

/* The page at @addr (< size), allocated if needed; NULL on allocation
 * failure. */
static uint8_t *page_get(struct iommu_mem *m, uint64_t addr)
{
	uint64_t t = addr >> IOMMU_MEM_TOP_SHIFT;
	uint8_t ***slot;
	uint8_t **pp;

	if (addr < m->flat_size) {
		uint64_t pfn = addr >> IOMMU_MEM_PAGE_SHIFT;
		uint64_t *w = &m->written[pfn / 64], bit = UINT64_C(1) << (pfn % 64);

		if (!(*w & bit)) {
			*w |= bit;
			m->pages++;
		}
		return m->flat + (addr & ~(uint64_t)IOMMU_MEM_PAGE_MASK);
	}
	slot = &m->top[t];
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

void *iommu_mem_page_ptr(struct iommu_mem *m, uint64_t addr)
{
	if (!m || addr >= m->size)
		return NULL;
	return page_get(m, addr);
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
		if (byte == 0 && !page_allocated(m, addr)) {
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
