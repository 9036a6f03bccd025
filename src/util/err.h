/*
 * err.h: error codes and the error-detail struct.
 *
 * Functions return int: 0 for success, or a negative FO_E* code from the one list below,
 * which also generates each code's name and message (libuv's UV_ERRNO_MAP). Details go
 * into a caller-provided struct fo_err; the first failure recorded is kept, later ones
 * are dropped, so the root cause reaches the user (git's strbuf err, curl's failf).
 */
#ifndef FO_ERR_H
#define FO_ERR_H

#include <stdbool.h>

#define FO_ERRNO_MAP(XX)                                                   \
	XX(NOMEM, "out of memory")                                         \
	XX(INVAL, "invalid argument")                                      \
	XX(IO, "input/output error")                                       \
	XX(NOENT, "no such file or directory")                             \
	XX(TOOBIG, "too large")                                            \
	XX(PARSE, "syntax error")                                          \
	XX(DEFINITION, "invalid test definition")                          \
	XX(TEMPLATE, "template error")                                     \
	XX(NOTFOUND, "not found")                                          \
	XX(EXISTS, "already exists")                                       \
	XX(UNSUPPORTED, "not supported")                                   \
	XX(NET, "network error")                                           \
	XX(USAGE, "usage error")

enum fo_errcode {
	FO_OK = 0,
	FO__ERR_FIRST = -1000,
#define XX(code, msg) FO_E##code,
	FO_ERRNO_MAP(XX)
#undef XX
	FO__ERR_LAST
};

/* A place in a file: 1-based line and column; file may be NULL (no place). */
struct fo_pos {
	const char *file; /* borrowed; NULL when unknown */
	int line;         /* 1-based; 0 when unknown */
	int col;          /* 1-based; 0 when unknown */
};

/* The details of the first failure. Zero-initialise; no release needed. */
struct fo_err {
	int code;          /* 0 while no error recorded */
	struct fo_pos pos; /* where, for definition errors; file points into msg_file */
	char file[256];    /* copy of pos.file, so the error outlives its source */
	char msg[1024];    /* lower case, no final stop */
};

/* Returns the static message of code ("out of memory"), or "unknown error". */
const char *fo_strerror(int code);
/* Returns the static name of code ("FO_ENOMEM"), or "FO_E?". */
const char *fo_err_name(int code);

/*
 * Records code and a printf-style message in err unless one is already recorded.
 * err may be NULL. Returns code, so callers can write `return fo_err_set(...)`.
 */
int fo_err_set(struct fo_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As fo_err_set, with a place in a file (pos may be NULL). */
int fo_err_setpos(struct fo_err *err, int code, const struct fo_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Forgets the recorded error. */
void fo_err_clear(struct fo_err *err);
/* Writes "file:line:col: msg" (or just msg without a place) into out (size n). */
void fo_err_format(const struct fo_err *err, char *out, size_t n);

#endif
