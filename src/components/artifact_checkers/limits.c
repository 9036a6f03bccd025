/*
 * limits.c: the limit syntax of limits.h. A limit is parsed from its comparison outwards:
 * the word before `<`/`>` is the metric, anything before that and a ':' the series, and
 * what follows the comparison a number and its unit. Every mistake says which byte is
 * wrong, so the validate hook can point at its column in the user's file (a limit written
 * as a YAML map, `- read: p99 < 2ms`, spans two scalars: key and value).
 */
#include "util/common.h"

#include <ctype.h>

#include "components/artifact_checkers/limits.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/strutil.h"

static const struct unit {
	const char *name;
	enum fo_limit_kind kind;
	double scale; /* to ns (latency) or s (duration) */
} units[] = {
    {"ns", FO_LIMIT_LATENCY, 1},    {"us", FO_LIMIT_LATENCY, 1e3}, {"\xc2\xb5s", FO_LIMIT_LATENCY, 1e3},
    {"ms", FO_LIMIT_LATENCY, 1e6},  {"s", FO_LIMIT_LATENCY, 1e9},  {"ms", FO_LIMIT_DURATION, 1e-3},
    {"s", FO_LIMIT_DURATION, 1},    {"m", FO_LIMIT_DURATION, 60},  {"min", FO_LIMIT_DURATION, 60},
    {"h", FO_LIMIT_DURATION, 3600},
};

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_';
}

/* The value and unit after the comparison, from s[v]; *at is where a mistake is. */
static bool parse_value(const char *s, size_t v, struct fo_limit *l, struct fo_buf *why, size_t *at)
{
	size_t n = strlen(s);
	while (isspace((unsigned char)s[v]))
		v++;
	size_t nb = v;
	while (isdigit((unsigned char)s[v]))
		v++;
	if (s[v] == '.') {
		v++;
		while (isdigit((unsigned char)s[v]))
			v++;
	}
	double num;
	char *digits = fo_strndup(s + nb, v - nb);
	bool ok = v > nb && !(v - nb == 1 && s[nb] == '.') && fo_parse_double(digits, &num);
	fo_free(digits);
	if (!ok) {
		*at = nb;
		fo_buf_adds(why, nb < n ? "the value must be a number (with a unit for times)"
					: "no value after the comparison");
		return false;
	}
	while (isspace((unsigned char)s[v]))
		v++;
	size_t ub = v, ue = n;
	while (ue > ub && isspace((unsigned char)s[ue - 1]))
		ue--;
	char *unit = fo_strndup(s + ub, ue - ub);
	enum fo_limit_kind k = l->m->kind;
	ok = true;
	if (k == FO_LIMIT_LATENCY || k == FO_LIMIT_DURATION) {
		const struct unit *u = NULL;
		for (size_t i = 0; i < FO_ARRAY_LEN(units); i++)
			if (units[i].kind == k && strcmp(units[i].name, unit) == 0)
				u = &units[i];
		if (!u) {
			ok = false;
			if (!*unit)
				fo_buf_addf(why, "%s needs a unit (%s)",
					    k == FO_LIMIT_LATENCY ? "a latency" : "a duration",
					    k == FO_LIMIT_LATENCY ? "ns, us, ms or s" : "ms, s, m or h");
			else
				fo_buf_addf(why, "unknown unit '%s' for %s (use %s)", unit,
					    k == FO_LIMIT_LATENCY ? "a latency" : "a duration",
					    k == FO_LIMIT_LATENCY ? "ns, us, ms or s" : "ms, s, m or h");
		} else {
			l->unit = u->name;
			l->unit_scale = u->scale;
			l->value = num * u->scale;
		}
	} else if ((k == FO_LIMIT_ERRORS || k == FO_LIMIT_PERCENT) && strcmp(unit, "%") == 0) {
		l->percent = true;
		l->value = num;
	} else if (k == FO_LIMIT_RATE &&
		   (strcmp(unit, "/s") == 0 || strcmp(unit, "op/s") == 0 || strcmp(unit, "ops/s") == 0)) {
		l->value = num;
	} else if (*unit) {
		ok = false;
		fo_buf_addf(why, "unexpected '%s' after the value: %s takes %s", unit, l->m->name,
			    k == FO_LIMIT_ERRORS    ? "a count or a percentage (0.1%)"
			    : k == FO_LIMIT_RATE    ? "operations per second (a plain number)"
			    : k == FO_LIMIT_PERCENT ? "a percentage (99.9%)"
						    : "a plain number");
	} else {
		l->value = num;
		l->percent = k == FO_LIMIT_PERCENT;
	}
	fo_free(unit);
	if (!ok)
		*at = ub;
	return ok;
}

