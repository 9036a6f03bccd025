/*
 * loop.c: one thread of the load driver: an epoll event loop over its clients'
 * connections (load.h describes the models).
 *
 * Each turn of the loop: issue what is due (closed model: top up every client's pipeline;
 * open model: every request whose due time has come, while the pipeline has room), write
 * what the turn produced (one write per connection), wait for replies until the next
 * request is due, the interval ends or a timeout check is due, then read and finish
 * requests. A finished request frees its client's slot at once, so in the closed model
 * the next request goes out in the same turn.
 *
 * Replies come back in order on a connection, so each connection keeps a queue of its
 * requests. A MOVED reply updates the slot map and sends the request again to the named
 * node; an ASK sends it there once, after ASKING. A lost connection fails its requests
 * and is connected again after a backoff (100 ms doubling to 1 s); a client whose
 * connection is down holds its next request until it is back.
 */
#include "util/common.h"

#include <netdb.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "load/internal.h"
#include "util/alloc.h"
#include "util/proc.h"

#define CHECK_EVERY_NS 100000000LL /* timeout scans and abort polls */
#define BACKOFF_MIN_NS 100000000LL
#define BACKOFF_MAX_NS 1000000000LL

void fo__load_count_error(struct fo__load_counts *c, const char *kind)
{
	c->all_errors++;
	for (size_t i = 0; i < c->nkinds; i++)
		if (strcmp(c->kinds[i].kind, kind) == 0) {
			c->kinds[i].count++;
			return;
		}
	if (c->nkinds == FO_ARRAY_LEN(c->kinds)) {
		c->other_kinds++;
		return;
	}
	snprintf(c->kinds[c->nkinds].kind, sizeof(c->kinds[0].kind), "%s", kind);
	c->kinds[c->nkinds++].count = 1;
}

/* ---- addresses ---- */

/* The index of a server address, added (unresolved) when new. */
static int addr_index(struct fo__load_thread *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->naddrs; i++)
		if (strlen(t->addrs[i].name) == len && memcmp(t->addrs[i].name, name, len) == 0)
			return (int)i;
	FO_GROW(t->addrs, t->acap, t->naddrs + 1);
	t->addrs[t->naddrs] = (struct fo__load_addr){.name = fo_strndup(name, len)};
	return (int)t->naddrs++;
}

static bool addr_resolve(struct fo__load_addr *a)
{
	if (a->resolved)
		return true;
	if (a->bad)
		return false;
	char host[256], port[16];
	int p;
	if (fo_hostport_split(a->name, strlen(a->name), host, sizeof(host), &p) != 0) {
		a->bad = true;
		return false;
	}
	snprintf(port, sizeof(port), "%d", p);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
		a->bad = true;
		return false;
	}
	memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
	a->salen = res->ai_addrlen;
	a->resolved = true;
	freeaddrinfo(res);
	return true;
}

/* ---- connections ---- */

static void conn_events(struct fo__load_conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(c->t->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e);
	c->events = ev;
}

static void mark_dirty(struct fo__load_conn *c)
{
	if (c->dirty)
		return;
	struct fo__load_thread *t = c->t;
	FO_GROW(t->dirty, t->dcap, t->ndirty + 1);
	t->dirty[t->ndirty++] = c;
	c->dirty = true;
}

static struct fo__load_conn *conn_new(struct fo__load_client *cl, int addr)
{
	struct fo__load_thread *t = cl->t;
	struct fo__load_conn *c = fo_calloc(1, sizeof(*c));
	c->t = t;
	c->cl = cl;
	c->addr = addr;
	c->fd = -1;
	c->state = FO__CONN_CLOSED;
	fo_buf_init(&c->out, 0);
	c->parser = t->node->cfg->proto->parser_new();
	c->qcap = 16;
	c->q = fo_calloc(c->qcap, sizeof(*c->q));
	FO_GROW(t->all, t->allcap, t->nall + 1);
	t->all[t->nall++] = c;
	return c;
}

