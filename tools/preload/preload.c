// SPDX-License-Identifier: MIT
/*
 * libiommu-preload.so: runs an unmodified program against a modelled
 * platform.  `iommu run` puts this library in LD_PRELOAD and describes
 * the model in the environment; the library builds the model once (the
 * platform, its IOMMU state, the devices bound to vfio-pci) and routes
 * the program's system calls on the model's files to it:
 *
 *   open, openat (and the _2/64 variants), fopen, close, close_range,
 *   closefrom, dup, dup2, dup3, fcntl(F_DUPFD), ioctl, read, write, pread,
 *   pwrite, lseek, mmap, stat/lstat/fstat/fstatat, access/faccessat,
 *   readlink/readlinkat, opendir/readdir/closedir/dirfd/rewinddir,
 *
 * for the paths iommu_uapi_path_owned() claims (/dev/vfio, the device
 * nodes of the uapi layer's devnodes[] table such as /dev/iommu once
 * iommufd is there, /sys/kernel/iommu_groups, the PCI functions'
 * iommu_group and driver links, the vfio module parameters,
 * /proc/sys/kernel/tainted, /proc/self/pagemap) and the descriptors the
 * model handed out.  Everything else goes to the C library's own
 * functions (dlsym RTLD_NEXT).  The model's descriptors are real
 * descriptors (memfds), so that the program may close, dup or poll them.
 *
 * Environment (set by iommu run):
 *   IOMMU_RUN_PLATFORM   snapshot:DIR | builtin:NAME | host
 *   IOMMU_RUN_CMDLINE, IOMMU_RUN_KERNEL, IOMMU_RUN_ACS_OVERRIDE
 *                        the what-if options
 *   IOMMU_RUN_VFIO       BDF,... bound to vfio-pci in that order
 *   IOMMU_RUN_NOIOMMU    1: vfio.enable_unsafe_noiommu_mode=1
 *   IOMMU_RUN_USER       1: an unprivileged caller
 *   IOMMU_RUN_DMA_ENTRY_LIMIT, IOMMU_RUN_ALLOW_UNSAFE_INTERRUPTS
 *   IOMMU_RUN_LOG        stderr (default) | none | FILE: the kernel log
 *
 * For test programs, the library exports iommu_model_dma() (a modelled
 * device's DMA through the modelled IOMMU) and iommu_model_irq().
 */
/* Each C library name is defined here under its own name: without this,
 * the headers would rename open to open64 (and so on) and the two
 * definitions would collide.  off_t is 64 bits on the 64-bit targets
 * this library is built for either way. */
#undef _FILE_OFFSET_BITS

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include "iommu/core.h"
#include "iommu/platform.h"
#include "iommu/uapi.h"

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* The real functions                                                   */

struct real {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pread64)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*pwrite64)(int, const void *, size_t, off_t);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*pread_chk)(int, void *, size_t, off_t, size_t);
	ssize_t (*pread64_chk)(int, void *, size_t, off_t, size_t);
	off_t (*lseek)(int, off_t, int);
	off_t (*lseek64)(int, off_t, int);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*stat)(const char *, struct stat *);
	int (*stat64)(const char *, struct stat64 *);
	int (*lstat)(const char *, struct stat *);
	int (*lstat64)(const char *, struct stat64 *);
	int (*fstat)(int, struct stat *);
	int (*fstat64)(int, struct stat64 *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*fstatat64)(int, const char *, struct stat64 *, int);
	int (*statx)(int, const char *, int, unsigned, struct statx *);
	int (*access)(const char *, int);
	int (*faccessat)(int, const char *, int, int);
	ssize_t (*readlink)(const char *, char *, size_t);
	ssize_t (*readlinkat)(int, const char *, char *, size_t);
	ssize_t (*readlink_chk)(const char *, char *, size_t, size_t);
	DIR *(*opendir)(const char *);
	struct dirent *(*readdir)(DIR *);
	struct dirent64 *(*readdir64)(DIR *);
	int (*closedir)(DIR *);
	int (*dirfd)(DIR *);
	void (*rewinddir)(DIR *);
	long (*telldir)(DIR *);
	void (*seekdir)(DIR *, long);
};

