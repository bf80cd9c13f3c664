// SPDX-License-Identifier: MIT
/*
 * Domains: the running side of a system (drivers/iommu/iommu.c).
 *
 *  - iommu_system_start: modelled memory, one VT-d unit and Intel driver
 *    per DRHD in use, each group's default domain allocated, its direct
 *    regions mapped 1:1 and its devices attached, as bus_iommu_probe /
 *    iommu_setup_default_domain leave them at boot;
 *  - domain allocation by type, attach and detach of whole groups, DMA
 *    ownership claims, writes to a group's "type";
 *  - the mapping API (iommu_map, iommu_unmap, iommu_map_sg,
 *    iommu_iova_to_phys) with the kernel's answers: the core's checks and
 *    iommu_pgsize() split here, the tables in the Intel driver
 *    (src/core/intel.c) or, on AMD, in software (domain_sw.c);
 *  - a device's DMA as the hardware handles it.
 *
 * doc/domains.md lists each rule with the kernel function it comes from,
 * and the kernel versions where they differ.  Written from the kernel's
 * observable behaviour (reference sections 3, 4, 8.1) and the captures.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "iommu/hw.h"
#include "util/bits.h"
#include "util/strv.h"

/* VT-d CAP_REG / ECAP_REG fields read here (VT-d spec 11.4.2, 11.4.3). */
#define VTD_CAP_MGAW    IOMMU_GENMASK(21, 16)
#define VTD_CAP_SLLPS   IOMMU_GENMASK(37, 34)
#define VTD_ECAP_PT     IOMMU_BIT(6)
IOMMU_FIELDS_DISJOINT(VTD_CAP_MGAW, VTD_CAP_SLLPS);

#define SZ_4K           UINT64_C(0x1000)
#define SZ_2M           UINT64_C(0x200000)
#define SZ_1G           UINT64_C(0x40000000)
#define SZ_1M           UINT64_C(0x100000)
#define MEM_BITS_MAX    46u                 /* the default memory is at most 2^46 bytes */
#define TABLE_REGION_MAX (UINT64_C(256) << 20)
#define TABLE_REGION_MIN (64 * SZ_4K)
#define RT_NOTES_MAX    64u
/* __domain_mapping never makes a superpage of a run shorter than 512
 * pages: with intel_iommu=sp_off the maps go in runs of 511. */
#define SP_OFF_RUN      (511 * SZ_4K)

struct rt_unit {
	bool used;                      /* translates a grouped device */
	struct iommu_vtd_unit *vtd;
	struct iommu_intel *drv;
	uint64_t cap, ecap;
	uint64_t pgsize;                /* the domains' pgsize_bitmap */
	struct iommu_domain *si;        /* the 1:1 identity stand-in, shared */
};

struct iommu_runtime {
	struct iommu_mem *mem;
	struct rt_unit *units;
	size_t n_units;
	pthread_mutex_t groups_lock;    /* group state: the kernel's group->mutex */
	pthread_mutex_t hw_lock;        /* units, drivers, memory */
	pthread_mutex_t log_lock;       /* s->notes after start */
	struct iommu_domain **domains;  /* every domain, to free them with the system */
	size_t n_domains;
	unsigned notes;
};

struct iommu_domain {
	struct iommu_system *s;
	enum iommu_domain_type type;
	int unit;
	bool amd;                       /* software page table */
	bool si;                        /* Intel identity as a 1:1 page table */
	bool superpages;                /* Intel: a map was big enough for one */
	bool maps_page0;                /* a map included physical page 0 */
	struct iommu_intel_domain *intel;
	struct sw_pgtable *sw;
	struct iommu_domain_geometry geo;
	pthread_mutex_t own_lock;
	pthread_mutex_t *lk;            /* what map/unmap take: own (AMD), hw (Intel) */
	struct iommu_domain_stats st;
};

/* --- small helpers -------------------------------------------------------- */

static bool kv(const struct iommu_system *s, int major, int minor)
{
	return iommu_kernel_at_least(s->kernel, major, minor);
}

static bool type_paging(enum iommu_domain_type t)
{
	return t == IOMMU_DOMAIN_UNMANAGED || t == IOMMU_DOMAIN_DMA || t == IOMMU_DOMAIN_DMA_FQ;
}

static bool type_dma(enum iommu_domain_type t)
{
	return t == IOMMU_DOMAIN_DMA || t == IOMMU_DOMAIN_DMA_FQ;
}

static int fls64(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/* Bits @h..0 set (h 0..63). */
static uint64_t mask_upto(unsigned h)
{
	return h >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (h + 1)) - 1;
}

