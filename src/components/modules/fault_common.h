/*
 * fault_common.h: what the fault modules (kill, pause, restart, partition, throttle,
 * delete_data) share: choosing the target nodes, the schedule, the history, and healing.
 *
 * A fault module is a table of its own (struct fo_fault_ops: a verb and an inject
 * function) plus the shared property entries below; fo_fault_run does the rest. It emits
 * `invoke`, sleeps `delay`, then for each of `iterations` faults: chooses the targets
 * (`target.ordinals` of `target.group`, or `target.count` of them at random, reproducibly
 * from `seed`), injects, emits an `info` "inject VERB GROUP/NODE..." (JSON: fault, nodes,
 * start), waits the fault's duration, heals, emits an `info` "heal ..." (JSON with start,
 * end and duration), and waits until the next fault is due (`interval` after the last
 * one started, and at least `recovery` after it was healed). Then `ok`, or `fail` when a
 * fault could not be injected or healed.
 *
 * Healing is guaranteed. An inject function records what heals it through the helpers
 * below (fo_fault_stop, fo_fault_nft, fo_fault_tc, fo_fault_restart_later), which write it
 * in the run's ledger before applying it; the fault heals at its end, at once on abort
 * (fo_run_sleep wakes up), in the module's teardown if its run ended early, and, after a
 * killed run, in `fallout cleanup` (ledger.h). Healing commands (nft, tc) are run here,
 * not through proc.c, so the abort that stops every command cannot stop a heal.
 *
 * Network faults act only inside the network namespaces of nodes whose provisioner gives
 * them one (the provisioner's `network` hook): never on this machine's own network.
 */
#ifndef FO_FAULT_COMMON_H
#define FO_FAULT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "components/component.h"
#include "util/buf.h"

struct fo_err;
struct fo_fault;
struct fo_mctx;
struct fo_node;
struct fo_rgroup;

/* One fault module. */
struct fo_fault_ops {
	const char *verb;          /* "kill": the history says "inject kill server/node1" */
	const char *duration_prop; /* the property saying how long a fault lasts before it is
	                            * healed ("duration", "restart.after"); NULL or unset:
	                            * healed at once */
	/* Optional: checks once, before the first fault, that the fault can run on group g. */
	int (*check)(struct fo_fault *f, struct fo_rgroup *g, struct fo_err *err);
	/* Injects the fault on fo_fault_targets, recording what heals it with the helpers
	 * below; may add words to *detail (the history's "detail"). */
	int (*inject)(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err);
};

/* The module's hooks: setup (once; ops must be static), run, teardown (heals leftovers). */
int fo_fault_setup(struct fo_mctx *m, const struct fo_fault_ops *ops, struct fo_err *err);
int fo_fault_run(struct fo_mctx *m, struct fo_err *err);
int fo_fault_teardown(struct fo_mctx *m, struct fo_err *err);
/* Checks the shared properties (ordinals are numbers, count fits them). */
void fo_fault_validate(const struct fo_propset *ps, struct fo_diags *d);

/* The module's context and properties. */
struct fo_mctx *fo_fault_mctx(struct fo_fault *f);
/* The current fault's targets, in the order chosen (random order with target.random),
 * and the other nodes of the group, in ordinal order. Borrowed. */
struct fo_node *const *fo_fault_targets(const struct fo_fault *f, size_t *n);
struct fo_node *const *fo_fault_others(const struct fo_fault *f, size_t *n);

/* A service on a node, for the faults that act on services. */
struct fo_fault_svc {
	char name[64];
	pid_t pgid;  /* its process group */
};
/*
 * The services of node n the module's `service` property names (every one when unset).
 * Sets *out (owned, free with fo_free) and *n. Fails when there is none.
 */
int fo_fault_services(struct fo_fault *f, struct fo_node *n, struct fo_fault_svc **out, size_t *count,
		      struct fo_err *err);

