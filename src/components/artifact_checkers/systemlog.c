/*
 * systemlog.c: the `systemlog` artifact checker: reads the service logs collected from
 * the nodes of a group (redis.log, etcd.log, postgresql.log, a script service's
 * service.log, Cassandra's system.log; rotated ones too) and fails the run when a line
 * says something went wrong. Each kind of log has its own idea of an error line (a Redis
 * crash report, etcd's "level":"error", PostgreSQL's ERROR: and FATAL:); `error.pattern`
 * replaces them all, as in Fallout. Warning lines are counted and shown, never failed on.
 */
#include "util/common.h"

#include <dirent.h>
#include <sys/stat.h>

#include "components/component.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/regex.h"

static const struct fo_prop props[] = {
	{
		.name = "server_group",
		.description = "The node group whose service logs are checked.",
		.type = FO_PT_GROUP,
		.default_value = "server",
	},
	{
		.name = "error.pattern",
		.description = "A regex that an error line matches in full, for every log, e.g. "
			       "`^(ERROR|FATAL).*`. Unset: each kind of log's own (see the description).",
		.type = FO_PT_REGEX,
	},
	{
		.name = "warn.pattern",
		.description = "A regex that a warning line matches in full. Unset: each kind of log's own.",
		.type = FO_PT_REGEX,
	},
	{
		.name = "fail_on_missing",
		.description = "Fail when a node has no service log at all, rather than only warning.",
		.type = FO_PT_BOOL,
		.default_value = "false",
	},
	{0},
};

/* ---- what an error line is, per kind of log ---- */

#define GENERIC_ERRORS                                                                                         \
	"\\b(ERROR|FATAL|PANIC|CRITICAL|SEVERE)\\b|^panic:|Segmentation fault|core dumped|"                    \
	"Traceback \\(most recent call last\\)|Exception in thread"

static const struct kind {
	const char *file;   /* the log's name (a rotated one adds .N) */
	const char *errors; /* searched in each line */
	const char *warnings;
	bool commands;      /* holds the commands that started it, not searched: from a line
			     * "$ ..." to one ending "  # script: ..." (config_managers/script.c) */
} kinds[] = {
	{
		.file = "redis.log",
		.errors = "REDIS BUG REPORT|crashed by signal|ASSERTION FAILED|Guru Meditation|[Ff]atal error|"
			  "Segmentation fault|Out Of Memory|Failed opening|Can't open|Bad file format",
		.warnings = "\\bWARNING\\b",
	},
	{
		.file = "etcd.log",
		.errors = "\"level\":\"(error|fatal|panic|dpanic)\"|^panic:|^fatal error:|^goroutine \\d+ \\[",
		.warnings = "\"level\":\"warn\"",
	},
	{
		.file = "postgresql.log",
		.errors = "\\b(ERROR|PANIC):|\\bFATAL:\\s+(?!the database system is (starting up|shutting down|not yet "
			  "accepting)|terminating connection due to administrator command)|was terminated by signal",
		.warnings = "\\bWARNING:",
	},
	{.file = "service.log", .errors = GENERIC_ERRORS, .warnings = "\\bWARN(ING)?\\b", .commands = true},
	{.file = "system.log", .errors = GENERIC_ERRORS, .warnings = "\\bWARN(ING)?\\b"},
};

/* The compiled patterns of one kind of log. The user's match a whole line (Fallout's
 * rule), each kind's own are searched in it. */
struct patterns {
	struct fo_regex *errors, *warnings;
	bool errors_full, warnings_full;
	bool commands; /* the kind's */
};

static bool matches(const struct fo_regex *re, bool full, const char *line, size_t len)
{
	return re && (full ? fo_regex_full_match(re, line, len) : fo_regex_search(re, line, len));
}

/* The kind of log a file name is: "redis.log", "system.log.3"; -1 for none. */
static int kind_of(const char *name)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(kinds); i++) {
		size_t n = strlen(kinds[i].file);
		if (strncmp(name, kinds[i].file, n) != 0)
			continue;
		const char *rest = name + n;
		if (!*rest)
			return (int)i;
		if (*rest++ != '.' || !*rest)
			continue;
		while (*rest >= '0' && *rest <= '9')
			rest++;
		if (!*rest)
			return (int)i;
	}
	return -1;
}

/* ---- finding the logs ---- */

#define MAX_DEPTH 4   /* below a node's folder */
#define MAX_SHOWN 10  /* error lines quoted */
#define MAX_WARN_SHOWN 3
#define LINE_QUOTE 200
#define MAX_COMMAND 1000 /* lines of a command echoed into a log, at most */

/* A log found: its path relative to the group's folder ("node0/redis.log", owned), and
 * its kind (an index in kinds). */
struct log {
	char *rel;
	int kind;
};

struct found {
	struct log *v;
	size_t n, cap;
};

static int cmp_log(const void *a, const void *b)
{
	return strcmp(((const struct log *)a)->rel, ((const struct log *)b)->rel);
}

