/*
 * performance_thresholds.c: the `performance_thresholds` artifact checker: declarative
 * limits on the performance a run measured (`read: p99 < 2ms`, `throughput > 50000`,
 * `errors < 0.1%`), judged on the client group's interval logs (report/perf.h) and
 * printed as a verdict table; a broken limit fails the run, so CI gets a one-line gate.
 *
 * A limit is `[series:] metric op value[unit]`. Every limit is parsed when the definition
 * is checked (the validate hook), so a typo is reported with its line and column before
 * anything runs; at the end of the run the same parser reads it again.
 */
#include "util/common.h"

#include <ctype.h>
#include <math.h>

#include "components/component.h"
#include "engine/run.h"
#include "report/perf.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/strutil.h"

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

/* ---- limits ---- */

enum mkind { MK_COUNT, MK_RATE, MK_ERRORS, MK_LATENCY, MK_DURATION };
enum stat { ST_NONE, ST_MIN, ST_MEAN, ST_PCT, ST_MAX };

static const struct metric {
	const char *name;
	enum mkind kind;
	enum stat stat;
	double pct;
} metrics[] = {
	{"count", MK_COUNT, ST_NONE, 0},     {"throughput", MK_RATE, ST_NONE, 0}, {"ops", MK_RATE, ST_NONE, 0},
	{"errors", MK_ERRORS, ST_NONE, 0},   {"min", MK_LATENCY, ST_MIN, 0},      {"mean", MK_LATENCY, ST_MEAN, 0},
	{"avg", MK_LATENCY, ST_MEAN, 0},     {"p50", MK_LATENCY, ST_PCT, 50},     {"median", MK_LATENCY, ST_PCT, 50},
	{"p90", MK_LATENCY, ST_PCT, 90},     {"p95", MK_LATENCY, ST_PCT, 95},     {"p99", MK_LATENCY, ST_PCT, 99},
	{"p999", MK_LATENCY, ST_PCT, 99.9},  {"p99.9", MK_LATENCY, ST_PCT, 99.9}, {"p9999", MK_LATENCY, ST_PCT, 99.99},
	{"p99.99", MK_LATENCY, ST_PCT, 99.99}, {"max", MK_LATENCY, ST_MAX, 0},   {"duration", MK_DURATION, ST_NONE, 0},
};

static const struct unit {
	const char *name;
	enum mkind kind;
	double scale; /* to ns (latency) or s (duration) */
} units[] = {
	{"ns", MK_LATENCY, 1},       {"us", MK_LATENCY, 1e3},    {"\xc2\xb5s", MK_LATENCY, 1e3},
	{"ms", MK_LATENCY, 1e6},     {"s", MK_LATENCY, 1e9},     {"ms", MK_DURATION, 1e-3},
	{"s", MK_DURATION, 1},       {"m", MK_DURATION, 60},     {"min", MK_DURATION, 60},
	{"h", MK_DURATION, 3600},
};

enum op { OP_LT, OP_LE, OP_GT, OP_GE };

/* One parsed limit. */
struct limit {
	char *text;                /* as the user wrote it (owned) */
	char *sel;                 /* series selector (owned); NULL: every series */
	const struct metric *m;
	enum op op;
	double value;              /* in ns (latency), s (duration), ops/s, a count or a percentage */
	bool percent;              /* errors as a share of all operations */
	const char *unit;          /* the unit written (latency, duration), for the measured value */
	double unit_scale;
};

/* Where a limit's text is in the user's file: column of each byte offset. */
struct where {
	struct fo_pos pos;         /* of byte 0 */
	size_t split;              /* offsets from here on are at pos2 + (off - split) */
	struct fo_pos pos2;
	bool has_pos;
};

static struct fo_pos where_at(const struct where *w, size_t off)
{
	struct fo_pos p = off >= w->split ? w->pos2 : w->pos;
	size_t rel = off >= w->split ? off - w->split : off;
	if (w->has_pos && p.col > 0)
		p.col += (int)rel;
	return p;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_';
}

/*
 * Parses limit text s into *l. On a mistake returns false with the reason in why (and its
 * byte offset in *at).
 */
