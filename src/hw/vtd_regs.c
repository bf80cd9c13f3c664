/* SPDX-License-Identifier: MIT */
/*
 * The register file (VT-d chapter 10): MMIO decode, the global command
 * handshakes (10.4.4/10.4.5), root table pointer latching (10.4.6), and
 * the register-based invalidations (CCMD 10.4.7, IOTLB 10.4.8; 6.5.1).
 *
 * Commands complete synchronously: when the write returns, GSTS already
 * shows the new state, CCMD.ICC and IOTLB.IVT are clear again, so a
 * driver's "write, then poll status" loop ends on its first read.
 */
#include "hw/hw_internal.h"

void vtd_regs_reset(struct iommu_vtd_unit *u)
{
	u->gsts = 0;
	u->rtaddr = u->rta = 0;
	u->ccmd = 0;
	u->fsts = 0;
	u->fectl = (uint32_t)IOMMU_VTD_ECTL_IM;
	u->fedata = u->feaddr = u->feuaddr = 0;
	memset(u->frcd, 0, (size_t)u->nfr * 2 * sizeof(*u->frcd));
	u->aflog = 0;
	u->pmen = u->plmbase = u->plmlimit = 0;
	u->phmbase = u->phmlimit = 0;
	u->iqh = u->iqt = u->iqa = 0;
	u->ics = 0;
	u->iectl = (uint32_t)IOMMU_VTD_ECTL_IM;
	u->iedata = u->ieaddr = u->ieuaddr = 0;
	u->iqercd = 0;
	u->irtaddr = u->irta = 0;
	u->irt_entries = 2u << IOMMU_FIELD_GET(IOMMU_VTD_IRTA_S, u->irta);
	u->iva = u->iotlb_reg = 0;
	vtd_hot_clear(u);
}

/* ------------------------------------------------------------------ */
/* Register-based invalidation                                          */

static void ccmd_write(struct iommu_vtd_unit *u, uint64_t val, bool trigger)
{
	unsigned cirg;

	u->ccmd = val & ~(IOMMU_VTD_CCMD_CAIG | IOMMU_VTD_CCMD_RSVD_58_34);
	if (!trigger || !(val & IOMMU_VTD_CCMD_ICC))
		return;
	cirg = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_CCMD_CIRG, val);
	u->ccmd &= ~IOMMU_VTD_CCMD_ICC;
	/* With queued invalidation enabled, register-based invalidation is
	 * not available (6.5.2): the command is dropped (CAIG 0). */
	if ((u->gsts & IOMMU_VTD_GSTS_QIES) || cirg == 0)
		return;
	vtd_cc_invalidate(u, cirg,
			  (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_CCMD_DID, val),
			  (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_CCMD_SID, val),
			  (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_CCMD_FM, val));
	u->ccmd |= IOMMU_FIELD_PREP(IOMMU_VTD_CCMD_CAIG, cirg);
}

/*
 * IOTLB_REG: IVT starts the invalidation IIRG asks for; IAIG reports the
 * granularity performed.  A page-selective request on a unit without PSI,
 * or with IVA.AM above MAMV, is performed domain-selective (10.4.8.1).
 */
static void iotlb_write(struct iommu_vtd_unit *u, uint64_t val, bool trigger)
{
	unsigned iirg, done;
	uint16_t did;
	unsigned am;

	u->iotlb_reg = val & (IOMMU_VTD_IOTLB_DID | IOMMU_VTD_IOTLB_DW |
			      IOMMU_VTD_IOTLB_DR | IOMMU_VTD_IOTLB_IIRG |
			      IOMMU_VTD_IOTLB_IVT);
	if (!trigger || !(val & IOMMU_VTD_IOTLB_IVT))
		return;
	u->iotlb_reg &= ~IOMMU_VTD_IOTLB_IVT;
	iirg = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IOTLB_IIRG, val);
	if ((u->gsts & IOMMU_VTD_GSTS_QIES) || iirg == 0)
		return;    /* IAIG 0: not performed */
	did = (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_IOTLB_DID, val);
	am = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IVA_AM, u->iva);
	done = iirg;
	if (iirg == IOMMU_VTD_GRAN_PAGE && (!u->psi || am > u->mamv))
		done = IOMMU_VTD_GRAN_DOMAIN;
	vtd_iotlb_invalidate(u, done, did, u->iva & IOMMU_VTD_IVA_ADDR, am,
			     u->iva & IOMMU_VTD_IVA_IH);
	u->iotlb_reg |= IOMMU_FIELD_PREP(IOMMU_VTD_IOTLB_IAIG, done);
}

