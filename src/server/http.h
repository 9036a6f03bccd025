/*
 * http.h: the HTTP layer of `fallout serve`: a libmicrohttpd daemon (loaded with dlopen on
 * first use, as libcurl and libssh are: linking it, with GnuTLS behind it, would cost every
 * fallout command ~2 ms of start-up), requests with an arena, responses, and dispatch
 * through one route table (routes.c) that also generates the OpenAPI description.
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a handler or a
 * streamed response (server-sent events, zip archives) may block without stalling others.
 * Handlers run concurrently: anything they share must be locked (the store is).
 */
#ifndef FO_SERVER_HTTP_H
#define FO_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

struct fo_arena;
struct fo_err;
struct fo_server;
struct fo_user;

/* Who may call a route. */
enum fo_auth_need {
	FO_AUTH_NONE,   /* anyone, signed in or not (health, sign-in, version) */
	FO_AUTH_USER,   /* a signed-in user (session cookie, Bearer token or single-user mode) */
	FO_AUTH_ADMIN,  /* an administrator */
};

struct fo_req;

/* A route handler: reads rq, sets exactly one response (fo_resp_*). Returns 0; a negative
 * return without a response set becomes a 500 with the error's message. */
typedef int (*fo_handler_fn)(struct fo_req *rq);

/*
 * A route. path is a pattern of literal segments and {param} segments; {param} matches one
 * segment, and its name constrains it:
 *   {email}  a segment holding '@' (a user's email)
 *   {name}   a test name: [0-9a-zA-Z._-]+
 *   {run}    a run id: [0-9a-fA-F-]+ (a UUID)
 *   {path*}  (last only) the rest of the path, one or more segments ("a/b/c.log")
 *   any other name: any one non-empty segment
 * The first route in table order whose method and pattern match wins; a path that matches
 * some route with another method gets 405 with Allow.
 */
struct fo_route {
	const char *method;       /* "GET", "POST", "PUT", "DELETE" */
	const char *path;         /* e.g. "/tests/{email}/{name}/runs/{run}/api" */
	fo_handler_fn handler;
	enum fo_auth_need auth;
	const char *summary;      /* one line, for the OpenAPI description */
	const char *body;         /* request body media type ("application/json", "application/x-yaml",
				     "application/x-www-form-urlencoded"), or NULL: none */
	const char *returns;      /* response media type ("application/json" ...) */
};

/* The route table (routes.c) and its length. */
extern const struct fo_route fo_routes[];
extern const size_t fo_nroutes;

/* A request, alive while its handler runs (and its response is sent). */
struct fo_req {
	struct fo_server *srv;
	struct fo_arena *a;          /* freed with the request: allocate anything here */
	const char *method;
	const char *path;            /* percent-decoded, without the query */
	const struct fo_route *route;
	const struct fo_user *user;  /* the signed-in user (NULL for FO_AUTH_NONE routes when nobody) */
	const char *session_id;      /* when signed in by cookie: the session's id (else NULL) */
	struct fo_buf body;          /* the request body (capped by the server's body limit) */
	const char *remote_ip;       /* the client's address, "127.0.0.1" */
	/* path parameters, in pattern order */
	const char *pnames[8];
	const char *pvalues[8];
	size_t nparams;
	/* the response being built (fo_resp_*) */
	int status;
	const char *ctype;
	struct fo_buf out;           /* body for buffer responses */
	int fd;                      /* >= 0: send this file from offset 0 for size bytes (taken) */
	uint64_t fd_size;
	/* a streamed response: read called until it returns -1 (end); it may block; free at the end */
	ssize_t (*stream_read)(void *ctx, uint64_t pos, char *buf, size_t max);
	void (*stream_free)(void *ctx);
	void *stream_ctx;
	const char *hnames[16];      /* extra response headers */
	const char *hvalues[16];
	size_t nheaders;
	bool responded;
	void *impl;                  /* the HTTP layer's */
};

/* The value of path parameter name, or NULL. */
const char *fo_req_param(const struct fo_req *rq, const char *name);
/* The value of query argument name (decoded), or NULL. */
const char *fo_req_query(const struct fo_req *rq, const char *name);
/* The value of request header name (case-insensitive), or NULL. */
const char *fo_req_header(const struct fo_req *rq, const char *name);
/* The value of cookie name, or NULL. */
const char *fo_req_cookie(const struct fo_req *rq, const char *name);
/* The value of form field name from an application/x-www-form-urlencoded body (decoded,
 * arena-owned), or NULL. */
const char *fo_req_form(struct fo_req *rq, const char *name);

/* Responses: each replaces any earlier one. Strings are copied. */
void fo_resp_json(struct fo_req *rq, int status, const char *json);
/* As fo_resp_json with the JSON text built in b, whose memory it takes (b is left empty):
 * a large listing is not copied. */
void fo_resp_json_buf(struct fo_req *rq, int status, struct fo_buf *b);
/* {"message": "<printf text>"} with status. */
void fo_resp_error(struct fo_req *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fo_resp_text(struct fo_req *rq, int status, const char *ctype, const char *text, size_t len);
/* Sends the open file fd (taken: closed after sending) of size bytes. */
void fo_resp_fd(struct fo_req *rq, int status, const char *ctype, int fd, uint64_t size);
/* A streamed response of unknown length (chunked). */
void fo_resp_stream(struct fo_req *rq, int status, const char *ctype,
		    ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max), void (*free_ctx)(void *ctx),
		    void *ctx);
/* Adds a response header (copied). */
void fo_resp_header(struct fo_req *rq, const char *name, const char *value);

/* The daemon. */
struct fo_http;
struct fo_http_opts {
	const char *listen;          /* "ADDR:PORT"; port 0 picks a free one */
	size_t max_body;             /* request bodies larger get 413 */
	unsigned max_connections;
};
/* Starts serving srv's routes. Returns 0 and *out, or an error (libmicrohttpd missing,
 * address in use...) in err. */
int fo_http_start(struct fo_server *srv, const struct fo_http_opts *o, struct fo_http **out, struct fo_err *err);
/* The port actually bound. */
int fo_http_port(const struct fo_http *h);
/* Stops accepting, waits for handlers to finish, frees. */
void fo_http_stop(struct fo_http *h);
/* True once fo_http_stop has begun: streamed responses that wait (live logs) end at once. */
bool fo_http_stopping(void);

/* Matches method and path against the route table (exposed for tests). Returns the route
 * and fills rq's params, or NULL; *other_method is set when the path matched a route of
 * another method. */
const struct fo_route *fo_http_match(struct fo_req *rq, const char *method, const char *path, bool *other_method);
/* Writes the OpenAPI 3.0 description of the route table as JSON into out. */
void fo_http_openapi(struct fo_buf *out, const char *server_url);

#endif
