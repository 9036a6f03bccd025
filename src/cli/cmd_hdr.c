/*
 * cmd_hdr.c: `fallout hdr`, tools for HdrHistogram interval logs (the format Java's
 * HistogramLogWriter writes, see metrics/hdrlog.h):
 *
 *   summary FILE...       the distribution of every tag: count, min, mean, stddev,
 *                         percentiles, max, duration and throughput (text or --json)
 *   merge FILE... -o OUT  the union of logs, as Fallout's hdrtool builds it
 *   split FILE [-o DIR]   one log per tag, <tag>.<FILE's name> (HdrLogProcessing's split)
 *   csv FILE              Fallout's hdr_split_to_csv rows (HdrLogProcessing's CsvConverter)
 *   record -o OUT         an interval log of the latencies read from stdin
 *
 * Accumulating follows Java's HistogramLogProcessor: the first interval's layout, growing
 * as needed; if a later interval has more significant digits (or a finer unit), the
 * accumulator is widened first, so merging never drops precision a source had.
 */
#include "util/common.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <unistd.h>

#include "cli/cli.h"
#include "metrics/hdr.h"
#include "metrics/hdrlog.h"
#include "metrics/union.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"

/* ---- shared helpers ---- */

/* Prints "fallout: hdr SUB: MSG" and returns FO_EXIT_FAILED. */
static int fail(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fallout: hdr %s: ", sub);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return FO_EXIT_FAILED;
}

/* The file name part of a path (borrowed from path). */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* An interval: a duration as fallout writes them everywhere (spec/props.h: "500ms", "1s"),
 * or a bare number of seconds. */
static bool parse_interval(const char *s, double *out_s)
{
	int64_t ns;
	if (fo_parse_double(s, out_s))
		return true;
	if (fo_duration_parse(s, &ns))
		return false;
	*out_s = (double)ns / 1e9;
	return true;
}

