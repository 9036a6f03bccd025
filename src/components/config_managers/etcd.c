/*
 * etcd.c: the `etcd` configuration manager. It runs a static etcd cluster with one
 * member on every node of its group: each member listens on its node's own address
 * (client port 2379, peer port 2380 by default), keeps its data and its log in the node's
 * folder, and finds its peers through --initial-cluster, built from every node's address.
 *
 * Going up, configure makes each member's folder; start services starts every member as a
 * supervised service and waits, polling until a deadline, until every member answers
 * /health and the member list shows the whole cluster started. Only then does the group
 * reach STARTED_SERVICES_RUNNING and the contact points are published
 * (etcd:endpoint, etcd:endpoints). The state check asks the members themselves, which is
 * how a cluster kept between runs is found healthy. Members are asked over a tiny HTTP
 * client here, so waiting starts no process.
 */
#include "util/common.h"

#include <jansson.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "components/config_managers/cm_common.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"

#define SERVICE "etcd"
#define PROVIDER "etcd"
#define FOLDER "etcd"                              /* below the node's folder */
#define POLL_NS (100 * 1000000LL)                  /* between two looks at the cluster */
#define HTTP_TIMEOUT_NS (1000 * 1000000LL)         /* one request to one member */
#define CTL_TIMEOUT_NS (30 * 1000000000LL)         /* one etcdctl command */
#define HTTP_MAX (1u << 20)                        /* largest answer read */

