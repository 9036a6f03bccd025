/*
 * test_ledger.c: the ledger (engine/ledger.h): folders and process groups recorded, then
 * undone by the run or by cleanup after the run was killed; a pid that now belongs to
 * another process is never killed; live runs are left alone; dangerous paths are refused
 * and symbolic links are not followed; cluster entries stay for the next run; the record
 * of clusters kept between runs. FALLOUT_STATE_DIR points at a temporary folder.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ledger.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_in(struct fo_buf *b, const char *rel)
{
	fo_buf_clear(b);
	fo_buf_addf(b, "%s/%s", tmpdir, rel);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-ledger-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	rm_rf(tmpdir);
	return 0;
}

/* Each test gets a fresh state folder. */
static int each_setup(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	path_in(&b, "state");
	rm_rf(b.s);
	setenv("FALLOUT_STATE_DIR", b.s, 1);
	fo_buf_release(&b);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void make_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A `sleep 100` in a process group of its own with a child of its own (two members). */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execlp("sh", "sh", "-c", "sleep 100 & exec sleep 100", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

static void wait_gone(pid_t pgid)
{
	int64_t deadline = fo_now_ns() + 10 * 1000000000LL;
	while (fo_proc_group_alive(pgid) && fo_now_ns() < deadline)
		poll(NULL, 0, 5);
	assert_false(fo_proc_group_alive(pgid));
}

static void reap(pid_t pid)
{
	int64_t deadline = fo_now_ns() + 10 * 1000000000LL;
	while (waitpid(pid, NULL, WNOHANG) == 0 && fo_now_ns() < deadline)
		poll(NULL, 0, 2);
}

static void append_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(line, f);
	fclose(f);
}

/* ---- tests ---- */

static void test_state_dir_from_env(void **state)
{
	struct fo_buf want = FO_BUF_INIT;
	path_in(&want, "state");
	assert_string_equal(fo_state_dir(), want.s);
	struct stat st;
	assert_int_equal(stat(want.s, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	struct fo_buf sub = FO_BUF_INIT;
	assert_int_equal(fo_state_subdir("addresses", &sub, NULL), 0);
	fo_buf_adds(&want, "/addresses");
	assert_string_equal(sub.s, want.s);
	assert_true(exists(sub.s));
	fo_buf_release(&want);
	fo_buf_release(&sub);
}

static void test_undo_removes_dirs_and_kills_groups(void **state)
{
	struct fo_buf lp = FO_BUF_INIT, work = FO_BUF_INIT, node = FO_BUF_INIT, f = FO_BUF_INIT;
	path_in(&work, "run1");
	assert_int_equal(mkdir(work.s, 0755), 0);
	path_in(&lp, "run1/ledger");
	struct fo_err err = {0};
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-1", &err);
	assert_non_null(l);

	/* the active file names this process and the ledger */
	struct fo_buf active = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_addf(&active, "%s/active/run-1", fo_state_dir());
	assert_int_equal(fo_buf_read_file(&text, active.s, 0, NULL), 0);
	char want[512];
	snprintf(want, sizeof(want), "%d %llu %s\n", (int)getpid(), (unsigned long long)fo_proc_start_time(getpid()),
		 lp.s);
	assert_string_equal(text.s, want);

	path_in(&node, "nodes");
	assert_int_equal(fo_ledger_dir(l, node.s), 0);
	assert_int_equal(mkdir(node.s, 0755), 0);
	path_in(&node, "nodes/node0");
	assert_int_equal(fo_ledger_dir(l, node.s), 0);
	assert_int_equal(mkdir(node.s, 0755), 0);
	path_in(&f, "nodes/node0/data.txt");
	make_file(f.s, "x");
	path_in(&node, "never-made");
	assert_int_equal(fo_ledger_dir(l, node.s), 0);

	pid_t pid = spawn_sleeper();
	assert_int_equal(fo_ledger_proc(l, pid, pid), 0);

	assert_int_equal(fo_ledger_undo_all(l, &err), 3); /* one group, two folders (newest first) */
	assert_int_equal(err.code, 0);
	reap(pid);
	wait_gone(pid);
	path_in(&node, "nodes");
	assert_false(exists(node.s));
	/* a second undo has nothing left to do */
	assert_int_equal(fo_ledger_undo_all(l, &err), 0);

	fo_ledger_close(l, true);
	assert_false(exists(active.s));
	fo_buf_release(&lp);
	fo_buf_release(&work);
	fo_buf_release(&node);
	fo_buf_release(&f);
	fo_buf_release(&active);
	fo_buf_release(&text);
}

static void test_pid_with_other_start_time_not_killed(void **state)
{
	struct fo_buf lp = FO_BUF_INIT;
	path_in(&lp, "ledger-start");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-start", NULL);
	assert_non_null(l);
	pid_t pid = spawn_sleeper();
	uint64_t start = fo_proc_start_time(pid);
	assert_true(start > 0);
	/* as if the recorded process had ended and its pid been given to this one */
	char line[128];
	snprintf(line, sizeof(line), "proc %d %d %llu\n", (int)pid, (int)pid, (unsigned long long)start + 12345);
	append_line(lp.s, line);
	assert_int_equal(fo_ledger_undo_all(l, NULL), 0);
	assert_true(fo_proc_group_alive(pid));
	assert_int_equal(fo_proc_start_time(pid), start);
	fo_ledger_close(l, true);
	assert_true(fo_proc_kill_group(pid, 1000000000LL));
	reap(pid);
	fo_buf_release(&lp);
}

static void test_group_without_leader_is_killed(void **state)
{
	/* The leader is gone but a member lives on: the group is still ours. */
	struct fo_buf lp = FO_BUF_INIT;
	path_in(&lp, "ledger-orphans");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-orphans", NULL);
	assert_non_null(l);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execlp("sh", "sh", "-c", "sleep 100 & exit 0", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	assert_int_equal(fo_ledger_proc(l, pid, pid), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(fo_proc_start_time(pid), 0);
	assert_true(fo_proc_group_alive(pid));
	assert_int_equal(fo_ledger_undo_all(l, NULL), 1);
	wait_gone(pid);
	fo_ledger_close(l, true);
	fo_buf_release(&lp);
}

static void test_gone_entries_are_left(void **state)
{
	struct fo_buf lp = FO_BUF_INIT, d = FO_BUF_INIT;
	path_in(&lp, "ledger-gone");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-gone", NULL);
	assert_non_null(l);
	path_in(&d, "kept");
	assert_int_equal(fo_ledger_dir(l, d.s), 0);
	assert_int_equal(mkdir(d.s, 0755), 0);
	assert_int_equal(fo_ledger_gone_dir(l, d.s), 0);
	pid_t pid = spawn_sleeper();
	assert_int_equal(fo_ledger_proc(l, pid, pid), 0);
	assert_int_equal(fo_ledger_gone_proc(l, pid), 0);
	assert_int_equal(fo_ledger_undo_all(l, NULL), 0);
	assert_true(exists(d.s));
	assert_true(fo_proc_group_alive(pid));
	fo_ledger_close(l, true);
	assert_true(fo_proc_kill_group(pid, 1000000000LL));
	reap(pid);
	rmdir(d.s);
	fo_buf_release(&lp);
	fo_buf_release(&d);
}

static void test_remove_dir_records_gone(void **state)
{
	struct fo_buf lp = FO_BUF_INIT, d = FO_BUF_INIT, text = FO_BUF_INIT;
	path_in(&lp, "ledger-remove");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-remove", NULL);
	assert_non_null(l);
	path_in(&d, "tree");
	assert_int_equal(fo_ledger_dir(l, d.s), 0);
	assert_int_equal(mkdir(d.s, 0755), 0);
	path_in(&d, "tree/a");
	assert_int_equal(mkdir(d.s, 0755), 0);
	path_in(&d, "tree");
	assert_int_equal(fo_ledger_remove_dir(l, d.s, NULL), 0);
	assert_false(exists(d.s));
	assert_int_equal(fo_ledger_remove_dir(l, d.s, NULL), 0); /* nothing there: fine */
	assert_int_equal(fo_buf_read_file(&text, lp.s, 0, NULL), 0);
	assert_non_null(strstr(text.s, "gone dir "));
	fo_ledger_close(l, true);
	fo_buf_release(&lp);
	fo_buf_release(&d);
	fo_buf_release(&text);
}

static void test_refuses_dangerous_paths_and_links(void **state)
{
	struct fo_buf lp = FO_BUF_INIT, d = FO_BUF_INIT, outside = FO_BUF_INIT, link = FO_BUF_INIT;
	path_in(&lp, "ledger-danger");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-danger", NULL);
	assert_non_null(l);
	/* a folder outside the recorded one, reached through a link inside it */
	path_in(&outside, "outside");
	assert_int_equal(mkdir(outside.s, 0755), 0);
	fo_buf_adds(&outside, "/precious.txt");
	make_file(outside.s, "keep me");
	path_in(&d, "linked");
	assert_int_equal(fo_ledger_dir(l, d.s), 0);
	assert_int_equal(mkdir(d.s, 0755), 0);
	path_in(&link, "linked/escape");
	char target[256];
	snprintf(target, sizeof(target), "%s/outside", tmpdir);
	assert_int_equal(symlink(target, link.s), 0);
	/* dangerous entries, written as a corrupted or hostile ledger might hold them */
	append_line(lp.s, "dir /\n");
	append_line(lp.s, "dir /tmp\n");
	append_line(lp.s, "dir relative/path\n");
	char line[512];
	snprintf(line, sizeof(line), "dir %s/../%s\n", tmpdir, tmpdir + 5);
	append_line(lp.s, line);
	snprintf(line, sizeof(line), "dir %s\n", fo_state_dir());
	append_line(lp.s, line);
	struct fo_err err = {0};
	assert_int_equal(fo_ledger_undo_all(l, &err), 1);
	assert_int_not_equal(err.code, 0);
	assert_non_null(strstr(err.msg, "refusing"));
	assert_false(exists(d.s));
	assert_true(exists(outside.s)); /* the link was removed, not followed */
	assert_true(exists("/tmp"));
	assert_true(exists(fo_state_dir()));
	assert_int_equal(fo_ledger_dir(l, "/no\nnewlines"), FO_EINVAL);
	assert_int_equal(fo_ledger_dir(l, "relative"), FO_EINVAL);
	fo_ledger_close(l, true);
	fo_buf_release(&lp);
	fo_buf_release(&d);
	fo_buf_release(&outside);
	fo_buf_release(&link);
}

/* Writes an active file for a run whose fallout process does not exist. */
static void fake_dead_run(const char *id, const char *ledger)
{
	struct fo_buf p = FO_BUF_INIT;
	assert_int_equal(fo_state_subdir("active", &p, NULL), 0);
	fo_buf_addf(&p, "/%s", id);
	char text[512];
	snprintf(text, sizeof(text), "%d 123456 %s\n", 0x3ffffff0, ledger);
	make_file(p.s, text);
	fo_buf_release(&p);
}

struct notes {
	struct fo_buf all;
};

static void collect_note(void *ctx, const char *what)
{
	struct notes *n = ctx;
	fo_buf_addf(&n->all, "%s\n", what);
}

static void test_cleanup_undoes_dead_runs_only(void **state)
{
	/* A dead run: its ledger holds a folder tree, a process group and a cluster folder. */
	struct fo_buf lp = FO_BUF_INIT, d = FO_BUF_INIT, c = FO_BUF_INIT, line = FO_BUF_INIT;
	path_in(&lp, "dead-ledger");
	path_in(&d, "dead-node");
	assert_int_equal(mkdir(d.s, 0755), 0);
	path_in(&c, "dead-cluster");
	assert_int_equal(mkdir(c.s, 0755), 0);
	pid_t pid = spawn_sleeper();
	fo_buf_addf(&line, "dir %s\nproc %d %d %llu\ncluster c1 dir %s\n", d.s, (int)pid, (int)pid,
		    (unsigned long long)fo_proc_start_time(pid), c.s);
	make_file(lp.s, line.s);
	fake_dead_run("dead-run", lp.s);

	/* A live run (this process): left alone. */
	struct fo_buf llp = FO_BUF_INIT, ld = FO_BUF_INIT;
	path_in(&llp, "live-ledger");
	struct fo_ledger *live = fo_ledger_open(llp.s, "live-run", NULL);
	assert_non_null(live);
	path_in(&ld, "live-node");
	assert_int_equal(fo_ledger_dir(live, ld.s), 0);
	assert_int_equal(mkdir(ld.s, 0755), 0);

	/* A dry run lists and touches nothing. */
	struct notes n = {FO_BUF_INIT};
	struct fo_cleanup_report rep;
	struct fo_err err = {0};
	assert_int_equal(fo_ledger_cleanup_with(true, collect_note, &n, &rep, &err), 0);
	assert_int_equal(rep.runs, 1);
	assert_int_equal(rep.procs, 1);
	assert_int_equal(rep.dirs, 2);
	assert_int_equal(rep.skipped, 1);
	assert_non_null(strstr(n.all.s, "would remove folder"));
	assert_non_null(strstr(n.all.s, "would kill process group"));
	assert_non_null(strstr(n.all.s, "run live-run is still running"));
	assert_true(exists(d.s));
	assert_true(exists(c.s));
	assert_true(fo_proc_group_alive(pid));

	assert_int_equal(fo_ledger_cleanup(&rep, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(rep.runs, 1);
	assert_int_equal(rep.procs, 1);
	assert_int_equal(rep.dirs, 2);
	assert_int_equal(rep.skipped, 1);
	reap(pid);
	wait_gone(pid);
	assert_false(exists(d.s));
	assert_false(exists(c.s));
	assert_true(exists(ld.s));

	/* The dead run is no longer listed; the live one still is. */
	assert_int_equal(fo_ledger_cleanup(&rep, &err), 0);
	assert_int_equal(rep.runs, 0);
	assert_int_equal(rep.skipped, 1);

	assert_int_equal(fo_ledger_undo_all(live, NULL), 1);
	fo_ledger_close(live, true);
	assert_int_equal(fo_ledger_cleanup(&rep, &err), 0);
	assert_int_equal(rep.runs + rep.skipped, 0);
	fo_buf_release(&n.all);
	fo_buf_release(&lp);
	fo_buf_release(&d);
	fo_buf_release(&c);
	fo_buf_release(&line);
	fo_buf_release(&llp);
	fo_buf_release(&ld);
}

static void test_unfinished_close_leaves_run_for_cleanup(void **state)
{
	/* close without finished keeps the run listed; once its process is gone (simulated by
	 * rewriting the pid) cleanup undoes it. A missing ledger is not an error. */
	struct fo_buf lp = FO_BUF_INIT, d = FO_BUF_INIT;
	path_in(&lp, "ledger-unfinished");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-unfinished", NULL);
	assert_non_null(l);
	path_in(&d, "unfinished-node");
	assert_int_equal(fo_ledger_dir(l, d.s), 0);
	assert_int_equal(mkdir(d.s, 0755), 0);
	fo_ledger_close(l, false);
	fake_dead_run("run-unfinished", lp.s);
	fake_dead_run("run-without-ledger", "/nonexistent/fo-ledger");
	struct fo_cleanup_report rep;
	struct fo_err err = {0};
	assert_int_equal(fo_ledger_cleanup(&rep, &err), 0);
	assert_int_equal(rep.runs, 2);
	assert_int_equal(rep.dirs, 1);
	assert_false(exists(d.s));
	fo_buf_release(&lp);
	fo_buf_release(&d);
}

static void test_cluster_entries_survive_undo(void **state)
{
	struct fo_buf lp = FO_BUF_INIT, d = FO_BUF_INIT;
	path_in(&lp, "ledger-cluster");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-cluster", NULL);
	assert_non_null(l);
	path_in(&d, "cluster-node");
	assert_int_equal(fo_ledger_cluster_dir(l, "kept", d.s), 0);
	assert_int_equal(mkdir(d.s, 0755), 0);
	pid_t pid = spawn_sleeper();
	assert_int_equal(fo_ledger_cluster_proc(l, "kept", pid, pid), 0);
	assert_int_equal(fo_ledger_cluster_dir(l, "bad name", d.s), FO_EINVAL);
	assert_int_equal(fo_ledger_undo_all(l, NULL), 0);
	assert_true(exists(d.s));
	assert_true(fo_proc_group_alive(pid));
	/* killed before finishing: cleanup takes the cluster down too */
	fo_ledger_close(l, false);
	fake_dead_run("run-cluster", lp.s);
	struct fo_cleanup_report rep;
	assert_int_equal(fo_ledger_cleanup(&rep, NULL), 0);
	assert_int_equal(rep.procs, 1);
	assert_int_equal(rep.dirs, 1);
	reap(pid);
	wait_gone(pid);
	assert_false(exists(d.s));
	fo_buf_release(&lp);
	fo_buf_release(&d);
}

struct order {
	char seen[8];
	size_t n;
};

static void mark_a(void *data)
{
	struct order *o = data;
	o->seen[o->n++] = 'a';
}

static void mark_b(void *data)
{
	struct order *o = data;
	o->seen[o->n++] = 'b';
}

static void test_at_close_callbacks(void **state)
{
	struct fo_buf lp = FO_BUF_INIT;
	path_in(&lp, "ledger-at-close");
	struct fo_ledger *l = fo_ledger_open(lp.s, "run-at-close", NULL);
	assert_non_null(l);
	struct order o = {{0}, 0};
	fo_ledger_at_close(l, mark_a, &o);
	fo_ledger_at_close(l, NULL, &o); /* ignored */
	fo_ledger_at_close(l, mark_b, &o);
	assert_int_equal(o.n, 0);
	fo_ledger_close(l, true);
	assert_string_equal(o.seen, "ba"); /* newest first */
	fo_buf_release(&lp);
}

static void test_cluster_record(void **state)
{
	struct fo_buf dir = FO_BUF_INIT, want = FO_BUF_INIT;
	assert_int_equal(fo_cluster_dir("my cluster/1", &dir, NULL), 0);
	fo_buf_addf(&want, "%s/clusters/my_cluster_1", fo_state_dir());
	assert_string_equal(dir.s, want.s);
	assert_true(exists(dir.s));
	assert_int_equal(fo_cluster_dir("..", &dir, NULL), 0);
	assert_non_null(strstr(dir.s, "/clusters/_.."));
	assert_int_equal(fo_cluster_dir("", &dir, NULL), FO_EINVAL);

	enum fo_runlevel rl = FO_RL_UNKNOWN;
	assert_int_equal(fo_cluster_load_state("c2", &rl), FO_ENOENT);
	assert_int_equal(fo_cluster_save_state("c2", FO_RL_STARTED_SERVICES_RUNNING, NULL), 0);
	assert_int_equal(fo_cluster_load_state("c2", &rl), 0);
	assert_int_equal(rl, FO_RL_STARTED_SERVICES_RUNNING);
	assert_int_equal(fo_cluster_forget("c2", NULL), 0);
	assert_int_equal(fo_cluster_load_state("c2", &rl), FO_ENOENT);
	fo_buf_release(&dir);
	fo_buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_state_dir_from_env, each_setup),
		cmocka_unit_test_setup(test_undo_removes_dirs_and_kills_groups, each_setup),
		cmocka_unit_test_setup(test_pid_with_other_start_time_not_killed, each_setup),
		cmocka_unit_test_setup(test_group_without_leader_is_killed, each_setup),
		cmocka_unit_test_setup(test_gone_entries_are_left, each_setup),
		cmocka_unit_test_setup(test_remove_dir_records_gone, each_setup),
		cmocka_unit_test_setup(test_refuses_dangerous_paths_and_links, each_setup),
		cmocka_unit_test_setup(test_cleanup_undoes_dead_runs_only, each_setup),
		cmocka_unit_test_setup(test_unfinished_close_leaves_run_for_cleanup, each_setup),
		cmocka_unit_test_setup(test_cluster_entries_survive_undo, each_setup),
		cmocka_unit_test_setup(test_at_close_callbacks, each_setup),
		cmocka_unit_test_setup(test_cluster_record, each_setup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
