/*
 * ssh.c: the `ssh` provisioner (Fallout's `sshonly`, for several hosts). Each node is a
 * host reached over SSH (util/ssh.h): commands run on an exec channel, services run there
 * detached and watched, files come back over SFTP.
 *
 * A node has two folders: its remote folder, REMOTE.DIR/<run id>/<group>/node<N> (with
 * .fallout/ inside for pid files and service logs), where everything runs; and a local
 * staging folder in the run's work area, which is n->dir, so components that write files
 * for a node (the bash module's script, remote_files) work unchanged. Before and after
 * every command the staging folder is mirrored up (fo_ssh_mirror), and any argument,
 * variable or working folder naming a path in it is rewritten to the same path in the
 * remote folder. A service's log is the other way round: written remotely and copied
 * back as it grows, every second, by the group's watcher thread, which also checks that
 * every service still runs (kill -0 on its process group).
 *
 * Connections are pooled per node: a thread takes one (or opens one) for the time of an
 * operation, as libssh wants a session used by one thread at a time.
 *
 * The run's ledger gets, before a node's folder is made, "ssh TARGET procs REMOTE/.fallout"
 * (every process group started there leaves a pid file) and "ssh TARGET dir REMOTE", so
 * `fallout cleanup` can reconnect (with the key file recorded; never a password) and undo
 * what a killed run left.
 */
#include "util/common.h"

#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/ledger.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/definition.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/ssh.h"
#include "util/strutil.h"

#define STOP_GRACE_NS (10 * 1000000000LL)
#define SHORT_NS (60 * 1000000000LL)  /* a housekeeping command, at most */
#define WATCH_NS (1000000000LL)       /* between two looks at the services */
#define LOG_CHUNK (4u << 20)          /* log bytes copied back per look */
#define MAX_IDLE 4                    /* idle connections kept per node */

struct rnode;

/* A service running on a node. */
struct rsvc {
	char *name;
	struct rnode *rn;
	pid_t pgid;             /* its process group on the host */
	char *pid_file;         /* remote: "PGID START" */
	char *remote_log;       /* remote: its output */
	char *local_log;        /* where that output is copied as it grows */
	uint64_t log_off;       /* bytes copied so far */
};

/* One node (a host). */
struct rnode {
	struct sgroup *sg;
	struct fo_node *n;
	struct fo_ssh_opts o;   /* host its own; the rest shared by the group */
	char *target;           /* "HOST PORT USER AUTH", for the ledger */
	char *home;             /* the remote home */
	char *rdir;             /* the remote folder; NULL until created */
	char *rstate;           /* rdir/.fallout */
	struct fo_ssh_mirror *mirror;
	pthread_mutex_t lock;   /* idle, seq */
	struct fo_ssh **idle;
	size_t nidle, idle_cap;
	unsigned long seq;      /* numbers the commands' pid files */
};

/* The provisioner's state for one group (g->impl). */
struct sgroup {
	struct fo_rgroup *g;
	struct rnode *nodes;    /* g->n of them */
	char *user, *password, *key, *passphrase, *known_hosts;
	const char *remote_dir;
	char *base;             /* the local staging folders' parent; NULL until created */
	char *addresses;
	bool started;
	pthread_mutex_t lock;   /* svcs */
	pthread_mutex_t poll;   /* held by the watcher while it looks; a service is freed only
				 * after its removal from svcs and a turn of this lock */
	struct rsvc **svcs;
	size_t nsvcs, svcs_cap;
	pthread_t watcher;
	bool watching;
	atomic_bool quit;
};

/* ---- connections ---- */

static struct fo_ledger *ledger_of(struct sgroup *sg)
{
	return fo_run_ledger(sg->g->run);
}

/* Takes an idle connection to the node (one closed meanwhile is dropped), or opens one. */
static int take(struct rnode *rn, struct fo_ssh **out, struct fo_err *err)
{
	for (;;) {
		pthread_mutex_lock(&rn->lock);
		*out = rn->nidle ? rn->idle[--rn->nidle] : NULL;
		pthread_mutex_unlock(&rn->lock);
		if (!*out)
			return fo_ssh_connect(&rn->o, out, err);
		if (fo_ssh_alive(*out))
			return 0;
		fo_ssh_free(*out);
	}
}

