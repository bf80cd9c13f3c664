// SPDX-License-Identifier: MIT
/*
 * The DMA API of a started system: what dma_map_single() and friends do
 * between a driver and the IOMMU (kernel/dma/mapping.c dispatching to
 * dma-direct or to drivers/iommu/dma-iommu.c; reference 7.4, 7.5).
 *
 *  - devices without an IOMMU group, and devices whose default domain is
 *    not a DMA domain (identity), take dma-direct: the DMA address is the
 *    physical address, refused when the device's mask cannot reach it;
 *  - devices in DMA / DMA-FQ domains take the IOMMU path: an IOVA from
 *    the domain's iova_domain (PCI devices below 4 GiB first, then the
 *    whole mask once, with the kernel's one-time notice), iommu_map of
 *    the granule-aligned range, the DMA address being the IOVA plus the
 *    buffer's offset in its granule; unmap clears the PTEs, then either
 *    invalidates at once and frees the IOVA (strict) or queues it on the
 *    CPU's flush queue (lazy, flush_queue.c);
 *  - dma-debug (optional) records every mapping and checks each unmap.
 *
 * Written from the behaviour the reference describes and from reading
 * dma-iommu.c, mapping.c and direct.c; no kernel text is reproduced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "dma/dma_internal.h"
#include "iommu/hw.h"
#include "util/strv.h"

#define DBG_BUCKETS 1024u
#define DMA_32BIT_LIMIT UINT64_C(0xffffffff)
/* x86 ZONE_DMA: dma_direct_supported() wants a mask covering 16 MiB. */
#define DMA_ZONE_DMA_MASK UINT64_C(0x00ffffff)
/* The default coherent pool: 64 MiB at 256 MiB (doc/dma.md), inside
 * memory below 4 GiB so that 32-bit coherent masks reach it directly. */
#define POOL_DEFAULT_BASE (UINT64_C(256) << 20)
#define POOL_DEFAULT_SIZE (UINT64_C(64) << 20)
#define PAGE_SZ UINT64_C(4096)

enum dbg_type { DBG_SINGLE, DBG_SG, DBG_COHERENT };

struct dbg_entry {
	struct dbg_entry *next;
	const struct iommu_dma_device *dev;
	uint64_t addr, size, phys;
	int dir, type, nents;
};

struct dbg_bucket {
	pthread_mutex_t lock;
	struct dbg_entry *head;
} __attribute__((aligned(DMA_CACHELINE)));

/* One cache line (allocated on one): what a map or an unmap reads. */
struct iommu_dma_device {
	struct iommu_dma *dma;
	_Atomic(struct dma_cookie *) cookie; /* cache: the default domain's */
	struct iommu_group_info *group;     /* NULL: no IOMMU */
	_Atomic uint64_t dma_mask, coherent_mask;
	_Atomic bool pci_32bit_workaround;
	const struct iommu_pci_dev *pdev;
	struct iommu_device_info *info;
};

struct iommu_dma {
	/* Read by every map and unmap: the first cache line. */
	struct iommu_system *s;
	struct dbg_bucket *dbg;             /* dma-debug; NULL when off */
	uint64_t mem_size;
	struct iommu_dma_config cfg;
	struct iommu_dma_window *windows;
	struct iommu_mem *mem;

	pthread_mutex_t lock;               /* cookie and device creation */
	_Atomic(struct dma_cookie *) cookies;
	_Atomic(struct iommu_dma_device *) *devs; /* by index in s->devices */
	size_t n_devs;

	pthread_mutex_t clock_lock;
	_Atomic uint64_t now;

	pthread_mutex_t log_lock;
	char **log;
	size_t n_log;

	pthread_mutex_t pool_lock;
	uint64_t pool_base, pool_pages;
	uint8_t *pool_map;                  /* per page: 0 free, 1 + order block head, 0xff inside */

	struct dma_pcpu_stats pcpu[IOMMU_IOVA_MAX_CPUS];
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

const char *iommu_dma_dir_name(enum iommu_dma_data_direction dir)
{
	switch (dir) {
	case IOMMU_DMA_BIDIRECTIONAL: return "bidirectional";
	case IOMMU_DMA_TO_DEVICE: return "to_device";
	case IOMMU_DMA_FROM_DEVICE: return "from_device";
	case IOMMU_DMA_NONE: return "none";
	}
	return "invalid";
}

/* dma-debug's names of directions. */
static const char *dir_kname(int dir)
{
	static const char *const n[] = { "DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE",
					 "DMA_NONE" };

	return dir >= 0 && dir <= 3 ? n[dir] : "invalid";
}

static const char *type_kname(int t)
{
	return t == DBG_SG ? "scatter-gather" : t == DBG_COHERENT ? "coherent" : "single";
}

const char *iommu_dma_path_name(enum iommu_dma_path p)
{
	switch (p) {
	case IOMMU_DMA_PATH_DIRECT_NO_IOMMU: return "direct (no IOMMU)";
	case IOMMU_DMA_PATH_DIRECT_IDENTITY: return "direct (identity domain)";
	case IOMMU_DMA_PATH_IOMMU_STRICT: return "IOMMU, strict";
	case IOMMU_DMA_PATH_IOMMU_LAZY: return "IOMMU, lazy (flush queue)";
	}
	return "?";
}

static bool dir_valid(int dir)
{
	return dir == IOMMU_DMA_BIDIRECTIONAL || dir == IOMMU_DMA_TO_DEVICE ||
	       dir == IOMMU_DMA_FROM_DEVICE;
}

/* dma_info_to_prot */
static int dir_prot(int dir)
{
	switch (dir) {
	case IOMMU_DMA_TO_DEVICE: return IOMMU_PROT_READ;
	case IOMMU_DMA_FROM_DEVICE: return IOMMU_PROT_WRITE;
	default: return IOMMU_PROT_READ | IOMMU_PROT_WRITE;
	}
}

/* bits_per(): bits needed to hold @v (1 for 0). */
static unsigned bits_per(uint64_t v)
{
	return v ? 64u - (unsigned)__builtin_clzll(v) : 1u;
}

static void dma_log(struct iommu_dma *dma, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dma_log(struct iommu_dma *dma, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&dma->log_lock);
	iommu_strv_vaddf(&dma->log, &dma->n_log, fmt, ap);
	pthread_mutex_unlock(&dma->log_lock);
	va_end(ap);
}

char **iommu_dma_take_log(struct iommu_dma *dma, size_t *n)
{
	char **v;

	pthread_mutex_lock(&dma->log_lock);
	v = dma->log;
	*n = dma->n_log;
	dma->log = NULL;
	dma->n_log = 0;
	pthread_mutex_unlock(&dma->log_lock);
	return v;
}

_Static_assert(sizeof(struct iommu_dma_device) <= DMA_CACHELINE, "a device is one line");
_Static_assert(sizeof(struct dma_cookie) <= DMA_CACHELINE, "a cookie is one line");
_Static_assert(offsetof(struct iommu_dma, cfg.inv_wait_spin) < DMA_CACHELINE,
	       "what the hot paths read of the context is in its first line");

/* aligned_alloc wants a multiple of the alignment. */
static size_t line_round(size_t n)
{
	return (n + DMA_CACHELINE - 1) & ~(size_t)(DMA_CACHELINE - 1);
}

static struct dma_pcpu_stats *pcpu(struct iommu_dma *dma, unsigned cpu)
{
	return &dma->pcpu[cpu % IOMMU_IOVA_MAX_CPUS];
}

static void spin_ns(uint64_t ns)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t.tv_nsec -
			 (uint64_t)t0.tv_nsec < ns);
}

void dma_inv_wait(struct iommu_dma *dma, unsigned cpu)
{
	uint64_t ns = dma->cfg.inv_wait_ns;

	if (!ns)
		return;
	dma_stat_add(&pcpu(dma, cpu)->inv_wait_ns, ns);
	if (dma->cfg.inv_wait_spin)
		spin_ns(ns);
}

uint64_t dma_clock(struct iommu_dma *dma)
{
	return atomic_load_explicit(&dma->now, memory_order_acquire);
}

void dma_clock_lock(struct iommu_dma *dma)
{
	pthread_mutex_lock(&dma->clock_lock);
}

void dma_clock_unlock(struct iommu_dma *dma)
{
	pthread_mutex_unlock(&dma->clock_lock);
}

/* ------------------------------------------------------------------ */
/* Cookies (iommu_dma_init_domain, iova_reserve_iommu_regions)          */

/* fq_flush_iotlb's flush: the core's domain and hardware locks make it
 * safe against maps and unmaps on other threads. */
void dma_cookie_flush_iotlb(struct dma_cookie *c, unsigned cpu)
{
	iommu_flush_iotlb_all(c->domain);
	dma_inv_wait(c->dma, cpu);
}

