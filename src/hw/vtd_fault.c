/* SPDX-License-Identifier: MIT */
/*
 * Fault recording (VT-d 7.3.1, primary fault logging), the fault status
 * and fault event registers (10.4.9-10.4.13, 10.4.14) and the fault event
 * interrupt (7.3.3); the invalidation completion event (6.5.2.10) shares
 * the interrupt logic.
 */
#include "hw/hw_internal.h"

struct fault_reason_info {
	unsigned code;
	const char *name;
	const char *desc;
};

/* The fault reasons the model raises, with the specification's meaning
 * (appendix "Non-Recoverable Fault Reason Encodings"). */
static const struct fault_reason_info reasons[] = {
	{ 0x01, "root-not-present",
	  "The Present (P) field in the root-entry used to process the request is 0" },
	{ 0x02, "context-not-present",
	  "The Present (P) field in the context-entry used to process the request is 0" },
	{ 0x03, "context-invalid",
	  "Invalid programming of the context-entry used to process the request: "
	  "AW not supported in SAGAW, TT reserved or unsupported, or an error "
	  "accessing the second-level table referenced through SLPTPTR" },
	{ 0x04, "address-beyond-aw",
	  "Input address above 2^X - 1, where X is the minimum of MGAW and the "
	  "address width of the context-entry's AW field" },
	{ 0x05, "write-denied",
	  "Write request to a page without write permission" },
	{ 0x06, "read-denied",
	  "Read request to a page without read permission" },
	{ 0x07, "sl-table-access",
	  "Error accessing a second-level paging entry referenced through the "
	  "address field of a paging entry" },
	{ 0x08, "root-table-access",
	  "Error accessing the root-entry table referenced through the RTA field "
	  "of RTADDR_REG" },
	{ 0x09, "context-table-access",
	  "Error accessing the context-entry referenced through the CTP field of "
	  "a root-entry" },
	{ 0x0a, "root-reserved",
	  "Non-zero reserved field in a present root-entry" },
	{ 0x0b, "context-reserved",
	  "Non-zero reserved field in a present context-entry" },
	{ 0x0c, "sl-reserved",
	  "Non-zero reserved field in a second-level paging entry with at least "
	  "one of the Read (R) and Write (W) fields set" },
	{ 0x0d, "translation-type-blocked",
	  "Translation request or translated request explicitly blocked by the "
	  "Translation Type (TT) field of the present context-entry" },
	{ 0x20, "ir-request-reserved",
	  "Decoding of the interrupt request found one or more reserved fields set" },
	{ 0x21, "ir-index",
	  "The interrupt_index of a remappable interrupt request is beyond the "
	  "interrupt remapping table size, or its IRTE lies beyond the host "
	  "address width" },
	{ 0x22, "ir-not-present",
	  "The Present (P) field in the IRTE for the interrupt request is clear" },
	{ 0x23, "ir-table-access",
	  "Error accessing the interrupt remapping table through the IRTA field "
	  "of IRTA_REG" },
	{ 0x24, "ir-entry-reserved",
	  "Non-zero reserved field, or a reserved encoding, in a present IRTE" },
	{ 0x25, "ir-compat-blocked",
	  "Compatibility-format interrupt request blocked: extended interrupt "
	  "mode enabled (IRTA.EIME) or compatibility format disabled (GSTS.CFIS "
	  "clear)" },
	{ 0x26, "ir-source-id",
	  "Remappable interrupt request blocked: the requester's source-id fails "
	  "the verification the IRTE's SVT, SQ and SID fields ask for" },
};

/* 13 DMA-remapping reasons (01h-0Dh) and 7 interrupt-remapping ones
 * (20h-26h): the table must list each exactly once. */
_Static_assert(sizeof(reasons) / sizeof(reasons[0]) == 13 + 7,
	       "fault reason table size");

static const struct fault_reason_info *reason_info(unsigned code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return &reasons[i];
	return NULL;
}

const char *iommu_vtd_fault_reason_desc(unsigned reason)
{
	const struct fault_reason_info *r = reason_info(reason);

	return r ? r->desc : NULL;
}

