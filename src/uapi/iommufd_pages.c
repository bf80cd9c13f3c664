// SPDX-License-Identifier: MIT
/*
 * The IO page table behind an iommufd IOAS (the kernel's io_pagetable.c
 * and pages.c; reference 9.3), over core domains (iommu/core.h).
 *
 *  - areas: one per IOAS_MAP or IOAS_COPY, never split except for the
 *    VFIO type1 emulation (iopt_cut_iova); a FIXED map checks alignment,
 *    reserved ranges (-EINVAL) and existing areas (-EEXIST) in that order
 *    (iopt_check_iova); an automatic one takes the lowest hole that fits
 *    inside the allowed ranges, aligned as iopt_alloc_iova aligns;
 *  - reserved ranges, each with its owner: a domain's aperture complement
 *    (iopt_table_add_domain), an attached device's reserved regions but
 *    the relaxable direct ones (iopt_table_enforce_dev_resv_regions);
 *    reserving over an area or an allowed range is -EADDRINUSE;
 *  - allowed ranges (IOAS_ALLOW_IOVAS): where automatic IOVAs may go;
 *  - domains: every area is mapped into every domain of the table; the
 *    pages are pinned while at least one domain holds them (the kernel's
 *    "storage domain"), so a second domain maps the same frames without
 *    pinning again;
 *  - iova_alignment: 1 with no domain, the domains' smallest page size
 *    (4 KiB) once one is added, or 4 KiB when large pages are disabled.
 *
 * Unmapping takes whole areas only: an area partly inside the range is
 * -ENOENT (iopt_unmap_iova_range), and areas fully inside the range met
 * before it are already gone then, as in the kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uapi/iommufd_internal.h"

#define PAGE_SIZE_ UAPI_PAGE_SIZE
#define HPAGE_SIZE_ (UINT64_C(2) << 20)

static struct iopt_area *area_of(const struct uapi_tree_node *n)
{
	return n ? (struct iopt_area *)((char *)n - offsetof(struct iopt_area, node)) : NULL;
}

static uint64_t area_length(const struct iopt_area *a)
{
	return a->last - a->iova + 1;
}

static uint64_t lowbit(uint64_t v)
{
	return v & -v;
}

/* The lowest area intersecting [start, last], or NULL (iopt_area_iter_first). */
static struct iopt_area *area_first(const struct io_pagetable *iopt, uint64_t start, uint64_t last)
{
	struct uapi_tree_node *n = uapi_tree_le(&iopt->areas, start);
	struct iopt_area *a = area_of(n);

	if (a && a->last >= start)
		return a;
	a = area_of(n ? uapi_tree_next(n) : uapi_tree_ge(&iopt->areas, start));
	return a && a->iova <= last ? a : NULL;
}

static struct iopt_area *area_next(const struct iopt_area *a, uint64_t last)
{
	struct iopt_area *n = area_of(uapi_tree_next(&a->node));

	return n && n->iova <= last ? n : NULL;
}

struct iopt_area *iopt_area_at(const struct io_pagetable *iopt, uint64_t iova)
{
	return area_first(iopt, iova, iova);
}

size_t iopt_num_areas(const struct io_pagetable *iopt)
{
	return iopt->areas.count;
}

static bool ranges_hit(const struct iopt_range *r, size_t n, uint64_t start, uint64_t last)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].start <= last && r[i].last >= start)
			return true;
	return false;
}

static bool reserved_hit(const struct io_pagetable *iopt, uint64_t start, uint64_t last)
{
	return ranges_hit(iopt->reserved, iopt->n_reserved, start, last);
}

static bool allowed_hit(const struct io_pagetable *iopt, uint64_t start, uint64_t last)
{
	return ranges_hit(iopt->allowed, iopt->n_allowed, start, last);
}

void iopt_init_table(struct io_pagetable *iopt, struct iommu_uapi *u)
{
	memset(iopt, 0, sizeof(*iopt));
	iopt->u = u;
	/* Software tables with no domain take any byte alignment. */
	iopt->iova_alignment = 1;
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	free(iopt->allowed);
	free(iopt->reserved);
	free(iopt->domains);
	iopt->allowed = iopt->reserved = NULL;
	iopt->domains = NULL;
	iopt->n_allowed = iopt->n_reserved = iopt->n_domains = 0;
}

/* ------------------------------------------------------------------ */
/* Pages: pinning while a domain holds them                             */

