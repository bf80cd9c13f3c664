// SPDX-License-Identifier: MIT
/*
 * iommu-bench, user-API part (issue 7, "What it must show" item 5;
 * reference/performance.md B10): VFIO type1 MAP_DMA against iommufd
 * IOAS_MAP of one large range of pre-populated anonymous memory, through
 * the user-API layer in-process (iommu_uapi_ioctl, no preload), on the
 * built-in intel-server modelled as kernel 6.12, with 4 KiB pages
 * (MAP_POPULATE), transparent huge pages (MADV_HUGEPAGE, then touched)
 * and 1 GiB hugetlbfs pages when the machine has some reserved.
 *
 *  vfio <B> iommufd/type1 map, 1 domain
 *  vfio <B> iommufd/type1 map, 4 groups
 *      IOAS_MAP (one device bound and attached to an IOAS; four devices
 *      attached to it: one automatic domain) against MAP_DMA (one group;
 *      four groups in the container: type1 puts groups of one IOMMU into
 *      one domain, as the kernel does); target: the ratio within
 *      0.9..1.1 (the JSON "target" is the upper bound, the comment line
 *      says whether the ratio is inside the window).
 *  vfio <B> iommufd/type1 unmap, 1 domain    the same for the unmaps.
 *  vfio <B> iommufd map, per extra domain
 *      four devices each attached to its own HWPT (IOMMU_HWPT_ALLOC):
 *      four domains, the range mapped into each; (time(4) - time(1)) / 3
 *      against time(1): target <= 1.0.
 *  vfio <B> type1 map, per extra group      the same for type1's four
 *      groups (one domain).
 *
 * Parity is by construction: both paths check the range, charge
 * RLIMIT_MEMLOCK, pin through the same batched engine (mm.c
 * uapi_mm_pin_runs: one read of the user's bytes per 64 pages, frames
 * in physically contiguous runs) and map each run with one iommu_map
 * per domain (uapi_map_runs; the VT-d driver then uses 2 MiB and 1 GiB
 * pages), so the pinning is done once however many domains there are.
 *
 * The size: 16 GiB when MemAvailable leaves 6 GiB besides it, else the
 * largest power of two of GiB that does (the note says so and why);
 * IOMMU_BENCH_VFIO_GIB overrides it.  Each configuration is timed
 * IOMMU_BENCH_VFIO_REPS times (default: about 16 GiB mapped per
 * configuration, 1 to 5 times), interleaved, best kept, after one
 * untimed map.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "iommu/core.h"
#include "iommu/uapi.h"

#include "bench_common.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define MAP_HUGE_1GB_ (30 << MAP_HUGE_SHIFT)

#define NDEV 4
#define IOVA_BASE (UINT64_C(8) << 30)
#define GIB (UINT64_C(1) << 30)
#define PAGE 4096u

struct venv {
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_uapi *u;
	char bdf[NDEV][16];
	int group[NDEV];
};

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "iommu-bench (vfio): %s: %s\n", what, msg);
	exit(1);
}

static long ioc(struct venv *e, int fd, unsigned long req, const void *arg)
{
	return iommu_uapi_ioctl(e->u, fd, req, (unsigned long)(uintptr_t)arg);
}

static int xopen(struct venv *e, const char *path)
{
	int fd = iommu_uapi_open(e->u, path, O_RDWR);

	if (fd < 0)
		die(path, strerror(-fd));
	return fd;
}

static void xclose(struct venv *e, int fd)
{
	iommu_uapi_close(e->u, fd);
	close(fd);
}

static void check(long r, const char *what)
{
	if (r < 0)
		die(what, strerror((int)-r));
}

/* Four devices alone in their groups, normal headers, no direct
 * reserved region (a DMA ownership claim would be refused). */
static void venv_start(struct venv *e)
{
	struct iommu_system_options so = { .kernel = "6.12" };
	struct iommu_error err = { 0 };
	char list[NDEV * 16] = "";
	int n = 0;

	memset(e, 0, sizeof(*e));
	if (iommu_platform_load_builtin("intel-server", &e->p, &err) ||
	    iommu_system_build(e->p, &so, &e->s, &err) || iommu_uapi_create(e->s, NULL, &e->u, &err))
		die("intel-server", err.msg);
	for (size_t i = 0; i < e->s->n_groups && n < NDEV; i++) {
		const struct iommu_group_info *g = e->s->groups[i];
		bool direct = false;

		if (!g || g->n_devices != 1 || g->devices[0]->pdev->header_type != 0)
			continue;
		for (size_t r = 0; r < g->n_resv; r++)
			direct |= g->resv[r].type == IOMMU_RESV_DIRECT;
		if (direct)
			continue;
		snprintf(e->bdf[n], sizeof(e->bdf[n]), "%s", g->devices[0]->pdev->name);
		e->group[n] = g->id;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", n ? "," : "", e->bdf[n]);
		n++;
	}
	if (n < NDEV)
		die("intel-server", "fewer than four isolated devices");
	if (iommu_uapi_vfio_bind_list(e->u, list, &err))
		die(list, err.msg);
}

