/*
 * test_proc.c: child processes (util/proc.h): exit codes and signals, timeouts that kill
 * the whole process group, output captured and teed into the log, environment and
 * folder, a missing program, fo_proc_kill_all from another thread, services that end by
 * themselves or are stopped, and no zombie or descriptor left behind. Nothing sleeps to
 * wait: every wait polls with a deadline.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"

#define SEC 1000000000LL
#define MS 1000000LL

static char tmpdir[64];

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-proc-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

/* Our children that are zombies. */
static int count_zombie_children(void)
{
	DIR *d = opendir("/proc");
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	char path[300], buf[4096];
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		bool zombie = false;
		long ppid = -1;
		while (fgets(buf, sizeof(buf), f)) {
			if (strncmp(buf, "State:", 6) == 0)
				zombie = strchr(buf, 'Z') != NULL;
			if (strncmp(buf, "PPid:", 5) == 0)
				ppid = strtol(buf + 5, NULL, 10);
		}
		fclose(f);
		if (zombie && ppid == (long)getpid())
			n++;
	}
	closedir(d);
	return n;
}

static void wait_group_gone(pid_t pgid)
{
	int64_t deadline = fo_now_ns() + 10 * SEC;
	while (fo_proc_group_alive(pgid) && fo_now_ns() < deadline)
		poll(NULL, 0, 5);
	assert_false(fo_proc_group_alive(pgid));
}

static void read_file(const char *path, struct fo_buf *b)
{
	fo_buf_clear(b);
	assert_int_equal(fo_buf_read_file(b, path, 1 << 20, NULL), 0);
}

static void record_pgid(void *ctx, pid_t pid, pid_t pgid)
{
	assert_int_equal(pid, pgid);
	*(pid_t *)ctx = pgid;
}

static int run(const char *const *argv, struct fo_buf *capture, struct fo_cmd_result *res)
{
	struct fo_cmd cmd = {.argv = argv, .capture = capture};
	struct fo_err err = {0};
	return fo_proc_run(&cmd, NULL, NULL, res, &err);
}

/* ---- commands ---- */

static void test_exit_codes(void **state)
{
	struct fo_cmd_result res;
	assert_int_equal(run((const char *[]){"true", NULL}, NULL, &res), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.signal, 0);
	assert_int_equal(run((const char *[]){"sh", "-c", "exit 3", NULL}, NULL, &res), 0);
	assert_int_equal(res.exit_code, 3);
	assert_false(res.timed_out);
	assert_false(res.aborted);
	assert_true(res.elapsed_ns > 0);
}

static void test_signal_reported(void **state)
{
	struct fo_cmd_result res;
	assert_int_equal(run((const char *[]){"sh", "-c", "kill -TERM $$", NULL}, NULL, &res), 0);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGTERM);
}

static void test_ignored_sigpipe_is_reset_in_child(void **state)
{
	/* A child must not inherit our ignored SIGPIPE: `yes | head` ends because yes dies. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	struct fo_cmd_result res;
	struct fo_buf out = FO_BUF_INIT;
	assert_int_equal(run((const char *[]){"sh", "-c", "yes | head -n 2", NULL}, &out, &res), 0);
	sigaction(SIGPIPE, &old, NULL);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(out.s, "y\ny\n");
	fo_buf_release(&out);
}

static void test_timeout_kills_whole_group(void **state)
{
	pid_t pgid = 0;
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "sleep 100 & sleep 100", NULL},
		.timeout_ns = 200 * MS,
	};
	struct fo_cmd_result res;
	struct fo_err err = {0};
	int64_t t0 = fo_now_ns();
	assert_int_equal(fo_proc_run(&cmd, record_pgid, &pgid, &res, &err), 0);
	assert_true(pgid > 0);
	assert_true(res.timed_out);
	assert_int_equal(res.exit_code, -1);
	assert_true(res.signal == SIGTERM || res.signal == SIGKILL);
	assert_true(fo_now_ns() - t0 < 10 * SEC);
	wait_group_gone(pgid); /* the background sleep too */
}

