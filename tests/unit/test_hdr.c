/*
 * test_hdr.c: our HdrHistogram against Java HdrHistogram 2.1.11. The expected numbers were
 * printed by a Java program against Debian's jar (layouts, equivalent values, percentiles,
 * means and standard deviations to the last bit, every step of each iterator), and by the
 * notes of tests/data/hdr/README.md for the interval-log vectors: jHiccup V0/V1/V2/V3 logs,
 * NoSQLBench's tagged log and Fallout's CSV of its split, and a Java-written sample. Then
 * round trips of both encodings and of the log format, and corrupted input refused.
 */
#include "util/common.h"

#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <cmocka.h>

#include "metrics/hdr.h"
#include "metrics/hdrlog.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- helpers ---- */

static const char *data_path(const char *name)
{
	static char path[1024];
	const char *dir = getenv("FO_TEST_DATA");
	snprintf(path, sizeof(path), "%s/hdr/%s", dir && *dir ? dir : "tests/data", name);
	return path;
}

/* The untagged (tag NULL) or tagged intervals of a log, merged. */
struct merged {
	int intervals;
	int64_t first_start_ms;
	double start_time_s;
	struct fo_hdr acc;
};

enum acc_kind { ACC_LIKE_FIRST, ACC_WIDE };

/* Reads a whole log; keeps the intervals whose tag matches (any tag when all is set).
 * ACC_LIKE_FIRST accumulates as Java's HistogramLogProcessor (first interval's layout,
 * auto-resizing), ACC_WIDE as HdrHistogram_c's tests (1 ns..1 h, 3 digits). */
static void read_log(const char *name, bool all, const char *tag, enum acc_kind kind, struct merged *m)
{
	struct fo_hdrlog_reader r;
	struct fo_err err = {0};
	memset(m, 0, sizeof(*m));
	assert_int_equal(fo_hdrlog_reader_open(&r, data_path(name), &err), 0);
	struct fo_hdr h;
	int rc;
	while ((rc = fo_hdrlog_read(&r, &h, &err)) == 1) {
		bool match = all || (tag == NULL ? h.tag == NULL : h.tag && strcmp(h.tag, tag) == 0);
		if (match) {
			if (m->intervals++ == 0) {
				m->first_start_ms = h.start_ms;
				if (kind == ACC_LIKE_FIRST)
					assert_int_equal(fo_hdr_init_like(&m->acc, &h), 0);
				else
					assert_int_equal(fo_hdr_init(&m->acc, 1, 3600000000000LL, 3), 0);
			}
			assert_int_equal(fo_hdr_add(&m->acc, &h), 0);
		}
		fo_hdr_release(&h);
	}
	if (rc != 0)
		fail_msg("%s", err.msg);
	m->start_time_s = r.start_time_s;
	fo_hdrlog_reader_close(&r);
}

/* ---- layout and equivalence ---- */

struct layout_case {
	int64_t lowest, highest;
	int sigfigs;
	int unit_magnitude, sub_bucket_count, half_count_magnitude, buckets, len;
	int64_t mask;
	int lzcb;
};

static const struct layout_case layouts[] = {
	{1, 3600000000000LL, 3, 0, 2048, 10, 32, 33792, 2047, 53},
	{1000, 3600000000000LL, 3, 9, 2048, 10, 23, 24576, 1048064, 44},
	{1, 2, 4, 0, 32768, 14, 1, 32768, 32767, 49},
	{1, 1000, 0, 0, 2, 0, 10, 11, 1, 63},
	{20000, 3600000000000LL, 2, 14, 256, 7, 21, 2816, 4177920, 42},
	{1, INT64_MAX, 5, 0, 262144, 17, 46, 6160384, 262143, 46},
	{7, 1000000, 1, 2, 32, 4, 14, 240, 124, 57},
};

static void test_layout_matches_java(void **state)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(layouts); i++) {
		const struct layout_case *c = &layouts[i];
		struct fo_hdr h;
		assert_int_equal(fo_hdr_init(&h, c->lowest, c->highest, c->sigfigs), 0);
		assert_int_equal(h.unit_magnitude, c->unit_magnitude);
		assert_int_equal(h.sub_bucket_count, c->sub_bucket_count);
		assert_int_equal(h.sub_bucket_half_count_magnitude, c->half_count_magnitude);
		assert_int_equal(h.bucket_count, c->buckets);
		assert_int_equal(h.counts_len, c->len);
		assert_int_equal(h.sub_bucket_mask, c->mask);
		assert_int_equal(h.leading_zero_count_base, c->lzcb);
		fo_hdr_release(&h);
	}
}

struct equiv_case {
	int layout;
	int64_t v, lo, hi, med, next, size;
	int32_t index;
};

static const struct equiv_case equivs[] = {
	{0, 0, 0, 0, 0, 1, 1, 0},
	{0, 2047, 2047, 2047, 2047, 2048, 1, 2047},
	{0, 2048, 2048, 2049, 2049, 2050, 2, 2048},
	{0, 10007, 10000, 10007, 10004, 10008, 8, 4322},
	{0, 123456789, 123404288, 123469823, 123437056, 123469824, 65536, 18267},
	{0, 3599999999999LL, 3599182594048LL, 3601330077695LL, 3600256335872LL, 3601330077696LL, 2147483648LL, 33420},
	{1, 1, 0, 511, 256, 512, 512, 0},
	{1, 1000, 512, 1023, 768, 1024, 512, 1},
	{1, 2049, 2048, 2559, 2304, 2560, 512, 4},
	{1, 10007, 9728, 10239, 9984, 10240, 512, 19},
	{3, 1000, 512, 1023, 768, 1024, 512, 10},
	{4, 10007, 0, 16383, 8192, 16384, 16384, 0},
	{4, 123456789, 123207680, 123731967, 123469824, 123731968, 524288, 875},
	{5, 123456789, 123456512, 123457023, 123456768, 123457024, 512, 1420774},
	{5, 3599999999999LL, 3599987900416LL, 3600004677631LL, 3599996289024LL, 3600004677632LL, 16777216, 3360304},
	{6, 1, 0, 3, 2, 4, 4, 0},
	{6, 2047, 1984, 2047, 2016, 2048, 64, 95},
	{6, 2049, 2048, 2175, 2112, 2176, 128, 96},
	{6, 10007, 9728, 10239, 9984, 10240, 512, 131},
};

static void test_equivalent_values_match_java(void **state)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(equivs); i++) {
		const struct equiv_case *c = &equivs[i];
		const struct layout_case *l = &layouts[c->layout];
		struct fo_hdr h;
		assert_int_equal(fo_hdr_init(&h, l->lowest, l->highest, l->sigfigs), 0);
		assert_int_equal(fo_hdr_lowest_equivalent(&h, c->v), c->lo);
		assert_int_equal(fo_hdr_highest_equivalent(&h, c->v), c->hi);
		assert_int_equal(fo_hdr_median_equivalent(&h, c->v), c->med);
		assert_int_equal(fo_hdr_next_non_equivalent(&h, c->v), c->next);
		assert_int_equal(fo_hdr_size_of_equivalent_range(&h, c->v), c->size);
		assert_int_equal(fo__hdr_index(&h, c->v), c->index);
		assert_int_equal(fo_hdr_value_from_index(&h, c->index), c->lo);
		assert_true(fo_hdr_values_equivalent(&h, c->v, c->lo));
		fo_hdr_release(&h);
	}
}

