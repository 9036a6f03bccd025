/*
 * cmd_report.c: `fallout report`, the performance reports of finished runs, rebuilt from
 * their raw interval logs at any time:
 *
 *   fallout report RUN_DIR                 rebuilds the run's performance-report.json and
 *                                          .html in its client group's folder
 *   fallout report RUN_DIR... -o F.html    runs side by side, changes against the first
 *   fallout report --baseline A1,A2,A3 --contender B1,B2,B3 [-o F.html]
 *                                          repeated runs per side: each metric's mean with
 *                                          its 95% confidence interval, the change, and
 *                                          whether it is significant (Welch's t-test)
 *
 * The figures are also printed as a text table. Exit status: 0 done, 1 a log could not be
 * read or a report written, 2 bad usage or a folder that is not a run.
 */
#include "util/common.h"

#include <math.h>

#include "cli/cli.h"
#include "report/html.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

#define DEFAULT_OUT "performance-comparison.html"

/* ---- a text table ---- */

struct table {
	char **cells; /* row by row, owned */
	size_t n;     /* cells so far */
	size_t rows, cols, cap;
};

static void table_add(struct table *t, const char *fmt, ...) FO_PRINTF(2, 3);
static void table_add(struct table *t, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	FO_GROW(t->cells, t->cap, t->n + 1);
	t->cells[t->n++] = fo_buf_detach(&b, NULL);
}

/* Ends the row, filling the cells not given. */
static void table_end_row(struct table *t)
{
	while (t->n < (t->rows + 1) * t->cols)
		table_add(t, "%s", "");
	t->rows++;
}

/* How many characters s shows: UTF-8 continuation bytes do not count (for the "±"). */
static size_t text_width(const char *s)
{
	size_t len = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		len += (*p & 0xC0) != 0x80;
	return len;
}

/* Prints t (the first row as its header) and frees it. */
static void table_print(struct table *t)
{
	size_t *w = fo_calloc(t->cols, sizeof(*w));
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->cols; c++) {
			size_t len = text_width(t->cells[r * t->cols + c]);
			if (len > w[c])
				w[c] = len;
		}
	for (size_t r = 0; r < t->rows; r++) {
		struct fo_buf line = FO_BUF_INIT;
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cells[r * t->cols + c];
			fo_buf_adds(&line, s);
			for (size_t k = text_width(s); c + 1 < t->cols && k < w[c] + 2; k++)
				fo_buf_addch(&line, ' ');
		}
		while (line.len && line.s[line.len - 1] == ' ')
			fo_buf_truncate(&line, line.len - 1);
		puts(line.s);
		fo_buf_release(&line);
	}
	for (size_t i = 0; i < t->n; i++)
		fo_free(t->cells[i]);
	fo_free(t->cells);
	fo_free(w);
	*t = (struct table){0};
}

static const char *fmt_value(char *out, size_t n, double v, const char *unit)
{
	if (!isfinite(v))
		snprintf(out, n, "-");
	else if (strcmp(unit, "ms") == 0)
		snprintf(out, n, "%.3f ms", v);
	else
		snprintf(out, n, "%.1f op/s", v);
	return out;
}

/* ---- arguments ---- */

struct args {
	const char **dirs; /* positional run folders */
	size_t ndirs;
	char **base, **cont; /* --baseline, --contender lists (owned strings) */
	size_t nbase, ncont;
	const char *out;   /* -o */
	const char *group; /* --group */
};

/* Splits "a,b,c" into owned strings appended to *v. Returns false on an empty item. */
static bool split_list(const char *s, char ***v, size_t *n)
{
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len == 0)
			return false;
		*v = fo_reallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = fo_strndup(s, len);
		if (!comma)
			return true;
		s = comma + 1;
	}
}

static void args_release(struct args *a)
{
	for (size_t i = 0; i < a->nbase; i++)
		fo_free(a->base[i]);
	for (size_t i = 0; i < a->ncont; i++)
		fo_free(a->cont[i]);
	fo_free(a->base);
	fo_free(a->cont);
	fo_free(a->dirs);
}

