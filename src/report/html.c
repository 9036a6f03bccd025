/*
 * html.c: performance-report.html, the report people read: a self-contained page with the
 * data as JSON, the tables as HTML, and the charts drawn in the browser by web/report.js
 * with uPlot. Both scripts and their styles are compiled into fallout (build/gen/
 * report_assets.c, made by scripts/embed.py from web/ and uPlot's npm package), so the
 * page needs nothing but itself.
 *
 * Everything that comes from users (test names, file names, tags, run labels) is HTML-
 * escaped in the markup; in the JSON, every '<', '>' and '&' is written as a \u escape,
 * so neither "</script>" nor "<!--" can end or change the script element that holds it.
 *
 * Time on the charts is seconds since the workload started: a run's logs carry absolute
 * timestamps (StartTime, BaseTime), and fallout-shared.log says when the run entered
 * RUNNING, which is also the zero of the history's clock, so phases and intervals share one
 * axis. Without those, time counts from the first interval.
 */
#include "util/common.h"

#include <math.h>
#include <unistd.h>

#include "report/html.h"
#include "report/html_nodes.h"
#include "report_assets.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "version.h"

#define NS_PER_MS 1e6
/* Epoch seconds above this are absolute times (1973); below, offsets from a log's start. */
#define ABSOLUTE_S 1e8

/* ---- formatting ---- */

static void esc(struct fo_buf *b, const char *s)
{
	for (; s && *s; s++) {
		/* clang-format off */
		switch (*s) {
		case '&': fo_buf_adds(b, "&amp;"); break;
		case '<': fo_buf_adds(b, "&lt;"); break;
		case '>': fo_buf_adds(b, "&gt;"); break;
		case '"': fo_buf_adds(b, "&quot;"); break;
		case '\'': fo_buf_adds(b, "&#39;"); break;
		default: fo_buf_addch(b, *s);
		}
		/* clang-format on */
	}
}

void fo__html_esc(struct fo_buf *b, const char *s)
{
	esc(b, s);
}

/* A number with thousands separators: 1,234,567. */
static void add_grouped(struct fo_buf *b, double v)
{
	char d[64];
	snprintf(d, sizeof(d), "%.0f", fabs(v));
	if (v < 0 && strcmp(d, "0") != 0)
		fo_buf_addch(b, '-');
	size_t n = strlen(d);
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fo_buf_addch(b, ',');
		fo_buf_addch(b, d[i]);
	}
}

/* A latency in ms with the precision its size deserves (4 significant digits, at most
 * 3 decimals), without its unit. */
static void add_ms_num(struct fo_buf *b, double v)
{
	double a = fabs(v);
	if (!isfinite(v))
		fo_buf_adds(b, "&ndash;");
	else if (a >= 1000)
		add_grouped(b, v);
	else if (a >= 100)
		fo_buf_addf(b, "%.1f", v);
	else if (a >= 10)
		fo_buf_addf(b, "%.2f", v);
	else
		fo_buf_addf(b, "%.3f", v);
}

static void add_ms(struct fo_buf *b, double v)
{
	add_ms_num(b, v);
	if (isfinite(v))
		fo_buf_adds(b, " ms");
}

static void add_ops(struct fo_buf *b, double v)
{
	if (!isfinite(v)) {
		fo_buf_adds(b, "&ndash;");
		return;
	}
	if (fabs(v) < 100)
		fo_buf_addf(b, "%.2f", v);
	else
		add_grouped(b, v);
	fo_buf_adds(b, " op/s");
}

static void add_secs(struct fo_buf *b, double s)
{
	char d[64];
	if (s < 60)
		snprintf(d, sizeof(d), "%.1f s", s);
	else
		fo_perf_format_duration(s, d, sizeof(d));
	fo_buf_adds(b, d);
}

/* A JSON number, or null for NaN and infinities. */
static void jnum(struct fo_buf *b, double v, const char *fmt)
{
	if (!isfinite(v))
		fo_buf_adds(b, "null");
	else
		fo_buf_addf(b, fmt, v);
}

static void jstr(struct fo_buf *b, const char *s)
{
	if (s)
		fo_buf_add_json_str(b, s, strlen(s));
	else
		fo_buf_adds(b, "null");
}

/* ---- the runs' time axis ---- */

static bool perf_absolute(const struct fo_perf *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->s[i].niv && p->s[i].start_s > ABSOLUTE_S)
			return true;
	return false;
}

/* Time zero of a run's charts (s since epoch, or 0 for logs with relative times). */
static double run_origin(const struct fo_report_run *r)
{
	if (!perf_absolute(r->perf))
		return 0;
	if (r->workload_start_s > 0)
		return r->workload_start_s;
	double t0 = 0;
	for (size_t i = 0; i < r->perf->n; i++) {
		const struct fo_perf_series *s = &r->perf->s[i];
		if (s->niv && (t0 == 0 || s->start_s + s->iv[0].start_s < t0))
			t0 = s->start_s + s->iv[0].start_s;
	}
	return t0;
}

/* The metrics' time zero for fo__html_nodes_json (html_nodes.h): the logs' own zero when
 * they carry absolute times but the workload's start is unknown, else 0 (the metrics' t). */
static double metrics_wall0(const struct fo_report_run *r)
{
	return r->workload_start_s <= 0 && perf_absolute(r->perf) ? run_origin(r) : 0;
}

/* ---- the data the charts draw ---- */

