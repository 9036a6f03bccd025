/*
 * proc.c: child processes (proc.h). Every child is forked into a process group of its own
 * (setpgid in both parent and child, so the group exists before either goes on), with its
 * standard input from a file or /dev/null, its stdout and stderr appended to a log, every
 * other descriptor closed and the signal dispositions and mask reset. The program is
 * looked up in PATH by the parent (with the command's own PATH when it sets one), and a
 * close-on-exec pipe reports a failed chdir or exec back, so "not found" is an error and
 * not an exit status.
 *
 * A command given a network namespace (cmd->netns) enters it in the child, between fork
 * and exec, the way `ip netns exec` does: setns() into /run/netns/NAME, a mount namespace
 * of its own (slave to ours, so nothing leaks back), the files of /etc/netns/NAME
 * bind-mounted over /etc, and a /sys of that namespace. The parent opens the namespace
 * and lists those files before forking, since the child may not allocate.
 *
 * Waiting uses a pidfd (poll) where the kernel has one and a short polling tick where it
 * does not. A child is detected as ended with waitid(WNOWAIT) and reaped only after the
 * last kill aimed at its group: while the leader is an unreaped zombie its pid, and so its
 * process group id, cannot be reused, so a kill never reaches a stranger's group.
 *
 * A registry (one mutex) lists every command running under fo_proc_run, for
 * fo_proc_kill_all. Services have one watcher thread each, which reaps the service and
 * reports an exit nobody asked for.
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"

extern char **environ;

#define KILL_GRACE_NS (2 * 1000000000LL)    /* after a timeout's SIGTERM, before SIGKILL */
#define NO_PIDFD_TICK_MS 10                 /* how often to look without a pidfd */
#define GROUP_POLL_NS (5 * 1000000LL)       /* how often fo_proc_kill_group looks */
#define KILL_WAIT_NS (5 * 1000000000LL)     /* how long SIGKILL may take to clear a group */

/* ---- time ---- */

int64_t fo_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t fo_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void fo_format_time(int64_t wall_ns, char *out, size_t n)
{
	if (!out || n == 0)
		return;
	int64_t sec = wall_ns / 1000000000LL;
	int64_t rem = wall_ns % 1000000000LL;
	if (rem < 0) {
		rem += 1000000000LL;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, n, "?");
		return;
	}
	char day[32];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ", day, (int)(rem / 1000000));
}

