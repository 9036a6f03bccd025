/*
 * hdr.c: the histogram itself: layout, recording (the slow path and the batch loop; the
 * fast path is inline in hdr.h), growing, adding, value equivalence and statistics. Every
 * computation follows Java HdrHistogram 2.1.11's AbstractHistogram step by step, including
 * its floating-point expressions, so percentiles, means and layouts come out bit for bit
 * the same. Java's shifts and long arithmetic are done on unsigned integers here, where C
 * would otherwise have undefined behaviour for values Java handles by wrapping.
 *
 * The iterators are in hdr_iter.c, the encodings in hdr_codec.c; the helpers they share
 * (fo__hdr_*) are declared in hdr.h.
 */
#include "util/common.h"

#include <inttypes.h>
#include <math.h>

#include "metrics/hdr.h"
#include "util/alloc.h"
#include "util/err.h"

/* ---- layout ---- */

int fo__hdr_bucket_index(const struct fo_hdr *h, int64_t value)
{
	return h->leading_zero_count_base - __builtin_clzll((uint64_t)value | (uint64_t)h->sub_bucket_mask);
}

int32_t fo__hdr_sub_bucket_index(const struct fo_hdr *h, int64_t value, int bucket)
{
	return (int32_t)(uint32_t)((uint64_t)value >> ((bucket + h->unit_magnitude) & 63));
}

int64_t fo__hdr_value_from(const struct fo_hdr *h, int bucket, int32_t sub)
{
	return (int64_t)((uint64_t)(int64_t)sub << ((bucket + h->unit_magnitude) & 63));
}

