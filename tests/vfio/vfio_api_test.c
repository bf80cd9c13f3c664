// SPDX-License-Identifier: MIT
/*
 * vfio_api_test: an ordinary VFIO program, run through `iommu run`, that
 * drives every ioctl of the VFIO container, group and device files with
 * real system calls and asserts the kernel's answer to each, errno
 * included.  Every expectation names where it comes from: the reference
 * notes (../shared/reference/linux-iommu-behaviour.md, "ref 8.x" and the
 * test table "ref V1".."V16") or the kernel function.  TAP output.
 *
 *   vfio_api_test intel SNAPSHOT    i-vfio, --vfio 0000:03:00.0,0000:02:01.0
 *   vfio_api_test amd SNAPSHOT      i2-vfio-amd, --vfio 0000:02:00.0
 *   vfio_api_test k612 SNAPSHOT     i-vfio with --kernel 6.12 (same binds)
 *   vfio_api_test limit2 SNAPSHOT   i-vfio with --dma-entry-limit 2
 *   vfio_api_test memlock SNAPSHOT  i-vfio with --user and a 64 KiB
 *                                   RLIMIT_MEMLOCK
 *   vfio_api_test nointremap SNAPSHOT  i-vfio with --cmdline "intremap=off"
 *
 * The modelled device's DMA goes through iommu_model_dma(), exported by
 * the preload library (dlsym); without it the program says it must run
 * under `iommu run` and fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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

typedef int (*dma_fn)(int, const char *, uint64_t, void *, size_t, int);
typedef int (*irq_fn)(int, unsigned, unsigned);
static dma_fn model_dma;
static irq_fn model_irq;

static const char *snapshot;

static long status_flags(int g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(g, VFIO_GROUP_GET_STATUS, &st))
		return -1;
	return st.flags;
}

static int map(int c, void *vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = flags,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size };

	return ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap(int c, uint64_t iova, uint64_t size, uint32_t flags, uint64_t *done)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .flags = flags,
		.iova = iova, .size = size };
	int r = ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);

	if (done)
		*done = u.size;
	return r;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static void *page_buf(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("Bail out! mmap %zu: %s\n", size, strerror(errno));
		exit(1);
	}
	memset(p, 0, size);
	return p;
}

/* The capability chain of a GET_INFO answer into the fields we test. */
struct info_caps {
	bool migration, dma_avail, iova;
	uint32_t avail, nr;
	uint64_t mig_pgsize, mig_max;
	struct vfio_iova_range r[8];
	uint32_t first_off;
};

static int iommu_info(int c, struct vfio_iommu_type1_info **out, struct info_caps *caps)
{
	struct vfio_iommu_type1_info *info = calloc(1, sizeof(*info));
	uint32_t need, off;

	info->argsz = sizeof(*info);
	if (ioctl(c, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return -1;
	}
	need = info->argsz;
	info = realloc(info, need);
	memset(info, 0, need);
	info->argsz = need;
	if (ioctl(c, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return -1;
	}
	memset(caps, 0, sizeof(*caps));
	caps->first_off = info->cap_offset;
	for (off = info->cap_offset; off && off < need;) {
		struct vfio_info_cap_header h;

		memcpy(&h, (char *)info + off, sizeof(h));
		if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
			struct vfio_iommu_type1_info_cap_migration m;

			memcpy(&m, (char *)info + off, sizeof(m));
			caps->migration = true;
			caps->mig_pgsize = m.pgsize_bitmap;
			caps->mig_max = m.max_dirty_bitmap_size;
		} else if (h.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			struct vfio_iommu_type1_info_dma_avail a;

			memcpy(&a, (char *)info + off, sizeof(a));
			caps->dma_avail = true;
			caps->avail = a.avail;
		} else if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range r;

			memcpy(&r, (char *)info + off, sizeof(r));
			caps->iova = true;
			caps->nr = r.nr_iovas;
			for (uint32_t i = 0; i < r.nr_iovas && i < 8; i++)
				memcpy(&caps->r[i], (char *)info + off + sizeof(r) + i * sizeof(caps->r[0]),
				       sizeof(caps->r[0]));
		}
		off = h.next;
	}
	*out = info;
	return 0;
}

static uint64_t eventfd_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int set_irqs(int d, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		    const void *data, size_t dlen)
{
	char buf[sizeof(struct vfio_irq_set) + 256];
	struct vfio_irq_set *s = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	s->argsz = (uint32_t)(sizeof(*s) + dlen);
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (dlen)
		memcpy(s->data, data, dlen);
	return ioctl(d, VFIO_DEVICE_SET_IRQS, s);
}

/* ------------------------------------------------------------------ */
/* Container and group rules                                            */