/* The value of an option that takes one: argv[*i + 1], or a usage error. */
static const char *option_value(const char *sub, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fo_cli_usage_error("hdr", "hdr %s: option '%s' needs a value", sub, argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

/* ---- summary ---- */

/* Everything seen of one tag. */
struct tagacc {
	char *tag;           /* owned; NULL: untagged */
	struct fo_hdr acc;
	int64_t intervals;
	int64_t start_ms, end_ms;
};

struct tagset {
	struct tagacc *v;
	size_t n, cap;
};

static struct tagacc *tagset_get(struct tagset *ts, const char *tag)
{
	for (size_t i = 0; i < ts->n; i++)
		if (fo_hdr_tag_equal(ts->v[i].tag, tag))
			return &ts->v[i];
	FO_GROW(ts->v, ts->cap, ts->n + 1);
	struct tagacc *t = &ts->v[ts->n++];
	memset(t, 0, sizeof(*t));
	t->tag = tag ? fo_strdup(tag) : NULL;
	return t;
}

static void tagset_release(struct tagset *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		fo_free(ts->v[i].tag);
		fo_hdr_release(&ts->v[i].acc);
	}
	fo_free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

/* Untagged first, then tags in byte order. */
static int tagacc_cmp(const void *a, const void *b)
{
	const struct tagacc *x = a, *y = b;
	if (!x->tag || !y->tag)
		return (x->tag != NULL) - (y->tag != NULL);
	return strcmp(x->tag, y->tag);
}

static const double summary_percentiles[] = {50, 90, 95, 99, 99.9, 99.99};
static const char *const summary_percentile_names[] = {"p50", "p90", "p95", "p99", "p99.9", "p99.99"};

static double duration_s(const struct tagacc *t)
{
	return t->end_ms > t->start_ms ? (double)(t->end_ms - t->start_ms) / 1000.0 : 0.0;
}

static double throughput(const struct tagacc *t)
{
	double d = duration_s(t);
	return d > 0 ? (double)fo_hdr_total(&t->acc) / d : 0.0;
}

static void print_json(const struct tagset *ts, char **files, int nfiles, double ratio)
{
	json_t *root = json_object();
	json_t *jf = json_array();
	for (int i = 0; i < nfiles; i++)
		json_array_append_new(jf, json_string(files[i]));
	json_object_set_new(root, "files", jf);
	json_object_set_new(root, "unit_ratio", json_real(ratio));
	json_t *tags = json_array();
	for (size_t i = 0; i < ts->n; i++) {
		const struct tagacc *t = &ts->v[i];
		const struct fo_hdr *h = &t->acc;
		json_t *o = json_object();
		json_t *ms = json_object();
		json_object_set_new(o, "tag", t->tag ? json_string(t->tag) : json_null());
		json_object_set_new(o, "intervals", json_integer(t->intervals));
		json_object_set_new(o, "count", json_integer(fo_hdr_total(h)));
		json_object_set_new(o, "start", json_real((double)t->start_ms / 1000.0));
		json_object_set_new(o, "end", json_real((double)t->end_ms / 1000.0));
		json_object_set_new(o, "duration_s", json_real(duration_s(t)));
		json_object_set_new(o, "throughput", json_real(throughput(t)));
		json_object_set_new(o, "min", json_integer(fo_hdr_min(h)));
		json_object_set_new(ms, "min", json_real((double)fo_hdr_min(h) / ratio));
		json_object_set_new(o, "mean", json_real(fo_hdr_mean(h)));
		json_object_set_new(ms, "mean", json_real(fo_hdr_mean(h) / ratio));
		json_object_set_new(o, "stddev", json_real(fo_hdr_stddev(h)));
		json_object_set_new(ms, "stddev", json_real(fo_hdr_stddev(h) / ratio));
		for (size_t p = 0; p < FO_ARRAY_LEN(summary_percentiles); p++) {
			int64_t v = fo_hdr_value_at_percentile(h, summary_percentiles[p]);
			json_object_set_new(o, summary_percentile_names[p], json_integer(v));
			json_object_set_new(ms, summary_percentile_names[p], json_real((double)v / ratio));
		}
		json_object_set_new(o, "max", json_integer(fo_hdr_max(h)));
		json_object_set_new(ms, "max", json_real((double)fo_hdr_max(h) / ratio));
		json_object_set_new(o, "ms", ms);
		json_array_append_new(tags, o);
	}
	json_object_set_new(root, "tags", tags);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(root);
}

enum { NCOLS = 15 };

static void print_table(const struct tagset *ts, double ratio)
{
	static const char *const heads[NCOLS] = {"tag", "intervals", "count", "duration_s", "ops/s", "min", "mean",
						 "stddev", "p50", "p90", "p95", "p99", "p99.9", "p99.99", "max"};
	size_t rows = ts->n + 1;
	char(*cells)[NCOLS][256] = fo_calloc(rows, sizeof(*cells));
	for (int c = 0; c < NCOLS; c++)
		snprintf(cells[0][c], sizeof(cells[0][c]), "%s", heads[c]);
	for (size_t i = 0; i < ts->n; i++) {
		const struct tagacc *t = &ts->v[i];
		const struct fo_hdr *h = &t->acc;
		char(*row)[256] = cells[i + 1];
		snprintf(row[0], sizeof(row[0]), "%.255s", t->tag ? t->tag : "(untagged)");
		snprintf(row[1], sizeof(row[1]), "%" PRId64, t->intervals);
		snprintf(row[2], sizeof(row[2]), "%" PRId64, fo_hdr_total(h));
		fo_hdrlog_format_double(row[3], sizeof(row[3]), duration_s(t), 3);
		fo_hdrlog_format_double(row[4], sizeof(row[4]), throughput(t), 1);
		double v[10] = {(double)fo_hdr_min(h), fo_hdr_mean(h), fo_hdr_stddev(h)};
		for (size_t p = 0; p < FO_ARRAY_LEN(summary_percentiles); p++)
			v[3 + p] = (double)fo_hdr_value_at_percentile(h, summary_percentiles[p]);
		v[9] = (double)fo_hdr_max(h);
		for (int c = 0; c < 10; c++)
			fo_hdrlog_format_double(row[5 + c], sizeof(row[5 + c]), v[c] / ratio, 3);
	}
	int width[NCOLS] = {0};
	for (size_t r = 0; r < rows; r++)
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cells[r][c]) > width[c])
				width[c] = (int)strlen(cells[r][c]);
	for (size_t r = 0; r < rows; r++) {
		for (int c = 0; c < NCOLS; c++)
			printf(c == 0 ? "%-*s" : "  %*s", width[c], cells[r][c]);
		putchar('\n');
	}
	fo_free(cells);
}

