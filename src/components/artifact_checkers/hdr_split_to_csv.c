/*
 * hdr_split_to_csv.c: the `hdr_split_to_csv` artifact checker: splits HdrHistogram
 * interval logs by tag and writes one CSV per tag next to each log, in the layout of
 * Fallout's checker of that name (the CSV writer is report/perf.h's, shared with
 * `fallout hdr csv`).
 */
#include "util/common.h"

#include <glob.h>
#include <sys/stat.h>

#include "components/component.h"
#include "engine/run.h"
#include "report/perf.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/strutil.h"

static const struct fo_prop props[] = {
	{
		.name = "files",
		.description = "The interval logs to split: paths relative to the run's artifact folder, "
			       "e.g. `client/node0/latency.hdr`; shell patterns (`client/node*/*.hdr`) "
			       "are allowed. Each must end in .hdr (or .hlog). Empty: every interval log "
			       "of the nodes of `client_group`.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "tags",
		.description = "The tags to convert (`default` names untagged values). Empty: every tag.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "client_group",
		.description = "The node group whose logs are split when `files` is empty.",
		.type = FO_PT_GROUP,
		.default_value = "client",
	},
	{0},
};

/* Each file a relative path, inside the run's folder, of an interval log. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	const struct fo_propval *v = fo_props_get(ps, "files");
	if (!v || !v->set)
		return;
	const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
	for (size_t i = 0; i < v->nlist; i++) {
		const char *f = v->list[i];
		if (v->node && v->node->kind == FO_YSEQ && i < v->node->nitems)
			pos = &v->node->items[i]->pos;
		if (f[0] == '/' || strcmp(f, "..") == 0 || fo_starts_with(f, "../") || strstr(f, "/../") ||
		    fo_ends_with(f, "/.."))
			fo_diags_error(d, pos,
				       "'%s' in 'files' of artifact checker '%s' must be a path inside the run's "
				       "artifact folder (relative, without '..')",
				       f, who);
		else if (!fo_ends_with(f, ".hdr") && !fo_ends_with(f, ".hlog"))
			fo_diags_error(d, pos, "'%s' in 'files' of artifact checker '%s' is not an interval log "
					       "(it must end in .hdr or .hlog)",
				       f, who);
	}
}

/* Adds the paths (relative to root) that pattern names, or its .gz when only that exists. */
static void expand(const char *root, const char *pattern, struct fo_buf *missing, char ***v, size_t *n, size_t *cap)
{
	struct fo_buf full = FO_BUF_INIT;
	fo_buf_addf(&full, "%s/%s", root, pattern);
	size_t skip = strlen(root) + 1;
	glob_t g = {0};
	int rc = glob(full.s, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		fo_buf_adds(&full, ".gz");
		rc = glob(full.s, 0, NULL, &g);
	}
	if (rc == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct stat st;
			if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode) || strlen(g.gl_pathv[i]) <= skip)
				continue;
			FO_GROW(*v, *cap, *n + 1);
			(*v)[(*n)++] = fo_strdup(g.gl_pathv[i] + skip);
		}
	} else {
		fo_buf_addf(missing, "%s'%s'", missing->len ? ", " : "", pattern);
	}
	globfree(&g);
	fo_buf_release(&full);
}

