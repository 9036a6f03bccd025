/*
 * diag.h: a list of diagnostics (errors and warnings, each with a place), for work that
 * reports every problem at once rather than stopping at the first: definition loading
 * and validation. The list owns copies of its texts.
 */
#ifndef FO_DIAG_H
#define FO_DIAG_H

#include <stdio.h>

#include "util/err.h"

enum fo_severity { FO_SEV_ERROR, FO_SEV_WARNING };

struct fo_diag {
	enum fo_severity sev;
	char *file; /* owned; NULL when there is no place */
	int line, col;
	char *msg;  /* owned; lower case, no final stop */
	unsigned seq; /* order of arrival, to keep sorting stable */
};

struct fo_diags {
	struct fo_diag *v;
	size_t n, cap;
	size_t errors;   /* how many of v are errors */
	size_t warnings; /* how many are warnings */
};

#define FO_DIAGS_INIT {0}

/* Frees every entry and leaves d empty. */
void fo_diags_release(struct fo_diags *d);
/* Adds an error at pos (may be NULL). An identical entry already present is not repeated. */
void fo_diags_error(struct fo_diags *d, const struct fo_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds a warning at pos (may be NULL). */
void fo_diags_warn(struct fo_diags *d, const struct fo_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fo_diags_vadd(struct fo_diags *d, enum fo_severity sev, const struct fo_pos *pos, const char *fmt,
		   va_list ap);
/* Adds err's recorded failure as an error (nothing if err holds none). */
void fo_diags_add_err(struct fo_diags *d, const struct fo_err *err);
/* Sorts by file, line, column, then arrival. */
void fo_diags_sort(struct fo_diags *d);
/* Writes each entry as "file:line:col: error: msg" (warnings say "warning"), one a line. */
void fo_diags_print(const struct fo_diags *d, FILE *out);
/* Returns true if any entry's message contains needle (for tests). */
int fo_diags_contains(const struct fo_diags *d, const char *needle);

#endif
