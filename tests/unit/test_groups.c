// SPDX-License-Identifier: MIT
/*
 * IOMMU groups against the real kernel: for every capture in
 * tests/captures, the inputs go through iommu_system_build and the result
 * must equal what the kernel left in the same capture:
 *   groups.txt                       members and numbers, and type=
 *   iommu_groups/N/type              the default domain type
 *   iommu_groups/N/reserved_regions  byte for byte
 *   pci/BDF/iommu_group              present exactly for grouped devices
 * Every mismatch is listed, then the test fails.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/core.h"

/*
 * Captures the model does not reproduce yet, each with the reason.  They
 * are still run, and the test fails if one of them starts to agree, so
 * that this list cannot hide progress or rot.
 */
static const struct {
	const char *name;
	const char *why;
} known_gaps[] = {
	{ "h-virtio-iommu", "virtio-iommu (VIOT) is not modelled yet: it groups only devices that "
			    "went through a driver probe, in probe order" },
};

static const char *gap_reason(const char *capture)
{
	for (size_t i = 0; i < sizeof(known_gaps) / sizeof(known_gaps[0]); i++)
		if (!strcmp(known_gaps[i].name, capture))
			return known_gaps[i].why;
	return NULL;
}

struct report {
	int mismatches;
	int shown;
};

static void mismatch(struct report *r, const char *capture, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mismatch(struct report *r, const char *capture, const char *fmt, ...)
{
	va_list ap;

	r->mismatches++;
	if (r->shown++ > 200)
		return;
	printf("  %s: ", capture);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Compare one capture; returns the number of mismatches. */
static int check_capture(const char *dir, const char *name, size_t *n_groups, size_t *n_devs)
{
	struct report r = { 0 };
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_error err;
	char path[PATH_MAX];
	char *groups, *line, *save;
	size_t kernel_groups = 0;

	if (iommu_platform_load_snapshot(dir, &p, &err)) {
		mismatch(&r, name, "load: %s", err.msg);
		return r.mismatches;
	}
	if (iommu_system_build(p, NULL, &s, &err)) {
		mismatch(&r, name, "build: %s", err.msg);
		iommu_platform_free(p);
		return r.mismatches;
	}
	snprintf(path, sizeof(path), "%s/groups.txt", dir);
	groups = slurp(path, NULL);
	if (!groups) {
		mismatch(&r, name, "no groups.txt");
		goto out;
	}
	for (line = strtok_r(groups, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, off = 0;
		char type[32];
		const struct iommu_group_info *g;
		char *tok, *save2, *devs;
		size_t members = 0;

		if (sscanf(line, "group %d type=%31s devices:%n", &id, type, &off) != 2 || !off) {
			mismatch(&r, name, "unreadable groups.txt line: %s", line);
			continue;
		}
		kernel_groups++;
		g = (id >= 0 && (size_t)id < s->n_groups) ? s->groups[id] : NULL;
		if (!g) {
			mismatch(&r, name, "kernel group %d does not exist in the model", id);
			continue;
		}
		if (strcmp(type, iommu_domain_type_name(g->type)))
			mismatch(&r, name, "group %d type: kernel %s, model %s", id, type,
				 iommu_domain_type_name(g->type));
		devs = line + off;
		for (tok = strtok_r(devs, " ", &save2); tok; tok = strtok_r(NULL, " ", &save2)) {
			struct iommu_pci_addr a;
			const struct iommu_device_info *di;

			members++;
			if (iommu_pci_addr_parse(tok, &a)) {
				mismatch(&r, name, "group %d: bad address %s", id, tok);
				continue;
			}
			di = iommu_system_device(s, iommu_platform_find_device(p, a));
			if (!di)
				mismatch(&r, name, "group %d: %s is not a device of the platform", id, tok);
			else if (di->group != g)
				mismatch(&r, name, "%s: kernel group %d, model %s%d", tok, id,
					 di->group ? "group " : "no group ",
					 di->group ? di->group->id : -1);
		}
		if (members != g->n_devices)
			mismatch(&r, name, "group %d: %zu members in the kernel, %zu in the model", id,
				 members, g->n_devices);

		/* sysfs type and reserved_regions, byte for byte */
		char resv[8192], *kt, *kr;

		snprintf(path, sizeof(path), "%s/iommu_groups/%d/type", dir, id);
		kt = slurp(path, NULL);
		if (kt) {
			kt[strcspn(kt, "\n")] = '\0';
			if (strcmp(kt, iommu_domain_type_name(g->type)))
				mismatch(&r, name, "iommu_groups/%d/type: kernel %s, model %s", id, kt,
					 iommu_domain_type_name(g->type));
			free(kt);
		}
		snprintf(path, sizeof(path), "%s/iommu_groups/%d/reserved_regions", dir, id);
		kr = slurp(path, NULL);
		iommu_group_resv_text(g, resv, sizeof(resv));
		if (!kr)
			mismatch(&r, name, "iommu_groups/%d/reserved_regions missing", id);
		else if (strcmp(kr, resv))
			mismatch(&r, name, "iommu_groups/%d/reserved_regions:\n--- kernel\n%s--- model\n%s",
				 id, kr, resv);
		free(kr);
	}
	if (kernel_groups != s->n_groups)
		mismatch(&r, name, "%zu groups in the kernel, %zu in the model", kernel_groups, s->n_groups);

	/* devices with no group */
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct iommu_device_info *di = &s->devices[i];
		struct stat st;
		bool kernel_has;

		snprintf(path, sizeof(path), "%s/pci/%s/iommu_group", dir, di->pdev->name);
		kernel_has = stat(path, &st) == 0;
		if (kernel_has != (di->group != NULL))
			mismatch(&r, name, "%s: kernel %s, model %s (%s)", di->pdev->name,
				 kernel_has ? "has a group" : "has no group",
				 di->group ? "has a group" : "has no group",
				 iommu_nogroup_reason_text(di->nogroup));
	}
	*n_groups += s->n_groups;
	*n_devs += s->n_devices;
	free(groups);
out:
	iommu_system_free(s);
	iommu_platform_free(p);
	return r.mismatches;
}

static void test_groups_match_kernel(void **state)
{
	size_t n, checked = 0, groups = 0, devs = 0;
	char **names = list_captures(&n);
	int bad = 0, gaps_agreeing = 0;

	(void)state;
	if (!n) {
		print_message("no captures (IOMMU_CAPTURES unset or empty): skipped\n");
		skip();
	}
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX];
		const char *gap = gap_reason(names[i]);
		int m;

		snprintf(dir, sizeof(dir), "%s/%s", captures_dir(), names[i]);
		if (gap)
			printf("%s (known gap: %s):\n", names[i], gap);
		m = check_capture(dir, names[i], &groups, &devs);
		checked++;
		if (gap) {
			if (m == 0) {
				printf("  %s now agrees with the kernel: take it off the known gaps\n", names[i]);
				gaps_agreeing++;
			}
			continue;
		}
		bad += m;
	}
	printf("groups: %zu captures, %zu groups, %zu devices, %d mismatches\n", checked, groups, devs, bad);
	free_list(names, n);
	assert_true(checked >= 20);
	assert_int_equal(gaps_agreeing, 0);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_match_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
