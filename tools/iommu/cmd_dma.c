// SPDX-License-Identifier: MIT
/*
 * iommu dma: a scenario of DMA API calls run on a platform's started
 * IOMMUs, each step printed with its result: the DMA address handed out,
 * the invalidations it cost, what the device reaches through the IOMMU
 * afterwards.  The scenario language is in the help text below and in
 * doc/dma.md; tests/scenarios/ holds examples that are also golden tests.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iommu/core.h"
#include "iommu/dma.h"
#include "iommu/hw.h"

static const char help[] =
"Usage: iommu dma [PLATFORM] [--cmdline STR] [--kernel VER] [--inv-wait NS]\n"
"                 [--no-debug] SCENARIO-FILE|-\n"
"\n"
"Runs a scenario of DMA API calls (dma_map_single, dma_unmap_single,\n"
"dma_map_sg, dma_alloc_coherent, ...) on the platform's IOMMUs, started as\n"
"after boot (each group in its default domain), and prints each step with\n"
"its result: the DMA address (IOVA) the kernel would hand out, the IOTLB\n"
"invalidations the step issued, and what a device reaches when it makes a\n"
"request through the modelled IOMMU.  Strict (DMA) domains invalidate on\n"
"every unmap; lazy (DMA-FQ) domains queue the unmapped ranges and\n"
"invalidate when a CPU's queue is full (255 entries) or when 10 ms of\n"
"modelled time have passed: until then the device may still reach an\n"
"unmapped buffer through a stale IOTLB entry.  Time only moves with\n"
"'advance'.\n"
"\n"
"A scenario is a text file (or '-' for standard input), one step a line;\n"
"'#' starts a comment.  Numbers are decimal or 0x hex, with an optional\n"
"K, M or G; durations take ns, us, ms or s.\n"
"\n"
"  device BDF                  the device the next steps act for\n"
"  mask BITS                   dma_set_mask(DMA_BIT_MASK(BITS)); 'mask coherent\n"
"                              BITS' for the coherent mask (default 64)\n"
"  pci_window START END        reserve a PCI host bridge window in every DMA\n"
"                              domain set up afterwards (as the kernel reserves\n"
"                              its root bus resources; platforms do not record\n"
"                              them)\n"
"  map_single NAME PHYS SIZE [DIR]\n"
"                              dma_map_single of SIZE bytes at PHYS; DIR is\n"
"                              to_device, from_device or bidirectional (default)\n"
"  map_page NAME PAGE OFFSET SIZE [DIR]\n"
"  map_sg NAME [DIR] PHYS:LEN [PHYS:LEN ...]\n"
"                              dma_map_sg of a scatterlist\n"
"  alloc_coherent NAME SIZE    dma_alloc_coherent\n"
"  unmap NAME                  undo NAME (dma_unmap_single/_page/_sg or\n"
"                              dma_free_coherent, with NAME's size)\n"
"  unmap_addr ADDR SIZE [DIR]  dma_unmap_single of any address (bad input)\n"
"  churn N SIZE [DIR]          N times dma_map_single + dma_unmap_single of SIZE\n"
"                              bytes (a driver's steady traffic), summed up\n"
"  translate NAME|ADDR [OFFSET] [read|write]\n"
"                              one request of the device through the IOMMU:\n"
"                              the host address, or the fault and its reason\n"
"  advance DURATION            move the modelled clock (flush-queue timers fire)\n"
"  flush                       flush every flush queue now\n"
"  stats                       the DMA layer's counters\n"
"\n"
"  --inv-wait NS     the CPU time one IOTLB invalidation would cost (counted\n"
"                    in 'stats'; default 0)\n"
"  --no-debug        without dma-debug: bad unmaps get only the checks\n"
"                    dma-iommu itself makes\n"
"  --cmdline STR     the kernel command line (iommu.strict=1 for strict\n"
"                    domains, iommu=pt for identity, iommu.forcedac=1, ...)\n"
"  --kernel VER      the kernel version to model\n"
"\n"
PLATFORM_HELP
"Without a platform option the built-in default platform is used.\n"
"\n"
"Example scenario:\n"
"  device 00:08.0\n"
"  map_single buf 0x100000 4096 to_device\n"
"  translate buf\n"
"  unmap buf\n"
"  translate buf        # lazy: may still succeed (stale IOTLB entry)\n"
"  advance 10ms\n"
"  translate buf        # faults\n"
"\n"
"Exit status: 0 when the scenario ran to its end (failed maps and faults are\n"
"results, printed); 1 when the IOMMUs cannot be started; 2 for a bad\n"
"command line or a malformed scenario line (the message names the line);\n"
"3, 4 as for every command.\n";

enum { OPT_INV_WAIT = 0x300, OPT_NO_DEBUG };

enum kind { K_NONE, K_SINGLE, K_PAGE, K_SG, K_COHERENT };

#define MAX_SG 64
#define MAX_WORDS (MAX_SG + 8)

struct named {
	char name[64];
	enum kind kind;
	bool live;
	struct iommu_dma_device *dev;
	uint64_t addr, size, phys;
	enum iommu_dma_data_direction dir;
	struct iommu_dma_sg sg[MAX_SG];
	int nents;
};

struct run {
	const char *file;
	unsigned line;
	struct iommu_system *s;
	struct iommu_dma *dma;
	struct iommu_dma_config cfg;
	struct iommu_dma_window *windows;
	size_t n_windows;
	bool dma_used;                  /* a device was selected: windows fixed */
	struct iommu_dma_device *dev;
	struct named *names;
	size_t n_names;
};

