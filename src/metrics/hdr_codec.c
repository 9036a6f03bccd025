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
 *
 * Reading a log is mostly inflating and decoding counts, so a fo_hdr_decoder keeps its
 * zlib stream and buffers from one histogram to the next, inflates with libdeflate when
 * the system has it, and adds the counts straight into an accumulator when the layouts
 * match (fo_hdr_decoder_add), eight one-byte numbers at a time.
 */
#include "util/common.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
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

void fo_hdr_encoder_init(struct fo_hdr_encoder *e)
{
	memset(e, 0, sizeof(*e));
}

void fo_hdr_encoder_release(struct fo_hdr_encoder *e)
{
	if (e->zs) {
		deflateEnd(e->zs);
		fo_free(e->zs);
	}
	fo_free(e->plain);
	fo_free(e->z);
	memset(e, 0, sizeof(*e));
}

/* Makes *buf hold at least n bytes (its contents are not kept). */
static uint8_t *reserve(uint8_t **buf, size_t *cap, size_t n)
{
	if (*cap < n) {
		fo_free(*buf);
		*buf = fo_malloc(n);
		*cap = n;
	}
	return *buf;
}

/* e's deflate stream, reset for a new histogram (made on first use); NULL if zlib fails. */
static z_stream *deflate_stream(struct fo_hdr_encoder *e)
{
	z_stream *zs = e->zs;
	if (zs) {
		if (deflateReset(zs) == Z_OK)
			return zs;
		deflateEnd(zs);
		fo_free(zs);
		e->zs = NULL;
	}
	zs = fo_calloc(1, sizeof(*zs));
	if (deflateInit(zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
		fo_free(zs);
		return NULL;
	}
	e->zs = zs;
	return zs;
}

int fo_hdr_encoder_encode(struct fo_hdr_encoder *e, const struct fo_hdr *h, struct fo_buf *out)
{
	int32_t limit = relevant_length(h);
	uint8_t *plain = reserve(&e->plain, &e->plain_cap, HEADER_SIZE + (size_t)limit * V2_WORD);
	size_t n = encode_plain(h, plain, limit);
	z_stream *zs = deflate_stream(e);
	if (!zs)
		return FO_EIO;
	/* compress2's work, on a reused stream: the same bytes */
	uLong bound = compressBound((uLong)n);
	uint8_t *z = reserve(&e->z, &e->z_cap, 8 + bound);
	zs->next_in = plain;
	zs->avail_in = (uInt)n;
	zs->next_out = z + 8;
	zs->avail_out = (uInt)bound;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END)
		return FO_EIO;
	put_be32(z, V2_COMPRESSED_COOKIE | 0x10);
	put_be32(z + 4, (uint32_t)zs->total_out);
	return fo_buf_add(out, z, 8 + zs->total_out);
}

int fo_hdr_encode_compressed(const struct fo_hdr *h, struct fo_buf *out)
{
	struct fo_hdr_encoder e = {0};
	int rc = fo_hdr_encoder_encode(&e, h, out);
	fo_hdr_encoder_release(&e);
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
		v |= (uint64_t)(b & 0x7f) << 7 * i;
		if (!(b & 0x80))
			break;
	}
	*u = v;
	return true;
}

/* Grows h (auto-resizing) so that index i is inside its counts. */
static void grow_to(struct fo_hdr *h, int64_t i)
{
	fo__hdr_resize(h, fo_hdr_highest_equivalent(h, fo_hdr_value_from_index(h, (int32_t)i)));
}

/* Adds one V2 number c at index, without branches: a count, or -k for a run of k empty
 * buckets (whose first one gets 0 added). Returns the next index. */
static inline int64_t add_number(int64_t *counts, int64_t index, int64_t c, int64_t *total, int64_t *max_index)
{
	int64_t run = c >> 63; /* all ones for a run */
	int64_t add = c & ~run;
	counts[index] = fo__wrap_add(counts[index], add);
	*total = fo__wrap_add(*total, add);
	*max_index = add ? index : *max_index;
	return index + ((run & -c) | (~run & 1));
}

