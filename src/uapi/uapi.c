// SPDX-License-Identifier: MIT
/*
 * The user-API layer: the object standing for the running kernel's
 * character devices and files, its descriptors, its log, its module
 * parameters, and a modelled device's DMA.
 *
 * Device nodes are found through devnodes[] below, the one table of
 * paths that open a character device of the model (the kernel's
 * chrdev/misc registrations).  iommufd adds {"/dev/iommu", ...} there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uapi/internal.h"

/*
 * The character devices of the model.  A path is looked up here before
 * the sysfs/procfs namespace (sysfs.c); the first entry that matches
 * opens the file.  To add a device node (iommufd: /dev/iommu, and the
 * VFIO device cdevs /dev/vfio/devices/vfioN of 6.6+), add an entry with
 * its open function; its struct uapi_fops decides everything else.
 * Order matters for prefixes: /dev/vfio/vfio before /dev/vfio/.
 */
static const struct uapi_devnode devnodes[] = {
	{ "/dev/vfio/vfio", false, vfio_container_open, 10, 196 },  /* VFIO_MINOR */
	{ "/dev/vfio/devices/", true, vfio_cdev_open, 0, 0 },      /* vfio_cdev.c */
	{ "/dev/iommu", false, iommufd_open, 10, IOMMUFD_MISC_MINOR }, /* iommufd.c */
	{ "/dev/vfio/", true, vfio_group_open, 0, 0 },
};

const struct uapi_devnode *uapi_devnode_lookup(const char *path);

