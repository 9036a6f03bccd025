/*
 * sampler.c: the node sampler of sampler.h. One thread, woken at every whole second of
 * the workload's clock (or at once by fo_sampler_stop), reads:
 *
 * - /proc/stat, /proc/meminfo, /proc/net/dev and /proc/diskstats (whole disks: the
 *   devices of /sys/block with a `device` link) for the machine, once for all local nodes;
 * - /proc/self/stat and /proc/self/task/<tid>/{stat,schedstat} for fallout itself and its
 *   threads;
 * - /proc/<pid>/stat of every process, once, to find the members of the nodes' process
 *   groups (asked of the provisioner every time) and their descendants, and their CPU
 *   time and resident memory; for drivers also /proc/<pid>/task/<tid>/schedstat, the time
 *   they were runnable but waited for a CPU;
 * - each running service's statistics through its configuration manager's sample hook.
 *
 * A process's CPU over a second is the growth of utime + stime + cutime + cstime, so time
 * of children that ended and were waited for is not lost; when a member ends, what was
 * already counted of it is taken back from its parent's growth (its parent's cutime now
 * holds all of it), so nothing is counted twice. A process first seen after it started is
 * counted from its first sighting on.
 *
 * Costs, per second: four small files, one stat per process of the machine and per thread
 * of fallout, one round trip per service; the thread's own CPU time is measured, written
 * as fallout.sampler_cpu_pct, and logged at the end (about 0.4% of a core for ten nodes).
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/log.h"
#include "engine/run.h"
#include "metrics/sampler.h"
#include "spec/definition.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"

#define NS_PER_S 1000000000LL
#define LAST_SAMPLE_MIN_NS (250 * 1000000LL) /* a last sample only after this long */
#define RETRY_NS (5 * NS_PER_S)		     /* a failed service hook rests this long */
#define MAX_PIDS 256			     /* process groups per node and kind */
#define MAX_DEPTH 64			     /* ancestors looked at for a process */
#define MAX_NOTES 5			     /* saturation notes per node (or for fallout) */
#define TEXT_MAX (256 * 1024)		     /* a machine-wide /proc file */

/* ---- parsers ---- */

/* Reads an unsigned decimal after spaces at *p; advances *p. */
static bool next_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	uint64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	*p = s;
	*out = v;
	return true;
}

int fo_sampler_parse_cpu(const char *text, struct fo_cpu_times *out)
{
	*out = (struct fo_cpu_times){0};
	if (strncmp(text, "cpu ", 4) != 0)
		return FO_EPARSE;
	uint64_t *f[] = {&out->user,   &out->nice, &out->system,  &out->idle,
			 &out->iowait, &out->irq,  &out->softirq, &out->steal};
	const char *p = text + 4;
	size_t n = 0;
	while (n < FO_ARRAY_LEN(f) && next_u64(&p, f[n]))
		n++;
	return n >= 4 ? 0 : FO_EPARSE;
}

void fo_sampler_cpu_split(const struct fo_cpu_times *a, const struct fo_cpu_times *b, struct fo_cpu_split *out)
{
	*out = (struct fo_cpu_split){0};
#define D(f) (b->f >= a->f ? (double)(b->f - a->f) : 0.0)
	double user = D(user) + D(nice), sys = D(system) + D(irq) + D(softirq), idle = D(idle), io = D(iowait),
	       steal = D(steal);
#undef D
	double total = user + sys + idle + io + steal;
	if (total <= 0)
		return;
	out->user = 100 * user / total;
	out->system = 100 * sys / total;
	out->iowait = 100 * io / total;
	out->steal = 100 * steal / total;
	out->busy = 100 * (user + sys + steal) / total;
}

/* The line of text starting with key (at a line's start), or NULL. */
static const char *line_with(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (strncmp(s, key, n) == 0)
			return s + n;
	return NULL;
}

int fo_sampler_parse_meminfo(const char *text, struct fo_mem *out)
{
	*out = (struct fo_mem){0};
	const char *t = line_with(text, "MemTotal:"), *a = line_with(text, "MemAvailable:");
	uint64_t total, avail;
	if (!t || !a || !next_u64(&t, &total) || !next_u64(&a, &avail))
		return FO_EPARSE;
	out->total = total * 1024;
	out->available = avail * 1024;
	out->used = out->total > out->available ? out->total - out->available : 0;
	return 0;
}

int fo_sampler_parse_netdev(const char *text, struct fo_net *out)
{
	*out = (struct fo_net){0};
	bool any = false;
	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		const char *colon = strchr(s, ':'), *nl = strchr(s, '\n');
		if (!colon || (nl && colon > nl))
			continue; /* a header line */
		const char *name = s;
		while (*name == ' ')
			name++;
		bool lo = colon - name == 2 && strncmp(name, "lo", 2) == 0;
		const char *p = colon + 1;
		uint64_t v[9];
		size_t n = 0;
		while (n < FO_ARRAY_LEN(v) && next_u64(&p, &v[n]))
			n++;
		if (n < 9)
			return FO_EPARSE;
		*(lo ? &out->lo_rx : &out->rx) += v[0];
		*(lo ? &out->lo_tx : &out->tx) += v[8];
		any = true;
	}
	return any ? 0 : FO_EPARSE;
}

