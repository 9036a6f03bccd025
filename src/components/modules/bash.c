/*
 * bash.c: the `bash` module's descriptor: Fallout's script module, which runs a bash
 * script on the nodes of a group (the controller group included) and turns its exit
 * status into an operation.
 */
#include "util/common.h"

#include "components/component.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/diag.h"
#include "util/strutil.h"

static const struct fo_prop props[] = {
	{
		.name = "script",
		.description = "The script to run. It is written to a file on each node and run with bash, "
			       "or with the interpreter its first line names (#!/usr/bin/env python3...). "
			       "May use <<file:PATH>>, <<secret:NAME>> and <<provider:...>> references.",
		.type = FO_PT_STRING,
		.required = true,
	},
	{
		.name = "target.group",
		.description = "The node group to run on; `controller` runs it on the machine fallout runs "
			       "on.",
		.type = FO_PT_GROUP,
		.default_value = "server",
		.options = (const char *const[]){"server", "client", "controller", NULL},
		.suggestions_only = true,
		.deprecated_name = "server_group",
	},
	{
		.name = "target.ordinals",
		.description = "Which nodes of the group run the script: node ordinals counted from 0, "
			       "e.g. `0,2`, or `all`.",
		.type = FO_PT_STRLIST,
		.default_value = "all",
	},
	{
		.name = "env.vars",
		.description = "Environment variables for the script, a map of names to values. Values "
			       "from <<secret:NAME>> are replaced by <redacted> in every log.",
		.type = FO_PT_MAP,
	},
	{
		.name = "export",
		.description = "Names of variables of fallout's own environment to pass to the script "
			       "(HOME, PATH and the FALLOUT_* variables always are).",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "timeout",
		.description = "How long the script may run on a node before it is killed and the "
			       "module fails.",
		.type = FO_PT_DURATION,
		.default_value = "1h",
	},
	{0},
};

/* Every ordinal is `all` or a node number. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *v = fo_props_get(ps, "target.ordinals");
	if (!v || !v->set || !v->list)
		return;
	const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
	for (size_t i = 0; i < v->nlist; i++) {
		const char *s = v->list[i];
		int64_t n;
		if (strcasecmp(s, "all") == 0)
			continue;
		if (!fo_parse_i64(s, &n) || n < 0)
			fo_diags_error(d, pos,
				       "property 'target.ordinals' of module '%s' must list node numbers "
				       "(from 0) or 'all', not '%s'",
				       ps->alias ? ps->alias : ps->comp->name, s);
	}
}

const struct fo_component fo_module_bash = {
	.name = "bash",
	.kind = FO_KIND_MODULE,
	.summary = "run a bash script on the nodes of a group, or on the controller",
	.description =
		"Runs `script` on every selected node of `target.group` at the same time and waits "
		"for all of them. It emits `invoke` when it starts, then `ok` when the script exited "
		"with status 0 on every node, or `fail` naming each node where it exited with another "
		"status, was killed, or ran past `timeout`. The script's output goes to the node's "
		"log (fallout-node.log), never into the operations history.\n"
		"\n"
		"The script runs in the node's folder with a small environment: HOME, PATH, the "
		"variables listed in `export`, `env.vars`, and FALLOUT_NODE_ORDINAL, FALLOUT_NODE_GROUP "
		"and FALLOUT_NODE_ADDRESS describing the node. With `lifetime: run_to_end_of_phase` it "
		"runs again and again until the phase's other modules finish, which suits "
		"background load or periodic checks.\n"
		"\n"
		"Fallout compatibility: Fallout's `bash` module; tests using `script` and `env.vars` "
		"run unchanged. The FALLOUT_NODE_* variables are ours.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - prepare:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: server\n"
		   "          target.ordinals: 0\n"
		   "          env.vars:\n"
		   "            GREETING: hello\n"
		   "          script: |\n"
		   "            echo \"$GREETING from node $FALLOUT_NODE_ORDINAL\"\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n",
	.props = props,
	.validate = validate,
};
