/*
 * test_mustache.c: our Mustache engine as test definitions use it: no escaping unless
 * asked, scalars rendered as written, missing names and partials collected (not failed),
 * scopes where later ones win, syntax errors at the exact line:col, the source map from
 * rendered text back to template and partial files, and the depth and size limits.
 * The spec's own tests run in test_mustache_spec.c.
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

struct fx {
	struct fo_arena *a;
	struct fo_diags d;
	struct fo_buf out;
	struct fo_err err;
	struct fo_mustache_missing miss;
	struct fo_srcmap map;
	struct fo_mustache_opts o;
};

/* Partials for the tests: name, text; "fail" makes the callback fail with FO_EIO. */
static const char *const partial_table[][2] = {
	{"p", "p1: 1\np2: 2\n"},
	{"greet", "hello {{name}}"},
	{"r", "{{>r}}"},
	{"indent", "b:\n  c: 1\n   d: 2\n"},
	{"alias", "- 1\n- *nope\n"},
	{"bad", "ok\n  {{#s}}\n"},
	{"inner", "{{$b}}default{{/b}}"},
};

static int partial_fn(void *ctx, const char *name, const char **text, size_t *len, const char **file)
{
	int *calls = ctx;
	if (calls)
		(*calls)++;
	if (strcmp(name, "fail") == 0)
		return FO_EIO;
	for (size_t i = 0; i < FO_ARRAY_LEN(partial_table); i++) {
		if (strcmp(partial_table[i][0], name) == 0) {
			*text = partial_table[i][1];
			*len = strlen(*text);
			*file = strcmp(name, "greet") == 0 ? NULL : "p.yaml";
			return 0;
		}
	}
	return FO_ENOTFOUND;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->a = fo_arena_new();
	fo_buf_init(&f->out, 0);
	fo_srcmap_init(&f->map);
	f->o = (struct fo_mustache_opts){.partial = partial_fn, .file = "t.yaml"};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fo_diags_release(&f->d);
	fo_arena_free(f->a);
	fo_buf_release(&f->out);
	fo_mustache_missing_release(&f->miss);
	fo_srcmap_release(&f->map);
	free(f);
	return 0;
}

static struct fo_ynode *data(struct fx *f, const char *yaml)
{
	struct fo_yaml_opts yo = {.file = "data.yaml"};
	struct fo_ynode *n = NULL;
	if (fo_yaml_load(f->a, yaml, strlen(yaml), &yo, &n, &f->d))
		fo_diags_print(&f->d, stderr);
	assert_non_null(n);
	return n;
}

/* Renders tmpl with one scope (yaml text, may be NULL) and returns the output. */
static const char *render(struct fx *f, const char *tmpl, const char *yaml, int expect_rc)
{
	const struct fo_ynode *scopes[] = {yaml ? data(f, yaml) : NULL};
	fo_buf_clear(&f->out);
	fo_err_clear(&f->err);
	int rc = fo_mustache_render(tmpl, strlen(tmpl), scopes, 1, &f->o, &f->out, &f->miss, &f->err);
	if (rc != expect_rc)
		fprintf(stderr, "rc %s: %s\n", fo_err_name(rc), f->err.msg);
	assert_int_equal(rc, expect_rc);
	return f->out.s;
}

static void no_escaping_unless_asked(void **state)
{
	struct fx *f = *state;
	const char *yaml = "x: 'a<b & \"c\">'\n";
	assert_string_equal(render(f, "{{x}}|{{{x}}}|{{&x}}", yaml, 0), "a<b & \"c\">|a<b & \"c\">|a<b & \"c\">");
	f->o.escape_html = true;
	assert_string_equal(render(f, "{{x}}|{{{x}}}", yaml, 0), "a&lt;b &amp; &quot;c&quot;&gt;|a<b & \"c\">");
}

static void scalars_render_as_written(void **state)
{
	struct fx *f = *state;
	const char *yaml = "hex: 0x1F\nf: 1.50\nn: ~\nb: True\nm: {a: 1, b: [x, 2]}\nl: [1, 'two']\n";
	assert_string_equal(render(f, "{{hex}} {{f}} [{{n}}] {{b}}", yaml, 0), "0x1F 1.50 [] True");
	assert_string_equal(render(f, "{{m}} {{l}}", yaml, 0), "{\"a\":1,\"b\":[\"x\",2]} [1,\"two\"]");
	assert_int_equal(f->miss.n, 0);
}

