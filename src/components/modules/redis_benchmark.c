/*
 * redis_benchmark.c: the `redis_benchmark` module: runs Redis's own redis-benchmark (the
 * Debian redis-tools program) on every node of a group at once, with properties that
 * mirror its flags, and turns its CSV output into the history: one `ok` per test with
 * that test's figures as JSON, then an `info` with the figures summed over the nodes.
 * Each node's CSV is kept in its artifacts as redis-benchmark.csv.
 */
#include "util/common.h"


#include "components/component.h"
#include "components/modules/module_common.h"
#include "engine/run.h"
#include "load/cluster.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"

#define CAPTURE_MAX (1u << 20)

/* When neither `target` nor the server group's redis facts say where the server is. */
#define NO_TARGET                                                                                              \
	"no target: set 'target' (host:port), or run the `redis` configuration manager on the `server` group"

static const struct fo_prop props[] = {
	{
		.name = "target",
		.description = "The server, host:port (the first of a list is used); usually "
			       "<<provider:server:0:redis:contact_points>>. Unset: the contact points the "
			       "`redis` configuration manager published on the `server` group.",
		.type = FO_PT_STRING,
	},
	{
		.name = "target.group",
		.description = "The node group redis-benchmark runs on, on every node at once.",
		.type = FO_PT_GROUP,
		.default_value = "client",
		.options = (const char *const[]){"client", "server", "controller", NULL},
		.suggestions_only = true,
	},
	{
		.name = "clients",
		.description = "Parallel connections (-c).",
		.type = FO_PT_INT,
		.default_value = "50",
		FO_RANGE(1, 100000),
	},
	{
		.name = "requests",
		.description = "Requests per test (-n).",
		.type = FO_PT_LONG,
		.default_value = "100000",
		FO_RANGE(1, 1e12),
	},
	{
		.name = "pipeline",
		.description = "Requests pipelined per connection (-P).",
		.type = FO_PT_INT,
		.default_value = "1",
		FO_RANGE(1, 100000),
	},
	{
		.name = "tests",
		.description = "The tests to run (-t), e.g. `get,set` or `ping_inline,incr,lpush`.",
		.type = FO_PT_STRLIST,
		.default_value = "set,get",
	},
	{
		.name = "data.size",
		.description = "Bytes of SET/GET values (-d).",
		.type = FO_PT_INT,
		.default_value = "3",
		FO_RANGE(1, 512 << 20),
	},
	{
		.name = "keys",
		.description = "Random keys over this key space (-r); 0: every request uses the same key.",
		.type = FO_PT_LONG,
		.default_value = "100000",
		FO_RANGE(0, 1e12),
	},
	{
		.name = "threads",
		.description = "redis-benchmark's own threads (--threads); 0: its default (one).",
		.type = FO_PT_INT,
		.default_value = "0",
		FO_RANGE(0, 500),
	},
	{
		.name = "cluster",
		.description = "Cluster mode (--cluster): spread the requests over the masters.",
		.type = FO_PT_BOOL,
		.default_value = "false",
	},
	{
		.name = "args",
		.description = "More arguments, passed as they are (e.g. `--dbnum 1`).",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "timeout",
		.description = "How long redis-benchmark may run on a node before it is killed.",
		.type = FO_PT_DURATION,
		.default_value = "10m",
		FO_RANGE(0.001, 86400),
	},
	{0},
};

/* Splits one CSV line of quoted fields into at most max fields (owned copies). */
static size_t csv_fields(const char *line, size_t len, char **out, size_t max)
{
	size_t n = 0, i = 0;
	while (i <= len && n < max) {
		struct fo_buf f = FO_BUF_INIT;
		if (i < len && line[i] == '"') {
			i++;
			while (i < len && !(line[i] == '"' && (i + 1 >= len || line[i + 1] != '"'))) {
				if (line[i] == '"')
					i++;
				fo_buf_addch(&f, line[i++]);
			}
			i++; /* closing quote */
		} else {
			while (i < len && line[i] != ',')
				fo_buf_addch(&f, line[i++]);
		}
		out[n++] = fo_buf_detach(&f, NULL);
		if (i >= len || line[i] != ',')
			break;
		i++;
	}
	return n;
}

#define MAX_COLS 16
#define MAX_TESTS 64

/* One test's figures summed over the nodes. */
struct total {
	char name[48];
	double rps;
	double p99_max;
	int nodes;
};

/*
 * Parses a node's CSV and emits one ok per test. Adds to the totals. Returns the number of
 * tests found.
 */
