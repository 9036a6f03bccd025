/*
 * test_sampler.c: the node sampler's /proc parsers on saved snapshots (CPU percentages
 * from two /proc/stat readings, meminfo, net/dev with loopback apart, diskstats counting
 * whole disks only, /proc/<pid>/stat with awkward command names), and metrics files read
 * back as series (units, gaps, a last line cut short, bad lines).
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "metrics/sampler.h"
#include "report/metrics_load.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

/* ---- /proc/stat ---- */

static const char STAT_A[] = "cpu  1000 50 300 8000 100 10 40 0 0 0\n"
			     "cpu0 500 25 150 4000 50 5 20 0 0 0\n"
			     "intr 12345 0 0\n"
			     "ctxt 999\n";
static const char STAT_B[] = "cpu  1150 50 350 8180 110 20 40 0 0 0\n"
			     "cpu0 575 25 175 4090 55 10 20 0 0 0\n";

static void test_cpu_percent_from_two_readings(void **state)
{
	struct fo_cpu_times a, b;
	assert_int_equal(fo_sampler_parse_cpu(STAT_A, &a), 0);
	assert_int_equal(fo_sampler_parse_cpu(STAT_B, &b), 0);
	assert_int_equal(a.user, 1000);
	assert_int_equal(a.softirq, 40);
	assert_int_equal(b.idle, 8180);
	/* 400 ticks passed: 150 user, 60 system + irq, 180 idle, 10 iowait */
	struct fo_cpu_split sp;
	fo_sampler_cpu_split(&a, &b, &sp);
	assert_float_equal(sp.user, 37.5, 1e-9);
	assert_float_equal(sp.system, 15.0, 1e-9);
	assert_float_equal(sp.iowait, 2.5, 1e-9);
	assert_float_equal(sp.steal, 0.0, 1e-9);
	assert_float_equal(sp.busy, 52.5, 1e-9);
}

static void test_cpu_nothing_passed_and_bad_text(void **state)
{
	struct fo_cpu_times a, b;
	assert_int_equal(fo_sampler_parse_cpu(STAT_A, &a), 0);
	struct fo_cpu_split sp;
	fo_sampler_cpu_split(&a, &a, &sp);
	assert_float_equal(sp.busy, 0.0, 1e-9);
	assert_int_equal(fo_sampler_parse_cpu("cpu0 1 2 3 4\n", &b), FO_EPARSE);
	assert_int_equal(fo_sampler_parse_cpu("cpu  1 2\n", &b), FO_EPARSE);
	/* an old kernel: four fields only */
	assert_int_equal(fo_sampler_parse_cpu("cpu  1 2 3 4\n", &b), 0);
	assert_int_equal(b.idle, 4);
	assert_int_equal(b.iowait, 0);
}

/* ---- /proc/meminfo ---- */

static void test_meminfo(void **state)
{
	static const char text[] = "MemTotal:       24683652 kB\n"
				   "MemFree:        22456832 kB\n"
				   "MemAvailable:   24063184 kB\n"
				   "Buffers:           33144 kB\n";
	struct fo_mem m;
	assert_int_equal(fo_sampler_parse_meminfo(text, &m), 0);
	assert_int_equal(m.total, 24683652ULL * 1024);
	assert_int_equal(m.available, 24063184ULL * 1024);
	assert_int_equal(m.used, (24683652ULL - 24063184ULL) * 1024);
	assert_int_equal(fo_sampler_parse_meminfo("MemTotal: 5 kB\nMemFree: 1 kB\n", &m), FO_EPARSE);
}

/* ---- /proc/net/dev ---- */

static void test_netdev_loopback_apart(void **state)
{
	static const char text[] =
	    "Inter-|   Receive                                                |  Transmit\n"
	    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo "
	    "colls carrier compressed\n"
	    "    lo: 1778452333 4989179    0    0    0     0          0         0 1778452000 4989179    0    0    0 "
	    "    0       0          0\n"
	    "  eth0: 155830592    4669    0    0    0     0          0         0   241500    3148    0    0    0 "
	    "    0       0          0\n"
	    "  eth1:1000 1 0 0 0 0 0 0 2000 2 0 0 0 0 0 0\n";
	struct fo_net n;
	assert_int_equal(fo_sampler_parse_netdev(text, &n), 0);
	assert_int_equal(n.lo_rx, 1778452333ULL);
	assert_int_equal(n.lo_tx, 1778452000ULL);
	assert_int_equal(n.rx, 155830592ULL + 1000);
	assert_int_equal(n.tx, 241500ULL + 2000);
	assert_int_equal(fo_sampler_parse_netdev("Inter-|\n face |\n", &n), FO_EPARSE);
	assert_int_equal(fo_sampler_parse_netdev("  eth0: 1 2 3\n", &n), FO_EPARSE);
}

