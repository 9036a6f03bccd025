/*
 * ledger.c: the run's ledger (ledger.h): a text file appended (written, not fsynced: see
 * append) before anything is started or created, read back to undo it all at teardown, or
 * by `fallout cleanup` after the run was killed. The file is the truth: undoing reads it,
 * never an in-memory copy, so the run itself and a later cleanup take the same path.
 *
 * Lines (PATH is the rest of the line; paths with a newline are refused):
 *   dir PATH                       proc PID PGID START
 *   cluster NAME dir PATH          cluster NAME proc PID PGID START
 *   gone dir PATH                  gone proc PGID
 *   nft NETNS TABLE                tc NETNS DEV              stopped PGID START
 *   gone nft NETNS TABLE           gone tc NETNS DEV         gone stopped PGID
 *   netns NAME                     cluster NAME netns NS     gone netns NAME
 *   hub NAME LOCK                  gone hub NAME
 *   ssh HOST PORT USER AUTH procs DIR | dir PATH, and gone ssh ...: remote (util/ssh.c)
 * `cluster` entries belong to a cluster kept between runs (mark_for_reuse): the run's own
 * fo_ledger_undo_all leaves them to the provisioner, and cleanup of a dead run undoes them.
 * Faults (nft, tc, stopped) are healed first, before any process group is killed: a
 * stopped group is continued, an nftables table or a qdisc deleted by running nft or tc in
 * the namespace (a namespace that is gone took them with it).
 *
 * Network namespaces (the netns provisioner's nodes) go after the process groups and
 * before the folders: what is still inside one is SIGKILLed (a daemon that left its
 * process group), then the namespace is unmounted and its file removed, as `ip netns del`
 * does. A hub is a namespace shared by runs: it goes only when, under an flock on LOCK,
 * it holds no interface but loopback and bridges and no other process has a thread in it.
 *
 * Killing is careful. A process group is killed only if its leader is still the process
 * recorded (same pid, same start time), or if the leader is gone but the group still has
 * members (a group id is not reused while the group exists, and a new process with that
 * pid would have a different start time). Removing is careful too: absolute paths only,
 * never "/", a top-level folder, the state folder, the home folder or one of their
 * ancestors (checked here); symbolic links are removed, never followed; other file
 * systems are not entered (the walk itself is fo_remove_tree, util/fs.h).
 *
 * Also here: the state folder, and the record of clusters kept between runs
 * (STATE/clusters/NAME/), shared by the engine and the provisioners.
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/ledger.h"
#include "spec/definition.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/ssh.h"
#include "util/strutil.h"

#define TERM_GRACE_NS (2 * 1000000000LL)
#define KILL_WAIT_NS (5 * 1000000000LL)
#define POLL_NS (5 * 1000000LL)

/* ---- the state folder ---- */

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static char state_dir[PATH_MAX];

const char *fo_state_dir(void)
{
	char want[PATH_MAX];
	const char *env = getenv("FALLOUT_STATE_DIR");
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (env && *env)
		snprintf(want, sizeof(want), "%s", env);
	else if (xdg && xdg[0] == '/')
		snprintf(want, sizeof(want), "%s/fallout", xdg);
	else
		snprintf(want, sizeof(want), "%s/.local/state/fallout", home && *home ? home : "/tmp");
	size_t len = strlen(want);
	while (len > 1 && want[len - 1] == '/')
		want[--len] = '\0';
	pthread_mutex_lock(&state_lock);
	if (strcmp(state_dir, want) != 0) {
		memcpy(state_dir, want, len + 1);
		fo_mkdir_p(state_dir, 0700, NULL);
	}
	pthread_mutex_unlock(&state_lock);
	return state_dir;
}

int fo_state_subdir(const char *name, struct fo_buf *out, struct fo_err *err)
{
	fo_buf_clear(out);
	fo_buf_addf(out, "%s/%s", fo_state_dir(), name);
	int e = fo_mkdir_p(out->s, 0700, NULL);
	if (e)
		return fo_err_set(err, FO_EIO, "cannot create '%s': %s", out->s, strerror(e));
	return 0;
}

/* ---- safe removal ---- */

/* True if a is b or an ancestor of b (both absolute, no trailing slash). */
static bool is_ancestor_or_same(const char *a, const char *b)
{
	size_t n = strlen(a);
	if (n == 1 && a[0] == '/')
		return true;
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* Checks that path is one we may remove. Returns 0 or FO_EINVAL with the reason. */
static int check_removable(const char *path, struct fo_err *err)
{
	if (path[0] != '/')
		return fo_err_set(err, FO_EINVAL, "refusing to remove '%s': not an absolute path", path);
	int depth = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return fo_err_set(err, FO_EINVAL, "refusing to remove '%s': '.' or '..' in the path", path);
		depth++;
		p += n;
	}
	if (depth < 2)
		return fo_err_set(err, FO_EINVAL, "refusing to remove '%s': too close to the root", path);
	char norm[PATH_MAX];
	snprintf(norm, sizeof(norm), "%s", path);
	size_t len = strlen(norm);
	while (len > 1 && norm[len - 1] == '/')
		norm[--len] = '\0';
	const char *home = getenv("HOME");
	const char *guarded[] = {fo_state_dir(), home && home[0] == '/' ? home : NULL};
	for (size_t i = 0; i < FO_ARRAY_LEN(guarded); i++)
		if (guarded[i] && is_ancestor_or_same(norm, guarded[i]))
			return fo_err_set(err, FO_EINVAL, "refusing to remove '%s': it holds '%s'", path, guarded[i]);
	return 0;
}

/* Removes the folder at path and everything in it. Returns 1 if it was removed, 0 if
 * there was nothing to remove, or an error. */
