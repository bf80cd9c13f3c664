// SPDX-License-Identifier: MIT
/*
 * The kernel command line as the kernel reads the options that matter to
 * the IOMMU core.
 *
 *  - Words are split on white space; double quotes group
 *    (kernel/params.c next_arg).  '-' and '_' are the same in parameter
 *    names (parameq).
 *  - Early parameters take effect in command-line order, so among
 *    iommu=pt, iommu=nopt and iommu.passthrough= the last wins
 *    (drivers/iommu/iommu.c iommu_set_def_domain_type,
 *    arch/x86/kernel/pci-dma.c iommu_setup).
 *  - Booleans are kstrtobool's: 1/y/Y/on true, 0/n/N/off false.
 *  - intel_iommu= and amd_iommu= are comma lists matched by prefix
 *    (intel_iommu_setup, parse_amd_iommu_options).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/core.h"
#include "util/strv.h"

int iommu_kernel_version_parse(const char *release, struct iommu_kernel_version *v)
{
	char *end;
	long major, minor;

	if (!release || !isdigit((unsigned char)release[0]))
		return -EINVAL;
	major = strtol(release, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -EINVAL;
	minor = strtol(end + 1, &end, 10);
	if (major < 2 || major > 99 || minor < 0 || minor > 999)
		return -EINVAL;
	v->major = (int)major;
	v->minor = (int)minor;
	return 0;
}

int iommu_kernel_version_check(struct iommu_kernel_version v, struct iommu_error *err)
{
	if (!iommu_kernel_at_least(v, IOMMU_KERNEL_MIN_MAJOR, IOMMU_KERNEL_MIN_MINOR) ||
	    v.major > 6 || (v.major == 6 && v.minor > 19))
		return iommu_error_set(err, -ERANGE,
				       "kernel %d.%d is outside what the model knows (%d.%d to 6.19); "
				       "the IOMMU core's rules changed too much to guess",
				       v.major, v.minor, IOMMU_KERNEL_MIN_MAJOR, IOMMU_KERNEL_MIN_MINOR);
	return 0;
}

const char *iommu_domain_type_name(enum iommu_domain_type t)
{
	switch (t) {
	case IOMMU_DOMAIN_BLOCKED: return "blocked";
	case IOMMU_DOMAIN_IDENTITY: return "identity";
	case IOMMU_DOMAIN_UNMANAGED: return "unmanaged";
	case IOMMU_DOMAIN_DMA: return "DMA";
	case IOMMU_DOMAIN_DMA_FQ: return "DMA-FQ";
	default: return "unknown";
	}
}

static void note(struct iommu_cmdline *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct iommu_cmdline *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iommu_strv_vaddf(&c->notes, &c->n_notes, fmt, ap);
	va_end(ap);
}

/* kstrtobool: 1 true, 0 false, -EINVAL otherwise. */
static int parse_bool(const char *s)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y': case 'Y': case '1':
		return 1;
	case 'n': case 'N': case '0':
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N')
			return 1;
		if (s[1] == 'f' || s[1] == 'F')
			return 0;
		break;
	}
	return -EINVAL;
}

/* Parameter names compare with '-' and '_' as one character. */
static bool name_is(const char *name, size_t len, const char *want)
{
	size_t i;

	for (i = 0; i < len && want[i]; i++) {
		char a = name[i] == '-' ? '_' : name[i];
		char b = want[i] == '-' ? '_' : want[i];

		if (a != b)
			return false;
	}
	return i == len && want[i] == '\0';
}

/* Iterate a comma list: *item set to each element (not NUL-terminated), its length returned. */
static size_t next_item(const char **p, const char **item)
{
	const char *s = *p;
	size_t n;

	while (*s == ',')
		s++;
	*item = s;
	n = strcspn(s, ",");
	*p = s + n;
	return n;
}

static bool starts(const char *item, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && !strncmp(item, word, w);
}

static void parse_iommu(struct iommu_cmdline *c, const char *val)
{
	const char *p = val, *item;
	size_t n;

	while ((n = next_item(&p, &item)) > 0) {
		/* arch/x86/kernel/pci-dma.c iommu_setup compares prefixes */
		if (starts(item, n, "off")) {
			c->iommu_off = true;
		} else if (starts(item, n, "pt")) {
			c->def_domain_set = true;
			c->def_domain = IOMMU_DOMAIN_IDENTITY;
		} else if (starts(item, n, "nopt")) {
			c->def_domain_set = true;
			c->def_domain = IOMMU_DOMAIN_DMA;
		} else if (starts(item, n, "force") || starts(item, n, "noforce") ||
			   starts(item, n, "biomerge") || starts(item, n, "panic") ||
			   starts(item, n, "nopanic") || starts(item, n, "merge") ||
			   starts(item, n, "nomerge") || starts(item, n, "forcesac") ||
			   starts(item, n, "allowdac") || starts(item, n, "nodac") ||
			   starts(item, n, "usedac") || starts(item, n, "soft") ||
			   starts(item, n, "calgary") || starts(item, n, "allowed")) {
			/* accepted; no effect on IOMMU groups or default domains */
		} else {
			note(c, "iommu=: '%.*s' is not an option the kernel knows; ignored", (int)n, item);
		}
	}
}

