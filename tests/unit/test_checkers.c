/*
 * test_checkers.c: every history checker judges a hand-built operations history as a
 * user would expect: `nofail` (with and without `processes`), `runlevel` (order, case,
 * failed transitions), `duration` (whole workload, listed modules, overlaps, unknown
 * names), and the fixture checkers `regex` (order of text modules, duplicate
 * characters) and `count` (filters by process and type, bounds). Each test checks the
 * verdict and the words of the message a user reads in the summary.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "../fixtures/fixtures.h"
#include "components/component.h"
#include "components/registry.h"
#include "engine/history.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

/* A history in a temporary file, and the place its file lives. */
struct hist {
	char path[64];
	struct fo_history *h;
};

static void hist_open(struct hist *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/fo-test-history-XXXXXX");
	int fd = mkstemp(t->path);
	assert_true(fd >= 0);
	close(fd);
	struct fo_err err = {0};
	t->h = fo_history_open(t->path, &err);
	assert_non_null(t->h);
}

static void hist_close(struct hist *t)
{
	fo_history_close(t->h);
	unlink(t->path);
}

/* Appends one operation, as the harness or a module would emit it. */
static void op(struct hist *t, const char *process, const char *module, enum fo_op_type type, const char *value)
{
	fo_history_emit(t->h, process, module, type, NULL, value);
}

/* A checker instance bound from YAML properties, the way a definition binds it. */
struct bound {
	struct fo_arena *a;
	struct fo_propset ps;
};

static const struct fo_component *checker(const char *name)
{
	fo_registry_add_set(fo_fixture_components);
	const struct fo_component *c = fo_registry_find(FO_KIND_CHECKER, name);
	assert_non_null(c);
	assert_non_null(c->checker);
	return c;
}

static void bind(struct bound *b, const char *name, const char *yaml)
{
	const struct fo_component *c = checker(name);
	b->a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_yaml_opts o = {.file = "checker.yaml"};
	struct fo_ynode *n;
	assert_int_equal(fo_yaml_load(b->a, yaml, strlen(yaml), &o, &n, &d), 0);
	size_t np = n->kind == FO_YMAP ? n->npairs : 0;
	const struct fo_ypair **pairs = calloc(np + 1, sizeof(*pairs));
	for (size_t i = 0; i < np; i++)
		pairs[i] = &n->pairs[i];
	int rc = fo_props_bind(b->a, c, "checker 'c'", pairs, np, &n->pos, NULL, &b->ps, &d);
	if (d.n)
		fo_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	free(pairs);
	fo_diags_release(&d);
	b->ps.alias = "c";
}

/*
 * Runs checker name with properties yaml over the history; returns its verdict and leaves
 * its message in msg (caller releases).
 */
static bool judge(const char *name, const char *yaml, struct hist *t, struct fo_buf *msg)
{
	struct bound b;
	bind(&b, name, yaml);
	bool passed = false;
	struct fo_err err = {0};
	fo_buf_clear(msg);
	assert_int_equal(b.ps.comp->checker->check(&b.ps, t->h, &passed, msg, &err), 0);
	fo_arena_free(b.a);
	return passed;
}

/* The history of failtest.yaml: one fail module among fine ones. */
static void failtest_history(struct hist *t)
{
	op(t, "dummy", "fake", FO_OP_START, NULL);
	op(t, "dummy", "fake", FO_OP_INVOKE, NULL);
	op(t, "dummy", "fake", FO_OP_OK, NULL);
	op(t, "dummy", "fake", FO_OP_END, NULL);
	op(t, "auto_fail", "fail", FO_OP_START, NULL);
	op(t, "auto_fail", "fail", FO_OP_INVOKE, NULL);
	op(t, "auto_fail", "fail", FO_OP_FAIL, "Fail module always fails!");
	op(t, "auto_fail", "fail", FO_OP_END, NULL);
	op(t, "auto_fail", "fail", FO_OP_INFO, "completed");
}

