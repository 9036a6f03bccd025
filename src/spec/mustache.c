/*
 * mustache.c: the Mustache engine of mustache.h.
 *
 * A template is parsed once into a flat array of nodes, a container's children following
 * it up to its `end` index. Parsing takes four steps: tokenize (tags and text, the text cut
 * after each newline, delimiters applied as they change); match open and close tags;
 * decide which tags stand alone on their line (the blanks before them and the newline
 * after them are dropped); build the nodes. Each kept line of the template starts with a
 * LINE node holding the line's leading blanks, so rendering can add indentation (a
 * standalone partial is indented line by line) or remove it (an inheritance block is
 * reindented from where it was written to where it is used).
 *
 * Standalone tags follow the spec, with the inheritance module's extensions: directly
 * inside a parent ({{<p}}..{{/p}}), whatever is not a block is ignored, so a block opening
 * tag needs only a clear right side, a block closing tag only a clear left side, and a
 * parent pair stands alone when its opening tag clears on the left and its closing tag on
 * the right.
 *
 * Rendering walks the nodes with a context stack (the caller's scopes, then section
 * values), a frame (the template being rendered and the indentation to add and remove at
 * each line start) and an environment of block arguments (one entry per parent tag being
 * rendered; the outermost argument for a name wins). Partials are loaded through the
 * caller's callback once per render and cached.
 */
#include "util/common.h"

#include "spec/mustache.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

#define NONE SIZE_MAX
#define DEFAULT_DEPTH 64
#define MOST_DEPTH 1000
#define DEFAULT_STEPS 10000000

/* ---- parsing ---- */

enum ttype { T_TEXT, T_VAR, T_SECTION, T_INVERTED, T_CLOSE, T_COMMENT, T_PARTIAL, T_DELIM, T_PARENT, T_BLOCK };

struct tok {
	enum ttype type;
	bool raw;        /* T_VAR: not escaped */
	bool standalone; /* alone on its line: the blanks and newline around it are dropped */
	bool strip;      /* T_TEXT: dropped (blanks around a standalone tag) */
	size_t off, end; /* the bytes of the tag or text */
	const char *name; /* tags: the content, trimmed (a close tag's name; "*x" for dynamic) */
	size_t nname;
	int line, col;   /* where it starts */
	size_t up;       /* the innermost open container around it, or NONE */
	size_t match;    /* containers: their close tag; close tags: their open tag */
	const char *ind; /* T_PARTIAL, T_PARENT, T_BLOCK: indentation, see struct node */
	size_t nind;
};

enum ntype { N_TEXT, N_LINE, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL, N_PARENT, N_BLOCK };

struct node {
	enum ntype type;
	bool raw;        /* N_VAR: not escaped */
	bool dynamic;    /* N_PARTIAL, N_PARENT: the name is looked up in the context */
	bool standalone; /* N_PARTIAL, N_PARENT, N_BLOCK: the opening tag stands alone */
	const char *s;   /* N_TEXT: the text; N_LINE: the line's leading blanks; tags: the name */
	size_t n;
	/*
	 * N_PARTIAL, N_PARENT (standalone): the blanks before the tag, added to each line.
	 * N_BLOCK: its indentation: standalone, the leading blanks of the line after the
	 * opening tag (removed from each line of the block's content when the block is an
	 * argument, added when the block is replaced); otherwise the blanks before the tag.
	 */
	const char *ind;
	size_t nind;
	size_t end;      /* containers: index one past the last child */
	size_t off;      /* N_TEXT, N_LINE: offset in the source (to merge source map runs) */
	int line, col;   /* where the text or tag starts */
};

/* A parsed template: the main one or a partial. */
struct tmpl {
	char *key;        /* owned partial name; NULL for the main template */
	bool found;       /* partials: the callback found it */
	const char *src;  /* borrowed */
	size_t len;
	const char *file; /* borrowed; for positions */
	uint32_t fid;     /* index of file in the source map */
	struct node *nodes;
	size_t n, cap;
};