static struct real real;

#define RESOLVE(name, sym) \
	do { \
		if (!real.name) \
			*(void **)&real.name = dlsym(RTLD_NEXT, sym); \
	} while (0)

static void resolve_all(void)
{
	RESOLVE(open, "open");
	RESOLVE(open64, "open64");
	RESOLVE(openat, "openat");
	RESOLVE(openat64, "openat64");
	RESOLVE(open_2, "__open_2");
	RESOLVE(open64_2, "__open64_2");
	RESOLVE(openat_2, "__openat_2");
	RESOLVE(openat64_2, "__openat64_2");
	RESOLVE(fopen, "fopen");
	RESOLVE(fopen64, "fopen64");
	RESOLVE(close, "close");
	RESOLVE(close_range, "close_range");
	RESOLVE(closefrom, "closefrom");
	RESOLVE(dup, "dup");
	RESOLVE(dup2, "dup2");
	RESOLVE(dup3, "dup3");
	RESOLVE(fcntl, "fcntl");
	RESOLVE(fcntl64, "fcntl64");
	RESOLVE(ioctl, "ioctl");
	RESOLVE(read, "read");
	RESOLVE(write, "write");
	RESOLVE(pread, "pread");
	RESOLVE(pread64, "pread64");
	RESOLVE(pwrite, "pwrite");
	RESOLVE(pwrite64, "pwrite64");
	RESOLVE(read_chk, "__read_chk");
	RESOLVE(pread_chk, "__pread_chk");
	RESOLVE(pread64_chk, "__pread64_chk");
	RESOLVE(lseek, "lseek");
	RESOLVE(lseek64, "lseek64");
	RESOLVE(mmap, "mmap");
	RESOLVE(mmap64, "mmap64");
	RESOLVE(stat, "stat");
	RESOLVE(stat64, "stat64");
	RESOLVE(lstat, "lstat");
	RESOLVE(lstat64, "lstat64");
	RESOLVE(fstat, "fstat");
	RESOLVE(fstat64, "fstat64");
	RESOLVE(fstatat, "fstatat");
	RESOLVE(fstatat64, "fstatat64");
	RESOLVE(statx, "statx");
	RESOLVE(access, "access");
	RESOLVE(faccessat, "faccessat");
	RESOLVE(readlink, "readlink");
	RESOLVE(readlinkat, "readlinkat");
	RESOLVE(readlink_chk, "__readlink_chk");
	RESOLVE(opendir, "opendir");
	RESOLVE(readdir, "readdir");
	RESOLVE(readdir64, "readdir64");
	RESOLVE(closedir, "closedir");
	RESOLVE(dirfd, "dirfd");
	RESOLVE(rewinddir, "rewinddir");
	RESOLVE(telldir, "telldir");
	RESOLVE(seekdir, "seekdir");
}

/* ------------------------------------------------------------------ */
/* The model                                                            */

enum { MODEL_NONE, MODEL_BUILDING, MODEL_READY, MODEL_OFF };

static _Atomic int model_state = MODEL_NONE;
static struct iommu_uapi *model;
static struct iommu_platform *platform;
static struct iommu_system *sys_;
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int in_model;    /* the model's own calls pass through */
static FILE *log_file;

/* Descriptors the model handed out, for a lock-free test on every call. */
#define FDBITS 65536
static _Atomic unsigned char fdbits[FDBITS];

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	if (log_file)
		fprintf(log_file, "[model kernel] %s\n", line), fflush(log_file);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "libiommu-preload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	_exit(126);
}

