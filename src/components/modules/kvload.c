/*
 * kvload.c: the `kvload` module: fallout's own load driver for key-value stores (Redis
 * and Redis Cluster today), measuring honestly: a fixed-rate open model whose latencies
 * count from each request's due time (no coordinated omission) or a closed model at full
 * speed, per-second HdrHistogram interval logs of response and service times on every
 * client node, errors counted by kind.
 *
 * This file maps the properties to the engine's configuration (src/load/load.h), runs one
 * engine per node of `target.group` at once (each on its own thread, all starting
 * together), and turns their results into the history: invoke, then an info with the
 * errors by kind when there were any, then ok or fail with a JSON summary.
 */
#include "util/common.h"


#include "components/component.h"
#include "components/modules/module_common.h"
#include "engine/run.h"
#include "load/load.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/strutil.h"

static const struct fo_prop props[] = {
	{
		.name = "target",
		.description = "The servers: host:port, comma- or space-separated; usually "
			       "<<provider:server:0:redis:contact_points>>. A cluster needs only one of its "
			       "nodes (the rest come from CLUSTER SLOTS); standalone servers share the clients "
			       "round-robin. Unset: the contact points the `redis` configuration manager "
			       "published on the first node of the `server` group.",
		.type = FO_PT_STRING,
	},
	{
		.name = "target.group",
		.description = "The node group the load runs from: every node of it runs `threads` x "
			       "`connections` clients and writes its own interval logs.",
		.type = FO_PT_GROUP,
		.default_value = "client",
		.options = (const char *const[]){"client", "server", "controller", NULL},
		.suggestions_only = true,
	},
	{
		.name = "cluster",
		.description = "`auto`: ask CLUSTER SLOTS and route by key slot when the server is in "
			       "cluster mode; `on`: require a cluster; `off`: never ask (standalone servers).",
		.type = FO_PT_ENUM,
		.default_value = "auto",
		FO_OPTIONS("auto", "on", "off"),
	},
	{
		.name = "threads",
		.description = "Event-loop threads per client node.",
		.type = FO_PT_INT,
		.default_value = "1",
		FO_RANGE(1, 256),
	},
	{
		.name = "connections",
		.description = "Clients per thread. In a cluster each client has one connection to every "
			       "master.",
		.type = FO_PT_INT,
		.default_value = "50",
		FO_RANGE(1, 10000),
	},
	{
		.name = "pipeline",
		.description = "Requests each client keeps in flight (1: wait for each reply). In the closed "
			       "model a client tops its pipeline up once half of it is answered, so the server "
			       "reads requests in batches.",
		.type = FO_PT_INT,
		.default_value = "1",
		FO_RANGE(1, 10000),
	},
	{
		.name = "ratio",
		.description = "Shares of GET and SET, as GETS:SETS (`9:1` reads nine times as often as it "
			       "writes; `0:1` only writes).",
		.type = FO_PT_STRING,
		.default_value = "1:1",
		.pattern = "[0-9]+(\\.[0-9]+)?:[0-9]+(\\.[0-9]+)?",
	},
	{
		.name = "commands",
		.description = "More commands and their shares, beside `ratio`: a map of command to weight. "
			       "A command is a built-in (get, set, del, incr, exists, ping, hset, hget) or a "
			       "command line whose arguments may hold __key__ and __value__, e.g. "
			       "`\"LPUSH __key__:l __value__\": 1`. Its tag in logs is its first word.",
		.type = FO_PT_MAP,
	},
	{
		.name = "keys",
		.description = "The key space: keys `<key.prefix>0` to `<key.prefix><keys-1>`.",
		.type = FO_PT_LONG,
		.default_value = "100000",
		FO_RANGE(1, 1e12),
	},
	{
		.name = "key.distribution",
		.description = "How keys are drawn: `uniform`; `zipfian` (key 0 the hottest, skew "
			       "`key.zipfian.theta`); `sequential` (the clients walk the key space together, "
			       "each key once per pass: fills it).",
		.type = FO_PT_ENUM,
		.default_value = "uniform",
		FO_OPTIONS("uniform", "zipfian", "sequential"),
	},
	{
		.name = "key.zipfian.theta",
		.description = "The skew of the zipfian distribution (YCSB's default 0.99: a few keys get "
			       "most requests).",
		.type = FO_PT_DOUBLE,
		.default_value = "0.99",
		FO_RANGE(0.01, 0.999),
	},
	{
		.name = "key.prefix",
		.description = "What every key starts with.",
		.type = FO_PT_STRING,
		.default_value = "kv:",
		.pattern = "[^\\s]{0,100}",
	},
	{
		.name = "value.size",
		.description = "Bytes of every value written.",
		.type = FO_PT_INT,
		.default_value = "3",
		FO_RANGE(0, 64 << 20),
	},
	{
		.name = "warmup",
		.description = "Load before the measurement starts, not recorded (connections, caches "
			       "and the server warm up).",
		.type = FO_PT_DURATION,
		.default_value = "0",
		FO_RANGE(0, 86400),
	},
	{
		.name = "duration",
		.description = "How long the measured load lasts, after `warmup`. Default: 10s, or no time "
			       "limit when `operations` is set.",
		.type = FO_PT_DURATION,
		FO_RANGE(0.001, 31 * 86400),
	},
	{
		.name = "operations",
		.description = "How many requests to send in all (over every client node, warm-up "
			       "included); the load ends when they are answered.",
		.type = FO_PT_LONG,
		FO_RANGE(1, 1e15),
	},
	{
		.name = "rate",
		.description = "Requests per second in all (over every client node), on a fixed schedule: "
			       "the open model, whose response times count from when each request was due, "
			       "so a stalled server shows in the percentiles. Unset: the closed model, every "
			       "client as fast as the server answers.",
		.type = FO_PT_DOUBLE,
		FO_RANGE(0.001, 1e9),
	},
	{
		.name = "timeout",
		.description = "A request unanswered this long fails (`timeout`) and its connection is "
			       "opened again; also the limit for connecting.",
		.type = FO_PT_DURATION,
		.default_value = "10s",
		FO_RANGE(0.001, 3600),
	},
	{
		.name = "verify",
		.description = "Check that every GET returns what this driver last wrote to the key: "
			       "each client writes and reads its own keys only; a mismatch is an error of "
			       "kind `verify`.",
		.type = FO_PT_BOOL,
		.default_value = "false",
	},
	{
		.name = "max.errors",
		.description = "Failed requests (and connection attempts) allowed before the module "
			       "fails; -1: any number.",
		.type = FO_PT_LONG,
		.default_value = "0",
		FO_RANGE(-1, 1e15),
	},
	{
		.name = "log.name",
		.description = "The interval logs' base name: <name>.hdr (response times) and "
			       "<name>-service.hdr (service times) in each client node's artifacts.",
		.type = FO_PT_STRING,
		.default_value = "kvload",
		.pattern = "[A-Za-z0-9._-]{1,100}",
	},
	{
		.name = "seed",
		.description = "Seed of the random keys and commands (0: a new one every run).",
		.type = FO_PT_LONG,
		.default_value = "0",
		FO_RANGE(0, 9e18),
	},
	{0},
};