static int remove_tree(const char *path, struct fo_err *err)
{
	int rc = check_removable(path, err);
	if (rc)
		return rc;
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return fo_err_set(err, FO_EIO, "cannot remove '%s': %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return fo_err_set(err, FO_EINVAL, "refusing to remove '%s': not a folder", path);
	int e = fo_remove_tree(path, true, NULL);
	if (e)
		return fo_err_set(err, FO_EIO, "cannot remove '%s': %s", path, strerror(e));
	/* ip-netns keeps a namespace's own /etc files in /etc/netns/NAME: the folder goes
	 * with the last of them (rmdir fails while another is left). */
	if (fo_starts_with(path, "/etc/netns/") && !strchr(path + 11, '/'))
		rmdir("/etc/netns");
	return 1;
}

/* ---- the ledger ---- */

struct at_close {
	void (*fn)(void *data);
	void *data;
};

struct fo_ledger {
	pthread_mutex_t lock;
	int fd;                    /* the ledger file, appended */
	char *path;                /* its absolute path */
	char *active;              /* STATE/active/<run id> */
	bool failed;               /* a write failed */
	struct at_close *at_close; /* run by fo_ledger_close, newest first */
	size_t nat_close, at_close_cap;
};

/* Appends one line: "cluster CLUSTER " (when cluster is not NULL), then fmt's text. */
static int append(struct fo_ledger *l, const char *cluster, const char *fmt, ...) FO_PRINTF(3, 4);
static int append(struct fo_ledger *l, const char *cluster, const char *fmt, ...)
{
	if (!l)
		return FO_EINVAL;
	struct fo_buf line = FO_BUF_INIT;
	if (cluster)
		fo_buf_addf(&line, "cluster %s ", cluster);
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&line, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&l->lock);
	int rc = fo_write_all(l->fd, line.s, line.len) ? FO_EIO : 0;
	/* No fsync: a write() that returned is in the page cache and survives the death of
	 * this process (kill -9), which is what the ledger is for; a machine that loses power
	 * loses the processes too. fsync here cost ~20 ms per run. */
	if (rc)
		l->failed = true;
	pthread_mutex_unlock(&l->lock);
	fo_buf_release(&line);
	return rc;
}

static bool valid_path(const char *path)
{
	return path && path[0] == '/' && !strchr(path, '\n');
}

static bool valid_name(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == ' ' || *p == '\n' || *p == '/')
			return false;
	return true;
}

/* Writes "PID START LEDGER\n" to path atomically. */
static int write_active(const char *path, const char *ledger, struct fo_err *err)
{
	struct fo_buf tmp = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	fo_buf_addf(&text, "%d %llu %s\n", (int)getpid(), (unsigned long long)fo_proc_start_time(getpid()), ledger);
	int rc = 0;
	int fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text.s, text.len) != (ssize_t)text.len || fsync(fd) < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", tmp.s, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	if (!rc && rename(tmp.s, path) < 0)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (rc)
		unlink(tmp.s);
	fo_buf_release(&tmp);
	fo_buf_release(&text);
	return rc;
}

struct fo_ledger *fo_ledger_open(const char *path, const char *run_id, struct fo_err *err)
{
	if (!valid_name(run_id) || strcmp(run_id, ".") == 0 || strcmp(run_id, "..") == 0) {
		fo_err_set(err, FO_EINVAL, "invalid run id '%s'", run_id ? run_id : "");
		return NULL;
	}
	if (!path || strchr(path, '\n')) {
		fo_err_set(err, FO_EINVAL, "invalid ledger path");
		return NULL;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fo_err_set(err, FO_EIO, "cannot open ledger '%s': %s", path, strerror(errno));
		return NULL;
	}
	char *abs = realpath(path, NULL);
	struct fo_buf active = FO_BUF_INIT;
	if (!abs || fo_state_subdir("active", &active, err) < 0) {
		if (!abs)
			fo_err_set(err, FO_EIO, "cannot resolve '%s': %s", path, strerror(errno));
		free(abs);
		close(fd);
		fo_buf_release(&active);
		return NULL;
	}
	fo_buf_addf(&active, "/%s", run_id);
	if (write_active(active.s, abs, err) < 0) {
		free(abs);
		close(fd);
		fo_buf_release(&active);
		return NULL;
	}
	struct fo_ledger *l = fo_calloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->fd = fd;
	l->path = fo_strdup(abs);
	free(abs);
	l->active = fo_buf_detach(&active, NULL);
	return l;
}

int fo_ledger_dir(struct fo_ledger *l, const char *path)
{
	return fo_ledger_cluster_dir(l, NULL, path);
}

int fo_ledger_proc(struct fo_ledger *l, pid_t pid, pid_t pgid)
{
	return fo_ledger_cluster_proc(l, NULL, pid, pgid);
}

int fo_ledger_cluster_dir(struct fo_ledger *l, const char *cluster, const char *path)
{
	if (!valid_path(path) || (cluster && !valid_name(cluster)))
		return FO_EINVAL;
	return append(l, cluster, "dir %s\n", path);
}

int fo_ledger_cluster_proc(struct fo_ledger *l, const char *cluster, pid_t pid, pid_t pgid)
{
	if (pid <= 1 || pgid <= 1 || (cluster && !valid_name(cluster)))
		return FO_EINVAL;
	return append(l, cluster, "proc %d %d %llu\n", (int)pid, (int)pgid,
		      (unsigned long long)fo_proc_start_time(pid));
}

int fo_ledger_gone_dir(struct fo_ledger *l, const char *path)
{
	if (!valid_path(path))
		return FO_EINVAL;
	return append(l, NULL, "gone dir %s\n", path);
}

int fo_ledger_gone_proc(struct fo_ledger *l, pid_t pgid)
{
	return append(l, NULL, "gone proc %d\n", (int)pgid);
}

/* ---- remote entries (the ssh provisioner's; read back and undone by util/ssh.c) ---- */

static int ssh_line(struct fo_ledger *l, bool gone, const char *target, const char *what)
{
	if (!target || !what || strchr(target, '\n') || strchr(what, '\n'))
		return FO_EINVAL;
	return append(l, NULL, "%sssh %s %s\n", gone ? "gone " : "", target, what);
}

int fo_ledger_ssh(struct fo_ledger *l, const char *target, const char *what)
{
	return ssh_line(l, false, target, what);
}

int fo_ledger_gone_ssh(struct fo_ledger *l, const char *target, const char *what)
{
	return ssh_line(l, true, target, what);
}

/* ---- faults ---- */

static int fault_line(struct fo_ledger *l, bool gone, const char *kind, const char *netns, const char *name)
{
	if (!valid_name(netns) || !valid_name(name))
		return FO_EINVAL;
	return append(l, NULL, "%s%s %s %s\n", gone ? "gone " : "", kind, netns, name);
}