static int hdr_summary(int argc, char **argv)
{
	bool json = false;
	const char *only_tag = NULL;
	bool tag_given = false;
	double ratio = 1e6;
	char **files = fo_calloc((size_t)argc, sizeof(char *));
	int nfiles = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--tag") == 0) {
			if (!(only_tag = option_value("summary", argc, argv, &i)))
				goto usage;
			tag_given = true;
		} else if (strcmp(argv[i], "--unit-ratio") == 0) {
			const char *v = option_value("summary", argc, argv, &i);
			if (!v)
				goto usage;
			if (!fo_parse_double(v, &ratio) || ratio <= 0) {
				fo_cli_usage_error("hdr", "hdr summary: --unit-ratio must be a positive number, not '%s'", v);
				goto usage;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fo_cli_usage_error("hdr", "hdr summary: unknown option '%s'", argv[i]);
			goto usage;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0) {
		fo_cli_usage_error("hdr", "hdr summary: which interval logs? (give at least one FILE)");
		goto usage;
	}
	struct tagset ts = {0};
	for (int f = 0; f < nfiles; f++) {
		struct fo_hdrlog_reader r;
		struct fo_err err = {0};
		if (fo_hdrlog_reader_open(&r, files[f], &err)) {
			tagset_release(&ts);
			fo_free(files);
			return fail("summary", "%s", err.msg);
		}
		struct fo_hdrlog_interval iv;
		int rc;
		while ((rc = fo_hdrlog_next(&r, &iv, &err)) == 1) {
			/* --tag '' selects the untagged intervals */
			if (!tag_given || fo_hdr_tag_equal(iv.tag, *only_tag ? only_tag : NULL)) {
				/* decoded straight into the tag's histogram */
				struct tagacc *t = tagset_get(&ts, iv.tag);
				if ((rc = fo_hdrlog_add(&r, &iv, &t->acc, &err)))
					break;
				t->intervals++;
				if (t->intervals == 1 || iv.start_ms < t->start_ms)
					t->start_ms = iv.start_ms;
				if (t->intervals == 1 || iv.end_ms > t->end_ms)
					t->end_ms = iv.end_ms;
			} else {
				/* not counted, but a malformed histogram is refused all the same */
				struct fo_hdr h;
				if ((rc = fo_hdrlog_decode(&r, &iv, &h, &err)))
					break;
				fo_hdr_release(&h);
			}
		}
		fo_hdrlog_reader_close(&r);
		if (rc < 0) {
			tagset_release(&ts);
			fo_free(files);
			return fail("summary", "%s", err.msg);
		}
	}
	if (ts.n)
		qsort(ts.v, ts.n, sizeof(ts.v[0]), tagacc_cmp);
	if (json)
		print_json(&ts, files, nfiles, ratio);
	else if (ts.n == 0)
		printf("no intervals%s\n", tag_given ? " with that tag" : "");
	else
		print_table(&ts, ratio);
	tagset_release(&ts);
	fo_free(files);
	return FO_EXIT_OK;
usage:
	fo_free(files);
	return FO_EXIT_USAGE;
}

/* ---- merge ---- */

