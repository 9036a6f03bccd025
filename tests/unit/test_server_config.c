/*
 * test_server_config.c: the configuration of `fallout serve`: defaults, a file setting
 * every key, problems reported at file:line:col (unknown keys with a suggestion, bad
 * durations and sizes), and the environment taking precedence over the file.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "server/server.h"
#include "util/diag.h"

/* Writes text to a new temporary file; returns its path (static buffer). */
static const char *write_config(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/fallout-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* The diagnostic whose message contains needle, or NULL. */
static const struct fo_diag *find_diag(const struct fo_diags *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle))
			return &d->v[i];
	return NULL;
}

static int clear_env(void **state)
{
	(void)state;
	unsetenv("FALLOUT_AUTH_MODE");
	unsetenv("FALLOUT_ADMIN_CREDS");
	return 0;
}

static void defaults(void **state)
{
	(void)state;
	struct fo_server_config c;
	struct fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_server_config_load(&c, NULL, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.data_dir, "fallout-data");
	assert_null(c.store_url);
	assert_null(c.public_url);
	assert_int_equal(c.auth_mode, FO_AUTH_MODE_MULTI);
	assert_false(c.registration);
	assert_int_equal(c.max_body, 4 * 1024 * 1024);
	assert_int_equal(c.max_definition, 1024 * 1024);
	assert_int_equal(c.session_ttl_ms, 7LL * 24 * 3600 * 1000);
	assert_int_equal(c.login_window_ms, 60000);
	assert_int_equal(c.login_max_failures, 5);
	assert_int_equal(c.housekeeping_every_ms, 3600000);
	assert_int_equal(c.compress_after_ms, 0);
	assert_int_equal(c.retention_ms, 0);
	assert_int_equal(c.max_running, 0);
	assert_int_equal(c.nlimits, 0);
	assert_non_null(c.fallout_exe);
	assert_true(c.fallout_exe[0] == '/');
	fo_server_config_release(&c);
	fo_diags_release(&d);
}

static void every_key(void **state)
{
	(void)state;
	const char *path = write_config("listen: \"[::1]:9090\"\n"
					"data: /srv/fallout\n"
					"store: sqlite:/srv/fallout/db\n"
					"library: /srv/library\n"
					"public_url: https://fallout.example.com/\n"
					"auth_mode: single_user\n"
					"registration: true\n"
					"admin: Ada:ada@example.com:se:cret\n"
					"queue:\n"
					"  max_running: 4\n"
					"  nodes:\n"
					"    local: 12\n"
					"    fake: 3\n"
					"limits:\n"
					"  max_body: 8MiB\n"
					"  max_definition: 512 KiB\n"
					"sessions:\n"
					"  ttl: 2h\n"
					"login:\n"
					"  window: 30s\n"
					"  max_failures: 3\n"
					"housekeeping:\n"
					"  every: 5m\n"
					"  compress_after: 7d\n"
					"  retention: 0\n");
	struct fo_server_config c;
	struct fo_diags d = FO_DIAGS_INIT;
	int rc = fo_server_config_load(&c, path, &d);
	if (rc)
		fo_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_string_equal(c.listen, "[::1]:9090");
	assert_string_equal(c.data_dir, "/srv/fallout");
	assert_string_equal(c.store_url, "sqlite:/srv/fallout/db");
	assert_string_equal(c.library, "/srv/library");
	assert_string_equal(c.public_url, "https://fallout.example.com");
	assert_int_equal(c.auth_mode, FO_AUTH_MODE_SINGLE_USER);
	assert_true(c.registration);
	assert_string_equal(c.admin_creds, "Ada:ada@example.com:se:cret");
	assert_int_equal(c.max_running, 4);
	assert_int_equal(c.nlimits, 2);
	assert_string_equal(c.limits[0].provisioner, "local");
	assert_int_equal(c.limits[0].max_nodes, 12);
	assert_string_equal(c.limits[1].provisioner, "fake");
	assert_int_equal(c.limits[1].max_nodes, 3);
	assert_int_equal(c.max_body, 8 * 1024 * 1024);
	assert_int_equal(c.max_definition, 512 * 1024);
	assert_int_equal(c.session_ttl_ms, 2 * 3600 * 1000);
	assert_int_equal(c.login_window_ms, 30000);
	assert_int_equal(c.login_max_failures, 3);
	assert_int_equal(c.housekeeping_every_ms, 300000);
	assert_int_equal(c.compress_after_ms, 7LL * 24 * 3600 * 1000);
	assert_int_equal(c.retention_ms, 0);
	fo_server_config_release(&c);
	fo_diags_release(&d);
	unlink(path);
}

