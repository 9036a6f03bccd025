/*
 * test_perf.c: a run's performance data as report/perf.h builds it from interval logs
 * written with the hdr API into a temporary group folder: logs of the same name on two
 * nodes (at different depths) are united per tag with totals equal to the sum of the
 * parts; intervals of nodes started close together share a slot, a node started half an
 * interval later gets slots of its own; the union log, performance-report.json (Fallout's
 * field names and number formats), the CSV split, the summary figures (MAD and IQR on
 * known data), and a malformed log named with its line. The performance_thresholds
 * checker's limit syntax is checked here too (messages with line and column).
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "components/component.h"
#include "components/registry.h"
#include "metrics/hdr.h"
#include "metrics/hdrlog.h"
#include "report/perf.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

#define MS 1000000LL                   /* ns */
#define T0 1700000000000LL             /* ms since the epoch: the logs' start */

static char base[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void mkdirs(const char *path)
{
	char p[512];
	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		mkdir(p, 0755);
		*c = '/';
	}
	mkdir(p, 0755);
}

/* One interval to write: tag, start and length (ms from T0), `count` values of `value` ns. */
struct iv {
	const char *tag;
	int64_t start, len;
	int64_t value, count;
};

/* Writes an interval log at <base>/<rel> holding ivs. */
static void write_log(const char *rel, const struct iv *ivs, size_t n, int64_t start_ms)
{
	char path[512], dir[512];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	struct fo_hdrlog_writer w;
	struct fo_err err = {0};
	assert_int_equal(fo_hdrlog_writer_open(&w, path, &err), 0);
	w.base_time_s = (double)start_ms / 1000.0;
	w.max_value_divisor = 1e6;
	assert_int_equal(fo_hdrlog_write_header(&w, (double)start_ms / 1000.0), 0);
	for (size_t i = 0; i < n; i++) {
		struct fo_hdr h;
		assert_int_equal(fo_hdr_init(&h, 1, 3600LL * 1000 * MS, 3), 0);
		assert_true(fo_hdr_record_n(&h, ivs[i].value, ivs[i].count));
		h.start_ms = T0 + ivs[i].start;
		h.end_ms = T0 + ivs[i].start + ivs[i].len;
		fo_hdr_set_tag(&h, ivs[i].tag);
		assert_int_equal(fo_hdrlog_write(&w, &h), 0);
		fo_hdr_release(&h);
	}
	assert_int_equal(fo_hdrlog_writer_close(&w), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/fo-test-perf-XXXXXX");
	assert_non_null(mkdtemp(base));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* node0 and node1 (deeper, started 50 ms later) write latency.hdr with tags read and write. */
static void two_nodes(const char *group)
{
	struct iv n0[] = {
		{"read", 0, 1000, 1 * MS, 100},    {"write", 0, 1000, 3 * MS, 10},
		{"read", 1000, 1000, 1 * MS, 200}, {"write", 1000, 1000, 3 * MS, 20},
		{"read", 2000, 1000, 1 * MS, 300}, {"write", 2000, 1000, 3 * MS, 30},
	};
	struct iv n1[] = {
		{"read", 50, 1000, 2 * MS, 1000},   {"write", 50, 1000, 4 * MS, 1},
		{"read", 1050, 1000, 2 * MS, 2000}, {"write", 1050, 1000, 4 * MS, 2},
		{"read", 2050, 1000, 2 * MS, 3000}, {"write", 2050, 1000, 4 * MS, 3},
	};
	char rel[256];
	snprintf(rel, sizeof(rel), "%s/node0/latency.hdr", group);
	write_log(rel, n0, FO_ARRAY_LEN(n0), T0);
	snprintf(rel, sizeof(rel), "%s/node1/logs/deep/latency.hdr", group);
	write_log(rel, n1, FO_ARRAY_LEN(n1), T0 + 50);
}

static void load(const char *group, struct fo_perf *p, bool unions)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", base, group);
	struct fo_err err = {0};
	int rc = fo_perf_load_group(p, dir, unions ? dir : NULL, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
}

static void unites_logs_of_one_name_per_tag(void **state)
{
	(void)state;
	two_nodes("g1");
	struct fo_perf p;
	load("g1", &p, true);
	assert_int_equal(p.n, 2);
	const struct fo_perf_series *r = fo_perf_find(&p, "latency:read");
	const struct fo_perf_series *w = fo_perf_find(&p, "latency:write");
	assert_non_null(r);
	assert_non_null(w);
	assert_ptr_equal(r, &p.s[0]); /* sorted by name */
	assert_string_equal(r->base, "latency");
	assert_string_equal(r->tag, "read");
	assert_int_equal(r->nodes, 2);
	assert_false(r->is_error);
	/* Totals are the sum of the parts, exactly. */
	assert_int_equal(fo_hdr_total(&r->total), 600 + 6000);
	assert_int_equal(fo_hdr_total(&w->total), 60 + 6);
	/* 50 ms apart on 1 s intervals: the nodes share every slot. */
	assert_int_equal(r->niv, 3);
	int64_t sum = 0;
	for (size_t i = 0; i < r->niv; i++) {
		assert_int_equal(r->iv[i].count, (int64_t)(i + 1) * 1100);
		assert_true(fabs(r->iv[i].start_s - (double)i) < 1e-9);
		assert_true(fabs(r->iv[i].length_s - 1.0) < 1e-9);
		assert_true(fabs(r->iv[i].ops_s - (double)(i + 1) * 1100) < 1e-6);
		sum += r->iv[i].count;
	}
	assert_int_equal(sum, fo_hdr_total(&r->total));
	assert_true(fabs(r->start_s - (double)T0 / 1000.0) < 1e-6);
	assert_true(fabs(r->duration_s - 3.0) < 1e-9);
	/* Per interval: 1/11 of the values at 1 ms, the rest at 2 ms. */
	assert_true(fabs(r->iv[0].p50_ms - 2.0) < 0.01);
	assert_true(fabs(r->iv[0].min_ms - 1.0) < 0.01);
	fo_perf_release(&p);

	/* The union log holds the same values. */
	char path[512];
	snprintf(path, sizeof(path), "%s/g1/latency.union.hdr", base);
	struct fo_hdrlog_reader rd;
	struct fo_err err = {0};
	assert_int_equal(fo_hdrlog_reader_open(&rd, path, &err), 0);
	int64_t reads = 0, writes = 0, lines = 0;
	struct fo_hdr h;
	int rc;
	while ((rc = fo_hdrlog_read(&rd, &h, &err)) == 1) {
		lines++;
		if (h.tag && strcmp(h.tag, "read") == 0)
			reads += fo_hdr_total(&h);
		else
			writes += fo_hdr_total(&h);
		fo_hdr_release(&h);
	}
	assert_int_equal(rc, 0);
	fo_hdrlog_reader_close(&rd);
	assert_int_equal(lines, 6);
	assert_int_equal(reads, 6600);
	assert_int_equal(writes, 66);
}

static void late_node_gets_slots_of_its_own(void **state)
{
	(void)state;
	struct iv a[] = {{NULL, 0, 1000, 1 * MS, 10}, {NULL, 1000, 1000, 1 * MS, 10}};
	struct iv b[] = {{NULL, 500, 1000, 1 * MS, 7}, {NULL, 1500, 1000, 1 * MS, 7}};
	struct iv c[] = {{NULL, 100, 1000, 1 * MS, 1}, {NULL, 1100, 1000, 1 * MS, 1}};
	write_log("g2/node0/ops.hlog", a, 2, T0);
	write_log("g2/node1/ops.hlog", b, 2, T0 + 500);
	write_log("g2/node2/ops.hlog", c, 2, T0 + 100);
	struct fo_perf p;
	load("g2", &p, false);
	assert_int_equal(p.n, 1);
	const struct fo_perf_series *s = &p.s[0];
	assert_string_equal(s->name, "ops");
	assert_null(s->tag);
	assert_int_equal(s->nodes, 3);
	/* [0,1) takes node2's [0.1,1.1) (90% inside); node1's [0.5,1.5) is only half inside. */
	assert_int_equal(s->niv, 4);
	assert_int_equal(s->iv[0].count, 11);
	assert_true(fabs(s->iv[1].start_s - 0.5) < 1e-9);
	assert_int_equal(s->iv[1].count, 7);
	assert_int_equal(s->iv[2].count, 11);
	assert_int_equal(s->iv[3].count, 7);
	assert_int_equal(fo_hdr_total(&s->total), 36);
	assert_true(fabs(s->duration_s - 2.5) < 1e-9);
	fo_perf_release(&p);
}

static void report_json_has_fallouts_fields(void **state)
{
	(void)state;
	two_nodes("g3");
	struct fo_perf p;
	load("g3", &p, false);
	p.title = fo_strdup("perf-title");
	char path[512];
	snprintf(path, sizeof(path), "%s/g3/performance-report.json", base);
	struct fo_err err = {0};
	assert_int_equal(fo_perf_write_json(&p, path, &err), 0);
	fo_perf_release(&p);

	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "perf-title");
	json_t *stats = json_object_get(j, "stats");
	assert_int_equal(json_array_size(stats), 2);
	json_t *s = json_array_get(stats, 0);
	assert_string_equal(json_string_value(json_object_get(s, "revision")), "Test Run");
	assert_string_equal(json_string_value(json_object_get(s, "test")), "latency:read");
	static const char *const metrics[] = {"Ops/Sec",     "Latency Avg",    "Latency Median", "Latency 95th",
					      "Latency 99th", "Latency 99.9th", "Ops/Interval",   "time"};
	json_t *m = json_object_get(s, "metrics");
	assert_int_equal(json_array_size(m), 8);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(json_string_value(json_array_get(m, i)), metrics[i]);
	json_t *iv = json_object_get(s, "intervals");
	assert_int_equal(json_array_size(iv), 3);
	json_t *row = json_array_get(iv, 1);
	assert_int_equal(json_array_size(row), 8);
	assert_true(fabs(json_real_value(json_array_get(row, 0)) - 2200.0) < 1e-9);
	assert_int_equal(json_integer_value(json_array_get(row, 6)), 2200);
	assert_true(fabs(json_real_value(json_array_get(row, 7)) - 2.0) < 1e-9); /* the interval's end */
	assert_string_equal(json_string_value(json_object_get(s, "Test Duration")), "3s");
	assert_int_equal(json_integer_value(json_object_get(s, "Total Operations")), 6600);
	assert_string_equal(json_string_value(json_object_get(s, "Op Rate")), "2200 op/sec");
	static const char *const lat[] = {"Min Latency",    "Avg Latency", "Median Latency",
					  "95th Latency",   "99th Latency", "99.9th Latency",
					  "Max Latency",    "Median Absolute Deviation", "Interquartile Range"};
	for (size_t i = 0; i < FO_ARRAY_LEN(lat); i++) {
		const char *v = json_string_value(json_object_get(s, lat[i]));
		assert_non_null(v);
		/* "x.xxx ms" */
		const char *dot = strchr(v, '.');
		assert_non_null(dot);
		assert_string_equal(dot + 4, " ms");
	}
	assert_string_equal(json_string_value(json_object_get(s, "Min Latency")), "1.000 ms");
	/* Keys in Fallout's order. */
	const char *first = json_object_iter_key(json_object_iter(s));
	assert_string_equal(first, "revision");
	json_decref(j);
}

static void summary_mad_and_iqr_on_known_values(void **state)
{
	(void)state;
	struct fo_perf_series s = {.duration_s = 3.0};
	assert_int_equal(fo_hdr_init(&s.total, 1, 1000000, 3), 0);
	for (int64_t v = 1; v <= 9; v++)
		fo_hdr_record(&s.total, v * 100);
	/* median 500; |v - 500| sorted: 0,100,100,200,200,...: the 5th is 200 */
	assert_int_equal(fo_perf_mad(&s.total), 200);
	struct fo_perf_summary sum;
	fo_perf_summarize(&s, &sum);
	assert_int_equal(sum.count, 9);
	assert_true(fabs(sum.ops_s - 3.0) < 1e-9);
	assert_true(fabs(sum.p50_ms - 500e-6) < 1e-12);
	assert_true(fabs(sum.mad_ms - 200e-6) < 1e-12);
	assert_true(fabs(sum.iqr_ms - 400e-6) < 1e-12); /* p75 700 - p25 300 */
	assert_true(fabs(sum.min_ms - 100e-6) < 1e-12);
	assert_true(fabs(sum.max_ms - 900e-6) < 1e-12);
	fo_hdr_reset(&s.total);
	fo_hdr_record_n(&s.total, 10, 4);
	fo_hdr_record(&s.total, 1000);
	assert_int_equal(fo_perf_mad(&s.total), 0); /* one outlier moves no median */
	fo_hdr_reset(&s.total);
	assert_int_equal(fo_perf_mad(&s.total), 0);
	fo_perf_summarize(&s, &sum);
	assert_int_equal(sum.count, 0);
	fo_hdr_release(&s.total);

	char b[32];
	fo_perf_format_duration(3723.9, b, sizeof(b));
	assert_string_equal(b, "1h 2m 3s");
	fo_perf_format_duration(62, b, sizeof(b));
	assert_string_equal(b, "1m 2s");
	fo_perf_format_duration(0.4, b, sizeof(b));
	assert_string_equal(b, "0s");
}

static void csv_per_tag_beside_the_log(void **state)
{
	(void)state;
	two_nodes("g4");
	char log[512], dir[512], csv[600];
	snprintf(log, sizeof(log), "%s/g4/node0/latency.hdr", base);
	snprintf(dir, sizeof(dir), "%s/g4/node0", base);
	struct fo_buf written = FO_BUF_INIT, text = FO_BUF_INIT;
	struct fo_err err = {0};
	assert_int_equal(fo_perf_split_csv(log, NULL, dir, NULL, 0, &written, &err), 0);
	assert_string_equal(written.s, "read.latency.csv\nwrite.latency.csv");
	snprintf(csv, sizeof(csv), "%s/read.latency.csv", dir);
	assert_int_equal(fo_buf_read_file(&text, csv, 0, NULL), 0);
	assert_true(strncmp(text.s, FO_HDRLOG_CSV_HEADER, strlen(FO_HDRLOG_CSV_HEADER)) == 0);
	/* second interval: starts at T0 + 1 s, 200 values of 1 ms */
	assert_non_null(strstr(text.s, "\n1700000001.000,1,200,"));
	size_t lines = 0;
	for (const char *c = text.s; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 4);
	/* only the tags asked for */
	fo_buf_clear(&written);
	const char *tags[] = {"write"};
	assert_int_equal(fo_perf_split_csv(log, NULL, dir, tags, 1, &written, &err), 0);
	assert_string_equal(written.s, "write.latency.csv");
	fo_buf_release(&written);
	fo_buf_release(&text);
}

static void bad_log_named_with_its_line(void **state)
{
	(void)state;
	two_nodes("g5");
	char path[512];
	snprintf(path, sizeof(path), "%s/g5/node1/latency.hdr", base);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("#[StartTime: 1700000000.000 (seconds since epoch)]\n0.000,1.000,1.0,HISTnotbase64!!\n", f);
	fclose(f);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/g5", base);
	struct fo_perf p;
	struct fo_err err = {0};
	assert_int_not_equal(fo_perf_load_group(&p, dir, NULL, &err), 0);
	assert_non_null(strstr(err.msg, "g5/node1/latency.hdr:2"));
	assert_int_equal(p.n, 0);

	/* No logs at all: no series, no error. */
	snprintf(dir, sizeof(dir), "%s/nothing-here", base);
	assert_int_equal(fo_perf_load_group(&p, dir, NULL, &err), 0);
	assert_int_equal(p.n, 0);
	fo_perf_release(&p);
}

static void gzipped_logs_are_read(void **state)
{
	(void)state;
	struct iv a[] = {{"x", 0, 1000, 5 * MS, 4}};
	write_log("g6/node0/z.hdr", a, 1, T0);
	write_log("g6/node1/z.hdr", a, 1, T0);
	/* node1's log gzipped, as an old run's compressed artifacts are */
	char path[512], gz[600];
	snprintf(path, sizeof(path), "%s/g6/node1/z.hdr", base);
	snprintf(gz, sizeof(gz), "%s.gz", path);
	struct fo_buf text = FO_BUF_INIT;
	assert_int_equal(fo_buf_read_file(&text, path, 0, NULL), 0);
	gzFile f = gzopen(gz, "wb");
	assert_non_null(f);
	assert_int_equal(gzwrite(f, text.s, (unsigned)text.len), (int)text.len);
	gzclose(f);
	unlink(path);
	fo_buf_release(&text);
	struct fo_perf p;
	load("g6", &p, false);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.s[0].name, "z:x");
	assert_int_equal(p.s[0].nodes, 2);
	assert_int_equal(fo_hdr_total(&p.s[0].total), 8);
	fo_perf_release(&p);

	/* fo_perf_merge_files unites logs whatever their names. */
	char p0[512];
	snprintf(p0, sizeof(p0), "%s/g6/node0/z.hdr", base);
	const char *files[] = {p0, gz};
	struct fo_err err = {0};
	assert_int_equal(fo_perf_merge_files(&p, files, 2, NULL, &err), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.s[0].niv, 1);
	assert_int_equal(p.s[0].iv[0].count, 8);
	fo_perf_release(&p);
}