/* The union of logs, by Fallout's rule (metrics/union.h). */
static int hdr_merge(int argc, char **argv)
{
	const char *out = NULL;
	size_t n = 0;
	const char **paths = fo_calloc((size_t)argc, sizeof(*paths));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (!(out = option_value("merge", argc, argv, &i))) {
				fo_free(paths);
				return FO_EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fo_free(paths);
			return fo_cli_usage_error("hdr", "hdr merge: unknown option '%s'", argv[i]);
		} else {
			paths[n++] = argv[i];
		}
	}
	if (!out || n == 0) {
		fo_free(paths);
		return fo_cli_usage_error("hdr", "hdr merge: give the logs to merge and -o OUT.hdr");
	}
	struct fo_err err = {0};
	struct fo_hdrlog_reader *readers = fo_calloc(n, sizeof(*readers));
	struct fo_hdrlog_reader **in = fo_calloc(n, sizeof(*in));
	struct fo_union u = {0};
	size_t opened = 0;
	int rc = 0;
	for (; opened < n && !rc; opened++) {
		in[opened] = &readers[opened];
		rc = fo_hdrlog_reader_open(&readers[opened], paths[opened], &err);
	}
	if (!rc)
		rc = fo_union_init(&u, in, n, &err);
	if (!rc)
		rc = fo_union_write_log(&u, out, &err);
	if (!rc)
		rc = fo_union_run(&u, NULL, NULL, &err);
	int64_t written = u.intervals_out, n_in = u.intervals_in;
	fo_union_release(&u);
	for (size_t i = 0; i < opened; i++)
		fo_hdrlog_reader_close(&readers[i]);
	fo_free(in);
	fo_free(readers);
	fo_free(paths);
	if (rc)
		return fail("merge", "%s", err.msg);
	printf("%s: %" PRId64 " intervals from %" PRId64 " intervals of %zu log%s\n", out, written, n_in, n,
	       n == 1 ? "" : "s");
	return FO_EXIT_OK;
}

/* ---- split ---- */

struct splitout {
	char *tag;           /* owned; NULL: untagged ("default" in the file name) */
	struct fo_hdrlog_writer w;
	char *path;          /* owned */
};

static int hdr_split(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (!(dir = option_value("split", argc, argv, &i)))
				return FO_EXIT_USAGE;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return fo_cli_usage_error("hdr", "hdr split: unknown option '%s'", argv[i]);
		} else if (file) {
			return fo_cli_usage_error("hdr", "hdr split: one log at a time ('%s' and '%s')", file, argv[i]);
		} else {
			file = argv[i];
		}
	}
	if (!file)
		return fo_cli_usage_error("hdr", "hdr split: which interval log?");
	/* Like HdrLogProcessing, next to the input unless told otherwise. */
	struct fo_buf outdir = FO_BUF_INIT;
	if (dir)
		fo_buf_adds(&outdir, dir);
	else if (strrchr(file, '/'))
		fo_buf_add(&outdir, file, (size_t)(strrchr(file, '/') - file));
	else
		fo_buf_adds(&outdir, ".");
	struct fo_err err = {0};
	struct fo_hdrlog_reader r;
	if (fo_hdrlog_reader_open(&r, file, &err)) {
		fo_buf_release(&outdir);
		return fail("split", "%s", err.msg);
	}
	const char *name = base_name(file);
	struct splitout *outs = NULL;
	size_t nout = 0, cap = 0;
	struct fo_hdr h;
	int rc;
	while ((rc = fo_hdrlog_read(&r, &h, &err)) == 1) {
		struct splitout *o = NULL;
		int wrc = 0;
		for (size_t i = 0; i < nout && !o; i++)
			if (fo_hdr_tag_equal(outs[i].tag, h.tag))
				o = &outs[i];
		if (!o) {
			FO_GROW(outs, cap, nout + 1);
			o = &outs[nout];
			memset(o, 0, sizeof(*o));
			struct fo_buf path = FO_BUF_INIT;
			fo_buf_addf(&path, "%s/", outdir.s);
			for (const char *t = h.tag ? h.tag : "default"; *t; t++)
				fo_buf_addch(&path, *t == '/' ? '_' : *t);
			fo_buf_addf(&path, ".%s", name);
			o->path = fo_buf_detach(&path, NULL);
			if ((wrc = fo_hdrlog_writer_open(&o->w, o->path, &err))) {
				fo_free(o->path);
				fo_hdr_release(&h);
				rc = wrc;
				break;
			}
			o->tag = h.tag ? fo_strdup(h.tag) : NULL;
			nout++;
			/* HdrLogProcessing's header for a split log */
			struct fo_buf comment = FO_BUF_INIT;
			fo_buf_addf(&comment, "Splitting of:%s start:0.0 end:1.7976931348623157E308", name);
			wrc = fo_hdrlog_write_version(&o->w);
			if (!wrc)
				wrc = fo_hdrlog_write_comment(&o->w, comment.s);
			if (!wrc && r.start_time_s != 0)
				wrc = fo_hdrlog_write_base_time(&o->w, r.start_time_s);
			if (!wrc && r.start_time_s != 0)
				wrc = fo_hdrlog_write_start_time(&o->w, r.start_time_s);
			if (!wrc)
				wrc = fo_hdrlog_write_legend(&o->w);
			fo_buf_release(&comment);
		}
		if (!wrc)
			wrc = fo_hdrlog_write(&o->w, &h);
		fo_hdr_release(&h);
		if (wrc) {
			fo_err_set(&err, wrc, "cannot write '%s': %s", o->path, fo_strerror(wrc));
			rc = wrc;
			break;
		}
	}
	fo_hdrlog_reader_close(&r);
	for (size_t i = 0; i < nout; i++) {
		int crc = fo_hdrlog_writer_close(&outs[i].w);
		if (crc && !rc) {
			rc = crc;
			fo_err_set(&err, rc, "cannot write '%s': %s", outs[i].path, fo_strerror(rc));
		}
		if (!rc)
			printf("%s\n", outs[i].path);
		fo_free(outs[i].tag);
		fo_free(outs[i].path);
	}
	fo_free(outs);
	fo_buf_release(&outdir);
	if (rc < 0)
		return fail("split", "%s", err.msg);
	return FO_EXIT_OK;
}

