/*
 * fuzz_hdrlog.c: libFuzzer target for the HdrHistogram interval-log reader and codec. The
 * input is read as an interval log (through fmemopen, as a file would be); each interval
 * it yields goes through the statistics, percentiles, iterators and the CSV row, and
 * through an encode/decode round trip that must give it back equal; so does the input
 * itself decoded as one binary histogram. The fast path that
 * decodes straight into an accumulator must agree with decoding then accumulating, and
 * the union of the log with itself (metrics/union.h) must hold every value twice. Any
 * input must give intervals or an error with a reason: never a crash, a leak, undefined
 * behaviour, a hang, or numbers that disagree.
 */
#include "util/common.h"

#include "metrics/hdr.h"
#include "metrics/hdrlog.h"
#include "metrics/union.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			__builtin_trap();                                                                              \
	} while (0)

/* Everything a reader of h may ask. */
static void exercise(const struct fo_hdr *h, double log_start_s)
{
	static const double pcts[] = {0, 25, 50, 90, 99, 99.9, 99.99, 100};
	/* Counts whose sum overflows wrap around, as Java's longs do: no order then. */
	int64_t sum = 0;
	bool wraps = false;
	for (int32_t i = 0; i < h->counts_len && !wraps; i++)
		wraps = __builtin_add_overflow(sum, h->counts[i], &sum);
	int64_t prev = 0;
	for (size_t i = 0; i < FO_ARRAY_LEN(pcts); i++) {
		int64_t v = fo_hdr_value_at_percentile(h, pcts[i]);
		CHECK(wraps || i == 0 || v >= prev); /* percentiles never go down */
		prev = v;
	}
	(void)fo_hdr_mean(h);
	(void)fo_hdr_stddev(h);
	(void)fo_hdr_percentile_at_or_below(h, fo_hdr_max(h));
	(void)fo_hdr_count_between(h, fo_hdr_min(h), fo_hdr_max(h));
	struct fo_hdr_iter it;
	int64_t steps = 0;
	fo_hdr_iter_recorded_init(&it, h);
	while (fo_hdr_iter_next(&it))
		CHECK(++steps <= h->counts_len);
	fo_hdr_iter_percentile_init(&it, h, 5);
	for (steps = 0; fo_hdr_iter_next(&it);)
		CHECK(++steps <= 100000);
	struct fo_buf csv = FO_BUF_INIT;
	CHECK(fo_hdrlog_csv_row(&csv, h, log_start_s) == 0);
	fo_buf_release(&csv);
}

/* Encodes h and decodes it back: the same histogram. */
static void round_trip(const struct fo_hdr *h)
{
	struct fo_buf bin = FO_BUF_INIT;
	struct fo_err err = {0};
	CHECK(fo_hdr_encode_compressed(h, &bin) == 0);
	struct fo_hdr back;
	CHECK(fo_hdr_decode(bin.s, bin.len, &back, &err) == 0);
	CHECK(fo_hdr_equals(h, &back));
	CHECK(fo_hdr_total(&back) == fo_hdr_total(h));
	CHECK(fo_hdr_max(&back) == fo_hdr_max(h));
	CHECK(fo_hdr_min(&back) == fo_hdr_min(h));
	fo_hdr_release(&back);
	fo_buf_release(&bin);
}

/* Two accumulators must agree on everything observable. */
static void same_acc(const struct fo_hdr *a, const struct fo_hdr *b)
{
	CHECK(a->lowest == b->lowest && a->highest == b->highest && a->sigfigs == b->sigfigs);
	CHECK(a->counts_len == b->counts_len && a->total_count == b->total_count);
	CHECK(a->counts_len == 0 || memcmp(a->counts, b->counts, (size_t)a->counts_len * sizeof(int64_t)) == 0);
	CHECK(fo_hdr_max(a) == fo_hdr_max(b));
	CHECK(fo_hdr_min(a) == fo_hdr_min(b));
	CHECK(fo_hdr_min_nonzero(a) == fo_hdr_min_nonzero(b));
	CHECK(a->start_ms == b->start_ms && a->end_ms == b->end_ms);
}

/* Reads the log: every interval exercised, accumulated both ways. Returns its total, or
 * -1 if the log is refused (with a reason). */