static void test_container_and_groups(const char *scenario)
{
	int c, c2, g5, g4, r, nul;

	(void)scenario;
	c = open("/dev/vfio/vfio", O_RDWR);
	check(c >= 0, "open /dev/vfio/vfio");
	/* container.c vfio_fops_unl_ioctl: VFIO_API_VERSION */
	check(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "VFIO_GET_API_VERSION is 0");
	/* ref 8.2 / 8.3: TYPE1, TYPE1v2, UNMAP_ALL answered by type1 */
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1, "CHECK_EXTENSION(TYPE1) = 1");
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1, "CHECK_EXTENSION(TYPE1v2) = 1");
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL) == 1, "CHECK_EXTENSION(UNMAP_ALL) = 1");
	/* ref 8.5: NOIOMMU only while the module parameter is on */
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) == 0, "CHECK_EXTENSION(NOIOMMU) = 0 with noiommu off");
	/* ref V5: UPDATE_VADDR 0 before SET_IOMMU */
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR) == 0, "CHECK_EXTENSION(UPDATE_VADDR) = 0 before SET_IOMMU (ref V5)");
	/* ref 8.3: DMA_CC_IOMMU 0 without a container */
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU) == 0, "CHECK_EXTENSION(DMA_CC_IOMMU) = 0 before SET_IOMMU");
	check(ioctl(c, VFIO_CHECK_EXTENSION, 999) == 0, "CHECK_EXTENSION(999) = 0");
	/* ref V4: SET_IOMMU on a container with no group */
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU),
		   "SET_IOMMU without a group: EINVAL (ref V4, vfio_ioctl_set_iommu)");
	/* vfio_fops_unl_ioctl: ret stays -EINVAL without an IOMMU driver */
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_GET_INFO, NULL), "GET_INFO without an IOMMU driver: EINVAL");
	EXPECT_ERR(EINVAL, ioctl(c, _IO(VFIO_TYPE, VFIO_BASE + 77)), "unknown container ioctl without a driver: EINVAL");

	/* ref 8.1: no node for a group without a vfio-pci device */
	EXPECT_ERR(ENOENT, open("/dev/vfio/3", O_RDWR), "open /dev/vfio/3 (no VFIO device in group 3): ENOENT");
	g5 = open("/dev/vfio/5", O_RDWR);
	check(g5 >= 0, "open /dev/vfio/5");
	/* ref V3: single opener */
	EXPECT_ERR(EBUSY, open("/dev/vfio/5", O_RDWR), "second open of /dev/vfio/5: EBUSY (ref V3, vfio_group_fops_open)");
	{
		struct stat st;

		/* ref 8.1: nodes and minors in bind order (the capture's ls) */
		check(stat("/dev/vfio/5", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 0,
		      "/dev/vfio/5 is a char device with minor 0 (bound first)");
		check(stat("/dev/vfio/4", &st) == 0 && minor(st.st_rdev) == 1,
		      "/dev/vfio/4 has minor 1 (bound second)");
		check(fstat(g5, &st) == 0 && S_ISCHR(st.st_mode), "fstat of the group descriptor: a char device");
	}
	{
		struct vfio_group_status st = { .argsz = 4 };

		/* vfio_group_ioctl_get_status: argsz < minsz */
		EXPECT_ERR(EINVAL, ioctl(g5, VFIO_GROUP_GET_STATUS, &st), "GET_STATUS with argsz 4: EINVAL");
	}
	EXPECT_ERR(EFAULT, ioctl(g5, VFIO_GROUP_GET_STATUS, NULL), "GET_STATUS with a NULL pointer: EFAULT");
	/* ref V2 */
	check(status_flags(g5) == VFIO_GROUP_FLAGS_VIABLE, "group 5 is viable (ref V2)");
	g4 = open("/dev/vfio/4", O_RDWR);
	check(g4 >= 0, "open /dev/vfio/4");
	/* ref V1: 02:02.0 is bound to 8139cp, a DMA-API driver */
	check(status_flags(g4) == 0, "group 4 (8139cp bound to 02:02.0) is not viable (ref V1)");
	EXPECT_ERR(EPERM, ioctl(g4, VFIO_GROUP_SET_CONTAINER, &c),
		   "SET_CONTAINER of the non-viable group 4: EPERM (ref V1, iommu_group_claim_dma_owner)");
	/* vfio_group_ioctl_get_device_fd -> vfio_group_use_container */
	EXPECT_ERR(EINVAL, ioctl(g5, VFIO_GROUP_GET_DEVICE_FD, "0000:03:00.0"),
		   "GET_DEVICE_FD before SET_CONTAINER: EINVAL");
	{
		int bad = 9999;

		/* vfio_group_ioctl_set_container: fdget */
		EXPECT_ERR(EBADF, ioctl(g5, VFIO_GROUP_SET_CONTAINER, &bad), "SET_CONTAINER of fd 9999: EBADF");
	}
	nul = open("/dev/null", O_RDWR);
	EXPECT_ERR(EBADFD, ioctl(g5, VFIO_GROUP_SET_CONTAINER, &nul),
		   "SET_CONTAINER of /dev/null: EBADFD (the FD passed is not recognized)");
	EXPECT_ERR(EBADFD, ioctl(g5, VFIO_GROUP_SET_CONTAINER, &g4),
		   "SET_CONTAINER of another group's descriptor: EBADFD");
	EXPECT_ERR(EFAULT, ioctl(g5, VFIO_GROUP_SET_CONTAINER, NULL), "SET_CONTAINER with a NULL pointer: EFAULT");
	/* ref 8.1 UNSET_CONTAINER */
	EXPECT_ERR(EINVAL, ioctl(g5, VFIO_GROUP_UNSET_CONTAINER), "UNSET_CONTAINER without a container: EINVAL");
	EXPECT_ERR(ENOTTY, ioctl(g5, _IO(VFIO_TYPE, VFIO_BASE + 50)), "unknown group ioctl: ENOTTY");
	EXPECT_ERR(ENOTTY, ioctl(g5, VFIO_IOMMU_MAP_DMA, NULL), "a container ioctl on a group file: ENOTTY");

	r = ioctl(g5, VFIO_GROUP_SET_CONTAINER, &c);
	check(r == 0, "SET_CONTAINER group 5");
	check(status_flags(g5) == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
	      "group 5 status: VIABLE | CONTAINER_SET");
	/* ref 8.1: already has a container */
	EXPECT_ERR(EINVAL, ioctl(g5, VFIO_GROUP_SET_CONTAINER, &c), "second SET_CONTAINER: EINVAL");
	c2 = open("/dev/vfio/vfio", O_RDWR);
	EXPECT_ERR(EINVAL, ioctl(g5, VFIO_GROUP_SET_CONTAINER, &c2), "SET_CONTAINER to a second container: EINVAL");
	close(c2);
	EXPECT_ERR(EINVAL, ioctl(g5, VFIO_GROUP_GET_DEVICE_FD, "0000:03:00.0"),
		   "GET_DEVICE_FD before SET_IOMMU: EINVAL (no IOMMU driver in the container)");
	/* ref 8.2: SET_IOMMU -ENODEV when no backend takes the type */
	EXPECT_ERR(ENODEV, ioctl(c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU),
		   "SET_IOMMU(NOIOMMU) on a real container: ENODEV");
	EXPECT_ERR(ENODEV, ioctl(c, VFIO_SET_IOMMU, 999), "SET_IOMMU(999): ENODEV");
	/* ref V5: UPDATE_VADDR answers 0 without a container's driver, so no
	 * backend opens it */
	EXPECT_ERR(ENODEV, ioctl(c, VFIO_SET_IOMMU, VFIO_UPDATE_VADDR), "SET_IOMMU(UPDATE_VADDR): ENODEV");
	check(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0, "SET_IOMMU(TYPE1v2)");
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), "second SET_IOMMU: EINVAL (driver set)");
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR) == 1, "CHECK_EXTENSION(UPDATE_VADDR) = 1 after SET_IOMMU (ref V5)");
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1, "CHECK_EXTENSION(TYPE1) = 1 with the driver set");
	EXPECT_ERR(ENOTTY, ioctl(c, _IO(VFIO_TYPE, VFIO_BASE + 77)), "unknown container ioctl with type1: ENOTTY");
	EXPECT_ERR(ENOTTY, ioctl(c, VFIO_GROUP_GET_STATUS, NULL), "a group ioctl on the container: ENOTTY (type1)");

	/* Unwind: UNSET_CONTAINER returns the group to viable. */
	check(ioctl(g5, VFIO_GROUP_UNSET_CONTAINER) == 0, "UNSET_CONTAINER");
	check(status_flags(g5) == VFIO_GROUP_FLAGS_VIABLE, "group 5 viable again after UNSET_CONTAINER");
	/* The container lost its last group: deprivileged */
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_GET_INFO, NULL), "container without groups has no driver: EINVAL");
	close(g4);
	close(g5);
	close(c);
	close(nul);
	/* closed descriptors */
	EXPECT_ERR(EBADF, ioctl(c, VFIO_GET_API_VERSION), "ioctl on a closed container descriptor: EBADF");
	/* The group can be opened again once closed. */
	g5 = open("/dev/vfio/5", O_RDWR);
	check(g5 >= 0, "reopen /dev/vfio/5 after close");
	close(g5);
}

/* ------------------------------------------------------------------ */
/* Type1 v2: GET_INFO, MAP_DMA, UNMAP_DMA, DMA                          */

