// SPDX-License-Identifier: MIT
/*
 * iommu: the Linux IOMMU subsystem, rebuilt in user space.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_dma(int argc, char **argv);     /* cmd_dma.c */

static const char main_help[] =
"Usage: iommu COMMAND [OPTIONS]\n"
"\n"
"Reproduces what Linux does with an IOMMU, on this machine, on a snapshot of\n"
"another, or on a platform built into iommu.\n"
"\n"
"Commands:\n"
"  devices     list PCI functions with class, PCIe port type, ACS and bus\n"
"              ranges, as the kernel reads them from config space (--tree\n"
"              draws the hierarchy as 'lspci -tv' does)\n"
"  groups      the IOMMU groups the kernel forms: members, numbers, default\n"
"              domain types and reserved regions, as /sys/kernel/iommu_groups\n"
"              shows them; --verify checks them against this machine\n"
"  explain     why a device is in its group, step by step, and what would\n"
"              isolate it\n"
"  snapshot    write a platform (this machine by default) as a snapshot\n"
"              directory that iommu can load anywhere\n"
"  platforms   list the platforms built into iommu\n"
"  acpi        decode and check the DMAR and IVRS tables (a file, a directory,\n"
"              acpidump text, or a platform's) and match them to its devices\n"
"  translate   one DMA request through a model of the device's VT-d unit,\n"
"              after the Intel driver's maps: each table entry read, the result\n"
"  dma         run a scenario of DMA API calls (map, unmap, device requests,\n"
"              time passing) and print each result: IOVAs, invalidations,\n"
"              stale IOTLB entries\n"
"  run         run a program against the model: its VFIO ioctls, mmaps and\n"
"              sysfs reads answered as the platform's kernel would (LD_PRELOAD)\n"
"  help        show help for a command: 'iommu help devices'\n"
"\n"
"Every command takes one platform:\n"
PLATFORM_HELP
"Without one, 'devices' uses the built-in '%s' platform and\n"
"'snapshot' reads this machine.\n"
"\n"
"Examples:\n"
"  iommu devices --tree                  the built-in Intel server, as a tree\n"
"  sudo iommu devices --host --json      this machine, for scripts\n"
"  sudo iommu snapshot --host mybox      capture this machine into ./mybox\n"
"  iommu devices --snapshot mybox        ... and read it on any machine\n"
"\n"
"Exit status: 0 success; 1 the work failed; 2 bad command line; 3 the\n"
"platform is missing, incomplete or invalid (the message says what and\n"
"where); 4 reading the platform needs root.\n"
"\n"
"See iommu(1) for the details.\n";

static int print_main_help(FILE *out)
{
	fprintf(out, main_help, iommu_builtin_default() ? iommu_builtin_default() : "(none)");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "devices", cmd_devices },
		{ "groups", cmd_groups },
		{ "explain", cmd_explain },
		{ "snapshot", cmd_snapshot },
		{ "platforms", cmd_platforms },
		{ "acpi", cmd_acpi },
		{ "translate", cmd_translate },
		{ "dma", cmd_dma },
		{ "run", cmd_run },
	};

	if (argc < 2) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return print_main_help(stdout);
	if (!strcmp(argv[1], "--version")) {
		printf("iommu %s\n", IOMMU_VERSION_STRING);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3)
			return print_main_help(stdout);
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[2], cmds[i].name)) {
				char *args[] = { argv[2], "--help", NULL };

				return cmds[i].fn(2, args);
			}
		fprintf(stderr, "iommu: no command '%s'; try 'iommu --help'\n", argv[2]);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "iommu: no command '%s'; try 'iommu --help'\n", argv[1]);
	return EXIT_USAGE;
}