static struct iopt_pages *pages_alloc(struct io_pagetable *iopt, uint64_t uptr, uint64_t length,
				      bool writable, int *err)
{
	struct iopt_pages *p;
	uint64_t end;

	/* iopt_alloc_pages: the size_t length and its page count, then the
	 * end of the user range. */
	if (length == 0 || length > UINT64_MAX - PAGE_SIZE_) {
		*err = -EINVAL;
		return NULL;
	}
	if (uptr + length < uptr) {
		*err = -EOVERFLOW;
		return NULL;
	}
	end = uptr + length;
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->refs = 1;
	p->uptr = uptr & ~(uint64_t)(PAGE_SIZE_ - 1);
	p->npages = (end - p->uptr + PAGE_SIZE_ - 1) / PAGE_SIZE_;
	p->writable = writable;
	p->lock_cap = iopt->u->ipc_lock;
	return p;
}

static void pages_put(struct io_pagetable *iopt, struct iopt_pages *p)
{
	(void)iopt;
	if (!p || --p->refs > 0)
		return;
	free(p);
}

/* The first area of @p put into a domain pins the pages and charges
 * them to RLIMIT_MEMLOCK unless the task has CAP_IPC_LOCK. */
static int pages_pin(struct io_pagetable *iopt, struct iopt_pages *p)
{
	struct iommu_uapi *u = iopt->u;
	int ret;

	if (p->fill_users++)
		return 0;
	/* pin_user_pages of a range that is not (writably) mapped */
	ret = uapi_mm_check(u->mm, p->uptr, p->npages * PAGE_SIZE_, p->writable);
	if (!ret && !p->lock_cap && u->memlock_limit != UINT64_MAX &&
	    u->locked_vm + p->npages > (u->memlock_limit >> UAPI_PAGE_SHIFT))
		ret = -ENOMEM;          /* incr_user_locked_vm */
	if (!ret)
		ret = uapi_mm_pin_runs(u->mm, p->uptr, p->npages, p->writable, &p->pins);
	if (ret) {
		p->fill_users--;
		return ret;
	}
	if (!p->lock_cap) {
		p->charged = p->npages;
		u->locked_vm += p->charged;
	}
	return 0;
}

static void pages_unpin(struct io_pagetable *iopt, struct iopt_pages *p)
{
	if (--p->fill_users)
		return;
	uapi_mm_unpin_runs(iopt->u->mm, &p->pins);
	iopt->u->locked_vm -= p->charged;
	p->charged = 0;
}

/* Map @a into @d from its pinned pages. */
static int area_map_domain(struct io_pagetable *iopt, struct iopt_area *a, struct iommu_domain *d)
{
	return uapi_map_runs(d, a->iova, &a->pages->pins, a->start_byte & ~(uint64_t)(PAGE_SIZE_ - 1),
			     area_length(a), a->prot, iopt->disable_large_pages);
}

/* iopt_area_fill_domains: pin and map into every domain; all or nothing. */
static int area_fill_domains(struct io_pagetable *iopt, struct iopt_area *a, struct iopt_pages *p)
{
	size_t i;
	int ret;

	if (!iopt->n_domains)
		return 0;
	a->pages = p;           /* for area_map_domain; reset by the caller on failure */
	ret = pages_pin(iopt, p);
	if (ret)
		return ret;
	for (i = 0; i < iopt->n_domains; i++) {
		ret = area_map_domain(iopt, a, iopt->domains[i]);
		if (ret)
			break;
	}
	if (ret) {
		while (i-- > 0)
			iommu_unmap(iopt->domains[i], a->iova, area_length(a));
		pages_unpin(iopt, p);
		return ret;
	}
	a->filled = true;
	return 0;
}

static void area_unfill_domains(struct io_pagetable *iopt, struct iopt_area *a)
{
	if (!a->filled)
		return;
	for (size_t i = 0; i < iopt->n_domains; i++)
		iommu_unmap(iopt->domains[i], a->iova, area_length(a));
	pages_unpin(iopt, a->pages);
	a->filled = false;
}

/* ------------------------------------------------------------------ */
/* IOVA allocation                                                      */

/* ALIGN(x, align) | page_offset without wrapping: false when it would. */
static bool align_up(uint64_t x, uint64_t align, uint64_t page_offset, uint64_t *out)
{
	if (x + (align - 1) < x)
		return false;
	*out = ((x + (align - 1)) & ~(align - 1)) | page_offset;
	return true;
}

