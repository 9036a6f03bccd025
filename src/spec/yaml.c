/*
 * yaml.c: the YAML loader of yaml.h, built on libyaml's event parser.
 *
 * Events are folded into a tree with an explicit stack (no recursion, so nesting depth
 * is a checked limit rather than a stack overflow). Anchors are remembered by name and
 * aliases share the anchored node; the total size of the tree counting every alias
 * expansion is capped, which stops "billion laughs" documents. Duplicate keys are found
 * by sorting a map's keys when the map ends.
 */
#include "util/common.h"

#include <ctype.h>
#include <math.h>
#include <yaml.h>

#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/strutil.h"

#define DEFAULT_MAX_DEPTH 512
#define DEFAULT_MAX_NODES 1000000

struct anchor {
	char *name;             /* owned */
	struct fo_ynode *node;
	size_t weight;          /* nodes in its subtree, counting alias expansions */
};

struct frame {
	struct fo_ynode *node;
	struct fo_ynode *pending_key; /* maps: a key waiting for its value */
	char *anchor;                 /* owned; registered when the collection ends */
	size_t weight_at_start;
};

struct loader {
	struct fo_arena *a;
	const struct fo_yaml_opts *opts;
	struct fo_diags *d;
	struct frame *stack;
	size_t depth, cap;
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	size_t weight;      /* nodes so far, counting alias expansions */
	size_t max_nodes;
	unsigned max_depth;
	struct fo_ynode *root;
	bool failed;
	const char *text;
	size_t len;
};

static void place(const struct loader *l, yaml_mark_t mark, struct fo_pos *pos)
{
	int line = (int)mark.line + 1, col = (int)mark.column + 1;
	if (l->opts->map) {
		l->opts->map(l->opts->map_ctx, line, col, pos);
		return;
	}
	pos->file = l->opts->file;
	pos->line = line + l->opts->line_offset;
	pos->col = col;
}

static void fail(struct loader *l, yaml_mark_t mark, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct loader *l, yaml_mark_t mark, const char *fmt, ...)
{
	struct fo_pos pos;
	place(l, mark, &pos);
	va_list ap;
	va_start(ap, fmt);
	fo_diags_vadd(l->d, FO_SEV_ERROR, &pos, fmt, ap);
	va_end(ap);
	l->failed = true;
}

/* ---- scalar typing (YAML 1.2 core schema) ---- */

static bool all_of(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

static bool is_float_text(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0)
		return true;
	if (p == s && (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0))
		return true;
	bool digits = false;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static double float_value(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	if (p[0] == '.' && (p[1] == 'i' || p[1] == 'I'))
		return *s == '-' ? -INFINITY : INFINITY;
	if (p[0] == '.' && (p[1] == 'n' || p[1] == 'N'))
		return NAN;
	return strtod(s, NULL);
}

/* Types a plain scalar's text. */
static void resolve_plain(struct fo_ynode *n)
{
	const char *s = n->str;
	n->stype = FO_YS_STR;
	if (n->len != strlen(s))
		return; /* holds a NUL: only a string */
	if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0) {
		n->stype = FO_YS_NULL;
		return;
	}
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
		n->stype = FO_YS_BOOL;
		n->b = true;
		return;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
		n->stype = FO_YS_BOOL;
		n->b = false;
		return;
	}
	const char *p = s + (*s == '+' || *s == '-');
	if (all_of(p, "0123456789") || (p == s && p[0] == '0' && p[1] == 'x' && all_of(p + 2, "0123456789abcdefABCDEF")) ||
	    (p == s && p[0] == '0' && p[1] == 'o' && all_of(p + 2, "01234567"))) {
		errno = 0;
		long long v;
		if (p[0] == '0' && p[1] == 'o')
			v = strtoll(p + 2, NULL, 8);
		else
			v = strtoll(s, NULL, p[0] == '0' && p[1] == 'x' ? 16 : 10);
		if (errno == ERANGE) {
			n->stype = FO_YS_FLOAT;
			n->d = strtod(s, NULL);
			return;
		}
		n->stype = FO_YS_INT;
		n->i = v;
		n->d = (double)v;
		return;
	}
	if (is_float_text(s)) {
		n->stype = FO_YS_FLOAT;
		n->d = float_value(s);
	}
}