int fo_sampler_parse_diskstats(const char *text, fo_disk_filter_fn is_disk, void *ctx, struct fo_disk *out)
{
	*out = (struct fo_disk){0};
	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		if (*s == '\n')
			continue;
		char name[64];
		unsigned long long rd, wr;
		if (sscanf(s, "%*u %*u %63s %*u %*u %llu %*u %*u %*u %llu", name, &rd, &wr) != 3)
			return FO_EPARSE;
		if (is_disk(name, ctx)) {
			out->read += (uint64_t)rd * 512;
			out->written += (uint64_t)wr * 512;
		}
	}
	return 0;
}

int fo_sampler_parse_pidstat(const char *text, struct fo_pstat *out)
{
	*out = (struct fo_pstat){0};
	char *end;
	long pid = strtol(text, &end, 10);
	const char *close = strrchr(text, ')');
	if (end == text || strncmp(end, " (", 2) != 0 || !close || close < end + 2 || strncmp(close, ") ", 2) != 0)
		return FO_EPARSE;
	size_t n = (size_t)(close - (end + 2));
	if (n >= sizeof(out->comm))
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, end + 2, n);
	out->comm[n] = '\0';
	const char *p = close + 2;
	out->state = *p++;
	/* fields 4 (ppid) to 24 (rss); some (tpgid, priority, nice) may be negative */
	long long f[25];
	for (int i = 4; i <= 24; i++) {
		f[i] = strtoll(p, &end, 10);
		if (end == p)
			return FO_EPARSE;
		p = end;
	}
	out->pid = (int)pid;
	out->ppid = (int)f[4];
	out->pgrp = (int)f[5];
	out->utime = (uint64_t)(f[14] > 0 ? f[14] : 0);
	out->stime = (uint64_t)(f[15] > 0 ? f[15] : 0);
	out->cutime = (uint64_t)(f[16] > 0 ? f[16] : 0);
	out->cstime = (uint64_t)(f[17] > 0 ? f[17] : 0);
	out->start = (uint64_t)(f[22] > 0 ? f[22] : 0);
	out->rss_pages = (uint64_t)(f[24] > 0 ? f[24] : 0);
	return 0;
}

/* ---- the sampler ---- */

/* A run of seconds over the saturation threshold. */
struct streak {
	double seconds;
	double want; /* percent wanted (used + waiting for a CPU) x seconds, for the mean */
	double got;  /* percent used x seconds */
	int notes;   /* notes made so far */
};

/* A configuration manager's sample hook on one node. */
struct cmstate {
	const struct fo_propset *ps;
	json_t *prev; /* the counters (NAME_total) at the last answer */
	int64_t prev_ns;
	int64_t retry_at; /* after a failure: not asked before then (monotonic ns) */
	bool failing;	  /* the failure was logged */
};

/* What one node's processes of one kind (service, driver) did in a sample. */
struct acc {
	int64_t ticks;	 /* CPU, clock ticks */
	int64_t wait_ns; /* waiting for a CPU while runnable (drivers only) */
	uint64_t rss_pages;
	int procs;
	bool seen; /* had a process once: its figures are written from then on */
};

enum { SERVICE, DRIVER };

/* A file of lines, opened with the first one. */
struct sink {
	FILE *f;
	bool failed; /* could not be opened: said once, not tried again */
};

struct snode {
	struct fo_node *n;
	const struct fo_provisioner_ops *prov;
	struct cmstate *cms; /* one per configuration manager of the group */
	struct sink out;     /* metrics.jsonl */
	struct acc acc[2];
	struct streak sat;
	bool client;  /* its group plays the client role: its drivers may get notes */
	pid_t *setup; /* command groups alive at the baseline: what setup left running
		       * (a server started as a daemon) counts with the services */
	size_t nsetup, setup_cap;
};

/* A process seen in a sample. */
struct pent {
	pid_t pid, ppid, pgrp;
	uint64_t start;
	uint64_t total;	  /* utime + stime + cutime + cstime */
	uint64_t wait_ns; /* its threads' time runnable but waiting for a CPU (drivers only) */
	uint64_t rss;
	int owner; /* node index x 2 + kind; -1 none; -2 not yet known */
	bool zombie;
};

/* A thread of fallout seen in a sample. */
struct tent {
	pid_t tid;
	uint64_t start, total, wait_ns;
	char comm[32];
};

struct pgown {
	pid_t pgid;
	int owner;
};

struct fo_sampler {
	struct fo_run *r;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	bool stop;
	int64_t zero; /* the workload's start; 0 until set */
	long hz, page;
	int ncpu;
	pid_t self;
	struct snode *nodes;
	size_t nnodes;
	struct sink machine; /* metrics/machine.jsonl */
	char **disks;	     /* whole disks (names in /proc/diskstats) */
	size_t ndisks;
	char *text; /* TEXT_MAX + 1 bytes for a /proc file */
	struct fo_buf line;
	/* the previous sample */
	int64_t last_ns; /* 0 before the baseline */
	uint64_t last_boot_ticks;
	bool have_cpu, have_net, have_disk;
	struct fo_cpu_times cpu;
	struct fo_net net;
	struct fo_disk disk;
	uint64_t self_ticks;
	int64_t thread_cpu_ns; /* the sampler's own CPU at the last sample */
	struct pent *procs, *prev;
	size_t nprocs, nprev, procs_cap, prev_cap;
	struct tent *thr, *prev_thr;
	size_t nthr, nprev_thr, thr_cap, prev_thr_cap;
	struct pgown *pg;
	size_t npg, pg_cap;
	struct streak thread_sat;
	char thread_comm[32]; /* the name of the thread that wanted the most CPU */
	/* totals for the log */
	int samples;
	int64_t cost_ns, first_ns;
};