static void rt_note(struct iommu_system *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What the kernel logs, kept in the system's notes (bounded). */
static void rt_note(struct iommu_system *s, const char *fmt, ...)
{
	struct iommu_runtime *rt = s->rt;
	va_list ap;

	pthread_mutex_lock(&rt->log_lock);
	if (rt->notes < RT_NOTES_MAX) {
		va_start(ap, fmt);
		iommu_strv_vaddf(&s->notes, &s->n_notes, fmt, ap);
		va_end(ap);
	} else if (rt->notes == RT_NOTES_MAX) {
		iommu_strv_addf(&s->notes, &s->n_notes, "(further messages of the running system "
				"are not kept)");
	}
	rt->notes++;
	pthread_mutex_unlock(&rt->log_lock);
}

/*
 * iommu_pgsize(): the biggest size of @bitmap not above @size and to
 * which iova and paddr are both aligned; the count of them up to where a
 * bigger size becomes usable (when iova and paddr are offset alike in
 * it, and @size reaches past one whole such page).
 */
uint64_t core_pgsize(uint64_t bitmap, uint64_t iova, uint64_t paddr, uint64_t size,
		     uint64_t *count)
{
	uint64_t addr_merge = iova | paddr, pgsizes, pgsize, next, pgsize_next;
	unsigned idx;

	pgsizes = bitmap & mask_upto((unsigned)fls64(size) - 1);
	if (addr_merge)
		pgsizes &= mask_upto((unsigned)__builtin_ctzll(addr_merge));
	if (!pgsizes) {
		/* The callers check alignment to the smallest size first;
		 * the kernel BUG()s here. */
		*count = 0;
		return 0;
	}
	idx = (unsigned)fls64(pgsizes) - 1;
	pgsize = UINT64_C(1) << idx;
	next = idx >= 63 ? 0 : bitmap & ~mask_upto(idx);
	if (next) {
		pgsize_next = UINT64_C(1) << __builtin_ctzll(next);
		if (!((iova ^ paddr) & (pgsize_next - 1))) {
			uint64_t offset = pgsize_next - (addr_merge & (pgsize_next - 1));

			if (offset + pgsize_next > offset && offset + pgsize_next <= size)
				size = offset;
		}
	}
	*count = size >> idx;
	return pgsize;
}

static struct iommu_runtime *rt_of(const struct iommu_system *s)
{
	return s ? s->rt : NULL;
}

static int group_unit(const struct iommu_group_info *g)
{
	for (size_t k = 0; k < g->n_devices; k++)
		if (g->devices[k]->unit >= 0)
			return g->devices[k]->unit;
	return -1;
}

/*
 * A device whose firmware asks for a 1:1 mapping that may not be broken:
 * an RMRR of a device other than USB (class 0x0c03) or graphics (0x03)
 * (device_rmrr_is_relaxable), or an AMD IVMD unity range.  The kernel
 * sets dev->iommu->require_direct for it (iommu_create_device_direct_mappings,
 * 6.5+) and, before 6.5, the Intel driver calls it "RMRR locked".
 */
static bool device_requires_direct(const struct iommu_system *s, const struct iommu_device_info *di)
{
	const struct iommu_pci_dev *d = di->pdev;

	if (s->driver == IOMMU_DRIVER_INTEL && s->dmar) {
		const struct iommu_dmar_struct *r[4];
		bool relax = (d->class_code >> 8) == 0x0c03 || (d->class_code >> 16) == 0x03;

		return !relax && iommu_dmar_device_rmrrs(s->dmar, s->platform, d, r, 4) > 0;
	}
	if (s->driver == IOMMU_DRIVER_AMD && s->ivrs && s->ivrs_map) {
		const struct iommu_ivrs_block *m[16];
		size_t n = iommu_ivrs_device_ivmds(s->ivrs, s->ivrs_map, d->addr.segment,
						   iommu_pci_addr_rid(d->addr), m, 16);

		for (size_t i = 0; i < n && i < 16; i++) {
			uint64_t start, end;

			iommu_ivrs_ivmd_range(m[i], &start, &end);
			if (end > start)
				return true;
		}
	}
	return false;
}

static const struct iommu_device_info *group_direct_member(const struct iommu_system *s,
							     const struct iommu_group_info *g)
{
	for (size_t k = 0; k < g->n_devices; k++)
		if (device_requires_direct(s, g->devices[k]))
			return g->devices[k];
	return NULL;
}

/* Drivers that set driver_managed_dma: their binding does not count in
 * owner_cnt (vfio-pci and its variant drivers, pci-stub, pcieport). */
static bool driver_managed_dma(const char *drv)
{
	size_t n;

	if (!strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport"))
		return true;
	n = strlen(drv);
	return (n > 8 && (!strcmp(drv + n - 8, "vfio-pci") || !strcmp(drv + n - 8, "vfio_pci")));
}

size_t iommu_group_dma_api_drivers(const struct iommu_group_info *g)
{
	size_t n = 0;

	for (size_t k = 0; g && k < g->n_devices; k++) {
		const char *drv = g->devices[k]->pdev->driver;

		if (drv && !driver_managed_dma(drv))
			n++;
	}
	return n;
}

static const struct iommu_device_info *group_dma_api_member(const struct iommu_group_info *g)
{
	for (size_t k = 0; k < g->n_devices; k++) {
		const char *drv = g->devices[k]->pdev->driver;

		if (drv && !driver_managed_dma(drv))
			return g->devices[k];
	}
	return NULL;
}

/* --- the unit configuration --------------------------------------------- */

int iommu_system_vtd_config(const struct iommu_system *s, int unit, struct iommu_vtd_config *cfg,
			    uint64_t *mem_size)
{
	const struct iommu_unit *u;
	unsigned mgaw;

	if (!s || !cfg || s->driver != IOMMU_DRIVER_INTEL || unit < 0 || (size_t)unit >= s->n_units)
		return -EINVAL;
	u = &s->units[unit];
	iommu_vtd_config_init(cfg);
	if (u->have_regs) {
		cfg->cap = u->cap;
		cfg->ecap = u->ecap;
	}
	cfg->reg_base = u->base;
	mgaw = (unsigned)IOMMU_FIELD_GET(VTD_CAP_MGAW, cfg->cap) + 1;
	if (mem_size)
		*mem_size = UINT64_C(1) << (mgaw < MEM_BITS_MAX ? mgaw : MEM_BITS_MAX);
	return 0;
}

/* --- domains: creation and teardown -------------------------------------- */

static int domains_add(struct iommu_runtime *rt, struct iommu_domain *d)
{
	struct iommu_domain **v = realloc(rt->domains, (rt->n_domains + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	rt->domains = v;
	rt->domains[rt->n_domains++] = d;
	return 0;
}

static void domains_remove(struct iommu_runtime *rt, struct iommu_domain *d)
{
	for (size_t i = 0; i < rt->n_domains; i++)
		if (rt->domains[i] == d) {
			rt->domains[i] = rt->domains[--rt->n_domains];
			return;
		}
}

/* Free the domain's tables and the object (hardware lock not held). */
static void domain_destroy(struct iommu_domain *d)
{
	struct iommu_runtime *rt = d->s->rt;

	if (d->intel) {
		pthread_mutex_lock(&rt->hw_lock);
		iommu_intel_domain_free(d->intel);
		pthread_mutex_unlock(&rt->hw_lock);
	}
	sw_pgtable_destroy(d->sw);
	pthread_mutex_destroy(&d->own_lock);
	free(d);
}

static bool domain_in_use(const struct iommu_system *s, const struct iommu_domain *d)
{
	for (size_t i = 0; i < s->n_groups; i++) {
		const struct iommu_group_info *g = s->groups[i];

		if (g->domain == d || g->default_domain == d || g->blocking_domain == d)
			return true;
	}
	for (size_t u = 0; u < s->rt->n_units; u++)
		if (s->rt->units[u].si == d)
			return true;
	return false;
}

static int intel_map_locked(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
			    int prot);

/*
 * A domain of @type on units[@unit].  Intel: the driver's domain; an
 * IDENTITY without ECAP.PT is, before 6.12, a paging domain mapping all of
 * memory 1:1 (si_domain_init: the kernel maps every RAM range; the model
 * maps the whole modelled memory).  AMD: a software page table for paging
 * domains; identity and blocked need no table.
 */
static int domain_create(struct iommu_system *s, int unit, enum iommu_domain_type type,
			 struct iommu_domain **out)
{
	struct iommu_runtime *rt = s->rt;
	struct iommu_domain *d;
	int ret = 0;

	*out = NULL;
	if (type != IOMMU_DOMAIN_BLOCKED && type != IOMMU_DOMAIN_IDENTITY && !type_paging(type))
		return -EINVAL;
	if (unit < 0 || (size_t)unit >= rt->n_units || !rt->units[unit].used)
		return -ENODEV;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->s = s;
	d->type = type;
	d->unit = unit;
	pthread_mutex_init(&d->own_lock, NULL);
	if (s->driver == IOMMU_DRIVER_INTEL) {
		struct rt_unit *ru = &rt->units[unit];
		enum iommu_domain_type t = type;

		d->lk = &rt->hw_lock;
		if (type == IOMMU_DOMAIN_IDENTITY && !(ru->ecap & VTD_ECAP_PT)) {
			if (kv(s, 6, 12)) {
				ret = -EOPNOTSUPP;
				goto fail;
			}
			d->si = true;
			t = IOMMU_DOMAIN_UNMANAGED;
		}
		if (d->si && ru->pgsize == SZ_4K) {
			/* 4 KiB leaves for all of memory would not fit the
			 * driver's table region: the kernel's fallback to DMA
			 * follows (it maps only RAM, the model all memory) */
			ret = -ENOMEM;
			goto fail;
		}
		pthread_mutex_lock(&rt->hw_lock);
		ret = iommu_intel_domain_alloc(ru->drv, t, 0, &d->intel);
		if (!ret && d->si)
			ret = intel_map_locked(d, 0, 0, iommu_mem_size(rt->mem),
					       IOMMU_PROT_READ | IOMMU_PROT_WRITE);
		pthread_mutex_unlock(&rt->hw_lock);
		if (ret)
			goto fail;
		if (type_paging(type)) {
			unsigned w = iommu_intel_domain_width(d->intel);

			d->geo.aperture_start = 0;
			d->geo.aperture_end = w >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1;
			d->geo.force_aperture = true;
			d->geo.pgsize_bitmap = ru->pgsize;
		}
	} else {
		d->amd = true;
		d->lk = &d->own_lock;
		if (type_paging(type)) {
			ret = sw_pgtable_create(&d->sw);
			if (ret)
				goto fail;
			/* protection domains: the whole 64-bit space, v1 sizes */
			d->geo.aperture_start = 0;
			d->geo.aperture_end = ~UINT64_C(0);
			d->geo.force_aperture = true;
			d->geo.pgsize_bitmap = IOMMU_AMD_V1_PGSIZES;
		}
	}
	ret = domains_add(rt, d);
	if (ret)
		goto fail;
	*out = d;
	return 0;
fail:
	if (d->intel) {
		pthread_mutex_lock(&rt->hw_lock);
		iommu_intel_domain_free(d->intel);
		pthread_mutex_unlock(&rt->hw_lock);
	}
	sw_pgtable_destroy(d->sw);
	pthread_mutex_destroy(&d->own_lock);
	free(d);
	return ret;
}

/* --- attach ---------------------------------------------------------------- */

struct alias_last {
	uint16_t rid;
};

static int last_alias(const struct iommu_system *s, const struct iommu_pci_dev *pdev, uint16_t rid,
		      enum core_alias_kind kind, void *data)
{
	struct alias_last *a = data;

	(void)s;
	(void)pdev;
	if (kind != CORE_ALIAS_MASK)
		a->rid = rid;
	return 0;
}

/* The requester id the IOMMU sees for @pdev's DMA: its own, or the
 * bridge's that takes it over on the way up (pci_for_each_dma_alias). */
static uint16_t visible_rid(const struct iommu_system *s, const struct iommu_pci_dev *pdev)
{
	struct alias_last a = { iommu_pci_addr_rid(pdev->addr) };

	core_for_each_dma_alias(s, pdev, last_alias, &a);
	return a.rid;
}

static int detach_alias(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			uint16_t rid, enum core_alias_kind kind, void *data)
{
	(void)s;
	(void)pdev;
	(void)kind;
	return iommu_intel_detach(data, rid);
}

/* One device (and its aliases) to @d, or to nothing when @d is NULL. */
static int device_set(struct iommu_system *s, struct iommu_domain *d, struct iommu_device_info *di)
{
	struct iommu_runtime *rt = s->rt;
	int ret = 0;

	if (di->unit < 0)
		return 0;
	if (d && d->unit != di->unit)
		return -EINVAL;
	if (s->driver != IOMMU_DRIVER_INTEL)
		return 0;       /* AMD: DMA follows the group's domain */
	pthread_mutex_lock(&rt->hw_lock);
	if (d)
		ret = iommu_intel_attach_device(d->intel, s, di->pdev);
	else if (rt->units[di->unit].drv)
		ret = core_for_each_dma_alias(s, di->pdev, detach_alias, rt->units[di->unit].drv);
	pthread_mutex_unlock(&rt->hw_lock);
	return ret;
}

/* __iommu_group_set_domain: every device to @d; on a failure every device
 * goes back to the domain the group had (the kernel's unwind). */
static int group_set_domain(struct iommu_system *s, struct iommu_group_info *g,
			    struct iommu_domain *d)
{
	int ret = 0;

	if (g->domain == d)
		return 0;
	for (size_t k = 0; k < g->n_devices; k++) {
		ret = device_set(s, d, g->devices[k]);
		if (ret) {
			for (size_t j = 0; j <= k; j++)
				device_set(s, g->domain, g->devices[j]);
			return ret;
		}
	}
	g->domain = d;
	return 0;
}

/*
 * The refusals that depend on the new domain and the kernel version:
 *  - 6.5+: __iommu_device_set_domain refuses a blocking domain for a
 *    device with require_direct (-EINVAL);
 *  - before 6.5, Intel: intel_iommu_attach_device refuses an UNMANAGED
 *    domain for a device with an RMRR that is not relaxable (-EPERM).
 */
static int set_domain_checks(struct iommu_system *s, struct iommu_group_info *g,
			     const struct iommu_domain *d)
{
	const struct iommu_device_info *di = group_direct_member(s, g);

	if (!di)
		return 0;
	if (kv(s, 6, 5) && (d->type == IOMMU_DOMAIN_BLOCKED || d == g->blocking_domain)) {
		rt_note(s, "%s: Firmware has requested this device have a 1:1 IOMMU mapping, rejecting "
			"configuring the device without a 1:1 mapping. Contact your platform vendor.",
			di->pdev->name);
		return -EINVAL;
	}
	if (!kv(s, 6, 5) && s->driver == IOMMU_DRIVER_INTEL && d->type == IOMMU_DOMAIN_UNMANAGED) {
		rt_note(s, "%s: Device is ineligible for IOMMU domain attach due to platform RMRR "
			"requirement.  Contact your platform vendor.", di->pdev->name);
		return -EPERM;
	}
	return 0;
}

/* --- direct mappings -------------------------------------------------------- */

static int map_locked(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
		      int prot);
static uint64_t iova_to_phys_locked(struct iommu_domain *d, uint64_t iova);
static void flush_locked(struct iommu_domain *d);

/*
 * iommu_create_device_direct_mappings for a DMA domain: each direct and
 * direct-relaxable region, start and end rounded up to the smallest page
 * size, mapped 1:1 in runs of pages iommu_iova_to_phys() says are not
 * mapped yet (it says so for IOVA 0 too), then flush_iotlb_all.  The
 * group's merged list stands for its members' lists (the same ranges).
 * The RMRR protection is read/write; AMD's IVMD flags are taken as such
 * too.  A region that cannot be mapped is reported and left, as the
 * kernel carries on without it.
 */
static void direct_mappings(struct iommu_system *s, struct iommu_group_info *g,
			    struct iommu_domain *d)
{
	uint64_t pg = d->geo.pgsize_bitmap & -d->geo.pgsize_bitmap;

	if (!type_dma(d->type) || !pg)
		return;
	pthread_mutex_lock(d->lk);
	for (size_t i = 0; i < g->n_resv; i++) {
		const struct iommu_resv_region *r = &g->resv[i];
		uint64_t start, end, run = 0;

		if (r->type != IOMMU_RESV_DIRECT && r->type != IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		start = (r->start + pg - 1) & ~(pg - 1);
		end = r->end >= ~UINT64_C(0) - pg ? ~(pg - 1) : (r->end + 1 + pg - 1) & ~(pg - 1);
		for (uint64_t a = start; a <= end && a >= start; a += pg) {
			int ret;

			if (a != end && !iova_to_phys_locked(d, a)) {
				run += pg;
				continue;
			}
			if (run) {
				ret = map_locked(d, a - run, a - run, run, IOMMU_PROT_READ | IOMMU_PROT_WRITE);
				if (ret)
					rt_note(s, "group %d: direct region 0x%llx-0x%llx not mapped: %s", g->id,
						(unsigned long long)(a - run), (unsigned long long)(a - 1),
						strerror(-ret));
				run = 0;
			}
			if (a == end)
				break;
		}
	}
	flush_locked(d);
	pthread_mutex_unlock(d->lk);
}

/* --- start, stop ------------------------------------------------------------ */

/*
 * The default domain of @type for @g (iommu_group_alloc_default_domain):
 * a type the driver cannot allocate falls back to DMA, with the kernel's
 * warning.  The shared 1:1 identity stand-in serves every identity group
 * of a unit without ECAP.PT, as si_domain does.
 */
static int default_domain_create(struct iommu_system *s, struct iommu_group_info *g,
				 enum iommu_domain_type type, struct iommu_domain **out)
{
	int unit = group_unit(g);
	struct rt_unit *ru;
	int ret;

	if (unit < 0)
		return -ENODEV;
	ru = &s->rt->units[unit];
	if (type == IOMMU_DOMAIN_IDENTITY && s->driver == IOMMU_DRIVER_INTEL &&
	    !(ru->ecap & VTD_ECAP_PT) && ru->si) {
		*out = ru->si;
		return 0;
	}
	ret = domain_create(s, unit, type, out);
	if (ret == -ENOMEM || ret == -EOPNOTSUPP) {
		if (type == IOMMU_DOMAIN_DMA)
			return ret;
		rt_note(s, "Failed to allocate default IOMMU domain of type %d for group %d - Falling "
			"back to IOMMU_DOMAIN_DMA", (int)type, g->id);
		return domain_create(s, unit, IOMMU_DOMAIN_DMA, out);
	}
	if (!ret && (*out)->si)
		ru->si = *out;
	return ret;
}

static void runtime_free(struct iommu_system *s)
{
	struct iommu_runtime *rt = s->rt;

	if (!rt)
		return;
	for (size_t i = 0; i < s->n_groups; i++) {
		struct iommu_group_info *g = s->groups[i];

		g->system = NULL;
		g->default_domain = g->domain = g->blocking_domain = NULL;
		g->owner_cnt = 0;
		g->owner = NULL;
	}
	/* The drivers free the domains' tables; then the objects go. */
	for (size_t u = 0; u < rt->n_units; u++) {
		iommu_intel_destroy(rt->units[u].drv);
		iommu_vtd_destroy(rt->units[u].vtd);
	}
	for (size_t i = 0; i < rt->n_domains; i++) {
		sw_pgtable_destroy(rt->domains[i]->sw);
		pthread_mutex_destroy(&rt->domains[i]->own_lock);
		free(rt->domains[i]);
	}
	free(rt->domains);
	free(rt->units);
	iommu_mem_destroy(rt->mem);
	pthread_mutex_destroy(&rt->groups_lock);
	pthread_mutex_destroy(&rt->hw_lock);
	pthread_mutex_destroy(&rt->log_lock);
	free(rt);
	s->rt = NULL;
}

void core_runtime_release(struct iommu_system *s)
{
	if (s)
		runtime_free(s);
}

static int start_intel_units(struct iommu_system *s, struct iommu_error *err)
{
	struct iommu_runtime *rt = s->rt;
	uint64_t memsz = iommu_mem_size(rt->mem), region;
	size_t used = 0, j = 0;
	int ret;

	for (size_t u = 0; u < rt->n_units; u++)
		used += rt->units[u].used;
	if (!used)
		return 0;
	region = memsz / 8 / used;
	if (region > TABLE_REGION_MAX)
		region = TABLE_REGION_MAX;
	region &= ~(SZ_4K - 1);
	if (region < TABLE_REGION_MIN)
		return iommu_error_set(err, -EINVAL, "%llu bytes of memory leave too little room for the "
				       "page tables of %zu VT-d unit(s)", (unsigned long long)memsz, used);
	for (size_t u = 0; u < rt->n_units; u++) {
		struct rt_unit *ru = &rt->units[u];
		struct iommu_vtd_config vc;
		struct iommu_intel_config ic = { 0 };
		uint64_t sllps;

		if (!ru->used)
			continue;
		iommu_system_vtd_config(s, (int)u, &vc, NULL);
		vc.mem = rt->mem;
		ret = iommu_vtd_create(&vc, &ru->vtd, err);
		if (ret)
			return iommu_error_prefix(err, "%s", s->units[u].name);
		ic.unit = ru->vtd;
		ic.mem = rt->mem;
		ic.table_base = memsz - (j + 1) * region;
		ic.table_size = region;
		ret = iommu_intel_create(&ic, &ru->drv, err);
		if (ret)
			return iommu_error_prefix(err, "%s", s->units[u].name);
		ret = iommu_intel_enable(ru->drv);
		if (ret)
			return iommu_error_set(err, ret, "%s: enabling translation: %s", s->units[u].name,
					       strerror(-ret));
		ru->cap = vc.cap;
		ru->ecap = vc.ecap;
		/* The second-level page sizes: 4 KiB, and 2 MiB / 1 GiB as
		 * CAP.SLLPS bits 0 and 1 offer them (none with sp_off). */
		sllps = IOMMU_FIELD_GET(VTD_CAP_SLLPS, vc.cap);
		ru->pgsize = SZ_4K;
		if (!s->cmdline.intel_sp_off) {
			if (sllps & 1)
				ru->pgsize |= SZ_2M;
			if (sllps & 2)
				ru->pgsize |= SZ_1G;
		}
		j++;
	}
	return 0;
}

int iommu_system_start(struct iommu_system *s, uint64_t mem_size, struct iommu_error *err)
{
	struct iommu_runtime *rt;
	int ret;

	iommu_error_clear(err);
	if (!s)
		return iommu_error_set(err, -EINVAL, "no system");
	if (s->rt)
		return iommu_error_set(err, -EALREADY, "the system is already started");
	if (s->driver == IOMMU_DRIVER_NONE)
		return iommu_error_set(err, -ENODEV, "%s: no IOMMU driver runs (no DMAR or IVRS table, "
				       "or the IOMMU is off)", iommu_platform_label(s->platform));
	if (mem_size && ((mem_size & (SZ_4K - 1)) || mem_size < SZ_1M || mem_size > IOMMU_MEM_MAX_SIZE))
		return iommu_error_set(err, -EINVAL, "memory size 0x%llx: not a multiple of 4 KiB "
				       "between 1 MiB and 2^52 bytes", (unsigned long long)mem_size);
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	rt->n_units = s->n_units;
	rt->units = calloc(s->n_units ? s->n_units : 1, sizeof(*rt->units));
	pthread_mutex_init(&rt->groups_lock, NULL);
	pthread_mutex_init(&rt->hw_lock, NULL);
	pthread_mutex_init(&rt->log_lock, NULL);
	s->rt = rt;
	if (!rt->units) {
		ret = iommu_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->n_devices; i++)
		if (s->devices[i].group && s->devices[i].unit >= 0)
			rt->units[s->devices[i].unit].used = true;
	if (!mem_size) {
		if (s->driver == IOMMU_DRIVER_INTEL) {
			for (size_t u = 0; u < rt->n_units; u++) {
				uint64_t m;

				if (rt->units[u].used && !iommu_system_vtd_config(s, (int)u, &(struct iommu_vtd_config){ 0 }, &m) &&
				    m > mem_size)
					mem_size = m;
			}
		} else {
			mem_size = UINT64_C(1) << MEM_BITS_MAX;
		}
		if (!mem_size)
			mem_size = SZ_1G;
	}
	ret = iommu_mem_create(mem_size, &rt->mem);
	if (ret) {
		iommu_error_set(err, ret, "modelled memory of 0x%llx bytes: %s",
				(unsigned long long)mem_size, strerror(-ret));
		goto fail;
	}
	if (s->driver == IOMMU_DRIVER_INTEL) {
		ret = start_intel_units(s, err);
		if (ret)
			goto fail;
		if (s->cmdline.intel_sp_off)
			rt_note(s, "intel_iommu=sp_off: domains map 4 KiB pages only");
	} else {
		rt_note(s, "AMD-Vi hardware is not modelled: domains keep their page tables in software "
			"(the v1 format's page sizes); DMA is translated from those tables, without an IOTLB");
	}

	/* bus_iommu_probe: each group's default domain, its direct
	 * mappings, then its devices attached. */
	for (size_t i = 0; i < s->n_groups; i++) {
		struct iommu_group_info *g = s->groups[i];
		struct iommu_domain *d;

		g->system = s;
		if (g->type == IOMMU_DOMAIN_NONE)
			continue;       /* probe refused a default domain */
		ret = default_domain_create(s, g, g->type, &d);
		if (ret) {
			iommu_error_set(err, ret, "group %d: default domain (%s): %s", g->id,
					iommu_domain_type_name(g->type), strerror(-ret));
			goto fail;
		}
		direct_mappings(s, g, d);
		ret = group_set_domain(s, g, d);
		if (ret) {
			iommu_error_set(err, ret, "group %d: attaching its devices: %s", g->id, strerror(-ret));
			goto fail;
		}
		g->default_domain = d;
		g->type = d->type;
	}
	return 0;
fail:
	runtime_free(s);
	return ret;
}

bool iommu_system_started(const struct iommu_system *s)
{
	return s && s->rt;
}

struct iommu_mem *iommu_system_mem(const struct iommu_system *s)
{
	return s && s->rt ? s->rt->mem : NULL;
}

int iommu_system_mem_read(struct iommu_system *s, uint64_t addr, void *buf, size_t len)
{
	int ret;

	if (!s || (!buf && len))
		return -EINVAL;
	if (!s->rt)
		return -ENODEV;
	pthread_mutex_lock(&s->rt->hw_lock);
	ret = iommu_mem_read(s->rt->mem, addr, buf, len);
	pthread_mutex_unlock(&s->rt->hw_lock);
	return ret;
}

int iommu_system_mem_write(struct iommu_system *s, uint64_t addr, const void *buf, size_t len)
{
	int ret;

	if (!s || (!buf && len))
		return -EINVAL;
	if (!s->rt)
		return -ENODEV;
	pthread_mutex_lock(&s->rt->hw_lock);
	ret = iommu_mem_write(s->rt->mem, addr, buf, len);
	pthread_mutex_unlock(&s->rt->hw_lock);
	return ret;
}

struct iommu_intel *iommu_system_intel(const struct iommu_system *s, int unit)
{
	if (!s || !s->rt || unit < 0 || (size_t)unit >= s->rt->n_units)
		return NULL;
	return s->rt->units[unit].drv;
}

struct iommu_vtd_unit *iommu_system_vtd_unit(const struct iommu_system *s, int unit)
{
	if (!s || !s->rt || unit < 0 || (size_t)unit >= s->rt->n_units)
		return NULL;
	return s->rt->units[unit].vtd;
}

/* --- group accessors -------------------------------------------------------- */

static struct iommu_runtime *group_rt(const struct iommu_group_info *g)
{
	return g && g->system ? g->system->rt : NULL;
}

struct iommu_domain *iommu_group_default_domain(const struct iommu_group_info *g)
{
	struct iommu_runtime *rt = group_rt(g);
	struct iommu_domain *d;

	if (!rt)
		return NULL;
	pthread_mutex_lock(&rt->groups_lock);
	d = g->default_domain;
	pthread_mutex_unlock(&rt->groups_lock);
	return d;
}

struct iommu_domain *iommu_group_domain(const struct iommu_group_info *g)
{
	struct iommu_runtime *rt = group_rt(g);
	struct iommu_domain *d;

	if (!rt)
		return NULL;
	pthread_mutex_lock(&rt->groups_lock);
	d = g->domain;
	pthread_mutex_unlock(&rt->groups_lock);
	return d;
}

/* --- public domain API ------------------------------------------------------ */

int iommu_domain_alloc(struct iommu_system *s, const struct iommu_group_info *g,
		       enum iommu_domain_type type, struct iommu_domain **out)
{
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!s || !g)
		return -EINVAL;
	if (type != IOMMU_DOMAIN_BLOCKED && type != IOMMU_DOMAIN_IDENTITY && !type_paging(type))
		return -EINVAL;
	if (!s->rt || g->system != s)
		return -ENODEV;
	pthread_mutex_lock(&s->rt->groups_lock);
	ret = domain_create(s, group_unit(g), type, out);
	pthread_mutex_unlock(&s->rt->groups_lock);
	return ret;
}

void iommu_domain_free(struct iommu_domain *d)
{
	struct iommu_system *s;
	struct iommu_runtime *rt;

	if (!d)
		return;
	s = d->s;
	rt = s->rt;
	pthread_mutex_lock(&rt->groups_lock);
	if (domain_in_use(s, d)) {
		pthread_mutex_unlock(&rt->groups_lock);
		rt_note(s, "iommu_domain_free: the %s domain is still attached or a group's "
			"default/blocking domain: not freed", iommu_domain_type_name(d->type));
		return;
	}
	domains_remove(rt, d);
	pthread_mutex_unlock(&rt->groups_lock);
	domain_destroy(d);
}

enum iommu_domain_type iommu_domain_get_type(const struct iommu_domain *d)
{
	return d ? d->type : IOMMU_DOMAIN_NONE;
}

void iommu_domain_get_geometry(const struct iommu_domain *d, struct iommu_domain_geometry *geo)
{
	if (!geo)
		return;
	memset(geo, 0, sizeof(*geo));
	if (d)
		*geo = d->geo;
}

int iommu_domain_unit(const struct iommu_domain *d)
{
	return d ? d->unit : -1;
}

struct iommu_intel_domain *iommu_domain_intel(const struct iommu_domain *d)
{
	return d ? d->intel : NULL;
}

void iommu_domain_get_stats(struct iommu_domain *d, struct iommu_domain_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!d)
		return;
	pthread_mutex_lock(d->lk);
	*st = d->st;
	pthread_mutex_unlock(d->lk);
}

/* --- attach / detach / ownership ------------------------------------------- */

int iommu_attach_group(struct iommu_domain *d, struct iommu_group_info *g)
{
	struct iommu_system *s;
	int ret;

	if (!d || !g)
		return -EINVAL;
	s = d->s;
	if (!s->rt || g->system != s)
		return g->system ? -EINVAL : -ENODEV;
	pthread_mutex_lock(&s->rt->groups_lock);
	/* __iommu_attach_group: only from the core-owned domains */
	if (g->domain && g->domain != g->default_domain && g->domain != g->blocking_domain) {
		ret = -EBUSY;
		goto out;
	}
	if (group_unit(g) != d->unit) {
		ret = -EINVAL;
		goto out;
	}
	ret = set_domain_checks(s, g, d);
	if (!ret)
		ret = group_set_domain(s, g, d);
out:
	pthread_mutex_unlock(&s->rt->groups_lock);
	return ret;
}

/* __iommu_group_set_core_domain: the blocking domain while owned, else
 * the default one. */
static void set_core_domain(struct iommu_system *s, struct iommu_group_info *g)
{
	struct iommu_domain *d = g->owner ? g->blocking_domain : g->default_domain;
	int ret = group_set_domain(s, g, d);

	if (ret)
		rt_note(s, "group %d: iommu driver failed to attach the default/blocking domain (%s)",
			g->id, strerror(-ret));
}

void iommu_detach_group(struct iommu_domain *d, struct iommu_group_info *g)
{
	struct iommu_runtime *rt = group_rt(g);

	(void)d;
	if (!rt)
		return;
	pthread_mutex_lock(&rt->groups_lock);
	set_core_domain(g->system, g);
	pthread_mutex_unlock(&rt->groups_lock);
}

/*
 * The group's blocking domain (__iommu_group_alloc_blocking_domain): a
 * BLOCKED domain where the driver has one (Intel from 6.3, AMD from 6.12
 * in the model), else an empty UNMANAGED domain, whose attach blocks DMA
 * through tables with nothing in them.
 */
static int blocking_domain(struct iommu_system *s, struct iommu_group_info *g)
{
	bool has_blocked = s->driver == IOMMU_DRIVER_INTEL ? kv(s, 6, 3) : kv(s, 6, 12);

	if (g->blocking_domain)
		return 0;
	return domain_create(s, group_unit(g), has_blocked ? IOMMU_DOMAIN_BLOCKED :
			     IOMMU_DOMAIN_UNMANAGED, &g->blocking_domain);
}

int iommu_group_claim_dma_owner(struct iommu_group_info *g, const void *owner)
{
	struct iommu_runtime *rt = group_rt(g);
	struct iommu_system *s;
	int ret;

	if (!g || !owner)
		return -EINVAL;
	if (!rt)
		return -ENODEV;
	s = g->system;
	pthread_mutex_lock(&rt->groups_lock);
	if (g->owner_cnt) {
		/* iommu_device_claim_dma_owner: the same owner counts again */
		if (g->owner == owner) {
			g->owner_cnt++;
			ret = 0;
		} else {
			ret = -EPERM;
		}
		goto out;
	}
	if (iommu_group_dma_api_drivers(g)) {
		ret = -EPERM;   /* owner_cnt counts the bound DMA-API drivers */
		goto out;
	}
	/* __iommu_take_dma_ownership */
	if (g->domain && g->domain != g->default_domain) {
		ret = -EBUSY;
		goto out;
	}
	ret = blocking_domain(s, g);
	if (!ret)
		ret = set_domain_checks(s, g, g->blocking_domain);
	if (!ret)
		ret = group_set_domain(s, g, g->blocking_domain);
	if (!ret) {
		g->owner = owner;
		g->owner_cnt = 1;
	}
out:
	pthread_mutex_unlock(&rt->groups_lock);
	return ret;
}

void iommu_group_release_dma_owner(struct iommu_group_info *g)
{
	struct iommu_runtime *rt = group_rt(g);

	if (!rt)
		return;
	pthread_mutex_lock(&rt->groups_lock);
	if (g->owner_cnt && --g->owner_cnt == 0) {
		g->owner = NULL;
		set_core_domain(g->system, g);
	}
	pthread_mutex_unlock(&rt->groups_lock);
}

bool iommu_group_dma_owner_claimed(const struct iommu_group_info *g)
{
	struct iommu_runtime *rt = group_rt(g);
	bool claimed;

	if (!g)
		return false;
	if (!rt)
		return iommu_group_dma_api_drivers(g) != 0;
	pthread_mutex_lock(&rt->groups_lock);
	claimed = g->owner_cnt || iommu_group_dma_api_drivers(g);
	pthread_mutex_unlock(&rt->groups_lock);
	return claimed;
}

/* --- map, unmap ----------------------------------------------------------------- */

static uint64_t domain_limit(const struct iommu_domain *d)
{
	return d->geo.aperture_end;
}

/* Intel: one mapping, as __domain_mapping makes it (superpages where the
 * run allows), or in 511-page runs without superpages. */
static int intel_map_runs(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
			  int prot)
{
	uint64_t done = 0;
	int ret = 0;

	if (d->s->cmdline.intel_sp_off) {
		while (done < size && !ret) {
			uint64_t n = size - done < SP_OFF_RUN ? size - done : SP_OFF_RUN;

			ret = iommu_intel_map(d->intel, iova + done, paddr + done, n, prot);
			if (!ret)
				done += n;
		}
		if (ret && done) {
			uint64_t u;

			iommu_intel_unmap(d->intel, iova, done, &u);
		}
		return ret;
	}
	return iommu_intel_map(d->intel, iova, paddr, size, prot);
}

/*
 * The driver found something mapped in the range (-EBUSY: it mapped
 * nothing).  What the kernel's __domain_mapping does instead: each entry
 * it finds set stays as it was ("ERROR: DMA PTE for vPFN 0x%lx already
 * set", WARN), every other page is mapped, and the call succeeds; a
 * superpage going where smaller pages are mapped first removes them
 * (dma_pte_free_pagetable).  Page by page with iommu_pgsize's sizes.
 */
static int intel_map_fill(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
			  int prot)
{
	uint64_t off = 0, pg, count, u;
	int ret;

	while (off < size) {
		pg = core_pgsize(d->geo.pgsize_bitmap, iova + off, paddr + off, size - off, &count);
		if (!pg)
			return -EINVAL;
		for (uint64_t c = 0; c < count; c++, off += pg) {
			uint64_t va = iova + off, pa = paddr + off, phys = 0, psize = 0;

			ret = iommu_intel_map(d->intel, va, pa, pg, prot);
			if (ret != -EBUSY)
				goto next;
			if (iommu_intel_iova_to_phys(d->intel, va, &phys, &psize) == 0 && psize >= pg) {
				d->st.pte_already_set++;
				rt_note(d->s, "ERROR: DMA PTE for vPFN 0x%llx already set (to 0x%llx not "
					"0x%llx)", (unsigned long long)(va >> 12),
					(unsigned long long)phys, (unsigned long long)pa);
				ret = 0;
				goto next;
			}
			/* a superpage over smaller mappings replaces them */
			iommu_intel_unmap(d->intel, va, pg, &u);
			ret = iommu_intel_map(d->intel, va, pa, pg, prot);
next:
			if (ret) {
				if (off)
					iommu_intel_unmap(d->intel, iova, off, &u);
				return ret;
			}
		}
	}
	return 0;
}

static int intel_map_locked(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
			    int prot)
{
	int ret = intel_map_runs(d, iova, paddr, size, prot);

	if (ret == -EBUSY)
		ret = intel_map_fill(d, iova, paddr, size, prot);
	return ret;
}

/* AMD v1 (iommu_v1_map_pages): each iommu_pgsize() page written over
 * whatever was there; an allocation failure unmaps what this call
 * mapped (__iommu_map's unwind). */
static int amd_map_locked(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
			  int prot)
{
	uint64_t off = 0, pg, count;
	int ret;

	while (off < size) {
		pg = core_pgsize(d->geo.pgsize_bitmap, iova + off, paddr + off, size - off, &count);
		if (!pg)
			return -EINVAL;
		for (uint64_t c = 0; c < count; c++, off += pg) {
			ret = sw_map_page(d->sw, iova + off, paddr + off, (unsigned)__builtin_ctzll(pg), prot,
					  &d->st.replaced);
			if (ret) {
				for (uint64_t a = 0; a < off;) {
					uint64_t n = sw_unmap_page(d->sw, iova + a);

					a += n ? n : SZ_4K;
				}
				return ret;
			}
		}
	}
	return 0;
}

/*
 * __iommu_map's checks, in the kernel's order, then the driver.  Called
 * with d->lk held.
 */
static int map_locked(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size,
		      int prot)
{
	uint64_t min;
	int ret;

	if (!type_paging(d->type) || d->si) {
		/* 6.3+ checks the domain type first (-EINVAL); 6.1 first
		 * wants map ops and a page size bitmap, which a blocked
		 * domain lacks (-ENODEV) and an identity one has. */
		if (d->type == IOMMU_DOMAIN_BLOCKED && !kv(d->s, 6, 3))
			return -ENODEV;
		return -EINVAL;
	}
	min = d->geo.pgsize_bitmap & -d->geo.pgsize_bitmap;
	if ((iova | paddr | size) & (min - 1))
		return -EINVAL;         /* "unaligned: iova ... min_pagesz" */
	if (!size)
		return 0;               /* the loop never runs */
	if (iova + size - 1 < iova || paddr + size - 1 < paddr)
		return -EINVAL;         /* a range wrapping past 2^64 */
	if (!d->amd) {
		/* intel_iommu_map: the end must fit the domain's width */
		if (iova + size - 1 > domain_limit(d))
			return -EFAULT;
		if (!(prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE)))
			return -EINVAL; /* __domain_mapping */
		if (size >= SZ_2M)
			d->superpages = true;   /* unmap must then look for them */
		ret = intel_map_locked(d, iova, paddr, size, prot);
	} else {
		if (!(prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE)))
			return -EINVAL; /* iommu_v1_map_pages: no IOMMU_PROT_MASK bit */
		ret = amd_map_locked(d, iova, paddr, size, prot);
	}
	if (!ret) {
		d->st.maps++;
		d->st.bytes_mapped += size;
		/* a leaf mapping page 0 looks to iova_to_phys like a hole
		 * (core_unmap_checked must then look before it unmaps) */
		if (!paddr)
			d->maps_page0 = true;
	}
	return ret;
}

int iommu_map(struct iommu_domain *d, uint64_t iova, uint64_t paddr, uint64_t size, int prot)
{
	int ret;

	if (!d)
		return -EINVAL;
	pthread_mutex_lock(d->lk);
	ret = map_locked(d, iova, paddr, size, prot);
	pthread_mutex_unlock(d->lk);
	return ret;
}

/*
 * Intel: __iommu_unmap's chunks (iommu_pgsize), each counted as
 * intel_iommu_unmap counts it: nothing beyond the domain's width (the
 * walk finds no entry: 0, the loop stops), else the chunk, or the whole
 * superpage the walk meets at its start when that is bigger.  A hole
 * counts as unmapped.  The pages go in one driver call over the whole
 * range, so the IOTLB sees one gathered flush as iommu_iotlb_sync gives.
 */
static uint64_t intel_unmap_locked(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t limit = domain_limit(d), total = 0, cur = iova, cleared = 0;

	while (total < size) {
		uint64_t pg, count, len, phys, psize;

		if (cur > limit)
			break;
		pg = core_pgsize(d->geo.pgsize_bitmap, cur, cur, size - total, &count);
		if (!pg)
			break;
		len = pg * count;
		/* no map was ever 2 MiB: every leaf is a 4 KiB page */
		if (d->superpages && iommu_intel_iova_to_phys(d->intel, cur, &phys, &psize) == 0 &&
		    psize > len)
			len = psize;
		total += len;
		if (cur + len < cur)
			break;
		cur += len;
	}
	if (total) {
		uint64_t span = total;

		if (iova + span - 1 < iova || iova + span - 1 > limit)
			span = limit - iova + 1;
		iommu_intel_unmap(d->intel, iova, span, &cleared);
	}
	return total;
}

/* AMD: __iommu_unmap over iommu_v1_unmap_pages, which removes whole pages
 * and stops at the first address with nothing mapped. */
static uint64_t amd_unmap_locked(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t unmapped = 0, cur = iova;

	while (unmapped < size) {
		uint64_t pg, count, len, got = 0, a = cur;

		pg = core_pgsize(d->geo.pgsize_bitmap, cur, cur, size - unmapped, &count);
		if (!pg)
			break;
		len = pg * count;
		while (got < len) {
			uint64_t n = sw_unmap_page(d->sw, a);

			if (!n)
				break;
			got += n;
			/* the next page after the one removed */
			if ((a & ~(n - 1)) + n < a)
				break;
			a = (a & ~(n - 1)) + n;
		}
		if (!got)
			break;
		unmapped += got;
		if (cur + got < cur)
			break;
		cur += got;
	}
	return unmapped;
}

static uint64_t unmap_locked(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t min, n;

	/* __iommu_unmap: 0 for a non-paging domain and for an unaligned
	 * request ("unaligned: iova ... min_pagesz"); size 0 unmaps nothing */
	if (!type_paging(d->type) || d->si)
		return 0;
	min = d->geo.pgsize_bitmap & -d->geo.pgsize_bitmap;
	if (!size || ((iova | size) & (min - 1)))
		return 0;
	n = d->amd ? amd_unmap_locked(d, iova, size) : intel_unmap_locked(d, iova, size);
	if (n) {
		d->st.unmaps++;
		d->st.bytes_unmapped += n;
	}
	return n;
}

uint64_t iommu_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t n;

	if (!d)
		return 0;
	pthread_mutex_lock(d->lk);
	n = unmap_locked(d, iova, size);
	pthread_mutex_unlock(d->lk);
	return n;
}

