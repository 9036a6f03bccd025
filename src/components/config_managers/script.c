/*
 * script.c: the `script` configuration manager (ours): bring your own system. The user
 * writes the scripts that install, configure, start, stop, check and unconfigure it, and
 * fallout runs them at the matching runlevel steps on every node of the group at once,
 * with the same small environment as the `bash` module (FALLOUT_NODE_ORDINAL,
 * FALLOUT_NODE_ADDRESS, FALLOUT_GROUP_ADDRESSES, FALLOUT_NODE_DIR...) and <<...>>
 * references expanded per node.
 *
 * A long-running `service` command is started as a supervised service (its own process
 * group, an unexpected exit fails the run, killed at teardown), `ready` is polled until it
 * succeeds on every node before the group counts as running, `status` answers the state
 * check (this is how a kept cluster is found running), and `logs` names the files
 * collected as artifacts. So a system brought by script gets what the built-in ones get.
 */
#include "util/common.h"

#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "components/script_env.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"


#define SERVICE "script"
#define SERVICE_LOG "service.log"           /* the service's output, in the node's folder */
#define POLL_NS (200 * 1000000LL)           /* between two rounds of `ready` */
#define READY_TRY_NS (30 * 1000000000LL)    /* one run of `ready`, at most */
#define CAPTURE_MAX (64u << 10)             /* output kept per node for messages */
#define TAIL_MAX 300                        /* bytes of output quoted in a message */