static void j_column(struct fo_buf *b, const char *key, const struct fo_perf_series *s, size_t off, double t0)
{
	fo_buf_addf(b, "\"%s\":[", key);
	for (size_t i = 0; i < s->niv; i++) {
		const struct fo_perf_interval *iv = &s->iv[i];
		if (i)
			fo_buf_addch(b, ',');
		if (off == (size_t)-1)
			jnum(b, s->start_s + iv->start_s + iv->length_s - t0, "%.3f");
		else
			jnum(b, *(const double *)((const char *)iv + off), "%.6g");
	}
	fo_buf_addch(b, ']');
}

/* The latency distribution: x = 1/(1 - p), y = the latency (ms) at percentile p. */
static void j_dist(struct fo_buf *b, const struct fo_hdr *h)
{
	struct fo_buf xs = FO_BUF_INIT, ys = FO_BUF_INIT;
	double last = 0;
	int64_t n = fo_hdr_total(h);
	if (n > 0) {
		struct fo_hdr_iter it;
		fo_hdr_iter_percentile_init(&it, h, 5);
		while (fo_hdr_iter_next(&it)) {
			double p = it.percentile_iterated_to;
			/* 100% has no finite 1/(1-p): the max is the 1-in-N value, at x = N */
			double x = p < 100 ? 100 / (100 - p) : (double)n;
			if (x <= last)
				continue;
			last = x;
			fo_buf_addf(&xs, "%s%.6g", xs.len ? "," : "", x);
			fo_buf_addf(&ys, "%s%.6g", ys.len ? "," : "", (double)it.value_iterated_to / NS_PER_MS);
			if (p >= 100)
				break;
		}
	}
	fo_buf_addf(b, "\"dist\":{\"x\":[%s],\"y\":[%s]}", xs.s, ys.s);
	fo_buf_release(&xs);
	fo_buf_release(&ys);
}

/* The series of all runs, by name, in the first run's order then the others' new ones. */
struct names {
	const char **v;
	size_t n, cap;
};

static void collect_names(const struct fo_report_run *runs, size_t n, struct names *out)
{
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < runs[r].perf->n; i++) {
			const char *name = runs[r].perf->s[i].name;
			bool seen = false;
			for (size_t k = 0; k < out->n && !seen; k++)
				seen = strcmp(out->v[k], name) == 0;
			if (!seen) {
				FO_GROW(out->v, out->cap, out->n + 1);
				out->v[out->n++] = name;
			}
		}
}

/* ---- faults (analysis/impact.h) ---- */

/* The zero of the faults' wall times on a run's chart axis (0: their history times). */
static double faults_zero(const struct fo_report_run *r)
{
	return perf_absolute(r->perf) ? run_origin(r) : 0;
}

/* "faults": each fault's kind, nodes and window on the chart axis (end null: never healed). */
static void faults_json(struct fo_buf *b, const struct fo_report_run *r)
{
	fo_buf_adds(b, ",\"faults\":[");
	for (size_t i = 0; i < r->nfaults; i++) {
		const struct fo_fault_window *f = &r->faults[i];
		double a, e;
		fo_impact_window(f, faults_zero(r), &a, &e);
		fo_buf_adds(b, i ? ",{\"kind\":" : "{\"kind\":");
		jstr(b, f->kind);
		fo_buf_adds(b, ",\"process\":");
		jstr(b, f->process);
		fo_buf_adds(b, ",\"nodes\":");
		jstr(b, f->nodes);
		fo_buf_adds(b, ",\"start\":");
		jnum(b, a, "%.3f");
		fo_buf_adds(b, ",\"end\":");
		jnum(b, e, "%.3f");
		fo_buf_addch(b, '}');
	}
	fo_buf_addch(b, ']');
}

static void add_pct(struct fo_buf *b, double v)
{
	if (isfinite(v))
		fo_buf_addf(b, "%.1f%%", v);
	else
		fo_buf_adds(b, "&ndash;");
}

