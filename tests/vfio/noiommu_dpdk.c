// SPDX-License-Identifier: MIT
/*
 * noiommu_dpdk: what DPDK's EAL does with a device in VFIO no-IOMMU mode,
 * run through `iommu run --noiommu`: find the group through sysfs, open
 * /dev/vfio/noiommu-N, use the VFIO_NOIOMMU_IOMMU backend (which maps
 * nothing), take physical addresses of its buffers from
 * /proc/self/pagemap as rte_mem_virt2phy() does, enable bus mastering and
 * have the device DMA to those physical addresses.  The taint and the
 * kernel's warnings show on the way.  TAP output; each expectation names
 * the kernel rule (reference 8.5, test table V15/V16).
 *
 *   noiommu_dpdk dpdk BDF     the scenario above (z-no-iommu, --noiommu)
 *   noiommu_dpdk user BDF     an unprivileged caller: EPERM (ref V15)
 *   noiommu_dpdk mixed NOIOMMU_BDF REAL_GROUP
 *                             a container with a noiommu group refuses a
 *                             real group (ref V16)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

typedef int (*dma_fn)(int, const char *, uint64_t, void *, size_t, int);

/* rte_vfio_noiommu_is_enabled */
static bool noiommu_enabled(void)
{
	char c = 0;
	int fd = open("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y';
}

/* rte_vfio_get_group_num: the basename of the iommu_group link */
static int group_num(const char *bdf)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	return atoi(basename(link));
}

/* rte_mem_virt2phy: /proc/self/pagemap, 8 bytes per page */
static uint64_t virt2phy(const void *virtaddr)
{
	uint64_t page, pfn;
	long pagesz = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)((uintptr_t)virtaddr / (uintptr_t)pagesz) * 8;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return UINT64_MAX;
	if (pread(fd, &page, sizeof(page), off) != sizeof(page)) {
		close(fd);
		return UINT64_MAX;
	}
	close(fd);
	/* the pfn (bits 0-54) is 0 without the right capabilities */
	pfn = page & 0x7fffffffffffffULL;
	if (!(page & (1ULL << 63)) || pfn == 0)
		return UINT64_MAX;
	return pfn * (uint64_t)pagesz + ((uintptr_t)virtaddr % (uintptr_t)pagesz);
}

static unsigned long tainted(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/tainted", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strtoul(buf, NULL, 10);
}

static int scenario_dpdk(const char *bdf, dma_fn dma)
{
	char path[64];
	int c, g, d, grp;
	struct vfio_group_status st = { .argsz = sizeof(st) };
	size_t memsz = 2u << 20;
	uint8_t *mem;
	uint64_t pa0, pa1;
	uint16_t cmd;

	check(noiommu_enabled(), "enable_unsafe_noiommu_mode reads Y");
	/* ref 8.5: TAINT_USER ('U', bit 6) at bind */
	check(tainted() & (1ul << 6), "the kernel is tainted (TAINT_USER) since the bind");
	grp = group_num(bdf);
	check(grp == 0, "%s is in IOMMU group %d (the first id: no other group on this platform)", bdf, grp);
	/* DPDK tries /dev/vfio/N, then /dev/vfio/noiommu-N */
	snprintf(path, sizeof(path), "/dev/vfio/%d", grp);
	check(open(path, O_RDWR) < 0 && errno == ENOENT, "%s does not exist (ENOENT)", path);
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", grp);
	g = open(path, O_RDWR);
	check(g >= 0, "open %s", path);
	{
		char name[32] = "";
		int fd = open("/sys/kernel/iommu_groups/0/name", O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, name, sizeof(name) - 1) : -1;

		name[n > 0 ? n : 0] = '\0';
		check(!strcmp(name, "vfio-noiommu\n"), "the fake group is named vfio-noiommu (ref 8.5)");
		close(fd);
	}
	c = open("/dev/vfio/vfio", O_RDWR);
	/* vfio_has_supported_extensions */
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) == 1, "CHECK_EXTENSION(NOIOMMU) = 1 with noiommu on");
	check(ioctl(g, VFIO_GROUP_GET_STATUS, &st) == 0 && st.flags == VFIO_GROUP_FLAGS_VIABLE, "the noiommu group is viable");
	check(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) == 0, "SET_CONTAINER");
	/* a noiommu container: type1 is not allowed for it */
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 0, "CHECK_EXTENSION(TYPE1v2) = 0 for a noiommu container");
	check(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 && errno == ENODEV,
	      "SET_IOMMU(TYPE1v2) on a noiommu container: ENODEV");
	check(ioctl(c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU) == 0, "SET_IOMMU(NOIOMMU)");
	{
		struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = 3, .iova = 0, .size = 0x1000 };

		/* vfio_noiommu_ioctl: no DMA mapping ioctls */
		check(ioctl(c, VFIO_IOMMU_MAP_DMA, &m) < 0 && errno == ENOTTY, "MAP_DMA on a noiommu container: ENOTTY");
		check(ioctl(c, VFIO_IOMMU_GET_INFO, &m) < 0 && errno == ENOTTY, "GET_INFO on a noiommu container: ENOTTY");
	}
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(d >= 0, "GET_DEVICE_FD %s (the kernel warns: vfio-noiommu device opened by user)", bdf);

	/* Hugepage-ish memory, touched so that it is present. */
	mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check(mem != MAP_FAILED, "2 MiB of memory mapped and populated");
	memset(mem, 0x11, memsz);
	pa0 = virt2phy(mem);
	pa1 = virt2phy(mem + 0x1000);
	check(pa0 != UINT64_MAX && pa1 != UINT64_MAX, "pagemap gives physical addresses 0x%llx, 0x%llx",
	      (unsigned long long)pa0, (unsigned long long)pa1);
	check(virt2phy(mem) == pa0, "the same page keeps its physical address");
	check(virt2phy(mem + 0x123) == pa0 + 0x123, "virt2phy keeps the offset in the page");
	{
		void *untouched = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		check(virt2phy(untouched) == UINT64_MAX, "a page never touched is not present in pagemap");
		munmap(untouched, 0x1000);
	}

	/* Program the device's DMA: bus mastering, then a write and a read
	 * at the physical address (no IOMMU: bus address = physical). */
	check(pread(d, &cmd, 2, (7ULL << 40) + PCI_COMMAND) == 2, "read the command register");
	cmd |= PCI_COMMAND_MASTER;
	check(pwrite(d, &cmd, 2, (7ULL << 40) + PCI_COMMAND) == 2, "rte_pci_set_bus_master: enable bus mastering");
	{
		const char msg[] = "written by the device";
		char back[32];

		check(dma(d, NULL, pa1 + 0x40, (void *)msg, sizeof(msg), 1) == 0 &&
		      !memcmp(mem + 0x1040, msg, sizeof(msg)),
		      "device DMA write to physical 0x%llx lands in the process's buffer", (unsigned long long)(pa1 + 0x40));
		memcpy(mem + 0x2000, "from the CPU", 13);
		check(dma(d, NULL, virt2phy(mem + 0x2000), back, 13, 0) == 0 && !memcmp(back, "from the CPU", 13),
		      "device DMA read at the buffer's physical address sees what the CPU wrote");
		/* No isolation: any physical address is reachable. */
		check(dma(d, NULL, 0x100000, (void *)msg, sizeof(msg), 1) == 0 &&
		      dma(d, NULL, 0x100000, back, sizeof(msg), 0) == 0 && !memcmp(back, msg, sizeof(msg)),
		      "no IOMMU: the device writes physical 0x100000, memory the program never gave it");
	}
	close(d);
	close(g);
	close(c);
	munmap(mem, memsz);
	return 0;
}

