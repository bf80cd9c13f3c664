// SPDX-License-Identifier: MIT
/*
 * The process's memory as the modelled kernel sees it.
 *
 * A user page that is pinned (VFIO MAP_DMA: vfio_pin_pages_remote) or
 * looked up through /proc/self/pagemap gets a modelled physical page: a
 * page frame of the modelled memory from the pool of high RAM, as the
 * real kernel's page would have a physical frame.  The table maps the
 * page's virtual page number to that frame and back, so that a modelled
 * device's DMA through the modelled IOMMU (which lands at a modelled
 * physical address) reaches the user's page: the bytes are copied at pin
 * time, before a device reads and after a device writes, keeping the
 * user page and modelled memory the same (the real hardware has one
 * page; the model has the process's page and its modelled frame).
 *
 * A frame is given back when its last pin goes, unless pagemap showed it
 * (a program keeps physical addresses it looked up: DPDK's IOVA-as-PA).
 *
 * Whether a range is mapped (and writable) comes from /proc/self/maps,
 * as the kernel's pin_user_pages looks at the VMAs: an address that is
 * not mapped fails with -EFAULT (vaddr_get_pfns).  Bytes are moved with
 * process_vm_readv/process_vm_writev on this process, which fail
 * instead of faulting, or /proc/self/mem where those are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uapi/internal.h"

#define EMPTY_VPN UINT64_MAX
#define TOMB_VPN (UINT64_MAX - 1)
#define REV_CHUNK_SHIFT 18              /* 256 Ki frames per chunk (1 GiB) */
#define REV_CHUNK (UINT64_C(1) << REV_CHUNK_SHIFT)

struct mm_page {
	uint64_t vpn;
	uint64_t pfn;
	uint32_t pins;
	bool sticky;            /* shown by pagemap: keep the frame */
};

struct uapi_mm {
	struct iommu_uapi *u;
	struct mm_page *tab;
	size_t cap;             /* power of two */
	size_t used;            /* live + tombstones */
	size_t live;
	/* frames */
	uint64_t base_pfn, next_pfn, end_pfn;
	uint64_t *free;
	size_t n_free, cap_free;
	uint64_t **rev;         /* chunk -> (pfn - base) -> vpn + 1 */
	size_t n_rev;
	uint64_t pinned;
	int mem_fd;             /* /proc/self/mem, opened on first need */
	bool no_vm_rw;          /* process_vm_* refused here */
};

static uint64_t hash_vpn(uint64_t v)
{
	v ^= v >> 33;
	v *= UINT64_C(0xff51afd7ed558ccd);
	v ^= v >> 33;
	return v;
}

static struct mm_page *lookup(struct uapi_mm *mm, uint64_t vpn)
{
	size_t mask = mm->cap - 1, i;

	if (!mm->cap)
		return NULL;
	for (i = hash_vpn(vpn) & mask;; i = (i + 1) & mask) {
		struct mm_page *p = &mm->tab[i];

		if (p->vpn == EMPTY_VPN)
			return NULL;
		if (p->vpn == vpn)
			return p;
	}
}

