/* SPDX-License-Identifier: MIT */
/*
 * What the DMA API tests share: a started system on a built-in platform
 * or a capture, with its DMA context, and the devices by address.
 * Header-only (each test is one executable).
 */
#ifndef IOMMU_TEST_DMA_FIXTURE_H
#define IOMMU_TEST_DMA_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "iommu/core.h"
#include "iommu/dma.h"
#include "iommu/hw.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define PG UINT64_C(4096)

/* Modelled memory of the tests: 8 GiB (the coherent pool sits at
 * 256 MiB, the VT-d tables in the top eighth). */
#define FX_MEM (8 * GiB)

struct fx {
	struct iommu_platform *p;
	struct iommu_system *s;
	struct iommu_dma *dma;
};

/* @source: a built-in name, or "capture:NAME" for tests/captures/NAME.
 * @cmdline: NULL for the platform's.  @cfg: NULL for the defaults. */
static inline void fx_start_cfg(struct fx *f, const char *source, const char *cmdline,
				const struct iommu_dma_config *cfg)
{
	struct iommu_system_options o = { 0 };
	struct iommu_error err = { 0 };
	int ret;

	memset(f, 0, sizeof(*f));
	if (!strncmp(source, "capture:", 8)) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", captures_dir(), source + 8);
		ret = iommu_platform_load_snapshot(path, &f->p, &err);
	} else {
		ret = iommu_platform_load_builtin(source, &f->p, &err);
	}
	if (ret) {
		fprintf(stderr, "load %s: %s\n", source, err.msg);
		abort();
	}
	o.cmdline = cmdline;
	if (iommu_system_build(f->p, &o, &f->s, &err) ||
	    iommu_system_start(f->s, FX_MEM, &err) ||
	    iommu_dma_create(f->s, cfg, &f->dma, &err)) {
		fprintf(stderr, "start %s: %s\n", source, err.msg);
		abort();
	}
}

static inline void fx_start(struct fx *f, const char *source, const char *cmdline)
{
	fx_start_cfg(f, source, cmdline, NULL);
}

static inline void fx_stop(struct fx *f)
{
	iommu_dma_destroy(f->dma);
	iommu_system_free(f->s);
	iommu_platform_free(f->p);
	memset(f, 0, sizeof(*f));
}

static inline struct iommu_dma_device *fx_dev(struct fx *f, const char *bdf)
{
	struct iommu_pci_addr a;
	struct iommu_pci_dev *pd;
	struct iommu_dma_device *d = NULL;

	if (iommu_pci_addr_parse(bdf, &a) || !(pd = iommu_platform_find_device(f->p, a)) ||
	    iommu_dma_device_get(f->dma, pd, &d)) {
		fprintf(stderr, "no device %s\n", bdf);
		abort();
	}
	return d;
}

/* Drop the messages the DMA layer logged; returns how many contained
 * @needle (NULL: all). */
static inline size_t fx_log_count(struct fx *f, const char *needle)
{
	size_t n, hits = 0;
	char **v = iommu_dma_take_log(f->dma, &n);

	for (size_t i = 0; i < n; i++) {
		if (!needle || strstr(v[i], needle))
			hits++;
		free(v[i]);
	}
	free(v);
	return hits;
}

/* The sum of the VT-d drivers' IOTLB invalidations by kind. */
struct fx_inv {
	uint64_t page, domain, global;
};

static inline struct fx_inv fx_vtd_inv(struct fx *f)
{
	struct fx_inv r = { 0 };

	for (size_t u = 0; u < f->s->n_units; u++) {
		struct iommu_intel *drv = iommu_system_intel(f->s, (int)u);
		struct iommu_intel_stats st;

		if (!drv)
			continue;
		iommu_intel_get_stats(drv, &st);
		r.page += st.iotlb_page;
		r.domain += st.iotlb_domain;
		r.global += st.iotlb_global;
	}
	return r;
}

#endif
