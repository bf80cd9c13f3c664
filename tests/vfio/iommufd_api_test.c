// SPDX-License-Identifier: MIT
/*
 * iommufd_api_test: an ordinary iommufd program, run through `iommu run`,
 * that drives /dev/iommu and the VFIO device cdevs with real system calls
 * and asserts the kernel's answer to each, errno included.  Every
 * expectation names where it comes from: the reference notes
 * (../shared/reference/linux-iommu-behaviour.md section 9, its test table
 * "ref U1".."U18") or the kernel function.  TAP output.
 *
 *   iommufd_api_test intel    lx-intel-server, --kernel 6.12, --vfio
 *                             0000:01:00.0,0000:03:00.0,0000:02:00.0,
 *                             0000:02:00.1,0000:02:00.2 (vfio0..vfio4)
 *   iommufd_api_test amd      i2-vfio-amd, --kernel 6.12, --vfio 0000:02:00.0
 *   iommufd_api_test k61      i-vfio as captured (6.1): no iommufd
 *   iommufd_api_test nointremap  lx-intel-server, --kernel 6.12, intremap=off,
 *                             --vfio 0000:01:00.0
 *
 * The modelled device's DMA goes through iommu_model_dma(), exported by
 * the preload library (dlsym); without it the program says it must run
 * under `iommu run` and fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

static int n_tests, n_failed;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!ok)
		n_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* A call that must fail with @want (-1 and errno). */
#define EXPECT_ERR(want, call, ...) \
	do { \
		errno = 0; \
		long r_ = (long)(call); \
		int e_ = errno; \
		check(r_ == -1 && e_ == (want), __VA_ARGS__); \
		if (!(r_ == -1 && e_ == (want))) \
			printf("#   got %ld errno %d (%s), want errno %d (%s)\n", r_, e_, strerror(e_), \
			       (want), strerror(want)); \
	} while (0)

#define EXPECT_OK(call, ...) \
	do { \
		errno = 0; \
		long r_ = (long)(call); \
		int e_ = errno; \
		check(r_ >= 0, __VA_ARGS__); \
		if (r_ < 0) \
			printf("#   got %ld errno %d (%s)\n", r_, e_, strerror(e_)); \
	} while (0)

#define EXPECT_EQ(got, want, ...) \
	do { \
		unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
		check(g_ == w_, __VA_ARGS__); \
		if (g_ != w_) \
			printf("#   got 0x%llx, want 0x%llx\n", g_, w_); \
	} while (0)

typedef int (*dma_fn)(int, const char *, uint64_t, void *, size_t, int);
static dma_fn model_dma;

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define RO IOMMU_IOAS_MAP_READABLE
#define FIXED IOMMU_IOAS_MAP_FIXED_IOVA
#define PG 4096ul

static void *page_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

/* @len bytes at an address aligned to @align (the rest left mapped). */
static void *aligned_buf(size_t len, size_t align)
{
	uint8_t *p = page_buf(len + align);

	return p + ((align - ((uintptr_t)p & (align - 1))) & (align - 1));
}

static int ioas_alloc(int fd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a))
		return -1;
	return (int)a.out_ioas_id;
}

static int destroy(int fd, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &d);
}

static int map(int fd, uint32_t ioas, uint32_t flags, const void *va, uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map m = { .size = sizeof(m), .flags = flags, .ioas_id = ioas,
		.user_va = (uintptr_t)va, .length = len, .iova = iova ? *iova : 0 };
	int r = ioctl(fd, IOMMU_IOAS_MAP, &m);

	if (!r && iova)
		*iova = m.iova;
	return r;
}

static int unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *done)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len };
	int r = ioctl(fd, IOMMU_IOAS_UNMAP, &u);

	if (done)
		*done = u.length;
	return r;
}

static int ranges(int fd, uint32_t ioas, uint32_t cap, struct iommu_iova_range *r, uint32_t *n,
		  uint64_t *align)
{
	struct iommu_ioas_iova_ranges q = { .size = sizeof(q), .ioas_id = ioas, .num_iovas = cap,
		.allowed_iovas = (uintptr_t)r };
	int ret = ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &q);

	*n = q.num_iovas;
	*align = q.out_iova_alignment;
	return ret;
}

static int cdev_open(int n)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", n);
	return open(path, O_RDWR);
}

static int bind(int cdev, int ifd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = ifd };
	int r = ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!r && devid)
		*devid = b.out_devid;
	return r;
}

static int attach(int cdev, uint32_t *pt)
{
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a), .pt_id = *pt };
	int r = ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!r)
		*pt = a.pt_id;
	return r;
}

