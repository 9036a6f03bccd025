/*
 * source.c: from a definition file to a checked model (definition.h): reading, splitting
 * the defaults document from the definition, template parameters, rendering with
 * Mustache, and parsing the result with positions that point back at what the user wrote.
 */
#include "util/common.h"

#include <ctype.h>
#include <libgen.h>

#include "spec/definition.h"
#include "spec/mustache.h"
#include "spec/validate.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/strutil.h"

#define DEFAULT_MAX_SIZE (8u << 20)      /* a definition file */
#define MAX_RENDERED (64u << 20)         /* a definition after templating */
#define MAX_PARTIAL_SIZE (8u << 20)

/* ---- parameters ---- */

/* Sets key in map to value, replacing an existing entry. */
static void map_set(struct fo_arena *a, struct fo_ynode *map, struct fo_ynode *key, struct fo_ynode *value)
{
	struct fo_ypair *p = fo_ymap_pair(map, key->str);
	if (p) {
		p->value = value;
		return;
	}
	fo_ymap_add(a, map, key, value);
}

int fo_params_add_arg(struct fo_arena *a, struct fo_ynode **params, const char *arg, struct fo_err *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return fo_err_set(err, FO_EINVAL, "'%s' is not a parameter; parameters are written name=value", arg);
	if (fo_has_space(arg, (size_t)(eq - arg)))
		return fo_err_set(err, FO_EINVAL, "parameter name '%.*s' must not contain white space", (int)(eq - arg),
				  arg);
	if (!*params)
		*params = fo_yaml_new(a, FO_YMAP, NULL);
	struct fo_pos pos = {.file = "(command line)"};
	struct fo_ynode *key = fo_yaml_scalar(a, "", &pos);
	key->str = fo_arena_strndup(a, arg, (size_t)(eq - arg));
	key->len = (size_t)(eq - arg);
	key->stype = FO_YS_STR;
	key->quoted = true;
	struct fo_ynode *value = NULL;
	if (eq[1] == '\'' || eq[1] == '"') {
		/* A quoted YAML scalar: let the YAML parser unquote it. */
		struct fo_diags d = FO_DIAGS_INIT;
		struct fo_yaml_opts o = {.file = pos.file};
		if (fo_yaml_load(a, eq + 1, strlen(eq + 1), &o, &value, &d) || value->kind != FO_YSCALAR) {
			fo_diags_release(&d);
			return fo_err_set(err, FO_EINVAL, "the value of parameter '%s' is not a valid quoted YAML string: %s",
					  key->str, eq + 1);
		}
		fo_diags_release(&d);
	} else {
		value = fo_yaml_scalar(a, eq + 1, &pos);
	}
	map_set(a, *params, key, value);
	return 0;
}

int fo_params_add_file(struct fo_arena *a, struct fo_ynode **params, const char *path, struct fo_diags *d)
{
	struct fo_buf b = FO_BUF_INIT;
	struct fo_err err = {0};
	int rc = fo_buf_read_file(&b, path, DEFAULT_MAX_SIZE, &err);
	if (rc) {
		fo_diags_add_err(d, &err);
		fo_buf_release(&b);
		return rc;
	}
	struct fo_yaml_opts o = {.file = fo_arena_strdup(a, path)};
	struct fo_ynode *n;
	rc = fo_yaml_load(a, b.s, b.len, &o, &n, d);
	fo_buf_release(&b);
	if (rc)
		return rc;
	if (fo_ynode_is_null(n))
		return 0;
	if (n->kind != FO_YMAP) {
		fo_diags_error(d, &n->pos, "a parameters file must hold a map of name: value, not %s", fo_ynode_describe(n));
		return FO_EDEFINITION;
	}
	if (!*params)
		*params = fo_yaml_new(a, FO_YMAP, &n->pos);
	for (size_t i = 0; i < n->npairs; i++)
		map_set(a, *params, n->pairs[i].key, n->pairs[i].value);
	return 0;
}

/* ---- documents ---- */

/* True when the line [s, e) is a document separator: '---' then only spaces or a comment. */
static bool is_separator(const char *s, const char *e)
{
	if (e - s < 3 || memcmp(s, "---", 3) != 0)
		return false;
	for (const char *p = s + 3; p < e; p++) {
		if (*p == '#')
			return p > s + 3 && (p[-1] == ' ' || p[-1] == '\t');
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	}
	return true;
}

