// SPDX-License-Identifier: MIT
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char help[] =
"Usage: iommu snapshot [PLATFORM] OUTDIR\n"
"\n"
"Writes a platform as a snapshot directory: what someone else needs to run\n"
"iommu on your machine.  OUTDIR must be new or empty.  Without a platform\n"
"option it reads this machine (run as root: config space past the first\n"
"64 bytes and the ACPI tables are root-only).\n"
"\n"
"The snapshot holds only inputs: pci/<BDF>/{config,vendor,device,class,\n"
"revision,subsystem_vendor,subsystem_device,driver,resource,irq},\n"
"acpi/<TABLE>, cmdline, kernel-release, and iommu_class/<unit>/\n"
"{intel-iommu,amd-iommu}/<register>.  Nothing else about the machine.\n"
"\n"
PLATFORM_HELP
"\n"
"Example:\n"
"  sudo iommu snapshot mybox && tar czf mybox.tar.gz mybox\n";

int cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_platform *p;
	struct iommu_error err;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return EXIT_OK;
		}
		ret = platform_option(&pc, c, optarg);
		if (ret < 0)
			return usage_error("snapshot", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("snapshot", "unknown option");
	}
	if (optind != argc - 1)
		return usage_error("snapshot", "give one output directory");
	ret = platform_load(&pc, true, &p);
	if (ret)
		return ret;
	platform_print_warnings(p);
	if (iommu_platform_write_snapshot(p, argv[optind], &err)) {
		fprintf(stderr, "iommu snapshot: %s\n", err.msg);
		iommu_platform_free(p);
		return EXIT_FAILURE_RUNTIME;
	}
	fprintf(stderr, "iommu snapshot: wrote %zu files for %zu PCI functions to %s\n",
		iommu_platform_num_files(p), iommu_platform_num_devices(p), argv[optind]);
	iommu_platform_free(p);
	return EXIT_OK;
}
