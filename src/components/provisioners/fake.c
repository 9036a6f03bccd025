/*
 * fake.c: the `fake` provisioner, a dry-run provisioner whose every step succeeds without
 * touching anything, for checking a test's shape and for fallout's own tests (it is one of
 * Fallout's test components, shipped as a documented helper). Nodes get 127.0.0.1;
 * commands and services are logged to the node's log ("fake: would run: ...") and never
 * run. Its nodes exist only in the run, so a cluster kept between runs (mark_for_reuse)
 * is "found" from the cluster record the engine writes (STATE/clusters/NAME/runlevel):
 * there is nothing else to ask.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/ledger.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/definition.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

static int fake_reserve(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	for (size_t i = 0; i < g->n; i++)
		snprintf(g->nodes[i].address, sizeof(g->nodes[i].address), "127.0.0.1");
	return 0;
}

static int fake_step(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	return 0;
}

static int fake_destroy(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	if (g->spec->mark_for_reuse)
		return fo_cluster_forget(fo_cluster_name(g->spec), err);
	return 0;
}

static int fake_check_state(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel *out,
			    struct fo_err *err)
{
	if (g->state != FO_RL_UNKNOWN) {
		*out = g->state;
		return 0;
	}
	enum fo_runlevel kept;
	if (g->spec->mark_for_reuse && fo_cluster_load_state(fo_cluster_name(g->spec), &kept) == 0)
		*out = kept;
	else
		*out = FO_RL_DESTROYED;
	return 0;
}

static void log_argv(struct fo_node *n, const char *what, const char *name, const struct fo_cmd *cmd)
{
	struct fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; cmd && cmd->argv && cmd->argv[i]; i++)
		fo_buf_addf(&b, "%s%s", i ? " " : "", cmd->argv[i]);
	fo_info(n->log, "fake: would %s%s%s%s: %s", what, name ? " '" : "", name ? name : "", name ? "'" : "", b.s);
	fo_buf_release(&b);
}

static int fake_exec(struct fo_node *n, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err)
{
	log_argv(n, "run", NULL, cmd);
	if (res)
		*res = (struct fo_cmd_result){.exit_code = 0};
	return 0;
}

static int fake_start_service(struct fo_node *n, const char *name, const struct fo_cmd *cmd, struct fo_err *err)
{
	log_argv(n, "start service", name, cmd);
	return 0;
}

static int fake_stop_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	fo_info(n->log, "fake: would stop service '%s'", name);
	return 0;
}

static int fake_collect(struct fo_node *n, const char *path, const char *dest, struct fo_err *err)
{
	fo_info(n->log, "fake: would collect '%s'", path);
	return 0;
}

static const struct fo_provisioner_ops ops = {
	.reserve = fake_reserve,
	.create = fake_step,
	.prepare = fake_step,
	.start = fake_step,
	.stop = fake_step,
	.destroy = fake_destroy,
	.check_state = fake_check_state,
	.exec = fake_exec,
	.start_service = fake_start_service,
	.stop_service = fake_stop_service,
	.collect = fake_collect,
};

static const struct fo_prop props[] = {
	{
		.name = "name",
		.description = "The name of the cluster, shown in logs and the ensemble summary. Default: "
			       "generated from the test and run.",
		.type = FO_PT_STRING,
	},
	{0},
};

const struct fo_component fo_provisioner_fake = {
	.name = "fake",
	.kind = FO_KIND_PROVISIONER,
	.summary = "dry run: every step succeeds and nothing is started",
	.description =
		"A provisioner that pretends. Reserving, creating, starting, stopping and destroying "
		"nodes all succeed at once and do nothing; every node gets the address 127.0.0.1. "
		"Commands and services on a fake node are not run: each is written to the node's log "
		"as `fake: would run: ...` and reported as succeeded (exit status 0), so use it with "
		"modules that do not depend on what the nodes do (`fake`, `text`, `sleep`, `noop`, "
		"`runlevel`...). When asked what state an unknown group is in, it answers DESTROYED "
		"(or, for a cluster kept with mark_for_reuse, the runlevel an earlier run left it at); "
		"otherwise it keeps the state it was told.\n"
		"\n"
		"Use it to check that a test definition is well formed and its phases run in the order "
		"you mean, before spending time on real nodes.\n"
		"\n"
		"Fallout compatibility: this is Fallout's test-only `fake` provisioner, shipped here as a "
		"documented helper.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 1\n"
		   "    provisioner:\n"
		   "      name: fake\n"
		   "    configuration_manager:\n"
		   "      - name: fake\n"
		   "  client: server\n",
	.props = props,
	.provisioner = &ops,
};
