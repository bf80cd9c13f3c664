// SPDX-License-Identifier: MIT
/*
 * Platform sources that read files: a snapshot directory and the live
 * host, plus the snapshot writer.  Files are opened without following a
 * FIFO or device node (no hang on a hostile snapshot), read up to the size
 * their kind may have, and every failure names the file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "iommu/platform.h"
#include "platform/fileset.h"

/*
 * Read the regular file @path, at most @max bytes.  -EFBIG when it holds
 * more, -EINVAL when it is not a regular file, -errno when it cannot be
 * read.  @shown is the name used in messages.
 */
static int read_file(const char *path, const char *shown, size_t max,
		     uint8_t **data, size_t *len, struct iommu_error *err)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0, cap;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			return iommu_error_set(err, -e, "%s: permission denied (%s is readable by root only?)",
					       shown, path);
		return iommu_error_set(err, -e, "%s: cannot open: %s", shown, strerror(e));
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return iommu_error_set(err, -EINVAL, "%s: not a regular file", shown);
	}
	cap = max + 1;
	if (st.st_size > 0 && (size_t)st.st_size < cap)
		cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return iommu_error_set(err, -ENOMEM, "out of memory");
	}
	for (;;) {
		ssize_t n;

		if (got == cap) {
			if (cap > max)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			uint8_t *nb = realloc(buf, ncap);

			if (!nb) {
				free(buf);
				close(fd);
				return iommu_error_set(err, -ENOMEM, "out of memory");
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			if (e == EACCES || e == EPERM)
				return iommu_error_set(err, -e, "%s: permission denied", shown);
			return iommu_error_set(err, -e, "%s: read failed: %s", shown, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > max) {
		free(buf);
		return iommu_error_set(err, -EFBIG, "%s: larger than the %zu bytes such a file may have",
				       shown, max);
	}
	*data = buf;
	*len = got;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Add @root/@rel to @fs under @rel (the snapshot path @as, when given). */
static int add_file(struct iommu_fileset *fs, const char *fullpath, const char *as,
		    const char *shown, struct iommu_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret = read_file(fullpath, shown, iommu_snapshot_max_size(as), &data, &len, err);

	if (ret)
		return ret;
	return iommu_fileset_add_owned(fs, as, data, len, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in @dir, without "." and "..".  -errno with a message. */
static int list_dir(const char *dir, const char *shown, char ***names, size_t *n,
		    struct iommu_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0;

	*names = NULL;
	*n = 0;
	if (!d) {
		int er = errno;

		return iommu_error_set(err, -er, "%s: cannot list: %s", shown, strerror(er));
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (cnt >= IOMMU_SNAPSHOT_MAX_FILES)
			break;
		char **nv = realloc(v, (cnt + 1) * sizeof(*v));

		if (!nv || !(nv[cnt] = strdup(e->d_name))) {
			if (nv)
				v = nv;
			for (size_t i = 0; i < cnt; i++)
				free(v[i]);
			free(v);
			closedir(d);
			return iommu_error_set(err, -ENOMEM, "out of memory");
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int pathf(char *buf, size_t len, struct iommu_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int pathf(char *buf, size_t len, struct iommu_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return iommu_error_set(err, -ENAMETOOLONG, "path too long: %.80s...", buf);
	return 0;
}

/* --- snapshot directory --------------------------------------------- */

static int snapshot_pci(struct iommu_fileset *fs, const char *dir, struct iommu_error *err)
{
	char path[PATH_MAX], rel[128];
	char **names;
	size_t n;
	int ret;

	if ((ret = pathf(path, sizeof(path), err, "%s/pci", dir)))
		return ret;
	if (!is_dir(path))
		return iommu_error_set(err, -ENOENT,
				       "%s: no pci/ folder: a snapshot holds one folder per PCI function under pci/",
				       dir);
	ret = list_dir(path, "pci/", &names, &n, err);
	if (ret)
		return ret;
	if (n == 0) {
		free_names(names, n);
		return iommu_error_set(err, -ENOENT, "%s/pci: empty: no PCI functions", dir);
	}
	for (size_t i = 0; i < n && !ret; i++) {
		struct iommu_pci_addr a;

		if (iommu_pci_addr_parse(names[i], &a) || strlen(names[i]) != IOMMU_PCI_ADDR_STRLEN - 1) {
			ret = iommu_error_set(err, -EINVAL,
					      "pci/%s: not a PCI address (expected SSSS:BB:DD.F)", names[i]);
			break;
		}
		for (size_t k = 0; k < iommu_snapshot_num_pci_attrs && !ret; k++) {
			const char *attr = iommu_snapshot_pci_attrs[k];

			if ((ret = pathf(path, sizeof(path), err, "%s/pci/%s/%s", dir, names[i], attr)))
				break;
			snprintf(rel, sizeof(rel), "pci/%s/%s", names[i], attr);
			/* Attributes other than config are optional: a missing one is no error. */
			ret = add_file(fs, path, rel, rel, err);
			if (ret == -ENOENT) {
				if (k == 0) {
					ret = iommu_error_set(err, -ENOENT, "%s: missing", rel);
				} else {
					ret = 0;
					iommu_error_clear(err);
				}
			}
		}
	}
	free_names(names, n);
	return ret;
}

static int snapshot_acpi(struct iommu_fileset *fs, const char *dir, struct iommu_error *err)
{
	char path[PATH_MAX], rel[64];
	char **names;
	size_t n;
	int ret;

	if ((ret = pathf(path, sizeof(path), err, "%s/acpi", dir)))
		return ret;
	if (!is_dir(path))
		return 0;
	ret = list_dir(path, "acpi/", &names, &n, err);
	for (size_t i = 0; i < n && !ret; i++) {
		if (strlen(names[i]) > 16)
			continue;
		snprintf(rel, sizeof(rel), "acpi/%s", names[i]);
		if (!iommu_snapshot_input_allowed(rel))
			continue;       /* iasl's .dsl decodes and the like */
		if ((ret = pathf(path, sizeof(path), err, "%s/acpi/%s", dir, names[i])))
			break;
		if (is_dir(path))
			continue;
		ret = add_file(fs, path, rel, rel, err);
	}
	free_names(names, n);
	return ret;
}

/* iommu_class/<unit>/{intel-iommu,amd-iommu}/<attr>, rooted at @root. */
static int iommu_class(struct iommu_fileset *fs, const char *root, struct iommu_error *err)
{
	static const char *const kinds[] = { "intel-iommu", "amd-iommu" };
	char path[PATH_MAX], rel[PATH_MAX];
	char **units, **attrs;
	size_t nu, na;
	int ret;

	if (!is_dir(root))
		return 0;
	ret = list_dir(root, "iommu_class/", &units, &nu, err);
	for (size_t i = 0; i < nu && !ret; i++) {
		for (size_t k = 0; k < 2 && !ret; k++) {
			if ((ret = pathf(path, sizeof(path), err, "%s/%s/%s", root, units[i], kinds[k])))
				break;
			if (!is_dir(path))
				continue;
			ret = list_dir(path, path, &attrs, &na, err);
			for (size_t a = 0; a < na && !ret; a++) {
				char full[PATH_MAX];

				if ((ret = pathf(rel, sizeof(rel), err, "iommu_class/%s/%s/%s",
						 units[i], kinds[k], attrs[a])))
					break;
				if (!iommu_snapshot_input_allowed(rel))
					continue;
				if ((ret = pathf(full, sizeof(full), err, "%s/%s", path, attrs[a])))
					break;
				if (is_dir(full))
					continue;
				ret = add_file(fs, full, rel, rel, err);
			}
			free_names(attrs, na);
		}
	}
	free_names(units, nu);
	return ret;
}

int iommu_platform_load_snapshot(const char *dir, struct iommu_platform **out,
				 struct iommu_error *err)
{
	struct iommu_fileset fs = { 0 };
	char path[PATH_MAX];
	int ret;

	iommu_error_clear(err);
	*out = NULL;
	if (!is_dir(dir))
		return iommu_error_set(err, -ENOENT, "%s: not a directory", dir);
	ret = snapshot_pci(&fs, dir, err);
	if (!ret)
		ret = snapshot_acpi(&fs, dir, err);
	for (int i = 0; i < 2 && !ret; i++) {
		const char *name = i ? "kernel-release" : "cmdline";

		ret = pathf(path, sizeof(path), err, "%s/%s", dir, name);
		if (!ret && exists(path))
			ret = add_file(&fs, path, name, name, err);
	}
	if (!ret) {
		ret = pathf(path, sizeof(path), err, "%s/iommu_class", dir);
		if (!ret)
			ret = iommu_class(&fs, path, err);
	}
	if (ret) {
		iommu_fileset_release(&fs);
		return iommu_error_prefix(err, "snapshot %s", dir);
	}
	ret = iommu_platform_from_fileset(&fs, IOMMU_SOURCE_SNAPSHOT, dir, out, err);
	if (ret)
		return iommu_error_prefix(err, "snapshot %s", dir);
	return 0;
}

/* --- live host ---------------------------------------------------- */

static int host_pci(struct iommu_fileset *fs, const char *sysfs, struct iommu_error *err)
{
	char path[PATH_MAX], rel[128], shown[PATH_MAX];
	char **names;
	size_t n;
	int ret;

	if ((ret = pathf(path, sizeof(path), err, "%s/bus/pci/devices", sysfs)))
		return ret;
	if (!is_dir(path))
		return iommu_error_set(err, -ENOENT, "%s: missing: this machine shows no PCI bus", path);
	ret = list_dir(path, path, &names, &n, err);
	for (size_t i = 0; i < n && !ret; i++) {
		struct iommu_pci_addr a;

		if (iommu_pci_addr_parse(names[i], &a) || strlen(names[i]) != IOMMU_PCI_ADDR_STRLEN - 1)
			continue;
		for (size_t k = 0; k < iommu_snapshot_num_pci_attrs && !ret; k++) {
			const char *attr = iommu_snapshot_pci_attrs[k];

			snprintf(rel, sizeof(rel), "pci/%s/%s", names[i], attr);
			if ((ret = pathf(path, sizeof(path), err, "%s/bus/pci/devices/%s/%s",
					 sysfs, names[i], attr)))
				break;
			if (!strcmp(attr, "driver")) {
				/* A symlink to the driver; the snapshot keeps its name. */
				char link[PATH_MAX];
				ssize_t l = readlink(path, link, sizeof(link) - 1);

				if (l <= 0)
					continue;
				link[l] = '\0';
				const char *base = strrchr(link, '/');
				char text[PATH_MAX + 2];

				base = base ? base + 1 : link;
				snprintf(text, sizeof(text), "%s\n", base);
				ret = iommu_fileset_add(fs, rel, (const uint8_t *)text, strlen(text), err);
				continue;
			}
			if (!exists(path)) {
				if (k == 0)
					ret = iommu_error_set(err, -ENOENT, "%s: missing", path);
				continue;
			}
			snprintf(shown, sizeof(shown), "%s", path);
			ret = add_file(fs, path, rel, shown, err);
			if (!ret && k == 0) {
				const struct iommu_file *f = &fs->files[fs->n - 1];

				if (f->len == 64)
					ret = iommu_error_set(err, -EACCES,
						"%s: only the 64-byte header is readable: the kernel shows the rest of "
						"config space (capabilities, ACS) to root only; run as root, or load a "
						"snapshot taken by root", path);
			}
		}
	}
	free_names(names, n);
	return ret;
}

static int host_acpi(struct iommu_fileset *fs, const char *sysfs, struct iommu_error *err)
{
	char path[PATH_MAX], rel[64];
	char **names;
	size_t n;
	int ret;

	if ((ret = pathf(path, sizeof(path), err, "%s/firmware/acpi/tables", sysfs)))
		return ret;
	if (!is_dir(path))
		return 0;       /* no ACPI: a device-tree machine, say */
	ret = list_dir(path, path, &names, &n, err);
	for (size_t i = 0; i < n && !ret; i++) {
		char full[PATH_MAX];

		if (strlen(names[i]) > 16)
			continue;
		snprintf(rel, sizeof(rel), "acpi/%s", names[i]);
		if (!iommu_snapshot_input_allowed(rel))
			continue;
		if ((ret = pathf(full, sizeof(full), err, "%s/%s", path, names[i])))
			break;
		if (is_dir(full))
			continue;
		ret = add_file(fs, full, rel, full, err);
		if (ret == -EACCES || ret == -EPERM)
			ret = iommu_error_set(err, ret,
				"%s: permission denied: the kernel lets only root read ACPI tables; "
				"run as root, or load a snapshot taken by root", full);
	}
	free_names(names, n);
	return ret;
}

int iommu_platform_load_host(const char *sysfs, const char *procfs,
			     struct iommu_platform **out, struct iommu_error *err)
{
	struct iommu_fileset fs = { 0 };
	char path[PATH_MAX];
	int ret;

	iommu_error_clear(err);
	*out = NULL;
	if (!sysfs)
		sysfs = "/sys";
	if (!procfs)
		procfs = "/proc";
	ret = host_pci(&fs, sysfs, err);
	if (!ret)
		ret = host_acpi(&fs, sysfs, err);
	if (!ret) {
		ret = pathf(path, sizeof(path), err, "%s/cmdline", procfs);
		if (!ret && exists(path))
			ret = add_file(&fs, path, "cmdline", path, err);
	}
	if (!ret) {
		/* The release of the running kernel; a copied tree may carry its own. */
		ret = pathf(path, sizeof(path), err, "%s/sys/kernel/osrelease", procfs);
		if (!ret && exists(path)) {
			ret = add_file(&fs, path, "kernel-release", path, err);
		} else if (!ret) {
			struct utsname u;

			if (uname(&u) == 0) {
				char text[sizeof(u.release) + 1];

				snprintf(text, sizeof(text), "%s\n", u.release);
				ret = iommu_fileset_add(&fs, "kernel-release", (const uint8_t *)text,
							strlen(text), err);
			}
		}
	}
	if (!ret) {
		ret = pathf(path, sizeof(path), err, "%s/class/iommu", sysfs);
		if (!ret)
			ret = iommu_class(&fs, path, err);
	}
	if (ret) {
		iommu_fileset_release(&fs);
		return ret;
	}
	return iommu_platform_from_fileset(&fs, IOMMU_SOURCE_HOST, "host", out, err);
}

/* --- writing a snapshot --------------------------------------------- */

static int mkdirs(const char *path, struct iommu_error *err)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return iommu_error_set(err, -ENAMETOOLONG, "%s: path too long", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];

		tmp[i] = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST) {
			int e = errno;

			return iommu_error_set(err, -e, "%s: cannot create: %s", tmp, strerror(e));
		}
		tmp[i] = c;
	}
	return 0;
}

int iommu_platform_write_snapshot(const struct iommu_platform *p, const char *dir,
				  struct iommu_error *err)
{
	const struct iommu_fileset *fs = iommu_platform_fileset(p);
	char path[PATH_MAX];
	char **names;
	size_t n;
	int ret;

	iommu_error_clear(err);
	if (exists(dir)) {
		if (!is_dir(dir))
			return iommu_error_set(err, -ENOTDIR, "%s: exists and is not a directory", dir);
		ret = list_dir(dir, dir, &names, &n, err);
		if (ret)
			return ret;
		free_names(names, n);
		if (n)
			return iommu_error_set(err, -EEXIST,
					       "%s: not empty; a snapshot is written into a new or empty directory",
					       dir);
	}
	ret = mkdirs(dir, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < fs->n; i++) {
		const struct iommu_file *f = &fs->files[i];
		char *slash;
		FILE *out;

		if ((ret = pathf(path, sizeof(path), err, "%s/%s", dir, f->path)))
			return ret;
		slash = strrchr(path, '/');
		*slash = '\0';
		ret = mkdirs(path, err);
		if (ret)
			return ret;
		*slash = '/';
		out = fopen(path, "wbx");
		if (!out) {
			int e = errno;

			return iommu_error_set(err, -e, "%s: cannot create: %s", path, strerror(e));
		}
		if (fwrite(f->data, 1, f->len, out) != f->len) {
			int e = errno;

			fclose(out);
			return iommu_error_set(err, -(e ? e : EIO), "%s: write failed", path);
		}
		if (fclose(out)) {
			int e = errno;

			return iommu_error_set(err, -e, "%s: write failed: %s", path, strerror(e));
		}
	}
	return 0;
}