/* Gives a connection back; one that failed (ok false) is closed. */
static void give(struct rnode *rn, struct fo_ssh *s, bool ok)
{
	if (!s)
		return;
	pthread_mutex_lock(&rn->lock);
	if (ok && rn->nidle < MAX_IDLE) {
		FO_GROW(rn->idle, rn->idle_cap, rn->nidle + 1);
		rn->idle[rn->nidle++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&rn->lock);
	fo_ssh_free(s);
}

/* Runs a short command line on the node over a pooled connection. */
static int run_on(struct rnode *rn, const char *command, struct fo_buf *out, struct fo_err *err)
{
	struct fo_ssh *s;
	int rc = take(rn, &s, err);
	if (rc)
		return rc;
	rc = fo_ssh_run(s, command, SHORT_NS, out, err);
	give(rn, s, rc != FO_ENET);
	return rc;
}

/* Runs fn on every node of the group at once, a thread each. Returns the first error. */
struct par {
	struct rnode *rn;
	int (*fn)(struct rnode *rn, struct fo_err *err);
	int rc;
	struct fo_err err;
};

static void *par_run(void *arg)
{
	struct par *p = arg;
	p->rc = p->fn(p->rn, &p->err);
	return NULL;
}

static int each_node(struct sgroup *sg, int (*fn)(struct rnode *rn, struct fo_err *err), struct fo_err *err)
{
	size_t n = sg->g->n;
	struct par *ps = fo_calloc(n ? n : 1, sizeof(*ps));
	pthread_t *ts = fo_calloc(n ? n : 1, sizeof(*ts));
	bool *started = fo_calloc(n ? n : 1, sizeof(*started));
	for (size_t i = 0; i < n; i++) {
		ps[i] = (struct par){.rn = &sg->nodes[i], .fn = fn};
		started[i] = i > 0 && pthread_create(&ts[i], NULL, par_run, &ps[i]) == 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (started[i])
			pthread_join(ts[i], NULL);
		else
			par_run(&ps[i]);
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		if ((rc = ps[i].rc) != 0)
			fo_err_set(err, rc, "%s", ps[i].err.msg);
	fo_free(ps);
	fo_free(ts);
	fo_free(started);
	return rc;
}

/* ---- paths ---- */

/* The node's local staging folder, and the same path in its remote folder. If s is in
 * the staging folder, appends its remote counterpart and returns true; else appends s. */
static bool map_path(const struct rnode *rn, const char *s, struct fo_buf *out)
{
	const char *dir = rn->n->dir;
	size_t n = dir ? strlen(dir) : 0;
	if (rn->rdir && n && strncmp(s, dir, n) == 0 && (s[n] == '\0' || s[n] == '/')) {
		fo_buf_addf(out, "%s%s", rn->rdir, s + n);
		return true;
	}
	fo_buf_adds(out, s);
	return false;
}

/* A name safe in a file name: [A-Za-z0-9._-], others '_'. */
static void add_safe(struct fo_buf *out, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '-' || c == '_';
		fo_buf_addch(out, ok ? c : '_');
	}
}

/* ---- a command made ready for the host ---- */

/* The owned strings of a command translated for the remote side. */
struct rcmd {
	struct fo_buf line;     /* the shell command line */
	char **argv, **env;     /* owned, NULL-terminated */
	size_t nargv, nenv;
	struct fo_buf cwd;
};

static void rcmd_release(struct rcmd *m)
{
	for (size_t i = 0; i < m->nargv; i++)
		fo_free(m->argv[i]);
	for (size_t i = 0; i < m->nenv; i++)
		fo_free(m->env[i]);
	fo_free(m->argv);
	fo_free(m->env);
	fo_buf_release(&m->line);
	fo_buf_release(&m->cwd);
}

/* Maps one argument: a path, or NAME=PATH; HOME=<this machine's home> becomes the remote
 * home after `env` (the bash module's `env -i HOME=...`). */
static char *map_arg(const struct rnode *rn, const char *a, bool after_env)
{
	struct fo_buf b = FO_BUF_INIT;
	const char *eq = strchr(a, '=');
	const char *home = getenv("HOME");
	if (after_env && home && eq && fo_starts_with(a, "HOME=") && strcmp(eq + 1, home) == 0 && rn->home) {
		fo_buf_addf(&b, "HOME=%s", rn->home);
	} else if (!map_path(rn, a, &b) && eq && fo_ssh_var_name_ok(a, (size_t)(eq - a))) {
		fo_buf_clear(&b);
		fo_buf_add(&b, a, (size_t)(eq - a + 1));
		map_path(rn, eq + 1, &b);
	}
	return fo_buf_detach(&b, NULL);
}

/* Translates cmd for node rn: the node's variables, then cmd's (which win); paths in the
 * staging folder mapped. Builds the command line (service: started detached). */
static int rcmd_init(struct rcmd *m, struct rnode *rn, const struct fo_cmd *cmd, const char *pid_file,
		     const char *service_log, struct fo_err *err)
{
	*m = (struct rcmd){.line = FO_BUF_INIT, .cwd = FO_BUF_INIT};
	struct fo_node *n = rn->n;
	if (!cmd || !cmd->argv || !cmd->argv[0])
		return fo_err_set(err, FO_EINVAL, "no command to run on %s/%s", n->group->spec->name, n->name);
	if (cmd->netns || cmd->stdin_path)
		return fo_err_set(err, FO_EUNSUPPORTED, "%s/%s is a remote host: a command there %s",
				  n->group->spec->name, n->name,
				  cmd->netns ? "has no network namespace to run in" : "reads no standard input");
	size_t extra = 0, argc = 0;
	while (cmd->env && cmd->env[extra])
		extra++;
	while (cmd->argv[argc])
		argc++;
	m->env = fo_calloc(extra + 8, sizeof(*m->env));
	struct fo_buf b = FO_BUF_INIT;
#define VAR(...) (fo_buf_addf(&b, __VA_ARGS__), m->env[m->nenv++] = fo_buf_detach(&b, NULL))
	VAR("FALLOUT_NODE_ORDINAL=%d", n->ordinal);
	VAR("FALLOUT_NODE_NAME=%s", n->name);
	VAR("FALLOUT_NODE_GROUP=%s", n->group->spec->name);
	VAR("FALLOUT_NODE_ADDRESS=%s", n->address);
	VAR("FALLOUT_NODE_DIR=%s", rn->rdir);
	VAR("FALLOUT_GROUP_ADDRESSES=%s", rn->sg->addresses ? rn->sg->addresses : n->address);
#undef VAR
	for (size_t i = 0; i < extra; i++)
		m->env[m->nenv++] = map_arg(rn, cmd->env[i], false);
	m->argv = fo_calloc(argc + 1, sizeof(*m->argv));
	for (size_t i = 0; i < argc; i++)
		m->argv[m->nargv++] = map_arg(rn, cmd->argv[i], strcmp(cmd->argv[0], "env") == 0);
	if (!cmd->cwd)
		fo_buf_adds(&m->cwd, rn->rdir);
	else if (cmd->cwd[0] != '/')
		fo_buf_addf(&m->cwd, "%s/%s", rn->rdir, cmd->cwd);
	else
		map_path(rn, cmd->cwd, &m->cwd);
	const char *const *env = (const char *const *)m->env;
	const char *const *argv = (const char *const *)m->argv;
	if (service_log)
		return fo_ssh_service_command(&m->line, m->cwd.s, env, argv, pid_file, service_log, err);
	return fo_ssh_command(&m->line, m->cwd.s, env, argv, pid_file, err);
}

/* Appends text to the local file at path. */
static void append_file(const char *path, const char *p, size_t n)
{
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
	if (fd < 0)
		return;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

/* Kills the process groups listed in the remote pid files matching pids (a shell word). */
static int kill_remote(struct rnode *rn, const char *pids, const char *then, struct fo_err *err)
{
	struct fo_buf cmd = FO_BUF_INIT;
	fo_ssh_kill_command(&cmd, pids, STOP_GRACE_NS);
	if (then)
		fo_buf_addf(&cmd, "; %s", then);
	int rc = run_on(rn, cmd.s, NULL, err);
	fo_buf_release(&cmd);
	return rc;
}

/* ---- commands ---- */

/* A command running on a host: where its output goes, when to give up. */
struct running {
	struct rnode *rn;
	int log_fd;
	struct fo_buf *capture;
	int64_t timeout_ns;
	bool aborted_before;    /* the run was aborted before it started (teardown) */
	bool timed_out, aborted;
	int64_t killed_at;      /* when the kill was sent; 0: not yet */
	const char *pid_file;
};

static void on_output(void *ctx, bool is_stderr, const char *p, size_t n)
{
	struct running *r = ctx;
	if (r->log_fd >= 0)
		(void)!write(r->log_fd, p, n);
	if (!is_stderr && r->capture)
		fo_buf_add(r->capture, p, n); /* past the cap: dropped */
}

/* Gives up on a timeout or an abort: kills the command's process group (through another
 * connection), then waits for its end, at most the grace and a bit. */
static int on_tick(void *ctx, int64_t elapsed_ns)
{
	struct running *r = ctx;
	if (r->killed_at)
		return fo_now_ns() - r->killed_at > STOP_GRACE_NS + 5000000000LL;
	r->timed_out = r->timeout_ns > 0 && elapsed_ns > r->timeout_ns;
	r->aborted = !r->aborted_before && fo_run_aborted(r->rn->sg->g->run);
	if (!r->timed_out && !r->aborted)
		return 0;
	struct fo_buf word = FO_BUF_INIT;
	fo_ssh_quote(&word, r->pid_file);
	struct fo_err e = {0};
	if (kill_remote(r->rn, word.s, NULL, &e) != 0)
		fo_warn(r->rn->n->log, "cannot stop a command: %s", e.msg);
	fo_buf_release(&word);
	r->killed_at = fo_now_ns();
	return 0;
}

static struct rnode *node_of(struct fo_node *n)
{
	struct sgroup *sg = n->group->impl;
	return sg && sg->nodes && n->ordinal >= 0 && (size_t)n->ordinal < sg->g->n ? &sg->nodes[n->ordinal] : NULL;
}

static int no_folder(struct fo_node *n, struct fo_err *err)
{
	return fo_err_set(err, FO_EINVAL, "%s/%s has no folder yet (the group is not created)", n->group->spec->name,
			  n->name);
}

static int ssh_exec(struct fo_node *n, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err)
{
	*res = (struct fo_cmd_result){0};
	struct rnode *rn = node_of(n);
	if (!rn || !rn->rdir)
		return no_folder(n, err);
	pthread_mutex_lock(&rn->lock);
	unsigned long seq = ++rn->seq;
	pthread_mutex_unlock(&rn->lock);
	struct fo_buf pid_file = FO_BUF_INIT;
	fo_buf_addf(&pid_file, "%s/cmd-%lu.pid", rn->rstate, seq);
	struct rcmd m;
	int rc = rcmd_init(&m, rn, cmd, pid_file.s, NULL, err);
	struct fo_ssh *s = NULL;
	if (!rc)
		rc = take(rn, &s, err);
	if (!rc)
		rc = fo_ssh_mirror_sync(rn->mirror, s, err);
	if (!rc) {
		const char *log = cmd->log_path ? cmd->log_path : n->log ? fo_log_path(n->log) : NULL;
		struct running r = {
			.rn = rn,
			.log_fd = log ? open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1,
			.capture = cmd->capture,
			.timeout_ns = cmd->timeout_ns,
			.aborted_before = fo_run_aborted(n->group->run),
			.pid_file = pid_file.s,
		};
		struct fo_buf prefix = FO_BUF_INIT;
		if (cmd->log_prefix)
			fo_buf_adds(&prefix, cmd->log_prefix);
		else {
			fo_buf_adds(&prefix, "$");
			for (size_t i = 0; cmd->argv[i]; i++)
				fo_buf_addf(&prefix, " %s", cmd->argv[i]);
			fo_buf_addch(&prefix, '\n');
		}
		if (r.log_fd >= 0)
			(void)!write(r.log_fd, prefix.s, prefix.len);
		fo_buf_release(&prefix);
		struct fo_ssh_exec x = {
			.command = m.line.s, .output = on_output, .tick = on_tick, .ctx = &r};
		struct fo_ssh_status st;
		int64_t t0 = fo_now_ns();
		rc = fo_ssh_exec(s, &x, &st, err);
		res->elapsed_ns = fo_now_ns() - t0;
		res->exit_code = st.exit_code;
		res->signal = st.signal;
		res->timed_out = r.timed_out;
		res->aborted = r.aborted;
		if (!rc && (r.timed_out || r.aborted) && !st.signal) {
			res->signal = SIGKILL;
			res->exit_code = -1;
		}
		if (!rc && st.lost && !r.killed_at)
			rc = fo_err_set(err, FO_ENET, "%s: the connection was lost while a command ran", fo_ssh_name(s));
		if (r.log_fd >= 0)
			close(r.log_fd);
		struct fo_err ignored = {0};
		if (!rc)
			fo_ssh_mirror_sync(rn->mirror, s, &ignored); /* what the command's caller removed */
	}
	give(rn, s, rc != FO_ENET && !res->timed_out && !res->aborted);
	rcmd_release(&m);
	fo_buf_release(&pid_file);
	return rc;
}

/* ---- services ---- */

static void free_svc(struct rsvc *v)
{
	if (!v)
		return;
	fo_free(v->name);
	fo_free(v->pid_file);
	fo_free(v->remote_log);
	fo_free(v->local_log);
	fo_free(v);
}

/* Copies what the service's log gained since the last look. */
static void copy_log(struct rsvc *v, struct fo_ssh *s)
{
	struct fo_buf b = FO_BUF_INIT;
	size_t got = 0;
	struct fo_err e = {0};
	if (fo_ssh_read_from(s, v->remote_log, v->log_off, LOG_CHUNK, &b, &got, &e) == 0 && got) {
		append_file(v->local_log, b.s, got);
		v->log_off += got;
	}
	fo_buf_release(&b);
}

/* One look at the services of one node over s: which still run, and their logs. */
static void look_at(struct sgroup *sg, struct rnode *rn, struct rsvc **vs, size_t nv, struct fo_ssh *s)
{
	struct fo_buf cmd = FO_BUF_INIT, out = FO_BUF_INIT, status = FO_BUF_INIT;
	for (size_t i = 0; i < nv; i++) {
		fo_buf_clear(&status);
		fo_buf_addf(&status, "%s.status", vs[i]->pid_file);
		fo_buf_addf(&cmd, "if kill -0 -%d 2>/dev/null; then echo '%zu up'; else echo \"%zu down $(cat ", (int)vs[i]->pgid,
			    i, i);
		fo_ssh_quote(&cmd, status.s);
		fo_buf_adds(&cmd, " 2>/dev/null)\"; fi; ");
	}
	fo_buf_adds(&cmd, "true");
	struct fo_err e = {0};
	int rc = fo_ssh_run(s, cmd.s, SHORT_NS, &out, &e);
	for (size_t i = 0; i < nv; i++)
		copy_log(vs[i], s);
	for (const char *p = out.s; !rc && *p;) {
		size_t idx;
		int st = -1, off = 0;
		int k = sscanf(p, "%zu down %n%d", &idx, &off, &st);
		if (k >= 1 && off > 0 && idx < nv) {
			struct rsvc *v = vs[idx];
			char how[64];
			if (st > 128)
				snprintf(how, sizeof(how), "killed by signal %d", st - 128);
			else if (st >= 0)
				snprintf(how, sizeof(how), "status %d", st);
			else
				snprintf(how, sizeof(how), "its process group is gone");
			pthread_mutex_lock(&sg->lock);
			bool still = false; /* not being stopped meanwhile */
			for (size_t j = 0; j < sg->nsvcs && !still; j++)
				still = sg->svcs[j] == v;
			if (still)
				v->pgid = 0; /* reported once */
			pthread_mutex_unlock(&sg->lock);
			if (still) {
				struct fo_node *n = rn->n;
				fo_error(n->log, "service '%s' exited unexpectedly (%s)", v->name, how);
				fo_run_fail(n->group->run, "service '%s' on %s/%s exited unexpectedly (%s)", v->name,
					    n->group->spec->name, n->name, how);
			}
		}
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	fo_buf_release(&cmd);
	fo_buf_release(&out);
	fo_buf_release(&status);
}

/* The watcher thread: every second, each node's services are looked at. */
static void *watch(void *arg)
{
	struct sgroup *sg = arg;
	while (!atomic_load(&sg->quit)) {
		for (int i = 0; i < 10 && !atomic_load(&sg->quit); i++) {
			struct timespec ts = {0, WATCH_NS / 10};
			nanosleep(&ts, NULL);
		}
		if (atomic_load(&sg->quit))
			break;
		for (size_t k = 0; k < sg->g->n && !atomic_load(&sg->quit); k++) {
			struct rnode *rn = &sg->nodes[k];
			pthread_mutex_lock(&sg->poll);
			pthread_mutex_lock(&sg->lock);
			struct rsvc **vs = fo_calloc(sg->nsvcs + 1, sizeof(*vs));
			size_t nv = 0;
			for (size_t i = 0; i < sg->nsvcs; i++)
				if (sg->svcs[i]->rn == rn && sg->svcs[i]->pgid > 0)
					vs[nv++] = sg->svcs[i];
			pthread_mutex_unlock(&sg->lock);
			struct fo_ssh *s = NULL;
			struct fo_err e = {0};
			if (nv && take(rn, &s, &e) == 0) {
				look_at(sg, rn, vs, nv, s);
				give(rn, s, true);
			} else if (nv) {
				fo_warn(rn->n->log, "cannot look at the services: %s", e.msg);
			}
			fo_free(vs);
			pthread_mutex_unlock(&sg->poll);
		}
	}
	return NULL;
}

/* Takes the services of rn out of the list: the one called name, or all (name NULL).
 * Returns how many, in *out (owned). */
static size_t unlist(struct rnode *rn, const char *name, struct rsvc ***out)
{
	struct sgroup *sg = rn->sg;
	size_t nv = 0, cap = 0;
	*out = NULL;
	pthread_mutex_lock(&sg->lock);
	for (size_t i = 0; i < sg->nsvcs;) {
		struct rsvc *v = sg->svcs[i];
		if (v->rn != rn || (name && strcmp(v->name, name) != 0)) {
			i++;
			continue;
		}
		FO_GROW(*out, cap, nv + 1);
		(*out)[nv++] = v;
		sg->svcs[i] = sg->svcs[--sg->nsvcs];
	}
	pthread_mutex_unlock(&sg->lock);
	pthread_mutex_lock(&sg->poll); /* a look under way may still use them: wait for its end */
	pthread_mutex_unlock(&sg->poll);
	return nv;
}

static void list(struct sgroup *sg, struct rsvc *v)
{
	pthread_mutex_lock(&sg->lock);
	FO_GROW(sg->svcs, sg->svcs_cap, sg->nsvcs + 1);
	sg->svcs[sg->nsvcs++] = v;
	if (!sg->watching)
		sg->watching = pthread_create(&sg->watcher, NULL, watch, sg) == 0;
	pthread_mutex_unlock(&sg->lock);
}

/*
 * Stops service name of node rn, or (name NULL) everything started there: every process
 * group with a pid file in its .fallout (services, and what commands left), then runs
 * `then` (may be NULL) in the same command. The services' logs are copied a last time.
 * Returns FO_ENOTFOUND when there is no such service.
 */
static int stop_node(struct rnode *rn, const char *name, const char *then, bool quiet, struct fo_err *err)
{
	struct rsvc **vs;
	size_t nv = unlist(rn, name, &vs);
	if (name && !nv)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, rn->n->group->spec->name,
				  rn->n->name);
	for (size_t i = 0; i < nv && !quiet; i++)
		fo_info(rn->n->log, "stopping service '%s' (process group %d on %s)", vs[i]->name, (int)vs[i]->pgid,
			rn->o.host);
	struct fo_buf word = FO_BUF_INIT, rest = FO_BUF_INIT;
	if (name)
		fo_ssh_quote(&word, vs[0]->pid_file);
	else {
		fo_ssh_quote(&word, rn->rstate);
		fo_buf_adds(&word, "/*.pid");
	}
	fo_buf_addf(&rest, "rm -f %s%s%s", word.s, then ? "; " : "", then ? then : "");
	int rc = kill_remote(rn, word.s, rest.s, err);
	struct fo_ssh *s = NULL;
	struct fo_err e = {0};
	if (nv && take(rn, &s, &e) == 0) {
		for (size_t i = 0; i < nv; i++)
			copy_log(vs[i], s);
		give(rn, s, true);
	}
	for (size_t i = 0; i < nv; i++) {
		if (!rc && !quiet)
			fo_info(rn->n->log, "stopped service '%s'", vs[i]->name);
		free_svc(vs[i]);
	}
	fo_free(vs);
	fo_buf_release(&word);
	fo_buf_release(&rest);
	return rc;
}

/* The remote file of a service: .fallout/svc-NAME.EXT. */
static char *svc_file(struct rnode *rn, const char *name, const char *ext)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s/svc-", rn->rstate);
	add_safe(&b, name);
	fo_buf_adds(&b, ext);
	return fo_buf_detach(&b, NULL);
}

static int ssh_start_service(struct fo_node *n, const char *name, const struct fo_cmd *cmd, struct fo_err *err)
{
	struct rnode *rn = node_of(n);
	if (!rn || !rn->rdir)
		return no_folder(n, err);
	if (!name || !*name || strchr(name, '\n'))
		return fo_err_set(err, FO_EINVAL, "a service needs a name");
	struct rsvc **old;
	size_t nold = unlist(rn, name, &old);
	bool running = nold && old[0]->pgid > 0;
	if (nold)
		list(rn->sg, old[0]);
	fo_free(old);
	if (running)
		return fo_err_set(err, FO_EEXISTS, "service '%s' already runs on %s/%s", name, n->group->spec->name,
				  n->name);
	if (nold)
		stop_node(rn, name, NULL, true, NULL); /* ended: clear it away */
	struct rsvc *v = fo_calloc(1, sizeof(*v));
	v->name = fo_strdup(name);
	v->rn = rn;
	v->pid_file = svc_file(rn, name, ".pid");
	const char *local = cmd && cmd->log_path ? cmd->log_path : n->log ? fo_log_path(n->log) : "/dev/null";
	v->local_log = fo_strdup(local);
	struct fo_buf b = FO_BUF_INIT, out = FO_BUF_INIT;
	if (map_path(rn, local, &b)) { /* written there, copied here: never mirrored up */
		fo_ssh_mirror_exclude(rn->mirror, local + strlen(n->dir) + 1);
		v->remote_log = fo_buf_detach(&b, NULL);
	} else {
		v->remote_log = svc_file(rn, name, ".log");
		fo_buf_clear(&b);
	}
	struct rcmd m;
	int rc = rcmd_init(&m, rn, cmd, v->pid_file, v->remote_log, err);
	struct fo_ssh *s = NULL;
	if (!rc)
		rc = take(rn, &s, err);
	if (!rc)
		rc = fo_ssh_mirror_sync(rn->mirror, s, err);
	if (!rc) {
		if (cmd->log_prefix)
			append_file(v->local_log, cmd->log_prefix, strlen(cmd->log_prefix));
		/* The size of the log so far (copied from there on), then the process group. */
		fo_buf_adds(&b, "echo \"log $(wc -c 2>/dev/null <");
		fo_ssh_quote(&b, v->remote_log);
		fo_buf_addf(&b, " || echo 0)\"; %s", m.line.s);
		rc = fo_ssh_run(s, b.s, SHORT_NS, &out, err);
		long long off = 0, pgid = 0;
		const char *at = strstr(out.s, "log ");
		if (!rc && (!at || sscanf(at, "log %lld %lld", &off, &pgid) != 2 || pgid <= 1 || pgid > INT_MAX))
			rc = fo_err_set(err, FO_EIO, "%s: service '%s' did not say its process group", fo_ssh_name(s), name);
		v->log_off = off > 0 ? (uint64_t)off : 0;
		v->pgid = (pid_t)pgid;
	}
	give(rn, s, rc != FO_ENET);
	rcmd_release(&m);
	fo_buf_release(&b);
	fo_buf_release(&out);
	if (rc) {
		free_svc(v);
		return rc;
	}
	list(rn->sg, v);
	fo_info(n->log, "started service '%s' (process group %d on %s)", name, (int)v->pgid, rn->o.host);
	return 0;
}

static int ssh_stop_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	struct rnode *rn = node_of(n);
	if (!rn)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	return stop_node(rn, name, NULL, false, err);
}

