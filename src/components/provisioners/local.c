/*
 * local.c: the `local` provisioner. Its nodes live on this machine: each node is a folder
 * (its data, its logs, the files put on it) with a loopback address of its own,
 * 127.0.G.N, so every node can listen on its service's default port and several
 * clusters, or several runs, can share the machine.
 *
 * G is claimed machine-wide with an flock on STATE/addresses/127.0.G.lock, held by the
 * group for as long as it exists (released by destroy, or by the kernel when fallout
 * dies). A cluster kept for the next run (mark_for_reuse) also writes "cluster NAME" into
 * its lock file; while that cluster's folder exists, nobody else takes G, even with no
 * fallout running.
 *
 * Node folders are <work area>/<group>/node<N>, or, for a cluster kept between runs,
 * STATE/clusters/NAME/local/node<N>, where a `state` file lists G, the node count and the
 * services running (pid and start time). The folder is written in the run's ledger before
 * it is made, and so is every process group started on a node.
 *
 * The state check asks the nodes, never just a file: a kept cluster counts only if all
 * its folders exist and every service recorded is still the same process; one that is
 * not whole is taken down and reported DESTROYED, so the run sets it up anew.
 */
#include "util/common.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/ledger.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/definition.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"

#define MAX_NODES 254
#define STOP_GRACE_NS (10 * 1000000000LL)

struct lgroup;

/* A service running on a node. */
struct svc {
	char *name;
	struct fo_service *s;   /* ours; NULL when adopted from an earlier run */
	pid_t pid;              /* also its process group */
	uint64_t start;         /* the pid's start time, to know it is still the same process */
	struct fo_node *node;
	struct lgroup *lg;
	struct kept_cmd *cmd;   /* what started it, for restart_service; NULL when adopted */
	atomic_bool faulted;    /* killed by a fault (kill_service): its end is expected */
};

/* A copy of a service's command, to start it again (restart_service). */
struct kept_cmd {
	struct fo_cmd c;        /* pointing into the fields below */
	char **argv, **env;     /* owned, NULL-terminated */
	char *cwd, *log_path, *log_prefix, *stdin_path, *netns;
};

/* A process group left by a command (commands may start things in the background). */
struct lproc {
	pid_t pid;
	uint64_t start;
	struct fo_node *node;   /* the node it ran on; NULL when adopted from an earlier run */
};

/* Who started a process group (record_proc's context). */
struct started_on {
	struct lgroup *lg;
	struct fo_node *node;
};

/* The provisioner's state for one group (g->impl). */
struct lgroup {
	struct fo_rgroup *g;
	pthread_mutex_t lock;   /* svcs, procs, the state file */
	const char *cluster;    /* the cluster's name when kept between runs (mark_for_reuse) */
	int gnum;               /* G of 127.0.G.N; 0 until claimed */
	int lock_fd;            /* the flock on the address block */
	char *base;             /* the folder holding the node folders; NULL until created */
	char *addresses;        /* every node's address, space-separated */
	bool started;           /* start ran (nodes are up) */
	struct svc **svcs;
	size_t nsvcs, svcs_cap;
	struct lproc *procs;
	size_t nprocs, procs_cap;
};

/* ---- small helpers ---- */

static struct fo_ledger *ledger_of(struct lgroup *lg)
{
	return fo_run_ledger(lg->g->run);
}

/* Records a process group just started on a node (fo_proc_started_fn; ctx is a
 * struct started_on, called before fo_proc_run or fo_service_start returns). */
static void record_proc(void *ctx, pid_t pid, pid_t pgid)
{
	const struct started_on *on = ctx;
	struct lgroup *lg = on->lg;
	fo_ledger_cluster_proc(ledger_of(lg), lg->cluster, pid, pgid);
	pthread_mutex_lock(&lg->lock);
	FO_GROW(lg->procs, lg->procs_cap, lg->nprocs + 1);
	lg->procs[lg->nprocs++] = (struct lproc){pid, fo_proc_start_time(pid), on->node};
	pthread_mutex_unlock(&lg->lock);
}

/* Kills a recorded process group if it is still ours (see ledger.c for the reasoning). */
static void kill_if_ours(pid_t pid, uint64_t start, int64_t grace_ns)
{
	uint64_t now = fo_proc_start_time(pid);
	if (now != 0 && now != start)
		return;
	if (fo_proc_group_alive(pid))
		fo_proc_kill_group(pid, grace_ns);
}

/* ---- the address block ---- */

/*
 * The lock file of block 127.0.G.*. Claims are machine-wide, not per state folder: two
 * runs with different FALLOUT_STATE_DIRs must not get the same addresses. Root uses
 * /run/fallout/loopback; others /tmp/fallout-loopback-<uid>; FALLOUT_CLAIMS_DIR overrides.
 */
static void lock_path(int gnum, struct fo_buf *out)
{
	fo_buf_clear(out);
	const char *dir = getenv("FALLOUT_CLAIMS_DIR");
	if (dir && *dir)
		fo_buf_addf(out, "%s/loopback", dir);
	else if (geteuid() == 0)
		fo_buf_adds(out, "/run/fallout/loopback");
	else
		fo_buf_addf(out, "/tmp/fallout-loopback-%d", (int)geteuid());
	fo_mkdir_p(out->s, 0700, NULL);
	fo_buf_addf(out, "/127.0.%d.lock", gnum);
}