const struct uapi_devnode *uapi_devnode_lookup(const char *path)
{
	for (size_t i = 0; i < sizeof(devnodes) / sizeof(devnodes[0]); i++) {
		size_t n = strlen(devnodes[i].path);

		if (devnodes[i].prefix ? !strncmp(path, devnodes[i].path, n) && path[n]
				       : !strcmp(path, devnodes[i].path))
			return &devnodes[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Log, taint, drivers                                                  */

void uapi_log(struct iommu_uapi *u, const char *fmt, ...)
{
	char line[512];
	char **nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	nl = realloc(u->log, (u->n_log + 1) * sizeof(*nl));
	if (nl) {
		u->log = nl;
		u->log[u->n_log] = strdup(line);
		if (u->log[u->n_log])
			u->n_log++;
	}
	if (u->opts.log)
		u->opts.log(u->opts.log_ctx, line);
}

void uapi_dev_log(struct iommu_uapi *u, const struct iommu_pci_dev *pdev, const char *drv,
		  const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uapi_log(u, "%s %s: %s", drv ? drv : "pci", pdev->name, msg);
}

size_t iommu_uapi_log_count(const struct iommu_uapi *u)
{
	return u->n_log;
}

const char *iommu_uapi_log_line(const struct iommu_uapi *u, size_t i)
{
	return i < u->n_log ? u->log[i] : NULL;
}

unsigned long iommu_uapi_taint(const struct iommu_uapi *u)
{
	return u->taint;
}

size_t uapi_device_index(const struct iommu_uapi *u, const struct iommu_pci_dev *pdev)
{
	for (size_t i = 0; i < u->n_devices; i++)
		if (iommu_platform_device(u->s->platform, i) == pdev)
			return i;
	return SIZE_MAX;
}

const char *iommu_uapi_driver(const struct iommu_uapi *u, const struct iommu_pci_dev *pdev)
{
	(void)u;
	return pdev->driver;
}

bool uapi_group_dma_owner_claimed(struct iommu_uapi *u, const struct vfio_group *g)
{
	(void)u;
	if (!g->iommu_group)
		return false;
	return iommu_group_dma_owner_claimed(g->iommu_group);
}

int uapi_claim_dma_owner(struct iommu_uapi *u, struct vfio_group *g)
{
	struct iommu_group_info *ig = g->iommu_group;
	const struct iommu_pci_dev *pdev;
	bool claimed, direct = false;
	int ret;

	if (!ig)
		return 0;
	claimed = iommu_group_dma_owner_claimed(ig);
	ret = iommu_group_claim_dma_owner(ig, g);
	if (ret == 0) {
		g->dma_owned = true;
		return 0;
	}
	/* The kernel's messages for the refusals of a direct (RMRR, IVMD
	 * unity) region, on the member the attach failed on. */
	for (size_t r = 0; r < ig->n_resv; r++)
		if (ig->resv[r].type == IOMMU_RESV_DIRECT)
			direct = true;
	if (!direct || claimed || !ig->n_devices)
		return ret;
	pdev = ig->devices[0]->pdev;
	for (size_t i = 0; i < ig->n_devices; i++)
		if (vfio_device_of(u, ig->devices[i]->pdev)) {
			pdev = ig->devices[i]->pdev;
			break;
		}
	if (ret == -EINVAL)
		uapi_dev_log(u, pdev, pdev->driver,
			     "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.");
	else if (ret == -EPERM && u->s->driver == IOMMU_DRIVER_INTEL)
		uapi_dev_log(u, pdev, pdev->driver,
			     "DMAR: Device is ineligible for IOMMU domain attach due to platform RMRR requirement.  Contact your platform vendor.");
	return ret;
}

void uapi_release_dma_owner(struct iommu_uapi *u, struct vfio_group *g)
{
	(void)u;
	if (g->iommu_group && g->dma_owned) {
		iommu_group_release_dma_owner(g->iommu_group);
		g->dma_owned = false;
	}
}

unsigned uapi_vfio_group_major(const struct iommu_uapi *u)
{
	/* The captures: 246 on 6.1, 245 on 6.12 (the vfio device cdev
	 * region of 6.6+ is allocated first). */
	return uapi_kernel_at_least(u, 6, 6) ? 245 : 246;
}

/* ------------------------------------------------------------------ */
/* Creation                                                             */

int iommu_uapi_create(struct iommu_system *s, const struct iommu_uapi_options *opts,
		      struct iommu_uapi **out, struct iommu_error *err)
{
	struct iommu_uapi_options none = { 0 };
	struct iommu_uapi *u;
	uint64_t size;
	int ret;

	if (!s || !out)
		return iommu_error_set(err, -EINVAL, "iommu_uapi_create: no system");
	*out = NULL;
	if (!opts)
		opts = &none;
	u = calloc(1, sizeof(*u));
	if (!u)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	u->s = s;
	u->opts = *opts;
	u->kv = s->kernel;
	u->noiommu = opts->noiommu;
	u->dma_entry_limit = opts->dma_entry_limit ? opts->dma_entry_limit : 65535;
	u->allow_unsafe_interrupts = opts->allow_unsafe_interrupts;
	u->rawio = u->ipc_lock = !opts->unprivileged;
	u->memlock_limit = UINT64_MAX;
	if (opts->unprivileged) {
		struct rlimit rl;

		u->memlock_limit = opts->memlock_limit;
		if (!u->memlock_limit)
			u->memlock_limit = getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
					   rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : UINT64_MAX;
	}
	u->next_ino = 1000;
	u->n_devices = iommu_platform_num_devices(s->platform);
	u->vdevs = calloc(u->n_devices ? u->n_devices : 1, sizeof(*u->vdevs));
	if (!u->vdevs) {
		free(u);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}

	size = opts->mem_size ? opts->mem_size : IOMMU_UAPI_DEFAULT_MEM_SIZE;
	if (!iommu_system_started(s)) {
		ret = iommu_system_start(s, size, err);
		if (ret && ret != -ENODEV) {
			iommu_uapi_destroy(u);
			return ret;
		}
		iommu_error_clear(err);
	}
	u->mem = iommu_system_mem(s);
	if (!u->mem) {
		/* No IOMMU driver runs: memory without one (noiommu). */
		ret = iommu_mem_create(size, &u->own_mem);
		if (ret) {
			iommu_uapi_destroy(u);
			return iommu_error_set(err, ret, "modelled memory of %llu bytes: %s",
					       (unsigned long long)size, strerror(-ret));
		}
		u->mem = u->own_mem;
	}
	size = iommu_mem_size(u->mem);
	/* Frames for user pages: high RAM from 4 GiB up to the last eighth
	 * (the Intel driver's tables live in the top of memory); a memory
	 * below 8 GiB gives its middle half. */
	if (size >= (UINT64_C(8) << 30)) {
		u->pool_base = UINT64_C(4) << 30;
		u->pool_end = size - size / 8;
	} else {
		u->pool_base = size / 4;
		u->pool_end = size - size / 4;
	}
	u->pool_base &= ~(uint64_t)(UAPI_PAGE_SIZE - 1);
	u->pool_end &= ~(uint64_t)(UAPI_PAGE_SIZE - 1);
	ret = uapi_mm_create(u, &u->mm);
	if (ret) {
		iommu_uapi_destroy(u);
		return iommu_error_set(err, ret, "out of memory");
	}
	uapi_log(u, "VFIO - User Level meta-driver version: 0.3");
	*out = u;
	return 0;
}

struct iommu_system *iommu_uapi_system(const struct iommu_uapi *u)
{
	return u->s;
}

void iommu_uapi_destroy(struct iommu_uapi *u)
{
	if (!u)
		return;
	/* Descriptors first: files release groups, containers, devices. */
	for (size_t i = 0; i < u->n_fds; i++) {
		struct uapi_file *f = u->fds[i].file;

		if (!f)
			continue;
		u->fds[i].file = NULL;
		close((int)i);
		uapi_file_put(f);
	}
	free(u->fds);
	for (size_t i = 0; i < u->n_groups; i++) {
		struct vfio_group *g = u->groups[i];

		uapi_release_dma_owner(u, g);
		for (size_t d = 0; d < g->n_devices; d++) {
			vfio_device_free_state(g->devices[d]);
			free(g->devices[d]);
		}
		free(g->devices);
		free(g);
	}
	free(u->groups);
	free(u->vdevs);
	uapi_mm_destroy(u->mm);
	if (u->own_mem)
		iommu_mem_destroy(u->own_mem);
	for (size_t i = 0; i < u->n_log; i++)
		free(u->log[i]);
	free(u->log);
	free(u);
}

/* ------------------------------------------------------------------ */
/* Files and descriptors                                                */

struct uapi_file *uapi_file_alloc(struct iommu_uapi *u, const struct uapi_fops *fops,
				  void *private_data)
{
	struct uapi_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fops = fops;
	f->u = u;
	f->private_data = private_data;
	f->ino = u->next_ino++;
	f->mode = S_IRUSR | S_IWUSR;
	return f;
}

void uapi_file_get(struct uapi_file *f)
{
	f->refs++;
}

void uapi_file_put(struct uapi_file *f)
{
	if (!f || --f->refs > 0)
		return;
	if (f->fops->release)
		f->fops->release(f);
	free(f->text);
	free(f);
}

int uapi_fd_install(struct iommu_uapi *u, struct uapi_file *f, int flags)
{
	unsigned mfd_flags = (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0;
	char name[64];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "iommu-model:%s", f->fops->name);
	fd = memfd_create(name, mfd_flags);
	if (fd < 0) {
		int e = -errno;

		if (!f->refs) {
			f->refs = 1;
			uapi_file_put(f);
		}
		return e;
	}
	if (fstat(fd, &st)) {
		close(fd);
		if (!f->refs) {
			f->refs = 1;
			uapi_file_put(f);
		}
		return -EMFILE;
	}
	if ((size_t)fd >= u->n_fds) {
		size_t n = (size_t)fd + 64;
		struct uapi_fd_slot *nf = realloc(u->fds, n * sizeof(*nf));

		if (!nf) {
			close(fd);
			if (!f->refs) {
				f->refs = 1;
				uapi_file_put(f);
			}
			return -ENOMEM;
		}
		memset(nf + u->n_fds, 0, (n - u->n_fds) * sizeof(*nf));
		u->fds = nf;
		u->n_fds = n;
	}
	u->fds[fd].file = f;
	u->fds[fd].dev = st.st_dev;
	u->fds[fd].ino = st.st_ino;
	f->refs++;
	f->flags = flags;
	/* An attribute's text is also the descriptor's content, for reads
	 * that do not come through the model (stdio inside the C library). */
	if (f->text_len)
		(void)!pwrite(fd, f->text, f->text_len, 0);
	return fd;
}

struct uapi_file *uapi_fd_file(struct iommu_uapi *u, int fd)
{
	struct uapi_fd_slot *s;
	struct stat st;

	if (fd < 0 || (size_t)fd >= u->n_fds || !u->fds[fd].file)
		return NULL;
	s = &u->fds[fd];
	/* The host may have closed and reused the number without telling
	 * us (exec of a close-on-exec descriptor, a raw close syscall). */
	if (fstat(fd, &st) || st.st_dev != s->dev || st.st_ino != s->ino) {
		struct uapi_file *f = s->file;

		s->file = NULL;
		uapi_file_put(f);
		return NULL;
	}
	return s->file;
}

bool iommu_uapi_fd_known(const struct iommu_uapi *u, int fd)
{
	return fd >= 0 && (size_t)fd < u->n_fds && u->fds[fd].file;
}

bool iommu_uapi_is_fd(struct iommu_uapi *u, int fd)
{
	return uapi_fd_file(u, fd) != NULL;
}

int iommu_uapi_close(struct iommu_uapi *u, int fd)
{
	struct uapi_file *f;

	if (fd < 0 || (size_t)fd >= u->n_fds || !u->fds[fd].file)
		return -EBADF;
	f = u->fds[fd].file;
	u->fds[fd].file = NULL;
	uapi_file_put(f);
	return 0;
}

int iommu_uapi_dup(struct iommu_uapi *u, int oldfd, int newfd)
{
	struct uapi_file *f = uapi_fd_file(u, oldfd);
	struct stat st;

	if (!f || newfd < 0)
		return -EBADF;
	if (newfd == oldfd)
		return 0;
	if ((size_t)newfd < u->n_fds && u->fds[newfd].file)
		iommu_uapi_close(u, newfd);
	if ((size_t)newfd >= u->n_fds) {
		size_t n = (size_t)newfd + 64;
		struct uapi_fd_slot *nf = realloc(u->fds, n * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		memset(nf + u->n_fds, 0, (n - u->n_fds) * sizeof(*nf));
		u->fds = nf;
		u->n_fds = n;
	}
	if (fstat(newfd, &st))
		return -EBADF;
	u->fds[newfd].file = f;
	u->fds[newfd].dev = st.st_dev;
	u->fds[newfd].ino = st.st_ino;
	f->refs++;
	return 0;
}

int iommu_uapi_open(struct iommu_uapi *u, const char *path, int flags)
{
	const struct uapi_devnode *dn;
	struct uapi_file *f = NULL;
	char real[256];
	int ret;

	if (!path)
		return -EFAULT;
	if (!iommu_uapi_path_owned(u, path))
		return -ENOENT;
	ret = uapi_path_resolve(u, path, true, real, sizeof(real));
	if (ret)
		return ret;
	dn = uapi_devnode_lookup(real);
	if (dn) {
		if (flags & O_DIRECTORY)
			return -ENOTDIR;
		ret = dn->open(u, real, flags, &f);
	} else {
		ret = uapi_sysfs_open(u, real, flags, &f);
	}
	if (ret)
		return ret;
	return uapi_fd_install(u, f, flags);
}

long iommu_uapi_ioctl(struct iommu_uapi *u, int fd, unsigned long request, unsigned long arg)
{
	struct uapi_file *f = uapi_fd_file(u, fd);

	if (!f)
		return -EBADF;
	if (!f->fops->ioctl)
		return -ENOTTY;
	/* The kernel's cmd is an unsigned int. */
	return f->fops->ioctl(f, (unsigned int)request, arg);
}

/* rw_verify_area's limit: MAX_RW_COUNT. */
#define MAX_RW_COUNT (INT_MAX & ~(size_t)(UAPI_PAGE_SIZE - 1))

static ssize_t do_read(struct uapi_file *f, void *buf, size_t count, uint64_t *pos)
{
	uint8_t *tmp;
	ssize_t r;

	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (!f->fops->read)
		return -EINVAL;
	if (!count)
		return 0;
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	tmp = malloc(count);
	if (!tmp)
		return -ENOMEM;
	r = f->fops->read(f, tmp, count, pos);
	if (r > 0 && uapi_copy_to_user(f->u, (unsigned long)(uintptr_t)buf, tmp, (size_t)r))
		r = -EFAULT;
	free(tmp);
	return r;
}

static ssize_t do_write(struct uapi_file *f, const void *buf, size_t count, uint64_t *pos)
{
	uint8_t *tmp;
	ssize_t r;

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (!f->fops->write)
		return -EINVAL;
	if (!count)
		return 0;
	if (count > MAX_RW_COUNT)
		count = MAX_RW_COUNT;
	tmp = malloc(count);
	if (!tmp)
		return -ENOMEM;
	if (uapi_copy_from_user(f->u, tmp, (unsigned long)(uintptr_t)buf, count))
		r = -EFAULT;
	else
		r = f->fops->write(f, tmp, count, pos);
	free(tmp);
	return r;
}

ssize_t iommu_uapi_read(struct iommu_uapi *u, int fd, void *buf, size_t count)
{
	struct uapi_file *f = uapi_fd_file(u, fd);

	if (!f)
		return -EBADF;
	return do_read(f, buf, count, &f->pos);
}

ssize_t iommu_uapi_write(struct iommu_uapi *u, int fd, const void *buf, size_t count)
{
	struct uapi_file *f = uapi_fd_file(u, fd);

	if (!f)
		return -EBADF;
	return do_write(f, buf, count, &f->pos);
}

ssize_t iommu_uapi_pread(struct iommu_uapi *u, int fd, void *buf, size_t count, off_t off)
{
	struct uapi_file *f = uapi_fd_file(u, fd);
	uint64_t pos = (uint64_t)off;

	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	return do_read(f, buf, count, &pos);
}

ssize_t iommu_uapi_pwrite(struct iommu_uapi *u, int fd, const void *buf, size_t count,
			  off_t off)
{
	struct uapi_file *f = uapi_fd_file(u, fd);
	uint64_t pos = (uint64_t)off;

	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	return do_write(f, buf, count, &pos);
}

off_t iommu_uapi_lseek(struct iommu_uapi *u, int fd, off_t off, int whence)
{
	struct uapi_file *f = uapi_fd_file(u, fd);
	int64_t base;

	if (!f)
		return -EBADF;
	/* File operations without llseek: vfs_llseek's -ESPIPE. */
	if (!f->fops->seekable)
		return -ESPIPE;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = (int64_t)f->text_len;
		break;
	default:
		return -EINVAL;
	}
	if (base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (off_t)f->pos;
}

int iommu_uapi_fstat(struct iommu_uapi *u, int fd, struct stat *st)
{
	struct uapi_file *f = uapi_fd_file(u, fd);

	if (!f)
		return -EBADF;
	memset(st, 0, sizeof(*st));
	st->st_mode = f->mode;
	st->st_rdev = f->rdev;
	st->st_ino = f->ino;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	st->st_size = f->fops->kind == UAPI_FILE_ATTR ? 4096 : 0;
	st->st_dev = makedev(0, 5);
	return 0;
}

int iommu_uapi_mmap(struct iommu_uapi *u, int fd, size_t len, int prot, int flags, off_t off,
		    int *map_fd, off_t *map_off)
{
	struct uapi_file *f = uapi_fd_file(u, fd);

	if (!f)
		return -EBADF;
	if (!f->fops->mmap)
		return -ENODEV;
	if (off < 0 || (off & (UAPI_PAGE_SIZE - 1)))
		return -EINVAL;
	return f->fops->mmap(f, (uint64_t)off, len, prot, flags, map_fd, map_off);
}

/* ------------------------------------------------------------------ */
/* Module parameters                                                    */

/* kstrtobool: y/Y/1/on, n/N/0/off (a trailing newline accepted). */
static int parse_bool(const char *v, bool *out)
{
	char buf[8];
	size_t n = strlen(v);

	if (n && v[n - 1] == '\n')
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (!strcmp(buf, "1") || buf[0] == 'y' || buf[0] == 'Y' || !strcasecmp(buf, "on"))
		*out = true;
	else if (!strcmp(buf, "0") || buf[0] == 'n' || buf[0] == 'N' || !strcasecmp(buf, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int iommu_uapi_set_param(struct iommu_uapi *u, const char *name, const char *value)
{
	bool b;
	int ret;

	if (!name || !value)
		return -EINVAL;
	if (!strcmp(name, "vfio/enable_unsafe_noiommu_mode")) {
		ret = parse_bool(value, &b);
		if (!ret)
			u->noiommu = b;
		return ret;
	}
	if (!strcmp(name, "vfio_iommu_type1/allow_unsafe_interrupts")) {
		ret = parse_bool(value, &b);
		if (!ret)
			u->allow_unsafe_interrupts = b;
		return ret;
	}
	if (!strcmp(name, "vfio_iommu_type1/dma_entry_limit")) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(value, &end, 0);
		if (end == value || errno || v > UINT32_MAX || value[0] == '-' ||
		    (*end && strcmp(end, "\n")))
			return -EINVAL;
		u->dma_entry_limit = (unsigned)v;
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Modelled devices' DMA                                                */

int uapi_phys_access(struct iommu_uapi *u, uint64_t phys, void *buf, size_t len, bool write)
{
	if (phys + len < phys || phys + len > iommu_mem_size(u->mem))
		return -EFAULT;
	return uapi_mm_dma(u->mm, phys, buf, len, write);
}

static int device_dma(struct iommu_uapi *u, struct iommu_pci_dev *pdev, uint64_t addr,
		      void *buf, size_t len, bool write, struct iommu_uapi_dma_result *res)
{
	struct iommu_device_info *di = iommu_system_device(u->s, pdev);
	struct iommu_uapi_dma_result r = { 0 };
	uint8_t *b = buf;
	int ret = 0;

	if (!di)
		return -ENODEV;
	if (addr + len < addr)
		return -EINVAL;
	/* A function without Bus Master Enable issues no DMA (the config
	 * space of an open VFIO device, else the platform's). */
	{
		struct vfio_device *vdev = vfio_device_of(u, pdev);
		uint16_t cmd = vdev && vdev->pci ? (uint16_t)(vdev->pci->phys[4] | vdev->pci->phys[5] << 8)
						 : pdev->command;

		if (!(cmd & 0x4))
			return -EIO;
	}
	while (len) {
		size_t chunk = UAPI_PAGE_SIZE - (addr & (UAPI_PAGE_SIZE - 1));
		uint64_t phys;

		if (chunk > len)
			chunk = len;
		if (di->group && iommu_system_started(u->s)) {
			struct iommu_device_xlate x = { 0 };

			ret = iommu_device_translate(u->s, pdev, addr, write, &x);
			if (ret) {
				r.fault_addr = addr;
				r.vtd_fault_reason = (uint8_t)x.fault_reason;
				r.translated = true;
				break;
			}
			phys = x.host_addr;
			r.translated = !x.direct;
		} else {
			/* No IOMMU translates it: bus address = physical. */
			phys = addr;
		}
		if (b == buf)
			r.phys = phys;
		ret = uapi_phys_access(u, phys, b, chunk, write);
		if (ret) {
			r.fault_addr = addr;
			break;
		}
		addr += chunk;
		b += chunk;
		len -= chunk;
	}
	if (res)
		*res = r;
	return ret;
}

int iommu_uapi_device_dma(struct iommu_uapi *u, const char *bdf, uint64_t addr, void *buf,
			  size_t len, bool write, struct iommu_uapi_dma_result *res)
{
	struct iommu_pci_addr a;
	struct iommu_pci_dev *pdev;

	if (!bdf || iommu_pci_addr_parse(bdf, &a))
		return -EINVAL;
	if (!buf && len)
		return -EINVAL;
	pdev = iommu_platform_find_device(u->s->platform, a);
	if (!pdev)
		return -ENODEV;
	return device_dma(u, pdev, addr, buf, len, write, res);
}

int iommu_uapi_device_fd_dma(struct iommu_uapi *u, int device_fd, uint64_t addr, void *buf,
			     size_t len, bool write, struct iommu_uapi_dma_result *res)
{
	struct uapi_file *f = uapi_fd_file(u, device_fd);
	struct vfio_device *vdev;

	/* a device cdev bound to an iommufd (vfio_cdev.c) too */
	vdev = f && f->fops->kind == UAPI_FILE_VFIO_CDEV ? vfio_cdev_device(f) : NULL;
	if (!vdev && (!f || f->fops != &vfio_device_fops))
		return -EBADF;
	if (!buf && len)
		return -EINVAL;
	if (!vdev)
		vdev = f->private_data;
	return device_dma(u, vdev->pdev, addr, buf, len, write, res);
}

/* ------------------------------------------------------------------ */
/* User memory                                                          */

int uapi_copy_from_user(struct iommu_uapi *u, void *dst, unsigned long uptr, size_t n)
{
	return uapi_user_read(u->mm, uptr, dst, n);
}

int uapi_copy_to_user(struct iommu_uapi *u, unsigned long uptr, const void *src, size_t n)
{
	return uapi_user_write(u->mm, uptr, src, n);
}

char *uapi_strndup_user(struct iommu_uapi *u, unsigned long uptr, size_t max, int *err)
{
	char *s = malloc(max);
	size_t got = 0;

	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	/* strnlen_user reads up to the first fault: page by page. */
	while (got < max) {
		size_t chunk = UAPI_PAGE_SIZE - ((uptr + got) & (UAPI_PAGE_SIZE - 1));
		char *nul;

		if (chunk > max - got)
			chunk = max - got;
		if (uapi_user_read(u->mm, uptr + got, s + got, chunk)) {
			free(s);
			*err = -EFAULT;
			return NULL;
		}
		nul = memchr(s + got, '\0', chunk);
		if (nul)
			return s;
		got += chunk;
	}
	free(s);
	*err = -EINVAL;
	return NULL;
}

bool uapi_host_fd_valid(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}
