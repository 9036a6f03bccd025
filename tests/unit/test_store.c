/*
 * test_store.c: the service's store (server/store.h) over SQLite, in a temporary folder:
 * users (duplicate emails, case-insensitive lookup), API tokens, sessions and their
 * expiry, secrets, tests (create, replace and versions, tags, soft delete, restore,
 * delete forever), runs (every field, every filter, paging, counts), reopening, writers
 * on four threads at once and the generation counter. Also prints how long listing
 * 10,000 runs takes (not asserted: machines differ).
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

static char tmpdir[64];

/* A store in a new file of the temporary folder, named name. */
static struct fo_store *open_store(const char *name)
{
	char url[160];
	snprintf(url, sizeof(url), "sqlite:%s/%s", tmpdir, name);
	struct fo_store *st = NULL;
	struct fo_err err = {0};
	int rc = fo_store_open(url, &st, &err);
	if (rc)
		fail_msg("cannot open '%s': %s", url, err.msg);
	return st;
}

static int64_t add_user(struct fo_store *st, const char *email)
{
	struct fo_user u = {.name = "someone", .email = email, .pw_hash = "$argon2id$x"};
	assert_int_equal(fo_store_user_create(st, &u, NULL), 0);
	assert_true(u.id > 0);
	return u.id;
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-store-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	struct fo_buf failed = FO_BUF_INIT;
	int rc = fo_remove_tree(tmpdir, false, &failed);
	fo_buf_release(&failed);
	return rc;
}

/* ---- opening ---- */

