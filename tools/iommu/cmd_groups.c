// SPDX-License-Identifier: MIT
/*
 * iommu groups: the IOMMU groups the kernel would form, with default
 * domain types and reserved regions, and --verify against a live host.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli.h"
#include "iommu/core.h"

static const char help[] =
"Usage: iommu groups [PLATFORM] [--cmdline STR] [--kernel VER]\n"
"                    [--acs-override SPEC] [--explain] [--json] [--verify]\n"
"\n"
"Computes the IOMMU groups the Linux kernel forms on a platform, as\n"
"/sys/kernel/iommu_groups shows them: the same members, the same numbers,\n"
"each group's default domain type ('type') and its reserved regions, and\n"
"the devices that get no group, with the reason.  The listing follows the\n"
"well-known list_iommu_group.sh (group, then 'lspci -nns' lines).\n"
"\n"
"  --cmdline STR       use STR as the kernel command line (iommu=pt,\n"
"                      iommu.passthrough=, iommu.strict=, intel_iommu=,\n"
"                      amd_iommu=, iommu=off) instead of the platform's\n"
"  --kernel VER        model kernel VER (6.1 numbers groups in PCI order;\n"
"                      from 6.2 the Intel driver probes unit by unit);\n"
"                      default: the platform's kernel-release\n"
"  --acs-override SPEC what if the out-of-tree pcie_acs_override=SPEC patch\n"
"                      were applied: downstream,multifunction,id:VVVV:DDDD\n"
"                      (not mainline; the output says so)\n"
"  --explain           under each group of more than one device, why each\n"
"                      member is there (as 'iommu explain' says it)\n"
"  --json              {\"groups\": [{\"id\": 3, \"type\": \"DMA-FQ\", \"devices\":\n"
"                      [...], \"reserved_regions\": [...]}], ...}\n"
"  --verify            with --host: compare with /sys/kernel/iommu_groups and\n"
"                      print every difference; exit 0 when they agree, 5 when\n"
"                      they do not\n"
"  --set-type N TYPE   what 'echo TYPE > /sys/kernel/iommu_groups/N/type' does\n"
"                      on the modelled kernel (identity, DMA, DMA-FQ, auto): the\n"
"                      new type, or the write error the kernel gives (a driver\n"
"                      bound, a group of several devices before 6.5, a type\n"
"                      the driver forbids), then the groups as they are after;\n"
"                      exit 1 when the kernel refuses the write\n"
"\n"
PLATFORM_HELP
"Without a platform option the built-in default platform is used.\n"
"\n"
"Examples:\n"
"  iommu groups --builtin intel-server\n"
"  iommu groups --builtin intel-server --cmdline 'intel_iommu=on iommu=pt'\n"
"  sudo iommu groups --host --verify\n"
"  iommu groups --builtin intel-server --set-type 3 identity\n"
"\n"
"Exit status: 0; 1 when the kernel refuses a --set-type write; 5 when\n"
"--verify finds a difference; 7 when the platform has\n"
"no IOMMU groups at all (no DMAR or IVRS, or the IOMMU is off: the output\n"
"says which); 1, 2, 3, 4 as for every command.\n";

#define EXIT_MISMATCH 5

enum { OPT_SET_TYPE = 0x300 };

/* The outcome of --set-type, for the listing that follows. */
struct set_type_outcome {
	bool asked;
	long group;
	const char *request;
	int ret;                        /* 0 or the write's negative errno */
	const char *before;             /* the type before the write */
	struct iommu_error err;
};

static const char *errno_name(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case ENOMEM: return "ENOMEM";
	case ENODEV: return "ENODEV";
	default: return "E?";
	}
}
#define EXIT_NO_GROUPS 7        /* no IOMMU, or it is off: no groups (reason printed) */

static const char *driver_name(enum iommu_driver d)
{
	switch (d) {
	case IOMMU_DRIVER_INTEL: return "intel";
	case IOMMU_DRIVER_AMD: return "amd";
	default: return "none";
	}
}

static void print_explained(const struct iommu_system *s, const struct iommu_group_info *g)
{
	for (size_t k = 1; k < g->n_devices; k++) {
		char *text, *line, *save;

		if (iommu_explain_device(s, g->devices[k]->pdev, &text))
			continue;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			printf("\t| %s\n", line);
		free(text);
	}
}

