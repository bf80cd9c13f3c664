// SPDX-License-Identifier: MIT
/*
 * iommu explain: why a device is in its IOMMU group, and what would
 * isolate it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iommu/core.h"

static const char help[] =
"Usage: iommu explain [PLATFORM] [--cmdline STR] [--kernel VER]\n"
"                     [--acs-override SPEC] [BDF...]\n"
"\n"
"Explains why a PCI function is in its IOMMU group, as a chain a person can\n"
"follow: each DMA alias step (PCIe-to-PCI and conventional bridges), each\n"
"bridge on the path to the root and which ACS bits it lacks, each sibling\n"
"function without ACS, each quirk applied; then what would isolate it (ACS\n"
"at a named port, a different slot, an override).  Compact enough to paste\n"
"into a forum post.\n"
"\n"
"Without BDF it explains every device that shares its group.  BDF is\n"
"SSSS:BB:DD.F or BB:DD.F.  The options are those of 'iommu groups'.\n"
"\n"
PLATFORM_HELP
"\n"
"Examples:\n"
"  iommu explain --builtin intel-server 05:01.0\n"
"  sudo iommu explain --host 01:00.0\n";

static int explain_one(const struct iommu_system *s, const struct iommu_pci_dev *d)
{
	char *text;
	int ret = iommu_explain_device(s, d, &text);

	if (ret) {
		fprintf(stderr, "iommu explain: %s: %s\n", d->name, strerror(-ret));
		return EXIT_FAILURE_RUNTIME;
	}
	fputs(text, stdout);
	free(text);
	return EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		WHATIF_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_system_options so = { 0 };
	struct iommu_platform *p;
	struct iommu_system *s;
	int c, ret, status = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		}
		if (whatif_option(&so, c, optarg))
			continue;
		ret = platform_option(&pc, c, optarg);
		if (ret < 0)
			return usage_error("explain", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("explain", "unknown option");
	}
	for (int i = optind; i < argc; i++) {
		struct iommu_pci_addr a;

		if (iommu_pci_addr_parse(argv[i], &a))
			return usage_error("explain", "'%s' is not a PCI address (SSSS:BB:DD.F or BB:DD.F)",
					   argv[i]);
	}
	ret = system_load("explain", &pc, &so, true, &p, &s);
	if (ret)
		return ret;
	if (so.acs_override)
		printf("(what-if: pcie_acs_override=%s, an out-of-tree patch, NOT mainline Linux)\n",
		       so.acs_override);
	if (optind == argc) {
		bool any = false;

		for (size_t gi = 0; gi < s->n_groups; gi++) {
			const struct iommu_group_info *g = s->groups[gi];

			for (size_t k = 1; k < g->n_devices; k++) {
				if (any)
					putchar('\n');
				any = true;
				if (explain_one(s, g->devices[k]->pdev))
					status = EXIT_FAILURE_RUNTIME;
			}
		}
		if (!any)
			printf("Every device with a group is alone in it.\n");
	}
	for (int i = optind; i < argc; i++) {
		struct iommu_pci_addr a;
		const struct iommu_pci_dev *d;

		iommu_pci_addr_parse(argv[i], &a);
		d = iommu_platform_find_device(p, a);
		if (i > optind)
			putchar('\n');
		if (!d) {
			fprintf(stderr, "iommu explain: %s: no such PCI function on %s\n", argv[i],
				iommu_platform_label(p));
			status = EXIT_PLATFORM;
			continue;
		}
		if (explain_one(s, d))
			status = EXIT_FAILURE_RUNTIME;
	}
	iommu_system_free(s);
	iommu_platform_free(p);
	return status;
}
