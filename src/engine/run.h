/*
 * run.h: a run at run time: its node groups and nodes, what components may ask of them,
 * and the run's life (FALLOUT-FORMAT.md sections 2 to 4).
 *
 * A run is made from a checked definition (spec/definition.h) and an output folder. It
 * goes CREATED -> PREPARING_RUN -> CHECKING_RESOURCES -> RESERVING_RESOURCES ->
 * ACQUIRING_RESOURCES -> SETTING_UP -> RUNNING -> TEARING_DOWN -> CHECKING_ARTIFACTS ->
 * PASSED | FAILED | ABORTED, rewriting testrun.json atomically at every change. The first
 * failure recorded wins, with the state it happened in (failedDuring).
 *
 * Components see a run through the functions below; they never touch its insides.
 */
#ifndef FO_RUN_H
#define FO_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/history.h"
#include "engine/log.h"
#include "spec/definition.h"
#include "spec/runlevel.h"
#include "util/proc.h"

struct fo_err;
struct fo_ledger;
struct fo_run;
struct fo_rgroup;
struct fo_rgroup_x;
struct fo_fact;

#define FO_RUN_STATE_MAP(XX)     \
	XX(CREATED)              \
	XX(PREPARING_RUN)        \
	XX(CHECKING_RESOURCES)   \
	XX(WAITING_FOR_RESOURCES)\
	XX(RESERVING_RESOURCES)  \
	XX(ACQUIRING_RESOURCES)  \
	XX(SETTING_UP)           \
	XX(RUNNING)              \
	XX(TEARING_DOWN)         \
	XX(CHECKING_ARTIFACTS)   \
	XX(PASSED)               \
	XX(FAILED)               \
	XX(ABORTED)

enum fo_run_state {
#define XX(name) FO_RUN_##name,
	FO_RUN_STATE_MAP(XX)
#undef XX
	FO__RUN_STATE_COUNT
};

const char *fo_run_state_name(enum fo_run_state s);

/* A node at run time. */
struct fo_node {
	struct fo_rgroup *group;
	int ordinal;              /* 0-based */
	char name[32];            /* "node0" */
	char address[64];         /* where its services listen, e.g. 127.0.1.1 */
	char *dir;                /* the node's own folder (work area); owned by the provisioner */
	char *artifacts;          /* <run>/<group>/<name>/: collected files go here */
	struct fo_log *log;       /* fallout-node.log */
	void *impl;               /* the provisioner's */
	struct fo_fact *facts;    /* published with fo_node_publish (the engine's) */
};

/* A node group at run time. */
struct fo_rgroup {
	const struct fo_group *spec;     /* from the definition */
	struct fo_run *run;
	enum fo_runlevel state;          /* current runlevel (transitional while a step runs) */
	struct fo_node *nodes;
	size_t n;
	char *artifacts;                 /* <run>/<group>/ */
	struct fo_log *log;              /* fallout-nodegroup.log */
	void *impl;                      /* the provisioner's */
	void **cm_impl;                  /* one per configuration manager */
	bool reused;                     /* found running from an earlier run (mark_for_reuse) */
	struct fo_rgroup_x *x;           /* the engine's */
};

/* ---- what components may ask ---- */

/* The run's logger, history, folder, id. */
struct fo_log *fo_run_log(struct fo_run *r);
struct fo_history *fo_run_history(struct fo_run *r);
const char *fo_run_dir(const struct fo_run *r);
const char *fo_run_id(const struct fo_run *r);
/* The run's work area (node folders live below it), created on demand. */
const char *fo_run_work_dir(struct fo_run *r);
struct fo_ledger *fo_run_ledger(struct fo_run *r);
/* The groups, and a group by name or role (NULL if none). */
size_t fo_run_ngroups(const struct fo_run *r);
struct fo_rgroup *fo_run_group_at(struct fo_run *r, size_t i);
struct fo_rgroup *fo_run_group(struct fo_run *r, const char *name_or_role);
/* The group index (0-based) among the run's groups. */
size_t fo_rgroup_index(const struct fo_rgroup *g);
/* The group's runlevel now, readable from any thread without the group's lock (it may
 * change right after; transitional while a step runs). */
