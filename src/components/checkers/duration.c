/*
 * duration.c: the `duration` checker: checks how long the workload, or some
 * of its phases, took.
 */
#include "util/common.h"

#include "components/component.h"
#include "spec/props.h"
#include "util/diag.h"
#include "engine/history.h"
#include "util/buf.h"

static const struct fo_prop props[] = {
	{
		.name = "duration.min",
		.description = "The shortest acceptable time. Default: no lower bound.",
		.type = FO_PT_DURATION,
	},
	{
		.name = "duration.max",
		.description = "The longest acceptable time. Default: no upper bound.",
		.type = FO_PT_DURATION,
	},
	{
		.name = "phases",
		.description = "Aliases of the modules to time (a list, or one comma-separated string); "
			       "overlapping ones are counted once. Default: the whole workload.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

/* A lower bound above the upper bound can never pass. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *lo = fo_props_get(ps, "duration.min");
	const struct fo_propval *hi = fo_props_get(ps, "duration.max");
	if (lo && hi && lo->set && hi->set && lo->ns > hi->ns)
		fo_diags_error(d, &ps->pos, "checker '%s': 'duration.min' (%s) is longer than 'duration.max' (%s)",
			       ps->alias ? ps->alias : ps->comp->name, lo->str ? lo->str : "?",
			       hi->str ? hi->str : "?");
}

static bool listed(const struct fo_propval *v, const char *process)
{
	for (size_t i = 0; i < v->nlist; i++)
		if (strcmp(v->list[i], process) == 0)
			return true;
	return false;
}

/* Writes ns as seconds with millisecond precision: "1.234s". */
static void add_secs(struct fo_buf *b, int64_t ns)
{
	fo_buf_addf(b, "%s%lld.%03llds", ns < 0 ? "-" : "", (long long)(llabs(ns) / 1000000000),
		    (long long)(llabs(ns) % 1000000000 / 1000000));
}

/*
 * Without `phases`: the time from the history's first operation to its last. With them:
 * the time during which at least one of the listed processes (module aliases: the
 * harness records `start` and `end` per module, not per phase) was between its `start`
 * and its `end`, so overlaps count once.
 */
static int check(const struct fo_propset *ps, const struct fo_history *h, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const struct fo_propval *lo = fo_props_get(ps, "duration.min");
	const struct fo_propval *hi = fo_props_get(ps, "duration.max");
	const struct fo_propval *only = fo_props_get(ps, "phases");
	if (only && (!only->set || only->nlist == 0))
		only = NULL;
	size_t n;
	const struct fo_op *ops = fo_history_ops(h, &n);
	int64_t took = 0;
	if (!only) {
		if (n > 0)
			took = ops[n - 1].time_ns - ops[0].time_ns;
		fo_buf_adds(msg, "the workload took ");
	} else {
		int open = 0;
		int64_t since = 0;
		bool seen = false;
		for (size_t i = 0; i < n; i++) {
			if ((ops[i].type != FO_OP_START && ops[i].type != FO_OP_END) || !listed(only, ops[i].process))
				continue;
			seen = true;
			if (ops[i].type == FO_OP_START) {
				if (open++ == 0)
					since = ops[i].time_ns;
			} else if (open > 0 && --open == 0) {
				took += ops[i].time_ns - since;
			}
		}
		if (open > 0 && n > 0) /* still running at the end: count up to the last operation */
			took += ops[n - 1].time_ns - since;
		if (!seen) {
			*passed = false;
			fo_buf_adds(msg, "no module called ");
			for (size_t i = 0; i < only->nlist; i++)
				fo_buf_addf(msg, "%s'%s'", i ? (i + 1 == only->nlist ? " or " : ", ") : "", only->list[i]);
			fo_buf_adds(msg, " ran (`phases` names module aliases), so there is no time to check");
			return 0;
		}
		fo_buf_adds(msg, only->nlist == 1 ? "module " : "modules ");
		for (size_t i = 0; i < only->nlist; i++)
			fo_buf_addf(msg, "%s%s", i ? ", " : "", only->list[i]);
		fo_buf_adds(msg, " took ");
	}
	add_secs(msg, took);
	bool has_lo = lo && lo->set, has_hi = hi && hi->set;
	bool too_short = has_lo && took < lo->ns;
	bool too_long = has_hi && took > hi->ns;
	*passed = !too_short && !too_long;
	if (too_short)
		fo_buf_addf(msg, ", less than duration.min (%s)", lo->str ? lo->str : "?");
	else if (too_long)
		fo_buf_addf(msg, ", more than duration.max (%s)", hi->str ? hi->str : "?");
	else if (has_lo || has_hi)
		fo_buf_addf(msg, ", within bounds (%s%s%s%s%s)", has_lo ? "at least " : "", has_lo ? lo->str : "",
			    has_lo && has_hi ? ", " : "", has_hi ? "at most " : "", has_hi ? hi->str : "");
	return 0;
}

static const struct fo_checker_ops ops = {.check = check};

const struct fo_component fo_checker_duration = {
	.name = "duration",
	.kind = FO_KIND_CHECKER,
	.summary = "check that the workload, or some phases, took neither too long nor too little",
	.description =
		"Measures a time from the operations history and passes when it lies within "
		"`duration.min` and `duration.max` (each optional). Without `phases` the time is that of "
		"the whole workload, from its first operation to its last (setup and teardown not "
		"included). With `phases`, it is the time during which at least one of the named "
		"modules was running, from its `start` to its `end` operation, so overlapping ones are "
		"not counted twice. Name modules by their aliases: the history records when each "
		"module starts and ends, not when a list of sub-phases does, so to time a sub-phase "
		"list name the modules in it. A name that matches no module fails the check. To check "
		"several phases separately, use one `duration` checker for each.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `duration` checker.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - warmup:\n"
		   "        module: sleep\n"
		   "        properties:\n"
		   "          duration: 10s\n"
		   "  checkers:\n"
		   "    warmup_time:\n"
		   "      checker: duration\n"
		   "      properties:\n"
		   "        phases: warmup\n"
		   "        duration.min: 9s\n"
		   "        duration.max: 15s\n",
	.props = props,
	.validate = validate,
	.checker = &ops,
};
