/*
 * test_artifacts.c: a run's artifacts as the server hands them out (server/artifacts.h):
 * the path checker (every bad form refused, nested paths accepted), opening that refuses
 * a symbolic link (to a file outside, or a linked folder on the way) and a FIFO without
 * blocking, the listing that skips links and FIFOs, the zip (read back with Python's
 * zipfile), content types, the server-sent-events formatter (lines to events, partial
 * lines held back) and the follower of a growing log (growth, a shrinking file, the
 * heartbeat, ?offset, the finished event). Everything happens in one temporary folder.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/artifacts.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

static char tmpdir[64];

static const char *at(struct fo_buf *b, const char *rel)
{
	fo_buf_clear(b);
	fo_buf_addf(b, "%s/%s", tmpdir, rel);
	return b->s;
}

static void write_file(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-artifacts-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	alarm(60); /* a blocking open or read fails the run instead of hanging it */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fo_remove_tree(tmpdir, false, NULL);
}

static bool ok(const char *p)
{
	return fo_artifact_path_ok(p, strlen(p));
}

static void test_path_checker(void **state)
{
	(void)state;
	assert_true(ok("fallout-shared.log"));
	assert_true(ok("a/b/c.log"));
	assert_true(ok("client/node0/.hidden"));
	assert_true(ok("controller/checkers/checker-x.log"));
	assert_true(ok("a.b/c"));

	assert_false(ok(""));
	assert_false(fo_artifact_path_ok(NULL, 0));
	assert_false(ok("/etc/passwd"));
	assert_false(ok("/"));
	assert_false(ok(".."));
	assert_false(ok("../x"));
	assert_false(ok("a/../b"));
	assert_false(ok("a/.."));
	assert_false(ok("..a"));
	assert_false(ok("."));
	assert_false(ok("./a"));
	assert_false(ok("a/./b"));
	assert_false(ok("a/."));
	assert_false(ok("a//b"));
	assert_false(ok("a/"));
	assert_false(ok("a\\b"));
	assert_false(ok("..\\x"));
	assert_false(ok("a\x01" "b"));
	assert_false(ok("a\nb"));
	assert_false(ok("a\tb"));
	assert_false(ok("a\x7f"));
	assert_false(fo_artifact_path_ok("a\0b", 3));
	char longp[FO_ARTIFACT_PATH_MAX + 2];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	for (size_t i = 100; i < sizeof(longp) - 1; i += 100)
		longp[i] = '/';
	assert_false(ok(longp));
	char longname[FO_ARTIFACT_NAME_MAX + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(ok(longname));
	longname[FO_ARTIFACT_NAME_MAX] = '\0';
	assert_true(ok(longname));
}

/* A run folder: files, a link to a file outside, a linked folder, a FIFO, a folder. */
static void make_run(const char *run)
{
	struct fo_buf p = FO_BUF_INIT, q = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/%s", tmpdir, run);
	assert_int_equal(fo_mkdirs(p.s, NULL), 0);
	char rel[128];
	snprintf(rel, sizeof(rel), "%s/client/node0", run);
	assert_int_equal(fo_mkdirs(at(&p, rel), NULL), 0);
	snprintf(rel, sizeof(rel), "%s/fallout-shared.log", run);
	write_file(at(&p, rel), "line one\nline two\n", O_TRUNC);
	snprintf(rel, sizeof(rel), "%s/client/node0/x.hdr", run);
	write_file(at(&p, rel), "#[StartTime: 1]\n", O_TRUNC);
	snprintf(rel, sizeof(rel), "%s/client/node0/old.log.gz", run);
	write_file(at(&p, rel), "not really gzip", O_TRUNC);
	write_file(at(&p, "secret.txt"), "top secret\n", O_TRUNC);
	snprintf(rel, sizeof(rel), "%s/passwd", run);
	assert_int_equal(symlink(at(&q, "secret.txt"), at(&p, rel)), 0);
	assert_int_equal(fo_mkdirs(at(&p, "outside"), NULL), 0);
	write_file(at(&p, "outside/f.log"), "outside\n", O_TRUNC);
	snprintf(rel, sizeof(rel), "%s/linkdir", run);
	assert_int_equal(symlink(at(&q, "outside"), at(&p, rel)), 0);
	snprintf(rel, sizeof(rel), "%s/fifo.log", run);
	assert_int_equal(mkfifo(at(&p, rel), 0644), 0);
	fo_buf_release(&p);
	fo_buf_release(&q);
}

static void test_open_refuses_links_and_fifos(void **state)
{
	(void)state;
	make_run("run1");
	struct fo_buf p = FO_BUF_INIT;
	int root = fo_artifact_root_open(at(&p, "run1"));
	assert_true(root >= 0);
	struct stat st;
	int fd = fo_artifact_open(root, "client/node0/x.hdr", &st);
	assert_true(fd >= 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 16);
	char buf[32];
	assert_int_equal(read(fd, buf, sizeof(buf)), 16);
	close(fd);

	assert_int_equal(fo_artifact_open(root, "passwd", NULL), -ELOOP);
	assert_true(fo_artifact_open(root, "linkdir/f.log", NULL) < 0);
	time_t t0 = time(NULL);
	assert_int_equal(fo_artifact_open(root, "fifo.log", NULL), -EINVAL);
	assert_true(time(NULL) - t0 < 2);
	assert_int_equal(fo_artifact_open(root, "client", NULL), -EINVAL);
	assert_int_equal(fo_artifact_open(root, "missing.log", NULL), -ENOENT);
	assert_int_equal(fo_artifact_open(root, "client/missing/x", NULL), -ENOENT);
	assert_int_equal(fo_artifact_open(root, "../secret.txt", NULL), -EINVAL);
	assert_int_equal(fo_artifact_open(root, "/etc/passwd", NULL), -EINVAL);
	/* a file used as a folder */
	assert_true(fo_artifact_open(root, "fallout-shared.log/x", NULL) < 0);
	close(root);
	fo_buf_release(&p);
}

static void test_listing_skips_links(void **state)
{
	(void)state;
	make_run("run2");
	struct fo_buf p = FO_BUF_INIT;
	int root = fo_artifact_root_open(at(&p, "run2"));
	assert_true(root >= 0);
	struct fo_artifact_list l;
	assert_int_equal(fo_artifact_list(root, &l), 0);
	struct fo_buf json = FO_BUF_INIT;
	fo_artifact_list_json(&l, &json);
	assert_string_equal(json.s, "{\"client/node0/old.log.gz\": 15, \"client/node0/x.hdr\": 16, "
				    "\"fallout-shared.log\": 18}");
	fo_artifact_list_release(&l);
	fo_buf_release(&json);
	close(root);
	fo_buf_release(&p);
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(fo_artifact_ctype("a/fallout-shared.log"), "text/plain; charset=utf-8");
	assert_string_equal(fo_artifact_ctype("x.hdr"), "text/plain; charset=utf-8");
	assert_string_equal(fo_artifact_ctype("testrun.json"), "application/json");
	assert_string_equal(fo_artifact_ctype("r/performance-report.html"), "text/html; charset=utf-8");
	assert_string_equal(fo_artifact_ctype("a.svg"), "image/svg+xml");
	assert_string_equal(fo_artifact_ctype("a.png"), "image/png");
	assert_string_equal(fo_artifact_ctype("a.log.gz"), "application/gzip");
	assert_string_equal(fo_artifact_ctype("core"), "application/octet-stream");
	assert_true(fo_artifact_is_compressed("a.log.gz"));
	assert_true(fo_artifact_is_compressed("a.png"));
	assert_false(fo_artifact_is_compressed("a.log"));
}

static void test_zip_holds_the_files(void **state)
{
	(void)state;
	make_run("run3");
	struct fo_buf p = FO_BUF_INIT, cmd = FO_BUF_INIT;
	int root = fo_artifact_root_open(at(&p, "run3"));
	assert_true(root >= 0);
	struct fo_err err = {0};
	int rc = fo_artifact_zip(root, "t-123", at(&p, "out.zip"), &err);
	if (rc)
		fail_msg("zip failed: %s", err.msg);
	close(root);
	fo_buf_addf(&cmd,
		    "/usr/bin/python3 -c \"import zipfile,sys\n"
		    "z = zipfile.ZipFile(sys.argv[1])\n"
		    "assert z.testzip() is None\n"
		    "n = sorted(i for i in z.namelist() if not i.endswith('/'))\n"
		    "assert n == ['t-123/client/node0/old.log.gz', 't-123/client/node0/x.hdr', "
		    "'t-123/fallout-shared.log'], n\n"
		    "assert z.read('t-123/fallout-shared.log') == b'line one\\nline two\\n'\n"
		    "assert z.getinfo('t-123/fallout-shared.log').compress_type == zipfile.ZIP_DEFLATED\n"
		    "assert z.getinfo('t-123/client/node0/old.log.gz').compress_type == zipfile.ZIP_STORED\n"
		    "\" %s",
		    p.s);
	assert_int_equal(system(cmd.s), 0);

	/* an empty run folder still gives an archive (its top folder) */
	assert_int_equal(fo_mkdirs(at(&p, "empty"), NULL), 0);
	root = fo_artifact_root_open(p.s);
	rc = fo_artifact_zip(root, "t-0", at(&p, "empty.zip"), &err);
	close(root);
	assert_int_equal(rc, 0);
	fo_buf_clear(&cmd);
	fo_buf_addf(&cmd, "/usr/bin/python3 -c \"import zipfile,sys; "
			  "assert zipfile.ZipFile(sys.argv[1]).namelist() == ['t-0/']\" %s",
		    p.s);
	assert_int_equal(system(cmd.s), 0);
	fo_buf_release(&p);
	fo_buf_release(&cmd);
}

static void test_sse_formatter(void **state)
{
	(void)state;
	struct fo_buf part = FO_BUF_INIT, out = FO_BUF_INIT;
	assert_int_equal(fo_sse_feed(&part, "one\ntwo\npar", 11, false, &out), 2);
	assert_string_equal(out.s, "event: updated\ndata: one\ndata: two\n\n");
	assert_string_equal(part.s, "par");
	fo_buf_clear(&out);
	assert_int_equal(fo_sse_feed(&part, "ti", 2, false, &out), 0);
	assert_string_equal(out.s, "");
	assert_int_equal(fo_sse_feed(&part, "al\r\n\nx\ry\n", 9, false, &out), 3);
	assert_string_equal(out.s, "event: updated\ndata: partial\ndata: \ndata: x y\n\n");
	assert_string_equal(part.s, "");
	fo_buf_clear(&out);
	assert_int_equal(fo_sse_feed(&part, "last", 4, true, &out), 1);
	assert_string_equal(out.s, "event: updated\ndata: last\n\n");
	fo_buf_clear(&out);
	assert_int_equal(fo_sse_feed(&part, NULL, 0, true, &out), 0);
	assert_string_equal(out.s, "");
	fo_sse_finished(&out, "PASSED");
	fo_sse_heartbeat(&out);
	assert_string_equal(out.s, "event: finished\ndata: PASSED\n\n: heartbeat\n\n");
	fo_buf_release(&part);
	fo_buf_release(&out);
}

/* ---- the follower ---- */

static bool run_active;

static bool t_active(void *arg)
{
	(void)arg;
	return run_active;
}

static void t_state(void *arg, struct fo_buf *out)
{
	(void)arg;
	fo_buf_adds(out, "PASSED");
}

static const struct fo_tail_ops tops = {.active = t_active, .final_state = t_state, .poll_ms = 5,
					.heartbeat_ms = 100};

/* Reads the tail into got until it holds needle (true) or the stream ends (false). */
static bool read_until(struct fo_tail *t, struct fo_buf *got, const char *needle)
{
	char buf[7]; /* small, so events come in pieces */
	while (!strstr(got->s, needle)) {
		ssize_t n = fo_tail_read(t, buf, sizeof(buf));
		if (n < 0)
			return false;
		fo_buf_add(got, buf, (size_t)n);
	}
	return true;
}

static void test_tail_follows_a_growing_log(void **state)
{
	(void)state;
	struct fo_buf p = FO_BUF_INIT, got = FO_BUF_INIT, dir = FO_BUF_INIT;
	at(&dir, "live");
	run_active = true;
	/* the run folder does not exist yet */
	struct fo_tail *t = fo_tail_new(dir.s, "fallout-shared.log", 0, &tops, NULL);
	assert_true(read_until(t, &got, ": heartbeat\n\n"));
	assert_int_equal(fo_mkdirs(dir.s, NULL), 0);
	write_file(at(&p, "live/fallout-shared.log"), "one\ntwo\npar", O_TRUNC);
	fo_buf_clear(&got);
	assert_true(read_until(t, &got, "data: two\n\n"));
	assert_string_equal(got.s, "event: updated\ndata: one\ndata: two\n\n");
	write_file(p.s, "tial\n", O_APPEND);
	fo_buf_clear(&got);
	assert_true(read_until(t, &got, "\n\n"));
	assert_string_equal(got.s, "event: updated\ndata: partial\n\n");
	/* shrinks: starts again */
	write_file(p.s, "new\n", O_TRUNC);
	fo_buf_clear(&got);
	assert_true(read_until(t, &got, "\n\n"));
	assert_string_equal(got.s, "event: updated\ndata: new\n\n");
	/* the run ends with a partial line: it is sent, then finished */
	write_file(p.s, "last", O_APPEND);
	run_active = false;
	fo_buf_clear(&got);
	assert_false(read_until(t, &got, "never"));
	assert_string_equal(got.s, "event: updated\ndata: last\n\nevent: finished\ndata: PASSED\n\n");
	char c;
	assert_int_equal(fo_tail_read(t, &c, 1), -1);
	fo_tail_free(t);

	/* ?offset=N on a finished run */
	t = fo_tail_new(dir.s, "fallout-shared.log", 4, &tops, NULL);
	fo_buf_clear(&got);
	assert_false(read_until(t, &got, "never"));
	assert_string_equal(got.s, "event: updated\ndata: last\n\nevent: finished\ndata: PASSED\n\n");
	fo_tail_free(t);
	/* a file that never appeared */
	t = fo_tail_new(dir.s, "missing.log", 0, &tops, NULL);
	fo_buf_clear(&got);
	assert_false(read_until(t, &got, "never"));
	assert_string_equal(got.s, "event: finished\ndata: PASSED\n\n");
	fo_tail_free(t);
	/* a link is never followed */
	make_run("live2");
	t = fo_tail_new(at(&dir, "live2"), "passwd", 0, &tops, NULL);
	fo_buf_clear(&got);
	assert_false(read_until(t, &got, "never"));
	assert_string_equal(got.s, "event: finished\ndata: PASSED\n\n");
	fo_tail_free(t);
	fo_tail_free(NULL);
	fo_buf_release(&p);
	fo_buf_release(&got);
	fo_buf_release(&dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_checker),
		cmocka_unit_test(test_open_refuses_links_and_fifos),
		cmocka_unit_test(test_listing_skips_links),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_zip_holds_the_files),
		cmocka_unit_test(test_sse_formatter),
		cmocka_unit_test(test_tail_follows_a_growing_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
