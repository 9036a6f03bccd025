/*
 * ledger.h: everything a run starts or creates, written down before it is started, so
 * that teardown can undo it all and `fallout cleanup` can undo what a killed run left.
 *
 * The ledger is a text file in the run's work area, appended with write() before the
 * thing it records is started (it then survives a kill -9 of fallout):
 *   dir PATH               a folder the run created (removed with its contents)
 *   proc PID PGID START    a process group (START: the leader's start time, so a later
 *                          process that reuses the pid is never killed)
 *   cluster NAME dir|proc  the same, for a cluster kept between runs (mark_for_reuse)
 *   gone KIND ARG          the entry was undone by the run itself
 * Every active run is listed in STATE/active/<run id>, a file holding "PID START LEDGER"
 * of the fallout process that owns the run (so cleanup tells a live run, same pid and
 * same start time, from a dead one), removed when the run ends. STATE is
 * $FALLOUT_STATE_DIR, else $XDG_STATE_HOME/fallout, else ~/.local/state/fallout (0700).
 *
 * Clusters kept between runs (mark_for_reuse) have a record in STATE/clusters/NAME/: the
 * runlevel the last run left them at (written by the engine), and whatever their
 * provisioner keeps there (the `local` provisioner: local/).
 */
#ifndef FO_LEDGER_H
#define FO_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/runlevel.h"

struct fo_buf;
struct fo_err;
struct fo_group;
struct fo_ledger;

/* The state folder (created if missing); returns a static string. */
const char *fo_state_dir(void);
/* Sets out to STATE/name (created 0700 if missing). Returns 0 or FO_EIO. */
int fo_state_subdir(const char *name, struct fo_buf *out, struct fo_err *err);

/* Opens a new ledger for run_id at path and lists it as active. NULL with err set. */
struct fo_ledger *fo_ledger_open(const char *path, const char *run_id, struct fo_err *err);
/* Records a folder about to be created. */
int fo_ledger_dir(struct fo_ledger *l, const char *path);
/* Records a process group just started (call from fo_proc_started_fn). */
int fo_ledger_proc(struct fo_ledger *l, pid_t pid, pid_t pgid);
/*
 * As fo_ledger_dir and fo_ledger_proc, for what belongs to a cluster kept between runs
 * (mark_for_reuse) called cluster: fo_ledger_undo_all leaves these entries alone (the
 * provisioner's destroy undoes them, or they stay for the next run), while cleanup of a
 * killed run undoes them like any other. cluster NULL is the same as the plain calls.
 */
int fo_ledger_cluster_dir(struct fo_ledger *l, const char *cluster, const char *path);
int fo_ledger_cluster_proc(struct fo_ledger *l, const char *cluster, pid_t pid, pid_t pgid);
/* Records that an entry was undone. */
int fo_ledger_gone_dir(struct fo_ledger *l, const char *path);
int fo_ledger_gone_proc(struct fo_ledger *l, pid_t pgid);

/*
 * Faults (components/modules/fault_common.h), recorded before they are applied, so that
 * whatever heals them (the fault's end, an abort, fo_ledger_undo_all, cleanup of a
 * killed run) knows what to undo:
 *   nft NETNS TABLE      an nftables table of family inet in network namespace NETNS
 *                        (`ip netns` name): deleted
 *   tc NETNS DEV         a root qdisc on DEV in NETNS: deleted (DEV gets its default back)
 *   stopped PGID START   a process group stopped with SIGSTOP (START: the leader's start
 *                        time): sent SIGCONT, if still ours
 * Faults are healed before any process group is killed. Names are single words. The
 * fo_ledger_gone_* calls record that the fault itself healed it.
 */
int fo_ledger_nft(struct fo_ledger *l, const char *netns, const char *table);
int fo_ledger_tc(struct fo_ledger *l, const char *netns, const char *dev);
int fo_ledger_stopped(struct fo_ledger *l, pid_t pgid);
int fo_ledger_gone_nft(struct fo_ledger *l, const char *netns, const char *table);
int fo_ledger_gone_tc(struct fo_ledger *l, const char *netns, const char *dev);
int fo_ledger_gone_stopped(struct fo_ledger *l, pid_t pgid);

/*
 * Network namespaces (the netns provisioner's), recorded before they are created:
 *   netns NAME           a node's namespace (/run/netns/NAME): what is still inside is
 *                        SIGKILLed, then it is removed; cluster as for fo_ledger_cluster_dir
 *   hub NAME LOCK        a namespace shared by runs: removed only when, under an flock
 *                        on LOCK, it holds no interface but loopback and bridges and no
 *                        other process has a thread in it
 * Undo removes them after the process groups and before the folders.
 */
