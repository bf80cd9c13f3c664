// SPDX-License-Identifier: MIT
/*
 * iommufd (/dev/iommu) and the VFIO device cdev in-process, through the
 * calls of include/iommu/uapi.h, against the kernel's captures modelled
 * as kernel 6.12.  Each expectation names the kernel rule (reference
 * section 9, "ref U1".."U18" of its table 10.8, or the kernel function).
 * The same ioctls through real system calls are in
 * tests/vfio/iommufd_api_test.c (run under `iommu run`); here the model
 * is looked at from inside as well: frames shared between IOVAs and
 * between type1 and iommufd, DMA through the modelled IOMMU, DMA
 * ownership of the groups, nothing left behind after close.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "helpers.h"
#include "iommu/core.h"
#include "iommu/uapi.h"
#include "uapi/internal.h"

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED IOMMU_IOAS_MAP_FIXED_IOVA
#define PG 4096ul

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

static long ioc(struct fx *x, int fd, unsigned long req, const void *arg)
{
	return iommu_uapi_ioctl(x->u, fd, req, (unsigned long)(uintptr_t)arg);
}

static void fd_close(struct fx *x, int fd)
{
	assert_int_equal(iommu_uapi_close(x->u, fd), 0);
	close(fd);
}

static int open_iommufd(struct fx *x)
{
	int fd = iommu_uapi_open(x->u, "/dev/iommu", O_RDWR);

	assert_true(fd >= 0);
	return fd;
}

static uint32_t ioas_alloc(struct fx *x, int fd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	assert_int_equal(ioc(x, fd, IOMMU_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

static long destroy(struct fx *x, int fd, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return ioc(x, fd, IOMMU_DESTROY, &d);
}

static long map(struct fx *x, int fd, uint32_t ioas, uint32_t flags, const void *va, uint64_t len,
		uint64_t *iova)
{
	struct iommu_ioas_map m = { .size = sizeof(m), .flags = flags, .ioas_id = ioas,
		.user_va = (uintptr_t)va, .length = len, .iova = iova ? *iova : 0 };
	long r = ioc(x, fd, IOMMU_IOAS_MAP, &m);

	if (!r && iova)
		*iova = m.iova;
	return r;
}

static long unmap(struct fx *x, int fd, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *done)
{
	struct iommu_ioas_unmap m = { .size = sizeof(m), .ioas_id = ioas, .iova = iova, .length = len };
	long r = ioc(x, fd, IOMMU_IOAS_UNMAP, &m);

	if (done)
		*done = m.length;
	return r;
}

/* Open /dev/vfio/devices/vfio@n and bind it to @ifd: the bind's result;
 * *cfd stays open. */
static long bind(struct fx *x, int n, int ifd, int *cfd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = ifd };
	char path[64];
	long r;

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", n);
	*cfd = iommu_uapi_open(x->u, path, O_RDWR);
	assert_true(*cfd >= 0);
	r = ioc(x, *cfd, VFIO_DEVICE_BIND_IOMMUFD, &b);
	if (!r && devid)
		*devid = b.out_devid;
	return r;
}

static long attach(struct fx *x, int cfd, uint32_t *pt)
{
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a), .pt_id = *pt };
	long r = ioc(x, cfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!r)
		*pt = a.pt_id;
	return r;
}

static long detach(struct fx *x, int cfd)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return ioc(x, cfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

static void bus_master(struct fx *x, int cfd)
{
	uint16_t cmd = 0;
	off_t at = (off_t)(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + PCI_COMMAND);

	assert_int_equal(iommu_uapi_pread(x->u, cfd, &cmd, 2, at), 2);
	cmd |= PCI_COMMAND_MASTER;
	assert_int_equal(iommu_uapi_pwrite(x->u, cfd, &cmd, 2, at), 2);
}

static void *pages(size_t n)
{
	void *p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* A 2 MiB-aligned region of @len bytes (munmap with unpages). */
static void *aligned_pages(size_t len, size_t align, void **base, size_t *blen)
{
	uint8_t *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	*base = p;
	*blen = len + align;
	return p + ((align - ((uintptr_t)p & (align - 1))) & (align - 1));
}

struct ranges {
	uint32_t n;
	struct iommu_iova_range r[16];
	uint64_t align;
};

static long iova_ranges(struct fx *x, int fd, uint32_t ioas, uint32_t cap, struct ranges *out)
{
	struct iommu_ioas_iova_ranges q = { .size = sizeof(q), .ioas_id = ioas, .num_iovas = cap,
		.allowed_iovas = (uintptr_t)out->r };
	long r = ioc(x, fd, IOMMU_IOAS_IOVA_RANGES, &q);

	out->n = q.num_iovas;
	out->align = q.out_iova_alignment;
	return r;
}

/* i-vfio as 6.12: 03:00.0 (group 5, alone) is vfio0, 02:01.0 (group 4,
 * with 02:02.0 held by 8139cp) is vfio1. */
#define IVFIO_BINDS "0000:03:00.0,0000:02:01.0"

/* --- ids and the ioctl framework ------------------------------------------ */

static void test_ids(void **state)
{
	struct fx x;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	fd = open_iommufd(&x);
	/* ref U1: xarray ALLOC1, lowest free id, shared by every kind */
	assert_int_equal(ioas_alloc(&x, fd), 1);
	assert_int_equal(ioas_alloc(&x, fd), 2);
	assert_int_equal(destroy(&x, fd, 1), 0);
	assert_int_equal(ioas_alloc(&x, fd), 1);
	assert_int_equal(ioas_alloc(&x, fd), 3);
	/* ref U12 / iommufd_object_remove: no such id */
	assert_int_equal(destroy(&x, fd, 999), -ENOENT);
	assert_int_equal(destroy(&x, fd, 0), -ENOENT);
	assert_int_equal(destroy(&x, fd, 2), 0);
	assert_int_equal(destroy(&x, fd, 2), -ENOENT);
	/* a failed ioctl gives its reserved id back: IOAS_ALLOC whose answer
	 * cannot be written (iommufd_object_abort_and_destroy) */
	{
		struct iommu_ioas_alloc *ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ro->size = sizeof(*ro);
		assert_int_equal(mprotect(ro, PG, PROT_READ), 0);
		assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOC, ro), -EFAULT);
		munmap(ro, PG);
		assert_int_equal(ioas_alloc(&x, fd), 2);
	}
	fd_close(&x, fd);
	/* a new file starts again from 1 */
	fd = open_iommufd(&x);
	assert_int_equal(ioas_alloc(&x, fd), 1);
	fd_close(&x, fd);
	fx_free(&x);
}