/* Reads a small file whole into s->text. Returns its length, or -1. */
static ssize_t slurp(struct fo_sampler *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t k = read(fd, s->text + len, TEXT_MAX - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (len == TEXT_MAX)
			break;
	}
	close(fd);
	s->text[len] = '\0';
	return (ssize_t)len;
}

/* Reads /proc/<dir>/<file> with one read into buf (n bytes, NUL-terminated). Returns
 * false when it cannot be opened or is empty. */
static bool read_proc(const char *dir, const char *file, char *buf, size_t n)
{
	char path[320];
	snprintf(path, sizeof(path), "/proc/%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t k = read(fd, buf, n - 1);
	close(fd);
	buf[k > 0 ? k : 0] = '\0';
	return k > 0;
}

/* Reads /proc/<dir>/stat (dir "self", "1234" or "self/task/1234"). */
static bool read_pstat(const char *dir, struct fo_pstat *ps)
{
	char buf[1024];
	return read_proc(dir, "stat", buf, sizeof(buf)) && fo_sampler_parse_pidstat(buf, ps) == 0;
}

/* The time runnable but waiting for a CPU (ns) from /proc/<dir>/schedstat; 0 if unknown. */
static uint64_t read_wait(const char *dir)
{
	char buf[128];
	unsigned long long run, wait;
	if (!read_proc(dir, "schedstat", buf, sizeof(buf)))
		return 0;
	return sscanf(buf, "%llu %llu", &run, &wait) == 2 ? (uint64_t)wait : 0;
}

/* The same for every thread of process pid. */
static uint64_t read_process_wait(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	uint64_t sum = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "%d/task/%.20s", (int)pid, e->d_name);
		sum += read_wait(dir);
	}
	closedir(d);
	return sum;
}

static bool is_whole_disk(const char *name, void *ctx)
{
	const struct fo_sampler *s = ctx;
	for (size_t i = 0; i < s->ndisks; i++)
		if (strcmp(s->disks[i], name) == 0)
			return true;
	return false;
}

/* The whole disks: /sys/block entries backed by a device (not loop, ram, dm, md...). */
static void find_disks(struct fo_sampler *s)
{
	DIR *d = opendir("/sys/block");
	if (!d)
		return;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300];
		struct stat st;
		snprintf(path, sizeof(path), "/sys/block/%s/device", e->d_name);
		if (stat(path, &st) != 0)
			continue;
		FO_GROW(s->disks, cap, s->ndisks + 1);
		s->disks[s->ndisks++] = fo_strdup(e->d_name);
	}
	closedir(d);
}