/* ------------------------------------------------------------------ */
/* GCMD: each write is compared with the current status; one-shot bits  */
/* (SRTP, SIRTP, WBF, SFL) act when written 1, the others (TE, QIE, IRE, */
/* CFI) move the status to the value written.                           */

static void gcmd_write(struct iommu_vtd_unit *u, uint32_t val)
{
	uint32_t g = u->gsts;

	if (val & IOMMU_VTD_GCMD_SRTP) {
		/* Latch the root table; legacy mode only (TTM 00b). */
		u->rta = u->rtaddr & IOMMU_VTD_RTADDR_RTA;
		g |= (uint32_t)IOMMU_VTD_GSTS_RTPS;
	}
	if ((val & IOMMU_VTD_GCMD_WBF) && u->rwbf) {
		/* Write buffer flush: completes at once (WBFS back to 0). */
	}
	if (((val ^ g) & IOMMU_VTD_GCMD_TE))
		g ^= (uint32_t)IOMMU_VTD_GSTS_TES;
	if (((val ^ g) & IOMMU_VTD_GCMD_QIE) && u->qi) {
		g ^= (uint32_t)IOMMU_VTD_GSTS_QIES;
		u->gsts = g;
		vtd_qi_enable(u, g & IOMMU_VTD_GSTS_QIES);
		g = u->gsts;
	}
	if (u->ir) {
		if (val & IOMMU_VTD_GCMD_SIRTP) {
			bool eime_changed = (u->irta ^ u->irtaddr) & IOMMU_VTD_IRTA_EIME;

			u->irta = u->irtaddr;
			u->irt_entries = 2u << IOMMU_FIELD_GET(IOMMU_VTD_IRTA_S, u->irta);
			/* Cached IRTEs stay until invalidated; the mode they
			 * are read in is the new one. */
			if (eime_changed)
				vtd_iec_redecode(u);
			g |= (uint32_t)IOMMU_VTD_GSTS_IRTPS;
		}
		if ((val ^ g) & IOMMU_VTD_GCMD_IRE)
			g ^= (uint32_t)IOMMU_VTD_GSTS_IRES;
		if ((val ^ g) & IOMMU_VTD_GCMD_CFI)
			g ^= (uint32_t)IOMMU_VTD_GSTS_CFIS;
	}
	u->gsts = g;
	/* The translation fast path assumes TES: any GCMD write makes it
	 * start again from a context-cache lookup. */
	vtd_hot_clear(u);
}

/* ------------------------------------------------------------------ */
/* Decode                                                               */

static bool is_frcd(const struct iommu_vtd_unit *u, uint32_t off)
{
	return off >= u->fro && off < u->fro + u->nfr * IOMMU_VTD_FRCD_SIZE;
}

/* Offsets (8-byte aligned) of the 64-bit registers. */
static bool is_reg64(const struct iommu_vtd_unit *u, uint32_t off)
{
	if (is_frcd(u, off) || off == u->iro || off == u->iro + 8)
		return true;
	switch (off) {
	case IOMMU_VTD_REG_CAP:
	case IOMMU_VTD_REG_ECAP:
	case IOMMU_VTD_REG_RTADDR:
	case IOMMU_VTD_REG_CCMD:
	case IOMMU_VTD_REG_AFLOG:
	case IOMMU_VTD_REG_PHMBASE:
	case IOMMU_VTD_REG_PHMLIMIT:
	case IOMMU_VTD_REG_IQH:
	case IOMMU_VTD_REG_IQT:
	case IOMMU_VTD_REG_IQA:
	case IOMMU_VTD_REG_IQERCD:
	case IOMMU_VTD_REG_IRTA:
		return true;
	default:
		return false;
	}
}

static uint64_t reg64_read(struct iommu_vtd_unit *u, uint32_t off)
{
	if (is_frcd(u, off)) {
		uint32_t rel = off - u->fro;

		return u->frcd[2 * (rel / IOMMU_VTD_FRCD_SIZE) +
			       (rel % IOMMU_VTD_FRCD_SIZE) / 8];
	}
	if (off == u->iro)
		return u->iva;
	if (off == u->iro + 8)
		return u->iotlb_reg;
	switch (off) {
	case IOMMU_VTD_REG_CAP:
		return u->cap;
	case IOMMU_VTD_REG_ECAP:
		return u->ecap;
	case IOMMU_VTD_REG_RTADDR:
		return u->rtaddr;
	case IOMMU_VTD_REG_CCMD:
		return u->ccmd;
	case IOMMU_VTD_REG_AFLOG:
		return u->aflog;
	case IOMMU_VTD_REG_PHMBASE:
		return u->phmbase;
	case IOMMU_VTD_REG_PHMLIMIT:
		return u->phmlimit;
	case IOMMU_VTD_REG_IQH:
		return u->qi ? u->iqh : 0;
	case IOMMU_VTD_REG_IQT:
		return u->qi ? u->iqt : 0;
	case IOMMU_VTD_REG_IQA:
		return u->qi ? u->iqa : 0;
	case IOMMU_VTD_REG_IQERCD:
		return u->qi ? u->iqercd : 0;
	case IOMMU_VTD_REG_IRTA:
		return u->ir ? u->irtaddr : 0;
	default:
		return 0;
	}
}

