/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the user-API layer (include/iommu/uapi.h).
 *
 * The layer is organised as the kernel's: files with an operations table
 * (struct uapi_fops, the kernel's file_operations), device nodes that open
 * them (the devnodes[] table in uapi.c: the one place a new character
 * device, such as /dev/iommu, is added), and the objects behind them
 * (VFIO groups, containers, devices; the process's memory).
 */
#ifndef IOMMU_UAPI_INTERNAL_H
#define IOMMU_UAPI_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iommu/uapi.h"
#include "iommu/hw.h"

struct uapi_file;
struct vfio_group;
struct vfio_container;
struct vfio_device;
struct uapi_tree_node;

/* ------------------------------------------------------------------ */
/* Files                                                                */

enum uapi_file_kind {
	UAPI_FILE_VFIO_CONTAINER,
	UAPI_FILE_VFIO_GROUP,
	UAPI_FILE_VFIO_DEVICE,
	UAPI_FILE_ATTR,         /* a sysfs/procfs text attribute */
	UAPI_FILE_PAGEMAP,      /* /proc/self/pagemap */
	UAPI_FILE_IOMMUFD,      /* /dev/iommu (reference section 9) */
	UAPI_FILE_IOMMUFD_FAULT, /* an iommufd fault queue (iommufd.c) */
	UAPI_FILE_VFIO_CDEV,    /* /dev/vfio/devices/vfioN (vfio_cdev.c) */
};

struct uapi_fops {
	const char *name;                /* for messages: "vfio-container" */
	enum uapi_file_kind kind;
	/* NULL members: the kernel's answer for a file without the operation
	 * (-ENOTTY for ioctl, -EINVAL for read/write, -ENODEV for mmap). */
	long (*ioctl)(struct uapi_file *f, unsigned int cmd, unsigned long arg);
	/* @buf is the layer's own buffer (the user's bytes are copied in and
	 * out by the caller, with -EFAULT for a bad user pointer). */
	ssize_t (*read)(struct uapi_file *f, void *buf, size_t count, uint64_t *pos);
	ssize_t (*write)(struct uapi_file *f, const void *buf, size_t count, uint64_t *pos);
	int (*mmap)(struct uapi_file *f, uint64_t off, size_t len, int prot, int flags,
		    int *map_fd, off_t *map_off);
	void (*release)(struct uapi_file *f);
	/* Whether lseek(2) moves the position (false: -ESPIPE, as anon
	 * inode files without llseek do not move... see uapi.c). */
	bool seekable;
};

struct uapi_file {
	const struct uapi_fops *fops;
	struct iommu_uapi *u;
	void *private_data;
	int refs;               /* descriptors naming this file */
	int flags;              /* open flags */
	uint64_t pos;
	/* For fstat(2). */
	mode_t mode;
	dev_t rdev;
	uint64_t ino;
	/* Attribute files: the text read, generated at open. */
	char *text;
	size_t text_len;
	char attr_path[128];
};

/*
 * A device node of the model: @path exactly, or any path below @path
 * when @prefix.  @open fills *@out with a new file (refs 0), or returns a
 * negative errno.  Table in uapi.c.
 */
struct uapi_devnode {
	const char *path;
	bool prefix;
	int (*open)(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out);
	unsigned major, minor;  /* for stat(2); 0/0: computed by the opener's module */
};

struct uapi_file *uapi_file_alloc(struct iommu_uapi *u, const struct uapi_fops *fops,
				  void *private_data);
/* A new descriptor for @f (refs + 1); a negative errno (then @f is freed
 * when nothing else holds it). */
int uapi_fd_install(struct iommu_uapi *u, struct uapi_file *f, int flags);
/* The file behind @fd, NULL when it is not the model's. */
struct uapi_file *uapi_fd_file(struct iommu_uapi *u, int fd);
/* One more reference that is not a descriptor (a group holding its
 * container's file, a device holding its group); put releases. */
void uapi_file_get(struct uapi_file *f);
void uapi_file_put(struct uapi_file *f);

/* ------------------------------------------------------------------ */
/* The process's memory (mm.c)                                          */

struct uapi_mm;

int uapi_mm_create(struct iommu_uapi *u, struct uapi_mm **out);
void uapi_mm_destroy(struct uapi_mm *mm);
/* 0 when every byte of [vaddr, vaddr+len) is mapped in this process
 * (and writable if @write), else -EFAULT. */
int uapi_mm_check(struct uapi_mm *mm, uint64_t vaddr, uint64_t len, bool write);
int uapi_user_read(struct uapi_mm *mm, uint64_t vaddr, void *buf, size_t len);
int uapi_user_write(struct uapi_mm *mm, uint64_t vaddr, const void *buf, size_t len);
/*
 * Pin the page at @vaddr (page aligned; the caller checked the range with
 * uapi_mm_check): its modelled physical page (allocated on first use,
 * the user page copied in) into *@pfn.
 * -EFAULT, -ENOMEM (modelled memory exhausted).
 */
int uapi_mm_pin(struct uapi_mm *mm, uint64_t vaddr, bool write, uint64_t *pfn);
/* Drop one pin of @pfn (a page no longer pinned may be given away). */
void uapi_mm_unpin(struct uapi_mm *mm, uint64_t pfn);
/* The page at @vaddr as /proc/self/pagemap shows it: 0 when not
 * resident, else (1 << 63) | pfn; the page keeps its pfn from then on. */
uint64_t uapi_mm_pagemap_entry(struct uapi_mm *mm, uint64_t vaddr);
/* Pages pinned now (each pin counted), pages with a modelled page. */
uint64_t uapi_mm_pinned(const struct uapi_mm *mm);
/* A device's access at modelled physical @phys: keeps the process page
 * behind @phys (if any) and modelled memory the same. */
int uapi_mm_dma(struct uapi_mm *mm, uint64_t phys, void *buf, size_t len, bool write);

/*
 * Batched pinning and mapping, shared by VFIO type1 and iommufd (added
 * for iommufd; doc/iommufd.md): the pages of [vaddr, vaddr + npages *
 * 4 KiB) pinned in batches (one read of the user's bytes per 64 pages),
 * as runs of physically contiguous frames; frames given back by
 * uapi_mm_unpin_runs come out of the next pin in ascending order, so a
 * range pinned again is contiguous again.  @out must be empty; on
 * failure nothing stays pinned (-EFAULT, -ENOMEM).
 */
struct uapi_pin_run {
	uint64_t off;           /* bytes from the start of the pinned range */
	uint64_t pfn;
	uint64_t npages;
};
struct uapi_pin_runs {
	struct uapi_pin_run *r;
	size_t n, cap;
	uint64_t npages;
};
int uapi_mm_pin_runs(struct uapi_mm *mm, uint64_t vaddr, uint64_t npages, bool write,
		     struct uapi_pin_runs *out);
/* Unpin every page of @runs and empty it. */
void uapi_mm_unpin_runs(struct uapi_mm *mm, struct uapi_pin_runs *runs);
/* Map bytes [off, off + len) of a pinned range (page aligned) at @iova
 * into @d: one iommu_map per physically contiguous run (superpages where
 * the driver can), or page by page when @small_pages.  On failure what
 * this call mapped is unmapped. */
int uapi_map_runs(struct iommu_domain *d, uint64_t iova, const struct uapi_pin_runs *runs,
		  uint64_t off, uint64_t len, int prot, bool small_pages);

/* copy_from_user / copy_to_user on this process: 0 or -EFAULT. */
struct iommu_uapi;
int uapi_copy_from_user(struct iommu_uapi *u, void *dst, unsigned long uptr, size_t n);
int uapi_copy_to_user(struct iommu_uapi *u, unsigned long uptr, const void *src, size_t n);
/* strndup_user(uptr, max): the string or an ERR-like NULL with *err set
 * (-EFAULT, -EINVAL when no NUL within @max bytes, -ENOMEM). */
char *uapi_strndup_user(struct iommu_uapi *u, unsigned long uptr, size_t max, int *err);
/* Whether @fd is an open descriptor of this process at all (fdget). */
bool uapi_host_fd_valid(int fd);

/* ------------------------------------------------------------------ */
/* Ordered tree keyed by a 64-bit start (tree.c): an AVL tree.          */

struct uapi_tree_node {
	struct uapi_tree_node *left, *right, *parent;
	int height;
	uint64_t key;
};
struct uapi_tree {
	struct uapi_tree_node *root;
	size_t count;
};
void uapi_tree_insert(struct uapi_tree *t, struct uapi_tree_node *n);
void uapi_tree_erase(struct uapi_tree *t, struct uapi_tree_node *n);
struct uapi_tree_node *uapi_tree_first(const struct uapi_tree *t);
struct uapi_tree_node *uapi_tree_next(const struct uapi_tree_node *n);
struct uapi_tree_node *uapi_tree_prev(const struct uapi_tree_node *n);
/* Greatest key <= @key, smallest key >= @key; NULL when none. */
struct uapi_tree_node *uapi_tree_le(const struct uapi_tree *t, uint64_t key);
struct uapi_tree_node *uapi_tree_ge(const struct uapi_tree *t, uint64_t key);

/* ------------------------------------------------------------------ */
/* VFIO objects (vfio.c)                                                */

/* A vfio_group: one per IOMMU group that has a device bound to a VFIO
 * driver, or a fake vfio-noiommu group of one device. */
struct vfio_group {
	struct iommu_uapi *u;
	struct iommu_group_info *iommu_group;   /* NULL for a noiommu group */
	int id;                 /* IOMMU group id (noiommu: from the same allocator) */
	bool noiommu;
	int minor;              /* char device minor: vfio_group_alloc order */
	char name[32];          /* node name below /dev/vfio: "5", "noiommu-3" */
	struct uapi_file *opened_file;
	struct vfio_container *container;
	int container_users;
	struct vfio_device **devices;   /* bound to vfio-pci, in bind order */
	size_t n_devices;
	int open_devices;       /* device files open through this group */
	bool dma_owned;         /* this group claimed its iommu_group */
	int cdev_device_open_cnt; /* devices bound through their cdev (vfio_cdev.c) */
};

/* A device bound to vfio-pci. */
struct vfio_device {
	struct iommu_uapi *u;
	struct iommu_pci_dev *pdev;
	struct vfio_group *group;
	int open_count;
	struct vfio_pci_state *pci;     /* vfio-pci core state while open */
	void *extra;                    /* vfio_device.c's own state while open */
	bool reset_works;
	int index;              /* vfio_device ida: /dev/vfio/devices/vfio<index> */
};

/* The IOMMU backends a container can use (the kernel's
 * vfio_iommu_driver_ops), in the order the kernel's list holds them. */
struct vfio_iommu_driver_ops {
	const char *name;
	/* CHECK_EXTENSION with @data NULL: before a container has it. */
	long (*check_extension)(struct iommu_uapi *u, void *data, unsigned long arg);
	int (*open)(struct iommu_uapi *u, unsigned long arg, void **data);
	void (*release)(void *data);
	long (*ioctl)(void *data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *data, struct vfio_group *g);
	void (*detach_group)(void *data, struct vfio_group *g);
};
extern const struct vfio_iommu_driver_ops vfio_type1_ops;
extern const struct vfio_iommu_driver_ops vfio_noiommu_ops;
/* MSI isolation (interrupt remapping), as type1's attach and iommufd's
 * bind require it. */
bool uapi_msi_isolated(struct iommu_uapi *u);
/* Device nodes of iommufd.c and vfio_cdev.c (the devnodes[] table). */
int iommufd_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out);
int vfio_cdev_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out);
/* The device of a cdev file once bound to an iommufd, else NULL. */
struct vfio_device *vfio_cdev_device(struct uapi_file *f);
#define IOMMUFD_MISC_MINOR 127  /* dynamic misc minor: not captured */
/* stat of /dev/iommu, /dev/vfio/devices and its vfioN (vfio_cdev.c): 0 with
 * the mode and rdev, or -ENOENT (kernel version, nothing bound). */
