/*
 * ledger.h: everything a run starts or creates, written down before it is started, so
 * that teardown can undo it all and `fallout cleanup` can undo what a killed run left.
 *
 * The ledger is a text file in the run's work area, appended with fsync:
 *   dir PATH               a folder the run created (removed with its contents)
 *   proc PID PGID START    a process group (START: the leader's start time, so a later
 *                          process that reuses the pid is never killed)
 *   gone KIND ARG          the entry was undone by the run itself
 * Every active run is listed in STATE/active/<run id> (a file holding the ledger's path),
 * removed when the run ends. STATE is $FALLOUT_STATE_DIR, default ~/.local/state/fallout.
 */
#ifndef FO_LEDGER_H
#define FO_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct fo_err;
struct fo_ledger;

/* The state folder (created if missing); returns a static string. */
const char *fo_state_dir(void);

/* Opens a new ledger for run_id at path and lists it as active. NULL with err set. */
struct fo_ledger *fo_ledger_open(const char *path, const char *run_id, struct fo_err *err);
/* Records a folder about to be created. */
int fo_ledger_dir(struct fo_ledger *l, const char *path);
/* Records a process group just started (call from fo_proc_started_fn). */
int fo_ledger_proc(struct fo_ledger *l, pid_t pid, pid_t pgid);
/* Records that an entry was undone. */
int fo_ledger_gone_dir(struct fo_ledger *l, const char *path);
int fo_ledger_gone_proc(struct fo_ledger *l, pid_t pgid);
/* Undoes every entry not yet gone: kills process groups, removes folders (newest first).
 * Returns the number of entries undone; problems go to err (first one). */
int fo_ledger_undo_all(struct fo_ledger *l, struct fo_err *err);
/* Closes; with finished, the run is no longer listed as active. */
void fo_ledger_close(struct fo_ledger *l, bool finished);

/* What cleanup did. */
struct fo_cleanup_report {
	int runs;        /* ledgers of dead runs found */
	int procs;       /* process groups killed */
	int dirs;        /* folders removed */
	int skipped;     /* runs still alive, left alone */
};
/* Undoes the ledgers of every active run whose fallout process is gone. */
int fo_ledger_cleanup(struct fo_cleanup_report *rep, struct fo_err *err);

#endif