struct parser {
	const char *src;
	size_t len;
	const char *file;  /* for error positions (never NULL) */
	int line0;         /* line number of the first line */
	struct tok *v;
	size_t n, cap;
	size_t coff;       /* position cursor: offset, line, column */
	int cline, ccol;
	unsigned max_depth;
	struct fo_err *err;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Moves the position cursor to off (forward only); columns count UTF-8 characters. */
static void cursor_to(struct parser *p, size_t off)
{
	for (; p->coff < off; p->coff++) {
		unsigned char c = (unsigned char)p->src[p->coff];
		if (c == '\n') {
			p->cline++;
			p->ccol = 1;
		} else if ((c & 0xC0) != 0x80) {
			p->ccol++;
		}
	}
}

/* Writes a short quote of the n bytes at s into out: up to the line end, at most 40 bytes. */
static void quote(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	while (k < n && s[k] != '\n' && s[k] != '\r' && k < 40)
		k++;
	snprintf(out, cap, "%.*s%s", (int)k, s, k < n && s[k] != '\n' && s[k] != '\r' ? "..." : "");
}

static int perr(struct parser *p, int line, int col, const char *fmt, ...) FO_PRINTF(4, 5);
static int perr(struct parser *p, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct fo_pos pos = {p->file, line, col};
	return fo_err_setpos(p->err, FO_ETEMPLATE, &pos, "%s", msg);
}

static struct tok *add_tok(struct parser *p, enum ttype type, size_t off, size_t end)
{
	FO_GROW(p->v, p->cap, p->n + 1);
	struct tok *t = &p->v[p->n++];
	*t = (struct tok){.type = type, .off = off, .end = end, .up = NONE, .match = NONE};
	cursor_to(p, off);
	t->line = p->line0 + p->cline - 1;
	t->col = p->ccol;
	return t;
}

/* Adds the text from..to, cut after each newline. */
static void add_text(struct parser *p, size_t from, size_t to)
{
	while (from < to) {
		const char *nl = memchr(p->src + from, '\n', to - from);
		size_t end = nl ? (size_t)(nl - p->src) + 1 : to;
		add_tok(p, T_TEXT, from, end);
		from = end;
	}
}

/* Finds c followed by the n bytes of tag at or after from; returns its offset or NONE. */
static size_t find_close(const char *s, size_t from, size_t len, char c, const char *tag, size_t n)
{
	while (from < len) {
		const char *hit = c ? memchr(s + from, c, len - from) : memmem(s + from, len - from, tag, n);
		if (!hit)
			return NONE;
		size_t at = (size_t)(hit - s);
		if (!c)
			return at;
		if (len - at - 1 >= n && memcmp(s + at + 1, tag, n) == 0)
			return at;
		from = at + 1;
	}
	return NONE;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

/* Reads a set-delimiter tag's content "<% %>" into the new delimiters. */
static bool read_delims(const char *s, size_t n, const char **o, size_t *no, const char **c, size_t *nc)
{
	trim(&s, &n);
	size_t i = 0;
	while (i < n && !is_space(s[i]))
		i++;
	*o = s;
	*no = i;
	*c = s + i;
	*nc = n - i;
	trim(c, nc);
	if (!*no || !*nc || memchr(*o, '=', *no) || memchr(*c, '=', *nc))
		return false;
	for (i = 0; i < *nc; i++)
		if (is_space((*c)[i]))
			return false;
	return true;
}

static int tokenize(struct parser *p)
{
	const char *s = p->src;
	size_t len = p->len;
	const char *otag = "{{", *ctag = "}}";
	size_t olen = 2, clen = 2;
	size_t pos = 0;
	while (pos < len) {
		const char *hit = memmem(s + pos, len - pos, otag, olen);
		size_t at = hit ? (size_t)(hit - s) : len;
		add_text(p, pos, at);
		if (!hit)
			break;
		size_t q = at + olen;
		char kind = q < len ? s[q] : '\0';
		enum ttype type = T_VAR;
		char closer = '\0';
		bool raw = false;
		switch (kind) {
		case '{': raw = true, closer = '}'; break;
		case '&': raw = true; break;
		case '#': type = T_SECTION; break;
		case '^': type = T_INVERTED; break;
		case '/': type = T_CLOSE; break;
		case '!': type = T_COMMENT; break;
		case '>': type = T_PARTIAL; break;
		case '<': type = T_PARENT; break;
		case '$': type = T_BLOCK; break;
		case '=': type = T_DELIM, closer = '='; break;
		default: kind = '\0'; break;
		}
		size_t cstart = kind ? q + 1 : q;
		size_t cend = find_close(s, cstart, len, closer, ctag, clen);
		struct tok *t = add_tok(p, type, at, 0);
		if (cend == NONE) {
			char qs[64];
			quote(s + at, len - at, qs, sizeof(qs));
			return perr(p, t->line, t->col, "unterminated tag '%s'", qs);
		}
		t->end = cend + (closer ? 1 : 0) + clen;
		t->raw = raw;
		t->name = s + cstart;
		t->nname = cend - cstart;
		trim(&t->name, &t->nname);
		pos = t->end;
		if (type == T_DELIM) {
			if (!read_delims(t->name, t->nname, &otag, &olen, &ctag, &clen)) {
				char qs[64];
				quote(s + at, t->end - at, qs, sizeof(qs));
				return perr(p, t->line, t->col,
					    "bad delimiter change '%s': expected two delimiters without spaces or '='", qs);
			}
		} else if (type != T_COMMENT && (!t->nname || ((type == T_PARTIAL || type == T_PARENT) &&
								t->nname == 1 && t->name[0] == '*'))) {
			char qs[64];
			quote(s + at, t->end - at, qs, sizeof(qs));
			return perr(p, t->line, t->col, "empty tag '%s'", qs);
		}
	}
	return 0;
}

static const char *kind_word(enum ttype type)
{
	switch (type) {
	case T_INVERTED: return "inverted section";
	case T_PARENT: return "parent";
	case T_BLOCK: return "block";
	default: return "section";
	}
}

static bool is_open(enum ttype type)
{
	return type == T_SECTION || type == T_INVERTED || type == T_PARENT || type == T_BLOCK;
}

/* Matches open and close tags; sets up and match. */
static int match_tags(struct parser *p)
{
	size_t *stack = NULL, depth = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < p->n && !rc; i++) {
		struct tok *t = &p->v[i];
		t->up = depth ? stack[depth - 1] : NONE;
		if (is_open(t->type)) {
			if (depth >= p->max_depth) {
				rc = perr(p, t->line, t->col, "sections nested deeper than %u levels", p->max_depth);
				break;
			}
			FO_GROW(stack, cap, depth + 1);
			stack[depth++] = i;
		} else if (t->type == T_CLOSE) {
			if (!depth) {
				rc = perr(p, t->line, t->col, "closing tag '%.*s' without an open section", (int)t->nname,
					  t->name);
				break;
			}
			struct tok *o = &p->v[stack[depth - 1]];
			if (o->nname != t->nname || memcmp(o->name, t->name, t->nname) != 0) {
				rc = perr(p, t->line, t->col, "closing tag '%.*s' does not match open %s '%.*s' (line %d)",
					  (int)t->nname, t->name, kind_word(o->type), (int)o->nname, o->name, o->line);
				break;
			}
			o->match = i;
			t->match = stack[--depth];
			t->up = o->up;
		}
	}
	if (!rc && depth) {
		struct tok *o = &p->v[stack[depth - 1]];
		rc = perr(p, o->line, o->col, "unclosed %s '%.*s'", kind_word(o->type), (int)o->nname, o->name);
	}
	fo_free(stack);
	return rc;
}

/* True for text holding only blanks, with no newline. */
static bool blank_text(const struct parser *p, const struct tok *t)
{
	if (t->type != T_TEXT)
		return false;
	for (size_t i = t->off; i < t->end; i++)
		if (!is_blank(p->src[i]))
			return false;
	return true;
}

static bool ends_line(const struct parser *p, const struct tok *t)
{
	return t->type == T_TEXT && p->src[t->end - 1] == '\n';
}

/* True if tag i has only blanks between the start of its line and itself. */
static bool clear_left(const struct parser *p, size_t i)
{
	if (i == 0 || ends_line(p, &p->v[i - 1]))
		return true;
	return blank_text(p, &p->v[i - 1]) && (i == 1 || ends_line(p, &p->v[i - 2]));
}

/* True if tag i has only blanks between itself and the end of its line. */
static bool clear_right(const struct parser *p, size_t i)
{
	if (i + 1 >= p->n)
		return true;
	const struct tok *t = &p->v[i + 1];
	if (t->type != T_TEXT)
		return false;
	size_t k = t->off;
	while (k < t->end && is_blank(p->src[k]))
		k++;
	if (k < t->end && p->src[k] == '\r' && k + 1 < t->end)
		k++;
	if (k < t->end)
		return p->src[k] == '\n';
	return i + 2 >= p->n; /* blanks up to the end of the template */
}

/* True if token i sits directly inside a parent tag pair (where only blocks matter). */
static bool in_parent(const struct parser *p, size_t i)
{
	size_t up = p->v[i].up;
	return up != NONE && p->v[up].type == T_PARENT;
}

/* The leading blanks of the line after tag i's line (for a block's indentation). */
static void next_line_blanks(const struct parser *p, size_t i, const char **s, size_t *n)
{
	size_t k = i + 1 < p->n ? p->v[i + 1].end : p->len;
	*s = p->src + k;
	*n = 0;
	while (k + *n < p->len && is_blank(p->src[k + *n]))
		(*n)++;
}

/* Drops the blanks before tag i (they become its indentation). */
static void strip_left(struct parser *p, size_t i)
{
	if (i > 0 && blank_text(p, &p->v[i - 1])) {
		struct tok *b = &p->v[i - 1];
		b->strip = true;
		p->v[i].ind = p->src + b->off;
		p->v[i].nind = b->end - b->off;
	}
}

static void strip_right(struct parser *p, size_t i)
{
	if (i + 1 < p->n && p->v[i + 1].type == T_TEXT)
		p->v[i + 1].strip = true;
}

/* Decides which tags stand alone, then drops their blanks and newlines. */
static void find_standalone(struct parser *p)
{
	/* Decide on the untouched tokens first. */
	for (size_t i = 0; i < p->n; i++) {
		struct tok *t = &p->v[i];
		switch (t->type) {
		case T_TEXT:
		case T_VAR:
			break;
		case T_PARENT:
			t->standalone = clear_left(p, i) && clear_right(p, t->match);
			break;
		case T_BLOCK:
			t->standalone = clear_right(p, i) && (in_parent(p, i) || clear_left(p, i));
			break;
		case T_CLOSE:
			if (p->v[t->match].type == T_PARENT)
				t->standalone = p->v[t->match].standalone;
			else if (p->v[t->match].type == T_BLOCK && in_parent(p, t->match))
				t->standalone = clear_left(p, i);
			else
				t->standalone = clear_left(p, i) && clear_right(p, i);
			break;
		default:
			t->standalone = clear_left(p, i) && clear_right(p, i);
			break;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		struct tok *t = &p->v[i];
		if (t->type == T_BLOCK) {
			/* Its indentation: intrinsic when standalone, else the blanks before it. */
			if (t->standalone)
				next_line_blanks(p, i, &t->ind, &t->nind);
			else if (clear_left(p, i) && i > 0 && blank_text(p, &p->v[i - 1]))
				t->ind = p->src + p->v[i - 1].off, t->nind = p->v[i - 1].end - p->v[i - 1].off;
		}
		if (!t->standalone)
			continue;
		bool left = true, right = true;
		if (t->type == T_PARENT)
			right = false;
		else if (t->type == T_BLOCK && in_parent(p, i))
			left = false;
		else if (t->type == T_CLOSE && p->v[t->match].type == T_PARENT)
			left = false;
		else if (t->type == T_CLOSE && p->v[t->match].type == T_BLOCK && in_parent(p, t->match))
			right = false;
		if (left && t->type != T_BLOCK)
			strip_left(p, i);
		else if (left && i > 0 && blank_text(p, &p->v[i - 1]))
			p->v[i - 1].strip = true;
		if (right)
			strip_right(p, i);
	}
}

static struct node *add_node(struct tmpl *t, enum ntype type, const struct tok *k)
{
	FO_GROW(t->nodes, t->cap, t->n + 1);
	struct node *nd = &t->nodes[t->n++];
	*nd = (struct node){.type = type, .end = NONE, .line = k->line, .col = k->col};
	return nd;
}

static const enum ntype tag_node[] = {
	[T_VAR] = N_VAR, [T_SECTION] = N_SECTION, [T_INVERTED] = N_INVERTED,
	[T_PARTIAL] = N_PARTIAL, [T_PARENT] = N_PARENT, [T_BLOCK] = N_BLOCK,
};

/* Builds t's nodes from the tokens. */
static void build(struct parser *p, struct tmpl *t)
{
	size_t *stack = NULL, depth = 0, cap = 0;
	bool line_start = true;
	for (size_t i = 0; i < p->n; i++) {
		const struct tok *k = &p->v[i];
		if (line_start) {
			line_start = false;
			/* A line whose blanks or whose first tag were dropped has no LINE node. */
			bool dropped = k->strip || (k->type != T_TEXT && k->standalone &&
						   !(k->type == T_BLOCK && in_parent(p, i)) &&
						   !(k->type == T_CLOSE && p->v[k->match].type == T_PARENT));
			if (!dropped) {
				struct node *nd = add_node(t, N_LINE, k);
				nd->s = p->src + k->off;
				nd->off = k->off;
				if (k->type == T_TEXT)
					while (nd->n < k->end - k->off && is_blank(nd->s[nd->n]))
						nd->n++;
			}
		}
		if (k->type == T_TEXT) {
			line_start = ends_line(p, k);
			if (k->strip)
				continue;
			size_t skip = 0;
			if (t->n && t->nodes[t->n - 1].type == N_LINE && t->nodes[t->n - 1].off == k->off)
				skip = t->nodes[t->n - 1].n;
			if (skip == k->end - k->off)
				continue;
			struct node *nd = add_node(t, N_TEXT, k);
			nd->s = p->src + k->off + skip;
			nd->n = k->end - k->off - skip;
			nd->off = k->off + skip;
			nd->col += (int)skip;
			continue;
		}
		if (k->type == T_COMMENT || k->type == T_DELIM)
			continue;
		if (k->type == T_CLOSE) {
			t->nodes[stack[--depth]].end = t->n;
			continue;
		}
		struct node *nd = add_node(t, tag_node[k->type], k);
		nd->raw = k->raw;
		nd->standalone = k->standalone;
		nd->s = k->name;
		nd->n = k->nname;
		nd->ind = k->ind;
		nd->nind = k->nind;
		if ((k->type == T_PARTIAL || k->type == T_PARENT) && k->nname && k->name[0] == '*') {
			nd->dynamic = true;
			nd->s++;
			nd->n--;
			trim(&nd->s, &nd->n);
		}
		if (is_open(k->type)) {
			FO_GROW(stack, cap, depth + 1);
			stack[depth++] = t->n - 1;
		}
	}
	fo_free(stack);
}

/* Parses t->src into t->nodes. Returns 0 or FO_ETEMPLATE (details in err). */
static int parse(struct tmpl *t, int line0, unsigned max_depth, struct fo_err *err)
{
	struct parser p = {
		.src = t->src, .len = t->len, .file = t->file ? t->file : "<template>",
		.line0 = line0, .cline = 1, .ccol = 1, .max_depth = max_depth, .err = err,
	};
	int rc = tokenize(&p);
	if (!rc)
		rc = match_tags(&p);
	if (!rc) {
		find_standalone(&p);
		build(&p, t);
	}
	fo_free(p.v);
	return rc;
}

/* ---- source map ---- */

void fo_srcmap_init(struct fo_srcmap *m)
{
	*m = (struct fo_srcmap){0};
}

void fo_srcmap_release(struct fo_srcmap *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		fo_free(m->files[i]);
	fo_free(m->files);
	fo_free(m->segs);
	fo_srcmap_init(m);
}

static uint32_t map_file(struct fo_srcmap *m, const char *file)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (file ? m->files[i] && strcmp(m->files[i], file) == 0 : !m->files[i])
			return (uint32_t)i;
	FO_GROW(m->files, m->fcap, m->nfiles + 1);
	m->files[m->nfiles] = file ? fo_strdup(file) : NULL;
	return (uint32_t)m->nfiles++;
}

/* Byte offset of line:col in text (clamped to the text). */
static size_t text_offset(const char *text, size_t len, int line, int col)
{
	size_t off = 0;
	for (int l = 1; l < line && off < len; off++)
		if (text[off] == '\n')
			l++;
	for (int c = 1; off < len && text[off] != '\n'; off++) {
		if (((unsigned char)text[off] & 0xC0) == 0x80)
			continue;
		if (c++ == col)
			break;
	}
	return off;
}

void fo_srcmap_pos(const struct fo_srcmap *m, const char *out_text, size_t out_len, int line, int col,
		   struct fo_pos *pos)
{
	*pos = (struct fo_pos){NULL, line, col};
	if (!m->nsegs)
		return;
	size_t off = text_offset(out_text, out_len, line, col);
	size_t lo = 0, hi = m->nsegs; /* find the last segment with out <= off */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->segs[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	const struct fo_srcmap_seg *s = &m->segs[lo];
	pos->file = s->file < m->nfiles ? m->files[s->file] : NULL;
	pos->line = s->line;
	pos->col = s->col;
	if (!s->literal)
		return;
	for (size_t i = s->out; i < off && i < out_len; i++) {
		unsigned char c = (unsigned char)out_text[i];
		if (c == '\n') {
			pos->line++;
			pos->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			pos->col++;
		}
	}
}

void fo_srcmap_posmap(void *ctx, int line, int col, struct fo_pos *out)
{
	const struct fo_srcmap_text *t = ctx;
	fo_srcmap_pos(t->map, t->text, t->len, line, col, out);
}

/* ---- rendering ---- */

/* One parent tag being rendered: its block children are the arguments. */
struct env {
	const struct env *outer;
	const struct tmpl *t; /* the template holding the parent tag */
	size_t node;          /* the N_PARENT node */
};

/* What is being rendered: a template (or a block's content) and its line indentation. */
struct frame {
	const struct tmpl *t;
	const char *indent;   /* added at each line start */
	size_t nindent;
	const char *dedent;   /* removed from each line's own leading blanks */
	size_t ndedent;
	bool block;           /* a block's content: indent only lines that start an output line */
	const struct env *env;
};

struct render {
	const struct fo_mustache_opts *o;
	struct fo_buf *out;
	size_t base;          /* out->len on entry */
	struct fo_mustache_missing *miss;
	struct fo_err *err;
	unsigned max_depth;
	size_t steps;         /* nodes visited so far ... */
	size_t max_steps;     /* ... and at most */
	const struct fo_ynode **stack; /* the context stack, innermost last */
	size_t nstack, scap;
	struct tmpl **cache;  /* partials loaded so far */
	size_t ncache, ccap;
	struct fo_buf scratch;
	struct fo_srcmap *map;
	size_t map_src;       /* where the last literal run ended, in its source ... */
	size_t map_out;       /* ... and in the output (NONE: not a literal run) */
	uint32_t map_fid;
};

static int too_big(struct render *r)
{
	return fo_err_set(r->err, FO_ETOOBIG, "rendered template is larger than %zu bytes", r->out->max);
}

static int emit(struct render *r, const char *s, size_t n)
{
	return fo_buf_add(r->out, s, n) ? too_big(r) : 0;
}

static void map_add(struct render *r, uint32_t fid, bool literal, int line, int col)
{
	struct fo_srcmap *m = r->map;
	size_t out = r->out->len - r->base;
	if (m->nsegs && m->segs[m->nsegs - 1].out == out)
		m->nsegs--;
	FO_GROW(m->segs, m->cap, m->nsegs + 1);
	m->segs[m->nsegs++] = (struct fo_srcmap_seg){out, fid, literal, line, col};
}

/* Emits n bytes of template text from source offset off, at line:col of frame f's file. */
static int emit_literal(struct render *r, const struct frame *f, const char *s, size_t n, size_t off, int line,
			int col)
{
	if (!n)
		return 0;
	if (r->map) {
		size_t out = r->out->len - r->base;
		if (r->map_out != out || r->map_src != off || r->map_fid != f->t->fid)
			map_add(r, f->t->fid, true, line, col);
		r->map_out = out + n;
		r->map_src = off + n;
		r->map_fid = f->t->fid;
	}
	return emit(r, s, n);
}

/* Emits bytes that all map to line:col (values, indentation). */
static int emit_value(struct render *r, const struct frame *f, const char *s, size_t n, bool escape, int line,
		      int col)
{
	if (!n)
		return 0;
	if (r->map) {
		map_add(r, f->t->fid, false, line, col);
		r->map_out = NONE;
	}
	if (!escape)
		return emit(r, s, n);
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: continue;
		}
		if (emit(r, s + from, i - from) || emit(r, rep, strlen(rep)))
			return FO_ETOOBIG;
		from = i + 1;
	}
	return emit(r, s + from, n - from);
}

