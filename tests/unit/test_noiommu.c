// SPDX-License-Identifier: MIT
/*
 * VFIO no-IOMMU mode in the user-API layer (reference 8.5), in-process:
 *  - the fake group: an id from the IOMMU group allocator (the first one
 *    no group has), "noiommu-N" nodes in bind order, sysfs name
 *    "vfio-noiommu", type "unknown", no reserved regions, the taint and
 *    the kernel's line; a device that has a group keeps the normal path;
 *  - CAP_SYS_RAWIO for the group and its container (ref V15), the
 *    VFIO_NOIOMMU_IOMMU extension that follows the module parameter,
 *    the backend that maps nothing (-ENOTTY);
 *  - the device open's warning with the task's name and pid;
 *  - /proc/self/pagemap: the 8-byte rule, present pages with frames of
 *    the modelled memory, the device's DMA at those physical addresses.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "helpers.h"
#include "iommu/core.h"
#include "iommu/uapi.h"

struct fx {
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_uapi *u;
};

static void fx_load(struct fx *x, const char *capture, bool unprivileged, const char *binds)
{
	struct iommu_uapi_options uo = { .noiommu = true, .unprivileged = unprivileged };
	struct iommu_error err = { 0 };
	char dir[4096];

	memset(x, 0, sizeof(*x));
	assert_non_null(captures_dir());
	snprintf(dir, sizeof(dir), "%s/%s", captures_dir(), capture);
	if (iommu_platform_load_snapshot(dir, &x->p, &err) || iommu_system_build(x->p, NULL, &x->s, &err) ||
	    iommu_uapi_create(x->s, &uo, &x->u, &err) || iommu_uapi_vfio_bind_list(x->u, binds, &err))
		fail_msg("%s: %s", capture, err.msg);
}

static void fx_free(struct fx *x)
{
	iommu_uapi_destroy(x->u);
	iommu_system_free(x->s);
	iommu_platform_free(x->p);
}

static void fd_close(struct iommu_uapi *u, int fd)
{
	assert_int_equal(iommu_uapi_close(u, fd), 0);
	close(fd);
}

static void read_attr(struct iommu_uapi *u, const char *path, char *buf, size_t len)
{
	int fd = iommu_uapi_open(u, path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = iommu_uapi_read(u, fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	fd_close(u, fd);
}

static bool log_has(const struct iommu_uapi *u, const char *text)
{
	for (size_t i = 0; i < iommu_uapi_log_count(u); i++)
		if (strstr(iommu_uapi_log_line(u, i), text))
			return true;
	return false;
}

static void test_group_ids(void **state)
{
	struct fx x;
	struct stat st;
	char buf[64];

	(void)state;
	/* Groups 0-8 exist; the AMD IOMMU's own function has none: 9. */
	fx_load(&x, "i2-vfio-amd", false, "0000:00:01.0,0000:02:00.0");
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/noiommu-9", &st, true), 0);
	assert_int_equal(minor(st.st_rdev), 0);
	/* with noiommu on, a device that has a group keeps its group */
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/6", &st, true), 0);
	assert_int_equal(minor(st.st_rdev), 1);
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/noiommu-10", &st, true), -ENOENT);
	read_attr(x.u, "/sys/kernel/iommu_groups/9/name", buf, sizeof(buf));
	assert_string_equal(buf, "vfio-noiommu\n");
	read_attr(x.u, "/sys/kernel/iommu_groups/9/type", buf, sizeof(buf));
	assert_string_equal(buf, "unknown\n");
	read_attr(x.u, "/sys/kernel/iommu_groups/9/reserved_regions", buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* real groups have no name attribute */
	assert_int_equal(iommu_uapi_open(x.u, "/sys/kernel/iommu_groups/6/name", O_RDONLY), -ENOENT);
	fx_free(&x);

	/* No IOMMU at all: ids from 0, one group per device. */
	fx_load(&x, "z-no-iommu", false, "0000:02:00.0,0000:01:00.0");
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/noiommu-0", &st, true), 0);
	assert_int_equal(minor(st.st_rdev), 0);
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/noiommu-1", &st, true), 0);
	assert_int_equal(minor(st.st_rdev), 1);
	{
		char link[128];
		ssize_t n = iommu_uapi_readlink(x.u, "/sys/bus/pci/devices/0000:01:00.0/iommu_group",
						link, sizeof(link) - 1);

		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, "../../../../kernel/iommu_groups/1");
	}
	/* TAINT_USER, and the line per bind */
	assert_int_equal(iommu_uapi_taint(x.u), 1ul << 6);
	read_attr(x.u, "/proc/sys/kernel/tainted", buf, sizeof(buf));
	assert_string_equal(buf, "64\n");
	assert_true(log_has(x.u, "vfio-pci 0000:02:00.0: Adding kernel taint for vfio-noiommu group on device"));
	assert_true(log_has(x.u, "vfio-pci 0000:01:00.0: Adding kernel taint for vfio-noiommu group on device"));
	fx_free(&x);
}

