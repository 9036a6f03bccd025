/*
 * phases.c: the phase runner (FALLOUT-FORMAT.md 1.5 and 3).
 *
 * A list of phases runs in order. The entries of one phase run at the same time, one
 * thread each: a module, or a list of sub-phases (itself run in order, to any depth).
 * A module with lifetime `phase` repeats until every run-once module of its phase,
 * sub-phases included, has finished; each phase keeps a count of its run-once modules
 * still going, and a finishing module counts down every phase that encloses it.
 *
 * Around each module the harness records `start`, then (after the module) `end` and an
 * `info` "completed"; an error in a module, or a run-once module that emitted nothing,
 * becomes an `error` operation. After an abort nothing new starts.
 */
#include "util/common.h"

#include <pthread.h>
#include <stdatomic.h>

#include "components/component.h"
#include "engine/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

/* One phase (an item of a phases list) while it runs. */
struct phase_run {
	struct phase_run *parent;    /* the phase enclosing this one's list, or NULL */
	pthread_mutex_t lock;
	int once_left;               /* run-once modules of this phase (and below) not finished */
};

struct entry_job {
	struct fo_run *run;
	const struct fo_phase_entry *e;
	struct phase_run *phase;
	char *path;                  /* "phase/sub/alias", for progress */
};

/* A module instance: the context modules see, plus what the harness counts. */
struct module_ctx {
	struct fo_mctx m;
	atomic_size_t emitted;
};

static int run_list(struct fo_run *r, const struct fo_phase *phases, size_t n, struct phase_run *parent,
		    const char *path);

/* Counts the run-once modules of a phase, sub-phases included. */
static int count_once(const struct fo_phase *ph)
{
	int k = 0;
	for (size_t i = 0; i < ph->n; i++) {
		const struct fo_phase_entry *e = &ph->entries[i];
		if (e->is_module)
			k += e->lifetime == FO_LIFETIME_ONCE;
		else
			for (size_t j = 0; j < e->nsub; j++)
				k += count_once(&e->sub[j]);
	}
	return k;
}

/* Counts k finished (or skipped) run-once modules down in p and every phase enclosing it. */
static void once_done(struct phase_run *p, int k)
{
	for (; p; p = p->parent) {
		pthread_mutex_lock(&p->lock);
		p->once_left -= k;
		pthread_mutex_unlock(&p->lock);
	}
}

static bool phase_going(struct phase_run *p)
{
	pthread_mutex_lock(&p->lock);
	bool going = p->once_left > 0;
	pthread_mutex_unlock(&p->lock);
	return going;
}

/* Records an operation, with the run's secrets redacted from its value (a module's
 * value often quotes a command's output). */
static void emit(struct fo_run *r, const char *alias, const char *module, enum fo_op_type type,
		 const char *media_type, const char *value)
{
	char *redacted = fo_log_redacted(r->log, value);
	fo_history_emit(r->hist, alias, module, type, media_type, redacted ? redacted : value);
	fo_free(redacted);
}

void fo_emit_media(struct fo_mctx *m, enum fo_op_type type, const char *media_type, const char *value)
{
	struct module_ctx *mc = (struct module_ctx *)m;
	atomic_fetch_add(&mc->emitted, 1);
	emit(m->run, m->alias, m->module, type, media_type, value);
}

void fo_emit(struct fo_mctx *m, enum fo_op_type type, const char *value)
{
	fo_emit_media(m, type, NULL, value);
}

void fo_emitf(struct fo_mctx *m, enum fo_op_type type, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	fo_emit(m, type, b.s);
	fo_buf_release(&b);
}

static void harness(struct fo_run *r, const struct fo_mctx *m, enum fo_op_type type, const char *value)
{
	emit(r, m->alias, m->module, type, NULL, value);
}

static void module_error(struct fo_run *r, struct module_ctx *mc, const char *stage, const struct fo_err *err,
			 int rc)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s failed: %s", stage, err->code ? err->msg : fo_strerror(rc));
	harness(r, &mc->m, FO_OP_ERROR, b.s);
	fo_error(r->log, "module '%s' (%s): %s", mc->m.alias, mc->m.module, b.s);
	fo_buf_release(&b);
}