int uapi_iommufd_node(const struct iommu_uapi *u, const char *path, mode_t *mode, dev_t *rdev);

struct vfio_container {
	struct iommu_uapi *u;
	struct vfio_group **groups;     /* the kernel's group_list order (newest first) */
	size_t n_groups;
	const struct vfio_iommu_driver_ops *driver;
	void *iommu_data;
	bool noiommu;
	int refs;               /* the file, and each group in it */
};

extern const struct uapi_fops vfio_container_fops;
extern const struct uapi_fops vfio_group_fops;
extern const struct uapi_fops vfio_device_fops;

int vfio_container_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out);
int vfio_group_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out);
struct vfio_group *vfio_group_by_name(struct iommu_uapi *u, const char *name);
struct vfio_group *vfio_group_by_id(struct iommu_uapi *u, int id);
struct vfio_device *vfio_device_of(struct iommu_uapi *u, const struct iommu_pci_dev *pdev);
void vfio_container_put(struct vfio_container *c);


/* vfio_device.c */
/* The cdev path (vfio_cdev.c): vfio-pci's open_device / close_device
 * for a device not opened through its group (-EINVAL when open). */
int vfio_device_cdev_open(struct vfio_device *vdev);
void vfio_device_cdev_close(struct vfio_device *vdev);
int vfio_device_open_file(struct vfio_device *vdev, struct uapi_file **out);
void vfio_device_free_state(struct vfio_device *vdev);

