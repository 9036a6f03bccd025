/*
 * history.h: the operations history of a run (FALLOUT-FORMAT.md section 3). Modules and
 * the harness emit operations from any thread; each is stamped with the time since the
 * workload started, kept in memory for the checkers, and appended at once to
 * controller/jepsen-history.json, one JSON object a line, so a crash loses nothing.
 */
#ifndef FO_HISTORY_H
#define FO_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct fo_err;

enum fo_op_type { FO_OP_START, FO_OP_INVOKE, FO_OP_OK, FO_OP_FAIL, FO_OP_INFO, FO_OP_END, FO_OP_ERROR, FO__OP_COUNT };

struct fo_op {
	int64_t time_ns;        /* since the workload started */
	const char *process;    /* the module's alias */
	const char *module;     /* the module's component name */
	enum fo_op_type type;
	const char *media_type; /* NULL, or e.g. "text/plain", "application/json" */
	const char *value;      /* NULL, or the value (text; JSON text when media_type says so) */
};

struct fo_history;

/* Opens a history writing to path (created). Returns NULL with err set. */
struct fo_history *fo_history_open(const char *path, struct fo_err *err);
void fo_history_close(struct fo_history *h);
/* Sets time zero (the workload's start); ops before it get negative times. */
void fo_history_start_clock(struct fo_history *h);
/* Appends an operation (copies the strings). Thread-safe. */
void fo_history_emit(struct fo_history *h, const char *process, const char *module, enum fo_op_type type,
		     const char *media_type, const char *value);
/* The operations so far, in order. Valid until the next emit; read only when no module runs. */
const struct fo_op *fo_history_ops(const struct fo_history *h, size_t *n);
/* "start", "invoke", "ok", "fail", "info", "end", "error". */
const char *fo_op_type_name(enum fo_op_type t);
/* Parses a type name (case-insensitive). Returns 0 or FO_ENOTFOUND. */
int fo_op_type_parse(const char *s, enum fo_op_type *out);

#endif
