// SPDX-License-Identifier: MIT
/*
 * The files the model answers for besides its character devices: the
 * /dev/vfio directory, sysfs (/sys/kernel/iommu_groups, the PCI
 * functions' iommu_group and driver links, the vfio module parameters)
 * and procfs (/proc/sys/kernel/tainted, /proc/self/pagemap).
 *
 * Directories list in the order the kernel's readdir gives: sysfs
 * (kernfs) directories by name hash (kernfs_name_hash, then the name),
 * "." and ".." first.  Symbolic links are relative, as sysfs makes them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uapi/internal.h"

const struct uapi_devnode *uapi_devnode_lookup(const char *path);

enum node_type { N_NONE, N_DIR, N_REG, N_LNK, N_CHR };

enum node_attr {
	A_NONE,
	A_RESV,         /* iommu_groups/N/reserved_regions */
	A_TYPE,         /* iommu_groups/N/type */
	A_NAME,         /* iommu_groups/N/name (vfio-noiommu) */
	A_NOIOMMU,      /* vfio enable_unsafe_noiommu_mode */
	A_UNSAFE_IRQ,   /* vfio_iommu_type1 allow_unsafe_interrupts */
	A_HUGEPAGES,    /* vfio_iommu_type1 disable_hugepages */
	A_ENTRY_LIMIT,  /* vfio_iommu_type1 dma_entry_limit */
	A_TAINTED,      /* /proc/sys/kernel/tainted */
	A_PAGEMAP,      /* /proc/self/pagemap */
};

struct node {
	enum node_type type;
	enum node_attr attr;
	mode_t perm;
	dev_t rdev;
	char link[256];         /* absolute target (N_LNK) */
	char rel[256];          /* as readlink shows it */
	int group_id;           /* iommu group of A_RESV/A_TYPE/A_NAME/dirs */
};

/* ------------------------------------------------------------------ */
/* Names                                                                */

unsigned uapi_kernfs_name_hash(const char *name)
{
	uint64_t hash = 0;           /* init_name_hash(NULL) */
	unsigned h;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		hash = (hash + ((uint64_t)*p << 4) + (*p >> 4)) * 11;  /* partial_name_hash */
	/* end_name_hash: hash_long(hash, 32) with GOLDEN_RATIO_64 */
	h = (unsigned)((hash * UINT64_C(0x61C8864680B583EB)) >> 32);
	h &= 0x7fffffffu;
	if (h < 2)
		h += 2;
	if (h >= 0x7fffffffu)
		h = 0x7fffffffu - 1;
	return h;
}

void uapi_pci_sysfs_path(const struct iommu_pci_dev *pdev, char *buf, size_t len)
{
	const struct iommu_pci_dev *chain[64];
	const struct iommu_pci_bus *bus, *root = NULL;
	size_t n = 0, off;

	/* From the device up to its root bus through the bridges (a VF's
	 * virtual bus has no bridge: its parent is the PF's bus). */
	chain[n++] = pdev;
	for (bus = pdev->bus; bus; bus = bus->parent) {
		if (bus->self && n < 64)
			chain[n++] = bus->self;
		root = bus;
	}
	off = (size_t)snprintf(buf, len, "devices/pci%04x:%02x",
			       root ? root->segment : pdev->addr.segment,
			       root ? root->number : pdev->addr.bus);
	while (n-- && off < len)
		off += (size_t)snprintf(buf + off, len - off, "/%s", chain[n]->name);
}

static struct iommu_pci_dev *device_by_name(const struct iommu_uapi *u, const char *name,
					    size_t len)
{
	char tmp[IOMMU_PCI_ADDR_STRLEN + 4];
	struct iommu_pci_addr a;

	if (len >= sizeof(tmp))
		return NULL;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	if (len != IOMMU_PCI_ADDR_STRLEN - 1 || iommu_pci_addr_parse(tmp, &a))
		return NULL;
	return iommu_platform_find_device(u->s->platform, a);
}

/* The iommu group id of a device (noiommu groups included), -1 for none. */
static int device_group_id(const struct iommu_uapi *u, const struct iommu_pci_dev *pdev)
{
	struct iommu_device_info *di = iommu_system_device(u->s, pdev);
	struct vfio_device *vdev;

	if (di && di->group)
		return di->group->id;
	vdev = vfio_device_of((struct iommu_uapi *)u, pdev);
	if (vdev && vdev->group->noiommu)
		return vdev->group->id;
	return -1;
}