enum fo_runlevel fo_rgroup_state(const struct fo_rgroup *g);

/* True once the run is being aborted: modules must stop soon and emit what they have. */
bool fo_run_aborted(const struct fo_run *r);
/* Sleeps ns, waking early on abort. Returns 0, or FO_EINVAL... no: 1 when aborted. */
int fo_run_sleep(struct fo_run *r, int64_t ns);

/*
 * Runs a command on a node through its provisioner, with output appended to the node's log
 * (and into cmd->capture when set). Returns 0 when it ran (see res for its status).
 */
int fo_node_exec(struct fo_node *node, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err);
/*
 * Starts a supervised long-running process on a node (own process group; an unexpected
 * exit is logged as an error and recorded in the history). name identifies it on the
 * node. Returns 0 or an error.
 */
int fo_node_start_service(struct fo_node *node, const char *name, const struct fo_cmd *cmd, struct fo_err *err);
/* Stops a service started with fo_node_start_service. */
int fo_node_stop_service(struct fo_node *node, const char *name, struct fo_err *err);
/*
 * For faults, through the provisioner's hooks of the same names (component.h); each
 * fails with FO_EUNSUPPORTED, naming the provisioner, when it has none. fo_node_services
 * calls fn(ctx, name, process group) for each service on the node and returns how many.
 * fo_node_kill_service SIGKILLs a service as a fault (its end is not a failure);
 * fo_node_restart_service starts it again (stopping it first if it runs) with the command
 * it was started with. fo_node_network sets netns and dev to the node's network
 * namespace and its interface to the other nodes.
 */
int fo_node_services(struct fo_node *node, void (*fn)(void *ctx, const char *name, pid_t pgid), void *ctx,
		     struct fo_err *err);
int fo_node_kill_service(struct fo_node *node, const char *name, struct fo_err *err);
int fo_node_restart_service(struct fo_node *node, const char *name, struct fo_err *err);
int fo_node_network(struct fo_node *node, struct fo_buf *netns, struct fo_buf *dev, struct fo_err *err);
/*
 * Publishes a fact about a node for other components, readable in definitions as
 * <<provider:GROUP:ORDINAL:PROVIDER:KEY>> (e.g. provider "redis", key "port"). Replaces an
 * earlier value of the same provider and key. Thread-safe; strings are copied.
 */
void fo_node_publish(struct fo_node *node, const char *provider, const char *key, const char *value);
/* The fact published for provider and key, or NULL. The string lives as long as the run. */
const char *fo_node_fact(struct fo_node *node, const char *provider, const char *key);

/* Copies a file or folder from the node (path relative to its folder, or absolute) into
 * the node's artifacts folder under dest (relative). */
int fo_node_collect(struct fo_node *node, const char *path, const char *dest, struct fo_err *err);

/*
 * Appends s to out with its <<type:key>> references expanded for node (may be NULL):
 * <<file:PATH>> is the absolute path of a local_files entry (the run's managed_files/), or
 * of a remote_files entry on the node; <<secret:NAME>> comes from the environment variable
 * FALLOUT_SECRET_<NAME> (with `fallout exec`) and is redacted from every log from then on;
 * <<provider:GROUP:ORDINAL:node:KEY>> is a node fact: address, name, dir, ordinal.
 * Returns 0 or an error naming the reference.
 */
int fo_run_expand(struct fo_run *r, struct fo_node *node, const char *s, struct fo_buf *out, struct fo_err *err);

/*
 * Moves a group to a stable runlevel, one step at a time (never past it), through its
 * provisioner and configuration managers. On a failed step the group is FAILED and the
 * run records the failure. Returns 0 or the step's error. Thread-safe per group.
 */
