/*
 * http.c: the HTTP layer of `fallout serve` over libmicrohttpd. The library is loaded with
 * dlopen on first use into a function table (linking it, with GnuTLS behind it, would slow
 * the start-up of every fallout command). One thread per connection: a handler or a
 * streamed response may block. Each request gets a context holding its struct fo_req and
 * an arena; the body is read into rq->body up to the body limit (413 past it), then the
 * route is matched (404, 405 with Allow), the caller authenticated (auth.c) and the route's
 * handler run; what it set with fo_resp_* becomes the libmicrohttpd response. Every
 * request is logged on stderr when it completes:
 *   2026-11-30T10:07:40.303Z 127.0.0.1 GET /health 200 1ms -
 * The route table also produces the API's OpenAPI 3.0 description (fo_http_openapi).
 */
#include "util/common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/auth.h"
#include "server/http.h"
#include "server/server.h"
#include "server/store.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/proc.h"
#include "version.h"

#define MHD_LIB "libmicrohttpd.so.12"
#define STREAM_BLOCK (64 * 1024)       /* bytes asked of a streamed response at a time */
#define CONN_TIMEOUT_S 120u            /* idle connections are closed after this */
#define DEFAULT_MAX_CONNECTIONS 1000u
#define DISCARD_SLACK (16u * 1024 * 1024) /* body bytes read and dropped after a 413, before hanging up */

/* ---- the library ---- */

static struct {
	struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
					   void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
	void (*stop_daemon)(struct MHD_Daemon *d);
	const char *(*lookup_connection_value)(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key);
	const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *c,
								enum MHD_ConnectionInfoType t, ...);
	struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
							     enum MHD_ResponseMemoryMode mode);
	struct MHD_Response *(*create_response_from_fd64)(uint64_t size, int fd);
	struct MHD_Response *(*create_response_from_callback)(uint64_t size, size_t block_size,
							       MHD_ContentReaderCallback crc, void *crc_cls,
							       MHD_ContentReaderFreeCallback crfc);
	enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header, const char *content);
	enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
	void (*destroy_response)(struct MHD_Response *r);
} mhd;
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static bool mhd_loaded;
static char mhd_load_error[256];

static void mhd_load(void)
{
	void *lib = dlopen(MHD_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(mhd_load_error, sizeof(mhd_load_error), "%s not found: install libmicrohttpd12", MHD_LIB);
		return;
	}
	*(void **)&mhd.start_daemon = dlsym(lib, "MHD_start_daemon");
	*(void **)&mhd.stop_daemon = dlsym(lib, "MHD_stop_daemon");
	*(void **)&mhd.lookup_connection_value = dlsym(lib, "MHD_lookup_connection_value");
	*(void **)&mhd.get_connection_info = dlsym(lib, "MHD_get_connection_info");
	*(void **)&mhd.create_response_from_buffer = dlsym(lib, "MHD_create_response_from_buffer");
	*(void **)&mhd.create_response_from_fd64 = dlsym(lib, "MHD_create_response_from_fd64");
	*(void **)&mhd.create_response_from_callback = dlsym(lib, "MHD_create_response_from_callback");
	*(void **)&mhd.add_response_header = dlsym(lib, "MHD_add_response_header");
	*(void **)&mhd.queue_response = dlsym(lib, "MHD_queue_response");
	*(void **)&mhd.destroy_response = dlsym(lib, "MHD_destroy_response");
	if (!mhd.start_daemon || !mhd.stop_daemon || !mhd.lookup_connection_value || !mhd.get_connection_info ||
	    !mhd.create_response_from_buffer || !mhd.create_response_from_fd64 ||
	    !mhd.create_response_from_callback || !mhd.add_response_header || !mhd.queue_response ||
	    !mhd.destroy_response) {
		snprintf(mhd_load_error, sizeof(mhd_load_error), "%s lacks a function fallout needs", MHD_LIB);
		return;
	}
	mhd_loaded = true;
}

/* ---- the daemon and its requests ---- */

struct fo_http {
	struct MHD_Daemon *d;
	struct fo_server *srv;
	size_t max_body;
	int port;
};