static void test_timeout_escalates_to_sigkill(void **state)
{
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", NULL},
		.timeout_ns = 100 * MS,
	};
	struct fo_cmd_result res;
	struct fo_err err = {0};
	pid_t pgid = 0;
	assert_int_equal(fo_proc_run(&cmd, record_pgid, &pgid, &res, &err), 0);
	assert_true(res.timed_out);
	assert_int_equal(res.signal, SIGKILL);
	wait_group_gone(pgid);
}

static void test_capture_tees_into_log(void **state)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/node.log", tmpdir);
	struct fo_buf out = FO_BUF_INIT, text = FO_BUF_INIT;
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "echo out; echo err >&2", NULL},
		.log_path = log,
		.log_prefix = "$ echo\n",
		.capture = &out,
	};
	struct fo_cmd_result res;
	struct fo_err err = {0};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), 0);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(out.s, "out\n");
	read_file(log, &text);
	assert_true(fo_starts_with(text.s, "$ echo\n"));
	assert_non_null(strstr(text.s, "out\n"));
	assert_non_null(strstr(text.s, "err\n"));

	/* Appended, never truncated; without capture the output goes straight to the log. */
	cmd.capture = NULL;
	cmd.log_prefix = NULL;
	cmd.argv = (const char *[]){"echo", "second", NULL};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), 0);
	read_file(log, &text);
	assert_true(fo_starts_with(text.s, "$ echo\n"));
	assert_true(fo_ends_with(text.s, "second\n"));
	fo_buf_release(&out);
	fo_buf_release(&text);
}

/* Secrets never reach the log, even split across two writes of the command, from stderr,
 * or in the prefix; the capture still gets stdout as it was, and only stdout. (stdout and
 * stderr come through two pipes: the sleeps keep their order in the log.) */
static void test_redact_output_in_log(void **state)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/redact.log", tmpdir);
	struct fo_buf out = FO_BUF_INIT, text = FO_BUF_INIT;
	const char *secrets[] = {"s3cr3t-value", "other", NULL};
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c",
					 "printf 'a s3cr3t'; sleep 0.05; printf -- '-value b\\n'; echo other >&2; sleep 0.05; "
					 "echo 'x s3cr3t-value y s3cr3t-value z'; printf 'tail s3cr3t-val'",
					 NULL},
		.log_path = log,
		.log_prefix = "$ run with s3cr3t-value\n",
		.capture = &out,
		.redact = secrets,
	};
	struct fo_cmd_result res;
	struct fo_err err = {0};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), 0);
	assert_int_equal(res.exit_code, 0);
	assert_non_null(strstr(out.s, "a s3cr3t-value b"));
	assert_null(strstr(out.s, "other")); /* stderr reaches the log, never the capture */
	read_file(log, &text);
	assert_null(strstr(text.s, "s3cr3t-value"));
	assert_null(strstr(text.s, "other"));
	assert_non_null(strstr(text.s, "$ run with <redacted>\n"));
	assert_non_null(strstr(text.s, "a <redacted> b\n"));
	assert_non_null(strstr(text.s, "x <redacted> y <redacted> z\n")); /* every occurrence */
	assert_non_null(strstr(text.s, "<redacted>\n"));
	assert_true(fo_ends_with(text.s, "tail s3cr3t-val")); /* not the whole secret: kept, and flushed at the end */
	fo_buf_release(&out);
	fo_buf_release(&text);
}

static void test_capture_respects_cap(void **state)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/cap.log", tmpdir);
	struct fo_buf out, text = FO_BUF_INIT;
	fo_buf_init(&out, 10);
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "seq 1 10000", NULL},
		.log_path = log,
		.capture = &out,
	};
	struct fo_cmd_result res;
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(out.len, 10);
	assert_string_equal(out.s, "1\n2\n3\n4\n5\n");
	read_file(log, &text);
	assert_true(fo_ends_with(text.s, "\n9999\n10000\n"));
	fo_buf_release(&out);
	fo_buf_release(&text);
}