static void walk(const char *root, const char *rel, int depth, struct found *out)
{
	struct fo_buf dir = FO_BUF_INIT;
	fo_buf_addf(&dir, "%s/%s", root, rel);
	DIR *d = opendir(dir.s);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct fo_buf path = FO_BUF_INIT, sub = FO_BUF_INIT;
		fo_buf_addf(&path, "%s/%s", dir.s, de->d_name);
		fo_buf_addf(&sub, "%s/%s", rel, de->d_name);
		struct stat st;
		int k;
		if (lstat(path.s, &st) != 0) {
			/* gone since readdir: nothing to read */
		} else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			walk(root, sub.s, depth + 1, out);
		} else if (S_ISREG(st.st_mode) && (k = kind_of(de->d_name)) >= 0) {
			FO_GROW(out->v, out->cap, out->n + 1);
			out->v[out->n++] = (struct log){.rel = fo_buf_detach(&sub, NULL), .kind = k};
		}
		fo_buf_release(&sub);
		fo_buf_release(&path);
	}
	if (d)
		closedir(d);
	fo_buf_release(&dir);
}

/* ---- reading them ---- */

struct tally {
	size_t errors, warnings, lines, unreadable;
	struct fo_buf shown, warn_shown, problems;
};

static void quote(struct fo_buf *b, const char *group, const char *rel, long lineno, const char *line, size_t len)
{
	int q = len > LINE_QUOTE ? LINE_QUOTE : (int)len;
	fo_buf_addf(b, "\n  %s/%s:%ld: %.*s%s", group, rel, lineno, q, line, len > LINE_QUOTE ? "..." : "");
}

static void scan(const char *root, const char *group, const char *rel, const struct patterns *p, struct tally *t)
{
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/%s", root, rel);
	FILE *f = fopen(path.s, "r");
	fo_buf_release(&path);
	if (!f) {
		t->unreadable++;
		fo_buf_addf(&t->problems, "\n  %s/%s cannot be read: %s", group, rel, strerror(errno));
		return;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, command = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (p->commands && (command || strncmp(line, "$ ", 2) == 0)) {
			/* A command as it was started: the script's text, not its output. */
			command = strstr(line, "  # script: ") || command >= MAX_COMMAND ? 0 : command + 1;
			continue;
		}
		if (matches(p->errors, p->errors_full, line, (size_t)len)) {
			if (t->errors++ < MAX_SHOWN)
				quote(&t->shown, group, rel, lineno, line, (size_t)len);
		} else if (matches(p->warnings, p->warnings_full, line, (size_t)len)) {
			if (t->warnings++ < MAX_WARN_SHOWN)
				quote(&t->warn_shown, group, rel, lineno, line, (size_t)len);
		}
	}
	t->lines += (size_t)lineno;
	free(line); /* getline's buffer comes from libc */
	fclose(f);
}

static void patterns_release(struct patterns *p)
{
	fo_regex_free(p->errors);
	fo_regex_free(p->warnings);
}

/* The patterns of every kind, the user's replacing each kind's own. Returns 0 or an
 * error naming a bad regex. */
static int compile(const struct fo_propset *ps, struct patterns *pk, struct fo_err *err)
{
	const char *ue = fo_props_str(ps, "error.pattern", NULL), *uw = fo_props_str(ps, "warn.pattern", NULL);
	for (size_t i = 0; i < FO_ARRAY_LEN(kinds); i++) {
		pk[i].errors = fo_regex_new(ue ? ue : kinds[i].errors, err);
		pk[i].warnings = pk[i].errors ? fo_regex_new(uw ? uw : kinds[i].warnings, err) : NULL;
		if (!pk[i].errors || !pk[i].warnings)
			return err->code ? err->code : FO_EINVAL;
		pk[i].errors_full = ue != NULL;
		pk[i].warnings_full = uw != NULL;
		pk[i].commands = kinds[i].commands;
	}
	return 0;
}

