/*
 * impact.c: fault windows from the history, measurements from the interval logs, and the
 * numbers of impact.h. Everything is computed on interval boundaries: a log's interval
 * is the finest time the clients measured, so a fault is seen through the intervals it
 * overlaps, and a recovery starts where an interval starts.
 */
#include "util/common.h"

#include <jansson.h>
#include <math.h>
#include <time.h>

#include "analysis/impact.h"
#include "engine/history.h"
#include "report/perf.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

/* Epoch seconds above this are absolute times (1973); below, offsets from a log's start. */
#define ABSOLUTE_S 1e8
/* Interval boundaries closer than this are the same instant (logs keep ms). */
#define EPS_S 1e-4
/* Intervals of several series starting within this share of a length are one interval. */
#define SAME_SLOT 0.2

/* ---- faults from the history ---- */

/* "2026-11-30T07:40:00.123Z" as s since the epoch; 0 when s is not such a time. */
static double parse_wall(const char *s)
{
	struct tm tm = {0};
	int ms = 0, used = 0;
	if (!s ||
	    sscanf(s, "%d-%d-%dT%d:%d:%d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &ms, &used) != 7 ||
	    used == 0)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

/* The nodes of a fault event, "a, b". Returns owned. */
static char *nodes_text(json_t *nodes)
{
	struct fo_buf b = FO_BUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach(nodes, i, v)
	{
		if (json_is_string(v))
			fo_buf_addf(&b, "%s%s", b.len ? ", " : "", json_string_value(v));
	}
	return fo_buf_detach(&b, NULL);
}

/* Appends why to *error ("; " between). */
static void add_error(char **error, const char *why)
{
	if (!why)
		return;
	struct fo_buf b = FO_BUF_INIT;
	if (*error)
		fo_buf_addf(&b, "%s; ", *error);
	fo_buf_adds(&b, why);
	fo_free(*error);
	*error = fo_buf_detach(&b, NULL);
}

/* Faults being read: the list, and which of them are still open. */
struct reading {
	struct fo_fault_window *v;
	bool *open;
	size_t n, cap, open_cap;
};

/* The open fault of process, or NULL. */
static struct fo_fault_window *open_of(struct reading *r, const char *process)
{
	for (size_t i = r->n; i-- > 0;)
		if (r->open[i] && strcmp(r->v[i].process, process) == 0) {
			r->open[i] = false; /* the caller closes it */
			return &r->v[i];
		}
	return NULL;
}

/* Closes a fault that had no heal: it was healed at once. */
static void heal_at_once(struct fo_fault_window *f)
{
	if (f) {
		f->end_s = f->start_s;
		f->wall_end_s = f->wall_start_s;
	}
}

static void on_event(struct reading *r, const struct fo_op *op, json_t *ev)
{
	const char *action = json_string_value(json_object_get(ev, "action"));
	const char *kind = json_string_value(json_object_get(ev, "fault"));
	const char *error = json_string_value(json_object_get(ev, "error"));
	double t = (double)op->time_ns / 1e9;
	if (!action || !kind)
		return;
	if (strcmp(action, "inject") == 0) {
		heal_at_once(open_of(r, op->process));
		FO_GROW(r->v, r->cap, r->n + 1);
		if (r->open_cap < r->cap) {
			r->open = fo_reallocarray(r->open, r->cap, sizeof(*r->open));
			r->open_cap = r->cap;
		}
		r->v[r->n] = (struct fo_fault_window){
		    .process = fo_strdup(op->process),
		    .kind = fo_strdup(kind),
		    .nodes = nodes_text(json_object_get(ev, "nodes")),
		    .error = error ? fo_strdup(error) : NULL,
		    .start_s = t,
		    .end_s = NAN,
		    .wall_start_s = parse_wall(json_string_value(json_object_get(ev, "start"))),
		};
		r->open[r->n++] = true;
	} else if (strcmp(action, "heal") == 0) {
		struct fo_fault_window *f = open_of(r, op->process);
		if (!f)
			return;
		json_t *d = json_object_get(ev, "duration_s");
		f->end_s = t;
		/* The injection's own time: the event is written once the fault is in place. */
		if (json_is_number(d) && json_number_value(d) >= 0 && t - json_number_value(d) <= f->start_s)
			f->start_s = t - json_number_value(d);
		f->wall_end_s = parse_wall(json_string_value(json_object_get(ev, "end")));
		if (f->wall_end_s == 0 && f->wall_start_s > 0)
			f->wall_end_s = f->wall_start_s + (f->end_s - f->start_s);
		add_error(&f->error, error);
	}
}

struct fo_fault_window *fo_impact_faults(const struct fo_op *ops, size_t nops, size_t *n)
{
	struct reading r = {0};
	for (size_t i = 0; i < nops; i++) {
		const struct fo_op *op = &ops[i];
		if (op->type == FO_OP_INFO && op->value && op->value[0] == '{') {
			json_t *ev = json_loads(op->value, 0, NULL);
			if (json_is_object(ev))
				on_event(&r, op, ev);
			json_decref(ev);
		} else if (op->type == FO_OP_OK || op->type == FO_OP_FAIL || op->type == FO_OP_END) {
			heal_at_once(open_of(&r, op->process)); /* its module is done with it */
		}
	}
	fo_free(r.open);
	*n = r.n;
	return r.v;
}

void fo_impact_faults_free(struct fo_fault_window *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fo_free(v[i].process);
		fo_free(v[i].kind);
		fo_free(v[i].nodes);
		fo_free(v[i].error);
	}
	fo_free(v);
}

/* The operations of a history file; the strings point into the parsed lines (kept). */
struct file_ops {
	struct fo_op *ops;
	json_t **lines;
	size_t n, cap, lcap;
};

int fo_impact_load_faults(const char *history_path, struct fo_fault_window **out, size_t *n, struct fo_err *err)
{
	*out = NULL;
	*n = 0;
	FILE *f = fopen(history_path, "r");
	if (!f)
		return errno == ENOENT ? 0
				       : fo_err_set(err, FO_EIO, "cannot read '%s': %s", history_path, strerror(errno));
	struct file_ops fo = {0};
	char *line = NULL;
	size_t len = 0;
	long lineno = 0;
	int rc = 0;
	while (!rc && getline(&line, &len, f) > 0) {
		lineno++;
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		if (!json_is_object(j)) {
			json_decref(j);
			/* A run killed while writing leaves a partial last line: only that is forgiven. */
			int c = fgetc(f);
			if (c != EOF)
				rc = fo_err_set(err, FO_EPARSE, "%s:%ld: not a JSON object: %s", history_path, lineno,
						je.text);
			continue;
		}
		FO_GROW(fo.lines, fo.lcap, fo.n + 1);
		FO_GROW(fo.ops, fo.cap, fo.n + 1);
		fo.lines[fo.n] = j;
		json_t *t = json_object_get(j, "time");
		const char *type = json_string_value(json_object_get(j, "type"));
		const char *proc = json_string_value(json_object_get(j, "process"));
		struct fo_op *op = &fo.ops[fo.n++];
		*op = (struct fo_op){
		    .time_ns = json_is_number(t) ? (int64_t)json_number_value(t) : 0,
		    .process = proc ? proc : "",
		    .module = json_string_value(json_object_get(j, "module")),
		    .type = FO__OP_COUNT,
		    .media_type = json_string_value(json_object_get(j, "mediaType")),
		    .value = json_string_value(json_object_get(j, "value")),
		};
		if (!type || fo_op_type_parse(type, &op->type) != 0)
			op->type = FO__OP_COUNT; /* not one the faults care about */
	}
	free(line);
	fclose(f);
	if (!rc)
		*out = fo_impact_faults(fo.ops, fo.n, n);
	for (size_t i = 0; i < fo.n; i++)
		json_decref(fo.lines[i]);
	fo_free(fo.lines);
	fo_free(fo.ops);
	return rc;
}

double fo_impact_wall_zero(const struct fo_fault_window *v, size_t n)
{
	/* A healed fault's start is exact on both clocks; an injection's event comes later. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if (v[i].wall_start_s > 0 && (pass == 1 || v[i].end_s > v[i].start_s))
				return v[i].wall_start_s - v[i].start_s;
	return 0;
}

void fo_impact_window(const struct fo_fault_window *f, double wall_zero, double *start, double *end)
{
	if (wall_zero > 0 && f->wall_start_s > 0) {
		*start = f->wall_start_s - wall_zero;
		*end = isnan(f->end_s)	   ? NAN
		       : f->wall_end_s > 0 ? f->wall_end_s - wall_zero
					   : *start + (f->end_s - f->start_s);
		return;
	}
	*start = f->start_s;
	*end = f->end_s;
}

/* ---- measurements from the logs ---- */

bool fo_impact_absolute(const struct fo_perf *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->s[i].niv && p->s[i].start_s > ABSOLUTE_S)
			return true;
	return false;
}

/* Does sel pick s? by: 0 its full name, 1 its tag, 2 its log's name. */
static bool picks(const char *sel, const struct fo_perf_series *s, int by)
{
	if (by == 0)
		return strcmp(s->name, sel) == 0;
	if (by == 1)
		return s->tag && strcmp(s->tag, sel) == 0;
	return strcmp(s->base, sel) == 0;
}

/* One interval of one series, before the series are united. */
struct item {
	double start, length, p99;
	int64_t count;
	bool failed;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void add_items(struct item **v, size_t *n, size_t *cap, const struct fo_perf_series *s, double zero)
{
	for (size_t i = 0; i < s->niv; i++) {
		const struct fo_perf_interval *iv = &s->iv[i];
		FO_GROW(*v, *cap, *n + 1);
		(*v)[(*n)++] = (struct item){.start = s->start_s + iv->start_s - zero,
					     .length = iv->length_s,
					     .p99 = iv->count ? iv->p99_ms : NAN,
					     .count = iv->count,
					     .failed = s->is_error};
	}
}

/* Unites sorted items into points: those starting within a fifth of an interval of a
 * point's start are the same interval. */
static void unite(struct fo_impact_series *out, struct item *v, size_t n)
{
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		struct fo_impact_point *p = out->n ? &out->pt[out->n - 1] : NULL;
		if (!p || v[i].start >= p->start_s + SAME_SLOT * p->length_s) {
			FO_GROW(out->pt, cap, out->n + 1);
			p = &out->pt[out->n++];
			*p = (struct fo_impact_point){.start_s = v[i].start, .length_s = v[i].length, .p99_ms = NAN};
		}
		if (v[i].length > p->length_s)
			p->length_s = v[i].length;
		if (v[i].failed) {
			p->failed += v[i].count;
			continue;
		}
		p->ok += v[i].count;
		if (!isnan(v[i].p99) && (isnan(p->p99_ms) || v[i].p99 > p->p99_ms))
			p->p99_ms = v[i].p99;
	}
	for (size_t i = 0; i < out->n; i++)
		out->pt[i].ops_s = out->pt[i].length_s > 0 ? (double)out->pt[i].ok / out->pt[i].length_s : 0;
}

struct fo_impact_series *fo_impact_series_from_perf(const struct fo_perf *p, const char *sel, double zero, size_t *n)
{
	int by = 2;
	if (sel) {
		by = -1;
		for (int k = 0; k < 3 && by < 0; k++)
			for (size_t i = 0; i < p->n && by < 0; i++)
				if (!p->s[i].is_error && picks(sel, &p->s[i], k))
					by = k;
	}
	struct fo_impact_series *out = NULL;
	size_t nout = 0, cap = 0;
	for (size_t i = 0; by >= 0 && i < p->n; i++) {
		const char *base = p->s[i].base;
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(p->s[k].base, base) == 0;
		if (seen)
			continue;
		/* The log's series that are measured: all of it, or the ones picked. */
		struct item *items = NULL;
		size_t ni = 0, icap = 0, picked = 0, last = 0;
		bool errors = false;
		for (size_t k = i; k < p->n; k++) {
			const struct fo_perf_series *s = &p->s[k];
			if (strcmp(s->base, base) != 0)
				continue;
			/* The whole log (its error series too), or the series picked by name or tag. */
			bool take = !sel || by == 2 ? !sel || picks(sel, s, 2) : !s->is_error && picks(sel, s, by);
			if (take) {
				add_items(&items, &ni, &icap, s, zero);
				errors |= s->is_error;
				if (!s->is_error) {
					picked++;
					last = k;
				}
			}
		}
		if (picked) {
			qsort(items, ni, sizeof(*items), cmp_item);
			FO_GROW(out, cap, nout + 1);
			struct fo_impact_series *m = &out[nout++];
			*m = (struct fo_impact_series){
			    .name = fo_strdup(sel && by < 2 && picked == 1 ? p->s[last].name : base),
			    .has_errors = errors};
			unite(m, items, ni);
		}
		fo_free(items);
	}
	*n = nout;
	return out;
}

void fo_impact_series_free(struct fo_impact_series *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fo_free(v[i].name);
		fo_free(v[i].pt);
	}
	fo_free(v);
}