static void test_ucmd_rules(void **state)
{
	struct iommu_ioas_alloc a;
	struct {
		struct iommu_ioas_alloc a;
		uint32_t tail[3];
	} big;
	struct fx x;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	fd = open_iommufd(&x);
	/* ref U3 / iommufd_fops_ioctl: below offsetofend(out_ioas_id) */
	a = (struct iommu_ioas_alloc){ .size = 8 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOC, &a), -EINVAL);
	a.size = 0;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOC, &a), -EINVAL);
	/* copy_struct_from_user: a larger struct whose unknown tail is not
	 * zero is -E2BIG; zero tail is fine and the answer is cut to the
	 * caller's size (only the kernel's 12 bytes are written) */
	memset(&big, 0, sizeof(big));
	big.a.size = sizeof(big);
	big.tail[1] = 1;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOC, &big), -E2BIG);
	big.tail[1] = 0;
	big.tail[2] = 0xdeadbeef;
	big.a.size = sizeof(big.a) + 8;         /* the tail past size is not looked at */
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOC, &big), 0);
	assert_int_equal(big.a.out_ioas_id, 1);
	assert_int_equal(big.tail[2], 0xdeadbeef);
	/* get_user of the size: -EFAULT */
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, IOMMU_IOAS_ALLOC, 8), -EFAULT);
	/* ref U2: flags */
	a = (struct iommu_ioas_alloc){ .size = sizeof(a), .flags = 1 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOC, &a), -EOPNOTSUPP);
	/* a number the table does not know: nr past the table goes to the
	 * VFIO compat handler, which does not know it either (-ENOIOCTLCMD);
	 * nr inside the table with another encoding is -ENOIOCTLCMD */
	a = (struct iommu_ioas_alloc){ .size = sizeof(a) };
	assert_int_equal(ioc(&x, fd, _IO(IOMMUFD_TYPE, 0x8f), &a), -ENOTTY);
	assert_int_equal(ioc(&x, fd, _IO(IOMMUFD_TYPE, 0xa0), &a), -ENOTTY);
	assert_int_equal(ioc(&x, fd, _IOW(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC, struct iommu_ioas_alloc), &a),
			 -ENOTTY);
	assert_int_equal(ioc(&x, fd, _IO('x', 0x81), &a), -ENOTTY);
	/* a descriptor the model does not know */
	assert_int_equal(iommu_uapi_ioctl(x.u, 1000, IOMMU_IOAS_ALLOC, (unsigned long)(uintptr_t)&a), -EBADF);
	fd_close(&x, fd);
	fx_free(&x);
}

static void test_versions(void **state)
{
	struct iommu_hwpt_invalidate inv = { .size = sizeof(inv) };
	struct fx x;
	int fd;

	(void)state;
	/* iommufd came in 6.2: a 6.1 system has no /dev/iommu */
	fx_load(&x, "i-vfio", NULL, NULL, IVFIO_BINDS);
	assert_int_equal(iommu_uapi_open(x.u, "/dev/iommu", O_RDWR), -ENOENT);
	/* nor VFIO device cdevs (6.6) */
	assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/devices/vfio0", O_RDWR), -ENOENT);
	fx_free(&x);
	/* 6.6: HWPT_ALLOC and GET_HW_INFO, not HWPT_INVALIDATE (6.8) */
	fx_load(&x, "i-vfio", "6.6", NULL, IVFIO_BINDS);
	fd = open_iommufd(&x);
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_INVALIDATE, &inv), -ENOTTY);
	fd_close(&x, fd);
	fx_free(&x);
	/* 6.12: HWPT_INVALIDATE exists (no nested HWPT: -ENOENT) */
	fx_load(&x, "i-vfio", "6.12", NULL, IVFIO_BINDS);
	fd = open_iommufd(&x);
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_INVALIDATE, &inv), -ENOENT);
	/* the device nodes: a misc char device and vfio-dev minors */
	{
		struct stat st;
		int c = iommu_uapi_open(x.u, "/dev/vfio/devices/vfio1", O_RDWR);

		assert_int_equal(iommu_uapi_fstat(x.u, fd, &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(major(st.st_rdev), 10);
		assert_true(c >= 0);
		assert_int_equal(iommu_uapi_fstat(x.u, c, &st), 0);
		assert_int_equal(minor(st.st_rdev), 1);
		fd_close(&x, c);
		assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/devices/vfio2", O_RDWR), -ENOENT);
		assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/devices/vfio01", O_RDWR), -ENOENT);
		assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/devices/foo", O_RDWR), -ENOENT);
	}
	fd_close(&x, fd);
	fx_free(&x);
}

/* --- IOAS without a domain ----------------------------------------------------- */

static void test_iova_ranges_fresh(void **state)
{
	struct iommu_ioas_iova_ranges q;
	struct ranges r;
	struct fx x;
	uint32_t ioas;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	fd = open_iommufd(&x);
	ioas = ioas_alloc(&x, fd);
	/* ref U4: capacity 0 -> -EMSGSIZE with the count and the alignment
	 * written back; capacity 1 -> the whole 64-bit space */
	assert_int_equal(iova_ranges(&x, fd, ioas, 0, &r), -EMSGSIZE);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.align, 1);
	assert_int_equal(iova_ranges(&x, fd, ioas, 1, &r), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.r[0].start == 0 && r.r[0].last == UINT64_MAX);
	q = (struct iommu_ioas_iova_ranges){ .size = sizeof(q), .ioas_id = ioas, .__reserved = 1 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_IOVA_RANGES, &q), -EOPNOTSUPP);
	/* an id that is not an IOAS: iommufd_get_ioas -ENOENT */
	assert_int_equal(iova_ranges(&x, fd, 77, 1, &r), -ENOENT);
	/* the ranges array unwritable */
	q = (struct iommu_ioas_iova_ranges){ .size = sizeof(q), .ioas_id = ioas, .num_iovas = 1,
		.allowed_iovas = 16 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_IOVA_RANGES, &q), -EFAULT);
	fd_close(&x, fd);
	fx_free(&x);
}

