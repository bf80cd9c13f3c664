/* SPDX-License-Identifier: MIT */
/*
 * Interrupt remapping (VT-d chapter 5): interrupt requests in the
 * compatibility or remappable format (5.1.2), the interrupt remapping
 * table at IRTA latched by SIRTP (10.4.30), IRTE checks and source-id
 * verification (5.1.4, 9.10), and the interrupt-remapping fault reasons
 * 20h-26h.  Checked IRTEs are kept in the interrupt entry cache until an
 * IEC invalidation descriptor removes them.
 */
#include "hw/hw_internal.h"

static int ir_fault(struct iommu_vtd_unit *u, const struct iommu_vtd_msi *msi,
		    struct iommu_vtd_irq *irq, unsigned fr, bool fpd)
{
	irq->fault_reason = (uint8_t)fr;
	u->st.faults++;
	/* FI[63:48] holds the interrupt_index; interrupt requests are
	 * writes (T = 0). */
	if (!fpd)
		irq->fault_recorded = vtd_fault_record(
			u, msi->source_id, fr,
			IOMMU_FIELD_PREP(IOMMU_VTD_FRCD_LO_FI_IRIDX, irq->index),
			false, 0);
	return -EFAULT;
}

/* Reserved bits of a present IRTE in the current mode. */
static bool irte_reserved(const struct iommu_vtd_unit *u, uint64_t lo,
			  uint64_t hi)
{
	unsigned dlm = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DLM, lo);
	unsigned svt = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SVT, hi);

	if (lo & (IOMMU_VTD_IRTE_LO_RSVD_14_12 | IOMMU_VTD_IRTE_LO_RSVD_31_24))
		return true;
	/* IM = 1 is a posted-interrupt entry, reserved without CAP.PI. */
	if ((lo & IOMMU_VTD_IRTE_LO_IM) && !(u->cap & IOMMU_VTD_CAP_PI))
		return true;
	if (!(u->irta & IOMMU_VTD_IRTA_EIME) &&
	    (lo & IOMMU_VTD_IRTE_LO_DST_XAPIC_RSVD))
		return true;
	if (hi & IOMMU_VTD_IRTE_HI_RSVD_63_20)
		return true;
	/* Delivery modes 011b and 110b are reserved; SVT 11b is reserved. */
	if (dlm == 3 || dlm == 6 || svt == 3)
		return true;
	return false;
}

/* 5.1.4 / 9.10: SVT 01b compares SID under the SQ mask, 10b checks the
 * requester's bus against the range SID[15:8]..SID[7:0]. */
static bool sid_ok(uint64_t hi, uint16_t rid)
{
	static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	unsigned svt = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SVT, hi);
	uint16_t sid = (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SID, hi);
	unsigned sq = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SQ, hi);

	switch (svt) {
	case IOMMU_VTD_SVT_NONE:
		return true;
	case IOMMU_VTD_SVT_SID_SQ:
		return (sid & sq_mask[sq]) == (rid & sq_mask[sq]);
	case IOMMU_VTD_SVT_BUS_RANGE: {
		unsigned bus = rid >> 8;

		return bus >= (unsigned)(sid >> 8) && bus <= (sid & 0xffu);
	}
	default:
		return false;
	}
}

static void decode_irte(const struct iommu_vtd_unit *u, uint64_t lo,
			struct iommu_vtd_irq *irq)
{
	irq->remapped = true;
	irq->vector = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_V, lo);
	irq->dest_logical = lo & IOMMU_VTD_IRTE_LO_DM;
	irq->redir_hint = lo & IOMMU_VTD_IRTE_LO_RH;
	irq->level = lo & IOMMU_VTD_IRTE_LO_TM;
	irq->delivery_mode = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DLM, lo);
	if (u->irta & IOMMU_VTD_IRTA_EIME)
		irq->dest_id = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DST, lo);
	else
		irq->dest_id = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DST_XAPIC, lo);
}

