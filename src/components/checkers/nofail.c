/*
 * nofail.c: the `nofail` checker: the run fails if any module reported a
 * failure. The checker nearly every test has.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/history.h"
#include "spec/props.h"
#include "util/buf.h"

static const struct fo_prop props[] = {
	{
		.name = "processes",
		.description = "Only look at the operations of these module aliases (a list, or one "
			       "comma-separated string). Default: every module.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

#define LIST_MAX 10 /* failures quoted in the message */

static bool listed(const struct fo_propval *v, const char *process)
{
	for (size_t i = 0; i < v->nlist; i++)
		if (strcmp(v->list[i], process) == 0)
			return true;
	return false;
}

/* Passes when no `fail` operation (of the listed processes, if any) is in the history. */
static int check(const struct fo_propset *ps, const struct fo_history *h, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const struct fo_propval *only = fo_props_get(ps, "processes");
	if (only && (!only->set || only->nlist == 0))
		only = NULL;
	size_t n, nfail = 0;
	const struct fo_op *ops = fo_history_ops(h, &n);
	struct fo_buf list = FO_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type != FO_OP_FAIL || (only && !listed(only, ops[i].process)))
			continue;
		if (nfail++ < LIST_MAX)
			fo_buf_addf(&list, "\n  %s (%s): %s", ops[i].process, ops[i].module,
				    ops[i].value ? ops[i].value : "(no value)");
	}
	*passed = nfail == 0;
	if (nfail == 0)
		fo_buf_adds(msg, "no fail operations");
	else
		fo_buf_addf(msg, "%zu fail operation%s", nfail, nfail == 1 ? "" : "s");
	if (only) {
		fo_buf_adds(msg, " among processes ");
		for (size_t i = 0; i < only->nlist; i++)
			fo_buf_addf(msg, "%s%s", i ? ", " : "", only->list[i]);
	}
	if (nfail) {
		fo_buf_addf(msg, ":%s", list.s);
		if (nfail > LIST_MAX)
			fo_buf_addf(msg, "\n  ... and %zu more", nfail - LIST_MAX);
	}
	fo_buf_release(&list);
	return 0;
}

static const struct fo_checker_ops ops = {.check = check};

const struct fo_component fo_checker_nofail = {
	.name = "nofail",
	.kind = FO_KIND_CHECKER,
	.summary = "fail the run if any module emitted a fail operation",
	.description =
		"Reads the operations history after the workload and passes when it holds no `fail` "
		"operation, or none from the modules listed in `processes` (their aliases, as written "
		"in `phases`). When it fails, its message (in the run's summary and in "
		"controller/checkers/checker-<alias>.log) says how many failures there were and lists "
		"the first ten, each with its module alias and value.\n"
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
	.checker = &ops,
};