static void test_init_refuses_bad_ranges(void **state)
{
	struct fo_hdr h;
	struct fo_err err = {0};
	assert_int_equal(fo_hdr_init(&h, 0, 100, 3), FO_EINVAL);
	assert_int_equal(fo_hdr_init(&h, 10, 19, 3), FO_EINVAL);
	assert_int_equal(fo_hdr_init(&h, 1, 100, 6), FO_EINVAL);
	assert_int_equal(fo_hdr_init(&h, 1, 100, -1), FO_EINVAL);
	assert_int_equal(fo_hdr_init(&h, INT64_MAX / 4, INT64_MAX, 5), FO_EINVAL); /* too many bits */
	assert_null(h.counts);
	fo_hdr_release(&h);
	assert_null(fo_hdr_new(5, 6, 2, &err));
	assert_int_equal(err.code, FO_EINVAL);
	assert_non_null(strstr(err.msg, "highest 6"));
}

/* ---- statistics ---- */

struct stats_case {
	int64_t total, min, max;
	double mean, sd;
	int64_t p[14]; /* at 0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100 */
};
static const double percentiles[14] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100};

static void check_stats(const struct fo_hdr *h, const struct stats_case *c)
{
	assert_int_equal(fo_hdr_total(h), c->total);
	assert_int_equal(fo_hdr_min(h), c->min);
	assert_int_equal(fo_hdr_max(h), c->max);
	/* bit for bit: Java sums the same doubles in the same order */
	if (fo_hdr_mean(h) != c->mean || fo_hdr_stddev(h) != c->sd)
		fail_msg("mean %.17g sd %.17g, Java %.17g %.17g", fo_hdr_mean(h), fo_hdr_stddev(h), c->mean, c->sd);
	for (int i = 0; i < 14; i++)
		if (fo_hdr_value_at_percentile(h, percentiles[i]) != c->p[i])
			fail_msg("p%g = %" PRId64 ", Java %" PRId64, percentiles[i],
				 fo_hdr_value_at_percentile(h, percentiles[i]), c->p[i]);
}

static void fill_seq(struct fo_hdr *h)
{
	assert_int_equal(fo_hdr_init(h, 1, 3600000000000LL, 3), 0);
	for (int v = 1; v <= 10000; v++)
		assert_true(fo_hdr_record(h, v));
}

static void fill_small(struct fo_hdr *h)
{
	assert_int_equal(fo_hdr_init(h, 1, 100000, 2), 0);
	assert_true(fo_hdr_record_n(h, 5, 3));
	assert_true(fo_hdr_record(h, 0));
	assert_true(fo_hdr_record(h, 99999));
	assert_true(fo_hdr_record_n(h, 1234, 7));
}

static void test_stats_match_java(void **state)
{
	static const struct stats_case seq = {
		10000, 1, 10007, 5000.898, 2886.8926666566617,
		{1, 10, 100, 1000, 2501, 5003, 7503, 9007, 9503, 9903, 9991, 9999, 10007, 10007}};
	static const struct stats_case us = {
		1000, 512, 1000447, 500503.552, 288677.30542124534,
		{512, 1023, 10239, 100351, 250367, 500223, 750079, 900095, 950271, 990207, 999423, 1000447, 1000447, 1000447}};
	static const struct stats_case small = {
		12, 0, 100351, 9063.583333333334, 27453.17323631379,
		{0, 0, 0, 5, 5, 1239, 1239, 1239, 100351, 100351, 100351, 100351, 100351, 100351}};
	struct fo_hdr h;
	fill_seq(&h);
	check_stats(&h, &seq);
	fo_hdr_release(&h);
	assert_int_equal(fo_hdr_init(&h, 1000, 3600000000000LL, 3), 0);
	for (int i = 0; i < 1000; i++)
		fo_hdr_record(&h, 1000LL * (i + 1));
	check_stats(&h, &us);
	fo_hdr_release(&h);
	fill_small(&h);
	check_stats(&h, &small);
	fo_hdr_release(&h);
}

static void test_percentile_rank_rule(void **state)
{
	/* Java nudges the percentile down one ulp, then takes ceil(p * N / 100). */
	struct fo_hdr h;
	assert_int_equal(fo_hdr_init(&h, 1, 100000, 3), 0);
	for (int i = 1; i <= 1000; i++)
		fo_hdr_record(&h, i);
	assert_int_equal(fo_hdr_value_at_percentile(&h, 99.9), 999);
	assert_int_equal(fo_hdr_value_at_percentile(&h, 0.1), 1);
	assert_int_equal(fo_hdr_value_at_percentile(&h, 99.99), 1000);
	assert_int_equal(fo_hdr_value_at_percentile(&h, 58.3), 583);
	assert_int_equal(fo_hdr_value_at_percentile(&h, NAN), 1);
	assert_int_equal(fo_hdr_value_at_percentile(&h, -5), 1);
	assert_int_equal(fo_hdr_value_at_percentile(&h, 200), 1000);
	assert_true(fo_hdr_percentile_at_or_below(&h, 500) == 50.0);
	assert_true(fo_hdr_percentile_at_or_below(&h, 5000000) == 100.0);
	assert_int_equal(fo_hdr_count_at(&h, 777), 1);
	assert_int_equal(fo_hdr_count_between(&h, 100, 200), 101);
	fo_hdr_release(&h);
	/* empty */
	assert_int_equal(fo_hdr_init(&h, 1, 100, 1), 0);
	assert_int_equal(fo_hdr_value_at_percentile(&h, 50), 0);
	assert_int_equal(fo_hdr_min(&h), 0);
	assert_int_equal(fo_hdr_max(&h), 0);
	assert_true(fo_hdr_mean(&h) == 0 && fo_hdr_stddev(&h) == 0);
	assert_true(fo_hdr_percentile_at_or_below(&h, 5) == 100.0);
	fo_hdr_release(&h);
}

static void test_record_range_and_auto_resize(void **state)
{
	struct fo_hdr h;
	assert_int_equal(fo_hdr_init(&h, 1, 1000, 2), 0);
	assert_false(fo_hdr_record(&h, -1));
	assert_false(fo_hdr_record(&h, 5000));
	assert_true(fo_hdr_record(&h, 1000));
	assert_int_equal(fo_hdr_total(&h), 1);
	fo_hdr_release(&h);
	/* Java: new Histogram(2).recordValue(123456789) */
	assert_int_equal(fo_hdr_init(&h, 1, 2, 2), 0);
	h.auto_resize = true;
	assert_true(fo_hdr_record(&h, 123456789));
	assert_int_equal(h.highest, 134217727);
	assert_int_equal(h.counts_len, 2688);
	assert_int_equal(h.bucket_count, 20);
	assert_int_equal(fo_hdr_max(&h), fo_hdr_highest_equivalent(&h, 123456789));
	assert_false(fo_hdr_record(&h, -5));
	fo_hdr_release(&h);
}

/* ---- fo_hdr_record_many ---- */

