/*
 * log.c: the run's loggers of log.h. All loggers of a run share the root's mutex, so
 * lines from many threads never interleave, and its list of secrets to redact.
 */
#include "util/common.h"

#include <pthread.h>

#include "engine/log.h"
#include "util/strutil.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

struct root {
	pthread_mutex_t lock;
	FILE *shared, *warnings, *errors;
	char **secrets;
	size_t nsecrets, cap;
	fo_log_listener listener;
	void *listener_ctx;
	struct fo_buf line;
};

struct fo_log {
	struct root *root;   /* shared by the run's loggers */
	bool owns_root;
	FILE *own;           /* a child's own file; NULL for the run logger */
	char *path;          /* the file this logger writes */
	char *prefix;        /* "server/node0"; NULL for the run logger */
};

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static FILE *open_file(const char *dir, const char *name, char **path_out, struct fo_err *err)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/%s", dir, name);
	FILE *f = fopen(p.s, "a");
	if (!f)
		fo_err_set(err, FO_EIO, "cannot create '%s': %s", p.s, strerror(errno));
	if (path_out && f)
		*path_out = fo_buf_detach(&p, NULL);
	fo_buf_release(&p);
	return f;
}

struct fo_log *fo_log_open_run(const char *dir, struct fo_err *err)
{
	struct root *r = fo_calloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	struct fo_log *log = fo_calloc(1, sizeof(*log));
	log->root = r;
	log->owns_root = true;
	r->shared = open_file(dir, "fallout-shared.log", &log->path, err);
	r->warnings = open_file(dir, "fallout-warnings.log", NULL, err);
	r->errors = open_file(dir, "fallout-errors.log", NULL, err);
	if (!r->shared || !r->warnings || !r->errors) {
		fo_log_close(log);
		return NULL;
	}
	return log;
}

struct fo_log *fo_log_open_child(struct fo_log *parent, const char *path, const char *name, struct fo_err *err)
{
	FILE *f = fopen(path, "a");
	if (!f) {
		fo_err_set(err, FO_EIO, "cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct fo_log *log = fo_calloc(1, sizeof(*log));
	log->root = parent->root;
	log->own = f;
	log->path = fo_strdup(path);
	struct fo_buf p = FO_BUF_INIT;
	if (parent->prefix)
		fo_buf_addf(&p, "%s/", parent->prefix);
	fo_buf_adds(&p, name);
	log->prefix = fo_buf_detach(&p, NULL);
	return log;
}

void fo_log_close(struct fo_log *log)
{
	if (!log)
		return;
	if (log->own)
		fclose(log->own);
	if (log->owns_root) {
		struct root *r = log->root;
		if (r->shared)
			fclose(r->shared);
		if (r->warnings)
			fclose(r->warnings);
		if (r->errors)
			fclose(r->errors);
		for (size_t i = 0; i < r->nsecrets; i++)
			fo_free(r->secrets[i]);
		fo_free(r->secrets);
		fo_buf_release(&r->line);
		pthread_mutex_destroy(&r->lock);
		fo_free(r);
	}
	fo_free(log->path);
	fo_free(log->prefix);
	fo_free(log);
}

/* Replaces every registered secret in b with <redacted>. Called with the lock held. */
static void redact(struct root *r, struct fo_buf *b)
{
	fo_redact(b, (const char *const *)r->secrets, r->nsecrets);
}

static void put(FILE *f, const char *s, size_t n)
{
	if (f) {
		fwrite(s, 1, n, f);
		fflush(f);
	}
}

void fo_vlog(struct fo_log *log, enum fo_level level, const char *fmt, va_list ap)
{
	if (!log)
		return;
	struct root *r = log->root;
	char when[40];
	fo_format_time(fo_wall_ns(), when, sizeof(when));
	struct fo_buf msg = FO_BUF_INIT;
	fo_buf_vaddf(&msg, fmt, ap);
	pthread_mutex_lock(&r->lock);
	redact(r, &msg);
	struct fo_buf *b = &r->line;
	/* The logger's own file: no prefix. */
	if (log->own) {
		fo_buf_clear(b);
		fo_buf_addf(b, "%s %-5s %s\n", when, level_names[level], msg.s);
		put(log->own, b->s, b->len);
	}
	if (level >= FO_INFO) {
		fo_buf_clear(b);
		fo_buf_addf(b, "%s %-5s ", when, level_names[level]);
		if (log->prefix)
			fo_buf_addf(b, "[%s] ", log->prefix);
		fo_buf_addf(b, "%s\n", msg.s);
		put(r->shared, b->s, b->len);
		if (level >= FO_WARN)
			put(r->warnings, b->s, b->len);
		if (level >= FO_ERROR)
			put(r->errors, b->s, b->len);
		if (r->listener)
			r->listener(r->listener_ctx, level, b->s);
	}
	pthread_mutex_unlock(&r->lock);
	fo_buf_release(&msg);
}

void fo_log(struct fo_log *log, enum fo_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fo_vlog(log, level, fmt, ap);
	va_end(ap);
}

const char *fo_log_path(const struct fo_log *log)
{
	return log ? log->path : NULL;
}

void fo_log_redact(struct fo_log *log, const char *secret)
{
	if (!log || !secret || !*secret)
		return;
	struct root *r = log->root;
	pthread_mutex_lock(&r->lock);
	bool known = false; /* a secret is registered at each use: keep it once */
	for (size_t i = 0; i < r->nsecrets && !known; i++)
		known = strcmp(r->secrets[i], secret) == 0;
	if (!known) {
		FO_GROW(r->secrets, r->cap, r->nsecrets + 1);
		r->secrets[r->nsecrets++] = fo_strdup(secret);
	}
	pthread_mutex_unlock(&r->lock);
}

char *fo_log_redacted(struct fo_log *log, const char *s)
{
	if (!log || !s)
		return NULL;
	struct root *r = log->root;
	char *out = NULL;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nsecrets && !out; i++) {
		if (strstr(s, r->secrets[i])) {
			struct fo_buf b = FO_BUF_INIT;
			fo_buf_adds(&b, s);
			redact(r, &b);
			out = fo_buf_detach(&b, NULL);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return out;
}

size_t fo_log_secrets(struct fo_log *log, char ***out)
{
	*out = NULL;
	if (!log)
		return 0;
	struct root *r = log->root;
	pthread_mutex_lock(&r->lock);
	size_t n = r->nsecrets;
	if (n) {
		*out = fo_calloc(n + 1, sizeof(**out));
		for (size_t i = 0; i < n; i++)
			(*out)[i] = fo_strdup(r->secrets[i]);
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

void fo_log_listen(struct fo_log *run_log, fo_log_listener fn, void *ctx)
{
	struct root *r = run_log->root;
	pthread_mutex_lock(&r->lock);
	r->listener = fn;
	r->listener_ctx = ctx;
	pthread_mutex_unlock(&r->lock);
}