static void add_name(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i]) == len && memcmp((*v)[i], s, len) == 0)
			return;
	FO_GROW(*v, *cap, *n + 1);
	(*v)[(*n)++] = fo_strndup(s, len);
}

static void missing_name(struct render *r, const char *s, size_t n)
{
	if (r->miss)
		add_name(&r->miss->names, &r->miss->n, &r->miss->cap, s, n);
}

void fo_mustache_missing_release(struct fo_mustache_missing *m)
{
	for (size_t i = 0; i < m->n; i++)
		fo_free(m->names[i]);
	for (size_t i = 0; i < m->npartials; i++)
		fo_free(m->partials[i]);
	fo_free(m->names);
	fo_free(m->partials);
	*m = (struct fo_mustache_missing){0};
}

static const struct fo_ynode *map_get(const struct fo_ynode *map, const char *key, size_t n)
{
	if (!map || map->kind != FO_YMAP)
		return NULL;
	for (size_t i = 0; i < map->npairs; i++) {
		const struct fo_ynode *k = map->pairs[i].key;
		if (k->len == n && memcmp(k->str, key, n) == 0)
			return map->pairs[i].value;
	}
	return NULL;
}

/* Resolves a (dotted) name through the context stack; NULL when it resolves to nothing. */
static const struct fo_ynode *lookup(const struct render *r, const char *name, size_t n)
{
	if (n == 1 && name[0] == '.')
		return r->nstack ? r->stack[r->nstack - 1] : NULL;
	const char *dot = memchr(name, '.', n);
	size_t first = dot ? (size_t)(dot - name) : n;
	const struct fo_ynode *v = NULL;
	for (size_t i = r->nstack; i-- > 0 && !v;)
		v = map_get(r->stack[i], name, first);
	while (v && dot) {
		name = dot + 1;
		n -= first + 1;
		dot = memchr(name, '.', n);
		first = dot ? (size_t)(dot - name) : n;
		v = map_get(v, name, first);
	}
	return v;
}

