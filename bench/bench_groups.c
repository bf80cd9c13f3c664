// SPDX-License-Identifier: MIT
/*
 * How the time to compute IOMMU groups grows with the number of devices,
 * on synthetic Intel platforms of 1,000 to 16,000 PCI functions.  Each
 * PCI segment holds a host bridge and 31 root ports with ACS; each root
 * port leads to a switch (upstream port, four downstream ports, every
 * other one without ACS) with a two-function endpoint on each downstream
 * port: 435 functions a segment, and a DMAR with one INCLUDE_PCI_ALL unit
 * per segment.  Segments are added until the count is reached.
 *
 * Printed per size: the time to load the platform and to compute the
 * groups, the time per function, and that per-function time against the
 * 1,000-function run measured in the same process (the peer): a ratio
 * near 1 means linear growth.  Nothing is asserted.
 *
 *   bench_groups [MAX_DEVICES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommu/core.h"

#define CFG 4096

struct gen {
	char **paths;
	uint8_t **data;
	size_t *lens;
	size_t n, cap;
};

static void add(struct gen *g, const char *path, uint8_t *data, size_t len)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 1024;
		g->paths = realloc(g->paths, g->cap * sizeof(*g->paths));
		g->data = realloc(g->data, g->cap * sizeof(*g->data));
		g->lens = realloc(g->lens, g->cap * sizeof(*g->lens));
		if (!g->paths || !g->data || !g->lens) {
			perror("bench");
			exit(1);
		}
	}
	g->paths[g->n] = strdup(path);
	g->data[g->n] = data;
	g->lens[g->n] = len;
	g->n++;
}

static void w16(uint8_t *c, size_t off, uint16_t v)
{
	c[off] = (uint8_t)v;
	c[off + 1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *c, size_t off, uint32_t v)
{
	w16(c, off, (uint16_t)v);
	w16(c, off + 2, (uint16_t)(v >> 16));
}

/* A PCIe function: vendor, device, class, header type, PCIe type, ACS or not. */
static uint8_t *func(uint16_t vendor, uint16_t device, uint32_t cls, uint8_t hdr, int pcie_type,
		     int acs, uint8_t pri, uint8_t sec, uint8_t sub)
{
	uint8_t *c = calloc(1, CFG);

	w16(c, 0, vendor);
	w16(c, 2, device);
	c[9] = (uint8_t)cls;
	c[10] = (uint8_t)(cls >> 8);
	c[11] = (uint8_t)(cls >> 16);
	c[0x0e] = hdr;
	if (hdr & 0x7f) {
		c[0x18] = pri;
		c[0x19] = sec;
		c[0x1a] = sub;
	}
	c[6] = 0x10;
	c[0x34] = 0x40;
	c[0x40] = 0x10;
	w16(c, 0x42, (uint16_t)(2 | pcie_type << 4));
	if (acs) {
		w32(c, 0x100, 0x000d | 1u << 16);
		w16(c, 0x104, 0x5f);
		w16(c, 0x106, 0x1d);
	}
	return c;
}

static void put(struct gen *g, unsigned seg, unsigned bus, unsigned slot, unsigned fn, uint8_t *c)
{
	char path[64];

	snprintf(path, sizeof(path), "pci/%04x:%02x:%02x.%u/config", seg, bus, slot, fn);
	add(g, path, c, CFG);
}

