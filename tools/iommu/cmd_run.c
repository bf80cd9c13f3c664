// SPDX-License-Identifier: MIT
/*
 * iommu run: an unmodified program against a modelled platform.  The
 * model is checked here first (platform, IOMMU state, the vfio-pci
 * binds), then the program is executed with libiommu-preload.so in
 * LD_PRELOAD and the model described in the environment; the preload
 * library builds the same model in the program's process and answers its
 * VFIO, sysfs and procfs calls (doc/vfio.md).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "iommu/core.h"
#include "iommu/uapi.h"

static const char help[] =
"Usage: iommu run [PLATFORM] [--vfio BDF,...] [--noiommu] [OPTIONS] -- PROGRAM [ARGS]\n"
"\n"
"Runs PROGRAM (an unmodified, dynamically linked program) against a model of\n"
"the platform: its opens, ioctls, mmaps, reads and closes of /dev/vfio/*,\n"
"/dev/vfio/devices/vfioN and /dev/iommu, and\n"
"its reads of /sys/kernel/iommu_groups, /sys/bus/pci/devices/*/iommu_group\n"
"and driver, the vfio module parameters, /proc/sys/kernel/tainted and\n"
"/proc/self/pagemap are answered by the model as the platform's kernel would\n"
"answer them (VFIO containers, groups and devices with type1 or noiommu;\n"
"iommufd objects, IOAS and device binds on kernels from 6.2, cdevs from 6.6);\n"
"DMA the program maps lands in modelled memory through the modelled IOMMU.\n"
"Everything else goes to this machine.  No hardware and no root needed.\n"
"\n"
"  --vfio BDF,...   bind these PCI functions to vfio-pci, in this order\n"
"                   (their /dev/vfio/N minors follow the order)\n"
"  --noiommu        vfio.enable_unsafe_noiommu_mode=1: a device without an\n"
"                   IOMMU group gets a vfio-noiommu group (and taints)\n"
"  --user           model an unprivileged caller: no CAP_SYS_RAWIO, no\n"
"                   CAP_IPC_LOCK, this process's RLIMIT_MEMLOCK\n"
"  --dma-entry-limit N        vfio_iommu_type1.dma_entry_limit (65535)\n"
"  --allow-unsafe-interrupts  vfio_iommu_type1.allow_unsafe_interrupts=1\n"
"  --log FILE|none  where the modelled kernel log goes (default: stderr,\n"
"                   each line prefixed \"[model kernel]\")\n"
"  --cmdline STR, --kernel VER, --acs-override SPEC\n"
"                   what-if options, as for 'iommu groups'\n"
"\n"
"Exit status: PROGRAM's own once it runs; before: 1 the kernel refused a\n"
"vfio-pci bind (the message says why); 2 bad command line, a --vfio address\n"
"that is not a PCI function of the platform, or a statically linked PROGRAM\n"
"(LD_PRELOAD cannot reach it); 3, 4 as for every command; 126 PROGRAM could\n"
"not be executed; 127 PROGRAM not found.\n"
"\n"
PLATFORM_HELP
"\n"
"Examples:\n"
"  iommu run --snapshot tests/captures/i-vfio --vfio 03:00.0,02:01.0 -- ./vfio-probe 5 /tmp\n"
"  iommu run --builtin intel-server --vfio 0000:01:00.0 -- ./my-vfio-driver\n"
"  iommu run --snapshot tests/captures/z-no-iommu --noiommu --vfio 01:00.0 -- ./dpdk-app\n";

enum { OPT_VFIO = 0x300, OPT_NOIOMMU, OPT_USER, OPT_ENTRY_LIMIT, OPT_UNSAFE_IRQ, OPT_LOG };

/* @a followed by @b into @out; -1 when it does not fit. */
static int join(char *out, size_t len, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + lb + 1 > len)
		return -1;
	memcpy(out, a, la);
	memcpy(out + la, b, lb + 1);
	return 0;
}

/* The preload library: $IOMMU_PRELOAD, next to this binary in the build
 * tree (tools/iommu/iommu -> tools/preload/), or the install libdir. */