static int detach(int cdev)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

/* Bus Master Enable through the device's config region, as a driver
 * turns it on before DMA. */
static bool bus_master(int cdev)
{
	off_t at = (off_t)(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + PCI_COMMAND);
	uint16_t cmd = 0;

	if (pread(cdev, &cmd, 2, at) != 2)
		return false;
	cmd |= PCI_COMMAND_MASTER;
	return pwrite(cdev, &cmd, 2, at) == 2;
}

static int dma(const char *bdf, uint64_t iova, void *buf, size_t len, bool write)
{
	return model_dma(-1, bdf, iova, buf, len, write);
}

/* ------------------------------------------------------------------ */

static void test_framework(int fd)
{
	struct iommu_ioas_alloc a;
	struct {
		struct iommu_ioas_alloc a;
		uint32_t tail[2];
	} big;
	void *gone;

	/* ref 9.2 / U3 (iommufd_fops_ioctl): size below the command's minimum */
	a = (struct iommu_ioas_alloc){ .size = 4 };
	EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_IOAS_ALLOC, &a), "IOAS_ALLOC size 4 < min_size 12: EINVAL (ref U3)");
	/* copy_struct_from_user: unknown trailing bytes must be zero */
	memset(&big, 0, sizeof(big));
	big.a.size = sizeof(big);
	big.tail[0] = 1;
	EXPECT_ERR(E2BIG, ioctl(fd, IOMMU_IOAS_ALLOC, &big), "IOAS_ALLOC with a nonzero unknown tail: E2BIG (ref U3)");
	big.tail[0] = 0;
	EXPECT_OK(ioctl(fd, IOMMU_IOAS_ALLOC, &big), "IOAS_ALLOC of a larger struct with a zero tail");
	EXPECT_EQ(big.a.out_ioas_id, 1, "... gets id 1 (ref U1)");
	EXPECT_OK(destroy(fd, 1), "DESTROY 1");
	/* ref U2 */
	a = (struct iommu_ioas_alloc){ .size = sizeof(a), .flags = 1 };
	EXPECT_ERR(EOPNOTSUPP, ioctl(fd, IOMMU_IOAS_ALLOC, &a), "IOAS_ALLOC flags=1: EOPNOTSUPP (ref U2)");
	/* unknown ioctl numbers: past the table the VFIO compat handler has
	 * nothing (-ENOIOCTLCMD -> ENOTTY); in the table, another encoding */
	a = (struct iommu_ioas_alloc){ .size = sizeof(a) };
	EXPECT_ERR(ENOTTY, ioctl(fd, _IO(IOMMUFD_TYPE, 0x8f), &a), "nr 0x8f (not in 6.12's table): ENOTTY");
	EXPECT_ERR(ENOTTY, ioctl(fd, _IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC, struct iommu_ioas_alloc), &a),
		   "IOAS_ALLOC encoded _IOWR: ENOTTY (op->ioctl_num != cmd)");
	EXPECT_ERR(ENOTTY, ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &a), "VFIO_IOMMU_DIRTY_PAGES on iommufd: ENOTTY (ref 8.4)");
	EXPECT_ERR(ENOTTY, ioctl(fd, _IO('Q', 3), 0), "a foreign ioctl: ENOTTY");
	/* the argument in memory that is not there: get_user -EFAULT */
	gone = page_buf(PG);
	munmap(gone, PG);
	EXPECT_ERR(EFAULT, ioctl(fd, IOMMU_IOAS_ALLOC, gone), "IOAS_ALLOC of an unmapped struct: EFAULT");
	EXPECT_ERR(EFAULT, ioctl(fd, IOMMU_IOAS_ALLOC, NULL), "IOAS_ALLOC of NULL: EFAULT");
}

static void test_ids(int fd)
{
	int a = ioas_alloc(fd), b = ioas_alloc(fd);

	/* ref U1: ids from 1, lowest free, reused after DESTROY */
	check(a == 1 && b == 2, "IOAS_ALLOC twice: ids 1 and 2 (ref U1)");
	EXPECT_OK(destroy(fd, 1), "DESTROY 1");
	EXPECT_EQ(ioas_alloc(fd), 1, "IOAS_ALLOC reuses id 1 (ref U1)");
	EXPECT_ERR(ENOENT, destroy(fd, 999), "DESTROY 999: ENOENT (ref U12)");
	{
		struct iommu_destroy d = { .size = 4 };

		EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_DESTROY, &d), "DESTROY size 4: EINVAL");
	}
	EXPECT_OK(destroy(fd, 1), "DESTROY 1");
	EXPECT_OK(destroy(fd, 2), "DESTROY 2");
}

