/*
 * ssh.h: a small SSH client over libssh, for the `ssh` provisioner and for `fallout
 * cleanup`: connections checked against a known_hosts file, commands run over an exec
 * channel, files moved over SFTP, and the POSIX shell command lines fallout sends.
 *
 * libssh is loaded on first use (dlopen of libssh.so.4), never linked: it pulls in many
 * libraries and would slow the start-up of every fallout command. Until a connection is
 * made nothing is loaded; when libssh is missing, fo_ssh_connect fails and says so.
 *
 * A connection is used by one thread at a time (libssh's rule); callers that run things
 * at once keep several connections to the same host.
 *
 * Commands are shell command lines run by the remote user's login shell, which must be a
 * POSIX shell (sh, bash, dash, zsh...). The builders below quote every word, so names of
 * files and values of variables reach the remote program unchanged.
 */
#ifndef FO_SSH_H
#define FO_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_buf;
struct fo_err;

/* What to do with a host key the known_hosts file does not hold (strict.host.key.checking). */
enum fo_ssh_hostkey {
	FO_SSH_HOSTKEY_ACCEPT_NEW, /* add an unknown host's key; refuse a changed one */
	FO_SSH_HOSTKEY_YES,        /* only hosts already in the file */
	FO_SSH_HOSTKEY_NO,         /* no check at all */
};

/* Where and how to connect. Every string is borrowed for the call. */
struct fo_ssh_opts {
	const char *host;
	int port;                  /* 0: 22 */
	const char *user;
	const char *key_path;      /* a private key file; NULL: the agent and ~/.ssh's usual keys */
	const char *key_passphrase; /* NULL: none */
	const char *password;      /* NULL: none; tried after the key */
	const char *known_hosts;   /* the known_hosts file (created when missing) */
	enum fo_ssh_hostkey hostkey;
	int64_t timeout_ns;        /* connecting, and each blocking step; 0: 30 s */
};

/* One connection (an SSH session, with an SFTP session opened on first use). */
struct fo_ssh;

/* Connects and authenticates. Returns 0 and an owned connection in *out, or an error
 * (FO_ENET: unreachable, refused, authentication or host key failed; FO_EUNSUPPORTED:
 * libssh cannot be loaded) with "USER@HOST:PORT: why" in err. */
int fo_ssh_connect(const struct fo_ssh_opts *o, struct fo_ssh **out, struct fo_err *err);
/* Disconnects and frees. NULL is fine. */
void fo_ssh_free(struct fo_ssh *s);
/* False once the connection is known to be closed (a kept connection is checked so). */
bool fo_ssh_alive(const struct fo_ssh *s);
/* "USER@HOST:PORT", for messages. Borrowed from s. */
const char *fo_ssh_name(const struct fo_ssh *s);
/* Sets out to the remote user's home folder (asked over SFTP once, then remembered). */
int fo_ssh_home(struct fo_ssh *s, struct fo_buf *out, struct fo_err *err);

/* ---- commands ---- */

/* How a remote command ended. */
struct fo_ssh_status {
	int exit_code;   /* its exit status, or -1 when it ended by a signal or unknown */
	int signal;      /* the signal that ended it (exit-signal), or 0 */
	bool lost;       /* the channel closed without telling how the command ended */
};

/* Receives a command's output as it comes: stderr when is_stderr. */
typedef void (*fo_ssh_output_fn)(void *ctx, bool is_stderr, const char *p, size_t n);
/*
 * Called about every 100 ms while a command runs, with the time it has run. Returns 0 to
 * go on waiting, nonzero to stop waiting at once (the command is left to the caller, who
 * kills it through another connection: closing a channel does not end a command).
 */
typedef int (*fo_ssh_tick_fn)(void *ctx, int64_t elapsed_ns);

struct fo_ssh_exec {
	const char *command;       /* a shell command line (its standard input is empty) */
	fo_ssh_output_fn output;   /* may be NULL: output dropped */
	fo_ssh_tick_fn tick;       /* may be NULL: wait for the end */
	void *ctx;                 /* for output and tick */
};

/* Runs a command line and waits for its end (or until tick says stop: then st->lost).
 * Returns 0 when it ran (see st), or an error when the channel could not be opened. */
int fo_ssh_exec(struct fo_ssh *s, const struct fo_ssh_exec *x, struct fo_ssh_status *st, struct fo_err *err);
/* Runs a short command line, stdout and stderr appended to out (may be NULL), waiting at
 * most timeout_ns (0: no limit). Returns 0 when it exited 0, FO_EIO with the end of its
 * output in err otherwise. */
int fo_ssh_run(struct fo_ssh *s, const char *command, int64_t timeout_ns, struct fo_buf *out, struct fo_err *err);

/* ---- files (SFTP) ---- */

/* Copies remote (a file, a folder with everything in it, or a symbolic link, recreated)
 * to local, creating local's parent folders; a file is written under a temporary name and
 * renamed. Returns 0, FO_ENOENT when remote does not exist, or FO_EIO/FO_ENET. */