/*
 * Adds the counts of the n payload bytes at p, the counts of a source histogram of src_len
 * buckets with h's unit and sub-bucket count, into h, then updates h's total, min, max
 * and size as fo_hdr_add does (for a zeroed h of the source's layout, that is what
 * decoding gives: Java's establishInternalTackingValues). h grows as needed when it
 * auto-resizes (a source count past h's counts otherwise is the caller's to prevent).
 */
static int fill_add(struct fo_hdr *h, int32_t src_len, const uint8_t *p, size_t n, int word, struct fo_err *err)
{
	const uint8_t *q = p, *end = p + n;
	int64_t *counts = h->counts;
	int32_t old_len = h->counts_len;
	/* Source counts are read up to src_len; h's up to lim (it may grow). */
	int64_t lim = h->counts_len < src_len ? h->counts_len : src_len;
	int64_t index = 0, total = 0, max_index = -1, min_nonzero_index = -1;
	while (q < end) {
		if (word == V2_WORD && min_nonzero_index >= 0 && end - q > 2) {
			/* The bulk of a dense histogram, without branches on the data: one- and
			 * two-byte numbers (counts below 8192, runs of fewer than 8193 empty
			 * buckets) that land inside h's counts. Stops before anything else. */
			const uint8_t *stop = end - 2;
			for (;;) {
				/* Eight one-byte numbers at a time (nearly all of them), when their
				 * buckets (at most 7 runs of 64 ahead) are surely inside h's counts. */
				uint64_t x;
				while (stop - q >= 8 && index + 7 * 64 < lim &&
				       (memcpy(&x, q, 8), !(x & 0x8080808080808080u))) {
					q += 8;
					for (int k = 0; k < 8; k++) {
						uint64_t u = x >> 8 * k & 0x7f;
						int64_t c = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
						index = add_number(counts, index, c, &total, &max_index);
					}
				}
				/* Then one number of one or two bytes. */
				if (q >= stop || index >= lim)
					break;
				uint32_t b0 = q[0], b1 = q[1];
				if (b0 & b1 & 0x80)
					break;
				uint32_t two = b0 >> 7;
				uint64_t u = (b0 & 0x7f) | ((b1 & 0x7f) << 7 & -two);
				q += 1 + two;
				int64_t c = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
				index = add_number(counts, index, c, &total, &max_index);
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
		if (index >= lim) {
			if (count == 0) {
				index++;
				continue;
			}
			if (index >= src_len)
				return fo_err_set(err, FO_EPARSE,
						  "count at index %" PRId64 " is past the histogram's range (%d buckets)", index,
						  src_len);
			grow_to(h, index);
			counts = h->counts;
			lim = h->counts_len < src_len ? h->counts_len : src_len;
		}
		counts[index] = fo__wrap_add(counts[index], count);
		total = fo__wrap_add(total, count);
		max_index = count ? index : max_index;
		min_nonzero_index = count && index && min_nonzero_index < 0 ? index : min_nonzero_index;
		index++;
	}
	/* The statistics, as fo_hdr_add sets them from the source's. */
	int64_t mask = h->unit_magnitude_mask;
	int64_t src_max = max_index < 0 ? 0 : fo_hdr_highest_equivalent(h, fo_hdr_value_from_index(h, (int32_t)max_index));
	if (max_index >= old_len)
		fo__hdr_resize(h, src_max); /* as Java's add(): the highest becomes the source's max */
	h->total_count = fo__wrap_add(h->total_count, total);
	int64_t dst_max = fo_hdr_max(h);
	int64_t m = dst_max > src_max ? dst_max : src_max;
	if (m > h->max_value)
		h->max_value = m | mask;
	int64_t src_min = INT64_MAX;
	if (min_nonzero_index >= 0) {
		int64_t v = fo_hdr_value_from_index(h, (int32_t)min_nonzero_index);
		if (v > mask)
			src_min = fo_hdr_lowest_equivalent(h, v & ~mask);
	}
	int64_t dst_min = fo_hdr_min_nonzero(h);
	int64_t mn = dst_min < src_min ? dst_min : src_min;
	if (mn < INT64_MAX && mn < h->min_value && mn > mask)
		h->min_value = mn & ~mask;
	return 0;
}

/* The plain encoding of a histogram: its header, the source's layout, and its payload. */
struct plain {
	struct header hd;
	struct fo_hdr lay;    /* the source's layout (no counts) */
	const uint8_t *payload;
	size_t n;             /* payload bytes to read */
};

/* Sets pl->lay to the layout a header describes. */
static int layout_of(struct plain *pl, struct fo_err *err)
{
	const struct header *hd = &pl->hd;
	if (fo__hdr_layout(&pl->lay, hd->lowest, hd->highest, hd->sigfigs))
		return fo_err_set(err, FO_EPARSE,
				  "invalid histogram range: lowest %" PRId64 ", highest %" PRId64 ", %d significant digits",
				  hd->lowest, hd->highest, hd->sigfigs);
	return 0;
}

/* How many payload bytes Java reads: at most 8 per count. */
static size_t expected_payload(const struct plain *pl)
{
	int64_t cap = (int64_t)pl->lay.counts_len * 8;
	return (size_t)(pl->hd.payload_len < cap ? pl->hd.payload_len : cap);
}

static int plain_of_plain(const uint8_t *p, size_t n, struct plain *pl, struct fo_err *err)
{
	int rc = parse_header(p, n, &pl->hd, err);
	if (rc || (rc = layout_of(pl, err)))
		return rc;
	size_t want = expected_payload(pl), have = n - pl->hd.size;
	if (pl->hd.payload_len != INT32_MAX && have < want)
		return fo_err_set(err, FO_EPARSE, "truncated payload: %zu of %zu bytes", have, want);
	pl->payload = p + pl->hd.size;
	pl->n = have < want ? have : want;
	return 0;
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

/* d's zlib stream, reset for a new histogram (made on first use). */
static z_stream *stream_of(struct fo_hdr_decoder *d, struct fo_err *err)
{
	z_stream *zs = d->zs;
	if (zs) {
		if (inflateReset(zs) == Z_OK)
			return zs;
		inflateEnd(zs);
		fo_free(zs);
		d->zs = NULL;
	}
	zs = fo_calloc(1, sizeof(*zs));
	if (inflateInit(zs) != Z_OK) {
		fo_free(zs);
		fo_err_set(err, FO_ENOMEM, "cannot start zlib");
		return NULL;
	}
	d->zs = zs;
	return zs;
}

/* ---- libdeflate, when the system has it ----
 *
 * libdeflate inflates a whole zlib stream in one call about twice as fast as zlib, and
 * inflating is most of the time of reading a log. It is loaded on first use (dlopen, as
 * libcurl in spec/files.c), not linked: without it, zlib does everything. It only ever
 * takes the easy case: a valid stream whose output fits the decoder's buffer and holds a
 * valid header. Anything else goes through zlib, which decides (and words the errors)
 * exactly as before, so the results cannot differ. */

enum { LIBDEFLATE_SUCCESS = 0, LIBDEFLATE_INSUFFICIENT_SPACE = 3 };
enum { FAST_MIN_BUF = 1 << 16, FAST_MAX_BUF = 1 << 24 };

static struct {
	void *(*alloc)(void);
	int (*zlib_decompress)(void *d, const void *in, size_t in_n, void *out, size_t out_avail, size_t *out_n);
	void (*free)(void *d);
} libdeflate;
static pthread_once_t libdeflate_once = PTHREAD_ONCE_INIT;

static void libdeflate_load(void)
{
	if (getenv("FALLOUT_NO_LIBDEFLATE"))
		return; /* for comparing with zlib alone */
	void *lib = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return;
	*(void **)&libdeflate.alloc = dlsym(lib, "libdeflate_alloc_decompressor");
	*(void **)&libdeflate.zlib_decompress = dlsym(lib, "libdeflate_zlib_decompress");
	*(void **)&libdeflate.free = dlsym(lib, "libdeflate_free_decompressor");
	if (!libdeflate.alloc || !libdeflate.zlib_decompress || !libdeflate.free) {
		memset(&libdeflate, 0, sizeof(libdeflate));
		dlclose(lib);
	}
}

/* Inflates the zlen bytes at z with libdeflate into d->buf and finds the plain encoding
 * there. Returns false when zlib must do it. */
static bool inflate_fast(struct fo_hdr_decoder *d, const uint8_t *z, size_t zlen, struct plain *pl)
{
	pthread_once(&libdeflate_once, libdeflate_load);
	if (!libdeflate.alloc || d->no_fast)
		return false;
	if (!d->fast && !(d->fast = libdeflate.alloc()))
		return false;
	for (;;) {
		if (d->cap < FAST_MIN_BUF) {
			fo_free(d->buf);
			d->cap = FAST_MIN_BUF;
			d->buf = fo_malloc(d->cap);
		}
		size_t got = 0;
		int rc = libdeflate.zlib_decompress(d->fast, z, zlen, d->buf, d->cap, &got);
		if (rc == LIBDEFLATE_INSUFFICIENT_SPACE && d->cap < FAST_MAX_BUF) {
			fo_free(d->buf);
			d->cap *= 2;
			d->buf = fo_malloc(d->cap);
			continue;
		}
		if (rc == LIBDEFLATE_INSUFFICIENT_SPACE)
			d->no_fast = true; /* histograms this large are zlib's (it reads only what it needs) */
		if (rc != LIBDEFLATE_SUCCESS || got < 4)
			return false;
		size_t size = header_size(get_be32(d->buf));
		if (!size || got < size || parse_header(d->buf, got, &pl->hd, NULL) || layout_of(pl, NULL))
			return false;
		/* What zlib would give: at most the payload Java reads, and all of it. */
		size_t want = expected_payload(pl), have = got - size;
		if (pl->hd.payload_len != INT32_MAX && have < (size_t)pl->hd.payload_len && have < want)
			return false;
		pl->payload = d->buf + size;
		pl->n = have < want ? have : want;
		return true;
	}
}

static int plain_of_compressed(struct fo_hdr_decoder *d, const uint8_t *p, size_t n, struct plain *pl,
			       struct fo_err *err)
{
	if (n < 8)
		return fo_err_set(err, FO_EPARSE, "truncated compressed histogram (%zu bytes)", n);
	int32_t zlen = (int32_t)get_be32(p + 4);
	if (zlen < 0 || (size_t)zlen > n - 8)
		return fo_err_set(err, FO_EPARSE, "compressed length %d is past the %zu bytes given", zlen, n - 8);
	if (inflate_fast(d, p + 8, (size_t)zlen, pl))
		return 0;
	z_stream *zs = stream_of(d, err);
	if (!zs)
		return FO_ENOMEM;
	zs->next_in = (Bytef *)(p + 8);
	zs->avail_in = (uInt)zlen;
	uint8_t head[HEADER_SIZE];
	long got = inflate_some(zs, head, 4, err);
	if (got < 0)
		return FO_EPARSE;
	size_t size = got == 4 ? header_size(get_be32(head)) : 0;
	if (!size)
		return got == 4 ? fo_err_set(err, FO_EPARSE, "not a histogram (unknown cookie 0x%08x inside)", get_be32(head))
				: fo_err_set(err, FO_EPARSE, "truncated compressed histogram");
	got = inflate_some(zs, head + 4, size - 4, err);
	if (got < 0)
		return FO_EPARSE;
	int rc = parse_header(head, 4 + (size_t)got, &pl->hd, err);
	if (rc || (rc = layout_of(pl, err)))
		return rc;
	size_t want = expected_payload(pl);
	if (d->cap < want || !d->buf) {
		fo_free(d->buf);
		d->cap = want > d->cap * 2 ? want : d->cap * 2;
		d->buf = fo_malloc(d->cap ? d->cap : 1);
	}
	got = inflate_some(zs, d->buf, want, err);
	if (got < 0)
		return FO_EPARSE;
	if (pl->hd.payload_len != INT32_MAX && (size_t)got < (size_t)pl->hd.payload_len && (size_t)got < want)
		return fo_err_set(err, FO_EPARSE, "truncated payload: %ld of %" PRId64 " bytes", got, pl->hd.payload_len);
	pl->payload = d->buf;
	pl->n = (size_t)got;
	return 0;
}

/* Finds (or inflates) the plain encoding of the len bytes at data. */
static int plain_of(struct fo_hdr_decoder *d, const void *data, size_t len, struct plain *pl, struct fo_err *err)
{
	const uint8_t *p = data;
	if (len < 4)
		return fo_err_set(err, FO_EPARSE, "truncated histogram (%zu bytes)", len);
	int32_t base = cookie_base(get_be32(p));
	if (base == V2_COMPRESSED_COOKIE || base == V1_COMPRESSED_COOKIE || base == V0_COMPRESSED_COOKIE)
		return plain_of_compressed(d, p, len, pl, err);
	return plain_of_plain(p, len, pl, err);
}

void fo_hdr_decoder_init(struct fo_hdr_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void fo_hdr_decoder_release(struct fo_hdr_decoder *d)
{
	if (d->zs) {
		inflateEnd(d->zs);
		fo_free(d->zs);
	}
	if (d->fast)
		libdeflate.free(d->fast);
	fo_free(d->buf);
	memset(d, 0, sizeof(*d));
}

/* Makes h (zeroed) the source's layout with its counts. */
static int decode_into(const struct plain *pl, struct fo_hdr *h, struct fo_err *err)
{
	*h = pl->lay;
	h->counts = fo_calloc((size_t)h->counts_len, sizeof(int64_t));
	int rc = fill_add(h, h->counts_len, pl->payload, pl->n, pl->hd.word, err);
	if (rc)
		fo_hdr_release(h);
	return rc;
}

int fo_hdr_decoder_decode(struct fo_hdr_decoder *d, const void *data, size_t len, struct fo_hdr *h,
			  struct fo_err *err)
{
	memset(h, 0, sizeof(*h));
	struct plain pl;
	int rc = plain_of(d, data, len, &pl, err);
	return rc ? rc : decode_into(&pl, h, err);
}

int fo_hdr_decoder_add(struct fo_hdr_decoder *d, const void *data, size_t len, struct fo_hdr *acc,
		       struct fo_err *err)
{
	struct plain pl;
	int rc = plain_of(d, data, len, &pl, err);
	if (rc)
		return rc;
	if (!acc->counts) {
		/* fo_hdr_accumulate's start: like the source, growing */
		if ((rc = fo_hdr_init(acc, pl.lay.lowest, pl.lay.highest, pl.lay.sigfigs)))
			return rc;
		acc->auto_resize = true;
	}
	/* Same unit and sub-buckets (so the same digits: nothing to widen) and room to grow:
	 * the counts add index for index. */
	if (acc->auto_resize && acc->unit_magnitude == pl.lay.unit_magnitude &&
	    acc->sub_bucket_count == pl.lay.sub_bucket_count)
		return fill_add(acc, pl.lay.counts_len, pl.payload, pl.n, pl.hd.word, err);
	struct fo_hdr h;
	if ((rc = decode_into(&pl, &h, err)))
		return rc;
	fo_hdr_accumulate(acc, &h);
	fo_hdr_release(&h);
	return 0;
}

int fo_hdr_decode(const void *data, size_t len, struct fo_hdr *h, struct fo_err *err)
{
	struct fo_hdr_decoder d = {0};
	int rc = fo_hdr_decoder_decode(&d, data, len, h, err);
	fo_hdr_decoder_release(&d);
	return rc;
}