static bool parse_limit(const char *s, struct limit *l, struct fo_buf *why, size_t *at)
{
	*l = (struct limit){0};
	size_t n = strlen(s);
	const char *opc = strpbrk(s, "<>");
	if (!opc) {
		const char *eq = strchr(s, '=');
		*at = eq ? (size_t)(eq - s) : n;
		fo_buf_adds(why, eq ? "'=' is not a comparison: use <, <=, > or >="
				    : "no comparison: a limit reads `[series:] metric < value` (or <=, >, >=)");
		return false;
	}
	size_t o = (size_t)(opc - s);
	/* The metric: the word just before the comparison. */
	size_t me = o;
	while (me > 0 && isspace((unsigned char)s[me - 1]))
		me--;
	size_t mb = me;
	while (mb > 0 && word_char(s[mb - 1]))
		mb--;
	if (mb == me) {
		*at = o;
		fo_buf_adds(why, "no metric before the comparison (count, throughput, errors, min, mean, p50, p90, p95, "
				 "p99, p999, p9999, max or duration)");
		return false;
	}
	char *mname = fo_strndup(s + mb, me - mb);
	for (size_t i = 0; i < FO_ARRAY_LEN(metrics); i++)
		if (strcasecmp(metrics[i].name, mname) == 0)
			l->m = &metrics[i];
	if (!l->m) {
		const char *names[FO_ARRAY_LEN(metrics)];
		for (size_t i = 0; i < FO_ARRAY_LEN(metrics); i++)
			names[i] = metrics[i].name;
		const char *sug = fo_suggest(mname, names, FO_ARRAY_LEN(metrics));
		*at = mb;
		fo_buf_addf(why, "unknown metric '%s'", mname);
		if (sug)
			fo_buf_addf(why, " (did you mean '%s'?)", sug);
		else
			fo_buf_adds(why, " (count, throughput, errors, min, mean, p50, p90, p95, p99, p999, p9999, max "
					 "or duration)");
		fo_free(mname);
		return false;
	}
	fo_free(mname);
	/* The series: everything before a ':' that comes before the metric. */
	size_t sb = 0, se = mb;
	while (se > 0 && isspace((unsigned char)s[se - 1]))
		se--;
	if (se > 0) {
		if (s[se - 1] != ':') {
			*at = se - 1;
			fo_buf_adds(why, "expected ':' between the series and the metric (`series: metric < value`)");
			return false;
		}
		se--;
		while (sb < se && isspace((unsigned char)s[sb]))
			sb++;
		while (se > sb && isspace((unsigned char)s[se - 1]))
			se--;
		if (se == sb) {
			*at = sb;
			fo_buf_adds(why, "no series before ':' (a series name, a tag, or *)");
			return false;
		}
		if (!(se - sb == 1 && s[sb] == '*'))
			l->sel = fo_strndup(s + sb, se - sb);
	}
	/* The comparison. */
	size_t v = o + 1;
	bool lt = s[o] == '<';
	bool eq = s[v] == '=';
	if (eq)
		v++;
	l->op = lt ? (eq ? OP_LE : OP_LT) : (eq ? OP_GE : OP_GT);
	if (s[v] == '<' || s[v] == '>' || s[v] == '=') {
		*at = v;
		fo_buf_adds(why, "unknown comparison: use <, <=, > or >=");
		return false;
	}
	/* The value: a number, then a unit. */
	while (isspace((unsigned char)s[v]))
		v++;
	size_t nb = v;
	while (isdigit((unsigned char)s[v]))
		v++;
	if (s[v] == '.') {
		v++;
		while (isdigit((unsigned char)s[v]))
			v++;
	}
	double num;
	char *digits = fo_strndup(s + nb, v - nb);
	bool ok = v > nb && !(v - nb == 1 && s[nb] == '.') && fo_parse_double(digits, &num);
	fo_free(digits);
	if (!ok) {
		*at = nb;
		fo_buf_adds(why, nb < n ? "the value must be a number (with a unit for times)" : "no value after the comparison");
		return false;
	}
	while (isspace((unsigned char)s[v]))
		v++;
	size_t ub = v, ue = n;
	while (ue > ub && isspace((unsigned char)s[ue - 1]))
		ue--;
	char *unit = fo_strndup(s + ub, ue - ub);
	enum mkind k = l->m->kind;
	ok = true;
	if (k == MK_LATENCY || k == MK_DURATION) {
		const struct unit *u = NULL;
		for (size_t i = 0; i < FO_ARRAY_LEN(units); i++)
			if (units[i].kind == k && strcmp(units[i].name, unit) == 0)
				u = &units[i];
		if (!u) {
			ok = false;
			if (!*unit)
				fo_buf_addf(why, "%s needs a unit (%s)", k == MK_LATENCY ? "a latency" : "a duration",
					    k == MK_LATENCY ? "ns, us, ms or s" : "ms, s, m or h");
			else
				fo_buf_addf(why, "unknown unit '%s' for %s (use %s)", unit,
					    k == MK_LATENCY ? "a latency" : "a duration",
					    k == MK_LATENCY ? "ns, us, ms or s" : "ms, s, m or h");
		} else {
			l->unit = u->name;
			l->unit_scale = u->scale;
			l->value = num * u->scale;
		}
	} else if (k == MK_ERRORS && strcmp(unit, "%") == 0) {
		l->percent = true;
		l->value = num;
	} else if (k == MK_RATE && (strcmp(unit, "/s") == 0 || strcmp(unit, "op/s") == 0 || strcmp(unit, "ops/s") == 0)) {
		l->value = num;
	} else if (*unit) {
		ok = false;
		fo_buf_addf(why, "unexpected '%s' after the value: %s takes %s", unit, l->m->name,
			    k == MK_ERRORS ? "a count or a percentage (0.1%)"
			    : k == MK_RATE ? "operations per second (a plain number)"
					   : "a plain number");
	} else {
		l->value = num;
	}
	fo_free(unit);
	if (!ok) {
		*at = ub;
		return false;
	}
	l->text = fo_strdup(s);
	return true;
}