static void test_map_rules(void **state)
{
	uint8_t *buf = pages(8), *huge;
	void *hb;
	size_t hl;
	struct iommu_ioas_map m;
	struct fx x;
	uint64_t iova, done;
	uint32_t ioas;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	fd = open_iommufd(&x);
	ioas = ioas_alloc(&x, fd);
	/* ref U6 / iommufd_ioas_map, in the kernel's order */
	assert_int_equal(map(&x, fd, ioas, 0, buf, PG, NULL), -EINVAL);         /* no R/W */
	assert_int_equal(map(&x, fd, ioas, RW | 8, buf, PG, NULL), -EOPNOTSUPP); /* unknown flag */
	m = (struct iommu_ioas_map){ .size = sizeof(m), .flags = RW, .ioas_id = ioas,
		.__reserved = 1, .user_va = (uintptr_t)buf, .length = PG };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_MAP, &m), -EOPNOTSUPP);
	iova = UINT64_MAX;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, PG, &iova), -EOVERFLOW);
	assert_int_equal(map(&x, fd, ioas, RW, buf, UINT64_MAX, NULL), -EOVERFLOW);
	assert_int_equal(map(&x, fd, 42, RW, buf, PG, NULL), -ENOENT);
	assert_int_equal(map(&x, fd, ioas, RW, buf, 0, NULL), -EINVAL);            /* iopt_alloc_pages */
	assert_int_equal(map(&x, fd, ioas, RW, (void *)(uintptr_t)-PG, 2 * PG, NULL), -EOVERFLOW);
	/* ref U7: automatic IOVAs bottom-up from PAGE_SIZE */
	iova = 0;
	assert_int_equal(map(&x, fd, ioas, RW, buf, PG, &iova), 0);
	assert_int_equal(iova, 0x1000);
	assert_int_equal(map(&x, fd, ioas, RW, buf + PG, PG, &iova), 0);
	assert_int_equal(iova, 0x2000);
	/* the IOVA keeps the VA's offset in its page; alignment is the
	 * lowest set bit of the VA (iopt_alloc_iova) */
	assert_int_equal(map(&x, fd, ioas, RW, buf + 2 * PG + 0x10, 0x20, &iova), 0);
	assert_int_equal(iova, 0x3010);
	/* ref U8: FIXED over an area -EEXIST; the alignment with no domain
	 * is 1, so any byte address is fine otherwise */
	iova = 0x1800;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, PG, &iova), -EEXIST);
	iova = 0x100001;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf + 1, 7, &iova), 0);
	/* 2 MiB of a 2 MiB-aligned VA lands on a 2 MiB IOVA (THP); 8 MiB
	 * aligned to 8 MiB is capped at HPAGE_SIZE alignment */
	huge = aligned_pages(8u << 20, 8u << 20, &hb, &hl);
	assert_int_equal(map(&x, fd, ioas, RW, huge, 2u << 20, &iova), 0);
	assert_int_equal(iova, 0x200000);
	assert_int_equal(map(&x, fd, ioas, RW, huge, 8u << 20, &iova), 0);
	assert_int_equal(iova, 0x400000);
	/* ref U9: an UNMAP covering half an area -ENOENT; U11: nothing there */
	assert_int_equal(unmap(&x, fd, ioas, 0x400000, 4u << 20, NULL), -ENOENT);
	assert_int_equal(unmap(&x, fd, ioas, 0x40000000, PG, NULL), -ENOENT);
	assert_int_equal(unmap(&x, fd, ioas, 0x1000, 0, NULL), -EINVAL);
	assert_int_equal(unmap(&x, fd, ioas, 0x1000, UINT64_MAX - 1, NULL), -EOVERFLOW);
	assert_int_equal(unmap(&x, fd, ioas, UINT64_MAX, 1, NULL), -EOVERFLOW);
	/* whole areas inside the range go; the answer is the bytes unmapped */
	assert_int_equal(unmap(&x, fd, ioas, 0x1000, 0x3000, &done), 0);
	assert_int_equal(done, 0x2020);
	/* not atomic: areas fully inside before the partial one are gone */
	assert_int_equal(unmap(&x, fd, ioas, 0x100000, 0x500000, NULL), -ENOENT);
	iova = 0x100001;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf + 1, 7, &iova), 0);    /* was unmapped */
	/* ref U10: everything with iova 0, length U64_MAX */
	assert_int_equal(unmap(&x, fd, ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 7 + (8u << 20));     /* the 2 MiB area went above */
	assert_int_equal(unmap(&x, fd, ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 0);
	/* an unmapped user range maps while no domain pins it (pins happen
	 * when a domain is filled) */
	assert_int_equal(map(&x, fd, ioas, RW, (void *)0x10000, PG, &iova), 0);
	fd_close(&x, fd);
	fx_free(&x);
	munmap(hb, hl);
	munmap(buf, 8 * PG);
}

static void test_allow_and_copy(void **state)
{
	void *bb;
	size_t bl;
	uint8_t *buf = aligned_pages(16 * PG, 64 * 1024, &bb, &bl);
	struct iommu_iova_range allow[2] = { { 0x10000000, 0x1fffffff }, { 0x1000, 0x1fff } };
	struct iommu_ioas_allow_iovas a;
	struct iommu_ioas_copy c;
	struct fx x;
	uint64_t iova;
	uint32_t src, dst;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	fd = open_iommufd(&x);
	src = ioas_alloc(&x, fd);
	dst = ioas_alloc(&x, fd);
	/* iommufd_ioas_load_iovas: start < last, no two ranges meeting */
	a = (struct iommu_ioas_allow_iovas){ .size = sizeof(a), .ioas_id = dst, .num_iovas = 1,
		.allowed_iovas = (uintptr_t)allow };
	allow[0].last = allow[0].start;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOW_IOVAS, &a), -EINVAL);
	allow[0].last = 0x1fffffff;
	allow[1] = (struct iommu_iova_range){ 0x1f000000, 0x2fffffff };
	a.num_iovas = 2;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOW_IOVAS, &a), -EINVAL);
	a.__reserved = 1;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOW_IOVAS, &a), -EOPNOTSUPP);
	a.__reserved = 0;
	allow[1] = (struct iommu_iova_range){ 0x40000000, 0x40003fff };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOW_IOVAS, &a), 0);
	/* automatic IOVAs only inside allowed ranges; FIXED ones anywhere */
	iova = 0;
	assert_int_equal(map(&x, fd, dst, RW, buf, PG, &iova), 0);
	assert_int_equal(iova, 0x10000000);
	iova = 0x5000;
	assert_int_equal(map(&x, fd, dst, RW | FIXED, buf, PG, &iova), 0);
	/* ref U17: COPY needs the source contiguously covered (-ENOENT) */
	iova = 0x100000;
	assert_int_equal(map(&x, fd, src, RW | FIXED, buf, 4 * PG, &iova), 0);
	iova = 0x104000;
	assert_int_equal(map(&x, fd, src, IOMMU_IOAS_MAP_READABLE | FIXED, buf + 4 * PG, 4 * PG, &iova), 0);
	c = (struct iommu_ioas_copy){ .size = sizeof(c), .flags = RW, .dst_ioas_id = dst,
		.src_ioas_id = src, .length = 9 * PG, .src_iova = 0x100000 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &c), -ENOENT);
	/* two areas back to back, writeable copy of the read-only one: -EPERM */
	c.length = 8 * PG;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &c), -EPERM);
	c.flags = IOMMU_IOAS_MAP_READABLE;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &c), 0);
	/* 32 KiB aligned to 32 KiB (the VA's alignment), after the first
	 * map in the first allowed range */
	assert_int_equal(c.dst_iova, 0x10008000);
	c.flags = 0;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &c), -EINVAL);
	c.flags = RW | 0x10;
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &c), -EOPNOTSUPP);
	c = (struct iommu_ioas_copy){ .size = sizeof(c), .flags = IOMMU_IOAS_MAP_READABLE, .dst_ioas_id = 99,
		.src_ioas_id = src, .length = PG, .src_iova = 0x100000 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &c), -ENOENT);
	/* the source IOAS gone, the copy keeps the pages */
	assert_int_equal(destroy(&x, fd, src), 0);
	assert_int_equal(unmap(&x, fd, dst, 0x10008000, 8 * PG, NULL), 0);
	fd_close(&x, fd);
	fx_free(&x);
	munmap(bb, bl);
}

/* --- devices and domains ------------------------------------------------- */

