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
struct fo_ypair;
struct fo_filespec;

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
	const struct fo_filespec *files; /* FILES */
	size_t nfiles;
};

/* The checked properties of one component instance. */
struct fo_propset {
	const struct fo_component *comp;
	const char *alias;            /* the instance's alias or group name, for messages */
	struct fo_propval *v;         /* one per entry of comp->props, same order */
	size_t n;
	struct fo_pos pos;            /* where the instance is written */
};

/* What property checks need to know about the definition around them. */
struct fo_props_ctx {
	const char *const *group_names; /* the ensemble's node groups, for FO_PT_GROUP */
	size_t ngroups;
};

/*
 * Binds the properties of component c from the pairs a user wrote (name -> value; several
 * `properties` maps of one node group may contribute), checking each value against c's
 * table, applying defaults and reporting missing required ones. Names c does not know are
 * left alone (see fo_props_report_unknown). `what` names the instance in messages, e.g.
 * "module 'sleep'". pos is where the instance is written. Everything is allocated from a;
 * problems are added to d. Returns 0, or FO_EDEFINITION if an error was added.
 */
int fo_props_bind(struct fo_arena *a, const struct fo_component *c, const char *what,
		  const struct fo_ypair *const *pairs, size_t n, const struct fo_pos *pos,
		  const struct fo_props_ctx *ctx, struct fo_propset *out, struct fo_diags *d);
/* True if c has a property called name (or an old name for one). */
bool fo_props_knows(const struct fo_component *c, const char *name);
/*
 * Reports each pair whose name none of the nc components knows, with a "did you mean"
 * from all their property names: "unknown property 'x' of <of_what>".
 */
void fo_props_report_unknown(const struct fo_component *const *cs, size_t nc, const struct fo_ypair *const *pairs,
			     size_t n, const char *of_what, struct fo_diags *d);
/* Checks a default value against its property (for registry self-tests). Returns 0 or
 * FO_EINVAL with the reason in err. */
int fo_props_check_default(const struct fo_prop *p, struct fo_err *err);

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
