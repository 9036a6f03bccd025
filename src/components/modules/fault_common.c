/*
 * fault_common.c: the shared layer of the fault modules (fault_common.h): targets, the
 * schedule, the history, and healing.
 *
 * What heals the fault in progress is a list of entries (a stopped process group, an
 * nftables table, a qdisc, a service to restart), each written in the run's ledger before
 * it is applied, and undone newest first. nft and tc run through posix_spawn here rather
 * than fo_proc_run: an abort makes fo_proc_run refuse every new command until teardown,
 * and a heal must run right then. They are short (a timeout kills them) and their output
 * goes to the node's log.
 */
#include "util/common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "components/modules/fault_common.h"
#include "components/modules/module_common.h"
#include "engine/ledger.h"
#include "engine/log.h"
#include "engine/run.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"

extern char **environ;

#define NS_PER_S 1000000000LL
#define TOOL_TIMEOUT_NS (10 * NS_PER_S) /* how long nft or tc may take */
#define TOOL_OUTPUT_MAX (64u << 10)      /* bytes of their output kept */

/* One thing applied by the fault in progress, and how to undo it. */
struct heal {
	enum { H_STOPPED, H_NFT, H_TC, H_RESTART } kind;
	struct fo_node *node;
	pid_t pgid;          /* stopped */
	uint64_t start;      /* stopped: the leader's start time */
	char *netns, *name;  /* nft: namespace, table; tc: namespace, device; restart: service */
};

struct fo_fault {
	struct fo_mctx *m;
	const struct fo_fault_ops *ops;
	struct fo_node **targets, **others; /* the fault in progress: its nodes, the group's others */
	size_t ntargets, nothers;
	struct heal *heals;                 /* what heals it, in the order applied */
	size_t nheals, heals_cap;
	bool active;                        /* injected (perhaps in part) and not yet healed */
	int64_t start_ns, start_wall;       /* when it was injected (monotonic, wall clock) */
	struct fo_buf nodes_json;           /* ["server/node1",...] */
	struct fo_buf what;                 /* "kill server/node1" */
	uint64_t rng;                       /* splitmix64 state: seeded once, so choices go on */
	unsigned tables;                    /* nftables tables made so far (their names) */
};

/* ---- small helpers ---- */

static uint64_t next_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void group_node(struct fo_buf *b, const struct fo_node *n)
{
	fo_buf_addf(b, "%s/%s", n->group->spec->name, n->name);
}

/*
 * Runs argv to its end (at most TOOL_TIMEOUT_NS) in a process group of its own, with
 * input (may be NULL) on its standard input, and logs the command and its output to n's
 * log; with output, its output is also appended there. Returns 0 when it exited 0, else
 * FO_EIO with its output in err.
 */