/* True if the lock file's text names a kept cluster other than ours whose folder exists. */
static bool held_by_kept_cluster(int fd, const char *ours)
{
	char text[4096];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return false;
	text[n] = '\0';
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	if (!fo_starts_with(text, "cluster "))
		return false;
	/* "cluster NAME FOLDER": the kept cluster's folder (in its own state folder). */
	char *name = text + 8;
	char *folder = strchr(name, ' ');
	if (!folder)
		return false;
	*folder++ = '\0';
	struct fo_buf mine = FO_BUF_INIT;
	bool same = ours && strcmp(name, ours) == 0 && fo_cluster_path(ours, &mine) == 0 && strcmp(mine.s, folder) == 0;
	fo_buf_release(&mine);
	if (same)
		return false;
	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/local", folder);
	bool held = fo_is_dir(dir.s);
	fo_buf_release(&dir);
	return held;
}

/* Tries to claim block gnum. Returns the locked fd, or -1. */
static int try_claim(int gnum, const char *cluster)
{
	struct fo_buf p = FO_BUF_INIT;
	lock_path(gnum, &p);
	int fd = open(p.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	fo_buf_release(&p);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || held_by_kept_cluster(fd, cluster)) {
		close(fd);
		return -1;
	}
	char text[4096];
	struct fo_buf folder = FO_BUF_INIT;
	if (cluster)
		fo_cluster_path(cluster, &folder);
	int n = cluster ? snprintf(text, sizeof(text), "cluster %s %s\n", cluster, folder.s)
			: snprintf(text, sizeof(text), "pid %d\n", (int)getpid());
	fo_buf_release(&folder);
	if (ftruncate(fd, 0) == 0 && n > 0)
		(void)!pwrite(fd, text, (size_t)n, 0);
	return fd;
}

static void release_block(struct lgroup *lg)
{
	if (lg->lock_fd >= 0) {
		(void)!ftruncate(lg->lock_fd, 0);
		close(lg->lock_fd); /* drops the flock */
	}
	lg->lock_fd = -1;
	lg->gnum = 0;
}

static void set_addresses(struct lgroup *lg)
{
	struct fo_rgroup *g = lg->g;
	struct fo_buf all = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++) {
		snprintf(g->nodes[i].address, sizeof(g->nodes[i].address), "127.0.%d.%zu", lg->gnum, i + 1);
		fo_buf_addf(&all, "%s%s", i ? " " : "", g->nodes[i].address);
	}
	fo_free(lg->addresses);
	lg->addresses = fo_buf_detach(&all, NULL);
}

/* ---- the state file of a kept cluster ---- */

/* STATE/clusters/NAME/local, the folder of a kept cluster's nodes; with create, the
 * cluster's folder is made. */
static void cluster_base(const char *cluster, bool create, struct fo_buf *out)
{
	if (create)
		fo_cluster_dir(cluster, out, NULL);
	else
		fo_cluster_path(cluster, out);
	fo_buf_adds(out, "/local");
}

/* Rewrites base/state (kept clusters only). Lock held. */
static void save_state(struct lgroup *lg)
{
	if (!lg->cluster || !lg->base)
		return;
	struct fo_buf text = FO_BUF_INIT, path = FO_BUF_INIT, tmp = FO_BUF_INIT;
	fo_buf_addf(&text, "group %d\nnodes %zu\nstarted %d\n", lg->gnum, lg->g->n, lg->started ? 1 : 0);
	for (size_t i = 0; i < lg->nsvcs; i++) {
		struct svc *s = lg->svcs[i];
		fo_buf_addf(&text, "svc %d %d %llu %s\n", s->node->ordinal, (int)s->pid, (unsigned long long)s->start,
			    s->name);
	}
	for (size_t i = 0; i < lg->nprocs; i++)
		fo_buf_addf(&text, "proc %d %llu\n", (int)lg->procs[i].pid, (unsigned long long)lg->procs[i].start);
	fo_buf_addf(&path, "%s/state", lg->base);
	fo_buf_addf(&tmp, "%s/state.tmp", lg->base);
	FILE *f = fopen(tmp.s, "we");
	if (f) {
		bool ok = fwrite(text.s, 1, text.len, f) == text.len && fflush(f) == 0 && fsync(fileno(f)) == 0;
		fclose(f);
		if (!ok || rename(tmp.s, path.s) < 0) {
			unlink(tmp.s);
			fo_warn(lg->g->log, "cannot save the cluster's state in '%s'", path.s);
		}
	}
	fo_buf_release(&text);
	fo_buf_release(&path);
	fo_buf_release(&tmp);
}

/* What a kept cluster's state file says. */
struct saved {
	int gnum;
	size_t nodes;
	bool started;
	struct saved_svc {
		int ordinal;
		pid_t pid;
		uint64_t start;
		char *name;
	} *svcs;
	size_t nsvcs, svcs_cap;
	struct lproc *procs;
	size_t nprocs, procs_cap;
};

static void saved_release(struct saved *sv)
{
	for (size_t i = 0; i < sv->nsvcs; i++)
		fo_free(sv->svcs[i].name);
	fo_free(sv->svcs);
	fo_free(sv->procs);
	*sv = (struct saved){0};
}

