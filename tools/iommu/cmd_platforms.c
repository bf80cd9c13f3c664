// SPDX-License-Identifier: MIT
#include <getopt.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"

static const char help[] =
"Usage: iommu platforms [--json]\n"
"\n"
"Lists the platforms built into iommu: each was made from a capture of the\n"
"real kernel under QEMU (tests/captures/ in the source tree), and every\n"
"command can run on it with --builtin NAME.  The first is the default.\n";

int cmd_platforms(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return usage_error("platforms", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("platforms", "unexpected argument '%s'", argv[optind]);
	if (json) {
		json_object *root = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < iommu_builtin_count(); i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(iommu_builtin_name(i)));
			json_object_object_add(o, "description",
					       json_object_new_string(iommu_builtin_description(i)));
			json_object_object_add(o, "default", json_object_new_boolean(i == 0));
			json_object_array_add(arr, o);
		}
		json_object_object_add(root, "platforms", arr);
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
		return EXIT_OK;
	}
	for (size_t i = 0; i < iommu_builtin_count(); i++)
		printf("%-14s %s%s\n", iommu_builtin_name(i), i == 0 ? "(default) " : "",
		       iommu_builtin_description(i));
	return EXIT_OK;
}