/* Collects the `commands` map as names and weights (owned arrays of borrowed strings).
 * Reports a weight that is not a number to d when given, else returns false. */
static bool command_list(const struct fo_propset *ps, const char ***names, double **weights, size_t *n,
			 struct fo_diags *d)
{
	*names = NULL;
	*weights = NULL;
	*n = 0;
	const struct fo_propval *v = fo_props_get(ps, "commands");
	if (!v || !v->set || !v->node || v->node->kind != FO_YMAP)
		return true;
	const struct fo_ynode *m = v->node;
	*names = fo_calloc(m->npairs + 1, sizeof(**names));
	*weights = fo_calloc(m->npairs + 1, sizeof(**weights));
	bool ok = true;
	for (size_t i = 0; i < m->npairs; i++) {
		const struct fo_ypair *p = &m->pairs[i];
		double w;
		if (p->value->kind != FO_YSCALAR || !fo_parse_double(p->value->str, &w) || w < 0) {
			if (d)
				fo_diags_error(d, &p->value->pos,
					       "the weight of command '%s' in 'commands' of module '%s' must be a "
					       "number from 0",
					       p->key->str, ps->alias ? ps->alias : ps->comp->name);
			ok = false;
			continue;
		}
		(*names)[*n] = p->key->str;
		(*weights)[(*n)++] = w;
	}
	return ok;
}