static void test_background_child_does_not_block(void **state)
{
	/* A child left running in the background holds the capture pipe; the command still
	 * returns when its leader ends. */
	pid_t pgid = 0;
	struct fo_buf out = FO_BUF_INIT;
	struct fo_cmd cmd = {.argv = (const char *[]){"sh", "-c", "sleep 100 & echo hi", NULL}, .capture = &out};
	struct fo_cmd_result res;
	int64_t t0 = fo_now_ns();
	assert_int_equal(fo_proc_run(&cmd, record_pgid, &pgid, &res, NULL), 0);
	assert_true(fo_now_ns() - t0 < 10 * SEC);
	assert_string_equal(out.s, "hi\n");
	assert_true(fo_proc_group_alive(pgid));
	assert_true(fo_proc_kill_group(pgid, 2 * SEC));
	assert_false(fo_proc_group_alive(pgid));
	fo_buf_release(&out);
}

static void test_env_override_and_inherit(void **state)
{
	setenv("FO_TEST_INHERITED", "yes", 1);
	setenv("FO_TEST_REPLACED", "old", 1);
	struct fo_buf out = FO_BUF_INIT;
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "printf '%s %s %s' \"$FO_TEST_INHERITED\" \"$FO_TEST_REPLACED\" "
						     "\"$FO_TEST_NEW\"",
					 NULL},
		.env = (const char *[]){"FO_TEST_REPLACED=new", "FO_TEST_NEW=a b=c", NULL},
		.capture = &out,
	};
	struct fo_cmd_result res;
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	assert_string_equal(out.s, "yes new a b=c");
	unsetenv("FO_TEST_INHERITED");
	unsetenv("FO_TEST_REPLACED");
	fo_buf_release(&out);
}

static void test_path_from_command_env(void **state)
{
	/* A PATH given in env is the one used to find the program. */
	char script[128];
	snprintf(script, sizeof(script), "%s/fo-hello", tmpdir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho hello from path\n", f);
	fclose(f);
	chmod(script, 0755);
	char pathvar[128];
	snprintf(pathvar, sizeof(pathvar), "PATH=%s:/usr/bin:/bin", tmpdir);
	struct fo_buf out = FO_BUF_INIT;
	struct fo_cmd cmd = {
		.argv = (const char *[]){"fo-hello", NULL},
		.env = (const char *[]){pathvar, NULL},
		.capture = &out,
	};
	struct fo_cmd_result res;
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	assert_string_equal(out.s, "hello from path\n");

	/* A program named with a '/' is found from the command's folder. */
	fo_buf_clear(&out);
	struct fo_cmd rel = {.argv = (const char *[]){"./fo-hello", NULL}, .cwd = tmpdir, .capture = &out};
	assert_int_equal(fo_proc_run(&rel, NULL, NULL, &res, NULL), 0);
	assert_string_equal(out.s, "hello from path\n");
	fo_buf_release(&out);
}

static void test_cwd_and_stdin(void **state)
{
	char input[128];
	snprintf(input, sizeof(input), "%s/input.txt", tmpdir);
	FILE *f = fopen(input, "w");
	assert_non_null(f);
	fputs("from stdin\n", f);
	fclose(f);
	char real[PATH_MAX];
	assert_non_null(realpath(tmpdir, real));
	struct fo_buf out = FO_BUF_INIT, want = FO_BUF_INIT;
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "pwd -P; cat", NULL},
		.cwd = tmpdir,
		.stdin_path = input,
		.capture = &out,
	};
	struct fo_cmd_result res;
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	fo_buf_addf(&want, "%s\nfrom stdin\n", real);
	assert_string_equal(out.s, want.s);

	/* Without stdin_path, stdin is /dev/null: cat ends at once. */
	fo_buf_clear(&out);
	cmd.stdin_path = NULL;
	cmd.argv = (const char *[]){"cat", NULL};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(out.s, "");
	fo_buf_release(&out);
	fo_buf_release(&want);
}

