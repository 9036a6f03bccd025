/*
 * redis.c: the `redis` configuration manager. It runs a Redis server on every node of its
 * group, either as independent servers (mode standalone) or as one Redis Cluster of
 * `shards` masters with `replicas` replicas each, and only lets the group reach
 * STARTED_SERVICES_RUNNING once every server answers and, in cluster mode, every node
 * reports the whole cluster healthy.
 *
 * configure writes redis.conf (and an empty data/ folder) into each node's folder;
 * start_services first has redis-server parse that file without starting (a last
 * directive it does not know makes it stop right after the file: its own message for an
 * earlier line is the user's error), then starts the supervised servers, waits for PING,
 * forms the cluster itself (SET-CONFIG-EPOCH, ADDSLOTS, MEET, REPLICATE) and waits for
 * CLUSTER INFO to say ok everywhere. It talks to the servers itself: one socket per
 * question (replies parsed by load/resp.h), no process per poll.
 *
 * Facts published per node (provider `redis`): address, port, host_port, role, and
 * contact_points (host:port of every master, comma-separated). For the node sampler, the
 * `sample` hook asks each server for INFO once a second (metrics/sampler.h). The state check asks the
 * servers themselves, so a cluster kept with mark_for_reuse is only reused when it is
 * really whole and healthy and still configured as the definition says.
 */
#include "util/common.h"

#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "components/config_managers/cm_common.h"
#include "engine/log.h"
#include "engine/run.h"
#include "load/resp.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define SLOTS 16384
#define SERVICE "redis"                /* the service's name on each node */
#define CONF "redis.conf"              /* files in the node's folder */
#define LOGFILE "redis.log"
#define DATA "data"
#define CHECK_OUT ".redis-config-check.out"
#define CHECK_SENTINEL "fallout-config-check-end"
#define ASK_TIMEOUT_NS (2 * NS_PER_S)  /* one question of the state check or a collection */
#define SAMPLE_TIMEOUT_NS (200 * NS_PER_MS) /* INFO for the node sampler, once a second */
#define TAIL_LINES 3                   /* lines of redis.log quoted in an error */

static const char *const modes[] = {"standalone", "cluster", NULL};

static const struct fo_prop props[] = {
	{
		.name = "mode",
		.description = "`standalone`: every node runs its own independent server. `cluster`: the "
			       "nodes form one Redis Cluster of `shards` masters with `replicas` replicas each, "
			       "checked healthy (cluster_state:ok, all 16384 slots assigned, on every node) "
			       "before the group is running.",
		.type = FO_PT_ENUM,
		.default_value = "standalone",
		.options = modes,
	},
	{
		.name = "shards",
		.description = "Cluster mode: how many masters share the 16384 hash slots (in near-equal "
			       "ranges). Default: the node count divided by `replicas` + 1. shards x "
			       "(replicas + 1) must equal the group's node.count: nodes 0 to shards-1 are the "
			       "masters, the next ones replicas (node shards+k replicates master k mod shards).",
		.type = FO_PT_INT,
		FO_RANGE(1, SLOTS),
	},
	{
		.name = "replicas",
		.description = "Cluster mode: how many replicas each master has. A replica counts as "
			       "ready once its replication link to its master is up.",
		.type = FO_PT_INT,
		.default_value = "0",
		FO_RANGE(0, 1023),
	},
	{
		.name = "port",
		.description = "The port every server listens on, at its node's own address. In cluster "
			       "mode the cluster bus uses port + 10000, so the port is at most 55535.",
		.type = FO_PT_INT,
		.default_value = "6379",
		FO_RANGE(1, 65535),
	},
	{
		.name = "config",
		.description = "redis.conf directives passed through as written, a map of directive to "
			       "value (`maxmemory: 100mb`, `maxmemory-policy: allkeys-lru`); a list value "
			       "writes the directive once per item, true/false become yes/no, an empty value "
			       "is written as \"\". They come after fallout's own lines, so they may override "
			       "`save`, `appendonly`, `protected-mode` and `repl-diskless-sync-delay`; the "
			       "directives fallout must own (bind, port, dir, logfile, daemonize, "
			       "cluster-enabled, cluster-config-file, cluster-announce-ip, "
			       "replica-announce-ip) are refused. redis-server checks the file before it "
			       "starts: a directive it refuses fails the start with its own message.",
		.type = FO_PT_MAP,
	},
	{
		.name = "startup.timeout",
		.description = "How long starting may take: every server answering PING and, in cluster "
			       "mode, the cluster formed and healthy on every node.",
		.type = FO_PT_DURATION,
		.default_value = "30s",
		FO_RANGE(0.01, 86400),
	},
	{0},
};

/* Directives the configuration manager writes itself and a user may not override. */
static const char *const owned[] = {"bind",		 "port",		"dir",		       "logfile",
				    "daemonize",	 "cluster-enabled",	"cluster-config-file", "cluster-announce-ip",
				    "replica-announce-ip", NULL};

/* ---- definition-time checks ---- */

static bool is_owned(const char *directive)
{
	for (size_t i = 0; owned[i]; i++)
		if (strcasecmp(owned[i], directive) == 0)
			return true;
	return false;
}

static bool directive_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

/* A value of `config` is a scalar on one line (or a list of them). */
static void check_value(const struct fo_ynode *v, const char *key, struct fo_diags *d)
{
	if (v->kind == FO_YSEQ) {
		for (size_t i = 0; i < v->nitems; i++)
			if (v->items[i]->kind != FO_YSCALAR)
				fo_diags_error(d, &v->items[i]->pos,
					       "item %zu of directive '%s' in 'config' of configuration manager "
					       "'redis' must be a single value, not %s",
					       i + 1, key, fo_ynode_describe(v->items[i]));
			else
				check_value(v->items[i], key, d);
		return;
	}
	if (v->kind != FO_YSCALAR)
		fo_diags_error(d, &v->pos,
			       "directive '%s' in 'config' of configuration manager 'redis' must be a value or "
			       "a list of values, not %s",
			       key, fo_ynode_describe(v));
	else if (memchr(v->str, '\n', v->len) || memchr(v->str, '\r', v->len) || strlen(v->str) != v->len)
		fo_diags_error(d, &v->pos,
			       "directive '%s' in 'config' of configuration manager 'redis' must fit on one line", key);
}