static void print_text(const struct iommu_system *s, struct iommu_pci_names *names, bool explain)
{
	char line[512], resv[4096];
	bool any_ungrouped = false;

	printf("# %s: %s, kernel %d.%d, default domain %s\n",
	       iommu_platform_label(s->platform),
	       s->driver == IOMMU_DRIVER_INTEL ? "Intel VT-d" :
	       s->driver == IOMMU_DRIVER_AMD ? "AMD-Vi" : "no IOMMU driver",
	       s->kernel.major, s->kernel.minor,
	       s->driver == IOMMU_DRIVER_NONE ? "-" : iommu_domain_type_name(s->global_default));
	if (s->strict_forced)
		printf("# strict invalidation forced: %s\n", s->strict_reason);
	printf("# cmdline: %s\n", s->cmdline_line);
	if (s->acs_override_active)
		printf("# what-if: pcie_acs_override (out-of-tree patch, NOT mainline Linux)\n");
	for (size_t i = 0; i < s->n_groups; i++) {
		const struct iommu_group_info *g = s->groups[i];
		size_t len;
		char *p, *nl;

		printf("IOMMU Group %d:\n", g->id);
		for (size_t k = 0; k < g->n_devices; k++) {
			format_device_line(names, g->devices[k]->pdev, false, line, sizeof(line));
			printf("\t%s\n", line);
		}
		printf("\ttype: %s\n", iommu_domain_type_name(g->type));
		len = iommu_group_resv_text(g, resv, sizeof(resv));
		(void)len;
		for (p = resv; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = '\0';
			printf("\t%s %s\n", p == resv ? "reserved_regions:" : "                 ", p);
		}
		if (explain && g->n_devices > 1)
			print_explained(s, g);
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct iommu_device_info *di = &s->devices[i];

		if (di->group)
			continue;
		if (!any_ungrouped)
			printf("No IOMMU group:\n");
		any_ungrouped = true;
		format_device_line(names, di->pdev, false, line, sizeof(line));
		printf("\t%s\n\t    (%s)\n", line, iommu_nogroup_reason_text(di->nogroup));
	}
	for (size_t i = 0; i < s->n_notes; i++)
		printf("# note: %s\n", s->notes[i]);
}