static int grow(struct uapi_mm *mm)
{
	size_t ncap = mm->cap ? mm->cap * 2 : 1024, i;
	struct mm_page *nt;

	if (mm->live * 2 < mm->cap)     /* mostly tombstones: rehash same size */
		ncap = mm->cap;
	nt = malloc(ncap * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (i = 0; i < ncap; i++)
		nt[i].vpn = EMPTY_VPN;
	for (i = 0; i < mm->cap; i++) {
		struct mm_page *p = &mm->tab[i];
		size_t j;

		if (p->vpn == EMPTY_VPN || p->vpn == TOMB_VPN)
			continue;
		for (j = hash_vpn(p->vpn) & (ncap - 1); nt[j].vpn != EMPTY_VPN; j = (j + 1) & (ncap - 1))
			;
		nt[j] = *p;
	}
	free(mm->tab);
	mm->tab = nt;
	mm->cap = ncap;
	mm->used = mm->live;
	return 0;
}

static struct mm_page *insert(struct uapi_mm *mm, uint64_t vpn)
{
	size_t mask, i;

	if ((mm->used + 1) * 4 > mm->cap * 3 && grow(mm))
		return NULL;
	mask = mm->cap - 1;
	for (i = hash_vpn(vpn) & mask;; i = (i + 1) & mask) {
		struct mm_page *p = &mm->tab[i];

		if (p->vpn == EMPTY_VPN || p->vpn == TOMB_VPN) {
			if (p->vpn == EMPTY_VPN)
				mm->used++;
			memset(p, 0, sizeof(*p));
			p->vpn = vpn;
			mm->live++;
			return p;
		}
	}
}

static void remove_page(struct uapi_mm *mm, struct mm_page *p)
{
	p->vpn = TOMB_VPN;
	mm->live--;
}

static int rev_set(struct uapi_mm *mm, uint64_t pfn, uint64_t val)
{
	uint64_t i = pfn - mm->base_pfn;
	size_t c = (size_t)(i >> REV_CHUNK_SHIFT);

	if (c >= mm->n_rev)
		return -EINVAL;
	if (!mm->rev[c]) {
		if (!val)
			return 0;
		mm->rev[c] = calloc(REV_CHUNK, sizeof(uint64_t));
		if (!mm->rev[c])
			return -ENOMEM;
	}
	mm->rev[c][i & (REV_CHUNK - 1)] = val;
	return 0;
}

/* The user page number behind @pfn plus one, 0 when none. */
static uint64_t rev_get(const struct uapi_mm *mm, uint64_t pfn)
{
	uint64_t i;
	size_t c;

	if (pfn < mm->base_pfn || pfn >= mm->end_pfn)
		return 0;
	i = pfn - mm->base_pfn;
	c = (size_t)(i >> REV_CHUNK_SHIFT);
	if (!mm->rev[c])
		return 0;
	return mm->rev[c][i & (REV_CHUNK - 1)];
}

int uapi_mm_create(struct iommu_uapi *u, struct uapi_mm **out)
{
	struct uapi_mm *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return -ENOMEM;
	mm->u = u;
	mm->mem_fd = -1;
	mm->base_pfn = mm->next_pfn = u->pool_base >> UAPI_PAGE_SHIFT;
	mm->end_pfn = u->pool_end >> UAPI_PAGE_SHIFT;
	mm->n_rev = (size_t)(((mm->end_pfn - mm->base_pfn) + REV_CHUNK - 1) >> REV_CHUNK_SHIFT);
	mm->rev = calloc(mm->n_rev ? mm->n_rev : 1, sizeof(*mm->rev));
	if (!mm->rev) {
		free(mm);
		return -ENOMEM;
	}
	*out = mm;
	return 0;
}

void uapi_mm_destroy(struct uapi_mm *mm)
{
	if (!mm)
		return;
	for (size_t i = 0; i < mm->n_rev; i++)
		free(mm->rev[i]);
	free(mm->rev);
	free(mm->tab);
	free(mm->free);
	if (mm->mem_fd >= 0)
		close(mm->mem_fd);
	free(mm);
}

/* ------------------------------------------------------------------ */
/* The process's address space                                          */

/* Parse "start-end perms" lines of /proc/self/maps and check that
 * [lo, hi) is covered without a hole by readable (writable) mappings. */
int uapi_mm_check(struct uapi_mm *mm, uint64_t vaddr, uint64_t len, bool write)
{
	uint64_t lo = vaddr, hi = vaddr + len;
	char *buf = NULL, *line;
	size_t cap = 0, n = 0;
	int fd, ret = -EFAULT;

	(void)mm;
	if (len == 0)
		return 0;
	if (hi < lo)
		return -EFAULT;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EFAULT;
	for (;;) {
		ssize_t r;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf)
		return -EFAULT;
	buf[n] = '\0';
	/* The lines are in address order. */
	for (line = buf; line && *line && lo < hi; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long long s, e;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3)
			continue;
		if (e <= lo)
			continue;
		if (s > lo)
			break;          /* a hole at lo */
		if (perms[0] != 'r' || (write && perms[1] != 'w'))
			break;
		lo = e;
	}
	if (lo >= hi)
		ret = 0;
	free(buf);
	return ret;
}