static void test_bind_rules(void **state)
{
	struct vfio_device_bind_iommufd b;
	struct fx x;
	int fd, c0, c1, g, other;
	uint32_t devid;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, IVFIO_BINDS);
	fd = open_iommufd(&x);
	c0 = iommu_uapi_open(x.u, "/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(c0 >= 0);
	/* before BIND_IOMMUFD the file does nothing (access_granted) */
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };
		char byte;

		assert_int_equal(ioc(&x, c0, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
		assert_int_equal(ioc(&x, c0, VFIO_DEVICE_DETACH_IOMMUFD_PT, &info), -EINVAL);
		assert_int_equal(iommu_uapi_pread(x.u, c0, &byte, 1, (off_t)(7ULL << 40)), -EINVAL);
	}
	/* vfio_df_ioctl_bind_iommufd: argsz, flags, a negative fd */
	b = (struct vfio_device_bind_iommufd){ .argsz = 12, .iommufd = fd };
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	b = (struct vfio_device_bind_iommufd){ .argsz = sizeof(b), .flags = 1, .iommufd = fd };
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	b = (struct vfio_device_bind_iommufd){ .argsz = sizeof(b), .iommufd = -1 };
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	/* iommufd_ctx_from_fd: not open -EBADF, not an iommufd -EBADFD */
	b.iommufd = 999;
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EBADF);
	other = iommu_uapi_open(x.u, "/dev/vfio/vfio", O_RDWR);
	b.iommufd = other;
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EBADFD);
	b.iommufd = 0;          /* stdin: a host file */
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EBADFD);
	/* the group file open: vfio_device_block_group -EBUSY */
	g = iommu_uapi_open(x.u, "/dev/vfio/5", O_RDWR);
	assert_true(g >= 0);
	b.iommufd = fd;
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EBUSY);
	fd_close(&x, g);
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	devid = b.out_devid;
	assert_int_equal(devid, 1);
	/* bound: the group cannot be opened, the device not bound twice */
	assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/5", O_RDWR), -EBUSY);
	assert_int_equal(ioc(&x, c0, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
	/* another cdev file of the same device: it is open already */
	{
		int c0b = iommu_uapi_open(x.u, "/dev/vfio/devices/vfio0", O_RDWR);

		assert_int_equal(ioc(&x, c0b, VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
		fd_close(&x, c0b);
	}
	/* ref 9.3 DESTROY: a bound device is held by its driver */
	assert_int_equal(destroy(&x, fd, devid), -EBUSY);
	/* 02:01.0's group has 8139cp bound to 02:02.0: a DMA-API driver,
	 * iommu_device_claim_dma_owner -EPERM (ref U15 / 8.1) */
	assert_int_equal(bind(&x, 1, fd, &c1, NULL), -EPERM);
	fd_close(&x, c1);
	/* the iommufd descriptor closed: the bound device keeps the
	 * context; closing the device gives the group back */
	fd_close(&x, fd);
	assert_int_equal(iommu_uapi_open(x.u, "/dev/vfio/5", O_RDWR), -EBUSY);
	fd_close(&x, c0);
	g = iommu_uapi_open(x.u, "/dev/vfio/5", O_RDWR);
	assert_true(g >= 0);
	fd_close(&x, g);
	fd_close(&x, other);
	fx_free(&x);
}

static void test_bind_owner(void **state)
{
	struct fx x;
	int a, b, c0, c1, c2;

	(void)state;
	/* lx-intel-server 02:00.0-2 share group 11 */
	fx_load(&x, "lx-intel-server", "6.12", NULL, "0000:02:00.0,0000:02:00.1,0000:02:00.2");
	a = open_iommufd(&x);
	b = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, a, &c0, NULL), 0);
	/* ref 9.4: devices of one group bind to the same context; another
	 * context -EPERM (iommu_device_claim_dma_owner) */
	assert_int_equal(bind(&x, 1, b, &c1, NULL), -EPERM);
	assert_int_equal(bind(&x, 2, a, &c2, NULL), 0);
	fd_close(&x, c0);
	fd_close(&x, c2);
	/* the last device gone, another context may own the group */
	assert_int_equal(ioc(&x, c1, VFIO_DEVICE_BIND_IOMMUFD,
			     &(struct vfio_device_bind_iommufd){ .argsz = 16, .iommufd = b }), 0);
	fd_close(&x, c1);
	fd_close(&x, a);
	fd_close(&x, b);
	fx_free(&x);
}

/* The capture bound 09:00.0 (an RMRR, direct) and 00:14.0 (xHCI: the
 * RMRR is relaxable) to vfio-pci on 6.12. */
static void test_bind_rmrr(void **state)
{
	struct ranges r;
	struct fx x;
	uint32_t ioas, pt;
	int fd, c0, c1;

	(void)state;
	fx_load(&x, "lx-intel-server-rmrr-vfio-k612", NULL, NULL, "0000:09:00.0,0000:00:14.0");
	fd = open_iommufd(&x);
	/* ref R3 / 9.4: the blocking domain refused for a direct region
	 * (require_direct, 6.5+): -EINVAL, with the kernel's warning */
	assert_int_equal(bind(&x, 0, fd, &c0, NULL), -EINVAL);
	{
		bool logged = false;

		for (size_t i = 0; i < iommu_uapi_log_count(x.u); i++)
			logged |= strstr(iommu_uapi_log_line(x.u, i), "0000:09:00.0: Firmware has requested this device have a 1:1 IOMMU mapping") != NULL;
		assert_true(logged);
	}
	/* a relaxable region is no obstacle, and is not reserved in the IOAS
	 * (iopt_table_enforce_dev_resv_regions skips DIRECT_RELAXABLE) */
	assert_int_equal(bind(&x, 1, fd, &c1, NULL), 0);
	ioas = ioas_alloc(&x, fd);
	pt = ioas;
	assert_int_equal(attach(&x, c1, &pt), 0);
	assert_int_equal(iova_ranges(&x, fd, ioas, 16, &r), 0);
	assert_int_equal(r.r[0].start, 0);
	assert_int_equal(r.r[0].last, 0xfedfffff);
	fd_close(&x, c0);
	fd_close(&x, c1);
	fd_close(&x, fd);
	fx_free(&x);
}

static void test_attach_auto_domain(void **state)
{
	uint8_t *buf = pages(4), back[8];
	struct iommu_uapi_dma_result res;
	struct ranges r;
	struct fx x;
	uint32_t ioas, pt, pt2, dev0, dev1;
	uint64_t iova;
	int fd, c0, c1;

	(void)state;
	/* two isolated devices behind one VT-d unit: 01:00.0 and 03:00.0 */
	fx_load(&x, "lx-intel-server", "6.12", NULL, "0000:01:00.0,0000:03:00.0");
	fd = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, fd, &c0, &dev0), 0);
	assert_int_equal(bind(&x, 1, fd, &c1, &dev1), 0);
	ioas = ioas_alloc(&x, fd);
	assert_int_equal(dev0, 1);
	assert_int_equal(dev1, 2);
	assert_int_equal(ioas, 3);
	memcpy(buf, "abcdefg", 8);
	iova = 0x10000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, 4 * PG, &iova), 0);
	/* ref 9.4 / U14: an IOAS id gets an automatic HWPT, the next id */
	pt = ioas;
	assert_int_equal(attach(&x, c0, &pt), 0);
	assert_int_equal(pt, 4);
	/* ... and the second device of the same IOMMU reuses it */
	pt2 = ioas;
	assert_int_equal(attach(&x, c1, &pt2), 0);
	assert_int_equal(pt2, 4);
	/* ref U5: the domain's width caps the top, the MSI window is a hole,
	 * 4 KiB alignment */
	assert_int_equal(iova_ranges(&x, fd, ioas, 16, &r), 0);
	assert_int_equal(r.align, 4096);
	assert_true(r.n >= 2);
	assert_int_equal(r.r[0].start, 0);
	assert_int_equal(r.r[0].last, 0xfedfffff);
	assert_int_equal(r.r[1].start, 0xfef00000);
	{
		struct iommu_domain_geometry geo;
		struct iommu_device_info *di =
			iommu_system_device(x.s, iommu_platform_find_device(x.p, (struct iommu_pci_addr){ 0, 1, 0 }));

		iommu_domain_get_geometry(iommu_group_domain(di->group), &geo);
		assert_int_equal(r.r[r.n - 1].last, geo.aperture_end);
	}
	/* the device's DMA goes through the domain to the user's page */
	bus_master(&x, c0);
	bus_master(&x, c1);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x10000, back, 8, false, &res), 0);
	assert_string_equal((char *)back, "abcdefg");
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:03:00.0", 0x11000, "xyz", 4, true, &res), 0);
	assert_string_equal((char *)buf + PG, "xyz");
	/* an IOVA not mapped faults */
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:03:00.0", 0x20000, back, 8, false, &res), -EFAULT);
	/* mapping while attached pins and maps at once */
	iova = 0;
	assert_int_equal(map(&x, fd, ioas, IOMMU_IOAS_MAP_READABLE, buf + 2 * PG, PG, &iova), 0);
	assert_int_equal(iova, 0x1000);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x1000, back, 8, false, &res), 0);
	/* read-only: the device may not write */
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x1000, back, 8, true, &res), -EFAULT);
	/* FIXED into the MSI window: reserved, -EINVAL (ref U8) */
	iova = 0xfee00000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, PG, &iova), -EINVAL);
	/* a byte offset is no longer possible with a 4 KiB domain */
	iova = 0x80000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf + 1, PG, &iova), -EINVAL);
	/* ref U12: the IOAS is held by the HWPT, the HWPT by its devices */
	assert_int_equal(destroy(&x, fd, ioas), -EBUSY);
	assert_int_equal(destroy(&x, fd, pt), -EBUSY);
	assert_int_equal(destroy(&x, fd, dev0), -EBUSY);
	/* ref U13: allowing a range over the MSI window */
	{
		struct iommu_iova_range rg = { 0xfe000000, 0xfeffffff };
		struct iommu_ioas_allow_iovas a = { .size = sizeof(a), .ioas_id = ioas, .num_iovas = 1,
			.allowed_iovas = (uintptr_t)&rg };

		assert_int_equal(ioc(&x, fd, IOMMU_IOAS_ALLOW_IOVAS, &a), -EADDRINUSE);
	}
	/* detach: DMA is blocked again */
	assert_int_equal(detach(&x, c0), 0);
	assert_int_equal(detach(&x, c0), 0);            /* nothing attached: nothing to do */
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x10000, back, 8, false, &res), -EFAULT);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:03:00.0", 0x10000, back, 8, false, &res), 0);
	assert_int_equal(detach(&x, c1), 0);
	/* the automatic HWPT went with its last device */
	assert_int_equal(destroy(&x, fd, pt), -ENOENT);
	assert_int_equal(destroy(&x, fd, ioas), 0);
	fd_close(&x, c0);
	fd_close(&x, c1);
	fd_close(&x, fd);
	fx_free(&x);
	munmap(buf, 4 * PG);
}