/* Reads base/state. Returns false when missing or unreadable. */
static bool load_state(const char *base, struct saved *sv)
{
	struct fo_buf path = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/state", base);
	bool ok = fo_buf_read_file(&text, path.s, 1 << 20, NULL) == 0;
	fo_buf_release(&path);
	for (char *line = text.s; ok && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		int a = 0, b = 0, off = 0;
		unsigned long long st = 0;
		if (sscanf(line, "group %d", &a) == 1) {
			sv->gnum = a;
		} else if (sscanf(line, "nodes %d", &a) == 1 && a >= 0) {
			sv->nodes = (size_t)a;
		} else if (sscanf(line, "started %d", &a) == 1) {
			sv->started = a != 0;
		} else if (sscanf(line, "svc %d %d %llu %n", &a, &b, &st, &off) == 3 && off > 0 && line[off]) {
			FO_GROW(sv->svcs, sv->svcs_cap, sv->nsvcs + 1);
			sv->svcs[sv->nsvcs++] = (struct saved_svc){a, (pid_t)b, (uint64_t)st, fo_strdup(line + off)};
		} else if (sscanf(line, "proc %d %llu", &b, &st) == 2) {
			FO_GROW(sv->procs, sv->procs_cap, sv->nprocs + 1);
			sv->procs[sv->nprocs++] = (struct lproc){(pid_t)b, (uint64_t)st, NULL};
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	fo_buf_release(&text);
	return ok && sv->gnum >= 1 && sv->gnum <= MAX_NODES;
}

/* ---- the group's impl ---- */

static char **strv_dup(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **out = v ? fo_calloc(n + 1, sizeof(*out)) : NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = fo_strdup(v[i]);
	return out;
}

static char *dup_or_null(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

static struct kept_cmd *keep_cmd(const struct fo_cmd *cmd)
{
	struct kept_cmd *k = fo_calloc(1, sizeof(*k));
	k->c = *cmd;
	k->c.capture = NULL;
	k->c.redact = NULL;
	k->c.argv = (const char *const *)(k->argv = strv_dup(cmd->argv));
	k->c.env = (const char *const *)(k->env = strv_dup(cmd->env));
	k->c.cwd = k->cwd = dup_or_null(cmd->cwd);
	k->c.log_path = k->log_path = dup_or_null(cmd->log_path);
	k->c.log_prefix = k->log_prefix = dup_or_null(cmd->log_prefix);
	k->c.stdin_path = k->stdin_path = dup_or_null(cmd->stdin_path);
	k->c.netns = k->netns = dup_or_null(cmd->netns);
	return k;
}

static void free_kept(struct kept_cmd *k)
{
	if (!k)
		return;
	for (char **v = k->argv; v && *v; v++)
		fo_free(*v);
	for (char **v = k->env; v && *v; v++)
		fo_free(*v);
	fo_free(k->argv);
	fo_free(k->env);
	fo_free(k->cwd);
	fo_free(k->log_path);
	fo_free(k->log_prefix);
	fo_free(k->stdin_path);
	fo_free(k->netns);
	fo_free(k);
}

static void free_svc(struct svc *s)
{
	free_kept(s->cmd);
	fo_free(s->name);
	fo_free(s);
}

/* The end of the run (the ledger closes): a group still up is let go. A kept cluster's
 * services keep running (detached); any other group's are stopped. */
static void at_close(void *data)
{
	struct fo_rgroup *g = data;
	struct lgroup *lg = g->impl;
	if (!lg)
		return;
	pthread_mutex_lock(&lg->lock);
	if (lg->cluster && lg->base) {
		/* forget command groups that have ended; keep the rest for destroy */
		size_t k = 0;
		for (size_t i = 0; i < lg->nprocs; i++)
			if (fo_proc_group_alive(lg->procs[i].pid))
				lg->procs[k++] = lg->procs[i];
		lg->nprocs = k;
		save_state(lg);
	}
	struct svc **svcs = lg->svcs;
	size_t n = lg->nsvcs;
	lg->svcs = NULL;
	lg->nsvcs = lg->svcs_cap = 0;
	pthread_mutex_unlock(&lg->lock);
	for (size_t i = 0; i < n; i++) {
		if (lg->cluster && lg->base)
			fo_service_detach(svcs[i]->s);
		else
			fo_service_free(svcs[i]->s);
		free_svc(svcs[i]);
	}
	fo_free(svcs);
	if (lg->lock_fd >= 0)
		close(lg->lock_fd); /* a kept cluster's block stays held by its lock file's text */
	for (size_t i = 0; i < g->n; i++) {
		fo_free(g->nodes[i].dir);
		g->nodes[i].dir = NULL;
	}
	pthread_mutex_destroy(&lg->lock);
	fo_free(lg->procs);
	fo_free(lg->base);
	fo_free(lg->addresses);
	fo_free(lg);
	g->impl = NULL;
}

static struct lgroup *impl(struct fo_rgroup *g)
{
	if (g->impl)
		return g->impl;
	struct lgroup *lg = fo_calloc(1, sizeof(*lg));
	lg->g = g;
	lg->lock_fd = -1;
	lg->cluster = g->spec->mark_for_reuse ? fo_cluster_name(g->spec) : NULL;
	pthread_mutex_init(&lg->lock, NULL);
	g->impl = lg;
	fo_ledger_at_close(fo_run_ledger(g->run), at_close, g);
	return lg;
}

/* Stops every service and every command group still running. */
static void stop_all(struct lgroup *lg, bool quiet)
{
	pthread_mutex_lock(&lg->lock);
	struct svc **svcs = lg->svcs;
	size_t n = lg->nsvcs;
	lg->svcs = NULL;
	lg->nsvcs = lg->svcs_cap = 0;
	struct lproc *procs = lg->procs;
	size_t np = lg->nprocs;
	lg->procs = NULL;
	lg->nprocs = lg->procs_cap = 0;
	save_state(lg);
	pthread_mutex_unlock(&lg->lock);
	struct fo_ledger *l = ledger_of(lg);
	for (size_t i = 0; i < n; i++) {
		struct svc *s = svcs[i];
		if (!quiet)
			fo_info(s->node->log, "stopping service '%s' (pid %d)", s->name, (int)s->pid);
		if (s->s) {
			fo_service_stop(s->s, STOP_GRACE_NS);
			fo_service_free(s->s);
		} else {
			kill_if_ours(s->pid, s->start, STOP_GRACE_NS);
		}
		fo_ledger_gone_proc(l, s->pid);
		free_svc(s);
	}
	for (size_t i = 0; i < np; i++) {
		if (fo_proc_group_alive(procs[i].pid))
			kill_if_ours(procs[i].pid, procs[i].start, STOP_GRACE_NS);
		fo_ledger_gone_proc(l, procs[i].pid);
	}
	fo_free(svcs);
	fo_free(procs);
}

/* ---- the steps ---- */

static int local_reserve(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	if (g->n > MAX_NODES)
		return fo_err_set(err, FO_EINVAL,
				  "node group '%s' has %zu nodes; the local provisioner gives each node a loopback "
				  "address 127.0.G.N and so runs at most %d",
				  g->spec->name, g->n, MAX_NODES);
	struct lgroup *lg = impl(g);
	if (!lg->gnum) {
		for (int gnum = 1; gnum <= MAX_NODES && lg->lock_fd < 0; gnum++) {
			lg->lock_fd = try_claim(gnum, lg->cluster);
			if (lg->lock_fd >= 0)
				lg->gnum = gnum;
		}
		if (!lg->gnum)
			return fo_err_set(err, FO_EIO,
					  "no free loopback block for node group '%s': 127.0.1.0 to 127.0.254.0 are all "
					  "taken by other groups",
					  g->spec->name);
	}
	set_addresses(lg);
	fo_info(g->log, "reserved loopback addresses 127.0.%d.1 to 127.0.%d.%zu", lg->gnum, lg->gnum, g->n);
	return 0;
}

static int local_create(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct lgroup *lg = impl(g);
	struct fo_buf base = FO_BUF_INIT, node = FO_BUF_INIT;
	if (lg->cluster)
		cluster_base(lg->cluster, true, &base);
	else
		fo_buf_addf(&base, "%s/%s", fo_run_work_dir(g->run), g->spec->name);
	int rc = fo_ledger_cluster_dir(ledger_of(lg), lg->cluster, base.s);
	if (rc)
		rc = fo_err_set(err, rc, "cannot record '%s' in the run's ledger", base.s);
	if (!rc)
		rc = fo_mkdirs(base.s, err);
	for (size_t i = 0; i < g->n && !rc; i++) {
		struct fo_node *n = &g->nodes[i];
		fo_buf_clear(&node);
		fo_buf_addf(&node, "%s/%s", base.s, n->name);
		if (mkdir(node.s, 0755) < 0 && errno != EEXIST) {
			rc = fo_err_set(err, FO_EIO, "cannot create '%s': %s", node.s, strerror(errno));
			break;
		}
		fo_free(n->dir);
		n->dir = fo_strdup(node.s);
		fo_info(n->log, "node folder %s, address %s", n->dir, n->address);
	}
	if (!rc) {
		fo_free(lg->base);
		lg->base = fo_buf_detach(&base, NULL);
		pthread_mutex_lock(&lg->lock);
		save_state(lg);
		pthread_mutex_unlock(&lg->lock);
	}
	fo_buf_release(&base);
	fo_buf_release(&node);
	return rc;
}

static int local_prepare(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	for (size_t i = 0; i < g->n; i++)
		if (!g->nodes[i].dir || !fo_is_dir(g->nodes[i].dir))
			return fo_err_set(err, FO_ENOENT, "the folder of %s/%s is missing", g->spec->name,
					  g->nodes[i].name);
	return 0;
}

static int local_start(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	int rc = local_prepare(g, props, err);
	if (rc)
		return rc;
	struct lgroup *lg = impl(g);
	pthread_mutex_lock(&lg->lock);
	lg->started = true;
	save_state(lg);
	pthread_mutex_unlock(&lg->lock);
	return 0;
}

static int local_stop(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct lgroup *lg = g->impl;
	if (!lg)
		return 0;
	stop_all(lg, false);
	pthread_mutex_lock(&lg->lock);
	lg->started = false;
	save_state(lg);
	pthread_mutex_unlock(&lg->lock);
	return 0;
}

static int local_destroy(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct lgroup *lg = g->impl;
	const char *cluster = lg ? lg->cluster : g->spec->mark_for_reuse ? fo_cluster_name(g->spec) : NULL;
	int rc = 0;
	if (lg) {
		stop_all(lg, false);
		lg->started = false;
		if (lg->base) {
			rc = fo_ledger_remove_dir(ledger_of(lg), lg->base, err);
			if (!rc) {
				fo_free(lg->base);
				lg->base = NULL;
			}
		}
		for (size_t i = 0; i < g->n; i++) {
			fo_free(g->nodes[i].dir);
			g->nodes[i].dir = NULL;
		}
		if (!rc)
			release_block(lg);
	}
	if (!rc && cluster)
		rc = fo_cluster_forget(cluster, err);
	return rc;
}

/* ---- the state check ---- */

/* Takes down what a kept cluster left, as far as it is still ours. */
static void take_down(const char *base, const struct saved *sv)
{
	for (size_t i = 0; i < sv->nsvcs; i++)
		kill_if_ours(sv->svcs[i].pid, sv->svcs[i].start, STOP_GRACE_NS);
	for (size_t i = 0; i < sv->nprocs; i++)
		kill_if_ours(sv->procs[i].pid, sv->procs[i].start, STOP_GRACE_NS);
	fo_ledger_remove_dir(NULL, base, NULL);
}

/* Checks a kept cluster left by an earlier run and adopts it when it is whole. Returns
 * the state found; *why says what is missing otherwise. */
static enum fo_runlevel adopt(struct fo_rgroup *g, struct fo_buf *why)
{
	const char *cluster = fo_cluster_name(g->spec);
	struct fo_buf base = FO_BUF_INIT, path = FO_BUF_INIT;
	cluster_base(cluster, false, &base);
	struct saved sv = {0};
	enum fo_runlevel found = FO_RL_DESTROYED;
	if (!fo_is_dir(base.s)) {
		goto out;
	}
	if (!load_state(base.s, &sv)) {
		fo_buf_adds(why, "its state file is missing or unreadable");
		goto damaged;
	}
	if (sv.nodes != g->n) {
		fo_buf_addf(why, "it has %zu nodes, the group wants %zu", sv.nodes, g->n);
		goto damaged;
	}
	for (size_t i = 0; i < g->n; i++) {
		fo_buf_clear(&path);
		fo_buf_addf(&path, "%s/%s", base.s, g->nodes[i].name);
		if (!fo_is_dir(path.s)) {
			fo_buf_addf(why, "the folder of %s is gone", g->nodes[i].name);
			goto damaged;
		}
	}
	for (size_t i = 0; i < sv.nsvcs; i++) {
		if (sv.svcs[i].ordinal < 0 || (size_t)sv.svcs[i].ordinal >= g->n ||
		    !fo_proc_alive(sv.svcs[i].pid, sv.svcs[i].start)) {
			fo_buf_addf(why, "service '%s' on node%d is not running", sv.svcs[i].name, sv.svcs[i].ordinal);
			goto damaged;
		}
	}
	int fd = try_claim(sv.gnum, cluster);
	if (fd < 0) {
		fo_buf_addf(why, "its addresses 127.0.%d.* are in use (another run has the cluster?)", sv.gnum);
		found = FO_RL_UNKNOWN;
		goto out;
	}
	/* Whole: adopt it. */
	struct lgroup *lg = impl(g);
	lg->cluster = cluster;
	lg->gnum = sv.gnum;
	lg->lock_fd = fd;
	lg->base = fo_buf_detach(&base, NULL);
	lg->started = sv.started;
	set_addresses(lg);
	for (size_t i = 0; i < g->n; i++) {
		fo_buf_clear(&path);
		fo_buf_addf(&path, "%s/%s", lg->base, g->nodes[i].name);
		fo_free(g->nodes[i].dir);
		g->nodes[i].dir = fo_buf_detach(&path, NULL);
	}
	for (size_t i = 0; i < sv.nsvcs; i++) {
		struct svc *s = fo_calloc(1, sizeof(*s));
		s->name = fo_strdup(sv.svcs[i].name);
		s->pid = sv.svcs[i].pid;
		s->start = sv.svcs[i].start;
		s->node = &g->nodes[sv.svcs[i].ordinal];
		s->lg = lg;
		FO_GROW(lg->svcs, lg->svcs_cap, lg->nsvcs + 1);
		lg->svcs[lg->nsvcs++] = s;
	}
	for (size_t i = 0; i < sv.nprocs; i++) {
		FO_GROW(lg->procs, lg->procs_cap, lg->nprocs + 1);
		lg->procs[lg->nprocs++] = sv.procs[i];
	}
	enum fo_runlevel recorded;
	if (fo_cluster_load_state(cluster, &recorded) == 0 && recorded >= FO_RL_RESERVED)
		found = recorded;
	else
		found = sv.started ? FO_RL_STARTED_SERVICES_RUNNING : FO_RL_STOPPED;
	if (!sv.started && found > FO_RL_STOPPED)
		found = FO_RL_STOPPED;
	fo_info(g->log, "found cluster '%s' kept by an earlier run: %zu node%s at 127.0.%d.*, %zu service%s running",
		cluster, g->n, g->n == 1 ? "" : "s", lg->gnum, sv.nsvcs, sv.nsvcs == 1 ? "" : "s");
	goto out;
damaged:
	fo_info(g->log, "cluster '%s' kept by an earlier run is not whole (%s): taking it down", cluster, why->s);
	take_down(base.s, &sv);
	fo_cluster_forget(cluster, NULL); /* gone: its record goes too (a rebuilt group keeps it only if kept) */
	found = FO_RL_DESTROYED;
out:
	saved_release(&sv);
	fo_buf_release(&base);
	fo_buf_release(&path);
	return found;
}

static int local_check_state(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel *out,
			     struct fo_err *err)
{
	struct lgroup *lg = g->impl;
	if (!lg) {
		/* A kept cluster is looked for by groups kept themselves, and by groups naming
		 * their cluster (that is how a kept cluster is finally torn down). */
		const char *named = fo_props_str(&g->spec->provisioner, "name", NULL);
		if (!g->spec->mark_for_reuse && !(named && *named)) {
			*out = FO_RL_DESTROYED;
			return 0;
		}
		struct fo_buf why = FO_BUF_INIT;
		*out = adopt(g, &why);
		int rc = 0;
		if (*out == FO_RL_UNKNOWN)
			rc = fo_err_set(err, FO_EEXISTS, "cluster '%s': %s", fo_cluster_name(g->spec), why.s);
		fo_buf_release(&why);
		return rc;
	}
	/* This run's own group (after a failed step): look at what is there. */
	if (!lg->gnum) {
		*out = FO_RL_DESTROYED;
		return 0;
	}
	bool folders = lg->base != NULL;
	for (size_t i = 0; folders && i < g->n; i++)
		folders = g->nodes[i].dir && fo_is_dir(g->nodes[i].dir);
	if (!folders)
		*out = FO_RL_RESERVED;
	else if (!lg->started)
		*out = FO_RL_STOPPED;
	else
		*out = FO_RL_STARTED_SERVICES_UNCONFIGURED;
	return 0;
}

/* ---- commands and services ---- */

/* A command made ready to run on a node: its environment (the node's variables, then
 * the command's own, which win), folder, log and log prefix. */
struct ncmd {
	struct fo_cmd c;
	char *vars[10];         /* owned FALLOUT_* entries, NULL-terminated */
	const char **env;       /* owned array of borrowed entries */
	struct fo_buf cwd, prefix;
};

static void ncmd_release(struct ncmd *m)
{
	for (size_t i = 0; m->vars[i]; i++)
		fo_free(m->vars[i]);
	fo_free(m->env);
	fo_buf_release(&m->cwd);
	fo_buf_release(&m->prefix);
}

/* The absolute path of the running fallout program ("" when it cannot be told). */
static const char *self_exe(char *out, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", out, n - 1);
	out[len > 0 ? len : 0] = '\0';
	return out;
}

static int ncmd_init(struct ncmd *m, struct fo_node *n, const struct fo_cmd *cmd, struct fo_err *err)
{
	*m = (struct ncmd){.cwd = FO_BUF_INIT, .prefix = FO_BUF_INIT};
	struct lgroup *lg = n->group->impl;
	if (!lg || !n->dir)
		return fo_err_set(err, FO_EINVAL, "%s/%s has no folder yet (the group is not created)",
				  n->group->spec->name, n->name);
	if (!cmd || !cmd->argv || !cmd->argv[0])
		return fo_err_set(err, FO_EINVAL, "no command to run on %s/%s", n->group->spec->name, n->name);
	struct fo_buf b = FO_BUF_INIT;
	size_t k = 0, extra = 0;
#define VAR(...) (fo_buf_addf(&b, __VA_ARGS__), m->vars[k++] = fo_buf_detach(&b, NULL))
	VAR("FALLOUT_NODE_ORDINAL=%d", n->ordinal);
	VAR("FALLOUT_NODE_GROUP=%s", n->group->spec->name);
	VAR("FALLOUT_NODE_ADDRESS=%s", n->address);
	VAR("FALLOUT_NODE_DIR=%s", n->dir);
	VAR("FALLOUT_NODE_ARTIFACTS=%s", n->artifacts ? n->artifacts : "");
	VAR("FALLOUT_GROUP_ADDRESSES=%s", lg->addresses ? lg->addresses : n->address);
	VAR("FALLOUT_RUN_DIR=%s", fo_run_dir(n->group->run));
	char exe[PATH_MAX];
	VAR("FALLOUT_BIN=%s", self_exe(exe, sizeof(exe)));
#undef VAR
	while (cmd->env && cmd->env[extra])
		extra++;
	m->env = fo_calloc(k + extra + 1, sizeof(*m->env));
	memcpy(m->env, m->vars, k * sizeof(*m->env));
	for (size_t i = 0; i < extra; i++)
		m->env[k + i] = cmd->env[i];
	m->c = *cmd;
	m->c.env = m->env;
	if (!cmd->cwd || cmd->cwd[0] != '/')
		fo_buf_addf(&m->cwd, "%s%s%s", n->dir, cmd->cwd ? "/" : "", cmd->cwd ? cmd->cwd : "");
	else
		fo_buf_adds(&m->cwd, cmd->cwd);
	m->c.cwd = m->cwd.s;
	if (!m->c.log_path && n->log)
		m->c.log_path = fo_log_path(n->log);
	if (!m->c.log_prefix) {
		fo_buf_adds(&m->prefix, "$");
		for (size_t i = 0; cmd->argv[i]; i++)
			fo_buf_addf(&m->prefix, " %s", cmd->argv[i]);
		fo_buf_addch(&m->prefix, '\n');
		m->c.log_prefix = m->prefix.s;
	}
	return 0;
}

static int local_exec(struct fo_node *n, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err)
{
	struct ncmd m;
	int rc = ncmd_init(&m, n, cmd, err);
	struct started_on on = {n->group->impl, n};
	if (!rc)
		rc = fo_proc_run(&m.c, record_proc, &on, res, err);
	ncmd_release(&m);
	return rc;
}

/* A service ended without being asked (watcher thread). Takes no lock of ours. */
static void service_exited(void *ctx, struct fo_service *s, int code, int sig)
{
	struct svc *sv = ctx;
	struct fo_node *n = sv->node;
	char how[64];
	if (sig)
		snprintf(how, sizeof(how), "killed by signal %d", sig);
	else
		snprintf(how, sizeof(how), "status %d", code);
	if (atomic_load(&sv->faulted)) {
		fo_info(n->log, "service '%s' ended (%s), as the fault asked", sv->name, how);
		return;
	}
	fo_error(n->log, "service '%s' exited unexpectedly (%s)", sv->name, how);
	fo_run_fail(n->group->run, "service '%s' on %s/%s exited unexpectedly (%s)", sv->name, n->group->spec->name,
		    n->name, how);
}

static struct svc *find_svc(struct lgroup *lg, struct fo_node *n, const char *name, size_t *at)
{
	for (size_t i = 0; i < lg->nsvcs; i++) {
		if (lg->svcs[i]->node == n && strcmp(lg->svcs[i]->name, name) == 0) {
			if (at)
				*at = i;
			return lg->svcs[i];
		}
	}
	return NULL;
}

static int local_stop_service(struct fo_node *n, const char *name, struct fo_err *err);

static int local_start_service(struct fo_node *n, const char *name, const struct fo_cmd *cmd, struct fo_err *err)
{
	struct lgroup *lg = n->group->impl;
	if (!name || !*name || strchr(name, '\n'))
		return fo_err_set(err, FO_EINVAL, "a service needs a name");
	struct ncmd m;
	int rc = ncmd_init(&m, n, cmd, err);
	struct svc *s = NULL;
	if (!rc) {
		pthread_mutex_lock(&lg->lock);
		struct svc *old = find_svc(lg, n, name, NULL);
		bool running = old && (old->s ? fo_service_running(old->s) : fo_proc_alive(old->pid, old->start));
		pthread_mutex_unlock(&lg->lock);
		if (old && running)
			rc = fo_err_set(err, FO_EEXISTS, "service '%s' already runs on %s/%s", name,
					n->group->spec->name, n->name);
		else if (old)
			rc = local_stop_service(n, name, err); /* ended: clear it away first */
	}
	if (!rc) {
		s = fo_calloc(1, sizeof(*s));
		s->name = fo_strdup(name);
		s->node = n;
		s->lg = lg;
		s->cmd = keep_cmd(cmd);
		struct started_on on = {lg, n};
		s->s = fo_service_start(&m.c, record_proc, &on, service_exited, s, err);
		if (!s->s) {
			rc = err && err->code ? err->code : FO_EIO;
			free_svc(s);
			s = NULL;
		}
	}
	if (s) {
		s->pid = fo_service_pid(s->s);
		s->start = fo_proc_start_time(s->pid);
		pthread_mutex_lock(&lg->lock);
		/* a service is not a leftover command: record_proc listed it among procs */
		for (size_t i = lg->nprocs; i-- > 0;)
			if (lg->procs[i].pid == s->pid) {
				lg->procs[i] = lg->procs[--lg->nprocs];
				break;
			}
		FO_GROW(lg->svcs, lg->svcs_cap, lg->nsvcs + 1);
		lg->svcs[lg->nsvcs++] = s;
		save_state(lg);
		pthread_mutex_unlock(&lg->lock);
		fo_info(n->log, "started service '%s' (pid %d)", name, (int)s->pid);
	}
	ncmd_release(&m);
	return rc;
}

static int local_stop_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	struct lgroup *lg = n->group->impl;
	if (!lg)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	size_t at = 0;
	pthread_mutex_lock(&lg->lock);
	struct svc *s = find_svc(lg, n, name, &at);
	if (s) {
		memmove(&lg->svcs[at], &lg->svcs[at + 1], (lg->nsvcs - at - 1) * sizeof(*lg->svcs));
		lg->nsvcs--;
		save_state(lg);
	}
	pthread_mutex_unlock(&lg->lock);
	if (!s)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	/* Stopped outside the lock: the exit callback may run meanwhile. */
	if (s->s) {
		fo_service_stop(s->s, STOP_GRACE_NS);
		fo_service_free(s->s);
	} else {
		kill_if_ours(s->pid, s->start, STOP_GRACE_NS);
	}
	fo_ledger_gone_proc(ledger_of(lg), s->pid);
	fo_info(n->log, "stopped service '%s'", name);
	free_svc(s);
	return 0;
}

/* ---- faults ---- */

static int local_services(struct fo_node *n, void (*fn)(void *ctx, const char *name, pid_t pgid), void *ctx)
{
	struct lgroup *lg = n->group->impl;
	int k = 0;
	if (!lg)
		return 0;
	pthread_mutex_lock(&lg->lock);
	for (size_t i = 0; i < lg->nsvcs; i++)
		if (lg->svcs[i]->node == n && ++k)
			fn(ctx, lg->svcs[i]->name, lg->svcs[i]->pid);
	pthread_mutex_unlock(&lg->lock);
	return k;
}

static int local_kill_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	struct lgroup *lg = n->group->impl;
	if (!lg)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	pthread_mutex_lock(&lg->lock);
	struct svc *s = find_svc(lg, n, name, NULL);
	pid_t pid = s ? s->pid : 0;
	uint64_t start = s ? s->start : 0;
	if (s)
		atomic_store(&s->faulted, true);
	pthread_mutex_unlock(&lg->lock);
	if (!s)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	uint64_t now = fo_proc_start_time(pid);
	if ((now == 0 || now == start) && kill(-pid, SIGKILL) < 0 && errno != ESRCH)
		return fo_err_set(err, FO_EIO, "cannot kill service '%s' on %s/%s: %s", name, n->group->spec->name,
				  n->name, strerror(errno));
	fo_info(n->log, "killed service '%s' (process group %d) as a fault", name, (int)pid);
	return 0;
}

static int local_restart_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	struct lgroup *lg = n->group->impl;
	if (!lg)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	pthread_mutex_lock(&lg->lock);
	struct svc *s = find_svc(lg, n, name, NULL);
	struct kept_cmd *k = s && s->cmd ? keep_cmd(&s->cmd->c) : NULL;
	pthread_mutex_unlock(&lg->lock);
	if (!s)
		return fo_err_set(err, FO_ENOTFOUND, "no service '%s' on %s/%s", name, n->group->spec->name, n->name);
	if (!k)
		return fo_err_set(err, FO_EUNSUPPORTED,
				  "service '%s' on %s/%s was started by an earlier run: its command is not known", name,
				  n->group->spec->name, n->name);
	int rc = local_stop_service(n, name, err);
	if (!rc)
		rc = local_start_service(n, name, &k->c, err);
	free_kept(k);
	return rc;
}

