/*
 * hdr_iter.c: the five iterators of hdr.h, one state machine as in Java 2.1.11's
 * AbstractHistogramIterator: walk the counts index by index, and stop whenever the
 * iterator's kind says a reporting level is reached (every recorded value, every value,
 * percentile ticks that halve their distance to 100%, linear or logarithmic value steps).
 * The percentile iterator ends with Java's extra step at 100%, which reports the last
 * recorded value again. Java's long and double arithmetic (saturating casts, wrapping
 * sums) is reproduced, so the steps are the same even at the extremes.
 */
#include "util/common.h"

#include <math.h>

#include "metrics/hdr.h"

static void reset_iter(struct fo_hdr_iter *it, const struct fo_hdr *h, enum fo_hdr_iter_kind kind)
{
	memset(it, 0, sizeof(*it));
	it->h = h;
	it->kind = kind;
	it->array_total_count = h->total_count;
	it->current_index = 0;
	it->current_value_at_index = 0;
	it->next_value_at_index = (int64_t)(int32_t)(1u << (h->unit_magnitude & 31));
	it->fresh_sub_bucket = true;
	it->visited_index = -1;
}

void fo_hdr_iter_recorded_init(struct fo_hdr_iter *it, const struct fo_hdr *h)
{
	reset_iter(it, h, FO_HDR_ITER_RECORDED);
}

void fo_hdr_iter_all_init(struct fo_hdr_iter *it, const struct fo_hdr *h)
{
	reset_iter(it, h, FO_HDR_ITER_ALL);
}

void fo_hdr_iter_percentile_init(struct fo_hdr_iter *it, const struct fo_hdr *h, int ticks_per_half_distance)
{
	reset_iter(it, h, FO_HDR_ITER_PERCENTILE);
	it->ticks_per_half_distance = ticks_per_half_distance;
	it->percentile_to_iterate_to = 0.0;
	it->percentile_to_iterate_from = 0.0;
	it->reached_last_recorded_value = false;
}

void fo_hdr_iter_linear_init(struct fo_hdr_iter *it, const struct fo_hdr *h, int64_t value_units_per_bucket)
{
	reset_iter(it, h, FO_HDR_ITER_LINEAR);
	it->value_units_per_bucket = value_units_per_bucket;
	it->current_step_highest_value_reporting_level = (int64_t)((uint64_t)value_units_per_bucket - 1);
	it->current_step_lowest_value_reporting_level =
		fo_hdr_lowest_equivalent(h, it->current_step_highest_value_reporting_level);
}

void fo_hdr_iter_log_init(struct fo_hdr_iter *it, const struct fo_hdr *h, int64_t value_units_first_bucket,
			  double log_base)
{
	reset_iter(it, h, FO_HDR_ITER_LOG);
	it->log_base = log_base;
	it->value_units_per_bucket = value_units_first_bucket;
	it->next_value_reporting_level = (double)value_units_first_bucket;
	it->current_step_highest_value_reporting_level =
		(int64_t)((uint64_t)fo__java_d2l(it->next_value_reporting_level) - 1);
	it->current_step_lowest_value_reporting_level =
		fo_hdr_lowest_equivalent(h, it->current_step_highest_value_reporting_level);
}

/* AbstractHistogramIterator.hasNext. */
static bool base_has_next(const struct fo_hdr_iter *it)
{
	return it->total_count_to_current_index < it->array_total_count;
}

static bool has_next(struct fo_hdr_iter *it)
{
	switch (it->kind) {
	case FO_HDR_ITER_RECORDED:
		return base_has_next(it);
	case FO_HDR_ITER_ALL:
		return it->current_index < it->h->counts_len - 1;
	case FO_HDR_ITER_PERCENTILE:
		if (base_has_next(it))
			return true;
		/* One additional last step to 100%. */
		if (!it->reached_last_recorded_value && it->array_total_count > 0) {
			it->percentile_to_iterate_to = 100.0;
			it->reached_last_recorded_value = true;
			return true;
		}
		return false;
	case FO_HDR_ITER_LINEAR:
		return base_has_next(it) || it->current_step_highest_value_reporting_level < it->next_value_at_index;
	case FO_HDR_ITER_LOG:
		return base_has_next(it) ||
		       fo_hdr_lowest_equivalent(it->h, fo__java_d2l(it->next_value_reporting_level)) <
			       it->next_value_at_index;
	}
	return false;
}

static bool reached_level(const struct fo_hdr_iter *it)
{
	const struct fo_hdr *h = it->h;
	switch (it->kind) {
	case FO_HDR_ITER_RECORDED:
		return h->counts[it->current_index] != 0 && it->visited_index != it->current_index;
	case FO_HDR_ITER_ALL:
		return it->visited_index != it->current_index;
	case FO_HDR_ITER_PERCENTILE:
		if (it->count_at_this_value == 0)
			return false;
		return 100.0 * (double)it->total_count_to_current_index / (double)it->array_total_count >=
		       it->percentile_to_iterate_to;
	case FO_HDR_ITER_LINEAR:
	case FO_HDR_ITER_LOG:
		return it->current_value_at_index >= it->current_step_lowest_value_reporting_level ||
		       it->current_index >= h->counts_len - 1;
	}
	return false;
}

