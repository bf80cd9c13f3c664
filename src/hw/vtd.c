/* SPDX-License-Identifier: MIT */
/*
 * A VT-d remapping unit: configuration from CAP/ECAP, creation, reset,
 * teardown and counters.
 */
#include <stdlib.h>

#include "hw/hw_internal.h"

void iommu_vtd_config_init(struct iommu_vtd_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->cap = IOMMU_VTD_DEFAULT_CAP;
	cfg->ecap = IOMMU_VTD_DEFAULT_ECAP;
	cfg->version = 0x10;
	cfg->reg_base = IOMMU_VTD_DEFAULT_REG_BASE;
	cfg->iotlb_sets = 64;
	cfg->iotlb_ways = 8;
	cfg->context_cache_entries = 64;
	cfg->iec_entries = 64;
}

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

/* Reserved bits of second-level entries (9.8) for this unit: address
 * bits at or above HAW, SNP without ECAP.SC, TM without ECAP.DT (and in
 * non-leaf entries), PS where the level cannot be a leaf, and the low
 * address bits of a large page. */
static void sl_rsvd_init(struct iommu_vtd_unit *u)
{
	uint64_t above_haw = IOMMU_VTD_SL_ADDR & ~u->haw_mask;

	for (unsigned l = 1; l <= 5; l++) {
		uint64_t dir = above_haw | IOMMU_VTD_SL_SNP | IOMMU_VTD_SL_TM;
		uint64_t leaf = above_haw;

		if (l >= 4)
			dir |= IOMMU_VTD_SL_PS;
		if (!u->sc)
			leaf |= IOMMU_VTD_SL_SNP;
		if (!u->dt)
			leaf |= IOMMU_VTD_SL_TM;
		if (l == 2) {
			leaf |= IOMMU_VTD_SL_RSVD_2M;
			if (!(u->sllps & IOMMU_VTD_SLLPS_2M))
				leaf |= IOMMU_VTD_SL_PS;
		}
		if (l == 3) {
			leaf |= IOMMU_VTD_SL_RSVD_1G;
			if (!(u->sllps & IOMMU_VTD_SLLPS_1G))
				leaf |= IOMMU_VTD_SL_PS;
		}
		u->sl_rsvd_dir[l] = dir;
		u->sl_rsvd_leaf[l] = l <= 3 ? leaf : ~UINT64_C(0);
	}
}

int iommu_vtd_create(const struct iommu_vtd_config *cfg,
		     struct iommu_vtd_unit **out, struct iommu_error *err)
{
	struct iommu_vtd_unit *u;
	uint64_t cap, ecap;
	uint32_t end;
	int rc;

	if (!out)
		return iommu_error_set(err, -EINVAL, "vtd: no output pointer");
	*out = NULL;
	if (!cfg || !cfg->mem)
		return iommu_error_set(err, -EINVAL, "vtd: no memory in the config");
	u = calloc(1, sizeof(*u));
	if (!u)
		return iommu_error_set(err, -ENOMEM, "vtd: out of memory");
	u->cfg = *cfg;
	u->mem = cfg->mem;
	cap = cfg->cap ? cfg->cap : IOMMU_VTD_DEFAULT_CAP;
	ecap = cfg->cap ? cfg->ecap : (cfg->ecap ? cfg->ecap : IOMMU_VTD_DEFAULT_ECAP);
	if (!u->cfg.version)
		u->cfg.version = 0x10;
	u->cap = cap;
	u->ecap = ecap;

