/*
 * queue_internal.h: what the queue's three files share (queue.c: the scheduler and the
 * API of queue.h; runner.c: run processes, watching, finishing and recovery;
 * housekeeping.c: compressing and reaping old runs), and the pure parts exposed to the
 * unit tests: the fair pick, secret redaction and the artifacts map.
 */
#ifndef FO_SERVER_QUEUE_INTERNAL_H
#define FO_SERVER_QUEUE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/server.h"

struct fo_arena;
struct fo_buf;
struct fo_run_rec;

/* ---- the pure scheduling decision ---- */

/* Nodes of one provisioner a run needs. */
struct fo__qneed {
	const char *provisioner;
	int64_t nodes;
};

/* A queued run as the pick sees it (everything borrowed). */
struct fo__qcand {
	const char *owner;
	int64_t created_at;
	const struct fo__qneed *needs;
	size_t nneeds;
};

/* An owner's standing: runs running now, and when their last run started (0: never). */
struct fo__qowner {
	const char *owner;
	int running;
	int64_t last_started;
};

/* The server's limits and what is in use now; the pick updates the counts as it starts runs. */
struct fo__qstate {
	const struct fo_limit *limits;
	size_t nlimits;
	int64_t *in_use;              /* nlimits entries: nodes of limits[i].provisioner in use */
	int64_t max_running;          /* 0: no limit */
	int64_t running;
	bool paused;                  /* nothing starts (impossible runs still fail) */
	struct fo__qowner *owners;    /* must hold every candidate's owner */
	size_t nowners;
	int64_t now;                  /* the time recorded as an owner's last start */
};

enum fo__qverdict {
	FO__Q_QUEUED,      /* stays as it is (the queue is paused or max_running is reached) */
	FO__Q_START,       /* start it now */
	FO__Q_WAIT,        /* does not fit now: WAITING_FOR_RESOURCES (blocks its provisioners) */
	FO__Q_IMPOSSIBLE,  /* needs more nodes than a limit allows at all: fail it */
};

struct fo__qdecision {
	enum fo__qverdict verdict;
	int start_seq;                /* FO__Q_START: 1 for the first run to start, 2 ... */
	const char *provisioner;      /* FO__Q_IMPOSSIBLE: the provisioner (borrowed), */
	int64_t need, limit;          /* the nodes it needs and the limit */
};

/*
 * Decides for each of the n candidates (oldest first) what happens now. Fair order: the
 * owner with fewer runs running first, then the owner whose last run started longest ago
 * (never: first), then the run queued first; re-evaluated after each start. A run that
 * does not fit waits and blocks its provisioners for the runs after it; a run needing
 * more than a limit allows is impossible. Updates st (in_use, running, owners) for the
 * runs it starts. out has n entries.
 */
void fo__queue_pick(const struct fo__qcand *c, size_t n, struct fo__qstate *st, struct fo__qdecision *out);

/* Parses a resources JSON object {"local": 3} into needs (arena-owned). Returns how many;
 * invalid JSON counts as no needs. */
size_t fo__queue_parse_needs(struct fo_arena *a, const char *json, struct fo__qneed **out);

/* ---- files of a run folder (runner.c) ---- */

/*
 * Replaces every occurrence of each of the n secret values in every regular file under
 * dir (recursively, never following links) with "<redacted>", as the engine does in its
 * own logs. Values shorter than 4 characters are not redacted (they would turn up
 * everywhere by chance). Returns the number of files changed.
 */
int fo__redact_dir(const char *dir, const char *const *values, size_t n);
/*
 * Appends the JSON object {relative path: bytes} of every regular file under dir (sorted
 * by path) to out and sets *bytes to their total. A missing dir gives {}.
 */
void fo__artifacts_json(const char *dir, struct fo_buf *out, int64_t *bytes);
/* Calls fn for every regular file under root (recursively, never following links; at most
 * 64 levels deep) with its path, its path relative to root, and its lstat. */
struct stat;
typedef void (*fo__walk_fn)(void *ctx, const char *path, const char *rel, const struct stat *st);
void fo__walk_files(const char *root, fo__walk_fn fn, void *ctx);
/*
 * Why a run process that left no result ended, from its log at path: the last lines (at
 * most 20, about 4 KB) without blank lines and exec's progress lines ("[ 0.11s] RUNNING"),
 * with "<spool>/" taken out of paths (so "hello.yaml:3:5: ..." reads as the user's file).
 * NULL when nothing is left. Arena-owned.
 */
const char *fo__log_tail(struct fo_arena *a, const char *path, const char *spool);
/* True if state is final (PASSED, FAILED, ABORTED). */
bool fo__state_final(const char *state);

/* ---- the queue ---- */

/* A run whose process runs (started by us, or re-adopted). */
struct fo__qrun {
	char *run_id, *owner, *test_name;
	char *run_dir;                /* fo_server_run_dir */
	char *spool_dir;              /* <data>/spool/<id> */
	pid_t pid;
	uint64_t pid_start;
	int pidfd;                    /* -1: none (pidfd_open unavailable): liveness is polled */
	bool child;                   /* ours: reap it with waitpid */
	struct fo__qneed *needs;      /* owned, with owned provisioner names */
	size_t nneeds;
	char *abort_reason;           /* set by fo_queue_abort: the failure if the run records none */
	char *state, *failed_during, *failure; /* last seen in testrun.json (or the store) */
};

struct fo_queue {
	struct fo_server *srv;
	pthread_mutex_t lock;         /* everything below */
	pthread_cond_t wake;          /* the scheduler's */
	pthread_cond_t hk_wake;       /* the housekeeping thread's */
	bool kicked, stopping, paused;
	pthread_t sched, watcher, hk;
	bool have_sched, have_watcher, have_hk;
	int evfd;                     /* eventfd that wakes the watcher */
	struct fo__qrun **runs;       /* running runs */
	size_t nruns, capruns;
	struct fo__qowner *seen;      /* owner (owned string) -> last start; running unused */
	size_t nseen, capseen;
	pthread_mutex_t hk_lock;      /* one housekeeping pass at a time */
};

/* The states of a queued run, NULL-terminated (a run filter's states). */
extern const char *const fo__queued_states[];
/* True if state is a queued run's (CREATED, WAITING_FOR_RESOURCES). */
bool fo__state_queued(const char *state);
/* Starts rec's process and records it (q->lock held). Returns 0, or an error with the reason in err. */
int fo__queue_spawn(struct fo_queue *q, const struct fo_run_rec *rec, struct fo_err *err);
/* Re-adopts or finishes the runs an earlier server left active. */
void fo__queue_recover(struct fo_queue *q);
/* The watcher thread. */
void *fo__queue_watcher(void *arg);
/* Wakes the watcher (a run was added, or the queue stops). */
void fo__queue_wake_watcher(struct fo_queue *q);
/* Frees a run entry (closes its pidfd). */
void fo__qrun_free(struct fo__qrun *r);
/* Notes that owner's run started at `at` (q->lock held). */
void fo__queue_note_start(struct fo_queue *q, const char *owner, int64_t at);
/* The housekeeping thread. */
void *fo__queue_housekeeper(void *arg);
/* Sets a record's failure fields (arena a) and writes it. */
int fo__queue_fail_rec(struct fo_queue *q, struct fo_arena *a, struct fo_run_rec *rec, const char *state,
		       const char *failed_during, const char *failure);

#endif
