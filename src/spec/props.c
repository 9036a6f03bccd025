/*
 * props.c: checking property values against a component's property table (props.h),
 * and durations.
 */
#include "util/common.h"

#include <ctype.h>
#include <math.h>

#include "spec/files.h"
#include "spec/props.h"
#include "spec/runlevel.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/regex.h"
#include "util/strutil.h"

/* ---- durations ---- */

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
	{"ns", 1}, {"nanosecond", 1}, {"nanoseconds", 1}, {"nanos", 1},
	{"us", 1000}, {"microsecond", 1000}, {"microseconds", 1000}, {"micros", 1000},
	{"ms", 1000000}, {"millisecond", 1000000}, {"milliseconds", 1000000}, {"millis", 1000000},
	{"s", 1000000000LL}, {"sec", 1000000000LL}, {"secs", 1000000000LL}, {"second", 1000000000LL},
	{"seconds", 1000000000LL},
	{"m", 60000000000LL}, {"min", 60000000000LL}, {"mins", 60000000000LL}, {"minute", 60000000000LL},
	{"minutes", 60000000000LL},
	{"h", 3600000000000LL}, {"hr", 3600000000000LL}, {"hour", 3600000000000LL}, {"hours", 3600000000000LL},
	{"d", 86400000000000LL}, {"day", 86400000000000LL}, {"days", 86400000000000LL},
};

int fo_duration_parse(const char *s, int64_t *ns)
{
	while (isspace((unsigned char)*s))
		s++;
	const char *num = s;
	while (isdigit((unsigned char)*s) || *s == '.')
		s++;
	if (s == num)
		return FO_EINVAL;
	char nbuf[64];
	size_t nlen = (size_t)(s - num);
	if (nlen >= sizeof(nbuf))
		return FO_EINVAL;
	memcpy(nbuf, num, nlen);
	nbuf[nlen] = '\0';
	double v;
	if (!fo_parse_double(nbuf, &v) || v < 0)
		return FO_EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	const char *unit = s;
	while (isalpha((unsigned char)*s))
		s++;
	size_t ulen = (size_t)(s - unit);
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return FO_EINVAL;
	if (ulen == 0) {
		if (v != 0)
			return FO_EINVAL;
		*ns = 0;
		return 0;
	}
	for (size_t i = 0; i < FO_ARRAY_LEN(units); i++) {
		if (strlen(units[i].name) == ulen && strncasecmp(units[i].name, unit, ulen) == 0) {
			double total = v * (double)units[i].ns;
			if (total > 9.2e18)
				return FO_EINVAL;
			*ns = (int64_t)llround(total);
			return 0;
		}
	}
	return FO_EINVAL;
}

void fo_duration_format(int64_t ns, char *out, size_t n)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} steps[] = {{"d", 86400000000000LL}, {"h", 3600000000000LL}, {"m", 60000000000LL},
		     {"s", 1000000000LL},     {"ms", 1000000},          {"us", 1000}};
	if (ns == 0) {
		snprintf(out, n, "0s");
		return;
	}
	for (size_t i = 0; i < FO_ARRAY_LEN(steps); i++) {
		if (ns % steps[i].ns == 0) {
			snprintf(out, n, "%lld%s", (long long)(ns / steps[i].ns), steps[i].unit);
			return;
		}
	}
	snprintf(out, n, "%lldns", (long long)ns);
}

/* ---- getters ---- */

const struct fo_propval *fo_props_get(const struct fo_propset *ps, const char *name)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (strcmp(ps->v[i].prop->name, name) == 0)
			return &ps->v[i];
	return NULL;
}

const char *fo_props_str(const struct fo_propset *ps, const char *name, const char *fallback)
{
	const struct fo_propval *v = fo_props_get(ps, name);
	return v && v->set && v->str ? v->str : fallback;
}

int64_t fo_props_int(const struct fo_propset *ps, const char *name, int64_t fallback)
{
	const struct fo_propval *v = fo_props_get(ps, name);
	return v && v->set ? v->i : fallback;
}

double fo_props_double(const struct fo_propset *ps, const char *name, double fallback)
{
	const struct fo_propval *v = fo_props_get(ps, name);
	return v && v->set ? v->d : fallback;
}

bool fo_props_bool(const struct fo_propset *ps, const char *name, bool fallback)
{
	const struct fo_propval *v = fo_props_get(ps, name);
	return v && v->set ? v->b : fallback;
}

int64_t fo_props_duration_ns(const struct fo_propset *ps, const char *name, int64_t fallback)
{
	const struct fo_propval *v = fo_props_get(ps, name);
	return v && v->set ? v->ns : fallback;
}

/* ---- checking one value ---- */