static void test_missing_program_and_folder(void **state)
{
	struct fo_cmd_result res;
	struct fo_err err = {0};
	pid_t started = 0;
	struct fo_cmd cmd = {.argv = (const char *[]){"fo-no-such-program-here", NULL}};
	assert_int_equal(fo_proc_run(&cmd, record_pgid, &started, &res, &err), FO_ENOENT);
	assert_int_equal(started, 0);
	assert_non_null(strstr(err.msg, "'fo-no-such-program-here' not found"));

	fo_err_clear(&err);
	cmd.argv = (const char *[]){"/nonexistent/fo-prog", NULL};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), FO_ENOENT);

	fo_err_clear(&err);
	cmd.argv = (const char *[]){"true", NULL};
	cmd.cwd = "/nonexistent-folder-of-fo";
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), FO_ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent-folder-of-fo"));

	fo_err_clear(&err);
	struct fo_cmd empty = {.argv = (const char *[]){NULL}};
	assert_int_equal(fo_proc_run(&empty, NULL, NULL, &res, &err), FO_EINVAL);
	assert_int_equal(count_zombie_children(), 0);
}

static void test_child_gets_only_std_fds(void **state)
{
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: the child must still not get it */
	assert_true(leak >= 3);
	struct fo_buf out = FO_BUF_INIT;
	struct fo_cmd_result res;
	/* ls opens the folder itself as 3; nothing above it may be open. */
	assert_int_equal(run((const char *[]){"ls", "/proc/self/fd", NULL}, &out, &res), 0);
	assert_string_equal(out.s, "0\n1\n2\n3\n");
	close(leak);
	fo_buf_release(&out);
}

/* kill_all from another thread */

struct runner {
	pid_t pgid;
	pthread_mutex_t lock;
	struct fo_cmd_result res;
	int rc;
};

static void runner_started(void *ctx, pid_t pid, pid_t pgid)
{
	struct runner *r = ctx;
	pthread_mutex_lock(&r->lock);
	r->pgid = pgid;
	pthread_mutex_unlock(&r->lock);
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	struct fo_cmd cmd = {.argv = (const char *[]){"sh", "-c", "sleep 100 & sleep 100", NULL}};
	r->rc = fo_proc_run(&cmd, runner_started, r, &r->res, NULL);
	return NULL;
}

static void test_kill_all_aborts_and_blocks(void **state)
{
	struct runner r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, runner_main, &r), 0);
	int64_t deadline = fo_now_ns() + 10 * SEC;
	pid_t pgid = 0;
	while (!pgid && fo_now_ns() < deadline) {
		pthread_mutex_lock(&r.lock);
		pgid = r.pgid;
		pthread_mutex_unlock(&r.lock);
		if (!pgid)
			poll(NULL, 0, 2);
	}
	assert_true(pgid > 0);
	fo_proc_kill_all();
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	assert_true(r.res.aborted);
	assert_int_equal(r.res.signal, SIGKILL);
	wait_group_gone(pgid);

	/* Blocked until allowed: nothing starts. */
	pid_t started = 0;
	struct fo_cmd cmd = {.argv = (const char *[]){"true", NULL}};
	struct fo_cmd_result res;
	assert_int_equal(fo_proc_run(&cmd, record_pgid, &started, &res, NULL), 0);
	assert_true(res.aborted);
	assert_int_equal(started, 0);

	fo_proc_allow();
	assert_int_equal(fo_proc_run(&cmd, record_pgid, &started, &res, NULL), 0);
	assert_false(res.aborted);
	assert_int_equal(res.exit_code, 0);
	assert_true(started > 0);
}

/* ---- services ---- */

struct exit_seen {
	pthread_mutex_t lock;
	int calls, code, sig;
};

static void on_exit_cb(void *ctx, struct fo_service *s, int code, int sig)
{
	struct exit_seen *e = ctx;
	pthread_mutex_lock(&e->lock);
	e->calls++;
	e->code = code;
	e->sig = sig;
	pthread_mutex_unlock(&e->lock);
}

static int exit_calls(struct exit_seen *e)
{
	pthread_mutex_lock(&e->lock);
	int n = e->calls;
	pthread_mutex_unlock(&e->lock);
	return n;
}

