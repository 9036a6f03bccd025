/*
 * performance_thresholds.c: the `performance_thresholds` artifact checker: declarative
 * limits on the performance a run measured (`read: p99 < 2ms`, `throughput > 50000`,
 * `errors < 0.1%`), judged on the client group's interval logs (report/perf.h) and
 * printed as a verdict table; a broken limit fails the run, so CI gets a one-line gate.
 *
 * A limit is `[series:] metric op value[unit]` (limits.h, shared with fault_impact). Every
 * limit is parsed when the definition is checked (the validate hook), so a typo is
 * reported with its line and column before anything runs; at the end of the run the same
 * parser reads it again.
 */
#include "util/common.h"

#include <math.h>

#include "components/artifact_checkers/limits.h"
#include "components/component.h"
#include "engine/run.h"
#include "report/perf.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	{
		.name = "thresholds",
		.description = "The limits, a list of `[series:] metric op value`, e.g. `read: p99 < 2ms`, "
			       "`throughput > 50000`, `errors < 0.1%`, `*: max < 1s` (see the description).",
		.type = FO_PT_ANY,
		.required = true,
	},
	{
		.name = "client_group",
		.description = "The node group whose interval logs are judged.",
		.type = FO_PT_GROUP,
		.default_value = "client",
	},
	{0},
};

/* ---- limits (limits.h) ---- */

enum mkind { MK_COUNT = FO_LIMIT_COUNT, MK_RATE = FO_LIMIT_RATE, MK_ERRORS = FO_LIMIT_ERRORS,
	     MK_LATENCY = FO_LIMIT_LATENCY, MK_DURATION = FO_LIMIT_DURATION };
enum stat { ST_NONE, ST_MIN, ST_MEAN, ST_PCT, ST_MAX };

static const struct fo_limit_metric metrics[] = {
	{"count", FO_LIMIT_COUNT, ST_NONE, 0},	    {"throughput", FO_LIMIT_RATE, ST_NONE, 0},
	{"ops", FO_LIMIT_RATE, ST_NONE, 0},	    {"errors", FO_LIMIT_ERRORS, ST_NONE, 0},
	{"min", FO_LIMIT_LATENCY, ST_MIN, 0},	    {"mean", FO_LIMIT_LATENCY, ST_MEAN, 0},
	{"avg", FO_LIMIT_LATENCY, ST_MEAN, 0},	    {"p50", FO_LIMIT_LATENCY, ST_PCT, 50},
	{"median", FO_LIMIT_LATENCY, ST_PCT, 50},   {"p90", FO_LIMIT_LATENCY, ST_PCT, 90},
	{"p95", FO_LIMIT_LATENCY, ST_PCT, 95},	    {"p99", FO_LIMIT_LATENCY, ST_PCT, 99},
	{"p999", FO_LIMIT_LATENCY, ST_PCT, 99.9},   {"p99.9", FO_LIMIT_LATENCY, ST_PCT, 99.9},
	{"p9999", FO_LIMIT_LATENCY, ST_PCT, 99.99}, {"p99.99", FO_LIMIT_LATENCY, ST_PCT, 99.99},
	{"max", FO_LIMIT_LATENCY, ST_MAX, 0},	    {"duration", FO_LIMIT_DURATION, ST_NONE, 0},
};

static const struct fo_limit_syntax syntax = {
	.metrics = metrics,
	.nmetrics = FO_ARRAY_LEN(metrics),
	.metric_list = "count, throughput, errors, min, mean, p50, p90, p95, p99, p999, p9999, max or duration",
	.series = true,
	.example = "'read: p99 < 2ms'",
};

/* Every limit parses; a mistake is reported at its column. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	fo_limits_validate(ps, "thresholds", &syntax, d);
}

/* ---- judging ---- */

/* The verdict table being built. */
struct row {
	char *limit, *series, *measured;
	const char *verdict;
};

struct table {
	struct row *v;
	size_t n, cap;
	size_t broken;
};

static void add_row(struct table *t, const char *limit, const char *series, const char *measured, const char *verdict)
{
	FO_GROW(t->v, t->cap, t->n + 1);
	t->v[t->n++] = (struct row){fo_strdup(limit), fo_strdup(series), fo_strdup(measured), verdict};
	if (strcmp(verdict, "ok") != 0)
		t->broken++;
}

/* The measured value of l on series s, in l's units, and its text. */
static double measure(const struct fo_limit *l, const struct fo_perf_series *s, char *text, size_t n)
{
	struct fo_perf_summary sum;
	fo_perf_summarize(s, &sum);
	const struct fo_hdr *h = &s->total;
	double v = 0;
	switch ((enum mkind)l->m->kind) {
	case MK_COUNT:
		v = (double)sum.count;
		snprintf(text, n, "%lld", (long long)sum.count);
		return v;
	case MK_RATE:
		v = sum.ops_s;
		snprintf(text, n, "%.1f op/s", v);
		return v;
	case MK_DURATION:
		v = sum.duration_s;
		snprintf(text, n, "%.3f %s", v / l->unit_scale, l->unit);
		return v;
	case MK_LATENCY:
		switch ((enum stat)l->m->stat) {
		case ST_MIN:
			v = (double)fo_hdr_min(h);
			break;
		case ST_MEAN:
			v = fo_hdr_mean(h);
			break;
		case ST_MAX:
			v = (double)fo_hdr_max(h);
			break;
		default:
			v = (double)fo_hdr_value_at_percentile(h, l->m->pct);
			break;
		}
		/* In the limit's unit: whole nanoseconds, else three decimals ("1.234 ms"). */
		snprintf(text, n, "%.*f %s", l->unit_scale == 1 ? 0 : 3, v / l->unit_scale, l->unit);
		return v;
	case MK_ERRORS:
		break;
	}
	return 0;
}