static void increment_level(struct fo_hdr_iter *it)
{
	const struct fo_hdr *h = it->h;
	switch (it->kind) {
	case FO_HDR_ITER_RECORDED:
	case FO_HDR_ITER_ALL:
		it->visited_index = it->current_index;
		break;
	case FO_HDR_ITER_PERCENTILE: {
		it->percentile_to_iterate_from = it->percentile_to_iterate_to;
		/* Java: ticks * (long)Math.pow(2, (long)(log(100 / (100 - to)) / log(2)) + 1), in longs. */
		double halvings = log(100.0 / (100.0 - it->percentile_to_iterate_to)) / log(2.0);
		int64_t exponent = (int64_t)((uint64_t)fo__java_d2l(halvings) + 1);
		int64_t power = fo__java_d2l(pow(2.0, (double)exponent));
		int64_t ticks = (int64_t)((uint64_t)(int64_t)it->ticks_per_half_distance * (uint64_t)power);
		double next = it->percentile_to_iterate_to + 100.0 / (double)ticks;
		/* Past 2^53 values the step can be less than one ulp of the level, which would
		 * then never move (Java's iterator repeats the same step forever): move by one
		 * ulp instead. Nothing changes for any histogram Java iterates to the end. */
		if (!(next > it->percentile_to_iterate_to))
			next = nextafter(it->percentile_to_iterate_to, INFINITY);
		it->percentile_to_iterate_to = next;
		break;
	}
	case FO_HDR_ITER_LINEAR:
		it->current_step_highest_value_reporting_level =
			(int64_t)((uint64_t)it->current_step_highest_value_reporting_level + (uint64_t)it->value_units_per_bucket);
		it->current_step_lowest_value_reporting_level =
			fo_hdr_lowest_equivalent(h, it->current_step_highest_value_reporting_level);
		break;
	case FO_HDR_ITER_LOG:
		it->next_value_reporting_level *= it->log_base;
		it->current_step_highest_value_reporting_level =
			(int64_t)((uint64_t)fo__java_d2l(it->next_value_reporting_level) - 1);
		it->current_step_lowest_value_reporting_level =
			fo_hdr_lowest_equivalent(h, it->current_step_highest_value_reporting_level);
		break;
	}
}

static int64_t value_iterated_to(const struct fo_hdr_iter *it)
{
	if (it->kind == FO_HDR_ITER_LINEAR || it->kind == FO_HDR_ITER_LOG)
		return it->current_step_highest_value_reporting_level;
	return fo_hdr_highest_equivalent(it->h, it->current_value_at_index);
}

static void increment_sub_bucket(struct fo_hdr_iter *it)
{
	it->fresh_sub_bucket = true;
	it->current_index++;
	it->current_value_at_index = fo_hdr_value_from_index(it->h, it->current_index);
	it->next_value_at_index = fo_hdr_value_from_index(it->h, it->current_index + 1);
}

bool fo_hdr_iter_next(struct fo_hdr_iter *it)
{
	const struct fo_hdr *h = it->h;
	if (!h->counts || !has_next(it))
		return false;
	while (it->current_index < h->counts_len) {
		it->count_at_this_value = h->counts[it->current_index];
		if (it->fresh_sub_bucket) {
			it->total_count_to_current_index =
				fo__wrap_add(it->total_count_to_current_index, it->count_at_this_value);
			it->total_value_to_current_index = (int64_t)(
				(uint64_t)it->total_value_to_current_index +
				(uint64_t)it->count_at_this_value *
					(uint64_t)fo_hdr_highest_equivalent(h, it->current_value_at_index));
			it->fresh_sub_bucket = false;
		}
		if (reached_level(it)) {
			int64_t v = value_iterated_to(it);
			it->value_iterated_to = v;
			it->value_iterated_from = it->prev_value_iterated_to;
			it->count_at_value_iterated_to = it->count_at_this_value;
			it->count_added_in_this_step =
				(int64_t)((uint64_t)it->total_count_to_current_index - (uint64_t)it->total_count_to_prev_index);
			it->total_count_to_this_value = it->total_count_to_current_index;
			it->total_value_to_this_value = it->total_value_to_current_index;
			it->percentile =
				100.0 * (double)it->total_count_to_current_index / (double)it->array_total_count;
			it->percentile_iterated_to =
				it->kind == FO_HDR_ITER_PERCENTILE ? it->percentile_to_iterate_to : it->percentile;
			it->highest_equivalent_value = v >= 0 ? fo_hdr_highest_equivalent(h, v) : v;
			it->prev_value_iterated_to = v;
			it->total_count_to_prev_index = it->total_count_to_current_index;
			increment_level(it);
			return true;
		}
		increment_sub_bucket(it);
	}
	return false;
}
