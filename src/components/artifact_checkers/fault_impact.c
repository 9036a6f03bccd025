/*
 * fault_impact.c: the `fault_impact` artifact checker: turns what each injected fault did
 * to the clients into numbers (analysis/impact.h: the drop, the p99 during the fault, the
 * time to recover, the run's availability) and judges them against limits such as
 * `recovery_time < 10s` and `availability > 99%`, so "did it survive?" is a verdict.
 *
 * The faults come from the run's history, the measurements from the interval logs of the
 * client group (report/perf.h). The verdict table (one row per fault and measurement) goes
 * into the checker's log and exec's summary, and every number into fault-impact.json in
 * the group's folder. Limits use the syntax of limits.h, checked when the definition is.
 */
#include "util/common.h"

#include <jansson.h>
#include <math.h>
#include <unistd.h>

#include "analysis/impact.h"
#include "components/artifact_checkers/limits.h"
#include "components/component.h"
#include "engine/run.h"
#include "report/perf.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

#define PCT_PATTERN "[0-9]+(\\.[0-9]+)?%?"

static const struct fo_prop props[] = {
	{
		.name = "thresholds",
		.description = "The limits, a list of `metric op value`: `recovery_time < 10s`, "
			       "`throughput_drop < 50%`, `max_drop < 90%`, `p99_during < 1s`, "
			       "`availability > 99%`, `success_rate > 99.9%` (see the description). None: "
			       "the numbers are reported, and the check passes.",
		.type = FO_PT_ANY,
	},
	{
		.name = "client_group",
		.description = "The node group whose interval logs measure the faults' impact.",
		.type = FO_PT_GROUP,
		.default_value = "client",
	},
	{
		.name = "series",
		.description = "Which measurement: a series' name (`latency:read`), a tag (`read`) or a log's "
			       "name (`latency`). Unset: every log, all its series united (error series "
			       "counting as failed operations).",
		.type = FO_PT_STRING,
	},
	{
		.name = "band",
		.description = "Recovered means back within this share of the steady throughput, up or down.",
		.type = FO_PT_STRING,
		.default_value = "10%",
		.pattern = PCT_PATTERN,
	},
	{
		.name = "stable.intervals",
		.description = "How many consecutive intervals within the band make a recovery.",
		.type = FO_PT_INT,
		.default_value = "3",
		FO_RANGE(1, 100000),
	},
	{
		.name = "steady.intervals",
		.description = "How many intervals before a fault (undisturbed by earlier faults) make its "
			       "steady state: their median throughput and p99.",
		.type = FO_PT_INT,
		.default_value = "10",
		FO_RANGE(1, 100000),
	},
	{
		.name = "availability.floor",
		.description = "An interval counts as available when its successful throughput is at least "
			       "this share of the normal throughput (the median outside faults).",
		.type = FO_PT_STRING,
		.default_value = "50%",
		.pattern = PCT_PATTERN,
	},
	{0},
};

/* ---- limits ---- */

enum metric { M_RECOVERY, M_DROP, M_MAX_DROP, M_P99, M_AVAILABILITY, M_SUCCESS };

static const struct fo_limit_metric metrics[] = {
	{"recovery_time", FO_LIMIT_DURATION, M_RECOVERY, 0},
	{"throughput_drop", FO_LIMIT_PERCENT, M_DROP, 0},
	{"max_drop", FO_LIMIT_PERCENT, M_MAX_DROP, 0},
	{"p99_during", FO_LIMIT_LATENCY, M_P99, 0},
	{"availability", FO_LIMIT_PERCENT, M_AVAILABILITY, 0},
	{"success_rate", FO_LIMIT_PERCENT, M_SUCCESS, 0},
};

static const struct fo_limit_syntax syntax = {
	.metrics = metrics,
	.nmetrics = FO_ARRAY_LEN(metrics),
	.metric_list = "recovery_time, throughput_drop, max_drop, p99_during, availability or success_rate",
	.series = false,
	.example = "'recovery_time < 10s'",
};

static bool per_fault(const struct fo_limit *l)
{
	return l->m->stat != M_AVAILABILITY && l->m->stat != M_SUCCESS;
}

static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	fo_limits_validate(ps, "thresholds", &syntax, d);
}

/* ---- judging ---- */