/* @trig_lo / @trig_hi: which halves were written in this access. */
static void reg64_write(struct iommu_vtd_unit *u, uint32_t off, uint64_t val,
			bool wrote_lo, bool wrote_hi)
{
	if (is_frcd(u, off)) {
		uint32_t rel = off - u->fro;

		vtd_frcd_write(u, rel / IOMMU_VTD_FRCD_SIZE,
			       (rel % IOMMU_VTD_FRCD_SIZE) / 8,
			       wrote_hi ? val : 0);
		return;
	}
	if (off == u->iro) {
		u->iva = val & (IOMMU_VTD_IVA_ADDR | IOMMU_VTD_IVA_IH |
				IOMMU_VTD_IVA_AM);
		return;
	}
	if (off == u->iro + 8) {
		iotlb_write(u, val, wrote_hi);
		return;
	}
	switch (off) {
	case IOMMU_VTD_REG_RTADDR:
		/* TTM other than legacy needs ECAP.SMTS: kept at 00b. */
		u->rtaddr = val & IOMMU_VTD_RTADDR_RTA & u->haw_mask;
		break;
	case IOMMU_VTD_REG_CCMD:
		ccmd_write(u, val, wrote_hi);
		break;
	case IOMMU_VTD_REG_PHMBASE:
		if (u->cap & IOMMU_VTD_CAP_PHMR)
			u->phmbase = val;
		break;
	case IOMMU_VTD_REG_PHMLIMIT:
		if (u->cap & IOMMU_VTD_CAP_PHMR)
			u->phmlimit = val;
		break;
	case IOMMU_VTD_REG_IQT:
		if (u->qi && wrote_lo)
			vtd_iqt_write(u, val);
		break;
	case IOMMU_VTD_REG_IQA:
		if (u->qi)
			vtd_iqa_write(u, val);
		break;
	case IOMMU_VTD_REG_IRTA:
		if (u->ir) {
			val &= IOMMU_VTD_IRTA_IRTA | IOMMU_VTD_IRTA_S |
			       (u->eim ? IOMMU_VTD_IRTA_EIME : 0);
			u->irtaddr = val & (u->haw_mask | ~IOMMU_VTD_IRTA_IRTA);
		}
		break;
	default:        /* read-only or reserved */
		break;
	}
}

static uint32_t reg32_read(struct iommu_vtd_unit *u, uint32_t off)
{
	switch (off) {
	case IOMMU_VTD_REG_VER:
		return u->cfg.version;
	case IOMMU_VTD_REG_GCMD:
		return 0;       /* write-only */
	case IOMMU_VTD_REG_GSTS:
		return u->gsts;
	case IOMMU_VTD_REG_FSTS:
		return vtd_fsts_read(u);
	case IOMMU_VTD_REG_FECTL:
		return u->fectl;
	case IOMMU_VTD_REG_FEDATA:
		return u->fedata;
	case IOMMU_VTD_REG_FEADDR:
		return u->feaddr;
	case IOMMU_VTD_REG_FEUADDR:
		return u->feuaddr;
	case IOMMU_VTD_REG_PMEN:
		return u->pmen;
	case IOMMU_VTD_REG_PLMBASE:
		return u->plmbase;
	case IOMMU_VTD_REG_PLMLIMIT:
		return u->plmlimit;
	case IOMMU_VTD_REG_ICS:
		return u->qi ? u->ics : 0;
	case IOMMU_VTD_REG_IECTL:
		return u->qi ? u->iectl : 0;
	case IOMMU_VTD_REG_IEDATA:
		return u->qi ? u->iedata : 0;
	case IOMMU_VTD_REG_IEADDR:
		return u->qi ? u->ieaddr : 0;
	case IOMMU_VTD_REG_IEUADDR:
		return u->qi ? u->ieuaddr : 0;
	default:
		return 0;
	}
}