/* What can be checked without the group: mode-only properties, the bus port, `config`. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const char *mode = fo_props_str(ps, "mode", "standalone");
	bool cluster = strcasecmp(mode, "cluster") == 0;
	static const char *const cluster_only[] = {"shards", "replicas"};
	for (size_t i = 0; i < FO_ARRAY_LEN(cluster_only); i++) {
		const struct fo_propval *v = fo_props_get(ps, cluster_only[i]);
		if (!cluster && v && v->set && v->node)
			fo_diags_error(d, &v->node->pos,
				       "property '%s' of configuration manager 'redis' only applies to mode "
				       "'cluster' (mode is '%s')",
				       cluster_only[i], mode);
	}
	const struct fo_propval *port = fo_props_get(ps, "port");
	if (cluster && port && port->set && port->i > 65535 - 10000)
		fo_diags_error(d, port->node ? &port->node->pos : &ps->pos,
			       "property 'port' of configuration manager 'redis' is %lld, but in mode 'cluster' "
			       "the cluster bus needs port + 10000, so the port must be at most 55535",
			       (long long)port->i);
	const struct fo_propval *cfg = fo_props_get(ps, "config");
	if (!cfg || !cfg->set || !cfg->node || cfg->node->kind != FO_YMAP)
		return;
	for (size_t i = 0; i < cfg->node->npairs; i++) {
		const struct fo_ypair *p = &cfg->node->pairs[i];
		const char *key = p->key->str;
		if (!directive_ok(key))
			fo_diags_error(d, &p->key->pos,
				       "'%s' in 'config' of configuration manager 'redis' is not a redis.conf "
				       "directive name",
				       key);
		else if (is_owned(key))
			fo_diags_error(d, &p->key->pos,
				       "directive '%s' in 'config' of configuration manager 'redis' is written by "
				       "fallout itself%s",
				       key,
				       strcasecmp(key, "port") == 0 ? " (use the 'port' property)"
				       : strcasecmp(key, "cluster-enabled") == 0 ? " (use 'mode: cluster')"
										  : "");
		else
			check_value(p->value, key, d);
	}
}

/* ---- the layout ---- */

struct layout {
	bool cluster;
	size_t shards;     /* masters; every node in standalone mode */
	size_t replicas;   /* per master */
	int port;
	int64_t timeout_ns;
};

/* Reads the properties and checks them against the group (what validate could not see). */
static int layout_of(const struct fo_rgroup *g, const struct fo_propset *ps, struct layout *lay,
		     struct fo_err *err)
{
	*lay = (struct layout){
		.cluster = strcasecmp(fo_props_str(ps, "mode", "standalone"), "cluster") == 0,
		.replicas = (size_t)fo_props_int(ps, "replicas", 0),
		.port = (int)fo_props_int(ps, "port", 6379),
		.timeout_ns = fo_props_duration_ns(ps, "startup.timeout", 30 * NS_PER_S),
	};
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].dir)
			return fo_err_set(err, FO_EUNSUPPORTED,
					  "redis: %s/%s has no folder of its own to run a server in (use the "
					  "'local' provisioner)",
					  g->spec->name, g->nodes[i].name);
	if (!lay->cluster) {
		lay->shards = g->n;
		lay->replicas = 0;
		return 0;
	}
	const struct fo_propval *sh = fo_props_get(ps, "shards");
	size_t per = lay->replicas + 1;
	if (sh && sh->set) {
		lay->shards = (size_t)sh->i;
		if (lay->shards * per != g->n)
			return fo_err_set(err, FO_EINVAL,
					  "redis: mode 'cluster' with %zu shard%s of %zu node%s (1 master + %zu "
					  "replica%s) needs node.count %zu, but group '%s' has %zu node%s",
					  lay->shards, lay->shards == 1 ? "" : "s", per, per == 1 ? "" : "s",
					  lay->replicas, lay->replicas == 1 ? "" : "s", lay->shards * per, g->spec->name,
					  g->n, g->n == 1 ? "" : "s");
	} else {
		if (g->n % per)
			return fo_err_set(err, FO_EINVAL,
					  "redis: group '%s' has %zu node%s, which cannot be split into shards of "
					  "%zu nodes (1 master + %zu replica%s); make node.count a multiple of %zu",
					  g->spec->name, g->n, g->n == 1 ? "" : "s", per, lay->replicas,
					  lay->replicas == 1 ? "" : "s", per);
		lay->shards = g->n / per;
	}
	return 0;
}

static bool is_master(const struct layout *lay, size_t i)
{
	return i < lay->shards;
}

/* ---- redis.conf ---- */

/* Appends s as a redis.conf quoted string. */
static void add_quoted(struct fo_buf *b, const char *s)
{
	fo_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fo_buf_addch(b, '\\');
		fo_buf_addch(b, *s);
	}
	fo_buf_addch(b, '"');
}

static void add_directive(struct fo_buf *b, const char *key, const struct fo_ynode *v)
{
	if (v->kind == FO_YSEQ) {
		for (size_t i = 0; i < v->nitems; i++)
			add_directive(b, key, v->items[i]);
		return;
	}
	const char *text = v->str;
	if (v->stype == FO_YS_BOOL && !v->quoted)
		text = v->b ? "yes" : "no";
	if (v->stype == FO_YS_NULL && !v->quoted)
		text = "";
	fo_buf_addf(b, "%s %s\n", key, *text ? text : "\"\"");
}

