/*
 * test_api_common.c: the REST API's shared helpers: a run's definition as shown (exact
 * text, and that it loads back with its parameters as the defaults), ISO-8601 times, the
 * Test and TestRun JSON shapes (valid JSON with the keys Fallout's clients read), who may
 * change what, and diagnostics as JSON.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "server/api.h"
#include "server/api_int.h"
#include "server/server.h"
#include "spec/definition.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"

static const char *const def_with_defaults = "n: 2\n"
					     "m: noop\n"
					     "---\n"
					     "ensemble:\n"
					     "  server:\n"
					     "    node.count: {{n}}\n"
					     "    provisioner: local\n"
					     "  client: server\n"
					     "workload:\n"
					     "  phases:\n"
					     "    - a:\n"
					     "        module: {{m}}\n";

static struct fo_def *load_ok(const char *text, const struct fo_def_opts *o)
{
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def *def = NULL;
	int rc = fo_def_load_text("run.yaml", text, strlen(text), o, &def, &d);
	if (rc) {
		fprintf(stderr, "%s", text);
		fo_diags_print(&d, stderr);
	}
	assert_int_equal(rc, 0);
	fo_diags_release(&d);
	return def;
}

static void run_definition_text_is_exact(void **state)
{
	(void)state;
	struct fo_arena *a = fo_arena_new();
	struct fo_run_rec r = {
		.owner = "alice@example.com",
		.test_name = "t1",
		.run_id = "0f6e2c1a-0000-4000-8000-000000000001",
		.definition = def_with_defaults,
		.params = "{\"n\": 5, \"who\": \"a b\"}",
	};
	const char *text = fo_api_run_definition_text(a, &r);
	assert_string_equal(text, "# PARAMETERS FOR TEST RUN alice@example.com, t1, 0f6e2c1a-0000-4000-8000-000000000001:\n"
				  "n: 5\n"
				  "m: noop\n"
				  "who: \"a b\"\n"
				  "# DEFAULT PARAMETERS:\n"
				  "# n: 2\n"
				  "# m: noop\n"
				  "---\n"
				  "ensemble:\n"
				  "  server:\n"
				  "    node.count: {{n}}\n"
				  "    provisioner: local\n"
				  "  client: server\n"
				  "workload:\n"
				  "  phases:\n"
				  "    - a:\n"
				  "        module: {{m}}\n");
	fo_arena_free(a);
}

static void run_definition_text_loads_back_with_parameters_as_defaults(void **state)
{
	(void)state;
	struct fo_arena *a = fo_arena_new();
	struct fo_run_rec r = {
		.owner = "alice@example.com",
		.test_name = "t1",
		.run_id = "r1",
		.definition = def_with_defaults,
		.params = "{\"n\": 5}",
	};
	const char *text = fo_api_run_definition_text(a, &r);
	struct fo_def *def = load_ok(text, NULL);
	assert_int_equal(def->groups[0].node_count, 5);
	struct fo_ynode *n = fo_ymap_get(def->defaults, "n");
	assert_non_null(n);
	assert_int_equal(n->stype, FO_YS_INT);
	assert_int_equal(n->i, 5);
	struct fo_ynode *m = fo_ymap_get(def->defaults, "m");
	assert_non_null(m);
	assert_string_equal(m->str, "noop");
	fo_def_free(def);

	/* And once more: the shown text of a run of the shown text is the same but its header. */
	struct fo_run_rec again = r;
	again.definition = text;
	again.params = "{}";
	const char *text2 = fo_api_run_definition_text(a, &again);
	def = load_ok(text2, NULL);
	assert_int_equal(def->groups[0].node_count, 5);
	fo_def_free(def);
	fo_arena_free(a);
}

static void run_definition_text_without_defaults(void **state)
{
	(void)state;
	struct fo_arena *a = fo_arena_new();
	const char *body = "workload:\n  phases:\n    - a:\n        module: noop\n";
	struct fo_run_rec r = {.owner = "o@x", .test_name = "t", .run_id = "r", .definition = body, .params = NULL};
	const char *text = fo_api_run_definition_text(a, &r);
	assert_string_equal(text, "# PARAMETERS FOR TEST RUN o@x, t, r:\n"
				  "# DEFAULT PARAMETERS:\n"
				  "---\n"
				  "workload:\n  phases:\n    - a:\n        module: noop\n");
	fo_def_free(load_ok(text, NULL));
	fo_arena_free(a);
}

