// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/platform.h"
#include "platform/fileset.h"

const char *const iommu_snapshot_pci_attrs[] = {
	"config", "driver", "vendor", "device", "class", "revision",
	"subsystem_vendor", "subsystem_device", "resource", "irq",
};
const size_t iommu_snapshot_num_pci_attrs =
	sizeof(iommu_snapshot_pci_attrs) / sizeof(iommu_snapshot_pci_attrs[0]);

static int grow(struct iommu_fileset *fs, struct iommu_error *err)
{
	if (fs->n < fs->alloc)
		return 0;
	if (fs->n >= IOMMU_SNAPSHOT_MAX_FILES)
		return iommu_error_set(err, -E2BIG, "more than %u input files",
				       IOMMU_SNAPSHOT_MAX_FILES);
	size_t n = fs->alloc ? fs->alloc * 2 : 64;
	struct iommu_file *f = realloc(fs->files, n * sizeof(*f));

	if (!f)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	fs->files = f;
	fs->alloc = n;
	return 0;
}

int iommu_fileset_add_owned(struct iommu_fileset *fs, const char *path,
			    uint8_t *data, size_t len, struct iommu_error *err)
{
	char *p;
	int ret = grow(fs, err);

	if (ret) {
		free(data);
		return ret;
	}
	p = strdup(path);
	if (!p) {
		free(data);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	fs->files[fs->n++] = (struct iommu_file){ .path = p, .data = data, .len = len };
	fs->sorted = false;
	return 0;
}

int iommu_fileset_add(struct iommu_fileset *fs, const char *path,
		      const uint8_t *data, size_t len, struct iommu_error *err)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return iommu_error_set(err, -ENOMEM, "out of memory");
	if (len)
		memcpy(copy, data, len);
	return iommu_fileset_add_owned(fs, path, copy, len, err);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct iommu_file *)a)->path,
		      ((const struct iommu_file *)b)->path);
}

void iommu_fileset_sort(struct iommu_fileset *fs)
{
	if (fs->n > 1)
		qsort(fs->files, fs->n, sizeof(*fs->files), cmp_file);
	fs->sorted = true;
}

const struct iommu_file *iommu_fileset_get(const struct iommu_fileset *fs,
					   const char *path)
{
	size_t lo = 0, hi = fs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, fs->files[mid].path);

		if (c == 0)
			return &fs->files[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void iommu_fileset_release(struct iommu_fileset *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->files[i].path);
		free(fs->files[i].data);
	}
	free(fs->files);
	memset(fs, 0, sizeof(*fs));
}

/* A single path component: non-empty, no '/', not "." or "..". */
static bool component_ok(const char *s, size_t n)
{
	if (n == 0 || n > 255)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\0' || (unsigned char)s[i] < 0x20)
			return false;
	return true;
}

static bool acpi_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

bool iommu_snapshot_input_allowed(const char *path)
{
	if (!strcmp(path, "cmdline") || !strcmp(path, "kernel-release"))
		return true;
	if (!strncmp(path, "acpi/", 5))
		return acpi_name_ok(path + 5);
	if (!strncmp(path, "pci/", 4)) {
		const char *bdf = path + 4;
		const char *slash = strchr(bdf, '/');
		char buf[IOMMU_PCI_ADDR_STRLEN];
		struct iommu_pci_addr a;

		if (!slash || slash - bdf != IOMMU_PCI_ADDR_STRLEN - 1)
			return false;
		memcpy(buf, bdf, IOMMU_PCI_ADDR_STRLEN - 1);
		buf[IOMMU_PCI_ADDR_STRLEN - 1] = '\0';
		if (iommu_pci_addr_parse(buf, &a))
			return false;
		for (size_t i = 0; i < iommu_snapshot_num_pci_attrs; i++)
			if (!strcmp(slash + 1, iommu_snapshot_pci_attrs[i]))
				return true;
		return false;
	}
	if (!strncmp(path, "iommu_class/", 12)) {
		const char *unit = path + 12;
		const char *s1 = strchr(unit, '/');

		if (!s1 || !component_ok(unit, (size_t)(s1 - unit)))
			return false;
		const char *kind = s1 + 1;
		const char *s2 = strchr(kind, '/');

		if (!s2)
			return false;
		if (!((s2 - kind == 11 && !strncmp(kind, "intel-iommu", 11)) ||
		      (s2 - kind == 9 && !strncmp(kind, "amd-iommu", 9))))
			return false;
		return component_ok(s2 + 1, strlen(s2 + 1));
	}
	return false;
}

size_t iommu_snapshot_max_size(const char *path)
{
	size_t n = strlen(path);

	if (n > 7 && !strcmp(path + n - 7, "/config") && !strncmp(path, "pci/", 4))
		return IOMMU_SNAPSHOT_MAX_CONFIG;
	if (!strncmp(path, "acpi/", 5))
		return IOMMU_SNAPSHOT_MAX_FILE;
	return IOMMU_SNAPSHOT_MAX_ATTR;
}