/* Does selector sel pick series s? by: 0 exact name, 1 tag, 2 file name (base). */
static bool picks(const char *sel, const struct fo_perf_series *s, int by)
{
	if (by == 0)
		return strcmp(s->name, sel) == 0;
	if (by == 1)
		return s->tag && strcmp(s->tag, sel) == 0;
	return strcmp(s->base, sel) == 0;
}

/* How sel picks series: exact name, else tag, else base; -1 when it picks none. */
static int pick_rule(const struct fo_perf *p, const char *sel)
{
	for (int by = 0; by < 3; by++)
		for (size_t i = 0; i < p->n; i++)
			if (picks(sel, &p->s[i], by))
				return by;
	return -1;
}

static void no_series(struct table *t, const struct fo_limit *l, const struct fo_perf *p, const char *group)
{
	struct fo_buf m = FO_BUF_INIT;
	fo_buf_addf(&m, "no series '%s' (", l->sel ? l->sel : "*");
	if (p->n == 0)
		fo_buf_addf(&m, "no interval logs found under %s/node*/", group);
	else
		fo_buf_adds(&m, "series: ");
	for (size_t i = 0; i < p->n; i++)
		fo_buf_addf(&m, "%s%s", i ? ", " : "", p->s[i].name);
	fo_buf_adds(&m, ")");
	add_row(t, l->text, "-", m.s, "NO SERIES");
	fo_buf_release(&m);
}

/* Judges an errors limit on each file name (base) the selector picks. */
static void judge_errors(struct table *t, const struct fo_limit *l, const struct fo_perf *p, const char *group)
{
	int by = l->sel ? pick_rule(p, l->sel) : 3;
	if (by < 0 || p->n == 0) {
		no_series(t, l, p, group);
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		const char *base = p->s[i].base;
		if (i > 0 && strcmp(p->s[i - 1].base, base) == 0)
			continue; /* series are sorted by base: one row per base */
		bool picked = false;
		int64_t errs = 0, all = 0;
		for (size_t j = i; j < p->n && strcmp(p->s[j].base, base) == 0; j++) {
			picked |= by == 3 || picks(l->sel, &p->s[j], by);
			int64_t c = fo_hdr_total(&p->s[j].total);
			all += c;
			if (p->s[j].is_error)
				errs += c;
		}
		if (!picked)
			continue;
		char text[128];
		double v;
		if (l->percent) {
			v = all ? 100.0 * (double)errs / (double)all : 0;
			char num[64];
			fo_limit_fmt_num(num, sizeof(num), v);
			snprintf(text, sizeof(text), "%s%% (%lld of %lld)", num, (long long)errs, (long long)all);
		} else {
			v = (double)errs;
			snprintf(text, sizeof(text), "%lld", (long long)errs);
		}
		add_row(t, l->text, base, text, fo_limit_holds(v, l->op, l->value) ? "ok" : "BROKEN");
	}
}

static void judge(struct table *t, const struct fo_limit *l, const struct fo_perf *p, const char *group)
{
	if ((enum mkind)l->m->kind == MK_ERRORS) {
		judge_errors(t, l, p, group);
		return;
	}
	/* No selector or *: every series but the errors (judged by the errors metric). */
	int by = l->sel ? pick_rule(p, l->sel) : 3;
	size_t rows = 0;
	for (size_t i = 0; by >= 0 && i < p->n; i++) {
		const struct fo_perf_series *s = &p->s[i];
		if (by == 3 ? s->is_error : !picks(l->sel, s, by))
			continue;
		char text[128];
		double v = measure(l, s, text, sizeof(text));
		bool ok = fo_limit_holds(v, l->op, l->value);
		if ((enum mkind)l->m->kind != MK_COUNT && fo_hdr_total(&s->total) == 0) {
			snprintf(text, sizeof(text), "no values");
			ok = false;
		}
		add_row(t, l->text, s->name, text, ok ? "ok" : "BROKEN");
		rows++;
	}
	if (rows == 0)
		no_series(t, l, p, group);
}

