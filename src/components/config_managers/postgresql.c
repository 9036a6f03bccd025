/*
 * postgresql.c: the `postgresql` configuration manager. Node 0 of its group runs a
 * PostgreSQL primary and every other node a streaming replica, each on its node's own
 * address and the default port, with its data (PGDATA), its log and its configuration in
 * `postgresql/` in the node's folder.
 *
 * Going up, configure runs initdb for the primary and writes its postgresql.conf (the
 * test's `config` map, then the settings fallout needs) and pg_hba.conf (trust on the
 * loopback network, replication included). Starting services starts the primary, waits
 * until it answers, makes the replication role and the test's database, clones each
 * replica with pg_basebackup -R, starts it, and waits (polling until a deadline) until
 * pg_stat_replication on the primary shows every replica streaming and every replica
 * answers queries. Only then does the group reach STARTED_SERVICES_RUNNING and the contact
 * points are published (postgresql:host, port, dsn, role, primary_dsn).
 *
 * PostgreSQL refuses to run as root. When fallout is root, the server programs (initdb,
 * pg_basebackup, postgres) run as the `postgres` system user through setpriv, and
 * `postgresql/` is made owned by that user. The node's folder usually lies below a folder
 * only root may enter (~/.local/state), so they keep one capability, CAP_DAC_READ_SEARCH
 * (read and search any folder, write nothing), to reach it. Each server runs under a tiny
 * sh supervisor in the service's process group: the postmaster's children each start a
 * session of their own, so a group kill alone would reach only the postmaster; the
 * supervisor turns the SIGTERM of a service stop into a fast shutdown (SIGINT), after
 * which the postmaster ends its children itself. Root removes the folder at teardown
 * whoever owns what is inside.
 *
 * For the node sampler (the `sample` hook), each server is asked once a second for its
 * pg_stat_database totals (and, on the primary, how far the replicas lag) with one simple
 * query over PostgreSQL's wire protocol, spoken here: starting psql every second on every
 * node (a process, libpq, some milliseconds of CPU each) would cost more than the rest of
 * the sampling together, and the loopback network is trusted, so no authentication is
 * needed.
 */
#include "util/common.h"

#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "components/component.h"
#include "components/config_managers/cm_common.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"

#define SERVICE "postgresql"
#define PROVIDER "postgresql"
#define FOLDER "postgresql"                       /* below the node's folder */
#define RUN_AS "postgres"                         /* the system user servers run as under root */
#define REPL_USER "replicator"
#define POLL_NS (200 * 1000000LL)   /* between two looks (each starts psql) */
#define QUERY_TIMEOUT_NS (30 * 1000000000LL)
#define INITDB_TIMEOUT_NS (300 * 1000000000LL)
#define OUT_MAX (1u << 20)

#define NAME_PATTERN "[A-Za-z_][A-Za-z0-9_]*"

static const struct fo_prop props[] = {
	{
		.name = "port",
		.description = "The port every server listens on, on its node's own address.",
		.type = FO_PT_INT,
		.default_value = "5432",
		FO_RANGE(1, 65535),
	},
	{
		.name = "config",
		.description = "Settings for postgresql.conf, a map of names to values, e.g. "
			       "`{shared_buffers: 256MB, synchronous_commit: 'off'}`. Written for the primary "
			       "and copied to the replicas; the address, port and replication settings "
			       "fallout needs come after them.",
		.type = FO_PT_MAP,
	},
	{
		.name = "database",
		.description = "A database created for the test (owned by `user`).",
		.type = FO_PT_STRING,
		.default_value = "fallout",
		.pattern = NAME_PATTERN,
	},
	{
		.name = "user",
		.description = "The superuser initdb creates, which modules connect as (no password: "
			       "the servers trust connections from the loopback network).",
		.type = FO_PT_STRING,
		.default_value = "fallout",
		.pattern = NAME_PATTERN,
	},
	{
		.name = "startup.timeout",
		.description = "How long starting the servers may take, base backups included: by then "
			       "every replica must be streaming from the primary.",
		.type = FO_PT_DURATION,
		.default_value = "120s",
	},
	{0},
};

/* Setting names are names; values are single values. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *v = fo_props_get(ps, "config");
	if (!v || !v->set || !v->node || v->node->kind != FO_YMAP)
		return;
	for (size_t i = 0; i < v->node->npairs; i++) {
		const struct fo_ypair *p = &v->node->pairs[i];
		const char *k = p->key->str;
		bool ok = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_';
		for (const char *s = k; ok && *s; s++)
			ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			     *s == '_' || *s == '.';
		if (!ok)
			fo_diags_error(d, &p->key->pos,
				       "'%s' in 'config' of configuration manager 'postgresql' is not a setting name", k);
		else if (p->value->kind != FO_YSCALAR)
			fo_diags_error(d, &p->value->pos,
				       "setting '%s' in 'config' of configuration manager 'postgresql' must be a single "
				       "value, not %s",
				       k, fo_ynode_describe(p->value));
	}
}

/* What a step needs: the properties, and how to run the server programs. */
struct pg {
	struct fo_rgroup *g;
	const struct fo_propset *ps;
	int port;
	const char *user, *db;
	int64_t timeout_ns;
	char bindir[512];
	bool as_user;      /* fallout is root: servers run as RUN_AS */
	uid_t uid;
	gid_t gid;
};