/*
 * iommu_iova_to_phys(@addr), then iommu_unmap(@iova, @size) when it found
 * something, under one acquisition of the lock (internal.h).  Why the
 * one-walk paths answer as the two steps do:
 *
 *  - AMD: sw_unmap_page_phys() reads @addr's physical address from the
 *    leaf sw_lookup() would find (the page holding @iova holds @addr), and
 *    removes that page only when it is not 0.  For one smallest page the
 *    removal is amd_unmap_locked()'s whole work (it removes the page
 *    holding @iova, at least @size bytes).  For more, a page starting at
 *    @iova is the first that amd_unmap_locked() removes, and it continues
 *    page after page from its end: the rest of the range is
 *    amd_unmap_locked() from there.  A page starting before @iova (never
 *    one dma-iommu mapped) takes the general path.
 *  - Intel, one smallest page, no superpage ever mapped in the domain
 *    (d->superpages: every leaf is a 4 KiB entry at level 1), no mapping
 *    of physical page 0 (d->maps_page0): intel_unmap_locked() would make
 *    exactly this driver call (one chunk of @size inside the width) and
 *    return @size.  The driver clears the entry when it is present and
 *    reports it in @cleared; a present entry maps a page other than 0, so
 *    iova_to_phys(@addr) is not 0 exactly when @cleared is not 0.  When it
 *    is 0, nothing was there and the driver changed nothing, unless it met
 *    a directory entry pointing outside its tables (memory written behind
 *    its back: an error, nothing cleared); then the two steps decide.
 */
