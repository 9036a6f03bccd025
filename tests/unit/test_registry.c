/*
 * test_registry.c: unit tests of the component registry and of every component's
 * descriptor: lookup ignores case, kinds parse in every spelling, typos get suggestions,
 * and each property table is well formed (unique names, options for enums, sane ranges,
 * defaults that pass their own checks, no default on a required property). The fixture
 * set stays out of the registry until a test build adds it.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "components/component.h"
#include "components/registry.h"
#include "../fixtures/fixtures.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/regex.h"

static size_t default_count; /* components before the fixture set is added */

static size_t n_props(const struct fo_component *c)
{
	size_t n = 0;
	while (c->props && c->props[n].name)
		n++;
	return n;
}

static size_t n_fixtures(void)
{
	size_t n = 0;
	while (fo_fixture_components[n])
		n++;
	return n;
}

/* Runs first: nothing has added the fixture set yet. */
static void fixtures_absent_until_added(void **state)
{
	FO_UNUSED(state);
	default_count = fo_registry_count();
	assert_true(default_count > 0);
	assert_null(fo_registry_at(default_count));
	assert_null(fo_registry_find(FO_KIND_MODULE, "noemit"));
	assert_null(fo_registry_find(FO_KIND_MODULE, "multithreaded"));
	assert_null(fo_registry_find(FO_KIND_CONFIG_MANAGER, "Test Configuration Manager"));
	assert_null(fo_registry_find(FO_KIND_CHECKER, "count"));
	assert_null(fo_registry_find(FO_KIND_CHECKER, "regex"));
	for (size_t i = 0; i < default_count; i++)
		assert_false(fo_registry_at(i)->fixture);
}

static void default_set_has_the_shipped_helpers(void **state)
{
	FO_UNUSED(state);
	assert_non_null(fo_registry_find(FO_KIND_PROVISIONER, "fake"));
	assert_non_null(fo_registry_find(FO_KIND_CONFIG_MANAGER, "fake"));
	assert_non_null(fo_registry_find(FO_KIND_MODULE, "fake"));
	assert_non_null(fo_registry_find(FO_KIND_MODULE, "text"));
	assert_non_null(fo_registry_find(FO_KIND_MODULE, "fail"));
	/* Components Fallout's tests name, runnable or not. */
	assert_non_null(fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "hdrtool"));
	assert_non_null(fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "systemlog"));
	assert_null(fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "hdrtool")->available);
	assert_null(fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "systemlog")->available);
	assert_null(fo_registry_find(FO_KIND_MODULE, "sleep")->available);
}

static void lookup_ignores_case(void **state)
{
	FO_UNUSED(state);
	const struct fo_component *local = fo_registry_find(FO_KIND_PROVISIONER, "local");
	assert_non_null(local);
	assert_string_equal(local->name, "local");
	assert_ptr_equal(fo_registry_find(FO_KIND_PROVISIONER, "Local"), local);
	assert_ptr_equal(fo_registry_find(FO_KIND_PROVISIONER, "LOCAL"), local);
	assert_int_equal(local->kind, FO_KIND_PROVISIONER);
}

static void lookup_is_by_kind(void **state)
{
	FO_UNUSED(state);
	/* runlevel is both a module and a checker; local is only a provisioner. */
	const struct fo_component *m = fo_registry_find(FO_KIND_MODULE, "runlevel");
	const struct fo_component *c = fo_registry_find(FO_KIND_CHECKER, "runlevel");
	assert_non_null(m);
	assert_non_null(c);
	assert_ptr_not_equal(m, c);
	assert_int_equal(m->kind, FO_KIND_MODULE);
	assert_int_equal(c->kind, FO_KIND_CHECKER);
	assert_null(fo_registry_find(FO_KIND_MODULE, "local"));
	assert_null(fo_registry_find(FO_KIND_MODULE, ""));
	assert_null(fo_registry_find(FO_KIND_MODULE, NULL));
}

