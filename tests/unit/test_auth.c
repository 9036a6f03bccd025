/*
 * test_auth.c: the credentials side of `fallout serve` without a server: argon2id password
 * hashes (right and wrong passwords), random secrets, SHA-256 against the FIPS 180-2
 * vector, the sign-in rate limiter (the limit, its window, a success resetting it, and its
 * bounded memory), and parsing FALLOUT_ADMIN_CREDS and account emails.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "server/auth.h"
#include "server/auth_internal.h"
#include "util/arena.h"
#include "util/err.h"

static int setup(void **state)
{
	struct fo_err err = {0};
	return fo_auth_init(&err);
}

static void test_hash_and_check_password(void **state)
{
	char hash[128];
	assert_int_equal(fo_auth_hash_password("correct horse", hash, sizeof hash), 0);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_true(fo_auth_check_password(hash, "correct horse"));
	assert_false(fo_auth_check_password(hash, "correct horsf"));
	assert_false(fo_auth_check_password(hash, ""));
	assert_false(fo_auth_check_password(NULL, "correct horse"));
	assert_false(fo_auth_check_password("", "correct horse"));
	assert_false(fo_auth_check_password("not a hash", "correct horse"));

	/* a salt per hash: the same password hashes differently */
	char hash2[128];
	assert_int_equal(fo_auth_hash_password("correct horse", hash2, sizeof hash2), 0);
	assert_string_not_equal(hash, hash2);
	assert_true(fo_auth_check_password(hash2, "correct horse"));
}

static void test_hash_needs_room(void **state)
{
	char small[64];
	assert_int_equal(fo_auth_hash_password("pw", small, sizeof small), FO_EINVAL);
}

static void test_random_hex(void **state)
{
	char a[65], b[65];
	memset(a, 'x', sizeof a);
	fo_auth_random_hex(a);
	fo_auth_random_hex(b);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strlen(b), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
}

static void test_sha256_vectors(void **state)
{
	char out[65];
	fo_auth_sha256_hex("abc", out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	fo_auth_sha256_hex("", out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* An unknown email costs a real argon2id verification, which never matches. */
static void test_dummy_check_does_real_work(void **state)
{
	assert_true(fo__auth_dummy_check("anything"));
	assert_true(fo__auth_dummy_check(NULL));
}

static void test_limiter_five_failures_then_wait(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 5);
	int64_t t = 1000000;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(fo_auth_login_wait(au, "email:a@b.c", t + i * 1000), 0);
		fo_auth_login_failed(au, "email:a@b.c", t + i * 1000);
	}
	/* the oldest failure (at t) leaves the window at t + 60000 */
	assert_int_equal(fo_auth_login_wait(au, "email:a@b.c", t + 5000), 55000);
	assert_int_equal(fo_auth_login_wait(au, "email:a@b.c", t + 59999), 1);
	/* other keys are not affected */
	assert_int_equal(fo_auth_login_wait(au, "email:x@b.c", t + 5000), 0);
	assert_int_equal(fo_auth_login_wait(au, "ip:127.0.0.1", t + 5000), 0);
	fo_auth_free(au);
}

static void test_limiter_window_expiry(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 5);
	int64_t t = 1000000;
	for (int i = 0; i < 5; i++)
		fo_auth_login_failed(au, "k", t + i * 1000);
	assert_true(fo_auth_login_wait(au, "k", t + 10000) > 0);
	/* the first failure left: four remain, one more try is allowed */
	assert_int_equal(fo_auth_login_wait(au, "k", t + 60000), 0);
	fo_auth_login_failed(au, "k", t + 60000);
	/* now the failure at t + 1000 is the oldest of the last five */
	assert_int_equal(fo_auth_login_wait(au, "k", t + 60000), 1000);
	/* long after, everything left */
	assert_int_equal(fo_auth_login_wait(au, "k", t + 10 * 60000), 0);
	fo_auth_free(au);
}

static void test_limiter_keeps_counting_while_limited(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 3);
	for (int i = 0; i < 10; i++)
		fo_auth_login_failed(au, "k", 1000 * i);
	/* the third most recent (at 7000) decides */
	assert_int_equal(fo_auth_login_wait(au, "k", 9000), 58000);
	fo_auth_free(au);
}

static void test_limiter_success_resets(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 5);
	for (int i = 0; i < 5; i++)
		fo_auth_login_failed(au, "email:a@b.c", 1000);
	assert_true(fo_auth_login_wait(au, "email:a@b.c", 2000) > 0);
	fo_auth_login_succeeded(au, "email:a@b.c");
	assert_int_equal(fo_auth_login_wait(au, "email:a@b.c", 2000), 0);
	fo_auth_login_succeeded(au, "never failed");
	fo_auth_free(au);
}

static void test_limiter_off(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 0);
	for (int i = 0; i < 100; i++)
		fo_auth_login_failed(au, "k", 1000);
	assert_int_equal(fo_auth_login_wait(au, "k", 1000), 0);
	fo_auth_free(au);
	assert_int_equal(fo_auth_login_wait(NULL, "k", 1000), 0);
	fo_auth_free(NULL);
}