static const struct fo_prop props[] = {
	{
		.name = "install",
		.description = "A script run on every node when the group is configured, before "
			       "`configure`: fetch or build the software.",
		.type = FO_PT_STRING,
	},
	{
		.name = "configure",
		.description = "A script run on every node when the group is configured, after "
			       "`install`: write configuration, make data folders.",
		.type = FO_PT_STRING,
	},
	{
		.name = "start",
		.description = "A script run on every node when services start. It must return; a "
			       "process it leaves in the background is killed at teardown. For a "
			       "long-running server, `service` is simpler.",
		.type = FO_PT_STRING,
	},
	{
		.name = "service",
		.description = "A long-running command started on every node when services start (after "
			       "`start`), supervised: its exit fails the run, and it is stopped when services "
			       "stop. Its output goes to `service.log` in the node's folder.",
		.type = FO_PT_STRING,
	},
	{
		.name = "ready",
		.description = "A script run on every node after `start` and `service`, again and again "
			       "until it exits 0 everywhere (or `startup.timeout` passes); only then is the "
			       "group running.",
		.type = FO_PT_STRING,
	},
	{
		.name = "stop",
		.description = "A script run on every node when services stop, after `service` is stopped.",
		.type = FO_PT_STRING,
	},
	{
		.name = "status",
		.description = "A script that exits 0 on a node whose services run. Asked by the state "
			       "check, so a cluster kept with `mark_for_reuse` is found running (or, when it "
			       "fails, set up again).",
		.type = FO_PT_STRING,
	},
	{
		.name = "unconfigure",
		.description = "A script run on every node when the group is unconfigured: undo `configure`.",
		.type = FO_PT_STRING,
	},
	{
		.name = "startup.timeout",
		.description = "How long `ready` may take to succeed on every node.",
		.type = FO_PT_DURATION,
		.default_value = "60s",
	},
	{
		.name = "timeout",
		.description = "How long one script may run on a node before it is killed and its step fails.",
		.type = FO_PT_DURATION,
		.default_value = "10m",
	},
	{
		.name = "logs",
		.description = "Files to collect as artifacts from every node: shell patterns relative to the "
			       "node's folder, e.g. `logs/*.log`. `service.log` is always collected.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

/* Log patterns stay inside the node's folder. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *v = fo_props_get(ps, "logs");
	if (!v || !v->set || !v->list)
		return;
	const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
	for (size_t i = 0; i < v->nlist; i++) {
		const char *p = v->list[i];
		bool up = strcmp(p, "..") == 0 || fo_starts_with(p, "../") || strstr(p, "/../") ||
			  fo_ends_with(p, "/..");
		if (!*p || p[0] == '/' || up)
			fo_diags_error(d, pos,
				       "'%s' in 'logs' of configuration manager 'script' must be a path inside the "
				       "node's folder (relative, without '..')",
				       p);
	}
}

/* ---- the environment of the scripts ---- */

/* The base environment plus the node's own variables. */
static void node_env(const struct fo_script_env *base, struct fo_node *n, struct fo_script_env *e)
{
	fo_script_env_copy(e, base); /* names in base are unique already */
	struct fo_rgroup *g = n->group;
	struct fo_buf addrs = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++)
		fo_buf_addf(&addrs, "%s%s", i ? " " : "", g->nodes[i].address);
	char num[32];
	snprintf(num, sizeof(num), "%d", n->ordinal);
	fo_script_env_set(e, "FALLOUT_NODE_ORDINAL", num);
	fo_script_env_set(e, "FALLOUT_NODE_NAME", n->name);
	fo_script_env_set(e, "FALLOUT_NODE_GROUP", g->spec->name);
	fo_script_env_set(e, "FALLOUT_NODE_ADDRESS", n->address);
	fo_script_env_set(e, "FALLOUT_GROUP_ADDRESSES", addrs.s);
	if (n->artifacts)
		fo_script_env_set(e, "FALLOUT_NODE_ARTIFACTS", n->artifacts);
	if (n->dir)
		fo_script_env_set(e, "FALLOUT_NODE_DIR", n->dir);
	fo_buf_release(&addrs);
}

/* ---- running a script on every node at once ---- */

/* One node's run of one script. */
struct job {
	struct fo_node *node;
	const char *what;        /* the property: "install", "ready"... */
	const char *script;      /* as written; expanded per node */
	const struct fo_script_env *base;
	int64_t timeout_ns;
	bool quiet;              /* a poll: output kept for the message only, not logged */
	bool skip;               /* nothing to do on this node (already ready) */
	struct fo_buf out;       /* stdout (and stderr when quiet), capped */
	struct fo_cmd_result res;
	int rc;                  /* 0 when it ran (see res) */
	struct fo_err err;
};

/* Writes text to a new script file in the node's folder. Returns 0 and the owned path. */
static int write_script(struct job *j, const char *text, char **path_out)
{
	struct fo_buf name = FO_BUF_INIT;
	fo_buf_addf(&name, "%s/.fallout-script-%s-XXXXXX.sh", j->node->dir, j->what);
	int fd = mkostemps(name.s, 3, O_CLOEXEC);
	int rc = 0;
	if (fd < 0) {
		rc = fo_err_set(&j->err, FO_EIO, "cannot create a script file in '%s': %s", j->node->dir,
				strerror(errno));
	} else {
		size_t len = strlen(text), off = 0;
		while (off < len && !rc) {
			ssize_t w = write(fd, text + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				rc = fo_err_set(&j->err, FO_EIO, "cannot write '%s': %s", name.s, strerror(errno));
			else
				off += (size_t)w;
		}
		if (fo_starts_with(text, "#!"))
			fchmod(fd, 0700);
		close(fd);
		if (rc)
			unlink(name.s);
	}
	if (rc)
		fo_buf_release(&name);
	else
		*path_out = fo_buf_detach(&name, NULL);
	return rc;
}

/* Runs the job's script on its node: `env -i VARS bash FILE` (or FILE itself when it names
 * its interpreter with #!), in the node's folder. */
static void *run_job(void *arg)
{
	struct job *j = arg;
	struct fo_node *n = j->node;
	struct fo_buf text = FO_BUF_INIT, prefix = FO_BUF_INIT;
	struct fo_script_env e = {0};
	char *file = NULL;
	if ((j->rc = fo_run_expand(n->group->run, n, j->script, &text, &j->err)) != 0 ||
	    (j->rc = write_script(j, text.s, &file)) != 0)
		goto out;
	node_env(j->base, n, &e);
	const char **argv = fo_calloc(e.n + 10, sizeof(*argv));
	size_t k = 0;
	argv[k++] = "env";
	argv[k++] = "-i";
	argv[k++] = "--";
	for (size_t i = 0; i < e.n; i++)
		argv[k++] = e.v[i];
	if (j->quiet) { /* stderr joins stdout, so a failing poll can say why */
		argv[k++] = "bash";
		argv[k++] = "-c";
		argv[k++] = "exec \"$@\" 2>&1";
		argv[k++] = "script";
	}
	if (!fo_starts_with(text.s, "#!"))
		argv[k++] = "bash";
	argv[k++] = file;
	argv[k] = NULL;
	fo_buf_addf(&prefix, "$ %s%s  # script: %s\n", fo_starts_with(text.s, "#!") ? "" : "bash ",
		    strrchr(file, '/') + 1, j->what);
	struct fo_cmd cmd = {
		.argv = argv,
		.cwd = n->dir,
		.log_path = j->quiet ? "/dev/null" : NULL,
		.log_prefix = prefix.s,
		.timeout_ns = j->timeout_ns,
		.capture = &j->out,
	};
	j->rc = fo_node_exec(n, &cmd, &j->res, &j->err);
	fo_free(argv);
out:
	if (file) {
		unlink(file);
		fo_free(file);
	}
	fo_script_env_release(&e);
	fo_buf_release(&text);
	fo_buf_release(&prefix);
	return NULL;
}

static bool job_ok(const struct job *j)
{
	return j->rc == 0 && !j->res.timed_out && !j->res.aborted && j->res.signal == 0 && j->res.exit_code == 0;
}

/* Appends how a job ended and the end of its output. */
static void describe(const struct job *j, struct fo_buf *b)
{
	if (j->rc != 0)
		fo_buf_addf(b, "could not run: %s", j->err.code ? j->err.msg : fo_strerror(j->rc));
	else if (j->res.aborted)
		fo_buf_adds(b, "aborted");
	else if (j->res.timed_out)
		fo_buf_adds(b, "timed out");
	else if (j->res.signal)
		fo_buf_addf(b, "killed by signal %d", j->res.signal);
	else
		fo_buf_addf(b, "exit status %d", j->res.exit_code);
	size_t end = j->out.len;
	while (end > 0 && strchr("\n\r\t ", j->out.s[end - 1]))
		end--;
	if (end > 0) {
		size_t start = end > TAIL_MAX ? end - TAIL_MAX : 0;
		fo_buf_addf(b, ": %s%.*s", start ? "..." : "", (int)(end - start), j->out.s + start);
	}
}

/* Runs the jobs, a thread per node (the first on this thread). */
static void run_all(struct job *jobs, size_t n)
{
	pthread_t *threads = fo_calloc(n ? n : 1, sizeof(*threads));
	bool *started = fo_calloc(n ? n : 1, sizeof(*started));
	for (size_t i = 1; i < n; i++)
		if (!jobs[i].skip)
			started[i] = pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0;
	if (n && !jobs[0].skip)
		run_job(&jobs[0]);
	for (size_t i = 1; i < n; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		else if (!jobs[i].skip)
			run_job(&jobs[i]);
	}
	fo_free(threads);
	fo_free(started);
}

/* A round of one script on every node of g. */
struct round {
	struct fo_script_env base;
	struct job *jobs;
	size_t n;
};

static void round_init(struct round *r, struct fo_rgroup *g, const struct fo_propset *ps, const char *what,
		       bool quiet)
{
	*r = (struct round){0};
	fo_script_env_add_base(&r->base); /* on the step's thread, before node threads */
	r->n = g->n;
	r->jobs = fo_calloc(g->n ? g->n : 1, sizeof(*r->jobs));
	for (size_t i = 0; i < g->n; i++) {
		r->jobs[i] = (struct job){
			.node = &g->nodes[i],
			.what = what,
			.script = fo_props_str(ps, what, ""),
			.base = &r->base,
			.timeout_ns = quiet ? READY_TRY_NS : fo_props_duration_ns(ps, "timeout", 0),
			.quiet = quiet,
		};
		fo_buf_init(&r->jobs[i].out, CAPTURE_MAX);
	}
}

/* Forgets the last run's results, keeping the jobs. */
static void round_reset(struct round *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct job *j = &r->jobs[i];
		fo_buf_clear(&j->out);
		j->res = (struct fo_cmd_result){0};
		j->rc = 0;
		fo_err_clear(&j->err);
	}
}

static void round_release(struct round *r)
{
	for (size_t i = 0; i < r->n; i++)
		fo_buf_release(&r->jobs[i].out);
	fo_free(r->jobs);
	fo_script_env_release(&r->base);
}

static bool has(const struct fo_propset *ps, const char *what)
{
	const char *s = fo_props_str(ps, what, NULL);
	return s && *s;
}

static int need_folders(struct fo_rgroup *g, struct fo_err *err)
{
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].dir)
			return fo_err_set(err, FO_EUNSUPPORTED,
					  "script: %s/%s has no folder: scripts need nodes of a provisioner such as "
					  "`local`",
					  g->spec->name, g->nodes[i].name);
	return 0;
}

