/*
 * test_stats.c: the statistics behind `fallout report --baseline --contender`: mean and
 * sample standard deviation, Student's t quantiles against published tables and closed
 * forms (df = 1 is the Cauchy distribution, df = 2 has an algebraic inverse), confidence
 * intervals, and Welch's t-test against the three worked examples of Welch's test on
 * Wikipedia (t, degrees of freedom and p-value), plus the verdict strings users read.
 */
#include "util/common.h"

#include <math.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analysis/stats.h"

#define assert_near(a, b, tol)                                                                        \
	do {                                                                                           \
		double a_ = (a), b_ = (b);                                                            \
		if (!(fabs(a_ - b_) <= (tol)))                                                         \
			fail_msg("%s = %.10g, expected %.10g (tolerance %g)", #a, a_, b_, (double)(tol)); \
	} while (0)

static void test_mean_and_stddev(void **state)
{
	const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
	assert_near(fo_stats_mean(x, 8), 5, 1e-12);
	/* sum of squares 32, n - 1 = 7 */
	assert_near(fo_stats_stddev(x, 8), sqrt(32.0 / 7), 1e-12);
	assert_true(isnan(fo_stats_mean(x, 0)));
	assert_true(isnan(fo_stats_stddev(x, 1)));
}

static void test_t_quantiles_from_tables(void **state)
{
	/* two-sided 95% critical values, as every t table prints them */
	assert_near(fo_stats_t_quantile(0.975, 1), 12.706, 1e-3);
	assert_near(fo_stats_t_quantile(0.975, 2), 4.303, 1e-3);
	assert_near(fo_stats_t_quantile(0.975, 10), 2.228, 1e-3);
	assert_near(fo_stats_t_quantile(0.975, 30), 2.042, 1e-3);
	/* more digits (NIST/SEMATECH e-Handbook, table 1.3.6.7.2) */
	assert_near(fo_stats_t_quantile(0.975, 10), 2.2281389, 1e-6);
	assert_near(fo_stats_t_quantile(0.975, 30), 2.0422725, 1e-6);
	assert_near(fo_stats_t_quantile(0.95, 5), 2.0150484, 1e-6);
	assert_near(fo_stats_t_quantile(0.99, 20), 2.5279770, 1e-6);
	assert_near(fo_stats_t_quantile(0.995, 100), 2.6258905, 1e-6);
	/* towards the normal distribution */
	assert_near(fo_stats_t_quantile(0.975, 1e7), 1.959964, 1e-5);
}

static void test_t_quantiles_closed_forms(void **state)
{
	const double ps[] = {0.6, 0.75, 0.9, 0.975, 0.995, 0.9995, 0.99999};
	for (size_t i = 0; i < FO_ARRAY_LEN(ps); i++) {
		double p = ps[i];
		/* df = 1: Cauchy, t = tan(pi (p - 1/2)) */
		double cauchy = tan(M_PI * (p - 0.5));
		assert_near(fo_stats_t_quantile(p, 1), cauchy, 1e-8 * cauchy);
		/* df = 2: t = (2p - 1) / sqrt(2 p (1 - p)) */
		double two = (2 * p - 1) / sqrt(2 * p * (1 - p));
		assert_near(fo_stats_t_quantile(p, 2), two, 1e-8 * two);
		/* symmetry */
		assert_near(fo_stats_t_quantile(1 - p, 7.5), -fo_stats_t_quantile(p, 7.5), 1e-9);
	}
	assert_near(fo_stats_t_quantile(0.5, 3), 0, 0);
	assert_true(isnan(fo_stats_t_quantile(0, 3)));
	assert_true(isnan(fo_stats_t_quantile(1, 3)));
	assert_true(isnan(fo_stats_t_quantile(0.9, 0)));
}

static void test_t_cdf_inverts_quantile(void **state)
{
	const double dfs[] = {1, 1.5, 2, 3, 9.9, 24.99, 1000};
	const double ps[] = {0.01, 0.2, 0.5, 0.8, 0.975, 0.999};
	for (size_t i = 0; i < FO_ARRAY_LEN(dfs); i++)
		for (size_t j = 0; j < FO_ARRAY_LEN(ps); j++)
			assert_near(fo_stats_t_cdf(fo_stats_t_quantile(ps[j], dfs[i]), dfs[i]), ps[j], 1e-10);
	assert_near(fo_stats_t_cdf(0, 4), 0.5, 1e-15);
	assert_near(fo_stats_t_cdf(1, 1), 0.75, 1e-12); /* Cauchy: 1/2 + atan(1)/pi */
}

static void test_betainc_known_values(void **state)
{
	/* I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b */
	assert_near(fo_stats_betainc(1, 1, 0.3), 0.3, 1e-14);
	assert_near(fo_stats_betainc(2.5, 1, 0.4), pow(0.4, 2.5), 1e-14);
	assert_near(fo_stats_betainc(1, 3, 0.2), 1 - pow(0.8, 3), 1e-14);
	/* symmetry I_x(a, b) = 1 - I_{1-x}(b, a) */
	assert_near(fo_stats_betainc(3, 7, 0.25) + fo_stats_betainc(7, 3, 0.75), 1, 1e-13);
	assert_near(fo_stats_betainc(2, 3, 0), 0, 0);
	assert_near(fo_stats_betainc(2, 3, 1), 1, 0);
	assert_true(isnan(fo_stats_betainc(-1, 3, 0.5)));
}

static void test_ci95(void **state)
{
	const double x[] = {10, 12, 14};
	struct fo_stats_ci ci;
	fo_stats_ci95(x, 3, &ci);
	assert_near(ci.mean, 12, 1e-12);
	assert_near(ci.sd, 2, 1e-12);
	/* t(0.975, 2) * 2 / sqrt(3) */
	assert_near(ci.half, 4.3026527 * 2 / sqrt(3), 1e-6);
	assert_near(ci.lo, 12 - ci.half, 1e-12);
	assert_near(ci.hi, 12 + ci.half, 1e-12);
	fo_stats_ci95(x, 1, &ci);
	assert_near(ci.mean, 10, 0);
	assert_true(isnan(ci.half));
	assert_true(isnan(ci.lo));
}

/* Wikipedia, "Welch's t-test", examples 1 to 3 (published: t, df, p to 2-3 digits);
 * the expected figures here come from integrating the t density numerically. */
static void test_welch_published_examples(void **state)
{
	const double a1[] = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
	const double a2[] = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
	struct fo_stats_welch w;
	fo_stats_welch_test(a1, FO_ARRAY_LEN(a1), a2, FO_ARRAY_LEN(a2), &w);
	assert_near(w.t, 2.4553564, 1e-6);
	assert_near(w.df, 24.988529, 1e-5);
	assert_near(w.p, 0.0213780, 1e-6);
	assert_true(w.enough && w.significant);

	const double b1[] = {17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8};
	const double b2[] = {21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8,
			     20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8};
	fo_stats_welch_test(b1, FO_ARRAY_LEN(b1), b2, FO_ARRAY_LEN(b2), &w);
	assert_near(w.t, 1.5654335, 1e-6);
	assert_near(w.df, 9.9047412, 1e-5);
	assert_near(w.p, 0.1488417, 1e-6);
	assert_false(w.significant);

	const double c1[] = {19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0};
	const double c2[] = {28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7,
			     23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4, 23.9, 13.3};
	fo_stats_welch_test(c1, FO_ARRAY_LEN(c1), c2, FO_ARRAY_LEN(c2), &w);
	assert_near(w.t, 2.2255120, 1e-6);
	assert_near(w.df, 24.524635, 1e-5);
	assert_near(w.p, 0.0354845, 1e-6);
	assert_true(w.significant);

	/* swapping the sides flips t, keeps p */
	struct fo_stats_welch back;
	fo_stats_welch_test(c2, FO_ARRAY_LEN(c2), c1, FO_ARRAY_LEN(c1), &back);
	assert_near(back.t, -w.t, 1e-12);
	assert_near(back.p, w.p, 1e-12);
}

static void test_welch_degenerate_sides(void **state)
{
	const double same[] = {5, 5, 5}, other[] = {6, 6};
	struct fo_stats_welch w;
	fo_stats_welch_test(same, 3, same, 3, &w);
	assert_true(w.enough);
	assert_near(w.p, 1, 0);
	assert_false(w.significant);
	fo_stats_welch_test(same, 3, other, 2, &w);
	assert_near(w.p, 0, 0);
	assert_true(w.significant);
	fo_stats_welch_test(same, 1, other, 2, &w);
	assert_false(w.enough);
	assert_false(w.significant);
	assert_true(isnan(w.p));
}

static void test_verdicts(void **state)
{
	char out[80], p[16];
	struct fo_stats_welch w = {.enough = true, .significant = true, .p = 0.0031};
	assert_string_equal(fo_stats_verdict(&w, out, sizeof(out)), "significant (p=0.003)");
	w.p = 0.00002;
	assert_string_equal(fo_stats_verdict(&w, out, sizeof(out)), "significant (p<0.001)");
	w = (struct fo_stats_welch){.enough = true, .significant = false, .p = 0.4149};
	assert_string_equal(fo_stats_verdict(&w, out, sizeof(out)), "no significant difference (p=0.41)");
	w.p = 1;
	assert_string_equal(fo_stats_verdict(&w, out, sizeof(out)), "no significant difference (p=1.00)");
	w = (struct fo_stats_welch){.enough = false};
	assert_string_equal(fo_stats_verdict(&w, out, sizeof(out)),
			    "not enough evidence (need at least 2 runs per side)");
	assert_string_equal(fo_stats_format_p(0.0213, p, sizeof(p)), "0.021");
	assert_string_equal(fo_stats_format_p(0.149, p, sizeof(p)), "0.15");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mean_and_stddev),
		cmocka_unit_test(test_t_quantiles_from_tables),
		cmocka_unit_test(test_t_quantiles_closed_forms),
		cmocka_unit_test(test_t_cdf_inverts_quantile),
		cmocka_unit_test(test_betainc_known_values),
		cmocka_unit_test(test_ci95),
		cmocka_unit_test(test_welch_published_examples),
		cmocka_unit_test(test_welch_degenerate_sides),
		cmocka_unit_test(test_verdicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
