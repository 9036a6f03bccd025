/*
 * bash.c: the `bash` module: Fallout's script module, which runs a bash
 * script on the nodes of a group (the controller group included) and turns its exit
 * status into an operation.
 *
 * At run time the script is written to a temporary file in each chosen node's folder and
 * run there through fo_node_exec, one thread per node, under `env -i` with the small
 * environment the description promises; one ok or fail sums up all the nodes.
 */
#include "util/common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "components/script_env.h"
#include "components/modules/module_common.h"
#include "engine/run.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"


#define CAPTURE_MAX (1u << 20) /* stdout bytes kept per node for the operation's value */
#define TAIL_MAX 400           /* bytes of a node's output quoted in the value */

static const struct fo_prop props[] = {
	{
		.name = "script",
		.description = "The script to run. It is written to a file on each node and run with bash, "
			       "or with the interpreter its first line names (#!/usr/bin/env python3...). "
			       "May use <<file:PATH>>, <<secret:NAME>> and <<provider:...>> references.",
		.type = FO_PT_STRING,
		.required = true,
	},
	{
		.name = "target.group",
		.description = "The node group to run on; `controller` runs it on the machine fallout runs "
			       "on.",
		.type = FO_PT_GROUP,
		.default_value = "server",
		.options = (const char *const[]){"server", "client", "controller", NULL},
		.suggestions_only = true,
		.deprecated_name = "server_group",
	},
	{
		.name = "target.ordinals",
		.description = "Which nodes of the group run the script: node ordinals counted from 0, "
			       "e.g. `0,2`, or `all`.",
		.type = FO_PT_STRLIST,
		.default_value = "all",
	},
	{
		.name = "env.vars",
		.description = "Environment variables for the script, a map of names to values. Values "
			       "from <<secret:NAME>> are replaced by <redacted> in every log.",
		.type = FO_PT_MAP,
	},
	{
		.name = "export",
		.description = "Names of variables of fallout's own environment to pass to the script "
			       "(HOME, PATH and the FALLOUT_* variables always are).",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "timeout",
		.description = "How long the script may run on a node before it is killed and the "
			       "module fails.",
		.type = FO_PT_DURATION,
		.default_value = "1h",
	},
	{0},
};