static int stop_node_step(struct rnode *rn, struct fo_err *err)
{
	return rn->rstate ? stop_node(rn, NULL, NULL, false, err) : 0;
}

/* ---- the group ---- */

/* The end of the run (the ledger closes): whatever is left is let go; the ledger's own
 * undo, run before, has removed what was recorded. */
static void at_close(void *data)
{
	struct fo_rgroup *g = data;
	struct sgroup *sg = g->impl;
	if (!sg)
		return;
	atomic_store(&sg->quit, true);
	if (sg->watching)
		pthread_join(sg->watcher, NULL);
	for (size_t i = 0; i < sg->nsvcs; i++)
		free_svc(sg->svcs[i]);
	for (size_t i = 0; sg->nodes && i < g->n; i++) {
		struct rnode *rn = &sg->nodes[i];
		for (size_t k = 0; k < rn->nidle; k++)
			fo_ssh_free(rn->idle[k]);
		fo_free(rn->idle);
		fo_free(rn->target);
		fo_free(rn->home);
		fo_free(rn->rdir);
		fo_free(rn->rstate);
		fo_ssh_mirror_free(rn->mirror);
		pthread_mutex_destroy(&rn->lock);
		fo_free(g->nodes[i].dir);
		g->nodes[i].dir = NULL;
	}
	fo_free(sg->nodes);
	fo_free(sg->svcs);
	fo_free(sg->user);
	fo_free(sg->password);
	fo_free(sg->key);
	fo_free(sg->passphrase);
	fo_free(sg->known_hosts);
	fo_free(sg->base);
	fo_free(sg->addresses);
	pthread_mutex_destroy(&sg->lock);
	pthread_mutex_destroy(&sg->poll);
	fo_free(sg);
	g->impl = NULL;
}