static void q_push(struct fo__load_conn *c, const struct fo__load_req *r)
{
	if (c->qlen == c->qcap) {
		struct fo__load_req *nq = fo_calloc(c->qcap * 2, sizeof(*nq));
		for (size_t i = 0; i < c->qlen; i++)
			nq[i] = c->q[(c->qhead + i) & (c->qcap - 1)];
		fo_free(c->q);
		c->q = nq;
		c->qhead = 0;
		c->qcap *= 2;
	}
	c->q[(c->qhead + c->qlen) & (c->qcap - 1)] = *r;
	c->qlen++;
}

static struct fo__load_req q_pop(struct fo__load_conn *c)
{
	struct fo__load_req r = c->q[c->qhead];
	c->qhead = (c->qhead + 1) & (c->qcap - 1);
	c->qlen--;
	return r;
}

/* The client's connection to address addr, created when new. */
static struct fo__load_conn *client_conn(struct fo__load_client *cl, int addr)
{
	if ((size_t)addr >= cl->nconns) {
		size_t n = (size_t)addr + 1;
		cl->conns = fo_reallocarray(cl->conns, n, sizeof(*cl->conns));
		for (size_t i = cl->nconns; i < n; i++)
			cl->conns[i] = NULL;
		cl->nconns = n;
	}
	if (!cl->conns[addr])
		cl->conns[addr] = conn_new(cl, addr);
	return cl->conns[addr];
}

static void finish(struct fo__load_thread *t, struct fo__load_req *r, bool ok, const char *kind, int64_t now);

/* The connection is lost (or never came up): its requests fail with kind, and it will be
 * connected again after the backoff. */
static void conn_fail(struct fo__load_conn *c, const char *kind, int64_t now)
{
	struct fo__load_thread *t = c->t;
	if (c->fd >= 0) {
		epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	if (c->state == FO__CONN_CONNECTING)
		fo__load_count_error(&t->c, "connect");
	c->fd = -1;
	c->events = 0;
	c->state = FO__CONN_CLOSED;
	c->backoff = c->backoff ? (c->backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : c->backoff * 2) : BACKOFF_MIN_NS;
	c->retry_at = now + c->backoff;
	fo_buf_clear(&c->out);
	c->out_off = 0;
	t->node->cfg->proto->parser_reset(c->parser);
	while (c->qlen) {
		struct fo__load_req r = q_pop(c);
		if (!r.internal)
			finish(t, &r, false, kind, now);
	}
}

/* The connection is up: it reads, and writes what waited for it. */
static void conn_up(struct fo__load_conn *c)
{
	c->state = FO__CONN_UP;
	c->backoff = 0;
	conn_events(c, EPOLLIN);
	if (c->out.len > c->out_off)
		mark_dirty(c);
}

/* Starts connecting (non-blocking). Returns false when it failed at once. */
static bool conn_connect(struct fo__load_conn *c, int64_t now)
{
	struct fo__load_thread *t = c->t;
	struct fo__load_addr *a = &t->addrs[c->addr];
	c->since = now;
	if (!addr_resolve(a)) {
		c->state = FO__CONN_CONNECTING;
		conn_fail(c, "connect", now);
		return false;
	}
	c->fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->state = FO__CONN_CONNECTING;
		conn_fail(c, "connect", now);
		return false;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&a->sa, a->salen) == 0) {
		conn_up(c);
		return true;
	}
	if (errno != EINPROGRESS) {
		snprintf(t->failure, sizeof(t->failure), "cannot connect to %s: %s", a->name, strerror(errno));
		c->state = FO__CONN_CONNECTING;
		conn_fail(c, "connect", now);
		return false;
	}
	c->state = FO__CONN_CONNECTING;
	conn_events(c, EPOLLOUT);
	return true;
}

/* Writes what the connection has pending. */
static void conn_flush(struct fo__load_conn *c, int64_t now)
{
	if (c->state != FO__CONN_UP)
		return;
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.s + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (w > 0) {
			c->out_off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_events(c, EPOLLIN | EPOLLOUT);
			return;
		}
		conn_fail(c, "closed", now);
		return;
	}
	fo_buf_clear(&c->out);
	c->out_off = 0;
	conn_events(c, EPOLLIN);
}

/* ---- requests ---- */