static struct vfio_group *noiommu_group(const struct iommu_uapi *u, int id)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i]->noiommu && u->groups[i]->id == id)
			return u->groups[i];
	return NULL;
}

static bool group_exists(const struct iommu_uapi *u, int id)
{
	if (id < 0)
		return false;
	if ((size_t)id < u->s->n_groups && u->s->groups[id])
		return true;
	return noiommu_group(u, id) != NULL;
}

/* "/sys/bus/pci/devices/BDF" or "/sys/devices/<path>": the device and
 * the length of the prefix, or NULL. */
static struct iommu_pci_dev *device_dir(const struct iommu_uapi *u, const char *path,
					size_t *plen)
{
	static const char bus[] = "/sys/bus/pci/devices/";

	if (!strncmp(path, bus, sizeof(bus) - 1)) {
		const char *name = path + sizeof(bus) - 1;
		size_t n = strcspn(name, "/");
		struct iommu_pci_dev *pdev = device_by_name(u, name, n);

		if (pdev)
			*plen = sizeof(bus) - 1 + n;
		return pdev;
	}
	if (!strncmp(path, "/sys/devices/pci", 16)) {
		/* The device whose sysfs directory is the longest prefix of
		 * the path (a bridge's directory holds its children's). */
		size_t n = iommu_platform_num_devices(u->s->platform), best_len = 0;
		struct iommu_pci_dev *best = NULL;

		for (size_t i = 0; i < n; i++) {
			struct iommu_pci_dev *pdev = iommu_platform_device(u->s->platform, i);
			char sp[256];
			size_t l;

			uapi_pci_sysfs_path(pdev, sp, sizeof(sp));
			l = strlen(sp);
			if (l > best_len && !strncmp(path + 5, sp, l) &&
			    (path[5 + l] == '/' || !path[5 + l])) {
				best = pdev;
				best_len = l;
			}
		}
		if (best)
			*plen = 5 + best_len;
		return best;
	}
	return NULL;
}

static bool starts_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static bool is_pagemap(const char *path)
{
	char self[64];

	if (!strcmp(path, "/proc/self/pagemap") || !strcmp(path, "/proc/thread-self/pagemap"))
		return true;
	snprintf(self, sizeof(self), "/proc/%d/pagemap", (int)getpid());
	return !strcmp(path, self);
}

