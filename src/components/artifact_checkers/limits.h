/*
 * limits.h: the limits artifact checkers judge a run by (`read: p99 < 2ms`, `recovery_time
 * < 10s`, `availability > 99%`), shared by performance_thresholds and fault_impact.
 *
 * A limit is `[series:] metric op value[unit]`. Each checker brings its own table of
 * metrics (a name and the kind of value it takes); this file reads the `thresholds`
 * property (a list of strings, one-pair maps such as `- read: p99 < 2ms`, or one string of
 * comma-separated limits), parses each limit, and reports a mistake at the line and column
 * of the very character that is wrong, when the definition is checked.
 */
#ifndef FO_ARTIFACT_LIMITS_H
#define FO_ARTIFACT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct fo_buf;
struct fo_diags;
struct fo_propset;
struct fo_propval;

/* What a metric's value is, which decides the units its limits take. */
enum fo_limit_kind {
	FO_LIMIT_COUNT,	   /* a plain number */
	FO_LIMIT_RATE,	   /* operations per second: a plain number, or with /s, op/s, ops/s */
	FO_LIMIT_ERRORS,   /* a count, or a percentage with % */
	FO_LIMIT_LATENCY,  /* needs ns, us, ms or s; the value is kept in ns */
	FO_LIMIT_DURATION, /* needs ms, s, m (min) or h; the value is kept in s */
	FO_LIMIT_PERCENT,  /* a percentage, with or without % */
};

/* One metric a checker knows. */
struct fo_limit_metric {
	const char *name; /* as written in limits, matched ignoring case */
	enum fo_limit_kind kind;
	int stat;   /* the checker's own code (which statistic) */
	double pct; /* the checker's own figure (a percentile) */
};

/* How a checker's limits read. */
struct fo_limit_syntax {
	const struct fo_limit_metric *metrics;
	size_t nmetrics;
	const char *metric_list; /* for messages: "count, throughput, ... or duration" */
	bool series;		 /* a `series:` may come before the metric */
	const char *example;	 /* for messages: "'p99 < 2ms'" */
};

enum fo_limit_op { FO_LIMIT_LT, FO_LIMIT_LE, FO_LIMIT_GT, FO_LIMIT_GE };

/* One parsed limit. */
struct fo_limit {
	char *text;			 /* as the user wrote it (owned) */
	char *sel;			 /* the series selector (owned); NULL: every series */
	const struct fo_limit_metric *m; /* borrowed from the syntax's table */
	enum fo_limit_op op;
	double value;	   /* ns (latency), s (duration), else as written */
	bool percent;	   /* written with % (errors) */
	const char *unit;  /* the unit written (latency, duration), for messages */
	double unit_scale; /* that unit in ns (latency) or s (duration) */
};

/*
 * Parses limit text s by syntax syn into *l (release with fo_limit_release in any case).
 * On a mistake returns false with the reason in why and its byte offset in *at.
 */
bool fo_limit_parse(const char *s, const struct fo_limit_syntax *syn, struct fo_limit *l, struct fo_buf *why,
		    size_t *at);
void fo_limit_release(struct fo_limit *l);
/* measured op limit. */
bool fo_limit_holds(double measured, enum fo_limit_op op, double limit);
/* A number without useless decimals: "50000", "1.5", "0.001" (three decimals at most). */
void fo_limit_fmt_num(char *out, size_t n, double v);

/*
 * The validate hook's part: every limit in property `prop` of ps parses by syn; each
 * mistake is added to d at its line and column ("invalid limit 'X' in 'thresholds' of
 * artifact checker 'gate': why"), as is a value that is not a list of strings or an
 * empty one.
 */
void fo_limits_validate(const struct fo_propset *ps, const char *prop, const struct fo_limit_syntax *syn,
			struct fo_diags *d);
/*
 * At run time: parses every limit of property `prop` of ps. Returns 0 with an owned array
 * in *out (free with fo_limits_free) and its length in *n (0 when the property is unset),
 * or FO_EDEFINITION naming the first limit that does not parse.
 */
int fo_limits_load(const struct fo_propset *ps, const char *prop, const struct fo_limit_syntax *syn,
		   struct fo_limit **out, size_t *n, struct fo_err *err);
void fo_limits_free(struct fo_limit *v, size_t n);

#endif