uint64_t core_unmap_checked(struct iommu_domain *d, uint64_t addr, uint64_t iova, uint64_t size,
			    bool *mapped, enum iommu_domain_type *type)
{
	uint64_t min, n = 0, phys;

	*mapped = false;
	if (type)
		*type = IOMMU_DOMAIN_NONE;
	if (!d)
		return 0;
	pthread_mutex_lock(d->lk);
	if (type)
		*type = d->type;
	min = d->geo.pgsize_bitmap & -d->geo.pgsize_bitmap;
	if (!type_paging(d->type) || d->si || !size || ((iova | size) & (min - 1)) ||
	    addr - iova >= min)
		goto two_steps;
	if (d->amd) {
		uint64_t got = sw_unmap_page_phys(d->sw, iova, addr, size > min, &phys);

		*mapped = phys != 0;
		if (!phys)
			goto out;
		if (!got)
			goto unmap;     /* a page starting before @iova */
		n = got;
		if (got < size && iova + got > iova)
			n += amd_unmap_locked(d, iova + got, size - got);
		goto count;
	}
	if (size == min && !d->superpages && !d->maps_page0 && iova <= domain_limit(d)) {
		uint64_t cleared = 0;
		int ret = iommu_intel_unmap(d->intel, iova, size, &cleared);

		if (cleared) {
			*mapped = true;
			n = size;
			goto count;
		}
		if (!ret)
			goto out;
	}
two_steps:
	*mapped = iova_to_phys_locked(d, addr) != 0;
	if (!*mapped)
		goto out;
unmap:
	n = unmap_locked(d, iova, size);
	goto out;
count:
	d->st.unmaps++;
	d->st.bytes_unmapped += n;
out:
	pthread_mutex_unlock(d->lk);
	return n;
}