bool fo_limit_parse(const char *s, const struct fo_limit_syntax *syn, struct fo_limit *l, struct fo_buf *why,
		    size_t *at)
{
	*l = (struct fo_limit){0};
	size_t n = strlen(s);
	const char *opc = strpbrk(s, "<>");
	if (!opc) {
		const char *eq = strchr(s, '=');
		*at = eq ? (size_t)(eq - s) : n;
		if (eq)
			fo_buf_adds(why, "'=' is not a comparison: use <, <=, > or >=");
		else
			fo_buf_addf(why, "no comparison: a limit reads `%smetric < value` (or <=, >, >=)",
				    syn->series ? "[series:] " : "");
		return false;
	}
	size_t o = (size_t)(opc - s);
	/* The metric: the word just before the comparison. */
	size_t me = o;
	while (me > 0 && isspace((unsigned char)s[me - 1]))
		me--;
	size_t mb = me;
	while (mb > 0 && word_char(s[mb - 1]))
		mb--;
	if (mb == me) {
		*at = o;
		fo_buf_addf(why, "no metric before the comparison (%s)", syn->metric_list);
		return false;
	}
	char *mname = fo_strndup(s + mb, me - mb);
	for (size_t i = 0; i < syn->nmetrics && !l->m; i++)
		if (strcasecmp(syn->metrics[i].name, mname) == 0)
			l->m = &syn->metrics[i];
	if (!l->m) {
		const char **names = fo_calloc(syn->nmetrics + 1, sizeof(*names));
		for (size_t i = 0; i < syn->nmetrics; i++)
			names[i] = syn->metrics[i].name;
		const char *sug = fo_suggest(mname, names, syn->nmetrics);
		*at = mb;
		fo_buf_addf(why, "unknown metric '%s'", mname);
		if (sug)
			fo_buf_addf(why, " (did you mean '%s'?)", sug);
		else
			fo_buf_addf(why, " (%s)", syn->metric_list);
		fo_free(names);
		fo_free(mname);
		return false;
	}
	fo_free(mname);
	/* The series: everything before a ':' that comes before the metric. */
	size_t sb = 0, se = mb;
	while (se > 0 && isspace((unsigned char)s[se - 1]))
		se--;
	if (se > 0 && !syn->series) {
		while (sb < se && isspace((unsigned char)s[sb]))
			sb++;
		*at = sb;
		fo_buf_addf(why, "unexpected '%.*s' before the metric (a limit reads `metric < value`)", (int)(se - sb),
			    s + sb);
		return false;
	}
	if (se > 0) {
		if (s[se - 1] != ':') {
			*at = se - 1;
			fo_buf_adds(why, "expected ':' between the series and the metric (`series: metric < value`)");
			return false;
		}
		se--;
		while (sb < se && isspace((unsigned char)s[sb]))
			sb++;
		while (se > sb && isspace((unsigned char)s[se - 1]))
			se--;
		if (se == sb) {
			*at = sb;
			fo_buf_adds(why, "no series before ':' (a series name, a tag, or *)");
			return false;
		}
		if (!(se - sb == 1 && s[sb] == '*'))
			l->sel = fo_strndup(s + sb, se - sb);
	}
	/* The comparison. */
	size_t v = o + 1;
	bool lt = s[o] == '<';
	bool eq = s[v] == '=';
	if (eq)
		v++;
	l->op = lt ? (eq ? FO_LIMIT_LE : FO_LIMIT_LT) : (eq ? FO_LIMIT_GE : FO_LIMIT_GT);
	if (s[v] == '<' || s[v] == '>' || s[v] == '=') {
		*at = v;
		fo_buf_adds(why, "unknown comparison: use <, <=, > or >=");
		return false;
	}
	if (!parse_value(s, v, l, why, at))
		return false;
	l->text = fo_strdup(s);
	return true;
}