static uint64_t boot_ticks(const struct fo_sampler *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * (uint64_t)s->hz + (uint64_t)ts.tv_nsec / (uint64_t)(NS_PER_S / s->hz);
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Appends ,"name":v (v rounded to 3 decimals; whole numbers without). */
static void add_num(struct fo_buf *b, const char *name, double v)
{
	if (!isfinite(v))
		return;
	fo_buf_addch(b, ',');
	fo_buf_add_json_str(b, name, strlen(name));
	if (v == floor(v) && fabs(v) < 1e15)
		fo_buf_addf(b, ":%.0f", v);
	else
		fo_buf_addf(b, ":%.3f", v);
}

/* Writes {"t":...,"wall":...<fields>} to out (dir/name, opened on first use). */
static void write_line(struct fo_sampler *s, struct sink *out, const char *dir, const char *name, double t,
		       int64_t wall, const char *fields)
{
	if (!*fields || out->failed)
		return;
	if (!out->f) {
		struct fo_buf p = FO_BUF_INIT;
		struct fo_err err = {0};
		if (fo_mkdirs(dir, &err) == 0) {
			fo_buf_addf(&p, "%s/%s", dir, name);
			out->f = fopen(p.s, "we");
		}
		if (!out->f) {
			fo_warn(fo_run_log(s->r), "node metrics: cannot write '%s/%s': %s", dir, name,
				err.code ? err.msg : strerror(errno));
			out->failed = true;
		}
		fo_buf_release(&p);
		if (!out->f)
			return;
	}
	fprintf(out->f, "{\"t\":%.3f,\"wall\":%.3f%s}\n", t, (double)wall / 1e9, fields);
	fflush(out->f);
}

/* ---- saturation ---- */

/* What a streak was, once it ended. */
struct spell {
	double seconds, want, got; /* mean percents */
};

/*
 * Adds a second (dt s) in which want percent of the CPU was wanted (used or waited for:
 * on a busy machine a starved driver is as suspect as a saturated one) and got percent
 * used. Returns true when a streak long enough to note just ended, described in *sp.
 */
static bool streak_step(struct streak *st, double want, double got, double dt, struct spell *sp)
{
	if (want >= FO_SAMPLER_SATURATED_PCT && dt > 0) {
		st->seconds += dt;
		st->want += want * dt;
		st->got += got * dt;
		return false;
	}
	bool noted = st->seconds >= FO_SAMPLER_SATURATED_SECONDS - 0.05 && st->notes < MAX_NOTES;
	if (noted) {
		*sp = (struct spell){st->seconds, st->want / st->seconds, st->got / st->seconds};
		st->notes++;
	}
	st->seconds = st->want = st->got = 0;
	return noted;
}

/* "97% for 5 s", or, when it got less than it wanted, both. */
static void describe_spell(const struct spell *sp, const char *of, struct fo_buf *b)
{
	if (sp->got >= FO_SAMPLER_SATURATED_PCT)
		fo_buf_addf(b, "%.0f%% for %.0f s", sp->got, sp->seconds);
	else
		fo_buf_addf(b,
			    "for %.0f s it wanted %.0f%% of %s and got %.0f%%, waiting for a CPU the rest of the time",
			    sp->seconds, sp->want, of, sp->got);
}

static void note_driver(struct fo_sampler *s, struct snode *sn, const struct spell *sp)
{
	struct fo_buf b = FO_BUF_INIT;
	describe_spell(sp, "the cores", &b);
	fo_run_note(s->r, "load driver on %s/%s saturated its CPU (%s): its latency numbers are suspect",
		    sn->n->group->spec->name, sn->n->name, b.s);
	fo_buf_release(&b);
}

static void note_thread(struct fo_sampler *s, const struct spell *sp)
{
	struct fo_buf b = FO_BUF_INIT;
	describe_spell(sp, "a core", &b);
	fo_run_note(s->r,
		    "a thread of fallout itself ('%s', where in-process load drivers such as kvload run) saturated a "
		    "core (%s): the latency numbers measured in fallout are suspect",
		    s->thread_comm, b.s);
	fo_buf_release(&b);
}

/* ---- processes ---- */

static int cmp_pent(const void *a, const void *b)
{
	pid_t x = ((const struct pent *)a)->pid, y = ((const struct pent *)b)->pid;
	return (x > y) - (x < y);
}

static int cmp_pgown(const void *a, const void *b)
{
	pid_t x = ((const struct pgown *)a)->pgid, y = ((const struct pgown *)b)->pgid;
	return (x > y) - (x < y);
}

static struct pent *find_pent(struct pent *v, size_t n, pid_t pid)
{
	struct pent key = {.pid = pid};
	return n ? bsearch(&key, v, n, sizeof(*v), cmp_pent) : NULL;
}

static bool left_by_setup(const struct snode *sn, pid_t pgid)
{
	for (size_t i = 0; i < sn->nsetup; i++)
		if (sn->setup[i] == pgid)
			return true;
	return false;
}

/* Asks the provisioners for every node's process groups. */
static void collect_groups(struct fo_sampler *s)
{
	s->npg = 0;
	pid_t pids[MAX_PIDS];
	for (size_t i = 0; i < s->nnodes; i++) {
		struct snode *sn = &s->nodes[i];
		for (int kind = SERVICE; kind <= DRIVER; kind++) {
			int (*fn)(struct fo_node *, pid_t *, size_t) = !sn->prov	 ? NULL
								       : kind == SERVICE ? sn->prov->service_pids
											 : sn->prov->command_pids;
			int k = fn ? fn(sn->n, pids, MAX_PIDS) : 0;
			for (int j = 0; j < k && j < MAX_PIDS; j++) {
				if (kind == DRIVER && !s->last_ns) {
					FO_GROW(sn->setup, sn->setup_cap, sn->nsetup + 1);
					sn->setup[sn->nsetup++] = pids[j];
				}
				bool svc = kind == SERVICE || left_by_setup(sn, pids[j]);
				FO_GROW(s->pg, s->pg_cap, s->npg + 1);
				s->pg[s->npg++] = (struct pgown){pids[j], (int)i * 2 + (svc ? SERVICE : DRIVER)};
			}
		}
	}
	if (s->npg)
		qsort(s->pg, s->npg, sizeof(*s->pg), cmp_pgown);
}

static int group_owner(const struct fo_sampler *s, pid_t pgrp)
{
	struct pgown key = {.pgid = pgrp};
	const struct pgown *o = s->npg ? bsearch(&key, s->pg, s->npg, sizeof(*s->pg), cmp_pgown) : NULL;
	return o ? o->owner : -1;
}

/* The owner of p: its process group's, or its nearest owned ancestor's. */
static int resolve_owner(struct fo_sampler *s, struct pent *p)
{
	struct pent *chain[MAX_DEPTH];
	size_t n = 0;
	int owner = -1;
	for (struct pent *q = p; q && n < MAX_DEPTH; n++) {
		if (q->owner != -2) {
			owner = q->owner;
			break;
		}
		chain[n] = q;
		if (q->pid == s->self || q->ppid <= 1 || q->ppid == s->self)
			break;
		q = find_pent(s->procs, s->nprocs, q->ppid);
	}
	for (size_t i = 0; i < n; i++)
		chain[i]->owner = owner;
	return owner;
}

/* Reads every process and adds each node's share to its accumulators. */
static void scan_processes(struct fo_sampler *s)
{
	collect_groups(s);
	s->nprocs = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		struct fo_pstat ps;
		if (!read_pstat(e->d_name, &ps))
			continue;
		FO_GROW(s->procs, s->procs_cap, s->nprocs + 1);
		int owner = ps.pid == s->self ? -1 : group_owner(s, ps.pgrp);
		s->procs[s->nprocs++] = (struct pent){
		    .pid = ps.pid,
		    .ppid = ps.ppid,
		    .pgrp = ps.pgrp,
		    .start = ps.start,
		    .total = ps.utime + ps.stime + ps.cutime + ps.cstime,
		    .rss = ps.rss_pages,
		    .owner = owner >= 0 ? owner : -2,
		    .zombie = ps.state == 'Z',
		};
	}
	closedir(d);
	if (s->nprocs)
		qsort(s->procs, s->nprocs, sizeof(*s->procs), cmp_pent);
	for (size_t i = 0; i < s->nprocs; i++)
		resolve_owner(s, &s->procs[i]);
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct pent *p = &s->procs[i];
		if (p->owner < 0)
			continue;
		struct acc *a = &s->nodes[p->owner / 2].acc[p->owner % 2];
		const struct pent *q = find_pent(s->prev, s->nprev, p->pid);
		if (q && q->start == p->start)
			a->ticks += p->total >= q->total ? (int64_t)(p->total - q->total) : 0;
		else if (s->last_ns && p->start >= s->last_boot_ticks)
			a->ticks += (int64_t)p->total; /* born since the last sample */
		a->rss_pages += p->rss;
		a->procs += !p->zombie;
		a->seen = true;
		if (p->owner % 2 != DRIVER || p->zombie)
			continue;
		struct pent *w = &s->procs[i];
		w->wait_ns = read_process_wait(p->pid);
		if (q && q->start == p->start)
			a->wait_ns += w->wait_ns >= q->wait_ns ? (int64_t)(w->wait_ns - q->wait_ns) : 0;
		else if (s->last_ns && p->start >= s->last_boot_ticks)
			a->wait_ns += (int64_t)w->wait_ns;
	}
	/* A member gone since: if its parent is a member still, the parent's cutime now holds
	 * all of it, and what was counted of it already must not count again. */
	for (size_t i = 0; i < s->nprev; i++) {
		const struct pent *q = &s->prev[i];
		if (q->owner < 0)
			continue;
		const struct pent *p = find_pent(s->procs, s->nprocs, q->pid);
		if (p && p->start == q->start)
			continue;
		const struct pent *parent = find_pent(s->procs, s->nprocs, q->ppid);
		if (parent && parent->owner == q->owner)
			s->nodes[q->owner / 2].acc[q->owner % 2].ticks -= (int64_t)q->total;
	}
}

