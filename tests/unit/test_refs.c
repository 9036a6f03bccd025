/*
 * test_refs.c: `<<type:key>>` references: what counts as one, the parts each type gives,
 * every malformed form with the message and column a user sees, and expansion.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "spec/refs.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"

struct scan_result {
	struct fo_arena *a;
	struct fo_diags d;
	struct fo_ref *refs;
	size_t n;
	int rc;
};

static const struct fo_pos at_line3 = {.file = "t.yaml", .line = 3, .col = 10};

static void do_scan(struct scan_result *r, const char *s)
{
	r->a = fo_arena_new();
	r->d = (struct fo_diags)FO_DIAGS_INIT;
	r->rc = fo_refs_scan(r->a, s, strlen(s), &at_line3, &r->refs, &r->n, &r->d);
}

static void done(struct scan_result *r)
{
	fo_diags_release(&r->d);
	fo_arena_free(r->a);
}

/* Scans s, expects exactly one error containing msg at column col of line 3. */
static void expect_error(const char *s, const char *msg, int col)
{
	struct scan_result r;
	do_scan(&r, s);
	assert_int_equal(r.rc, FO_EDEFINITION);
	if (r.d.n != 1 || !fo_diags_contains(&r.d, msg)) {
		fo_diags_print(&r.d, stderr);
		fail_msg("expected one error with '%s' for '%s'", msg, s);
	}
	assert_string_equal(r.d.v[0].file, "t.yaml");
	assert_int_equal(r.d.v[0].line, 3);
	assert_int_equal(r.d.v[0].col, col);
	done(&r);
}

static void test_plain_text_has_no_refs(void **state)
{
	struct scan_result r;
	const char *texts[] = {
		"just text, a < b and c > d, <<, >>, <",
		"cat <<EOF\nhello\nEOF\n",
		"cat <<-EOF\n\tindented\nEOF",
		"cat <<'EOF' > out.txt\nx\nEOF",
		"cat << EOF:x\n",
		"echo $((1 << 4))",
		"<<>>",
		"<<:x>>",
		"",
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(texts); i++) {
		do_scan(&r, texts[i]);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.n, 0);
		assert_null(r.refs);
		assert_int_equal(r.d.n, 0);
		done(&r);
	}
}

static void test_heredoc_next_to_a_real_ref(void **state)
{
	struct scan_result r;
	do_scan(&r, "cat <<EOF > <<file:conf.yaml>>\nkey: <<secret:db.pass-1>>\nEOF");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.refs[0].type, FO_REF_FILE);
	assert_string_equal(r.refs[0].key, "conf.yaml");
	assert_int_equal(r.refs[0].start, 12);
	assert_int_equal(r.refs[0].end, 30);
	assert_int_equal(r.refs[1].type, FO_REF_SECRET);
	assert_string_equal(r.refs[1].key, "db.pass-1");
	/* multi-line: placed at the scalar */
	assert_int_equal(r.refs[1].pos.line, 3);
	assert_int_equal(r.refs[1].pos.col, 10);
	done(&r);
}

static void test_each_type_gives_its_parts(void **state)
{
	struct scan_result r;
	do_scan(&r, "--config <<file:dir/a:b.yaml>> --host <<provider:server:12:redis:port>>x");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.refs[0].type, FO_REF_FILE);
	assert_string_equal(r.refs[0].key, "dir/a:b.yaml");
	assert_null(r.refs[0].group);
	assert_int_equal(r.refs[0].pos.col, 10 + 9);
	assert_int_equal(r.refs[1].type, FO_REF_PROVIDER);
	assert_string_equal(r.refs[1].group, "server");
	assert_int_equal(r.refs[1].ordinal, 12);
	assert_string_equal(r.refs[1].provider, "redis");
	assert_string_equal(r.refs[1].key, "port");
	assert_string_equal(fo_refs_type_name(r.refs[1].type), "provider");
	assert_int_equal(r.refs[1].start, 38);
	assert_int_equal(r.refs[1].end, 71);
	assert_int_equal(r.refs[1].pos.col, 10 + 38);
	assert_string_equal(r.refs[1].pos.file, "t.yaml");
	done(&r);
}