int fo_ledger_nft(struct fo_ledger *l, const char *netns, const char *table)
{
	return fault_line(l, false, "nft", netns, table);
}

int fo_ledger_tc(struct fo_ledger *l, const char *netns, const char *dev)
{
	return fault_line(l, false, "tc", netns, dev);
}

int fo_ledger_gone_nft(struct fo_ledger *l, const char *netns, const char *table)
{
	return fault_line(l, true, "nft", netns, table);
}

int fo_ledger_gone_tc(struct fo_ledger *l, const char *netns, const char *dev)
{
	return fault_line(l, true, "tc", netns, dev);
}

int fo_ledger_stopped(struct fo_ledger *l, pid_t pgid)
{
	if (pgid <= 1)
		return FO_EINVAL;
	return append(l, NULL, "stopped %d %llu\n", (int)pgid, (unsigned long long)fo_proc_start_time(pgid));
}

int fo_ledger_gone_stopped(struct fo_ledger *l, pid_t pgid)
{
	return append(l, NULL, "gone stopped %d\n", (int)pgid);
}

/* ---- network namespaces ---- */

#define NS_POLL_NS (20 * 1000000LL)

/* A name `ip netns` may use: one word, never "." or "..". */
static bool valid_netns(const char *name)
{
	return valid_name(name) && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) < NAME_MAX;
}

int fo_ledger_netns(struct fo_ledger *l, const char *cluster, const char *name)
{
	if (!valid_netns(name) || (cluster && !valid_name(cluster)))
		return FO_EINVAL;
	return append(l, cluster, "netns %s\n", name);
}

int fo_ledger_hub(struct fo_ledger *l, const char *name, const char *lock)
{
	if (!valid_netns(name) || !valid_path(lock) || strchr(lock, ' '))
		return FO_EINVAL;
	return append(l, NULL, "hub %s %s\n", name, lock);
}

static int gone_ns(struct fo_ledger *l, const char *kind, const char *name)
{
	if (!l)
		return 0;
	return append(l, NULL, "gone %s %s\n", kind, name);
}

static void ns_nap(void)
{
	struct timespec ts = {0, NS_POLL_NS};
	nanosleep(&ts, NULL);
}

/*
 * Counts the processes other than this one with a thread inside the network namespace
 * whose file is path (/proc/PID/task/TID/ns/net is the same file); with kill_them each
 * is sent SIGKILL. Returns the count, or -1 when path cannot be read.
 */
static int procs_in_netns(const char *path, bool kill_them)
{
	struct stat ns;
	if (stat(path, &ns) < 0)
		return -1;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int found = 0;
	pid_t self = getpid();
	struct dirent *de;
	while ((de = readdir(d))) {
		int64_t pid;
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !fo_parse_i64(de->d_name, &pid) || pid <= 1 ||
		    pid > INT_MAX || pid == self)
			continue;
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/task", (int)pid);
		DIR *t = opendir(p);
		if (!t)
			continue;
		bool inside = false;
		struct dirent *te;
		while (!inside && (te = readdir(t))) {
			if (te->d_name[0] == '.')
				continue;
			char q[320];
			snprintf(q, sizeof(q), "/proc/%d/task/%s/ns/net", (int)pid, te->d_name);
			struct stat st;
			inside = stat(q, &st) == 0 && st.st_dev == ns.st_dev && st.st_ino == ns.st_ino;
		}
		closedir(t);
		if (!inside)
			continue;
		found++;
		if (kill_them)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
	return found;
}

/* A look inside a namespace from a thread of its own (setns moves only that thread). */
struct ports_probe {
	const char *path;
	int result;  /* 1: an interface other than loopback and bridges; 0: none; -1: cannot tell */
};

static void *probe_ports(void *arg)
{
	struct ports_probe *p = arg;
	p->result = -1;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	int ok = setns(fd, CLONE_NEWNET);
	close(fd);
	if (ok < 0)
		return NULL;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* a socket of that namespace */
	struct if_nameindex *ifs = sock >= 0 ? if_nameindex() : NULL;
	if (ifs) {
		p->result = 0;
		for (struct if_nameindex *i = ifs; i->if_index && p->result == 0; i++) {
			if (strcmp(i->if_name, "lo") == 0)
				continue;
			struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
			struct ifreq ifr;
			memset(&ifr, 0, sizeof(ifr));
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
			ifr.ifr_data = (void *)&info;
			bool bridge = ioctl(sock, SIOCETHTOOL, &ifr) == 0 && strcmp(info.driver, "bridge") == 0;
			if (!bridge)
				p->result = 1;
		}
		if_freenameindex(ifs);
	}
	if (sock >= 0)
		close(sock);
	return NULL;
}

/* 1 if the namespace at path holds an interface other than loopback and bridges, 0 if
 * not, -1 when it cannot tell. */
static int netns_has_ports(const char *path)
{
	struct ports_probe p = {path, -1};
	pthread_t t;
	if (pthread_create(&t, NULL, probe_ports, &p) != 0)
		return -1;
	pthread_join(t, NULL);
	return p.result;
}

/* Unmounts and removes a namespace's file, as `ip netns del` does. */
static int drop_netns_file(const char *path, const char *name, struct fo_err *err)
{
	umount2(path, MNT_DETACH); /* fails harmlessly for a file never mounted on */
	if (unlink(path) < 0 && errno != ENOENT)
		return fo_err_set(err, FO_EIO, "cannot remove network namespace '%s': %s", name, strerror(errno));
	return 0;
}

/* Kills what is left in namespace name and removes it. Returns 1 when removed, 0 when it
 * was not there, or an error. */