/* What the HTTP layer keeps per request (rq->impl). */
struct reqctx {
	struct fo_req rq;
	struct fo_http *h;
	struct MHD_Connection *conn;
	atomic_int refs;        /* the request, and a streamed response while MHD holds it */
	int64_t start_ns;       /* fo_now_ns() when the request came */
	bool too_big;           /* the body passed the limit: answer 413 */
	bool bad_uri;           /* the URI held an encoded NUL */
	bool queued;            /* a response was handed to MHD */
	uint64_t discarded;     /* body bytes dropped after too_big */
	int status;             /* as sent, for the log */
	char ip[INET6_ADDRSTRLEN];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Set by the unescape callback when a URI (path or query) held %00; read by the request's
 * first call, which runs next on the same connection thread. */
static _Thread_local bool uri_had_nul;

static void reqctx_unref(struct reqctx *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	struct fo_req *rq = &c->rq;
	if (rq->fd >= 0)
		close(rq->fd);
	if (rq->stream_free && rq->stream_ctx) /* never handed to a response */
		rq->stream_free(rq->stream_ctx);
	fo_buf_release(&rq->body);
	fo_buf_release(&rq->out);
	fo_arena_free(rq->a);
	fo_free(c);
}

static void access_log(struct reqctx *c)
{
	char when[40];
	fo_format_time(fo_wall_ns(), when, sizeof(when));
	const struct fo_req *rq = &c->rq;
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s %s %s %s %d %lldms %s\n", when, c->ip[0] ? c->ip : "-", rq->method ? rq->method : "-",
		rq->path ? rq->path : "-", c->status, (long long)((fo_now_ns() - c->start_ns) / 1000000),
		rq->user && rq->user->email ? rq->user->email : "-");
	pthread_mutex_unlock(&log_lock);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	FO_UNUSED(cls);
	FO_UNUSED(conn);
	FO_UNUSED(toe);
	struct reqctx *c = *con_cls;
	if (!c)
		return;
	*con_cls = NULL;
	access_log(c);
	reqctx_unref(c);
}

/* Percent-decodes s in place, but leaves "%00" as it is and notes it (a NUL would cut the
 * string short unseen). '+' in query arguments was already made a space by the library. */
static size_t unescape_cb(void *cls, struct MHD_Connection *conn, char *s)
{
	FO_UNUSED(cls);
	FO_UNUSED(conn);
	char *w = s;
	for (const char *r = s; *r;) {
		if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
			char hex[3] = {r[1], r[2], 0};
			long v = strtol(hex, NULL, 16);
			if (v == 0) {
				uri_had_nul = true;
				*w++ = *r++;
				continue;
			}
			*w++ = (char)v;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
{
	FO_UNUSED(cls);
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "fallout: http: %s\n", msg);
	pthread_mutex_unlock(&log_lock);
}

/* ---- responses ---- */

static void resp_reset(struct fo_req *rq, int status, const char *ctype)
{
	if (rq->responded && rq->fd >= 0)
		close(rq->fd);
	rq->fd = -1;
	rq->fd_size = 0;
	if (rq->stream_free && rq->stream_ctx)
		rq->stream_free(rq->stream_ctx);
	rq->stream_read = NULL;
	rq->stream_free = NULL;
	rq->stream_ctx = NULL;
	if (!rq->out.s)
		fo_buf_init(&rq->out, 0);
	fo_buf_clear(&rq->out);
	rq->status = status;
	rq->ctype = rq->a && ctype ? fo_arena_strdup(rq->a, ctype) : ctype;
	rq->responded = true;
}

void fo_resp_json(struct fo_req *rq, int status, const char *json)
{
	resp_reset(rq, status, "application/json");
	fo_buf_adds(&rq->out, json);
}

void fo_resp_json_buf(struct fo_req *rq, int status, struct fo_buf *b)
{
	resp_reset(rq, status, "application/json");
	struct fo_buf old = rq->out;
	rq->out = *b;
	*b = old;
	fo_buf_release(b);
}

void fo_resp_error(struct fo_req *rq, int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_reset(rq, status, "application/json");
	fo_buf_adds(&rq->out, "{\"message\": ");
	fo_buf_add_json_str(&rq->out, msg, strlen(msg));
	fo_buf_addch(&rq->out, '}');
}

void fo_resp_text(struct fo_req *rq, int status, const char *ctype, const char *text, size_t len)
{
	resp_reset(rq, status, ctype);
	fo_buf_add(&rq->out, text, len);
}

void fo_resp_fd(struct fo_req *rq, int status, const char *ctype, int fd, uint64_t size)
{
	resp_reset(rq, status, ctype);
	rq->fd = fd;
	rq->fd_size = size;
}

void fo_resp_stream(struct fo_req *rq, int status, const char *ctype,
		    ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max), void (*free_ctx)(void *ctx),
		    void *ctx)
{
	resp_reset(rq, status, ctype);
	rq->stream_read = read;
	rq->stream_free = free_ctx;
	rq->stream_ctx = ctx;
}

