/*
 * test_impact.c: the numbers of analysis/impact.h on synthetic time lines with known
 * answers: the steady state, the drop, the p99 during a fault and the recovery time are
 * exact; a system that never gets back into the band did not recover; with two faults,
 * the second's steady state skips the first's disturbance; availability and success
 * rates; fault windows read from history operations as the fault modules write them
 * (healed, healed at once, never healed); and several series of one log united.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "analysis/impact.h"
#include "engine/history.h"
#include "report/perf.h"
#include "util/alloc.h"

#define NPT 60

/* A time line of 1 s intervals from 0 to NPT s: 1000 op/s and a p99 of 2 ms, except
 * where set. */
static struct fo_impact_point pts[NPT];
static struct fo_impact_series line = {.name = "latency", .pt = pts, .n = NPT};

static void flat(void)
{
	for (int i = 0; i < NPT; i++)
		pts[i] = (struct fo_impact_point){.start_s = i, .length_s = 1, .ok = 1000, .ops_s = 1000, .p99_ms = 2};
}

static void set(int from, int to, double ops, double p99)
{
	for (int i = from; i < to; i++) {
		pts[i].ok = (int64_t)ops;
		pts[i].ops_s = ops;
		pts[i].p99_ms = p99;
	}
}

static struct fo_fault_window fault(double start, double end)
{
	return (struct fo_fault_window){
	    .process = "pause", .kind = "pause", .nodes = "server/node0", .start_s = start, .end_s = end};
}

static void drop_p99_and_recovery_are_exact(void **state)
{
	FO_UNUSED(state);
	flat();
	set(20, 25, 100, 500); /* the fault: 20 s to 25 s */
	set(22, 23, 0, NAN);   /* one interval without a single operation */
	set(25, 26, 400, 40);  /* healed at 25: not yet back */
	set(26, 27, 950, 3);   /* within 10% from 26 on */
	struct fo_fault_window f = fault(20, 25);
	struct fo_impact_opts o = FO_IMPACT_OPTS_INIT;
	struct fo_impact im;
	fo_impact_compute(&line, &f, 1, &o, &im);
	assert_int_equal(im.n, 1);
	const struct fo_fault_impact *r = &im.f[0];
	assert_int_equal(r->steady_n, 10);
	assert_true(r->steady_ops_s == 1000);
	assert_true(r->steady_p99_ms == 2);
	assert_true(fabs(r->during_ops_s - 80) < 1e-9); /* 400 operations in 5 s */
	assert_true(fabs(r->drop_pct - 92) < 1e-9);
	assert_true(r->min_ops_s == 0);
	assert_true(fabs(r->max_drop_pct - 100) < 1e-9);
	assert_true(r->p99_during_ms == 500);
	assert_true(r->recovered);
	assert_true(fabs(r->recovery_s - 1) < 1e-9);
	assert_true(fabs(r->recovered_at_s - 26) < 1e-9);
	/* Availability: 54 of 60 s at half the normal throughput or more; no failures. */
	assert_true(im.normal_ops_s == 1000);
	assert_true(fabs(im.availability_pct - 90) < 1e-9);
	assert_true(im.success_pct == 100);
	fo_impact_release(&im);

	/* A wider band takes the first interval after healing: recovered at once. */
	o.band_pct = 70;
	fo_impact_compute(&line, &f, 1, &o, &im);
	assert_true(im.f[0].recovered);
	assert_true(im.f[0].recovery_s == 0);
	fo_impact_release(&im);

	/* More stable intervals asked, the same start of the stretch. */
	o = (struct fo_impact_opts)FO_IMPACT_OPTS_INIT;
	o.stable_intervals = 30;
	fo_impact_compute(&line, &f, 1, &o, &im);
	assert_true(fabs(im.f[0].recovery_s - 1) < 1e-9);
	fo_impact_release(&im);
}

static void never_recovers(void **state)
{
	FO_UNUSED(state);
	flat();
	set(20, 25, 100, 500);
	set(25, NPT - 2, 500, 9); /* half the throughput from then on... */
	/* ...and the last two intervals back: fewer than the three needed */
	struct fo_fault_window f = fault(20, 25);
	struct fo_impact_opts o = FO_IMPACT_OPTS_INIT;
	struct fo_impact im;
	fo_impact_compute(&line, &f, 1, &o, &im);
	const struct fo_fault_impact *r = &im.f[0];
	assert_false(r->recovered);
	assert_true(isinf(r->recovery_s));
	assert_true(isnan(r->recovered_at_s));
	assert_true(fabs(r->drop_pct - 90) < 1e-9);
	assert_true(fabs(r->max_drop_pct - 90) < 1e-9);
	fo_impact_release(&im);

	/* Never healed (the run was killed): no recovery, the fault lasts until the data ends. */
	f = fault(20, NAN);
	fo_impact_compute(&line, &f, 1, &o, &im);
	assert_false(im.f[0].recovered);
	assert_true(im.f[0].p99_during_ms == 500);
	assert_true(fabs(im.f[0].during_ops_s - (5 * 100 + 33 * 500 + 2 * 1000) / 40.0) < 1e-9);
	fo_impact_release(&im);

	/* No interval before the fault: no steady state, nothing relative to it. */
	f = fault(0, 3);
	fo_impact_compute(&line, &f, 1, &o, &im);
	assert_int_equal(im.f[0].steady_n, 0);
	assert_true(isnan(im.f[0].drop_pct));
	assert_false(im.f[0].recovered);
	fo_impact_release(&im);
}

