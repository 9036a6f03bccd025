/*
 * refs.h: `<<type:key>>` references inside string property values.
 *
 * A test definition may point at things that only exist when it runs:
 *
 *     <<file:NAME>>                            the absolute path of a local_files entry
 *     <<secret:NAME>>                          one of the run owner's secrets
 *     <<provider:GROUP:ORDINAL:PROVIDER:KEY>>  a value a component published on a node
 *
 * This module finds references and checks their form when a definition is loaded
 * (fo_refs_scan), and replaces them when a value is used (fo_refs_expand), asking a
 * caller's resolver for each one; what a reference means is the resolver's business.
 *
 * What counts as a reference: `<<`, then a word ([A-Za-z0-9_]+), then `:`. Anything else
 * is left alone, so a bash heredoc (`cat <<EOF`, `<<-EOF`, `<<'EOF'`) or a shift
 * (`x << 2`) in a script is plain text. Once `<<word:` is seen the rest must be well
 * formed: a closing `>>` on the same line before any other `<<`, a known type, non-empty
 * parts, and for each type its own rules:
 *   file      any non-empty key (checked against local_files by the caller)
 *   secret    a name of [A-Za-z0-9_.-]+
 *   provider  exactly four ':'-separated non-empty parts, ORDINAL a decimal integer >= 0
 * A ':' inside a file key is kept as part of the key.
 */
#ifndef FO_REFS_H
#define FO_REFS_H

#include <stddef.h>

#include "util/err.h"

struct fo_arena;
struct fo_buf;
struct fo_diags;
struct fo_ynode;

enum fo_ref_type { FO_REF_FILE, FO_REF_SECRET, FO_REF_PROVIDER };

/* One reference found in a string. Its strings are NUL-terminated copies. */
struct fo_ref {
	enum fo_ref_type type;
	const char *key;      /* file: the path; secret: the name; provider: the published key */
	const char *group;    /* provider: the node group's name; NULL for other types */
	int ordinal;          /* provider: the node's ordinal in its group; 0 for other types */
	const char *provider; /* provider: the provider's name; NULL for other types */
	size_t start;         /* offset in the scanned string of the first '<' */
	size_t end;           /* offset just past the closing ">>" */
	struct fo_pos pos;    /* where the reference is written (see fo_refs_scan) */
};

/*
 * Appends what ref stands for to out. Returns 0, or a negative FO_E* code with the reason
 * in err; a failure stops fo_refs_expand, which returns that code.
 */
typedef int (*fo_ref_resolve_fn)(void *ctx, const struct fo_ref *ref, struct fo_buf *out, struct fo_err *err);

/* Returns "file", "secret" or "provider". */
const char *fo_refs_type_name(enum fo_ref_type type);

/*
 * Finds every reference in the len bytes of s (borrowed; need not be NUL-terminated).
 *
 * *out gets an array of the well-formed references in order of appearance, allocated from
 * a with its strings (NULL when there are none), and *nout their number. Each malformed
 * reference adds an error to d, and scanning goes on so that all are reported.
 *
 * pos (may be NULL) is where the string's scalar starts. Places: when s is a single line
 * (holds no '\n'), a reference's column is pos->col plus the number of characters (UTF-8
 * code points, as the YAML loader counts them) before it, which is exact for a plain
 * scalar written on one line; for a multi-line string every reference is placed at pos
 * itself. Use fo_refs_scan_node for a YAML scalar: it also knows about quoted scalars.
 *
 * Returns 0, or FO_EDEFINITION when any error was added.
 */
int fo_refs_scan(struct fo_arena *a, const char *s, size_t len, const struct fo_pos *pos, struct fo_ref **out,
		 size_t *nout, struct fo_diags *d);

/*
 * As fo_refs_scan for the text of a scalar node (borrowed); anything else gives no
 * references. Columns are exact for a plain single-line scalar; references in quoted or
 * block scalars, whose escapes and indicators shift the text, are placed at the node.
 */
int fo_refs_scan_node(struct fo_arena *a, const struct fo_ynode *node, struct fo_ref **out, size_t *nout,
		      struct fo_diags *d);

/*
 * Appends the len bytes of s (borrowed) to out with every reference replaced by what
 * fn(ctx, ref, out, err) appends; text that is not a reference is copied as is. Returns
 * 0; the resolver's code when it fails; FO_EDEFINITION for a malformed reference (the
 * first one's message in err, as fo_refs_scan words it); FO_ETOOBIG past out's cap.
 * On failure out is left as it was. The fo_ref given to fn lives only during the call.
 */
int fo_refs_expand(const char *s, size_t len, fo_ref_resolve_fn fn, void *ctx, struct fo_buf *out,
		   struct fo_err *err);

#endif