static void nofail_fails_on_a_fail_and_names_it(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	failtest_history(&t);
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("nofail", "{}", &t, &msg));
	assert_non_null(strstr(msg.s, "1 fail operation"));
	assert_non_null(strstr(msg.s, "auto_fail (fail): Fail module always fails!"));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void nofail_processes_leave_out_other_failures(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	failtest_history(&t);
	struct fo_buf msg = FO_BUF_INIT;
	/* failtest.yaml's verify_omitted_failures */
	assert_true(judge("nofail", "processes: testing,a,b", &t, &msg));
	assert_string_equal(msg.s, "no fail operations among processes testing, a, b");
	assert_false(judge("nofail", "processes: [auto_fail]", &t, &msg));
	assert_non_null(strstr(msg.s, "among processes auto_fail"));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void nofail_passes_a_clean_history_and_ignores_errors(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	op(&t, "x", "noemit", FO_OP_START, NULL);
	op(&t, "x", "noemit", FO_OP_ERROR, "the module emitted no operations");
	op(&t, "x", "noemit", FO_OP_END, NULL);
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge("nofail", "{}", &t, &msg));
	assert_string_equal(msg.s, "no fail operations");
	fo_buf_release(&msg);
	hist_close(&t);
}

static void nofail_lists_at_most_ten(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	for (int i = 0; i < 13; i++)
		op(&t, "f", "fail", FO_OP_FAIL, "boom");
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("nofail", "{}", &t, &msg));
	assert_non_null(strstr(msg.s, "13 fail operations"));
	assert_non_null(strstr(msg.s, "... and 3 more"));
	fo_buf_release(&msg);
	hist_close(&t);
}

/* The history of valid-runlevels.yaml, plus a refused third step when refused is set. */
static void runlevel_history(struct hist *t, bool refused)
{
	op(t, "transition_running", "runlevel", FO_OP_START, NULL);
	op(t, "transition_running", "runlevel", FO_OP_INVOKE, "STARTED_SERVICES_RUNNING");
	op(t, "transition_running", "runlevel", FO_OP_OK, "STARTED_SERVICES_RUNNING");
	op(t, "transition_running", "runlevel", FO_OP_END, NULL);
	op(t, "other", "text", FO_OP_OK, "STOPPED");
	op(t, "transition_configured", "runlevel", FO_OP_INVOKE, "STARTED_SERVICES_CONFIGURED");
	op(t, "transition_configured", "runlevel", FO_OP_OK, "STARTED_SERVICES_CONFIGURED");
	if (refused) {
		op(t, "transition_unconfigured", "runlevel", FO_OP_INVOKE, "STARTED_SERVICES_UNCONFIGURED");
		op(t, "transition_unconfigured", "runlevel", FO_OP_FAIL, "refused");
	}
}

static void runlevel_matches_the_sequence_ignoring_case(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	runlevel_history(&t, false);
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge("runlevel", "runlevels: STARTED_SERVICES_RUNNING,started_services_configured", &t, &msg));
	assert_non_null(strstr(msg.s, "runlevels reached as expected"));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void runlevel_refused_step_adds_nothing(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	runlevel_history(&t, true);
	struct fo_buf msg = FO_BUF_INIT;
	/* invalid-runlevels.yaml: the checker still passes; nofail catches the refusal */
	assert_true(judge("runlevel", "runlevels: STARTED_SERVICES_RUNNING,STARTED_SERVICES_CONFIGURED", &t, &msg));
	assert_false(judge("nofail", "{}", &t, &msg));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void runlevel_shows_expected_and_got(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	runlevel_history(&t, false);
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("runlevel", "runlevels: STARTED_SERVICES_CONFIGURED,STARTED_SERVICES_RUNNING", &t, &msg));
	assert_string_equal(msg.s, "expected runlevels [STARTED_SERVICES_CONFIGURED, STARTED_SERVICES_RUNNING], got "
				   "[STARTED_SERVICES_RUNNING, STARTED_SERVICES_CONFIGURED]");
	assert_false(judge("runlevel", "runlevels: STARTED_SERVICES_RUNNING", &t, &msg));
	assert_non_null(strstr(msg.s, "got [STARTED_SERVICES_RUNNING, STARTED_SERVICES_CONFIGURED]"));
	fo_buf_release(&msg);
	hist_close(&t);
}

/* The time of the i-th operation of the history. */
static int64_t at(struct hist *t, size_t i)
{
	size_t n;
	const struct fo_op *ops = fo_history_ops(t->h, &n);
	assert_true(i < n);
	return ops[i].time_ns;
}

/* Judges a duration checker with exact bounds in nanoseconds (and extra properties). */
static bool judge_ns(const char *extra, int64_t lo, int64_t hi, struct hist *t, struct fo_buf *msg)
{
	char yaml[256];
	snprintf(yaml, sizeof(yaml), "%s%sduration.min: %lldns\nduration.max: %lldns", extra ? extra : "",
		 extra ? "\n" : "", (long long)lo, (long long)hi);
	return judge("duration", yaml, t, msg);
}