static void test_hwpt_alloc(void **state)
{
	struct iommu_hwpt_alloc h;
	uint8_t *buf = pages(2), back[4];
	struct fx x;
	uint32_t ioas, ioas2, dev, hw1, hw2, pt;
	uint64_t iova;
	int fd, c;

	(void)state;
	fx_load(&x, "lx-intel-server", "6.12", NULL, "0000:01:00.0");
	fd = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, fd, &c, &dev), 0);
	ioas = ioas_alloc(&x, fd);
	ioas2 = ioas_alloc(&x, fd);
	/* iommufd_hwpt_alloc's checks */
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = ioas, .__reserved = 1 };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = ioas, .data_len = 8 };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EINVAL);
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = ioas,
		.data_type = IOMMU_HWPT_DATA_VTD_S1 };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EINVAL);
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = ioas, .pt_id = ioas };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -ENOENT);      /* not a device */
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = 50 };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EINVAL);      /* pt: any failure */
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = dev };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EINVAL);      /* pt: a device */
	/* flags: unknown, NEST_PARENT (no nested translation), DIRTY (no
	 * dirty tracking) */
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .flags = 1u << 7, .dev_id = dev, .pt_id = ioas };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	h.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	h.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	/* user data for a paging domain: the driver refuses it */
	{
		struct iommu_hwpt_vtd_s1 s1 = { 0 };

		h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = ioas,
			.data_type = IOMMU_HWPT_DATA_VTD_S1, .data_len = sizeof(s1), .data_uptr = (uintptr_t)&s1 };
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	}
	/* a paging HWPT, ids continue (the refused ones gave theirs back) */
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = ioas };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), 0);
	hw1 = h.out_hwpt_id;
	assert_int_equal(hw1, 4);
	/* ref U16: NESTED on a parent allocated without NEST_PARENT */
	{
		struct iommu_hwpt_vtd_s1 s1 = { 0 };

		h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = hw1,
			.data_type = IOMMU_HWPT_DATA_VTD_S1, .data_len = sizeof(s1), .data_uptr = (uintptr_t)&s1 };
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EINVAL);
		h.data_len = 0;
		h.data_type = IOMMU_HWPT_DATA_NONE;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	}
	h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = dev, .pt_id = ioas2 };
	assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), 0);
	hw2 = h.out_hwpt_id;
	assert_int_equal(hw2, 5);
	/* the HWPT holds its IOAS */
	assert_int_equal(destroy(&x, fd, ioas2), -EBUSY);
	/* attach to a HWPT: pt_id stays */
	memcpy(buf, "one", 4);
	memcpy(buf + PG, "two", 4);
	iova = 0x100000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, PG, &iova), 0);
	assert_int_equal(map(&x, fd, ioas2, RW | FIXED, buf + PG, PG, &iova), 0);
	bus_master(&x, c);
	pt = hw1;
	assert_int_equal(attach(&x, c, &pt), 0);
	assert_int_equal(pt, hw1);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x100000, back, 4, false, NULL), 0);
	assert_string_equal((char *)back, "one");
	/* attach again: the replace path, to another IOAS's HWPT */
	pt = hw2;
	assert_int_equal(attach(&x, c, &pt), 0);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x100000, back, 4, false, NULL), 0);
	assert_string_equal((char *)back, "two");
	/* the user's HWPT stays when its device leaves */
	assert_int_equal(destroy(&x, fd, hw2), -EBUSY);
	assert_int_equal(destroy(&x, fd, hw1), 0);
	/* replace with an IOAS: a new automatic HWPT (id 4 is free again) */
	pt = ioas;
	assert_int_equal(attach(&x, c, &pt), 0);
	assert_int_equal(pt, 4);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x100000, back, 4, false, NULL), 0);
	assert_string_equal((char *)back, "one");
	assert_int_equal(destroy(&x, fd, hw2), 0);
	/* dirty tracking and invalidation on a paging HWPT */
	{
		struct iommu_hwpt_set_dirty_tracking d = { .size = sizeof(d), .flags = 1, .hwpt_id = 4 };
		struct iommu_hwpt_get_dirty_bitmap gb = { .size = sizeof(gb), .hwpt_id = 4, .iova = 0x100000,
			.length = PG, .page_size = PG, .data = (uintptr_t)back };
		struct iommu_hwpt_invalidate inv = { .size = sizeof(inv), .hwpt_id = 4, .entry_num = 1,
			.entry_len = 32, .data_uptr = (uintptr_t)back };

		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &d), -EOPNOTSUPP);
		d.flags = 2;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &d), -EOPNOTSUPP);
		d.flags = 1;
		d.hwpt_id = ioas;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &d), -ENOENT);
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), -EOPNOTSUPP);
		gb.iova = 0x100800;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), -EINVAL);
		gb.iova = 0x100000;
		gb.page_size = 0;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), -EINVAL);
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_INVALIDATE, &inv), -ENOENT);
		assert_int_equal(inv.entry_num, 0);     /* done_num written back */
		inv.entry_num = 1;
		inv.data_uptr = 0;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_INVALIDATE, &inv), -EINVAL);
	}
	fd_close(&x, c);
	assert_int_equal(destroy(&x, fd, 4), -ENOENT);  /* the automatic one went at close */
	fd_close(&x, fd);
	fx_free(&x);
	munmap(buf, 2 * PG);
}

