/* SPDX-License-Identifier: MIT */
/*
 * What every iommu-bench case shares: a clock, and the one-line JSON
 * report the issues ask for:
 *
 *   {"case": "...", "ns_per_op": N, "floor_ns": N, "ratio": N, "target": N, ...}
 *
 * floor_ns is a floor or a peer measured in the same run; ratio is
 * ns_per_op / floor_ns; target is the ratio to stay at or under (or, for
 * cases whose target is absolute, the ns to stay at or under: then
 * "target_unit" is "ns").  "met" says whether it was.  A human line
 * follows each JSON line as a comment ("# ...").
 *
 * Cases of later layers live in their own files (cases_*.c) and are run
 * from main() through the hooks at the end of this header.
 */
#ifndef IOMMU_BENCH_COMMON_H
#define IOMMU_BENCH_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One JSON line for a case measured against a same-run floor or peer.
 * @target_is_ns: the target bounds ns_per_op itself, not the ratio.
 * @note: printf-style comment printed on the next line after "# " (may be
 * NULL).  Returns whether the target was met. */
static inline bool bench_report(const char *case_name, double ns_per_op, double floor_ns,
				double target, bool target_is_ns, const char *note, ...)
	__attribute__((format(printf, 6, 7)));
static inline bool bench_report(const char *case_name, double ns_per_op, double floor_ns,
				double target, bool target_is_ns, const char *note, ...)
{
	double ratio = floor_ns > 0 ? ns_per_op / floor_ns : 0;
	bool met = target_is_ns ? ns_per_op <= target : ratio <= target;
	va_list ap;

	printf("{\"case\": \"%s\", \"ns_per_op\": %.3f, \"floor_ns\": %.3f, \"ratio\": %.3f, "
	       "\"target\": %g%s, \"met\": %s}\n",
	       case_name, ns_per_op, floor_ns, ratio, target,
	       target_is_ns ? ", \"target_unit\": \"ns\"" : "", met ? "true" : "false");
	if (note) {
		fputs("# ", stdout);
		va_start(ap, note);
		vprintf(note, ap);
		va_end(ap);
		fputc('\n', stdout);
	}
	fflush(stdout);
	return met;
}

/* Hooks: each cases_*.c file defines one; main() calls those linked in. */
void bench_cases_iova(void) __attribute__((weak));
void bench_cases_dma(void) __attribute__((weak));
void bench_cases_vfio(void) __attribute__((weak));

static inline void bench_run_later_layers(void)
{
	if (bench_cases_iova)
		bench_cases_iova();
	if (bench_cases_dma)
		bench_cases_dma();
	if (bench_cases_vfio)
		bench_cases_vfio();
}

#endif /* IOMMU_BENCH_COMMON_H */
