/* SPDX-License-Identifier: MIT */
/* Internal interfaces of the core layer. */
#ifndef IOMMU_CORE_INTERNAL_H
#define IOMMU_CORE_INTERNAL_H

#include "iommu/core.h"

enum core_alias_kind {
	CORE_ALIAS_SELF,                /* the device's own requester id */
	CORE_ALIAS_MASK,                /* a devfn from its DMA alias mask */
	CORE_ALIAS_PCIE_TO_PCI,         /* PCIe-to-PCI bridge: (secondary bus, 00.0) */
	CORE_ALIAS_PCI_TO_PCIE,         /* PCI-to-PCIe bridge: the bridge's own id */
	CORE_ALIAS_QUIRK_BRIDGE,        /* conventional bridge with the PCIe-bridge alias quirk */
	CORE_ALIAS_CONVENTIONAL_BRIDGE, /* conventional bridge: the bridge's own id */
};

typedef int (*core_alias_fn)(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			     uint16_t rid, enum core_alias_kind kind, void *data);

int core_for_each_dma_alias(const struct iommu_system *s, const struct iommu_pci_dev *pdev,
			    core_alias_fn fn, void *data);
bool core_devs_are_dma_aliases(const struct iommu_system *s, const struct iommu_pci_dev *a,
			       const struct iommu_pci_dev *b);
bool core_acs_enabled(const struct iommu_system *s, const struct iommu_pci_dev *d, uint16_t flags);
bool core_acs_path_enabled(const struct iommu_system *s, const struct iommu_pci_dev *start,
			   uint16_t flags, const struct iommu_pci_dev **failed);
/* The group pci_device_group would put @dev in; NULL means a new one. */
struct iommu_group_info *core_pci_device_group(const struct iommu_system *s,
					       const struct iommu_pci_dev *dev);

/* Tracing the group search, for iommu explain. */
enum core_trace_kind {
	CORE_TRACE_ALIAS,               /* a: alias requester (alias_kind, rid); group: if it had one */
	CORE_TRACE_PATH_ISOLATED,       /* a: bridge whose path to the root isolates */
	CORE_TRACE_PATH_NOT_ISOLATED,   /* a: bridge taken as the device; b: first bridge failing ACS */
	CORE_TRACE_DMA_ALIAS_PEER,      /* a and b alias each other (same bus) */
	CORE_TRACE_FUNCTION_PEER,       /* a and b: functions of one slot, neither isolated */
};

struct core_trace_event {
	enum core_trace_kind kind;
	const struct iommu_pci_dev *a, *b;
	int alias_kind;                 /* enum core_alias_kind */
	uint16_t rid;
	struct iommu_group_info *group; /* the group found there, if any */
};

typedef void (*core_trace_fn)(const struct core_trace_event *e, void *data);

/* Re-run the search for @dev as it ran when @dev was probed, reporting each step. */
struct iommu_group_info *core_trace_device_group(const struct iommu_system *s,
						 const struct iommu_pci_dev *dev,
						 core_trace_fn fn, void *data);

/* resv.c */
int core_resv_insert(struct iommu_resv_region **list, size_t *n, struct iommu_resv_region r);


/* domain.c: the running side of a system (iommu_system_start); called by
 * iommu_system_free before the system's tables go. */
void core_runtime_release(struct iommu_system *s);

/*
 * For the DMA layer (src/dma/dma.c): what iommu_dma_unmap_page() does
 * with the domain, its
 *
 *     phys = iommu_iova_to_phys(d, addr);  if (!phys) WARN, return;
 *     unmapped = iommu_unmap(d, iova, size);
 *
 * in one acquisition of the domain's lock, without the second walk where
 * the table can answer both questions in one:
 *
 *  - AMD: the walk that finds the leaf holding @iova reads its physical
 *    address, and clears it only when iova_to_phys(@addr) would not be 0;
 *  - Intel, one smallest page (what a dma_map_single of up to 4 KiB is)
 *    in a domain with no superpage and no mapping of physical page 0: the
 *    driver's unmap of that page clears it exactly when its entry is
 *    present, and a present entry there maps a page other than 0, so
 *    iova_to_phys(@addr) is not 0 exactly when something was cleared;
 *  - anything else: the two steps, under the one lock.
 *
 * @addr lies in the first page of [@iova, @iova + @size).  Returns what
 * iommu_unmap() would have returned, 0 when the check failed (nothing
 * changed then); *@mapped: whether iova_to_phys(@addr) was not 0.  With
 * the lock held across both steps no other thread's map or unmap comes
 * between them (the kernel takes no lock there: a driver racing its own
 * unmaps is a driver bug).  *@type (may be NULL): the domain's type as
 * the unmap saw it: DMA_FQ, the IOTLB was left to iommu_flush_iotlb_all
 * (a DMA domain upgraded in place may have become one since the caller
 * last looked).
 */
uint64_t core_unmap_checked(struct iommu_domain *d, uint64_t addr, uint64_t iova, uint64_t size,
			    bool *mapped, enum iommu_domain_type *type);

/*
 * domain_sw.c: a software I/O page table for IOMMUs without a hardware
 * model (AMD-Vi), in the shape of AMD's v1 format: six levels of 512
 * entries; a page of 2^order bytes (12 <= order <= 63) is one entry at
 * the level whose entries are the largest not above it, replicated over
 * 2^(order - level shift) consecutive entries when it is bigger (AMD's
 * "next level 7" pages).  Not thread-safe: the caller locks.
 */
struct sw_pgtable;
struct sw_leaf {
	uint64_t base;          /* the page's first IOVA */
	uint64_t paddr;         /* its first host address */
	unsigned order;         /* log2 of its size */
	int prot;               /* IOMMU_PROT_* */
};
int sw_pgtable_create(struct sw_pgtable **out);
void sw_pgtable_destroy(struct sw_pgtable *t);
/* One page of 2^@order at @iova (both addresses aligned to it).  What was
 * there goes, as iommu_v1_map_pages overwrites it: *@replaced counts the
 * mappings dropped (may be NULL).  0, -EINVAL, -ENOMEM. */
int sw_map_page(struct sw_pgtable *t, uint64_t iova, uint64_t paddr, unsigned order, int prot,
		uint64_t *replaced);
/* The page holding @iova: 0, or -ENOENT (fetch_pte). */
int sw_lookup(const struct sw_pgtable *t, uint64_t iova, struct sw_leaf *out);
/* Remove the page holding @iova (every replica): its size, 0 when none. */
uint64_t sw_unmap_page(struct sw_pgtable *t, uint64_t iova);
/*
 * One walk for iommu_iova_to_phys(@addr) and the removal of the page
 * holding @iova, @addr in the same 4 KiB page as @iova (else nothing is
 * done: 0, *@phys 0): *@phys is @addr's physical address in that page,
 * 0 when nothing is mapped there.  The page is removed when *@phys is not
 * 0 and, with @at_iova, only when it starts at @iova: its size, else 0
 * (nothing changed).
 */
uint64_t sw_unmap_page_phys(struct sw_pgtable *t, uint64_t iova, uint64_t addr, bool at_iova,
			    uint64_t *phys);
/* Table nodes held now (the top one included). */
uint64_t sw_pgtable_nodes(const struct sw_pgtable *t);

/* iommu_pgsize(): the page size for the next step of a map or unmap of
 * @size bytes at @iova -> @paddr with @bitmap, and how many of them
 * (*@count) before a bigger size may be used. */
uint64_t core_pgsize(uint64_t bitmap, uint64_t iova, uint64_t paddr, uint64_t size,
		     uint64_t *count);

#endif
