/*
 * regex.c: the PCRE2 wrapper of regex.h. Full matches are compiled with an end anchor
 * in a second pattern, so one fo_regex serves both kinds of match.
 */
#include "util/common.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/regex.h"

struct fo_regex {
	pcre2_code *code;
	pcre2_match_data *md;
};

struct fo_regex *fo_regex_new(const char *pattern, struct fo_err *err)
{
	int ecode;
	PCRE2_SIZE eoff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ecode, &eoff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ecode, msg, sizeof(msg));
		fo_err_set(err, FO_EINVAL, "invalid regular expression '%s': %s at offset %zu", pattern, (char *)msg,
			   (size_t)eoff);
		return NULL;
	}
	struct fo_regex *re = fo_malloc(sizeof(*re));
	re->code = code;
	re->md = pcre2_match_data_create_from_pattern(code, NULL);
	if (!re->md)
		fo_malloc(SIZE_MAX); /* out of memory */
	return re;
}

void fo_regex_free(struct fo_regex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	fo_free(re);
}

static bool match(const struct fo_regex *re, const char *s, size_t len, uint32_t opts)
{
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, opts, re->md, NULL);
	return rc >= 0;
}

bool fo_regex_full_match(const struct fo_regex *re, const char *s, size_t len)
{
	return match(re, s, len, PCRE2_ANCHORED | PCRE2_ENDANCHORED);
}

bool fo_regex_search(const struct fo_regex *re, const char *s, size_t len)
{
	return match(re, s, len, 0);
}
