/*
 * systemlog.c: the `systemlog` artifact checker's descriptor: looks for error lines in the
 * service logs collected from the server nodes. Described now so that Fallout tests naming
 * it validate; it runs once the fault work lands.
 */
#include "util/common.h"

#include "components/component.h"

static const struct fo_prop props[] = {
	{
		.name = "server_group",
		.description = "The node group whose system logs are checked.",
		.type = FO_PT_GROUP,
		.default_value = "server",
	},
	{
		.name = "error.pattern",
		.description = "A regex that an error line matches in full.",
		.type = FO_PT_REGEX,
		.default_value = "^(ERROR|FATAL).*",
	},
	{
		.name = "fail_on_missing",
		.description = "Fail when a node has no system log at all, rather than only warning.",
		.type = FO_PT_BOOL,
		.default_value = "false",
	},
	{0},
};

const struct fo_component fo_artifact_checker_systemlog = {
	.name = "systemlog",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "fail the run if the servers' system logs hold error lines",
	.description =
		"Reads the system.log files (rotated ones included) collected from every node of "
		"`server_group` and fails if any line matches `error.pattern` as a whole, or if a log "
		"is empty. The first offending lines of each node are in "
		"controller/artifact_checkers/artifact_checker-<alias>.log. A node without a system "
		"log is reported as a warning, or fails the check when `fail_on_missing` is true.\n"
		"\n"
		"Fallout compatibility: the properties of Fallout's `systemlog` artifact checker.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: client\n"
		   "          script: ./run-load.sh\n"
		   "  artifact_checkers:\n"
		   "    no_errors:\n"
		   "      artifact_checker: systemlog\n"
		   "      properties:\n"
		   "        server_group: server\n"
		   "        fail_on_missing: true\n",
	.props = props,
	.available = "not runnable yet: it arrives with the fault-injection release, which collects "
		     "service logs; tests naming it validate now",
};