static int cookie_reserve(struct dma_cookie *c, uint64_t start, uint64_t end)
{
	uint64_t lo = start >> c->shift, hi = end >> c->shift;

	return iommu_iova_reserve(c->iovad, lo, hi);
}

/* A new cookie for @d, the default domain of @dev's group.  Called with
 * dma->lock held. */
static int cookie_create(struct iommu_dma *dma, struct iommu_dma_device *dev,
			 struct iommu_domain *d, struct dma_cookie **out, struct iommu_error *err)
{
	struct dma_cookie *c = aligned_alloc(DMA_CACHELINE, line_round(sizeof(*c)));
	struct iommu_domain_geometry geo;
	uint64_t base_pfn;
	int ret;

	if (!c)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	memset(c, 0, sizeof(*c));
	c->dma = dma;
	c->domain = d;
	iommu_domain_get_geometry(d, &geo);
	if (!geo.pgsize_bitmap) {
		free(c);
		return iommu_error_set(err, -EINVAL, "%s: the domain has no page sizes",
				       dev->pdev->name);
	}
	/* The smallest page size is the IOVA granule; pfn 0 is never used. */
	c->shift = (unsigned)__builtin_ctzll(geo.pgsize_bitmap);
	c->granule_mask = (UINT64_C(1) << c->shift) - 1;
	c->aperture_end = geo.aperture_end;
	c->force_aperture = geo.force_aperture;
	base_pfn = geo.aperture_start >> c->shift;
	if (base_pfn < 1)
		base_pfn = 1;
	ret = iommu_iova_domain_create(UINT64_C(1) << c->shift, base_pfn, &c->iovad);
	if (ret) {
		free(c);
		return iommu_error_set(err, ret, "%s: cannot set up the IOVA domain: %s",
				       dev->pdev->name, strerror(-ret));
	}
	/* iova_reserve_pci_windows, then every reserved region but SW_MSI. */
	for (size_t i = 0; i < dma->cfg.n_pci_windows && !ret; i++)
		ret = cookie_reserve(c, dma->windows[i].start, dma->windows[i].end);
	for (size_t i = 0; dev->group && i < dev->group->n_resv && !ret; i++) {
		const struct iommu_resv_region *r = &dev->group->resv[i];

		if (r->type != IOMMU_RESV_SW_MSI)
			ret = cookie_reserve(c, r->start, r->end);
	}
	if (ret) {
		iommu_iova_domain_destroy(c->iovad);
		free(c);
		return iommu_error_set(err, ret, "%s: cannot reserve IOVA ranges: %s",
				       dev->pdev->name, strerror(-ret));
	}
	*out = c;
	return 0;
}

/* The DMA-FQ upgrade (at setup, or after a sysfs DMA -> DMA-FQ write). */
static void cookie_enable_fq(struct dma_cookie *c)
{
	struct dma_fq *fq;

	if (atomic_load_explicit(&c->fq, memory_order_acquire))
		return;
	/* iommu_dma_init_domain: when the queue cannot be had, strict. */
	if (dma_fq_create(c, &fq) == 0)
		atomic_store_explicit(&c->fq, fq, memory_order_release);
}

/*
 * An unmap found the domain DMA-FQ while this cookie has no flush queue
 * yet: the group's type was written DMA -> DMA-FQ (in place) since the
 * caller looked, and the unmap already left the IOTLB to a flush.  The
 * queue comes up now (what the next dev_resolve() would do) and takes the
 * IOVA; if it cannot be had, the IOTLB is flushed here, so that the strict
 * free that follows is safe.
 */
static __attribute__((noinline, cold)) struct dma_fq *cookie_fq_late(struct dma_cookie *c)
{
	struct dma_fq *fq;

	pthread_mutex_lock(&c->dma->lock);
	cookie_enable_fq(c);
	pthread_mutex_unlock(&c->dma->lock);
	fq = atomic_load_explicit(&c->fq, memory_order_acquire);
	if (!fq)
		iommu_flush_iotlb_all(c->domain);
	return fq;
}

static void cookie_destroy(struct dma_cookie *c)
{
	dma_fq_destroy(atomic_load_explicit(&c->fq, memory_order_relaxed),
		       !atomic_load_explicit(&c->retired, memory_order_relaxed));
	iommu_iova_domain_destroy(c->iovad);
	free(c);
}

/*
 * What path @dev's DMA takes now, and for the IOMMU path its cookie
 * (iommu_get_dma_domain: the group's default domain).  NULL with *@path
 * set for the direct paths; NULL with -errno in *@ret on failure.
 */
static struct dma_cookie *dev_resolve(struct iommu_dma_device *dev, enum iommu_dma_path *path,
				      int *ret, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	struct iommu_domain *d;
	struct dma_cookie *c;
	enum iommu_domain_type t;

	*ret = 0;
	/*
	 * iommu_get_dma_domain(): the group's default domain, read without
	 * the group lock as the kernel reads it.  It only changes through a
	 * write to the group's type, which the kernel refuses while a driver
	 * using the DMA API is bound; the DMA -> DMA-FQ upgrade keeps the
	 * domain and is seen through its type.
	 */
	d = dev->group ? __atomic_load_n(&dev->group->default_domain, __ATOMIC_ACQUIRE) : NULL;
	c = atomic_load_explicit(&dev->cookie, memory_order_acquire);
	if (c && c->domain != d) {
		/* The group's default domain was replaced (a type write; the
		 * core frees the old one): retire its cookie. */
		pthread_mutex_lock(&dma->lock);
		atomic_store_explicit(&c->retired, true, memory_order_release);
		atomic_store_explicit(&dev->cookie, NULL, memory_order_release);
		pthread_mutex_unlock(&dma->lock);
	}
	if (!d) {
		*path = IOMMU_DMA_PATH_DIRECT_NO_IOMMU;
		return NULL;
	}
	t = iommu_domain_get_type(d);
	if (t != IOMMU_DOMAIN_DMA && t != IOMMU_DOMAIN_DMA_FQ) {
		*path = IOMMU_DMA_PATH_DIRECT_IDENTITY;
		return NULL;
	}
	c = atomic_load_explicit(&dev->cookie, memory_order_acquire);
	if (!c || c->domain != d || (t == IOMMU_DOMAIN_DMA_FQ &&
				     !atomic_load_explicit(&c->fq, memory_order_acquire))) {
		pthread_mutex_lock(&dma->lock);
		for (c = atomic_load_explicit(&dma->cookies, memory_order_relaxed); c; c = c->next)
			if (c->domain == d && !atomic_load_explicit(&c->retired, memory_order_relaxed))
				break;
		if (!c) {
			*ret = cookie_create(dma, dev, d, &c, err);
			if (*ret) {
				pthread_mutex_unlock(&dma->lock);
				return NULL;
			}
			c->next = atomic_load_explicit(&dma->cookies, memory_order_relaxed);
			atomic_store_explicit(&dma->cookies, c, memory_order_release);
		}
		if (t == IOMMU_DOMAIN_DMA_FQ)
			cookie_enable_fq(c);
		atomic_store_explicit(&dev->cookie, c, memory_order_release);
		pthread_mutex_unlock(&dma->lock);
	}
	*path = atomic_load_explicit(&c->fq, memory_order_acquire) ? IOMMU_DMA_PATH_IOMMU_LAZY
								    : IOMMU_DMA_PATH_IOMMU_STRICT;
	return c;
}

/*
 * The hot path's view: the cookie cached by an earlier dev_resolve(),
 * still the group's default domain's.  NULL: take the full path.
 */
static inline __attribute__((always_inline)) struct dma_cookie *
dev_cookie_fast(struct iommu_dma_device *dev)
{
	struct dma_cookie *c = atomic_load_explicit(&dev->cookie, memory_order_acquire);

	if (__builtin_expect(!c, 0))
		return NULL;
	return __builtin_expect(c->domain == __atomic_load_n(&dev->group->default_domain,
							   __ATOMIC_ACQUIRE) &&
				!atomic_load_explicit(&c->retired, memory_order_relaxed), 1) ? c
											: NULL;
}

enum iommu_dma_path iommu_dma_device_path(struct iommu_dma_device *dev)
{
	enum iommu_dma_path path;
	int ret;

	dev_resolve(dev, &path, &ret, NULL);
	return ret ? IOMMU_DMA_PATH_DIRECT_NO_IOMMU : path;
}

struct iommu_domain *iommu_dma_device_domain(struct iommu_dma_device *dev)
{
	enum iommu_dma_path path;
	int ret;
	struct dma_cookie *c = dev_resolve(dev, &path, &ret, NULL);

	return c ? c->domain : NULL;
}