/* A string property with its <<secret:...>> and <<file:...>> references expanded; NULL
 * when unset or empty. */
static int expanded(struct fo_rgroup *g, const struct fo_propset *props, const char *name, char **out,
		    struct fo_err *err)
{
	const char *v = fo_props_str(props, name, NULL);
	*out = NULL;
	if (!v || !*v)
		return 0;
	struct fo_buf b = FO_BUF_INIT;
	int rc = fo_run_expand(g->run, NULL, v, &b, err);
	if (!rc)
		*out = fo_buf_detach(&b, NULL);
	fo_buf_release(&b);
	return rc;
}

static int connect_node(struct rnode *rn, struct fo_err *err)
{
	struct fo_ssh *s = NULL;
	int rc = take(rn, &s, err);
	struct fo_buf home = FO_BUF_INIT;
	if (!rc)
		rc = fo_ssh_home(s, &home, err);
	if (!rc) {
		fo_free(rn->home);
		rn->home = fo_buf_detach(&home, NULL);
		fo_info(rn->n->log, "connected to %s (home %s)", fo_ssh_name(s), rn->home);
	}
	give(rn, s, rc == 0);
	fo_buf_release(&home);
	return rc;
}

static int setup_nodes(struct sgroup *sg, const struct fo_propset *props, struct fo_err *err);