int fo_ssh_get(struct fo_ssh *s, const char *remote, const char *local, struct fo_err *err);
/* Copies the local regular file to remote (replaced), keeping its permission bits. */
int fo_ssh_put(struct fo_ssh *s, const char *local, const char *remote, struct fo_err *err);
/* Appends to out what remote holds from byte offset on, at most max bytes; *got is how
 * many were appended. A missing file appends nothing. Returns 0 or an error. */
int fo_ssh_read_from(struct fo_ssh *s, const char *remote, uint64_t offset, size_t max, struct fo_buf *out,
		     size_t *got, struct fo_err *err);

/*
 * A one-way mirror of a local folder on the remote host: fo_ssh_mirror_sync copies up
 * every regular file (and folder) that is new or changed (size, time or mode) since the
 * last sync, and removes from the remote what it copied there before and is gone here.
 * What the remote side writes (a service's log) is excluded. Thread-safe.
 */
struct fo_ssh_mirror;
/* Borrows both paths (copied). */
struct fo_ssh_mirror *fo_ssh_mirror_new(const char *local, const char *remote);
/* Never copies local/rel up, nor removes remote/rel. */
void fo_ssh_mirror_exclude(struct fo_ssh_mirror *m, const char *rel);
/* Syncs over s. Returns 0 or the first error (the rest is still synced). */
int fo_ssh_mirror_sync(struct fo_ssh_mirror *m, struct fo_ssh *s, struct fo_err *err);
void fo_ssh_mirror_free(struct fo_ssh_mirror *m);

/* ---- command lines ---- */

/* Appends s as one single-quoted POSIX shell word ('it'\''s'). */
void fo_ssh_quote(struct fo_buf *out, const char *s);
/* True if name can be a shell variable: [A-Za-z_][A-Za-z0-9_]*. */
bool fo_ssh_var_name_ok(const char *name, size_t n);

/*
 * The command line of a command: goes to cwd, writes "PGID START" into pid_file (the
 * login shell is its session's leader, so its pid is the process group of all the command
 * starts; START is its start time from /proc, 0 when unknown), exports env (NAME=VALUE
 * entries; many sshd refuse to set variables), and execs argv:
 *   cd 'CWD' && { ...; } >'PID_FILE' && export A='1' B='x y' && exec 'prog' 'arg'
 * Returns 0, or FO_EINVAL (an entry of env without '=' or with a bad name, no argv).
 */
int fo_ssh_command(struct fo_buf *out, const char *cwd, const char *const *env, const char *const *argv,
		   const char *pid_file, struct fo_err *err);
/*
 * The command line that starts a service: as fo_ssh_command, but argv runs in the
 * background in a new session (setsid) immune to hangups (nohup), output appended to
 * log, standard input /dev/null; pid_file gets "PGID START" of its process group and,
 * when it ends by itself, PID_FILE.status its exit status. Prints the process group.
 */
int fo_ssh_service_command(struct fo_buf *out, const char *cwd, const char *const *env, const char *const *argv,
			   const char *pid_file, const char *log, struct fo_err *err);
/*
 * The command line that stops the process groups listed in pid files: pids is a shell
 * word, quoted or a pattern (a quoted folder, then /cmd-[*].pid). Each group whose leader is still the
 * process recorded (same start time), or whose leader is gone while members remain, gets
 * SIGTERM, then SIGKILL after grace_ns. Prints "killed" and the groups it signalled.
 */
void fo_ssh_kill_command(struct fo_buf *out, const char *pids, int64_t grace_ns);
/* The command line that removes the folder path and everything in it, then its parent and
 * grandparent when they are left empty; prints "removed" when there was something. Refuses
 * (FO_EINVAL) a path that is not absolute, has '.' or '..' parts or fewer than three. */
int fo_ssh_remove_command(struct fo_buf *out, const char *path, struct fo_err *err);

/* ---- the ledger's remote entries ---- */

/* "HOST PORT USER AUTH" naming a connection in the ledger; AUTH is key:PATH, auto (the
 * agent and usual keys) or password (not recorded: cleanup cannot reconnect). Returns
 * FO_EINVAL when a part holds white space. */
int fo_ssh_target(const struct fo_ssh_opts *o, struct fo_buf *out);

/* Called for each remote entry undone (with its target and what, as recorded). */
typedef void (*fo_ssh_gone_fn)(void *ctx, const char *target, const char *what);
/* Called with one line per thing done or, dry, that would be done. */
typedef void (*fo_ssh_note_fn)(void *ctx, const char *line);

/*
 * Undoes the remote entries of a ledger not yet gone ("ssh TARGET procs DIR": the process
 * groups of DIR's pid files; "ssh TARGET dir PATH": the folder, then its two parents if
 * left empty), reconnecting to each target with its recorded key and known_hosts
 * (accept-new). Process groups go before folders. A target reached with a password, or
 * that cannot be reached, is reported in err with what stays. *procs and *dirs count
 * what was (or, dry, would be) undone. Returns 0 or the first error.
 */
int fo_ssh_undo_ledger(const char *ledger, const char *known_hosts, bool dry_run, fo_ssh_note_fn note,
		       void *note_ctx, fo_ssh_gone_fn gone, void *gone_ctx, int *procs, int *dirs,
		       struct fo_err *err);

#endif
