/*
 * union.h: the union of HdrHistogram interval logs by Fallout's rule (HdrLogProcessing's
 * UnionHistograms, what Fallout's hdrtool runs), the one implementation behind
 * `fallout hdr merge` and the run reports (report/perf.h).
 *
 * The intervals of every input log are taken in order of start time (a merge of the logs,
 * each read once, one interval at a time). Each tag has one union in progress, whose span
 * is that of the interval that opened it. The next interval of that tag joins the union
 * when it starts before the union ends and either ends inside it or has more than 80% of
 * its length inside; otherwise the union is closed (it becomes one interval of the
 * output) and the interval opens the next. Clients started within a fifth of an interval
 * of each other thus share every union, a later client gets unions of its own, and no
 * value is ever dropped or counted twice: totals always equal the sum of the parts. A
 * union starts as Java's `new Histogram(sigfigs)` (1..2, auto-resizing) and widens to
 * the finest precision among its intervals (fo_hdr_accumulate), so no precision is lost.
 * At the end, the unions still open close in order of start time, then tag (untagged
 * first, then byte order).
 *
 *     struct fo_union u;
 *     if (!fo_union_init(&u, readers, n, &err) && !fo_union_write_log(&u, "out.hdr", &err))
 *             rc = fo_union_run(&u, NULL, NULL, &err);
 *     fo_union_release(&u);
 */
#ifndef FO_UNION_H
#define FO_UNION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/hdr.h"
#include "metrics/hdrlog.h"

struct fo_err;

/* The union in progress of one tag. */
struct fo_union_tag {
	char *tag;             /* owned; NULL: untagged */
	struct fo_hdr u;       /* the union: its values, tag, and span while open */
	bool open;             /* u holds at least one interval */
	int64_t start_ms, end_ms; /* the union's span (absolute ms when the logs say) */
	bool *seen;            /* owned, one per input: it gave this tag an interval */
};

/* Called with each union as it closes (t->u holds its values, tag, start_ms and end_ms);
 * t->u is reset afterwards. Returns 0, or an error (set in err) that stops the union. */
typedef int (*fo_union_emit_fn)(void *ctx, const struct fo_union_tag *t, struct fo_err *err);

struct fo_union {
	struct fo_hdrlog_reader *const *in; /* borrowed: the open input logs */
	size_t nin;
	struct fo_hdr *next;   /* owned, nin: each input's next interval */
	bool *has_next;        /* owned, nin */
	struct fo_union_tag *tags; /* owned, in order of first appearance */
	size_t ntags, tags_cap;
	bool any;              /* some input holds an interval */
	double start_s;        /* the inputs' earliest StartTime (s since epoch; 0: none has one) */
	int64_t origin_ms;     /* the earliest of the inputs' first interval starts and StartTimes */
	int64_t intervals_in;  /* intervals read */
	int64_t intervals_out; /* unions closed */
	struct fo_hdrlog_writer w; /* the union log, when writing */
	bool writing;
	char *out_path;        /* owned, for messages */
};

/* Starts the union of the n logs in[] (borrowed, open, not yet read; they must outlive u):
 * reads the first interval of each, which settles start_s, origin_ms and any. Returns 0,
 * or the reader's error ("NAME:LINE: reason"). u is always safe to release. */
int fo_union_init(struct fo_union *u, struct fo_hdrlog_reader *const *in, size_t n, struct fo_err *err);
/* Opens path and writes the union log's header, as HdrLogProcessing's createLogWriter:
 * the format version, BaseTime and StartTime (start_s, when known) and the legend. The
 * unions are written there as they close. Returns 0 or FO_EIO ("cannot write 'PATH': ..."). */
int fo_union_write_log(struct fo_union *u, const char *path, struct fo_err *err);
/* Unites every interval of the inputs, calling emit (may be NULL) with each union as it
 * closes and writing it to the union log if one is open; closes the log. Returns 0, a
 * reader's error, "NAME: values out of range" for values a union could not hold, a write
 * error, or emit's error. */
int fo_union_run(struct fo_union *u, fo_union_emit_fn emit, void *ctx, struct fo_err *err);
/* Frees u's memory and closes the union log if still open (not the inputs). */
void fo_union_release(struct fo_union *u);

#endif
