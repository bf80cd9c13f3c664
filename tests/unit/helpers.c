// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

const char *captures_dir(void)
{
	const char *d = getenv("IOMMU_CAPTURES");

	return d && *d ? d : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **list_captures(size_t *n)
{
	const char *dir = captures_dir();
	char **v = NULL;
	struct dirent *e;
	DIR *d;

	*n = 0;
	if (!dir || !(d = opendir(dir)))
		return NULL;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/pci", dir, e->d_name);
		if (stat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, got = 0, n;

	if (!f)
		return NULL;
	do {
		if (got + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
		}
		n = fread(buf + got, 1, cap - got - 1, f);
		got += n;
	} while (n > 0);
	fclose(f);
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(tmp, 0755) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int write_file(const char *path, const void *data, size_t len)
{
	char dir[PATH_MAX];
	char *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		int ret = mkdirs(dir);

		if (ret)
			return ret;
	}
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

char *make_temp_dir(void)
{
	const char *t = getenv("TMPDIR");
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/libiommu-test-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(buf))
		return NULL;
	return strdup(buf);
}

void remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st))
		return;
	if (S_ISDIR(st.st_mode)) {
		chmod(path, 0755);
		d = opendir(path);
		if (d) {
			while ((e = readdir(d))) {
				char sub[PATH_MAX];

				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
				remove_tree(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

int copy_tree(const char *from, const char *to)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (lstat(from, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		size_t len;
		char *data = slurp(from, &len);

		if (!data)
			return -errno;
		ret = write_file(to, data, len);
		free(data);
		return ret;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	ret = mkdirs(to);
	if (ret)
		return ret;
	d = opendir(from);
	if (!d)
		return -errno;
	while (!ret && (e = readdir(d))) {
		char a[PATH_MAX], b[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
		ret = copy_tree(a, b);
	}
	closedir(d);
	return ret;
}

void cfg_w8(struct cfg *c, size_t off, uint8_t v)
{
	c->b[off] = v;
}

void cfg_w16(struct cfg *c, size_t off, uint16_t v)
{
	c->b[off] = (uint8_t)v;
	c->b[off + 1] = (uint8_t)(v >> 8);
}

void cfg_w32(struct cfg *c, size_t off, uint32_t v)
{
	cfg_w16(c, off, (uint16_t)v);
	cfg_w16(c, off + 2, (uint16_t)(v >> 16));
}

void cfg_init(struct cfg *c, size_t size, uint16_t vendor, uint16_t device,
	      uint32_t class_code, uint8_t header_type)
{
	memset(c, 0, sizeof(*c));
	c->size = size;
	cfg_w16(c, 0x00, vendor);
	cfg_w16(c, 0x02, device);
	cfg_w8(c, 0x09, (uint8_t)class_code);
	cfg_w8(c, 0x0a, (uint8_t)(class_code >> 8));
	cfg_w8(c, 0x0b, (uint8_t)(class_code >> 16));
	cfg_w8(c, 0x0e, header_type);
}

void cfg_add_cap(struct cfg *c, uint8_t off, uint8_t id)
{
	uint8_t *link = &c->b[0x34];

	c->b[0x06] |= 0x10;     /* status: capability list */
	while (*link)
		link = &c->b[*link + 1];
	*link = off;
	c->b[off] = id;
	c->b[off + 1] = 0;
}

void cfg_add_ext_cap(struct cfg *c, uint16_t off, uint16_t id, uint8_t ver)
{
	uint32_t h;

	if (off != 0x100) {
		/* link from the last one */
		size_t pos = 0x100;

		for (;;) {
			h = (uint32_t)c->b[pos] | (uint32_t)c->b[pos + 1] << 8 |
			    (uint32_t)c->b[pos + 2] << 16 | (uint32_t)c->b[pos + 3] << 24;
			if ((h >> 20) == 0)
				break;
			pos = h >> 20;
		}
		cfg_w32(c, pos, h | ((uint32_t)off << 20));
	}
	cfg_w32(c, off, (uint32_t)id | (uint32_t)ver << 16);
}

void cfg_add_pcie(struct cfg *c, uint8_t off, int type)
{
	cfg_add_cap(c, off, 0x10);
	cfg_w16(c, off + 2, (uint16_t)(2 | (type << 4)));
}

void cfg_add_acs(struct cfg *c, uint16_t off, uint16_t cap, uint16_t ctrl)
{
	cfg_add_ext_cap(c, off, 0x000d, 1);
	cfg_w16(c, off + 4, cap);
	cfg_w16(c, off + 6, ctrl);
}

void cfg_set_bus(struct cfg *c, uint8_t pri, uint8_t sec, uint8_t sub)
{
	cfg_w8(c, 0x18, pri);
	cfg_w8(c, 0x19, sec);
	cfg_w8(c, 0x1a, sub);
}