struct fo_ynode *fo_yaml_scalar(struct fo_arena *a, const char *text, const struct fo_pos *pos)
{
	struct fo_ynode *n = FO_ANEW(a, struct fo_ynode);
	n->kind = FO_YSCALAR;
	n->str = fo_arena_strdup(a, text);
	n->len = strlen(text);
	if (pos)
		n->pos = *pos;
	/* Surrounding spaces are not part of a plain scalar. */
	size_t b = 0, e = n->len;
	while (b < e && (n->str[b] == ' ' || n->str[b] == '\t'))
		b++;
	while (e > b && (n->str[e - 1] == ' ' || n->str[e - 1] == '\t'))
		e--;
	if (b > 0 || e < n->len) {
		n->str = fo_arena_strndup(a, n->str + b, e - b);
		n->len = e - b;
	}
	resolve_plain(n);
	return n;
}

struct fo_ynode *fo_yaml_new(struct fo_arena *a, enum fo_ykind kind, const struct fo_pos *pos)
{
	struct fo_ynode *n = FO_ANEW(a, struct fo_ynode);
	n->kind = kind;
	if (pos)
		n->pos = *pos;
	if (kind == FO_YSCALAR) {
		n->str = "";
		n->stype = FO_YS_NULL;
	}
	return n;
}

/* Arena arrays grow by doubling; the old block is left in the arena. n is the new count;
 * the array holding n - 1 elements has capacity for n exactly when n - 1 is not 0 or a
 * power of two. */
static void *arena_grow(struct fo_arena *a, void *old, size_t n, size_t size)
{
	size_t m = n - 1;
	if (old && m && (m & (m - 1)) != 0)
		return old;
	void *p = fo_arena_alloc(a, (m ? 2 * m : 1) * size);
	if (old && m)
		memcpy(p, old, m * size);
	return p;
}

void fo_ymap_add(struct fo_arena *a, struct fo_ynode *map, struct fo_ynode *key, struct fo_ynode *value)
{
	map->pairs = arena_grow(a, map->pairs, map->npairs + 1, sizeof(*map->pairs));
	map->pairs[map->npairs].key = key;
	map->pairs[map->npairs].value = value;
	map->npairs++;
}

void fo_yseq_add(struct fo_arena *a, struct fo_ynode *seq, struct fo_ynode *item)
{
	seq->items = arena_grow(a, seq->items, seq->nitems + 1, sizeof(*seq->items));
	seq->items[seq->nitems++] = item;
}

/* ---- the loader ---- */

static struct anchor *find_anchor(struct loader *l, const char *name)
{
	for (size_t i = l->nanchors; i-- > 0;)
		if (strcmp(l->anchors[i].name, name) == 0)
			return &l->anchors[i];
	return NULL;
}

static void add_anchor(struct loader *l, char *name, struct fo_ynode *node, size_t weight)
{
	FO_GROW(l->anchors, l->anchors_cap, l->nanchors + 1);
	l->anchors[l->nanchors++] = (struct anchor){.name = name, .node = node, .weight = weight};
}

static bool count_nodes(struct loader *l, size_t k, yaml_mark_t mark)
{
	if (k > l->max_nodes - l->weight) {
		fail(l, mark, "document too large: more than %zu nodes (counting alias expansions)", l->max_nodes);
		return false;
	}
	l->weight += k;
	return true;
}

static bool is_merge_key(const struct fo_ynode *k)
{
	return k->kind == FO_YSCALAR && !k->quoted && strcmp(k->str, "<<") == 0;
}

