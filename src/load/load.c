/*
 * load.c: one client node's run of the load driver (load.h): finding out whether the
 * target is a cluster and which node serves which slot, setting up the threads and
 * their connections, starting together with the other nodes, and gathering the threads'
 * per-second histograms into the node's interval logs and its result.
 *
 * Intervals: every thread records into its own histograms and, when a second ends, hands
 * them to the node (fo__load_flush), which adds them into that second's slot of a small
 * ring; the thread that completes a second writes it to the logs, in order. A thread that
 * runs more than the ring's length ahead of the slowest waits for it.
 */
#include "util/common.h"

#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

struct fo_hdr *fo__load_hdr_new(void)
{
	struct fo_hdr *h = fo_hdr_new(FO_LOAD_HDR_LOWEST, FO_LOAD_HDR_HIGHEST, FO_LOAD_HDR_SIGFIGS, NULL);
	if (!h)
		abort(); /* only bad arguments fail, and these are constants */
	return h;
}

/* ---- results ---- */

void fo_load_result_init(struct fo_load_result *r, size_t ncmds)
{
	*r = (struct fo_load_result){0};
	fo_hdr_init(&r->resp, FO_LOAD_HDR_LOWEST, FO_LOAD_HDR_HIGHEST, FO_LOAD_HDR_SIGFIGS);
	fo_hdr_init(&r->svc, FO_LOAD_HDR_LOWEST, FO_LOAD_HDR_HIGHEST, FO_LOAD_HDR_SIGFIGS);
	r->ncmds = ncmds;
	r->cmds = fo_calloc(ncmds ? ncmds : 1, sizeof(*r->cmds));
	for (size_t i = 0; i < ncmds; i++)
		fo_hdr_init(&r->cmds[i].resp, FO_LOAD_HDR_LOWEST, FO_LOAD_HDR_HIGHEST, FO_LOAD_HDR_SIGFIGS);
}

void fo_load_result_release(struct fo_load_result *r)
{
	fo_hdr_release(&r->resp);
	fo_hdr_release(&r->svc);
	for (size_t i = 0; i < r->ncmds; i++)
		fo_hdr_release(&r->cmds[i].resp);
	fo_free(r->cmds);
	fo_free(r->kinds);
	*r = (struct fo_load_result){0};
}

void fo_load_result_count(struct fo_load_result *r, const char *kind, int64_t count)
{
	for (size_t i = 0; i < r->nkinds; i++)
		if (strcmp(r->kinds[i].kind, kind) == 0) {
			r->kinds[i].count += count;
			return;
		}
	FO_GROW(r->kinds, r->kcap, r->nkinds + 1);
	snprintf(r->kinds[r->nkinds].kind, sizeof(r->kinds[0].kind), "%s", kind);
	r->kinds[r->nkinds++].count = count;
}

void fo_load_result_merge(struct fo_load_result *dst, const struct fo_load_result *src)
{
	dst->clustered |= src->clustered;
	if (src->nshards > dst->nshards)
		dst->nshards = src->nshards;
	dst->ops += src->ops;
	dst->errors += src->errors;
	dst->all_errors += src->all_errors;
	dst->misses += src->misses;
	dst->moved += src->moved;
	dst->asked += src->asked;
	if (src->measured_s > dst->measured_s)
		dst->measured_s = src->measured_s;
	fo_hdr_add(&dst->resp, &src->resp);
	fo_hdr_add(&dst->svc, &src->svc);
	for (size_t i = 0; i < dst->ncmds && i < src->ncmds; i++) {
		dst->cmds[i].ok += src->cmds[i].ok;
		dst->cmds[i].errors += src->cmds[i].errors;
		dst->cmds[i].misses += src->cmds[i].misses;
		fo_hdr_add(&dst->cmds[i].resp, &src->cmds[i].resp);
	}
	for (size_t i = 0; i < src->nkinds; i++)
		fo_load_result_count(dst, src->kinds[i].kind, src->kinds[i].count);
	if (!dst->failure[0] && src->failure[0])
		snprintf(dst->failure, sizeof(dst->failure), "%s", src->failure);
}

/* ---- several nodes ---- */

void fo_load_sync_init(struct fo_load_sync *s, int nodes)
{
	*s = (struct fo_load_sync){.total = nodes};
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
}

