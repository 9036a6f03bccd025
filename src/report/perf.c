/*
 * perf.c: a run's performance data rebuilt from its HdrHistogram interval logs: the union
 * of the logs of the same name written by several client nodes (Fallout's hdrtool), the
 * summary figures of each series, performance-report.json in Fallout's schema, and the
 * per-tag CSV of Fallout's hdr_split_to_csv.
 *
 * The union itself (Fallout's rule, HdrLogProcessing's UnionHistograms) is metrics/union.c,
 * shared with `fallout hdr merge`: here each closed union becomes one interval of its
 * series, and the series' total is the sum of its unions.
 */
#include "util/common.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "metrics/hdrlog.h"
#include "metrics/union.h"
#include "report/perf.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

#define MAX_DEPTH 32          /* folders below a node's searched for logs */
#define NS_PER_MS 1e6

/* ---- finding logs ---- */

/* A log found below a group: where, how it is shown in messages, and its united name. */
struct logfile {
	char *path;    /* absolute or as given */
	char *display; /* "<group>/node0/x.hdr" */
	char *name;    /* the file name without .gz: logs with equal names are united */
	int node;      /* node ordinal, for ordering */
};

struct loglist {
	struct logfile *v;
	size_t n, cap;
};

static void loglist_release(struct loglist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		fo_free(l->v[i].path);
		fo_free(l->v[i].display);
		fo_free(l->v[i].name);
	}
	fo_free(l->v);
	*l = (struct loglist){0};
}

/* The file name without a final .gz. Returns owned. */
static char *log_name(const char *file)
{
	const char *slash = strrchr(file, '/');
	const char *b = slash ? slash + 1 : file;
	size_t n = strlen(b);
	if (n > 3 && fo_ends_with(b, ".gz"))
		n -= 3;
	return fo_strndup(b, n);
}

/* True for an interval log's name, as Fallout's hdrtool picks them (its own .union.hdr not). */
static bool is_log_name(const char *name)
{
	if (fo_ends_with(name, ".union.hdr"))
		return false;
	return fo_ends_with(name, ".hdr") || fo_ends_with(name, ".hlog") || fo_ends_with(name, ".hgrm");
}

/* The name without its log extension (.hdr, .hlog, .hgrm). Returns owned. */
static char *log_base(const char *name)
{
	static const char *const exts[] = {".hdr", ".hlog", ".hgrm"};
	size_t n = strlen(name);
	for (size_t i = 0; i < FO_ARRAY_LEN(exts); i++) {
		size_t e = strlen(exts[i]);
		if (n > e && strcmp(name + n - e, exts[i]) == 0)
			return fo_strndup(name, n - e);
	}
	return fo_strdup(name);
}

static void walk(const char *dir, const char *display, int node, int depth, struct loglist *out)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		struct fo_buf path = FO_BUF_INIT, disp = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/%s", dir, de->d_name);
		fo_buf_addf(&disp, "%s/%s", display, de->d_name);
		struct stat st;
		if (stat(path.s, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
				walk(path.s, disp.s, node, depth + 1, out);
			} else if (S_ISREG(st.st_mode)) {
				char *name = log_name(de->d_name);
				if (is_log_name(name)) {
					FO_GROW(out->v, out->cap, out->n + 1);
					out->v[out->n++] = (struct logfile){
						.path = fo_buf_detach(&path, NULL),
						.display = fo_buf_detach(&disp, NULL),
						.name = name,
						.node = node,
					};
					name = NULL;
				}
				fo_free(name);
			}
		}
		fo_buf_release(&path);
		fo_buf_release(&disp);
	}
	closedir(d);
}

/* "node<N>": sets *n. */
static bool node_folder(const char *name, int *n)
{
	int64_t v;
	if (strncmp(name, "node", 4) != 0 || !fo_parse_i64(name + 4, &v) || v < 0 || v > INT_MAX ||
	    name[4] < '0' || name[4] > '9')
		return false;
	*n = (int)v;
	return true;
}