static int ssh_reserve(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	const char *what = g->spec->name;
	if (g->spec->mark_for_reuse)
		return fo_err_set(err, FO_EUNSUPPORTED,
				  "node group '%s': the ssh provisioner cannot keep a cluster between runs "
				  "(mark_for_reuse)",
				  what);
	const struct fo_propval *hosts = fo_props_get(props, "hosts");
	const char *host = fo_props_str(props, "host", NULL);
	size_t nh = hosts && hosts->set ? hosts->nlist : host && *host ? 1 : 0;
	if (nh != g->n)
		return fo_err_set(err, FO_EINVAL, "node group '%s' has %zu node%s but %zu host%s: give one host per node",
				  what, g->n, g->n == 1 ? "" : "s", nh, nh == 1 ? "" : "s");
	struct sgroup *sg = g->impl;
	if (!sg) {
		sg = fo_calloc(1, sizeof(*sg));
		sg->g = g;
		pthread_mutex_init(&sg->lock, NULL);
		pthread_mutex_init(&sg->poll, NULL);
		g->impl = sg;
		fo_ledger_at_close(fo_run_ledger(g->run), at_close, g);
	}
	int rc = sg->nodes ? 0 : setup_nodes(sg, props, err);
	if (!rc)
		rc = each_node(sg, connect_node, err);
	if (!rc)
		fo_info(g->log, "connected to %zu host%s as %s: %s", g->n, g->n == 1 ? "" : "s", sg->user, sg->addresses);
	return rc;
}

