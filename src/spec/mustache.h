/*
 * mustache.h: our Mustache engine. Test definitions are YAML text rendered with Mustache
 * before they are parsed; HTML pages use it too.
 *
 * It implements the Mustache specification v1.4: variables ({{x}} {{{x}}} {{&x}}), dotted
 * names, the implicit iterator {{.}}, sections, inverted sections, comments, set
 * delimiters, partials with standalone-line indentation, the whitespace rules, and the
 * optional modules template inheritance ({{<parent}}{{$block}}..{{/block}}{{/parent}}) and
 * dynamic names ({{>*name}}, {{<*name}}). Lambdas are not supported.
 *
 * The data is our YAML tree (spec/yaml.h). A name is looked up through a stack of
 * contexts, innermost first, by exact key match; a dotted name a.b.c finds `a` that way,
 * then b and c inside it only. Falsey: null, false, an empty list, an empty string;
 * everything else is truthy (0 and an empty map too). A scalar renders as written (null
 * renders empty); a map or list renders as compact JSON.
 *
 * The engine never fails on a name that resolves to nothing: it renders empty and collects
 * the name, so the caller can report every such tag at once. Syntax errors (an unterminated
 * tag, an unclosed or mismatched section, a bad delimiter change) fail with a message and
 * the file:line:col of the tag (columns count UTF-8 characters).
 *
 * An optional source map records where each part of the output came from, so a line:col
 * in the rendered text (a YAML error after rendering) maps back to what the user wrote,
 * in the template or in a partial's file.
 */
#ifndef FO_MUSTACHE_H
#define FO_MUSTACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct fo_buf;
struct fo_ynode;

/*
 * Looks up the partial (or parent template) `name` for the engine. On success returns 0
 * and sets *text and *len to its text and *file to the name positions inside it should
 * carry (NULL: the partial's name is used); text and file are borrowed and must stay valid
 * until fo_mustache_render returns. Returns FO_ENOTFOUND when there is no such partial (it
 * renders empty and is collected as missing), or another negative code to abort rendering.
 * To give a detailed message for such a failure, record it in your own struct fo_err and
 * pass that same struct to fo_mustache_render: the first error recorded is kept.
 */
typedef int (*fo_partial_fn)(void *ctx, const char *name, const char **text, size_t *len, const char **file);

/* One run of output that came from one place. */
struct fo_srcmap_seg {
	size_t out;    /* byte offset in the rendered text where the run starts */
	uint32_t file; /* index into fo_srcmap.files */
	bool literal;  /* template text copied as is: the place advances with the output;
			  otherwise (an interpolated value, indentation) the whole run maps to
			  line:col */
	int line, col; /* where the run's first byte came from (1-based) */
};

/* Where the output of a render came from. fo_srcmap_init before use, _release after. */
struct fo_srcmap {
	struct fo_srcmap_seg *segs; /* by increasing out, no two with the same out */
	size_t nsegs, cap;
	char **files;               /* owned file names (an entry may be NULL: no name) */
	size_t nfiles, fcap;
};

/* Initialises m empty. */
void fo_srcmap_init(struct fo_srcmap *m);
/* Frees m's memory and leaves it empty and usable. */
void fo_srcmap_release(struct fo_srcmap *m);
/*
 * Maps line:col (1-based; col in UTF-8 characters, as libyaml counts) of the rendered text
 * out_text (out_len bytes, borrowed: exactly the bytes that render appended) back to the
 * template or partial that produced it. pos->file is borrowed from m (valid until m is
 * released or reused). With an empty map, pos is line:col with no file.
 */
void fo_srcmap_pos(const struct fo_srcmap *m, const char *out_text, size_t out_len, int line, int col,
		   struct fo_pos *pos);

/* A source map and the text it describes, as ctx for fo_srcmap_posmap. All borrowed. */
struct fo_srcmap_text {
	const struct fo_srcmap *map;
	const char *text;
	size_t len;
};
/* An fo_posmap_fn (spec/yaml.h) for loading rendered text: ctx is a struct fo_srcmap_text. */
void fo_srcmap_posmap(void *ctx, int line, int col, struct fo_pos *out);

struct fo_mustache_opts {
	bool escape_html;      /* {{x}} escapes & < > " (HTML pages, the spec tests); off: {{x}} == {{{x}}} */
	fo_partial_fn partial; /* NULL: every partial is missing */
	void *partial_ctx;
	const char *file;      /* name of the template for positions (borrowed; NULL: none) */
	int line;              /* line number of the template's first line in file; 0 means 1 */
	struct fo_srcmap *map; /* optional; reset, then filled by the render */
	unsigned max_depth;    /* deepest nesting of sections, partials and blocks; 0: 64 (most 1000) */
	size_t max_steps;      /* most template nodes one render visits (ends sections nested over
				  lists that would run for ages); 0: 10,000,000 */
};

/* What a render could not resolve. Zero-initialise; fo_mustache_missing_release after. */
struct fo_mustache_missing {
	char **names;    /* owned; each distinct name as written ("a.b"), first seen first */
	size_t n, cap;
	char **partials; /* owned; names of partials or parents not found */
	size_t npartials, pcap;
};

/* Frees every name and leaves m empty. */
void fo_mustache_missing_release(struct fo_mustache_missing *m);

/*
 * Renders the template tmpl (len bytes, borrowed, need not be NUL-terminated) and appends
 * the result to out. scopes holds nscopes data nodes (borrowed; NULL entries skipped),
 * outermost first: later scopes win (defaults, then run parameters). opts may be NULL
 * (no escaping, no partials). Names and partials that resolve to nothing render empty and
 * are added to missing (may be NULL); a key present with a null value counts as given.
 * Only tags that are reached count (not those inside a section that does not render); a
 * dynamic name ({{>*x}}) that resolves to nothing is collected as the name x.
 *
 * Returns 0; FO_ETEMPLATE for a syntax error (err has the message and file:line:col of the
 * tag) or nesting deeper than max_depth; FO_ETOOBIG when out's cap is reached or the render
 * visits more than max_steps nodes; or the error a partial callback returned. On failure
 * out is left as it was on entry (and opts->map is empty).
 */
int fo_mustache_render(const char *tmpl, size_t len, const struct fo_ynode *const *scopes, size_t nscopes,
		       const struct fo_mustache_opts *opts, struct fo_buf *out, struct fo_mustache_missing *missing,
		       struct fo_err *err);

#endif
