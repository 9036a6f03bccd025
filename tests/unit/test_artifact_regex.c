/*
 * test_artifact_regex.c: the `regex` artifact checker reads a node group's artifact folder
 * as a user would expect: it checks only files whose path (relative to the group folder)
 * fully matches `files`, wants every `required` regex on some line of each, refuses any
 * `forbidden` one on any line, stops at the first bad file unless `validate_all`, and
 * with no matching file fails only when something is required. The run is a real one
 * (fake provisioner, one noop module) whose folder the test then fills with files.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fixtures/fixtures.h"
#include "components/component.h"
#include "components/registry.h"
#include "engine/run.h"
#include "spec/definition.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

static const char definition[] = "ensemble:\n"
				 "  server:\n"
				 "    name: db\n"
				 "    node.count: 2\n"
				 "    provisioner: fake\n"
				 "  client: server\n"
				 "  observer: server\n"
				 "  controller: server\n"
				 "workload:\n"
				 "  phases:\n"
				 "    - nothing:\n"
				 "        module: noop\n";

struct fixture {
	char base[64];
	struct fo_def *def;
	struct fo_run *run;
};

static struct fixture fx;

/* Writes text to <run>/db/<rel>, creating folders. */
static void put(const char *rel, const char *text)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/db/%s", fo_run_dir(fx.run), rel);
	for (char *c = p.s + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		mkdir(p.s, 0755);
		*c = '/';
	}
	FILE *f = fopen(p.s, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	fo_buf_release(&p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(fx.base, sizeof(fx.base), "/tmp/fo-test-artifact-regex-XXXXXX");
	assert_non_null(mkdtemp(fx.base));
	struct fo_buf s = FO_BUF_INIT;
	fo_buf_addf(&s, "%s/state", fx.base);
	setenv("FALLOUT_STATE_DIR", s.s, 1);
	fo_buf_release(&s);
	fo_registry_add_set(fo_fixture_components);
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def_opts o = {0};
	int rc = fo_def_load_text("artifacts.yaml", definition, strlen(definition), &o, &fx.def, &d);
	if (d.n)
		fo_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	fo_diags_release(&d);
	struct fo_buf out = FO_BUF_INIT;
	fo_buf_addf(&out, "%s/run", fx.base);
	struct fo_run_opts ro = {.out_dir = out.s, .test_name = "artifacts", .owner = "tester"};
	struct fo_err err = {0};
	fx.run = fo_run_new(fx.def, &ro, &err);
	fo_buf_release(&out);
	assert_non_null(fx.run);
	assert_int_equal(fo_run_execute(fx.run), FO_RUN_PASSED);

	put("node0/logs/system.log", "INFO starting\nINFO listening on 7000\nINFO stopped\n");
	put("node1/logs/system.log", "INFO starting\nWARN slow disk\nERROR lost a write\nINFO stopped\n");
	put("node1/logs/debug.log", "DEBUG nothing to see\n");
	put("node0/notes.txt", "ERROR but not a log\n");
	put("fallout-extra.log", "top level\n");
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown(void **state)
{
	(void)state;
	fo_run_free(fx.run);
	fo_def_free(fx.def);
	nftw(fx.base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Binds the artifact checker's properties from YAML and runs it on the run. */
static bool judge(const char *yaml, struct fo_buf *msg)
{
	const struct fo_component *c = fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "regex");
	assert_non_null(c);
	assert_non_null(c->artifact_checker);
	struct fo_arena *a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_yaml_opts o = {.file = "checker.yaml"};
	struct fo_ynode *n;
	assert_int_equal(fo_yaml_load(a, yaml, strlen(yaml), &o, &n, &d), 0);
	const struct fo_ypair **pairs = calloc(n->npairs + 1, sizeof(*pairs));
	for (size_t i = 0; i < n->npairs; i++)
		pairs[i] = &n->pairs[i];
	static const char *const groups[] = {"db"};
	struct fo_props_ctx ctx = {.group_names = groups, .ngroups = 1};
	struct fo_propset ps;
	int rc = fo_props_bind(a, c, "artifact checker 'c'", pairs, n->npairs, &n->pos, &ctx, &ps, &d);
	if (d.n)
		fo_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	free(pairs);
	bool passed = false;
	struct fo_err err = {0};
	fo_buf_clear(msg);
	assert_int_equal(c->artifact_checker->check(&ps, fx.run, &passed, msg, &err), 0);
	fo_diags_release(&d);
	fo_arena_free(a);
	return passed;
}

static void required_found_in_every_matching_file(void **state)
{
	(void)state;
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge("node_group: db\nfiles: 'node\\d+/logs/system\\.log'\nrequired: [starting, '^INFO stopped$']",
			  &msg));
	assert_string_equal(msg.s, "2 files under db/ checked: every required pattern found");
	/* by role, too */
	assert_true(judge("node_group: server\nfiles: 'node\\d+/logs/system\\.log'\nrequired: starting", &msg));
	fo_buf_release(&msg);
}

static void required_missing_names_file_and_regex(void **state)
{
	(void)state;
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("node_group: db\nfiles: 'node\\d+/logs/system\\.log'\nrequired: listening", &msg));
	assert_string_equal(msg.s, "1 of 2 files under db/ failed:\n  node1/logs/system.log: no line matches required "
				   "'listening'");
	fo_buf_release(&msg);
}

static void forbidden_line_is_quoted_with_its_place(void **state)
{
	(void)state;
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("node_group: db\nfiles: '.*\\.log'\nforbidden: [ERROR, FATAL]", &msg));
	assert_non_null(strstr(msg.s, "node1/logs/system.log:3: forbidden 'ERROR' found: ERROR lost a write"));
	assert_null(strstr(msg.s, "notes.txt")); /* its path does not match `files` */
	assert_null(strstr(msg.s, "FATAL"));
	fo_buf_release(&msg);
}

