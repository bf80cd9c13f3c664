/* SPDX-License-Identifier: MIT */
/*
 * libiommu user-API layer: the character devices and sysfs files through
 * which a program drives the kernel's IOMMU code, answered by a running
 * model of a platform (iommu/core.h domains over iommu/hw.h hardware).
 *
 *  - VFIO (reference section 8): /dev/vfio/vfio containers, /dev/vfio/N
 *    group files, device files from VFIO_GROUP_GET_DEVICE_FD, the type1
 *    (v1 and v2) and noiommu IOMMU backends, with the kernel's checks and
 *    errnos;
 *  - the sysfs and procfs files those programs read:
 *    /sys/kernel/iommu_groups, /sys/bus/pci/devices/BDF/{iommu_group,
 *    driver}, the vfio module parameters, /proc/sys/kernel/tainted and
 *    /proc/self/pagemap (virtual to modelled physical);
 *  - the calling process's memory as the kernel sees it: pages pinned
 *    by MAP_DMA get a modelled physical page, and a modelled device's
 *    DMA lands there through the modelled IOMMU.
 *
 * Everything is reached through file descriptors, as a program reaches
 * the kernel: iommu_uapi_open() on a path returns a descriptor (a real
 * one, so that close, dup and poll by the program are safe) and the
 * other calls take it.  Device nodes are dispatched through one table of
 * paths (src/uapi/uapi.c, devnodes[]): /dev/iommu (iommufd, reference
 * section 9) is added there as one more entry; doc/vfio.md says how.
 *
 * The "process" is the one the library runs in: user addresses passed to
 * MAP_DMA are addresses of this process.  tools/preload turns a program's
 * system calls into these calls (iommu run).
 *
 * Thread safety: one struct iommu_uapi is a single-threaded object; the
 * preload serialises calls with one lock.
 */
#ifndef IOMMU_UAPI_H
#define IOMMU_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "iommu/base.h"
#include "iommu/core.h"

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_uapi;

/* Modelled memory of the running system when the caller leaves it to the
 * layer: low RAM below 3 GiB, the PCI hole, high RAM from 4 GiB. */
#define IOMMU_UAPI_DEFAULT_MEM_SIZE (UINT64_C(64) << 30)

