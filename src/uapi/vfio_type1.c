// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 IOMMU backend (drivers/vfio/vfio_iommu_type1.c,
 * reference 8.3), over core domains (iommu/core.h).
 *
 *  - attach: an UNMANAGED domain per group, reused by later groups of the
 *    same IOMMU type and cache-coherency enforcement; the interrupt
 *    isolation check; the valid IOVA list as the domains' aperture minus
 *    every reserved region but the relaxable direct ones;
 *  - MAP_DMA: the kernel's checks in the kernel's order, then each page
 *    pinned (mm.c gives it a modelled physical frame) and mapped into
 *    every domain; RLIMIT_MEMLOCK; the dma_entry_limit;
 *  - UNMAP_DMA: v1 and v2 rules, the ALL and VADDR flags, the dirty
 *    bitmap;
 *  - GET_INFO with its capability chain (migration, DMA available, IOVA
 *    ranges), aligned to 8 bytes from 6.6 as the kernel does;
 *  - DIRTY_PAGES: every page of an IOMMU-mapped DMA is reported dirty
 *    (there are no hardware dirty bits on this path).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "uapi/internal.h"

#define DIRTY_BITMAP_PAGES_MAX ((uint64_t)INT_MAX)
#define DIRTY_BITMAP_BYTES(n) ((((n) + 63) / 64) * 8)
#define DIRTY_BITMAP_SIZE_MAX DIRTY_BITMAP_BYTES(DIRTY_BITMAP_PAGES_MAX)

struct type1_dma {
	struct uapi_tree_node node;     /* key: iova */
	uint64_t iova, vaddr, size;
	int prot;
	bool iommu_mapped;
	bool vaddr_invalid;
	bool lock_cap;
	uint64_t locked;                /* pages charged to locked_vm */
	struct uapi_pin_runs pins;      /* the frames pinned at MAP_DMA */
};

struct type1_domain {
	struct iommu_domain *domain;
	struct vfio_group **groups;
	size_t n_groups;
	bool enforce_cc;
};

struct iova_range {
	uint64_t start, end;    /* inclusive */
};

struct type1 {
	struct iommu_uapi *u;
	struct type1_domain **domains;  /* list_add order: newest first */
	size_t n_domains;
	struct iova_range *iova;
	size_t n_iova;
	struct uapi_tree dma_list;
	unsigned dma_avail;
	unsigned vaddr_invalid_count;
	uint64_t pgsize_bitmap;
	uint64_t num_non_pinned_groups;
	bool v2, nesting, dirty_page_tracking;
};

#define PAGE_MASK (~(uint64_t)(UAPI_PAGE_SIZE - 1))

static struct type1_dma *dma_of(struct uapi_tree_node *n)
{
	return n ? (struct type1_dma *)((char *)n - offsetof(struct type1_dma, node)) : NULL;
}

static unsigned ffs64(uint64_t v)
{
	return (unsigned)__builtin_ctzll(v);
}

/* vfio_find_dma's test, with the kernel's 64-bit wrap-around. */
static bool dma_overlaps(const struct type1_dma *d, uint64_t start, uint64_t size)
{
	return !(start + size <= d->iova) && !(start >= d->iova + d->size);
}

/*
 * vfio_find_dma: a mapping overlapping [start, start + size).  Mappings
 * never overlap, so the only candidate is the one with the greatest iova
 * below start + size.
 */
static struct type1_dma *find_dma(struct type1 *t, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	struct type1_dma *d;

	if (end == 0 && !size)
		return NULL;
	d = dma_of(uapi_tree_le(&t->dma_list, end ? end - 1 : UINT64_MAX));
	return d && dma_overlaps(d, start, size) ? d : NULL;
}

/* vfio_find_dma_first_node: the lowest mapping that ends after start,
 * unless it begins at or after start + size. */
static struct type1_dma *find_dma_first(struct type1 *t, uint64_t start, uint64_t size)
{
	struct uapi_tree_node *n = uapi_tree_le(&t->dma_list, start);
	struct type1_dma *d = dma_of(n);

	if (!d || !(start < d->iova + d->size))
		d = dma_of(n ? uapi_tree_next(n) : uapi_tree_first(&t->dma_list));
	if (d && !(start < d->iova + d->size))
		d = NULL;
	if (d && size && d->iova >= start + size)
		d = NULL;
	return d;
}

static void update_pgsize_bitmap(struct type1 *t)
{
	t->pgsize_bitmap = PAGE_MASK;
	for (size_t i = 0; i < t->n_domains; i++) {
		struct iommu_domain_geometry geo;

		iommu_domain_get_geometry(t->domains[i]->domain, &geo);
		t->pgsize_bitmap &= geo.pgsize_bitmap;
	}
	/* Some IOMMUs support sub-page sizes: take the page size instead. */
	if (t->pgsize_bitmap & ~PAGE_MASK) {
		t->pgsize_bitmap &= PAGE_MASK;
		t->pgsize_bitmap |= UAPI_PAGE_SIZE;
	}
}