int fo_rgroup_transition(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err);
/*
 * As fo_rgroup_transition, but refuses (FO_EUNSUPPORTED, nothing moved) to go down to
 * STARTED_SERVICES_UNCONFIGURED or below from a configured state, since unconfiguring the
 * services would lose their artifacts before they are collected. The check and the move
 * happen under the group's lock, so two modules cannot race past it.
 */
int fo_rgroup_transition_keeping_artifacts(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err);

/* ---- module context ---- */

/* What a module instance gets while it runs. */
struct fo_mctx {
	struct fo_run *run;
	const struct fo_propset *props;
	const char *alias;        /* the module's alias (the history's process) */
	const char *module;       /* its component name */
	void *state;              /* the module's own, between setup, run and teardown */
	unsigned iteration;       /* 0 for the first run; repetitions of a phase-lifetime module count up */
};

/* Emits an operation of this module (thread-safe; any thread). value may be NULL. */
void fo_emit(struct fo_mctx *m, enum fo_op_type type, const char *value);
/* As fo_emit with a media type ("application/json"...). */
void fo_emit_media(struct fo_mctx *m, enum fo_op_type type, const char *media_type, const char *value);
/* printf-style fo_emit. */
void fo_emitf(struct fo_mctx *m, enum fo_op_type type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- the run itself (for exec and, later, the server) ---- */

struct fo_run_opts {
	const char *out_dir;       /* the run folder: created; must be absent or empty */
	const char *test_name;
	const char *run_id;        /* NULL: a new UUID */
	const char *owner;         /* NULL: the user's name */
	const char *definition_file;
	/* Progress for a person: called on every state change and phase event. */
	void (*progress)(void *ctx, const struct fo_run *r, const char *event);
	void *progress_ctx;
};

/* Writes a new random run id (a version-4 UUID) into out. */
void fo_run_new_id(char out[37]);
/* Creates a run of def (borrowed; must outlive the run). Returns NULL with err set. */
struct fo_run *fo_run_new(const struct fo_def *def, const struct fo_run_opts *opts, struct fo_err *err);
/* Runs it to the end. Returns the final state. */
enum fo_run_state fo_run_execute(struct fo_run *r);
/* Asks the run to abort (safe from a signal handler: sets a flag and writes to a pipe). */
void fo_run_request_abort(struct fo_run *r);
void fo_run_free(struct fo_run *r);

enum fo_run_state fo_run_state(const struct fo_run *r);
/* The state the first failure happened in (FO__RUN_STATE_COUNT when none), and why. */
enum fo_run_state fo_run_failed_during(const struct fo_run *r);
const char *fo_run_failure(const struct fo_run *r);
/* Records a failure; the first one wins. */
void fo_run_fail(struct fo_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Records a note for whoever reads the run: something that did not fail it but puts its
 * results in doubt ("load driver on client/node0 saturated its CPU ..."). Logged as a
 * WARN, listed in the summary and in testrun.json "notes", in the order recorded.
 * Thread-safe.
 */
void fo_run_note(struct fo_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The notes so far; *out borrows them (valid until the next fo_run_note or the run is freed). */
size_t fo_run_notes(const struct fo_run *r, const char *const **out);

/* A checker's verdict, for the summary. */
struct fo_verdict {
	const char *alias;
	const char *checker;     /* component name */
	bool artifact;           /* an artifact checker */
	bool passed;
	const char *message;
};
size_t fo_run_verdicts(const struct fo_run *r, const struct fo_verdict **out);
/* Wall-clock start and end of the run, in ns since the epoch (end 0 while running). */
int64_t fo_run_started_at(const struct fo_run *r);
int64_t fo_run_finished_at(const struct fo_run *r);
/* The phase path being run now ("load/steps/second"), for progress; may be "". */
void fo_run_describe_activity(const struct fo_run *r, char *out, size_t n);

#endif
