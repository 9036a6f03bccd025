/*
 * history.c: the thread-safe operations history of history.h. One mutex guards the
 * in-memory list and the file; each operation is written and flushed as it arrives.
 */
#include "util/common.h"

#include <pthread.h>

#include "engine/history.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

static const char *const type_names[] = {"start", "invoke", "ok", "fail", "info", "end", "error"};
_Static_assert(FO_ARRAY_LEN(type_names) == FO__OP_COUNT, "one name per operation type");

struct fo_history {
	pthread_mutex_t lock;
	FILE *f;
	struct fo_op *ops;
	size_t n, cap;
	int64_t zero;     /* monotonic time of the workload's start */
	struct fo_buf line;
};

const char *fo_op_type_name(enum fo_op_type t)
{
	return (unsigned)t < FO__OP_COUNT ? type_names[t] : "?";
}

int fo_op_type_parse(const char *s, enum fo_op_type *out)
{
	for (unsigned i = 0; i < FO__OP_COUNT; i++) {
		if (strcasecmp(type_names[i], s) == 0) {
			*out = (enum fo_op_type)i;
			return 0;
		}
	}
	return FO_ENOTFOUND;
}

struct fo_history *fo_history_open(const char *path, struct fo_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fo_err_set(err, FO_EIO, "cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct fo_history *h = fo_calloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->f = f;
	h->zero = fo_now_ns();
	return h;
}

void fo_history_close(struct fo_history *h)
{
	if (!h)
		return;
	if (h->f)
		fclose(h->f);
	for (size_t i = 0; i < h->n; i++) {
		fo_free((char *)h->ops[i].process);
		fo_free((char *)h->ops[i].module);
		fo_free((char *)h->ops[i].media_type);
		fo_free((char *)h->ops[i].value);
	}
	fo_free(h->ops);
	fo_buf_release(&h->line);
	pthread_mutex_destroy(&h->lock);
	fo_free(h);
}

void fo_history_start_clock(struct fo_history *h)
{
	pthread_mutex_lock(&h->lock);
	h->zero = fo_now_ns();
	pthread_mutex_unlock(&h->lock);
}

static char *dup_or_null(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

void fo_history_emit(struct fo_history *h, const char *process, const char *module, enum fo_op_type type,
		     const char *media_type, const char *value)
{
	pthread_mutex_lock(&h->lock);
	FO_GROW(h->ops, h->cap, h->n + 1);
	struct fo_op *op = &h->ops[h->n++];
	op->time_ns = fo_now_ns() - h->zero;
	op->process = fo_strdup(process ? process : "");
	op->module = fo_strdup(module ? module : "");
	op->type = type;
	op->media_type = dup_or_null(media_type);
	op->value = dup_or_null(value);
	if (h->f) {
		struct fo_buf *b = &h->line;
		fo_buf_clear(b);
		fo_buf_addf(b, "{\"time\":%lld,\"process\":", (long long)op->time_ns);
		fo_buf_add_json_str(b, op->process, strlen(op->process));
		fo_buf_adds(b, ",\"module\":");
		fo_buf_add_json_str(b, op->module, strlen(op->module));
		fo_buf_addf(b, ",\"type\":\"%s\"", type_names[type]);
		if (op->media_type) {
			fo_buf_adds(b, ",\"mediaType\":");
			fo_buf_add_json_str(b, op->media_type, strlen(op->media_type));
		}
		if (op->value) {
			fo_buf_adds(b, ",\"value\":");
			fo_buf_add_json_str(b, op->value, strlen(op->value));
		}
		fo_buf_adds(b, "}\n");
		fwrite(b->s, 1, b->len, h->f);
		fflush(h->f);
	}
	pthread_mutex_unlock(&h->lock);
}

const struct fo_op *fo_history_ops(const struct fo_history *h, size_t *n)
{
	*n = h->n;
	return h->ops;
}