/* ---- csv ---- */

static int hdr_csv(int argc, char **argv)
{
	const char *file = NULL, *out = NULL, *only_tag = NULL;
	bool tag_given = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (!(out = option_value("csv", argc, argv, &i)))
				return FO_EXIT_USAGE;
		} else if (strcmp(argv[i], "--tag") == 0) {
			if (!(only_tag = option_value("csv", argc, argv, &i)))
				return FO_EXIT_USAGE;
			tag_given = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return fo_cli_usage_error("hdr", "hdr csv: unknown option '%s'", argv[i]);
		} else if (file) {
			return fo_cli_usage_error("hdr", "hdr csv: one log at a time ('%s' and '%s')", file, argv[i]);
		} else {
			file = argv[i];
		}
	}
	if (!file)
		return fo_cli_usage_error("hdr", "hdr csv: which interval log?");
	struct fo_err err = {0};
	struct fo_hdrlog_reader r;
	if (fo_hdrlog_reader_open(&r, file, &err))
		return fail("csv", "%s", err.msg);
	struct fo_buf csv = FO_BUF_INIT;
	fo_buf_adds(&csv, FO_HDRLOG_CSV_HEADER);
	struct fo_hdr h;
	int rc;
	while ((rc = fo_hdrlog_read(&r, &h, &err)) == 1) {
		if (!tag_given || fo_hdr_tag_equal(h.tag, *only_tag ? only_tag : NULL))
			fo_hdrlog_csv_row(&csv, &h, r.start_time_s);
		fo_hdr_release(&h);
	}
	fo_hdrlog_reader_close(&r);
	if (rc < 0) {
		fo_buf_release(&csv);
		return fail("csv", "%s", err.msg);
	}
	FILE *f = out ? fopen(out, "w") : stdout;
	bool ok = f && fwrite(csv.s, 1, csv.len, f) == csv.len;
	if (f && f != stdout)
		ok = fclose(f) == 0 && ok;
	else if (f)
		ok = fflush(f) == 0 && ok;
	fo_buf_release(&csv);
	if (!ok)
		return fail("csv", "cannot write '%s': %s", out ? out : "<stdout>", strerror(errno));
	return FO_EXIT_OK;
}