static int mem_fd(struct uapi_mm *mm)
{
	if (mm->mem_fd < 0)
		mm->mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	return mm->mem_fd;
}

int uapi_user_read(struct uapi_mm *mm, uint64_t vaddr, void *buf, size_t len)
{
	if (!len)
		return 0;
	if (!mm->no_vm_rw) {
		struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)vaddr, len };
		ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

		if (r == (ssize_t)len)
			return 0;
		if (r >= 0 || errno == EFAULT)
			return -EFAULT;
		mm->no_vm_rw = true;
	}
	if (mem_fd(mm) < 0 || pread(mm->mem_fd, buf, len, (off_t)vaddr) != (ssize_t)len)
		return -EFAULT;
	return 0;
}

int uapi_user_write(struct uapi_mm *mm, uint64_t vaddr, const void *buf, size_t len)
{
	if (!len)
		return 0;
	if (!mm->no_vm_rw) {
		struct iovec local = { (void *)buf, len }, remote = { (void *)(uintptr_t)vaddr, len };
		ssize_t r = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);

		if (r == (ssize_t)len)
			return 0;
		if (r >= 0 || errno == EFAULT)
			return -EFAULT;
		mm->no_vm_rw = true;
	}
	if (mem_fd(mm) < 0 || pwrite(mm->mem_fd, buf, len, (off_t)vaddr) != (ssize_t)len)
		return -EFAULT;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Frames                                                               */

static int frame_alloc(struct uapi_mm *mm, uint64_t *pfn, bool *fresh)
{
	if (mm->n_free) {
		*pfn = mm->free[--mm->n_free];
		*fresh = false;
		return 0;
	}
	if (mm->next_pfn >= mm->end_pfn)
		return -ENOMEM;
	*pfn = mm->next_pfn++;
	*fresh = true;
	return 0;
}

