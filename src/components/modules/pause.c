/*
 * pause.c: the `pause` fault: stops the services of the target nodes with SIGSTOP (their
 * whole process groups) for `duration`, then continues them with SIGCONT: a process that
 * hangs, as in a long garbage-collection pause or a frozen virtual machine. Each stopped
 * group is in the run's ledger before it is stopped, so `fallout cleanup` continues it
 * after a killed run. Targets, schedule, history and healing: fault_common.h.
 */
#include "util/common.h"

#include "components/component.h"
#include "components/modules/fault_common.h"
#include "engine/run.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	FO_FAULT_TARGET_PROPS,
	FO_FAULT_SERVICE_PROP,
	{
		.name = "duration",
		.description = "How long the services stay stopped.",
		.type = FO_PT_DURATION,
		.default_value = "10s",
	},
	FO_FAULT_SCHEDULE_PROPS,
	{0},
};

static int inject(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err)
{
	size_t nt;
	struct fo_node *const *t = fo_fault_targets(f, &nt);
	int rc = 0;
	for (size_t i = 0; i < nt && !rc; i++) {
		struct fo_fault_svc *svcs = NULL;
		size_t ns = 0;
		rc = fo_fault_services(f, t[i], &svcs, &ns, err);
		for (size_t k = 0; k < ns && !rc; k++) {
			rc = fo_fault_stop(f, t[i], svcs[k].pgid, err);
			if (!rc)
				fo_buf_addf(detail, "%s%s%sprocess group %d on %s", detail->len ? "; " : "",
					    svcs[k].name, *svcs[k].name ? " " : "", (int)svcs[k].pgid, t[i]->name);
		}
		fo_free(svcs);
	}
	return rc;
}

static const struct fo_fault_ops fault = {.verb = "pause", .duration_prop = "duration", .inject = inject};

static int setup(struct fo_mctx *m, struct fo_err *err)
{
	return fo_fault_setup(m, &fault, err);
}

static const struct fo_module_ops ops = {.setup = setup, .run = fo_fault_run, .teardown = fo_fault_teardown};

const struct fo_component fo_module_pause = {
	.name = "pause",
	.kind = FO_KIND_MODULE,
	.summary = "fault: freeze services with SIGSTOP for a while, then SIGCONT",
	.description =
		"Stops the services of the target nodes with SIGSTOP, every process of their process "
		"groups, for `duration`, then continues them with SIGCONT. A stopped server keeps its "
		"connections open but answers nothing: clients wait, time out, or fail over, as they "
		"would for a long garbage-collection pause or a frozen machine. `service` picks one "
		"service of the node; unset, every service of the node is stopped.\n"
		"\n"
		"Targets and schedule as for every fault: `target.ordinals`, `target.random` with "
		"`target.count` and `seed`; `delay`, `iterations`, `interval`, `recovery`. History: "
		"`invoke`, an `info` \"inject pause server/node0\" and an `info` \"heal pause ...\" "
		"per fault (JSON with the nodes and the times), then `ok` or `fail`.\n"
		"\n"
		"The services are always continued: at the end of the pause, at once when the run is "
		"aborted, and by `fallout cleanup` when fallout itself was killed (each stopped "
		"process group is in the run's ledger before it is stopped).",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - freeze:\n"
		   "        module: pause\n"
		   "        properties:\n"
		   "          target.ordinals: 0\n"
		   "          duration: 3s\n"
		   "          iterations: 2\n"
		   "          recovery: 10s\n",
	.props = props,
	.validate = fo_fault_validate,
	.module = &ops,
};