static void test_open_errors(void **state)
{
	struct fo_store *st = NULL;
	struct fo_err err = {0};
	assert_int_not_equal(fo_store_open("sqlite:/nonexistent-folder/x.db", &st, &err), 0);
	assert_null(st);
	assert_non_null(strstr(err.msg, "cannot open the store '/nonexistent-folder/x.db'"));
	fo_err_clear(&err);
	assert_int_equal(fo_store_open("postgres://h/db", &st, &err), FO_EUNSUPPORTED);

	/* Created readable by its owner only: it holds password hashes and secrets. */
	st = open_store("mode.db");
	char path[128];
	snprintf(path, sizeof(path), "%s/mode.db", tmpdir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	fo_store_close(st);
}

/* ---- users, tokens, sessions ---- */

static void test_users(void **state)
{
	struct fo_store *st = open_store("users.db");
	struct fo_arena *a = fo_arena_new();
	assert_int_equal(fo_store_user_count(st), 0);
	struct fo_user u = {.name = "Ann", .email = "ann@example.com", .pw_hash = "h1", .admin = true};
	assert_int_equal(fo_store_user_create(st, &u, NULL), 0);
	assert_true(u.id > 0 && u.created_at > 0);

	struct fo_err err = {0};
	struct fo_user dup = {.name = "Other", .email = "ANN@example.com"};
	assert_int_equal(fo_store_user_create(st, &dup, &err), FO_EEXISTS);
	assert_string_equal(err.msg, "a user with the email 'ANN@example.com' already exists");

	struct fo_user got;
	assert_int_equal(fo_store_user_by_email(st, a, "Ann@Example.COM", &got), 0);
	assert_int_equal(got.id, u.id);
	assert_string_equal(got.email, "ann@example.com");
	assert_string_equal(got.name, "Ann");
	assert_true(got.admin);
	assert_int_equal(fo_store_user_by_email(st, a, "bob@example.com", &got), FO_ENOTFOUND);
	assert_int_equal(fo_store_user_by_id(st, a, u.id + 100, &got), FO_ENOTFOUND);

	assert_int_equal(fo_store_user_set_password(st, u.id, "h2"), 0);
	assert_int_equal(fo_store_user_by_id(st, a, u.id, &got), 0);
	assert_string_equal(got.pw_hash, "h2");
	assert_int_equal(fo_store_user_set_password(st, u.id + 100, "h2"), FO_ENOTFOUND);

	struct fo_user nameless = {.email = "bob@example.com"};
	assert_int_equal(fo_store_user_create(st, &nameless, NULL), 0);
	assert_int_equal(fo_store_user_by_id(st, a, nameless.id, &got), 0);
	assert_null(got.name);
	assert_false(got.admin);

	struct fo_user *all;
	size_t n;
	assert_int_equal(fo_store_user_list(st, a, &all, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].email, "ann@example.com");
	assert_string_equal(all[1].email, "bob@example.com");
	assert_int_equal(fo_store_user_count(st), 2);
	fo_arena_free(a);
	fo_store_close(st);
}

static void test_tokens(void **state)
{
	struct fo_store *st = open_store("tokens.db");
	struct fo_arena *a = fo_arena_new();
	int64_t ann = add_user(st, "ann@example.com"), bob = add_user(st, "bob@example.com");
	struct fo_token_rec t1 = {.user_id = ann, .label = "cli"}, t2 = {.user_id = ann, .label = "jenkins"};
	assert_int_equal(fo_store_token_create(st, &t1, "aaaa"), 0);
	assert_int_equal(fo_store_token_create(st, &t2, "bbbb"), 0);
	assert_true(t1.id > 0 && t2.id > t1.id && t1.created_at > 0);
	struct fo_token_rec t3 = {.user_id = bob, .label = "same hash"};
	assert_int_equal(fo_store_token_create(st, &t3, "aaaa"), FO_EEXISTS);
	struct fo_token_rec nobody = {.user_id = 9999, .label = "x"};
	assert_int_equal(fo_store_token_create(st, &nobody, "cccc"), FO_ENOTFOUND);

	struct fo_user u;
	assert_int_equal(fo_store_user_by_token_hash(st, a, "bbbb", &u), 0);
	assert_int_equal(u.id, ann);
	assert_string_equal(u.email, "ann@example.com");
	assert_int_equal(fo_store_user_by_token_hash(st, a, "zzzz", &u), FO_ENOTFOUND);

	struct fo_token_rec *list;
	size_t n;
	assert_int_equal(fo_store_token_list(st, a, ann, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].label, "cli");
	assert_int_equal(list[0].last_used_at, 0);
	assert_string_equal(list[1].label, "jenkins");
	assert_true(list[1].last_used_at > 0); /* used above */
	assert_int_equal(fo_store_token_list(st, a, bob, &list, &n), 0);
	assert_int_equal(n, 0);

	/* Only its holder may revoke a token. */
	assert_int_equal(fo_store_token_delete(st, bob, t1.id), FO_ENOTFOUND);
	assert_int_equal(fo_store_token_delete(st, ann, t1.id), 0);
	assert_int_equal(fo_store_token_delete(st, ann, t1.id), FO_ENOTFOUND);
	assert_int_equal(fo_store_user_by_token_hash(st, a, "aaaa", &u), FO_ENOTFOUND);
	fo_arena_free(a);
	fo_store_close(st);
}

static void test_sessions(void **state)
{
	struct fo_store *st = open_store("sessions.db");
	struct fo_arena *a = fo_arena_new();
	int64_t ann = add_user(st, "ann@example.com");
	int64_t now = (int64_t)time(NULL) * 1000;
	assert_int_equal(fo_store_session_create(st, "s1", ann, "csrf1", now + 3600000), 0);
	assert_int_equal(fo_store_session_create(st, "s1", ann, "csrf1", now + 3600000), FO_EEXISTS);
	int64_t uid = 0;
	const char *csrf = NULL;
	assert_int_equal(fo_store_session_get(st, a, "s1", now, &uid, &csrf), 0);
	assert_int_equal(uid, ann);
	assert_string_equal(csrf, "csrf1");
	/* Expired: as good as absent. */
	assert_int_equal(fo_store_session_get(st, a, "s1", now + 3600000, &uid, &csrf), FO_ENOTFOUND);
	assert_int_equal(fo_store_session_get(st, a, "nope", now, &uid, &csrf), FO_ENOTFOUND);
	/* An expired session is purged when another starts. */
	assert_int_equal(fo_store_session_create(st, "old", ann, "c", now - 1), 0);
	assert_int_equal(fo_store_session_create(st, "s2", ann, "c2", now + 1000), 0);
	assert_int_equal(fo_store_session_delete(st, "old"), FO_ENOTFOUND);
	assert_int_equal(fo_store_session_delete(st, "s1"), 0);
	assert_int_equal(fo_store_session_get(st, a, "s1", now, &uid, &csrf), FO_ENOTFOUND);
	fo_arena_free(a);
	fo_store_close(st);
}

static void test_secrets(void **state)
{
	struct fo_store *st = open_store("secrets.db");
	struct fo_arena *a = fo_arena_new();
	assert_int_equal(fo_store_secret_put(st, "ann@example.com", "zeta", "1"), 0);
	assert_int_equal(fo_store_secret_put(st, "ann@example.com", "alpha", "2"), 0);
	assert_int_equal(fo_store_secret_put(st, "ann@example.com", "zeta", "3"), 0);
	assert_int_equal(fo_store_secret_put(st, "bob@example.com", "mine", "4"), 0);
	const char **names, **values;
	size_t n;
	assert_int_equal(fo_store_secret_list(st, a, "ann@example.com", &names, &values, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "alpha");
	assert_string_equal(values[0], "2");
	assert_string_equal(names[1], "zeta");
	assert_string_equal(values[1], "3");
	assert_int_equal(fo_store_secret_list(st, a, "ann@example.com", &names, NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fo_store_secret_delete(st, "ann@example.com", "zeta"), 0);
	assert_int_equal(fo_store_secret_delete(st, "ann@example.com", "zeta"), FO_ENOTFOUND);
	assert_int_equal(fo_store_secret_list(st, a, "ann@example.com", &names, &values, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fo_store_secret_list(st, a, "nobody@example.com", &names, &values, &n), 0);
	assert_int_equal(n, 0);
	fo_arena_free(a);
	fo_store_close(st);
}

/* ---- tests ---- */

static int put_test(struct fo_store *st, struct fo_arena *a, const char *name, const char *def, bool create,
		    struct fo_test_rec *t)
{
	static const char *tags[] = {"nightly", "db \"x\""};
	*t = (struct fo_test_rec){.owner = "ann@example.com", .name = name, .definition = def, .tags = tags, .ntags = 2};
	return fo_store_test_put(st, a, t, create, NULL);
}

static void test_tests(void **state)
{
	struct fo_store *st = open_store("tests.db");
	struct fo_arena *a = fo_arena_new();
	struct fo_test_rec t, got;
	assert_int_equal(put_test(st, a, "smoke", "ensemble: v1\n", true, &t), 0);
	assert_int_equal(t.version, 1);
	assert_non_null(t.test_id);
	assert_int_equal(strlen(t.test_id), 36);
	const char *first_id = fo_arena_strdup(a, t.test_id);
	struct fo_err err = {0};
	t.definition = "other";
	assert_int_equal(fo_store_test_put(st, a, &t, true, &err), FO_EEXISTS);
	assert_string_equal(err.msg, "the test 'smoke' of 'ann@example.com' already exists");
	assert_int_equal(put_test(st, a, "absent", "x", false, &t), FO_ENOTFOUND);

	/* Replace: version 2, the same test id, versions newest first. */
	assert_int_equal(put_test(st, a, "smoke", "ensemble: v2\n", false, &t), 0);
	assert_int_equal(t.version, 2);
	assert_string_equal(t.test_id, first_id);
	assert_int_equal(fo_store_test_get(st, a, "ANN@example.com", "smoke", false, &got), 0);
	assert_string_equal(got.definition, "ensemble: v2\n");
	assert_int_equal(got.version, 2);
	assert_int_equal(got.ntags, 2);
	assert_string_equal(got.tags[0], "nightly");
	assert_string_equal(got.tags[1], "db \"x\"");
	assert_int_equal(got.deleted_at, 0);
	assert_int_equal(got.size_on_disk, 0);
	struct fo_test_version *v;
	size_t n;
	assert_int_equal(fo_store_test_versions(st, a, "ann@example.com", "smoke", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].version, 2);
	assert_string_equal(v[0].definition, "ensemble: v2\n");
	assert_int_equal(v[1].version, 1);
	assert_string_equal(v[1].definition, "ensemble: v1\n");
	assert_int_equal(fo_store_test_versions(st, a, "ann@example.com", "absent", &v, &n), FO_ENOTFOUND);

	/* Tags and the last run. */
	const char *tags[] = {"weekly"};
	assert_int_equal(fo_store_test_set_tags(st, "ann@example.com", "smoke", tags, 1), 0);
	assert_int_equal(fo_store_test_touch_run(st, "ann@example.com", "smoke", 12345), 0);
	assert_int_equal(fo_store_test_touch_run(st, "ann@example.com", "absent", 12345), FO_ENOTFOUND);
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", false, &got), 0);
	assert_int_equal(got.ntags, 1);
	assert_string_equal(got.tags[0], "weekly");
	assert_int_equal(got.last_run_at, 12345);

	/* size_on_disk sums the artifacts of the test's runs. */
	struct fo_run_rec r = {.run_id = "r1", .owner = "ann@example.com", .test_name = "smoke", .created_at = 1,
			       .state = "PASSED", .artifacts_bytes = 1000};
	assert_int_equal(fo_store_run_insert(st, &r, NULL), 0);
	r.run_id = "r2";
	r.artifacts_bytes = 234;
	assert_int_equal(fo_store_run_insert(st, &r, NULL), 0);
	assert_int_equal(put_test(st, a, "other", "y", true, &t), 0);
	struct fo_test_rec *list;
	assert_int_equal(fo_store_test_list(st, a, "ann@example.com", false, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "other");
	assert_int_equal(list[0].size_on_disk, 0);
	assert_string_equal(list[1].name, "smoke");
	assert_int_equal(list[1].size_on_disk, 1234);
	assert_int_equal(fo_store_test_list(st, a, NULL, false, &list, &n), 0);
	assert_int_equal(n, 2);

	/* Soft delete hides it; restore brings it back. */
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "smoke", false), 0);
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "smoke", false), FO_ENOTFOUND);
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", false, &got), FO_ENOTFOUND);
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", true, &got), 0);
	assert_true(got.deleted_at > 0);
	assert_int_equal(fo_store_test_list(st, a, "ann@example.com", false, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fo_store_test_list(st, a, "ann@example.com", true, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "smoke");
	assert_int_equal(fo_store_test_restore(st, "ann@example.com", "smoke"), 0);
	assert_int_equal(fo_store_test_restore(st, "ann@example.com", "smoke"), FO_ENOTFOUND);
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", false, &got), 0);
	assert_int_equal(got.version, 2);
	assert_string_equal(got.test_id, first_id);

	/* Creating over a soft-deleted test makes a new test (new id, version 1); the deleted
	 * one stays in the bin but cannot come back while the name is taken. */
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "smoke", false), 0);
	assert_int_equal(put_test(st, a, "smoke", "ensemble: new\n", true, &t), 0);
	assert_int_equal(t.version, 1);
	assert_string_not_equal(t.test_id, first_id);
	assert_int_equal(fo_store_test_versions(st, a, "ann@example.com", "smoke", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fo_store_test_list(st, a, "ann@example.com", true, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].test_id, first_id);
	assert_int_equal(fo_store_test_restore(st, "ann@example.com", "smoke"), FO_EEXISTS);
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", true, &got), 0);
	assert_string_equal(got.test_id, t.test_id); /* the live one first */
	/* The bin keeps the latest deleted test of a name. */
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "smoke", false), 0);
	assert_int_equal(fo_store_test_list(st, a, "ann@example.com", true, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].test_id, t.test_id);
	assert_int_equal(fo_store_test_restore(st, "ann@example.com", "smoke"), 0);

	/* Delete forever: the test, its versions and its runs' records. */
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "smoke", true), 0);
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", true, &got), FO_ENOTFOUND);
	assert_int_equal(fo_store_test_versions(st, a, "ann@example.com", "smoke", &v, &n), FO_ENOTFOUND);
	assert_int_equal(fo_store_run_get(st, a, "r1", &r), FO_ENOTFOUND);
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "smoke", true), FO_ENOTFOUND);
	/* A soft-deleted test can be deleted forever too. */
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "other", false), 0);
	assert_int_equal(fo_store_test_delete(st, "ann@example.com", "other", true), 0);
	assert_int_equal(fo_store_test_list(st, a, NULL, true, &list, &n), 0);
	assert_int_equal(n, 0);
	fo_arena_free(a);
	fo_store_close(st);
}