/* Attaches a finished node to its parent (or makes it the root). */
static void attach(struct loader *l, struct fo_ynode *n, yaml_mark_t mark)
{
	if (l->depth == 0) {
		l->root = n;
		return;
	}
	struct frame *f = &l->stack[l->depth - 1];
	if (f->node->kind == FO_YSEQ) {
		fo_yseq_add(l->a, f->node, n);
		return;
	}
	if (!f->pending_key) {
		if (n->kind != FO_YSCALAR) {
			fail(l, mark, "a map or list cannot be used as a key");
			n = fo_yaml_scalar(l->a, "?", &n->pos);
		}
		f->pending_key = n;
		return;
	}
	fo_ymap_add(l->a, f->node, f->pending_key, n);
	f->pending_key = NULL;
}

static int key_cmp(const void *x, const void *y)
{
	const struct fo_ypair *const *a = x, *const *b = y;
	const struct fo_ynode *ka = (*a)->key, *kb = (*b)->key;
	size_t n = ka->len < kb->len ? ka->len : kb->len;
	int c = memcmp(ka->str, kb->str, n);
	if (c)
		return c;
	if (ka->len != kb->len)
		return ka->len < kb->len ? -1 : 1;
	/* Same key: the earlier one in the document first (pairs are in document order;
	 * positions cannot tell, they may come from different files). */
	return *a < *b ? -1 : *a > *b;
}

/* Applies merge keys, then refuses duplicate keys. */
static void finish_map(struct loader *l, struct fo_ynode *map)
{
	bool has_merge = false;
	for (size_t i = 0; i < map->npairs; i++)
		has_merge |= is_merge_key(map->pairs[i].key);
	if (has_merge) {
		struct fo_ypair *own = map->pairs;
		size_t nown = map->npairs;
		map->pairs = NULL;
		map->npairs = 0;
		for (size_t i = 0; i < nown; i++)
			if (!is_merge_key(own[i].key))
				fo_ymap_add(l->a, map, own[i].key, own[i].value);
		for (size_t i = 0; i < nown; i++) {
			if (!is_merge_key(own[i].key))
				continue;
			struct fo_ynode *v = own[i].value;
			struct fo_ynode *const *srcs = &v;
			size_t nsrc = 1;
			if (v->kind == FO_YSEQ) {
				srcs = v->items;
				nsrc = v->nitems;
			}
			for (size_t s = 0; s < nsrc; s++) {
				if (srcs[s]->kind != FO_YMAP) {
					struct fo_pos p = srcs[s]->pos;
					fo_diags_error(l->d, &p, "a merge key '<<' takes a map or a list of maps, not %s",
						       fo_ynode_describe(srcs[s]));
					l->failed = true;
					continue;
				}
				for (size_t k = 0; k < srcs[s]->npairs; k++)
					if (!fo_ymap_pair(map, srcs[s]->pairs[k].key->str))
						fo_ymap_add(l->a, map, srcs[s]->pairs[k].key, srcs[s]->pairs[k].value);
			}
		}
	}
	if (map->npairs < 2)
		return;
	struct fo_ypair **sorted = fo_malloc(map->npairs * sizeof(*sorted));
	for (size_t i = 0; i < map->npairs; i++)
		sorted[i] = &map->pairs[i];
	qsort(sorted, map->npairs, sizeof(*sorted), key_cmp);
	for (size_t i = 1; i < map->npairs; i++) {
		const struct fo_ynode *a = sorted[i - 1]->key, *b = sorted[i]->key;
		if (a->len == b->len && memcmp(a->str, b->str, a->len) == 0) {
			struct fo_pos p = b->pos;
			if (a->pos.file && b->pos.file && strcmp(a->pos.file, b->pos.file) != 0)
				fo_diags_error(l->d, &p, "duplicate key '%s' (first defined at %s:%d)", b->str, a->pos.file,
					       a->pos.line);
			else
				fo_diags_error(l->d, &p, "duplicate key '%s' (first defined at line %d)", b->str,
					       a->pos.line);
			l->failed = true;
		}
	}
	fo_free(sorted);
}

