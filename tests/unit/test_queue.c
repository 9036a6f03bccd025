/*
 * test_queue.c: the pure parts of the server's run queue (server/queue_internal.h): the
 * fair pick (fewer running first, round robin between owners, FIFO within an owner,
 * resource limits that make a run wait and block its provisioner, runs too large for a
 * limit, pause and max_running), parsing a run's resource needs, redacting secrets from a
 * run folder, the artifacts map of a folder, and the reason read from exec's log when a
 * run process left no result.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/queue_internal.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/fs.h"

static const struct fo__qneed local1[] = {{"local", 1}};
static const struct fo__qneed local2[] = {{"local", 2}};
static const struct fo__qneed local3[] = {{"local", 3}};
static const struct fo__qneed ssh1[] = {{"ssh", 1}};

#define CAND(o, t, nd) {.owner = (o), .created_at = (t), .needs = (nd), .nneeds = 1}

/* A state with up to 4 owners (running 0, never started) and no limits. */
struct fixture {
	struct fo__qowner owners[4];
	int64_t in_use[4];
	struct fo__qstate st;
};

static void fixture_init(struct fixture *f, const char *const *owners, size_t n)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i++)
		f->owners[i].owner = owners[i];
	f->st.owners = f->owners;
	f->st.nowners = n;
	f->st.in_use = f->in_use;
	f->st.now = 1000;
}

/* The index of the candidate started seq-th, or -1. */
static int started(const struct fo__qdecision *d, size_t n, int seq)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].verdict == FO__Q_START && d[i].start_seq == seq)
			return (int)i;
	return -1;
}

static void test_fewer_running_first(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a", "b"};
	struct fixture f;
	fixture_init(&f, owners, 2);
	f.owners[0].running = 2; /* a has two running already */
	f.st.running = 2;
	f.st.max_running = 3;    /* room for one more */
	struct fo__qcand c[] = {CAND("a", 1, local1), CAND("b", 2, local1)};
	struct fo__qdecision d[2];
	fo__queue_pick(c, 2, &f.st, d);
	assert_int_equal(started(d, 2, 1), 1);
	assert_int_equal(d[0].verdict, FO__Q_QUEUED);
	assert_int_equal(f.st.running, 3);
}

static void test_round_robin_one_at_a_time(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a", "b"};
	struct fixture f;
	fixture_init(&f, owners, 2);
	f.st.max_running = 1;
	/* a is running one and queued three before b queued its single run */
	f.owners[0].running = 1;
	f.owners[0].last_started = 500;
	f.st.running = 1;
	struct fo__qcand c[] = {CAND("a", 10, local1), CAND("a", 11, local1), CAND("a", 12, local1),
				CAND("b", 13, local1)};
	struct fo__qdecision d[4];
	fo__queue_pick(c, 4, &f.st, d);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(d[i].verdict, FO__Q_QUEUED); /* full */
	/* a's run ends: b's single run goes next, though a queued three before it */
	f.owners[0].running = 0;
	f.st.running = 0;
	fo__queue_pick(c, 4, &f.st, d);
	assert_int_equal(started(d, 4, 1), 3);
	assert_int_equal(started(d, 4, 2), -1);
	/* then b's ends: a (served longest ago) again, its oldest run first */
	f.owners[1].running = 0;
	f.st.running = 0;
	fo__queue_pick(c, 3, &f.st, d);
	assert_int_equal(started(d, 3, 1), 0);
}

static void test_never_started_owner_first(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a", "b"};
	struct fixture f;
	fixture_init(&f, owners, 2);
	f.owners[0].last_started = 10;
	struct fo__qcand c[] = {CAND("a", 1, local1), CAND("b", 2, local1), CAND("a", 3, local1)};
	struct fo__qdecision d[3];
	fo__queue_pick(c, 3, &f.st, d);
	/* no limits: all start; b (never served) first, then a's in order */
	assert_int_equal(started(d, 3, 1), 1);
	assert_int_equal(started(d, 3, 2), 0);
	assert_int_equal(started(d, 3, 3), 2);
}

static void test_fifo_within_owner(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a"};
	struct fixture f;
	fixture_init(&f, owners, 1);
	f.st.max_running = 2;
	struct fo__qcand c[] = {CAND("a", 30, local1), CAND("a", 10, local1), CAND("a", 20, local1)};
	struct fo__qdecision d[3];
	fo__queue_pick(c, 3, &f.st, d);
	assert_int_equal(started(d, 3, 1), 1);
	assert_int_equal(started(d, 3, 2), 2);
	assert_int_equal(d[0].verdict, FO__Q_QUEUED);
	assert_int_equal(f.owners[0].running, 2);
	assert_int_equal(f.owners[0].last_started, 1000);
}