	u->sagaw = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_CAP_SAGAW, cap);
	if (!u->sagaw || (u->sagaw & ~IOMMU_VTD_SAGAW_SUPPORTED)) {
		rc = iommu_error_set(err, -EINVAL,
				     "vtd: CAP 0x%016llx: SAGAW 0x%x names no "
				     "3/4/5-level table, or a reserved one",
				     (unsigned long long)cap, u->sagaw);
		goto fail;
	}
	u->mgaw = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_CAP_MGAW, cap) + 1;
	if (u->mgaw < 30 || u->mgaw > 57) {
		rc = iommu_error_set(err, -EINVAL, "vtd: CAP MGAW %u bits out of range",
				     u->mgaw);
		goto fail;
	}
	u->haw = cfg->haw_bits ? cfg->haw_bits : (u->mgaw < 52 ? u->mgaw : 52);
	if (u->haw < 32 || u->haw > 52) {
		rc = iommu_error_set(err, -EINVAL,
				     "vtd: host address width %u not in 32..52",
				     u->haw);
		goto fail;
	}
	u->haw_mask = (UINT64_C(1) << u->haw) - 1;
	u->did_mask = (uint16_t)((UINT32_C(1) <<
				  (4 + 2 * IOMMU_FIELD_GET(IOMMU_VTD_CAP_ND, cap))) - 1);
	if (IOMMU_FIELD_GET(IOMMU_VTD_CAP_ND, cap) > 6) {
		rc = iommu_error_set(err, -EINVAL, "vtd: CAP ND 7 is reserved");
		goto fail;
	}
	u->sllps = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_CAP_SLLPS, cap);
	u->mamv = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_CAP_MAMV, cap);
	u->cm = cap & IOMMU_VTD_CAP_CM;
	u->psi = cap & IOMMU_VTD_CAP_PSI;
	u->rwbf = cap & IOMMU_VTD_CAP_RWBF;
	u->qi = ecap & IOMMU_VTD_ECAP_QI;
	u->ir = ecap & IOMMU_VTD_ECAP_IR;
	u->pt = ecap & IOMMU_VTD_ECAP_PT;
	u->dt = ecap & IOMMU_VTD_ECAP_DT;
	u->eim = ecap & IOMMU_VTD_ECAP_EIM;
	u->sc = ecap & IOMMU_VTD_ECAP_SC;
	u->fro = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_CAP_FRO, cap) * 16;
	u->nfr = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_CAP_NFR, cap) + 1;
	u->iro = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_ECAP_IRO, ecap) * 16;
	if (u->fro < 0xf0 || u->iro < 0xf0 ||
	    (u->iro < u->fro + u->nfr * IOMMU_VTD_FRCD_SIZE &&
	     u->fro < u->iro + 16)) {
		rc = iommu_error_set(err, -EINVAL,
				     "vtd: fault recording registers at 0x%x (%u) and "
				     "IOTLB registers at 0x%x overlap each other "
				     "or the architectural registers",
				     u->fro, u->nfr, u->iro);
		goto fail;
	}
	end = u->fro + u->nfr * IOMMU_VTD_FRCD_SIZE;
	if (u->iro + 16 > end)
		end = u->iro + 16;
	u->mmio_size = (end + IOMMU_MEM_PAGE_SIZE - 1) & ~(IOMMU_MEM_PAGE_SIZE - 1);
	sl_rsvd_init(u);

	u->iotlb_sets = cfg->iotlb_sets ? cfg->iotlb_sets : 64;
	u->iotlb_ways = cfg->iotlb_ways ? cfg->iotlb_ways : 8;
	if (!pow2(u->iotlb_sets) || u->iotlb_ways > 64 ||
	    u->iotlb_sets > (1u << 20)) {
		rc = iommu_error_set(err, -EINVAL,
				     "vtd: IOTLB %u sets x %u ways: sets must be a "
				     "power of two, ways at most 64",
				     u->iotlb_sets, u->iotlb_ways);
		goto fail;
	}
	u->iotlb_set_mask = u->iotlb_sets - 1;
	u->iotlb_fp_words = (u->iotlb_ways + 7) / 8;
	/* A set's header: tree bits, valid ways, fingerprints, in a
	 * multiple of 32 bytes. */
	u->iotlb_hdr_size = (unsigned)(((VTD_SET_FP + u->iotlb_fp_words) * 8 + 31) & ~31u);
	u->iotlb_ways_mask = u->iotlb_ways == 64 ? ~UINT64_C(0)
						 : (UINT64_C(1) << u->iotlb_ways) - 1;
	u->iotlb_fp_last = u->iotlb_ways % 8
		? (UINT64_C(1) << (8 * (u->iotlb_ways % 8))) - 1 : ~UINT64_C(0);
	/* The inline probe of the translation fast path: 8 ways a set, a
	 * 32-byte header and 8 x 32 bytes of entries. */
	_Static_assert(((VTD_SET_FP + 1) * 8 + 31) / 32 * 32 == 32 &&
			       8 * sizeof(struct vtd_iotlb_entry) == 8 * 32,
		       "a set of 8 ways: a 32-byte header, 8 x 32 bytes of entries");
	u->iotlb_inline = u->iotlb_ways == 8;
	u->iotlb_inline_mask_32 = u->iotlb_inline ? (uint64_t)u->iotlb_set_mask << 5 : 0;
	u->iotlb_hash_mul = VTD_IOTLB_HASH_MUL;
	u->bytes_01 = VTD_BYTES_01;
	u->bytes_80 = VTD_BYTES_80;
	for (unsigned pm = 0; pm < 4; pm++)
		u->res_perm_flags[pm] = vtd_result_flags(pm & IOMMU_VTD_SL_R,
							 pm & IOMMU_VTD_SL_W, true, 0);
	{
		unsigned n = cfg->context_cache_entries ? cfg->context_cache_entries : 64;

		if (!pow2(n) || n > 65536) {
			rc = iommu_error_set(err, -EINVAL,
					     "vtd: context cache of %u entries: not a "
					     "power of two up to 65536", n);
			goto fail;
		}
		u->cc_ways = n < 4 ? n : 4;
		u->cc_sets = n / u->cc_ways;
	}
	u->iec_entries = cfg->iec_entries ? cfg->iec_entries : 64;
	if (!pow2(u->iec_entries) || u->iec_entries > 65536) {
		rc = iommu_error_set(err, -EINVAL,
				     "vtd: interrupt entry cache of %u entries: not a "
				     "power of two up to 65536", u->iec_entries);
		goto fail;
	}
	u->iec_mask = u->iec_entries - 1;

	u->frcd = calloc((size_t)u->nfr * 2, sizeof(*u->frcd));
	if (!u->frcd) {
		rc = iommu_error_set(err, -ENOMEM, "vtd: out of memory");
		goto fail;
	}
	rc = vtd_caches_alloc(u);
	if (rc) {
		iommu_error_set(err, rc, "vtd: out of memory for the caches");
		goto fail;
	}
	vtd_regs_reset(u);
	*out = u;
	return 0;