/* Records a measured request's times in the interval's histograms. */
static void record(struct fo__load_thread *t, size_t tag, int64_t resp, int64_t svc)
{
	struct fo__load_node *n = t->node;
	for (int k = 0; k < 2; k++) {
		size_t i = tag + (size_t)k * n->ntags;
		if (!t->hist[i])
			t->hist[i] = fo__load_hdr_new();
		int64_t v = k == 0 ? resp : svc;
		if (v < 0)
			v = 0;
		if (v > FO_LOAD_HDR_HIGHEST)
			v = FO_LOAD_HDR_HIGHEST;
		fo_hdr_record(t->hist[i], v);
	}
}

/* Hands in the intervals that ended by now. */
static void advance(struct fo__load_thread *t, int64_t now)
{
	while (now >= t->iv_end) {
		fo__load_flush(t->node, t->index, t->iv_index, t->hist, t->iv_end);
		t->iv_index++;
		t->iv_end += FO__LOAD_IV_NS;
	}
}

/* A request is done (ok, or failed with kind). */
static void finish(struct fo__load_thread *t, struct fo__load_req *r, bool ok, const char *kind, int64_t now)
{
	struct fo__load_node *n = t->node;
	struct fo__load_client *cl = r->cl;
	cl->inflight--;
	t->inflight--;
	const struct fo_load_cmd *cmd = &n->cfg->mix->cmds[r->cmd];
	if (!ok) {
		fo__load_count_error(&t->c, kind);
		if (n->versions && cmd->key_arg >= 0 && cmd->kind != FO_CMD_READ)
			n->versions[r->key] |= FO__LOAD_TAINT;
	}
	if (r->due < t->measure_start)
		return;
	advance(t, now);
	record(t, (size_t)r->cmd * 2 + (ok ? 0 : 1), now - r->due, now - (r->sent ? r->sent : r->due));
	t->c.ops++;
	if (ok) {
		t->c.cmd_ok[r->cmd]++;
	} else {
		t->c.errors++;
		t->c.cmd_err[r->cmd]++;
	}
}

/* Builds the key string of r into t->keybuf. Returns its length. */
static size_t key_string(struct fo__load_thread *t, const struct fo__load_req *r)
{
	const struct fo_load_config *cfg = t->node->cfg;
	return fo_load_key(t->keybuf, cfg->key_prefix, t->node->prefix_len, r->key);
}

/*
 * Sends r to address addr (-1: where the slot map or the client's home says). A request
 * whose connection is down is held by its client. ask: precede it with ASKING.
 */
static void send_req(struct fo__load_client *cl, struct fo__load_req *r, int addr, bool ask, int64_t now)
{
	struct fo__load_thread *t = cl->t;
	struct fo__load_node *n = t->node;
	const struct fo_load_config *cfg = n->cfg;
	const struct fo_load_cmd *cmd = &cfg->mix->cmds[r->cmd];
	size_t klen = key_string(t, r);
	if (addr < 0) {
		if (!n->clustered) {
			addr = cl->home;
		} else if (cmd->key_arg >= 0) {
			unsigned slot;
			if (cmd->args[cmd->key_arg].kind == FO_ARG_KEY) {
				slot = cfg->proto->slot(t->keybuf, klen);
			} else {
				fo_buf_clear(&t->scratch);
				fo_load_cmd_route_key(cmd, t->keybuf, klen, &t->scratch);
				slot = cfg->proto->slot(t->scratch.s, t->scratch.len);
			}
			addr = t->map.owner[slot];
			if (addr < 0) {
				finish(t, r, false, "unserved-slot", now);
				return;
			}
		} else {
			addr = (int)(r->key % t->map.naddrs);
		}
	}
	struct fo__load_conn *c = client_conn(cl, addr);
	if (c->state == FO__CONN_CLOSED && (now < c->retry_at || !conn_connect(c, now))) {
		cl->held = true;
		cl->hold = *r;
		return;
	}
	const char *val = n->fill;
	if (cmd->kind == FO_CMD_WRITE && n->versions) {
		fo_load_value(t->valbuf, cfg->value_size, r->key, r->version);
		val = t->valbuf;
	}
	if (ask && cfg->proto->encode_asking) {
		cfg->proto->encode_asking(&c->out);
		struct fo__load_req a = {.cl = cl, .internal = 1, .sent = now};
		q_push(c, &a);
	}
	cfg->proto->encode(&c->out, cmd, t->keybuf, klen, val, cfg->value_size);
	if (!r->sent)
		r->sent = now;
	q_push(c, r);
	mark_dirty(c);
}

