/*
 * hdr.h: HdrHistogram, our own C implementation, interoperable with Java HdrHistogram
 * (the reference: Debian's libhdrhistogram-java 2.1.11).
 *
 * A histogram counts values (latencies in nanoseconds, usually) in buckets whose width
 * keeps `sigfigs` significant decimal digits of precision from `lowest` up to `highest`.
 * The layout, value equivalence, percentile rank rule and iteration follow Java's
 * AbstractHistogram exactly, so the same recorded values give the same answers:
 *   rank of percentile p over N values = ceil(p' * N / 100), where p' is p nudged down
 *   by one ulp and clamped to 0..100, computed in doubles in that order (Java 2.1.11);
 *   see tests/data/hdr/README.md.
 *
 * Recording is a few instructions, inlined (no allocation, no locks); one histogram is
 * for one thread. With auto_resize, recording a value above `highest` grows the histogram
 * (as Java's auto-resizing Histogram), which is how logs with different ranges are merged.
 *
 * Encoding: V2 (Java's current format), compressed with zlib as in interval logs;
 * decoding also reads V0 and V1 (old jHiccup logs).
 *
 *     struct fo_hdr h;
 *     fo_hdr_init(&h, 1, 3600LL * 1000000000, 3);   // 1 ns .. 1 h, 3 digits
 *     fo_hdr_record(&h, latency_ns);
 *     int64_t p99 = fo_hdr_value_at_percentile(&h, 99.0);
 *     fo_hdr_release(&h);
 */
#ifndef FO_HDR_H
#define FO_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_buf;
struct fo_err;

struct fo_hdr {
	int64_t lowest;        /* lowest discernible value, >= 1 */
	int64_t highest;       /* highest trackable value, >= 2 * lowest */
	int sigfigs;           /* significant decimal digits, 0..5 */
	bool auto_resize;      /* grow on values above highest */
	/* layout, derived from the three above (Java's names) */
	int unit_magnitude;
	int sub_bucket_half_count_magnitude;
	int leading_zero_count_base;   /* 64 - unit_magnitude - (sub_bucket_half_count_magnitude + 1) */
	int32_t sub_bucket_count;
	int32_t sub_bucket_half_count;
	int64_t sub_bucket_mask;
	int64_t unit_magnitude_mask;   /* (1 << unit_magnitude) - 1 */
	int32_t bucket_count;
	int32_t counts_len;
	int64_t *counts;       /* owned, counts_len entries */
	/* statistics kept while recording, in Java's internal form */
	int64_t total_count;
	int64_t min_value;     /* lowest non-zero value recorded, masked down to the unit; INT64_MAX while empty */
	int64_t max_value;     /* highest value recorded, or'ed with unit_magnitude_mask; 0 while empty */
	/* interval-log metadata (Java's startTimeStamp, endTimeStamp, tag) */
	int64_t start_ms;      /* 0: unset */
	int64_t end_ms;        /* 0: unset */
	char *tag;             /* owned; NULL: untagged */
};

/* Initialises h for values lowest..highest with sigfigs digits (not auto-resizing).
 * Returns 0 or FO_EINVAL (lowest < 1, highest < 2 * lowest, sigfigs outside 0..5, or
 * lowest too large for that many digits). h is left zeroed (safe to release) on failure. */
int fo_hdr_init(struct fo_hdr *h, int64_t lowest, int64_t highest, int sigfigs);
/* Initialises h empty and auto-resizing with src's layout (lowest, highest, sigfigs):
 * what Java's HistogramLogProcessor accumulates into (copy(), reset(), setAutoResize). */
int fo_hdr_init_like(struct fo_hdr *h, const struct fo_hdr *src);
/* Frees h's memory (and tag); h is left zeroed. NULL-safe on a zeroed struct. */
void fo_hdr_release(struct fo_hdr *h);
/* Heap versions: returns an owned histogram, or NULL with err set. */
struct fo_hdr *fo_hdr_new(int64_t lowest, int64_t highest, int sigfigs, struct fo_err *err);
void fo_hdr_free(struct fo_hdr *h);
/* Makes dst (uninitialised) a copy of src: layout, auto_resize, values, times and tag. */
int fo_hdr_copy(struct fo_hdr *dst, const struct fo_hdr *src);
/* Forgets every value (and the metadata); keeps the layout. */
void fo_hdr_reset(struct fo_hdr *h);
/* Sets the tag (copied; NULL clears it). */
void fo_hdr_set_tag(struct fo_hdr *h, const char *tag);
/* True when tags a and b are the same: equal strings, or both NULL (untagged). Borrows both. */
bool fo_hdr_tag_equal(const char *a, const char *b);