static int cmp_logfile(const void *a, const void *b)
{
	const struct logfile *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* ---- reading, .gz included ---- */

static ssize_t gz_read(void *cookie, char *buf, size_t n)
{
	int got = gzread((gzFile)cookie, buf, n > INT_MAX ? INT_MAX : (unsigned)n);
	return got < 0 ? -1 : got;
}

static int gz_close(void *cookie)
{
	return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

/* Opens a log for reading (gunzipping a .gz). Returns NULL with errno set. */
static FILE *open_log(const char *path)
{
	if (!fo_ends_with(path, ".gz"))
		return fopen(path, "r");
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return NULL;
	FILE *f = fopencookie(gz, "r", (cookie_io_functions_t){.read = gz_read, .close = gz_close});
	if (!f)
		gzclose(gz);
	return f;
}

/* ---- uniting (metrics/union.h) ---- */

/* What uniting one set of logs (of one name) turns into series of p. */
struct unite {
	struct fo_perf *p;
	const char *base;
	size_t first_series;  /* this name's series are p->s[first_series..] */
	int64_t origin_ms;
};

static double ms(int64_t ns)
{
	return (double)ns / NS_PER_MS;
}

/* The series of tag among this name's, made on first use. */
static struct fo_perf_series *series_get(struct unite *U, const char *tag)
{
	struct fo_perf *p = U->p;
	for (size_t i = U->first_series; i < p->n; i++)
		if (fo_hdr_tag_equal(p->s[i].tag, tag))
			return &p->s[i];
	p->s = fo_reallocarray(p->s, p->n + 1, sizeof(*p->s));
	struct fo_perf_series *s = &p->s[p->n++];
	*s = (struct fo_perf_series){.base = fo_strdup(U->base), .tag = tag ? fo_strdup(tag) : NULL};
	struct fo_buf name = FO_BUF_INIT;
	fo_buf_addf(&name, "%s%s%s", U->base, tag ? ":" : "", tag ? tag : "");
	s->name = fo_buf_detach(&name, NULL);
	s->is_error = tag && (strcasestr(tag, "error") || strcasestr(tag, "fail"));
	s->start_s = (double)U->origin_ms / 1000.0;
	return s;
}

/* A closed union: one interval of its tag's series. */
static int add_union(void *ctx, const struct fo_union_tag *t, struct fo_err *err)
{
	struct unite *U = ctx;
	struct fo_perf_series *s = series_get(U, t->tag);
	const struct fo_hdr *u = &t->u;
	if (!s->total.counts) {
		/* as the unions: Java's new Histogram(sigfigs), growing */
		if (fo_hdr_init(&s->total, 1, 2, u->sigfigs))
			return fo_err_set(err, FO_EINVAL, "cannot make a histogram of %d significant digits", u->sigfigs);
		s->total.auto_resize = true;
	}
	if (fo_hdr_accumulate(&s->total, u) != 0)
		return fo_err_set(err, FO_EINVAL, "values of '%s' out of range", s->name);
	FO_GROW(s->iv, s->ivcap, s->niv + 1);
	struct fo_perf_interval *iv = &s->iv[s->niv++];
	double len = (double)(t->end_ms - t->start_ms) / 1000.0;
	int64_t n = fo_hdr_total(u);
	*iv = (struct fo_perf_interval){
		.start_s = (double)(t->start_ms - U->origin_ms) / 1000.0,
		.length_s = len,
		.count = n,
		.ops_s = (double)n / (len > 0 ? len : 1.0),
		.min_ms = ms(fo_hdr_min(u)),
		.mean_ms = fo_hdr_mean(u) / NS_PER_MS,
		.p50_ms = ms(fo_hdr_value_at_percentile(u, 50.0)),
		.p90_ms = ms(fo_hdr_value_at_percentile(u, 90.0)),
		.p95_ms = ms(fo_hdr_value_at_percentile(u, 95.0)),
		.p99_ms = ms(fo_hdr_value_at_percentile(u, 99.0)),
		.p999_ms = ms(fo_hdr_value_at_percentile(u, 99.9)),
		.max_ms = ms(fo_hdr_max(u)),
	};
	if (s->niv == 1 || t->start_ms < s->total.start_ms)
		s->total.start_ms = t->start_ms;
	if (s->niv == 1 || t->end_ms > s->total.end_ms)
		s->total.end_ms = t->end_ms;
	return 0;
}

/* Unites logs v[0..n) (all of one name) into new series of p; writes union_path if set. */
static int unite_logs(struct fo_perf *p, const struct logfile *v, size_t n, const char *union_path, struct fo_err *err)
{
	char *base = log_base(v[0].name);
	struct unite U = {.p = p, .base = base, .first_series = p->n};
	struct fo_hdrlog_reader *readers = fo_calloc(n, sizeof(*readers));
	struct fo_hdrlog_reader **in = fo_calloc(n, sizeof(*in));
	FILE **files = fo_calloc(n, sizeof(*files));
	struct fo_union un = {0};
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		in[i] = &readers[i];
		files[i] = open_log(v[i].path);
		if (!files[i])
			rc = fo_err_set(err, FO_EIO, "%s: cannot be read: %s", v[i].display, strerror(errno));
		else
			fo_hdrlog_reader_init(&readers[i], files[i], v[i].display);
	}
	if (!rc)
		rc = fo_union_init(&un, in, n, err);
	U.origin_ms = un.origin_ms;
	if (!rc && un.any && union_path)
		rc = fo_union_write_log(&un, union_path, err);
	if (!rc)
		rc = fo_union_run(&un, add_union, &U, err);
	for (size_t i = 0; !rc && i < un.ntags; i++) {
		const struct fo_union_tag *t = &un.tags[i];
		struct fo_perf_series *s = series_get(&U, t->tag);
		for (size_t k = 0; k < n; k++)
			s->nodes += t->seen[k];
		s->end_s = (double)s->total.end_ms / 1000.0;
		s->duration_s = (double)(s->total.end_ms - s->total.start_ms) / 1000.0;
		fo_hdr_set_tag(&s->total, s->tag);
	}
	fo_union_release(&un);
	for (size_t i = 0; i < n; i++) {
		if (files[i]) {
			fo_hdrlog_reader_close(&readers[i]);
			fclose(files[i]);
		}
	}
	fo_free(files);
	fo_free(in);
	fo_free(readers);
	fo_free(base);
	if (rc) {
		/* Drop the series of this name: they are incomplete. */
		while (p->n > U.first_series) {
			struct fo_perf_series *s = &p->s[--p->n];
			fo_free(s->name);
			fo_free(s->base);
			fo_free(s->tag);
			fo_free(s->iv);
			fo_hdr_release(&s->total);
		}
	}
	return rc;
}

static int cmp_series(const void *a, const void *b)
{
	const struct fo_perf_series *x = a, *y = b;
	int c = strcmp(x->base, y->base);
	if (c)
		return c;
	if (!x->tag || !y->tag)
		return (x->tag != NULL) - (y->tag != NULL);
	return strcmp(x->tag, y->tag);
}

/* Unites each run of equal names in l (sorted); writes unions into union_dir if set. */
static int unite_list(struct fo_perf *p, struct loglist *l, bool by_name, const char *union_dir, struct fo_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < l->n && !rc;) {
		size_t j = i + 1;
		while (by_name && j < l->n && strcmp(l->v[j].name, l->v[i].name) == 0)
			j++;
		struct fo_buf up = FO_BUF_INIT;
		if (union_dir) {
			char *base = log_base(l->v[i].name);
			fo_buf_addf(&up, "%s/%s.union.hdr", union_dir, base);
			fo_free(base);
		}
		rc = unite_logs(p, &l->v[i], j - i, union_dir ? up.s : NULL, err);
		fo_buf_release(&up);
		i = j;
	}
	if (p->n > 1)
		qsort(p->s, p->n, sizeof(*p->s), cmp_series);
	return rc;
}

