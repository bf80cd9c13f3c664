// SPDX-License-Identifier: MIT
/*
 * The user-API layer (src/uapi) without the preload library: the calls of
 * include/iommu/uapi.h made in-process, against the kernel's captures and
 * synthetic platforms.  The VFIO ioctls end to end are in
 * tests/vfio/vfio_api_test.c (run through `iommu run`); here:
 *  - binding: the kernel's refusals, minors in bind order, the driver
 *    attribute;
 *  - the namespace: which paths are the model's, links as sysfs writes
 *    them, kernfs readdir order (the capture's vfio-probe listing),
 *    module parameters written through their files;
 *  - version gates: the GET_INFO capability chain of 6.1 and 6.12;
 *  - claims on RMRR / IVMD devices in 6.1 and 6.12 with the kernel's log
 *    lines (the captures' dmesg);
 *  - two groups in one container: the valid IOVA list is the
 *    intersection, one mapping reaches both devices;
 *  - VFIO's virtualised config space over synthetic devices: hidden
 *    capabilities, PME bits, BARs without resources, the INTx pin;
 *  - the process memory model: pins share frames, frames are reused,
 *    pagemap frames stay;
 *  - descriptors: a number reused behind the model's back, destroy with
 *    everything open (no leak, ownership released);
 *  - the AVL tree under random operations against a sorted array.
 */
#include <dirent.h>
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
#include "uapi/internal.h"

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

struct fx {
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_uapi *u;
};

static void fx_load(struct fx *x, const char *capture, const char *kernel,
		    const struct iommu_uapi_options *uo, const char *binds)
{
	struct iommu_system_options so = { .kernel = kernel };
	struct iommu_error err = { 0 };
	char dir[4096];

	memset(x, 0, sizeof(*x));
	assert_non_null(captures_dir());
	snprintf(dir, sizeof(dir), "%s/%s", captures_dir(), capture);
	if (iommu_platform_load_snapshot(dir, &x->p, &err))
		fail_msg("%s: %s", capture, err.msg);
	if (iommu_system_build(x->p, &so, &x->s, &err))
		fail_msg("%s: %s", capture, err.msg);
	if (iommu_uapi_create(x->s, uo, &x->u, &err))
		fail_msg("%s: %s", capture, err.msg);
	if (binds && iommu_uapi_vfio_bind_list(x->u, binds, &err))
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

static bool log_has(const struct iommu_uapi *u, const char *text)
{
	for (size_t i = 0; i < iommu_uapi_log_count(u); i++)
		if (strstr(iommu_uapi_log_line(u, i), text))
			return true;
	return false;
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

/* Open container and group, SET_CONTAINER; returns the SET_CONTAINER
 * result; *c and *g stay open. */
static long join(struct iommu_uapi *u, const char *grp, int *c, int *g)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	*c = iommu_uapi_open(u, "/dev/vfio/vfio", O_RDWR);
	*g = iommu_uapi_open(u, path, O_RDWR);
	assert_true(*c >= 0);
	assert_true(*g >= 0);
	return iommu_uapi_ioctl(u, *g, VFIO_GROUP_SET_CONTAINER, (unsigned long)(uintptr_t)c);
}

/* --- binding --------------------------------------------------------------- */

static void test_bind_rules(void **state)
{
	struct iommu_error err;
	struct fx x;
	struct stat st;

	(void)state;
	fx_load(&x, "i-vfio", NULL, NULL, NULL);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "zz:zz", &err), -EINVAL);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "0000:0f:00.0", &err), -ENODEV);
	assert_non_null(strstr(err.msg, "0000:0f:00.0"));
	/* vfio_pci_core_register_device: a bridge (type 1 header) */
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "0000:01:00.0", &err), -EINVAL);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "0000:03:00.0", &err), 0);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "03:00.0", &err), -EBUSY);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "0000:02:01.0", &err), 0);
	assert_string_equal(iommu_uapi_driver(x.u, iommu_platform_find_device(x.p,
			    (struct iommu_pci_addr){ 0, 3, IOMMU_PCI_DEVFN(0, 0) })), "vfio-pci");
	/* minors in bind order (the capture's ls of /dev/vfio) */
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/5", &st, true), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 246);
	assert_int_equal(minor(st.st_rdev), 0);
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/4", &st, true), 0);
	assert_int_equal(minor(st.st_rdev), 1);
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/3", &st, true), -ENOENT);
	assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/3", O_RDWR), -ENOENT);
	fx_free(&x);

	/* ref 8.5: a device without a group needs noiommu mode, which only
	 * affects later binds */
	fx_load(&x, "z-no-iommu", NULL, NULL, NULL);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "0000:01:00.0", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "noiommu"));
	assert_int_equal(iommu_uapi_taint(x.u), 0);
	assert_int_equal(iommu_uapi_set_param(x.u, "vfio/enable_unsafe_noiommu_mode", "Y\n"), 0);
	assert_int_equal(iommu_uapi_vfio_bind(x.u, "0000:01:00.0", &err), 0);
	assert_int_equal(iommu_uapi_taint(x.u), 1ul << 6);
	assert_true(log_has(x.u, "vfio-pci 0000:01:00.0: Adding kernel taint for vfio-noiommu group on device"));
	assert_int_equal(iommu_uapi_stat(x.u, "/dev/vfio/noiommu-0", &st, true), 0);
	fx_free(&x);
}