/* ---- the numbers ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (reordered); NAN when n is 0. */
static double median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Does point p overlap [a, b]? A window of no length holds the interval around a. */
static bool overlaps(const struct fo_impact_point *p, double a, double b)
{
	double end = p->start_s + p->length_s;
	if (b > a)
		return p->start_s < b - EPS_S && end > a + EPS_S;
	return p->start_s <= a + EPS_S && end > a + EPS_S;
}

/* Does point p lie wholly inside [a, b]? */
static bool within(const struct fo_impact_point *p, double a, double b)
{
	return p->start_s >= a - EPS_S && p->start_s + p->length_s <= b + EPS_S;
}

/* A stretch of time some fault disturbed. */
struct span {
	double from, to;
};

static bool disturbed(const struct fo_impact_point *p, const struct span *d, size_t nd)
{
	for (size_t i = 0; i < nd; i++)
		if (p->start_s < d[i].to - EPS_S && p->start_s + p->length_s > d[i].from + EPS_S)
			return true;
	return false;
}

/* The steady state before a: the last o->steady_intervals undisturbed intervals ending by a. */
static void steady(const struct fo_impact_series *s, double a, const struct span *d, size_t nd,
		   const struct fo_impact_opts *o, struct fo_fault_impact *r)
{
	size_t want = o->steady_intervals > 0 ? (size_t)o->steady_intervals : 1;
	double *ops = fo_calloc(want, sizeof(*ops)), *p99 = fo_calloc(want, sizeof(*p99));
	size_t n = 0, np = 0;
	for (size_t i = s->n; i-- > 0 && n < want;) {
		const struct fo_impact_point *p = &s->pt[i];
		if (p->start_s + p->length_s > a + EPS_S || disturbed(p, d, nd))
			continue;
		ops[n++] = p->ops_s;
		if (!isnan(p->p99_ms))
			p99[np++] = p->p99_ms;
	}
	r->steady_n = n;
	r->steady_ops_s = median(ops, n);
	r->steady_p99_ms = median(p99, np);
	fo_free(ops);
	fo_free(p99);
}