static void test_limiter_many_keys_bounded(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 2);
	char key[64];
	/* 30,000 keys within one window: the table keeps at most 10,000, dropping the stalest */
	for (int i = 0; i < 30000; i++) {
		snprintf(key, sizeof key, "ip:10.0.%d.%d", i / 256, i % 256);
		fo_auth_login_failed(au, key, 1000 + i);
		fo_auth_login_failed(au, key, 1000 + i);
	}
	/* the newest keys are still limited */
	snprintf(key, sizeof key, "ip:10.0.%d.%d", 29999 / 256, 29999 % 256);
	assert_true(fo_auth_login_wait(au, key, 40000) > 0);
	/* the first ones were evicted */
	assert_int_equal(fo_auth_login_wait(au, "ip:10.0.0.0", 40000), 0);

	/* keys whose window passed are evicted rather than fresh ones */
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "later:%d", i);
		fo_auth_login_failed(au, key, 1000000 + i);
	}
	assert_int_equal(fo_auth_login_wait(au, "later:19999", 1020000), 0); /* one failure of two */
	fo_auth_login_failed(au, "later:19999", 1020000);
	assert_true(fo_auth_login_wait(au, "later:19999", 1020000) > 0);
	fo_auth_free(au);
}

static void test_limiter_long_keys_cut(void **state)
{
	struct fo_auth *au = fo_auth_new(60000, 1);
	char big[2000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	fo_auth_login_failed(au, big, 1000);
	assert_true(fo_auth_login_wait(au, big, 1000) > 0);
	fo_auth_free(au);
}

static void test_parse_creds(void **state)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_err err = {0};
	const char *name, *email, *password;
	assert_int_equal(fo__auth_parse_creds("admin:admin@example.com:password1", a, &name, &email, &password, &err),
			 0);
	assert_string_equal(name, "admin");
	assert_string_equal(email, "admin@example.com");
	assert_string_equal(password, "password1");

	/* the password may hold colons: split at the first two only */
	assert_int_equal(fo__auth_parse_creds("Ann Lee:ann@x.org:a:b::c", a, &name, &email, &password, &err), 0);
	assert_string_equal(name, "Ann Lee");
	assert_string_equal(email, "ann@x.org");
	assert_string_equal(password, "a:b::c");
	fo_arena_free(a);
}

static void test_parse_creds_malformed(void **state)
{
	static const char *const bad[] = {
		"", "admin", "admin:admin@example.com", "admin:admin@example.com:", ":admin@example.com:pw",
		"admin::pw", "admin:not-an-email:pw", "admin:a b@example.com:pw",
	};
	struct fo_arena *a = fo_arena_new();
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		struct fo_err err = {0};
		const char *name = NULL, *email = NULL, *password = NULL;
		assert_int_equal(fo__auth_parse_creds(bad[i], a, &name, &email, &password, &err), FO_EINVAL);
		assert_non_null(strstr(err.msg, "FALLOUT_ADMIN_CREDS"));
	}
	struct fo_err err = {0};
	const char *name, *email, *password;
	/* the password never shows in the message */
	assert_int_equal(fo__auth_parse_creds("x:bad:s3cret", a, &name, &email, &password, &err), FO_EINVAL);
	assert_null(strstr(err.msg, "s3cret"));
	fo_arena_free(a);
}

static void test_valid_email(void **state)
{
	assert_true(fo__auth_valid_email("a@b"));
	assert_true(fo__auth_valid_email("first.last+tag@example.co.uk"));
	assert_true(fo__auth_valid_email("fallout@localhost"));
	assert_false(fo__auth_valid_email(NULL));
	assert_false(fo__auth_valid_email(""));
	assert_false(fo__auth_valid_email("@b.c"));
	assert_false(fo__auth_valid_email("a@"));
	assert_false(fo__auth_valid_email("ab.c"));
	assert_false(fo__auth_valid_email("a@b@c"));
	assert_false(fo__auth_valid_email("a/b@c"));
	assert_false(fo__auth_valid_email("a b@c"));
	assert_false(fo__auth_valid_email("a@b?c"));
	char longer[300];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	longer[10] = '@';
	assert_false(fo__auth_valid_email(longer));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_check_password),
		cmocka_unit_test(test_hash_needs_room),
		cmocka_unit_test(test_random_hex),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_dummy_check_does_real_work),
		cmocka_unit_test(test_limiter_five_failures_then_wait),
		cmocka_unit_test(test_limiter_window_expiry),
		cmocka_unit_test(test_limiter_keeps_counting_while_limited),
		cmocka_unit_test(test_limiter_success_resets),
		cmocka_unit_test(test_limiter_off),
		cmocka_unit_test(test_limiter_many_keys_bounded),
		cmocka_unit_test(test_limiter_long_keys_cut),
		cmocka_unit_test(test_parse_creds),
		cmocka_unit_test(test_parse_creds_malformed),
		cmocka_unit_test(test_valid_email),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