static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* a and b hold the same values: layout, counts, statistics and encoded bytes. */
static void assert_same_histogram(const struct fo_hdr *a, const struct fo_hdr *b)
{
	assert_int_equal(a->highest, b->highest);
	assert_int_equal(a->counts_len, b->counts_len);
	assert_int_equal(a->bucket_count, b->bucket_count);
	assert_int_equal(a->total_count, b->total_count);
	assert_int_equal(a->min_value, b->min_value);
	assert_int_equal(a->max_value, b->max_value);
	assert_memory_equal(a->counts, b->counts, (size_t)a->counts_len * sizeof(int64_t));
	struct fo_buf ea, eb;
	fo_buf_init(&ea, 0);
	fo_buf_init(&eb, 0);
	assert_int_equal(fo_hdr_encode(a, &ea), 0);
	assert_int_equal(fo_hdr_encode(b, &eb), 0);
	assert_int_equal(ea.len, eb.len);
	assert_memory_equal(ea.s, eb.s, ea.len);
	fo_buf_release(&ea);
	fo_buf_release(&eb);
}

/* Records values one by one into one histogram and as one batch into another (both
 * lowest..highest, sigfigs, auto_resize as given): the two must agree, and so must the
 * return values (true when every fo_hdr_record call was). */
static void check_record_many(int64_t lowest, int64_t highest, int sigfigs, bool auto_resize, const int64_t *values,
			      size_t n)
{
	struct fo_hdr one, many;
	assert_int_equal(fo_hdr_init(&one, lowest, highest, sigfigs), 0);
	assert_int_equal(fo_hdr_init(&many, lowest, highest, sigfigs), 0);
	one.auto_resize = many.auto_resize = auto_resize;
	bool all = true;
	for (size_t i = 0; i < n; i++)
		all = fo_hdr_record(&one, values[i]) && all;
	assert_int_equal(fo_hdr_record_many(&many, values, n), all);
	assert_same_histogram(&one, &many);
	/* the same values again, in uneven batches, onto what is already there */
	for (size_t i = 0; i < n; i++)
		fo_hdr_record(&one, values[i]);
	for (size_t i = 0, step = 1; i < n; i += step, step = step * 3 + 1)
		fo_hdr_record_many(&many, values + i, step < n - i ? step : n - i);
	assert_same_histogram(&one, &many);
	fo_hdr_release(&one);
	fo_hdr_release(&many);
}

static void test_record_many_random_values(void **state)
{
	enum { N = 100000 };
	int64_t *v = malloc(N * sizeof(*v));
	assert_non_null(v);
	uint64_t seed = 42;
	for (int shape = 0; shape < 3; shape++) {
		for (size_t i = 0; i < N; i++) {
			uint64_t r = next_random(&seed);
			if (shape == 0) /* latencies in ns, 1 to 2^39: all in range of 1 ns .. 1 h */
				v[i] = (int64_t)(((r >> 40) + 1) << (r & 15));
			else if (shape == 1) /* any magnitude, some negative or out of range */
				v[i] = (int64_t)((r & 64) ? -(r >> (r & 63)) : r >> (r & 63));
			else /* small values, around a unit of 1024 */
				v[i] = (int64_t)(r % 5000);
		}
		check_record_many(1, 3600000000000LL, 3, false, v, N);
		check_record_many(1, 3600000000000LL, 3, true, v, N);
		check_record_many(1024, 1000000000, 2, false, v, N);
		check_record_many(1000, 2000, 5, true, v, N);
		check_record_many(1, 2, 0, true, v, N);
	}
	free(v);
}

static void test_record_many_edge_values(void **state)
{
	struct fo_hdr h;
	assert_int_equal(fo_hdr_init(&h, 1, 1000000, 3), 0);
	int64_t top = fo_hdr_highest_equivalent(&h, fo_hdr_value_from_index(&h, h.counts_len - 1));
	fo_hdr_release(&h);
	const int64_t edges[] = {
		0, 1, 2, 1000000, 1000001, top, top + 1, -1, INT64_MIN, INT64_MAX, INT64_MAX - 1,
		1LL << 62, 1000000000, 999, 1023, 1024, 0, -1000000, top, 1,
	};
	size_t n = sizeof(edges) / sizeof(edges[0]);
	check_record_many(1, 1000000, 3, false, edges, n);
	check_record_many(1, 1000000, 3, true, edges, n);
	check_record_many(1, 2, 3, true, edges, n);
	check_record_many(1000, 1000000, 1, false, edges, n);
	check_record_many(1000, 1000000, 1, true, edges, n);
	/* each alone, so each is first (and last) in its batch */
	for (size_t i = 0; i < n; i++) {
		check_record_many(1, 1000000, 3, false, edges + i, 1);
		check_record_many(1, 2, 2, true, edges + i, 1);
	}
	/* the return value: true only when every value was recorded */
	assert_int_equal(fo_hdr_init(&h, 1, 1000000, 3), 0);
	const int64_t ok[] = {0, 1, 1000000}, bad_first[] = {-1, 5}, bad_last[] = {5, 1LL << 40};
	assert_int_equal(fo_hdr_record_many(&h, ok, 3), 1);
	assert_int_equal(fo_hdr_record_many(&h, bad_first, 2), 0);
	assert_int_equal(fo_hdr_record_many(&h, bad_last, 2), 0);
	assert_int_equal(fo_hdr_total(&h), 5);
	assert_int_equal(fo_hdr_count_at(&h, 5), 2);
	fo_hdr_release(&h);
}

static void test_record_many_empty_batches(void **state)
{
	struct fo_hdr h, empty;
	assert_int_equal(fo_hdr_init(&h, 1, 1000, 2), 0);
	assert_int_equal(fo_hdr_init(&empty, 1, 1000, 2), 0);
	assert_int_equal(fo_hdr_record_many(&h, NULL, 0), 1);
	assert_same_histogram(&h, &empty);
	assert_int_equal(fo_hdr_min_nonzero(&h), INT64_MAX);
	assert_int_equal(fo_hdr_max(&h), 0);
	const int64_t v[] = {7};
	assert_int_equal(fo_hdr_record_many(&h, v, 0), 1);
	assert_same_histogram(&h, &empty);
	fo_hdr_release(&h);
	fo_hdr_release(&empty);
	/* a zeroed histogram records nothing, as fo_hdr_record */
	struct fo_hdr zero;
	memset(&zero, 0, sizeof(zero));
	assert_false(fo_hdr_record(&zero, 7));
	assert_int_equal(fo_hdr_record_many(&zero, v, 1), 0);
	assert_int_equal(fo_hdr_record_many(&zero, NULL, 0), 1);
	assert_int_equal(zero.total_count, 0);
	assert_null(zero.counts);
}

static void test_record_many_auto_resize_matches_java(void **state)
{
	/* Java: new Histogram(2).recordValue(123456789), as test_record_range_and_auto_resize */
	struct fo_hdr h;
	assert_int_equal(fo_hdr_init(&h, 1, 2, 2), 0);
	h.auto_resize = true;
	const int64_t v[] = {1, 123456789, -5, 2};
	assert_int_equal(fo_hdr_record_many(&h, v, 4), 0);
	assert_int_equal(h.highest, 134217727);
	assert_int_equal(h.counts_len, 2688);
	assert_int_equal(h.bucket_count, 20);
	assert_int_equal(fo_hdr_total(&h), 3);
	assert_int_equal(fo_hdr_min(&h), 1);
	assert_int_equal(fo_hdr_max(&h), fo_hdr_highest_equivalent(&h, 123456789));
	fo_hdr_release(&h);
}