static int check(const struct fo_propset *ps, struct fo_run *r, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const char *root = fo_run_dir(r);
	const struct fo_propval *files = fo_props_get(ps, "files");
	const struct fo_propval *tags = fo_props_get(ps, "tags");
	size_t ntags = tags && tags->set ? tags->nlist : 0;
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct fo_buf missing = FO_BUF_INIT, where = FO_BUF_INIT;
	if (files && files->set && files->nlist > 0) {
		for (size_t i = 0; i < files->nlist; i++)
			expand(root, files->list[i], &missing, &v, &n, &cap);
		fo_buf_adds(&where, "the files listed");
	} else {
		const char *gname = fo_props_str(ps, "client_group", "client");
		struct fo_rgroup *g = fo_run_group(r, gname);
		if (!g) {
			*passed = false;
			fo_buf_addf(msg, "there is no node group '%s'", gname);
			fo_buf_release(&missing);
			fo_buf_release(&where);
			return 0;
		}
		struct fo_buf dir = FO_BUF_INIT;
		fo_buf_addf(&dir, "%s/%s", root, g->spec->name);
		size_t k;
		char **found = fo_perf_list_logs(dir.s, &k);
		for (size_t i = 0; i < k; i++) {
			FO_GROW(v, cap, n + 1);
			struct fo_buf rel = FO_BUF_INIT;
			fo_buf_addf(&rel, "%s/%s", g->spec->name, found[i]);
			v[n++] = fo_buf_detach(&rel, NULL);
		}
		fo_perf_list_free(found);
		fo_buf_release(&dir);
		fo_buf_addf(&where, "%s/node*/", g->spec->name);
	}

	struct fo_buf out = FO_BUF_INIT;
	struct fo_err e = {0};
	size_t nlogs = 0;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct fo_buf path = FO_BUF_INIT, dir = FO_BUF_INIT, written = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/%s", root, v[i]);
		const char *slash = strrchr(v[i], '/');
		fo_buf_addf(&dir, "%s/%.*s", root, slash ? (int)(slash - v[i]) : 0, v[i]);
		rc = fo_perf_split_csv(path.s, v[i], dir.s, tags && tags->set ? tags->list : NULL, ntags, &written,
				       &e);
		if (!rc) {
			nlogs++;
			fo_buf_addf(&out, "\n  %s:", v[i]);
			if (!written.len)
				fo_buf_adds(&out, " no interval of the tags asked for");
			for (char *line = written.s; *line;) {
				char *nl = strchr(line, '\n');
				size_t len = nl ? (size_t)(nl - line) : strlen(line);
				fo_buf_addf(&out, " %.*s", (int)len, line);
				line += len + (nl ? 1 : 0);
			}
		}
		fo_buf_release(&path);
		fo_buf_release(&dir);
		fo_buf_release(&written);
	}
	if (rc) {
		*passed = false;
		fo_buf_addf(msg, "%s", e.msg);
	} else {
		/* As Fallout: a log that is not there is reported, and does not fail the check. */
		*passed = true;
		if (n == 0)
			fo_buf_addf(msg, "no interval logs found in %s", where.s);
		else
			fo_buf_addf(msg, "%zu log%s split into CSV files beside them:%s", nlogs, nlogs == 1 ? "" : "s",
				    out.s);
		if (missing.len)
			fo_buf_addf(msg, "%snot found: %s", msg->len ? "\n" : "", missing.s);
	}
	for (size_t i = 0; i < n; i++)
		fo_free(v[i]);
	fo_free(v);
	fo_buf_release(&out);
	fo_buf_release(&missing);
	fo_buf_release(&where);
	return 0;
}

static const struct fo_artifact_checker_ops ops = {.check = check};

const struct fo_component fo_artifact_checker_hdr_split_to_csv = {
	.name = "hdr_split_to_csv",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "split latency logs by tag into CSV files",
	.description =
		"Splits HdrHistogram interval logs by tag and writes, beside each log, one CSV file "
		"per tag named <tag>.<log name without extension>.csv (`default` for untagged "
		"values): a header `#Absolute timestamp,Relative timestamp,Throughput,Min,Avg,p50,p90,"
		"p95,p99,p999,p9999,Max`, then one row per interval with its start (seconds since "
		"the epoch, and from the log's start), its count of values, and the statistics in "
		"the recorded units (nanoseconds, usually). The logs are those listed in `files` "
		"(relative to the run's artifact folder; gzipped ones are read too), or every "
		"interval log of the nodes of `client_group`. It fails only when a log cannot be "
		"read (naming the file and line); a listed log that is missing is reported.\n"
		"\n"
		"Fallout compatibility: Fallout's `hdr_split_to_csv` (made for NoSQLBench's logs), "
		"with its properties `files` and `tags` and its CSV layout. Fallout requires both; "
		"here an empty `files` means the client group's logs and an empty `tags` every tag.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: client\n"
		   "          script: nb run ... --log-histograms $FALLOUT_NODE_ARTIFACTS/nb.hdr\n"
		   "  artifact_checkers:\n"
		   "    csv:\n"
		   "      artifact_checker: hdr_split_to_csv\n"
		   "      properties:\n"
		   "        files:\n"
		   "          - client/node0/nb.hdr\n"
		   "        tags:\n"
		   "          - read--success\n",
	.props = props,
	.validate = validate,
	.artifact_checker = &ops,
};
