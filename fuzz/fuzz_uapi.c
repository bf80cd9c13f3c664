// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the user-API layer (doc/vfio.md, doc/iommufd.md):
 * a program's sequence of opens, ioctls, reads and closes on /dev/vfio
 * and /dev/iommu, with argument bytes from the input, against a fresh
 * model of the i-vfio capture (two devices bound to vfio-pci) for every
 * input.  The argument buffer may hold pointers to a mapped user buffer,
 * to an unmapped page and to nowhere, so that pinning, copy-in and
 * copy-out meet every kind of user pointer.
 *
 *   per operation: [0] kind, [1] descriptor slot / path, [2] request
 *                  selector, [3] argument length, then that many bytes
 *
 * It aborts when the layer breaks a promise of include/iommu/uapi.h: a
 * result that is neither a success nor a negative errno, or a descriptor
 * returned that the layer does not know.  Crashes, leaks (LeakSanitizer
 * at exit) and hangs are libFuzzer's to find.
 *
 * The capture is found through IOMMU_FUZZ_CAPTURE, else the source tree's
 * tests/captures/i-vfio (FUZZ_CAPTURE_DIR, set by meson).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "iommu/core.h"
#include "iommu/uapi.h"

#define SLOTS 8
#define ARG_MAX 256

static const char *const paths[] = {
	"/dev/vfio/vfio", "/dev/vfio/4", "/dev/vfio/5", "/dev/iommu",
	"/dev/vfio/devices/vfio0", "/dev/vfio/devices/vfio1", "/dev/vfio/99",
	"/dev/vfio/noiommu-0",
};

static const unsigned long requests[] = {
	VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
	VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER,
	VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET, VFIO_DEVICE_IOEVENTFD,
	VFIO_DEVICE_FEATURE, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
	VFIO_DEVICE_DETACH_IOMMUFD_PT, VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA,
	VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_ENABLE, VFIO_IOMMU_DISABLE, VFIO_IOMMU_DIRTY_PAGES,
	IOMMU_DESTROY, IOMMU_IOAS_ALLOC, IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_ALLOW_IOVAS,
	IOMMU_IOAS_MAP, IOMMU_IOAS_COPY, IOMMU_IOAS_UNMAP, IOMMU_OPTION, IOMMU_VFIO_IOAS,
	IOMMU_HWPT_ALLOC, IOMMU_GET_HW_INFO, IOMMU_HWPT_SET_DIRTY_TRACKING,
	IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_INVALIDATE, IOMMU_FAULT_QUEUE_ALLOC,
};
#define N_REQUESTS (sizeof(requests) / sizeof(requests[0]))

static struct iommu_platform *platform;
static uint8_t *user_buf;       /* 64 KiB, mapped read/write */
static uint8_t *user_hole;      /* a page that is not mapped */

static void check(int cond)
{
	if (!cond)
		abort();
}

