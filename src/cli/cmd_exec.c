/*
 * cmd_exec.c: `fallout exec [--params F] [--library D] [-o DIR] [--run-id ID] [--owner NAME]
 * [--test-name NAME] TEST.yaml [name=value ...]`: runs one test on this machine (`fallout
 * serve` runs each queued run this way, giving the run's id, owner and test name). Exit 0
 * PASSED, 1 FAILED or ABORTED, 2 invalid definition or usage. While it runs, stderr shows
 * progress: a live line on a terminal, plain lines otherwise. SIGINT and SIGTERM abort the
 * run (teardown still runs; a second signal does not skip it).
 */
#include "util/common.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "engine/run.h"
#include "spec/definition.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/proc.h"

static struct fo_run *volatile current;

static void on_signal(int sig)
{
	FO_UNUSED(sig);
	if (current)
		fo_run_request_abort(current);
}

/* Progress for a person. */
struct progress {
	bool tty;
	int64_t t0;
	pthread_mutex_t lock;
	pthread_cond_t wake;         /* signalled to stop the ticker at once */
	pthread_t ticker;
	bool ticking, stop;
	size_t last_len;
	enum fo_run_state last_state;
};

static void elapsed(const struct progress *p, char *out, size_t n)
{
	double s = (double)(fo_now_ns() - p->t0) / 1e9;
	if (s < 60)
		snprintf(out, n, "%5.2fs", s);
	else
		snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
}

static void draw_line(struct progress *p, const struct fo_run *r)
{
	char t[32], act[512];
	elapsed(p, t, sizeof(t));
	fo_run_describe_activity(r, act, sizeof(act));
	char line[640];
	int n = snprintf(line, sizeof(line), "[%s] %s%s%s", t, fo_run_state_name(fo_run_state(r)), *act ? "  " : "",
			 act);
	if (n > 100) {
		n = 100;
		line[100] = '\0';
	}
	fprintf(stderr, "\r%s%*s", line, p->last_len > (size_t)n ? (int)(p->last_len - (size_t)n) : 0, "");
	p->last_len = (size_t)n;
	fflush(stderr);
}