static void unknown_keys_are_placed_and_suggested(void **state)
{
	(void)state;
	const char *path = write_config("listen: 127.0.0.1:0\n"
					"queue:\n"
					"  max_runing: 2\n"
					"  nodes:\n"
					"    locl: 2\n"
					"housekeep:\n"
					"  every: 1h\n");
	struct fo_server_config c;
	struct fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_server_config_load(&c, path, &d), FO_EINVAL);
	assert_int_equal(d.errors, 3);
	const struct fo_diag *x = find_diag(&d, "unknown key 'housekeep' (did you mean 'housekeeping'?)");
	assert_non_null(x);
	assert_string_equal(x->file, path);
	assert_int_equal(x->line, 6);
	assert_int_equal(x->col, 1);
	x = find_diag(&d, "unknown key 'max_runing' in 'queue' (did you mean 'max_running'?)");
	assert_non_null(x);
	assert_int_equal(x->line, 3);
	assert_int_equal(x->col, 3);
	x = find_diag(&d, "unknown provisioner 'locl' in 'queue.nodes' (did you mean 'local'?)");
	assert_non_null(x);
	assert_int_equal(x->line, 5);
	assert_int_equal(x->col, 5);
	fo_server_config_release(&c);
	fo_diags_release(&d);
	unlink(path);
}

static void bad_values_are_errors(void **state)
{
	(void)state;
	const char *path = write_config("housekeeping:\n"
					"  every: 5 parsecs\n"
					"sessions: {ttl: 0}\n"
					"limits: {max_body: lots}\n"
					"login: {max_failures: 0}\n"
					"registration: maybe\n"
					"auth_mode: everyone\n"
					"admin: ada\n"
					"public_url: fallout.example.com\n"
					"queue: [1, 2]\n"
					"listen: 8080\n");
	struct fo_server_config c;
	struct fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_server_config_load(&c, path, &d), FO_EINVAL);
	const struct fo_diag *x = find_diag(&d, "'housekeeping.every' must be a duration");
	assert_non_null(x);
	assert_int_equal(x->line, 2);
	assert_int_equal(x->col, 10);
	assert_non_null(find_diag(&d, "'sessions.ttl' must be a duration"));
	assert_non_null(find_diag(&d, "'limits.max_body' must be a size"));
	assert_non_null(find_diag(&d, "'login.max_failures' must be a whole number of at least 1"));
	assert_non_null(find_diag(&d, "'registration' must be true or false"));
	assert_non_null(find_diag(&d, "'auth_mode' must be 'multi' or 'single_user'"));
	assert_non_null(find_diag(&d, "'admin' must be name:email:password"));
	assert_non_null(find_diag(&d, "'public_url' must start with http://"));
	assert_non_null(find_diag(&d, "'queue' must be a map"));
	assert_non_null(find_diag(&d, "'listen' must be ADDR:PORT"));
	assert_int_equal(d.errors, 10);
	fo_server_config_release(&c);
	fo_diags_release(&d);
	unlink(path);
}

static void missing_file_is_an_error(void **state)
{
	(void)state;
	struct fo_server_config c;
	struct fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_server_config_load(&c, "/nonexistent/fallout.yaml", &d), FO_EINVAL);
	assert_non_null(find_diag(&d, "/nonexistent/fallout.yaml"));
	fo_server_config_release(&c);
	fo_diags_release(&d);
}

static void environment_overrides_the_file(void **state)
{
	(void)state;
	const char *path = write_config("auth_mode: multi\nadmin: Ada:ada@example.com:pw\n");
	setenv("FALLOUT_AUTH_MODE", "single_user", 1);
	setenv("FALLOUT_ADMIN_CREDS", "Bob:bob@example.com:pw2", 1);
	struct fo_server_config c;
	struct fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_server_config_load(&c, path, &d), 0);
	assert_int_equal(c.auth_mode, FO_AUTH_MODE_SINGLE_USER);
	assert_string_equal(c.admin_creds, "Bob:bob@example.com:pw2");
	fo_server_config_release(&c);

	setenv("FALLOUT_AUTH_MODE", "Multi_User", 1);
	assert_int_equal(fo_server_config_load(&c, NULL, &d), 0);
	assert_int_equal(c.auth_mode, FO_AUTH_MODE_MULTI);
	fo_server_config_release(&c);

	setenv("FALLOUT_AUTH_MODE", "everyone", 1);
	setenv("FALLOUT_ADMIN_CREDS", "bob", 1);
	assert_int_equal(fo_server_config_load(&c, NULL, &d), FO_EINVAL);
	assert_non_null(find_diag(&d, "FALLOUT_AUTH_MODE must be SINGLE_USER or MULTI_USER, not 'everyone'"));
	assert_non_null(find_diag(&d, "FALLOUT_ADMIN_CREDS must be name:email:password"));
	fo_server_config_release(&c);
	fo_diags_release(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults, clear_env, clear_env),
		cmocka_unit_test_setup_teardown(every_key, clear_env, clear_env),
		cmocka_unit_test_setup_teardown(unknown_keys_are_placed_and_suggested, clear_env, clear_env),
		cmocka_unit_test_setup_teardown(bad_values_are_errors, clear_env, clear_env),
		cmocka_unit_test_setup_teardown(missing_file_is_an_error, clear_env, clear_env),
		cmocka_unit_test_setup_teardown(environment_overrides_the_file, clear_env, clear_env),
	};
	return cmocka_run_group_tests_name("server_config", tests, NULL, NULL);
}