static void test_backend(void **state)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = 3, .size = 0x1000 };
	struct fx x;
	int c, g, d;
	char want[128];

	(void)state;
	fx_load(&x, "z-no-iommu", false, "0000:01:00.0");
	c = iommu_uapi_open(x.u, "/dev/vfio/vfio", O_RDWR);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 1);
	g = iommu_uapi_open(x.u, "/dev/vfio/noiommu-0", O_RDWR);
	assert_true(g >= 0);
	assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/noiommu-0", O_RDWR), -EBUSY);
	assert_int_equal(iommu_uapi_ioctl(x.u, g, VFIO_GROUP_SET_CONTAINER, (unsigned long)(uintptr_t)&c), 0);
	/* a noiommu container takes only the noiommu backend */
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), -ENODEV);
	/* the parameter is writable at runtime: the extension follows it */
	assert_int_equal(iommu_uapi_set_param(x.u, "vfio/enable_unsafe_noiommu_mode", "N"), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), -ENODEV);
	assert_int_equal(iommu_uapi_set_param(x.u, "vfio/enable_unsafe_noiommu_mode", "1"), 0);
	assert_int_equal(iommu_uapi_set_param(x.u, "vfio/enable_unsafe_noiommu_mode", "maybe"), -EINVAL);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), 0);
	/* vfio_noiommu_ioctl: no mapping ioctls */
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_MAP_DMA, (unsigned long)(uintptr_t)&m), -ENOTTY);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_UNMAP_DMA, (unsigned long)(uintptr_t)&m), -ENOTTY);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_GET_INFO, (unsigned long)(uintptr_t)&m), -ENOTTY);
	d = (int)iommu_uapi_ioctl(x.u, g, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)(uintptr_t)"0000:01:00.0");
	assert_true(d >= 0);
	snprintf(want, sizeof(want), "vfio-pci 0000:01:00.0: vfio-noiommu device opened by user (test_noiommu:%d)",
		 (int)getpid());
	assert_true(log_has(x.u, want));
	fd_close(x.u, d);
	fd_close(x.u, g);
	fd_close(x.u, c);
	fx_free(&x);
}

static void test_unprivileged(void **state)
{
	struct fx x;
	int c;

	(void)state;
	fx_load(&x, "z-no-iommu", true, "0000:01:00.0");
	/* ref V15: vfio_group_fops_open needs CAP_SYS_RAWIO */
	assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/noiommu-0", O_RDWR), -EPERM);
	c = iommu_uapi_open(x.u, "/dev/vfio/vfio", O_RDWR);
	assert_true(c >= 0);
	fd_close(x.u, c);
	/* root-owned module parameters */
	assert_int_equal(iommu_uapi_open(x.u, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", O_WRONLY),
			 -EACCES);
	fx_free(&x);
}

static void test_pagemap(void **state)
{
	struct fx x;
	uint8_t *buf = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t e = 0, pa;
	int fd, c, g, d;
	uint16_t cmd;
	char back[8];

	(void)state;
	fx_load(&x, "z-no-iommu", false, "0000:01:00.0");
	buf[0] = 1;
	fd = iommu_uapi_open(x.u, "/proc/self/pagemap", O_RDONLY);
	assert_true(fd >= 0);
	/* pagemap_read: 8-byte entries at 8-byte offsets */
	assert_int_equal(iommu_uapi_pread(x.u, fd, &e, 8, (off_t)((uintptr_t)buf / 4096 * 8 + 4)), -EINVAL);
	assert_int_equal(iommu_uapi_pread(x.u, fd, &e, 4, (off_t)((uintptr_t)buf / 4096 * 8)), -EINVAL);
	assert_int_equal(iommu_uapi_pread(x.u, fd, &e, 8, (off_t)((uintptr_t)buf / 4096 * 8)), 8);
	assert_true(e >> 63);
	pa = (e & ((1ULL << 55) - 1)) << 12;
	assert_true(pa >= (UINT64_C(4) << 30));     /* high RAM */
	/* the second page was never touched: not present */
	assert_int_equal(iommu_uapi_pread(x.u, fd, &e, 8, (off_t)(((uintptr_t)buf + 0x1000) / 4096 * 8)), 8);
	assert_true(e == 0);
	fd_close(x.u, fd);
	/* the device DMAs at that physical address once it masters the bus */
	c = iommu_uapi_open(x.u, "/dev/vfio/vfio", O_RDWR);
	g = iommu_uapi_open(x.u, "/dev/vfio/noiommu-0", O_RDWR);
	assert_int_equal(iommu_uapi_ioctl(x.u, g, VFIO_GROUP_SET_CONTAINER, (unsigned long)(uintptr_t)&c), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), 0);
	d = (int)iommu_uapi_ioctl(x.u, g, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)(uintptr_t)"0000:01:00.0");
	assert_int_equal(iommu_uapi_device_fd_dma(x.u, d, pa + 8, "dma", 4, true, NULL), -EIO);
	assert_int_equal(iommu_uapi_pread(x.u, d, &cmd, 2, (off_t)((7ULL << 40) + PCI_COMMAND)), 2);
	cmd |= PCI_COMMAND_MASTER;
	assert_int_equal(iommu_uapi_pwrite(x.u, d, &cmd, 2, (off_t)((7ULL << 40) + PCI_COMMAND)), 2);
	assert_int_equal(iommu_uapi_device_fd_dma(x.u, d, pa + 8, "dma", 4, true, NULL), 0);
	assert_string_equal((char *)buf + 8, "dma");
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", pa + 8, back, 4, false, NULL), 0);
	assert_string_equal(back, "dma");
	/* beyond modelled memory */
	assert_int_equal(iommu_uapi_device_fd_dma(x.u, d, UINT64_C(1) << 50, back, 4, false, NULL), -EFAULT);
	fd_close(x.u, d);
	fd_close(x.u, g);
	fd_close(x.u, c);
	fx_free(&x);
	munmap(buf, 0x2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_ids),
		cmocka_unit_test(test_backend),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_pagemap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