/* __alloc_iova_check_hole / _used: [start, last] holds @length bytes
 * from its aligned start. */
static bool span_fits(uint64_t *start, uint64_t last, uint64_t length, uint64_t align,
		      uint64_t page_offset)
{
	uint64_t s;

	if (last - *start < length - 1)
		return false;
	if (!align_up(*start, align, page_offset, &s) || s > last || last - s < length - 1)
		return false;
	*start = s;
	return true;
}

/* The used interval (reserved range or area) intersecting [pos, hi]
 * with the lowest start; false when none. */
static bool next_used(const struct io_pagetable *iopt, uint64_t pos, uint64_t hi, uint64_t *s,
		      uint64_t *l)
{
	struct iopt_area *a = area_first(iopt, pos, hi);
	bool found = false;

	if (a) {
		*s = a->iova;
		*l = a->last;
		found = true;
	}
	for (size_t i = 0; i < iopt->n_reserved; i++) {
		const struct iopt_range *r = &iopt->reserved[i];

		if (r->last < pos || r->start > hi)
			continue;
		if (!found || r->start < *s) {
			*s = r->start;
			*l = r->last;
			found = true;
		}
	}
	return found;
}

/* The first hole of reserved ranges and areas inside [lo, hi] that holds
 * the request (interval_tree_for_each_double_span). */
static bool find_hole(const struct io_pagetable *iopt, uint64_t lo, uint64_t hi, uint64_t length,
		      uint64_t align, uint64_t page_offset, uint64_t *iova)
{
	uint64_t pos = lo;

	for (;;) {
		uint64_t s = 0, l = 0, start;

		if (!next_used(iopt, pos, hi, &s, &l)) {
			start = pos;
			if (span_fits(&start, hi, length, align, page_offset)) {
				*iova = start;
				return true;
			}
			return false;
		}
		if (s > pos) {
			start = pos;
			if (span_fits(&start, s - 1, length, align, page_offset)) {
				*iova = start;
				return true;
			}
		}
		if (l >= hi)
			return false;
		pos = l + 1;
	}
}

/*
 * iopt_alloc_iova: the alignment is the smaller of the length rounded up
 * to a power of two and the lowest set bit of the user address (kept so
 * that a THP can map), at most HPAGE_SIZE (Debian builds THP); the IOVA
 * keeps the address's offset in its page; bottom-up first fit inside
 * [PAGE_SIZE, U64_MAX - PAGE_SIZE] or the allowed ranges; never 0.
 */
static int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova, uint64_t uptr,
			   uint64_t length)
{
	uint64_t page_offset = uptr % PAGE_SIZE_;
	const uint64_t lo = PAGE_SIZE_, hi = UINT64_MAX - PAGE_SIZE_;
	uint64_t align;

	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;
	/* roundup_pow_of_two(length); length < 2^63 here */
	align = length == 1 ? 1 : UINT64_C(1) << (64 - __builtin_clzll(length - 1));
	if (uptr && lowbit(uptr) < align)
		align = lowbit(uptr);
	if (align >= HPAGE_SIZE_)
		align = HPAGE_SIZE_;
	if (align < iopt->iova_alignment)
		return -EINVAL;
	if (!iopt->n_allowed) {
		uint64_t start = lo;

		if (span_fits(&start, hi, length, align, page_offset) &&
		    find_hole(iopt, start, hi, length, align, page_offset, iova))
			return 0;
		return -ENOSPC;
	}
	/* Used spans of the allowed tree (adjacent ranges merge), clipped
	 * to [lo, hi]. */
	for (size_t i = 0; i < iopt->n_allowed;) {
		uint64_t s = iopt->allowed[i].start, l = iopt->allowed[i].last;

		for (i++; i < iopt->n_allowed && l != UINT64_MAX && iopt->allowed[i].start == l + 1; i++)
			l = iopt->allowed[i].last;
		if (l < lo || s > hi)
			continue;
		if (s < lo)
			s = lo;
		if (l > hi)
			l = hi;
		if (!span_fits(&s, l, length, align, page_offset))
			continue;
		if (find_hole(iopt, s, l, length, align, page_offset, iova))
			return 0;
	}
	return -ENOSPC;
}