/* The group's connection settings and its nodes (reserve, once). */
static int setup_nodes(struct sgroup *sg, const struct fo_propset *props, struct fo_err *err)
{
	struct fo_rgroup *g = sg->g;
	const struct fo_propval *hosts = fo_props_get(props, "hosts");
	const char *host = fo_props_str(props, "host", NULL);
	sg->nodes = fo_calloc(g->n, sizeof(*sg->nodes));
	for (size_t i = 0; i < g->n; i++) {
		sg->nodes[i].sg = sg;
		sg->nodes[i].n = &g->nodes[i];
		pthread_mutex_init(&sg->nodes[i].lock, NULL);
	}
	int rc = expanded(g, props, "user.name", &sg->user, err);
	if (!rc)
		rc = expanded(g, props, "user.password", &sg->password, err);
	if (!rc)
		rc = expanded(g, props, "private.key.location", &sg->key, err);
	if (!rc)
		rc = expanded(g, props, "private.key.passphrase", &sg->passphrase, err);
	if (!rc)
		rc = expanded(g, props, "known.hosts.file", &sg->known_hosts, err);
	if (rc)
		return rc;
	if (!sg->user) {
		struct passwd *pw = getpwuid(geteuid());
		sg->user = fo_strdup(pw ? pw->pw_name : "root");
	}
	if (!sg->known_hosts) {
		struct fo_buf b = FO_BUF_INIT;
		rc = fo_state_subdir("ssh", &b, err);
		fo_buf_adds(&b, "/known_hosts");
		sg->known_hosts = fo_buf_detach(&b, NULL);
		if (rc)
			return rc;
	}
	const char *check = fo_props_str(props, "strict.host.key.checking", "accept-new");
	enum fo_ssh_hostkey hk = strcasecmp(check, "yes") == 0  ? FO_SSH_HOSTKEY_YES
				 : strcasecmp(check, "no") == 0 ? FO_SSH_HOSTKEY_NO
								: FO_SSH_HOSTKEY_ACCEPT_NEW;
	sg->remote_dir = fo_props_str(props, "remote.dir", "fallout");
	struct fo_buf all = FO_BUF_INIT, t = FO_BUF_INIT;
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct rnode *rn = &sg->nodes[i];
		const char *h = hosts && hosts->set ? hosts->list[i] : host;
		rn->o = (struct fo_ssh_opts){
			.host = h,
			.port = (int)fo_props_int(props, "port", 22),
			.user = sg->user,
			.key_path = sg->key,
			.key_passphrase = sg->passphrase,
			.password = sg->password,
			.known_hosts = sg->known_hosts,
			.hostkey = hk,
			.timeout_ns = fo_props_duration_ns(props, "connect.timeout", 30 * 1000000000LL),
		};
		if (strlen(h) >= sizeof(g->nodes[i].address) || fo_ssh_target(&rn->o, &t) != 0)
			rc = fo_err_set(err, FO_EINVAL, "node group '%s': '%s' cannot be a host (user '%s', key '%s')",
					g->spec->name, h, sg->user, sg->key ? sg->key : "");
		rn->target = fo_buf_detach(&t, NULL);
		snprintf(g->nodes[i].address, sizeof(g->nodes[i].address), "%s", h);
		fo_buf_addf(&all, "%s%s", i ? " " : "", h);
	}
	sg->addresses = fo_buf_detach(&all, NULL);
	fo_buf_release(&t);
	return rc;
}