/* Runs the script `what` on every node at once. Fails, naming the first node that
 * failed, unless it succeeded everywhere. No script: nothing to do. */
static int run_step(struct fo_rgroup *g, const struct fo_propset *ps, const char *what, struct fo_err *err)
{
	if (!has(ps, what))
		return 0;
	int rc = need_folders(g, err);
	if (rc)
		return rc;
	struct round r;
	round_init(&r, g, ps, what, false);
	run_all(r.jobs, r.n);
	size_t failed = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (job_ok(&r.jobs[i]))
			continue;
		if (!failed++) {
			struct fo_buf why = FO_BUF_INIT;
			describe(&r.jobs[i], &why);
			rc = fo_err_set(err, FO_EIO, "script: '%s' failed on %s/%s: %s", what, g->spec->name,
					r.jobs[i].node->name, why.s);
			fo_buf_release(&why);
		}
	}
	if (failed > 1)
		fo_error(g->log, "script: '%s' failed on %zu of %zu nodes", what, failed, r.n);
	else if (!failed)
		fo_info(g->log, "script: '%s' ran on %zu node%s", what, r.n, r.n == 1 ? "" : "s");
	round_release(&r);
	return rc;
}

/* ---- steps ---- */

static int configure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int rc = run_step(g, ps, "install", err);
	return rc ? rc : run_step(g, ps, "configure", err);
}