/* iopt_check_iova: a FIXED_IOVA request. */
static int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (iova + (length - 1) < iova)
		return -EOVERFLOW;
	last = iova + (length - 1);
	if (reserved_hit(iopt, iova, last))
		return -EINVAL;
	if (area_first(iopt, iova, last))
		return -EEXIST;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Areas                                                                */

static int insert_area(struct io_pagetable *iopt, struct iopt_area *a, struct iopt_pages *p,
		       uint64_t iova, uint64_t start_byte, uint64_t length, int prot)
{
	if ((prot & IOMMU_PROT_WRITE) && !p->writable)
		return -EPERM;
	a->prot = prot;
	if ((start_byte % PAGE_SIZE_) & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (iova + (length - 1) < iova || start_byte + (length - 1) < start_byte)
		return -EOVERFLOW;
	if ((start_byte + length - 1) / PAGE_SIZE_ >= p->npages)
		return -EOVERFLOW;
	a->iova = iova;
	a->last = iova + (length - 1);
	a->start_byte = start_byte;
	a->pages = NULL;        /* not usable until fully made */
	a->node.key = iova;
	uapi_tree_insert(&iopt->areas, &a->node);
	a->inserted = true;
	return 0;
}

void iopt_free_pages_list(struct iopt_pages_elm *list, size_t n)
{
	/* the references iopt_map_pages did not move into areas */
	for (size_t i = 0; i < n; i++)
		pages_put(NULL, list[i].pages);
	free(list);
}

/* iopt_alloc_area_pages: the IOVA and an area per element, not usable yet. */
static int alloc_area_pages(struct io_pagetable *iopt, struct iopt_pages_elm *list, size_t n,
			    uint64_t length, uint64_t *dst_iova, int prot, unsigned flags)
{
	uint64_t iova;
	int ret;

	for (size_t i = 0; i < n; i++) {
		list[i].area = calloc(1, sizeof(*list[i].area));
		if (!list[i].area)
			return -ENOMEM;
	}
	if ((length & (iopt->iova_alignment - 1)) || !length)
		return -EINVAL;
	if (flags & IOPT_ALLOC_IOVA) {
		/* the first element guesses the ideal alignment */
		ret = iopt_alloc_iova(iopt, dst_iova, list[0].pages->uptr + list[0].start_byte, length);
	} else {
		ret = iopt_check_iova(iopt, *dst_iova, length);
	}
	if (ret)
		return ret;
	iova = *dst_iova;
	for (size_t i = 0; i < n; i++) {
		ret = insert_area(iopt, list[i].area, list[i].pages, iova, list[i].start_byte,
				  list[i].length, prot);
		if (ret)
			return ret;
		iova += list[i].length;
	}
	return 0;
}

static void list_abort(struct io_pagetable *iopt, struct iopt_pages_elm *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct iopt_area *a = list[i].area;

		if (a) {
			if (a->inserted)
				uapi_tree_erase(&iopt->areas, &a->node);
			free(a);
			list[i].area = NULL;
		}
		if (list[i].pages) {
			pages_put(iopt, list[i].pages);
			list[i].pages = NULL;
		}
	}
}

int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_elm *list, size_t n,
		   uint64_t length, uint64_t *dst_iova, int prot, unsigned flags)
{
	size_t i;
	int ret;

	ret = alloc_area_pages(iopt, list, n, length, dst_iova, prot, flags);
	if (ret) {
		list_abort(iopt, list, n);
		return ret;
	}
	for (i = 0; i < n; i++) {
		ret = area_fill_domains(iopt, list[i].area, list[i].pages);
		if (ret)
			break;
	}
	if (ret) {
		while (i-- > 0)
			area_unfill_domains(iopt, list[i].area);
		for (size_t k = 0; k < n; k++)
			list[k].area->pages = NULL;
		list_abort(iopt, list, n);
		return ret;
	}
	/* The areas take the list's page references. */
	for (i = 0; i < n; i++) {
		list[i].area->pages = list[i].pages;
		list[i].pages = NULL;
		list[i].area = NULL;
	}
	return 0;
}

int iopt_map_user_pages(struct io_pagetable *iopt, uint64_t *iova, uint64_t uptr,
			uint64_t length, int prot, unsigned flags)
{
	struct iopt_pages_elm elm = { 0 };
	int err = 0;

	elm.pages = pages_alloc(iopt, uptr, length, prot & IOMMU_PROT_WRITE, &err);
	if (!elm.pages)
		return err;
	elm.start_byte = uptr - elm.pages->uptr;
	elm.length = length;
	return iopt_map_pages(iopt, &elm, 1, length, iova, prot, flags);
}

