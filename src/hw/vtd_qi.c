/* SPDX-License-Identifier: MIT */
/*
 * Queued invalidation (VT-d 6.5.2): the invalidation queue at IQA_REG,
 * 2^QS pages of 128-bit descriptors, fetched by hardware from IQH up to
 * IQT as soon as software moves the tail.  The model executes the whole
 * batch inside the IQT write, in order: context-cache, IOTLB, device-TLB
 * (a no-op: no device TLB is modelled), interrupt entry cache and wait
 * descriptors.  An invalid descriptor stops the queue with IQH on it and
 * FSTS.IQE set (IQERCD.IQEI says why); clearing IQE resumes it.
 */
#include "hw/hw_internal.h"

static uint32_t qi_entries(const struct iommu_vtd_unit *u)
{
	return 256u << IOMMU_FIELD_GET(IOMMU_VTD_IQA_QS, u->iqa);
}

static void qi_error(struct iommu_vtd_unit *u, unsigned iqei)
{
	u->iqercd = (u->iqercd & ~IOMMU_VTD_IQERCD_IQEI) |
		    IOMMU_FIELD_PREP(IOMMU_VTD_IQERCD_IQEI, iqei);
	u->fsts |= (uint32_t)IOMMU_VTD_FSTS_IQE;
	u->st.qi_errors++;
	vtd_fault_event(u);
}

/* One descriptor: 0, or the IQEI code that stops the queue. */
static unsigned qi_exec(struct iommu_vtd_unit *u, uint64_t lo, uint64_t hi)
{
	unsigned type = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_INV_TYPE, lo);
	unsigned g;

	switch (type) {
	case IOMMU_VTD_INV_CC:
		g = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_INV_CC_LO_G, lo);
		if ((lo & IOMMU_VTD_INV_CC_LO_RSVD) || hi || g == 0)
			return IOMMU_VTD_IQEI_RSVD;
		vtd_cc_invalidate(u, g,
				  (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_INV_CC_LO_DID, lo),
				  (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_INV_CC_LO_SID, lo),
				  (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_INV_CC_LO_FM, lo));
		return 0;
	case IOMMU_VTD_INV_IOTLB: {
		unsigned am = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_INV_IOTLB_HI_AM, hi);

		g = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_INV_IOTLB_LO_G, lo);
		if ((lo & IOMMU_VTD_INV_IOTLB_LO_RSVD) || g == 0 ||
		    (hi & IOMMU_VTD_INV_IOTLB_HI_RSVD_11_7))
			return IOMMU_VTD_IQEI_RSVD;
		if (g == IOMMU_VTD_GRAN_PAGE && (!u->psi || am > u->mamv))
			return IOMMU_VTD_IQEI_RSVD;
		vtd_iotlb_invalidate(u, g,
				     (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_INV_IOTLB_LO_DID, lo),
				     hi & IOMMU_VTD_INV_IOTLB_HI_ADDR, am,
				     hi & IOMMU_VTD_INV_IOTLB_HI_IH);
		return 0;
	}
	case IOMMU_VTD_INV_DEVTLB:
		return u->dt ? 0 : IOMMU_VTD_IQEI_TYPE;
	case IOMMU_VTD_INV_IEC:
		if (!u->ir)
			return IOMMU_VTD_IQEI_TYPE;
		if ((lo & IOMMU_VTD_INV_IEC_LO_RSVD) || hi)
			return IOMMU_VTD_IQEI_RSVD;
		vtd_iec_invalidate(u, !(lo & IOMMU_VTD_INV_IEC_LO_G),
				   (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_INV_IEC_LO_IIDX, lo),
				   (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_INV_IEC_LO_IM, lo));
		return 0;
	case IOMMU_VTD_INV_WAIT:
		if ((lo & IOMMU_VTD_INV_WAIT_LO_RSVD) ||
		    (hi & IOMMU_VTD_INV_WAIT_HI_RSVD_1_0))
			return IOMMU_VTD_IQEI_RSVD;
		if (lo & IOMMU_VTD_INV_WAIT_LO_SW) {
			/* Status write: a 32-bit write to memory, not through
			 * the remapping tables.  An address outside memory is
			 * lost as the bus would lose it. */
			(void)iommu_mem_write32(
				u->mem, hi & IOMMU_VTD_INV_WAIT_HI_SADDR,
				(uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_INV_WAIT_LO_SDATA, lo));
		}
		if (lo & IOMMU_VTD_INV_WAIT_LO_IF)
			vtd_inv_event(u);
		return 0;
	default:
		return IOMMU_VTD_IQEI_TYPE;
	}
}

void vtd_qi_run(struct iommu_vtd_unit *u)
{
	uint32_t n, head, tail;

	if (!(u->gsts & IOMMU_VTD_GSTS_QIES) || (u->fsts & IOMMU_VTD_FSTS_IQE))
		return;
	n = qi_entries(u);
	head = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_IQ_QPTR, u->iqh);
	tail = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_IQ_QPTR, u->iqt);
	if (tail >= n) {
		qi_error(u, IOMMU_VTD_IQEI_TAIL);
		return;
	}
	/* The loop ends: head moves one entry per step towards tail < n. */
	while (head != tail) {
		uint64_t base = u->iqa & IOMMU_VTD_IQA_IQA;
		uint64_t lo, hi;
		unsigned err;

		if (head >= n)
			head = 0;
		if (iommu_mem__rd128(u->mem, base + (uint64_t)head * 16, &lo,
				     &hi)) {
			err = IOMMU_VTD_IQEI_FETCH;
		} else {
			err = qi_exec(u, lo, hi);
		}
		if (err) {
			u->iqh = IOMMU_FIELD_PREP(IOMMU_VTD_IQ_QPTR, head);
			qi_error(u, err);
			return;
		}
		u->st.qi_descriptors++;
		head = (head + 1) % n;
		u->iqh = IOMMU_FIELD_PREP(IOMMU_VTD_IQ_QPTR, head);
	}
}

void vtd_iqt_write(struct iommu_vtd_unit *u, uint64_t val)
{
	u->iqt = val & IOMMU_VTD_IQ_QPTR;
	vtd_qi_run(u);
}

void vtd_iqa_write(struct iommu_vtd_unit *u, uint64_t val)
{
	/* 256-bit descriptors (DW) need scalable mode: DW stays 0. */
	u->iqa = val & (IOMMU_VTD_IQA_IQA | IOMMU_VTD_IQA_QS) &
		 (u->haw_mask | ~IOMMU_VTD_IQA_IQA);
}

void vtd_qi_enable(struct iommu_vtd_unit *u, bool on)
{
	/* IQH is reset whenever queued invalidation is disabled (10.4.22). */
	if (!on) {
		u->iqh = 0;
		return;
	}
	vtd_qi_run(u);
}
