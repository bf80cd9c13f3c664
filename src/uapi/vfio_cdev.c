// SPDX-License-Identifier: MIT
/*
 * The VFIO device cdev, /dev/vfio/devices/vfioN (drivers/vfio/
 * device_cdev.c, vfio_main.c, iommufd.c; kernel 6.6+; reference 9.4): a
 * device opened without its group and bound to an iommufd.
 *
 *  - one node per device bound to vfio-pci, N in bind order (the
 *    vfio_device ida); opening it always succeeds, the file does nothing
 *    until bound: every ioctl but VFIO_DEVICE_BIND_IOMMUFD, and read,
 *    write and mmap, are -EINVAL;
 *  - BIND_IOMMUFD {argsz, flags, iommufd, out_devid}: argsz, flags and a
 *    negative descriptor -EINVAL; the group file open -EBUSY (and the
 *    group cannot be opened while a device is bound this way); bound
 *    already -EINVAL; the descriptor -EBADF / -EBADFD; the device open
 *    already (another cdev file bound it) -EINVAL; then
 *    iommufd_device_bind's answer (MSI isolation -EPERM, DMA ownership
 *    -EPERM / -EINVAL) and vfio-pci's open_device;
 *  - ATTACH_IOMMUFD_PT {argsz, flags, pt_id}: an IOAS (automatic domain)
 *    or a HWPT; pt_id comes back as the HWPT attached; attaching again
 *    replaces the attachment;
 *  - DETACH_IOMMUFD_PT: back to blocked DMA (nothing when not attached);
 *  - every other device ioctl, read, write and mmap as the group path's
 *    device file (vfio_device.c);
 *  - close: detach, unbind (the DMA ownership goes), close the device.
 *
 * noiommu devices get no node here (the kernel's noiommu cdev path is
 * not modelled).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/vfio.h>

#include "uapi/iommufd_internal.h"

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

struct vfio_cdev_file {
	struct vfio_device *vdev;
	struct iommufd_ctx *ictx;       /* df->iommufd */
	struct iommufd_device *idev;
	uint32_t devid;
	bool access_granted;
	bool attached;                  /* vdev->iommufd_attached */
};

/* The vfio-dev chrdev region: allocated before the group region in
 * 6.6+, so the number just above the group major the captures show. */
static unsigned cdev_major(const struct iommu_uapi *u)
{
	return uapi_vfio_group_major(u) + 1;
}

/* vfio_device_block_group */
static int block_group(struct vfio_device *vdev)
{
	struct vfio_group *g = vdev->group;

	if (g->opened_file)
		return -EBUSY;
	g->cdev_device_open_cnt++;
	return 0;
}

static void unblock_group(struct vfio_device *vdev)
{
	vdev->group->cdev_device_open_cnt--;
}

static long cdev_bind(struct vfio_cdev_file *df, unsigned long arg)
{
	struct vfio_device *vdev = df->vdev;
	struct iommu_uapi *u = vdev->u;
	struct vfio_device_bind_iommufd bind;
	size_t minsz = offsetofend(struct vfio_device_bind_iommufd, out_devid);
	int ret;

	if (uapi_copy_from_user(u, &bind, arg, minsz))
		return -EFAULT;
	if (bind.argsz < minsz || bind.flags || bind.iommufd < 0)
		return -EINVAL;
	ret = block_group(vdev);
	if (ret)
		return ret;
	/* one device cannot be bound twice */
	if (df->access_granted) {
		ret = -EINVAL;
		goto out_unblock;
	}
	ret = iommufd_ctx_from_fd(u, bind.iommufd, &df->ictx);
	if (ret) {
		df->ictx = NULL;
		goto out_unblock;
	}
	/* vfio_df_open: the cdev path opens a device once */
	if (vdev->open_count) {
		ret = -EINVAL;
		goto out_put;
	}
	ret = iommufd_device_bind(df->ictx, vdev->pdev, &df->idev, &df->devid);
	if (ret)
		goto out_put;
	ret = vfio_device_cdev_open(vdev);
	if (ret)
		goto out_unbind;
	if (uapi_copy_to_user(u, arg + offsetof(struct vfio_device_bind_iommufd, out_devid), &df->devid,
			      sizeof(df->devid))) {
		ret = -EFAULT;
		goto out_close;
	}
	df->access_granted = true;
	return 0;
out_close:
	vfio_device_cdev_close(vdev);
out_unbind:
	iommufd_device_unbind(df->idev);
	df->idev = NULL;
out_put:
	iommufd_ctx_put(df->ictx);
	df->ictx = NULL;
out_unblock:
	unblock_group(vdev);
	return ret;
}

