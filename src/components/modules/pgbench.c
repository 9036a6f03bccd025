/*
 * pgbench.c: the `pgbench` module: runs PostgreSQL's pgbench (Debian's postgresql-client)
 * against a database: optionally initialises its tables once (pgbench -i at a scale
 * factor, from the group's first node), then runs the load on every node of a group at
 * once for a duration, and turns pgbench's report into the history: one `ok` per node
 * whose JSON value holds the figures (tps, transactions, failures, latency average and
 * stddev), then an `info` with the totals.
 */
#include "util/common.h"

#include <ctype.h>
#include <math.h>

#include "components/component.h"
#include "components/modules/module_common.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"

#define CAPTURE_MAX (1u << 20)
#define TAIL_MAX 600

static const struct fo_prop props[] = {
	{
		.name = "dsn",
		.description = "The database, as a libpq connection string or URI "
			       "(postgresql://user@host:port/db); usually "
			       "<<provider:server:0:postgresql:primary_dsn>>. Unset: the primary that the "
			       "`postgresql` configuration manager published on the `server` group.",
		.type = FO_PT_STRING,
	},
	{
		.name = "target.group",
		.description = "The node group pgbench runs on, on every node at once.",
		.type = FO_PT_GROUP,
		.default_value = "client",
		.options = (const char *const[]){"client", "server", "controller", NULL},
		.suggestions_only = true,
	},
	{
		.name = "init.scale",
		.description = "Initialise pgbench's tables first (pgbench -i -s N, once, from the first "
			       "node) at this scale factor (100000 accounts per unit); 0: use the tables as "
			       "they are.",
		.type = FO_PT_INT,
		.default_value = "1",
		FO_RANGE(0, 100000),
	},
	{
		.name = "clients",
		.description = "Concurrent database sessions per node (-c).",
		.type = FO_PT_INT,
		.default_value = "10",
		FO_RANGE(1, 10000),
	},
	{
		.name = "jobs",
		.description = "pgbench worker threads per node (-j).",
		.type = FO_PT_INT,
		.default_value = "2",
		FO_RANGE(1, 1000),
	},
	{
		.name = "duration",
		.description = "How long the load runs (-T), in whole seconds.",
		.type = FO_PT_DURATION,
		.default_value = "10s",
		FO_RANGE(1, 31 * 86400),
	},
	{
		.name = "builtin",
		.description = "The built-in script (-b).",
		.type = FO_PT_ENUM,
		.default_value = "tpcb-like",
		FO_OPTIONS("tpcb-like", "simple-update", "select-only"),
	},
	{
		.name = "rate",
		.description = "Transactions per second per node, on a schedule (-R); unset: as fast as "
			       "possible.",
		.type = FO_PT_DOUBLE,
		FO_RANGE(0.001, 1e9),
	},
	{
		.name = "args",
		.description = "More arguments for the load, passed as they are (e.g. `-M prepared`).",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "timeout",
		.description = "How long initialisation, and the load past its duration, may take.",
		.type = FO_PT_DURATION,
		.default_value = "10m",
		FO_RANGE(0.001, 86400),
	},
	{0},
};

/* Runs pgbench for j (a struct fo__module_job *), its command line logged before its output. */
static void *run_job(void *arg)
{
	struct fo__module_job *j = arg;
	struct fo_buf prefix = FO_BUF_INIT;
	fo_buf_adds(&prefix, "$ pgbench");
	for (size_t i = 1; j->argv[i]; i++)
		fo_buf_addf(&prefix, " %s", j->argv[i]);
	fo_buf_adds(&prefix, "  # module pgbench\n");
	j->log_prefix = prefix.s;
	fo__module_exec_job(j);
	j->log_prefix = NULL;
	fo_buf_release(&prefix);
	return NULL;
}

/* What pgbench's report says, line by line, and the JSON name of each figure. */
static const struct {
	const char *prefix;
	const char *key;
} figures[] = {
	{"number of transactions actually processed:", "transactions"},
	{"number of failed transactions:", "failed"},
	{"latency average =", "latency_avg_ms"},
	{"latency stddev =", "latency_stddev_ms"},
	{"initial connection time =", "connection_time_ms"},
	{"tps =", "tps"},
	{"scaling factor:", "scale"},
	{"number of clients:", "clients"},
	{"number of threads:", "threads"},
};