void fo_load_sync_release(struct fo_load_sync *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

/* Waits for every node; returns false when one of them failed. Sets the common start. */
static bool sync_wait(struct fo_load_sync *s, bool ok, int64_t *t0, int64_t *t0_wall)
{
	if (!s) {
		*t0 = fo_now_ns();
		*t0_wall = fo_wall_ns();
		return ok;
	}
	pthread_mutex_lock(&s->lock);
	if (!ok)
		s->failed = true;
	if (++s->arrived == s->total) {
		s->t0 = fo_now_ns();
		s->t0_wall = fo_wall_ns();
		pthread_cond_broadcast(&s->cond);
	}
	while (s->arrived < s->total)
		pthread_cond_wait(&s->cond, &s->lock);
	bool failed = s->failed;
	*t0 = s->t0;
	*t0_wall = s->t0_wall;
	pthread_mutex_unlock(&s->lock);
	return !failed;
}

/* ---- intervals ---- */

/* Writes interval slot s to the logs and adds it to the totals. Lock held. */
static void write_slot(struct fo__load_node *n, struct fo__load_ivslot *s)
{
	int64_t start = n->measure_start + s->k * FO__LOAD_IV_NS;
	int64_t end = start + FO__LOAD_IV_NS;
	if (s->end > start && s->end < end)
		end = s->end;
	for (size_t i = 0; i < 2 * n->ntags; i++) {
		struct fo_hdr *h = s->h[i];
		if (h && fo_hdr_total(h) > 0)
			n->seen[i] = true;
		if (!n->seen[i])
			continue;
		if (!h || fo_hdr_total(h) == 0)
			h = &n->empty;
		const struct fo_load_cmd *c = &n->cfg->mix->cmds[(i % n->ntags) / 2];
		char tag[48];
		snprintf(tag, sizeof(tag), "%s%s", c->name, (i % 2) ? "-error" : "");
		fo_hdr_set_tag(h, tag);
		h->start_ms = (start + n->wall_offset) / 1000000;
		h->end_ms = (end + n->wall_offset) / 1000000;
		if (n->logs && !n->log_rc)
			n->log_rc = fo_hdrlog_write(&n->w[i / n->ntags], h);
		if (h != &n->empty) {
			if (!n->totals[i])
				n->totals[i] = fo__load_hdr_new();
			fo_hdr_add(n->totals[i], h);
			fo_hdr_reset(h);
		}
	}
	if (n->logs)
		for (int k = 0; k < 2; k++)
			fflush(n->w[k].f);
	if (end > n->measure_end)
		n->measure_end = end;
	s->k = -1;
	s->end = 0;
}

/* Writes every interval all threads have handed in. Lock held. */
static void write_ready(struct fo__load_node *n)
{
	for (;;) {
		int64_t low = INT64_MAX;
		for (int i = 0; i < n->nthreads; i++)
			if (n->flushed_through[i] < low)
				low = n->flushed_through[i];
		if (n->next_write > low || n->next_write > n->max_k)
			break;
		struct fo__load_ivslot *s = &n->ring[n->next_write % FO__LOAD_RING];
		if (s->k == n->next_write)
			write_slot(n, s);
		n->next_write++;
		pthread_cond_broadcast(&n->cond);
	}
}

void fo__load_flush(struct fo__load_node *n, int thread, int64_t k, struct fo_hdr **h, int64_t end)
{
	pthread_mutex_lock(&n->lock);
	while (k >= n->next_write + FO__LOAD_RING)
		pthread_cond_wait(&n->cond, &n->lock);
	struct fo__load_ivslot *s = &n->ring[k % FO__LOAD_RING];
	s->k = k;
	if (end > s->end)
		s->end = end;
	for (size_t i = 0; i < 2 * n->ntags; i++) {
		if (!h[i] || fo_hdr_total(h[i]) == 0)
			continue;
		if (!s->h[i])
			s->h[i] = fo__load_hdr_new();
		fo_hdr_add(s->h[i], h[i]);
		fo_hdr_reset(h[i]);
	}
	if (k > n->max_k)
		n->max_k = k;
	n->flushed_through[thread] = k;
	write_ready(n);
	pthread_mutex_unlock(&n->lock);
}

void fo__load_thread_done(struct fo__load_node *n, int thread, int64_t end)
{
	pthread_mutex_lock(&n->lock);
	n->flushed_through[thread] = INT64_MAX;
	if (end > n->measure_end && end > n->measure_start)
		n->measure_end = end;
	write_ready(n);
	pthread_mutex_unlock(&n->lock);
}

/* ---- discovery ---- */

/* Connects a blocking socket to "host:port" within timeout. Returns the fd or -1 (why). */
static int dial(const char *target, int64_t timeout_ns, char *host, size_t hostcap, char *why, size_t whyn)
{
	int port;
	if (fo_hostport_split(target, strlen(target), host, hostcap, &port) != 0) {
		snprintf(why, whyn, "'%s' is not host:port", target);
		return -1;
	}
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int gai = getaddrinfo(host, ps, &hints, &res);
	if (gai != 0 || !res) {
		snprintf(why, whyn, "cannot resolve '%s': %s", host, gai_strerror(gai));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whyn, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	int rc = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc != 0 && errno == EINPROGRESS) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		int pr = poll(&pf, 1, (int)(timeout_ns / 1000000));
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (pr <= 0)
			soerr = ETIMEDOUT;
		else
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		rc = soerr ? -1 : 0;
		errno = soerr;
	}
	if (rc != 0) {
		snprintf(why, whyn, "cannot connect to %s: %s", target, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Finds out what the targets are: a cluster (n->map filled) or standalone servers. */
static int discover(struct fo__load_node *n, struct fo_err *err)
{
	const struct fo_load_config *cfg = n->cfg;
	int64_t timeout = cfg->timeout_ns < 5000000000LL ? cfg->timeout_ns : 5000000000LL;
	char why[300] = "", host[256];
	for (size_t i = 0; i < cfg->ntargets; i++) {
		int fd = dial(cfg->targets[i], timeout, host, sizeof(host), why, sizeof(why));
		if (fd < 0)
			continue;
		if (cfg->cluster == FO_CLUSTER_OFF) {
			close(fd);
			return 0;
		}
		struct fo_err derr = {0};
		int rc = cfg->proto->discover(fd, host, timeout, &n->map, &derr);
		close(fd);
		if (rc < 0) {
			snprintf(why, sizeof(why), "%.299s", derr.msg);
			fo_cluster_map_release(&n->map);
			continue;
		}
		if (rc == 0 && cfg->cluster == FO_CLUSTER_ON)
			return fo_err_set(err, FO_EINVAL, "%s is not in cluster mode (cluster: on)", cfg->targets[i]);
		n->clustered = rc == 1;
		if (n->clustered) {
			size_t unserved = fo_cluster_map_unserved(&n->map);
			if (unserved)
				return fo_err_set(err, FO_EINVAL, "the cluster at %s does not serve %zu of %d slots",
						  cfg->targets[i], unserved, FO_CLUSTER_SLOTS);
		}
		return 0;
	}
	return fo_err_set(err, FO_ENET, "no server to load: %s", why[0] ? why : "no targets");
}

/* ---- the run ---- */

static void *thread_main(void *arg)
{
	struct fo__load_thread *t = arg;
	fo__load_thread_run(t, t->node->measure_start - t->node->cfg->warmup_ns);
	return NULL;
}

/* Sets up the node's threads and clients (not yet connected). */
static void make_threads(struct fo__load_node *n)
{
	const struct fo_load_config *cfg = n->cfg;
	n->nthreads = cfg->threads;
	n->threads = fo_calloc((size_t)n->nthreads, sizeof(*n->threads));
	int64_t per_node = (int64_t)cfg->threads * cfg->connections;
	uint64_t seed = cfg->seed ? cfg->seed : (uint64_t)fo_wall_ns();
	for (int ti = 0; ti < n->nthreads; ti++) {
		struct fo__load_thread *t = &n->threads[ti];
		t->node = n;
		t->index = ti;
		t->ep = -1;
		fo_cluster_map_init(&t->map);
		if (n->clustered) {
			fo_cluster_map_copy(&t->map, &n->map);
		} else {
			for (size_t a = 0; a < cfg->ntargets; a++) {
				FO_GROW(t->addrs, t->acap, t->naddrs + 1);
				t->addrs[t->naddrs++] = (struct fo__load_addr){.name = fo_strdup(cfg->targets[a])};
			}
		}
		t->nclients = cfg->connections;
		t->clients = fo_calloc((size_t)t->nclients, sizeof(*t->clients));
		for (int ci = 0; ci < t->nclients; ci++) {
			struct fo__load_client *cl = &t->clients[ci];
			int64_t local = (int64_t)ti * cfg->connections + ci;
			cl->t = t;
			cl->id = cfg->client_base + local;
			cl->home = (int)((uint64_t)cl->id % (cfg->ntargets ? cfg->ntargets : 1));
			cl->left = cfg->operations < 0 ? 0 : -1;
			if (cfg->operations > 0)
				cl->left = cfg->operations / per_node + (local < cfg->operations % per_node ? 1 : 0);
			fo_rng_seed(&cl->rng, seed ^ ((uint64_t)cl->id * 0x9e3779b97f4a7c15ull));
			if (cfg->rate > 0) {
				cl->period = (int64_t)llround((double)per_node / cfg->rate * 1e9);
				if (cl->period < 1)
					cl->period = 1;
			}
		}
	}
}

/* Puts the threads' counters and the node's totals into res. */
static void collect(struct fo__load_node *n, struct fo_load_result *res)
{
	res->clustered = n->clustered;
	res->nshards = n->clustered ? n->map.naddrs : n->cfg->ntargets;
	for (int ti = 0; ti < n->nthreads; ti++) {
		struct fo__load_counts *c = &n->threads[ti].c;
		res->ops += c->ops;
		res->errors += c->errors;
		res->all_errors += c->all_errors;
		res->misses += c->misses;
		res->moved += c->moved;
		res->asked += c->asked;
		for (size_t i = 0; i < n->ncmds && c->cmd_ok; i++) {
			res->cmds[i].ok += c->cmd_ok[i];
			res->cmds[i].errors += c->cmd_err[i];
			res->cmds[i].misses += c->cmd_miss[i];
		}
		for (size_t i = 0; i < c->nkinds; i++)
			fo_load_result_count(res, c->kinds[i].kind, c->kinds[i].count);
		if (c->other_kinds)
			fo_load_result_count(res, "other", c->other_kinds);
	}
	for (size_t i = 0; i < n->ncmds; i++) {
		struct fo_hdr *ok_resp = n->totals[2 * i], *ok_svc = n->totals[n->ntags + 2 * i];
		if (ok_resp) {
			fo_hdr_add(&res->resp, ok_resp);
			fo_hdr_add(&res->cmds[i].resp, ok_resp);
		}
		if (ok_svc)
			fo_hdr_add(&res->svc, ok_svc);
	}
	if (n->measure_end > n->measure_start)
		res->measured_s = (double)(n->measure_end - n->measure_start) / 1e9;
}

static int open_logs(struct fo__load_node *n, int64_t t0_wall, struct fo_err *err)
{
	const struct fo_load_config *cfg = n->cfg;
	if (!cfg->log_dir)
		return 0;
	const char *name = cfg->log_name ? cfg->log_name : "kvload";
	for (int k = 0; k < 2; k++) {
		struct fo_buf path = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/%s%s.hdr", cfg->log_dir, name, k ? "-service" : "");
		int rc = fo_hdrlog_writer_open(&n->w[k], path.s, err);
		fo_buf_release(&path);
		if (rc) {
			if (k)
				fo_hdrlog_writer_close(&n->w[0]);
			return rc;
		}
	}
	double start_s = (double)(t0_wall + cfg->warmup_ns) / 1e9;
	for (int k = 0; k < 2; k++) {
		n->w[k].base_time_s = start_s;
		fo_hdrlog_write_header(&n->w[k], start_s);
		fo_hdrlog_write_comment(&n->w[k], k ? "kvload service time (request sent to reply), ns"
						    : "kvload response time (request due to reply), ns");
	}
	n->logs = true;
	return 0;
}

static void node_release(struct fo__load_node *n)
{
	for (int ti = 0; ti < n->nthreads; ti++)
		fo__load_thread_release(&n->threads[ti]);
	fo_free(n->threads);
	for (int r = 0; r < FO__LOAD_RING; r++) {
		if (!n->ring[r].h)
			continue;
		for (size_t i = 0; i < 2 * n->ntags; i++)
			fo_hdr_free(n->ring[r].h[i]);
		fo_free(n->ring[r].h);
	}
	if (n->totals)
		for (size_t i = 0; i < 2 * n->ntags; i++)
			fo_hdr_free(n->totals[i]);
	fo_free(n->totals);
	fo_free(n->seen);
	fo_free(n->flushed_through);
	fo_hdr_release(&n->empty);
	fo_cluster_map_release(&n->map);
	fo_free(n->fill);
	fo_free(n->versions);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
}

int fo_load_run(const struct fo_load_config *cfg, struct fo_load_result *res, struct fo_err *err)
{
	fo_load_result_init(res, cfg->mix->n);
	struct fo__load_node n = {.cfg = cfg, .ncmds = cfg->mix->n, .ntags = 2 * cfg->mix->n, .max_k = -1};
	pthread_mutex_init(&n.lock, NULL);
	pthread_cond_init(&n.cond, NULL);
	fo_cluster_map_init(&n.map);
	fo_hdr_init(&n.empty, FO_LOAD_HDR_LOWEST, FO_LOAD_HDR_HIGHEST, FO_LOAD_HDR_SIGFIGS);
	n.prefix_len = strlen(cfg->key_prefix);
	n.fill = fo_malloc(cfg->value_size + 1);
	memset(n.fill, 'x', cfg->value_size);
	n.fill[cfg->value_size] = '\0';
	n.totals = fo_calloc(2 * n.ntags, sizeof(*n.totals));
	n.seen = fo_calloc(2 * n.ntags, sizeof(*n.seen));
	for (int r = 0; r < FO__LOAD_RING; r++) {
		n.ring[r].k = -1;
		n.ring[r].h = fo_calloc(2 * n.ntags, sizeof(struct fo_hdr *));
	}
	int rc = 0;
	int64_t t0 = 0, t0_wall = 0;
	if (cfg->verify && cfg->keys < (uint64_t)cfg->clients_total) {
		rc = fo_err_set(err, FO_EINVAL, "verify needs at least one key per client: %llu keys for %lld clients",
				(unsigned long long)cfg->keys, (long long)cfg->clients_total);
		goto fail_sync;
	}
	if (cfg->verify)
		n.versions = fo_calloc(cfg->keys, sizeof(*n.versions));
	if (cfg->dist == FO_DIST_ZIPFIAN)
		fo_zipf_init(&n.zipf, cfg->keys, cfg->zipf_theta);
	if ((rc = discover(&n, err)) != 0)
		goto fail_sync;
	make_threads(&n);
	n.flushed_through = fo_calloc((size_t)n.nthreads, sizeof(int64_t));
	for (int i = 0; i < n.nthreads; i++)
		n.flushed_through[i] = -1;
	int64_t deadline = fo_now_ns() + (cfg->timeout_ns < 10000000000LL ? cfg->timeout_ns : 10000000000LL);
	for (int ti = 0; ti < n.nthreads; ti++) {
		struct fo__load_thread *t = &n.threads[ti];
		if (fo__load_thread_setup(t, deadline) != 0) {
			rc = fo_err_set(err, FO_ENET, "%s", t->failure);
			goto fail_sync;
		}
	}
	if (!sync_wait(cfg->sync, true, &t0, &t0_wall)) {
		rc = fo_err_set(err, FO_ENET, "another client node could not start");
		goto fail;
	}
	n.wall_offset = t0_wall - t0;
	n.measure_start = t0 + cfg->warmup_ns;
	n.measure_end = n.measure_start;
	if ((rc = open_logs(&n, t0_wall, err)) != 0)
		goto fail;

	pthread_t *tids = fo_calloc((size_t)n.nthreads, sizeof(*tids));
	bool *started = fo_calloc((size_t)n.nthreads, sizeof(*started));
	for (int ti = 1; ti < n.nthreads; ti++)
		started[ti] = pthread_create(&tids[ti], NULL, thread_main, &n.threads[ti]) == 0;
	thread_main(&n.threads[0]);
	for (int ti = 1; ti < n.nthreads; ti++) {
		if (started[ti])
			pthread_join(tids[ti], NULL);
		else
			thread_main(&n.threads[ti]);
	}
	fo_free(tids);
	fo_free(started);
	collect(&n, res);
	if (n.logs) {
		int crc = 0;
		for (int k = 0; k < 2; k++) {
			int c = fo_hdrlog_writer_close(&n.w[k]);
			if (!crc)
				crc = c;
		}
		if (n.log_rc || crc)
			rc = fo_err_set(err, FO_EIO, "cannot write the interval logs in '%s'", cfg->log_dir);
	}
	node_release(&n);
	return rc;

fail_sync:
	sync_wait(cfg->sync, false, &t0, &t0_wall);
fail:
	snprintf(res->failure, sizeof(res->failure), "%.511s", err->code ? err->msg : fo_strerror(rc));
	node_release(&n);
	return rc ? rc : FO_ENET;
}