/* vfio-pci state of an open device (vfio_pci_core_device). */
#define VFIO_CFG_MAX 4096
#define VFIO_NUM_BARS 7         /* six BARs and the ROM */

struct vfio_bar {
	uint64_t start, len;    /* pci_resource_start/len (from sysfs resource) */
	uint64_t flags;         /* IORESOURCE_* */
	bool mmap_ok;           /* bar_mmap_supported */
	int memfd;              /* backing of the region, -1 until used */
};

enum vfio_perm_read {
	VFIO_READ_RAW,          /* unassigned: the hardware's byte */
	VFIO_READ_DIRECT,       /* hardware, capability header from vconfig */
	VFIO_READ_DEFAULT,      /* virtualised bits from vconfig, the rest hardware */
};

struct vfio_irq_ctx {
	int trigger;            /* held eventfd, -1 none */
};

struct vfio_pci_state {
	struct vfio_bar bar[VFIO_NUM_BARS];
	size_t cfg_size;
	uint8_t phys[VFIO_CFG_MAX];     /* the modelled device's config space */
	uint8_t vconfig[VFIO_CFG_MAX];
	uint8_t map[VFIO_CFG_MAX];      /* capability id per byte */
	uint8_t virt[VFIO_CFG_MAX];     /* virtualised bits per byte */
	uint8_t wr[VFIO_CFG_MAX];       /* writable bits per byte */
	uint8_t rd[VFIO_CFG_MAX];       /* enum vfio_perm_read per byte */
	bool bardirty;
	bool extended_caps;
	int msix_bar;                   /* 0xff: none */
	uint16_t msi_pos, msix_pos, pm_pos, exp_pos, af_pos;
	uint16_t msi_flags;
	int msi_qmax;
	bool has_vga, nointx, pci_2_3;
	/* interrupts */
	int irq_type;                   /* VFIO_PCI_*_IRQ_INDEX, or VFIO_PCI_NUM_IRQS for none */
	struct vfio_irq_ctx *ctx;       /* per vector of the current type */
	unsigned n_ctx;
	bool intx_masked, virq_disabled;
	int intx_unmask_fd;             /* eventfd unmasking INTx, -1 none */
	int err_trigger, req_trigger;   /* -1 none */
	int power_state;                /* D0..D3hot */
};

