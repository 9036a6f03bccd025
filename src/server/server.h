/*
 * server.h: `fallout serve`: the configuration, and the server that ties the HTTP layer,
 * the store, authentication and the run queue together.
 *
 * Folders under the data folder (--data, default ./fallout-data):
 *   fallout.db                      the SQLite store
 *   runs/<owner>/<test>/<run id>/   each run's artifacts (Fallout's layout; FALLOUT-FORMAT.md 4)
 *   spool/<run id>/                 what the run's process is given (test.yaml, params.json)
 *                                   and its own output (exec.log); removed when the run ends
 *   state/                          the runs' ledgers (FALLOUT_STATE_DIR of the run processes)
 *   server.json                     {"url", "pid"} of the server running on this folder
 */
#ifndef FO_SERVER_SERVER_H
#define FO_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct fo_store;
struct fo_queue;
struct fo_http;
struct fo_auth;
struct fo_diags;

enum fo_auth_mode { FO_AUTH_MODE_MULTI, FO_AUTH_MODE_SINGLE_USER };

/* A resource limit: at most max nodes of this provisioner in use at once. */
struct fo_limit {
	const char *provisioner;
	int64_t max_nodes;
};

struct fo_server_config {
	const char *listen;             /* "127.0.0.1:8080" */
	const char *data_dir;           /* "fallout-data" */
	const char *store_url;          /* NULL: sqlite:<data>/fallout.db */
	const char *library;            /* test library for {{> partials}}; NULL: none */
	const char *public_url;         /* how clients reach us (Location headers); NULL: from listen */
	enum fo_auth_mode auth_mode;    /* FALLOUT_AUTH_MODE=SINGLE_USER or `auth_mode: single_user` */
	const char *admin_creds;        /* "name:email:password" (FALLOUT_ADMIN_CREDS) */
	bool registration;              /* anyone may create an account (POST /account/register) */
	int64_t max_running;            /* runs at once (0: no limit) */
	struct fo_limit *limits;        /* per provisioner */
	size_t nlimits;
	size_t max_body;                /* request body limit (bytes), default 4 MiB */
	size_t max_definition;          /* definition size limit, default 1 MiB */
	int64_t session_ttl_ms;         /* sign-in sessions, default 7 days */
	int64_t login_window_ms;        /* rate limit: at most login_max_failures per window */
	int64_t login_max_failures;     /* per email and per client address; default 5 per 60 s */
	int64_t compress_after_ms;      /* artifacts of runs finished this long ago are gzipped; 0: never */
	int64_t retention_ms;           /* runs finished this long ago are reaped unless kept; 0: never */
	int64_t housekeeping_every_ms;  /* default 1 hour */
	const char *fallout_exe;        /* the program that runs a test (this one; /proc/self/exe) */
	/* arena owning the strings above */
	struct fo_arena *a;
};

/*
 * Fills c with defaults, then the YAML config file at path (may be NULL), then the
 * environment (FALLOUT_AUTH_MODE, FALLOUT_ADMIN_CREDS). Unknown keys and bad values are
 * errors at file:line:col in d. Returns 0 or FO_EINVAL. Release with fo_server_config_release.
 */
int fo_server_config_load(struct fo_server_config *c, const char *path, struct fo_diags *d);
void fo_server_config_release(struct fo_server_config *c);

struct fo_server {
	const struct fo_server_config *cfg;
	struct fo_store *store;
	struct fo_queue *queue;
	struct fo_http *http;
	struct fo_auth *auth;          /* rate limiter state */
	char *data_dir;                /* absolute */
	char *runs_dir;                /* <data>/runs */
	char *spool_dir;               /* <data>/spool */
	char *state_dir;               /* <data>/state */
	char *url;                     /* "http://127.0.0.1:8080" */
	int64_t started_at;
};

/*
 * Starts the server: opens the store, creates the first admin, recovers the runs that were
 * active when the last server stopped (re-adopts or aborts them), starts the queue and the
 * HTTP listener, writes server.json. Returns 0 and *out, or an error in err.
 */
int fo_server_start(const struct fo_server_config *cfg, struct fo_server **out, struct fo_err *err);
/* Stops listening and the queue (runs in progress keep going; a later server re-adopts them). */
void fo_server_stop(struct fo_server *srv);

/* The run folder of a run (arena-owned): <data>/runs/<owner>/<test>/<run id>. */
struct fo_arena;
const char *fo_server_run_dir(const struct fo_server *srv, struct fo_arena *a, const char *owner,
			      const char *test, const char *run_id);
/* Milliseconds since the epoch. */
int64_t fo_now_ms(void);

#endif