static bool truthy(const struct fo_ynode *v)
{
	switch (v->kind) {
	case FO_YSEQ:
		return v->nitems > 0;
	case FO_YMAP:
		return true;
	case FO_YSCALAR:
		break;
	}
	if (v->stype == FO_YS_NULL || (v->stype == FO_YS_BOOL && !v->b))
		return false;
	return v->len > 0;
}

static void push(struct render *r, const struct fo_ynode *v)
{
	FO_GROW(r->stack, r->scap, r->nstack + 1);
	r->stack[r->nstack++] = v;
}

static int interpolate(struct render *r, const struct frame *f, const struct node *nd, const struct fo_ynode *v)
{
	const char *s;
	size_t n;
	if (v->kind == FO_YSCALAR) {
		if (v->stype == FO_YS_NULL)
			return 0;
		s = v->str;
		n = v->len;
	} else {
		fo_buf_clear(&r->scratch);
		if (fo_yaml_emit_json(v, &r->scratch))
			return too_big(r);
		s = r->scratch.s;
		n = r->scratch.len;
	}
	return emit_value(r, f, s, n, r->o->escape_html && !nd->raw, nd->line, nd->col);
}

static int too_deep(struct render *r, const struct frame *f, const struct node *nd)
{
	struct fo_pos pos = {f->t->file ? f->t->file : "<template>", nd->line, nd->col};
	const char *what = nd->type == N_PARTIAL ? "partial" : nd->type == N_PARENT ? "parent"
			   : nd->type == N_BLOCK ? "block" : "section";
	return fo_err_setpos(r->err, FO_ETEMPLATE, &pos, "%s '%.*s' nested deeper than %u levels%s", what,
			     (int)nd->n, nd->s, r->max_depth,
			     nd->type == N_PARTIAL || nd->type == N_PARENT ? " (recursive partials?)" : "");
}