/* The logs below group_dir/node<N>/, sorted by name then node; displayed as
 * <prefix>/node<N>/... (prefix NULL: node<N>/...). */
static void find_group_logs(const char *group_dir, const char *prefix, struct loglist *l)
{
	DIR *d = opendir(group_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			int node;
			if (!node_folder(de->d_name, &node))
				continue;
			struct fo_buf path = FO_BUF_INIT, disp = FO_BUF_INIT;
			fo_buf_addf(&path, "%s/%s", group_dir, de->d_name);
			fo_buf_addf(&disp, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", de->d_name);
			walk(path.s, disp.s, node, 0, l);
			fo_buf_release(&path);
			fo_buf_release(&disp);
		}
		closedir(d);
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_logfile);
}

char **fo_perf_list_logs(const char *group_dir, size_t *n)
{
	struct loglist l = {0};
	find_group_logs(group_dir, NULL, &l);
	char **v = fo_calloc(l.n + 1, sizeof(*v));
	for (size_t i = 0; i < l.n; i++) {
		v[i] = l.v[i].display;
		l.v[i].display = NULL;
	}
	*n = l.n;
	loglist_release(&l);
	return v;
}

void fo_perf_list_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		fo_free(v[i]);
	fo_free(v);
}

int fo_perf_load_group(struct fo_perf *p, const char *group_dir, const char *union_dir, struct fo_err *err)
{
	*p = (struct fo_perf){0};
	struct loglist l = {0};
	const char *slash = strrchr(group_dir, '/');
	find_group_logs(group_dir, slash && slash[1] ? slash + 1 : group_dir, &l);
	int rc = unite_list(p, &l, true, union_dir, err);
	loglist_release(&l);
	if (rc)
		fo_perf_release(p);
	return rc;
}