static void test_coordinated_omission_matches_java(void **state)
{
	static const struct stats_case co = {
		10, 999936, 10002431, 5499520.0, 2871852.570878944,
		{999936, 1000447, 1000447, 1000447, 3000319, 5001215, 8003583, 9003007, 10002431, 10002431, 10002431,
		 10002431, 10002431, 10002431}};
	static const struct stats_case corrected = {
		11, 1000, 10002431, 5001702.545454546, 3161357.765465982,
		{1000, 1000, 1000, 1002495, 2002943, 5005311, 8003583, 9003007, 10002431, 10002431, 10002431, 10002431,
		 10002431, 10002431}};
	struct fo_hdr h, src, dst;
	assert_int_equal(fo_hdr_init(&h, 1, 3600000000000LL, 3), 0);
	assert_true(fo_hdr_record_corrected(&h, 10000000, 1000000));
	check_stats(&h, &co);
	fo_hdr_release(&h);
	/* after the fact (Java's copyCorrectedForCoordinatedOmission) */
	assert_int_equal(fo_hdr_init(&src, 1, 3600000000000LL, 3), 0);
	fo_hdr_record(&src, 10000000);
	fo_hdr_record(&src, 1000);
	assert_int_equal(fo_hdr_init(&dst, 1, 3600000000000LL, 3), 0);
	assert_int_equal(fo_hdr_add_corrected(&dst, &src, 1000000), 0);
	check_stats(&dst, &corrected);
	fo_hdr_release(&src);
	fo_hdr_release(&dst);
}

static void test_add_across_layouts(void **state)
{
	static const struct stats_case layouts_case = {
		10012, 0, 100351, 5009.233719536556, 3042.386095866539,
		{0, 511, 511, 1023, 2559, 5119, 7679, 9215, 9727, 10239, 10239, 10239, 100351, 100351}};
	static const struct stats_case resized = {
		10013, 0, 5003804671LL, 504526.61649855186, 49982049.78784685,
		{0, 7, 97, 998, 2493, 4999, 7499, 9007, 9503, 9903, 9999, 99903, 5003804671LL, 5003804671LL}};
	struct fo_hdr seq, small, dst;
	fill_seq(&seq);
	fill_small(&small);
	assert_int_equal(fo_hdr_init(&dst, 1000, 3600000000000LL, 2), 0);
	assert_int_equal(fo_hdr_add(&dst, &small), 0);
	assert_int_equal(fo_hdr_add(&dst, &seq), 0);
	check_stats(&dst, &layouts_case);
	fo_hdr_release(&dst);
	/* Java: new Histogram(3) (1..2, auto-resizing), add, add, record 5e9 */
	assert_int_equal(fo_hdr_init(&dst, 1, 2, 3), 0);
	dst.auto_resize = true;
	assert_int_equal(fo_hdr_add(&dst, &seq), 0);
	assert_int_equal(fo_hdr_add(&dst, &small), 0);
	assert_true(fo_hdr_record(&dst, 5000000000LL));
	check_stats(&dst, &resized);
	assert_int_equal(dst.highest, 8589934591LL);
	assert_int_equal(dst.counts_len, 24576);
	fo_hdr_release(&dst);
	/* a fixed range too small: the values that do not fit are counted, not lost silently */
	assert_int_equal(fo_hdr_init(&dst, 1, 5000, 3), 0); /* its buckets reach 8191 */
	assert_int_equal(fo_hdr_add(&dst, &seq), 10000 - 8191);
	assert_int_equal(fo_hdr_total(&dst), 8191);
	fo_hdr_release(&dst);
	/* same layout: added directly; times widen */
	assert_int_equal(fo_hdr_init(&dst, 1, 3600000000000LL, 3), 0);
	seq.start_ms = 2000;
	seq.end_ms = 3000;
	dst.start_ms = 2500;
	dst.end_ms = 2600;
	assert_int_equal(fo_hdr_add(&dst, &seq), 0);
	assert_int_equal(fo_hdr_add(&dst, &seq), 0);
	assert_int_equal(fo_hdr_total(&dst), 20000);
	assert_int_equal(fo_hdr_min(&dst), 1);
	assert_int_equal(fo_hdr_max(&dst), 10007);
	assert_int_equal(dst.start_ms, 2000);
	assert_int_equal(dst.end_ms, 3000);
	fo_hdr_release(&dst);
	fo_hdr_release(&seq);
	fo_hdr_release(&small);
}

static void test_reset_copy_equals(void **state)
{
	struct fo_hdr a, b;
	fill_small(&a);
	fo_hdr_set_tag(&a, "reads");
	a.start_ms = 5;
	assert_int_equal(fo_hdr_copy(&b, &a), 0);
	assert_true(fo_hdr_equals(&a, &b));
	assert_string_equal(b.tag, "reads");
	assert_int_equal(b.start_ms, 5);
	assert_true(fo_hdr_mean(&a) == fo_hdr_mean(&b));
	fo_hdr_record(&b, 7);
	assert_false(fo_hdr_equals(&a, &b));
	fo_hdr_reset(&b);
	assert_int_equal(fo_hdr_total(&b), 0);
	assert_int_equal(fo_hdr_max(&b), 0);
	assert_null(b.tag);
	assert_int_equal(b.counts_len, a.counts_len);
	assert_true(fo_hdr_record(&b, 42));
	assert_int_equal(fo_hdr_min(&b), 42);
	fo_hdr_release(&a);
	fo_hdr_release(&b);
	struct fo_hdr *h = fo_hdr_new(1, 1000, 3, NULL);
	assert_non_null(h);
	fo_hdr_free(h);
}

/* ---- iterators ---- */

static void test_percentile_iterator_matches_java(void **state)
{
	static const struct {
		int64_t v;
		double p;
		int64_t total;
	} steps[] = {
		{0, 0, 1}, {5, 10, 4}, {5, 20, 4}, {5, 30, 4}, {1239, 40, 11}, {1239, 50, 11}, {1239, 55, 11},
		{1239, 60, 11}, {1239, 65, 11}, {1239, 70, 11}, {1239, 75, 11}, {1239, 77.5, 11}, {1239, 80, 11},
		{1239, 82.5, 11}, {1239, 85, 11}, {1239, 87.5, 11}, {1239, 88.75, 11}, {1239, 90, 11},
		{1239, 91.25, 11}, {100351, 92.5, 12}, {100351, 100, 12},
	};
	struct fo_hdr h;
	struct fo_hdr_iter it;
	fill_small(&h);
	fo_hdr_iter_percentile_init(&it, &h, 5);
	size_t n = 0;
	while (fo_hdr_iter_next(&it)) {
		assert_true(n < FO_ARRAY_LEN(steps));
		assert_int_equal(it.value_iterated_to, steps[n].v);
		assert_true(it.percentile_iterated_to == steps[n].p);
		assert_int_equal(it.total_count_to_this_value, steps[n].total);
		n++;
	}
	assert_int_equal(n, FO_ARRAY_LEN(steps));
	fo_hdr_release(&h);
	/* 1..10000: 69 steps, the last one Java's extra step to 100% */
	fill_seq(&h);
	fo_hdr_iter_percentile_init(&it, &h, 5);
	int64_t sum = 0;
	n = 0;
	while (fo_hdr_iter_next(&it)) {
		sum += it.value_iterated_to;
		n++;
	}
	assert_int_equal(n, 69);
	assert_int_equal(sum, 610235);
	assert_true(it.percentile_iterated_to == 100.0);
	assert_int_equal(it.value_iterated_to, 10007);
	fo_hdr_release(&h);
}