/* The text of node n's redis.conf. */
static void conf_text(const struct fo_node *n, const struct fo_propset *ps, const struct layout *lay,
		      struct fo_buf *b)
{
	fo_buf_addf(b, "# written by fallout's redis configuration manager for %s/%s\n", n->group->spec->name,
		    n->name);
	fo_buf_addf(b, "bind %s\nport %d\n", n->address, lay->port);
	fo_buf_adds(b, "dir ");
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/%s", n->dir, DATA);
	add_quoted(b, path.s);
	fo_buf_clear(&path);
	fo_buf_addf(&path, "%s/%s", n->dir, LOGFILE);
	fo_buf_adds(b, "\nlogfile ");
	add_quoted(b, path.s);
	fo_buf_release(&path);
	fo_buf_adds(b, "\ndaemonize no\nprotected-mode no\nappendonly no\nsave \"\"\n");
	/* Without announce-ip a node is seen at its connections' source address (127.0.0.1),
	 * not at its own; a replica's first sync need not wait for others (5 s by default). */
	if (lay->cluster)
		fo_buf_addf(b,
			    "cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-announce-ip %s\n"
			    "replica-announce-ip %s\nrepl-diskless-sync-delay 0\n",
			    n->address, n->address);
	const struct fo_propval *cfg = fo_props_get(ps, "config");
	if (cfg && cfg->set && cfg->node && cfg->node->kind == FO_YMAP && cfg->node->npairs) {
		fo_buf_adds(b, "# from the test's `config`\n");
		for (size_t i = 0; i < cfg->node->npairs; i++)
			add_directive(b, cfg->node->pairs[i].key->str, cfg->node->pairs[i].value);
	}
}

static void node_path(const struct fo_node *n, const char *name, struct fo_buf *out)
{
	fo_buf_clear(out);
	fo_buf_addf(out, "%s/%s", n->dir, name);
}

/* Writes path atomically (a temporary file renamed into place). */
static int write_file(const char *path, const struct fo_buf *text, struct fo_err *err)
{
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.tmp", path);
	FILE *f = fopen(tmp.s, "we");
	int rc = 0;
	if (!f) {
		rc = fo_err_set(err, FO_EIO, "redis: cannot write '%s': %s", tmp.s, strerror(errno));
	} else {
		bool ok = fwrite(text->s, 1, text->len, f) == text->len;
		ok = fclose(f) == 0 && ok;
		if (!ok || rename(tmp.s, path) != 0) {
			rc = fo_err_set(err, FO_EIO, "redis: cannot write '%s': %s", path, strerror(errno));
			unlink(tmp.s);
		}
	}
	fo_buf_release(&tmp);
	return rc;
}

/* Empties (or makes) the node's data folder: each start forms a fresh, empty server. */
static int fresh_data(const struct fo_node *n, struct fo_err *err)
{
	struct fo_buf p = FO_BUF_INIT, failed = FO_BUF_INIT;
	node_path(n, DATA, &p);
	int e = fo_remove_tree(p.s, false, &failed);
	int rc = e ? fo_err_set(err, FO_EIO, "redis: cannot empty '%s': %s", failed.s, strerror(e))
		   : fo_mkdirs(p.s, err);
	fo_buf_release(&p);
	fo_buf_release(&failed);
	return rc;
}