static void decode_compat(const struct iommu_vtd_msi *msi,
			  struct iommu_vtd_irq *irq)
{
	uint32_t a = (uint32_t)msi->addr;

	irq->remapped = false;
	irq->vector = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_DATA_VECTOR, msi->data);
	irq->delivery_mode = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_DATA_DLM, msi->data);
	irq->level = msi->data & IOMMU_VTD_MSI_DATA_TM;
	irq->dest_id = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_ADDR_DEST, a);
	irq->dest_logical = a & IOMMU_VTD_MSI_ADDR_DM;
	irq->redir_hint = a & IOMMU_VTD_MSI_ADDR_RH;
}

int iommu_vtd_interrupt(struct iommu_vtd_unit *u,
			const struct iommu_vtd_msi *msi,
			struct iommu_vtd_irq *irq)
{
	uint32_t a;
	uint32_t index, entries;
	const struct vtd_iec_data *e;
	uint64_t lo, hi;

	if (!u || !msi || !irq)
		return -EINVAL;
	memset(irq, 0, sizeof(*irq));
	a = (uint32_t)msi->addr;
	if ((msi->addr >> 32) ||
	    IOMMU_FIELD_GET(IOMMU_VTD_MSI_ADDR_HEAD, a) != IOMMU_VTD_MSI_HEAD_VALUE)
		return -EINVAL;
	u->st.interrupts++;

	if (!(u->gsts & IOMMU_VTD_GSTS_IRES)) {
		/* Remapping off: every request is delivered as is. */
		decode_compat(msi, irq);
		return 0;
	}
	if (!(a & IOMMU_VTD_MSI_ADDR_FMT)) {
		/* Compatibility format (5.1.2.1): blocked in x2APIC mode or
		 * when CFIS is clear. */
		if ((u->irta & IOMMU_VTD_IRTA_EIME) ||
		    !(u->gsts & IOMMU_VTD_GSTS_CFIS))
			return ir_fault(u, msi, irq,
					IOMMU_VTD_FR_IR_COMPAT_BLOCKED, false);
		decode_compat(msi, irq);
		return 0;
	}

	/* Remappable format (5.1.2.2). */
	index = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_ADDR_HANDLE, a) |
		((a & IOMMU_VTD_MSI_ADDR_HANDLE15) ? 0x8000u : 0);
	if (a & IOMMU_VTD_MSI_ADDR_SHV) {
		if (msi->data & IOMMU_VTD_MSI_DATA_RSVD_31_16) {
			irq->index = (uint16_t)index;
			return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_REQ_RSVD,
					false);
		}
		index += (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_DATA_SUBHANDLE,
						   msi->data);
	}
	irq->index = (uint16_t)index;
	entries = 2u << IOMMU_FIELD_GET(IOMMU_VTD_IRTA_S, u->irta);
	if (index >= entries || index > 0xffff)
		return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_INDEX, false);

	e = vtd_iec_lookup(u, (uint16_t)index);
	if (e) {
		irq->iec_hit = true;
		lo = e->lo;
		hi = e->hi;
	} else {
		uint64_t at = (u->irta & IOMMU_VTD_IRTA_IRTA) + (uint64_t)index * 16;

		if (at & ~u->haw_mask)
			return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_INDEX, false);
		if (iommu_mem__rd128(u->mem, at, &lo, &hi))
			return ir_fault(u, msi, irq,
					IOMMU_VTD_FR_IR_TABLE_ACCESS, false);
		if (!(lo & IOMMU_VTD_IRTE_LO_P))
			return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_NOT_PRESENT,
					lo & IOMMU_VTD_IRTE_LO_FPD);
		if (irte_reserved(u, lo, hi))
			return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_RSVD,
					lo & IOMMU_VTD_IRTE_LO_FPD);
		vtd_iec_insert(u, (uint16_t)index, lo, hi);
	}
	if (!sid_ok(hi, msi->source_id))
		return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_SID,
				lo & IOMMU_VTD_IRTE_LO_FPD);
	decode_irte(u, lo, irq);
	return 0;
}