static int remove_netns(const char *name, struct fo_err *err)
{
	if (!valid_netns(name))
		return fo_err_set(err, FO_EINVAL, "refusing to remove network namespace '%s': not a name", name);
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "/run/netns/%s", name);
	struct stat st;
	int rc = 0;
	if (lstat(path.s, &st) < 0) {
		if (errno != ENOENT)
			rc = fo_err_set(err, FO_EIO, "cannot look at '%s': %s", path.s, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = fo_err_set(err, FO_EINVAL, "refusing to remove '%s': not a namespace file", path.s);
	} else {
		int64_t deadline = fo_now_ns() + KILL_WAIT_NS;
		while (procs_in_netns(path.s, true) > 0 && fo_now_ns() < deadline)
			ns_nap();
		if (procs_in_netns(path.s, false) > 0)
			rc = fo_err_set(err, FO_EIO, "processes in network namespace '%s' did not end", name);
		else if ((rc = drop_netns_file(path.s, name, err)) == 0)
			rc = 1;
	}
	fo_buf_release(&path);
	return rc;
}

int fo_ledger_remove_netns(struct fo_ledger *l, const char *name, struct fo_err *err)
{
	int rc = remove_netns(name, err);
	if (rc < 0)
		return rc;
	gone_ns(l, "netns", name);
	return 0;
}

/*
 * Removes hub name when nothing uses it, under an flock on lock. wait_ns: how long to
 * wait for interfaces to go (those of namespaces just removed go a moment later). Returns
 * 1 when removed, 0 when gone already or still in use, or an error.
 */
static int release_hub(const char *name, const char *lock, int64_t wait_ns, struct fo_err *err)
{
	if (!valid_netns(name) || !valid_path(lock))
		return fo_err_set(err, FO_EINVAL, "invalid hub '%s'", name ? name : "");
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "/run/netns/%s", name);
	int64_t deadline = fo_now_ns() + wait_ns;
	int rc = 0;
	for (;;) {
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
				;
		struct stat st;
		bool there = lstat(path.s, &st) == 0 && S_ISREG(st.st_mode);
		bool unused = there && netns_has_ports(path.s) == 0 && procs_in_netns(path.s, false) == 0;
		if (unused && (rc = drop_netns_file(path.s, name, err)) == 0)
			rc = 1;
		if (fd >= 0)
			close(fd);
		if (!there || unused || fo_now_ns() >= deadline)
			break;
		ns_nap();
	}
	fo_buf_release(&path);
	return rc;
}

int fo_ledger_release_hub(struct fo_ledger *l, const char *name, const char *lock, bool *removed,
			  struct fo_err *err)
{
	int rc = release_hub(name, lock, 0, err);
	if (removed)
		*removed = rc > 0;
	if (rc < 0)
		return rc;
	gone_ns(l, "hub", name);
	return 0;
}

/* ---- reading and undoing ---- */

struct entry {
	bool is_dir;
	bool cluster;      /* belongs to a cluster kept between runs */
	bool gone;
	char *path;        /* dir */
	pid_t pid, pgid;   /* proc */
	uint64_t start;
};

/* A network namespace recorded: a node's (netns) or a hub shared by runs (hub). */
struct nsent {
	bool hub;
	bool cluster;         /* belongs to a cluster kept between runs */
	bool gone;
	char *name, *lock;    /* lock: a hub's flock file */
};

/* A fault recorded (ledger.h): an nftables table, a qdisc, a stopped process group. */
struct fault {
	enum { F_NFT, F_TC, F_STOPPED } kind;
	char *netns, *name;   /* nft: namespace and table; tc: namespace and device */
	pid_t pgid;           /* stopped */
	uint64_t start;       /* stopped: the leader's start time */
	bool gone;
};

struct entries {
	struct entry *v;
	size_t n, cap;
	struct fault *f;      /* faults, in the order recorded */
	size_t nf, fcap;
	struct nsent *ns;     /* network namespaces and hubs, in the order recorded */
	size_t nns, nscap;
};

static void entries_release(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		fo_free(es->v[i].path);
	fo_free(es->v);
	for (size_t i = 0; i < es->nf; i++) {
		fo_free(es->f[i].netns);
		fo_free(es->f[i].name);
	}
	fo_free(es->f);
	for (size_t i = 0; i < es->nns; i++) {
		fo_free(es->ns[i].name);
		fo_free(es->ns[i].lock);
	}
	fo_free(es->ns);
	*es = (struct entries){0};
}

static bool parse_int(const char *s, size_t n, int64_t *out)
{
	char tmp[32];
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return fo_parse_i64(tmp, out);
}

/* Splits the next space-separated word off *s. */
static bool word(const char **s, const char **w, size_t *n)
{
	const char *p = *s;
	if (!*p)
		return false;
	const char *e = strchr(p, ' ');
	*w = p;
	*n = e ? (size_t)(e - p) : strlen(p);
	*s = e ? e + 1 : p + *n;
	return *n > 0;
}

static bool is_word(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* Parses "proc PID PGID START" (after the kind) into e. */
static bool parse_proc(const char *rest, struct entry *e)
{
	const char *w;
	size_t n;
	int64_t pid, pgid, start;
	if (!word(&rest, &w, &n) || !parse_int(w, n, &pid) || !word(&rest, &w, &n) || !parse_int(w, n, &pgid) ||
	    !word(&rest, &w, &n) || !parse_int(w, n, &start) || pid <= 1 || pgid <= 1 || pid > INT_MAX ||
	    pgid > INT_MAX || start < 0)
		return false;
	e->pid = (pid_t)pid;
	e->pgid = (pid_t)pgid;
	e->start = (uint64_t)start;
	return true;
}

static bool same_fault(const struct fault *a, const struct fault *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == F_STOPPED)
		return a->pgid == b->pgid;
	return strcmp(a->netns, b->netns) == 0 && strcmp(a->name, b->name) == 0;
}

