/*
 * metrics_load.h: a run's node metrics (metrics/sampler.h writes them) read back as time
 * series, for reports: one series per file and field, with its unit, and its points on
 * two clocks, the workload's (t: seconds since the workload started, the history's
 * clock) and the wall clock (seconds since the epoch, to line up with interval logs whose
 * StartTime is absolute, e.g. fo_perf_series.start_s).
 *
 *     struct fo_metrics m;
 *     if (fo_metrics_load(run_dir, &m, &err) == 0) {
 *         const struct fo_metric_series *s = fo_metrics_find(&m, "machine", "cpu.busy_pct");
 *         for (size_t i = 0; s && i < s->n; i++)
 *             plot(s->points[i].t, s->points[i].v);   (s->unit is "%")
 *     }
 *     fo_metrics_release(&m);
 *
 * A field missing from a line (a service that did not answer that second) is a missing
 * point, not a zero: draw a gap where consecutive points are more than about 1.5 s apart.
 */
#ifndef FO_METRICS_LOAD_H
#define FO_METRICS_LOAD_H

#include <stddef.h>

struct fo_err;

struct fo_metric_point {
	double t;    /* seconds since the workload started */
	double wall; /* seconds since the epoch */
	double v;    /* in the series' unit */
};

struct fo_metric_series {
	char *source;			/* "machine", or "<group>/<node>" (owned) */
	char *name;			/* the field: "cpu.busy_pct", "service.rss_bytes", "redis.ops_per_s" (owned) */
	const char *unit;		/* fo_metric_unit(name): static */
	struct fo_metric_point *points; /* owned, in time order */
	size_t n, cap;
};

struct fo_metrics {
	struct fo_metric_series *series; /* owned: "machine" first, then the nodes by group and
					  * node name; a source's fields in order of first
					  * appearance */
	size_t n, cap;
};

/*
 * Reads <run_dir>/metrics/machine.jsonl and every <run_dir>/<group>/<node>/metrics.jsonl
 * into m (initialised here; release with fo_metrics_release even on error). A run without
 * metrics gives m->n == 0. Returns 0, or an error naming the file and line that is not a
 * metrics line (a last line cut short by a crash is ignored).
 */
int fo_metrics_load(const char *run_dir, struct fo_metrics *m, struct fo_err *err);
/* Adds the series of one metrics file, named source, to m (which must be initialised:
 * zeroed, or by fo_metrics_load). Returns 0 or an error as fo_metrics_load. */
int fo_metrics_load_file(struct fo_metrics *m, const char *path, const char *source, struct fo_err *err);
void fo_metrics_release(struct fo_metrics *m);
/* The series of source and name, or NULL. */
const struct fo_metric_series *fo_metrics_find(const struct fo_metrics *m, const char *source, const char *name);
/*
 * The unit of a field, from its name's suffix: "%" (_pct: of all CPUs for cpu.*, of one
 * core for processes and threads), "B/s" (_bytes_per_s), "/s" (other _per_s), "B"
 * (_bytes), "" (a count: processes, clients, backends, cpu.cores).
 */
const char *fo_metric_unit(const char *name);

#endif