int64_t fo_hdr_value_from_index(const struct fo_hdr *h, int32_t index)
{
	int bucket = (index >> h->sub_bucket_half_count_magnitude) - 1;
	int32_t sub = (index & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
	if (bucket < 0) {
		sub -= h->sub_bucket_half_count;
		bucket = 0;
	}
	return fo__hdr_value_from(h, bucket, sub);
}

/* Java's getBucketsNeededToCoverValue. */
static int32_t buckets_needed(const struct fo_hdr *h, int64_t value)
{
	int64_t smallest_untrackable = (int64_t)((uint64_t)h->sub_bucket_count << h->unit_magnitude);
	int32_t needed = 1;
	while (smallest_untrackable <= value) {
		if (smallest_untrackable > INT64_MAX / 2)
			return needed + 1;
		smallest_untrackable <<= 1;
		needed++;
	}
	return needed;
}

/* Java's establishSize: the counts length and bucket count covering highest. */
static void establish_size(struct fo_hdr *h, int64_t highest)
{
	h->bucket_count = buckets_needed(h, highest);
	h->counts_len = (h->bucket_count + 1) * (h->sub_bucket_count / 2);
	h->highest = highest;
}

int fo__hdr_layout(struct fo_hdr *h, int64_t lowest, int64_t highest, int sigfigs)
{
	memset(h, 0, sizeof(*h));
	if (lowest < 1 || lowest > INT64_MAX / 2 || highest < 2 * lowest || sigfigs < 0 || sigfigs > 5)
		return FO_EINVAL;
	/* The same double expressions as Java's init(), so edge cases agree. */
	int64_t largest_single_unit = 2 * (int64_t)pow(10.0, sigfigs);
	int unit_magnitude = (int)(log((double)lowest) / log(2.0));
	int count_magnitude = (int)ceil(log((double)largest_single_unit) / log(2.0));
	if (count_magnitude + unit_magnitude > 62)
		return FO_EINVAL;
	h->lowest = lowest;
	h->sigfigs = sigfigs;
	h->unit_magnitude = unit_magnitude;
	/* Java computes this mask with an int shift; so do we. */
	h->unit_magnitude_mask = (int64_t)(int32_t)((1u << (unit_magnitude & 31)) - 1u);
	h->sub_bucket_half_count_magnitude = count_magnitude - 1;
	h->sub_bucket_count = (int32_t)1 << count_magnitude;
	h->sub_bucket_half_count = h->sub_bucket_count / 2;
	h->sub_bucket_mask = (int64_t)((uint64_t)(h->sub_bucket_count - 1) << unit_magnitude);
	h->leading_zero_count_base = 64 - unit_magnitude - count_magnitude;
	establish_size(h, highest);
	h->min_value = INT64_MAX;
	return 0;
}

int fo_hdr_init(struct fo_hdr *h, int64_t lowest, int64_t highest, int sigfigs)
{
	int rc = fo__hdr_layout(h, lowest, highest, sigfigs);
	if (!rc)
		h->counts = fo_calloc((size_t)h->counts_len, sizeof(int64_t));
	return rc;
}

int fo_hdr_init_like(struct fo_hdr *h, const struct fo_hdr *src)
{
	int rc = fo_hdr_init(h, src->lowest, src->highest, src->sigfigs);
	if (!rc)
		h->auto_resize = true;
	return rc;
}

void fo_hdr_release(struct fo_hdr *h)
{
	fo_free(h->counts);
	fo_free(h->tag);
	memset(h, 0, sizeof(*h));
}

struct fo_hdr *fo_hdr_new(int64_t lowest, int64_t highest, int sigfigs, struct fo_err *err)
{
	struct fo_hdr *h = fo_malloc(sizeof(*h));
	if (fo_hdr_init(h, lowest, highest, sigfigs)) {
		fo_free(h);
		fo_err_set(err, FO_EINVAL, "invalid histogram range: lowest %" PRId64 ", highest %" PRId64 ", %d digits",
			   lowest, highest, sigfigs);
		return NULL;
	}
	return h;
}

void fo_hdr_free(struct fo_hdr *h)
{
	if (!h)
		return;
	fo_hdr_release(h);
	fo_free(h);
}

int fo_hdr_copy(struct fo_hdr *dst, const struct fo_hdr *src)
{
	int rc = fo_hdr_init(dst, src->lowest, src->highest, src->sigfigs);
	if (rc)
		return rc;
	/* A histogram's highest always gives back its counts length (Java's establishSize). */
	if (dst->counts_len != src->counts_len) {
		fo_hdr_release(dst);
		return FO_EINVAL;
	}
	memcpy(dst->counts, src->counts, (size_t)src->counts_len * sizeof(int64_t));
	dst->auto_resize = src->auto_resize;
	dst->total_count = src->total_count;
	dst->min_value = src->min_value;
	dst->max_value = src->max_value;
	dst->start_ms = src->start_ms;
	dst->end_ms = src->end_ms;
	dst->tag = src->tag ? fo_strdup(src->tag) : NULL;
	return 0;
}

void fo_hdr_reset(struct fo_hdr *h)
{
	memset(h->counts, 0, (size_t)h->counts_len * sizeof(int64_t));
	h->total_count = 0;
	h->min_value = INT64_MAX;
	h->max_value = 0;
	h->start_ms = 0;
	h->end_ms = 0;
	fo_hdr_set_tag(h, NULL);
}

void fo_hdr_set_tag(struct fo_hdr *h, const char *tag)
{
	char *copy = tag ? fo_strdup(tag) : NULL;
	fo_free(h->tag);
	h->tag = copy;
}

bool fo_hdr_tag_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- value equivalence ---- */

int64_t fo_hdr_size_of_equivalent_range(const struct fo_hdr *h, int64_t value)
{
	int bucket = fo__hdr_bucket_index(h, value);
	int32_t sub = fo__hdr_sub_bucket_index(h, value, bucket);
	int shift = h->unit_magnitude + (sub >= h->sub_bucket_count ? bucket + 1 : bucket);
	return (int64_t)((uint64_t)1 << (shift & 63));
}

int64_t fo_hdr_lowest_equivalent(const struct fo_hdr *h, int64_t value)
{
	int bucket = fo__hdr_bucket_index(h, value);
	return fo__hdr_value_from(h, bucket, fo__hdr_sub_bucket_index(h, value, bucket));
}

int64_t fo_hdr_next_non_equivalent(const struct fo_hdr *h, int64_t value)
{
	return (int64_t)((uint64_t)fo_hdr_lowest_equivalent(h, value) + (uint64_t)fo_hdr_size_of_equivalent_range(h, value));
}

int64_t fo_hdr_highest_equivalent(const struct fo_hdr *h, int64_t value)
{
	return (int64_t)((uint64_t)fo_hdr_next_non_equivalent(h, value) - 1);
}

int64_t fo_hdr_median_equivalent(const struct fo_hdr *h, int64_t value)
{
	return (int64_t)((uint64_t)fo_hdr_lowest_equivalent(h, value) + (uint64_t)(fo_hdr_size_of_equivalent_range(h, value) >> 1));
}

bool fo_hdr_values_equivalent(const struct fo_hdr *h, int64_t a, int64_t b)
{
	return fo_hdr_lowest_equivalent(h, a) == fo_hdr_lowest_equivalent(h, b);
}

/* ---- recording ---- */

void fo__hdr_resize(struct fo_hdr *h, int64_t new_highest)
{
	int32_t old_len = h->counts_len;
	establish_size(h, new_highest);
	if (h->counts_len != old_len) {
		h->counts = fo_reallocarray(h->counts, (size_t)h->counts_len, sizeof(int64_t));
		if (h->counts_len > old_len)
			memset(h->counts + old_len, 0, (size_t)(h->counts_len - old_len) * sizeof(int64_t));
	}
}

static void update_min_max(struct fo_hdr *h, int64_t value)
{
	if (value > h->max_value)
		h->max_value = value | h->unit_magnitude_mask;
	if (value < h->min_value && value > h->unit_magnitude_mask)
		h->min_value = value & ~h->unit_magnitude_mask;
}

bool fo__hdr_record_slow(struct fo_hdr *h, int64_t value, int64_t count)
{
	if (value < 0 || !h->counts)
		return false;
	int32_t i = fo__hdr_index(h, value);
	if (i >= h->counts_len) {
		if (!h->auto_resize)
			return false;
		/* Java's handleRecordException. */
		fo__hdr_resize(h, value);
		i = fo__hdr_index(h, value);
		if (i >= h->counts_len)
			return false;
		h->highest = fo_hdr_highest_equivalent(h, fo_hdr_value_from_index(h, h->counts_len - 1));
	}
	h->counts[i] = fo__wrap_add(h->counts[i], count);
	update_min_max(h, value);
	h->total_count = fo__wrap_add(h->total_count, count);
	return true;
}

/*
 * The hot loop of fo_hdr_record_many: records values from the start of the batch while
 * each is in range, exactly as fo_hdr_record's fast path does, with the layout and the
 * statistics in locals (a store to counts[] may alias h's fields, so fo_hdr_record has to
 * go through memory for them on every value) written back once. Stops at the first value
 * that needs the slow path (negative, above the counts, or h zeroed) and returns how many
 * it recorded. On x86-64 with GCC it is compiled twice, for the baseline and for
 * x86-64-v3 (lzcnt, shlx, shrx: 1.5x faster than the baseline clone here), the CPU picking one at load time.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static size_t record_run(struct fo_hdr *h, const int64_t *values, size_t n)
{
	int64_t *counts = h->counts;
	uint32_t len = (uint32_t)h->counts_len;
	int base = h->leading_zero_count_base, unit = h->unit_magnitude;
	int half_magnitude = h->sub_bucket_half_count_magnitude;
	uint32_t half = (uint32_t)h->sub_bucket_half_count;
	uint64_t low_bits = (uint64_t)h->sub_bucket_mask | 1;
	int64_t mask = h->unit_magnitude_mask, max = h->max_value, min = h->min_value;
	size_t i = 0;
	for (; i < n; i++) {
		int64_t value = values[i];
		/* fo__hdr_index, with the fields in locals */
		int bucket = base - __builtin_clzll((uint64_t)value | low_bits);
		uint32_t sub = (uint32_t)((uint64_t)value >> ((bucket + unit) & 63));
		uint32_t index = ((uint32_t)(bucket + 1) << half_magnitude) + sub - half;
		if (value < 0 || index >= len)
			break;
		counts[index] = fo__wrap_add(counts[index], 1);
		if (value > max)
			max = value | mask;
		if (value < min && value > mask)
			min = value & ~mask;
	}
	h->total_count = fo__wrap_add(h->total_count, (int64_t)i);
	h->max_value = max;
	h->min_value = min;
	return i;
}