void fo_resp_header(struct fo_req *rq, const char *name, const char *value)
{
	if (rq->nheaders >= FO_ARRAY_LEN(rq->hnames))
		return;
	rq->hnames[rq->nheaders] = rq->a ? fo_arena_strdup(rq->a, name) : name;
	rq->hvalues[rq->nheaders] = rq->a ? fo_arena_strdup(rq->a, value) : value;
	rq->nheaders++;
}

/* ---- request accessors ---- */

const char *fo_req_param(const struct fo_req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nparams; i++)
		if (strcmp(rq->pnames[i], name) == 0)
			return rq->pvalues[i];
	return NULL;
}

const char *fo_req_query(const struct fo_req *rq, const char *name)
{
	const struct reqctx *c = rq->impl;
	if (!c || !c->conn)
		return NULL;
	return mhd.lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *fo_req_header(const struct fo_req *rq, const char *name)
{
	const struct reqctx *c = rq->impl;
	if (!c || !c->conn)
		return NULL;
	/* libmicrohttpd compares header names ignoring case. */
	return mhd.lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

const char *fo_req_cookie(const struct fo_req *rq, const char *name)
{
	const char *h = fo_req_header(rq, "Cookie");
	if (!h || !rq->a)
		return NULL;
	size_t nlen = strlen(name);
	const char *p = h;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchrnul(p, ';');
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq) {
			const char *k = p, *ke = eq;
			while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
				ke--;
			if ((size_t)(ke - k) == nlen && memcmp(k, name, nlen) == 0) {
				const char *v = eq + 1, *ve = end;
				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
					v++;
					ve--;
				}
				return fo_arena_strndup(rq->a, v, (size_t)(ve - v));
			}
		}
		p = end;
	}
	return NULL;
}

/* Decodes n bytes of form-encoded s ('+' is a space) into an arena string; NULL when it
 * holds a NUL or a bad escape. */
static char *form_decode(struct fo_arena *a, const char *s, size_t n)
{
	char *out = fo_arena_alloc(a, n + 1), *w = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*w++ = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
				return NULL;
			char hex[3] = {s[i + 1], s[i + 2], 0};
			long v = strtol(hex, NULL, 16);
			if (v == 0)
				return NULL;
			*w++ = (char)v;
			i += 2;
		} else if (s[i] == '\0') {
			return NULL;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

const char *fo_req_form(struct fo_req *rq, const char *name)
{
	if (!rq->a || !rq->body.s)
		return NULL;
	const char *p = rq->body.s, *end = rq->body.s + rq->body.len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));
		const char *ke = eq ? eq : fe;
		char *key = form_decode(rq->a, p, (size_t)(ke - p));
		if (key && strcmp(key, name) == 0)
			return eq ? form_decode(rq->a, eq + 1, (size_t)(fe - eq - 1)) : "";
		p = fe + 1;
	}
	return NULL;
}

/* ---- routing ---- */

/* A {param} matched while trying one route. */
struct capture {
	const char *name, *value;
	size_t nlen, vlen;
};

static bool is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-';
}

