// SPDX-License-Identifier: MIT
/*
 * Bad input of every kind: each must give a negative errno and a message
 * that names the file or function and what is wrong with it, never a
 * crash, a hang or a leak (the sanitizer build runs these with leak
 * checking).  Damaged capability lists are warnings, not errors, as the
 * kernel walks them with a bound.
 *
 * Snapshots are synthetic: config spaces built with the cfg_* helpers and
 * written under a fresh temporary directory per test.  Every test runs
 * under alarm(), so that an input that makes the loader block (a FIFO, say)
 * kills the test instead of hanging it.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "iommu/platform.h"

/* Seconds a test may take before it counts as hung. */
#define HANG_LIMIT 60

/* ------------------------------------------------------------------ */
/* Fixture and helpers                                                  */

struct ctx {
	char *dir;
	struct iommu_platform *p;
	struct iommu_error err;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->dir = make_temp_dir();
	if (!c->dir) {
		free(c);
		return -1;
	}
	*state = c;
	alarm(HANG_LIMIT);
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	alarm(0);
	iommu_platform_free(c->p);
	remove_tree(c->dir);
	free(c->dir);
	free(c);
	return 0;
}

/* @dir/@rel, in a static buffer (one at a time). */
static const char *at(const struct ctx *c, const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", c->dir, rel);
	return path;
}

static void put(const struct ctx *c, const char *rel, const void *data, size_t len)
{
	assert_int_equal(write_file(at(c, rel), data, len), 0);
}

static void put_str(const struct ctx *c, const char *rel, const char *s)
{
	put(c, rel, s, strlen(s));
}

static void put_cfg(const struct ctx *c, const char *bdf, const struct cfg *cfg)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "pci/%s/config", bdf);
	put(c, rel, cfg->b, cfg->size);
}

/* A PCI Express-less host bridge, 256 bytes. */
static void host_bridge(struct cfg *cfg)
{
	cfg_init(cfg, 256, 0x8086, 0x29c0, 0x060000, 0);
}

/* A PCI-to-PCI bridge with bus numbers. */
static void p2p_bridge(struct cfg *cfg, uint8_t pri, uint8_t sec, uint8_t sub)
{
	cfg_init(cfg, 256, 0x8086, 0x244e, 0x060400, 1);
	cfg_set_bus(cfg, pri, sec, sub);
}

/* A plain endpoint (network controller), 256 bytes. */
static void endpoint(struct cfg *cfg)
{
	cfg_init(cfg, 256, 0x8086, 0x10d3, 0x020000, 0);
}

static int load_dir(struct ctx *c)
{
	int ret = iommu_platform_load_snapshot(c->dir, &c->p, &c->err);

	if (ret == 0)
		assert_non_null(c->p);
	else
		assert_null(c->p);
	return ret;
}

/* Load one pci/0000:00:00.0/config of @len bytes through iommu_platform_load_files. */
static int load_config_bytes(struct ctx *c, const void *data, size_t len)
{
	const char *path = "pci/0000:00:00.0/config";
	const uint8_t *d = data;

	return iommu_platform_load_files("test", 1, &path, &d, &len, &c->p, &c->err);
}

/*
 * The message holds every string given (NULL-terminated list).  On a
 * mismatch the message is printed before the test fails.
 */
static void msg_has_v(const char *msg, va_list ap)
{
	const char *want;

	assert_non_null(msg);
	assert_true(msg[0] != '\0');
	while ((want = va_arg(ap, const char *))) {
		if (!strstr(msg, want)) {
			print_error("message \"%s\" lacks \"%s\"\n", msg, want);
			fail();
		}
	}
}

static void msg_has(const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	msg_has_v(msg, ap);
	va_end(ap);
}

/* The call failed with @want, and err holds @want and the strings. */
#define ASSERT_ERR(c, ret, want, ...)                                         \
	do {                                                                  \
		assert_int_equal((ret), (want));                              \
		assert_int_equal((c)->err.code, (want));                      \
		msg_has((c)->err.msg, __VA_ARGS__, (const char *)NULL);       \
	} while (0)

