/*
 * cmd_run.c: `fallout run start|wait|abort|show|list|artifacts`: runs on a fallout server.
 *
 * `run start TEST [name=value ...]` queues a run and prints its id on stdout (alone, so a
 * script can capture it). With --wait it then follows the run as `fallout exec` would and
 * exits the same way: 0 PASSED, 1 FAILED or ABORTED (or --timeout passed: the run is
 * aborted), 2 when it could not be queued or the command line is wrong. Ctrl-C while
 * waiting aborts the run on the server and keeps waiting for its end; a second Ctrl-C stops
 * waiting. --follow streams the run's fallout-shared.log to stderr over server-sent
 * events; --junit writes a JUnit XML report (client/junit.h).
 */
#include "util/common.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client_cli.h"
#include "client/client.h"
#include "client/junit.h"
#include "spec/definition.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"

#define POLL_NS 500000000L
#define MAX_PARAMS 1024

static const char *sget(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static bool is_final(const char *state)
{
	return strcmp(state, "PASSED") == 0 || strcmp(state, "FAILED") == 0 || strcmp(state, "ABORTED") == 0;
}

/* "/tests/ui/E/N/R" + rest, or "/tests/E/N/runs/R" + rest, for the run j. */
static void run_path(struct fo_buf *b, const json_t *run, bool ui, const char *rest)
{
	fo_buf_adds(b, ui ? "/tests/ui/" : "/tests/");
	fo_client_escape(b, sget(run, "owner"), false);
	fo_buf_addch(b, '/');
	fo_client_escape(b, sget(run, "testName"), false);
	fo_buf_adds(b, ui ? "/" : "/runs/");
	fo_client_escape(b, sget(run, "testRunId"), false);
	fo_buf_adds(b, rest);
}

/*
 * Fetches the run called id into *run (owned). Returns 0; or prints why not and returns
 * the exit code (2 when there is no such run).
 */
static int get_run(struct fo_client *cl, const char *id, json_t **run, bool quiet)
{
	*run = NULL;
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_adds(&path, "/tests/runs/");
	fo_client_escape(&path, id, false);
	fo_buf_adds(&path, "/api");
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = 0;
	if (fo_client_json(cl, "GET", path.s, NULL, &resp, &err)) {
		rc = quiet ? FO_EXIT_FAILED : fo_cli_unreachable(&err);
	} else if (resp.status != 200) {
		rc = quiet ? FO_EXIT_FAILED : fo_cli_refused(&resp, "cannot find run '%s'", id);
		if (resp.status == 404)
			rc = FO_EXIT_USAGE;
	} else if ((*run = fo_cli_json(&resp)), !json_is_object(*run)) {
		/* not json_is_object(*run = ...): the macro evaluates its argument twice */
		json_decref(*run);
		*run = NULL;
		if (!quiet)
			fprintf(stderr, "fallout: the server's answer for run '%s' is not a run\n", id);
		rc = FO_EXIT_FAILED;
	}
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	return rc;
}

/* Asks the server to abort run. Returns 200, 304 (finished already), or another status
 * (0: unreachable), after printing what went wrong unless quiet. */
static long abort_run(struct fo_client *cl, const json_t *run)
{
	struct fo_buf path = FO_BUF_INIT;
	run_path(&path, run, false, "/abort/api");
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	long status = 0;
	if (fo_client_json(cl, "POST", path.s, NULL, &resp, &err)) {
		fo_cli_unreachable(&err);
	} else {
		status = resp.status;
		if (status != 200 && status != 304)
			fo_cli_refused(&resp, "cannot abort the run");
	}
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	return status;
}

/* ---- following fallout-shared.log over server-sent events ---- */

struct follow {
	struct fo_client *cl;
	struct fo_buf path;
	pthread_t thread;
	atomic_bool stop;      /* set by the waiter: stop now */
	atomic_bool finished;  /* the stream said `finished` */
	struct fo_buf line;    /* the line being received */
	struct fo_buf data;    /* the data lines of the event being received */
	char event[32];
	size_t shown;          /* data lines printed so far */
	size_t seen;           /* data lines received on this connection */
};

static void dispatch(struct follow *f)
{
	if (strcmp(f->event, "finished") == 0) {
		atomic_store(&f->finished, true);
	} else if (strcmp(f->event, "updated") == 0 || strcmp(f->event, "message") == 0) {
		/* After a reconnection the server sends the log from its start: skip what was shown. */
		const char *p = f->data.s;
		while (f->data.len && *p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			if (++f->seen > f->shown) {
				fwrite(p, 1, n, stderr);
				fputc('\n', stderr);
				f->shown++;
			}
			if (!nl)
				break;
			p = nl + 1;
		}
		fflush(stderr);
	}
	fo_buf_clear(&f->data);
	snprintf(f->event, sizeof(f->event), "message");
}

static bool on_sse(void *ctx, const char *p, size_t n)
{
	struct follow *f = ctx;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			fo_buf_addch(&f->line, p[i]);
			continue;
		}
		if (f->line.len && f->line.s[f->line.len - 1] == '\r')
			fo_buf_truncate(&f->line, f->line.len - 1);
		const char *l = f->line.s;
		if (f->line.len == 0) {
			dispatch(f);
		} else if (l[0] == ':') {
			/* a comment: the heartbeat */
		} else if (fo_starts_with(l, "event:")) {
			l += 6;
			snprintf(f->event, sizeof(f->event), "%s", l + (*l == ' '));
		} else if (fo_starts_with(l, "data:")) {
			l += 5;
			fo_buf_adds(&f->data, l + (*l == ' '));
			fo_buf_addch(&f->data, '\n');
		}
		fo_buf_clear(&f->line);
		if (atomic_load(&f->finished))
			return false;
	}
	return true;
}

