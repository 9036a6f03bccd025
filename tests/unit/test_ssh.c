/*
 * test_ssh.c: the command lines the ssh provisioner sends (util/ssh.h), run here by real
 * shells (dash as sh, and bash), no SSH involved: every word is quoted so values reach the
 * program unchanged (quotes, $, backslashes, newlines), bad variable names are refused,
 * the pid file holds the process group and its start time, a service starts detached and
 * the kill command ends its whole group, and the remove command refuses paths it must
 * never touch. Also the ledger's target words.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/ssh.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-ssh-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return fo_remove_tree(tmpdir, true, NULL);
}

/* Runs line with shell (sh -c LINE); stdout into out. Returns the exit status. */
static int shell(const char *sh, const char *line, struct fo_buf *out)
{
	const char *argv[] = {sh, "-c", line, NULL};
	struct fo_cmd cmd = {.argv = argv, .capture = out, .timeout_ns = 20 * 1000000000LL};
	struct fo_cmd_result res = {0};
	struct fo_err err = {0};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), 0);
	return res.exit_code;
}

static void test_quote_words(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_ssh_quote(&b, "");
	assert_string_equal(b.s, "''");
	fo_buf_clear(&b);
	fo_ssh_quote(&b, "a b");
	assert_string_equal(b.s, "'a b'");
	fo_buf_clear(&b);
	fo_ssh_quote(&b, "it's");
	assert_string_equal(b.s, "'it'\\''s'");
	fo_buf_release(&b);
}

static void test_variable_names(void **state)
{
	assert_true(fo_ssh_var_name_ok("A", 1));
	assert_true(fo_ssh_var_name_ok("_x9", 3));
	assert_true(fo_ssh_var_name_ok("FALLOUT_NODE_DIR", 16));
	assert_false(fo_ssh_var_name_ok("", 0));
	assert_false(fo_ssh_var_name_ok("9A", 2));
	assert_false(fo_ssh_var_name_ok("A-B", 3));
	assert_false(fo_ssh_var_name_ok("A B", 3));
}

/* Values that break naive quoting, exported and read back by the program. */
static void check_exports(const char *sh)
{
	const char *env[] = {"A=it's \"quoted\" $HOME `id` \\n; rm -rf /", "B=two\nlines", "EMPTY=", "X=a=b", NULL};
	const char *argv[] = {"sh", "-c", "printf '%s|%s|%s|%s|%s' \"$A\" \"$B\" \"${EMPTY-unset}\" \"$X\" \"$PWD\"",
			      NULL};
	struct fo_buf line = FO_BUF_INIT, out = FO_BUF_INIT, want = FO_BUF_INIT, pid = FO_BUF_INIT;
	fo_buf_addf(&pid, "%s/cmd.pid", tmpdir);
	assert_int_equal(fo_ssh_command(&line, tmpdir, env, argv, pid.s, NULL), 0);
	assert_int_equal(shell(sh, line.s, &out), 0);
	fo_buf_addf(&want, "it's \"quoted\" $HOME `id` \\n; rm -rf /|two\nlines||a=b|%s", tmpdir);
	assert_string_equal(out.s, want.s);
	/* The pid file: "PID START", START the process's start time as /proc gives it. */
	struct fo_buf text = FO_BUF_INIT;
	assert_int_equal(fo_buf_read_file(&text, pid.s, 4096, NULL), 0);
	long long p = 0;
	unsigned long long start = 0;
	assert_int_equal(sscanf(text.s, "%lld %llu", &p, &start), 2);
	assert_true(p > 1);
	assert_true(start > 0);
	fo_buf_release(&line);
	fo_buf_release(&out);
	fo_buf_release(&want);
	fo_buf_release(&pid);
	fo_buf_release(&text);
}

static void test_command_exports_values_unchanged_dash(void **state)
{
	check_exports("/bin/sh");
}

static void test_command_exports_values_unchanged_bash(void **state)
{
	check_exports("bash");
}