static int frame_free(struct uapi_mm *mm, uint64_t pfn)
{
	if (mm->n_free == mm->cap_free) {
		size_t nc = mm->cap_free ? mm->cap_free * 2 : 256;
		uint64_t *nf = realloc(mm->free, nc * sizeof(*nf));

		if (!nf)
			return -ENOMEM;     /* the frame is lost to the pool, nothing else */
		mm->free = nf;
		mm->cap_free = nc;
	}
	mm->free[mm->n_free++] = pfn;
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int page_get_bytes(struct uapi_mm *mm, uint64_t vpn, const uint8_t *bytes,
			  struct mm_page **out);

/* Give the page at @vpn a frame, with the user page's bytes. */
static int page_get(struct uapi_mm *mm, uint64_t vpn, struct mm_page **out)
{
	struct mm_page *p = lookup(mm, vpn);
	uint8_t page[UAPI_PAGE_SIZE];
	int ret;

	if (p) {
		*out = p;
		return 0;
	}
	ret = uapi_user_read(mm, vpn << UAPI_PAGE_SHIFT, page, sizeof(page));
	if (ret)
		return ret;
	return page_get_bytes(mm, vpn, all_zero(page, sizeof(page)) ? NULL : page, out);
}

int uapi_mm_pin(struct uapi_mm *mm, uint64_t vaddr, bool write, uint64_t *pfn)
{
	struct mm_page *p;
	int ret;

	(void)write;    /* the caller checked the range with uapi_mm_check */
	ret = page_get(mm, vaddr >> UAPI_PAGE_SHIFT, &p);
	if (ret)
		return ret;
	p->pins++;
	mm->pinned++;
	*pfn = p->pfn;
	return 0;
}

void uapi_mm_unpin(struct uapi_mm *mm, uint64_t pfn)
{
	uint64_t v = rev_get(mm, pfn);
	struct mm_page *p;

	if (!v)
		return;
	p = lookup(mm, v - 1);
	if (!p || !p->pins)
		return;
	p->pins--;
	mm->pinned--;
	if (!p->pins && !p->sticky) {
		rev_set(mm, pfn, 0);
		remove_page(mm, p);
		frame_free(mm, pfn);
	}
}

uint64_t uapi_mm_pagemap_entry(struct uapi_mm *mm, uint64_t vaddr)
{
	unsigned char vec = 0;
	struct mm_page *p;

	vaddr &= ~(uint64_t)(UAPI_PAGE_SIZE - 1);
	if (mincore((void *)(uintptr_t)vaddr, UAPI_PAGE_SIZE, &vec) || !(vec & 1))
		return 0;
	if (page_get(mm, vaddr >> UAPI_PAGE_SHIFT, &p))
		return 0;
	p->sticky = true;
	return (UINT64_C(1) << 63) | p->pfn;
}

uint64_t uapi_mm_pinned(const struct uapi_mm *mm)
{
	return mm->pinned;
}

int uapi_mm_dma(struct uapi_mm *mm, uint64_t phys, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	while (len) {
		uint64_t off = phys & (UAPI_PAGE_SIZE - 1);
		size_t chunk = UAPI_PAGE_SIZE - off < len ? UAPI_PAGE_SIZE - off : len;
		uint64_t v = rev_get(mm, phys >> UAPI_PAGE_SHIFT);
		int ret;

		if (write) {
			ret = iommu_mem_write(mm->u->mem, phys, b, chunk);
			if (ret)
				return ret;
			/* The process page may be gone (unmapped after the pin):
			 * the frame keeps the bytes, as a pinned page would. */
			if (v)
				(void)uapi_user_write(mm, ((v - 1) << UAPI_PAGE_SHIFT) + off, b, chunk);
		} else {
			if (!v || uapi_user_read(mm, ((v - 1) << UAPI_PAGE_SHIFT) + off, b, chunk)) {
				ret = iommu_mem_read(mm->u->mem, phys, b, chunk);
				if (ret)
					return ret;
			} else {
				ret = iommu_mem_write(mm->u->mem, phys, b, chunk);
				if (ret)
					return ret;
			}
		}
		phys += chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Batched pinning and mapping (VFIO type1 and iommufd share it)        */

#define PIN_BATCH_PAGES 64

static const uint8_t zero_page[UAPI_PAGE_SIZE];

/*
 * The user's pages are read in place (this process is the program):
 * process_vm_readv pins each page in the kernel and costs four times a
 * plain read.  The caller checked the range against /proc/self/maps just
 * before, but another thread of the program may unmap it meanwhile, so
 * the reads run under a guard that turns SIGSEGV / SIGBUS into -EFAULT
 * (what the kernel's pin_user_pages answers).  The guard's handler is
 * installed only while some thread reads, and a fault that is not a
 * guarded read goes to the handler the program had.
 */
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static int guard_users;
static struct sigaction guard_old_segv, guard_old_bus;
static _Thread_local sigjmp_buf *volatile guard_jmp;  /* volatile: read by the handler */

static void guard_handler(int sig, siginfo_t *si, void *ctx)
{
	sigjmp_buf *j = guard_jmp;
	struct sigaction *old = sig == SIGBUS ? &guard_old_bus : &guard_old_segv;

	if (j) {
		guard_jmp = NULL;
		siglongjmp(*j, 1);
	}
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, ctx);
	} else if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
		/* the default action when the instruction faults again */
		signal(sig, SIG_DFL);
	} else {
		old->sa_handler(sig);
	}
}

static void guard_enter(void)
{
	pthread_mutex_lock(&guard_lock);
	if (guard_users++ == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = guard_handler;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, &guard_old_segv);
		sigaction(SIGBUS, &sa, &guard_old_bus);
	}
	pthread_mutex_unlock(&guard_lock);
}

