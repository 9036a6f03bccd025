/*
 * refs.c: finding, checking and expanding the `<<type:key>>` references of refs.h.
 *
 * One parser, parse_ref, reads a reference that starts at a given offset and either
 * fills a struct fo_ref or words what is wrong with it; fo_refs_scan turns the latter
 * into diagnostics with places, fo_refs_expand into an error that stops the expansion.
 */
#include "util/common.h"

#include "spec/refs.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

/* Longest piece of a reference quoted in a message before it is cut with "...". */
#define SHOW_MAX 80

static const char *const type_names[] = {
	[FO_REF_FILE] = "file",
	[FO_REF_SECRET] = "secret",
	[FO_REF_PROVIDER] = "provider",
};
_Static_assert(FO_ARRAY_LEN(type_names) == FO_REF_PROVIDER + 1, "a name for every reference type");

/* The parts of a provider reference, in order, named for messages. */
static const char *const provider_parts[] = {"group", "ordinal", "provider", "key"};

const char *fo_refs_type_name(enum fo_ref_type type)
{
	return (size_t)type < FO_ARRAY_LEN(type_names) ? type_names[type] : "?";
}

static bool is_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_secret_char(unsigned char c)
{
	return is_word_char(c) || c == '.' || c == '-';
}

/*
 * True if s[i..] starts an attempted reference, `<<word:`; then *colon is the offset of
 * the ':' that ends the type word.
 */
static bool ref_start(const char *s, size_t len, size_t i, size_t *colon)
{
	if (i + 1 >= len || s[i] != '<' || s[i + 1] != '<')
		return false;
	size_t j = i + 2;
	while (j < len && is_word_char((unsigned char)s[j]))
		j++;
	if (j == i + 2 || j >= len || s[j] != ':')
		return false;
	*colon = j;
	return true;
}

/* Writes the n bytes of p into out (size SHOW_MAX + 4), cut with "..." when too long. */
static const char *show(const char *p, size_t n, char *out, size_t size)
{
	if (n > SHOW_MAX)
		snprintf(out, size, "%.*s...", SHOW_MAX, p);
	else
		snprintf(out, size, "%.*s", (int)n, p);
	return out;
}

/* Checks a provider body "GROUP:ORDINAL:PROVIDER:KEY" and fills ref's provider parts. */
static int parse_provider(struct fo_arena *a, const char *body, size_t n, const char *whole, struct fo_ref *ref,
			  struct fo_buf *msg)
{
	const char *part[4];
	size_t plen[4];
	size_t count = 0;
	size_t from = 0;
	for (size_t k = 0; k <= n; k++) {
		if (k < n && body[k] != ':')
			continue;
		if (count < 4) {
			part[count] = body + from;
			plen[count] = k - from;
		}
		count++;
		from = k + 1;
	}
	if (count != 4) {
		fo_buf_addf(msg, "provider reference '%s' has %zu part%s; it needs 4: GROUP:ORDINAL:PROVIDER:KEY",
			    whole, count, count == 1 ? "" : "s");
		return FO_EDEFINITION;
	}
	for (size_t k = 0; k < 4; k++) {
		if (plen[k] == 0) {
			fo_buf_addf(msg, "empty %s in reference '%s'", provider_parts[k], whole);
			return FO_EDEFINITION;
		}
	}
	long ordinal = 0;
	for (size_t k = 0; k < plen[1]; k++) {
		unsigned char c = (unsigned char)part[1][k];
		if (c < '0' || c > '9' || ordinal > (INT_MAX - 9) / 10) {
			char shown[SHOW_MAX + 4];
			fo_buf_addf(msg, "node ordinal '%s' in reference '%s' is not a non-negative integer",
				    show(part[1], plen[1], shown, sizeof(shown)), whole);
			return FO_EDEFINITION;
		}
		ordinal = ordinal * 10 + (c - '0');
	}
	ref->group = fo_arena_strndup(a, part[0], plen[0]);
	ref->ordinal = (int)ordinal;
	ref->provider = fo_arena_strndup(a, part[2], plen[2]);
	ref->key = fo_arena_strndup(a, part[3], plen[3]);
	return 0;
}

/*
 * Parses the attempted reference at s[i] (ref_start is true there; colon is the offset
 * of its ':'). Returns 0 with ref filled (strings from a), or FO_EDEFINITION with the
 * reason appended to msg. Either way *next is where scanning goes on.
 */