/* Finds or loads the partial name (n bytes); *out is NULL when it is missing. */
static int load(struct render *r, const struct frame *f, const struct node *nd, const char *name, size_t n,
		struct tmpl **out)
{
	*out = NULL;
	struct tmpl *t = NULL;
	for (size_t i = 0; i < r->ncache && !t; i++)
		if (strlen(r->cache[i]->key) == n && memcmp(r->cache[i]->key, name, n) == 0)
			t = r->cache[i];
	if (!t) {
		t = fo_calloc(1, sizeof(*t));
		t->key = fo_strndup(name, n);
		FO_GROW(r->cache, r->ccap, r->ncache + 1);
		r->cache[r->ncache++] = t;
		const char *text = NULL, *file = NULL;
		size_t len = 0;
		int rc = r->o->partial ? r->o->partial(r->o->partial_ctx, t->key, &text, &len, &file) : FO_ENOTFOUND;
		if (rc && rc != FO_ENOTFOUND) {
			struct fo_pos pos = {f->t->file ? f->t->file : "<template>", nd->line, nd->col};
			return fo_err_setpos(r->err, rc, &pos, "cannot load partial '%s': %s", t->key, fo_strerror(rc));
		}
		if (!rc) {
			t->found = true;
			t->src = text ? text : "";
			t->len = text ? len : 0;
			t->file = file ? file : t->key;
			if (r->map)
				t->fid = map_file(r->map, t->file);
			rc = parse(t, 1, r->max_depth, r->err);
			if (rc)
				return rc;
		}
	}
	if (!t->found && r->miss)
		add_name(&r->miss->partials, &r->miss->npartials, &r->miss->pcap, t->key, strlen(t->key));
	if (t->found)
		*out = t;
	return 0;
}

