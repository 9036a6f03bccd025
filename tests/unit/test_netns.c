/*
 * test_netns.c: what the netns provisioner stands on. A command given cmd->netns runs in
 * that namespace with its /etc/netns files over /etc (util/proc.h), and a namespace that
 * is gone is an error before anything runs; the ledger (engine/ledger.h) records
 * namespaces, removes them with whatever is still inside, refuses names that are not
 * names, and removes a hub only when no port is left on it. The tests that make
 * namespaces need root and are skipped, saying so, without it.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ledger.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"

static char tmpdir[64];
static char ns_a[64], ns_b[64], hub[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-netns-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	char st[128];
	snprintf(st, sizeof(st), "%s/state", tmpdir);
	setenv("FALLOUT_STATE_DIR", st, 1);
	/* Names of our own, so nothing of anyone else's is ever touched. */
	snprintf(ns_a, sizeof(ns_a), "fo-unit%d-a", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "fo-unit%d-b", (int)getpid());
	snprintf(hub, sizeof(hub), "fo-unit%d-hub", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	const char *names[] = {ns_a, ns_b, hub};
	for (size_t i = 0; i < FO_ARRAY_LEN(names); i++)
		fo_ledger_remove_netns(NULL, names[i], NULL);
	char etc[128];
	snprintf(etc, sizeof(etc), "/etc/netns/%s", ns_a);
	fo_ledger_remove_dir(NULL, etc, NULL);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static bool is_root(void)
{
	return geteuid() == 0;
}

/* Runs argv (ip, mostly) to its end; returns its exit status. */
static int run(const char *const *argv, struct fo_buf *out)
{
	struct fo_cmd cmd = {.argv = argv, .capture = out, .timeout_ns = 30 * 1000000000LL};
	struct fo_cmd_result res = {0};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	return res.exit_code;
}

static void add_netns(const char *name)
{
	const char *argv[] = {"ip", "netns", "add", name, NULL};
	assert_int_equal(run(argv, NULL), 0);
}

static bool netns_there(const char *name)
{
	char p[128];
	snprintf(p, sizeof(p), "/run/netns/%s", name);
	struct stat st;
	return lstat(p, &st) == 0;
}

static struct fo_ledger *open_ledger(void)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/ledger", tmpdir);
	unlink(p);
	struct fo_err err = {0};
	struct fo_ledger *l = fo_ledger_open(p, "unit-run", &err);
	assert_non_null(l);
	return l;
}

/* ---- tests ---- */

static void test_missing_namespace_is_an_error(void **state)
{
	const char *argv[] = {"true", NULL};
	struct fo_cmd cmd = {.argv = argv, .netns = "fo-unit-no-such-namespace"};
	struct fo_cmd_result res = {0};
	struct fo_err err = {0};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), FO_ENOENT);
	assert_non_null(strstr(err.msg, "network namespace 'fo-unit-no-such-namespace'"));
	cmd.netns = "../etc";
	fo_err_clear(&err);
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, &err), FO_EINVAL);
}

static void test_names_that_are_not_names_are_refused(void **state)
{
	struct fo_ledger *l = open_ledger();
	assert_int_equal(fo_ledger_netns(l, NULL, ".."), FO_EINVAL);
	assert_int_equal(fo_ledger_netns(l, NULL, "a/b"), FO_EINVAL);
	assert_int_equal(fo_ledger_netns(l, NULL, "a b"), FO_EINVAL);
	assert_int_equal(fo_ledger_hub(l, "hub", "relative/lock"), FO_EINVAL);
	struct fo_err err = {0};
	assert_int_equal(fo_ledger_remove_netns(l, "..", &err), FO_EINVAL);
	assert_int_equal(fo_ledger_remove_netns(l, "fo-unit-never-made", NULL), 0); /* nothing there */
	fo_ledger_close(l, true);
}

static void test_command_runs_inside_with_its_hosts(void **state)
{
	if (!is_root())
		skip(); /* namespaces need root */
	add_netns(ns_a);
	char etc[128], hosts[160];
	snprintf(etc, sizeof(etc), "/etc/netns/%s", ns_a);
	fo_mkdir_p(etc, 0755, NULL);
	snprintf(hosts, sizeof(hosts), "%s/hosts", etc);
	FILE *f = fopen(hosts, "w");
	assert_non_null(f);
	fputs("10.231.254.9\tunit-node\n", f);
	fclose(f);
	const char *argv[] = {"sh", "-c", "cat /proc/net/dev; getent hosts unit-node; ls /sys/class/net", NULL};
	struct fo_buf out = FO_BUF_INIT;
	struct fo_cmd cmd = {.argv = argv, .capture = &out, .netns = ns_a};
	struct fo_cmd_result res = {0};
	assert_int_equal(fo_proc_run(&cmd, NULL, NULL, &res, NULL), 0);
	assert_int_equal(res.exit_code, 0);
	assert_non_null(strstr(out.s, "lo:"));
	assert_null(strstr(out.s, "eth0")); /* only the namespace's own interfaces */
	assert_non_null(strstr(out.s, "10.231.254.9 "));
	assert_non_null(strstr(out.s, " unit-node"));
	fo_buf_release(&out);
	/* The host's /etc/hosts is untouched. */
	struct fo_buf mine = FO_BUF_INIT;
	assert_int_equal(fo_buf_read_file(&mine, "/etc/hosts", 1 << 20, NULL), 0);
	assert_null(strstr(mine.s, "unit-node"));
	fo_buf_release(&mine);
	assert_int_equal(fo_ledger_remove_dir(NULL, etc, NULL), 0);
	assert_int_equal(fo_ledger_remove_netns(NULL, ns_a, NULL), 0);
	assert_false(netns_there(ns_a));
}

