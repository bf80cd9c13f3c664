// SPDX-License-Identifier: MIT
/*
 * Platform sources and the bus tree: snapshot directories, the live host
 * read through a copy of /sys and /proc, built-in platforms, and the
 * snapshot writer.  Topology expectations come from the captures'
 * lspci-tree.txt (pciutils 3.9 in the guest) for the same topologies.
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
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/platform.h"

static char *capture(const char *name)
{
	const char *dir = captures_dir();
	char path[PATH_MAX];
	struct stat st;

	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st))
		return NULL;
	return strdup(path);
}

#define NEED_CAPTURE(var, name)                                              \
	char *var = capture(name);                                           \
	if (!var) {                                                          \
		print_message("capture %s not found (IOMMU_CAPTURES unset?)\n", name); \
		skip();                                                      \
	}

static struct iommu_pci_dev *dev_at(struct iommu_platform *p, const char *bdf)
{
	struct iommu_pci_addr a;

	assert_int_equal(iommu_pci_addr_parse(bdf, &a), 0);
	return iommu_platform_find_device(p, a);
}

/* d-switch: root port 00:10.0 -> upstream 01:00.0 -> downstream 02:0{0,1,2}.0 */
static void test_switch_tree(void **state)
{
	struct iommu_platform *p;
	struct iommu_error err;
	struct iommu_pci_bus *root, *b;
	struct iommu_pci_dev *d;

	(void)state;
	NEED_CAPTURE(dir, "d-switch");
	assert_int_equal(iommu_platform_load_snapshot(dir, &p, &err), 0);
	assert_int_equal(iommu_platform_num_devices(p), 11);
	assert_int_equal(iommu_platform_num_root_buses(p), 1);
	root = iommu_platform_root_bus(p, 0);
	assert_int_equal(root->number, 0);
	assert_null(root->self);
	assert_int_equal(root->busn_end, 5);
	assert_int_equal(root->n_children, 1);
	assert_int_equal(root->n_devices, 5);

	d = dev_at(p, "0000:03:00.0");
	assert_non_null(d);
	/* 03:00.0 sits behind 02:00.0, behind 01:00.0, behind 00:10.0 */
	assert_string_equal(d->bus->self->name, "0000:02:00.0");
	assert_string_equal(d->bus->parent->self->name, "0000:01:00.0");
	assert_string_equal(d->bus->parent->parent->self->name, "0000:00:10.0");
	assert_ptr_equal(d->bus->parent->parent->parent, root);

	/* the empty downstream port still has its bus */
	b = iommu_platform_find_bus(p, 0, 5);
	assert_non_null(b);
	assert_int_equal(b->n_devices, 0);
	assert_string_equal(b->self->name, "0000:02:02.0");
	assert_null(iommu_platform_find_bus(p, 0, 6));

	d = dev_at(p, "0000:01:00.0");
	assert_int_equal(d->subordinate->n_children, 3);
	assert_int_equal(d->subordinate->busn_end, 5);
	assert_int_equal(d->pcie_type, IOMMU_PCIE_UPSTREAM);
	assert_string_equal(iommu_platform_cmdline(p), "console=ttyS0 panic=1 intel_iommu=on");
	assert_string_equal(iommu_platform_kernel_release(p), "6.1.0-56-amd64");
	assert_string_equal(dev_at(p, "0000:02:00.0")->driver, "pcieport");
	assert_int_equal(iommu_platform_num_warnings(p), 0);
	iommu_platform_free(p);
	free(dir);
}

/* lx-pxb: expander bridges give root buses 0x40 and 0x80 beside bus 0. */
static void test_expander_root_buses(void **state)
{
	struct iommu_platform *p;
	struct iommu_error err;

	(void)state;
	NEED_CAPTURE(dir, "lx-pxb");
	assert_int_equal(iommu_platform_load_snapshot(dir, &p, &err), 0);
	assert_int_equal(iommu_platform_num_root_buses(p), 3);
	assert_int_equal(iommu_platform_root_bus(p, 0)->number, 0x00);
	assert_int_equal(iommu_platform_root_bus(p, 1)->number, 0x40);
	assert_int_equal(iommu_platform_root_bus(p, 2)->number, 0x80);
	assert_int_equal(iommu_platform_root_bus(p, 2)->busn_end, 0x84);
	iommu_platform_free(p);
	free(dir);
}