/* Every kind of JSON value reads back from the parameter block as the same value. */
static void run_definition_parameters_keep_their_types(void **state)
{
	(void)state;
	struct fo_arena *a = fo_arena_new();
	const char *params = "{\"s\": \"3\", \"b\": \"true\", \"c\": \"a: b # c\", \"e\": \"\", \"x\": null, "
			     "\"t\": true, \"f\": 1.5, \"l\": [1, \"x\"], \"o\": {\"k\": \"v\"}, \"p\": \"/tmp/a-b.c\", "
			     "\"odd key\": 1, \"null\": \"n\", \"u\": \"caf\\u00e9 \\\"q\\\"\\n\"}";
	struct fo_run_rec r = {.owner = "o@x", .test_name = "t", .run_id = "r",
			       .definition = "workload:\n  phases:\n    - a:\n        module: noop\n", .params = params};
	const char *text = fo_api_run_definition_text(a, &r);
	assert_non_null(strstr(text, "\np: /tmp/a-b.c\n"));
	const char *end = strstr(text, "# DEFAULT PARAMETERS:\n");
	assert_non_null(end);
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_yaml_opts yo = {.file = "p.yaml"};
	struct fo_ynode *n = NULL;
	int rc = fo_yaml_load(a, text, (size_t)(end - text), &yo, &n, &d);
	if (rc)
		fo_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	fo_diags_release(&d);
	struct fo_buf j = FO_BUF_INIT;
	assert_int_equal(fo_yaml_emit_json(n, &j), 0);
	json_t *got = json_loads(j.s, 0, NULL), *want = json_loads(params, 0, NULL);
	assert_non_null(got);
	assert_non_null(want);
	if (!json_equal(got, want))
		fprintf(stderr, "%s\n%s\n", text, j.s);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	fo_buf_release(&j);
	fo_arena_free(a);
}

static void times_are_iso_8601_utc_with_milliseconds(void **state)
{
	(void)state;
	struct fo_buf b = FO_BUF_INIT;
	fo_api_add_time(&b, 1796033260303);
	assert_string_equal(b.s, "\"2026-11-30T10:07:40.303Z\"");
	fo_buf_clear(&b);
	fo_api_add_time(&b, 0);
	assert_string_equal(b.s, "null");
	fo_buf_clear(&b);
	fo_api_add_time(&b, 1000);
	assert_string_equal(b.s, "\"1970-01-01T00:00:01.000Z\"");
	fo_buf_clear(&b);
	fo_api_add_time(&b, -1);
	assert_string_equal(b.s, "\"1969-12-31T23:59:59.999Z\"");
	fo_buf_release(&b);
}

static json_t *parse(const struct fo_buf *b)
{
	json_error_t je;
	json_t *j = json_loadb(b->s, b->len, 0, &je);
	if (!j)
		fprintf(stderr, "%s\n%s\n", je.text, b->s);
	assert_non_null(j);
	return j;
}

static void test_json_has_fallouts_keys(void **state)
{
	(void)state;
	const char *tags[] = {"nightly", "db"};
	struct fo_test_rec t = {
		.owner = "alice@example.com",
		.name = "t1",
		.test_id = "id-1",
		.created_at = 1796033260303,
		.definition = "workload: \"x\"\n",
		.tags = tags,
		.ntags = 2,
		.version = 3,
		.size_on_disk = 42,
	};
	struct fo_buf b = FO_BUF_INIT;
	fo_api_test_json(&b, &t, true);
	json_t *j = parse(&b);
	const char *keys[] = {"owner", "name", "testId", "createdAt", "lastRunAt", "definition", "tags",
			      "sizeOnDiskBytes", "version", "deleted", "updatedAt"};
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++)
		assert_non_null(json_object_get(j, keys[i]));
	assert_string_equal(json_string_value(json_object_get(j, "definition")), t.definition);
	assert_string_equal(json_string_value(json_object_get(j, "createdAt")), "2026-11-30T10:07:40.303Z");
	assert_true(json_is_null(json_object_get(j, "lastRunAt")));
	assert_int_equal(json_array_size(json_object_get(j, "tags")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "sizeOnDiskBytes")), 42);
	assert_true(json_is_false(json_object_get(j, "deleted")));
	json_decref(j);

	fo_buf_clear(&b);
	t.deleted_at = 5;
	fo_api_test_json(&b, &t, false);
	j = parse(&b);
	assert_null(json_object_get(j, "definition"));
	assert_true(json_is_true(json_object_get(j, "deleted")));
	json_decref(j);
	fo_buf_release(&b);
}

