/*
 * cmd_test.c: `fallout test push|list|show|rm`: the tests stored on a fallout server.
 * push creates a test from a local YAML file, or replaces its definition when it exists
 * (the server keeps the old one as a version); an invalid definition is reported as
 * FILE:LINE:COL: message against the local file, like `fallout validate` (exit 2).
 */
#include "util/common.h"

#include "cli/cli.h"
#include "cli/client_cli.h"
#include "client/client.h"
#include "spec/definition.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

/* Prints every error of a 400 answer as FILE:LINE:COL: message. */
static void print_invalid(const char *file, const struct fo_client_resp *resp)
{
	json_t *j = fo_cli_json(resp);
	const json_t *errs = json_object_get(j, "errors");
	size_t n = json_is_array(errs) ? json_array_size(errs) : 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(errs, i);
		const char *msg = json_string_value(json_object_get(e, "message"));
		json_int_t line = json_integer_value(json_object_get(e, "line"));
		json_int_t col = json_integer_value(json_object_get(e, "col"));
		if (line > 0)
			fprintf(stderr, "%s:%lld:%lld: %s\n", file, (long long)line, (long long)(col > 0 ? col : 1),
				msg ? msg : "invalid");
		else
			fprintf(stderr, "%s: %s\n", file, msg ? msg : "invalid");
	}
	if (n == 0) {
		struct fo_buf m = FO_BUF_INIT;
		fo_client_error_message(resp, &m);
		fprintf(stderr, "%s: %s\n", file, m.s);
		fo_buf_release(&m);
	}
	fprintf(stderr, "fallout: %s is not a valid test definition (%zu error%s); nothing was pushed\n", file,
		n ? n : 1, n == 1 || n == 0 ? "" : "s");
	json_decref(j);
}

static int push(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	const char *name = NULL;
	const struct fo_cli_opt opts[] = {FO_CLI_COMMON_OPTS(c), {"--name", NULL, &name, NULL}};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("test", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 1, &npos))
		return FO_EXIT_USAGE;
	if (npos != 1)
		return fo_cli_usage_error("test", "test push needs the test definition's file");
	const char *file = pos[0];
	struct fo_buf text = FO_BUF_INIT;
	struct fo_err err = {0};
	if (fo_buf_read_file(&text, file, 16 << 20, &err)) {
		fo_buf_release(&text);
		return fo_cli_usage_error("test", "cannot read '%s': %s", file, err.msg);
	}
	struct fo_client cl;
	if (fo_cli_client(&cl, "test", c.server, c.token)) {
		fo_buf_release(&text);
		return FO_EXIT_USAGE;
	}
	char *tname = name ? fo_strdup(name) : fo_def_name_of(file);
	struct fo_buf path = FO_BUF_INIT;
	fo_cli_test_path(&path, c.owner, tname, "/api");
	struct fo_client_req rq = {
		.method = c.owner ? "PUT" : "POST", .path = path.s, .ctype = "application/x-yaml", .body = text.s,
		.len = text.len};
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	int rc = FO_EXIT_OK;
	if (fo_client_request(&cl, &rq, &resp, &err)) {
		rc = fo_cli_unreachable(&err);
		goto out;
	}
	bool created = resp.status == 201 || (resp.status == 200 && !c.owner);
	if (resp.status == 409 && !c.owner) {
		/* It exists: replace its definition. (Another owner's test is only ever replaced.) */
		rq.method = "PUT";
		if (fo_client_request(&cl, &rq, &resp, &err)) {
			rc = fo_cli_unreachable(&err);
			goto out;
		}
	}
	if (resp.status == 400) {
		print_invalid(file, &resp);
		rc = FO_EXIT_USAGE;
	} else if (resp.status / 100 != 2) {
		rc = fo_cli_refused(&resp, "cannot push '%s'", tname);
	} else {
		json_t *j = fo_cli_json(&resp);
		json_t *v = json_object_get(j, "version");
		if (json_is_integer(v))
			printf("%s %s (version %lld)\n", created ? "created" : "updated", tname,
			       (long long)json_integer_value(v));
		else
			printf("%s %s\n", created ? "created" : "updated", tname);
		json_decref(j);
	}
out:
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	fo_buf_release(&text);
	fo_free(tname);
	fo_client_release(&cl);
	return rc;
}