bool fo_hdr_record_many(struct fo_hdr *h, const int64_t *values, size_t n)
{
	bool all = true;
	size_t i = 0;
	while (i < n) {
		i += record_run(h, values + i, n - i);
		if (i < n) {
			/* the value the loop stopped at: refused, or recorded after growing */
			all = fo__hdr_record_slow(h, values[i], 1) && all;
			i++;
		}
	}
	return all;
}

bool fo_hdr_record_corrected_n(struct fo_hdr *h, int64_t value, int64_t count, int64_t expected_interval)
{
	bool ok = fo_hdr_record_n(h, value, count);
	if (!ok || expected_interval <= 0)
		return ok;
	for (int64_t missing = value - expected_interval; missing >= expected_interval; missing -= expected_interval)
		ok = fo_hdr_record_n(h, missing, count) && ok;
	return ok;
}

bool fo_hdr_record_corrected(struct fo_hdr *h, int64_t value, int64_t expected_interval)
{
	return fo_hdr_record_corrected_n(h, value, 1, expected_interval);
}

/* ---- adding ---- */

static void widen_times(struct fo_hdr *dst, const struct fo_hdr *src)
{
	if (src->start_ms && (!dst->start_ms || src->start_ms < dst->start_ms))
		dst->start_ms = src->start_ms;
	if (src->end_ms > dst->end_ms)
		dst->end_ms = src->end_ms;
}