/* Finds the newest /usr/lib/postgresql/VERSION/bin, or what `pg_config --bindir` says. */
static int find_bindir(struct pg *c, struct fo_err *err)
{
	glob_t gl = {0};
	long best = -1;
	if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			const char *p = gl.gl_pathv[i] + strlen("/usr/lib/postgresql/");
			char *end;
			long v = strtol(p, &end, 10);
			if (end != p && *end == '/' && v > best) {
				best = v;
				snprintf(c->bindir, sizeof(c->bindir), "%.*s",
					 (int)(strlen(gl.gl_pathv[i]) - strlen("/postgres")), gl.gl_pathv[i]);
			}
		}
	}
	globfree(&gl);
	if (best >= 0)
		return 0;
	struct fo_buf out = FO_BUF_INIT;
	fo_buf_init(&out, 4096);
	const char *argv[] = {"pg_config", "--bindir", NULL};
	struct fo_cmd cmd = {.argv = argv, .timeout_ns = QUERY_TIMEOUT_NS, .capture = &out};
	struct fo_cmd_result res = {0};
	struct fo_err ignored = {0};
	bool ok = fo_proc_run(&cmd, NULL, NULL, &res, &ignored) == 0 && res.exit_code == 0;
	while (out.len && (out.s[out.len - 1] == '\n' || out.s[out.len - 1] == ' '))
		fo_buf_truncate(&out, out.len - 1);
	struct fo_buf server = FO_BUF_INIT;
	fo_buf_addf(&server, "%s/postgres", out.s);
	ok = ok && access(server.s, X_OK) == 0;
	if (ok)
		snprintf(c->bindir, sizeof(c->bindir), "%s", out.s);
	fo_buf_release(&out);
	fo_buf_release(&server);
	if (!ok)
		return fo_err_set(err, FO_ENOENT,
				  "postgresql: PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/postgres "
				  "(Debian packages postgresql and postgresql-contrib; `make deps` installs them)");
	return 0;
}

static int pg_init(struct pg *c, struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	*c = (struct pg){.g = g, .ps = ps};
	c->port = (int)fo_props_int(ps, "port", 5432);
	c->user = fo_props_str(ps, "user", "fallout");
	c->db = fo_props_str(ps, "database", "fallout");
	c->timeout_ns = fo_props_duration_ns(ps, "startup.timeout", 120 * 1000000000LL);
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].dir)
			return fo_err_set(err, FO_EUNSUPPORTED,
					  "postgresql: %s/%s has no folder: PostgreSQL needs nodes of a provisioner "
					  "such as `local`",
					  g->spec->name, g->nodes[i].name);
	if (geteuid() == 0) {
		struct passwd pwd, *pw = NULL;
		char buf[1024];
		if (getpwnam_r(RUN_AS, &pwd, buf, sizeof(buf), &pw) != 0 || !pw)
			return fo_err_set(err, FO_ENOENT,
					  "postgresql: fallout runs as root, which PostgreSQL refuses, and there is no "
					  "'%s' user to run it as (the Debian package postgresql makes it)",
					  RUN_AS);
		c->as_user = true;
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	}
	return find_bindir(c, err);
}

/* Appends a server program to a: bindir/prog, behind setpriv when servers run as RUN_AS. */
static void server_prog(const struct pg *c, struct fo__cm_args *a, const char *prog)
{
	if (c->as_user) {
		fo__cm_args_addf(a, "setpriv");
		fo__cm_args_addf(a, "--reuid=%s", RUN_AS);
		fo__cm_args_addf(a, "--regid=%s", RUN_AS);
		fo__cm_args_addf(a, "--init-groups");
		fo__cm_args_addf(a, "--inh-caps=+dac_read_search");
		fo__cm_args_addf(a, "--ambient-caps=+dac_read_search");
		fo__cm_args_addf(a, "--");
	}
	fo__cm_args_addf(a, "%s/%s", c->bindir, prog);
}

/* node->dir/postgresql[/sub] */
static void path_of(const struct fo_node *n, const char *sub, struct fo_buf *out)
{
	fo_buf_addf(out, "%s/%s%s%s", n->dir, FOLDER, sub ? "/" : "", sub ? sub : "");
}

/* HOME for the server programs: their folder, not root's. */
static void home_env(const struct fo_node *n, struct fo_buf *out)
{
	fo_buf_adds(out, "HOME=");
	path_of(n, NULL, out);
}


/* Appends the end of out (at most 300 bytes, trailing blanks dropped) to b. */
static void add_tail(struct fo_buf *b, const struct fo_buf *out)
{
	size_t end = out->len;
	while (end > 0 && strchr("\n\r\t ", out->s[end - 1]))
		end--;
	size_t start = end > 300 ? end - 300 : 0;
	if (end > 0)
		fo_buf_addf(b, ": %s%.*s", start ? "..." : "", (int)(end - start), out->s + start);
}

/*
 * Runs a (one of the programs: what names it in messages) on node n with HOME set to its
 * folder. Its output goes to the node's log; with quiet, into capture only (stderr too),
 * for polls. Returns 0 when it ran and exited 0, else an error saying how it ended.
 */