bool iommu_uapi_path_owned(const struct iommu_uapi *u, const char *path)
{
	size_t plen;

	if (!path || path[0] != '/')
		return false;
	/* Fast answer for the paths a program opens most (libraries, its
	 * own files): only /dev, /sys and /proc hold the model's, unless
	 * ".." leads back there. */
	if (strncmp(path, "/dev", 4) && strncmp(path, "/sys", 4) && strncmp(path, "/proc", 5) &&
	    !strstr(path, "..") && !strstr(path, "//"))
		return false;
	/* The path with "." and ".." and the model's links resolved (the
	 * last component not followed: a link the model owns is its own). */
	{
		char real[256];
		const char *p = real;

		if (uapi_path_resolve(u, path, false, real, sizeof(real)))
			return false;
		if (starts_dir(p, "/dev/vfio") || uapi_devnode_lookup(p) ||
		    starts_dir(p, "/sys/kernel/iommu_groups") ||
		    starts_dir(p, "/sys/module/vfio/parameters") ||
		    starts_dir(p, "/sys/module/vfio_iommu_type1/parameters") ||
		    !strcmp(p, "/proc/sys/kernel/tainted") || is_pagemap(p))
			return true;
		if (device_dir(u, p, &plen) &&
		    (starts_dir(p + plen, "/iommu_group") || starts_dir(p + plen, "/driver")))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Lookup                                                               */

/* A link in directory @from_dir to @target (both absolute): relative
 * from their common ancestor, as sysfs writes its links. */
static void set_link(struct node *n, const char *from_dir, const char *target)
{
	size_t common = 0, off = 0;

	/* The longest common prefix that ends at a component boundary. */
	for (size_t i = 0; from_dir[i] && from_dir[i] == target[i]; i++)
		if (from_dir[i] == '/')
			common = i;
	n->type = N_LNK;
	n->perm = 0777;
	snprintf(n->link, sizeof(n->link), "%s", target);
	n->rel[0] = '\0';
	/* one ".." per component of from_dir after the common part */
	for (const char *p = from_dir + common; *p && off + 4 < sizeof(n->rel); p++)
		if (*p == '/')
			off += (size_t)snprintf(n->rel + off, sizeof(n->rel) - off, "../");
	snprintf(n->rel + off, sizeof(n->rel) - off, "%s", target + common + 1);
}

/* Fill @n for the resolved absolute @path. */
static int lookup(const struct iommu_uapi *u, const char *path, struct node *n)
{
	struct iommu_pci_dev *pdev;
	const struct uapi_devnode *dn;
	size_t plen;

	memset(n, 0, sizeof(*n));
	n->group_id = -1;
	if (!strcmp(path, "/dev/vfio")) {
		n->type = N_DIR;
		n->perm = 0755;
		return 0;
	}
	/* iommufd's nodes, by kernel version (vfio_cdev.c) */
	if (!strcmp(path, "/dev/iommu") || starts_dir(path, "/dev/vfio/devices")) {
		mode_t m;
		int r = uapi_iommufd_node(u, path, &m, &n->rdev);

		if (r)
			return r;
		n->type = S_ISDIR(m) ? N_DIR : N_CHR;
		n->perm = m & 07777;
		return 0;
	}
	dn = uapi_devnode_lookup(path);
	if (dn) {
		if (dn->major || dn->minor) {
			n->type = N_CHR;
			n->perm = 0666;
			n->rdev = makedev(dn->major, dn->minor);
			return 0;
		}
		if (!strncmp(path, "/dev/vfio/", 10)) {
			struct vfio_group *g = vfio_group_by_name((struct iommu_uapi *)u, path + 10);

			if (!g)
				return -ENOENT;
			n->type = N_CHR;
			n->perm = 0600;
			n->rdev = makedev(uapi_vfio_group_major(u), (unsigned)g->minor);
			return 0;
		}
		return -ENOENT;
	}
	if (starts_dir(path, "/dev/vfio"))
		return -ENOENT;
	if (!strcmp(path, "/sys/kernel/iommu_groups")) {
		n->type = N_DIR;
		n->perm = 0755;
		return 0;
	}
	if (!strncmp(path, "/sys/kernel/iommu_groups/", 25)) {
		const char *rest = path + 25;
		char *end;
		long id;

		if (rest[0] < '0' || rest[0] > '9')
			return -ENOENT;
		id = strtol(rest, &end, 10);
		if ((end - rest > 1 && rest[0] == '0') || id > 0x7fffffff || !group_exists(u, (int)id))
			return -ENOENT;
		n->group_id = (int)id;
		if (!*end) {
			n->type = N_DIR;
			n->perm = 0755;
			return 0;
		}
		if (!strcmp(end, "/devices")) {
			n->type = N_DIR;
			n->perm = 0755;
			return 0;
		}
		if (!strcmp(end, "/reserved_regions") || !strcmp(end, "/type") ||
		    (!strcmp(end, "/name") && noiommu_group(u, (int)id))) {
			n->type = N_REG;
			n->perm = !strcmp(end, "/type") && !noiommu_group(u, (int)id) &&
				  uapi_kernel_at_least(u, 5, 11) ? 0644 : 0444;
			n->attr = end[1] == 'r' ? A_RESV : end[1] == 't' ? A_TYPE : A_NAME;
			return 0;
		}
		if (!strncmp(end, "/devices/", 9)) {
			const char *name = end + 9;
			size_t l = strlen(name);
			char target[256], sp[200];

			pdev = device_by_name(u, name, l);
			if (!pdev || device_group_id(u, pdev) != (int)id)
				return -ENOENT;
			uapi_pci_sysfs_path(pdev, sp, sizeof(sp));
			snprintf(target, sizeof(target), "/sys/%s", sp);
			{
				char from[96];

				snprintf(from, sizeof(from), "/sys/kernel/iommu_groups/%ld/devices", id);
				set_link(n, from, target);
			}
			return 0;
		}
		return -ENOENT;
	}
	if (starts_dir(path, "/sys/module/vfio/parameters") ||
	    starts_dir(path, "/sys/module/vfio_iommu_type1/parameters")) {
		const char *leaf = strrchr(path, '/') + 1;
		bool type1 = !strncmp(path, "/sys/module/vfio_iommu_type1", 28);

		if (!strcmp(leaf, "parameters")) {
			n->type = N_DIR;
			n->perm = 0755;
			return 0;
		}
		n->type = N_REG;
		n->perm = 0644;
		if (!type1 && !strcmp(leaf, "enable_unsafe_noiommu_mode"))
			n->attr = A_NOIOMMU;
		else if (type1 && !strcmp(leaf, "allow_unsafe_interrupts"))
			n->attr = A_UNSAFE_IRQ;
		else if (type1 && !strcmp(leaf, "disable_hugepages"))
			n->attr = A_HUGEPAGES;
		else if (type1 && !strcmp(leaf, "dma_entry_limit"))
			n->attr = A_ENTRY_LIMIT;
		else
			return -ENOENT;
		return 0;
	}
	if (!strcmp(path, "/proc/sys/kernel/tainted")) {
		n->type = N_REG;
		n->perm = 0644;
		n->attr = A_TAINTED;
		return 0;
	}
	if (is_pagemap(path)) {
		n->type = N_REG;
		n->perm = 0400;
		n->attr = A_PAGEMAP;
		return 0;
	}
	pdev = device_dir(u, path, &plen);
	if (pdev) {
		const char *leaf = path + plen;
		char from[256], sp[200], target[256];
		int gid = device_group_id(u, pdev);

		uapi_pci_sysfs_path(pdev, sp, sizeof(sp));
		snprintf(from, sizeof(from), "/sys/%s", sp);
		if (!strcmp(leaf, "/iommu_group")) {
			if (gid < 0)
				return -ENOENT;
			snprintf(target, sizeof(target), "/sys/kernel/iommu_groups/%d", gid);
			set_link(n, from, target);
			return 0;
		}
		if (!strcmp(leaf, "/driver")) {
			if (!pdev->driver)
				return -ENOENT;
			snprintf(target, sizeof(target), "/sys/bus/pci/drivers/%s", pdev->driver);
			set_link(n, from, target);
			return 0;
		}
	}
	return -ENOENT;
}

int uapi_path_resolve(const struct iommu_uapi *u, const char *path, bool follow_last,
		      char *out, size_t len)
{
	char work[512], res[512];
	int links = 0;

	if (!path || path[0] != '/')
		return -ENOENT;
	if (strlen(path) >= sizeof(work))
		return -ENAMETOOLONG;
	snprintf(work, sizeof(work), "%s", path);
restart:
	res[0] = '\0';
	for (char *p = work; *p;) {
		char comp[256];
		size_t n;
		bool last;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n >= sizeof(comp))
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		while (*p == '/')
			p++;
		last = *p == '\0';
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *s = strrchr(res, '/');

			if (s)
				*s = '\0';
			continue;
		}
		if (strlen(res) + 1 + n >= sizeof(res))
			return -ENAMETOOLONG;
		strcat(res, "/");
		strcat(res, comp);
		if (!last || follow_last) {
			struct node nd;

			if (lookup(u, res, &nd) == 0 && nd.type == N_LNK) {
				char rest[512];

				if (++links > 40)
					return -ELOOP;
				size_t ll = strlen(nd.link), rl = strlen(p);

				if (ll + 1 + rl >= sizeof(rest))
					return -ENAMETOOLONG;
				memcpy(rest, nd.link, ll);
				rest[ll] = '/';
				memcpy(rest + ll + 1, p, rl + 1);
				memcpy(work, rest, ll + rl + 2);
				goto restart;
			}
		}
	}
	if (!res[0])
		strcpy(res, "/");
	if (strlen(res) >= len)
		return -ENAMETOOLONG;
	strcpy(out, res);
	return 0;
}