static void kind_parse_accepts_every_spelling(void **state)
{
	FO_UNUSED(state);
	static const struct {
		const char *text;
		enum fo_kind kind;
	} ok[] = {
		{"provisioner", FO_KIND_PROVISIONER},
		{"Provisioners", FO_KIND_PROVISIONER},
		{"configuration_manager", FO_KIND_CONFIG_MANAGER},
		{"configuration-manager", FO_KIND_CONFIG_MANAGER},
		{"Configuration Managers", FO_KIND_CONFIG_MANAGER},
		{"module", FO_KIND_MODULE},
		{"MODULES", FO_KIND_MODULE},
		{"checker", FO_KIND_CHECKER},
		{"checkers", FO_KIND_CHECKER},
		{"artifact_checker", FO_KIND_ARTIFACT_CHECKER},
		{"artifact-checkers", FO_KIND_ARTIFACT_CHECKER},
		{"artifact checker", FO_KIND_ARTIFACT_CHECKER},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(ok); i++) {
		enum fo_kind k = FO__KIND_COUNT;
		assert_int_equal(fo_kind_parse(ok[i].text, &k), 0);
		assert_int_equal(k, ok[i].kind);
	}
	static const char *const bad[] = {"modle", "", "-", "moduless", "checkerx", "artifact"};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		enum fo_kind k = FO_KIND_MODULE;
		assert_int_equal(fo_kind_parse(bad[i], &k), FO_ENOTFOUND);
	}
	enum fo_kind k;
	assert_int_equal(fo_kind_parse(NULL, &k), FO_ENOTFOUND);
}

