/*
 * kill.c: the `kill` fault: SIGKILLs the services of the target nodes (their whole
 * process groups) and, with `restart.after`, starts them again that long after. The
 * provisioner knows the kill is a fault, so the service's end does not fail the run.
 * Targets, schedule, history and healing: fault_common.h.
 */
#include "util/common.h"

#include "components/component.h"
#include "components/modules/fault_common.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	FO_FAULT_TARGET_PROPS,
	FO_FAULT_SERVICE_PROP,
	{
		.name = "restart.after",
		.description = "Start the killed services again this long after the kill (with the command "
			       "they were started with). Unset: they stay down.",
		.type = FO_PT_DURATION,
	},
	FO_FAULT_SCHEDULE_PROPS,
	{0},
};

static int inject(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err)
{
	size_t nt;
	struct fo_node *const *t = fo_fault_targets(f, &nt);
	const struct fo_propval *after = fo_props_get(fo_fault_mctx(f)->props, "restart.after");
	int rc = 0;
	for (size_t i = 0; i < nt && !rc; i++) {
		struct fo_fault_svc *svcs = NULL;
		size_t ns = 0;
		rc = fo_fault_services(f, t[i], &svcs, &ns, err);
		for (size_t k = 0; k < ns && !rc; k++) {
			rc = fo_node_kill_service(t[i], svcs[k].name, err);
			if (!rc && after && after->set)
				fo_fault_restart_later(f, t[i], svcs[k].name);
			if (!rc)
				fo_buf_addf(detail, "%s%s (process group %d) on %s", detail->len ? "; " : "",
					    svcs[k].name, (int)svcs[k].pgid, t[i]->name);
		}
		fo_free(svcs);
	}
	return rc;
}

static const struct fo_fault_ops fault = {.verb = "kill", .duration_prop = "restart.after", .inject = inject};

static int setup(struct fo_mctx *m, struct fo_err *err)
{
	return fo_fault_setup(m, &fault, err);
}

static const struct fo_module_ops ops = {.setup = setup, .run = fo_fault_run, .teardown = fo_fault_teardown};

const struct fo_component fo_module_kill = {
	.name = "kill",
	.kind = FO_KIND_MODULE,
	.summary = "fault: kill services with SIGKILL, and restart them after a while",
	.description =
		"Kills the services of the target nodes with SIGKILL, every process of their process "
		"groups at once, as a crash or an out-of-memory kill would. `service` picks one service "
		"of the node (the name its configuration manager gave it, e.g. `redis`); unset, every "
		"service of the node is killed. A killed service is expected to end: it does not fail "
		"the run. With `restart.after`, each killed service is started again that long after "
		"the kill, with the command it was started with (the heal is done once the process runs; "
		"the server may take a moment more to answer); otherwise it stays down until the group "
		"is torn down.\n"
		"\n"
		"Which nodes: `target.ordinals` of `target.group`, or `target.count` of them chosen at "
		"random with `target.random` (the same `seed` makes the same choices). When: after "
		"`delay`, `iterations` times, a new fault due `interval` after the last one started "
		"and at least `recovery` after it was healed.\n"
		"\n"
		"History: `invoke`, then for each fault an `info` whose JSON value says "
		"\"inject kill server/node1\" with the fault, the nodes and the start time, then (with "
		"`restart.after`) an `info` \"heal kill ...\" with the start, the end and the duration, "
		"and finally `ok`, or `fail` when a kill or a restart failed. When the run is aborted "
		"the services are not restarted (teardown stops everything anyway). Needs a "
		"provisioner that can kill and restart services (`local`).",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - crash:\n"
		   "        module: kill\n"
		   "        properties:\n"
		   "          target.group: server\n"
		   "          target.random: true\n"
		   "          seed: 7\n"
		   "          service: redis\n"
		   "          restart.after: 5s\n"
		   "          delay: 10s\n"
		   "          iterations: 3\n"
		   "          recovery: 20s\n",
	.props = props,
	.validate = fo_fault_validate,
	.module = &ops,
};
