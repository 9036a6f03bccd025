/*
 * perf.h: the performance data of a run, rebuilt from its raw HdrHistogram interval logs
 * (never from pre-digested numbers), for reports, comparisons and thresholds.
 *
 * A run's client nodes write interval logs (`*.hdr`, `*.hlog`, and `*.hgrm` as Fallout's
 * hdrtool reads them; gzipped ones too) into their artifact folders
 * (<run>/<group>/node<N>/...). Logs with the same file name on different nodes are the
 * same measurement from several clients: their intervals are united per tag (Fallout's
 * hdrtool), giving one series per file name and tag, named "base" for untagged values and
 * "base:tag" otherwise (base: the file name without .hdr/.hlog/.hgrm).
 *
 * The union rule (Fallout's, from HdrLogProcessing; metrics/union.h implements it for
 * these reports and `fallout hdr merge` alike): intervals are taken in order of
 * start time; each tag has one union in progress, spanning the interval that opened it;
 * the next interval joins it when it starts before the union ends and ends inside it or
 * has more than 80% of its length inside, otherwise it opens the next union. So clients
 * started within a fifth of an interval of each other share every union, and every value
 * is counted exactly once: totals are the sum of the parts.
 */
#ifndef FO_PERF_H
#define FO_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/hdr.h"

struct fo_err;

/* One interval of a series (all clients united). Times in seconds, latencies in ms. */
struct fo_perf_interval {
	double start_s;        /* relative to the series' start_s */
	double length_s;
	int64_t count;
	double ops_s;          /* count / length_s */
	double min_ms, mean_ms, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, max_ms;
};

/* One measurement: a file name and a tag, united over every node that wrote it. */
struct fo_perf_series {
	char *name;            /* "base" or "base:tag" (owned) */
	char *base;            /* the file name without its extension (owned) */
	char *tag;             /* owned; NULL when untagged */
	size_t nodes;          /* how many nodes' logs contributed */
	struct fo_hdr total;   /* every value of the series */
	struct fo_perf_interval *iv; /* owned, in time order */
	size_t niv, ivcap;
	double start_s;        /* when the logs of this file name began (their earliest StartTime
				* or first interval): absolute (s since epoch) when the logs say,
				* else relative; every series of one file name shares it */
	double end_s;          /* the end of the last united interval */
	double duration_s;     /* end of the last united interval - start of the first */
	bool is_error;         /* the tag names failed operations (contains "error" or "fail") */
};

/* A run's (or a set of files') performance data. */
struct fo_perf {
	char *title;           /* owned; e.g. the test name and run id */
	struct fo_perf_series *s;
	size_t n;
};

/*
 * Loads every interval log under group_dir/node<N>/ (recursively), unites logs with the same
 * file name per tag, and fills p (initialised here; release with fo_perf_release). With
 * union_dir set, writes each united log as <union_dir>/<base>.union.hdr (Fallout's
 * hdrtool artifact). Returns 0 (also when there are no logs: p->n == 0) or an error
 * naming the file and line that could not be read.
 */
int fo_perf_load_group(struct fo_perf *p, const char *group_dir, const char *union_dir, struct fo_err *err);
/* As fo_perf_load_group for an explicit list of logs (each its own series set). */
int fo_perf_load_files(struct fo_perf *p, const char *const *paths, size_t n, struct fo_err *err);
/*
 * Unites the logs paths[0..n) as one measurement, whatever their names (the series are
 * named after the first), by the rule above; with out_path set, writes the union log there
 * (the log `fallout hdr merge` writes). Fills p (initialised here). Returns 0 or an error naming
 * the file and line that could not be read.
 */
int fo_perf_merge_files(struct fo_perf *p, const char *const *paths, size_t n, const char *out_path,
			struct fo_err *err);
void fo_perf_release(struct fo_perf *p);
/* The interval logs fo_perf_load_group would read: their paths relative to group_dir
 * ("node0/x.hdr"), sorted by file name then node. Returns an owned NULL-terminated array
 * (free with fo_perf_list_free) and their number in *n. */
char **fo_perf_list_logs(const char *group_dir, size_t *n);
void fo_perf_list_free(char **v);
/* Finds a series by name ("base" or "base:tag"), or NULL. */
const struct fo_perf_series *fo_perf_find(const struct fo_perf *p, const char *name);

/* Summary figures of a series, as the reports show them (latencies in ms). */
struct fo_perf_summary {
	int64_t count;
	double duration_s, ops_s;
	double min_ms, mean_ms, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, p9999_ms, max_ms;
	double mad_ms;         /* median absolute deviation */
	double iqr_ms;         /* p75 - p25 */
};
void fo_perf_summarize(const struct fo_perf_series *s, struct fo_perf_summary *out);
/* The median absolute deviation of h's values (median of |v - median|, over every recorded
 * value with its count; Java's percentile rank rule), in h's units. */
int64_t fo_perf_mad(const struct fo_hdr *h);
/* Fallout's "Test Duration" text, whole seconds: "3s", "2m 3s", "1h 2m 3s". */
void fo_perf_format_duration(double seconds, char *out, size_t n);

/*
 * Writes performance-report.json in Fallout's schema (FALLOUT-FORMAT.md section 5) to path,
 * atomically. Returns 0 or an error.
 */
int fo_perf_write_json(const struct fo_perf *p, const char *path, struct fo_err *err);

struct fo_buf;
/*
 * Splits the interval log at log_path (gzipped if it ends in .gz) by tag and writes
 * <out_dir>/<tag>.<log name without extension>.csv for each tag ("default" for untagged
 * values) in Fallout's hdr_split_to_csv layout (FO_HDRLOG_CSV_HEADER, then one
 * fo_hdrlog_csv_row per interval: metrics/hdrlog.h, shared with `fallout hdr csv`),
 * keeping only the tags listed (ntags 0: all; "default" names the untagged ones).
 * Each file is written atomically. display names the log in messages (NULL: log_path).
 * Appends the names of the files written, one a line, to written (may be NULL).
 * Returns 0 or an error ("NAME:LINE: reason" for a malformed line).
 */
int fo_perf_split_csv(const char *log_path, const char *display, const char *out_dir, const char *const *tags,
		      size_t ntags, struct fo_buf *written, struct fo_err *err);

#endif