/* ---- /proc/diskstats ---- */

static bool only_vda_and_nvme(const char *name, void *ctx)
{
	int *calls = ctx;
	(*calls)++;
	return strcmp(name, "vda") == 0 || strcmp(name, "nvme0n1") == 0;
}

static void test_diskstats_whole_disks_only(void **state)
{
	static const char text[] =
	    "   7       0 loop0 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	    " 254       0 vda 258226 21296 8756034 478556 214235 117306 17427160 147576 0 77204 660115 130958 73 "
	    "40841072 22631 69054 11351\n"
	    " 254       1 vda1 1000 0 2000 0 1000 0 3000 0 0 0 0 0 0 0 0 0 0\n"
	    " 259       0 nvme0n1 1 0 10 0 1 0 20 0 0 0 0\n";
	int calls = 0;
	struct fo_disk d;
	assert_int_equal(fo_sampler_parse_diskstats(text, only_vda_and_nvme, &calls, &d), 0);
	assert_int_equal(calls, 4);
	assert_int_equal(d.read, (8756034ULL + 10) * 512);
	assert_int_equal(d.written, (17427160ULL + 20) * 512);
	assert_int_equal(fo_sampler_parse_diskstats("garbage\n", only_vda_and_nvme, &calls, &d), FO_EPARSE);
}

/* ---- /proc/<pid>/stat ---- */

static void test_pidstat(void **state)
{
	static const char text[] =
	    "4242 (redis-server) S 4100 4242 4242 0 -1 4194560 1200 0 0 0 1234 567 89 10 20 0 5 0 987654 "
	    "75681792 3001 18446744073709551615 1 1 0 0 0 0 0 4097 17642 0 0 0 17 1 0 0 0 0 0\n";
	struct fo_pstat ps;
	assert_int_equal(fo_sampler_parse_pidstat(text, &ps), 0);
	assert_int_equal(ps.pid, 4242);
	assert_int_equal(ps.ppid, 4100);
	assert_int_equal(ps.pgrp, 4242);
	assert_int_equal(ps.state, 'S');
	assert_string_equal(ps.comm, "redis-server");
	assert_int_equal(ps.utime, 1234);
	assert_int_equal(ps.stime, 567);
	assert_int_equal(ps.cutime, 89);
	assert_int_equal(ps.cstime, 10);
	assert_int_equal(ps.start, 987654);
	assert_int_equal(ps.rss_pages, 3001);
}

static void test_pidstat_awkward_names_and_zombies(void **state)
{
	/* a name with spaces and parentheses; negative priority and nice; a zombie */
	static const char text[] = "77 (a b) (c)) Z 1 77 77 0 -1 4194560 0 0 0 0 5 6 0 0 -100 -20 1 0 42 0 0 "
				   "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
	struct fo_pstat ps;
	assert_int_equal(fo_sampler_parse_pidstat(text, &ps), 0);
	assert_string_equal(ps.comm, "a b) (c)");
	assert_int_equal(ps.state, 'Z');
	assert_int_equal(ps.utime, 5);
	assert_int_equal(ps.start, 42);
	assert_int_equal(ps.rss_pages, 0);
	/* a long name is cut to fit */
	static const char longname[] =
	    "9 (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) R 1 9 9 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 "
	    "7 0 12\n";
	assert_int_equal(fo_sampler_parse_pidstat(longname, &ps), 0);
	assert_int_equal(strlen(ps.comm), sizeof(ps.comm) - 1);
	assert_int_equal(ps.rss_pages, 12);
	assert_int_equal(fo_sampler_parse_pidstat("12 (cut", &ps), FO_EPARSE);
	assert_int_equal(fo_sampler_parse_pidstat("12 (x) S 1 2", &ps), FO_EPARSE);
	assert_int_equal(fo_sampler_parse_pidstat("x (y) S", &ps), FO_EPARSE);
}

/* ---- metrics files read back ---- */

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fo-test-sampler-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_remove_tree(tmpdir, true, &failed);
	fo_buf_release(&failed);
	return e ? -1 : 0;
}

static void write_text(const char *rel, const char *text)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/%s", tmpdir, rel);
	char *slash = strrchr(p.s, '/');
	*slash = '\0';
	assert_int_equal(fo_mkdir_p(p.s, 0755, NULL), 0);
	*slash = '/';
	FILE *f = fopen(p.s, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	fo_buf_release(&p);
}