static void test_hw_info(void **state)
{
	struct {
		struct iommu_hw_info_vtd vtd;
		uint8_t more[16];
	} data;
	struct iommu_hw_info q;
	struct fx x;
	uint32_t dev;
	int fd, c;

	(void)state;
	fx_load(&x, "lx-intel-server", "6.12", NULL, "0000:01:00.0");
	fd = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, fd, &c, &dev), 0);
	memset(&data, 0xa5, sizeof(data));
	q = (struct iommu_hw_info){ .size = sizeof(q), .dev_id = dev, .data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data };
	assert_int_equal(ioc(&x, fd, IOMMU_GET_HW_INFO, &q), 0);
	/* intel_iommu_hw_info: the unit's CAP and ECAP; the buffer's tail
	 * zeroed; data_len the kernel's size */
	assert_int_equal(q.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	assert_int_equal(q.data_len, sizeof(struct iommu_hw_info_vtd));
	{
		struct iommu_device_info *di =
			iommu_system_device(x.s, iommu_platform_find_device(x.p, (struct iommu_pci_addr){ 0, 1, 0 }));
		uint64_t cap = x.s->units[di->unit].have_regs ? x.s->units[di->unit].cap : IOMMU_VTD_DEFAULT_CAP;

		assert_int_equal(data.vtd.cap_reg, cap);
	}
	for (size_t i = 0; i < sizeof(data.more); i++)
		assert_int_equal(data.more[i], 0);
	assert_int_equal(q.out_capabilities, 0);
	q = (struct iommu_hw_info){ .size = sizeof(q), .flags = 1, .dev_id = dev };
	assert_int_equal(ioc(&x, fd, IOMMU_GET_HW_INFO, &q), -EOPNOTSUPP);
	q = (struct iommu_hw_info){ .size = sizeof(q), .dev_id = 77 };
	assert_int_equal(ioc(&x, fd, IOMMU_GET_HW_INFO, &q), -ENOENT);
	fd_close(&x, c);
	fd_close(&x, fd);
	fx_free(&x);
}

static void test_option_and_compat(void **state)
{
	uint8_t *buf = pages(4);
	struct iommu_option o;
	struct iommu_vfio_ioas v;
	struct vfio_iommu_type1_dma_map dm;
	struct vfio_iommu_type1_dma_unmap du;
	struct fx x;
	uint32_t ioas;
	int fd;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	fd = open_iommufd(&x);
	/* iommufd_option_rlimit_mode: object_id 0, SET before any object */
	o = (struct iommu_option){ .size = sizeof(o), .option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET };
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 0);
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 2;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), -EINVAL);
	o.val64 = 1;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), 0);
	o.object_id = 1;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), -EOPNOTSUPP);
	ioas = ioas_alloc(&x, fd);
	o.object_id = 0;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), -EBUSY);
	o = (struct iommu_option){ .size = sizeof(o), .option_id = 9 };
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), -EOPNOTSUPP);
	/* HUGE_PAGES on an IOAS */
	o = (struct iommu_option){ .size = sizeof(o), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET, .object_id = ioas };
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 1);
	o.object_id = 9;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), -ENOENT);
	/* IOMMU_VFIO_IOAS and the type1 compat ioctls on /dev/iommu */
	v = (struct iommu_vfio_ioas){ .size = sizeof(v), .op = IOMMU_VFIO_IOAS_GET };
	assert_int_equal(ioc(&x, fd, IOMMU_VFIO_IOAS, &v), -ENODEV);
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	/* ref U18: SET_IOMMU with no compat IOAS */
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -ENODEV);
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, VFIO_IOMMU_DIRTY_PAGES, 0), -ENOTTY);
	v = (struct iommu_vfio_ioas){ .size = sizeof(v), .op = IOMMU_VFIO_IOAS_SET, .ioas_id = ioas };
	assert_int_equal(ioc(&x, fd, IOMMU_VFIO_IOAS, &v), 0);
	v.op = IOMMU_VFIO_IOAS_GET;
	v.ioas_id = 0;
	assert_int_equal(ioc(&x, fd, IOMMU_VFIO_IOAS, &v), 0);
	assert_int_equal(v.ioas_id, ioas);
	v.op = 7;
	assert_int_equal(ioc(&x, fd, IOMMU_VFIO_IOAS, &v), -EOPNOTSUPP);
	assert_int_equal(iommu_uapi_ioctl(x.u, fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), 0);
	dm = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(dm), .flags = 3, .vaddr = (uintptr_t)buf,
		.iova = 0x100000, .size = 4 * PG };
	assert_int_equal(ioc(&x, fd, VFIO_IOMMU_MAP_DMA, &dm), 0);
	dm.flags = VFIO_DMA_MAP_FLAG_VADDR;
	assert_int_equal(ioc(&x, fd, VFIO_IOMMU_MAP_DMA, &dm), -EINVAL);
	/* TYPE1 (v1) emulation: an unmap inside the mapping cuts it */
	du = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(du), .iova = 0x101000, .size = PG };
	assert_int_equal(ioc(&x, fd, VFIO_IOMMU_UNMAP_DMA, &du), 0);
	assert_int_equal(du.size, PG);
	du = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(du), .flags = VFIO_DMA_UNMAP_FLAG_ALL };
	assert_int_equal(ioc(&x, fd, VFIO_IOMMU_UNMAP_DMA, &du), 0);
	assert_int_equal(du.size, 3 * PG);
	du = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(du), .flags = VFIO_DMA_UNMAP_FLAG_ALL, .size = 1 };
	assert_int_equal(ioc(&x, fd, VFIO_IOMMU_UNMAP_DMA, &du), -EINVAL);
	/* destroying the compat IOAS clears it */
	assert_int_equal(destroy(&x, fd, ioas), 0);
	v.op = IOMMU_VFIO_IOAS_GET;
	assert_int_equal(ioc(&x, fd, IOMMU_VFIO_IOAS, &v), -ENODEV);
	fd_close(&x, fd);
	fx_free(&x);
	munmap(buf, 4 * PG);
}