static json_object *resv_array(const struct iommu_group_info *g)
{
	json_object *a = json_object_new_array();
	char buf[96];

	for (size_t i = 0; i < g->n_resv; i++) {
		snprintf(buf, sizeof(buf), "0x%016llx 0x%016llx %s",
			 (unsigned long long)g->resv[i].start, (unsigned long long)g->resv[i].end,
			 iommu_resv_type_name(g->resv[i].type));
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

static void print_json(const struct iommu_system *s, const struct set_type_outcome *st)
{
	json_object *root = json_object_new_object();
	json_object *groups = json_object_new_array();
	json_object *none = json_object_new_array();
	json_object *units = json_object_new_array();
	json_object *notes = json_object_new_array();
	char buf[64];

	json_object_object_add(root, "platform", json_object_new_string(iommu_platform_label(s->platform)));
	snprintf(buf, sizeof(buf), "%d.%d", s->kernel.major, s->kernel.minor);
	json_object_object_add(root, "kernel", json_object_new_string(buf));
	json_object_object_add(root, "driver", json_object_new_string(driver_name(s->driver)));
	json_object_object_add(root, "default_domain",
			       s->driver == IOMMU_DRIVER_NONE ? NULL :
			       json_object_new_string(iommu_domain_type_name(s->global_default)));
	json_object_object_add(root, "acs_override", json_object_new_boolean(s->acs_override_active));
	for (size_t i = 0; i < s->n_units; i++) {
		json_object *u = json_object_new_object();

		json_object_object_add(u, "name", json_object_new_string(s->units[i].name));
		json_object_object_add(u, "base", json_object_new_int64((int64_t)s->units[i].base));
		json_object_object_add(u, "segment", json_object_new_int(s->units[i].segment));
		json_object_object_add(u, "ignored", json_object_new_boolean(s->units[i].ignored));
		json_object_array_add(units, u);
	}
	json_object_object_add(root, "units", units);
	for (size_t i = 0; i < s->n_groups; i++) {
		const struct iommu_group_info *g = s->groups[i];
		json_object *o = json_object_new_object();
		json_object *devs = json_object_new_array();

		json_object_object_add(o, "id", json_object_new_int(g->id));
		json_object_object_add(o, "type", json_object_new_string(iommu_domain_type_name(g->type)));
		for (size_t k = 0; k < g->n_devices; k++)
			json_object_array_add(devs, json_object_new_string(g->devices[k]->pdev->name));
		json_object_object_add(o, "devices", devs);
		json_object_object_add(o, "reserved_regions", resv_array(g));
		json_object_array_add(groups, o);
	}
	json_object_object_add(root, "groups", groups);
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct iommu_device_info *di = &s->devices[i];
		json_object *o;

		if (di->group)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "bdf", json_object_new_string(di->pdev->name));
		json_object_object_add(o, "reason", json_object_new_string(iommu_nogroup_reason_text(di->nogroup)));
		json_object_array_add(none, o);
	}
	json_object_object_add(root, "ungrouped", none);
	for (size_t i = 0; i < s->n_notes; i++)
		json_object_array_add(notes, json_object_new_string(s->notes[i]));
	json_object_object_add(root, "notes", notes);
	if (st && st->asked) {
		json_object *o = json_object_new_object();
		const struct iommu_group_info *g = s->groups[st->group];

		json_object_object_add(o, "group", json_object_new_int((int)st->group));
		json_object_object_add(o, "request", json_object_new_string(st->request));
		json_object_object_add(o, "ok", json_object_new_boolean(st->ret == 0));
		json_object_object_add(o, "before", json_object_new_string(st->before));
		json_object_object_add(o, "type", json_object_new_string(iommu_domain_type_name(g->type)));
		json_object_object_add(o, "errno", st->ret ? json_object_new_string(errno_name(-st->ret)) : NULL);
		json_object_object_add(o, "error", st->ret ? json_object_new_string(strerror(-st->ret)) : NULL);
		json_object_object_add(o, "reason", st->ret ? json_object_new_string(st->err.msg) : NULL);
		json_object_object_add(root, "set_type", o);
	}
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* --- --verify -------------------------------------------------------------- */

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void chomp(char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int verify(const struct iommu_system *s, const char *sysfs)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	int diffs = 0;
	DIR *d;
	struct dirent *e;
	size_t seen_groups = 0;

	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups", sysfs ? sysfs : "/sys");
	d = opendir(dir);
	if (!d) {
		if (s->n_groups == 0) {
			printf("agree: the kernel shows no IOMMU groups (%s is absent), and none are computed\n", dir);
			return EXIT_OK;
		}
		printf("differ: %s is absent, but %zu groups are computed\n", dir, s->n_groups);
		return EXIT_MISMATCH;
	}
	while ((e = readdir(d))) {
		char *end;
		long id = strtol(e->d_name, &end, 10);
		const struct iommu_group_info *g = NULL;
		char *type, *resv, ours[4096];
		DIR *dd;
		struct dirent *de;
		size_t members = 0;

		if (e->d_name[0] == '.' || *end || id < 0)
			continue;
		seen_groups++;
		if ((size_t)id < s->n_groups)
			g = s->groups[id];
		if (!g) {
			printf("differ: the kernel has group %ld, which is not computed\n", id);
			diffs++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s/devices", dir, e->d_name);
		dd = opendir(path);
		while (dd && (de = readdir(dd))) {
			struct iommu_pci_addr a;
			const struct iommu_device_info *di;

			if (de->d_name[0] == '.')
				continue;
			members++;
			if (iommu_pci_addr_parse(de->d_name, &a)) {
				printf("differ: group %ld has %s, which is not a PCI function\n", id, de->d_name);
				diffs++;
				continue;
			}
			di = iommu_system_device(s, iommu_platform_find_device(s->platform, a));
			if (!di || di->group != g) {
				printf("differ: the kernel puts %s in group %ld; computed: %s\n", de->d_name, id,
				       di && di->group ? "another group" : "no group");
				diffs++;
			}
		}
		if (dd)
			closedir(dd);
		if (members != g->n_devices) {
			printf("differ: group %ld has %zu devices in the kernel, %zu computed\n", id, members,
			       g->n_devices);
			diffs++;
		}
		snprintf(path, sizeof(path), "%s/%s/type", dir, e->d_name);
		type = read_small(path);
		chomp(type);
		if (type && strcmp(type, iommu_domain_type_name(g->type))) {
			printf("differ: group %ld type is %s in the kernel, %s computed\n", id, type,
			       iommu_domain_type_name(g->type));
			diffs++;
		}
		free(type);
		snprintf(path, sizeof(path), "%s/%s/reserved_regions", dir, e->d_name);
		resv = read_small(path);
		iommu_group_resv_text(g, ours, sizeof(ours));
		if (resv && strcmp(resv, ours)) {
			printf("differ: group %ld reserved_regions:\n  kernel:\n%s  computed:\n%s", id, resv, ours);
			diffs++;
		}
		free(resv);
	}
	closedir(d);
	if (seen_groups != s->n_groups) {
		printf("differ: the kernel has %zu groups, %zu computed\n", seen_groups, s->n_groups);
		diffs++;
	}
	if (diffs) {
		printf("%d difference%s\n", diffs, diffs == 1 ? "" : "s");
		return EXIT_MISMATCH;
	}
	printf("agree: %zu groups, same members, types and reserved regions\n", s->n_groups);
	return EXIT_OK;
}

/*
 * --set-type: start the system (so that the new default domain is really
 * allocated and attached), write the type, print the outcome as the shell
 * would see it.  0 to go on with the listing (the write's own result is
 * in @st), or the exit status to stop with: EXIT_USAGE for a group that
 * does not exist, EXIT_FAILURE_RUNTIME when the system cannot start.
 */
static int set_type(struct iommu_system *s, struct set_type_outcome *st, bool json)
{
	struct iommu_group_info *g;
	struct iommu_error err = { 0 };
	int ret;

	if ((size_t)st->group >= s->n_groups) {
		fprintf(stderr, "iommu groups: --set-type: %s has no IOMMU group %ld "
			"(/sys/kernel/iommu_groups/%ld/type: No such file or directory)\n",
			iommu_platform_label(s->platform), st->group, st->group);
		return EXIT_USAGE;
	}
	g = s->groups[st->group];
	ret = iommu_system_start(s, 0, &err);
	if (ret) {
		fprintf(stderr, "iommu groups: --set-type: cannot start the modelled IOMMUs: %s\n", err.msg);
		return EXIT_FAILURE_RUNTIME;
	}
	st->before = iommu_domain_type_name(g->type);
	st->ret = iommu_group_store_type(s, g, st->request, &st->err);
	if (json)
		return 0;
	printf("# echo %s > /sys/kernel/iommu_groups/%ld/type   (kernel %d.%d)\n", st->request,
	       st->group, s->kernel.major, s->kernel.minor);
	if (st->ret) {
		printf("write error: %s (%s)\n", strerror(-st->ret), errno_name(-st->ret));
		printf("# why: %s\n", st->err.msg);
		printf("# group %ld type stays %s\n", st->group, iommu_domain_type_name(g->type));
	} else {
		printf("# group %ld type: %s -> %s\n", st->group, st->before,
		       iommu_domain_type_name(g->type));
	}
	return 0;
}

int cmd_groups(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		WHATIF_LONG_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "set-type", required_argument, NULL, OPT_SET_TYPE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_system_options so = { 0 };
	struct iommu_platform *p;
	struct iommu_system *s;
	bool json = false, do_verify = false, explain = false;
	struct set_type_outcome st = { 0 };
	char *end;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		case OPT_JSON:
			json = true;
			continue;
		case OPT_VERIFY:
			do_verify = true;
			continue;
		case OPT_EXPLAIN:
			explain = true;
			continue;
		case OPT_SET_TYPE:
			st.asked = true;
			errno = 0;
			st.group = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || st.group < 0)
				return usage_error("groups", "--set-type wants a group number, not '%s'", optarg);
			continue;
		}
		if (whatif_option(&so, c, optarg))
			continue;
		ret = platform_option(&pc, c, optarg);
		if (ret < 0)
			return usage_error("groups", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("groups", "unknown option");
	}
	if (st.asked) {
		if (argc - optind != 1)
			return usage_error("groups", "--set-type N TYPE: give one type (identity, DMA, "
					   "DMA-FQ or auto)");
		st.request = argv[optind++];
		if (do_verify)
			return usage_error("groups", "--set-type models a write: not with --verify");
	}
	if (optind < argc)
		return usage_error("groups", "unexpected argument '%s'", argv[optind]);
	if (do_verify && !(pc.host || pc.sysfs))
		return usage_error("groups", "--verify compares with a running kernel: use it with --host");
	if (do_verify && (so.cmdline || so.kernel || so.acs_override))
		return usage_error("groups", "--verify compares what the running kernel did: no what-if options");
	ret = system_load("groups", &pc, &so, !json, &p, &s);
	if (ret)
		return ret;
	if (st.asked) {
		ret = set_type(s, &st, json);
		if (ret) {
			iommu_system_free(s);
			iommu_platform_free(p);
			return ret;
		}
	}
	if (do_verify) {
		ret = verify(s, pc.sysfs);
	} else {
		struct iommu_pci_names *names = iommu_pci_names_open();

		if (json)
			print_json(s, &st);
		else
			print_text(s, names, explain);
		iommu_pci_names_close(names);
		/* no groups at all: the reason was printed; scripts see it in the status */
		ret = s->n_groups ? EXIT_OK : EXIT_NO_GROUPS;
		if (st.asked && st.ret)
			ret = EXIT_FAILURE_RUNTIME;
	}
	iommu_system_free(s);
	iommu_platform_free(p);
	return ret;
}
