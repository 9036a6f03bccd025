/*
 * test_files.c: file specs. Checking: every content kind, Fallout's unknown-type message,
 * every malformed form with its place, paths that could escape. Writing: every kind read
 * back from disk, file:// copies, downloads from a real HTTP server (python3 -m
 * http.server on 127.0.0.1, started and stopped here), clones of a real git repository
 * made here. Every temporary folder is removed at the end.
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "spec/files.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

/* ---- helpers ---- */

struct parsed {
	struct fo_arena *a;
	struct fo_diags d;
	struct fo_filespec *specs;
	size_t n;
	int rc;
};

/* Loads text as YAML (file name "t.yaml") and parses the node as a file list. */
static void parse(struct parsed *p, const char *text)
{
	p->a = fo_arena_new();
	p->d = (struct fo_diags)FO_DIAGS_INIT;
	struct fo_yaml_opts opts = {.file = "t.yaml"};
	struct fo_ynode *root;
	if (fo_yaml_load(p->a, text, strlen(text), &opts, &root, &p->d) != 0) {
		fo_diags_print(&p->d, stderr);
		fail_msg("test YAML does not load");
	}
	p->rc = fo_files_parse(p->a, root, &p->specs, &p->n, &p->d);
}

static void release(struct parsed *p)
{
	fo_diags_release(&p->d);
	fo_arena_free(p->a);
}

/* Returns the index of the diagnostic holding msg, failing the test if there is none. */
static size_t find_diag(const struct parsed *p, const char *msg)
{
	for (size_t i = 0; i < p->d.n; i++)
		if (strstr(p->d.v[i].msg, msg))
			return i;
	fo_diags_print(&p->d, stderr);
	fail_msg("no diagnostic with '%s'", msg);
	return 0;
}

