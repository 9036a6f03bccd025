/*
 * test_props.c: property values are checked against their table: types, ranges, options,
 * patterns, defaults, required and deprecated names, unknown names with suggestions; and
 * durations parse as Fallout writes them.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "components/component.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/diag.h"

static void durations(void **state)
{
	(void)state;
	int64_t ns;
	assert_int_equal(fo_duration_parse("5ms", &ns), 0);
	assert_int_equal(ns, 5000000);
	assert_int_equal(fo_duration_parse("   5 milliseconds", &ns), 0);
	assert_int_equal(ns, 5000000);
	assert_int_equal(fo_duration_parse("2s", &ns), 0);
	assert_int_equal(ns, 2000000000LL);
	assert_int_equal(fo_duration_parse("1.5h", &ns), 0);
	assert_int_equal(ns, 5400000000000LL);
	assert_int_equal(fo_duration_parse("3 Minutes", &ns), 0);
	assert_int_equal(ns, 180000000000LL);
	assert_int_equal(fo_duration_parse("1d", &ns), 0);
	assert_int_equal(ns, 86400000000000LL);
	assert_int_equal(fo_duration_parse("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(fo_duration_parse("250us", &ns), 0);
	assert_int_equal(ns, 250000);
	assert_int_equal(fo_duration_parse("5", &ns), FO_EINVAL);
	assert_int_equal(fo_duration_parse("5 parsecs", &ns), FO_EINVAL);
	assert_int_equal(fo_duration_parse("s", &ns), FO_EINVAL);
	assert_int_equal(fo_duration_parse("-5s", &ns), FO_EINVAL);
	assert_int_equal(fo_duration_parse("5s x", &ns), FO_EINVAL);
	assert_int_equal(fo_duration_parse("", &ns), FO_EINVAL);
	assert_int_equal(fo_duration_parse("99999999999999d", &ns), FO_EINVAL);
	char buf[32];
	fo_duration_format(1500000000LL, buf, sizeof(buf));
	assert_string_equal(buf, "1500ms");
	fo_duration_format(7200000000000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2h");
	fo_duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

static const struct fo_prop test_props[] = {
	{.name = "count", .type = FO_PT_INT, .default_value = "3", FO_RANGE(1, 10)},
	{.name = "ratio", .type = FO_PT_DOUBLE, FO_RANGE(0, 1)},
	{.name = "mode", .type = FO_PT_ENUM, FO_OPTIONS("fast", "careful"), .default_value = "careful"},
	{.name = "flag", .type = FO_PT_BOOL},
	{.name = "wait", .type = FO_PT_DURATION, .required = true, .deprecated_name = "delay"},
	{.name = "code", .type = FO_PT_STRING, .pattern = "abc|def"},
	{.name = "names", .type = FO_PT_STRLIST},
	{.name = "expr", .type = FO_PT_REGEX},
	{.name = "group", .type = FO_PT_GROUP},
	{.name = "level", .type = FO_PT_RUNLEVEL},
	{0},
};

static const struct fo_component test_comp = {
	.name = "widget",
	.kind = FO_KIND_MODULE,
	.summary = "a test component",
	.props = test_props,
};

struct bound {
	struct fo_arena *a;
	struct fo_diags d;
	struct fo_propset ps;
	int rc;
};

static void bind(struct bound *b, const char *yaml)
{
	b->a = fo_arena_new();
	b->d = (struct fo_diags)FO_DIAGS_INIT;
	struct fo_yaml_opts o = {.file = "p.yaml"};
	struct fo_ynode *n;
	assert_int_equal(fo_yaml_load(b->a, yaml, strlen(yaml), &o, &n, &b->d), 0);
	const struct fo_ypair **pairs = calloc(n->npairs + 1, sizeof(*pairs));
	for (size_t i = 0; i < n->npairs; i++)
		pairs[i] = &n->pairs[i];
	static const char *const groups[] = {"server", "clients"};
	struct fo_props_ctx ctx = {.group_names = groups, .ngroups = 2};
	const struct fo_component *c = &test_comp;
	fo_props_report_unknown(&c, 1, pairs, n->npairs, "module 'widget'", &b->d);
	b->rc = fo_props_bind(b->a, c, "module 'widget'", pairs, n->npairs, &n->pos, &ctx, &b->ps, &b->d);
	free(pairs);
}

static void unbind(struct bound *b)
{
	fo_diags_release(&b->d);
	fo_arena_free(b->a);
}

static void good_values_and_defaults(void **state)
{
	(void)state;
	struct bound b;
	bind(&b, "ratio: 0.5\nmode: FAST\nflag: yes\nwait: 30s\ncode: def\nnames: a, b ,c\nexpr: (?!x)a+\n"
		 "group: Clients\nlevel: started_services_running\n");
	if (b.d.n)
		fo_diags_print(&b.d, stderr);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.d.n, 0);
	assert_int_equal(fo_props_int(&b.ps, "count", -1), 3); /* default */
	assert_true(fo_props_double(&b.ps, "ratio", 0) == 0.5);
	assert_string_equal(fo_props_str(&b.ps, "mode", ""), "fast"); /* canonical case */
	assert_true(fo_props_bool(&b.ps, "flag", false));
	assert_int_equal(fo_props_duration_ns(&b.ps, "wait", 0), 30000000000LL);
	const struct fo_propval *names = fo_props_get(&b.ps, "names");
	assert_int_equal(names->nlist, 3);
	assert_string_equal(names->list[1], "b");
	assert_string_equal(fo_props_str(&b.ps, "group", ""), "clients");
	assert_string_equal(fo_props_str(&b.ps, "level", ""), "STARTED_SERVICES_RUNNING");
	unbind(&b);
}