struct iommu_iova_domain *iommu_dma_device_iovad(struct iommu_dma_device *dev)
{
	enum iommu_dma_path path;
	int ret;
	struct dma_cookie *c = dev_resolve(dev, &path, &ret, NULL);

	return c ? c->iovad : NULL;
}

/* ------------------------------------------------------------------ */
/* dma-debug                                                            */

static struct dbg_bucket *dbg_bucket(struct iommu_dma *dma, uint64_t addr)
{
	uint64_t h = (addr >> 12) * UINT64_C(0x9e3779b97f4a7c15);

	return &dma->dbg[h >> (64 - 10)];
}
_Static_assert(DBG_BUCKETS == 1u << 10, "bucket hash uses 10 bits");

static void dbg_add(struct iommu_dma *dma, const struct iommu_dma_device *dev, uint64_t addr,
		    uint64_t size, uint64_t phys, int dir, int type, int nents)
{
	struct dbg_entry *e;
	struct dbg_bucket *b;

	if (!dma->dbg)
		return;
	e = malloc(sizeof(*e));
	if (!e) {
		dma_log(dma, "DMA-API: %s: out of memory for a dma-debug entry", dev->pdev->name);
		return;
	}
	*e = (struct dbg_entry){ .dev = dev, .addr = addr, .size = size, .phys = phys,
				 .dir = dir, .type = type, .nents = nents };
	b = dbg_bucket(dma, addr);
	pthread_mutex_lock(&b->lock);
	e->next = b->head;
	b->head = e;
	pthread_mutex_unlock(&b->lock);
}

/*
 * check_unmap: find the mapping of @dev at @addr and compare; remove it
 * when everything matches.  0, or -ENOENT / -EINVAL with dma-debug's
 * report in @err and the log.
 */
static int dbg_check_remove(struct iommu_dma *dma, const struct iommu_dma_device *dev,
			    uint64_t addr, uint64_t size, uint64_t phys, int dir, int type, int nents,
			    struct iommu_error *err)
{
	struct dbg_bucket *b;
	struct dbg_entry **pp, **best = NULL, *e;
	char msg[IOMMU_ERROR_MSG_MAX];
	int ret = 0;