static void test_linear_and_log_iterators_match_java(void **state)
{
	static const int64_t lin[][3] = {
		{999, 999, 499500}, {1999, 1000, 1999000}, {2999, 1000, 4498976}, {3999, 1000, 7998976},
		{4999, 1000, 12499880}, {5999, 1000, 18000880}, {6999, 1000, 24501880}, {7999, 1000, 32002880},
		{8999, 1000, 40505496}, {9999, 1000, 50008496}, {10999, 1, 50018503},
	};
	static const int64_t lg[][2] = {
		{99, 99}, {199, 100}, {399, 200}, {799, 400}, {1599, 800}, {3199, 1600}, {6399, 3200}, {12799, 3601},
	};
	struct fo_hdr h;
	struct fo_hdr_iter it;
	fill_seq(&h);
	fo_hdr_iter_linear_init(&it, &h, 1000);
	size_t n = 0;
	while (fo_hdr_iter_next(&it)) {
		assert_true(n < FO_ARRAY_LEN(lin));
		assert_int_equal(it.value_iterated_to, lin[n][0]);
		assert_int_equal(it.count_added_in_this_step, lin[n][1]);
		assert_int_equal(it.total_value_to_this_value, lin[n][2]);
		n++;
	}
	assert_int_equal(n, FO_ARRAY_LEN(lin));
	fo_hdr_iter_log_init(&it, &h, 100, 2.0);
	n = 0;
	while (fo_hdr_iter_next(&it)) {
		assert_true(n < FO_ARRAY_LEN(lg));
		assert_int_equal(it.value_iterated_to, lg[n][0]);
		assert_int_equal(it.count_added_in_this_step, lg[n][1]);
		n++;
	}
	assert_int_equal(n, FO_ARRAY_LEN(lg));
	fo_hdr_release(&h);
}

static void test_recorded_and_all_iterators_match_java(void **state)
{
	static const int64_t rec[][3] = {{0, 1, 0}, {5, 3, 0}, {1239, 7, 5}, {100351, 1, 1239}};
	struct fo_hdr h;
	struct fo_hdr_iter it;
	fill_small(&h);
	fo_hdr_iter_recorded_init(&it, &h);
	size_t n = 0;
	while (fo_hdr_iter_next(&it)) {
		assert_true(n < FO_ARRAY_LEN(rec));
		assert_int_equal(it.value_iterated_to, rec[n][0]);
		assert_int_equal(it.count_at_value_iterated_to, rec[n][1]);
		assert_int_equal(it.value_iterated_from, rec[n][2]);
		n++;
	}
	assert_int_equal(n, 4);
	fo_hdr_iter_all_init(&it, &h);
	n = 0;
	while (fo_hdr_iter_next(&it))
		n++;
	assert_int_equal(n, 1408);
	assert_int_equal(h.counts_len, 1408);
	assert_int_equal(it.total_count_to_this_value, 12);
	fo_hdr_release(&h);
	/* an empty histogram has no recorded values and no percentiles */
	assert_int_equal(fo_hdr_init(&h, 1, 100, 2), 0);
	fo_hdr_iter_recorded_init(&it, &h);
	assert_false(fo_hdr_iter_next(&it));
	fo_hdr_iter_percentile_init(&it, &h, 5);
	assert_false(fo_hdr_iter_next(&it));
	fo_hdr_release(&h);
}

/* ---- encoding ---- */

static void round_trip(const struct fo_hdr *h)
{
	struct fo_buf b = FO_BUF_INIT;
	struct fo_err err = {0};
	struct fo_hdr back;
	for (int compressed = 0; compressed < 2; compressed++) {
		fo_buf_clear(&b);
		assert_int_equal(compressed ? fo_hdr_encode_compressed(h, &b) : fo_hdr_encode(h, &b), 0);
		if (fo_hdr_decode(b.s, b.len, &back, &err))
			fail_msg("%s", err.msg);
		assert_true(fo_hdr_equals(h, &back));
		assert_int_equal(fo_hdr_min(&back), fo_hdr_min(h));
		assert_int_equal(fo_hdr_max(&back), fo_hdr_max(h));
		assert_true(fo_hdr_mean(&back) == fo_hdr_mean(h));
		fo_hdr_release(&back);
	}
	fo_buf_release(&b);
}

static void test_encode_decode_round_trips(void **state)
{
	struct fo_hdr h;
	fill_seq(&h);
	round_trip(&h);
	fo_hdr_record_n(&h, 3000000000000LL, 1LL << 40); /* a count that needs many LEB128 bytes */
	round_trip(&h);
	fo_hdr_release(&h);
	fill_small(&h);
	round_trip(&h);
	fo_hdr_release(&h);
	for (int sf = 0; sf <= 5; sf++) {
		assert_int_equal(fo_hdr_init(&h, 1000, 1000000000000LL, sf), 0);
		round_trip(&h); /* empty */
		for (int64_t v = 1; v < 1000000000000LL; v = v * 3 + 17)
			fo_hdr_record_n(&h, v, v % 7 + 1);
		round_trip(&h);
		fo_hdr_release(&h);
	}
	/* the header carries the range: an auto-ranged histogram comes back as small as it was */
	assert_int_equal(fo_hdr_init(&h, 1, 2, 4), 0);
	round_trip(&h);
	/* and a grown one as large as it grew */
	h.auto_resize = true;
	fo_hdr_record(&h, 987654321);
	fo_hdr_record(&h, 12345);
	round_trip(&h);
	fo_hdr_release(&h);
}

static void test_zigzag_known_bytes(void **state)
{
	/* counts 0, 1, 2, then 5 zeros, then 300, up to the max */
	struct fo_hdr h;
	struct fo_buf b = FO_BUF_INIT;
	assert_int_equal(fo_hdr_init(&h, 1, 100, 1), 0);
	fo_hdr_record(&h, 1);
	fo_hdr_record_n(&h, 2, 2);
	fo_hdr_record_n(&h, 8, 300);
	assert_int_equal(fo_hdr_encode(&h, &b), 0);
	static const unsigned char want[] = {0x00, 0x02, 0x04, 0x09, 0xd8, 0x04};
	assert_int_equal(b.len, 40 + sizeof(want));
	assert_memory_equal(b.s + 40, want, sizeof(want));
	assert_memory_equal(b.s, "\x1c\x84\x93\x13\x00\x00\x00\x06", 8);
	fo_buf_release(&b);
	fo_hdr_release(&h);
}

/* A reused encoder (an interval log's) gives the bytes of a fresh one for every
 * histogram, large and small, in any order. */