/* Starts the supervised service on every node, its output going to service.log. */
static int start_service(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	const char *service = fo_props_str(ps, "service", "");
	struct fo_script_env base = {0};
	fo_script_env_add_base(&base); /* on the step's thread, before node threads */
	int rc = 0;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct fo_node *n = &g->nodes[i];
		struct fo_script_env e = {0};
		struct fo_buf text = FO_BUF_INIT, log = FO_BUF_INIT, prefix = FO_BUF_INIT;
		rc = fo_run_expand(g->run, n, service, &text, err);
		if (!rc) {
			struct fo_err ignored = {0}; /* one left from an earlier start goes first */
			fo_node_stop_service(n, SERVICE, &ignored);
			node_env(&base, n, &e);
			const char **argv = fo_calloc(e.n + 8, sizeof(*argv));
			size_t k = 0;
			argv[k++] = "env";
			argv[k++] = "-i";
			argv[k++] = "--";
			for (size_t v = 0; v < e.n; v++)
				argv[k++] = e.v[v];
			argv[k++] = "bash";
			argv[k++] = "-c";
			argv[k++] = text.s;
			argv[k] = NULL;
			fo_buf_addf(&log, "%s/%s", n->dir, SERVICE_LOG);
			fo_buf_addf(&prefix, "$ %s  # script: service\n", service);
			struct fo_cmd cmd = {.argv = argv, .cwd = n->dir, .log_path = log.s, .log_prefix = prefix.s};
			rc = fo_node_start_service(n, SERVICE, &cmd, err);
			fo_free(argv);
		}
		fo_script_env_release(&e);
		fo_buf_release(&text);
		fo_buf_release(&log);
		fo_buf_release(&prefix);
	}
	fo_script_env_release(&base);
	return rc;
}

/* Runs `ready` on every node not ready yet, round after round, until all are, the deadline
 * passes, the run fails (a service died) or is aborted. */