const char *iommu_vtd_fault_reason_name(unsigned reason)
{
	const struct fault_reason_info *r = reason_info(reason);

	return r ? r->name : NULL;
}

/* ------------------------------------------------------------------ */

void vtd_send(struct iommu_vtd_unit *u, enum iommu_vtd_event ev,
	      uint32_t addr, uint32_t uaddr, uint32_t data)
{
	u->st.events_sent++;
	if (u->cfg.event)
		u->cfg.event(u->cfg.event_ctx, ev,
			     ((uint64_t)uaddr << 32) |
				     (addr & (uint32_t)IOMMU_VTD_EADDR_MA),
			     data & (uint32_t)IOMMU_VTD_EDATA_IMD);
}

static bool any_fault_status(const struct iommu_vtd_unit *u)
{
	return (vtd_fsts_read(u) &
		(IOMMU_VTD_FSTS_RW1C | IOMMU_VTD_FSTS_PPF)) != 0;
}

/* 7.3.3: an interrupt condition.  If one is already pending (IP) nothing
 * new happens; else IP is set, and when the mask is clear the message
 * goes out and IP clears. */
void vtd_fault_event(struct iommu_vtd_unit *u)
{
	if (u->fectl & IOMMU_VTD_ECTL_IP)
		return;
	if (u->fectl & IOMMU_VTD_ECTL_IM) {
		u->fectl |= (uint32_t)IOMMU_VTD_ECTL_IP;
		return;
	}
	vtd_send(u, IOMMU_VTD_EVENT_FAULT, u->feaddr, u->feuaddr, u->fedata);
}

void vtd_fault_status_serviced(struct iommu_vtd_unit *u)
{
	if ((u->fectl & IOMMU_VTD_ECTL_IP) && !any_fault_status(u))
		u->fectl &= ~(uint32_t)IOMMU_VTD_ECTL_IP;
}

void vtd_fectl_write(struct iommu_vtd_unit *u, uint32_t val)
{
	bool was_masked = u->fectl & IOMMU_VTD_ECTL_IM;

	u->fectl = (u->fectl & ~(uint32_t)IOMMU_VTD_ECTL_IM) |
		   (val & (uint32_t)IOMMU_VTD_ECTL_IM);
	/* Unmasking with an interrupt pending sends it. */
	if (was_masked && !(val & IOMMU_VTD_ECTL_IM) &&
	    (u->fectl & IOMMU_VTD_ECTL_IP)) {
		u->fectl &= ~(uint32_t)IOMMU_VTD_ECTL_IP;
		vtd_send(u, IOMMU_VTD_EVENT_FAULT, u->feaddr, u->feuaddr,
			 u->fedata);
	}
}

static bool any_frcd_f(const struct iommu_vtd_unit *u)
{
	for (uint32_t i = 0; i < u->nfr; i++)
		if (u->frcd[2 * i + 1] & IOMMU_VTD_FRCD_HI_F)
			return true;
	return false;
}

/* PPF is not stored: it is the OR of the F fields (10.4.9). */
uint32_t vtd_fsts_read(const struct iommu_vtd_unit *u)
{
	uint32_t v = u->fsts;

	if (any_frcd_f(u))
		v |= (uint32_t)IOMMU_VTD_FSTS_PPF;
	return v;
}

void vtd_fsts_write(struct iommu_vtd_unit *u, uint32_t val)
{
	bool iqe_cleared = (u->fsts & IOMMU_VTD_FSTS_IQE) &&
			   (val & IOMMU_VTD_FSTS_IQE);

	u->fsts &= ~(val & (uint32_t)IOMMU_VTD_FSTS_RW1C);
	vtd_fault_status_serviced(u);
	/* Queued invalidation stops at an error until IQE is cleared, then
	 * fetches again from IQH (6.5.2.10). */
	if (iqe_cleared)
		vtd_qi_run(u);
}

void vtd_frcd_write(struct iommu_vtd_unit *u, uint32_t idx, unsigned word,
		    uint64_t val)
{
	/* Only F (RW1C) is writable. */
	if (word == 1 && (val & IOMMU_VTD_FRCD_HI_F)) {
		u->frcd[2 * idx + 1] &= ~IOMMU_VTD_FRCD_HI_F;
		vtd_fault_status_serviced(u);
	}
}