/* Only inputs are read: the kernel's answers in a capture are never opened. */
static void test_answers_never_read(void **state)
{
	static const char *const answers[] = {
		"groups.txt", "summary.txt", "lspci-vvv.txt", "lspci-tree.txt", "dmesg.txt",
		"pci/0000:00:10.0/iommu_group", "pci/0000:00:10.0/sysfs_path",
		"iommu_class/dmar0/devices",
	};
	struct iommu_platform *p;
	struct iommu_error err;
	char path[PATH_MAX];
	char *tmp;

	(void)state;
	NEED_CAPTURE(dir, "d-switch");
	tmp = make_temp_dir();
	assert_non_null(tmp);
	snprintf(path, sizeof(path), "%s/cap", tmp);
	assert_int_equal(copy_tree(dir, path), 0);
	/*
	 * Turn every answer into a FIFO with no writer: opening one for reading
	 * would block for ever, so a load that finishes proves none was opened.
	 */
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		char f[PATH_MAX];

		snprintf(f, sizeof(f), "%s/%s", path, answers[i]);
		unlink(f);
		assert_int_equal(mkfifo(f, 0600), 0);
	}
	snprintf(path, sizeof(path), "%s/cap/iommu_groups", tmp);
	remove_tree(path);
	assert_int_equal(mkfifo(path, 0600), 0);

	snprintf(path, sizeof(path), "%s/cap", tmp);
	assert_int_equal(iommu_platform_load_snapshot(path, &p, &err), 0);
	for (size_t i = 0; i < iommu_platform_num_files(p); i++) {
		const char *f = iommu_platform_file_path(p, i);

		assert_null(strstr(f, "group"));
		assert_null(strstr(f, "lspci"));
		assert_null(strstr(f, "sysfs_path"));
		assert_null(strstr(f, ".dsl"));
	}
	iommu_platform_free(p);
	remove_tree(tmp);
	free(tmp);
	free(dir);
}