/* Does value (vlen bytes, one segment) satisfy the constraint of parameter name? */
static bool param_ok(const char *name, size_t nlen, const char *v, size_t vlen)
{
	if (vlen == 0)
		return false;
	if (nlen == 5 && memcmp(name, "email", 5) == 0)
		return memchr(v, '@', vlen) != NULL;
	if (nlen == 4 && memcmp(name, "name", 4) == 0) {
		if ((vlen == 1 && v[0] == '.') || (vlen == 2 && v[0] == '.' && v[1] == '.'))
			return false;
		for (size_t i = 0; i < vlen; i++)
			if (!is_name_char(v[i]))
				return false;
		return true;
	}
	if (nlen == 3 && memcmp(name, "run", 3) == 0) {
		for (size_t i = 0; i < vlen; i++)
			if (!isxdigit((unsigned char)v[i]) && v[i] != '-')
				return false;
		return true;
	}
	return true;
}

/* Matches path against pattern, filling caps (at most 8). Returns the number of captures
 * (>= 0), or -1 when it does not match. */
static int pattern_match(const char *pattern, const char *path, struct capture *caps)
{
	const char *p = pattern, *s = path;
	int n = 0;
	while (*p) {
		if (*p != '/' || *s != '/')
			return -1;
		p++;
		s++;
		const char *pe = strchrnul(p, '/'), *se = strchrnul(s, '/');
		if (*p == '{') {
			const char *name = p + 1;
			size_t nlen = (size_t)(pe - name) - 1; /* without '}' */
			bool rest = nlen > 0 && name[nlen - 1] == '*';
			if (rest)
				nlen--;
			if (n >= 8)
				return -1;
			if (rest) {
				/* The rest of the path: one or more non-empty segments. */
				const char *e = s + strlen(s);
				if (e == s || e[-1] == '/' || strstr(s, "//"))
					return -1;
				se = e;
			} else if (!param_ok(name, nlen, s, (size_t)(se - s))) {
				return -1;
			}
			caps[n++] = (struct capture){name, s, nlen, (size_t)(se - s)};
		} else if ((pe - p) != (se - s) || memcmp(p, s, (size_t)(pe - p)) != 0) {
			return -1;
		}
		p = pe;
		s = se;
	}
	return *s == '\0' ? n : -1;
}

const struct fo_route *fo_http_match(struct fo_req *rq, const char *method, const char *path, bool *other_method)
{
	struct capture caps[8];
	if (other_method)
		*other_method = false;
	for (size_t i = 0; i < fo_nroutes; i++) {
		const struct fo_route *r = &fo_routes[i];
		int n = pattern_match(r->path, path, caps);
		if (n < 0)
			continue;
		if (strcmp(r->method, method) != 0) {
			if (other_method)
				*other_method = true;
			continue;
		}
		if (rq) {
			rq->nparams = 0;
			for (int k = 0; k < n && rq->a; k++) {
				rq->pnames[k] = fo_arena_strndup(rq->a, caps[k].name, caps[k].nlen);
				rq->pvalues[k] = fo_arena_strndup(rq->a, caps[k].value, caps[k].vlen);
				rq->nparams++;
			}
		}
		return r;
	}
	return NULL;
}