static void test_ioas(int fd)
{
	struct iommu_iova_range r[4];
	uint8_t *buf = aligned_buf(64 * PG, 1u << 21), *huge = aligned_buf(4u << 20, 4u << 20);
	uint32_t n, ioas = (uint32_t)ioas_alloc(fd), dst = (uint32_t)ioas_alloc(fd);
	uint64_t align, iova, done;

	/* ref U4 */
	EXPECT_ERR(EMSGSIZE, ranges(fd, ioas, 0, r, &n, &align), "IOVA_RANGES capacity 0: EMSGSIZE (ref U4)");
	check(n == 1 && align == 1, "... num_iovas = 1, out_iova_alignment = 1 written back (ref U4)");
	EXPECT_OK(ranges(fd, ioas, 1, r, &n, &align), "IOVA_RANGES capacity 1");
	check(r[0].start == 0 && r[0].last == UINT64_MAX, "... [0, U64_MAX] (ref U4)");
	EXPECT_ERR(ENOENT, ranges(fd, 77, 1, r, &n, &align), "IOVA_RANGES of id 77: ENOENT");
	/* ref U6 and iommufd_ioas_map's order */
	EXPECT_ERR(EINVAL, map(fd, ioas, 0, buf, PG, NULL), "MAP without READABLE/WRITEABLE: EINVAL (ref U6)");
	EXPECT_ERR(EOPNOTSUPP, map(fd, ioas, RW | 0x100, buf, PG, NULL), "MAP unknown flag: EOPNOTSUPP (ref U6)");
	iova = UINT64_MAX;
	EXPECT_ERR(EOVERFLOW, map(fd, ioas, RW | FIXED, buf, PG, &iova), "MAP iova = U64_MAX: EOVERFLOW");
	EXPECT_ERR(ENOENT, map(fd, 99, RW, buf, PG, NULL), "MAP into id 99: ENOENT");
	EXPECT_ERR(EINVAL, map(fd, ioas, RW, buf, 0, NULL), "MAP length 0: EINVAL (iopt_alloc_pages)");
	EXPECT_ERR(EOVERFLOW, map(fd, ioas, RW, (void *)(uintptr_t)(0 - PG), 2 * PG, NULL),
		   "MAP user_va + length wraps: EOVERFLOW");
	/* ref U7: automatic IOVAs bottom-up from PAGE_SIZE */
	iova = 0;
	EXPECT_OK(map(fd, ioas, RW, buf, PG, &iova), "MAP 4 KiB, automatic IOVA");
	EXPECT_EQ(iova, 0x1000, "... iova 0x1000 (ref U7)");
	EXPECT_OK(map(fd, ioas, RW, buf + PG, PG, &iova), "MAP another 4 KiB");
	EXPECT_EQ(iova, 0x2000, "... iova 0x2000 (ref U7)");
	EXPECT_OK(map(fd, ioas, RW, huge, 2u << 20, &iova), "MAP 2 MiB of a 2 MiB-aligned VA");
	EXPECT_EQ(iova, 0x200000, "... iova 0x200000 (ref 9.3, THP alignment)");
	/* ref U8 */
	iova = 0x1000;
	EXPECT_ERR(EEXIST, map(fd, ioas, RW | FIXED, buf, PG, &iova), "FIXED over an area: EEXIST (ref U8)");
	/* ref U9, U10, U11 */
	EXPECT_ERR(ENOENT, unmap(fd, ioas, 0x200000, 1u << 20, NULL), "UNMAP half an area: ENOENT (ref U9)");
	EXPECT_ERR(ENOENT, unmap(fd, ioas, 0x40000000, PG, NULL), "UNMAP where nothing is: ENOENT (ref U11)");
	EXPECT_ERR(EINVAL, unmap(fd, ioas, 0x1000, 0, NULL), "UNMAP length 0: EINVAL");
	EXPECT_ERR(EOVERFLOW, unmap(fd, ioas, 0x1000, UINT64_MAX - 1, NULL), "UNMAP iova + length - 1 wraps: EOVERFLOW");
	EXPECT_OK(unmap(fd, ioas, 0x1000, 0x2000, &done), "UNMAP two whole areas");
	EXPECT_EQ(done, 0x2000, "... length = 0x2000 unmapped");
	/* ref U17: COPY */
	iova = 0x100000;
	EXPECT_OK(map(fd, ioas, RO | FIXED, buf + 8 * PG, 4 * PG, &iova), "MAP read-only at 0x100000");
	{
		struct iommu_ioas_copy c = { .size = sizeof(c), .flags = RW, .dst_ioas_id = dst, .src_ioas_id = ioas,
			.length = 4 * PG, .src_iova = 0x100000 };

		EXPECT_ERR(EPERM, ioctl(fd, IOMMU_IOAS_COPY, &c), "COPY WRITEABLE of a read-only map: EPERM (ref U17)");
		c.length = 5 * PG;
		c.flags = RO;
		EXPECT_ERR(ENOENT, ioctl(fd, IOMMU_IOAS_COPY, &c), "COPY of a range not fully mapped: ENOENT (ref U17)");
		c.length = 4 * PG;
		EXPECT_OK(ioctl(fd, IOMMU_IOAS_COPY, &c), "COPY read-only into another IOAS");
		/* 16 KiB from a VA aligned to 32 KiB: aligned to 16 KiB */
		EXPECT_EQ(c.dst_iova, 0x4000, "... automatic dst_iova 0x4000 (iopt_alloc_iova alignment)");
		c.flags = RO | 0x40;
		EXPECT_ERR(EOPNOTSUPP, ioctl(fd, IOMMU_IOAS_COPY, &c), "COPY unknown flag: EOPNOTSUPP");
	}
	/* ALLOW_IOVAS */
	{
		struct iommu_iova_range al[2] = { { 0x30000000, 0x3fffffff }, { 0x38000000, 0x48000000 } };
		struct iommu_ioas_allow_iovas a = { .size = sizeof(a), .ioas_id = dst, .num_iovas = 2,
			.allowed_iovas = (uintptr_t)al };

		EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a), "ALLOW_IOVAS with overlapping ranges: EINVAL");
		al[1] = (struct iommu_iova_range){ 0x50000000, 0x50000000 };
		EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a), "ALLOW_IOVAS with start == last: EINVAL");
		a.num_iovas = 1;
		EXPECT_OK(ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a), "ALLOW_IOVAS [0x30000000, 0x3fffffff]");
		iova = 0;
		EXPECT_OK(map(fd, dst, RW, buf + 16 * PG, PG, &iova), "MAP, automatic IOVA");
		EXPECT_EQ(iova, 0x30000000, "... allocated inside the allowed range (ref 9.3)");
		iova = 0x9000;
		EXPECT_OK(map(fd, dst, RW | FIXED, buf + 16 * PG, PG, &iova), "MAP FIXED outside the allowed ranges");
	}
	/* ref U10 */
	EXPECT_OK(unmap(fd, dst, 0, UINT64_MAX, &done), "UNMAP iova 0 length U64_MAX");
	EXPECT_EQ(done, 6 * PG, "... length = every byte mapped (ref U10)");
	EXPECT_OK(unmap(fd, dst, 0, UINT64_MAX, &done), "UNMAP all of an empty IOAS");
	EXPECT_EQ(done, 0, "... length 0 (ref U10)");
	EXPECT_OK(destroy(fd, dst), "DESTROY the second IOAS");
	EXPECT_OK(destroy(fd, ioas), "DESTROY the first IOAS (its areas go)");
}

