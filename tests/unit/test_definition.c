/*
 * test_definition.c: a definition loads into the model a run needs: implicit and aliased
 * groups, shared property bags, runlevels, phases to any depth with lifetimes, checkers,
 * local_files and references; and parameters beat defaults.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "spec/definition.h"
#include "spec/files.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/diag.h"

static struct fo_def *load_ok(const char *text, const struct fo_def_opts *o)
{
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def *def = NULL;
	int rc = fo_def_load_text("t.yaml", text, strlen(text), o, &def, &d);
	if (rc)
		fo_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	fo_diags_release(&d);
	return def;
}

static void load_bad(const char *text, const char *needle, int line)
{
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def *def = NULL;
	assert_int_equal(fo_def_load_text("t.yaml", text, strlen(text), NULL, &def, &d), FO_EDEFINITION);
	assert_null(def);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, needle) && (line == 0 || d.v[i].line == line))
			found = true;
	if (!found)
		fo_diags_print(&d, stderr);
	assert_true(found);
	fo_diags_release(&d);
}

static void no_ensemble_means_implicit_local_groups(void **state)
{
	(void)state;
	struct fo_def *def = load_ok("workload:\n  phases:\n    - a:\n        module: noop\n", NULL);
	assert_int_equal(def->ngroups, 3);
	const struct fo_group *s = fo_def_role_group(def, FO_ROLE_SERVER);
	assert_ptr_equal(s, fo_def_role_group(def, FO_ROLE_CLIENT));
	assert_true(s->implicit);
	assert_int_equal(s->node_count, 1);
	assert_string_equal(s->provisioner.comp->name, "local");
	assert_string_equal(fo_def_role_group(def, FO_ROLE_OBSERVER)->name, "observer");
	assert_string_equal(fo_def_role_group(def, FO_ROLE_CONTROLLER)->name, "controller");
	assert_int_equal(s->launch, FO_RL_STARTED_SERVICES_RUNNING);
	assert_int_equal(s->final, FO_RL_DESTROYED);
	fo_def_free(def);
}

static const char ensemble[] = "ensemble:\n"
			       "  Server:\n"
			       "    name: db\n"
			       "    node.count: 3\n"
			       "    runlevel: started_services_configured\n"
			       "    provisioner:\n"
			       "      name: Local\n"
			       "    configuration_manager:\n"
			       "      - name: remote_files\n"
			       "        properties:\n"
			       "          files:\n"
			       "            - path: conf/app.conf\n"
			       "              data: x=1\n"
			       "      - fake\n"
			       "  client: server\n"
			       "  observer: none\n"
			       "  local_files:\n"
			       "    - path: data.csv\n"
			       "      data: a,b\n"
			       "workload:\n"
			       "  phases:\n"
			       "    - load:\n"
			       "        module: bash\n"
			       "        properties:\n"
			       "          script: cat <<file:data.csv>> <<provider:db:2:local:address>>\n"
			       "          target.group: db\n"
			       "      background:\n"
			       "        module: sleep\n"
			       "        properties:\n"
			       "          duration: 5ms\n"
			       "          lifetime: run_to_end_of_phase\n"
			       "      nested:\n"
			       "        - first:\n"
			       "            module: text\n"
			       "            properties: {text: a}\n"
			       "        - second:\n"
			       "            module: text\n"
			       "            properties: {text: b}\n"
			       "  checkers:\n"
			       "    ok:\n"
			       "      checker: nofail\n"
			       "  artifact_checkers:\n"
			       "    logs:\n"
			       "      artifact_checker: regex\n"
			       "      properties:\n"
			       "        node_group: db\n"
			       "        files: '.*\\.log'\n"
			       "        forbidden: [panic]\n";

static void a_full_ensemble_and_workload(void **state)
{
	(void)state;
	struct fo_def *def = load_ok(ensemble, NULL);
	const struct fo_group *g = fo_def_group(def, "db");
	assert_non_null(g);
	assert_int_equal(g->roles, (1u << FO_ROLE_SERVER) | (1u << FO_ROLE_CLIENT));
	assert_int_equal(g->node_count, 3);
	assert_int_equal(g->launch, FO_RL_STARTED_SERVICES_CONFIGURED);
	assert_int_equal(g->ncms, 2);
	assert_string_equal(g->cms[0].comp->name, "remote_files");
	assert_string_equal(g->cms[1].comp->name, "fake");
	const struct fo_propval *files = fo_props_get(&g->cms[0], "files");
	assert_int_equal(files->nfiles, 1);
	assert_string_equal(files->files[0].path, "conf/app.conf");
	assert_true(fo_def_role_group(def, FO_ROLE_OBSERVER)->implicit);
	assert_int_equal(def->nfiles, 1);
	assert_string_equal(def->files[0].path, "data.csv");

	assert_int_equal(def->nphases, 1);
	const struct fo_phase *ph = &def->phases[0];
	assert_int_equal(ph->n, 3);
	assert_string_equal(ph->entries[0].alias, "load");
	assert_true(ph->entries[0].is_module);
	assert_string_equal(fo_props_str(&ph->entries[0].module, "target.group", ""), "db");
	assert_int_equal(ph->entries[1].lifetime, FO_LIFETIME_PHASE);
	assert_int_equal(fo_props_duration_ns(&ph->entries[1].module, "duration", 0), 5000000);
	assert_false(ph->entries[2].is_module);
	assert_int_equal(ph->entries[2].nsub, 2);
	assert_string_equal(ph->entries[2].sub[1].entries[0].alias, "second");
	assert_int_equal(def->nchecks, 1);
	assert_string_equal(def->checkers[0].props.comp->name, "nofail");
	assert_int_equal(def->nartifact_checks, 1);
	fo_def_free(def);
}

static void parameters_beat_defaults(void **state)
{
	(void)state;
	struct fo_arena *a = fo_arena_new();
	struct fo_ynode *params = NULL;
	assert_int_equal(fo_params_add_arg(a, &params, "n=4", NULL), 0);
	assert_int_equal(fo_params_add_arg(a, &params, "n=5", NULL), 0); /* the last one wins */
	struct fo_def_opts o = {.params = params};
	struct fo_def *def = load_ok("n: 2\nm: noop\n---\nensemble:\n  server:\n    node.count: {{n}}\n"
				     "    provisioner: fake\n  client: server\nworkload:\n  phases:\n"
				     "    - a:\n        module: {{m}}\n",
				     &o);
	assert_int_equal(def->groups[0].node_count, 5);
	assert_string_equal(def->phases[0].entries[0].module.comp->name, "noop");
	fo_def_free(def);
	struct fo_err err = {0};
	assert_int_equal(fo_params_add_arg(a, &params, "=x", &err), FO_EINVAL);
	assert_int_equal(fo_params_add_arg(a, &params, "a b=x", NULL), FO_EINVAL);
	fo_arena_free(a);
}