/* The last lines of the node's redis.log, joined with " | " (for error messages). */
static void log_tail(const struct fo_node *n, struct fo_buf *out)
{
	struct fo_buf p = FO_BUF_INIT;
	node_path(n, LOGFILE, &p);
	int fd = open(p.s, O_RDONLY | O_CLOEXEC);
	fo_buf_release(&p);
	char text[2048];
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	off_t from = size > (off_t)sizeof(text) - 1 ? size - (off_t)sizeof(text) + 1 : 0;
	ssize_t len = size > 0 ? pread(fd, text, (size_t)(size - from), from) : 0;
	if (fd >= 0)
		close(fd);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	text[len > 0 ? len : 0] = '\0';
	char *start = text + (len > 0 ? len : 0);
	for (int lines = 0; start > text; start--)
		if (start[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	for (char *s = start; *s; s++)
		fo_buf_adds(out, *s == '\n' ? " | " : (char[2]){*s, 0});
}

/* ---- a tiny RESP client (one connection per question; load/resp.h parses) ---- */

/* A reply, flattened: its type and its text (a status, error or bulk string; an integer
 * in decimal; an array as resp.h describes it). */
struct reply {
	enum fo_resp_type type;
	struct fo_buf text;
};

struct conn {
	int fd;
	int64_t deadline;   /* monotonic ns */
	const char *addr;
	int port;
};

/* Waits until the connection is ready for events or its deadline passes. Returns 0 or
 * FO_ENET. */
static int wait_fd(struct conn *c, short events, struct fo_err *err)
{
	int e = fo__cm_wait_fd(c->fd, events, c->deadline);
	if (e == ETIMEDOUT)
		return fo_err_set(err, FO_ENET, "%s:%d did not answer in time", c->addr, c->port);
	return e ? fo_err_set(err, FO_ENET, "poll: %s", strerror(e)) : 0;
}

static int conn_open(struct conn *c, const char *addr, int port, int64_t deadline, struct fo_err *err)
{
	*c = (struct conn){.fd = -1, .deadline = deadline, .addr = addr, .port = port};
	return fo__cm_connect(addr, port, deadline, &c->fd, err);
}

static int conn_send(struct conn *c, const struct fo_buf *out, struct fo_err *err)
{
	for (size_t off = 0; off < out->len;) {
		ssize_t n = send(c->fd, out->s + off, out->len - off, MSG_NOSIGNAL);
		int rc = 0;
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			rc = wait_fd(c, POLLOUT, err);
		else if (n < 0 && errno != EINTR)
			rc = fo_err_set(err, FO_ENET, "%s:%d: send: %s", c->addr, c->port, strerror(errno));
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads one reply into r. */
static int conn_reply(struct conn *c, struct reply *r, struct fo_err *err)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	char buf[16384];
	int rc = 0;
	for (bool done = false; !done && !rc;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			rc = fo_err_set(err, FO_ENET, "%s:%d closed the connection", c->addr, c->port);
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			rc = wait_fd(c, POLLIN, err);
		else if (n < 0 && errno != EINTR)
			rc = fo_err_set(err, FO_ENET, "%s:%d: recv: %s", c->addr, c->port, strerror(errno));
		for (size_t off = 0; n > 0 && off < (size_t)n && !done && !rc;) {
			size_t used = 0;
			const struct fo_resp_value *v = NULL;
			int k = fo_resp_parse(&p, buf + off, (size_t)n - off, &used, &v);
			off += used;
			if (k < 0) {
				rc = fo_err_set(err, FO_EPARSE, "%s:%d: %s", c->addr, c->port, p.err);
			} else if (k == 1) {
				done = true;
				r->type = v->type;
				if (v->type == FO_RESP_INTEGER)
					fo_buf_addf(&r->text, "%lld", (long long)v->integer);
				else if (v->type == FO_RESP_ARRAY)
					fo_resp_describe(v, &r->text);
				else if (v->type != FO_RESP_NIL)
					fo_buf_add(&r->text, v->str, v->len);
			}
		}
	}
	fo_resp_parser_release(&p);
	return rc;
}

/*
 * Sends the command argv (NULL-terminated) to addr:port on a new connection and reads its
 * reply into r (r->text appended; r->type set). An error reply is returned as FO_EIO
 * with Redis's text. Everything must happen before deadline.
 */
static int ask_argv(const char *addr, int port, int64_t deadline, const char *const *argv, struct reply *r,
		    struct fo_err *err)
{
	struct conn c;
	int rc = conn_open(&c, addr, port, deadline, err);
	if (rc)
		return rc;
	struct fo_buf out = FO_BUF_INIT;
	fo_resp_add_command(&out, argv);
	rc = conn_send(&c, &out, err);
	fo_buf_release(&out);
	if (!rc)
		rc = conn_reply(&c, r, err);
	close(c.fd);
	if (!rc && r->type == FO_RESP_ERROR)
		rc = fo_err_set(err, FO_EIO, "%s:%d answered %s with: %s", addr, port, argv[0], r->text.s);
	return rc;
}

/* ask_argv with the arguments listed after err, ending with NULL. */
static int ask(const struct fo_node *n, int port, int64_t deadline, struct reply *r, struct fo_err *err, ...)
	__attribute__((sentinel));
static int ask(const struct fo_node *n, int port, int64_t deadline, struct reply *r, struct fo_err *err, ...)
{
	const char *argv[8];
	size_t argc = 0;
	va_list ap;
	va_start(ap, err);
	for (const char *a; argc + 1 < FO_ARRAY_LEN(argv) && (a = va_arg(ap, const char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return ask_argv(n->address, port, deadline, argv, r, err);
}

static void reply_clear(struct reply *r)
{
	r->type = FO_RESP_NIL;
	fo_buf_clear(&r->text);
}

/* The value of field in an INFO-style text ("name:value" lines), copied into out. */
static bool info_field(const char *text, const char *field, char *out, size_t n)
{
	size_t len = strlen(field);
	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		if (strncmp(s, field, len) == 0 && s[len] == ':') {
			const char *v = s + len + 1;
			size_t k = strcspn(v, "\r\n");
			snprintf(out, n, "%.*s", (int)k, v);
			return true;
		}
	}
	return false;
}

static bool info_is(const char *text, const char *field, const char *want)
{
	char v[64];
	return info_field(text, field, v, sizeof(v)) && strcmp(v, want) == 0;
}

/* ---- waiting ---- */

/* Waits a little before the next poll, longer each time (5 ms up to 100 ms). Returns
 * non-zero when the run is being aborted. */
static int pause_poll(struct fo_run *run, int64_t *step_ns)
{
	int rc = fo_run_sleep(run, *step_ns);
	*step_ns = *step_ns * 2 > 100 * NS_PER_MS ? 100 * NS_PER_MS : *step_ns * 2;
	return rc;
}

/*
 * A question every node must answer well before the group goes on: true when node n does,
 * before deadline; otherwise says why in why (may be NULL).
 */
typedef bool (*node_test_fn)(const struct fo_node *n, const struct layout *lay, int64_t deadline,
			     struct fo_buf *why);

/* Does the node answer PING with PONG? */
static bool answers(const struct fo_node *n, const struct layout *lay, int64_t deadline, struct fo_buf *why)
{
	struct reply r = {.text = FO_BUF_INIT};
	struct fo_err e = {0};
	bool ok = ask(n, lay->port, deadline, &r, &e, "PING", (const char *)NULL) == 0 &&
		  r.type == FO_RESP_STATUS && strcmp(r.text.s, "PONG") == 0;
	if (!ok && why)
		fo_buf_addf(why, "%s", e.code ? e.msg : r.text.s);
	fo_buf_release(&r.text);
	return ok;
}

/*
 * Polls test on each node in turn until it holds for all of them. Gives up when the
 * deadline passes, the run is aborted or something failed meanwhile (a server that exits
 * fails the run), saying what it waited for, why the node did not pass and how the node's
 * redis.log ends.
 */
static int wait_all(struct fo_rgroup *g, const struct layout *lay, node_test_fn test, const char *what,
		    int64_t deadline, struct fo_err *err)
{
	int64_t step = 5 * NS_PER_MS;
	for (size_t i = 0; i < g->n;) {
		const char *failure = fo_run_failure(g->run);
		bool trouble = fo_run_aborted(g->run) || (failure && *failure);
		if (!trouble && test(&g->nodes[i], lay, deadline, NULL)) {
			i++;
			continue;
		}
		if (!trouble && fo_now_ns() < deadline && pause_poll(g->run, &step) == 0)
			continue;
		struct fo_node *n = &g->nodes[i];
		struct fo_buf why = FO_BUF_INIT, tail = FO_BUF_INIT;
		test(n, lay, fo_now_ns() + ASK_TIMEOUT_NS, &why);
		if (!trouble) {
			log_tail(n, &tail);
		} else {
			/* Trouble elsewhere (another node's server exited while this one was still
			 * starting): quote every node's log, so the one that failed is among them. */
			for (size_t k = 0; k < g->n; k++) {
				struct fo_buf one = FO_BUF_INIT;
				log_tail(&g->nodes[k], &one);
				if (one.len)
					fo_buf_addf(&tail, "%s(%s) %s", tail.len ? " || " : "", g->nodes[k].name, one.s);
				fo_buf_release(&one);
			}
		}
		char after[64] = "after startup.timeout ";
		fo_duration_format(lay->timeout_ns, after + strlen(after), sizeof(after) - strlen(after));
		int rc;
		if (fo_run_aborted(g->run))
			rc = fo_err_set(err, FO_EIO, "redis: aborted while waiting for %s", what);
		else
			rc = fo_err_set(err, FO_EIO, "redis: %s waiting for %s on %s/%s (%s)%s%s%s%s",
					trouble ? "stopped" : "gave up", what, g->spec->name, n->name,
					why.len ? why.s : "no answer", trouble ? ": " : " ", trouble ? failure : after,
					tail.len ? "; redis.log ends: " : "", tail.s);
		fo_buf_release(&why);
		fo_buf_release(&tail);
		return rc;
	}
	return 0;
}

/* ---- forming the cluster ---- */

/* Does the node know every node of the group, each settled (past the handshake, with an
 * address)? */
static bool knows_all(const struct fo_node *n, const struct layout *lay, int64_t deadline, struct fo_buf *why)
{
	struct reply r = {.text = FO_BUF_INIT};
	struct fo_err e = {0};
	size_t known = 0;
	bool asked = ask(n, lay->port, deadline, &r, &e, "CLUSTER", "NODES", (const char *)NULL) == 0;
	for (char *line = r.text.s; asked && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		known += *line && !strstr(line, "handshake") && !strstr(line, "noaddr");
		line = nl ? nl + 1 : line + strlen(line);
	}
	if (why && asked)
		fo_buf_addf(why, "it knows %zu of %zu nodes", known, n->group->n);
	else if (why)
		fo_buf_addf(why, "%s", e.msg);
	fo_buf_release(&r.text);
	return known == n->group->n;
}

/* Gives each master its range of slots: master i gets [i*S/shards, (i+1)*S/shards). */
static int add_slots(struct fo_rgroup *g, const struct layout *lay, int64_t deadline, struct fo_err *err)
{
	int rc = 0;
	for (size_t m = 0; m < lay->shards && !rc; m++) {
		size_t lo = m * SLOTS / lay->shards, hi = (m + 1) * SLOTS / lay->shards;
		const char **argv = fo_calloc(hi - lo + 3, sizeof(*argv));
		char *nums = fo_malloc((hi - lo) * 8);
		argv[0] = "CLUSTER";
		argv[1] = "ADDSLOTS";
		for (size_t s = lo; s < hi; s++) {
			char *num = nums + (s - lo) * 8;
			snprintf(num, 8, "%zu", s);
			argv[2 + s - lo] = num;
		}
		struct reply r = {.text = FO_BUF_INIT};
		rc = ask_argv(g->nodes[m].address, lay->port, deadline, argv, &r, err);
		if (!rc)
			fo_info(g->nodes[m].log, "redis: slots %zu-%zu assigned", lo, hi - 1);
		fo_buf_release(&r.text);
		fo_free(argv);
		fo_free(nums);
	}
	return rc;
}

/* Forms the cluster of fresh servers: epochs, slots, MEET, then REPLICATE. */
static int form_cluster(struct fo_rgroup *g, const struct layout *lay, int64_t deadline, struct fo_err *err)
{
	struct reply r = {.text = FO_BUF_INIT};
	char port[16], epoch[24];
	snprintf(port, sizeof(port), "%d", lay->port);
	int rc = 0;
	/* Distinct epochs up front spare the cluster resolving collisions (redis-cli does the same). */
	for (size_t i = 0; i < g->n && !rc; i++) {
		snprintf(epoch, sizeof(epoch), "%zu", i + 1);
		reply_clear(&r);
		rc = ask(&g->nodes[i], lay->port, deadline, &r, err, "CLUSTER", "SET-CONFIG-EPOCH", epoch,
			 (const char *)NULL);
	}
	if (!rc)
		rc = add_slots(g, lay, deadline, err);
	/* Every pair meets: waiting for gossip to spread from one node takes seconds. */
	for (size_t i = 0; i < g->n && !rc; i++)
		for (size_t j = i + 1; j < g->n && !rc; j++) {
			reply_clear(&r);
			rc = ask(&g->nodes[i], lay->port, deadline, &r, err, "CLUSTER", "MEET", g->nodes[j].address,
				 port, (const char *)NULL);
		}
	/* Every node must know every other before a replica can name its master. */
	if (!rc)
		rc = wait_all(g, lay, knows_all, "every node to know all the others", deadline, err);
	for (size_t i = lay->shards; i < g->n && !rc; i++) {
		const struct fo_node *master = &g->nodes[(i - lay->shards) % lay->shards];
		reply_clear(&r);
		rc = ask(master, lay->port, deadline, &r, err, "CLUSTER", "MYID", (const char *)NULL);
		char id[64];
		snprintf(id, sizeof(id), "%s", r.text.s);
		reply_clear(&r);
		if (!rc)
			rc = ask(&g->nodes[i], lay->port, deadline, &r, err, "CLUSTER", "REPLICATE", id,
				 (const char *)NULL);
		if (!rc)
			fo_info(g->nodes[i].log, "redis: replicates %s (%s)", master->name, id);
	}
	fo_buf_release(&r.text);
	return rc;
}

/*
 * Does the node see the cluster whole? cluster_state ok, every slot assigned, every node
 * known, `shards` masters serving slots and, for a replica, its link to its master up.
 */
static bool node_healthy(const struct fo_node *n, const struct layout *lay, int64_t deadline, struct fo_buf *why)
{
	struct reply r = {.text = FO_BUF_INIT};
	struct fo_err e = {0};
	char nodes[24], size[24], seen[64];
	snprintf(nodes, sizeof(nodes), "%zu", n->group->n);
	snprintf(size, sizeof(size), "%zu", lay->shards);
	const char *const want[][2] = {{"cluster_state", "ok"},
				       {"cluster_slots_assigned", "16384"},
				       {"cluster_known_nodes", nodes},
				       {"cluster_size", size}};
	bool ok = ask(n, lay->port, deadline, &r, &e, "CLUSTER", "INFO", (const char *)NULL) == 0;
	for (size_t k = 0; ok && k < FO_ARRAY_LEN(want); k++) {
		if (info_is(r.text.s, want[k][0], want[k][1]))
			continue;
		ok = false;
		if (why)
			fo_buf_addf(why, "%s:%s", want[k][0],
				    info_field(r.text.s, want[k][0], seen, sizeof(seen)) ? seen : "(none)");
	}
	if (ok && !is_master(lay, (size_t)n->ordinal)) {
		reply_clear(&r);
		ok = ask(n, lay->port, deadline, &r, &e, "INFO", "replication", (const char *)NULL) == 0 &&
		     info_is(r.text.s, "master_link_status", "up");
		if (!ok && why && !e.code)
			fo_buf_adds(why, "its link to its master is not up");
	}
	if (!ok && why && e.code)
		fo_buf_adds(why, e.msg);
	fo_buf_release(&r.text);
	return ok;
}

/* ---- facts ---- */

static void publish(struct fo_rgroup *g, const struct layout *lay)
{
	struct fo_buf b = FO_BUF_INIT, masters = FO_BUF_INIT;
	for (size_t i = 0; i < lay->shards; i++)
		fo_buf_addf(&masters, "%s%s:%d", i ? "," : "", g->nodes[i].address, lay->port);
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		fo_buf_clear(&b);
		fo_buf_addf(&b, "%d", lay->port);
		fo_node_publish(n, "redis", "address", n->address);
		fo_node_publish(n, "redis", "port", b.s);
		fo_buf_clear(&b);
		fo_buf_addf(&b, "%s:%d", n->address, lay->port);
		fo_node_publish(n, "redis", "host_port", b.s);
		fo_node_publish(n, "redis", "role", is_master(lay, i) ? "master" : "replica");
		fo_node_publish(n, "redis", "contact_points", masters.s);
	}
	fo_buf_release(&b);
	fo_buf_release(&masters);
}

/* ---- steps ---- */

/* Stops the node's server if one runs (a leftover from an earlier start). */
static void stop_leftover(struct fo_node *n)
{
	struct fo_err e = {0};
	if (fo_node_stop_service(n, SERVICE, &e) == 0)
		fo_info(n->log, "redis: stopped the server left running");
}

static int configure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	struct layout lay;
	int rc = layout_of(g, ps, &lay, err);
	struct fo_buf text = FO_BUF_INIT, path = FO_BUF_INIT;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct fo_node *n = &g->nodes[i];
		fo_buf_clear(&text);
		conf_text(n, ps, &lay, &text);
		node_path(n, CONF, &path);
		stop_leftover(n); /* a kept server whose configuration changed */
		rc = fresh_data(n, err);
		if (!rc)
			rc = write_file(path.s, &text, err);
		if (!rc)
			fo_info(n->log, "redis: wrote %s (%s, %s:%d)", CONF,
				lay.cluster ? (is_master(&lay, i) ? "cluster master" : "cluster replica") : "standalone",
				n->address, lay.port);
	}
	fo_buf_release(&text);
	fo_buf_release(&path);
	return rc;
}

/*
 * Has redis-server parse the node's redis.conf followed by a directive it does not know:
 * it stops at the first line it refuses, without starting. Stopping at ours means the
 * file is fine; anything else is redis's own verdict on the user's configuration.
 */
static int check_conf(struct fo_node *n, const struct fo_propset *ps, struct fo_err *err)
{
	struct fo_buf conf = FO_BUF_INIT, out = FO_BUF_INIT, text = FO_BUF_INIT;
	node_path(n, CONF, &conf);
	node_path(n, CHECK_OUT, &out);
	unlink(out.s);
	const char *argv[] = {"redis-server", conf.s, "--" CHECK_SENTINEL, "yes", NULL};
	struct fo_cmd cmd = {.argv = argv, .log_path = out.s, .log_prefix = "", .timeout_ns = 30 * NS_PER_S};
	struct fo_cmd_result res = {0};
	int rc = fo_node_exec(n, &cmd, &res, err);
	if (rc == FO_ENOENT)
		rc = fo_err_set(err, rc, "redis: redis-server is not installed (make deps installs it)");
	if (!rc) {
		fo_buf_read_file(&text, out.s, 1 << 20, NULL);
		char *bad = strstr(text.s, ">>> '");
		if (bad && !strstr(bad, CHECK_SENTINEL)) {
			/* ">>> 'directive args'", then redis's reason on the next line. */
			const char *line = bad + 4;
			size_t llen = strcspn(line, "\n");
			const char *reason = line[llen] ? line + llen + 1 : "";
			size_t rlen = strcspn(reason, "\n");
			char directive[128];
			snprintf(directive, sizeof(directive), "%.*s", (int)strcspn(line + 1, " '\n"), line + 1);
			struct fo_buf where = FO_BUF_INIT;
			const struct fo_propval *cfg = fo_props_get(ps, "config");
			for (size_t i = 0; cfg && cfg->set && cfg->node && i < cfg->node->npairs; i++) {
				const struct fo_pos *p = &cfg->node->pairs[i].key->pos;
				if (strcasecmp(cfg->node->pairs[i].key->str, directive) == 0 && p->file && !where.len)
					fo_buf_addf(&where, " (config written at %s:%d:%d)", p->file, p->line, p->col);
			}
			rc = fo_err_set(err, FO_EINVAL, "redis-server refused the configuration of %s/%s: %.*s: %.*s%s",
					n->group->spec->name, n->name, (int)llen, line, (int)rlen, reason, where.s);
			fo_buf_release(&where);
		} else if (!bad) {
			while (text.len && (text.s[text.len - 1] == '\n' || text.s[text.len - 1] == ' '))
				fo_buf_truncate(&text, text.len - 1);
			rc = fo_err_set(err, FO_EIO, "redis-server could not check the configuration of %s/%s (%s%d): %s",
					n->group->spec->name, n->name, res.signal ? "signal " : "status ",
					res.signal ? res.signal : res.exit_code, text.len ? text.s : "no output");
		}
	}
	unlink(out.s);
	fo_buf_release(&conf);
	fo_buf_release(&out);
	fo_buf_release(&text);
	return rc;
}

static int start_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	struct layout lay;
	int rc = layout_of(g, ps, &lay, err);
	int64_t t0 = fo_now_ns(), deadline = t0 + lay.timeout_ns;
	/* Fresh servers: nothing left from an earlier start, nothing else on our address. */
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct fo_node *n = &g->nodes[i];
		stop_leftover(n);
		rc = fresh_data(n, err);
		struct conn c;
		struct fo_err e = {0};
		if (!rc && conn_open(&c, n->address, lay.port, fo_now_ns() + ASK_TIMEOUT_NS, &e) == 0) {
			close(c.fd);
			rc = fo_err_set(err, FO_EEXISTS, "redis: something already listens on %s:%d (%s/%s)",
					n->address, lay.port, g->spec->name, n->name);
		}
	}
	for (size_t i = 0; i < g->n && !rc; i++)
		rc = check_conf(&g->nodes[i], ps, err);
	struct fo_buf conf = FO_BUF_INIT;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct fo_node *n = &g->nodes[i];
		node_path(n, CONF, &conf);
		const char *argv[] = {"redis-server", conf.s, "--daemonize", "no", NULL};
		struct fo_cmd cmd = {.argv = argv};
		rc = fo_node_start_service(n, SERVICE, &cmd, err);
	}
	fo_buf_release(&conf);
	if (!rc)
		rc = wait_all(g, &lay, answers, "an answer to PING", deadline, err);
	if (!rc)
		fo_info(g->log, "redis: %zu server%s PING (%.2fs)", g->n, g->n == 1 ? " answers" : "s answer",
			(double)(fo_now_ns() - t0) / NS_PER_S);
	if (!rc && lay.cluster) {
		rc = form_cluster(g, &lay, deadline, err);
		if (!rc)
			rc = wait_all(g, &lay, node_healthy, "a healthy cluster", deadline, err);
		if (!rc)
			fo_info(g->log,
				"redis: cluster of %zu shard%s x (1 master + %zu replica%s) formed: cluster_state:ok "
				"and 16384 slots assigned on every node (%.2fs)",
				lay.shards, lay.shards == 1 ? "" : "s", lay.replicas, lay.replicas == 1 ? "" : "s",
				(double)(fo_now_ns() - t0) / NS_PER_S);
	}
	if (!rc)
		publish(g, &lay);
	return rc;
}