/* ---- runs ---- */

static void insert_run(struct fo_store *st, const char *id, const char *owner, const char *test, int64_t created,
		       const char *state, int64_t finished)
{
	struct fo_run_rec r = {.run_id = id, .owner = owner, .test_name = test, .created_at = created,
			       .state = state, .finished_at = finished, .definition = "ensemble: {}\n",
			       .params = "{}", .resources = "{\"local\": 1}", .test_version = 1};
	struct fo_err err = {0};
	if (fo_store_run_insert(st, &r, &err))
		fail_msg("cannot insert run '%s': %s", id, err.msg);
}

static void assert_ids(const struct fo_run_rec *r, size_t n, const char *want)
{
	struct fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		fo_buf_addf(&b, "%s%s", i ? " " : "", r[i].run_id);
	assert_string_equal(b.s, want);
	fo_buf_release(&b);
}

static void test_runs(void **state)
{
	struct fo_store *st = open_store("runs.db");
	struct fo_arena *a = fo_arena_new();
	insert_run(st, "a", "ann@example.com", "t1", 100, "PASSED", 150);
	insert_run(st, "b", "ann@example.com", "t1", 200, "FAILED", 250);
	insert_run(st, "c", "ann@example.com", "t2", 300, "RUNNING", 0);
	insert_run(st, "d", "bob@example.com", "t1", 400, "CREATED", 0);
	insert_run(st, "e", "bob@example.com", "t1", 400, "ABORTED", 450); /* same time as d: by id */
	struct fo_err err = {0};
	struct fo_run_rec dup = {.run_id = "a", .owner = "x", .test_name = "y", .state = "CREATED"};
	assert_int_equal(fo_store_run_insert(st, &dup, &err), FO_EEXISTS);
	assert_string_equal(err.msg, "the run 'a' already exists");

	struct fo_run_rec r;
	assert_int_equal(fo_store_run_get(st, a, "c", &r), 0);
	assert_string_equal(r.owner, "ann@example.com");
	assert_string_equal(r.test_name, "t2");
	assert_string_equal(r.state, "RUNNING");
	assert_string_equal(r.definition, "ensemble: {}\n");
	assert_string_equal(r.params, "{}");
	assert_null(r.results);
	assert_null(r.failure);
	assert_int_equal(r.test_version, 1);
	assert_int_equal(fo_store_run_get(st, a, "zz", &r), FO_ENOTFOUND);

	/* Every field but the fixed ones (and keep_forever) is written. */
	r.started_at = 310;
	r.finished_at = 390;
	r.state = "FAILED";
	r.failed_during = "RUNNING";
	r.failure = "boom";
	r.params = "{\"n\": 2}";
	r.results = "{\"verdict\": \"FAILED\"}";
	r.resources = "{\"local\": 3}";
	r.artifacts = "{\"a.log\": 10}";
	r.artifacts_bytes = 10;
	r.keep_forever = true;
	r.pid = 4242;
	r.pid_start = 777;
	r.test_version = 2;
	r.definition = "ignored";
	assert_int_equal(fo_store_run_update(st, &r), 0);
	struct fo_run_rec g;
	assert_int_equal(fo_store_run_get(st, a, "c", &g), 0);
	assert_int_equal(g.started_at, 310);
	assert_int_equal(g.finished_at, 390);
	assert_string_equal(g.state, "FAILED");
	assert_string_equal(g.failed_during, "RUNNING");
	assert_string_equal(g.failure, "boom");
	assert_string_equal(g.params, "{\"n\": 2}");
	assert_string_equal(g.results, "{\"verdict\": \"FAILED\"}");
	assert_string_equal(g.resources, "{\"local\": 3}");
	assert_string_equal(g.artifacts, "{\"a.log\": 10}");
	assert_int_equal(g.artifacts_bytes, 10);
	assert_false(g.keep_forever); /* only fo_store_run_set_keep changes it */
	assert_int_equal(g.pid, 4242);
	assert_int_equal(g.pid_start, 777);
	assert_int_equal(g.test_version, 2);
	assert_string_equal(g.definition, "ensemble: {}\n");
	assert_int_equal(g.created_at, 300);
	r.run_id = "zz";
	assert_int_equal(fo_store_run_update(st, &r), FO_ENOTFOUND);
	/* Put c back to running for the filters below. */
	r.run_id = "c";
	r.state = "RUNNING";
	r.finished_at = 0;
	assert_int_equal(fo_store_run_update(st, &r), 0);

	struct fo_run_rec *l;
	size_t n;
	assert_int_equal(fo_store_run_list(st, a, NULL, &l, &n), 0);
	assert_ids(l, n, "e d c b a");
	struct fo_run_filter f = {.oldest_first = true};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "a b c d e");
	f = (struct fo_run_filter){.owner = "ANN@example.com"};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "c b a");
	assert_int_equal(fo_store_run_count(st, &f), 3);
	f = (struct fo_run_filter){.owner = "ann@example.com", .test_name = "t1"};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "b a");
	f = (struct fo_run_filter){.test_name = "t1"};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "e d b a");
	const char *const active[] = {"CREATED", "RUNNING", NULL};
	f = (struct fo_run_filter){.states = active};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "d c");
	assert_int_equal(fo_store_run_count(st, &f), 2);
	const char *const none[] = {NULL};
	f = (struct fo_run_filter){.states = none};
	assert_int_equal(fo_store_run_count(st, &f), 5);
	f = (struct fo_run_filter){.only_finished = true};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "e b a");
	f = (struct fo_run_filter){.finished_before = 250};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "a");
	assert_int_equal(fo_store_run_count(st, &f), 1);
	f = (struct fo_run_filter){.limit = 2};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "e d");
	f = (struct fo_run_filter){.limit = 2, .offset = 2};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "c b");
	assert_int_equal(fo_store_run_count(st, &f), 5);
	f = (struct fo_run_filter){.offset = 4};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_ids(l, n, "a");
	f = (struct fo_run_filter){.owner = "nobody"};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(l);
	assert_int_equal(fo_store_run_count(st, NULL), 5);

	assert_int_equal(fo_store_run_set_keep(st, "a", true), 0);
	assert_int_equal(fo_store_run_get(st, a, "a", &g), 0);
	assert_true(g.keep_forever);
	assert_int_equal(fo_store_run_set_keep(st, "a", false), 0);
	assert_int_equal(fo_store_run_get(st, a, "a", &g), 0);
	assert_false(g.keep_forever);
	assert_int_equal(fo_store_run_set_keep(st, "zz", true), FO_ENOTFOUND);
	assert_int_equal(fo_store_run_delete(st, "a"), 0);
	assert_int_equal(fo_store_run_delete(st, "a"), FO_ENOTFOUND);
	/* Runs share stored definitions: deleting one leaves the others' intact. */
	assert_int_equal(fo_store_run_get(st, a, "b", &g), 0);
	assert_string_equal(g.definition, "ensemble: {}\n");
	struct fo_run_rec nodef = {.run_id = "f", .owner = "x", .test_name = "y", .created_at = 1, .state = "CREATED"};
	assert_int_equal(fo_store_run_insert(st, &nodef, NULL), 0);
	assert_int_equal(fo_store_run_get(st, a, "f", &g), 0);
	assert_null(g.definition);
	f = (struct fo_run_filter){.owner = "x"};
	assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
	assert_int_equal(n, 1);
	assert_null(l[0].definition);
	assert_int_equal(fo_store_run_delete(st, "f"), 0);
	assert_int_equal(fo_store_run_count(st, NULL), 4);
	fo_arena_free(a);
	fo_store_close(st);
}