static int parse_args(struct args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *val = NULL;
		if ((strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0 || strcmp(s, "--group") == 0 ||
		     strcmp(s, "--baseline") == 0 || strcmp(s, "--contender") == 0)) {
			if (i + 1 >= argc)
				return fo_cli_usage_error("report", "%s needs a value", s);
			val = argv[++i];
		}
		if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
			a->out = val;
		} else if (strcmp(s, "--group") == 0) {
			a->group = val;
		} else if (strcmp(s, "--baseline") == 0 || strcmp(s, "--contender") == 0) {
			bool base = strcmp(s, "--baseline") == 0;
			if (!split_list(val, base ? &a->base : &a->cont, base ? &a->nbase : &a->ncont))
				return fo_cli_usage_error("report",
							  "%s wants run folders separated by commas, got '%s'", s, val);
		} else if (s[0] == '-' && s[1]) {
			return fo_cli_usage_error("report", "unknown option '%s'", s);
		} else {
			a->dirs = fo_reallocarray(a->dirs, a->ndirs + 1, sizeof(*a->dirs));
			a->dirs[a->ndirs++] = s;
		}
	}
	bool ab = a->nbase || a->ncont;
	if (ab && a->ndirs)
		return fo_cli_usage_error("report", "give run folders either with --baseline/--contender or alone, "
						    "not both");
	if (ab && (!a->nbase || !a->ncont))
		return fo_cli_usage_error("report", "--baseline and --contender go together");
	if (!ab && !a->ndirs)
		return fo_cli_usage_error("report", "which runs? give at least one run folder");
	return 0;
}

/* ---- loading ---- */