static void assert_same_files(struct iommu_platform *a, struct iommu_platform *b)
{
	assert_int_equal(iommu_platform_num_files(a), iommu_platform_num_files(b));
	for (size_t i = 0; i < iommu_platform_num_files(a); i++) {
		const char *path = iommu_platform_file_path(a, i);
		const uint8_t *da, *db;
		size_t la, lb;

		assert_string_equal(path, iommu_platform_file_path(b, i));
		assert_int_equal(iommu_platform_file(a, path, &da, &la), 0);
		assert_int_equal(iommu_platform_file(b, path, &db, &lb), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(da, db, la);
	}
}

static void test_builtins(void **state)
{
	(void)state;
	assert_true(iommu_builtin_count() >= 2);
	assert_string_equal(iommu_builtin_default(), "intel-server");
	for (size_t i = 0; i < iommu_builtin_count(); i++) {
		struct iommu_platform *p;
		struct iommu_error err;
		const uint8_t *t;
		size_t len;

		assert_int_equal(iommu_platform_load_builtin(iommu_builtin_name(i), &p, &err), 0);
		assert_int_equal(iommu_platform_source(p), IOMMU_SOURCE_BUILTIN);
		assert_true(iommu_platform_num_devices(p) > 10);
		assert_int_equal(iommu_platform_num_warnings(p), 0);
		if (!strcmp(iommu_builtin_name(i), "intel-server"))
			assert_int_equal(iommu_platform_acpi_table(p, "DMAR", &t, &len), 0);
		else
			assert_int_equal(iommu_platform_acpi_table(p, "IVRS", &t, &len), 0);
		assert_memory_equal(t, iommu_builtin_name(i)[0] == 'i' ? "DMAR" : "IVRS", 4);
		iommu_platform_free(p);
	}
	{
		struct iommu_platform *p = (void *)1;
		struct iommu_error err;

		assert_int_equal(iommu_platform_load_builtin("nosuch", &p, &err), -ENOENT);
		assert_null(p);
		assert_non_null(strstr(err.msg, "nosuch"));
	}
}

/* The built-in platform is its capture's inputs, byte for byte. */
static void test_builtin_equals_capture(void **state)
{
	struct iommu_platform *a, *b;
	struct iommu_error err;

	(void)state;
	NEED_CAPTURE(dir, "lx-intel-server-rmrr");
	assert_int_equal(iommu_platform_load_builtin("intel-server", &a, &err), 0);
	assert_int_equal(iommu_platform_load_snapshot(dir, &b, &err), 0);
	assert_same_files(a, b);
	iommu_platform_free(a);
	iommu_platform_free(b);
	free(dir);
}

static void test_snapshot_round_trip(void **state)
{
	struct iommu_platform *a, *b;
	struct iommu_error err;
	char *tmp = make_temp_dir();
	char out[PATH_MAX];

	(void)state;
	assert_non_null(tmp);
	snprintf(out, sizeof(out), "%s/snap", tmp);
	assert_int_equal(iommu_platform_load_builtin("amd-server", &a, &err), 0);
	assert_int_equal(iommu_platform_write_snapshot(a, out, &err), 0);
	assert_int_equal(iommu_platform_load_snapshot(out, &b, &err), 0);
	assert_same_files(a, b);
	assert_int_equal(iommu_platform_num_devices(a), iommu_platform_num_devices(b));
	/* a second write into the same, now non-empty, directory is refused */
	assert_int_equal(iommu_platform_write_snapshot(a, out, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "not empty"));
	iommu_platform_free(a);
	iommu_platform_free(b);
	remove_tree(tmp);
	free(tmp);
}

/* Lay a capture out as /sys and /proc show it, then load that as a host. */
static void make_fake_host(const struct iommu_platform *snap, const char *root)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < iommu_platform_num_files(snap); i++) {
		const char *f = iommu_platform_file_path(snap, i);
		const uint8_t *data;
		size_t len;

		assert_int_equal(iommu_platform_file(snap, f, &data, &len), 0);
		if (!strncmp(f, "pci/", 4)) {
			const char *attr = strrchr(f, '/') + 1;

			if (!strcmp(attr, "driver")) {
				char target[PATH_MAX], name[64];

				snprintf(name, sizeof(name), "%.*s", (int)len - 1, (const char *)data);
				snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/%s", root, name);
				assert_int_equal(mkdirs(path), 0);
				snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", name);
				snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, f + 4);
				assert_int_equal(symlink(target, path), 0);
				continue;
			}
			snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, f + 4);
		} else if (!strncmp(f, "acpi/", 5)) {
			snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/%s", root, f + 5);
		} else if (!strncmp(f, "iommu_class/", 12)) {
			snprintf(path, sizeof(path), "%s/sys/class/iommu/%s", root, f + 12);
		} else if (!strcmp(f, "cmdline")) {
			snprintf(path, sizeof(path), "%s/proc/cmdline", root);
		} else if (!strcmp(f, "kernel-release")) {
			snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
		} else {
			fail_msg("unexpected input %s", f);
		}
		assert_int_equal(write_file(path, data, len), 0);
	}
	/* things a real /sys has that are not inputs */
	snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/dynamic/SSDT1", root);
	assert_int_equal(write_file(path, "x", 1), 0);
}

static void test_host_source(void **state)
{
	struct iommu_platform *snap, *host;
	struct iommu_error err;
	char sys[PATH_MAX], proc[PATH_MAX];
	char *tmp = make_temp_dir();

	(void)state;
	NEED_CAPTURE(dir, "lx-intel-server-rmrr");
	assert_int_equal(iommu_platform_load_snapshot(dir, &snap, &err), 0);
	make_fake_host(snap, tmp);
	snprintf(sys, sizeof(sys), "%s/sys", tmp);
	snprintf(proc, sizeof(proc), "%s/proc", tmp);
	assert_int_equal(iommu_platform_load_host(sys, proc, &host, &err), 0);
	assert_int_equal(iommu_platform_source(host), IOMMU_SOURCE_HOST);
	assert_same_files(snap, host);
	iommu_platform_free(host);
	iommu_platform_free(snap);
	remove_tree(tmp);
	free(tmp);
	free(dir);
}