static int run(struct fo_node *n, const char *what, const struct fo__cm_args *a, int64_t timeout_ns, bool quiet,
	       struct fo_buf *capture, struct fo_err *err)
{
	struct fo_buf home = FO_BUF_INIT, own = FO_BUF_INIT, why = FO_BUF_INIT;
	fo_buf_init(&own, OUT_MAX);
	if (!capture)
		capture = &own;
	home_env(n, &home);
	const char *env[] = {home.s, NULL};
	struct fo__cm_args full = {0};
	if (quiet) {
		fo__cm_args_addf(&full, "sh");
		fo__cm_args_addf(&full, "-c");
		fo__cm_args_addf(&full, "exec \"$@\" 2>&1");
		fo__cm_args_addf(&full, "sh");
	}
	for (size_t i = 0; i < a->n; i++)
		fo__cm_args_addf(&full, "%s", a->v[i]);
	struct fo_cmd cmd = {
		.argv = (const char *const *)full.v,
		.env = env,
		.log_path = quiet ? "/dev/null" : NULL,
		.timeout_ns = timeout_ns,
		.capture = capture,
	};
	struct fo_cmd_result res = {0};
	struct fo_err e = {0};
	int rc = fo_node_exec(n, &cmd, &res, &e);
	if (rc) {
		fo_buf_adds(&why, e.msg);
	} else if (res.timed_out || res.aborted || res.signal || res.exit_code != 0) {
		rc = FO_EIO;
		if (res.timed_out)
			fo_buf_adds(&why, "timed out");
		else if (res.aborted)
			fo_buf_adds(&why, "aborted");
		else if (res.signal)
			fo_buf_addf(&why, "killed by signal %d", res.signal);
		else
			fo_buf_addf(&why, "exit status %d", res.exit_code);
		if (quiet)
			add_tail(&why, capture);
		else
			fo_buf_addf(&why, "; its output is in %s/%s/fallout-node.log", n->group->spec->name, n->name);
	}
	if (rc)
		fo_err_set(err, rc, "postgresql: %s on %s/%s failed: %s", what, n->group->spec->name, n->name, why.s);
	fo__cm_args_release(&full);
	fo_buf_release(&home);
	fo_buf_release(&own);
	fo_buf_release(&why);
	return rc;
}

/* Runs sql with psql on n's server, in database db, as the test's user. The answer goes
 * into out (unaligned, without headers: "t", "3"), trailing newlines dropped. */
static int query(const struct pg *c, struct fo_node *n, const char *db, const char *sql, bool quiet,
		 struct fo_buf *out, struct fo_err *err)
{
	struct fo__cm_args a = {0};
	fo__cm_args_addf(&a, "%s/psql", c->bindir);
	fo__cm_args_addf(&a, "-XAtq");
	fo__cm_args_addf(&a, "-v");
	fo__cm_args_addf(&a, "ON_ERROR_STOP=1");
	fo__cm_args_addf(&a, "-h");
	fo__cm_args_addf(&a, "%s", n->address);
	fo__cm_args_addf(&a, "-p");
	fo__cm_args_addf(&a, "%d", c->port);
	fo__cm_args_addf(&a, "-U");
	fo__cm_args_addf(&a, "%s", c->user);
	fo__cm_args_addf(&a, "-d");
	fo__cm_args_addf(&a, "%s", db);
	fo__cm_args_addf(&a, "-c");
	fo__cm_args_addf(&a, "%s", sql);
	int rc = run(n, "psql", &a, QUERY_TIMEOUT_NS, quiet, out, err);
	while (out && out->len && strchr("\n\r ", out->s[out->len - 1]))
		fo_buf_truncate(out, out->len - 1);
	fo__cm_args_release(&a);
	return rc;
}

/* True if the file sub (below node n's postgresql/ folder) exists. */
static bool exists(const struct fo_node *n, const char *sub)
{
	struct fo_buf p = FO_BUF_INIT;
	path_of(n, sub, &p);
	struct stat st;
	bool yes = lstat(p.s, &st) == 0;
	fo_buf_release(&p);
	return yes;
}

/* Makes node n's postgresql/ folder anew (0700, owned by the user servers run as). */
static int make_home(const struct pg *c, struct fo_node *n, struct fo_err *err)
{
	struct fo_buf p = FO_BUF_INIT, failed = FO_BUF_INIT;
	path_of(n, NULL, &p);
	int e = fo_remove_tree(p.s, false, &failed);
	if (!e && mkdir(p.s, 0700) != 0)
		e = errno;
	if (!e && c->as_user && chown(p.s, c->uid, c->gid) != 0)
		e = errno;
	int rc = 0;
	if (e)
		rc = fo_err_set(err, FO_EIO, "postgresql: cannot make '%s' on %s/%s: %s", p.s, n->group->spec->name,
				n->name, strerror(e));
	fo_buf_release(&p);
	fo_buf_release(&failed);
	return rc;
}

/* Appends text to the file sub below node n's postgresql/ folder. */
static int append(struct fo_node *n, const char *sub, const char *text, struct fo_err *err)
{
	struct fo_buf p = FO_BUF_INIT;
	path_of(n, sub, &p);
	FILE *f = fopen(p.s, "ae");
	int rc = 0;
	if (!f || fputs(text, f) < 0)
		rc = fo_err_set(err, FO_EIO, "postgresql: cannot write '%s': %s", p.s, strerror(errno));
	if (f && fclose(f) != 0 && !rc)
		rc = fo_err_set(err, FO_EIO, "postgresql: cannot write '%s': %s", p.s, strerror(errno));
	fo_buf_release(&p);
	return rc;
}

/* Appends a postgresql.conf line name = 'value', quoting as the file wants. */
static void add_setting(struct fo_buf *b, const char *name, const char *value)
{
	fo_buf_addf(b, "%s = '", name);
	for (const char *s = value; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fo_buf_addch(b, *s);
		fo_buf_addch(b, *s);
	}
	fo_buf_adds(b, "'\n");
}

/* The settings that make n itself: its address and name. They come last, so they win. */
static void node_settings(const struct pg *c, const struct fo_node *n, struct fo_buf *b)
{
	fo_buf_adds(b, "# this node (fallout)\n");
	add_setting(b, "listen_addresses", n->address);
	fo_buf_addf(b, "port = %d\n", c->port);
	add_setting(b, "unix_socket_directories", "");
	add_setting(b, "cluster_name", n->name);
}