int fo_perf_load_files(struct fo_perf *p, const char *const *paths, size_t n, struct fo_err *err)
{
	*p = (struct fo_perf){0};
	struct loglist l = {0};
	for (size_t i = 0; i < n; i++) {
		FO_GROW(l.v, l.cap, l.n + 1);
		l.v[l.n++] = (struct logfile){
			.path = fo_strdup(paths[i]),
			.display = fo_strdup(paths[i]),
			.name = log_name(paths[i]),
			.node = (int)i,
		};
	}
	int rc = unite_list(p, &l, false, NULL, err);
	loglist_release(&l);
	if (rc)
		fo_perf_release(p);
	return rc;
}

int fo_perf_merge_files(struct fo_perf *p, const char *const *paths, size_t n, const char *out_path,
			struct fo_err *err)
{
	*p = (struct fo_perf){0};
	if (n == 0)
		return 0;
	struct loglist l = {0};
	char *name = log_name(paths[0]);
	for (size_t i = 0; i < n; i++) {
		FO_GROW(l.v, l.cap, l.n + 1);
		l.v[l.n++] = (struct logfile){
			.path = fo_strdup(paths[i]),
			.display = fo_strdup(paths[i]),
			.name = fo_strdup(name),
			.node = (int)i,
		};
	}
	fo_free(name);
	int rc = unite_logs(p, l.v, l.n, out_path, err);
	if (p->n > 1)
		qsort(p->s, p->n, sizeof(*p->s), cmp_series);
	loglist_release(&l);
	if (rc)
		fo_perf_release(p);
	return rc;
}

void fo_perf_release(struct fo_perf *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct fo_perf_series *s = &p->s[i];
		fo_free(s->name);
		fo_free(s->base);
		fo_free(s->tag);
		fo_free(s->iv);
		fo_hdr_release(&s->total);
	}
	fo_free(p->s);
	fo_free(p->title);
	*p = (struct fo_perf){0};
}

const struct fo_perf_series *fo_perf_find(const struct fo_perf *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0)
			return &p->s[i];
	return NULL;
}

/* ---- summaries ---- */

/* The rank of a percentile over n values, as Java's getValueAtPercentile computes it. */
static int64_t java_rank(double percentile, int64_t n)
{
	double pct = nextafter(percentile, -INFINITY);
	pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
	int64_t r = (int64_t)ceil(pct / 100.0 * (double)n);
	return r < 1 ? 1 : r;
}

struct dev {
	int64_t d;
	int64_t count;
};

static int cmp_dev(const void *a, const void *b)
{
	const struct dev *x = a, *y = b;
	return (x->d > y->d) - (x->d < y->d);
}

int64_t fo_perf_mad(const struct fo_hdr *h)
{
	int64_t n = fo_hdr_total(h);
	if (n <= 0)
		return 0;
	int64_t median = fo_hdr_value_at_percentile(h, 50.0);
	struct dev *v = NULL;
	size_t nv = 0, cap = 0;
	struct fo_hdr_iter it;
	fo_hdr_iter_recorded_init(&it, h);
	while (fo_hdr_iter_next(&it)) {
		FO_GROW(v, cap, nv + 1);
		int64_t x = it.value_iterated_to;
		v[nv++] = (struct dev){.d = x > median ? x - median : median - x, .count = it.count_added_in_this_step};
	}
	qsort(v, nv, sizeof(*v), cmp_dev);
	int64_t rank = java_rank(50.0, n), seen = 0, mad = 0;
	for (size_t i = 0; i < nv; i++) {
		seen += v[i].count;
		mad = v[i].d;
		if (seen >= rank)
			break;
	}
	fo_free(v);
	return mad;
}