/* Stops the servers (SIGTERM: no persistence, so they exit at once), waiting for each. */
static int stop_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct fo_err e = {0};
		int rc = fo_node_stop_service(&g->nodes[i], SERVICE, &e);
		if (rc && rc != FO_ENOTFOUND && !first)
			first = fo_err_set(err, rc, "redis: %s", e.msg);
	}
	return first;
}

static int unconfigure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	static const char *const files[] = {CONF, DATA, LOGFILE, CHECK_OUT};
	struct fo_buf p = FO_BUF_INIT, failed = FO_BUF_INIT;
	int first = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		if (!n->dir)
			continue;
		stop_leftover(n);
		for (size_t k = 0; k < FO_ARRAY_LEN(files); k++) {
			node_path(n, files[k], &p);
			int e = fo_remove_tree(p.s, false, &failed);
			if (e && !first)
				first = fo_err_set(err, FO_EIO, "redis: cannot remove '%s': %s", failed.s, strerror(e));
		}
		fo_info(n->log, "redis: removed %s, %s/ and %s", CONF, DATA, LOGFILE);
	}
	fo_buf_release(&p);
	fo_buf_release(&failed);
	return first;
}

/*
 * Asks the servers: RUNNING when every server answers (in cluster mode: and sees the
 * cluster whole and healthy) and each redis.conf is the one the test gives; CONFIGURED
 * when the files are right but not every server is well (starting replaces what runs);
 * UNCONFIGURED when a file is missing or differs.
 */