/* The primary's postgresql.conf additions and pg_hba.conf lines. */
static int configure_primary(const struct pg *c, struct fo_node *n, struct fo_err *err)
{
	struct fo_rgroup *g = c->g;
	struct fo_buf conf = FO_BUF_INIT, hba = FO_BUF_INIT, x = FO_BUF_INIT;
	int rc = 0;
	fo_buf_adds(&conf, "\n# ---- written by fallout's postgresql configuration manager ----\n");
	fo_buf_addf(&conf, "wal_level = replica\nhot_standby = on\nmax_wal_senders = %zu\nmax_replication_slots = %zu\n",
		    g->n + 10, g->n + 10);
	const struct fo_propval *v = fo_props_get(c->ps, "config");
	if (v && v->set && v->node && v->node->kind == FO_YMAP && v->node->npairs) {
		fo_buf_adds(&conf, "# the test's `config`\n");
		for (size_t i = 0; i < v->node->npairs && !rc; i++) {
			const struct fo_ypair *p = &v->node->pairs[i];
			fo_buf_clear(&x);
			rc = fo_run_expand(g->run, n, fo_ynode_is_null(p->value) ? "" : p->value->str, &x, err);
			if (!rc)
				add_setting(&conf, p->key->str, x.s);
		}
	}
	node_settings(c, n, &conf);
	fo_buf_adds(&hba, "\n# fallout: the nodes connect over the loopback network\n"
			  "host    all            all    127.0.0.0/8    trust\n"
			  "host    replication    all    127.0.0.0/8    trust\n");
	/* Nodes in network namespaces: every host of the nodes' own subnet (other groups'
	 * clients and fallout itself on the hub are there too). */
	bool own_net = false;
	for (size_t i = 0; i < g->n; i++)
		own_net |= !fo_starts_with(g->nodes[i].address, "127.");
	if (own_net)
		fo_buf_adds(&hba, "host    all            all    samenet        trust\n"
				  "host    replication    all    samenet        trust\n");
	if (!rc)
		rc = append(n, "data/postgresql.conf", conf.s, err);
	if (!rc)
		rc = append(n, "data/pg_hba.conf", hba.s, err);
	fo_buf_release(&conf);
	fo_buf_release(&hba);
	fo_buf_release(&x);
	return rc;
}

/* ---- steps ---- */

/* initdb for the primary (node 0), with its configuration; the replicas' folders are
 * emptied (they are cloned from the primary when services start). */
static int configure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	struct pg c;
	int rc = pg_init(&c, g, ps, err);
	for (size_t i = 0; i < g->n && !rc; i++)
		rc = make_home(&c, &g->nodes[i], err);
	if (rc)
		return rc;
	struct fo_node *p = &g->nodes[0];
	struct fo__cm_args a = {0};
	struct fo_buf data = FO_BUF_INIT;
	path_of(p, "data", &data);
	server_prog(&c, &a, "initdb");
	fo__cm_args_addf(&a, "-D");
	fo__cm_args_addf(&a, "%s", data.s);
	fo__cm_args_addf(&a, "-U");
	fo__cm_args_addf(&a, "%s", c.user);
	fo__cm_args_addf(&a, "--auth=trust");
	fo__cm_args_addf(&a, "--encoding=UTF8");
	fo__cm_args_addf(&a, "--locale=C");
	fo__cm_args_addf(&a, "--no-sync");
	rc = run(p, "initdb", &a, INITDB_TIMEOUT_NS, false, NULL, err);
	if (!rc)
		rc = configure_primary(&c, p, err);
	if (!rc)
		fo_info(p->log, "postgresql: primary initialised in %s", data.s);
	fo__cm_args_release(&a);
	fo_buf_release(&data);
	return rc;
}

/* Stops the server on n if it runs. */
static int stop_server(struct fo_node *n, struct fo_err *err)
{
	struct fo_err e = {0};
	int rc = fo_node_stop_service(n, SERVICE, &e);
	if (rc == FO_ENOTFOUND)
		return 0;
	if (rc)
		fo_err_set(err, rc, "postgresql: %s", e.msg);
	return rc;
}

/*
 * The supervisor a server runs under (sh -c, the service's leader): it starts the server
 * in its own process group and, on SIGTERM, asks it for a fast shutdown, then waits for
 * it and exits as it did.
 */
static const char SUPERVISOR[] = "pid=\n"
				 "trap '[ -n \"$pid\" ] && kill -INT \"$pid\" 2>/dev/null' TERM INT\n"
				 "\"$@\" & pid=$!\n"
				 "wait \"$pid\"; rc=$?\n"
				 "while kill -0 \"$pid\" 2>/dev/null; do wait \"$pid\"; rc=$?; done\n"
				 "exit $rc\n";

/* Starts the server on n as a supervised service (one left from before is stopped first). */
static int start_server(const struct pg *c, struct fo_node *n, struct fo_err *err)
{
	int rc = stop_server(n, err);
	if (rc)
		return rc;
	struct fo__cm_args a = {0};
	struct fo_buf data = FO_BUF_INIT, log = FO_BUF_INIT, home = FO_BUF_INIT, prefix = FO_BUF_INIT;
	path_of(n, "data", &data);
	path_of(n, "postgresql.log", &log);
	home_env(n, &home);
	fo__cm_args_addf(&a, "sh");
	fo__cm_args_addf(&a, "-c");
	fo__cm_args_addf(&a, "%s", SUPERVISOR);
	fo__cm_args_addf(&a, "postgresql");
	server_prog(c, &a, "postgres");
	fo__cm_args_addf(&a, "-D");
	fo__cm_args_addf(&a, "%s", data.s);
	fo_buf_addf(&prefix, "$ %s/postgres -D %s%s\n", c->bindir, data.s, c->as_user ? "  # as " RUN_AS : "");
	const char *env[] = {home.s, NULL};
	struct fo_cmd cmd = {.argv = (const char *const *)a.v, .env = env, .log_path = log.s, .log_prefix = prefix.s};
	rc = fo_node_start_service(n, SERVICE, &cmd, err);
	fo__cm_args_release(&a);
	fo_buf_release(&data);
	fo_buf_release(&log);
	fo_buf_release(&home);
	fo_buf_release(&prefix);
	return rc;
}

