/*
 * sleep.c: the `sleep` module: waits for a while, to let a system settle,
 * or (with lifetime run_to_end_of_phase) to pace a phase.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"
#include "spec/props.h"

static const struct fo_prop props[] = {
	{
		.name = "duration",
		.description = "How long to sleep, e.g. `10m`, `13s`, `500ms` or `5 milliseconds`.",
		.type = FO_PT_DURATION,
		.default_value = "1m",
	},
	{0},
};

/* Sleeps for `duration`, waking early (and failing) when the run is aborted. */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	fo_emit(m, FO_OP_INVOKE, NULL);
	int64_t ns = fo_props_duration_ns(m->props, "duration", 60 * INT64_C(1000000000));
	if (fo_run_sleep(m->run, ns) != 0)
		fo_emit(m, FO_OP_FAIL, "aborted");
	else
		fo_emit(m, FO_OP_OK, NULL);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_sleep = {
	.name = "sleep",
	.kind = FO_KIND_MODULE,
	.summary = "wait for a while",
	.description =
		"Emits `invoke`, sleeps for `duration`, then emits `ok`. Use it to let a cluster "
		"settle after a change, to leave a quiet period in a measurement, or to give a "
		"phase a minimum length. When the run is aborted it wakes at once and emits `fail`.\n"
		"\n"
		"With `lifetime: run_to_end_of_phase` it sleeps over and over until every run-once "
		"module of its phase has finished, so the number of its `ok` operations measures how "
		"long the phase took.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `sleep`, including the default of one "
		"minute.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - settle:\n"
		   "        module: sleep\n"
		   "        properties:\n"
		   "          duration: 30s\n",
	.props = props,
	.module = &ops,
};