/* True for a name a shell accepts as a variable: [A-Za-z_][A-Za-z0-9_]*. */
static bool var_name_ok(const char *s)
{
	if (!s || !(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* Every ordinal is `all` or a node number; variable names are names, values scalars. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const char *who = ps->alias ? ps->alias : ps->comp->name;
	fo__module_validate_ordinals(ps, d, NULL);
	const struct fo_propval *v = fo_props_get(ps, "env.vars");
	if (v && v->set && v->node && v->node->kind == FO_YMAP) {
		for (size_t i = 0; i < v->node->npairs; i++) {
			const struct fo_ypair *p = &v->node->pairs[i];
			if (!var_name_ok(p->key->str))
				fo_diags_error(d, &p->key->pos,
					       "'%s' in 'env.vars' of module '%s' is not a variable name "
					       "(letters, digits and '_', not starting with a digit)",
					       p->key->str, who);
			else if (p->value->kind != FO_YSCALAR)
				fo_diags_error(d, &p->value->pos,
					       "variable '%s' in 'env.vars' of module '%s' must be a single value, not %s",
					       p->key->str, who, fo_ynode_describe(p->value));
		}
	}
	v = fo_props_get(ps, "export");
	if (v && v->set && v->list) {
		const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
		for (size_t i = 0; i < v->nlist; i++)
			if (!var_name_ok(v->list[i]))
				fo_diags_error(d, pos, "'%s' in 'export' of module '%s' is not a variable name",
					       v->list[i], who);
	}
}

/* ---- running ---- */

/*
 * The environment every node gets: HOME and PATH, fallout's own FALLOUT_* variables, the
 * names listed in `export`, then `env.vars`. Built on the module's thread (getenv is not
 * safe beside setenv, and nothing here calls setenv, but keep it in one place).
 */
static void base_env(const struct fo_propset *ps, struct fo_script_env *e)
{
	/* The running fallout program, so scripts can call it (`"$FALLOUT_BIN" hdr record`). */
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	fo_script_env_add_base(e);
	if (exe[0])
		fo_script_env_set(e, "FALLOUT_BIN", exe);
	const struct fo_propval *v = fo_props_get(ps, "export");
	for (size_t i = 0; v && v->set && i < v->nlist; i++) {
		const char *val = getenv(v->list[i]);
		if (val && var_name_ok(v->list[i]))
			fo_script_env_set(e, v->list[i], val);
	}
	v = fo_props_get(ps, "env.vars");
	if (v && v->set && v->node && v->node->kind == FO_YMAP) {
		for (size_t i = 0; i < v->node->npairs; i++) {
			const struct fo_ypair *p = &v->node->pairs[i];
			if (var_name_ok(p->key->str) && p->value->kind == FO_YSCALAR)
				fo_script_env_set(e, p->key->str, fo_ynode_is_null(p->value) ? "" : p->value->str);
		}
	}
}

/* One node's share of the work. */
struct job {
	struct fo_node *node;
	const char *alias;
	const char *script;
	int64_t timeout_ns;
	const struct fo_script_env *base;
	const char *addresses;   /* every address of the group, space-separated */
	struct fo_buf out;       /* the node's stdout (capped at CAPTURE_MAX) */
	struct fo_cmd_result res;
	int rc;                  /* fo_node_exec's, or the script file's failure */
	struct fo_err err;
};

/* Writes the script to a new file in the node's folder. Returns 0 and the owned path. */
static int write_script(struct job *j, char **path_out)
{
	struct fo_buf name = FO_BUF_INIT;
	fo_buf_addf(&name, "%s/.fallout-bash-", j->node->dir);
	for (const char *s = j->alias; *s; s++) {
		char c = *s;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			     c == '_' || c == '.';
		fo_buf_addch(&name, plain ? c : '_');
	}
	fo_buf_adds(&name, "-XXXXXX.sh");
	int fd = mkostemps(name.s, 3, O_CLOEXEC);
	if (fd < 0) {
		int rc = fo_err_set(&j->err, FO_EIO, "cannot create a script file in '%s': %s", j->node->dir,
				    strerror(errno));
		fo_buf_release(&name);
		return rc;
	}
	size_t len = strlen(j->script), off = 0;
	while (off < len) {
		ssize_t w = write(fd, j->script + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int rc = fo_err_set(&j->err, FO_EIO, "cannot write '%s': %s", name.s, strerror(errno));
			close(fd);
			unlink(name.s);
			fo_buf_release(&name);
			return rc;
		}
		off += (size_t)w;
	}
	/* A script naming its interpreter (#!) is run as a program. */
	if (fo_starts_with(j->script, "#!"))
		fchmod(fd, 0700);
	close(fd);
	*path_out = fo_buf_detach(&name, NULL);
	return 0;
}

/*
 * Runs the script on one node. The command is `env -i -- NAME=VALUE... bash FILE`, so
 * the script sees only the environment built here, not fallout's. (The values are on
 * env's command line for the instant before it execs bash.)
 */
static void *run_job(void *arg)
{
	struct job *j = arg;
	struct fo_node *n = j->node;
	struct fo_script_env e = {0};
	fo_script_env_copy(&e, j->base);
	char num[32];
	snprintf(num, sizeof(num), "%d", n->ordinal);
	fo_script_env_set(&e, "FALLOUT_NODE_ORDINAL", num);
	fo_script_env_set(&e, "FALLOUT_NODE_NAME", n->name);
	fo_script_env_set(&e, "FALLOUT_NODE_GROUP", n->group->spec->name);
	fo_script_env_set(&e, "FALLOUT_NODE_ADDRESS", n->address);
	fo_script_env_set(&e, "FALLOUT_GROUP_ADDRESSES", j->addresses);
	if (n->artifacts)
		fo_script_env_set(&e, "FALLOUT_NODE_ARTIFACTS", n->artifacts);
	if (n->dir)
		fo_script_env_set(&e, "FALLOUT_NODE_DIR", n->dir);

	/* References (<<file:...>>, <<secret:...>>, <<provider:...>>) are expanded per node. */
	struct fo_buf expanded = FO_BUF_INIT;
	if ((j->rc = fo_run_expand(n->group->run, n, j->script, &expanded, &j->err)) != 0) {
		fo_buf_release(&expanded);
		fo_script_env_release(&e);
		return NULL;
	}
	j->script = expanded.s;
	char *file = NULL;
	if (n->dir && (j->rc = write_script(j, &file)) != 0) {
		fo_buf_release(&expanded);
		fo_script_env_release(&e);
		return NULL;
	}
	const char **argv = fo_calloc(e.n + 8, sizeof(*argv));
	size_t k = 0;
	argv[k++] = "env";
	argv[k++] = "-i";
	argv[k++] = "--";
	for (size_t i = 0; i < e.n; i++)
		argv[k++] = e.v[i];
	if (!file) {
		argv[k++] = "bash";
		argv[k++] = "-c";
		argv[k++] = j->script;
	} else if (fo_starts_with(j->script, "#!")) {
		argv[k++] = file;
	} else {
		argv[k++] = "bash";
		argv[k++] = file;
	}
	argv[k] = NULL;

	struct fo_buf prefix = FO_BUF_INIT;
	fo_buf_addf(&prefix, "$ %s%s  # module '%s'\n", file && !fo_starts_with(j->script, "#!") ? "bash " : "",
		    file ? strrchr(file, '/') + 1 : "bash -c SCRIPT", j->alias);
	struct fo_cmd cmd = {
		.argv = argv,
		.cwd = n->dir,
		.log_path = n->log ? fo_log_path(n->log) : NULL,
		.log_prefix = prefix.s,
		.timeout_ns = j->timeout_ns,
		.capture = &j->out,
	};
	j->rc = fo_node_exec(n, &cmd, &j->res, &j->err);
	if (file) {
		unlink(file);
		fo_free(file);
	}
	fo_buf_release(&prefix);
	fo_free(argv);
	fo_script_env_release(&e);
	j->script = NULL; /* it pointed into expanded */
	fo_buf_release(&expanded);
	return NULL;
}

/* Appends the end of a node's output (at most TAIL_MAX bytes, from a line start). */
static void add_tail(struct fo_buf *b, const struct fo_buf *out)
{
	size_t end = out->len;
	while (end > 0 && (out->s[end - 1] == '\n' || out->s[end - 1] == '\r' || out->s[end - 1] == ' ' ||
			   out->s[end - 1] == '\t'))
		end--;
	if (end == 0)
		return;
	size_t start = end > TAIL_MAX ? end - TAIL_MAX : 0;
	if (start > 0) {
		const char *nl = memchr(out->s + start, '\n', end - start);
		if (nl && nl + 1 < out->s + end)
			start = (size_t)(nl + 1 - out->s);
		fo_buf_adds(b, "...\n");
	}
	fo_buf_add(b, out->s + start, end - start);
}

/* How a node's run ended, in a few words; NULL when it exited 0. */
static const char *describe_end(const struct job *j, char *tmp, size_t n, int64_t timeout_ns)
{
	if (j->rc != 0) {
		snprintf(tmp, n, "could not run: %s", j->err.code ? j->err.msg : fo_strerror(j->rc));
		return tmp;
	}
	if (j->res.aborted)
		return "aborted";
	if (j->res.timed_out) {
		char d[32];
		fo_duration_format(timeout_ns, d, sizeof(d));
		snprintf(tmp, n, "timed out after %s", d);
		return tmp;
	}
	if (j->res.signal) {
		snprintf(tmp, n, "killed by signal %d", j->res.signal);
		return tmp;
	}
	if (j->res.exit_code != 0) {
		snprintf(tmp, n, "exit status %d", j->res.exit_code);
		return tmp;
	}
	return NULL;
}

/*
 * Runs the script on the selected nodes at once (a thread per node) and emits one
 * invoke (the nodes) and one ok or fail for them all.
 */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	const char *target = fo_props_str(m->props, "target.group", "server");
	const char *script = fo_props_str(m->props, "script", "");
	int64_t timeout = fo_props_duration_ns(m->props, "timeout", 0);
	struct fo_rgroup *g = fo_run_group(m->run, target);
	if (!g) {
		fo_emit(m, FO_OP_INVOKE, target);
		fo_emitf(m, FO_OP_FAIL, "there is no node group '%s'", target);
		return 0;
	}
	struct fo_node **sel = NULL;
	size_t nsel = 0;
	struct fo_err serr = {0};
	if (fo__module_select_nodes(g, fo_props_get(m->props, "target.ordinals"), &sel, &nsel, &serr) != 0 ||
	    nsel == 0) {
		fo_emit(m, FO_OP_INVOKE, g->spec->name);
		fo_emitf(m, FO_OP_FAIL, "%s", serr.code ? serr.msg : "no nodes selected");
		fo_free(sel);
		return 0;
	}

	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s:", g->spec->name);
	for (size_t i = 0; i < nsel; i++)
		fo_buf_addf(&b, "%s %s", i ? "," : "", sel[i]->name);
	fo_emit(m, FO_OP_INVOKE, b.s);

	struct fo_buf addrs = FO_BUF_INIT;
	for (size_t i = 0; i < g->n; i++)
		fo_buf_addf(&addrs, "%s%s", i ? " " : "", g->nodes[i].address);
	struct fo_script_env base = {0};
	base_env(m->props, &base);

	struct job *jobs = fo_calloc(nsel, sizeof(*jobs));
	for (size_t i = 0; i < nsel; i++) {
		jobs[i] = (struct job){.node = sel[i], .alias = m->alias, .script = script, .timeout_ns = timeout,
				       .base = &base, .addresses = addrs.s};
		fo_buf_init(&jobs[i].out, CAPTURE_MAX);
	}
	/* The first node runs on this thread, the others each on their own. */
	fo__module_run_jobs(jobs, nsel, sizeof(*jobs), run_job);

	/* One verdict for all: ok only if every node exited 0. */
	size_t nfailed = 0;
	char tmp[1200];
	for (size_t i = 0; i < nsel; i++)
		nfailed += describe_end(&jobs[i], tmp, sizeof(tmp), timeout) != NULL;
	fo_buf_clear(&b);
	if (nfailed == 0) {
		fo_buf_addf(&b, "exit status 0 on %s:", g->spec->name);
		for (size_t i = 0; i < nsel; i++)
			fo_buf_addf(&b, "%s %s", i ? "," : "", sel[i]->name);
		for (size_t i = 0; i < nsel; i++) {
			if (jobs[i].out.len == 0)
				continue;
			fo_buf_addf(&b, "\n[%s] ", sel[i]->name);
			add_tail(&b, &jobs[i].out);
		}
		fo_emit(m, FO_OP_OK, b.s);
	} else {
		fo_buf_addf(&b, "failed on %s:", g->spec->name);
		/* Nodes that failed the same way are named together: "node0, node2 (exit status 1)". */
		char **why = fo_calloc(nsel, sizeof(*why));
		for (size_t i = 0; i < nsel; i++) {
			const char *w = describe_end(&jobs[i], tmp, sizeof(tmp), timeout);
			why[i] = w ? fo_strdup(w) : NULL;
		}
		size_t k = 0;
		for (size_t i = 0; i < nsel; i++) {
			if (!why[i])
				continue;
			fo_buf_addf(&b, "%s %s", k++ ? ";" : "", sel[i]->name);
			for (size_t j = i + 1; j < nsel; j++) {
				if (why[j] && strcmp(why[j], why[i]) == 0) {
					fo_buf_addf(&b, ", %s", sel[j]->name);
					fo_free(why[j]);
					why[j] = NULL;
				}
			}
			fo_buf_addf(&b, " (%s)", why[i]);
			fo_free(why[i]);
			why[i] = NULL;
		}
		fo_free(why);
		if (nfailed < nsel) {
			fo_buf_adds(&b, "; exit status 0 on");
			k = 0;
			for (size_t i = 0; i < nsel; i++)
				if (!describe_end(&jobs[i], tmp, sizeof(tmp), timeout))
					fo_buf_addf(&b, "%s %s", k++ ? "," : "", sel[i]->name);
		}
		fo_buf_addf(&b, "; output in %s/<node>/fallout-node.log", g->spec->name);
		for (size_t i = 0; i < nsel; i++) {
			if (!describe_end(&jobs[i], tmp, sizeof(tmp), timeout) || jobs[i].out.len == 0)
				continue;
			fo_buf_addf(&b, "\n[%s] ", sel[i]->name);
			add_tail(&b, &jobs[i].out);
		}
		fo_emit(m, FO_OP_FAIL, b.s);
	}

	for (size_t i = 0; i < nsel; i++)
		fo_buf_release(&jobs[i].out);
	fo_free(jobs);
	fo_script_env_release(&base);
	fo_buf_release(&addrs);
	fo_buf_release(&b);
	fo_free(sel);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_bash = {
	.name = "bash",
	.kind = FO_KIND_MODULE,
	.summary = "run a bash script on the nodes of a group, or on the controller",
	.description =
		"Runs `script` on every selected node of `target.group` at the same time and waits "
		"for all of them. It emits `invoke` (naming the nodes) when it starts, then one `ok` "
		"when the script exited with status 0 on every node, or one `fail` naming each node "
		"where it exited with another status, was killed, or ran past `timeout`. The script's "
		"output (stdout and stderr) goes to the node's log (fallout-node.log); the value of the "
		"`ok` or `fail` quotes only the last few lines of each node's stdout.\n"
		"\n"
		"The script runs in the node's folder with a small environment: HOME, PATH, fallout's "
		"own FALLOUT_* variables, the variables listed in `export`, `env.vars`, and these "
		"describing the node: FALLOUT_NODE_ORDINAL, FALLOUT_NODE_NAME (node0...), "
		"FALLOUT_NODE_GROUP, FALLOUT_NODE_ADDRESS, FALLOUT_GROUP_ADDRESSES (every address of "
		"the group, space-separated), FALLOUT_NODE_DIR, FALLOUT_NODE_ARTIFACTS (the node's "
		"artifact folder: files written there are kept with the run) and FALLOUT_BIN (the "
		"running fallout program, e.g. for `\"$FALLOUT_BIN\" hdr record -o "
		"\"$FALLOUT_NODE_ARTIFACTS/latency.hdr\" ...`, whose interval logs `hdrtool` reads). With "
		"`lifetime: run_to_end_of_phase` it runs again and again until the phase's other "
		"modules finish, which suits background load or periodic checks.\n"
		"\n"
		"Fallout compatibility: Fallout's `bash` module; tests using `script` and `env.vars` "
		"run unchanged. The FALLOUT_NODE_*, FALLOUT_GROUP_ADDRESSES and FALLOUT_BIN variables are "
		"ours.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - prepare:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          target.group: server\n"
		   "          target.ordinals: 0\n"
		   "          env.vars:\n"
		   "            GREETING: hello\n"
		   "          script: |\n"
		   "            echo \"$GREETING from node $FALLOUT_NODE_ORDINAL\"\n"
		   "  checkers:\n"
		   "    verify_success:\n"
		   "      checker: nofail\n",
	.props = props,
	.validate = validate,
	.module = &ops,
};
