/*
 * fail.c: the `fail` module's descriptor: a module that always fails, to check that
 * checkers and CI notice failures. One of Fallout's test components, shipped as a
 * documented helper.
 */
#include "util/common.h"

#include "components/component.h"

const struct fo_component fo_module_fail = {
	.name = "fail",
	.kind = FO_KIND_MODULE,
	.summary = "always fail (dry-run helper)",
	.description =
		"Emits `invoke`, then `fail` with the value \"Fail module always fails!\". A run "
		"containing it fails through the `nofail` checker (unless that checker's `processes` "
		"leave it out), which makes it the quickest way to see how a failing run looks, or to "
		"check that a pipeline stops on a failed test.\n"
		"\n"
		"Fallout compatibility: this is Fallout's test-only `fail` module, shipped here as a "
		"documented helper.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - auto_fail:\n"
		   "        module: fail\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n",
};