/* The name of a partial or parent tag: dynamic names are looked up. NULL: resolves to nothing. */
static const char *tag_name(struct render *r, const struct node *nd, size_t *n)
{
	*n = nd->n;
	if (!nd->dynamic)
		return nd->s;
	const struct fo_ynode *v = lookup(r, nd->s, nd->n);
	if (!v || v->kind != FO_YSCALAR || v->stype == FO_YS_NULL) {
		if (!v)
			missing_name(r, nd->s, nd->n);
		return NULL;
	}
	*n = v->len;
	return v->str;
}

/* Builds a new frame's indentation: f's, plus the blanks ind less f's dedent. Returns owned or NULL. */
static char *sub_indent(const struct frame *f, const char *ind, size_t nind, size_t *n)
{
	size_t k = 0;
	while (k < nind && k < f->ndedent && ind[k] == f->dedent[k])
		k++;
	*n = f->nindent + nind - k;
	if (!*n)
		return NULL;
	char *s = fo_malloc(*n);
	if (f->nindent)
		memcpy(s, f->indent, f->nindent);
	memcpy(s + f->nindent, ind + k, nind - k);
	return s;
}

static int render_nodes(struct render *r, const struct frame *f, size_t from, size_t to, unsigned depth);

/* Renders a partial or parent template t; standalone tags indent every line of it. */
static int render_partial(struct render *r, const struct frame *f, const struct node *nd, const struct tmpl *t,
			  const struct env *env, unsigned depth)
{
	struct frame sub = {.t = t, .env = env};
	char *ind = NULL;
	if (nd->standalone)
		ind = sub_indent(f, nd->ind, nd->nind, &sub.nindent);
	sub.indent = ind;
	int rc = render_nodes(r, &sub, 0, t->n, depth);
	fo_free(ind);
	return rc;
}