/* The mix must build; a target without references must be host:port pairs. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	const char **names;
	double *weights;
	size_t n;
	if (command_list(ps, &names, &weights, &n, d)) {
		struct fo_load_mix mix;
		struct fo_err err = {0};
		const struct fo_propval *v = fo_props_get(ps, "commands");
		if (fo_load_mix_build(&mix, fo_props_str(ps, "ratio", "1:1"), names, weights, n, &err) != 0)
			fo_diags_error(d, v && v->node ? &v->node->pos : &ps->pos, "module '%s': %s", who, err.msg);
		else
			fo_load_mix_release(&mix);
	}
	fo_free(names);
	fo_free(weights);
	const struct fo_propval *t = fo_props_get(ps, "target");
	if (t && t->set && t->str && !strstr(t->str, "<<")) {
		const char *s = t->str;
		while (*s) {
			size_t len = strcspn(s, ", \t");
			char host[256];
			int port;
			if (len && fo_hostport_split(s, len, host, sizeof(host), &port) != 0)
				fo_diags_error(d, t->node ? &t->node->pos : &ps->pos,
					       "target '%.*s' of module '%s' is not host:port", (int)len, s, who);
			s += len;
			while (*s == ',' || *s == ' ' || *s == '\t')
				s++;
		}
	}
	if (fo_props_bool(ps, "verify", false) && fo_props_int(ps, "keys", 0) > 100000000)
		fo_diags_error(d, &ps->pos, "module '%s': verify keeps 4 bytes per key: at most 100000000 keys", who);
}

/* ---- running ---- */

/* One client node's share. */
struct job {
	struct fo_node *node;
	struct fo_load_config cfg;
	char **targets;
	size_t ntargets;
	char log_dir[4096];
	struct fo_load_result res;
	struct fo_err err;
	int rc;
};

static bool run_aborted(void *ctx)
{
	return fo_run_aborted(ctx);
}

/* Splits s (host:port, comma- or space-separated) into owned strings. */
static void split_targets(const char *s, char ***out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	while (*s) {
		while (*s == ',' || *s == ' ' || *s == '\t' || *s == '\n')
			s++;
		size_t len = strcspn(s, ", \t\n");
		if (!len)
			break;
		FO_GROW(*out, cap, *n + 1);
		(*out)[(*n)++] = fo_strndup(s, len);
		s += len;
	}
}

/* The targets as node sees them: `target` expanded for it, or the redis facts of the
 * server group. Returns 0 or an error in err. */
