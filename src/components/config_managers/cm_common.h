/*
 * cm_common.h: what the configuration managers that run their own servers (etcd,
 * postgresql, redis) share: a command line being built, writing a text artifact, removing
 * each node's folder of the manager at unconfigure, and a TCP connection to a server
 * that gives up at a deadline.
 */
#ifndef FO_CM_COMMON_H
#define FO_CM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

struct fo_err;
struct fo_node;
struct fo_rgroup;

/* A command line being built: argv-style, for fo_cmd. Zero-initialise, then add. */
struct fo__cm_args {
	char **v; /* owned strings, NULL-terminated once n > 0 */
	size_t n, cap;
};

/* Appends one argument, formatted like printf. */
void fo__cm_args_addf(struct fo__cm_args *a, const char *fmt, ...) FO_PRINTF(2, 3);

/* Frees every argument and resets a to empty. */
void fo__cm_args_release(struct fo__cm_args *a);

/*
 * Writes text (borrowed) into node n's artifacts folder (made if missing) as name. Returns 0,
 * or an error in err ("cannot write 'PATH': ...").
 */
int fo__cm_write_artifact(struct fo_node *n, const char *name, const char *text, struct fo_err *err);

/*
 * Removes `n->dir/folder` on every node of g that has a folder, logging "WHO: removed PATH"
 * on the node's log, or setting "WHO: cannot remove 'PATH': ..." in err. Every node is
 * tried; returns 0 or the first error.
 */
int fo__cm_remove_folders(struct fo_rgroup *g, const char *folder, const char *who, struct fo_err *err);

/*
 * Waits until fd is ready for events (poll(2) flags) or the monotonic deadline (ns, as
 * fo_now_ns) passes. Returns 0 when ready, ETIMEDOUT when the deadline passed, or the
 * errno of a failed poll.
 */
int fo__cm_wait_fd(int fd, short events, int64_t deadline);

/*
 * Connects a non-blocking TCP socket to addr (IPv4, dotted) port port, waiting until
 * deadline (monotonic ns). Returns 0 with the connected socket (close-on-exec,
 * non-blocking; the caller closes it) in *fd, or FO_EINVAL ("'ADDR' is not an IPv4
 * address") or FO_ENET ("cannot connect to ADDR:PORT: ...", "ADDR:PORT did not answer in
 * time") in err (may be NULL) with *fd -1.
 */
int fo__cm_connect(const char *addr, int port, int64_t deadline, int *fd, struct fo_err *err);

#endif
