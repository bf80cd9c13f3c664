// SPDX-License-Identifier: MIT
/*
 * iommu translate: one DMA request through a modelled VT-d unit, after the
 * core's Intel driver has brought the unit up, attached the device's
 * group to a DMA domain and made the maps asked for.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iommu/core.h"
#include "iommu/hw.h"

static const char help[] =
"Usage: iommu translate [PLATFORM] [--cmdline STR] [--kernel VER]\n"
"                       BDF IOVA [--write] [--map IOVA:PADDR:SIZE ...]\n"
"\n"
"Translates one DMA request of the PCI function BDF at IOVA through a model\n"
"of its Intel VT-d unit (the DRHD that covers it, with the CAP and ECAP\n"
"registers the platform reports).  The core's Intel driver first does what\n"
"the kernel does: enables the unit (root table, queued or register-based\n"
"invalidation, translation), attaches the device's group to a DMA domain\n"
"and makes each --map (a script of maps to try: IOVA, host address and\n"
"size, with K, M or G suffixes; superpages where alignment allows).\n"
"\n"
"Prints each table entry the unit reads (root, context, each page-table\n"
"level) with its fields decoded, then the host address or the fault with\n"
"its reason in the words of the VT-d specification.\n"
"\n"
"  --write          a write request (default: read)\n"
"  --map I:P:S      map IOVA I to host address P for S bytes (repeatable)\n"
"  --read-only      make the --map entries read-only\n"
"\n"
"Exit status: 0 when the request translates, 6 when it faults; 1, 2, 3, 4\n"
"as for every command.\n"
"\n"
PLATFORM_HELP
"\n"
"Examples:\n"
"  iommu translate 00:03.0 0x100000 --map 0x100000:0x7fe00000:2M\n"
"  iommu translate --snapshot mybox 01:00.0 0x40000000 --write \\\n"
"        --map 0x40000000:0x80000000:1G\n";

enum { OPT_MAP = 0x200, OPT_WRITE, OPT_READ_ONLY };

#define EXIT_FAULT 6    /* the request faulted (documented in iommu(1)) */

struct map_req {
	uint64_t iova, paddr, size;
};

static int parse_num(const char *s, char **end, uint64_t *v)
{
	unsigned long long x;

	errno = 0;
	x = strtoull(s, end, 0);
	if (errno || *end == s)
		return -1;
	switch (**end) {
	case 'K': case 'k':
		x <<= 10, (*end)++;
		break;
	case 'M': case 'm':
		x <<= 20, (*end)++;
		break;
	case 'G': case 'g':
		x <<= 30, (*end)++;
		break;
	}
	*v = x;
	return 0;
}

static int parse_map(const char *arg, struct map_req *m)
{
	char *e;

	if (parse_num(arg, &e, &m->iova) || *e != ':' ||
	    parse_num(e + 1, &e, &m->paddr) || *e != ':' ||
	    parse_num(e + 1, &e, &m->size) || *e)
		return -1;
	return 0;
}

static const char *size_name(uint64_t s)
{
	return s == (UINT64_C(1) << 30) ? "1 GiB" : s == (UINT64_C(1) << 21) ? "2 MiB" : "4 KiB";
}