/* Parses a fault line (kind w, then rest); false if w is not a fault's kind. */
static bool parse_fault(struct entries *es, const char *w, size_t n, const char *rest, bool gone)
{
	struct fault f = {.kind = F_STOPPED};
	if (is_word(w, n, "nft"))
		f.kind = F_NFT;
	else if (is_word(w, n, "tc"))
		f.kind = F_TC;
	else if (!is_word(w, n, "stopped"))
		return false;
	const char *a, *b;
	size_t na, nb;
	if (f.kind == F_STOPPED) {
		int64_t pgid, start = 0;
		if (!word(&rest, &a, &na) || !parse_int(a, na, &pgid) || pgid <= 1 || pgid > INT_MAX)
			return true;
		if (!gone && (!word(&rest, &a, &na) || !parse_int(a, na, &start) || start < 0))
			return true;
		f.pgid = (pid_t)pgid;
		f.start = (uint64_t)start;
	} else {
		if (!word(&rest, &a, &na) || !word(&rest, &b, &nb) || *rest)
			return true;
		f.netns = fo_strndup(a, na);
		f.name = fo_strndup(b, nb);
	}
	if (gone) {
		for (size_t i = 0; i < es->nf; i++)
			if (same_fault(&es->f[i], &f))
				es->f[i].gone = true;
		fo_free(f.netns);
		fo_free(f.name);
		return true;
	}
	FO_GROW(es->f, es->fcap, es->nf + 1);
	es->f[es->nf++] = f;
	return true;
}

/* Parses a namespace line (kind w, then rest); false if w is not netns or hub. */
static bool parse_ns(struct entries *es, const char *w, size_t n, const char *rest, bool gone, bool cluster)
{
	struct nsent e = {.cluster = cluster};
	if (is_word(w, n, "hub"))
		e.hub = true;
	else if (!is_word(w, n, "netns"))
		return false;
	const char *a, *b;
	size_t na, nb;
	if (!word(&rest, &a, &na))
		return true;
	e.name = fo_strndup(a, na);
	if (e.hub && !gone) {
		if (!word(&rest, &b, &nb) || *rest) {
			fo_free(e.name);
			return true;
		}
		e.lock = fo_strndup(b, nb);
	}
	if (!valid_netns(e.name) || (e.lock && !valid_path(e.lock)) || (gone && *rest)) {
		fo_free(e.name);
		fo_free(e.lock);
		return true;
	}
	if (gone) {
		for (size_t i = 0; i < es->nns; i++)
			if (es->ns[i].hub == e.hub && strcmp(es->ns[i].name, e.name) == 0)
				es->ns[i].gone = true;
		fo_free(e.name);
		return true;
	}
	FO_GROW(es->ns, es->nscap, es->nns + 1);
	es->ns[es->nns++] = e;
	return true;
}

/* Applies one line. Unknown or broken lines (a torn last write) are skipped. */
static void parse_line(struct entries *es, const char *line)
{
	const char *s = line, *w;
	size_t n;
	if (!word(&s, &w, &n))
		return;
	bool cluster = false, gone = false;
	if (is_word(w, n, "cluster")) {
		if (!word(&s, &w, &n) || !word(&s, &w, &n))
			return;
		cluster = true;
	} else if (is_word(w, n, "gone")) {
		if (!word(&s, &w, &n))
			return;
		gone = true;
	}
	if (parse_fault(es, w, n, s, gone))
		return;
	if (parse_ns(es, w, n, s, gone, cluster))
		return;
	bool is_dir = is_word(w, n, "dir");
	if (!is_dir && !is_word(w, n, "proc"))
		return;
	if (gone) {
		int64_t pgid = 0;
		if (!is_dir && !parse_int(s, strlen(s), &pgid))
			return;
		for (size_t i = 0; i < es->n; i++) {
			struct entry *e = &es->v[i];
			if (e->is_dir == is_dir && (is_dir ? strcmp(e->path, s) == 0 : e->pgid == (pid_t)pgid))
				e->gone = true;
		}
		return;
	}
	struct entry e = {.is_dir = is_dir, .cluster = cluster};
	if (is_dir) {
		if (!valid_path(s))
			return;
		e.path = fo_strdup(s);
	} else if (!parse_proc(s, &e)) {
		return;
	}
	FO_GROW(es->v, es->cap, es->n + 1);
	es->v[es->n++] = e;
}

static int read_entries(const char *path, struct entries *es, struct fo_err *err)
{
	struct fo_buf text = FO_BUF_INIT;
	int rc = fo_buf_read_file(&text, path, 64u << 20, err);
	if (rc) {
		fo_buf_release(&text);
		return rc;
	}
	char *p = text.s;
	while (*p) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break; /* a torn last line: never completed, so never acted on */
		*nl = '\0';
		parse_line(es, p);
		p = nl + 1;
	}
	fo_buf_release(&text);
	return 0;
}

/* What an undo should do and report. */
struct undo {
	struct fo_ledger *l;        /* to mark entries gone; NULL for cleanup */
	bool with_clusters;         /* undo cluster entries too (cleanup of a dead run) */
	bool dry_run;
	fo_cleanup_note_fn note;
	void *ctx;
	int procs, dirs, faults, netns;
};

static void note(struct undo *u, const char *fmt, ...) FO_PRINTF(2, 3);
static void note(struct undo *u, const char *fmt, ...)
{
	if (!u->note)
		return;
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	u->note(u->ctx, b.s);
	fo_buf_release(&b);
}

/* Is the recorded group still ours to kill (and alive)? */
static bool ours_and_alive(const struct entry *e)
{
	uint64_t now = fo_proc_start_time(e->pid);
	if (now != 0 && now != e->start)
		return false; /* the pid is another process now: the group is not ours */
	return fo_proc_group_alive(e->pgid);
}

static bool all_gone(struct entry **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && fo_proc_group_alive(v[i]->pgid))
			return false;
	return true;
}

static void wait_gone(struct entry **v, size_t n, int64_t ns)
{
	int64_t deadline = fo_now_ns() + ns;
	while (!all_gone(v, n) && fo_now_ns() < deadline) {
		struct timespec ts = {0, POLL_NS};
		nanosleep(&ts, NULL);
	}
}

/* ---- healing faults ---- */

#define HEAL_TIMEOUT_NS (10 * 1000000000LL)

/* Runs a command (nft, tc) to its end; returns its exit status, -1 if it did not run. */
static int heal_cmd(const char *const *argv, struct fo_buf *out)
{
	struct fo_cmd cmd = {.argv = argv, .timeout_ns = HEAL_TIMEOUT_NS, .capture = out};
	struct fo_cmd_result res = {0};
	if (fo_proc_run(&cmd, NULL, NULL, &res, NULL) != 0)
		return -1;
	return res.exit_code;
}

