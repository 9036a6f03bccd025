/*
 * hdrlog.h: HdrHistogram interval logs, as Java's HistogramLogWriter and
 * HistogramLogReader write and read them (log format 1.3; older 1.01-1.2 logs read too).
 *
 *   #[Histogram log format version 1.3]
 *   #[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]
 *   #[BaseTime: 1700000000.000 (seconds since epoch)]
 *   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
 *   Tag=write,0.000,10.000,20.004,HISTFAAAAC...
 *
 * A line is: optional `Tag=<tag>,`, the interval's start (seconds, relative to BaseTime
 * or absolute), its length (s), its max (in the log's max-value unit, ms by default:
 * value / 1e6), and the base64 of a compressed histogram. StartTime and BaseTime come from
 * `#[...]` comments; without BaseTime, timestamps count as absolute unless the first one is
 * more than a year before StartTime (Java's rule; without StartTime either, the first
 * timestamp is the start time). Other `#` lines are comments. Numbers are written as
 * Java's `%.3f` writes them (round half up of the shortest decimal form).
 */
#ifndef FO_HDRLOG_H
#define FO_HDRLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics/hdr.h"
#include "util/buf.h"

struct fo_err;

/* ---- writing ---- */

struct fo_hdrlog_writer {
	FILE *f;                   /* borrowed or owned (see close) */
	bool owns;
	double base_time_s;        /* timestamps are written relative to this (0: absolute) */
	double max_value_divisor;  /* interval max is written as max / divisor (Java: 1e6 for ns->ms) */
	struct fo_hdr_encoder enc; /* reused for every interval; released by close */
};

/* Opens path for writing (truncates), with no base time and a divisor of 1e6. Returns 0 or
 * FO_EIO with the reason in err. */
int fo_hdrlog_writer_open(struct fo_hdrlog_writer *w, const char *path, struct fo_err *err);
/* Writes to an open stream (borrowed: not closed by fo_hdrlog_writer_close). */
void fo_hdrlog_writer_init(struct fo_hdrlog_writer *w, FILE *f);
/* The header as Java's tools write it: the format version, StartTime (s since epoch),
 * BaseTime (when w->base_time_s is set), and the legend line. */
int fo_hdrlog_write_header(struct fo_hdrlog_writer *w, double start_time_s);
/* The header lines one by one, for other orders (HdrLogProcessing writes BaseTime first). */
int fo_hdrlog_write_version(struct fo_hdrlog_writer *w);
int fo_hdrlog_write_start_time(struct fo_hdrlog_writer *w, double start_time_s);
/* Writes `#[BaseTime: ...]` and makes later timestamps relative to it. */
int fo_hdrlog_write_base_time(struct fo_hdrlog_writer *w, double base_time_s);
int fo_hdrlog_write_legend(struct fo_hdrlog_writer *w);
/* A `#text` line (each line of a multi-line text gets its own `#`). */
int fo_hdrlog_write_comment(struct fo_hdrlog_writer *w, const char *text);
/* One interval: h's tag, start_ms/end_ms (absolute ms since epoch; written relative to the
 * base time) and its values. Returns 0, FO_EINVAL for a tag with a comma, space or line
 * break, or FO_EIO. */
int fo_hdrlog_write(struct fo_hdrlog_writer *w, const struct fo_hdr *h);
/* Flushes, closes an owned file and frees the encoder. Returns 0 or FO_EIO if anything
 * failed to write. */
int fo_hdrlog_writer_close(struct fo_hdrlog_writer *w);

/* Formats v as Java's String.format(Locale.US, "%.<decimals>f", v) into out (size n):
 * the shortest decimal form of the double rounded half up, unlike C's printf. */
void fo_hdrlog_format_double(char *out, size_t n, double v, int decimals);

/* Fallout's hdr_split_to_csv layout (HdrLogProcessing's CsvConverter): this header, then
 * one row per interval. */
#define FO_HDRLOG_CSV_HEADER \
	"#Absolute timestamp,Relative timestamp,Throughput,Min,Avg,p50,p90,p95,p99,p999,p9999,Max\n"