static int run(const struct iommu_system *s, const struct iommu_pci_dev *d, uint64_t iova,
	       bool write, const struct map_req *maps, size_t n_maps, bool ro)
{
	const struct iommu_device_info *di = iommu_system_device(s, d);
	const struct iommu_unit *unit;
	struct iommu_vtd_config vc;
	struct iommu_intel_config dc = { 0 };
	struct iommu_error err = { 0 };
	struct iommu_mem *mem = NULL;
	struct iommu_vtd_unit *u = NULL;
	struct iommu_intel *drv = NULL;
	struct iommu_intel_domain *dom = NULL;
	struct iommu_intel_walk_step steps[IOMMU_INTEL_WALK_MAX];
	struct iommu_vtd_request rq = { 0 };
	struct iommu_vtd_result res;
	uint64_t memsz;
	size_t n;
	int ret, status = EXIT_FAILURE_RUNTIME;
	char line[512];

	if (s->driver != IOMMU_DRIVER_INTEL) {
		fprintf(stderr, "iommu translate: %s: the platform's IOMMU is not Intel VT-d "
			"(translate models VT-d only)\n", d->name);
		return EXIT_FAILURE_RUNTIME;
	}
	if (!di || !di->group || di->unit < 0) {
		fprintf(stderr, "iommu translate: %s has no IOMMU group: %s\n", d->name,
			iommu_nogroup_reason_text(di ? di->nogroup : IOMMU_NOGROUP_NO_UNIT));
		return EXIT_FAILURE_RUNTIME;
	}
	unit = &s->units[di->unit];
	/* the unit as the core models it (CAP/ECAP from the platform) */
	if (iommu_system_vtd_config(s, di->unit, &vc, &memsz) ||
	    iommu_mem_create(memsz, &mem)) {
		fprintf(stderr, "iommu translate: out of memory\n");
		return EXIT_FAILURE_RUNTIME;
	}
	vc.mem = mem;
	ret = iommu_vtd_create(&vc, &u, &err);
	if (ret) {
		fprintf(stderr, "iommu translate: %s: cannot model the unit: %s\n", unit->name,
			err.msg[0] ? err.msg : strerror(-ret));
		goto out;
	}
	dc.unit = u;
	dc.mem = mem;
	if ((ret = iommu_intel_create(&dc, &drv, &err)) || (ret = iommu_intel_enable(drv)) ||
	    (ret = iommu_intel_domain_alloc(drv, IOMMU_DOMAIN_DMA, 0, &dom))) {
		fprintf(stderr, "iommu translate: driver: %s\n", err.msg[0] ? err.msg : strerror(-ret));
		goto out;
	}
	printf("device %s, requester id %02x:%02x.%x, IOMMU group %d (default domain %s)\n",
	       d->name, d->addr.bus, d->addr.devfn >> 3, d->addr.devfn & 7, di->group->id,
	       iommu_domain_type_name(di->group->type));
	printf("unit %s at 0x%llx: CAP 0x%016llx ECAP 0x%016llx%s; %s invalidation\n",
	       unit->name, (unsigned long long)unit->base, (unsigned long long)vc.cap,
	       (unsigned long long)vc.ecap,
	       unit->have_regs ? "" : " (not in the platform: QEMU's defaults)",
	       iommu_intel_uses_qi(drv) ? "queued" : "register-based");
	for (size_t i = 0; i < di->group->n_devices; i++) {
		ret = iommu_intel_attach_device(dom, s, di->group->devices[i]->pdev);
		if (ret) {
			fprintf(stderr, "iommu translate: attach %s: %s\n",
				di->group->devices[i]->pdev->name, strerror(-ret));
			goto out;
		}
	}
	printf("DMA domain: %u-level, %u-bit, domain id %u, %zu device(s) attached\n",
	       iommu_intel_domain_levels(dom), iommu_intel_domain_width(dom),
	       iommu_intel_domain_id(dom), di->group->n_devices);
	for (size_t i = 0; i < n_maps; i++) {
		ret = iommu_intel_map(dom, maps[i].iova, maps[i].paddr, maps[i].size,
				      IOMMU_PROT_READ | (ro ? 0 : IOMMU_PROT_WRITE));
		printf("map 0x%llx -> 0x%llx, 0x%llx bytes%s: %s\n",
		       (unsigned long long)maps[i].iova, (unsigned long long)maps[i].paddr,
		       (unsigned long long)maps[i].size, ro ? " read-only" : "",
		       ret ? strerror(-ret) : "ok");
	}

	rq.source_id = iommu_pci_addr_rid(d->addr);
	rq.addr = iova;
	rq.size = 1;
	rq.write = write;
	printf("\n%s of 0x%llx by %02x:%02x.%x, the entries the unit reads:\n",
	       write ? "write" : "read", (unsigned long long)iova, d->addr.bus,
	       d->addr.devfn >> 3, d->addr.devfn & 7);
	if (iommu_intel_walk(drv, rq.source_id, iova, steps, &n) == 0)
		for (size_t i = 0; i < n; i++) {
			iommu_intel_walk_step_describe(&steps[i], line, sizeof(line));
			printf("  %s\n", line);
		}
	ret = iommu_vtd_translate(u, &rq, &res);
	if (ret == 0) {
		if (res.passthrough)
			printf("result: 0x%llx (pass-through)\n", (unsigned long long)res.host_addr);
		else
			printf("result: 0x%llx (%s page, %s, domain %u)\n",
			       (unsigned long long)res.host_addr, size_name(res.page_size),
			       res.write ? (res.read ? "read/write" : "write-only") : "read-only",
			       res.domain_id);
		status = EXIT_OK;
	} else if (ret == -EFAULT) {
		const char *desc = iommu_vtd_fault_reason_desc(res.fault_reason);
		const char *name = iommu_vtd_fault_reason_name(res.fault_reason);

		printf("fault %02Xh %s: %s\n", res.fault_reason, name ? name : "?",
		       desc ? desc : "(no description)");
		printf("(%s in a fault recording register)\n",
		       res.fault_recorded ? "recorded" : "not recorded");
		status = EXIT_FAULT;
	} else {
		fprintf(stderr, "iommu translate: %s\n", strerror(-ret));
	}
out:
	iommu_intel_destroy(drv);
	iommu_vtd_destroy(u);
	iommu_mem_destroy(mem);
	return status;
}

