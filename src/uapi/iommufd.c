// SPDX-License-Identifier: MIT
/*
 * /dev/iommu: the kernel's iommufd (drivers/iommu/iommufd/main.c, ioas.c,
 * device.c, hw_pagetable.c, vfio_compat.c; reference section 9), kernel
 * 6.12's user API, over the io_pagetable of iommufd_pages.c and core
 * domains.
 *
 *  - objects of all kinds in one id space per open file: the lowest free
 *    id from 1, reserved while an ioctl builds the object and given back
 *    when it fails; a missing id or one of another kind is -ENOENT
 *    (iommufd_get_object); DESTROY of an object something still holds is
 *    -EBUSY (iommufd_object_remove), of a bound device always;
 *  - the ioctl framework: the number's nr indexes the command table (nr
 *    outside it goes to the VFIO compatibility ioctls, -ENOTTY for
 *    anything else), the first u32 of the argument is the caller's size,
 *    below the command's minimum is -EINVAL, a larger struct with nonzero
 *    bytes past the kernel's is -E2BIG (copy_struct_from_user), the answer
 *    is copied back cut to the caller's size;
 *  - IOAS_ALLOC, IOVA_RANGES (-EMSGSIZE with the count written back),
 *    ALLOW_IOVAS, MAP, COPY, UNMAP, OPTION, VFIO_IOAS, HWPT_ALLOC (paging
 *    HWPTs; nested ones need a NEST_PARENT parent no modelled IOMMU can
 *    give), GET_HW_INFO (VT-d CAP/ECAP), the dirty-tracking and
 *    invalidation commands with the errors of domains that have neither,
 *    FAULT_QUEUE_ALLOC (a fault object and its descriptor; the modelled
 *    devices raise no page requests);
 *  - devices bound through their VFIO cdev (vfio_cdev.c): DMA ownership
 *    claimed for the context, MSI isolation required, attach to a HWPT or
 *    to an IOAS through an automatic domain (an existing automatic HWPT of
 *    the IOAS that the group can attach to, else a new one), which goes
 *    when its last device detaches;
 *  - the VFIO type1 compatibility ioctls on the compat IOAS.
 *
 * Kernel versions: iommufd exists from 6.2; the command table grows with
 * the version (HWPT_ALLOC and GET_HW_INFO 6.6, dirty tracking 6.7,
 * HWPT_INVALIDATE 6.8, FAULT_QUEUE_ALLOC 6.11); structures are 6.12's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "uapi/iommufd_internal.h"

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#define IOMMUFD_ID_MAX INT_MAX          /* xa_limit_31b */

/* ------------------------------------------------------------------ */
/* Objects                                                              */

struct iommufd_group;

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	struct iommufd_hwpt_paging **hwpts;     /* hwpt_list, in add order */
	size_t n_hwpts;
};

struct iommufd_hwpt_paging {
	struct iommufd_object obj;
	struct iommu_domain *domain;
	struct iommufd_ioas *ioas;
	bool auto_domain;
	bool nest_parent;
	bool enforce_cache_coherency;
	bool in_ioas;           /* on the IOAS's hwpt_list (domain added) */
	struct iommufd_object *fault;
};

struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommu_pci_dev *pdev;
	struct iommufd_group *igroup;
	bool enforce_cache_coherency;
};

/* Per IOMMU group and context (the kernel's iommufd_group). */
struct iommufd_group {
	struct iommufd_ctx *ictx;
	struct iommu_group_info *group;
	int refs;
	struct iommufd_hwpt_paging *hwpt;       /* what the group is attached to */
	struct iommufd_device **devices;        /* attached, in attach order */
	size_t n_devices;
};

struct iommufd_fault {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct uapi_file *file;
};

struct iommufd_ctx {
	struct iommu_uapi *u;
	struct uapi_file *file;
	struct iommufd_object **objs;   /* by id; NULL: free */
	size_t cap;
	struct iommufd_ioas *vfio_ioas;
	bool account_mm;                /* IOPT_PAGES_ACCOUNT_MM */
	struct iommufd_group **groups;
	size_t n_groups;
};

struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	unsigned long ubuffer;
	uint32_t user_size;
	void *cmd;
};

static void object_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj);

/* _iommufd_object_alloc: the lowest free id from 1, reserved (not
 * findable) until finalized. */
static void *object_alloc(struct iommufd_ctx *ictx, size_t size, enum iommufd_object_type type,
			  int *err)
{
	struct iommufd_object *obj;
	size_t id;

	for (id = 1; id < ictx->cap && ictx->objs[id]; id++)
		;
	if (id > IOMMUFD_ID_MAX) {
		*err = -EBUSY;  /* xa_alloc: no free id */
		return NULL;
	}
	if (id >= ictx->cap) {
		size_t nc = ictx->cap ? ictx->cap * 2 : 16;
		struct iommufd_object **no = realloc(ictx->objs, nc * sizeof(*no));

		if (!no) {
			*err = -ENOMEM;
			return NULL;
		}
		memset(no + ictx->cap, 0, (nc - ictx->cap) * sizeof(*no));
		ictx->objs = no;
		ictx->cap = nc;
	}
	obj = calloc(1, size);
	if (!obj) {
		*err = -ENOMEM;
		return NULL;
	}
	obj->type = type;
	obj->id = (uint32_t)id;
	obj->users = 1;
	ictx->objs[id] = obj;
	return obj;
}

static void object_finalize(struct iommufd_object *obj)
{
	obj->finalized = true;
}

/* iommufd_object_abort: the id goes back; nothing was set up. */
static void object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	ictx->objs[obj->id] = NULL;
	free(obj);
}

/* iommufd_object_abort_and_destroy */
static void object_abort_and_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	object_destroy(ictx, obj);
	object_abort(ictx, obj);
}

/* iommufd_get_object: a finalized object of @type (ANY: any kind). */
static struct iommufd_object *get_object(struct iommufd_ctx *ictx, uint32_t id,
					 enum iommufd_object_type type)
{
	struct iommufd_object *obj = id < ictx->cap ? ictx->objs[id] : NULL;

	if (!obj || !obj->finalized || (type != IOMMUFD_OBJ_ANY && obj->type != type))
		return NULL;
	return obj;
}

static struct iommufd_ioas *get_ioas(struct iommufd_ctx *ictx, uint32_t id)
{
	return (struct iommufd_ioas *)get_object(ictx, id, IOMMUFD_OBJ_IOAS);
}

/*
 * iommufd_object_remove: @to_destroy, when given, is the caller's
 * reference, dropped here; the object goes only when the table's
 * reference is the last one (-EBUSY otherwise); -ENOENT for no object.
 */