static void test_column_counts_characters_not_bytes(void **state)
{
	/* "é" is two bytes but one column */
	expect_error("é <<bogus:x>>", "unknown reference type 'bogus'", 12);
}

static void test_unterminated(void **state)
{
	expect_error("run <<file:x", "unterminated reference '<<file:x'", 14);
	expect_error("<<file:x >", "unterminated reference '<<file:x >'", 10);
	expect_error("a <<secret:pw and more", "unterminated reference '<<secret:pw and more'", 12);

	/* a later reference on the same line still counts, and still gets checked */
	struct scan_result r;
	do_scan(&r, "<<file:a <<file:b>> <<bogus:c>>");
	assert_int_equal(r.rc, FO_EDEFINITION);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.refs[0].key, "b");
	assert_int_equal(r.d.n, 2);
	assert_true(fo_diags_contains(&r.d, "unterminated reference '<<file:a'"));
	assert_true(fo_diags_contains(&r.d, "unknown reference type 'bogus'"));
	assert_int_equal(r.d.v[1].col, 10 + 20);
	done(&r);

	/* a reference does not run over a line end */
	do_scan(&r, "x <<file:a\n>>");
	assert_int_equal(r.rc, FO_EDEFINITION);
	assert_true(fo_diags_contains(&r.d, "unterminated reference '<<file:a'"));
	assert_int_equal(r.d.v[0].col, 10);
	done(&r);
}

static void test_unknown_type_names_the_known_ones(void **state)
{
	expect_error("x <<bogus:x>>",
		     "unknown reference type 'bogus' in '<<bogus:x>>' (known types: file, secret, provider)", 12);
	expect_error("<<FILE:x>>", "unknown reference type 'FILE'", 10);
}

static void test_empty_keys(void **state)
{
	expect_error("<<file:>>", "empty file name in reference '<<file:>>'", 10);
	expect_error("  <<secret:>>", "empty secret name in reference '<<secret:>>'", 12);
	expect_error("<<provider:g::p:k>>", "empty ordinal in reference '<<provider:g::p:k>>'", 10);
	expect_error("<<provider::1:p:k>>", "empty group in reference", 10);
	expect_error("<<provider:g:1::k>>", "empty provider in reference", 10);
	expect_error("<<provider:g:1:p:>>", "empty key in reference", 10);
}

static void test_bad_secret_name(void **state)
{
	expect_error("pw=<<secret:my pass>>",
		     "invalid secret name 'my pass' in reference '<<secret:my pass>>' (use letters, digits, "
		     "'_', '.' and '-')",
		     13);
	expect_error("<<secret:a/b>>", "invalid secret name 'a/b'", 10);
	expect_error("<<secret:a:b>>", "invalid secret name 'a:b'", 10);
}

static void test_provider_part_count(void **state)
{
	expect_error("<<provider:server:0:redis>>",
		     "provider reference '<<provider:server:0:redis>>' has 3 parts; it needs 4: "
		     "GROUP:ORDINAL:PROVIDER:KEY",
		     10);
	expect_error("<<provider:a:0:b:c:d>>", "has 5 parts", 10);
	expect_error("<<provider:x>>", "has 1 part;", 10);
}

static void test_provider_ordinal(void **state)
{
	expect_error("<<provider:server:one:redis:port>>",
		     "node ordinal 'one' in reference '<<provider:server:one:redis:port>>' is not a non-negative "
		     "integer",
		     10);
	expect_error("<<provider:s:-1:r:p>>", "node ordinal '-1'", 10);
	expect_error("<<provider:s:1.5:r:p>>", "node ordinal '1.5'", 10);
	expect_error("<<provider:s:99999999999:r:p>>", "node ordinal '99999999999'", 10);
}

