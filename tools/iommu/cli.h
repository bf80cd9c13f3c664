/* SPDX-License-Identifier: MIT */
/* The iommu command: shared pieces of the subcommands. */
#ifndef IOMMU_CLI_H
#define IOMMU_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "iommu/platform.h"

/* Exit statuses (documented in iommu(1) and --help). */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUNTIME = 1,   /* the work failed (cannot write, ...) */
	EXIT_USAGE = 2,             /* bad command line */
	EXIT_PLATFORM = 3,          /* the platform is missing, incomplete or invalid */
	EXIT_PERMISSION = 4,        /* the platform needs root to read */
};

/* Which platform a command works on. */
struct platform_choice {
	const char *snapshot;   /* --snapshot DIR */
	const char *builtin;    /* --builtin NAME */
	bool host;              /* --host */
	const char *sysfs;      /* --sysfs DIR (with --host: a copy of /sys) */
	const char *procfs;     /* --procfs DIR */
};

/* Option ids above the ASCII range for long-only options. */
enum {
	OPT_SNAPSHOT = 0x100, OPT_HOST, OPT_BUILTIN, OPT_SYSFS, OPT_PROCFS,
	OPT_JSON, OPT_TREE, OPT_HELP, OPT_CMDLINE, OPT_KERNEL, OPT_ACS_OVERRIDE, OPT_VERIFY, OPT_EXPLAIN,
};

#define PLATFORM_LONG_OPTIONS \
	{ "snapshot", required_argument, NULL, OPT_SNAPSHOT }, \
	{ "host", no_argument, NULL, OPT_HOST }, \
	{ "builtin", required_argument, NULL, OPT_BUILTIN }, \
	{ "sysfs", required_argument, NULL, OPT_SYSFS }, \
	{ "procfs", required_argument, NULL, OPT_PROCFS }

#define PLATFORM_HELP \
	"Platform (one of):\n" \
	"  --builtin NAME   a platform built into iommu (see 'iommu platforms')\n" \
	"  --snapshot DIR   a snapshot directory (written by 'iommu snapshot', or an\n" \
	"                   oracle capture)\n" \
	"  --host           this machine, from /sys and /proc (root needed for full\n" \
	"                   config space and ACPI tables)\n" \
	"  --sysfs DIR, --procfs DIR\n" \
	"                   with --host: read a copy of /sys and /proc instead\n"

/* Returns 1 if @opt was a platform option (consumed), 0 otherwise, -1 on conflict. */
int platform_option(struct platform_choice *pc, int opt, const char *arg);
/* Load the chosen platform, defaulting to @dflt_host ? host : default built-in.
 * On failure prints the error and returns the exit status to use. */
int platform_load(const struct platform_choice *pc, bool dflt_host,
		  struct iommu_platform **out);
void platform_print_warnings(const struct iommu_platform *p);

/* The what-if options of the commands that compute groups. */
#define WHATIF_LONG_OPTIONS \
	{ "cmdline", required_argument, NULL, OPT_CMDLINE }, \
	{ "kernel", required_argument, NULL, OPT_KERNEL }, \
	{ "acs-override", required_argument, NULL, OPT_ACS_OVERRIDE }

struct iommu_system_options;
struct iommu_system;
/* Returns 1 if @opt was a what-if option (consumed), 0 otherwise. */
int whatif_option(struct iommu_system_options *so, int opt, const char *arg);
/* Load the platform and compute its IOMMU state; prints the error and
 * returns the exit status on failure.  @warn: print platform warnings. */
int system_load(const char *cmd, const struct platform_choice *pc,
		const struct iommu_system_options *so, bool warn,
		struct iommu_platform **p, struct iommu_system **s);

int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_devices(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_platforms(int argc, char **argv);
int cmd_acpi(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_translate(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* "00:1f.0 ISA bridge [0601]: Intel ... [8086:2918] (rev 02)", as lspci -nn prints
 * (the domain only when it is not 0000, unless @domain). */
void format_device_line(struct iommu_pci_names *names, const struct iommu_pci_dev *d,
			bool domain, char *buf, size_t len);

/* tree.c: lspci -tv style hierarchy. */
void print_tree(FILE *out, const struct iommu_platform *p, struct iommu_pci_names *names);

#endif