/* The key of a new request of client cl. */
static uint64_t pick_key(struct fo__load_client *cl)
{
	struct fo__load_node *n = cl->t->node;
	const struct fo_load_config *cfg = n->cfg;
	uint64_t k;
	switch (cfg->dist) {
	case FO_DIST_ZIPFIAN:
		k = fo_zipf_sample(&n->zipf, fo_rng_double(&cl->rng));
		break;
	case FO_DIST_SEQUENTIAL:
		k = ((uint64_t)cl->id + cl->seq++ * (uint64_t)cfg->clients_total) % cfg->keys;
		break;
	default:
		k = fo_rng_below(&cl->rng, cfg->keys);
		break;
	}
	if (n->versions) {
		/* a verifying client uses only its own keys: those equal to its id modulo the clients */
		uint64_t c = (uint64_t)cfg->clients_total, id = (uint64_t)cl->id;
		k = k - k % c + id;
		if (k >= cfg->keys)
			k -= c;
	}
	return k;
}

/* Issues a new request of client cl, due at due. */
static void issue(struct fo__load_client *cl, int64_t due, int64_t now)
{
	struct fo__load_thread *t = cl->t;
	struct fo__load_node *n = t->node;
	const struct fo_load_mix *mix = n->cfg->mix;
	struct fo__load_req r = {.due = due, .cl = cl};
	r.cmd = (uint16_t)(mix->n == 1 ? 0 : fo_load_mix_pick(mix, fo_rng_double(&cl->rng)));
	r.key = pick_key(cl);
	if (n->versions) {
		const struct fo_load_cmd *cmd = &mix->cmds[r.cmd];
		uint32_t *v = &n->versions[r.key];
		if (cmd->kind == FO_CMD_WRITE) {
			*v = ((*v & ~FO__LOAD_TAINT) + 1) & ~FO__LOAD_TAINT;
			if (*v == 0)
				*v = 1;
			r.version = *v;
		} else if (cmd->kind == FO_CMD_READ) {
			r.version = *v;
		} else if (cmd->key_arg >= 0) {
			*v |= FO__LOAD_TAINT;
		}
	}
	cl->inflight++;
	t->inflight++;
	send_req(cl, &r, -1, false, now);
}

/* Issues what client cl may: fills its pipeline (closed) or sends what is due (open).
 * Lowers *next to when it will next have something due. */
static void refill(struct fo__load_client *cl, int64_t now, int64_t *next)
{
	struct fo__load_thread *t = cl->t;
	const struct fo_load_config *cfg = t->node->cfg;
	if (cl->held) {
		struct fo__load_conn *c = NULL;
		struct fo__load_req r = cl->hold;
		cl->held = false;
		send_req(cl, &r, -1, false, now);
		if (cl->held) {
			for (size_t i = 0; i < cl->nconns; i++)
				if (cl->conns[i] && cl->conns[i]->state == FO__CONN_CLOSED)
					c = cl->conns[i];
			if (c && next && c->retry_at < *next)
				*next = c->retry_at;
			return;
		}
	}
	/* closed model: top the pipeline up once half of it is answered, so the server reads
	 * requests in batches rather than one at a time (measured: about 10 to 30% more
	 * throughput at -P 16 and less server CPU per request than topping up every reply) */
	if (cfg->rate <= 0 && cl->inflight > cfg->pipeline / 2)
		return;
	while (!t->stopping && cl->left != 0 && cl->inflight < cfg->pipeline && !cl->held) {
		int64_t due = now;
		if (cfg->rate > 0) {
			if (cl->due > now) {
				if (next && cl->due < *next)
					*next = cl->due;
				return;
			}
			due = cl->due;
			if (t->end && due >= t->end) {
				cl->left = 0;
				return;
			}
			cl->due += cl->period;
		}
		if (cl->left > 0)
			cl->left--;
		issue(cl, due, now);
	}
}