/*
 * 7.3.1: if PFO is set the fault is dropped; if the register at FRI
 * still holds a fault (F set) PFO is set and the fault dropped; else the
 * fault goes to FRCD[FRI], F is set and FRI moves to the next register,
 * wrapping.  An event is raised when PPF or PFO goes from 0 to 1.
 */
bool vtd_fault_record(struct iommu_vtd_unit *u, uint16_t sid, unsigned fr,
		      uint64_t fi, bool read, unsigned at)
{
	uint32_t fri;
	uint64_t *rec;
	bool ppf_was;

	if (u->fsts & IOMMU_VTD_FSTS_PFO) {
		u->st.faults_overflowed++;
		return false;
	}
	fri = (uint32_t)IOMMU_FIELD_GET(IOMMU_VTD_FSTS_FRI, u->fsts);
	if (fri >= u->nfr)
		fri = 0;
	rec = &u->frcd[2 * fri];
	if (rec[1] & IOMMU_VTD_FRCD_HI_F) {
		u->fsts |= (uint32_t)IOMMU_VTD_FSTS_PFO;
		u->st.faults_overflowed++;
		vtd_fault_event(u);
		return false;
	}
	ppf_was = any_frcd_f(u);
	rec[0] = fi & IOMMU_VTD_FRCD_LO_FI;
	rec[1] = IOMMU_FIELD_PREP(IOMMU_VTD_FRCD_HI_SID, sid) |
		 IOMMU_FIELD_PREP(IOMMU_VTD_FRCD_HI_FR, fr) |
		 IOMMU_FIELD_PREP(IOMMU_VTD_FRCD_HI_AT, at) |
		 (read ? IOMMU_VTD_FRCD_HI_T : 0) | IOMMU_VTD_FRCD_HI_F;
	fri = (fri + 1) % u->nfr;
	u->fsts = (u->fsts & ~(uint32_t)IOMMU_VTD_FSTS_FRI) |
		  (uint32_t)IOMMU_FIELD_PREP(IOMMU_VTD_FSTS_FRI, fri);
	u->st.faults_recorded++;
	if (!ppf_was)
		vtd_fault_event(u);
	return true;
}

/* ------------------------------------------------------------------ */
/* Invalidation completion event (IECTL, ICS: 10.4.25-10.4.28)          */

void vtd_inv_event(struct iommu_vtd_unit *u)
{
	if (u->ics & IOMMU_VTD_ICS_IWC)
		return;         /* previous completion not yet serviced */
	u->ics |= (uint32_t)IOMMU_VTD_ICS_IWC;
	if (u->iectl & IOMMU_VTD_ECTL_IM) {
		u->iectl |= (uint32_t)IOMMU_VTD_ECTL_IP;
		return;
	}
	vtd_send(u, IOMMU_VTD_EVENT_INV_COMPLETE, u->ieaddr, u->ieuaddr,
		 u->iedata);
}

void vtd_iectl_write(struct iommu_vtd_unit *u, uint32_t val)
{
	bool was_masked = u->iectl & IOMMU_VTD_ECTL_IM;

	u->iectl = (u->iectl & ~(uint32_t)IOMMU_VTD_ECTL_IM) |
		   (val & (uint32_t)IOMMU_VTD_ECTL_IM);
	if (was_masked && !(val & IOMMU_VTD_ECTL_IM) &&
	    (u->iectl & IOMMU_VTD_ECTL_IP)) {
		u->iectl &= ~(uint32_t)IOMMU_VTD_ECTL_IP;
		vtd_send(u, IOMMU_VTD_EVENT_INV_COMPLETE, u->ieaddr,
			 u->ieuaddr, u->iedata);
	}
}

void vtd_ics_write(struct iommu_vtd_unit *u, uint32_t val)
{
	if (val & IOMMU_VTD_ICS_IWC) {
		u->ics &= ~(uint32_t)IOMMU_VTD_ICS_IWC;
		u->iectl &= ~(uint32_t)IOMMU_VTD_ECTL_IP;
	}
}