static void test_command_refuses_bad_environment(void **state)
{
	const char *argv[] = {"true", NULL};
	const char *bad_name[] = {"1X=a", NULL};
	const char *no_value[] = {"NOEQUALS", NULL};
	const char *dash_name[] = {"A-B=1", NULL};
	struct fo_buf line = FO_BUF_INIT;
	struct fo_err err = {0};
	assert_int_equal(fo_ssh_command(&line, NULL, bad_name, argv, NULL, &err), FO_EINVAL);
	assert_non_null(strstr(err.msg, "'1X=a'"));
	assert_int_equal(fo_ssh_command(&line, NULL, no_value, argv, NULL, NULL), FO_EINVAL);
	assert_int_equal(fo_ssh_command(&line, NULL, dash_name, argv, NULL, NULL), FO_EINVAL);
	const char *none[] = {NULL};
	assert_int_equal(fo_ssh_command(&line, NULL, NULL, none, NULL, NULL), FO_EINVAL);
	fo_buf_release(&line);
}

static bool group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0;
}

static void nap(void)
{
	struct timespec ts = {0, 20 * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_service_runs_detached_and_kill_ends_its_group(void **state)
{
	const char *env[] = {"GREETING=hello there", NULL};
	const char *argv[] = {"sh", "-c", "echo \"$GREETING\"; sleep 30 & sleep 30", NULL};
	struct fo_buf line = FO_BUF_INIT, out = FO_BUF_INIT, pid = FO_BUF_INIT, log = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_addf(&pid, "%s/svc.pid", tmpdir);
	fo_buf_addf(&log, "%s/svc.log", tmpdir);
	assert_int_equal(fo_ssh_service_command(&line, tmpdir, env, argv, pid.s, log.s, NULL), 0);
	assert_int_equal(shell("/bin/sh", line.s, &out), 0); /* returns at once */
	long long pgid = 0;
	assert_int_equal(sscanf(out.s, "%lld", &pgid), 1);
	assert_true(pgid > 1);
	for (int i = 0; i < 250 && (access(pid.s, R_OK) != 0 || fo_buf_read_file(&text, log.s, 4096, NULL) != 0 ||
				    !strstr(text.s, "hello"));
	     i++) {
		fo_buf_clear(&text);
		nap();
	}
	assert_string_equal(text.s, "hello there\n");
	assert_true(group_alive((pid_t)pgid));
	/* The kill command finds the group through the pid file (a pattern works too). */
	struct fo_buf kill_line = FO_BUF_INIT, word = FO_BUF_INIT;
	fo_ssh_quote(&word, tmpdir);
	fo_buf_adds(&word, "/*.pid");
	fo_ssh_kill_command(&kill_line, word.s, 2 * 1000000000LL);
	fo_buf_clear(&out);
	assert_int_equal(shell("/bin/sh", kill_line.s, &out), 0);
	struct fo_buf want = FO_BUF_INIT;
	fo_buf_addf(&want, "killed %lld\n", pgid);
	assert_string_equal(out.s, want.s);
	for (int i = 0; i < 250 && group_alive((pid_t)pgid); i++)
		nap();
	assert_false(group_alive((pid_t)pgid));
	/* Killed, it wrote no status; run again, the kill finds nothing left. */
	fo_buf_clear(&text);
	fo_buf_addf(&text, "%s.status", pid.s);
	assert_int_not_equal(access(text.s, F_OK), 0);
	fo_buf_clear(&out);
	assert_int_equal(shell("bash", kill_line.s, &out), 0);
	assert_string_equal(out.s, "killed\n");
	unlink(pid.s);
	fo_buf_release(&line);
	fo_buf_release(&out);
	fo_buf_release(&pid);
	fo_buf_release(&log);
	fo_buf_release(&text);
	fo_buf_release(&kill_line);
	fo_buf_release(&word);
	fo_buf_release(&want);
}

static void test_service_that_ends_leaves_its_status(void **state)
{
	const char *argv[] = {"sh", "-c", "exit 3", NULL};
	struct fo_buf line = FO_BUF_INIT, out = FO_BUF_INIT, pid = FO_BUF_INIT, log = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_addf(&pid, "%s/ends.pid", tmpdir);
	fo_buf_addf(&log, "%s/ends.log", tmpdir);
	assert_int_equal(fo_ssh_service_command(&line, NULL, NULL, argv, pid.s, log.s, NULL), 0);
	assert_int_equal(shell("bash", line.s, &out), 0);
	fo_buf_adds(&pid, ".status");
	for (int i = 0; i < 250 && fo_buf_read_file(&text, pid.s, 64, NULL) != 0; i++)
		nap();
	assert_string_equal(text.s, "3\n");
	fo_buf_release(&line);
	fo_buf_release(&out);
	fo_buf_release(&pid);
	fo_buf_release(&log);
	fo_buf_release(&text);
}

static void test_remove_command(void **state)
{
	struct fo_buf line = FO_BUF_INIT, p = FO_BUF_INIT, out = FO_BUF_INIT;
	const char *refused[] = {"/", "/a", "/a/b", "relative/x/y/z", "/a/../b/c", "/a/./b/c", "/a/b/c\n/d"};
	for (size_t i = 0; i < FO_ARRAY_LEN(refused); i++)
		assert_int_equal(fo_ssh_remove_command(&line, refused[i], NULL), FO_EINVAL);
	/* BASE/run/group/node0 goes, then run/group and run when left empty; BASE stays. */
	fo_buf_addf(&p, "%s/base/run/group/node0/sub", tmpdir);
	assert_int_equal(fo_mkdir_p(p.s, 0755, NULL), 0);
	fo_buf_clear(&p);
	fo_buf_addf(&p, "%s/base/run/group/node0", tmpdir);
	fo_buf_clear(&line);
	assert_int_equal(fo_ssh_remove_command(&line, p.s, NULL), 0);
	assert_int_equal(shell("/bin/sh", line.s, &out), 0);
	assert_string_equal(out.s, "removed\n");
	fo_buf_clear(&p);
	fo_buf_addf(&p, "%s/base/run", tmpdir);
	assert_false(fo_is_dir(p.s));
	fo_buf_clear(&p);
	fo_buf_addf(&p, "%s/base", tmpdir);
	assert_true(fo_is_dir(p.s));
	fo_buf_clear(&out);
	assert_int_equal(shell("/bin/sh", line.s, &out), 0); /* nothing there: fine, says nothing */
	assert_string_equal(out.s, "");
	fo_buf_release(&line);
	fo_buf_release(&p);
	fo_buf_release(&out);
}

static void test_target_words(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	struct fo_ssh_opts o = {.host = "10.0.0.1", .user = "me", .key_path = "/k/id_ed25519"};
	assert_int_equal(fo_ssh_target(&o, &b), 0);
	assert_string_equal(b.s, "10.0.0.1 22 me key:/k/id_ed25519");
	o = (struct fo_ssh_opts){.host = "h", .port = 2222, .user = "me", .password = "secret"};
	assert_int_equal(fo_ssh_target(&o, &b), 0);
	assert_string_equal(b.s, "h 2222 me password"); /* never the password itself */
	o = (struct fo_ssh_opts){.host = "h", .user = "me"};
	assert_int_equal(fo_ssh_target(&o, &b), 0);
	assert_string_equal(b.s, "h 22 me auto");
	o = (struct fo_ssh_opts){.host = "h", .user = "me", .key_path = "/my keys/k"};
	assert_int_equal(fo_ssh_target(&o, &b), FO_EINVAL);
	fo_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_words),
		cmocka_unit_test(test_variable_names),
		cmocka_unit_test(test_command_exports_values_unchanged_dash),
		cmocka_unit_test(test_command_exports_values_unchanged_bash),
		cmocka_unit_test(test_command_refuses_bad_environment),
		cmocka_unit_test(test_service_runs_detached_and_kill_ends_its_group),
		cmocka_unit_test(test_service_that_ends_leaves_its_status),
		cmocka_unit_test(test_remove_command),
		cmocka_unit_test(test_target_words),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