/* Times come from the clock, so bounds are computed from the history itself: exact, no sleeps. */
static void duration_whole_workload(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	op(&t, "a", "sleep", FO_OP_START, NULL);
	op(&t, "a", "sleep", FO_OP_INVOKE, NULL);
	op(&t, "a", "sleep", FO_OP_OK, NULL);
	op(&t, "a", "sleep", FO_OP_END, NULL);
	int64_t took = at(&t, 3) - at(&t, 0);
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge_ns(NULL, took, took, &t, &msg));
	assert_non_null(strstr(msg.s, "the workload took "));
	assert_non_null(strstr(msg.s, ", within bounds (at least "));
	assert_false(judge_ns(NULL, took + 1, took + 1000, &t, &msg));
	assert_non_null(strstr(msg.s, "less than duration.min"));
	assert_false(judge_ns(NULL, 0, took - 1, &t, &msg));
	assert_non_null(strstr(msg.s, "more than duration.max"));
	assert_true(judge("duration", "{}", &t, &msg));
	assert_true(judge("duration", "duration.max: 1h", &t, &msg));
	assert_non_null(strstr(msg.s, "within bounds (at most 1h)"));
	assert_false(judge("duration", "duration.min: 1h", &t, &msg));
	assert_non_null(strstr(msg.s, "less than duration.min (1h)"));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void duration_of_listed_modules_counts_overlaps_once(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	op(&t, "other", "sleep", FO_OP_START, NULL); /* 0: not listed, not counted */
	op(&t, "a", "sleep", FO_OP_START, NULL); /* 1 */
	op(&t, "b", "sleep", FO_OP_START, NULL); /* 2 */
	op(&t, "a", "sleep", FO_OP_END, NULL); /* 3 */
	op(&t, "b", "sleep", FO_OP_END, NULL); /* 4 */
	op(&t, "other", "sleep", FO_OP_END, NULL); /* 5 */
	op(&t, "c", "sleep", FO_OP_START, NULL); /* 6 */
	op(&t, "c", "sleep", FO_OP_END, NULL); /* 7 */
	int64_t ab = at(&t, 4) - at(&t, 1); /* a and b overlap: their union */
	int64_t c = at(&t, 7) - at(&t, 6);
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge_ns("phases: a, b", ab, ab, &t, &msg));
	assert_non_null(strstr(msg.s, "modules a, b took"));
	assert_true(judge_ns("phases: [a, b, c]", ab + c, ab + c, &t, &msg));
	assert_true(judge_ns("phases: a", at(&t, 3) - at(&t, 1), at(&t, 3) - at(&t, 1), &t, &msg));
	assert_non_null(strstr(msg.s, "module a took"));
	assert_false(judge_ns("phases: a, b", ab + 1, ab + 1000, &t, &msg));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void duration_unknown_module_fails(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	op(&t, "a", "sleep", FO_OP_START, NULL);
	op(&t, "a", "sleep", FO_OP_END, NULL);
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("duration", "phases: warmup, load\nduration.max: 1h", &t, &msg));
	assert_non_null(strstr(msg.s, "no module called 'warmup' or 'load' ran"));
	fo_buf_release(&msg);
	hist_close(&t);
}

/* The history of depth-two-phases.yaml in one order its phases allow. */
static void texts(struct hist *t, const char *const *values)
{
	for (size_t i = 0; values[i]; i++) {
		op(t, values[i], "text", FO_OP_START, NULL);
		op(t, values[i], "text", FO_OP_OK, values[i]);
		op(t, values[i], "text", FO_OP_END, NULL);
		op(t, values[i], "text", FO_OP_INFO, "completed");
	}
}

#define DEPTH_TWO "regex: \"(?!b.*a)(?!f.*e)[qaebf]{5}[cd]{2}\"\nforbid.duplicate_characters: true"

static void regex_fixture_accepts_a_good_order(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	texts(&t, (const char *const[]){"q", "a", "e", "f", "b", "d", "c", NULL});
	op(&t, "noise", "noop", FO_OP_OK, "zzz"); /* not a text module */
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge("regex", DEPTH_TWO, &t, &msg));
	assert_non_null(strstr(msg.s, "the texts 'qaefbdc' match"));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void regex_fixture_refuses_a_bad_order(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	texts(&t, (const char *const[]){"b", "a", "e", "f", "q", "c", "d", NULL});
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("regex", DEPTH_TWO, &t, &msg));
	assert_string_equal(msg.s, "the texts 'baefqcd' do not match '(?!b.*a)(?!f.*e)[qaebf]{5}[cd]{2}'");
	fo_buf_release(&msg);
	hist_close(&t);
}