/* Parses the report into JSON fields appended to b; returns false when there is no tps. */
static bool parse_report(const char *s, struct fo_buf *b, double *tps, double *tx)
{
	bool have_tps = false;
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		for (size_t i = 0; i < FO_ARRAY_LEN(figures); i++) {
			size_t pl = strlen(figures[i].prefix);
			if (len <= pl || strncmp(s, figures[i].prefix, pl) != 0)
				continue;
			const char *v = s + pl;
			while (*v == ' ')
				v++;
			char num[64];
			size_t k = 0;
			while (k + 1 < sizeof(num) && v < s + len &&
			       (isdigit((unsigned char)*v) || *v == '.' || *v == '-'))
				num[k++] = *v++;
			num[k] = '\0';
			double d;
			if (!fo_parse_double(num, &d))
				break;
			fo_buf_addf(b, d == floor(d) && fabs(d) < 1e15 ? ", \"%s\": %.0f" : ", \"%s\": %.3f",
				    figures[i].key, d);
			if (strcmp(figures[i].key, "tps") == 0) {
				*tps = d;
				have_tps = true;
			}
			if (strcmp(figures[i].key, "transactions") == 0)
				*tx = d;
			break;
		}
		s += e ? len + 1 : len;
	}
	return have_tps;
}

/* Appends the end of a command's output. */
static void add_tail(struct fo_buf *b, const struct fo_buf *out)
{
	size_t start = out->len > TAIL_MAX ? out->len - TAIL_MAX : 0;
	fo_buf_add(b, out->s + start, out->len - start);
	while (b->len && (b->s[b->len - 1] == '\n' || b->s[b->len - 1] == ' '))
		fo_buf_truncate(b, b->len - 1);
}