/* Sets h's lowest, highest, sigfigs and layout as fo_hdr_init does, without counts
 * (h->counts stays NULL: nothing to release). Internal, for decoders. */
int fo__hdr_layout(struct fo_hdr *h, int64_t lowest, int64_t highest, int sigfigs);
/* Java's resize(): grows h's counts to cover new_highest, which becomes h->highest. Internal. */
void fo__hdr_resize(struct fo_hdr *h, int64_t new_highest);

/* The slow path of recording: out of range, growing, negative values. Internal. */
bool fo__hdr_record_slow(struct fo_hdr *h, int64_t value, int64_t count);

/* Internal helpers shared by hdr.c, hdr_iter.c, hdr_codec.c and hdrlog.c: Java's
 * getBucketIndex, getSubBucketIndex and valueFromIndex(bucket, sub), wrapping as Java does,
 * and Java's (long) cast of a double (NaN gives 0, out-of-range values saturate). */
int fo__hdr_bucket_index(const struct fo_hdr *h, int64_t value);
int32_t fo__hdr_sub_bucket_index(const struct fo_hdr *h, int64_t value, int bucket);
int64_t fo__hdr_value_from(const struct fo_hdr *h, int bucket, int32_t sub);
int64_t fo__java_d2l(double d);

/* a + b wrapping around as Java's long does (corrupt inputs can hold huge counts). */
static inline int64_t fo__wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* Java's countsArrayIndex, for 0 <= value (may be >= counts_len). Internal. The `| 1` and
 * `& 63` change nothing for an initialised h, and keep a zeroed one defined (its index is
 * out of range, so recording into it fails). */
static inline int32_t fo__hdr_index(const struct fo_hdr *h, int64_t value)
{
	int bucket = h->leading_zero_count_base - __builtin_clzll((uint64_t)value | (uint64_t)h->sub_bucket_mask | 1);
	int32_t sub = (int32_t)((uint64_t)value >> ((bucket + h->unit_magnitude) & 63));
	return (int32_t)(((uint32_t)(bucket + 1) << h->sub_bucket_half_count_magnitude) + (uint32_t)sub -
			 (uint32_t)h->sub_bucket_half_count);
}

/* Records value (count times). Returns false when value is negative or out of range
 * (and cannot grow); nothing is recorded then. */
static inline bool fo_hdr_record_n(struct fo_hdr *h, int64_t value, int64_t count)
{
	/* Every field is loaded before the first store, which could alias them. */
	int64_t *counts = h->counts;
	int64_t mask = h->unit_magnitude_mask, max = h->max_value, min = h->min_value, total = h->total_count;
	if (value >= 0) {
		int32_t i = fo__hdr_index(h, value);
		if ((uint32_t)i < (uint32_t)h->counts_len) {
			counts[i] = fo__wrap_add(counts[i], count);
			h->total_count = fo__wrap_add(total, count);
			if (value > max)
				h->max_value = value | mask;
			if (value < min && value > mask)
				h->min_value = value & ~mask;
			return true;
		}
	}
	return fo__hdr_record_slow(h, value, count);
}

static inline bool fo_hdr_record(struct fo_hdr *h, int64_t value)
{
	return fo_hdr_record_n(h, value, 1);
}

/*
 * Records the n values at values (borrowed; may be NULL when n is 0), with the same result
 * as calling fo_hdr_record on each in order: negative values, and values above the range of
 * an h that does not auto-resize, are skipped (an auto-resizing h grows, as fo_hdr_record
 * makes it), the others recorded with the statistics updated. Faster for batches: the
 * statistics stay in registers, and on x86-64 with GCC a variant for x86-64-v3 CPUs is
 * picked at load time. Returns, like fo_hdr_record, true when every value was recorded
 * (an empty batch included), false when any was not.
 */
bool fo_hdr_record_many(struct fo_hdr *h, const int64_t *values, size_t n);

/* Records value and, when it exceeds expected_interval, the values a coordinated-omission
 * free measurement would have seen: value - k * expected_interval while >= expected_interval
 * (Java's recordValueWithExpectedInterval). expected_interval <= 0 disables the correction.
 * Returns false if any of those values could not be recorded. */
bool fo_hdr_record_corrected(struct fo_hdr *h, int64_t value, int64_t expected_interval);
bool fo_hdr_record_corrected_n(struct fo_hdr *h, int64_t value, int64_t count, int64_t expected_interval);

/* Adds every value of src to dst, whatever their layouts (as Java's add(): counts are added
 * directly when the layouts match, else re-recorded at src's lowest equivalent values; dst
 * grows if it auto-resizes). dst's start/end times widen to include src's. Returns the
 * number of values that did not fit (0 when all did). */