/* vfio_iommufd_physical_attach_ioas */
static long cdev_attach(struct vfio_cdev_file *df, unsigned long arg)
{
	struct iommu_uapi *u = df->vdev->u;
	struct vfio_device_attach_iommufd_pt attach;
	size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	uint32_t pt_id;
	int ret;

	if (uapi_copy_from_user(u, &attach, arg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz || attach.flags)
		return -EINVAL;
	pt_id = attach.pt_id;
	if (df->attached)
		ret = iommufd_device_replace(df->idev, &pt_id);
	else
		ret = iommufd_device_attach(df->idev, &pt_id);
	if (ret)
		return ret;
	df->attached = true;
	if (uapi_copy_to_user(u, arg + offsetof(struct vfio_device_attach_iommufd_pt, pt_id), &pt_id,
			      sizeof(pt_id))) {
		iommufd_device_detach(df->idev);
		df->attached = false;
		return -EFAULT;
	}
	return 0;
}

static long cdev_detach(struct vfio_cdev_file *df, unsigned long arg)
{
	struct vfio_device_detach_iommufd_pt detach;
	size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt, flags);

	if (uapi_copy_from_user(df->vdev->u, &detach, arg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz || detach.flags)
		return -EINVAL;
	if (df->attached) {
		iommufd_device_detach(df->idev);
		df->attached = false;
	}
	return 0;
}

/* The group path's device file, on this device. */
static struct uapi_file shadow(const struct uapi_file *f)
{
	struct vfio_cdev_file *df = f->private_data;
	struct uapi_file s = *f;

	s.fops = &vfio_device_fops;
	s.private_data = df->vdev;
	return s;
}

static long cdev_ioctl(struct uapi_file *f, unsigned int cmd, unsigned long arg)
{
	struct vfio_cdev_file *df = f->private_data;
	struct uapi_file s;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return cdev_bind(df, arg);
	if (!df->access_granted)
		return -EINVAL;
	switch (cmd) {
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return cdev_attach(df, arg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return cdev_detach(df, arg);
	default:
		s = shadow(f);
		return vfio_device_fops.ioctl(&s, cmd, arg);
	}
}

static ssize_t cdev_read(struct uapi_file *f, void *buf, size_t count, uint64_t *pos)
{
	struct vfio_cdev_file *df = f->private_data;
	struct uapi_file s;

	if (!df->access_granted)
		return -EINVAL;
	s = shadow(f);
	return vfio_device_fops.read(&s, buf, count, pos);
}

static ssize_t cdev_write(struct uapi_file *f, const void *buf, size_t count, uint64_t *pos)
{
	struct vfio_cdev_file *df = f->private_data;
	struct uapi_file s;

	if (!df->access_granted)
		return -EINVAL;
	s = shadow(f);
	return vfio_device_fops.write(&s, buf, count, pos);
}

static int cdev_mmap(struct uapi_file *f, uint64_t off, size_t len, int prot, int flags,
		     int *map_fd, off_t *map_off)
{
	struct vfio_cdev_file *df = f->private_data;
	struct uapi_file s;

	if (!df->access_granted)
		return -EINVAL;
	s = shadow(f);
	return vfio_device_fops.mmap(&s, off, len, prot, flags, map_fd, map_off);
}

/* vfio_df_unbind_iommufd at the last close */
static void cdev_release(struct uapi_file *f)
{
	struct vfio_cdev_file *df = f->private_data;

	if (df->access_granted) {
		if (df->attached)
			iommufd_device_detach(df->idev);
		iommufd_device_unbind(df->idev);
		vfio_device_cdev_close(df->vdev);
		iommufd_ctx_put(df->ictx);
		unblock_group(df->vdev);
	}
	free(df);
}

static const struct uapi_fops vfio_cdev_fops = {
	.name = "vfio-dev",
	.kind = UAPI_FILE_VFIO_CDEV,
	.ioctl = cdev_ioctl,
	.read = cdev_read,
	.write = cdev_write,
	.mmap = cdev_mmap,
	.release = cdev_release,
};

struct vfio_device *vfio_cdev_device(struct uapi_file *f)
{
	struct vfio_cdev_file *df = f && f->fops == &vfio_cdev_fops ? f->private_data : NULL;

	return df && df->access_granted ? df->vdev : NULL;
}

/* vfio_device_fops_cdev_open: the device named "vfio<index>". */
int vfio_cdev_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out)
{
	const char *name = path + strlen("/dev/vfio/devices/");
	struct vfio_cdev_file *df;
	struct vfio_device *vdev = NULL;
	struct uapi_file *f;
	char *end;
	long index;

	(void)flags;
	if (!uapi_kernel_at_least(u, 6, 6) || strncmp(name, "vfio", 4) || name[4] < '0' || name[4] > '9' ||
	    (name[4] == '0' && name[5]))
		return -ENOENT;
	index = strtol(name + 4, &end, 10);
	if (*end || index > INT32_MAX)
		return -ENOENT;
	for (size_t i = 0; i < u->n_devices; i++)
		if (u->vdevs[i] && u->vdevs[i]->index == index && !u->vdevs[i]->group->noiommu)
			vdev = u->vdevs[i];
	if (!vdev)
		return -ENOENT;
	df = calloc(1, sizeof(*df));
	if (!df)
		return -ENOMEM;
	df->vdev = vdev;
	f = uapi_file_alloc(u, &vfio_cdev_fops, df);
	if (!f) {
		free(df);
		return -ENOMEM;
	}
	f->mode = S_IFCHR | 0600;
	f->rdev = makedev(cdev_major(u), (unsigned)index);
	*out = f;
	return 0;
}

int uapi_iommufd_node(const struct iommu_uapi *u, const char *path, mode_t *mode, dev_t *rdev)
{
	const char *name;
	bool any = false;

	*rdev = 0;
	if (!strcmp(path, "/dev/iommu")) {
		if (!uapi_kernel_at_least(u, 6, 2))
			return -ENOENT;
		*mode = S_IFCHR | 0660;
		*rdev = makedev(10, IOMMUFD_MISC_MINOR);
		return 0;
	}
	if (!uapi_kernel_at_least(u, 6, 6))
		return -ENOENT;
	/* devtmpfs makes the directory with the first device node */
	for (size_t i = 0; i < u->n_devices; i++)
		any |= u->vdevs[i] && !u->vdevs[i]->group->noiommu;
	if (!any)
		return -ENOENT;
	if (!strcmp(path, "/dev/vfio/devices")) {
		*mode = S_IFDIR | 0755;
		return 0;
	}
	name = path + strlen("/dev/vfio/devices/");
	for (size_t i = 0; i < u->n_devices; i++) {
		const struct vfio_device *v = u->vdevs[i];
		char want[24];

		if (!v || v->group->noiommu)
			continue;
		snprintf(want, sizeof(want), "vfio%d", v->index);
		if (!strcmp(name, want)) {
			*mode = S_IFCHR | 0600;
			*rdev = makedev(cdev_major(u), (unsigned)v->index);
			return 0;
		}
	}
	return -ENOENT;
}