static int check_state(struct fo_rgroup *g, const struct fo_propset *ps, enum fo_runlevel *out, struct fo_err *err)
{
	struct layout lay;
	struct fo_err e = {0};
	struct fo_buf want = FO_BUF_INIT, have = FO_BUF_INIT, path = FO_BUF_INIT, why = FO_BUF_INIT;
	*out = FO_RL_STARTED_SERVICES_RUNNING;
	if (layout_of(g, ps, &lay, &e) != 0) {
		*out = FO_RL_STARTED_SERVICES_UNCONFIGURED;
		fo_buf_adds(&why, e.msg);
	}
	for (size_t i = 0; i < g->n && *out != FO_RL_STARTED_SERVICES_UNCONFIGURED; i++) {
		struct fo_node *n = &g->nodes[i];
		fo_buf_clear(&want);
		fo_buf_clear(&have);
		conf_text(n, ps, &lay, &want);
		node_path(n, CONF, &path);
		int missing = fo_buf_read_file(&have, path.s, 1 << 20, NULL);
		if (missing || strcmp(have.s, want.s) != 0) {
			fo_buf_clear(&why);
			fo_buf_addf(&why, "%s of %s is %s", CONF, n->name, missing ? "missing" : "not what the test gives");
			*out = FO_RL_STARTED_SERVICES_UNCONFIGURED;
			break;
		}
		int64_t deadline = fo_now_ns() + ASK_TIMEOUT_NS;
		struct fo_buf *w = why.len ? NULL : &why; /* the first reason is enough */
		if (w)
			fo_buf_addf(w, "%s (%s:%d): ", n->name, n->address, lay.port);
		if (!answers(n, &lay, deadline, w) || (lay.cluster && !node_healthy(n, &lay, deadline, w)))
			*out = FO_RL_STARTED_SERVICES_CONFIGURED;
		else if (w)
			fo_buf_clear(w);
	}
	if (*out == FO_RL_STARTED_SERVICES_RUNNING) {
		fo_info(g->log, "redis: state check: %zu server%s%s", g->n, g->n == 1 ? " answers" : "s answer",
			lay.cluster ? ", cluster_state:ok on every node" : "");
		publish(g, &lay);
	} else {
		fo_info(g->log, "redis: state check: %s", why.s);
	}
	fo_buf_release(&want);
	fo_buf_release(&have);
	fo_buf_release(&path);
	fo_buf_release(&why);
	FO_UNUSED(err);
	return 0;
}