/* Each fault's impact on each log of the run (the default band and intervals). */
static void faults_section(struct fo_buf *b, const struct fo_report_run *r)
{
	if (!r->nfaults)
		return;
	struct fo_impact_opts o = FO_IMPACT_OPTS_INIT;
	o.wall_zero = faults_zero(r);
	size_t ns;
	struct fo_impact_series *ms = fo_impact_series_from_perf(r->perf, NULL, o.wall_zero, &ns);
	fo_buf_addf(b, "<section class=\"card\" id=\"faults\"><h2>Faults and their impact</h2>");
	for (size_t k = 0; k < ns; k++) {
		struct fo_impact im;
		fo_impact_compute(&ms[k], r->faults, r->nfaults, &o, &im);
		fo_buf_adds(b, "<div class=\"table-wrap\"><table class=\"data faults\"><thead><tr><th class=\"name\">");
		esc(b, ms[k].name);
		fo_buf_adds(b, "</th><th class=\"name\">nodes</th><th>window</th><th>steady</th><th>drop</th>"
			       "<th>max drop</th><th>p99 during</th><th>recovery</th></tr></thead><tbody>");
		for (size_t i = 0; i < im.n; i++) {
			const struct fo_fault_impact *f = &im.f[i];
			const struct fo_fault_window *w = &r->faults[i];
			fo_buf_adds(b, "<tr><td class=\"name\"><b>");
			esc(b, w->kind);
			fo_buf_adds(b, "</b> ");
			esc(b, strcmp(w->kind, w->process) ? w->process : "");
			fo_buf_adds(b, "</td><td class=\"name\">");
			esc(b, w->nodes);
			fo_buf_addf(b, "</td><td>%.1f&ndash;", f->start_s);
			if (isfinite(f->end_s))
				fo_buf_addf(b, "%.1f s", f->end_s);
			else
				fo_buf_adds(b, "never healed");
			fo_buf_adds(b, "</td><td>");
			add_ops(b, f->steady_n ? f->steady_ops_s : NAN);
			fo_buf_adds(b, "</td><td>");
			add_pct(b, f->drop_pct);
			fo_buf_adds(b, "</td><td>");
			add_pct(b, f->max_drop_pct);
			fo_buf_adds(b, "</td><td>");
			add_ms(b, f->p99_during_ms);
			fo_buf_adds(b, f->recovered ? "</td><td>" : "</td><td class=\"worse\">");
			if (f->recovered)
				add_secs(b, f->recovery_s);
			else
				fo_buf_adds(b, isfinite(f->end_s) && f->steady_n ? "did not recover" : "&ndash;");
			fo_buf_adds(b, "</td></tr>");
		}
		fo_buf_adds(b, "</tbody></table></div><p class=\"note\">Availability ");
		add_pct(b, im.availability_pct);
		fo_buf_addf(b, " of the time (throughput at least %g%% of the normal ", o.floor_pct);
		add_ops(b, im.normal_ops_s);
		fo_buf_adds(b, "), successful operations ");
		add_pct(b, im.success_pct);
		fo_buf_adds(b, ".</p>");
		fo_impact_release(&im);
	}
	fo_impact_series_free(ms, ns);
	fo_buf_addf(b, "<p class=\"note\">Steady: the median throughput of the %d intervals before the fault. "
		       "Drop: the throughput lost while the fault lasted; max drop: in the worst interval until "
		       "recovery. Recovery: from healing until the throughput stays within %g%% of the steady one "
		       "for %d intervals. Times are seconds since the workload started.</p></section>\n",
		    o.steady_intervals, o.band_pct, o.stable_intervals);
}

static const char *side_name(enum fo_report_side s)
{
	return s == FO_REPORT_SIDE_BASELINE ? "baseline" : s == FO_REPORT_SIDE_CONTENDER ? "contender" : "";
}

static void render_data(struct fo_buf *out, const struct fo_report_run *runs, size_t n, const struct names *names,
			const char *title)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "{\"title\":");
	jstr(&b, title);
	fo_buf_adds(&b, ",\"runs\":[");
	for (size_t r = 0; r < n; r++) {
		fo_buf_adds(&b, r ? ",{\"label\":" : "{\"label\":");
		jstr(&b, runs[r].label);
		fo_buf_addf(&b, ",\"side\":\"%s\",\"phases\":[", side_name(runs[r].side));
		for (size_t i = 0; i < runs[r].nphases; i++) {
			const struct fo_report_phase *ph = &runs[r].phases[i];
			fo_buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
			jstr(&b, ph->name);
			fo_buf_adds(&b, ",\"start\":");
			jnum(&b, ph->start_s, "%.3f");
			fo_buf_adds(&b, ",\"end\":");
			jnum(&b, ph->end_s, "%.3f");
			fo_buf_addch(&b, '}');
		}
		fo_buf_addch(&b, ']');
		faults_json(&b, &runs[r]);
		fo__html_notes_json(&b, &runs[r], n == 1, metrics_wall0(&runs[r]));
		fo_buf_addch(&b, '}');
	}
	fo_buf_adds(&b, "],\"series\":[");
	/* clang-format off */
	static const struct {
		const char *key;
		size_t off;
	} cols[] = {
		{"ops", offsetof(struct fo_perf_interval, ops_s)},   {"p50", offsetof(struct fo_perf_interval, p50_ms)},
		{"p90", offsetof(struct fo_perf_interval, p90_ms)},  {"p99", offsetof(struct fo_perf_interval, p99_ms)},
		{"p999", offsetof(struct fo_perf_interval, p999_ms)}, {"max", offsetof(struct fo_perf_interval, max_ms)},
	};
	/* clang-format on */
	for (size_t k = 0; k < names->n; k++) {
		fo_buf_addf(&b, "%s{\"id\":\"s%zu\",\"name\":", k ? "," : "", k);
		jstr(&b, names->v[k]);
		fo_buf_adds(&b, ",\"runs\":[");
		for (size_t r = 0; r < n; r++) {
			const struct fo_perf_series *s = fo_perf_find(runs[r].perf, names->v[k]);
			if (r)
				fo_buf_addch(&b, ',');
			if (!s) {
				fo_buf_adds(&b, "null");
				continue;
			}
			double t0 = run_origin(&runs[r]);
			fo_buf_addch(&b, '{');
			j_column(&b, "t", s, (size_t)-1, t0);
			for (size_t c = 0; c < FO_ARRAY_LEN(cols); c++) {
				fo_buf_addch(&b, ',');
				j_column(&b, cols[c].key, s, cols[c].off, 0);
			}
			fo_buf_addch(&b, ',');
			j_dist(&b, &s->total);
			fo_buf_addch(&b, '}');
		}
		fo_buf_adds(&b, "]}");
	}
	fo_buf_addch(&b, ']');
	/* node metrics: one run's (each run of a comparison has its own machine and clock) */
	if (n == 1)
		fo__html_nodes_json(&b, &runs[0], metrics_wall0(&runs[0]));
	else
		fo_buf_adds(&b, ",\"nodes\":[]");
	fo_buf_addch(&b, '}');
	/* '<', '>' and '&' only occur inside JSON strings: escape them there. */
	for (size_t i = 0; i < b.len; i++) {
		char c = b.s[i];
		if (c == '<')
			fo_buf_adds(out, "\\u003c");
		else if (c == '>')
			fo_buf_adds(out, "\\u003e");
		else if (c == '&')
			fo_buf_adds(out, "\\u0026");
		else
			fo_buf_addch(out, c);
	}
	fo_buf_release(&b);
}