/* The index of src's max value (its highest recorded bucket). */
static int32_t max_index(const struct fo_hdr *h)
{
	int32_t i = fo__hdr_index(h, fo_hdr_max(h));
	return i < h->counts_len ? i : h->counts_len - 1;
}

int64_t fo_hdr_add(struct fo_hdr *dst, const struct fo_hdr *src)
{
	int64_t lost = 0;
	int64_t src_max = fo_hdr_max(src);
	int64_t highest_recordable = fo_hdr_highest_equivalent(dst, fo_hdr_value_from_index(dst, dst->counts_len - 1));
	if (highest_recordable < src_max && dst->auto_resize)
		fo__hdr_resize(dst, src_max);
	bool fits = highest_recordable >= src_max || dst->auto_resize;
	if (fits && dst->bucket_count == src->bucket_count && dst->sub_bucket_count == src->sub_bucket_count &&
	    dst->unit_magnitude == src->unit_magnitude) {
		/* Same layout: add the counts directly (Java adds the positive ones; nothing is
		 * recorded past src's max, and a branch-free loop is fastest). */
		int64_t observed = 0;
		int32_t limit = src->counts_len ? max_index(src) + 1 : 0, first = 0;
		if (src->min_value != INT64_MAX && src->counts[0] == 0) /* nothing below the min either */
			first = fo__hdr_index(src, src->min_value);
		const int64_t *from = src->counts;
		int64_t *to = dst->counts;
		for (int32_t i = first; i < limit; i++) {
			int64_t c = from[i] & ~(from[i] >> 63);
			to[i] = fo__wrap_add(to[i], c);
			observed = fo__wrap_add(observed, c);
		}
		dst->total_count = fo__wrap_add(dst->total_count, observed);
		int64_t dst_max = fo_hdr_max(dst);
		int64_t m = dst_max > src_max ? dst_max : src_max;
		if (m > dst->max_value)
			dst->max_value = m | dst->unit_magnitude_mask;
		int64_t a = fo_hdr_min_nonzero(dst), b = fo_hdr_min_nonzero(src);
		int64_t mn = a < b ? a : b;
		if (mn < INT64_MAX && mn < dst->min_value && mn > dst->unit_magnitude_mask)
			dst->min_value = mn & ~dst->unit_magnitude_mask;
	} else {
		/* Re-record each bucket at its value: the max first, as Java does. */
		int32_t top = max_index(src);
		if (top >= 0) {
			int64_t c = src->counts[top];
			if (!fo_hdr_record_n(dst, fo_hdr_value_from_index(src, top), c))
				lost = fo__wrap_add(lost, c);
			for (int32_t i = 0; i < top; i++) {
				c = src->counts[i];
				if (c > 0 && !fo_hdr_record_n(dst, fo_hdr_value_from_index(src, i), c))
					lost = fo__wrap_add(lost, c);
			}
		}
	}
	widen_times(dst, src);
	return lost;
}