/* Writes the reply to a command into the node's artifacts as name. */
static int save_answer(struct fo_node *n, int port, const char *name, const char *a, const char *b,
		       struct fo_err *err)
{
	struct reply r = {.text = FO_BUF_INIT};
	int rc = ask(n, port, fo_now_ns() + ASK_TIMEOUT_NS, &r, err, a, b, (const char *)NULL);
	if (!rc) {
		struct fo_buf path = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/%s", n->artifacts, name);
		if (r.text.len && r.text.s[r.text.len - 1] != '\n')
			fo_buf_addch(&r.text, '\n');
		rc = write_file(path.s, &r.text, err);
		fo_buf_release(&path);
	}
	fo_buf_release(&r.text);
	return rc;
}

static int collect_artifacts(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	struct layout lay;
	int first = layout_of(g, ps, &lay, err);
	if (first)
		return first;
	struct fo_buf p = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		struct stat st;
		node_path(n, CONF, &p);
		if (stat(p.s, &st) != 0)
			continue; /* not configured: nothing of ours here */
		static const char *const files[] = {CONF, LOGFILE};
		for (size_t k = 0; k < FO_ARRAY_LEN(files); k++) {
			struct fo_err e = {0};
			int rc = fo_node_collect(n, files[k], files[k], &e);
			if (rc && rc != FO_ENOENT && !first)
				first = fo_err_set(err, rc, "redis: %s", e.msg);
		}
		if (!answers(n, &lay, fo_now_ns() + ASK_TIMEOUT_NS, NULL))
			continue;
		struct fo_err e = {0};
		int rc = save_answer(n, lay.port, "redis-info.txt", "INFO", "everything", &e);
		if (!rc && lay.cluster)
			rc = save_answer(n, lay.port, "redis-cluster-nodes.txt", "CLUSTER", "NODES", &e);
		if (!rc && lay.cluster)
			rc = save_answer(n, lay.port, "redis-cluster-info.txt", "CLUSTER", "INFO", &e);
		if (rc && !first)
			first = fo_err_set(err, rc, "%s", e.msg);
	}
	fo_buf_release(&p);
	return first;
}

