/*
 * props.h: property values of one component instance, checked against its property table.
 *
 * A propset is built from the YAML `properties` map a user wrote (or the shared bag of a
 * node group), each value checked for type, range, options and pattern, defaults filled
 * in, unknown names refused with a "did you mean", deprecated names mapped with a warning.
 */
#ifndef FO_PROPS_H
#define FO_PROPS_H

#include <stdbool.h>
#include <stdint.h>

#include "components/component.h"
#include "util/err.h"

struct fo_arena;
struct fo_diags;
struct fo_ynode;

/* One checked value. */
struct fo_propval {
	const struct fo_prop *prop;   /* its descriptor */
	const struct fo_ynode *node;  /* what the user wrote; NULL when from the default */
	bool set;                     /* a value is present (given or default) */
	const char *str;              /* the value as text (strings, enums: canonical case) */
	int64_t i;                    /* INT, LONG; BOOL as 0/1 */
	double d;                     /* DOUBLE */
	bool b;                       /* BOOL */
	int64_t ns;                   /* DURATION, in nanoseconds */
	const char *const *list;      /* STRLIST: NULL-terminated */
	size_t nlist;
};

/* The checked properties of one component instance. */
struct fo_propset {
	const struct fo_component *comp;
	const char *alias;            /* the instance's alias or group name, for messages */
	struct fo_propval *v;         /* one per entry of comp->props, same order */
	size_t n;
	struct fo_pos pos;            /* where the instance is written */
};

/* Returns the value of the named property, or NULL if the component has no such property. */
const struct fo_propval *fo_props_get(const struct fo_propset *ps, const char *name);
/* Typed getters: the value, or the fallback when unset. */
const char *fo_props_str(const struct fo_propset *ps, const char *name, const char *fallback);
int64_t fo_props_int(const struct fo_propset *ps, const char *name, int64_t fallback);
double fo_props_double(const struct fo_propset *ps, const char *name, double fallback);
bool fo_props_bool(const struct fo_propset *ps, const char *name, bool fallback);
int64_t fo_props_duration_ns(const struct fo_propset *ps, const char *name, int64_t fallback);

/*
 * Parses a duration: a number, optional spaces, then a unit (ns, us, ms, s, m, h, d, or a
 * word: nanoseconds, milliseconds, seconds, minutes, hours, days, singular or plural), or
 * a bare 0. Leading and trailing spaces are fine. Returns 0 and sets *ns, or FO_EINVAL.
 */
int fo_duration_parse(const char *s, int64_t *ns);
/* Writes a duration as the shortest exact text ("1500ms", "2s", "1h"). */
void fo_duration_format(int64_t ns, char *out, size_t n);

#endif