/* ---- errors per series ---- */

/* The tag without its error words ("write-error" -> "write"), lower case. */
static void strip_error_words(const char *tag, char *out, size_t n)
{
	static const char *const words[] = {"errors", "error", "failures", "failure", "failed", "fail"};
	size_t o = 0;
	for (const char *p = tag ? tag : ""; *p && o + 1 < n;) {
		size_t skip = 0;
		for (size_t w = 0; w < FO_ARRAY_LEN(words) && !skip; w++)
			if (strncasecmp(p, words[w], strlen(words[w])) == 0)
				skip = strlen(words[w]);
		if (skip) {
			p += skip;
			continue;
		}
		out[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
		p++;
	}
	out[o] = '\0';
	/* trim separators left at the ends */
	size_t start = 0;
	while (out[start] && strchr("-_.:/ ", out[start]))
		start++;
	while (o > start && strchr("-_.:/ ", out[o - 1]))
		out[--o] = '\0';
	memmove(out, out + start, o - start + 1);
}

/* The failed operations that belong to series i: the error series of the same file whose
 * tag is i's tag plus an error word, or all of that file's when i is its only other series. */
static int64_t errors_of(const struct fo_perf *p, size_t i)
{
	const struct fo_perf_series *s = &p->s[i];
	if (s->is_error)
		return -1;
	size_t others = 0;
	for (size_t k = 0; k < p->n; k++)
		others += !p->s[k].is_error && strcmp(p->s[k].base, s->base) == 0;
	int64_t sum = 0;
	for (size_t k = 0; k < p->n; k++) {
		const struct fo_perf_series *e = &p->s[k];
		if (!e->is_error || strcmp(e->base, s->base) != 0)
			continue;
		char stripped[256];
		strip_error_words(e->tag, stripped, sizeof(stripped));
		if (others == 1 || strcasecmp(stripped, s->tag ? s->tag : "") == 0)
			sum += fo_hdr_total(&e->total);
	}
	return sum;
}

static void add_errors(struct fo_buf *b, int64_t errors, int64_t ops)
{
	if (errors < 0) {
		fo_buf_adds(b, "&ndash;");
		return;
	}
	add_grouped(b, (double)errors);
	if (errors > 0 && ops + errors > 0)
		fo_buf_addf(b, " (%.2f%%)", 100.0 * (double)errors / (double)(ops + errors));
}

/* ---- tables ---- */

static void summary_table(struct fo_buf *b, const struct fo_perf *p)
{
	/* clang-format off */
	static const char *const heads[] = {"operations", "throughput<span class=\"unit\">op/s</span>", "errors",
					    "min",        "mean",  "p50", "p90", "p95", "p99", "p99.9", "p99.99", "max",
					    "MAD",        "IQR"};
	/* clang-format on */
	fo_buf_adds(
	    b, "<div class=\"table-wrap\"><table class=\"data summary\"><thead><tr><th class=\"name\">series</th>");
	for (size_t i = 0; i < FO_ARRAY_LEN(heads); i++)
		fo_buf_addf(b, "<th>%s%s</th>", heads[i], i >= 3 ? "<span class=\"unit\">ms</span>" : "");
	fo_buf_adds(b, "</tr></thead><tbody>");
	for (size_t i = 0; i < p->n; i++) {
		const struct fo_perf_series *s = &p->s[i];
		struct fo_perf_summary m;
		fo_perf_summarize(s, &m);
		fo_buf_addf(b, "<tr%s><td class=\"name\"><a href=\"#s%zu\">", s->is_error ? " class=\"error\"" : "", i);
		esc(b, s->name);
		fo_buf_adds(b, "</a></td><td>");
		add_grouped(b, (double)m.count);
		fo_buf_adds(b, "</td><td>");
		if (fabs(m.ops_s) < 100)
			fo_buf_addf(b, "%.2f", m.ops_s);
		else
			add_grouped(b, m.ops_s);
		fo_buf_adds(b, "</td><td>");
		add_errors(b, errors_of(p, i), m.count);
		const double v[] = {m.min_ms,  m.mean_ms,  m.p50_ms, m.p90_ms, m.p95_ms, m.p99_ms,
				    m.p999_ms, m.p9999_ms, m.max_ms, m.mad_ms, m.iqr_ms};
		for (size_t k = 0; k < FO_ARRAY_LEN(v); k++) {
			fo_buf_adds(b, "</td><td>");
			if (m.count)
				add_ms_num(b, v[k]);
			else
				fo_buf_adds(b, "&ndash;");
		}
		fo_buf_adds(b, "</td></tr>");
	}
	fo_buf_adds(b, "</tbody></table></div>");
}

/* The metrics compared between runs. */
struct metric {
	const char *name, *unit;
	bool higher_is_better;
	size_t off; /* in struct fo_perf_summary */
};
/* clang-format off */
static const struct metric metrics[] = {
	{"throughput", "op/s", true, offsetof(struct fo_perf_summary, ops_s)},
	{"mean", "ms", false, offsetof(struct fo_perf_summary, mean_ms)},
	{"p50", "ms", false, offsetof(struct fo_perf_summary, p50_ms)},
	{"p90", "ms", false, offsetof(struct fo_perf_summary, p90_ms)},
	{"p99", "ms", false, offsetof(struct fo_perf_summary, p99_ms)},
	{"p99.9", "ms", false, offsetof(struct fo_perf_summary, p999_ms)},
	{"max", "ms", false, offsetof(struct fo_perf_summary, max_ms)},
};
/* clang-format on */

static double metric_of(const struct fo_perf_summary *m, const struct metric *k)
{
	return *(const double *)((const char *)m + k->off);
}

static void add_value(struct fo_buf *b, double v, const char *unit)
{
	if (strcmp(unit, "ms") == 0)
		add_ms(b, v);
	else
		add_ops(b, v);
}

/* "+12.3% (+1.20 ms)", coloured better or worse. */
static void add_delta(struct fo_buf *b, double base, double v, const char *unit, bool higher_is_better)
{
	double d = v - base;
	const char *cls = d == 0 ? "same" : ((d > 0) == higher_is_better ? "better" : "worse");
	fo_buf_addf(b, "<span class=\"delta %s\">", cls);
	if (base != 0 && isfinite(base))
		fo_buf_addf(b, "%+.1f%% (", 100 * d / base);
	else
		fo_buf_adds(b, "(");
	fo_buf_adds(b, d >= 0 ? "+" : "&minus;");
	add_value(b, fabs(d), unit);
	fo_buf_adds(b, ")</span>");
}

/* Side by side: one row per run, each with its change against the first. */
static void runs_table(struct fo_buf *b, const struct fo_report_run *runs, size_t n, const char *name)
{
	fo_buf_adds(b, "<div class=\"table-wrap\"><table class=\"data runs\"><thead><tr><th class=\"name\">run</th>"
		       "<th>operations</th><th>errors</th>");
	for (size_t k = 0; k < FO_ARRAY_LEN(metrics); k++)
		fo_buf_addf(b, "<th>%s</th>", metrics[k].name);
	fo_buf_adds(b, "</tr></thead><tbody>");
	struct fo_perf_summary first = {0};
	bool have_first = false;
	for (size_t r = 0; r < n; r++) {
		const struct fo_perf_series *s = fo_perf_find(runs[r].perf, name);
		fo_buf_addf(b, "<tr><td class=\"name side-%s\">", side_name(runs[r].side));
		esc(b, runs[r].label);
		fo_buf_adds(b, "</td>");
		if (!s) {
			fo_buf_addf(b, "<td colspan=\"%zu\" class=\"weak\">not in this run</td></tr>",
				    FO_ARRAY_LEN(metrics) + 2);
			continue;
		}
		struct fo_perf_summary m;
		fo_perf_summarize(s, &m);
		fo_buf_adds(b, "<td>");
		add_grouped(b, (double)m.count);
		fo_buf_adds(b, "</td><td>");
		add_errors(b, errors_of(runs[r].perf, (size_t)(s - runs[r].perf->s)), m.count);
		fo_buf_adds(b, "</td>");
		for (size_t k = 0; k < FO_ARRAY_LEN(metrics); k++) {
			fo_buf_adds(b, "<td>");
			add_value(b, metric_of(&m, &metrics[k]), metrics[k].unit);
			if (have_first && r > 0)
				add_delta(b, metric_of(&first, &metrics[k]), metric_of(&m, &metrics[k]),
					  metrics[k].unit, metrics[k].higher_is_better);
			fo_buf_adds(b, "</td>");
		}
		fo_buf_adds(b, "</tr>");
		if (r == 0) {
			first = m;
			have_first = true;
		}
	}
	fo_buf_adds(b, "</tbody></table></div>");
	if (!have_first)
		fo_buf_adds(b, "<p class=\"note\">The first run has no such series: changes are not shown.</p>");
}

static void add_ci(struct fo_buf *b, const struct fo_stats_ci *ci, const char *unit)
{
	add_value(b, ci->mean, unit);
	if (isfinite(ci->half)) {
		fo_buf_adds(b, "<span class=\"delta\">&plusmn; ");
		add_value(b, ci->half, unit);
		fo_buf_addf(b, " (n=%zu)</span>", ci->n);
	} else {
		fo_buf_addf(b, "<span class=\"delta\">n=%zu</span>", ci->n);
	}
}

static void cmp_table(struct fo_buf *b, const struct fo_report_run *runs, size_t n, const struct fo_report_cmp *c,
		      size_t nc)
{
	fo_buf_adds(b, "<section class=\"card\" id=\"comparison\"><h2>Baseline vs contender</h2>");
	for (int side = FO_REPORT_SIDE_BASELINE; side <= FO_REPORT_SIDE_CONTENDER; side++) {
		fo_buf_addf(b, "<p class=\"note\"><b class=\"side-%s\">%s</b>: ", side_name((enum fo_report_side)side),
			    side_name((enum fo_report_side)side));
		bool first = true;
		for (size_t r = 0; r < n; r++)
			if ((int)runs[r].side == side) {
				fo_buf_adds(b, first ? "" : ", ");
				esc(b, runs[r].label);
				first = false;
			}
		fo_buf_adds(b, "</p>");
	}
	fo_buf_adds(b, "<div class=\"table-wrap\"><table class=\"data cmp\"><thead><tr><th class=\"name\">series</th>"
		       "<th class=\"name\">metric</th><th>baseline (mean &plusmn; 95% CI)</th>"
		       "<th>contender (mean &plusmn; 95% CI)</th><th>change</th><th class=\"name\">verdict</th>"
		       "</tr></thead><tbody>");
	for (size_t i = 0; i < nc; i++) {
		const struct fo_report_cmp *r = &c[i];
		bool new_series = i == 0 || strcmp(c[i - 1].series, r->series) != 0;
		fo_buf_addf(b, "<tr%s><td class=\"name\">", new_series ? " class=\"first\"" : "");
		if (new_series)
			esc(b, r->series);
		fo_buf_addf(b, "</td><td class=\"name\">%s</td><td>", r->metric);
		add_ci(b, &r->a, r->unit);
		fo_buf_adds(b, "</td><td>");
		add_ci(b, &r->b, r->unit);
		fo_buf_adds(b, "</td><td>");
		if (isfinite(r->change_pct)) {
			bool better = (r->change_pct > 0) == r->higher_is_better;
			fo_buf_addf(b, "<span class=\"%s\">%+.1f%%</span>",
				    r->change_pct == 0 ? "same"
				    : better	       ? "better"
						       : "worse",
				    r->change_pct);
		} else {
			fo_buf_adds(b, "&ndash;");
		}
		const char *cls = !r->w.enough ? "weak" : r->w.significant ? "sig" : "nosig";
		const char *dir = (r->b.mean > r->a.mean) == r->higher_is_better ? "better" : "worse";
		fo_buf_addf(b, "</td><td class=\"verdict %s %s\">", cls, r->w.significant ? dir : "");
		esc(b, r->verdict);
		fo_buf_adds(b, "</td></tr>");
	}
	fo_buf_adds(b, "</tbody></table></div><p class=\"note\">Welch&rsquo;s t-test on the runs&rsquo; figures; "
		       "significant when p &lt; 0.05. The interval is where the mean of such runs lies with "
		       "95% confidence (Student&rsquo;s t).</p></section>");
}

/* ---- the page ---- */

/* Buttons above a chart that set one of its attributes (web/report.js redraws it). */
static void picker(struct fo_buf *b, const char *attr, const char *label, const char *const (*opts)[2], size_t n,
		   const char *on)
{
	fo_buf_addf(b, "<span class=\"picker\" data-attr=\"%s\" role=\"group\" aria-label=\"%s\">", attr, label);
	for (size_t i = 0; i < n; i++) {
		bool sel = strcmp(opts[i][0], on) == 0;
		fo_buf_addf(b, "<button type=\"button\" data-value=\"%s\" aria-pressed=\"%s\"%s>%s</button>",
			    opts[i][0], sel ? "true" : "false", sel ? " class=\"on\"" : "", opts[i][1]);
	}
	fo_buf_adds(b, "</span>");
}

/* A chart's box: its title, its buttons, and the element report.js draws into. pct: the
 * percentile shown first (comparisons), or NULL for no percentile buttons; scale: "linear"
 * or "log" for a latency axis with scale buttons, or NULL. */
static void chart_box(struct fo_buf *b, size_t k, const char *kind, const char *title, const char *unit,
		      const char *pct, const char *scale)
{
	static const char *const pcts[][2] = {
	    {"p50", "p50"}, {"p90", "p90"}, {"p99", "p99"}, {"p999", "p99.9"}, {"max", "max"}};
	static const char *const scales[][2] = {{"linear", "linear"}, {"log", "log"}};
	fo_buf_addf(b, "<div class=\"chart-box\"><h3>%s <span class=\"unit\">%s</span>", title, unit);
	if (pct)
		picker(b, "data-pct", "percentile", pcts, FO_ARRAY_LEN(pcts), pct);
	if (scale)
		picker(b, "data-scale", "scale", scales, FO_ARRAY_LEN(scales), scale);
	fo_buf_addf(b, "</h3><div class=\"chart\" id=\"c%zu-%s\" data-series=\"%zu\" data-kind=\"%s\"", k, kind, k,
		    kind);
	if (pct)
		fo_buf_addf(b, " data-pct=\"%s\"", pct);
	if (scale)
		fo_buf_addf(b, " data-scale=\"%s\"", scale);
	fo_buf_adds(b, "></div></div>");
}

/* The series' percentiles over the whole run, a column per run. */
static void percentile_box(struct fo_buf *b, const struct fo_report_run *runs, size_t n, const char *name)
{
	static const double pcts[] = {50, 75, 90, 95, 99, 99.9, 99.99, 99.999};
	fo_buf_adds(
	    b, "<div class=\"chart-box\"><h3>Percentiles <span class=\"unit\">(over the whole run)</span></h3>"
	       "<div class=\"table-wrap\"><table class=\"data pcts\"><thead><tr><th class=\"name\">percentile</th>");
	for (size_t r = 0; r < n; r++) {
		fo_buf_adds(b, "<th>");
		esc(b, n == 1 ? "latency" : runs[r].label);
		fo_buf_adds(b, "<span class=\"unit\">ms</span></th>");
	}
	fo_buf_adds(b, "</tr></thead><tbody>");
	for (size_t i = 0; i <= FO_ARRAY_LEN(pcts) + 1; i++) {
		if (i < FO_ARRAY_LEN(pcts))
			fo_buf_addf(b, "<tr><td class=\"name\">%g%%</td>", pcts[i]);
		else
			fo_buf_addf(b, "<tr><td class=\"name\">%s</td>", i == FO_ARRAY_LEN(pcts) ? "max" : "values");
		for (size_t r = 0; r < n; r++) {
			const struct fo_perf_series *s = fo_perf_find(runs[r].perf, name);
			const struct fo_hdr *h = s ? &s->total : NULL;
			fo_buf_adds(b, "<td>");
			if (!h || fo_hdr_total(h) == 0)
				fo_buf_adds(b, "&ndash;");
			else if (i < FO_ARRAY_LEN(pcts))
				add_ms_num(b, (double)fo_hdr_value_at_percentile(h, pcts[i]) / NS_PER_MS);
			else if (i == FO_ARRAY_LEN(pcts))
				add_ms_num(b, (double)fo_hdr_max(h) / NS_PER_MS);
			else
				add_grouped(b, (double)fo_hdr_total(h));
			fo_buf_adds(b, "</td>");
		}
		fo_buf_adds(b, "</tr>");
	}
	fo_buf_adds(b, "</tbody></table></div></div>");
}

static void phases_list(struct fo_buf *b, const struct fo_report_run *r)
{
	if (!r->nphases)
		return;
	fo_buf_adds(b, "<ul class=\"phases\"><li>Phases:</li>");
	for (size_t i = 0; i < r->nphases; i++) {
		fo_buf_adds(b, "<li><b>");
		esc(b, r->phases[i].name);
		const struct fo_report_phase *ph = &r->phases[i];
		int digits = ph->end_s - ph->start_s < 1 ? 2 : 1;
		fo_buf_addf(b, "</b> %.*f&ndash;%.*f s</li>", digits, ph->start_s, digits, ph->end_s);
	}
	fo_buf_adds(b, "</ul>");
}

static void add_asset(struct fo_buf *b, const unsigned char *data, size_t len)
{
	fo_buf_add(b, data, len);
}

void fo_report_html_render(const struct fo_report_run *runs, size_t n, const struct fo_html_opts *o, struct fo_buf *out)
{
	const char *title = o && o->title ? o->title : runs[0].perf->title ? runs[0].perf->title : "performance report";
	struct names names = {0};
	collect_names(runs, n, &names);
	struct fo_buf *b = out;

	fo_buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		       "<meta name=\"generator\" content=\"fallout " FO_VERSION "\"><title>");
	esc(b, title);
	fo_buf_adds(b, "</title>\n<style>\n");
	add_asset(b, fo_asset_uplot_css, fo_asset_uplot_css_len);
	fo_buf_adds(b, "\n</style>\n<style>\n");
	add_asset(b, fo_asset_report_css, fo_asset_report_css_len);
	fo_buf_adds(b, "\n</style></head>\n<body data-charts=\"0\" data-drawn=\"0\">\n<header class=\"top\"><h1>");
	esc(b, title);
	fo_buf_adds(b, "</h1><p class=\"meta\">");
	if (n == 1) {
		double dur = 0;
		for (size_t i = 0; i < runs[0].perf->n; i++)
			if (runs[0].perf->s[i].duration_s > dur)
				dur = runs[0].perf->s[i].duration_s;
		fo_buf_addf(b, "%zu series &middot; ", runs[0].perf->n);
		add_secs(b, dur);
		fo_buf_adds(b, " of measurements &middot; run ");
		esc(b, runs[0].label);
	} else {
		fo_buf_addf(b, "%zu runs compared, changes against the first: ", n);
		for (size_t r = 0; r < n; r++) {
			fo_buf_adds(b, r ? ", " : "");
			esc(b, runs[r].label);
		}
	}
	fo_buf_adds(b, "</p>");
	if (n == 1)
		phases_list(b, &runs[0]);
	fo_buf_adds(b, "</header>\n<main>\n<div id=\"fo-error\" hidden></div>\n");
	fo__html_notes_banner(b, runs, n, metrics_wall0(&runs[0]));
	if (o && o->cmp && o->ncmp)
		cmp_table(b, runs, n, o->cmp, o->ncmp);
	if (n == 1 && runs[0].perf->n) {
		fo_buf_adds(b, "<section class=\"card\" id=\"summary\"><h2>Summary</h2>");
		summary_table(b, runs[0].perf);
		fo_buf_adds(b, "<p class=\"note\">Latencies over the whole run. MAD: median absolute deviation; "
			       "IQR: interquartile range (p75 &minus; p25).</p></section>\n");
	}
	if (n == 1)
		faults_section(b, &runs[0]);
	if (!names.n)
		fo_buf_adds(
		    b,
		    "<section class=\"card\"><p>No interval logs were found: there is nothing to show.</p></section>");
	for (size_t k = 0; k < names.n; k++) {
		fo_buf_addf(b, "<section class=\"card series\" id=\"s%zu\"><h2>", k);
		esc(b, names.v[k]);
		if (n == 1) {
			const struct fo_perf_series *s = fo_perf_find(runs[0].perf, names.v[k]);
			fo_buf_addf(b, "<span class=\"sub\">%zu node%s, %zu intervals, ", s->nodes,
				    s->nodes == 1 ? "" : "s", s->niv);
			add_secs(b, s->duration_s);
			fo_buf_adds(b, "</span>");
		}
		fo_buf_adds(b, "</h2>");
		if (n > 1)
			runs_table(b, runs, n, names.v[k]);
		fo_buf_adds(b, "<div class=\"charts\">");
		chart_box(b, k, "throughput", "Throughput", "(operations per second)", NULL, NULL);
		if (n > 1)
			chart_box(b, k, "latency", "Latency over time", "", "p99", "linear");
		else
			chart_box(b, k, "latency", "Latency percentiles over time", "", NULL, "log");
		chart_box(b, k, "dist", "Latency by percentile", "", NULL, "linear");
		percentile_box(b, runs, n, names.v[k]);
		fo_buf_adds(b, "</div></section>\n");
	}
	if (n == 1)
		fo__html_nodes_section(b, &runs[0]);
	fo_buf_adds(b, "<footer>Drag across a chart to zoom in, double-click to zoom out, click a legend entry "
		       "to hide or show its line. ");
	if (n > 1)
		fo_buf_adds(b, "Phases are those of the first run. ");
	fo_buf_adds(b, "Made by fallout " FO_VERSION "; charts drawn with uPlot (MIT license).</footer>\n</main>\n"
		       "<script type=\"application/json\" id=\"fo-data\">");
	render_data(b, runs, n, &names, title);
	fo_buf_adds(b, "</script>\n<script>/*!\n");
	add_asset(b, fo_asset_uplot_license, fo_asset_uplot_license_len);
	fo_buf_adds(b, "*/\n");
	add_asset(b, fo_asset_uplot_js, fo_asset_uplot_js_len);
	fo_buf_adds(b, "\n</script>\n<script>\n");
	add_asset(b, fo_asset_report_js, fo_asset_report_js_len);
	fo_buf_adds(b, "\n</script>\n</body></html>\n");
	fo_free(names.v);
}

