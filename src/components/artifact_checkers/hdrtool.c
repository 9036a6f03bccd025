/*
 * hdrtool.c: the `hdrtool` artifact checker's descriptor: merges the latency logs of the
 * client nodes into a performance report. Described now so that Fallout tests naming it
 * validate; it runs once the measurement work lands.
 */
#include "util/common.h"

#include "components/component.h"

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

const struct fo_component fo_artifact_checker_hdrtool = {
	.name = "hdrtool",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "merge client latency logs into a performance report",
	.description =
		"Finds the HdrHistogram interval logs (*.hdr, *.hgrm, also gzipped) collected from "
		"the nodes of `client_group`, merges the logs of the same file name from every node, "
		"tag by tag, into <name>.union.hdr, and writes <report.prefix>.json and .html: "
		"throughput and latency percentiles over time, with totals. It passes unless the logs "
		"cannot be read. Load generators write such logs when asked to (for instance "
		"cassandra-stress with -log hdrfile=..., or nosqlbench with --log-histograms).\n"
		"\n"
		"Fallout compatibility: the same properties and report format as Fallout's `hdrtool`; "
		"each percentile is reported under its own name.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: client\n"
		   "          script: ./bench --hdr-log=load.hdr\n"
		   "  artifact_checkers:\n"
		   "    report:\n"
		   "      artifact_checker: hdrtool\n"
		   "      properties:\n"
		   "        client_group: client\n",
	.props = props,
	.available = "not runnable yet: it arrives with the measurement release (HdrHistogram logs and "
		     "performance reports); tests naming it validate now",
};