/* --- the namespace --------------------------------------------------------- */

static void test_paths(void **state)
{
	struct fx x;
	char buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", NULL, NULL, "0000:03:00.0,0000:02:01.0");
	assert_true(iommu_uapi_path_owned(x.u, "/dev/vfio"));
	assert_true(iommu_uapi_path_owned(x.u, "/dev/vfio/vfio"));
	assert_true(iommu_uapi_path_owned(x.u, "//dev//vfio/./5"));
	assert_false(iommu_uapi_path_owned(x.u, "/dev/vfio/../null"));
	assert_false(iommu_uapi_path_owned(x.u, "dev/vfio/vfio"));
	assert_false(iommu_uapi_path_owned(x.u, "/dev/null"));
	assert_true(iommu_uapi_path_owned(x.u, "/sys/kernel/iommu_groups"));
	assert_false(iommu_uapi_path_owned(x.u, "/sys/bus/pci/devices/0000:03:00.0/vendor"));
	assert_true(iommu_uapi_path_owned(x.u, "/sys/bus/pci/devices/0000:03:00.0/iommu_group"));
	assert_false(iommu_uapi_path_owned(x.u, "/sys/bus/pci/devices/0000:7f:00.0/iommu_group"));
	assert_true(iommu_uapi_path_owned(x.u, "/proc/self/pagemap"));
	/* links are relative from /sys, as sysfs writes them */
	n = iommu_uapi_readlink(x.u, "/sys/bus/pci/devices/0000:03:00.0/iommu_group", buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "../../../../kernel/iommu_groups/5");
	n = iommu_uapi_readlink(x.u, "/sys/devices/pci0000:00/0000:00:10.0/0000:01:00.0/0000:02:02.0/driver",
				buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "../../../../../bus/pci/drivers/8139cp");
	n = iommu_uapi_readlink(x.u, "/sys/kernel/iommu_groups/4/devices/0000:02:01.0", buf, sizeof(buf));
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "../../../../devices/pci0000:00/0000:00:10.0/0000:01:00.0/0000:02:01.0");
	assert_int_equal(iommu_uapi_readlink(x.u, "/sys/kernel/iommu_groups/4", buf, sizeof(buf)), -EINVAL);
	/* through the link */
	read_attr(x.u, "/sys/bus/pci/devices/0000:03:00.0/iommu_group/type", buf, sizeof(buf));
	assert_string_equal(buf, "DMA-FQ\n");
	assert_int_equal(iommu_uapi_stat(x.u, "/sys/bus/pci/devices/0000:03:00.0/iommu_group", &st, false), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(iommu_uapi_stat(x.u, "/sys/bus/pci/devices/0000:03:00.0/iommu_group", &st, true), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(iommu_uapi_stat(x.u, "/sys/kernel/iommu_groups/7", &st, true), -ENOENT);
	assert_int_equal(iommu_uapi_stat(x.u, "/sys/kernel/iommu_groups/05", &st, true), -ENOENT);
	/* a directory is not read and not written */
	fd = iommu_uapi_open(x.u, "/sys/kernel/iommu_groups/5", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(iommu_uapi_read(x.u, fd, buf, 8), -EISDIR);
	fd_close(x.u, fd);
	assert_int_equal(iommu_uapi_open(x.u, "/sys/kernel/iommu_groups/5", O_RDWR), -EISDIR);
	assert_int_equal(iommu_uapi_open(x.u, "/sys/kernel/iommu_groups/5/type", O_RDONLY | O_DIRECTORY), -ENOTDIR);
	/* module parameters through their files (root: 0644) */
	fd = iommu_uapi_open(x.u, "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(iommu_uapi_write(x.u, fd, "banana", 6), -EINVAL);
	assert_int_equal(iommu_uapi_write(x.u, fd, "7\n", 2), 2);
	fd_close(x.u, fd);
	read_attr(x.u, "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", buf, sizeof(buf));
	assert_string_equal(buf, "7\n");
	/* reserved_regions is read-only */
	assert_int_equal(iommu_uapi_open(x.u, "/sys/kernel/iommu_groups/5/reserved_regions", O_WRONLY), -EACCES);
	/* a bad user pointer is EFAULT, not a crash */
	fd = iommu_uapi_open(x.u, "/sys/kernel/iommu_groups/5/type", O_RDONLY);
	assert_int_equal(iommu_uapi_read(x.u, fd, (void *)16, 4), -EFAULT);
	fd_close(x.u, fd);
	fx_free(&x);
}

static void test_kernfs_order(void **state)
{
	struct iommu_uapi_dirent *e;
	size_t n;
	struct fx x;

	(void)state;
	/* The capture's vfio-probe listed group 15 as 09:00.0 then 07:01.0:
	 * kernfs sorts by name hash. */
	assert_true(uapi_kernfs_name_hash("0000:09:00.0") < uapi_kernfs_name_hash("0000:07:01.0"));
	fx_load(&x, "lx-amd-server-ivmd-vfio", NULL, NULL, "0000:09:00.0,0000:00:02.0");
	assert_int_equal(iommu_uapi_list_dir(x.u, "/sys/kernel/iommu_groups/15/devices", &e, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(e[0].name, ".");
	assert_string_equal(e[1].name, "..");
	assert_string_equal(e[2].name, "0000:09:00.0");
	assert_string_equal(e[3].name, "0000:07:01.0");
	assert_int_equal(e[2].type, DT_LNK);
	free(e);
	assert_int_equal(iommu_uapi_list_dir(x.u, "/sys/kernel/iommu_groups/15/type", &e, &n), -ENOTDIR);
	fx_free(&x);
}

/* --- the capability chain across versions ---------------------------------- */

static void chain(const char *kernel, uint32_t want_argsz, const uint32_t want_off[3])
{
	struct fx x;
	uint8_t buf[256];
	struct vfio_iommu_type1_info *info = (void *)buf;
	int c, g;
	uint32_t off;

	fx_load(&x, "i-vfio", kernel, NULL, "0000:03:00.0");
	assert_int_equal(join(x.u, "5", &c, &g), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_GET_INFO, (unsigned long)(uintptr_t)info), 0);
	assert_int_equal(info->argsz, sizeof(buf));
	off = info->cap_offset;
	for (int i = 0; i < 3; i++) {
		struct vfio_info_cap_header h;

		assert_int_equal(off, want_off[i]);
		memcpy(&h, buf + off, sizeof(h));
		off = h.next;
	}
	assert_int_equal(off, 0);
	info->argsz = 24;
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_GET_INFO, (unsigned long)(uintptr_t)info), 0);
	assert_int_equal(info->argsz, want_argsz);
	fd_close(x.u, g);
	fd_close(x.u, c);
	fx_free(&x);
}

static void test_info_versions(void **state)
{
	/* 6.1: capabilities back to back (116 bytes, the capture's argsz) */
	static const uint32_t off61[3] = { 24, 56, 68 };
	/* 6.6+: each padded to 8 bytes (120 bytes, the 6.12 capture's) */
	static const uint32_t off612[3] = { 24, 56, 72 };

	(void)state;
	chain(NULL, 116, off61);
	chain("6.12", 120, off612);
}

/* --- DMA ownership on direct regions ---------------------------------------- */

static void claim_case(const char *capture, const char *kernel, const char *binds, const char *grp,
		       long want, const char *log)
{
	struct fx x;
	int c, g;

	fx_load(&x, capture, kernel, NULL, binds);
	assert_int_equal(join(x.u, grp, &c, &g), want);
	if (log)
		assert_true(log_has(x.u, log));
	fd_close(x.u, g);
	fd_close(x.u, c);
	fx_free(&x);
}

static void test_claims(void **state)
{
	(void)state;
	/* The captures' SET_CONTAINER answers and dmesg lines */
	claim_case("lx-intel-server-rmrr-vfio", NULL, "0000:09:00.0,0000:00:14.0", "16", -EPERM,
		   "vfio-pci 0000:09:00.0: DMAR: Device is ineligible for IOMMU domain attach due to platform RMRR requirement.");
	claim_case("lx-intel-server-rmrr-vfio", NULL, "0000:09:00.0,0000:00:14.0", "3", 0, NULL);
	claim_case("lx-intel-server-rmrr-vfio-k612", NULL, "0000:09:00.0,0000:00:14.0", "16", -EINVAL,
		   "vfio-pci 0000:09:00.0: Firmware has requested this device have a 1:1 IOMMU mapping");
	claim_case("lx-amd-server-ivmd-vfio", NULL, "0000:09:00.0,0000:00:02.0", "1", 0, NULL);
	claim_case("lx-amd-server-ivmd-vfio-k612", NULL, "0000:09:00.0,0000:00:02.0", "1", -EINVAL,
		   "vfio-pci 0000:00:02.0: Firmware has requested this device have a 1:1 IOMMU mapping");
}

/* --- two groups in one container -------------------------------------------- */

static void test_two_groups(void **state)
{
	uint8_t raw[512];
	struct vfio_iommu_type1_info *info = (void *)raw;
	struct vfio_iommu_type1_dma_map m;
	struct fx x;
	int c, g1, g15, d1, d15;
	uint8_t *buf = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint16_t cmd;
	char back[8];

	(void)state;
	fx_load(&x, "lx-amd-server-ivmd-vfio", NULL, NULL, "0000:09:00.0,0000:00:02.0");
	assert_int_equal(join(x.u, "1", &c, &g1), 0);
	g15 = iommu_uapi_open(x.u, "/dev/vfio/15", O_RDWR);
	assert_int_equal(iommu_uapi_ioctl(x.u, g15, VFIO_GROUP_SET_CONTAINER, (unsigned long)(uintptr_t)&c), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	memset(raw, 0, sizeof(raw));
	info->argsz = sizeof(raw);
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_GET_INFO, (unsigned long)(uintptr_t)info), 0);
	{
		/* both groups' unity (direct) regions are out of the list */
		uint32_t off = info->cap_offset;
		struct vfio_info_cap_header h;
		struct vfio_iommu_type1_info_cap_iova_range r;

		for (;;) {
			memcpy(&h, raw + off, sizeof(h));
			if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
				break;
			off = h.next;
			assert_true(off != 0);
		}
		memcpy(&r, raw + off, sizeof(r));
		assert_int_equal(r.nr_iovas, 5);
	}
	m = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(m), .flags = RW,
		.vaddr = (uintptr_t)buf, .iova = 0x3e000000, .size = 0x1000 };
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_MAP_DMA, (unsigned long)(uintptr_t)&m), -EINVAL);
	m.iova = 0xf0000;
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_MAP_DMA, (unsigned long)(uintptr_t)&m), -EINVAL);
	m.iova = 0x10000000;
	assert_int_equal(iommu_uapi_ioctl(x.u, c, VFIO_IOMMU_MAP_DMA, (unsigned long)(uintptr_t)&m), 0);
	/* one mapping, both devices (each group attached to a domain) */
	d1 = (int)iommu_uapi_ioctl(x.u, g1, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)(uintptr_t)"0000:00:02.0");
	d15 = (int)iommu_uapi_ioctl(x.u, g15, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)(uintptr_t)"0000:09:00.0");
	assert_true(d1 >= 0 && d15 >= 0);
	for (int i = 0; i < 2; i++) {
		int d = i ? d15 : d1;

		assert_int_equal(iommu_uapi_pread(x.u, d, &cmd, 2, (off_t)((7ULL << 40) + PCI_COMMAND)), 2);
		cmd |= PCI_COMMAND_MASTER;
		assert_int_equal(iommu_uapi_pwrite(x.u, d, &cmd, 2, (off_t)((7ULL << 40) + PCI_COMMAND)), 2);
	}
	assert_int_equal(iommu_uapi_device_fd_dma(x.u, d1, 0x10000010, "one", 4, true, NULL), 0);
	assert_int_equal(iommu_uapi_device_fd_dma(x.u, d15, 0x10000010, back, 4, false, NULL), 0);
	assert_string_equal(back, "one");
	assert_string_equal((char *)buf + 0x10, "one");
	/* UNSET with a device open */
	assert_int_equal(iommu_uapi_ioctl(x.u, g15, VFIO_GROUP_UNSET_CONTAINER, 0), -EBUSY);
	fd_close(x.u, d15);
	assert_int_equal(iommu_uapi_ioctl(x.u, g15, VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	/* the other group keeps the mapping */
	assert_int_equal(iommu_uapi_device_fd_dma(x.u, d1, 0x10000010, back, 4, false, NULL), 0);
	fd_close(x.u, d1);
	fd_close(x.u, g15);
	fd_close(x.u, g1);
	fd_close(x.u, c);
	fx_free(&x);
	munmap(buf, 0x2000);
}

/* --- config space of synthetic devices --------------------------------------- */

struct synth {
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_uapi *u;
};

/* One endpoint 00:03.0 on a platform without an IOMMU, bound in noiommu
 * mode; returns an open device descriptor. */
static int synth_open(struct synth *y, const struct cfg *cfgp, const char *resource, int *c, int *g)
{
	static const char *const paths[] = { "pci/0000:00:00.0/config", "pci/0000:00:03.0/config",
					     "pci/0000:00:03.0/resource", "pci/0000:00:03.0/irq" };
	struct iommu_uapi_options uo = { .noiommu = true };
	struct iommu_error err = { 0 };
	struct cfg host;
	const uint8_t *data[4];
	size_t lens[4];
	int d;

	cfg_init(&host, 256, 0x8086, 0x29c0, 0x060000, 0);
	data[0] = host.b;
	lens[0] = host.size;
	data[1] = cfgp->b;
	lens[1] = cfgp->size;
	data[2] = (const uint8_t *)resource;
	lens[2] = strlen(resource);
	data[3] = (const uint8_t *)"11\n";
	lens[3] = 3;
	memset(y, 0, sizeof(*y));
	if (iommu_platform_load_files("synthetic", 4, paths, data, lens, &y->p, &err))
		fail_msg("%s", err.msg);
	if (iommu_system_build(y->p, NULL, &y->s, &err))
		fail_msg("%s", err.msg);
	if (iommu_uapi_create(y->s, &uo, &y->u, &err))
		fail_msg("%s", err.msg);
	if (iommu_uapi_vfio_bind(y->u, "0000:00:03.0", &err))
		fail_msg("%s", err.msg);
	*c = iommu_uapi_open(y->u, "/dev/vfio/vfio", O_RDWR);
	*g = iommu_uapi_open(y->u, "/dev/vfio/noiommu-0", O_RDWR);
	assert_true(*c >= 0 && *g >= 0);
	assert_int_equal(iommu_uapi_ioctl(y->u, *g, VFIO_GROUP_SET_CONTAINER, (unsigned long)(uintptr_t)c), 0);
	assert_int_equal(iommu_uapi_ioctl(y->u, *c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), 0);
	d = (int)iommu_uapi_ioctl(y->u, *g, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)(uintptr_t)"0000:00:03.0");
	assert_true(d >= 0);
	return d;
}