/* Reads fallout's threads: the most any one used over dt (percent of a core) into *got,
 * and the most any one wanted (used or waited for) into *want. */
static void scan_threads(struct fo_sampler *s, double dt, double *got, double *want)
{
	*got = *want = 0;
	s->nthr = 0;
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char dir[300];
		snprintf(dir, sizeof(dir), "self/task/%s", e->d_name);
		struct fo_pstat ps;
		if (!read_pstat(dir, &ps))
			continue;
		FO_GROW(s->thr, s->thr_cap, s->nthr + 1);
		struct tent *t = &s->thr[s->nthr++];
		*t = (struct tent){
		    .tid = ps.pid, .start = ps.start, .total = ps.utime + ps.stime, .wait_ns = read_wait(dir)};
		snprintf(t->comm, sizeof(t->comm), "%s", ps.comm);
	}
	closedir(d);
	for (size_t i = 0; i < s->nthr && dt > 0; i++) {
		const struct tent *t = &s->thr[i];
		for (size_t k = 0; k < s->nprev_thr; k++) {
			const struct tent *q = &s->prev_thr[k];
			if (q->tid != t->tid || q->start != t->start)
				continue;
			double used =
			    t->total >= q->total ? 100.0 * (double)(t->total - q->total) / (double)s->hz / dt : 0;
			double waited =
			    t->wait_ns >= q->wait_ns ? 100.0 * (double)(t->wait_ns - q->wait_ns) / 1e9 / dt : 0;
			*got = used > *got ? used : *got;
			if (used + waited > *want) {
				*want = used + waited;
				snprintf(s->thread_comm, sizeof(s->thread_comm), "%s", t->comm);
			}
			break;
		}
	}
}

/* ---- service statistics ---- */

