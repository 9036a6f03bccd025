/*
 * load.h: the load driver's engine, independent of the protocol it speaks. One call of
 * fo_load_run drives one client node: `threads` threads, each an epoll event loop over
 * its `connections` clients; a client keeps up to `pipeline` requests in flight on its
 * sockets (one per server it needs: one in standalone mode, one per shard in a cluster).
 *
 * Two models of load (Schroeder et al., "Open versus closed: a cautionary tale"):
 *   closed  (rate 0): each client sends as fast as the server answers (with a pipeline, it
 *           tops it up once half of it is answered, so the server reads batches);
 *   open    (rate R): requests are due on a fixed schedule (R per second over the
 *           node's clients), whatever the server does. A request's response time counts
 *           from when it was DUE, not from when it could be sent, so a server that stalls
 *           shows its stall in the percentiles instead of hiding it (no coordinated
 *           omission, as wrk2 and HdrHistogram's recordValueWithExpectedInterval mean).
 * Both record the response time (due to reply) and the service time (sent to reply) of
 * every request whose due time falls after the warm-up, per command and outcome, into
 * per-second HdrHistogram interval logs.
 *
 * The protocol is a table of functions (struct fo_load_proto): encoding a command,
 * parsing replies into outcomes and redirections, the key's slot and the discovery of a
 * sharded cluster. Redis (RESP) is the first: fo_load_proto_redis.
 */
#ifndef FO_LOAD_H
#define FO_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/cluster.h"
#include "load/workload.h"
#include "metrics/hdr.h"

struct fo_buf;
struct fo_err;

/* ---- the protocol ---- */

/* What a reply says about its request. */
enum fo_load_status {
	FO_LOAD_OK,       /* done; data holds the value read, if any */
	FO_LOAD_NIL,      /* done, nothing there (a GET of a missing key): counted as a miss */
	FO_LOAD_ERROR,    /* the server refused it: data is its message */
	FO_LOAD_REDIRECT  /* another node serves the key: see redirect */
};

struct fo_load_reply {
	enum fo_load_status status;
	const char *data;     /* borrowed until the next parse */
	size_t len;
	struct fo_cluster_redirect redirect;
};

struct fo_load_proto {
	const char *name;
	/* A parser for one connection. */
	void *(*parser_new)(void);
	void (*parser_free)(void *parser);
	void (*parser_reset)(void *parser);
	/* Parses the next reply from data[0..len): 1 with *out, 0 when all was taken and more is
	 * needed, <0 when the stream is broken (why says how). *used: bytes taken. */
	int (*parse)(void *parser, const char *data, size_t len, size_t *used, struct fo_load_reply *out, char *why,
		     size_t whyn);
	/* Appends command c for key and value. */
	void (*encode)(struct fo_buf *out, const struct fo_load_cmd *c, const char *key, size_t klen, const char *val,
		       size_t vlen);
	/* Appends what must precede a request sent after an ASK redirection; NULL: none. */
	void (*encode_asking)(struct fo_buf *out);
	/* The slot of a routing key (0..FO_CLUSTER_SLOTS-1). */
	unsigned (*slot)(const char *key, size_t len);
	/* Asks a server on a connected blocking socket for the cluster's slot map. Returns 1 and
	 * fills map for a cluster, 0 for a standalone server, or an error. host: where fd goes. */
	int (*discover)(int fd, const char *host, int64_t timeout_ns, struct fo_cluster_map *map, struct fo_err *err);
	/* The kind of an error reply for the counts (its first word: "ERR", "WRONGTYPE"). */
	void (*error_kind)(const char *msg, size_t len, char *out, size_t n);
};

extern const struct fo_load_proto fo_load_proto_redis;

/* ---- several client nodes starting together ---- */

/* Client nodes of one module wait for each other after connecting, so their intervals
 * line up; any node's failure to connect stops them all. */
struct fo_load_sync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int total, arrived;
	bool failed;
	int64_t t0;           /* the common start (monotonic ns) */
	int64_t t0_wall;      /* the same instant on the wall clock (ns since the epoch) */
};
void fo_load_sync_init(struct fo_load_sync *s, int nodes);
void fo_load_sync_release(struct fo_load_sync *s);

