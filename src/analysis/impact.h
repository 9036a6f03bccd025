/*
 * impact.h: what a fault did to the clients, as numbers: the steady state before it, the
 * throughput drop and the p99 while it lasted, the time the system took to recover once
 * it was healed, and the run's availability. The fault_impact artifact checker judges
 * these against limits; the HTML report shows them in a table.
 *
 * Faults come from the run's history: the fault modules (components/modules/
 * fault_common.h) emit an `info` operation whose value is JSON with "action": "inject"
 * when a fault begins and "heal" when it ends ("fault": the verb, "nodes": ["group/node"],
 * "start"/"end": ISO wall times, "duration_s"). A fault with no heal before its module
 * ends or injects again was healed at once (`restart`, `kill` without a restart); one
 * still open when the history ends (a killed run) was never healed.
 *
 * The numbers, for one measurement (a time line of intervals: throughput of successful
 * operations, failed operations, p99) and one fault from injection t0 to healing t1:
 * - steady state: the median throughput and median p99 of the last `steady_intervals`
 *   intervals that end by t0 and lie outside every earlier fault's disturbance (its
 *   injection until it recovered, or for ever when it never did);
 * - throughput during: the operations of the intervals lying wholly inside [t0, t1] over
 *   their length (when none does, a fault shorter than an interval: of the intervals it
 *   overlaps); the drop is 100 * (1 - during / steady). An operation counts when it ends,
 *   so a client that catches up after the fault fills the intervals after it; max drop:
 *   the same with the lowest interval from t0 until recovery (or the end of the data);
 * - p99 during: the highest p99 of the intervals from t0 until recovery, and at least
 *   until the end of the first interval ending after t1, where the operations the fault
 *   stalled end (until the data ends when it does not recover): an upper bound of the
 *   p99 of every operation in them;
 * - recovery time: from t1 to the start of the first of `stable_intervals` consecutive
 *   intervals, among those ending after t1, whose throughput is within ±band_pct% of the
 *   steady throughput (0 when the system never left the band); infinite ("did not
 *   recover") when there are not that many before the data ends, or no steady state;
 * - availability (of the whole run): the share of the measured time spent in intervals
 *   whose successful throughput was at least floor_pct% of the normal throughput (the
 *   median of the intervals outside every fault's disturbance; of all intervals when
 *   none is); success: successful operations / all operations (error series count as
 *   failed, report/perf.h), 100% without error series.
 */
#ifndef FO_ANALYSIS_IMPACT_H
#define FO_ANALYSIS_IMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_err;
struct fo_op;
struct fo_perf;

/* One fault as the history recorded it. */
struct fo_fault_window {
	char *process;	     /* the module's alias (owned) */
	char *kind;	     /* the fault: "pause", "kill", ... (owned) */
	char *nodes;	     /* "server/node0, server/node1" (owned) */
	char *error;	     /* why injecting or healing failed (owned); NULL */
	double start_s;	     /* injected: s since the workload started (the history's clock) */
	double end_s;	     /* healed, same clock (== start_s: healed at once); NAN: never */
	double wall_start_s; /* the same in s since the epoch; 0 when unknown */
	double wall_end_s;
};

/* Reads the faults from a history (in order, e.g. fo_history_ops). Returns an owned array
 * (free with fo_impact_faults_free), NULL when there is none; *n its length. */
struct fo_fault_window *fo_impact_faults(const struct fo_op *ops, size_t nops, size_t *n);
/* The same from a history file (controller/jepsen-history.json). Returns 0 (also when the
 * file is missing: no faults), or FO_EIO / FO_EPARSE naming the file and line. */
int fo_impact_load_faults(const char *history_path, struct fo_fault_window **out, size_t *n, struct fo_err *err);
void fo_impact_faults_free(struct fo_fault_window *v, size_t n);
/* The workload's start in s since the epoch, as the faults' two clocks tell; 0: unknown. */
double fo_impact_wall_zero(const struct fo_fault_window *v, size_t n);
/* Fault f on an axis whose zero is wall_zero (s since the epoch; 0: the history's clock). */
void fo_impact_window(const struct fo_fault_window *f, double wall_zero, double *start, double *end);

/* One interval of a measurement. */
struct fo_impact_point {
	double start_s, length_s; /* on the axis of the faults */
	int64_t ok, failed;	  /* successful and failed operations */
	double ops_s;		  /* ok / length_s */
	double p99_ms;		  /* of the successful operations; NAN when none */
};

/* A measurement: a log's series united (report/perf.h names them), as a time line. */
struct fo_impact_series {
	char *name;		    /* the log's name, or the one series picked (owned) */
	struct fo_impact_point *pt; /* owned, in time order */
	size_t n;
	bool has_errors; /* error series contributed */
};

/* True when p's logs carry absolute times (s since the epoch). */
bool fo_impact_absolute(const struct fo_perf *p);
/*
 * The measurements of p: per log file (base name), its non-error series that sel picks
 * (NULL: all; else as performance_thresholds picks: a series' full name, a tag, or a log's
 * name) united interval by interval, with its error series as failed operations. Times
 * are s since zero (s since the epoch for absolute logs, else 0). Returns an owned array
 * (fo_impact_series_free) of *n; NULL when sel picks nothing.
 */
struct fo_impact_series *fo_impact_series_from_perf(const struct fo_perf *p, const char *sel, double zero, size_t *n);
void fo_impact_series_free(struct fo_impact_series *v, size_t n);

struct fo_impact_opts {
	double band_pct;      /* recovered: within ±band_pct% of the steady throughput */
	int stable_intervals; /* ... for this many consecutive intervals */
	int steady_intervals; /* the steady state: at most this many intervals before */
	double floor_pct;     /* availability: throughput at least this % of normal */
	double wall_zero;     /* the axis of the series: see fo_impact_window */
};
#define FO_IMPACT_OPTS_INIT                                                                                            \
	{                                                                                                              \
		.band_pct = 10, .stable_intervals = 3, .steady_intervals = 10, .floor_pct = 50                         \
	}

/* What one fault did to one measurement. NAN: cannot be told (no steady state, no data). */
struct fo_fault_impact {
	size_t fault;	       /* its index in the faults given */
	double start_s, end_s; /* the window on the series' axis (end NAN: never healed) */
	size_t steady_n;       /* intervals that made the steady state; 0: there is none */
	double steady_ops_s, steady_p99_ms;
	double during_ops_s, drop_pct;
	double min_ops_s, max_drop_pct;
	double p99_during_ms;
	bool recovered;
	double recovery_s;     /* INFINITY when it did not recover */
	double recovered_at_s; /* NAN when it did not */
};

/* The impact of every fault on one measurement, and the run's availability. */
struct fo_impact {
	struct fo_fault_impact *f; /* owned, one per fault, in the faults' order */
	size_t n;
	double normal_ops_s;	 /* the reference of availability */
	double availability_pct; /* NAN without data */
	double success_pct;	 /* NAN without operations */
};

/* Computes im (released with fo_impact_release) for series s and faults[0..nf). */
void fo_impact_compute(const struct fo_impact_series *s, const struct fo_fault_window *faults, size_t nf,
		       const struct fo_impact_opts *o, struct fo_impact *im);
void fo_impact_release(struct fo_impact *im);

#endif
