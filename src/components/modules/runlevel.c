/*
 * runlevel.c: the `runlevel` module: moves a node group to another runlevel
 * in the middle of a workload (stop its services, start them again...).
 */
#include "util/common.h"

#include "components/component.h"
#include "spec/props.h"
#include "util/diag.h"
#include "engine/run.h"

static const struct fo_prop props[] = {
	{
		.name = "runlevel",
		.description = "The runlevel to move the group to.",
		.type = FO_PT_RUNLEVEL,
		.required = true,
		FO_OPTIONS("DESTROYED", "STOPPED", "STARTED_SERVICES_UNCONFIGURED", "STARTED_SERVICES_CONFIGURED",
			   "STARTED_SERVICES_RUNNING"),
	},
	{
		.name = "role",
		.description = "Move the group playing this role.",
		.type = FO_PT_ROLE,
		FO_OPTIONS("server", "client", "observer", "controller"),
	},
	{
		.name = "node_group",
		.description = "The name of the group to move, when several groups share a role.",
		.type = FO_PT_GROUP,
	},
	{0},
};

/* The group is named by its role, its name, or both. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *role = fo_props_get(ps, "role");
	const struct fo_propval *group = fo_props_get(ps, "node_group");
	if ((!role || !role->set) && (!group || !group->set))
		fo_diags_error(d, &ps->pos, "module '%s' needs 'role' or 'node_group' to say which group to move",
			       ps->alias ? ps->alias : ps->comp->name);
}

/*
 * Moves the group, refusing to go down to STARTED_SERVICES_UNCONFIGURED or below from a
 * configured state (as Fallout does: that would lose artifacts before collection). The
 * ok's value is the runlevel's name, which the `runlevel` checker compares.
 */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	const char *name = fo_props_str(m->props, "node_group", NULL);
	if (!name)
		name = fo_props_str(m->props, "role", "server");
	const char *level = fo_props_str(m->props, "runlevel", "");
	enum fo_runlevel target;
	if (fo_runlevel_parse(level, &target) != 0) {
		fo_emit(m, FO_OP_INVOKE, level);
		fo_emitf(m, FO_OP_FAIL, "'%s' is not a runlevel", level);
		return 0;
	}
	fo_emit(m, FO_OP_INVOKE, fo_runlevel_name(target));
	struct fo_rgroup *g = fo_run_group(m->run, name);
	if (!g) {
		fo_emitf(m, FO_OP_FAIL, "there is no node group '%s'", name);
		return 0;
	}
	const char *gname = g->spec->name;
	struct fo_err terr = {0};
	int rc = fo_rgroup_transition_keeping_artifacts(g, target, &terr);
	if (rc == FO_EUNSUPPORTED) {
		fo_error(fo_run_log(m->run), "module '%s' %s", m->alias, terr.msg);
		fo_emit(m, FO_OP_FAIL, terr.msg);
		return 0;
	}
	if (rc != 0) {
		fo_emitf(m, FO_OP_FAIL, "could not move group '%s' to %s: %s", gname, fo_runlevel_name(target),
			 terr.code ? terr.msg : "a step failed");
		return 0;
	}
	fo_emit(m, FO_OP_OK, fo_runlevel_name(target));
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_runlevel = {
	.name = "runlevel",
	.kind = FO_KIND_MODULE,
	.summary = "move a node group to another runlevel during the workload",
	.description =
		"Emits `invoke`, moves the group named by `role` and/or `node_group` to `runlevel` one "
		"step at a time, then emits `ok` with the runlevel reached as its value (which the "
		"`runlevel` checker compares), or `fail` if a step failed. Use it to stop and restart "
		"a system's services mid-test, or to bring a group up late.\n"
		"\n"
		"Going down to STARTED_SERVICES_UNCONFIGURED or below from a higher runlevel is refused "
		"with `fail`: unconfiguring or stopping the nodes would lose their logs and other "
		"artifacts before they are collected. Move down only as far as "
		"STARTED_SERVICES_CONFIGURED; teardown takes care of the rest.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `runlevel`, except that `role` is optional "
		"when `node_group` names the group (Fallout requires `role`).",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    runlevel: STARTED_SERVICES_UNCONFIGURED\n"
		   "    provisioner: local\n"
		   "  client: server\n"
		   "workload:\n"
		   "  phases:\n"
		   "    - start_services:\n"
		   "        module: runlevel\n"
		   "        properties:\n"
		   "          role: server\n"
		   "          runlevel: STARTED_SERVICES_RUNNING\n"
		   "  checkers:\n"
		   "    verify_runlevels:\n"
		   "      checker: runlevel\n"
		   "      properties:\n"
		   "        runlevels: STARTED_SERVICES_RUNNING\n",
	.props = props,
	.validate = validate,
	.module = &ops,
};