/* Makes the node's remote folder, recorded in the ledger first. */
static int make_remote(struct rnode *rn, struct fo_err *err)
{
	struct sgroup *sg = rn->sg;
	struct fo_buf dir = FO_BUF_INIT, what = FO_BUF_INIT, cmd = FO_BUF_INIT;
	if (sg->remote_dir[0] != '/')
		fo_buf_addf(&dir, "%s/", rn->home);
	fo_buf_addf(&dir, "%s/%s/%s/%s", sg->remote_dir, fo_run_id(sg->g->run), sg->g->spec->name, rn->n->name);
	fo_free(rn->rdir);
	fo_free(rn->rstate);
	rn->rdir = fo_buf_detach(&dir, NULL);
	fo_buf_addf(&dir, "%s/.fallout", rn->rdir);
	rn->rstate = fo_buf_detach(&dir, NULL);
	struct fo_ledger *l = ledger_of(sg);
	int rc = fo_ssh_remove_command(&cmd, rn->rdir, err); /* a folder we will be allowed to remove */
	fo_buf_clear(&cmd);
	fo_buf_addf(&what, "procs %s", rn->rstate);
	if (!rc && fo_ledger_ssh(l, rn->target, what.s) != 0)
		rc = fo_err_set(err, FO_EIO, "cannot record '%s' in the run's ledger", rn->rdir);
	fo_buf_clear(&what);
	fo_buf_addf(&what, "dir %s", rn->rdir);
	if (!rc && fo_ledger_ssh(l, rn->target, what.s) != 0)
		rc = fo_err_set(err, FO_EIO, "cannot record '%s' in the run's ledger", rn->rdir);
	if (!rc) {
		fo_buf_adds(&cmd, "mkdir -p -- ");
		fo_ssh_quote(&cmd, rn->rstate);
		rc = run_on(rn, cmd.s, NULL, err);
	}
	if (!rc) {
		fo_ssh_mirror_free(rn->mirror);
		rn->mirror = fo_ssh_mirror_new(rn->n->dir, rn->rdir);
		fo_node_publish(rn->n, "node", "dir", rn->rdir);
		fo_info(rn->n->log, "node folder %s on %s (staged here in %s)", rn->rdir, rn->o.host, rn->n->dir);
	}
	fo_buf_release(&what);
	fo_buf_release(&cmd);
	return rc;
}

static int ssh_create(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct sgroup *sg = g->impl;
	if (!sg || !sg->nodes)
		return fo_err_set(err, FO_EINVAL, "node group '%s' is not reserved", g->spec->name);
	struct fo_buf base = FO_BUF_INIT, node = FO_BUF_INIT;
	fo_buf_addf(&base, "%s/%s", fo_run_work_dir(g->run), g->spec->name);
	int rc = fo_ledger_dir(ledger_of(sg), base.s);
	if (rc)
		rc = fo_err_set(err, rc, "cannot record '%s' in the run's ledger", base.s);
	if (!rc)
		rc = fo_mkdirs(base.s, err);
	for (size_t i = 0; i < g->n && !rc; i++) {
		fo_buf_clear(&node);
		fo_buf_addf(&node, "%s/%s", base.s, g->nodes[i].name);
		rc = fo_mkdirs(node.s, err);
		fo_free(g->nodes[i].dir);
		g->nodes[i].dir = fo_buf_detach(&node, NULL);
	}
	fo_free(sg->base);
	sg->base = fo_buf_detach(&base, NULL);
	fo_buf_release(&node);
	return rc ? rc : each_node(sg, make_remote, err);
}

static int ssh_start(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct sgroup *sg = g->impl;
	for (size_t i = 0; i < g->n; i++)
		if (!sg || !sg->nodes[i].rdir)
			return no_folder(&g->nodes[i], err);
	sg->started = true;
	return 0;
}

static int ssh_stop(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct sgroup *sg = g->impl;
	if (!sg || !sg->nodes)
		return 0;
	sg->started = false;
	return each_node(sg, stop_node_step, err);
}

/* Stops everything on the node and removes its remote folder, in one command; marks
 * them gone in the ledger. */
static int destroy_node(struct rnode *rn, struct fo_err *err)
{
	if (!rn->rdir)
		return 0;
	struct fo_buf cmd = FO_BUF_INIT, what = FO_BUF_INIT;
	int rc = fo_ssh_remove_command(&cmd, rn->rdir, err);
	if (!rc)
		rc = stop_node(rn, NULL, cmd.s, false, err);
	if (!rc) {
		struct fo_ledger *l = ledger_of(rn->sg);
		fo_buf_addf(&what, "procs %s", rn->rstate);
		fo_ledger_gone_ssh(l, rn->target, what.s);
		fo_buf_clear(&what);
		fo_buf_addf(&what, "dir %s", rn->rdir);
		fo_ledger_gone_ssh(l, rn->target, what.s);
		fo_info(rn->n->log, "removed %s on %s", rn->rdir, rn->o.host);
		fo_free(rn->rdir);
		rn->rdir = NULL;
	}
	fo_buf_release(&cmd);
	fo_buf_release(&what);
	return rc;
}

static int ssh_destroy(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct sgroup *sg = g->impl;
	if (!sg || !sg->nodes)
		return 0;
	sg->started = false;
	int rc = each_node(sg, destroy_node, err);
	if (sg->base) {
		int lrc = fo_ledger_remove_dir(ledger_of(sg), sg->base, err);
		rc = rc ? rc : lrc;
		fo_free(sg->base);
		sg->base = NULL;
	}
	for (size_t i = 0; i < g->n; i++) {
		fo_free(g->nodes[i].dir);
		g->nodes[i].dir = NULL;
	}
	return rc;
}

/* What this run made, as far as it knows: the hosts are not asked again. */
static int ssh_check_state(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel *out,
			   struct fo_err *err)
{
	struct sgroup *sg = g->impl;
	bool made = sg && sg->nodes && sg->base;
	for (size_t i = 0; made && i < g->n; i++)
		made = sg->nodes[i].rdir != NULL;
	*out = !sg || !sg->nodes ? FO_RL_DESTROYED
	       : !made		 ? FO_RL_RESERVED
	       : !sg->started	 ? FO_RL_STOPPED
				 : FO_RL_STARTED_SERVICES_UNCONFIGURED;
	return 0;
}

static int ssh_collect(struct fo_node *n, const char *path, const char *dest, struct fo_err *err)
{
	struct rnode *rn = node_of(n);
	if (!rn || !rn->rdir)
		return no_folder(n, err);
	if (!path || !*path || !dest || dest[0] != '/')
		return fo_err_set(err, FO_EINVAL, "collect needs a path and an absolute destination");
	struct fo_buf from = FO_BUF_INIT;
	if (path[0] == '/')
		map_path(rn, path, &from);
	else
		fo_buf_addf(&from, "%s/%s", rn->rdir, path);
	struct fo_ssh *s = NULL;
	int rc = take(rn, &s, err);
	if (!rc) {
		struct fo_err e = {0};
		rc = fo_ssh_get(s, from.s, dest, &e);
		if (rc == FO_ENOENT)
			fo_err_set(err, rc, "nothing to collect at '%s' on %s/%s", path, n->group->spec->name, n->name);
		else if (rc)
			fo_err_set(err, rc, "%s", e.msg);
		give(rn, s, rc != FO_ENET);
	}
	fo_buf_release(&from);
	return rc;
}