/* Asks each running service of node sn for its figures; appends them to fields. */
static void sample_services(struct fo_sampler *s, struct snode *sn, int64_t now, struct fo_buf *fields)
{
	const struct fo_group *spec = sn->n->group->spec;
	if (fo_rgroup_state(sn->n->group) != FO_RL_STARTED_SERVICES_RUNNING)
		return;
	struct fo_buf out = FO_BUF_INIT, name = FO_BUF_INIT, text = FO_BUF_INIT;
	fo_buf_init(&out, 64 * 1024);
	for (size_t c = 0; c < spec->ncms; c++) {
		const struct fo_component *comp = spec->cms[c].comp;
		struct cmstate *cs = &sn->cms[c];
		if (!comp || !comp->cm || !comp->cm->sample || now < cs->retry_at)
			continue;
		fo_buf_clear(&out);
		struct fo_err err = {0};
		int rc = comp->cm->sample(sn->n, &spec->cms[c], &out, &err);
		json_t *j = NULL;
		if (!rc) {
			fo_buf_clear(&text);
			fo_buf_addf(&text, "{%s}", out.s);
			j = json_loads(text.s, 0, NULL);
			if (!j || !json_is_object(j))
				rc = fo_err_set(&err, FO_EPARSE, "its figures are not JSON: %.200s", out.s);
		}
		if (rc) {
			if (!cs->failing)
				fo_info(sn->n->log, "node metrics: no %s figures for now: %s", comp->name,
					err.code ? err.msg : fo_strerror(rc));
			cs->failing = true;
			cs->retry_at = now + RETRY_NS;
			json_decref(j);
			continue;
		}
		if (cs->failing)
			fo_info(sn->n->log, "node metrics: %s figures are back", comp->name);
		cs->failing = false;
		double dt = cs->prev_ns ? (double)(now - cs->prev_ns) / 1e9 : 0;
		if (!cs->prev)
			cs->prev = json_object();
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			if (!json_is_number(v))
				continue;
			double x = json_number_value(v);
			size_t klen = strlen(key);
			fo_buf_clear(&name);
			if (klen > 6 && strcmp(key + klen - 6, "_total") == 0) {
				json_t *old = json_object_get(cs->prev, key);
				if (old && dt > 0 && x >= json_real_value(old)) {
					fo_buf_addf(&name, "%s.%.*s_per_s", comp->name, (int)(klen - 6), key);
					add_num(fields, name.s, (x - json_real_value(old)) / dt);
				}
				json_object_set_new(cs->prev, key, json_real(x));
			} else {
				fo_buf_addf(&name, "%s.%s", comp->name, key);
				add_num(fields, name.s, x);
			}
		}
		cs->prev_ns = now;
		json_decref(j);
	}
	fo_buf_release(&out);
	fo_buf_release(&name);
	fo_buf_release(&text);
}

/* ---- one sample ---- */

/* Appends the figures of one kind of a node's processes. */
static void add_acc(struct fo_sampler *s, struct fo_buf *b, const char *kind, const struct acc *a, double dt)
{
	if (!a->seen || dt <= 0)
		return;
	char name[64];
	snprintf(name, sizeof(name), "%s.cpu_pct", kind);
	add_num(b, name, 100.0 * (double)(a->ticks > 0 ? a->ticks : 0) / (double)s->hz / dt);
	snprintf(name, sizeof(name), "%s.rss_bytes", kind);
	add_num(b, name, (double)a->rss_pages * (double)s->page);
	snprintf(name, sizeof(name), "%s.processes", kind);
	add_num(b, name, a->procs);
	if (strcmp(kind, "driver") == 0) {
		snprintf(name, sizeof(name), "%s.cpu_wait_pct", kind);
		add_num(b, name, 100.0 * (double)(a->wait_ns > 0 ? a->wait_ns : 0) / 1e9 / dt);
	}
}

static double rate(uint64_t before, uint64_t after, double dt)
{
	return after >= before && dt > 0 ? (double)(after - before) / dt : 0;
}

/* The machine's figures since the last sample into b (nothing at the baseline). */
static void sample_machine(struct fo_sampler *s, double dt, struct fo_buf *b)
{
	struct fo_cpu_times cpu;
	struct fo_net net;
	struct fo_disk disk;
	struct fo_mem mem;
	bool cpu_ok = slurp(s, "/proc/stat") > 0 && fo_sampler_parse_cpu(s->text, &cpu) == 0;
	bool mem_ok = slurp(s, "/proc/meminfo") > 0 && fo_sampler_parse_meminfo(s->text, &mem) == 0;
	bool net_ok = slurp(s, "/proc/net/dev") > 0 && fo_sampler_parse_netdev(s->text, &net) == 0;
	bool disk_ok = s->ndisks && slurp(s, "/proc/diskstats") > 0 &&
		       fo_sampler_parse_diskstats(s->text, is_whole_disk, s, &disk) == 0;
	if (dt > 0) {
		add_num(b, "cpu.cores", s->ncpu);
		if (cpu_ok && s->have_cpu) {
			struct fo_cpu_split sp;
			fo_sampler_cpu_split(&s->cpu, &cpu, &sp);
			add_num(b, "cpu.busy_pct", sp.busy);
			add_num(b, "cpu.user_pct", sp.user);
			add_num(b, "cpu.system_pct", sp.system);
			add_num(b, "cpu.iowait_pct", sp.iowait);
			add_num(b, "cpu.steal_pct", sp.steal);
		}
		if (mem_ok) {
			add_num(b, "mem.total_bytes", (double)mem.total);
			add_num(b, "mem.used_bytes", (double)mem.used);
			add_num(b, "mem.available_bytes", (double)mem.available);
		}
		if (net_ok && s->have_net) {
			add_num(b, "net.rx_bytes_per_s", rate(s->net.rx, net.rx, dt));
			add_num(b, "net.tx_bytes_per_s", rate(s->net.tx, net.tx, dt));
			add_num(b, "net.lo.rx_bytes_per_s", rate(s->net.lo_rx, net.lo_rx, dt));
			add_num(b, "net.lo.tx_bytes_per_s", rate(s->net.lo_tx, net.lo_tx, dt));
		}
		if (disk_ok && s->have_disk) {
			add_num(b, "disk.read_bytes_per_s", rate(s->disk.read, disk.read, dt));
			add_num(b, "disk.write_bytes_per_s", rate(s->disk.written, disk.written, dt));
		}
	}
	if ((s->have_cpu = cpu_ok))
		s->cpu = cpu;
	if ((s->have_net = net_ok))
		s->net = net;
	if ((s->have_disk = disk_ok))
		s->disk = disk;
}