int64_t fo_hdr_add(struct fo_hdr *dst, const struct fo_hdr *src);
/* Adds src to acc as Java's HistogramLogProcessor accumulates intervals, never losing
 * precision: a zeroed acc is first initialised like src (its lowest, highest and sigfigs,
 * auto-resizing); an acc coarser than src (fewer sigfigs, or a larger unit) is first
 * widened to the finer layout. Keeps acc's tag; its times widen as fo_hdr_add's. Returns
 * the number of values that did not fit (0 when all did). */
int64_t fo_hdr_accumulate(struct fo_hdr *acc, const struct fo_hdr *src);
/* Adds src's values to dst corrected for coordinated omission after the fact (Java's
 * addWhileCorrectingForCoordinatedOmission). Returns the number of values that did not fit. */
int64_t fo_hdr_add_corrected(struct fo_hdr *dst, const struct fo_hdr *src, int64_t expected_interval);
/* Java's equals(): same lowest, highest, sigfigs, counts length, total and counts. */
bool fo_hdr_equals(const struct fo_hdr *a, const struct fo_hdr *b);

/* Statistics, as Java computes them. */
int64_t fo_hdr_total(const struct fo_hdr *h);
int64_t fo_hdr_min(const struct fo_hdr *h);   /* 0 when empty, as Java's getMinValue */
int64_t fo_hdr_min_nonzero(const struct fo_hdr *h);   /* INT64_MAX when none */
int64_t fo_hdr_max(const struct fo_hdr *h);   /* highest equivalent of the max, 0 when empty */
double fo_hdr_mean(const struct fo_hdr *h);   /* 0 when empty */
double fo_hdr_stddev(const struct fo_hdr *h); /* 0 when empty */
/* Java 2.1.11's getValueAtPercentile (see the top of this file); 0 when empty. */
int64_t fo_hdr_value_at_percentile(const struct fo_hdr *h, double percentile);
/* The percentile (0..100) at or below which value falls (100 when empty). */
double fo_hdr_percentile_at_or_below(const struct fo_hdr *h, int64_t value);
/* The count recorded at value's bucket (0 for negative values). */
int64_t fo_hdr_count_at(const struct fo_hdr *h, int64_t value);
/* The count recorded between low and high (both inclusive, to the histogram's resolution). */
int64_t fo_hdr_count_between(const struct fo_hdr *h, int64_t low, int64_t high);

/* Value equivalence (Java's lowestEquivalentValue etc.), for values >= 0. */
int64_t fo_hdr_lowest_equivalent(const struct fo_hdr *h, int64_t value);
int64_t fo_hdr_highest_equivalent(const struct fo_hdr *h, int64_t value);
int64_t fo_hdr_median_equivalent(const struct fo_hdr *h, int64_t value);
int64_t fo_hdr_next_non_equivalent(const struct fo_hdr *h, int64_t value);
int64_t fo_hdr_size_of_equivalent_range(const struct fo_hdr *h, int64_t value);
bool fo_hdr_values_equivalent(const struct fo_hdr *h, int64_t a, int64_t b);
/* The lowest value counted at counts index i (Java's valueFromIndex). */
int64_t fo_hdr_value_from_index(const struct fo_hdr *h, int32_t index);

/* Iteration (Java's iterators). Initialise with one of the _init functions, then call
 * fo_hdr_iter_next until it returns false; each true step fills the result fields.
 * The histogram must not change during iteration. */
enum fo_hdr_iter_kind { FO_HDR_ITER_RECORDED, FO_HDR_ITER_ALL, FO_HDR_ITER_PERCENTILE, FO_HDR_ITER_LINEAR, FO_HDR_ITER_LOG };
struct fo_hdr_iter {
	const struct fo_hdr *h;
	enum fo_hdr_iter_kind kind;
	/* results of the last step (Java's HistogramIterationValue) */
	int64_t value_iterated_to;
	int64_t value_iterated_from;
	int64_t count_at_value_iterated_to;      /* count in the bucket at this value */
	int64_t count_added_in_this_step;
	int64_t total_count_to_this_value;
	int64_t total_value_to_this_value;       /* sum of count * highest equivalent value */
	double percentile;                       /* of the value reached */
	double percentile_iterated_to;           /* the percentile step reached (percentile iterator) */
	int64_t highest_equivalent_value;        /* highest equivalent of value_iterated_to */
	/* state (private) */
	int32_t current_index;
	int32_t visited_index;                   /* recorded, all */
	int64_t current_value_at_index;
	int64_t next_value_at_index;
	int64_t prev_value_iterated_to;
	int64_t total_count_to_prev_index;
	int64_t total_count_to_current_index;
	int64_t total_value_to_current_index;
	int64_t array_total_count;
	int64_t count_at_this_value;
	bool fresh_sub_bucket;
	int ticks_per_half_distance;             /* percentile */
	double percentile_to_iterate_to;
	double percentile_to_iterate_from;
	bool reached_last_recorded_value;
	int64_t value_units_per_bucket;          /* linear, log: first bucket size */
	double log_base;
	double next_value_reporting_level;
	int64_t current_step_highest_value_reporting_level;
	int64_t current_step_lowest_value_reporting_level;
};
void fo_hdr_iter_recorded_init(struct fo_hdr_iter *it, const struct fo_hdr *h);
void fo_hdr_iter_all_init(struct fo_hdr_iter *it, const struct fo_hdr *h);
void fo_hdr_iter_percentile_init(struct fo_hdr_iter *it, const struct fo_hdr *h, int ticks_per_half_distance);
void fo_hdr_iter_linear_init(struct fo_hdr_iter *it, const struct fo_hdr *h, int64_t value_units_per_bucket);
void fo_hdr_iter_log_init(struct fo_hdr_iter *it, const struct fo_hdr *h, int64_t value_units_first_bucket,
			  double log_base);