static void bad_values_are_all_reported(void **state)
{
	(void)state;
	struct bound b;
	bind(&b, "count: 11\nratio: lots\nmode: fsat\nflag: maybe\nwait: 5\ncode: xyz\nexpr: (\ngroup: severs\n"
		 "level: RUNNING\nnames: {a: 1}\n");
	assert_int_equal(b.rc, FO_EDEFINITION);
	assert_int_equal(b.d.errors, 10);
	assert_true(fo_diags_contains(&b.d, "property 'count' of module 'widget' is 11, outside the range 1 to 10"));
	assert_true(fo_diags_contains(&b.d, "property 'ratio' of module 'widget' must be a number, not 'lots'"));
	assert_true(fo_diags_contains(&b.d, "it must be one of: fast, careful (did you mean 'fast'?)"));
	assert_true(fo_diags_contains(&b.d, "must be true or false, not 'maybe'"));
	assert_true(fo_diags_contains(&b.d, "must be a duration such as"));
	assert_true(fo_diags_contains(&b.d, "does not match the pattern 'abc|def'"));
	assert_true(fo_diags_contains(&b.d, "invalid regular expression '('"));
	assert_true(fo_diags_contains(&b.d, "names node group 'severs', which does not exist (did you mean 'server'?)"));
	assert_true(fo_diags_contains(&b.d, "'RUNNING' is not a runlevel"));
	assert_true(fo_diags_contains(&b.d, "must be a list of strings"));
	/* Each error points at its value. */
	assert_string_equal(b.d.v[0].file, "p.yaml");
	assert_int_equal(b.d.v[0].line, 1);
	assert_int_equal(b.d.v[0].col, 8);
	unbind(&b);
}

static void required_deprecated_and_unknown(void **state)
{
	(void)state;
	struct bound b;
	bind(&b, "delay: 1s\ncuont: 2\n");
	assert_int_equal(b.d.errors, 1);
	assert_int_equal(b.d.warnings, 1);
	assert_true(fo_diags_contains(&b.d, "unknown property 'cuont' of module 'widget' (did you mean 'count'?)"));
	assert_true(fo_diags_contains(&b.d, "property 'delay' of module 'widget' is deprecated; use 'wait'"));
	assert_int_equal(fo_props_duration_ns(&b.ps, "wait", 0), 1000000000LL);
	unbind(&b);

	bind(&b, "count: 2\n");
	assert_int_equal(b.d.errors, 1);
	assert_true(fo_diags_contains(&b.d, "module 'widget' requires property 'wait'"));
	unbind(&b);
}

static void defaults_are_checked(void **state)
{
	(void)state;
	struct fo_err err = {0};
	struct fo_prop bad = {.name = "x", .type = FO_PT_INT, .default_value = "ten"};
	assert_int_equal(fo_props_check_default(&bad, &err), FO_EINVAL);
	assert_non_null(strstr(err.msg, "must be a whole number"));
	struct fo_prop good = {.name = "x", .type = FO_PT_DURATION, .default_value = "1m"};
	assert_int_equal(fo_props_check_default(&good, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(good_values_and_defaults),
		cmocka_unit_test(bad_values_are_all_reported),
		cmocka_unit_test(required_deprecated_and_unknown),
		cmocka_unit_test(defaults_are_checked),
	};
	return cmocka_run_group_tests_name("props", tests, NULL, NULL);
}
