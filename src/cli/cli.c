/*
 * cli.c: the command table and dispatcher of bin/fallout, `fallout help`, and
 * `fallout --version`.
 */
#include "util/common.h"

#include "cli/cli.h"
#include "util/strutil.h"
#include "version.h"

const char fo_version[] = FO_VERSION;

static const struct fo_command commands[] = {
	{
		.name = "exec",
		.fn = fo_cmd_exec,
		.usage = "exec [--params FILE] [--library DIR] [-o DIR] [--run-id ID] [--owner NAME] [--test-name NAME] "
			 "TEST.yaml [name=value ...]",
		.summary = "run a test on this machine",
		.help = "Loads and checks a test definition (as 'validate' does), then runs it: sets up the\n"
			"node groups, runs the workload's phases, collects artifacts, tears everything down\n"
			"and runs the checkers. Artifacts go to runs/<test name>/<run id>/, or to -o DIR\n"
			"(which must be new or empty). Ctrl-C aborts the run; teardown still runs.\n"
			"\n"
			"Exit status: 0 the run passed, 1 it failed or was aborted, 2 the definition is\n"
			"invalid or the command line is wrong.\n"
			"\n"
			"  --params FILE    a YAML map of template parameters (name=value arguments win)\n"
			"  --library DIR    the test library (default: $FALLOUT_LIBRARY)\n"
			"  -o, --output DIR the run's artifacts folder\n"
			"  --run-id ID      the run's id, a UUID (default: a new one)\n"
			"  --owner NAME     who runs it, as testrun.json records it (default: your user name)\n"
			"  --test-name NAME the test's name (default: the file name without .yaml)\n"
			"  name=value       a template parameter; the value is read as a YAML scalar\n",
	},
	{
		.name = "validate",
		.fn = fo_cmd_validate,
		.usage = "validate [--params FILE] [--library DIR] [--quiet] TEST.yaml [name=value ...]",
		.summary = "check a test definition and print it expanded",
		.help = "Expands a test definition's templates with its defaults and the given\n"
			"parameters, then checks all of it: keys, components, properties, node groups,\n"
			"references. Prints the expanded definition when it is valid (exit 0); prints\n"
			"every error as FILE:LINE:COL: message when it is not (exit 2).\n"
			"\n"
			"  --params FILE    a YAML map of template parameters (name=value arguments win)\n"
			"  --library DIR    the test library, where {{> partial}} templates are found\n"
			"                   (default: $FALLOUT_LIBRARY)\n"
			"  --quiet, -q      print nothing when the definition is valid\n"
			"  name=value       a template parameter; the value is read as a YAML scalar\n",
	},
	{
		.name = "cleanup",
		.fn = fo_cmd_cleanup,
		.usage = "cleanup [--dry-run] [--quiet]",
		.summary = "undo what killed runs left behind (processes, folders, addresses)",
		.help = "Every run lists itself in the state folder ($FALLOUT_STATE_DIR, default\n"
			"~/.local/state/fallout) with a ledger of what it started: process groups and\n"
			"folders, written down before they were started. A run that ends normally undoes\n"
			"it all itself; one that was killed (kill -9, a crash) leaves it behind. cleanup\n"
			"finds the runs whose fallout process is gone, kills the process groups they left\n"
			"(only those still theirs) and removes their folders. Runs still going are left\n"
			"alone. Loopback addresses claimed by a killed run are free again once its\n"
			"process is gone.\n"
			"\n"
			"Prints what it did, then a summary such as\n"
			"  cleanup: 1 run, 2 process groups killed, 3 folders removed\n"
			"Exit status: 0, or 1 when something could not be undone.\n"
			"\n"
			"  --dry-run, -n    only list what would be done\n"
			"  --quiet, -q      print the summary only\n",
	},
	{
		.name = "report",
		.fn = fo_cmd_report,
		.usage = "report RUN_DIR... [-o FILE.html] [--group G] | "
			 "report --baseline A1,A2,... --contender B1,B2,... [-o FILE.html] [--group G]",
		.summary = "rebuild a run's performance report, or compare runs",
		.help = "Builds performance reports from the raw HdrHistogram interval logs of finished runs\n"
			"(<run>/<group>/node<N>/*.hdr), so they can be rebuilt at any time.\n"
			"\n"
			"  fallout report RUN_DIR\n"
			"      rebuilds the run's <group>/performance-report.json and performance-report.html\n"
			"      (or writes only the HTML to -o FILE) and prints each series' figures\n"
			"  fallout report RUN_DIR RUN_DIR... [-o FILE.html]\n"
			"      puts runs side by side: overlaid charts and each run's change against the\n"
			"      first, in % and absolute\n"
			"  fallout report --baseline A1,A2,A3 --contender B1,B2,B3 [-o FILE.html]\n"
			"      compares repeated runs: for throughput, mean, p50, p90, p99, p99.9 and max,\n"
			"      each side's mean with its 95% confidence interval, the change in %, and\n"
			"      Welch's t-test verdict: \"significant (p=0.003)\", \"no significant difference\n"
			"      (p=0.41)\" or \"not enough evidence (need at least 2 runs per side)\"\n"
			"\n"
			"Comparisons are written to performance-comparison.html unless -o says otherwise,\n"
			"and printed as a text table. The HTML report is one file that opens offline.\n"
			"\n"
			"Exit status: 0 done, 1 a log could not be read or a report written, 2 bad usage\n"
			"or a folder that is not a run.\n"
			"\n"
			"  -o, --output FILE  where to write the HTML report\n"
			"  --group G          the node group whose logs to read (default: the one group\n"
			"                     that has logs)\n",
	},
	{
		.name = "hdr",
		.fn = fo_cmd_hdr,
		.usage = "hdr summary|merge|split|csv|record ...",
		.summary = "summarize, merge, split and convert HdrHistogram interval logs",
		.help = "Tools for HdrHistogram interval logs (.hdr, .hlog: what Java's HistogramLogWriter,\n"
			"jHiccup, NoSQLBench and fallout's workloads write). Latencies are shown in ms,\n"
			"taking recorded values as ns (--unit-ratio changes that).\n"
			"\n"
			"  fallout hdr summary FILE... [--json] [--tag T] [--unit-ratio N]\n"
			"      per tag (all files together): intervals, count, duration (s), throughput\n"
			"      (ops/s), min, mean, stddev, p50, p90, p95, p99, p99.9, p99.99 and max;\n"
			"      --tag '' selects the untagged values; --json gives raw values and ms\n"
			"  fallout hdr merge FILE... -o OUT.hdr\n"
			"      the union of the logs, as Fallout's hdrtool: intervals taken in order of\n"
			"      start time; per tag, an interval joins the union in progress when it starts\n"
			"      before that union ends and ends inside it (or has more than 80% of its length\n"
			"      inside), else it starts the next union. Every value is counted once, so the\n"
			"      totals are the sums of the parts\n"
			"  fallout hdr split FILE [-o DIR]\n"
			"      one log per tag, DIR/<tag>.<FILE's name> (\"default\" for untagged values;\n"
			"      DIR defaults to FILE's folder); prints the files written\n"
			"  fallout hdr csv FILE [-o OUT.csv] [--tag T]\n"
			"      Fallout's hdr_split_to_csv layout: one row per interval with its start,\n"
			"      count, min, mean, p50, p90, p95, p99, p99.9, p99.99 and max\n"
			"  fallout hdr record -o OUT.hdr [--tag T] [--interval 1s] [--unit ns|us|ms|s]\n"
			"                     [--sigfigs 3]\n"
			"      reads one latency per line from stdin (or \"TAG VALUE\"), and writes an\n"
			"      interval log with one interval per --interval of wall time, flushed as it\n"
			"      goes; values are stored in ns\n"
			"\n"
			"Exit status: 0 done, 1 a log could not be read or written (a malformed line is\n"
			"reported as FILE:LINE: reason), 2 bad usage.\n",
	},
	{
		.name = "components",
		.fn = fo_cmd_components,
		.usage = "components [KIND [NAME]] [--json | --markdown]",
		.summary = "list the components and their properties",
		.help = "Documents the components fallout knows, from the same table that validates\n"
			"definitions. KIND is provisioner, configuration_manager, module, checker or\n"
			"artifact_checker; with NAME, one component in full.\n"
			"\n"
			"  --json           machine-readable output\n"
			"  --markdown       the whole registry as a Markdown reference (docs/components.md)\n",
	},
	{
		.name = "serve",
		.fn = fo_cmd_serve,
		.usage = "serve [--config FILE] [--listen ADDR:PORT] [--data DIR]",
		.summary = "run the fallout service: REST API, queue, stored tests and runs",
		.help = "Serves the REST API (FALLOUT-FORMAT.md 6; the OpenAPI description is at\n"
			"/openapi.json), keeps tests and runs in an SQLite store in the data folder, and runs\n"
			"queued tests in child processes, fairly, within the configured resource limits.\n"
			"Stops on SIGINT/SIGTERM; runs in progress go on and the next server re-adopts them.\n"
			"One server per data folder: a second one on the same folder refuses to start.\n"
			"Prints `fallout: serving URL (data: DIR)` once it listens, and one line per request on\n"
			"stderr: time, client, method, path, status, duration, user.\n"
			"\n"
			"  --config FILE      a YAML configuration file (see below and docs/service.md)\n"
			"  --listen ADDR:PORT where to listen (default 127.0.0.1:8080; [::1]:PORT for IPv6;\n"
			"                     port 0: any free one)\n"
			"  --data DIR         the data folder (default ./fallout-data)\n"
			"\n"
			"The configuration file (every key optional; flags win over it):\n"
			"  listen: 127.0.0.1:8080        data: fallout-data       store: sqlite:PATH\n"
			"  library: DIR                  public_url: https://fallout.example.com\n"
			"  auth_mode: multi|single_user  registration: false      admin: name:email:password\n"
			"  queue: {max_running: 4, nodes: {local: 12}}\n"
			"  limits: {max_body: 4MiB, max_definition: 1MiB}\n"
			"  sessions: {ttl: 7d}           login: {window: 60s, max_failures: 5}\n"
			"  housekeeping: {every: 1h, compress_after: 0, retention: 0}   (0: never)\n"
			"\n"
			"Environment (wins over the file): FALLOUT_ADMIN_CREDS=name:email:password creates that\n"
			"admin at start; FALLOUT_AUTH_MODE=SINGLE_USER signs every request in as that admin.\n"
			"\n"
			"Exit status: 0 stopped by a signal, 1 could not start, 2 a usage or configuration error.\n",
	},
	{
		.name = "login",
		.fn = fo_cmd_login,
		.usage = "login [--server URL] [--email EMAIL] [--password-stdin] [--label LABEL]",
		.summary = "sign in to a fallout server and keep an API token for the other client commands",
		.help = "Signs in with email and password, creates an API token labelled LABEL (default\n"
			"\"cli on <hostname>\") and saves the server's URL, the token and the email in\n"
			"$FALLOUT_CLIENT_CONFIG (default ~/.config/fallout/client.json), mode 0600, so `fallout\n"
			"test` and `fallout run` need no credentials. Prints\n"
			"  signed in to URL as EMAIL; token saved in FILE\n"
			"\n"
			"Exit status: 0 signed in, 1 the server refused (its message is shown) or could not\n"
			"be reached, 2 bad usage.\n"
			"\n"
			"  --server URL       the server (default: $FALLOUT_SERVER, or the saved one)\n"
			"  --email EMAIL      the account (default: the saved one, or asked on the terminal)\n"
			"  --password-stdin   read the password as one line of stdin (scripts, CI); otherwise\n"
			"                     it is asked on the terminal without echo\n"
			"  --label LABEL      the new token's label\n",
	},
	{
		.name = "test",
		.fn = fo_cmd_test,
		.usage = "test push FILE.yaml [--name NAME] | list [--owner EMAIL] [--json] | show NAME [--owner EMAIL] | "
			 "rm NAME [--forever]",
		.summary = "manage the tests stored on a fallout server",
		.help = "  fallout test push FILE.yaml [--name NAME]\n"
			"      creates the test NAME (default: the file's name without .yaml) from the file,\n"
			"      or replaces its definition when it exists; prints \"created NAME (version N)\"\n"
			"      or \"updated NAME (version N)\". An invalid definition is reported as\n"
			"      FILE:LINE:COL: message (exit 2)\n"
			"  fallout test list [--owner EMAIL] [--json]\n"
			"      your tests (or EMAIL's): name, version, last run, tags\n"
			"  fallout test show NAME [--owner EMAIL]\n"
			"      prints the test's definition (YAML)\n"
			"  fallout test rm NAME [--forever]\n"
			"      deletes the test (restorable; --forever removes it and its runs)\n"
			"\n"
			"Every client command takes --server URL and --token TOKEN; without them it uses\n"
			"$FALLOUT_SERVER and $FALLOUT_TOKEN, else the file `fallout login` writes\n"
			"($FALLOUT_CLIENT_CONFIG, default ~/.config/fallout/client.json).\n"
			"Exit status: 0 done, 1 the server refused or could not be reached, 2 bad usage or\n"
			"an invalid definition.\n",
	},
	{
		.name = "run",
		.fn = fo_cmd_run,
		.usage = "run start TEST [name=value ...] [--params FILE] [--owner EMAIL] [--wait] [--timeout D] "
			 "[--junit FILE] [--follow] | wait RUN | abort RUN | show RUN [--json] | "
			 "list [TEST] [--limit N] [--json] | artifacts RUN [--output DIR | --zip FILE | PATH]",
		.summary = "queue and follow runs on a fallout server",
		.help = "  fallout run start TEST [name=value ...] [--params FILE.yaml] [--owner EMAIL]\n"
			"                    [--wait] [--timeout D] [--junit FILE] [--follow]\n"
			"      queues a run of TEST (or OWNER/TEST) and prints its id on stdout. Parameters\n"
			"      are YAML scalars (3 a number, true a boolean, else a string); name=value wins\n"
			"      over --params. --wait follows the run until it ends, printing its states and\n"
			"      then its verdict (as `fallout exec` does) on stderr; Ctrl-C aborts the run on\n"
			"      the server and waits for its end (a second Ctrl-C stops waiting).\n"
			"      --timeout D aborts it when it takes longer (exit 1); --junit FILE writes a\n"
			"      JUnit XML report; --follow streams fallout-shared.log to stderr. The last three\n"
			"      imply --wait\n"
			"  fallout run wait RUN [--timeout D] [--junit FILE] [--follow]\n"
			"      as start --wait, for a run already queued\n"
			"  fallout run abort RUN\n"
			"  fallout run show RUN [--json]\n"
			"  fallout run list [TEST] [--owner EMAIL] [--limit N] [--json]\n"
			"      runs, newest first (of TEST, or of every test)\n"
			"  fallout run artifacts RUN [--output DIR | --zip FILE | PATH]\n"
			"      lists the run's artifacts with their sizes; --output downloads them all into\n"
			"      DIR keeping their paths; --zip saves them as one archive; PATH prints one\n"
			"\n"
			"Server and token as for `fallout test` (--server, --token, environment, or the\n"
			"file `fallout login` writes).\n"
			"Exit status of start --wait and wait: 0 the run passed, 1 it failed, was aborted or\n"
			"timed out, 2 it could not be queued (no such test, not allowed, invalid\n"
			"parameters) or bad usage. Other subcommands: 0 done, 1 refused or unreachable.\n",
	},
	{
		.name = "help",
		.fn = fo_cmd_help,
		.usage = "help [COMMAND]",
		.summary = "show help for fallout or one of its commands",
		.help = "Lists the commands, or shows one command's help.\n",
	},
	{
		.name = "version",
		.fn = fo_cmd_version,
		.usage = "version",
		.summary = "print the version",
		.help = "Prints fallout's version (also `fallout --version`).\n",
	},
};