size_t fo_def_split_documents(const char *text, size_t len, struct fo_def_doc *first, struct fo_def_doc *last)
{
	size_t count = 1;
	const char *start = text, *end = text + len;
	int line = 1, start_line = 1;
	*first = (struct fo_def_doc){.text = text, .len = len, .line = 1};
	const char *p = text;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (is_separator(p, le)) {
			if (count == 1) {
				first->len = (size_t)(p - start);
			}
			count++;
			start = nl ? nl + 1 : end;
			start_line = line + 1;
		}
		line++;
		p = nl ? nl + 1 : end;
	}
	*last = (struct fo_def_doc){.text = start, .len = (size_t)(end - start), .line = start_line};
	if (count == 1)
		*first = *last;
	return count;
}

char *fo_def_name_of(const char *path)
{
	char *copy = fo_strdup(path);
	char *base = fo_strdup(basename(copy));
	fo_free(copy);
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
		base[n - 5] = '\0';
	else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
		base[n - 4] = '\0';
	return base;
}

/* ---- templating ---- */

struct partial_ctx {
	struct fo_arena *a;
	const char *library;
	struct fo_diags *d;
};

/* Loads {{> name}} from the test library: NAME, NAME.yaml, NAME.yml or NAME.mustache. */
static int load_partial(void *ctx, const char *name, const char **text, size_t *len, const char **file)
{
	struct partial_ctx *pc = ctx;
	if (!pc->library || !*name || name[0] == '/' || strstr(name, ".."))
		return FO_ENOTFOUND;
	static const char *const exts[] = {"", ".yaml", ".yml", ".mustache"};
	for (size_t i = 0; i < FO_ARRAY_LEN(exts); i++) {
		char *path = fo_arena_printf(pc->a, "%s/%s%s", pc->library, name, exts[i]);
		struct fo_buf b = FO_BUF_INIT;
		struct fo_err err = {0};
		int rc = fo_buf_read_file(&b, path, MAX_PARTIAL_SIZE, &err);
		if (rc == FO_ENOENT || (rc == FO_EIO && strstr(err.msg, "directory"))) {
			fo_buf_release(&b);
			continue;
		}
		if (rc) {
			fo_buf_release(&b);
			fo_diags_add_err(pc->d, &err);
			return rc;
		}
		*text = fo_arena_strndup(pc->a, b.s, b.len);
		*len = b.len;
		*file = path;
		fo_buf_release(&b);
		return 0;
	}
	return FO_ENOTFOUND;
}

/* Where a missing tag is first used: a best-effort search of the template text. */
static struct fo_pos find_tag(const struct fo_def_doc *c, const char *file, const char *name)
{
	struct fo_pos pos = {.file = file, .line = c->line, .col = 1};
	size_t nlen = strlen(name);
	const char *end = c->text + c->len;
	int line = c->line;
	const char *bol = c->text;
	for (const char *p = c->text; p + 2 < end; p++) {
		if (*p == '\n') {
			line++;
			bol = p + 1;
			continue;
		}
		if (p[0] != '{' || p[1] != '{')
			continue;
		const char *q = p + 2;
		while (q < end && (*q == '{' || *q == '#' || *q == '^' || *q == '&' || *q == ' '))
			q++;
		if ((size_t)(end - q) >= nlen && memcmp(q, name, nlen) == 0 &&
		    (q + nlen == end || q[nlen] == '}' || q[nlen] == ' ')) {
			pos.line = line;
			pos.col = (int)(p - bol) + 1;
			return pos;
		}
	}
	return pos;
}

/* Maps rendered positions back to the user's files; the names are kept in the definition's
 * arena, since the source map (which owns its copies) is released after loading. */
struct posmap_ctx {
	struct fo_srcmap_text st;
	struct fo_arena *a;
	const char *file;      /* the definition's own name */
	const char *last_in;   /* the last other name seen, and its arena copy */
	const char *last_out;
};

static void map_position(void *ctx, int line, int col, struct fo_pos *out)
{
	struct posmap_ctx *pm = ctx;
	fo_srcmap_posmap(&pm->st, line, col, out);
	if (!out->file || strcmp(out->file, pm->file) == 0) {
		out->file = pm->file;
	} else if (pm->last_in && strcmp(out->file, pm->last_in) == 0) {
		out->file = pm->last_out;
	} else {
		pm->last_out = fo_arena_strdup(pm->a, out->file);
		pm->last_in = pm->last_out;
		out->file = pm->last_out;
	}
}

static void names_list(struct fo_buf *b, char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_buf_addf(b, "%s%s", i ? ", " : "", names[i]);
}

int fo_def_load_text(const char *name, const char *text, size_t len, const struct fo_def_opts *opts,
		     struct fo_def **out, struct fo_diags *d)
{
	struct fo_def_opts none = {0};
	if (!opts)
		opts = &none;
	*out = NULL;
	struct fo_arena *a = fo_arena_new();
	struct fo_def *def = FO_ANEW(a, struct fo_def);
	def->a = a;
	def->file = fo_arena_strdup(a, name);
	size_t before = d->errors;