static void build_model(void)
{
	const char *plat = getenv("IOMMU_RUN_PLATFORM");
	const char *logto = getenv("IOMMU_RUN_LOG");
	struct iommu_system_options so = { 0 };
	struct iommu_uapi_options uo = { 0 };
	struct iommu_error err = { 0 };
	const char *v;
	int ret;

	if (!plat || !*plat) {
		atomic_store(&model_state, MODEL_OFF);
		return;
	}
	in_model++;
	if (!logto || !strcmp(logto, "stderr"))
		log_file = stderr;
	else if (strcmp(logto, "none"))
		log_file = fopen(logto, "a");
	if (!strncmp(plat, "snapshot:", 9))
		ret = iommu_platform_load_snapshot(plat + 9, &platform, &err);
	else if (!strncmp(plat, "builtin:", 8))
		ret = iommu_platform_load_builtin(plat + 8, &platform, &err);
	else if (!strcmp(plat, "host"))
		ret = iommu_platform_load_host(NULL, NULL, &platform, &err);
	else
		die("IOMMU_RUN_PLATFORM=\"%s\": want snapshot:DIR, builtin:NAME or host", plat);
	if (ret)
		die("platform: %s", err.msg);
	so.cmdline = getenv("IOMMU_RUN_CMDLINE");
	so.kernel = getenv("IOMMU_RUN_KERNEL");
	so.acs_override = getenv("IOMMU_RUN_ACS_OVERRIDE");
	ret = iommu_system_build(platform, &so, &sys_, &err);
	if (ret)
		die("%s", err.msg);
	uo.noiommu = (v = getenv("IOMMU_RUN_NOIOMMU")) && !strcmp(v, "1");
	uo.unprivileged = (v = getenv("IOMMU_RUN_USER")) && !strcmp(v, "1");
	uo.allow_unsafe_interrupts = (v = getenv("IOMMU_RUN_ALLOW_UNSAFE_INTERRUPTS")) && !strcmp(v, "1");
	if ((v = getenv("IOMMU_RUN_DMA_ENTRY_LIMIT")))
		uo.dma_entry_limit = (unsigned)strtoul(v, NULL, 0);
	uo.log = log_line;
	ret = iommu_uapi_create(sys_, &uo, &model, &err);
	if (ret)
		die("%s", err.msg);
	ret = iommu_uapi_vfio_bind_list(model, getenv("IOMMU_RUN_VFIO"), &err);
	if (ret)
		die("%s", err.msg);
	in_model--;
	atomic_store(&model_state, MODEL_READY);
}

__attribute__((constructor)) static void preload_init(void)
{
	int expect = MODEL_NONE;

	resolve_all();
	if (atomic_compare_exchange_strong(&model_state, &expect, MODEL_BUILDING))
		build_model();
}

static bool active(void)
{
	return !in_model && atomic_load(&model_state) == MODEL_READY;
}

static void enter(void)
{
	pthread_mutex_lock(&model_lock);
	in_model++;
}

static void leave(void)
{
	in_model--;
	pthread_mutex_unlock(&model_lock);
}

static bool fd_is_model(int fd)
{
	if (fd < 0)
		return false;
	if (fd < FDBITS)
		return atomic_load(&fdbits[fd]) != 0;
	return false;
}

static void fd_mark(int fd, bool on)
{
	if (fd >= 0 && fd < FDBITS)
		atomic_store(&fdbits[fd], on ? 1 : 0);
}

/* After a call that may have made @fd: mark it when the model has it. */
static void fd_note(int fd)
{
	if (fd >= 0 && fd < FDBITS && iommu_uapi_fd_known(model, fd))
		fd_mark(fd, true);
}