/* Binds performance_thresholds' properties from YAML, which runs its validate hook;
 * the diagnostics land in d. */
static void validate_limits(const char *yaml, struct fo_diags *d)
{
	const struct fo_component *c = fo_registry_find(FO_KIND_ARTIFACT_CHECKER, "performance_thresholds");
	assert_non_null(c);
	assert_non_null(c->validate);
	struct fo_arena *a = fo_arena_new();
	struct fo_yaml_opts o = {.file = "t.yaml"};
	struct fo_ynode *n;
	assert_int_equal(fo_yaml_load(a, yaml, strlen(yaml), &o, &n, d), 0);
	const struct fo_ypair *pairs[] = {&n->pairs[0]};
	struct fo_propset ps = {.alias = "gate"}; /* set before binding, as the definition loader does */
	fo_props_bind(a, c, "artifact checker 'gate'", pairs, 1, &n->pos, NULL, &ps, d);
	fo_arena_free(a);
}

static void threshold_syntax_checked_with_columns(void **state)
{
	(void)state;
	struct fo_diags d = FO_DIAGS_INIT;
	validate_limits("thresholds:\n"
			"  - \"read: p99 < 2ms\"\n"
			"  - throughput > 50000\n"
			"  - errors < 0.1%\n"
			"  - '*: max <= 1s'\n"
			"  - latency:write: p99.9 >= 10us\n"
			"  - duration > 1m\n",
			&d);
	if (d.n)
		fo_diags_print(&d, stderr);
	assert_int_equal(d.errors, 0);
	fo_diags_release(&d);

	validate_limits("thresholds:\n"
			"  - \"read: p99 < 2xs\"\n"
			"  - p98 < 1ms\n"
			"  - p99 = 1ms\n"
			"  - p99 < 5\n"
			"  - throughput > 5%\n"
			"  - read p99 < 1ms\n",
			&d);
	assert_int_equal(d.errors, 6);
	fo_diags_sort(&d);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 19); /* "xs": the unit */
	assert_non_null(strstr(d.v[0].msg, "invalid limit 'read: p99 < 2xs' in 'thresholds' of artifact checker "
					    "'gate': unknown unit 'xs' for a latency (use ns, us, ms or s)"));
	assert_int_equal(d.v[1].col, 5);
	assert_non_null(strstr(d.v[1].msg, "unknown metric 'p98' (did you mean"));
	assert_non_null(strstr(d.v[2].msg, "'=' is not a comparison"));
	assert_non_null(strstr(d.v[3].msg, "a latency needs a unit"));
	assert_non_null(strstr(d.v[4].msg, "unexpected '%' after the value"));
	assert_non_null(strstr(d.v[5].msg, "expected ':' between the series and the metric"));
	fo_diags_release(&d);

	validate_limits("thresholds: []\n", &d);
	assert_true(fo_diags_contains(&d, "needs at least one limit"));
	fo_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unites_logs_of_one_name_per_tag),
		cmocka_unit_test(late_node_gets_slots_of_its_own),
		cmocka_unit_test(report_json_has_fallouts_fields),
		cmocka_unit_test(summary_mad_and_iqr_on_known_values),
		cmocka_unit_test(csv_per_tag_beside_the_log),
		cmocka_unit_test(bad_log_named_with_its_line),
		cmocka_unit_test(gzipped_logs_are_read),
		cmocka_unit_test(threshold_syntax_checked_with_columns),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