/* The methods of the routes matching path, as "GET, POST", into out. */
static void allowed_methods(const char *path, char *out, size_t n)
{
	struct capture caps[8];
	out[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < fo_nroutes; i++) {
		if (pattern_match(fo_routes[i].path, path, caps) < 0)
			continue;
		const char *m = fo_routes[i].method;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(fo_routes[j].method, m) == 0 && pattern_match(fo_routes[j].path, path, caps) >= 0;
		if (seen)
			continue;
		int w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", m);
		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
}

/* True when path has an empty, "." or ".." segment. */
static bool has_dot_segment(const char *path)
{
	for (const char *p = path; *p;) {
		p++; /* past '/' */
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return true;
		p = e;
	}
	return false;
}

/* Runs the request: checks, route, authentication, handler. Leaves a response set. */
static void dispatch(struct reqctx *c)
{
	struct fo_req *rq = &c->rq;
	if (c->bad_uri) {
		fo_resp_error(rq, 400, "invalid URL: it holds an encoded NUL (%%00)");
		return;
	}
	if (rq->path[0] != '/') {
		fo_resp_error(rq, 400, "invalid path '%s': it must start with '/'", rq->path);
		return;
	}
	if (has_dot_segment(rq->path)) {
		fo_resp_error(rq, 400, "invalid path '%s': '.' and '..' segments are not allowed", rq->path);
		return;
	}
	/* HEAD is answered as GET (libmicrohttpd drops the body). */
	const char *method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
	bool other = false;
	const struct fo_route *r = fo_http_match(rq, method, rq->path, &other);
	if (!r) {
		if (other) {
			char allow[128];
			allowed_methods(rq->path, allow, sizeof(allow));
			fo_resp_error(rq, 405, "method %s is not allowed on %s (allowed: %s)", rq->method, rq->path,
				      allow);
			fo_resp_header(rq, "Allow", allow);
		} else {
			fo_resp_error(rq, 404, "no such path: %s", rq->path);
		}
		return;
	}
	rq->route = r;
	if (fo_auth_request(rq) != 0) {
		if (!rq->responded)
			fo_resp_error(rq, 500, "authentication is not available");
		return;
	}
	int rc = r->handler(rq);
	if (!rq->responded)
		fo_resp_error(rq, 500, "%s", rc ? fo_strerror(rc) : "the handler set no response");
}

/* ---- handing the response to libmicrohttpd ---- */

static ssize_t stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct reqctx *c = cls;
	struct fo_req *rq = &c->rq;
	for (;;) {
		ssize_t n = rq->stream_read(rq->stream_ctx, pos, buf, max);
		if (n < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (n > 0)
			return n;
		/* A reader must block rather than return 0; do not spin if one does. */
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void stream_free_cb(void *cls)
{
	struct reqctx *c = cls;
	struct fo_req *rq = &c->rq;
	if (rq->stream_free && rq->stream_ctx)
		rq->stream_free(rq->stream_ctx);
	rq->stream_ctx = NULL;
	rq->stream_free = NULL;
	reqctx_unref(c);
}

static bool is_json(const char *ctype)
{
	return ctype && strncasecmp(ctype, "application/json", 16) == 0;
}

static enum MHD_Result send_response(struct reqctx *c)
{
	struct fo_req *rq = &c->rq;
	struct MHD_Response *r = NULL;
	if (rq->stream_read) {
		atomic_fetch_add(&c->refs, 1);
		r = mhd.create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_cb, c, stream_free_cb);
		if (!r)
			atomic_fetch_sub(&c->refs, 1);
	} else if (rq->fd >= 0) {
		r = mhd.create_response_from_fd64(rq->fd_size, rq->fd);
		if (r)
			rq->fd = -1; /* the response closes it */
	} else {
		r = mhd.create_response_from_buffer(rq->out.len, rq->out.s, MHD_RESPMEM_MUST_COPY);
	}
	if (!r) {
		static const char msg[] = "{\"message\": \"cannot build the response\"}";
		rq->status = 500;
		rq->ctype = "application/json";
		rq->nheaders = 0;
		r = mhd.create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
	}
	for (size_t i = 0; i < rq->nheaders; i++)
		mhd.add_response_header(r, rq->hnames[i], rq->hvalues[i]);
	if (rq->ctype)
		mhd.add_response_header(r, "Content-Type", rq->ctype);
	mhd.add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (is_json(rq->ctype))
		mhd.add_response_header(r, "Cache-Control", "no-store");
	c->status = rq->status;
	c->queued = true;
	enum MHD_Result ret = mhd.queue_response(c->conn, (unsigned)rq->status, r);
	mhd.destroy_response(r);
	return ret;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t n)
{
	out[0] = '\0';
	const union MHD_ConnectionInfo *ci = mhd.get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)n);
}

