/*
 * module_common.h: what the workload modules that drive a tool from a group's nodes
 * (pgbench, redis_benchmark, kvload, bash) and the fault modules share: finding the group
 * they run from and naming its nodes, choosing nodes by `target.ordinals`, finding what
 * they point at (a property, else a fact the server group's configuration manager
 * published), running a tool on a node, and running one job per node at once.
 */
#ifndef FO_MODULE_COMMON_H
#define FO_MODULE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

struct fo_diags;
struct fo_mctx;
struct fo_node;
struct fo_propset;
struct fo_propval;
struct fo_rgroup;

/*
 * The group named gname (borrowed) in m's run. When there is none, or it has no node,
 * emits `invoke` gname and `fail` "there is no node group 'GNAME'" and returns NULL.
 */
struct fo_rgroup *fo__module_group(struct fo_mctx *m, const char *gname);

/*
 * Appends "GROUP: node0, node1..." naming g and its nodes (the modules' `invoke` value).
 */
void fo__module_add_nodes(struct fo_buf *b, const struct fo_rgroup *g);

/*
 * The nodes of g that ords (a `target.ordinals` list of node numbers or `all`; NULL or
 * unset: all) names, in ordinal order, into *sel (owned, room for one more; *nsel of
 * them). Returns 0, or FO_EINVAL when an ordinal is out of range, the reason in err.
 */
int fo__module_select_nodes(struct fo_rgroup *g, const struct fo_propval *ords, struct fo_node ***sel,
			    size_t *nsel, struct fo_err *err);

/*
 * The validate hook's part for property `target.ordinals` of ps: each entry must be `all`
 * or a node number from 0, else an error goes to d. Returns how many node numbers it
 * lists; *all (may be NULL) tells whether it is unset or lists `all`.
 */
size_t fo__module_validate_ordinals(const struct fo_propset *ps, struct fo_diags *d, bool *all);

/*
 * What the module points at, appended to out: the property prop expanded for node when it
 * is set, else the fact provider:fact of the `server` group's first node. Returns 0, or an
 * error in err: the expansion's, or FO_ENOTFOUND with the message missing (borrowed).
 */
int fo__module_target(struct fo_mctx *m, struct fo_node *node, const char *prop, const char *provider,
		      const char *fact, const char *missing, struct fo_buf *out, struct fo_err *err);

/*
 * One node's run of a tool, for fo__module_exec_job. The caller fills node, argv,
 * log_prefix, timeout_ns and out (fo_buf_init with a cap) and releases out; the rest is
 * the outcome.
 */
struct fo__module_job {
	struct fo_node *node;
	const char *const *argv; /* borrowed, NULL-terminated */
	const char *log_prefix;  /* borrowed: written before the output in the node's log */
	int64_t timeout_ns;
	struct fo_buf out;       /* stdout, capped */
	struct fo_cmd_result res;
	int rc;                  /* fo_node_exec's: 0 when it ran (see res) */
	struct fo_err err;
};

/*
 * One job per node of g (owned, g->n of them; free with fo__module_jobs_free), each
 * running argv (borrowed) with log_prefix (borrowed, may be NULL) and timeout_ns, its
 * output captured up to capture_max bytes.
 */
struct fo__module_job *fo__module_jobs_new(struct fo_rgroup *g, const char *const *argv, const char *log_prefix,
					   int64_t timeout_ns, size_t capture_max);

/* Frees the n jobs of fo__module_jobs_new (NULL is fine). */
void fo__module_jobs_free(struct fo__module_job *jobs, size_t n);

/*
 * Why job j of the program named tool (borrowed) failed, written into tmp (n bytes) and
 * returned: it could not run, it timed out, or it ended with a status other than 0.
 * NULL when it exited 0.
 */
const char *fo__module_job_failure(const struct fo__module_job *j, const char *tool, char *tmp, size_t n);

/*
 * Runs job (a struct fo__module_job *) on its node, in the node's folder, its output
 * logged to the node's log after log_prefix and captured in out. Returns NULL, so it can
 * be a thread's start routine.
 */
void *fo__module_exec_job(void *job);

/*
 * Runs fn on each of the n jobs (an array of elements of size bytes, borrowed) at once:
 * the first on this thread, the others each on a thread of its own (on this thread, after
 * the first, when a thread cannot be started). Returns when every job is done.
 */
void fo__module_run_jobs(void *jobs, size_t n, size_t size, void *(*fn)(void *));

#endif