static bool follow_cancelled(void *ctx)
{
	struct follow *f = ctx;
	return atomic_load(&f->stop);
}

static void *follow_main(void *arg)
{
	struct follow *f = arg;
	struct fo_client_req rq = {.method = "GET", .path = f->path.s, .sink = on_sse, .cancel = follow_cancelled,
				   .ctx = f, .no_timeout = true};
	while (!atomic_load(&f->stop) && !atomic_load(&f->finished)) {
		struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
		struct fo_err err = {0};
		f->seen = 0;
		fo_buf_clear(&f->line);
		fo_buf_clear(&f->data);
		snprintf(f->event, sizeof(f->event), "message");
		fo_client_request(f->cl, &rq, &resp, &err);
		fo_client_resp_release(&resp);
		/* Not there yet (a queued run), or the connection dropped: try again shortly. */
		for (int i = 0; i < 5 && !atomic_load(&f->stop) && !atomic_load(&f->finished); i++) {
			struct timespec ts = {0, 100000000L};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static struct follow *follow_start(struct fo_client *cl, const json_t *run)
{
	struct follow *f = fo_calloc(1, sizeof(*f));
	f->cl = cl;
	fo_buf_adds(&f->path, "/live/artifacts/");
	fo_client_escape(&f->path, sget(run, "owner"), false);
	fo_buf_addch(&f->path, '/');
	fo_client_escape(&f->path, sget(run, "testName"), false);
	fo_buf_addch(&f->path, '/');
	fo_client_escape(&f->path, sget(run, "testRunId"), false);
	fo_buf_adds(&f->path, "/fallout-shared.log");
	atomic_init(&f->stop, false);
	atomic_init(&f->finished, false);
	if (pthread_create(&f->thread, NULL, follow_main, f) != 0) {
		fo_buf_release(&f->path);
		fo_free(f);
		return NULL;
	}
	return f;
}

/* Lets the stream deliver its end (up to 2 s), then stops it. */
static void follow_stop(struct follow *f)
{
	if (!f)
		return;
	int64_t until = fo_now_ns() + 2000000000LL;
	while (!atomic_load(&f->finished) && fo_now_ns() < until) {
		struct timespec ts = {0, 50000000L};
		nanosleep(&ts, NULL);
	}
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	fo_buf_release(&f->path);
	fo_buf_release(&f->line);
	fo_buf_release(&f->data);
	fo_free(f);
}

/* ---- waiting for a run ---- */

static volatile sig_atomic_t interrupts;

static void on_signal(int sig)
{
	FO_UNUSED(sig);
	interrupts++;
}

static bool catching;
static struct sigaction old_int, old_term;

/* From now on SIGINT and SIGTERM are counted in interrupts (idempotent). */
static void catch_signals(void)
{
	if (catching)
		return;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	interrupts = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	catching = true;
}

static void release_signals(void)
{
	if (!catching)
		return;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	catching = false;
}

struct wait_opts {
	int64_t timeout_ns;  /* 0: none */
	const char *timeout_text;
	const char *junit;   /* may be NULL */
	bool follow;
};

/* Prints the final verdict as `fallout exec` does. */
static void summary(const json_t *run)
{
	double t0 = fo_junit_parse_time(json_string_value(json_object_get(run, "startedAt")));
	double t1 = fo_junit_parse_time(json_string_value(json_object_get(run, "finishedAt")));
	const char *state = sget(run, "state");
	fprintf(stderr, "fallout: %s in %.2fs (test run %s)\n", state, t0 >= 0 && t1 >= t0 ? t1 - t0 : 0.0,
		sget(run, "testRunId"));
	if (strcmp(state, "PASSED") != 0 && (*sget(run, "failureReason") || *sget(run, "failedDuring")))
		fprintf(stderr, "  failed during %s: %s\n", *sget(run, "failedDuring") ? sget(run, "failedDuring") : "?",
			sget(run, "failureReason"));
	const json_t *results = json_object_get(run, "results");
	const json_t *checkers = json_object_get(results, "checkers");
	for (size_t i = 0; i < json_array_size(checkers); i++) {
		const json_t *v = json_array_get(checkers, i);
		const char *kind = sget(v, "kind");
		const char *msg = sget(v, "message");
		fprintf(stderr, "  %-6s %s %s (%s)%s%s\n", json_is_true(json_object_get(v, "passed")) ? "PASS" : "FAIL",
			strstr(kind, "artifact") ? "artifact checker" : "checker", sget(v, "alias"), sget(v, "checker"),
			*msg ? ": " : "", msg);
	}
	const json_t *notes = json_object_get(results, "notes");
	for (size_t i = 0; i < json_array_size(notes); i++) {
		const json_t *n = json_array_get(notes, i);
		fprintf(stderr, "  NOTE   %s\n", json_is_string(n) ? json_string_value(n) : sget(n, "message"));
	}
	fprintf(stderr, "  artifacts: fallout run artifacts %s\n", sget(run, "testRunId"));
}

static int write_junit(const char *file, const json_t *run, const char *server)
{
	struct fo_buf x = FO_BUF_INIT;
	fo_junit_write(run, server, &x);
	FILE *f = fopen(file, "w");
	bool ok = f && fwrite(x.s, 1, x.len, f) == x.len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "fallout: cannot write the JUnit report '%s': %s\n", file, strerror(errno));
	fo_buf_release(&x);
	return ok ? 0 : FO_EXIT_FAILED;
}

/* Follows run (owned: taken) until it ends; returns the exit code. */
static int wait_run(struct fo_client *cl, json_t *run, const struct wait_opts *wo)
{
	char *id = fo_strdup(sget(run, "testRunId"));
	catch_signals();
	struct follow *f = wo->follow ? follow_start(cl, run) : NULL;
	int64_t start = fo_now_ns();
	int64_t abort_deadline = 0;
	bool aborted = false, timed_out = false, gave_up = false, warned = false;
	char last[64] = "";
	for (;;) {
		const char *state = sget(run, "state");
		if (strcmp(state, last) != 0) {
			fprintf(stderr, "fallout: run %s: %s\n", id, state);
			snprintf(last, sizeof(last), "%s", state);
		}
		if (is_final(state))
			break;
		if (interrupts > 1 || (abort_deadline && fo_now_ns() > abort_deadline)) {
			fprintf(stderr, "fallout: stopped waiting for run %s; the server is aborting it\n", id);
			gave_up = true;
			break;
		}
		bool too_long = wo->timeout_ns && fo_now_ns() - start > wo->timeout_ns;
		if (!aborted && (interrupts > 0 || too_long)) {
			if (too_long) {
				timed_out = true;
				fprintf(stderr, "fallout: run %s did not end within %s; aborting it\n", id,
					wo->timeout_text);
			} else {
				fprintf(stderr, "fallout: aborting run %s (Ctrl-C again stops waiting)\n", id);
			}
			abort_run(cl, run);
			aborted = true;
			abort_deadline = too_long ? fo_now_ns() + 60000000000LL : 0;
		}
		struct timespec ts = {0, POLL_NS};
		nanosleep(&ts, NULL);
		json_t *next = NULL;
		if (get_run(cl, id, &next, warned) == 0) {
			json_decref(run);
			run = next;
			warned = false;
		} else if (!warned) {
			fprintf(stderr, "fallout: still trying to reach the server\n");
			warned = true;
		}
	}
	follow_stop(f);
	release_signals();
	const char *state = sget(run, "state");
	int rc = strcmp(state, "PASSED") == 0 ? FO_EXIT_OK : FO_EXIT_FAILED;
	if (timed_out || gave_up)
		rc = FO_EXIT_FAILED;
	if (!gave_up)
		summary(run);
	if (wo->junit && write_junit(wo->junit, run, cl->server) && rc == FO_EXIT_OK)
		rc = FO_EXIT_FAILED;
	json_decref(run);
	fo_free(id);
	return rc;
}

/* Parses --timeout into wo. Returns 0 or a usage error. */
static int parse_wait_opts(struct wait_opts *wo, const char *timeout)
{
	if (!timeout)
		return 0;
	if (fo_duration_parse(timeout, &wo->timeout_ns) || wo->timeout_ns <= 0)
		return fo_cli_usage_error("run", "--timeout '%s' is not a duration such as 90s or 10m", timeout);
	wo->timeout_text = timeout;
	return 0;
}

/* ---- subcommands ---- */

static int start(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	const char *params_file = NULL, *timeout = NULL, *junit = NULL;
	bool wait = false, follow = false;
	const struct fo_cli_opt opts[] = {
		FO_CLI_COMMON_OPTS(c),
		{"--params", NULL, &params_file, NULL},
		{"--timeout", NULL, &timeout, NULL},
		{"--junit", NULL, &junit, NULL},
		{"--wait", NULL, NULL, &wait},
		{"--follow", NULL, NULL, &follow},
	};
	const char *pos[MAX_PARAMS + 1];
	size_t npos;
	if (fo_cli_parse("run", argc, argv, opts, FO_ARRAY_LEN(opts), pos, FO_ARRAY_LEN(pos), &npos))
		return FO_EXIT_USAGE;
	if (npos < 1)
		return fo_cli_usage_error("run", "run start needs the name of a test");
	struct wait_opts wo = {.junit = junit, .follow = follow};
	if (parse_wait_opts(&wo, timeout))
		return FO_EXIT_USAGE;
	wait = wait || junit || follow || timeout;

	/* The parameters, typed as YAML scalars; name=value wins over --params. */
	struct fo_arena *a = fo_arena_new();
	struct fo_ynode *params = NULL;
	struct fo_diags diags = {0};
	if (params_file && fo_params_add_file(a, &params, params_file, &diags)) {
		fo_diags_sort(&diags);
		fo_diags_print(&diags, stderr);
		fo_diags_release(&diags);
		fo_arena_free(a);
		return fo_cli_usage_error("run", "cannot use the parameters in '%s'", params_file);
	}
	fo_diags_release(&diags);
	for (size_t i = 1; i < npos; i++) {
		struct fo_err err = {0};
		if (fo_params_add_arg(a, &params, pos[i], &err)) {
			fo_arena_free(a);
			return fo_cli_usage_error("run", "%s", err.msg);
		}
	}
	struct fo_buf body = FO_BUF_INIT;
	fo_buf_adds(&body, "{\"jsonTemplateParams\":");
	if (params)
		fo_yaml_emit_json(params, &body);
	else
		fo_buf_adds(&body, "{}");
	fo_buf_adds(&body, "}");
	fo_arena_free(a);

	struct fo_client cl;
	if (fo_cli_client(&cl, "run", c.server, c.token)) {
		fo_buf_release(&body);
		return FO_EXIT_USAGE;
	}
	/* TEST may be OWNER/NAME. */
	const char *test = pos[0], *slash = strrchr(test, '/');
	struct fo_buf owner = FO_BUF_INIT;
	if (slash)
		fo_buf_add(&owner, test, (size_t)(slash - test));
	else if (c.owner)
		fo_buf_adds(&owner, c.owner);
	const char *name = slash ? slash + 1 : test;
	struct fo_buf path = FO_BUF_INIT;
	fo_cli_test_path(&path, owner.len ? owner.s : NULL, name, "/runs/api");
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = FO_EXIT_OK;
	json_t *run = NULL;
	/* A Ctrl-C from here on aborts the run once it is queued, not the client. */
	if (wait)
		catch_signals();
	if (fo_client_json(&cl, "POST", path.s, body.s, &resp, &err)) {
		fo_cli_unreachable(&err);
		rc = FO_EXIT_USAGE;
	} else if (resp.status / 100 != 2) {
		fo_cli_refused(&resp, "cannot start a run of '%s'", test);
		rc = FO_EXIT_USAGE;
	} else if (!*sget(run = fo_cli_json(&resp), "testRunId")) {
		fprintf(stderr, "fallout: the server queued a run of '%s' but did not say which\n", test);
		rc = FO_EXIT_FAILED;
	} else {
		printf("%s\n", sget(run, "testRunId"));
		fflush(stdout);
		if (wait) {
			rc = wait_run(&cl, run, &wo);
			run = NULL;
		}
	}
	release_signals();
	json_decref(run);
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	fo_buf_release(&owner);
	fo_buf_release(&body);
	fo_client_release(&cl);
	return rc;
}

static int wait_cmd(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	const char *timeout = NULL, *junit = NULL;
	bool follow = false;
	const struct fo_cli_opt opts[] = {
		FO_CLI_COMMON_OPTS(c),
		{"--timeout", NULL, &timeout, NULL},
		{"--junit", NULL, &junit, NULL},
		{"--follow", NULL, NULL, &follow},
	};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("run", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 1, &npos))
		return FO_EXIT_USAGE;
	if (npos != 1)
		return fo_cli_usage_error("run", "run wait needs a run id");
	struct wait_opts wo = {.junit = junit, .follow = follow};
	if (parse_wait_opts(&wo, timeout))
		return FO_EXIT_USAGE;
	struct fo_client cl;
	if (fo_cli_client(&cl, "run", c.server, c.token))
		return FO_EXIT_USAGE;
	json_t *run;
	int rc = get_run(&cl, pos[0], &run, false);
	if (!rc)
		rc = wait_run(&cl, run, &wo);
	fo_client_release(&cl);
	return rc;
}

/* Shared by the subcommands that take one run id and nothing else of their own. */
static int one_run(int argc, char **argv, const char *sub, bool *as_json, struct fo_client *cl, json_t **run,
		   const char **extra, const char **output, const char **zip)
{
	struct fo_cli_common c = {0};
	struct fo_cli_opt opts[8] = {FO_CLI_COMMON_OPTS(c)};
	size_t n = 3;
	if (as_json)
		opts[n++] = (struct fo_cli_opt){"--json", NULL, NULL, as_json};
	if (output)
		opts[n++] = (struct fo_cli_opt){"--output", "-o", output, NULL};
	if (zip)
		opts[n++] = (struct fo_cli_opt){"--zip", NULL, zip, NULL};
	const char *pos[2] = {NULL, NULL};
	size_t npos;
	if (fo_cli_parse("run", argc, argv, opts, n, pos, extra ? 2 : 1, &npos))
		return FO_EXIT_USAGE;
	if (npos < 1)
		return fo_cli_usage_error("run", "run %s needs a run id", sub);
	if (extra)
		*extra = pos[1];
	if (fo_cli_client(cl, "run", c.server, c.token))
		return FO_EXIT_USAGE;
	int rc = get_run(cl, pos[0], run, false);
	if (rc)
		fo_client_release(cl);
	return rc;
}

static int abort_cmd(int argc, char **argv)
{
	struct fo_client cl;
	json_t *run;
	int rc = one_run(argc, argv, "abort", NULL, &cl, &run, NULL, NULL, NULL);
	if (rc)
		return rc;
	long st = abort_run(&cl, run);
	if (st == 200)
		printf("aborting run %s of %s\n", sget(run, "testRunId"), sget(run, "testName"));
	else if (st == 304)
		printf("run %s has already ended\n", sget(run, "testRunId"));
	else
		rc = FO_EXIT_FAILED;
	json_decref(run);
	fo_client_release(&cl);
	return rc;
}

static int show(int argc, char **argv)
{
	struct fo_client cl;
	json_t *run;
	bool as_json = false;
	int rc = one_run(argc, argv, "show", &as_json, &cl, &run, NULL, NULL, NULL);
	if (rc)
		return rc;
	if (as_json) {
		char *s = json_dumps(run, JSON_INDENT(2));
		puts(s ? s : "{}");
		free(s);
	} else {
		char created[32], started[32], finished[32];
		fo_cli_time(json_string_value(json_object_get(run, "createdAt")), created, sizeof(created));
		fo_cli_time(json_string_value(json_object_get(run, "startedAt")), started, sizeof(started));
		fo_cli_time(json_string_value(json_object_get(run, "finishedAt")), finished, sizeof(finished));
		printf("run       %s\ntest      %s/%s\nstate     %s\ncreated   %s\nstarted   %s\nfinished  %s\n",
		       sget(run, "testRunId"), sget(run, "owner"), sget(run, "testName"), sget(run, "state"), created,
		       started, finished);
		if (*sget(run, "failedDuring") || *sget(run, "failureReason"))
			printf("failure   during %s: %s\n", sget(run, "failedDuring"), sget(run, "failureReason"));
		const json_t *checkers = json_object_get(json_object_get(run, "results"), "checkers");
		for (size_t i = 0; i < json_array_size(checkers); i++) {
			const json_t *v = json_array_get(checkers, i);
			const char *msg = sget(v, "message");
			printf("%-9s %s %s (%s)%s%s\n", i ? "" : "checks",
			       json_is_true(json_object_get(v, "passed")) ? "PASS" : "FAIL", sget(v, "alias"),
			       sget(v, "checker"), *msg ? ": " : "", msg);
		}
		const json_t *arts = json_object_get(run, "artifacts");
		if (json_is_object(arts))
			printf("artifacts %zu files (fallout run artifacts %s)\n", json_object_size(arts),
			       sget(run, "testRunId"));
	}
	json_decref(run);
	fo_client_release(&cl);
	return rc;
}

static int list(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	const char *limit = NULL;
	bool as_json = false;
	const struct fo_cli_opt opts[] = {FO_CLI_COMMON_OPTS(c), {"--limit", "-n", &limit, NULL},
					  {"--json", NULL, NULL, &as_json}};
	const char *pos[1] = {NULL};
	size_t npos;
	if (fo_cli_parse("run", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 1, &npos))
		return FO_EXIT_USAGE;
	int64_t lim = 20;
	if (limit && (!fo_parse_i64(limit, &lim) || lim <= 0))
		return fo_cli_usage_error("run", "--limit '%s' is not a positive number", limit);
	struct fo_client cl;
	if (fo_cli_client(&cl, "run", c.server, c.token))
		return FO_EXIT_USAGE;
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = FO_EXIT_OK;
	struct fo_buf path = FO_BUF_INIT;
	const char *owner = c.owner ? c.owner : cl.email;
	char *me = NULL;
	if (npos && !owner) {
		/* A test's runs are under its owner's email: ask who we are. */
		if (fo_client_json(&cl, "GET", "/account/api", NULL, &resp, &err) == 0 && resp.status == 200) {
			json_t *j = fo_cli_json(&resp);
			const char *e = sget(j, "email");
			if (*e)
				me = fo_strdup(e);
			json_decref(j);
		}
		owner = me;
		if (!owner) {
			rc = fo_cli_usage_error("run", "whose test is '%s'? give --owner EMAIL", pos[0]);
			goto out;
		}
	}
	if (npos) {
		fo_cli_test_path(&path, owner, pos[0], "/runs/api");
		fo_buf_addf(&path, "?limit=%lld", (long long)lim);
	} else {
		fo_buf_addf(&path, "/runs/api?limit=%lld", (long long)lim);
		if (c.owner) {
			fo_buf_adds(&path, "&owner=");
			fo_client_escape(&path, c.owner, false);
		}
	}
	if (fo_client_json(&cl, "GET", path.s, NULL, &resp, &err)) {
		rc = fo_cli_unreachable(&err);
	} else if (resp.status != 200) {
		rc = fo_cli_refused(&resp, "cannot list the runs");
	} else if (as_json) {
		fo_cli_print_body(&resp);
	} else {
		json_t *j = fo_cli_json(&resp);
		json_t *arr = json_is_array(j) ? j : json_object_get(j, "runs");
		printf("%-36s  %-24s  %-8s  %-19s  %s\n", "RUN", "TEST", "STATE", "CREATED", "FINISHED");
		for (size_t i = 0; i < json_array_size(arr) && (int64_t)i < lim; i++) {
			const json_t *r = json_array_get(arr, i);
			char created[32], finished[32];
			fo_cli_time(json_string_value(json_object_get(r, "createdAt")), created, sizeof(created));
			fo_cli_time(json_string_value(json_object_get(r, "finishedAt")), finished, sizeof(finished));
			printf("%-36s  %-24s  %-8s  %-19s  %s\n", sget(r, "testRunId"), sget(r, "testName"),
			       sget(r, "state"), created, finished);
		}
		json_decref(j);
	}
out:
	fo_free(me);
	fo_buf_release(&path);
	fo_client_resp_release(&resp);
	fo_client_release(&cl);
	return rc;
}

/* ---- artifacts ---- */

static bool to_file(void *ctx, const char *data, size_t n)
{
	return fwrite(data, 1, n, (FILE *)ctx) == n;
}

/* Downloads path (under the client's server) into out. Returns 0 or an exit code. */
static int download(struct fo_client *cl, const char *path, FILE *out, const char *what)
{
	struct fo_client_req rq = {.method = "GET", .path = path, .sink = to_file, .ctx = out, .no_timeout = true};
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = 0;
	if (fo_client_request(cl, &rq, &resp, &err))
		rc = fo_cli_unreachable(&err);
	else if (resp.status != 200)
		rc = fo_cli_refused(&resp, "%s", what);
	else if (ferror(out)) {
		fprintf(stderr, "fallout: %s: cannot write what came: %s\n", what, strerror(errno));
		rc = FO_EXIT_FAILED;
	}
	fo_client_resp_release(&resp);
	return rc;
}

/* True when the artifact path p stays inside the folder it is written to. */
static bool safe_path(const char *p)
{
	if (!*p || *p == '/' || strchr(p, '\\'))
		return false;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
		if (*s == '/')
			s++;
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes one artifact to dir/p, refusing to follow a symbolic link. Returns 0 or an exit code. */
static int save_one(struct fo_client *cl, const json_t *run, const char *dir, const char *p)
{
	struct fo_buf target = FO_BUF_INIT, url = FO_BUF_INIT, what = FO_BUF_INIT, failed = FO_BUF_INIT;
	fo_buf_addf(&target, "%s/%s", dir, p);
	int rc = 0;
	char *slash = strrchr(target.s, '/');
	*slash = '\0';
	int e = fo_mkdir_p(target.s, 0755, &failed);
	*slash = '/';
	if (e) {
		fprintf(stderr, "fallout: cannot create '%s': %s\n", failed.s, strerror(e));
		rc = FO_EXIT_FAILED;
		goto out;
	}
	int fd = open(target.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "fallout: cannot write '%s': %s\n", target.s, strerror(errno));
		if (fd >= 0)
			close(fd);
		rc = FO_EXIT_FAILED;
		goto out;
	}
	run_path(&url, run, true, "/artifacts/");
	fo_client_escape(&url, p, true);
	fo_buf_addf(&what, "cannot download '%s'", p);
	rc = download(cl, url.s, f, what.s);
	if (fclose(f) != 0 && !rc) {
		fprintf(stderr, "fallout: cannot write '%s': %s\n", target.s, strerror(errno));
		rc = FO_EXIT_FAILED;
	}
	if (rc)
		unlink(target.s);
out:
	fo_buf_release(&target);
	fo_buf_release(&url);
	fo_buf_release(&what);
	fo_buf_release(&failed);
	return rc;
}

static int artifacts(int argc, char **argv)
{
	struct fo_client cl;
	json_t *run;
	const char *one = NULL, *output = NULL, *zip = NULL;
	int rc = one_run(argc, argv, "artifacts", NULL, &cl, &run, &one, &output, &zip);
	if (rc)
		return rc;
	if ((one != NULL) + (output != NULL) + (zip != NULL) > 1) {
		rc = fo_cli_usage_error("run", "give one of --output DIR, --zip FILE or an artifact's path");
		goto out;
	}
	if (zip) {
		FILE *f = fopen(zip, "wb");
		if (!f) {
			fprintf(stderr, "fallout: cannot write '%s': %s\n", zip, strerror(errno));
			rc = FO_EXIT_FAILED;
			goto out;
		}
		struct fo_buf url = FO_BUF_INIT;
		run_path(&url, run, true, "/artifactsArchive");
		rc = download(&cl, url.s, f, "cannot download the artifacts' archive");
		if (fclose(f) != 0 && !rc)
			rc = FO_EXIT_FAILED;
		if (rc)
			unlink(zip);
		else
			printf("saved the artifacts of run %s in %s\n", sget(run, "testRunId"), zip);
		fo_buf_release(&url);
		goto out;
	}
	if (one) {
		struct fo_buf url = FO_BUF_INIT, what = FO_BUF_INIT;
		run_path(&url, run, true, "/artifacts/");
		fo_client_escape(&url, one, true);
		fo_buf_addf(&what, "cannot download '%s'", one);
		rc = download(&cl, url.s, stdout, what.s);
		fflush(stdout);
		fo_buf_release(&url);
		fo_buf_release(&what);
		goto out;
	}
	/* The list, from the artifacts endpoint. */
	struct fo_buf url = FO_BUF_INIT;
	run_path(&url, run, false, "/artifacts/api");
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	json_t *list = NULL;
	if (fo_client_json(&cl, "GET", url.s, NULL, &resp, &err)) {
		rc = fo_cli_unreachable(&err);
	} else if (resp.status != 200) {
		rc = fo_cli_refused(&resp, "cannot list the artifacts");
	} else if ((list = fo_cli_json(&resp)), !json_is_object(list)) {
		fprintf(stderr, "fallout: the server's list of artifacts is not a JSON object\n");
		rc = FO_EXIT_FAILED;
	}
	fo_client_resp_release(&resp);
	fo_buf_release(&url);
	if (rc) {
		json_decref(list);
		goto out;
	}
	size_t n = json_object_size(list), k = 0;
	const char **keys = fo_calloc(n ? n : 1, sizeof(*keys));
	const char *key;
	json_t *val;
	json_object_foreach(list, key, val) keys[k++] = key;
	qsort(keys, k, sizeof(*keys), cmp_str);
	long long total = 0;
	size_t saved = 0;
	if (output) {
		struct fo_buf failed = FO_BUF_INIT;
		int e = fo_mkdir_p(output, 0755, &failed);
		if (e) {
			fprintf(stderr, "fallout: cannot create '%s': %s\n", failed.s, strerror(e));
			rc = FO_EXIT_FAILED;
		}
		fo_buf_release(&failed);
	}
	for (size_t i = 0; i < k && !(output && rc && i == 0); i++) {
		long long size = (long long)json_integer_value(json_object_get(list, keys[i]));
		total += size;
		if (!output) {
			printf("%12lld  %s\n", size, keys[i]);
			continue;
		}
		if (!safe_path(keys[i])) {
			fprintf(stderr, "fallout: refusing the artifact '%s': its path leaves '%s'\n", keys[i], output);
			rc = FO_EXIT_FAILED;
			continue;
		}
		int r = save_one(&cl, run, output, keys[i]);
		if (r)
			rc = r;
		else
			saved++;
	}
	if (output)
		printf("downloaded %zu of %zu artifacts (%lld bytes) into %s\n", saved, k, total, output);
	else
		printf("%12lld  total (%zu files)\n", total, k);
	fo_free(keys);
	json_decref(list);
out:
	json_decref(run);
	fo_client_release(&cl);
	return rc;
}

static const struct fo_subcommand subs[] = {
	{"start", start}, {"wait", wait_cmd}, {"abort", abort_cmd},       {"show", show},
	{"list", list},   {"ls", list},       {"artifacts", artifacts},
};

int fo_cmd_run(int argc, char **argv)
{
	return fo_cli_subcommand("run", subs, FO_ARRAY_LEN(subs), "start, wait, abort, show, list or artifacts", argc,
				 argv);
}
