/*
 * noop.c: the `noop` module's descriptor: a module that succeeds without doing anything,
 * a placeholder in a phase or a way to print values while writing a test.
 */
#include "util/common.h"

#include "components/component.h"

static const struct fo_prop props[] = {
	{
		.name = "properties",
		.description = "Values to write into the `invoke` operation, handy to see what a template "
			       "expanded to.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

const struct fo_component fo_module_noop = {
	.name = "noop",
	.kind = FO_KIND_MODULE,
	.summary = "do nothing and succeed",
	.description =
		"Emits `invoke` (with the given `properties`, if any) and then `ok` with the value "
		"\"Success: noop succeeded!\". Use it as a placeholder while writing a test, to keep a "
		"phase that a template may leave empty, or to print what template parameters "
		"expanded to.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `noop`.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - placeholder:\n"
		   "        module: noop\n"
		   "        properties:\n"
		   "          properties: cluster is up,starting load\n",
	.props = props,
};
