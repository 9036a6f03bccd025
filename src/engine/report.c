/*
 * report.c: the run's own records in its folder: testrun.json (rewritten atomically at
 * every state change: a reader never sees half a file) and ensemble-summary.json.
 */
#include "util/common.h"

#include <jansson.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/internal.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"

static json_t *time_or_null(int64_t ns)
{
	if (!ns)
		return json_null();
	char buf[40];
	fo_format_time(ns, buf, sizeof(buf));
	return json_string(buf);
}

/* Writes j to dir/name through a temporary file and a rename. */
static int write_json_atomically(const char *dir, const char *name, json_t *j)
{
	struct fo_buf tmp = FO_BUF_INIT, path = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s/.%s.tmp", dir, name);
	fo_buf_addf(&path, "%s/%s", dir, name);
	int rc = json_dump_file(j, tmp.s, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 && rename(tmp.s, path.s) == 0
			 ? 0
			 : FO_EIO;
	if (rc)
		unlink(tmp.s);
	fo_buf_release(&tmp);
	fo_buf_release(&path);
	return rc;
}

static json_t *props_json(const struct fo_propset *ps)
{
	json_t *o = json_object();
	for (size_t i = 0; i < ps->n; i++) {
		const struct fo_propval *v = &ps->v[i];
		if (!v->node)
			continue;
		struct fo_buf b = FO_BUF_INIT;
		fo_yaml_emit_json(v->node, &b);
		json_t *val = json_loads(b.s, JSON_DECODE_ANY, NULL);
		json_object_set_new(o, v->prop->name, val ? val : json_string(b.s));
		fo_buf_release(&b);
	}
	return o;
}

int fo__write_testrun(struct fo_run *r)
{
	if (!r->dir)
		return 0;
	json_t *j = json_object();
	pthread_mutex_lock(&r->lock);
	json_object_set_new(j, "testName", json_string(r->test_name));
	json_object_set_new(j, "testRunId", json_string(r->id));
	json_object_set_new(j, "owner", json_string(r->owner));
	json_object_set_new(j, "state", json_string(fo_run_state_name(r->state)));
	json_object_set_new(j, "failedDuring", r->failure ? json_string(fo_run_state_name(r->failed_during)) : json_null());
	json_object_set_new(j, "failureReason", r->failure ? json_string(r->failure) : json_null());
	json_object_set_new(j, "createdAt", time_or_null(r->created_at));
	json_object_set_new(j, "startedAt", time_or_null(r->started_at));
	json_object_set_new(j, "finishedAt", time_or_null(r->finished_at));
	json_object_set_new(j, "definition", json_stringn(r->def->text, r->def->text_len));
	if (r->definition_file)
		json_object_set_new(j, "definitionFile", json_string(r->definition_file));
	json_t *params = json_loads(r->params_json ? r->params_json : "{}", 0, NULL);
	json_object_set_new(j, "templateParams", params ? params : json_object());
	json_t *checks = json_array();
	for (size_t i = 0; i < r->nverdicts; i++) {
		const struct fo_verdict *v = &r->verdicts[i];
		json_t *o = json_object();
		json_object_set_new(o, "alias", json_string(v->alias));
		json_object_set_new(o, "checker", json_string(v->checker));
		json_object_set_new(o, "kind", json_string(v->artifact ? "artifact_checker" : "checker"));
		json_object_set_new(o, "passed", json_boolean(v->passed));
		json_object_set_new(o, "message", json_string(v->message));
		json_array_append_new(checks, o);
	}
	json_t *results = json_object();
	json_object_set_new(results, "checkers", checks);
	json_object_set_new(j, "results", results);
	json_t *notes = json_array();
	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(j, "notes", notes);
	pthread_mutex_unlock(&r->lock);
	int rc = write_json_atomically(r->dir, "testrun.json", j);
	json_decref(j);
	return rc;
}

int fo__write_ensemble_summary(struct fo_run *r)
{
	json_t *groups = json_array();
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct fo_rgroup *g = &r->groups[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(g->spec->name));
		json_t *roles = json_array();
		for (int k = 0; k < FO__ROLE_COUNT; k++)
			if (g->spec->roles & (1u << k))
				json_array_append_new(roles, json_string(fo_role_name((enum fo_role)k)));
		json_object_set_new(o, "roles", roles);
		json_object_set_new(o, "nodeCount", json_integer((json_int_t)g->n));
		json_object_set_new(o, "runlevel", json_string(fo_runlevel_name(g->state)));
		json_object_set_new(o, "launchRunlevel", json_string(fo_runlevel_name(g->spec->launch)));
		json_object_set_new(o, "finalRunlevel", json_string(fo_runlevel_name(g->spec->final)));
		json_object_set_new(o, "markForReuse", json_boolean(g->spec->mark_for_reuse));
		json_object_set_new(o, "reused", json_boolean(g->reused));
		json_t *prov = json_object();
		json_object_set_new(prov, "name", json_string(g->spec->provisioner.comp ? g->spec->provisioner.comp->name : ""));
		json_object_set_new(prov, "properties", props_json(&g->spec->provisioner));
		json_object_set_new(o, "provisioner", prov);
		json_t *cms = json_array();
		for (size_t c = 0; c < g->spec->ncms; c++) {
			json_t *cm = json_object();
			json_object_set_new(cm, "name", json_string(g->spec->cms[c].comp->name));
			json_object_set_new(cm, "properties", props_json(&g->spec->cms[c]));
			json_array_append_new(cms, cm);
		}
		json_object_set_new(o, "configurationManagers", cms);
		json_t *nodes = json_array();
		for (size_t k = 0; k < g->n; k++) {
			json_t *n = json_object();
			json_object_set_new(n, "name", json_string(g->nodes[k].name));
			json_object_set_new(n, "ordinal", json_integer(g->nodes[k].ordinal));
			json_object_set_new(n, "address", json_string(g->nodes[k].address));
			json_array_append_new(nodes, n);
		}
		json_object_set_new(o, "nodes", nodes);
		json_array_append_new(groups, o);
	}
	json_t *j = json_object();
	json_object_set_new(j, "testRunId", json_string(r->id));
	json_object_set_new(j, "groups", groups);
	int rc = write_json_atomically(r->dir, "ensemble-summary.json", j);
	json_decref(j);
	return rc;
}
