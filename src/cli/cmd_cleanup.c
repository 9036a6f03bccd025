/*
 * cmd_cleanup.c: `fallout cleanup`, which undoes what killed runs left behind. Every run
 * lists itself in the state folder while it runs; a run whose fallout process is gone
 * (killed with SIGKILL, a crash, a reboot) still has its ledger, and cleanup kills the
 * process groups and removes the folders recorded there. Runs still alive are left
 * alone. With --dry-run it only says what it would do.
 */
#include "util/common.h"

#include "cli/cli.h"
#include "engine/ledger.h"
#include "util/err.h"

static void print_note(void *ctx, const char *what)
{
	FO_UNUSED(ctx);
	printf("  %s\n", what);
}

static const char *plural(int n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int fo_cmd_cleanup(int argc, char **argv)
{
	bool dry_run = false, quiet = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			dry_run = true;
		else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
			quiet = true;
		else if (argv[i][0] == '-')
			return fo_cli_usage_error("cleanup", "unknown option '%s'", argv[i]);
		else
			return fo_cli_usage_error("cleanup", "cleanup takes no arguments, got '%s'", argv[i]);
	}
	struct fo_cleanup_report rep = {0};
	struct fo_err err = {0};
	int rc = fo_ledger_cleanup_with(dry_run, quiet ? NULL : print_note, NULL, &rep, &err);
	if (dry_run)
		printf("cleanup (dry run): %d %s, would kill %d process %s, would remove %d %s", rep.runs,
		       plural(rep.runs, "run", "runs"), rep.procs, plural(rep.procs, "group", "groups"), rep.dirs,
		       plural(rep.dirs, "folder", "folders"));
	else
		printf("cleanup: %d %s, %d process %s killed, %d %s removed", rep.runs, plural(rep.runs, "run", "runs"),
		       rep.procs, plural(rep.procs, "group", "groups"), rep.dirs, plural(rep.dirs, "folder", "folders"));
	if (rep.skipped)
		printf(" (%d running %s left alone)", rep.skipped, plural(rep.skipped, "run", "runs"));
	putchar('\n');
	fflush(stdout);
	if (rc) {
		fprintf(stderr, "fallout: cleanup: %s\n", err.code ? err.msg : fo_strerror(rc));
		return FO_EXIT_FAILED;
	}
	return FO_EXIT_OK;
}