static int emit_tests(struct fo_mctx *m, const struct fo__module_job *j, bool name_node, struct total *tot, size_t *ntot)
{
	char *head[MAX_COLS] = {0};
	size_t nhead = 0;
	int ntests = 0;
	const char *s = j->out.s;
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		while (len && (s[len - 1] == '\r' || s[len - 1] == ' '))
			len--;
		if (len && s[0] == '"') {
			char *f[MAX_COLS] = {0};
			size_t nf = csv_fields(s, len, f, MAX_COLS);
			if (!nhead) {
				for (size_t i = 0; i < nf; i++)
					head[i] = f[i];
				nhead = nf;
			} else {
				struct fo_buf b = FO_BUF_INIT;
				fo_buf_adds(&b, "{");
				if (name_node)
					fo_buf_addf(&b, "\"node\": \"%s\", ", j->node->name);
				double rps = 0, p99 = 0;
				for (size_t i = 0; i < nf && i < nhead; i++) {
					double d;
					fo_buf_addf(&b, "%s", i ? ", " : "");
					fo_buf_add_json_str(&b, head[i], strlen(head[i]));
					fo_buf_adds(&b, ": ");
					if (i > 0 && fo_parse_double(f[i], &d)) {
						fo_buf_addf(&b, "%.3f", d);
						if (strcmp(head[i], "rps") == 0)
							rps = d;
						if (strcmp(head[i], "p99_latency_ms") == 0)
							p99 = d;
					} else {
						fo_buf_add_json_str(&b, f[i], strlen(f[i]));
					}
				}
				fo_buf_adds(&b, "}");
				fo_emit_media(m, FO_OP_OK, "application/json", b.s);
				fo_buf_release(&b);
				ntests++;
				size_t k = 0;
				while (k < *ntot && strcmp(tot[k].name, f[0]) != 0)
					k++;
				if (k == *ntot && k < MAX_TESTS) {
					snprintf(tot[k].name, sizeof(tot[k].name), "%s", f[0]);
					(*ntot)++;
				}
				if (k < *ntot) {
					tot[k].rps += rps;
					tot[k].p99_max = p99 > tot[k].p99_max ? p99 : tot[k].p99_max;
					tot[k].nodes++;
				}
				for (size_t i = 0; i < nf; i++)
					fo_free(f[i]);
			}
		}
		s += e ? (size_t)(e - s) + 1 : strlen(s);
	}
	for (size_t i = 0; i < nhead; i++)
		fo_free(head[i]);
	return ntests;
}

/* Saves a node's CSV into its artifacts (best effort). */
static void save_csv(const struct fo__module_job *j)
{
	if (!j->node->artifacts)
		return;
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/redis-benchmark.csv", j->node->artifacts);
	FILE *f = fopen(p.s, "w");
	if (f) {
		fwrite(j->out.s, 1, j->out.len, f);
		fclose(f);
	}
	fo_buf_release(&p);
}