const struct fo_command *fo_cli_find(const char *name)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int fo_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fallout: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	const struct fo_command *c = cmd ? fo_cli_find(cmd) : NULL;
	if (c)
		fprintf(stderr, "usage: fallout %s\n(see 'fallout help %s')\n", c->usage, c->name);
	else
		fputs("(see 'fallout help')\n", stderr);
	return FO_EXIT_USAGE;
}

int fo_cli_subcommand(const char *cmd, const struct fo_subcommand *subs, size_t n, const char *listed, int argc,
		      char **argv)
{
	if (argc < 2)
		return fo_cli_usage_error(cmd, "which subcommand? %s", listed);
	const char *names[64];
	size_t nn = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
		if (nn < FO_ARRAY_LEN(names))
			names[nn++] = subs[i].name;
	}
	const char *hint = fo_suggest(argv[1], names, nn);
	if (hint)
		return fo_cli_usage_error(cmd, "unknown subcommand '%s' (did you mean '%s'?)", argv[1], hint);
	return fo_cli_usage_error(cmd, "unknown subcommand '%s' (%s)", argv[1], listed);
}

static void print_overview(FILE *out)
{
	fputs("usage: fallout [--version] [--help] COMMAND [ARGS]\n\n"
	      "fallout runs distributed-systems tests written in Fallout's YAML format.\n\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < FO_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'fallout help COMMAND' shows a command's options.\n", out);
}