/* ---- reopening, threads, generation ---- */

static void test_reopen_keeps_everything(void **state)
{
	struct fo_store *st = open_store("reopen.db");
	struct fo_arena *a = fo_arena_new();
	add_user(st, "ann@example.com");
	assert_int_equal(fo_store_secret_put(st, "ann@example.com", "k", "v"), 0);
	struct fo_test_rec t;
	assert_int_equal(put_test(st, a, "smoke", "x", true, &t), 0);
	insert_run(st, "r1", "ann@example.com", "smoke", 1, "PASSED", 2);
	fo_store_close(st);

	st = open_store("reopen.db");
	struct fo_user u;
	assert_int_equal(fo_store_user_by_email(st, a, "ann@example.com", &u), 0);
	const char **names, **values;
	size_t n;
	assert_int_equal(fo_store_secret_list(st, a, "ann@example.com", &names, &values, &n), 0);
	assert_int_equal(n, 1);
	struct fo_test_rec got;
	assert_int_equal(fo_store_test_get(st, a, "ann@example.com", "smoke", false, &got), 0);
	assert_string_equal(got.test_id, t.test_id);
	struct fo_run_rec r;
	assert_int_equal(fo_store_run_get(st, a, "r1", &r), 0);
	assert_string_equal(r.state, "PASSED");
	fo_arena_free(a);
	fo_store_close(st);
}

