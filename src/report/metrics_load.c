/*
 * metrics_load.c: node metrics files read back (metrics_load.h). Each line is a JSON
 * object parsed with jansson; its numbers other than t and wall become points of the
 * source's series of that name, found through a linear search of the source's series
 * (a node has a few dozen fields at most).
 */
#include "util/common.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#include "report/metrics_load.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

#define LINE_MAX_BYTES (1 << 20)

const char *fo_metric_unit(const char *name)
{
	if (fo_ends_with(name, "_pct"))
		return "%";
	if (fo_ends_with(name, "_bytes_per_s"))
		return "B/s";
	if (fo_ends_with(name, "_per_s"))
		return "/s";
	if (fo_ends_with(name, "_bytes"))
		return "B";
	return "";
}

/* The series of source (its first series at index from) named name, made if new. */
static struct fo_metric_series *series_of(struct fo_metrics *m, size_t from, const char *source, const char *name)
{
	for (size_t i = from; i < m->n; i++)
		if (strcmp(m->series[i].name, name) == 0)
			return &m->series[i];
	FO_GROW(m->series, m->cap, m->n + 1);
	struct fo_metric_series *s = &m->series[m->n++];
	*s = (struct fo_metric_series){
	    .source = fo_strdup(source), .name = fo_strdup(name), .unit = fo_metric_unit(name)};
	return s;
}

int fo_metrics_load_file(struct fo_metrics *m, const char *path, const char *source, struct fo_err *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return fo_err_set(err, errno == ENOENT ? FO_ENOENT : FO_EIO, "cannot read '%s': %s", path,
				  strerror(errno));
	size_t from = m->n;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	for (int lineno = 1; !rc && (len = getline(&line, &cap, f)) >= 0; lineno++) {
		bool complete = len > 0 && line[len - 1] == '\n';
		if (len > LINE_MAX_BYTES) {
			rc = fo_err_set(err, FO_ETOOBIG, "%s:%d: the line is too long", path, lineno);
			break;
		}
		json_error_t je;
		json_t *j = json_loadb(line, (size_t)len, 0, &je);
		json_t *t = j ? json_object_get(j, "t") : NULL, *wall = j ? json_object_get(j, "wall") : NULL;
		if (!j || !json_is_object(j) || !json_is_number(t) || !json_is_number(wall)) {
			json_decref(j);
			if (!complete && fgetc(f) == EOF)
				break; /* a last line cut short: the run died while writing it */
			rc = fo_err_set(err, FO_EPARSE,
					"%s:%d: not a metrics line (a JSON object with \"t\" and \"wall\")%s%s", path,
					lineno, j ? "" : ": ", j ? "" : je.text);
			break;
		}
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			if (!json_is_number(v) || strcmp(key, "t") == 0 || strcmp(key, "wall") == 0)
				continue;
			struct fo_metric_series *s = series_of(m, from, source, key);
			FO_GROW(s->points, s->cap, s->n + 1);
			s->points[s->n++] = (struct fo_metric_point){json_number_value(t), json_number_value(wall),
								     json_number_value(v)};
		}
		json_decref(j);
	}
	free(line);
	fclose(f);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sub-folders of dir, sorted (owned; free each and the array). */
static char **subdirs(const char *dir, size_t *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	struct fo_buf p = FO_BUF_INIT;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fo_buf_clear(&p);
		fo_buf_addf(&p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p.s, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		FO_GROW(v, cap, *n + 1);
		v[(*n)++] = fo_strdup(e->d_name);
	}
	closedir(d);
	fo_buf_release(&p);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_free(v[i]);
	fo_free(v);
}

int fo_metrics_load(const char *run_dir, struct fo_metrics *m, struct fo_err *err)
{
	*m = (struct fo_metrics){0};
	struct fo_buf path = FO_BUF_INIT, source = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/metrics/machine.jsonl", run_dir);
	int rc = fo_metrics_load_file(m, path.s, "machine", err);
	if (rc == FO_ENOENT) {
		fo_err_clear(err);
		rc = 0;
	}
	size_t ngroups = 0;
	char **groups = rc ? NULL : subdirs(run_dir, &ngroups);
	for (size_t g = 0; g < ngroups && !rc; g++) {
		fo_buf_clear(&path);
		fo_buf_addf(&path, "%s/%s", run_dir, groups[g]);
		size_t nnodes = 0;
		char **nodes = subdirs(path.s, &nnodes);
		for (size_t k = 0; k < nnodes && !rc; k++) {
			fo_buf_clear(&path);
			fo_buf_addf(&path, "%s/%s/%s/metrics.jsonl", run_dir, groups[g], nodes[k]);
			struct stat st;
			if (stat(path.s, &st) != 0)
				continue;
			fo_buf_clear(&source);
			fo_buf_addf(&source, "%s/%s", groups[g], nodes[k]);
			rc = fo_metrics_load_file(m, path.s, source.s, err);
		}
		free_names(nodes, nnodes);
	}
	free_names(groups, ngroups);
	fo_buf_release(&path);
	fo_buf_release(&source);
	return rc;
}

void fo_metrics_release(struct fo_metrics *m)
{
	for (size_t i = 0; i < m->n; i++) {
		fo_free(m->series[i].source);
		fo_free(m->series[i].name);
		fo_free(m->series[i].points);
	}
	fo_free(m->series);
	*m = (struct fo_metrics){0};
}

const struct fo_metric_series *fo_metrics_find(const struct fo_metrics *m, const char *source, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->series[i].source, source) == 0 && strcmp(m->series[i].name, name) == 0)
			return &m->series[i];
	return NULL;
}