static void limit_release(struct limit *l)
{
	fo_free(l->text);
	fo_free(l->sel);
	*l = (struct limit){0};
}

/* One limit as the user wrote it: its text, and where each byte of it is. */
struct entry {
	char *text;                /* owned */
	struct where w;
};

/*
 * The entries of the thresholds value: a list whose items are strings or one-pair maps
 * (`- read: p99 < 2ms` unquoted is YAML for {read: "p99 < 2ms"}), or one string of
 * comma-separated limits. Adds a diagnostic to d (when not NULL) for anything else.
 * Returns an owned array (*n entries).
 */
static struct entry *entries(const struct fo_propset *ps, const struct fo_propval *v, const char *who,
			     size_t *n, struct fo_diags *d)
{
	struct entry *e = NULL;
	size_t k = 0, cap = 0;
	const struct fo_ynode *node = v->node;
	*n = 0;
	if (!node)
		return NULL;
	const struct fo_ynode *one[1] = {node};
	const struct fo_ynode *const *items = node->kind == FO_YSEQ ? (const struct fo_ynode *const *)node->items : one;
	size_t nitems = node->kind == FO_YSEQ ? node->nitems : 1;
	for (size_t i = 0; i < nitems; i++) {
		const struct fo_ynode *it = items[i];
		if (it->kind == FO_YSCALAR && !fo_ynode_is_null(it)) {
			/* Several limits may share one string, separated by commas. */
			const char *s = it->str;
			while (*s) {
				const char *c = strchr(s, ',');
				size_t len = c ? (size_t)(c - s) : strlen(s);
				size_t b = 0;
				while (b < len && isspace((unsigned char)s[b]))
					b++;
				size_t t = len;
				while (t > b && isspace((unsigned char)s[t - 1]))
					t--;
				if (t > b) {
					FO_GROW(e, cap, k + 1);
					struct fo_pos p = it->pos;
					p.col += (int)(s + b - it->str) + (it->quoted ? 1 : 0);
					e[k++] = (struct entry){.text = fo_strndup(s + b, t - b),
								.w = {.pos = p, .split = SIZE_MAX, .has_pos = true}};
				}
				s += len + (c ? 1 : 0);
			}
		} else if (it->kind == FO_YMAP && it->npairs == 1 && it->pairs[0].value->kind == FO_YSCALAR) {
			const struct fo_ypair *pr = &it->pairs[0];
			struct fo_buf t = FO_BUF_INIT;
			fo_buf_addf(&t, "%s: ", pr->key->str);
			size_t split = t.len;
			fo_buf_adds(&t, fo_ynode_is_null(pr->value) ? "" : pr->value->str);
			struct fo_pos p1 = pr->key->pos, p2 = pr->value->pos;
			p1.col += pr->key->quoted ? 1 : 0;
			p2.col += pr->value->quoted ? 1 : 0;
			FO_GROW(e, cap, k + 1);
			e[k++] = (struct entry){.text = fo_buf_detach(&t, NULL),
						.w = {.pos = p1, .split = split, .pos2 = p2, .has_pos = true}};
		} else if (d) {
			fo_diags_error(d, &it->pos,
				       "each limit in 'thresholds' of artifact checker '%s' must be a string such as "
				       "'read: p99 < 2ms', not %s",
				       who, fo_ynode_describe(it));
		}
	}
	if (k == 0 && d && (node->kind != FO_YSEQ || nitems == 0))
		fo_diags_error(d, &node->pos, "'thresholds' of artifact checker '%s' needs at least one limit, such as "
					      "'p99 < 2ms'",
			       who);
	FO_UNUSED(ps);
	*n = k;
	return e;
}