static void run_json_has_fallouts_keys(void **state)
{
	(void)state;
	struct fo_server srv = {.url = "http://127.0.0.1:8080"};
	struct fo_req rq = {.srv = &srv};
	struct fo_run_rec r = {
		.run_id = "r-1",
		.owner = "alice@example.com",
		.test_name = "t1",
		.created_at = 1796033260303,
		.state = "FAILED",
		.failed_during = "RUNNING",
		.failure = "module 'a' failed",
		.definition = def_with_defaults,
		.params = "{\"n\": 3}",
		.results = "{\"checkers\": {\"a\": true}}",
		.resources = "{\"local\": 3}",
		.artifacts = "{\"fallout-shared.log\": 120}",
		.artifacts_bytes = 120,
		.keep_forever = true,
		.test_version = 2,
	};
	struct fo_buf b = FO_BUF_INIT;
	fo_api_run_json(&rq, &b, &r, true);
	json_t *j = parse(&b);
	const char *keys[] = {"owner", "testName", "testRunId", "createdAt", "startedAt", "finishedAt",
			      "state", "failedDuring", "failureReason", "definition", "results", "artifacts",
			      "artifactsSizeBytes", "templateParams", "keepForever", "resources", "testVersion",
			      "links"};
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++) {
		if (!json_object_get(j, keys[i]))
			fprintf(stderr, "missing %s\n", keys[i]);
		assert_non_null(json_object_get(j, keys[i]));
	}
	assert_true(json_is_null(json_object_get(j, "startedAt")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "templateParams"), "n")), 3);
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(j, "results"), "checkers"), "a")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "artifacts"), "fallout-shared.log")), 120);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "resources"), "local")), 3);
	assert_non_null(strstr(json_string_value(json_object_get(j, "definition")), "# PARAMETERS FOR TEST RUN"));
	json_t *links = json_object_get(j, "links");
	assert_string_equal(json_string_value(json_object_get(links, "self")),
			    "http://127.0.0.1:8080/tests/alice@example.com/t1/runs/r-1/api");
	assert_string_equal(json_string_value(json_object_get(links, "artifacts")),
			    "http://127.0.0.1:8080/tests/ui/alice@example.com/t1/r-1/artifacts/");
	assert_string_equal(json_string_value(json_object_get(links, "archive")),
			    "http://127.0.0.1:8080/tests/ui/alice@example.com/t1/r-1/artifactsArchive");
	assert_string_equal(json_string_value(json_object_get(links, "live")),
			    "http://127.0.0.1:8080/live/artifacts/alice@example.com/t1/r-1/");
	json_decref(j);

	/* A listing leaves out the definition and artifacts; missing texts become null or {}. */
	fo_buf_clear(&b);
	r.results = NULL;
	r.params = NULL;
	r.resources = "not json";
	fo_api_run_json(&rq, &b, &r, false);
	j = parse(&b);
	assert_null(json_object_get(j, "definition"));
	assert_null(json_object_get(j, "artifacts"));
	assert_true(json_is_null(json_object_get(j, "results")));
	assert_true(json_is_object(json_object_get(j, "templateParams")));
	assert_true(json_is_object(json_object_get(j, "resources")));
	json_decref(j);
	fo_buf_release(&b);
}

static void only_the_owner_or_an_admin_may_change(void **state)
{
	(void)state;
	struct fo_user alice = {.email = "Alice@Example.com"}, bob = {.email = "bob@example.com"},
		       root = {.email = "root@example.com", .admin = true};
	struct fo_req rq = {0};
	assert_false(fo_api_may_change(&rq, "alice@example.com"));
	rq.user = &alice;
	assert_true(fo_api_may_change(&rq, "alice@example.com"));
	rq.user = &bob;
	assert_false(fo_api_may_change(&rq, "alice@example.com"));
	rq.user = &root;
	assert_true(fo_api_may_change(&rq, "alice@example.com"));
}

static void test_names_are_checked(void **state)
{
	(void)state;
	assert_true(fo__api_valid_name("my-test_1.v2"));
	assert_false(fo__api_valid_name(""));
	assert_false(fo__api_valid_name(".."));
	assert_false(fo__api_valid_name("a/b"));
	assert_false(fo__api_valid_name("a b"));
}

static void diagnostics_become_json(void **state)
{
	(void)state;
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def *def = NULL;
	const char *text = "workload:\n  phases:\n    - a:\n        module: nosuchmodule\nextra: 1\n";
	assert_int_equal(fo_def_load_text("t.yaml", text, strlen(text), NULL, &def, &d), FO_EDEFINITION);
	struct fo_buf b = FO_BUF_INIT;
	fo__api_add_diags(&b, &d, true, 0);
	json_t *j = parse(&b);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), d.n);
	assert_true(json_array_size(j) >= 2);
	json_t *e = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(e, "file")), "t.yaml");
	assert_true(json_integer_value(json_object_get(e, "line")) > 0);
	assert_non_null(json_object_get(e, "col"));
	assert_non_null(json_string_value(json_object_get(e, "message")));
	assert_string_equal(json_string_value(json_object_get(e, "severity")), "error");
	json_decref(j);
	fo_buf_release(&b);
	fo_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_definition_text_is_exact),
		cmocka_unit_test(run_definition_text_loads_back_with_parameters_as_defaults),
		cmocka_unit_test(run_definition_text_without_defaults),
		cmocka_unit_test(run_definition_parameters_keep_their_types),
		cmocka_unit_test(times_are_iso_8601_utc_with_milliseconds),
		cmocka_unit_test(test_json_has_fallouts_keys),
		cmocka_unit_test(run_json_has_fallouts_keys),
		cmocka_unit_test(only_the_owner_or_an_admin_may_change),
		cmocka_unit_test(test_names_are_checked),
		cmocka_unit_test(diagnostics_become_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