static int object_remove(struct iommufd_ctx *ictx, struct iommufd_object *to_destroy, uint32_t id)
{
	struct iommufd_object *obj = id < ictx->cap ? ictx->objs[id] : NULL;

	if (to_destroy) {
		if (obj != to_destroy)
			return -ENOENT;
		obj->users--;
	} else if (!obj || !obj->finalized) {
		return -ENOENT;
	}
	if (obj->users != 1)
		return -EBUSY;
	ictx->objs[id] = NULL;
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	object_destroy(ictx, obj);
	free(obj);
	return 0;
}

/* ------------------------------------------------------------------ */
/* HWPTs                                                                */

static void hwpt_paging_destroy(struct iommufd_ctx *ictx, struct iommufd_hwpt_paging *hwpt)
{
	(void)ictx;
	if (hwpt->in_ioas) {
		struct iommufd_ioas *ioas = hwpt->ioas;
		size_t i;

		for (i = 0; i < ioas->n_hwpts && ioas->hwpts[i] != hwpt; i++)
			;
		if (i < ioas->n_hwpts) {
			memmove(ioas->hwpts + i, ioas->hwpts + i + 1,
				(ioas->n_hwpts - i - 1) * sizeof(*ioas->hwpts));
			ioas->n_hwpts--;
		}
		iopt_table_remove_domain(&ioas->iopt, hwpt->domain);
		hwpt->in_ioas = false;
	}
	if (hwpt->domain)
		iommu_domain_free(hwpt->domain);
	hwpt->domain = NULL;
	if (hwpt->fault)
		hwpt->fault->users--;
	if (hwpt->ioas)
		hwpt->ioas->obj.users--;
}

/* iommufd_hw_pagetable_put: an automatic HWPT goes with its last user. */
static void hwpt_put(struct iommufd_ctx *ictx, struct iommufd_hwpt_paging *hwpt)
{
	if (hwpt->auto_domain)
		(void)object_remove(ictx, &hwpt->obj, hwpt->obj.id);
	else
		hwpt->obj.users--;
}

/* ------------------------------------------------------------------ */
/* Groups and devices                                                   */

static struct iommufd_group *group_get(struct iommufd_ctx *ictx, struct iommu_group_info *ig)
{
	struct iommufd_group *g, **ng;

	for (size_t i = 0; i < ictx->n_groups; i++)
		if (ictx->groups[i]->group == ig) {
			ictx->groups[i]->refs++;
			return ictx->groups[i];
		}
	g = calloc(1, sizeof(*g));
	ng = realloc(ictx->groups, (ictx->n_groups + 1) * sizeof(*ng));
	if (!g || !ng) {
		free(g);
		if (ng)
			ictx->groups = ng;
		return NULL;
	}
	ictx->groups = ng;
	g->ictx = ictx;
	g->group = ig;
	g->refs = 1;
	ictx->groups[ictx->n_groups++] = g;
	return g;
}

static void group_put(struct iommufd_group *g)
{
	struct iommufd_ctx *ictx = g->ictx;
	size_t i;

	if (--g->refs > 0)
		return;
	for (i = 0; i < ictx->n_groups && ictx->groups[i] != g; i++)
		;
	if (i < ictx->n_groups) {
		memmove(ictx->groups + i, ictx->groups + i + 1, (ictx->n_groups - i - 1) * sizeof(*ictx->groups));
		ictx->n_groups--;
	}
	free(g->devices);
	free(g);
}

static bool group_has_device(const struct iommufd_group *g, const struct iommufd_device *idev)
{
	for (size_t i = 0; i < g->n_devices; i++)
		if (g->devices[i] == idev)
			return true;
	return false;
}

static void group_del_device(struct iommufd_group *g, struct iommufd_device *idev)
{
	for (size_t i = 0; i < g->n_devices; i++)
		if (g->devices[i] == idev) {
			memmove(g->devices + i, g->devices + i + 1, (g->n_devices - i - 1) * sizeof(*g->devices));
			g->n_devices--;
			return;
		}
}

static void device_destroy(struct iommufd_ctx *ictx, struct iommufd_device *idev)
{
	(void)ictx;
	iommu_group_release_dma_owner(idev->igroup->group);
	group_put(idev->igroup);
	iommufd_ctx_put(idev->ictx);
}

/* The VT-d unit's CAP/ECAP as the model has them. */
static void unit_regs(const struct iommu_system *s, int unit, uint64_t *cap, uint64_t *ecap)
{
	*cap = IOMMU_VTD_DEFAULT_CAP;
	*ecap = IOMMU_VTD_DEFAULT_ECAP;
	if (unit >= 0 && (size_t)unit < s->n_units && s->units[unit].have_regs) {
		*cap = s->units[unit].cap;
		*ecap = s->units[unit].ecap;
	}
}

/* device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY): VT-d
 * snoop control (ECAP.SC); AMD always. */
static bool device_enforce_cc(struct iommu_uapi *u, const struct iommu_device_info *di)
{
	uint64_t cap, ecap;

	if (u->s->driver == IOMMU_DRIVER_AMD)
		return true;
	unit_regs(u->s, di->unit, &cap, &ecap);
	return (ecap >> 7) & 1;
}

int iommufd_device_bind(struct iommufd_ctx *ictx, struct iommu_pci_dev *pdev,
			struct iommufd_device **out, uint32_t *id)
{
	struct iommu_uapi *u = ictx->u;
	struct iommu_device_info *di = iommu_system_device(u->s, pdev);
	struct iommufd_device *idev;
	struct iommufd_group *g;
	int ret;

	/* IOMMU_CAP_CACHE_COHERENCY: any device an IOMMU translates */
	if (!di || !di->group || u->s->driver == IOMMU_DRIVER_NONE)
		return -EINVAL;
	g = group_get(ictx, di->group);
	if (!g)
		return -ENOMEM;
	/* iommu_group_has_isolated_msi (x86: interrupt remapping, the test
	 * type1 makes at attach); iommufd.allow_unsafe_interrupts is off */
	if (!uapi_msi_isolated(u)) {
		ret = -EPERM;
		goto out_group;
	}
	ret = iommu_group_claim_dma_owner(di->group, ictx);
	if (ret == -EINVAL) {
		/* __iommu_device_set_domain's refusal of the blocking domain
		 * for a member with a direct (RMRR, IVMD unity) region */
		for (size_t r = 0; r < di->group->n_resv; r++)
			if (di->group->resv[r].type == IOMMU_RESV_DIRECT) {
				uapi_dev_log(u, pdev, pdev->driver,
					     "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.");
				break;
			}
	}
	if (ret)
		goto out_group;
	idev = object_alloc(ictx, sizeof(*idev), IOMMUFD_OBJ_DEVICE, &ret);
	if (!idev) {
		iommu_group_release_dma_owner(di->group);
		goto out_group;
	}
	idev->ictx = ictx;
	uapi_file_get(ictx->file);              /* iommufd_ctx_get */
	idev->pdev = pdev;
	idev->igroup = g;
	idev->enforce_cache_coherency = device_enforce_cc(u, di);
	/* the calling driver is a user until unbind */
	idev->obj.users++;
	object_finalize(&idev->obj);
	*id = idev->obj.id;
	*out = idev;
	return 0;
out_group:
	group_put(g);
	return ret;
}

