/*
 * hdrtool.c: the `hdrtool` artifact checker: unites the HdrHistogram interval logs of a
 * client group's nodes (report/perf.h) and writes Fallout's performance-report.json and
 * the <name>.union.hdr logs into the group's artifact folder.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"
#include "report/html.h"
#include "report/perf.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	{
		.name = "client_group",
		.description = "The node group whose HdrHistogram logs are merged; the report is written to "
			       "its artifact folder.",
		.type = FO_PT_GROUP,
		.default_value = "client",
	},
	{
		.name = "report.prefix",
		.description = "The base name of the report files (<prefix>.json and <prefix>.html): no "
			       "slashes or spaces.",
		.type = FO_PT_STRING,
		.default_value = "performance-report",
		.pattern = "[^/\\\\\\s]+",
	},
	{0},
};

/* Unites the group's logs, writes the report; fails only when a log cannot be read. */
static int check(const struct fo_propset *ps, struct fo_run *r, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const char *gname = fo_props_str(ps, "client_group", "client");
	const char *prefix = fo_props_str(ps, "report.prefix", "performance-report");
	struct fo_rgroup *g = fo_run_group(r, gname);
	if (!g) {
		*passed = false;
		fo_buf_addf(msg, "there is no node group '%s'", gname);
		return 0;
	}
	const char *name = g->spec->name;
	struct fo_buf dir = FO_BUF_INIT, report = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/%s", fo_run_dir(r), name);
	fo_buf_addf(&report, "%s/%s.json", dir.s, prefix);

	struct fo_perf p;
	struct fo_err e = {0};
	int rc = fo_perf_load_group(&p, dir.s, dir.s, &e);
	if (rc) {
		/* The message names the file and line that could not be read. */
		*passed = false;
		fo_buf_addf(msg, "%s", e.msg);
	} else if (p.n == 0) {
		/* As Fallout's hdrtool ("No HDR files found."): a report of nothing fails. */
		*passed = false;
		fo_buf_addf(msg, "no interval logs found under %s/node*/ (*.hdr, *.hlog, *.hgrm)", name);
	} else {
		p.title = fo_strdup(prefix);
		rc = fo_perf_write_json(&p, report.s, &e);
		if (!rc)
			rc = fo_report_html_for_group(&p, fo_run_dir(r), name, prefix, &e);
		if (rc) {
			fo_buf_release(&dir);
			fo_buf_release(&report);
			fo_perf_release(&p);
			return fo_err_set(err, rc, "%s", e.msg);
		}
		*passed = true;
		fo_buf_addf(msg, "%zu series written to %s/%s.json:", p.n, name, prefix);
		for (size_t i = 0; i < p.n; i++) {
			struct fo_perf_summary s;
			fo_perf_summarize(&p.s[i], &s);
			fo_buf_addf(msg, "\n  %s: %lld operations from %zu node%s, %.0f op/s, p99 %.3f ms, max %.3f ms",
				    p.s[i].name, (long long)s.count, p.s[i].nodes, p.s[i].nodes == 1 ? "" : "s", s.ops_s,
				    s.p99_ms, s.max_ms);
		}
	}
	fo_perf_release(&p);
	fo_buf_release(&dir);
	fo_buf_release(&report);
	return 0;
}

static const struct fo_artifact_checker_ops ops = {.check = check};

const struct fo_component fo_artifact_checker_hdrtool = {
	.name = "hdrtool",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "merge client latency logs into a performance report",
	.description =
		"Finds the HdrHistogram interval logs (*.hdr, *.hlog, *.hgrm, also gzipped) collected "
		"from the nodes of `client_group` (anywhere below <group>/node<N>/), unites the logs of "
		"the same file name from every node, tag by tag, into <group>/<name>.union.hdr, and "
		"writes <group>/<report.prefix>.json: per file name and tag (\"name\" or \"name:tag\"), "
		"throughput and latency percentiles per interval, with totals, MAD and IQR. Values are "
		"taken to be nanoseconds and reported in milliseconds. Load generators write such logs "
		"when asked to (cassandra-stress with -log hdrfile=..., nosqlbench with "
		"--log-histograms, or `fallout hdr record` in a `bash` module).\n"
		"\n"
		"Intervals of different nodes are united as Fallout unites them: in order of start "
		"time, an interval joins the union in progress of its tag when it starts before that "
		"union ends and ends inside it or lies more than 80% inside; otherwise it starts the "
		"next union. Every value is counted once, so totals equal the sum of the nodes' values.\n"
		"\n"
		"It fails when a log cannot be read (naming the file and line) or when there is no log "
		"at all; the series found are listed in "
		"controller/artifact_checkers/artifact_checker-<alias>.log.\n"
		"\n"
		"Fallout compatibility: the same properties, union rule and report format as Fallout's "
		"`hdrtool` (which also fails when it finds no logs); each percentile is reported under "
		"its own name.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: client\n"
		   "          script: ./bench --hdr-log=$FALLOUT_NODE_ARTIFACTS/load.hdr\n"
		   "  artifact_checkers:\n"
		   "    report:\n"
		   "      artifact_checker: hdrtool\n"
		   "      properties:\n"
		   "        client_group: client\n",
	.props = props,
	.artifact_checker = &ops,
};