static const struct fo_prop props[] = {
	{
		.name = "client.port",
		.description = "The port every member serves clients on, on its node's own address.",
		.type = FO_PT_INT,
		.default_value = "2379",
		FO_RANGE(1, 65535),
	},
	{
		.name = "peer.port",
		.description = "The port members talk to each other on, on each node's own address.",
		.type = FO_PT_INT,
		.default_value = "2380",
		FO_RANGE(1, 65535),
	},
	{
		.name = "cluster.token",
		.description = "The --initial-cluster-token, which keeps members of different clusters "
			       "apart. Default: `fallout-` and the group's name.",
		.type = FO_PT_STRING,
		.pattern = "[A-Za-z0-9._-]+",
	},
	{
		.name = "startup.timeout",
		.description = "How long starting the cluster may take: every member must answer /health "
			       "and the member list must show them all by then.",
		.type = FO_PT_DURATION,
		.default_value = "60s",
	},
	{
		.name = "extra.args",
		.description = "More etcd command-line flags for every member, e.g. `[--snapshot-count=5000]`; "
			       "a later flag overrides one fallout sets. Write a YAML list when a flag holds a "
			       "comma (a plain string is split at commas). May hold <<provider:...>> references, "
			       "expanded per node.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

/* What the steps need from the properties. */
struct conf {
	int client_port, peer_port;
	char token[128];
	int64_t timeout_ns;
};

static void read_conf(const struct fo_rgroup *g, const struct fo_propset *ps, struct conf *c)
{
	c->client_port = (int)fo_props_int(ps, "client.port", 2379);
	c->peer_port = (int)fo_props_int(ps, "peer.port", 2380);
	const char *t = fo_props_str(ps, "cluster.token", NULL);
	if (t && *t)
		snprintf(c->token, sizeof(c->token), "%s", t);
	else
		snprintf(c->token, sizeof(c->token), "fallout-%s", g->spec->name);
	c->timeout_ns = fo_props_duration_ns(ps, "startup.timeout", 60 * 1000000000LL);
}

/* ---- asking a member over HTTP ---- */

/*
 * Sends one HTTP/1.0 request (payload: a JSON body, or NULL) to host:port and reads the
 * whole answer, the server closing the connection after it. Sets *status and appends the
 * body to body. Returns 0, or -1 when there was no complete answer in time.
 */
static int http_call(const char *host, int port, const char *method, const char *path, const char *payload,
		     int *status, struct fo_buf *body)
{
	int64_t deadline = fo_now_ns() + HTTP_TIMEOUT_NS;
	int fd;
	if (fo__cm_connect(host, port, deadline, &fd, NULL) != 0)
		return -1;
	struct fo_buf req = FO_BUF_INIT, resp = FO_BUF_INIT;
	fo_buf_init(&resp, HTTP_MAX);
	int rc = -1;
	fo_buf_addf(&req, "%s %s HTTP/1.0\r\nHost: %s:%d\r\nConnection: close\r\n", method, path, host, port);
	if (payload)
		fo_buf_addf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(payload));
	fo_buf_adds(&req, "\r\n");
	if (payload)
		fo_buf_adds(&req, payload);
	for (size_t off = 0; off < req.len;) {
		if (fo__cm_wait_fd(fd, POLLOUT, deadline))
			goto out;
		ssize_t w = send(fd, req.s + off, req.len - off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	for (;;) {
		if (fo__cm_wait_fd(fd, POLLIN, deadline))
			goto out;
		char chunk[4096];
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0 || (r > 0 && fo_buf_add(&resp, chunk, (size_t)r) != 0))
			goto out;
		if (r == 0)
			break;
	}
	int code = 0;
	const char *sep = strstr(resp.s, "\r\n\r\n");
	if (sscanf(resp.s, "HTTP/%*d.%*d %d", &code) != 1 || !sep)
		goto out;
	*status = code;
	fo_buf_adds(body, sep + 4);
	rc = 0;
out:
	close(fd);
	fo_buf_release(&req);
	fo_buf_release(&resp);
	return rc;
}

/* True if the member on n answers /health healthy; else says why in why. */
static bool member_healthy(const struct fo_node *n, const struct conf *c, struct fo_buf *why)
{
	struct fo_buf body = FO_BUF_INIT;
	int status = 0;
	bool ok = false;
	if (http_call(n->address, c->client_port, "GET", "/health", NULL, &status, &body) != 0)
		fo_buf_addf(why, "%s (%s:%d) does not answer", n->name, n->address, c->client_port);
	else if (status != 200 || !strstr(body.s, "\"health\":\"true\""))
		fo_buf_addf(why, "%s answers /health with %d %.200s", n->name, status, body.s);
	else
		ok = true;
	fo_buf_release(&body);
	return ok;
}

/* The number of started members in the member list as n sees it, or -1 (why says why).
 * A member not started yet is listed without a name. */
static int started_members(const struct fo_node *n, const struct conf *c, struct fo_buf *why)
{
	struct fo_buf body = FO_BUF_INIT;
	int status = 0, count = -1;
	if (http_call(n->address, c->client_port, "POST", "/v3/cluster/member/list", "{}", &status, &body) != 0 ||
	    status != 200) {
		fo_buf_addf(why, "%s does not give the member list", n->name);
	} else {
		json_t *root = json_loads(body.s, 0, NULL);
		json_t *members = root ? json_object_get(root, "members") : NULL;
		if (!json_is_array(members)) {
			fo_buf_addf(why, "%s gives a member list that is not one: %.200s", n->name, body.s);
		} else {
			count = 0;
			size_t i;
			json_t *m;
			json_array_foreach(members, i, m)
			{
				const char *name = json_string_value(json_object_get(m, "name"));
				if (name && *name && json_array_size(json_object_get(m, "clientURLs")) > 0)
					count++;
			}
		}
		json_decref(root);
	}
	fo_buf_release(&body);
	return count;
}

/* True if every member is healthy and the member list shows them all started. */
static bool cluster_healthy(struct fo_rgroup *g, const struct conf *c, struct fo_buf *why)
{
	fo_buf_clear(why);
	for (size_t i = 0; i < g->n; i++)
		if (!member_healthy(&g->nodes[i], c, why))
			return false;
	int started = started_members(&g->nodes[0], c, why);
	if (started < 0)
		return false;
	if ((size_t)started != g->n) {
		fo_buf_addf(why, "the member list shows %d of %zu members started", started, g->n);
		return false;
	}
	return true;
}

static void endpoint_of(const struct fo_node *n, const struct conf *c, struct fo_buf *out)
{
	fo_buf_addf(out, "http://%s:%d", n->address, c->client_port);
}

/* Publishes each member's endpoint, and the whole list on every node. */
static void publish(struct fo_rgroup *g, const struct conf *c)
{
	struct fo_buf all = FO_BUF_INIT, one = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++) {
		if (i)
			fo_buf_addch(&all, ',');
		endpoint_of(&g->nodes[i], c, &all);
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", c->client_port);
	for (size_t i = 0; i < g->n; i++) {
		fo_buf_clear(&one);
		endpoint_of(&g->nodes[i], c, &one);
		fo_node_publish(&g->nodes[i], PROVIDER, "endpoint", one.s);
		fo_node_publish(&g->nodes[i], PROVIDER, "endpoints", all.s);
		fo_node_publish(&g->nodes[i], PROVIDER, "port", port);
	}
	fo_buf_release(&all);
	fo_buf_release(&one);
}

/* ---- steps ---- */

/* The member's folder (data and log) on node n. */
static void folder_of(const struct fo_node *n, const char *sub, struct fo_buf *out)
{
	fo_buf_addf(out, "%s/%s%s%s", n->dir, FOLDER, sub ? "/" : "", sub ? sub : "");
}

/* True if prog is an executable file in one of PATH's folders. */
static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	bool found = false;
	struct fo_buf p = FO_BUF_INIT;
	for (const char *s = path; !found && *s;) {
		const char *colon = strchr(s, ':');
		size_t len = colon ? (size_t)(colon - s) : strlen(s);
		fo_buf_clear(&p);
		fo_buf_addf(&p, "%.*s/%s", (int)len, s, prog);
		found = len > 0 && access(p.s, X_OK) == 0;
		s += len + (colon ? 1 : 0);
	}
	fo_buf_release(&p);
	return found;
}

static int need_nodes_with_folders(struct fo_rgroup *g, struct fo_err *err)
{
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].dir)
			return fo_err_set(err, FO_EUNSUPPORTED,
					  "etcd: %s/%s has no folder: etcd needs nodes of a provisioner such as "
					  "`local`",
					  g->spec->name, g->nodes[i].name);
	return 0;
}

