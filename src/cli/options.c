/*
 * options.c: parsing the shared definition arguments of options.h. Parameters given as
 * name=value win over those of --params files, whatever the order on the command line.
 */
#include "util/common.h"

#include "cli/cli.h"
#include "cli/options.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/strutil.h"

static int parse(struct fo_def_args *args, const char *cmd, int argc, char **argv, bool accept_output);

int fo_cli_def_args(struct fo_def_args *args, const char *cmd, int argc, char **argv)
{
	return parse(args, cmd, argc, argv, false);
}

int fo_cli_def_args_out(struct fo_def_args *args, const char *cmd, int argc, char **argv)
{
	return parse(args, cmd, argc, argv, true);
}

static int parse(struct fo_def_args *args, const char *cmd, int argc, char **argv, bool accept_output)
{
	memset(args, 0, sizeof(*args));
	args->a = fo_arena_new();
	const char *env_lib = getenv("FALLOUT_LIBRARY");
	if (env_lib && *env_lib)
		args->opts.library = env_lib;
	const char *params_files[64];
	size_t nfiles = 0;
	const char *assigns[1024];
	size_t nassigns = 0;
	bool only_positional = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_positional && strcmp(a, "--") == 0) {
			only_positional = true;
		} else if (!only_positional && (strcmp(a, "--params") == 0 || strcmp(a, "--library") == 0)) {
			if (i + 1 >= argc)
				return fo_cli_usage_error(cmd, "%s needs a value", a);
			if (a[2] == 'p') {
				if (nfiles == FO_ARRAY_LEN(params_files))
					return fo_cli_usage_error(cmd, "too many --params files");
				params_files[nfiles++] = argv[++i];
			} else {
				args->opts.library = argv[++i];
			}
		} else if (!only_positional && fo_starts_with(a, "--params=")) {
			if (nfiles == FO_ARRAY_LEN(params_files))
				return fo_cli_usage_error(cmd, "too many --params files");
			params_files[nfiles++] = a + 9;
		} else if (!only_positional && fo_starts_with(a, "--library=")) {
			args->opts.library = a + 10;
		} else if (!only_positional && accept_output && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)) {
			if (i + 1 >= argc)
				return fo_cli_usage_error(cmd, "%s needs a folder", a);
			args->out_dir = argv[++i];
		} else if (!only_positional && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
			args->quiet = true;
		} else if (!only_positional && a[0] == '-' && a[1]) {
			return fo_cli_usage_error(cmd, "unknown option '%s'", a);
		} else if (!args->file) {
			args->file = a;
		} else {
			if (nassigns == FO_ARRAY_LEN(assigns))
				return fo_cli_usage_error(cmd, "too many parameters");
			assigns[nassigns++] = a;
		}
	}
	if (!args->file)
		return fo_cli_usage_error(cmd, "which test definition? give the path of a YAML file");
	struct fo_ynode *params = NULL;
	for (size_t i = 0; i < nfiles; i++)
		fo_params_add_file(args->a, &params, params_files[i], &args->diags);
	for (size_t i = 0; i < nassigns; i++) {
		struct fo_err err = {0};
		if (fo_params_add_arg(args->a, &params, assigns[i], &err))
			return fo_cli_usage_error(cmd, "%s", err.msg);
	}
	args->opts.params = params;
	return 0;
}

void fo_cli_def_args_release(struct fo_def_args *args)
{
	fo_diags_release(&args->diags);
	fo_arena_free(args->a);
	args->a = NULL;
}
