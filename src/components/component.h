/*
 * component.h: what a component is. Every provisioner, configuration manager, module,
 * checker and artifact checker is one `const struct fo_component` in its own file, with
 * designated initializers, listed in the central table of registry.c (curl's protocol
 * table, nginx's ngx_module_t). The descriptor's property table is data (nginx's
 * ngx_command_t): it drives validation, defaults, `fallout components`, and the docs, so
 * documentation cannot drift from the code.
 *
 * Run-time hooks are added to this struct by the issues that run components.
 */
#ifndef FO_COMPONENT_H
#define FO_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>

struct fo_diags;
struct fo_propset;

enum fo_kind {
	FO_KIND_PROVISIONER,
	FO_KIND_CONFIG_MANAGER,
	FO_KIND_MODULE,
	FO_KIND_CHECKER,
	FO_KIND_ARTIFACT_CHECKER,
	FO__KIND_COUNT
};

/* The type of a property's value. */
enum fo_prop_type {
	FO_PT_STRING,   /* any scalar, as text; with .pattern it must fully match that regex */
	FO_PT_INT,      /* 32-bit integer; .min/.max when .has_range */
	FO_PT_LONG,     /* 64-bit integer; .min/.max when .has_range */
	FO_PT_DOUBLE,   /* number; .min/.max when .has_range */
	FO_PT_BOOL,     /* true/false */
	FO_PT_DURATION, /* "5ms", "   5 milliseconds", "2s", "1h", bare 0 */
	FO_PT_ENUM,     /* one of .options (case-insensitive) */
	FO_PT_REGEX,    /* a string that is itself a regular expression (PCRE2 syntax) */
	FO_PT_STRLIST,  /* a list of strings, or one comma-separated string */
	FO_PT_MAP,      /* a map of string keys to scalar values */
	FO_PT_FILE,     /* a path, usually written as <<file:NAME>> */
	FO_PT_GROUP,    /* a node group of the ensemble: its name, or a role it plays (server...) */
	FO_PT_RUNLEVEL, /* a stable node-group runlevel name */
	FO_PT_ROLE,     /* a node-group role: server, client, observer, controller */
	FO_PT_FILES,    /* a list of file specs, as in local_files */
	FO_PT_ANY,      /* any YAML value, checked by the component's validate hook */
	FO__PT_COUNT
};

/* One property a component accepts. Tables end with an entry whose name is NULL. */
struct fo_prop {
	const char *name;
	const char *description;  /* one or two sentences, for docs and `components` */
	enum fo_prop_type type;
	const char *default_value; /* as the user would write it; NULL: no default */
	bool required;
	bool has_range;            /* min and max apply (numbers; durations in seconds) */
	double min, max;
	const char *const *options; /* NULL-terminated; allowed values of an ENUM, or suggestions */
	bool suggestions_only;     /* options are examples, any value is allowed */
	const char *pattern;       /* STRING: a PCRE2 regex the whole value must match */
	const char *deprecated_name; /* an old name still accepted, with a warning */
};

/* Checks cross-property rules after each property was checked alone. Adds errors to d. */
typedef void (*fo_validate_fn)(const struct fo_propset *props, struct fo_diags *d);

struct fo_component {
	const char *name;        /* looked up ignoring case */
	enum fo_kind kind;
	const char *summary;     /* one line, no final stop */
	const char *description; /* a paragraph or more: what it does, when to use it */
	const char *example;     /* a YAML fragment showing typical use; may be NULL */
	const struct fo_prop *props; /* NULL-name terminated; may be NULL for none */
	fo_validate_fn validate; /* optional */
	bool fixture;            /* part of the test-only fixture set */
	const char *available;   /* NULL when it can run; else why not yet (shown to users) */
};

/* "provisioner", "configuration_manager", "module", "checker", "artifact_checker". */
const char *fo_kind_name(enum fo_kind kind);
/* The human form: "provisioner", "configuration manager", "module", ... */
const char *fo_kind_title(enum fo_kind kind);
/* Parses a kind name (either form, '-' or '_' or ' ' between words, plural accepted).
 * Returns 0 and sets *out, or FO_ENOTFOUND. */
int fo_kind_parse(const char *s, enum fo_kind *out);
/* "string", "int", "duration", ...: the type's name in docs. */
const char *fo_prop_type_name(enum fo_prop_type t);

/* Helpers for property tables. */
#define FO_RANGE(lo, hi) .has_range = true, .min = (lo), .max = (hi)
#define FO_OPTIONS(...) .options = (const char *const[]){__VA_ARGS__, NULL}

#endif