static int run(struct fo_mctx *m, struct fo_err *err)
{
	const struct fo_propset *ps = m->props;
	const char *gname = fo_props_str(ps, "target.group", "client");
	struct fo_rgroup *g = fo__module_group(m, gname);
	if (!g)
		return 0;
	/* the target: expanded for the first node (redis-benchmark takes one server) */
	struct fo_buf t = FO_BUF_INIT;
	struct fo_err terr = {0};
	int rc = fo__module_target(m, &g->nodes[0], "target", "redis", "contact_points", NO_TARGET, &t, &terr);
	char host[256];
	int port = 0;
	if (!rc) {
		size_t len = strcspn(t.s, ", \t\n");
		if (fo_hostport_split(t.s, len, host, sizeof(host), &port) != 0)
			rc = fo_err_set(&terr, FO_EINVAL, "target '%.*s' is not host:port", (int)len, t.s);
	}
	fo_buf_release(&t);
	if (rc) {
		fo_emit(m, FO_OP_INVOKE, gname);
		fo_emitf(m, FO_OP_FAIL, "%s", terr.msg);
		return 0;
	}

	/* the command line */
	char num[8][32];
	const char *argv[64];
	size_t k = 0;
	struct fo_buf tests = FO_BUF_INIT;
	const struct fo_propval *tv = fo_props_get(ps, "tests");
	for (size_t i = 0; tv && tv->set && i < tv->nlist; i++)
		fo_buf_addf(&tests, "%s%s", i ? "," : "", tv->list[i]);
	snprintf(num[0], sizeof(num[0]), "%d", port);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)fo_props_int(ps, "clients", 50));
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)fo_props_int(ps, "requests", 100000));
	snprintf(num[3], sizeof(num[3]), "%lld", (long long)fo_props_int(ps, "pipeline", 1));
	snprintf(num[4], sizeof(num[4]), "%lld", (long long)fo_props_int(ps, "data.size", 3));
	snprintf(num[5], sizeof(num[5]), "%lld", (long long)fo_props_int(ps, "keys", 100000));
	snprintf(num[6], sizeof(num[6]), "%lld", (long long)fo_props_int(ps, "threads", 0));
	argv[k++] = "redis-benchmark";
	argv[k++] = "-h";
	argv[k++] = host;
	argv[k++] = "-p";
	argv[k++] = num[0];
	argv[k++] = "-c";
	argv[k++] = num[1];
	argv[k++] = "-n";
	argv[k++] = num[2];
	argv[k++] = "-P";
	argv[k++] = num[3];
	argv[k++] = "-d";
	argv[k++] = num[4];
	if (fo_props_int(ps, "keys", 0) > 0) {
		argv[k++] = "-r";
		argv[k++] = num[5];
	}
	if (fo_props_int(ps, "threads", 0) > 0) {
		argv[k++] = "--threads";
		argv[k++] = num[6];
	}
	if (fo_props_bool(ps, "cluster", false))
		argv[k++] = "--cluster";
	if (tests.len) {
		argv[k++] = "-t";
		argv[k++] = tests.s;
	}
	const struct fo_propval *av = fo_props_get(ps, "args");
	for (size_t i = 0; av && av->set && i < av->nlist && k < FO_ARRAY_LEN(argv) - 2; i++)
		argv[k++] = av->list[i];
	argv[k++] = "--csv";
	argv[k] = NULL;

	struct fo_buf b = FO_BUF_INIT;
	fo__module_add_nodes(&b, g);
	fo_buf_adds(&b, ":");
	for (size_t i = 0; argv[i]; i++)
		fo_buf_addf(&b, " %s", argv[i]);
	fo_emit(m, FO_OP_INVOKE, b.s);

	struct fo__module_job *jobs =
	    fo__module_jobs_new(g, argv, "$ redis-benchmark ...  # module redis_benchmark\n",
				fo_props_duration_ns(ps, "timeout", 600000000000LL), CAPTURE_MAX);
	fo__module_run_jobs(jobs, g->n, sizeof(*jobs), fo__module_exec_job);

	struct total tot[MAX_TESTS];
	size_t ntot = 0;
	const char *why = NULL;
	char tmp[1200];
	const struct fo__module_job *bad = NULL;
	for (size_t i = 0; i < g->n && !bad; i++) {
		struct fo__module_job *j = &jobs[i];
		save_csv(j);
		why = fo__module_job_failure(j, "redis-benchmark", tmp, sizeof(tmp));
		if (!why && emit_tests(m, j, g->n > 1, tot, &ntot) == 0)
			why = "redis-benchmark printed no results (is the server reachable?)";
		if (why)
			bad = j;
	}
	if (bad) {
		fo_emitf(m, FO_OP_FAIL, "%s: %s; output in %s/%s/fallout-node.log", bad->node->name, why, g->spec->name,
			 bad->node->name);
	} else {
		fo_buf_clear(&b);
		fo_buf_adds(&b, "{\"nodes\": ");
		fo_buf_addf(&b, "%zu, \"tests\": {", g->n);
		for (size_t i = 0; i < ntot; i++) {
			fo_buf_addf(&b, "%s", i ? ", " : "");
			fo_buf_add_json_str(&b, tot[i].name, strlen(tot[i].name));
			fo_buf_addf(&b, ": {\"rps\": %.3f, \"p99_latency_ms\": %.3f}", tot[i].rps, tot[i].p99_max);
		}
		fo_buf_adds(&b, "}}");
		fo_emit_media(m, FO_OP_INFO, "application/json", b.s);
	}
	fo__module_jobs_free(jobs, g->n);
	fo_buf_release(&tests);
	fo_buf_release(&b);
	FO_UNUSED(err);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_redis_benchmark = {
	.name = "redis_benchmark",
	.kind = FO_KIND_MODULE,
	.summary = "run redis-benchmark on the client nodes and record its figures",
	.description =
		"Runs redis-benchmark (from Debian's redis-tools) on every node of `target.group` at "
		"once against `target`, with --csv, and records what it measured: `invoke` with the "
		"command line, then one `ok` per test (and node) whose JSON value holds the test's "
		"figures as redis-benchmark prints them (rps, avg/min/p50/p95/p99/max latency in ms), "
		"then an `info` with each test's requests per second summed over the nodes. It fails "
		"when redis-benchmark cannot run, exits with an error, or prints no results. Each "
		"node's CSV is kept as redis-benchmark.csv in its artifacts.\n"
		"\n"
		"The properties mirror redis-benchmark's flags: clients (-c), requests (-n), "
		"pipeline (-P), tests (-t), data.size (-d), keys (-r), threads (--threads), cluster "
		"(--cluster); `args` passes anything else. Its latencies are measured the closed-loop "
		"way; compare with `kvload` for a fixed-rate measurement.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - baseline:\n"
		   "        module: redis_benchmark\n"
		   "        properties:\n"
		   "          target: <<provider:server:0:redis:contact_points>>\n"
		   "          clients: 50\n"
		   "          requests: 200000\n"
		   "          pipeline: 16\n"
		   "          tests: get,set\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n",
	.props = props,
	.module = &ops,
};