static int list(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	bool as_json = false;
	const struct fo_cli_opt opts[] = {FO_CLI_COMMON_OPTS(c), {"--json", NULL, NULL, &as_json}};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("test", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 0, &npos))
		return FO_EXIT_USAGE;
	struct fo_client cl;
	if (fo_cli_client(&cl, "test", c.server, c.token))
		return FO_EXIT_USAGE;
	struct fo_buf path = FO_BUF_INIT;
	if (c.owner) {
		fo_buf_adds(&path, "/tests/");
		fo_client_escape(&path, c.owner, false);
		fo_buf_adds(&path, "/api");
	} else {
		fo_buf_adds(&path, "/tests/api");
	}
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = FO_EXIT_OK;
	if (fo_client_json(&cl, "GET", path.s, NULL, &resp, &err)) {
		rc = fo_cli_unreachable(&err);
	} else if (resp.status != 200) {
		rc = fo_cli_refused(&resp, "cannot list the tests");
	} else if (as_json) {
		fo_cli_print_body(&resp);
	} else {
		json_t *j = fo_cli_json(&resp);
		json_t *arr = json_is_array(j) ? j : json_object_get(j, "tests");
		printf("%-32s %7s  %-19s  %s\n", "NAME", "VERSION", "LAST RUN", "TAGS");
		for (size_t i = 0; i < json_array_size(arr); i++) {
			const json_t *t = json_array_get(arr, i);
			char when[32];
			fo_cli_time(json_string_value(json_object_get(t, "lastRunAt")), when, sizeof(when));
			struct fo_buf tags = FO_BUF_INIT;
			const json_t *ta = json_object_get(t, "tags");
			for (size_t k = 0; k < json_array_size(ta); k++)
				fo_buf_addf(&tags, "%s%s", k ? "," : "", json_string_value(json_array_get(ta, k)));
			const json_t *v = json_object_get(t, "version");
			char ver[24] = "-";
			if (json_is_integer(v))
				snprintf(ver, sizeof(ver), "%lld", (long long)json_integer_value(v));
			const char *nm = json_string_value(json_object_get(t, "name"));
			printf("%-32s %7s  %-19s  %s\n", nm ? nm : "?", ver, when, tags.len ? tags.s : "-");
			fo_buf_release(&tags);
		}
		json_decref(j);
	}
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	fo_client_release(&cl);
	return rc;
}

static int show(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	const struct fo_cli_opt opts[] = {FO_CLI_COMMON_OPTS(c)};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("test", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 1, &npos))
		return FO_EXIT_USAGE;
	if (npos != 1)
		return fo_cli_usage_error("test", "test show needs a test name");
	struct fo_client cl;
	if (fo_cli_client(&cl, "test", c.server, c.token))
		return FO_EXIT_USAGE;
	struct fo_buf path = FO_BUF_INIT;
	fo_cli_test_path(&path, c.owner, pos[0], "/api");
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = FO_EXIT_OK;
	if (fo_client_json(&cl, "GET", path.s, NULL, &resp, &err)) {
		rc = fo_cli_unreachable(&err);
	} else if (resp.status != 200) {
		rc = fo_cli_refused(&resp, "cannot show '%s'", pos[0]);
	} else {
		json_t *j = fo_cli_json(&resp);
		const char *def = json_string_value(json_object_get(j, "definition"));
		if (!def) {
			fprintf(stderr, "fallout: the server's answer holds no definition for '%s'\n", pos[0]);
			rc = FO_EXIT_FAILED;
		} else {
			fputs(def, stdout);
			if (*def && def[strlen(def) - 1] != '\n')
				putchar('\n');
		}
		json_decref(j);
	}
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	fo_client_release(&cl);
	return rc;
}

static int rm(int argc, char **argv)
{
	struct fo_cli_common c = {0};
	bool forever = false;
	const struct fo_cli_opt opts[] = {FO_CLI_COMMON_OPTS(c), {"--forever", NULL, NULL, &forever}};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("test", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 1, &npos))
		return FO_EXIT_USAGE;
	if (npos != 1)
		return fo_cli_usage_error("test", "test rm needs a test name");
	struct fo_client cl;
	if (fo_cli_client(&cl, "test", c.server, c.token))
		return FO_EXIT_USAGE;
	struct fo_buf path = FO_BUF_INIT;
	fo_cli_test_path(&path, c.owner, pos[0], forever ? "/api?deleteforever=true" : "/api");
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	struct fo_err err = {0};
	int rc = FO_EXIT_OK;
	if (fo_client_json(&cl, "DELETE", path.s, NULL, &resp, &err)) {
		rc = fo_cli_unreachable(&err);
	} else if (resp.status / 100 != 2) {
		rc = fo_cli_refused(&resp, "cannot delete '%s'", pos[0]);
	} else if (forever) {
		printf("deleted %s for ever, with its runs\n", pos[0]);
	} else {
		printf("deleted %s (it can be restored)\n", pos[0]);
	}
	fo_client_resp_release(&resp);
	fo_buf_release(&path);
	fo_client_release(&cl);
	return rc;
}

static const struct fo_subcommand subs[] = {
	{"push", push}, {"list", list}, {"ls", list}, {"show", show}, {"rm", rm}, {"delete", rm},
};

int fo_cmd_test(int argc, char **argv)
{
	return fo_cli_subcommand("test", subs, FO_ARRAY_LEN(subs), "push, list, show or rm", argc, argv);
}
