// SPDX-License-Identifier: MIT
/*
 * iommu devices: every PCI function as the kernel decodes its config space.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"

static const char help[] =
"Usage: iommu devices [PLATFORM] [--tree] [--json]\n"
"\n"
"Lists every PCI function of a platform as the kernel reads it from config\n"
"space: vendor and device with their pci.ids names, class, header type and\n"
"the multifunction bit, the PCI Express device/port type, the ACS\n"
"capability and control bits (what IOMMU grouping looks at), ARI and\n"
"SR-IOV, bridges with their bus ranges, and the bound driver.\n"
"\n"
"  --tree   draw the bus hierarchy as 'lspci -tvnn' does; the tree is built\n"
"           from the bridges' bus number registers, per PCI segment\n"
"  --json   one JSON object: {\"devices\": [{\"bdf\": \"0000:00:1c.0\", ...}]};\n"
"           integers are JSON numbers, absent values are null\n"
"\n"
PLATFORM_HELP
"Without a platform option the built-in default platform is used.\n"
"\n"
"Examples:\n"
"  iommu devices --builtin amd-server --tree\n"
"  sudo iommu devices --host --json | jq '.devices[] | select(.acs_cap)'\n";

static void print_text(const struct iommu_platform *p, struct iommu_pci_names *names)
{
	char line[512], sub[256], acs[160];

	for (size_t i = 0; i < iommu_platform_num_devices(p); i++) {
		const struct iommu_pci_dev *d = iommu_platform_device(p, i);

		format_device_line(names, d, true, line, sizeof(line));
		puts(line);
		if (d->subsystem_vendor && d->subsystem_vendor != 0xffff) {
			iommu_pci_subsystem_name(names, d->vendor, d->device, d->subsystem_vendor,
						 d->subsystem_device, true, sub, sizeof(sub));
			printf("\tSubsystem: %s\n", sub);
		}
		printf("\tHeader: type %u (%s)%s\n", d->header_type,
		       d->header_type == 0 ? "normal" : d->header_type == 1 ? "PCI-to-PCI bridge" :
		       "CardBus bridge", d->multifunction ? ", multifunction" : "");
		if (d->is_bridge)
			printf("\tBus: primary=%02x, secondary=%02x, subordinate=%02x\n",
			       d->primary_bus, d->secondary_bus, d->subordinate_bus);
		/* lspci shows the slot bit for the port types that can have a slot */
		if (iommu_pci_is_pcie(d))
			printf("\tExpress: (v%u) %s%s\n", d->pcie_version, iommu_pcie_type_name(d->pcie_type),
			       d->pcie_type == IOMMU_PCIE_ROOT_PORT || d->pcie_type == IOMMU_PCIE_DOWNSTREAM ||
			       d->pcie_type == IOMMU_PCIE_PCIE_BRIDGE ?
			       ((d->pcie_flags & 0x100) ? " (Slot+)" : " (Slot-)") : "");
		else
			printf("\tConventional PCI\n");
		if (d->acs_pos) {
			iommu_acs_format(d->acs_cap, acs, sizeof(acs));
			printf("\tACSCap:\t%s\n", acs);
			iommu_acs_format(d->acs_ctrl, acs, sizeof(acs));
			printf("\tACSCtl:\t%s\n", acs);
		}
		if (d->ari_pos)
			printf("\tARI: MFVC%c ACSFunc%c, next function %u\n",
			       (d->ari_cap & 1) ? '+' : '-', (d->ari_cap & 2) ? '+' : '-',
			       d->ari_cap >> 8);
		if (d->sriov.offset)
			printf("\tSR-IOV: initial VFs %u, total VFs %u, number of VFs %u, VF offset %u, "
			       "stride %u, VF device id %04x, VF enable%c\n",
			       d->sriov.initial_vfs, d->sriov.total_vfs, d->sriov.num_vfs,
			       d->sriov.vf_offset, d->sriov.vf_stride, d->sriov.vf_device,
			       (d->sriov.ctrl & 1) ? '+' : '-');
		if (d->driver)
			printf("\tKernel driver in use: %s\n", d->driver);
		putchar('\n');
	}
}

static json_object *num_or_null(bool present, int64_t v)
{
	return present ? json_object_new_int64(v) : NULL;
}