static int wait_ready(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int64_t timeout = fo_props_duration_ns(ps, "startup.timeout", 60 * 1000000000LL);
	int64_t t0 = fo_now_ns(), deadline = t0 + timeout;
	struct round r;
	round_init(&r, g, ps, "ready", true);
	size_t left = r.n;
	int rc = 0, rounds = 0;
	while (left > 0) {
		round_reset(&r);
		run_all(r.jobs, r.n);
		rounds++;
		for (size_t i = 0; i < r.n; i++) {
			struct job *j = &r.jobs[i];
			if (j->skip || !job_ok(j))
				continue;
			j->skip = true;
			left--;
			fo_info(j->node->log, "script: ready after %.1fs", (double)(fo_now_ns() - t0) / 1e9);
		}
		if (!left)
			break;
		struct job *late = NULL;
		for (size_t i = 0; i < r.n && !late; i++)
			if (!r.jobs[i].skip)
				late = &r.jobs[i];
		struct fo_buf why = FO_BUF_INIT;
		describe(late, &why);
		const char *failure = fo_run_failure(g->run);
		char d[32];
		fo_duration_format(timeout, d, sizeof(d));
		if (failure)
			rc = fo_err_set(err, FO_EIO, "script: not ready: %s", failure);
		else if (fo_run_aborted(g->run))
			rc = fo_err_set(err, FO_EIO, "script: aborted while waiting for 'ready'");
		else if (fo_now_ns() >= deadline)
			rc = fo_err_set(err, FO_EIO, "script: 'ready' still fails on %s/%s after %s (startup.timeout), %d tries: %s",
					g->spec->name, late->node->name, d, rounds, why.s);
		if (rc)
			fo_error(late->node->log, "script: not ready: %s", why.s);
		fo_buf_release(&why);
		if (rc)
			break;
		fo_run_sleep(g->run, POLL_NS);
	}
	if (!rc)
		fo_info(g->log, "script: ready on %zu node%s after %.1fs", r.n, r.n == 1 ? "" : "s",
			(double)(fo_now_ns() - t0) / 1e9);
	round_release(&r);
	return rc;
}

static int collect_artifacts(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err);

static int start_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int rc = need_folders(g, err);
	if (!rc)
		rc = run_step(g, ps, "start", err);
	if (!rc && has(ps, "service"))
		rc = start_service(g, ps, err);
	if (!rc && has(ps, "ready"))
		rc = wait_ready(g, ps, err);
	if (rc && !need_folders(g, NULL)) {
		/* A group that failed to start is not collected later: keep the logs now. */
		struct fo_err ignored = {0};
		collect_artifacts(g, ps, &ignored);
	}
	return rc;
}

/* Stops the service first (so `stop` cannot make it exit "unexpectedly"), then runs `stop`. */
static int stop_services(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = 0;
	if (has(ps, "service")) {
		for (size_t i = 0; i < g->n; i++) {
			struct fo_err e = {0};
			int rc = fo_node_stop_service(&g->nodes[i], SERVICE, &e);
			if (rc && rc != FO_ENOTFOUND && !first)
				first = fo_err_set(err, rc, "script: %s", e.msg);
		}
	}
	int rc = run_step(g, ps, "stop", err);
	return first ? first : rc;
}

static int unconfigure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	return run_step(g, ps, "unconfigure", err);
}

/* `status` on every node: 0 everywhere is RUNNING, else CONFIGURED. Without `status`
 * fallout cannot tell, and says UNKNOWN (the provisioner's answer stands). */
static int check_state(struct fo_rgroup *g, const struct fo_propset *ps, enum fo_runlevel *out, struct fo_err *err)
{
	*out = FO_RL_UNKNOWN;
	if (!has(ps, "status") || need_folders(g, NULL) != 0)
		return 0;
	struct round r;
	round_init(&r, g, ps, "status", true);
	run_all(r.jobs, r.n);
	*out = FO_RL_STARTED_SERVICES_RUNNING;
	for (size_t i = 0; i < r.n; i++) {
		if (job_ok(&r.jobs[i]))
			continue;
		struct fo_buf why = FO_BUF_INIT;
		describe(&r.jobs[i], &why);
		fo_info(r.jobs[i].node->log, "script: 'status' says not running: %s", why.s);
		fo_buf_release(&why);
		*out = FO_RL_STARTED_SERVICES_CONFIGURED;
	}
	round_release(&r);
	return 0;
}

