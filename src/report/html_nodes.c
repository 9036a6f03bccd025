/*
 * html_nodes.c: the node metrics and the notes of the HTML performance report (html.c,
 * html_nodes.h): which charts the Nodes section shows and their data, and the banner of
 * the run's notes.
 *
 * The charts are planned from the series the run has (report/metrics_load.h), through the
 * table below: the machine's CPU, memory, network and disk; one line per node for its
 * services' CPU and memory and its load driver's CPU; Redis's and PostgreSQL's own
 * figures; then one chart per field of any other service (up to MAX_OTHER_CHARTS). A
 * chart with no data is left out. Each line goes to the page as two JSON arrays, t and v,
 * thinned to at most MAX_POINTS points by averaging runs of consecutive samples, with a
 * null where the samples stop for more than GAP_S seconds (a server that did not answer),
 * so that the line breaks there.
 *
 * A saturated-driver note ("load driver on client/node0 saturated its CPU (97% for 5 s)
 * ...") does not say when. Its seconds are found again in that node's metrics by the
 * sampler's rule (metrics/sampler.h: the drivers' CPU used plus waited for at 90% or more
 * of the machine's cores, 3 s or more in a row; for fallout's own thread, its busiest
 * thread's use of a core), the k-th note on a node taking the k-th such span. A note whose
 * span is not found is shown in the banner only.
 */
#include "util/common.h"

#include <math.h>

#include "metrics/sampler.h"
#include "report/html.h"
#include "report/html_nodes.h"
#include "util/alloc.h"
#include "util/buf.h"

/* At most this many points per line: longer series are averaged down. */
#define MAX_POINTS 2000
/* Samples further apart than this (s) have a gap between them: the line breaks. */
#define GAP_S 1.5
/* Charts of services other than Redis and PostgreSQL, one per field, at most. */
#define MAX_OTHER_CHARTS 12
/* Saturated spans looked for per node. */
#define MAX_SPANS 16

#define DRIVER_NOTE "load driver on "
#define DRIVER_NOTE_END " saturated its CPU"
#define THREAD_NOTE "a thread of fallout itself"

/* ---- the charts ---- */

/* Where a chart's lines come from: the machine (one line per field), or every node (one
 * line per node and field). */
enum scope { MACHINE, PER_NODE };

struct field {
	const char *name;  /* the metric: "cpu.busy_pct" */
	const char *label; /* per field: "busy"; NULL: the node's name alone */
	bool dash;	   /* drawn dashed */
};

struct chart_def {
	const char *title, *sub; /* static markup */
	double ymax;		 /* a fixed top of the y axis, or 0: from the data */
	enum scope scope;
	struct field fields[4];
};

/* clang-format off */
static const struct chart_def chart_defs[] = {
	{"Machine CPU", "(% of all CPUs)", 100, MACHINE,
	 {{"cpu.busy_pct", "busy", false}, {"cpu.user_pct", "user", false}, {"cpu.system_pct", "system", false},
	  {"cpu.iowait_pct", "iowait", false}}},
	{"Machine memory used", "", 0, MACHINE, {{"mem.used_bytes", "used", false}}},
	{"Network", "(bytes per second; loopback apart: local nodes talk through it)", 0, MACHINE,
	 {{"net.rx_bytes_per_s", "received", false}, {"net.tx_bytes_per_s", "sent", false},
	  {"net.lo.rx_bytes_per_s", "loopback", false}}},
	{"Disk", "(bytes per second)", 0, MACHINE,
	 {{"disk.read_bytes_per_s", "read", false}, {"disk.write_bytes_per_s", "written", false}}},
	{"Service CPU", "(per node, % of one core)", 0, PER_NODE, {{"service.cpu_pct", NULL, false}}},
	{"Service memory", "(per node, resident)", 0, PER_NODE, {{"service.rss_bytes", NULL, false}}},
	{"Load driver CPU", "(per node, % of one core; dashed: waiting for a CPU)", 0, PER_NODE,
	 {{"driver.cpu_pct", NULL, false}, {"driver.cpu_wait_pct", "waiting", true},
	  {"fallout.cpu_pct", "fallout itself", false}}},
	{"Redis operations", "(per second, per node)", 0, PER_NODE, {{"redis.ops_per_s", NULL, false}}},
	{"Redis used memory", "(per node)", 0, PER_NODE, {{"redis.used_memory_bytes", NULL, false}}},
	{"Redis clients", "(connected, per node)", 0, PER_NODE, {{"redis.clients", NULL, false}}},
	{"PostgreSQL commits", "(transactions per second, per node)", 0, PER_NODE,
	 {{"postgresql.xact_commit_per_s", NULL, false}}},
	{"PostgreSQL replication lag", "(WAL bytes the furthest replica has still to replay)", 0, PER_NODE,
	 {{"postgresql.replication_lag_bytes", NULL, false}}},
};
/* clang-format on */