/* The value of l's metric, in l's units (ns, s, %); NAN when it cannot be told. */
static double measured(const struct fo_limit *l, const struct fo_fault_impact *f, const struct fo_impact *im)
{
	switch ((enum metric)l->m->stat) {
	case M_RECOVERY:
		return f->steady_n && !isnan(f->end_s) ? f->recovery_s : NAN;
	case M_DROP:
		return f->drop_pct;
	case M_MAX_DROP:
		return f->max_drop_pct;
	case M_P99:
		return f->p99_during_ms * 1e6;
	case M_AVAILABILITY:
		return im->availability_pct;
	case M_SUCCESS:
		return im->success_pct;
	}
	return NAN;
}

/* The limits a fault (f set) or the run (f NULL) breaks, into broken ("; " between).
 * Returns how many. */
static size_t judge(const struct fo_limit *ls, size_t nl, const struct fo_fault_impact *f,
		    const struct fo_impact *im, struct fo_buf *broken)
{
	size_t n = 0;
	for (size_t i = 0; i < nl; i++) {
		if (per_fault(&ls[i]) != (f != NULL))
			continue;
		double v = measured(&ls[i], f, im);
		/* Not recovering breaks a `<` limit and keeps a `>` one. */
		if (!isnan(v) && fo_limit_holds(v, ls[i].op, ls[i].value))
			continue;
		fo_buf_addf(broken, "%s%s", n ? "; " : "", ls[i].text);
		n++;
	}
	return n;
}

/* ---- the table ---- */

static void fmt_pct(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.1f%%", v);
}

static void fmt_secs(char *out, size_t n, double v)
{
	snprintf(out, n, "%.1f s", v);
}

static void fmt_ms(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else if (v >= 1000)
		snprintf(out, n, "%.2f s", v / 1000);
	else
		snprintf(out, n, "%.3f ms", v);
}

#define NCOLS 9
static const char *const heads[NCOLS] = {"fault",    "nodes",      "window",   "steady", "drop",
					 "max drop", "p99 during", "recovery", "verdict"};

struct table {
	char *(*rows)[NCOLS];
	size_t n, cap;
};

static void cell(char **c, const char *s)
{
	*c = fo_strdup(s);
}

static void add_fault_row(struct table *t, const struct fo_fault_window *w, const struct fo_fault_impact *f,
			  const char *verdict)
{
	FO_GROW(t->rows, t->cap, t->n + 1);
	char **r = t->rows[t->n++];
	char b[160];
	if (strcmp(w->kind, w->process) == 0)
		snprintf(b, sizeof(b), "%s", w->kind);
	else
		snprintf(b, sizeof(b), "%s (%s)", w->kind, w->process);
	cell(&r[0], b);
	cell(&r[1], w->nodes && *w->nodes ? w->nodes : "-");
	if (isnan(f->end_s))
		snprintf(b, sizeof(b), "%.1f s-never healed", f->start_s);
	else
		snprintf(b, sizeof(b), "%.1f-%.1f s", f->start_s, f->end_s);
	cell(&r[2], b);
	if (f->steady_n)
		snprintf(b, sizeof(b), "%.1f op/s", f->steady_ops_s);
	else
		snprintf(b, sizeof(b), "none");
	cell(&r[3], b);
	fmt_pct(b, sizeof(b), f->drop_pct);
	cell(&r[4], b);
	fmt_pct(b, sizeof(b), f->max_drop_pct);
	cell(&r[5], b);
	fmt_ms(b, sizeof(b), f->p99_during_ms);
	cell(&r[6], b);
	if (f->recovered)
		fmt_secs(b, sizeof(b), f->recovery_s);
	else
		snprintf(b, sizeof(b), "%s", isnan(f->end_s) ? "not healed" : f->steady_n ? "did not recover" : "-");
	cell(&r[7], b);
	cell(&r[8], verdict);
}

/* A cell padded to width (0: the last, not padded). */
static void add_cell(struct fo_buf *msg, const char *s, int width)
{
	if (width)
		fo_buf_addf(msg, " %-*s ", width, s);
	else
		fo_buf_addf(msg, " %s", s);
}