/* ---- record ---- */

static int64_t now_ms(void)
{
	return fo_wall_ns() / 1000000;
}

/* The histograms of the interval being recorded, one per tag. */
struct recorder {
	struct fo_hdrlog_writer w;
	struct tagset ts;
	int sigfigs;
	int64_t interval_start_ms;
	bool dirty;          /* a value was recorded in this interval */
};

/* Writes the current interval of every tag seen so far, and starts the next at end_ms. */
static int flush_interval(struct recorder *rec, int64_t end_ms)
{
	int rc = 0;
	for (size_t i = 0; i < rec->ts.n && !rc; i++) {
		struct fo_hdr *h = &rec->ts.v[i].acc;
		h->start_ms = rec->interval_start_ms;
		h->end_ms = end_ms;
		fo_hdr_set_tag(h, rec->ts.v[i].tag);
		rc = fo_hdrlog_write(&rec->w, h);
		fo_hdr_reset(h);
	}
	if (!rc && fflush(rec->w.f))
		rc = FO_EIO;
	rec->interval_start_ms = end_ms;
	rec->dirty = false;
	return rc;
}

/* One input line: "VALUE" or "TAG VALUE". */
static int record_line(struct recorder *rec, char *line, long lineno, const char *default_tag, double unit_ns)
{
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		p[--n] = 0;
	if (!*p || *p == '#')
		return 0;
	const char *tag = default_tag;
	char *value = p;
	char *sp = strpbrk(p, " \t");
	if (sp) {
		*sp = 0;
		tag = p;
		value = sp + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		if (strpbrk(tag, ","))
			return fail("record", "<stdin>:%ld: a tag cannot contain a comma: '%s'", lineno, tag);
	}
	double v;
	if (!fo_parse_double(value, &v) || v < 0 || v * unit_ns >= 9.2e18)
		return fail("record", "<stdin>:%ld: not a latency: '%s' (expected a number >= 0, or TAG NUMBER)", lineno,
			    value);
	struct tagacc *t = tagset_get(&rec->ts, tag && *tag ? tag : NULL);
	if (!t->acc.counts) {
		if (fo_hdr_init(&t->acc, 1, 2, rec->sigfigs))
			abort();
		t->acc.auto_resize = true;
	}
	fo_hdr_record(&t->acc, llround(v * unit_ns));
	rec->dirty = true;
	return 0;
}