static int setup(int *pc, int *pg, const char *grp, uint32_t type)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	*pc = open("/dev/vfio/vfio", O_RDWR);
	*pg = open(path, O_RDWR);
	if (*pc < 0 || *pg < 0 || ioctl(*pg, VFIO_GROUP_SET_CONTAINER, pc) ||
	    ioctl(*pc, VFIO_SET_IOMMU, type)) {
		printf("Bail out! set up %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return 0;
}

static void test_info(int c, bool amd, bool k612)
{
	struct vfio_iommu_type1_info info, *full;
	struct info_caps caps;
	uint32_t want_argsz;

	memset(&info, 0, sizeof(info));
	info.argsz = 8;
	/* vfio_iommu_type1_get_info: argsz < offsetofend(iova_pgsizes) */
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_GET_INFO, &info), "GET_INFO argsz 8: EINVAL");
	EXPECT_ERR(EFAULT, ioctl(c, VFIO_IOMMU_GET_INFO, NULL), "GET_INFO NULL: EFAULT");
	/* argsz 16: the minimum; cap_offset is beyond what is copied back */
	memset(&info, 0, sizeof(info));
	info.argsz = 16;
	info.cap_offset = 0xdeadbeef;
	check(ioctl(c, VFIO_IOMMU_GET_INFO, &info) == 0 && info.cap_offset == 0xdeadbeef &&
	      (info.flags & VFIO_IOMMU_INFO_CAPS),
	      "GET_INFO argsz 16: flags PGSIZES|CAPS, cap_offset untouched (only 16 bytes copied back)");
	/* ref 8.3: too small for the chain: argsz = what is needed */
	want_argsz = amd ? 132 : 116;
	if (k612)       /* 6.6+: each capability padded to 8 bytes */
		want_argsz += 4;
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	check(ioctl(c, VFIO_IOMMU_GET_INFO, &info) == 0 && info.argsz == want_argsz && info.cap_offset == 0,
	      "GET_INFO argsz 24: argsz = %u (needed), cap_offset 0", want_argsz);
	check(iommu_info(c, &full, &caps) == 0, "GET_INFO with the whole chain");
	if (!full)
		return;
	check(full->flags == (VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS) && caps.first_off == 24,
	      "GET_INFO flags PGSIZES|CAPS, first capability at 24");
	check(full->iova_pgsizes == (amd ? 0xffffff7ffffff000ULL : 0x40201000ULL),
	      "iova_pgsizes = %s", amd ? "AMD v1 table sizes" : "4K|2M|1G (QEMU VT-d SLLPS)");
	check(caps.migration && caps.mig_pgsize == 0x1000 && caps.mig_max == 0x10000000,
	      "migration capability: pgsize 4K, max dirty bitmap 0x10000000");
	check(caps.dma_avail && caps.avail == 65535, "DMA available: 65535 (dma_entry_limit)");
	if (amd)
		check(caps.iova && caps.nr == 3 && caps.r[0].end == 0xfedfffff && caps.r[1].start == 0xfef00000 &&
		      caps.r[1].end == 0xfcffffffffULL && caps.r[2].start == 0x10000000000ULL &&
		      caps.r[2].end == UINT64_MAX,
		      "IOVA ranges: the MSI window and the HyperTransport range excluded (ref 8.3)");
	else
		check(caps.iova && caps.nr == 2 && caps.r[0].start == 0 && caps.r[0].end == 0xfedfffff &&
		      caps.r[1].start == 0xfef00000 && caps.r[1].end == 0x7fffffffffULL,
		      "IOVA ranges: 39-bit aperture minus the MSI window (ref 8.3)");
	free(full);
}