static int check(const struct fo_propset *ps, struct fo_run *r, bool *passed, struct fo_buf *msg,
		 struct fo_err *err)
{
	*passed = false;
	const char *gname = fo_props_str(ps, "server_group", "server");
	struct fo_rgroup *g = fo_run_group(r, gname);
	if (!g) {
		fo_buf_addf(msg, "there is no node group '%s'", gname);
		return 0;
	}
	const char *group = g->spec->name;
	struct patterns pk[FO_ARRAY_LEN(kinds)] = {0};
	struct fo_err e = {0};
	if (compile(ps, pk, &e) != 0) {
		fo_buf_addf(msg, "invalid pattern: %s", e.msg);
		for (size_t i = 0; i < FO_ARRAY_LEN(kinds); i++)
			patterns_release(&pk[i]);
		return 0;
	}
	bool fail_missing = fo_props_bool(ps, "fail_on_missing", false);
	struct fo_buf root = FO_BUF_INIT, missing = FO_BUF_INIT;
	fo_buf_addf(&root, "%s/%s", fo_run_dir(r), group);
	struct tally t = {.shown = FO_BUF_INIT, .warn_shown = FO_BUF_INIT, .problems = FO_BUF_INIT};
	size_t nlogs = 0, nmissing = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct found fd = {0};
		walk(root.s, g->nodes[i].name, 0, &fd);
		if (fd.n == 0) {
			fo_buf_addf(&missing, "%s%s", nmissing++ ? ", " : "", g->nodes[i].name);
			continue;
		}
		qsort(fd.v, fd.n, sizeof(*fd.v), cmp_log);
		for (size_t k = 0; k < fd.n; k++) {
			scan(root.s, group, fd.v[k].rel, &pk[fd.v[k].kind], &t);
			fo_free(fd.v[k].rel);
		}
		nlogs += fd.n;
		fo_free(fd.v);
	}
	*passed = t.errors == 0 && t.unreadable == 0 && !(fail_missing && nmissing);
	if (t.errors)
		fo_buf_addf(msg, "%zu error line%s in %zu log%s of group '%s'%s:%s", t.errors, t.errors == 1 ? "" : "s",
			    nlogs, nlogs == 1 ? "" : "s", group, t.errors > MAX_SHOWN ? " (the first 10)" : "",
			    t.shown.s);
	else if (nlogs)
		fo_buf_addf(msg, "no error lines in %zu log%s of group '%s' (%zu lines)", nlogs, nlogs == 1 ? "" : "s",
			    group, t.lines);
	else
		fo_buf_addf(msg, "no service logs (redis.log, etcd.log, postgresql.log, service.log, system.log) "
				 "in group '%s'",
			    group);
	if (t.unreadable)
		fo_buf_adds(msg, t.problems.s);
	if (nmissing && nlogs)
		fo_buf_addf(msg, "\n%s: node%s without a service log: %s", fail_missing ? "failed" : "warning",
			    nmissing == 1 ? "" : "s", missing.s);
	else if (nmissing && fail_missing)
		fo_buf_adds(msg, " (fail_on_missing is set)");
	if (t.warnings)
		fo_buf_addf(msg, "\n%zu warning line%s (not failing the check)%s:%s", t.warnings,
			    t.warnings == 1 ? "" : "s", t.warnings > MAX_WARN_SHOWN ? ", the first 3" : "", t.warn_shown.s);
	for (size_t i = 0; i < FO_ARRAY_LEN(kinds); i++)
		patterns_release(&pk[i]);
	fo_buf_release(&t.shown);
	fo_buf_release(&t.warn_shown);
	fo_buf_release(&t.problems);
	fo_buf_release(&root);
	fo_buf_release(&missing);
	FO_UNUSED(err);
	return 0;
}

static const struct fo_artifact_checker_ops ops = {.check = check};

const struct fo_component fo_artifact_checker_systemlog = {
	.name = "systemlog",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "fail the run if the servers' service logs hold error lines",
	.description =
		"Reads the service logs collected from every node of `server_group` (under "
		"<group>/node<N>/: redis.log, etcd.log, postgresql.log, a script service's service.log, "
		"Cassandra's system.log, and rotated ones such as system.log.1) and fails if a line is an "
		"error line. The verdict quotes the first 10 as <group>/<node>/<file>:<line>; it is in "
		"controller/artifact_checkers/artifact_checker-<alias>.log and the run's summary. "
		"Warning lines are counted and the first few quoted, but never fail the check. A node "
		"without a service log is a warning, or fails the check with `fail_on_missing`.\n"
		"\n"
		"Error lines, searched anywhere in a line, per log: redis.log: a crash report (`REDIS "
		"BUG REPORT`, `crashed by signal`, `ASSERTION FAILED`, `Guru Meditation`), `Fatal "
		"error`, `Segmentation fault`, `Out Of Memory`, `Failed opening`, `Can't open`, `Bad file "
		"format` (warnings: `WARNING`, not every line of its `#` level, which also says hello); etcd.log: `\"level\":\"error\"` (or fatal, panic), "
		"Go's `panic:` and `fatal error:` (warnings: `\"level\":\"warn\"`); postgresql.log: "
		"`ERROR:`, `PANIC:`, `FATAL:` except while starting or stopping, `was terminated by "
		"signal` (warnings: `WARNING:`); service.log and system.log: the words `ERROR`, `FATAL`, "
		"`PANIC`, `CRITICAL`, `SEVERE`, `panic:`, `Segmentation fault`, `core dumped`, a Python "
		"traceback, `Exception in thread` (warnings: `WARN`, `WARNING`); the commands that a "
		"service.log opens with (`$ ...` up to `# script: service`) are not searched. "
		"`error.pattern` (and "
		"`warn.pattern`) replace them for every log and must match a whole line.\n"
		"\n"
		"Fallout compatibility: the properties of Fallout's `systemlog` artifact checker.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: client\n"
		   "          script: ./run-load.sh\n"
		   "  artifact_checkers:\n"
		   "    no_errors:\n"
		   "      artifact_checker: systemlog\n"
		   "      properties:\n"
		   "        server_group: server\n"
		   "        fail_on_missing: true\n",
	.props = props,
	.artifact_checker = &ops,
};