/* Finds the argument for block nd: the outermost parent tag passing one wins. */
static bool find_arg(const struct env *env, const struct node *nd, const struct env **where, size_t *arg)
{
	bool found = false;
	for (const struct env *e = env; e; e = e->outer) {
		const struct node *v = e->t->nodes;
		for (size_t i = e->node + 1; i < v[e->node].end; i = v[i].end != NONE ? v[i].end : i + 1) {
			if (v[i].type == N_BLOCK && v[i].n == nd->n && memcmp(v[i].s, nd->s, nd->n) == 0) {
				*where = e;
				*arg = i;
				found = true;
				break;
			}
		}
	}
	return found;
}

static int render_block(struct render *r, const struct frame *f, size_t i, unsigned depth)
{
	const struct node *nd = &f->t->nodes[i];
	const struct env *e;
	size_t a;
	if (!find_arg(f->env, nd, &e, &a))
		return render_nodes(r, f, i + 1, nd->end, depth);
	const struct node *arg = &e->t->nodes[a];
	struct frame sub = {.t = e->t, .block = true, .env = e->outer};
	if (arg->standalone) {
		sub.dedent = arg->ind;
		sub.ndedent = arg->nind;
	}
	char *ind = sub_indent(f, nd->ind, nd->nind, &sub.nindent);
	sub.indent = ind;
	int rc = render_nodes(r, &sub, a + 1, arg->end, depth);
	fo_free(ind);
	return rc;
}

static int render_line(struct render *r, const struct frame *f, const struct node *nd)
{
	int rc = 0;
	size_t out = r->out->len;
	if (f->nindent && (!f->block || out == r->base || r->out->s[out - 1] == '\n'))
		rc = emit_value(r, f, f->indent, f->nindent, false, nd->line, 1);
	size_t k = 0;
	while (k < nd->n && k < f->ndedent && nd->s[k] == f->dedent[k])
		k++;
	if (!rc)
		rc = emit_literal(r, f, nd->s + k, nd->n - k, nd->off + k, nd->line, nd->col + (int)k);
	return rc;
}

