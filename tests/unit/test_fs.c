/*
 * test_fs.c: the shared file-system helpers (util/fs.h): mkdir -p (nested, existing, a
 * file in the way), the `cp -a`-like copy (modes and times kept, links kept as links,
 * nested folders, fifos skipped, merging, the depth limit), the removal that never
 * follows a link out of the tree, and fo_is_dir. Everything happens in one temporary
 * folder, removed (with fo_remove_tree, checked) at the end.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

static char tmpdir[64];

/* The path of rel inside the temporary folder, in b (replaced). */
static const char *at(struct fo_buf *b, const char *rel)
{
	fo_buf_clear(b);
	fo_buf_addf(b, "%s/%s", tmpdir, rel);
	return b->s;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Asserts path is a regular file holding text with mode. */
static void assert_file(const char *path, const char *text, mode_t mode)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		fail_msg("'%s' is missing", path);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	struct fo_buf b = FO_BUF_INIT;
	assert_int_equal(fo_buf_read_file(&b, path, 0, NULL), 0);
	assert_string_equal(b.s, text);
	fo_buf_release(&b);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* How many entries of folder dir have part in their name. */
static int entries_named(const char *dir, const char *part)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strstr(de->d_name, part) != NULL;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-fs-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes the temporary folder with the function under test, and checks it is gone. */
static int teardown(void **state)
{
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_remove_tree(tmpdir, true, &failed);
	if (e)
		fprintf(stderr, "cannot remove '%s': %s\n", failed.s, strerror(e));
	fo_buf_release(&failed);
	return e || exists(tmpdir) ? -1 : 0;
}

/* ---- fo_mkdir_p, fo_mkdirs ---- */

static void test_mkdir_p_nested_and_existing(void **state)
{
	struct fo_buf p = FO_BUF_INIT, failed = FO_BUF_INIT;
	assert_int_equal(fo_mkdir_p(at(&p, "m/a/b/c"), 0700, &failed), 0);
	assert_true(fo_is_dir(p.s));
	struct stat st;
	assert_int_equal(stat(p.s, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Existing folders are fine, and so are repeated and trailing slashes. */
	assert_int_equal(fo_mkdir_p(p.s, 0700, &failed), 0);
	assert_int_equal(fo_mkdir_p(at(&p, "m//a/b/d/"), 0755, &failed), 0);
	assert_true(fo_is_dir(at(&p, "m/a/b/d")));
	/* A link to a folder counts as a folder. */
	assert_int_equal(symlink(at(&p, "m/a"), at(&failed, "m/link")), 0);
	assert_int_equal(fo_mkdir_p(at(&p, "m/link/b/e"), 0755, NULL), 0);
	assert_true(fo_is_dir(at(&p, "m/a/b/e")));
	assert_int_equal(fo_mkdir_p("", 0755, NULL), ENOENT);
	fo_buf_release(&p);
	fo_buf_release(&failed);
}

static void test_mkdir_p_file_in_the_way(void **state)
{
	struct fo_buf p = FO_BUF_INIT, f = FO_BUF_INIT, failed = FO_BUF_INIT;
	assert_int_equal(fo_mkdir_p(at(&p, "w"), 0755, NULL), 0);
	write_file(at(&f, "w/f"), "a file, not a folder", 0644);
	fo_buf_adds(&failed, "old text is replaced");
	assert_int_equal(fo_mkdir_p(at(&p, "w/f/x/y"), 0755, &failed), ENOTDIR);
	assert_string_equal(failed.s, f.s);
	/* A dangling link in the way is not a folder either. */
	assert_int_equal(symlink("nowhere", at(&f, "w/dangling")), 0);
	assert_int_equal(fo_mkdir_p(at(&p, "w/dangling/x"), 0755, &failed), ENOTDIR);
	assert_string_equal(failed.s, f.s);

	struct fo_err err = {0};
	assert_int_equal(fo_mkdirs(at(&p, "w/f/x"), &err), FO_EIO);
	fo_buf_clear(&p);
	fo_buf_addf(&p, "'%s/w/f' exists and is not a folder", tmpdir);
	assert_string_equal(err.msg, p.s);
	assert_int_equal(fo_mkdirs(at(&p, "w/made/too"), NULL), 0);
	assert_true(fo_is_dir(p.s));
	fo_buf_release(&p);
	fo_buf_release(&f);
	fo_buf_release(&failed);
}

/* ---- fo_copy_tree ---- */

static void test_copy_tree_like_cp_a(void **state)
{
	struct fo_buf p = FO_BUF_INIT, q = FO_BUF_INIT, failed = FO_BUF_INIT;
	assert_int_equal(fo_mkdir_p(at(&p, "c/src/sub/deeper"), 0755, NULL), 0);
	write_file(at(&p, "c/src/run.sh"), "#!/bin/sh\n", 0751);
	write_file(at(&p, "c/src/secret"), "s3cret", 0600);
	write_file(at(&p, "c/src/sub/deeper/leaf.txt"), "leaf", 0644);
	struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	assert_int_equal(utimensat(AT_FDCWD, p.s, old, 0), 0);
	assert_int_equal(chmod(at(&p, "c/src/sub"), 0750), 0);
	assert_int_equal(symlink("sub/deeper/leaf.txt", at(&p, "c/src/rel-link")), 0);
	assert_int_equal(symlink("/nonexistent/target", at(&p, "c/src/dangling")), 0);
	assert_int_equal(mkfifo(at(&p, "c/src/fifo"), 0644), 0);

	assert_int_equal(fo_copy_tree(at(&p, "c/src"), at(&q, "c/dst"), &failed), 0);
	assert_file(at(&p, "c/dst/run.sh"), "#!/bin/sh\n", 0751);
	assert_file(at(&p, "c/dst/secret"), "s3cret", 0600);
	assert_file(at(&p, "c/dst/sub/deeper/leaf.txt"), "leaf", 0644);
	struct stat st;
	assert_int_equal(stat(p.s, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	assert_int_equal(stat(at(&p, "c/dst/sub"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);

	/* Links stay links, with their targets as written. */
	char target[256];
	ssize_t n = readlink(at(&p, "c/dst/rel-link"), target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "sub/deeper/leaf.txt");
	n = readlink(at(&p, "c/dst/dangling"), target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "/nonexistent/target");
	/* The fifo is skipped, and no temporary file is left. */
	assert_false(exists(at(&p, "c/dst/fifo")));
	assert_int_equal(entries_named(at(&p, "c/dst"), "tmp"), 0);
	fo_buf_release(&p);
	fo_buf_release(&q);
	fo_buf_release(&failed);
}

static void test_copy_tree_merges_and_replaces(void **state)
{
	struct fo_buf p = FO_BUF_INIT, q = FO_BUF_INIT, failed = FO_BUF_INIT;
	assert_int_equal(fo_mkdir_p(at(&p, "g/src/d"), 0755, NULL), 0);
	write_file(at(&p, "g/src/d/new"), "new", 0644);
	write_file(at(&p, "g/src/f"), "fresh", 0640);
	assert_int_equal(fo_mkdir_p(at(&p, "g/dst/d"), 0755, NULL), 0);
	write_file(at(&p, "g/dst/d/other"), "kept", 0644);
	write_file(at(&p, "g/dst/f"), "stale, and longer than the new text", 0666);
	/* A link at dst is replaced, never written through. */
	write_file(at(&p, "g/outside"), "untouched", 0644);
	assert_int_equal(symlink(at(&p, "g/outside"), at(&q, "g/dst/d/new")), 0);

	assert_int_equal(fo_copy_tree(at(&p, "g/src"), at(&q, "g/dst"), &failed), 0);
	assert_file(at(&p, "g/dst/d/new"), "new", 0644);
	assert_file(at(&p, "g/dst/d/other"), "kept", 0644);
	assert_file(at(&p, "g/dst/f"), "fresh", 0640);
	assert_file(at(&p, "g/outside"), "untouched", 0644);

	/* A single file copies too; a missing source says so. */
	assert_int_equal(fo_copy_tree(at(&p, "g/src/f"), at(&q, "g/single"), &failed), 0);
	assert_file(q.s, "fresh", 0640);
	assert_int_equal(fo_copy_tree(at(&p, "g/missing"), at(&q, "g/none"), &failed), ENOENT);
	assert_string_equal(failed.s, p.s);
	assert_false(exists(q.s));
	fo_buf_release(&p);
	fo_buf_release(&q);
	fo_buf_release(&failed);
}

static void test_copy_tree_depth_limit(void **state)
{
	struct fo_buf p = FO_BUF_INIT, q = FO_BUF_INIT, deepest = FO_BUF_INIT, failed = FO_BUF_INIT;
	/* FO_FS_COPY_MAX_DEPTH levels below the top copy... */
	fo_buf_addf(&deepest, "%s/l/src", tmpdir);
	for (int i = 0; i < FO_FS_COPY_MAX_DEPTH; i++)
		fo_buf_adds(&deepest, "/d");
	assert_int_equal(fo_mkdir_p(deepest.s, 0755, NULL), 0);
	assert_int_equal(fo_copy_tree(at(&p, "l/src"), at(&q, "l/ok"), &failed), 0);
	/* ...one more does not, and the error names the folder. */
	fo_buf_adds(&deepest, "/d");
	assert_int_equal(fo_mkdir_p(deepest.s, 0755, NULL), 0);
	assert_int_equal(fo_copy_tree(at(&p, "l/src"), at(&q, "l/deep"), &failed), ELOOP);
	assert_string_equal(failed.s, deepest.s);
	fo_buf_release(&p);
	fo_buf_release(&q);
	fo_buf_release(&deepest);
	fo_buf_release(&failed);
}

/* ---- fo_remove_tree ---- */

static void test_remove_tree_does_not_follow_links(void **state)
{
	struct fo_buf p = FO_BUF_INIT, q = FO_BUF_INIT, failed = FO_BUF_INIT;
	assert_int_equal(fo_mkdir_p(at(&p, "r/outside/inner"), 0755, NULL), 0);
	write_file(at(&p, "r/outside/inner/precious"), "keep me", 0644);
	assert_int_equal(fo_mkdir_p(at(&p, "r/victim/a/b"), 0755, NULL), 0);
	write_file(at(&p, "r/victim/a/b/file"), "x", 0400);
	assert_int_equal(mkfifo(at(&p, "r/victim/fifo"), 0644), 0);
	assert_int_equal(symlink(at(&p, "r/outside"), at(&q, "r/victim/to-folder")), 0);
	assert_int_equal(symlink(at(&p, "r/outside/inner/precious"), at(&q, "r/victim/a/to-file")), 0);

	assert_int_equal(fo_remove_tree(at(&p, "r/victim"), true, &failed), 0);
	assert_false(exists(p.s));
	assert_file(at(&p, "r/outside/inner/precious"), "keep me", 0644);

	/* A link given as the path is removed itself; its target stays. */
	assert_int_equal(symlink(at(&p, "r/outside"), at(&q, "r/link")), 0);
	assert_int_equal(fo_remove_tree(q.s, false, &failed), 0);
	assert_false(exists(q.s));
	assert_true(fo_is_dir(at(&p, "r/outside/inner")));
	/* A file, and nothing at all, are fine too. */
	write_file(at(&p, "r/file"), "x", 0644);
	assert_int_equal(fo_remove_tree(p.s, false, &failed), 0);
	assert_false(exists(p.s));
	assert_int_equal(fo_remove_tree(p.s, false, &failed), 0);
	fo_buf_release(&p);
	fo_buf_release(&q);
	fo_buf_release(&failed);
}

/* ---- fo_is_dir ---- */

static void test_is_dir(void **state)
{
	struct fo_buf p = FO_BUF_INIT, q = FO_BUF_INIT;
	assert_true(fo_is_dir(tmpdir));
	assert_int_equal(fo_mkdir_p(at(&p, "i/folder"), 0755, NULL), 0);
	write_file(at(&p, "i/file"), "x", 0644);
	assert_int_equal(symlink(at(&p, "i/folder"), at(&q, "i/link")), 0);
	assert_true(fo_is_dir(at(&p, "i/folder")));
	assert_true(fo_is_dir(at(&p, "i/link")));
	assert_false(fo_is_dir(at(&p, "i/file")));
	assert_false(fo_is_dir(at(&p, "i/missing")));
	fo_buf_release(&p);
	fo_buf_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_p_nested_and_existing),
		cmocka_unit_test(test_mkdir_p_file_in_the_way),
		cmocka_unit_test(test_copy_tree_like_cp_a),
		cmocka_unit_test(test_copy_tree_merges_and_replaces),
		cmocka_unit_test(test_copy_tree_depth_limit),
		cmocka_unit_test(test_remove_tree_does_not_follow_links),
		cmocka_unit_test(test_is_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