/* Some warning of the loaded platform holds all the strings. */
static bool warning_has(const struct iommu_platform *p, const char *a, const char *b)
{
	for (size_t i = 0; i < iommu_platform_num_warnings(p); i++) {
		const char *w = iommu_platform_warning(p, i);

		if (strstr(w, a) && (!b || strstr(w, b)))
			return true;
	}
	for (size_t i = 0; i < iommu_platform_num_warnings(p); i++)
		print_message("warning: %s\n", iommu_platform_warning(p, i));
	return false;
}

static size_t count_caps(const struct iommu_pci_dev *d, bool extended)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_caps; i++)
		if (d->caps[i].extended == extended)
			n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Config space contents                                                */

static void test_config_truncated(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	cfg.size = 12;
	put_cfg(c, "0000:00:00.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/config", "12 bytes",
		   "shorter than the 64-byte header");

	/* The same through the in-memory path. */
	iommu_error_clear(&c->err);
	ret = load_config_bytes(c, cfg.b, 12);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/config", "12 bytes", "shorter");
	assert_null(c->p);
}

static void test_config_empty(void **state)
{
	struct ctx *c = *state;
	int ret;

	put(c, "pci/0000:00:00.0/config", "", 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/config", "0 bytes",
		   "shorter than the 64-byte header");
}

static void test_config_too_long(void **state)
{
	struct ctx *c = *state;
	static uint8_t big[4097];
	struct iommu_pci_dev dev;
	struct iommu_pci_addr addr = { 0, 0, IOMMU_PCI_DEVFN(3, 0) };
	int ret;

	memset(big, 0, sizeof(big));
	big[0] = 0x86;
	big[1] = 0x80;
	put(c, "pci/0000:00:00.0/config", big, sizeof(big));
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EFBIG, "pci/0000:00:00.0/config", "larger than the 4096 bytes");

	ret = load_config_bytes(c, big, sizeof(big));
	ASSERT_ERR(c, ret, -EFBIG, "pci/0000:00:00.0/config", "4097 bytes", "4096");

	ret = iommu_pci_decode_config(&dev, addr, big, sizeof(big), NULL, NULL, &c->err);
	ASSERT_ERR(c, ret, -EINVAL, "0000:00:03.0", "4097 bytes", "longer than the 4096");
}