static void table_print(struct table *t, struct fo_buf *msg)
{
	size_t w[NCOLS];
	for (int k = 0; k < NCOLS; k++)
		w[k] = strlen(heads[k]);
	for (size_t i = 0; i < t->n; i++)
		for (int k = 0; k < NCOLS; k++)
			if (strlen(t->rows[i][k]) > w[k])
				w[k] = strlen(t->rows[i][k]);
	fo_buf_adds(msg, "\n ");
	for (int k = 0; k < NCOLS; k++)
		add_cell(msg, heads[k], k + 1 < NCOLS ? (int)w[k] : 0);
	for (size_t i = 0; i < t->n; i++) {
		fo_buf_adds(msg, "\n ");
		for (int k = 0; k < NCOLS; k++) {
			add_cell(msg, t->rows[i][k], k + 1 < NCOLS ? (int)w[k] : 0);
			fo_free(t->rows[i][k]);
		}
	}
	fo_free(t->rows);
	*t = (struct table){0};
}

/* ---- fault-impact.json ---- */

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *fault_json(const struct fo_fault_window *w, const struct fo_fault_impact *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "fault", json_string(w->kind));
	json_object_set_new(o, "process", json_string(w->process));
	json_object_set_new(o, "nodes", json_string(w->nodes ? w->nodes : ""));
	json_object_set_new(o, "start_s", jnum(f->start_s));
	json_object_set_new(o, "end_s", jnum(f->end_s));
	json_object_set_new(o, "healed", json_boolean(!isnan(f->end_s)));
	if (w->error)
		json_object_set_new(o, "error", json_string(w->error));
	json_object_set_new(o, "steady_intervals", json_integer((json_int_t)f->steady_n));
	json_object_set_new(o, "steady_ops_s", jnum(f->steady_ops_s));
	json_object_set_new(o, "steady_p99_ms", jnum(f->steady_p99_ms));
	json_object_set_new(o, "during_ops_s", jnum(f->during_ops_s));
	json_object_set_new(o, "throughput_drop_pct", jnum(f->drop_pct));
	json_object_set_new(o, "min_ops_s", jnum(f->min_ops_s));
	json_object_set_new(o, "max_drop_pct", jnum(f->max_drop_pct));
	json_object_set_new(o, "p99_during_ms", jnum(f->p99_during_ms));
	json_object_set_new(o, "recovered", json_boolean(f->recovered));
	json_object_set_new(o, "recovery_time_s", jnum(f->recovery_s));
	json_object_set_new(o, "recovered_at_s", jnum(f->recovered_at_s));
	return o;
}

