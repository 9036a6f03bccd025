/*
 * internal.h: what the engine's own files share about a run (run.c, nodegroup.c,
 * phases.c, report.c). Components use run.h only.
 */
#ifndef FO_ENGINE_INTERNAL_H
#define FO_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/run.h"

struct fo_sampler;

struct fo_run {
	const struct fo_def *def;
	char *dir, *id, *test_name, *owner, *work_dir, *definition_file;
	pthread_mutex_t lock;          /* state, failure, verdicts, activity */
	enum fo_run_state state;
	enum fo_run_state failed_during;
	char *failure;
	struct fo_log *log;
	struct fo_history *hist;
	struct fo_ledger *ledger;
	struct fo_rgroup *groups;
	size_t ngroups;
	atomic_bool aborting;          /* an abort was requested */
	atomic_bool tearing_down;      /* past the point where an abort kills commands */
	int abort_pipe[2];             /* written by fo_run_request_abort (signal-safe) */
	pthread_t watcher;             /* turns abort requests into kills and wake-ups */
	bool watcher_started;
	pthread_mutex_t sleep_lock;
	pthread_cond_t sleep_cond;
	struct fo_verdict *verdicts;
	size_t nverdicts, verdicts_cap;
	int64_t created_at, started_at, finished_at;
	void (*progress)(void *ctx, const struct fo_run *r, const char *event);
	void *progress_ctx;
	char activity[512];            /* modules running now, for progress */
	char *params_json;             /* the run's parameters, as JSON */
	char **notes;                  /* fo_run_note, under lock */
	size_t nnotes, notes_cap;
	struct fo_sampler *sampler;    /* node metrics while RUNNING; NULL otherwise */
};

/* Per-group runtime bookkeeping kept beside struct fo_rgroup. */
struct fo_rgroup_x {
	pthread_mutex_t lock;          /* one transition at a time */
};

/* nodegroup.c */
int fo__rgroup_init(struct fo_run *r, struct fo_rgroup *g, const struct fo_group *spec, struct fo_err *err);
void fo__rgroup_release(struct fo_rgroup *g);
/* Finds out what state the group's nodes are really in (from UNKNOWN or FAILED). */
int fo__rgroup_check_state(struct fo_rgroup *g, struct fo_err *err);
/* Goes up to target if below it (never down). */
int fo__rgroup_raise(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err);
/* Tears down to target; on failure forces a destroy. */
int fo__rgroup_teardown(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err);
/* Collects artifacts through the configuration managers. */
int fo__rgroup_collect(struct fo_rgroup *g, struct fo_err *err);

/* phases.c: runs the workload's phases. Returns 0; failures are in the history/run. */
int fo__run_phases(struct fo_run *r);

/* report.c: testrun.json and ensemble-summary.json. */
int fo__write_testrun(struct fo_run *r);
int fo__write_ensemble_summary(struct fo_run *r);

/* run.c: records activity for progress. */
void fo__run_set_activity(struct fo_run *r, const char *what);
void fo__run_event(struct fo_run *r, const char *event);

#endif