static void regex_fixture_bad_regex_yaml(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	texts(&t, (const char *const[]){"a", "b", "c", "d", "e", "f", NULL});
	struct fo_buf msg = FO_BUF_INIT;
	/* bad-regex.yaml: c and d swapped in the expectation; a full match is required */
	assert_false(judge("regex", "regex: abdcef", &t, &msg));
	assert_true(judge("regex", "regex: abcdef", &t, &msg));
	assert_false(judge("regex", "regex: abcde", &t, &msg));
	fo_buf_release(&msg);
	hist_close(&t);
}

static void regex_fixture_duplicate_characters(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	texts(&t, (const char *const[]){"a", "b", "a", NULL});
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge("regex", "regex: '[ab]+'", &t, &msg));
	assert_false(judge("regex", "regex: '[ab]+'\nforbid.duplicate_characters: true", &t, &msg));
	assert_string_equal(msg.s, "the texts 'aba' repeat the character 'a'");
	fo_buf_release(&msg);
	hist_close(&t);
}

/* The history of multithreadedemit.yaml. */
static void multithreaded_history(struct hist *t)
{
	op(t, "emit", "multithreaded", FO_OP_START, NULL);
	op(t, "emit", "multithreaded", FO_OP_INVOKE, NULL);
	for (int i = 0; i < 10; i++)
		op(t, "emit", "multithreaded", FO_OP_INFO, "x");
	op(t, "emit", "multithreaded", FO_OP_OK, NULL);
	op(t, "emit", "multithreaded", FO_OP_END, NULL);
	op(t, "emit", "multithreaded", FO_OP_INFO, "completed");
	op(t, "other", "fake", FO_OP_INFO, "completed");
}

static void count_fixture_filters_process_and_type(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	multithreaded_history(&t);
	struct fo_buf msg = FO_BUF_INIT;
	assert_true(judge("count", "min: 11\nmax: 11\nprocesses: emit\ntypes: info", &t, &msg));
	assert_string_equal(msg.s, "11 operations of type info from emit, within [11, 11]");
	assert_true(judge("count", "min: 1\nmax: 1\nprocesses: emit\ntypes: invoke", &t, &msg));
	assert_true(judge("count", "min: 1\nmax: 1\nprocesses: emit\ntypes: ok", &t, &msg));
	assert_true(judge("count", "min: 12\nmax: 12\ntypes: info", &t, &msg));
	assert_true(judge("count", "min: 2\nmax: 2\ntypes: invoke, ok", &t, &msg));
	assert_true(judge("count", "min: 16\nmax: 16", &t, &msg));
	assert_false(judge("count", "min: 0\nmax: 10\nprocesses: emit\ntypes: info", &t, &msg));
	assert_string_equal(msg.s, "11 operations of type info from emit, outside [0, 10]");
	fo_buf_release(&msg);
	hist_close(&t);
}

static void count_fixture_unknown_type_fails(void **state)
{
	(void)state;
	struct hist t;
	hist_open(&t);
	multithreaded_history(&t);
	struct fo_buf msg = FO_BUF_INIT;
	assert_false(judge("count", "min: 0\nmax: 100\ntypes: infos", &t, &msg));
	assert_non_null(strstr(msg.s, "'infos' in 'types' is not an operation type"));
	fo_buf_release(&msg);
	hist_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nofail_fails_on_a_fail_and_names_it),
		cmocka_unit_test(nofail_processes_leave_out_other_failures),
		cmocka_unit_test(nofail_passes_a_clean_history_and_ignores_errors),
		cmocka_unit_test(nofail_lists_at_most_ten),
		cmocka_unit_test(runlevel_matches_the_sequence_ignoring_case),
		cmocka_unit_test(runlevel_refused_step_adds_nothing),
		cmocka_unit_test(runlevel_shows_expected_and_got),
		cmocka_unit_test(duration_whole_workload),
		cmocka_unit_test(duration_of_listed_modules_counts_overlaps_once),
		cmocka_unit_test(duration_unknown_module_fails),
		cmocka_unit_test(regex_fixture_accepts_a_good_order),
		cmocka_unit_test(regex_fixture_refuses_a_bad_order),
		cmocka_unit_test(regex_fixture_bad_regex_yaml),
		cmocka_unit_test(regex_fixture_duplicate_characters),
		cmocka_unit_test(count_fixture_filters_process_and_type),
		cmocka_unit_test(count_fixture_unknown_type_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