static int write_json(json_t *root, const char *path, struct fo_err *err)
{
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int rc = 0;
	if (json_dump_file(root, tmp.s, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", tmp.s, strerror(errno));
	else if (rename(tmp.s, path) != 0)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (rc)
		unlink(tmp.s);
	fo_buf_release(&tmp);
	return rc;
}

/* ---- the check ---- */

/* A percentage property ("10%", "10"). */
static double pct_prop(const struct fo_propset *ps, const char *name, double fallback)
{
	const char *s = fo_props_str(ps, name, NULL);
	double v;
	if (!s)
		return fallback;
	char *num = fo_strndup(s, strcspn(s, "%"));
	bool ok = fo_parse_double(num, &v);
	fo_free(num);
	return ok ? v : fallback;
}

/* Judges one measurement: its rows, the run's line; adds to the JSON. Returns the
 * number of broken limits. */
static size_t judge_series(const struct fo_impact_series *s, const struct fo_fault_window *faults, size_t nf,
			   const struct fo_impact_opts *o, const struct fo_limit *ls, size_t nl, struct fo_buf *msg,
			   json_t *jseries)
{
	struct fo_impact im;
	fo_impact_compute(s, faults, nf, o, &im);
	struct table t = {0};
	size_t broken = 0;
	json_t *jo = json_object(), *jf = json_array();
	for (size_t i = 0; i < im.n; i++) {
		struct fo_buf why = FO_BUF_INIT, verdict = FO_BUF_INIT;
		size_t b = judge(ls, nl, &im.f[i], &im, &why);
		if (b)
			fo_buf_addf(&verdict, "BROKEN: %s", why.s);
		else
			fo_buf_adds(&verdict, "ok");
		broken += b;
		add_fault_row(&t, &faults[i], &im.f[i], verdict.s);
		json_t *fj = fault_json(&faults[i], &im.f[i]);
		json_object_set_new(fj, "verdict", json_string(verdict.s));
		json_array_append_new(jf, fj);
		fo_buf_release(&why);
		fo_buf_release(&verdict);
	}
	fo_buf_addf(msg, "\nseries %s (%zu interval%s):", s->name, s->n, s->n == 1 ? "" : "s");
	table_print(&t, msg);
	struct fo_buf why = FO_BUF_INIT;
	size_t b = judge(ls, nl, NULL, &im, &why);
	char av[32], su[32];
	fmt_pct(av, sizeof(av), im.availability_pct);
	fmt_pct(su, sizeof(su), im.success_pct);
	fo_buf_addf(msg, "\n  the run: availability %s (time at >= %g%% of the normal %.1f op/s), success %s%s: %s%s", av,
		    o->floor_pct, isnan(im.normal_ops_s) ? 0 : im.normal_ops_s, su,
		    s->has_errors ? "" : " (no error series)", b ? "BROKEN: " : "ok", why.s);
	broken += b;
	json_object_set_new(jo, "name", json_string(s->name));
	json_object_set_new(jo, "intervals", json_integer((json_int_t)s->n));
	json_object_set_new(jo, "availability_pct", jnum(im.availability_pct));
	json_object_set_new(jo, "success_pct", jnum(im.success_pct));
	json_object_set_new(jo, "normal_ops_s", jnum(im.normal_ops_s));
	json_object_set_new(jo, "run_verdict", json_string(b ? "BROKEN" : "ok"));
	json_object_set_new(jo, "faults", jf);
	json_array_append_new(jseries, jo);
	fo_buf_release(&why);
	fo_impact_release(&im);
	return broken;
}

static int check(const struct fo_propset *ps, struct fo_run *r, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	*passed = false;
	const char *gname = fo_props_str(ps, "client_group", "client");
	struct fo_rgroup *g = fo_run_group(r, gname);
	if (!g) {
		fo_buf_addf(msg, "there is no node group '%s'", gname);
		return 0;
	}
	size_t nl = 0;
	struct fo_limit *ls = NULL;
	int rc = fo_limits_load(ps, "thresholds", &syntax, &ls, &nl, err);
	if (rc)
		return rc;
	struct fo_impact_opts o = FO_IMPACT_OPTS_INIT;
	o.band_pct = pct_prop(ps, "band", o.band_pct);
	o.floor_pct = pct_prop(ps, "availability.floor", o.floor_pct);
	o.stable_intervals = (int)fo_props_int(ps, "stable.intervals", o.stable_intervals);
	o.steady_intervals = (int)fo_props_int(ps, "steady.intervals", o.steady_intervals);
	const char *sel = fo_props_str(ps, "series", NULL);

	size_t nops, nf = 0;
	const struct fo_op *ops = fo_history_ops(fo_run_history(r), &nops);
	struct fo_fault_window *faults = fo_impact_faults(ops, nops, &nf);
	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/%s", fo_run_dir(r), g->spec->name);
	struct fo_perf p;
	struct fo_err e = {0};
	rc = fo_perf_load_group(&p, dir.s, NULL, &e);
	size_t ns = 0;
	struct fo_impact_series *series = NULL;
	if (rc) {
		fo_buf_addf(msg, "%s", e.msg);
		rc = 0;
		goto out;
	}
	/* One axis: seconds since the workload started (the history's clock). */
	double zero = 0;
	if (fo_impact_absolute(&p)) {
		zero = fo_impact_wall_zero(faults, nf);
		for (size_t i = 0; zero == 0 && i < p.n; i++)
			if (p.s[i].niv)
				zero = p.s[i].start_s + p.s[i].iv[0].start_s;
	}
	o.wall_zero = zero;
	series = fo_impact_series_from_perf(&p, sel, zero, &ns);
	if (nf == 0) {
		fo_buf_adds(msg, "no fault was injected: the history has no fault module's injection to judge");
		goto out;
	}
	if (ns == 0) {
		if (p.n == 0)
			fo_buf_addf(msg, "no interval logs found under %s/node*/", g->spec->name);
		else
			fo_buf_addf(msg, "no series '%s' in the logs of %s", sel, g->spec->name);
		goto out;
	}
	json_t *root = json_object(), *jseries = json_array();
	struct fo_buf body = FO_BUF_INIT;
	size_t broken = 0;
	for (size_t i = 0; i < ns; i++)
		broken += judge_series(&series[i], faults, nf, &o, ls, nl, &body, jseries);
	*passed = broken == 0;
	if (nl == 0)
		fo_buf_addf(msg, "%zu fault%s measured (no limits to judge):", nf, nf == 1 ? "" : "s");
	else if (broken)
		fo_buf_addf(msg, "%zu limit%s broken (%zu limit%s, %zu fault%s):", broken, broken == 1 ? "" : "s", nl,
			    nl == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
	else
		fo_buf_addf(msg, "every limit holds (%zu limit%s, %zu fault%s):", nl, nl == 1 ? "" : "s", nf,
			    nf == 1 ? "" : "s");
	fo_buf_adds(msg, body.s);
	fo_buf_addf(msg, "\nrecovered: back within %g%% of the steady throughput for %d intervals", o.band_pct,
		    o.stable_intervals);
	fo_buf_release(&body);
	json_object_set_new(root, "checker", json_string(ps->alias ? ps->alias : ps->comp->name));
	json_object_set_new(root, "band_pct", json_real(o.band_pct));
	json_object_set_new(root, "stable_intervals", json_integer(o.stable_intervals));
	json_object_set_new(root, "steady_intervals", json_integer(o.steady_intervals));
	json_object_set_new(root, "availability_floor_pct", json_real(o.floor_pct));
	json_t *jl = json_array();
	for (size_t i = 0; i < nl; i++)
		json_array_append_new(jl, json_string(ls[i].text));
	json_object_set_new(root, "limits", jl);
	json_object_set_new(root, "series", jseries);
	json_object_set_new(root, "passed", json_boolean(*passed));
	fo_buf_addf(&dir, "/fault-impact.json");
	rc = write_json(root, dir.s, err);
	json_decref(root);
out:
	fo_impact_series_free(series, ns);
	if (!e.code)
		fo_perf_release(&p);
	fo_err_clear(&e);
	fo_impact_faults_free(faults, nf);
	fo_limits_free(ls, nl);
	fo_buf_release(&dir);
	return rc;
}

static const struct fo_artifact_checker_ops ops = {.check = check};

const struct fo_component fo_artifact_checker_fault_impact = {
	.name = "fault_impact",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "measure what each fault did to the clients and judge it against limits",
	.description =
		"For every fault the fault modules (`kill`, `pause`, `restart`, `partition`, `throttle`, "
		"`delete_data`) injected, from its injection to its healing in the history, measures "
		"on the interval logs of `client_group` (each log's series united, or the one `series` "
		"picks):\n"
		"- the steady state: the median throughput and p99 of the `steady.intervals` intervals "
		"before the fault (skipping earlier faults until they recovered);\n"
		"- `throughput_drop`: 100% less the throughput of the intervals wholly inside the fault "
		"(those it overlaps when it is shorter than one) as a share of the steady one; "
		"`max_drop`: the same for the worst interval from the injection until recovery (an "
		"operation counts when it ends: a client that catches up after the fault shows its "
		"backlog in the intervals after it, so `max_drop` is the measure of a stall);\n"
		"- `p99_during`: the highest p99 of the intervals from the injection until recovery, "
		"including the first interval ending after the healing (where stalled operations "
		"end);\n"
		"- `recovery_time`: from healing to the start of the first of `stable.intervals` "
		"consecutive intervals within `band` of the steady throughput (0 when it never left the "
		"band); a fault that did not recover breaks any `recovery_time` limit;\n"
		"- over the whole run, `availability`: the share of time in intervals whose successful "
		"throughput was at least `availability.floor` of the normal one (the median outside "
		"faults), and `success_rate`: successful operations of all (error series count as "
		"failed).\n"
		"\n"
		"A limit is `metric op value`: `<`, `<=`, `>` or `>=`; percentages with or without `%`, "
		"durations with `ms`, `s`, `m` or `h`, latencies with `ns`, `us`, `ms` or `s`. A number "
		"that cannot be told (no steady state before the fault) breaks its limit. The verdict "
		"table (per fault: kind, nodes, window, steady throughput, drop, max drop, p99 during, "
		"recovery time, verdict) is in controller/artifact_checkers/artifact_checker-<alias>.log "
		"and the run's summary, every number in <client_group>/fault-impact.json. Times are "
		"seconds since the workload started. A run without faults fails the check.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: kvload\n"
		   "        properties:\n"
		   "          duration: 60s\n"
		   "      pause_one:\n"
		   "        module: pause\n"
		   "        properties:\n"
		   "          delay: 20s\n"
		   "          duration: 5s\n"
		   "  artifact_checkers:\n"
		   "    survived:\n"
		   "      artifact_checker: fault_impact\n"
		   "      properties:\n"
		   "        thresholds:\n"
		   "          - \"recovery_time < 10s\"\n"
		   "          - \"availability > 90%\"\n",
	.props = props,
	.validate = validate,
	.artifact_checker = &ops,
};