/* Makes every member's folder afresh, so the cluster starts new. */
static int configure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int rc = need_nodes_with_folders(g, err);
	if (rc)
		return rc;
	if (!in_path("etcd") || !in_path("etcdctl"))
		return fo_err_set(err, FO_ENOENT,
				  "etcd: 'etcd' or 'etcdctl' is not installed (Debian packages etcd-server and "
				  "etcd-client; `make deps` installs them)");
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		struct fo_buf dir = FO_BUF_INIT, failed = FO_BUF_INIT;
		folder_of(n, NULL, &dir);
		int e = fo_remove_tree(dir.s, false, &failed);
		if (!e && mkdir(dir.s, 0700) != 0)
			e = errno;
		if (e)
			rc = fo_err_set(err, FO_EIO, "etcd: cannot make '%s' on %s/%s: %s", dir.s, g->spec->name, n->name,
					strerror(e));
		else
			fo_info(n->log, "etcd: member folder %s ready", dir.s);
		fo_buf_release(&dir);
		fo_buf_release(&failed);
		if (rc)
			return rc;
	}
	return 0;
}

/* Stops the member on n if it runs. Returns 0, or the error of a member that would not stop. */
static int stop_member(struct fo_node *n, struct fo_err *err)
{
	struct fo_err e = {0};
	int rc = fo_node_stop_service(n, SERVICE, &e);
	if (rc == FO_ENOTFOUND)
		return 0;
	if (rc)
		fo_err_set(err, rc, "etcd: %s", e.msg);
	return rc;
}

/* Starts the member on n (any earlier one is stopped first). */
static int start_member(struct fo_rgroup *g, struct fo_node *n, const struct conf *c, const char *cluster,
			const struct fo_propset *ps, struct fo_err *err)
{
	struct fo__cm_args a = {0};
	struct fo_buf data = FO_BUF_INIT, log = FO_BUF_INIT, x = FO_BUF_INIT;
	folder_of(n, "data", &data);
	folder_of(n, "etcd.log", &log);
	fo__cm_args_addf(&a, "etcd");
	fo__cm_args_addf(&a, "--name=%s", n->name);
	fo__cm_args_addf(&a, "--data-dir=%s", data.s);
	fo__cm_args_addf(&a, "--listen-client-urls=http://%s:%d", n->address, c->client_port);
	fo__cm_args_addf(&a, "--advertise-client-urls=http://%s:%d", n->address, c->client_port);
	fo__cm_args_addf(&a, "--listen-peer-urls=http://%s:%d", n->address, c->peer_port);
	fo__cm_args_addf(&a, "--initial-advertise-peer-urls=http://%s:%d", n->address, c->peer_port);
	fo__cm_args_addf(&a, "--initial-cluster=%s", cluster);
	fo__cm_args_addf(&a, "--initial-cluster-token=%s", c->token);
	fo__cm_args_addf(&a, "--initial-cluster-state=new");
	fo__cm_args_addf(&a, "--logger=zap");
	fo__cm_args_addf(&a, "--log-outputs=stderr");
	int rc = 0;
	const struct fo_propval *extra = fo_props_get(ps, "extra.args");
	for (size_t i = 0; extra && extra->set && i < extra->nlist && !rc; i++) {
		fo_buf_clear(&x);
		rc = fo_run_expand(g->run, n, extra->list[i], &x, err);
		if (!rc)
			fo__cm_args_addf(&a, "%s", x.s);
	}
	if (!rc)
		rc = stop_member(n, err);
	if (!rc) {
		struct fo_cmd cmd = {.argv = (const char *const *)a.v, .log_path = log.s};
		rc = fo_node_start_service(n, SERVICE, &cmd, err);
	}
	fo__cm_args_release(&a);
	fo_buf_release(&data);
	fo_buf_release(&log);
	fo_buf_release(&x);
	return rc;
}