static int hdr_record(int argc, char **argv)
{
	const char *out = NULL, *tag = NULL;
	double interval_s = 1.0, unit_ns = 1.0;
	int64_t sigfigs = 3;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (!(out = option_value("record", argc, argv, &i)))
				return FO_EXIT_USAGE;
		} else if (strcmp(argv[i], "--tag") == 0) {
			if (!(tag = option_value("record", argc, argv, &i)))
				return FO_EXIT_USAGE;
			if (strpbrk(tag, ", \t\r\n"))
				return fo_cli_usage_error("hdr", "hdr record: a tag cannot contain commas or spaces: '%s'",
							  tag);
		} else if (strcmp(argv[i], "--interval") == 0) {
			if (!(v = option_value("record", argc, argv, &i)))
				return FO_EXIT_USAGE;
			if (!parse_interval(v, &interval_s) || interval_s < 0.001)
				return fo_cli_usage_error("hdr", "hdr record: --interval must be a duration such as 1s or "
								 "500ms, not '%s'", v);
		} else if (strcmp(argv[i], "--unit") == 0) {
			if (!(v = option_value("record", argc, argv, &i)))
				return FO_EXIT_USAGE;
			if (strcmp(v, "ns") == 0)
				unit_ns = 1;
			else if (strcmp(v, "us") == 0)
				unit_ns = 1e3;
			else if (strcmp(v, "ms") == 0)
				unit_ns = 1e6;
			else if (strcmp(v, "s") == 0)
				unit_ns = 1e9;
			else
				return fo_cli_usage_error("hdr", "hdr record: --unit is ns, us, ms or s, not '%s'", v);
		} else if (strcmp(argv[i], "--sigfigs") == 0) {
			if (!(v = option_value("record", argc, argv, &i)))
				return FO_EXIT_USAGE;
			if (!fo_parse_i64(v, &sigfigs) || sigfigs < 0 || sigfigs > 5)
				return fo_cli_usage_error("hdr", "hdr record: --sigfigs is 0 to 5, not '%s'", v);
		} else {
			return fo_cli_usage_error("hdr", "hdr record: unexpected argument '%s'", argv[i]);
		}
	}
	if (!out)
		return fo_cli_usage_error("hdr", "hdr record: where to? (-o OUT.hdr)");
	struct recorder rec = {.sigfigs = (int)sigfigs};
	struct fo_err err = {0};
	if (fo_hdrlog_writer_open(&rec.w, out, &err))
		return fail("record", "%s", err.msg);
	rec.interval_start_ms = now_ms();
	rec.w.base_time_s = (double)rec.interval_start_ms / 1000.0;
	int rc = fo_hdrlog_write_header(&rec.w, rec.w.base_time_s);
	if (!rc && fflush(rec.w.f))
		rc = FO_EIO;
	int64_t interval_ms = llround(interval_s * 1000);
	if (interval_ms < 1)
		interval_ms = 1;
	struct fo_buf pending = FO_BUF_INIT;
	long lineno = 0;
	bool eof = false;
	int status = FO_EXIT_OK;
	while (!rc && !eof && status == FO_EXIT_OK) {
		int64_t now = now_ms();
		if (now >= rec.interval_start_ms + interval_ms) {
			/* Close every interval that has passed (one line per tag each). */
			while (!rc && now >= rec.interval_start_ms + interval_ms)
				rc = flush_interval(&rec, rec.interval_start_ms + interval_ms);
			continue;
		}
		struct pollfd pfd = {.fd = 0, .events = POLLIN};
		int wait = (int)(rec.interval_start_ms + interval_ms - now);
		int pr = poll(&pfd, 1, wait);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pr == 0)
			continue;
		char chunk[65536];
		ssize_t got = read(0, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			eof = true;
			if (pending.len == 0)
				break;
			fo_buf_addch(&pending, '\n');
		} else {
			fo_buf_add(&pending, chunk, (size_t)got);
		}
		/* Record every complete line. */
		size_t start = 0;
		for (;;) {
			char *nl = memchr(pending.s + start, '\n', pending.len - start);
			if (!nl)
				break;
			*nl = 0;
			lineno++;
			if (record_line(&rec, pending.s + start, lineno, tag, unit_ns) != 0) {
				status = FO_EXIT_FAILED;
				break;
			}
			start = (size_t)(nl - pending.s) + 1;
		}
		memmove(pending.s, pending.s + start, pending.len - start);
		fo_buf_truncate(&pending, pending.len - start);
	}
	/* The last, partial interval, if it holds anything. */
	if (!rc && rec.dirty)
		rc = flush_interval(&rec, now_ms());
	int crc = fo_hdrlog_writer_close(&rec.w);
	if (!rc)
		rc = crc;
	fo_buf_release(&pending);
	tagset_release(&rec.ts);
	if (rc)
		return fail("record", "cannot write '%s': %s", out, fo_strerror(rc));
	return status;
}

/* ---- dispatch ---- */

static const struct fo_subcommand subcommands[] = {
	{"summary", hdr_summary}, {"merge", hdr_merge}, {"split", hdr_split},
	{"csv", hdr_csv},         {"record", hdr_record},
};

int fo_cmd_hdr(int argc, char **argv)
{
	return fo_cli_subcommand("hdr", subcommands, FO_ARRAY_LEN(subcommands), "summary, merge, split, csv or record",
				 argc, argv);
}
