/* SPDX-License-Identifier: MIT */
/* Shared helpers for the cmocka tests. */
#ifndef IOMMU_TEST_HELPERS_H
#define IOMMU_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tests/captures (IOMMU_CAPTURES), or NULL when unset. */
const char *captures_dir(void);
/* Sorted names of the capture directories; *n set.  Free with free_list. */
char **list_captures(size_t *n);
void free_list(char **v, size_t n);
/* Whole file into a NUL-terminated malloc'd buffer; NULL when unreadable. */
char *slurp(const char *path, size_t *len);
/* Write @len bytes to @path (creating parent directories). 0 or -errno. */
int write_file(const char *path, const void *data, size_t len);
/* mkdir -p. 0 or -errno. */
int mkdirs(const char *path);
/* A new empty directory under $TMPDIR; malloc'd path. */
char *make_temp_dir(void);
/* rm -rf. */
void remove_tree(const char *path);
/* cp -r @from @to (regular files and directories only). 0 or -errno. */
int copy_tree(const char *from, const char *to);

/* A synthetic config space builder. */
struct cfg {
	uint8_t b[4096];
	size_t size;
};
void cfg_init(struct cfg *c, size_t size, uint16_t vendor, uint16_t device,
	      uint32_t class_code, uint8_t header_type);
void cfg_w8(struct cfg *c, size_t off, uint8_t v);
void cfg_w16(struct cfg *c, size_t off, uint16_t v);
void cfg_w32(struct cfg *c, size_t off, uint32_t v);
/* Append a standard capability with @id at @off (links the list). */
void cfg_add_cap(struct cfg *c, uint8_t off, uint8_t id);
/* Append an extended capability (@id, @ver) at @off. */
void cfg_add_ext_cap(struct cfg *c, uint16_t off, uint16_t id, uint8_t ver);
/* PCIe capability at @off with @type and version 2. */
void cfg_add_pcie(struct cfg *c, uint8_t off, int type);
/* ACS at @off with capability and control words. */
void cfg_add_acs(struct cfg *c, uint16_t off, uint16_t cap, uint16_t ctrl);
/* Bridge bus numbers. */
void cfg_set_bus(struct cfg *c, uint8_t pri, uint8_t sec, uint8_t sub);

#endif
