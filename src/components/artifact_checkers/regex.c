/*
 * regex.c: the `regex` artifact checker: searches the collected files of a
 * node group for lines that must, or must not, appear.
 */
#include "util/common.h"

#include <dirent.h>
#include <sys/stat.h>

#include "components/component.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/regex.h"
#include "engine/run.h"
#include "util/alloc.h"
#include "util/buf.h"

static const struct fo_prop props[] = {
	{
		.name = "node_group",
		.description = "The node group whose artifacts are searched.",
		.type = FO_PT_GROUP,
		.required = true,
	},
	{
		.name = "files",
		.description = "Which artifacts to check: a regex that must match the whole path of a file, "
			       "relative to the group's artifact folder, e.g. `node\\d+/logs/.*\\.log`.",
		.type = FO_PT_REGEX,
		.required = true,
	},
	{
		.name = "required",
		.description = "Regexes that must each match some line of every checked file.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "forbidden",
		.description = "Regexes none of which may match any line of any checked file.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "validate_all",
		.description = "Check every matching file and report all problems, rather than stopping at "
			       "the first file that fails.",
		.type = FO_PT_BOOL,
		.default_value = "false",
	},
	{0},
};

/* Each entry of the regex list called name compiles. */
static void check_list(const struct fo_propset *ps, const struct fo_propval *v, const char *name,
		       struct fo_diags *d)
{
	const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
	for (size_t i = 0; i < v->nlist; i++) {
		struct fo_err err = {0};
		struct fo_regex *re = fo_regex_new(v->list[i], &err);
		if (re) {
			fo_regex_free(re);
			continue;
		}
		fo_diags_error(d, pos, "'%s' in '%s' of artifact checker '%s' is not a valid regex: %s", v->list[i],
			       name, ps->alias ? ps->alias : ps->comp->name, err.msg);
	}
}

/* At least one of required and forbidden, and every entry a regex. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *req = fo_props_get(ps, "required");
	const struct fo_propval *forb = fo_props_get(ps, "forbidden");
	bool have_req = req && req->set && req->nlist > 0;
	bool have_forb = forb && forb->set && forb->nlist > 0;
	if (!have_req && !have_forb)
		fo_diags_error(d, &ps->pos, "artifact checker '%s' needs at least one of 'required' or 'forbidden'",
			       ps->alias ? ps->alias : ps->comp->name);
	if (have_req)
		check_list(ps, req, "required", d);
	if (have_forb)
		check_list(ps, forb, "forbidden", d);
}

/* ---- checking ---- */

#define MAX_DEPTH 64     /* folders below the group's deeper than this are not searched */
#define LINE_QUOTE 200   /* bytes of a forbidden line quoted in the message */

/* Compiled regexes of one list. */
struct relist {
	struct fo_regex **re;
	const char *const *src;
	size_t n;
};

static int relist_init(struct relist *l, const struct fo_propval *v, const char *name, struct fo_err *err)
{
	*l = (struct relist){0};
	if (!v || !v->set || v->nlist == 0)
		return 0;
	l->re = fo_calloc(v->nlist, sizeof(*l->re));
	l->src = v->list;
	for (; l->n < v->nlist; l->n++) {
		struct fo_err e = {0};
		l->re[l->n] = fo_regex_new(v->list[l->n], &e);
		if (!l->re[l->n])
			return fo_err_set(err, FO_EINVAL, "'%s' in '%s' is not a valid regex: %s", v->list[l->n], name,
					  e.msg);
	}
	return 0;
}

static void relist_release(struct relist *l)
{
	for (size_t i = 0; i < l->n; i++)
		fo_regex_free(l->re[i]);
	fo_free(l->re);
	*l = (struct relist){0};
}