/* vfio_config.c: the VFIO-virtualised view of a device's config space. */
int vfio_config_init(struct vfio_device *vdev, struct vfio_pci_state *st);
ssize_t vfio_config_rw(struct vfio_device *vdev, void *buf, size_t count, uint64_t pos,
		       bool write);

/* ------------------------------------------------------------------ */
/* The layer                                                            */

/* Where a device's file descriptor's inode number comes from: a counter. */
struct uapi_fd_slot {
	struct uapi_file *file;
	dev_t dev;              /* identity of the host descriptor */
	ino_t ino;
};

struct iommu_uapi {
	struct iommu_system *s;
	struct iommu_mem *mem;          /* the system's, or own_mem */
	struct iommu_mem *own_mem;
	struct iommu_uapi_options opts;
	struct iommu_kernel_version kv;
	/* module parameters */
	bool noiommu;
	unsigned dma_entry_limit;
	bool allow_unsafe_interrupts;
	bool rawio, ipc_lock;
	uint64_t memlock_limit;         /* bytes; UINT64_MAX unlimited */
	size_t n_devices;               /* the platform's */
	/* vfio groups in creation order */
	struct vfio_group **groups;
	size_t n_groups;
	int next_minor;
	struct vfio_device **vdevs;     /* per platform device index, NULL unbound */
	/* descriptors */
	struct uapi_fd_slot *fds;
	size_t n_fds;
	uint64_t next_ino;
	/* process */
	struct uapi_mm *mm;
	uint64_t locked_vm;             /* pages charged to RLIMIT_MEMLOCK */
	/* kernel log and taint */
	char **log;
	size_t n_log;
	unsigned long taint;
	/* vfio-noiommu groups made (also in groups[]) */
	/* modelled memory layout */
	uint64_t ram_low_end;           /* low RAM [1 MiB, ram_low_end) */
	uint64_t pool_base, pool_end;   /* user pages come from here */
};