int cmd_translate(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		WHATIF_LONG_OPTIONS,
		{ "map", required_argument, NULL, OPT_MAP },
		{ "write", no_argument, NULL, OPT_WRITE },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_system_options so = { 0 };
	struct iommu_platform *p;
	struct iommu_system *s;
	struct map_req *maps = NULL;
	size_t n_maps = 0;
	bool write = false, ro = false;
	struct iommu_pci_addr a;
	const struct iommu_pci_dev *d;
	uint64_t iova;
	char *e;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			free(maps);
			return EXIT_OK;
		case OPT_WRITE:
			write = true;
			continue;
		case OPT_READ_ONLY:
			ro = true;
			continue;
		case OPT_MAP: {
			struct map_req *v = realloc(maps, (n_maps + 1) * sizeof(*v));

			if (!v) {
				free(maps);
				return EXIT_FAILURE_RUNTIME;
			}
			maps = v;
			if (parse_map(optarg, &maps[n_maps])) {
				free(maps);
				return usage_error("translate", "--map wants IOVA:PADDR:SIZE, not '%s'",
						   optarg);
			}
			n_maps++;
			continue;
		}
		}
		if (whatif_option(&so, c, optarg))
			continue;
		ret = platform_option(&pc, c, optarg);
		free(ret <= 0 ? maps : NULL);
		if (ret < 0)
			return usage_error("translate", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("translate", "unknown option");
	}
	if (argc - optind != 2) {
		free(maps);
		return usage_error("translate", "give a PCI function and an IOVA");
	}
	if (iommu_pci_addr_parse(argv[optind], &a)) {
		free(maps);
		return usage_error("translate", "'%s' is not a PCI address (SSSS:BB:DD.F or BB:DD.F)",
				   argv[optind]);
	}
	if (parse_num(argv[optind + 1], &e, &iova) || *e) {
		free(maps);
		return usage_error("translate", "'%s' is not an address", argv[optind + 1]);
	}
	ret = system_load("translate", &pc, &so, false, &p, &s);
	if (ret) {
		free(maps);
		return ret;
	}
	d = iommu_platform_find_device(p, a);
	if (!d) {
		fprintf(stderr, "iommu translate: %s: no such PCI function on %s\n", argv[optind],
			iommu_platform_label(p));
		ret = EXIT_PLATFORM;
	} else {
		ret = run(s, d, iova, write, maps, n_maps, ro);
	}
	free(maps);
	iommu_system_free(s);
	iommu_platform_free(p);
	return ret;
}