static int run(struct fo_mctx *m, struct fo_err *err)
{
	const struct fo_propset *ps = m->props;
	const char *gname = fo_props_str(ps, "target.group", "client");
	struct fo_rgroup *g = fo__module_group(m, gname);
	if (!g)
		return 0;
	struct fo_buf dsn = FO_BUF_INIT;
	struct fo_err derr = {0};
	int rc = fo__module_target(m, &g->nodes[0], "dsn", "postgresql", "primary_dsn",
				   "no database: set 'dsn', or run the `postgresql` configuration manager on the "
				   "`server` group",
				   &dsn, &derr);
	if (rc) {
		fo_emit(m, FO_OP_INVOKE, gname);
		fo_emitf(m, FO_OP_FAIL, "%s", derr.msg);
		fo_buf_release(&dsn);
		return 0;
	}
	int64_t timeout = fo_props_duration_ns(ps, "timeout", 600000000000LL);
	int64_t secs = fo_props_duration_ns(ps, "duration", 10000000000LL) / 1000000000LL;
	char scale[32], clients[32], jobs_s[32], dur[32], rate[64];
	snprintf(scale, sizeof(scale), "%lld", (long long)fo_props_int(ps, "init.scale", 1));
	snprintf(clients, sizeof(clients), "%lld", (long long)fo_props_int(ps, "clients", 10));
	snprintf(jobs_s, sizeof(jobs_s), "%lld", (long long)fo_props_int(ps, "jobs", 2));
	snprintf(dur, sizeof(dur), "%lld", (long long)(secs < 1 ? 1 : secs));
	snprintf(rate, sizeof(rate), "%.3f", fo_props_double(ps, "rate", 0));
	const char *argv[64];
	size_t k = 0;
	argv[k++] = "pgbench";
	argv[k++] = "-c";
	argv[k++] = clients;
	argv[k++] = "-j";
	argv[k++] = jobs_s;
	argv[k++] = "-T";
	argv[k++] = dur;
	argv[k++] = "-b";
	argv[k++] = fo_props_str(ps, "builtin", "tpcb-like");
	if (fo_props_double(ps, "rate", 0) > 0) {
		argv[k++] = "-R";
		argv[k++] = rate;
	}
	const struct fo_propval *av = fo_props_get(ps, "args");
	for (size_t i = 0; av && av->set && i < av->nlist && k < FO_ARRAY_LEN(argv) - 2; i++)
		argv[k++] = av->list[i];
	argv[k++] = dsn.s;
	argv[k] = NULL;

	struct fo_buf b = FO_BUF_INIT;
	fo__module_add_nodes(&b, g);
	fo_buf_addf(&b, ": init scale %s, %s clients x %zu node%s, %s s, %s", scale, clients, g->n,
		    g->n == 1 ? "" : "s", dur, argv[8]);
	fo_emit(m, FO_OP_INVOKE, b.s);

	char tmp[1000];
	const char *why = NULL;
	/* initialise once, from the first node */
	if (fo_props_int(ps, "init.scale", 1) > 0) {
		const char *init[] = {"pgbench", "-i", "-q", "-s", scale, dsn.s, NULL};
		struct fo__module_job ij = {.node = &g->nodes[0], .argv = init, .timeout_ns = timeout};
		fo_buf_init(&ij.out, CAPTURE_MAX);
		run_job(&ij);
		if ((why = fo__module_job_failure(&ij, "pgbench", tmp, sizeof(tmp))) != NULL) {
			fo_buf_clear(&b);
			fo_buf_addf(&b, "initialising: %s; output in %s/%s/fallout-node.log", why, g->spec->name,
				    g->nodes[0].name);
			fo_emit(m, FO_OP_FAIL, b.s);
		}
		fo_buf_release(&ij.out);
	}
	if (!why) {
		struct fo__module_job *jobs =
		    fo__module_jobs_new(g, argv, NULL, secs * 1000000000LL + timeout, CAPTURE_MAX);
		fo__module_run_jobs(jobs, g->n, sizeof(*jobs), run_job);
		double tps_sum = 0, tx_sum = 0;
		for (size_t i = 0; i < g->n && !why; i++) {
			struct fo__module_job *j = &jobs[i];
			fo_buf_clear(&b);
			fo_buf_addf(&b, "{\"node\": \"%s\"", j->node->name);
			double tps = 0, tx = 0;
			why = fo__module_job_failure(j, "pgbench", tmp, sizeof(tmp));
			if (!why && !parse_report(j->out.s, &b, &tps, &tx))
				why = "pgbench printed no tps";
			if (why) {
				fo_buf_clear(&b);
				fo_buf_addf(&b, "%s: %s\n", j->node->name, why);
				add_tail(&b, &j->out);
				fo_emit(m, FO_OP_FAIL, b.s);
				break;
			}
			fo_buf_adds(&b, "}");
			fo_emit_media(m, FO_OP_OK, "application/json", b.s);
			tps_sum += tps;
			tx_sum += tx;
		}
		if (!why) {
			fo_buf_clear(&b);
			fo_buf_addf(&b, "{\"nodes\": %zu, \"tps\": %.3f, \"transactions\": %.0f}", g->n, tps_sum,
				    tx_sum);
			fo_emit_media(m, FO_OP_INFO, "application/json", b.s);
		}
		fo__module_jobs_free(jobs, g->n);
	}
	fo_buf_release(&b);
	fo_buf_release(&dsn);
	FO_UNUSED(err);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_pgbench = {
	.name = "pgbench",
	.kind = FO_KIND_MODULE,
	.summary = "run PostgreSQL's pgbench from the client nodes and record its figures",
	.description =
		"Runs pgbench (from Debian's postgresql-client) against `dsn`: first, unless "
		"`init.scale` is 0, `pgbench -i -s <init.scale>` once from the group's first node to "
		"(re)create its tables, then the load on every node of `target.group` at once: "
		"`clients` sessions and `jobs` threads per node for `duration`, with a built-in "
		"script (`builtin`), at a fixed `rate` when given.\n"
		"\n"
		"It emits `invoke`, then one `ok` per node whose JSON value holds pgbench's figures: "
		"tps (without initial connection time), transactions, failed, latency_avg_ms, "
		"latency_stddev_ms, connection_time_ms, scale, clients, threads; then an `info` with "
		"the tps and transactions summed over the nodes. It fails when pgbench cannot run or "
		"exits with an error, quoting the end of its output (all of it is in the node's "
		"fallout-node.log).",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - oltp:\n"
		   "        module: pgbench\n"
		   "        properties:\n"
		   "          dsn: <<provider:server:0:postgresql:primary_dsn>>\n"
		   "          init.scale: 10\n"
		   "          clients: 16\n"
		   "          jobs: 4\n"
		   "          duration: 30s\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n",
	.props = props,
	.module = &ops,
};