/* ------------------------------------------------------------------ */
/* Parsing                                                              */

static int scen_error(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int scen_error(struct run *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "iommu dma: %s:%u: ", r->file, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *e;
	unsigned shift = 0;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &e, 0);
	if (errno || e == s)
		return -1;
	switch (*e) {
	case 'K': case 'k': shift = 10; e++; break;
	case 'M': case 'm': shift = 20; e++; break;
	case 'G': case 'g': shift = 30; e++; break;
	}
	if (*e || (shift && x > (UINT64_MAX >> shift)))
		return -1;
	*v = (uint64_t)x << shift;
	return 0;
}

static int parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t mul; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
	};
	unsigned long long x;
	char *e;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &e, 10);
	if (errno || e == s)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(e, units[i].unit)) {
			if (x > UINT64_MAX / units[i].mul)
				return -1;
			*ns = x * units[i].mul;
			return 0;
		}
	return -1;
}

static int parse_dir(const char *s, enum iommu_dma_data_direction *d)
{
	if (!strcmp(s, "bidirectional"))
		*d = IOMMU_DMA_BIDIRECTIONAL;
	else if (!strcmp(s, "to_device"))
		*d = IOMMU_DMA_TO_DEVICE;
	else if (!strcmp(s, "from_device"))
		*d = IOMMU_DMA_FROM_DEVICE;
	else if (!strcmp(s, "none"))
		*d = IOMMU_DMA_NONE;
	else
		return -1;
	return 0;
}