/* Field prefixes the table covers: other prefixes are other services' figures. */
static const char *const known_prefixes[] = {"cpu.",	 "mem.",    "net.",   "disk.",	    "fallout.",
					     "service.", "driver.", "redis.", "postgresql."};

struct pline {
	char *label; /* owned */
	const struct fo_metric_series *s;
	int color; /* an index into the page's palette */
	bool dash;
};

struct pchart {
	const char *title, *sub; /* title: static, or a field's name (borrowed; escaped) */
	bool escape_title;
	double ymax;
	struct pline *lines;
	size_t n, cap;
};

struct plan {
	struct pchart *c;
	size_t n, cap;
};

static bool is_machine(const char *source)
{
	return strcmp(source, "machine") == 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void add_line(struct pchart *c, const struct fo_metric_series *s, const char *label, int color, bool dash)
{
	FO_GROW(c->lines, c->cap, c->n + 1);
	c->lines[c->n++] = (struct pline){.label = fo_strdup(label), .s = s, .color = color, .dash = dash};
}

/* The colour of a node's lines in c: the same for all its fields, in order of appearance. */
static int source_color(const struct pchart *c, const char *source)
{
	int k = 0;
	for (size_t i = 0; i < c->n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(c->lines[j].s->source, c->lines[i].s->source) == 0;
		if (seen)
			continue;
		if (strcmp(c->lines[i].s->source, source) == 0)
			return k;
		k++;
	}
	return k;
}

/* True when s is one of d's fields, with data. */
static bool of_def(const struct chart_def *d, const struct fo_metric_series *s)
{
	for (size_t f = 0; f < FO_ARRAY_LEN(d->fields) && d->fields[f].name; f++)
		if (strcmp(s->name, d->fields[f].name) == 0)
			return s->n > 0;
	return false;
}

static void plan_def(struct plan *p, const struct fo_metrics *m, const struct chart_def *d)
{
	struct pchart c = {.title = d->title, .sub = d->sub, .ymax = d->ymax};
	struct fo_buf label = FO_BUF_INIT;
	/* how many sources have the chart's fields */
	size_t nsources = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (!of_def(d, &m->series[i]))
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = of_def(d, &m->series[j]) && strcmp(m->series[j].source, m->series[i].source) == 0;
		nsources += !seen;
	}
	for (size_t f = 0; f < FO_ARRAY_LEN(d->fields) && d->fields[f].name; f++) {
		const struct field *fd = &d->fields[f];
		for (size_t i = 0; i < m->n; i++) {
			const struct fo_metric_series *s = &m->series[i];
			if (strcmp(s->name, fd->name) != 0 || !s->n)
				continue;
			fo_buf_clear(&label);
			if (d->scope == MACHINE) {
				/* several machines (nodes of their own): each line says whose */
				if (nsources > 1)
					fo_buf_addf(&label, "%s ", s->source);
				fo_buf_adds(&label, fd->label);
				add_line(&c, s, label.s, (int)c.n, fd->dash);
			} else {
				if (is_machine(s->source))
					fo_buf_adds(&label, fd->label ? fd->label : "machine");
				else if (fd->label)
					fo_buf_addf(&label, "%s %s", s->source, fd->label);
				else
					fo_buf_adds(&label, s->source);
				add_line(&c, s, label.s, source_color(&c, s->source), fd->dash);
			}
		}
	}
	fo_buf_release(&label);
	if (c.n) {
		FO_GROW(p->c, p->cap, p->n + 1);
		p->c[p->n++] = c;
	} else {
		fo_free(c.lines);
	}
}