/*
 * __iommu_map_sg: entries whose physical ranges continue each other are
 * mapped in one __iommu_map; on an error everything this call mapped is
 * unmapped and the error returned, else the bytes mapped.  The whole
 * call holds the domain's lock, so no other map sees it half done.
 */
int64_t iommu_map_sg(struct iommu_domain *d, uint64_t iova, const struct iommu_sg_entry *sg,
		     size_t nents, int prot)
{
	uint64_t mapped = 0, start = 0, len = 0;
	int ret = 0;

	if (!d || (!sg && nents))
		return -EINVAL;
	pthread_mutex_lock(d->lk);
	for (size_t i = 0; i <= nents; i++) {
		bool last = i == nents;

		if (len && (last || sg[i].paddr != start + len)) {
			ret = map_locked(d, iova + mapped, start, len, prot);
			if (ret)
				break;
			mapped += len;
			len = 0;
		}
		if (last)
			break;
		if (len) {
			len += sg[i].length;
		} else {
			start = sg[i].paddr;
			len = sg[i].length;
		}
	}
	if (ret && mapped)
		unmap_locked(d, iova, mapped);
	pthread_mutex_unlock(d->lk);
	return ret ? ret : (int64_t)mapped;
}

static uint64_t iova_to_phys_locked(struct iommu_domain *d, uint64_t iova)
{
	if (d->type == IOMMU_DOMAIN_IDENTITY)
		return iova;
	if (d->type == IOMMU_DOMAIN_BLOCKED)
		return 0;
	if (d->amd) {
		struct sw_leaf l;

		if (sw_lookup(d->sw, iova, &l))
			return 0;
		return l.paddr + (iova - l.base);
	} else {
		uint64_t phys = 0;

		if (iommu_intel_iova_to_phys(d->intel, iova, &phys, NULL))
			return 0;
		return phys;
	}
}