static void test_encoder_reuse_same_bytes(void **state)
{
	struct fo_hdr_encoder e;
	fo_hdr_encoder_init(&e);
	struct fo_hdr big, small, empty;
	fill_seq(&big);
	assert_int_equal(fo_hdr_init(&small, 1, 100, 1), 0);
	fo_hdr_record_n(&small, 8, 300);
	assert_int_equal(fo_hdr_init(&empty, 1, 1000, 3), 0);
	const struct fo_hdr *order[] = {&small, &big, &empty, &big, &small};
	for (size_t i = 0; i < FO_ARRAY_LEN(order); i++) {
		struct fo_buf fresh = FO_BUF_INIT, reused = FO_BUF_INIT;
		assert_int_equal(fo_hdr_encode_compressed(order[i], &fresh), 0);
		assert_int_equal(fo_hdr_encoder_encode(&e, order[i], &reused), 0);
		assert_int_equal(reused.len, fresh.len);
		assert_memory_equal(reused.s, fresh.s, fresh.len);
		struct fo_hdr back;
		struct fo_err err = {0};
		assert_int_equal(fo_hdr_decode(reused.s, reused.len, &back, &err), 0);
		assert_true(fo_hdr_equals(&back, order[i]));
		fo_hdr_release(&back);
		fo_buf_release(&fresh);
		fo_buf_release(&reused);
	}
	fo_hdr_encoder_release(&e);
	fo_hdr_encoder_release(&e); /* released twice: harmless */
	fo_hdr_release(&big);
	fo_hdr_release(&small);
	fo_hdr_release(&empty);
}

static void test_corrupted_histograms_refused(void **state)
{
	struct fo_hdr h, back;
	struct fo_buf b = FO_BUF_INIT;
	struct fo_err err = {0};
	fill_seq(&h);
	assert_int_equal(fo_hdr_encode_compressed(&h, &b), 0);
	/* truncated at every length */
	for (size_t n = 0; n < b.len; n += 7) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(fo_hdr_decode(b.s, n, &back, &err), FO_EPARSE);
		assert_null(back.counts);
		assert_true(err.msg[0]);
	}
	/* a broken zlib header */
	b.s[8] ^= 0x55;
	memset(&err, 0, sizeof(err));
	assert_int_equal(fo_hdr_decode(b.s, b.len, &back, &err), FO_EPARSE);
	fo_buf_clear(&b);
	/* plain encodings: unknown cookie, bad range, short payload, counts past the range */
	assert_int_equal(fo_hdr_encode(&h, &b), 0);
	char *p = b.s;
	memset(&err, 0, sizeof(err));
	assert_int_equal(fo_hdr_decode(p, b.len - 3, &back, &err), FO_EPARSE);
	assert_non_null(strstr(err.msg, "truncated"));
	p[3] = 0x10;
	memset(&err, 0, sizeof(err));
	assert_int_equal(fo_hdr_decode(p, b.len, &back, &err), FO_EPARSE);
	assert_non_null(strstr(err.msg, "cookie"));
	p[3] = 0x13;
	p[15] = 9; /* 9 significant digits */
	memset(&err, 0, sizeof(err));
	assert_int_equal(fo_hdr_decode(p, b.len, &back, &err), FO_EPARSE);
	assert_non_null(strstr(err.msg, "invalid histogram range"));
	p[15] = 3;
	memset(p + 24, 0, 8);
	p[31] = 100; /* highest 100: 10000 values do not fit */
	memset(&err, 0, sizeof(err));
	assert_int_equal(fo_hdr_decode(p, b.len, &back, &err), FO_EPARSE);
	fo_buf_release(&b);
	fo_hdr_release(&h);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fo_hdr_decode("\x1c\x84", 2, &back, &err), FO_EPARSE);
}

/* ---- interval logs: the vectors ---- */

struct vector_case {
	const char *file;
	int intervals;
	int64_t total, p999, max;
	double start_time_s;
};

static void test_jhiccup_vectors(void **state)
{
	/* HdrHistogram_c's expectations: all intervals merged into 1 ns..1 h at 3 digits */
	static const struct vector_case cases[] = {
		{"jHiccup-2.0.1.logV0.hlog", 81, 61256, 1510998015, 1569718271, 1438869961.225},
		{"jHiccup-2.0.6.logV1.hlog", 88, 65964, 1829765119, 1888485375, 1438867590.285},
		{"jHiccup-2.0.7S.logV2.hlog", 62, 48761, 1745879039, 1796210687, 1441812279.474},
		{"jHiccup-2.0.7S.logV3.hlog", 62, 48761, 1745879039, 1796210687, 1441812279.474},
		{"hiccup.140623.1028.10646.hlog", 11, 51715, -1, 3115007, 1403476110.183},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		struct merged m;
		read_log(cases[i].file, true, NULL, ACC_WIDE, &m);
		assert_int_equal(m.intervals, cases[i].intervals);
		assert_int_equal(fo_hdr_total(&m.acc), cases[i].total);
		if (cases[i].p999 >= 0)
			assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99.9), cases[i].p999);
		assert_int_equal(fo_hdr_max(&m.acc), cases[i].max);
		assert_true(m.start_time_s == cases[i].start_time_s);
		fo_hdr_release(&m.acc);
	}
}

static void test_jhiccup_v3_tags(void **state)
{
	static const char *tags[] = {"a1.134a", "a3.134a", "a5.132a", "a7.133a"};
	struct merged m;
	read_log("jHiccup-2.0.7S.logV3.hlog", false, NULL, ACC_WIDE, &m);
	assert_int_equal(m.intervals, 58);
	assert_int_equal(fo_hdr_total(&m.acc), 45750);
	fo_hdr_release(&m.acc);
	int64_t tagged = 0;
	for (size_t i = 0; i < FO_ARRAY_LEN(tags); i++) {
		read_log("jHiccup-2.0.7S.logV3.hlog", false, tags[i], ACC_WIDE, &m);
		assert_int_equal(m.intervals, 1);
		tagged += fo_hdr_total(&m.acc);
		fo_hdr_release(&m.acc);
	}
	assert_int_equal(tagged, 3011);
	/* relative timestamps: no BaseTime, so they count from StartTime */
	read_log("jHiccup-2.0.7S.logV3.hlog", false, "a1.134a", ACC_WIDE, &m);
	assert_int_equal(m.first_start_ms, 1441812280608LL); /* 1441812279.474 + 1.134 */
	fo_hdr_release(&m.acc);
}

static void test_java_generated_sample(void **state)
{
	struct merged m;
	read_log("java-generated-sample.hlog", false, NULL, ACC_LIKE_FIRST, &m);
	assert_int_equal(m.intervals, 3);
	assert_int_equal(fo_hdr_total(&m.acc), 30005);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 50), 8187903);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 90), 21020671);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99), 29130751);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99.9), 29933567);
	assert_int_equal(fo_hdr_max(&m.acc), 500170751);
	assert_int_equal(m.first_start_ms, 1700000000000LL);
	assert_true(m.start_time_s == 1700000000.0);
	fo_hdr_release(&m.acc);
	read_log("java-generated-sample.hlog", false, "write", ACC_LIKE_FIRST, &m);
	assert_int_equal(m.intervals, 3);
	assert_int_equal(fo_hdr_total(&m.acc), 3000);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 50), 10002431);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 90), 18006015);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99), 19808255);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99.9), 19988479);
	assert_int_equal(fo_hdr_max(&m.acc), 20004863);
	assert_int_equal(m.acc.end_ms, 1700000030000LL);
	fo_hdr_release(&m.acc);
}