/* Does what reply rep says about request r, which came back on c. */
static void on_reply(struct fo__load_conn *c, struct fo__load_req *r, const struct fo_load_reply *rep, int64_t now)
{
	struct fo__load_thread *t = c->t;
	struct fo__load_node *n = t->node;
	const struct fo_load_config *cfg = n->cfg;
	const struct fo_load_cmd *cmd = &cfg->mix->cmds[r->cmd];
	/* a verified read of a key no failed write has left in doubt: its reply is checked */
	bool checked = n->versions && cmd->kind == FO_CMD_READ && r->version && !(r->version & FO__LOAD_TAINT) &&
		       !(n->versions[r->key] & FO__LOAD_TAINT);
	char kind[32];
	switch (rep->status) {
	case FO_LOAD_REDIRECT: {
		if (rep->redirect.ask)
			t->c.asked++;
		else
			t->c.moved++;
		if (r->redirects >= FO__LOAD_MAX_REDIRECTS) {
			finish(t, r, false, "redirect-loop", now);
			return;
		}
		r->redirects++;
		int addr = addr_index(t, rep->redirect.addr, rep->redirect.addr_len);
		if (n->clustered) {
			fo_cluster_map_addr(&t->map, rep->redirect.addr, rep->redirect.addr_len);
			if (!rep->redirect.ask)
				t->map.owner[rep->redirect.slot] = addr;
		}
		send_req(r->cl, r, addr, rep->redirect.ask, now);
		return;
	}
	case FO_LOAD_ERROR:
		cfg->proto->error_kind(rep->data, rep->len, kind, sizeof(kind));
		finish(t, r, false, kind, now);
		return;
	case FO_LOAD_NIL:
		if (checked) {
			finish(t, r, false, "verify", now);
			return;
		}
		if (r->due >= t->measure_start) {
			t->c.misses++;
			t->c.cmd_miss[r->cmd]++;
		}
		finish(t, r, true, NULL, now);
		return;
	case FO_LOAD_OK:
		if (checked) {
			fo_load_value(t->valbuf, cfg->value_size, r->key, r->version);
			if (rep->len != cfg->value_size || memcmp(rep->data, t->valbuf, rep->len) != 0) {
				finish(t, r, false, "verify", now);
				return;
			}
		}
		finish(t, r, true, NULL, now);
		return;
	}
}

/* Reads what came on c and finishes the requests answered. */
static void on_readable(struct fo__load_conn *c)
{
	struct fo__load_thread *t = c->t;
	const struct fo_load_proto *proto = t->node->cfg->proto;
	for (;;) {
		ssize_t got = read(c->fd, t->rbuf, sizeof(t->rbuf));
		int64_t now = fo_now_ns();
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (got <= 0) {
			conn_fail(c, "closed", now);
			return;
		}
		size_t pos = 0;
		while (pos < (size_t)got) {
			size_t used = 0;
			struct fo_load_reply rep;
			char why[96];
			int rc =
			    proto->parse(c->parser, t->rbuf + pos, (size_t)got - pos, &used, &rep, why, sizeof(why));
			pos += used;
			if (rc == 0)
				break;
			if (rc < 0 || c->qlen == 0) {
				conn_fail(c, "protocol", now);
				return;
			}
			struct fo__load_req r = q_pop(c);
			if (r.internal)
				continue;
			struct fo__load_client *cl = r.cl;
			on_reply(c, &r, &rep, now);
			if (c->state != FO__CONN_UP)
				return;
			refill(cl, now, NULL);
		}
		if ((size_t)got < sizeof(t->rbuf))
			return;
	}
}

static void on_event(struct fo__load_conn *c, uint32_t ev, int64_t now)
{
	if (c->state == FO__CONN_CONNECTING) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0 ||
		    (ev & (EPOLLERR | EPOLLHUP))) {
			snprintf(c->t->failure, sizeof(c->t->failure), "cannot connect to %s: %s",
				 c->t->addrs[c->addr].name, strerror(soerr ? soerr : ECONNREFUSED));
			conn_fail(c, "connect", now);
			return;
		}
		conn_up(c);
		return;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(c);
	if (c->state == FO__CONN_UP && (ev & EPOLLOUT))
		conn_flush(c, now);
}