static void guard_leave(void)
{
	pthread_mutex_lock(&guard_lock);
	if (--guard_users == 0) {
		sigaction(SIGSEGV, &guard_old_segv, NULL);
		sigaction(SIGBUS, &guard_old_bus, NULL);
	}
	pthread_mutex_unlock(&guard_lock);
}

struct scan {
	uintptr_t user;         /* @n pages from here */
	size_t n;
	uint8_t *buf;           /* the pages that are not all zero, copied */
	bool *zero;             /* per page: all zero */
};

#ifndef __SANITIZE_ADDRESS__
static __attribute__((noinline)) void scan_pages(const struct scan *sc)
{
	for (size_t k = 0; k < sc->n; k++) {
		const uint8_t *pg = (const uint8_t *)(sc->user + k * UAPI_PAGE_SIZE);

		sc->zero[k] = !memcmp(pg, zero_page, UAPI_PAGE_SIZE);
		if (!sc->zero[k])
			memcpy(sc->buf + k * UAPI_PAGE_SIZE, pg, UAPI_PAGE_SIZE);
	}
}
#endif

/* scan_pages under the guard: 0, or -EFAULT when a page cannot be read. */
static int scan_user(struct uapi_mm *mm, const struct scan *sc)
{
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer builds: the program's pages may hold its redzones,
	 * which reading them in place would report; they are copied with
	 * the fault-safe read instead (slower, the same answers). */
	int ret = uapi_user_read(mm, sc->user, sc->buf, sc->n * UAPI_PAGE_SIZE);

	for (size_t k = 0; !ret && k < sc->n; k++)
		sc->zero[k] = !memcmp(sc->buf + k * UAPI_PAGE_SIZE, zero_page, UAPI_PAGE_SIZE);
	return ret;
#else
	const struct scan *volatile v = sc;
	sigjmp_buf jb;

	(void)mm;
	if (sigsetjmp(jb, 1))
		return -EFAULT;
	guard_jmp = &jb;
	scan_pages(v);
	guard_jmp = NULL;
	return 0;
#endif
}