void fo_limit_release(struct fo_limit *l)
{
	fo_free(l->text);
	fo_free(l->sel);
	*l = (struct fo_limit){0};
}

bool fo_limit_holds(double measured, enum fo_limit_op op, double limit)
{
	switch (op) {
	case FO_LIMIT_LT:
		return measured < limit;
	case FO_LIMIT_LE:
		return measured <= limit;
	case FO_LIMIT_GT:
		return measured > limit;
	case FO_LIMIT_GE:
		return measured >= limit;
	}
	return false;
}

void fo_limit_fmt_num(char *out, size_t n, double v)
{
	snprintf(out, n, "%.3f", v);
	char *dot = strchr(out, '.');
	if (!dot)
		return;
	char *end = out + strlen(out);
	while (end > dot + 1 && end[-1] == '0')
		*--end = '\0';
	if (end == dot + 1)
		*dot = '\0';
}

/* ---- the property's entries ---- */

/* Where a limit's text is in the user's file: the column of each byte offset. */
struct where {
	struct fo_pos pos; /* of byte 0 */
	size_t split;	   /* offsets from here on are at pos2 + (off - split) */
	struct fo_pos pos2;
};

static struct fo_pos where_at(const struct where *w, size_t off)
{
	struct fo_pos p = off >= w->split ? w->pos2 : w->pos;
	size_t rel = off >= w->split ? off - w->split : off;
	if (p.col > 0)
		p.col += (int)rel;
	return p;
}

/* One limit as the user wrote it: its text, and where each byte of it is. */
struct entry {
	char *text; /* owned */
	struct where w;
};

/* Adds the comma-separated limits of scalar it. */
static void scalar_entries(const struct fo_ynode *it, struct entry **e, size_t *k, size_t *cap)
{
	const char *s = it->str;
	while (*s) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		size_t b = 0;
		while (b < len && isspace((unsigned char)s[b]))
			b++;
		size_t t = len;
		while (t > b && isspace((unsigned char)s[t - 1]))
			t--;
		if (t > b) {
			FO_GROW(*e, *cap, *k + 1);
			struct fo_pos p = it->pos;
			p.col += (int)(s + b - it->str) + (it->quoted ? 1 : 0);
			(*e)[(*k)++] =
			    (struct entry){.text = fo_strndup(s + b, t - b), .w = {.pos = p, .split = SIZE_MAX}};
		}
		s += len + (c ? 1 : 0);
	}
}

/*
 * The entries of property prop's value: a list whose items are strings or one-pair maps
 * (`- read: p99 < 2ms` unquoted is YAML for {read: "p99 < 2ms"}), or one string of
 * comma-separated limits. Adds a diagnostic to d (when not NULL) for anything else.
 * Returns an owned array (*n entries).
 */
