// SPDX-License-Identifier: MIT
/*
 * How long loading a platform takes, against a floor measured in the same
 * run on the same files:
 *   snapshot load   vs  open/read/close of exactly the files it reads
 *   built-in load   vs  copying the same bytes (the floor of any loader
 *                       that keeps its own copy)
 * Prints the times and the ratio to the floor; asserts nothing.
 *
 *   bench_platform [SNAPSHOT_DIR] [ITERATIONS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iommu/platform.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	int iters = argc > 2 ? atoi(argv[2]) : 200;
	struct iommu_platform *p;
	struct iommu_error err;
	double t0, t_load, t_floor;
	char path[4096];
	static uint8_t buf[1 << 20];

	if (iters <= 0)
		iters = 200;
	if (iommu_platform_load_builtin(iommu_builtin_default(), &p, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	size_t nf = iommu_platform_num_files(p);
	size_t bytes = 0;

	for (size_t i = 0; i < nf; i++) {
		const uint8_t *d;
		size_t l;

		iommu_platform_file(p, iommu_platform_file_path(p, i), &d, &l);
		bytes += l;
	}

	/* built-in: parse from memory vs copy the bytes */
	t0 = now();
	for (int it = 0; it < iters; it++) {
		struct iommu_platform *q;

		if (iommu_platform_load_builtin(iommu_builtin_default(), &q, &err))
			return 1;
		sink += iommu_platform_num_devices(q);
		iommu_platform_free(q);
	}
	t_load = (now() - t0) / iters;
	t0 = now();
	for (int it = 0; it < iters; it++) {
		for (size_t i = 0; i < nf; i++) {
			const uint8_t *d;
			size_t l;
			uint8_t *copy;

			iommu_platform_file(p, iommu_platform_file_path(p, i), &d, &l);
			copy = malloc(l ? l : 1);
			memcpy(copy, d, l);
			sink += copy[0];
			free(copy);
		}
	}
	t_floor = (now() - t0) / iters;
	printf("builtin load (%zu files, %zu bytes, %zu devices): %.1f us; floor (copy the bytes): %.1f us; ratio %.1fx\n",
	       nf, bytes, iommu_platform_num_devices(p), t_load * 1e6, t_floor * 1e6, t_load / t_floor);

	if (dir) {
		struct iommu_platform *s;

		if (iommu_platform_load_snapshot(dir, &s, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
		nf = iommu_platform_num_files(s);
		t0 = now();
		for (int it = 0; it < iters; it++) {
			struct iommu_platform *q;

			if (iommu_platform_load_snapshot(dir, &q, &err))
				return 1;
			sink += iommu_platform_num_devices(q);
			iommu_platform_free(q);
		}
		t_load = (now() - t0) / iters;
		t0 = now();
		for (int it = 0; it < iters; it++) {
			for (size_t i = 0; i < nf; i++) {
				int fd;
				ssize_t n;

				snprintf(path, sizeof(path), "%s/%s", dir, iommu_platform_file_path(s, i));
				fd = open(path, O_RDONLY);
				if (fd < 0)
					return 1;
				while ((n = read(fd, buf, sizeof(buf))) > 0)
					sink += (size_t)n;
				close(fd);
			}
		}
		t_floor = (now() - t0) / iters;
		printf("snapshot load (%zu files): %.1f us; floor (open+read+close the same files): %.1f us; ratio %.2fx\n",
		       nf, t_load * 1e6, t_floor * 1e6, t_load / t_floor);
		iommu_platform_free(s);
	}
	iommu_platform_free(p);
	return 0;
}