static void venv_stop(struct venv *e)
{
	iommu_uapi_destroy(e->u);
	iommu_system_free(e->s);
	iommu_platform_free(e->p);
}

struct times {
	double map, unmap;      /* seconds */
};

/* MAP_DMA and UNMAP_DMA of [buf, buf + size) with @ngroups groups in
 * one TYPE1v2 container. */
static struct times run_type1(struct venv *e, void *buf, uint64_t size, int ngroups)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, .vaddr = (uintptr_t)buf,
		.iova = IOVA_BASE, .size = size };
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um), .iova = IOVA_BASE, .size = size };
	int c = xopen(e, "/dev/vfio/vfio"), g[NDEV];
	struct times t;
	double t0;

	for (int i = 0; i < ngroups; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/dev/vfio/%d", e->group[i]);
		g[i] = xopen(e, path);
		check(ioc(e, g[i], VFIO_GROUP_SET_CONTAINER, &c), "VFIO_GROUP_SET_CONTAINER");
	}
	check(iommu_uapi_ioctl(e->u, c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), "VFIO_SET_IOMMU");
	t0 = bench_now();
	check(ioc(e, c, VFIO_IOMMU_MAP_DMA, &m), "VFIO_IOMMU_MAP_DMA");
	t.map = bench_now() - t0;
	t0 = bench_now();
	check(ioc(e, c, VFIO_IOMMU_UNMAP_DMA, &um), "VFIO_IOMMU_UNMAP_DMA");
	t.unmap = bench_now() - t0;
	if (um.size != size)
		die("VFIO_IOMMU_UNMAP_DMA", "unmapped a different size");
	for (int i = ngroups; i-- > 0;)
		xclose(e, g[i]);
	xclose(e, c);
	return t;
}

/* IOAS_MAP and IOAS_UNMAP with @ndev devices bound and attached: to the
 * IOAS (automatic domains), or each to a HWPT of its own. */
static struct times run_iommufd(struct venv *e, void *buf, uint64_t size, int ndev, bool own_hwpt)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int fd = xopen(e, "/dev/iommu"), cd[NDEV];
	struct iommu_ioas_map m;
	struct iommu_ioas_unmap um;
	struct times t;
	double t0;

	check(ioc(e, fd, IOMMU_IOAS_ALLOC, &a), "IOMMU_IOAS_ALLOC");
	for (int i = 0; i < ndev; i++) {
		struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = fd };
		struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = a.out_ioas_id };
		char path[40];

		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", i);
		cd[i] = xopen(e, path);
		check(ioc(e, cd[i], VFIO_DEVICE_BIND_IOMMUFD, &b), "VFIO_DEVICE_BIND_IOMMUFD");
		if (own_hwpt) {
			struct iommu_hwpt_alloc h = { .size = sizeof(h), .dev_id = b.out_devid,
				.pt_id = a.out_ioas_id };

			check(ioc(e, fd, IOMMU_HWPT_ALLOC, &h), "IOMMU_HWPT_ALLOC");
			at.pt_id = h.out_hwpt_id;
		}
		check(ioc(e, cd[i], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	}
	m = (struct iommu_ioas_map){ .size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = a.out_ioas_id, .user_va = (uintptr_t)buf, .length = size, .iova = IOVA_BASE };
	um = (struct iommu_ioas_unmap){ .size = sizeof(um), .ioas_id = a.out_ioas_id, .iova = IOVA_BASE,
		.length = size };
	t0 = bench_now();
	check(ioc(e, fd, IOMMU_IOAS_MAP, &m), "IOMMU_IOAS_MAP");
	t.map = bench_now() - t0;
	t0 = bench_now();
	check(ioc(e, fd, IOMMU_IOAS_UNMAP, &um), "IOMMU_IOAS_UNMAP");
	t.unmap = bench_now() - t0;
	if (um.length != size)
		die("IOMMU_IOAS_UNMAP", "unmapped a different size");
	for (int i = ndev; i-- > 0;)
		xclose(e, cd[i]);
	xclose(e, fd);
	return t;
}