uint64_t iommu_iova_to_phys(struct iommu_domain *d, uint64_t iova)
{
	uint64_t p;

	if (!d)
		return 0;
	pthread_mutex_lock(d->lk);
	p = iova_to_phys_locked(d, iova);
	pthread_mutex_unlock(d->lk);
	return p;
}

static void flush_locked(struct iommu_domain *d)
{
	if (d->intel && type_paging(d->type))
		iommu_intel_flush(d->intel);
}

void iommu_flush_iotlb_all(struct iommu_domain *d)
{
	if (!d)
		return;
	pthread_mutex_lock(d->lk);
	flush_locked(d);
	pthread_mutex_unlock(d->lk);
}

/* --- a device's DMA ---------------------------------------------------------- */

enum dma_op { DMA_TRANSLATE, DMA_READ, DMA_WRITE };

/* Through the software page table of the group's current domain (AMD),
 * one page at most.  Called with the groups lock and the domain's lock. */
static int sw_translate(struct iommu_domain *d, uint64_t addr, bool write,
			struct iommu_device_xlate *res)
{
	struct sw_leaf l;

	if (!d || d->type == IOMMU_DOMAIN_BLOCKED)
		return -EFAULT;
	if (d->type == IOMMU_DOMAIN_IDENTITY) {
		res->direct = true;
		res->host_addr = addr;
		return 0;
	}
	if (sw_lookup(d->sw, addr, &l) || !(l.prot & (write ? IOMMU_PROT_WRITE : IOMMU_PROT_READ)))
		return -EFAULT;
	res->host_addr = l.paddr + (addr - l.base);
	return 0;
}