static struct reqctx *reqctx_new(struct fo_http *h, struct MHD_Connection *conn, const char *url,
				 const char *method)
{
	struct reqctx *c = fo_calloc(1, sizeof(*c));
	atomic_init(&c->refs, 1);
	c->start_ns = fo_now_ns();
	c->h = h;
	c->conn = conn;
	c->bad_uri = uri_had_nul;
	uri_had_nul = false;
	client_ip(conn, c->ip, sizeof(c->ip));
	struct fo_req *rq = &c->rq;
	rq->srv = h->srv;
	rq->a = fo_arena_new();
	rq->method = fo_arena_strdup(rq->a, method);
	rq->path = fo_arena_strdup(rq->a, url);
	rq->remote_ip = c->ip;
	fo_buf_init(&rq->body, h->max_body);
	fo_buf_init(&rq->out, 0);
	rq->fd = -1;
	rq->impl = c;
	return c;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size,
				 void **con_cls)
{
	FO_UNUSED(version);
	struct fo_http *h = cls;
	struct reqctx *c = *con_cls;
	if (!c) {
		c = reqctx_new(h, conn, url, method);
		*con_cls = c;
		const char *cl = mhd.lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(cl, &end, 10);
			if (errno || end == cl || v > h->max_body) {
				fo_resp_error(&c->rq, 413, "the request body is larger than the limit of %zu bytes",
					      h->max_body);
				return send_response(c);
			}
		}
		return MHD_YES;
	}
	if (c->queued) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (!c->too_big && fo_buf_add(&c->rq.body, upload_data, n) != 0) {
			c->too_big = true;
			fo_buf_release(&c->rq.body);
		}
		if (c->too_big) {
			c->discarded += n;
			if (c->discarded > DISCARD_SLACK)
				return MHD_NO; /* hang up on an endless body */
		}
		return MHD_YES;
	}
	if (c->too_big) {
		fo_resp_error(&c->rq, 413, "the request body is larger than the limit of %zu bytes", h->max_body);
		return send_response(c);
	}
	dispatch(c);
	return send_response(c);
}

/* ---- start and stop ---- */

/* Parses "ADDR:PORT" or "[ADDR6]:PORT" into ss. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, struct fo_err *err)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	char *end;
	errno = 0;
	long p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 0 || p > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
bad:
	return fo_err_set(err, FO_EINVAL,
			  "invalid listen address '%s': expected ADDR:PORT (\"127.0.0.1:8080\", \"[::1]:8080\")", s);
}

/* Opens the listening socket ourselves, so that "address in use" can be told apart. */
static int open_listener(const char *listen_s, int *fd_out, int *port_out, struct fo_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int rc = parse_listen(listen_s, &ss, &len, err);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fo_err_set(err, FO_ENET, "cannot listen on '%s': %s", listen_s, strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return fo_err_set(err, FO_ENET, "cannot listen on '%s': the address is in use (another server?)",
					  listen_s);
		return fo_err_set(err, FO_ENET, "cannot listen on '%s': %s", listen_s, strerror(e));
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
		close(fd);
		return fo_err_set(err, FO_ENET, "cannot listen on '%s': %s", listen_s, strerror(errno));
	}
	*port_out = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						      : ((struct sockaddr_in *)&bound)->sin_port);
	*fd_out = fd;
	return 0;
}

/* Set while a daemon stops (one server per process; a later start clears it). */
static atomic_bool stopping;

int fo_http_start(struct fo_server *srv, const struct fo_http_opts *o, struct fo_http **out, struct fo_err *err)
{
	*out = NULL;
	atomic_store(&stopping, false);
	pthread_once(&mhd_once, mhd_load);
	if (!mhd_loaded)
		return fo_err_set(err, FO_EUNSUPPORTED, "%s", mhd_load_error);
	int fd, port;
	int rc = open_listener(o->listen ? o->listen : "127.0.0.1:8080", &fd, &port, err);
	if (rc)
		return rc;
	struct fo_http *h = fo_calloc(1, sizeof(*h));
	h->srv = srv;
	h->max_body = o->max_body ? o->max_body : 4u * 1024 * 1024;
	h->port = port;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ERROR_LOG;
	/* The logger must come first, or libmicrohttpd prints its own complaint. */
	h->d = mhd.start_daemon(flags, 0, NULL, NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log_cb, h,
				MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
				o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed_cb,
				h, MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, h, MHD_OPTION_END);
	if (!h->d) {
		/* libmicrohttpd may or may not have closed fd; leaving it is safer than closing twice. */
		fo_free(h);
		return fo_err_set(err, FO_ENET, "cannot start the HTTP server on '%s'", o->listen);
	}
	*out = h;
	return 0;
}

