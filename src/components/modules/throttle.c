/*
 * throttle.c: the `throttle` fault: limits the bandwidth a node sends with a tc token
 * bucket (tbf) on the interface of its network namespace, for `duration` (this kernel has
 * no netem, so no delay or loss). Each qdisc is in the run's ledger before it is added,
 * so `fallout cleanup` removes it after a killed run. Targets, schedule, history and
 * healing: fault_common.h.
 */
#include "util/common.h"

#include "components/component.h"
#include "components/modules/fault_common.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/buf.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	FO_FAULT_TARGET_PROPS,
	{
		.name = "rate",
		.description = "The bandwidth left, in tc's units: `100kbit`, `1mbit`, `10mbit`, `1gbit` "
			       "(bits a second) or `100kbps`, `1mbps` (bytes a second).",
		.type = FO_PT_STRING,
		.default_value = "1mbit",
		.pattern = "[0-9]+(\\.[0-9]+)?([kmgt]?bit|[kmgt]?bps)",
	},
	{
		.name = "burst",
		.description = "How many bytes may pass at once, above the rate (the bucket's size): "
			       "`32kb`, `1mb`. At least the rate a second divided by the kernel's clock rate.",
		.type = FO_PT_STRING,
		.default_value = "32kb",
		.pattern = "[0-9]+([kmg]?b)?",
	},
	{
		.name = "latency",
		.description = "The longest a packet may wait for the bucket before it is dropped (the "
			       "queue's length, in time).",
		.type = FO_PT_DURATION,
		.default_value = "100ms",
	},
	{
		.name = "duration",
		.description = "How long the limit lasts.",
		.type = FO_PT_DURATION,
		.default_value = "10s",
	},
	FO_FAULT_SCHEDULE_PROPS,
	{0},
};

static int check(struct fo_fault *f, struct fo_rgroup *g, struct fo_err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		int rc = fo_fault_need_network(f, &g->nodes[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

static int inject(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err)
{
	const struct fo_propset *ps = fo_fault_mctx(f)->props;
	char latency[32];
	snprintf(latency, sizeof(latency), "%lldus", (long long)(fo_props_duration_ns(ps, "latency", 0) / 1000));
	const char *rate = fo_props_str(ps, "rate", "1mbit");
	const char *burst = fo_props_str(ps, "burst", "32kb");
	const char *qdisc[] = {"tbf", "rate", rate, "burst", burst, "latency", latency, NULL};
	size_t nt;
	struct fo_node *const *t = fo_fault_targets(f, &nt);
	int rc = 0;
	for (size_t i = 0; i < nt && !rc; i++)
		rc = fo_fault_tc(f, t[i], qdisc, err);
	fo_buf_addf(detail, "rate %s", rate);
	return rc;
}

static const struct fo_fault_ops fault = {
	.verb = "throttle", .duration_prop = "duration", .check = check, .inject = inject};

static int setup(struct fo_mctx *m, struct fo_err *err)
{
	return fo_fault_setup(m, &fault, err);
}

static const struct fo_module_ops ops = {.setup = setup, .run = fo_fault_run, .teardown = fo_fault_teardown};

const struct fo_component fo_module_throttle = {
	.name = "throttle",
	.kind = FO_KIND_MODULE,
	.summary = "fault: limit the bandwidth nodes send for a while (tc tbf in the nodes' namespaces)",
	.description =
		"Limits what each target node sends to `rate` for `duration`, with a token-bucket qdisc "
		"(tc's `tbf`) as the root qdisc of the node's interface inside its network namespace. "
		"It limits what the node sends (its replies, its requests to others); to slow both "
		"directions between two nodes, throttle both. `burst` is how much may pass at once "
		"above the rate, `latency` how long a packet may queue before it is dropped. This "
		"kernel has no netem, so there is no added delay or loss.\n"
		"\n"
		"Needs nodes with a network namespace of their own (provisioner `netns`): on `local` "
		"nodes it refuses to run and fails the run, since fallout never changes this machine's "
		"own network. Needs `tc` (iproute2).\n"
		"\n"
		"History: `invoke`, an `info` \"inject throttle server/node0\" and an `info` \"heal "
		"throttle ...\" per fault (JSON with the nodes, the rate and the times), then `ok` or "
		"`fail`. The qdisc is always removed: at the end of the fault, at once on abort, and by "
		"`fallout cleanup` after a killed run (each is in the run's ledger before it is added).",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - slow_link:\n"
		   "        module: throttle\n"
		   "        properties:\n"
		   "          target.ordinals: 0\n"
		   "          rate: 1mbit\n"
		   "          duration: 30s\n",
	.props = props,
	.validate = fo_fault_validate,
	.module = &ops,
};
