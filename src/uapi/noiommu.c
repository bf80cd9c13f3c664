// SPDX-License-Identifier: MIT
/*
 * The vfio-noiommu IOMMU backend (drivers/vfio/container.c, reference
 * 8.5): what a container of vfio-noiommu groups gets with
 * VFIO_SET_IOMMU(VFIO_NOIOMMU_IOMMU).  It maps nothing: every DMA
 * mapping ioctl is -ENOTTY, and devices DMA to physical addresses the
 * program finds itself (/proc/self/pagemap, sysfs.c and mm.c).
 *
 * The noiommu groups themselves (ids from the IOMMU group allocator, the
 * taint, the log line, CAP_SYS_RAWIO) are made when a device binds
 * (vfio.c: iommu_uapi_vfio_bind).
 */
#include <errno.h>

#include <linux/vfio.h>

#include "uapi/internal.h"

/* Only while the module parameter is on (vfio_noiommu). */
static long noiommu_check_extension(struct iommu_uapi *u, void *data, unsigned long arg)
{
	(void)data;
	return u->noiommu && arg == VFIO_NOIOMMU_IOMMU ? 1 : 0;
}

/* vfio_noiommu_open */
static int noiommu_open(struct iommu_uapi *u, unsigned long arg, void **data)
{
	if (arg != VFIO_NOIOMMU_IOMMU)
		return -EINVAL;
	if (!u->rawio)
		return -EPERM;
	*data = u;
	return 0;
}

static void noiommu_release(void *data)
{
	(void)data;
}

static long noiommu_ioctl(void *data, unsigned int cmd, unsigned long arg)
{
	struct iommu_uapi *u = data;

	if (cmd == VFIO_CHECK_EXTENSION)
		return noiommu_check_extension(u, data, arg);
	return -ENOTTY;
}

static int noiommu_attach_group(void *data, struct vfio_group *g)
{
	(void)data;
	(void)g;
	return 0;
}

static void noiommu_detach_group(void *data, struct vfio_group *g)
{
	(void)data;
	(void)g;
}

const struct vfio_iommu_driver_ops vfio_noiommu_ops = {
	.name = "vfio-noiommu",
	.check_extension = noiommu_check_extension,
	.open = noiommu_open,
	.release = noiommu_release,
	.ioctl = noiommu_ioctl,
	.attach_group = noiommu_attach_group,
	.detach_group = noiommu_detach_group,
};
