/*
 * hdr_codec.c: Java HdrHistogram's binary encodings. We write V2 (the current one) and
 * read V0, V1 and V2, each plain or zlib-compressed:
 *
 *   compressed: BE int32 cookie (V2 0x1c849314, V1 0x1c8493x2, V0 0x1c8493x9) | BE int32
 *               length | zlib stream of a plain encoding
 *   plain V1/V2: BE int32 cookie (V2 0x1c849313, V1 0x1c8493x1) | payload length |
 *               normalizing index offset | significant digits | int64 lowest | int64
 *               highest | float64 integer-to-double ratio | counts
 *   plain V0:   BE int32 cookie 0x1c8493x8 | significant digits | int64 lowest | int64
 *               highest | int64 total count (ignored) | counts
 *
 * V2 counts are ZigZag LEB128 (at most 9 bytes, the 9th carries 8 bits), a negative -k
 * meaning k empty buckets; V0 and V1 counts are big-endian words of the size in the
 * cookie's 0xf0 nibble. As Java, we read at most counts_len * 8 payload bytes, and decode
 * into a histogram with the source's own range. Anything malformed is refused with a
 * reason, never read past: these bytes come from files.
 */
#include "util/common.h"

#include <inttypes.h>
#include <zlib.h>

#include "metrics/hdr.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

enum {
	V0_COOKIE = 0x1c849308,
	V0_COMPRESSED_COOKIE = 0x1c849309,
	V1_COOKIE = 0x1c849301,
	V1_COMPRESSED_COOKIE = 0x1c849302,
	V2_COOKIE = 0x1c849303,
	V2_COMPRESSED_COOKIE = 0x1c849304,
	V2_WORD = 9, /* "word size" of the LEB128 encoding */
	HEADER_SIZE = 40,
	V0_HEADER_SIZE = 32,
};

static int32_t cookie_base(uint32_t cookie)
{
	return (int32_t)(cookie & ~0xf0u);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ---- encoding ---- */

/* Writes v as ZigZag LEB128 at p (room for 9 bytes); returns the bytes written. */
static size_t zigzag_put(uint8_t *p, int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if ((u >> 7) == 0) {
			p[n++] = (uint8_t)u;
			return n;
		}
		p[n++] = (uint8_t)((u & 0x7f) | 0x80);
		u >>= 7;
	}
	p[n++] = (uint8_t)u;
	return n;
}

/* Fills p (room for HEADER_SIZE + 9 * relevant length) with the plain V2 encoding of h;
 * returns its length. The counts stop at the max value's bucket, as in Java. */
static size_t encode_plain(const struct fo_hdr *h, uint8_t *p, int32_t limit)
{
	put_be32(p, V2_COOKIE | 0x10);
	put_be32(p + 8, 0); /* normalizing index offset */
	put_be32(p + 12, (uint32_t)h->sigfigs);
	put_be64(p + 16, (uint64_t)h->lowest);
	put_be64(p + 24, (uint64_t)h->highest);
	double ratio = 1.0;
	uint64_t bits;
	memcpy(&bits, &ratio, sizeof(bits));
	put_be64(p + 32, bits);
	size_t n = HEADER_SIZE;
	for (int32_t i = 0; i < limit;) {
		int64_t count = h->counts[i++];
		int64_t zeros = 0;
		if (count == 0) {
			zeros = 1;
			while (i < limit && h->counts[i] == 0) {
				zeros++;
				i++;
			}
		}
		n += zigzag_put(p + n, zeros > 1 ? -zeros : count);
	}
	put_be32(p + 4, (uint32_t)(n - HEADER_SIZE));
	return n;
}

/* How many counts the encoding holds: up to the max value's index. */
static int32_t relevant_length(const struct fo_hdr *h)
{
	int32_t i = fo__hdr_index(h, h->max_value) + 1;
	return i < h->counts_len ? i : h->counts_len;
}

int fo_hdr_encode(const struct fo_hdr *h, struct fo_buf *out)
{
	int32_t limit = relevant_length(h);
	uint8_t *p = fo_malloc(HEADER_SIZE + (size_t)limit * V2_WORD);
	size_t n = encode_plain(h, p, limit);
	int rc = fo_buf_add(out, p, n);
	fo_free(p);
	return rc;
}