static void ensemble_rules(void **state)
{
	(void)state;
	const char *w = "workload:\n  phases:\n    - a:\n        module: noop\n";
	char buf[1024];
	snprintf(buf, sizeof(buf), "ensemble:\n  server:\n    node.count: 1\n    provisioner: fake\n%s", w);
	load_bad(buf, "the ensemble needs a 'client' node group", 2);
	snprintf(buf, sizeof(buf), "ensemble:\n  server:\n    node.count: 2000\n    provisioner: fake\n  client: server\n%s", w);
	load_bad(buf, "'node.count' of node group 'server' must be a whole number from 1 to 1024", 3);
	snprintf(buf, sizeof(buf), "ensemble:\n  server:\n    node.count: 1\n  client: server\n%s", w);
	load_bad(buf, "node group 'server' needs a 'provisioner'", 3);
	snprintf(buf, sizeof(buf),
		 "ensemble:\n  server:\n    node.count: 1\n    provisioner: fake\n    mark_for_reuse: true\n"
		 "    runlevel.final: STOPPED\n  client: server\n%s",
		 w);
	load_bad(buf, "has both 'mark_for_reuse' and 'runlevel.final'", 6);
	snprintf(buf, sizeof(buf),
		 "ensemble:\n  server:\n    node.count: 1\n    provisioner: fake\n    runlevel: RUNNING\n  client: server\n%s", w);
	load_bad(buf, "not a runlevel", 5);
	snprintf(buf, sizeof(buf),
		 "ensemble:\n  server:\n    node.count: 1\n    provisioner: fake\n  client:\n    name: server\n"
		 "    node.count: 1\n    provisioner: fake\n%s",
		 w);
	load_bad(buf, "duplicate node group name 'server'", 0);
	snprintf(buf, sizeof(buf),
		 "ensemble:\n  server:\n    node.count: 1\n    provisioner: fake\n    colour: red\n  client: server\n%s", w);
	load_bad(buf, "found invalid yaml keys below nodegroup server: [colour]", 5);
	snprintf(buf, sizeof(buf),
		 "ensemble:\n  servers:\n    - node.count: 1\n      provisioner: fake\n    - node.count: 2\n"
		 "      provisioner: fake\n  client: server2\n%s",
		 w);
	struct fo_def *def = load_ok(buf, NULL);
	assert_string_equal(def->groups[1].name, "server2");
	assert_true(def->groups[1].roles & (1u << FO_ROLE_CLIENT));
	fo_def_free(def);
}