static void test_map_unmap(int c, int dev, bool amd)
{
	size_t bsz = 4 << 20;
	uint8_t *buf = page_buf(bsz), *ro;
	struct vfio_iommu_type1_dma_map m;
	struct info_caps caps;
	struct vfio_iommu_type1_info *full;
	uint64_t done;
	void *hole;

	/* vfio_iommu_type1_map_dma: argsz and flags */
	memset(&m, 0, sizeof(m));
	m.argsz = 31;
	m.flags = RW;
	m.vaddr = (uintptr_t)buf;
	m.iova = 0x100000;
	m.size = 0x1000;
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_MAP_DMA, &m), "MAP_DMA argsz 31: EINVAL");
	EXPECT_ERR(EFAULT, ioctl(c, VFIO_IOMMU_MAP_DMA, NULL), "MAP_DMA NULL: EFAULT");
	EXPECT_ERR(EINVAL, map(c, buf, 0x100000, 0x1000, RW | (1u << 3)), "MAP_DMA unknown flag bit 3: EINVAL");
	/* vfio_dma_do_map: neither R nor W without VADDR, R/W with VADDR */
	EXPECT_ERR(EINVAL, map(c, buf, 0x100000, 0x1000, 0), "MAP_DMA without READ or WRITE: EINVAL");
	EXPECT_ERR(EINVAL, map(c, buf, 0x100000, 0x1000, RW | VFIO_DMA_MAP_FLAG_VADDR),
		   "MAP_DMA READ|WRITE with VADDR: EINVAL");
	/* ref V7 */
	EXPECT_ERR(EINVAL, map(c, buf, 0x100000, 0, RW), "MAP_DMA size 0: EINVAL (ref V7)");
	EXPECT_ERR(EINVAL, map(c, buf, 0x1800, 0x1000, RW), "MAP_DMA iova 0x1800: EINVAL (ref V7)");
	EXPECT_ERR(EINVAL, map(c, buf + 0x10, 0x100000, 0x1000, RW), "MAP_DMA unaligned vaddr: EINVAL");
	EXPECT_ERR(EINVAL, map(c, buf, 0x100000, 0x800, RW), "MAP_DMA size 0x800: EINVAL");
	EXPECT_ERR(EINVAL, map(c, buf, 0xfffffffffffff000ULL, 0x2000, RW), "MAP_DMA wrapping iova: EINVAL");
	/* ref V6 */
	check(map(c, buf, 0x100000, 0x200000, RW) == 0, "MAP_DMA [0x100000, +2M)");
	EXPECT_ERR(EEXIST, map(c, buf, 0x200000, 0x1000, RW), "MAP_DMA [0x200000, +4K) overlapping: EEXIST (ref V6)");
	EXPECT_ERR(EEXIST, map(c, buf, 0x0, 0x200000, RW), "MAP_DMA [0, +2M) overlapping the start: EEXIST");
	/* ref 8.3: the valid IOVA list (vfio_iommu_iova_dma_valid) */
	EXPECT_ERR(EINVAL, map(c, buf, 0xfee00000, 0x1000, RW), "MAP_DMA in the MSI window: EINVAL");
	EXPECT_ERR(EINVAL, map(c, buf, 0xfedff000, 0x2000, RW), "MAP_DMA straddling the MSI window: EINVAL");
	if (amd) {
		check(map(c, buf, 1ULL << 39, 0x1000, RW) == 0, "MAP_DMA at 2^39 (AMD: 64-bit aperture)");
		EXPECT_ERR(EINVAL, map(c, buf, 0xfd00000000ULL, 0x1000, RW),
			   "MAP_DMA in the HyperTransport range: EINVAL");
		check(unmap(c, 1ULL << 39, 0x1000, 0, &done) == 0 && done == 0x1000, "UNMAP_DMA at 2^39");
	} else {
		EXPECT_ERR(EINVAL, map(c, buf, 1ULL << 39, 0x1000, RW), "MAP_DMA at 2^39, past the 39-bit aperture: EINVAL");
	}
	/* vaddr_get_pfns: an address with nothing mapped is -EFAULT */
	hole = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, 0x4000);
	EXPECT_ERR(EFAULT, map(c, hole, 0x400000, 0x4000, RW), "MAP_DMA of unmapped memory: EFAULT");
	/* partly mapped: pinning stops at the hole, the whole map unwinds */
	hole = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap((char *)hole + 0x2000, 0x2000);
	EXPECT_ERR(EFAULT, map(c, hole, 0x400000, 0x4000, RW), "MAP_DMA of half-mapped memory: EFAULT");
	check(map(c, buf, 0x400000, 0x4000, RW) == 0, "...and nothing stayed mapped at that IOVA");
	check(unmap(c, 0x400000, 0x4000, 0, &done) == 0 && done == 0x4000, "UNMAP_DMA of it");
	munmap(hole, 0x2000);
	/* FOLL_WRITE on read-only memory fails; READ-only maps pin it */
	ro = mmap(NULL, 0x2000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERR(EFAULT, map(c, ro, 0x600000, 0x2000, RW), "MAP_DMA WRITE of read-only memory: EFAULT");
	check(map(c, ro, 0x600000, 0x2000, VFIO_DMA_MAP_FLAG_READ) == 0, "MAP_DMA READ of read-only memory");

	/* The device's DMA through the IOMMU lands in the pinned pages. */
	if (model_dma) {
		uint8_t pattern[64], back[64];
		uint16_t cmd;

		/* vfio_pci_core_enable left bus mastering off: no DMA yet */
		EXPECT_ERR(EIO, model_dma(dev, NULL, 0x100000, back, 4, 0),
			   "device DMA before the driver enables bus mastering: not issued (EIO)");
		check(pread(dev, &cmd, 2, (7ULL << 40) + PCI_COMMAND) == 2, "read the command register");
		cmd |= PCI_COMMAND_MASTER;
		check(pwrite(dev, &cmd, 2, (7ULL << 40) + PCI_COMMAND) == 2, "enable bus mastering");

		for (int i = 0; i < 64; i++)
			pattern[i] = (uint8_t)(0xa0 + i);
		check(model_dma(dev, NULL, 0x100000 + 0x1230, pattern, sizeof(pattern), 1) == 0 &&
		      !memcmp(buf + 0x1230, pattern, sizeof(pattern)),
		      "device DMA write at IOVA 0x101230 lands in the mapped buffer");
		memcpy(buf + 0x5000, "from the CPU", 13);
		check(model_dma(dev, NULL, 0x105000, back, 13, 0) == 0 && !memcmp(back, "from the CPU", 13),
		      "device DMA read at IOVA 0x105000 sees what the CPU wrote");
		EXPECT_ERR(EFAULT, model_dma(dev, NULL, 0x600000, pattern, 8, 1),
			   "device DMA write to a READ-only mapping: the IOMMU faults");
		check(model_dma(dev, NULL, 0x600000, back, 8, 0) == 0, "device DMA read of the READ-only mapping");
		EXPECT_ERR(EFAULT, model_dma(dev, NULL, 0x800000, back, 8, 0),
			   "device DMA at an unmapped IOVA: the IOMMU faults");
		/* the same page mapped twice is one physical page */
		check(map(c, buf, 0x900000, 0x1000, RW) == 0 &&
		      model_dma(dev, NULL, 0x900000 + 0x10, "alias", 5, 1) == 0 &&
		      model_dma(dev, NULL, 0x100000 + 0x10, back, 5, 0) == 0 && !memcmp(back, "alias", 5),
		      "one user page mapped at two IOVAs: a write at one reads back at the other");
		check(unmap(c, 0x900000, 0x1000, 0, NULL) == 0, "UNMAP_DMA of the alias");
	}
	check(unmap(c, 0x600000, 0x2000, 0, &done) == 0 && done == 0x2000, "UNMAP_DMA of the read-only map");
	munmap(ro, 0x2000);

	/* dma_avail counts the mappings */
	check(iommu_info(c, &full, &caps) == 0 && caps.avail == 65534, "DMA available 65534 with one mapping");
	free(full);

	/* UNMAP_DMA (vfio_iommu_type1_unmap_dma, vfio_dma_do_unmap) */
	{
		struct vfio_iommu_type1_dma_unmap u = { .argsz = 23, .iova = 0x100000, .size = 0x200000 };

		EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u), "UNMAP_DMA argsz 23: EINVAL");
	}
	EXPECT_ERR(EINVAL, unmap(c, 0x100000, 0x200000, 1u << 5, NULL), "UNMAP_DMA unknown flag: EINVAL");
	EXPECT_ERR(EINVAL, unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, NULL),
		   "UNMAP_DMA ALL|GET_DIRTY_BITMAP: EINVAL");
	EXPECT_ERR(EINVAL, unmap(c, 0x100800, 0x1000, 0, NULL), "UNMAP_DMA unaligned iova: EINVAL");
	EXPECT_ERR(EINVAL, unmap(c, 0x100000, 0, 0, NULL), "UNMAP_DMA size 0: EINVAL");
	/* ref V9 (and the capture's partial_of_2M: size is not written back) */
	check(unmap(c, 0x200000, 0x1000, 0, &done) == -1 && errno == EINVAL && done == 0x1000,
	      "v2 UNMAP_DMA inside a mapping: EINVAL, size untouched (ref V9)");
	EXPECT_ERR(EINVAL, unmap(c, 0x100000, 0x1000, 0, NULL), "v2 UNMAP_DMA of the first page only: EINVAL");
	/* ref V12 */
	check(unmap(c, 0x10000000, 0x100000, 0, &done) == 0 && done == 0, "v2 UNMAP_DMA of an empty range: size 0 (ref V12)");
	/* ref V13 */
	EXPECT_ERR(EINVAL, unmap(c, 0, 0x1000, VFIO_DMA_UNMAP_FLAG_ALL, NULL), "UNMAP_DMA ALL with a size: EINVAL (ref V13)");
	EXPECT_ERR(EINVAL, unmap(c, 0x1000, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL), "UNMAP_DMA ALL with an iova: EINVAL");

	/* VADDR: invalidate and update (live update, ref 8.3) */
	{
		uint8_t *buf2 = page_buf(0x200000), back[8];

		EXPECT_ERR(ENOENT, map(c, buf2, 0x10000000, 0x1000, VFIO_DMA_MAP_FLAG_VADDR),
			   "MAP_DMA VADDR with no mapping there: ENOENT");
		EXPECT_ERR(EINVAL, map(c, buf2, 0x100000, 0x200000, VFIO_DMA_MAP_FLAG_VADDR),
			   "MAP_DMA VADDR of a mapping not invalidated: EINVAL");
		check(unmap(c, 0x100000, 0x200000, VFIO_DMA_UNMAP_FLAG_VADDR, &done) == 0 && done == 0x200000,
		      "UNMAP_DMA VADDR invalidates the mapping's vaddr (size 2M)");
		check(unmap(c, 0x100000, 0x200000, VFIO_DMA_UNMAP_FLAG_VADDR, &done) == -1 && errno == EINVAL,
		      "UNMAP_DMA VADDR of an invalidated mapping: EINVAL");
		EXPECT_ERR(EINVAL, map(c, buf2, 0x100000, 0x1000, VFIO_DMA_MAP_FLAG_VADDR),
			   "MAP_DMA VADDR with another size: EINVAL");
		check(map(c, buf2, 0x100000, 0x200000, VFIO_DMA_MAP_FLAG_VADDR) == 0,
		      "MAP_DMA VADDR gives the mapping its new vaddr");
		/* the pinned pages stay those of the first buffer */
		if (model_dma)
			check(model_dma(dev, NULL, 0x101230, back, 4, 0) == 0 && back[0] == 0xa0,
			      "the IOMMU still maps the pages pinned at MAP_DMA");
		munmap(buf2, 0x200000);
	}
	/* UNMAP ALL */
	check(map(c, buf, 0x20000000, 0x3000, RW) == 0, "MAP_DMA a second mapping");
	check(unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done) == 0 && done == 0x203000,
	      "UNMAP_DMA ALL removes both (size 0x203000)");
	if (model_dma) {
		uint8_t b[4];

		EXPECT_ERR(EFAULT, model_dma(dev, NULL, 0x100000, b, 4, 0), "device DMA after UNMAP ALL: faults");
	}
	check(iommu_info(c, &full, &caps) == 0 && caps.avail == 65535, "DMA available back to 65535");
	free(full);
	munmap(buf, bsz);
}