/* What a user who is not root reads: 64 bytes of config space. */
static void test_host_not_root(void **state)
{
	struct iommu_platform *p;
	struct iommu_error err;
	char path[PATH_MAX];
	char *tmp = make_temp_dir();
	struct cfg c;

	(void)state;
	cfg_init(&c, 64, 0x8086, 0x29c0, 0x060000, 0);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:00.0/config", tmp);
	assert_int_equal(write_file(path, c.b, 64), 0);
	snprintf(path, sizeof(path), "%s/sys", tmp);
	assert_int_equal(iommu_platform_load_host(path, tmp, &p, &err), -EACCES);
	assert_non_null(strstr(err.msg, "0000:00:00.0/config"));
	assert_non_null(strstr(err.msg, "root"));

	snprintf(path, sizeof(path), "%s/nothing", tmp);
	assert_int_equal(iommu_platform_load_host(path, tmp, &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "bus/pci/devices"));
	remove_tree(tmp);
	free(tmp);
}

/* In-memory files, the path the fuzz target takes; an SR-IOV VF's ids come from sysfs. */
static void test_load_files_and_vf_ids(void **state)
{
	struct cfg pf, vf;
	const char *paths[] = {
		"pci/0000:00:00.0/config", "pci/0000:00:00.1/config",
		"pci/0000:00:00.1/vendor", "pci/0000:00:00.1/device", "cmdline",
	};
	const uint8_t *data[5];
	size_t lens[5];
	struct iommu_platform *p;
	struct iommu_error err;

	(void)state;
	cfg_init(&pf, 4096, 0x1b36, 0x0010, 0x010802, 0x80);
	cfg_add_pcie(&pf, 0x40, IOMMU_PCIE_RC_END);
	cfg_init(&vf, 4096, 0xffff, 0xffff, 0x010802, 0);
	cfg_add_pcie(&vf, 0x40, IOMMU_PCIE_RC_END);
	data[0] = pf.b; lens[0] = pf.size;
	data[1] = vf.b; lens[1] = vf.size;
	data[2] = (const uint8_t *)"0x1b36\n"; lens[2] = 7;
	data[3] = (const uint8_t *)"0x0011\n"; lens[3] = 7;
	data[4] = (const uint8_t *)"intel_iommu=on iommu=pt\n"; lens[4] = 24;
	assert_int_equal(iommu_platform_load_files("mem", 5, paths, data, lens, &p, &err), 0);
	assert_int_equal(iommu_platform_num_devices(p), 2);
	assert_int_equal(iommu_platform_device(p, 1)->vendor, 0x1b36);
	assert_int_equal(iommu_platform_device(p, 1)->device, 0x0011);
	assert_string_equal(iommu_platform_cmdline(p), "intel_iommu=on iommu=pt");
	assert_null(iommu_platform_kernel_release(p));
	iommu_platform_free(p);
}

/* Hexadecimal register files as iommu_class holds them; garbage is refused. */
static void test_file_hex(void **state)
{
	struct cfg host;
	const char *paths[] = { "pci/0000:00:00.0/config", "iommu_class/dmar0/intel-iommu/cap",
				"iommu_class/dmar0/intel-iommu/ecap", "iommu_class/dmar0/intel-iommu/address" };
	const uint8_t *data[4];
	size_t lens[4];
	struct iommu_platform *p;
	struct iommu_error err;
	uint64_t v = 0;

	(void)state;
	cfg_init(&host, 256, 0x8086, 0x29c0, 0x060000, 0);
	data[0] = host.b; lens[0] = 256;
	data[1] = (const uint8_t *)"d2008c22260206\n"; lens[1] = 15;
	data[2] = (const uint8_t *)"f00f4a junk\n"; lens[2] = 12;
	data[3] = (const uint8_t *)"-1\n"; lens[3] = 3;
	assert_int_equal(iommu_platform_load_files("mem", 4, paths, data, lens, &p, &err), 0);
	assert_int_equal(iommu_platform_file_hex(p, paths[1], &v), 0);
	assert_int_equal(v, 0xd2008c22260206ull);
	assert_int_equal(iommu_platform_file_hex(p, paths[2], &v), -EINVAL);
	assert_int_equal(iommu_platform_file_hex(p, paths[3], &v), -EINVAL);
	assert_int_equal(iommu_platform_file_hex(p, "iommu_class/dmar0/intel-iommu/version", &v), -ENOENT);
	iommu_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_tree),
		cmocka_unit_test(test_expander_root_buses),
		cmocka_unit_test(test_answers_never_read),
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_builtin_equals_capture),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_host_source),
		cmocka_unit_test(test_host_not_root),
		cmocka_unit_test(test_load_files_and_vf_ids),
		cmocka_unit_test(test_file_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