/* Takes a sample: reads everything, writes the lines (not at the baseline, when
 * s->last_ns is 0) and watches for saturation. */
static void take(struct fo_sampler *s)
{
	int64_t now = fo_now_ns(), wall = fo_wall_ns();
	int64_t cpu0 = thread_cpu_ns();
	uint64_t now_boot = boot_ticks(s);
	double dt = s->last_ns ? (double)(now - s->last_ns) / 1e9 : 0;
	double t = s->zero ? (double)(now - s->zero) / 1e9 : 0;
	struct fo_buf *b = &s->line;
	fo_buf_clear(b);

	sample_machine(s, dt, b);
	struct fo_pstat self;
	bool self_ok = read_pstat("self", &self);
	double busiest, thread_want;
	scan_threads(s, dt, &busiest, &thread_want);
	if (dt > 0 && self_ok) {
		add_num(b, "fallout.cpu_pct",
			100.0 * (double)(self.utime + self.stime - s->self_ticks) / (double)s->hz / dt);
		add_num(b, "fallout.rss_bytes", (double)self.rss_pages * (double)s->page);
		add_num(b, "fallout.busiest_thread_cpu_pct", busiest);
		/* the sampler's thread since the last sample began: that sample's cost */
		add_num(b, "fallout.sampler_cpu_pct", 100.0 * (double)(cpu0 - s->thread_cpu_ns) / 1e9 / dt);
	}
	if (self_ok)
		s->self_ticks = self.utime + self.stime;
	struct fo_buf dir = FO_BUF_INIT;
	if (dt > 0) {
		fo_buf_addf(&dir, "%s/metrics", fo_run_dir(s->r));
		write_line(s, &s->machine, dir.s, "machine.jsonl", t, wall, b->s);
	}

	for (size_t i = 0; i < s->nnodes; i++) {
		struct acc *a = s->nodes[i].acc;
		for (int k = SERVICE; k <= DRIVER; k++)
			a[k] = (struct acc){.seen = a[k].seen};
	}
	scan_processes(s);
	for (size_t i = 0; i < s->nnodes; i++) {
		struct snode *sn = &s->nodes[i];
		fo_buf_clear(b);
		add_acc(s, b, "service", &sn->acc[SERVICE], dt);
		add_acc(s, b, "driver", &sn->acc[DRIVER], dt);
		sample_services(s, sn, now, b);
		if (dt > 0) {
			fo_buf_clear(&dir);
			fo_buf_adds(&dir, sn->n->artifacts);
			write_line(s, &sn->out, dir.s, "metrics.jsonl", t, wall, b->s);
			const struct acc *a = &sn->acc[DRIVER];
			double got = 100.0 * (double)(a->ticks > 0 ? a->ticks : 0) / (double)s->hz / dt / s->ncpu;
			double waited = 100.0 * (double)(a->wait_ns > 0 ? a->wait_ns : 0) / 1e9 / dt / s->ncpu;
			struct spell sp;
			if (streak_step(&sn->sat, sn->client ? got + waited : 0, got, dt, &sp))
				note_driver(s, sn, &sp);
		}
	}
	struct spell sp;
	if (dt > 0 && streak_step(&s->thread_sat, thread_want, busiest, dt, &sp))
		note_thread(s, &sp);
	fo_buf_release(&dir);

	/* this sample becomes the previous one (the arrays swap, keeping their memory) */
#define SWAP(T, a, b)                                                                                                  \
	do {                                                                                                           \
		T tmp_ = (a);                                                                                          \
		(a) = (b);                                                                                             \
		(b) = tmp_;                                                                                            \
	} while (0)
	SWAP(struct pent *, s->prev, s->procs);
	SWAP(size_t, s->prev_cap, s->procs_cap);
	SWAP(struct tent *, s->prev_thr, s->thr);
	SWAP(size_t, s->prev_thr_cap, s->thr_cap);
#undef SWAP
	s->nprev = s->nprocs;
	s->nprev_thr = s->nthr;
	s->nprocs = s->nthr = 0;
	s->last_ns = now;
	s->last_boot_ticks = now_boot;
	s->thread_cpu_ns = cpu0;
	s->cost_ns += thread_cpu_ns() - cpu0;
	s->samples += dt > 0;
}

/* ---- the thread ---- */