/* vfio0 01:00.0, vfio1 03:00.0: isolated; vfio2..4: group 11 (02:00.*). */
static void test_devices(int fd)
{
	uint8_t *buf = page_buf(16 * PG), back[16];
	struct iommu_iova_range r[8];
	uint32_t d0, d1, ioas, pt, pt1, n;
	uint64_t iova, align;
	int c0, c1, other, g;

	c0 = cdev_open(0);
	check(c0 >= 0, "open /dev/vfio/devices/vfio0 (0000:01:00.0)");
	{
		struct stat st;

		check(fstat(c0, &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 0,
		      "vfio0 is a char device, minor 0 (vfio_device index in bind order)");
	}
	EXPECT_ERR(ENOENT, cdev_open(9), "open /dev/vfio/devices/vfio9: ENOENT");
	/* before BIND_IOMMUFD nothing works (access_granted) */
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };

		EXPECT_ERR(EINVAL, ioctl(c0, VFIO_DEVICE_GET_INFO, &info), "GET_INFO before bind: EINVAL");
	}
	/* vfio_df_ioctl_bind_iommufd */
	{
		struct vfio_device_bind_iommufd b = { .argsz = 8, .iommufd = fd };

		EXPECT_ERR(EINVAL, ioctl(c0, VFIO_DEVICE_BIND_IOMMUFD, &b), "BIND argsz 8: EINVAL");
		b = (struct vfio_device_bind_iommufd){ .argsz = sizeof(b), .flags = 2, .iommufd = fd };
		EXPECT_ERR(EINVAL, ioctl(c0, VFIO_DEVICE_BIND_IOMMUFD, &b), "BIND flags 2: EINVAL");
	}
	other = open("/dev/vfio/vfio", O_RDWR);
	EXPECT_ERR(EBADFD, bind(c0, other, NULL), "BIND with a VFIO container fd: EBADFD");
	close(other);
	EXPECT_ERR(EBADF, bind(c0, other, NULL), "BIND with a closed fd: EBADF");
	g = open("/dev/vfio/10", O_RDWR);
	check(g >= 0, "open the group 10 file");
	EXPECT_ERR(EBUSY, bind(c0, fd, NULL), "BIND while the group file is open: EBUSY (vfio_device_block_group)");
	close(g);
	EXPECT_OK(bind(c0, fd, &d0), "BIND vfio0");
	EXPECT_EQ(d0, 1, "... out_devid 1");
	EXPECT_ERR(EBUSY, open("/dev/vfio/10", O_RDWR), "open the group file of a bound device: EBUSY (ref 9.4)");
	EXPECT_ERR(EINVAL, bind(c0, fd, NULL), "BIND twice: EINVAL");
	EXPECT_ERR(EBUSY, destroy(fd, d0), "DESTROY a dev_id: EBUSY (ref U12)");
	c1 = cdev_open(1);
	EXPECT_OK(bind(c1, fd, &d1), "BIND vfio1 (0000:03:00.0)");
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };

		EXPECT_OK(ioctl(c1, VFIO_DEVICE_GET_INFO, &info), "GET_INFO through the bound cdev");
		check(info.flags & VFIO_DEVICE_FLAGS_PCI, "... a PCI device");
		check(bus_master(c0) && bus_master(c1), "Bus Master Enable through the config regions");
	}
	/* ref U14 */
	ioas = (uint32_t)ioas_alloc(fd);
	EXPECT_EQ(ioas, 3, "IOAS_ALLOC after two binds: id 3 (one id space)");
	memcpy(buf, "payload", 8);
	iova = 0x100000;
	EXPECT_OK(map(fd, ioas, RW | FIXED, buf, 8 * PG, &iova), "MAP 32 KiB at 0x100000 before any attach");
	pt = ioas;
	EXPECT_OK(attach(c0, &pt), "ATTACH vfio0 to the IOAS");
	EXPECT_EQ(pt, 4, "... pt_id = 4, a new automatic HWPT (ref 9.4)");
	pt1 = ioas;
	EXPECT_OK(attach(c1, &pt1), "ATTACH vfio1 to the IOAS");
	EXPECT_EQ(pt1, 4, "... the same automatic HWPT (ref U14)");
	/* ref U5 */
	EXPECT_OK(ranges(fd, ioas, 8, r, &n, &align), "IOVA_RANGES after attach");
	check(align == 4096 && n >= 2 && r[0].start == 0 && r[0].last == 0xfedfffff && r[1].start == 0xfef00000,
	      "... 4 KiB alignment, the MSI window 0xfee00000-0xfeefffff a hole (ref U5)");
	check(r[n - 1].last < UINT64_MAX && ((r[n - 1].last + 1) & r[n - 1].last) == 0,
	      "... the top capped at the domain width 2^%d (ref U5)", __builtin_ctzll(r[n - 1].last + 1));
	/* DMA through the modelled VT-d unit */
	EXPECT_OK(dma("0000:01:00.0", 0x100000, back, 8, false), "device 01:00.0 reads IOVA 0x100000");
	check(!memcmp(back, "payload", 8), "... the bytes the program wrote");
	EXPECT_OK(dma("0000:03:00.0", 0x101000, "from dev", 9, true), "device 03:00.0 writes IOVA 0x101000");
	check(!memcmp(buf + PG, "from dev", 9), "... into the program's page");
	EXPECT_ERR(EFAULT, dma("0000:03:00.0", 0x200000, back, 8, false), "a DMA to an IOVA not mapped faults");
	EXPECT_OK(model_dma(c0, NULL, 0x100000, back, 8, false), "the same DMA named by the bound cdev descriptor");
	EXPECT_ERR(EBADF, model_dma(fd, NULL, 0x100000, back, 8, false), "... not by the iommufd descriptor: EBADF");
	/* ref U8, U13 with a domain */
	iova = 0xfee00000;
	EXPECT_ERR(EINVAL, map(fd, ioas, RW | FIXED, buf, PG, &iova), "FIXED into the MSI window: EINVAL (ref U8)");
	{
		struct iommu_iova_range al = { 0xfe000000, 0xfeffffff };
		struct iommu_ioas_allow_iovas a = { .size = sizeof(a), .ioas_id = ioas, .num_iovas = 1,
			.allowed_iovas = (uintptr_t)&al };

		EXPECT_ERR(EADDRINUSE, ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a),
			   "ALLOW_IOVAS over the MSI hole: EADDRINUSE (ref U13)");
	}
	/* pinning: unmapped and read-only user memory with a domain attached */
	{
		uint8_t *gone = page_buf(2 * PG), *ro = page_buf(PG);

		munmap(gone, 2 * PG);
		mprotect(ro, PG, PROT_READ);
		EXPECT_ERR(EFAULT, map(fd, ioas, RW, gone, 2 * PG, NULL), "MAP of unmapped memory with a domain: EFAULT");
		EXPECT_ERR(EFAULT, map(fd, ioas, RW, ro, PG, NULL), "MAP WRITEABLE of read-only memory: EFAULT");
		EXPECT_OK(map(fd, ioas, RO, ro, PG, &iova), "MAP READABLE of read-only memory");
		EXPECT_ERR(EFAULT, dma("0000:01:00.0", iova, back, 4, true), "... a device write to it faults");
	}
	/* ref U12 */
	EXPECT_ERR(EBUSY, destroy(fd, ioas), "DESTROY an IOAS with an attached device: EBUSY (ref U12)");
	EXPECT_ERR(EBUSY, destroy(fd, pt), "DESTROY the HWPT devices are attached to: EBUSY");
	/* HWPT_ALLOC */
	{
		struct iommu_hwpt_alloc h = { .size = sizeof(h), .dev_id = d0, .pt_id = ioas,
			.flags = IOMMU_HWPT_ALLOC_NEST_PARENT };
		struct iommu_hwpt_vtd_s1 s1 = { 0 };
		uint32_t hw, p2;

		EXPECT_ERR(EOPNOTSUPP, ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC NEST_PARENT (no nested translation): EOPNOTSUPP");
		h.flags = 0x40;
		EXPECT_ERR(EOPNOTSUPP, ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC unknown flag: EOPNOTSUPP");
		h.flags = 0;
		h.data_len = 4;
		EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC data_len without data_type: EINVAL");
		h.data_len = 0;
		h.pt_id = 1234;
		EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC pt_id unknown: EINVAL");
		h.pt_id = ioas;
		h.dev_id = ioas;
		EXPECT_ERR(ENOENT, ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC dev_id not a device: ENOENT");
		h.dev_id = d0;
		EXPECT_OK(ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC a paging HWPT on the IOAS");
		hw = h.out_hwpt_id;
		EXPECT_EQ(hw, 5, "... id 5");
		h = (struct iommu_hwpt_alloc){ .size = sizeof(h), .dev_id = d0, .pt_id = hw,
			.data_type = IOMMU_HWPT_DATA_VTD_S1, .data_len = sizeof(s1), .data_uptr = (uintptr_t)&s1 };
		EXPECT_ERR(EINVAL, ioctl(fd, IOMMU_HWPT_ALLOC, &h), "HWPT_ALLOC NESTED on a parent without NEST_PARENT: EINVAL (ref U16)");
		/* a group shares one HWPT: vfio0 moves (replace), the DMA goes on */
		p2 = hw;
		EXPECT_OK(attach(c0, &p2), "ATTACH vfio0 again, to HWPT 5 (replace)");
		EXPECT_EQ(p2, hw, "... pt_id stays 5");
		EXPECT_OK(dma("0000:01:00.0", 0x100000, back, 8, false), "DMA through the new domain");
		check(!memcmp(back, "payload", 8), "... same bytes (the IOAS filled the new domain)");
		EXPECT_OK(detach(c0), "DETACH vfio0");
		EXPECT_ERR(EFAULT, dma("0000:01:00.0", 0x100000, back, 8, false), "a detached device's DMA is blocked");
		EXPECT_OK(detach(c0), "DETACH again: nothing attached, nothing to do");
		EXPECT_OK(destroy(fd, hw), "DESTROY HWPT 5, no device left on it");
	}
	EXPECT_OK(detach(c1), "DETACH vfio1");
	EXPECT_ERR(ENOENT, destroy(fd, pt), "the automatic HWPT went with its last device: DESTROY ENOENT");
	EXPECT_OK(destroy(fd, ioas), "DESTROY the IOAS now");
	/* GET_HW_INFO */
	{
		struct iommu_hw_info_vtd vtd;
		struct iommu_hw_info q = { .size = sizeof(q), .dev_id = d1, .data_len = sizeof(vtd),
			.data_uptr = (uintptr_t)&vtd };

		EXPECT_OK(ioctl(fd, IOMMU_GET_HW_INFO, &q), "GET_HW_INFO");
		check(q.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD && q.data_len == sizeof(vtd) && vtd.cap_reg &&
		      vtd.ecap_reg, "... INTEL_VTD with CAP 0x%llx, ECAP 0x%llx", (unsigned long long)vtd.cap_reg,
		      (unsigned long long)vtd.ecap_reg);
		q.__reserved[1] = 1;
		EXPECT_ERR(EOPNOTSUPP, ioctl(fd, IOMMU_GET_HW_INFO, &q), "GET_HW_INFO __reserved: EOPNOTSUPP");
	}
	close(c0);
	close(c1);
	EXPECT_OK((g = open("/dev/vfio/10", O_RDWR)), "after close the group file opens again");
	close(g);
	munmap(buf, 16 * PG);
}

/* ref U15: group 11 (vfio2..4) bound to two contexts. */
static void test_two_contexts(void)
{
	int a = open("/dev/iommu", O_RDWR), b = open("/dev/iommu", O_RDWR);
	int c2 = cdev_open(2), c3 = cdev_open(3), c4 = cdev_open(4);

	EXPECT_OK(bind(c2, a, NULL), "BIND 02:00.0 to a first iommufd");
	EXPECT_ERR(EPERM, bind(c3, b, NULL), "BIND 02:00.1 of the same group to a second iommufd: EPERM (ref U15)");
	EXPECT_OK(bind(c4, a, NULL), "BIND 02:00.2 of the same group to the first: allowed");
	close(c2);
	close(c4);
	EXPECT_OK(bind(c3, b, NULL), "once the first context's devices are gone, the second may");
	close(c3);
	close(a);
	close(b);
}

static void test_option_compat(int fd)
{
	struct iommu_option o = { .size = sizeof(o), .option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET };
	struct iommu_vfio_ioas v = { .size = sizeof(v), .op = IOMMU_VFIO_IOAS_GET };
	uint8_t *buf = page_buf(4 * PG);
	int ioas;

	EXPECT_OK(ioctl(fd, IOMMU_OPTION, &o), "OPTION RLIMIT_MODE GET");
	EXPECT_EQ(o.val64, 0, "... 0 (user accounting)");
	o.op = 5;
	EXPECT_ERR(EOPNOTSUPP, ioctl(fd, IOMMU_OPTION, &o), "OPTION unknown op: EOPNOTSUPP");
	EXPECT_ERR(ENODEV, ioctl(fd, IOMMU_VFIO_IOAS, &v), "VFIO_IOAS GET without a compat IOAS: ENODEV");
	EXPECT_EQ(ioctl(fd, VFIO_GET_API_VERSION), VFIO_API_VERSION, "VFIO_GET_API_VERSION on /dev/iommu");
	EXPECT_ERR(ENODEV, ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), "VFIO_SET_IOMMU before any IOAS: ENODEV (ref U18)");
	ioas = ioas_alloc(fd);
	v = (struct iommu_vfio_ioas){ .size = sizeof(v), .op = IOMMU_VFIO_IOAS_SET, .ioas_id = (uint32_t)ioas };
	EXPECT_OK(ioctl(fd, IOMMU_VFIO_IOAS, &v), "VFIO_IOAS SET");
	EXPECT_OK(ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), "VFIO_SET_IOMMU TYPE1v2 on the compat IOAS");
	{
		struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = 3, .vaddr = (uintptr_t)buf,
			.iova = 0x10000, .size = 2 * PG };
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = 0x10000, .size = PG };
		struct {
			struct vfio_iommu_type1_info info;
			uint8_t caps[256];
		} gi = { .info.argsz = sizeof(gi) };

		EXPECT_OK(ioctl(fd, VFIO_IOMMU_MAP_DMA, &m), "VFIO_IOMMU_MAP_DMA through iommufd");
		EXPECT_ERR(ENOENT, ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &u), "v2 UNMAP half a mapping: ENOENT (iopt_unmap_iova)");
		u.size = 2 * PG;
		EXPECT_OK(ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &u), "UNMAP the whole mapping");
		EXPECT_EQ(u.size, 2 * PG, "... size 8 KiB");
		EXPECT_OK(ioctl(fd, VFIO_IOMMU_GET_INFO, &gi), "VFIO_IOMMU_GET_INFO");
		check(gi.info.flags == (VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS) &&
		      gi.info.cap_offset == sizeof(gi.info), "... PGSIZES | CAPS, caps follow the struct (ref 8.4)");
		{
			struct vfio_iommu_type1_info_dma_avail *dav = (void *)gi.caps;

			check(dav->header.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL && dav->avail == UINT32_MAX,
			      "... first capability DMA_AVAIL = U32_MAX (ref 8.4)");
		}
	}
	EXPECT_OK(destroy(fd, (uint32_t)ioas), "DESTROY the compat IOAS");
	munmap(buf, 4 * PG);
}