/* True if network namespace netns exists (`ip netns` keeps a file per namespace). */
static bool netns_exists(const char *netns)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "/run/netns/%s", netns);
	struct stat st;
	bool there = lstat(p.s, &st) == 0;
	fo_buf_release(&p);
	return there;
}

/* True if dev in netns has a root qdisc someone added (a default one has handle 0:). */
static bool added_qdisc(const char *netns, const char *dev)
{
	struct fo_buf out = FO_BUF_INIT;
	const char *show[] = {"tc", "-n", netns, "qdisc", "show", "dev", dev, "root", NULL};
	bool added = heal_cmd(show, &out) == 0 && fo_starts_with(out.s, "qdisc ") && !strstr(out.s, " 0: root");
	fo_buf_release(&out);
	return added;
}

/* Heals one fault. Returns 1 when it did (or, dry, would), 0 when there was nothing left
 * to heal, or an error. */
static int heal_fault(const struct fault *f, struct undo *u, struct fo_err *err)
{
	if (f->kind == F_STOPPED) {
		uint64_t now = fo_proc_start_time(f->pgid);
		if ((now != 0 && now != f->start) || !fo_proc_group_alive(f->pgid))
			return 0;
		note(u, "%s process group %d (stopped by a fault)", u->dry_run ? "would continue" : "continuing",
		     (int)f->pgid);
		if (!u->dry_run)
			kill(-f->pgid, SIGCONT);
		return 1;
	}
	if (!netns_exists(f->netns))
		return 0;
	bool nft = f->kind == F_NFT;
	if (nft) {
		const char *list[] = {"ip", "netns", "exec", f->netns, "nft", "list", "table", "inet", f->name, NULL};
		if (heal_cmd(list, NULL) != 0)
			return 0;
	} else if (!added_qdisc(f->netns, f->name)) {
		return 0;
	}
	note(u, "%s %s %s in network namespace %s", u->dry_run ? "would delete" : "deleting",
	     nft ? "nftables table" : "the root qdisc of", f->name, f->netns);
	if (u->dry_run)
		return 1;
	const char *del_nft[] = {"ip", "netns", "exec", f->netns, "nft", "delete", "table", "inet", f->name, NULL};
	const char *del_tc[] = {"tc", "-n", f->netns, "qdisc", "del", "dev", f->name, "root", NULL};
	if (heal_cmd(nft ? del_nft : del_tc, NULL) != 0)
		return fo_err_set(err, FO_EIO, "cannot delete %s '%s' in network namespace '%s'",
				  nft ? "nftables table" : "the root qdisc of", f->name, f->netns);
	return 1;
}

/* Heals every fault not yet gone, newest first. */
static void heal_faults(struct entries *es, struct undo *u, struct fo_err *err)
{
	for (size_t i = es->nf; i-- > 0;) {
		struct fault *f = &es->f[i];
		if (f->gone)
			continue;
		for (size_t j = 0; j < i; j++) /* the same fault recorded again earlier */
			if (same_fault(&es->f[j], f))
				es->f[j].gone = true;
		int rc = heal_fault(f, u, err);
		if (rc > 0)
			u->faults++;
		if (rc < 0 || !u->l || u->dry_run)
			continue;
		if (f->kind == F_NFT)
			fo_ledger_gone_nft(u->l, f->netns, f->name);
		else if (f->kind == F_TC)
			fo_ledger_gone_tc(u->l, f->netns, f->name);
		else
			fo_ledger_gone_stopped(u->l, f->pgid);
	}
}

/* Removes the namespaces recorded and not yet gone, newest first, then releases the hubs
 * (waiting a little for the interfaces of namespaces just removed to go). */
static void remove_namespaces(struct entries *es, struct undo *u, struct fo_err *err)
{
	bool removed = false;
	for (int pass = 0; pass < 2; pass++) {
		bool hubs = pass == 1;
		for (size_t i = es->nns; i-- > 0;) {
			struct nsent *e = &es->ns[i];
			if (e->hub != hubs || e->gone || (e->cluster && !u->with_clusters))
				continue;
			e->gone = true;
			for (size_t j = 0; j < i; j++) /* the same namespace recorded again earlier */
				if (es->ns[j].hub == e->hub && strcmp(es->ns[j].name, e->name) == 0)
					es->ns[j].gone = true;
			struct fo_buf path = FO_BUF_INIT;
			fo_buf_addf(&path, "/run/netns/%s", e->name);
			struct stat st;
			bool there = lstat(path.s, &st) == 0;
			fo_buf_release(&path);
			if (u->dry_run) {
				if (there && !hubs) {
					note(u, "would remove network namespace %s", e->name);
					u->netns++;
				}
				continue;
			}
			int rc = !there ? 0
				 : hubs	 ? release_hub(e->name, e->lock, removed ? 3 * 1000000000LL : 0, err)
					 : remove_netns(e->name, err);
			if (rc < 0)
				continue;
			if (rc > 0) {
				note(u, "removed network namespace %s%s", e->name, hubs ? " (the nodes' hub)" : "");
				u->netns++;
				removed = true;
			}
			if (u->l)
				gone_ns(u->l, hubs ? "hub" : "netns", e->name);
		}
	}
}