/* Fails the requests of connections that have waited past the timeout. */
static void check_timeouts(struct fo__load_thread *t, int64_t now)
{
	int64_t timeout = t->node->cfg->timeout_ns;
	for (size_t i = 0; i < t->nall; i++) {
		struct fo__load_conn *c = t->all[i];
		if (c->state == FO__CONN_CONNECTING && now - c->since > timeout)
			conn_fail(c, "connect", now);
		else if (c->state == FO__CONN_UP && c->qlen && now - c->q[c->qhead].sent > timeout)
			conn_fail(c, "timeout", now);
	}
}

static int wait_events(struct fo__load_thread *t, struct epoll_event *ev, int max, int64_t wait)
{
	if (wait < 0)
		wait = 0;
	struct timespec ts = {.tv_sec = wait / 1000000000LL, .tv_nsec = wait % 1000000000LL};
	static atomic_bool no_pwait2; /* kernels before 5.11: millisecond timeouts */
	if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
		int n = epoll_pwait2(t->ep, ev, max, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
	}
	return epoll_wait(t->ep, ev, max, (int)((wait + 999999) / 1000000));
}

/* ---- the thread ---- */

int fo__load_thread_setup(struct fo__load_thread *t, int64_t deadline)
{
	struct fo__load_node *n = t->node;
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0) {
		snprintf(t->failure, sizeof(t->failure), "epoll_create1: %s", strerror(errno));
		return -1;
	}
	fo_buf_init(&t->scratch, 0);
	t->hist = fo_calloc(2 * n->ntags, sizeof(*t->hist));
	t->c.cmd_ok = fo_calloc(n->ncmds, sizeof(int64_t));
	t->c.cmd_err = fo_calloc(n->ncmds, sizeof(int64_t));
	t->c.cmd_miss = fo_calloc(n->ncmds, sizeof(int64_t));
	if (n->versions)
		t->valbuf = fo_malloc(n->cfg->value_size + 1);
	/* every client connects to every server it will use, now, so the load starts warm */
	int64_t now = fo_now_ns();
	for (int i = 0; i < t->nclients; i++) {
		struct fo__load_client *cl = &t->clients[i];
		if (n->clustered) {
			for (size_t a = 0; a < n->map.naddrs; a++)
				conn_connect(client_conn(cl, addr_index(t, n->map.addrs[a], strlen(n->map.addrs[a]))),
					     now);
		} else {
			conn_connect(client_conn(cl, cl->home), now);
		}
	}
	struct epoll_event ev[256];
	for (;;) {
		size_t pending = 0, failed = 0;
		for (size_t i = 0; i < t->nall; i++) {
			pending += t->all[i]->state == FO__CONN_CONNECTING;
			failed += t->all[i]->state == FO__CONN_CLOSED;
		}
		if (failed) {
			t->setup_failures = (int)failed;
			if (!t->failure[0])
				snprintf(t->failure, sizeof(t->failure), "%zu connection%s failed", failed,
					 failed == 1 ? "" : "s");
			return -1;
		}
		if (!pending)
			break;
		now = fo_now_ns();
		if (now >= deadline) {
			snprintf(t->failure, sizeof(t->failure), "%zu connection%s did not come up in time", pending,
				 pending == 1 ? "" : "s");
			t->setup_failures = (int)pending;
			return -1;
		}
		int k = wait_events(t, ev, FO_ARRAY_LEN(ev), deadline - now);
		for (int i = 0; i < k; i++)
			on_event(ev[i].data.ptr, ev[i].events, fo_now_ns());
	}
	/* setup connections do not count as errors */
	t->c.all_errors = 0;
	t->c.nkinds = 0;
	return 0;
}