void iommufd_device_unbind(struct iommufd_device *idev)
{
	/* iommufd_object_destroy_user: the driver's reference */
	(void)object_remove(idev->ictx, &idev->obj, idev->obj.id);
}

/* iommufd_hw_pagetable_attach */
static int hwpt_attach(struct iommufd_hwpt_paging *hwpt, struct iommufd_device *idev)
{
	struct iommufd_group *g = idev->igroup;
	int ret;

	if (g->hwpt && g->hwpt != hwpt)
		return -EINVAL;
	ret = iopt_table_enforce_dev_resv_regions(&hwpt->ioas->iopt, g->group, idev);
	if (ret)
		return ret;
	/* The group attaches once, for its first device. */
	if (!g->n_devices) {
		/* iommufd_fault_iopf_enable: a HWPT with a fault queue needs
		 * the device's page requests (PRI and ATS), which no modelled
		 * device has (intel_iommu_enable_iopf: -ENODEV) */
		if (hwpt->fault) {
			iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
			return -ENODEV;
		}
		ret = iommu_attach_group(hwpt->domain, g->group);
		if (ret) {
			iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
			return ret;
		}
		g->hwpt = hwpt;
	}
	{
		struct iommufd_device **nd = realloc(g->devices, (g->n_devices + 1) * sizeof(*nd));

		if (!nd) {
			if (!g->n_devices) {
				iommu_detach_group(hwpt->domain, g->group);
				g->hwpt = NULL;
			}
			iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
			return -ENOMEM;
		}
		g->devices = nd;
	}
	hwpt->obj.users++;
	g->devices[g->n_devices++] = idev;
	return 0;
}

/* iommufd_hw_pagetable_detach: the HWPT for the caller to put. */
static struct iommufd_hwpt_paging *hwpt_detach(struct iommufd_device *idev)
{
	struct iommufd_group *g = idev->igroup;
	struct iommufd_hwpt_paging *hwpt = g->hwpt;

	group_del_device(g, idev);
	if (!g->n_devices) {
		/* back to the blocking domain while the DMA is owned */
		iommu_detach_group(hwpt->domain, g->group);
		g->hwpt = NULL;
	}
	iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
	return hwpt;
}

/*
 * iommufd_hwpt_paging_alloc: a paging domain for @idev's IOMMU added to
 * @ioas (its areas mapped in); with @immediate_attach the device is
 * attached before the domain is filled.  The object is not finalized.
 */