/* ---- one node's run ---- */

enum fo_load_cluster_mode { FO_CLUSTER_AUTO, FO_CLUSTER_ON, FO_CLUSTER_OFF };

struct fo_load_config {
	const struct fo_load_proto *proto;
	const char *const *targets;   /* "host:port"; at least one */
	size_t ntargets;
	enum fo_load_cluster_mode cluster;
	int threads;                  /* >= 1 */
	int connections;              /* clients per thread, >= 1 */
	int pipeline;                 /* requests in flight per client, >= 1 */
	const struct fo_load_mix *mix;
	uint64_t keys;                /* the key space: key numbers 0..keys-1 */
	enum fo_load_dist dist;
	double zipf_theta;
	const char *key_prefix;
	size_t value_size;
	int64_t warmup_ns;            /* not recorded */
	int64_t duration_ns;          /* measured time after the warm-up; 0: until `operations` */
	int64_t operations;           /* requests this node sends in all (warm-up too); 0: no limit;
				       * negative: none */
	double rate;                  /* requests per second from this node; 0: closed model */
	int64_t timeout_ns;           /* a request unanswered this long fails; its connection is reset */
	bool verify;                  /* check that reads return what this node's clients wrote */
	uint64_t seed;                /* 0: from the clock */
	/* This node's clients among every node's (key ownership with verify, sequential keys). */
	int64_t client_base;
	int64_t clients_total;
	/* Interval logs: <log_dir>/<log_name>.hdr (response time) and <log_name>-service.hdr;
	 * log_dir NULL: none. */
	const char *log_dir;
	const char *log_name;
	struct fo_load_sync *sync;    /* NULL: start alone */
	bool (*aborted)(void *ctx);   /* polled; true stops the run early. May be NULL. */
	void *ctx;
};

/* Figures of one command. */
struct fo_load_cmd_stats {
	int64_t ok, errors, misses;   /* measured requests */
	struct fo_hdr resp;           /* response times of its ok requests */
};

/* Errors of one kind ("connect", "closed", "timeout", "protocol", "verify", "ERR"...). */
struct fo_load_errkind {
	char kind[32];
	int64_t count;
};

struct fo_load_result {
	bool clustered;
	size_t nshards;               /* servers in use (the masters of a cluster) */
	int64_t ops;                  /* measured requests, ok and failed */
	int64_t errors;               /* measured failed requests */
	int64_t all_errors;           /* every error, warm-up and connection attempts included */
	int64_t misses;
	int64_t moved, asked;         /* redirections followed */
	double measured_s;            /* from the end of the warm-up to the last reply */
	struct fo_hdr resp;           /* response times of every ok request */
	struct fo_hdr svc;            /* service times of every ok request */
	struct fo_load_cmd_stats *cmds; /* one per command of the mix */
	size_t ncmds;
	struct fo_load_errkind *kinds;
	size_t nkinds, kcap;
	char failure[512];            /* why the run could not start (e.g. no connection), or "" */
};

/* Histogram range of every latency: 1 ns to an hour, 3 significant digits. */
#define FO_LOAD_HDR_LOWEST 1
#define FO_LOAD_HDR_HIGHEST 3600000000000LL
#define FO_LOAD_HDR_SIGFIGS 3

/*
 * Runs one node's load as cfg says and fills res (initialised here; release it with
 * fo_load_result_release). Returns 0 when the load ran (errors during it are counted in
 * res), or an error when it could not start (res->failure and err say why: no server
 * reachable, a cluster that does not serve every slot, a log that cannot be written).
 */
int fo_load_run(const struct fo_load_config *cfg, struct fo_load_result *res, struct fo_err *err);
/* Adds src's figures to dst (several nodes' into one). dst initialised by fo_load_result_init. */
void fo_load_result_init(struct fo_load_result *r, size_t ncmds);
void fo_load_result_merge(struct fo_load_result *dst, const struct fo_load_result *src);
void fo_load_result_release(struct fo_load_result *r);
/* Adds count errors of kind. */
void fo_load_result_count(struct fo_load_result *r, const char *kind, int64_t count);

#endif