static void entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_free(e[i].text);
	fo_free(e);
}

/* Every limit parses; a mistake is reported at its column. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	const struct fo_propval *v = fo_props_get(ps, "thresholds");
	if (!v || !v->set)
		return;
	size_t n;
	struct entry *e = entries(ps, v, who, &n, d);
	for (size_t i = 0; i < n; i++) {
		struct limit l;
		struct fo_buf why = FO_BUF_INIT;
		size_t at = 0;
		if (!parse_limit(e[i].text, &l, &why, &at)) {
			struct fo_pos p = where_at(&e[i].w, at);
			fo_diags_error(d, &p, "invalid limit '%s' in 'thresholds' of artifact checker '%s': %s", e[i].text,
				       who, why.s);
		}
		limit_release(&l);
		fo_buf_release(&why);
	}
	entries_free(e, n);
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

static bool holds(double measured, enum op op, double limit)
{
	switch (op) {
	case OP_LT:
		return measured < limit;
	case OP_LE:
		return measured <= limit;
	case OP_GT:
		return measured > limit;
	case OP_GE:
		return measured >= limit;
	}
	return false;
}

/* A number without useless decimals: "50000", "1.5", "0.001". */
static void fmt_num(char *out, size_t n, double v)
{
	snprintf(out, n, "%.3f", v);
	char *dot = strchr(out, '.');
	if (!dot)
		return;
	char *end = out + strlen(out);
	while (end > dot + 1 && end[-1] == '0')
		*--end = '\0';
	if (end == dot + 1)
		*dot = '\0';
}

/* The measured value of l on series s, in l's units, and its text. */
static double measure(const struct limit *l, const struct fo_perf_series *s, char *text, size_t n)
{
	struct fo_perf_summary sum;
	fo_perf_summarize(s, &sum);
	const struct fo_hdr *h = &s->total;
	double v = 0;
	switch (l->m->kind) {
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
		switch (l->m->stat) {
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

static void no_series(struct table *t, const struct limit *l, const struct fo_perf *p, const char *group)
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
static void judge_errors(struct table *t, const struct limit *l, const struct fo_perf *p, const char *group)
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
			fmt_num(num, sizeof(num), v);
			snprintf(text, sizeof(text), "%s%% (%lld of %lld)", num, (long long)errs, (long long)all);
		} else {
			v = (double)errs;
			snprintf(text, sizeof(text), "%lld", (long long)errs);
		}
		add_row(t, l->text, base, text, holds(v, l->op, l->value) ? "ok" : "BROKEN");
	}
}

static void judge(struct table *t, const struct limit *l, const struct fo_perf *p, const char *group)
{
	if (l->m->kind == MK_ERRORS) {
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
		bool ok = holds(v, l->op, l->value);
		if (l->m->kind != MK_COUNT && fo_hdr_total(&s->total) == 0) {
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
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	const char *gname = fo_props_str(ps, "client_group", "client");
	struct fo_rgroup *g = fo_run_group(r, gname);
	if (!g) {
		*passed = false;
		fo_buf_addf(msg, "there is no node group '%s'", gname);
		return 0;
	}
	size_t ne = 0;
	const struct fo_propval *v = fo_props_get(ps, "thresholds");
	struct entry *e = v && v->set ? entries(ps, v, who, &ne, NULL) : NULL;
	struct limit *ls = fo_calloc(ne + 1, sizeof(*ls));
	for (size_t i = 0; i < ne; i++) {
		struct fo_buf why = FO_BUF_INIT;
		size_t at;
		if (!parse_limit(e[i].text, &ls[i], &why, &at)) {
			/* Validation refuses these; a definition that skipped it still fails clearly. */
			int rc = fo_err_set(err, FO_EDEFINITION, "invalid limit '%s': %s", e[i].text, why.s);
			fo_buf_release(&why);
			for (size_t k = 0; k <= i; k++)
				limit_release(&ls[k]);
			fo_free(ls);
			entries_free(e, ne);
			return rc;
		}
		fo_buf_release(&why);
	}
	entries_free(e, ne);

	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/%s", fo_run_dir(r), g->spec->name);
	struct fo_perf p;
	struct fo_err e2 = {0};
	int rc = fo_perf_load_group(&p, dir.s, NULL, &e2);
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
	for (size_t i = 0; i < ne; i++)
		limit_release(&ls[i]);
	fo_free(ls);
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