int fo_hdr_encode_compressed(const struct fo_hdr *h, struct fo_buf *out)
{
	int32_t limit = relevant_length(h);
	uint8_t *plain = fo_malloc(HEADER_SIZE + (size_t)limit * V2_WORD);
	size_t n = encode_plain(h, plain, limit);
	uLongf zlen = compressBound((uLong)n);
	uint8_t *z = fo_malloc(8 + zlen);
	int rc = 0;
	if (compress2(z + 8, &zlen, plain, (uLong)n, Z_DEFAULT_COMPRESSION) != Z_OK) {
		rc = FO_EIO;
	} else {
		put_be32(z, V2_COMPRESSED_COOKIE | 0x10);
		put_be32(z + 4, (uint32_t)zlen);
		rc = fo_buf_add(out, z, 8 + zlen);
	}
	fo_free(z);
	fo_free(plain);
	return rc;
}

/* ---- decoding ---- */

struct header {
	uint32_t cookie;
	int word;             /* bytes per count: 2, 4, 8, or V2_WORD */
	int64_t payload_len;  /* INT32_MAX for V0 (unknown) */
	int32_t sigfigs;
	int64_t lowest, highest;
	size_t size;          /* bytes of header */
};

/* The header size of the plain encoding a cookie announces, or 0 for an unknown cookie. */
static size_t header_size(uint32_t cookie)
{
	int32_t base = cookie_base(cookie);
	if (base == V2_COOKIE || base == V1_COOKIE)
		return HEADER_SIZE;
	if (base == V0_COOKIE)
		return V0_HEADER_SIZE;
	return 0;
}

static int parse_header(const uint8_t *p, size_t n, struct header *hd, struct fo_err *err)
{
	hd->cookie = get_be32(p);
	hd->size = header_size(hd->cookie);
	if (!hd->size)
		return fo_err_set(err, FO_EPARSE, "not a histogram (unknown cookie 0x%08x)", hd->cookie);
	if (n < hd->size)
		return fo_err_set(err, FO_EPARSE, "truncated histogram header (%zu bytes)", n);
	int32_t base = cookie_base(hd->cookie);
	hd->word = base == V2_COOKIE ? V2_WORD : (int)((hd->cookie & 0xf0) >> 4 & 0xe);
	if (hd->word != 2 && hd->word != 4 && hd->word != 8 && hd->word != V2_WORD)
		return fo_err_set(err, FO_EPARSE, "unsupported count size %d in cookie 0x%08x", hd->word, hd->cookie);
	if (base == V0_COOKIE) {
		hd->sigfigs = (int32_t)get_be32(p + 4);
		hd->lowest = (int64_t)get_be64(p + 8);
		hd->highest = (int64_t)get_be64(p + 16);
		hd->payload_len = INT32_MAX;
		return 0;
	}
	hd->payload_len = (int32_t)get_be32(p + 4);
	int32_t offset = (int32_t)get_be32(p + 8);
	hd->sigfigs = (int32_t)get_be32(p + 12);
	hd->lowest = (int64_t)get_be64(p + 16);
	hd->highest = (int64_t)get_be64(p + 24);
	if (hd->payload_len < 0)
		return fo_err_set(err, FO_EPARSE, "negative payload length %" PRId64, hd->payload_len);
	if (offset != 0)
		return fo_err_set(err, FO_EPARSE, "normalizing index offset %d is not supported (a shifted histogram)",
				  offset);
	return 0;
}

/* Java's establishInternalTackingValues: total, min and max from what the counts held. */
static void establish_stats(struct fo_hdr *h, int32_t max_index, int32_t min_nonzero_index, int64_t total)
{
	h->max_value = 0;
	h->min_value = INT64_MAX;
	if (max_index >= 0)
		h->max_value = fo_hdr_highest_equivalent(h, fo_hdr_value_from_index(h, max_index)) | h->unit_magnitude_mask;
	if (min_nonzero_index >= 0) {
		int64_t v = fo_hdr_value_from_index(h, min_nonzero_index);
		if (v > h->unit_magnitude_mask)
			h->min_value = v & ~h->unit_magnitude_mask;
	}
	h->total_count = total;
}