/* Appends h's row, exactly as CsvConverter prints it: the absolute start (s, Java's %.3f),
 * start_ms / 1000 - (long)log_start_s (log_start_s: the reader's start_time_s), the count
 * ("Throughput" in Fallout's header), min, (long)mean, p50, p90, p95, p99, p99.9, p99.99 and
 * max in the recorded units. Returns 0 or FO_ETOOBIG past out's cap. */
int fo_hdrlog_csv_row(struct fo_buf *out, const struct fo_hdr *h, double log_start_s);

/* ---- reading ---- */

struct fo_hdrlog_reader {
	FILE *f;
	bool owns;
	const char *name;          /* for messages (borrowed) */
	long line;                 /* current line number (1-based) */
	double start_time_s;       /* from #[StartTime: ...], else the first timestamp (0 before) */
	double base_time_s;        /* from #[BaseTime: ...], else deduced at the first interval */
	bool has_start_time;       /* start_time_s is known */
	bool has_base_time;        /* base_time_s is known (read or deduced) */
	bool decided;              /* the base time was deduced from the first timestamp */
	bool absolute;             /* timestamps are absolute (base time 0) */
	char *buf;                 /* line buffer (owned) */
	size_t cap;
	struct fo_buf bytes;       /* decoded histogram bytes (scratch) */
	struct fo_hdr_decoder dec; /* reused for every histogram */
	char *iobuf;               /* the stream's buffer when the reader opened it (owned) */
};

/* An interval as fo_hdrlog_next reads it: its histogram still encoded. */
struct fo_hdrlog_interval {
	const char *tag;           /* NULL: untagged; borrowed from the reader until its next read */
	int64_t start_ms, end_ms;  /* as fo_hdrlog_read sets them */
	const void *data;          /* the encoded histogram (binary; borrowed likewise) */
	size_t len;
};

/* Opens path. Returns 0, or FO_ENOENT / FO_EIO with "cannot open 'PATH': reason" in err. */
int fo_hdrlog_reader_open(struct fo_hdrlog_reader *r, const char *path, struct fo_err *err);
/* Reads from an open stream (borrowed); name (borrowed) is used in messages. */
void fo_hdrlog_reader_init(struct fo_hdrlog_reader *r, FILE *f, const char *name);
/*
 * Reads the next interval into h (initialised here, with its tag and start_ms/end_ms as
 * absolute ms since epoch when StartTime/BaseTime allow, else relative). Returns 1 with
 * an interval (release h), 0 at the end, or a negative error with "NAME:LINE: reason" in
 * err for a malformed line (a bad tag, timestamp, or histogram): such a line is never
 * skipped silently. h is zeroed unless 1 is returned.
 */
int fo_hdrlog_read(struct fo_hdrlog_reader *r, struct fo_hdr *h, struct fo_err *err);
void fo_hdrlog_reader_close(struct fo_hdrlog_reader *r);
/*
 * The first half of fo_hdrlog_read, for callers that add many intervals up: reads the
 * next interval into iv without decoding its histogram (its base64 is checked and
 * decoded). Returns 1, 0 at the end, or a negative error as fo_hdrlog_read. The histogram
 * must then go through fo_hdrlog_add or fo_hdrlog_decode, which refuse it if malformed.
 */
int fo_hdrlog_next(struct fo_hdrlog_reader *r, struct fo_hdrlog_interval *iv, struct fo_err *err);
/* Decodes iv's histogram into h (zeroed; with iv's tag and times): the second half of
 * fo_hdrlog_read. Returns 0 or FO_EPARSE ("NAME:LINE: invalid histogram: reason"). */
int fo_hdrlog_decode(struct fo_hdrlog_reader *r, const struct fo_hdrlog_interval *iv, struct fo_hdr *h,
		     struct fo_err *err);
/* Adds iv's histogram to acc as fo_hdr_accumulate would add the decoded one (a zeroed acc
 * starts like it), decoding straight into acc when the layouts allow; acc's times widen
 * to include iv's. Returns 0 or FO_EPARSE as fo_hdrlog_decode (acc is then unusable). */
int fo_hdrlog_add(struct fo_hdrlog_reader *r, const struct fo_hdrlog_interval *iv, struct fo_hdr *acc,
		  struct fo_err *err);

#endif