static int undo_entries(struct entries *es, struct undo *u, struct fo_err *err)
{
	/* Faults first: a stopped group is continued before it is asked to end. */
	heal_faults(es, u, err);

	/* Process groups first, newest first: TERM them all, wait, then KILL what is left. */
	struct entry **kill_v = fo_calloc(es->n + 1, sizeof(*kill_v));
	size_t nk = 0;
	for (size_t i = es->n; i-- > 0;) {
		struct entry *e = &es->v[i];
		if (e->is_dir || e->gone || (e->cluster && !u->with_clusters))
			continue;
		bool dup = false;
		for (size_t j = 0; j < nk && !dup; j++)
			dup = kill_v[j]->pgid == e->pgid;
		if (dup)
			continue;
		if (!ours_and_alive(e)) {
			if (u->l && !u->dry_run)
				fo_ledger_gone_proc(u->l, e->pgid);
			continue;
		}
		kill_v[nk++] = e;
		note(u, "%s process group %d", u->dry_run ? "would kill" : "killing", (int)e->pgid);
		if (!u->dry_run)
			kill(-e->pgid, SIGTERM);
	}
	if (!u->dry_run && nk) {
		wait_gone(kill_v, nk, TERM_GRACE_NS);
		for (size_t i = 0; i < nk; i++)
			if (fo_proc_group_alive(kill_v[i]->pgid))
				kill(-kill_v[i]->pgid, SIGKILL);
		wait_gone(kill_v, nk, KILL_WAIT_NS);
		for (size_t i = 0; i < nk; i++) {
			if (fo_proc_group_alive(kill_v[i]->pgid)) {
				fo_err_set(err, FO_EIO, "process group %d did not end", (int)kill_v[i]->pgid);
				continue;
			}
			if (u->l)
				fo_ledger_gone_proc(u->l, kill_v[i]->pgid);
		}
	}
	u->procs += (int)nk;
	fo_free(kill_v);

	/* Then network namespaces (their processes are gone by now), then folders. */
	remove_namespaces(es, u, err);

	/* Then folders, newest first. */
	for (size_t i = es->n; i-- > 0;) {
		struct entry *e = &es->v[i];
		if (!e->is_dir || e->gone || (e->cluster && !u->with_clusters))
			continue;
		e->gone = true;
		for (size_t j = 0; j < i; j++) /* the same folder recorded again earlier */
			if (es->v[j].is_dir && strcmp(es->v[j].path, e->path) == 0)
				es->v[j].gone = true;
		struct stat st;
		if (lstat(e->path, &st) < 0) {
			if (u->l && !u->dry_run)
				fo_ledger_gone_dir(u->l, e->path);
			continue;
		}
		if (u->dry_run) {
			if (check_removable(e->path, err) == 0) {
				note(u, "would remove folder %s", e->path);
				u->dirs++;
			}
			continue;
		}
		int rc = remove_tree(e->path, err);
		if (rc < 0)
			continue;
		if (rc > 0) {
			note(u, "removed folder %s", e->path);
			u->dirs++;
		}
		if (u->l)
			fo_ledger_gone_dir(u->l, e->path);
	}
	return 0;
}

static void ssh_gone(void *ctx, const char *target, const char *what)
{
	fo_ledger_gone_ssh(ctx, target, what);
}

static void ssh_note(void *ctx, const char *line)
{
	note(ctx, "%s", line);
}

/* Undoes the ledger's remote entries, counting into u. */
static void undo_ssh(const char *ledger, struct undo *u, struct fo_err *err)
{
	struct fo_buf known = FO_BUF_INIT;
	fo_buf_addf(&known, "%s/ssh/known_hosts", fo_state_dir());
	int procs = 0, dirs = 0;
	fo_ssh_undo_ledger(ledger, known.s, u->dry_run, ssh_note, u, u->l && !u->dry_run ? ssh_gone : NULL, u->l,
			   &procs, &dirs, err);
	u->procs += procs;
	u->dirs += dirs;
	fo_buf_release(&known);
}

int fo_ledger_undo_all(struct fo_ledger *l, struct fo_err *err)
{
	if (!l)
		return 0;
	struct entries es = {0};
	if (read_entries(l->path, &es, err) < 0) {
		entries_release(&es);
		return 0;
	}
	struct undo u = {.l = l};
	undo_ssh(l->path, &u, err); /* first: the ledger may be in a folder undone below */
	undo_entries(&es, &u, err);
	entries_release(&es);
	return u.procs + u.dirs + u.faults + u.netns;
}

int fo_ledger_remove_dir(struct fo_ledger *l, const char *path, struct fo_err *err)
{
	int rc = remove_tree(path, err);
	if (rc < 0)
		return rc;
	if (l)
		fo_ledger_gone_dir(l, path);
	return 0;
}

void fo_ledger_close(struct fo_ledger *l, bool finished)
{
	if (!l)
		return;
	for (size_t i = l->nat_close; i-- > 0;)
		l->at_close[i].fn(l->at_close[i].data);
	if (finished)
		unlink(l->active);
	close(l->fd);
	pthread_mutex_destroy(&l->lock);
	fo_free(l->at_close);
	fo_free(l->path);
	fo_free(l->active);
	fo_free(l);
}

void fo_ledger_at_close(struct fo_ledger *l, void (*fn)(void *data), void *data)
{
	if (!l || !fn)
		return;
	pthread_mutex_lock(&l->lock);
	FO_GROW(l->at_close, l->at_close_cap, l->nat_close + 1);
	l->at_close[l->nat_close++] = (struct at_close){fn, data};
	pthread_mutex_unlock(&l->lock);
}

/* ---- cleanup ---- */

/* Parses an active file: "PID START LEDGER". */
static bool read_active(const char *path, pid_t *pid, uint64_t *start, struct fo_buf *ledger)
{
	struct fo_buf text = FO_BUF_INIT;
	bool ok = false;
	if (fo_buf_read_file(&text, path, 1 << 16, NULL) == 0) {
		char *nl = strchr(text.s, '\n');
		if (nl)
			*nl = '\0';
		const char *s = text.s, *w;
		size_t n;
		int64_t p, st;
		if (word(&s, &w, &n) && parse_int(w, n, &p) && word(&s, &w, &n) && parse_int(w, n, &st) && p > 0 &&
		    p <= INT_MAX && st >= 0 && valid_path(s)) {
			*pid = (pid_t)p;
			*start = (uint64_t)st;
			fo_buf_adds(ledger, s);
			ok = true;
		}
	}
	fo_buf_release(&text);
	return ok;
}

