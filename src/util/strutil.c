/*
 * strutil.c: the helpers of strutil.h.
 */
#include "util/common.h"

#include <ctype.h>
#include <math.h>

#include "util/strutil.h"
#include "util/buf.h"

unsigned fo_edit_distance(const char *a, const char *b)
{
	/* Optimal string alignment: insertions, deletions, substitutions and swaps of two
	 * neighbouring characters each cost one, the typos people make. */
	size_t la = strlen(a), lb = strlen(b);
	if (la > 254 || lb > 254)
		return 255;
	unsigned rows[3][256];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		int ca = tolower((unsigned char)a[i - 1]);
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			unsigned best = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > 255 ? 255 : prev[lb];
}

const char *fo_suggest(const char *name, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	unsigned best_d = UINT_MAX;
	size_t len = strlen(name);
	/* A typo is at most a third of the word, and at least one edit is allowed. */
	unsigned limit = (unsigned)(len / 3 > 0 ? len / 3 : 1);
	if (limit > 4)
		limit = 4;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i])
			continue;
		unsigned d = fo_edit_distance(name, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best && best_d <= limit ? best : NULL;
}

bool fo_parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || *end)
		return false;
	/* strtoll with base 0 reads a leading 0 as octal; YAML does not: refuse "010". */
	const char *d = s + (*s == '-' || *s == '+');
	if (d[0] == '0' && isdigit((unsigned char)d[1]))
		return false;
	*out = v;
	return true;
}

bool fo_parse_double(const char *s, double *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool fo_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool fo_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool fo_has_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]))
			return true;
	return false;
}

size_t fo_redact(struct fo_buf *b, const char *const *secrets, size_t n)
{
	size_t hits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = secrets[i];
		size_t sl = s ? strlen(s) : 0;
		if (!sl)
			continue;
		char *hit = memmem(b->s, b->len, s, sl);
		if (!hit)
			continue;
		/* one pass: copy what lies between the occurrences, each replaced */
		struct fo_buf nb = FO_BUF_INIT;
		size_t from = 0;
		while (hit) {
			size_t at = (size_t)(hit - b->s);
			fo_buf_add(&nb, b->s + from, at - from);
			fo_buf_adds(&nb, FO_REDACTED);
			from = at + sl;
			hits++;
			hit = from < b->len ? memmem(b->s + from, b->len - from, s, sl) : NULL;
		}
		fo_buf_add(&nb, b->s + from, b->len - from);
		fo_buf_release(b);
		*b = nb;
	}
	return hits;
}

size_t fo_redact_longest(const char *const *secrets, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (secrets[i] && strlen(secrets[i]) > m)
			m = strlen(secrets[i]);
	return m;
}
