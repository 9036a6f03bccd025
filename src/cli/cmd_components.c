/*
 * cmd_components.c: `fallout components`, the reference of every component, printed from
 * the same registry that validates test definitions, so it can never disagree with them.
 *
 *   fallout components                  every kind, each component with its summary
 *   fallout components KIND             a kind's components with their properties
 *   fallout components KIND NAME        one component in full
 *   ... --json                          the same as JSON
 *   fallout components --markdown       the whole registry as Markdown (docs/components.md)
 *
 * Text output is wrapped at 90 columns. Components from the test-only fixture set are
 * marked "(test fixture)"; components that cannot run yet say why.
 */
#include "util/common.h"

#include <ctype.h>
#include <jansson.h>

#include "cli/cli.h"
#include "components/component.h"
#include "components/registry.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

#define WIDTH 90 /* wrap text output at this column */
#define NAME_COLUMN_MAX 16 /* longer component names get a line of their own */

enum format { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

/* ---- text helpers ---- */

static void spaces(struct fo_buf *b, size_t n)
{
	while (n--)
		fo_buf_addch(b, ' ');
}

/*
 * Appends text wrapped at width. The cursor is at column col on the current line; later
 * lines start at column indent. A '\n' in text starts a new line and an empty line stays
 * empty (paragraphs); a line starting with "- " is a list item, its continuation lines
 * indented two more. Ends with a newline.
 */
static void wrap(struct fo_buf *b, const char *text, size_t col, size_t indent, size_t width)
{
	const char *p = text;
	bool first_line = true;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (!first_line) {
			col = 0;
			if (len > 0) {
				spaces(b, indent);
				col = indent;
			}
		}
		size_t hang = indent + (len >= 2 && p[0] == '-' && p[1] == ' ' ? 2 : 0);
		size_t line_start = col;
		const char *w = p, *end = p + len;
		while (w < end) {
			while (w < end && *w == ' ')
				w++;
			if (w == end)
				break;
			const char *we = w;
			while (we < end && *we != ' ')
				we++;
			size_t wl = (size_t)(we - w);
			if (col > line_start && col + 1 + wl > width) {
				fo_buf_addch(b, '\n');
				spaces(b, hang);
				col = line_start = hang;
			} else if (col > line_start) {
				fo_buf_addch(b, ' ');
				col++;
			}
			fo_buf_add(b, w, wl);
			col += wl;
			w = we;
		}
		fo_buf_addch(b, '\n');
		first_line = false;
		if (!eol)
			return;
		p = eol + 1;
	}
	if (first_line)
		fo_buf_addch(b, '\n');
}

/* Appends text with every line indented by n spaces (empty lines stay empty). */
static void indent_block(struct fo_buf *b, const char *text, size_t n)
{
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len)
			spaces(b, n);
		fo_buf_add(b, p, len);
		fo_buf_addch(b, '\n');
		if (!eol)
			break;
		p = eol + 1;
	}
}

/* "Configuration managers": a kind as a heading. */
static void kind_heading(struct fo_buf *b, enum fo_kind k)
{
	const char *t = fo_kind_title(k);
	fo_buf_addch(b, (char)toupper((unsigned char)t[0]));
	fo_buf_adds(b, t + 1);
	fo_buf_addch(b, 's');
}

static size_t prop_count(const struct fo_component *c)
{
	size_t n = 0;
	while (c->props && c->props[n].name)
		n++;
	return n;
}

/* Writes a number from a property range as the user would write it. */
static void add_bound(struct fo_buf *b, const struct fo_prop *p, double v)
{
	if (p->type == FO_PT_DURATION)
		fo_buf_addf(b, "%gs", v);
	else if (p->type == FO_PT_INT || p->type == FO_PT_LONG)
		fo_buf_addf(b, "%.0f", v);
	else
		fo_buf_addf(b, "%g", v);
}

/* Joins a NULL-terminated list with ", ". */
static void add_joined(struct fo_buf *b, const char *const *list, const char *quote)
{
	for (size_t i = 0; list[i]; i++)
		fo_buf_addf(b, "%s%s%s%s", i ? ", " : "", quote, list[i], quote);
}

