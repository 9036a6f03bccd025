/*
 * record_bench.c: how fast fo_hdr_record is, against plain C loops, for bench/hdr.sh.
 *
 * The values are those of bench/java/RecordBench.java (a splitmix64 sequence shaped as
 * ((r >> 40) + 1) << (r & 15): 1 to 2^39, a spread like latencies in ns), 2^20 of them
 * precomputed, recorded PASSES times (default 100: 104,857,600 values) into a histogram
 * of 1 ns to 1 h with 3 significant digits. Each loop runs 3 times; the best is printed,
 * in ns per value:
 *   sum             s += v[i]: reading the values, the floor of any loop over them;
 *   counts[idx]++   counts[idx[i]]++ with the bucket index precomputed: the memory
 *                   traffic of recording without computing the index;
 *   fo_hdr_record   the real thing, called through fallout's library as fallout calls it;
 *   fo_hdr_record_many  the batch entry point, given the 2^20 values at once (statistics
 *                   in registers; its x86-64-v3 variant where the CPU has it).
 *
 *   record_bench [PASSES]
 */
#include "util/common.h"

#include <time.h>

#include "metrics/hdr.h"

#define N (1 << 20)

static uint64_t splitmix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The counts index of v in h's layout (the HdrHistogram formula), for the baseline. */
static int32_t counts_index(const struct fo_hdr *h, int64_t v)
{
	int pow2ceiling = 64 - __builtin_clzll((uint64_t)v | (uint64_t)h->sub_bucket_mask);
	int bucket = pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
	int32_t sub = (int32_t)(v >> (bucket + h->unit_magnitude));
	return ((bucket + 1) << h->sub_bucket_half_count_magnitude) + (sub - h->sub_bucket_half_count);
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 100;
	int64_t *v = malloc(sizeof(*v) * N);
	int32_t *idx = malloc(sizeof(*idx) * N);
	struct fo_hdr h, hm;
	if (!v || !idx || fo_hdr_init(&h, 1, 3600000000000LL, 3) != 0 || fo_hdr_init(&hm, 1, 3600000000000LL, 3) != 0) {
		fprintf(stderr, "record_bench: setup failed\n");
		return 1;
	}
	int64_t *counts = calloc((size_t)h.counts_len, sizeof(*counts));
	if (!counts)
		return 1;
	for (int i = 0; i < N; i++) {
		uint64_t r = splitmix64((uint64_t)i);
		v[i] = (int64_t)(((r >> 40) + 1) << (r & 15));
		idx[i] = counts_index(&h, v[i]);
		if (idx[i] < 0 || idx[i] >= h.counts_len) {
			fprintf(stderr, "record_bench: index %d of %lld out of range\n", idx[i], (long long)v[i]);
			return 1;
		}
	}
	double values = (double)passes * N, best_sum = 1e9, best_idx = 1e9, best_rec = 1e9, best_many = 1e9;
	volatile int64_t sink;
	for (int round = 0; round < 3; round++) {
		double t0 = now();
		int64_t s = 0;
		for (int p = 0; p < passes; p++)
			for (int i = 0; i < N; i++)
				s += v[i];
		double t1 = now();
		sink = s;
		for (int p = 0; p < passes; p++)
			for (int i = 0; i < N; i++)
				counts[idx[i]]++;
		double t2 = now();
		fo_hdr_reset(&h);
		for (int p = 0; p < passes; p++)
			for (int i = 0; i < N; i++)
				fo_hdr_record(&h, v[i]);
		double t3 = now();
		fo_hdr_reset(&hm);
		for (int p = 0; p < passes; p++)
			fo_hdr_record_many(&hm, v, N);
		double t4 = now();
		best_sum = (t1 - t0) < best_sum ? t1 - t0 : best_sum;
		best_idx = (t2 - t1) < best_idx ? t2 - t1 : best_idx;
		best_rec = (t3 - t2) < best_rec ? t3 - t2 : best_rec;
		best_many = (t4 - t3) < best_many ? t4 - t3 : best_many;
	}
	(void)sink;
	if (!fo_hdr_equals(&h, &hm) || h.min_value != hm.min_value || h.max_value != hm.max_value) {
		fprintf(stderr, "record_bench: fo_hdr_record_many and fo_hdr_record disagree\n");
		return 1;
	}
	int64_t checksum = 0;
	for (int32_t i = 0; i < h.counts_len; i++)
		checksum += counts[i] != 0;
	printf("c sum: %.2f ns/value\n", best_sum / values * 1e9);
	printf("c counts[idx]++: %.2f ns/value\n", best_idx / values * 1e9);
	printf("c fo_hdr_record: %.2f ns/value\n", best_rec / values * 1e9);
	printf("c fo_hdr_record_many: %.2f ns/value\n", best_many / values * 1e9);
	printf("checksum: count %lld, p99 %lld, max %lld, %lld buckets used\n", (long long)fo_hdr_total(&h),
	       (long long)fo_hdr_value_at_percentile(&h, 99), (long long)fo_hdr_max(&h), (long long)checksum);
	fo_hdr_release(&h);
	fo_hdr_release(&hm);
	free(counts);
	free(idx);
	free(v);
	return 0;
}