/* The first of o->stable_intervals in-band intervals ending after b; false when none. */
static bool recovery(const struct fo_impact_series *s, double b, const struct fo_impact_opts *o,
		     struct fo_fault_impact *r)
{
	double band = fabs(r->steady_ops_s) * o->band_pct / 100;
	int need = o->stable_intervals > 0 ? o->stable_intervals : 1, run = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct fo_impact_point *p = &s->pt[i];
		if (p->start_s + p->length_s <= b + EPS_S)
			continue;
		run = fabs(p->ops_s - r->steady_ops_s) <= band ? run + 1 : 0;
		if (run == need) {
			double at = s->pt[i + 1 - (size_t)need].start_s;
			r->recovery_s = at > b ? at - b : 0;
			r->recovered_at_s = b + r->recovery_s;
			return true;
		}
	}
	return false;
}

/* What fault k did, given the spans earlier faults disturbed. */
static void one_fault(const struct fo_impact_series *s, const struct fo_fault_window *f, const struct span *d,
		      size_t nd, const struct fo_impact_opts *o, struct fo_fault_impact *r)
{
	double a, b;
	fo_impact_window(f, o->wall_zero, &a, &b);
	double b_eff = isnan(b) ? INFINITY : b;
	*r = (struct fo_fault_impact){.start_s = a,
				      .end_s = b,
				      .during_ops_s = NAN,
				      .drop_pct = NAN,
				      .min_ops_s = NAN,
				      .max_drop_pct = NAN,
				      .p99_during_ms = NAN,
				      .recovery_s = INFINITY,
				      .recovered_at_s = NAN};
	steady(s, a, d, nd, o, r);
	/* Throughput during: the intervals wholly inside the fault, else those it overlaps. */
	bool inside = false;
	for (size_t i = 0; i < s->n && !inside; i++)
		inside = b_eff > a && within(&s->pt[i], a, b_eff);
	double len = 0;
	int64_t ok = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct fo_impact_point *p = &s->pt[i];
		if (inside ? within(p, a, b_eff) : overlaps(p, a, b_eff)) {
			len += p->length_s;
			ok += p->ok;
		}
	}
	if (len > 0)
		r->during_ops_s = (double)ok / len;
	if (r->steady_n && isfinite(b))
		r->recovered = recovery(s, b, o, r);
	/* The worst interval from injection until recovery (or the end of the data). */
	double until = r->recovered ? r->recovered_at_s : INFINITY;
	for (size_t i = 0; i < s->n; i++)
		if (overlaps(&s->pt[i], a, until > a ? until : a) &&
		    (isnan(r->min_ops_s) || s->pt[i].ops_s < r->min_ops_s))
			r->min_ops_s = s->pt[i].ops_s;
	/* p99 during: until recovery, and at least until the end of the first interval ending
	 * after healing (operations the fault stalled end once it is healed). */
	if (isfinite(b)) {
		double first = b;
		for (size_t i = 0; i < s->n && first == b; i++)
			if (s->pt[i].start_s + s->pt[i].length_s > b + EPS_S)
				first = s->pt[i].start_s + s->pt[i].length_s;
		until = r->recovered ? fmax(r->recovered_at_s, first) : r->steady_n ? INFINITY : first;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct fo_impact_point *p = &s->pt[i];
		if (overlaps(p, a, until > a ? until : a) && !isnan(p->p99_ms) &&
		    (isnan(r->p99_during_ms) || p->p99_ms > r->p99_during_ms))
			r->p99_during_ms = p->p99_ms;
	}
	if (r->steady_n && r->steady_ops_s > 0) {
		r->drop_pct = 100 * (1 - r->during_ops_s / r->steady_ops_s);
		r->max_drop_pct = 100 * (1 - r->min_ops_s / r->steady_ops_s);
	}
}