static void two_faults(void **state)
{
	FO_UNUSED(state);
	flat();
	set(20, 25, 100, 500); /* first fault, 20-25 s, back at 26 */
	set(25, 26, 400, 40);
	set(40, 42, 300, 80); /* second fault, 40-42 s */
	set(42, 43, 200, 90);
	set(43, 44, 700, 10);
	/* the second starts back at 44 s */
	struct fo_fault_window f[2] = {fault(40, 42), fault(20, 25)}; /* any order */
	struct fo_impact_opts o = FO_IMPACT_OPTS_INIT;
	o.steady_intervals = 30;
	struct fo_impact im;
	fo_impact_compute(&line, f, 2, &o, &im);
	assert_int_equal(im.n, 2);
	assert_int_equal(im.f[0].fault, 0);
	assert_true(fabs(im.f[0].recovery_s - 2) < 1e-9);
	assert_true(fabs(im.f[0].drop_pct - 70) < 1e-9);
	assert_true(im.f[0].p99_during_ms == 90); /* the interval after healing counts */
	assert_true(fabs(im.f[0].max_drop_pct - 80) < 1e-9);
	/* the steady state of the second: 30 intervals ending by 40 s outside 20-26 s */
	assert_int_equal(im.f[0].steady_n, 30);
	assert_true(im.f[0].steady_ops_s == 1000);
	assert_true(fabs(im.f[1].recovery_s - 1) < 1e-9);
	/* 6 + 3 s below half the normal throughput */
	assert_true(fabs(im.availability_pct - 100.0 * 51 / 60) < 1e-9);
	fo_impact_release(&im);

	/* When the first never recovers, the second's steady state is from before it. */
	set(25, NPT, 600, 9);
	set(40, 42, 300, 80);
	fo_impact_compute(&line, f, 2, &o, &im);
	assert_false(im.f[1].recovered);
	assert_false(im.f[0].recovered);
	assert_int_equal(im.f[0].steady_n, 20);
	assert_true(im.f[0].steady_ops_s == 1000);
	fo_impact_release(&im);
}

/* A history operation as the fault modules emit it. */
static struct fo_op op(double t, const char *process, enum fo_op_type type, const char *value)
{
	return (struct fo_op){.time_ns = (int64_t)(t * 1e9),
			      .process = process,
			      .module = process,
			      .type = type,
			      .media_type = type == FO_OP_INFO ? "application/json" : NULL,
			      .value = value};
}

static void faults_read_from_the_history(void **state)
{
	FO_UNUSED(state);
	const struct fo_op ops[] = {
	    op(0, "load", FO_OP_START, NULL),
	    op(1, "pause", FO_OP_INVOKE, "pause on server: 1 fault, duration 3s"),
	    op(2.05, "pause", FO_OP_INFO,
	       "{\"what\":\"inject pause server/node0\",\"fault\":\"pause\",\"action\":\"inject\","
	       "\"nodes\":[\"server/node0\"],\"start\":\"2026-11-30T07:40:02.000Z\"}"),
	    op(5.01, "pause", FO_OP_INFO,
	       "{\"what\":\"heal pause server/node0\",\"fault\":\"pause\",\"action\":\"heal\","
	       "\"nodes\":[\"server/node0\"],\"start\":\"2026-11-30T07:40:02.000Z\","
	       "\"end\":\"2026-11-30T07:40:05.010Z\",\"duration_s\":3.010}"),
	    op(5.02, "pause", FO_OP_OK, "{\"fault\":\"pause\",\"faults\":1}"),
	    op(6, "restart", FO_OP_INFO,
	       "{\"what\":\"inject restart server/node1, server/node2\",\"fault\":\"restart\",\"action\":\"inject\","
	       "\"nodes\":[\"server/node1\",\"server/node2\"],\"start\":\"2026-11-30T07:40:05.900Z\"}"),
	    op(6.5, "restart", FO_OP_OK, NULL),
	    op(7, "kill", FO_OP_INFO,
	       "{\"what\":\"inject kill server/node0\",\"fault\":\"kill\",\"action\":\"inject\","
	       "\"nodes\":[\"server/node0\"],\"start\":\"2026-11-30T07:40:07.000Z\",\"error\":\"no service\"}"),
	    op(8, "load", FO_OP_INFO, "{\"ops\":10}"),
	};
	size_t n;
	struct fo_fault_window *v = fo_impact_faults(ops, FO_ARRAY_LEN(ops), &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].kind, "pause");
	assert_string_equal(v[0].process, "pause");
	assert_string_equal(v[0].nodes, "server/node0");
	assert_true(fabs(v[0].start_s - 2.0) < 1e-6); /* the heal's time less the duration */
	assert_true(fabs(v[0].end_s - 5.01) < 1e-6);
	assert_null(v[0].error);
	assert_true(fabs(v[0].wall_end_s - v[0].wall_start_s - 3.01) < 1e-6);
	/* healed at once: its module ended without a heal */
	assert_string_equal(v[1].nodes, "server/node1, server/node2");
	assert_true(v[1].end_s == v[1].start_s);
	/* never healed */
	assert_true(isnan(v[2].end_s));
	assert_string_equal(v[2].error, "no service");
	/* The clocks: the workload started 2026-11-30T07:40:00.000Z. */
	double zero = fo_impact_wall_zero(v, n);
	assert_true(fabs(zero - v[0].wall_start_s + 2.0) < 1e-6);
	double a, b;
	fo_impact_window(&v[0], zero, &a, &b);
	assert_true(fabs(a - 2.0) < 1e-6 && fabs(b - 5.01) < 1e-6);
	fo_impact_window(&v[0], 0, &a, &b);
	assert_true(a == v[0].start_s && b == v[0].end_s);
	fo_impact_faults_free(v, n);
}