void fo_perf_summarize(const struct fo_perf_series *s, struct fo_perf_summary *out)
{
	const struct fo_hdr *h = &s->total;
	int64_t n = fo_hdr_total(h);
	*out = (struct fo_perf_summary){
		.count = n,
		.duration_s = s->duration_s,
		.ops_s = s->duration_s > 0 ? (double)n / s->duration_s : 0,
	};
	if (n == 0)
		return;
	out->min_ms = ms(fo_hdr_min(h));
	out->mean_ms = fo_hdr_mean(h) / NS_PER_MS;
	out->p50_ms = ms(fo_hdr_value_at_percentile(h, 50.0));
	out->p90_ms = ms(fo_hdr_value_at_percentile(h, 90.0));
	out->p95_ms = ms(fo_hdr_value_at_percentile(h, 95.0));
	out->p99_ms = ms(fo_hdr_value_at_percentile(h, 99.0));
	out->p999_ms = ms(fo_hdr_value_at_percentile(h, 99.9));
	out->p9999_ms = ms(fo_hdr_value_at_percentile(h, 99.99));
	out->max_ms = ms(fo_hdr_max(h));
	out->mad_ms = ms(fo_perf_mad(h));
	out->iqr_ms = ms(fo_hdr_value_at_percentile(h, 75.0) - fo_hdr_value_at_percentile(h, 25.0));
}

void fo_perf_format_duration(double seconds, char *out, size_t n)
{
	int64_t t = seconds > 0 ? (int64_t)seconds : 0;
	int64_t h = t / 3600, m = t / 60 % 60, sec = t % 60;
	if (h)
		snprintf(out, n, "%lldh %lldm %llds", (long long)h, (long long)m, (long long)sec);
	else if (m)
		snprintf(out, n, "%lldm %llds", (long long)m, (long long)sec);
	else
		snprintf(out, n, "%llds", (long long)sec);
}

/* ---- performance-report.json ---- */

/* A real rounded to `places` decimals (JSON has no NaN or infinity: those become 0). */
static json_t *real(double v, int places)
{
	if (!isfinite(v))
		v = 0;
	double f = pow(10, places);
	return json_real(round(v * f) / f);
}

static json_t *ms_text(double v)
{
	char b[64];
	snprintf(b, sizeof(b), "%.3f ms", isfinite(v) ? v : 0.0);
	return json_string(b);
}

static json_t *series_json(const struct fo_perf_series *s)
{
	static const char *const metrics[] = {"Ops/Sec",     "Latency Avg",    "Latency Median", "Latency 95th",
					      "Latency 99th", "Latency 99.9th", "Ops/Interval",   "time"};
	json_t *o = json_object();
	json_object_set_new(o, "revision", json_string("Test Run"));
	json_object_set_new(o, "test", json_string(s->name));
	json_t *m = json_array();
	for (size_t i = 0; i < FO_ARRAY_LEN(metrics); i++)
		json_array_append_new(m, json_string(metrics[i]));
	json_object_set_new(o, "metrics", m);
	json_t *rows = json_array();
	for (size_t i = 0; i < s->niv; i++) {
		const struct fo_perf_interval *iv = &s->iv[i];
		json_t *r = json_array();
		json_array_append_new(r, real(iv->ops_s, 1));
		json_array_append_new(r, real(iv->mean_ms, 3));
		json_array_append_new(r, real(iv->p50_ms, 3));
		json_array_append_new(r, real(iv->p95_ms, 3));
		json_array_append_new(r, real(iv->p99_ms, 3));
		json_array_append_new(r, real(iv->p999_ms, 3));
		json_array_append_new(r, json_integer(iv->count));
		/* Fallout's time column: the interval's end, in seconds from the log's start. */
		json_array_append_new(r, real(iv->start_s + iv->length_s, 2));
		json_array_append_new(rows, r);
	}
	json_object_set_new(o, "intervals", rows);

	struct fo_perf_summary sum;
	fo_perf_summarize(s, &sum);
	char b[64];
	fo_perf_format_duration(sum.duration_s, b, sizeof(b));
	json_object_set_new(o, "Test Duration", json_string(b));
	json_object_set_new(o, "Total Operations", json_integer(sum.count));
	snprintf(b, sizeof(b), "%lld op/sec", (long long)(isfinite(sum.ops_s) ? sum.ops_s : 0));
	json_object_set_new(o, "Op Rate", json_string(b));
	json_object_set_new(o, "Min Latency", ms_text(sum.min_ms));
	json_object_set_new(o, "Avg Latency", ms_text(sum.mean_ms));
	json_object_set_new(o, "Median Latency", ms_text(sum.p50_ms));
	json_object_set_new(o, "95th Latency", ms_text(sum.p95_ms));
	json_object_set_new(o, "99th Latency", ms_text(sum.p99_ms));
	json_object_set_new(o, "99.9th Latency", ms_text(sum.p999_ms));
	json_object_set_new(o, "Max Latency", ms_text(sum.max_ms));
	json_object_set_new(o, "Median Absolute Deviation", ms_text(sum.mad_ms));
	json_object_set_new(o, "Interquartile Range", ms_text(sum.iqr_ms));
	return o;
}