/* ---- text output ---- */

static const char *const notes_lifetime =
	"Every module also accepts `lifetime`: `run_once` (the default; also `once`) runs it one "
	"time, `run_to_end_of_phase` (also `phase`) repeats it until every run-once module of its "
	"phase has finished.";

static size_t longest_name(void)
{
	size_t w = 0;
	for (size_t i = 0; i < fo_registry_count(); i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (strlen(c->name) > w)
			w = strlen(c->name);
	}
	return w;
}

/* One line per component of kind: name and summary, aligned at column 2 + w + 2. */
static void text_summaries(struct fo_buf *b, enum fo_kind kind, size_t w)
{
	for (size_t i = 0; i < fo_registry_count(); i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (c->kind != kind)
			continue;
		struct fo_buf line = FO_BUF_INIT;
		fo_buf_adds(&line, c->summary);
		if (c->fixture)
			fo_buf_adds(&line, " (test fixture)");
		if (c->available)
			fo_buf_adds(&line, " (not runnable yet)");
		if (strlen(c->name) > w) {
			/* A long name gets a line of its own. */
			fo_buf_addf(b, "  %s\n", c->name);
			spaces(b, 2 + w + 2);
		} else {
			fo_buf_addf(b, "  %-*s  ", (int)w, c->name);
		}
		wrap(b, line.s, 2 + w + 2, 2 + w + 2, WIDTH);
		fo_buf_release(&line);
	}
}

static void text_overview(struct fo_buf *b)
{
	size_t w = longest_name();
	if (w > NAME_COLUMN_MAX)
		w = NAME_COLUMN_MAX;
	for (int k = 0; k < FO__KIND_COUNT; k++) {
		if (k)
			fo_buf_addch(b, '\n');
		kind_heading(b, (enum fo_kind)k);
		fo_buf_addch(b, '\n');
		text_summaries(b, (enum fo_kind)k, w);
	}
	fo_buf_addch(b, '\n');
	wrap(b,
	     "'fallout components KIND' lists the properties of a kind's components, and "
	     "'fallout components KIND NAME' shows one in full. KIND is provisioner, "
	     "configuration_manager, module, checker or artifact_checker.",
	     0, 0, WIDTH);
}

/* "string, required" / "duration, default 1h": a property's type and default in a phrase. */
static void type_phrase(struct fo_buf *b, const struct fo_prop *p)
{
	fo_buf_adds(b, fo_prop_type_name(p->type));
	if (p->required)
		fo_buf_adds(b, ", required");
	else if (p->default_value)
		fo_buf_addf(b, ", default %s", p->default_value);
}

/* A kind's components, each with the names, types and defaults of its properties. */
static void text_kind(struct fo_buf *b, enum fo_kind kind)
{
	kind_heading(b, kind);
	fo_buf_addch(b, '\n');
	for (size_t i = 0; i < fo_registry_count(); i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (c->kind != kind)
			continue;
		fo_buf_addf(b, "\n%s%s: ", c->name, c->fixture ? " (test fixture)" : "");
		wrap(b, c->summary, strlen(c->name) + (c->fixture ? 15 : 0) + 2, 4, WIDTH);
		if (c->available) {
			fo_buf_adds(b, "    ");
			wrap(b, c->available, 4, 6, WIDTH);
		}
		size_t n = prop_count(c), w = 0;
		for (size_t j = 0; j < n; j++)
			if (strlen(c->props[j].name) > w)
				w = strlen(c->props[j].name);
		if (n == 0)
			fo_buf_adds(b, "    (no properties)\n");
		for (size_t j = 0; j < n; j++) {
			struct fo_buf t = FO_BUF_INIT;
			type_phrase(&t, &c->props[j]);
			fo_buf_addf(b, "    %-*s  ", (int)w, c->props[j].name);
			wrap(b, t.s, 4 + w + 2, 4 + w + 4, WIDTH);
			fo_buf_release(&t);
		}
	}
	if (kind == FO_KIND_MODULE) {
		fo_buf_addch(b, '\n');
		wrap(b, notes_lifetime, 0, 0, WIDTH);
	}
	fo_buf_addch(b, '\n');
	wrap(b, "'fallout components KIND NAME' shows a component's description, an example and what "
		"each property means.",
	     0, 0, WIDTH);
}

