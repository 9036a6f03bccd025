/*
 * sampler.h: node metrics, the observer. While a run is RUNNING one thread samples, once a
 * second on the workload's clock (t = 1, 2, 3 ... s after the workload started), what the
 * machine and every node of every group are doing, and writes one JSON object a line:
 *
 *   metrics/machine.jsonl          this machine (local nodes share it): cpu.*, mem.*, net.*,
 *                                  disk.*, and fallout's own process, fallout.*
 *   <group>/<node>/metrics.jsonl   one node: its services' processes (service.*), the
 *                                  commands modules run on it (driver.*), and its services'
 *                                  own statistics (<configuration manager>.*, e.g. redis.*)
 *
 *   {"t":1.000,"wall":1767000000.123,"service.cpu_pct":12.0,"redis.ops_per_s":5000,...}
 *
 * Every field is a number; the name's suffix gives its unit (_pct, _bytes, _bytes_per_s,
 * _per_s; none: a count). Field names are one vocabulary for both kinds of file, so a node
 * on a machine of its own (a future remote provisioner) can carry cpu.* and the rest in its
 * own file. docs/running.md ("Node metrics") lists the fields.
 *
 * Processes are found through the provisioner (fo_provisioner_ops.service_pids and
 * command_pids): every process of those process groups, and every descendant of such a
 * process (PostgreSQL's backends start sessions of their own). Command groups already
 * alive at the baseline were left by setup (a server started as a daemon) and count as
 * services; the others are drivers. A client node whose drivers want (use, or are ready to
 * use but wait for: on a busy machine a starved driver is as suspect) >= 90% of the
 * machine's cores for 3 seconds or more, and a thread of fallout itself (in-process load
 * drivers such as kvload) wanting >= 90% of a core as long, get a run note (fo_run_note):
 * their latency numbers are suspect.
 *
 * The /proc parsers are pure functions of the text, exposed for the unit tests.
 */
#ifndef FO_SAMPLER_H
#define FO_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

struct fo_err;
struct fo_run;
struct fo_sampler;

/* How many seconds in a row over the threshold make a saturation note. */
#define FO_SAMPLER_SATURATED_SECONDS 3
/* The threshold: percent of the cores (module processes) or of one core (a thread). */
#define FO_SAMPLER_SATURATED_PCT 90.0

/*
 * Starts sampling run r (borrowed; it must outlive the sampler): takes the baseline now
 * and starts the thread, which waits for fo_sampler_set_zero. Returns an owned sampler, or
 * NULL with err set (the run goes on without metrics).
 */
struct fo_sampler *fo_sampler_start(struct fo_run *r, struct fo_err *err);
/* Sets time zero, the workload's start (monotonic ns, fo_now_ns): samples are taken at
 * zero + 1 s, + 2 s ... NULL is fine. */
void fo_sampler_set_zero(struct fo_sampler *s, int64_t zero_ns);
/*
 * Stops at once: takes a last sample (when the previous one is 250 ms old or more and the
 * run is not aborted), records saturation notes still open, logs what sampling cost,
 * closes the files and frees s. NULL is fine.
 */
void fo_sampler_stop(struct fo_sampler *s);

/* ---- /proc parsers (for the unit tests) ---- */

/* The machine's CPU time, in clock ticks, from the "cpu " line of /proc/stat. */
struct fo_cpu_times {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};
/* Parses /proc/stat's first line. Returns 0 or FO_EPARSE. */
int fo_sampler_parse_cpu(const char *stat_text, struct fo_cpu_times *out);

/* Where the CPU time between two readings went, in percent of all CPUs (0 to 100). */
struct fo_cpu_split {
	double user;   /* user and nice */
	double system; /* system, irq and softirq */
	double iowait;
	double steal;
	double busy; /* everything but idle and iowait */
};
/* Splits after - before. All zero when no time passed. */
void fo_sampler_cpu_split(const struct fo_cpu_times *before, const struct fo_cpu_times *after,
			  struct fo_cpu_split *out);

/* Memory, in bytes, from /proc/meminfo (used = total - available). */
struct fo_mem {
	uint64_t total, available, used;
};
/* Parses /proc/meminfo. Returns 0 or FO_EPARSE (MemTotal or MemAvailable missing). */
int fo_sampler_parse_meminfo(const char *text, struct fo_mem *out);

/* Bytes through the network interfaces since boot: all but loopback, and loopback. */
struct fo_net {
	uint64_t rx, tx, lo_rx, lo_tx;
};
/* Parses /proc/net/dev. Returns 0 or FO_EPARSE. */
int fo_sampler_parse_netdev(const char *text, struct fo_net *out);

/* Bytes read from and written to whole disks since boot. */
struct fo_disk {
	uint64_t read, written;
};
/* Says whether a /proc/diskstats device name is a disk to count. */
typedef bool (*fo_disk_filter_fn)(const char *name, void *ctx);
/* Parses /proc/diskstats, adding the devices is_disk accepts (sectors are 512 bytes).
 * Returns 0 or FO_EPARSE. */
int fo_sampler_parse_diskstats(const char *text, fo_disk_filter_fn is_disk, void *ctx, struct fo_disk *out);

/* What the sampler reads of /proc/<pid>/stat (times in clock ticks). */
struct fo_pstat {
	int pid, ppid, pgrp;
	char state;		 /* R, S, D, Z ... */
	char comm[32];		 /* truncated */
	uint64_t utime, stime;	 /* its own, all threads */
	uint64_t cutime, cstime; /* of its children it has waited for */
	uint64_t start;		 /* start time, ticks since boot */
	uint64_t rss_pages;	 /* resident set size, pages (statm's resident; 0 for a zombie) */
};
/* Parses /proc/<pid>/stat (the command name may hold spaces and parentheses). Returns 0
 * or FO_EPARSE. Its rss is the figure /proc/<pid>/statm gives as resident, so one read
 * per process is enough. */
int fo_sampler_parse_pidstat(const char *text, struct fo_pstat *out);

#endif