static int render_section(struct render *r, const struct frame *f, const struct node *nd, size_t i,
			  unsigned depth)
{
	const struct fo_ynode *v = lookup(r, nd->s, nd->n);
	if (!v)
		missing_name(r, nd->s, nd->n);
	bool yes = v && truthy(v);
	if (nd->type == N_INVERTED)
		return yes ? 0 : render_nodes(r, f, i + 1, nd->end, depth);
	if (!yes)
		return 0;
	size_t n = v->kind == FO_YSEQ ? v->nitems : 1;
	int rc = 0;
	for (size_t k = 0; k < n && !rc; k++) {
		push(r, v->kind == FO_YSEQ ? v->items[k] : v);
		rc = render_nodes(r, f, i + 1, nd->end, depth);
		r->nstack--;
	}
	return rc;
}

/* Renders nodes from..to of frame f's template at nesting depth. */
static int render_nodes(struct render *r, const struct frame *f, size_t from, size_t to, unsigned depth)
{
	const struct node *v = f->t->nodes;
	int rc = 0;
	for (size_t i = from; i < to && !rc; i = v[i].end != NONE ? v[i].end : i + 1) {
		const struct node *nd = &v[i];
		if (++r->steps > r->max_steps)
			return fo_err_set(r->err, FO_ETOOBIG,
					  "template rendering takes more than %zu steps (sections nested over long lists?)",
					  r->max_steps);
		if (nd->type == N_TEXT) {
			rc = emit_literal(r, f, nd->s, nd->n, nd->off, nd->line, nd->col);
			continue;
		}
		if (nd->type == N_LINE) {
			rc = render_line(r, f, nd);
			continue;
		}
		if (nd->type == N_VAR) {
			const struct fo_ynode *val = lookup(r, nd->s, nd->n);
			if (!val)
				missing_name(r, nd->s, nd->n);
			else
				rc = interpolate(r, f, nd, val);
			continue;
		}
		if (depth >= r->max_depth)
			return too_deep(r, f, nd);
		if (nd->type == N_SECTION || nd->type == N_INVERTED) {
			rc = render_section(r, f, nd, i, depth + 1);
		} else if (nd->type == N_BLOCK) {
			rc = render_block(r, f, i, depth + 1);
		} else {
			size_t n;
			const char *name = tag_name(r, nd, &n);
			struct tmpl *t = NULL;
			if (name)
				rc = load(r, f, nd, name, n, &t);
			if (rc || !t)
				continue;
			if (nd->type == N_PARENT) {
				struct env e = {f->env, f->t, i};
				rc = render_partial(r, f, nd, t, &e, depth + 1);
			} else {
				rc = render_partial(r, f, nd, t, f->env, depth + 1);
			}
		}
	}
	return rc;
}

int fo_mustache_render(const char *tmpl, size_t len, const struct fo_ynode *const *scopes, size_t nscopes,
		       const struct fo_mustache_opts *opts, struct fo_buf *out, struct fo_mustache_missing *missing,
		       struct fo_err *err)
{
	static const struct fo_mustache_opts none;
	struct render r = {
		.o = opts ? opts : &none, .out = out, .base = out->len, .miss = missing, .err = err,
		.map_out = NONE, .scratch = FO_BUF_INIT,
	};
	r.max_depth = r.o->max_depth ? r.o->max_depth : DEFAULT_DEPTH;
	if (r.max_depth > MOST_DEPTH)
		r.max_depth = MOST_DEPTH;
	r.max_steps = r.o->max_steps ? r.o->max_steps : DEFAULT_STEPS;
	r.scratch.max = out->max;
	r.map = r.o->map;
	if (r.map)
		fo_srcmap_release(r.map);
	struct tmpl main = {.src = tmpl ? tmpl : "", .len = tmpl ? len : 0, .file = r.o->file, .found = true};
	if (r.map)
		main.fid = map_file(r.map, main.file);
	for (size_t i = 0; i < nscopes; i++)
		if (scopes[i])
			push(&r, scopes[i]);
	int rc = parse(&main, r.o->line > 0 ? r.o->line : 1, r.max_depth, err);
	if (!rc) {
		struct frame f = {.t = &main};
		rc = render_nodes(&r, &f, 0, main.n, 0);
	}
	if (rc) {
		fo_buf_truncate(out, r.base);
		if (r.map)
			fo_srcmap_release(r.map);
	}
	for (size_t i = 0; i < r.ncache; i++) {
		fo_free(r.cache[i]->key);
		fo_free(r.cache[i]->nodes);
		fo_free(r.cache[i]);
	}
	fo_free(r.cache);
	fo_free(main.nodes);
	fo_free(r.stack);
	fo_buf_release(&r.scratch);
	return rc;
}