static bool push(struct loader *l, struct fo_ynode *n, const yaml_char_t *anchor, yaml_mark_t mark)
{
	if (l->depth >= l->max_depth) {
		fail(l, mark, "nesting too deep: more than %u levels", l->max_depth);
		return false;
	}
	FO_GROW(l->stack, l->cap, l->depth + 1);
	l->stack[l->depth++] = (struct frame){
		.node = n,
		.anchor = anchor ? fo_strdup((const char *)anchor) : NULL,
		.weight_at_start = l->weight,
	};
	return true;
}

static void pop(struct loader *l, yaml_mark_t mark)
{
	struct frame f = l->stack[--l->depth];
	if (f.node->kind == FO_YMAP)
		finish_map(l, f.node);
	if (f.anchor)
		add_anchor(l, f.anchor, f.node, l->weight - f.weight_at_start + 1);
	attach(l, f.node, mark);
}

static void scalar_event(struct loader *l, const yaml_event_t *ev)
{
	struct fo_ynode *n = FO_ANEW(l->a, struct fo_ynode);
	n->kind = FO_YSCALAR;
	place(l, ev->start_mark, &n->pos);
	n->len = ev->data.scalar.length;
	n->str = fo_arena_strndup(l->a, (const char *)ev->data.scalar.value, n->len);
	const char *tag = (const char *)ev->data.scalar.tag;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (tag && strcmp(tag, "tag:yaml.org,2002:str") == 0)
		n->quoted = true;
	if (n->quoted)
		n->stype = FO_YS_STR;
	else
		resolve_plain(n);
	if (!count_nodes(l, 1, ev->start_mark))
		return;
	if (ev->data.scalar.anchor)
		add_anchor(l, fo_strdup((const char *)ev->data.scalar.anchor), n, 1);
	attach(l, n, ev->start_mark);
}

static void alias_event(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct anchor *an = find_anchor(l, name);
	if (!an) {
		fail(l, ev->start_mark, "unknown alias '*%s'", name);
		return;
	}
	if (!count_nodes(l, an->weight, ev->start_mark))
		return;
	attach(l, an->node, ev->start_mark);
}

/* Explains libyaml's complaint in our words, with a hint for the usual causes. */
static void parser_error(struct loader *l, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	yaml_mark_t mark = p->problem_mark;
	if (p->error == YAML_MEMORY_ERROR) {
		fail(l, mark, "out of memory while parsing YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* The reader's mark is unreliable; give the byte offset instead. */
		struct fo_pos pos;
		yaml_mark_t m = {.line = 0, .column = 0};
		place(l, m, &pos);
		size_t off = p->problem_offset;
		/* Work out line and column from the byte offset. */
		int line = 1, col = 1;
		for (size_t i = 0; i < off && i < l->len; i++) {
			if (l->text[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)l->text[i] & 0xC0) != 0x80) {
				col++;
			}
		}
		m.line = (size_t)line - 1;
		m.column = (size_t)col - 1;
		if (p->problem_value >= 0 && strstr(problem, "control"))
			fail(l, m, "not a text file: control character 0x%02x is not allowed in YAML",
			     (unsigned)p->problem_value);
		else if (strstr(problem, "UTF-8") || strstr(problem, "utf-8") || strstr(problem, "octet"))
			fail(l, m, "not valid UTF-8 text (%s)", problem);
		else
			fail(l, m, "cannot read YAML: %s", problem);
		return;
	}
	size_t off = mark.index; /* characters; close enough to find a tab on ASCII text */
	bool tab = false;
	if (strstr(problem, "cannot start any token")) {
		/* Find the byte at the mark's line and column. */
		size_t line = 0, i = 0;
		while (i < l->len && line < mark.line) {
			if (l->text[i] == '\n')
				line++;
			i++;
		}
		size_t col = 0;
		while (i < l->len && col < mark.column && l->text[i] != '\n') {
			if (((unsigned char)l->text[i] & 0xC0) != 0x80)
				col++;
			i++;
		}
		tab = i < l->len && l->text[i] == '\t';
	}
	FO_UNUSED(off);
	if (tab)
		fail(l, mark, "a tab character cannot be used for indentation in YAML; use spaces");
	else if (p->context)
		fail(l, mark, "invalid YAML: %s %s (line %zu)", problem, p->context, (size_t)p->context_mark.line + 1);
	else
		fail(l, mark, "invalid YAML: %s", problem);
}

