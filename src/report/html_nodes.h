/*
 * html_nodes.h: internal to the HTML performance report (html.c, html_nodes.c): the run's
 * notes as a warning banner, and the Nodes section, charts of the run's node metrics on the
 * same time axis as its throughput and latency.
 *
 * Times on the charts are seconds since the workload started. The metrics carry that clock
 * (t) and the wall clock; wall0, when not 0, is the charts' time zero in seconds since the
 * epoch and the metrics are placed by their wall time instead (html.c passes it when the
 * interval logs' times are absolute but the run's start is unknown, so the logs set the
 * zero).
 */
#ifndef FO_REPORT_HTML_NODES_H
#define FO_REPORT_HTML_NODES_H

#include <stdbool.h>
#include <stddef.h>

struct fo_buf;
struct fo_report_run;

/* Appends s to b with &, <, >, " and ' escaped for HTML (s may be NULL). In html.c. */
void fo__html_esc(struct fo_buf *b, const char *s);

/*
 * Writes the notes of runs[0..n) as a banner of warnings (nothing when no run has notes).
 * With one run, a note whose span was found in the metrics says when, as on the charts.
 */
void fo__html_notes_banner(struct fo_buf *b, const struct fo_report_run *runs, size_t n, double wall0);
/*
 * Appends ,"notes":[{"text":...,"spans":[[start,end],...]}] for run r's object in the
 * page's data (spans empty unless with_spans). Raw JSON: the caller escapes '<', '>', '&'.
 */
void fo__html_notes_json(struct fo_buf *b, const struct fo_report_run *r, bool with_spans, double wall0);
/*
 * Writes the Nodes section of r: a card with one chart box per chart of its metrics
 * (<div class="chart" data-kind="metric" data-chart="I">), or a line saying why its
 * metrics could not be read; nothing when it has none.
 */
void fo__html_nodes_section(struct fo_buf *b, const struct fo_report_run *r);
/* Appends ,"nodes":[...]: the data of the charts fo__html_nodes_section placed, in order
 * (raw JSON, as fo__html_notes_json). */
void fo__html_nodes_json(struct fo_buf *b, const struct fo_report_run *r, double wall0);

#endif