static int parse_ref(struct fo_arena *a, const char *s, size_t len, size_t i, size_t colon, struct fo_ref *ref,
		     size_t *next, struct fo_buf *msg)
{
	char whole[SHOW_MAX + 4];
	size_t j = colon + 1;
	while (j < len && s[j] != '\n' && !(s[j] == '>' && j + 1 < len && s[j + 1] == '>') &&
	       !(s[j] == '<' && j + 1 < len && s[j + 1] == '<'))
		j++;
	if (j >= len || s[j] != '>') {
		size_t end = j;
		while (end > colon + 1 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
			end--;
		*next = j;
		fo_buf_addf(msg, "unterminated reference '%s'", show(s + i, end - i, whole, sizeof(whole)));
		return FO_EDEFINITION;
	}
	*next = j + 2;
	show(s + i, j + 2 - i, whole, sizeof(whole));

	const char *word = s + i + 2;
	size_t wlen = colon - (i + 2);
	const char *body = s + colon + 1;
	size_t blen = j - (colon + 1);
	size_t type = FO_ARRAY_LEN(type_names);
	for (size_t t = 0; t < FO_ARRAY_LEN(type_names); t++)
		if (strlen(type_names[t]) == wlen && memcmp(type_names[t], word, wlen) == 0)
			type = t;
	if (type == FO_ARRAY_LEN(type_names)) {
		fo_buf_addf(msg, "unknown reference type '%.*s' in '%s' (known types: file, secret, provider)",
			    (int)wlen, word, whole);
		return FO_EDEFINITION;
	}

	*ref = (struct fo_ref){.type = (enum fo_ref_type)type, .start = i, .end = j + 2};
	switch (ref->type) {
	case FO_REF_FILE:
		if (blen == 0) {
			fo_buf_addf(msg, "empty file name in reference '%s'", whole);
			return FO_EDEFINITION;
		}
		break;
	case FO_REF_SECRET:
		if (blen == 0) {
			fo_buf_addf(msg, "empty secret name in reference '%s'", whole);
			return FO_EDEFINITION;
		}
		for (size_t k = 0; k < blen; k++) {
			if (!is_secret_char((unsigned char)body[k])) {
				char shown[SHOW_MAX + 4];
				fo_buf_addf(msg,
					    "invalid secret name '%s' in reference '%s' (use letters, digits, '_', '.' "
					    "and '-')",
					    show(body, blen, shown, sizeof(shown)), whole);
				return FO_EDEFINITION;
			}
		}
		break;
	case FO_REF_PROVIDER:
		return parse_provider(a, body, blen, whole, ref, msg);
	}
	ref->key = fo_arena_strndup(a, body, blen);
	return 0;
}

/* Counts the UTF-8 code points in the n bytes of p (continuation bytes do not count). */
static int count_chars(const char *p, size_t n)
{
	int c = 0;
	for (size_t k = 0; k < n; k++)
		if (((unsigned char)p[k] & 0xC0) != 0x80)
			c++;
	return c;
}

/* fo_refs_scan, with exact: whether columns may be computed from offsets. */
static int scan(struct fo_arena *a, const char *s, size_t len, const struct fo_pos *pos, bool exact,
		struct fo_ref **out, size_t *nout, struct fo_diags *d)
{
	struct fo_ref *v = NULL;
	size_t n = 0, cap = 0;
	struct fo_buf msg = FO_BUF_INIT;
	struct fo_pos base = pos ? *pos : (struct fo_pos){0};
	exact = exact && base.col > 0 && memchr(s, '\n', len) == NULL;
	int rc = 0;
	size_t i = 0;
	while (i < len) {
		size_t colon;
		if (!ref_start(s, len, i, &colon)) {
			i++;
			continue;
		}
		struct fo_pos at = base;
		if (exact)
			at.col += count_chars(s, i);
		struct fo_ref ref;
		size_t next;
		fo_buf_clear(&msg);
		if (parse_ref(a, s, len, i, colon, &ref, &next, &msg) == 0) {
			ref.pos = at;
			FO_GROW(v, cap, n + 1);
			v[n++] = ref;
		} else {
			fo_diags_error(d, pos ? &at : NULL, "%s", msg.s);
			rc = FO_EDEFINITION;
		}
		i = next;
	}
	*out = n ? fo_arena_memdup(a, v, n * sizeof(*v)) : NULL;
	*nout = n;
	fo_free(v);
	fo_buf_release(&msg);
	return rc;
}

int fo_refs_scan(struct fo_arena *a, const char *s, size_t len, const struct fo_pos *pos, struct fo_ref **out,
		 size_t *nout, struct fo_diags *d)
{
	return scan(a, s, len, pos, true, out, nout, d);
}

int fo_refs_scan_node(struct fo_arena *a, const struct fo_ynode *node, struct fo_ref **out, size_t *nout,
		      struct fo_diags *d)
{
	if (!node || node->kind != FO_YSCALAR || !node->str) {
		*out = NULL;
		*nout = 0;
		return 0;
	}
	return scan(a, node->str, node->len, &node->pos, !node->quoted, out, nout, d);
}

int fo_refs_expand(const char *s, size_t len, fo_ref_resolve_fn fn, void *ctx, struct fo_buf *out,
		   struct fo_err *err)
{
	size_t start = out->len;
	struct fo_arena *a = NULL;
	struct fo_buf msg = FO_BUF_INIT;
	int rc = 0;
	size_t done = 0; /* s[0..done) has been handled */
	size_t i = 0;
	while (i < len && !rc) {
		size_t colon;
		if (!ref_start(s, len, i, &colon)) {
			i++;
			continue;
		}
		if (!a)
			a = fo_arena_new();
		struct fo_ref ref;
		size_t next;
		if (parse_ref(a, s, len, i, colon, &ref, &next, &msg)) {
			rc = fo_err_set(err, FO_EDEFINITION, "%s", msg.s);
			break;
		}
		if (fo_buf_add(out, s + done, i - done)) {
			rc = fo_err_set(err, FO_ETOOBIG, "expanded text is too large");
			break;
		}
		struct fo_err mine = {0};
		rc = fn(ctx, &ref, out, err ? err : &mine);
		if (rc && err && !err->code) {
			char whole[SHOW_MAX + 4];
			fo_err_set(err, rc, "cannot resolve reference '%s': %s",
				   show(s + i, ref.end - ref.start, whole, sizeof(whole)), fo_strerror(rc));
		}
		done = i = next;
	}
	if (!rc && fo_buf_add(out, s + done, len - done))
		rc = fo_err_set(err, FO_ETOOBIG, "expanded text is too large");
	if (rc)
		fo_buf_truncate(out, start);
	fo_buf_release(&msg);
	fo_arena_free(a);
	return rc;
}
