/*
 * cmd_validate.c: `fallout validate [--params F] [--library D] [-q] TEST.yaml [name=value ...]`.
 * Exit 0 and the expanded definition on stdout when valid; exit 2 and every problem on
 * stderr (FILE:LINE:COL: error: message) when not.
 */
#include "util/common.h"

#include "cli/cli.h"
#include "cli/options.h"
#include "spec/definition.h"
#include "util/arena.h"
#include "util/diag.h"

int fo_cmd_validate(int argc, char **argv)
{
	struct fo_def_args args;
	int rc = fo_cli_def_args(&args, "validate", argc, argv);
	if (rc) {
		fo_cli_def_args_release(&args);
		return rc;
	}
	struct fo_def *def = NULL;
	int exit_code = FO_EXIT_OK;
	if (args.diags.errors == 0)
		fo_def_load(args.file, &args.opts, &def, &args.diags);
	fo_diags_sort(&args.diags);
	fo_diags_print(&args.diags, stderr);
	if (!def) {
		fprintf(stderr, "fallout: %s is not a valid test definition (%zu error%s)\n", args.file,
			args.diags.errors, args.diags.errors == 1 ? "" : "s");
		exit_code = FO_EXIT_USAGE;
	} else if (!args.quiet) {
		fwrite(def->text, 1, def->text_len, stdout);
		if (def->text_len && def->text[def->text_len - 1] != '\n')
			putchar('\n');
	}
	fo_def_free(def);
	fo_cli_def_args_release(&args);
	return exit_code;
}