static void kind_names_round_trip(void **state)
{
	FO_UNUSED(state);
	for (int i = 0; i < FO__KIND_COUNT; i++) {
		enum fo_kind k = FO__KIND_COUNT;
		assert_int_equal(fo_kind_parse(fo_kind_name((enum fo_kind)i), &k), 0);
		assert_int_equal(k, i);
		assert_int_equal(fo_kind_parse(fo_kind_title((enum fo_kind)i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(fo_kind_name(FO_KIND_CONFIG_MANAGER), "configuration_manager");
	assert_string_equal(fo_kind_title(FO_KIND_ARTIFACT_CHECKER), "artifact checker");
	for (int t = 0; t < FO__PT_COUNT; t++)
		assert_string_not_equal(fo_prop_type_name((enum fo_prop_type)t), "unknown");
	assert_string_equal(fo_prop_type_name(FO_PT_DURATION), "duration");
}

static void typos_get_suggestions(void **state)
{
	FO_UNUSED(state);
	const char *s = fo_registry_suggest(FO_KIND_MODULE, "slep");
	assert_non_null(s);
	assert_string_equal(s, "sleep");
	s = fo_registry_suggest(FO_KIND_CHECKER, "nofial");
	assert_non_null(s);
	assert_string_equal(s, "nofail");
	s = fo_registry_suggest(FO_KIND_PROVISIONER, "locl");
	assert_non_null(s);
	assert_string_equal(s, "local");
	/* Suggestions come from the asked kind only, and only for likely typos. */
	assert_null(fo_registry_suggest(FO_KIND_CHECKER, "slep"));
	assert_null(fo_registry_suggest(FO_KIND_MODULE, "completely-different"));
	assert_null(fo_registry_suggest(FO_KIND_MODULE, NULL));
}

/* The checks every descriptor must pass, default and fixture alike. */
static void check_descriptor(const struct fo_component *c)
{
	assert_non_null(c->name);
	assert_true(c->name[0] != '\0');
	assert_true((unsigned)c->kind < FO__KIND_COUNT);
	assert_non_null(c->summary);
	assert_true(strlen(c->summary) > 10);
	assert_null(strchr(c->summary, '\n'));
	assert_true(c->summary[strlen(c->summary) - 1] != '.');
	assert_non_null(c->description);
	assert_true(strlen(c->description) > 80);
	if (c->available)
		assert_true(c->available[0] != '\0');

	size_t n = n_props(c);
	for (size_t i = 0; i < n; i++) {
		const struct fo_prop *p = &c->props[i];
		assert_true((unsigned)p->type < FO__PT_COUNT);
		assert_non_null(p->description);
		assert_true(p->description[0] != '\0');
		/* Names are unique, old names included. */
		for (size_t j = 0; j < n; j++) {
			if (j != i)
				assert_string_not_equal(p->name, c->props[j].name);
			if (c->props[j].deprecated_name)
				assert_string_not_equal(p->name, c->props[j].deprecated_name);
		}
		if (p->type == FO_PT_ENUM) {
			assert_non_null(p->options);
			assert_non_null(p->options[0]);
		}
		if (p->has_range)
			assert_true(p->min <= p->max);
		if (p->required)
			assert_null(p->default_value);
		/* `lifetime` belongs to the validator, not to module tables. */
		if (c->kind == FO_KIND_MODULE)
			assert_string_not_equal(p->name, "lifetime");
		if (p->pattern) {
			struct fo_err err = {0};
			struct fo_regex *re = fo_regex_new(p->pattern, &err);
			assert_non_null(re);
			fo_regex_free(re);
		}
		struct fo_err err = {0};
		if (fo_props_check_default(p, &err) != 0)
			fail_msg("default '%s' of property '%s' of %s '%s' is invalid: %s", p->default_value, p->name,
				 fo_kind_title(c->kind), c->name, err.msg);
	}
}

static void every_default_component_is_documented_and_well_formed(void **state)
{
	FO_UNUSED(state);
	for (size_t i = 0; i < default_count; i++)
		check_descriptor(fo_registry_at(i));
}

static void every_fixture_is_well_formed(void **state)
{
	FO_UNUSED(state);
	for (size_t i = 0; fo_fixture_components[i]; i++) {
		assert_true(fo_fixture_components[i]->fixture);
		check_descriptor(fo_fixture_components[i]);
	}
}

static void names_are_unique_within_a_kind(void **state)
{
	FO_UNUSED(state);
	size_t n = fo_registry_count();
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			const struct fo_component *a = fo_registry_at(i), *b = fo_registry_at(j);
			if (a->kind == b->kind && strcasecmp(a->name, b->name) == 0)
				fail_msg("two %ss called '%s'", fo_kind_title(a->kind), a->name);
		}
}

static void examples_are_yaml(void **state)
{
	FO_UNUSED(state);
	for (size_t i = 0; i < fo_registry_count(); i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (!c->example)
			continue;
		struct fo_arena *a = fo_arena_new();
		struct fo_diags d = FO_DIAGS_INIT;
		struct fo_ynode *root = NULL;
		struct fo_yaml_opts opts = {.file = c->name};
		int rc = fo_yaml_load(a, c->example, strlen(c->example), &opts, &root, &d);
		if (rc != 0 || d.errors)
			fail_msg("the example of %s '%s' is not valid YAML", fo_kind_title(c->kind), c->name);
		assert_non_null(root);
		assert_int_equal(root->kind, FO_YMAP);
		fo_diags_release(&d);
		fo_arena_free(a);
	}
}

/* A propset of c with the named properties set (the others unset). */
static void make_propset(const struct fo_component *c, struct fo_propval *v, const char *const *set,
			 struct fo_propset *ps)
{
	size_t n = n_props(c);
	*ps = (struct fo_propset){.comp = c, .alias = "step", .v = v, .n = n, .pos = {"t.yaml", 3, 5}};
	for (size_t i = 0; i < n; i++) {
		v[i] = (struct fo_propval){.prop = &c->props[i]};
		for (size_t k = 0; set && set[k]; k++)
			if (strcmp(set[k], c->props[i].name) == 0) {
				v[i].set = true;
				v[i].str = "x";
			}
	}
}

static void runlevel_module_needs_role_or_group(void **state)
{
	FO_UNUSED(state);
	const struct fo_component *c = fo_registry_find(FO_KIND_MODULE, "runlevel");
	assert_non_null(c->validate);
	struct fo_propval v[8];
	struct fo_propset ps;
	struct fo_diags d = FO_DIAGS_INIT;

	make_propset(c, v, (const char *const[]){"runlevel", NULL}, &ps);
	c->validate(&ps, &d);
	assert_int_equal(d.errors, 1);
	assert_true(fo_diags_contains(&d, "module 'step' needs 'role' or 'node_group'"));
	fo_diags_release(&d);

	make_propset(c, v, (const char *const[]){"runlevel", "role", NULL}, &ps);
	c->validate(&ps, &d);
	assert_int_equal(d.errors, 0);
	make_propset(c, v, (const char *const[]){"runlevel", "node_group", NULL}, &ps);
	c->validate(&ps, &d);
	assert_int_equal(d.errors, 0);
	fo_diags_release(&d);
}

static void regex_artifact_checker_needs_a_pattern_list(void **state)
{
	FO_UNUSED(state);
	const struct fo_component *c = fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "regex");
	assert_non_null(c->validate);
	struct fo_propval v[8];
	struct fo_propset ps;
	struct fo_diags d = FO_DIAGS_INIT;

	make_propset(c, v, (const char *const[]){"node_group", "files", NULL}, &ps);
	c->validate(&ps, &d);
	assert_true(fo_diags_contains(&d, "at least one of 'required' or 'forbidden'"));
	fo_diags_release(&d);

	static const char *const bad[] = {"ok", "(unclosed", NULL};
	make_propset(c, v, (const char *const[]){"node_group", "files", "forbidden", NULL}, &ps);
	for (size_t i = 0; i < ps.n; i++)
		if (strcmp(v[i].prop->name, "forbidden") == 0) {
			v[i].list = bad;
			v[i].nlist = 2;
		}
	c->validate(&ps, &d);
	assert_int_equal(d.errors, 1);
	assert_true(fo_diags_contains(&d, "'(unclosed' in 'forbidden'"));
	fo_diags_release(&d);
}

static void runlevel_checker_knows_runlevel_names(void **state)
{
	FO_UNUSED(state);
	const struct fo_component *c = fo_registry_find(FO_KIND_CHECKER, "runlevel");
	struct fo_propval v[4];
	struct fo_propset ps;
	struct fo_diags d = FO_DIAGS_INIT;
	static const char *const levels[] = {"STARTED_SERVICES_RUNNING", "started_services_configured",
					     "STARTED_SERVICES_RUNNIN", NULL};
	make_propset(c, v, (const char *const[]){"runlevels", NULL}, &ps);
	v[0].list = levels;
	v[0].nlist = 3;
	c->validate(&ps, &d);
	assert_int_equal(d.errors, 1);
	assert_true(fo_diags_contains(&d, "(did you mean 'STARTED_SERVICES_RUNNING'?)"));
	fo_diags_release(&d);
}

static void duration_checker_refuses_min_above_max(void **state)
{
	FO_UNUSED(state);
	const struct fo_component *c = fo_registry_find(FO_KIND_CHECKER, "duration");
	struct fo_propval v[4];
	struct fo_propset ps;
	struct fo_diags d = FO_DIAGS_INIT;
	make_propset(c, v, (const char *const[]){"duration.min", "duration.max", NULL}, &ps);
	for (size_t i = 0; i < ps.n; i++) {
		bool is_min = strcmp(v[i].prop->name, "duration.min") == 0;
		v[i].ns = is_min ? 2000000000 : 1000000000;
		v[i].str = is_min ? "2s" : "1s";
	}
	c->validate(&ps, &d);
	assert_int_equal(d.errors, 1);
	assert_true(fo_diags_contains(&d, "'duration.min' (2s) is longer than 'duration.max' (1s)"));
	fo_diags_release(&d);
}

static void adding_the_fixture_set_is_idempotent(void **state)
{
	FO_UNUSED(state);
	fo_registry_add_set(fo_fixture_components);
	size_t with = fo_registry_count();
	assert_int_equal(with, default_count + n_fixtures());
	fo_registry_add_set(fo_fixture_components);
	assert_int_equal(fo_registry_count(), with);
	fo_registry_add_set(NULL);
	assert_int_equal(fo_registry_count(), with);

	/* Defaults come first, then the fixtures in their order. */
	assert_ptr_equal(fo_registry_at(default_count), fo_fixture_components[0]);
	assert_ptr_equal(fo_registry_at(with - 1), fo_fixture_components[n_fixtures() - 1]);
	assert_null(fo_registry_at(with));

	const struct fo_component *tcm = fo_registry_find(FO_KIND_CONFIG_MANAGER, "test configuration manager");
	assert_non_null(tcm);
	assert_true(tcm->fixture);
	assert_string_equal(tcm->name, "Test Configuration Manager");
	assert_non_null(fo_registry_find(FO_KIND_MODULE, "NoEmit"));
	assert_non_null(fo_registry_find(FO_KIND_MODULE, "multithreaded"));
	assert_non_null(fo_registry_find(FO_KIND_CHECKER, "count"));
	/* The fixture regex checker does not shadow the shipped regex artifact checker. */
	const struct fo_component *rc = fo_registry_find(FO_KIND_CHECKER, "regex");
	const struct fo_component *rac = fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "regex");
	assert_true(rc->fixture);
	assert_false(rac->fixture);
	/* Shipped components are still found first. */
	assert_false(fo_registry_find(FO_KIND_MODULE, "fake")->fixture);
	const char *s = fo_registry_suggest(FO_KIND_MODULE, "noemitt");
	assert_non_null(s);
	assert_string_equal(s, "noemit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixtures_absent_until_added),
		cmocka_unit_test(default_set_has_the_shipped_helpers),
		cmocka_unit_test(lookup_ignores_case),
		cmocka_unit_test(lookup_is_by_kind),
		cmocka_unit_test(kind_parse_accepts_every_spelling),
		cmocka_unit_test(kind_names_round_trip),
		cmocka_unit_test(typos_get_suggestions),
		cmocka_unit_test(every_default_component_is_documented_and_well_formed),
		cmocka_unit_test(every_fixture_is_well_formed),
		cmocka_unit_test(names_are_unique_within_a_kind),
		cmocka_unit_test(examples_are_yaml),
		cmocka_unit_test(runlevel_module_needs_role_or_group),
		cmocka_unit_test(regex_artifact_checker_needs_a_pattern_list),
		cmocka_unit_test(runlevel_checker_knows_runlevel_names),
		cmocka_unit_test(duration_checker_refuses_min_above_max),
		cmocka_unit_test(adding_the_fixture_set_is_idempotent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