static long ret_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* The absolute path of @path relative to @dirfd, for the model's test
 * (only AT_FDCWD and absolute paths can be the model's). */
static bool model_path(int dirfd, const char *path)
{
	bool owned;

	if (!path || path[0] != '/')
		return false;
	(void)dirfd;
	enter();
	owned = iommu_uapi_path_owned(model, path);
	leave();
	return owned;
}

/* ------------------------------------------------------------------ */
/* open                                                                 */

static int model_open(const char *path, int flags)
{
	int fd;

	enter();
	fd = iommu_uapi_open(model, path, flags);
	if (fd >= 0)
		fd_mark(fd, true);
	leave();
	return (int)ret_errno(fd);
}

static mode_t va_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | __O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (active() && model_path(AT_FDCWD, path))
		return model_open(path, flags);
	RESOLVE(open, "open");
	return real.open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (active() && model_path(AT_FDCWD, path))
		return model_open(path, flags);
	RESOLVE(open64, "open64");
	return real.open64(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (active() && model_path(dirfd, path))
		return model_open(path, flags);
	RESOLVE(openat, "openat");
	return real.openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (active() && model_path(dirfd, path))
		return model_open(path, flags);
	RESOLVE(openat64, "openat64");
	return real.openat64(dirfd, path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_open(path, flags);
	RESOLVE(open_2, "__open_2");
	return real.open_2(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_open(path, flags);
	RESOLVE(open64_2, "__open64_2");
	return real.open64_2(path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (active() && model_path(dirfd, path))
		return model_open(path, flags);
	RESOLVE(openat_2, "__openat_2");
	return real.openat_2(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	if (active() && model_path(dirfd, path))
		return model_open(path, flags);
	RESOLVE(openat64_2, "__openat64_2");
	return real.openat64_2(dirfd, path, flags);
}

/* stdio on a model file: a cookie stream whose reads and writes go to
 * the model (the C library's own read() would not come through here). */
static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	int fd = (int)(intptr_t)c;
	ssize_t r;

	enter();
	r = iommu_uapi_read(model, fd, buf, n);
	leave();
	return ret_errno(r);
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	int fd = (int)(intptr_t)c;
	ssize_t r;

	enter();
	r = iommu_uapi_write(model, fd, buf, n);
	leave();
	return ret_errno(r);
}

static int cookie_seek(void *c, off64_t *off, int whence)
{
	int fd = (int)(intptr_t)c;
	off_t r;

	enter();
	r = iommu_uapi_lseek(model, fd, *off, whence);
	leave();
	if (r < 0)
		return (int)ret_errno(r);
	*off = r;
	return 0;
}

static int cookie_close(void *c)
{
	int fd = (int)(intptr_t)c;

	enter();
	iommu_uapi_close(model, fd);
	fd_mark(fd, false);
	leave();
	RESOLVE(close, "close");
	return real.close(fd);
}

static FILE *model_fopen(const char *path, const char *mode)
{
	cookie_io_functions_t io = { cookie_read, cookie_write, cookie_seek, cookie_close };
	int flags = O_RDONLY, fd;
	FILE *f;

	if (mode[0] == 'w' || mode[0] == 'a')
		flags = O_WRONLY;
	if (strchr(mode, '+'))
		flags = O_RDWR;
	if (strchr(mode, 'e'))
		flags |= O_CLOEXEC;
	fd = model_open(path, flags);
	if (fd < 0)
		return NULL;
	f = fopencookie((void *)(intptr_t)fd, mode, io);
	if (!f) {
		int e = errno;

		cookie_close((void *)(intptr_t)fd);
		errno = e;
	}
	return f;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_fopen(path, mode);
	RESOLVE(fopen, "fopen");
	return real.fopen(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_fopen(path, mode);
	RESOLVE(fopen64, "fopen64");
	return real.fopen64(path, mode);
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                          */

static void model_forget(int fd)
{
	enter();
	iommu_uapi_close(model, fd);
	fd_mark(fd, false);
	leave();
}

EXPORT int close(int fd)
{
	RESOLVE(close, "close");
	if (active() && fd_is_model(fd))
		model_forget(fd);
	return real.close(fd);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	RESOLVE(close_range, "close_range");
	if (active() && !(flags & 4 /* CLOSE_RANGE_CLOEXEC */))
		for (unsigned fd = first; fd <= last && fd < FDBITS; fd++)
			if (fd_is_model((int)fd))
				model_forget((int)fd);
	return real.close_range ? real.close_range(first, last, flags) : (errno = ENOSYS, -1);
}

EXPORT void closefrom(int lowfd)
{
	RESOLVE(closefrom, "closefrom");
	if (active())
		for (int fd = lowfd < 0 ? 0 : lowfd; fd < FDBITS; fd++)
			if (fd_is_model(fd))
				model_forget(fd);
	if (real.closefrom)
		real.closefrom(lowfd);
}

static void model_dup(int oldfd, int newfd)
{
	if (newfd < 0)
		return;
	enter();
	if (iommu_uapi_dup(model, oldfd, newfd) == 0)
		fd_mark(newfd, true);
	leave();
}

EXPORT int dup(int fd)
{
	int r;

	RESOLVE(dup, "dup");
	r = real.dup(fd);
	if (active() && fd_is_model(fd))
		model_dup(fd, r);
	return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
	int r;

	RESOLVE(dup2, "dup2");
	if (active() && oldfd != newfd && fd_is_model(newfd) && fcntl(oldfd, F_GETFD) >= 0)
		model_forget(newfd);
	r = real.dup2(oldfd, newfd);
	if (r >= 0 && active() && fd_is_model(oldfd))
		model_dup(oldfd, r);
	return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int r;

	RESOLVE(dup3, "dup3");
	if (active() && oldfd != newfd && fd_is_model(newfd) && fcntl(oldfd, F_GETFD) >= 0)
		model_forget(newfd);
	r = real.dup3(oldfd, newfd, flags);
	if (r >= 0 && active() && fd_is_model(oldfd))
		model_dup(oldfd, r);
	return r;
}

static int do_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
	int r = fn(fd, cmd, arg);

	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && active() && fd_is_model(fd))
		model_dup(fd, r);
	return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	RESOLVE(fcntl, "fcntl");
	return do_fcntl(real.fcntl, fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	RESOLVE(fcntl64, "fcntl64");
	return do_fcntl(real.fcntl64 ? real.fcntl64 : real.fcntl, fd, cmd, arg);
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	long r;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!active() || !fd_is_model(fd)) {
		RESOLVE(ioctl, "ioctl");
		return real.ioctl(fd, request, arg);
	}
	enter();
	r = iommu_uapi_ioctl(model, fd, request, (unsigned long)(uintptr_t)arg);
	if (r >= 0)
		fd_note((int)r);        /* VFIO_GROUP_GET_DEVICE_FD */
	else if (r == -EBADF && !iommu_uapi_fd_known(model, fd))
		fd_mark(fd, false);
	leave();
	if (r == -EBADF && !fd_is_model(fd)) {
		/* The number was reused behind the model's back. */
		RESOLVE(ioctl, "ioctl");
		return real.ioctl(fd, request, arg);
	}
	return (int)ret_errno(r);
}

/* read/write family: through the model for its descriptors. */
#define ROUTE_FD(fd, model_call, real_call) \
	do { \
		if (active() && fd_is_model(fd)) { \
			long r_; \
			enter(); \
			r_ = (model_call); \
			leave(); \
			return ret_errno(r_); \
		} \
		return (real_call); \
	} while (0)

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	RESOLVE(read, "read");
	ROUTE_FD(fd, iommu_uapi_read(model, fd, buf, n), real.read(fd, buf, n));
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	RESOLVE(read_chk, "__read_chk");
	ROUTE_FD(fd, iommu_uapi_read(model, fd, buf, n < buflen ? n : buflen),
		 real.read_chk(fd, buf, n, buflen));
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	RESOLVE(write, "write");
	ROUTE_FD(fd, iommu_uapi_write(model, fd, buf, n), real.write(fd, buf, n));
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	RESOLVE(pread, "pread");
	ROUTE_FD(fd, iommu_uapi_pread(model, fd, buf, n, off), real.pread(fd, buf, n, off));
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	RESOLVE(pread64, "pread64");
	ROUTE_FD(fd, iommu_uapi_pread(model, fd, buf, n, off), real.pread64(fd, buf, n, off));
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	RESOLVE(pread_chk, "__pread_chk");
	ROUTE_FD(fd, iommu_uapi_pread(model, fd, buf, n < buflen ? n : buflen, off),
		 real.pread_chk(fd, buf, n, off, buflen));
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	RESOLVE(pread64_chk, "__pread64_chk");
	ROUTE_FD(fd, iommu_uapi_pread(model, fd, buf, n < buflen ? n : buflen, off),
		 real.pread64_chk(fd, buf, n, off, buflen));
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	RESOLVE(pwrite, "pwrite");
	ROUTE_FD(fd, iommu_uapi_pwrite(model, fd, buf, n, off), real.pwrite(fd, buf, n, off));
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	RESOLVE(pwrite64, "pwrite64");
	ROUTE_FD(fd, iommu_uapi_pwrite(model, fd, buf, n, off), real.pwrite64(fd, buf, n, off));
}

EXPORT off_t lseek(int fd, off_t off, int whence)
{
	RESOLVE(lseek, "lseek");
	ROUTE_FD(fd, iommu_uapi_lseek(model, fd, off, whence), real.lseek(fd, off, whence));
}

EXPORT off_t lseek64(int fd, off_t off, int whence)
{
	RESOLVE(lseek64, "lseek64");
	ROUTE_FD(fd, iommu_uapi_lseek(model, fd, off, whence), real.lseek64(fd, off, whence));
}

static void *do_mmap(void *(*fn)(void *, size_t, int, int, int, off_t), void *addr, size_t len,
		     int prot, int flags, int fd, off_t off)
{
	if (active() && fd_is_model(fd) && !(flags & MAP_ANONYMOUS)) {
		int mfd = -1, r;
		off_t moff = 0;

		if (!len) {
			errno = EINVAL;
			return MAP_FAILED;
		}
		enter();
		r = iommu_uapi_mmap(model, fd, len, prot, flags, off, &mfd, &moff);
		leave();
		if (r < 0) {
			errno = -r;
			return MAP_FAILED;
		}
		return fn(addr, len, prot, flags, mfd, moff);
	}
	return fn(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	RESOLVE(mmap, "mmap");
	return do_mmap(real.mmap, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	RESOLVE(mmap64, "mmap64");
	return do_mmap(real.mmap64 ? real.mmap64 : real.mmap, addr, len, prot, flags, fd, off);
}

/* ------------------------------------------------------------------ */
/* Paths: stat, access, readlink                                        */

static int model_stat(const char *path, struct stat *st, bool follow)
{
	int r;

	enter();
	r = iommu_uapi_stat(model, path, st, follow);
	leave();
	return (int)ret_errno(r);
}

EXPORT int stat(const char *path, struct stat *st)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_stat(path, st, true);
	RESOLVE(stat, "stat");
	return real.stat(path, st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_stat(path, (struct stat *)st, true);
	RESOLVE(stat64, "stat64");
	return real.stat64(path, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_stat(path, st, false);
	RESOLVE(lstat, "lstat");
	return real.lstat(path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_stat(path, (struct stat *)st, false);
	RESOLVE(lstat64, "lstat64");
	return real.lstat64(path, st);
}

static int model_fstat(int fd, struct stat *st)
{
	int r;

	enter();
	r = iommu_uapi_fstat(model, fd, st);
	leave();
	return (int)ret_errno(r);
}

EXPORT int fstat(int fd, struct stat *st)
{
	RESOLVE(fstat, "fstat");
	if (active() && fd_is_model(fd))
		return model_fstat(fd, st);
	return real.fstat(fd, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	RESOLVE(fstat64, "fstat64");
	if (active() && fd_is_model(fd))
		return model_fstat(fd, (struct stat *)st);
	return real.fstat64(fd, st);
}

/* A path the C library declares non-null may still be NULL from a
 * program: tested outside the declaration's reach. */
__attribute__((noinline)) static bool empty_path(const char *p)
{
	return p && !p[0];
}

static int do_fstatat(int (*fn)(int, const char *, struct stat *, int), int dirfd,
		      const char *path, struct stat *st, int flags)
{
	if (active() && (flags & AT_EMPTY_PATH) && empty_path(path) && fd_is_model(dirfd))
		return model_fstat(dirfd, st);
	if (active() && model_path(dirfd, path))
		return model_stat(path, st, !(flags & AT_SYMLINK_NOFOLLOW));
	return fn(dirfd, path, st, flags);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	RESOLVE(fstatat, "fstatat");
	return do_fstatat(real.fstatat, dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	RESOLVE(fstatat64, "fstatat64");
	if (active() && (flags & AT_EMPTY_PATH) && empty_path(path) && fd_is_model(dirfd))
		return model_fstat(dirfd, (struct stat *)st);
	if (active() && model_path(dirfd, path))
		return model_stat(path, (struct stat *)st, !(flags & AT_SYMLINK_NOFOLLOW));
	return real.fstatat64(dirfd, path, st, flags);
}

static void to_statx(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = (uint64_t)st->st_size;
	sx->stx_blocks = (uint64_t)st->st_blocks;
	sx->stx_rdev_major = major(st->st_rdev);
	sx->stx_rdev_minor = minor(st->st_rdev);
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	struct stat st;
	int r;

	RESOLVE(statx, "statx");
	if (active() && (flags & AT_EMPTY_PATH) && empty_path(path) && fd_is_model(dirfd)) {
		r = model_fstat(dirfd, &st);
		if (!r)
			to_statx(&st, sx);
		return r;
	}
	if (active() && model_path(dirfd, path)) {
		r = model_stat(path, &st, !(flags & AT_SYMLINK_NOFOLLOW));
		if (!r)
			to_statx(&st, sx);
		return r;
	}
	return real.statx(dirfd, path, flags, mask, sx);
}

EXPORT int access(const char *path, int mode)
{
	struct stat st;

	if (active() && model_path(AT_FDCWD, path))
		return model_stat(path, &st, true);
	RESOLVE(access, "access");
	return real.access(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	struct stat st;

	if (active() && model_path(dirfd, path))
		return model_stat(path, &st, !(flags & AT_SYMLINK_NOFOLLOW));
	RESOLVE(faccessat, "faccessat");
	return real.faccessat(dirfd, path, mode, flags);
}

static ssize_t model_readlink(const char *path, char *buf, size_t len)
{
	ssize_t r;

	enter();
	r = iommu_uapi_readlink(model, path, buf, len);
	leave();
	return ret_errno(r);
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_readlink(path, buf, len);
	RESOLVE(readlink, "readlink");
	return real.readlink(path, buf, len);
}

EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen)
{
	if (active() && model_path(AT_FDCWD, path))
		return model_readlink(path, buf, len < buflen ? len : buflen);
	RESOLVE(readlink_chk, "__readlink_chk");
	return real.readlink_chk(path, buf, len, buflen);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	if (active() && model_path(dirfd, path))
		return model_readlink(path, buf, len);
	RESOLVE(readlinkat, "readlinkat");
	return real.readlinkat(dirfd, path, buf, len);
}

/* ------------------------------------------------------------------ */
/* Directories                                                          */

struct model_dir {
	uint32_t magic;
	struct iommu_uapi_dirent *ents;
	size_t n, pos;
	int fd;                 /* for dirfd() */
	struct dirent64 de;
	struct model_dir *next;
};

#define MODEL_DIR_MAGIC 0x6d646972u
static struct model_dir *dirs;      /* under model_lock */

static struct model_dir *find_dir(DIR *d)
{
	struct model_dir *m;

	if (!d || atomic_load(&model_state) != MODEL_READY)
		return NULL;
	pthread_mutex_lock(&model_lock);
	for (m = dirs; m && (DIR *)m != d; m = m->next)
		;
	pthread_mutex_unlock(&model_lock);
	return m;
}

EXPORT DIR *opendir(const char *path)
{
	struct model_dir *m;
	int r;

	if (!active() || !model_path(AT_FDCWD, path)) {
		RESOLVE(opendir, "opendir");
		return real.opendir(path);
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	enter();
	r = iommu_uapi_list_dir(model, path, &m->ents, &m->n);
	if (!r) {
		m->magic = MODEL_DIR_MAGIC;
		m->fd = memfd_create("iommu-model:dir", MFD_CLOEXEC);
		m->next = dirs;
		dirs = m;
	}
	leave();
	if (r) {
		free(m);
		errno = -r;
		return NULL;
	}
	return (DIR *)m;
}

static struct dirent64 *model_readdir(struct model_dir *m)
{
	struct iommu_uapi_dirent *e;

	if (m->pos >= m->n)
		return NULL;
	e = &m->ents[m->pos++];
	memset(&m->de, 0, sizeof(m->de));
	m->de.d_ino = e->ino;
	m->de.d_off = (off64_t)m->pos;
	m->de.d_reclen = sizeof(m->de);
	m->de.d_type = e->type;
	snprintf(m->de.d_name, sizeof(m->de.d_name), "%s", e->name);
	return &m->de;
}

EXPORT struct dirent *readdir(DIR *d)
{
	struct model_dir *m = find_dir(d);

	if (m)
		return (struct dirent *)model_readdir(m);
	RESOLVE(readdir, "readdir");
	return real.readdir(d);
}

EXPORT struct dirent64 *readdir64(DIR *d)
{
	struct model_dir *m = find_dir(d);

	if (m)
		return model_readdir(m);
	RESOLVE(readdir64, "readdir64");
	return real.readdir64(d);
}

EXPORT int closedir(DIR *d)
{
	struct model_dir *m = find_dir(d), **pp;

	if (!m) {
		RESOLVE(closedir, "closedir");
		return real.closedir(d);
	}
	pthread_mutex_lock(&model_lock);
	for (pp = &dirs; *pp && *pp != m; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = m->next;
	pthread_mutex_unlock(&model_lock);
	RESOLVE(close, "close");
	if (m->fd >= 0)
		real.close(m->fd);
	free(m->ents);
	free(m);
	return 0;
}

EXPORT int dirfd(DIR *d)
{
	struct model_dir *m = find_dir(d);

	if (m)
		return m->fd;
	RESOLVE(dirfd, "dirfd");
	return real.dirfd(d);
}

EXPORT void rewinddir(DIR *d)
{
	struct model_dir *m = find_dir(d);

	if (m) {
		m->pos = 0;
		return;
	}
	RESOLVE(rewinddir, "rewinddir");
	real.rewinddir(d);
}

EXPORT long telldir(DIR *d)
{
	struct model_dir *m = find_dir(d);

	if (m)
		return (long)m->pos;
	RESOLVE(telldir, "telldir");
	return real.telldir(d);
}

EXPORT void seekdir(DIR *d, long pos)
{
	struct model_dir *m = find_dir(d);

	if (m) {
		m->pos = pos < 0 ? 0 : (size_t)pos;
		return;
	}
	RESOLVE(seekdir, "seekdir");
	real.seekdir(d, pos);
}

/* ------------------------------------------------------------------ */
/* Helpers for test programs (dlsym(RTLD_DEFAULT, ...))                 */

/* 1 when the program runs against a model. */
EXPORT int iommu_model_active(void)
{
	return atomic_load(&model_state) == MODEL_READY;
}

/*
 * The device of the VFIO device descriptor @device_fd (or, with
 * @device_fd < 0, the PCI function @bdf) does a DMA of @len bytes at bus
 * address @addr: @write 1 writes @buf to memory, 0 reads memory into
 * @buf.  0, or -1 with errno (EFAULT: the IOMMU refused it).
 */
EXPORT int iommu_model_dma(int device_fd, const char *bdf, uint64_t addr, void *buf, size_t len,
			   int write)
{
	int r;

	if (!iommu_model_active()) {
		errno = ENODEV;
		return -1;
	}
	enter();
	if (device_fd >= 0)
		r = iommu_uapi_device_fd_dma(model, device_fd, addr, buf, len, write, NULL);
	else
		r = iommu_uapi_device_dma(model, bdf, addr, buf, len, write, NULL);
	leave();
	return (int)ret_errno(r);
}

/* The device raises interrupt @vector of index @index: 1 signalled, 0
 * masked or no trigger, -1 with errno. */
EXPORT int iommu_model_irq(int device_fd, unsigned index, unsigned vector)
{
	int r;

	if (!iommu_model_active()) {
		errno = ENODEV;
		return -1;
	}
	enter();
	r = iommu_uapi_device_irq(model, device_fd, index, vector);
	leave();
	return (int)ret_errno(r);
}