static struct entry *entries(const struct fo_propval *v, const char *prop, const char *who,
			     const struct fo_limit_syntax *syn, size_t *n, struct fo_diags *d)
{
	struct entry *e = NULL;
	size_t k = 0, cap = 0;
	const struct fo_ynode *node = v->node;
	*n = 0;
	if (!node)
		return NULL;
	const struct fo_ynode *one[1] = {node};
	const struct fo_ynode *const *items = node->kind == FO_YSEQ ? (const struct fo_ynode *const *)node->items : one;
	size_t nitems = node->kind == FO_YSEQ ? node->nitems : 1;
	for (size_t i = 0; i < nitems; i++) {
		const struct fo_ynode *it = items[i];
		if (it->kind == FO_YSCALAR && !fo_ynode_is_null(it)) {
			scalar_entries(it, &e, &k, &cap); /* several limits may share one string */
		} else if (it->kind == FO_YMAP && it->npairs == 1 && it->pairs[0].value->kind == FO_YSCALAR) {
			const struct fo_ypair *pr = &it->pairs[0];
			struct fo_buf t = FO_BUF_INIT;
			fo_buf_addf(&t, "%s: ", pr->key->str);
			size_t split = t.len;
			fo_buf_adds(&t, fo_ynode_is_null(pr->value) ? "" : pr->value->str);
			struct fo_pos p1 = pr->key->pos, p2 = pr->value->pos;
			p1.col += pr->key->quoted ? 1 : 0;
			p2.col += pr->value->quoted ? 1 : 0;
			FO_GROW(e, cap, k + 1);
			e[k++] = (struct entry){.text = fo_buf_detach(&t, NULL),
						.w = {.pos = p1, .split = split, .pos2 = p2}};
		} else if (d) {
			fo_diags_error(
			    d, &it->pos,
			    "each limit in '%s' of artifact checker '%s' must be a string such as %s, not %s", prop,
			    who, syn->example, fo_ynode_describe(it));
		}
	}
	if (k == 0 && d && (node->kind != FO_YSEQ || nitems == 0))
		fo_diags_error(d, &node->pos, "'%s' of artifact checker '%s' needs at least one limit, such as %s",
			       prop, who, syn->example);
	*n = k;
	return e;
}

static void entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_free(e[i].text);
	fo_free(e);
}

void fo_limits_validate(const struct fo_propset *ps, const char *prop, const struct fo_limit_syntax *syn,
			struct fo_diags *d)
{
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	const struct fo_propval *v = fo_props_get(ps, prop);
	if (!v || !v->set)
		return;
	size_t n;
	struct entry *e = entries(v, prop, who, syn, &n, d);
	for (size_t i = 0; i < n; i++) {
		struct fo_limit l;
		struct fo_buf why = FO_BUF_INIT;
		size_t at = 0;
		if (!fo_limit_parse(e[i].text, syn, &l, &why, &at)) {
			struct fo_pos p = where_at(&e[i].w, at);
			fo_diags_error(d, &p, "invalid limit '%s' in '%s' of artifact checker '%s': %s", e[i].text,
				       prop, who, why.s);
		}
		fo_limit_release(&l);
		fo_buf_release(&why);
	}
	entries_free(e, n);
}

int fo_limits_load(const struct fo_propset *ps, const char *prop, const struct fo_limit_syntax *syn,
		   struct fo_limit **out, size_t *n, struct fo_err *err)
{
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	const struct fo_propval *v = fo_props_get(ps, prop);
	size_t ne = 0;
	struct entry *e = v && v->set ? entries(v, prop, who, syn, &ne, NULL) : NULL;
	struct fo_limit *ls = fo_calloc(ne + 1, sizeof(*ls));
	int rc = 0;
	for (size_t i = 0; i < ne && !rc; i++) {
		struct fo_buf why = FO_BUF_INIT;
		size_t at;
		/* Validation refuses these; a definition that skipped it still fails clearly. */
		if (!fo_limit_parse(e[i].text, syn, &ls[i], &why, &at)) {
			rc = fo_err_set(err, FO_EDEFINITION, "invalid limit '%s': %s", e[i].text, why.s);
			fo_limits_free(ls, i + 1);
			ls = NULL;
		}
		fo_buf_release(&why);
	}
	entries_free(e, ne);
	*out = ls;
	*n = rc ? 0 : ne;
	return rc;
}

void fo_limits_free(struct fo_limit *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_limit_release(&v[i]);
	fo_free(v);
}
