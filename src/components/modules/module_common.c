/*
 * module_common.c: helpers shared by the modules that drive a tool from a group's nodes
 * (see module_common.h).
 */
#include "util/common.h"

#include "components/modules/module_common.h"

#include <pthread.h>
#include <stdbool.h>

#include "components/component.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

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