static void test_dirty(int c)
{
	uint8_t *buf = page_buf(0x10000);
	__u64 bitmap[2] = { 0, 0 };
	char raw[sizeof(struct vfio_iommu_type1_dirty_bitmap) + sizeof(struct vfio_iommu_type1_dirty_bitmap_get)];
	struct vfio_iommu_type1_dirty_bitmap *d = (void *)raw;
	struct vfio_iommu_type1_dirty_bitmap_get *g = (void *)d->data;

	memset(raw, 0, sizeof(raw));
	d->argsz = sizeof(*d);
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	/* vfio_iommu_type1_dirty_pages: exactly one flag */
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d), "DIRTY_PAGES START|STOP: EINVAL");
	d->flags = 1u << 3;
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d), "DIRTY_PAGES unknown flag: EINVAL");
	check(map(c, buf, 0x40000000, 0x10000, RW) == 0, "MAP_DMA 64K for dirty tracking");
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	d->argsz = sizeof(raw);
	g->iova = 0x40000000;
	g->size = 0x10000;
	g->bitmap.pgsize = 0x1000;
	g->bitmap.size = sizeof(bitmap);
	g->bitmap.data = bitmap;
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d), "GET_BITMAP while not tracking: EINVAL");
	d->argsz = sizeof(*d);
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	check(ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d) == 0, "DIRTY_PAGES START");
	d->argsz = sizeof(raw);
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	g->bitmap.pgsize = 0x2000;
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d), "GET_BITMAP with pgsize 8K (not the minimum): EINVAL");
	g->bitmap.pgsize = 0x1000;
	g->size = 0x8000;
	EXPECT_ERR(EINVAL, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d), "GET_BITMAP bisecting a mapping: EINVAL");
	g->size = 0x10000;
	check(ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d) == 0 && bitmap[0] == 0xffff,
	      "GET_BITMAP: all 16 pages of an IOMMU-mapped DMA dirty (ref 8.3)");
	d->argsz = sizeof(*d);
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	check(ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d) == 0, "DIRTY_PAGES STOP");
	check(unmap(c, 0x40000000, 0x10000, 0, NULL) == 0, "UNMAP_DMA after dirty tracking");
	munmap(buf, 0x10000);
}

/* ------------------------------------------------------------------ */
/* Device file                                                          */

struct region_want {
	uint32_t flags;
	uint64_t size;
};

