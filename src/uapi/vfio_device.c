// SPDX-License-Identifier: MIT
/*
 * A device file of vfio-pci (drivers/vfio/pci/vfio_pci_core.c,
 * vfio_pci_intrs.c, vfio_pci_rdwr.c; reference 8.1).
 *
 *  - VFIO_DEVICE_GET_INFO: PCI, RESET when the device has a reset method
 *    (FLR, AF FLR, PM reset without NoSoftRst, a secondary bus reset of a
 *    bus it is alone on), nine regions, five interrupt indexes;
 *  - regions at index << 40: the BARs and ROM from the platform's
 *    resources (sysfs pci/BDF/resource), mmap where vfio-pci allows it,
 *    the MSI-X BAR with its "mappable" capability, config space
 *    (vfio_config.c), VGA for VGA devices only;
 *  - interrupts: INTx (from the pin), MSI (multiple message capable),
 *    MSI-X (table size), error (PCI Express only), request; SET_IRQS
 *    with the kernel's validation, eventfd triggers, masking and
 *    loopback triggering;
 *  - VFIO_DEVICE_RESET, the hot reset ioctls, IOEVENTFD, FEATURE.
 *
 * Each open device has memory backing its BARs: what the program writes
 * through mmap or the region reads back (the device's registers are not
 * modelled; doc/vfio.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "uapi/internal.h"
#include "util/bits.h"

#define IORESOURCE_IO 0x00000100
#define IORESOURCE_MEM 0x00000200
#define VFIO_PCI_IOEVENTFD_MAX 1000

struct ioeventfd {
	uint64_t pos;
	uint64_t data;
	int bar, count, fd;
};

/* Extra per-device state the config code does not see. */
struct device_extra {
	struct ioeventfd *ioev;
	size_t n_ioev;
	int vga_memfd;
};

static uint64_t offset_of_index(unsigned index)
{
	return (uint64_t)index << VFIO_PCI_OFFSET_SHIFT;
}

/* ------------------------------------------------------------------ */
/* Eventfds of the program                                              */

/* eventfd_ctx_fdget: -EBADF for a bad descriptor, -EINVAL for one that
 * is not an eventfd; a reference of our own in *ref. */
static int eventfd_get(int fd, int *ref)
{
	char path[64], link[64];
	ssize_t n;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[eventfd]"))
		return -EINVAL;
	*ref = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return *ref < 0 ? -EMFILE : 0;
}

static void eventfd_signal(int ref)
{
	uint64_t one = 1;

	if (ref >= 0)
		(void)!write(ref, &one, sizeof(one));
}