static void test_waiting_run_blocks_its_provisioner_only(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a", "b", "c"};
	struct fixture f;
	fixture_init(&f, owners, 3);
	struct fo_limit limits[] = {{"local", 3}, {"ssh", 5}};
	f.st.limits = limits;
	f.st.nlimits = 2;
	f.in_use[0] = 2; /* 2 of 3 local nodes in use */
	f.owners[0].running = 1;
	f.st.running = 1;
	/* b's run needs 2 local: does not fit; c's needs 1 local (would fit, but waits behind
	 * b's); a's needs 1 ssh: starts */
	struct fo__qcand c[] = {CAND("b", 1, local2), CAND("c", 2, local1), CAND("a", 3, ssh1)};
	struct fo__qdecision d[3];
	fo__queue_pick(c, 3, &f.st, d);
	assert_int_equal(d[0].verdict, FO__Q_WAIT);
	assert_int_equal(d[1].verdict, FO__Q_WAIT);
	assert_int_equal(d[2].verdict, FO__Q_START);
	assert_int_equal(f.in_use[0], 2);
	assert_int_equal(f.in_use[1], 1);
	/* the local nodes free up: b's starts, then c's fits beside it (2 + 1 = 3) */
	f.in_use[0] = 0;
	fo__queue_pick(c, 2, &f.st, d);
	assert_int_equal(d[0].verdict, FO__Q_START);
	assert_int_equal(d[1].verdict, FO__Q_START);
	assert_int_equal(f.in_use[0], 3);
}

static void test_too_large_is_impossible(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a"};
	struct fixture f;
	fixture_init(&f, owners, 1);
	struct fo_limit limits[] = {{"local", 2}};
	f.st.limits = limits;
	f.st.nlimits = 1;
	f.st.paused = true; /* even paused, an impossible run fails at once */
	struct fo__qcand c[] = {CAND("a", 1, local3), CAND("a", 2, local1)};
	struct fo__qdecision d[2];
	fo__queue_pick(c, 2, &f.st, d);
	assert_int_equal(d[0].verdict, FO__Q_IMPOSSIBLE);
	assert_string_equal(d[0].provisioner, "local");
	assert_int_equal(d[0].need, 3);
	assert_int_equal(d[0].limit, 2);
	assert_int_equal(d[1].verdict, FO__Q_QUEUED);
	/* resumed: the impossible run does not block the other */
	f.st.paused = false;
	fo__queue_pick(c, 2, &f.st, d);
	assert_int_equal(d[0].verdict, FO__Q_IMPOSSIBLE);
	assert_int_equal(d[1].verdict, FO__Q_START);
}

static void test_unlimited_provisioner(void **state)
{
	FO_UNUSED(state);
	const char *owners[] = {"a"};
	struct fixture f;
	fixture_init(&f, owners, 1);
	struct fo_limit limits[] = {{"ssh", 1}};
	f.st.limits = limits;
	f.st.nlimits = 1;
	struct fo__qcand c[] = {CAND("a", 1, local3), CAND("a", 2, local3)};
	struct fo__qdecision d[2];
	fo__queue_pick(c, 2, &f.st, d);
	assert_int_equal(d[0].verdict, FO__Q_START);
	assert_int_equal(d[1].verdict, FO__Q_START);
}

static void test_parse_needs(void **state)
{
	FO_UNUSED(state);
	struct fo_arena *a = fo_arena_new();
	struct fo__qneed *needs;
	assert_int_equal(fo__queue_parse_needs(a, "{\"local\": 3, \"ssh\": 0}", &needs), 1);
	assert_string_equal(needs[0].provisioner, "local");
	assert_int_equal(needs[0].nodes, 3);
	assert_int_equal(fo__queue_parse_needs(a, "not json", &needs), 0);
	assert_int_equal(fo__queue_parse_needs(a, NULL, &needs), 0);
	fo_arena_free(a);
}

/* ---- files ---- */

static char tmpdir[64];

static void put(const char *rel, const char *text)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/%s", tmpdir, rel);
	char *slash = strrchr(p.s, '/');
	*slash = '\0';
	assert_int_equal(fo_mkdirs(p.s, NULL), 0);
	*slash = '/';
	int fd = open(p.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	fo_buf_release(&p);
}