/* Waits until the monotonic time due or a stop. Lock held. Returns true on stop. */
static bool wait_until(struct fo_sampler *s, int64_t due)
{
	while (!s->stop) {
		if (fo_now_ns() >= due)
			return false;
		struct timespec ts = {.tv_sec = due / NS_PER_S, .tv_nsec = due % NS_PER_S};
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	return true;
}

static void *run_thread(void *arg)
{
	struct fo_sampler *s = arg;
	s->thread_cpu_ns = thread_cpu_ns(); /* the baseline was taken by another thread */
	pthread_mutex_lock(&s->lock);
	while (!s->stop && !s->zero)
		pthread_cond_wait(&s->cond, &s->lock);
	while (!s->stop) {
		int64_t k = (fo_now_ns() - s->zero) / NS_PER_S + 1;
		if (wait_until(s, s->zero + k * NS_PER_S))
			break;
		pthread_mutex_unlock(&s->lock);
		bool aborted = fo_run_aborted(s->r);
		if (!aborted)
			take(s);
		pthread_mutex_lock(&s->lock);
		if (aborted)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	if (s->stop && s->zero && !fo_run_aborted(s->r) && fo_now_ns() - s->last_ns >= LAST_SAMPLE_MIN_NS)
		take(s);
	return NULL;
}

static void free_sampler(struct fo_sampler *s)
{
	for (size_t i = 0; i < s->nnodes; i++) {
		struct snode *sn = &s->nodes[i];
		if (sn->out.f)
			fclose(sn->out.f);
		for (size_t c = 0; sn->cms && c < sn->n->group->spec->ncms; c++)
			json_decref(sn->cms[c].prev);
		fo_free(sn->cms);
		fo_free(sn->setup);
	}
	fo_free(s->nodes);
	if (s->machine.f)
		fclose(s->machine.f);
	for (size_t i = 0; i < s->ndisks; i++)
		fo_free(s->disks[i]);
	fo_free(s->disks);
	fo_free(s->text);
	fo_buf_release(&s->line);
	fo_free(s->procs);
	fo_free(s->prev);
	fo_free(s->thr);
	fo_free(s->prev_thr);
	fo_free(s->pg);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	fo_free(s);
}

struct fo_sampler *fo_sampler_start(struct fo_run *r, struct fo_err *err)
{
	struct fo_sampler *s = fo_calloc(1, sizeof(*s));
	s->r = r;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->hz = sysconf(_SC_CLK_TCK);
	s->page = sysconf(_SC_PAGESIZE);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s->ncpu = ncpu > 0 ? (int)ncpu : 1;
	if (s->hz <= 0 || s->page <= 0) {
		free_sampler(s);
		fo_err_set(err, FO_EUNSUPPORTED, "the clock tick or page size is unknown");
		return NULL;
	}
	s->self = getpid();
	s->text = fo_malloc(TEXT_MAX + 1);
	fo_buf_init(&s->line, 0);
	find_disks(s);
	for (size_t i = 0; i < fo_run_ngroups(r); i++)
		s->nnodes += fo_run_group_at(r, i)->n;
	s->nodes = fo_calloc(s->nnodes ? s->nnodes : 1, sizeof(*s->nodes));
	for (size_t i = 0, k = 0; i < fo_run_ngroups(r); i++) {
		struct fo_rgroup *g = fo_run_group_at(r, i);
		const struct fo_component *prov = g->spec->provisioner.comp;
		for (size_t j = 0; j < g->n; j++, k++) {
			struct snode *sn = &s->nodes[k];
			sn->n = &g->nodes[j];
			sn->prov = prov ? prov->provisioner : NULL;
			sn->cms = fo_calloc(g->spec->ncms ? g->spec->ncms : 1, sizeof(*sn->cms));
			sn->client = (g->spec->roles & (1u << FO_ROLE_CLIENT)) != 0;
		}
	}
	if (slurp(s, "/proc/stat") <= 0) {
		free_sampler(s);
		fo_err_set(err, FO_EUNSUPPORTED, "cannot read /proc/stat: %s", strerror(errno));
		return NULL;
	}
	s->first_ns = fo_now_ns();
	take(s); /* the baseline */
	int e = pthread_create(&s->thread, NULL, run_thread, s);
	if (e) {
		free_sampler(s);
		fo_err_set(err, FO_EIO, "cannot start the sampler's thread: %s", strerror(e));
		return NULL;
	}
	s->started = true;
	return s;
}

void fo_sampler_set_zero(struct fo_sampler *s, int64_t zero_ns)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->zero = zero_ns ? zero_ns : 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void fo_sampler_stop(struct fo_sampler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->thread, NULL);
	struct spell sp;
	for (size_t i = 0; i < s->nnodes; i++)
		if (streak_step(&s->nodes[i].sat, 0, 0, 0, &sp))
			note_driver(s, &s->nodes[i], &sp);
	if (streak_step(&s->thread_sat, 0, 0, 0, &sp))
		note_thread(s, &sp);
	double span = (double)(fo_now_ns() - s->first_ns) / 1e9;
	fo_info(fo_run_log(s->r),
		"node metrics: %d sample%s of %zu node%s; sampling used %.1f ms of CPU in %.1f s (%.3f%% of a core)",
		s->samples, s->samples == 1 ? "" : "s", s->nnodes, s->nnodes == 1 ? "" : "s", (double)s->cost_ns / 1e6,
		span, span > 0 ? 100.0 * (double)s->cost_ns / 1e9 / span : 0.0);
	free_sampler(s);
}