int fo_report_html(const struct fo_report_run *runs, size_t n, const struct fo_html_opts *o, const char *path,
		   struct fo_err *err)
{
	if (n == 0)
		return fo_err_set(err, FO_EINVAL, "a report needs at least one run");
	struct fo_buf b = FO_BUF_INIT, tmp = FO_BUF_INIT;
	fo_report_html_render(runs, n, o, &b);
	fo_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int rc = 0;
	FILE *f = fopen(tmp.s, "w");
	bool ok = f && fwrite(b.s, 1, b.len, f) == b.len;
	if (f)
		ok = fclose(f) == 0 && ok;
	if (!ok)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", f ? tmp.s : path, strerror(errno));
	else if (rename(tmp.s, path) != 0)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (rc)
		unlink(tmp.s);
	fo_buf_release(&tmp);
	fo_buf_release(&b);
	return rc;
}

/* ---- baseline versus contender ---- */

struct fo_report_cmp *fo_report_compare(const struct fo_report_run *runs, size_t n, size_t *ncmp)
{
	*ncmp = 0;
	struct fo_report_cmp *out = NULL;
	size_t cap = 0;
	double *a = fo_calloc(n + 1, sizeof(*a)), *bv = fo_calloc(n + 1, sizeof(*bv));
	const struct fo_report_run *first = NULL;
	for (size_t r = 0; r < n && !first; r++)
		if (runs[r].side == FO_REPORT_SIDE_BASELINE)
			first = &runs[r];
	for (size_t i = 0; first && i < first->perf->n; i++) {
		const char *name = first->perf->s[i].name;
		bool everywhere = true;
		for (size_t r = 0; r < n && everywhere; r++)
			everywhere = runs[r].side == FO_REPORT_SIDE_NONE || fo_perf_find(runs[r].perf, name);
		if (!everywhere)
			continue;
		for (size_t k = 0; k < FO_ARRAY_LEN(metrics); k++) {
			size_t na = 0, nb = 0;
			for (size_t r = 0; r < n; r++) {
				if (runs[r].side == FO_REPORT_SIDE_NONE)
					continue;
				struct fo_perf_summary m;
				fo_perf_summarize(fo_perf_find(runs[r].perf, name), &m);
				if (runs[r].side == FO_REPORT_SIDE_BASELINE)
					a[na++] = metric_of(&m, &metrics[k]);
				else
					bv[nb++] = metric_of(&m, &metrics[k]);
			}
			if (!na || !nb)
				continue;
			FO_GROW(out, cap, *ncmp + 1);
			struct fo_report_cmp *c = &out[(*ncmp)++];
			*c = (struct fo_report_cmp){
			    .series = name,
			    .metric = metrics[k].name,
			    .unit = metrics[k].unit,
			    .higher_is_better = metrics[k].higher_is_better,
			};
			fo_stats_ci95(a, na, &c->a);
			fo_stats_ci95(bv, nb, &c->b);
			c->change_pct = c->a.mean != 0 ? (c->b.mean - c->a.mean) / c->a.mean * 100 : NAN;
			fo_stats_welch_test(a, na, bv, nb, &c->w);
			fo_stats_verdict(&c->w, c->verdict, sizeof(c->verdict));
		}
	}
	fo_free(a);
	fo_free(bv);
	return out;
}