static const char *human(uint64_t n, char *buf, size_t len)
{
	if (n && !(n % (UINT64_C(1) << 30)))
		snprintf(buf, len, "%" PRIu64 " GiB", n >> 30);
	else if (n && !(n % (UINT64_C(1) << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", n >> 20);
	else if (n && !(n % 1024))
		snprintf(buf, len, "%" PRIu64 " KiB", n >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", n);
	return buf;
}

static void print_duration(uint64_t ns)
{
	if (ns % 1000000 == 0)
		printf("%" PRIu64 " ms", ns / 1000000);
	else if (ns % 1000 == 0)
		printf("%" PRIu64 " us", ns / 1000);
	else
		printf("%" PRIu64 " ns", ns);
}

/* ------------------------------------------------------------------ */
/* State shown after each step                                          */

struct hwsnap {
	uint64_t page, domain, global, psi_fallbacks;
	uint64_t iotlb_entries;
	bool have_unit;
	struct iommu_dma_stats st;
};

static void snap(struct run *r, struct hwsnap *h)
{
	memset(h, 0, sizeof(*h));
	for (size_t u = 0; u < r->s->n_units; u++) {
		struct iommu_intel *drv = iommu_system_intel(r->s, (int)u);
		struct iommu_vtd_unit *vu = iommu_system_vtd_unit(r->s, (int)u);
		struct iommu_intel_stats is;

		if (drv) {
			iommu_intel_get_stats(drv, &is);
			h->page += is.iotlb_page;
			h->domain += is.iotlb_domain;
			h->global += is.iotlb_global;
			h->psi_fallbacks += is.psi_fallbacks;
		}
		if (vu) {
			h->iotlb_entries += iommu_vtd_iotlb_count(vu);
			h->have_unit = true;
		}
	}
	iommu_dma_get_stats(r->dma, &h->st);
}

static void print_log(struct run *r)
{
	size_t n;
	char **v = iommu_dma_take_log(r->dma, &n);

	for (size_t i = 0; i < n; i++) {
		printf("  kernel: %s\n", v[i]);
		free(v[i]);
	}
	free(v);
}

/* The invalidations a step issued, from the DMA layer's and the VT-d
 * driver's counters. */
static void print_delta(struct run *r, const struct hwsnap *a, bool always_iotlb)
{
	struct hwsnap b;
	uint64_t sync, flush, full, tmo, expl;

	snap(r, &b);
	sync = b.st.inv_sync - a->st.inv_sync;
	flush = b.st.inv_flush_all - a->st.inv_flush_all;
	full = b.st.fq_flush_full - a->st.fq_flush_full;
	tmo = b.st.fq_flush_timeout - a->st.fq_flush_timeout;
	expl = b.st.fq_flush_explicit - a->st.fq_flush_explicit;
	if (sync)
		printf("  invalidated: %" PRIu64 " strict unmap sync%s\n", sync, sync > 1 ? "s" : "");
	if (flush) {
		printf("  invalidated: %" PRIu64 " flush-queue flush%s (", flush, flush > 1 ? "es" : "");
		const char *sep = "";
		if (full) {
			printf("%s%" PRIu64 " queue full", sep, full);
			sep = ", ";
		}
		if (tmo) {
			printf("%s%" PRIu64 " timeout", sep, tmo);
			sep = ", ";
		}
		if (expl)
			printf("%s%" PRIu64 " explicit", sep, expl);
		printf("); %" PRIu64 " IOVA range%s back to the allocator\n",
		       b.st.fq_reclaimed - a->st.fq_reclaimed,
		       b.st.fq_reclaimed - a->st.fq_reclaimed == 1 ? "" : "s");
	}
	if (b.have_unit && (b.page != a->page || b.domain != a->domain || b.global != a->global)) {
		printf("  VT-d: IOTLB invalidations: %" PRIu64 " page-selective, %" PRIu64
		       " domain-selective, %" PRIu64 " global", b.page - a->page,
		       b.domain - a->domain, b.global - a->global);
		if (b.psi_fallbacks != a->psi_fallbacks)
			printf(" (%" PRIu64 " page-selective wanted)",
			       b.psi_fallbacks - a->psi_fallbacks);
		printf("; the IOTLB holds %" PRIu64 " entr%s\n", b.iotlb_entries,
		       b.iotlb_entries == 1 ? "y" : "ies");
	} else if (always_iotlb && b.have_unit) {
		printf("  VT-d: the IOTLB holds %" PRIu64 " entr%s\n", b.iotlb_entries,
		       b.iotlb_entries == 1 ? "y" : "ies");
	}
	print_log(r);
}

/* ------------------------------------------------------------------ */
/* Steps                                                                */

static struct named *find_name(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->n_names; i++)
		if (!strcmp(r->names[i].name, name))
			return &r->names[i];
	return NULL;
}

static struct named *new_name(struct run *r, const char *name)
{
	struct named *n = find_name(r, name), *v;

	if (n) {
		if (n->live)
			return NULL;
	} else {
		v = realloc(r->names, (r->n_names + 1) * sizeof(*v));
		if (!v)
			return NULL;
		r->names = v;
		n = &r->names[r->n_names++];
	}
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	return n;
}

static int need_dev(struct run *r)
{
	if (!r->dev)
		return scen_error(r, "no device yet: start with 'device BDF'");
	return 0;
}

static int ensure_dma(struct run *r)
{
	struct iommu_error err = { 0 };
	int ret;

	if (r->dma)
		return 0;
	r->cfg.pci_windows = r->windows;
	r->cfg.n_pci_windows = r->n_windows;
	ret = iommu_dma_create(r->s, &r->cfg, &r->dma, &err);
	if (ret) {
		fprintf(stderr, "iommu dma: %s\n", err.msg[0] ? err.msg : strerror(-ret));
		return EXIT_FAILURE_RUNTIME;
	}
	return 0;
}

static int step_device(struct run *r, char **w, int n)
{
	struct iommu_pci_addr a;
	const struct iommu_pci_dev *pd;
	const struct iommu_device_info *di;
	struct iommu_domain *d;
	struct iommu_domain_geometry geo;
	int ret;

	if (n != 2 || iommu_pci_addr_parse(w[1], &a))
		return scen_error(r, "device wants a PCI address (BB:DD.F or SSSS:BB:DD.F)");
	pd = iommu_platform_find_device(r->s->platform, a);
	if (!pd)
		return scen_error(r, "%s: no such PCI function on %s", w[1],
				  iommu_platform_label(r->s->platform));
	if ((ret = ensure_dma(r)))
		return ret;
	if (iommu_dma_device_get(r->dma, pd, &r->dev))
		return scen_error(r, "%s: not a device of the system", w[1]);
	di = iommu_system_device(r->s, pd);
	printf("  %s: ", pd->name);
	if (!di || !di->group) {
		printf("no IOMMU group (%s)", iommu_nogroup_reason_text(di ? di->nogroup
									 : IOMMU_NOGROUP_NO_UNIT));
	} else {
		printf("IOMMU group %d, default domain %s", di->group->id,
		       iommu_domain_type_name(di->group->type));
	}
	printf(": %s", iommu_dma_path_name(iommu_dma_device_path(r->dev)));
	d = iommu_dma_device_domain(r->dev);
	if (d) {
		iommu_domain_get_geometry(d, &geo);
		printf(", aperture 0x%" PRIx64 "-0x%" PRIx64, geo.aperture_start, geo.aperture_end);
	}
	printf("\n");
	r->dma_used = true;
	print_log(r);
	return 0;
}

static int step_mask(struct run *r, char **w, int n)
{
	bool coherent = n == 3 && !strcmp(w[1], "coherent");
	uint64_t bits, mask;
	int ret;

	if ((ret = need_dev(r)))
		return ret;
	if ((n != 2 && !coherent) || parse_u64(w[n - 1], &bits) || bits < 1 || bits > 64)
		return scen_error(r, "mask wants [coherent] BITS (1..64)");
	mask = bits == 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
	ret = coherent ? iommu_dma_set_coherent_mask(r->dev, mask) : iommu_dma_set_mask(r->dev, mask);
	printf("  %s(DMA_BIT_MASK(%" PRIu64 ")): %s\n",
	       coherent ? "dma_set_coherent_mask" : "dma_set_mask", bits,
	       ret ? "-EIO, the mask is not supported" : "ok");
	return 0;
}

static int step_window(struct run *r, char **w, int n)
{
	uint64_t a, b;
	struct iommu_dma_window *v;

	if (n != 3 || parse_u64(w[1], &a) || parse_u64(w[2], &b) || b < a)
		return scen_error(r, "pci_window wants START END (inclusive, START <= END)");
	if (r->dma_used)
		return scen_error(r, "pci_window must come before the first 'device'");
	v = realloc(r->windows, (r->n_windows + 1) * sizeof(*v));
	if (!v)
		return EXIT_FAILURE_RUNTIME;
	r->windows = v;
	r->windows[r->n_windows].start = a;
	r->windows[r->n_windows++].end = b;
	printf("  reserved in every DMA domain: 0x%" PRIx64 "-0x%" PRIx64 "\n", a, b);
	return 0;
}

static const char *errno_name(int e)
{
	switch (e < 0 ? -e : e) {
	case ENOENT: return "-ENOENT";
	case EINVAL: return "-EINVAL";
	case ENOMEM: return "-ENOMEM";
	case EIO: return "-EIO";
	case EFAULT: return "-EFAULT";
	default: return "error";
	}
}

/* A refused call: the errno, and the reason unless dma-debug's report
 * (printed from the log next) already says it. */
static void print_refused(int ret, const struct iommu_error *err)
{
	if (strncmp(err->msg, "DMA-API: ", 9))
		printf("  refused, %s: %s\n", errno_name(ret), err->msg);
	else
		printf("  refused, %s; dma-debug reports:\n", errno_name(ret));
}

static void print_mapped(struct run *r, const struct named *nm, uint64_t span)
{
	enum iommu_dma_path p = iommu_dma_device_path(nm->dev);
	char hb[32];

	(void)r;
	if (p == IOMMU_DMA_PATH_IOMMU_STRICT || p == IOMMU_DMA_PATH_IOMMU_LAZY) {
		uint64_t lo = nm->addr & ~UINT64_C(0xfff);
		uint64_t pages = span / 4096, rounded = pages;

		/* alloc_iova_fast rounds sizes below 32 granules up to a power
		 * of two (reference 7.3). */
		if (pages > 1 && pages < 32)
			rounded = UINT64_C(1) << (64 - __builtin_clzll(pages - 1));

		printf("  %s = 0x%" PRIx64 " (IOVA range 0x%" PRIx64 "-0x%" PRIx64 ", %s mapped",
		       nm->name, nm->addr, lo, lo + span - 1, human(span, hb, sizeof(hb)));
		if (rounded != pages)
			printf("; the allocation is rounded to %" PRIu64 " pages", rounded);
		printf(")\n");
	} else {
		printf("  %s = 0x%" PRIx64 " (%s: the physical address)\n", nm->name, nm->addr,
		       iommu_dma_path_name(p));
	}
}

static int step_map(struct run *r, char **w, int n)
{
	struct iommu_error err = { 0 };
	struct hwsnap h;
	struct named *nm;
	uint64_t phys, off = 0, size, addr;
	enum iommu_dma_data_direction dir = IOMMU_DMA_BIDIRECTIONAL;
	bool page = !strcmp(w[0], "map_page");
	int need = page ? 5 : 4, ret;

	if ((ret = need_dev(r)))
		return ret;
	if ((n != need && n != need + 1) || parse_u64(w[2], &phys) ||
	    (page && parse_u64(w[3], &off)) || parse_u64(w[need - 1], &size) ||
	    (n == need + 1 && parse_dir(w[need], &dir)))
		return scen_error(r, "%s wants NAME %sSIZE [to_device|from_device|bidirectional]",
				  w[0], page ? "PAGE OFFSET " : "PHYS ");
	nm = new_name(r, w[1]);
	if (!nm)
		return scen_error(r, "%s is mapped already: unmap it first", w[1]);
	snap(r, &h);
	addr = page ? iommu_dma_map_page(r->dev, phys, off, size, dir, &err)
		    : iommu_dma_map_single(r->dev, phys, size, dir, &err);
	if (addr == IOMMU_DMA_MAPPING_ERROR) {
		printf("  %s: DMA_MAPPING_ERROR: %s\n", w[1], err.msg);
		nm->kind = K_NONE;
	} else {
		uint64_t lo = addr & ~UINT64_C(0xfff);

		nm->kind = page ? K_PAGE : K_SINGLE;
		nm->live = true;
		nm->dev = r->dev;
		nm->addr = addr;
		nm->size = size;
		nm->phys = phys + off;
		nm->dir = dir;
		print_mapped(r, nm, (((addr + size + 0xfff) & ~UINT64_C(0xfff)) - lo));
	}
	print_delta(r, &h, false);
	return 0;
}

static int step_map_sg(struct run *r, char **w, int n)
{
	struct iommu_error err = { 0 };
	struct hwsnap h;
	struct named *nm;
	enum iommu_dma_data_direction dir = IOMMU_DMA_BIDIRECTIONAL;
	int first = 2, ret, cnt;

	if ((ret = need_dev(r)))
		return ret;
	if (n >= 3 && !parse_dir(w[2], &dir))
		first = 3;
	if (n <= first || n - first > MAX_SG)
		return scen_error(r, "map_sg wants NAME [DIR] PHYS:LEN ... (1 to %d entries)", MAX_SG);
	nm = new_name(r, w[1]);
	if (!nm)
		return scen_error(r, "%s is mapped already: unmap it first", w[1]);
	for (int i = first; i < n; i++) {
		char *colon = strchr(w[i], ':');
		uint64_t p, l;

		if (!colon)
			return scen_error(r, "'%s': an sg entry is PHYS:LEN", w[i]);
		*colon = 0;
		if (parse_u64(w[i], &p) || parse_u64(colon + 1, &l) || l > UINT32_MAX)
			return scen_error(r, "'%s:%s': an sg entry is PHYS:LEN (LEN < 4 GiB)", w[i],
					  colon + 1);
		nm->sg[nm->nents].phys = p;
		nm->sg[nm->nents++].length = (uint32_t)l;
	}
	snap(r, &h);
	cnt = iommu_dma_map_sg(r->dev, nm->sg, nm->nents, dir, &err);
	if (!cnt) {
		printf("  %s: dma_map_sg returned 0: %s\n", w[1], err.msg);
		nm->kind = K_NONE;
	} else {
		nm->kind = K_SG;
		nm->live = true;
		nm->dev = r->dev;
		nm->dir = dir;
		nm->addr = nm->sg[0].dma_address;
		printf("  %s: %d entr%s mapped as %d DMA segment%s:\n", w[1], nm->nents,
		       nm->nents == 1 ? "y" : "ies", cnt, cnt == 1 ? "" : "s");
		for (int i = 0; i < cnt; i++)
			printf("    segment %d: 0x%" PRIx64 " + 0x%x\n", i, nm->sg[i].dma_address,
			       nm->sg[i].dma_length);
	}
	print_delta(r, &h, false);
	return 0;
}

static int step_alloc(struct run *r, char **w, int n)
{
	struct iommu_error err = { 0 };
	struct hwsnap h;
	struct named *nm;
	uint64_t size, handle, phys;
	char hb[32];
	int ret;

	if ((ret = need_dev(r)))
		return ret;
	if (n != 3 || parse_u64(w[2], &size))
		return scen_error(r, "alloc_coherent wants NAME SIZE");
	nm = new_name(r, w[1]);
	if (!nm)
		return scen_error(r, "%s is mapped already: unmap it first", w[1]);
	snap(r, &h);
	ret = iommu_dma_alloc_coherent(r->dev, size, &handle, &phys, &err);
	if (ret) {
		printf("  %s: dma_alloc_coherent returned NULL: %s\n", w[1], err.msg);
		nm->kind = K_NONE;
	} else {
		nm->kind = K_COHERENT;
		nm->live = true;
		nm->dev = r->dev;
		nm->addr = handle;
		nm->size = size;
		nm->phys = phys;
		nm->dir = IOMMU_DMA_BIDIRECTIONAL;
		printf("  %s: %s of zeroed memory at 0x%" PRIx64 "\n", w[1],
		       human((size + 0xfff) & ~UINT64_C(0xfff), hb, sizeof(hb)), phys);
		print_mapped(r, nm, (size + 0xfff) & ~UINT64_C(0xfff));
	}
	print_delta(r, &h, false);
	return 0;
}

static void unmapped_line(struct run *r, struct iommu_dma_device *dev)
{
	enum iommu_dma_path p = iommu_dma_device_path(dev);

	(void)r;
	if (p == IOMMU_DMA_PATH_IOMMU_LAZY)
		printf("  unmapped: the page tables no longer map it; the range waits on the "
		       "flush queue (IOTLB not invalidated yet)\n");
	else if (p == IOMMU_DMA_PATH_IOMMU_STRICT)
		printf("  unmapped: the IOTLB was invalidated before the IOVA went back to "
		       "the allocator\n");
	else
		printf("  unmapped (dma-direct: nothing to undo)\n");
}

static int step_unmap(struct run *r, char **w, int n)
{
	struct iommu_error err = { 0 };
	struct hwsnap h;
	struct named *nm;
	int ret;

	if (n != 2)
		return scen_error(r, "unmap wants NAME");
	nm = find_name(r, w[1]);
	if (!nm || nm->kind == K_NONE)
		return scen_error(r, "%s: no such mapping", w[1]);
	snap(r, &h);
	switch (nm->kind) {
	case K_SG:
		ret = iommu_dma_unmap_sg(nm->dev, nm->sg, nm->nents, nm->dir, &err);
		break;
	case K_COHERENT:
		ret = iommu_dma_free_coherent(nm->dev, nm->size, nm->phys, nm->addr, &err);
		break;
	case K_PAGE:
		ret = iommu_dma_unmap_page(nm->dev, nm->addr, nm->size, nm->dir, &err);
		break;
	default:
		ret = iommu_dma_unmap_single(nm->dev, nm->addr, nm->size, nm->dir, &err);
		break;
	}
	if (ret) {
		print_refused(ret, &err);
	} else {
		nm->live = false;
		unmapped_line(r, nm->dev);
	}
	print_delta(r, &h, false);
	return 0;
}

static int step_unmap_addr(struct run *r, char **w, int n)
{
	struct iommu_error err = { 0 };
	enum iommu_dma_data_direction dir = IOMMU_DMA_BIDIRECTIONAL;
	struct hwsnap h;
	uint64_t addr, size;
	int ret;

	if ((ret = need_dev(r)))
		return ret;
	if ((n != 3 && n != 4) || parse_u64(w[1], &addr) || parse_u64(w[2], &size) ||
	    (n == 4 && parse_dir(w[3], &dir)))
		return scen_error(r, "unmap_addr wants ADDR SIZE [DIR]");
	snap(r, &h);
	ret = iommu_dma_unmap_single(r->dev, addr, size, dir, &err);
	if (ret)
		print_refused(ret, &err);
	else
		unmapped_line(r, r->dev);
	print_delta(r, &h, false);
	return 0;
}

static int step_churn(struct run *r, char **w, int n)
{
	struct iommu_error err = { 0 };
	enum iommu_dma_data_direction dir = IOMMU_DMA_BIDIRECTIONAL;
	struct hwsnap h;
	uint64_t count, size, lo = UINT64_MAX, hi = 0, first = 0, last = 0, i;
	int ret;

	if ((ret = need_dev(r)))
		return ret;
	if ((n != 3 && n != 4) || parse_u64(w[1], &count) || !count || count > 10000000 ||
	    parse_u64(w[2], &size) || (n == 4 && parse_dir(w[3], &dir)))
		return scen_error(r, "churn wants N (1..10000000) SIZE [DIR]");
	snap(r, &h);
	for (i = 0; i < count; i++) {
		uint64_t a = iommu_dma_map_single(r->dev, 0x100000, size, dir, &err);

		if (a == IOMMU_DMA_MAPPING_ERROR) {
			printf("  map %" PRIu64 ": DMA_MAPPING_ERROR: %s\n", i + 1, err.msg);
			break;
		}
		if (!i)
			first = a;
		last = a;
		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
		if (iommu_dma_unmap_single(r->dev, a, size, dir, &err)) {
			printf("  unmap %" PRIu64 ": %s\n", i + 1, err.msg);
			break;
		}
	}
	if (i)
		printf("  %" PRIu64 " map+unmap pairs: first 0x%" PRIx64 ", last 0x%" PRIx64
		       ", all within 0x%" PRIx64 "-0x%" PRIx64 "\n", i, first, last, lo, hi);
	print_delta(r, &h, false);
	return 0;
}

static int step_translate(struct run *r, char **w, int n)
{
	struct iommu_dma_access acc;
	struct iommu_dma_device *dev = r->dev;
	struct named *nm;
	struct hwsnap h;
	uint64_t addr, off = 0;
	bool write = false;
	int i = 2, ret;

	if (n < 2 || n > 4)
		return scen_error(r, "translate wants NAME|ADDR [OFFSET] [read|write]");
	nm = find_name(r, w[1]);
	if (nm && nm->kind != K_NONE) {
		addr = nm->addr;
		dev = nm->dev;
	} else if (parse_u64(w[1], &addr)) {
		return scen_error(r, "%s: neither a mapping's name nor an address", w[1]);
	}
	if (!dev)
		return need_dev(r);
	if (i < n && strcmp(w[i], "read") && strcmp(w[i], "write")) {
		if (parse_u64(w[i], &off))
			return scen_error(r, "'%s': an offset, read or write", w[i]);
		i++;
	}
	if (i < n) {
		if (!strcmp(w[i], "write"))
			write = true;
		else if (strcmp(w[i], "read"))
			return scen_error(r, "'%s': read or write", w[i]);
		i++;
	}
	if (i != n)
		return scen_error(r, "translate wants NAME|ADDR [OFFSET] [read|write]");
	addr += off;
	snap(r, &h);
	ret = iommu_dma_device_access(dev, addr, 1, write, &acc);
	printf("  %s of 0x%" PRIx64 " by %s: ", write ? "write" : "read", addr,
	       iommu_dma_device_pdev(dev)->name);
	if (ret == 0) {
		printf("0x%" PRIx64, acc.host_addr);
		if (acc.direct)
			printf(" (untranslated)");
		else if (acc.stale)
			printf(" through a STALE IOTLB entry: the page tables no longer map it");
		else if (!acc.modelled_unit)
			printf(" (software page table)");
		else
			printf(" (%s)", acc.iotlb_hit ? "IOTLB hit" : "page walk, now cached");
		printf("\n");
	} else {
		printf("%s\n", acc.fault);
	}
	print_delta(r, &h, true);
	return 0;
}

static int step_advance(struct run *r, char **w, int n)
{
	struct hwsnap h;
	uint64_t ns;
	int ret;

	if (n != 2 || parse_duration(w[1], &ns))
		return scen_error(r, "advance wants a duration: 10ms, 500us, 250ns, 1s");
	if ((ret = ensure_dma(r)))
		return ret;
	snap(r, &h);
	iommu_dma_advance(r->dma, ns);
	printf("  t = ");
	print_duration(iommu_dma_now(r->dma));
	printf("\n");
	print_delta(r, &h, false);
	return 0;
}

static int step_flush(struct run *r, int n)
{
	struct hwsnap h;
	int ret;

	if (n != 1)
		return scen_error(r, "flush takes nothing");
	if ((ret = ensure_dma(r)))
		return ret;
	snap(r, &h);
	iommu_dma_flush_queues(r->dma);
	if (h.st.fq_pending == 0)
		printf("  nothing queued\n");
	print_delta(r, &h, false);
	return 0;
}

static int step_stats(struct run *r, int n)
{
	struct iommu_dma_stats st;
	int ret;

	if (n != 1)
		return scen_error(r, "stats takes nothing");
	if ((ret = ensure_dma(r)))
		return ret;
	iommu_dma_get_stats(r->dma, &st);
	printf("  maps %" PRIu64 " (direct %" PRIu64 "), unmaps %" PRIu64 ", live %" PRIu64
	       ", map errors %" PRIu64 ", refused unmaps %" PRIu64 "\n", st.maps, st.direct_maps,
	       st.unmaps, st.live_mappings, st.map_errors, st.bad_unmaps);
	printf("  invalidations: %" PRIu64 " strict syncs, %" PRIu64 " flush-queue flushes (%"
	       PRIu64 " full, %" PRIu64 " timeout, %" PRIu64 " explicit); modelled wait %" PRIu64
	       " ns\n", st.inv_sync, st.inv_flush_all, st.fq_flush_full, st.fq_flush_timeout,
	       st.fq_flush_explicit, st.inv_wait_ns);
	printf("  flush queues: %" PRIu64 " queued, %" PRIu64 " reclaimed, %" PRIu64
	       " pending; stale windows %" PRIu64 " (open %" PRIu64 "), stale hits %" PRIu64
	       ", faults %" PRIu64 "\n", st.fq_queued, st.fq_reclaimed, st.fq_pending,
	       st.stale_windows, st.stale_open, st.stale_hits, st.faults);
	return 0;
}

static int run_line(struct run *r, char *line)
{
	char *w[MAX_WORDS], *save, *tok, *hash = strchr(line, '#');
	int n = 0;

	if (hash)
		*hash = 0;
	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_WORDS)
			return scen_error(r, "too many words");
		w[n++] = tok;
	}
	if (!n)
		return 0;
	if (!strcmp(w[0], "device"))
		return step_device(r, w, n);
	if (!strcmp(w[0], "mask"))
		return step_mask(r, w, n);
	if (!strcmp(w[0], "pci_window"))
		return step_window(r, w, n);
	if (!strcmp(w[0], "map_single") || !strcmp(w[0], "map_page"))
		return step_map(r, w, n);
	if (!strcmp(w[0], "map_sg"))
		return step_map_sg(r, w, n);
	if (!strcmp(w[0], "alloc_coherent"))
		return step_alloc(r, w, n);
	if (!strcmp(w[0], "unmap"))
		return step_unmap(r, w, n);
	if (!strcmp(w[0], "unmap_addr"))
		return step_unmap_addr(r, w, n);
	if (!strcmp(w[0], "translate"))
		return step_translate(r, w, n);
	if (!strcmp(w[0], "churn"))
		return step_churn(r, w, n);
	if (!strcmp(w[0], "advance"))
		return step_advance(r, w, n);
	if (!strcmp(w[0], "flush"))
		return step_flush(r, n);
	if (!strcmp(w[0], "stats"))
		return step_stats(r, n);
	return scen_error(r, "unknown step '%s' (see 'iommu help dma')", w[0]);
}

static int run_scenario(struct run *r, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		char *copy;

		r->line++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (strlen(line) != (size_t)len) {
			ret = scen_error(r, "a NUL byte in the line");
			break;
		}
		/* Echo the step (comments included), then its result. */
		printf("%s\n", line);
		copy = strdup(line);
		if (!copy) {
			ret = EXIT_FAILURE_RUNTIME;
			break;
		}
		ret = run_line(r, copy);
		free(copy);
		fflush(stdout);
		if (ret)
			break;
	}
	free(line);
	if (!ret && ferror(f)) {
		fprintf(stderr, "iommu dma: %s: read error\n", r->file);
		ret = EXIT_FAILURE_RUNTIME;
	}
	return ret;
}