static int tool(struct fo_node *n, const char *const *argv, const char *input, struct fo_buf *output,
		struct fo_err *err)
{
	struct fo_buf line = FO_BUF_INIT, out = FO_BUF_INIT;
	fo_buf_init(&out, TOOL_OUTPUT_MAX);
	for (size_t i = 0; argv[i]; i++)
		fo_buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	fo_info(n->log, "fault: $ %s", line.s);
	int op[2] = {-1, -1}, ip[2] = {-1, -1};
	if (pipe2(op, O_CLOEXEC) < 0 || (input && pipe2(ip, O_CLOEXEC) < 0)) {
		int rc = fo_err_set(err, FO_EIO, "cannot run '%s': %s", line.s, strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (op[i] >= 0)
				close(op[i]);
			if (ip[i] >= 0)
				close(ip[i]);
		}
		fo_buf_release(&line);
		fo_buf_release(&out);
		return rc;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, ip[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_adddup2(&fa, op[1], 2);
	posix_spawnattr_init(&at);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	pid_t pid = 0;
	int e = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(op[1]);
	if (input)
		close(ip[0]);
	int rc = 0;
	if (e) {
		rc = fo_err_set(err, FO_EIO, "cannot run '%s': %s", line.s, strerror(e));
	} else {
		/* The input is small (a ruleset): the pipe takes it all before the tool reads. */
		for (size_t off = 0, len = input ? strlen(input) : 0; off < len;) {
			ssize_t w = write(ip[1], input + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (input)
			close(ip[1]);
		int64_t deadline = fo_now_ns() + TOOL_TIMEOUT_NS;
		bool timed_out = false;
		for (;;) {
			int64_t left = deadline - fo_now_ns();
			if (left <= 0) {
				timed_out = true;
				break;
			}
			struct pollfd p = {.fd = op[0], .events = POLLIN};
			int k = poll(&p, 1, (int)(left / 1000000 + 1));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				continue;
			char chunk[4096];
			ssize_t r = read(op[0], chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			fo_buf_add(&out, chunk, (size_t)r); /* past the cap: dropped */
		}
		if (timed_out)
			kill(-pid, SIGKILL);
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		while (out.len && (out.s[out.len - 1] == '\n' || out.s[out.len - 1] == ' '))
			fo_buf_truncate(&out, out.len - 1);
		if (out.len)
			fo_info(n->log, "%s", out.s);
		if (output)
			fo_buf_add(output, out.s, out.len);
		if (timed_out)
			rc = fo_err_set(err, FO_EIO, "'%s' did not finish in %llds", line.s,
					(long long)(TOOL_TIMEOUT_NS / NS_PER_S));
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = fo_err_set(err, FO_EIO, "'%s' failed (%s %d)%s%s", line.s,
					WIFEXITED(st) ? "exit status" : "signal",
					WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), out.len ? ": " : "", out.s);
	}
	if (input && ip[1] >= 0 && e)
		close(ip[1]);
	close(op[0]);
	fo_buf_release(&line);
	fo_buf_release(&out);
	return rc;
}

/* ---- targets ---- */

/* Chooses the next fault's targets; the group's other nodes are the others. */
static int choose(struct fo_fault *f, struct fo_rgroup *g, struct fo_err *err)
{
	const struct fo_propset *ps = f->m->props;
	struct fo_node **cand = NULL;
	size_t nc = 0;
	int rc = fo__module_select_nodes(g, fo_props_get(ps, "target.ordinals"), &cand, &nc, err);
	if (rc)
		return rc;
	bool random = fo_props_bool(ps, "target.random", false);
	const struct fo_propval *cv = fo_props_get(ps, "target.count");
	size_t count = cv && cv->set ? (size_t)cv->i : random ? 1 : nc;
	if (count > nc || nc == 0) {
		fo_free(cand);
		return fo_err_set(err, FO_EINVAL, "target.count is %zu but group '%s' has %zu node%s to choose from",
				  count, g->spec->name, nc, nc == 1 ? "" : "s");
	}
	for (size_t i = 0; random && i < count; i++) { /* a partial Fisher-Yates shuffle */
		size_t j = i + (size_t)(next_rand(&f->rng) % (nc - i));
		struct fo_node *t = cand[i];
		cand[i] = cand[j];
		cand[j] = t;
	}
	fo_free(f->targets);
	fo_free(f->others);
	f->targets = cand;
	f->ntargets = count;
	f->others = fo_calloc(g->n + 1, sizeof(*f->others));
	f->nothers = 0;
	for (size_t i = 0; i < g->n; i++) {
		bool chosen = false;
		for (size_t k = 0; k < count && !chosen; k++)
			chosen = cand[k] == &g->nodes[i];
		if (!chosen)
			f->others[f->nothers++] = &g->nodes[i];
	}
	fo_buf_clear(&f->nodes_json);
	fo_buf_clear(&f->what);
	fo_buf_addf(&f->what, "%s ", f->ops->verb);
	fo_buf_addch(&f->nodes_json, '[');
	for (size_t i = 0; i < count; i++) {
		struct fo_buf one = FO_BUF_INIT;
		group_node(&one, cand[i]);
		fo_buf_addf(&f->what, "%s%s", i ? ", " : "", one.s);
		fo_buf_addf(&f->nodes_json, "%s", i ? "," : "");
		fo_buf_add_json_str(&f->nodes_json, one.s, one.len);
		fo_buf_release(&one);
	}
	fo_buf_addch(&f->nodes_json, ']');
	return 0;
}

struct fo_mctx *fo_fault_mctx(struct fo_fault *f)
{
	return f->m;
}

struct fo_node *const *fo_fault_targets(const struct fo_fault *f, size_t *n)
{
	*n = f->ntargets;
	return f->targets;
}

struct fo_node *const *fo_fault_others(const struct fo_fault *f, size_t *n)
{
	*n = f->nothers;
	return f->others;
}

/* ---- services ---- */

struct svc_list {
	struct fo_fault_svc *v;
	size_t n, cap;
	const char *want; /* NULL: all */
};

static void add_svc(void *ctx, const char *name, pid_t pgid)
{
	struct svc_list *l = ctx;
	if (l->want && strcmp(l->want, name) != 0)
		return;
	FO_GROW(l->v, l->cap, l->n + 1);
	struct fo_fault_svc *s = &l->v[l->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->pgid = pgid;
}

int fo_fault_services(struct fo_fault *f, struct fo_node *n, struct fo_fault_svc **out, size_t *count,
		      struct fo_err *err)
{
	struct svc_list l = {.want = fo_props_str(f->m->props, "service", NULL)};
	if (l.want && !*l.want)
		l.want = NULL;
	struct fo_err e = {0};
	int rc = fo_node_services(n, add_svc, &l, &e);
	const struct fo_component *c = n->group->spec->provisioner.comp;
	if (rc == FO_EUNSUPPORTED && !l.want && c && c->provisioner && c->provisioner->service_pids) {
		/* No names, but the process groups will do for signals. */
		pid_t pids[64];
		int k = c->provisioner->service_pids(n, pids, FO_ARRAY_LEN(pids));
		for (int i = 0; i < k && i < (int)FO_ARRAY_LEN(pids); i++)
			add_svc(&l, "", pids[i]);
		rc = k < 0 ? k : 0;
	}
	if (rc < 0) {
		fo_free(l.v);
		return fo_err_set(err, rc, "%s", e.code ? e.msg : fo_strerror(rc));
	}
	if (l.n == 0) {
		fo_free(l.v);
		if (l.want)
			return fo_err_set(err, FO_ENOTFOUND, "no service '%s' runs on %s/%s", l.want,
					  n->group->spec->name, n->name);
		return fo_err_set(err, FO_ENOTFOUND, "no service runs on %s/%s", n->group->spec->name, n->name);
	}
	*out = l.v;
	*count = l.n;
	return 0;
}

/* ---- what heals a fault ---- */

static struct heal *push_heal(struct fo_fault *f, struct heal h)
{
	FO_GROW(f->heals, f->heals_cap, f->nheals + 1);
	f->heals[f->nheals] = h;
	return &f->heals[f->nheals++];
}

static int ledger_failed(struct fo_node *n, const char *what, struct fo_err *err)
{
	return fo_err_set(err, FO_EIO, "cannot record %s on %s/%s in the run's ledger: not applied", what,
			  n->group->spec->name, n->name);
}

int fo_fault_stop(struct fo_fault *f, struct fo_node *n, pid_t pgid, struct fo_err *err)
{
	if (fo_ledger_stopped(fo_run_ledger(f->m->run), pgid) != 0)
		return ledger_failed(n, "a stopped process group", err);
	push_heal(f, (struct heal){.kind = H_STOPPED, .node = n, .pgid = pgid, .start = fo_proc_start_time(pgid)});
	if (kill(-pgid, SIGSTOP) < 0)
		return fo_err_set(err, FO_EIO, "cannot stop process group %d on %s/%s: %s", (int)pgid,
				  n->group->spec->name, n->name, strerror(errno));
	fo_info(n->log, "fault: stopped process group %d (SIGSTOP)", (int)pgid);
	return 0;
}

void fo_fault_restart_later(struct fo_fault *f, struct fo_node *n, const char *name)
{
	push_heal(f, (struct heal){.kind = H_RESTART, .node = n, .name = fo_strdup(name)});
}

/* The node's namespace and interface, or why the fault cannot touch its network. */
static int network(struct fo_fault *f, struct fo_node *n, struct fo_buf *ns, struct fo_buf *dev,
		   struct fo_err *err)
{
	struct fo_err e = {0};
	int rc = fo_node_network(n, ns, dev, &e);
	if (!rc && (!ns->len || !dev->len || strchr(ns->s, ' ') || strchr(dev->s, ' ')))
		rc = fo_err_set(&e, FO_EINVAL, "the provisioner gave no usable namespace and interface");
	if (rc)
		return fo_err_set(err, rc,
				  "%s needs nodes with a network namespace of their own (provisioner netns), and "
				  "%s/%s has none (%s); fallout never changes this machine's own network",
				  f->ops->verb, n->group->spec->name, n->name, e.msg);
	return 0;
}

int fo_fault_need_network(struct fo_fault *f, struct fo_node *n, struct fo_err *err)
{
	struct fo_buf ns = FO_BUF_INIT, dev = FO_BUF_INIT;
	int rc = network(f, n, &ns, &dev, err);
	fo_buf_release(&ns);
	fo_buf_release(&dev);
	return rc;
}

int fo_fault_nft(struct fo_fault *f, struct fo_node *n, const char *chains, struct fo_err *err)
{
	struct fo_buf ns = FO_BUF_INIT, dev = FO_BUF_INIT, table = FO_BUF_INIT, text = FO_BUF_INIT;
	int rc = network(f, n, &ns, &dev, err);
	if (!rc) {
		/* fallout_<run id, letters and digits>_<n>: ours, and unique in the run */
		fo_buf_adds(&table, "fallout_");
		for (const char *p = fo_run_id(f->m->run); *p && table.len < 16; p++)
			if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
				fo_buf_addch(&table, *p);
		fo_buf_addf(&table, "_%u", ++f->tables);
		if (fo_ledger_nft(fo_run_ledger(f->m->run), ns.s, table.s) != 0)
			rc = ledger_failed(n, "an nftables table", err);
	}
	if (!rc) {
		push_heal(f, (struct heal){.kind = H_NFT, .node = n, .netns = fo_strdup(ns.s),
					   .name = fo_strdup(table.s)});
		fo_buf_addf(&text, "table inet %s {\n%s\n}\n", table.s, chains);
		fo_info(n->log, "fault: nftables table in network namespace %s:\n%s", ns.s, text.s);
		const char *argv[] = {"ip", "netns", "exec", ns.s, "nft", "-f", "-", NULL};
		rc = tool(n, argv, text.s, NULL, err);
	}
	fo_buf_release(&ns);
	fo_buf_release(&dev);
	fo_buf_release(&table);
	fo_buf_release(&text);
	return rc;
}

int fo_fault_tc(struct fo_fault *f, struct fo_node *n, const char *const *qdisc, struct fo_err *err)
{
	struct fo_buf ns = FO_BUF_INIT, dev = FO_BUF_INIT;
	int rc = network(f, n, &ns, &dev, err);
	if (!rc && fo_ledger_tc(fo_run_ledger(f->m->run), ns.s, dev.s) != 0)
		rc = ledger_failed(n, "a qdisc", err);
	if (!rc) {
		push_heal(f, (struct heal){.kind = H_TC, .node = n, .netns = fo_strdup(ns.s),
					   .name = fo_strdup(dev.s)});
		const char *argv[32] = {"tc", "-n", ns.s, "qdisc", "add", "dev", dev.s, "root"};
		size_t k = 8;
		for (size_t i = 0; qdisc[i] && k < FO_ARRAY_LEN(argv) - 1; i++)
			argv[k++] = qdisc[i];
		argv[k] = NULL;
		rc = tool(n, argv, NULL, NULL, err);
	}
	fo_buf_release(&ns);
	fo_buf_release(&dev);
	return rc;
}

/*
 * After a failed delete: true if there is nothing left to delete (the namespace is gone
 * and took its tables and qdiscs with it; the table was never made; the device has its
 * default root qdisc, handle 0:, back).
 */
static bool nothing_left(const struct heal *h)
{
	struct fo_buf p = FO_BUF_INIT, out = FO_BUF_INIT;
	fo_buf_addf(&p, "/run/netns/%s", h->netns);
	struct stat st;
	bool gone = lstat(p.s, &st) < 0 && errno == ENOENT;
	if (!gone && h->kind == H_NFT) {
		const char *argv[] = {"ip", "netns", "exec", h->netns, "nft", "list", "table", "inet", h->name, NULL};
		gone = tool(h->node, argv, NULL, NULL, NULL) != 0;
	} else if (!gone) {
		const char *argv[] = {"tc", "-n", h->netns, "qdisc", "show", "dev", h->name, "root", NULL};
		gone = tool(h->node, argv, NULL, &out, NULL) != 0 || strstr(out.s, " 0: root") != NULL;
	}
	fo_buf_release(&p);
	fo_buf_release(&out);
	return gone;
}

/* Undoes one entry; says what it did in detail. */
static int heal_one(struct fo_fault *f, struct heal *h, struct fo_buf *detail, struct fo_err *err)
{
	struct fo_ledger *l = fo_run_ledger(f->m->run);
	int rc = 0;
	switch (h->kind) {
	case H_STOPPED: {
		uint64_t now = fo_proc_start_time(h->pgid);
		if ((now == 0 || now == h->start) && kill(-h->pgid, SIGCONT) == 0)
			fo_info(h->node->log, "fault: continued process group %d (SIGCONT)", (int)h->pgid);
		fo_ledger_gone_stopped(l, h->pgid);
		break;
	}
	case H_NFT: {
		const char *argv[] = {"ip", "netns", "exec", h->netns, "nft", "delete", "table", "inet", h->name, NULL};
		rc = tool(h->node, argv, NULL, NULL, err);
		if (rc && nothing_left(h))
			rc = 0;
		if (!rc)
			fo_ledger_gone_nft(l, h->netns, h->name);
		break;
	}
	case H_TC: {
		const char *argv[] = {"tc", "-n", h->netns, "qdisc", "del", "dev", h->name, "root", NULL};
		rc = tool(h->node, argv, NULL, NULL, err);
		if (rc && nothing_left(h))
			rc = 0;
		if (!rc)
			fo_ledger_gone_tc(l, h->netns, h->name);
		break;
	}
	case H_RESTART:
		if (fo_run_aborted(f->m->run)) {
			fo_info(h->node->log, "fault: service '%s' not restarted: the run is being aborted", h->name);
			fo_buf_addf(detail, "%s%s on %s/%s not restarted (aborted)", detail->len ? "; " : "", h->name,
				    h->node->group->spec->name, h->node->name);
			break;
		}
		rc = fo_node_restart_service(h->node, h->name, err);
		if (!rc)
			fo_buf_addf(detail, "%s%s restarted on %s/%s", detail->len ? "; " : "", h->name,
				    h->node->group->spec->name, h->node->name);
		break;
	}
	return rc;
}

/* Heals everything recorded, newest first, going on past a failure (the first is kept). */
static int heal_all(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err)
{
	int rc = 0;
	for (size_t i = f->nheals; i-- > 0;) {
		struct heal *h = &f->heals[i];
		struct fo_err e = {0};
		int r = heal_one(f, h, detail, &e);
		if (r) {
			fo_error(h->node->log, "fault: cannot heal: %s", e.msg);
			if (!rc)
				rc = fo_err_set(err, r, "%s", e.msg);
		}
		fo_free(h->netns);
		fo_free(h->name);
	}
	f->nheals = 0;
	return rc;
}

/* ---- the history ---- */

/* Emits an info "inject ..." or "heal ..." for the fault in progress. */
static void emit_event(struct fo_fault *f, const char *action, bool ended, const char *detail,
		       const struct fo_err *e)
{
	struct fo_buf b = FO_BUF_INIT, what = FO_BUF_INIT;
	char start[40], end[40];
	int64_t now = fo_wall_ns();
	fo_format_time(f->start_wall, start, sizeof(start));
	fo_format_time(now, end, sizeof(end));
	fo_buf_addf(&what, "%s %s", action, f->what.s);
	fo_buf_adds(&b, "{\"what\":");
	fo_buf_add_json_str(&b, what.s, what.len);
	fo_buf_addf(&b, ",\"fault\":\"%s\",\"action\":\"%s\",\"nodes\":%s,\"start\":\"%s\"", f->ops->verb, action,
		    f->nodes_json.s, start);
	if (ended)
		fo_buf_addf(&b, ",\"end\":\"%s\",\"duration_s\":%.3f", end,
			    (double)(fo_now_ns() - f->start_ns) / (double)NS_PER_S);
	if (detail && *detail) {
		fo_buf_adds(&b, ",\"detail\":");
		fo_buf_add_json_str(&b, detail, strlen(detail));
	}
	if (e && e->code) {
		fo_buf_adds(&b, ",\"error\":");
		fo_buf_add_json_str(&b, e->msg, strlen(e->msg));
	}
	fo_buf_addch(&b, '}');
	fo_emit_media(f->m, FO_OP_INFO, "application/json", b.s);
	fo_buf_release(&b);
	fo_buf_release(&what);
}

/* Heals the fault in progress; with emit, records the heal in the history. */
static int heal_now(struct fo_fault *f, bool emit, struct fo_err *err)
{
	if (!f->active)
		return 0;
	struct fo_buf detail = FO_BUF_INIT;
	struct fo_err e = {0};
	int rc = heal_all(f, &detail, &e);
	f->active = false;
	if (emit)
		emit_event(f, "heal", true, detail.s, rc ? &e : NULL);
	if (rc)
		fo_err_set(err, rc, "heal %s failed: %s", f->what.s, e.msg);
	fo_buf_release(&detail);
	return rc;
}

/* ---- the module ---- */

int fo_fault_setup(struct fo_mctx *m, const struct fo_fault_ops *ops, struct fo_err *err)
{
	struct fo_fault *f = fo_calloc(1, sizeof(*f));
	f->m = m;
	f->ops = ops;
	f->nodes_json = (struct fo_buf)FO_BUF_INIT;
	f->what = (struct fo_buf)FO_BUF_INIT;
	f->rng = (uint64_t)fo_props_int(m->props, "seed", 0) * 0x2545f4914f6cdd1dULL + 1;
	m->state = f;
	FO_UNUSED(err);
	return 0;
}

int fo_fault_run(struct fo_mctx *m, struct fo_err *err)
{
	struct fo_fault *f = m->state;
	const struct fo_propset *ps = m->props;
	const char *gname = fo_props_str(ps, "target.group", "server");
	int64_t iterations = fo_props_int(ps, "iterations", 1);
	int64_t interval = fo_props_duration_ns(ps, "interval", 0), recovery = fo_props_duration_ns(ps, "recovery", 0);
	const struct fo_propval *dv = f->ops->duration_prop ? fo_props_get(ps, f->ops->duration_prop) : NULL;
	bool timed = dv && dv->set;
	int64_t duration = timed ? dv->ns : 0;
	struct fo_rgroup *g = fo_run_group(m->run, gname);

	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s on %s: %lld fault%s", f->ops->verb, g ? g->spec->name : gname, (long long)iterations,
		    iterations == 1 ? "" : "s");
	if (timed) {
		char d[32];
		fo_duration_format(duration, d, sizeof(d));
		fo_buf_addf(&b, ", %s %s", f->ops->duration_prop, d);
	}
	fo_emit(m, FO_OP_INVOKE, b.s);
	fo_buf_release(&b);
	if (!g || g->n == 0) {
		fo_emitf(m, FO_OP_FAIL, "there is no node group '%s' with nodes", gname);
		return 0;
	}
	struct fo_err e = {0};
	if (f->ops->check && f->ops->check(f, g, &e) != 0) {
		fo_emit(m, FO_OP_FAIL, e.msg);
		return fo_err_set(err, e.code, "%s", e.msg);
	}
	if (fo_run_sleep(m->run, fo_props_duration_ns(ps, "delay", 0))) {
		fo_emit(m, FO_OP_FAIL, "aborted before the first fault");
		return 0;
	}
	struct fo_err failed = {0}, heal_err = {0};
	int64_t done = 0;
	bool aborted = false;
	for (int64_t it = 0; it < iterations && !failed.code && !aborted; it++) {
		fo_err_clear(&e);
		if (choose(f, g, &e) != 0) {
			fo_err_set(&failed, e.code, "%s", e.msg);
			break;
		}
		struct fo_buf detail = FO_BUF_INIT;
		f->start_ns = fo_now_ns();
		f->start_wall = fo_wall_ns();
		f->active = true;
		int rc = f->ops->inject(f, &detail, &e);
		emit_event(f, "inject", false, detail.s, rc ? &e : NULL);
		fo_buf_release(&detail);
		if (rc)
			fo_err_set(&failed, rc, "inject %s failed: %s", f->what.s, e.msg);
		else
			done++;
		if (!rc && timed && fo_run_sleep(m->run, duration))
			aborted = true;
		heal_now(f, f->nheals > 0 || timed, &heal_err);
		if (heal_err.code)
			fo_err_set(&failed, heal_err.code, "%s", heal_err.msg);
		aborted = aborted || fo_run_aborted(m->run);
		if (it + 1 < iterations && !failed.code && !aborted) {
			int64_t due = f->start_ns + interval, after = fo_now_ns() + recovery;
			int64_t wait = (due > after ? due : after) - fo_now_ns();
			if (wait > 0 && fo_run_sleep(m->run, wait))
				aborted = true;
		}
	}
	if (failed.code)
		fo_emit(m, FO_OP_FAIL, failed.msg);
	else if (aborted)
		fo_emitf(m, FO_OP_FAIL, "aborted after %lld fault%s", (long long)done, done == 1 ? "" : "s");
	else
		fo_emitf(m, FO_OP_OK, "{\"fault\":\"%s\",\"faults\":%lld}", f->ops->verb, (long long)done);
	/* Something the fault changed may be left as it is: that fails the run. */
	if (heal_err.code)
		return fo_err_set(err, heal_err.code, "%s", heal_err.msg);
	return 0;
}

int fo_fault_teardown(struct fo_mctx *m, struct fo_err *err)
{
	struct fo_fault *f = m->state;
	if (!f)
		return 0;
	int rc = heal_now(f, true, err);
	fo_free(f->heals);
	fo_free(f->targets);
	fo_free(f->others);
	fo_buf_release(&f->nodes_json);
	fo_buf_release(&f->what);
	fo_free(f);
	m->state = NULL;
	return rc;
}

void fo_fault_validate(const struct fo_propset *ps, struct fo_diags *d)
{
	bool all;
	size_t listed = fo__module_validate_ordinals(ps, d, &all);
	const struct fo_propval *c = fo_props_get(ps, "target.count");
	if (c && c->set && !all && (size_t)c->i > listed)
		fo_diags_error(d, c->node ? &c->node->pos : &ps->pos,
			       "property 'target.count' of module '%s' is %lld but 'target.ordinals' lists %zu node%s",
			       ps->alias ? ps->alias : ps->comp->name, (long long)c->i, listed, listed == 1 ? "" : "s");
}
