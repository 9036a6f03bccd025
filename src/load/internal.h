/*
 * internal.h: the insides of the load driver, shared by load.c (one node: discovery,
 * threads, interval logs, results) and loop.c (one thread's event loop: connections,
 * clients, requests). Not for use outside src/load/.
 */
#ifndef FO_LOAD_INTERNAL_H
#define FO_LOAD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "load/load.h"
#include "metrics/hdrlog.h"
#include "util/buf.h"

#define FO__LOAD_IV_NS 1000000000LL /* the interval of the logs: one second */
#define FO__LOAD_RING 4             /* intervals being gathered at once */
#define FO__LOAD_MAX_REDIRECTS 5    /* a request redirected more often fails */
#define FO__LOAD_TAINT 0x80000000u  /* versions[]: the key's value is not known */

struct fo__load_client;
struct fo__load_node;

/* A request from its issue to its final reply. */
struct fo__load_req {
	int64_t due;                /* when it was due (open model) or issued (closed) */
	int64_t sent;               /* when it was first written; 0 while held */
	uint64_t key;
	struct fo__load_client *cl;
	uint32_t version;           /* WRITE: the version it stores; READ: the one expected */
	uint16_t cmd;
	uint8_t internal;           /* an ASKING whose reply is skipped */
	uint8_t redirects;
};

enum { FO__CONN_CLOSED, FO__CONN_CONNECTING, FO__CONN_UP };

/* One socket of a client to one server. */
struct fo__load_conn {
	struct fo__load_thread *t;
	struct fo__load_client *cl;
	int addr;                   /* index into the thread's addresses */
	int fd;                     /* -1 while closed */
	int state;
	int64_t since;              /* when the connect began */
	int64_t retry_at;           /* closed: when to connect again */
	int64_t backoff;
	struct fo_buf out;          /* bytes not yet written */
	size_t out_off;
	void *parser;
	struct fo__load_req *q;     /* requests written, awaiting replies, oldest first (a ring) */
	size_t qhead, qlen, qcap;   /* qcap: a power of two */
	bool dirty;                 /* on the thread's list of connections to flush */
	uint32_t events;            /* registered with epoll */
};

/* One client: a stream of requests with up to `pipeline` in flight. */
struct fo__load_client {
	struct fo__load_thread *t;
	int64_t id;                 /* among every node's clients */
	int home;                   /* standalone: its server's address index */
	struct fo__load_conn **conns; /* by address index; NULL until needed */
	size_t nconns;
	int inflight;               /* issued and not finished (held ones too) */
	int64_t due;                /* open model: when the next request is due */
	int64_t period;             /* open model: time between its requests */
	int64_t left;               /* requests still to issue; -1: no limit */
	uint64_t seq;               /* sequential keys: how many it has drawn */
	struct fo_rng rng;
	bool held;                  /* a request waits for its connection to come back */
	struct fo__load_req hold;
};

/* A server address a thread knows. */
struct fo__load_addr {
	char *name;                 /* "host:port" (owned) */
	struct sockaddr_storage sa;
	socklen_t salen;
	bool resolved;
	bool bad;                   /* cannot be resolved */
};

/* Counters of one thread, merged into the node's result at the end. */
struct fo__load_counts {
	int64_t ops, errors, all_errors, misses, moved, asked;
	int64_t *cmd_ok, *cmd_err, *cmd_miss;  /* per command */
	struct fo_load_errkind kinds[24];
	size_t nkinds;
	int64_t other_kinds;        /* errors of kinds past the table */
};

struct fo__load_thread {
	struct fo__load_node *node;
	int index;
	int ep;                     /* epoll */
	struct fo__load_client *clients;
	int nclients;
	struct fo_cluster_map map;  /* cluster: this thread's slot map */
	struct fo__load_addr *addrs; /* cluster: parallel to map.addrs; else the targets */
	size_t naddrs, acap;
	int64_t inflight;
	int64_t measure_start, end; /* end 0: no time limit */
	bool stopping;
	int64_t drain_deadline;
	int64_t iv_index, iv_end;   /* the interval being recorded */
	struct fo_hdr **hist;       /* [2 * ntags]: response times, then service times */
	struct fo__load_counts c;
	struct fo__load_conn **dirty;
	size_t ndirty, dcap;
	struct fo__load_conn **all; /* every connection, for timeouts and release */
	size_t nall, allcap;
	int64_t next_check;         /* next timeout scan */
	int64_t finished;           /* when its loop ended */
	char *valbuf;               /* verify: values being written and compared */
	char keybuf[160];
	struct fo_buf scratch;
	char rbuf[65536];
	char failure[300];          /* setup: why a connection failed */
	int setup_failures;
};

struct fo__load_ivslot {
	int64_t k;                  /* the interval, -1: free */
	int64_t end;                /* latest end a thread reported (monotonic ns) */
	struct fo_hdr **h;          /* [2 * ntags] */
};

struct fo__load_node {
	const struct fo_load_config *cfg;
	size_t ncmds, ntags;        /* ntags = 2 * ncmds: "<cmd>" and "<cmd>-error" */
	struct fo__load_thread *threads;
	int nthreads;
	struct fo_cluster_map map;
	bool clustered;
	struct fo_zipf zipf;
	char *fill;                 /* value_size bytes of 'x' */
	uint32_t *versions;         /* verify: the version last written to each key */
	size_t prefix_len;
	int64_t wall_offset;        /* wall-clock minus monotonic ns */
	int64_t measure_start;
	/* intervals, gathered from the threads and written in order */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t next_write;
	int64_t max_k;
	int64_t *flushed_through;   /* per thread; INT64_MAX once it finished */
	struct fo__load_ivslot ring[FO__LOAD_RING];
	struct fo_hdr **totals;     /* [2 * ntags] */
	bool *seen;                 /* [2 * ntags]: written to the log once, so every interval has it */
	struct fo_hdr empty;
	bool logs;
	struct fo_hdrlog_writer w[2]; /* response, service */
	int log_rc;
	int64_t measure_end;        /* the latest end of any thread */
};

/* A new histogram of the load driver's range. */
struct fo_hdr *fo__load_hdr_new(void);

/* loop.c */
int fo__load_thread_setup(struct fo__load_thread *t, int64_t deadline);
void fo__load_thread_run(struct fo__load_thread *t, int64_t t0);
void fo__load_thread_release(struct fo__load_thread *t);
void fo__load_count_error(struct fo__load_counts *c, const char *kind);

/* load.c: hands the thread's histograms of interval k (ending at end) to the node, which
 * resets them; the last thread to hand in an interval writes it. */
void fo__load_flush(struct fo__load_node *n, int thread, int64_t k, struct fo_hdr **h, int64_t end);
/* The thread has handed in its last interval. */
void fo__load_thread_done(struct fo__load_node *n, int thread, int64_t end);

#endif
