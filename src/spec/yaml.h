/*
 * yaml.h: YAML loaded with libyaml into a tree that remembers where every node came from.
 *
 * Every node carries its file, line and column, so any later check can point the user at
 * the exact place. Maps keep their keys in document order; a key that appears twice in
 * one map is refused. Anchors and aliases work (an alias shares the anchored node), and
 * merge keys (`<<: *base`) are applied. The whole tree lives in the caller's arena.
 *
 * Scalars are typed by YAML 1.2's core schema when plain (unquoted): null (`~`, `null`,
 * empty), bool (`true`/`false`, any case), int (decimal, 0x hex, 0o octal), float (with
 * .inf/.nan); quoted and block scalars are strings. The text is always kept as written.
 */
#ifndef FO_YAML_H
#define FO_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct fo_arena;
struct fo_buf;
struct fo_diags;

enum fo_ykind { FO_YSCALAR, FO_YMAP, FO_YSEQ };

enum fo_ystype { FO_YS_STR, FO_YS_NULL, FO_YS_BOOL, FO_YS_INT, FO_YS_FLOAT };

struct fo_ynode;

struct fo_ypair {
	struct fo_ynode *key;   /* a scalar in practice; complex keys are refused */
	struct fo_ynode *value; /* never NULL: an absent value is a null scalar */
};

struct fo_ynode {
	enum fo_ykind kind;
	struct fo_pos pos;   /* where the node starts in the user's file */
	/* scalars */
	enum fo_ystype stype;
	const char *str;     /* the text as written (after YAML unescaping), NUL-terminated */
	size_t len;          /* bytes in str (may hold NULs from escapes) */
	bool quoted;         /* written quoted or as a block scalar: always a string */
	bool b;              /* value when stype is FO_YS_BOOL */
	int64_t i;           /* value when stype is FO_YS_INT */
	double d;            /* value when stype is FO_YS_FLOAT (also set for INT) */
	/* maps */
	struct fo_ypair *pairs;
	size_t npairs;
	/* sequences */
	struct fo_ynode **items;
	size_t nitems;
};

/*
 * Maps a line and column of the text being loaded (1-based) to a place in the user's
 * files. Used when the text was produced by a template, so errors point at the template.
 */
typedef void (*fo_posmap_fn)(void *ctx, int line, int col, struct fo_pos *out);

struct fo_yaml_opts {
	const char *file;       /* name for positions (borrowed; must outlive the tree) */
	int line_offset;        /* added to every line (the text starts at line 1 + offset) */
	fo_posmap_fn map;       /* optional; when set, file and line_offset are not used */
	void *map_ctx;
	unsigned max_depth;     /* deepest nesting accepted; 0: 512 */
	size_t max_nodes;       /* most nodes, counting alias expansions; 0: 1,000,000 */
};

/*
 * Loads the single YAML document in text (len bytes, need not be NUL-terminated) into a
 * tree allocated from a. An empty text gives a null scalar. Every problem found is added
 * to d as an error with its place; returns 0 or FO_EPARSE (then *out is NULL).
 */
int fo_yaml_load(struct fo_arena *a, const char *text, size_t len, const struct fo_yaml_opts *opts,
		 struct fo_ynode **out, struct fo_diags *d);

/* Returns a new scalar node typed as a plain YAML scalar would be (for name=value). */
struct fo_ynode *fo_yaml_scalar(struct fo_arena *a, const char *text, const struct fo_pos *pos);
/* Returns a new empty map or sequence node. */
struct fo_ynode *fo_yaml_new(struct fo_arena *a, enum fo_ykind kind, const struct fo_pos *pos);
/* Appends key -> value to map (no duplicate check). */
void fo_ymap_add(struct fo_arena *a, struct fo_ynode *map, struct fo_ynode *key, struct fo_ynode *value);
/* Appends an item to a sequence. */
void fo_yseq_add(struct fo_arena *a, struct fo_ynode *seq, struct fo_ynode *item);

/* Returns the value of key in map (exact match), or NULL (also when map is not a map). */
struct fo_ynode *fo_ymap_get(const struct fo_ynode *map, const char *key);
/* As fo_ymap_get, ignoring ASCII case. */
struct fo_ynode *fo_ymap_getcase(const struct fo_ynode *map, const char *key);
/* Returns the pair of key in map (exact match), or NULL. */
struct fo_ypair *fo_ymap_pair(const struct fo_ynode *map, const char *key);
/* True for a null scalar (or NULL). */
bool fo_ynode_is_null(const struct fo_ynode *n);
/* True for a scalar that is not null. */
bool fo_ynode_is_value(const struct fo_ynode *n);
/* "a map", "a list", "a string", "a number", "true/false", "null": for error messages. */
const char *fo_ynode_describe(const struct fo_ynode *n);

/*
 * Writes n as block-style YAML to out, indented by indent spaces. Strings that would read
 * back as another type, or need it, are quoted. Returns 0 or FO_ETOOBIG.
 */
int fo_yaml_emit(const struct fo_ynode *n, int indent, struct fo_buf *out);
/* Writes n as compact JSON to out (scalars by type; strings escaped). */
int fo_yaml_emit_json(const struct fo_ynode *n, struct fo_buf *out);

#endif
