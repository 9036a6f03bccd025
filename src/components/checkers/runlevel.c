/*
 * runlevel.c: the `runlevel` checker: compares the runlevels that `runlevel`
 * modules reached with the sequence the test expects.
 */
#include "util/common.h"

#include "components/component.h"
#include "spec/props.h"
#include "spec/runlevel.h"
#include "spec/yaml.h"
#include "util/diag.h"
#include "util/strutil.h"
#include "engine/history.h"
#include "util/alloc.h"
#include "util/buf.h"

static const struct fo_prop props[] = {
	{
		.name = "runlevels",
		.description = "The runlevels the `runlevel` modules should reach, in the order they run "
			       "(a list, or one comma-separated string).",
		.type = FO_PT_STRLIST,
		.required = true,
	},
	{0},
};

/* Every entry names a stable runlevel. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *v = fo_props_get(ps, "runlevels");
	if (!v || !v->set || !v->list)
		return;
	const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
	size_t nstable = 0;
	while (fo_stable_runlevel_names[nstable])
		nstable++;
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	for (size_t i = 0; i < v->nlist; i++) {
		enum fo_runlevel rl;
		if (fo_runlevel_parse(v->list[i], &rl) == 0)
			continue;
		const char *hint = fo_suggest(v->list[i], fo_stable_runlevel_names, nstable);
		if (hint)
			fo_diags_error(d, pos,
				       "'%s' in 'runlevels' of checker '%s' is not a runlevel (did you mean '%s'?)",
				       v->list[i], who, hint);
		else
			fo_diags_error(d, pos, "'%s' in 'runlevels' of checker '%s' is not a runlevel", v->list[i],
				       who);
	}
}

/* Writes "[A, B]" for n names. */
static void add_list(struct fo_buf *b, const char *const *names, size_t n)
{
	fo_buf_addch(b, '[');
	for (size_t i = 0; i < n; i++)
		fo_buf_addf(b, "%s%s", i ? ", " : "", names[i]);
	fo_buf_addch(b, ']');
}

/* Passes when the ok values of the `runlevel` modules, in order, are `runlevels`. */
static int check(const struct fo_propset *ps, const struct fo_history *h, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const struct fo_propval *want = fo_props_get(ps, "runlevels");
	size_t nwant = want && want->set ? want->nlist : 0;
	size_t n, ngot = 0;
	const struct fo_op *ops = fo_history_ops(h, &n);
	const char **got = fo_calloc(n + 1, sizeof(*got));
	for (size_t i = 0; i < n; i++)
		if (ops[i].type == FO_OP_OK && strcasecmp(ops[i].module, "runlevel") == 0)
			got[ngot++] = ops[i].value ? ops[i].value : "";
	bool same = ngot == nwant;
	for (size_t i = 0; same && i < nwant; i++)
		same = strcasecmp(got[i], want->list[i]) == 0;
	*passed = same;
	fo_buf_adds(msg, same ? "runlevels reached as expected: " : "expected runlevels ");
	add_list(msg, nwant ? want->list : NULL, nwant);
	if (!same) {
		fo_buf_adds(msg, ", got ");
		add_list(msg, got, ngot);
	}
	fo_free(got);
	return 0;
}

static const struct fo_checker_ops ops = {.check = check};

const struct fo_component fo_checker_runlevel = {
	.name = "runlevel",
	.kind = FO_KIND_CHECKER,
	.summary = "check the runlevels reached by runlevel modules, in order",
	.description =
		"Collects the values of the `ok` operations of every `runlevel` module, in the order "
		"they happened, and passes when that list equals `runlevels` exactly: same runlevels, "
		"same order, no more and no fewer. A `runlevel` module that failed adds nothing to the "
		"list, so a refused or failed transition makes the check fail.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `runlevel` checker; names are matched "
		"ignoring case.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - up:\n"
		   "        module: runlevel\n"
		   "        properties:\n"
		   "          role: server\n"
		   "          runlevel: STARTED_SERVICES_RUNNING\n"
		   "    - down:\n"
		   "        module: runlevel\n"
		   "        properties:\n"
		   "          role: server\n"
		   "          runlevel: STARTED_SERVICES_CONFIGURED\n"
		   "  checkers:\n"
		   "    verify_runlevels:\n"
		   "      checker: runlevel\n"
		   "      properties:\n"
		   "        runlevels: STARTED_SERVICES_RUNNING,STARTED_SERVICES_CONFIGURED\n",
	.props = props,
	.validate = validate,
	.checker = &ops,
};