static int find_preload(char *out, size_t len)
{
	const char *env = getenv("IOMMU_PRELOAD");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return join(out, len, env, "") || access(out, R_OK) ? -1 : 0;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (!join(out, len, self, "/../preload/libiommu-preload.so") && !access(out, R_OK))
				return 0;
			if (!join(out, len, self, "/../lib/libiommu-preload.so") && !access(out, R_OK))
				return 0;
		}
	}
#ifdef IOMMU_LIBDIR
	if (!join(out, len, IOMMU_LIBDIR, "/libiommu-preload.so") && !access(out, R_OK))
		return 0;
#endif
	return -1;
}

/* The program as execvp would find it. */
static int find_program(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return access(out, F_OK) ? -1 : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(out, len, "%.*s/%s", (int)n, n ? path : ".", prog);
		if (!access(out, X_OK))
			return 0;
		path += n;
		if (*path == ':')
			path++;
	}
	return -1;
}

/* 1: an ELF without a program interpreter (statically linked: the
 * dynamic loader never reads LD_PRELOAD); 0: dynamic or not ELF (a
 * script: its interpreter is dynamic); -1: unreadable. */
static int is_static_elf(const char *file)
{
	unsigned char hdr[64];
	int fd = open(file, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, hdr, sizeof(hdr));
	if (n < 52 || memcmp(hdr, ELFMAG, SELFMAG)) {
		close(fd);
		return 0;
	}
	if (hdr[EI_CLASS] == ELFCLASS64 && n >= (ssize_t)sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;

		memcpy(&eh, hdr, sizeof(eh));
		ret = 1;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP) {
				ret = 0;
				break;
			}
		}
	} else if (hdr[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		memcpy(&eh, hdr, sizeof(eh));
		ret = 1;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf32_Phdr ph;

			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint32_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP) {
				ret = 0;
				break;
			}
		}
	}
	close(fd);
	return ret;
}