/* The detail lines under a property: description, allowed values, range, old name. */
static void text_prop_details(struct fo_buf *b, const struct fo_prop *p)
{
	const size_t in = 6;
	spaces(b, in);
	wrap(b, p->description ? p->description : "", in, in, WIDTH);
	if (p->options) {
		struct fo_buf t = FO_BUF_INIT;
		fo_buf_adds(&t, p->suggestions_only ? "For example: " : "One of: ");
		add_joined(&t, p->options, "");
		spaces(b, in);
		wrap(b, t.s, in, in + 2, WIDTH);
		fo_buf_release(&t);
	}
	if (p->has_range) {
		spaces(b, in);
		fo_buf_adds(b, "From ");
		add_bound(b, p, p->min);
		fo_buf_adds(b, " to ");
		add_bound(b, p, p->max);
		fo_buf_addch(b, '\n');
	}
	if (p->pattern) {
		spaces(b, in);
		fo_buf_addf(b, "Must match in full: %s\n", p->pattern);
	}
	if (p->deprecated_name) {
		spaces(b, in);
		fo_buf_addf(b, "Also accepted under its old name '%s', with a warning\n", p->deprecated_name);
	}
}

/* One component in full. */
static void text_component(struct fo_buf *b, const struct fo_component *c)
{
	fo_buf_addf(b, "%s %s", fo_kind_title(c->kind), c->name);
	if (c->fixture)
		fo_buf_adds(b, " (test fixture)");
	fo_buf_adds(b, ": ");
	wrap(b, c->summary, strlen(fo_kind_title(c->kind)) + 1 + strlen(c->name) + (c->fixture ? 15 : 0) + 2, 4,
	     WIDTH);
	if (c->fixture)
		wrap(b, "A test fixture: it exists only in test builds, for Fallout's own test definitions.", 0, 0,
		     WIDTH);
	if (c->available) {
		fo_buf_adds(b, "Note: ");
		wrap(b, c->available, 6, 6, WIDTH);
	}
	fo_buf_addch(b, '\n');
	spaces(b, 2);
	wrap(b, c->description, 2, 2, WIDTH);

	if (c->example) {
		fo_buf_adds(b, "\nExample:\n");
		indent_block(b, c->example, 4);
	}

	size_t n = prop_count(c);
	fo_buf_adds(b, "\nProperties:");
	if (n == 0)
		fo_buf_adds(b, " none");
	fo_buf_addch(b, '\n');
	if (n > 0) {
		size_t wn = strlen("NAME"), wt = strlen("TYPE"), wr = strlen("REQUIRED");
		for (size_t j = 0; j < n; j++) {
			const struct fo_prop *p = &c->props[j];
			if (strlen(p->name) > wn)
				wn = strlen(p->name);
			if (strlen(fo_prop_type_name(p->type)) > wt)
				wt = strlen(fo_prop_type_name(p->type));
		}
		fo_buf_addf(b, "  %-*s  %-*s  %-*s  %s\n", (int)wn, "NAME", (int)wt, "TYPE", (int)wr, "REQUIRED",
			    "DEFAULT");
		for (size_t j = 0; j < n; j++) {
			const struct fo_prop *p = &c->props[j];
			struct fo_buf row = FO_BUF_INIT;
			fo_buf_addf(&row, "  %-*s  %-*s  %-*s  %s", (int)wn, p->name, (int)wt,
				    fo_prop_type_name(p->type), (int)wr, p->required ? "yes" : "no",
				    p->default_value ? p->default_value : "");
			/* No trailing blanks when there is no default. */
			while (row.len && row.s[row.len - 1] == ' ')
				fo_buf_truncate(&row, row.len - 1);
			fo_buf_adds(b, row.s);
			fo_buf_addch(b, '\n');
			fo_buf_release(&row);
			text_prop_details(b, p);
		}
	}
	if (c->kind == FO_KIND_MODULE) {
		fo_buf_addch(b, '\n');
		wrap(b, notes_lifetime, 0, 0, WIDTH);
	}
}

