/*
 * html_runs.c: run folders read for reports (report/html.h): which group holds the interval
 * logs, the logs themselves (report/perf.h), the phases from the history (each module's
 * start and end) and its faults (analysis/impact.h), when the workload started
 * (fallout-shared.log), the test's name and the run's notes (testrun.json), and the node
 * metrics (report/metrics_load.h). Also the hdrtool artifact checker's entry point, which
 * writes the HTML report of a run as it finishes (the run has written its notes to
 * testrun.json by then).
 *
 * A report must not be lost to a damaged side file: a missing or unreadable history,
 * shared log, testrun.json or metrics file costs the phases, the time alignment, the
 * title, the notes or the node charts, never the report.
 */
#include "util/common.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "report/html.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

bool fo_report_is_run(const char *dir)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/testrun.json", dir);
	struct stat st;
	bool ok = stat(p.s, &st) == 0 && S_ISREG(st.st_mode);
	fo_buf_release(&p);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fo_report_find_group(const char *run_dir, struct fo_buf *group, struct fo_err *err)
{
	DIR *d = opendir(run_dir);
	if (!d)
		return fo_err_set(err, FO_EIO, "cannot read '%s': %s", run_dir, strerror(errno));
	char **found = NULL;
	size_t nf = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct fo_buf p = FO_BUF_INIT;
		fo_buf_addf(&p, "%s/%s", run_dir, de->d_name);
		struct stat st;
		if (stat(p.s, &st) == 0 && S_ISDIR(st.st_mode)) {
			size_t nlogs = 0;
			fo_perf_list_free(fo_perf_list_logs(p.s, &nlogs));
			if (nlogs) {
				FO_GROW(found, cap, nf + 1);
				found[nf++] = fo_strdup(de->d_name);
			}
		}
		fo_buf_release(&p);
	}
	closedir(d);
	int rc = 0;
	if (nf == 0) {
		rc = fo_err_set(err, FO_ENOTFOUND, "'%s' has no interval logs (*.hdr, *.hlog) in <group>/node<N>/",
				run_dir);
	} else if (nf > 1) {
		qsort(found, nf, sizeof(*found), cmp_str);
		struct fo_buf list = FO_BUF_INIT;
		for (size_t i = 0; i < nf; i++)
			fo_buf_addf(&list, "%s'%s'", i ? ", " : "", found[i]);
		rc =
		    fo_err_set(err, FO_EINVAL, "'%s' has interval logs in several groups (%s): choose one with --group",
			       run_dir, list.s);
		fo_buf_release(&list);
	} else {
		fo_buf_clear(group);
		fo_buf_adds(group, found[0]);
	}
	for (size_t i = 0; i < nf; i++)
		fo_free(found[i]);
	fo_free(found);
	return rc;
}

void fo_report_phases_free(struct fo_report_phase *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_free(v[i].name);
	fo_free(v);
}

int fo_report_load_phases(const char *history_path, struct fo_report_phase **out, size_t *n, struct fo_err *err)
{
	*out = NULL;
	*n = 0;
	FILE *f = fopen(history_path, "r");
	if (!f)
		return errno == ENOENT ? 0
				       : fo_err_set(err, FO_EIO, "cannot read '%s': %s", history_path, strerror(errno));
	struct fo_report_phase *v = NULL;
	size_t nv = 0, cap = 0, len = 0;
	char *line = NULL;
	double last = 0;
	int rc = 0;
	long lineno = 0;
	bool *open = NULL;
	size_t open_cap = 0;
	while (getline(&line, &len, f) > 0) {
		lineno++;
		json_error_t je;
		json_t *op = json_loads(line, 0, &je);
		if (!json_is_object(op)) {
			json_decref(op);
			/* A run killed while writing leaves a partial last line: only that is forgiven. */
			int c = fgetc(f);
			if (c != EOF) {
				rc = fo_err_set(err, FO_EPARSE, "%s:%ld: not a JSON object: %s", history_path, lineno,
						je.text);
				break;
			}
			continue;
		}
		json_t *t = json_object_get(op, "time");
		const char *proc = json_string_value(json_object_get(op, "process"));
		const char *type = json_string_value(json_object_get(op, "type"));
		if (json_is_number(t) && proc && type) {
			double s = json_number_value(t) / 1e9;
			if (s > last)
				last = s;
			if (strcmp(type, "start") == 0) {
				FO_GROW(v, cap, nv + 1);
				if (open_cap < cap) {
					open = fo_reallocarray(open, cap, sizeof(*open));
					open_cap = cap;
				}
				v[nv] = (struct fo_report_phase){.name = fo_strdup(proc), .start_s = s, .end_s = s};
				open[nv++] = true;
			} else if (strcmp(type, "end") == 0) {
				for (size_t i = nv; i-- > 0;)
					if (open[i] && strcmp(v[i].name, proc) == 0) {
						v[i].end_s = s;
						open[i] = false;
						break;
					}
			}
		}
		json_decref(op);
	}
	/* Modules that never ended (the run was killed) last until the history's last event. */
	for (size_t i = 0; i < nv; i++)
		if (open[i])
			v[i].end_s = last;
	fo_free(open);
	free(line);
	fclose(f);
	if (rc) {
		fo_report_phases_free(v, nv);
		return rc;
	}
	*out = v;
	*n = nv;
	return 0;
}