static int64_t read_log(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	CHECK(f != NULL);
	struct fo_hdrlog_reader r;
	fo_hdrlog_reader_init(&r, f, "fuzz.hdr");
	struct fo_hdr fast = {0}, slow = {0};
	struct fo_hdrlog_interval iv;
	struct fo_err err = {0};
	int64_t total = 0;
	int rc;
	while ((rc = fo_hdrlog_next(&r, &iv, &err)) == 1) {
		struct fo_hdr h;
		rc = fo_hdrlog_decode(&r, &iv, &h, &err);
		if (rc) {
			/* the fast path refuses it too */
			struct fo_err err2 = {0};
			struct fo_hdr acc = {0};
			CHECK(fo_hdrlog_add(&r, &iv, &acc, &err2) != 0 && err2.msg[0]);
			fo_hdr_release(&acc);
			break;
		}
		CHECK(h.start_ms == iv.start_ms && h.end_ms == iv.end_ms);
		exercise(&h, r.start_time_s);
		round_trip(&h);
		total = fo__wrap_add(total, fo_hdr_total(&h));
		fo_hdr_accumulate(&slow, &h);
		struct fo_err err2 = {0};
		CHECK(fo_hdrlog_add(&r, &iv, &fast, &err2) == 0);
		same_acc(&fast, &slow);
		fo_hdr_release(&h);
	}
	if (rc < 0)
		CHECK(err.msg[0]); /* a refusal says why */
	if (rc == 0 && slow.counts)
		exercise(&slow, r.start_time_s);
	fo_hdr_release(&fast);
	fo_hdr_release(&slow);
	fo_hdrlog_reader_close(&r);
	fclose(f);
	return rc < 0 ? -1 : total;
}

static int count_union(void *ctx, const struct fo_union_tag *t, struct fo_err *err)
{
	(void)err;
	int64_t *n = ctx;
	*n = fo__wrap_add(*n, fo_hdr_total(&t->u));
	return 0;
}

/* The union of the log with itself holds every value twice. */
static void union_twice(const uint8_t *data, size_t size, int64_t total)
{
	FILE *f[2];
	struct fo_hdrlog_reader r[2];
	struct fo_hdrlog_reader *in[2] = {&r[0], &r[1]};
	for (int i = 0; i < 2; i++) {
		f[i] = fmemopen((void *)data, size, "r");
		CHECK(f[i] != NULL);
		fo_hdrlog_reader_init(&r[i], f[i], "fuzz.hdr");
	}
	struct fo_union u;
	struct fo_err err = {0};
	int64_t n = 0;
	int rc = fo_union_init(&u, in, 2, &err);
	if (!rc)
		rc = fo_union_run(&u, count_union, &n, &err);
	CHECK(rc == 0 || err.msg[0]);
	if (rc == 0)
		CHECK(n == fo__wrap_add(total, total) && u.intervals_out <= u.intervals_in);
	fo_union_release(&u);
	for (int i = 0; i < 2; i++) {
		fo_hdrlog_reader_close(&r[i]);
		fclose(f[i]);
	}
}

/* The input as one encoded histogram too (what a log line holds after base64), so that
 * the codec is reached without the fuzzer having to find valid base64 and zlib first. */
static void decode_binary(const uint8_t *data, size_t size)
{
	struct fo_hdr h, fast = {0}, slow = {0};
	struct fo_hdr_decoder d = {0};
	struct fo_err err = {0}, err2 = {0};
	int rc = fo_hdr_decode(data, size, &h, &err);
	int rc2 = fo_hdr_decoder_add(&d, data, size, &fast, &err2);
	CHECK((rc == 0) == (rc2 == 0));
	if (rc == 0) {
		exercise(&h, 0);
		round_trip(&h);
		fo_hdr_accumulate(&slow, &h);
		same_acc(&fast, &slow);
		/* twice: into an accumulator that already holds values */
		CHECK(fo_hdr_decoder_add(&d, data, size, &fast, &err2) == 0);
		fo_hdr_accumulate(&slow, &h);
		same_acc(&fast, &slow);
		fo_hdr_release(&h);
	} else {
		CHECK(err.msg[0] && err2.msg[0]);
	}
	fo_hdr_release(&fast);
	fo_hdr_release(&slow);
	fo_hdr_decoder_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_binary(data, size);
	if (size == 0)
		return 0; /* fmemopen needs a byte */
	int64_t total = read_log(data, size);
	if (total >= 0)
		union_twice(data, size, total);
	return 0;
}