/* Writes the n bytes at data to path through a temporary file and a rename. */
static int write_file(const char *path, const char *data, size_t n, struct fo_err *err)
{
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp.s, "w");
	int rc = 0;
	bool ok = f != NULL;
	if (f) {
		ok = fwrite(data, 1, n, f) == n;
		ok = fclose(f) == 0 && ok;
	}
	if (!ok) {
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp.s);
	} else if (rename(tmp.s, path) != 0) {
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp.s);
	}
	fo_buf_release(&tmp);
	return rc;
}

int fo_perf_write_json(const struct fo_perf *p, const char *path, struct fo_err *err)
{
	json_t *root = json_object();
	json_object_set_new(root, "title", json_string(p->title ? p->title : "performance-report"));
	json_t *stats = json_array();
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(stats, series_json(&p->s[i]));
	json_object_set_new(root, "stats", stats);
	char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
	json_decref(root);
	int rc = text ? write_file(path, text, strlen(text), err)
		      : fo_err_set(err, FO_ENOMEM, "cannot write '%s': out of memory", path);
	free(text); /* jansson's */
	return rc;
}

/* ---- CSV (Fallout's hdr_split_to_csv; rows by metrics/hdrlog.h, as `fallout hdr csv`) ---- */

/* One tag's CSV being built. */
struct csvout {
	char *tag;   /* owned; NULL: untagged */
	struct fo_buf b;
};

static bool tag_wanted(const char *tag, const char *const *tags, size_t ntags)
{
	if (ntags == 0)
		return true;
	for (size_t i = 0; i < ntags; i++)
		if (strcmp(tags[i], tag ? tag : "default") == 0)
			return true;
	return false;
}

int fo_perf_split_csv(const char *log_path, const char *display, const char *out_dir, const char *const *tags,
		      size_t ntags, struct fo_buf *written, struct fo_err *err)
{
	FILE *f = open_log(log_path);
	if (!f)
		return fo_err_set(err, FO_EIO, "%s: cannot be read: %s", display ? display : log_path, strerror(errno));
	struct fo_hdrlog_reader r;
	fo_hdrlog_reader_init(&r, f, display ? display : log_path);
	struct csvout *outs = NULL;
	size_t nout = 0, cap = 0;
	int rc;
	for (;;) {
		struct fo_hdr h;
		rc = fo_hdrlog_read(&r, &h, err);
		if (rc <= 0)
			break;
		if (tag_wanted(h.tag, tags, ntags)) {
			size_t i = 0;
			while (i < nout && !fo_hdr_tag_equal(outs[i].tag, h.tag))
				i++;
			if (i == nout) {
				FO_GROW(outs, cap, nout + 1);
				outs[nout++] = (struct csvout){.tag = h.tag ? fo_strdup(h.tag) : NULL, .b = FO_BUF_INIT};
				fo_buf_adds(&outs[i].b, FO_HDRLOG_CSV_HEADER);
			}
			fo_hdrlog_csv_row(&outs[i].b, &h, r.start_time_s);
		}
		fo_hdr_release(&h);
	}
	fo_hdrlog_reader_close(&r);
	fclose(f);

	/* <dir>/<tag>.<log name without its extension>.csv, "default" for untagged values. */
	char *name = log_name(log_path);
	char *dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	for (size_t i = 0; i < nout && rc == 0; i++) {
		struct fo_buf path = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/", out_dir);
		for (const char *t = outs[i].tag ? outs[i].tag : "default"; *t; t++)
			fo_buf_addch(&path, *t == '/' ? '_' : *t);
		fo_buf_addf(&path, ".%s.csv", name);
		rc = write_file(path.s, outs[i].b.s, outs[i].b.len, err);
		if (!rc && written) {
			const char *slash = strrchr(path.s, '/');
			fo_buf_addf(written, "%s%s", written->len ? "\n" : "", slash ? slash + 1 : path.s);
		}
		fo_buf_release(&path);
	}
	for (size_t i = 0; i < nout; i++) {
		fo_free(outs[i].tag);
		fo_buf_release(&outs[i].b);
	}
	fo_free(outs);
	fo_free(name);
	return rc < 0 ? rc : 0;
}