void fo__load_thread_run(struct fo__load_thread *t, int64_t t0)
{
	struct fo__load_node *n = t->node;
	const struct fo_load_config *cfg = n->cfg;
	t->measure_start = t0 + cfg->warmup_ns;
	t->end = cfg->duration_ns > 0 ? t->measure_start + cfg->duration_ns : 0;
	t->iv_index = 0;
	t->iv_end = t->measure_start + FO__LOAD_IV_NS;
	t->next_check = t0 + CHECK_EVERY_NS;
	/* open model: the clients' schedules interleave evenly from t0 */
	int64_t per_node = (int64_t)n->nthreads * cfg->connections;
	for (int i = 0; i < t->nclients; i++) {
		struct fo__load_client *cl = &t->clients[i];
		cl->due = t0 + (int64_t)((double)cl->period * (double)(cl->id - cfg->client_base) / (double)per_node);
	}
	struct epoll_event ev[512];
	for (;;) {
		int64_t now = fo_now_ns();
		if (!t->stopping) {
			bool aborted = now >= t->next_check && cfg->aborted && cfg->aborted(cfg->ctx);
			bool done = true;
			for (int i = 0; i < t->nclients && done; i++)
				done = t->clients[i].left == 0;
			if (aborted || done || (t->end && now >= t->end)) {
				t->stopping = true;
				int64_t drain =
				    aborted && cfg->timeout_ns > FO__LOAD_IV_NS ? FO__LOAD_IV_NS : cfg->timeout_ns;
				t->drain_deadline = now + drain;
			}
		}
		int64_t next = now + CHECK_EVERY_NS;
		if (t->end && !t->stopping && t->end < next)
			next = t->end;
		for (int i = 0; i < t->nclients; i++)
			refill(&t->clients[i], now, &next);
		for (size_t i = 0; i < t->ndirty; i++) {
			t->dirty[i]->dirty = false;
			conn_flush(t->dirty[i], now);
		}
		t->ndirty = 0;
		if (now >= t->measure_start)
			advance(t, now);
		if (t->stopping && (t->inflight == 0 || now >= t->drain_deadline))
			break;
		if (now >= t->next_check) {
			check_timeouts(t, now);
			t->next_check = now + CHECK_EVERY_NS;
		}
		if (t->next_check < next)
			next = t->next_check;
		if (now < t->measure_start ? t->measure_start < next : t->iv_end < next)
			next = now < t->measure_start ? t->measure_start : t->iv_end;
		if (t->stopping && t->drain_deadline < next)
			next = t->drain_deadline;
		int k = wait_events(t, ev, FO_ARRAY_LEN(ev), next - fo_now_ns());
		int64_t at = fo_now_ns();
		for (int i = 0; i < k; i++)
			on_event(ev[i].data.ptr, ev[i].events, at);
	}
	/* what is still unanswered after the drain fails as timed out */
	int64_t now = fo_now_ns();
	for (size_t i = 0; i < t->nall; i++)
		if (t->all[i]->qlen)
			conn_fail(t->all[i], "timeout", now);
	for (int i = 0; i < t->nclients; i++)
		if (t->clients[i].held) {
			t->clients[i].held = false;
			finish(t, &t->clients[i].hold, false, "connect", now);
		}
	t->finished = now;
	if (now >= t->measure_start)
		fo__load_flush(n, t->index, t->iv_index, t->hist, now);
	fo__load_thread_done(n, t->index, now);
}

void fo__load_thread_release(struct fo__load_thread *t)
{
	struct fo__load_node *n = t->node;
	for (size_t i = 0; i < t->nall; i++) {
		struct fo__load_conn *c = t->all[i];
		if (c->fd >= 0)
			close(c->fd);
		fo_buf_release(&c->out);
		n->cfg->proto->parser_free(c->parser);
		fo_free(c->q);
		fo_free(c);
	}
	fo_free(t->all);
	for (int i = 0; i < t->nclients; i++)
		fo_free(t->clients[i].conns);
	fo_free(t->clients);
	for (size_t i = 0; i < t->naddrs; i++)
		fo_free(t->addrs[i].name);
	fo_free(t->addrs);
	fo_cluster_map_release(&t->map);
	if (t->hist)
		for (size_t i = 0; i < 2 * n->ntags; i++)
			fo_hdr_free(t->hist[i]);
	fo_free(t->hist);
	fo_free(t->c.cmd_ok);
	fo_free(t->c.cmd_err);
	fo_free(t->c.cmd_miss);
	fo_free(t->dirty);
	fo_free(t->valbuf);
	fo_buf_release(&t->scratch);
	if (t->ep >= 0)
		close(t->ep);
}
