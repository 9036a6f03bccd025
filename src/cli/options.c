/*
 * options.c: parsing the shared definition arguments of options.h. Parameters given as
 * name=value win over those of --params files, whatever the order on the command line.
 */
#include "util/common.h"

#include <ctype.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/strutil.h"

static int parse(struct fo_def_args *args, const char *cmd, int argc, char **argv, bool accept_output);

/* True if s is a UUID: 8-4-4-4-12 hex digits. */
static bool is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[sizeof(shape) - 1] == '\0';
}

/*
 * The run identity options of exec (--run-id, --owner, --test-name, with a separate value
 * or as --opt=VALUE) at argv[*i]. Returns 1 when it took the option (and its value),
 * 0 when argv[*i] is none of them, or -1 after printing a usage error.
 */
static int identity_option(struct fo_def_args *args, const char *cmd, int argc, char **argv, int *i)
{
	static const char *const names[] = {"--run-id", "--owner", "--test-name"};
	const char *a = argv[*i];
	for (size_t k = 0; k < FO_ARRAY_LEN(names); k++) {
		size_t n = strlen(names[k]);
		const char *value;
		if (strcmp(a, names[k]) == 0) {
			if (*i + 1 >= argc)
				return fo_cli_usage_error(cmd, "%s needs a value", a), -1;
			value = argv[++*i];
		} else if (strncmp(a, names[k], n) == 0 && a[n] == '=') {
			value = a + n + 1;
		} else {
			continue;
		}
		if (!*value)
			return fo_cli_usage_error(cmd, "%s needs a non-empty value", names[k]), -1;
		if (k == 0) {
			if (!is_uuid(value))
				return fo_cli_usage_error(cmd, "invalid run id '%s': give a UUID", value), -1;
			args->run_id = value;
		} else if (k == 1) {
			args->owner = value;
		} else {
			if (strchr(value, '/') || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
				return fo_cli_usage_error(cmd, "invalid test name '%s'", value), -1;
			args->test_name = value;
		}
		return 1;
	}
	return 0;
}

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
	int rc;
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
		} else if (!only_positional && accept_output && a[0] == '-' && a[1] == '-' &&
			   (rc = identity_option(args, cmd, argc, argv, &i)) != 0) {
			if (rc < 0)
				return FO_EXIT_USAGE;
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
