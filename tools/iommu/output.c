// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "iommu/core.h"

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "iommu %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'iommu %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int platform_option(struct platform_choice *pc, int opt, const char *arg)
{
	int chosen = !!pc->snapshot + !!pc->builtin + pc->host;

	switch (opt) {
	case OPT_SNAPSHOT:
		if (chosen)
			return -1;
		pc->snapshot = arg;
		return 1;
	case OPT_BUILTIN:
		if (chosen)
			return -1;
		pc->builtin = arg;
		return 1;
	case OPT_HOST:
		if (chosen)
			return -1;
		pc->host = true;
		return 1;
	case OPT_SYSFS:
		pc->sysfs = arg;
		return 1;
	case OPT_PROCFS:
		pc->procfs = arg;
		return 1;
	default:
		return 0;
	}
}

int platform_load(const struct platform_choice *pc, bool dflt_host,
		  struct iommu_platform **out)
{
	struct iommu_error err;
	int ret;

	if (pc->snapshot)
		ret = iommu_platform_load_snapshot(pc->snapshot, out, &err);
	else if (pc->builtin)
		ret = iommu_platform_load_builtin(pc->builtin, out, &err);
	else if (pc->host || dflt_host || pc->sysfs || pc->procfs)
		ret = iommu_platform_load_host(pc->sysfs, pc->procfs, out, &err);
	else
		ret = iommu_platform_load_builtin(iommu_builtin_default(), out, &err);
	if (ret == 0)
		return EXIT_OK;
	fprintf(stderr, "iommu: %s\n", err.msg);
	if (ret == -EACCES || ret == -EPERM)
		return EXIT_PERMISSION;
	if (ret == -ENOMEM)
		return EXIT_FAILURE_RUNTIME;
	return EXIT_PLATFORM;
}

void platform_print_warnings(const struct iommu_platform *p)
{
	for (size_t i = 0; i < iommu_platform_num_warnings(p); i++)
		fprintf(stderr, "iommu: warning: %s\n", iommu_platform_warning(p, i));
}

void format_device_line(struct iommu_pci_names *names, const struct iommu_pci_dev *d,
			bool domain, char *buf, size_t len)
{
	char cls[128], dev[256], pi[128];
	const char *progif;
	size_t n;

	iommu_pci_class_name(names, (uint16_t)(d->class_code >> 8), true, cls, sizeof(cls));
	iommu_pci_device_name(names, d->vendor, d->device, true, dev, sizeof(dev));
	if (domain || d->addr.segment)
		snprintf(buf, len, "%s %s: %s", d->name, cls, dev);
	else
		snprintf(buf, len, "%s %s: %s", d->name + 5, cls, dev);
	n = strlen(buf);
	if (d->revision && n < len)
		n += (size_t)snprintf(buf + n, len - n, " (rev %02x)", d->revision);
	/* as lspci: shown when non-zero or when pci.ids names it */
	progif = iommu_pci_progif_name(names, (uint16_t)(d->class_code >> 8), (uint8_t)d->class_code,
				       pi, sizeof(pi));
	if (((d->class_code & 0xff) || progif) && n < len) {
		if (progif)
			snprintf(buf + n, len - n, " (prog-if %02x [%s])", d->class_code & 0xff, progif);
		else
			snprintf(buf + n, len - n, " (prog-if %02x)", d->class_code & 0xff);
	}
}

int whatif_option(struct iommu_system_options *so, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CMDLINE:
		so->cmdline = arg;
		return 1;
	case OPT_KERNEL:
		so->kernel = arg;
		return 1;
	case OPT_ACS_OVERRIDE:
		so->acs_override = arg;
		return 1;
	default:
		return 0;
	}
}

int system_load(const char *cmd, const struct platform_choice *pc,
		const struct iommu_system_options *so, bool warn,
		struct iommu_platform **p, struct iommu_system **s)
{
	struct iommu_error err;
	int ret = platform_load(pc, false, p);

	if (ret)
		return ret;
	if (warn)
		platform_print_warnings(*p);
	ret = iommu_system_build(*p, so, s, &err);
	if (ret) {
		fprintf(stderr, "iommu %s: %s\n", cmd, err.msg);
		iommu_platform_free(*p);
		*p = NULL;
		return ret == -ENOMEM ? EXIT_FAILURE_RUNTIME : EXIT_PLATFORM;
	}
	return EXIT_OK;
}