/* Stops process group pgid (of a service on n) with SIGSTOP; healed with SIGCONT. */
int fo_fault_stop(struct fo_fault *f, struct fo_node *n, pid_t pgid, struct fo_err *err);
/* Heals by restarting service name on n (fo_node_restart_service); not after an abort. */
void fo_fault_restart_later(struct fo_fault *f, struct fo_node *n, const char *name);
/*
 * Adds an nftables table (family inet) holding chains (the table's body, e.g.
 * "chain input { type filter hook input priority 0; ip saddr 10.0.0.2 drop; }") in n's
 * network namespace; healed by deleting the table.
 */
int fo_fault_nft(struct fo_fault *f, struct fo_node *n, const char *chains, struct fo_err *err);
/* Adds a root qdisc (qdisc: "tbf", "rate", "1mbit", ..., NULL) on the interface of n's
 * network namespace; healed by deleting it. */
int fo_fault_tc(struct fo_fault *f, struct fo_node *n, const char *const *qdisc, struct fo_err *err);
/* Checks that n has a network namespace of its own (fo_node_network), saying why not. */
int fo_fault_need_network(struct fo_fault *f, struct fo_node *n, struct fo_err *err);

/* ---- the shared property entries, for the modules' tables ---- */

#define FO_FAULT_TARGET_PROPS                                                                                  \
	{                                                                                                      \
		.name = "target.group",                                                                        \
		.description = "The node group whose nodes get the fault: its name or a role it plays.",      \
		.type = FO_PT_GROUP, .default_value = "server",                                                \
		.options = (const char *const[]){"server", "client", NULL}, .suggestions_only = true,          \
	},                                                                                                     \
	{                                                                                                      \
		.name = "target.ordinals",                                                                     \
		.description = "The nodes that may get the fault: node ordinals counted from 0, e.g. `0,2`, "  \
			       "or `all`.",                                                                    \
		.type = FO_PT_STRLIST, .default_value = "all",                                                 \
	},                                                                                                     \
	{                                                                                                      \
		.name = "target.random",                                                                       \
		.description = "Choose `target.count` of those nodes at random for each fault (the same "      \
			       "`seed` makes the same choices).",                                              \
		.type = FO_PT_BOOL, .default_value = "false",                                                  \
	},                                                                                                     \
	{                                                                                                      \
		.name = "target.count",                                                                        \
		.description = "How many nodes get each fault: chosen at random with `target.random`, else "   \
			       "the first ones listed. Default: 1 with `target.random`, else all listed.",    \
		.type = FO_PT_INT, FO_RANGE(1, 1000),                                                          \
	},                                                                                                     \
	{                                                                                                      \
		.name = "seed",                                                                                \
		.description = "The seed of the random choice of nodes: a run with the same seed faults "     \
			       "the same nodes in the same order.",                                            \
		.type = FO_PT_LONG, .default_value = "0", FO_RANGE(0, 9007199254740991.0),                     \
	}

#define FO_FAULT_SERVICE_PROP                                                                                  \
	{                                                                                                      \
		.name = "service", .type = FO_PT_STRING,                                                       \
		.description = "The service the fault acts on (the name its configuration manager gave it, "  \
			       "e.g. `redis`). Unset: every service of the node.",                             \
	}

#define FO_FAULT_SCHEDULE_PROPS                                                                                \
	{                                                                                                      \
		.name = "delay",                                                                               \
		.description = "How long to wait before the first fault.",                                     \
		.type = FO_PT_DURATION, .default_value = "0",                                                  \
	},                                                                                                     \
	{                                                                                                      \
		.name = "iterations",                                                                          \
		.description = "How many faults to inject, one after the other.",                              \
		.type = FO_PT_INT, .default_value = "1", FO_RANGE(1, 1000000),                                 \
	},                                                                                                     \
	{                                                                                                      \
		.name = "interval",                                                                            \
		.description = "The time from the start of one fault to the start of the next.",               \
		.type = FO_PT_DURATION, .default_value = "0",                                                  \
	},                                                                                                     \
	{                                                                                                      \
		.name = "recovery",                                                                            \
		.description = "The least time between healing a fault and injecting the next, for the "      \
			       "system to recover.",                                                           \
		.type = FO_PT_DURATION, .default_value = "0",                                                  \
	}

#endif