static void test_undo_kills_what_is_inside_and_removes_it(void **state)
{
	if (!is_root())
		skip();
	struct fo_ledger *l = open_ledger();
	assert_int_equal(fo_ledger_netns(l, NULL, ns_b), 0);
	add_netns(ns_b);
	/* A process that left its process group: only the namespace still knows it. */
	const char *argv[] = {"sh", "-c", "setsid sleep 101 & echo $! > pid; wait", NULL};
	struct fo_cmd cmd = {.argv = argv, .netns = ns_b, .cwd = tmpdir};
	struct fo_service *s = fo_service_start(&cmd, NULL, NULL, NULL, NULL, NULL);
	assert_non_null(s);
	char pidfile[128];
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	struct fo_buf text = FO_BUF_INIT;
	int64_t deadline = fo_now_ns() + 10 * 1000000000LL;
	while ((fo_buf_read_file(&text, pidfile, 64, NULL) != 0 || !text.len) && fo_now_ns() < deadline) {
		fo_buf_clear(&text);
		poll(NULL, 0, 5);
	}
	pid_t escaped = (pid_t)strtol(text.s, NULL, 10);
	fo_buf_release(&text);
	assert_true(escaped > 1 && fo_proc_start_time(escaped) != 0);
	fo_service_stop(s, 1000000000LL);
	fo_service_free(s);
	assert_true(fo_proc_start_time(escaped) != 0); /* its group is gone, it is not */
	assert_true(fo_ledger_undo_all(l, NULL) >= 1);
	assert_false(netns_there(ns_b));
	deadline = fo_now_ns() + 10 * 1000000000LL;
	char stat_path[64], st[512] = "";
	snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)escaped);
	for (;;) { /* gone, or a zombie waiting for init */
		FILE *f = fopen(stat_path, "r");
		size_t n = f ? fread(st, 1, sizeof(st) - 1, f) : 0;
		if (f)
			fclose(f);
		st[n] = '\0';
		if (!f || strstr(st, ") Z ") || fo_now_ns() > deadline)
			break;
		poll(NULL, 0, 5);
	}
	assert_true(!st[0] || strstr(st, ") Z "));
	fo_ledger_close(l, true);
}

static void test_hub_goes_only_when_no_port_is_left(void **state)
{
	if (!is_root())
		skip();
	char lock[128];
	snprintf(lock, sizeof(lock), "%s/hub.lock", tmpdir);
	add_netns(hub);
	add_netns(ns_a);
	const char *bridge[] = {"ip", "-n", hub, "link", "add", "br-unit", "type", "bridge", NULL};
	assert_int_equal(run(bridge, NULL), 0);
	const char *veth[] = {"ip", "-n", hub, "link", "add", "fo-unit0", "type", "veth", "peer", "name", "eth0",
			      "netns", ns_a, NULL};
	assert_int_equal(run(veth, NULL), 0);
	bool removed = true;
	assert_int_equal(fo_ledger_release_hub(NULL, hub, lock, &removed, NULL), 0);
	assert_false(removed); /* a port is on it */
	assert_true(netns_there(hub));
	const char *del[] = {"ip", "-n", hub, "link", "del", "fo-unit0", NULL};
	assert_int_equal(run(del, NULL), 0);
	assert_int_equal(fo_ledger_release_hub(NULL, hub, lock, &removed, NULL), 0);
	assert_true(removed); /* a bridge and loopback are no use */
	assert_false(netns_there(hub));
	assert_int_equal(fo_ledger_remove_netns(NULL, ns_a, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_namespace_is_an_error),
		cmocka_unit_test(test_names_that_are_not_names_are_refused),
		cmocka_unit_test(test_command_runs_inside_with_its_hosts),
		cmocka_unit_test(test_undo_kills_what_is_inside_and_removes_it),
		cmocka_unit_test(test_hub_goes_only_when_no_port_is_left),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
