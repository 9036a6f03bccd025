/*
 * test_base64.c: RFC 4648 Base64: the RFC's test vectors both ways, white space and
 * missing padding accepted, and every kind of bad input refused with where it is.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/err.h"

/* RFC 4648, section 10. */
static const char *const vectors[][2] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

static void test_rfc_vectors_encode(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < FO_ARRAY_LEN(vectors); i++) {
		fo_buf_clear(&b);
		assert_int_equal(fo_base64_encode(vectors[i][0], strlen(vectors[i][0]), &b), 0);
		assert_string_equal(b.s, vectors[i][1]);
		assert_int_equal(fo_base64_encoded_len(strlen(vectors[i][0])), strlen(vectors[i][1]));
	}
	fo_buf_release(&b);
}

static void test_rfc_vectors_decode(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	struct fo_err err = {0};
	for (size_t i = 0; i < FO_ARRAY_LEN(vectors); i++) {
		fo_buf_clear(&b);
		assert_int_equal(fo_base64_decode(vectors[i][1], strlen(vectors[i][1]), &b, &err), 0);
		assert_string_equal(b.s, vectors[i][0]);
	}
	assert_int_equal(err.code, 0);
	fo_buf_release(&b);
}

static void test_binary_round_trip(void **state)
{
	unsigned char bytes[256];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(255 - i);
	struct fo_buf enc = FO_BUF_INIT, dec = FO_BUF_INIT;
	for (size_t n = 0; n <= sizeof(bytes); n += 37) {
		fo_buf_clear(&enc);
		fo_buf_clear(&dec);
		assert_int_equal(fo_base64_encode(bytes, n, &enc), 0);
		assert_int_equal(fo_base64_decode(enc.s, enc.len, &dec, NULL), 0);
		assert_int_equal(dec.len, n);
		assert_memory_equal(dec.s, bytes, n);
	}
	fo_buf_release(&enc);
	fo_buf_release(&dec);
}

static void test_decode_appends(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "x:");
	assert_int_equal(fo_base64_decode("Zm9v", 4, &b, NULL), 0);
	assert_string_equal(b.s, "x:foo");
	fo_buf_release(&b);
}

static void test_white_space_and_missing_padding(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	const char *s = "  Zm9v\nYmFy\r\n\tYg =\n=\n";
	assert_int_equal(fo_base64_decode(s, strlen(s), &b, NULL), 0);
	assert_string_equal(b.s, "foobarb");
	fo_buf_clear(&b);
	assert_int_equal(fo_base64_decode("Zm9vYg", 6, &b, NULL), 0);
	assert_string_equal(b.s, "foob");
	fo_buf_clear(&b);
	assert_int_equal(fo_base64_decode("Zm9vYmE", 7, &b, NULL), 0);
	assert_string_equal(b.s, "fooba");
	fo_buf_clear(&b);
	/* only the given length is read */
	assert_int_equal(fo_base64_decode("Zm9v!!!", 4, &b, NULL), 0);
	assert_string_equal(b.s, "foo");
	fo_buf_release(&b);
}

static void expect_bad(const char *s, const char *msg)
{
	struct fo_buf b = FO_BUF_INIT;
	struct fo_err err = {0};
	fo_buf_adds(&b, "before");
	assert_int_equal(fo_base64_decode(s, strlen(s), &b, &err), FO_EINVAL);
	assert_int_equal(err.code, FO_EINVAL);
	assert_string_equal(err.msg, msg);
	assert_string_equal(b.s, "before");
	fo_buf_release(&b);
}

static void test_bad_input(void **state)
{
	expect_bad("Zm9v!mFy", "invalid base64 character '!' at offset 4");
	expect_bad("Zm9v-_", "invalid base64 character '-' at offset 4");
	expect_bad("Zm\x01v", "invalid base64 byte 0x01 at offset 2");
	expect_bad("Zm9vY", "base64 text ends with a lone character at offset 4");
	expect_bad("Z===", "misplaced base64 padding '=' at offset 1");
	expect_bad("=", "misplaced base64 padding '=' at offset 0");
	expect_bad("Zg==Zg==", "base64 text continues after the padding at offset 4");
	expect_bad("Zm8==", "too much base64 padding at offset 4");
	expect_bad("Zg=", "incomplete base64 padding at offset 2");
	expect_bad("Zg= x", "base64 text continues after the padding at offset 4");
	expect_bad("Zg=?", "invalid base64 character '?' at offset 3");
}

static void test_caps(void **state)
{
	struct fo_buf b;
	struct fo_err err = {0};
	fo_buf_init(&b, 4);
	assert_int_equal(fo_base64_decode("Zm9vYmFy", 8, &b, &err), FO_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(err.code, FO_ETOOBIG);
	assert_int_equal(fo_base64_encode("foobar", 6, &b), FO_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(fo_base64_encode("foo", 3, &b), 0);
	assert_string_equal(b.s, "Zm9v");
	fo_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors_encode),
		cmocka_unit_test(test_rfc_vectors_decode),
		cmocka_unit_test(test_binary_round_trip),
		cmocka_unit_test(test_decode_appends),
		cmocka_unit_test(test_white_space_and_missing_padding),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
