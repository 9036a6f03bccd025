/*
 * strutil.h: small string helpers: edit distance and "did you mean" suggestions, case
 * folding comparisons, and strict number parsing (no atoi: every parse says if it failed).
 */
#ifndef FO_STRUTIL_H
#define FO_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns the Levenshtein distance between a and b, ignoring ASCII case. Capped at 255. */
unsigned fo_edit_distance(const char *a, const char *b);
/* Returns the candidate closest to name, if close enough to be a likely typo, else NULL.
 * candidates is an array of n strings (NULL entries skipped); returns a borrowed pointer. */
const char *fo_suggest(const char *name, const char *const *candidates, size_t n);

/* Parses all of s (no trailing junk, no empty string) as a base-10 (or 0x hex) integer. */
bool fo_parse_i64(const char *s, int64_t *out);
/* Parses all of s as a finite double. */
bool fo_parse_double(const char *s, double *out);
/* Returns true if s starts with prefix. */
bool fo_starts_with(const char *s, const char *prefix);
/* Returns true if s ends with suffix. */
bool fo_ends_with(const char *s, const char *suffix);
/* Returns true if s has any ASCII white space. */
bool fo_has_space(const char *s, size_t n);
/*
 * Replaces every occurrence in b of each non-empty string of secrets (n of them) by
 * FO_REDACTED. Returns how many were replaced.
 */
#define FO_REDACTED "<redacted>"
struct fo_buf;
size_t fo_redact(struct fo_buf *b, const char *const *secrets, size_t n);
/* The length of the longest of the n secrets (0 when none). */
size_t fo_redact_longest(const char *const *secrets, size_t n);

#endif