int64_t fo_hdr_accumulate(struct fo_hdr *acc, const struct fo_hdr *src)
{
	if (!acc->counts) {
		if (fo_hdr_init_like(acc, src))
			return src->total_count; /* src is a valid histogram, so this cannot happen */
	} else if (src->sigfigs > acc->sigfigs || src->unit_magnitude < acc->unit_magnitude) {
		struct fo_hdr wide;
		int64_t lowest = src->lowest < acc->lowest ? src->lowest : acc->lowest;
		int64_t highest = src->highest > acc->highest ? src->highest : acc->highest;
		int sigfigs = src->sigfigs > acc->sigfigs ? src->sigfigs : acc->sigfigs;
		if (fo_hdr_init(&wide, lowest, highest, sigfigs))
			return src->total_count;
		wide.auto_resize = true;
		fo_hdr_add(&wide, acc);
		wide.start_ms = acc->start_ms;
		wide.end_ms = acc->end_ms;
		wide.tag = acc->tag;
		acc->tag = NULL;
		fo_hdr_release(acc);
		*acc = wide;
	}
	return fo_hdr_add(acc, src);
}

int64_t fo_hdr_add_corrected(struct fo_hdr *dst, const struct fo_hdr *src, int64_t expected_interval)
{
	int64_t lost = 0;
	struct fo_hdr_iter it;
	fo_hdr_iter_recorded_init(&it, src);
	while (fo_hdr_iter_next(&it)) {
		int64_t v = it.value_iterated_to, c = it.count_at_value_iterated_to;
		if (!fo_hdr_record_n(dst, v, c)) {
			lost = fo__wrap_add(lost, c);
			continue;
		}
		if (expected_interval <= 0)
			continue;
		for (int64_t missing = v - expected_interval; missing >= expected_interval; missing -= expected_interval)
			if (!fo_hdr_record_n(dst, missing, c))
				lost = fo__wrap_add(lost, c);
	}
	return lost;
}

bool fo_hdr_equals(const struct fo_hdr *a, const struct fo_hdr *b)
{
	if (a->lowest != b->lowest || a->highest != b->highest || a->sigfigs != b->sigfigs ||
	    a->counts_len != b->counts_len || a->total_count != b->total_count)
		return false;
	return memcmp(a->counts, b->counts, (size_t)a->counts_len * sizeof(int64_t)) == 0;
}

/* ---- statistics ---- */

int64_t fo_hdr_total(const struct fo_hdr *h)
{
	return h->total_count;
}

int64_t fo_hdr_min_nonzero(const struct fo_hdr *h)
{
	return h->min_value == INT64_MAX ? INT64_MAX : fo_hdr_lowest_equivalent(h, h->min_value);
}