static void test_metrics_load_series(void **state)
{
	write_text("run/metrics/machine.jsonl",
		   "{\"t\":1.000,\"wall\":1700000001.000,\"cpu.busy_pct\":50,\"net.lo.rx_bytes_per_s\":1000.5}\n"
		   "{\"t\":2.000,\"wall\":1700000002.000,\"cpu.busy_pct\":75}\n");
	write_text("run/server/node0/metrics.jsonl",
		   "{\"t\":1.0,\"wall\":1700000001.0,\"service.rss_bytes\":4096,\"redis.ops_per_s\":10}\n"
		   "{\"t\":2.0,\"wall\":1700000002.0,\"service.rss_bytes\":8192}\n"
		   "{\"t\":3.0,\"wall\":1700000003.0,\"service.rss_bytes\":8192,\"redis.ops_per_s\":30}\n"
		   "{\"t\":4.0,\"wall\":17000"); /* cut short by a crash */
	write_text("run/client/node0/metrics.jsonl", "{\"t\":1.0,\"wall\":1700000001.0,\"driver.processes\":3}\n");
	write_text("run/client/node0/fallout-node.log", "not metrics\n");
	struct fo_buf run = FO_BUF_INIT;
	fo_buf_addf(&run, "%s/run", tmpdir);
	struct fo_metrics m;
	struct fo_err err = {0};
	assert_int_equal(fo_metrics_load(run.s, &m, &err), 0);
	assert_int_equal(m.n, 5);
	assert_string_equal(m.series[0].source, "machine");
	assert_string_equal(m.series[0].name, "cpu.busy_pct");
	assert_string_equal(m.series[0].unit, "%");
	assert_int_equal(m.series[0].n, 2);
	assert_float_equal(m.series[0].points[1].t, 2.0, 1e-9);
	assert_float_equal(m.series[0].points[1].wall, 1700000002.0, 1e-3);
	assert_float_equal(m.series[0].points[1].v, 75.0, 1e-9);
	/* sources in order: machine, then groups and nodes by name */
	assert_string_equal(m.series[2].source, "client/node0");
	assert_string_equal(m.series[3].source, "server/node0");
	const struct fo_metric_series *ops = fo_metrics_find(&m, "server/node0", "redis.ops_per_s");
	assert_non_null(ops);
	assert_string_equal(ops->unit, "/s");
	assert_int_equal(ops->n, 2); /* a gap at t = 2 */
	assert_float_equal(ops->points[1].t, 3.0, 1e-9);
	const struct fo_metric_series *rss = fo_metrics_find(&m, "server/node0", "service.rss_bytes");
	assert_int_equal(rss->n, 3);
	assert_string_equal(rss->unit, "B");
	assert_string_equal(fo_metrics_find(&m, "machine", "net.lo.rx_bytes_per_s")->unit, "B/s");
	assert_string_equal(fo_metrics_find(&m, "client/node0", "driver.processes")->unit, "");
	assert_null(fo_metrics_find(&m, "machine", "redis.ops_per_s"));
	fo_metrics_release(&m);

	/* a bad line in the middle is an error naming it */
	write_text("run/client/node0/metrics.jsonl", "{\"t\":1.0,\"wall\":1.0}\n[1,2]\n{\"t\":3.0,\"wall\":3.0}\n");
	assert_int_equal(fo_metrics_load(run.s, &m, &err), FO_EPARSE);
	assert_non_null(strstr(err.msg, "client/node0/metrics.jsonl:2: not a metrics line"));
	fo_metrics_release(&m);
	fo_buf_release(&run);
}

static void test_metrics_load_no_metrics(void **state)
{
	write_text("empty/controller/x.log", "");
	struct fo_buf run = FO_BUF_INIT;
	fo_buf_addf(&run, "%s/empty", tmpdir);
	struct fo_metrics m;
	struct fo_err err = {0};
	assert_int_equal(fo_metrics_load(run.s, &m, &err), 0);
	assert_int_equal(m.n, 0);
	fo_metrics_release(&m);
	fo_buf_release(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpu_percent_from_two_readings),
	    cmocka_unit_test(test_cpu_nothing_passed_and_bad_text),
	    cmocka_unit_test(test_meminfo),
	    cmocka_unit_test(test_netdev_loopback_apart),
	    cmocka_unit_test(test_diskstats_whole_disks_only),
	    cmocka_unit_test(test_pidstat),
	    cmocka_unit_test(test_pidstat_awkward_names_and_zombies),
	    cmocka_unit_test(test_metrics_load_series),
	    cmocka_unit_test(test_metrics_load_no_metrics),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