static void test_config_all_ones(void **state)
{
	struct ctx *c = *state;
	uint8_t ones[256];
	int ret;

	memset(ones, 0xff, sizeof(ones));
	put(c, "pci/0000:00:00.0/config", ones, sizeof(ones));
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/config", "all ones");

	/* sysfs ids of all ones do not stand in for the missing ones (VF splice). */
	put_str(c, "pci/0000:00:00.0/vendor", "0xffff\n");
	put_str(c, "pci/0000:00:00.0/device", "0xffff\n");
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/config", "all ones");
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: small, seeded, the same sequence everywhere. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void warn_count(void *ctx, const char *msg)
{
	size_t *n = ctx;

	assert_non_null(msg);
	assert_true(msg[0] != '\0');
	(*n)++;
}

static void test_config_random(void **state)
{
	struct ctx *c = *state;
	static uint8_t buf[4200];
	size_t errors = 0, decoded = 0;

	rng_state = UINT64_C(0x1badb002c0ffee01);
	for (int iter = 0; iter < 20000; iter++) {
		struct iommu_pci_addr addr = { 0, (uint8_t)iter, (uint8_t)(iter >> 8) };
		struct iommu_pci_dev dev;
		size_t size, warnings = 0;
		uint64_t r = rng();
		int ret;

		/* Mostly the sizes real config spaces have, sometimes any size. */
		switch (r % 8) {
		case 0: size = 64; break;
		case 1: case 2: size = 256; break;
		case 3: case 4: case 5: size = 4096; break;
		default: size = (size_t)(rng() % sizeof(buf)); break;
		}
		for (size_t i = 0; i < size; i++)
			buf[i] = (uint8_t)rng();
		if (size >= 64 && (r >> 8) % 4) {
			/* Steer towards the deeper paths: a known header type, a capability list. */
			buf[0x0e] = (uint8_t)((buf[0x0e] & 0x80) | ((r >> 16) % 3));
			buf[0x06] |= 0x10;
			if ((r >> 24) % 2 && size >= 0x48) {
				buf[0x34] = 0x40;
				buf[0x40] = 0x10;       /* PCI Express, so the extended list is walked */
			}
		}
		iommu_error_clear(&c->err);
		ret = iommu_pci_decode_config(&dev, addr, buf, size, warn_count, &warnings, &c->err);
		if (ret) {
			assert_true(ret < 0);
			assert_int_equal(c->err.code, ret);
			assert_true(c->err.msg[0] != '\0');
			assert_non_null(strstr(c->err.msg, dev.name));
			errors++;
		} else {
			assert_int_equal(dev.config_size, size);
			assert_memory_equal(dev.config, buf, size);
			for (size_t i = 0; i < dev.n_caps; i++)
				assert_true(dev.caps[i].offset < size);
			iommu_pci_dev_release(&dev);
			decoded++;
		}
		if (iter % 16 == 0) {
			ret = load_config_bytes(c, buf, size);
			if (ret) {
				assert_true(ret < 0);
				assert_true(c->err.msg[0] != '\0');
			} else {
				assert_int_equal(iommu_platform_num_devices(c->p), 1);
				iommu_platform_free(c->p);
				c->p = NULL;
			}
		}
	}
	/* Both outcomes were exercised. */
	assert_true(errors > 100);
	assert_true(decoded > 100);
}

static void test_unknown_header_type(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	cfg_init(&cfg, 256, 0x8086, 0x1234, 0x020000, 0x85);   /* type 5, multifunction */
	put_cfg(c, "0000:00:00.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/config", "unknown header type 0x05");
}

static void test_cap_list_loop(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	const struct iommu_pci_dev *d;

	endpoint(&cfg);
	cfg_add_cap(&cfg, 0x40, 0x01);  /* power management */
	cfg_add_cap(&cfg, 0x50, 0x05);  /* MSI */
	cfg_w8(&cfg, 0x51, 0x40);       /* MSI's next points back at PM */
	put_cfg(c, "0000:00:02.0", &cfg);
	assert_int_equal(load_dir(c), 0);
	d = iommu_platform_device(c->p, 0);
	assert_int_equal(d->n_caps, 2);
	assert_int_equal(iommu_pci_find_cap(d, 0x05), 0x50);
	assert_true(warning_has(c->p, "0000:00:02.0", "capability list loops back to 0x40"));
}

static void test_cap_ptr_past_end(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	const struct iommu_pci_dev *d;

	/* A 64-byte config (what a non-root user reads) that says it has capabilities. */
	endpoint(&cfg);
	cfg.size = 64;
	cfg_w16(&cfg, 0x06, 0x0010);
	cfg_w8(&cfg, 0x34, 0x80);
	put_cfg(c, "0000:00:03.0", &cfg);
	assert_int_equal(load_dir(c), 0);
	d = iommu_platform_device(c->p, 0);
	assert_int_equal(d->n_caps, 0);
	assert_int_equal(d->config_size, 64);
	assert_true(warning_has(c->p, "0000:00:03.0", "capability pointer 0x80 lies beyond the 64 bytes"));
}

static void test_ext_cap_loop(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	const struct iommu_pci_dev *d;

	cfg_init(&cfg, 4096, 0x8086, 0x10d3, 0x020000, 0);
	cfg_add_pcie(&cfg, 0x40, IOMMU_PCIE_ENDPOINT);
	cfg_add_ext_cap(&cfg, 0x100, 0x0001, 2);   /* AER */
	cfg_add_acs(&cfg, 0x140, 0x001f, 0x0001);
	cfg_w32(&cfg, 0x140, 0x000d | 1u << 16 | 0x100u << 20);  /* ACS's next: back to AER */
	put_cfg(c, "0000:00:04.0", &cfg);
	assert_int_equal(load_dir(c), 0);
	d = iommu_platform_device(c->p, 0);
	assert_int_equal(count_caps(d, true), 2);
	assert_int_equal(d->acs_pos, 0x140);
	assert_true(warning_has(c->p, "0000:00:04.0", "extended capability list loops back to 0x100"));
}

/* ------------------------------------------------------------------ */
/* Snapshot layout                                                      */

static void test_no_pci_dir(void **state)
{
	struct ctx *c = *state;
	int ret;

	put_str(c, "cmdline", "quiet\n");
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -ENOENT, c->dir, "no pci/ folder");
}