static void test_nosqlbench_vectors(void **state)
{
	static const char *success = "phase1.block8--read-from-table-one--success";
	static const char *error = "phase1.block8--read-from-table-one--error";
	struct merged m;
	/* auto-ranged 4-digit histograms (highest 2 when empty) merged without losing a digit */
	read_log("nb-histogram-with-tags.hdr", false, success, ACC_LIKE_FIRST, &m);
	assert_int_equal(m.intervals, 2);
	assert_int_equal(m.acc.sigfigs, 4);
	assert_int_equal(fo_hdr_total(&m.acc), 485);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99), 50276351);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99.9), 55621631);
	assert_int_equal(fo_hdr_max(&m.acc), 55621631);
	assert_int_equal(fo_hdr_min(&m.acc), 1610752);
	assert_true(m.start_time_s == 1613724592.445);
	assert_int_equal(m.first_start_ms, 1613724594412LL);
	fo_hdr_release(&m.acc);
	read_log("nb-histogram-with-tags.hdr", false, error, ACC_LIKE_FIRST, &m);
	assert_int_equal(m.intervals, 1);
	assert_int_equal(fo_hdr_total(&m.acc), 0);
	fo_hdr_release(&m.acc);
	read_log("nb-histogram-with-tags.hdr", false, NULL, ACC_LIKE_FIRST, &m);
	assert_int_equal(m.intervals, 0);
	/* the split file holds the same values */
	read_log("phase1.block8--read-from-table-one--success.nb-histogram-with-tags.hdr", true, NULL, ACC_LIKE_FIRST,
		 &m);
	assert_int_equal(m.intervals, 2);
	assert_int_equal(fo_hdr_total(&m.acc), 485);
	assert_int_equal(fo_hdr_value_at_percentile(&m.acc, 99), 50276351);
	fo_hdr_release(&m.acc);
}

static void test_fallout_csv_of_split(void **state)
{
	const char *name = "phase1.block8--read-from-table-one--success.nb-histogram-with-tags";
	char file[256];
	snprintf(file, sizeof(file), "%s.hdr", name);
	struct fo_hdrlog_reader r;
	struct fo_err err = {0};
	struct fo_buf csv = FO_BUF_INIT, want = FO_BUF_INIT;
	assert_int_equal(fo_hdrlog_reader_open(&r, data_path(file), &err), 0);
	fo_buf_adds(&csv, FO_HDRLOG_CSV_HEADER);
	struct fo_hdr h;
	while (fo_hdrlog_read(&r, &h, &err) == 1) {
		assert_int_equal(fo_hdrlog_csv_row(&csv, &h, r.start_time_s), 0);
		fo_hdr_release(&h);
	}
	assert_int_equal(err.code, 0);
	fo_hdrlog_reader_close(&r);
	snprintf(file, sizeof(file), "%s.csv", name);
	assert_int_equal(fo_buf_read_file(&want, data_path(file), 0, NULL), 0);
	assert_string_equal(csv.s, want.s);
	assert_non_null(strstr(csv.s, "\n1613724594.458,2,485,1610752,4788219,2680831,6384127,18447359,50276351,55621631,"
				      "55621631,55621631\n"));
	fo_buf_release(&csv);
	fo_buf_release(&want);
}

static void test_malformed_lines_refused(void **state)
{
	static const char *cases[][2] = {
		{"test_tagged_invalid_histogram.txt", "test_tagged_invalid_histogram.txt:1: invalid histogram: "},
		{"test_tagged_invalid_tag_key.txt",
		 "test_tagged_invalid_tag_key.txt:1: unknown key 'Ta' (expected 'Tag=')"},
		{"test_tagged_invalid_timestamp.txt",
		 "test_tagged_invalid_timestamp.txt:1: invalid start timestamp '7.1a33'"},
		{"test_tagged_missing_histogram.txt", "test_tagged_missing_histogram.txt:1: missing histogram"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		struct fo_hdrlog_reader r;
		struct fo_err err = {0};
		FILE *f = fopen(data_path(cases[i][0]), "r");
		assert_non_null(f);
		fo_hdrlog_reader_init(&r, f, cases[i][0]);
		struct fo_hdr h;
		assert_int_equal(fo_hdrlog_read(&r, &h, &err), FO_EPARSE);
		assert_null(h.counts);
		if (strncmp(err.msg, cases[i][1], strlen(cases[i][1])) != 0)
			fail_msg("got '%s', want '%s...'", err.msg, cases[i][1]);
		fo_hdrlog_reader_close(&r);
		fclose(f);
	}
}

/* Reads a log from a string; returns the first error's code (0 at a clean end). */
static int read_text(const char *text, struct fo_err *err, int *intervals)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	struct fo_hdrlog_reader r;
	fo_hdrlog_reader_init(&r, f, "t.hlog");
	struct fo_hdr h;
	int rc;
	*intervals = 0;
	while ((rc = fo_hdrlog_read(&r, &h, err)) == 1) {
		(*intervals)++;
		fo_hdr_release(&h);
	}
	fo_hdrlog_reader_close(&r);
	fclose(f);
	return rc;
}