/* ---- JSON output ---- */

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_list(const char *const *list)
{
	json_t *a = json_array();
	for (size_t i = 0; list[i]; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static json_t *json_prop(const struct fo_prop *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "type", json_string(fo_prop_type_name(p->type)));
	json_object_set_new(o, "description", json_str_or_null(p->description));
	json_object_set_new(o, "default", json_str_or_null(p->default_value));
	json_object_set_new(o, "required", json_boolean(p->required));
	if (p->has_range) {
		json_object_set_new(o, "min", json_real(p->min));
		json_object_set_new(o, "max", json_real(p->max));
	}
	if (p->options) {
		json_object_set_new(o, "options", json_list(p->options));
		json_object_set_new(o, "suggestions_only", json_boolean(p->suggestions_only));
	}
	json_object_set_new(o, "pattern", json_str_or_null(p->pattern));
	json_object_set_new(o, "deprecated_name", json_str_or_null(p->deprecated_name));
	return o;
}

static json_t *json_component(const struct fo_component *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "kind", json_string(fo_kind_name(c->kind)));
	json_object_set_new(o, "summary", json_string(c->summary));
	json_object_set_new(o, "description", json_string(c->description));
	json_object_set_new(o, "example", json_str_or_null(c->example));
	json_object_set_new(o, "fixture", json_boolean(c->fixture));
	json_object_set_new(o, "available", json_str_or_null(c->available));
	json_t *props = json_array();
	for (size_t j = 0; j < prop_count(c); j++)
		json_array_append_new(props, json_prop(&c->props[j]));
	json_object_set_new(o, "properties", props);
	return o;
}

/* Appends root as indented JSON and frees it. */
static int json_out(struct fo_buf *b, json_t *root)
{
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return FO_ENOMEM;
	fo_buf_adds(b, s);
	fo_buf_addch(b, '\n');
	free(s);
	return 0;
}

/* ---- Markdown output ---- */

/*
 * Appends prose as Markdown: code spans (`...`) are kept as they are, while outside them
 * the characters Markdown would read as markup are escaped. In a table cell (cell true)
 * pipes are escaped everywhere and line breaks become spaces.
 */
static void md_text(struct fo_buf *b, const char *s, bool cell)
{
	bool code = false;
	for (; *s; s++) {
		char ch = *s;
		if (ch == '`') {
			code = !code;
			fo_buf_addch(b, ch);
		} else if (cell && ch == '|') {
			fo_buf_adds(b, "\\|");
		} else if (cell && ch == '\n') {
			fo_buf_addch(b, ' ');
		} else if (code) {
			fo_buf_addch(b, ch);
		} else if (ch == '<') {
			fo_buf_adds(b, "&lt;");
		} else if (ch == '>') {
			fo_buf_adds(b, "&gt;");
		} else if (ch == '*' || ch == '_' || ch == '\\' || ch == '[' || ch == ']') {
			fo_buf_addch(b, '\\');
			fo_buf_addch(b, ch);
		} else {
			fo_buf_addch(b, ch);
		}
	}
}

/* Appends s as a code span in a table cell. */
static void md_code_cell(struct fo_buf *b, const char *s)
{
	fo_buf_addch(b, '`');
	for (; *s; s++) {
		if (*s == '|')
			fo_buf_adds(b, "\\|");
		else
			fo_buf_addch(b, *s);
	}
	fo_buf_addch(b, '`');
}