static int resolve_targets(struct fo_mctx *m, struct job *j, struct fo_err *err)
{
	struct fo_buf b = FO_BUF_INIT;
	int rc = fo__module_target(m, j->node, "target", "redis", "contact_points",
				   "no target: set 'target' (host:port), or run the `redis` configuration "
				   "manager on the `server` group",
				   &b, err);
	if (!rc) {
		split_targets(b.s, &j->targets, &j->ntargets);
		if (j->ntargets == 0)
			rc = fo_err_set(err, FO_EINVAL, "target '%s' names no server", b.s);
	}
	fo_buf_release(&b);
	return rc;
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	j->rc = fo_load_run(&j->cfg, &j->res, &j->err);
	return NULL;
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* Appends the errors by kind as a JSON object: {"connect": 3, ...}. */
static void add_kinds(struct fo_buf *b, const struct fo_load_result *r)
{
	fo_buf_addch(b, '{');
	for (size_t i = 0; i < r->nkinds; i++) {
		fo_buf_addf(b, "%s", i ? ", " : "");
		fo_buf_add_json_str(b, r->kinds[i].kind, strlen(r->kinds[i].kind));
		fo_buf_addf(b, ": %lld", (long long)r->kinds[i].count);
	}
	fo_buf_addch(b, '}');
}

/* The summary: figures over every node, as JSON. */
static void summary(struct fo_buf *b, const struct fo_load_result *r, const struct fo_load_mix *mix, size_t nodes,
		    double rate)
{
	double secs = r->measured_s > 0 ? r->measured_s : 1;
	fo_buf_addf(b, "{\"ops\": %lld, \"rate\": %.1f, \"errors\": %lld, \"misses\": %lld, \"duration_s\": %.3f, ",
		    (long long)r->ops, (double)r->ops / secs, (long long)r->errors, (long long)r->misses,
		    r->measured_s);
	fo_buf_addf(b, "\"model\": \"%s\", ", rate > 0 ? "open" : "closed");
	if (rate > 0)
		fo_buf_addf(b, "\"target_rate\": %.1f, ", rate);
	fo_buf_addf(b, "\"mode\": \"%s\", \"servers\": %zu, \"nodes\": %zu, ", r->clustered ? "cluster" : "standalone",
		    r->nshards, nodes);
	fo_buf_addf(b, "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, ",
		    ms(fo_hdr_value_at_percentile(&r->resp, 50)), ms(fo_hdr_value_at_percentile(&r->resp, 90)),
		    ms(fo_hdr_value_at_percentile(&r->resp, 99)), ms(fo_hdr_value_at_percentile(&r->resp, 99.9)),
		    ms(fo_hdr_max(&r->resp)));
	fo_buf_addf(b, "\"service_p50_ms\": %.3f, \"service_p99_ms\": %.3f, \"service_max_ms\": %.3f, ",
		    ms(fo_hdr_value_at_percentile(&r->svc, 50)), ms(fo_hdr_value_at_percentile(&r->svc, 99)),
		    ms(fo_hdr_max(&r->svc)));
	fo_buf_addf(b, "\"moved\": %lld, \"asked\": %lld, \"commands\": {", (long long)r->moved, (long long)r->asked);
	for (size_t i = 0; i < r->ncmds; i++) {
		const struct fo_load_cmd_stats *c = &r->cmds[i];
		fo_buf_addf(b, "%s", i ? ", " : "");
		fo_buf_add_json_str(b, mix->cmds[i].name, strlen(mix->cmds[i].name));
		fo_buf_addf(b,
			    ": {\"ok\": %lld, \"errors\": %lld, \"misses\": %lld, \"p50_ms\": %.3f, \"p99_ms\": %.3f}",
			    (long long)c->ok, (long long)c->errors, (long long)c->misses,
			    ms(fo_hdr_value_at_percentile(&c->resp, 50)), ms(fo_hdr_value_at_percentile(&c->resp, 99)));
	}
	fo_buf_adds(b, "}, \"errors_by_kind\": ");
	add_kinds(b, r);
	fo_buf_addch(b, '}');
}

static int run(struct fo_mctx *m, struct fo_err *err)
{
	const struct fo_propset *ps = m->props;
	const char *gname = fo_props_str(ps, "target.group", "client");
	struct fo_rgroup *g = fo__module_group(m, gname);
	if (!g)
		return 0;
	const char **names;
	double *weights;
	size_t ncmd;
	struct fo_load_mix mix;
	command_list(ps, &names, &weights, &ncmd, NULL);
	struct fo_err merr = {0};
	int mrc = fo_load_mix_build(&mix, fo_props_str(ps, "ratio", "1:1"), names, weights, ncmd, &merr);
	fo_free(names);
	fo_free(weights);
	if (mrc) {
		fo_emit(m, FO_OP_INVOKE, gname);
		fo_emitf(m, FO_OP_FAIL, "%s", merr.msg);
		return 0;
	}

	size_t nn = g->n;
	int threads = (int)fo_props_int(ps, "threads", 1), conns = (int)fo_props_int(ps, "connections", 50);
	int64_t per_node = (int64_t)threads * conns;
	int64_t ops = fo_props_int(ps, "operations", 0);
	int64_t duration = fo_props_duration_ns(ps, "duration", 0);
	if (!duration && !ops)
		duration = 10000000000LL;
	double rate = fo_props_double(ps, "rate", 0);
	const char *dist = fo_props_str(ps, "key.distribution", "uniform");
	const char *cluster = fo_props_str(ps, "cluster", "auto");
	const char *log_name = fo_props_str(ps, "log.name", "kvload");
	struct fo_buf logname = FO_BUF_INIT;
	fo_buf_addf(&logname, "%s", log_name);
	if (m->iteration)
		fo_buf_addf(&logname, ".%u", m->iteration);

	struct fo_load_sync sync;
	fo_load_sync_init(&sync, (int)nn);
	struct job *jobs = fo_calloc(nn, sizeof(*jobs));
	struct fo_buf b = FO_BUF_INIT;
	int setup_failed = 0;
	for (size_t i = 0; i < nn; i++) {
		struct job *j = &jobs[i];
		j->node = &g->nodes[i];
		if (resolve_targets(m, j, &j->err) != 0) {
			setup_failed++;
			continue;
		}
		snprintf(j->log_dir, sizeof(j->log_dir), "%s", j->node->artifacts ? j->node->artifacts : "");
		j->cfg = (struct fo_load_config){
			.proto = &fo_load_proto_redis,
			.targets = (const char *const *)j->targets,
			.ntargets = j->ntargets,
			.cluster = strcmp(cluster, "on") == 0 ? FO_CLUSTER_ON
				   : strcmp(cluster, "off") == 0 ? FO_CLUSTER_OFF
								 : FO_CLUSTER_AUTO,
			.threads = threads,
			.connections = conns,
			.pipeline = (int)fo_props_int(ps, "pipeline", 1),
			.mix = &mix,
			.keys = (uint64_t)fo_props_int(ps, "keys", 100000),
			.dist = strcmp(dist, "zipfian") == 0 ? FO_DIST_ZIPFIAN
				: strcmp(dist, "sequential") == 0 ? FO_DIST_SEQUENTIAL
								  : FO_DIST_UNIFORM,
			.zipf_theta = fo_props_double(ps, "key.zipfian.theta", 0.99),
			.key_prefix = fo_props_str(ps, "key.prefix", "kv:"),
			.value_size = (size_t)fo_props_int(ps, "value.size", 3),
			.warmup_ns = fo_props_duration_ns(ps, "warmup", 0),
			.duration_ns = duration,
			.operations = ops ? ops / (int64_t)nn + ((int64_t)i < ops % (int64_t)nn ? 1 : 0) : 0,
			.rate = rate / (double)nn,
			.timeout_ns = fo_props_duration_ns(ps, "timeout", 10000000000LL),
			.verify = fo_props_bool(ps, "verify", false),
			.seed = (uint64_t)fo_props_int(ps, "seed", 0) * 1000003u + i,
			.client_base = (int64_t)i * per_node,
			.clients_total = (int64_t)nn * per_node,
			.log_dir = j->log_dir[0] ? j->log_dir : NULL,
			.log_name = logname.s,
			.sync = &sync,
			.aborted = run_aborted,
			.ctx = m->run,
		};
		if (ops && j->cfg.operations == 0)
			j->cfg.operations = -1; /* a node with no share: nothing to send */
	}
	fo__module_add_nodes(&b, g);
	fo_buf_addf(&b, " -> %s (%d x %d clients, pipeline %lld, %s)", jobs[0].ntargets ? jobs[0].targets[0] : "?",
		    threads, conns, (long long)fo_props_int(ps, "pipeline", 1),
		    rate > 0 ? "open model" : "closed model");
	fo_emit(m, FO_OP_INVOKE, b.s);

	if (setup_failed) {
		for (size_t i = 0; i < nn; i++)
			if (jobs[i].err.code) {
				fo_emitf(m, FO_OP_FAIL, "%s: %s", jobs[i].node->name, jobs[i].err.msg);
				break;
			}
	} else {
		fo__module_run_jobs(jobs, nn, sizeof(*jobs), run_job);

		struct fo_load_result all;
		fo_load_result_init(&all, mix.n);
		const struct job *failed = NULL;
		for (size_t i = 0; i < nn; i++) {
			fo_load_result_merge(&all, &jobs[i].res);
			if (jobs[i].rc && (!failed || strstr(failed->err.msg, "another client node")))
				failed = &jobs[i];
		}
		fo_buf_clear(&b);
		summary(&b, &all, &mix, nn, rate);
		if (all.nkinds) {
			struct fo_buf e = FO_BUF_INIT;
			fo_buf_addf(&e, "{\"errors\": %lld, \"by_kind\": ", (long long)all.all_errors);
			add_kinds(&e, &all);
			fo_buf_addch(&e, '}');
			fo_emit_media(m, FO_OP_INFO, "application/json", e.s);
			fo_buf_release(&e);
		}
		int64_t max_errors = fo_props_int(ps, "max.errors", 0);
		if (failed) {
			fo_emitf(m, FO_OP_FAIL, "%s: %s", failed->node->name, failed->err.msg);
		} else if (max_errors >= 0 && all.all_errors > max_errors) {
			struct fo_buf f = FO_BUF_INIT;
			fo_buf_addf(&f, "%lld errors (max.errors %lld):", (long long)all.all_errors,
				    (long long)max_errors);
			for (size_t i = 0; i < all.nkinds; i++)
				fo_buf_addf(&f, "%s %s %lld", i ? "," : "", all.kinds[i].kind,
					    (long long)all.kinds[i].count);
			fo_buf_addf(&f, "; %s", b.s);
			fo_emit(m, FO_OP_FAIL, f.s);
			fo_buf_release(&f);
		} else if (fo_run_aborted(m->run)) {
			fo_emitf(m, FO_OP_FAIL, "aborted; %s", b.s);
		} else {
			fo_emit_media(m, FO_OP_OK, "application/json", b.s);
		}
		fo_load_result_release(&all);
	}

	for (size_t i = 0; i < nn; i++) {
		fo_load_result_release(&jobs[i].res);
		for (size_t k = 0; k < jobs[i].ntargets; k++)
			fo_free(jobs[i].targets[k]);
		fo_free(jobs[i].targets);
	}
	fo_free(jobs);
	fo_load_sync_release(&sync);
	fo_load_mix_release(&mix);
	fo_buf_release(&logname);
	fo_buf_release(&b);
	FO_UNUSED(err);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_kvload = {
	.name = "kvload",
	.kind = FO_KIND_MODULE,
	.summary = "load a Redis server or Redis Cluster and measure its latency without coordinated omission",
	.description =
		"fallout's own load driver. Every node of `target.group` runs `threads` event-loop "
		"threads of `connections` clients each; a client keeps `pipeline` requests in flight. "
		"In a cluster (found with CLUSTER SLOTS) each request goes to the master of its key's "
		"slot, following MOVED (the map is updated) and ASK redirections.\n"
		"\n"
		"Without `rate` the load is a closed model: each client sends as fast as replies "
		"come. With `rate` it is an open model: requests are due on a fixed schedule whatever "
		"the server does, and a request's response time counts from when it was due, so a "
		"server that stalls for a second shows a second in the percentiles (no coordinated "
		"omission). Both the response time (due to reply) and the service time (sent to "
		"reply) are recorded.\n"
		"\n"
		"Each client node writes HdrHistogram interval logs, one interval a second, into its "
		"artifacts: <log.name>.hdr (response times) and <log.name>-service.hdr (service "
		"times), tagged by command and outcome (`get`, `set`, `get-error`...); the `hdrtool` "
		"artifact checker merges them into a report. The warm-up is not recorded.\n"
		"\n"
		"It emits `invoke`, then an `info` with the errors by kind when there were any "
		"(connect, closed, timeout, protocol, verify, or the server's error word: ERR, "
		"WRONGTYPE, CLUSTERDOWN...), then `ok` with a JSON summary (ops, rate, errors, p50, "
		"p99... in ms, service-time percentiles, per-command figures), or `fail` when it "
		"could not connect or the errors exceed `max.errors`.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    provisioner:\n"
		   "      name: local\n"
		   "    configuration_manager:\n"
		   "      - name: redis\n"
		   "        properties:\n"
		   "          mode: cluster\n"
		   "  client:\n"
		   "    node.count: 1\n"
		   "    provisioner:\n"
		   "      name: local\n"
		   "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: kvload\n"
		   "        properties:\n"
		   "          target: <<provider:server:0:redis:contact_points>>\n"
		   "          ratio: 9:1\n"
		   "          rate: 20000\n"
		   "          warmup: 2s\n"
		   "          duration: 30s\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n",
	.props = props,
	.validate = validate,
	.module = &ops,
};