	struct fo_def_doc first, last;
	size_t ndocs = fo_def_split_documents(text, len, &first, &last);
	struct fo_pos top = {.file = def->file, .line = 1, .col = 1};

	/* The defaults document: a plain map, never templated. */
	def->defaults = fo_yaml_new(a, FO_YMAP, &top);
	if (ndocs > 1) {
		struct fo_yaml_opts yo = {.file = def->file, .line_offset = first.line - 1};
		struct fo_ynode *dn;
		if (fo_yaml_load(a, first.text, first.len, &yo, &dn, d) == 0) {
			if (dn->kind == FO_YMAP)
				def->defaults = dn;
			else if (!fo_ynode_is_null(dn))
				fo_diags_error(d, &dn->pos,
					       "the first document holds the template defaults and must be a map of "
					       "name: value, not %s",
					       fo_ynode_describe(dn));
		}
	}
	def->params = opts->params ? (struct fo_ynode *)opts->params : fo_yaml_new(a, FO_YMAP, NULL);

	/* Render the definition: defaults outside, parameters inside (parameters win). */
	const struct fo_ynode *scopes[] = {def->defaults, def->params};
	struct partial_ctx pc = {.a = a, .library = opts->library, .d = d};
	struct fo_srcmap map;
	fo_srcmap_init(&map);
	struct fo_mustache_opts mo = {
		.escape_html = false,
		.partial = load_partial,
		.partial_ctx = &pc,
		.file = def->file,
		.line = last.line,
		.map = &map,
	};
	struct fo_buf rendered;
	fo_buf_init(&rendered, MAX_RENDERED);
	struct fo_mustache_missing missing = {0};
	struct fo_err err = {0};
	int rc = fo_mustache_render(last.text, last.len, scopes, 2, &mo, &rendered, &missing, &err);
	if (rc)
		fo_diags_add_err(d, &err);
	if (missing.n) {
		struct fo_buf names = FO_BUF_INIT;
		names_list(&names, missing.names, missing.n);
		struct fo_pos where = find_tag(&last, def->file, missing.names[0]);
		fo_diags_error(d, &where,
			       "Some template tags were not given values: %s (give each a value as name=value, in "
			       "--params FILE, or in the defaults document before '---'; a null default makes it empty)",
			       names.s);
		fo_buf_release(&names);
	}
	for (size_t i = 0; i < missing.npartials; i++) {
		struct fo_pos where = {.file = def->file, .line = last.line, .col = 1};
		if (opts->library)
			fo_diags_error(d, &where, "partial '%s' was not found in the test library %s", missing.partials[i],
				       opts->library);
		else
			fo_diags_error(d, &where,
				       "partial '%s' needs a test library: give --library DIR or set FALLOUT_LIBRARY",
				       missing.partials[i]);
	}
	fo_mustache_missing_release(&missing);

	if (d->errors == before) {
		def->text_len = rendered.len;
		def->text = fo_arena_strndup(a, rendered.s, rendered.len);
		struct posmap_ctx pm = {
			.st = {.map = &map, .text = def->text, .len = def->text_len},
			.a = a,
			.file = def->file,
		};
		struct fo_yaml_opts yo = {.map = map_position, .map_ctx = &pm};
		if (fo_yaml_load(a, def->text, def->text_len, &yo, &def->root, d) == 0)
			fo_def_validate(def, d);
	}
	fo_buf_release(&rendered);
	fo_srcmap_release(&map);
	if (d->errors > before) {
		fo_arena_free(a);
		return FO_EDEFINITION;
	}
	*out = def;
	return 0;
}

int fo_def_load(const char *path, const struct fo_def_opts *opts, struct fo_def **out, struct fo_diags *d)
{
	size_t max = opts && opts->max_size ? opts->max_size : DEFAULT_MAX_SIZE;
	struct fo_buf b = FO_BUF_INIT;
	struct fo_err err = {0};
	*out = NULL;
	int rc = fo_buf_read_file(&b, path, max, &err);
	if (rc) {
		if (rc == FO_ETOOBIG) {
			fo_err_clear(&err);
			fo_err_set(&err, rc, "'%s' is too large for a test definition (the limit is %zu MiB)", path,
				   max >> 20);
		}
		fo_diags_add_err(d, &err);
		fo_buf_release(&b);
		return rc;
	}
	rc = fo_def_load_text(path, b.s, b.len, opts, out, d);
	fo_buf_release(&b);
	return rc;
}

void fo_def_free(struct fo_def *def)
{
	if (def)
		fo_arena_free(def->a);
}