int fo_cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return fo_cli_usage_error("help", "help takes at most one command name");
	if (argc < 2) {
		print_overview(stdout);
		return FO_EXIT_OK;
	}
	const struct fo_command *c = fo_cli_find(argv[1]);
	if (!c)
		return fo_cli_usage_error("help", "'%s' is not a fallout command", argv[1]);
	printf("usage: fallout %s\n\n%s\n%s", c->usage, c->summary, c->help);
	return FO_EXIT_OK;
}

int fo_cmd_version(int argc, char **argv)
{
	FO_UNUSED(argv);
	if (argc > 1)
		return fo_cli_usage_error("version", "version takes no arguments");
	printf("fallout %s\n", fo_version);
	return FO_EXIT_OK;
}

int fo_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return FO_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		return fo_cmd_version(1, argv + 1);
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		return fo_cmd_help(argc - 1, argv + 1);
	const struct fo_command *c = fo_cli_find(name);
	if (!c) {
		if (name[0] == '-')
			return fo_cli_usage_error(NULL, "unknown option '%s'", name);
		return fo_cli_usage_error(NULL, "'%s' is not a fallout command", name);
	}
	/* `fallout CMD --help` shows the command's help. */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			char *hv[] = {"help", (char *)name, NULL};
			return fo_cmd_help(2, hv);
		}
	}
	return c->fn(argc - 1, argv + 1);
}