/* A condition to wait for; says why not in why. */
typedef bool (*ready_fn)(const struct pg *c, struct fo_buf *why);

/* Polls ready until it holds, the deadline passes, or the run fails or is aborted. */
static int wait_until(const struct pg *c, ready_fn ready, const char *what, int64_t deadline, struct fo_err *err)
{
	struct fo_buf why = FO_BUF_INIT;
	int rc = 0;
	for (;;) {
		fo_buf_clear(&why);
		if (ready(c, &why))
			break;
		const char *failure = fo_run_failure(c->g->run);
		char d[32];
		fo_duration_format(c->timeout_ns, d, sizeof(d));
		if (failure)
			rc = fo_err_set(err, FO_EIO, "postgresql: waiting for %s: %s", what, failure);
		else if (fo_run_aborted(c->g->run))
			rc = fo_err_set(err, FO_EIO, "postgresql: aborted while waiting for %s", what);
		else if (fo_now_ns() >= deadline)
			rc = fo_err_set(err, FO_EIO,
					"postgresql: no %s within %s (startup.timeout): %s; each server's postgresql.log "
					"is in its node's artifacts",
					what, d, why.s);
		if (rc)
			break;
		fo_run_sleep(c->g->run, POLL_NS);
	}
	fo_buf_release(&why);
	return rc;
}

/* The primary answers queries. */
static bool primary_answers(const struct pg *c, struct fo_buf *why)
{
	struct fo_buf out = FO_BUF_INIT;
	struct fo_err e = {0};
	bool ok = query(c, &c->g->nodes[0], "postgres", "select 1", true, &out, &e) == 0;
	if (!ok)
		fo_buf_adds(why, e.msg);
	fo_buf_release(&out);
	return ok;
}

/* Every replica streams from the primary and answers queries (in recovery), and the
 * primary is not in recovery. */
static bool replicas_streaming(const struct pg *c, struct fo_buf *why)
{
	struct fo_rgroup *g = c->g;
	struct fo_buf out = FO_BUF_INIT;
	struct fo_err e = {0};
	bool ok = query(c, &g->nodes[0], "postgres",
			"select pg_is_in_recovery()::text || ' ' || (select count(*) from pg_stat_replication "
			"where state = 'streaming')",
			true, &out, &e) == 0;
	char want[64];
	snprintf(want, sizeof(want), "false %zu", g->n - 1);
	if (!ok)
		fo_buf_adds(why, e.msg);
	else if (strcmp(out.s, want) != 0)
		fo_buf_addf(why, "the primary says (in recovery, replicas streaming): '%s', not '%s'", out.s, want);
	ok = ok && strcmp(out.s, want) == 0;
	for (size_t i = 1; ok && i < g->n; i++) {
		fo_buf_clear(&out);
		ok = query(c, &g->nodes[i], "postgres", "select pg_is_in_recovery()", true, &out, &e) == 0;
		if (!ok)
			fo_buf_adds(why, e.msg);
		else if (strcmp(out.s, "t") != 0)
			fo_buf_addf(why, "%s is not a replica (in recovery: '%s')", g->nodes[i].name, out.s);
		ok = ok && strcmp(out.s, "t") == 0;
	}
	fo_buf_release(&out);
	return ok;
}

/* Clones replica n from the primary (pg_basebackup -R) and gives it its own settings. */
static int clone_replica(const struct pg *c, struct fo_node *n, int64_t deadline, struct fo_err *err)
{
	int rc = make_home(c, n, err);
	if (rc)
		return rc;
	struct fo__cm_args a = {0};
	struct fo_buf data = FO_BUF_INIT, conf = FO_BUF_INIT;
	path_of(n, "data", &data);
	server_prog(c, &a, "pg_basebackup");
	fo__cm_args_addf(&a, "-h");
	fo__cm_args_addf(&a, "%s", c->g->nodes[0].address);
	fo__cm_args_addf(&a, "-p");
	fo__cm_args_addf(&a, "%d", c->port);
	fo__cm_args_addf(&a, "-U");
	fo__cm_args_addf(&a, REPL_USER);
	fo__cm_args_addf(&a, "-D");
	fo__cm_args_addf(&a, "%s", data.s);
	fo__cm_args_addf(&a, "--write-recovery-conf");
	fo__cm_args_addf(&a, "--wal-method=stream");
	fo__cm_args_addf(&a, "--checkpoint=fast");
	fo__cm_args_addf(&a, "--no-sync");
	int64_t left = deadline - fo_now_ns();
	rc = run(n, "pg_basebackup", &a, left > 1000000000LL ? left : 1000000000LL, false, NULL, err);
	if (!rc) {
		node_settings(c, n, &conf);
		rc = append(n, "data/postgresql.conf", conf.s, err);
	}
	if (!rc)
		fo_info(n->log, "postgresql: replica cloned from %s into %s", c->g->nodes[0].name, data.s);
	fo__cm_args_release(&a);
	fo_buf_release(&data);
	fo_buf_release(&conf);
	return rc;
}

/* The replication role and the test's database, unless they exist. */
static int make_roles(const struct pg *c, struct fo_err *err)
{
	struct fo_node *p = &c->g->nodes[0];
	struct fo_buf out = FO_BUF_INIT, sql = FO_BUF_INIT;
	int rc = query(c, p, "postgres",
		       "do $$ begin if not exists (select from pg_roles where rolname = '" REPL_USER "') then "
		       "create role " REPL_USER " with replication login; end if; end $$",
		       false, &out, err);
	if (!rc) {
		fo_buf_clear(&out);
		fo_buf_addf(&sql, "select count(*) from pg_database where datname = '%s'", c->db);
		rc = query(c, p, "postgres", sql.s, false, &out, err);
	}
	if (!rc && strcmp(out.s, "0") == 0) {
		fo_buf_clear(&sql);
		fo_buf_addf(&sql, "create database \"%s\" owner \"%s\"", c->db, c->user);
		rc = query(c, p, "postgres", sql.s, false, NULL, err);
	}
	fo_buf_release(&out);
	fo_buf_release(&sql);
	return rc;
}

