/*
 * fake.c: the `fake` module: a module that succeeds at once, the workload
 * of dry runs. One of Fallout's test components, shipped as a documented helper.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"

/* Succeeds at once. */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	fo_emit(m, FO_OP_INVOKE, NULL);
	fo_emit(m, FO_OP_OK, NULL);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_fake = {
	.name = "fake",
	.kind = FO_KIND_MODULE,
	.summary = "succeed at once (dry-run helper)",
	.description =
		"Emits `invoke` and then `ok`, and does nothing else. With the `fake` provisioner and "
		"configuration manager it lets a whole test run, from setup to teardown and checks, in "
		"a fraction of a second: the way to try a definition's structure and templates.\n"
		"\n"
		"Fallout compatibility: this is Fallout's test-only `fake` module, shipped here as a "
		"documented helper.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - dummy:\n"
		   "        module: fake\n"
		   "  checkers:\n"
		   "    nofail:\n"
		   "      checker: nofail\n",
	.module = &ops,
};