static struct iommufd_hwpt_paging *hwpt_paging_alloc(struct iommufd_ctx *ictx,
						     struct iommufd_ioas *ioas,
						     struct iommufd_device *idev, uint32_t flags,
						     bool immediate_attach, bool user_data, int *err)
{
	const uint32_t valid_flags = IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				     IOMMU_HWPT_FAULT_ID_VALID;
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_hwpt_paging **nl;
	int ret;

	if (flags & ~valid_flags) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	/* No modelled IOMMU has dirty tracking (IOMMU_CAP_DIRTY_TRACKING:
	 * VT-d second-level A/D bits need scalable mode) */
	if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if ((flags & IOMMU_HWPT_FAULT_ID_VALID) && (flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	hwpt = object_alloc(ictx, sizeof(*hwpt), IOMMUFD_OBJ_HWPT_PAGING, err);
	if (!hwpt)
		return NULL;
	ioas->obj.users++;
	hwpt->ioas = ioas;
	hwpt->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	/* The drivers' domain_alloc_user: user data for a paging domain,
	 * or a nesting parent where the unit has no nested translation
	 * (ECAP.NEST; AMD v1 tables have none) */
	if (user_data || hwpt->nest_parent) {
		ret = -EOPNOTSUPP;
		goto out_abort;
	}
	ret = iommu_domain_alloc(ictx->u->s, idev->igroup->group, IOMMU_DOMAIN_UNMANAGED, &hwpt->domain);
	if (ret) {
		hwpt->domain = NULL;
		ret = -ENOMEM;
		goto out_abort;
	}
	if (idev->enforce_cache_coherency)
		hwpt->enforce_cache_coherency = true;
	if (immediate_attach) {
		ret = hwpt_attach(hwpt, idev);
		if (ret)
			goto out_abort;
	}
	ret = iopt_table_add_domain(&ioas->iopt, hwpt->domain);
	if (ret)
		goto out_detach;
	nl = realloc(ioas->hwpts, (ioas->n_hwpts + 1) * sizeof(*nl));
	if (!nl) {
		iopt_table_remove_domain(&ioas->iopt, hwpt->domain);
		ret = -ENOMEM;
		goto out_detach;
	}
	ioas->hwpts = nl;
	ioas->hwpts[ioas->n_hwpts++] = hwpt;
	hwpt->in_ioas = true;
	return hwpt;
out_detach:
	if (immediate_attach) {
		hwpt_detach(idev);
		hwpt->obj.users--;
	}
out_abort:
	object_abort_and_destroy(ictx, &hwpt->obj);
	*err = ret;
	return NULL;
}

typedef int (*attach_fn)(struct iommufd_device *idev, struct iommufd_hwpt_paging *hwpt,
			 struct iommufd_hwpt_paging **destroy);

static int do_attach(struct iommufd_device *idev, struct iommufd_hwpt_paging *hwpt,
		     struct iommufd_hwpt_paging **destroy)
{
	*destroy = NULL;
	return hwpt_attach(hwpt, idev);
}

/* iommufd_device_do_replace: the group moves to @hwpt at once. */
static int do_replace(struct iommufd_device *idev, struct iommufd_hwpt_paging *hwpt,
		      struct iommufd_hwpt_paging **destroy)
{
	struct iommufd_group *g = idev->igroup;
	struct iommufd_hwpt_paging *old = g->hwpt;
	size_t n;
	int ret;

	*destroy = NULL;
	if (!old || !group_has_device(g, idev))
		return -EINVAL;
	if (hwpt == old)
		return 0;
	if (hwpt->ioas != old->ioas) {
		for (size_t i = 0; i < g->n_devices; i++) {
			ret = iopt_table_enforce_dev_resv_regions(&hwpt->ioas->iopt, g->group, g->devices[i]);
			if (ret) {
				while (i-- > 0)
					iopt_remove_reserved_iova(&hwpt->ioas->iopt, g->devices[i]);
				return ret;
			}
		}
	}
	/* iommu_replace_group_handle: the model's core attaches only from
	 * the default or blocking domain, so the group passes through its
	 * blocking domain (DMA is owned: nothing can reach memory then). */
	iommu_detach_group(old->domain, g->group);
	ret = iommu_attach_group(hwpt->domain, g->group);
	if (ret) {
		(void)iommu_attach_group(old->domain, g->group);
		if (hwpt->ioas != old->ioas)
			for (size_t i = 0; i < g->n_devices; i++)
				iopt_remove_reserved_iova(&hwpt->ioas->iopt, g->devices[i]);
		return ret;
	}
	if (hwpt->ioas != old->ioas)
		for (size_t i = 0; i < g->n_devices; i++)
			iopt_remove_reserved_iova(&old->ioas->iopt, g->devices[i]);
	g->hwpt = hwpt;
	/* The device list's references move to the new HWPT; the caller
	 * puts the one left on the old. */
	n = g->n_devices;
	hwpt->obj.users += (unsigned)n;
	old->obj.users -= (unsigned)(n - 1);
	*destroy = old;
	return 0;
}

/* iommufd_device_auto_get_domain */
static int auto_get_domain(struct iommufd_device *idev, struct iommufd_ioas *ioas, uint32_t *pt_id,
			   attach_fn fn, struct iommufd_hwpt_paging **destroy)
{
	bool immediate = fn == do_attach;
	struct iommufd_hwpt_paging *hwpt;
	int ret;

	/* Any automatic domain the device can attach to will do;
	 * -EINVAL means incompatible, anything else is the answer. */
	for (size_t i = 0; i < ioas->n_hwpts; i++) {
		hwpt = ioas->hwpts[i];
		if (!hwpt->auto_domain)
			continue;
		ret = fn(idev, hwpt, destroy);
		if (ret == -EINVAL)
			continue;
		if (!ret)
			*pt_id = hwpt->obj.id;
		return ret;
	}
	hwpt = hwpt_paging_alloc(idev->ictx, ioas, idev, 0, immediate, false, &ret);
	if (!hwpt)
		return ret;
	if (!immediate) {
		ret = fn(idev, hwpt, destroy);
		if (ret) {
			object_abort_and_destroy(idev->ictx, &hwpt->obj);
			return ret;
		}
	} else {
		*destroy = NULL;
	}
	hwpt->auto_domain = true;
	*pt_id = hwpt->obj.id;
	object_finalize(&hwpt->obj);
	return 0;
}

/* iommufd_device_change_pt */
static int change_pt(struct iommufd_device *idev, uint32_t *pt_id, attach_fn fn)
{
	struct iommufd_ctx *ictx = idev->ictx;
	struct iommufd_object *pt = get_object(ictx, *pt_id, IOMMUFD_OBJ_ANY);
	struct iommufd_hwpt_paging *destroy = NULL;
	int ret;

	if (!pt)
		return -ENOENT;
	switch (pt->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
		ret = fn(idev, (struct iommufd_hwpt_paging *)pt, &destroy);
		break;
	case IOMMUFD_OBJ_IOAS:
		ret = auto_get_domain(idev, (struct iommufd_ioas *)pt, pt_id, fn, &destroy);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (!ret && destroy)
		hwpt_put(ictx, destroy);
	return ret;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id)
{
	int ret = change_pt(idev, pt_id, do_attach);

	if (!ret)
		idev->obj.users++;      /* pairs with detach */
	return ret;
}

int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id)
{
	return change_pt(idev, pt_id, do_replace);
}

void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hwpt_paging *hwpt = hwpt_detach(idev);

	hwpt_put(idev->ictx, hwpt);
	idev->obj.users--;
}

/* ------------------------------------------------------------------ */
/* Destroying objects                                                   */

static void fault_destroy(struct iommufd_ctx *ictx, struct iommufd_fault *f);

static void ioas_destroy(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas)
{
	(void)ictx;
	(void)iopt_unmap_all(&ioas->iopt, NULL);
	iopt_destroy_table(&ioas->iopt);
	free(ioas->hwpts);
	ioas->hwpts = NULL;
}

static void object_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	switch (obj->type) {
	case IOMMUFD_OBJ_IOAS:
		ioas_destroy(ictx, (struct iommufd_ioas *)obj);
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		hwpt_paging_destroy(ictx, (struct iommufd_hwpt_paging *)obj);
		break;
	case IOMMUFD_OBJ_DEVICE:
		device_destroy(ictx, (struct iommufd_device *)obj);
		break;
	case IOMMUFD_OBJ_FAULT:
		fault_destroy(ictx, (struct iommufd_fault *)obj);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* ucmd                                                                 */

static int ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	size_t n = ucmd->user_size < cmd_len ? ucmd->user_size : cmd_len;

	return uapi_copy_to_user(ucmd->ictx->u, ucmd->ubuffer, ucmd->cmd, n) ? -EFAULT : 0;
}

/* copy_struct_from_user */
static int copy_struct_from_user(struct iommu_uapi *u, void *dst, size_t ksize, unsigned long src,
				 size_t usize)
{
	size_t size = ksize < usize ? ksize : usize;

	if (usize > ksize) {
		uint8_t buf[256];

		/* check_zeroed_user over the bytes the kernel does not know */
		for (size_t off = ksize; off < usize;) {
			size_t n = usize - off < sizeof(buf) ? usize - off : sizeof(buf);

			if (uapi_copy_from_user(u, buf, src + off, n))
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (buf[i])
					return -E2BIG;
			off += n;
		}
	}
	memset(dst, 0, ksize);
	return uapi_copy_from_user(u, dst, src, size) ? -EFAULT : 0;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

static int cmd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	return object_remove(ucmd->ictx, NULL, cmd->id);
}

static struct iommufd_ioas *ioas_alloc(struct iommufd_ctx *ictx, int *err)
{
	struct iommufd_ioas *ioas = object_alloc(ictx, sizeof(*ioas), IOMMUFD_OBJ_IOAS, err);

	if (ioas)
		iopt_init_table(&ioas->iopt, ictx->u);
	return ioas;
}

static int cmd_ioas_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int ret = 0;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = ioas_alloc(ucmd->ictx, &ret);
	if (!ioas)
		return ret;
	cmd->out_ioas_id = ioas->obj.id;
	ret = ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		object_abort_and_destroy(ucmd->ictx, &ioas->obj);
		return ret;
	}
	object_finalize(&ioas->obj);
	return 0;
}

struct ranges_out {
	struct iommu_uapi *u;
	unsigned long uptr;
	uint32_t max, n;
};

static int range_out(void *ctx, uint64_t start, uint64_t last)
{
	struct ranges_out *o = ctx;

	if (o->n < o->max) {
		struct iommu_iova_range e = { .start = start, .last = last };

		if (uapi_copy_to_user(o->u, o->uptr + (uint64_t)o->n * sizeof(e), &e, sizeof(e)))
			return -EFAULT;
	}
	o->n++;
	return 0;
}