int64_t fo_hdr_min(const struct fo_hdr *h)
{
	if (h->total_count == 0 || (h->counts_len > 0 && h->counts[0] > 0))
		return 0;
	return fo_hdr_min_nonzero(h);
}

int64_t fo_hdr_max(const struct fo_hdr *h)
{
	return h->max_value == 0 ? 0 : fo_hdr_highest_equivalent(h, h->max_value);
}

/* The median equivalent value of the bucket at index i. */
static int64_t median_at(const struct fo_hdr *h, int32_t i)
{
	return fo_hdr_median_equivalent(h, fo_hdr_value_from_index(h, i));
}

double fo_hdr_mean(const struct fo_hdr *h)
{
	if (h->total_count == 0)
		return 0.0;
	double total = 0;
	for (int32_t i = 0; i < h->counts_len; i++)
		if (h->counts[i] != 0)
			total += (double)median_at(h, i) * (double)h->counts[i];
	return total * 1.0 / (double)h->total_count;
}

double fo_hdr_stddev(const struct fo_hdr *h)
{
	if (h->total_count == 0)
		return 0.0;
	double mean = fo_hdr_mean(h);
	double total = 0.0;
	for (int32_t i = 0; i < h->counts_len; i++) {
		if (h->counts[i] != 0) {
			double deviation = (double)median_at(h, i) * 1.0 - mean;
			total += deviation * deviation * (double)h->counts[i];
		}
	}
	return sqrt(total / (double)h->total_count);
}

int64_t fo__java_d2l(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

int64_t fo_hdr_value_at_percentile(const struct fo_hdr *h, double percentile)
{
	/* Truncate to 0..100% after removing one ulp, so that rounding up below never
	 * overruns into the next bucket (Java 2.1.11). NaN stays NaN, as in Java. */
	double requested = nextafter(percentile, -INFINITY);
	if (requested < 0.0)
		requested = 0.0;
	if (requested > 100.0)
		requested = 100.0;
	double fp_count = requested * (double)h->total_count / 100.0;
	int64_t count_at_percentile = fo__java_d2l(ceil(fp_count));
	if (count_at_percentile < 1)
		count_at_percentile = 1;
	int64_t total = 0;
	for (int32_t i = 0; i < h->counts_len; i++) {
		total = fo__wrap_add(total, h->counts[i]);
		if (total >= count_at_percentile) {
			int64_t v = fo_hdr_value_from_index(h, i);
			return percentile == 0.0 ? fo_hdr_lowest_equivalent(h, v) : fo_hdr_highest_equivalent(h, v);
		}
	}
	return 0;
}

double fo_hdr_percentile_at_or_below(const struct fo_hdr *h, int64_t value)
{
	if (h->total_count == 0)
		return 100.0;
	if (value < 0)
		return 0.0;
	int32_t target = fo__hdr_index(h, value);
	if (target > h->counts_len - 1)
		target = h->counts_len - 1;
	int64_t total = 0;
	for (int32_t i = 0; i <= target; i++)
		total = fo__wrap_add(total, h->counts[i]);
	return 100.0 * (double)total / (double)h->total_count;
}

int64_t fo_hdr_count_at(const struct fo_hdr *h, int64_t value)
{
	if (value < 0 || h->counts_len == 0)
		return 0;
	int32_t i = fo__hdr_index(h, value);
	if (i > h->counts_len - 1)
		i = h->counts_len - 1;
	return h->counts[i];
}

int64_t fo_hdr_count_between(const struct fo_hdr *h, int64_t low, int64_t high)
{
	if (high < 0 || h->counts_len == 0)
		return 0;
	int32_t lo = low < 0 ? 0 : fo__hdr_index(h, low);
	int32_t hi = fo__hdr_index(h, high);
	if (hi > h->counts_len - 1)
		hi = h->counts_len - 1;
	int64_t count = 0;
	for (int32_t i = lo; i <= hi; i++)
		count = fo__wrap_add(count, h->counts[i]);
	return count;
}
