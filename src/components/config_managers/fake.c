/*
 * fake.c: the `fake` configuration manager: a dry-run configuration manager
 * whose every step succeeds, one of Fallout's test components shipped as a helper.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"

/*
 * Every step succeeds (missing hooks do). Asked for the state, it reports the group's own
 * when that is a runlevel, and UNKNOWN (no opinion, so the provisioner's answer stands)
 * while the group is UNKNOWN, FAILED or between runlevels.
 */
static int check_state(struct fo_rgroup *g, const struct fo_propset *ps, enum fo_runlevel *out, struct fo_err *err)
{
	*out = fo_runlevel_is_stable(g->state) ? g->state : FO_RL_UNKNOWN;
	return 0;
}

static const struct fo_cm_ops ops = {.check_state = check_state};

const struct fo_component fo_config_manager_fake = {
	.name = "fake",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "dry run: every step succeeds and nothing is installed",
	.description =
		"A configuration manager that pretends: configuring, starting and stopping services, "
		"and unconfiguring all succeed at once and change nothing. Pair it with the `fake` "
		"provisioner to walk a test through every runlevel without real nodes, for instance "
		"to check `runlevel` modules and checkers.\n"
		"\n"
		"Fallout compatibility: this is Fallout's test-only `fake` configuration manager, "
		"shipped here as a documented helper.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 1\n"
		   "    provisioner: fake\n"
		   "    configuration_manager:\n"
		   "      - name: fake\n",
	.cm = &ops,
};