static const char *options_text(struct fo_arena *a, const char *const *opts)
{
	struct fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; opts && opts[i]; i++)
		fo_buf_addf(&b, "%s%s", i ? ", " : "", opts[i]);
	char *s = fo_arena_strdup(a, b.s);
	fo_buf_release(&b);
	return s;
}

static size_t count_opts(const char *const *opts)
{
	size_t n = 0;
	while (opts && opts[n])
		n++;
	return n;
}

/* Checks an integer or double against the property's range. */
static bool in_range(const struct fo_prop *p, double v)
{
	return !p->has_range || (v >= p->min && v <= p->max);
}

static void range_error(struct fo_diags *d, const struct fo_pos *pos, const char *what, const struct fo_prop *p,
			const char *text)
{
	fo_diags_error(d, pos, "property '%s' of %s is %s, outside the range %g to %g", p->name, what, text, p->min,
		       p->max);
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Splits "a, b,c" or a YAML list into a NULL-terminated list of trimmed, non-empty items. */
static bool to_list(struct fo_arena *a, const struct fo_ynode *n, const char *const **out, size_t *nout)
{
	size_t cap = n->kind == FO_YSEQ ? n->nitems : 1;
	if (n->kind == FO_YSCALAR)
		for (size_t i = 0; i < n->len; i++)
			cap += n->str[i] == ',';
	const char **v = FO_ANEWN(a, const char *, cap + 1);
	size_t k = 0;
	if (n->kind == FO_YSEQ) {
		for (size_t i = 0; i < n->nitems; i++) {
			if (n->items[i]->kind != FO_YSCALAR)
				return false;
			v[k++] = n->items[i]->str;
		}
	} else if (n->kind == FO_YSCALAR) {
		const char *s = n->str;
		while (*s) {
			const char *e = strchr(s, ',');
			if (!e)
				e = s + strlen(s);
			const char *b = s, *t = e;
			while (b < t && isspace((unsigned char)*b))
				b++;
			while (t > b && isspace((unsigned char)t[-1]))
				t--;
			if (t > b)
				v[k++] = fo_arena_strndup(a, b, (size_t)(t - b));
			s = *e ? e + 1 : e;
		}
	} else {
		return false;
	}
	v[k] = NULL;
	*out = v;
	*nout = k;
	return true;
}

/*
 * Checks node against property p and fills v. what names the instance in messages.
 * Returns true when the value is good.
 */
static bool check_value(struct fo_arena *a, const struct fo_prop *p, const struct fo_ynode *n, const char *what,
			const struct fo_props_ctx *ctx, struct fo_propval *v, struct fo_diags *d)
{
	const struct fo_pos *pos = &n->pos;
	bool scalar = n->kind == FO_YSCALAR;
	const char *text = scalar ? n->str : "";
	const char *tname = fo_prop_type_name(p->type);
	if (p->type != FO_PT_STRLIST && p->type != FO_PT_MAP && p->type != FO_PT_FILES && p->type != FO_PT_ANY &&
	    !scalar) {
		fo_diags_error(d, pos, "property '%s' of %s must be %s %s, not %s", p->name, what,
			       strchr("aeiou", tname[0]) ? "an" : "a", tname, fo_ynode_describe(n));
		return false;
	}
	v->str = text;
	switch (p->type) {
	case FO_PT_STRING:
	case FO_PT_FILE:
		if (p->pattern) {
			struct fo_err err = {0};
			struct fo_regex *re = fo_regex_new(p->pattern, &err);
			bool ok = re && fo_regex_full_match(re, n->str, n->len);
			fo_regex_free(re);
			if (!ok) {
				fo_diags_error(d, pos, "property '%s' of %s is '%s', which does not match the pattern '%s'",
					       p->name, what, text, p->pattern);
				return false;
			}
		}
		return true;
	case FO_PT_INT:
	case FO_PT_LONG: {
		int64_t i;
		if (!fo_parse_i64(text, &i) ||
		    (p->type == FO_PT_INT && (i < INT32_MIN || i > INT32_MAX))) {
			fo_diags_error(d, pos, "property '%s' of %s must be a whole number, not '%s'", p->name, what, text);
			return false;
		}
		if (!in_range(p, (double)i)) {
			range_error(d, pos, what, p, text);
			return false;
		}
		v->i = i;
		v->d = (double)i;
		return true;
	}
	case FO_PT_DOUBLE: {
		double x;
		if (!fo_parse_double(text, &x)) {
			fo_diags_error(d, pos, "property '%s' of %s must be a number, not '%s'", p->name, what, text);
			return false;
		}
		if (!in_range(p, x)) {
			range_error(d, pos, what, p, text);
			return false;
		}
		v->d = x;
		return true;
	}
	case FO_PT_BOOL:
		if (!parse_bool(text, &v->b)) {
			fo_diags_error(d, pos, "property '%s' of %s must be true or false, not '%s'", p->name, what, text);
			return false;
		}
		v->i = v->b;
		return true;
	case FO_PT_DURATION:
		if (fo_duration_parse(text, &v->ns)) {
			fo_diags_error(d, pos,
				       "property '%s' of %s must be a duration such as '500ms', '30s' or '5 minutes', "
				       "not '%s'",
				       p->name, what, text);
			return false;
		}
		if (p->has_range && !in_range(p, (double)v->ns / 1e9)) {
			fo_diags_error(d, pos, "property '%s' of %s is %s, outside the range %gs to %gs", p->name, what,
				       text, p->min, p->max);
			return false;
		}
		v->d = (double)v->ns / 1e9;
		return true;
	case FO_PT_ENUM:
		for (size_t i = 0; p->options && p->options[i]; i++) {
			if (strcasecmp(p->options[i], text) == 0) {
				v->str = p->options[i];
				return true;
			}
		}
		if (p->suggestions_only)
			return true;
		{
			const char *near = fo_suggest(text, p->options, count_opts(p->options));
			fo_diags_error(d, pos, "property '%s' of %s is '%s'; it must be one of: %s%s%s%s", p->name, what,
				       text, options_text(a, p->options), near ? " (did you mean '" : "",
				       near ? near : "", near ? "'?)" : "");
		}
		return false;
	case FO_PT_REGEX: {
		struct fo_err err = {0};
		struct fo_regex *re = fo_regex_new(text, &err);
		if (!re) {
			fo_diags_error(d, pos, "property '%s' of %s: %s", p->name, what, err.msg);
			return false;
		}
		fo_regex_free(re);
		return true;
	}
	case FO_PT_STRLIST:
		if (!to_list(a, n, &v->list, &v->nlist)) {
			fo_diags_error(d, pos, "property '%s' of %s must be a list of strings or a comma-separated string",
				       p->name, what);
			return false;
		}
		return true;
	case FO_PT_MAP:
		if (n->kind != FO_YMAP) {
			fo_diags_error(d, pos, "property '%s' of %s must be a map, not %s", p->name, what,
				       fo_ynode_describe(n));
			return false;
		}
		return true;
	case FO_PT_GROUP:
		for (size_t i = 0; ctx && i < ctx->ngroups; i++) {
			if (strcasecmp(ctx->group_names[i], text) == 0) {
				v->str = ctx->group_names[i];
				return true;
			}
		}
		if (!ctx) /* no ensemble to check against (registry self-test) */
			return true;
		{
			/* A role name stands for the group playing that role (every role has one). */
			enum fo_role r;
			if (fo_role_parse(text, &r) == 0) {
				v->str = fo_role_name(r);
				return true;
			}
		}
		{
			const char *near = fo_suggest(text, ctx->group_names, ctx->ngroups);
			fo_diags_error(d, pos, "property '%s' of %s names node group '%s', which does not exist%s%s%s",
				       p->name, what, text, near ? " (did you mean '" : "", near ? near : "",
				       near ? "'?)" : "");
		}
		return false;
	case FO_PT_RUNLEVEL: {
		enum fo_runlevel rl;
		if (fo_runlevel_parse(text, &rl)) {
			const char *near = fo_suggest(text, fo_stable_runlevel_names, 7);
			fo_diags_error(d, pos, "property '%s' of %s: '%s' is not a runlevel; runlevels are %s%s%s%s",
				       p->name, what, text, options_text(a, fo_stable_runlevel_names),
				       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			return false;
		}
		v->str = fo_runlevel_name(rl);
		v->i = rl;
		if (p->options && !p->suggestions_only) {
			for (size_t i = 0; p->options[i]; i++)
				if (strcasecmp(p->options[i], v->str) == 0)
					return true;
			fo_diags_error(d, pos, "property '%s' of %s: %s is not allowed here; it must be one of: %s", p->name,
				       what, v->str, options_text(a, p->options));
			return false;
		}
		return true;
	}
	case FO_PT_ROLE: {
		enum fo_role r;
		if (fo_role_parse(text, &r)) {
			fo_diags_error(d, pos,
				       "property '%s' of %s: '%s' is not a role; roles are server, client, observer, "
				       "controller",
				       p->name, what, text);
			return false;
		}
		v->str = fo_role_name(r);
		v->i = r;
		return true;
	}
	case FO_PT_FILES: {
		struct fo_filespec *specs = NULL;
		size_t ns = 0;
		if (fo_files_parse(a, n, &specs, &ns, d))
			return false;
		v->files = specs;
		v->nfiles = ns;
		return true;
	}
	case FO_PT_ANY:
	case FO__PT_COUNT:
		return true;
	}
	return true;
}

/* Finds the value written for p among the pairs: its name, or its deprecated name. */
static const struct fo_ypair *find_pair(const struct fo_prop *p, const struct fo_ypair *const *pairs, size_t n,
					bool *deprecated)
{
	*deprecated = false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(pairs[i]->key->str, p->name) == 0)
			return pairs[i];
	for (size_t i = 0; p->deprecated_name && i < n; i++) {
		if (strcmp(pairs[i]->key->str, p->deprecated_name) == 0) {
			*deprecated = true;
			return pairs[i];
		}
	}
	return NULL;
}

int fo_props_bind(struct fo_arena *a, const struct fo_component *c, const char *what,
		  const struct fo_ypair *const *pairs, size_t n, const struct fo_pos *pos,
		  const struct fo_props_ctx *ctx, struct fo_propset *out, struct fo_diags *d)
{
	size_t before = d->errors;
	size_t np = 0;
	while (c->props && c->props[np].name)
		np++;
	out->comp = c;
	out->n = np;
	out->v = FO_ANEWN(a, struct fo_propval, np ? np : 1);
	if (pos)
		out->pos = *pos;
	for (size_t i = 0; i < np; i++) {
		const struct fo_prop *p = &c->props[i];
		struct fo_propval *v = &out->v[i];
		v->prop = p;
		bool deprecated;
		const struct fo_ypair *pair = find_pair(p, pairs, n, &deprecated);
		if (pair && deprecated)
			fo_diags_warn(d, &pair->key->pos, "property '%s' of %s is deprecated; use '%s'",
				      p->deprecated_name, what, p->name);
		if (pair && !fo_ynode_is_null(pair->value)) {
			v->node = pair->value;
			v->set = check_value(a, p, pair->value, what, ctx, v, d);
			continue;
		}
		if (p->default_value) {
			struct fo_ynode *dn = fo_yaml_scalar(a, p->default_value, pos);
			v->set = check_value(a, p, dn, what, NULL, v, d);
			continue;
		}
		if (p->required)
			fo_diags_error(d, pair ? &pair->key->pos : pos, "%s requires property '%s' (%s)", what, p->name,
				       p->description ? p->description : fo_prop_type_name(p->type));
	}
	if (c->validate && d->errors == before)
		c->validate(out, d);
	return d->errors > before ? FO_EDEFINITION : 0;
}

bool fo_props_knows(const struct fo_component *c, const char *name)
{
	for (size_t i = 0; c->props && c->props[i].name; i++) {
		const struct fo_prop *p = &c->props[i];
		if (strcmp(p->name, name) == 0 || (p->deprecated_name && strcmp(p->deprecated_name, name) == 0))
			return true;
	}
	return false;
}

void fo_props_report_unknown(const struct fo_component *const *cs, size_t nc, const struct fo_ypair *const *pairs,
			     size_t n, const char *of_what, struct fo_diags *d)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = pairs[i]->key->str;
		bool known = false;
		for (size_t k = 0; k < nc && !known; k++)
			known = fo_props_knows(cs[k], name);
		if (known)
			continue;
		/* Gather every property name for the suggestion. */
		size_t total = 0;
		for (size_t k = 0; k < nc; k++)
			for (size_t j = 0; cs[k]->props && cs[k]->props[j].name; j++)
				total++;
		const char **names = fo_malloc((total ? total : 1) * sizeof(*names));
		size_t t = 0;
		for (size_t k = 0; k < nc; k++)
			for (size_t j = 0; cs[k]->props && cs[k]->props[j].name; j++)
				names[t++] = cs[k]->props[j].name;
		const char *near = fo_suggest(name, names, t);
		if (near)
			fo_diags_error(d, &pairs[i]->key->pos, "unknown property '%s' of %s (did you mean '%s'?)", name,
				       of_what, near);
		else if (t == 0)
			fo_diags_error(d, &pairs[i]->key->pos, "unknown property '%s' of %s, which takes no properties",
				       name, of_what);
		else
			fo_diags_error(d, &pairs[i]->key->pos, "unknown property '%s' of %s", name, of_what);
		fo_free(names);
	}
}

int fo_props_check_default(const struct fo_prop *p, struct fo_err *err)
{
	if (!p->default_value)
		return 0;
	struct fo_arena *a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_propval v = {.prop = p};
	struct fo_ynode *n = fo_yaml_scalar(a, p->default_value, NULL);
	check_value(a, p, n, "the default", NULL, &v, &d);
	int rc = 0;
	if (d.errors)
		rc = fo_err_set(err, FO_EINVAL, "%s", d.v[0].msg);
	fo_diags_release(&d);
	fo_arena_free(a);
	return rc;
}
