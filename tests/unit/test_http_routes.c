/*
 * test_http_routes.c: the route table dispatches as the REST API promises: literal
 * segments before parameters, {email} and {name} told apart, {path*} taking the rest of
 * the path, 405 when only the method is wrong; the OpenAPI description is valid JSON that
 * lists every route; form bodies and error responses are read and written correctly.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>

#include "server/api.h"
#include "server/http.h"
#include "util/arena.h"
#include "util/buf.h"

/* A request as the HTTP layer would give a handler, without a connection. */
struct fake {
	struct fo_req rq;
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->rq.a = fo_arena_new();
	fo_buf_init(&f->rq.body, 0);
	fo_buf_init(&f->rq.out, 0);
	f->rq.fd = -1;
}

static void fake_release(struct fake *f)
{
	fo_buf_release(&f->rq.body);
	fo_buf_release(&f->rq.out);
	fo_arena_free(f->rq.a);
}

static const struct fo_route *match(struct fake *f, const char *method, const char *path, bool *other)
{
	f->rq.nparams = 0;
	return fo_http_match(&f->rq, method, path, other);
}

static void literal_segments_win_over_parameters(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	bool other;
	const struct fo_route *r = match(&f, "POST", "/tests/validate/api", &other);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_test_validate);
	r = match(&f, "GET", "/tests/deleted/api", &other);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_test_list_deleted);
	r = match(&f, "GET", "/tests/runs/0a1b-2c3d/api", &other);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_run_get);
	assert_string_equal(fo_req_param(&f.rq, "run"), "0a1b-2c3d");
	r = match(&f, "GET", "/health", &other);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_health);
	assert_int_equal(f.rq.nparams, 0);
	fake_release(&f);
}

static void email_and_name_are_told_apart(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	const struct fo_route *r = match(&f, "GET", "/tests/a@b.c/api", NULL);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_test_list_owner);
	assert_string_equal(fo_req_param(&f.rq, "email"), "a@b.c");
	assert_null(fo_req_param(&f.rq, "name"));

	r = match(&f, "GET", "/tests/mytest/api", NULL);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_test_get);
	assert_string_equal(fo_req_param(&f.rq, "name"), "mytest");
	assert_null(fo_req_param(&f.rq, "email"));

	r = match(&f, "GET", "/tests/a@b.c/my-test_1.0/runs/0123abcd-ef/api", NULL);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_run_get);
	assert_int_equal(f.rq.nparams, 3);
	assert_string_equal(f.rq.pnames[0], "email");
	assert_string_equal(f.rq.pvalues[0], "a@b.c");
	assert_string_equal(f.rq.pnames[1], "name");
	assert_string_equal(f.rq.pvalues[1], "my-test_1.0");
	assert_string_equal(f.rq.pnames[2], "run");
	assert_string_equal(f.rq.pvalues[2], "0123abcd-ef");

	/* A name with characters outside [0-9a-zA-Z._-] is no test name. */
	assert_null(match(&f, "POST", "/tests/my test/api", NULL));
	assert_null(match(&f, "POST", "/tests/../api", NULL));
	/* A run id is hexadecimal. */
	assert_null(match(&f, "GET", "/tests/a@b.c/t/runs/xyz/api", NULL));
	fake_release(&f);
}

static void rest_parameter_takes_the_rest(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	const struct fo_route *r = match(&f, "GET", "/tests/ui/a@b.c/t1/0abc-12/artifacts/a/b/c.log", NULL);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_artifact_get);
	assert_string_equal(fo_req_param(&f.rq, "path"), "a/b/c.log");
	assert_string_equal(fo_req_param(&f.rq, "run"), "0abc-12");

	r = match(&f, "GET", "/live/artifacts/a@b.c/t1/0abc/fallout-shared.log", NULL);
	assert_non_null(r);
	assert_ptr_equal(r->handler, fo_api_artifact_live);
	assert_string_equal(fo_req_param(&f.rq, "path"), "fallout-shared.log");

	/* Nothing, an empty segment or a trailing slash is not a path. */
	assert_null(match(&f, "GET", "/tests/ui/a@b.c/t1/0abc/artifacts/", NULL));
	assert_null(match(&f, "GET", "/tests/ui/a@b.c/t1/0abc/artifacts/a//b", NULL));
	assert_null(match(&f, "GET", "/tests/ui/a@b.c/t1/0abc/artifacts/a/", NULL));
	fake_release(&f);
}

static void wrong_method_and_no_match(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	bool other = true;
	assert_null(match(&f, "DELETE", "/health", &other));
	assert_true(other);
	assert_null(match(&f, "PUT", "/tests/a@b.c/t/runs/0abc/abort/api", &other));
	assert_true(other);
	assert_null(match(&f, "GET", "/nope", &other));
	assert_false(other);
	assert_null(match(&f, "GET", "/health/", &other));
	assert_false(other);
	assert_null(match(&f, "GET", "", &other));
	assert_false(other);
	assert_null(match(&f, "GET", "health", &other));
	assert_false(other);
	/* Without a request, only the route. */
	assert_non_null(fo_http_match(NULL, "GET", "/version/api", NULL));
	fake_release(&f);
}

/* "/a/{path*}" as OpenAPI writes it: "/a/{path}". */
static void openapi_key(const char *pattern, char *out, size_t n)
{
	size_t w = 0;
	for (const char *p = pattern; *p && w + 1 < n; p++)
		if (!(*p == '*' && p[1] == '}'))
			out[w++] = *p;
	out[w] = '\0';
}

