/*
 * cli.c: the command table and dispatcher of bin/fallout, `fallout help`, and
 * `fallout --version`.
 */
#include "util/common.h"

#include "cli/cli.h"
#include "version.h"

const char fo_version[] = FO_VERSION;

static const struct fo_command commands[] = {
	{
		.name = "exec",
		.fn = fo_cmd_exec,
		.usage = "exec [--params FILE] [--library DIR] [-o DIR] TEST.yaml [name=value ...]",
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