int cmd_dma(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		WHATIF_LONG_OPTIONS,
		{ "inv-wait", required_argument, NULL, OPT_INV_WAIT },
		{ "no-debug", no_argument, NULL, OPT_NO_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_system_options so = { 0 };
	struct iommu_platform *p = NULL;
	struct iommu_system *s = NULL;
	struct iommu_error err = { 0 };
	struct run r;
	FILE *f;
	int c, ret;

	memset(&r, 0, sizeof(r));
	iommu_dma_config_init(&r.cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		case OPT_INV_WAIT:
			if (parse_u64(optarg, &r.cfg.inv_wait_ns))
				return usage_error("dma", "--inv-wait wants nanoseconds, not '%s'",
						   optarg);
			continue;
		case OPT_NO_DEBUG:
			r.cfg.debug = false;
			continue;
		}
		if (whatif_option(&so, c, optarg))
			continue;
		ret = platform_option(&pc, c, optarg);
		if (ret < 0)
			return usage_error("dma", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("dma", "unknown option");
	}
	if (argc - optind != 1)
		return usage_error("dma", "give one scenario file (or '-' for standard input)");
	r.file = argv[optind];
	if (!strcmp(r.file, "-")) {
		f = stdin;
		r.file = "<stdin>";
	} else if (!(f = fopen(r.file, "r"))) {
		fprintf(stderr, "iommu dma: %s: %s\n", r.file, strerror(errno));
		return EXIT_USAGE;
	}
	ret = system_load("dma", &pc, &so, false, &p, &s);
	if (ret)
		goto out;
	ret = iommu_system_start(s, 0, &err);
	if (ret) {
		fprintf(stderr, "iommu dma: cannot start the IOMMUs of %s: %s\n",
			iommu_platform_label(p), err.msg[0] ? err.msg : strerror(-ret));
		ret = EXIT_FAILURE_RUNTIME;
		goto out;
	}
	r.s = s;
	printf("# %s, %s, kernel %d.%d; cmdline: %s\n", iommu_platform_label(p),
	       s->driver == IOMMU_DRIVER_INTEL ? "Intel VT-d" :
	       s->driver == IOMMU_DRIVER_AMD ? "AMD-Vi (software page tables, no IOTLB model)"
					     : "no IOMMU",
	       s->kernel.major, s->kernel.minor, s->cmdline_line ? s->cmdline_line : "");
	ret = run_scenario(&r, f);
out:
	if (f != stdin)
		fclose(f);
	if (r.dma) {
		if (!ret && iommu_dma_report_leaks(r.dma))
			printf("# at the end:\n");
		print_log(&r);
		iommu_dma_destroy(r.dma);
	}
	free(r.names);
	free(r.windows);
	iommu_system_free(s);
	iommu_platform_free(p);
	return ret;
}