/* ---- the component ---- */

static void validate(const struct fo_propset *props, struct fo_diags *d)
{
	const struct fo_propval *hosts = fo_props_get(props, "hosts");
	const struct fo_propval *host = fo_props_get(props, "host");
	bool has_hosts = hosts && hosts->set && hosts->nlist > 0, has_host = host && host->set && host->str && *host->str;
	if (has_hosts == has_host)
		fo_diags_error(d, &props->pos, "provisioner 'ssh' needs either 'host' (one node) or 'hosts' (a list, one "
					       "host per node)%s",
			       has_host ? ", not both" : "");
}

static const struct fo_provisioner_ops ops = {
	.reserve = ssh_reserve,
	.create = ssh_create,
	.start = ssh_start,
	.stop = ssh_stop,
	.destroy = ssh_destroy,
	.check_state = ssh_check_state,
	.exec = ssh_exec,
	.start_service = ssh_start_service,
	.stop_service = ssh_stop_service,
	.collect = ssh_collect,
	/* service_pids, command_pids: remote processes are not this machine's to sample */
};

static const struct fo_prop props[] = {
	{
		.name = "host",
		.description = "The host of a one-node group (Fallout's `sshonly`): a name or an address.",
		.type = FO_PT_STRING,
	},
	{
		.name = "hosts",
		.description = "The hosts of the group, one per node in order (node0 is the first). Use "
			       "either `host` or `hosts`.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "port",
		.description = "The SSH port of every host.",
		.type = FO_PT_INT,
		.default_value = "22",
		FO_RANGE(1, 65535),
	},
	{
		.name = "user.name",
		.description = "The user to log in as. Default: the user running fallout.",
		.type = FO_PT_STRING,
	},
	{
		.name = "user.password",
		.description = "A password to log in with, tried after the key; write it as "
			       "<<secret:NAME>>. Never recorded: `fallout cleanup` cannot reconnect with it.",
		.type = FO_PT_STRING,
	},
	{
		.name = "private.key.location",
		.description = "A private key file to log in with. Without it and without a password, the "
			       "SSH agent and the usual keys of ~/.ssh are tried.",
		.type = FO_PT_FILE,
	},
	{
		.name = "private.key.passphrase",
		.description = "The passphrase of the private key, as <<secret:NAME>>.",
		.type = FO_PT_STRING,
	},
	{
		.name = "strict.host.key.checking",
		.description = "What to do with a host key not known yet: `accept-new` adds it to the known "
			       "hosts file (a changed key is always refused), `yes` refuses it, `no` checks "
			       "nothing.",
		.type = FO_PT_ENUM,
		.default_value = "accept-new",
		FO_OPTIONS("accept-new", "yes", "no"),
	},
	{
		.name = "known.hosts.file",
		.description = "The known hosts file. Default: ssh/known_hosts in fallout's state folder.",
		.type = FO_PT_STRING,
	},
	{
		.name = "remote.dir",
		.description = "Where the nodes' folders go on each host: <remote.dir>/<run id>/<group>/node<N>. "
			       "Relative to the user's home unless absolute.",
		.type = FO_PT_STRING,
		.default_value = "fallout",
	},
	{
		.name = "connect.timeout",
		.description = "How long connecting to a host, and each SSH step, may take.",
		.type = FO_PT_DURATION,
		.default_value = "30s",
		FO_RANGE(1, 3600),
	},
	{
		.name = "artifact.location",
		.description = "Accepted so Fallout tests validate unchanged, and ignored: artifacts are "
			       "collected into the run's folder.",
		.type = FO_PT_STRING,
		.default_value = "/tmp/artifacts/",
	},
	{0},
};

const struct fo_component fo_provisioner_ssh = {
	.name = "ssh",
	.kind = FO_KIND_PROVISIONER,
	.summary = "run the nodes on hosts reached over SSH, one node per host",
	.description =
		"Runs every node of the group on a host of its own, reached over SSH (libssh, loaded "
		"when first needed). Each node gets a folder on its host, "
		"<remote.dir>/<run id>/<group>/node<N>, where its commands run; it is removed when the "
		"group is destroyed. Commands get the node's FALLOUT_NODE_* variables (exported by the "
		"command line: most SSH servers refuse to set variables), a timeout, and their output "
		"in the node's log. Services run detached in a process group of their own, watched "
		"every second; their logs are copied back as they grow. Files are collected over SFTP.\n"
		"\n"
		"Files components put in a node's folder (a bash script, remote_files) are staged on "
		"this machine and copied to the host before each command; a command line naming a "
		"path in the staging folder gets the same path on the host. The hosts need a POSIX "
		"login shell, setsid and nohup (util-linux, coreutils) and an SFTP server.\n"
		"\n"
		"Host keys are checked against a known hosts file kept in fallout's state folder: a "
		"new host is added (strict.host.key.checking: accept-new), a changed key refused. "
		"The run's ledger records each node's folder and processes with the host, port, user "
		"and key file (never a password), so `fallout cleanup` can reconnect and remove what "
		"a killed run left.\n"
		"\n"
		"Fallout compatibility: Fallout's `sshonly` (one host) is `host`, `port`, `user.name`, "
		"`user.password` and `artifact.location` (ignored); ours adds `hosts` for several "
		"nodes and key-based login. Remote processes get no node metrics, and the faults "
		"that signal services or cut the network (kill, pause, restart, partition, "
		"throttle) refuse ssh nodes; delete_data works.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 2\n"
		   "    provisioner:\n"
		   "      name: ssh\n"
		   "      properties:\n"
		   "        hosts: [10.0.0.11, 10.0.0.12]\n"
		   "        user.name: fallout\n"
		   "        private.key.location: /home/me/.ssh/id_ed25519\n"
		   "  client: server\n",
	.props = props,
	.validate = validate,
	.provisioner = &ops,
};