static int device_dma(struct iommu_system *s, const struct iommu_pci_dev *pdev, uint64_t addr,
		      void *buf, size_t len, enum dma_op op, struct iommu_device_xlate *res)
{
	struct iommu_runtime *rt = rt_of(s);
	const struct iommu_device_info *di;
	struct iommu_device_xlate tmp;
	int ret = 0;

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	if (!s || !pdev || (!buf && len))
		return -EINVAL;
	if (!rt)
		return -ENODEV;
	di = iommu_system_device(s, pdev);
	if (!di || di->pdev != pdev)
		return -EINVAL;

	if (s->driver == IOMMU_DRIVER_INTEL && di->group && di->unit >= 0 &&
	    rt->units[di->unit].vtd) {
		struct iommu_vtd_unit *u = rt->units[di->unit].vtd;
		uint16_t sid = visible_rid(s, pdev);
		struct iommu_vtd_result r = { 0 };

		res->modelled_unit = true;
		pthread_mutex_lock(&rt->hw_lock);
		if (op == DMA_TRANSLATE) {
			struct iommu_vtd_request rq = { .source_id = sid, .addr = addr, .size = 1,
							.write = len != 0 };

			ret = iommu_vtd_translate(u, &rq, &r);
		} else if (op == DMA_READ) {
			ret = iommu_vtd_dma_read(u, sid, addr, buf, len, &r);
		} else {
			ret = iommu_vtd_dma_write(u, sid, addr, buf, len, &r);
		}
		pthread_mutex_unlock(&rt->hw_lock);
		res->host_addr = r.host_addr;
		res->direct = r.passthrough;
		res->iotlb_hit = r.iotlb_hit;
		res->fault_reason = r.fault_reason;
		return ret;
	}

	if (s->driver == IOMMU_DRIVER_AMD && di->group) {
		struct iommu_group_info *g = di->group;
		bool write = op == DMA_WRITE || (op == DMA_TRANSLATE && len);
		uint64_t done = 0;

		pthread_mutex_lock(&rt->groups_lock);
		if (g->domain)
			pthread_mutex_lock(g->domain->lk);
		do {
			uint64_t a = addr + done, n = SZ_4K - (a & (SZ_4K - 1));
			struct iommu_device_xlate one = { 0 };

			if (n > len - done)
				n = len - done;
			ret = sw_translate(g->domain, a, write, &one);
			if (ret)
				break;
			if (done == 0)
				*res = one;
			if (op != DMA_TRANSLATE && n) {
				pthread_mutex_lock(&rt->hw_lock);
				ret = op == DMA_READ ?
				      iommu_mem_read(rt->mem, one.host_addr, (uint8_t *)buf + done, n) :
				      iommu_mem_write(rt->mem, one.host_addr, (const uint8_t *)buf + done, n);
				pthread_mutex_unlock(&rt->hw_lock);
				if (ret)
					break;
			}
			done += n;
		} while (done < len && op != DMA_TRANSLATE);
		if (g->domain)
			pthread_mutex_unlock(g->domain->lk);
		pthread_mutex_unlock(&rt->groups_lock);
		return ret;
	}

	/* No IOMMU translates it: the address is the memory address. */
	res->direct = true;
	res->host_addr = addr;
	if (op == DMA_TRANSLATE)
		return 0;
	pthread_mutex_lock(&rt->hw_lock);
	ret = op == DMA_READ ? iommu_mem_read(rt->mem, addr, buf, len) :
			       iommu_mem_write(rt->mem, addr, buf, len);
	pthread_mutex_unlock(&rt->hw_lock);
	return ret;
}

int iommu_device_translate(struct iommu_system *s, const struct iommu_pci_dev *pdev,
			   uint64_t addr, bool write, struct iommu_device_xlate *res)
{
	static uint8_t dummy;

	/* the length carries the direction for DMA_TRANSLATE */
	return device_dma(s, pdev, addr, write ? &dummy : NULL, write ? 1 : 0, DMA_TRANSLATE, res);
}

int iommu_device_dma_read(struct iommu_system *s, const struct iommu_pci_dev *pdev,
			  uint64_t addr, void *buf, size_t len, struct iommu_device_xlate *res)
{
	return device_dma(s, pdev, addr, buf, len, DMA_READ, res);
}

int iommu_device_dma_write(struct iommu_system *s, const struct iommu_pci_dev *pdev,
			   uint64_t addr, const void *buf, size_t len,
			   struct iommu_device_xlate *res)
{
	return device_dma(s, pdev, addr, (void *)buf, len, DMA_WRITE, res);
}

/* --- writes to the group's type ------------------------------------------- */

/* sysfs_streq: equal, or equal up to one trailing newline in @buf. */
static bool sysfs_streq(const char *buf, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(buf, word, n) && (buf[n] == '\0' || (buf[n] == '\n' && buf[n + 1] == '\0'));
}

/* What the group's drivers require (iommu_get_default_domain_type for
 * 6.5+, with the 6.5 conflict rule: identity wins), NONE for no opinion;
 * -1 for a refusal. */
static int group_driver_type(const struct iommu_system *s, const struct iommu_group_info *g,
			     enum iommu_domain_type target)
{
	enum iommu_domain_type drv = IOMMU_DOMAIN_NONE;
	bool untrusted = false;