/* A fault's place in the order of injection. */
struct start {
	double at;
	size_t i;
};

static int cmp_start(const void *x, const void *y)
{
	const struct start *a = x, *b = y;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

void fo_impact_compute(const struct fo_impact_series *s, const struct fo_fault_window *faults, size_t nf,
		       const struct fo_impact_opts *o, struct fo_impact *im)
{
	*im = (struct fo_impact){.f = fo_calloc(nf + 1, sizeof(*im->f)), .n = nf};
	/* In order of injection: earlier faults' disturbances are known for later ones. */
	struct start *order = fo_calloc(nf + 1, sizeof(*order));
	for (size_t i = 0; i < nf; i++) {
		double end;
		fo_impact_window(&faults[i], o->wall_zero, &order[i].at, &end);
		order[i].i = i;
	}
	qsort(order, nf, sizeof(*order), cmp_start);
	struct span *d = fo_calloc(nf + 1, sizeof(*d));
	for (size_t k = 0; k < nf; k++) {
		struct fo_fault_impact *r = &im->f[order[k].i];
		one_fault(s, &faults[order[k].i], d, k, o, r);
		r->fault = order[k].i;
		/* Disturbed until it recovered; for ever when it did not; until it was healed
		 * when that cannot be told (no steady state). */
		double end = isnan(r->end_s) ? INFINITY : r->end_s;
		d[k] = (struct span){r->start_s, r->recovered ? r->recovered_at_s : r->steady_n ? INFINITY : end};
	}
	/* Availability against the normal throughput: outside every disturbance. */
	double *ops = fo_calloc(s->n + 1, sizeof(*ops));
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!disturbed(&s->pt[i], d, nf))
			ops[n++] = s->pt[i].ops_s;
	if (n == 0)
		for (size_t i = 0; i < s->n; i++)
			ops[n++] = s->pt[i].ops_s;
	im->normal_ops_s = median(ops, n);
	double floor = im->normal_ops_s * o->floor_pct / 100, up = 0, all = 0;
	int64_t ok = 0, failed = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct fo_impact_point *p = &s->pt[i];
		all += p->length_s;
		if (p->ops_s > 0 && p->ops_s >= floor)
			up += p->length_s;
		ok += p->ok;
		failed += p->failed;
	}
	im->availability_pct = all > 0 ? 100 * up / all : NAN;
	im->success_pct = ok + failed > 0 ? 100 * (double)ok / (double)(ok + failed) : NAN;
	fo_free(ops);
	fo_free(d);
	fo_free(order);
}

void fo_impact_release(struct fo_impact *im)
{
	fo_free(im->f);
	*im = (struct fo_impact){0};
}
