/*
 * cli.h: the command-line front end. One table of commands (git's git.c), one file per
 * command (cmd_<name>.c). Only cli/ prints to the user or decides exit codes.
 *
 * Exit codes: 0 success (a valid definition, a passed run), 1 a failed or aborted run,
 * 2 an invalid definition or a usage error.
 */
#ifndef FO_CLI_H
#define FO_CLI_H

#include <stddef.h>
#include <stdio.h>

enum { FO_EXIT_OK = 0, FO_EXIT_FAILED = 1, FO_EXIT_USAGE = 2 };

typedef int (*fo_cmd_fn)(int argc, char **argv);

struct fo_command {
	const char *name;
	fo_cmd_fn fn;
	const char *usage;   /* the synopsis, after "fallout " */
	const char *summary; /* one line */
	const char *help;    /* the full help text shown by `fallout help NAME` */
};

/* Runs the program: dispatches argv[1] to its command. Returns the exit code. */
int fo_cli_main(int argc, char **argv);
/* Returns the command called name, or NULL. */
const struct fo_command *fo_cli_find(const char *name);
/* Prints "fallout: <msg>" and a pointer to help for cmd to stderr; returns FO_EXIT_USAGE. */
int fo_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One subcommand of a command (`fallout hdr summary`, `fallout run start`). */
struct fo_subcommand {
	const char *name;
	fo_cmd_fn fn;
};
/*
 * Runs the subcommand argv[1] of cmd among subs[0..n) with argc - 1, argv + 1 and returns
 * its exit code; when argv[1] is missing or unknown, prints a usage error naming the
 * choices (listed: "start, wait or abort"), with a "did you mean" hint for a likely typo.
 */
int fo_cli_subcommand(const char *cmd, const struct fo_subcommand *subs, size_t n, const char *listed, int argc,
		      char **argv);

/* The version string, from the build (git describe when available). */
extern const char fo_version[];

/* Commands (one file each). */
int fo_cmd_validate(int argc, char **argv);
int fo_cmd_exec(int argc, char **argv);
int fo_cmd_components(int argc, char **argv);
int fo_cmd_cleanup(int argc, char **argv);
int fo_cmd_hdr(int argc, char **argv);
int fo_cmd_report(int argc, char **argv);
int fo_cmd_serve(int argc, char **argv);
int fo_cmd_login(int argc, char **argv);
int fo_cmd_test(int argc, char **argv);
int fo_cmd_run(int argc, char **argv);
int fo_cmd_help(int argc, char **argv);
int fo_cmd_version(int argc, char **argv);

#endif
