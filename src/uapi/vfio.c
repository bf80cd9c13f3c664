// SPDX-License-Identifier: MIT
/*
 * VFIO groups and containers (drivers/vfio/group.c, container.c;
 * reference 8.1, 8.2, 8.5), and binding devices to vfio-pci.
 *
 * Every rule is the kernel's, with its errno:
 *  - a vfio_group per IOMMU group with a device bound to vfio-pci, its
 *    node /dev/vfio/<group id>, minors from one allocator in bind order;
 *    a device without a group gets a vfio-noiommu group (from the same id
 *    allocator as the IOMMU groups) only in noiommu mode, else the bind
 *    fails with -EINVAL (vfio_group_find_or_alloc);
 *  - the group file has one opener (-EBUSY), needs a bound device
 *    (-ENODEV) and, for noiommu, CAP_SYS_RAWIO (-EPERM);
 *  - GET_STATUS: VIABLE while no one owns the group's DMA (owner_cnt,
 *    which DMA-API drivers of its members raise), CONTAINER_SET;
 *  - SET_CONTAINER claims DMA ownership (iommu_group_claim_dma_owner:
 *    -EPERM when not viable, the kernel version's refusal of direct
 *    regions), refuses mixing noiommu and real groups (-EPERM);
 *  - the container: GET_API_VERSION, CHECK_EXTENSION asking each IOMMU
 *    backend in the kernel's list order, SET_IOMMU (-EINVAL without a
 *    group or when set, -ENODEV when no backend takes the type), and
 *    every other ioctl to the backend (-EINVAL without one).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "uapi/internal.h"

#define TAINT_USER 6

/* The kernel's iommu driver list: vfio_register_iommu_driver adds at the
 * head, and type1 registers after the built-in noiommu backend. */
static const struct vfio_iommu_driver_ops *const iommu_drivers[] = {
	&vfio_type1_ops,
	&vfio_noiommu_ops,
};
#define N_DRIVERS (sizeof(iommu_drivers) / sizeof(iommu_drivers[0]))

struct vfio_device *vfio_device_of(struct iommu_uapi *u, const struct iommu_pci_dev *pdev)
{
	size_t i = uapi_device_index(u, pdev);

	return i == SIZE_MAX ? NULL : u->vdevs[i];
}

struct vfio_group *vfio_group_by_name(struct iommu_uapi *u, const char *name)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (!strcmp(u->groups[i]->name, name))
			return u->groups[i];
	return NULL;
}