/* One chart per field of the services the table does not know (etcd.*, a script's...). */
static void plan_others(struct plan *p, const struct fo_metrics *m)
{
	size_t added = 0;
	for (size_t i = 0; i < m->n && added < MAX_OTHER_CHARTS; i++) {
		const struct fo_metric_series *s = &m->series[i];
		bool known = !strchr(s->name, '.');
		for (size_t k = 0; k < FO_ARRAY_LEN(known_prefixes) && !known; k++)
			known = has_prefix(s->name, known_prefixes[k]);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(m->series[j].name, s->name) == 0;
		if (known || seen || !s->n)
			continue;
		struct pchart c = {.title = s->name, .escape_title = true, .sub = "(per node)"};
		for (size_t j = i; j < m->n; j++)
			if (strcmp(m->series[j].name, s->name) == 0 && m->series[j].n)
				add_line(&c, &m->series[j], m->series[j].source, source_color(&c, m->series[j].source),
					 false);
		FO_GROW(p->c, p->cap, p->n + 1);
		p->c[p->n++] = c;
		added++;
	}
}

static void plan_make(struct plan *p, const struct fo_metrics *m)
{
	*p = (struct plan){0};
	if (!m)
		return;
	for (size_t i = 0; i < FO_ARRAY_LEN(chart_defs); i++)
		plan_def(p, m, &chart_defs[i]);
	plan_others(p, m);
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		for (size_t k = 0; k < p->c[i].n; k++)
			fo_free(p->c[i].lines[k].label);
		fo_free(p->c[i].lines);
	}
	fo_free(p->c);
	*p = (struct plan){0};
}

/* ---- the data ---- */

/* A point's time on the charts' axis. */
static double at(const struct fo_metric_point *pt, double wall0)
{
	return wall0 > 0 ? pt->wall - wall0 : pt->t;
}

static void jnum(struct fo_buf *b, double v, const char *fmt)
{
	if (isfinite(v))
		fo_buf_addf(b, fmt, v);
	else
		fo_buf_adds(b, "null");
}

static void jstr(struct fo_buf *b, const char *s)
{
	fo_buf_add_json_str(b, s, strlen(s));
}

/* "t":[...],"v":[...]: the series thinned to MAX_POINTS, a null at each gap. */
static void add_points(struct fo_buf *b, const struct fo_metric_series *s, double wall0)
{
	size_t k = s->n > MAX_POINTS ? (s->n + MAX_POINTS - 1) / MAX_POINTS : 1;
	struct fo_buf ts = FO_BUF_INIT, vs = FO_BUF_INIT;
	for (size_t i = 0; i < s->n;) {
		double t = at(&s->points[i], wall0);
		if (i && t - at(&s->points[i - 1], wall0) > GAP_S) {
			fo_buf_addch(&ts, ts.len ? ',' : ' ');
			jnum(&ts, (t + at(&s->points[i - 1], wall0)) / 2, "%.3f");
			fo_buf_adds(&vs, vs.len ? ",null" : " null");
		}
		double st = 0, sv = 0;
		size_t m = 0, j = i;
		do {
			st += at(&s->points[j], wall0);
			sv += s->points[j].v;
			m++;
			j++;
		} while (j < s->n && m < k && at(&s->points[j], wall0) - at(&s->points[j - 1], wall0) <= GAP_S);
		fo_buf_addch(&ts, ts.len ? ',' : ' ');
		jnum(&ts, st / (double)m, "%.3f");
		fo_buf_addch(&vs, vs.len ? ',' : ' ');
		jnum(&vs, sv / (double)m, "%.6g");
		i = j;
	}
	fo_buf_addf(b, "\"t\":[%s],\"v\":[%s]", ts.len ? ts.s + 1 : "", vs.len ? vs.s + 1 : "");
	fo_buf_release(&ts);
	fo_buf_release(&vs);
}

static size_t count_nodes(const struct fo_metrics *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!is_machine(m->series[i].source) &&
		    (i == 0 || strcmp(m->series[i - 1].source, m->series[i].source)))
			n++;
	return n;
}