static void test_all_errors_reported(void **state)
{
	struct scan_result r;
	do_scan(&r, "<<file:>> <<secret:a b>> <<provider:x>> <<nope:1>> <<file:ok>>");
	assert_int_equal(r.rc, FO_EDEFINITION);
	assert_int_equal(r.d.n, 4);
	assert_int_equal(r.d.errors, 4);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.refs[0].key, "ok");
	done(&r);
}

static void test_without_position(void **state)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_ref *refs;
	size_t n;
	assert_int_equal(fo_refs_scan(a, "<<file:x", 8, NULL, &refs, &n, &d), FO_EDEFINITION);
	assert_int_equal(d.n, 1);
	assert_null(d.v[0].file);
	assert_int_equal(d.v[0].line, 0);
	fo_diags_release(&d);
	fo_arena_free(a);
}

static void test_long_reference_is_cut_in_messages(void **state)
{
	char s[300];
	memset(s, 'a', sizeof(s));
	memcpy(s, "<<file:", 7);
	s[sizeof(s) - 1] = '\0';
	struct scan_result r;
	do_scan(&r, s);
	assert_int_equal(r.d.n, 1);
	assert_true(fo_diags_contains(&r.d, "aaa...'"));
	assert_true(strlen(r.d.v[0].msg) < 150);
	done(&r);
}