static void reg32_write(struct iommu_vtd_unit *u, uint32_t off, uint32_t val)
{
	switch (off) {
	case IOMMU_VTD_REG_GCMD:
		gcmd_write(u, val);
		break;
	case IOMMU_VTD_REG_FSTS:
		vtd_fsts_write(u, val);
		break;
	case IOMMU_VTD_REG_FECTL:
		vtd_fectl_write(u, val);
		break;
	case IOMMU_VTD_REG_FEDATA:
		u->fedata = val & (uint32_t)IOMMU_VTD_EDATA_IMD;
		break;
	case IOMMU_VTD_REG_FEADDR:
		u->feaddr = val & (uint32_t)IOMMU_VTD_EADDR_MA;
		break;
	case IOMMU_VTD_REG_FEUADDR:
		u->feuaddr = val;
		break;
	case IOMMU_VTD_REG_PMEN:
		/* Protected memory regions are not modelled: PRS follows
		 * EPM when the unit advertises PLMR or PHMR. */
		if (u->cap & (IOMMU_VTD_CAP_PLMR | IOMMU_VTD_CAP_PHMR))
			u->pmen = (val & (uint32_t)IOMMU_VTD_PMEN_EPM) |
				  ((val & IOMMU_VTD_PMEN_EPM) ?
					   (uint32_t)IOMMU_VTD_PMEN_PRS : 0);
		break;
	case IOMMU_VTD_REG_PLMBASE:
		if (u->cap & IOMMU_VTD_CAP_PLMR)
			u->plmbase = val;
		break;
	case IOMMU_VTD_REG_PLMLIMIT:
		if (u->cap & IOMMU_VTD_CAP_PLMR)
			u->plmlimit = val;
		break;
	case IOMMU_VTD_REG_ICS:
		if (u->qi)
			vtd_ics_write(u, val);
		break;
	case IOMMU_VTD_REG_IECTL:
		if (u->qi)
			vtd_iectl_write(u, val);
		break;
	case IOMMU_VTD_REG_IEDATA:
		if (u->qi)
			u->iedata = val & (uint32_t)IOMMU_VTD_EDATA_IMD;
		break;
	case IOMMU_VTD_REG_IEADDR:
		if (u->qi)
			u->ieaddr = val & (uint32_t)IOMMU_VTD_EADDR_MA;
		break;
	case IOMMU_VTD_REG_IEUADDR:
		if (u->qi)
			u->ieuaddr = val;
		break;
	default:        /* VER, GSTS: read-only; others reserved */
		break;
	}
}

static int check_access(const struct iommu_vtd_unit *u, uint32_t off,
			unsigned size)
{
	if (!u || (size != 4 && size != 8) || (off & (size - 1)) ||
	    off >= u->mmio_size || size > u->mmio_size - off)
		return -EINVAL;
	return 0;
}

int iommu_vtd_mmio_read(struct iommu_vtd_unit *u, uint32_t off,
			unsigned size, uint64_t *val)
{
	uint32_t base = off & ~7u;
	uint64_t v;
	int rc = check_access(u, off, size);

	if (rc)
		return rc;
	if (!val)
		return -EINVAL;
	if (is_reg64(u, base)) {
		v = reg64_read(u, base);
		if (size == 4)
			v = (off & 4) ? v >> 32 : (uint32_t)v;
	} else if (size == 8) {
		v = reg32_read(u, off) | ((uint64_t)reg32_read(u, off + 4) << 32);
	} else {
		v = reg32_read(u, off);
	}
	*val = v;
	return 0;
}

int iommu_vtd_mmio_write(struct iommu_vtd_unit *u, uint32_t off,
			 unsigned size, uint64_t val)
{
	uint32_t base = off & ~7u;
	int rc = check_access(u, off, size);

	if (rc)
		return rc;
	if (is_reg64(u, base)) {
		if (size == 8) {
			reg64_write(u, base, val, true, true);
		} else {
			/* Merge the half into the register as software
			 * last wrote it. */
			uint64_t cur = reg64_read(u, base);

			if (off & 4)
				reg64_write(u, base,
					    (cur & 0xffffffffu) | (val << 32),
					    false, true);
			else
				reg64_write(u, base,
					    (cur & ~UINT64_C(0xffffffff)) |
						    (uint32_t)val,
					    true, false);
		}
	} else if (size == 8) {
		reg32_write(u, off, (uint32_t)val);
		reg32_write(u, off + 4, (uint32_t)(val >> 32));
	} else {
		reg32_write(u, off, (uint32_t)val);
	}
	return 0;
}

uint32_t iommu_vtd_mmio_size(const struct iommu_vtd_unit *u)
{
	return u ? u->mmio_size : 0;
}
