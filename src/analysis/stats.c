/*
 * stats.c: mean, standard deviation, Student's t distribution, confidence intervals and
 * Welch's t-test, for comparing repeated runs (`fallout report --baseline --contender`).
 *
 * The t distribution's CDF comes from the regularized incomplete beta function:
 *   P(|T| > t) = I_x(df/2, 1/2) with x = df / (df + t^2),
 * and I_x(a, b) is evaluated with its continued fraction (modified Lentz), using the
 * symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly. Quantiles
 * invert the upper tail by bisection, which is slow by numerical standards (a hundred
 * CDF evaluations) but exact to the precision of the CDF and free of special cases;
 * a comparison needs a few dozen of them.
 */
#include "util/common.h"

#include <math.h>

#include "analysis/stats.h"

double fo_stats_mean(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += x[i];
	return sum / (double)n;
}

double fo_stats_stddev(const double *x, size_t n)
{
	if (n < 2)
		return NAN;
	double m = fo_stats_mean(x, n), ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	return sqrt(ss / (double)(n - 1));
}

/* The continued fraction of I_x(a, b), without its front factor; converges quickly for
 * x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	double h = d;
	for (int m = 1; m <= 10000; m++) {
		double m2 = 2.0 * m;
		/* even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
		double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		/* odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		double step = d * c;
		h *= step;
		if (fabs(step - 1) < eps)
			break;
	}
	return h;
}

double fo_stats_betainc(double a, double b, double x)
{
	if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1))
		return NAN;
	if (x == 0 || x == 1)
		return x;
	double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1) / (a + b + 2))
		return exp(lfront) * betacf(a, b, x) / a;
	return 1 - exp(lfront) * betacf(b, a, 1 - x) / b;
}

/* P(T > t) for t >= 0. */
static double t_upper(double t, double df)
{
	if (isinf(t))
		return 0;
	double x = df / (df + t * t);
	return 0.5 * fo_stats_betainc(df / 2, 0.5, x);
}

double fo_stats_t_cdf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	double up = t_upper(fabs(t), df);
	return t >= 0 ? 1 - up : up;
}

double fo_stats_t_quantile(double p, double df)
{
	if (!(p > 0) || !(p < 1) || !(df > 0))
		return NAN;
	if (p == 0.5)
		return 0;
	if (p < 0.5)
		return -fo_stats_t_quantile(1 - p, df);
	double q = 1 - p; /* the upper tail to reach; t_upper falls from 0.5 at t = 0 */
	double lo = 0, hi = 1;
	while (t_upper(hi, df) > q) {
		lo = hi;
		hi *= 2;
		if (hi > 1e300)
			return INFINITY;
	}
	for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = lo + (hi - lo) / 2;
		if (t_upper(mid, df) > q)
			lo = mid;
		else
			hi = mid;
	}
	return lo + (hi - lo) / 2;
}

void fo_stats_ci95(const double *x, size_t n, struct fo_stats_ci *out)
{
	out->n = n;
	out->mean = fo_stats_mean(x, n);
	out->sd = fo_stats_stddev(x, n);
	if (n < 2) {
		out->half = out->lo = out->hi = NAN;
		return;
	}
	out->half = fo_stats_t_quantile(0.975, (double)(n - 1)) * out->sd / sqrt((double)n);
	out->lo = out->mean - out->half;
	out->hi = out->mean + out->half;
}

void fo_stats_welch_test(const double *a, size_t na, const double *b, size_t nb, struct fo_stats_welch *out)
{
	*out = (struct fo_stats_welch){.t = NAN, .df = NAN, .p = NAN};
	if (na < 2 || nb < 2)
		return;
	out->enough = true;
	double ma = fo_stats_mean(a, na), mb = fo_stats_mean(b, nb);
	double sa = fo_stats_stddev(a, na), sb = fo_stats_stddev(b, nb);
	double va = sa * sa / (double)na, vb = sb * sb / (double)nb;
	double se2 = va + vb;
	if (!(se2 > 0)) {
		/* No spread on either side: the difference is exactly what it looks like. */
		out->t = ma == mb ? 0 : (mb > ma ? INFINITY : -INFINITY);
		out->df = (double)(na + nb - 2);
		out->p = ma == mb ? 1 : 0;
	} else {
		out->t = (mb - ma) / sqrt(se2);
		out->df = se2 * se2 / (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1));
		out->p = 2 * t_upper(fabs(out->t), out->df);
		if (out->p > 1)
			out->p = 1;
	}
	out->significant = out->p < FO_STATS_ALPHA;
}

const char *fo_stats_format_p(double p, char *out, size_t n)
{
	if (isnan(p))
		snprintf(out, n, "?");
	else if (p < 0.001)
		snprintf(out, n, "<0.001");
	else if (p < 0.1)
		snprintf(out, n, "%.3f", p);
	else
		snprintf(out, n, "%.2f", p);
	return out;
}

const char *fo_stats_verdict(const struct fo_stats_welch *w, char *out, size_t n)
{
	char p[16];
	if (!w->enough)
		snprintf(out, n, "not enough evidence (need at least 2 runs per side)");
	else if (w->significant)
		snprintf(out, n, "significant (p%s%s)", w->p < 0.001 ? "" : "=", fo_stats_format_p(w->p, p, sizeof(p)));
	else
		snprintf(out, n, "no significant difference (p%s%s)", w->p < 0.001 ? "" : "=",
			 fo_stats_format_p(w->p, p, sizeof(p)));
	return out;
}