static json_object *device_json(const struct iommu_pci_dev *d, struct iommu_pci_names *names)
{
	json_object *o = json_object_new_object();
	json_object *caps = json_object_new_array();
	char buf[256];

	json_object_object_add(o, "bdf", json_object_new_string(d->name));
	json_object_object_add(o, "segment", json_object_new_int(d->addr.segment));
	json_object_object_add(o, "bus", json_object_new_int(d->addr.bus));
	json_object_object_add(o, "slot", json_object_new_int(IOMMU_PCI_SLOT(d->addr.devfn)));
	json_object_object_add(o, "function", json_object_new_int(IOMMU_PCI_FUNC(d->addr.devfn)));
	json_object_object_add(o, "vendor", json_object_new_int(d->vendor));
	json_object_object_add(o, "device", json_object_new_int(d->device));
	json_object_object_add(o, "vendor_name",
			       json_object_new_string(iommu_pci_vendor_name(names, d->vendor, false,
									    buf, sizeof(buf))));
	json_object_object_add(o, "device_name",
			       json_object_new_string(iommu_pci_device_only_name(names, d->vendor, d->device,
										 buf, sizeof(buf))));
	json_object_object_add(o, "class", json_object_new_int((int32_t)d->class_code));
	json_object_object_add(o, "class_name",
			       json_object_new_string(iommu_pci_class_name(names, (uint16_t)(d->class_code >> 8),
									   false, buf, sizeof(buf))));
	json_object_object_add(o, "revision", json_object_new_int(d->revision));
	json_object_object_add(o, "subsystem_vendor",
			       json_object_new_int(d->subsystem_vendor));
	json_object_object_add(o, "subsystem_device",
			       json_object_new_int(d->subsystem_device));
	json_object_object_add(o, "header_type", json_object_new_int(d->header_type));
	json_object_object_add(o, "multifunction", json_object_new_boolean(d->multifunction));
	json_object_object_add(o, "pcie_type", num_or_null(iommu_pci_is_pcie(d), d->pcie_type));
	json_object_object_add(o, "pcie_type_name",
			       iommu_pci_is_pcie(d) ? json_object_new_string(iommu_pcie_type_name(d->pcie_type))
						    : NULL);
	json_object_object_add(o, "pcie_version", num_or_null(iommu_pci_is_pcie(d), d->pcie_version));
	json_object_object_add(o, "acs_cap", num_or_null(d->acs_pos, d->acs_cap));
	json_object_object_add(o, "acs_ctrl", num_or_null(d->acs_pos, d->acs_ctrl));
	json_object_object_add(o, "ari_cap", num_or_null(d->ari_pos, d->ari_cap));
	json_object_object_add(o, "ari_ctrl", num_or_null(d->ari_pos, d->ari_ctrl));
	if (d->sriov.offset) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "initial_vfs", json_object_new_int(d->sriov.initial_vfs));
		json_object_object_add(s, "total_vfs", json_object_new_int(d->sriov.total_vfs));
		json_object_object_add(s, "num_vfs", json_object_new_int(d->sriov.num_vfs));
		json_object_object_add(s, "vf_offset", json_object_new_int(d->sriov.vf_offset));
		json_object_object_add(s, "vf_stride", json_object_new_int(d->sriov.vf_stride));
		json_object_object_add(s, "vf_device", json_object_new_int(d->sriov.vf_device));
		json_object_object_add(s, "ctrl", json_object_new_int(d->sriov.ctrl));
		json_object_object_add(o, "sriov", s);
	} else {
		json_object_object_add(o, "sriov", NULL);
	}
	json_object_object_add(o, "primary_bus", num_or_null(d->is_bridge, d->primary_bus));
	json_object_object_add(o, "secondary_bus", num_or_null(d->is_bridge, d->secondary_bus));
	json_object_object_add(o, "subordinate_bus", num_or_null(d->is_bridge, d->subordinate_bus));
	json_object_object_add(o, "upstream_bridge",
			       d->bus->self ? json_object_new_string(d->bus->self->name) : NULL);
	json_object_object_add(o, "driver", d->driver ? json_object_new_string(d->driver) : NULL);
	json_object_object_add(o, "config_size", json_object_new_int((int)d->config_size));
	for (size_t i = 0; i < d->n_caps; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "offset", json_object_new_int(d->caps[i].offset));
		json_object_object_add(c, "id", json_object_new_int(d->caps[i].id));
		json_object_object_add(c, "extended", json_object_new_boolean(d->caps[i].extended));
		json_object_object_add(c, "name", json_object_new_string(iommu_pci_cap_name(&d->caps[i])));
		json_object_array_add(caps, c);
	}
	json_object_object_add(o, "capabilities", caps);
	return o;
}

static void print_json(const struct iommu_platform *p, struct iommu_pci_names *names)
{
	json_object *root = json_object_new_object();
	json_object *plat = json_object_new_object();
	json_object *devs = json_object_new_array();
	json_object *warns = json_object_new_array();
	static const char *const sources[] = { "snapshot", "host", "builtin", "memory" };

	json_object_object_add(plat, "source",
			       json_object_new_string(sources[iommu_platform_source(p)]));
	json_object_object_add(plat, "label", json_object_new_string(iommu_platform_label(p)));
	json_object_object_add(plat, "kernel_release",
			       iommu_platform_kernel_release(p) ?
			       json_object_new_string(iommu_platform_kernel_release(p)) : NULL);
	json_object_object_add(plat, "cmdline", json_object_new_string(iommu_platform_cmdline(p)));
	json_object_object_add(root, "platform", plat);
	for (size_t i = 0; i < iommu_platform_num_devices(p); i++)
		json_object_array_add(devs, device_json(iommu_platform_device(p, i), names));
	json_object_object_add(root, "devices", devs);
	for (size_t i = 0; i < iommu_platform_num_warnings(p); i++)
		json_object_array_add(warns, json_object_new_string(iommu_platform_warning(p, i)));
	json_object_object_add(root, "warnings", warns);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		PLATFORM_LONG_OPTIONS,
		{ "tree", no_argument, NULL, OPT_TREE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct platform_choice pc = { 0 };
	struct iommu_platform *p;
	struct iommu_pci_names *names;
	bool tree = false, json = false;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ht", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		case 't':
		case OPT_TREE:
			tree = true;
			continue;
		case OPT_JSON:
			json = true;
			continue;
		}
		ret = platform_option(&pc, c, optarg);
		if (ret < 0)
			return usage_error("devices", "give only one of --snapshot, --builtin, --host");
		if (ret == 0)
			return usage_error("devices", "unknown option");
	}
	if (optind < argc)
		return usage_error("devices", "unexpected argument '%s'", argv[optind]);
	if (tree && json)
		return usage_error("devices", "--tree and --json do not go together");
	ret = platform_load(&pc, false, &p);
	if (ret)
		return ret;
	if (!json)
		platform_print_warnings(p);
	names = iommu_pci_names_open();
	if (tree)
		print_tree(stdout, p, names);
	else if (json)
		print_json(p, names);
	else
		print_text(p, names);
	iommu_pci_names_close(names);
	iommu_platform_free(p);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "iommu devices: cannot write output\n");
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}