static int cmd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	struct ranges_out o;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	o = (struct ranges_out){ ucmd->ictx->u, (unsigned long)cmd->allowed_iovas, cmd->num_iovas, 0 };
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	ret = iopt_for_each_iova_range(&ioas->iopt, range_out, &o);
	if (ret)
		return ret;
	cmd->num_iovas = o.n;
	ret = ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		return ret;
	return o.n > o.max ? -EMSGSIZE : 0;
}

static int cmd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct iopt_range *r = NULL;
	struct iommufd_ioas *ioas;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	/* iommufd_ioas_load_iovas: each range start < last, none meeting
	 * another */
	if (cmd->num_iovas) {
		r = calloc(cmd->num_iovas > 4096 ? 4096 : cmd->num_iovas, sizeof(*r));
		if (!r)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < cmd->num_iovas; i++) {
		struct iommu_iova_range e;

		if (i && i % 4096 == 0) {
			struct iopt_range *nr = realloc(r, ((size_t)i + 4096) * sizeof(*nr));

			if (!nr) {
				ret = -ENOMEM;
				break;
			}
			r = nr;
		}
		if (uapi_copy_from_user(ucmd->ictx->u, &e, (unsigned long)cmd->allowed_iovas + (uint64_t)i * sizeof(e),
					sizeof(e))) {
			ret = -EFAULT;
			break;
		}
		if (e.start >= e.last) {
			ret = -EINVAL;
			break;
		}
		for (uint32_t k = 0; k < i; k++)
			if (r[k].start <= e.last && r[k].last >= e.start) {
				ret = -EINVAL;
				break;
			}
		if (ret)
			break;
		r[i] = (struct iopt_range){ e.start, e.last, NULL };
	}
	if (!ret)
		ret = iopt_set_allow_iova(&ioas->iopt, r, cmd->num_iovas);
	free(r);
	return ret;
}

static int conv_iommu_prot(uint32_t map_flags)
{
	int prot = 0;

	if (map_flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_PROT_WRITE;
	if (map_flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_PROT_READ;
	return prot;
}

#define MAP_FLAGS (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)

static int cmd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	int ret;

	if ((cmd->flags & ~MAP_FLAGS) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	ioas = get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	ret = iopt_map_user_pages(&ioas->iopt, &iova, cmd->user_va, cmd->length,
				  conv_iommu_prot(cmd->flags),
				  (cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? 0 : IOPT_ALLOC_IOVA);
	if (ret)
		return ret;
	cmd->iova = iova;
	return ucmd_respond(ucmd, sizeof(*cmd));
}

static int cmd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src, *dst;
	struct iopt_pages_elm *list;
	uint64_t iova;
	size_t n;
	int ret;

	if (cmd->flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX || cmd->dst_iova >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	src = get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (!src)
		return -ENOENT;
	ret = iopt_get_pages(&src->iopt, cmd->src_iova, cmd->length, &list, &n);
	if (ret)
		return ret;
	dst = get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (!dst) {
		iopt_free_pages_list(list, n);
		return -ENOENT;
	}
	iova = cmd->dst_iova;
	ret = iopt_map_pages(&dst->iopt, list, n, cmd->length, &iova, conv_iommu_prot(cmd->flags),
			     (cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? 0 : IOPT_ALLOC_IOVA);
	iopt_free_pages_list(list, n);
	if (ret)
		return ret;
	cmd->dst_iova = iova;
	return ucmd_respond(ucmd, sizeof(*cmd));
}

static int cmd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int ret;

	ioas = get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		ret = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
			return -EOVERFLOW;
		ret = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length, &unmapped);
	}
	if (ret)
		return ret;
	cmd->length = unmapped;
	return ucmd_respond(ucmd, sizeof(*cmd));
}

static bool ctx_has_objects(const struct iommufd_ctx *ictx)
{
	for (size_t i = 0; i < ictx->cap; i++)
		if (ictx->objs[i])
			return true;
	return false;
}

static int cmd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		/* iommufd_option_rlimit_mode */
		if (cmd->object_id)
			return -EOPNOTSUPP;
		if (cmd->op == IOMMU_OPTION_OP_GET) {
			cmd->val64 = ictx->account_mm;
		} else if (cmd->op == IOMMU_OPTION_OP_SET) {
			if (!ictx->u->rawio)    /* capable(CAP_SYS_RESOURCE) */
				return -EPERM;
			if (ctx_has_objects(ictx))
				return -EBUSY;
			if (cmd->val64 > 1)
				return -EINVAL;
			ictx->account_mm = cmd->val64 == 1;
		} else {
			return -EOPNOTSUPP;
		}
		break;
	case IOMMU_OPTION_HUGE_PAGES: {
		/* iommufd_ioas_option */
		struct iommufd_ioas *ioas = get_ioas(ictx, cmd->object_id);

		if (!ioas)
			return -ENOENT;
		if (cmd->op == IOMMU_OPTION_OP_GET) {
			cmd->val64 = !ioas->iopt.disable_large_pages;
		} else if (cmd->op == IOMMU_OPTION_OP_SET) {
			if (cmd->val64 == 0)
				ret = iopt_disable_large_pages(&ioas->iopt);
			else if (cmd->val64 == 1)
				iopt_enable_large_pages(&ioas->iopt);
			else
				ret = -EINVAL;
		} else {
			ret = -EOPNOTSUPP;
		}
		break;
	}
	default:
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;
	if (uapi_copy_to_user(ictx->u, ucmd->ubuffer + offsetof(struct iommu_option, val64), &cmd->val64,
			      sizeof(cmd->val64)))
		return -EFAULT;
	return 0;
}

static int cmd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		if (!ictx->vfio_ioas)
			return -ENODEV;
		cmd->ioas_id = ictx->vfio_ioas->obj.id;
		return ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = get_ioas(ictx, cmd->ioas_id);
		if (!ioas)
			return -ENOENT;
		ictx->vfio_ioas = ioas;
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		ictx->vfio_ioas = NULL;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int cmd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_device *idev;
	struct iommufd_object *pt;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;
	idev = (struct iommufd_device *)get_object(ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!idev)
		return -ENOENT;
	pt = get_object(ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (!pt)
		return -EINVAL;
	if (pt->type == IOMMUFD_OBJ_IOAS) {
		hwpt = hwpt_paging_alloc(ictx, (struct iommufd_ioas *)pt, idev, cmd->flags, false,
					 cmd->data_len != 0, &ret);
		if (!hwpt)
			return ret;
	} else if (pt->type == IOMMUFD_OBJ_HWPT_PAGING) {
		/* iommufd_hwpt_nested_alloc: driver data and a nesting parent;
		 * no modelled HWPT is one (NEST_PARENT is refused above) */
		struct iommufd_hwpt_paging *parent = (struct iommufd_hwpt_paging *)pt;

		if ((cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID) || !cmd->data_len)
			return -EOPNOTSUPP;
		if (parent->auto_domain || !parent->nest_parent)
			return -EINVAL;
		return -EOPNOTSUPP;
	} else {
		return -EINVAL;
	}
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_object *fault = get_object(ictx, cmd->fault_id, IOMMUFD_OBJ_FAULT);

		if (!fault) {
			ret = -ENOENT;
			goto out_hwpt;
		}
		hwpt->fault = fault;
		fault->users++;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	ret = ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto out_hwpt;
	object_finalize(&hwpt->obj);
	return 0;
out_hwpt:
	object_abort_and_destroy(ictx, &hwpt->obj);
	return ret;
}

