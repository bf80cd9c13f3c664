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

/* Source-id verification (5.1.4, 9.10) as the cache entry keeps it:
 * SVT 00b checks nothing (mask 0), 01b compares SID under the SQ mask,
 * 10b checks the requester's bus against the range SID[15:8]..SID[7:0]. */
static void decode_sid_check(uint64_t hi, struct vtd_iec_data *e)
{
	static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	unsigned svt = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SVT, hi);
	uint16_t sid = (uint16_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SID, hi);
	unsigned sq = (unsigned)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_HI_SQ, hi);

	e->sid_mask = e->sid_val = 0;
	e->bus_lo = e->bus_hi = 0;
	e->bus_range = false;
	switch (svt) {
	case IOMMU_VTD_SVT_SID_SQ:
		e->sid_mask = sq_mask[sq];
		e->sid_val = sid & sq_mask[sq];
		break;
	case IOMMU_VTD_SVT_BUS_RANGE:
		e->bus_range = true;
		e->bus_lo = (uint8_t)(sid >> 8);
		e->bus_hi = (uint8_t)sid;
		break;
	default:   /* 00b; 11b is reserved and never cached */
		break;
	}
}

static inline bool sid_ok(const struct vtd_iec_data *e, uint16_t rid)
{
	if (__builtin_expect(e->bus_range, 0)) {
		unsigned bus = rid >> 8;

		return bus >= e->bus_lo && bus <= e->bus_hi;
	}
	return (rid & e->sid_mask) == e->sid_val;
}

void vtd_irte_decode(const struct iommu_vtd_unit *u, uint64_t lo, uint64_t hi,
		     struct vtd_iec_data *e)
{
	struct iommu_vtd_irq *irq = &e->irq;

	e->lo = lo;
	e->hi = hi;
	memset(irq, 0, sizeof(*irq));
	irq->remapped = true;
	irq->iec_hit = true;
	irq->vector = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_V, lo);
	irq->dest_logical = lo & IOMMU_VTD_IRTE_LO_DM;
	irq->redir_hint = lo & IOMMU_VTD_IRTE_LO_RH;
	irq->level = lo & IOMMU_VTD_IRTE_LO_TM;
	irq->delivery_mode = (uint8_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DLM, lo);
	if (u->irta & IOMMU_VTD_IRTA_EIME)
		irq->dest_id = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DST, lo);
	else
		irq->dest_id = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_IRTE_LO_DST_XAPIC, lo);
	decode_sid_check(hi, e);
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

/* Everything but a remappable request whose IRTE the IEC holds. */
static __attribute__((noinline)) int interrupt_slow(struct iommu_vtd_unit *u,
			  const struct iommu_vtd_msi *msi,
			  struct iommu_vtd_irq *irq)
{
	uint32_t a;
	uint32_t index, entries;
	const struct vtd_iec_data *e;
	uint64_t lo, hi;
	bool hit = true;

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
	entries = u->irt_entries;
	if (index >= entries || index > 0xffff)
		return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_INDEX, false);

	e = vtd_iec_lookup(u, (uint16_t)index);
	if (!e) {
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
		e = &u->iec[index & u->iec_mask];
		hit = false;
	}
	if (!sid_ok(e, msi->source_id))
		return ir_fault(u, msi, irq, IOMMU_VTD_FR_IR_SID,
				e->lo & IOMMU_VTD_IRTE_LO_FPD);
	*irq = e->irq;
	irq->index = (uint16_t)index;
	irq->iec_hit = hit;
	return 0;
}

/*
 * The fast path: remapping on, a remappable request without reserved
 * bits, its index inside the table, its IRTE in the interrupt entry
 * cache and the requester passing the source-id check.  Nothing else is
 * looked at, as the cache entry was checked when it was filled.
 */
int iommu_vtd_interrupt(struct iommu_vtd_unit *u,
			const struct iommu_vtd_msi *msi,
			struct iommu_vtd_irq *irq)
{
	uint32_t a, index;
	const struct vtd_iec_data *e;

	if (!u || !msi || !irq)
		return -EINVAL;
	a = (uint32_t)msi->addr;
	if (__builtin_expect((msi->addr >> 32) == 0 &&
			     IOMMU_FIELD_GET(IOMMU_VTD_MSI_ADDR_HEAD, a) ==
				     IOMMU_VTD_MSI_HEAD_VALUE &&
			     (a & IOMMU_VTD_MSI_ADDR_FMT) &&
			     (u->gsts & IOMMU_VTD_GSTS_IRES), 1)) {
		index = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_ADDR_HANDLE, a) |
			((a & IOMMU_VTD_MSI_ADDR_HANDLE15) ? 0x8000u : 0);
		if (a & IOMMU_VTD_MSI_ADDR_SHV) {
			if (msi->data & IOMMU_VTD_MSI_DATA_RSVD_31_16)
				goto slow;
			index += (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_MSI_DATA_SUBHANDLE,
							   msi->data);
		}
		if (index >= u->irt_entries || index > 0xffff ||
		    u->iec_tags[index & u->iec_mask] != index)
			goto slow;
		e = &u->iec[index & u->iec_mask];
		if (!sid_ok(e, msi->source_id))
			goto slow;
		*irq = e->irq;
		irq->index = (uint16_t)index;
		u->fast_irq_hits++;
		return 0;
	}
slow:
	return interrupt_slow(u, msi, irq);
}
