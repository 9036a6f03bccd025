/*
 * options.h: the arguments every command that loads a definition shares:
 * `[--params FILE]... [--library DIR] [-q] TEST.yaml [name=value ...]`.
 */
#ifndef FO_CLI_OPTIONS_H
#define FO_CLI_OPTIONS_H

#include <stdbool.h>

#include "spec/definition.h"
#include "util/diag.h"

struct fo_def_args {
	const char *file;          /* the definition */
	struct fo_def_opts opts;   /* library and parameters */
	struct fo_arena *a;        /* owns the parameters */
	struct fo_diags diags;     /* problems with --params files */
	bool quiet;
	const char *out_dir;       /* -o DIR (only for commands that accept it) */
	/* Only with fo_cli_def_args_out (exec), NULL when not given: */
	const char *run_id;        /* --run-id ID: a UUID (checked) */
	const char *owner;         /* --owner NAME */
	const char *test_name;     /* --test-name NAME */
};

/*
 * Parses argv (argv[0] is the command name) into args. Returns 0, or FO_EXIT_USAGE after
 * printing a usage error. Release args with fo_cli_def_args_release either way.
 */
int fo_cli_def_args(struct fo_def_args *args, const char *cmd, int argc, char **argv);
/* As fo_cli_def_args, also accepting `-o DIR` / `--output DIR`, `--run-id ID` (a UUID),
 * `--owner NAME` and `--test-name NAME` (each also as --opt=VALUE). */
int fo_cli_def_args_out(struct fo_def_args *args, const char *cmd, int argc, char **argv);
void fo_cli_def_args_release(struct fo_def_args *args);

#endif
