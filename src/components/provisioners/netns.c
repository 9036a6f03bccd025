/*
 * netns.c: the `netns` provisioner. Its nodes live on this machine like `local` ones (a
 * folder each in the run's work area, services and commands run as processes of this
 * machine), but each node is also a network namespace of its own, with its own address,
 * interfaces and ports, so nodes talk over a real network that faults can cut or slow
 * down without touching the machine's own.
 *
 * It is `local` plus the namespaces: every hook calls the local provisioner's (folders,
 * services, commands, collect, clusters kept between runs) and adds what a namespace
 * needs. The node's address replaces the loopback one local claimed (that claim is kept
 * but unused), commands and services get cmd->netns (util/proc.h), and
 * FALLOUT_GROUP_ADDRESSES is passed with the command so it wins over local's.
 *
 * The network. A node of group block G, ordinal N, is namespace fo-<run>-<group>-<N>
 * with interface eth0 at 10.231.G.(N+1)/16. Its peer, fo<G>-<N>, is a port of bridge
 * fo-br in the hub: the namespace fo-hub, shared by every run of the machine (as loopback
 * is by local nodes), holding 10.231.0.1 on the bridge. Nothing is added to the machine's
 * own namespace. The thread that sets a group up (the run's own thread) joins the hub, so
 * fallout itself and every thread it starts from then on (configuration managers, load
 * drivers, the node sampler) reach the nodes at their addresses; it leaves the hub when the
 * run ends. G is claimed machine-wide with an flock on /run/fallout/netns/10.231.G.lock
 * (/run, not the state folder: the hub is shared by every fallout of the machine, whatever
 * its FALLOUT_STATE_DIR). The hub is made under an flock on /run/fallout/netns/hub.lock by
 * the first group that needs it, and removed by whoever finds it unused (no port, no
 * other fallout in it): see fo_ledger_release_hub.
 *
 * Names. /etc/netns/<namespace>/hosts, bind-mounted over /etc/hosts for every command,
 * lists every node of every netns group of the run as <group>-node<N> and <group>-<N>
 * (server-node0, server-0), and this machine's host name as the node's own address. It is
 * rewritten in place when a group comes or goes, so running services see the change.
 *
 * Everything is written in the run's ledger before it is made: namespaces (`netns`), the
 * hosts folders (`dir`), the hub (`hub`); destroy removes them, and so does `fallout
 * cleanup` after a killed run. A cluster kept between runs (mark_for_reuse) keeps its
 * namespaces and its block; STATE/clusters/NAME/netns lists them for the next run, which
 * adopts the cluster only if every namespace and the hub are still there.
 */
#include "util/common.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
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

extern const struct fo_component fo_provisioner_local;
extern const struct fo_component fo_provisioner_netns;

#define LOCAL (fo_provisioner_local.provisioner)

#define MAX_NODES 254
#define HUB "fo-hub"
#define BRIDGE "fo-br"
#define HUB_ADDRESS "10.231.0.1"
#define NODE_DEV "eth0"
#define CLAIMS_DIR "/run/fallout/netns"
#define HUB_LOCK CLAIMS_DIR "/hub.lock"
#define ETC_NETNS "/etc/netns"
#define IP_TIMEOUT_NS (60 * 1000000000LL)
#define NOT_ROOT_MSG "the netns provisioner needs root (CAP_NET_ADMIN): run as root, or use the local provisioner"

/* The provisioner's state for one group (g->impl is local's). */
struct ngroup {
	struct fo_rgroup *g;
	struct ngroup *next;     /* every group of this process (groups_lock) */
	const char *cluster;     /* the cluster's name when kept between runs (mark_for_reuse) */
	int gnum;                /* G of 10.231.G.N; 0 until claimed */
	int lock_fd;             /* the flock on the block */
	char **ns;               /* each node's namespace; NULL until named (create, adopt) */
	char *group_env;         /* "FALLOUT_GROUP_ADDRESSES=..." */
	bool made;               /* the namespaces exist (created, or adopted) */
};

static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ngroup *groups;

/* The network namespace this thread came from while it is in the hub, else -1. */
static _Thread_local int home_netns = -1;

/* ---- small helpers ---- */

static struct fo_ledger *ledger_of(struct ngroup *ng)
{
	return fo_run_ledger(ng->g->run);
}

static struct ngroup *find(const struct fo_rgroup *g)
{
	pthread_mutex_lock(&groups_lock);
	struct ngroup *ng = groups;
	while (ng && ng->g != g)
		ng = ng->next;
	pthread_mutex_unlock(&groups_lock);
	return ng;
}

/* True if this process holds CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, mounts). */
static bool may_manage_namespaces(void)
{
	struct fo_buf st = FO_BUF_INIT;
	bool ok = false;
	if (fo_buf_read_file(&st, "/proc/self/status", 1 << 16, NULL) == 0) {
		const char *p = strstr(st.s, "\nCapEff:");
		unsigned long long caps = 0;
		ok = p && sscanf(p + 8, "%llx", &caps) == 1 && (caps >> 12 & 1) && (caps >> 21 & 1);
	}
	fo_buf_release(&st);
	return ok;
}

