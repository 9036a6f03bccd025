/*
 * artifacts.h: a run's artifacts as `fallout serve` hands them out, without any HTTP: which
 * artifact paths may be asked for at all, opening one without ever following a symbolic
 * link (a run is user-made: a link planted in its folder must not reach /etc/passwd), the
 * listing {path: bytes}, the zip of the whole run folder, content types, and following a
 * growing log as server-sent events (the live view of fallout-shared.log).
 *
 * Every walk starts from a file descriptor of the run folder and goes down one component
 * at a time with openat(O_NOFOLLOW): only folders and regular files are ever entered or
 * read; links, FIFOs, sockets and devices are refused (opening never blocks) or skipped.
 * The HTTP handlers are in api_artifacts.c.
 */
#ifndef FO_SERVER_ARTIFACTS_H
#define FO_SERVER_ARTIFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct fo_buf;
struct fo_err;

/* Longest artifact path accepted, and longest single component. */
#define FO_ARTIFACT_PATH_MAX 4096
#define FO_ARTIFACT_NAME_MAX 255
/* How deep listings and zips go below the run folder. */
#define FO_ARTIFACT_MAX_DEPTH 64

/*
 * True when path (len bytes, which may hold a NUL) is an acceptable artifact path: not
 * empty, relative, no "..", no "." or empty segment, no NUL, backslash or control
 * character, within the length limits. Borrows path.
 */
bool fo_artifact_path_ok(const char *path, size_t len);

/*
 * Opens the run folder run_dir for the walks below. Returns an fd (O_DIRECTORY, close on
 * exec; the caller closes it) or a negative errno value.
 */
int fo_artifact_root_open(const char *run_dir);

/*
 * Opens the artifact path below the folder rootfd for reading, following no symbolic link
 * at any level, without blocking (a FIFO is refused, not waited on), and only when it is
 * a regular file; its fstat goes into *st (may be NULL). path must pass
 * fo_artifact_path_ok (checked again here). Returns the fd (blocking mode, close on exec;
 * the caller closes it), or -ENOENT (absent), -ELOOP (a link on the way), -EINVAL (a bad
 * path, or not a regular file), or another negative errno value.
 */
int fo_artifact_open(int rootfd, const char *path, struct stat *st);

/* One regular file of a run folder. */
struct fo_artifact_entry {
	char *path;     /* relative to the run folder, "a/b.log" (owned) */
	uint64_t size;
	int64_t mtime;  /* seconds since the epoch */
};

struct fo_artifact_list {
	struct fo_artifact_entry *v; /* owned, sorted by path (strcmp) */
	size_t n, cap;
};

/*
 * Lists every regular file below rootfd (borrowed), recursively, skipping symbolic links,
 * other non-regular files, names that fo_artifact_path_ok refuses and folders deeper
 * than FO_ARTIFACT_MAX_DEPTH. Fills l (initialised here; release with
 * fo_artifact_list_release in any case). Returns 0 or a negative errno value when rootfd
 * cannot be read (folders below that cannot be read are skipped).
 */
int fo_artifact_list(int rootfd, struct fo_artifact_list *l);
void fo_artifact_list_release(struct fo_artifact_list *l);
/* Appends l as a JSON object {"path": bytes, ...} to out. */
void fo_artifact_list_json(const struct fo_artifact_list *l, struct fo_buf *out);

/* The Content-Type to serve an artifact named name with, by its extension (static). A
 * name ending in ".gz" is application/gzip. */
const char *fo_artifact_ctype(const char *name);
/* True when name's extension says its bytes are compressed already (.gz, .zip, .png...):
 * deflating them again is wasted work. */
bool fo_artifact_is_compressed(const char *name);

/*
 * Writes a zip of every regular file below rootfd (borrowed; as fo_artifact_list finds
 * them) to zip_path, each under "<top>/<path>" (top borrowed, without slashes at either
 * end), text deflated, compressed files stored. libzip (libzip.so.4) is loaded on first
 * use. A file that grows while the zip is written is cut at the size it had when listed.
 * Returns 0, or FO_EUNSUPPORTED (no libzip) or FO_EIO with the reason in err.
 */
int fo_artifact_zip(int rootfd, const char *top, const char *zip_path, struct fo_err *err);

/* ---- server-sent events ---- */

/* A partial line held back longer than this is sent as a line anyway. */
#define FO_SSE_MAX_LINE 65536

/*
 * Appends data (len bytes) to the held-back partial line *partial, then formats every
 * complete line as one event into out: "event: updated\n", one "data: <line>\n" per line
 * (a trailing "\r" dropped, other "\r" turned into spaces), "\n". With flush, a last line
 * without its newline counts as complete. What is left (a partial line) stays in
 * *partial. Appends nothing when there is no complete line. Returns the lines sent.
 */
size_t fo_sse_feed(struct fo_buf *partial, const char *data, size_t len, bool flush, struct fo_buf *out);
/* Appends "event: finished\ndata: <state>\n\n". */
void fo_sse_finished(struct fo_buf *out, const char *state);
/* Appends the comment ": heartbeat\n\n". */
void fo_sse_heartbeat(struct fo_buf *out);

/* What a tail asks its owner (the run's state); both called from the reading thread. */
struct fo_tail_ops {
	bool (*active)(void *arg);                         /* the run is queued or running */
	void (*final_state)(void *arg, struct fo_buf *out); /* appends the run's final state */
	bool (*cancelled)(void *arg);                      /* may be NULL; true: end the stream now
							      (the server is stopping) */
	int poll_ms;                                       /* how often to look; 0: 200 */
	int heartbeat_ms;                                  /* quiet time before a heartbeat; 0: 10000 */
};

/*
 * A follower of one artifact of a run, as server-sent events: the file's content from
 * offset on, then each growth; it waits for a file that does not exist yet while the run
 * is active, restarts from 0 when the file shrinks or is replaced, sends a heartbeat
 * after heartbeat_ms without events, and ends with the finished event once the run is no
 * longer active and everything was sent. The run folder run_dir may not exist yet either
 * (a queued run): it is opened once it does. Copies run_dir, path and ops; borrows arg
 * (which must outlive the tail).
 */
struct fo_tail;
struct fo_tail *fo_tail_new(const char *run_dir, const char *path, uint64_t offset, const struct fo_tail_ops *ops,
			    void *arg);
/* Writes up to max bytes of the event stream into buf, blocking (polling) until there
 * are some. Returns the bytes written, or -1 at the end of the stream. */
ssize_t fo_tail_read(struct fo_tail *t, char *buf, size_t max);
/* Closes the file and frees t (NULL is fine). */
void fo_tail_free(struct fo_tail *t);

#endif
