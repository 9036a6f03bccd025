/*
 * base64.c: the RFC 4648 encoder and decoder of base64.h. The decoder works a quantum
 * (four characters, three bytes) at a time, skipping white space, and writes into a
 * scratch buffer first so that a failure leaves the caller's buffer untouched.
 */
#include "util/common.h"

#include "util/base64.h"
#include "util/buf.h"
#include "util/err.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t fo_base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

int fo_base64_encode(const void *p, size_t n, struct fo_buf *out)
{
	const unsigned char *in = p;
	size_t start = out->len;
	char q[4];
	int rc = 0;
	size_t i = 0;
	for (; i + 3 <= n && !rc; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		q[0] = alphabet[v >> 18 & 63];
		q[1] = alphabet[v >> 12 & 63];
		q[2] = alphabet[v >> 6 & 63];
		q[3] = alphabet[v & 63];
		rc = fo_buf_add(out, q, 4);
	}
	if (!rc && i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		q[0] = alphabet[v >> 18 & 63];
		q[1] = alphabet[v >> 12 & 63];
		q[2] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		q[3] = '=';
		rc = fo_buf_add(out, q, 4);
	}
	if (rc)
		fo_buf_truncate(out, start);
	return rc;
}

/* Returns the 6-bit value of c, or -1 when c is not in the alphabet. */
static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int bad_char(struct fo_err *err, unsigned char c, size_t at)
{
	if (c >= 0x21 && c < 0x7f)
		return fo_err_set(err, FO_EINVAL, "invalid base64 character '%c' at offset %zu", c, at);
	return fo_err_set(err, FO_EINVAL, "invalid base64 byte 0x%02x at offset %zu", c, at);
}

/* Appends the bytes of a partial quantum of q characters (2 or 3) held in v. */
static int flush_partial(struct fo_buf *b, uint32_t v, int q)
{
	unsigned char bytes[2];
	v <<= 6 * (4 - q);
	bytes[0] = (unsigned char)(v >> 16);
	bytes[1] = (unsigned char)(v >> 8);
	return fo_buf_add(b, bytes, (size_t)q - 1);
}

int fo_base64_decode(const char *s, size_t len, struct fo_buf *out, struct fo_err *err)
{
	struct fo_buf tmp = FO_BUF_INIT; /* at most 3/4 of len: no cap needed, out's applies at the end */
	uint32_t v = 0;
	int q = 0;            /* characters in the current quantum */
	int pads = 0;         /* '=' seen; once > 0 only padding and space may follow */
	int need_pads = 0;    /* '=' that complete the padding */
	size_t last = 0;      /* offset of the last significant character */
	int rc = 0;
	for (size_t i = 0; i < len && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_space(c))
			continue;
		if (c == '=') {
			if (pads == 0) {
				if (q < 2) {
					rc =
					    fo_err_set(err, FO_EINVAL, "misplaced base64 padding '=' at offset %zu", i);
					break;
				}
				need_pads = 4 - q;
			}
			if (++pads > need_pads) {
				rc = fo_err_set(err, FO_EINVAL, "too much base64 padding at offset %zu", i);
				break;
			}
			last = i;
			continue;
		}
		if (pads) {
			rc = value_of(c) < 0 ? bad_char(err, c, i)
					     : fo_err_set(err, FO_EINVAL,
							  "base64 text continues after the padding at offset %zu", i);
			break;
		}
		int x = value_of(c);
		if (x < 0) {
			rc = bad_char(err, c, i);
			break;
		}
		last = i;
		v = v << 6 | (uint32_t)x;
		if (++q == 4) {
			unsigned char bytes[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
			if (fo_buf_add(&tmp, bytes, 3))
				rc = FO_ETOOBIG;
			v = 0;
			q = 0;
		}
	}
	if (!rc && pads && pads < need_pads)
		rc = fo_err_set(err, FO_EINVAL, "incomplete base64 padding at offset %zu", last);
	if (!rc && q == 1)
		rc = fo_err_set(err, FO_EINVAL, "base64 text ends with a lone character at offset %zu", last);
	if (!rc && q > 1 && flush_partial(&tmp, v, q))
		rc = FO_ETOOBIG;
	if (!rc && fo_buf_add(out, tmp.s, tmp.len))
		rc = FO_ETOOBIG;
	if (rc == FO_ETOOBIG)
		fo_err_set(err, FO_ETOOBIG, "decoded base64 data is too large");
	fo_buf_release(&tmp);
	return rc;
}