int fo_http_port(const struct fo_http *h)
{
	return h ? h->port : 0;
}

bool fo_http_stopping(void)
{
	return atomic_load(&stopping);
}

void fo_http_stop(struct fo_http *h)
{
	if (!h)
		return;
	atomic_store(&stopping, true);
	mhd.stop_daemon(h->d);
	fo_free(h);
}

/* ---- OpenAPI ---- */

/* "/tests/{email}/{name}/api" with GET -> "get_tests_email_name_api". */
static json_t *operation_id(const struct fo_route *r)
{
	char id[256];
	size_t n = 0;
	for (const char *m = r->method; *m && n + 1 < sizeof(id); m++)
		id[n++] = (char)tolower((unsigned char)*m);
	bool sep = true;
	for (const char *p = r->path; *p && n + 2 < sizeof(id); p++) {
		if (isalnum((unsigned char)*p)) {
			if (sep)
				id[n++] = '_';
			id[n++] = *p;
			sep = false;
		} else {
			sep = true;
		}
	}
	id[n] = '\0';
	return json_string(id);
}

/* The pattern as OpenAPI writes it: "{path*}" -> "{path}". Also adds its parameters to params. */
static void openapi_path(const char *pattern, char *out, size_t n, json_t *params)
{
	size_t w = 0;
	for (const char *p = pattern; *p && w + 1 < n; p++) {
		if (*p == '*' && p[1] == '}')
			continue;
		out[w++] = *p;
		if (*p == '{') {
			const char *e = strchr(p, '}');
			size_t len = e ? (size_t)(e - p - 1) : 0;
			if (len && p[len] == '*')
				len--;
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
			json_t *prm = json_object();
			json_object_set_new(prm, "name", json_string(name));
			json_object_set_new(prm, "in", json_string("path"));
			json_object_set_new(prm, "required", json_true());
			json_t *schema = json_object();
			json_object_set_new(schema, "type", json_string("string"));
			const char *pat = strcmp(name, "name") == 0 ? "^[0-9a-zA-Z._-]+$"
					  : strcmp(name, "run") == 0 ? "^[0-9a-fA-F-]+$"
					  : strcmp(name, "email") == 0 ? "@"
									: NULL;
			if (pat)
				json_object_set_new(schema, "pattern", json_string(pat));
			json_object_set_new(prm, "schema", schema);
			if (strcmp(name, "path") == 0)
				json_object_set_new(prm, "description",
						    json_string("a path below the run folder, slashes included"));
			json_array_append_new(params, prm);
		}
	}
	out[w] = '\0';
}

static json_t *media(const char *type)
{
	json_t *m = json_object();
	json_t *schema = json_object();
	if (strcmp(type, "application/json") == 0 || strcmp(type, "application/x-www-form-urlencoded") == 0) {
		json_object_set_new(schema, "type", json_string("object"));
	} else {
		json_object_set_new(schema, "type", json_string("string"));
		if (strncmp(type, "text/", 5) != 0 && strcmp(type, "application/x-yaml") != 0)
			json_object_set_new(schema, "format", json_string("binary"));
	}
	json_object_set_new(m, "schema", schema);
	json_t *c = json_object();
	json_object_set_new(c, type, m);
	return c;
}

static json_t *tag_of(const char *path)
{
	const char *p = path + 1;
	size_t n = strcspn(p, "/");
	char tag[64];
	snprintf(tag, sizeof(tag), "%.*s", (int)n, p);
	if (strcmp(tag, "live") == 0 || strcmp(tag, "performance") == 0)
		snprintf(tag, sizeof(tag), "artifacts");
	else if (strcmp(tag, "tests") == 0 && (strstr(path, "/runs") || strstr(path, "/ui/")))
		snprintf(tag, sizeof(tag), strstr(path, "artifacts") ? "artifacts" : "runs");
	else if (strcmp(tag, "health") == 0 || strcmp(tag, "version") == 0 || strcmp(tag, "openapi.json") == 0 ||
		 strcmp(tag, "status") == 0)
		snprintf(tag, sizeof(tag), "server");
	json_t *a = json_array();
	json_array_append_new(a, json_string(tag));
	return a;
}