int fo_yaml_load(struct fo_arena *a, const char *text, size_t len, const struct fo_yaml_opts *opts,
		 struct fo_ynode **out, struct fo_diags *d)
{
	struct fo_yaml_opts defaults = {0};
	struct loader l = {
		.a = a,
		.opts = opts ? opts : &defaults,
		.d = d,
		.text = text,
		.len = len,
	};
	l.max_depth = l.opts->max_depth ? l.opts->max_depth : DEFAULT_MAX_DEPTH;
	l.max_nodes = l.opts->max_nodes ? l.opts->max_nodes : DEFAULT_MAX_NODES;
	*out = NULL;

	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		fo_diags_error(d, NULL, "cannot start the YAML parser");
		return FO_EPARSE;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	int documents = 0;
	bool done = false;
	while (!done && !l.failed) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&l, &parser);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1)
				fail(&l, ev.start_mark,
				     "more than one YAML document here; documents are split by '---' lines");
			break;
		case YAML_SCALAR_EVENT:
			scalar_event(&l, &ev);
			break;
		case YAML_ALIAS_EVENT:
			alias_event(&l, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
			struct fo_ynode *n = FO_ANEW(a, struct fo_ynode);
			n->kind = seq ? FO_YSEQ : FO_YMAP;
			place(&l, ev.start_mark, &n->pos);
			if (count_nodes(&l, 1, ev.start_mark))
				push(&l, n, seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor,
				     ev.start_mark);
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (l.depth > 0)
				pop(&l, ev.start_mark);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < l.depth; i++)
		fo_free(l.stack[i].anchor);
	fo_free(l.stack);
	for (size_t i = 0; i < l.nanchors; i++)
		fo_free(l.anchors[i].name);
	fo_free(l.anchors);
	if (l.failed)
		return FO_EPARSE;
	if (!l.root) {
		struct fo_pos pos;
		yaml_mark_t m = {0};
		place(&l, m, &pos);
		l.root = fo_yaml_new(a, FO_YSCALAR, &pos);
	}
	*out = l.root;
	return 0;
}

/* ---- queries ---- */

struct fo_ypair *fo_ymap_pair(const struct fo_ynode *map, const char *key)
{
	if (!map || map->kind != FO_YMAP)
		return NULL;
	size_t klen = strlen(key);
	for (size_t i = 0; i < map->npairs; i++) {
		const struct fo_ynode *k = map->pairs[i].key;
		if (k->len == klen && memcmp(k->str, key, klen) == 0)
			return &map->pairs[i];
	}
	return NULL;
}

struct fo_ynode *fo_ymap_get(const struct fo_ynode *map, const char *key)
{
	struct fo_ypair *p = fo_ymap_pair(map, key);
	return p ? p->value : NULL;
}