static void truthiness(void **state)
{
	struct fx *f = *state;
	const char *yaml = "e: ''\nz: 0\nm: {}\nl: []\nn: null\nno: false\ns: x\n";
	assert_string_equal(render(f, "{{#e}}e{{/e}}{{#z}}z{{/z}}{{#m}}m{{/m}}{{#l}}l{{/l}}{{#n}}n{{/n}}{{#no}}no{{/no}}"
				      "{{#s}}s={{.}}{{/s}}",
				   yaml, 0),
			    "zms=x");
	assert_string_equal(render(f, "{{^e}}e{{/e}}{{^z}}z{{/z}}{{^l}}l{{/l}}{{^n}}n{{/n}}{{^no}}no{{/no}}", yaml, 0),
			    "elnno");
}

static void sections_lists_and_outer_names(void **state)
{
	struct fx *f = *state;
	const char *yaml = "suffix: '!'\nitems:\n  - name: a\n  - name: b\n    suffix: '?'\n  - c\n";
	assert_string_equal(render(f, "{{#items}}{{name}}{{suffix}};{{/items}}", yaml, 0), "a!;b?;!;");
	assert_int_equal(f->miss.n, 1); /* the item 'c' has no name, nor has the root */
	assert_string_equal(f->miss.names[0], "name");
}

static void later_scopes_win(void **state)
{
	struct fx *f = *state;
	const struct fo_ynode *scopes[] = {data(f, "a: default\nb: kept\n"), NULL, data(f, "a: param\n")};
	int rc = fo_mustache_render("{{a}} {{b}}", 11, scopes, 3, &f->o, &f->out, &f->miss, &f->err);
	assert_int_equal(rc, 0);
	assert_string_equal(f->out.s, "param kept");
}

static void missing_names_are_collected(void **state)
{
	struct fx *f = *state;
	const char *yaml = "d: {}\ngiven: null\nlist: [1, 2]\n";
	const char *out = render(f, "{{a}}[{{#b}}x{{/b}}][{{^c}}y{{/c}}][{{d.e}}][{{a}}][{{given}}]{{#list}}{{f}}{{/list}}",
				 yaml, 0);
	assert_string_equal(out, "[][y][][][]");
	assert_int_equal(f->miss.n, 5);
	assert_string_equal(f->miss.names[0], "a");
	assert_string_equal(f->miss.names[1], "b");
	assert_string_equal(f->miss.names[2], "c");
	assert_string_equal(f->miss.names[3], "d.e");
	assert_string_equal(f->miss.names[4], "f");
	assert_int_equal(f->miss.npartials, 0);
}

static void partials_and_missing_partials(void **state)
{
	struct fx *f = *state;
	int calls = 0;
	f->o.partial_ctx = &calls;
	const char *out = render(f, "{{>greet}}, {{>nope}}{{>nope}}{{#l}}{{>greet}};{{/l}}{{>*which}}",
				 "name: you\nl: [{name: a}, {name: b}]\nwhich: greet\n", 0);
	assert_string_equal(out, "hello you, hello a;hello b;hello you");
	assert_int_equal(calls, 2); /* loaded once each per render */
	assert_int_equal(f->miss.npartials, 1);
	assert_string_equal(f->miss.partials[0], "nope");
	assert_int_equal(f->miss.n, 0);

	render(f, "x\n {{>fail}}", NULL, FO_EIO);
	assert_string_equal(f->err.msg, "cannot load partial 'fail': input/output error");
	assert_int_equal(f->err.pos.line, 2);
	assert_int_equal(f->err.pos.col, 2);
	assert_int_equal(f->out.len, 0);

	f->o.partial = NULL;
	assert_string_equal(render(f, "[{{>greet}}]", NULL, 0), "[]");
}

static void standalone_partials_are_indented(void **state)
{
	struct fx *f = *state;
	assert_string_equal(render(f, "top:\n  {{>p}}\nend: 1\n", NULL, 0), "top:\n  p1: 1\n  p2: 2\nend: 1\n");
}

static void inheritance_reindents_blocks(void **state)
{
	struct fx *f = *state;
	assert_string_equal(render(f, "{{<inner}}{{$b}}\n        over\n        ride\n{{/b}}{{/inner}}", NULL, 0),
			    "over\nride\n");
	assert_string_equal(render(f, "x:\n  {{<inner}}{{/inner}}\n", NULL, 0), "x:\n  default");
}