void fo__html_nodes_section(struct fo_buf *b, const struct fo_report_run *r)
{
	if (r->metrics_error) {
		fo_buf_adds(b, "<section class=\"card nodes\" id=\"nodes\"><h2>Nodes</h2><p class=\"note\">The node "
			       "metrics could not be read: ");
		fo__html_esc(b, r->metrics_error);
		fo_buf_adds(b, "</p></section>\n");
		return;
	}
	struct plan p;
	plan_make(&p, r->metrics);
	if (!p.n) {
		plan_free(&p);
		return;
	}
	size_t nodes = count_nodes(r->metrics);
	fo_buf_addf(b, "<section class=\"card nodes\" id=\"nodes\"><h2>Nodes<span class=\"sub\">the machine");
	if (nodes)
		fo_buf_addf(b, " and %zu node%s", nodes, nodes == 1 ? "" : "s");
	fo_buf_adds(b, ", sampled every second</span></h2><div class=\"charts\">");
	for (size_t i = 0; i < p.n; i++) {
		fo_buf_adds(b, "<div class=\"chart-box\"><h3>");
		if (p.c[i].escape_title)
			fo__html_esc(b, p.c[i].title);
		else
			fo_buf_adds(b, p.c[i].title);
		fo_buf_addf(b,
			    " <span class=\"unit\">%s</span></h3><div class=\"chart\" id=\"n%zu-metric\" "
			    "data-kind=\"metric\" data-chart=\"%zu\"></div></div>",
			    p.c[i].sub, i, i);
	}
	fo_buf_adds(b, "</div><p class=\"note\">Time as on the charts above: seconds since the workload started. "
		       "Each point is the second before it; a break in a line is a second without a sample (a "
		       "server that did not answer). docs/running.md, &ldquo;Node metrics&rdquo;, says what each "
		       "figure is.</p></section>\n");
	plan_free(&p);
}

void fo__html_nodes_json(struct fo_buf *b, const struct fo_report_run *r, double wall0)
{
	struct plan p;
	plan_make(&p, r->metrics_error ? NULL : r->metrics);
	fo_buf_adds(b, ",\"nodes\":[");
	for (size_t i = 0; i < p.n; i++) {
		const struct pchart *c = &p.c[i];
		fo_buf_adds(b, i ? ",{\"title\":" : "{\"title\":");
		jstr(b, c->title);
		fo_buf_adds(b, ",\"unit\":");
		jstr(b, c->lines[0].s->unit);
		fo_buf_adds(b, ",\"ymax\":");
		if (c->ymax > 0)
			fo_buf_addf(b, "%g", c->ymax);
		else
			fo_buf_adds(b, "null");
		fo_buf_adds(b, ",\"lines\":[");
		for (size_t k = 0; k < c->n; k++) {
			fo_buf_adds(b, k ? ",{\"label\":" : "{\"label\":");
			jstr(b, c->lines[k].label);
			fo_buf_addf(b, ",\"color\":%d,\"dash\":%s,", c->lines[k].color,
				    c->lines[k].dash ? "true" : "false");
			add_points(b, c->lines[k].s, wall0);
			fo_buf_addch(b, '}');
		}
		fo_buf_adds(b, "]}");
	}
	fo_buf_addch(b, ']');
	plan_free(&p);
}

/* ---- notes and their spans ---- */

struct span {
	double start, end;
};

/* The spans of 3 s or more in which want[i] (the percentage of the second before t[i]) is
 * at the threshold or above. */
static size_t streaks(const double *t, const double *want, size_t n, struct span *out, size_t max)
{
	size_t ns = 0;
	bool open = false;
	double start = 0, end = 0;
	for (size_t i = 0; i <= n; i++) {
		bool gap = i == n || (i > 0 && t[i] - t[i - 1] > GAP_S);
		bool on = i < n && want[i] >= FO_SAMPLER_SATURATED_PCT;
		if (open && (gap || !on)) {
			if (end - start >= FO_SAMPLER_SATURATED_SECONDS - 0.05 && ns < max)
				out[ns++] = (struct span){start, end};
			open = false;
		}
		if (on) {
			if (!open)
				start = i > 0 && !gap ? t[i - 1] : t[i] - 1;
			open = true;
			end = t[i];
		}
	}
	return ns;
}

/* The last value of source's field (or the machine's), or 0. */
static double last_value(const struct fo_metrics *m, const char *source, const char *name)
{
	const struct fo_metric_series *s = fo_metrics_find(m, source, name);
	if (!s || !s->n)
		s = fo_metrics_find(m, "machine", name);
	return s && s->n ? s->points[s->n - 1].v : 0;
}