/* The contact points of every server, and the primary's on every node. */
static void publish(const struct pg *c)
{
	struct fo_rgroup *g = c->g;
	struct fo_buf dsn = FO_BUF_INIT, primary = FO_BUF_INIT;
	char port[16];
	snprintf(port, sizeof(port), "%d", c->port);
	fo_buf_addf(&primary, "postgresql://%s@%s:%d/%s", c->user, g->nodes[0].address, c->port, c->db);
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		fo_buf_clear(&dsn);
		fo_buf_addf(&dsn, "postgresql://%s@%s:%d/%s", c->user, n->address, c->port, c->db);
		fo_node_publish(n, PROVIDER, "host", n->address);
		fo_node_publish(n, PROVIDER, "port", port);
		fo_node_publish(n, PROVIDER, "dsn", dsn.s);
		fo_node_publish(n, PROVIDER, "role", i == 0 ? "primary" : "replica");
		fo_node_publish(n, PROVIDER, "primary_dsn", primary.s);
	}
	fo_buf_release(&dsn);
	fo_buf_release(&primary);
}

/* Copies each server's log into its node's artifacts, if there is one (a group that
 * failed to start is not collected later, and the server's own words are in there). */
static void collect_logs(struct fo_rgroup *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		struct fo_err e = {0};
		if (n->dir && n->artifacts && exists(n, "postgresql.log") &&
		    fo_node_collect(n, FOLDER "/postgresql.log", "postgresql.log", &e) != 0)
			fo_warn(n->log, "postgresql: cannot collect its log: %s", e.msg);
	}
}

/* The primary first; then each replica, cloned the first time; then wait for streaming. */
static int start_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	struct pg c;
	int rc = pg_init(&c, g, ps, err);
	if (rc)
		return rc;
	int64_t t0 = fo_now_ns(), deadline = t0 + c.timeout_ns;
	if (!exists(&g->nodes[0], "data/PG_VERSION"))
		return fo_err_set(err, FO_ENOENT, "postgresql: the primary on %s/%s has no data folder (not configured)",
				  g->spec->name, g->nodes[0].name);
	rc = start_server(&c, &g->nodes[0], err);
	if (!rc)
		rc = wait_until(&c, primary_answers, "answer from the primary", deadline, err);
	if (!rc)
		rc = make_roles(&c, err);
	for (size_t i = 1; i < g->n && !rc; i++) {
		if (!exists(&g->nodes[i], "data/PG_VERSION"))
			rc = clone_replica(&c, &g->nodes[i], deadline, err);
		if (!rc)
			rc = start_server(&c, &g->nodes[i], err);
	}
	if (!rc)
		rc = wait_until(&c, replicas_streaming, "streaming replication", deadline, err);
	if (!rc) {
		fo_info(g->log, "postgresql: primary and %zu replica%s streaming after %.1fs", g->n - 1,
			g->n == 2 ? "" : "s", (double)(fo_now_ns() - t0) / 1e9);
		publish(&c);
	} else {
		collect_logs(g);
	}
	return rc;
}

/* Replicas first, then the primary; every one is tried, the first error kept. */
static int stop_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = 0;
	for (size_t i = g->n; i-- > 0;) {
		int rc = stop_server(&g->nodes[i], err);
		if (rc && !first)
			first = rc;
	}
	return first;
}

/* Removes every node's postgresql/ folder: data, configuration, log. */
static int unconfigure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = stop_services(g, ps, err);
	int rc = fo__cm_remove_folders(g, FOLDER, "postgresql", err);
	return first ? first : rc;
}

/* Asks the servers: the primary plus every replica streaming is RUNNING (the contact
 * points are published again, for a cluster kept from an earlier run); an initialised
 * primary otherwise is CONFIGURED. */
static int check_state(struct fo_rgroup *g, const struct fo_propset *ps, enum fo_runlevel *out, struct fo_err *err)
{
	struct pg c;
	struct fo_err e = {0};
	if (pg_init(&c, g, ps, &e) != 0 || !exists(&g->nodes[0], "data/PG_VERSION")) {
		*out = FO_RL_STARTED_SERVICES_UNCONFIGURED;
		return 0;
	}
	struct fo_buf why = FO_BUF_INIT;
	if (replicas_streaming(&c, &why)) {
		*out = FO_RL_STARTED_SERVICES_RUNNING;
		publish(&c);
	} else {
		fo_info(g->log, "postgresql: not running: %s", why.s);
		*out = FO_RL_STARTED_SERVICES_CONFIGURED;
	}
	fo_buf_release(&why);
	return 0;
}

/* Logs and configuration from every node; pg_stat_replication from the primary and
 * pg_stat_wal_receiver from each replica, as tables. */