/* ------------------------------------------------------------------ */
/* stat, readlink, readdir                                              */

static uint64_t path_ino(const char *path)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (h & 0xffffffffu) | 0x100000000ULL;
}

int iommu_uapi_stat(struct iommu_uapi *u, const char *path, struct stat *st, bool follow)
{
	char real[256];
	struct node n;
	int ret;

	ret = uapi_path_resolve(u, path, follow, real, sizeof(real));
	if (ret)
		return ret;
	ret = lookup(u, real, &n);
	if (ret)
		return ret;
	memset(st, 0, sizeof(*st));
	switch (n.type) {
	case N_DIR:
		st->st_mode = S_IFDIR;
		st->st_nlink = 2;
		break;
	case N_REG:
		st->st_mode = S_IFREG;
		st->st_nlink = 1;
		st->st_size = n.attr == A_TAINTED || n.attr == A_PAGEMAP ? 0 : 4096;
		break;
	case N_LNK:
		st->st_mode = S_IFLNK;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(n.rel);
		break;
	case N_CHR:
		st->st_mode = S_IFCHR;
		st->st_nlink = 1;
		st->st_rdev = n.rdev;
		break;
	default:
		return -ENOENT;
	}
	st->st_mode |= n.perm;
	st->st_ino = path_ino(real);
	st->st_dev = makedev(0, !strncmp(real, "/sys", 4) ? 21 : !strncmp(real, "/proc", 5) ? 22 : 5);
	st->st_blksize = 4096;
	return 0;
}