/* Polls the cluster until it is healthy, the deadline passes, or the run fails. */
static int wait_healthy(struct fo_rgroup *g, const struct conf *c, struct fo_err *err)
{
	int64_t t0 = fo_now_ns(), deadline = t0 + c->timeout_ns;
	struct fo_buf why = FO_BUF_INIT;
	int rc = 0;
	for (;;) {
		if (cluster_healthy(g, c, &why))
			break;
		const char *failure = fo_run_failure(g->run);
		char d[32];
		fo_duration_format(c->timeout_ns, d, sizeof(d));
		if (failure) {
			rc = fo_err_set(err, FO_EIO, "etcd: the cluster did not form: %s", failure);
			break;
		}
		if (fo_run_aborted(g->run)) {
			rc = fo_err_set(err, FO_EIO, "etcd: aborted while waiting for the cluster (%s)", why.s);
			break;
		}
		if (fo_now_ns() >= deadline) {
			rc = fo_err_set(err, FO_EIO,
					"etcd: the cluster is not healthy after %s (startup.timeout): %s; each member's etcd.log "
					"is in its node's artifacts",
					d, why.s);
			break;
		}
		fo_run_sleep(g->run, POLL_NS);
	}
	if (!rc)
		fo_info(g->log, "etcd: %zu member%s healthy after %.1fs", g->n, g->n == 1 ? "" : "s",
			(double)(fo_now_ns() - t0) / 1e9);
	fo_buf_release(&why);
	return rc;
}

/* Copies each member's log into its node's artifacts, if there is one. Returns the first
 * error. */
static int collect_logs(struct fo_rgroup *g)
{
	int first = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		struct fo_buf log = FO_BUF_INIT;
		struct fo_err e = {0};
		folder_of(n, "etcd.log", &log);
		struct stat st;
		if (n->dir && n->artifacts && lstat(log.s, &st) == 0) {
			int rc = fo_node_collect(n, FOLDER "/etcd.log", "etcd.log", &e);
			if (rc) {
				fo_warn(n->log, "etcd: cannot collect its log: %s", e.msg);
				if (!first)
					first = rc;
			}
		}
		fo_buf_release(&log);
	}
	return first;
}

/* Starts every member, then waits until the cluster has formed and is healthy. */
static int start_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int rc = need_nodes_with_folders(g, err);
	if (rc)
		return rc;
	struct conf c;
	read_conf(g, ps, &c);
	struct fo_buf cluster = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++)
		fo_buf_addf(&cluster, "%s%s=http://%s:%d", i ? "," : "", g->nodes[i].name, g->nodes[i].address,
			    c.peer_port);
	for (size_t i = 0; i < g->n && !rc; i++)
		rc = start_member(g, &g->nodes[i], &c, cluster.s, ps, err);
	fo_buf_release(&cluster);
	if (!rc)
		rc = wait_healthy(g, &c, err);
	if (!rc)
		publish(g, &c);
	else
		collect_logs(g); /* a failed group is not collected later: keep etcd's own words */
	return rc;
}

/* Stops every member (all are tried; the first error is kept). */
static int stop_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = 0;
	for (size_t i = 0; i < g->n; i++) {
		int rc = stop_member(&g->nodes[i], err);
		if (rc && !first)
			first = rc;
	}
	return first;
}

/* Removes every member's folder (data and log). */
static int unconfigure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = stop_services(g, ps, err);
	int rc = fo__cm_remove_folders(g, FOLDER, "etcd", err);
	return first ? first : rc;
}

/* Asks the members: all healthy is RUNNING (and the contact points are published again, for
 * a cluster kept from an earlier run); folders without a healthy cluster is CONFIGURED. */