static void eventfd_put(int *ref)
{
	if (*ref >= 0)
		close(*ref);
	*ref = -1;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                       */

/* The platform's sysfs resource file: start, end and flags per line. */
static void read_resources(struct iommu_uapi *u, const struct iommu_pci_dev *pdev,
			   struct vfio_pci_state *st)
{
	char path[64], line[128];
	const uint8_t *data;
	size_t len, off = 0;

	for (int i = 0; i < VFIO_NUM_BARS; i++)
		st->bar[i].memfd = -1;
	snprintf(path, sizeof(path), "pci/%s/resource", pdev->name);
	if (iommu_platform_file(u->s->platform, path, &data, &len))
		return;
	for (int i = 0; i < VFIO_NUM_BARS && off < len; i++) {
		unsigned long long s, e, f;
		size_t n = 0;

		while (off + n < len && data[off + n] != '\n' && n < sizeof(line) - 1) {
			line[n] = (char)data[off + n];
			n++;
		}
		line[n] = '\0';
		while (off < len && data[off] != '\n')
			off++;
		off++;
		if (sscanf(line, "%llx %llx %llx", &s, &e, &f) != 3 || !f || e < s)
			continue;
		st->bar[i].start = s;
		st->bar[i].len = e - s + 1;
		st->bar[i].flags = f;
	}
	/* vfio_pci_probe_mmaps */
	for (int i = 0; i < 6; i++) {
		struct vfio_bar *b = &st->bar[i];

		b->mmap_ok = (b->flags & IORESOURCE_MEM) && b->len &&
			     (b->len >= UAPI_PAGE_SIZE || !(b->start & (UAPI_PAGE_SIZE - 1)));
	}
}

/* pci_try_reset_function succeeds when a reset method applies. */
static bool reset_works(struct iommu_uapi *u, const struct iommu_pci_dev *pdev,
			const struct vfio_pci_state *st)
{
	const struct iommu_pci_bus *bus = pdev->bus;
	uint16_t pos;

	/* pcie_reset_flr: Function Level Reset in DEVCAP */
	if (pdev->pcie_pos && (pdev->pcie_devcap & PCI_EXP_DEVCAP_FLR))
		return true;
	/* pci_af_flr: AF capability with TP and FLR */
	pos = iommu_pci_find_cap(pdev, PCI_CAP_ID_AF);
	if (pos) {
		uint8_t cap = iommu_pci_read8(pdev, pos + PCI_AF_CAP);

		if ((cap & PCI_AF_CAP_TP) && (cap & PCI_AF_CAP_FLR))
			return true;
	}
	/* pci_pm_reset: D3hot->D0 resets unless NoSoftRst */
	pos = iommu_pci_find_cap(pdev, PCI_CAP_ID_PM);
	if (pos && !(st->phys[pos + PCI_PM_CTRL] & PCI_PM_CTRL_NO_SOFT_RESET))
		return true;
	/* pci_parent_bus_reset: not a root bus, alone on it, not a bridge */
	if (bus && bus->self && !pdev->is_bridge && bus->n_devices == 1)
		return true;
	(void)u;
	return false;
}

static int open_device(struct vfio_device *vdev)
{
	struct iommu_pci_dev *pdev = vdev->pdev;
	struct vfio_pci_state *st = calloc(1, sizeof(*st));
	struct device_extra *ex = calloc(1, sizeof(*ex));

	if (!st || !ex) {
		free(st);
		free(ex);
		return -ENOMEM;
	}
	read_resources(vdev->u, pdev, st);
	vfio_config_init(vdev, st);
	vdev->reset_works = reset_works(vdev->u, pdev, st);
	st->irq_type = VFIO_PCI_NUM_IRQS;
	st->err_trigger = st->req_trigger = st->intx_unmask_fd = -1;
	st->msix_bar = 0xff;
	if (st->msix_pos) {
		uint16_t flags = iommu_le16(st->phys + st->msix_pos + PCI_MSIX_FLAGS);
		uint32_t table = iommu_le32(st->phys + st->msix_pos + PCI_MSIX_TABLE);

		st->msix_bar = (int)(table & PCI_MSIX_TABLE_BIR);
		/* msix_offset / msix_size kept in the extra table fields */
		(void)flags;
	}
	/* vfio_pci_is_vga with CONFIG_VFIO_PCI_VGA (Debian enables it) */
	st->has_vga = (pdev->class_code >> 8) == 0x0300;
	ex->vga_memfd = -1;
	vdev->pci = st;
	vdev->extra = ex;
	return 0;
}

static void msix_table(const struct vfio_pci_state *st, uint64_t *off, uint64_t *size)
{
	uint16_t flags = iommu_le16(st->phys + st->msix_pos + PCI_MSIX_FLAGS);
	uint32_t table = iommu_le32(st->phys + st->msix_pos + PCI_MSIX_TABLE);

	*off = table & PCI_MSIX_TABLE_OFFSET;
	*size = ((uint64_t)(flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16;
}

static void irq_disable_all(struct vfio_pci_state *st);

void vfio_device_free_state(struct vfio_device *vdev)
{
	struct vfio_pci_state *st = vdev->pci;
	struct device_extra *ex = vdev->extra;

	if (st) {
		irq_disable_all(st);
		eventfd_put(&st->err_trigger);
		eventfd_put(&st->req_trigger);
		for (int i = 0; i < VFIO_NUM_BARS; i++)
			if (st->bar[i].memfd >= 0)
				close(st->bar[i].memfd);
		free(st);
	}
	if (ex) {
		for (size_t i = 0; i < ex->n_ioev; i++)
			close(ex->ioev[i].fd);
		free(ex->ioev);
		if (ex->vga_memfd >= 0)
			close(ex->vga_memfd);
		free(ex);
	}
	vdev->pci = NULL;
	vdev->extra = NULL;
}

static void device_release(struct uapi_file *f)
{
	struct vfio_device *vdev = f->private_data;
	struct vfio_group *g = vdev->group;

	if (--vdev->open_count == 0) {
		vfio_device_free_state(vdev);
		g->container_users--;
		uapi_file_put(g->opened_file);
	}
}

/* ------------------------------------------------------------------ */
/* Info                                                                 */

static long get_info(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_device_info info;
	size_t minsz = offsetof(struct vfio_device_info, num_irqs) + sizeof(info.num_irqs);
	/* The kernel measures capsz with struct vfio_iommu_type1_info: the
	 * same 20 bytes. */
	size_t capsz = offsetof(struct vfio_iommu_type1_info, cap_offset) + sizeof(uint32_t);

	memset(&info, 0, sizeof(info));
	if (uapi_copy_from_user(vdev->u, &info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return uapi_copy_to_user(vdev->u, arg, &info, minsz) ? -EFAULT : 0;
}

static long get_region_info(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_pci_state *st = vdev->pci;
	struct vfio_region_info info;
	size_t minsz = offsetof(struct vfio_region_info, offset) + sizeof(info.offset);
	bool msix_cap = false;

	if (uapi_copy_from_user(vdev->u, &info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = offset_of_index(info.index);
		info.size = st->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = offset_of_index(info.index);
		info.size = st->bar[info.index].len;
		if (!info.size) {
			info.flags = 0;
			break;
		}
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		if (st->bar[info.index].mmap_ok) {
			info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			if ((int)info.index == st->msix_bar)
				msix_cap = true;
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		info.offset = offset_of_index(info.index);
		info.flags = 0;
		/* Report the BAR size, not the ROM size; the model takes a
		 * ROM resource to hold a ROM (pci_map_rom succeeds). */
		info.size = st->bar[6].len;
		if (info.size)
			info.flags = VFIO_REGION_INFO_FLAG_READ;
		break;
	case VFIO_PCI_VGA_REGION_INDEX:
		if (!st->has_vga)
			return -EINVAL;
		info.offset = offset_of_index(info.index);
		info.size = 0xc0000;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		break;
	default:
		/* no device-specific regions */
		return -EINVAL;
	}
	if (msix_cap) {
		struct vfio_info_cap_header h = { .id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
						  .version = 1, .next = 0 };

		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + sizeof(h)) {
			info.argsz = (uint32_t)(sizeof(info) + sizeof(h));
			info.cap_offset = 0;
		} else {
			if (uapi_copy_to_user(vdev->u, arg + sizeof(info), &h, sizeof(h)))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	return uapi_copy_to_user(vdev->u, arg, &info, minsz) ? -EFAULT : 0;
}

/* vfio_pci_get_irq_count */
static unsigned irq_count(struct vfio_device *vdev, unsigned index)
{
	struct vfio_pci_state *st = vdev->pci;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return st->vconfig[PCI_INTERRUPT_PIN] ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!st->msi_pos)
			return 0;
		return 1u << IOMMU_FIELD_GET(PCI_MSI_FLAGS_QMASK,
					      iommu_le16(st->phys + st->msi_pos + PCI_MSI_FLAGS));
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!st->msix_pos)
			return 0;
		return (iommu_le16(st->phys + st->msix_pos + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return iommu_pci_is_pcie(vdev->pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

static long get_irq_info(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_irq_info info;
	size_t minsz = offsetof(struct vfio_irq_info, count) + sizeof(info.count);

	if (uapi_copy_from_user(vdev->u, &info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !iommu_pci_is_pcie(vdev->pdev))
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = irq_count(vdev, info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index != VFIO_PCI_MSIX_IRQ_INDEX || !uapi_kernel_at_least(vdev->u, 6, 5))
		/* From 6.5 vfio-pci allocates MSI-X vectors dynamically
		 * (has_dyn_msix on x86's MSI domains). */
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return uapi_copy_to_user(vdev->u, arg, &info, minsz) ? -EFAULT : 0;
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                           */

static bool is_intx(const struct vfio_pci_state *st)
{
	return st->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
}

static bool is_irq_none(const struct vfio_pci_state *st)
{
	return st->irq_type != VFIO_PCI_INTX_IRQ_INDEX && st->irq_type != VFIO_PCI_MSI_IRQ_INDEX &&
	       st->irq_type != VFIO_PCI_MSIX_IRQ_INDEX;
}

static void set_phys_intx(struct vfio_pci_state *st, bool enable)
{
	uint16_t cmd = iommu_le16(st->phys + PCI_COMMAND);

	cmd = enable ? (uint16_t)(cmd & ~PCI_COMMAND_INTX_DISABLE) : (cmd | PCI_COMMAND_INTX_DISABLE);
	st->phys[PCI_COMMAND] = (uint8_t)cmd;
	st->phys[PCI_COMMAND + 1] = (uint8_t)(cmd >> 8);
}

static void send_intx(struct vfio_pci_state *st)
{
	if (is_intx(st) && !st->virq_disabled && st->n_ctx)
		eventfd_signal(st->ctx[0].trigger);
}

static void ctx_free(struct vfio_pci_state *st)
{
	for (unsigned i = 0; i < st->n_ctx; i++)
		eventfd_put(&st->ctx[i].trigger);
	free(st->ctx);
	st->ctx = NULL;
	st->n_ctx = 0;
}

static void intx_disable(struct vfio_pci_state *st)
{
	eventfd_put(&st->intx_unmask_fd);
	ctx_free(st);
	st->irq_type = VFIO_PCI_NUM_IRQS;
}

static void msi_flags_phys(struct vfio_pci_state *st, unsigned index, bool enable, unsigned nvec)
{
	if (index == VFIO_PCI_MSIX_IRQ_INDEX && st->msix_pos) {
		uint16_t f = iommu_le16(st->phys + st->msix_pos + PCI_MSIX_FLAGS);

		f = enable ? (f | PCI_MSIX_FLAGS_ENABLE) : (uint16_t)(f & ~PCI_MSIX_FLAGS_ENABLE);
		st->phys[st->msix_pos + PCI_MSIX_FLAGS] = (uint8_t)f;
		st->phys[st->msix_pos + PCI_MSIX_FLAGS + 1] = (uint8_t)(f >> 8);
	} else if (index == VFIO_PCI_MSI_IRQ_INDEX && st->msi_pos) {
		uint16_t f = iommu_le16(st->phys + st->msi_pos + PCI_MSI_FLAGS);

		f &= (uint16_t)~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		if (enable)
			f |= (uint16_t)(PCI_MSI_FLAGS_ENABLE |
					IOMMU_FIELD_PREP(PCI_MSI_FLAGS_QSIZE, __builtin_ctz(nvec)));
		st->phys[st->msi_pos + PCI_MSI_FLAGS] = (uint8_t)f;
		st->phys[st->msi_pos + PCI_MSI_FLAGS + 1] = (uint8_t)(f >> 8);
	}
}

static void msi_disable(struct vfio_pci_state *st, unsigned index)
{
	ctx_free(st);
	msi_flags_phys(st, index, false, 0);
	if (st->nointx)
		set_phys_intx(st, false);
	st->irq_type = VFIO_PCI_NUM_IRQS;
}

static void irq_disable_all(struct vfio_pci_state *st)
{
	if (is_intx(st))
		intx_disable(st);
	else if (!is_irq_none(st))
		msi_disable(st, (unsigned)st->irq_type);
}

static int set_intx_mask(struct vfio_pci_state *st, unsigned start, unsigned count,
			 uint32_t flags, const void *data)
{
	if (!is_intx(st) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		st->intx_masked = true;
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(const uint8_t *)data)
			st->intx_masked = true;
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		return -ENOTTY;         /* not implemented by vfio-pci */
	}
	if (st->intx_masked && st->pci_2_3)
		set_phys_intx(st, false);
	return 0;
}

static int set_intx_unmask(struct vfio_pci_state *st, unsigned start, unsigned count,
			   uint32_t flags, const void *data)
{
	if (!is_intx(st) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!st->virq_disabled)
			st->intx_masked = false;
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(const uint8_t *)data && !st->virq_disabled)
			st->intx_masked = false;
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd = *(const int32_t *)data;

		eventfd_put(&st->intx_unmask_fd);
		if (fd >= 0)
			return eventfd_get(fd, &st->intx_unmask_fd);
		return 0;
	}
	if (!st->intx_masked && st->pci_2_3)
		set_phys_intx(st, true);
	return 0;
}

static int set_intx_trigger(struct vfio_device *vdev, struct vfio_pci_state *st, unsigned start,
			    unsigned count, uint32_t flags, const void *data)
{
	if (is_intx(st) && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		intx_disable(st);
		return 0;
	}
	if (!(is_intx(st) || is_irq_none(st)) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd = *(const int32_t *)data;
		int trigger = -1, ret;

		if (fd >= 0) {
			ret = eventfd_get(fd, &trigger);
			if (ret)
				return ret;
		}
		if (is_intx(st)) {
			eventfd_put(&st->ctx[0].trigger);
			st->ctx[0].trigger = trigger;
			return 0;
		}
		/* vfio_intx_enable */
		if (vdev->pdev->irq <= 0) {
			eventfd_put(&trigger);
			return -ENODEV;
		}
		st->ctx = calloc(1, sizeof(*st->ctx));
		if (!st->ctx) {
			eventfd_put(&trigger);
			return -ENOMEM;
		}
		st->n_ctx = 1;
		st->ctx[0].trigger = trigger;
		st->intx_masked = st->virq_disabled;
		if (st->pci_2_3)
			set_phys_intx(st, !st->intx_masked);
		st->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
		return 0;
	}
	if (!is_intx(st))
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE)
		send_intx(st);
	else if ((flags & VFIO_IRQ_SET_DATA_BOOL) && *(const uint8_t *)data)
		send_intx(st);
	return 0;
}

static int msi_set_block(struct vfio_pci_state *st, unsigned start, unsigned count,
			 const int32_t *fds)
{
	unsigned i;
	int ret = 0;

	for (i = 0; i < count && !ret; i++) {
		struct vfio_irq_ctx *c = &st->ctx[start + i];
		int fd = fds ? fds[i] : -1;

		eventfd_put(&c->trigger);
		if (fd >= 0)
			ret = eventfd_get(fd, &c->trigger);
	}
	if (ret)
		for (unsigned j = start; j < start + i; j++)
			eventfd_put(&st->ctx[j].trigger);
	return ret;
}

static int set_msi_trigger(struct vfio_pci_state *st, unsigned index, unsigned start,
			   unsigned count, uint32_t flags, const void *data, unsigned max)
{
	if (st->irq_type == (int)index && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		msi_disable(st, index);
		return 0;
	}
	if (!(st->irq_type == (int)index || is_irq_none(st)))
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int ret;

		if (st->irq_type == (int)index) {
			if (start + count > st->n_ctx) {
				/* dynamic MSI-X grows; vectors past MSI's
				 * allocation fail to map an irq */
				if (index != VFIO_PCI_MSIX_IRQ_INDEX)
					return -EINVAL;
				{
					struct vfio_irq_ctx *nc = realloc(st->ctx, max * sizeof(*nc));

					if (!nc)
						return -ENOMEM;
					for (unsigned k = st->n_ctx; k < max; k++)
						nc[k].trigger = -1;
					st->ctx = nc;
					st->n_ctx = max;
				}
			}
			return msi_set_block(st, start, count, data);
		}
		/* vfio_msi_enable(start + count) */
		st->ctx = malloc(max * sizeof(*st->ctx));
		if (!st->ctx)
			return -ENOMEM;
		for (unsigned k = 0; k < max; k++)
			st->ctx[k].trigger = -1;
		st->n_ctx = index == VFIO_PCI_MSIX_IRQ_INDEX ? max : start + count;
		st->irq_type = (int)index;
		if (index == VFIO_PCI_MSI_IRQ_INDEX) {
			unsigned nvec = start + count, q = 0;

			while ((1u << q) < nvec)
				q++;
			st->msi_qmax = (int)q;
			msi_flags_phys(st, index, true, 1u << q);
		} else {
			msi_flags_phys(st, index, true, 0);
		}
		ret = msi_set_block(st, start, count, data);
		if (ret)
			msi_disable(st, index);
		return ret;
	}
	if (st->irq_type != (int)index)
		return -EINVAL;
	for (unsigned i = start; i < start + count && i < st->n_ctx; i++) {
		if (st->ctx[i].trigger < 0)
			continue;
		if (flags & VFIO_IRQ_SET_DATA_NONE)
			eventfd_signal(st->ctx[i].trigger);
		else if ((flags & VFIO_IRQ_SET_DATA_BOOL) && ((const uint8_t *)data)[i - start])
			eventfd_signal(st->ctx[i].trigger);
	}
	return 0;
}

/* vfio_pci_set_ctx_trigger_single: err and req */
static int set_trigger_single(int *trigger, unsigned count, uint32_t flags, const void *data)
{
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (*trigger < 0)
			return -EINVAL;
		if (count)
			eventfd_signal(*trigger);
		else
			eventfd_put(trigger);
		return 0;
	}
	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			return -EINVAL;
		if (*(const uint8_t *)data && *trigger >= 0)
			eventfd_signal(*trigger);
		return 0;
	}
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd;
		int ref, ret;

		if (!count)
			return -EINVAL;
		fd = *(const int32_t *)data;
		if (fd == -1) {
			eventfd_put(trigger);
			return 0;
		}
		if (fd >= 0) {
			ret = eventfd_get(fd, &ref);
			if (ret)
				return ret;
			eventfd_put(trigger);
			*trigger = ref;
			return 0;
		}
	}
	return -EINVAL;
}

static long set_irqs(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_pci_state *st = vdev->pci;
	struct vfio_irq_set hdr;
	size_t minsz = offsetof(struct vfio_irq_set, count) + sizeof(hdr.count);
	size_t size = 0, data_size = 0;
	uint8_t *data = NULL;
	unsigned max;
	uint32_t action;
	long ret;

	if (uapi_copy_from_user(vdev->u, &hdr, arg, minsz))
		return -EFAULT;
	max = irq_count(vdev, hdr.index);
	/* vfio_set_irqs_validate_and_prepare */
	if (hdr.argsz < minsz || hdr.index >= VFIO_PCI_NUM_IRQS ||
	    hdr.count >= (UINT32_MAX - hdr.start) ||
	    (hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		if (hdr.argsz - minsz < (uint64_t)hdr.count * size)
			return -EINVAL;
		data_size = (size_t)hdr.count * size;
	}
	if (data_size) {
		data = malloc(data_size);
		if (!data)
			return -ENOMEM;
		if (uapi_copy_from_user(vdev->u, data, arg + minsz, data_size)) {
			free(data);
			return -EFAULT;
		}
	}
	action = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	ret = -ENOTTY;
	switch (hdr.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			ret = set_intx_mask(st, hdr.start, hdr.count, hdr.flags, data);
		else if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			ret = set_intx_unmask(st, hdr.start, hdr.count, hdr.flags, data);
		else if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = set_intx_trigger(vdev, st, hdr.start, hdr.count, hdr.flags, data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* MASK and UNMASK: no masking support exported */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = set_msi_trigger(st, hdr.index, hdr.start, hdr.count, hdr.flags, data, max);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER && iommu_pci_is_pcie(vdev->pdev))
			ret = hdr.start != 0 || hdr.count > 1 ? -EINVAL
				: set_trigger_single(&st->err_trigger, hdr.count, hdr.flags, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = hdr.start != 0 || hdr.count > 1 ? -EINVAL
				: set_trigger_single(&st->req_trigger, hdr.count, hdr.flags, data);
		break;
	}
	free(data);
	return ret;
}

int iommu_uapi_device_irq(struct iommu_uapi *u, int device_fd, unsigned index, unsigned vector)
{
	struct uapi_file *f = uapi_fd_file(u, device_fd);
	struct vfio_pci_state *st;

	if (!f || f->fops != &vfio_device_fops)
		return -EBADF;
	st = ((struct vfio_device *)f->private_data)->pci;
	if ((int)index != st->irq_type || vector >= st->n_ctx)
		return -EINVAL;
	if (index == VFIO_PCI_INTX_IRQ_INDEX) {
		/* vfio_intx_handler: auto-mask, then signal */
		if (st->intx_masked || st->virq_disabled)
			return 0;
		st->intx_masked = true;
		if (st->pci_2_3)
			set_phys_intx(st, false);
		send_intx(st);
		return 1;
	}
	if (st->ctx[vector].trigger < 0)
		return 0;
	eventfd_signal(st->ctx[vector].trigger);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Reset                                                                */

static bool dev_on_bus(const struct iommu_pci_bus *bus, const struct iommu_pci_dev *d)
{
	for (const struct iommu_pci_bus *b = d->bus; b; b = b->parent)
		if (b == bus)
			return true;
	return false;
}

/* The devices a secondary bus reset of @vdev's bus affects (pci_walk_bus
 * of the bus and what is below it); -ENODEV when it cannot be reset. */
static int bus_devices(struct vfio_device *vdev, struct iommu_pci_dev ***out, size_t *n)
{
	const struct iommu_pci_bus *bus = vdev->pdev->bus;
	struct iommu_pci_dev **list = NULL;
	size_t count = 0, nd = iommu_platform_num_devices(vdev->u->s->platform);

	/* pci_probe_reset_bus: needs a bridge above the bus */
	if (!bus || !bus->self)
		return -ENODEV;
	for (size_t i = 0; i < nd; i++) {
		struct iommu_pci_dev *d = iommu_platform_device(vdev->u->s->platform, i);
		struct iommu_pci_dev **nl;

		if (!dev_on_bus(bus, d))
			continue;
		nl = realloc(list, (count + 1) * sizeof(*nl));
		if (!nl) {
			free(list);
			return -ENOMEM;
		}
		list = nl;
		list[count++] = d;
	}
	*out = list;
	*n = count;
	return 0;
}

static int group_id_of(struct iommu_uapi *u, const struct iommu_pci_dev *d)
{
	struct iommu_device_info *di = iommu_system_device(u->s, d);
	struct vfio_device *vd;

	if (di && di->group)
		return di->group->id;
	vd = vfio_device_of(u, d);
	return vd ? vd->group->id : -1;
}

static long hot_reset_info(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_pci_hot_reset_info hdr;
	size_t minsz = offsetof(struct vfio_pci_hot_reset_info, count) + sizeof(hdr.count);
	struct iommu_pci_dev **devs = NULL;
	struct vfio_pci_dependent_device *out;
	size_t n = 0;
	long ret;

	if (uapi_copy_from_user(vdev->u, &hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	ret = bus_devices(vdev, &devs, &n);
	if (ret)
		return ret;
	if (hdr.argsz < sizeof(hdr) + n * sizeof(*out)) {
		hdr.count = (uint32_t)n;
		free(devs);
		return uapi_copy_to_user(vdev->u, arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(devs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int gid = group_id_of(vdev->u, devs[i]);

		if (gid < 0) {
			free(out);
			free(devs);
			return -EPERM;  /* Cannot reset non-isolated devices */
		}
		out[i].group_id = (uint32_t)gid;
		out[i].segment = devs[i]->addr.segment;
		out[i].bus = devs[i]->addr.bus;
		out[i].devfn = devs[i]->addr.devfn;
	}
	hdr.count = (uint32_t)n;
	ret = 0;
	if (uapi_copy_to_user(vdev->u, arg, &hdr, minsz) ||
	    uapi_copy_to_user(vdev->u, arg + minsz, out, n * sizeof(*out)))
		ret = -EFAULT;
	free(out);
	free(devs);
	return ret;
}

static long hot_reset(struct vfio_device *vdev, unsigned long arg)
{
	struct iommu_uapi *u = vdev->u;
	struct vfio_pci_hot_reset hdr;
	size_t minsz = offsetof(struct vfio_pci_hot_reset, count) + sizeof(hdr.count);
	struct iommu_pci_dev **devs = NULL;
	struct vfio_group **groups;
	int32_t *fds;
	size_t n = 0;
	long ret;

	if (uapi_copy_from_user(u, &hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	ret = bus_devices(vdev, &devs, &n);
	if (ret)
		return ret;
	/* Somewhere between 1 and count is OK */
	if (!hdr.count || hdr.count > n) {
		free(devs);
		return -EINVAL;
	}
	fds = calloc(hdr.count, sizeof(*fds));
	groups = calloc(hdr.count, sizeof(*groups));
	if (!fds || !groups) {
		ret = -ENOMEM;
		goto out;
	}
	if (uapi_copy_from_user(u, fds, arg + minsz, hdr.count * sizeof(*fds))) {
		ret = -EFAULT;
		goto out;
	}
	for (uint32_t i = 0; i < hdr.count; i++) {
		struct uapi_file *f;

		if (!uapi_host_fd_valid(fds[i])) {
			ret = -EBADF;
			goto out;
		}
		f = uapi_fd_file(u, fds[i]);
		if (!f || f->fops != &vfio_group_fops) {
			ret = -EINVAL;
			goto out;
		}
		groups[i] = f->private_data;
	}
	/* vfio_pci_dev_set_hot_reset: every affected device bound to
	 * vfio-pci (-EBUSY otherwise) and in one of the groups given. */
	for (size_t k = 0; k < n; k++) {
		struct vfio_device *vd = vfio_device_of(u, devs[k]);
		bool found = false;

		if (!vd) {
			ret = -EBUSY;
			goto out;
		}
		for (uint32_t i = 0; i < hdr.count; i++)
			found |= groups[i] == vd->group;
		if (!found) {
			ret = -EINVAL;
			goto out;
		}
	}
	ret = 0;
out:
	free(fds);
	free(groups);
	free(devs);
	return ret;
}

/* ------------------------------------------------------------------ */
/* IOEVENTFD and FEATURE                                                */

static long ioeventfd(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_pci_state *st = vdev->pci;
	struct device_extra *ex = vdev->extra;
	struct vfio_device_ioeventfd io;
	size_t minsz = offsetof(struct vfio_device_ioeventfd, fd) + sizeof(io.fd);
	unsigned count;
	uint64_t pos;
	int bar, ref, ret;

	if (uapi_copy_from_user(vdev->u, &io, arg, minsz))
		return -EFAULT;
	if (io.argsz < minsz)
		return -EINVAL;
	if (io.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = io.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (__builtin_popcount(count) != 1 || io.fd < -1)
		return -EINVAL;
	/* vfio_pci_ioeventfd */
	pos = io.offset & (((uint64_t)1 << VFIO_PCI_OFFSET_SHIFT) - 1);
	bar = (int)(io.offset >> VFIO_PCI_OFFSET_SHIFT);
	if (bar > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	if (pos + count > st->bar[bar].len)
		return -EINVAL;
	if (bar == st->msix_bar) {
		uint64_t off, size;

		msix_table(st, &off, &size);
		if (!(pos + count <= off || pos >= off + size))
			return -EINVAL;
	}
	for (size_t i = 0; i < ex->n_ioev; i++) {
		struct ioeventfd *e = &ex->ioev[i];

		if (e->pos == pos && e->bar == bar && e->data == io.data && e->count == (int)count) {
			if (io.fd == -1) {
				close(e->fd);
				ex->ioev[i] = ex->ioev[--ex->n_ioev];
				return 0;
			}
			return -EEXIST;
		}
	}
	if (io.fd < 0)
		return -ENODEV;
	if (ex->n_ioev >= VFIO_PCI_IOEVENTFD_MAX)
		return -ENOSPC;
	ret = eventfd_get(io.fd, &ref);
	if (ret)
		return ret;
	{
		struct ioeventfd *ne = realloc(ex->ioev, (ex->n_ioev + 1) * sizeof(*ne));

		if (!ne) {
			close(ref);
			return -ENOMEM;
		}
		ex->ioev = ne;
		ex->ioev[ex->n_ioev++] = (struct ioeventfd){ pos, io.data, bar, (int)count, ref };
	}
	return 0;
}

static long device_feature(struct vfio_device *vdev, unsigned long arg)
{
	struct vfio_device_feature feature;
	size_t minsz = offsetof(struct vfio_device_feature, flags) + sizeof(feature.flags);

	if (uapi_copy_from_user(vdev->u, &feature, arg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	/* Check unknown flags */
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET & SET are mutually exclusive except with PROBE */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET) && (feature.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	/* No migration, no VF token (not an SR-IOV PF), no low-power
	 * features modelled: the driver's answer for an unknown feature. */
	return -ENOTTY;
}

static long device_ioctl(struct uapi_file *f, unsigned int cmd, unsigned long arg)
{
	struct vfio_device *vdev = f->private_data;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return get_info(vdev, arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return get_region_info(vdev, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return get_irq_info(vdev, arg);
	case VFIO_DEVICE_SET_IRQS:
		return set_irqs(vdev, arg);
	case VFIO_DEVICE_RESET:
		if (!vdev->reset_works)
			return -EINVAL;
		return 0;
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return hot_reset_info(vdev, arg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return hot_reset(vdev, arg);
	case VFIO_DEVICE_IOEVENTFD:
		return ioeventfd(vdev, arg);
	case VFIO_DEVICE_FEATURE:
		return device_feature(vdev, arg);
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* read, write, mmap                                                    */

static int bar_memfd(struct vfio_bar *b, size_t len)
{
	if (b->memfd < 0) {
		int fd = memfd_create("iommu-model:bar", MFD_CLOEXEC);

		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)((len + UAPI_PAGE_SIZE - 1) & ~(size_t)(UAPI_PAGE_SIZE - 1)))) {
			close(fd);
			return -ENOMEM;
		}
		b->memfd = fd;
	}
	return b->memfd;
}

static ssize_t bar_rw(struct vfio_device *vdev, int bar, void *buf, size_t count, uint64_t pos,
		      bool write)
{
	struct vfio_pci_state *st = vdev->pci;
	struct vfio_bar *b = &st->bar[bar];
	uint64_t end, x_start = 0, x_end = 0;
	int fd;
	ssize_t r;

	if (!b->start || !b->len)
		return -EINVAL;
	end = b->len;
	if (pos >= end)
		return -EINVAL;
	if (count > end - pos)
		count = (size_t)(end - pos);
	/* __vfio_pci_memory_enabled: the virtual memory enable bit */
	if ((b->flags & IORESOURCE_MEM) && bar != 6 &&
	    !(st->vconfig[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return -EIO;
	if (bar == st->msix_bar)
		msix_table(st, &x_start, &x_end), x_end += x_start;
	fd = bar_memfd(b, (size_t)b->len);
	if (fd < 0)
		return fd;
	/* The MSI-X table is not accessible here: reads fill with ~0,
	 * writes are dropped. */
	if (x_end > x_start && pos < x_end && pos + count > x_start) {
		if (pos >= x_start) {
			size_t n = (size_t)(x_end - pos) < count ? (size_t)(x_end - pos) : count;

			if (!write)
				memset(buf, 0xff, n);
			return (ssize_t)n;
		}
		count = (size_t)(x_start - pos);
	}
	if (write)
		r = pwrite(fd, buf, count, (off_t)pos);
	else
		r = pread(fd, buf, count, (off_t)pos);
	if (r < 0)
		return -errno;
	if (!write && (size_t)r < count) {
		memset((uint8_t *)buf + r, 0, count - (size_t)r);
		r = (ssize_t)count;
	}
	return r;
}

static ssize_t vga_rw(struct vfio_device *vdev, void *buf, size_t count, uint64_t pos,
		      bool write)
{
	struct device_extra *ex = vdev->extra;
	uint64_t end;
	ssize_t r;

	if (!vdev->pci->has_vga)
		return -EINVAL;
	if (pos >= 0xa0000 && pos < 0xc0000)
		end = 0xc0000;
	else if (pos >= 0x3b0 && pos < 0x3bc)
		end = 0x3bc;
	else if (pos >= 0x3c0 && pos < 0x3e0)
		end = 0x3e0;
	else
		return -EINVAL;
	if (count > end - pos)
		count = (size_t)(end - pos);
	if (ex->vga_memfd < 0) {
		ex->vga_memfd = memfd_create("iommu-model:vga", MFD_CLOEXEC);
		if (ex->vga_memfd < 0 || ftruncate(ex->vga_memfd, 0xc0000))
			return -ENOMEM;
	}
	r = write ? pwrite(ex->vga_memfd, buf, count, (off_t)pos)
		  : pread(ex->vga_memfd, buf, count, (off_t)pos);
	return r < 0 ? -errno : r;
}

static ssize_t device_rw(struct uapi_file *f, void *buf, size_t count, uint64_t *ppos, bool write)
{
	struct vfio_device *vdev = f->private_data;
	unsigned index = (unsigned)(*ppos >> VFIO_PCI_OFFSET_SHIFT);
	uint64_t pos = *ppos & (((uint64_t)1 << VFIO_PCI_OFFSET_SHIFT) - 1);
	ssize_t r;

	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		r = vfio_config_rw(vdev, buf, count, pos, write);
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		r = write ? -EINVAL : bar_rw(vdev, 6, buf, count, pos, false);
		break;
	case VFIO_PCI_VGA_REGION_INDEX:
		r = vga_rw(vdev, buf, count, pos, write);
		break;
	default:
		r = bar_rw(vdev, (int)index, buf, count, pos, write);
		break;
	}
	if (r > 0)
		*ppos += (uint64_t)r;
	return r;
}

static ssize_t device_read(struct uapi_file *f, void *buf, size_t count, uint64_t *pos)
{
	return device_rw(f, buf, count, pos, false);
}

static ssize_t device_write(struct uapi_file *f, const void *buf, size_t count, uint64_t *pos)
{
	return device_rw(f, (void *)buf, count, pos, true);
}

/* vfio_pci_core_mmap */
static int device_mmap(struct uapi_file *f, uint64_t off, size_t len, int prot, int flags,
		       int *map_fd, off_t *map_off)
{
	struct vfio_device *vdev = f->private_data;
	struct vfio_pci_state *st = vdev->pci;
	unsigned index = (unsigned)(off >> VFIO_PCI_OFFSET_SHIFT);
	uint64_t req_start = off & (((uint64_t)1 << VFIO_PCI_OFFSET_SHIFT) - 1);
	uint64_t phys_len;
	int fd;

	(void)prot;
	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if (!(flags & MAP_SHARED))
		return -EINVAL;
	if (index >= VFIO_PCI_ROM_REGION_INDEX)
		return -EINVAL;
	if (!st->bar[index].mmap_ok)
		return -EINVAL;
	phys_len = (st->bar[index].len + UAPI_PAGE_SIZE - 1) & ~(uint64_t)(UAPI_PAGE_SIZE - 1);
	if (req_start + len > phys_len || req_start + len < req_start)
		return -EINVAL;
	fd = bar_memfd(&st->bar[index], (size_t)phys_len);
	if (fd < 0)
		return fd;
	*map_fd = fd;
	*map_off = (off_t)req_start;
	return 0;
}

const struct uapi_fops vfio_device_fops = {
	.name = "[vfio-device]",
	.kind = UAPI_FILE_VFIO_DEVICE,
	.ioctl = device_ioctl,
	.read = device_read,
	.write = device_write,
	.mmap = device_mmap,
	.release = device_release,
};

int vfio_device_open_file(struct vfio_device *vdev, struct uapi_file **out)
{
	struct vfio_group *g = vdev->group;
	struct uapi_file *f;
	int ret;

	f = uapi_file_alloc(vdev->u, &vfio_device_fops, vdev);
	if (!f)
		return -ENOMEM;
	if (vdev->open_count == 0) {
		/* vfio_df_device_first_open: use the container, enable */
		ret = open_device(vdev);
		if (ret) {
			free(f);
			return ret;
		}
		g->container_users++;
		uapi_file_get(g->opened_file);
	}
	vdev->open_count++;
	f->mode = S_IRUSR | S_IWUSR;    /* an anonymous inode */
	*out = f;
	return 0;
}

/* The cdev path (vfio_cdev.c): vfio_df_open's first open without a group
 * file (a device is opened once there), and its last close. */
int vfio_device_cdev_open(struct vfio_device *vdev)
{
	int ret;

	if (vdev->open_count)
		return -EINVAL;
	ret = open_device(vdev);
	if (!ret)
		vdev->open_count = 1;
	return ret;
}

void vfio_device_cdev_close(struct vfio_device *vdev)
{
	if (vdev->open_count && --vdev->open_count == 0)
		vfio_device_free_state(vdev);
}