static void quiet_log(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		WHATIF_LONG_OPTIONS,
		{ "vfio", required_argument, NULL, OPT_VFIO },
		{ "noiommu", no_argument, NULL, OPT_NOIOMMU },
		{ "user", no_argument, NULL, OPT_USER },
		{ "dma-entry-limit", required_argument, NULL, OPT_ENTRY_LIMIT },
		{ "allow-unsafe-interrupts", no_argument, NULL, OPT_UNSAFE_IRQ },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct platform_choice pc = { 0 };
	struct iommu_system_options so = { 0 };
	struct iommu_uapi_options uo = { 0 };
	struct iommu_platform *p = NULL;
	struct iommu_system *s = NULL;
	struct iommu_uapi *u = NULL;
	struct iommu_error err = { 0 };
	const char *vfio = NULL, *logto = NULL, *limit = NULL;
	char preload[PATH_MAX], prog[PATH_MAX], platenv[PATH_MAX + 16];
	char *ld;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		int r = platform_option(&pc, opt, optarg);

		if (r < 0)
			return usage_error("run", "choose one platform");
		if (r > 0 || whatif_option(&so, opt, optarg))
			continue;
		switch (opt) {
		case OPT_VFIO:
			vfio = optarg;
			break;
		case OPT_NOIOMMU:
			uo.noiommu = true;
			break;
		case OPT_USER:
			uo.unprivileged = true;
			break;
		case OPT_ENTRY_LIMIT: {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || v > UINT32_MAX || optarg[0] == '-')
				return usage_error("run", "--dma-entry-limit: \"%s\" is not a number", optarg);
			uo.dma_entry_limit = (unsigned)v;
			limit = optarg;
			break;
		}
		case OPT_UNSAFE_IRQ:
			uo.allow_unsafe_interrupts = true;
			break;
		case OPT_LOG:
			logto = optarg;
			break;
		case 'h':
		case OPT_HELP:
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return usage_error("run", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("run", "no program to run (iommu run [OPTIONS] -- PROGRAM [ARGS])");
	if (pc.sysfs || pc.procfs)
		return usage_error("run", "--sysfs and --procfs are not supported by run");

	/* Check the model as the program will get it. */
	ret = system_load("run", &pc, &so, false, &p, &s);
	if (ret)
		return ret;
	for (const char *v = vfio; v && *v;) {
		struct iommu_pci_addr a;
		char bdf[32];
		size_t n;

		while (*v == ',' || *v == ' ')
			v++;
		n = strcspn(v, ", ");
		if (!n)
			break;
		snprintf(bdf, sizeof(bdf), "%.*s", (int)(n < 31 ? n : 31), v);
		if (n >= sizeof(bdf) || iommu_pci_addr_parse(bdf, &a) ||
		    !iommu_platform_find_device(p, a)) {
			iommu_system_free(s);
			iommu_platform_free(p);
			return usage_error("run", "--vfio: \"%.*s\" is not a PCI function of the platform",
					   (int)n, v);
		}
		v += n;
	}
	uo.log = quiet_log;
	ret = iommu_uapi_create(s, &uo, &u, &err);
	if (!ret)
		ret = iommu_uapi_vfio_bind_list(u, vfio, &err);
	if (ret) {
		fprintf(stderr, "iommu run: %s\n", err.msg);
		iommu_uapi_destroy(u);
		iommu_system_free(s);
		iommu_platform_free(p);
		return EXIT_FAILURE_RUNTIME;
	}
	iommu_uapi_destroy(u);
	iommu_system_free(s);
	iommu_platform_free(p);

	if (find_preload(preload, sizeof(preload))) {
		fprintf(stderr, "iommu run: libiommu-preload.so not found (next to the iommu binary, "
			"in the library directory, or $IOMMU_PRELOAD)\n");
		return EXIT_FAILURE_RUNTIME;
	}
	if (find_program(argv[optind], prog, sizeof(prog))) {
		fprintf(stderr, "iommu run: %s: command not found\n", argv[optind]);
		return 127;
	}
	if (is_static_elf(prog) == 1) {
		fprintf(stderr, "iommu run: %s is statically linked: LD_PRELOAD cannot reach it; "
			"build it as a dynamic executable (without -static)\n", prog);
		return EXIT_USAGE;
	}

	/* The environment of the preload library. */
	if (pc.snapshot) {
		char abs[PATH_MAX];

		if (!realpath(pc.snapshot, abs)) {
			fprintf(stderr, "iommu run: %s: %s\n", pc.snapshot, strerror(errno));
			return EXIT_PLATFORM;
		}
		snprintf(platenv, sizeof(platenv), "snapshot:%s", abs);
	} else if (pc.host) {
		snprintf(platenv, sizeof(platenv), "host");
	} else {
		snprintf(platenv, sizeof(platenv), "builtin:%s",
			 pc.builtin ? pc.builtin : iommu_builtin_default());
	}
	setenv("IOMMU_RUN_PLATFORM", platenv, 1);
	if (so.cmdline)
		setenv("IOMMU_RUN_CMDLINE", so.cmdline, 1);
	if (so.kernel)
		setenv("IOMMU_RUN_KERNEL", so.kernel, 1);
	if (so.acs_override)
		setenv("IOMMU_RUN_ACS_OVERRIDE", so.acs_override, 1);
	if (vfio)
		setenv("IOMMU_RUN_VFIO", vfio, 1);
	if (uo.noiommu)
		setenv("IOMMU_RUN_NOIOMMU", "1", 1);
	if (uo.unprivileged)
		setenv("IOMMU_RUN_USER", "1", 1);
	if (uo.allow_unsafe_interrupts)
		setenv("IOMMU_RUN_ALLOW_UNSAFE_INTERRUPTS", "1", 1);
	if (limit)
		setenv("IOMMU_RUN_DMA_ENTRY_LIMIT", limit, 1);
	if (logto)
		setenv("IOMMU_RUN_LOG", logto, 1);
	{
		const char *old = getenv("LD_PRELOAD");
		const char *asan = "";
		size_t n;

#ifdef IOMMU_ASAN_RUNTIME
		/* A sanitizer build of the preload needs the runtime first. */
		asan = IOMMU_ASAN_RUNTIME;
#endif
		n = strlen(asan) + strlen(preload) + (old ? strlen(old) : 0) + 4;
		ld = malloc(n);
		if (!ld)
			return EXIT_FAILURE_RUNTIME;
		snprintf(ld, n, "%s%s%s%s%s", asan, *asan ? ":" : "", preload, old && *old ? ":" : "",
			 old ? old : "");
		setenv("LD_PRELOAD", ld, 1);
		free(ld);
	}
	fflush(NULL);
	execv(prog, argv + optind);
	fprintf(stderr, "iommu run: %s: %s\n", prog, strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