/* Parses text and expects an error holding msg at line:col (of t.yaml). */
static void expect_error(const char *text, const char *msg, int line, int col)
{
	struct parsed p;
	parse(&p, text);
	assert_int_equal(p.rc, FO_EDEFINITION);
	size_t i = find_diag(&p, msg);
	assert_string_equal(p.d.v[i].file, "t.yaml");
	if (p.d.v[i].line != line || p.d.v[i].col != col)
		fail_msg("'%s' at %d:%d, expected %d:%d", p.d.v[i].msg, p.d.v[i].line, p.d.v[i].col, line, col);
	release(&p);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a new temporary folder; returns its owned name. */
static char *make_tmpdir(void)
{
	char *d = fo_strdup("/tmp/fo-test-files-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

/* What a test that writes files has; teardown removes it all even when the test fails. */
struct fixture {
	struct fo_arena *A; /* for the test's strings */
	char *tmp;          /* a fresh temporary folder */
	pid_t server;       /* a running test HTTP server, or 0 */
};

static int setup(void **state)
{
	struct fixture *fx = fo_calloc(1, sizeof(*fx));
	fx->A = fo_arena_new();
	fx->tmp = make_tmpdir();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	if (fx->server > 0) {
		kill(fx->server, SIGKILL);
		while (waitpid(fx->server, NULL, 0) < 0 && errno == EINTR)
			;
	}
	rm_tree(fx->tmp);
	fo_free(fx->tmp);
	fo_arena_free(fx->A);
	fo_free(fx);
	return 0;
}

/* Returns the owned contents of dir/rel (fails the test if unreadable). */
static char *read_back(const char *dir, const char *rel, size_t *len)
{
	struct fo_buf path = FO_BUF_INIT, b = FO_BUF_INIT;
	struct fo_err err = {0};
	fo_buf_addf(&path, "%s/%s", dir, rel);
	if (fo_buf_read_file(&b, path.s, 0, &err) != 0)
		fail_msg("%s", err.msg);
	fo_buf_release(&path);
	return fo_buf_detach(&b, len);
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
	size_t len;
	char *got = read_back(dir, rel, &len);
	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	fo_free(got);
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool exists(const char *dir, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Counts the entries of dir whose names start with '.' (temporary files left behind). */
static int hidden_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Runs argv in dir (NULL: here), output discarded; returns its exit status. */
static int run(const char *dir, const char *const *argv)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		if (dir && chdir(dir) != 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- checking ---- */

static void test_parse_every_kind(void **state)
{
	struct parsed p;
	parse(&p, "- path: a.txt\n"
		  "  data: hello\n"
		  "- path: bin/b.dat\n"
		  "  base64: AAEC/w==\n"
		  "- path: c.yaml\n"
		  "  yaml: {k: [1, 2]}\n"
		  "- path: d.json\n"
		  "  json: [x]\n"
		  "- url: https://example.com/e\n"
		  "  path: e\n"
		  "- path: f\n"
		  "  git: {repo: https://example.com/r.git, branch: dev}\n"
		  "- path: g\n"
		  "  git:\n"
		  "    repo: /srv/r\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.d.n, 0);
	assert_int_equal(p.n, 7);
	assert_string_equal(p.specs[0].path, "a.txt");
	assert_int_equal(p.specs[0].kind, FO_FILE_DATA);
	assert_int_equal(p.specs[0].nbytes, 5);
	assert_memory_equal(p.specs[0].bytes, "hello", 5);
	assert_int_equal(p.specs[0].pos.line, 1);
	assert_int_equal(p.specs[0].pos.col, 3);
	assert_string_equal(p.specs[0].pos.file, "t.yaml");
	assert_int_equal(p.specs[1].kind, FO_FILE_BASE64);
	assert_int_equal(p.specs[1].nbytes, 4);
	assert_memory_equal(p.specs[1].bytes, "\x00\x01\x02\xff", 4);
	assert_int_equal(p.specs[1].pos.line, 3);
	assert_int_equal(p.specs[2].kind, FO_FILE_YAML);
	assert_int_equal(p.specs[2].node->kind, FO_YMAP);
	assert_int_equal(p.specs[3].kind, FO_FILE_JSON);
	assert_int_equal(p.specs[3].node->kind, FO_YSEQ);
	assert_int_equal(p.specs[4].kind, FO_FILE_URL);
	assert_string_equal(p.specs[4].url, "https://example.com/e");
	assert_string_equal(p.specs[4].path, "e");
	assert_int_equal(p.specs[5].kind, FO_FILE_GIT);
	assert_string_equal(p.specs[5].repo, "https://example.com/r.git");
	assert_string_equal(p.specs[5].branch, "dev");
	assert_string_equal(p.specs[6].repo, "/srv/r");
	assert_null(p.specs[6].branch);
	assert_string_equal(fo_files_kind_name(p.specs[5].kind), "git");

	assert_int_equal(fo_files_find(p.specs, p.n, "c.yaml"), 2);
	assert_int_equal(fo_files_find(p.specs, p.n, "bin/b.dat"), 1);
	assert_int_equal(fo_files_find(p.specs, p.n, "b.dat"), -1);
	assert_int_equal(fo_files_find(p.specs, p.n, "c.yaml/"), -1);
	release(&p);
}

static void test_empty_and_null_lists(void **state)
{
	struct parsed p;
	parse(&p, "[]");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 0);
	assert_null(p.specs);
	release(&p);
	parse(&p, "~");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 0);
	release(&p);
	struct fo_filespec *specs;
	size_t n;
	struct fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_files_parse(NULL, NULL, &specs, &n, &d), 0);
	assert_int_equal(n, 0);
}

static void test_unknown_file_type_as_fallout_says(void **state)
{
	/* the corpus case unknown_file_spec_type.yaml: only the unknown key is reported */
	struct parsed p;
	parse(&p, "- path: foo\n"
		  "  bar: bar is an invalid file spec type\n");
	assert_int_equal(p.rc, FO_EDEFINITION);
	assert_int_equal(p.d.n, 1);
	assert_string_equal(p.d.v[0].msg, "File 'foo' has an unknown file type 'bar'");
	assert_int_equal(p.d.v[0].line, 2);
	assert_int_equal(p.d.v[0].col, 3);
	assert_int_equal(p.n, 0);
	release(&p);
	/* next to a valid content key it is still refused */
	expect_error("- path: foo\n  data: x\n  dta: y\n", "File 'foo' has an unknown file type 'dta'", 3, 3);
}

static void test_content_count(void **state)
{
	expect_error("- path: foo\n", "File 'foo' has no content: give one of data, base64, yaml, json, url, git", 1,
		     3);
	expect_error("- path: foo\n  data: x\n  url: http://h/x\n",
		     "File 'foo' has more than one content: 'data' and 'url' (give exactly one of data, base64, yaml, "
		     "json, url, git)",
		     3, 3);
}

static void test_path_escapes_refused(void **state)
{
	expect_error("- path: ../x\n  data: x\n", "File '../x': the path has a '..' component", 1, 9);
	expect_error("- path: a/../../x\n  data: x\n", "has a '..' component", 1, 9);
	expect_error("- path: /etc/x\n  data: x\n", "File '/etc/x': the path must be relative, not absolute", 1, 9);
	expect_error("- path: a//b\n  data: x\n", "File 'a//b': the path has an empty component", 1, 9);
	expect_error("- path: a/\n  data: x\n", "File 'a/': the path has an empty component", 1, 9);
	expect_error("- path: ./a\n  data: x\n", "File './a': the path has a '.' component", 1, 9);
	expect_error("- path: ''\n  data: x\n", "File '': the path is empty", 1, 9);
	expect_error("- path: \"a\\0b\"\n  data: x\n", "the path holds a NUL byte", 1, 9);
	expect_error("- data: x\n", "File #1 has no 'path'", 1, 3);
	expect_error("- path: x\n  data: x\n- path: [a]\n  data: x\n",
		     "File #2 has a path that is a list; it must be a relative file name", 3, 9);
	expect_error("- path:\n  data: x\n", "File #1 has a path that is empty", 1, 8);
	/* names with dots are fine */
	struct parsed p;
	parse(&p, "- {path: .hidden/..x/a..b/c., data: x}\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 1);
	release(&p);
}

static void test_duplicates_and_nesting(void **state)
{
	expect_error("- path: a\n  data: x\n- path: a\n  url: file:///x\n",
		     "File 'a' is defined twice (first at line 1)", 3, 3);
	expect_error("- path: a\n  data: x\n- path: a/b\n  data: y\n", "File 'a/b' lies inside 'a', which is a file", 3,
		     3);
	expect_error("- path: r\n  git: {repo: /x}\n- path: r/evil/x\n  data: y\n",
		     "File 'r/evil/x' lies inside 'r', which is a git clone", 3, 3);
	expect_error("- path: a/b\n  data: x\n- path: a\n  data: y\n",
		     "File 'a' cannot be written: 'a/b' lies inside its path", 3, 3);
	/* siblings sharing a prefix are fine */
	struct parsed p;
	parse(&p, "- {path: a/b, data: x}\n- {path: a/bc, data: y}\n- {path: ab, data: z}\n");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 3);
	release(&p);
	/* the first of a duplicate is kept, so later lookups still work */
	parse(&p, "- {path: a, data: x}\n- {path: a, data: y}\n");
	assert_int_equal(p.rc, FO_EDEFINITION);
	assert_int_equal(p.n, 1);
	assert_memory_equal(p.specs[0].bytes, "x", 1);
	release(&p);
}

static void test_bad_values(void **state)
{
	expect_error("- path: a\n  base64: 'Zm9v!'\n",
		     "File 'a' has invalid base64: invalid base64 character '!' at offset 4", 2, 11);
	expect_error("- path: a\n  data: {x: 1}\n",
		     "File 'a' has data that is a map; data must be text (use yaml or json for structured content)", 2,
		     9);
	expect_error("- path: a\n  data:\n",
		     "File 'a' has no data (an empty value); write data: \"\" for an empty file", 2, 8);
	expect_error("- path: a\n  url: ftp://h/x\n",
		     "File 'a' has url 'ftp://h/x' with an unsupported scheme (use file://, http:// or https://)", 2,
		     8);
	expect_error("- path: a\n  url: file://x\n", "a file:// url needs an absolute path", 2, 8);
	expect_error("- path: a\n  url: http:///x\n", "File 'a' has url 'http:///x' without a host", 2, 8);
	expect_error("- path: a\n  url: [x]\n", "File 'a' has url that is a list; url must be text", 2, 8);
	expect_error("- path: a\n  git: https://h/r.git\n",
		     "File 'a' has git that is a string; git must be a map with 'repo' and 'branch'", 2, 8);
	expect_error("- path: a\n  git: {branch: x}\n", "File 'a' has git without a 'repo'", 2, 8);
	expect_error("- path: a\n  git: {repo: r, tag: x}\n",
		     "File 'a' has an unknown git key 'tag' (known: repo, branch)", 2, 18);
	expect_error("- path: a\n  git: {repo: r, branch: [x]}\n", "File 'a' has a git branch that is a list", 2, 26);
	/* all problems are reported together */
	struct parsed p;
	parse(&p, "- {path: ../a, data: x}\n- {path: b, nope: 1}\n- {path: c}\n- 3\n");
	assert_int_equal(p.rc, FO_EDEFINITION);
	assert_int_equal(p.d.errors, 4);
	size_t i = find_diag(&p, "a file spec must be a map with a 'path' and one of data, base64, yaml, json, url, "
				 "git, not a number");
	assert_int_equal(p.d.v[i].line, 4);
	release(&p);
}

static void test_not_a_list(void **state)
{
	expect_error(
	    "path: a\ndata: x\n",
	    "files must be a list of maps, each with a 'path' and one of data, base64, yaml, json, url, git, not "
	    "a map",
	    1, 1);
}

/* ---- writing ---- */

static void materialize_ok(const char *text, const char *dir)
{
	struct parsed p;
	parse(&p, text);
	if (p.rc)
		fo_diags_print(&p.d, stderr);
	assert_int_equal(p.rc, 0);
	struct fo_err err = {0};
	int rc = fo_files_materialize(p.specs, p.n, dir, &err);
	if (rc)
		fail_msg("materialize: %s", err.msg);
	release(&p);
}

/* Materializes text into dir, expects failure rc with a message holding msg; returns nothing. */
static void materialize_fails(const char *text, const char *dir, int rc, const char *msg)
{
	struct parsed p;
	parse(&p, text);
	assert_int_equal(p.rc, 0);
	struct fo_err err = {0};
	assert_int_equal(fo_files_materialize(p.specs, p.n, dir, &err), rc);
	if (!strstr(err.msg, msg))
		fail_msg("'%s' does not hold '%s'", err.msg, msg);
	assert_string_equal(err.pos.file, "t.yaml");
	assert_true(err.pos.line > 0);
	release(&p);
}

static void test_write_inline_kinds(void **state)
{
	struct fixture *fx = *state;
	struct fo_arena *A = fx->A;
	const char *tmp = fx->tmp;
	const char *dir;
	dir = fo_arena_printf(A, "%s/managed_files", tmp);
	materialize_ok("- path: a.txt\n"
		       "  data: |\n"
		       "    line one\n"
		       "    line two\n"
		       "- path: deep/er/b.bin\n"
		       "  base64: |\n"
		       "    AAEC\n"
		       "    /w==\n"
		       "- path: deep/c.yaml\n"
		       "  yaml:\n"
		       "    name: x\n"
		       "    list: [1, 'two']\n"
		       "- path: d.json\n"
		       "  json: {a: [1, true, null, \"s\"], b: 1.5}\n"
		       "- path: run.sh\n"
		       "  data: \"#!/bin/sh\\necho hi\\n\"\n"
		       "- path: empty\n"
		       "  data: ''\n",
		       dir);
	assert_file(dir, "a.txt", "line one\nline two\n");
	size_t len;
	char *bin = read_back(dir, "deep/er/b.bin", &len);
	assert_int_equal(len, 4);
	assert_memory_equal(bin, "\x00\x01\x02\xff", 4);
	fo_free(bin);
	/* the YAML file reads back as the same tree (its layout is the emitter's business) */
	char *y = read_back(dir, "deep/c.yaml", &len);
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_ynode *root;
	assert_int_equal(fo_yaml_load(A, y, len, NULL, &root, &d), 0);
	assert_string_equal(fo_ymap_get(root, "name")->str, "x");
	const struct fo_ynode *list = fo_ymap_get(root, "list");
	assert_int_equal(list->nitems, 2);
	assert_int_equal(list->items[0]->stype, FO_YS_INT);
	assert_int_equal(list->items[0]->i, 1);
	assert_int_equal(list->items[1]->stype, FO_YS_STR);
	assert_string_equal(list->items[1]->str, "two");
	fo_free(y);
	assert_file(dir, "d.json", "{\"a\":[1,true,null,\"s\"],\"b\":1.5}\n");
	assert_file(dir, "run.sh", "#!/bin/sh\necho hi\n");
	assert_file(dir, "empty", "");
	assert_int_equal(mode_of(dir, "a.txt"), 0644);
	assert_int_equal(mode_of(dir, "run.sh"), 0755);
	assert_int_equal(mode_of(dir, "deep/er") & 0700, 0700);
	assert_int_equal(hidden_entries(dir), 0);
	assert_int_equal(hidden_entries(tmp), 0);

	/* writing again replaces the files */
	materialize_ok("- {path: a.txt, data: new}\n", dir);
	assert_file(dir, "a.txt", "new");
	assert_int_equal(hidden_entries(dir), 0);
}

static void test_write_refuses_bad_places(void **state)
{
	struct fixture *fx = *state;
	struct fo_arena *A = fx->A;
	const char *tmp = fx->tmp;
	const char *dir;
	dir = fo_arena_printf(A, "%s/f", tmp);
	write_file(dir, "a file, not a folder", 0644);
	struct fo_err err = {0};
	struct fo_filespec spec = {.path = "x", .kind = FO_FILE_DATA, .bytes = "x", .nbytes = 1};
	assert_int_equal(fo_files_materialize(&spec, 1, dir, &err), FO_EIO);
	assert_non_null(strstr(err.msg, "exists and is not a folder"));

	/* a spec made by hand is still checked */
	fo_err_clear(&err);
	spec.path = "../escape";
	assert_int_equal(fo_files_materialize(&spec, 1, tmp, &err), FO_EINVAL);
	assert_string_equal(err.msg, "File '../escape': the path has a '..' component, which could leave the files "
				     "folder");
	assert_false(exists(tmp, "../escape"));

	/* a file where a folder is needed */
	fo_err_clear(&err);
	spec.path = "f/y";
	assert_int_equal(fo_files_materialize(&spec, 1, tmp, &err), FO_EIO);
	assert_non_null(strstr(err.msg, "File 'f/y': '"));
	assert_non_null(strstr(err.msg, "/f' exists and is not a folder"));
}

static void test_write_file_url(void **state)
{
	struct fixture *fx = *state;
	struct fo_arena *A = fx->A;
	const char *tmp = fx->tmp;
	const char *dir, *text, *src;
	src = fo_arena_printf(A, "%s/source file.sh", tmp);
	write_file(src, "#!/bin/sh\nexit 0\n", 0700);
	dir = fo_arena_printf(A, "%s/out", tmp);
	text = fo_arena_printf(A, "- {path: copy.sh, url: 'file://%s/source%%20file.sh'}\n"
		 "- {path: sub/copy2, url: 'file://localhost%s/source file.sh'}\n",
		 tmp, tmp);
	materialize_ok(text, dir);
	assert_file(dir, "copy.sh", "#!/bin/sh\nexit 0\n");
	assert_file(dir, "sub/copy2", "#!/bin/sh\nexit 0\n");
	assert_int_equal(mode_of(dir, "copy.sh"), 0755);

	text = fo_arena_printf(A, "- {path: gone, url: 'file://%s/nope'}\n", tmp);
	const char *want;
	want = fo_arena_printf(A, "File 'gone': cannot read url 'file://%s/nope': No such file or directory", tmp);
	materialize_fails(text, dir, FO_ENOENT, want);
	assert_false(exists(dir, "gone"));
	text = fo_arena_printf(A, "- {path: folder, url: 'file://%s'}\n", tmp);
	materialize_fails(text, dir, FO_EIO, "is not a regular file");
	assert_int_equal(hidden_entries(dir), 0);
}

/* A python3 http.server serving a folder on 127.0.0.1. */
struct http_server {
	pid_t pid;
	int port;
};

/* Returns a port that was free a moment ago on 127.0.0.1. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static bool answers(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Starts the server on dir; polls until it accepts connections (10 s deadline). */
static void http_start(struct http_server *s, const char *dir)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		s->port = free_port();
		char port[16];
		snprintf(port, sizeof(port), "%d", s->port);
		s->pid = fork();
		assert_true(s->pid >= 0);
		if (s->pid == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			execl("/usr/bin/python3", "python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
			      dir, port, (char *)NULL);
			_exit(127);
		}
		int64_t deadline = now_ms() + 10000;
		while (now_ms() < deadline) {
			if (answers(s->port))
				return;
			int status;
			if (waitpid(s->pid, &status, WNOHANG) == s->pid)
				break; /* it died (port taken?): try another port */
			poll(NULL, 0, 20);
		}
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	fail_msg("the test HTTP server did not start");
}

static void http_stop(struct http_server *s)
{
	kill(s->pid, SIGTERM);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void test_write_http_url(void **state)
{
	/* a proxy from the environment must not get in the way of 127.0.0.1 */
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv("no_proxy", "127.0.0.1", 1);
	struct fixture *fx = *state;
	struct fo_arena *A = fx->A;
	const char *tmp = fx->tmp;
	const char *dir, *text, *path, *www;
	www = fo_arena_printf(A, "%s/www", tmp);
	assert_int_equal(mkdir(www, 0755), 0);
	path = fo_arena_printf(A, "%s/hello.txt", www);
	write_file(path, "hello over http\n", 0644);
	dir = fo_arena_printf(A, "%s/out", tmp);

	struct http_server srv;
	http_start(&srv, www);
	fx->server = srv.pid;
	text = fo_arena_printf(A, "- {path: got/hello.txt, url: 'http://127.0.0.1:%d/hello.txt'}\n", srv.port);
	materialize_ok(text, dir);
	assert_file(dir, "got/hello.txt", "hello over http\n");
	assert_int_equal(mode_of(dir, "got/hello.txt"), 0644);

	text = fo_arena_printf(A, "- {path: missing, url: 'http://127.0.0.1:%d/missing.txt'}\n", srv.port);
	const char *want;
	want = fo_arena_printf(
	    A, "File 'missing': downloading 'http://127.0.0.1:%d/missing.txt' failed: HTTP status 404", srv.port);
	materialize_fails(text, dir, FO_ENET, want);
	assert_false(exists(dir, "missing"));
	assert_int_equal(hidden_entries(dir), 0);
	http_stop(&srv);
	fx->server = 0;

	/* nothing listening */
	text = fo_arena_printf(A, "- {path: down, url: 'http://127.0.0.1:%d/x'}\n", srv.port);
	materialize_fails(text, dir, FO_ENET, "File 'down': downloading");
	assert_false(exists(dir, "down"));
}

/* Runs git with a fixed identity and no signing, in dir. */
static void git(const char *dir, const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = {"git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c",
			      "commit.gpgsign=false", a1, a2, a3, NULL};
	assert_int_equal(run(dir, argv), 0);
}

static void test_write_git(void **state)
{
	struct fixture *fx = *state;
	struct fo_arena *A = fx->A;
	const char *tmp = fx->tmp;
	const char *dir, *text, *path, *repo;
	repo = fo_arena_printf(A, "%s/repo", tmp);
	dir = fo_arena_printf(A, "%s/out", tmp);
	const char *init[] = {"git", "init", "-q", "-b", "main", repo, NULL};
	assert_int_equal(run(NULL, init), 0);
	path = fo_arena_printf(A, "%s/README", repo);
	write_file(path, "on main\n", 0644);
	git(repo, "add", "README", NULL);
	git(repo, "commit", "-qm", "first");
	git(repo, "checkout", "-qb", "feature");
	path = fo_arena_printf(A, "%s/extra.txt", repo);
	write_file(path, "only on feature\n", 0644);
	git(repo, "add", "extra.txt", NULL);
	git(repo, "commit", "-qm", "second");
	git(repo, "checkout", "-q", "main");

	text = fo_arena_printf(A, "- path: clones/by-path\n"
		 "  git: {repo: '%s'}\n"
		 "- path: clones/by-url\n"
		 "  git: {repo: 'file://%s', branch: feature}\n",
		 repo, repo);
	materialize_ok(text, dir);
	assert_file(dir, "clones/by-path/README", "on main\n");
	assert_false(exists(dir, "clones/by-path/extra.txt"));
	assert_true(exists(dir, "clones/by-path/.git"));
	assert_file(dir, "clones/by-url/README", "on main\n");
	assert_file(dir, "clones/by-url/extra.txt", "only on feature\n");
	assert_int_equal(hidden_entries(dir), 0);
	const char *clones;
	clones = fo_arena_printf(A, "%s/clones", dir);
	assert_int_equal(hidden_entries(clones), 0);

	/* a branch that does not exist: git's own words reach the user, nothing is left */
	text = fo_arena_printf(A, "- {path: nob, git: {repo: 'file://%s', branch: no-such-branch}}\n", repo);
	const char *want;
	want = fo_arena_printf(
	    A, "File 'nob': git clone of 'file://%s' (branch 'no-such-branch') failed (exit status 128): ", repo);
	materialize_fails(text, dir, FO_EIO, want);
	materialize_fails(text, dir, FO_EIO, "no-such-branch not found");
	assert_false(exists(dir, "nob"));
	assert_int_equal(hidden_entries(dir), 0);

	/* a repository that does not exist */
	text = fo_arena_printf(A, "- {path: norepo, git: {repo: '%s/nothing-here'}}\n", tmp);
	materialize_fails(text, dir, FO_EIO, "File 'norepo': git clone of");
	assert_false(exists(dir, "norepo"));
	assert_int_equal(hidden_entries(dir), 0);

	/* git's "ext::" transport would run a command: refused */
	const char *marker = fo_arena_printf(A, "%s/ext-ran", tmp);
	text = fo_arena_printf(A, "- {path: ext, git: {repo: 'ext::touch %s'}}\n", marker);
	materialize_fails(text, dir, FO_EIO, "File 'ext': git clone of 'ext::touch");
	assert_false(exists(tmp, "ext-ran"));

	/* the clone's place is taken */
	text = fo_arena_printf(A, "- {path: clones/by-path, git: {repo: '%s'}}\n", repo);
	materialize_fails(text, dir, FO_EIO, "File 'clones/by-path': cannot move the clone to");
	assert_int_equal(hidden_entries(clones), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_every_kind),
		cmocka_unit_test(test_empty_and_null_lists),
		cmocka_unit_test(test_unknown_file_type_as_fallout_says),
		cmocka_unit_test(test_content_count),
		cmocka_unit_test(test_path_escapes_refused),
		cmocka_unit_test(test_duplicates_and_nesting),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_not_a_list),
		cmocka_unit_test_setup_teardown(test_write_inline_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_refuses_bad_places, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_http_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_git, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