/* When the run entered RUNNING (the history's time zero), from fallout-shared.log:
 * "2026-11-30T07:49:32.291Z INFO  run SETTING_UP -> RUNNING". 0 when not found. */
static double workload_start(const char *run_dir)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/fallout-shared.log", run_dir);
	FILE *f = fopen(p.s, "r");
	fo_buf_release(&p);
	if (!f)
		return 0;
	char *line = NULL;
	size_t len = 0;
	double found = 0;
	while (!found && getline(&line, &len, f) > 0) {
		if (!strstr(line, " run ") || !strstr(line, "-> RUNNING"))
			continue;
		struct tm tm = {0};
		int ms = 0, used = 0;
		if (sscanf(line, "%d-%d-%dT%d:%d:%d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min, &tm.tm_sec, &ms, &used) == 7 &&
		    used > 0) {
			tm.tm_year -= 1900;
			tm.tm_mon -= 1;
			found = (double)timegm(&tm) + ms / 1000.0;
		}
	}
	free(line);
	fclose(f);
	return found;
}

/* The test's name and run id, from testrun.json (either may stay NULL), and its notes
 * (owned strings in an owned array; NULL, 0 when there are none). */
static void read_testrun(const char *run_dir, char **name, char **id, char ***notes, size_t *nnotes)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/testrun.json", run_dir);
	json_t *root = json_load_file(p.s, 0, NULL);
	fo_buf_release(&p);
	const char *s = json_string_value(json_object_get(root, "testName"));
	*name = s ? fo_strdup(s) : NULL;
	s = json_string_value(json_object_get(root, "testRunId"));
	*id = s ? fo_strdup(s) : NULL;
	*notes = NULL;
	*nnotes = 0;
	json_t *arr = json_object_get(root, "notes");
	size_t cap = 0, i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			continue;
		FO_GROW(*notes, cap, *nnotes + 1);
		(*notes)[(*nnotes)++] = fo_strdup(json_string_value(v));
	}
	json_decref(root);
}

static void free_notes(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_free(v[i]);
	fo_free(v);
}

/* The run's node metrics into m; when they cannot be read, m is empty and *error says
 * why (owned). */
static void load_metrics(const char *run_dir, struct fo_metrics *m, char **error)
{
	struct fo_err err = {0};
	*error = NULL;
	if (fo_metrics_load(run_dir, m, &err) != 0) {
		fo_metrics_release(m);
		*error = fo_strdup(err.msg);
	}
	fo_err_clear(&err);
}

/* The folder's last component ("runs/x/1/" -> "1"). Returns owned. */
static char *base_name(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && dir[s - 1] != '/')
		s--;
	return fo_strndup(dir + s, n - s);
}

/* "<test name> · <run folder>" (or the folder alone), as the page's title. Returns owned. */
static char *run_title(const char *test_name, const char *dir)
{
	char *b = base_name(dir);
	struct fo_buf t = FO_BUF_INIT;
	if (test_name)
		fo_buf_addf(&t, "%s \xc2\xb7 %s", test_name, b);
	else
		fo_buf_adds(&t, b);
	fo_free(b);
	return fo_buf_detach(&t, NULL);
}