/* Sleeps ns (short waits while polling with a deadline). */
static void nap(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- /proc ---- */

/* Reads /proc/PID/stat into buf; returns a pointer just past the ")" ending the command
 * name (the state field follows), or NULL. */
static const char *read_stat(pid_t pid, char *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t got;
	do
		got = read(fd, buf, n - 1);
	while (got < 0 && errno == EINTR);
	close(fd);
	if (got <= 0)
		return NULL;
	buf[got] = '\0';
	const char *p = strrchr(buf, ')');
	return p ? p + 1 : NULL;
}

/* Field number `field` (1-based, as in proc(5)) of a stat line, given the text after ")"
 * (which starts at field 3). Returns false when the line is too short. */
static bool stat_field(const char *after, int field, unsigned long long *out, char *state)
{
	const char *p = after;
	for (int f = 3; f <= field; f++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return false;
		if (f == 3 && state)
			*state = *p;
		if (f == field) {
			if (!out)
				return true;
			char *end;
			errno = 0;
			*out = strtoull(p, &end, 10);
			return end != p && errno == 0;
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

uint64_t fo_proc_start_time(pid_t pid)
{
	if (pid <= 0)
		return 0;
	char buf[1024];
	const char *after = read_stat(pid, buf, sizeof(buf));
	unsigned long long v;
	if (!after || !stat_field(after, 22, &v, NULL))
		return 0;
	return (uint64_t)v;
}

bool fo_proc_alive(pid_t pid, uint64_t start)
{
	if (pid <= 0 || start == 0)
		return false;
	char buf[1024];
	const char *after = read_stat(pid, buf, sizeof(buf));
	unsigned long long v;
	char state = 0;
	if (!after || !stat_field(after, 22, &v, &state))
		return false;
	return (uint64_t)v == start && state != 'Z' && state != 'X';
}

int fo_proc_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* True if the group pgid has a member that is not a zombie (or exists and is not ours to
 * look at). */
static bool group_alive(pid_t pgid)
{
	if (kill(-pgid, 0) < 0)
		return errno != ESRCH;
	DIR *d = opendir("/proc");
	if (!d)
		return true;
	bool alive = false;
	struct dirent *de;
	while (!alive && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char buf[1024];
		const char *after = read_stat((pid_t)pid, buf, sizeof(buf));
		unsigned long long pg;
		char state = 0;
		if (after && stat_field(after, 5, &pg, &state) && (pid_t)pg == pgid && state != 'Z' && state != 'X')
			alive = true;
	}
	closedir(d);
	return alive;
}

bool fo_proc_kill_group(pid_t pgid, int64_t grace_ns)
{
	if (pgid <= 1)
		return false;
	if (kill(-pgid, SIGTERM) < 0)
		return errno == ESRCH;
	int64_t deadline = fo_now_ns() + (grace_ns > 0 ? grace_ns : 0);
	while (group_alive(pgid) && fo_now_ns() < deadline)
		nap(GROUP_POLL_NS);
	if (!group_alive(pgid))
		return true;
	if (kill(-pgid, SIGKILL) < 0)
		return errno == ESRCH;
	deadline = fo_now_ns() + KILL_WAIT_NS;
	while (group_alive(pgid) && fo_now_ns() < deadline)
		nap(GROUP_POLL_NS);
	return !group_alive(pgid);
}

bool fo_proc_group_alive(pid_t pgid)
{
	return pgid > 1 && group_alive(pgid);
}

/* ---- starting a child ---- */

enum { STAGE_CHDIR = 1, STAGE_EXEC = 2, STAGE_SETUP = 3, STAGE_NETNS = 4 };

/* A file bind-mounted over another when entering a network namespace. */
struct bind {
	char *src;  /* /etc/netns/NAME/X */
	char *dst;  /* /etc/X */
};

/* What the child needs, all prepared before fork (the child may not allocate). */
struct child_args {
	const char *path;        /* the program, resolved */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	int in_fd, out_fd, err_fd, report_fd;
	int max_fd;              /* for closing descriptors without close_range */
	int netns_fd;            /* the network namespace to enter, or -1 */
	const char *netns;       /* its name (for the /sys mount) */
	const struct bind *binds; /* the files to bind-mount in it */
	size_t nbind;
};

/* The child's report of a failure before exec. */
struct child_report {
	int stage;
	int err;
};

static void child_fail(int fd, int stage, int e)
{
	struct child_report r = {stage, e};
	ssize_t w = write(fd, &r, sizeof(r));
	(void)w;
	_exit(127);
}

/* In the child: enters the network namespace as `ip netns exec` does (see the top). */
static void enter_netns(const struct child_args *a, int nsfd)
{
	if (setns(nsfd, CLONE_NEWNET) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		child_fail(3, STAGE_NETNS, errno);
	for (size_t i = 0; i < a->nbind; i++)
		if (mount(a->binds[i].src, a->binds[i].dst, "none", MS_BIND, NULL) < 0)
			child_fail(3, STAGE_NETNS, errno);
	/* A /sys that shows the namespace's interfaces; where sysfs may not be mounted
	 * (some containers) the command runs with the old one. */
	if (umount2("/sys", MNT_DETACH) == 0)
		(void)mount(a->netns, "/sys", "sysfs", 0, NULL);
	close(nsfd);
}

static __attribute__((noreturn)) void child_exec(const struct child_args *a)
{
	setpgid(0, 0);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL); /* fails harmlessly for reserved numbers */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move everything above the standard numbers first, so no dup2 clobbers another. */
	int in = fcntl(a->in_fd, F_DUPFD_CLOEXEC, 10);
	int out = fcntl(a->out_fd, F_DUPFD_CLOEXEC, 10);
	int errfd = fcntl(a->err_fd, F_DUPFD_CLOEXEC, 10);
	int rep = fcntl(a->report_fd, F_DUPFD_CLOEXEC, 10);
	int nsfd = a->netns_fd >= 0 ? fcntl(a->netns_fd, F_DUPFD_CLOEXEC, 10) : -1;
	if (rep < 0)
		_exit(127);
	if (in < 0 || out < 0 || errfd < 0 || (a->netns_fd >= 0 && nsfd < 0) || dup2(in, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(errfd, 2) < 0 || dup3(rep, 3, O_CLOEXEC) < 0)
		child_fail(rep, STAGE_SETUP, errno);
	if (nsfd >= 0)
		enter_netns(a, nsfd);
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		for (int fd = 4; fd < a->max_fd; fd++)
			close(fd);
	if (a->cwd && chdir(a->cwd) < 0)
		child_fail(3, STAGE_CHDIR, errno);
	execve(a->path, a->argv, a->envp);
	child_fail(3, STAGE_EXEC, errno);
	_exit(127);
}

/* The environment: ours, with cmd's entries replacing those of the same name or added.
 * Returns an owned array of borrowed strings. */
static char **build_env(const char *const *extra)
{
	size_t n = 0, m = 0;
	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	char **envp = fo_calloc(n + m + 1, sizeof(*envp));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool replaced = false;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = strncmp(extra[j], environ[i], len) == 0 && extra[j][len] == '=';
		if (!replaced)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++) {
		if (!strchr(extra[j], '='))
			continue;
		/* a later entry of the same name wins */
		size_t len = (size_t)(strchr(extra[j], '=') - extra[j]);
		bool later = false;
		for (size_t l = j + 1; l < m && !later; l++)
			later = strncmp(extra[l], extra[j], len + 1) == 0;
		if (!later)
			envp[k++] = (char *)extra[j];
	}
	envp[k] = NULL;
	return envp;
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Resolves argv0 through PATH (from envp) into out; a name with a '/' is taken as it is.
 * Returns 0 or FO_ENOENT. */
static int resolve(const char *argv0, char *const *envp, struct fo_buf *out)
{
	if (strchr(argv0, '/')) {
		fo_buf_adds(out, argv0); /* relative to the child's folder: execve tells */
		return 0;
	}
	const char *path = env_get(envp, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		fo_buf_clear(out);
		if (len == 0)
			fo_buf_adds(out, ".");
		else
			fo_buf_add(out, p, len);
		fo_buf_addf(out, "/%s", argv0);
		if (is_executable(out->s))
			return 0;
		if (!colon)
			break;
		p = colon + 1;
	}
	return FO_ENOENT;
}

static int open_cloexec(const char *path, int flags, mode_t mode)
{
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The read end of a pipe the child writes one of its outputs to, teed to the log. */
struct tee {
	int rd;             /* -1 once closed (or never opened) */
	struct fo_buf pend; /* output not yet written to the log (with redact) */
};

/* A started child. */
struct child {
	pid_t pid;
	int pidfd;    /* -1 when the kernel has none */
	struct tee out; /* stdout, with capture or redact */
	struct tee err; /* stderr, with redact only (it never reaches the capture) */
	int log_fd;   /* the log, for the tees; -1 without them */
	const char *const *redact; /* secrets to redact from what reaches the log (cmd->redact) */
	size_t nredact;
	size_t keep;              /* bytes held back: a secret may continue in the next chunk */
	bool whole_lines;         /* no secret holds a newline: what ends a line can go out */
};

/* What entering a network namespace takes, prepared in the parent. */
struct netns_prep {
	int fd;              /* /run/netns/NAME, or -1 */
	struct bind *binds;  /* owned: the /etc/netns/NAME files and the /etc names they cover */
	size_t n, cap;
};

static void netns_prep_release(struct netns_prep *p)
{
	if (p->fd >= 0)
		close(p->fd);
	for (size_t i = 0; i < p->n; i++) {
		fo_free(p->binds[i].src);
		fo_free(p->binds[i].dst);
	}
	fo_free(p->binds);
	*p = (struct netns_prep){.fd = -1};
}

/* Opens network namespace name and lists its /etc/netns files. Returns 0 or an error. */
static int netns_prepare(const char *name, struct netns_prep *p, struct fo_err *err)
{
	*p = (struct netns_prep){.fd = -1};
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fo_err_set(err, FO_EINVAL, "invalid network namespace name '%s'", name);
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "/run/netns/%s", name);
	p->fd = open_cloexec(path.s, O_RDONLY, 0);
	if (p->fd < 0) {
		int e = errno;
		fo_buf_release(&path);
		return fo_err_set(err, e == ENOENT ? FO_ENOENT : FO_EIO, "cannot open network namespace '%s': %s", name,
				  strerror(e));
	}
	fo_buf_clear(&path);
	fo_buf_addf(&path, "/etc/netns/%s", name);
	DIR *d = opendir(path.s);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		FO_GROW(p->binds, p->cap, p->n + 1);
		struct fo_buf b = FO_BUF_INIT;
		fo_buf_addf(&b, "%s/%s", path.s, de->d_name);
		p->binds[p->n].src = fo_buf_detach(&b, NULL);
		fo_buf_addf(&b, "/etc/%s", de->d_name);
		p->binds[p->n++].dst = fo_buf_detach(&b, NULL);
	}
	if (d)
		closedir(d);
	fo_buf_release(&path);
	return 0;
}

/* Forks and execs cmd in a new process group. With capture, stdout goes to a pipe whose
 * read end is returned in c->out.rd (and the log stays open in c->log_fd); with secrets to
 * redact from a real log, stderr goes to another (c->err.rd). */
static int spawn(const struct fo_cmd *cmd, bool capture, struct child *c, struct fo_err *err)
{
	*c = (struct child){.pid = -1, .pidfd = -1, .out = {-1, FO_BUF_INIT}, .err = {-1, FO_BUF_INIT}, .log_fd = -1};
	/* Nothing to redact from /dev/null: then the output goes there straight. */
	if (cmd && cmd->redact && cmd->log_path && strcmp(cmd->log_path, "/dev/null") != 0) {
		while (cmd->redact[c->nredact])
			c->nredact++;
		size_t longest = fo_redact_longest(cmd->redact, c->nredact);
		if (longest) {
			c->redact = cmd->redact;
			c->keep = longest - 1;
			c->whole_lines = true;
			for (size_t i = 0; i < c->nredact; i++)
				c->whole_lines &= strchr(cmd->redact[i], '\n') == NULL;
			capture = true; /* through the pipes */
		}
	}
	if (!cmd || !cmd->argv || !cmd->argv[0] || !cmd->argv[0][0])
		return fo_err_set(err, FO_EINVAL, "no command to run");
	int rc = 0;
	int in_fd = -1, log_fd = -1, pipe_fd[2] = {-1, -1}, err_pipe[2] = {-1, -1}, rep[2] = {-1, -1};
	char **envp = build_env(cmd->env);
	struct fo_buf path = FO_BUF_INIT;
	struct netns_prep ns = {.fd = -1};

	if (cmd->netns && (rc = netns_prepare(cmd->netns, &ns, err)) < 0)
		goto out;
	if (resolve(cmd->argv[0], envp, &path) < 0) {
		rc = fo_err_set(err, FO_ENOENT, "command '%s' not found", cmd->argv[0]);
		goto out;
	}
	const char *in_path = cmd->stdin_path ? cmd->stdin_path : "/dev/null";
	in_fd = open_cloexec(in_path, O_RDONLY, 0);
	if (in_fd < 0) {
		rc = fo_err_set(err, errno == ENOENT ? FO_ENOENT : FO_EIO, "cannot open '%s': %s", in_path,
				strerror(errno));
		goto out;
	}
	const char *log_path = cmd->log_path ? cmd->log_path : "/dev/null";
	log_fd = open_cloexec(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (log_fd < 0) {
		rc = fo_err_set(err, errno == ENOENT ? FO_ENOENT : FO_EIO, "cannot open log '%s': %s", log_path,
				strerror(errno));
		goto out;
	}
	if (cmd->log_prefix) {
		struct fo_buf pre = FO_BUF_INIT;
		fo_buf_adds(&pre, cmd->log_prefix);
		if (c->redact)
			fo_redact(&pre, c->redact, c->nredact);
		fo_write_all(log_fd, pre.s, pre.len);
		fo_buf_release(&pre);
	}
	if ((capture && pipe2(pipe_fd, O_CLOEXEC) < 0) || (c->redact && pipe2(err_pipe, O_CLOEXEC) < 0) ||
	    pipe2(rep, O_CLOEXEC) < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	struct rlimit rl;
	int max_fd = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536)
		max_fd = (int)rl.rlim_cur;
	struct child_args a = {
		.path = path.s,
		.argv = (char *const *)cmd->argv,
		.envp = envp,
		.cwd = cmd->cwd,
		.in_fd = in_fd,
		.out_fd = capture ? pipe_fd[1] : log_fd,
		.err_fd = c->redact ? err_pipe[1] : log_fd,
		.report_fd = rep[1],
		.max_fd = max_fd,
		.netns_fd = ns.fd,
		.netns = cmd->netns,
		.binds = ns.binds,
		.nbind = ns.n,
	};
	pid_t pid = fork();
	if (pid < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot start '%s': %s", cmd->argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(&a);
	setpgid(pid, pid); /* EACCES once the child has exec'd: it did it itself */
	close_fd(&rep[1]);
	close_fd(&pipe_fd[1]);
	close_fd(&err_pipe[1]);
	struct child_report r;
	ssize_t got;
	do
		got = read(rep[0], &r, sizeof(r));
	while (got < 0 && errno == EINTR);
	if (got == (ssize_t)sizeof(r)) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (r.stage == STAGE_CHDIR)
			rc = fo_err_set(err, r.err == ENOENT ? FO_ENOENT : FO_EIO, "cannot enter folder '%s': %s",
					cmd->cwd, strerror(r.err));
		else if (r.stage == STAGE_NETNS)
			rc = fo_err_set(err, FO_EIO, "cannot enter network namespace '%s' to run '%s': %s", cmd->netns,
					cmd->argv[0], strerror(r.err));
		else if (r.stage == STAGE_EXEC)
			rc = fo_err_set(err, r.err == ENOENT ? FO_ENOENT : FO_EIO, "cannot run '%s': %s",
					cmd->argv[0], strerror(r.err));
		else
			rc = fo_err_set(err, FO_EIO, "cannot set up '%s': %s", cmd->argv[0], strerror(r.err));
		goto out;
	}
	c->pid = pid;
	c->pidfd = fo_proc_pidfd(pid);
	if (capture) {
		c->out.rd = pipe_fd[0];
		pipe_fd[0] = -1;
		c->err.rd = err_pipe[0];
		err_pipe[0] = -1;
		c->log_fd = log_fd;
		log_fd = -1;
	}
out:
	close_fd(&in_fd);
	close_fd(&log_fd);
	close_fd(&pipe_fd[0]);
	close_fd(&pipe_fd[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&rep[0]);
	close_fd(&rep[1]);
	fo_free(envp);
	fo_buf_release(&path);
	netns_prep_release(&ns);
	return rc;
}

/* True once pid has ended (it stays a zombie: not reaped). */
static bool has_ended(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int r;
	do
		r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == ECHILD;
	return si.si_pid == pid;
}

/* Reaps pid; sets *code and *sig from its status. */
static void reap(pid_t pid, int *code, int *sig)
{
	int st = 0;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	*code = -1;
	*sig = 0;
	if (r == pid && WIFEXITED(st))
		*code = WEXITSTATUS(st);
	else if (r == pid && WIFSIGNALED(st))
		*sig = WTERMSIG(st);
}

/* ---- the registry of running commands ---- */

struct running {
	pid_t pgid;             /* 0 until the child has started */
	bool aborted;           /* killed by fo_proc_kill_all */
	struct running *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct running *reg_head;
static bool reg_blocked;

void fo_proc_kill_all(void)
{
	pthread_mutex_lock(&reg_lock);
	reg_blocked = true;
	for (struct running *e = reg_head; e; e = e->next) {
		e->aborted = true;
		if (e->pgid > 0)
			kill(-e->pgid, SIGKILL);
	}
	pthread_mutex_unlock(&reg_lock);
}

void fo_proc_allow(void)
{
	pthread_mutex_lock(&reg_lock);
	reg_blocked = false;
	pthread_mutex_unlock(&reg_lock);
}

/* Removes e from the registry; returns whether it was aborted. */
static bool unregister(struct running *e)
{
	pthread_mutex_lock(&reg_lock);
	for (struct running **pp = &reg_head; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	bool aborted = e->aborted;
	pthread_mutex_unlock(&reg_lock);
	return aborted;
}

/* Writes what t held back to the log, redacted (the end of its output). */
static void flush(struct child *c, struct tee *t)
{
	if (t->pend.len) {
		fo_redact(&t->pend, c->redact, c->nredact);
		fo_write_all(c->log_fd, t->pend.s, t->pend.len);
	}
	fo_buf_release(&t->pend);
}

/* Reads what pipe t holds: tees it to the log and the buffer (NULL: none). Returns false
 * at end of file or on an error (the pipe is then closed; what it held back stays for
 * flush). */
static bool pump(struct child *c, struct tee *t, struct fo_buf *capture, bool nonblocking)
{
	char chunk[16384];
	for (;;) {
		ssize_t n = read(t->rd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			close_fd(&t->rd);
			return false;
		}
		if (c->redact) {
			fo_buf_add(&t->pend, chunk, (size_t)n);
			fo_redact(&t->pend, c->redact, c->nredact);
			/* A secret may start in the last keep bytes, but not before a newline it lacks:
			 * so a finished line goes out at once (and one of stderr does not wait behind
			 * an unfinished one of stdout). */
			size_t hold = c->keep;
			const char *nl = c->whole_lines ? memrchr(t->pend.s, '\n', t->pend.len) : NULL;
			if (nl && t->pend.len - (size_t)(nl + 1 - t->pend.s) < hold)
				hold = t->pend.len - (size_t)(nl + 1 - t->pend.s);
			if (t->pend.len > hold) {
				size_t out = t->pend.len - hold;
				fo_write_all(c->log_fd, t->pend.s, out);
				memmove(t->pend.s, t->pend.s + out, hold);
				fo_buf_truncate(&t->pend, hold);
			}
		} else {
			fo_write_all(c->log_fd, chunk, (size_t)n);
		}
		if (capture) {
			size_t room = (size_t)n;
			if (capture->max && capture->len + room > capture->max)
				room = capture->max > capture->len ? capture->max - capture->len : 0;
			fo_buf_add(capture, chunk, room);
		}
		if (!nonblocking)
			return true;
	}
}

int fo_proc_run(const struct fo_cmd *cmd, fo_proc_started_fn started, void *ctx, struct fo_cmd_result *res,
		struct fo_err *err)
{
	struct fo_cmd_result dummy;
	if (!res)
		res = &dummy;
	*res = (struct fo_cmd_result){.exit_code = -1};
	int64_t t0 = fo_now_ns();

	struct running *e = fo_calloc(1, sizeof(*e));
	pthread_mutex_lock(&reg_lock);
	bool blocked = reg_blocked;
	if (!blocked) {
		e->next = reg_head;
		reg_head = e;
	}
	pthread_mutex_unlock(&reg_lock);
	if (blocked) {
		fo_free(e);
		res->aborted = true;
		return 0;
	}

	struct child c;
	int rc = spawn(cmd, cmd && cmd->capture, &c, err);
	if (rc < 0) {
		unregister(e);
		fo_free(e);
		return rc;
	}
	pthread_mutex_lock(&reg_lock);
	e->pgid = c.pid;
	if (e->aborted)
		kill(-c.pid, SIGKILL);
	pthread_mutex_unlock(&reg_lock);
	if (started)
		started(ctx, c.pid, c.pid);

	int64_t deadline = cmd->timeout_ns > 0 ? t0 + cmd->timeout_ns : 0;
	int64_t kill_at = 0;
	for (;;) {
		if (has_ended(c.pid))
			break;
		int64_t now = fo_now_ns();
		if (deadline && !res->timed_out && now >= deadline) {
			res->timed_out = true;
			kill(-c.pid, SIGTERM);
			kill_at = now + KILL_GRACE_NS;
		}
		if (kill_at && now >= kill_at) {
			kill(-c.pid, SIGKILL);
			kill_at = 0;
		}
		int64_t wait_ns = -1;
		if (deadline && !res->timed_out)
			wait_ns = deadline - now;
		else if (kill_at)
			wait_ns = kill_at - now;
		if (c.pidfd < 0 && (wait_ns < 0 || wait_ns > NO_PIDFD_TICK_MS * 1000000LL))
			wait_ns = NO_PIDFD_TICK_MS * 1000000LL;
		struct pollfd pfd[3];
		struct tee *tee[3] = {NULL};
		int np = 0;
		if (c.pidfd >= 0)
			pfd[np++] = (struct pollfd){.fd = c.pidfd, .events = POLLIN};
		if (c.out.rd >= 0) {
			tee[np] = &c.out;
			pfd[np++] = (struct pollfd){.fd = c.out.rd, .events = POLLIN};
		}
		if (c.err.rd >= 0) {
			tee[np] = &c.err;
			pfd[np++] = (struct pollfd){.fd = c.err.rd, .events = POLLIN};
		}
		int ms = wait_ns < 0 ? -1 : (int)((wait_ns + 999999) / 1000000);
		if (poll(pfd, (nfds_t)np, ms) > 0)
			for (int i = 0; i < np; i++)
				if (tee[i] && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
					pump(&c, tee[i], tee[i] == &c.out ? cmd->capture : NULL, false);
	}
	/* The leader has ended but is not reaped: its group id cannot be reused yet. */
	res->aborted = unregister(e);
	fo_free(e);
	if (res->timed_out || res->aborted)
		kill(-c.pid, SIGKILL); /* whatever it left in its group */
	struct tee *tees[] = {&c.out, &c.err};
	for (size_t i = 0; i < 2; i++) {
		struct tee *t = tees[i];
		if (t->rd >= 0) {
			fcntl(t->rd, F_SETFL, fcntl(t->rd, F_GETFL) | O_NONBLOCK);
			pump(&c, t, t == &c.out ? cmd->capture : NULL, true);
		}
		close_fd(&t->rd); /* a grandchild may hold it: what it wrote later is not read */
	}
	/* What was held back last (an unfinished line, with secrets): both pipes are drained. */
	flush(&c, &c.out);
	flush(&c, &c.err);
	reap(c.pid, &res->exit_code, &res->signal);
	res->elapsed_ns = fo_now_ns() - t0;
	close_fd(&c.log_fd);
	close_fd(&c.pidfd);
	return 0;
}

/* ---- services ---- */

struct fo_service {
	pid_t pid;                   /* also the process group */
	int pidfd;                   /* -1 without kernel support */
	int wake[2];                 /* wakes the watcher (detach) */
	pthread_t watcher;
	bool has_watcher;            /* watcher started and not yet joined */
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* signalled when exited becomes true */
	bool ended;                  /* the leader has ended (maybe not reaped yet) */
	bool exited;                 /* the leader is reaped; exit_code and signal are set */
	bool stopping;               /* fo_service_stop asked it to end */
	bool detached;               /* fo_service_detach: stop watching */
	bool by_itself;              /* it ended without being asked */
	int exit_code, signal;
	fo_service_exit_fn on_exit;
	void *exit_ctx;
};

static void *watch(void *arg)
{
	struct fo_service *s = arg;
	for (;;) {
		struct pollfd pfd[2];
		int np = 0;
		pfd[np++] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
		if (s->pidfd >= 0)
			pfd[np++] = (struct pollfd){.fd = s->pidfd, .events = POLLIN};
		poll(pfd, (nfds_t)np, s->pidfd >= 0 ? -1 : NO_PIDFD_TICK_MS);
		pthread_mutex_lock(&s->lock);
		bool detached = s->detached;
		pthread_mutex_unlock(&s->lock);
		if (detached)
			return NULL;
		if (has_ended(s->pid))
			break;
	}
	pthread_mutex_lock(&s->lock);
	s->ended = true;
	s->by_itself = !s->stopping;
	if (s->stopping)
		kill(-s->pid, SIGKILL); /* members that outlived the leader; the pid is still ours */
	pthread_mutex_unlock(&s->lock);
	int code, sig;
	reap(s->pid, &code, &sig);
	pthread_mutex_lock(&s->lock);
	s->exit_code = code;
	s->signal = sig;
	s->exited = true;
	bool report = s->by_itself && !s->detached;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (report && s->on_exit)
		s->on_exit(s->exit_ctx, s, code, sig);
	return NULL;
}

struct fo_service *fo_service_start(const struct fo_cmd *cmd, fo_proc_started_fn started, void *ctx,
				    fo_service_exit_fn on_exit, void *exit_ctx, struct fo_err *err)
{
	struct child c;
	struct fo_cmd plain;
	if (cmd && cmd->redact) { /* nobody would read the pipe of a service: its output goes straight to the log */
		plain = *cmd;
		plain.redact = NULL;
		cmd = &plain;
	}
	if (spawn(cmd, false, &c, err) < 0)
		return NULL;
	struct fo_service *s = fo_calloc(1, sizeof(*s));
	s->pid = c.pid;
	s->pidfd = c.pidfd;
	s->on_exit = on_exit;
	s->exit_ctx = exit_ctx;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (started)
		started(ctx, c.pid, c.pid);
	int e = pipe2(s->wake, O_CLOEXEC);
	if (e == 0)
		e = pthread_create(&s->watcher, NULL, watch, s);
	else
		e = errno;
	if (e != 0) {
		kill(-s->pid, SIGKILL);
		int code, sig;
		reap(s->pid, &code, &sig);
		close_fd(&s->wake[0]);
		close_fd(&s->wake[1]);
		close_fd(&s->pidfd);
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		fo_free(s);
		fo_err_set(err, FO_EIO, "cannot watch '%s': %s", cmd->argv[0], strerror(e));
		return NULL;
	}
	s->has_watcher = true;
	return s;
}

pid_t fo_service_pid(const struct fo_service *s)
{
	return s ? s->pid : -1;
}

bool fo_service_running(const struct fo_service *s)
{
	if (!s)
		return false;
	struct fo_service *m = (struct fo_service *)s;
	pthread_mutex_lock(&m->lock);
	bool running = !m->ended && !has_ended(m->pid);
	pthread_mutex_unlock(&m->lock);
	return running;
}

/* Waits on the condition until exited or the monotonic deadline. */
static void wait_exited(struct fo_service *s, int64_t deadline)
{
	while (!s->exited) {
		if (deadline == 0) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		if (fo_now_ns() >= deadline)
			return;
		struct timespec ts = {.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
}

static void join_watcher(struct fo_service *s)
{
	if (s->has_watcher && !pthread_equal(s->watcher, pthread_self())) {
		pthread_join(s->watcher, NULL);
		s->has_watcher = false;
	}
}

int fo_service_stop(struct fo_service *s, int64_t grace_ns)
{
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	bool was_ended = s->ended;
	s->stopping = true;
	if (!s->ended) {
		kill(-s->pid, SIGTERM);
		wait_exited(s, fo_now_ns() + (grace_ns > 0 ? grace_ns : 0));
		if (!s->ended)
			kill(-s->pid, SIGKILL);
	}
	wait_exited(s, 0);
	pthread_mutex_unlock(&s->lock);
	join_watcher(s);
	/* It ended by itself earlier: members it left keep the group (and its id) alive. */
	if (was_ended && kill(-s->pid, 0) == 0)
		fo_proc_kill_group(s->pid, grace_ns);
	return 0;
}

static void release(struct fo_service *s)
{
	close_fd(&s->wake[0]);
	close_fd(&s->wake[1]);
	close_fd(&s->pidfd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	fo_free(s);
}

void fo_service_free(struct fo_service *s)
{
	if (!s)
		return;
	fo_service_stop(s, KILL_GRACE_NS);
	release(s);
}

void fo_service_detach(struct fo_service *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->detached = true;
	pthread_mutex_unlock(&s->lock);
	fo_write_all(s->wake[1], "x", 1);
	join_watcher(s);
	release(s);
}