static void test_more_malformed_lines(void **state)
{
	static const char *hist = "HISTFAAAABx42pNpmSzMwMDAyAABLFAaxmey/wBlAQA84wJ+";
	static const char *bad[][2] = {
		{"0.1,1.0,0.5,%s,extra\n", "t.hlog:1: unexpected field 'extra' after the histogram"},
		{"Tag=,0.1,1.0,0.5,%s\n", "t.hlog:1: empty tag"},
		{"#c\n0.1,x,0.5,%s\n", "t.hlog:2: invalid interval length 'x'"},
		{"0.1,1.0,nan,%s\n", "t.hlog:1: invalid interval max 'nan'"},
		{"0.1,-1,0.5,%s\n", "t.hlog:1: negative interval length '-1'"},
		{"0.1\n", "t.hlog:1: expected start, length, max and histogram, got 1 field"},
		{"0.1,1,1,%s\n0.1,1,1,HISTFAAAAB\n", "t.hlog:2: invalid histogram: "},
		{"0.1,1,1,AAAAAAAA\n", "t.hlog:1: invalid histogram: not a histogram"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		char text[512];
		snprintf(text, sizeof(text), bad[i][0], hist);
		struct fo_err err = {0};
		int n;
		assert_int_equal(read_text(text, &err, &n), FO_EPARSE);
		if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
			fail_msg("got '%s', want '%s...'", err.msg, bad[i][1]);
	}
	/* blank lines, comments and the legend are fine */
	char text[512];
	snprintf(text, sizeof(text), "\n#x\n\"StartTimestamp\",\"a\"\r\n0.1,1.0,0.000,%s\r\n\n", hist);
	struct fo_err err = {0};
	int n;
	assert_int_equal(read_text(text, &err, &n), 0);
	assert_int_equal(n, 1);
}

/* ---- interval logs: writing ---- */

static void test_java_number_format(void **state)
{
	static const struct {
		double v;
		int decimals;
		const char *want;
	} cases[] = {
		{1.0005, 3, "1.001"}, {0.0625, 3, "0.063"}, {1.0625, 3, "1.063"}, {0.15, 1, "0.2"},
		{0.0005, 3, "0.001"}, {0.0004, 3, "0.000"}, {0.0015, 3, "0.002"}, {123.4565, 3, "123.457"},
		{0, 3, "0.000"}, {55.621631, 3, "55.622"}, {1613724594.458, 3, "1613724594.458"},
		{0.9939999999999998, 3, "0.994"}, {9.9995, 3, "10.000"}, {-2.5, 0, "-3"}, {12345678.5, 0, "12345679"},
		{1e-9, 3, "0.000"}, {0.5, 0, "1"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char out[64];
		fo_hdrlog_format_double(out, sizeof(out), cases[i].v, cases[i].decimals);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%.17g with %d decimals: got %s, want %s", cases[i].v, cases[i].decimals, out,
				 cases[i].want);
	}
}

static void test_log_round_trip(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct fo_hdrlog_writer w;
	fo_hdrlog_writer_init(&w, f);
	w.base_time_s = 1700000000.0;
	assert_int_equal(fo_hdrlog_write_header(&w, 1700000000.0), 0);
	assert_int_equal(fo_hdrlog_write_comment(&w, "two\nlines"), 0);
	struct fo_hdr a, b;
	fill_seq(&a);
	a.start_ms = 1700000000000LL;
	a.end_ms = 1700000010000LL;
	fill_small(&b);
	fo_hdr_set_tag(&b, "reads");
	b.start_ms = 1700000010000LL;
	b.end_ms = 1700000019995LL;
	assert_int_equal(fo_hdrlog_write(&w, &a), 0);
	assert_int_equal(fo_hdrlog_write(&w, &b), 0);
	fo_hdr_set_tag(&b, "bad,tag");
	assert_int_equal(fo_hdrlog_write(&w, &b), FO_EINVAL);
	fo_hdr_set_tag(&b, "reads");
	assert_int_equal(fo_hdrlog_writer_close(&w), 0);
	fclose(f);
	assert_non_null(strstr(text, "#[Histogram log format version 1.3]\n#[StartTime: 1700000000.000 (seconds since epoch), "));
	assert_non_null(strstr(text, "#[BaseTime: 1700000000.000 (seconds since epoch)]\n"));
	assert_non_null(strstr(text, "\n#two\n#lines\n"));
	assert_non_null(strstr(text, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"));
	assert_non_null(strstr(text, "\n0.000,10.000,0.010,HISTFAAA"));
	assert_non_null(strstr(text, "\nTag=reads,10.000,9.995,0.100,HISTFAAA"));

	f = fmemopen(text, len, "r");
	struct fo_hdrlog_reader r;
	struct fo_err err = {0};
	fo_hdrlog_reader_init(&r, f, "mem");
	struct fo_hdr h;
	assert_int_equal(fo_hdrlog_read(&r, &h, &err), 1);
	assert_true(fo_hdr_equals(&h, &a));
	assert_null(h.tag);
	assert_int_equal(h.start_ms, a.start_ms);
	assert_int_equal(h.end_ms, a.end_ms);
	fo_hdr_release(&h);
	assert_int_equal(fo_hdrlog_read(&r, &h, &err), 1);
	assert_true(fo_hdr_equals(&h, &b));
	assert_string_equal(h.tag, "reads");
	assert_int_equal(h.start_ms, b.start_ms);
	assert_int_equal(h.end_ms, b.end_ms);
	fo_hdr_release(&h);
	assert_int_equal(fo_hdrlog_read(&r, &h, &err), 0);
	assert_false(r.absolute);
	assert_true(r.base_time_s == 1700000000.0);
	fo_hdrlog_reader_close(&r);
	fclose(f);
	free(text);
	fo_hdr_release(&a);
	fo_hdr_release(&b);
}

static void test_timestamp_rules(void **state)
{
	static const char *hist = "HISTFAAAABx42pNpmSzMwMDAyAABLFAaxmey/wBlAQA84wJ+";
	char text[512];
	struct fo_hdr h;
	struct fo_err err = {0};
	struct fo_hdrlog_reader r;
	FILE *f;
	/* no BaseTime, absolute timestamps (within a year of StartTime) */
	snprintf(text, sizeof(text), "#[StartTime: 1000000000.000 (s)]\n1000000001.500,1.000,0.0,%s\n", hist);
	f = fmemopen(text, strlen(text), "r");
	fo_hdrlog_reader_init(&r, f, "abs");
	assert_int_equal(fo_hdrlog_read(&r, &h, &err), 1);
	assert_int_equal(h.start_ms, 1000000001500LL);
	assert_int_equal(h.end_ms, 1000000002500LL);
	assert_true(r.absolute && r.decided);
	fo_hdr_release(&h);
	fo_hdrlog_reader_close(&r);
	fclose(f);
	/* no BaseTime, relative timestamps */
	snprintf(text, sizeof(text), "#[StartTime: 1000000000.250 (s)]\n1.500,1.000,0.0,%s\n", hist);
	f = fmemopen(text, strlen(text), "r");
	fo_hdrlog_reader_init(&r, f, "rel");
	assert_int_equal(fo_hdrlog_read(&r, &h, &err), 1);
	assert_int_equal(h.start_ms, 1000000001750LL);
	assert_false(r.absolute);
	fo_hdr_release(&h);
	fo_hdrlog_reader_close(&r);
	fclose(f);
	/* neither: the first timestamp is the start, and timestamps are taken as they are */
	snprintf(text, sizeof(text), "3.000,1.000,0.0,%s\n4.000,1.000,0.0,%s\n", hist, hist);
	f = fmemopen(text, strlen(text), "r");
	fo_hdrlog_reader_init(&r, f, "none");
	assert_int_equal(fo_hdrlog_read(&r, &h, &err), 1);
	assert_int_equal(h.start_ms, 3000);
	assert_true(r.start_time_s == 3.0);
	fo_hdr_release(&h);
	fo_hdrlog_reader_close(&r);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_matches_java),
		cmocka_unit_test(test_equivalent_values_match_java),
		cmocka_unit_test(test_init_refuses_bad_ranges),
		cmocka_unit_test(test_stats_match_java),
		cmocka_unit_test(test_percentile_rank_rule),
		cmocka_unit_test(test_record_range_and_auto_resize),
		cmocka_unit_test(test_record_many_random_values),
		cmocka_unit_test(test_record_many_edge_values),
		cmocka_unit_test(test_record_many_empty_batches),
		cmocka_unit_test(test_record_many_auto_resize_matches_java),
		cmocka_unit_test(test_coordinated_omission_matches_java),
		cmocka_unit_test(test_add_across_layouts),
		cmocka_unit_test(test_reset_copy_equals),
		cmocka_unit_test(test_percentile_iterator_matches_java),
		cmocka_unit_test(test_linear_and_log_iterators_match_java),
		cmocka_unit_test(test_recorded_and_all_iterators_match_java),
		cmocka_unit_test(test_encode_decode_round_trips),
		cmocka_unit_test(test_zigzag_known_bytes),
		cmocka_unit_test(test_encoder_reuse_same_bytes),
		cmocka_unit_test(test_corrupted_histograms_refused),
		cmocka_unit_test(test_jhiccup_vectors),
		cmocka_unit_test(test_jhiccup_v3_tags),
		cmocka_unit_test(test_java_generated_sample),
		cmocka_unit_test(test_nosqlbench_vectors),
		cmocka_unit_test(test_fallout_csv_of_split),
		cmocka_unit_test(test_malformed_lines_refused),
		cmocka_unit_test(test_more_malformed_lines),
		cmocka_unit_test(test_java_number_format),
		cmocka_unit_test(test_log_round_trip),
		cmocka_unit_test(test_timestamp_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