struct writer {
	struct fo_store *st;
	int id;
	int failures;
};

#define WRITES 200

static void *write_a_lot(void *arg)
{
	struct writer *w = arg;
	struct fo_arena *a = fo_arena_new();
	for (int i = 0; i < WRITES; i++) {
		char id[64], name[32];
		snprintf(id, sizeof(id), "w%d-%d", w->id, i);
		snprintf(name, sizeof(name), "t%d", w->id);
		struct fo_run_rec r = {.run_id = id, .owner = "ann@example.com", .test_name = name,
				       .created_at = i, .state = "CREATED"};
		w->failures += fo_store_run_insert(w->st, &r, NULL) != 0;
		r.state = "PASSED";
		r.finished_at = i + 1;
		w->failures += fo_store_run_update(w->st, &r) != 0;
		w->failures += fo_store_secret_put(w->st, "ann@example.com", name, id) != 0;
		struct fo_run_rec *l;
		size_t n;
		struct fo_run_filter f = {.test_name = name, .limit = 10};
		w->failures += fo_store_run_list(w->st, a, &f, &l, &n) != 0;
	}
	fo_arena_free(a);
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct fo_store *st = open_store("threads.db");
	struct writer w[4];
	pthread_t th[4];
	uint64_t gen = fo_store_generation(st);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){.st = st, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, write_a_lot, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	struct fo_run_filter f = {.only_finished = true};
	assert_int_equal(fo_store_run_count(st, &f), 4 * WRITES);
	assert_int_equal(fo_store_generation(st) - gen, 4 * WRITES * 3);
	fo_store_close(st);
}