static int setup(void)
{
	const char *dir = getenv("IOMMU_FUZZ_CAPTURE");
	struct iommu_error err = { 0 };

	if (!dir)
		dir = FUZZ_CAPTURE_DIR;
	if (iommu_platform_load_snapshot(dir, &platform, &err)) {
		fprintf(stderr, "fuzz_uapi: %s\n", err.msg);
		return -1;
	}
	user_buf = mmap(NULL, 65536 + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (user_buf == MAP_FAILED)
		return -1;
	user_hole = user_buf + 65536;
	munmap(user_hole, 4096);
	return 0;
}

/* A result is a success (>= 0) or a negative errno. */
static void check_result(long r)
{
	check(r >= -4095);
}

/* Pointer fix-ups: byte 0 of an argument chooses what the 8-byte words at
 * offsets 8, 16 and 24 become when they hold the marker values 1, 2, 3. */
static void fixup_pointers(uint8_t *arg, size_t len)
{
	for (size_t off = 8; off + 8 <= len; off += 8) {
		uint64_t v;

		memcpy(&v, arg + off, 8);
		switch (v) {
		case 1: v = (uintptr_t)user_buf; break;
		case 2: v = (uintptr_t)user_buf + 4096 * (arg[off - 1] & 15); break;
		case 3: v = (uintptr_t)user_hole; break;
		default: continue;
		}
		memcpy(arg + off, &v, 8);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct iommu_system *s = NULL;
	struct iommu_uapi *u = NULL;
	struct iommu_system_options so = { 0 };
	struct iommu_uapi_options uo = { 0 };
	struct iommu_error err = { 0 };
	int fds[SLOTS];
	size_t pos = 0;
	unsigned ops = 0;

	if (!ready) {
		if (setup())
			abort();
		ready = 1;
	}
	for (unsigned i = 0; i < SLOTS; i++)
		fds[i] = -1;
	uo.mem_size = UINT64_C(1) << 32;
	if (size && (data[0] & 1))
		uo.unprivileged = true, uo.memlock_limit = 1 << 20;
	if (iommu_system_build(platform, &so, &s, &err) || iommu_uapi_create(s, &uo, &u, &err) ||
	    iommu_uapi_vfio_bind_list(u, "03:00.0,02:01.0", &err)) {
		fprintf(stderr, "fuzz_uapi: %s\n", err.msg);
		abort();
	}
	pos = size ? 1 : 0;
	while (pos + 4 <= size && ops++ < 64) {
		uint8_t kind = data[pos], slot = data[pos + 1] % SLOTS, sel = data[pos + 2];
		size_t len = data[pos + 3] % (ARG_MAX + 1);
		uint8_t arg[ARG_MAX + 16] __attribute__((aligned(16)));
		long r;

		pos += 4;
		if (len > size - pos)
			len = size - pos;
		memset(arg, 0, sizeof(arg));
		memcpy(arg, data + pos, len);
		pos += len;
		fixup_pointers(arg, len);

		switch (kind % 6) {
		case 0: /* open one of the model's paths into a slot */
			if (fds[slot] >= 0)
				break;
			r = iommu_uapi_open(u, paths[sel % (sizeof(paths) / sizeof(paths[0]))],
					    (kind & 0x80) ? O_RDONLY : O_RDWR);
			check_result(r);
			if (r >= 0) {
				check(iommu_uapi_fd_known(u, (int)r));
				fds[slot] = (int)r;
			}
			break;
		case 1: /* a known request with the argument buffer */
		case 2: {
			unsigned long req = requests[sel % N_REQUESTS];
			/* Some requests take an integer (SET_IOMMU, CHECK_EXTENSION,
			 * SET_CONTAINER's fd is behind a pointer). */
			unsigned long a = (kind & 0x40) ? (unsigned long)arg[0] : (unsigned long)arg;

			r = iommu_uapi_ioctl(u, fds[slot] >= 0 ? fds[slot] : 1000 + slot, req, a);
			check_result(r);
			if (r > 2 && req == VFIO_GROUP_GET_DEVICE_FD) {
				check(iommu_uapi_fd_known(u, (int)r));
				for (unsigned i = 0; i < SLOTS; i++)
					if (fds[i] < 0) {
						fds[i] = (int)r;
						r = -1;
						break;
					}
				if (r >= 0)
					iommu_uapi_close(u, (int)r);
			}
			break;
		}
		case 3: { /* an arbitrary request number */
			unsigned long req;

			memcpy(&req, arg, sizeof(req));
			req &= 0xffffffffu;
			r = iommu_uapi_ioctl(u, fds[slot] >= 0 ? fds[slot] : 1000 + slot, req,
					     (unsigned long)(arg + 8));
			check_result(r);
			break;
		}
		case 4: { /* pread of a device region or config space */
			uint8_t buf[64];
			off_t off = (off_t)((uint64_t)(sel & 15) << 40) + (off_t)(arg[0] | arg[1] << 8);

			r = iommu_uapi_pread(u, fds[slot] >= 0 ? fds[slot] : 1000 + slot, buf,
					     1 + (arg[2] & 63), off);
			check_result(r);
			break;
		}
		case 5: /* close */
			if (fds[slot] >= 0) {
				check(iommu_uapi_close(u, fds[slot]) == 0);
				fds[slot] = -1;
			} else {
				check(iommu_uapi_close(u, 1000 + slot) < 0);
			}
			break;
		}
	}
	/* Files left open are the layer's to close. */
	iommu_uapi_destroy(u);
	iommu_system_free(s);
	return 0;
}