static int check_state(struct fo_rgroup *g, const struct fo_propset *ps, enum fo_runlevel *out, struct fo_err *err)
{
	struct conf c;
	read_conf(g, ps, &c);
	bool folders = g->n > 0;
	for (size_t i = 0; i < g->n && folders; i++) {
		struct fo_buf dir = FO_BUF_INIT;
		if (g->nodes[i].dir)
			folder_of(&g->nodes[i], NULL, &dir);
		folders = g->nodes[i].dir && fo_is_dir(dir.s);
		fo_buf_release(&dir);
	}
	struct fo_buf why = FO_BUF_INIT;
	if (!folders) {
		*out = FO_RL_STARTED_SERVICES_UNCONFIGURED;
	} else if (cluster_healthy(g, &c, &why)) {
		*out = FO_RL_STARTED_SERVICES_RUNNING;
		publish(g, &c);
	} else {
		fo_info(g->log, "etcd: the cluster is not running: %s", why.s);
		*out = FO_RL_STARTED_SERVICES_CONFIGURED;
	}
	fo_buf_release(&why);
	return 0;
}

/* Each member's log and, while the cluster runs, the member list as each member sees it
 * (`etcdctl member list`). */
static int collect_artifacts(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	struct conf c;
	read_conf(g, ps, &c);
	int first = collect_logs(g);
	if (first)
		fo_err_set(err, first, "etcd: cannot collect the members' logs");
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		if (!n->dir || !n->artifacts)
			continue;
		if (g->state != FO_RL_STARTED_SERVICES_RUNNING)
			continue;
		struct fo_buf ep = FO_BUF_INIT, out = FO_BUF_INIT;
		fo_buf_init(&out, HTTP_MAX);
		endpoint_of(n, &c, &ep);
		const char *argv[] = {"etcdctl", "--endpoints", ep.s, "member", "list", "-w", "table", NULL};
		struct fo_cmd cmd = {.argv = argv, .timeout_ns = CTL_TIMEOUT_NS, .capture = &out};
		struct fo_cmd_result res = {0};
		int rc = fo_node_exec(n, &cmd, &res, err);
		if (!rc && res.exit_code != 0)
			rc = fo_err_set(err, FO_EIO, "etcd: `etcdctl member list` on %s/%s failed (exit status %d)",
					g->spec->name, n->name, res.exit_code);
		if (!rc)
			rc = fo__cm_write_artifact(n, "etcd-member-list.txt", out.s, err);
		if (rc && !first)
			first = rc;
		fo_buf_release(&ep);
		fo_buf_release(&out);
	}
	return first;
}

static const struct fo_cm_ops ops = {
	.configure = configure,
	.start_services = start_services,
	.stop_services = stop_services,
	.unconfigure = unconfigure,
	.check_state = check_state,
	.collect_artifacts = collect_artifacts,
};

const struct fo_component fo_config_manager_etcd = {
	.name = "etcd",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "run a static etcd cluster, one member per node, healthy before the group is running",
	.description =
		"Runs an etcd cluster with one member on every node of its group. Each member listens "
		"on its node's own address (so every member uses the default ports, 2379 for clients "
		"and 2380 for peers), keeps its data and its log in `etcd/` in the node's folder, and "
		"finds the others through a static `--initial-cluster` made of every node's address.\n"
		"\n"
		"The group reaches STARTED_SERVICES_RUNNING only once every member answers `/health` "
		"as healthy and the member list shows every member started; until `startup.timeout` "
		"passes, fallout keeps asking. Each member runs as a supervised service: one that "
		"exits on its own fails the run. The state check asks the members the same way, so a "
		"cluster kept with `mark_for_reuse` is found healthy and used again.\n"
		"\n"
		"Published for modules: `<<provider:GROUP:N:etcd:endpoint>>` (`http://ADDRESS:PORT` of "
		"node N), `etcd:endpoints` (every member's, comma-separated, as `etcdctl --endpoints` "
		"takes them) and `etcd:port`. Collected as artifacts: each member's `etcd.log` and "
		"`etcd-member-list.txt` (`etcdctl member list` as that member sees it).\n"
		"\n"
		"Needs the Debian packages etcd-server and etcd-client (`make deps`).",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    provisioner: local\n"
		   "    configuration_manager:\n"
		   "      name: etcd\n"
		   "      properties:\n"
		   "        startup.timeout: 30s\n"
		   "  client: server\n"
		   "workload:\n"
		   "  phases:\n"
		   "    - put:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.ordinals: 0\n"
		   "          script: etcdctl --endpoints <<provider:server:0:etcd:endpoints>> put k v\n",
	.props = props,
	.cm = &ops,
};