static void table_print(const struct table *t, size_t nlimits, struct fo_buf *msg)
{
	size_t w[3] = {strlen("limit"), strlen("series"), strlen("measured")};
	for (size_t i = 0; i < t->n; i++) {
		const char *c[3] = {t->v[i].limit, t->v[i].series, t->v[i].measured};
		for (int k = 0; k < 3; k++)
			if (strlen(c[k]) > w[k])
				w[k] = strlen(c[k]);
	}
	if (t->broken)
		fo_buf_addf(msg, "%zu of %zu check%s broken (%zu limit%s):", t->broken, t->n, t->n == 1 ? "" : "s",
			    nlimits, nlimits == 1 ? "" : "s");
	else
		fo_buf_addf(msg, "every limit holds (%zu limit%s, %zu check%s):", nlimits, nlimits == 1 ? "" : "s", t->n,
			    t->n == 1 ? "" : "s");
	fo_buf_addf(msg, "\n  %-*s  %-*s  %-*s  %s", (int)w[0], "limit", (int)w[1], "series", (int)w[2], "measured",
		    "verdict");
	for (size_t i = 0; i < t->n; i++)
		fo_buf_addf(msg, "\n  %-*s  %-*s  %-*s  %s", (int)w[0], t->v[i].limit, (int)w[1], t->v[i].series,
			    (int)w[2], t->v[i].measured, t->v[i].verdict);
}

static int check(const struct fo_propset *ps, struct fo_run *r, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const char *gname = fo_props_str(ps, "client_group", "client");
	struct fo_rgroup *g = fo_run_group(r, gname);
	if (!g) {
		*passed = false;
		fo_buf_addf(msg, "there is no node group '%s'", gname);
		return 0;
	}
	size_t ne = 0;
	struct fo_limit *ls = NULL;
	int rc = fo_limits_load(ps, "thresholds", &syntax, &ls, &ne, err);
	if (rc)
		return rc;

	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/%s", fo_run_dir(r), g->spec->name);
	struct fo_perf p;
	struct fo_err e2 = {0};
	rc = fo_perf_load_group(&p, dir.s, NULL, &e2);
	fo_buf_release(&dir);
	if (rc) {
		*passed = false;
		fo_buf_addf(msg, "%s", e2.msg);
	} else {
		struct table t = {0};
		for (size_t i = 0; i < ne; i++)
			judge(&t, &ls[i], &p, g->spec->name);
		*passed = t.broken == 0 && ne > 0;
		table_print(&t, ne, msg);
		for (size_t i = 0; i < t.n; i++) {
			fo_free(t.v[i].limit);
			fo_free(t.v[i].series);
			fo_free(t.v[i].measured);
		}
		fo_free(t.v);
		fo_perf_release(&p);
	}
	fo_limits_free(ls, ne);
	return 0;
}

static const struct fo_artifact_checker_ops ops = {.check = check};

const struct fo_component fo_artifact_checker_performance_thresholds = {
	.name = "performance_thresholds",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "fail the run when measured performance breaks a limit",
	.description =
		"Judges the HdrHistogram interval logs of `client_group` (united across nodes per "
		"file name and tag, as `hdrtool` does) against the limits in `thresholds`, writes a "
		"verdict table (limit, series, measured value, verdict) to "
		"controller/artifact_checkers/artifact_checker-<alias>.log and the run's summary, and "
		"fails the run if any limit is broken. Values are taken to be nanoseconds.\n"
		"\n"
		"A limit is `[series:] metric op value`:\n"
		"- series: a series name (`latency` for a log's untagged values, `latency:read` for "
		"tag `read` of latency.hdr), a tag (`read`: that tag in every log), a log's name "
		"(`latency`: all its tags), or `*`. Without it, or with `*`, the limit applies to "
		"every series except error series (those whose tag contains `error` or `fail`), one "
		"verdict each. A series that does not exist breaks the limit.\n"
		"- metric: `count`, `throughput` (or `ops`: operations per second over the series' "
		"duration), `errors`, `min`, `mean` (`avg`), `p50` (`median`), `p90`, `p95`, `p99`, "
		"`p999` (`p99.9`), `p9999` (`p99.99`), `max`, `duration`.\n"
		"- op: `<`, `<=`, `>` or `>=`.\n"
		"- value: latencies need a unit (`ns`, `us`, `ms`, `s`); durations too (`ms`, `s`, "
		"`m`, `h`); `count` and `throughput` are plain numbers; `errors` is a count or a "
		"percentage (`0.1%`) of all the operations of the same log: the values of its error "
		"series against those of all its series.\n"
		"\n"
		"Every limit is checked when the definition is, with the line and column of a "
		"mistake. Write limits as strings; `- read: p99 < 2ms` unquoted (a YAML map) is read "
		"the same way.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: client\n"
		   "          script: ./bench --hdr-log=$FALLOUT_NODE_ARTIFACTS/latency.hdr\n"
		   "  artifact_checkers:\n"
		   "    gate:\n"
		   "      artifact_checker: performance_thresholds\n"
		   "      properties:\n"
		   "        thresholds:\n"
		   "          - \"read: p99 < 2ms\"\n"
		   "          - \"throughput > 50000\"\n"
		   "          - \"errors < 0.1%\"\n"
		   "          - \"*: max < 1s\"\n",
	.props = props,
	.validate = validate,
	.artifact_checker = &ops,
};