static void parse_intel(struct iommu_cmdline *c, const char *val)
{
	const char *p = val, *item;
	size_t n;

	while ((n = next_item(&p, &item)) > 0) {
		if (starts(item, n, "on")) {
			c->intel_on = true;
			c->intel_off = false;
		} else if (starts(item, n, "off")) {
			c->intel_off = true;
		} else if (starts(item, n, "igfx_off")) {
			c->intel_igfx_off = true;
		} else if (starts(item, n, "forcedac")) {
			c->forcedac = true;
		} else if (starts(item, n, "strict")) {
			c->intel_strict = true;
		} else if (starts(item, n, "sp_off")) {
			c->intel_sp_off = true;
		} else if (starts(item, n, "sm_on")) {
			c->intel_sm_on = true;
			c->intel_sm_off = false;
		} else if (starts(item, n, "sm_off")) {
			c->intel_sm_off = true;
			c->intel_sm_on = false;
		} else if (starts(item, n, "tboot_noforce")) {
			/* no effect here */
		} else {
			note(c, "DMAR: Unknown option - '%.*s'", (int)n, item);
		}
	}
}

static void parse_amd(struct iommu_cmdline *c, const char *val)
{
	const char *p = val, *item;
	size_t n;

	while ((n = next_item(&p, &item)) > 0) {
		if (starts(item, n, "fullflush")) {
			c->amd_fullflush = true;
		} else if (starts(item, n, "force_enable")) {
			c->amd_force_enable = true;
		} else if (starts(item, n, "off")) {
			c->amd_off = true;
		} else if (starts(item, n, "force_isolation")) {
			c->amd_force_isolation = true;
		} else if (starts(item, n, "pgtbl_v1") || starts(item, n, "pgtbl_v2") ||
			   starts(item, n, "irtcachedis") || starts(item, n, "nohugepages") ||
			   starts(item, n, "v2_pgsizes_only")) {
			/* page-table formats and caches: no effect on groups */
		} else {
			note(c, "AMD-Vi: Unknown option - '%.*s'", (int)n, item);
		}
	}
}

static void parse_acs_override(struct iommu_cmdline *c, const char *val)
{
	const char *p = val, *item;
	size_t n;

	while ((n = next_item(&p, &item)) > 0) {
		unsigned v, d;
		char tail;

		if (n == 10 && !strncmp(item, "downstream", 10)) {
			c->acs_override_downstream = true;
		} else if (n == 13 && !strncmp(item, "multifunction", 13)) {
			c->acs_override_multifunction = true;
		} else if (starts(item, n, "id:")) {
			char buf[32];

			snprintf(buf, sizeof(buf), "%.*s", (int)(n < 31 ? n : 31), item);
			if (sscanf(buf, "id:%x:%x%c", &v, &d, &tail) != 2 || v > 0xffff || d > 0xffff) {
				note(c, "pcie_acs_override: '%.*s' is not id:VVVV:DDDD; ignored", (int)n, item);
			} else if (c->acs_override_n_ids >= IOMMU_ACS_OVERRIDE_MAX_IDS) {
				note(c, "Out of PCIe ACS override slots (16)");
			} else {
				c->acs_override_ids[c->acs_override_n_ids][0] = (uint16_t)v;
				c->acs_override_ids[c->acs_override_n_ids][1] = (uint16_t)d;
				c->acs_override_n_ids++;
			}
		} else {
			note(c, "pcie_acs_override: '%.*s' is not an option; ignored", (int)n, item);
		}
	}
}

/* Apply one "name=value" (value may be NULL for a bare word). */
static void apply(struct iommu_cmdline *c, const char *name, size_t nlen, const char *val)
{
	int b;

	if (name_is(name, nlen, "iommu")) {
		if (val)
			parse_iommu(c, val);
	} else if (name_is(name, nlen, "iommu.passthrough")) {
		b = parse_bool(val);
		if (b < 0) {
			note(c, "iommu.passthrough=%s: not a boolean; ignored", val ? val : "");
			return;
		}
		c->def_domain_set = true;
		c->def_domain = b ? IOMMU_DOMAIN_IDENTITY : IOMMU_DOMAIN_DMA;
	} else if (name_is(name, nlen, "iommu.strict")) {
		b = parse_bool(val);
		if (b < 0) {
			note(c, "iommu.strict=%s: not a boolean; ignored", val ? val : "");
			return;
		}
		c->strict_set = true;
		c->strict = b;
	} else if (name_is(name, nlen, "iommu.forcedac")) {
		b = parse_bool(val);
		if (b >= 0)
			c->forcedac = b;
	} else if (name_is(name, nlen, "intel_iommu")) {
		if (val)
			parse_intel(c, val);
	} else if (name_is(name, nlen, "amd_iommu")) {
		if (val)
			parse_amd(c, val);
	} else if (name_is(name, nlen, "pcie_acs_override")) {
		if (val)
			parse_acs_override(c, val);
	}
}

int iommu_cmdline_parse(const char *line, struct iommu_cmdline *c)
{
	const char *s = line ? line : "";
	char *word = malloc(strlen(s) + 1);

	memset(c, 0, sizeof(*c));
	c->def_domain = IOMMU_DOMAIN_NONE;
	if (!word)
		return -ENOMEM;
	while (*s) {
		size_t n = 0;
		bool quoted = false;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		/* one word; quotes group and are dropped */
		while (*s && (quoted || !isspace((unsigned char)*s))) {
			if (*s == '"')
				quoted = !quoted;
			else
				word[n++] = *s;
			s++;
		}
		word[n] = '\0';
		if (!strcmp(word, "--"))
			break;  /* what follows is for init */
		char *eq = strchr(word, '=');

		if (eq)
			apply(c, word, (size_t)(eq - word), eq + 1);
		else
			apply(c, word, n, NULL);
	}
	free(word);
	return 0;
}

void iommu_cmdline_release(struct iommu_cmdline *c)
{
	iommu_strv_free(&c->notes, &c->n_notes);
}