static void synth_close(struct synth *y, int c, int g, int d)
{
	fd_close(y->u, d);
	fd_close(y->u, g);
	fd_close(y->u, c);
	iommu_uapi_destroy(y->u);
	iommu_system_free(y->s);
	iommu_platform_free(y->p);
}

static const char resource_bar0[] =
	"0x00000000fe000000 0x00000000fe003fff 0x0000000000040200\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

static void test_config_virtualisation(void **state)
{
	struct synth y;
	struct cfg cf;
	uint8_t v[4096];
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	int c, g, d;

	(void)state;
	cfg_init(&cf, 4096, 0x1af4, 0x1041, 0x020000, 0);
	cfg_w16(&cf, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_w32(&cf, PCI_BASE_ADDRESS_0, 0xfe000000);
	cfg_w32(&cf, PCI_BASE_ADDRESS_1, 0xfd000000);   /* no resource behind it */
	cfg_w8(&cf, PCI_INTERRUPT_PIN, 1);
	/* PM with PME support and PME status/enable set, NoSoftRst */
	cfg_add_cap(&cf, 0x40, PCI_CAP_ID_PM);
	cfg_w16(&cf, 0x42, 0xc803);
	cfg_w16(&cf, 0x44, 0x8108);
	/* Enhanced Allocation (0x14): vfio-pci hides it */
	cfg_add_cap(&cf, 0x50, PCI_CAP_ID_EA);
	/* MSI, 64-bit, 8 vectors capable */
	cfg_add_cap(&cf, 0x60, PCI_CAP_ID_MSI);
	cfg_w16(&cf, 0x62, PCI_MSI_FLAGS_64BIT | 0x6);
	cfg_add_pcie(&cf, 0x80, 0);
	/* AER, then L1 PM substates (hidden), then ARI */
	cfg_add_ext_cap(&cf, 0x100, PCI_EXT_CAP_ID_ERR, 2);
	cfg_add_ext_cap(&cf, 0x140, PCI_EXT_CAP_ID_L1SS, 1);
	cfg_add_ext_cap(&cf, 0x180, PCI_EXT_CAP_ID_ARI, 1);
	d = synth_open(&y, &cf, resource_bar0, &c, &g);
	assert_int_equal(iommu_uapi_pread(y.u, d, v, 4096, (off_t)(7ULL << 40)), 4096);
	/* bus mastering off after enable; memory decoding on for BAR0 */
	assert_int_equal(v[PCI_COMMAND] & (PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY), PCI_COMMAND_MEMORY);
	/* BAR1 has no resource: unimplemented to the user */
	assert_int_equal(v[PCI_BASE_ADDRESS_1] | v[PCI_BASE_ADDRESS_1 + 3], 0);
	assert_int_equal(v[PCI_BASE_ADDRESS_0 + 3], 0xfe);
	/* PME support, PME status and enable read 0; NoSoftRst stays */
	assert_int_equal(v[0x42] | v[0x43] << 8, 0x0003);
	assert_int_equal(v[0x44] | v[0x45] << 8, 0x0008);
	/* the EA capability is unlinked: PM's next is MSI */
	assert_int_equal(v[0x41], 0x60);
	assert_int_equal(v[0x50], cf.b[0x50]);      /* its bytes are still there, raw */
	/* AER's next skips L1SS to ARI */
	assert_int_equal((v[0x102] | v[0x103] << 8) >> 4, 0x180);
	assert_int_equal(v[0x180], PCI_EXT_CAP_ID_ARI);
	/* interrupts: MSI count from multiple message capable */
	ii.index = VFIO_PCI_MSI_IRQ_INDEX;
	assert_int_equal(iommu_uapi_ioctl(y.u, d, VFIO_DEVICE_GET_IRQ_INFO, (unsigned long)(uintptr_t)&ii), 0);
	assert_int_equal(ii.count, 8);
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	assert_int_equal(iommu_uapi_ioctl(y.u, d, VFIO_DEVICE_GET_IRQ_INFO, (unsigned long)(uintptr_t)&ii), 0);
	assert_int_equal(ii.count, 1);
	/* root bus, no FLR, NoSoftRst: no reset method */
	assert_int_equal(iommu_uapi_ioctl(y.u, d, VFIO_DEVICE_GET_INFO, (unsigned long)(uintptr_t)&di), 0);
	assert_int_equal(di.flags, VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(iommu_uapi_ioctl(y.u, d, VFIO_DEVICE_RESET, 0), -EINVAL);
	/* a hot reset needs a bridge above the bus */
	{
		struct vfio_pci_hot_reset_info hi = { .argsz = sizeof(hi) };

		assert_int_equal(iommu_uapi_ioctl(y.u, d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
						  (unsigned long)(uintptr_t)&hi), -ENODEV);
	}
	synth_close(&y, c, g, d);

	/* The first extended capability hidden: a placeholder with id 0 that
	 * keeps the next pointer; i40e ids: INTx hidden (vfio_pci_nointx). */
	cfg_init(&cf, 4096, 0x8086, 0x1572, 0x020000, 0);
	cfg_w8(&cf, PCI_INTERRUPT_PIN, 1);
	cfg_add_pcie(&cf, 0x80, 0);
	cfg_add_ext_cap(&cf, 0x100, PCI_EXT_CAP_ID_PTM, 1);
	cfg_add_ext_cap(&cf, 0x140, PCI_EXT_CAP_ID_DSN, 1);
	d = synth_open(&y, &cf, resource_bar0, &c, &g);
	assert_int_equal(iommu_uapi_pread(y.u, d, v, 4096, (off_t)(7ULL << 40)), 4096);
	assert_int_equal(v[0x100] | v[0x101], 0);
	assert_int_equal((v[0x102] | v[0x103] << 8) >> 4, 0x140);
	assert_int_equal(v[0x140], PCI_EXT_CAP_ID_DSN);
	assert_int_equal(v[PCI_INTERRUPT_PIN], 0);
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	assert_int_equal(iommu_uapi_ioctl(y.u, d, VFIO_DEVICE_GET_IRQ_INFO, (unsigned long)(uintptr_t)&ii), 0);
	assert_int_equal(ii.count, 0);
	/* INTx disabled in the device (pci_intx(pdev, 0)) */
	assert_true(v[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8));
	synth_close(&y, c, g, d);
}

/* --- the process memory model -------------------------------------------------- */

static void test_mm(void **state)
{
	struct fx x;
	uint8_t *buf = mmap(NULL, 0x3000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a, b, again, e, back;

	(void)state;
	fx_load(&x, "i-vfio", NULL, NULL, NULL);
	memset(buf, 0x5a, 0x3000);
	assert_int_equal(uapi_mm_check(x.u->mm, (uintptr_t)buf, 0x3000, true), 0);
	assert_int_equal(uapi_mm_check(x.u->mm, 16, 0x1000, false), -EFAULT);
	assert_int_equal(uapi_mm_pin(x.u->mm, (uintptr_t)buf, true, &a), 0);
	assert_int_equal(uapi_mm_pin(x.u->mm, (uintptr_t)buf, true, &again), 0);
	assert_true(a == again);        /* one page, one frame */
	assert_int_equal(uapi_mm_pinned(x.u->mm), 2);
	assert_true((a << 12) >= x.u->pool_base && (a << 12) < x.u->pool_end);
	/* the frame holds the page's bytes */
	assert_int_equal(iommu_mem_read(x.u->mem, a << 12, &back, 8), 0);
	assert_true(back == 0x5a5a5a5a5a5a5a5aULL);
	/* a device write through the frame lands in the page */
	assert_int_equal(uapi_mm_dma(x.u->mm, (a << 12) + 8, "abc", 4, true), 0);
	assert_string_equal((char *)buf + 8, "abc");
	uapi_mm_unpin(x.u->mm, a);
	uapi_mm_unpin(x.u->mm, a);
	assert_int_equal(uapi_mm_pinned(x.u->mm), 0);
	/* the freed frame is the next one given */
	assert_int_equal(uapi_mm_pin(x.u->mm, (uintptr_t)buf + 0x1000, true, &b), 0);
	assert_true(b == a);
	uapi_mm_unpin(x.u->mm, b);
	/* pagemap: present bit and a frame that stays */
	e = uapi_mm_pagemap_entry(x.u->mm, (uintptr_t)buf + 0x2000);
	assert_true(e >> 63);
	assert_int_equal(uapi_mm_pin(x.u->mm, (uintptr_t)buf + 0x2000, true, &again), 0);
	assert_true(again == (e & ((1ULL << 55) - 1)));
	uapi_mm_unpin(x.u->mm, again);
	assert_true(uapi_mm_pagemap_entry(x.u->mm, (uintptr_t)buf + 0x2000) == e);
	fx_free(&x);
	munmap(buf, 0x3000);
}

/* --- descriptors --------------------------------------------------------------- */

static void test_descriptors(void **state)
{
	struct fx x;
	int c, g, d, nul, c2;
	uint8_t *buf = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = RW, .iova = 0x100000,
					      .size = 0x1000, .vaddr = (uintptr_t)buf };

	(void)state;
	fx_load(&x, "i-vfio", NULL, NULL, "0000:03:00.0");
	/* A number the host closed and reused is not the model's any more. */
	c = iommu_uapi_open(x.u, "/dev/vfio/vfio", O_RDWR);
	assert_true(c >= 0);
	close(c);
	nul = open("/dev/null", O_RDWR);
	assert_int_equal(nul, c);
	assert_false(iommu_uapi_is_fd(x.u, nul));
	assert_int_equal(iommu_uapi_ioctl(x.u, nul, VFIO_GET_API_VERSION, 0), -EBADF);
	close(nul);
	assert_int_equal(iommu_uapi_close(x.u, 12345), -EBADF);
	assert_int_equal(iommu_uapi_ioctl(x.u, -1, VFIO_GET_API_VERSION, 0), -EBADF);
	/* dup: both numbers name the container */
	c = iommu_uapi_open(x.u, "/dev/vfio/vfio", O_RDWR);
	c2 = dup(c);
	assert_int_equal(iommu_uapi_dup(x.u, c, c2), 0);
	fd_close(x.u, c);
	assert_int_equal(iommu_uapi_ioctl(x.u, c2, VFIO_GET_API_VERSION, 0), 0);
	/* Everything left open at destroy: the group's DMA ownership goes
	 * back and nothing leaks (the sanitizer run checks). */
	g = iommu_uapi_open(x.u, "/dev/vfio/5", O_RDWR);
	assert_int_equal(iommu_uapi_ioctl(x.u, g, VFIO_GROUP_SET_CONTAINER, (unsigned long)(uintptr_t)&c2), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c2, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(iommu_uapi_ioctl(x.u, c2, VFIO_IOMMU_MAP_DMA, (unsigned long)(uintptr_t)&m), 0);
	d = (int)iommu_uapi_ioctl(x.u, g, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)(uintptr_t)"0000:03:00.0");
	assert_true(d >= 0);
	assert_true(iommu_group_dma_owner_claimed(x.s->groups[5]));
	assert_int_equal(uapi_mm_pinned(x.u->mm), 1);
	iommu_uapi_destroy(x.u);
	x.u = NULL;
	assert_false(iommu_group_dma_owner_claimed(x.s->groups[5]));
	assert_true(iommu_group_domain(x.s->groups[5]) == iommu_group_default_domain(x.s->groups[5]));
	fx_free(&x);
	munmap(buf, 0x1000);
}

/* --- the tree -------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int height_ok(const struct uapi_tree_node *n)
{
	int l, r;

	if (!n)
		return 0;
	l = height_ok(n->left);
	r = height_ok(n->right);
	assert_true(l - r <= 1 && r - l <= 1);
	assert_int_equal(n->height, (l > r ? l : r) + 1);
	if (n->left)
		assert_true(n->left->parent == n && n->left->key <= n->key);
	if (n->right)
		assert_true(n->right->parent == n && n->right->key >= n->key);
	return n->height;
}

static void test_tree(void **state)
{
	enum { N = 600 };
	struct uapi_tree t = { 0 };
	struct uapi_tree_node nodes[N];
	bool in[N] = { false };
	uint64_t keys[N];
	unsigned seed = 12345;

	(void)state;
	for (int i = 0; i < N; i++)
		nodes[i].key = (uint64_t)i * 0x1000 + 0x1000;
	for (int step = 0; step < 6000; step++) {
		int i;
		size_t n = 0;
		struct uapi_tree_node *it;
		uint64_t probe;

		seed = seed * 1103515245u + 12345u;
		i = (int)((seed >> 8) % N);
		if (in[i])
			uapi_tree_erase(&t, &nodes[i]);
		else
			uapi_tree_insert(&t, &nodes[i]);
		in[i] = !in[i];
		if (step % 97)
			continue;
		height_ok(t.root);
		for (int k = 0; k < N; k++)
			if (in[k])
				keys[n++] = nodes[k].key;
		qsort(keys, n, sizeof(keys[0]), cmp_u64);
		assert_int_equal(t.count, n);
		it = uapi_tree_first(&t);
		for (size_t k = 0; k < n; k++, it = uapi_tree_next(it))
			assert_true(it && it->key == keys[k]);
		assert_null(it);
		/* le / ge against the sorted keys */
		probe = (uint64_t)((seed >> 4) % (N * 0x1000 + 0x2000));
		it = uapi_tree_le(&t, probe);
		{
			uint64_t want = 0;
			bool have = false;

			for (size_t k = 0; k < n; k++)
				if (keys[k] <= probe) {
					want = keys[k];
					have = true;
				}
			assert_true(have ? it && it->key == want : it == NULL);
		}
		it = uapi_tree_ge(&t, probe);
		if (it && uapi_tree_prev(it))
			assert_true(uapi_tree_prev(it)->key < probe);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_kernfs_order),
		cmocka_unit_test(test_info_versions),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_two_groups),
		cmocka_unit_test(test_config_virtualisation),
		cmocka_unit_test(test_mm),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