ssize_t iommu_uapi_readlink(struct iommu_uapi *u, const char *path, char *buf, size_t len)
{
	char real[256];
	struct node n;
	size_t l;
	int ret;

	ret = uapi_path_resolve(u, path, false, real, sizeof(real));
	if (ret)
		return ret;
	ret = lookup(u, real, &n);
	if (ret)
		return ret;
	if (n.type != N_LNK)
		return -EINVAL;
	l = strlen(n.rel);
	if (l > len)
		l = len;
	memcpy(buf, n.rel, l);
	return (ssize_t)l;
}

struct ent_list {
	struct iommu_uapi_dirent *e;
	size_t n, cap;
};

static int ent_add(struct ent_list *l, const char *name, unsigned char type, uint64_t ino)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct iommu_uapi_dirent *ne = realloc(l->e, nc * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		l->e = ne;
		l->cap = nc;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[l->n]));
	snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", name);
	l->e[l->n].type = type;
	l->e[l->n].ino = ino;
	l->n++;
	return 0;
}

static int kernfs_cmp(const void *a, const void *b)
{
	const struct iommu_uapi_dirent *x = a, *y = b;
	unsigned hx = uapi_kernfs_name_hash(x->name), hy = uapi_kernfs_name_hash(y->name);

	if (hx != hy)
		return hx < hy ? -1 : 1;
	return strcmp(x->name, y->name);
}

int iommu_uapi_list_dir(struct iommu_uapi *u, const char *path,
			struct iommu_uapi_dirent **ents, size_t *count)
{
	struct ent_list l = { 0 };
	char real[256], child[320];
	struct node n;
	size_t first;
	bool kernfs;
	int ret;