static void test_device(int g, int c, const char *bdf, const struct region_want *rw, bool k612)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	char name[5000];
	int d, d2;

	(void)c;
	/* vfio_device_get_from_name / vfio_pci_core_match */
	EXPECT_ERR(ENODEV, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:ff:1f.7"), "GET_DEVICE_FD of a device not in the group: ENODEV");
	snprintf(name, sizeof(name), "%sx", bdf);
	EXPECT_ERR(ENODEV, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), "GET_DEVICE_FD \"BDFx\": ENODEV (no match)");
	snprintf(name, sizeof(name), "%s vf_token=2ab74924-c335-45f4-9b16-8569e5b08258", bdf);
	EXPECT_ERR(EINVAL, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name),
		   "GET_DEVICE_FD with a vf_token for a device that is no PF or VF: EINVAL");
	snprintf(name, sizeof(name), "%s flavour=vanilla", bdf);
	EXPECT_ERR(EINVAL, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), "GET_DEVICE_FD with an unknown option: EINVAL");
	memset(name, 'a', sizeof(name));
	/* strndup_user(arg, PAGE_SIZE): no NUL within a page */
	EXPECT_ERR(EINVAL, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), "GET_DEVICE_FD with a 5000-byte unterminated name: EINVAL");
	EXPECT_ERR(EFAULT, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NULL), "GET_DEVICE_FD NULL: EFAULT");
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(d >= 0, "GET_DEVICE_FD %s", bdf);
	d2 = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(d2 >= 0 && d2 != d, "a second GET_DEVICE_FD of the same device: another descriptor");
	close(d2);
	check(fcntl(d, F_GETFD) == FD_CLOEXEC, "the device descriptor is close-on-exec");
	/* ref 8.1 UNSET_CONTAINER while a device is open */
	EXPECT_ERR(EBUSY, ioctl(g, VFIO_GROUP_UNSET_CONTAINER), "UNSET_CONTAINER with a device open: EBUSY");

	/* VFIO_DEVICE_GET_INFO */
	check(ioctl(d, VFIO_DEVICE_GET_INFO, &di) == 0 &&
	      di.flags == (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET) && di.num_regions == 9 && di.num_irqs == 5,
	      "DEVICE_GET_INFO: PCI|RESET, 9 regions, 5 irqs");
	di.argsz = 8;
	EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_GET_INFO, &di), "DEVICE_GET_INFO argsz 8: EINVAL");

	/* Regions (vfio_pci_core_ioctl GET_REGION_INFO) */
	for (unsigned i = 0; i < 8; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		check(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 && ri.flags == rw[i].flags &&
		      ri.size == rw[i].size && ri.offset == (uint64_t)i << 40,
		      "region %u: flags 0x%x size 0x%llx offset index<<40", i, rw[i].flags,
		      (unsigned long long)rw[i].size);
	}
	{
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_VGA_REGION_INDEX };

		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &ri), "VGA region of a NIC: EINVAL");
		ri.index = 9;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &ri), "region 9 (no device regions): EINVAL");
		ri.index = 0;
		ri.argsz = 16;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &ri), "REGION_INFO argsz 16: EINVAL");
	}
	{
		/* msix_mappable_cap on the MSI-X BAR (3 for e1000e) */
		char raw[sizeof(struct vfio_region_info) + 16];
		struct vfio_region_info *ri = (void *)raw;
		struct vfio_info_cap_header h;

		memset(raw, 0, sizeof(raw));
		ri->argsz = sizeof(raw);
		ri->index = 3;
		check(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, ri) == 0 && ri->cap_offset == sizeof(*ri) &&
		      (memcpy(&h, raw + sizeof(*ri), sizeof(h)), h.id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE),
		      "region 3 (MSI-X BAR) carries the MSIX_MAPPABLE capability at offset 32");
	}

	/* Interrupts (GET_IRQ_INFO): from 6.5 MSI-X resizes dynamically */
	{
		static const uint32_t want_flags[5] = { 0x7, 0x9, 0x9, 0x9, 0x9 };
		static const uint32_t want_count[5] = { 1, 1, 5, 1, 1 };

		for (unsigned i = 0; i < 5; i++) {
			struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };
			uint32_t wf = i == 2 && k612 ? 0x1 : want_flags[i];

			check(ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0 && ii.flags == wf &&
			      ii.count == want_count[i], "irq %u: flags 0x%x count %u", i, wf, want_count[i]);
		}
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = 5 };

		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &ii), "irq index 5: EINVAL");
		ii.index = 0;
		ii.argsz = 12;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &ii), "IRQ_INFO argsz 12: EINVAL");
	}

	/* Config space through the config region */
	{
		char path[512];
		uint8_t cfg[4096], raw[4096];
		uint32_t v;
		uint16_t cmd;
		FILE *f;
		size_t n = 0;

		snprintf(path, sizeof(path), "%s/pci/%s/config", snapshot, bdf);
		f = fopen(path, "rb");
		if (f) {
			n = fread(raw, 1, sizeof(raw), f);
			fclose(f);
		}
		check(pread(d, cfg, 4096, 7ULL << 40) == 4096, "config region: 4096 bytes read");
		/* vfio_pci_core_enable clears bus mastering; the rest reads
		 * as the device has it (the capture's .vfio-config) */
		raw[PCI_COMMAND] &= (uint8_t)~PCI_COMMAND_MASTER;
		check(n == 4096 && !memcmp(cfg, raw, 4096), "config region equals the device's config space");
		EXPECT_ERR(EFAULT, pread(d, cfg, 2, (7ULL << 40) + 4095), "config read past the end: EFAULT");
		EXPECT_ERR(EINVAL, pread(d, cfg, 4, 9ULL << 40), "read of region 9: EINVAL");
		/* BAR sizing through the virtual BAR (vfio_bar_fixup) */
		v = 0xffffffff;
		check(pwrite(d, &v, 4, (7ULL << 40) + PCI_BASE_ADDRESS_0) == 4 &&
		      pread(d, &v, 4, (7ULL << 40) + PCI_BASE_ADDRESS_0) == 4 && v == (uint32_t)~(rw[0].size - 1),
		      "BAR0 sizing: 0xffffffff reads back 0x%08x", (uint32_t)~(rw[0].size - 1));
		memcpy(&v, raw + PCI_BASE_ADDRESS_0, 4);
		check(pwrite(d, &v, 4, (7ULL << 40) + PCI_BASE_ADDRESS_0) == 4, "BAR0 restored");
		/* bus master goes to the device; INTx disable is virtual */
		cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
		check(pwrite(d, &cmd, 2, (7ULL << 40) + PCI_COMMAND) == 2 &&
		      pread(d, &cmd, 2, (7ULL << 40) + PCI_COMMAND) == 2 &&
		      cmd == (PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE),
		      "command write: MASTER and INTx disable read back");
		cmd &= (uint16_t)~PCI_COMMAND_INTX_DISABLE;
		pwrite(d, &cmd, 2, (7ULL << 40) + PCI_COMMAND);
		/* read-only fields stay */
		v = 0x12345678;
		check(pwrite(d, &v, 4, 7ULL << 40) == 4 && pread(d, &v, 4, 7ULL << 40) == 4 && v == 0x10d38086,
		      "vendor/device ids are read-only");
	}

	/* BAR access: read/write and mmap share the device's memory */
	{
		uint32_t v = 0xcafef00d, r = 0;
		void *p;

		check(pwrite(d, &v, 4, 0x100) == 4 && pread(d, &r, 4, 0x100) == 4 && r == v,
		      "BAR0 write then read through the region");
		p = mmap(NULL, 0x20000, PROT_READ | PROT_WRITE, MAP_SHARED, d, 0);
		check(p != MAP_FAILED && *(uint32_t *)((char *)p + 0x100) == v, "mmap of BAR0 sees the same bytes");
		if (p != MAP_FAILED) {
			*(uint32_t *)((char *)p + 0x200) = 0x55aa55aa;
			check(pread(d, &r, 4, 0x200) == 4 && r == 0x55aa55aa, "a store through the mapping reads back through the region");
			munmap(p, 0x20000);
		}
		/* vfio_pci_core_mmap */
		errno = 0;
		p = mmap(NULL, 0x1000, PROT_READ, MAP_PRIVATE, d, 0);
		check(p == MAP_FAILED && errno == EINVAL, "mmap MAP_PRIVATE of a BAR: EINVAL");
		errno = 0;
		p = mmap(NULL, 0x40000, PROT_READ, MAP_SHARED, d, 0);
		check(p == MAP_FAILED && errno == EINVAL, "mmap past the end of BAR0: EINVAL");
		p = mmap(NULL, 0x1000, PROT_READ, MAP_SHARED, d, 6ULL << 40);
		check(p == MAP_FAILED && errno == EINVAL, "mmap of the ROM region: EINVAL");
		p = mmap(NULL, 0x1000, PROT_READ, MAP_SHARED, d, 2ULL << 40);
		check(p == MAP_FAILED && errno == EINVAL, "mmap of the I/O BAR: EINVAL");
		/* the MSI-X table reads as ones through the region */
		r = 0;
		check(pread(d, &r, 4, (3ULL << 40)) == 4 && r == 0xffffffff, "the MSI-X table in BAR3 reads 0xffffffff");
		EXPECT_ERR(EINVAL, pwrite(d, &v, 4, 6ULL << 40), "write to the ROM: EINVAL");
		EXPECT_ERR(EINVAL, pread(d, &v, 4, (0ULL << 40) + 0x20000), "read past the end of BAR0: EINVAL");
		EXPECT_ERR(ESPIPE, lseek(d, 0, SEEK_SET), "lseek on a device descriptor: ESPIPE");
	}

	/* SET_IRQS (vfio_set_irqs_validate_and_prepare, vfio_pci_set_irqs_ioctl) */
	{
		int e0 = eventfd(0, EFD_NONBLOCK), e1 = eventfd(0, EFD_NONBLOCK), nul = open("/dev/null", O_RDONLY);
		int32_t fds[2] = { e0, e1 };
		uint8_t one = 1;
		struct vfio_irq_set s = { .argsz = 16 };

		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_SET_IRQS, &s), "SET_IRQS argsz 16: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 5, 0, 1, NULL, 0),
			   "SET_IRQS index 5: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, (1u << 7) | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 1, NULL, 0),
			   "SET_IRQS unknown flag: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
					    2, 0, 1, &one, 1), "SET_IRQS two data types: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 4, 2, NULL, 0),
			   "SET_IRQS MSI-X start 4 count 2 of 5: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 2, fds, 4),
			   "SET_IRQS eventfd data shorter than count: EINVAL");
		EXPECT_ERR(ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 2, 0, 1, NULL, 0),
			   "SET_IRQS MASK on MSI-X: ENOTTY (no masking exported)");
		EXPECT_ERR(ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK,
					    0, 0, 1, NULL, 0), "SET_IRQS with two actions: ENOTTY");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 1, NULL, 0),
			   "MSI-X loopback trigger before enabling: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1, NULL, 0),
			   "INTx MASK before INTx is enabled: EINVAL");
		{
			int32_t bad[2] = { nul, e1 }, closed[1] = { 999 };

			EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 2, bad, 8),
				   "MSI-X trigger with /dev/null for an eventfd: EINVAL (eventfd_ctx_fdget)");
			EXPECT_ERR(EBADF, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 1, closed, 4),
				   "MSI-X trigger with fd 999: EBADF");
		}
		check(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 2, fds, 8) == 0,
		      "MSI-X vectors 0 and 1 to eventfds");
		check(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 1, 1, NULL, 0) == 0 &&
		      eventfd_count(e1) == 1 && eventfd_count(e0) == 0, "loopback trigger of vector 1 signals its eventfd only");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1, fds, 4),
			   "INTx trigger while MSI-X is enabled: EINVAL");
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, 0, 1, fds, 4),
			   "MSI trigger while MSI-X is enabled: EINVAL");
		if (model_irq)
			check(model_irq(d, 2, 0) == 1 && eventfd_count(e0) == 1, "the device raises MSI-X vector 0: its eventfd is signalled");
		{
			uint16_t ctl = 0;

			/* pci_alloc_irq_vectors enabled MSI-X in the device */
			check(pread(d, &ctl, 2, (7ULL << 40) + 0xa0 + PCI_MSIX_FLAGS) == 2 && (ctl & PCI_MSIX_FLAGS_ENABLE),
			      "MSI-X enable bit set in config space while enabled");
		}
		check(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 0, NULL, 0) == 0,
		      "MSI-X disabled (count 0, DATA_NONE)");
		/* INTx: enable, loopback, automask, unmask */
		check(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1, fds, 4) == 0,
		      "INTx trigger to an eventfd");
		check(set_irqs(d, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 1, &one, 1) == 0 &&
		      eventfd_count(e0) == 1, "INTx loopback (BOOL 1) signals");
		EXPECT_ERR(ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1, fds, 4),
			   "INTx MASK with an eventfd: ENOTTY (not implemented)");
		if (model_irq) {
			check(model_irq(d, 0, 0) == 1 && eventfd_count(e0) == 1, "the device asserts INTx: signalled");
			check(model_irq(d, 0, 0) == 0, "a second INTx while auto-masked is not signalled");
			check(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, 1, NULL, 0) == 0 &&
			      model_irq(d, 0, 0) == 1 && eventfd_count(e0) == 1, "after UNMASK the next INTx is signalled");
		}
		check(set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, 0, NULL, 0) == 0,
		      "INTx disabled");
		/* err and req: vfio_pci_set_ctx_trigger_single */
		EXPECT_ERR(EINVAL, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 4, 0, 1, NULL, 0),
			   "REQ loopback without an eventfd: EINVAL");
		check(set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 3, 0, 1, fds, 4) == 0 &&
		      set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 3, 0, 1, NULL, 0) == 0 &&
		      eventfd_count(e0) == 1, "ERR trigger eventfd and loopback");
		EXPECT_ERR(ENOTTY, set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 3, 0, 1, NULL, 0),
			   "ERR UNMASK: ENOTTY");
		close(e0);
		close(e1);
		close(nul);
	}

	/* Reset and hot reset */
	check(ioctl(d, VFIO_DEVICE_RESET) == 0, "DEVICE_RESET (e1000e: PM reset and a bus reset apply)");
	{
		char raw[sizeof(struct vfio_pci_hot_reset_info) + 4 * sizeof(struct vfio_pci_dependent_device)];
		struct vfio_pci_hot_reset_info *hi = (void *)raw;
		struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) + 4, .count = 1 };
		char hrraw[sizeof(hr) + 4];

		memset(raw, 0, sizeof(raw));
		hi->argsz = sizeof(*hi);
		EXPECT_ERR(ENOSPC, ioctl(d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi), "HOT_RESET_INFO without room: ENOSPC");
		check(hi->count == 1, "...with count 1 (alone on its bus)");
		hi->argsz = sizeof(raw);
		check(ioctl(d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi) == 0 && hi->count == 1 &&
		      hi->devices[0].group_id == 5 && hi->devices[0].bus == 3, "HOT_RESET_INFO: 0000:03:00.0 in group 5");
		memcpy(hrraw, &hr, sizeof(hr));
		memcpy(hrraw + sizeof(hr), &g, 4);
		check(ioctl(d, VFIO_DEVICE_PCI_HOT_RESET, hrraw) == 0, "PCI_HOT_RESET with the group's descriptor");
		memcpy(hrraw + sizeof(hr), &c, 4);
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_PCI_HOT_RESET, hrraw), "PCI_HOT_RESET with the container descriptor: EINVAL");
		hr.count = 0;
		memcpy(hrraw, &hr, sizeof(hr));
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_PCI_HOT_RESET, hrraw), "PCI_HOT_RESET count 0: EINVAL");
		hr.count = 1;
		hr.flags = 1;
		memcpy(hrraw, &hr, sizeof(hr));
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_PCI_HOT_RESET, hrraw), "PCI_HOT_RESET with flags: EINVAL");
	}
	/* FEATURE and IOEVENTFD */
	{
		struct vfio_device_feature f = { .argsz = 4 };
		struct vfio_device_ioeventfd io = { .argsz = sizeof(io), .flags = VFIO_DEVICE_IOEVENTFD_32,
						    .offset = 0x40, .data = 1 };
		int e = eventfd(0, 0);

		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_FEATURE, &f), "FEATURE argsz 4: EINVAL");
		f.argsz = sizeof(f);
		f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_FEATURE, &f), "FEATURE GET|SET: EINVAL");
		f.flags = 1u << 20;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_FEATURE, &f), "FEATURE unknown flag: EINVAL");
		f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | 1;
		EXPECT_ERR(ENOTTY, ioctl(d, VFIO_DEVICE_FEATURE, &f), "FEATURE MIGRATION on a device without migration: ENOTTY");
		io.fd = e;
		io.flags = VFIO_DEVICE_IOEVENTFD_32 | VFIO_DEVICE_IOEVENTFD_16;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_IOEVENTFD, &io), "IOEVENTFD with two sizes: EINVAL");
		io.flags = VFIO_DEVICE_IOEVENTFD_32;
		check(ioctl(d, VFIO_DEVICE_IOEVENTFD, &io) == 0, "IOEVENTFD on BAR0+0x40");
		EXPECT_ERR(EEXIST, ioctl(d, VFIO_DEVICE_IOEVENTFD, &io), "the same IOEVENTFD again: EEXIST");
		io.fd = -1;
		check(ioctl(d, VFIO_DEVICE_IOEVENTFD, &io) == 0, "IOEVENTFD removed with fd -1");
		EXPECT_ERR(ENODEV, ioctl(d, VFIO_DEVICE_IOEVENTFD, &io), "removing it again: ENODEV");
		io.fd = e;
		io.offset = (3ULL << 40) + 0;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_IOEVENTFD, &io), "IOEVENTFD on the MSI-X table: EINVAL");
		io.offset = 6ULL << 40;
		EXPECT_ERR(EINVAL, ioctl(d, VFIO_DEVICE_IOEVENTFD, &io), "IOEVENTFD on the ROM: EINVAL");
		close(e);
	}
	EXPECT_ERR(ENOTTY, ioctl(d, _IO(VFIO_TYPE, VFIO_BASE + 60)), "unknown device ioctl: ENOTTY");
	/* dup: both descriptors name the device; closing one keeps it */
	d2 = dup(d);
	close(d);
	check(ioctl(d2, VFIO_DEVICE_GET_INFO, &(struct vfio_device_info){ .argsz = sizeof(di) }) == 0,
	      "a dup of the device descriptor works after the original is closed");
	EXPECT_ERR(EBADF, ioctl(d, VFIO_DEVICE_GET_INFO, &di), "ioctl on the closed device descriptor: EBADF");
	close(d2);
	check(ioctl(g, VFIO_GROUP_UNSET_CONTAINER) == 0, "UNSET_CONTAINER once the devices are closed");
}

