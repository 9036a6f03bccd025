/*
 * proc.h: child processes. Every child runs in its own process group, so a kill reaches
 * everything it started; its output goes to a file (a node's log) and, optionally, into
 * a buffer. Commands run to completion with a timeout; services are started in the
 * background and watched, so an unexpected exit is noticed.
 *
 * All running commands of this program are known to proc.c, so an abort can kill them
 * all at once (fo_proc_kill_all), from any thread.
 */
#ifndef FO_PROC_H
#define FO_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

struct fo_err;

/* What to run. */
struct fo_cmd {
	const char *const *argv;  /* argv[0] is looked up in PATH; NULL-terminated */
	const char *const *env;   /* extra NAME=VALUE entries over the inherited environment; may be NULL */
	const char *cwd;          /* NULL: the current folder */
	const char *log_path;     /* stdout and stderr are appended here; NULL: /dev/null */
	const char *log_prefix;   /* written to the log before the output, e.g. "$ command\n"; may be NULL */
	int64_t timeout_ns;       /* 0: none */
	struct fo_buf *capture;   /* when not NULL, stdout is also appended here (capped by its max) */
	const char *stdin_path;   /* NULL: /dev/null */
	/*
	 * NULL: the command runs in the caller's network namespace. Else the name of a network
	 * namespace (/run/netns/NAME) it runs in, as `ip netns exec NAME` would run it: in a
	 * mount namespace of its own where every file of /etc/netns/NAME is bind-mounted over
	 * the one of the same name in /etc (hosts...) and /sys shows that namespace. Needs
	 * CAP_SYS_ADMIN; a namespace that is gone is an error before anything runs.
	 */
	const char *netns;
	/*
	 * NULL, or a NULL-terminated list of secret values: then stdout and stderr reach the log
	 * through a pipe each and every occurrence of each is written as <redacted> (the capture
	 * buffer still gets stdout only, as it was); log_prefix is redacted too. Ignored when
	 * the log is /dev/null. fo_proc_run only.
	 */
	const char *const *redact;
};

/* How a command ended. */
struct fo_cmd_result {
	int exit_code;   /* exit status, or -1 when killed by a signal */
	int signal;      /* the signal that ended it, or 0 */
	bool timed_out;  /* killed because the timeout passed */
	bool aborted;    /* killed by fo_proc_kill_all */
	int64_t elapsed_ns;
};

/* Called with the child's pid and process group right after it started and before
 * waiting (the ledger records it here). May be NULL. */
typedef void (*fo_proc_started_fn)(void *ctx, pid_t pid, pid_t pgid);

/*
 * Runs cmd to completion. Returns 0 when it ran (whatever its exit status: see res), or
 * an error when it could not be started (FO_ENOENT for a missing program, FO_EIO...).
 */
int fo_proc_run(const struct fo_cmd *cmd, fo_proc_started_fn started, void *ctx, struct fo_cmd_result *res,
		struct fo_err *err);

/* A long-running process started in the background. */
struct fo_service;

/* Called from the watcher thread when a service ends by itself (not by fo_service_stop). */
typedef void (*fo_service_exit_fn)(void *ctx, struct fo_service *s, int exit_code, int signal);

/*
 * Starts cmd (its timeout and capture are ignored) in the background in its own process
 * group and watches it. Returns an owned service, or NULL with err set. on_exit must not
 * stop or free s, nor take a lock a caller of fo_service_stop may hold while stopping.
 */
struct fo_service *fo_service_start(const struct fo_cmd *cmd, fo_proc_started_fn started, void *ctx,
				    fo_service_exit_fn on_exit, void *exit_ctx, struct fo_err *err);
/* The service's pid (also its process group). */
pid_t fo_service_pid(const struct fo_service *s);
/* True while the service's process runs. */
bool fo_service_running(const struct fo_service *s);
/* Stops the service's whole process group: SIGTERM, then SIGKILL after grace_ns. Waits
 * for it. Returns 0. Safe to call on a service that has ended. */
int fo_service_stop(struct fo_service *s, int64_t grace_ns);
/* Stops if needed and frees. NULL is fine. */
void fo_service_free(struct fo_service *s);
/* Stops watching and frees, leaving the process running (a cluster kept for reuse by a
 * later run). If it ends while this program still runs it stays a zombie until we exit.
 * NULL is fine. */
void fo_service_detach(struct fo_service *s);

/* Kills the process group of every command now running under fo_proc_run (SIGKILL), and
 * makes those that start from now on fail at once, until fo_proc_allow again. Safe from
 * any thread, not from a signal handler. */
void fo_proc_kill_all(void);
/* Lets commands run again after fo_proc_kill_all (teardown needs them). */
void fo_proc_allow(void);

/* Kills a process group: SIGTERM, then SIGKILL after grace_ns if any member remains.
 * Returns true if the group is gone. */
bool fo_proc_kill_group(pid_t pgid, int64_t grace_ns);
/* True if the process group pgid has a member that has not ended (zombies do not count).
 * A group we may not signal counts as alive. */
bool fo_proc_group_alive(pid_t pgid);
/* The start time of pid (clock ticks since boot, from /proc), to tell a process from a
 * later one with the same pid. Returns 0 if there is no such process. */
uint64_t fo_proc_start_time(pid_t pid);
/* True if process pid still runs and is the one that started at start (a value of
 * fo_proc_start_time): not a later process with the same pid, and not a zombie (ended but
 * not reaped, as a run process whose parent died may stay where nothing reaps orphans).
 * False for pid <= 0 or start 0. */
bool fo_proc_alive(pid_t pid, uint64_t start);
/* A pidfd for pid (close-on-exec; the caller closes it), or -1 (errno set; ENOSYS where
 * the kernel or the C library has none). */
int fo_proc_pidfd(pid_t pid);

/* Monotonic time in nanoseconds. */
int64_t fo_now_ns(void);
/* Wall-clock time in nanoseconds since the epoch. */
int64_t fo_wall_ns(void);
/* Formats a wall-clock time as ISO 8601 UTC with milliseconds: 2026-11-30T07:40:00.123Z. */
void fo_format_time(int64_t wall_ns, char *out, size_t n);

#endif