struct vfio_group *vfio_group_by_id(struct iommu_uapi *u, int id)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i]->id == id)
			return u->groups[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Binding                                                              */

/* iommu_group_alloc's ida_alloc: the lowest id no group uses. */
static int group_id_alloc(struct iommu_uapi *u)
{
	for (int id = 0;; id++) {
		bool used = (size_t)id < u->s->n_groups && u->s->groups[id];

		for (size_t i = 0; !used && i < u->n_groups; i++)
			used = u->groups[i]->noiommu && u->groups[i]->id == id;
		if (!used)
			return id;
	}
}

static struct vfio_group *group_new(struct iommu_uapi *u, struct iommu_group_info *ig, int id,
				    bool noiommu)
{
	struct vfio_group *g = calloc(1, sizeof(*g));
	struct vfio_group **ng;

	if (!g)
		return NULL;
	ng = realloc(u->groups, (u->n_groups + 1) * sizeof(*ng));
	if (!ng) {
		free(g);
		return NULL;
	}
	u->groups = ng;
	g->u = u;
	g->iommu_group = ig;
	g->id = id;
	g->noiommu = noiommu;
	g->minor = u->next_minor++;     /* vfio_group_alloc: ida over minors */
	snprintf(g->name, sizeof(g->name), "%s%d", noiommu ? "noiommu-" : "", id);
	u->groups[u->n_groups++] = g;
	return g;
}

int iommu_uapi_vfio_bind(struct iommu_uapi *u, const char *bdf, struct iommu_error *err)
{
	struct iommu_device_info *di;
	struct iommu_pci_dev *pdev;
	struct vfio_device *vdev, **nd;
	struct iommu_pci_addr a;
	struct vfio_group *g = NULL;
	char *drv;
	size_t idx;

	if (!u || !bdf || iommu_pci_addr_parse(bdf, &a))
		return iommu_error_set(err, -EINVAL, "vfio-pci bind: \"%s\" is not a PCI address (SSSS:BB:DD.F)",
				       bdf ? bdf : "(null)");
	pdev = iommu_platform_find_device(u->s->platform, a);
	if (!pdev)
		return iommu_error_set(err, -ENODEV, "vfio-pci bind %s: no such PCI function on this platform",
				       bdf);
	idx = uapi_device_index(u, pdev);
	if (u->vdevs[idx])
		return iommu_error_set(err, -EBUSY, "vfio-pci bind %s: already bound to vfio-pci", pdev->name);
	/* vfio_pci_core_register_device: only normal (type 0) headers. */
	if (pdev->header_type != 0)
		return iommu_error_set(err, -EINVAL,
				       "vfio-pci bind %s: header type %u is not a normal device (vfio-pci takes type 0 only)",
				       pdev->name, pdev->header_type);
	vdev = calloc(1, sizeof(*vdev));
	drv = strdup("vfio-pci");
	if (!vdev || !drv) {
		free(vdev);
		free(drv);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	di = iommu_system_device(u->s, pdev);
	if (di && di->group) {
		for (size_t i = 0; i < u->n_groups; i++)
			if (u->groups[i]->iommu_group == di->group)
				g = u->groups[i];
		if (!g)
			g = group_new(u, di->group, di->group->id, false);
	} else if (u->noiommu) {
		g = group_new(u, NULL, group_id_alloc(u), true);
		if (g) {
			u->taint |= 1ul << TAINT_USER;
			uapi_dev_log(u, pdev, "vfio-pci",
				     "Adding kernel taint for vfio-noiommu group on device");
		}
	} else {
		free(vdev);
		free(drv);
		return iommu_error_set(err, -EINVAL,
				       "vfio-pci bind %s: the device has no IOMMU group (%s) and noiommu mode is off "
				       "(vfio_group_find_or_alloc refuses it; --noiommu sets vfio.enable_unsafe_noiommu_mode)",
				       pdev->name, di ? iommu_nogroup_reason_text(di->nogroup) : "no IOMMU");
	}
	if (!g) {
		free(vdev);
		free(drv);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	nd = realloc(g->devices, (g->n_devices + 1) * sizeof(*nd));
	if (!nd) {
		free(vdev);
		free(drv);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	g->devices = nd;
	g->devices[g->n_devices++] = vdev;
	vdev->u = u;
	vdev->pdev = pdev;
	vdev->group = g;
	for (size_t i = 0; i < u->n_devices; i++)      /* vfio_device ida: bind order */
		vdev->index += u->vdevs[i] != NULL;
	u->vdevs[idx] = vdev;
	/* The device's driver attribute, as sysfs shows it after the bind
	 * (the core counts DMA-API drivers from it). */
	free((char *)pdev->driver);
	pdev->driver = drv;
	return 0;
}

int iommu_uapi_vfio_bind_list(struct iommu_uapi *u, const char *list, struct iommu_error *err)
{
	const char *p = list;

	if (!list)
		return 0;
	while (*p) {
		char bdf[32];
		size_t n;
		int ret;

		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		n = strcspn(p, ", ");
		if (n >= sizeof(bdf))
			return iommu_error_set(err, -EINVAL, "vfio-pci bind: \"%.*s\" is not a PCI address",
					       (int)n, p);
		memcpy(bdf, p, n);
		bdf[n] = '\0';
		ret = iommu_uapi_vfio_bind(u, bdf, err);
		if (ret)
			return ret;
		p += n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Containers                                                           */

static bool driver_allowed(const struct vfio_container *c, const struct vfio_iommu_driver_ops *d)
{
	return c->noiommu == (d == &vfio_noiommu_ops);
}

void vfio_container_put(struct vfio_container *c)
{
	if (--c->refs > 0)
		return;
	free(c->groups);
	free(c);
}

static long container_check_extension(struct vfio_container *c, unsigned long arg)
{
	long ret = 0;

	if (c->driver)
		return c->driver->check_extension(c->u, c->iommu_data, arg);
	for (size_t i = 0; i < N_DRIVERS; i++) {
		if (c->n_groups && !driver_allowed(c, iommu_drivers[i]))
			continue;
		ret = iommu_drivers[i]->check_extension(c->u, NULL, arg);
		if (ret > 0)
			break;
	}
	return ret;
}

static long container_set_iommu(struct vfio_container *c, unsigned long arg)
{
	long ret = -ENODEV;

	if (!c->n_groups || c->driver)
		return -EINVAL;
	for (size_t i = 0; i < N_DRIVERS; i++) {
		const struct vfio_iommu_driver_ops *d = iommu_drivers[i];
		void *data = NULL;
		size_t k;
		int r;

		if (!driver_allowed(c, d))
			continue;
		if (d->check_extension(c->u, NULL, arg) <= 0)
			continue;
		r = d->open(c->u, arg, &data);
		if (r) {
			ret = r;
			continue;
		}
		/* __vfio_container_attach_groups: in group_list order,
		 * unwinding in reverse on failure. */
		r = 0;
		for (k = 0; k < c->n_groups; k++) {
			r = d->attach_group(data, c->groups[k]);
			if (r)
				break;
		}
		if (r) {
			while (k-- > 0)
				d->detach_group(data, c->groups[k]);
			d->release(data);
			ret = r;
			continue;
		}
		c->driver = d;
		c->iommu_data = data;
		ret = 0;
		break;
	}
	return ret;
}

static long container_ioctl(struct uapi_file *f, unsigned int cmd, unsigned long arg)
{
	struct vfio_container *c = f->private_data;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return container_check_extension(c, arg);
	case VFIO_SET_IOMMU:
		return container_set_iommu(c, arg);
	default:
		/* passthrough all unrecognized ioctls (ret stays -EINVAL
		 * without a driver) */
		if (c->driver)
			return c->driver->ioctl(c->iommu_data, cmd, arg);
		return -EINVAL;
	}
}

static void container_release(struct uapi_file *f)
{
	vfio_container_put(f->private_data);
}

const struct uapi_fops vfio_container_fops = {
	.name = "vfio-container",
	.kind = UAPI_FILE_VFIO_CONTAINER,
	.ioctl = container_ioctl,
	.release = container_release,
};

int vfio_container_open(struct iommu_uapi *u, const char *path, int flags,
			struct uapi_file **out)
{
	struct vfio_container *c = calloc(1, sizeof(*c));
	struct uapi_file *f;

	(void)path;
	(void)flags;
	if (!c)
		return -ENOMEM;
	c->u = u;
	c->refs = 1;
	f = uapi_file_alloc(u, &vfio_container_fops, c);
	if (!f) {
		free(c);
		return -ENOMEM;
	}
	f->mode = S_IFCHR | 0666;
	f->rdev = makedev(10, 196);
	*out = f;
	return 0;
}

/* vfio_container_attach_group */
static int container_attach_group(struct vfio_container *c, struct vfio_group *g)
{
	struct iommu_uapi *u = c->u;
	struct vfio_group **ng;
	int ret;

	if (g->noiommu && !u->rawio)
		return -EPERM;
	/* Real groups and fake groups cannot mix */
	if (c->n_groups && c->noiommu != g->noiommu)
		return -EPERM;
	ng = realloc(c->groups, (c->n_groups + 1) * sizeof(*ng));
	if (!ng)
		return -ENOMEM;
	c->groups = ng;
	if (!g->noiommu) {
		ret = uapi_claim_dma_owner(u, g);
		if (ret)
			return ret;
	}
	if (c->driver) {
		ret = c->driver->attach_group(c->iommu_data, g);
		if (ret) {
			uapi_release_dma_owner(u, g);
			return ret;
		}
	}
	g->container = c;
	g->container_users = 1;
	c->noiommu = g->noiommu;
	/* list_add: the newest group first */
	memmove(c->groups + 1, c->groups, c->n_groups * sizeof(*c->groups));
	c->groups[0] = g;
	c->n_groups++;
	c->refs++;
	return 0;
}

/* vfio_group_detach_container */
static void group_detach_container(struct vfio_group *g)
{
	struct vfio_container *c = g->container;
	size_t i;

	if (c->driver)
		c->driver->detach_group(c->iommu_data, g);
	uapi_release_dma_owner(g->u, g);
	g->container = NULL;
	g->container_users = 0;
	for (i = 0; i < c->n_groups && c->groups[i] != g; i++)
		;
	if (i < c->n_groups) {
		memmove(c->groups + i, c->groups + i + 1, (c->n_groups - i - 1) * sizeof(*c->groups));
		c->n_groups--;
	}
	/* Detaching the last group deprivileges a container */
	if (c->driver && !c->n_groups) {
		c->driver->release(c->iommu_data);
		c->driver = NULL;
		c->iommu_data = NULL;
	}
	vfio_container_put(c);
}

/* ------------------------------------------------------------------ */
/* Group files                                                          */

static long group_get_status(struct vfio_group *g, unsigned long arg)
{
	struct vfio_group_status st;
	size_t minsz = offsetof(struct vfio_group_status, flags) + sizeof(st.flags);

	if (uapi_copy_from_user(g->u, &st, arg, minsz))
		return -EFAULT;
	if (st.argsz < minsz)
		return -EINVAL;
	st.flags = 0;
	if (g->container)
		st.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
	else if (!uapi_group_dma_owner_claimed(g->u, g))
		st.flags |= VFIO_GROUP_FLAGS_VIABLE;
	if (uapi_copy_to_user(g->u, arg, &st, minsz))
		return -EFAULT;
	return 0;
}

static long group_set_container(struct vfio_group *g, unsigned long arg)
{
	struct uapi_file *cf;
	int32_t fd;

	if (uapi_copy_from_user(g->u, &fd, arg, sizeof(fd)))
		return -EFAULT;
	if (!uapi_host_fd_valid(fd))
		return -EBADF;
	if (g->container)
		return -EINVAL;
	cf = uapi_fd_file(g->u, fd);
	if (cf && cf->fops == &vfio_container_fops)
		return container_attach_group(cf->private_data, g);
	/* iommufd (reference 9): a file of kind UAPI_FILE_IOMMUFD takes the
	 * group through its compat path; not modelled yet. */
	if (cf && cf->fops->kind == UAPI_FILE_IOMMUFD)
		return -EOPNOTSUPP;
	/* The FD passed is not recognized. */
	return -EBADFD;
}

static long group_unset_container(struct vfio_group *g)
{
	if (!g->container)
		return -EINVAL;
	if (g->container_users != 1)
		return -EBUSY;
	group_detach_container(g);
	return 0;
}

/* vfio_pci_core_match: "BDF" or "BDF vf_token=UUID"; 1 match, 0 not,
 * negative errno. */
static int device_match(struct vfio_device *vdev, const char *buf)
{
	const char *name = vdev->pdev->name;
	size_t n = strlen(name);

	if (strncmp(name, buf, n))
		return 0;
	if (strlen(buf) > n) {
		const char *p = buf + n;
		bool vf_token = false;

		if (*p != ' ')
			return 0;
		while (*p) {
			if (*p == ' ') {
				p++;
				continue;
			}
			if (!vf_token && !strncmp(p, "vf_token=", 9)) {
				/* A UUID: 8-4-4-4-12 hex digits. */
				const char *q = p + 9;

				for (int i = 0; i < 36; i++) {
					bool dash = i == 8 || i == 13 || i == 18 || i == 23;
					char c = q[i];

					if (dash ? c != '-' : !((c >= '0' && c <= '9') ||
								(c >= 'a' && c <= 'f') ||
								(c >= 'A' && c <= 'F')))
						return -EINVAL;
				}
				vf_token = true;
				p = q + 36;
				continue;
			}
			return -EINVAL;        /* Unknown/duplicate option */
		}
		/* vfio_pci_validate_vf_token: neither a PF with VFs nor a VF. */
		if (vf_token && !vdev->pdev->is_virtfn && !vdev->pdev->sriov.offset) {
			uapi_dev_log(vdev->u, vdev->pdev, "vfio-pci",
				     "VF token incorrectly provided, not a PF or VF");
			return -EINVAL;
		}
	}
	return 1;
}

static long group_get_device_fd(struct vfio_group *g, unsigned long arg)
{
	struct iommu_uapi *u = g->u;
	struct vfio_device *vdev = NULL;
	struct uapi_file *f;
	char *buf;
	int err = 0, ret, fd;

	buf = uapi_strndup_user(u, arg, UAPI_PAGE_SIZE, &err);
	if (!buf)
		return err;
	for (size_t i = 0; i < g->n_devices; i++) {
		int m = device_match(g->devices[i], buf);

		if (m < 0) {
			free(buf);
			return m;
		}
		if (m) {
			vdev = g->devices[i];
			break;
		}
	}
	free(buf);
	if (!vdev)
		return -ENODEV;
	/* vfio_group_use_container: a container with an IOMMU driver. */
	if (!g->container || !g->container->driver)
		return -EINVAL;
	if (g->noiommu && !u->rawio)
		return -EPERM;
	ret = vfio_device_open_file(vdev, &f);
	if (ret)
		return ret;
	fd = uapi_fd_install(u, f, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fd;
	if (g->noiommu) {
		char comm[32] = "?";
		int cfd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);

		if (cfd >= 0) {
			ssize_t r = read(cfd, comm, sizeof(comm) - 1);

			comm[r > 0 ? r : 0] = '\0';
			comm[strcspn(comm, "\n")] = '\0';
			close(cfd);
		}
		uapi_dev_log(u, vdev->pdev, "vfio-pci", "vfio-noiommu device opened by user (%s:%d)",
			     comm, (int)getpid());
	}
	return fd;
}

static long group_ioctl(struct uapi_file *f, unsigned int cmd, unsigned long arg)
{
	struct vfio_group *g = f->private_data;

	switch (cmd) {
	case VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(g, arg);
	case VFIO_GROUP_GET_STATUS:
		return group_get_status(g, arg);
	case VFIO_GROUP_SET_CONTAINER:
		return group_set_container(g, arg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return group_unset_container(g);
	default:
		return -ENOTTY;
	}
}

static void group_release(struct uapi_file *f)
{
	struct vfio_group *g = f->private_data;

	if (g->container)
		group_detach_container(g);
	g->opened_file = NULL;
}

const struct uapi_fops vfio_group_fops = {
	.name = "vfio-group",
	.kind = UAPI_FILE_VFIO_GROUP,
	.ioctl = group_ioctl,
	.release = group_release,
};

int vfio_group_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out)
{
	struct vfio_group *g = vfio_group_by_name(u, path + strlen("/dev/vfio/"));
	struct uapi_file *f;

	(void)flags;
	if (!g)
		return -ENOENT;         /* no such node */
	if (!g->n_devices)
		return -ENODEV;
	if (g->noiommu && !u->rawio)
		return -EPERM;
	/* Do we need multiple instances of the group open?  Seems not. */
	if (g->opened_file)
		return -EBUSY;
	/* a device of the group is bound through its cdev (vfio_cdev.c) */
	if (g->cdev_device_open_cnt)
		return -EBUSY;
	f = uapi_file_alloc(u, &vfio_group_fops, g);
	if (!f)
		return -ENOMEM;
	f->mode = S_IFCHR | 0600;
	f->rdev = makedev(uapi_vfio_group_major(u), (unsigned)g->minor);
	g->opened_file = f;
	*out = f;
	return 0;
}
