/*
 * definition.h: a test definition, loaded and checked (FALLOUT-FORMAT.md section 1).
 *
 * Loading goes: read the file; split it into the defaults document and the definition
 * (the first and last of the `---`-separated documents); render the definition with
 * Mustache, the defaults as the outer scope and the run's parameters as the inner one;
 * parse the result as YAML (positions mapped back to what the user wrote); check all of
 * it and build the model below. Every problem is reported, each with its place, before
 * anything runs.
 */
#ifndef FO_DEFINITION_H
#define FO_DEFINITION_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/props.h"
#include "spec/runlevel.h"
#include "util/err.h"

struct fo_arena;
struct fo_diags;
struct fo_filespec;
struct fo_ynode;

/* A node group of the ensemble. */
struct fo_group {
	const char *name;          /* unique; the artifact folder name */
	unsigned roles;            /* bit (1u << enum fo_role) per role it plays */
	bool implicit;             /* made up by fallout (no ensemble, or `local`/`none`) */
	int node_count;
	struct fo_propset provisioner;
	struct fo_propset *cms;    /* configuration managers, in the order written */
	size_t ncms;
	enum fo_runlevel launch;   /* runlevel to set up to */
	enum fo_runlevel final;    /* runlevel to tear down to */
	bool has_final;            /* runlevel.final was given */
	bool mark_for_reuse;
	struct fo_pos pos;
};

enum fo_lifetime { FO_LIFETIME_ONCE, FO_LIFETIME_PHASE };

struct fo_phase;

/* One entry of a phase map: a module, or a list of sub-phases run in order. */
struct fo_phase_entry {
	const char *alias;
	struct fo_pos pos;
	bool is_module;
	struct fo_propset module;   /* is_module: the module and its properties */
	enum fo_lifetime lifetime;  /* is_module */
	struct fo_phase *sub;       /* !is_module: sub-phases, run in order */
	size_t nsub;
};

/* One item of a phases list: its entries run at the same time. */
struct fo_phase {
	struct fo_phase_entry *entries;
	size_t n;
	struct fo_pos pos;
};

/* A checker or artifact checker. */
struct fo_check {
	const char *alias;
	struct fo_propset props;
	struct fo_pos pos;
};

struct fo_def {
	struct fo_arena *a;         /* owns everything below */
	const char *file;           /* the definition's path, as given */
	const char *text;           /* the definition after templating (YAML) */
	size_t text_len;
	struct fo_ynode *defaults;  /* the defaults document (a map; may be empty) */
	struct fo_ynode *params;    /* the parameters given for this run (a map) */
	struct fo_ynode *root;      /* the definition as YAML */
	struct fo_group *groups;
	size_t ngroups;
	struct fo_filespec *files;  /* local_files */
	size_t nfiles;
	struct fo_phase *phases;
	size_t nphases;
	struct fo_check *checkers;
	size_t nchecks;
	struct fo_check *artifact_checkers;
	size_t nartifact_checks;
};

/* How to load a definition. */
struct fo_def_opts {
	const char *library;           /* folder of {{> partial}} templates; NULL: none */
	const struct fo_ynode *params; /* a map of template parameters; NULL: none */
	struct fo_arena *params_arena; /* unused by the loader; for callers' bookkeeping */
	size_t max_size;               /* largest definition file accepted; 0: 8 MiB */
};

/*
 * Loads and checks the definition in the file at path. On success returns 0 and an owned
 * *out (free with fo_def_free). Otherwise returns FO_EDEFINITION (or FO_ENOENT, FO_EIO,
 * FO_ETOOBIG) with every problem in d, and *out NULL. Warnings may be added either way.
 */
int fo_def_load(const char *path, const struct fo_def_opts *opts, struct fo_def **out, struct fo_diags *d);
/* As fo_def_load for text already in memory; name is used in positions. */
int fo_def_load_text(const char *name, const char *text, size_t len, const struct fo_def_opts *opts,
		     struct fo_def **out, struct fo_diags *d);
void fo_def_free(struct fo_def *def);

/* One `---`-separated document of a definition file (text borrowed from the file's). */
struct fo_def_doc {
	const char *text;
	size_t len;
	int line; /* 1-based line of its first character in the file */
};

/*
 * Splits the definition file text [text, text + len) at its separators (a line of '---'
 * then only blanks or a comment): *first is the first document (the defaults), *last the
 * last one (the definition); with a single document both are the whole text. Returns how
 * many documents there are. Borrows text.
 */
size_t fo_def_split_documents(const char *text, size_t len, struct fo_def_doc *first, struct fo_def_doc *last);

/* A test's name from its definition file's path: the base name without .yaml or .yml.
 * Returns it owned (fo_free). */
char *fo_def_name_of(const char *path);

/* Returns the group called name (ignoring case), or NULL. */
const struct fo_group *fo_def_group(const struct fo_def *def, const char *name);
/* Returns the first group playing role, or NULL. */
const struct fo_group *fo_def_role_group(const struct fo_def *def, enum fo_role role);

/*
 * Parses `name=value` into params (a map node from a; created when *params is NULL). The
 * value is read as a YAML scalar. Returns 0, or FO_EINVAL with the reason in err.
 */
int fo_params_add_arg(struct fo_arena *a, struct fo_ynode **params, const char *arg, struct fo_err *err);
/*
 * Adds the top-level entries of the YAML map in the file at path to params (the
 * arguments added later win). Returns 0 or an error with every problem in d.
 */
int fo_params_add_file(struct fo_arena *a, struct fo_ynode **params, const char *path, struct fo_diags *d);

#endif