static void test_closed(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	check(fd >= 0, "open /dev/iommu");
	close(fd);
	EXPECT_ERR(EBADF, ioctl(fd, IOMMU_IOAS_ALLOC, &a), "IOAS_ALLOC on a closed iommufd: EBADF");
}

int main(int argc, char **argv)
{
	const char *scenario = argc > 1 ? argv[1] : "";
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s intel|amd|k61|nointremap\n", argv[0]);
		return 2;
	}
	model_dma = (dma_fn)dlsym(RTLD_DEFAULT, "iommu_model_dma");
	if (!model_dma) {
		printf("Bail out! run me under `iommu run` (iommu_model_dma not found)\n");
		return 1;
	}
	if (!strcmp(scenario, "intel")) {
		fd = open("/dev/iommu", O_RDWR);
		check(fd >= 0, "open /dev/iommu");
		{
			struct stat st;

			check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10,
			      "/dev/iommu is a misc char device");
		}
		test_framework(fd);
		test_ids(fd);
		test_ioas(fd);
		close(fd);
		fd = open("/dev/iommu", O_RDWR);
		test_devices(fd);
		close(fd);
		test_two_contexts();
		fd = open("/dev/iommu", O_RDWR);
		test_option_compat(fd);
		close(fd);
		test_closed();
	} else if (!strcmp(scenario, "amd")) {
		struct iommu_iova_range r[8];
		uint8_t *buf = page_buf(4 * PG), back[8];
		uint32_t dev, ioas, pt, n;
		uint64_t align, iova = 0x200000;
		bool hole = false;
		int c;

		fd = open("/dev/iommu", O_RDWR);
		c = cdev_open(0);
		EXPECT_OK(bind(c, fd, &dev), "BIND 0000:02:00.0 on AMD");
		ioas = (uint32_t)ioas_alloc(fd);
		pt = ioas;
		EXPECT_OK(attach(c, &pt), "ATTACH to an automatic domain");
		EXPECT_OK(ranges(fd, ioas, 8, r, &n, &align), "IOVA_RANGES");
		for (uint32_t i = 0; i + 1 < n; i++)
			if (r[i].last == 0xfcffffffffULL && r[i + 1].start == 0x10000000000ULL)
				hole = true;
		check(hole && r[n - 1].last == UINT64_MAX,
		      "... the HyperTransport range 0xfd00000000-0xffffffffff reserved, the aperture all of 64 bits (ref 4.4)");
		{
			struct iommu_hw_info q = { .size = sizeof(q), .dev_id = dev, .data_len = 8,
				.data_uptr = (uintptr_t)back };

			memset(back, 0xff, sizeof(back));
			EXPECT_OK(ioctl(fd, IOMMU_GET_HW_INFO, &q), "GET_HW_INFO");
			check(q.out_data_type == IOMMU_HW_INFO_TYPE_NONE && q.data_len == 0 && back[0] == 0 && back[7] == 0,
			      "... AMD in 6.12 has no hw_info: type NONE, data_len 0, the buffer zeroed");
		}
		memcpy(buf, "amd", 4);
		EXPECT_OK(map(fd, ioas, RW | FIXED, buf, PG, &iova), "MAP");
		check(bus_master(c), "Bus Master Enable");
		EXPECT_OK(dma("0000:02:00.0", 0x200000, back, 4, false), "DMA through the AMD domain");
		check(!memcmp(back, "amd", 4), "... the program's bytes");
		close(c);
		close(fd);
	} else if (!strcmp(scenario, "k61")) {
		EXPECT_ERR(ENOENT, open("/dev/iommu", O_RDWR), "6.1 has no /dev/iommu (iommufd is 6.2)");
		EXPECT_ERR(ENOENT, open("/dev/vfio/devices/vfio0", O_RDWR), "6.1 has no VFIO device cdevs (6.6)");
	} else if (!strcmp(scenario, "nointremap")) {
		int c = cdev_open(0);

		fd = open("/dev/iommu", O_RDWR);
		EXPECT_ERR(EPERM, bind(c, fd, NULL),
			   "BIND without interrupt remapping: EPERM (iommufd_device_bind, allow_unsafe_interrupts off)");
		close(c);
		close(fd);
	} else {
		fprintf(stderr, "unknown scenario %s\n", scenario);
		return 2;
	}
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