/* --- pinning ---------------------------------------------------------------- */

static void test_pinning(void **state)
{
	struct iommu_uapi_options uo = { .unprivileged = true, .memlock_limit = 16 * PG };
	uint8_t *buf = pages(32), back[4];
	struct iommu_ioas_copy cp;
	struct fx x;
	uint32_t ioas, ioas2, pt;
	uint64_t iova, pinned;
	int fd, c;

	(void)state;
	fx_load(&x, "lx-intel-server", "6.12", &uo, "0000:01:00.0");
	fd = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, fd, &c, NULL), 0);
	ioas = ioas_alloc(&x, fd);
	ioas2 = ioas_alloc(&x, fd);
	/* with no domain nothing is pinned, even beyond RLIMIT_MEMLOCK and
	 * of memory that is not there */
	iova = 0x100000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, 8 * PG, &iova), 0);
	assert_int_equal(uapi_mm_pinned(x.u->mm), 0);
	cp = (struct iommu_ioas_copy){ .size = sizeof(cp), .flags = RW | FIXED, .dst_ioas_id = ioas,
		.src_ioas_id = ioas, .length = 8 * PG, .src_iova = 0x100000, .dst_iova = 0x200000 };
	assert_int_equal(ioc(&x, fd, IOMMU_IOAS_COPY, &cp), 0);
	/* attaching fills the domain: the pages pinned once for both areas */
	bus_master(&x, c);
	pt = ioas;
	assert_int_equal(attach(&x, c, &pt), 0);
	pinned = uapi_mm_pinned(x.u->mm);
	assert_int_equal(pinned, 8);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x200010, "cp", 3, true, NULL), 0);
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x100010, back, 3, false, NULL), 0);
	assert_string_equal((char *)back, "cp");
	/* RLIMIT_MEMLOCK: 16 pages, 8 used (incr_user_locked_vm -ENOMEM) */
	iova = 0x400000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf + 8 * PG, 16 * PG, &iova), -ENOMEM);
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf + 8 * PG, 8 * PG, &iova), 0);
	/* pin_user_pages of memory that is not mapped: -EFAULT */
	iova = 0x800000;
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, (void *)0x10000, PG, &iova), -EFAULT);
	/* a read-only mapping cannot be pinned for a device write */
	assert_int_equal(mprotect(buf + 24 * PG, PG, PROT_READ), 0);
	assert_int_equal(map(&x, fd, ioas2, RW, buf + 24 * PG, PG, NULL), 0);    /* no domain */
	assert_int_equal(unmap(&x, fd, ioas, 0x400000, 8 * PG, NULL), 0);
	/* a domain added to an IOAS holding unpinnable pages fails whole */
	pt = ioas2;
	assert_int_equal(attach(&x, c, &pt), -EFAULT);
	assert_int_equal(pt, ioas2);
	/* still attached to the first IOAS's domain */
	assert_int_equal(iommu_uapi_device_dma(x.u, "0000:01:00.0", 0x100010, back, 3, false, NULL), 0);
	/* unmap one area: the copy still holds the pages */
	assert_int_equal(unmap(&x, fd, ioas, 0x100000, 8 * PG, NULL), 0);
	assert_int_equal(uapi_mm_pinned(x.u->mm), 8);
	assert_int_equal(unmap(&x, fd, ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(uapi_mm_pinned(x.u->mm), 0);
	assert_int_equal(x.u->locked_vm, 0);
	fd_close(&x, c);
	fd_close(&x, fd);
	fx_free(&x);
	munmap(buf, 32 * PG);
}

/* One contiguous run maps with the largest pages the unit has (SLLPS:
 * 2 MiB and 1 GiB on QEMU's VT-d); HUGE_PAGES off maps 4 KiB pages
 * (batch_iommu_map_small). */
static void test_large_pages(void **state)
{
	const size_t big = 1ul << 30, small = 64ul << 20;
	void *b1, *b2;
	size_t l1, l2;
	uint8_t *va = aligned_pages(big, 1ul << 30, &b1, &l1), *va2 = aligned_pages(small, 2ul << 20, &b2, &l2);
	struct iommu_option o;
	struct fx x;
	uint32_t ioas, ioas2, pt;
	uint64_t iova = 1ul << 30, before;
	struct iommu_intel_domain *dom;
	struct iommu_device_info *di;
	int fd, c;

	(void)state;
	fx_load(&x, "lx-intel-server", "6.12", NULL, "0000:01:00.0");
	di = iommu_system_device(x.s, iommu_platform_find_device(x.p, (struct iommu_pci_addr){ 0, 1, 0 }));
	fd = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, fd, &c, NULL), 0);
	ioas = ioas_alloc(&x, fd);
	pt = ioas;
	assert_int_equal(attach(&x, c, &pt), 0);
	dom = iommu_domain_intel(iommu_group_domain(di->group));
	before = iommu_intel_domain_table_pages(dom);
	/* untouched memory reads as the zero page: 1 GiB pins quickly */
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, va, big, &iova), 0);
	assert_true(iommu_intel_domain_table_pages(dom) - before <= 2);
	assert_int_equal(unmap(&x, fd, ioas, 0, UINT64_MAX, NULL), 0);
	/* HUGE_PAGES 0 on a second IOAS, then a domain: 4 KiB IOPTEs */
	ioas2 = ioas_alloc(&x, fd);
	o = (struct iommu_option){ .size = sizeof(o), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .object_id = ioas2, .val64 = 0 };
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), 0);
	pt = ioas2;
	assert_int_equal(attach(&x, c, &pt), 0);
	dom = iommu_domain_intel(iommu_group_domain(di->group));
	before = iommu_intel_domain_table_pages(dom);
	iova = 1ul << 30;
	assert_int_equal(map(&x, fd, ioas2, RW | FIXED, va2, small, &iova), 0);
	assert_true(iommu_intel_domain_table_pages(dom) - before >= small / (2ul << 20));
	/* and it may not be turned off again while a domain holds areas */
	o.val64 = 1;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), 0);
	o.val64 = 0;
	assert_int_equal(ioc(&x, fd, IOMMU_OPTION, &o), -EINVAL);
	fd_close(&x, c);
	fd_close(&x, fd);
	fx_free(&x);
	munmap(b1, l1);
	munmap(b2, l2);
}

static sigjmp_buf own_jb;
static volatile sig_atomic_t own_hits;

static void own_segv(int sig)
{
	(void)sig;
	own_hits++;
	siglongjmp(own_jb, 1);
}

/* type1 and iommufd pin with the same engine: the same frames, ascending
 * and contiguous each time the range is pinned again. */