static void test_generation_changes_on_writes(void **state)
{
	struct fo_store *st = open_store("gen.db");
	struct fo_arena *a = fo_arena_new();
	uint64_t g0 = fo_store_generation(st);
	int64_t ann = add_user(st, "ann@example.com");
	uint64_t g1 = fo_store_generation(st);
	assert_true(g1 > g0);
	struct fo_user u;
	assert_int_equal(fo_store_user_by_id(st, a, ann, &u), 0);
	assert_int_equal(fo_store_user_count(st), 1);
	assert_true(fo_store_generation(st) == g1); /* reads leave it */
	assert_int_equal(fo_store_secret_delete(st, "ann@example.com", "absent"), FO_ENOTFOUND);
	assert_true(fo_store_generation(st) == g1); /* failed writes too */
	assert_int_equal(fo_store_secret_put(st, "ann@example.com", "k", "v"), 0);
	assert_true(fo_store_generation(st) > g1);
	fo_arena_free(a);
	fo_store_close(st);
}

/* ---- speed ---- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_listing_10000_runs(void **state)
{
	struct fo_store *st = open_store("many.db");
	/* Realistic definitions: a couple of kilobytes of YAML, one per test (20 tests). */
	struct fo_buf def = FO_BUF_INIT, defs[20];
	for (int i = 0; i < 40; i++)
		fo_buf_addf(&def, "  - module: sleep%d\n    properties: {duration: 10s}\n", i);
	for (int i = 0; i < 20; i++) {
		defs[i] = (struct fo_buf)FO_BUF_INIT;
		fo_buf_addf(&defs[i], "# test t%d\n%s", i, def.s);
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10000; i++) {
		char id[40], test[16];
		snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i);
		snprintf(test, sizeof(test), "t%d", i % 20);
		struct fo_run_rec r = {.run_id = id, .owner = i % 2 ? "ann@example.com" : "bob@example.com",
				       .test_name = test, .created_at = 1700000000000 + i, .state = "PASSED",
				       .finished_at = 1700000000500 + i, .definition = defs[i % 20].s, .params = "{}",
				       .results = "{\"verdict\": \"PASSED\", \"checkers\": {\"ok\": true}}",
				       .resources = "{\"local\": 3}", .artifacts = "{\"fallout-shared.log\": 1234}",
				       .artifacts_bytes = 1234};
		assert_int_equal(fo_store_run_insert(st, &r, NULL), 0);
	}
	double insert_ms = ms_since(&t0);

	/* As a request would: a new arena for each listing. */
	struct fo_run_rec *l;
	size_t n;
	double best = 1e9;
	for (int k = 0; k < 5; k++) {
		struct fo_arena *b = fo_arena_new();
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(fo_store_run_list(st, b, NULL, &l, &n), 0);
		double ms = ms_since(&t0);
		best = ms < best ? ms : best;
		assert_int_equal(n, 10000);
		assert_string_equal(l[0].run_id, "00000000-0000-4000-8000-000000009999");
		assert_string_equal(l[0].definition, defs[9999 % 20].s);
		assert_string_equal(l[9998].definition, defs[1].s);
		fo_arena_free(b);
	}
	struct fo_arena *a = fo_arena_new();
	struct fo_run_filter f = {.owner = "ann@example.com", .test_name = "t7", .limit = 50};
	double page_ms = 1e9;
	for (int k = 0; k < 5; k++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(fo_store_run_list(st, a, &f, &l, &n), 0);
		double ms = ms_since(&t0);
		page_ms = ms < page_ms ? ms : page_ms;
	}
	assert_int_equal(n, 50);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fo_store_run_count(st, NULL), 10000);
	double count_ms = ms_since(&t0);
	fprintf(stderr,
		"store: 10000 runs (%zu-byte definitions): inserted in %.0f ms; listed all in %.1f ms (best of 5); "
		"a page of 50 of one test in %.2f ms (best of 5); counted in %.2f ms\n",
		def.len, insert_ms, best, page_ms, count_ms);
	fo_buf_release(&def);
	for (int i = 0; i < 20; i++)
		fo_buf_release(&defs[i]);
	fo_arena_free(a);
	fo_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_tests),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_reopen_keeps_everything),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_generation_changes_on_writes),
		cmocka_unit_test(test_listing_10000_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
