/*
 * restart.c: the `restart` fault: stops the services of the target nodes (SIGTERM, then
 * SIGKILL if they linger) and starts them again at once, with the commands they were
 * started with: what an upgrade or a configuration change does, without the change. Targets, schedule and
 * history: fault_common.h.
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
			rc = fo_node_restart_service(t[i], svcs[k].name, err);
			if (!rc)
				fo_buf_addf(detail, "%s%s restarted on %s", detail->len ? "; " : "", svcs[k].name,
					    t[i]->name);
		}
		fo_free(svcs);
	}
	return rc;
}

static const struct fo_fault_ops fault = {.verb = "restart", .inject = inject};

static int setup(struct fo_mctx *m, struct fo_err *err)
{
	return fo_fault_setup(m, &fault, err);
}

static const struct fo_module_ops ops = {.setup = setup, .run = fo_fault_run, .teardown = fo_fault_teardown};

const struct fo_component fo_module_restart = {
	.name = "restart",
	.kind = FO_KIND_MODULE,
	.summary = "fault: stop services cleanly and start them again",
	.description =
		"Stops the services of the target nodes (SIGTERM to their process groups, SIGKILL if "
		"they have not ended after a grace period) and starts each again at once, with the "
		"command it was started with. `service` picks one service of the node; unset, every "
		"service of the node is restarted. With `iterations` and `interval` it restarts again and "
		"again, a node chosen anew each time with `target.random`.\n"
		"\n"
		"History: `invoke`, an `info` \"inject restart server/node0\" per restart (JSON with the "
		"nodes, the start time and what was restarted), then `ok`, or `fail` when a service "
		"could not be restarted. Needs a provisioner that can restart services (`local`).",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - rolling_restart:\n"
		   "        module: restart\n"
		   "        properties:\n"
		   "          target.random: true\n"
		   "          seed: 42\n"
		   "          iterations: 3\n"
		   "          interval: 30s\n",
	.props = props,
	.validate = fo_fault_validate,
	.module = &ops,
};
