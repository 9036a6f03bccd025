/*
 * test_resp.c: the RESP encoder and incremental parser: every reply type, nested arrays,
 * pipelined replies in one read, a reply cut at every byte, protocol errors and limits,
 * and the Redis adapter's classification (MOVED/ASK redirections, nil, error kinds).
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "load/load.h"
#include "load/resp.h"
#include "util/buf.h"
#include "util/err.h"

/* Parses all of s in one call; returns the rc and the reply. */
static int parse_all(struct fo_resp_parser *p, const char *s, const struct fo_resp_value **v, size_t *used)
{
	return fo_resp_parse(p, s, strlen(s), used, v);
}

static void test_simple_types(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const struct fo_resp_value *v;
	size_t used;

	assert_int_equal(parse_all(&p, "+OK\r\n", &v, &used), 1);
	assert_int_equal(used, 5);
	assert_int_equal(v->type, FO_RESP_STATUS);
	assert_string_equal(v->str, "OK");

	assert_int_equal(parse_all(&p, "-ERR unknown command 'FOO'\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_ERROR);
	assert_string_equal(v->str, "ERR unknown command 'FOO'");

	assert_int_equal(parse_all(&p, ":-42\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_INTEGER);
	assert_int_equal(v->integer, -42);

	assert_int_equal(parse_all(&p, ":9223372036854775807\r\n", &v, &used), 1);
	assert_int_equal(v->integer, INT64_MAX);

	assert_int_equal(parse_all(&p, "$6\r\nfoobar\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_BULK);
	assert_int_equal(v->len, 6);
	assert_string_equal(v->str, "foobar");

	assert_int_equal(parse_all(&p, "$0\r\n\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_BULK);
	assert_int_equal(v->len, 0);
	assert_string_equal(v->str, "");

	assert_int_equal(parse_all(&p, "$-1\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_NIL);
	assert_int_equal(parse_all(&p, "*-1\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_NIL);

	assert_int_equal(parse_all(&p, "*0\r\n", &v, &used), 1);
	assert_int_equal(v->type, FO_RESP_ARRAY);
	assert_int_equal(v->n, 0);
	fo_resp_parser_release(&p);
}

static void test_bulk_with_binary_bytes(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const char data[] = "$5\r\na\r\n\0b\r\n";
	const struct fo_resp_value *v;
	size_t used;
	assert_int_equal(fo_resp_parse(&p, data, sizeof(data) - 1, &used, &v), 1);
	assert_int_equal(used, sizeof(data) - 1);
	assert_int_equal(v->len, 5);
	assert_memory_equal(v->str, "a\r\n\0b", 5);
	fo_resp_parser_release(&p);
}

/* A CLUSTER SLOTS-like reply: arrays in arrays, of mixed types. */
static const char nested[] = "*2\r\n"
			     "*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nabcd\r\n"
			     "*4\r\n:5461\r\n:16383\r\n*2\r\n$9\r\n127.0.0.2\r\n:7001\r\n*2\r\n$0\r\n\r\n:7002\r\n";

static void check_nested(const struct fo_resp_value *v)
{
	assert_int_equal(v->type, FO_RESP_ARRAY);
	assert_int_equal(v->n, 2);
	const struct fo_resp_value *a = &v->elems[0], *b = &v->elems[1];
	assert_int_equal(a->n, 3);
	assert_int_equal(a->elems[0].integer, 0);
	assert_int_equal(a->elems[1].integer, 5460);
	assert_int_equal(a->elems[2].type, FO_RESP_ARRAY);
	assert_string_equal(a->elems[2].elems[0].str, "127.0.0.1");
	assert_int_equal(a->elems[2].elems[1].integer, 7000);
	assert_string_equal(a->elems[2].elems[2].str, "abcd");
	assert_int_equal(b->n, 4);
	assert_int_equal(b->elems[1].integer, 16383);
	assert_string_equal(b->elems[2].elems[0].str, "127.0.0.2");
	assert_int_equal(b->elems[3].elems[0].len, 0);
	assert_int_equal(b->elems[3].elems[1].integer, 7002);
}

static void test_nested_arrays(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const struct fo_resp_value *v;
	size_t used;
	assert_int_equal(fo_resp_parse(&p, nested, sizeof(nested) - 1, &used, &v), 1);
	assert_int_equal(used, sizeof(nested) - 1);
	check_nested(v);
	fo_resp_parser_release(&p);
}

/* Every way of cutting the reply in two parts gives the same result. */
static void test_split_at_every_byte(void **state)
{
	size_t n = sizeof(nested) - 1;
	for (size_t cut = 0; cut <= n; cut++) {
		struct fo_resp_parser p;
		fo_resp_parser_init(&p);
		const struct fo_resp_value *v = NULL;
		size_t used = 0;
		int rc = fo_resp_parse(&p, nested, cut, &used, &v);
		if (cut < n) {
			assert_int_equal(rc, 0);
			assert_int_equal(used, cut);
			assert_int_equal(fo_resp_parse(&p, nested + cut, n - cut, &used, &v), 1);
			assert_int_equal(used, n - cut);
		} else {
			assert_int_equal(rc, 1);
		}
		check_nested(v);
		fo_resp_parser_release(&p);
	}
}

/* Fed one byte at a time: nothing before the last byte, the whole reply at it. */
static void test_byte_by_byte(void **state)
{
	const char *replies[] = {"+PONG\r\n", "$11\r\nhello world\r\n", ":1000\r\n", "-MOVED 3999 127.0.0.1:6381\r\n",
				 nested};
	for (size_t r = 0; r < FO_ARRAY_LEN(replies); r++) {
		struct fo_resp_parser p;
		fo_resp_parser_init(&p);
		size_t n = strlen(replies[r]);
		const struct fo_resp_value *v = NULL;
		for (size_t i = 0; i < n; i++) {
			size_t used;
			int rc = fo_resp_parse(&p, replies[r] + i, 1, &used, &v);
			assert_int_equal(used, 1);
			assert_int_equal(rc, i + 1 == n ? 1 : 0);
		}
		struct fo_buf b = FO_BUF_INIT;
		fo_resp_describe(v, &b);
		assert_true(b.len > 0);
		fo_buf_release(&b);
		fo_resp_parser_release(&p);
	}
}

/* Pipelined replies in one buffer come out one per call, in order. */
static void test_pipelined_replies(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const char *s = "+OK\r\n$3\r\nbar\r\n$-1\r\n:7\r\n*1\r\n+x\r\n+OK\r\n";
	size_t len = strlen(s), pos = 0, used;
	const struct fo_resp_value *v;
	enum fo_resp_type want[] = {FO_RESP_STATUS, FO_RESP_BULK, FO_RESP_NIL, FO_RESP_INTEGER, FO_RESP_ARRAY,
				    FO_RESP_STATUS};
	for (size_t i = 0; i < FO_ARRAY_LEN(want); i++) {
		assert_int_equal(fo_resp_parse(&p, s + pos, len - pos, &used, &v), 1);
		assert_int_equal(v->type, want[i]);
		pos += used;
	}
	assert_int_equal(pos, len);
	fo_resp_parser_release(&p);
}

static void test_protocol_errors(void **state)
{
	const char *bad[] = {"?what\r\n", "+OK\n", ":12a\r\n", "$-2\r\n", "$3\r\nabcXY", "*-5\r\n", ":\r\n",
			     ":99999999999999999999\r\n"};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		struct fo_resp_parser p;
		fo_resp_parser_init(&p);
		const struct fo_resp_value *v;
		size_t used;
		assert_int_equal(fo_resp_parse(&p, bad[i], strlen(bad[i]), &used, &v), FO_EPARSE);
		assert_true(p.err[0] != '\0');
		/* a broken stream stays broken */
		assert_int_equal(fo_resp_parse(&p, "+OK\r\n", 5, &used, &v), FO_EPARSE);
		fo_resp_parser_release(&p);
	}
}

static void test_limits(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const struct fo_resp_value *v;
	size_t used;
	assert_int_equal(parse_all(&p, "$999999999999\r\n", &v, &used), FO_EPARSE);
	fo_resp_parser_release(&p);

	fo_resp_parser_init(&p);
	struct fo_buf deep = FO_BUF_INIT;
	for (int i = 0; i <= FO_RESP_MAX_DEPTH; i++)
		fo_buf_adds(&deep, "*1\r\n");
	assert_int_equal(fo_resp_parse(&p, deep.s, deep.len, &used, &v), FO_EPARSE);
	fo_buf_release(&deep);
	fo_resp_parser_release(&p);

	fo_resp_parser_init(&p);
	struct fo_buf line = FO_BUF_INIT;
	fo_buf_addch(&line, '+');
	for (int i = 0; i < FO_RESP_MAX_LINE + 10; i++)
		fo_buf_addch(&line, 'a');
	assert_int_equal(fo_resp_parse(&p, line.s, line.len, &used, &v), FO_EPARSE);
	fo_buf_release(&line);
	fo_resp_parser_release(&p);
}

static void test_reset_forgets_partial_reply(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const struct fo_resp_value *v;
	size_t used;
	assert_int_equal(parse_all(&p, "*2\r\n$3\r\nab", &v, &used), 0);
	fo_resp_parser_reset(&p);
	assert_int_equal(parse_all(&p, "+OK\r\n", &v, &used), 1);
	assert_string_equal(v->str, "OK");
	fo_resp_parser_release(&p);
}

static void test_encode(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_resp_add_command(&b, (const char *const[]){"SET", "key", "", NULL});
	assert_string_equal(b.s, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n");
	fo_buf_clear(&b);
	fo_resp_begin_bulk(&b, 12);
	fo_buf_add(&b, "hello ", 6);
	fo_buf_add(&b, "world!", 6);
	fo_resp_end_bulk(&b);
	assert_string_equal(b.s, "$12\r\nhello world!\r\n");
	fo_buf_release(&b);
}

/* What the encoder writes, the parser reads back. */
static void test_round_trip(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_resp_add_command(&b, (const char *const[]){"HSET", "k", "field", "value with spaces", NULL});
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const struct fo_resp_value *v;
	size_t used;
	assert_int_equal(fo_resp_parse(&p, b.s, b.len, &used, &v), 1);
	assert_int_equal(v->n, 4);
	assert_string_equal(v->elems[3].str, "value with spaces");
	fo_resp_parser_release(&p);
	fo_buf_release(&b);
}

/* The Redis adapter: commands from templates, and replies as outcomes. */
static void test_redis_adapter(void **state)
{
	const struct fo_load_proto *pr = &fo_load_proto_redis;
	struct fo_load_mix mix;
	struct fo_err err = {0};
	const char *names[] = {"HSET __key__:h f-__key__ __value__"};
	double weights[] = {1};
	assert_int_equal(fo_load_mix_build(&mix, "1:1", names, weights, 1, &err), 0);
	assert_int_equal(mix.n, 3);
	assert_string_equal(mix.cmds[2].name, "hset");
	struct fo_buf b = FO_BUF_INIT;
	pr->encode(&b, &mix.cmds[1], "kv:7", 4, "xyz", 3);
	assert_string_equal(b.s, "*3\r\n$3\r\nSET\r\n$4\r\nkv:7\r\n$3\r\nxyz\r\n");
	fo_buf_clear(&b);
	pr->encode(&b, &mix.cmds[2], "k1", 2, "v", 1);
	assert_string_equal(b.s, "*4\r\n$4\r\nHSET\r\n$4\r\nk1:h\r\n$4\r\nf-k1\r\n$1\r\nv\r\n");
	fo_buf_clear(&b);
	assert_true(fo_load_cmd_route_key(&mix.cmds[2], "k1", 2, &b));
	assert_string_equal(b.s, "k1:h");
	fo_buf_release(&b);
	fo_load_mix_release(&mix);

	void *parser = pr->parser_new();
	struct fo_load_reply rep;
	char why[96];
	size_t used;
	const char *moved = "-MOVED 3999 127.0.0.1:6381\r\n";
	assert_int_equal(pr->parse(parser, moved, strlen(moved), &used, &rep, why, sizeof(why)), 1);
	assert_int_equal(rep.status, FO_LOAD_REDIRECT);
	assert_false(rep.redirect.ask);
	assert_int_equal(rep.redirect.slot, 3999);
	assert_int_equal(rep.redirect.addr_len, strlen("127.0.0.1:6381"));
	assert_memory_equal(rep.redirect.addr, "127.0.0.1:6381", rep.redirect.addr_len);
	const char *ask = "-ASK 12182 10.0.0.3:7002\r\n";
	assert_int_equal(pr->parse(parser, ask, strlen(ask), &used, &rep, why, sizeof(why)), 1);
	assert_int_equal(rep.status, FO_LOAD_REDIRECT);
	assert_true(rep.redirect.ask);
	assert_int_equal(rep.redirect.slot, 12182);
	const char *wrong = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
	assert_int_equal(pr->parse(parser, wrong, strlen(wrong), &used, &rep, why, sizeof(why)), 1);
	assert_int_equal(rep.status, FO_LOAD_ERROR);
	char kind[32];
	pr->error_kind(rep.data, rep.len, kind, sizeof(kind));
	assert_string_equal(kind, "WRONGTYPE");
	assert_int_equal(pr->parse(parser, "$-1\r\n", 5, &used, &rep, why, sizeof(why)), 1);
	assert_int_equal(rep.status, FO_LOAD_NIL);
	assert_int_equal(pr->parse(parser, "$2\r\nhi\r\n", 8, &used, &rep, why, sizeof(why)), 1);
	assert_int_equal(rep.status, FO_LOAD_OK);
	assert_int_equal(rep.len, 2);
	assert_int_equal(pr->parse(parser, "!", 1, &used, &rep, why, sizeof(why)), FO_EPARSE);
	assert_true(why[0] != '\0');
	pr->parser_free(parser);
}

static void test_mix_errors(void **state)
{
	struct fo_load_mix mix;
	struct fo_err err = {0};
	const char *names[] = {"gte"};
	double weights[] = {1};
	assert_int_equal(fo_load_mix_build(&mix, "1:1", names, weights, 1, &err), FO_EINVAL);
	assert_non_null(strstr(err.msg, "did you mean 'get'"));
	fo_err_clear(&err);
	assert_int_equal(fo_load_mix_build(&mix, "0:0", NULL, NULL, 0, &err), FO_EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	fo_err_clear(&err);
	assert_int_equal(fo_load_mix_build(&mix, "9-1", NULL, NULL, 0, &err), FO_EINVAL);
	/* a weight of 0 drops a command; the shares follow the weights */
	assert_int_equal(fo_load_mix_build(&mix, "9:1", NULL, NULL, 0, &err), 0);
	assert_int_equal(mix.n, 2);
	assert_int_equal(fo_load_mix_pick(&mix, 0.0), 0);
	assert_int_equal(fo_load_mix_pick(&mix, 0.89), 0);
	assert_int_equal(fo_load_mix_pick(&mix, 0.91), 1);
	fo_load_mix_release(&mix);
	assert_int_equal(fo_load_mix_build(&mix, "0:1", NULL, NULL, 0, &err), 0);
	assert_int_equal(mix.n, 1);
	assert_string_equal(mix.cmds[0].name, "set");
	fo_load_mix_release(&mix);
}

static void test_zipf_and_values(void **state)
{
	struct fo_zipf z;
	fo_zipf_init(&z, 1000, 0.99);
	struct fo_rng r;
	fo_rng_seed(&r, 1);
	int64_t hits0 = 0, hits_last_half = 0, n = 100000;
	for (int64_t i = 0; i < n; i++) {
		uint64_t k = fo_zipf_sample(&z, fo_rng_double(&r));
		assert_true(k < 1000);
		hits0 += k == 0;
		hits_last_half += k >= 500;
	}
	/* rank 0 takes about 1/zeta(1000, 0.99) = 13% of draws; the colder half far less */
	assert_true(hits0 > n / 10 && hits0 < n / 6);
	assert_true(hits_last_half < n / 8);
	char v[16];
	fo_load_value(v, sizeof(v), 42, 7);
	assert_memory_equal(v, "k42v7|xxxxxxxxxx", 16);
	char shortv[3];
	fo_load_value(shortv, sizeof(shortv), 42, 7);
	assert_memory_equal(shortv, "k42", 3);
	char key[64];
	assert_int_equal(fo_load_key(key, "kv:", 3, 1234567), 10);
	assert_string_equal(key, "kv:1234567");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_types),
		cmocka_unit_test(test_bulk_with_binary_bytes),
		cmocka_unit_test(test_nested_arrays),
		cmocka_unit_test(test_split_at_every_byte),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_pipelined_replies),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_reset_forgets_partial_reply),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_redis_adapter),
		cmocka_unit_test(test_mix_errors),
		cmocka_unit_test(test_zipf_and_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