static void on_progress(void *ctx, const struct fo_run *r, const char *event)
{
	struct progress *p = ctx;
	pthread_mutex_lock(&p->lock);
	if (p->tty) {
		draw_line(p, r);
	} else {
		char t[32];
		elapsed(p, t, sizeof(t));
		if (strcmp(event, "state") == 0 && fo_run_state(r) != p->last_state) {
			fprintf(stderr, "[%s] %s\n", t, fo_run_state_name(fo_run_state(r)));
			p->last_state = fo_run_state(r);
		} else if (strcmp(event, "activity") == 0) {
			char act[512];
			fo_run_describe_activity(r, act, sizeof(act));
			if (*act)
				fprintf(stderr, "[%s]   running %s\n", t, act);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

struct ticker_arg {
	struct progress *p;
	struct fo_run *r;
};

/* Redraws the live line five times a second, so the elapsed time moves. */
static void *ticker(void *arg)
{
	struct ticker_arg *ta = arg;
	pthread_mutex_lock(&ta->p->lock);
	while (!ta->p->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ta->p->wake, &ta->p->lock, &ts);
		if (!ta->p->stop)
			draw_line(ta->p, ta->r);
	}
	pthread_mutex_unlock(&ta->p->lock);
	return NULL;
}

/* True if path exists and holds anything. */
static bool non_empty_dir(const char *path, bool *is_file)
{
	*is_file = false;
	DIR *d = opendir(path);
	if (!d) {
		*is_file = errno == ENOTDIR;
		return false;
	}
	struct dirent *e;
	bool any = false;
	while (!any && (e = readdir(d)) != NULL)
		any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return any;
}

static void summary(const struct fo_run *r, enum fo_run_state final, double secs)
{
	fprintf(stderr, "fallout: %s in %.2fs (test run %s)\n", fo_run_state_name(final), secs, fo_run_id(r));
	if (final != FO_RUN_PASSED && fo_run_failure(r))
		fprintf(stderr, "  failed during %s: %s\n", fo_run_state_name(fo_run_failed_during(r)), fo_run_failure(r));
	const struct fo_verdict *v;
	size_t n = fo_run_verdicts(r, &v);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %-6s %s %s (%s)%s%s\n", v[i].passed ? "PASS" : "FAIL",
			v[i].artifact ? "artifact checker" : "checker", v[i].alias, v[i].checker,
			*v[i].message ? ": " : "", v[i].message);
	const char *const *notes;
	size_t nn = fo_run_notes(r, &notes);
	for (size_t i = 0; i < nn; i++)
		fprintf(stderr, "  NOTE   %s\n", notes[i]);
	fprintf(stderr, "  artifacts: %s\n", fo_run_dir(r));
}

int fo_cmd_exec(int argc, char **argv)
{
	struct fo_def_args args;
	int rc = fo_cli_def_args_out(&args, "exec", argc, argv);
	if (rc) {
		fo_cli_def_args_release(&args);
		return rc;
	}
	struct fo_def *def = NULL;
	if (args.diags.errors == 0)
		fo_def_load(args.file, &args.opts, &def, &args.diags);
	fo_diags_sort(&args.diags);
	fo_diags_print(&args.diags, stderr);
	if (!def) {
		fprintf(stderr, "fallout: %s is not a valid test definition (%zu error%s); nothing was run\n", args.file,
			args.diags.errors, args.diags.errors == 1 ? "" : "s");
		fo_cli_def_args_release(&args);
		return FO_EXIT_USAGE;
	}
	char *name = args.test_name ? fo_strdup(args.test_name) : fo_def_name_of(args.file);
	char id[37];
	if (args.run_id)
		snprintf(id, sizeof(id), "%s", args.run_id);
	else
		fo_run_new_id(id);
	struct fo_buf out = FO_BUF_INIT;
	if (args.out_dir) {
		bool is_file;
		if (non_empty_dir(args.out_dir, &is_file) || is_file) {
			fo_free(name);
			fo_buf_release(&out);
			fo_def_free(def);
			fo_cli_def_args_release(&args);
			return fo_cli_usage_error("exec", "the output folder '%s' %s; give a new or empty folder",
						  args.out_dir, is_file ? "is a file" : "is not empty");
		}
		fo_buf_adds(&out, args.out_dir);
	} else {
		fo_buf_addf(&out, "runs/%s/%s", name, id);
	}
	struct progress prog = {.tty = isatty(2) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0,
				.t0 = fo_now_ns(), .last_state = FO__RUN_STATE_COUNT};
	pthread_mutex_init(&prog.lock, NULL);
	pthread_cond_init(&prog.wake, NULL);
	struct fo_run_opts ro = {
		.out_dir = out.s, .test_name = name, .run_id = id, .owner = args.owner, .definition_file = args.file,
		.progress = on_progress, .progress_ctx = &prog,
	};
	struct fo_err err = {0};
	struct fo_run *run = fo_run_new(def, &ro, &err);
	int exit_code = FO_EXIT_FAILED;
	if (!run) {
		fprintf(stderr, "fallout: cannot start the run: %s\n", err.msg);
	} else {
		current = run;
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		struct sigaction old_int, old_term;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		signal(SIGPIPE, SIG_IGN);
		struct ticker_arg ta = {.p = &prog, .r = run};
		if (prog.tty && pthread_create(&prog.ticker, NULL, ticker, &ta) == 0)
			prog.ticking = true;
		enum fo_run_state final = fo_run_execute(run);
		if (prog.ticking) {
			pthread_mutex_lock(&prog.lock);
			prog.stop = true;
			pthread_cond_signal(&prog.wake);
			pthread_mutex_unlock(&prog.lock);
			pthread_join(prog.ticker, NULL);
		}
		if (prog.tty)
			fputc('\n', stderr);
		summary(run, final, (double)(fo_now_ns() - prog.t0) / 1e9);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		current = NULL;
		exit_code = final == FO_RUN_PASSED ? FO_EXIT_OK : FO_EXIT_FAILED;
		fo_run_free(run);
	}
	pthread_cond_destroy(&prog.wake);
	pthread_mutex_destroy(&prog.lock);
	fo_free(name);
	fo_buf_release(&out);
	fo_def_free(def);
	fo_cli_def_args_release(&args);
	return exit_code;
}
