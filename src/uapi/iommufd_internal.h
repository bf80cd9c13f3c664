/* SPDX-License-Identifier: MIT */
/*
 * iommufd inside the user-API layer (reference section 9): the objects of
 * one /dev/iommu file (iommufd.c), the IO page tables behind its IOASes
 * (iommufd_pages.c) and what the VFIO device cdev (vfio_cdev.c) needs to
 * bind a device and attach it.
 *
 * Names follow drivers/iommu/iommufd/: iommufd_ctx, iommufd_object,
 * io_pagetable, iopt_area, iopt_pages, iommufd_hwpt_paging,
 * iommufd_device, iommufd_group.  Behaviour is written from the kernel's
 * rules (doc/iommufd.md says which function each rule comes from); no
 * kernel code is reused.
 *
 * Pinning and mapping go through the layer's shared engine (mm.c:
 * uapi_mm_pin_runs, uapi_map_runs), the same one VFIO type1 uses, so the
 * two user APIs cost the same per page by construction.
 */
#ifndef IOMMU_UAPI_IOMMUFD_INTERNAL_H
#define IOMMU_UAPI_IOMMUFD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/internal.h"

/* ------------------------------------------------------------------ */
/* io_pagetable (iommufd_pages.c)                                       */

/*
 * A linear range of user memory (the kernel's iopt_pages): created by
 * IOAS_MAP, shared by the areas IOAS_COPY makes from it.  Its pages are
 * pinned while some area using it is mapped into a domain (the kernel
 * pins the used slices; the model pins the whole range then).
 */
struct iopt_pages {
	int refs;                       /* areas, and copies being made */
	uint64_t uptr;                  /* page aligned */
	uint64_t npages;
	bool writable;
	bool lock_cap;                  /* CAP_IPC_LOCK: no accounting */
	unsigned fill_users;            /* areas of these pages in domains */
	struct uapi_pin_runs pins;      /* valid while fill_users */
	uint64_t charged;               /* pages charged to RLIMIT_MEMLOCK */
};

/* One IOAS_MAP or IOAS_COPY: [iova, last] of @pages from @start_byte. */
struct iopt_area {
	struct uapi_tree_node node;     /* key: iova */
	uint64_t iova, last;
	struct iopt_pages *pages;       /* NULL while being created */
	uint64_t start_byte;
	int prot;                       /* IOMMU_PROT_READ / _WRITE */
	bool filled;                    /* mapped into the table's domains */
	bool inserted;                  /* in the table's tree */
};

/* A reserved, allowed or free range [start, last]. */
struct iopt_range {
	uint64_t start, last;
	const void *owner;              /* reserved: who reserved it */
};

struct io_pagetable {
	struct iommu_uapi *u;
	struct uapi_tree areas;
	struct iopt_range *reserved;    /* unsorted; may overlap */
	size_t n_reserved;
	struct iopt_range *allowed;     /* sorted, disjoint */
	size_t n_allowed;
	struct iommu_domain **domains;  /* the kernel's linear domains xarray */
	size_t n_domains;
	uint64_t iova_alignment;
	bool disable_large_pages;
};

/* A slice of pages to map (iopt_pages_list). */
struct iopt_pages_elm {
	struct iopt_pages *pages;
	uint64_t start_byte, length;
	struct iopt_area *area;
};

#define IOPT_ALLOC_IOVA 1u

void iopt_init_table(struct io_pagetable *iopt, struct iommu_uapi *u);
void iopt_destroy_table(struct io_pagetable *iopt);

int iopt_map_user_pages(struct io_pagetable *iopt, uint64_t *iova, uint64_t uptr,
			uint64_t length, int prot, unsigned flags);
/* IOAS_COPY's source: the slices covering [iova, iova + length) (one
 * reference each), -ENOENT when not contiguously covered. */
int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_elm **list, size_t *n);
int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_elm *list, size_t n,
		   uint64_t length, uint64_t *dst_iova, int prot, unsigned flags);
void iopt_free_pages_list(struct iopt_pages_elm *list, size_t n);
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);
/* VFIO type1 (v1) emulation: split areas at each of @iovas. */
int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas, size_t n);

/* @ranges: @n user ranges, replacing the allowed list. */
int iopt_set_allow_iova(struct io_pagetable *iopt, const struct iopt_range *ranges, size_t n);
int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last, const void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner);
/* Every reserved region of @g but the relaxable direct ones, owned by
 * @owner; -EADDRINUSE when one meets an area or an allowed range. */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					const struct iommu_group_info *g, const void *owner);
int iopt_table_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt, struct iommu_domain *domain);
int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);

/* The holes of the reserved set over [0, U64_MAX] in ascending order:
 * @fn for each (stops early on a nonzero return, which it returns). */
int iopt_for_each_iova_range(const struct io_pagetable *iopt,
			     int (*fn)(void *ctx, uint64_t start, uint64_t last), void *ctx);
/* The area holding @iova, or NULL. */
struct iopt_area *iopt_area_at(const struct io_pagetable *iopt, uint64_t iova);
size_t iopt_num_areas(const struct io_pagetable *iopt);

/* ------------------------------------------------------------------ */
/* Objects (iommufd.c)                                                  */

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_FAULT,
};

struct iommufd_object {
	enum iommufd_object_type type;
	uint32_t id;
	unsigned users;                 /* the table's reference counts one */
	bool finalized;                 /* else a reserved id (xarray zero entry) */
};

struct iommufd_ctx;
struct iommufd_device;

struct iommufd_ctx *iommufd_ctx_of_file(struct uapi_file *f);
/* iommufd_ctx_from_fd: the context of an open /dev/iommu descriptor with
 * a reference on its file; -EBADF (not open), -EBADFD (not an iommufd). */
int iommufd_ctx_from_fd(struct iommu_uapi *u, int fd, struct iommufd_ctx **out);
void iommufd_ctx_put(struct iommufd_ctx *ictx);

/* iommufd_device_bind: 0 with *@out and its id, or the kernel's errno. */
int iommufd_device_bind(struct iommufd_ctx *ictx, struct iommu_pci_dev *pdev,
			struct iommufd_device **out, uint32_t *id);
void iommufd_device_unbind(struct iommufd_device *idev);
int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);

#endif /* IOMMU_UAPI_IOMMUFD_INTERNAL_H */