int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_elm **list, size_t *n)
{
	struct iopt_pages_elm *l = NULL;
	struct iopt_area *a;
	uint64_t last, cur = iova;
	size_t cnt = 0;

	*list = NULL;
	*n = 0;
	if (!length)
		return -EINVAL;
	if (iova + (length - 1) < iova)
		return -EOVERFLOW;
	last = iova + (length - 1);
	/* iopt_for_each_contig_area: areas back to back from @iova, each
	 * fully made, until one reaches @last. */
	for (a = area_first(iopt, iova, iova); a && a->pages; a = area_next(a, last)) {
		uint64_t end = a->last < last ? a->last : last;
		struct iopt_pages_elm *nl;

		if (a->iova > cur)
			break;
		nl = realloc(l, (cnt + 1) * sizeof(*nl));
		if (!nl) {
			for (size_t i = 0; i < cnt; i++)
				pages_put(iopt, l[i].pages);
			free(l);
			return -ENOMEM;
		}
		l = nl;
		l[cnt] = (struct iopt_pages_elm){ a->pages, a->start_byte + (cur - a->iova),
						  end - cur + 1, NULL };
		a->pages->refs++;
		cnt++;
		if (a->last >= last) {
			*list = l;
			*n = cnt;
			return 0;
		}
		cur = a->last + 1;
	}
	for (size_t i = 0; i < cnt; i++)
		pages_put(iopt, l[i].pages);
	free(l);
	return -ENOENT;
}

/* iopt_unmap_iova_range */
static int unmap_iova_range(struct io_pagetable *iopt, uint64_t start, uint64_t last,
			    uint64_t *unmapped)
{
	uint64_t bytes = 0;
	struct iopt_area *a;
	int ret = -ENOENT;

	while ((a = area_first(iopt, start, last))) {
		if (!a->pages) {
			ret = -EBUSY;
			goto out;
		}
		if (a->iova < start || a->last > last) {
			ret = -ENOENT;
			goto out;
		}
		area_unfill_domains(iopt, a);
		uapi_tree_erase(&iopt->areas, &a->node);
		pages_put(iopt, a->pages);
		bytes += area_length(a);
		free(a);
	}
	if (bytes)
		ret = 0;
out:
	if (unmapped)
		*unmapped = bytes;
	return ret;
}

int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped)
{
	if (!length)
		return -EINVAL;
	if (iova + (length - 1) < iova)
		return -EOVERFLOW;
	return unmap_iova_range(iopt, iova, iova + (length - 1), unmapped);
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	int ret = unmap_iova_range(iopt, 0, UINT64_MAX, unmapped);

	/* If the IOVAs are empty then unmap all succeeds */
	return ret == -ENOENT ? 0 : ret;
}

/* iopt_area_split: @iova becomes the last byte of a new left area. */
static int area_split(struct io_pagetable *iopt, struct iopt_area *a, uint64_t iova)
{
	uint64_t align = iopt->iova_alignment, new_start = iova + 1;
	struct iopt_area *rhs;

	if (iova == a->iova || iova == a->last)
		return 0;
	if (!a->pages)
		return -EBUSY;
	if ((new_start & (align - 1)) ||
	    ((a->start_byte + (new_start - a->iova)) & (align - 1)))
		return -EINVAL;
	/* not if a domain could have mapped it with large pages */
	if (a->filled && !iopt->disable_large_pages)
		return -EINVAL;
	rhs = calloc(1, sizeof(*rhs));
	if (!rhs)
		return -ENOMEM;
	*rhs = *a;
	memset(&rhs->node, 0, sizeof(rhs->node));
	rhs->iova = new_start;
	rhs->start_byte = a->start_byte + (new_start - a->iova);
	rhs->node.key = new_start;
	a->last = iova;
	a->pages->refs++;
	if (a->filled)
		a->pages->fill_users++;
	uapi_tree_insert(&iopt->areas, &rhs->node);
	return 0;
}