	*ents = NULL;
	*count = 0;
	ret = uapi_path_resolve(u, path, true, real, sizeof(real));
	if (ret)
		return ret;
	ret = lookup(u, real, &n);
	if (ret)
		return ret;
	if (n.type != N_DIR)
		return -ENOTDIR;
	ret = ent_add(&l, ".", DT_DIR, path_ino(real));
	if (!ret)
		ret = ent_add(&l, "..", DT_DIR, 2);
	first = l.n;
	kernfs = !strncmp(real, "/sys/", 5);
	if (ret)
		goto out;
	if (!strcmp(real, "/dev/vfio")) {
		mode_t m;
		dev_t rd;

		ret = ent_add(&l, "vfio", DT_CHR, path_ino("/dev/vfio/vfio"));
		for (size_t i = 0; !ret && i < u->n_groups; i++) {
			snprintf(child, sizeof(child), "/dev/vfio/%s", u->groups[i]->name);
			ret = ent_add(&l, u->groups[i]->name, DT_CHR, path_ino(child));
		}
		if (!ret && !uapi_iommufd_node(u, "/dev/vfio/devices", &m, &rd))
			ret = ent_add(&l, "devices", DT_DIR, path_ino("/dev/vfio/devices"));
	} else if (!strcmp(real, "/dev/vfio/devices")) {
		/* the VFIO device cdevs (vfio_cdev.c), in bind order */
		for (int k = 0; !ret && (size_t)k < u->n_devices; k++)
			for (size_t i = 0; !ret && i < u->n_devices; i++) {
				const struct vfio_device *v = u->vdevs[i];

				if (!v || v->index != k || v->group->noiommu)
					continue;
				snprintf(child, sizeof(child), "/dev/vfio/devices/vfio%d", k);
				ret = ent_add(&l, child + 18, DT_CHR, path_ino(child));
			}
	} else if (!strcmp(real, "/sys/kernel/iommu_groups")) {
		for (size_t i = 0; !ret && i < u->s->n_groups; i++) {
			char name[16];

			if (!u->s->groups[i])
				continue;
			snprintf(name, sizeof(name), "%d", u->s->groups[i]->id);
			snprintf(child, sizeof(child), "%s/%s", real, name);
			ret = ent_add(&l, name, DT_DIR, path_ino(child));
		}
		for (size_t i = 0; !ret && i < u->n_groups; i++) {
			char name[16];

			if (!u->groups[i]->noiommu)
				continue;
			snprintf(name, sizeof(name), "%d", u->groups[i]->id);
			snprintf(child, sizeof(child), "%s/%s", real, name);
			ret = ent_add(&l, name, DT_DIR, path_ino(child));
		}
	} else if (n.group_id >= 0 && !strstr(real + 25, "/devices")) {
		static const char *const attrs[] = { "devices", "reserved_regions", "type", "name" };

		for (size_t i = 0; !ret && i < 4; i++) {
			struct node c;

			snprintf(child, sizeof(child), "%s/%s", real, attrs[i]);
			if (lookup(u, child, &c))
				continue;
			ret = ent_add(&l, attrs[i], c.type == N_DIR ? DT_DIR : DT_REG, path_ino(child));
		}
	} else if (n.group_id >= 0) {
		size_t nd = iommu_platform_num_devices(u->s->platform);

		for (size_t i = 0; !ret && i < nd; i++) {
			struct iommu_pci_dev *pdev = iommu_platform_device(u->s->platform, i);

			if (device_group_id(u, pdev) != n.group_id)
				continue;
			snprintf(child, sizeof(child), "%s/%s", real, pdev->name);
			ret = ent_add(&l, pdev->name, DT_LNK, path_ino(child));
		}
	} else if (!strcmp(real, "/sys/module/vfio/parameters")) {
		ret = ent_add(&l, "enable_unsafe_noiommu_mode", DT_REG,
			      path_ino("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"));
	} else if (!strcmp(real, "/sys/module/vfio_iommu_type1/parameters")) {
		static const char *const p[] = { "allow_unsafe_interrupts", "disable_hugepages",
						 "dma_entry_limit" };

		for (size_t i = 0; !ret && i < 3; i++) {
			snprintf(child, sizeof(child), "%s/%s", real, p[i]);
			ret = ent_add(&l, p[i], DT_REG, path_ino(child));
		}
	}
	if (ret)
		goto out;
	if (kernfs && l.n > first)
		qsort(l.e + first, l.n - first, sizeof(*l.e), kernfs_cmp);
	*ents = l.e;
	*count = l.n;
	return 0;
out:
	free(l.e);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Attribute files                                                      */

struct attr_state {
	enum node_attr attr;
	int group_id;
};

static int attr_text(struct iommu_uapi *u, enum node_attr a, int gid, char **text, size_t *len)
{
	char buf[8192];
	size_t n = 0;

	buf[0] = '\0';
	switch (a) {
	case A_RESV:
		if (!noiommu_group(u, gid))
			n = iommu_group_resv_text(u->s->groups[gid], buf, sizeof(buf));
		break;
	case A_TYPE:
		if (noiommu_group(u, gid))
			n = (size_t)snprintf(buf, sizeof(buf), "unknown\n");
		else
			n = (size_t)snprintf(buf, sizeof(buf), "%s\n",
					     iommu_domain_type_name(u->s->groups[gid]->type));
		break;
	case A_NAME:
		n = (size_t)snprintf(buf, sizeof(buf), "vfio-noiommu\n");
		break;
	case A_NOIOMMU:
		n = (size_t)snprintf(buf, sizeof(buf), "%c\n", u->noiommu ? 'Y' : 'N');
		break;
	case A_UNSAFE_IRQ:
		n = (size_t)snprintf(buf, sizeof(buf), "%c\n", u->allow_unsafe_interrupts ? 'Y' : 'N');
		break;
	case A_HUGEPAGES:
		n = (size_t)snprintf(buf, sizeof(buf), "N\n");
		break;
	case A_ENTRY_LIMIT:
		n = (size_t)snprintf(buf, sizeof(buf), "%u\n", u->dma_entry_limit);
		break;
	case A_TAINTED:
		n = (size_t)snprintf(buf, sizeof(buf), "%lu\n", u->taint);
		break;
	default:
		break;
	}
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	*text = malloc(n + 1);
	if (!*text)
		return -ENOMEM;
	memcpy(*text, buf, n + 1);
	*len = n;
	return 0;
}

static ssize_t attr_read(struct uapi_file *f, void *buf, size_t count, uint64_t *pos)
{
	struct attr_state *st = f->private_data;

	if (st->attr == A_PAGEMAP) {
		/* pagemap_read: 8-byte entries, one per page of the address space. */
		uint8_t *b = buf;
		size_t done = 0;

		if ((*pos % 8) || (count % 8))
			return -EINVAL;
		while (done < count) {
			uint64_t vaddr = (*pos / 8) << UAPI_PAGE_SHIFT;
			uint64_t e = (*pos / 8) >= (UINT64_C(1) << 52) ? 0
					: uapi_mm_pagemap_entry(f->u->mm, vaddr);

			memcpy(b + done, &e, 8);
			done += 8;
			*pos += 8;
		}
		return (ssize_t)done;
	}
	if (!f->text)
		return -EISDIR;
	if (*pos >= f->text_len)
		return 0;
	if (count > f->text_len - *pos)
		count = f->text_len - (size_t)*pos;
	memcpy(buf, f->text + *pos, count);
	*pos += count;
	return (ssize_t)count;
}

static ssize_t attr_write(struct uapi_file *f, const void *buf, size_t count, uint64_t *pos)
{
	struct attr_state *st = f->private_data;
	struct iommu_uapi *u = f->u;
	char val[64];
	int ret;

	(void)pos;
	if (count >= sizeof(val))
		return -EINVAL;
	memcpy(val, buf, count);
	val[count] = '\0';
	switch (st->attr) {
	case A_NOIOMMU:
		ret = iommu_uapi_set_param(u, "vfio/enable_unsafe_noiommu_mode", val);
		break;
	case A_UNSAFE_IRQ:
		ret = iommu_uapi_set_param(u, "vfio_iommu_type1/allow_unsafe_interrupts", val);
		break;
	case A_ENTRY_LIMIT:
		ret = iommu_uapi_set_param(u, "vfio_iommu_type1/dma_entry_limit", val);
		break;
	case A_TYPE: {
		struct iommu_error err;

		ret = iommu_group_store_type(u->s, u->s->groups[st->group_id], val, &err);
		break;
	}
	case A_TAINTED: {
		/* proc_taint: OR-ing bits in needs CAP_SYS_ADMIN. */
		char *end;
		unsigned long v = strtoul(val, &end, 0);

		if (end == val)
			return -EINVAL;
		u->taint |= v;
		ret = 0;
		break;
	}
	default:
		return -EIO;
	}
	return ret ? ret : (ssize_t)count;
}

static void attr_release(struct uapi_file *f)
{
	free(f->private_data);
}

const struct uapi_fops uapi_attr_fops = {
	.name = "sysfs-attr",
	.kind = UAPI_FILE_ATTR,
	.read = attr_read,
	.write = attr_write,
	.release = attr_release,
	.seekable = true,
};

int uapi_sysfs_open(struct iommu_uapi *u, const char *path, int flags, struct uapi_file **out)
{
	struct attr_state *st;
	struct uapi_file *f;
	struct node n;
	int ret;

	ret = lookup(u, path, &n);
	if (ret)
		return ret;
	if (n.type == N_LNK)
		return -ELOOP;          /* resolved by the caller: only a loop is left */
	if (n.type == N_CHR)
		return -ENXIO;          /* a node without a driver behind it */
	if (n.type != N_DIR && (flags & O_DIRECTORY))
		return -ENOTDIR;
	if (n.type == N_DIR && (flags & O_ACCMODE) != O_RDONLY)
		return -EISDIR;
	if ((flags & O_ACCMODE) != O_RDONLY && !(n.perm & 0200))
		return -EACCES;
	if ((flags & O_ACCMODE) != O_RDONLY && !u->rawio)   /* root-owned 0644 files */
		return -EACCES;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->attr = n.attr;
	st->group_id = n.group_id;
	f = uapi_file_alloc(u, &uapi_attr_fops, st);
	if (!f) {
		free(st);
		return -ENOMEM;
	}
	f->mode = (n.type == N_DIR ? S_IFDIR : S_IFREG) | n.perm;
	f->ino = path_ino(path);
	snprintf(f->attr_path, sizeof(f->attr_path), "%s", path);
	if (n.type == N_REG && n.attr != A_PAGEMAP) {
		ret = attr_text(u, n.attr, n.group_id, &f->text, &f->text_len);
		if (ret) {
			f->refs = 1;
			uapi_file_put(f);
			return ret;
		}
	}
	*out = f;
	return 0;
}
