/*
 * nofail.c: the `nofail` checker's descriptor: the run fails if any module reported a
 * failure. The checker nearly every test has.
 */
#include "util/common.h"

#include "components/component.h"

static const struct fo_prop props[] = {
	{
		.name = "processes",
		.description = "Only look at the operations of these module aliases (a list, or one "
			       "comma-separated string). Default: every module.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

const struct fo_component fo_checker_nofail = {
	.name = "nofail",
	.kind = FO_KIND_CHECKER,
	.summary = "fail the run if any module emitted a fail operation",
	.description =
		"Reads the operations history after the workload and passes when it holds no `fail` "
		"operation, or none from the modules listed in `processes` (their aliases, as written "
		"in `phases`). When it fails, its log (controller/checkers/checker-<alias>.log) shows "
		"how many failures there were and the first and last of them.\n"
		"\n"
		"It does not look at `error` operations (a module that crashed or emitted nothing): "
		"the `fallout-no_error` checker that every run has catches those.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `nofail`.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          script: ./run-load.sh\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n"
		   "    load_only:\n"
		   "      checker: nofail\n"
		   "      properties:\n"
		   "        processes: load\n",
	.props = props,
};