void fo_http_openapi(struct fo_buf *out, const char *server_url)
{
	json_t *root = json_object();
	json_object_set_new(root, "openapi", json_string("3.0.3"));
	json_t *info = json_object();
	json_object_set_new(info, "title", json_string("fallout"));
	json_object_set_new(info, "version", json_string(FO_VERSION));
	json_object_set_new(info, "description",
			    json_string("The REST API of `fallout serve`: tests, runs, artifacts and accounts. "
					"API clients send `Authorization: Bearer <token>`; browsers sign in with "
					"POST /account/login and send the session cookie and the X-CSRF-Token header."));
	json_object_set_new(root, "info", info);
	json_t *servers = json_array();
	json_t *srv = json_object();
	json_object_set_new(srv, "url", json_string(server_url && *server_url ? server_url : "/"));
	json_array_append_new(servers, srv);
	json_object_set_new(root, "servers", servers);

	json_t *paths = json_object();
	for (size_t i = 0; i < fo_nroutes; i++) {
		const struct fo_route *r = &fo_routes[i];
		char key[512];
		json_t *params = json_array();
		openapi_path(r->path, key, sizeof(key), params);
		json_t *item = json_object_get(paths, key);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, key, item);
		}
		json_t *op = json_object();
		json_object_set_new(op, "summary", json_string(r->summary ? r->summary : ""));
		if (r->auth == FO_AUTH_ADMIN)
			json_object_set_new(op, "description", json_string("Administrators only."));
		json_object_set_new(op, "operationId", operation_id(r));
		json_object_set_new(op, "tags", tag_of(r->path));
		if (json_array_size(params))
			json_object_set_new(op, "parameters", params);
		else
			json_decref(params);
		if (r->body) {
			json_t *rb = json_object();
			json_object_set_new(rb, "required", json_true());
			json_object_set_new(rb, "content", media(r->body));
			json_object_set_new(op, "requestBody", rb);
		}
		json_t *responses = json_object();
		json_t *ok = json_object();
		json_object_set_new(ok, "description", json_string(r->summary ? r->summary : "success"));
		if (r->returns)
			json_object_set_new(ok, "content", media(r->returns));
		json_object_set_new(responses, "200", ok);
		json_t *dflt = json_object();
		json_object_set_new(dflt, "description", json_string("an error: {\"message\": \"...\"}"));
		json_object_set_new(responses, "default", dflt);
		json_object_set_new(op, "responses", responses);
		if (r->auth == FO_AUTH_NONE)
			json_object_set_new(op, "security", json_array());
		char method[16];
		size_t k = 0;
		for (; r->method[k] && k + 1 < sizeof(method); k++)
			method[k] = (char)tolower((unsigned char)r->method[k]);
		method[k] = '\0';
		json_object_set_new(item, method, op);
	}
	json_object_set_new(root, "paths", paths);

	json_t *schemes = json_object();
	json_t *bearer = json_object();
	json_object_set_new(bearer, "type", json_string("http"));
	json_object_set_new(bearer, "scheme", json_string("bearer"));
	json_object_set_new(schemes, "bearerAuth", bearer);
	json_t *cookie = json_object();
	json_object_set_new(cookie, "type", json_string("apiKey"));
	json_object_set_new(cookie, "in", json_string("cookie"));
	json_object_set_new(cookie, "name", json_string(FO_SESSION_COOKIE));
	json_object_set_new(schemes, "cookieAuth", cookie);
	json_t *components = json_object();
	json_object_set_new(components, "securitySchemes", schemes);
	json_object_set_new(root, "components", components);
	json_t *security = json_array();
	json_t *s1 = json_object();
	json_object_set_new(s1, "bearerAuth", json_array());
	json_array_append_new(security, s1);
	json_t *s2 = json_object();
	json_object_set_new(s2, "cookieAuth", json_array());
	json_array_append_new(security, s2);
	json_object_set_new(root, "security", security);

	char *s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(root);
	if (s) {
		fo_buf_adds(out, s);
		free(s);
	}
}