int fo_ledger_netns(struct fo_ledger *l, const char *cluster, const char *name);
int fo_ledger_hub(struct fo_ledger *l, const char *name, const char *lock);
/* Removes namespace name now (as undo would) and records it gone. l may be NULL.
 * Returns 0 (also when it did not exist) or an error. */
int fo_ledger_remove_netns(struct fo_ledger *l, const char *name, struct fo_err *err);
/* Removes hub name now if nothing uses it (see above; this process's own threads do not
 * count), taking the flock on lock, and records the run's use of it gone. Sets *removed
 * (may be NULL). Returns 0 or an error. */
int fo_ledger_release_hub(struct fo_ledger *l, const char *name, const char *lock, bool *removed,
			  struct fo_err *err);
/*
 * Remote things (the ssh provisioner's nodes), recorded before they are made:
 *   ssh HOST PORT USER AUTH procs DIR   the process groups whose pid files are in DIR
 *   ssh HOST PORT USER AUTH dir PATH    a folder on that host
 * target is "HOST PORT USER AUTH" (fo_ssh_target, util/ssh.h), what "procs DIR" or
 * "dir PATH". Undo reconnects with the recorded key (util/ssh.c, fo_ssh_undo_ledger);
 * a password is never recorded, so what was reached with one is reported, not undone.
 */
int fo_ledger_ssh(struct fo_ledger *l, const char *target, const char *what);
int fo_ledger_gone_ssh(struct fo_ledger *l, const char *target, const char *what);
/* Removes a recorded folder and everything in it now (with the checks undo makes), and
 * records it gone. l may be NULL. Returns 0 (also when it did not exist) or an error. */
int fo_ledger_remove_dir(struct fo_ledger *l, const char *path, struct fo_err *err);
/* Undoes every entry not yet gone (except cluster entries): heals faults, kills process
 * groups that are still ours, then removes folders (newest first). Returns the number of
 * entries undone; problems go to err (first one). */
int fo_ledger_undo_all(struct fo_ledger *l, struct fo_err *err);
/* Runs fn(data) when l is closed (newest first, before anything else): the end of the
 * run, while its groups still exist. Provisioners free what they keep per group there. */
void fo_ledger_at_close(struct fo_ledger *l, void (*fn)(void *data), void *data);
/* Closes; with finished, the run is no longer listed as active. */
void fo_ledger_close(struct fo_ledger *l, bool finished);

/* What cleanup did. */
struct fo_cleanup_report {
	int runs;        /* ledgers of dead runs found */
	int procs;       /* process groups killed */
	int dirs;        /* folders removed */
	int skipped;     /* runs still alive, left alone */
	int faults;      /* faults healed: nft tables, qdiscs, stopped process groups */
	int netns;       /* network namespaces removed */
};
/* Undoes the ledgers of every active run whose fallout process is gone. */
int fo_ledger_cleanup(struct fo_cleanup_report *rep, struct fo_err *err);
/* Called with one line per thing cleanup does or, in a dry run, would do. */
typedef void (*fo_cleanup_note_fn)(void *ctx, const char *what);
/* As fo_ledger_cleanup; with dry_run nothing is touched and rep counts what would be
 * done. note may be NULL. One cleanup runs at a time (a lock in STATE/active). */
int fo_ledger_cleanup_with(bool dry_run, fo_cleanup_note_fn note, void *ctx, struct fo_cleanup_report *rep,
			   struct fo_err *err);

/* ---- clusters kept between runs ---- */

/* The name a group's cluster is known by between runs: its provisioner's `name` property
 * when set, else the group's name. Borrowed from spec. */
const char *fo_cluster_name(const struct fo_group *spec);
/* Sets out to STATE/clusters/<name> (characters unsafe in a folder name become '_'),
 * without creating it. Returns 0, or FO_EINVAL for an empty name. */
int fo_cluster_path(const char *name, struct fo_buf *out);
/* As fo_cluster_path, creating the folder (0700) if missing. Returns 0 or an error. */
int fo_cluster_dir(const char *name, struct fo_buf *out, struct fo_err *err);
/* Records the runlevel a run left cluster name at (the engine, for mark_for_reuse). */
int fo_cluster_save_state(const char *name, enum fo_runlevel rl, struct fo_err *err);
/* Reads it back: 0 and *rl, or FO_ENOENT when nothing is recorded. */
int fo_cluster_load_state(const char *name, enum fo_runlevel *rl);
/* Forgets cluster name: removes its whole record folder. */
int fo_cluster_forget(const char *name, struct fo_err *err);

#endif