static int pin_run_push(struct uapi_pin_runs *rs, uint64_t off, uint64_t pfn)
{
	struct uapi_pin_run *r = rs->n ? &rs->r[rs->n - 1] : NULL;

	if (r && r->off + (r->npages << UAPI_PAGE_SHIFT) == off && r->pfn + r->npages == pfn) {
		r->npages++;
	} else {
		if (rs->n == rs->cap) {
			size_t nc = rs->cap ? rs->cap * 2 : 8;
			struct uapi_pin_run *nr = realloc(rs->r, nc * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			rs->r = nr;
			rs->cap = nc;
		}
		rs->r[rs->n++] = (struct uapi_pin_run){ off, pfn, 1 };
	}
	rs->npages++;
	return 0;
}

/* The frame for user page @vpn whose bytes are @bytes (NULL: all zero):
 * the page's frame when it has one, else a new frame holding those bytes
 * (a frame that was never written and a zero page need no copy; a reused
 * frame of a zero page is cleared without allocating modelled memory). */
static int page_get_bytes(struct uapi_mm *mm, uint64_t vpn, const uint8_t *bytes,
			  struct mm_page **out)
{
	struct mm_page *p = lookup(mm, vpn);
	uint64_t pfn;
	bool fresh, zero = !bytes;
	int ret;

	if (p) {
		*out = p;
		return 0;
	}
	ret = frame_alloc(mm, &pfn, &fresh);
	if (ret)
		return ret;
	if (!zero)
		ret = iommu_mem_write(mm->u->mem, pfn << UAPI_PAGE_SHIFT, bytes, UAPI_PAGE_SIZE);
	else if (!fresh)
		ret = iommu_mem_fill(mm->u->mem, pfn << UAPI_PAGE_SHIFT, 0, UAPI_PAGE_SIZE);
	if (ret) {
		frame_free(mm, pfn);
		return ret;
	}
	p = insert(mm, vpn);
	if (!p || rev_set(mm, pfn, vpn + 1)) {
		if (p)
			remove_page(mm, p);
		frame_free(mm, pfn);
		return -ENOMEM;
	}
	p->pfn = pfn;
	*out = p;
	return 0;
}

int uapi_mm_pin_runs(struct uapi_mm *mm, uint64_t vaddr, uint64_t npages, bool write,
		     struct uapi_pin_runs *out)
{
	bool zero[PIN_BATCH_PAGES];
	uint8_t *buf;
	int ret = 0;

	(void)write;    /* the caller checked the range with uapi_mm_check */
	if (out->n || (vaddr & (UAPI_PAGE_SIZE - 1)))
		return -EINVAL;
	if (vaddr + (npages << UAPI_PAGE_SHIFT) < vaddr)
		return -EFAULT;
	buf = malloc((size_t)PIN_BATCH_PAGES * UAPI_PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	guard_enter();
	for (uint64_t i = 0; i < npages && !ret;) {
		uint64_t n = npages - i < PIN_BATCH_PAGES ? npages - i : PIN_BATCH_PAGES;
		uint64_t va = vaddr + (i << UAPI_PAGE_SHIFT);
		struct scan sc = { (uintptr_t)va, (size_t)n, buf, zero };

		ret = scan_user(mm, &sc);
		for (uint64_t k = 0; k < n && !ret; k++) {
			struct mm_page *p;

			ret = page_get_bytes(mm, (va >> UAPI_PAGE_SHIFT) + k,
					     zero[k] ? NULL : buf + (k << UAPI_PAGE_SHIFT), &p);
			if (ret)
				break;
			p->pins++;
			mm->pinned++;
			ret = pin_run_push(out, (i + k) << UAPI_PAGE_SHIFT, p->pfn);
			if (ret)
				uapi_mm_unpin(mm, p->pfn);
		}
		i += n;
	}
	guard_leave();
	free(buf);
	if (ret)
		uapi_mm_unpin_runs(mm, out);    /* only pinned pages are in @out */
	return ret;
}

void uapi_mm_unpin_runs(struct uapi_mm *mm, struct uapi_pin_runs *runs)
{
	/* Last page first: the free list is a stack, so the next pin takes
	 * these frames back lowest first, contiguous as they were. */
	for (size_t r = runs->n; r-- > 0;)
		for (uint64_t p = runs->r[r].npages; p-- > 0;)
			uapi_mm_unpin(mm, runs->r[r].pfn + p);
	free(runs->r);
	runs->r = NULL;
	runs->n = runs->cap = 0;
	runs->npages = 0;
}

int uapi_map_runs(struct iommu_domain *d, uint64_t iova, const struct uapi_pin_runs *runs,
		  uint64_t off, uint64_t len, int prot, bool small_pages)
{
	uint64_t done = 0;
	size_t lo = 0, hi = runs->n;
	int ret = 0;

	/* The run holding @off: the last one starting at or before it. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs->r[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t r = lo; r < runs->n && done < len && !ret; r++) {
		const struct uapi_pin_run *run = &runs->r[r];
		uint64_t run_end = run->off + (run->npages << UAPI_PAGE_SHIFT);
		uint64_t from = off + done;
		uint64_t n;

		if (run_end <= from)
			continue;
		n = run_end - from < len - done ? run_end - from : len - done;
		if (small_pages) {
			uint64_t k;

			for (k = 0; k < n && !ret; k += UAPI_PAGE_SIZE)
				ret = iommu_map(d, iova + done + k,
						((run->pfn << UAPI_PAGE_SHIFT) + (from - run->off)) + k,
						UAPI_PAGE_SIZE, prot);
			if (ret) {
				done += k - UAPI_PAGE_SIZE;     /* the pages mapped before */
				break;
			}
		} else {
			ret = iommu_map(d, iova + done, (run->pfn << UAPI_PAGE_SHIFT) + (from - run->off),
					n, prot);
			if (ret)
				break;
		}
		done += n;
	}
	if (!ret && done < len)
		ret = -EFAULT;          /* the range is not all pinned */
	if (ret && done)
		iommu_unmap(d, iova, done);
	return ret;
}
