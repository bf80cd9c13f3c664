// SPDX-License-Identifier: MIT
/*
 * The bus hierarchy in the layout of 'lspci -tvnn', so that the two can be
 * compared line for line.  The layout: each function is "DD.F"; a bridge
 * continues with its bus range "-[SS-EE]-" and the functions behind it; a
 * bus with several functions branches with "+-" and closes with "\-", and
 * the branch columns carry down as "|" to the lines below.  Several root
 * buses are listed lowest first, each as "[SSSS:BB]", the way lspci 3.9
 * lists the buses it finds outside every bridge.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define TREE_LINE_MAX 16384

struct tree_out {
	FILE *out;
	struct iommu_pci_names *names;
	char line[TREE_LINE_MAX];
};

/* Write text at column @col; returns the column after it (clamped to the buffer). */
static size_t put(struct tree_out *t, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static size_t put(struct tree_out *t, size_t col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (col >= TREE_LINE_MAX - 1)
		return TREE_LINE_MAX - 1;
	va_start(ap, fmt);
	n = vsnprintf(t->line + col, TREE_LINE_MAX - col, fmt, ap);
	va_end(ap);
	if (n < 0)
		return col;
	col += (size_t)n;
	return col < TREE_LINE_MAX - 1 ? col : TREE_LINE_MAX - 1;
}

/*
 * Print the line up to @end.  What stays in the buffer becomes the left
 * margin of the lines below: branch marks turn into "|", the rest blanks.
 */
static void emit(struct tree_out *t, size_t end)
{
	fwrite(t->line, 1, end, t->out);
	fputc('\n', t->out);
	for (size_t i = 0; i < end; i++)
		t->line[i] = (t->line[i] == '+' || t->line[i] == '|') ? '|' : ' ';
}

static void show_bus(struct tree_out *t, const struct iommu_pci_bus *bus, size_t col);

static void show_function(struct tree_out *t, const struct iommu_pci_dev *d, size_t col)
{
	char name[256];

	col = put(t, col, "%02x.%x", IOMMU_PCI_SLOT(d->addr.devfn), IOMMU_PCI_FUNC(d->addr.devfn));
	if (d->subordinate) {
		if (d->secondary_bus == d->subordinate_bus)
			col = put(t, col, "-[%02x]-", d->secondary_bus);
		else
			col = put(t, col, "-[%02x-%02x]-", d->secondary_bus, d->subordinate_bus);
		col = put(t, col, "-");
		show_bus(t, d->subordinate, col);
		return;
	}
	iommu_pci_device_name(t->names, d->vendor, d->device, true, name, sizeof(name));
	col = put(t, col, "  %s", name);
	emit(t, col);
}

static void show_bus(struct tree_out *t, const struct iommu_pci_bus *bus, size_t col)
{
	size_t n = bus ? bus->n_devices : 0;

	if (n == 0) {
		emit(t, col);
		return;
	}
	if (n == 1) {
		show_function(t, bus->devices[0], put(t, col, "--"));
		return;
	}
	for (size_t i = 0; i < n; i++)
		show_function(t, bus->devices[i], put(t, col, i + 1 < n ? "+-" : "\\-"));
}

void print_tree(FILE *out, const struct iommu_platform *p, struct iommu_pci_names *names)
{
	static struct tree_out t;
	size_t nroots = iommu_platform_num_root_buses(p);
	const struct iommu_pci_bus *first = nroots ? iommu_platform_root_bus(p, 0) : NULL;
	/* Bus 0000:00 is always listed, empty or not, as lspci does. */
	bool has_bus0 = first && first->segment == 0 && first->number == 0;
	size_t total = nroots + !has_bus0;
	size_t col;

	t.out = out;
	t.names = names;
	col = put(&t, 0, "-");
	if (total == 1) {
		col = put(&t, col, "[%04x:%02x]-", 0, 0);
		show_bus(&t, has_bus0 ? first : NULL, col);
		return;
	}
	/* Lowest root bus first, bus 0000:00 (listed even when empty) leading. */
	for (size_t k = 0; k < total; k++) {
		const struct iommu_pci_bus *b = NULL;
		unsigned seg = 0, nr = 0;

		if (has_bus0 || k > 0)
			b = iommu_platform_root_bus(p, has_bus0 ? k : k - 1);
		if (b) {
			seg = b->segment;
			nr = b->number;
		}
		size_t c = put(&t, col, "%s[%04x:%02x]-", k + 1 < total ? "+-" : "\\-", seg, nr);

		show_bus(&t, b, c);
	}
}