int fo_ledger_cleanup_with(bool dry_run, fo_cleanup_note_fn note_fn, void *ctx, struct fo_cleanup_report *rep,
			   struct fo_err *err)
{
	struct fo_cleanup_report dummy;
	if (!rep)
		rep = &dummy;
	*rep = (struct fo_cleanup_report){0};
	struct fo_buf dir = FO_BUF_INIT;
	int rc = fo_state_subdir("active", &dir, err);
	if (rc) {
		fo_buf_release(&dir);
		return rc;
	}
	/* One cleanup at a time. */
	struct fo_buf lockp = FO_BUF_INIT;
	fo_buf_addf(&lockp, "%s/.cleanup.lock", dir.s);
	int lfd = open(lockp.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	fo_buf_release(&lockp);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot lock '%s': %s", dir.s, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		fo_buf_release(&dir);
		return rc;
	}
	DIR *d = opendir(dir.s);
	if (!d) {
		rc = fo_err_set(err, FO_EIO, "cannot read '%s': %s", dir.s, strerror(errno));
		close(lfd);
		fo_buf_release(&dir);
		return rc;
	}
	struct fo_buf path = FO_BUF_INIT, ledger = FO_BUF_INIT;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
			continue;
		fo_buf_clear(&path);
		fo_buf_clear(&ledger);
		fo_buf_addf(&path, "%s/%s", dir.s, de->d_name);
		pid_t pid;
		uint64_t start;
		if (!read_active(path.s, &pid, &start, &ledger)) {
			fo_err_set(err, FO_EIO, "cannot read '%s'", path.s);
			continue;
		}
		if (fo_proc_alive(pid, start)) {
			rep->skipped++;
			if (note_fn) {
				struct fo_buf b = FO_BUF_INIT;
				fo_buf_addf(&b, "run %s is still running (pid %d): left alone", de->d_name, (int)pid);
				note_fn(ctx, b.s);
				fo_buf_release(&b);
			}
			continue;
		}
		rep->runs++;
		if (note_fn) {
			struct fo_buf b = FO_BUF_INIT;
			fo_buf_addf(&b, "run %s was killed (ledger %s)", de->d_name, ledger.s);
			note_fn(ctx, b.s);
			fo_buf_release(&b);
		}
		struct entries es = {0};
		struct fo_err rerr = {0};
		if (read_entries(ledger.s, &es, &rerr) < 0 && rerr.code != FO_ENOENT)
			fo_err_set(err, rerr.code, "%s", rerr.msg);
		struct undo u = {.with_clusters = true, .dry_run = dry_run, .note = note_fn, .ctx = ctx};
		struct fo_err uerr = {0};
		undo_ssh(ledger.s, &u, &uerr); /* first: the ledger may be in a folder undone below */
		undo_entries(&es, &u, &uerr);
		entries_release(&es);
		rep->procs += u.procs;
		rep->dirs += u.dirs;
		rep->faults += u.faults;
		rep->netns += u.netns;
		if (uerr.code)
			fo_err_set(err, uerr.code, "%s", uerr.msg);
		else if (!dry_run)
			unlink(path.s);
	}
	closedir(d);
	close(lfd);
	fo_buf_release(&path);
	fo_buf_release(&ledger);
	fo_buf_release(&dir);
	return err && err->code ? err->code : 0;
}

int fo_ledger_cleanup(struct fo_cleanup_report *rep, struct fo_err *err)
{
	return fo_ledger_cleanup_with(false, NULL, NULL, rep, err);
}

/* ---- clusters kept between runs ---- */

const char *fo_cluster_name(const struct fo_group *spec)
{
	const char *name = fo_props_str(&spec->provisioner, "name", NULL);
	return name && *name ? name : spec->name;
}

int fo_cluster_path(const char *name, struct fo_buf *out)
{
	fo_buf_clear(out);
	if (!name || !*name)
		return FO_EINVAL;
	fo_buf_addf(out, "%s/clusters/", fo_state_dir());
	/* The name as a folder name: unsafe characters become '_', never "." or "..". */
	if (name[0] == '.')
		fo_buf_addch(out, '_');
	for (const char *p = name; *p && p - name < 128; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			  c == '_' || c == '.';
		fo_buf_addch(out, ok ? (char)c : '_');
	}
	return 0;
}

int fo_cluster_dir(const char *name, struct fo_buf *out, struct fo_err *err)
{
	if (fo_cluster_path(name, out) < 0)
		return fo_err_set(err, FO_EINVAL, "a cluster needs a name");
	int e = fo_mkdir_p(out->s, 0700, NULL);
	if (e)
		return fo_err_set(err, FO_EIO, "cannot create '%s': %s", out->s, strerror(e));
	return 0;
}

int fo_cluster_save_state(const char *name, enum fo_runlevel rl, struct fo_err *err)
{
	struct fo_buf dir = FO_BUF_INIT, tmp = FO_BUF_INIT, path = FO_BUF_INIT;
	int rc = fo_cluster_dir(name, &dir, err);
	if (!rc) {
		fo_buf_addf(&path, "%s/runlevel", dir.s);
		fo_buf_addf(&tmp, "%s/runlevel.tmp.%d", dir.s, (int)getpid());
		FILE *f = fopen(tmp.s, "we");
		if (!f || fprintf(f, "%s\n", fo_runlevel_name(rl)) < 0 || fflush(f) != 0 || fsync(fileno(f)) < 0)
			rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", tmp.s, strerror(errno));
		if (f)
			fclose(f);
		if (!rc && rename(tmp.s, path.s) < 0)
			rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path.s, strerror(errno));
		if (rc)
			unlink(tmp.s);
	}
	fo_buf_release(&dir);
	fo_buf_release(&tmp);
	fo_buf_release(&path);
	return rc;
}

int fo_cluster_load_state(const char *name, enum fo_runlevel *rl)
{
	struct fo_buf dir = FO_BUF_INIT, text = FO_BUF_INIT;
	int rc = fo_cluster_path(name, &dir);
	if (!rc) {
		fo_buf_adds(&dir, "/runlevel");
		rc = fo_buf_read_file(&text, dir.s, 256, NULL);
	}
	if (!rc) {
		char *nl = strchr(text.s, '\n');
		if (nl)
			*nl = '\0';
		rc = fo_runlevel_parse(text.s, rl) == 0 ? 0 : FO_ENOENT;
	}
	fo_buf_release(&dir);
	fo_buf_release(&text);
	return rc ? FO_ENOENT : 0;
}

int fo_cluster_forget(const char *name, struct fo_err *err)
{
	struct fo_buf dir = FO_BUF_INIT;
	int rc = fo_cluster_path(name, &dir);
	if (rc)
		rc = fo_err_set(err, rc, "a cluster needs a name");
	if (!rc) {
		rc = remove_tree(dir.s, err);
		rc = rc < 0 ? rc : 0;
	}
	fo_buf_release(&dir);
	return rc;
}