static void test_empty_pci_dir(void **state)
{
	struct ctx *c = *state;
	int ret;

	assert_int_equal(mkdirs(at(c, "pci")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -ENOENT, "/pci", "empty");
}

static void test_pci_not_a_bdf(void **state)
{
	struct ctx *c = *state;
	static const char *const bad[] = {
		"not-a-bdf", "0000:00:00.8", "0000:00:20.0", "00000:00:00.0", "0000:00:00",
		/* sscanf's %x would take these: a sign, "0x", a blank. */
		"+000:00:00.1", "-001:00:00.0", "0000:-1:00.0", "0x00:00:01.0", " 000:00:02.0",
		"0000: 1:00.0",
	};
	struct cfg cfg;

	host_bridge(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		int ret;

		remove_tree(at(c, "pci"));
		put_cfg(c, "0000:00:00.0", &cfg);
		put_cfg(c, bad[i], &cfg);
		snprintf(want, sizeof(want), "pci/%s:", bad[i]);
		ret = load_dir(c);
		ASSERT_ERR(c, ret, -EINVAL, want, "not a PCI address");
	}

	/* The parser itself, both forms. */
	struct iommu_pci_addr a;

	assert_int_equal(iommu_pci_addr_parse("0000:00:1F.7", &a), 0);
	assert_int_equal(a.devfn, IOMMU_PCI_DEVFN(0x1f, 7));
	assert_int_equal(iommu_pci_addr_parse("0a:1f.7", &a), 0);
	assert_int_equal(a.bus, 0x0a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(iommu_pci_addr_parse(bad[i], &a), -EINVAL);
	assert_int_equal(iommu_pci_addr_parse("+0:1f.7", &a), -EINVAL);
	assert_int_equal(iommu_pci_addr_parse("0a:1f.7 ", &a), -EINVAL);
	assert_int_equal(iommu_pci_addr_parse("", &a), -EINVAL);
}

static void test_bdf_without_config(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	put_str(c, "pci/0000:00:1f.0/vendor", "0x8086\n");
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -ENOENT, "pci/0000:00:1f.0/config", "missing");

	/* The same with nothing at all in the folder. */
	remove_tree(at(c, "pci/0000:00:1f.0"));
	assert_int_equal(mkdirs(at(c, "pci/0000:00:1f.0")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -ENOENT, "pci/0000:00:1f.0/config", "missing");
}

/* ------------------------------------------------------------------ */
/* Bus numbers                                                          */

static void test_bus_cycle_self(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	p2p_bridge(&cfg, 1, 1, 1);     /* on bus 1, leads to bus 1 */
	put_cfg(c, "0000:01:00.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "0000:01:00.0", "leads to bus 01", "cyclic");
}

static void test_bus_cycle_two(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	p2p_bridge(&cfg, 0, 1, 1);     /* A: bus 0 -> 1 */
	put_cfg(c, "0000:00:01.0", &cfg);
	p2p_bridge(&cfg, 1, 1, 1);     /* B: on bus 1 -> 1 */
	put_cfg(c, "0000:01:00.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "0000:01:00.0", "cyclic");
}

static void test_bus_range_reversed(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	p2p_bridge(&cfg, 0, 3, 2);
	put_cfg(c, "0000:00:01.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "0000:00:01.0", "[03-02]", "ends before it starts");
}

static void test_sibling_ranges_overlap(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	p2p_bridge(&cfg, 0, 1, 3);
	put_cfg(c, "0000:00:01.0", &cfg);
	p2p_bridge(&cfg, 0, 2, 4);
	put_cfg(c, "0000:00:02.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "0000:00:01.0", "0000:00:02.0", "overlapping bus ranges");
}

static void test_child_range_outside_parent(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	p2p_bridge(&cfg, 0, 1, 2);     /* parent: [01-02] */
	put_cfg(c, "0000:00:01.0", &cfg);
	p2p_bridge(&cfg, 1, 3, 3);     /* child on bus 1: [03-03], outside */
	put_cfg(c, "0000:01:00.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "0000:01:00.0", "[03-03]", "not inside the range [01-02]",
		   "0000:00:01.0");
}

static void test_two_bridges_same_bus(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	p2p_bridge(&cfg, 0, 1, 1);
	put_cfg(c, "0000:00:01.0", &cfg);
	p2p_bridge(&cfg, 0, 1, 1);
	put_cfg(c, "0000:00:02.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "0000:00:01.0", "0000:00:02.0", "both lead to bus 0000:01");
}

/*
 * Found by fuzz_snapshot: the children of a bus came out in bus number
 * order, while the API promises the devfn order of the bridges leading
 * to them.  Here the bridge at the lower devfn has the higher bus.
 */
static void test_children_in_devfn_order(void **state)
{
	struct ctx *c = *state;
	const struct iommu_pci_bus *root;
	struct cfg cfg;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	p2p_bridge(&cfg, 0, 5, 6);
	put_cfg(c, "0000:00:01.0", &cfg);
	p2p_bridge(&cfg, 0, 1, 2);
	put_cfg(c, "0000:00:02.0", &cfg);
	p2p_bridge(&cfg, 0, 3, 3);
	put_cfg(c, "0000:00:03.0", &cfg);
	endpoint(&cfg);
	put_cfg(c, "0000:05:00.0", &cfg);
	assert_int_equal(load_dir(c), 0);
	assert_int_equal(iommu_platform_num_root_buses(c->p), 1);
	root = iommu_platform_root_bus(c->p, 0);
	assert_int_equal(root->n_children, 3);
	assert_int_equal(root->children[0]->self->addr.devfn, IOMMU_PCI_DEVFN(1, 0));
	assert_int_equal(root->children[0]->number, 5);
	assert_int_equal(root->children[1]->self->addr.devfn, IOMMU_PCI_DEVFN(2, 0));
	assert_int_equal(root->children[1]->number, 1);
	assert_int_equal(root->children[2]->self->addr.devfn, IOMMU_PCI_DEVFN(3, 0));
	assert_int_equal(root->busn_end, 6);
}

/*
 * Found by fuzz_snapshot: the virtual bus that SR-IOV VFs sit on (a bus
 * number other than their PF's, no bridge leading there) had the PF's bus
 * as parent but was not among its children, so a walk down from the root
 * buses never reached the VFs.  The kernel adds it to the PF bus's
 * children (virtfn_add_bus), after the buses behind bridges.
 */
static void test_vf_bus_is_a_child(void **state)
{
	struct ctx *c = *state;
	const struct iommu_pci_bus *root, *vfbus;
	struct cfg cfg;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	p2p_bridge(&cfg, 0, 1, 1);
	put_cfg(c, "0000:00:01.0", &cfg);
	/* PF 00:05.0 with one VF enabled at routing id 0x0028 + 0x01d8 = 02:00.0. */
	cfg_init(&cfg, 4096, 0x8086, 0x10c9, 0x020000, 0);
	cfg_add_pcie(&cfg, 0x40, IOMMU_PCIE_RC_END);
	cfg_add_ext_cap(&cfg, 0x100, 0x0010, 1);
	cfg_w16(&cfg, 0x100 + 0x08, 0x0001);        /* VF Enable */
	cfg_w16(&cfg, 0x100 + 0x0e, 1);             /* TotalVFs */
	cfg_w16(&cfg, 0x100 + 0x10, 1);             /* NumVFs */
	cfg_w16(&cfg, 0x100 + 0x14, 0x01d8);        /* First VF Offset */
	cfg_w16(&cfg, 0x100 + 0x16, 1);             /* VF Stride */
	put_cfg(c, "0000:00:05.0", &cfg);
	cfg_init(&cfg, 4096, 0x8086, 0x10ca, 0x020000, 0);
	cfg_add_pcie(&cfg, 0x40, IOMMU_PCIE_RC_END);
	put_cfg(c, "0000:02:00.0", &cfg);
	assert_int_equal(load_dir(c), 0);

	assert_int_equal(iommu_platform_num_root_buses(c->p), 1);
	root = iommu_platform_root_bus(c->p, 0);
	vfbus = iommu_platform_find_bus(c->p, 0, 2);
	assert_non_null(vfbus);
	assert_ptr_equal(vfbus->parent, root);
	assert_null(vfbus->self);
	assert_int_equal(root->n_children, 2);
	assert_int_equal(root->children[0]->number, 1);     /* behind 00:01.0 */
	assert_ptr_equal(root->children[1], vfbus);
	assert_int_equal(vfbus->n_devices, 1);
	assert_int_equal(vfbus->devices[0]->addr.bus, 2);
}

/* ------------------------------------------------------------------ */
/* Files that are not what they should be                               */

static void test_duplicate_address(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	endpoint(&cfg);
	put_cfg(c, "0000:00:1f.0", &cfg);
	put_cfg(c, "0000:00:1F.0", &cfg);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EEXIST, "0000:00:1f.0", "duplicate address");
}

static void test_fifo_config(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	assert_int_equal(mkdirs(at(c, "pci/0000:00:01.0")), 0);
	/* No writer ever opens it: a blocking open or read would hang here. */
	assert_int_equal(mkfifo(at(c, "pci/0000:00:01.0/config"), 0644), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:01.0/config", "not a regular file");
}

static void test_dangling_symlink(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	assert_int_equal(mkdirs(at(c, "pci/0000:00:01.0")), 0);
	assert_int_equal(symlink("/nonexistent/libiommu/config",
				 at(c, "pci/0000:00:01.0/config")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -ENOENT, "pci/0000:00:01.0/config");
	/* Said either way: the link leads nowhere. */
	if (!strstr(c->err.msg, "missing") && !strstr(c->err.msg, "cannot open")) {
		print_error("message \"%s\" does not say the file is missing\n", c->err.msg);
		fail();
	}

	/* A link that loops is no better. */
	remove_tree(at(c, "pci/0000:00:01.0/config"));
	assert_int_equal(symlink("config", at(c, "pci/0000:00:01.0/config")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -ELOOP, "pci/0000:00:01.0/config", "cannot open");
}

static void test_directory_as_file(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	assert_int_equal(mkdirs(at(c, "pci/0000:00:01.0/config")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:01.0/config", "not a regular file");

	/* An attribute and a top-level file in the same state. */
	remove_tree(at(c, "pci/0000:00:01.0"));
	assert_int_equal(mkdirs(at(c, "pci/0000:00:00.0/vendor")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/vendor", "not a regular file");
	remove_tree(at(c, "pci/0000:00:00.0/vendor"));
	assert_int_equal(mkdirs(at(c, "cmdline")), 0);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "cmdline", "not a regular file");
}

static void test_vendor_not_text(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	int ret;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	put(c, "pci/0000:00:00.0/vendor", "0x80\0" "86\n", 8);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/vendor", "not a text file", "NUL");
}

static void test_vendor_malformed(void **state)
{
	struct ctx *c = *state;
	static const char *const bad[] = { "0xzz86\n", "\n", "0x18086\n", "-0x1\n", "0x8086 junk\n" };
	struct cfg cfg;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		put_str(c, "pci/0000:00:00.0/vendor", bad[i]);
		ret = load_dir(c);
		ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/vendor", "not a hexadecimal number");
	}
	/* And the device file after a good vendor file. */
	put_str(c, "pci/0000:00:00.0/vendor", "0x8086\n");
	put_str(c, "pci/0000:00:00.0/device", "0xnope\n");
	assert_int_equal(load_dir(c), -EINVAL);
	msg_has(c->err.msg, "pci/0000:00:00.0/device", "0xnope", "not a hexadecimal number",
		(const char *)NULL);
}

static void test_attr_oversized(void **state)
{
	struct ctx *c = *state;
	size_t len = 70000;
	char *big = malloc(len);
	const char *paths[2] = { "pci/0000:00:00.0/config", "pci/0000:00:00.0/driver" };
	const uint8_t *data[2];
	size_t lens[2];
	struct cfg cfg;
	int ret;

	assert_non_null(big);
	memset(big, 'a', len);
	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	put(c, "pci/0000:00:00.0/driver", big, len);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EFBIG, "pci/0000:00:00.0/driver", "larger than the 65536 bytes");

	remove_tree(at(c, "pci/0000:00:00.0/driver"));
	put(c, "kernel-release", big, len);
	ret = load_dir(c);
	ASSERT_ERR(c, ret, -EFBIG, "kernel-release", "larger than the 65536 bytes");

	data[0] = cfg.b;
	lens[0] = cfg.size;
	data[1] = (const uint8_t *)big;
	lens[1] = len;
	ret = iommu_platform_load_files("test", 2, paths, data, lens, &c->p, &c->err);
	ASSERT_ERR(c, ret, -EFBIG, "pci/0000:00:00.0/driver", "70000 bytes", "65536");
	assert_null(c->p);
	free(big);
}

/* ------------------------------------------------------------------ */
/* iommu_platform_load_files                                            */

static void test_load_files_not_input(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	const char *paths[2] = { "pci/0000:00:00.0/config", "groups.txt" };
	const uint8_t *data[2];
	size_t lens[2];
	int ret;

	host_bridge(&cfg);
	data[0] = cfg.b;
	lens[0] = cfg.size;
	data[1] = (const uint8_t *)"group 0\n";
	lens[1] = 8;
	ret = iommu_platform_load_files("test", 2, paths, data, lens, &c->p, &c->err);
	ASSERT_ERR(c, ret, -EINVAL, "groups.txt", "not a platform input file");
	assert_null(c->p);

	/* Kernel answers inside a function's folder are refused the same way. */
	paths[1] = "pci/0000:00:00.0/iommu_group";
	ret = iommu_platform_load_files("test", 2, paths, data, lens, &c->p, &c->err);
	ASSERT_ERR(c, ret, -EINVAL, "pci/0000:00:00.0/iommu_group", "not a platform input file");
	assert_null(c->p);
}

static void test_load_files_repeated_path(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;
	const char *paths[3] = { "pci/0000:00:00.0/config", "cmdline", "pci/0000:00:00.0/config" };
	const uint8_t *data[3];
	size_t lens[3];
	int ret;

	host_bridge(&cfg);
	data[0] = data[2] = cfg.b;
	lens[0] = lens[2] = cfg.size;
	data[1] = (const uint8_t *)"quiet\n";
	lens[1] = 6;
	ret = iommu_platform_load_files("test", 3, paths, data, lens, &c->p, &c->err);
	ASSERT_ERR(c, ret, -EEXIST, "pci/0000:00:00.0/config", "given twice");
	assert_null(c->p);
}

/* ------------------------------------------------------------------ */
/* Kernel answers in a snapshot are never opened                        */

static void test_kernel_answers_ignored(void **state)
{
	struct ctx *c = *state;
	struct cfg cfg;

	host_bridge(&cfg);
	put_cfg(c, "0000:00:00.0", &cfg);
	endpoint(&cfg);
	put_cfg(c, "0000:00:02.0", &cfg);
	put_str(c, "cmdline", "intel_iommu=on\n");
	/* Garbage and FIFOs where the kernel's answers would be. */
	put(c, "groups.txt", "\0\xff garbage", 10);
	assert_int_equal(mkfifo(at(c, "iommu_groups"), 0644), 0);
	assert_int_equal(mkfifo(at(c, "lspci-vvv.txt"), 0644), 0);
	assert_int_equal(mkfifo(at(c, "pci/0000:00:02.0/iommu_group"), 0644), 0);
	assert_int_equal(mkfifo(at(c, "pci/0000:00:02.0/sysfs_path"), 0644), 0);
	assert_int_equal(mkdirs(at(c, "acpi")), 0);
	assert_int_equal(mkfifo(at(c, "acpi/DMAR.dsl"), 0644), 0);

	assert_int_equal(load_dir(c), 0);
	assert_int_equal(iommu_platform_num_devices(c->p), 2);
	assert_string_equal(iommu_platform_cmdline(c->p), "intel_iommu=on");
	for (size_t i = 0; i < iommu_platform_num_files(c->p); i++) {
		const char *path = iommu_platform_file_path(c->p, i);

		assert_null(strstr(path, "group"));
		assert_null(strstr(path, "lspci"));
		assert_null(strstr(path, ".dsl"));
		assert_null(strstr(path, "sysfs_path"));
	}
	assert_int_equal(iommu_platform_num_files(c->p), 3);
}

/* ------------------------------------------------------------------ */
/* Writing a snapshot                                                   */

static void load_small_platform(struct ctx *c)
{
	struct cfg cfg;

	host_bridge(&cfg);
	assert_int_equal(load_config_bytes(c, cfg.b, cfg.size), 0);
}

static void test_write_snapshot_nonempty(void **state)
{
	struct ctx *c = *state;
	char out[PATH_MAX];
	size_t len;
	char *keep;
	int ret;

	load_small_platform(c);
	snprintf(out, sizeof(out), "%s/out", c->dir);
	put_str(c, "out/notes.txt", "keep me\n");
	ret = iommu_platform_write_snapshot(c->p, out, &c->err);
	ASSERT_ERR(c, ret, -EEXIST, out, "not empty");
	keep = slurp(at(c, "out/notes.txt"), &len);
	assert_non_null(keep);
	assert_string_equal(keep, "keep me\n");
	free(keep);
	assert_int_equal(access(at(c, "out/pci"), F_OK), -1);

	/* The control: into a fresh directory it works and loads back. */
	snprintf(out, sizeof(out), "%s/fresh/snap", c->dir);
	assert_int_equal(iommu_platform_write_snapshot(c->p, out, &c->err), 0);
	iommu_platform_free(c->p);
	c->p = NULL;
	assert_int_equal(iommu_platform_load_snapshot(out, &c->p, &c->err), 0);
	assert_int_equal(iommu_platform_num_devices(c->p), 1);
}

static void test_write_snapshot_onto_file(void **state)
{
	struct ctx *c = *state;
	char out[PATH_MAX];
	int ret;

	load_small_platform(c);
	put_str(c, "a-file", "x");
	snprintf(out, sizeof(out), "%s/a-file", c->dir);
	ret = iommu_platform_write_snapshot(c->p, out, &c->err);
	ASSERT_ERR(c, ret, -ENOTDIR, out, "not a directory");

	/* Below a file: the directory cannot be made. */
	snprintf(out, sizeof(out), "%s/a-file/snap", c->dir);
	ret = iommu_platform_write_snapshot(c->p, out, &c->err);
	assert_true(ret < 0);
	msg_has(c->err.msg, "a-file", (const char *)NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_truncated),
		T(test_config_empty),
		T(test_config_too_long),
		T(test_config_all_ones),
		T(test_config_random),
		T(test_unknown_header_type),
		T(test_cap_list_loop),
		T(test_cap_ptr_past_end),
		T(test_ext_cap_loop),
		T(test_no_pci_dir),
		T(test_empty_pci_dir),
		T(test_pci_not_a_bdf),
		T(test_bdf_without_config),
		T(test_bus_cycle_self),
		T(test_bus_cycle_two),
		T(test_bus_range_reversed),
		T(test_sibling_ranges_overlap),
		T(test_child_range_outside_parent),
		T(test_two_bridges_same_bus),
		T(test_children_in_devfn_order),
		T(test_vf_bus_is_a_child),
		T(test_duplicate_address),
		T(test_fifo_config),
		T(test_dangling_symlink),
		T(test_directory_as_file),
		T(test_vendor_not_text),
		T(test_vendor_malformed),
		T(test_attr_oversized),
		T(test_load_files_not_input),
		T(test_load_files_repeated_path),
		T(test_kernel_answers_ignored),
		T(test_write_snapshot_nonempty),
		T(test_write_snapshot_onto_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
