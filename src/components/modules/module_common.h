/*
 * module_common.h: what the workload modules that drive a tool from a group's nodes
 * (pgbench, redis_benchmark, kvload, bash) share: finding the group they run from,
 * finding what they point at (a property, else a fact the server group's configuration
 * manager published), running a tool on a node, and running one job per node at once.
 */
#ifndef FO_MODULE_COMMON_H
#define FO_MODULE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

struct fo_mctx;
struct fo_node;
struct fo_rgroup;

/*
 * The group named gname (borrowed) in m's run. When there is none, or it has no node,
 * emits `invoke` gname and `fail` "there is no node group 'GNAME'" and returns NULL.
 */
struct fo_rgroup *fo__module_group(struct fo_mctx *m, const char *gname);

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