static void shared_property_bag(void **state)
{
	(void)state;
	const char *w = "workload:\n  phases:\n    - a:\n        module: noop\n";
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "ensemble:\n  server:\n    node.count: 1\n    provisioner:\n      name: local\n      properties:\n"
		 "        bogus.key: 1\n  client: server\n%s",
		 w);
	load_bad(buf, "unknown property 'bogus.key' of node group 'server'", 7);
}

static void references(void **state)
{
	(void)state;
	load_bad("workload:\n  phases:\n    - a:\n        module: bash\n        properties:\n"
		 "          script: echo <<provider:server:3:local:address>>\n",
		 "names node 3 of group 'server', which has 1 node", 6);
	load_bad("workload:\n  phases:\n    - a:\n        module: bash\n        properties:\n"
		 "          script: echo <<provider:nope:0:local:address>>\n",
		 "names node group 'nope', which does not exist", 6);
	load_bad("workload:\n  phases:\n    - a:\n        module: bash\n        properties:\n"
		 "          script: echo <<secret:bad name>>\n",
		 "secret", 6);
}

static void workload_rules(void **state)
{
	(void)state;
	load_bad("workload:\n  phases: []\n", "a list of phases must not be empty", 2);
	load_bad("workload:\n  checkers: {}\n", "the workload needs 'phases'", 2);
	load_bad("ensemble: {}\n", "the definition needs a 'workload'", 1);
	load_bad("workload:\n  phases:\n    - a: 3\n", "'a' must be a module", 3);
	load_bad("workload:\n  phases:\n    - a:\n        module: sleep\n        properties:\n          lifetime: forever\n"
		 "          duration: 1s\n",
		 "'lifetime' of module 'a' must be run_once", 6);
	load_bad("workload:\n  phases:\n    - a:\n        module: noop\n  checkers:\n    c:\n      checker: nofial\n",
		 "unknown checker 'nofial' (did you mean 'nofail'?)", 7);
	load_bad("workload:\n  phases:\n    - a:\n        properties: {}\n", "module entry 'a' needs 'module: NAME'", 4);
	load_bad("- a\n- b\n", "a test definition must be a map", 1);
}

static void defaults_document_must_be_a_map(void **state)
{
	(void)state;
	load_bad("- x\n---\nworkload:\n  phases:\n    - a:\n        module: noop\n",
		 "the first document holds the template defaults", 1);
	/* Documents in between are ignored; the last one is the definition. */
	struct fo_def *def = load_ok("a: noop\n---\nignored: [\n---\nworkload:\n  phases:\n    - a:\n        module: {{a}}\n",
				     NULL);
	assert_int_equal(def->phases[0].entries[0].pos.line, 7);
	fo_def_free(def);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_ensemble_means_implicit_local_groups),
		cmocka_unit_test(a_full_ensemble_and_workload),
		cmocka_unit_test(parameters_beat_defaults),
		cmocka_unit_test(ensemble_rules),
		cmocka_unit_test(shared_property_bag),
		cmocka_unit_test(references),
		cmocka_unit_test(workload_rules),
		cmocka_unit_test(defaults_document_must_be_a_map),
	};
	return cmocka_run_group_tests_name("definition", tests, NULL, NULL);
}
