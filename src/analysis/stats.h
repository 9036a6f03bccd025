/*
 * stats.h: the small statistics that comparisons of repeated runs need: mean, sample
 * standard deviation, Student's t distribution (CDF and quantiles, computed from the
 * regularized incomplete beta function, not looked up in a table), 95% confidence
 * intervals of a mean, and Welch's unequal-variances t-test with a verdict a person can
 * read ("significant (p=0.003)").
 *
 * Everything is plain double arithmetic on caller-owned arrays; nothing allocates.
 * Results that do not exist (the standard deviation of one value, the CI of one run) are
 * NaN, which callers show as a dash.
 */
#ifndef FO_STATS_H
#define FO_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* The significance level of the verdicts: a difference is "significant" when p < this. */
#define FO_STATS_ALPHA 0.05

/* The arithmetic mean of x[0..n-1]; NaN when n == 0. */
double fo_stats_mean(const double *x, size_t n);
/* The sample standard deviation (n - 1 in the denominator); NaN when n < 2. */
double fo_stats_stddev(const double *x, size_t n);

/*
 * The regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1
 * (continued fraction, relative accuracy about 1e-14). NaN for arguments outside.
 */
double fo_stats_betainc(double a, double b, double x);
/* P(T <= t) for Student's t distribution with df > 0 degrees of freedom (df need not be
 * a whole number: Welch's test gives fractional ones). */
double fo_stats_t_cdf(double t, double df);
/* The quantile: the t with P(T <= t) = p, for 0 < p < 1 and df > 0 (bisection on the CDF,
 * absolute accuracy better than 1e-9 relative to t). NaN outside. */
double fo_stats_t_quantile(double p, double df);

/* A mean with its 95% confidence interval (Student's t with n - 1 degrees of freedom). */
struct fo_stats_ci {
	size_t n;
	double mean;
	double sd;     /* sample standard deviation; NaN when n < 2 */
	double half;   /* half the interval's width: t(0.975, n-1) * sd / sqrt(n); NaN when n < 2 */
	double lo, hi; /* mean -/+ half; NaN when n < 2 */
};
void fo_stats_ci95(const double *x, size_t n, struct fo_stats_ci *out);

/* Welch's t-test of two independent samples. */
struct fo_stats_welch {
	double t;	  /* (mean_b - mean_a) / standard error; 0 when both sides are constant and equal */
	double df;	  /* Welch-Satterthwaite degrees of freedom */
	double p;	  /* two-sided p-value; NaN when either side has fewer than 2 values */
	bool enough;	  /* both sides have at least 2 values */
	bool significant; /* enough && p < FO_STATS_ALPHA */
};
/*
 * Compares a[0..na-1] (baseline) with b[0..nb-1] (contender). When both sides have no
 * spread, the difference is certain: p = 1 when the means are equal, 0 otherwise.
 */
void fo_stats_welch_test(const double *a, size_t na, const double *b, size_t nb, struct fo_stats_welch *out);
/*
 * Writes the verdict of w into out (size n, always NUL-terminated):
 * "significant (p=0.003)", "no significant difference (p=0.41)" or
 * "not enough evidence (need at least 2 runs per side)". p has 3 decimals below 0.1 and 2
 * above, and shows as "p<0.001" below a thousandth. Returns out.
 */
const char *fo_stats_verdict(const struct fo_stats_welch *w, char *out, size_t n);
/* Formats a p-value as the verdicts do ("0.41", "0.003", "<0.001"). Returns out. */
const char *fo_stats_format_p(double p, char *out, size_t n);

#endif