/* True if network namespace name exists (`ip netns` keeps a file per namespace). */
static bool netns_exists(const char *name)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "/run/netns/%s", name);
	struct stat st;
	bool there = lstat(p.s, &st) == 0;
	fo_buf_release(&p);
	return there;
}

/*
 * Runs `ip [-n ns] -batch FILE` with lines (one command a line) in the run's work area,
 * logged to the group's log; with force, ip goes on after a line that fails. Returns 0,
 * or an error carrying what ip said.
 */
static int ip_batch(struct fo_rgroup *g, const char *ns, bool force, const char *lines, struct fo_err *err)
{
	const char *work = fo_run_work_dir(g->run);
	struct fo_buf file = FO_BUF_INIT, out = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_addf(&file, "%s/netns-%s-XXXXXX", work ? work : "/tmp", g->spec->name);
	int rc = 0;
	int fd = work && fo_mkdirs(work, NULL) == 0 ? mkostemp(file.s, O_CLOEXEC) : -1;
	if (fd < 0 || write(fd, lines, strlen(lines)) != (ssize_t)strlen(lines))
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", file.s, strerror(errno));
	if (fd >= 0)
		close(fd);
	fo_buf_addf(&out, "%s.out", file.s);
	if (!rc) {
		fo_info(g->log, "ip%s%s -batch:\n%s", ns ? " -n " : "", ns ? ns : "", lines);
		const char *argv[8] = {"ip"};
		size_t k = 1;
		if (ns) {
			argv[k++] = "-n";
			argv[k++] = ns;
		}
		if (force)
			argv[k++] = "-force";
		argv[k++] = "-batch";
		argv[k++] = file.s;
		struct fo_cmd cmd = {.argv = argv, .log_path = out.s, .timeout_ns = IP_TIMEOUT_NS};
		struct fo_cmd_result res = {0};
		rc = fo_proc_run(&cmd, NULL, NULL, &res, err);
		fo_buf_read_file(&text, out.s, 1 << 16, NULL);
		while (text.len && (text.s[text.len - 1] == '\n' || text.s[text.len - 1] == ' '))
			fo_buf_truncate(&text, text.len - 1);
		if (text.len)
			fo_info(g->log, "ip: %s", text.s);
		if (!rc && (res.exit_code != 0 || res.timed_out || res.aborted))
			rc = fo_err_set(err, FO_EIO, "ip%s%s failed%s%s", ns ? " -n " : "", ns ? ns : "",
					text.len ? ": " : "", text.len ? text.s : "");
	}
	if (fd >= 0)
		unlink(file.s);
	unlink(out.s);
	fo_buf_release(&file);
	fo_buf_release(&out);
	fo_buf_release(&text);
	return rc;
}

/* ---- the hub ---- */