static int cmd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommu_hw_info_vtd vtd;
	struct iommufd_device *idev;
	uint32_t data_len = 0, copy_len;
	const void *data = NULL;

	if (cmd->flags || cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	idev = (struct iommufd_device *)get_object(ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!idev)
		return -ENOENT;
	if (ictx->u->s->driver == IOMMU_DRIVER_INTEL) {
		/* intel_iommu_hw_info */
		struct iommu_device_info *di = iommu_system_device(ictx->u->s, idev->pdev);

		uint64_t cap, ecap;

		memset(&vtd, 0, sizeof(vtd));
		unit_regs(ictx->u->s, di ? di->unit : -1, &cap, &ecap);
		vtd.cap_reg = cap;
		vtd.ecap_reg = ecap;
		data = &vtd;
		data_len = sizeof(vtd);
		cmd->out_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	} else {
		/* AMD in 6.12 has no hw_info */
		cmd->out_data_type = IOMMU_HW_INFO_TYPE_NONE;
	}
	copy_len = cmd->data_len < data_len ? cmd->data_len : data_len;
	if (copy_len && uapi_copy_to_user(ictx->u, (unsigned long)cmd->data_uptr, data, copy_len))
		return -EFAULT;
	/* the user's buffer past the data is zeroed (clear_user) */
	if (copy_len < cmd->data_len) {
		uint8_t zero[256] = { 0 };

		for (uint64_t off = copy_len; off < cmd->data_len;) {
			size_t n = cmd->data_len - off < sizeof(zero) ? cmd->data_len - off : sizeof(zero);

			if (uapi_copy_to_user(ictx->u, (unsigned long)cmd->data_uptr + off, zero, n))
				return -EFAULT;
			off += n;
		}
	}
	cmd->data_len = data_len;
	/* no device has PASID with the modelled IOMMUs (legacy mode) */
	cmd->out_max_pasid_log2 = 0;
	cmd->out_capabilities = 0;      /* no IOMMU_HW_CAP_DIRTY_TRACKING */
	return ucmd_respond(ucmd, sizeof(*cmd));
}

static int cmd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	if (!get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_HWPT_PAGING))
		return -ENOENT;
	/* iopt_set_dirty_tracking: the domain has no dirty ops */
	return -EOPNOTSUPP;
}

static int cmd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	uint64_t align, last;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt = (struct iommufd_hwpt_paging *)get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_HWPT_PAGING);
	if (!hwpt)
		return -ENOENT;
	/* iommufd_check_iova_range */
	align = hwpt->ioas->iopt.iova_alignment;
	if (cmd->iova + (cmd->length - 1) < cmd->iova)
		return -EOVERFLOW;
	last = cmd->iova + (cmd->length - 1);
	if ((cmd->iova & (align - 1)) || ((last + 1) & (align - 1)))
		return -EINVAL;
	if (!cmd->page_size)
		return -EINVAL;
	if ((cmd->iova & (cmd->page_size - 1)) || ((last + 1) & (cmd->page_size - 1)))
		return -EINVAL;
	/* iommu_read_and_clear_dirty: no dirty ops */
	return -EOPNOTSUPP;
}

static int cmd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	int ret;

	if (cmd->__reserved)
		ret = -EOPNOTSUPP;
	else if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len))
		ret = -EINVAL;
	else
		ret = -ENOENT;  /* iommufd_get_hwpt_nested: no nested HWPT exists */
	cmd->entry_num = 0;
	if (ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return ret;
}

/* The fault queue's descriptor ("[iommufd-pgfault]"). */
static ssize_t fault_read(struct uapi_file *f, void *buf, size_t count, uint64_t *pos)
{
	(void)f;
	(void)buf;
	if (*pos || count % sizeof(struct iommu_hwpt_pgfault))
		return -ESPIPE;
	return 0;               /* the modelled devices raise no page requests */
}

static ssize_t fault_write(struct uapi_file *f, const void *buf, size_t count, uint64_t *pos)
{
	const struct iommu_hwpt_page_response *r = buf;

	(void)f;
	if (*pos || count % sizeof(*r))
		return -ESPIPE;
	/* a response names a fault group delivered by read; none was */
	if (r->code != IOMMUFD_PAGE_RESP_SUCCESS && r->code != IOMMUFD_PAGE_RESP_INVALID)
		return -EINVAL;
	return -EINVAL;
}

static void fault_file_release(struct uapi_file *f)
{
	struct iommufd_fault *fault = f->private_data;
	struct iommufd_ctx *ictx = fault->ictx;

	fault->file = NULL;
	fault->obj.users--;
	iommufd_ctx_put(ictx);
}

static const struct uapi_fops fault_fops = {
	.name = "[iommufd-pgfault]",
	.kind = UAPI_FILE_IOMMUFD_FAULT,
	.read = fault_read,
	.write = fault_write,
	.release = fault_file_release,
};

static void fault_destroy(struct iommufd_ctx *ictx, struct iommufd_fault *f)
{
	(void)ictx;
	(void)f;
}

static int cmd_fault_queue_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_fault *fault;
	struct uapi_file *f;
	int ret = 0, fd;

	if (cmd->flags)
		return -EOPNOTSUPP;
	fault = object_alloc(ictx, sizeof(*fault), IOMMUFD_OBJ_FAULT, &ret);
	if (!fault)
		return ret;
	fault->ictx = ictx;
	f = uapi_file_alloc(ictx->u, &fault_fops, fault);
	if (!f) {
		object_abort(ictx, &fault->obj);
		return -ENOMEM;
	}
	f->mode = S_IRUSR | S_IWUSR;
	/* the descriptor holds the object and the context */
	fault->obj.users++;
	uapi_file_get(ictx->file);
	fault->file = f;
	uapi_file_get(f);               /* ours until installed */
	fd = uapi_fd_install(ictx->u, f, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		uapi_file_put(f);       /* releases the object's and context's refs */
		object_abort(ictx, &fault->obj);
		return fd;
	}
	cmd->out_fault_id = fault->obj.id;
	cmd->out_fault_fd = (uint32_t)fd;
	ret = ucmd_respond(ucmd, sizeof(*cmd));
	/* the kernel finalizes and installs even when the copy failed */
	object_finalize(&fault->obj);
	uapi_file_put(f);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The VFIO type1 compatibility ioctls (vfio_compat.c)                  */