static char *get(const char *rel)
{
	struct fo_buf p = FO_BUF_INIT, b = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/%s", tmpdir, rel);
	assert_int_equal(fo_buf_read_file(&b, p.s, 0, NULL), 0);
	fo_buf_release(&p);
	return fo_buf_detach(&b, NULL);
}

static int setup_dir(void **state)
{
	FO_UNUSED(state);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fallout-test-queue-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	FO_UNUSED(state);
	return fo_remove_tree(tmpdir, false, NULL);
}

static void test_redact(void **state)
{
	FO_UNUSED(state);
	put("fallout-exec.log", "password=hunter22 and hunter22 again\n");
	put("db/node0/service.log", "token abc and s3cr3t-value\n");
	put("clean.txt", "nothing here\n");
	const char *secrets[] = {"hunter22", "abc", "s3cr3t-value"};
	assert_int_equal(fo__redact_dir(tmpdir, secrets, 3), 2);
	char *s = get("fallout-exec.log");
	assert_string_equal(s, "password=<redacted> and <redacted> again\n");
	free(s);
	s = get("db/node0/service.log");
	/* "abc" is shorter than 4 characters: not redacted */
	assert_string_equal(s, "token abc and <redacted>\n");
	free(s);
	s = get("clean.txt");
	assert_string_equal(s, "nothing here\n");
	free(s);
	struct stat st;
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/fallout-exec.log", tmpdir);
	assert_int_equal(stat(p.s, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640); /* mode kept */
	fo_buf_release(&p);
}

static void test_artifacts_map(void **state)
{
	FO_UNUSED(state);
	put("testrun.json", "{}");
	put("a/b/c.log", "12345");
	put("z.txt", "");
	struct fo_buf b = FO_BUF_INIT;
	int64_t bytes = -1;
	fo__artifacts_json(tmpdir, &b, &bytes);
	assert_string_equal(b.s, "{\"a/b/c.log\":5,\"testrun.json\":2,\"z.txt\":0}");
	assert_int_equal(bytes, 7);
	fo_buf_clear(&b);
	fo__artifacts_json("/nonexistent/fallout", &b, &bytes);
	assert_string_equal(b.s, "{}");
	assert_int_equal(bytes, 0);
	fo_buf_release(&b);
}

static void test_log_tail(void **state)
{
	FO_UNUSED(state);
	struct fo_buf spool = FO_BUF_INIT, log = FO_BUF_INIT;
	fo_buf_addf(&spool, "%s/spool/r1", tmpdir);
	put("spool/r1/exec.log", "");
	fo_buf_addf(&log, "%s/exec.log", spool.s);
	struct fo_arena *a = fo_arena_new();
	/* nothing but progress: no reason */
	put("spool/r1/exec.log", "[ 0.00s] PREPARING_RUN\n[ 0.11s]   running say\n\n");
	assert_null(fo__log_tail(a, log.s, spool.s));
	/* exec's definition errors, the spool folder taken out */
	struct fo_buf text = FO_BUF_INIT;
	fo_buf_addf(&text,
		    "%s/hello.yaml:3:5: unknown property 'duraton'\n\n"
		    "fallout: %s/hello.yaml is not a valid test definition (1 error); nothing was run\n\n",
		    spool.s, spool.s);
	put("spool/r1/exec.log", text.s);
	assert_string_equal(fo__log_tail(a, log.s, spool.s),
			    "hello.yaml:3:5: unknown property 'duraton'\n"
			    "fallout: hello.yaml is not a valid test definition (1 error); nothing was run");
	assert_null(fo__log_tail(a, "/nonexistent/exec.log", spool.s));
	fo_arena_free(a);
	fo_buf_release(&text);
	fo_buf_release(&log);
	fo_buf_release(&spool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fewer_running_first),
		cmocka_unit_test(test_round_robin_one_at_a_time),
		cmocka_unit_test(test_never_started_owner_first),
		cmocka_unit_test(test_fifo_within_owner),
		cmocka_unit_test(test_waiting_run_blocks_its_provisioner_only),
		cmocka_unit_test(test_too_large_is_impossible),
		cmocka_unit_test(test_unlimited_provisioner),
		cmocka_unit_test(test_parse_needs),
		cmocka_unit_test_setup_teardown(test_redact, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_artifacts_map, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_log_tail, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