struct fo_ynode *fo_ymap_getcase(const struct fo_ynode *map, const char *key)
{
	if (!map || map->kind != FO_YMAP)
		return NULL;
	for (size_t i = 0; i < map->npairs; i++)
		if (strcasecmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

bool fo_ynode_is_null(const struct fo_ynode *n)
{
	return !n || (n->kind == FO_YSCALAR && n->stype == FO_YS_NULL);
}

bool fo_ynode_is_value(const struct fo_ynode *n)
{
	return n && n->kind == FO_YSCALAR && n->stype != FO_YS_NULL;
}

const char *fo_ynode_describe(const struct fo_ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case FO_YMAP:
		return "a map";
	case FO_YSEQ:
		return "a list";
	case FO_YSCALAR:
		break;
	}
	switch (n->stype) {
	case FO_YS_NULL:
		return "an empty value";
	case FO_YS_BOOL:
		return "true/false";
	case FO_YS_INT:
	case FO_YS_FLOAT:
		return "a number";
	case FO_YS_STR:
		break;
	}
	return "a string";
}

/* ---- emitters ---- */

/* True when a string must be quoted to read back as the same string. */
static bool needs_quotes(const struct fo_ynode *n)
{
	const char *s = n->str;
	if (n->len == 0 || n->len != strlen(s))
		return true;
	struct fo_ynode probe = {.kind = FO_YSCALAR, .str = s, .len = n->len};
	resolve_plain(&probe);
	if (probe.stype != FO_YS_STR)
		return true;
	if (strchr("-?:,[]{}#&*!|>'\"%@`~ \t", s[0]) || s[n->len - 1] == ' ' || s[n->len - 1] == ':')
		return true;
	for (size_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return true;
		if ((c == ':' && (s[i + 1] == ' ' || s[i + 1] == '\0')) || (c == '#' && i > 0 && s[i - 1] == ' '))
			return true;
	}
	return false;
}

static int emit_quoted(const char *s, size_t len, struct fo_buf *out)
{
	int rc = fo_buf_addch(out, '"');
	for (size_t i = 0; i < len && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = fo_buf_adds(out, "\\\""); break;
		case '\\': rc = fo_buf_adds(out, "\\\\"); break;
		case '\n': rc = fo_buf_adds(out, "\\n"); break;
		case '\t': rc = fo_buf_adds(out, "\\t"); break;
		case '\r': rc = fo_buf_adds(out, "\\r"); break;
		case '\0': rc = fo_buf_adds(out, "\\0"); break;
		default:
			rc = c < 0x20 || c == 0x7f ? fo_buf_addf(out, "\\x%02x", c) : fo_buf_addch(out, (char)c);
		}
	}
	return rc ? rc : fo_buf_addch(out, '"');
}

static int emit_scalar(const struct fo_ynode *n, struct fo_buf *out)
{
	if (n->stype == FO_YS_NULL && !n->quoted)
		return fo_buf_adds(out, "null");
	if (n->stype != FO_YS_STR || !needs_quotes(n))
		return fo_buf_add(out, n->str, n->len);
	return emit_quoted(n->str, n->len, out);
}

static bool is_empty_collection(const struct fo_ynode *n)
{
	return (n->kind == FO_YMAP && n->npairs == 0) || (n->kind == FO_YSEQ && n->nitems == 0);
}

static int emit_node(const struct fo_ynode *n, int indent, unsigned depth, struct fo_buf *out);

static int indent_to(struct fo_buf *out, int indent)
{
	int rc = 0;
	for (int i = 0; i < indent && !rc; i++)
		rc = fo_buf_addch(out, ' ');
	return rc;
}

/* Emits a value that follows "key:" or "- " on the same line when it can. */
static int emit_value(const struct fo_ynode *v, int indent, unsigned depth, bool after_dash, struct fo_buf *out)
{
	int rc;
	if (v->kind == FO_YSCALAR || is_empty_collection(v)) {
		rc = fo_buf_addch(out, ' ');
		if (!rc)
			rc = v->kind == FO_YSCALAR ? emit_scalar(v, out) : fo_buf_adds(out, v->kind == FO_YMAP ? "{}" : "[]");
		return rc ? rc : fo_buf_addch(out, '\n');
	}
	if (after_dash && v->kind == FO_YMAP) {
		/* "- key: value" with the rest of the map aligned under the key. */
		rc = fo_buf_addch(out, ' ');
		return rc ? rc : emit_node(v, -(indent + 2), depth + 1, out);
	}
	rc = fo_buf_addch(out, '\n');
	return rc ? rc : emit_node(v, indent + 2, depth + 1, out);
}