static void test_service_unexpected_exit_reported(void **state)
{
	struct exit_seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct fo_err err = {0};
	pid_t pgid = 0;
	struct fo_cmd cmd = {.argv = (const char *[]){"sh", "-c", "read x; exit 7", NULL}};
	/* stdin is /dev/null: read fails at once and the service ends with 7 */
	struct fo_service *s = fo_service_start(&cmd, record_pgid, &pgid, on_exit_cb, &seen, &err);
	assert_non_null(s);
	assert_int_equal(fo_service_pid(s), pgid);
	int64_t deadline = fo_now_ns() + 10 * SEC;
	while (exit_calls(&seen) == 0 && fo_now_ns() < deadline)
		poll(NULL, 0, 2);
	assert_int_equal(exit_calls(&seen), 1);
	assert_int_equal(seen.code, 7);
	assert_int_equal(seen.sig, 0);
	assert_false(fo_service_running(s));
	assert_int_equal(fo_service_stop(s, SEC), 0); /* safe after it ended */
	fo_service_free(s);
	assert_int_equal(exit_calls(&seen), 1);
	assert_int_equal(count_zombie_children(), 0);
}

static void test_service_stop_kills_group(void **state)
{
	struct exit_seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
	char log[128];
	snprintf(log, sizeof(log), "%s/svc.log", tmpdir);
	struct fo_cmd cmd = {
		.argv = (const char *[]){"sh", "-c", "echo up; sleep 100 & sleep 100", NULL},
		.log_path = log,
	};
	struct fo_service *s = fo_service_start(&cmd, NULL, NULL, on_exit_cb, &seen, NULL);
	assert_non_null(s);
	pid_t pgid = fo_service_pid(s);
	assert_true(fo_service_running(s));
	/* wait for its output, so both sleeps exist */
	struct fo_buf text = FO_BUF_INIT;
	int64_t deadline = fo_now_ns() + 10 * SEC;
	while (fo_now_ns() < deadline) {
		fo_buf_clear(&text);
		fo_buf_read_file(&text, log, 0, NULL);
		if (strstr(text.s, "up"))
			break;
		poll(NULL, 0, 2);
	}
	assert_non_null(strstr(text.s, "up\n"));
	assert_int_equal(fo_service_stop(s, 2 * SEC), 0);
	assert_false(fo_service_running(s));
	wait_group_gone(pgid);
	assert_int_equal(exit_calls(&seen), 0); /* asked to stop: not unexpected */
	fo_service_free(s);
	fo_buf_release(&text);
	assert_int_equal(count_zombie_children(), 0);
}

static void test_service_stop_escalates(void **state)
{
	struct fo_cmd cmd = {.argv = (const char *[]){"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", NULL}};
	struct fo_service *s = fo_service_start(&cmd, NULL, NULL, NULL, NULL, NULL);
	assert_non_null(s);
	pid_t pgid = fo_service_pid(s);
	int64_t t0 = fo_now_ns();
	fo_service_free(s); /* stops with the default grace */
	assert_true(fo_now_ns() - t0 < 10 * SEC);
	wait_group_gone(pgid);
}