/* The relative paths of the regular files below root, sorted. */
struct paths {
	char **v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the files below root/rel (rel "" for root itself) whose relative path matches re. */
static void walk(const char *root, const char *rel, int depth, const struct fo_regex *re, struct paths *out)
{
	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(dir.s);
	if (!d) {
		fo_buf_release(&dir);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct fo_buf path = FO_BUF_INIT, sub = FO_BUF_INIT;
		fo_buf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		fo_buf_addf(&path, "%s/%s", dir.s, de->d_name);
		struct stat st;
		if (stat(path.s, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
				walk(root, sub.s, depth + 1, re, out);
			else if (S_ISREG(st.st_mode) && fo_regex_full_match(re, sub.s, sub.len)) {
				FO_GROW(out->v, out->cap, out->n + 1);
				out->v[out->n++] = fo_buf_detach(&sub, NULL);
			}
		}
		fo_buf_release(&sub);
		fo_buf_release(&path);
	}
	closedir(d);
	fo_buf_release(&dir);
}

/*
 * Checks one file: every required regex must match some line, no forbidden one any line.
 * Adds a line to problems for each failure. Returns true when the file passes.
 */
static bool check_file(const char *root, const char *rel, const struct relist *req, const struct relist *forb,
		       struct fo_buf *problems)
{
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/%s", root, rel);
	FILE *f = fopen(path.s, "r");
	fo_buf_release(&path);
	if (!f) {
		fo_buf_addf(problems, "\n  %s: cannot be read: %s", rel, strerror(errno));
		return false;
	}
	bool *found = fo_calloc(req->n + 1, sizeof(*found));
	bool ok = true;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		for (size_t i = 0; i < req->n; i++)
			if (!found[i] && fo_regex_search(req->re[i], line, (size_t)len))
				found[i] = true;
		for (size_t i = 0; i < forb->n; i++) {
			if (!fo_regex_search(forb->re[i], line, (size_t)len))
				continue;
			ok = false;
			int q = len > LINE_QUOTE ? LINE_QUOTE : (int)len;
			fo_buf_addf(problems, "\n  %s:%ld: forbidden '%s' found: %.*s%s", rel, lineno, forb->src[i], q,
				    line, len > LINE_QUOTE ? "..." : "");
		}
	}
	free(line); /* getline's buffer comes from libc */
	fclose(f);
	for (size_t i = 0; i < req->n; i++) {
		if (!found[i]) {
			ok = false;
			fo_buf_addf(problems, "\n  %s: no line matches required '%s'", rel, req->src[i]);
		}
	}
	fo_free(found);
	return ok;
}

/* Walks the group's artifact folder and checks every file whose path matches `files`. */
static int check(const struct fo_propset *ps, struct fo_run *r, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	const char *gname = fo_props_str(ps, "node_group", "");
	const char *files = fo_props_str(ps, "files", ".*");
	struct fo_rgroup *g = fo_run_group(r, gname);
	if (!g) {
		*passed = false;
		fo_buf_addf(msg, "there is no node group '%s'", gname);
		return 0;
	}
	bool all = fo_props_bool(ps, "validate_all", false);
	struct fo_err e = {0};
	struct relist req = {0}, forb = {0};
	struct fo_regex *fre = fo_regex_new(files, &e);
	int rc = fre ? relist_init(&req, fo_props_get(ps, "required"), "required", &e) : FO_EINVAL;
	if (rc == 0)
		rc = relist_init(&forb, fo_props_get(ps, "forbidden"), "forbidden", &e);
	if (rc != 0) {
		*passed = false;
		fo_buf_addf(msg, "%s", e.code ? e.msg : "invalid regex");
		fo_regex_free(fre);
		relist_release(&req);
		relist_release(&forb);
		return 0;
	}

	struct fo_buf root = FO_BUF_INIT;
	fo_buf_addf(&root, "%s/%s", fo_run_dir(r), g->spec->name);
	struct paths found = {0};
	walk(root.s, "", 0, fre, &found);
	if (found.n)
		qsort(found.v, found.n, sizeof(*found.v), cmp_str);

	struct fo_buf problems = FO_BUF_INIT;
	size_t nbad = 0, nchecked = 0;
	for (size_t i = 0; i < found.n; i++) {
		if (nbad && !all)
			break;
		nchecked++;
		nbad += !check_file(root.s, found.v[i], &req, &forb, &problems);
	}
	if (found.n == 0) {
		/* As Fallout: nothing to find required patterns in fails; nothing forbidden found passes. */
		*passed = req.n == 0;
		fo_buf_addf(msg, "no file under %s/ matches '%s'%s", g->spec->name, files,
			    req.n ? ", so the required patterns cannot be found" : "; nothing forbidden found");
	} else if (nbad == 0) {
		*passed = true;
		fo_buf_addf(msg, "%zu file%s under %s/ checked: ", nchecked, nchecked == 1 ? "" : "s", g->spec->name);
		fo_buf_adds(msg, req.n && forb.n ? "every required pattern found, no forbidden one"
				 : req.n        ? "every required pattern found"
						: "no forbidden pattern found");
	} else {
		*passed = false;
		if (all || nchecked == found.n)
			fo_buf_addf(msg, "%zu of %zu file%s under %s/ failed:%s", nbad, nchecked, nchecked == 1 ? "" : "s",
				    g->spec->name, problems.s);
		else
			fo_buf_addf(msg,
				    "a file under %s/ failed (checked %zu of %zu, stopping at the first failure; set "
				    "validate_all to check them all):%s",
				    g->spec->name, nchecked, found.n, problems.s);
	}

	for (size_t i = 0; i < found.n; i++)
		fo_free(found.v[i]);
	fo_free(found.v);
	fo_buf_release(&problems);
	fo_buf_release(&root);
	relist_release(&req);
	relist_release(&forb);
	fo_regex_free(fre);
	return 0;
}

static const struct fo_artifact_checker_ops ops = {.check = check};

const struct fo_component fo_artifact_checker_regex = {
	.name = "regex",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "check collected files for lines that must, or must not, appear",
	.description =
		"After the artifacts are collected, walks the artifact folder of `node_group` and checks "
		"every file whose relative path fully matches `files`. A file passes when each regex in "
		"`required` matches at least one of its lines and no regex in `forbidden` matches any "
		"line. Regexes search within a line (they need not match all of it); anchor them with "
		"^ and $ when you mean the whole line. Give at least one of `required` and `forbidden`.\n"
		"\n"
		"If no file matches, the check fails when `required` is given and passes otherwise. It "
		"stops at the first failing file unless `validate_all` is true; the lines found are in "
		"controller/artifact_checkers/artifact_checker-<alias>.log.\n"
		"\n"
		"Fallout compatibility: the same properties as Fallout's `regex` artifact checker. "
		"Regexes are PCRE2, which reads Java's usual syntax the same way.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          script: ./run-load.sh > load.log 2>&1\n"
		   "  artifact_checkers:\n"
		   "    clean_logs:\n"
		   "      artifact_checker: regex\n"
		   "      properties:\n"
		   "        node_group: server\n"
		   "        files: .*\\.log\n"
		   "        forbidden:\n"
		   "          - \"(ERROR|FATAL)\"\n"
		   "          - OutOfMemory\n",
	.props = props,
	.validate = validate,
	.artifact_checker = &ops,
};