/* Takes the hub's lock (blocking: its holders only run a few ip commands). */
static int lock_hub(void)
{
	fo_mkdir_p(CLAIMS_DIR, 0700, NULL);
	int fd = open(HUB_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	return fd;
}

static void unlock_hub(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Moves this thread into the hub (again, if the hub was made anew). Hub lock held. */
static int join_hub(struct fo_err *err)
{
	int hub = open("/run/netns/" HUB, O_RDONLY | O_CLOEXEC);
	if (hub < 0)
		return fo_err_set(err, FO_EIO, "cannot open the hub namespace '%s': %s", HUB, strerror(errno));
	struct stat want, now;
	bool inside = fstat(hub, &want) == 0 && stat("/proc/thread-self/ns/net", &now) == 0 &&
		      want.st_dev == now.st_dev && want.st_ino == now.st_ino;
	int rc = 0;
	if (!inside) {
		if (home_netns < 0)
			home_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home_netns < 0 || setns(hub, CLONE_NEWNET) < 0)
			rc = fo_err_set(err, FO_EIO, "cannot join the hub namespace '%s': %s", HUB, strerror(errno));
	}
	close(hub);
	return rc;
}

/* Brings this thread back to the namespace it came from. */
static void leave_hub(void)
{
	if (home_netns < 0)
		return;
	(void)setns(home_netns, CLONE_NEWNET);
	close(home_netns);
	home_netns = -1;
}

/* Makes the hub if it is missing (hub lock held). */
static int ensure_hub(struct fo_rgroup *g, struct fo_err *err)
{
	int rc = fo_ledger_hub(fo_run_ledger(g->run), HUB, HUB_LOCK);
	if (rc)
		return fo_err_set(err, rc, "cannot record the hub in the run's ledger");
	if (!netns_exists(HUB)) {
		rc = ip_batch(g, NULL, false, "netns add " HUB "\n", err);
		if (!rc)
			fo_info(g->log, "made the hub namespace %s", HUB);
	}
	/* A hub left half-made by a killed run has no bridge yet. */
	const char *argv[] = {"ip", "-n", HUB, "link", "show", BRIDGE, NULL};
	struct fo_cmd cmd = {.argv = argv, .timeout_ns = IP_TIMEOUT_NS};
	struct fo_cmd_result res = {0};
	if (!rc && (fo_proc_run(&cmd, NULL, NULL, &res, NULL) != 0 || res.exit_code != 0))
		rc = ip_batch(g, HUB, false,
			      "link set lo up\n"
			      "link add " BRIDGE " type bridge\n"
			      "addr add " HUB_ADDRESS "/16 dev " BRIDGE "\n"
			      "link set " BRIDGE " up\n",
			      err);
	return rc;
}

/* Removes the hub if nothing uses it any more. */
static void release_hub(struct fo_rgroup *g)
{
	struct fo_err err = {0};
	bool removed = false;
	if (fo_ledger_release_hub(g ? fo_run_ledger(g->run) : NULL, HUB, HUB_LOCK, &removed, &err) < 0 && g)
		fo_warn(g->log, "cannot remove the hub namespace: %s", err.msg);
	else if (removed && g)
		fo_info(g->log, "removed the hub namespace %s (no node uses it)", HUB);
}

/* ---- the address block ---- */

static void lock_path(int gnum, struct fo_buf *out)
{
	fo_buf_clear(out);
	fo_buf_addf(out, "%s/10.231.%d.lock", CLAIMS_DIR, gnum);
}

/* True if the lock file names a kept cluster other than ours whose folder exists. */
static bool held_by_kept_cluster(int fd, const char *ours)
{
	char text[PATH_MAX + 300];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return false;
	text[n] = '\0';
	char name[256], base[PATH_MAX];
	if (sscanf(text, "cluster %255s\nbase %4095[^\n]", name, base) != 2)
		return false;
	if (ours && strcmp(name, ours) == 0)
		return false;
	return fo_is_dir(base);
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
	struct fo_buf text = FO_BUF_INIT, base = FO_BUF_INIT;
	if (cluster && fo_cluster_path(cluster, &base) == 0)
		fo_buf_addf(&text, "cluster %s\nbase %s\n", cluster, base.s);
	else
		fo_buf_addf(&text, "pid %d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, text.s, text.len, 0);
	fo_buf_release(&text);
	fo_buf_release(&base);
	return fd;
}

static void release_block(struct ngroup *ng)
{
	if (ng->lock_fd >= 0) {
		(void)!ftruncate(ng->lock_fd, 0);
		close(ng->lock_fd);
	}
	ng->lock_fd = -1;
	ng->gnum = 0;
}

/* Gives the nodes their addresses in block G (over local's loopback ones). */
static void set_addresses(struct ngroup *ng)
{
	struct fo_rgroup *g = ng->g;
	struct fo_buf all = FO_BUF_INIT;
	fo_buf_adds(&all, "FALLOUT_GROUP_ADDRESSES=");
	for (size_t i = 0; i < g->n; i++) {
		snprintf(g->nodes[i].address, sizeof(g->nodes[i].address), "10.231.%d.%zu", ng->gnum, i + 1);
		fo_buf_addf(&all, "%s%s", i ? " " : "", g->nodes[i].address);
	}
	fo_free(ng->group_env);
	ng->group_env = fo_buf_detach(&all, NULL);
}

/* ---- names and hosts files ---- */

static void free_names(struct ngroup *ng)
{
	for (size_t i = 0; ng->ns && i < ng->g->n; i++)
		fo_free(ng->ns[i]);
	fo_free(ng->ns);
	ng->ns = NULL;
}

/* Names the namespaces fo-<run>-<group>-<N>: the run id's first 8 characters, the group
 * name in safe characters (at most 24). */
static void name_nodes(struct ngroup *ng)
{
	struct fo_rgroup *g = ng->g;
	free_names(ng);
	ng->ns = fo_calloc(g->n, sizeof(*ng->ns));
	struct fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++) {
		fo_buf_clear(&b);
		fo_buf_addf(&b, "fo-%.8s-", fo_run_id(g->run));
		for (const char *p = g->spec->name; *p && p - g->spec->name < 24; p++) {
			unsigned char c = (unsigned char)*p;
			bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
			fo_buf_addch(&b, ok ? (char)c : '_');
		}
		fo_buf_addf(&b, "-%zu", i);
		ng->ns[i] = fo_buf_detach(&b, NULL);
	}
}

/* The hosts file of node i of ng: every node of the run's netns groups. groups_lock held. */
static void hosts_text(struct ngroup *ng, size_t i, struct fo_buf *out)
{
	struct fo_run *r = ng->g->run;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	fo_buf_addf(out, "# written by fallout (netns provisioner) for %s/%s\n", ng->g->spec->name,
		    ng->g->nodes[i].name);
	fo_buf_adds(out, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (*host && !strchr(host, ' '))
		fo_buf_addf(out, "%s\t%s\n", ng->g->nodes[i].address, host);
	for (struct ngroup *o = groups; o; o = o->next) {
		if (o->g->run != r || !o->made)
			continue;
		for (size_t k = 0; k < o->g->n; k++)
			fo_buf_addf(out, "%s\t%s-%s %s-%zu\n", o->g->nodes[k].address, o->g->spec->name, o->g->nodes[k].name,
				    o->g->spec->name, k);
	}
}

/* Rewrites the hosts file of every node of every netns group of r that has namespaces, in
 * place (commands that run have it bind-mounted: a new file would not reach them). */
static void write_hosts(struct fo_run *r)
{
	pthread_mutex_lock(&groups_lock);
	struct fo_buf path = FO_BUF_INIT, text = FO_BUF_INIT;
	for (struct ngroup *o = groups; o; o = o->next) {
		if (o->g->run != r || !o->made || !o->ns)
			continue;
		for (size_t i = 0; i < o->g->n; i++) {
			fo_buf_clear(&path);
			fo_buf_clear(&text);
			fo_buf_addf(&path, "%s/%s/hosts", ETC_NETNS, o->ns[i]);
			hosts_text(o, i, &text);
			int fd = open(path.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0 || write(fd, text.s, text.len) != (ssize_t)text.len)
				fo_warn(o->g->log, "cannot write '%s': %s", path.s, strerror(errno));
			if (fd >= 0)
				close(fd);
		}
	}
	pthread_mutex_unlock(&groups_lock);
	fo_buf_release(&path);
	fo_buf_release(&text);
}

/* Makes /etc/netns/NS (recorded first). */
static int make_etc(struct ngroup *ng, const char *ns, struct fo_err *err)
{
	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/%s", ETC_NETNS, ns);
	int rc = fo_ledger_cluster_dir(ledger_of(ng), ng->cluster, dir.s);
	if (rc)
		rc = fo_err_set(err, rc, "cannot record '%s' in the run's ledger", dir.s);
	/* Another run may remove an empty /etc/netns between the two mkdirs: try again. */
	for (int tries = 0; !rc && tries < 5; tries++) {
		if (mkdir(ETC_NETNS, 0755) < 0 && errno != EEXIST)
			break;
		if (mkdir(dir.s, 0755) == 0 || errno == EEXIST)
			break;
		if (errno != ENOENT || tries == 4)
			rc = fo_err_set(err, FO_EIO, "cannot create '%s': %s", dir.s, strerror(errno));
	}
	fo_buf_release(&dir);
	return rc;
}

/* ---- the kept cluster's record ---- */

/* STATE/clusters/NAME/netns. */
static void record_path(const char *cluster, struct fo_buf *out)
{
	fo_cluster_path(cluster, out);
	fo_buf_adds(out, "/netns");
}

static void save_record(struct ngroup *ng)
{
	if (!ng->cluster || !ng->ns)
		return;
	struct fo_buf path = FO_BUF_INIT, dir = FO_BUF_INIT, text = FO_BUF_INIT;
	if (fo_cluster_dir(ng->cluster, &dir, NULL) == 0) {
		record_path(ng->cluster, &path);
		fo_buf_addf(&text, "group %d\n", ng->gnum);
		for (size_t i = 0; i < ng->g->n; i++)
			fo_buf_addf(&text, "ns %zu %s\n", i, ng->ns[i]);
		FILE *f = fopen(path.s, "we");
		if (!f || fwrite(text.s, 1, text.len, f) != text.len)
			fo_warn(ng->g->log, "cannot save the cluster's namespaces in '%s'", path.s);
		if (f)
			fclose(f);
	}
	fo_buf_release(&path);
	fo_buf_release(&dir);
	fo_buf_release(&text);
}

/* Reads the record into ng (gnum, ns). Returns false when missing or not for n nodes. */
static bool load_record(struct ngroup *ng, const char *cluster)
{
	struct fo_buf path = FO_BUF_INIT, text = FO_BUF_INIT;
	record_path(cluster, &path);
	bool ok = fo_buf_read_file(&text, path.s, 1 << 20, NULL) == 0;
	size_t n = ng->g->n, named = 0;
	free_names(ng);
	ng->ns = fo_calloc(n, sizeof(*ng->ns));
	int gnum = 0;
	for (char *line = ok ? text.s : NULL; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		int a = 0, off = 0;
		if (sscanf(line, "group %d", &a) == 1)
			gnum = a;
		else if (sscanf(line, "ns %d %n", &a, &off) == 1 && off > 0 && a >= 0 && (size_t)a < n &&
			 !ng->ns[a] && line[off] && !strchr(line + off, '/')) {
			ng->ns[a] = fo_strdup(line + off);
			named++;
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	fo_buf_release(&path);
	fo_buf_release(&text);
	if (!ok || named != n || gnum < 1 || gnum > MAX_NODES) {
		free_names(ng);
		return false;
	}
	ng->gnum = gnum;
	return true;
}

/* ---- the group's state ---- */

/* The end of the run: this thread leaves the hub, which goes if nothing uses it. */
static void at_close(void *data)
{
	struct ngroup *ng = data;
	leave_hub();
	release_hub(NULL);
	pthread_mutex_lock(&groups_lock);
	for (struct ngroup **p = &groups; *p; p = &(*p)->next)
		if (*p == ng) {
			*p = ng->next;
			break;
		}
	pthread_mutex_unlock(&groups_lock);
	if (ng->lock_fd >= 0)
		close(ng->lock_fd); /* a kept cluster's block stays held by its lock file's text */
	free_names(ng);
	fo_free(ng->group_env);
	fo_free(ng);
}

static struct ngroup *impl(struct fo_rgroup *g)
{
	struct ngroup *ng = find(g);
	if (ng)
		return ng;
	ng = fo_calloc(1, sizeof(*ng));
	ng->g = g;
	ng->lock_fd = -1;
	ng->cluster = g->spec->mark_for_reuse ? fo_cluster_name(g->spec) : NULL;
	pthread_mutex_lock(&groups_lock);
	ng->next = groups;
	groups = ng;
	pthread_mutex_unlock(&groups_lock);
	fo_ledger_at_close(fo_run_ledger(g->run), at_close, ng);
	return ng;
}

/* Removes the group's namespaces, their hub ports and hosts folders. */
static int remove_namespaces(struct ngroup *ng, struct fo_err *err)
{
	struct fo_rgroup *g = ng->g;
	if (!ng->ns)
		return 0;
	int rc = 0;
	struct fo_buf lines = FO_BUF_INIT, dir = FO_BUF_INIT;
	/* The hub's ends first: they go at once, where a namespace's own go a moment later.
	 * A port already gone (with its namespace) makes ip complain: that is fine. */
	for (size_t i = 0; i < g->n && ng->gnum; i++)
		fo_buf_addf(&lines, "link del fo%d-%zu\n", ng->gnum, i);
	int lock = lock_hub();
	if (lines.len && netns_exists(HUB))
		ip_batch(g, HUB, true, lines.s, NULL);
	unlock_hub(lock);
	pthread_mutex_lock(&groups_lock);
	ng->made = false;
	pthread_mutex_unlock(&groups_lock);
	for (size_t i = 0; i < g->n; i++) {
		if (!ng->ns[i])
			continue;
		struct fo_err e = {0};
		if (fo_ledger_remove_netns(ledger_of(ng), ng->ns[i], &e) < 0 && !rc)
			rc = fo_err_set(err, e.code, "%s", e.msg);
		fo_buf_clear(&dir);
		fo_buf_addf(&dir, "%s/%s", ETC_NETNS, ng->ns[i]);
		fo_err_clear(&e);
		if (fo_ledger_remove_dir(ledger_of(ng), dir.s, &e) < 0 && !rc)
			rc = fo_err_set(err, e.code, "%s", e.msg);
	}
	if (!rc)
		fo_info(g->log, "removed %zu network namespace%s", g->n, g->n == 1 ? "" : "s");
	fo_buf_release(&lines);
	fo_buf_release(&dir);
	release_hub(g);
	write_hosts(g->run);
	return rc;
}

/* ---- the steps ---- */

static int netns_reserve(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	if (!may_manage_namespaces())
		return fo_err_set(err, FO_EUNSUPPORTED, NOT_ROOT_MSG);
	if (g->n > MAX_NODES)
		return fo_err_set(err, FO_EINVAL,
				  "node group '%s' has %zu nodes; the netns provisioner gives each node an address "
				  "10.231.G.N and so runs at most %d",
				  g->spec->name, g->n, MAX_NODES);
	const char *argv[] = {"ip", "-V", NULL};
	struct fo_cmd cmd = {.argv = argv, .timeout_ns = IP_TIMEOUT_NS};
	struct fo_cmd_result res = {0};
	if (fo_proc_run(&cmd, NULL, NULL, &res, NULL) != 0 || res.exit_code != 0)
		return fo_err_set(err, FO_ENOENT,
				  "the netns provisioner needs the `ip` command (iproute2): install it, or use the local "
				  "provisioner");
	struct ngroup *ng = impl(g);
	int rc = LOCAL->reserve(g, props, err);
	if (rc)
		return rc;
	if (!ng->gnum) {
		fo_mkdir_p(CLAIMS_DIR, 0700, NULL);
		for (int gnum = 1; gnum <= MAX_NODES && ng->lock_fd < 0; gnum++) {
			ng->lock_fd = try_claim(gnum, ng->cluster);
			if (ng->lock_fd >= 0)
				ng->gnum = gnum;
		}
		if (!ng->gnum)
			return fo_err_set(err, FO_EIO,
					  "no free address block for node group '%s': 10.231.1.0 to 10.231.254.0 are all "
					  "taken by other groups",
					  g->spec->name);
	}
	set_addresses(ng);
	fo_info(g->log, "reserved addresses 10.231.%d.1 to 10.231.%d.%zu (network namespaces, hub %s)", ng->gnum,
		ng->gnum, g->n, HUB);
	return 0;
}

/* Removes the ports of block G that a killed run left in the hub (hub lock held): they
 * are in the way of ours, and their namespaces are garbage awaiting `fallout cleanup`. */
static void clear_stale_ports(struct ngroup *ng)
{
	const char *show[] = {"ip", "-n", HUB, "-o", "link", "show", NULL};
	struct fo_buf links = FO_BUF_INIT, stale = FO_BUF_INIT, want = FO_BUF_INIT;
	struct fo_cmd cmd = {.argv = show, .capture = &links, .timeout_ns = IP_TIMEOUT_NS};
	struct fo_cmd_result res = {0};
	fo_proc_run(&cmd, NULL, NULL, &res, NULL);
	for (size_t i = 0; i < ng->g->n && links.s; i++) {
		fo_buf_clear(&want);
		fo_buf_addf(&want, ": fo%d-%zu@", ng->gnum, i);
		if (strstr(links.s, want.s))
			fo_buf_addf(&stale, "link del fo%d-%zu\n", ng->gnum, i);
	}
	if (stale.len) {
		fo_warn(ng->g->log, "removing ports a killed run left in the hub");
		ip_batch(ng->g, HUB, true, stale.s, NULL);
	}
	fo_buf_release(&links);
	fo_buf_release(&stale);
	fo_buf_release(&want);
}

static int netns_create(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct ngroup *ng = impl(g);
	if (!ng->gnum)
		return fo_err_set(err, FO_EINVAL, "node group '%s' has no addresses (not reserved)", g->spec->name);
	int rc = LOCAL->create(g, props, err);
	if (rc)
		return rc;
	name_nodes(ng);
	struct fo_buf add = FO_BUF_INIT, hub = FO_BUF_INIT, node = FO_BUF_INIT;
	for (size_t i = 0; i < g->n && !rc; i++) {
		if (fo_ledger_netns(ledger_of(ng), ng->cluster, ng->ns[i]) != 0)
			rc = fo_err_set(err, FO_EIO, "cannot record network namespace '%s' in the run's ledger", ng->ns[i]);
		if (!rc)
			rc = make_etc(ng, ng->ns[i], err);
		fo_buf_addf(&add, "netns add %s\n", ng->ns[i]);
		fo_buf_addf(&hub, "link add fo%d-%zu type veth peer name %s netns %s\n", ng->gnum, i, NODE_DEV, ng->ns[i]);
		fo_buf_addf(&hub, "link set fo%d-%zu master %s up\n", ng->gnum, i, BRIDGE);
	}
	if (!rc)
		rc = ip_batch(g, NULL, false, add.s, err);
	if (!rc) {
		int lock = lock_hub();
		rc = ensure_hub(g, err);
		if (!rc)
			rc = join_hub(err);
		if (!rc) {
			clear_stale_ports(ng);
			rc = ip_batch(g, HUB, false, hub.s, err);
		}
		unlock_hub(lock);
	}
	for (size_t i = 0; i < g->n && !rc; i++) {
		fo_buf_clear(&node);
		fo_buf_addf(&node, "link set lo up\naddr add %s/16 dev %s\nlink set %s up\n", g->nodes[i].address,
			    NODE_DEV, NODE_DEV);
		rc = ip_batch(g, ng->ns[i], false, node.s, err);
		if (!rc)
			fo_info(g->nodes[i].log, "network namespace %s, address %s on %s", ng->ns[i], g->nodes[i].address,
				NODE_DEV);
	}
	if (!rc) {
		pthread_mutex_lock(&groups_lock);
		ng->made = true;
		pthread_mutex_unlock(&groups_lock);
		write_hosts(g->run);
		save_record(ng);
		fo_info(g->log, "made %zu network namespace%s on hub %s", g->n, g->n == 1 ? "" : "s", HUB);
	}
	fo_buf_release(&add);
	fo_buf_release(&hub);
	fo_buf_release(&node);
	return rc;
}

/* True if every namespace of the group is there. */
static bool all_there(struct ngroup *ng, struct fo_buf *why)
{
	if (!ng->ns) {
		fo_buf_adds(why, "it has no network namespaces");
		return false;
	}
	if (!netns_exists(HUB)) {
		fo_buf_addf(why, "the hub namespace %s is gone", HUB);
		return false;
	}
	for (size_t i = 0; i < ng->g->n; i++)
		if (!ng->ns[i] || !netns_exists(ng->ns[i])) {
			fo_buf_addf(why, "network namespace %s is gone", ng->ns[i] ? ng->ns[i] : "?");
			return false;
		}
	return true;
}

static int netns_prepare(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	struct ngroup *ng = find(g);
	struct fo_buf why = FO_BUF_INIT;
	int rc = LOCAL->prepare(g, props, err);
	if (!rc && (!ng || !all_there(ng, &why)))
		rc = fo_err_set(err, FO_ENOENT, "node group '%s': %s", g->spec->name, why.len ? why.s : "not created");
	fo_buf_release(&why);
	return rc;
}

static int netns_start(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	int rc = netns_prepare(g, props, err);
	return rc ? rc : LOCAL->start(g, props, err);
}

static int netns_stop(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	return LOCAL->stop(g, props, err);
}

static int netns_destroy(struct fo_rgroup *g, const struct fo_propset *props, struct fo_err *err)
{
	/* local's destroy stops every process first: then the namespaces are empty */
	int rc = LOCAL->destroy(g, props, err);
	struct ngroup *ng = find(g);
	if (ng) {
		int e = remove_namespaces(ng, err);
		rc = rc ? rc : e;
		free_names(ng);
		if (!rc)
			release_block(ng);
	}
	return rc;
}

/* A kept cluster that local adopted: are its namespaces there too? Adopts them, or takes
 * the cluster down. Returns the state found. */
static enum fo_runlevel adopt(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel found)
{
	const char *cluster = fo_cluster_name(g->spec);
	struct ngroup *ng = impl(g);
	struct fo_buf why = FO_BUF_INIT;
	struct fo_err err = {0};
	bool whole = load_record(ng, cluster);
	if (!whole)
		fo_buf_adds(&why, "the record of its network namespaces is missing or unreadable");
	else
		whole = all_there(ng, &why);
	if (whole) {
		ng->lock_fd = try_claim(ng->gnum, cluster);
		if (ng->lock_fd < 0) {
			fo_buf_addf(&why, "its addresses 10.231.%d.* are in use (another run has the cluster?)", ng->gnum);
			whole = false;
		}
	}
	if (whole) {
		int lock = lock_hub();
		whole = fo_ledger_hub(ledger_of(ng), HUB, HUB_LOCK) == 0 && netns_exists(HUB) && join_hub(&err) == 0;
		unlock_hub(lock);
		if (!whole)
			fo_buf_addf(&why, "cannot join the hub: %s", err.msg);
	}
	if (whole) {
		ng->cluster = cluster;
		set_addresses(ng);
		pthread_mutex_lock(&groups_lock);
		ng->made = true;
		pthread_mutex_unlock(&groups_lock);
		write_hosts(g->run);
		fo_info(g->log, "cluster '%s': %zu network namespace%s at 10.231.%d.*", cluster, g->n, g->n == 1 ? "" : "s",
			ng->gnum);
	} else {
		fo_info(g->log, "cluster '%s' kept by an earlier run is not whole (%s): taking it down", cluster, why.s);
		fo_err_clear(&err);
		LOCAL->destroy(g, props, &err);
		if (ng->ns)
			remove_namespaces(ng, &err);
		free_names(ng);
		release_block(ng);
		found = FO_RL_DESTROYED;
	}
	fo_buf_release(&why);
	return found;
}

static int netns_check_state(struct fo_rgroup *g, const struct fo_propset *props, enum fo_runlevel *out,
			     struct fo_err *err)
{
	struct ngroup *ng = find(g);
	bool adopting = !ng && !g->impl;
	int rc = LOCAL->check_state(g, props, out, err);
	if (rc)
		return rc;
	if (adopting) {
		/* local found a kept cluster of this name and adopted it */
		if (*out != FO_RL_DESTROYED && *out != FO_RL_UNKNOWN)
			*out = adopt(g, props, *out);
		return 0;
	}
	if (ng && *out > FO_RL_RESERVED) {
		struct fo_buf why = FO_BUF_INIT;
		if (!all_there(ng, &why))
			*out = FO_RL_RESERVED;
		fo_buf_release(&why);
	}
	return 0;
}

/* ---- commands and services ---- */

/* n's group, when n's namespace is made; else NULL with err set. */
static struct ngroup *made_group(struct fo_node *n, struct fo_err *err)
{
	struct ngroup *ng = find(n->group);
	if (!ng || !ng->ns || !ng->ns[n->ordinal] || !ng->made) {
		fo_err_set(err, FO_EINVAL, "%s/%s has no network namespace yet (the group is not created)",
			   n->group->spec->name, n->name);
		return NULL;
	}
	return ng;
}

/* cmd, to run in n's namespace with the group's addresses. env is owned by the caller. */
static int in_namespace(struct fo_node *n, const struct fo_cmd *cmd, struct fo_cmd *out, const char ***env,
			struct fo_err *err)
{
	struct ngroup *ng = made_group(n, err);
	if (!ng)
		return FO_EINVAL;
	if (!cmd)
		return fo_err_set(err, FO_EINVAL, "no command to run on %s/%s", n->group->spec->name, n->name);
	size_t extra = 0;
	while (cmd->env && cmd->env[extra])
		extra++;
	*env = fo_calloc(extra + 2, sizeof(**env));
	(*env)[0] = ng->group_env;
	for (size_t i = 0; i < extra; i++)
		(*env)[i + 1] = cmd->env[i];
	*out = *cmd;
	out->env = *env;
	out->netns = ng->ns[n->ordinal];
	return 0;
}

static int netns_exec(struct fo_node *n, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err)
{
	struct fo_cmd c;
	const char **env = NULL;
	int rc = in_namespace(n, cmd, &c, &env, err);
	if (!rc)
		rc = LOCAL->exec(n, &c, res, err);
	fo_free(env);
	return rc;
}

static int netns_start_service(struct fo_node *n, const char *name, const struct fo_cmd *cmd, struct fo_err *err)
{
	struct fo_cmd c;
	const char **env = NULL;
	int rc = in_namespace(n, cmd, &c, &env, err);
	if (!rc)
		rc = LOCAL->start_service(n, name, &c, err);
	fo_free(env);
	return rc;
}

static int netns_stop_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	return LOCAL->stop_service(n, name, err);
}

static int netns_collect(struct fo_node *n, const char *path, const char *dest, struct fo_err *err)
{
	return LOCAL->collect(n, path, dest, err);
}

static int netns_service_pids(struct fo_node *n, pid_t *out, size_t max)
{
	return LOCAL->service_pids(n, out, max);
}

static int netns_command_pids(struct fo_node *n, pid_t *out, size_t max)
{
	return LOCAL->command_pids(n, out, max);
}

static int netns_services(struct fo_node *n, void (*fn)(void *ctx, const char *name, pid_t pgid), void *ctx)
{
	return LOCAL->services(n, fn, ctx);
}

static int netns_kill_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	return LOCAL->kill_service(n, name, err);
}

/* local restarts with the command it was given, which names the namespace. */
static int netns_restart_service(struct fo_node *n, const char *name, struct fo_err *err)
{
	return LOCAL->restart_service(n, name, err);
}

static int netns_network(struct fo_node *n, struct fo_buf *netns, struct fo_buf *dev, struct fo_err *err)
{
	struct ngroup *ng = made_group(n, err);
	if (!ng)
		return FO_EINVAL;
	fo_buf_clear(netns);
	fo_buf_adds(netns, ng->ns[n->ordinal]);
	fo_buf_clear(dev);
	fo_buf_adds(dev, NODE_DEV);
	return 0;
}

static const struct fo_provisioner_ops ops = {
	.reserve = netns_reserve,
	.create = netns_create,
	.prepare = netns_prepare,
	.start = netns_start,
	.stop = netns_stop,
	.destroy = netns_destroy,
	.check_state = netns_check_state,
	.exec = netns_exec,
	.start_service = netns_start_service,
	.stop_service = netns_stop_service,
	.collect = netns_collect,
	.service_pids = netns_service_pids,
	.command_pids = netns_command_pids,
	.services = netns_services,
	.kill_service = netns_kill_service,
	.restart_service = netns_restart_service,
	.network = netns_network,
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

const struct fo_component fo_provisioner_netns = {
	.name = "netns",
	.kind = FO_KIND_PROVISIONER,
	.summary = "run the nodes on this machine, each in a network namespace of its own (needs root)",
	.description =
		"Runs every node of the group on the machine fallout runs on, like `local` (a folder in "
		"the run's work area, commands and services as processes of this machine), but each "
		"node is also a Linux network namespace with an address of its own, 10.231.G.N (G "
		"numbers the group machine-wide, N the node from 1), on interface eth0. The nodes' "
		"interfaces are ports of one bridge in a hub namespace, fo-hub, shared by the runs of "
		"the machine: nodes talk over a real network that network faults (partition, throttle) "
		"can cut or slow down, and nothing is added to the machine's own network. Fallout itself "
		"joins the hub while the run lasts, so configuration managers and load drivers reach the "
		"nodes at their addresses.\n"
		"\n"
		"Commands and services run inside the node's namespace, as `ip netns exec` would run "
		"them, with the node's folder as the working directory and the same variables as on "
		"`local` (FALLOUT_NODE_ADDRESS is the namespace's address). Every node can reach every "
		"node of the run's netns groups by name: `<group>-node<N>` and `<group>-<N>` "
		"(server-node0, server-0), through /etc/netns/<namespace>/hosts. Services must listen "
		"on the node's address (the redis, etcd, postgresql and script configuration managers "
		"do), so a definition written for `local` runs unchanged on `netns`.\n"
		"\n"
		"Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and the `ip` command (iproute2); checking "
		"a definition needs neither. Namespaces are recorded in the run's ledger before they "
		"are made: teardown removes them, and `fallout cleanup` removes those of a killed run. "
		"A group has at most 254 nodes; all netns groups of a run share the hub, so a run's "
		"groups should all be netns (a netns node cannot reach a local node's loopback address).",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    provisioner:\n"
		   "      name: netns\n"
		   "  client: server\n",
	.props = props,
	.provisioner = &ops,
};