fail:
	free(u->frcd);
	free(u);
	return rc;
}

void iommu_vtd_destroy(struct iommu_vtd_unit *u)
{
	if (!u)
		return;
	vtd_caches_free(u);
	free(u->frcd);
	free(u);
}

void iommu_vtd_reset(struct iommu_vtd_unit *u)
{
	if (!u)
		return;
	vtd_regs_reset(u);
	vtd_caches_reset(u);
	u->clock = 0;
	iommu_vtd_clear_stats(u);
}

void iommu_vtd_get_stats(const struct iommu_vtd_unit *u,
			 struct iommu_vtd_stats *stats)
{
	if (!u || !stats)
		return;
	*stats = u->st;
	/* What the fast paths counted in one word each (vtd_walk.c,
	 * vtd_ir.c): a hit is a translation, a context-cache hit and an
	 * IOTLB hit; a walk the same with an IOTLB miss and a walk. */
	for (unsigned levels = 3; levels <= 5; levels++) {
		for (unsigned leaf = 1; leaf <= 3; leaf++) {
			uint64_t n = u->fast_walks[levels][leaf];

			/* each a translation, a context-cache hit, an IOTLB
			 * miss and fill, a walk reading levels - leaf + 1
			 * entries */
			stats->translations += n;
			stats->cc_hits += n;
			stats->iotlb_misses += n;
			stats->iotlb_fills += n;
			stats->walks += n;
			stats->walk_reads += n * (levels - leaf + 1);
		}
	}
	{
		uint64_t hits = u->fast_iotlb_hits;

		if (u->iotlb_ways <= 8)
			for (unsigned set = 0; set < u->iotlb_sets; set++)
				hits += vtd_iotlb_set(u, set)[VTD_SET_PLRU] >>
					VTD_PLRU_HIT_SHIFT;
		stats->translations += hits;
		stats->cc_hits += hits;
		stats->iotlb_hits += hits;
	}
	stats->interrupts += u->fast_irq_hits;
	stats->iec_hits += u->fast_irq_hits;
}

void iommu_vtd_clear_stats(struct iommu_vtd_unit *u)
{
	if (!u)
		return;
	memset(&u->st, 0, sizeof(u->st));
	u->fast_iotlb_hits = 0;
	if (u->iotlb_ways <= 8)
		for (unsigned set = 0; set < u->iotlb_sets; set++)
			vtd_iotlb_set(u, set)[VTD_SET_PLRU] &=
				(UINT64_C(1) << VTD_PLRU_HIT_SHIFT) - 1;
	u->fast_irq_hits = 0;
	memset(u->fast_walks, 0, sizeof(u->fast_walks));
}