static uint64_t meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	uint64_t v = 0;
	size_t n = strlen(key);

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtoull(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The size to map and why. */
static uint64_t pick_size(char *why, size_t len)
{
	const uint64_t want = 16 * GIB, margin = 6 * GIB;
	uint64_t avail = meminfo_kb("MemAvailable") * 1024, size;
	const char *env = getenv("IOMMU_BENCH_VFIO_GIB");

	if (env && *env) {
		size = strtoull(env, NULL, 10) * GIB;
		snprintf(why, len, "%" PRIu64 " GiB (IOMMU_BENCH_VFIO_GIB)", size / GIB);
		return size;
	}
	if (avail >= want + margin) {
		snprintf(why, len, "16 GiB (MemAvailable %.1f GiB)", (double)avail / GIB);
		return want;
	}
	for (size = want / 2; size > GIB && size + margin > avail; size /= 2)
		;
	snprintf(why, len, "%" PRIu64 " GiB, not 16: MemAvailable is %.1f GiB and 6 GiB stay for the other work",
		 size / GIB, (double)avail / GIB);
	return size;
}

enum backing { B_4K, B_THP, B_1G };

static uint64_t hugepages_1g(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "r");
	unsigned long long v = 0;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Pre-populated anonymous memory of @size with @b pages; NULL (with the
 * reason in @why) when the machine cannot give it. */
static void *populate(enum backing b, uint64_t size, void **base, uint64_t *blen, char *why, size_t len)
{
	uint8_t *p;

	why[0] = '\0';
	if (b == B_4K) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			snprintf(why, len, "mmap: %s", strerror(errno));
			return NULL;
		}
		*base = p;
		*blen = size;
		return p;
	}
	if (b == B_1G) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB_ | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			snprintf(why, len, "no 1 GiB hugetlbfs pages for %" PRIu64 " GiB (mmap MAP_HUGETLB|MAP_HUGE_1GB: %s; "
				 "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages has %" PRIu64 " free, "
				 "which an administrator sets: the benchmark does not take memory from the machine)",
				 size / GIB, strerror(errno), hugepages_1g());
			return NULL;
		}
		*base = p;
		*blen = size;
		return p;
	}
	/* THP: 2 MiB aligned, MADV_HUGEPAGE, one write per 2 MiB */
	p = mmap(NULL, size + (2u << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(why, len, "mmap: %s", strerror(errno));
		return NULL;
	}
	*base = p;
	*blen = size + (2u << 20);
	p += ((2u << 20) - ((uintptr_t)p & ((2u << 20) - 1))) & ((2u << 20) - 1);
	if (madvise(p, size, MADV_HUGEPAGE))
		snprintf(why, len, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
	for (uint64_t off = 0; off < size; off += 2u << 20)
		p[off] = 0;
	/* pages the kernel could not make huge are 4 KiB: fault them too */
	for (uint64_t off = 0; off < size; off += PAGE)
		((volatile uint8_t *)p)[off];
	return p;
}

static void run_backing(struct venv *e, enum backing b, uint64_t size, const char *size_why, int reps)
{
	static const char *const names[] = { "4K", "THP 2M", "hugetlb 1G" };
	const char *name = names[b];
	struct times t1_1 = { 1e30, 1e30 }, t1_4 = { 1e30, 1e30 }, f_1 = { 1e30, 1e30 }, f_4a = { 1e30, 1e30 },
		     f_4h = { 1e30, 1e30 };
	uint64_t thp0 = meminfo_kb("AnonHugePages"), thp, blen, pages = size / PAGE;
	char why[512], case_name[96];
	void *base, *buf;
	double ratio;

	buf = populate(b, size, &base, &blen, why, sizeof(why));
	if (!buf) {
		printf("# vfio %s: skipped: %s\n", name, why);
		fflush(stdout);
		return;
	}
	thp = meminfo_kb("AnonHugePages");
	/* Untimed first map: the model's page table of the process grows to
	 * the range's size and the user pages are read once into the
	 * caches' steady state; each configuration then starts alike. */
	(void)run_iommufd(e, buf, size, 1, false);
	for (int r = 0; r < reps; r++) {
		/* interleaved, in the reverse order every other time: each
		 * configuration sees the same machine */
		for (int k = 0; k < 5; k++) {
			int which = r % 2 ? 4 - k : k;
			struct times t, *best;

			switch (which) {
			case 0:
				t = run_type1(e, buf, size, 1);
				best = &t1_1;
				break;
			case 1:
				t = run_iommufd(e, buf, size, 1, false);
				best = &f_1;
				break;
			case 2:
				t = run_type1(e, buf, size, NDEV);
				best = &t1_4;
				break;
			case 3:
				t = run_iommufd(e, buf, size, NDEV, false);
				best = &f_4a;
				break;
			default:
				t = run_iommufd(e, buf, size, NDEV, true);
				best = &f_4h;
				break;
			}
			if (t.map < best->map)
				best->map = t.map;
			if (t.unmap < best->unmap)
				best->unmap = t.unmap;
		}
	}
	munmap(base, blen);
	snprintf(why, sizeof(why), "%s of %s backing; per 4 KiB page; type1 %.1f ms, iommufd %.1f ms per map",
		 size_why, name, t1_1.map * 1e3, f_1.map * 1e3);
	if (b == B_THP)
		printf("# vfio THP: AnonHugePages grew by %.1f GiB of %.1f GiB populated\n",
		       (double)(thp > thp0 ? thp - thp0 : 0) / (1024.0 * 1024.0), (double)size / GIB);
	ratio = f_1.map / t1_1.map;
	snprintf(case_name, sizeof(case_name), "vfio %s iommufd/type1 map, 1 domain", name);
	bench_report(case_name, f_1.map * 1e9 / pages, t1_1.map * 1e9 / pages, 1.1, false,
		     "%s; window 0.9..1.1: %s", why, ratio >= 0.9 && ratio <= 1.1 ? "inside" : "outside");
	ratio = f_4a.map / t1_4.map;
	snprintf(case_name, sizeof(case_name), "vfio %s iommufd/type1 map, 4 groups", name);
	bench_report(case_name, f_4a.map * 1e9 / pages, t1_4.map * 1e9 / pages, 1.1, false,
		     "%s, four groups: type1 one domain (kernel reuse), iommufd one automatic HWPT; "
		     "type1 %.1f ms, iommufd %.1f ms; window 0.9..1.1: %s",
		     size_why, t1_4.map * 1e3, f_4a.map * 1e3, ratio >= 0.9 && ratio <= 1.1 ? "inside" : "outside");
	ratio = f_1.unmap / t1_1.unmap;
	snprintf(case_name, sizeof(case_name), "vfio %s iommufd/type1 unmap, 1 domain", name);
	bench_report(case_name, f_1.unmap * 1e9 / pages, t1_1.unmap * 1e9 / pages, 1.1, false,
		     "%s; type1 %.1f ms, iommufd %.1f ms per unmap; window 0.9..1.1: %s", size_why,
		     t1_1.unmap * 1e3, f_1.unmap * 1e3, ratio >= 0.9 && ratio <= 1.1 ? "inside" : "outside");
	snprintf(case_name, sizeof(case_name), "vfio %s iommufd map, per extra domain", name);
	bench_report(case_name, (f_4h.map > f_1.map ? f_4h.map - f_1.map : 0) / 3 * 1e9 / pages,
		     f_1.map * 1e9 / pages, 1.0, false,
		     "%s; four devices each on its own HWPT (four domains): %.1f ms, one domain %.1f ms; "
		     "(t4 - t1) / 3 against t1", size_why, f_4h.map * 1e3, f_1.map * 1e3);
	snprintf(case_name, sizeof(case_name), "vfio %s type1 map, per extra group", name);
	bench_report(case_name, (t1_4.map > t1_1.map ? t1_4.map - t1_1.map : 0) / 3 * 1e9 / pages,
		     t1_1.map * 1e9 / pages, 1.0, false,
		     "%s; four groups (one domain: type1 reuses a compatible domain): %.1f ms, one group %.1f ms; "
		     "(t4 - t1) / 3 against t1", size_why, t1_4.map * 1e3, t1_1.map * 1e3);
}

void bench_cases_vfio(void)
{
	const char *env = getenv("IOMMU_BENCH_VFIO_REPS");
	char size_why[256];
	uint64_t size = pick_size(size_why, sizeof(size_why));
	/* about 16 GiB mapped per configuration, 1 to 5 times */
	int reps = size >= 16 * GIB ? 1 : size <= 4 * GIB ? (size <= 2 * GIB ? 5 : 4) : 2;
	struct venv e;

	if (env && atoi(env) > 0)
		reps = atoi(env);
	if (size < GIB) {
		printf("# vfio: skipped: %s\n", size_why);
		return;
	}
	venv_start(&e);
	printf("# vfio: devices %s %s %s %s (groups %d %d %d %d) of intel-server as 6.12; %s; best of %d\n",
	       e.bdf[0], e.bdf[1], e.bdf[2], e.bdf[3], e.group[0], e.group[1], e.group[2], e.group[3], size_why,
	       reps);
	fflush(stdout);
	run_backing(&e, B_4K, size, size_why, reps);
	run_backing(&e, B_THP, size, size_why, reps);
	run_backing(&e, B_1G, size, size_why, reps);
	venv_stop(&e);
}