	if (!dma->dbg)
		return 0;
	b = dbg_bucket(dma, addr);
	pthread_mutex_lock(&b->lock);
	for (pp = &b->head; *pp; pp = &(*pp)->next) {
		e = *pp;
		if (e->dev != dev || e->addr != addr)
			continue;
		/* The closest match first (dma-debug's bucket_find_contain). */
		if (!best || (e->size == size && e->type == type))
			best = pp;
		if (e->size == size && e->type == type && e->dir == dir)
			break;
	}
	if (!best) {
		snprintf(msg, sizeof(msg), "DMA-API: %s: device driver tries to free DMA memory it "
			 "has not allocated [device address=0x%016" PRIx64 "] [size=%" PRIu64
			 " bytes]", dev->pdev->name, addr, size);
		ret = -ENOENT;
	} else {
		e = *best;
		if (e->type == DBG_SG && type == DBG_SG && e->nents != nents) {
			snprintf(msg, sizeof(msg), "DMA-API: %s: device driver frees DMA sg list with "
				 "different entry count [map count=%d] [unmap count=%d]",
				 dev->pdev->name, e->nents, nents);
			ret = -EINVAL;
		} else if (e->size != size) {
			snprintf(msg, sizeof(msg), "DMA-API: %s: device driver frees DMA memory with "
				 "different size [device address=0x%016" PRIx64 "] [map size=%" PRIu64
				 " bytes] [unmap size=%" PRIu64 " bytes]", dev->pdev->name, addr,
				 e->size, size);
			ret = -EINVAL;
		} else if (e->type != type) {
			snprintf(msg, sizeof(msg), "DMA-API: %s: device driver frees DMA memory with "
				 "wrong function [device address=0x%016" PRIx64 "] [size=%" PRIu64
				 " bytes] [mapped as %s] [unmapped as %s]", dev->pdev->name, addr,
				 size, type_kname(e->type), type_kname(type));
			ret = -EINVAL;
		} else if (type == DBG_COHERENT && e->phys != phys) {
			snprintf(msg, sizeof(msg), "DMA-API: %s: device driver frees DMA memory with "
				 "different CPU address [device address=0x%016" PRIx64 "] [size=%"
				 PRIu64 " bytes] [cpu alloc address=0x%016" PRIx64 "] [cpu free "
				 "address=0x%016" PRIx64 "]", dev->pdev->name, addr, size, e->phys,
				 phys);
			ret = -EINVAL;
		} else if (type != DBG_COHERENT && e->dir != dir) {
			snprintf(msg, sizeof(msg), "DMA-API: %s: device driver frees DMA memory with "
				 "different direction [device address=0x%016" PRIx64 "] [size=%"
				 PRIu64 " bytes] [mapped with %s] [unmapped with %s]", dev->pdev->name,
				 addr, size, dir_kname(e->dir), dir_kname(dir));
			ret = -EINVAL;
		} else {
			*best = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (ret) {
		dma_log(dma, "%s", msg);
		iommu_error_set(err, ret, "%s", msg);
	}
	return ret;
}

static size_t dbg_leaks(struct iommu_dma *dma, bool report)
{
	size_t n = 0;

	if (!dma->dbg)
		return 0;
	for (unsigned i = 0; i < DBG_BUCKETS; i++) {
		struct dbg_bucket *b = &dma->dbg[i];

		pthread_mutex_lock(&b->lock);
		for (struct dbg_entry *e = b->head, *nx; e; e = nx) {
			nx = e->next;
			if (report)
				dma_log(dma, "DMA-API: %s: device driver has pending DMA allocations "
					"while released from device [device address=0x%016" PRIx64
					"] [size=%" PRIu64 " bytes] [mapped as %s]", e->dev->pdev->name,
					e->addr, e->size, type_kname(e->type));
			n++;
		}
		pthread_mutex_unlock(&b->lock);
	}
	return n;
}

size_t iommu_dma_report_leaks(struct iommu_dma *dma)
{
	return dbg_leaks(dma, true);
}

/* ------------------------------------------------------------------ */
/* Context and devices                                                  */

void iommu_dma_config_init(struct iommu_dma_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->debug = true;
}

int iommu_dma_create(struct iommu_system *s, const struct iommu_dma_config *cfg,
		     struct iommu_dma **out, struct iommu_error *err)
{
	struct iommu_dma_config def;
	struct iommu_dma *dma;
	uint64_t pb, ps;

	*out = NULL;
	if (!s || !iommu_system_started(s) || !iommu_system_mem(s))
		return iommu_error_set(err, -EINVAL, "the DMA API needs a started system "
				       "(iommu_system_start)");
	if (!cfg) {
		iommu_dma_config_init(&def);
		cfg = &def;
	}
	for (size_t i = 0; i < cfg->n_pci_windows; i++)
		if (cfg->pci_windows[i].end < cfg->pci_windows[i].start)
			return iommu_error_set(err, -EINVAL, "PCI window %zu: end 0x%" PRIx64
					       " precedes start 0x%" PRIx64, i,
					       cfg->pci_windows[i].end, cfg->pci_windows[i].start);
	dma = aligned_alloc(DMA_CACHELINE, sizeof(*dma));
	if (!dma)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	memset(dma, 0, sizeof(*dma));
	dma->s = s;
	dma->cfg = *cfg;
	dma->mem = iommu_system_mem(s);
	dma->mem_size = iommu_mem_size(dma->mem);
	pb = cfg->coherent_size ? cfg->coherent_base : POOL_DEFAULT_BASE;
	ps = cfg->coherent_size ? cfg->coherent_size : POOL_DEFAULT_SIZE;
	if (!cfg->coherent_size && pb + ps > dma->mem_size) {
		/* A small memory: its second quarter. */
		pb = dma->mem_size / 4 & ~(PAGE_SZ - 1);
		ps = dma->mem_size / 4 & ~(PAGE_SZ - 1);
	}
	if ((pb | ps) & (PAGE_SZ - 1) || !ps || pb + ps < pb || pb + ps > dma->mem_size) {
		uint64_t msz = dma->mem_size;

		free(dma);
		return iommu_error_set(err, -EINVAL, "coherent pool 0x%" PRIx64 "+0x%" PRIx64
				       ": not page aligned, empty or beyond the modelled memory "
				       "(0x%" PRIx64 " bytes)", pb, ps, msz);
	}
	dma->pool_base = pb;
	dma->pool_pages = ps / PAGE_SZ;
	dma->pool_map = calloc(dma->pool_pages, 1);
	dma->n_devs = s->n_devices;
	dma->devs = calloc(s->n_devices ? s->n_devices : 1, sizeof(*dma->devs));
	if (cfg->n_pci_windows) {
		dma->windows = calloc(cfg->n_pci_windows, sizeof(*dma->windows));
		if (dma->windows)
			memcpy(dma->windows, cfg->pci_windows,
			       cfg->n_pci_windows * sizeof(*dma->windows));
	}
	dma->cfg.pci_windows = dma->windows;
	if (cfg->debug) {
		dma->dbg = aligned_alloc(DMA_CACHELINE, DBG_BUCKETS * sizeof(*dma->dbg));
		if (dma->dbg)
			for (unsigned i = 0; i < DBG_BUCKETS; i++) {
				dma->dbg[i].head = NULL;
				pthread_mutex_init(&dma->dbg[i].lock, NULL);
			}
	}
	if (!dma->pool_map || !dma->devs ||
	    (cfg->n_pci_windows && !dma->windows) || (cfg->debug && !dma->dbg)) {
		free(dma->pool_map);
		free(dma->devs);
		free(dma->windows);
		free(dma->dbg);
		free(dma);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&dma->lock, NULL);
	pthread_mutex_init(&dma->clock_lock, NULL);
	pthread_mutex_init(&dma->log_lock, NULL);
	pthread_mutex_init(&dma->pool_lock, NULL);
	*out = dma;
	return 0;
}

void iommu_dma_destroy(struct iommu_dma *dma)
{
	struct dma_cookie *c, *nx;

	if (!dma)
		return;
	for (c = atomic_load_explicit(&dma->cookies, memory_order_acquire); c; c = nx) {
		nx = c->next;
		cookie_destroy(c);
	}
	if (dma->dbg) {
		for (unsigned i = 0; i < DBG_BUCKETS; i++) {
			for (struct dbg_entry *e = dma->dbg[i].head, *n; e; e = n) {
				n = e->next;
				free(e);
			}
			pthread_mutex_destroy(&dma->dbg[i].lock);
		}
		free(dma->dbg);
	}
	for (size_t i = 0; i < dma->n_devs; i++)
		free(atomic_load_explicit(&dma->devs[i], memory_order_relaxed));
	pthread_mutex_destroy(&dma->lock);
	pthread_mutex_destroy(&dma->clock_lock);
	pthread_mutex_destroy(&dma->log_lock);
	pthread_mutex_destroy(&dma->pool_lock);
	iommu_strv_free(&dma->log, &dma->n_log);
	free(dma->devs);
	free(dma->windows);
	free(dma->pool_map);
	free(dma);
}

int iommu_dma_device_get(struct iommu_dma *dma, const struct iommu_pci_dev *pdev,
			 struct iommu_dma_device **out)
{
	struct iommu_device_info *di;
	struct iommu_dma_device *dev;
	size_t i;

	*out = NULL;
	di = pdev ? iommu_system_device(dma->s, pdev) : NULL;
	if (!di)
		return -ENOENT;
	i = (size_t)(di - dma->s->devices);
	if (i >= dma->n_devs)
		return -ENOENT;
	dev = atomic_load_explicit(&dma->devs[i], memory_order_acquire);
	if (dev) {
		*out = dev;
		return 0;
	}
	pthread_mutex_lock(&dma->lock);
	dev = atomic_load_explicit(&dma->devs[i], memory_order_relaxed);
	if (!dev) {
		dev = aligned_alloc(DMA_CACHELINE, line_round(sizeof(*dev)));
		if (!dev) {
			pthread_mutex_unlock(&dma->lock);
			return -ENOMEM;
		}
		memset(dev, 0, sizeof(*dev));
		dev->dma = dma;
		dev->info = di;
		dev->pdev = di->pdev;
		dev->group = di->group;
		/* A PCI driver's dma_set_mask_and_coherent(DMA_BIT_MASK(64)). */
		atomic_init(&dev->dma_mask, ~UINT64_C(0));
		atomic_init(&dev->coherent_mask, ~UINT64_C(0));
		/* iommu_setup_dma_ops: PCI devices try 32-bit IOVAs first
		 * unless iommu.forcedac. */
		atomic_init(&dev->pci_32bit_workaround, !dma->s->cmdline.forcedac);
		atomic_store_explicit(&dma->devs[i], dev, memory_order_release);
	}
	pthread_mutex_unlock(&dma->lock);
	*out = dev;
	return 0;
}

const struct iommu_pci_dev *iommu_dma_device_pdev(const struct iommu_dma_device *dev)
{
	return dev->pdev;
}

/* dma_supported(): iommu_dma_ops has no check; dma-direct wants ZONE_DMA
 * covered (x86: 24 bits). */
static int mask_supported(struct iommu_dma_device *dev, uint64_t mask)
{
	enum iommu_dma_path path;
	int ret;

	if (!mask)
		return -EIO;
	dev_resolve(dev, &path, &ret, NULL);
	if ((path == IOMMU_DMA_PATH_DIRECT_NO_IOMMU || path == IOMMU_DMA_PATH_DIRECT_IDENTITY) &&
	    mask < DMA_ZONE_DMA_MASK)
		return -EIO;
	return 0;
}

int iommu_dma_set_mask(struct iommu_dma_device *dev, uint64_t mask)
{
	int ret = mask_supported(dev, mask);

	if (!ret)
		atomic_store_explicit(&dev->dma_mask, mask, memory_order_relaxed);
	return ret;
}

int iommu_dma_set_coherent_mask(struct iommu_dma_device *dev, uint64_t mask)
{
	int ret = mask_supported(dev, mask);

	if (!ret)
		atomic_store_explicit(&dev->coherent_mask, mask, memory_order_relaxed);
	return ret;
}

uint64_t iommu_dma_get_mask(const struct iommu_dma_device *dev)
{
	return atomic_load_explicit(&dev->dma_mask, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* The IOMMU path (dma-iommu.c)                                         */

/*
 * iommu_dma_alloc_iova: @size bytes (granule multiple) below
 * min(@dma_limit, the aperture end); PCI devices first below 4 GiB until
 * that fails once.  The IOVA, or 0.
 */
static __attribute__((noinline, cold)) void notice_dac(struct dma_cookie *c,
						      struct iommu_dma_device *dev,
						      uint64_t dma_limit)
{
	dma_log(c->dma, "%s: Using %u-bit DMA addresses", dev->pdev->name, bits_per(dma_limit));
}

static inline __attribute__((always_inline)) uint64_t
cookie_alloc_iova(struct dma_cookie *c, struct iommu_dma_device *dev, unsigned cpu, uint64_t size,
		  uint64_t dma_limit)
{
	uint64_t len = size >> c->shift, pfn;

	if (c->force_aperture && dma_limit > c->aperture_end)
		dma_limit = c->aperture_end;
	if (dma_limit > DMA_32BIT_LIMIT &&
	    atomic_load_explicit(&dev->pci_32bit_workaround, memory_order_relaxed)) {
		pfn = iommu_iova_alloc_fast(c->iovad, cpu, len, DMA_32BIT_LIMIT >> c->shift, false);
		if (pfn)
			return pfn << c->shift;
		if (atomic_exchange_explicit(&dev->pci_32bit_workaround, false,
					     memory_order_relaxed))
			notice_dac(c, dev, dma_limit);
	}
	pfn = iommu_iova_alloc_fast(c->iovad, cpu, len, dma_limit >> c->shift, true);
	return pfn << c->shift;
}

/* iommu_dma_free_iova without a gather: straight back to the caches. */
static inline void cookie_free_iova(struct dma_cookie *c, unsigned cpu, uint64_t iova,
				    uint64_t size)
{
	iommu_iova_free_fast(c->iovad, cpu, iova >> c->shift, size >> c->shift);
}

/* __iommu_dma_map: 0 with *@addr, or -errno with the reason in @err. */
static int cookie_map(struct dma_cookie *c, struct iommu_dma_device *dev, unsigned cpu,
		      uint64_t phys, uint64_t size, int prot, uint64_t dma_mask, uint64_t *addr,
		      struct iommu_error *err)
{
	uint64_t off = phys & c->granule_mask;
	uint64_t asize, iova;
	int ret;

	if (size > UINT64_MAX - off - c->granule_mask)
		return iommu_error_set(err, -EINVAL, "%s: size 0x%" PRIx64 " overflows",
				       dev->pdev->name, size);
	asize = (size + off + c->granule_mask) & ~c->granule_mask;
	iova = cookie_alloc_iova(c, dev, cpu, asize, dma_mask);
	if (!iova)
		return iommu_error_set(err, -ENOMEM, "%s: no IOVA space for 0x%" PRIx64 " bytes "
				       "below mask 0x%" PRIx64, dev->pdev->name, asize, dma_mask);
	ret = iommu_map(c->domain, iova, phys - off, asize, prot);
	if (ret) {
		cookie_free_iova(c, cpu, iova, asize);
		return iommu_error_set(err, ret, "%s: iommu_map of 0x%" PRIx64 "+0x%" PRIx64
				       " failed: %s", dev->pdev->name, iova, asize, strerror(-ret));
	}
	*addr = iova + off;
	return 0;
}

/* __iommu_dma_unmap: 0, or -ENOENT when nothing was mapped there. */
static int cookie_unmap(struct dma_cookie *c, struct iommu_dma_device *dev, unsigned cpu,
			uint64_t addr, uint64_t size, struct iommu_error *err)
{
	uint64_t off = addr & c->granule_mask;
	uint64_t base = addr - off, asize, unmapped;
	enum iommu_domain_type type;
	struct dma_fq *fq;
	bool mapped;

	if (size > UINT64_MAX - off - c->granule_mask)
		return iommu_error_set(err, -EINVAL, "%s: size 0x%" PRIx64 " overflows",
				       dev->pdev->name, size);
	asize = (size + off + c->granule_mask) & ~c->granule_mask;
	/* iommu_dma_unmap_page: iova_to_phys() finds nothing there, WARN
	 * and return; else iommu_unmap.  (The kernel's sg and coherent paths
	 * skip the check; here they make it too: freeing an IOVA that was
	 * never allocated, or twice, would corrupt the allocator's caches.)
	 * Both in one call to the core, one lock round and, where the table
	 * allows, one walk (core_unmap_checked). */
	unmapped = core_unmap_checked(c->domain, addr, base, asize, &mapped, &type);
	if (!mapped || !unmapped) {
		dma_log(c->dma, "WARNING: %s: unmap of DMA address 0x%" PRIx64 " (0x%" PRIx64
			" bytes): nothing is mapped there", dev->pdev->name, addr, size);
		return iommu_error_set(err, -ENOENT, "%s: nothing is mapped at DMA address 0x%"
				       PRIx64 " (never mapped, or unmapped already)",
				       dev->pdev->name, addr);
	}
	if (unmapped != asize)
		dma_log(c->dma, "WARNING: %s: unmap of 0x%" PRIx64 "+0x%" PRIx64 " unmapped 0x%"
			PRIx64 " bytes", dev->pdev->name, base, asize, unmapped);
	fq = atomic_load_explicit(&c->fq, memory_order_acquire);
	if (!fq && type == IOMMU_DOMAIN_DMA_FQ)
		fq = cookie_fq_late(c);
	if (fq) {
		dma_fq_queue(fq, cpu, base >> c->shift, asize >> c->shift);
	} else {
		/* Strict: the unmap has invalidated (iotlb_sync) before the
		 * IOVA goes back. */
		dma_stat_add(&pcpu(c->dma, cpu)->inv_sync, 1);
		dma_inv_wait(c->dma, cpu);
		cookie_free_iova(c, cpu, base, asize);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Streaming mappings                                                   */

static int check_buffer(struct iommu_dma_device *dev, uint64_t phys, uint64_t size,
			struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;

	if (phys >= dma->mem_size || size > dma->mem_size - phys)
		return iommu_error_set(err, -EINVAL, "%s: buffer 0x%" PRIx64 "+0x%" PRIx64 " lies "
				       "beyond the modelled memory (0x%" PRIx64 " bytes)",
				       dev->pdev->name, phys, size, dma->mem_size);
	return 0;
}

/* dma_capable(): the last byte within the mask. */
static bool direct_capable(uint64_t addr, uint64_t size, uint64_t mask)
{
	return addr <= mask && (size == 0 || size - 1 <= mask - addr);
}

static uint64_t map_fail(struct iommu_dma *dma, unsigned cpu)
{
	dma_stat_add(&pcpu(dma, cpu)->map_errors, 1);
	return IOMMU_DMA_MAPPING_ERROR;
}

static __attribute__((noinline)) uint64_t
map_page_slow(struct iommu_dma_device *dev, uint64_t page_phys, uint64_t offset, uint64_t size,
	      enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	enum iommu_dma_path path;
	struct dma_cookie *c;
	uint64_t phys = page_phys + offset, addr, mask;
	int ret;

	if (!dir_valid(dir)) {
		iommu_error_set(err, -EINVAL, "%s: DMA direction %d is not valid for a mapping "
				"(the kernel BUG()s)", dev->pdev->name, (int)dir);
		return map_fail(dma, cpu);
	}
	if (phys < page_phys || check_buffer(dev, phys, size, err))
		return map_fail(dma, cpu);
	mask = atomic_load_explicit(&dev->dma_mask, memory_order_relaxed);
	c = dev_resolve(dev, &path, &ret, err);
	if (!c) {
		if (ret)
			return map_fail(dma, cpu);
		/* dma_direct_map_page: no bounce buffers in the model. */
		if (!direct_capable(phys, size, mask)) {
			iommu_error_set(err, -EIO, "%s: DMA addr 0x%016" PRIx64 "+%" PRIu64
					" overflow (mask %" PRIx64 ")", dev->pdev->name, phys, size,
					mask);
			return map_fail(dma, cpu);
		}
		dbg_add(dma, dev, phys, size, phys, dir, DBG_SINGLE, 0);
		dma_stat_add(&pcpu(dma, cpu)->maps, 1);
		dma_stat_add(&pcpu(dma, cpu)->direct_maps, 1);
		return phys;
	}
	if (!size) {
		iommu_error_set(err, -EINVAL, "%s: a mapping of 0 bytes (the kernel's "
				"roundup_pow_of_two(0) is undefined; refused)", dev->pdev->name);
		return map_fail(dma, cpu);
	}
	ret = cookie_map(c, dev, cpu, phys, size, dir_prot(dir), mask, &addr, err);
	if (ret)
		return map_fail(dma, cpu);
	dbg_add(dma, dev, addr, size, phys, dir, DBG_SINGLE, 0);
	dma_stat_add(&pcpu(dma, cpu)->maps, 1);
	return addr;
}

/*
 * The common case without detours: a device whose cookie is cached, a
 * valid direction, a buffer inside memory, an IOVA and a map that work.
 * Anything else, and every failure, goes through map_page_slow(), which
 * makes every check and says what went wrong (a failed attempt here
 * leaves nothing behind: its IOVA went back).
 */
static inline __attribute__((always_inline)) uint64_t
map_fast(struct iommu_dma_device *dev, uint64_t phys, uint64_t size,
	 enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	struct dma_cookie *c = dev_cookie_fast(dev);

	if (__builtin_expect(c && dir_valid(dir) && size && phys < dma->mem_size &&
			     size <= dma->mem_size - phys, 1)) {
		unsigned cpu = iommu_iova_this_cpu();
		uint64_t off = phys & c->granule_mask;
		uint64_t asize = (size + off + c->granule_mask) & ~c->granule_mask;
		uint64_t iova = cookie_alloc_iova(c, dev, cpu, asize,
						  atomic_load_explicit(&dev->dma_mask,
								       memory_order_relaxed));

		if (__builtin_expect(iova != 0, 1)) {
			if (__builtin_expect(!iommu_map(c->domain, iova, phys - off, asize,
							dir_prot(dir)), 1)) {
				if (dma->dbg)
					dbg_add(dma, dev, iova + off, size, phys, dir, DBG_SINGLE, 0);
				dma_stat_add(&pcpu(dma, cpu)->maps, 1);
				return iova + off;
			}
			cookie_free_iova(c, cpu, iova, asize);
		}
	}
	return map_page_slow(dev, phys & ~(PAGE_SZ - 1), phys & (PAGE_SZ - 1), size, dir, err);
}

uint64_t iommu_dma_map_page(struct iommu_dma_device *dev, uint64_t page_phys, uint64_t offset,
			    uint64_t size, enum iommu_dma_data_direction dir,
			    struct iommu_error *err)
{
	if (page_phys + offset < page_phys)
		return map_page_slow(dev, page_phys, offset, size, dir, err);
	return map_fast(dev, page_phys + offset, size, dir, err);
}

uint64_t iommu_dma_map_single(struct iommu_dma_device *dev, uint64_t phys, uint64_t size,
			      enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	return map_fast(dev, phys, size, dir, err);
}

static int bad_unmap(struct iommu_dma *dma, unsigned cpu, int ret)
{
	dma_stat_add(&pcpu(dma, cpu)->bad_unmaps, 1);
	return ret;
}

static __attribute__((noinline)) int
unmap_page_slow(struct iommu_dma_device *dev, uint64_t addr, uint64_t size,
		enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	enum iommu_dma_path path;
	struct dma_cookie *c;
	int ret;

	if (!dir_valid(dir))
		return bad_unmap(dma, cpu, iommu_error_set(err, -EINVAL, "%s: DMA direction %d is "
							   "not valid (the kernel BUG()s)",
							   dev->pdev->name, (int)dir));
	c = dev_resolve(dev, &path, &ret, err);
	if (ret)
		return bad_unmap(dma, cpu, ret);
	ret = dbg_check_remove(dma, dev, addr, size, 0, dir, DBG_SINGLE, 0, err);
	if (ret)
		return bad_unmap(dma, cpu, ret);
	if (c) {
		ret = cookie_unmap(c, dev, cpu, addr, size, err);
		if (ret)
			return bad_unmap(dma, cpu, ret);
	} else {
		dma_stat_add(&pcpu(dma, cpu)->direct_unmaps, 1);
	}
	dma_stat_add(&pcpu(dma, cpu)->unmaps, 1);
	return 0;
}

/*
 * The common unmap: cached cookie, valid direction, no dma-debug, a range
 * mapped and unmapped whole.  The same steps as cookie_unmap(); anything
 * unusual goes through unmap_page_slow() before anything changed (nothing
 * mapped at @addr: core_unmap_checked() changed nothing, the slow path
 * reports it).  Strict or lazy is decided by the domain's type as the
 * unmap saw it under the domain's lock, so a DMA -> DMA-FQ upgrade in
 * between cannot leave a deferred unmap's IOVA freed as a strict one.
 */
int iommu_dma_unmap_page(struct iommu_dma_device *dev, uint64_t addr, uint64_t size,
			 enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	struct dma_cookie *c = dev_cookie_fast(dev);

	if (__builtin_expect(c && dir_valid(dir) && !dma->dbg, 1)) {
		uint64_t off = addr & c->granule_mask, base = addr - off, asize, unmapped;
		enum iommu_domain_type type;
		struct dma_fq *fq;
		unsigned cpu;
		bool mapped;

		if (__builtin_expect(size > UINT64_MAX - off - c->granule_mask, 0))
			return unmap_page_slow(dev, addr, size, dir, err);
		asize = (size + off + c->granule_mask) & ~c->granule_mask;
		/* iommu_dma_unmap_page's iova_to_phys() check and the unmap,
		 * in one call (core_unmap_checked). */
		unmapped = core_unmap_checked(c->domain, addr, base, asize, &mapped, &type);
		if (__builtin_expect(!mapped, 0))
			return unmap_page_slow(dev, addr, size, dir, err);
		if (__builtin_expect(unmapped != asize, 0))
			dma_log(dma, "WARNING: %s: unmap of 0x%" PRIx64 "+0x%" PRIx64 " unmapped 0x%"
				PRIx64 " bytes", dev->pdev->name, base, asize, unmapped);
		cpu = iommu_iova_this_cpu();
		fq = atomic_load_explicit(&c->fq, memory_order_acquire);
		if (__builtin_expect(!fq && type == IOMMU_DOMAIN_DMA_FQ, 0))
			fq = cookie_fq_late(c);
		if (fq) {
			dma_fq_queue(fq, cpu, base >> c->shift, asize >> c->shift);
		} else {
			dma_stat_add(&pcpu(dma, cpu)->inv_sync, 1);
			if (dma->cfg.inv_wait_ns)
				dma_inv_wait(dma, cpu);
			cookie_free_iova(c, cpu, base, asize);
		}
		dma_stat_add(&pcpu(dma, cpu)->unmaps, 1);
		return 0;
	}
	return unmap_page_slow(dev, addr, size, dir, err);
}

int iommu_dma_unmap_single(struct iommu_dma_device *dev, uint64_t addr, uint64_t size,
			   enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	return iommu_dma_unmap_page(dev, addr, size, dir, err);
}

/* ------------------------------------------------------------------ */
/* Scatterlists                                                         */

/* dma_direct_map_sg: each entry at its physical address. */
static int direct_map_sg(struct iommu_dma_device *dev, struct iommu_dma_sg *sg, int nents,
			 uint64_t mask, struct iommu_error *err)
{
	for (int i = 0; i < nents; i++) {
		if (!direct_capable(sg[i].phys, sg[i].length, mask)) {
			for (int j = 0; j < nents; j++) {
				sg[j].dma_address = IOMMU_DMA_MAPPING_ERROR;
				sg[j].dma_length = 0;
			}
			return iommu_error_set(err, -EIO, "%s: sg entry %d: DMA addr 0x%016" PRIx64
					       "+%u overflow (mask %" PRIx64 ")", dev->pdev->name, i,
					       sg[i].phys, sg[i].length, mask);
		}
		sg[i].dma_address = sg[i].phys;
		sg[i].dma_length = sg[i].length;
	}
	return nents;
}

/*
 * iommu_dma_map_sg: every entry granule-aligned (the offset kept aside),
 * laid out back to back in one IOVA allocation, padded where an entry
 * would cross the segment boundary; then the DMA segments are written,
 * merging an entry into the previous segment when it starts on a granule,
 * not on a segment boundary, and the result stays within the maximum
 * segment size (__finalise_sg).
 */
static int cookie_map_sg(struct dma_cookie *c, struct iommu_dma_device *dev, unsigned cpu,
			 struct iommu_dma_sg *sg, int nents, int prot, uint64_t mask,
			 uint64_t *iova_out, uint64_t *len_out, struct iommu_error *err)
{
	const uint64_t seg_mask = IOMMU_DMA_PCI_SEG_BOUNDARY;
	const uint64_t max_len = IOMMU_DMA_PCI_MAX_SEG_SIZE;
	struct iommu_sg_entry *ents = calloc((size_t)nents, sizeof(*ents));
	uint64_t *offs = calloc((size_t)nents, sizeof(*offs));
	uint64_t iova_len = 0, iova, dma_addr, cur_len = 0;
	int64_t mapped;
	int cur = 0, count = 0, prev = -1, ret = 0;

	if (!ents || !offs) {
		ret = iommu_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nents; i++) {
		uint64_t off = sg[i].phys & c->granule_mask;
		uint64_t len = (sg[i].length + off + c->granule_mask) & ~c->granule_mask;
		uint64_t pad = (seg_mask - iova_len + 1) & seg_mask;

		offs[i] = off;
		ents[i].paddr = sg[i].phys - off;
		ents[i].length = len;
		if (pad && pad < len - 1 && prev >= 0) {
			ents[prev].length += pad;
			iova_len += pad;
		}
		iova_len += len;
		prev = i;
	}
	if (!iova_len) {
		iova = 0;
		goto finalise;
	}
	iova = cookie_alloc_iova(c, dev, cpu, iova_len, mask);
	if (!iova) {
		ret = iommu_error_set(err, -ENOMEM, "%s: no IOVA space for a %d-entry list of 0x%"
				      PRIx64 " bytes", dev->pdev->name, nents, iova_len);
		goto out;
	}
	mapped = iommu_map_sg(c->domain, iova, ents, (size_t)nents, prot);
	if (mapped < 0 || (uint64_t)mapped < iova_len) {
		cookie_free_iova(c, cpu, iova, iova_len);
		ret = iommu_error_set(err, mapped == -ENOMEM ? -ENOMEM : -EINVAL,
				      "%s: iommu_map_sg at 0x%" PRIx64 " failed: %s", dev->pdev->name,
				      iova, mapped < 0 ? strerror((int)-mapped) : "short");
		goto out;
	}
finalise:
	dma_addr = iova;
	for (int i = 0; i < nents; i++) {
		uint64_t s_off = offs[i], s_len = sg[i].length, s_iova_len = ents[i].length;

		sg[i].dma_address = IOMMU_DMA_MAPPING_ERROR;
		sg[i].dma_length = 0;
		if (cur_len && !s_off && (dma_addr & seg_mask) && max_len - cur_len >= s_len) {
			cur_len += s_len;
		} else {
			if (i > 0)
				cur++;
			cur_len = s_len;
			count++;
			sg[cur].dma_address = dma_addr + s_off;
		}
		sg[cur].dma_length = (uint32_t)cur_len;
		dma_addr += s_iova_len;
		if (s_len + s_off < s_iova_len)
			cur_len = 0;
	}
	*iova_out = iova;
	*len_out = iova_len;
	ret = count;
out:
	free(ents);
	free(offs);
	return ret;
}

int iommu_dma_map_sg(struct iommu_dma_device *dev, struct iommu_dma_sg *sg, int nents,
		     enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	enum iommu_dma_path path;
	struct dma_cookie *c;
	uint64_t mask, iova = 0, len = 0, total = 0;
	int ret;

	if (!dir_valid(dir)) {
		iommu_error_set(err, -EINVAL, "%s: DMA direction %d is not valid for a mapping "
				"(the kernel BUG()s)", dev->pdev->name, (int)dir);
		map_fail(dma, cpu);
		return 0;
	}
	if (!sg || nents <= 0) {
		iommu_error_set(err, -EINVAL, "%s: a scatterlist of %d entries", dev->pdev->name,
				nents);
		map_fail(dma, cpu);
		return 0;
	}
	for (int i = 0; i < nents; i++) {
		if (check_buffer(dev, sg[i].phys, sg[i].length, err)) {
			iommu_error_prefix(err, "sg entry %d", i);
			map_fail(dma, cpu);
			return 0;
		}
		total += sg[i].length;
	}
	mask = atomic_load_explicit(&dev->dma_mask, memory_order_relaxed);
	c = dev_resolve(dev, &path, &ret, err);
	if (!c && ret) {
		map_fail(dma, cpu);
		return 0;
	}
	ret = c ? cookie_map_sg(c, dev, cpu, sg, nents, dir_prot(dir), mask, &iova, &len, err)
		: direct_map_sg(dev, sg, nents, mask, err);
	if (ret <= 0) {
		map_fail(dma, cpu);
		return 0;
	}
	dbg_add(dma, dev, sg[0].dma_address, total, sg[0].phys, dir, DBG_SG, nents);
	dma_stat_add(&pcpu(dma, cpu)->maps, 1);
	if (!c)
		dma_stat_add(&pcpu(dma, cpu)->direct_maps, 1);
	return ret;
}

int iommu_dma_unmap_sg(struct iommu_dma_device *dev, struct iommu_dma_sg *sg, int nents,
		       enum iommu_dma_data_direction dir, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	enum iommu_dma_path path;
	struct dma_cookie *c;
	uint64_t start = 0, end = 0, total = 0;
	int i, ret;

	if (!dir_valid(dir))
		return bad_unmap(dma, cpu, iommu_error_set(err, -EINVAL, "%s: DMA direction %d is "
							   "not valid (the kernel BUG()s)",
							   dev->pdev->name, (int)dir));
	if (!sg || nents <= 0)
		return bad_unmap(dma, cpu, iommu_error_set(err, -EINVAL, "%s: a scatterlist of %d "
							   "entries", dev->pdev->name, nents));
	c = dev_resolve(dev, &path, &ret, err);
	if (ret)
		return bad_unmap(dma, cpu, ret);
	for (i = 0; i < nents; i++)
		total += sg[i].length;
	/* dma_unmap_sg_attrs: dma-debug looks first. */
	ret = dbg_check_remove(dma, dev, sg[0].dma_address, total, 0, dir, DBG_SG, nents, err);
	if (ret)
		return bad_unmap(dma, cpu, ret);
	if (c) {
		/* The segments are one IOVA allocation: from the first
		 * segment's start to the end of the last non-empty one. */
		for (i = 0; i < nents && sg[i].dma_length; i++) {
			if (i == 0)
				start = sg[i].dma_address;
			end = sg[i].dma_address + sg[i].dma_length;
		}
		if (!end) {
			/* Nothing was mapped (a list of empty entries). */
			dma_stat_add(&pcpu(dma, cpu)->unmaps, 1);
			return 0;
		}
	}
	if (c) {
		ret = cookie_unmap(c, dev, cpu, start, end - start, err);
		if (ret)
			return bad_unmap(dma, cpu, ret);
	} else {
		dma_stat_add(&pcpu(dma, cpu)->direct_unmaps, 1);
	}
	dma_stat_add(&pcpu(dma, cpu)->unmaps, 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Coherent allocations                                                 */

static unsigned get_order(uint64_t size)
{
	uint64_t pages = (size + PAGE_SZ - 1) / PAGE_SZ;

	return pages <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(pages - 1);
}

/* A naturally aligned block of 2^order pages from the pool, as the page
 * allocator hands them out: the lowest free one. */
static int pool_alloc(struct iommu_dma *dma, unsigned order, uint64_t *phys)
{
	uint64_t n = UINT64_C(1) << order;
	int ret = -ENOMEM;

	if (order >= 40)
		return -ENOMEM;
	pthread_mutex_lock(&dma->pool_lock);
	for (uint64_t i = 0; i + n <= dma->pool_pages; i += n) {
		uint64_t j;

		for (j = 0; j < n && !dma->pool_map[i + j]; j++)
			;
		if (j < n)
			continue;
		dma->pool_map[i] = (uint8_t)(1 + order);
		for (j = 1; j < n; j++)
			dma->pool_map[i + j] = 0xff;
		*phys = dma->pool_base + i * PAGE_SZ;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&dma->pool_lock);
	return ret;
}

static int pool_free(struct iommu_dma *dma, uint64_t phys, unsigned order)
{
	uint64_t i, n = UINT64_C(1) << order;
	int ret = -EINVAL;

	if (phys < dma->pool_base || (phys - dma->pool_base) % PAGE_SZ)
		return -EINVAL;
	i = (phys - dma->pool_base) / PAGE_SZ;
	pthread_mutex_lock(&dma->pool_lock);
	if (i < dma->pool_pages && dma->pool_map[i] == 1 + order) {
		for (uint64_t j = 0; j < n; j++)
			dma->pool_map[i + j] = 0;
		ret = 0;
	}
	pthread_mutex_unlock(&dma->pool_lock);
	return ret;
}

int iommu_dma_alloc_coherent(struct iommu_dma_device *dev, uint64_t size, uint64_t *dma_handle,
			     uint64_t *phys, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	enum iommu_dma_path path;
	struct dma_cookie *c;
	uint64_t mask, p, addr;
	unsigned order;
	int ret;

	*dma_handle = IOMMU_DMA_MAPPING_ERROR;
	*phys = 0;
	if (!size || size > dma->pool_pages * PAGE_SZ) {
		map_fail(dma, cpu);
		return iommu_error_set(err, size ? -ENOMEM : -EINVAL, "%s: dma_alloc_coherent of "
				       "0x%" PRIx64 " bytes: %s", dev->pdev->name, size,
				       size ? "larger than the coherent pool" : "nothing to allocate");
	}
	mask = atomic_load_explicit(&dev->coherent_mask, memory_order_relaxed);
	c = dev_resolve(dev, &path, &ret, err);
	if (!c && ret) {
		map_fail(dma, cpu);
		return ret;
	}
	order = get_order(size);
	ret = pool_alloc(dma, order, &p);
	if (ret) {
		map_fail(dma, cpu);
		return iommu_error_set(err, ret, "%s: the coherent pool has no free block of %u "
				       "pages", dev->pdev->name, 1u << order);
	}
	/* The memory is zeroed (__GFP_ZERO). */
	iommu_mem_fill(dma->mem, p, 0, (size_t)(PAGE_SZ << order));
	if (!c) {
		if (!direct_capable(p, size, mask)) {
			pool_free(dma, p, order);
			map_fail(dma, cpu);
			return iommu_error_set(err, -ENOMEM, "%s: the coherent pool at 0x%" PRIx64
					       " is above the coherent mask 0x%" PRIx64,
					       dev->pdev->name, p, mask);
		}
		addr = p;
		dma_stat_add(&pcpu(dma, cpu)->direct_maps, 1);
	} else {
		ret = cookie_map(c, dev, cpu, p, (size + PAGE_SZ - 1) & ~(PAGE_SZ - 1),
				 IOMMU_PROT_READ | IOMMU_PROT_WRITE, mask, &addr, err);
		if (ret) {
			pool_free(dma, p, order);
			map_fail(dma, cpu);
			return ret;
		}
	}
	dbg_add(dma, dev, addr, size, p, IOMMU_DMA_BIDIRECTIONAL, DBG_COHERENT, 0);
	dma_stat_add(&pcpu(dma, cpu)->maps, 1);
	*dma_handle = addr;
	*phys = p;
	return 0;
}

int iommu_dma_free_coherent(struct iommu_dma_device *dev, uint64_t size, uint64_t phys,
			    uint64_t dma_handle, struct iommu_error *err)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	enum iommu_dma_path path;
	struct dma_cookie *c;
	unsigned order = get_order(size);
	int ret;

	c = dev_resolve(dev, &path, &ret, err);
	if (ret)
		return bad_unmap(dma, cpu, ret);
	if (!size)
		return bad_unmap(dma, cpu, iommu_error_set(err, -EINVAL, "%s: dma_free_coherent of "
							   "0 bytes", dev->pdev->name));
	ret = dbg_check_remove(dma, dev, dma_handle, size, phys, IOMMU_DMA_BIDIRECTIONAL,
			       DBG_COHERENT, 0, err);
	if (ret)
		return bad_unmap(dma, cpu, ret);
	/* Without dma-debug: the pages must be a block of the pool. */
	pthread_mutex_lock(&dma->pool_lock);
	ret = phys >= dma->pool_base && !((phys - dma->pool_base) % PAGE_SZ) &&
	      (phys - dma->pool_base) / PAGE_SZ < dma->pool_pages &&
	      dma->pool_map[(phys - dma->pool_base) / PAGE_SZ] == 1 + order ? 0 : -EINVAL;
	pthread_mutex_unlock(&dma->pool_lock);
	if (ret)
		return bad_unmap(dma, cpu, iommu_error_set(err, -EINVAL, "%s: dma_free_coherent: "
							   "0x%" PRIx64 " is not a coherent block "
							   "of 0x%" PRIx64 " bytes", dev->pdev->name,
							   phys, size));
	if (c) {
		ret = cookie_unmap(c, dev, cpu, dma_handle, size, err);
		if (ret)
			return bad_unmap(dma, cpu, ret);
	} else {
		dma_stat_add(&pcpu(dma, cpu)->direct_unmaps, 1);
	}
	pool_free(dma, phys, order);
	dma_stat_add(&pcpu(dma, cpu)->unmaps, 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The clock and the flush queues                                       */

uint64_t iommu_dma_now(struct iommu_dma *dma)
{
	return dma_clock(dma);
}

void iommu_dma_advance(struct iommu_dma *dma, uint64_t ns)
{
	uint64_t target;

	pthread_mutex_lock(&dma->clock_lock);
	target = atomic_load_explicit(&dma->now, memory_order_relaxed);
	target = target + ns < target ? UINT64_MAX : target + ns;
	for (;;) {
		struct dma_fq *due = NULL;
		uint64_t when = 0;

		/* The earliest timer due by @target fires first. */
		for (struct dma_cookie *c = atomic_load_explicit(&dma->cookies, memory_order_acquire);
		     c; c = c->next) {
			struct dma_fq *fq = atomic_load_explicit(&c->fq, memory_order_acquire);
			uint64_t d;

			if (!fq || atomic_load_explicit(&c->retired, memory_order_acquire) ||
			    !atomic_load_explicit(&fq->timer_on, memory_order_acquire))
				continue;
			d = atomic_load_explicit(&fq->deadline, memory_order_relaxed);
			if (d <= target && (!due || d < when)) {
				due = fq;
				when = d;
			}
		}
		if (!due)
			break;
		if (when > atomic_load_explicit(&dma->now, memory_order_relaxed))
			atomic_store_explicit(&dma->now, when, memory_order_release);
		dma_fq_flush_all(due, DMA_FQ_FLUSH_TIMEOUT);
	}
	atomic_store_explicit(&dma->now, target, memory_order_release);
	pthread_mutex_unlock(&dma->clock_lock);
}

void iommu_dma_flush_queues(struct iommu_dma *dma)
{
	pthread_mutex_lock(&dma->clock_lock);
	for (struct dma_cookie *c = atomic_load_explicit(&dma->cookies, memory_order_acquire); c;
	     c = c->next) {
		struct dma_fq *fq = atomic_load_explicit(&c->fq, memory_order_acquire);
		uint64_t q, r, p, u;

		if (!fq || atomic_load_explicit(&c->retired, memory_order_acquire))
			continue;
		dma_fq_counts(fq, &q, &r, &p, &u);
		if (!p && !atomic_load_explicit(&fq->timer_on, memory_order_acquire))
			continue;
		/* As if the timer fired now. */
		atomic_store_explicit(&fq->timer_on, false, memory_order_release);
		dma_fq_flush_all(fq, DMA_FQ_FLUSH_EXPLICIT);
	}
	pthread_mutex_unlock(&dma->clock_lock);
}

/* ------------------------------------------------------------------ */
/* Counters                                                             */

void iommu_dma_get_stats(struct iommu_dma *dma, struct iommu_dma_stats *st)
{
	uint64_t dmaps = 0, dunmaps = 0;

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < IOMMU_IOVA_MAX_CPUS; i++) {
		struct dma_pcpu_stats *p = &dma->pcpu[i];

		st->maps += atomic_load_explicit(&p->maps, memory_order_relaxed);
		st->unmaps += atomic_load_explicit(&p->unmaps, memory_order_relaxed);
		st->map_errors += atomic_load_explicit(&p->map_errors, memory_order_relaxed);
		st->bad_unmaps += atomic_load_explicit(&p->bad_unmaps, memory_order_relaxed);
		dmaps += atomic_load_explicit(&p->direct_maps, memory_order_relaxed);
		dunmaps += atomic_load_explicit(&p->direct_unmaps, memory_order_relaxed);
		st->inv_sync += atomic_load_explicit(&p->inv_sync, memory_order_relaxed);
		st->inv_wait_ns += atomic_load_explicit(&p->inv_wait_ns, memory_order_relaxed);
		st->stale_hits += atomic_load_explicit(&p->stale_hits, memory_order_relaxed);
		st->faults += atomic_load_explicit(&p->faults, memory_order_relaxed);
	}
	st->direct_maps = dmaps;
	st->live_mappings = (st->maps - dmaps) - (st->unmaps - dunmaps);
	for (struct dma_cookie *c = atomic_load_explicit(&dma->cookies, memory_order_acquire); c;
	     c = c->next) {
		struct dma_fq *fq = atomic_load_explicit(&c->fq, memory_order_acquire);
		uint64_t q, r, p, u;

		st->cookies++;
		if (!fq)
			continue;
		dma_fq_counts(fq, &q, &r, &p, &u);
		st->fq_queued += q;
		st->fq_reclaimed += r;
		st->fq_pending += p;
		st->stale_windows += q;
		st->stale_open += u;
		st->fq_flush_full += atomic_load_explicit(&fq->flush_full, memory_order_relaxed);
		st->fq_flush_timeout += atomic_load_explicit(&fq->flush_timeout, memory_order_relaxed);
		st->fq_flush_explicit += atomic_load_explicit(&fq->flush_explicit, memory_order_relaxed);
		st->fq_flush_start_cnt += atomic_load_explicit(&fq->flush_start_cnt, memory_order_relaxed);
		st->fq_flush_finish_cnt += atomic_load_explicit(&fq->flush_finish_cnt, memory_order_relaxed);
	}
	st->inv_flush_all = st->fq_flush_finish_cnt;
}

/* ------------------------------------------------------------------ */
/* A device's request through the modelled IOMMU                        */

int iommu_dma_device_access(struct iommu_dma_device *dev, uint64_t addr, uint32_t len,
			    bool write, struct iommu_dma_access *res)
{
	struct iommu_dma *dma = dev->dma;
	unsigned cpu = iommu_iova_this_cpu();
	struct iommu_device_xlate x;
	struct iommu_domain *d;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!len || len > PAGE_SZ || (addr & (PAGE_SZ - 1)) + len > PAGE_SZ)
		return -EINVAL;
	memset(&x, 0, sizeof(x));
	ret = iommu_device_translate(dma->s, dev->pdev, addr, write, &x);
	res->direct = x.direct;
	res->iotlb_hit = x.iotlb_hit;
	res->modelled_unit = x.modelled_unit;
	res->fault_reason = x.fault_reason;
	if (ret == 0) {
		res->host_addr = x.host_addr;
		if (res->host_addr >= dma->mem_size || len > dma->mem_size - res->host_addr) {
			snprintf(res->fault, sizeof(res->fault), "0x%" PRIx64 " lies beyond the "
				 "modelled memory (0x%" PRIx64 " bytes): the request is not "
				 "completed", res->host_addr, dma->mem_size);
			dma_stat_add(&pcpu(dma, cpu)->faults, 1);
			return -EFAULT;
		}
		/* Stale: the page tables no longer map it, a cached
		 * translation answered. */
		if (!x.direct && dev->group && (d = iommu_group_domain(dev->group)) &&
		    !iommu_iova_to_phys(d, addr)) {
			res->stale = true;
			dma_stat_add(&pcpu(dma, cpu)->stale_hits, 1);
		}
		return 0;
	}
	dma_stat_add(&pcpu(dma, cpu)->faults, 1);
	if (ret == -EFAULT) {
		const char *name = iommu_vtd_fault_reason_name(x.fault_reason);
		const char *desc = iommu_vtd_fault_reason_desc(x.fault_reason);

		if (x.modelled_unit && x.fault_reason)
			snprintf(res->fault, sizeof(res->fault), "fault %02Xh %s: %s",
				 x.fault_reason, name ? name : "?", desc ? desc : "");
		else
			snprintf(res->fault, sizeof(res->fault), "I/O page fault: nothing is mapped "
				 "at 0x%" PRIx64 " in the domain's page table", addr);
		return -EFAULT;
	}
	snprintf(res->fault, sizeof(res->fault), "the request could not be made: %s",
		 strerror(-ret));
	return ret;
}