/* Collects service.log and whatever `logs` names from every node. */
static int collect_artifacts(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	int first = 0;
	const struct fo_propval *logs = fo_props_get(ps, "logs");
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		if (!n->dir || !n->artifacts)
			continue;
		struct fo_buf path = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/%s", n->dir, SERVICE_LOG);
		struct stat st;
		if (has(ps, "service") && lstat(path.s, &st) == 0) {
			int rc = fo_node_collect(n, SERVICE_LOG, SERVICE_LOG, err);
			if (rc && !first)
				first = rc;
		}
		size_t root = strlen(n->dir) + 1;
		for (size_t k = 0; logs && logs->set && k < logs->nlist; k++) {
			fo_buf_clear(&path);
			fo_buf_addf(&path, "%s/%s", n->dir, logs->list[k]);
			glob_t gl = {0};
			int grc = glob(path.s, 0, NULL, &gl);
			for (size_t m = 0; grc == 0 && m < gl.gl_pathc; m++) {
				const char *rel = gl.gl_pathv[m] + root;
				int rc = fo_node_collect(n, rel, rel, err);
				if (rc && !first)
					first = rc;
			}
			if (grc == GLOB_NOMATCH)
				fo_info(n->log, "script: no file matches '%s' to collect", logs->list[k]);
			globfree(&gl);
		}
		fo_buf_release(&path);
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

const struct fo_component fo_config_manager_script = {
	.name = "script",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "bring your own system: install, start, check and stop it with scripts",
	.description =
		"Runs any system the way the built-in configuration managers run theirs, from scripts "
		"you write. Each script runs on every node of the group at once, in the node's folder, "
		"with bash (or the interpreter its `#!` line names) and the same small environment as "
		"the `bash` module: `HOME`, `PATH`, fallout's `FALLOUT_*` variables and "
		"`FALLOUT_NODE_ORDINAL`, `FALLOUT_NODE_NAME`, `FALLOUT_NODE_GROUP`, "
		"`FALLOUT_NODE_ADDRESS`, `FALLOUT_GROUP_ADDRESSES` (every node's address, "
		"space-separated), `FALLOUT_NODE_DIR`, `FALLOUT_NODE_ARTIFACTS`. <<file:...>>, "
		"<<secret:...>> and <<provider:...>> references are expanded per node.\n"
		"\n"
		"The steps: configuring the group runs `install` then `configure`; starting services "
		"runs `start`, starts `service` (a long-running command, supervised: it is killed at "
		"teardown and, should it exit by itself, the run fails) and then runs `ready` on every "
		"node until it succeeds everywhere (`startup.timeout`); stopping services stops "
		"`service` and runs `stop`; unconfiguring runs `unconfigure`. A script that fails on "
		"any node fails its step, quoting the end of its output. The state check runs "
		"`status` (exit 0: running), so a cluster kept with `mark_for_reuse` is used again "
		"only while it really runs.\n"
		"\n"
		"Collected as artifacts from every node: `service.log` (the service's output) and the "
		"files matching `logs`. Everything left in the node's folder goes with it at teardown.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 2\n"
		   "    provisioner: local\n"
		   "    configuration_manager:\n"
		   "      name: script\n"
		   "      properties:\n"
		   "        configure: mkdir -p www && echo \"node $FALLOUT_NODE_ORDINAL\" > www/index.html\n"
		   "        service: exec python3 -m http.server 8000 --bind $FALLOUT_NODE_ADDRESS -d www\n"
		   "        ready: curl -sf http://$FALLOUT_NODE_ADDRESS:8000/ > /dev/null\n"
		   "        status: curl -sf http://$FALLOUT_NODE_ADDRESS:8000/ > /dev/null\n",
	.props = props,
	.validate = validate,
	.cm = &ops,
};