static struct iommufd_ioas *compat_ioas(struct iommufd_ctx *ictx)
{
	return ictx->vfio_ioas;
}

static long compat_map_dma(struct iommufd_ctx *ictx, unsigned long arg)
{
	struct vfio_iommu_type1_dma_map map;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct iommufd_ioas *ioas;
	uint64_t iova;
	int prot = 0;

	if (uapi_copy_from_user(ictx->u, &map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || (map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_PROT_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_PROT_WRITE;
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	iova = map.iova;
	return iopt_map_user_pages(&ioas->iopt, &iova, map.vaddr, map.size, prot, 0);
}

static long compat_unmap_dma(struct iommufd_ctx *ictx, unsigned long arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int ret;

	if (uapi_copy_from_user(ictx->u, &unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || (unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		ret = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		if (ioas->iopt.disable_large_pages) {
			/* TYPE1 v1: cut at both ends of the range first */
			uint64_t iovas[2] = { unmap.iova + unmap.size - 1, unmap.iova - 1 };

			ret = iopt_cut_iova(&ioas->iopt, iovas, unmap.iova ? 2 : 1);
			if (ret)
				return ret;
		}
		ret = iopt_unmap_iova(&ioas->iopt, unmap.iova, unmap.size, &unmapped);
	}
	unmap.size = unmapped;
	if (uapi_copy_to_user(ictx->u, arg, &unmap, minsz))
		ret = -EFAULT;
	return ret;
}

static long compat_check_extension(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_ioas *ioas;

	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		ioas = compat_ioas(ictx);
		if (!ioas)
			return -ENODEV;
		for (size_t i = 0; i < ioas->n_hwpts; i++)
			if (!ioas->hwpts[i]->enforce_cache_coherency)
				return 0;
		return 1;
	default:
		/* TYPE1_NESTING (obsolete), UPDATE_VADDR (no safe way) */
		return 0;
	}
}

static long compat_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_ioas *ioas;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	/* VFIO fails SET_IOMMU without a group */
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	/* TYPE1 unmaps inside mappings: no large IOPTEs */
	if (type == VFIO_TYPE1_IOMMU)
		return iopt_disable_large_pages(&ioas->iopt);
	return 0;
}

struct cap_iova {
	struct iommu_uapi *u;
	unsigned long uptr;     /* where the capability starts; 0: not copied */
	size_t avail;
	uint32_t nr;
};

static int cap_iova_range(void *ctx, uint64_t start, uint64_t last)
{
	struct cap_iova *c = ctx;
	size_t need = sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
		      ((size_t)c->nr + 1) * sizeof(struct vfio_iova_range);
	struct vfio_iova_range r = { .start = start, .end = last };

	if (c->uptr && c->avail >= need &&
	    uapi_copy_to_user(c->u, c->uptr + offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges) +
				  (size_t)c->nr * sizeof(r), &r, sizeof(r)))
		return -EFAULT;
	c->nr++;
	return 0;
}

static long compat_get_info(struct iommufd_ctx *ictx, unsigned long arg)
{
	struct vfio_iommu_type1_info info;
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_iommu_type1_info_dma_avail dma = { 0 };
	struct vfio_iommu_type1_info_cap_iova_range cap = { 0 };
	struct iommufd_ioas *ioas;
	struct cap_iova c;
	uint64_t pgsizes = UINT64_MAX;
	size_t total, cap_size;
	int ret;

	if (uapi_copy_from_user(ictx->u, &info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	/* iommufd_get_pagesizes */
	for (size_t i = 0; i < ioas->iopt.n_domains; i++) {
		struct iommu_domain_geometry geo;

		iommu_domain_get_geometry(ioas->iopt.domains[i], &geo);
		pgsizes &= geo.pgsize_bitmap;
	}
	if (pgsizes & (UAPI_PAGE_SIZE - 1)) {
		pgsizes &= ~(uint64_t)(UAPI_PAGE_SIZE - 1);
		pgsizes |= UAPI_PAGE_SIZE;
	}
	if (pgsizes < ioas->iopt.iova_alignment)
		pgsizes = ioas->iopt.iova_alignment;
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = pgsizes;
	info.cap_offset = 0;
	/* DMA_AVAIL (U32_MAX: the limit is the cgroup's), then IOVA_RANGE */
	total = sizeof(info);
	dma.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	dma.header.version = 1;
	dma.avail = UINT32_MAX;
	if (info.argsz > total && info.argsz - total >= sizeof(dma) &&
	    uapi_copy_to_user(ictx->u, arg + total, &dma, sizeof(dma)))
		return -EFAULT;
	total += sizeof(dma);
	c = (struct cap_iova){ ictx->u, info.argsz > total ? arg + total : 0,
			       info.argsz > total ? info.argsz - total : 0, 0 };
	ret = iopt_for_each_iova_range(&ioas->iopt, cap_iova_range, &c);
	if (ret)
		return ret;
	cap_size = sizeof(cap) + (size_t)c.nr * sizeof(struct vfio_iova_range);
	cap.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	cap.header.version = 1;
	cap.nr_iovas = c.nr;
	if (c.uptr && c.avail >= cap_size && uapi_copy_to_user(ictx->u, c.uptr, &cap, sizeof(cap)))
		return -EFAULT;
	/* the DMA_AVAIL header's next, when the caller has room for it */
	if (info.argsz >= total) {
		uint32_t next = (uint32_t)total;

		if (uapi_copy_to_user(ictx->u, arg + sizeof(info) + offsetof(struct vfio_info_cap_header, next),
				      &next, sizeof(next)))
			return -EFAULT;
	}
	total += cap_size;
	if (info.argsz >= total)
		info.cap_offset = sizeof(info);
	info.argsz = (uint32_t)total;
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	if (uapi_copy_to_user(ictx->u, arg, &info, minsz))
		return -EFAULT;
	return 0;
}

static long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_SET_IOMMU:
		return compat_set_iommu(ictx, arg);
	case VFIO_CHECK_EXTENSION:
		return compat_check_extension(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return compat_get_info(ictx, arg);
	case VFIO_IOMMU_MAP_DMA:
		return compat_map_dma(ictx, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap_dma(ictx, arg);
	default:
		return -ENOTTY;         /* -ENOIOCTLCMD */
	}
}

/* ------------------------------------------------------------------ */
/* The file                                                             */

struct ioctl_op {
	unsigned size, min_size;
	unsigned ioctl_num;
	int (*execute)(struct iommufd_ucmd *ucmd);
	int since_major, since_minor;
};

#define IOCTL_OP(_num, _fn, _struct, _last, _maj, _min) \
	[IOMMUFD_CMD_##_num - IOMMUFD_CMD_BASE] = { sizeof(_struct), offsetofend(_struct, _last), \
						     IOMMU_##_num, _fn, _maj, _min }

static const struct ioctl_op ioctl_ops[] = {
	IOCTL_OP(DESTROY, cmd_destroy, struct iommu_destroy, id, 6, 2),
	IOCTL_OP(IOAS_ALLOC, cmd_ioas_alloc, struct iommu_ioas_alloc, out_ioas_id, 6, 2),
	IOCTL_OP(IOAS_ALLOW_IOVAS, cmd_ioas_allow_iovas, struct iommu_ioas_allow_iovas, allowed_iovas, 6, 2),
	IOCTL_OP(IOAS_COPY, cmd_ioas_copy, struct iommu_ioas_copy, src_iova, 6, 2),
	IOCTL_OP(IOAS_IOVA_RANGES, cmd_ioas_iova_ranges, struct iommu_ioas_iova_ranges, out_iova_alignment, 6, 2),
	IOCTL_OP(IOAS_MAP, cmd_ioas_map, struct iommu_ioas_map, iova, 6, 2),
	IOCTL_OP(IOAS_UNMAP, cmd_ioas_unmap, struct iommu_ioas_unmap, length, 6, 2),
	IOCTL_OP(OPTION, cmd_option, struct iommu_option, val64, 6, 2),
	IOCTL_OP(VFIO_IOAS, cmd_vfio_ioas, struct iommu_vfio_ioas, __reserved, 6, 2),
	IOCTL_OP(HWPT_ALLOC, cmd_hwpt_alloc, struct iommu_hwpt_alloc, __reserved, 6, 6),
	IOCTL_OP(GET_HW_INFO, cmd_get_hw_info, struct iommu_hw_info, __reserved, 6, 6),
	IOCTL_OP(HWPT_SET_DIRTY_TRACKING, cmd_hwpt_set_dirty_tracking, struct iommu_hwpt_set_dirty_tracking,
		 __reserved, 6, 7),
	IOCTL_OP(HWPT_GET_DIRTY_BITMAP, cmd_hwpt_get_dirty_bitmap, struct iommu_hwpt_get_dirty_bitmap, data,
		 6, 7),
	IOCTL_OP(HWPT_INVALIDATE, cmd_hwpt_invalidate, struct iommu_hwpt_invalidate, __reserved, 6, 8),
	IOCTL_OP(FAULT_QUEUE_ALLOC, cmd_fault_queue_alloc, struct iommu_fault_alloc, out_fault_fd, 6, 11),
};
#define N_OPS (sizeof(ioctl_ops) / sizeof(ioctl_ops[0]))

union ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_fault_alloc fault;
	struct iommu_hw_info info;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct iommu_hwpt_invalidate cache;
	struct iommu_hwpt_set_dirty_tracking set_dirty_tracking;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vfio_ioas vfio_ioas;
};

/* The command table of the modelled version: its entries up to the
 * newest command the version has. */
static size_t n_ops(const struct iommu_uapi *u)
{
	size_t n = 0;

	while (n < N_OPS && uapi_kernel_at_least(u, ioctl_ops[n].since_major, ioctl_ops[n].since_minor))
		n++;
	return n;
}

/* iommufd_fops_ioctl */
static long iommufd_ioctl(struct uapi_file *f, unsigned int cmd, unsigned long arg)
{
	struct iommufd_ctx *ictx = f->private_data;
	struct iommufd_ucmd ucmd = { .ictx = ictx, .ubuffer = arg };
	const struct ioctl_op *op;
	union ucmd_buffer buf;
	unsigned nr = _IOC_NR(cmd);
	int ret;

	if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= n_ops(ictx->u))
		return iommufd_vfio_ioctl(ictx, cmd, arg);
	if (uapi_copy_from_user(ictx->u, &ucmd.user_size, arg, sizeof(ucmd.user_size)))
		return -EFAULT;         /* get_user */
	op = &ioctl_ops[nr - IOMMUFD_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;         /* -ENOIOCTLCMD */
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ictx->u, &buf, op->size, arg, ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}

/* iommufd_fops_release: leaves first, until nothing is left. */
static void iommufd_release(struct uapi_file *f)
{
	struct iommufd_ctx *ictx = f->private_data;

	for (;;) {
		size_t destroyed = 0, left = 0;

		for (size_t id = 1; id < ictx->cap; id++) {
			struct iommufd_object *obj = ictx->objs[id];

			if (!obj)
				continue;
			left++;
			if (obj->users != 1)
				continue;
			ictx->objs[id] = NULL;
			object_destroy(ictx, obj);
			free(obj);
			destroyed++;
		}
		if (!left || !destroyed)
			break;          /* a users count out of balance leaks, as the kernel WARNs */
	}
	while (ictx->n_groups)
		group_put(ictx->groups[0]);
	free(ictx->groups);
	free(ictx->objs);
	free(ictx);
}

static const struct uapi_fops iommufd_fops = {
	.name = "iommufd",
	.kind = UAPI_FILE_IOMMUFD,
	.ioctl = iommufd_ioctl,
	.release = iommufd_release,
};

int iommufd_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out)
{
	struct iommufd_ctx *ictx;
	struct uapi_file *f;

	(void)path;
	(void)flags;
	/* iommufd (CONFIG_IOMMUFD) arrived in 6.2: no /dev/iommu before */
	if (!uapi_kernel_at_least(u, 6, 2))
		return -ENOENT;
	ictx = calloc(1, sizeof(*ictx));
	if (!ictx)
		return -ENOMEM;
	ictx->u = u;
	f = uapi_file_alloc(u, &iommufd_fops, ictx);
	if (!f) {
		free(ictx);
		return -ENOMEM;
	}
	f->mode = S_IFCHR | 0660;
	f->rdev = makedev(10, IOMMUFD_MISC_MINOR);
	ictx->file = f;
	*out = f;
	return 0;
}

struct iommufd_ctx *iommufd_ctx_of_file(struct uapi_file *f)
{
	return f && f->fops == &iommufd_fops ? f->private_data : NULL;
}

int iommufd_ctx_from_fd(struct iommu_uapi *u, int fd, struct iommufd_ctx **out)
{
	struct uapi_file *f;

	if (!uapi_host_fd_valid(fd))
		return -EBADF;
	f = uapi_fd_file(u, fd);
	if (!f || f->fops != &iommufd_fops)
		return -EBADFD;
	uapi_file_get(f);
	*out = f->private_data;
	return 0;
}

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	uapi_file_put(ictx->file);
}