static void test_scan_node_places_by_style(void **state)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_ref *refs;
	size_t n;
	struct fo_ynode node = {.kind = FO_YSCALAR, .stype = FO_YS_STR, .pos = {"t.yaml", 7, 5}};
	node.str = "ab <<file:>>";
	node.len = strlen(node.str);
	assert_int_equal(fo_refs_scan_node(a, &node, &refs, &n, &d), FO_EDEFINITION);
	assert_int_equal(d.v[0].line, 7);
	assert_int_equal(d.v[0].col, 8);
	fo_diags_release(&d);

	/* quoted: escapes may shift the text, so the node's own place */
	node.quoted = true;
	assert_int_equal(fo_refs_scan_node(a, &node, &refs, &n, &d), FO_EDEFINITION);
	assert_int_equal(d.v[0].col, 5);
	fo_diags_release(&d);

	/* not a scalar: nothing */
	struct fo_ynode map = {.kind = FO_YMAP};
	assert_int_equal(fo_refs_scan_node(a, &map, &refs, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(d.n, 0);
	fo_arena_free(a);
}

/* A resolver for the tests: files live under /managed, secrets are upper-cased, provider
 * refs give "group/ordinal/provider/key", and the key "fail" fails. */
static int resolve(void *ctx, const struct fo_ref *ref, struct fo_buf *out, struct fo_err *err)
{
	int *calls = ctx;
	(*calls)++;
	if (strcmp(ref->key, "fail") == 0)
		return fo_err_set(err, FO_ENOTFOUND, "<<file:%s>> is not defined in a local_files section", ref->key);
	if (strcmp(ref->key, "silent") == 0)
		return FO_ENOTFOUND;
	switch (ref->type) {
	case FO_REF_FILE:
		return fo_buf_addf(out, "/managed/%s", ref->key);
	case FO_REF_SECRET:
		for (const char *p = ref->key; *p; p++)
			fo_buf_addch(out, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
		return 0;
	case FO_REF_PROVIDER:
		return fo_buf_addf(out, "%s/%d/%s/%s", ref->group, ref->ordinal, ref->provider, ref->key);
	}
	return 0;
}

static void test_expand_replaces_every_ref(void **state)
{
	int calls = 0;
	struct fo_buf out = FO_BUF_INIT;
	struct fo_err err = {0};
	fo_buf_adds(&out, "> ");
	const char *s = "cat <<EOF\nrun <<file:a/b.sh>> --pw=<<secret:pw>> "
			"--to <<provider:server:1:redis:port>>\nEOF";
	assert_int_equal(fo_refs_expand(s, strlen(s), resolve, &calls, &out, &err), 0);
	assert_int_equal(calls, 3);
	assert_string_equal(out.s, "> cat <<EOF\nrun /managed/a/b.sh --pw=PW --to server/1/redis/port\nEOF");
	assert_int_equal(err.code, 0);

	/* no refs: a plain copy, resolver never called */
	fo_buf_clear(&out);
	calls = 0;
	assert_int_equal(fo_refs_expand("a << b", 6, resolve, &calls, &out, &err), 0);
	assert_string_equal(out.s, "a << b");
	assert_int_equal(calls, 0);

	/* adjacent refs, ref at both ends, length-limited input */
	fo_buf_clear(&out);
	s = "<<file:x>><<file:y>>IGNORED";
	assert_int_equal(fo_refs_expand(s, 20, resolve, &calls, &out, &err), 0);
	assert_string_equal(out.s, "/managed/x/managed/y");
	fo_buf_release(&out);
}

static void test_expand_stops_on_resolver_failure(void **state)
{
	int calls = 0;
	struct fo_buf out = FO_BUF_INIT;
	struct fo_err err = {0};
	fo_buf_adds(&out, "kept");
	const char *s = "a <<file:x>> <<file:fail>> <<file:z>>";
	assert_int_equal(fo_refs_expand(s, strlen(s), resolve, &calls, &out, &err), FO_ENOTFOUND);
	assert_int_equal(calls, 2);
	assert_string_equal(out.s, "kept");
	assert_string_equal(err.msg, "<<file:fail>> is not defined in a local_files section");

	/* a resolver that sets no message still gives one */
	fo_err_clear(&err);
	s = "<<secret:silent>>";
	assert_int_equal(fo_refs_expand(s, strlen(s), resolve, &calls, &out, &err), FO_ENOTFOUND);
	assert_string_equal(err.msg, "cannot resolve reference '<<secret:silent>>': not found");

	/* and err may be NULL */
	assert_int_equal(fo_refs_expand(s, strlen(s), resolve, &calls, &out, NULL), FO_ENOTFOUND);
	assert_string_equal(out.s, "kept");
	fo_buf_release(&out);
}

static void test_expand_refuses_malformed_refs(void **state)
{
	int calls = 0;
	struct fo_buf out = FO_BUF_INIT;
	struct fo_err err = {0};
	const char *s = "<<file:x>> <<file:y";
	assert_int_equal(fo_refs_expand(s, strlen(s), resolve, &calls, &out, &err), FO_EDEFINITION);
	assert_string_equal(err.msg, "unterminated reference '<<file:y'");
	assert_int_equal(out.len, 0);
	fo_buf_release(&out);
}

static void test_expand_respects_the_cap(void **state)
{
	int calls = 0;
	struct fo_buf out;
	struct fo_err err = {0};
	fo_buf_init(&out, 12);
	const char *s = "x <<file:abcdef>>";
	assert_int_equal(fo_refs_expand(s, strlen(s), resolve, &calls, &out, &err), FO_ETOOBIG);
	assert_int_equal(out.len, 0);
	fo_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_has_no_refs),
		cmocka_unit_test(test_heredoc_next_to_a_real_ref),
		cmocka_unit_test(test_each_type_gives_its_parts),
		cmocka_unit_test(test_column_counts_characters_not_bytes),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_unknown_type_names_the_known_ones),
		cmocka_unit_test(test_empty_keys),
		cmocka_unit_test(test_bad_secret_name),
		cmocka_unit_test(test_provider_part_count),
		cmocka_unit_test(test_provider_ordinal),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_without_position),
		cmocka_unit_test(test_long_reference_is_cut_in_messages),
		cmocka_unit_test(test_scan_node_places_by_style),
		cmocka_unit_test(test_expand_replaces_every_ref),
		cmocka_unit_test(test_expand_stops_on_resolver_failure),
		cmocka_unit_test(test_expand_refuses_malformed_refs),
		cmocka_unit_test(test_expand_respects_the_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