static void openapi_lists_every_route(void **state)
{
	(void)state;
	struct fo_buf b = FO_BUF_INIT;
	fo_http_openapi(&b, "http://127.0.0.1:8080");
	json_error_t jerr;
	json_t *root = json_loads(b.s, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "openapi")), "3.0.3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "info"), "title")), "fallout");
	json_t *servers = json_object_get(root, "servers");
	assert_string_equal(json_string_value(json_object_get(json_array_get(servers, 0), "url")),
			    "http://127.0.0.1:8080");
	json_t *paths = json_object_get(root, "paths");
	assert_true(json_is_object(paths));
	size_t ops = 0;
	for (size_t i = 0; i < fo_nroutes; i++) {
		char key[512], method[16];
		openapi_key(fo_routes[i].path, key, sizeof(key));
		size_t k = 0;
		for (; fo_routes[i].method[k]; k++)
			method[k] = (char)(fo_routes[i].method[k] - 'A' + 'a');
		method[k] = '\0';
		json_t *op = json_object_get(json_object_get(paths, key), method);
		if (!op)
			fail_msg("route %s %s is missing from the OpenAPI description", fo_routes[i].method,
				 fo_routes[i].path);
		assert_non_null(json_object_get(op, "operationId"));
		assert_non_null(json_object_get(op, "responses"));
		json_t *sec = json_object_get(op, "security");
		if (fo_routes[i].auth == FO_AUTH_NONE)
			assert_true(json_is_array(sec) && json_array_size(sec) == 0);
		else
			assert_null(sec);
		if (fo_routes[i].body)
			assert_non_null(json_object_get(op, "requestBody"));
		ops++;
	}
	/* Count the operations back: nothing more than the table. */
	size_t seen = 0;
	const char *key;
	json_t *item;
	json_object_foreach(paths, key, item)
	{
		assert_null(strstr(key, "*"));
		seen += json_object_size(item);
	}
	assert_int_equal(seen, ops);
	/* Path parameters are declared. */
	json_t *art = json_object_get(paths, "/tests/ui/{email}/{name}/{run}/artifacts/{path}");
	json_t *params = json_object_get(json_object_get(art, "get"), "parameters");
	assert_int_equal(json_array_size(params), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(params, 3), "name")), "path");
	assert_string_equal(json_string_value(json_object_get(json_array_get(params, 3), "in")), "path");
	json_t *schemes = json_object_get(json_object_get(root, "components"), "securitySchemes");
	assert_non_null(json_object_get(schemes, "bearerAuth"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(schemes, "cookieAuth"), "name")),
			    "fallout_session");
	json_decref(root);
	fo_buf_release(&b);
}

static void form_fields_are_decoded(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	fo_buf_adds(&f.rq.body, "email=a%40b.c&password=p+w%26d%3D&empty=&flag&csrf=x");
	assert_string_equal(fo_req_form(&f.rq, "email"), "a@b.c");
	assert_string_equal(fo_req_form(&f.rq, "password"), "p w&d=");
	assert_string_equal(fo_req_form(&f.rq, "empty"), "");
	assert_string_equal(fo_req_form(&f.rq, "flag"), "");
	assert_string_equal(fo_req_form(&f.rq, "csrf"), "x");
	assert_null(fo_req_form(&f.rq, "missing"));
	fo_buf_clear(&f.rq.body);
	fo_buf_adds(&f.rq.body, "a=%00x&b=%4");
	assert_null(fo_req_form(&f.rq, "a"));
	assert_null(fo_req_form(&f.rq, "b"));
	fake_release(&f);
}

static void responses_replace_each_other(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	fo_resp_header(&f.rq, "Location", "/tests/a@b.c/t/api");
	fo_resp_json(&f.rq, 201, "{\"ok\":true}");
	fo_resp_error(&f.rq, 404, "no such test: '%s'", "t\"1");
	assert_true(f.rq.responded);
	assert_int_equal(f.rq.status, 404);
	assert_string_equal(f.rq.ctype, "application/json");
	json_t *j = json_loads(f.rq.out.s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "message")), "no such test: 't\"1'");
	json_decref(j);
	assert_int_equal(f.rq.nheaders, 1);
	assert_string_equal(f.rq.hvalues[0], "/tests/a@b.c/t/api");
	fo_resp_text(&f.rq, 200, "application/x-yaml", "a: 1\n", 5);
	assert_string_equal(f.rq.out.s, "a: 1\n");
	assert_string_equal(f.rq.ctype, "application/x-yaml");
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "[1, 2]");
	fo_resp_json_buf(&f.rq, 200, &b);
	assert_string_equal(f.rq.out.s, "[1, 2]");
	assert_string_equal(f.rq.ctype, "application/json");
	assert_int_equal(b.len, 0); /* taken, and left empty and usable */
	fo_buf_release(&b);
	fake_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_segments_win_over_parameters),
		cmocka_unit_test(email_and_name_are_told_apart),
		cmocka_unit_test(rest_parameter_takes_the_rest),
		cmocka_unit_test(wrong_method_and_no_match),
		cmocka_unit_test(openapi_lists_every_route),
		cmocka_unit_test(form_fields_are_decoded),
		cmocka_unit_test(responses_replace_each_other),
	};
	return cmocka_run_group_tests_name("http_routes", tests, NULL, NULL);
}
