// SPDX-License-Identifier: MIT
/*
 * From input files to a platform: decode each function's config space,
 * then build the bus tree of each PCI segment from the bridges' bus number
 * registers (as the kernel's enumeration leaves them), never from sysfs
 * paths.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/platform.h"
#include "platform/fileset.h"
#include "util/strv.h"

struct iommu_platform {
	enum iommu_platform_source source;
	char *label;
	struct iommu_fileset files;

	struct iommu_pci_dev *devs;     /* sorted by address */
	size_t n_devs;
	struct iommu_pci_bus **buses;   /* sorted by segment, number */
	size_t n_buses;
	struct iommu_pci_bus **roots;
	size_t n_roots;

	char *cmdline;
	char *release;

	const char **acpi_names;        /* point into files */
	size_t n_acpi;

	char **warnings;
	size_t n_warnings;
};

static void add_warning(void *ctx, const char *msg)
{
	struct iommu_platform *p = ctx;

	iommu_strv_addf(&p->warnings, &p->n_warnings, "%s", msg);
}

static void warnf(struct iommu_platform *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(struct iommu_platform *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iommu_strv_vaddf(&p->warnings, &p->n_warnings, fmt, ap);
	va_end(ap);
}

/*
 * A sysfs text attribute as a NUL-terminated string without trailing white
 * space.  NULL on failure, with the errno in *@code when @code is given.
 */
static char *attr_text_code(const struct iommu_file *f, int *code, struct iommu_error *err)
{
	size_t n = f->len;
	char *s;

	if (code)
		*code = -EINVAL;
	if (memchr(f->data, '\0', n)) {
		iommu_error_set(err, -EINVAL, "%s: not a text file (holds a NUL byte)", f->path);
		return NULL;
	}
	if (code)
		*code = -ENOMEM;
	while (n && (f->data[n - 1] == '\n' || f->data[n - 1] == ' ' ||
		     f->data[n - 1] == '\t' || f->data[n - 1] == '\r'))
		n--;
	s = malloc(n + 1);
	if (!s) {
		iommu_error_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(s, f->data, n);
	s[n] = '\0';
	if (code)
		*code = 0;
	return s;
}

static char *attr_text(const struct iommu_file *f, struct iommu_error *err)
{
	return attr_text_code(f, NULL, err);
}

/* "0x8086" or "fed90000" style attribute; -EINVAL with a message when malformed. */
static int attr_hex(const struct iommu_file *f, uint64_t max, uint64_t *out,
		    struct iommu_error *err)
{
	char *s = attr_text(f, err);
	char *end;
	int ret = 0;

	if (!s)
		return err ? err->code : -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (s[0] == '\0' || *end != '\0' || errno || *out > max || s[0] == '-')
		ret = iommu_error_set(err, -EINVAL, "%s: \"%.40s\" is not a hexadecimal number up to 0x%llx",
				      f->path, s, (unsigned long long)max);
	free(s);
	return ret;
}

static const struct iommu_file *dev_file(const struct iommu_platform *p,
					 const char *bdf, const char *attr)
{
	char path[64];

	snprintf(path, sizeof(path), "pci/%s/%s", bdf, attr);
	return iommu_fileset_get(&p->files, path);
}

static int cmp_dev(const void *a, const void *b)
{
	return iommu_pci_addr_cmp(((const struct iommu_pci_dev *)a)->addr,
				  ((const struct iommu_pci_dev *)b)->addr);
}

/*
 * Decode one function from pci/<bdf>/.  @bdf is the directory name as the
 * source spelled it.
 */
static int load_device(struct iommu_platform *p, const char *bdf,
		       struct iommu_pci_dev *dev, struct iommu_error *err)
{
	const struct iommu_file *cfg = dev_file(p, bdf, "config");
	const struct iommu_file *f;
	struct iommu_pci_addr addr;
	uint64_t v_vendor = 0, v_device = 0;
	bool have_ids = false;
	uint8_t *spliced = NULL;
	const uint8_t *data;
	int ret;

	if (iommu_pci_addr_parse(bdf, &addr))
		return iommu_error_set(err, -EINVAL, "pci/%s: not a PCI address (SSSS:BB:DD.F)", bdf);
	if (!cfg)
		return iommu_error_set(err, -ENOENT, "pci/%s: no config file", bdf);

	f = dev_file(p, bdf, "vendor");
	if (f) {
		ret = attr_hex(f, 0xffff, &v_vendor, err);
		if (ret)
			return ret;
		f = dev_file(p, bdf, "device");
		if (f) {
			ret = attr_hex(f, 0xffff, &v_device, err);
			if (ret)
				return ret;
			have_ids = true;
		}
	}

	data = cfg->data;
	/*
	 * An SR-IOV virtual function answers 0xffff for its vendor and device
	 * ids; the kernel takes them from the physical function
	 * (pci_iov_add_virtfn) and sysfs shows those.  Use them the same way.
	 */
	if (have_ids && cfg->len >= 4 && data[0] == 0xff && data[1] == 0xff &&
	    data[2] == 0xff && data[3] == 0xff && v_vendor != 0xffff) {
		spliced = malloc(cfg->len);
		if (!spliced)
			return iommu_error_set(err, -ENOMEM, "out of memory");
		memcpy(spliced, data, cfg->len);
		spliced[0] = (uint8_t)v_vendor;
		spliced[1] = (uint8_t)(v_vendor >> 8);
		spliced[2] = (uint8_t)v_device;
		spliced[3] = (uint8_t)(v_device >> 8);
		data = spliced;
	}
	ret = iommu_pci_decode_config(dev, addr, data, cfg->len, add_warning, p, err);
	free(spliced);
	if (ret)
		return iommu_error_prefix(err, "pci/%s/config", bdf);

	if (have_ids && (v_vendor != dev->vendor || v_device != dev->device))
		warnf(p, "%s: sysfs says [%04x:%04x] but config space says [%04x:%04x]; using config space",
		      dev->name, (unsigned)v_vendor, (unsigned)v_device, dev->vendor, dev->device);

	f = dev_file(p, bdf, "driver");
	if (f) {
		char *s = attr_text(f, err);

		if (!s) {
			iommu_pci_dev_release(dev);
			return err ? err->code : -EINVAL;
		}
		if (s[0])
			dev->driver = s;
		else
			free(s);
	}
	f = dev_file(p, bdf, "irq");
	if (f) {
		unsigned long irq;
		char *s = attr_text(f, err);
		char *end;

		if (!s) {
			iommu_pci_dev_release(dev);
			free((char *)dev->driver);
			return err ? err->code : -EINVAL;
		}
		errno = 0;
		irq = strtoul(s, &end, 10);
		if (s[0] && !*end && !errno && irq <= 0x7fffffff)
			dev->irq = (int)irq;
		else
			warnf(p, "pci/%s/irq: \"%.20s\" is not a number; ignored", bdf, s);
		free(s);
	}
	return 0;
}

static void free_device(struct iommu_pci_dev *d)
{
	free((char *)d->driver);
	iommu_pci_dev_release(d);
}

/*
 * SR-IOV virtual functions: with VF Enable set, VF i of a physical function
 * has routing id PF + First VF Offset + i * VF Stride (PCIe Base 9.3.3.9,
 * the kernel's pci_iov_virtfn_bus/devfn).  Those present are marked.
 */
static void mark_virtfns(struct iommu_platform *p)
{
	for (size_t i = 0; i < p->n_devs; i++) {
		struct iommu_pci_dev *pf = &p->devs[i];
		const struct iommu_pci_sriov *sr = &pf->sriov;

		if (!sr->offset || !(sr->ctrl & 1) || !sr->num_vfs || pf->is_virtfn)
			continue;
		for (unsigned k = 0; k < sr->num_vfs; k++) {
			uint32_t rid = iommu_pci_addr_rid(pf->addr) + sr->vf_offset + k * sr->vf_stride;
			struct iommu_pci_addr a = { .segment = pf->addr.segment,
						    .bus = (uint8_t)(rid >> 8), .devfn = (uint8_t)rid };
			struct iommu_pci_dev *vf;

			if (rid > 0xffff)
				break;
			vf = iommu_platform_find_device(p, a);
			if (vf && vf != pf) {
				vf->is_virtfn = true;
				vf->physfn = pf;
				vf->vf_index = (int)k;
			}
		}
	}
}

/* --- bus tree ----------------------------------------------------- */

static struct iommu_pci_bus *find_bus(const struct iommu_platform *p,
				      uint16_t seg, uint8_t nr)
{
	size_t lo = 0, hi = p->n_buses;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct iommu_pci_bus *b = p->buses[mid];
		uint32_t key = (uint32_t)seg << 8 | nr;
		uint32_t bk = (uint32_t)b->segment << 8 | b->number;

		if (key == bk)
			return p->buses[mid];
		if (key < bk)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int push(void ***arr, size_t *n, void *item)
{
	/* Arrays here grow by one; they are small and built once. */
	void **a = realloc(*arr, (*n + 1) * sizeof(void *));

	if (!a)
		return -ENOMEM;
	a[(*n)++] = item;
	*arr = a;
	return 0;
}

static int new_bus(struct iommu_platform *p, uint16_t seg, uint8_t nr)
{
	struct iommu_pci_bus *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->segment = seg;
	b->number = nr;
	b->busn_end = nr;
	if (push((void ***)&p->buses, &p->n_buses, b)) {
		free(b);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Sibling buses in the devfn order of the bridges leading to them; the
 * virtual buses of SR-IOV VFs (no bridge) after those, by number, as the
 * kernel adds them when SR-IOV is enabled.
 */
static int cmp_child(const void *a, const void *b)
{
	const struct iommu_pci_bus *x = *(struct iommu_pci_bus *const *)a;
	const struct iommu_pci_bus *y = *(struct iommu_pci_bus *const *)b;

	if (x->self && y->self)
		return iommu_pci_addr_cmp(x->self->addr, y->self->addr);
	if (x->self || y->self)
		return x->self ? -1 : 1;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* A bus that holds only virtual functions whose PF sits on another bus. */
static bool vf_only_bus(const struct iommu_pci_bus *b)
{
	for (size_t i = 0; i < b->n_devices; i++) {
		const struct iommu_pci_dev *d = b->devices[i];

		if (!d->is_virtfn || d->physfn->addr.bus == b->number)
			return false;
	}
	return b->n_devices > 0;
}

static bool ranges_overlap(const struct iommu_pci_dev *a, const struct iommu_pci_dev *b)
{
	return a->secondary_bus <= b->subordinate_bus && b->secondary_bus <= a->subordinate_bus;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_bridge_sec(const void *a, const void *b)
{
	const struct iommu_pci_dev *x = *(struct iommu_pci_dev *const *)a;
	const struct iommu_pci_dev *y = *(struct iommu_pci_dev *const *)b;

	return x->secondary_bus < y->secondary_bus ? -1 : x->secondary_bus > y->secondary_bus;
}

/*
 * Bus objects, bridges linked to the buses they lead to, the parent of
 * each bus, and the checks that make the tree a tree.  Everything is
 * sorted once, so the cost grows as n log n with the number of functions.
 */
static int build_tree(struct iommu_platform *p, struct iommu_error *err)
{
	uint32_t *keys;
	size_t nkeys = 0, i, j;
	struct iommu_pci_dev **bridges = NULL;
	int ret = 0;

	for (i = 0; i < p->n_devs; i++) {
		struct iommu_pci_dev *d = &p->devs[i];

		if (!d->is_bridge)
			continue;
		if (d->secondary_bus <= d->addr.bus)
			return iommu_error_set(err, -EINVAL,
				"%s: bridge on bus %02x leads to bus %02x: the bus behind a bridge must be numbered "
				"above the bridge's own bus, or the tree loops (cyclic bus numbers)",
				d->name, d->addr.bus, d->secondary_bus);
		if (d->subordinate_bus < d->secondary_bus)
			return iommu_error_set(err, -EINVAL,
				"%s: bridge bus range [%02x-%02x] ends before it starts",
				d->name, d->secondary_bus, d->subordinate_bus);
		if (d->primary_bus != d->addr.bus)
			warnf(p, "%s: primary bus register says %02x but the bridge sits on bus %02x",
			      d->name, d->primary_bus, d->addr.bus);
	}

	/* Buses that hold functions, and the buses bridges lead to. */
	keys = malloc(2 * p->n_devs * sizeof(*keys) + 1);
	if (!keys)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < p->n_devs; i++) {
		const struct iommu_pci_dev *d = &p->devs[i];

		keys[nkeys++] = (uint32_t)d->addr.segment << 8 | d->addr.bus;
		if (d->is_bridge)
			keys[nkeys++] = (uint32_t)d->addr.segment << 8 | d->secondary_bus;
	}
	qsort(keys, nkeys, sizeof(*keys), cmp_u32);
	for (i = 0; i < nkeys && !ret; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			ret = new_bus(p, (uint16_t)(keys[i] >> 8), (uint8_t)keys[i]);
	free(keys);
	if (ret)
		return iommu_error_set(err, -ENOMEM, "out of memory");

	/* Link each bus to the bridge that leads to it, and each function to its bus. */
	for (i = 0; i < p->n_devs; i++) {
		struct iommu_pci_dev *d = &p->devs[i];
		struct iommu_pci_bus *b;

		d->bus = find_bus(p, d->addr.segment, d->addr.bus);
		if (push((void ***)&d->bus->devices, &d->bus->n_devices, d))
			return iommu_error_set(err, -ENOMEM, "out of memory");
		if (!d->is_bridge)
			continue;
		b = find_bus(p, d->addr.segment, d->secondary_bus);
		if (b->self)
			return iommu_error_set(err, -EINVAL,
				"%s and %s both lead to bus %04x:%02x (overlapping bus ranges)",
				b->self->name, d->name, d->addr.segment, d->secondary_bus);
		b->self = d;
		b->busn_end = d->subordinate_bus;
		d->subordinate = b;
	}

	/* Sibling bridges must not claim overlapping ranges: sort each bus's bridges by range. */
	for (i = 0; i < p->n_buses && !ret; i++) {
		struct iommu_pci_bus *b = p->buses[i];
		size_t nb = 0;

		for (j = 0; j < b->n_devices; j++)
			if (b->devices[j]->is_bridge)
				nb++;
		if (nb < 2)
			continue;
		bridges = realloc(bridges, nb * sizeof(*bridges));
		if (!bridges)
			return iommu_error_set(err, -ENOMEM, "out of memory");
		nb = 0;
		for (j = 0; j < b->n_devices; j++)
			if (b->devices[j]->is_bridge)
				bridges[nb++] = b->devices[j];
		qsort(bridges, nb, sizeof(*bridges), cmp_bridge_sec);
		for (j = 1; j < nb; j++) {
			const struct iommu_pci_dev *x = bridges[j - 1], *y = bridges[j];

			if (ranges_overlap(x, y))
				ret = iommu_error_set(err, -EINVAL,
					"%s [%02x-%02x] and %s [%02x-%02x]: overlapping bus ranges on bus %02x",
					x->name, x->secondary_bus, x->subordinate_bus,
					y->name, y->secondary_bus, y->subordinate_bus, b->number);
		}
	}
	free(bridges);
	if (ret)
		return ret;

	/* Parents, children, and nesting of ranges. */
	uint16_t cover_seg = 0;
	const struct iommu_pci_dev *cover[256];
	bool cover_valid = false;

	for (i = 0; i < p->n_buses; i++) {
		struct iommu_pci_bus *b = p->buses[i];

		if (!b->self && vf_only_bus(b)) {
			/* The virtual bus of SR-IOV VFs, below their PF's bus (pci_iov_add_virtfn). */
			b->parent = b->devices[0]->physfn->bus;
			/* A child of the PF's bus (virtfn_add_bus: pci_add_child_bus). */
			if (push((void ***)&b->parent->children, &b->parent->n_children, b))
				return iommu_error_set(err, -ENOMEM, "out of memory");
			continue;
		}
		if (!b->self) {
			/* A root bus, unless it hides inside some bridge's range. */
			if (!cover_valid || cover_seg != b->segment) {
				memset(cover, 0, sizeof(cover));
				for (j = 0; j < p->n_devs; j++) {
					const struct iommu_pci_dev *d = &p->devs[j];

					if (d->addr.segment != b->segment || !d->is_bridge)
						continue;
					for (unsigned nr = d->secondary_bus + 1u; nr <= d->subordinate_bus; nr++)
						if (!cover[nr])
							cover[nr] = d;
				}
				cover_seg = b->segment;
				cover_valid = true;
			}
			if (cover[b->number])
				warnf(p, "bus %04x:%02x lies inside the range [%02x-%02x] of bridge %s, "
				      "but no bridge leads to it; treated as a root bus",
				      b->segment, b->number, cover[b->number]->secondary_bus,
				      cover[b->number]->subordinate_bus, cover[b->number]->name);
			if (push((void ***)&p->roots, &p->n_roots, b))
				return iommu_error_set(err, -ENOMEM, "out of memory");
			continue;
		}
		struct iommu_pci_bus *parent = b->self->bus;
		const struct iommu_pci_dev *up = parent->self;

		if (up && (b->self->secondary_bus < up->secondary_bus ||
			   b->self->subordinate_bus > up->subordinate_bus))
			return iommu_error_set(err, -EINVAL,
				"%s: bus range [%02x-%02x] is not inside the range [%02x-%02x] of %s above it "
				"(overlapping bus ranges)",
				b->self->name, b->self->secondary_bus, b->self->subordinate_bus,
				up->secondary_bus, up->subordinate_bus, up->name);
		b->parent = parent;
		if (push((void ***)&parent->children, &parent->n_children, b))
			return iommu_error_set(err, -ENOMEM, "out of memory");
	}

	/*
	 * The loop above met the children in bus number order; the API
	 * promises bridge devfn order (a bridge at a lower devfn may lead to
	 * a higher bus number).
	 */
	for (i = 0; i < p->n_buses; i++)
		if (p->buses[i]->n_children > 1)
			qsort(p->buses[i]->children, p->buses[i]->n_children,
			      sizeof(*p->buses[i]->children), cmp_child);

	/* A root bus spans up to the highest bus below it. */
	for (i = 0; i < p->n_roots; i++) {
		struct iommu_pci_bus *r = p->roots[i];

		for (j = 0; j < r->n_children; j++)
			if (r->children[j]->busn_end > r->busn_end)
				r->busn_end = r->children[j]->busn_end;
	}
	return 0;
}

/* --- assembling ---------------------------------------------------- */

static int collect_devices(struct iommu_platform *p, struct iommu_error *err)
{
	size_t alloc = 0;
	char last[IOMMU_PCI_ADDR_STRLEN] = "";
	int ret;

	for (size_t i = 0; i < p->files.n; i++) {
		const char *path = p->files.files[i].path;
		char bdf[IOMMU_PCI_ADDR_STRLEN];
		const char *slash;

		if (strncmp(path, "pci/", 4))
			continue;
		slash = strchr(path + 4, '/');
		if (!slash || (size_t)(slash - (path + 4)) != IOMMU_PCI_ADDR_STRLEN - 1)
			continue;
		memcpy(bdf, path + 4, IOMMU_PCI_ADDR_STRLEN - 1);
		bdf[IOMMU_PCI_ADDR_STRLEN - 1] = '\0';
		if (!strcmp(bdf, last))
			continue;
		memcpy(last, bdf, sizeof(last));
		if (p->n_devs == alloc) {
			size_t n = alloc ? alloc * 2 : 32;
			struct iommu_pci_dev *d = realloc(p->devs, n * sizeof(*d));

			if (!d)
				return iommu_error_set(err, -ENOMEM, "out of memory");
			p->devs = d;
			alloc = n;
		}
		ret = load_device(p, bdf, &p->devs[p->n_devs], err);
		if (ret)
			return ret;
		p->n_devs++;
	}
	if (p->n_devs == 0)
		return iommu_error_set(err, -ENOENT, "no PCI functions (nothing under pci/)");
	qsort(p->devs, p->n_devs, sizeof(*p->devs), cmp_dev);
	for (size_t i = 1; i < p->n_devs; i++)
		if (!iommu_pci_addr_cmp(p->devs[i - 1].addr, p->devs[i].addr))
			return iommu_error_set(err, -EEXIST,
				"%s: the same PCI address appears twice (duplicate address)",
				p->devs[i].name);
	return 0;
}

int iommu_platform_from_fileset(struct iommu_fileset *fs, int source,
				const char *label, struct iommu_platform **out,
				struct iommu_error *err)
{
	struct iommu_platform *p;
	const struct iommu_file *f;
	int ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		iommu_fileset_release(fs);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	p->source = (enum iommu_platform_source)source;
	p->files = *fs;
	memset(fs, 0, sizeof(*fs));
	iommu_fileset_sort(&p->files);
	p->label = strdup(label ? label : "");
	if (!p->label) {
		ret = iommu_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < p->files.n; i++) {
		if (!iommu_snapshot_input_allowed(p->files.files[i].path)) {
			ret = iommu_error_set(err, -EINVAL, "%s: not a platform input file",
					      p->files.files[i].path);
			goto fail;
		}
		if (p->files.files[i].len > iommu_snapshot_max_size(p->files.files[i].path)) {
			ret = iommu_error_set(err, -EFBIG, "%s: %zu bytes, more than the %zu such a file may have",
					      p->files.files[i].path, p->files.files[i].len,
					      iommu_snapshot_max_size(p->files.files[i].path));
			goto fail;
		}
		if (i && !strcmp(p->files.files[i - 1].path, p->files.files[i].path)) {
			ret = iommu_error_set(err, -EEXIST, "%s: given twice", p->files.files[i].path);
			goto fail;
		}
		if (!strncmp(p->files.files[i].path, "acpi/", 5) &&
		    push((void ***)&p->acpi_names, &p->n_acpi, p->files.files[i].path + 5)) {
			ret = iommu_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}

	ret = collect_devices(p, err);
	if (ret)
		goto fail;
	mark_virtfns(p);
	ret = build_tree(p, err);
	if (ret)
		goto fail;

	f = iommu_fileset_get(&p->files, "cmdline");
	ret = -ENOMEM;
	p->cmdline = f ? attr_text_code(f, &ret, err) : strdup("");
	if (!p->cmdline) {
		if (ret == -ENOMEM)
			iommu_error_set(err, ret, "out of memory");
		goto fail;
	}
	f = iommu_fileset_get(&p->files, "kernel-release");
	if (f) {
		p->release = attr_text_code(f, &ret, err);
		if (!p->release) {
			if (ret == -ENOMEM)
				iommu_error_set(err, ret, "out of memory");
			goto fail;
		}
	}
	ret = 0;
	*out = p;
	return 0;
fail:
	iommu_platform_free(p);
	return ret;
}

void iommu_platform_free(struct iommu_platform *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_devs; i++)
		free_device(&p->devs[i]);
	free(p->devs);
	for (size_t i = 0; i < p->n_buses; i++) {
		free(p->buses[i]->devices);
		free(p->buses[i]->children);
		free(p->buses[i]);
	}
	free(p->buses);
	free(p->roots);
	iommu_strv_free(&p->warnings, &p->n_warnings);
	free(p->acpi_names);
	free(p->cmdline);
	free(p->release);
	free(p->label);
	iommu_fileset_release(&p->files);
	free(p);
}

int iommu_platform_load_files(const char *label, size_t n, const char *const *paths,
			      const uint8_t *const *data, const size_t *lens,
			      struct iommu_platform **out, struct iommu_error *err)
{
	struct iommu_fileset fs = { 0 };
	int ret;

	iommu_error_clear(err);
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		ret = iommu_fileset_add(&fs, paths[i], data[i], lens[i], err);
		if (ret) {
			iommu_fileset_release(&fs);
			return ret;
		}
	}
	return iommu_platform_from_fileset(&fs, IOMMU_SOURCE_MEMORY, label, out, err);
}

/* --- accessors ----------------------------------------------------- */

const struct iommu_fileset *iommu_platform_fileset(const struct iommu_platform *p)
{
	return &p->files;
}

enum iommu_platform_source iommu_platform_source(const struct iommu_platform *p)
{
	return p->source;
}

const char *iommu_platform_label(const struct iommu_platform *p)
{
	return p->label;
}

size_t iommu_platform_num_devices(const struct iommu_platform *p)
{
	return p->n_devs;
}

struct iommu_pci_dev *iommu_platform_device(const struct iommu_platform *p, size_t i)
{
	return i < p->n_devs ? &p->devs[i] : NULL;
}

struct iommu_pci_dev *iommu_platform_find_device(const struct iommu_platform *p,
						 struct iommu_pci_addr addr)
{
	struct iommu_pci_dev key = { .addr = addr };

	return bsearch(&key, p->devs, p->n_devs, sizeof(*p->devs), cmp_dev);
}

size_t iommu_platform_num_root_buses(const struct iommu_platform *p)
{
	return p->n_roots;
}

struct iommu_pci_bus *iommu_platform_root_bus(const struct iommu_platform *p, size_t i)
{
	return i < p->n_roots ? p->roots[i] : NULL;
}

struct iommu_pci_bus *iommu_platform_find_bus(const struct iommu_platform *p,
					      uint16_t segment, uint8_t number)
{
	return find_bus(p, segment, number);
}

const char *iommu_platform_cmdline(const struct iommu_platform *p)
{
	return p->cmdline;
}

const char *iommu_platform_kernel_release(const struct iommu_platform *p)
{
	return p->release;
}

int iommu_platform_acpi_table(const struct iommu_platform *p, const char *signature,
			      const uint8_t **data, size_t *len)
{
	char path[32];
	const struct iommu_file *f;

	if (strlen(signature) > 16)
		return -EINVAL;
	snprintf(path, sizeof(path), "acpi/%s", signature);
	f = iommu_fileset_get(&p->files, path);
	if (!f)
		return -ENOENT;
	*data = f->data;
	*len = f->len;
	return 0;
}

size_t iommu_platform_num_acpi_tables(const struct iommu_platform *p)
{
	return p->n_acpi;
}

const char *iommu_platform_acpi_table_name(const struct iommu_platform *p, size_t i)
{
	return i < p->n_acpi ? p->acpi_names[i] : NULL;
}

int iommu_platform_file(const struct iommu_platform *p, const char *path,
			const uint8_t **data, size_t *len)
{
	const struct iommu_file *f = iommu_fileset_get(&p->files, path);

	if (!f)
		return -ENOENT;
	*data = f->data;
	*len = f->len;
	return 0;
}

int iommu_platform_file_hex(const struct iommu_platform *p, const char *path, uint64_t *val)
{
	const struct iommu_file *f = iommu_fileset_get(&p->files, path);

	if (!f)
		return -ENOENT;
	return attr_hex(f, UINT64_MAX, val, NULL);
}

size_t iommu_platform_num_files(const struct iommu_platform *p)
{
	return p->files.n;
}

const char *iommu_platform_file_path(const struct iommu_platform *p, size_t i)
{
	return i < p->files.n ? p->files.files[i].path : NULL;
}

size_t iommu_platform_num_warnings(const struct iommu_platform *p)
{
	return p->n_warnings;
}

const char *iommu_platform_warning(const struct iommu_platform *p, size_t i)
{
	return i < p->n_warnings ? p->warnings[i] : NULL;
}