struct iommu_uapi_options {
	/* vfio.enable_unsafe_noiommu_mode=1 at module load (reference 8.5). */
	bool noiommu;
	/* vfio_iommu_type1.dma_entry_limit; 0: the kernel's 65535. */
	unsigned dma_entry_limit;
	/* vfio_iommu_type1.allow_unsafe_interrupts. */
	bool allow_unsafe_interrupts;
	/*
	 * The calling task: false models root (CAP_SYS_RAWIO, CAP_IPC_LOCK,
	 * no RLIMIT_MEMLOCK), as the oracle ran vfio-probe; true models an
	 * unprivileged user that owns the device nodes: no capabilities,
	 * @memlock_limit bytes of RLIMIT_MEMLOCK (0: this process's limit).
	 */
	bool unprivileged;
	uint64_t memlock_limit;
	/* Modelled memory when the layer starts the system (0: default). */
	uint64_t mem_size;
	/* Each kernel log line (dmesg), as it is logged; may be NULL.  The
	 * lines are also kept (iommu_uapi_log_line). */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/*
 * The user API of @s: starts @s when it is not started yet (the kernel
 * after boot); a platform without an IOMMU driver gets modelled memory
 * of its own.  @s must outlive the result and is modified by it (DMA
 * ownership, domains).  0, -ENOMEM, or the start's error.
 */
int iommu_uapi_create(struct iommu_system *s, const struct iommu_uapi_options *opts,
		      struct iommu_uapi **out, struct iommu_error *err);
/* Closes every file still open (releasing groups, containers and pins). */
void iommu_uapi_destroy(struct iommu_uapi *u);
struct iommu_system *iommu_uapi_system(const struct iommu_uapi *u);

/*
 * Bind @bdf ("0000:03:00.0" or "03:00.0") to vfio-pci, as
 * "echo BDF > /sys/bus/pci/drivers/vfio-pci/bind" after unbinding its
 * driver: its vfio_group is created (minor numbers in bind order) or
 * joined.  A device without an IOMMU group gets a vfio-noiommu group
 * while noiommu mode is on (taint, log line), else -EINVAL as the
 * kernel's vfio_group_find_or_alloc.  -ENODEV: no such device; -EBUSY:
 * already bound to vfio-pci.  The message says what and where.
 */
int iommu_uapi_vfio_bind(struct iommu_uapi *u, const char *bdf, struct iommu_error *err);
/* A comma-separated list, bound in order ("03:00.0,02:01.0"). */
int iommu_uapi_vfio_bind_list(struct iommu_uapi *u, const char *list, struct iommu_error *err);
/* The driver bound to @pdev now ("vfio-pci", the platform's, or NULL). */
const char *iommu_uapi_driver(const struct iommu_uapi *u, const struct iommu_pci_dev *pdev);

/* The kernel log so far (oldest first) and the taint mask
 * (/proc/sys/kernel/tainted; TAINT_USER is bit 6, "U"). */
size_t iommu_uapi_log_count(const struct iommu_uapi *u);
const char *iommu_uapi_log_line(const struct iommu_uapi *u, size_t i);
unsigned long iommu_uapi_taint(const struct iommu_uapi *u);

/* ------------------------------------------------------------------ */
/* Files                                                                */

/*
 * Whether @path names something the model answers for (the program must
 * not see the host's file there): /dev/vfio and what is below it, the
 * device nodes of the devnodes[] table, /sys/kernel/iommu_groups, the
 * iommu_group and driver links of the platform's PCI functions, the vfio
 * module parameters, /proc/sys/kernel/tainted, /proc/self/pagemap.
 * Relative paths are never the model's.
 */
bool iommu_uapi_path_owned(const struct iommu_uapi *u, const char *path);

/*
 * open(2) of @path with @flags (O_ACCMODE, O_CLOEXEC, O_NONBLOCK,
 * O_DIRECTORY honoured): a new descriptor, or a negative errno
 * (-ENOENT also when the path is not the model's).
 */
int iommu_uapi_open(struct iommu_uapi *u, const char *path, int flags);
/* Whether @fd is one of the model's descriptors.  A descriptor number
 * the host reused after closing it behind the model's back is detected
 * (the model keeps the identity of the file it handed out). */
bool iommu_uapi_is_fd(struct iommu_uapi *u, int fd);
/* Whether the model handed out @fd and has not seen it closed (no check
 * of the host's descriptor: cheap). */
bool iommu_uapi_fd_known(const struct iommu_uapi *u, int fd);
/* close(2): the model forgets @fd (its file is released with its last
 * descriptor).  The caller closes the host descriptor.  -EBADF. */
int iommu_uapi_close(struct iommu_uapi *u, int fd);
/* After the host duplicated @oldfd into @newfd (dup, dup2, F_DUPFD):
 * both name the same file.  -EBADF. */
int iommu_uapi_dup(struct iommu_uapi *u, int oldfd, int newfd);

/* ioctl(2): >= 0 as the kernel returns, or a negative errno (-EBADF for
 * a descriptor that is not the model's, -ENOTTY for a request the file
 * does not know).  @arg is the user pointer or integer. */
long iommu_uapi_ioctl(struct iommu_uapi *u, int fd, unsigned long request, unsigned long arg);
/* read/write at and advancing the file position, pread/pwrite at @off. */
ssize_t iommu_uapi_read(struct iommu_uapi *u, int fd, void *buf, size_t count);
ssize_t iommu_uapi_write(struct iommu_uapi *u, int fd, const void *buf, size_t count);
ssize_t iommu_uapi_pread(struct iommu_uapi *u, int fd, void *buf, size_t count, off_t off);
ssize_t iommu_uapi_pwrite(struct iommu_uapi *u, int fd, const void *buf, size_t count,
			  off_t off);
off_t iommu_uapi_lseek(struct iommu_uapi *u, int fd, off_t off, int whence);
int iommu_uapi_fstat(struct iommu_uapi *u, int fd, struct stat *st);

/*
 * mmap(2) of @len bytes at file offset @off of @fd: the kernel's checks
 * (-EINVAL for a region that cannot be mapped, a private mapping, a range
 * past the region, -EACCES ...); on success *@map_fd / *@map_off name
 * host memory backing the region (a modelled BAR is memory shared by
 * every mapping and by read/write through the file), which the caller
 * maps with @prot and @flags.
 */
int iommu_uapi_mmap(struct iommu_uapi *u, int fd, size_t len, int prot, int flags, off_t off,
		    int *map_fd, off_t *map_off);

/* stat(2) and readlink(2) of a path the model owns: 0 / length, or a
 * negative errno (-ENOENT, -EINVAL for readlink of a non-link). */
int iommu_uapi_stat(struct iommu_uapi *u, const char *path, struct stat *st, bool follow);
ssize_t iommu_uapi_readlink(struct iommu_uapi *u, const char *path, char *buf, size_t len);

/* A directory of the model, in the order the kernel's readdir gives it
 * ("." and ".." first; sysfs directories in kernfs hash order). */
struct iommu_uapi_dirent {
	char name[64];
	unsigned char type;         /* DT_DIR, DT_REG, DT_LNK, DT_CHR */
	uint64_t ino;
};
int iommu_uapi_list_dir(struct iommu_uapi *u, const char *path,
			struct iommu_uapi_dirent **ents, size_t *n);

/* ------------------------------------------------------------------ */
/* Modelled devices                                                     */

/* What became of a modelled device's DMA. */
struct iommu_uapi_dma_result {
	uint64_t fault_addr;     /* the first address that did not translate */
	uint64_t phys;           /* the first byte's modelled physical address */
	bool translated;         /* went through an IOMMU (false: noiommu) */
	uint8_t vtd_fault_reason; /* VT-d fault reason when the unit refused */
};

/*
 * A DMA of @len bytes by the PCI function @bdf at bus address @addr:
 * through the IOMMU domain its group is attached to now (the VT-d unit's
 * tables on Intel platforms, the domain's page table otherwise), or
 * straight to physical memory for a device without an IOMMU (noiommu).
 * @write: device to memory.  The bytes land in modelled memory and, for
 * pages a process pinned or looked up, in the process's page itself, as
 * they would with real hardware.  0, -EFAULT (translation or permission
 * fault; @res says where), -EIO (the function's Bus Master Enable is off:
 * it issues no request), -ENODEV (no such device), -EINVAL.
 */
int iommu_uapi_device_dma(struct iommu_uapi *u, const char *bdf, uint64_t addr, void *buf,
			  size_t len, bool write, struct iommu_uapi_dma_result *res);
/* The same for the device of a VFIO device descriptor. */
int iommu_uapi_device_fd_dma(struct iommu_uapi *u, int device_fd, uint64_t addr, void *buf,
			     size_t len, bool write, struct iommu_uapi_dma_result *res);

/*
 * The device of a VFIO device descriptor raises interrupt @vector of
 * interrupt index @index (VFIO_PCI_INTX_IRQ_INDEX, _MSI_, _MSIX_): the
 * eventfd the program set with VFIO_DEVICE_SET_IRQS is signalled, INTx
 * masked automatically as vfio-pci's handler does.  1 when signalled, 0
 * when masked or without a trigger, -EINVAL when that index is not the
 * device's enabled one or the vector is out of range, -EBADF.
 */
int iommu_uapi_device_irq(struct iommu_uapi *u, int device_fd, unsigned index, unsigned vector);

/*
 * Writes to the model's sysfs attributes from a program go through
 * iommu_uapi_write on an opened attribute; this is the same for a caller
 * without a descriptor (module parameters: "vfio/enable_unsafe_noiommu_mode",
 * "vfio_iommu_type1/dma_entry_limit", "vfio_iommu_type1/allow_unsafe_interrupts").
 */
int iommu_uapi_set_param(struct iommu_uapi *u, const char *name, const char *value);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_UAPI_H */