	for (size_t k = 0; k < g->n_devices; k++) {
		enum iommu_domain_type t = g->devices[k]->driver_type;

		untrusted |= g->devices[k]->untrusted;
		if (t == IOMMU_DOMAIN_NONE || t == drv)
			continue;
		if (drv == IOMMU_DOMAIN_NONE)
			drv = t;
		else if (t == IOMMU_DOMAIN_IDENTITY)
			drv = t;
	}
	(void)s;
	if (untrusted) {
		if (drv != IOMMU_DOMAIN_NONE && drv != IOMMU_DOMAIN_DMA)
			return -1;
		drv = IOMMU_DOMAIN_DMA;
	}
	if (target != IOMMU_DOMAIN_NONE) {
		if (drv != IOMMU_DOMAIN_NONE && target != drv)
			return -1;
		return (int)target;
	}
	return (int)drv;
}

/*
 * The new default domain of @type for a started system
 * (iommu_setup_default_domain / iommu_change_dev_def_domain): allocated
 * (an explicit type must succeed; "auto" may fall back to DMA), its direct
 * regions mapped, the group moved to it, the old one freed.  An identity
 * group asked for identity again keeps its domain (the kernel's identity
 * domain is one object).
 */
static int replace_default(struct iommu_system *s, struct iommu_group_info *g,
			   enum iommu_domain_type type, bool explicit, struct iommu_error *err)
{
	struct iommu_domain *old = g->default_domain, *d;
	int ret;

	if (old && type == IOMMU_DOMAIN_IDENTITY && old->type == IOMMU_DOMAIN_IDENTITY)
		return 0;
	if (explicit) {
		int unit = group_unit(g);
		struct rt_unit *ru = unit >= 0 ? &s->rt->units[unit] : NULL;

		if (ru && type == IOMMU_DOMAIN_IDENTITY && ru->si)
			d = ru->si, ret = 0;
		else
			ret = domain_create(s, unit, type, &d);
		if (!ret && d->si && ru)
			ru->si = d;
	} else {
		ret = default_domain_create(s, g, type, &d);
	}
	if (ret)
		return iommu_error_set(err, ret, "group %d: allocating a %s domain: %s", g->id,
				       iommu_domain_type_name(type), strerror(-ret));
	direct_mappings(s, g, d);
	ret = group_set_domain(s, g, d);
	if (ret) {
		if (!domain_in_use(s, d)) {
			domains_remove(s->rt, d);
			domain_destroy(d);
		}
		return iommu_error_set(err, ret, "group %d: attaching the new default domain: %s",
				       g->id, strerror(-ret));
	}
	g->default_domain = d;
	g->type = d->type;
	if (old && old != d && !domain_in_use(s, old)) {
		domains_remove(s->rt, old);
		domain_destroy(old);
	}
	return 0;
}

/* DMA -> DMA-FQ without a new domain (iommu_dma_init_fq): the flush queue
 * comes up; on VT-d unmaps stop invalidating until flush_iotlb_all. */
static void upgrade_fq(struct iommu_system *s, struct iommu_group_info *g)
{
	struct iommu_domain *d = s->rt ? g->default_domain : NULL;

	g->type = IOMMU_DOMAIN_DMA_FQ;
	if (!d)
		return;
	pthread_mutex_lock(d->lk);
	d->type = IOMMU_DOMAIN_DMA_FQ;
	if (d->intel)
		iommu_intel_domain_set_flush_mode(d->intel, IOMMU_INTEL_FLUSH_DEFERRED);
	pthread_mutex_unlock(d->lk);
}

static const char *errname(int e)
{
	switch (-e) {
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case ENOMEM: return "ENOMEM";
	default: return "error";
	}
}

static int refuse(struct iommu_error *err, int code, const struct iommu_group_info *g,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct iommu_error *err, int code, const struct iommu_group_info *g,
		  const char *fmt, ...)
{
	char why[IOMMU_ERROR_MSG_MAX - 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return iommu_error_set(err, code, "group %d (%s): %s", g->id, errname(code), why);
}

static int store_type_locked(struct iommu_system *s, struct iommu_group_info *g,
			     const char *buf, struct iommu_error *err)
{
	enum iommu_domain_type req, type;
	bool started = s->rt != NULL;
	int t;

	if (!kv(s, 5, 11))
		return refuse(err, -EACCES, g, "the type file is read-only before kernel 5.11");
	if (g->type == IOMMU_DOMAIN_NONE)
		return refuse(err, -EINVAL, g, "the group has no default domain");
	if (sysfs_streq(buf, "identity"))
		req = IOMMU_DOMAIN_IDENTITY;
	else if (sysfs_streq(buf, "DMA"))
		req = IOMMU_DOMAIN_DMA;
	else if (sysfs_streq(buf, "DMA-FQ") && kv(s, 5, 15))
		req = IOMMU_DOMAIN_DMA_FQ;
	else if (sysfs_streq(buf, "auto"))
		req = IOMMU_DOMAIN_NONE;
	else
		return refuse(err, -EINVAL, g, "\"%.*s\" is not one of identity, DMA,%s auto",
			      (int)strcspn(buf, "\n"), buf, kv(s, 5, 15) ? " DMA-FQ," : "");

	if (kv(s, 6, 5)) {
		const struct iommu_device_info *di;

		/* iommu_group_store_type (6.5+): the flush queue comes up in
		 * place, whatever is bound */
		if (req == IOMMU_DOMAIN_DMA_FQ && g->type == IOMMU_DOMAIN_DMA) {
			upgrade_fq(s, g);
			return 0;
		}
		/* "ensure that device exists and no driver is bound" */
		if (g->owner_cnt)
			return refuse(err, -EPERM, g, "its DMA is owned (claimed by VFIO or iommufd)");
		di = group_dma_api_member(g);
		if (di)
			return refuse(err, -EPERM, g, "%s is bound to %s, a driver that uses the DMA API "
				      "(owner_cnt %zu)", di->pdev->name, di->pdev->driver,
				      iommu_group_dma_api_drivers(g));
		t = group_driver_type(s, g, req);
		if (t < 0)
			return refuse(err, -EINVAL, g, "the IOMMU driver requires another type for a member "
				      "(untrusted device, or no pass-through)");
		type = t == (int)IOMMU_DOMAIN_NONE ? s->global_default : (enum iommu_domain_type)t;
		if (!started) {
			g->type = type;
			return 0;
		}
		return replace_default(s, g, type, req != IOMMU_DOMAIN_NONE, err);
	} else {
		/* 5.11 - 6.4: iommu_group_store_type + iommu_change_dev_def_domain */
		const struct iommu_device_info *di;
		enum iommu_domain_type dev_def;

		if (g->n_devices != 1)
			return refuse(err, -EINVAL, g, "Cannot change default domain: Group has more than one "
				      "device");
		di = g->devices[0];
		if (di->pdev->driver && !(req == IOMMU_DOMAIN_DMA_FQ && g->type == IOMMU_DOMAIN_DMA))
			return refuse(err, -EBUSY, g, "Device is still bound to driver (%s is bound to %s)",
				      di->pdev->name, di->pdev->driver);
		if (started && g->domain != g->default_domain)
			return refuse(err, -EBUSY, g, "Group not assigned to default domain");
		dev_def = di->untrusted ? IOMMU_DOMAIN_DMA : di->driver_type;
		if (req == IOMMU_DOMAIN_NONE)
			type = dev_def != IOMMU_DOMAIN_NONE ? dev_def : s->global_default;
		else if (dev_def != IOMMU_DOMAIN_NONE && req != dev_def)
			return refuse(err, -EINVAL, g, "Device cannot be in %s domain",
				      iommu_domain_type_name(req));
		else
			type = req;
		if (g->type == type)
			return 0;
		if (type == IOMMU_DOMAIN_DMA_FQ && g->type == IOMMU_DOMAIN_DMA) {
			upgrade_fq(s, g);
			return 0;
		}
		if (!started) {
			g->type = type;
			return 0;
		}
		/* iommu_group_alloc_default_domain (6.1): any type falls back
		 * to DMA when the driver cannot allocate it */
		return replace_default(s, g, type, false, err);
	}
}

int iommu_group_store_type(struct iommu_system *s, struct iommu_group_info *g,
			   const char *buf, struct iommu_error *err)
{
	int ret;

	iommu_error_clear(err);
	if (!s || !g || !buf)
		return iommu_error_set(err, -EINVAL, "store_type: NULL argument");
	if (g->system && g->system != s)
		return iommu_error_set(err, -EINVAL, "store_type: group %d is not of this system", g->id);
	if (!s->rt)
		return store_type_locked(s, g, buf, err);
	pthread_mutex_lock(&s->rt->groups_lock);
	ret = store_type_locked(s, g, buf, err);
	pthread_mutex_unlock(&s->rt->groups_lock);
	return ret;
}