static void test_shared_engine(void **state)
{
	const size_t n = 64;
	uint8_t *buf = pages(n);
	struct uapi_pin_runs a = { 0 }, b = { 0 };
	struct fx x;

	(void)state;
	fx_load(&x, "i-vfio", "6.12", NULL, NULL);
	for (size_t i = 0; i < n; i += 3)
		buf[i * PG] = (uint8_t)i;
	assert_int_equal(uapi_mm_pin_runs(x.u->mm, (uintptr_t)buf, n, true, &a), 0);
	assert_int_equal(a.npages, n);
	assert_int_equal(a.n, 1);                       /* fresh frames: one run */
	/* the bytes went to the frames */
	for (size_t i = 0; i < n; i += 3) {
		uint8_t v = 0xff;

		assert_int_equal(iommu_mem_read(iommu_system_mem(x.s), ((a.r[0].pfn + i) << 12), &v, 1), 0);
		assert_int_equal(v, (uint8_t)i);
	}
	/* pinned again: the same frames, no copy */
	assert_int_equal(uapi_mm_pin_runs(x.u->mm, (uintptr_t)buf, n, true, &b), 0);
	assert_int_equal(b.r[0].pfn, a.r[0].pfn);
	assert_int_equal(uapi_mm_pinned(x.u->mm), 2 * n);
	uapi_mm_unpin_runs(x.u->mm, &b);
	{
		uint64_t first = a.r[0].pfn;

		uapi_mm_unpin_runs(x.u->mm, &a);
		assert_int_equal(uapi_mm_pinned(x.u->mm), 0);
		/* the frames come back lowest first: one run again */
		assert_int_equal(uapi_mm_pin_runs(x.u->mm, (uintptr_t)buf + PG, n - 1, true, &a), 0);
		assert_int_equal(a.n, 1);
		assert_int_equal(a.r[0].pfn, first);
		uapi_mm_unpin_runs(x.u->mm, &a);
	}
	/* a hole in the range: -EFAULT, nothing pinned; the pages are read
	 * in place under a guard that leaves the program's own SIGSEGV
	 * handler in place and still in charge of the program's faults */
	munmap(buf + 10 * PG, PG);
	{
		struct sigaction sa, cur, saved;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = own_segv;
		sigemptyset(&sa.sa_mask);
		assert_int_equal(sigaction(SIGSEGV, &sa, &saved), 0);
		assert_int_equal(uapi_mm_pin_runs(x.u->mm, (uintptr_t)buf, n, true, &a), -EFAULT);
		assert_int_equal(own_hits, 0);
		assert_int_equal(sigaction(SIGSEGV, NULL, &cur), 0);
		assert_true(cur.sa_handler == own_segv);
		if (!sigsetjmp(own_jb, 1)) {
			((volatile uint8_t *)buf)[10 * PG] = 1;
			fail_msg("no fault");
		}
		assert_int_equal(own_hits, 1);
		assert_int_equal(sigaction(SIGSEGV, &saved, NULL), 0);
	}
	assert_int_equal(uapi_mm_pinned(x.u->mm), 0);
	assert_int_equal(a.n, 0);
	fx_free(&x);
	munmap(buf, n * PG);
}

/* Everything left open: the model releases it all (sanitizer runs check
 * the leaks) and the groups' DMA ownership goes. */
static void test_close_everything(void **state)
{
	uint8_t *buf = pages(4);
	struct iommu_fault_alloc fa;
	struct fx x;
	uint32_t ioas, pt;
	uint64_t iova = 0x1000000;
	int fd, c0, c1;

	(void)state;
	fx_load(&x, "lx-intel-server", "6.12", NULL, "0000:01:00.0,0000:03:00.0");
	fd = open_iommufd(&x);
	assert_int_equal(bind(&x, 0, fd, &c0, NULL), 0);
	assert_int_equal(bind(&x, 1, fd, &c1, NULL), 0);
	ioas = ioas_alloc(&x, fd);
	assert_int_equal(map(&x, fd, ioas, RW | FIXED, buf, 4 * PG, &iova), 0);
	pt = ioas;
	assert_int_equal(attach(&x, c0, &pt), 0);
	/* a fault queue: an object and a descriptor */
	fa = (struct iommu_fault_alloc){ .size = sizeof(fa) };
	assert_int_equal(ioc(&x, fd, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	assert_true(iommu_uapi_is_fd(x.u, (int)fa.out_fault_fd));
	{
		struct iommu_hwpt_pgfault pf;

		/* iommufd_fault_fops_read: whole records only, nothing pending */
		assert_int_equal(iommu_uapi_read(x.u, (int)fa.out_fault_fd, &pf, 3), -ESPIPE);
		assert_int_equal(iommu_uapi_read(x.u, (int)fa.out_fault_fd, &pf, sizeof(pf)), 0);
	}
	/* a HWPT naming it; attaching needs PRI the device does not have */
	{
		struct iommu_hwpt_alloc h = { .size = sizeof(h), .flags = IOMMU_HWPT_FAULT_ID_VALID, .dev_id = 2,
			.pt_id = ioas, .fault_id = 77 };
		uint32_t hp;

		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), -ENOENT);       /* iommufd_get_fault */
		h.fault_id = fa.out_fault_id;
		assert_int_equal(ioc(&x, fd, IOMMU_HWPT_ALLOC, &h), 0);
		hp = h.out_hwpt_id;
		assert_int_equal(attach(&x, c1, &hp), -ENODEV);         /* intel_iommu_enable_iopf */
		/* the fault queue is held by the HWPT too */
		assert_int_equal(destroy(&x, fd, fa.out_fault_id), -EBUSY);
		assert_int_equal(destroy(&x, fd, h.out_hwpt_id), 0);
	}
	/* held by its descriptor */
	assert_int_equal(destroy(&x, fd, fa.out_fault_id), -EBUSY);
	fa.flags = 1;
	assert_int_equal(ioc(&x, fd, IOMMU_FAULT_QUEUE_ALLOC, &fa), -EOPNOTSUPP);
	assert_true(uapi_mm_pinned(x.u->mm) > 0);
	{
		struct iommu_device_info *di =
			iommu_system_device(x.s, iommu_platform_find_device(x.p, (struct iommu_pci_addr){ 0, 1, 0 }));

		assert_true(iommu_group_dma_owner_claimed(di->group));
		fd_close(&x, fd);
		fd_close(&x, c0);
		fd_close(&x, c1);
		assert_false(iommu_group_dma_owner_claimed(di->group));
		assert_int_equal(iommu_group_domain(di->group), iommu_group_default_domain(di->group));
	}
	/* the fault descriptor still holds the context; the rest is gone */
	assert_int_equal(uapi_mm_pinned(x.u->mm), 0);
	fx_free(&x);
	munmap(buf, 4 * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_ucmd_rules),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_iova_ranges_fresh),
		cmocka_unit_test(test_map_rules),
		cmocka_unit_test(test_allow_and_copy),
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_bind_owner),
		cmocka_unit_test(test_bind_rmrr),
		cmocka_unit_test(test_attach_auto_domain),
		cmocka_unit_test(test_hwpt_alloc),
		cmocka_unit_test(test_hw_info),
		cmocka_unit_test(test_option_and_compat),
		cmocka_unit_test(test_pinning),
		cmocka_unit_test(test_large_pages),
		cmocka_unit_test(test_shared_engine),
		cmocka_unit_test(test_close_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
