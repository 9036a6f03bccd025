/*
 * duration.c: the `duration` checker's descriptor: checks how long the workload, or some
 * of its phases, took.
 */
#include "util/common.h"

#include "components/component.h"
#include "spec/props.h"
#include "util/diag.h"

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
		.description = "Aliases of the phases or modules to time (a list, or one comma-separated "
			       "string); overlapping ones are counted once. Default: the whole workload.",
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

const struct fo_component fo_checker_duration = {
	.name = "duration",
	.kind = FO_KIND_CHECKER,
	.summary = "check that the workload, or some phases, took neither too long nor too little",
	.description =
		"Measures a time from the operations history and passes when it lies within "
		"`duration.min` and `duration.max` (each optional). Without `phases` the time is that of "
		"the whole workload, from its first operation to its last (setup and teardown not "
		"included). With `phases`, it is the time during which at least one of the named "
		"phases or modules was running, from its `start` to its `end` operation, so "
		"overlapping ones are not counted twice. To check several phases separately, use one "
		"`duration` checker for each.\n"
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
};