static void test_service_missing_program(void **state)
{
	struct fo_err err = {0};
	struct fo_cmd cmd = {.argv = (const char *[]){"fo-no-such-service", NULL}};
	assert_null(fo_service_start(&cmd, NULL, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, FO_ENOENT);
}

static void test_service_detach_leaves_it_running(void **state)
{
	struct exit_seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct fo_cmd cmd = {.argv = (const char *[]){"sleep", "100", NULL}};
	struct fo_service *s = fo_service_start(&cmd, NULL, NULL, on_exit_cb, &seen, NULL);
	assert_non_null(s);
	pid_t pid = fo_service_pid(s);
	uint64_t start = fo_proc_start_time(pid);
	assert_true(start > 0);
	fo_service_detach(s);
	assert_int_equal(fo_proc_start_time(pid), start);
	assert_true(fo_proc_kill_group(pid, SEC));
	/* it was our child: reap it so no zombie remains */
	int64_t deadline = fo_now_ns() + 10 * SEC;
	while (waitpid(pid, NULL, WNOHANG) == 0 && fo_now_ns() < deadline)
		poll(NULL, 0, 2);
	assert_int_equal(exit_calls(&seen), 0);
}

/* ---- the rest ---- */

static void test_start_time(void **state)
{
	assert_true(fo_proc_start_time(getpid()) > 0);
	assert_int_equal(fo_proc_start_time(0), 0);
	assert_int_equal(fo_proc_start_time(-5), 0);
	assert_int_equal(fo_proc_start_time(0x3ffffff0), 0);
	assert_false(fo_proc_group_alive(0x3ffffff0));
	assert_false(fo_proc_kill_group(1, 0)); /* never init or everything */
	assert_false(fo_proc_kill_group(0, 0));
}

static void test_time_format(void **state)
{
	char s[64];
	fo_format_time(0, s, sizeof(s));
	assert_string_equal(s, "1970-01-01T00:00:00.000Z");
	fo_format_time(1234567890123456789LL, s, sizeof(s));
	assert_string_equal(s, "2009-02-13T23:31:30.123Z");
	fo_format_time(-1 * MS, s, sizeof(s));
	assert_string_equal(s, "1969-12-31T23:59:59.999Z");
	assert_true(fo_wall_ns() > 1600000000LL * SEC);
	int64_t a = fo_now_ns(), b = fo_now_ns();
	assert_true(b >= a);
}

static void test_no_leaks_overall(void **state)
{
	/* Everything above, again in one go: the descriptor count comes back to where it was
	 * and no child is left a zombie. */
	int before = count_fds();
	char log[128];
	snprintf(log, sizeof(log), "%s/leak.log", tmpdir);
	struct fo_buf out = FO_BUF_INIT;
	for (int i = 0; i < 5; i++) {
		struct fo_cmd cmd = {.argv = (const char *[]){"echo", "x", NULL}, .log_path = log, .capture = &out};
		struct fo_cmd_result res;
		assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
		cmd.capture = NULL;
		cmd.timeout_ns = 50 * MS;
		cmd.argv = (const char *[]){"sleep", "10", NULL};
		assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
		assert_true(res.timed_out);
		cmd.argv = (const char *[]){"fo-missing-program", NULL};
		assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), FO_ENOENT);
		cmd.argv = (const char *[]){"sleep", "100", NULL};
		struct fo_service *s = fo_service_start(&cmd, NULL, NULL, NULL, NULL, NULL);
		assert_non_null(s);
		fo_service_free(s);
	}
	fo_buf_release(&out);
	assert_int_equal(count_fds(), before);
	assert_int_equal(count_zombie_children(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_signal_reported),
		cmocka_unit_test(test_ignored_sigpipe_is_reset_in_child),
		cmocka_unit_test(test_timeout_kills_whole_group),
		cmocka_unit_test(test_timeout_escalates_to_sigkill),
		cmocka_unit_test(test_capture_tees_into_log),
		cmocka_unit_test(test_redact_output_in_log),
		cmocka_unit_test(test_capture_respects_cap),
		cmocka_unit_test(test_background_child_does_not_block),
		cmocka_unit_test(test_env_override_and_inherit),
		cmocka_unit_test(test_path_from_command_env),
		cmocka_unit_test(test_cwd_and_stdin),
		cmocka_unit_test(test_missing_program_and_folder),
		cmocka_unit_test(test_child_gets_only_std_fds),
		cmocka_unit_test(test_kill_all_aborts_and_blocks),
		cmocka_unit_test(test_service_unexpected_exit_reported),
		cmocka_unit_test(test_service_stop_kills_group),
		cmocka_unit_test(test_service_stop_escalates),
		cmocka_unit_test(test_service_missing_program),
		cmocka_unit_test(test_service_detach_leaves_it_running),
		cmocka_unit_test(test_start_time),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_no_leaks_overall),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