/* ------------------------------------------------------------------ */
/* Pin and map                                                          */

/* vfio_iommu_map: the pinned frames into every domain, unwinding on
 * failure. */
static int map_all(struct type1 *t, struct type1_dma *d)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < t->n_domains; i++) {
		ret = uapi_map_runs(t->domains[i]->domain, d->iova, &d->pins, 0, d->pins.npages << UAPI_PAGE_SHIFT,
				    d->prot, false);
		if (ret)
			break;
	}
	if (ret)
		while (i-- > 0)
			iommu_unmap(t->domains[i]->domain, d->iova, d->pins.npages << UAPI_PAGE_SHIFT);
	return ret;
}

/* Unmap from every domain and unpin (vfio_unmap_unpin). */
static void unmap_unpin(struct type1 *t, struct type1_dma *d)
{
	if (d->iommu_mapped)
		for (size_t i = 0; i < t->n_domains; i++)
			iommu_unmap(t->domains[i]->domain, d->iova, d->size);
	uapi_mm_unpin_runs(t->u->mm, &d->pins);
	t->u->locked_vm -= d->locked;
	d->locked = 0;
	d->iommu_mapped = false;
}

/* vfio_remove_dma */
static void remove_dma(struct type1 *t, struct type1_dma *d)
{
	unmap_unpin(t, d);
	uapi_tree_erase(&t->dma_list, &d->node);
	free(d);
	t->dma_avail++;
}

/* vfio_pin_map_dma: pin the range, map its physically contiguous runs
 * (the engine in mm.c, shared with iommufd). */
static int pin_map_dma(struct type1 *t, struct type1_dma *d, uint64_t size)
{
	struct iommu_uapi *u = t->u;
	uint64_t npages = size >> UAPI_PAGE_SHIFT;
	int ret;

	/* pin_user_pages_remote on an address that is not mapped (or not
	 * writable for a device-writable mapping): -EFAULT. */
	ret = uapi_mm_check(u->mm, d->vaddr, size, d->prot & IOMMU_PROT_WRITE);
	if (ret)
		goto fail;
	/* vfio_pin_pages_remote's RLIMIT_MEMLOCK check, unless CAP_IPC_LOCK. */
	if (!d->lock_cap && u->memlock_limit != UINT64_MAX &&
	    u->locked_vm + npages > (u->memlock_limit >> UAPI_PAGE_SHIFT)) {
		uapi_log(u, "vfio_pin_pages_remote: RLIMIT_MEMLOCK (%llu) exceeded",
			 (unsigned long long)(u->memlock_limit & PAGE_MASK));
		ret = -ENOMEM;
		goto fail;
	}
	ret = uapi_mm_pin_runs(u->mm, d->vaddr, npages, d->prot & IOMMU_PROT_WRITE, &d->pins);
	if (ret)
		goto fail;
	d->locked = npages;
	u->locked_vm += npages;
	ret = map_all(t, d);
	if (ret)
		goto fail;
	d->size = size;
	d->iommu_mapped = true;
	return 0;
fail:
	/* A failure midway unwinds the whole mapping. */
	remove_dma(t, d);
	return ret;
}

/* ------------------------------------------------------------------ */
/* MAP_DMA                                                              */

static bool iova_dma_valid(struct type1 *t, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < t->n_iova; i++)
		if (start >= t->iova[i].start && end <= t->iova[i].end)
			return true;
	return t->n_iova == 0;
}

