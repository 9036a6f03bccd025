/*
 * module_common.c: helpers shared by the modules that drive a tool from a group's nodes
 * (see module_common.h).
 */
#include "util/common.h"

#include "components/modules/module_common.h"

#include <pthread.h>
#include <stdbool.h>
#include <strings.h>

#include "components/component.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "spec/yaml.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/strutil.h"

struct fo_rgroup *fo__module_group(struct fo_mctx *m, const char *gname)
{
	struct fo_rgroup *g = fo_run_group(m->run, gname);
	if (!g || g->n == 0) {
		fo_emit(m, FO_OP_INVOKE, gname);
		fo_emitf(m, FO_OP_FAIL, "there is no node group '%s'", gname);
		return NULL;
	}
	return g;
}

void fo__module_add_nodes(struct fo_buf *b, const struct fo_rgroup *g)
{
	fo_buf_addf(b, "%s:", g->spec->name);
	for (size_t i = 0; i < g->n; i++)
		fo_buf_addf(b, "%s %s", i ? "," : "", g->nodes[i].name);
}

int fo__module_select_nodes(struct fo_rgroup *g, const struct fo_propval *ords, struct fo_node ***sel,
			    size_t *nsel, struct fo_err *err)
{
	bool all = !ords || !ords->set || ords->nlist == 0;
	for (size_t i = 0; !all && i < ords->nlist; i++)
		all = strcasecmp(ords->list[i], "all") == 0;
	bool *want = fo_calloc(g->n + 1, sizeof(*want));
	for (size_t i = 0; i < g->n; i++)
		want[i] = all;
	for (size_t i = 0; !all && i < ords->nlist; i++) {
		int64_t o;
		if (!fo_parse_i64(ords->list[i], &o) || o < 0 || (uint64_t)o >= g->n) {
			fo_free(want);
			return fo_err_set(err, FO_EINVAL, "node ordinal '%s' is out of range: group '%s' has %zu node%s",
					  ords->list[i], g->spec->name, g->n, g->n == 1 ? "" : "s");
		}
		want[o] = true;
	}
	*sel = fo_calloc(g->n + 1, sizeof(**sel));
	*nsel = 0;
	for (size_t i = 0; i < g->n; i++)
		if (want[i])
			(*sel)[(*nsel)++] = &g->nodes[i];
	fo_free(want);
	return 0;
}

size_t fo__module_validate_ordinals(const struct fo_propset *ps, struct fo_diags *d, bool *all)
{
	const struct fo_propval *v = fo_props_get(ps, "target.ordinals");
	size_t listed = 0;
	bool any = !v || !v->set || !v->list;
	if (v && v->set && v->list) {
		const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
		for (size_t i = 0; i < v->nlist; i++) {
			int64_t n;
			if (strcasecmp(v->list[i], "all") == 0)
				any = true;
			else if (!fo_parse_i64(v->list[i], &n) || n < 0)
				fo_diags_error(d, pos,
					       "property 'target.ordinals' of module '%s' must list node numbers "
					       "(from 0) or 'all', not '%s'",
					       ps->alias ? ps->alias : ps->comp->name, v->list[i]);
			else
				listed++;
		}
	}
	if (all)
		*all = any;
	return listed;
}

int fo__module_target(struct fo_mctx *m, struct fo_node *node, const char *prop, const char *provider,
		      const char *fact, const char *missing, struct fo_buf *out, struct fo_err *err)
{
	const char *t = fo_props_str(m->props, prop, NULL);
	if (t)
		return fo_run_expand(m->run, node, t, out, err);
	struct fo_rgroup *sg = fo_run_group(m->run, "server");
	const char *f = sg && sg->n ? fo_node_fact(&sg->nodes[0], provider, fact) : NULL;
	if (!f)
		return fo_err_set(err, FO_ENOTFOUND, "%s", missing);
	fo_buf_adds(out, f);
	return 0;
}

void *fo__module_exec_job(void *job)
{
	struct fo__module_job *j = job;
	struct fo_cmd cmd = {
		.argv = j->argv,
		.cwd = j->node->dir,
		.log_path = j->node->log ? fo_log_path(j->node->log) : NULL,
		.log_prefix = j->log_prefix,
		.timeout_ns = j->timeout_ns,
		.capture = &j->out,
	};
	j->rc = fo_node_exec(j->node, &cmd, &j->res, &j->err);
	return NULL;
}

struct fo__module_job *fo__module_jobs_new(struct fo_rgroup *g, const char *const *argv, const char *log_prefix,
					   int64_t timeout_ns, size_t capture_max)
{
	struct fo__module_job *jobs = fo_calloc(g->n + 1, sizeof(*jobs));
	for (size_t i = 0; i < g->n; i++) {
		jobs[i] = (struct fo__module_job){
		    .node = &g->nodes[i], .argv = argv, .log_prefix = log_prefix, .timeout_ns = timeout_ns};
		fo_buf_init(&jobs[i].out, capture_max);
	}
	return jobs;
}

void fo__module_jobs_free(struct fo__module_job *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++)
		fo_buf_release(&jobs[i].out);
	fo_free(jobs);
}

const char *fo__module_job_failure(const struct fo__module_job *j, const char *tool, char *tmp, size_t n)
{
	if (j->rc)
		snprintf(tmp, n, "could not run %s: %s", tool, j->err.msg);
	else if (j->res.timed_out)
		snprintf(tmp, n, "%s timed out", tool);
	else if (j->res.exit_code != 0 || j->res.signal)
		snprintf(tmp, n, "%s ended with status %d%s", tool, j->res.exit_code, j->res.signal ? " (killed)" : "");
	else
		return NULL;
	return tmp;
}

void fo__module_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *))
{
	if (n == 0)
		return;
	char *job = jobs;
	pthread_t *tids = fo_calloc(n, sizeof(*tids));
	bool *started = fo_calloc(n, sizeof(*started));
	for (size_t i = 1; i < n; i++)
		started[i] = pthread_create(&tids[i], NULL, fn, job + i * size) == 0;
	fn(job);
	for (size_t i = 1; i < n; i++) {
		if (started[i])
			pthread_join(tids[i], NULL);
		else
			fn(job + i * size);
	}
	fo_free(tids);
	fo_free(started);
}