/* The spans of a note, by the sampler's rule: source NULL for fallout's own thread. */
static size_t saturated_spans(const struct fo_metrics *m, const char *source, double wall0, struct span *out,
			      size_t max)
{
	const struct fo_metric_series *use = fo_metrics_find(
	    m, source ? source : "machine", source ? "driver.cpu_pct" : "fallout.busiest_thread_cpu_pct");
	const struct fo_metric_series *wait = source ? fo_metrics_find(m, source, "driver.cpu_wait_pct") : NULL;
	double cores = source ? last_value(m, source, "cpu.cores") : 1;
	if (!use || !use->n || cores <= 0)
		return 0;
	double *t = fo_calloc(use->n, sizeof(*t)), *want = fo_calloc(use->n, sizeof(*want));
	size_t j = 0;
	for (size_t i = 0; i < use->n; i++) {
		t[i] = at(&use->points[i], wall0);
		double w = use->points[i].v;
		while (wait && j < wait->n && wait->points[j].t < use->points[i].t - 1e-6)
			j++;
		if (wait && j < wait->n && fabs(wait->points[j].t - use->points[i].t) < 1e-6)
			w += wait->points[j].v;
		want[i] = w / cores;
	}
	size_t n = streaks(t, want, use->n, out, max);
	fo_free(t);
	fo_free(want);
	return n;
}

/* Which driver or thread note i of r names: 1 and the node in *source (owned) for a
 * driver, 2 for fallout's thread, 0 for another note. */
static int note_kind(const char *note, char **source)
{
	*source = NULL;
	if (has_prefix(note, THREAD_NOTE))
		return 2;
	if (!has_prefix(note, DRIVER_NOTE))
		return 0;
	const char *s = note + strlen(DRIVER_NOTE), *e = strstr(s, DRIVER_NOTE_END);
	if (!e || e == s)
		return 0;
	*source = fo_strndup(s, (size_t)(e - s));
	return 1;
}

/* The span of r's note i, when its metrics show one: true with it in *out. */
static bool note_span(const struct fo_report_run *r, size_t i, double wall0, struct span *out)
{
	if (!r->metrics || !r->metrics->n)
		return false;
	char *source = NULL;
	int kind = note_kind(r->notes[i], &source);
	bool found = false;
	if (kind) {
		/* the k-th note on this node or thread is its k-th span */
		size_t k = 0;
		for (size_t j = 0; j < i; j++) {
			char *other = NULL;
			if (note_kind(r->notes[j], &other) == kind && (kind == 2 || strcmp(other, source) == 0))
				k++;
			fo_free(other);
		}
		struct span spans[MAX_SPANS];
		size_t n = saturated_spans(r->metrics, source, wall0, spans, MAX_SPANS);
		if (k < n) {
			*out = spans[k];
			found = true;
		}
	}
	fo_free(source);
	return found;
}

void fo__html_notes_json(struct fo_buf *b, const struct fo_report_run *r, bool with_spans, double wall0)
{
	fo_buf_adds(b, ",\"notes\":[");
	for (size_t i = 0; i < r->nnotes; i++) {
		fo_buf_adds(b, i ? ",{\"text\":" : "{\"text\":");
		jstr(b, r->notes[i]);
		fo_buf_adds(b, ",\"spans\":[");
		struct span sp;
		if (with_spans && note_span(r, i, wall0, &sp)) {
			fo_buf_adds(b, "[");
			jnum(b, sp.start, "%.3f");
			fo_buf_addch(b, ',');
			jnum(b, sp.end, "%.3f");
			fo_buf_adds(b, "]");
		}
		fo_buf_adds(b, "]}");
	}
	fo_buf_addch(b, ']');
}

void fo__html_notes_banner(struct fo_buf *b, const struct fo_report_run *runs, size_t n, double wall0)
{
	size_t total = 0;
	for (size_t r = 0; r < n; r++)
		total += runs[r].nnotes;
	if (!total)
		return;
	fo_buf_addf(b,
		    "<section class=\"notes\" id=\"notes\" role=\"note\"><h2>%s <span class=\"sub\">what puts "
		    "the results in doubt</span></h2><ul>",
		    total == 1 ? "Note" : "Notes");
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < runs[r].nnotes; i++) {
			fo_buf_adds(b, "<li>");
			if (n > 1) {
				fo_buf_adds(b, "<b>");
				fo__html_esc(b, runs[r].label);
				fo_buf_adds(b, "</b>: ");
			}
			fo__html_esc(b, runs[r].notes[i]);
			struct span sp;
			if (n == 1 && note_span(&runs[r], i, wall0, &sp))
				fo_buf_addf(b, "<span class=\"when\">shaded on the charts: %.1f&ndash;%.1f s</span>",
					    sp.start, sp.end);
			fo_buf_adds(b, "</li>");
		}
	fo_buf_adds(b, "</ul></section>\n");
}
