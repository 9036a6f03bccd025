/*
 * queue.h: the run queue and the runner of `fallout serve`.
 *
 * A queued run is in the store in state CREATED (or WAITING_FOR_RESOURCES). A scheduler
 * thread picks runs in fair order: the owner with fewer runs running first, then the owner
 * served longest ago (so one user's batch cannot hold another's single run for hours), then
 * the run waiting longest. A run starts only within the limits: max_running runs, and per
 * provisioner at most max_nodes nodes in use; one that does not fit goes to
 * WAITING_FOR_RESOURCES and keeps its place (later runs needing the same provisioner wait
 * behind it; others may pass). A run that could never fit fails at once, saying why.
 *
 * Each run executes in its own process: `fallout exec` on a copy of its definition, in its
 * own session, writing the run folder (testrun.json is rewritten at every state change, and
 * the store follows it). A crash of a run cannot take the server down, and a server that
 * stops (even kill -9) does not stop its runs: the next server on the same data folder
 * re-adopts the runs whose process still lives, and finishes the others: their testrun.json
 * decides the result when it is final; otherwise the run's ledger is cleaned up (processes,
 * folders, addresses) and the run is ABORTED with the reason.
 * A run the earlier server had begun to start (its spool folder exists) is re-adopted by
 * the --run-id of its process, or started again when nothing of it ran.
 */
#ifndef FO_SERVER_QUEUE_H
#define FO_SERVER_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct fo_server;
struct fo_err;
struct fo_buf;

struct fo_queue;

/* Creates the queue (not started). */
struct fo_queue *fo_queue_new(struct fo_server *srv);
/* Recovers the runs left active by an earlier server, then starts the scheduler thread. */
int fo_queue_start(struct fo_queue *q, struct fo_err *err);
/* Stops the scheduler and the watchers; run processes keep going. Frees q. */
void fo_queue_free(struct fo_queue *q);

/* Wakes the scheduler (a run was queued, or a limit may have freed). */
void fo_queue_kick(struct fo_queue *q);
/*
 * Aborts a run: a queued one becomes ABORTED at once; a running one is sent SIGTERM (its
 * process aborts and tears down). reason is recorded. Returns 0, FO_ENOTFOUND, or
 * FO_EEXISTS when it has already finished.
 */
int fo_queue_abort(struct fo_queue *q, const char *run_id, const char *reason);
/* True while the run is queued or its process runs. */
bool fo_queue_active(struct fo_queue *q, const char *run_id);
/* Pauses (no run starts; queued ones wait) or resumes the queue. */
void fo_queue_pause(struct fo_queue *q, bool paused);
/* Appends {"paused": bool, "running": N, "queued": N, "limits": {...}, "inUse": {...}} to out. */
void fo_queue_status_json(struct fo_queue *q, struct fo_buf *out);
/* Runs the housekeeping pass now (compress old artifacts, reap expired runs). Appends a
 * JSON summary {"compressed": files, "reaped": runs, "freedBytes": N} to out (may be NULL). */
void fo_queue_housekeep(struct fo_queue *q, struct fo_buf *out);
/* How many runs are running now. */
int fo_queue_running(struct fo_queue *q);

#endif