int fo_report_run_load(struct fo_report_run_data *d, const char *run_dir, const char *group, struct fo_err *err)
{
	*d = (struct fo_report_run_data){.dir = fo_strdup(run_dir)};
	struct fo_buf g = FO_BUF_INIT, path = FO_BUF_INIT;
	int rc = 0;
	if (group)
		fo_buf_adds(&g, group);
	else
		rc = fo_report_find_group(run_dir, &g, err);
	if (!rc) {
		d->group = fo_strdup(g.s);
		fo_buf_addf(&path, "%s/%s", run_dir, g.s);
		struct stat st;
		if (stat(path.s, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = fo_err_set(err, FO_ENOTFOUND, "'%s' has no group folder '%s'", run_dir, g.s);
	}
	if (!rc)
		rc = fo_perf_load_group(&d->perf, path.s, NULL, err);
	if (!rc) {
		read_testrun(run_dir, &d->test_name, &d->run_id, &d->notes, &d->nnotes);
		load_metrics(run_dir, &d->metrics, &d->metrics_error);
		d->perf.title = run_title(d->test_name, run_dir);
		fo_buf_clear(&path);
		fo_buf_addf(&path, "%s/controller/jepsen-history.json", run_dir);
		struct fo_err perr = {0};
		/* A history that cannot be read costs the phases, not the report. */
		if (fo_report_load_phases(path.s, &d->phases, &d->nphases, &perr) != 0)
			d->nphases = 0;
		if (fo_impact_load_faults(path.s, &d->faults, &d->nfaults, NULL) != 0)
			d->nfaults = 0;
		d->label = base_name(run_dir);
		d->run = (struct fo_report_run){
		    .label = d->label,
		    .perf = &d->perf,
		    .phases = d->phases,
		    .nphases = d->nphases,
		    .workload_start_s = workload_start(run_dir),
		    .metrics = &d->metrics,
		    .metrics_error = d->metrics_error,
		    .notes = (const char *const *)d->notes,
		    .nnotes = d->nnotes,
		    .faults = d->faults,
		    .nfaults = d->nfaults,
		};
	}
	fo_buf_release(&g);
	fo_buf_release(&path);
	return rc;
}

void fo_report_run_release(struct fo_report_run_data *d)
{
	fo_free(d->dir);
	fo_free(d->group);
	fo_free(d->label);
	fo_free(d->test_name);
	fo_free(d->run_id);
	fo_perf_release(&d->perf);
	fo_report_phases_free(d->phases, d->nphases);
	fo_metrics_release(&d->metrics);
	fo_free(d->metrics_error);
	free_notes(d->notes, d->nnotes);
	fo_impact_faults_free(d->faults, d->nfaults);
	*d = (struct fo_report_run_data){0};
}

int fo_report_html_for_group(const struct fo_perf *perf, const char *run_dir, const char *group, const char *prefix,
			     struct fo_err *err)
{
	char *name = NULL, *id = NULL, **notes = NULL, *metrics_error = NULL;
	size_t nnotes = 0;
	read_testrun(run_dir, &name, &id, &notes, &nnotes);
	struct fo_metrics metrics;
	load_metrics(run_dir, &metrics, &metrics_error);
	char *title = run_title(name, run_dir);
	char *label = base_name(run_dir);
	struct fo_buf hp = FO_BUF_INIT;
	fo_buf_addf(&hp, "%s/controller/jepsen-history.json", run_dir);
	struct fo_report_phase *phases = NULL;
	size_t nphases = 0;
	if (fo_report_load_phases(hp.s, &phases, &nphases, NULL) != 0)
		nphases = 0;
	struct fo_fault_window *faults = NULL;
	size_t nfaults = 0;
	if (fo_impact_load_faults(hp.s, &faults, &nfaults, NULL) != 0)
		nfaults = 0;
	struct fo_report_run run = {
	    .label = label,
	    .perf = perf,
	    .phases = phases,
	    .nphases = nphases,
	    .workload_start_s = workload_start(run_dir),
	    .metrics = &metrics,
	    .metrics_error = metrics_error,
	    .notes = (const char *const *)notes,
	    .nnotes = nnotes,
	    .faults = faults,
	    .nfaults = nfaults,
	};
	struct fo_html_opts o = {.title = title};
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/%s/%s.html", run_dir, group, prefix);
	int rc = fo_report_html(&run, 1, &o, path.s, err);
	fo_buf_release(&path);
	fo_report_phases_free(phases, nphases);
	fo_impact_faults_free(faults, nfaults);
	fo_buf_release(&hp);
	fo_free(title);
	fo_free(label);
	fo_free(name);
	fo_free(id);
	free_notes(notes, nnotes);
	fo_metrics_release(&metrics);
	fo_free(metrics_error);
	return rc;
}