bool fo_hdr_iter_next(struct fo_hdr_iter *it);

/*
 * Encodes h as Java's V2 compressed histogram (cookie 0x1c849314, length, zlib of the V2
 * encoding with counts as ZigZag LEB128 and runs of zeros) appended to out. Values are
 * stored as recorded: the log writer handles unit ratios. Returns 0 or an error
 * (FO_ETOOBIG past out's cap, FO_EIO if zlib fails).
 */
int fo_hdr_encode_compressed(const struct fo_hdr *h, struct fo_buf *out);
/*
 * An encoder for many histograms in a row (an interval log's): it keeps its zlib stream
 * and buffers from one histogram to the next, since starting a zlib stream allocates and
 * clears more memory than compressing a histogram touches. Zero it (or
 * fo_hdr_encoder_init) before use.
 */
struct fo_hdr_encoder {
	void *zs;              /* zlib deflate stream (owned), made on first use */
	uint8_t *plain;        /* the plain encoding (owned) */
	size_t plain_cap;      /* bytes at plain */
	uint8_t *z;            /* the compressed encoding (owned) */
	size_t z_cap;          /* bytes at z */
};
void fo_hdr_encoder_init(struct fo_hdr_encoder *e);
void fo_hdr_encoder_release(struct fo_hdr_encoder *e);
/* fo_hdr_encode_compressed, reusing e's stream and buffers: the same bytes. */
int fo_hdr_encoder_encode(struct fo_hdr_encoder *e, const struct fo_hdr *h, struct fo_buf *out);
/* Appends the uncompressed V2 encoding (cookie 0x1c849313) to out. */
int fo_hdr_encode(const struct fo_hdr *h, struct fo_buf *out);
/*
 * Decodes a histogram (V0, V1 or V2; compressed or not) from the len bytes at data into h,
 * initialised by this call with the source's lowest, highest and sigfigs (the highest of
 * auto-ranged logs may be tiny: do not assume a range); h does not auto-resize. Returns 0,
 * or FO_EPARSE with the reason in err, leaving h zeroed.
 */
int fo_hdr_decode(const void *data, size_t len, struct fo_hdr *h, struct fo_err *err);

/*
 * A decoder for many histograms in a row (an interval log's): it keeps its zlib stream and
 * buffers from one histogram to the next. Zero it (or fo_hdr_decoder_init) before use.
 */
struct fo_hdr_decoder {
	void *zs;              /* zlib stream (owned), made on first use */
	void *fast;            /* libdeflate decompressor (owned), when the system has it */
	bool no_fast;          /* a histogram was too large for it: zlib only */
	uint8_t *buf;          /* inflated payload (owned) */
	size_t cap;            /* bytes at buf */
};
void fo_hdr_decoder_init(struct fo_hdr_decoder *d);
void fo_hdr_decoder_release(struct fo_hdr_decoder *d);
/* fo_hdr_decode, reusing d's buffers. */
int fo_hdr_decoder_decode(struct fo_hdr_decoder *d, const void *data, size_t len, struct fo_hdr *h,
			  struct fo_err *err);
/*
 * Adds the histogram encoded at data to acc, with the result of fo_hdr_decode followed by
 * fo_hdr_accumulate (a zeroed acc is initialised like the source, growing), but without
 * the intermediate histogram when the layouts allow: the counts are added while they are
 * decoded. acc's times are left alone (a decoded histogram has none). Returns 0, or
 * FO_EPARSE with the reason in err; acc then holds part of the values (throw it away).
 */
int fo_hdr_decoder_add(struct fo_hdr_decoder *d, const void *data, size_t len, struct fo_hdr *acc,
		       struct fo_err *err);

#endif