/* ------------------------------------------------------------------ */
/* Type1 v1 unmap rules                                                 */

static void test_v1(void)
{
	uint8_t *buf = page_buf(0x4000);
	uint64_t done;
	int c, g;

	setup(&c, &g, "5", VFIO_TYPE1_IOMMU);
	check(map(c, buf, 0, 0x2000, RW) == 0, "v1: MAP_DMA [0, 0x2000)");
	/* ref V10 */
	check(unmap(c, 0x1000, 0x1000, 0, &done) == 0 && done == 0, "v1: UNMAP_DMA (0x1000, 0x1000): success, size 0 (ref V10)");
	/* ref V11 */
	check(unmap(c, 0, 0x1000, 0, &done) == 0 && done == 0x2000, "v1: UNMAP_DMA (0, 0x1000) removes the whole mapping (ref V11)");
	{
		struct vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d), .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START };

		EXPECT_ERR(EACCES, ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d), "v1: DIRTY_PAGES: EACCES");
	}
	close(g);
	close(c);
	munmap(buf, 0x4000);
}

/* ------------------------------------------------------------------ */
/* sysfs and procfs                                                     */

static void test_sysfs(void)
{
	char link[256], buf[256];
	ssize_t n;
	DIR *dir;
	struct dirent *e;
	int count = 0, fd;

	n = readlink("/sys/bus/pci/devices/0000:03:00.0/iommu_group", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(n > 0 && !strcmp(link, "../../../../kernel/iommu_groups/5"), "iommu_group link of 0000:03:00.0 -> %s", link);
	n = readlink("/sys/bus/pci/devices/0000:03:00.0/driver", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(n > 0 && strstr(link, "/drivers/vfio-pci") != NULL, "driver link of 0000:03:00.0 names vfio-pci");
	n = readlink("/sys/bus/pci/devices/0000:02:02.0/driver", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	check(n > 0 && strstr(link, "/drivers/8139cp") != NULL, "driver link of 0000:02:02.0 still names 8139cp");
	dir = opendir("/sys/kernel/iommu_groups/4/devices");
	while (dir && (e = readdir(dir)))
		if (e->d_name[0] != '.')
			count++;
	if (dir)
		closedir(dir);
	check(count == 3, "/sys/kernel/iommu_groups/4/devices lists 3 devices");
	fd = open("/sys/kernel/iommu_groups/5/reserved_regions", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	check(!strcmp(buf, "0x00000000fee00000 0x00000000feefffff msi\n"), "reserved_regions of group 5");
	close(fd);
	fd = open("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	check(n == 2 && buf[0] == 'N', "enable_unsafe_noiommu_mode reads N");
	close(fd);
	fd = open("/proc/sys/kernel/tainted", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	check(n == 2 && buf[0] == '0', "not tainted");
	close(fd);
	EXPECT_ERR(ENOENT, open("/sys/kernel/iommu_groups/99/type", O_RDONLY), "/sys/kernel/iommu_groups/99: ENOENT");
	EXPECT_ERR(ENOENT, open("/dev/vfio/noiommu-0", O_RDWR), "no noiommu node with noiommu off");
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	const char *scenario = argc > 1 ? argv[1] : "";
	static const struct region_want e1000e[8] = {
		{ 0x7, 0x20000 }, { 0x7, 0x20000 }, { 0x3, 0x20 }, { 0xf, 0x4000 },
		{ 0, 0 }, { 0, 0 }, { 0x1, 0x40000 }, { 0x3, 0x1000 },
	};
	int c, g;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: %s intel|amd|k612|limit2|memlock|nointremap SNAPSHOT\n", argv[0]);
		return 2;
	}
	snapshot = argv[2];
	model_dma = (dma_fn)dlsym(RTLD_DEFAULT, "iommu_model_dma");
	model_irq = (irq_fn)dlsym(RTLD_DEFAULT, "iommu_model_irq");
	if (!model_dma || !model_irq) {
		printf("Bail out! run me under `iommu run` (iommu_model_dma not found)\n");
		return 1;
	}
	if (!strcmp(scenario, "intel") || !strcmp(scenario, "k612")) {
		bool k612 = !strcmp(scenario, "k612");
		int d;

		test_container_and_groups(scenario);
		setup(&c, &g, "5", VFIO_TYPE1v2_IOMMU);
		test_info(c, false, k612);
		/* an open device for the DMA helper, as a driver would have */
		d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:03:00.0");
		test_map_unmap(c, d, false);
		test_dirty(c);
		close(d);
		test_device(g, c, "0000:03:00.0", e1000e, k612);
		close(g);
		close(c);
		test_v1();
		test_sysfs();
	} else if (!strcmp(scenario, "amd")) {
		int d;

		setup(&c, &g, "6", VFIO_TYPE1v2_IOMMU);
		test_info(c, true, false);
		/* ref 8.3: DMA_CC_IOMMU from the domains (AMD enforces it) */
		check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU) == 1, "CHECK_EXTENSION(DMA_CC_IOMMU) = 1 on AMD");
		d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:02:00.0");
		check(d >= 0, "GET_DEVICE_FD 0000:02:00.0");
		test_map_unmap(c, d, true);
		close(d);
		close(g);
		close(c);
	} else if (!strcmp(scenario, "limit2")) {
		uint8_t *buf = page_buf(0x3000);

		setup(&c, &g, "5", VFIO_TYPE1v2_IOMMU);
		/* ref V8 */
		check(map(c, buf, 0x100000, 0x1000, RW) == 0 && map(c, buf + 0x1000, 0x200000, 0x1000, RW) == 0,
		      "dma_entry_limit=2: two maps");
		EXPECT_ERR(ENOSPC, map(c, buf + 0x2000, 0x300000, 0x1000, RW), "the third map: ENOSPC (ref V8)");
		EXPECT_ERR(EEXIST, map(c, buf, 0x100000, 0x1000, RW), "overlap is tested before the limit: EEXIST");
		check(unmap(c, 0x100000, 0x1000, 0, NULL) == 0 && map(c, buf + 0x2000, 0x300000, 0x1000, RW) == 0,
		      "after an unmap a map fits again");
		close(g);
		close(c);
	} else if (!strcmp(scenario, "memlock")) {
		uint8_t *buf = page_buf(0x20000);

		setup(&c, &g, "5", VFIO_TYPE1v2_IOMMU);
		/* vfio_pin_pages_remote: RLIMIT_MEMLOCK without CAP_IPC_LOCK */
		check(map(c, buf, 0x100000, 0x10000, RW) == 0, "unprivileged: MAP_DMA of 64 KiB within RLIMIT_MEMLOCK");
		EXPECT_ERR(ENOMEM, map(c, buf + 0x10000, 0x200000, 0x1000, RW),
			   "one page more than RLIMIT_MEMLOCK: ENOMEM");
		check(unmap(c, 0x100000, 0x10000, 0, NULL) == 0 && map(c, buf, 0x200000, 0x1000, RW) == 0,
		      "the pages are uncharged at unmap");
		close(g);
		close(c);
	} else if (!strcmp(scenario, "nointremap")) {
		c = open("/dev/vfio/vfio", O_RDWR);
		g = open("/dev/vfio/5", O_RDWR);
		check(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) == 0, "SET_CONTAINER");
		/* ref V14 */
		EXPECT_ERR(EPERM, ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU),
			   "SET_IOMMU without interrupt remapping: EPERM (ref V14)");
		close(g);
		close(c);
	} else {
		fprintf(stderr, "unknown scenario %s\n", scenario);
		return 2;
	}
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
