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
#include <sys/types.h>

#include "spec/runlevel.h"

struct fo_buf;
struct fo_cmd;
struct fo_cmd_result;
struct fo_diags;
struct fo_err;
struct fo_history;
struct fo_mctx;
struct fo_node;
struct fo_propset;
struct fo_rgroup;
struct fo_run;

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

/*
 * Run-time hooks. Every hook returns 0 or a negative FO_E* code with the reason in err.
 * Group hooks get the group and the component's properties (a provisioner's and the
 * configuration managers' come from the group's shared bag). A NULL hook succeeds.
 */
typedef int (*fo_group_step_fn)(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err);

struct fo_provisioner_ops {
	fo_group_step_fn reserve;  /* DESTROYED -> RESERVED: claim addresses, names */
	fo_group_step_fn create;   /* RESERVED -> CREATED: make the nodes */
	fo_group_step_fn prepare;  /* CREATED -> STOPPED */
	fo_group_step_fn start;    /* STOPPED -> STARTED_SERVICES_UNCONFIGURED */
	fo_group_step_fn stop;     /* STARTED_SERVICES_UNCONFIGURED -> STOPPED: stop every process */
	fo_group_step_fn destroy;  /* -> DESTROYED: remove everything, release the claims */
	/* What state are the nodes really in? Sets *out (UNKNOWN when it cannot tell). */
	int (*check_state)(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel *out,
			   struct fo_err *err);
	/* Runs a command on a node (see fo_node_exec). */
	int (*exec)(struct fo_node *n, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err);
	/* Starts and stops a supervised long-running process (see fo_node_start_service). */
	int (*start_service)(struct fo_node *n, const char *name, const struct fo_cmd *cmd, struct fo_err *err);
	int (*stop_service)(struct fo_node *n, const char *name, struct fo_err *err);
	/* Copies path (relative to the node's folder, or absolute) to dest (absolute). */
	int (*collect)(struct fo_node *n, const char *path, const char *dest, struct fo_err *err);
	/*
	 * For the node sampler (metrics/sampler.h), which may call these from its own thread
	 * at any time while the run is RUNNING; both must be cheap (no process, no network).
	 * service_pids: the process group (= the leader's pid) of every service running on n.
	 * command_pids: the process groups of the commands run on n (fo_node_exec: modules'
	 * scripts and load drivers) that still have a live member. Each writes at most max
	 * pids into out and returns how many there are (which may exceed max), or a negative
	 * FO_E* code. NULL: the provisioner cannot tell (the node gets no such figures).
	 */
	int (*service_pids)(struct fo_node *n, pid_t *out, size_t max);
	int (*command_pids)(struct fo_node *n, pid_t *out, size_t max);
	/*
	 * For the fault modules (modules/fault_common.h); NULL: the provisioner cannot, and
	 * the faults that need the hook refuse to run. services: calls fn with the name and
	 * process group of every service on n (under the provisioner's lock: fn only copies)
	 * and returns how many. kill_service: SIGKILLs the service's process group as a
	 * fault: its end is expected (logged, not a failure) and it stays known, so that
	 * restart_service can start it again. restart_service: stops the service if it still
	 * runs, then starts it again with the command it was last started with. network: the
	 * network namespace n lives in (its `ip netns` name) into netns and the interface in
	 * it that reaches the other nodes into dev; FO_EUNSUPPORTED when n shares this
	 * machine's network, which faults never touch.
	 */
	int (*services)(struct fo_node *n, void (*fn)(void *ctx, const char *name, pid_t pgid), void *ctx);
	int (*kill_service)(struct fo_node *n, const char *name, struct fo_err *err);
	int (*restart_service)(struct fo_node *n, const char *name, struct fo_err *err);
	int (*network)(struct fo_node *n, struct fo_buf *netns, struct fo_buf *dev, struct fo_err *err);
};

struct fo_cm_ops {
	fo_group_step_fn configure;      /* ..._UNCONFIGURED -> ..._CONFIGURED */
	fo_group_step_fn start_services; /* ..._CONFIGURED -> ..._RUNNING */
	fo_group_step_fn stop_services;  /* ..._RUNNING -> ..._CONFIGURED */
	fo_group_step_fn unconfigure;    /* ..._CONFIGURED -> ..._UNCONFIGURED */
	int (*check_state)(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel *out,
			   struct fo_err *err);
	/* Copies logs and configuration into the nodes' artifact folders (services still up). */
	fo_group_step_fn collect_artifacts;
	/*
	 * Optional: the service's own statistics on node n, for the node sampler, which calls
	 * it once a second from its own thread while the group is STARTED_SERVICES_RUNNING.
	 * Appends `"name":number` pairs separated by commas (no braces) to json_fields; names
	 * are bare (the sampler prefixes the component's name: "redis.clients"), lower case,
	 * and end in a unit suffix (_bytes, _pct, _per_s) when they have one. A name ending
	 * in `_total` is a cumulative counter: the sampler writes its rate per second instead,
	 * as NAME_per_s with `_total` dropped. Must be cheap: one round trip to the server, a
	 * short deadline (the sampler's second is shared by every node), no process started.
	 * Returns 0, or an error (the sampler skips the node's service figures for a while).
	 */
	int (*sample)(struct fo_node *n, const struct fo_propset *props, struct fo_buf *json_fields,
		      struct fo_err *err);
};

struct fo_module_ops {
	int (*setup)(struct fo_mctx *m, struct fo_err *err);    /* optional, once */
	int (*run)(struct fo_mctx *m, struct fo_err *err);      /* emits operations */
	int (*teardown)(struct fo_mctx *m, struct fo_err *err); /* optional, once, always after setup */
};

/* A checker judges the history. Sets *passed and explains in msg. */
struct fo_checker_ops {
	int (*check)(const struct fo_propset *props, const struct fo_history *h, bool *passed, struct fo_buf *msg,
		     struct fo_err *err);
};

/* An artifact checker judges the run's artifacts (run folder, after teardown). */
struct fo_artifact_checker_ops {
	int (*check)(const struct fo_propset *props, struct fo_run *r, bool *passed, struct fo_buf *msg,
		     struct fo_err *err);
};

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
	/* run-time hooks: the one matching kind is set */
	const struct fo_provisioner_ops *provisioner;
	const struct fo_cm_ops *cm;
	const struct fo_module_ops *module;
	const struct fo_checker_ops *checker;
	const struct fo_artifact_checker_ops *artifact_checker;
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