/* Expects a syntax error with message msg at file:line:col. */
static void syntax(struct fx *f, const char *tmpl, const char *file, int line, int col, const char *msg)
{
	render(f, tmpl, "a: 1\n", FO_ETEMPLATE);
	assert_string_equal(f->err.msg, msg);
	assert_string_equal(f->err.pos.file, file);
	assert_int_equal(f->err.pos.line, line);
	assert_int_equal(f->err.pos.col, col);
	assert_int_equal(f->out.len, 0);
}

static void syntax_errors_point_at_the_tag(void **state)
{
	struct fx *f = *state;
	syntax(f, "line: 1\n  x: {{x", "t.yaml", 2, 6, "unterminated tag '{{x'");
	syntax(f, "a: {{{x}}\n", "t.yaml", 1, 4, "unterminated tag '{{{x}}'");
	syntax(f, "a\n{{#a}}\nb\n", "t.yaml", 2, 1, "unclosed section 'a'");
	syntax(f, "{{^a}}{{#b}}{{/b}}", "t.yaml", 1, 1, "unclosed inverted section 'a'");
	syntax(f, "{{#a}}\n  {{/b}}\n", "t.yaml", 2, 3, "closing tag 'b' does not match open section 'a' (line 1)");
	syntax(f, "x {{/a}}", "t.yaml", 1, 3, "closing tag 'a' without an open section");
	syntax(f, "\n\t{{=<% =}}", "t.yaml", 2, 2,
	       "bad delimiter change '{{=<% =}}': expected two delimiters without spaces or '='");
	syntax(f, "é: {{ }}", "t.yaml", 1, 4, "empty tag '{{ }}'");
	syntax(f, "{{=<% %>=}}\n<%#a%>", "t.yaml", 2, 1, "unclosed section 'a'");
	syntax(f, "{{>bad}}", "p.yaml", 2, 3, "unclosed section 's'");
	f->o.line = 10;
	syntax(f, "\n {{#a}}", "t.yaml", 11, 2, "unclosed section 'a'");
}

/* Maps out line:col through the map and checks file:line:col. */
static void maps_to(struct fx *f, int line, int col, const char *file, int fline, int fcol)
{
	struct fo_pos pos;
	fo_srcmap_pos(&f->map, f->out.s, f->out.len, line, col, &pos);
	if (!pos.file || strcmp(pos.file, file) || pos.line != fline || pos.col != fcol)
		fprintf(stderr, "out %d:%d -> %s:%d:%d, want %s:%d:%d\n", line, col, pos.file ? pos.file : "(null)",
			pos.line, pos.col, file, fline, fcol);
	assert_non_null(pos.file);
	assert_string_equal(pos.file, file);
	assert_int_equal(pos.line, fline);
	assert_int_equal(pos.col, fcol);
}

static void source_map_follows_values_and_partials(void **state)
{
	struct fx *f = *state;
	f->o.map = &f->map;
	const char *out = render(f, "é: {{v}} z\nb: x\n{{>p}}\nlist:\n  {{>p}}\nc: y\n", "v: \"l1\\nl2\"\n", 0);
	assert_string_equal(out, "é: l1\nl2 z\nb: x\np1: 1\np2: 2\nlist:\n  p1: 1\n  p2: 2\nc: y\n");
	maps_to(f, 1, 1, "t.yaml", 1, 1);
	maps_to(f, 1, 3, "t.yaml", 1, 3);  /* columns count characters, not bytes */
	maps_to(f, 1, 4, "t.yaml", 1, 4);  /* the value maps to its tag */
	maps_to(f, 2, 1, "t.yaml", 1, 4);
	maps_to(f, 2, 3, "t.yaml", 1, 9);  /* the text after the tag */
	maps_to(f, 2, 4, "t.yaml", 1, 10);
	maps_to(f, 3, 4, "t.yaml", 2, 4);
	maps_to(f, 4, 1, "p.yaml", 1, 1);  /* a partial maps into its own file */
	maps_to(f, 5, 5, "p.yaml", 2, 5);
	maps_to(f, 6, 1, "t.yaml", 4, 1);
	maps_to(f, 7, 1, "p.yaml", 1, 1);  /* indentation maps to the partial's line start */
	maps_to(f, 7, 3, "p.yaml", 1, 1);
	maps_to(f, 8, 5, "p.yaml", 2, 3);
	maps_to(f, 9, 1, "t.yaml", 6, 1);
	assert_true(f->map.nsegs < 20);
}