static void series_of_a_log_are_united(void **state)
{
	FO_UNUSED(state);
	/* latency.hdr with tags read and write and write-error, at absolute times; the write
	 * intervals start 50 ms after the read ones. */
	struct fo_perf_interval rd[3], wr[3], er[1];
	for (int i = 0; i < 3; i++) {
		rd[i] = (struct fo_perf_interval){.start_s = i, .length_s = 1, .count = 100, .p99_ms = 1 + i};
		wr[i] = (struct fo_perf_interval){.start_s = i + 0.05, .length_s = 1, .count = 50, .p99_ms = 5};
	}
	er[0] = (struct fo_perf_interval){.start_s = 1, .length_s = 1, .count = 10, .p99_ms = 7};
	struct fo_perf_series s[3] = {
	    {.name = "latency:read", .base = "latency", .tag = "read", .iv = rd, .niv = 3, .start_s = 1.7e9},
	    {.name = "latency:write", .base = "latency", .tag = "write", .iv = wr, .niv = 3, .start_s = 1.7e9},
	    {.name = "latency:write-error",
	     .base = "latency",
	     .tag = "write-error",
	     .iv = er,
	     .niv = 1,
	     .start_s = 1.7e9,
	     .is_error = true},
	};
	struct fo_perf p = {.s = s, .n = 3};
	assert_true(fo_impact_absolute(&p));
	size_t n;
	struct fo_impact_series *m = fo_impact_series_from_perf(&p, NULL, 1.7e9, &n);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "latency");
	assert_true(m[0].has_errors);
	assert_int_equal(m[0].n, 3);
	assert_true(fabs(m[0].pt[1].start_s - 1) < 1e-9);
	assert_int_equal(m[0].pt[1].ok, 150);
	assert_int_equal(m[0].pt[1].failed, 10);
	assert_true(m[0].pt[1].ops_s == 150);
	assert_true(m[0].pt[0].p99_ms == 5 && m[0].pt[2].p99_ms == 5);
	struct fo_impact im;
	struct fo_impact_opts o = FO_IMPACT_OPTS_INIT;
	fo_impact_compute(&m[0], NULL, 0, &o, &im);
	assert_true(fabs(im.success_pct - 100.0 * 450 / 460) < 1e-9);
	assert_true(im.availability_pct == 100);
	fo_impact_release(&im);
	fo_impact_series_free(m, n);

	/* One tag picked: that series alone, under its own name, without the errors. */
	m = fo_impact_series_from_perf(&p, "read", 1.7e9, &n);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "latency:read");
	assert_false(m[0].has_errors);
	assert_int_equal(m[0].pt[1].ok, 100);
	assert_true(m[0].pt[2].p99_ms == 3);
	fo_impact_series_free(m, n);

	/* Nothing picked. */
	m = fo_impact_series_from_perf(&p, "nope", 1.7e9, &n);
	assert_null(m);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(drop_p99_and_recovery_are_exact),
	    cmocka_unit_test(never_recovers),
	    cmocka_unit_test(two_faults),
	    cmocka_unit_test(faults_read_from_the_history),
	    cmocka_unit_test(series_of_a_log_are_united),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