static int collect_artifacts(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	static const char *const files[][2] = {
		{FOLDER "/postgresql.log", "postgresql.log"},
		{FOLDER "/data/postgresql.conf", "postgresql.conf"},
		{FOLDER "/data/postgresql.auto.conf", "postgresql.auto.conf"},
		{FOLDER "/data/pg_hba.conf", "pg_hba.conf"},
	};
	struct pg c;
	int first = pg_init(&c, g, ps, err);
	if (first)
		return first;
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		if (!n->artifacts)
			continue;
		for (size_t k = 0; k < FO_ARRAY_LEN(files); k++) {
			if (!exists(n, files[k][0] + strlen(FOLDER) + 1))
				continue;
			int rc = fo_node_collect(n, files[k][0], files[k][1], err);
			if (rc && !first)
				first = rc;
		}
		if (g->state != FO_RL_STARTED_SERVICES_RUNNING)
			continue;
		const char *view = i == 0 ? "pg_stat_replication" : "pg_stat_wal_receiver";
		struct fo__cm_args a = {0};
		struct fo_buf out = FO_BUF_INIT, sql = FO_BUF_INIT, name = FO_BUF_INIT;
		fo_buf_init(&out, OUT_MAX);
		fo_buf_addf(&sql, "select * from %s", view);
		fo_buf_addf(&name, "%s.txt", view);
		fo__cm_args_addf(&a, "%s/psql", c.bindir);
		fo__cm_args_addf(&a, "-X");
		fo__cm_args_addf(&a, "-P");
		fo__cm_args_addf(&a, "pager=off");
		fo__cm_args_addf(&a, "-h");
		fo__cm_args_addf(&a, "%s", n->address);
		fo__cm_args_addf(&a, "-p");
		fo__cm_args_addf(&a, "%d", c.port);
		fo__cm_args_addf(&a, "-U");
		fo__cm_args_addf(&a, "%s", c.user);
		fo__cm_args_addf(&a, "-d");
		fo__cm_args_addf(&a, "postgres");
		fo__cm_args_addf(&a, "-c");
		fo__cm_args_addf(&a, "%s", sql.s);
		int rc = run(n, "psql", &a, QUERY_TIMEOUT_NS, false, &out, err);
		if (!rc)
			rc = fo__cm_write_artifact(n, name.s, out.s, err);
		if (rc && !first)
			first = rc;
		fo__cm_args_release(&a);
		fo_buf_release(&out);
		fo_buf_release(&sql);
		fo_buf_release(&name);
	}
	return first;
}

/* ---- figures for the node sampler: one query over the wire protocol (version 3) ---- */

#define SAMPLE_TIMEOUT_US 200000 /* per send or receive */
#define WIRE_MAX (64 * 1024)	 /* the longest message taken */