static long do_map(struct type1 *t, struct vfio_iommu_type1_dma_map *map)
{
	bool set_vaddr = map->flags & VFIO_DMA_MAP_FLAG_VADDR;
	uint64_t iova = map->iova, vaddr = map->vaddr, size = map->size, pgsize;
	struct type1_dma *d;
	int prot = 0;

	/* READ/WRITE from the device's point of view. */
	if (map->flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_PROT_WRITE;
	if (map->flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_PROT_READ;
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -EINVAL;
	pgsize = UINT64_C(1) << ffs64(t->pgsize_bitmap);
	if (!size || ((size | iova | vaddr) & (pgsize - 1)))
		return -EINVAL;
	/* Don't allow IOVA or virtual address wrap */
	if (iova + size - 1 < iova || vaddr + size - 1 < vaddr)
		return -EINVAL;
	d = find_dma(t, iova, size);
	if (set_vaddr) {
		if (!d)
			return -ENOENT;
		if (!d->vaddr_invalid || d->iova != iova || d->size != size)
			return -EINVAL;
		d->vaddr = vaddr;
		d->vaddr_invalid = false;
		t->vaddr_invalid_count--;
		return 0;
	}
	if (d)
		return -EEXIST;
	if (!t->dma_avail)
		return -ENOSPC;
	if (!iova_dma_valid(t, iova, iova + size - 1))
		return -EINVAL;
	if (t->dirty_page_tracking && size / pgsize > DIRTY_BITMAP_PAGES_MAX)
		return -EINVAL;     /* vfio_dma_bitmap_alloc after the map: nothing stays */
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	t->dma_avail--;
	d->iova = iova;
	d->vaddr = vaddr;
	d->prot = prot;
	d->lock_cap = t->u->ipc_lock;
	d->node.key = iova;
	/* Insert zero-sized and grow as we map chunks of it */
	uapi_tree_insert(&t->dma_list, &d->node);
	if (!t->n_domains) {
		d->size = size;
		return 0;
	}
	return pin_map_dma(t, d, size);
}

static long type1_map_dma(struct type1 *t, unsigned long arg)
{
	struct vfio_iommu_type1_dma_map map;
	uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_map, size) + sizeof(map.size);

	if (uapi_kernel_at_least(t->u, 5, 12))
		mask |= VFIO_DMA_MAP_FLAG_VADDR;
	if (uapi_copy_from_user(t->u, &map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || (map.flags & ~mask))
		return -EINVAL;
	return do_map(t, &map);
}

/* ------------------------------------------------------------------ */
/* UNMAP_DMA and dirty bitmaps                                          */

/*
 * update_user_bitmap for an IOMMU-mapped DMA: every page dirty.  The
 * kernel writes whole 64-bit words from the word holding the DMA's first
 * bit, keeping the bits below it (the "leftover") from the user's word.
 */
static int update_user_bitmap(struct type1 *t, uint64_t bitmap, struct type1_dma *d,
			      uint64_t base_iova, uint64_t pgsize)
{
	unsigned pgshift = ffs64(pgsize);
	uint64_t nbits = d->size >> pgshift;
	uint64_t bit_offset = (d->iova - base_iova) >> pgshift;
	uint64_t copy_offset = bit_offset / 64;
	unsigned shift = (unsigned)(bit_offset % 64);
	uint64_t words = DIRTY_BITMAP_BYTES(nbits + shift) / 8;
	uint64_t leftover = 0;

	if (!d->iommu_mapped && !t->num_non_pinned_groups)
		return 0;
	if (shift && uapi_copy_from_user(t->u, &leftover, bitmap + copy_offset * 8, 8))
		return -EFAULT;
	for (uint64_t w = 0; w < words; w++) {
		uint64_t first = w * 64, val = 0;

		/* bits [shift, shift + nbits) of the shifted bitmap */
		for (uint64_t b = 0; b < 64; b++) {
			uint64_t pos = first + b;

			if (pos >= shift && pos < shift + nbits)
				val |= UINT64_C(1) << b;
		}
		if (w == 0 && shift)
			val |= leftover & ((UINT64_C(1) << shift) - 1);
		if (uapi_copy_to_user(t->u, bitmap + (copy_offset + w) * 8, &val, 8))
			return -EFAULT;
	}
	return 0;
}

static int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

/* access_ok: the range must not wrap and must stay in user space. */
static bool access_ok(uint64_t addr, uint64_t size)
{
	return addr + size >= addr && addr + size <= UINT64_C(0x00007ffffffff000);
}

static long do_unmap(struct type1 *t, struct vfio_iommu_type1_dma_unmap *unmap,
		     struct vfio_bitmap *bitmap)
{
	bool unmap_all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	bool invalidate_vaddr = unmap->flags & VFIO_DMA_UNMAP_FLAG_VADDR;
	uint64_t iova = unmap->iova, size = unmap->size, unmapped = 0, pgsize;
	struct type1_dma *d, *first;
	long ret = -EINVAL;

	pgsize = UINT64_C(1) << ffs64(t->pgsize_bitmap);
	if (iova & (pgsize - 1))
		goto out;
	if (unmap_all) {
		if (iova || size)
			goto out;
		size = UINT64_MAX;
	} else if (!size || (size & (pgsize - 1)) || iova + size - 1 < iova) {
		goto out;
	}
	/* When dirty tracking is enabled, allow only min supported pgsize */
	if ((unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (!t->dirty_page_tracking || bitmap->pgsize != pgsize))
		goto out;
	/* v2: no mapping may be bisected by the range. */
	if (t->v2 && !unmap_all) {
		d = find_dma(t, iova, 1);
		if (d && d->iova != iova)
			goto out;
		d = find_dma(t, iova + size - 1, 0);
		if (d && d->iova + d->size != iova + size)
			goto out;
	}
	ret = 0;
	first = d = find_dma_first(t, iova, size);
	while (d) {
		struct type1_dma *next = dma_of(uapi_tree_next(&d->node));

		if (d->iova >= iova + size)
			break;
		/* v1: a request starting inside a mapping unmaps nothing. */
		if (!t->v2 && iova > d->iova)
			break;
		if (invalidate_vaddr) {
			if (d->vaddr_invalid) {
				/* undo the marks made so far */
				for (struct type1_dma *x = first; x && x != d;
				     x = dma_of(uapi_tree_next(&x->node))) {
					x->vaddr_invalid = false;
					t->vaddr_invalid_count--;
				}
				ret = -EINVAL;
				unmapped = 0;
				break;
			}
			d->vaddr_invalid = true;
			t->vaddr_invalid_count++;
			unmapped += d->size;
			d = next;
			continue;
		}
		if (unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
			ret = update_user_bitmap(t, (uint64_t)(uintptr_t)bitmap->data, d, iova, pgsize);
			if (ret)
				break;
		}
		unmapped += d->size;
		remove_dma(t, d);
		d = next;
	}
out:
	unmap->size = unmapped;
	return ret;
}

static long type1_unmap_dma(struct type1 *t, unsigned long arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap = { 0 };
	uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + sizeof(unmap.size);
	long ret;

	if (uapi_kernel_at_least(t->u, 5, 12))
		mask |= VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
	if (uapi_copy_from_user(t->u, &unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || (unmap.flags & ~mask))
		return -EINVAL;
	if ((unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (uapi_copy_from_user(t->u, &bitmap, arg + minsz, sizeof(bitmap)))
			return -EFAULT;
		if (!access_ok((uint64_t)(uintptr_t)bitmap.data, bitmap.size))
			return -EINVAL;
		if (!bitmap.pgsize)
			return -EINVAL;
		ret = verify_bitmap_size(unmap.size >> ffs64(bitmap.pgsize), bitmap.size);
		if (ret)
			return ret;
	}
	ret = do_unmap(t, &unmap, &bitmap);
	if (ret)
		return ret;
	return uapi_copy_to_user(t->u, arg, &unmap, minsz) ? -EFAULT : 0;
}

static long type1_dirty_pages(struct type1 *t, unsigned long arg)
{
	struct vfio_iommu_type1_dirty_bitmap dirty;
	uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	size_t minsz = offsetof(struct vfio_iommu_type1_dirty_bitmap, flags) + sizeof(dirty.flags);
	uint64_t pgsize = UINT64_C(1) << ffs64(t->pgsize_bitmap);

	if (!t->v2)
		return -EACCES;
	if (uapi_copy_from_user(t->u, &dirty, arg, minsz))
		return -EFAULT;
	if (dirty.argsz < minsz || (dirty.flags & ~mask))
		return -EINVAL;
	/* only one flag should be set at a time */
	if (!dirty.flags || (dirty.flags & (dirty.flags - 1)))
		return -EINVAL;
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
		if (!t->dirty_page_tracking) {
			for (struct uapi_tree_node *n = uapi_tree_first(&t->dma_list); n;
			     n = uapi_tree_next(n))
				if (dma_of(n)->size / pgsize > DIRTY_BITMAP_PAGES_MAX)
					return -EINVAL;
			t->dirty_page_tracking = true;
		}
		return 0;
	}
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		t->dirty_page_tracking = false;
		return 0;
	}
	{
		struct vfio_iommu_type1_dirty_bitmap_get range;
		uint64_t data_size = dirty.argsz - minsz;
		struct type1_dma *d;

		if (!data_size || data_size < sizeof(range))
			return -EINVAL;
		if (uapi_copy_from_user(t->u, &range, arg + minsz, sizeof(range)))
			return -EFAULT;
		if (range.iova + range.size < range.iova)
			return -EINVAL;
		if (!access_ok((uint64_t)(uintptr_t)range.bitmap.data, range.bitmap.size))
			return -EINVAL;
		if (!range.bitmap.pgsize)
			return -EINVAL;
		if (verify_bitmap_size(range.size >> ffs64(range.bitmap.pgsize), range.bitmap.size))
			return -EINVAL;
		/* allow only smallest supported pgsize */
		if (range.bitmap.pgsize != pgsize)
			return -EINVAL;
		if (range.iova & (pgsize - 1))
			return -EINVAL;
		if (!range.size || (range.size & (pgsize - 1)))
			return -EINVAL;
		if (!t->dirty_page_tracking)
			return -EINVAL;
		/* The range must fully cover the mappings it touches. */
		d = find_dma(t, range.iova, 1);
		if (d && d->iova != range.iova)
			return -EINVAL;
		d = find_dma(t, range.iova + range.size - 1, 0);
		if (d && d->iova + d->size != range.iova + range.size)
			return -EINVAL;
		for (struct uapi_tree_node *n = uapi_tree_first(&t->dma_list); n; n = uapi_tree_next(n)) {
			d = dma_of(n);
			if (d->iova < range.iova)
				continue;
			if (d->iova > range.iova + range.size - 1)
				break;
			if (update_user_bitmap(t, (uint64_t)(uintptr_t)range.bitmap.data, d, range.iova, pgsize))
				return -EFAULT;
		}
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* GET_INFO                                                             */

struct caps {
	uint8_t *buf;
	size_t size;
	size_t last;            /* offset of the last header, for its next */
};

/* vfio_info_cap_add: appended at the tail; from 6.6 each capability's
 * size is rounded up to 8 bytes ("vfio: align capability structures"). */
static int cap_add(struct iommu_uapi *u, struct caps *c, const void *cap, size_t size)
{
	size_t asize = uapi_kernel_at_least(u, 6, 6) ? (size + 7) & ~(size_t)7 : size;
	uint8_t *nb = realloc(c->buf, c->size + asize);
	struct vfio_info_cap_header h;

	if (!nb)
		return -ENOMEM;
	c->buf = nb;
	memset(nb + c->size, 0, asize);
	memcpy(nb + c->size, cap, size);
	memcpy(&h, nb + c->size, sizeof(h));
	h.next = 0;
	memcpy(nb + c->size, &h, sizeof(h));
	if (c->size) {
		memcpy(&h, nb + c->last, sizeof(h));
		h.next = (uint32_t)c->size;
		memcpy(nb + c->last, &h, sizeof(h));
	}
	c->last = c->size;
	c->size += asize;
	return 0;
}

/* vfio_info_cap_shift: every non-zero next moves by @offset. */
static void cap_shift(struct caps *c, size_t offset)
{
	size_t pos = 0;

	for (;;) {
		struct vfio_info_cap_header h;
		size_t next;

		memcpy(&h, c->buf + pos, sizeof(h));
		if (!h.next)
			break;
		next = h.next;
		h.next += (uint32_t)offset;
		memcpy(c->buf + pos, &h, sizeof(h));
		pos = next;
	}
}

static long type1_get_info(struct type1 *t, unsigned long arg)
{
	struct vfio_iommu_type1_info info;
	size_t minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) + sizeof(info.iova_pgsizes);
	size_t capsz = offsetof(struct vfio_iommu_type1_info, cap_offset) + sizeof(info.cap_offset);
	struct caps c = { 0 };
	int ret = 0;

	memset(&info, 0, sizeof(info));
	if (uapi_copy_from_user(t->u, &info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;    /* output, no-recopy necessary */
	}
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = t->pgsize_bitmap;
	if (uapi_kernel_at_least(t->u, 5, 8)) {
		struct vfio_iommu_type1_info_cap_migration m;

		memset(&m, 0, sizeof(m));
		m.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION;
		m.header.version = 1;
		m.flags = 0;
		/* support minimum pgsize */
		m.pgsize_bitmap = UINT64_C(1) << ffs64(t->pgsize_bitmap);
		m.max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX;
		ret = cap_add(t->u, &c, &m, sizeof(m));
	}
	if (!ret && uapi_kernel_at_least(t->u, 5, 10)) {
		struct vfio_iommu_type1_info_dma_avail a;

		memset(&a, 0, sizeof(a));
		a.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
		a.header.version = 1;
		a.avail = t->dma_avail;
		ret = cap_add(t->u, &c, &a, sizeof(a));
	}
	if (!ret && t->n_iova) {
		size_t size = sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
			      t->n_iova * sizeof(struct vfio_iova_range);
		struct vfio_iommu_type1_info_cap_iova_range *r = calloc(1, size);

		if (!r) {
			ret = -ENOMEM;
		} else {
			r->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
			r->header.version = 1;
			r->nr_iovas = (uint32_t)t->n_iova;
			for (size_t i = 0; i < t->n_iova; i++) {
				r->iova_ranges[i].start = t->iova[i].start;
				r->iova_ranges[i].end = t->iova[i].end;
			}
			ret = cap_add(t->u, &c, r, size);
			free(r);
		}
	}
	if (ret) {
		free(c.buf);
		return ret;
	}
	if (c.size) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + c.size) {
			info.argsz = (uint32_t)(sizeof(info) + c.size);
		} else {
			cap_shift(&c, sizeof(info));
			if (uapi_copy_to_user(t->u, arg + sizeof(info), c.buf, c.size)) {
				free(c.buf);
				return -EFAULT;
			}
			info.cap_offset = sizeof(info);
		}
		free(c.buf);
	}
	return uapi_copy_to_user(t->u, arg, &info, minsz) ? -EFAULT : 0;
}

/* ------------------------------------------------------------------ */
/* Attach and detach                                                    */

static struct type1_domain *domain_of_group(struct type1 *t, struct vfio_group *g,
					    size_t *index)
{
	for (size_t i = 0; i < t->n_domains; i++)
		for (size_t k = 0; k < t->domains[i]->n_groups; k++)
			if (t->domains[i]->groups[k] == g) {
				if (index)
					*index = k;
				return t->domains[i];
			}
	return NULL;
}

static int domain_add_group(struct type1_domain *d, struct vfio_group *g)
{
	struct vfio_group **ng = realloc(d->groups, (d->n_groups + 1) * sizeof(*ng));

	if (!ng)
		return -ENOMEM;
	d->groups = ng;
	/* list_add */
	memmove(d->groups + 1, d->groups, d->n_groups * sizeof(*ng));
	d->groups[0] = g;
	d->n_groups++;
	return 0;
}

/* Interrupt isolation: MSI remapping (irq_domain_check_msi_remap /
 * IOMMU_CAP_INTR_REMAP, later iommu_group_has_isolated_msi). */
bool uapi_msi_isolated(struct iommu_uapi *u)
{
	const struct iommu_system *s = u->s;
	const char *cmd = s->cmdline_line ? s->cmdline_line : "";

	if (strstr(cmd, "intremap=off") || strstr(cmd, "amd_iommu_intr=legacy") ||
	    strstr(cmd, "nointremap"))
		return false;
	if (s->driver == IOMMU_DRIVER_AMD)
		return true;
	if (s->driver != IOMMU_DRIVER_INTEL || !s->dmar)
		return false;
	/* intel_irq_remapping_supported: the DMAR's INTR_REMAP flag and
	 * ECAP.IR on every unit. */
	if (!(s->dmar->flags & IOMMU_DMAR_FLAG_INTR_REMAP))
		return false;
	for (size_t i = 0; i < s->n_units; i++) {
		uint64_t ecap = s->units[i].have_regs ? s->units[i].ecap : IOMMU_VTD_DEFAULT_ECAP;

		if (!s->units[i].ignored && !(ecap & (UINT64_C(1) << 3)))
			return false;
	}
	return true;
}

/* The domain's enforce_cache_coherency: VT-d needs snoop control
 * (ECAP.SC) on its unit; AMD's v1 table always enforces it. */
static bool domain_enforce_cc(struct iommu_uapi *u, struct iommu_domain *dom)
{
	const struct iommu_system *s = u->s;
	int unit = iommu_domain_unit(dom);

	if (s->driver == IOMMU_DRIVER_AMD)
		return true;
	if (unit < 0 || (size_t)unit >= s->n_units)
		return false;
	return ((s->units[unit].have_regs ? s->units[unit].ecap : IOMMU_VTD_DEFAULT_ECAP) >> 7) & 1;
}

static bool aper_conflict(struct type1 *t, uint64_t start, uint64_t end)
{
	struct iova_range *first, *last;

	if (!t->n_iova)
		return false;
	first = &t->iova[0];
	last = &t->iova[t->n_iova - 1];
	if (start > last->end || end < first->start)
		return true;
	if (start > first->start && find_dma(t, first->start, start - first->start))
		return true;
	if (end < last->end && find_dma(t, end + 1, last->end - end))
		return true;
	return false;
}

struct range_list {
	struct iova_range *r;
	size_t n;
};

static int rl_insert(struct range_list *l, size_t at, uint64_t s, uint64_t e)
{
	struct iova_range *nr = realloc(l->r, (l->n + 1) * sizeof(*nr));

	if (!nr)
		return -ENOMEM;
	l->r = nr;
	memmove(l->r + at + 1, l->r + at, (l->n - at) * sizeof(*nr));
	l->r[at] = (struct iova_range){ s, e };
	l->n++;
	return 0;
}

static void rl_del(struct range_list *l, size_t at)
{
	memmove(l->r + at, l->r + at + 1, (l->n - at - 1) * sizeof(*l->r));
	l->n--;
}

/* vfio_iommu_aper_resize */
static int aper_resize(struct range_list *l, uint64_t start, uint64_t end)
{
	size_t i;

	if (!l->n)
		return rl_insert(l, 0, start, end);
	/* Adjust iova list start */
	while (l->n) {
		if (start < l->r[0].start)
			break;
		if (start >= l->r[0].start && start < l->r[0].end) {
			l->r[0].start = start;
			break;
		}
		rl_del(l, 0);   /* nodes before the new start */
	}
	/* Adjust iova list end */
	for (i = 0; i < l->n;) {
		if (end > l->r[i].end) {
			i++;
			continue;
		}
		if (end > l->r[i].start && end <= l->r[i].end) {
			l->r[i].end = end;
			i++;
			continue;
		}
		rl_del(l, i);   /* nodes after the new end */
	}
	return 0;
}

static bool resv_excluded(const struct iommu_resv_region *r)
{
	return r->type != IOMMU_RESV_DIRECT_RELAXABLE;
}

/* vfio_iommu_resv_exclude */
static int resv_exclude(struct range_list *l, const struct iommu_resv_region *resv, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t start = resv[k].start, end = resv[k].end;

		if (!resv_excluded(&resv[k]))
			continue;
		for (size_t i = 0; i < l->n;) {
			struct iova_range cur = l->r[i];
			size_t at = i;
			int ret = 0;

			if (start > cur.end || end < cur.start) {
				i++;
				continue;
			}
			rl_del(l, i);
			if (start > cur.start)
				ret = rl_insert(l, at++, cur.start, start - 1);
			if (!ret && end < cur.end)
				ret = rl_insert(l, at++, end + 1, cur.end);
			if (ret)
				return ret;
			i = at;
		}
	}
	return l->n ? 0 : -EINVAL;
}

static bool resv_conflict(struct type1 *t, const struct iommu_resv_region *resv, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (resv_excluded(&resv[k]) &&
		    find_dma(t, resv[k].start, resv[k].end - resv[k].start + 1))
			return true;
	return false;
}

/* vfio_iommu_replay: map every existing DMA into a new domain, from the
 * frames already pinned. */
static int replay(struct type1 *t, struct type1_domain *nd)
{
	struct uapi_tree_node *n;
	int ret = 0;

	for (n = uapi_tree_first(&t->dma_list); n; n = uapi_tree_next(n)) {
		struct type1_dma *d = dma_of(n);

		if (!d->iommu_mapped)
			continue;
		ret = uapi_map_runs(nd->domain, d->iova, &d->pins, 0, d->size, d->prot, false);
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	/* unwind what was replayed before the failure */
	for (struct uapi_tree_node *m = uapi_tree_first(&t->dma_list); m != n; m = uapi_tree_next(m))
		if (dma_of(m)->iommu_mapped)
			iommu_unmap(nd->domain, dma_of(m)->iova, dma_of(m)->size);
	return ret;
}

static int type1_attach_group(void *data, struct vfio_group *g)
{
	struct type1 *t = data;
	struct iommu_uapi *u = t->u;
	struct iommu_group_info *ig = g->iommu_group;
	struct type1_domain *dom;
	struct iommu_domain_geometry geo;
	struct range_list copy = { 0 };
	int ret;

	if (!ig || domain_of_group(t, g, NULL))
		return -EINVAL;
	if (t->vaddr_invalid_count)
		return -EBUSY;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	ret = iommu_domain_alloc(u->s, ig, IOMMU_DOMAIN_UNMANAGED, &dom->domain);
	if (ret) {
		free(dom);
		return -EIO;    /* iommu_domain_alloc returned NULL */
	}
	if (t->nesting) {
		/* iommu_enable_nesting: neither the Intel nor the AMD driver
		 * implements it for these domains. */
		ret = -EINVAL;
		goto out_domain;
	}
	ret = iommu_attach_group(dom->domain, ig);
	if (ret)
		goto out_domain;
	iommu_domain_get_geometry(dom->domain, &geo);
	if (aper_conflict(t, geo.aperture_start, geo.aperture_end)) {
		ret = -EINVAL;
		goto out_detach;
	}
	if (resv_conflict(t, ig->resv, ig->n_resv)) {
		ret = -EINVAL;
		goto out_detach;
	}
	if (t->n_iova) {
		copy.r = malloc(t->n_iova * sizeof(*copy.r));
		if (!copy.r) {
			ret = -ENOMEM;
			goto out_detach;
		}
		memcpy(copy.r, t->iova, t->n_iova * sizeof(*copy.r));
		copy.n = t->n_iova;
	}
	ret = aper_resize(&copy, geo.aperture_start, geo.aperture_end);
	if (!ret)
		ret = resv_exclude(&copy, ig->resv, ig->n_resv);
	if (ret)
		goto out_detach;
	if (!u->allow_unsafe_interrupts && !uapi_msi_isolated(u)) {
		uapi_log(u, "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform");
		ret = -EPERM;
		goto out_detach;
	}
	dom->enforce_cc = domain_enforce_cc(u, dom->domain);
	ret = domain_add_group(dom, g);
	if (ret)
		goto out_detach;
	/* Try to match an existing compatible domain (same driver, same
	 * cache-coherency enforcement). */
	for (size_t i = 0; i < t->n_domains; i++) {
		struct type1_domain *d = t->domains[i];

		if (d->enforce_cc != dom->enforce_cc)
			continue;
		iommu_detach_group(dom->domain, ig);
		if (!iommu_attach_group(d->domain, ig)) {
			ret = domain_add_group(d, g);
			if (ret) {
				iommu_detach_group(d->domain, ig);
				goto out_domain;
			}
			iommu_domain_free(dom->domain);
			free(dom->groups);
			free(dom);
			goto done;
		}
		ret = iommu_attach_group(dom->domain, ig);
		if (ret)
			goto out_domain;
	}
	ret = replay(t, dom);
	if (ret)
		goto out_detach;
	{
		struct type1_domain **nd = realloc(t->domains, (t->n_domains + 1) * sizeof(*nd));

		if (!nd) {
			ret = -ENOMEM;
			goto out_detach;
		}
		t->domains = nd;
		memmove(t->domains + 1, t->domains, t->n_domains * sizeof(*nd));
		t->domains[0] = dom;
		t->n_domains++;
	}
	update_pgsize_bitmap(t);
done:
	free(t->iova);
	t->iova = copy.r;
	t->n_iova = copy.n;
	t->num_non_pinned_groups++;
	return 0;
out_detach:
	iommu_detach_group(dom->domain, ig);
out_domain:
	iommu_domain_free(dom->domain);
	free(dom->groups);
	free(dom);
	free(copy.r);
	return ret;
}

/* vfio_iommu_aper_expand and vfio_iommu_resv_refresh after a domain or
 * group went: the aperture of the remaining domains minus their groups'
 * reserved regions. */
static void refresh_iova(struct type1 *t)
{
	struct range_list l = { 0 };
	uint64_t start = 0, end = UINT64_MAX;

	if (!t->n_iova)
		return;
	if (t->n_domains) {
		for (size_t i = 0; i < t->n_domains; i++) {
			struct iommu_domain_geometry geo;

			iommu_domain_get_geometry(t->domains[i]->domain, &geo);
			if (geo.aperture_start > start)
				start = geo.aperture_start;
			if (geo.aperture_end < end)
				end = geo.aperture_end;
		}
	} else {
		start = t->iova[0].start;
		end = t->iova[t->n_iova - 1].end;
	}
	if (aper_resize(&l, start, end))
		return;
	for (size_t i = 0; i < t->n_domains; i++)
		for (size_t k = 0; k < t->domains[i]->n_groups; k++) {
			struct iommu_group_info *ig = t->domains[i]->groups[k]->iommu_group;

			if (resv_exclude(&l, ig->resv, ig->n_resv)) {
				free(l.r);
				return;
			}
		}
	free(t->iova);
	t->iova = l.r;
	t->n_iova = l.n;
}

static void type1_detach_group(void *data, struct vfio_group *g)
{
	struct type1 *t = data;
	size_t gi;
	struct type1_domain *dom = domain_of_group(t, g, &gi);

	if (!dom)
		return;
	iommu_detach_group(dom->domain, g->iommu_group);
	memmove(dom->groups + gi, dom->groups + gi + 1, (dom->n_groups - gi - 1) * sizeof(*dom->groups));
	dom->n_groups--;
	if (!dom->n_groups) {
		size_t di;

		/* The last IOMMU-backed domain: all mappings go. */
		if (t->n_domains == 1)
			while (uapi_tree_first(&t->dma_list))
				remove_dma(t, dma_of(uapi_tree_first(&t->dma_list)));
		for (di = 0; t->domains[di] != dom; di++)
			;
		memmove(t->domains + di, t->domains + di + 1, (t->n_domains - di - 1) * sizeof(*t->domains));
		t->n_domains--;
		iommu_domain_free(dom->domain);
		free(dom->groups);
		free(dom);
		update_pgsize_bitmap(t);
	}
	refresh_iova(t);
	t->num_non_pinned_groups--;
}

/* ------------------------------------------------------------------ */
/* The backend                                                          */

static long type1_check_extension(struct iommu_uapi *u, void *data, unsigned long arg)
{
	struct type1 *t = data;

	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_TYPE1_NESTING_IOMMU:
		return 1;
	case VFIO_UNMAP_ALL:
		return uapi_kernel_at_least(u, 5, 12) ? 1 : 0;
	case VFIO_UPDATE_VADDR:
		/* only with a container and no emulated (mdev) group */
		return uapi_kernel_at_least(u, 5, 12) && t ? 1 : 0;
	case VFIO_DMA_CC_IOMMU:
		if (!t)
			return 0;
		for (size_t i = 0; i < t->n_domains; i++)
			if (!t->domains[i]->enforce_cc)
				return 0;
		return 1;
	default:
		return 0;
	}
}

static int type1_open(struct iommu_uapi *u, unsigned long arg, void **data)
{
	struct type1 *t;

	if (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU && arg != VFIO_TYPE1_NESTING_IOMMU)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->u = u;
	t->v2 = arg != VFIO_TYPE1_IOMMU;
	t->nesting = arg == VFIO_TYPE1_NESTING_IOMMU;
	t->dma_avail = u->dma_entry_limit;
	t->pgsize_bitmap = PAGE_MASK;
	*data = t;
	return 0;
}

static void type1_release(void *data)
{
	struct type1 *t = data;

	while (uapi_tree_first(&t->dma_list))
		remove_dma(t, dma_of(uapi_tree_first(&t->dma_list)));
	for (size_t i = 0; i < t->n_domains; i++) {
		struct type1_domain *d = t->domains[i];

		for (size_t k = 0; k < d->n_groups; k++)
			iommu_detach_group(d->domain, d->groups[k]->iommu_group);
		iommu_domain_free(d->domain);
		free(d->groups);
		free(d);
	}
	free(t->domains);
	free(t->iova);
	free(t);
}

static long type1_ioctl(void *data, unsigned int cmd, unsigned long arg)
{
	struct type1 *t = data;

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(t, arg);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map_dma(t, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap_dma(t, arg);
	case VFIO_IOMMU_DIRTY_PAGES:
		if (!uapi_kernel_at_least(t->u, 5, 8))
			return -ENOTTY;
		return type1_dirty_pages(t, arg);
	default:
		return -ENOTTY;
	}
}

const struct vfio_iommu_driver_ops vfio_type1_ops = {
	.name = "vfio-iommu-type1",
	.check_extension = type1_check_extension,
	.open = type1_open,
	.release = type1_release,
	.ioctl = type1_ioctl,
	.attach_group = type1_attach_group,
	.detach_group = type1_detach_group,
};
