/*
 * client.h: the HTTP client of fallout's server API (FALLOUT-FORMAT.md 6), used by the
 * `login`, `test` and `run` commands. A client is a base URL plus a credential (an API
 * token sent as "Authorization: Bearer", or a session cookie and its CSRF token while
 * signing in); a request is a method, a path under the base URL, an optional body with its
 * content type, and gives back the status, the headers and the body (or streams the body
 * to a callback, for downloads and server-sent events).
 *
 * Where the client's settings come from (fo_client_config_resolve): --server/--token flags,
 * else $FALLOUT_SERVER / $FALLOUT_TOKEN, else the JSON file $FALLOUT_CLIENT_CONFIG
 * (default ~/.config/fallout/client.json: {"server", "token", "email"}), which
 * `fallout login` writes.
 *
 * Library code: nothing here prints or exits; errors go into a struct fo_err.
 */
#ifndef FO_CLIENT_CLIENT_H
#define FO_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct fo_err;

/* Where to and as whom. Strings are owned; release with fo_client_release. */
struct fo_client {
	char *server;      /* base URL without a trailing slash, "http://127.0.0.1:8080" */
	char *token;       /* API token; NULL while signing in */
	char *email;       /* the user's email when known (from the config file), else NULL */
	char *cookie;      /* "fallout_session=..." after fo_client_login_session, else NULL */
	char *csrf;        /* the CSRF token that goes with cookie */
	long timeout_ms;   /* whole-request limit; 0: none (default 60 s, set by _init) */
};

/* What a request got back. Zero-initialise with FO_CLIENT_RESP_INIT; release with
 * fo_client_resp_release. */
struct fo_client_resp {
	long status;             /* the HTTP status; 0 when no response came */
	struct fo_buf body;      /* the body, unless a sink took it */
	struct fo_buf headers;   /* the raw header lines of the (last) response */
};
#define FO_CLIENT_RESP_INIT {.status = 0, .body = FO_BUF_INIT, .headers = FO_BUF_INIT}

/* Receives the body in pieces instead of resp->body; returns false to stop the transfer
 * (the request then still succeeds). */
typedef bool (*fo_client_sink_fn)(void *ctx, const char *data, size_t n);
/* Asked about once a second and whenever data arrives; returns true to stop the transfer. */
typedef bool (*fo_client_cancel_fn)(void *ctx);

/* One request. Only method and path are required. */
struct fo_client_req {
	const char *method;      /* "GET", "POST", "PUT", "DELETE" */
	const char *path;        /* under the base URL, starting with '/', with any query */
	const char *ctype;       /* the body's Content-Type; NULL for no body */
	const void *body;        /* borrowed */
	size_t len;
	fo_client_sink_fn sink;  /* NULL: collect the body into resp->body */
	fo_client_cancel_fn cancel;
	void *ctx;               /* for sink and cancel */
	bool no_timeout;         /* streams (server-sent events) run as long as they last */
};

/* Initialises c for server (borrowed, copied; a trailing '/' is dropped) and token (may be
 * NULL). */
void fo_client_init(struct fo_client *c, const char *server, const char *token);
/* Frees c's strings. */
void fo_client_release(struct fo_client *c);
/* Releases resp's buffers and zeroes its status. */
void fo_client_resp_release(struct fo_client_resp *resp);

/*
 * Sends rq and fills resp (which it clears first). Returns 0 whenever a response came,
 * whatever its status (the caller judges resp->status), or FO_ENET with
 * "cannot reach 'URL': reason" in err when none did. Thread-safe: each call has its own
 * connection.
 */
int fo_client_request(struct fo_client *c, const struct fo_client_req *rq, struct fo_client_resp *resp,
		      struct fo_err *err);
/* Shorthand for a request with a JSON body (json may be NULL: no body). */
int fo_client_json(struct fo_client *c, const char *method, const char *path, const char *json,
		   struct fo_client_resp *resp, struct fo_err *err);

/*
 * Returns the value of the first header called name (case-insensitive) in resp as an
 * owned string, or NULL.
 */
char *fo_client_header(const struct fo_client_resp *resp, const char *name);
/*
 * Writes what a failed response says into out: the "message" of a JSON error body, else
 * its first line of text, else "HTTP status N". Replaces out's contents.
 */
void fo_client_error_message(const struct fo_client_resp *resp, struct fo_buf *out);
/*
 * Appends s to out percent-encoded for a URL path segment (keeps letters, digits and
 * "-._~@"); with keep_slash, '/' too (an artifact's path).
 */
void fo_client_escape(struct fo_buf *out, const char *s, bool keep_slash);

/*
 * Signs in with the login form (POST /account/login, fields email and password): keeps the
 * session cookie and the CSRF token in c. Returns 0; FO_EINVAL with the server's message
 * in err when it refuses (401, 429...), *status set to its HTTP status; FO_ENET when the
 * server cannot be reached.
 */
int fo_client_login_session(struct fo_client *c, const char *email, const char *password, long *status,
			    struct fo_err *err);
/*
 * Creates an API token labelled label (POST /account/tokens/api) with c's session or
 * token; returns it owned in *token. Errors as fo_client_login_session.
 */
int fo_client_create_token(struct fo_client *c, const char *label, char **token, long *status,
			   struct fo_err *err);

/* The client settings from flags, environment and file. Owned strings; NULL when unset. */
struct fo_client_config {
	char *server;
	char *token;
	char *email;
	char *path;        /* the config file consulted (or to write) */
};

/* Returns the config file's path as an owned string: $FALLOUT_CLIENT_CONFIG, else
 * $XDG_CONFIG_HOME/fallout/client.json, else ~/.config/fallout/client.json. */
char *fo_client_config_path(void);
/*
 * Fills cfg: each of server and token from its flag (may be NULL), else the environment,
 * else the config file (a missing file is fine, leaving them NULL). Returns 0, or FO_EPARSE
 * when the file exists but is not a JSON object, with the reason in err. Release with
 * fo_client_config_release either way.
 */
int fo_client_config_resolve(struct fo_client_config *cfg, const char *server_flag, const char *token_flag,
			     struct fo_err *err);
void fo_client_config_release(struct fo_client_config *cfg);
/*
 * Writes {"server", "token", "email"} to path atomically (a temporary file beside it,
 * renamed into place), mode 0600, creating its folder (mode 0700) when missing. Returns 0
 * or FO_EIO with the reason in err.
 */
int fo_client_config_save(const char *path, const char *server, const char *token, const char *email,
			  struct fo_err *err);

#endif