/* indent < 0 means: the first line is already indented to -indent. */
static int emit_node(const struct fo_ynode *n, int indent, unsigned depth, struct fo_buf *out)
{
	int rc = 0;
	bool first_inline = indent < 0;
	if (first_inline)
		indent = -indent;
	if (depth > DEFAULT_MAX_DEPTH * 2)
		return FO_ETOOBIG;
	if (n->kind == FO_YSCALAR || is_empty_collection(n)) {
		if (!first_inline)
			rc = indent_to(out, indent);
		if (!rc)
			rc = n->kind == FO_YSCALAR ? emit_scalar(n, out) : fo_buf_adds(out, n->kind == FO_YMAP ? "{}" : "[]");
		return rc ? rc : fo_buf_addch(out, '\n');
	}
	if (n->kind == FO_YMAP) {
		for (size_t i = 0; i < n->npairs && !rc; i++) {
			if (!(first_inline && i == 0))
				rc = indent_to(out, indent);
			if (!rc)
				rc = emit_scalar(n->pairs[i].key, out);
			if (!rc)
				rc = fo_buf_addch(out, ':');
			if (!rc)
				rc = emit_value(n->pairs[i].value, indent, depth, false, out);
		}
		return rc;
	}
	for (size_t i = 0; i < n->nitems && !rc; i++) {
		if (!(first_inline && i == 0))
			rc = indent_to(out, indent);
		if (!rc)
			rc = fo_buf_addch(out, '-');
		if (!rc)
			rc = emit_value(n->items[i], indent, depth, true, out);
	}
	return rc;
}

int fo_yaml_emit(const struct fo_ynode *n, int indent, struct fo_buf *out)
{
	return emit_node(n, indent, 0, out);
}

/* True when s is a number as JSON writes them (no '+', no leading '.', no "1."). */
static bool is_json_number(const char *s)
{
	const char *p = s + (*s == '-');
	if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static int emit_json(const struct fo_ynode *n, unsigned depth, struct fo_buf *out)
{
	int rc = 0;
	if (depth > DEFAULT_MAX_DEPTH * 2)
		return FO_ETOOBIG;
	switch (n->kind) {
	case FO_YMAP:
		rc = fo_buf_addch(out, '{');
		for (size_t i = 0; i < n->npairs && !rc; i++) {
			if (i)
				rc = fo_buf_addch(out, ',');
			if (!rc)
				rc = fo_buf_add_json_str(out, n->pairs[i].key->str, n->pairs[i].key->len);
			if (!rc)
				rc = fo_buf_addch(out, ':');
			if (!rc)
				rc = emit_json(n->pairs[i].value, depth + 1, out);
		}
		return rc ? rc : fo_buf_addch(out, '}');
	case FO_YSEQ:
		rc = fo_buf_addch(out, '[');
		for (size_t i = 0; i < n->nitems && !rc; i++) {
			if (i)
				rc = fo_buf_addch(out, ',');
			if (!rc)
				rc = emit_json(n->items[i], depth + 1, out);
		}
		return rc ? rc : fo_buf_addch(out, ']');
	case FO_YSCALAR:
		break;
	}
	switch (n->stype) {
	case FO_YS_NULL:
		return fo_buf_adds(out, "null");
	case FO_YS_BOOL:
		return fo_buf_adds(out, n->b ? "true" : "false");
	case FO_YS_INT:
		return fo_buf_addf(out, "%lld", (long long)n->i);
	case FO_YS_FLOAT:
		if (is_json_number(n->str))
			return fo_buf_add(out, n->str, n->len);
		if (isfinite(n->d))
			return fo_buf_addf(out, "%.17g", n->d);
		break;
	case FO_YS_STR:
		break;
	}
	return fo_buf_add_json_str(out, n->str, n->len);
}

int fo_yaml_emit_json(const struct fo_ynode *n, struct fo_buf *out)
{
	return emit_json(n, 0, out);
}