int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct iopt_area *a = area_first(iopt, iovas[i], iovas[i]);
		int ret;

		if (!a)
			continue;
		ret = area_split(iopt, a, iovas[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reserved and allowed ranges                                          */

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last, const void *owner)
{
	struct iopt_range *nr;

	if (area_first(iopt, start, last) || allowed_hit(iopt, start, last))
		return -EADDRINUSE;
	nr = realloc(iopt->reserved, (iopt->n_reserved + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	iopt->reserved = nr;
	nr[iopt->n_reserved++] = (struct iopt_range){ start, last, owner };
	return 0;
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner)
{
	size_t k = 0;

	for (size_t i = 0; i < iopt->n_reserved; i++)
		if (iopt->reserved[i].owner != owner)
			iopt->reserved[k++] = iopt->reserved[i];
	iopt->n_reserved = k;
}

static int range_cmp(const void *a, const void *b)
{
	const struct iopt_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int iopt_set_allow_iova(struct io_pagetable *iopt, const struct iopt_range *ranges, size_t n)
{
	struct iopt_range *copy = NULL;

	/* A reserved range may not meet any allowed one (-EADDRINUSE); the
	 * old list stays then. */
	for (size_t i = 0; i < n; i++)
		if (reserved_hit(iopt, ranges[i].start, ranges[i].last))
			return -EADDRINUSE;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, ranges, n * sizeof(*copy));
		qsort(copy, n, sizeof(*copy), range_cmp);
	}
	free(iopt->allowed);
	iopt->allowed = copy;
	iopt->n_allowed = n;
	return 0;
}

int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					const struct iommu_group_info *g, const void *owner)
{
	for (size_t i = 0; i < g->n_resv; i++) {
		const struct iommu_resv_region *r = &g->resv[i];
		int ret;

		if (r->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		ret = iopt_reserve_iova(iopt, r->start, r->end, owner);
		if (ret) {
			iopt_remove_reserved_iova(iopt, owner);
			return ret;
		}
	}
	return 0;
}

int iopt_for_each_iova_range(const struct io_pagetable *iopt,
			     int (*fn)(void *ctx, uint64_t start, uint64_t last), void *ctx)
{
	struct iopt_range *r = NULL;
	uint64_t pos = 0;
	int ret = 0;

	if (iopt->n_reserved) {
		r = malloc(iopt->n_reserved * sizeof(*r));
		if (!r)
			return -ENOMEM;
		memcpy(r, iopt->reserved, iopt->n_reserved * sizeof(*r));
		qsort(r, iopt->n_reserved, sizeof(*r), range_cmp);
	}
	for (size_t i = 0; i < iopt->n_reserved; i++) {
		if (r[i].last < pos)
			continue;
		if (r[i].start > pos) {
			ret = fn(ctx, pos, r[i].start - 1);
			if (ret)
				goto out;
		}
		if (r[i].last == UINT64_MAX)
			goto out;
		pos = r[i].last + 1;
	}
	ret = fn(ctx, pos, UINT64_MAX);
out:
	free(r);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Domains                                                              */

static uint64_t domain_min_pgsize(const struct iommu_domain *d)
{
	struct iommu_domain_geometry geo;

	iommu_domain_get_geometry(d, &geo);
	return lowbit(geo.pgsize_bitmap);
}

/* iopt_check_iova_alignment: every area conforms to @align. */
static int check_iova_alignment(const struct io_pagetable *iopt, uint64_t align)
{
	for (struct uapi_tree_node *n = uapi_tree_first(&iopt->areas); n; n = uapi_tree_next(n)) {
		const struct iopt_area *a = area_of(n);

		if ((a->iova & (align - 1)) || (area_length(a) & (align - 1)) ||
		    ((a->start_byte % PAGE_SIZE_) & (align - 1)))
			return -EADDRINUSE;
	}
	return 0;
}

static int calculate_iova_alignment(struct io_pagetable *iopt)
{
	uint64_t align = iopt->disable_large_pages ? PAGE_SIZE_ : 1;

	for (size_t i = 0; i < iopt->n_domains; i++) {
		uint64_t m = domain_min_pgsize(iopt->domains[i]);

		if (m > align)
			align = m;
	}
	if (align > iopt->iova_alignment) {
		int ret = check_iova_alignment(iopt, align);

		if (ret)
			return ret;
	}
	iopt->iova_alignment = align;
	return 0;
}

int iopt_table_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	struct iommu_domain_geometry geo;
	struct iommu_domain **nd;
	struct uapi_tree_node *n, *end = NULL;
	uint64_t align;
	bool first = iopt->n_domains == 0;
	int ret = 0;

	for (size_t i = 0; i < iopt->n_domains; i++)
		if (iopt->domains[i] == domain)
			return -EEXIST;
	iommu_domain_get_geometry(domain, &geo);
	/* The IO page size drives the alignment; a domain must take
	 * PAGE_SIZE mappings to be usable at all. */
	align = lowbit(geo.pgsize_bitmap);
	if (align < iopt->iova_alignment)
		align = iopt->iova_alignment;
	if (align > PAGE_SIZE_)
		return -EINVAL;
	if (align != iopt->iova_alignment) {
		ret = check_iova_alignment(iopt, align);
		if (ret)
			return ret;
	}
	/* No area may be outside the aperture */
	if (geo.aperture_start != 0) {
		ret = iopt_reserve_iova(iopt, 0, geo.aperture_start - 1, domain);
		if (ret)
			goto out_reserved;
	}
	if (geo.aperture_end != UINT64_MAX) {
		ret = iopt_reserve_iova(iopt, geo.aperture_end + 1, UINT64_MAX, domain);
		if (ret)
			goto out_reserved;
	}
	nd = realloc(iopt->domains, (iopt->n_domains + 1) * sizeof(*nd));
	if (!nd) {
		ret = -ENOMEM;
		goto out_reserved;
	}
	iopt->domains = nd;
	/* iopt_fill_domain: the first domain pins (it becomes the storage),
	 * later ones map the frames already pinned. */
	for (n = uapi_tree_first(&iopt->areas); n; n = uapi_tree_next(n)) {
		struct iopt_area *a = area_of(n);

		if (!a->pages)
			continue;
		if (first) {
			ret = pages_pin(iopt, a->pages);
			if (ret) {
				end = n;
				break;
			}
		}
		ret = uapi_map_runs(domain, a->iova, &a->pages->pins,
				    a->start_byte & ~(uint64_t)(PAGE_SIZE_ - 1), area_length(a), a->prot,
				    iopt->disable_large_pages);
		if (ret) {
			if (first)
				pages_unpin(iopt, a->pages);
			end = n;
			break;
		}
		if (first)
			a->filled = true;
	}
	if (ret) {
		for (n = uapi_tree_first(&iopt->areas); n && n != end; n = uapi_tree_next(n)) {
			struct iopt_area *a = area_of(n);

			if (!a->pages)
				continue;
			iommu_unmap(domain, a->iova, area_length(a));
			if (first) {
				pages_unpin(iopt, a->pages);
				a->filled = false;
			}
		}
		goto out_reserved;
	}
	iopt->iova_alignment = align;
	iopt->domains[iopt->n_domains++] = domain;
	return 0;
out_reserved:
	iopt_remove_reserved_iova(iopt, domain);
	return ret;
}

void iopt_table_remove_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	size_t i;

	for (i = 0; i < iopt->n_domains && iopt->domains[i] != domain; i++)
		;
	if (i == iopt->n_domains)
		return;
	/* Keep the array linear: the tail entry takes the erased slot. */
	iopt->domains[i] = iopt->domains[--iopt->n_domains];
	for (struct uapi_tree_node *n = uapi_tree_first(&iopt->areas); n; n = uapi_tree_next(n)) {
		struct iopt_area *a = area_of(n);

		if (!a->pages || !a->filled)
			continue;
		iommu_unmap(domain, a->iova, area_length(a));
		/* The last domain held the pins. */
		if (!iopt->n_domains) {
			pages_unpin(iopt, a->pages);
			a->filled = false;
		}
	}
	iopt_remove_reserved_iova(iopt, domain);
	(void)calculate_iova_alignment(iopt);
}

int iopt_disable_large_pages(struct io_pagetable *iopt)
{
	int ret;

	if (iopt->disable_large_pages)
		return 0;
	/* Not once domains have pages mapped in them */
	if (iopt->n_domains && iopt->areas.count)
		return -EINVAL;
	iopt->disable_large_pages = true;
	ret = calculate_iova_alignment(iopt);
	if (ret)
		iopt->disable_large_pages = false;
	return ret;
}

void iopt_enable_large_pages(struct io_pagetable *iopt)
{
	iopt->disable_large_pages = false;
	(void)calculate_iova_alignment(iopt);
}