/* ---- collecting files ---- */

/* True if path is root or inside it. */
static bool in_tree(const char *path, const char *root)
{
	size_t n = strlen(root);
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Copies from to to as `cp -a` would (fo_copy_tree), saying what failed. */
static int copy_tree(const char *from, const char *to, struct fo_err *err)
{
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_copy_tree(from, to, &failed);
	/* Reading failed when the path is in from (the deeper root, when one holds the other). */
	bool reading = in_tree(failed.s, from) && !(in_tree(failed.s, to) && strlen(to) > strlen(from));
	int rc = 0;
	if (e == ELOOP && reading)
		rc = fo_err_set(err, FO_EIO, "'%s' is nested too deep to collect", failed.s);
	else if (e && reading)
		rc = fo_err_set(err, e == ENOENT ? FO_ENOENT : FO_EIO, "cannot read '%s': %s", failed.s, strerror(e));
	else if (e)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", failed.s, strerror(e));
	fo_buf_release(&failed);
	return rc;
}

static int local_collect(struct fo_node *n, const char *path, const char *dest, struct fo_err *err)
{
	if (!n->dir)
		return fo_err_set(err, FO_EINVAL, "%s/%s has no folder", n->group->spec->name, n->name);
	if (!path || !*path || !dest || dest[0] != '/')
		return fo_err_set(err, FO_EINVAL, "collect needs a path and an absolute destination");
	struct fo_buf from = FO_BUF_INIT, parent = FO_BUF_INIT;
	if (path[0] == '/')
		fo_buf_adds(&from, path);
	else
		fo_buf_addf(&from, "%s/%s", n->dir, path);
	int rc = 0;
	struct stat st;
	if (lstat(from.s, &st) < 0) {
		rc = fo_err_set(err, FO_ENOENT, "nothing to collect at '%s' on %s/%s", path, n->group->spec->name,
				n->name);
	} else {
		fo_buf_adds(&parent, dest);
		char *slash = strrchr(parent.s, '/');
		if (slash && slash != parent.s) {
			*slash = '\0';
			rc = fo_mkdirs(parent.s, err);
		}
		if (!rc)
			rc = copy_tree(from.s, dest, err);
	}
	fo_buf_release(&from);
	fo_buf_release(&parent);
	return rc;
}

/* ---- process groups, for the node sampler ---- */

static int local_service_pids(struct fo_node *n, pid_t *out, size_t max)
{
	struct lgroup *lg = n->group->impl;
	if (!lg)
		return 0;
	size_t k = 0;
	pthread_mutex_lock(&lg->lock);
	for (size_t i = 0; i < lg->nsvcs; i++)
		if (lg->svcs[i]->node == n && k++ < max)
			out[k - 1] = lg->svcs[i]->pid;
	pthread_mutex_unlock(&lg->lock);
	return (int)(k < INT_MAX ? k : INT_MAX);
}

/* Groups with a live member (kill(-pgid, 0)), whose leader, if still there, is the
 * process recorded (a gone group's number may have been given to someone else). */
static int local_command_pids(struct fo_node *n, pid_t *out, size_t max)
{
	struct lgroup *lg = n->group->impl;
	if (!lg)
		return 0;
	size_t k = 0;
	pthread_mutex_lock(&lg->lock);
	for (size_t i = 0; i < lg->nprocs; i++) {
		const struct lproc *p = &lg->procs[i];
		if (p->node != n || (kill(-p->pid, 0) < 0 && errno == ESRCH))
			continue;
		uint64_t start = fo_proc_start_time(p->pid);
		if (start && start != p->start)
			continue;
		if (k++ < max)
			out[k - 1] = p->pid;
	}
	pthread_mutex_unlock(&lg->lock);
	return (int)(k < INT_MAX ? k : INT_MAX);
}

static const struct fo_provisioner_ops ops = {
	.reserve = local_reserve,
	.create = local_create,
	.prepare = local_prepare,
	.start = local_start,
	.stop = local_stop,
	.destroy = local_destroy,
	.check_state = local_check_state,
	.exec = local_exec,
	.start_service = local_start_service,
	.stop_service = local_stop_service,
	.collect = local_collect,
	.service_pids = local_service_pids,
	.command_pids = local_command_pids,
	.services = local_services,
	.kill_service = local_kill_service,
	.restart_service = local_restart_service,
};

static const struct fo_prop props[] = {
	{
		.name = "name",
		.description = "The name of the cluster, shown in logs and the ensemble summary, and the name a "
			       "cluster kept between runs (mark_for_reuse) is known by. Default: the group's name.",
		.type = FO_PT_STRING,
	},
	{
		.name = "artifact.location",
		.description = "Accepted so Fallout tests validate unchanged, and ignored: a node's files, "
			       "and so its artifacts, always live in the run's work area.",
		.type = FO_PT_STRING,
		.default_value = "/tmp/artifacts/",
	},
	{0},
};

const struct fo_component fo_provisioner_local = {
	.name = "local",
	.kind = FO_KIND_PROVISIONER,
	.summary = "run the nodes on this machine, each a folder with its own loopback address",
	.description =
		"Runs every node of the group on the machine fallout runs on. A node is a folder in "
		"the run's work area (its data, its logs, the files put on it) plus a loopback address "
		"of its own, 127.0.G.N (G numbers the group and N the node, both from 1), so every "
		"node can listen on its service's default port without clashing with its neighbours, "
		"and several clusters, or several runs, can share the machine. Commands run as the "
		"user running fallout, with the node's folder as the working directory.\n"
		"\n"
		"Needs nothing installed beyond the software under test; Linux routes the whole of "
		"127.0.0.0/8 to the loopback interface, so the addresses need no setup. A group may have "
		"at most 254 nodes (one loopback address each).\n"
		"\n"
		"Fallout compatibility: Fallout's `Local` (names are case-insensitive) runs commands on "
		"the Fallout server itself with every node sharing one address; tests written for it "
		"validate and run here unchanged. `artifact.location` is accepted and ignored.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    provisioner:\n"
		   "      name: local\n"
		   "  client: server\n",
	.props = props,
	.provisioner = &ops,
};