static void source_map_feeds_the_yaml_loader(void **state)
{
	struct fx *f = *state;
	f->o.map = &f->map;
	f->o.line = 3; /* the definition starts on line 3 of t.yaml */
	static const char *const cases[][2] = {{"a: 1\n{{>indent}}", "3:5"}, {"a: 1\nl:\n  {{>alias}}", "2:3"}};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		render(f, cases[i][0], NULL, 0);
		struct fo_srcmap_text st = {&f->map, f->out.s, f->out.len};
		struct fo_yaml_opts yo = {.map = fo_srcmap_posmap, .map_ctx = &st};
		struct fo_ynode *n = NULL;
		fo_diags_release(&f->d);
		assert_int_equal(fo_yaml_load(f->a, f->out.s, f->out.len, &yo, &n, &f->d), FO_EPARSE);
		assert_int_equal(f->d.n, 1);
		char at[32];
		snprintf(at, sizeof(at), "%d:%d", f->d.v[0].line, f->d.v[0].col);
		assert_string_equal(f->d.v[0].file, "p.yaml");
		assert_string_equal(at, cases[i][1]);
		maps_to(f, 1, 1, "t.yaml", 3, 1);
	}
}

static void depth_is_limited(void **state)
{
	struct fx *f = *state;
	render(f, "x\n{{>r}}", NULL, FO_ETEMPLATE);
	assert_string_equal(f->err.msg, "partial 'r' nested deeper than 64 levels (recursive partials?)");
	assert_string_equal(f->err.pos.file, "p.yaml");

	struct fo_buf t = FO_BUF_INIT;
	for (int i = 0; i < 65; i++)
		fo_buf_addf(&t, "{{#a%d}}", i);
	int col = 1 + (int)(strstr(t.s, "{{#a64}}") - t.s);
	render(f, t.s, NULL, FO_ETEMPLATE);
	fo_buf_release(&t);
	assert_string_equal(f->err.msg, "sections nested deeper than 64 levels");
	assert_int_equal(f->err.pos.col, col);

	f->o.max_depth = 2;
	assert_string_equal(render(f, "{{#a}}{{#a}}{{.}}{{/a}}{{/a}}", "a: [1]\n", 0), "1");
	render(f, "{{#a}}{{#a}}{{#a}}{{.}}{{/a}}{{/a}}{{/a}}", "a: [1]\n", FO_ETEMPLATE);
	assert_string_equal(f->err.msg, "sections nested deeper than 2 levels");
}

static void size_cap_is_enforced(void **state)
{
	struct fx *f = *state;
	fo_buf_init(&f->out, 16);
	fo_buf_adds(&f->out, "keep");
	const struct fo_ynode *scopes[] = {data(f, "l: [1, 2, 3, 4, 5, 6, 7, 8]\n")};
	int rc = fo_mustache_render("{{#l}}{{.}}, {{/l}}", 19, scopes, 1, &f->o, &f->out, NULL, &f->err);
	assert_int_equal(rc, FO_ETOOBIG);
	assert_string_equal(f->err.msg, "rendered template is larger than 16 bytes");
	assert_string_equal(f->out.s, "keep");

	/* Nested sections that print nothing still end: 8^40 iterations are cut short. */
	f->o.max_steps = 100000;
	struct fo_buf t = FO_BUF_INIT;
	for (int i = 0; i < 40; i++)
		fo_buf_adds(&t, "{{#l}}");
	for (int i = 0; i < 40; i++)
		fo_buf_adds(&t, "{{/l}}");
	fo_err_clear(&f->err);
	rc = fo_mustache_render(t.s, t.len, scopes, 1, &f->o, &f->out, NULL, &f->err);
	fo_buf_release(&t);
	assert_int_equal(rc, FO_ETOOBIG);
	assert_non_null(strstr(f->err.msg, "takes more than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_escaping_unless_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(scalars_render_as_written, setup, teardown),
		cmocka_unit_test_setup_teardown(truthiness, setup, teardown),
		cmocka_unit_test_setup_teardown(sections_lists_and_outer_names, setup, teardown),
		cmocka_unit_test_setup_teardown(later_scopes_win, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_names_are_collected, setup, teardown),
		cmocka_unit_test_setup_teardown(partials_and_missing_partials, setup, teardown),
		cmocka_unit_test_setup_teardown(standalone_partials_are_indented, setup, teardown),
		cmocka_unit_test_setup_teardown(inheritance_reindents_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(syntax_errors_point_at_the_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(source_map_follows_values_and_partials, setup, teardown),
		cmocka_unit_test_setup_teardown(source_map_feeds_the_yaml_loader, setup, teardown),
		cmocka_unit_test_setup_teardown(depth_is_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(size_cap_is_enforced, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