static void run_module(struct entry_job *job)
{
	struct fo_run *r = job->run;
	const struct fo_phase_entry *e = job->e;
	const struct fo_component *c = e->module.comp;
	const struct fo_module_ops *ops = c->module;
	struct module_ctx mc = {.m = {.run = r, .props = &e->module, .alias = e->alias, .module = c->name}};
	atomic_init(&mc.emitted, 0);
	bool once = e->lifetime == FO_LIFETIME_ONCE;
	if (fo_run_aborted(r)) {
		if (once)
			once_done(job->phase, 1);
		return;
	}
	fo__run_set_activity(r, job->path);
	fo_info(r->log, "module '%s' (%s) starting", e->alias, c->name);
	harness(r, &mc.m, FO_OP_START, NULL);
	struct fo_err err = {0};
	int rc = 0;
	if (!ops || !ops->run) {
		fo_err_set(&err, FO_EUNSUPPORTED, "module '%s' cannot run in this version%s%s", c->name,
			   c->available ? ": " : "", c->available ? c->available : "");
		module_error(r, &mc, "run", &err, FO_EUNSUPPORTED);
	} else {
		rc = ops->setup ? ops->setup(&mc.m, &err) : 0;
		if (rc) {
			module_error(r, &mc, "setup", &err, rc);
		} else {
			do {
				fo_err_clear(&err);
				rc = ops->run(&mc.m, &err);
				if (rc) {
					module_error(r, &mc, "run", &err, rc);
					break;
				}
				mc.m.iteration++;
			} while (!once && !fo_run_aborted(r) && phase_going(job->phase));
			if (ops->teardown) {
				fo_err_clear(&err);
				int trc = ops->teardown(&mc.m, &err);
				if (trc)
					module_error(r, &mc, "teardown", &err, trc);
			}
		}
		if (once && atomic_load(&mc.emitted) == 0 && !rc)
			harness(r, &mc.m, FO_OP_ERROR, "the module emitted no operations");
	}
	harness(r, &mc.m, FO_OP_END, NULL);
	harness(r, &mc.m, FO_OP_INFO, "completed");
	fo_info(r->log, "module '%s' (%s) finished", e->alias, c->name);
	if (once)
		once_done(job->phase, 1);
}

static void *entry_thread(void *arg)
{
	struct entry_job *job = arg;
	if (job->e->is_module)
		run_module(job);
	else
		run_list(job->run, job->e->sub, job->e->nsub, job->phase, job->path);
	return NULL;
}

static int run_phase(struct fo_run *r, const struct fo_phase *ph, struct phase_run *parent, const char *path)
{
	struct phase_run pr = {.parent = parent, .once_left = count_once(ph)};
	pthread_mutex_init(&pr.lock, NULL);
	struct entry_job *jobs = fo_calloc(ph->n, sizeof(*jobs));
	pthread_t *threads = fo_calloc(ph->n, sizeof(*threads));
	bool *started = fo_calloc(ph->n, sizeof(*started));
	for (size_t i = 0; i < ph->n; i++) {
		struct fo_buf b = FO_BUF_INIT;
		fo_buf_addf(&b, "%s%s%s", path, *path ? "/" : "", ph->entries[i].alias);
		jobs[i] = (struct entry_job){.run = r, .e = &ph->entries[i], .phase = &pr, .path = fo_buf_detach(&b, NULL)};
	}
	/* The first entry runs on this thread; the others each on their own. */
	for (size_t i = 1; i < ph->n; i++) {
		if (pthread_create(&threads[i], NULL, entry_thread, &jobs[i]) == 0) {
			started[i] = true;
		} else {
			fo_run_fail(r, "cannot start a thread for '%s'", ph->entries[i].alias);
			entry_thread(&jobs[i]);
		}
	}
	if (ph->n)
		entry_thread(&jobs[0]);
	for (size_t i = 1; i < ph->n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	for (size_t i = 0; i < ph->n; i++)
		fo_free(jobs[i].path);
	fo_free(jobs);
	fo_free(threads);
	fo_free(started);
	pthread_mutex_destroy(&pr.lock);
	return 0;
}

static int run_list(struct fo_run *r, const struct fo_phase *phases, size_t n, struct phase_run *parent,
		    const char *path)
{
	for (size_t i = 0; i < n; i++) {
		if (fo_run_aborted(r)) {
			once_done(parent, count_once(&phases[i])); /* skipped modules count down too */
			continue;
		}
		run_phase(r, &phases[i], parent, path);
	}
	return 0;
}

int fo__run_phases(struct fo_run *r)
{
	return run_list(r, r->def->phases, r->def->nphases, NULL, "");
}
