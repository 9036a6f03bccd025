/*
 * html.h: the HTML performance report, performance-report.html: one self-contained file
 * that opens offline, with the data and the charting library (uPlot, embedded in the
 * binary at build time from web/) inlined.
 *
 * One run gives, per series (file name and tag): throughput and latency percentiles over
 * time with the workload's phases marked, the latency distribution by percentile on a log
 * scale, and a summary table; then the run's node metrics (report/metrics_load.h) on the
 * same time axis: the machine's CPU, memory, network and disk, each node's services and
 * load drivers, and the services' own figures (Redis, PostgreSQL). Several runs give the
 * same charts overlaid, and a table of each run's figures with its change against the
 * first (no node metrics: each run has its own machine and clock). With a baseline-versus-
 * contender comparison (repeated runs per side), the page opens with each metric's mean
 * and 95% confidence interval per side, the change, and whether it is significant.
 *
 * The run's notes (testrun.json "notes": a saturated load driver...) open the page as
 * warnings; a saturated driver's seconds, found again in its node's metrics, are shaded
 * on every time chart. The faults injected (from the history) are shaded too, hatched and
 * labelled with their kind and nodes, and a table gives each fault's impact on each log
 * (analysis/impact.h, with its default band and intervals).
 *
 * The page draws its charts with web/report.js, which marks <body data-charts="N"
 * data-drawn="N"> once every chart is rendered (and data-error on a failure), for tests.
 */
#ifndef FO_REPORT_HTML_H
#define FO_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/impact.h"
#include "analysis/stats.h"
#include "report/metrics_load.h"
#include "report/perf.h"

struct fo_buf;
struct fo_err;

/* A module of the workload as it ran: from its `start` to its `end` in the history. */
struct fo_report_phase {
	char *name;	/* the module's alias (owned) */
	double start_s; /* seconds since the workload started (the history's clock) */
	double end_s;	/* the same; the history's last event when it never ended */
};

enum fo_report_side { FO_REPORT_SIDE_NONE, FO_REPORT_SIDE_BASELINE, FO_REPORT_SIDE_CONTENDER };

/* One run of a report. Everything is borrowed. */
struct fo_report_run {
	const char *label;		      /* shown in legends and tables ("run 1", a folder name) */
	const struct fo_perf *perf;	      /* its series */
	const struct fo_report_phase *phases; /* may be NULL */
	size_t nphases;
	double workload_start_s;	  /* when the workload started, s since epoch; 0: unknown */
	enum fo_report_side side;	  /* for baseline-versus-contender reports */
	const struct fo_metrics *metrics; /* node metrics; NULL or empty: none */
	const char *metrics_error;	  /* why they could not be read, or NULL */
	const char *const *notes;	  /* testrun.json "notes"; may be NULL */
	size_t nnotes;
	const struct fo_fault_window *faults; /* from the history (analysis/impact.h); may be NULL */
	size_t nfaults;
};

/* One row of a baseline-versus-contender comparison: a metric of a series. */
struct fo_report_cmp {
	const char *series; /* the series' name (borrowed from the runs' perf) */
	const char *metric; /* "throughput", "mean", "p50", ... (static) */
	const char *unit;   /* "op/s" or "ms" (static) */
	bool higher_is_better;
	struct fo_stats_ci a, b; /* baseline and contender: mean and 95% CI */
	double change_pct;	 /* (b - a) / a * 100; NaN when a == 0 */
	struct fo_stats_welch w;
	char verdict[80]; /* fo_stats_verdict's text */
};

struct fo_html_opts {
	const char *title;		 /* the page's title; NULL: from the first run */
	const struct fo_report_cmp *cmp; /* a baseline-versus-contender table, or NULL */
	size_t ncmp;
};

/*
 * Writes the report of runs[0..n-1] (n >= 1) to path, atomically (a temporary file, then
 * a rename). With one run it is that run's report; with several, a comparison against the
 * first. Returns 0 or an error (FO_EIO) naming the file.
 */
int fo_report_html(const struct fo_report_run *runs, size_t n, const struct fo_html_opts *o, const char *path,
		   struct fo_err *err);
/* As fo_report_html, into out (appended). */
void fo_report_html_render(const struct fo_report_run *runs, size_t n, const struct fo_html_opts *o,
			   struct fo_buf *out);

/*
 * Compares the runs of side FO_REPORT_SIDE_BASELINE with those of FO_REPORT_SIDE_CONTENDER:
 * for every series present in every run, one row per metric (throughput, mean, p50, p90,
 * p99, p99.9, max). Returns an owned array (fo_free) of *n rows; NULL when there are none.
 */
struct fo_report_cmp *fo_report_compare(const struct fo_report_run *runs, size_t n, size_t *ncmp);

/* ---- runs on disk ---- */

/* A run folder loaded for a report: owns what its `run` points to. */
struct fo_report_run_data {
	struct fo_report_run run; /* ready to pass to fo_report_html */
	char *dir;		  /* the run folder (owned) */
	char *group;		  /* the group whose logs were read (owned) */
	char *label;		  /* owned */
	char *test_name, *run_id; /* from testrun.json (owned; NULL if absent) */
	struct fo_perf perf;
	struct fo_report_phase *phases; /* owned */
	size_t nphases;
	struct fo_metrics metrics; /* node metrics (empty when the run has none) */
	char *metrics_error;	   /* owned; NULL unless the metrics could not be read */
	char **notes;		   /* owned, from testrun.json */
	size_t nnotes;
	struct fo_fault_window *faults; /* owned, from the history */
	size_t nfaults;
};

/* True when dir is a run folder (it has a testrun.json). */
bool fo_report_is_run(const char *dir);
/*
 * Finds the node group of a run that holds interval logs (in <dir>/<group>/node<N>/).
 * Returns 0 with its name in *group (replacing its contents); FO_ENOTFOUND when no group
 * has logs; FO_EINVAL when several do (err lists them: pick one with --group).
 */
int fo_report_find_group(const char *run_dir, struct fo_buf *group, struct fo_err *err);
/*
 * Loads a run folder: group's logs (group NULL: fo_report_find_group), the phases from
 * controller/jepsen-history.json, the workload's start from fallout-shared.log, the test's
 * name and notes from testrun.json and the node metrics (each optional: one that cannot be
 * read costs its part of the page, not the report). d is initialised here; release it with
 * fo_report_run_release in any case. Returns 0 or an error.
 */
int fo_report_run_load(struct fo_report_run_data *d, const char *run_dir, const char *group, struct fo_err *err);
void fo_report_run_release(struct fo_report_run_data *d);
/*
 * Reads the phases (each module's start and end) from a history file. Returns 0 with an
 * owned array in *out (NULL, 0 when the file is missing), or FO_EPARSE for a bad line.
 */
int fo_report_load_phases(const char *history_path, struct fo_report_phase **out, size_t *n, struct fo_err *err);
void fo_report_phases_free(struct fo_report_phase *v, size_t n);

/*
 * For the hdrtool artifact checker: writes <run_dir>/<group>/<prefix>.html, the HTML report
 * of perf (the group's united logs), with the phases, title, notes and node metrics of the
 * run in run_dir (read from its history, fallout-shared.log, testrun.json and metrics
 * files when they are there). Borrows
 * everything. Returns 0 or an error.
 */
int fo_report_html_for_group(const struct fo_perf *perf, const char *run_dir, const char *group, const char *prefix,
			     struct fo_err *err);

#endif