static void md_component(struct fo_buf *b, const struct fo_component *c)
{
	fo_buf_addf(b, "### `%s`%s\n\n", c->name, c->fixture ? " (test fixture)" : "");
	fo_buf_adds(b, "*");
	md_text(b, c->summary, false);
	fo_buf_adds(b, "*\n\n");
	if (c->available) {
		fo_buf_adds(b, "> **Note:** ");
		md_text(b, c->available, false);
		fo_buf_adds(b, "\n\n");
	}
	md_text(b, c->description, false);
	fo_buf_adds(b, "\n\n");
	if (c->example) {
		fo_buf_adds(b, "Example:\n\n```yaml\n");
		fo_buf_adds(b, c->example);
		if (c->example[0] && c->example[strlen(c->example) - 1] != '\n')
			fo_buf_addch(b, '\n');
		fo_buf_adds(b, "```\n\n");
	}
	size_t n = prop_count(c);
	if (n == 0) {
		fo_buf_adds(b, "No properties.\n\n");
		return;
	}
	fo_buf_adds(b, "| Property | Type | Required | Default | Description |\n"
		       "|---|---|---|---|---|\n");
	for (size_t j = 0; j < n; j++) {
		const struct fo_prop *p = &c->props[j];
		fo_buf_adds(b, "| ");
		md_code_cell(b, p->name);
		fo_buf_addf(b, " | %s | %s | ", fo_prop_type_name(p->type), p->required ? "yes" : "no");
		if (p->default_value)
			md_code_cell(b, p->default_value);
		fo_buf_adds(b, " | ");
		md_text(b, p->description ? p->description : "", true);
		if (p->options) {
			fo_buf_adds(b, p->suggestions_only ? " For example: " : " One of: ");
			for (size_t k = 0; p->options[k]; k++) {
				if (k)
					fo_buf_adds(b, ", ");
				md_code_cell(b, p->options[k]);
			}
			fo_buf_addch(b, '.');
		}
		if (p->has_range) {
			fo_buf_adds(b, " From ");
			add_bound(b, p, p->min);
			fo_buf_adds(b, " to ");
			add_bound(b, p, p->max);
			fo_buf_addch(b, '.');
		}
		if (p->pattern) {
			fo_buf_adds(b, " Must match in full: ");
			md_code_cell(b, p->pattern);
			fo_buf_addch(b, '.');
		}
		if (p->deprecated_name) {
			fo_buf_adds(b, " Old name, still accepted: ");
			md_code_cell(b, p->deprecated_name);
			fo_buf_addch(b, '.');
		}
		fo_buf_adds(b, " |\n");
	}
	fo_buf_addch(b, '\n');
}

static void md_kind(struct fo_buf *b, enum fo_kind kind)
{
	fo_buf_adds(b, "## ");
	kind_heading(b, kind);
	fo_buf_adds(b, "\n\n");
	if (kind == FO_KIND_MODULE) {
		md_text(b, notes_lifetime, false);
		fo_buf_adds(b, "\n\n");
	}
	for (size_t i = 0; i < fo_registry_count(); i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (c->kind == kind)
			md_component(b, c);
	}
}

static void md_all(struct fo_buf *b)
{
	fo_buf_adds(b, "# Components\n\n"
		       "<!-- Generated from the component registry by `fallout components --markdown`\n"
		       "     (scripts/gen-docs.sh, `make docs`). Do not edit: change the component's\n"
		       "     source file under src/components/ and regenerate. -->\n\n");
	md_text(b,
		"Every provisioner, configuration manager, module, checker and artifact checker that "
		"fallout knows, with its properties. Names are matched ignoring case. A test definition "
		"names a component and gives its `properties`; unknown properties, values of the wrong "
		"type and missing required ones are refused before anything runs. In a terminal, "
		"`fallout components KIND NAME` prints the same reference.",
		false);
	fo_buf_adds(b, "\n\n");
	for (int k = 0; k < FO__KIND_COUNT; k++) {
		struct fo_buf h = FO_BUF_INIT;
		kind_heading(&h, (enum fo_kind)k);
		fo_buf_addf(b, "- [%s](#", h.s);
		for (size_t i = 0; i < h.len; i++)
			fo_buf_addch(b, h.s[i] == ' ' ? '-' : (char)tolower((unsigned char)h.s[i]));
		fo_buf_adds(b, "):");
		for (size_t i = 0; i < fo_registry_count(); i++) {
			const struct fo_component *c = fo_registry_at(i);
			if (c->kind == (enum fo_kind)k)
				fo_buf_addf(b, " `%s`", c->name);
		}
		fo_buf_addch(b, '\n');
		fo_buf_release(&h);
	}
	fo_buf_addch(b, '\n');
	for (int k = 0; k < FO__KIND_COUNT; k++)
		md_kind(b, (enum fo_kind)k);
	/* One final newline, not two. */
	while (b->len >= 2 && b->s[b->len - 1] == '\n' && b->s[b->len - 2] == '\n')
		fo_buf_truncate(b, b->len - 1);
}