void uapi_log(struct iommu_uapi *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* dev_warn(dev, ...) of driver @drv: "vfio-pci 0000:03:00.0: ..." */
void uapi_dev_log(struct iommu_uapi *u, const struct iommu_pci_dev *pdev, const char *drv,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
size_t uapi_device_index(const struct iommu_uapi *u, const struct iommu_pci_dev *pdev);
/* The kernel version gates of this layer. */
static inline bool uapi_kernel_at_least(const struct iommu_uapi *u, int major, int minor)
{
	return iommu_kernel_at_least(u->kv, major, minor);
}
/* The kernel's iommu_group_claim_dma_owner for a VFIO group, with the
 * version's errors (reference 8.1). */
int uapi_claim_dma_owner(struct iommu_uapi *u, struct vfio_group *g);
void uapi_release_dma_owner(struct iommu_uapi *u, struct vfio_group *g);
/* owner_cnt != 0 as the kernel counts it (DMA-API drivers bound to
 * members, claims): the core's count; a noiommu group has none. */
bool uapi_group_dma_owner_claimed(struct iommu_uapi *u, const struct vfio_group *g);

/* The modelled physical memory a device DMA reaches (uapi.c). */
int uapi_phys_access(struct iommu_uapi *u, uint64_t phys, void *buf, size_t len, bool write);

/* sysfs.c: the namespace of files the model owns. */
int uapi_sysfs_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out);
/* "/a//b/./c" -> "/a/b/c" with the model's symlinks followed (not the
 * last component unless @follow_last); -ENAMETOOLONG, -ELOOP. */
int uapi_path_resolve(const struct iommu_uapi *u, const char *path, bool follow_last,
		      char *out, size_t len);
/* The kernfs name hash order of sysfs directories. */
unsigned uapi_kernfs_name_hash(const char *name);
/* The sysfs path of a PCI function below /sys: "devices/pci0000:00/0000:00:1c.0/0000:01:00.0". */
void uapi_pci_sysfs_path(const struct iommu_pci_dev *pdev, char *buf, size_t len);
extern const struct uapi_fops uapi_attr_fops;

/* vfio group and device fd's major numbers (the capture's). */
unsigned uapi_vfio_group_major(const struct iommu_uapi *u);

/* vfio-pci's region offsets: index << 40 (vfio_pci_core.h). */
#define VFIO_PCI_OFFSET_SHIFT 40

#define UAPI_PAGE_SIZE 4096u
#define UAPI_PAGE_SHIFT 12

#endif /* IOMMU_UAPI_INTERNAL_H */
