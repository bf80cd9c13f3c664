/* SPDX-License-Identifier: MIT */
/*
 * Field accessors for hardware and table formats.
 *
 * Every register and table field is a mask built with IOMMU_GENMASK over
 * the bit span the specification gives; values are read with
 * IOMMU_FIELD_GET and written with IOMMU_FIELD_PREP.  No C bitfields: their
 * layout is the compiler's choice, a table's layout is the specification's.
 * IOMMU_FIELDS_DISJOINT and IOMMU_FIELD_FITS turn a typo in a mask into a
 * build failure.
 */
#ifndef IOMMU_UTIL_BITS_H
#define IOMMU_UTIL_BITS_H

#include <stdint.h>

/* Bits h..l inclusive set, as a 64-bit constant expression. */
#define IOMMU_GENMASK(h, l) \
	((~UINT64_C(0) >> (63 - (h))) & (~UINT64_C(0) << (l)))
#define IOMMU_BIT(n) (UINT64_C(1) << (n))

/* Position of the lowest set bit of a non-zero constant mask. */
#define IOMMU_MASK_SHIFT(mask) ((unsigned)__builtin_ctzll((uint64_t)(mask)))

#define IOMMU_FIELD_GET(mask, v) \
	((uint64_t)(((uint64_t)(v) & (uint64_t)(mask)) >> IOMMU_MASK_SHIFT(mask)))
#define IOMMU_FIELD_PREP(mask, v) \
	((((uint64_t)(v)) << IOMMU_MASK_SHIFT(mask)) & (uint64_t)(mask))

/* Compile-time checks on field definitions. */
#define IOMMU_FIELDS_DISJOINT(a, b) \
	_Static_assert(((uint64_t)(a) & (uint64_t)(b)) == 0, \
		       #a " overlaps " #b)
#define IOMMU_FIELD_FITS(mask, width_bits) \
	_Static_assert((width_bits) == 64 || \
		       ((uint64_t)(mask) >> ((width_bits) % 64)) == 0, \
		       #mask " does not fit a " #width_bits "-bit register")

static inline uint16_t iommu_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t iommu_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t iommu_le64(const uint8_t *p)
{
	return (uint64_t)iommu_le32(p) | ((uint64_t)iommu_le32(p + 4) << 32);
}

#endif /* IOMMU_UTIL_BITS_H */