/* ---- the command ---- */

static int unknown_kind(const char *s)
{
	const char *names[FO__KIND_COUNT];
	for (int k = 0; k < FO__KIND_COUNT; k++)
		names[k] = fo_kind_name((enum fo_kind)k);
	const char *hint = fo_suggest(s, names, FO__KIND_COUNT);
	if (hint)
		fprintf(stderr, "fallout: unknown kind '%s' (did you mean '%s'?)\n", s, hint);
	else
		fprintf(stderr, "fallout: unknown kind '%s'\n", s);
	fputs("kinds: provisioner, configuration_manager, module, checker, artifact_checker\n", stderr);
	return FO_EXIT_USAGE;
}

static int unknown_component(enum fo_kind kind, const char *name)
{
	const char *hint = fo_registry_suggest(kind, name);
	if (hint)
		fprintf(stderr, "fallout: unknown %s '%s' (did you mean '%s'?)\n", fo_kind_title(kind), name, hint);
	else
		fprintf(stderr, "fallout: unknown %s '%s'\n", fo_kind_title(kind), name);
	fprintf(stderr, "(see 'fallout components %s' for the list)\n", fo_kind_name(kind));
	return FO_EXIT_USAGE;
}

int fo_cmd_components(int argc, char **argv)
{
	enum format fmt = FMT_TEXT;
	const char *pos[2] = {NULL, NULL};
	int npos = 0;
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && (strcmp(a, "--json") == 0 || strcmp(a, "--markdown") == 0)) {
			enum format f = a[2] == 'j' ? FMT_JSON : FMT_MARKDOWN;
			if (fmt != FMT_TEXT && fmt != f)
				return fo_cli_usage_error("components", "--json and --markdown cannot be combined");
			fmt = f;
		} else if (!opts_done && a[0] == '-' && a[1]) {
			return fo_cli_usage_error("components", "unknown option '%s'", a);
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			return fo_cli_usage_error("components", "too many arguments: '%s'", a);
		}
	}

	enum fo_kind kind = FO_KIND_PROVISIONER;
	const struct fo_component *comp = NULL;
	if (npos >= 1 && fo_kind_parse(pos[0], &kind) != 0)
		return unknown_kind(pos[0]);
	if (npos == 2) {
		comp = fo_registry_find(kind, pos[1]);
		if (!comp)
			return unknown_component(kind, pos[1]);
	}

	struct fo_buf out = FO_BUF_INIT;
	int rc = 0;
	if (fmt == FMT_JSON) {
		if (comp) {
			rc = json_out(&out, json_component(comp));
		} else {
			json_t *a = json_array();
			for (size_t i = 0; i < fo_registry_count(); i++) {
				const struct fo_component *c = fo_registry_at(i);
				if (npos == 0 || c->kind == kind)
					json_array_append_new(a, json_component(c));
			}
			rc = json_out(&out, a);
		}
	} else if (fmt == FMT_MARKDOWN) {
		if (comp)
			md_component(&out, comp);
		else if (npos == 1)
			md_kind(&out, kind);
		else
			md_all(&out);
	} else if (comp) {
		text_component(&out, comp);
	} else if (npos == 1) {
		text_kind(&out, kind);
	} else {
		text_overview(&out);
	}

	if (rc == 0) {
		fwrite(out.s, 1, out.len, stdout);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "fallout: cannot write the output: %s\n", strerror(errno));
			rc = FO_EIO;
		}
	} else {
		fprintf(stderr, "fallout: %s\n", fo_strerror(rc));
	}
	fo_buf_release(&out);
	return rc == 0 ? FO_EXIT_OK : FO_EXIT_FAILED;
}