/* ---- figures for the node sampler ---- */

/* INFO fields the sampler gets: (INFO name, our name); _total ones become rates. */
static const char *const sampled[][2] = {
    {"instantaneous_ops_per_sec", "ops_per_s"}, {"total_commands_processed", "commands_total"},
    {"connected_clients", "clients"},		{"used_memory", "used_memory_bytes"},
    {"keyspace_hits", "keyspace_hits_total"},	{"keyspace_misses", "keyspace_misses_total"},
};

/* One INFO on one connection (a fresh one: the sampler keeps no state between seconds). */
static int sample(struct fo_node *n, const struct fo_propset *ps, struct fo_buf *out, struct fo_err *err)
{
	int port = (int)fo_props_int(ps, "port", 6379);
	struct reply r = {.text = FO_BUF_INIT};
	int rc = ask(n, port, fo_now_ns() + SAMPLE_TIMEOUT_NS, &r, err, "INFO", (const char *)NULL);
	for (size_t i = 0; !rc && i < FO_ARRAY_LEN(sampled); i++) {
		char v[64], *end;
		if (!info_field(r.text.s, sampled[i][0], v, sizeof(v)))
			continue;
		double x = strtod(v, &end);
		if (end != v && *end == '\0' && isfinite(x))
			fo_buf_addf(out, "%s\"%s\":%.17g", out->len ? "," : "", sampled[i][1], x);
	}
	fo_buf_release(&r.text);
	return rc;
}

static const struct fo_cm_ops ops = {
    .configure = configure,
    .start_services = start_services,
    .stop_services = stop_services,
    .unconfigure = unconfigure,
    .check_state = check_state,
    .collect_artifacts = collect_artifacts,
    .sample = sample,
};

const struct fo_component fo_config_manager_redis = {
	.name = "redis",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "run Redis on every node: standalone servers or one Redis Cluster, checked healthy",
	.description =
		"Runs `redis-server` (Debian's redis-server package; `make deps` installs it) on every "
		"node of its group, each server bound to its node's own address, so every node can use "
		"the same port.\n"
		"\n"
		"- configure writes `redis.conf` into each node's folder: bind, port, `dir` (the node's "
		"`data/`), `logfile` (`redis.log`), no persistence (`save \"\"`, `appendonly no`), "
		"`protected-mode no`, cluster settings in cluster mode, then the `config` directives.\n"
		"- start services has redis-server check the file first (a directive it refuses fails "
		"the start with redis's own message), starts the servers (supervised: one that exits "
		"fails the run), waits for each to answer PING and, in mode `cluster`, forms the "
		"cluster: nodes 0 to shards-1 are masters with near-equal slot ranges, the others "
		"replicas (node shards+k replicates master k mod shards). The group is running only once "
		"CLUSTER INFO shows cluster_state:ok, 16384 slots assigned, every node known and "
		"`shards` masters on every node, and each replica's link is up. Every start forms "
		"fresh, empty servers.\n"
		"- stop services stops the servers and waits until they are gone; unconfigure removes "
		"the configuration, data and log.\n"
		"- artifacts: each node's `redis.conf` and `redis.log`, `INFO everything` as "
		"`redis-info.txt` and, in cluster mode, `CLUSTER NODES` and `CLUSTER INFO` as "
		"`redis-cluster-nodes.txt` and `redis-cluster-info.txt`.\n"
		"- the state check (a cluster kept with `mark_for_reuse`) asks the servers: the group "
		"counts as running only if every server answers, the cluster is healthy on every node "
		"and each redis.conf is the one the test gives; otherwise the servers are started anew.\n"
		"\n"
		"Facts for modules, on every node: <<provider:GROUP:N:redis:address>>, `port`, "
		"`host_port` (address:port), `role` (master or replica) and `contact_points` (host:port "
		"of every master, comma-separated; every node in standalone mode).",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 6\n"
		   "    provisioner: local\n"
		   "    configuration_manager:\n"
		   "      name: redis\n"
		   "      properties:\n"
		   "        mode: cluster\n"
		   "        replicas: 1\n"
		   "        config:\n"
		   "          maxmemory: 100mb\n"
		   "  client: server\n"
		   "workload:\n"
		   "  phases:\n"
		   "    - ping:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.ordinals: 0\n"
		   "          script: redis-cli -c -h <<provider:server:0:redis:address>> CLUSTER INFO\n",
	.props = props,
	.validate = validate,
	.cm = &ops,
};