/* Loads each folder; prints why one cannot be. Returns 0, FO_EXIT_USAGE or FO_EXIT_FAILED. */
static int load_runs(struct fo_report_run_data *d, const char *const *dirs, size_t n, const char *group)
{
	for (size_t i = 0; i < n; i++) {
		if (!fo_report_is_run(dirs[i])) {
			fprintf(stderr, "fallout: report: '%s' is not a run folder (it has no testrun.json)\n",
				dirs[i]);
			return FO_EXIT_USAGE;
		}
		struct fo_err err = {0};
		int rc = fo_report_run_load(&d[i], dirs[i], group, &err);
		if (rc) {
			fprintf(stderr, "fallout: report: %s\n", err.msg);
			return rc == FO_ENOTFOUND || rc == FO_EINVAL ? FO_EXIT_USAGE : FO_EXIT_FAILED;
		}
	}
	/* Runs with the same folder name are told apart by their path as given. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			if (i != k && strcmp(d[i].label, d[k].label) == 0) {
				d[i].run.label = dirs[i];
				break;
			}
	return 0;
}

static int write_html(const struct fo_report_run *runs, size_t n, const struct fo_html_opts *o, const char *path)
{
	struct fo_err err = {0};
	if (fo_report_html(runs, n, o, path, &err) != 0) {
		fprintf(stderr, "fallout: report: %s\n", err.msg);
		return FO_EXIT_FAILED;
	}
	printf("wrote %s\n", path);
	return 0;
}

/* ---- the three forms ---- */

static int report_one(struct fo_report_run_data *d, const char *out)
{
	struct table t = {.cols = 7};
	const char *heads[] = {"series", "operations", "throughput", "p50", "p99", "p99.9", "max"};
	for (size_t i = 0; i < FO_ARRAY_LEN(heads); i++)
		table_add(&t, "%s", heads[i]);
	table_end_row(&t);
	for (size_t i = 0; i < d->perf.n; i++) {
		struct fo_perf_summary m;
		fo_perf_summarize(&d->perf.s[i], &m);
		table_add(&t, "%s", d->perf.s[i].name);
		table_add(&t, "%lld", (long long)m.count);
		table_add(&t, "%.1f op/s", m.ops_s);
		table_add(&t, "%.3f ms", m.p50_ms);
		table_add(&t, "%.3f ms", m.p99_ms);
		table_add(&t, "%.3f ms", m.p999_ms);
		table_add(&t, "%.3f ms", m.max_ms);
		table_end_row(&t);
	}
	table_print(&t);

	struct fo_buf path = FO_BUF_INIT;
	int rc = 0;
	if (!out) {
		struct fo_err err = {0};
		fo_buf_addf(&path, "%s/%s/performance-report.json", d->dir, d->group);
		if (fo_perf_write_json(&d->perf, path.s, &err) != 0) {
			fprintf(stderr, "fallout: report: %s\n", err.msg);
			rc = FO_EXIT_FAILED;
		} else {
			printf("wrote %s\n", path.s);
		}
		fo_buf_clear(&path);
		fo_buf_addf(&path, "%s/%s/performance-report.html", d->dir, d->group);
		out = path.s;
	}
	if (!rc)
		rc = write_html(&d->run, 1, NULL, out);
	fo_buf_release(&path);
	return rc;
}

static int report_side_by_side(struct fo_report_run_data *d, size_t n, const char *out)
{
	struct fo_report_run *runs = fo_calloc(n, sizeof(*runs));
	for (size_t i = 0; i < n; i++)
		runs[i] = d[i].run;
	static const char *const metric[] = {"throughput", "mean", "p50", "p90", "p99", "p99.9", "max"};
	for (size_t i = 0; i < d[0].perf.n; i++) {
		const char *name = d[0].perf.s[i].name;
		struct table t = {.cols = 1 + FO_ARRAY_LEN(metric)};
		table_add(&t, "%s", name);
		for (size_t k = 0; k < FO_ARRAY_LEN(metric); k++)
			table_add(&t, "%s", metric[k]);
		table_end_row(&t);
		struct fo_perf_summary first;
		fo_perf_summarize(&d[0].perf.s[i], &first);
		for (size_t r = 0; r < n; r++) {
			const struct fo_perf_series *s = fo_perf_find(&d[r].perf, name);
			table_add(&t, "%s", runs[r].label);
			if (!s) {
				table_end_row(&t);
				continue;
			}
			struct fo_perf_summary m;
			fo_perf_summarize(s, &m);
			const double v[] = {m.ops_s, m.mean_ms, m.p50_ms, m.p90_ms, m.p99_ms, m.p999_ms, m.max_ms};
			const double f[] = {first.ops_s,  first.mean_ms, first.p50_ms, first.p90_ms,
					    first.p99_ms, first.p999_ms, first.max_ms};
			for (size_t k = 0; k < FO_ARRAY_LEN(v); k++) {
				char val[48], delta[48];
				const char *unit = k == 0 ? "op/s" : "ms";
				fmt_value(val, sizeof(val), v[k], unit);
				fmt_value(delta, sizeof(delta), v[k] - f[k], unit);
				if (r == 0)
					table_add(&t, "%s", val);
				else if (f[k] == 0)
					table_add(&t, "%s (%s%s)", val, v[k] >= f[k] ? "+" : "", delta);
				else
					table_add(&t, "%s (%+.1f%%, %s%s)", val, (v[k] - f[k]) / f[k] * 100,
						  v[k] >= f[k] ? "+" : "", delta);
			}
			table_end_row(&t);
		}
		table_print(&t);
		putchar('\n');
	}
	struct fo_buf title = FO_BUF_INIT;
	fo_buf_addf(&title, "%s%s%zu runs side by side", d[0].test_name ? d[0].test_name : "",
		    d[0].test_name ? ": " : "", n);
	struct fo_html_opts o = {.title = title.s};
	int rc = write_html(runs, n, &o, out ? out : DEFAULT_OUT);
	fo_buf_release(&title);
	fo_free(runs);
	return rc;
}

static int report_ab(struct fo_report_run_data *d, size_t nbase, size_t ncont, const char *out)
{
	size_t n = nbase + ncont;
	struct fo_report_run *runs = fo_calloc(n, sizeof(*runs));
	for (size_t i = 0; i < n; i++) {
		runs[i] = d[i].run;
		runs[i].side = i < nbase ? FO_REPORT_SIDE_BASELINE : FO_REPORT_SIDE_CONTENDER;
	}
	size_t nc = 0;
	struct fo_report_cmp *c = fo_report_compare(runs, n, &nc);
	if (!nc) {
		fprintf(stderr, "fallout: report: the baseline and contender runs have no series in common\n");
		fo_free(runs);
		return FO_EXIT_FAILED;
	}
	struct table t = {.cols = 6};
	const char *heads[] = {"series", "metric", "baseline (mean ± 95% CI)", "contender (mean ± 95% CI)",
			       "change", "verdict"};
	for (size_t i = 0; i < FO_ARRAY_LEN(heads); i++)
		table_add(&t, "%s", heads[i]);
	table_end_row(&t);
	for (size_t i = 0; i < nc; i++) {
		char a[48], ha[48], b[48], hb[48];
		table_add(&t, "%s", i == 0 || strcmp(c[i - 1].series, c[i].series) != 0 ? c[i].series : "");
		table_add(&t, "%s", c[i].metric);
		fmt_value(a, sizeof(a), c[i].a.mean, c[i].unit);
		fmt_value(b, sizeof(b), c[i].b.mean, c[i].unit);
		if (isfinite(c[i].a.half))
			table_add(&t, "%s ± %s", a, fmt_value(ha, sizeof(ha), c[i].a.half, c[i].unit));
		else
			table_add(&t, "%s", a);
		if (isfinite(c[i].b.half))
			table_add(&t, "%s ± %s", b, fmt_value(hb, sizeof(hb), c[i].b.half, c[i].unit));
		else
			table_add(&t, "%s", b);
		if (isfinite(c[i].change_pct))
			table_add(&t, "%+.1f%%", c[i].change_pct);
		else
			table_add(&t, "-");
		table_add(&t, "%s", c[i].verdict);
		table_end_row(&t);
	}
	printf("baseline: %zu run%s, contender: %zu run%s\n", nbase, nbase == 1 ? "" : "s", ncont,
	       ncont == 1 ? "" : "s");
	table_print(&t);
	struct fo_buf title = FO_BUF_INIT;
	fo_buf_addf(&title, "%s%sbaseline vs contender", d[0].test_name ? d[0].test_name : "",
		    d[0].test_name ? ": " : "");
	struct fo_html_opts o = {.cmp = c, .ncmp = nc, .title = title.s};
	int rc = write_html(runs, n, &o, out ? out : DEFAULT_OUT);
	fo_buf_release(&title);
	fo_free(c);
	fo_free(runs);
	return rc;
}

int fo_cmd_report(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse_args(&a, argc, argv);
	if (rc) {
		args_release(&a);
		return rc;
	}
	size_t n = a.ndirs ? a.ndirs : a.nbase + a.ncont;
	const char **dirs = fo_calloc(n, sizeof(*dirs));
	for (size_t i = 0; i < n; i++)
		dirs[i] = a.ndirs ? a.dirs[i] : i < a.nbase ? a.base[i] : a.cont[i - a.nbase];
	struct fo_report_run_data *d = fo_calloc(n, sizeof(*d));
	rc = load_runs(d, dirs, n, a.group);
	if (!rc) {
		if (a.nbase)
			rc = report_ab(d, a.nbase, a.ncont, a.out);
		else if (n == 1)
			rc = report_one(&d[0], a.out);
		else
			rc = report_side_by_side(d, n, a.out);
	}
	for (size_t i = 0; i < n; i++)
		fo_report_run_release(&d[i]);
	fo_free(d);
	fo_free(dirs);
	args_release(&a);
	return rc;
}