static int wire_io(int fd, void *p, size_t n, bool out)
{
	for (size_t off = 0; off < n;) {
		ssize_t k =
		    out ? send(fd, (char *)p + off, n - off, MSG_NOSIGNAL) : recv(fd, (char *)p + off, n - off, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

static void put32(struct fo_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	fo_buf_add(b, x, 4);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sends a message: type (0: none, the startup message) and body. */
static int wire_send(int fd, char type, const struct fo_buf *body)
{
	struct fo_buf m = FO_BUF_INIT;
	if (type)
		fo_buf_addch(&m, type);
	put32(&m, (uint32_t)body->len + 4);
	fo_buf_add(&m, body->s, body->len);
	int rc = wire_io(fd, m.s, m.len, true);
	fo_buf_release(&m);
	return rc;
}

/* Reads a message: its type into *type, its body into body. */
static int wire_recv(int fd, char *type, struct fo_buf *body)
{
	unsigned char h[5];
	if (wire_io(fd, h, 5, false))
		return -1;
	uint32_t len = get32(h + 1);
	if (len < 4 || len - 4 > WIRE_MAX)
		return -1;
	fo_buf_clear(body);
	char chunk[4096];
	for (size_t left = len - 4; left;) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
		if (wire_io(fd, chunk, k, false))
			return -1;
		fo_buf_add(body, chunk, k);
		left -= k;
	}
	*type = (char)h[0];
	return 0;
}

/* The message (field M) of an ErrorResponse body. */
static const char *wire_error(const struct fo_buf *body)
{
	for (const char *f = body->s; f < body->s + body->len && *f; f += strlen(f) + 1)
		if (*f == 'M')
			return f + 1;
	return "an error";
}

/*
 * Runs sql, which gives one row, on n's server as user, in database db, on a connection of
 * its own; the row's values go into row, each followed by a NUL (a NULL as ""). Returns
 * the number of values, or a negative code with err set.
 */
static int wire_query(const struct fo_node *n, int port, const char *user, const char *db, const char *sql,
		      struct fo_buf *row, struct fo_err *err)
{
	int fd;
	int rc = fo__cm_connect(n->address, port, fo_now_ns() + SAMPLE_TIMEOUT_US * 1000LL, &fd, err);
	if (rc)
		return rc;
	/* blocking from here on, each send or receive bounded */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = {.tv_sec = 0, .tv_usec = SAMPLE_TIMEOUT_US};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct fo_buf b = FO_BUF_INIT, body = FO_BUF_INIT;
	int nvalues = -1;
	put32(&b, 196608); /* protocol 3.0 */
	static const char *const keys[] = {"user", "database", "application_name"};
	const char *values[] = {user, db, "fallout-sampler"};
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++) {
		fo_buf_add(&b, keys[i], strlen(keys[i]) + 1);
		fo_buf_add(&b, values[i], strlen(values[i]) + 1);
	}
	fo_buf_addch(&b, '\0');
	rc = wire_send(fd, 0, &b) ? FO_ENET : 0;
	for (bool asked = false; !rc;) {
		char type;
		if (wire_recv(fd, &type, &body)) {
			rc = fo_err_set(err, FO_ENET, "%s:%d did not answer in time, or closed the connection",
					n->address, port);
			break;
		}
		const unsigned char *p = (const unsigned char *)body.s;
		if (type == 'E') {
			rc = fo_err_set(err, FO_EIO, "%s:%d: %s", n->address, port, wire_error(&body));
		} else if (type == 'R' && (body.len < 4 || get32(p) != 0)) {
			rc = fo_err_set(err, FO_EUNSUPPORTED, "%s:%d asks for a password", n->address, port);
		} else if (type == 'D' && body.len >= 2) {
			int k = p[0] << 8 | p[1];
			size_t off = 2;
			fo_buf_clear(row);
			for (nvalues = 0; nvalues < k && off + 4 <= body.len; nvalues++) {
				uint32_t len = get32(p + off);
				off += 4;
				if (len != 0xffffffffu && len <= body.len - off) {
					fo_buf_add(row, body.s + off, len);
					off += len;
				}
				fo_buf_addch(row, '\0');
			}
		} else if (type == 'Z' && asked) {
			break; /* answered */
		} else if (type == 'Z') {
			fo_buf_clear(&b);
			fo_buf_add(&b, sql, strlen(sql) + 1);
			rc = wire_send(fd, 'Q', &b) ? fo_err_set(err, FO_ENET, "%s:%d: send failed", n->address, port)
						    : 0;
			asked = true;
		}
	}
	if (!rc && nvalues < 0)
		rc = fo_err_set(err, FO_EPARSE, "%s:%d: the query gave no row", n->address, port);
	if (!rc) {
		fo_buf_clear(&b);
		wire_send(fd, 'X', &b);
	}
	close(fd);
	fo_buf_release(&b);
	fo_buf_release(&body);
	return rc ? rc : nvalues;
}

/* The figures, in the order the query gives them; _total ones become rates. */
static const char *const sampled[] = {
    "xact_commit_total", "xact_rollback_total", "tup_returned_total", "tup_fetched_total",     "tup_inserted_total",
    "tup_updated_total", "tup_deleted_total",	"backends",	      "replication_lag_bytes",
};

#define SAMPLE_SQL                                                                                                     \
	"select sum(xact_commit), sum(xact_rollback), sum(tup_returned), sum(tup_fetched), sum(tup_inserted), "        \
	"sum(tup_updated), sum(tup_deleted), sum(numbackends) - 1"
#define SAMPLE_LAG                                                                                                     \
	", (select coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) from pg_stat_replication)"

/* pg_stat_database's totals over every database (the sampler's own connection is not
 * counted among the backends; its query is among the transactions, one a second), and on
 * the primary (node 0) the largest replay lag of its replicas, in bytes of WAL. */
static int sample(struct fo_node *n, const struct fo_propset *ps, struct fo_buf *out, struct fo_err *err)
{
	struct fo_buf row = FO_BUF_INIT;
	bool primary = n->ordinal == 0;
	int k = wire_query(
	    n, (int)fo_props_int(ps, "port", 5432), fo_props_str(ps, "user", "fallout"),
	    fo_props_str(ps, "database", "fallout"),
	    primary ? SAMPLE_SQL SAMPLE_LAG " from pg_stat_database" : SAMPLE_SQL " from pg_stat_database", &row, err);
	const char *v = row.s;
	for (int i = 0; i < k && (size_t)i < FO_ARRAY_LEN(sampled); i++, v += strlen(v) + 1) {
		char *end;
		double x = strtod(v, &end);
		if (end != v && *end == '\0' && isfinite(x))
			fo_buf_addf(out, "%s\"%s\":%.17g", out->len ? "," : "", sampled[i], x < 0 ? 0 : x);
	}
	fo_buf_release(&row);
	return k < 0 ? k : 0;
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

const struct fo_component fo_config_manager_postgresql = {
	.name = "postgresql",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "run a PostgreSQL primary and streaming replicas, replicating before the group is running",
	.description =
		"Runs PostgreSQL on every node of its group: node 0 is the primary, every other node a "
		"streaming replica. Each server listens on its node's own address (so all use the "
		"default port) and keeps its data, configuration and log in `postgresql/` in the "
		"node's folder.\n"
		"\n"
		"Configuring the group runs initdb for the primary (the superuser is `user`) and "
		"writes postgresql.conf (the test's `config`, then the address, port and replication "
		"settings fallout needs) and pg_hba.conf (connections from the loopback network are "
		"trusted, replication included). Starting services starts the primary, creates the "
		"replication role and the `database`, clones each replica with `pg_basebackup -R` "
		"(the first time), starts it, and waits until `pg_stat_replication` on the primary "
		"shows every replica streaming and every replica answers queries; only then is the "
		"group running. Each server runs as a supervised service: one that exits on its own "
		"fails the run; stopping one asks for a fast shutdown. The state check asks the "
		"servers the same way, so a cluster kept with `mark_for_reuse` is used again only "
		"while it replicates.\n"
		"\n"
		"PostgreSQL refuses to run as root: when fallout runs as root, the server programs run "
		"as the `postgres` system user (the folder is made theirs), keeping only the right to "
		"read and search folders, so they can reach node folders below root's home.\n"
		"\n"
		"Published for modules, on every node N: `<<provider:GROUP:N:postgresql:host>>`, "
		"`postgresql:port`, `postgresql:dsn` (`postgresql://USER@ADDRESS:PORT/DATABASE`, as "
		"psql takes it), `postgresql:role` (`primary` or `replica`) and "
		"`postgresql:primary_dsn`. Collected as artifacts: each server's `postgresql.log`, "
		"`postgresql.conf`, `postgresql.auto.conf`, `pg_hba.conf`, and the primary's "
		"`pg_stat_replication.txt` and each replica's `pg_stat_wal_receiver.txt`.\n"
		"\n"
		"Needs the Debian packages postgresql and postgresql-contrib (`make deps`).",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    provisioner: local\n"
		   "    configuration_manager:\n"
		   "      name: postgresql\n"
		   "      properties:\n"
		   "        config:\n"
		   "          shared_buffers: 64MB\n"
		   "  client: server\n"
		   "workload:\n"
		   "  phases:\n"
		   "    - write:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.ordinals: 0\n"
		   "          script: psql <<provider:server:0:postgresql:primary_dsn>> -c 'create table t (x int)'\n",
	.props = props,
	.validate = validate,
	.cm = &ops,
};
