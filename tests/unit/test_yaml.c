/*
 * test_yaml.c: the YAML loader keeps positions, types scalars, refuses duplicate keys,
 * handles anchors, aliases and merge keys, and refuses hostile input with clear errors.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"

struct fx {
	struct fo_arena *a;
	struct fo_diags d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->a = fo_arena_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fo_diags_release(&f->d);
	fo_arena_free(f->a);
	free(f);
	return 0;
}

static struct fo_ynode *load(struct fx *f, const char *text, int expect_rc)
{
	struct fo_yaml_opts o = {.file = "t.yaml"};
	struct fo_ynode *n = NULL;
	int rc = fo_yaml_load(f->a, text, strlen(text), &o, &n, &f->d);
	if (rc != expect_rc)
		fo_diags_print(&f->d, stderr);
	assert_int_equal(rc, expect_rc);
	return n;
}

static void positions_are_kept(void **state)
{
	struct fx *f = *state;
	struct fo_ynode *n = load(f, "a: 1\nb:\n  - x\n  -   y\n", 0);
	assert_int_equal(n->kind, FO_YMAP);
	struct fo_ynode *b = fo_ymap_get(n, "b");
	assert_non_null(b);
	assert_int_equal(b->kind, FO_YSEQ);
	assert_int_equal(b->pos.line, 3);
	assert_int_equal(b->items[1]->pos.line, 4);
	assert_int_equal(b->items[1]->pos.col, 7);
	assert_string_equal(b->items[1]->pos.file, "t.yaml");
	assert_int_equal(n->pairs[1].key->pos.col, 1);
}

static void scalars_are_typed(void **state)
{
	struct fx *f = *state;
	struct fo_ynode *n = load(f, "i: 42\nh: 0x1F\nf: 1.5\nb: TRUE\nn: ~\ne:\ns: '42'\nw: hello world\ninf: -.inf\n", 0);
	assert_int_equal(fo_ymap_get(n, "i")->stype, FO_YS_INT);
	assert_int_equal(fo_ymap_get(n, "i")->i, 42);
	assert_int_equal(fo_ymap_get(n, "h")->i, 31);
	assert_int_equal(fo_ymap_get(n, "f")->stype, FO_YS_FLOAT);
	assert_true(fo_ymap_get(n, "b")->b);
	assert_true(fo_ynode_is_null(fo_ymap_get(n, "n")));
	assert_true(fo_ynode_is_null(fo_ymap_get(n, "e")));
	assert_int_equal(fo_ymap_get(n, "s")->stype, FO_YS_STR);
	assert_string_equal(fo_ymap_get(n, "w")->str, "hello world");
	assert_int_equal(fo_ymap_get(n, "inf")->stype, FO_YS_FLOAT);
}

static void duplicate_keys_are_refused(void **state)
{
	struct fx *f = *state;
	load(f, "a: 1\nb: 2\na: 3\n", FO_EPARSE);
	assert_int_equal(f->d.errors, 1);
	assert_int_equal(f->d.v[0].line, 3);
	assert_true(fo_diags_contains(&f->d, "duplicate key 'a' (first defined at line 1)"));
}

static void aliases_and_merge_keys(void **state)
{
	struct fx *f = *state;
	struct fo_ynode *n = load(f, "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nref: *b\n", 0);
	struct fo_ynode *use = fo_ymap_get(n, "use");
	assert_int_equal(use->npairs, 2);
	assert_string_equal(fo_ymap_get(use, "y")->str, "3");
	assert_string_equal(fo_ymap_get(use, "x")->str, "1");
	assert_ptr_equal(fo_ymap_get(n, "ref"), fo_ymap_get(n, "base"));
}

static void billion_laughs_is_refused(void **state)
{
	struct fx *f = *state;
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 12; i++)
		fo_buf_addf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1,
			    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	load(f, b.s, FO_EPARSE);
	assert_true(fo_diags_contains(&f->d, "document too large"));
	fo_buf_release(&b);
}

static void deep_nesting_is_refused(void **state)
{
	struct fx *f = *state;
	struct fo_buf b = FO_BUF_INIT;
	for (int i = 0; i < 100000; i++)
		fo_buf_addch(&b, '[');
	load(f, b.s, FO_EPARSE);
	assert_true(fo_diags_contains(&f->d, "nesting too deep"));
	fo_buf_release(&b);
}

static void tabs_get_a_hint(void **state)
{
	struct fx *f = *state;
	load(f, "a:\n\tb: 1\n", FO_EPARSE);
	assert_true(fo_diags_contains(&f->d, "tab character"));
	assert_int_equal(f->d.v[0].line, 2);
}

static void binary_is_refused(void **state)
{
	struct fx *f = *state;
	const char bin[] = "a: \x01\x02\xff\xfe garbage";
	struct fo_yaml_opts o = {.file = "t.yaml"};
	struct fo_ynode *n;
	assert_int_equal(fo_yaml_load(f->a, bin, sizeof(bin) - 1, &o, &n, &f->d), FO_EPARSE);
	assert_int_equal(f->d.errors, 1);
}

static void two_documents_are_refused(void **state)
{
	struct fx *f = *state;
	load(f, "a: 1\n---\nb: 2\n", FO_EPARSE);
	assert_true(fo_diags_contains(&f->d, "more than one YAML document"));
}

static void empty_text_is_null(void **state)
{
	struct fx *f = *state;
	struct fo_ynode *n = load(f, "# only a comment\n", 0);
	assert_true(fo_ynode_is_null(n));
}

static void unclosed_flow_is_an_error_with_place(void **state)
{
	struct fx *f = *state;
	load(f, "a: [1, 2\nb: 3\n", FO_EPARSE);
	assert_int_equal(f->d.errors, 1);
	assert_true(f->d.v[0].line >= 1);
	assert_true(fo_diags_contains(&f->d, "invalid YAML"));
}

static void emit_round_trips(void **state)
{
	struct fx *f = *state;
	const char *text = "a: 1\nb:\n  - x\n  - k: v\n    k2: 'true'\n  - []\nc: \"two\\nlines\"\nd: {}\ne: ''\n";
	struct fo_ynode *n = load(f, text, 0);
	struct fo_buf out = FO_BUF_INIT;
	assert_int_equal(fo_yaml_emit(n, 0, &out), 0);
	struct fo_ynode *m = load(f, out.s, 0);
	struct fo_buf j1 = FO_BUF_INIT, j2 = FO_BUF_INIT;
	fo_yaml_emit_json(n, &j1);
	fo_yaml_emit_json(m, &j2);
	assert_string_equal(j1.s, j2.s);
	assert_string_equal(j1.s, "{\"a\":1,\"b\":[\"x\",{\"k\":\"v\",\"k2\":\"true\"},[]],\"c\":\"two\\nlines\",\"d\":{},\"e\":\"\"}");
	fo_buf_release(&out);
	fo_buf_release(&j1);
	fo_buf_release(&j2);
}

static void scalar_from_text(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fo_yaml_scalar(f->a, "3", NULL)->stype, FO_YS_INT);
	assert_int_equal(fo_yaml_scalar(f->a, "true", NULL)->stype, FO_YS_BOOL);
	assert_int_equal(fo_yaml_scalar(f->a, "", NULL)->stype, FO_YS_NULL);
	assert_int_equal(fo_yaml_scalar(f->a, "3.10", NULL)->stype, FO_YS_FLOAT);
	assert_string_equal(fo_yaml_scalar(f->a, "3.10", NULL)->str, "3.10");
	assert_int_equal(fo_yaml_scalar(f->a, "abc", NULL)->stype, FO_YS_STR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(positions_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(scalars_are_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_keys_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(aliases_and_merge_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(billion_laughs_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(deep_nesting_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(tabs_get_a_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(binary_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(two_documents_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_text_is_null, setup, teardown),
		cmocka_unit_test_setup_teardown(unclosed_flow_is_an_error_with_place, setup, teardown),
		cmocka_unit_test_setup_teardown(emit_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(scalar_from_text, setup, teardown),
	};
	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