static void files_must_match_the_whole_relative_path(void **state)
{
	(void)state;
	struct fo_buf msg = FO_BUF_INIT;
	/* "system" alone matches no whole path; "fallout-extra.log" sits at the group's top */
	assert_false(judge("node_group: db\nfiles: system\nrequired: x", &msg));
	assert_true(judge("node_group: db\nfiles: 'fallout-extra\\.log'\nrequired: '^top level$'", &msg));
	assert_string_equal(msg.s, "1 file under db/ checked: every required pattern found");
	fo_buf_release(&msg);
}

static void stops_at_first_bad_file_unless_validate_all(void **state)
{
	(void)state;
	struct fo_buf msg = FO_BUF_INIT;
	const char *base = "node_group: db\nfiles: 'node\\d+/(logs/.*|notes\\.txt)'\nrequired: '^nothing here$'\n";
	assert_false(judge(base, &msg));
	assert_non_null(strstr(msg.s, "a file under db/ failed (checked 1 of 4, stopping at the first failure; set "
				       "validate_all to check them all):\n  node0/logs/system.log: no line matches"));
	struct fo_buf all = FO_BUF_INIT;
	fo_buf_addf(&all, "%svalidate_all: true", base);
	assert_false(judge(all.s, &msg));
	assert_non_null(strstr(msg.s, "4 of 4 files under db/ failed:"));
	assert_non_null(strstr(msg.s, "node0/notes.txt: no line matches"));
	assert_non_null(strstr(msg.s, "node1/logs/debug.log: no line matches"));
	fo_buf_release(&all);
	fo_buf_release(&msg);
}

static void no_matching_file_fails_only_when_something_is_required(void **state)
{
	(void)state;
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("node_group: db\nfiles: '.*\\.hprof'\nrequired: x", &msg));
	assert_string_equal(msg.s, "no file under db/ matches '.*\\.hprof', so the required patterns cannot be found");
	assert_true(judge("node_group: db\nfiles: '.*\\.hprof'\nforbidden: x", &msg));
	assert_string_equal(msg.s, "no file under db/ matches '.*\\.hprof'; nothing forbidden found");
	fo_buf_release(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(required_found_in_every_matching_file),
		cmocka_unit_test(required_missing_names_file_and_regex),
		cmocka_unit_test(forbidden_line_is_quoted_with_its_place),
		cmocka_unit_test(files_must_match_the_whole_relative_path),
		cmocka_unit_test(stops_at_first_bad_file_unless_validate_all),
		cmocka_unit_test(no_matching_file_fails_only_when_something_is_required),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