static void segment(struct gen *g, unsigned seg, size_t *count, size_t max)
{
	unsigned bus = 1;

	put(g, seg, 0, 0, 0, func(0x8086, 0x29c0, 0x060000, 0, 9, 0, 0, 0, 0));
	(*count)++;
	for (unsigned rp = 1; rp < 32 && *count < max; rp++) {
		unsigned up_bus = bus, dn_bus = bus + 1, first = bus + 2, last = bus + 5;

		put(g, seg, 0, rp, 0, func(0x8086, 0x1234, 0x060400, 1, 4, 1, 0, (uint8_t)up_bus, (uint8_t)last));
		put(g, seg, up_bus, 0, 0, func(0x10b5, 0x8747, 0x060400, 1, 5, 0, (uint8_t)up_bus,
					       (uint8_t)dn_bus, (uint8_t)last));
		*count += 2;
		for (unsigned k = 0; k < 4; k++) {
			unsigned eb = first + k;

			put(g, seg, dn_bus, k, 0, func(0x10b5, 0x8747, 0x060400, 1, 6, k % 2 == 0,
						       (uint8_t)dn_bus, (uint8_t)eb, (uint8_t)eb));
			put(g, seg, eb, 0, 0, func(0x15b3, 0x1017, 0x020000, 0x80, 0, 0, 0, 0, 0));
			put(g, seg, eb, 0, 1, func(0x15b3, 0x1017, 0x020000, 0x00, 0, 0, 0, 0, 0));
			*count += 3;
		}
		bus = last + 1;
	}
}

static uint8_t *dmar_for(unsigned segments, size_t *len)
{
	size_t n = 48 + 16 * (size_t)segments;
	uint8_t *t = calloc(1, n), sum = 0;

	memcpy(t, "DMAR", 4);
	w32(t, 4, (uint32_t)n);
	t[8] = 1;
	t[36] = 38;
	for (unsigned s = 0; s < segments; s++) {
		uint8_t *d = t + 48 + 16 * s;

		w16(d, 2, 16);
		d[4] = 1;                       /* INCLUDE_PCI_ALL */
		w16(d, 6, (uint16_t)s);
		w32(d, 8, 0xfed90000u + 0x1000u * s);
	}
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + t[i]);
	t[9] = (uint8_t)(0x100 - sum);
	*len = n;
	return t;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	size_t max = argc > 1 ? strtoul(argv[1], NULL, 10) : 16000;
	double base = 0;

	printf("%8s %8s %10s %10s %12s %s\n", "devices", "groups", "load ms", "groups ms", "us/device",
	       "per-device vs 1000 (1.0 = linear)");
	for (size_t target = 1000; target <= max; target *= 2) {
		struct gen g = { 0 };
		struct iommu_platform *p;
		struct iommu_system *s;
		struct iommu_error err;
		size_t count = 0, dlen = 0;
		unsigned seg = 0;
		double t0, t1, t2, best = 1e30, load = 0;
		size_t ngroups = 0;

		while (count < target)
			segment(&g, seg++, &count, target);
		uint8_t *dmar = dmar_for(seg, &dlen);

		add(&g, "acpi/DMAR", dmar, dlen);
		add(&g, "kernel-release", (uint8_t *)strdup("6.1.0-1-amd64"), 13);

		t0 = now();
		if (iommu_platform_load_files("synthetic", g.n, (const char *const *)g.paths,
					      (const uint8_t *const *)g.data, g.lens, &p, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
		t1 = now();
		load = t1 - t0;
		/* the best of three runs of the group computation */
		for (int rep = 0; rep < 3; rep++) {
			t1 = now();
			if (iommu_system_build(p, NULL, &s, &err)) {
				fprintf(stderr, "bench: %s\n", err.msg);
				return 1;
			}
			t2 = now();
			if (t2 - t1 < best)
				best = t2 - t1;
			ngroups = s->n_groups;
			iommu_system_free(s);
		}
		double per = (load + best) / (double)count;

		if (!base)
			base = per;
		printf("%8zu %8zu %10.2f %10.2f %12.2f %.2f\n", count, ngroups, load * 1e3, best * 1e3,
		       per * 1e6, per / base);
		iommu_platform_free(p);
		for (size_t i = 0; i < g.n; i++) {
			free(g.paths[i]);
			free(g.data[i]);
		}
		free(g.paths);
		free(g.data);
		free(g.lens);
	}
	return 0;
}
