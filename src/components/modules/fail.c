/*
 * fail.c: the `fail` module: a module that always fails, to check that
 * checkers and CI notice failures. One of Fallout's test components, shipped as a
 * documented helper.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"

/* Fails, always: the value is Fallout's own text. */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	fo_emit(m, FO_OP_INVOKE, NULL);
	fo_emit(m, FO_OP_FAIL, "Fail module always fails!");
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

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
	.module = &ops,
};