/* Reads one ZigZag LEB128 number at *q (before end); the first byte is handled inline by
 * the caller, this is the rest. Returns false when the bytes run out. */
static bool leb128_rest(const uint8_t **q, const uint8_t *end, uint64_t *u)
{
	uint64_t v = **q & 0x7f;
	(*q)++;
	for (int i = 1;; i++) {
		if (*q >= end)
			return false;
		uint8_t b = *(*q)++;
		if (i == 8) {
			v |= (uint64_t)b << 56;
			break;
		}
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	*u = v;
	return true;
}

/* Reads the n payload bytes at p into h's counts, and establishes the statistics. */
static int fill_counts(struct fo_hdr *h, const uint8_t *p, size_t n, int word, struct fo_err *err)
{
	const uint8_t *q = p, *end = p + n;
	int64_t *counts = h->counts;
	int64_t len = h->counts_len, index = 0, total = 0;
	int32_t max_index = -1, min_nonzero_index = -1;
	while (q < end) {
		if (word == V2_WORD) {
			/* The common case without branches to mispredict: one-byte numbers (counts
			 * below 64, runs of up to 64 empty buckets) that land inside the counts. */
			while (q < end && *q < 0x80 && index < len) {
				int64_t c = (int64_t)(*q >> 1) ^ -(int64_t)(*q & 1);
				int64_t positive = c & ~(c >> 63);
				q++;
				counts[index] = positive; /* 0 for a run: those buckets are empty anyway */
				total = fo__wrap_add(total, positive);
				max_index = positive ? (int32_t)index : max_index;
				min_nonzero_index =
					positive && index && min_nonzero_index < 0 ? (int32_t)index : min_nonzero_index;
				index += c < 0 ? -c : 1;
			}
			if (q >= end)
				break;
		}
		int64_t count;
		if (word == V2_WORD) {
			uint64_t u = *q;
			if (u < 0x80)
				q++;
			else if (!leb128_rest(&q, end, &u))
				return fo_err_set(err, FO_EPARSE, "truncated count at byte %td of the payload", q - p);
			count = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
			if (count < 0) {
				if (-(uint64_t)count > INT32_MAX)
					return fo_err_set(err, FO_EPARSE, "a run of %" PRIu64 " empty buckets is too long",
							  -(uint64_t)count);
				index += -count;
				continue;
			}
		} else {
			if (end - q < word)
				break; /* a partial word at the end: ignored */
			uint64_t u = 0;
			for (int i = 0; i < word; i++)
				u = u << 8 | *q++;
			/* sign-extend, as Java's getShort/getInt/getLong */
			int shift = 64 - 8 * word;
			count = (int64_t)(u << shift) >> shift;
			if (count < 0)
				return fo_err_set(err, FO_EPARSE, "negative count %" PRId64 " at index %" PRId64, count, index);
		}
		if (index >= len) {
			if (count == 0) {
				index++;
				continue;
			}
			return fo_err_set(err, FO_EPARSE, "count at index %" PRId64 " is past the histogram's range (%d buckets)",
					  index, h->counts_len);
		}
		counts[index] = count;
		if (count > 0) {
			total = fo__wrap_add(total, count);
			max_index = (int32_t)index;
			if (min_nonzero_index < 0 && index != 0)
				min_nonzero_index = (int32_t)index;
		}
		index++;
	}
	establish_stats(h, max_index, min_nonzero_index, total);
	return 0;
}

/* Makes h the histogram a header describes. */
static int init_from_header(struct fo_hdr *h, const struct header *hd, struct fo_err *err)
{
	if (fo_hdr_init(h, hd->lowest, hd->highest, hd->sigfigs))
		return fo_err_set(err, FO_EPARSE,
				  "invalid histogram range: lowest %" PRId64 ", highest %" PRId64 ", %d significant digits",
				  hd->lowest, hd->highest, hd->sigfigs);
	return 0;
}

/* How many payload bytes Java reads: at most 8 per count. */
static size_t expected_payload(const struct fo_hdr *h, const struct header *hd)
{
	int64_t cap = (int64_t)h->counts_len * 8;
	return (size_t)(hd->payload_len < cap ? hd->payload_len : cap);
}

static int decode_plain(const uint8_t *p, size_t n, struct fo_hdr *h, struct fo_err *err)
{
	struct header hd;
	int rc = parse_header(p, n, &hd, err);
	if (rc || (rc = init_from_header(h, &hd, err)))
		return rc;
	size_t want = expected_payload(h, &hd), have = n - hd.size;
	if (hd.payload_len != INT32_MAX && have < want)
		return fo_err_set(err, FO_EPARSE, "truncated payload: %zu of %zu bytes", have, want);
	return fill_counts(h, p + hd.size, have < want ? have : want, hd.word, err);
}

/* Inflates into out (n bytes): returns the bytes produced, or -1 on a zlib error. */
static long inflate_some(z_stream *zs, uint8_t *out, size_t n, struct fo_err *err)
{
	zs->next_out = out;
	zs->avail_out = (uInt)n;
	int zrc = inflate(zs, Z_SYNC_FLUSH);
	if (zrc != Z_OK && zrc != Z_STREAM_END && !(zrc == Z_BUF_ERROR && zs->avail_out == 0)) {
		fo_err_set(err, FO_EPARSE, "corrupt compressed histogram (zlib: %s)", zs->msg ? zs->msg : zError(zrc));
		return -1;
	}
	return (long)(n - zs->avail_out);
}

static int decode_compressed(const uint8_t *p, size_t n, struct fo_hdr *h, struct fo_err *err)
{
	if (n < 8)
		return fo_err_set(err, FO_EPARSE, "truncated compressed histogram (%zu bytes)", n);
	int32_t zlen = (int32_t)get_be32(p + 4);
	if (zlen < 0 || (size_t)zlen > n - 8)
		return fo_err_set(err, FO_EPARSE, "compressed length %d is past the %zu bytes given", zlen, n - 8);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return fo_err_set(err, FO_ENOMEM, "cannot start zlib");
	zs.next_in = (Bytef *)(p + 8);
	zs.avail_in = (uInt)zlen;
	uint8_t head[HEADER_SIZE];
	uint8_t *payload = NULL;
	int rc = 0;
	long got = inflate_some(&zs, head, 4, err);
	if (got < 0) {
		rc = FO_EPARSE;
		goto out;
	}
	size_t size = got == 4 ? header_size(get_be32(head)) : 0;
	if (!size) {
		rc = got == 4 ? fo_err_set(err, FO_EPARSE, "not a histogram (unknown cookie 0x%08x inside)", get_be32(head))
			      : fo_err_set(err, FO_EPARSE, "truncated compressed histogram");
		goto out;
	}
	got = inflate_some(&zs, head + 4, size - 4, err);
	if (got < 0) {
		rc = FO_EPARSE;
		goto out;
	}
	struct header hd;
	if ((rc = parse_header(head, 4 + (size_t)got, &hd, err)) || (rc = init_from_header(h, &hd, err)))
		goto out;
	size_t want = expected_payload(h, &hd);
	payload = fo_malloc(want ? want : 1);
	got = inflate_some(&zs, payload, want, err);
	if (got < 0) {
		rc = FO_EPARSE;
		goto out;
	}
	if (hd.payload_len != INT32_MAX && (size_t)got < (size_t)hd.payload_len && (size_t)got < want) {
		rc = fo_err_set(err, FO_EPARSE, "truncated payload: %ld of %" PRId64 " bytes", got, hd.payload_len);
		goto out;
	}
	rc = fill_counts(h, payload, (size_t)got, hd.word, err);
out:
	inflateEnd(&zs);
	fo_free(payload);
	return rc;
}

int fo_hdr_decode(const void *data, size_t len, struct fo_hdr *h, struct fo_err *err)
{
	const uint8_t *p = data;
	memset(h, 0, sizeof(*h));
	int rc;
	if (len < 4) {
		rc = fo_err_set(err, FO_EPARSE, "truncated histogram (%zu bytes)", len);
	} else {
		int32_t base = cookie_base(get_be32(p));
		if (base == V2_COMPRESSED_COOKIE || base == V1_COMPRESSED_COOKIE || base == V0_COMPRESSED_COOKIE)
			rc = decode_compressed(p, len, h, err);
		else
			rc = decode_plain(p, len, h, err);
	}
	if (rc)
		fo_hdr_release(h);
	return rc;
}