static int scenario_user(const char *bdf)
{
	char path[64];
	int c, grp = group_num(bdf);

	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", grp);
	/* ref V15: a noiommu group needs CAP_SYS_RAWIO */
	check(open(path, O_RDWR) < 0 && errno == EPERM, "open %s without CAP_SYS_RAWIO: EPERM (ref V15)", path);
	c = open("/dev/vfio/vfio", O_RDWR);
	check(c >= 0, "the container opens for anyone");
	close(c);
	return 0;
}

static int scenario_mixed(const char *bdf, const char *real)
{
	char path[64];
	int c, gn, gr, grp = group_num(bdf);

	/* ref 8.5: the noiommu group's id comes from the IOMMU group
	 * allocator: the first id no IOMMU group has */
	check(grp == 9, "%s (no IOMMU group) gets noiommu group 9 after groups 0-8", bdf);
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", grp);
	gn = open(path, O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%s", real);
	gr = open(path, O_RDWR);
	c = open("/dev/vfio/vfio", O_RDWR);
	check(gn >= 0 && gr >= 0 && c >= 0, "open both groups and a container");
	check(ioctl(gn, VFIO_GROUP_SET_CONTAINER, &c) == 0, "SET_CONTAINER of the noiommu group");
	/* ref V16 */
	check(ioctl(gr, VFIO_GROUP_SET_CONTAINER, &c) < 0 && errno == EPERM,
	      "SET_CONTAINER of a real group into the noiommu container: EPERM (ref V16)");
	check(ioctl(gn, VFIO_GROUP_UNSET_CONTAINER) == 0 && ioctl(gr, VFIO_GROUP_SET_CONTAINER, &c) == 0,
	      "once the noiommu group left, the real group joins");
	check(ioctl(gn, VFIO_GROUP_SET_CONTAINER, &c) < 0 && errno == EPERM,
	      "and then the noiommu group is refused: EPERM");
	check(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) == 0,
	      "CHECK_EXTENSION(NOIOMMU) = 0 for a container of real groups");
	close(gn);
	close(gr);
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	dma_fn dma = (dma_fn)dlsym(RTLD_DEFAULT, "iommu_model_dma");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: %s dpdk|user BDF | mixed BDF GROUP\n", argv[0]);
		return 2;
	}
	if (!dma) {
		printf("Bail out! run me under `iommu run --noiommu` (iommu_model_dma not found)\n");
		return 1;
	}
	if (!strcmp(argv[1], "dpdk"))
		scenario_dpdk(argv[2], dma);
	else if (!strcmp(argv[1], "user"))
		scenario_user(argv[2]);
	else if (!strcmp(argv[1], "mixed") && argc > 3)
		scenario_mixed(argv[2], argv[3]);
	else
		return 2;
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
