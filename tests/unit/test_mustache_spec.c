/*
 * test_mustache_spec.c: runs the official Mustache specification tests
 * (tests/data/mustache-spec/, see its README) against our engine, with HTML escaping on as
 * the spec expects. One cmocka test per spec file; a failing file lists every failing test
 * with its template, expected and actual output. Core modules must pass entirely; the
 * optional modules inheritance and dynamic names are run too. Lambdas are not supported,
 * so ~lambdas is not run. Ends with one summary line of the counts.
 *
 * The data folder is $FO_TEST_DATA/mustache-spec, else tests/data/mustache-spec (tests run
 * from the repository root).
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "spec/mustache.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

struct spec_file {
	const char *name;   /* file name without .json */
	bool core;
	size_t min_pass;    /* optional modules: fewer passing is a regression; 0: all must pass */
	size_t total, passed; /* measured */
};

static struct spec_file files[] = {
	{"comments", true, 0, 0, 0},
	{"delimiters", true, 0, 0, 0},
	{"interpolation", true, 0, 0, 0},
	{"inverted", true, 0, 0, 0},
	{"partials", true, 0, 0, 0},
	{"sections", true, 0, 0, 0},
	{"~inheritance", false, 0, 0, 0},
	{"~dynamic-names", false, 0, 0, 0},
};

static int partial_from_map(void *ctx, const char *name, const char **text, size_t *len, const char **file)
{
	const struct fo_ynode *v = fo_ymap_get(ctx, name);
	if (!v || v->kind != FO_YSCALAR)
		return FO_ENOTFOUND;
	*text = v->str;
	*len = v->len;
	*file = name;
	return 0;
}

static void data_path(const char *file, struct fo_buf *path)
{
	const char *dir = getenv("FO_TEST_DATA");
	fo_buf_addf(path, "%s/mustache-spec/%s.json", dir && *dir ? dir : "tests/data", file);
}

/* Runs one test; returns true if it passed, else describes the failure in report. */
static bool run_one(const struct fo_ynode *t, struct fo_buf *report)
{
	const struct fo_ynode *name = fo_ymap_get(t, "name");
	const struct fo_ynode *tmpl = fo_ymap_get(t, "template");
	const struct fo_ynode *want = fo_ymap_get(t, "expected");
	const struct fo_ynode *data = fo_ymap_get(t, "data");
	const struct fo_ynode *partials = fo_ymap_get(t, "partials");
	assert_non_null(name);
	assert_non_null(tmpl);
	assert_non_null(want);
	struct fo_mustache_opts o = {
		.escape_html = true, .partial = partials ? partial_from_map : NULL,
		.partial_ctx = (void *)partials, .file = "template",
	};
	struct fo_buf out = FO_BUF_INIT;
	struct fo_err err = {0};
	struct fo_mustache_missing miss = {0};
	const struct fo_ynode *scopes[] = {data};
	int rc = fo_mustache_render(tmpl->str, tmpl->len, scopes, data ? 1 : 0, &o, &out, &miss, &err);
	bool ok = rc == 0 && out.len == want->len && memcmp(out.s, want->str, out.len) == 0;
	if (!ok) {
		fo_buf_addf(report, "  FAIL '%s'\n    template: ", name->str);
		fo_buf_add_json_str(report, tmpl->str, tmpl->len);
		fo_buf_adds(report, "\n    expected: ");
		fo_buf_add_json_str(report, want->str, want->len);
		if (rc) {
			char msg[1400];
			fo_err_format(&err, msg, sizeof(msg));
			fo_buf_addf(report, "\n    error:    %s (%s)\n", msg, fo_err_name(rc));
		} else {
			fo_buf_adds(report, "\n    actual:   ");
			fo_buf_add_json_str(report, out.s, out.len);
			fo_buf_addch(report, '\n');
		}
	}
	fo_mustache_missing_release(&miss);
	fo_buf_release(&out);
	return ok;
}

static void run_file(void **state)
{
	struct spec_file *sf = *state;
	struct fo_buf path = FO_BUF_INIT, text = FO_BUF_INIT, report = FO_BUF_INIT;
	struct fo_err err = {0};
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_arena *a = fo_arena_new();
	data_path(sf->name, &path);
	if (fo_buf_read_file(&text, path.s, 0, &err)) {
		fprintf(stderr, "cannot read %s: %s\n", path.s, err.msg);
		fail();
	}
	struct fo_yaml_opts yo = {.file = path.s};
	struct fo_ynode *root = NULL;
	if (fo_yaml_load(a, text.s, text.len, &yo, &root, &d)) {
		fo_diags_print(&d, stderr);
		fail();
	}
	const struct fo_ynode *tests = fo_ymap_get(root, "tests");
	assert_non_null(tests);
	assert_int_equal(tests->kind, FO_YSEQ);
	sf->total = tests->nitems;
	sf->passed = 0;
	for (size_t i = 0; i < tests->nitems; i++)
		sf->passed += run_one(tests->items[i], &report);
	if (report.len)
		fprintf(stderr, "%s: %zu of %zu failed\n%s", sf->name, sf->total - sf->passed, sf->total, report.s);
	size_t need = sf->min_pass ? sf->min_pass : sf->total;
	fo_buf_release(&report);
	fo_buf_release(&text);
	fo_buf_release(&path);
	fo_diags_release(&d);
	fo_arena_free(a);
	assert_true(sf->passed >= need);
}

int main(void)
{
	struct CMUnitTest tests[FO_ARRAY_LEN(files)];
	for (size_t i = 0; i < FO_ARRAY_LEN(files); i++)
		tests[i] = (struct CMUnitTest){files[i].name, run_file, NULL, NULL, &files[i]};
	int failed = _cmocka_run_group_tests("mustache_spec", tests, FO_ARRAY_LEN(files), NULL, NULL);
	size_t ct = 0, cp = 0;
	for (size_t i = 0; i < FO_ARRAY_LEN(files); i++)
		if (files[i].core)
			ct += files[i].total, cp += files[i].passed;
	printf("summary: mustache spec: core %zu/%zu", cp, ct);
	for (size_t i = 0; i < FO_ARRAY_LEN(files); i++)
		if (!files[i].core)
			printf(", %s %zu/%zu", files[i].name, files[i].passed, files[i].total);
	printf(", ~lambdas not run (no lambda support)\n");
	return failed;
}
