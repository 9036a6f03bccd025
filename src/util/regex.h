/*
 * regex.h: regular expressions (PCRE2, close to the Java syntax Fallout users write:
 * lookaheads, non-greedy quantifiers, named groups). A thin layer so callers do not see
 * PCRE2's types.
 */
#ifndef FO_REGEX_H
#define FO_REGEX_H

#include <stdbool.h>
#include <stddef.h>

struct fo_err;
struct fo_regex;

/* Compiles pattern. Returns an owned regex (free with fo_regex_free), or NULL with the
 * reason and the offset of the problem in err. */
struct fo_regex *fo_regex_new(const char *pattern, struct fo_err *err);
void fo_regex_free(struct fo_regex *re);
/* True if the whole of s (len bytes) matches (as Java's Matcher.matches). */
bool fo_regex_full_match(const struct fo_regex *re, const char *s, size_t len);
/* True if the regex matches anywhere in s (as Java's Matcher.find). */
bool fo_regex_search(const struct fo_regex *re, const char *s, size_t len);

#endif
