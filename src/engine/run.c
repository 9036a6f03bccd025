/*
 * run.c: a run's life (run.h). fo_run_execute takes it through the states of
 * FALLOUT-FORMAT.md section 4: prepare the folder, logs, history and ledger; find out what
 * state each node group is really in; bring the groups up to their launch runlevel; run
 * the workload; collect artifacts; tear down; run the checkers and artifact checkers; and
 * decide PASSED, FAILED or ABORTED. Teardown always runs, abort or not.
 *
 * Abort: fo_run_request_abort is safe in a signal handler; it sets a flag and writes a
 * byte to a pipe. A watcher thread reads the pipe, kills every running command (until
 * teardown starts: a second Ctrl-C cannot skip teardown) and wakes sleeping modules.
 */
#include "util/common.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/internal.h"
#include "engine/ledger.h"
#include "metrics/sampler.h"
#include "spec/files.h"
#include "spec/refs.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

static const char *const state_names[] = {
#define XX(name) #name,
	FO_RUN_STATE_MAP(XX)
#undef XX
};
_Static_assert(FO_ARRAY_LEN(state_names) == FO__RUN_STATE_COUNT, "one name per run state");

const char *fo_run_state_name(enum fo_run_state s)
{
	return (unsigned)s < FO__RUN_STATE_COUNT ? state_names[s] : "";
}

/* ---- accessors ---- */

struct fo_log *fo_run_log(struct fo_run *r) { return r->log; }
struct fo_history *fo_run_history(struct fo_run *r) { return r->hist; }
const char *fo_run_dir(const struct fo_run *r) { return r->dir; }
const char *fo_run_id(const struct fo_run *r) { return r->id; }
struct fo_ledger *fo_run_ledger(struct fo_run *r) { return r->ledger; }
size_t fo_run_ngroups(const struct fo_run *r) { return r->ngroups; }
struct fo_rgroup *fo_run_group_at(struct fo_run *r, size_t i) { return i < r->ngroups ? &r->groups[i] : NULL; }
enum fo_run_state fo_run_state(const struct fo_run *r) { return r->state; }
enum fo_run_state fo_run_failed_during(const struct fo_run *r) { return r->failed_during; }
const char *fo_run_failure(const struct fo_run *r) { return r->failure; }
int64_t fo_run_started_at(const struct fo_run *r) { return r->started_at; }
int64_t fo_run_finished_at(const struct fo_run *r) { return r->finished_at; }

size_t fo_rgroup_index(const struct fo_rgroup *g)
{
	return (size_t)(g - g->run->groups);
}

enum fo_runlevel fo_rgroup_state(const struct fo_rgroup *g)
{
	return __atomic_load_n(&g->state, __ATOMIC_RELAXED);
}

struct fo_rgroup *fo_run_group(struct fo_run *r, const char *name_or_role)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcasecmp(r->groups[i].spec->name, name_or_role) == 0)
			return &r->groups[i];
	enum fo_role role;
	if (fo_role_parse(name_or_role, &role) == 0)
		for (size_t i = 0; i < r->ngroups; i++)
			if (r->groups[i].spec->roles & (1u << role))
				return &r->groups[i];
	return NULL;
}

const char *fo_run_work_dir(struct fo_run *r)
{
	return r->work_dir;
}

size_t fo_run_verdicts(const struct fo_run *r, const struct fo_verdict **out)
{
	*out = r->verdicts;
	return r->nverdicts;
}

void fo_run_describe_activity(const struct fo_run *r, char *out, size_t n)
{
	pthread_mutex_lock((pthread_mutex_t *)&r->lock);
	snprintf(out, n, "%s", r->activity);
	pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
}

void fo__run_set_activity(struct fo_run *r, const char *what)
{
	pthread_mutex_lock(&r->lock);
	snprintf(r->activity, sizeof(r->activity), "%s", what);
	pthread_mutex_unlock(&r->lock);
	fo__run_event(r, "activity");
}

void fo__run_event(struct fo_run *r, const char *event)
{
	if (r->progress)
		r->progress(r->progress_ctx, r, event);
}

/* ---- failures and state ---- */

void fo_run_fail(struct fo_run *r, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	bool first = false;
	pthread_mutex_lock(&r->lock);
	if (!r->failure) {
		r->failure = fo_buf_detach(&b, NULL);
		r->failed_during = r->state;
		first = true;
	}
	pthread_mutex_unlock(&r->lock);
	if (first)
		fo_error(r->log, "run failed during %s: %s", fo_run_state_name(r->failed_during), r->failure);
	fo_buf_release(&b);
}

void fo_run_note(struct fo_run *r, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->lock);
	FO_GROW(r->notes, r->notes_cap, r->nnotes + 1);
	r->notes[r->nnotes++] = fo_strdup(b.s);
	pthread_mutex_unlock(&r->lock);
	fo_warn(r->log, "%s", b.s);
	fo_buf_release(&b);
}

size_t fo_run_notes(const struct fo_run *r, const char *const **out)
{
	*out = (const char *const *)r->notes;
	return r->nnotes;
}

static void set_state(struct fo_run *r, enum fo_run_state s)
{
	pthread_mutex_lock(&r->lock);
	enum fo_run_state old = r->state;
	r->state = s;
	pthread_mutex_unlock(&r->lock);
	if (r->log)
		fo_info(r->log, "run %s -> %s", fo_run_state_name(old), fo_run_state_name(s));
	fo__write_testrun(r);
	fo__run_event(r, "state");
}

/* ---- abort ---- */

bool fo_run_aborted(const struct fo_run *r)
{
	return atomic_load(&r->aborting);
}

void fo_run_request_abort(struct fo_run *r)
{
	atomic_store(&r->aborting, true);
	char c = 'a';
	ssize_t w = write(r->abort_pipe[1], &c, 1);
	FO_UNUSED(w);
}

static void *watcher(void *arg)
{
	struct fo_run *r = arg;
	for (;;) {
		char c;
		ssize_t n = read(r->abort_pipe[0], &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == 'q')
			break;
		if (!atomic_load(&r->tearing_down)) {
			fo_run_fail(r, "aborted");
			fo_warn(r->log, "abort requested: stopping running commands; teardown will still run");
			fo_proc_kill_all();
		} else {
			fo_warn(r->log, "abort requested again: teardown is running and will finish");
		}
		pthread_mutex_lock(&r->sleep_lock);
		pthread_cond_broadcast(&r->sleep_cond);
		pthread_mutex_unlock(&r->sleep_lock);
	}
	return NULL;
}

int fo_run_sleep(struct fo_run *r, int64_t ns)
{
	int64_t deadline = fo_now_ns() + ns;
	pthread_mutex_lock(&r->sleep_lock);
	while (!fo_run_aborted(r)) {
		int64_t left = deadline - fo_now_ns();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t t = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + left;
		ts.tv_sec = t / 1000000000LL;
		ts.tv_nsec = t % 1000000000LL;
		pthread_cond_timedwait(&r->sleep_cond, &r->sleep_lock, &ts);
	}
	pthread_mutex_unlock(&r->sleep_lock);
	return fo_run_aborted(r) ? 1 : 0;
}

/* ---- nodes ---- */

static const struct fo_provisioner_ops *node_ops(const struct fo_node *n)
{
	const struct fo_component *c = n->group->spec->provisioner.comp;
	return c ? c->provisioner : NULL;
}

int fo_node_exec(struct fo_node *node, const struct fo_cmd *cmd, struct fo_cmd_result *res, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->exec)
		return fo_err_set(err, FO_EUNSUPPORTED, "the nodes of group '%s' cannot run commands",
				  node->group->spec->name);
	/* Secrets the run has used never reach the node's log, even through a command's output. */
	char **secrets;
	if (!cmd || cmd->redact || fo_log_secrets(node->group->run->log, &secrets) == 0)
		return ops->exec(node, cmd, res, err);
	struct fo_cmd c = *cmd;
	c.redact = (const char *const *)secrets;
	int rc = ops->exec(node, &c, res, err);
	for (char **p = secrets; *p; p++)
		fo_free(*p);
	fo_free(secrets);
	return rc;
}

int fo_node_start_service(struct fo_node *node, const char *name, const struct fo_cmd *cmd, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->start_service)
		return fo_err_set(err, FO_EUNSUPPORTED, "the nodes of group '%s' cannot run services",
				  node->group->spec->name);
	return ops->start_service(node, name, cmd, err);
}

int fo_node_stop_service(struct fo_node *node, const char *name, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->stop_service)
		return fo_err_set(err, FO_EUNSUPPORTED, "the nodes of group '%s' cannot run services",
				  node->group->spec->name);
	return ops->stop_service(node, name, err);
}

/* The error of a fault hook the node's provisioner lacks. */
static int no_hook(const struct fo_node *node, const char *what, struct fo_err *err)
{
	const struct fo_component *c = node->group->spec->provisioner.comp;
	return fo_err_set(err, FO_EUNSUPPORTED, "provisioner '%s' of group '%s' cannot %s", c ? c->name : "?",
			  node->group->spec->name, what);
}

int fo_node_services(struct fo_node *node, void (*fn)(void *ctx, const char *name, pid_t pgid), void *ctx,
		     struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->services)
		return no_hook(node, "list its services by name", err);
	return ops->services(node, fn, ctx);
}

int fo_node_kill_service(struct fo_node *node, const char *name, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->kill_service)
		return no_hook(node, "kill a service as a fault", err);
	return ops->kill_service(node, name, err);
}

int fo_node_restart_service(struct fo_node *node, const char *name, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->restart_service)
		return no_hook(node, "restart a service", err);
	return ops->restart_service(node, name, err);
}

int fo_node_network(struct fo_node *node, struct fo_buf *netns, struct fo_buf *dev, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->network)
		return no_hook(node, "give a node a network of its own", err);
	return ops->network(node, netns, dev, err);
}

int fo_node_collect(struct fo_node *node, const char *path, const char *dest, struct fo_err *err)
{
	const struct fo_provisioner_ops *ops = node_ops(node);
	if (!ops || !ops->collect)
		return fo_err_set(err, FO_EUNSUPPORTED, "files cannot be collected from the nodes of group '%s'",
				  node->group->spec->name);
	struct fo_buf to = FO_BUF_INIT;
	fo_buf_addf(&to, "%s/%s", node->artifacts, dest);
	int rc = ops->collect(node, path, to.s, err);
	fo_buf_release(&to);
	return rc;
}

/* ---- published facts ---- */

struct fo_fact {
	struct fo_fact *next;
	char *provider, *key, *value;
};

static pthread_mutex_t facts_lock = PTHREAD_MUTEX_INITIALIZER;

void fo_node_publish(struct fo_node *node, const char *provider, const char *key, const char *value)
{
	pthread_mutex_lock(&facts_lock);
	struct fo_fact *f;
	for (f = node->facts; f; f = f->next)
		if (strcmp(f->provider, provider) == 0 && strcmp(f->key, key) == 0)
			break;
	if (!f) {
		f = fo_calloc(1, sizeof(*f));
		f->provider = fo_strdup(provider);
		f->key = fo_strdup(key);
		f->next = node->facts;
		node->facts = f;
	} else {
		/* Earlier values stay allocated until the run ends: readers may hold them. */
		struct fo_fact *old = fo_calloc(1, sizeof(*old));
		old->provider = fo_strdup("");
		old->key = fo_strdup("");
		old->value = f->value;
		old->next = f->next;
		f->next = old;
	}
	f->value = fo_strdup(value);
	pthread_mutex_unlock(&facts_lock);
	fo_info(node->log, "published %s:%s = %s", provider, key, value);
}

const char *fo_node_fact(struct fo_node *node, const char *provider, const char *key)
{
	const char *v = NULL;
	pthread_mutex_lock(&facts_lock);
	for (struct fo_fact *f = node->facts; f && !v; f = f->next)
		if (strcmp(f->provider, provider) == 0 && strcmp(f->key, key) == 0)
			v = f->value;
	pthread_mutex_unlock(&facts_lock);
	return v;
}

/* Frees a node's facts (at the end of the run). */
static void free_facts(struct fo_node *node)
{
	for (struct fo_fact *f = node->facts, *next; f; f = next) {
		next = f->next;
		fo_free(f->provider);
		fo_free(f->key);
		fo_free(f->value);
		fo_free(f);
	}
	node->facts = NULL;
}

/* ---- references ---- */

struct expand_ctx {
	struct fo_run *run;
	struct fo_node *node;
};

/* True when path names an entry of a `files` property of one of the group's
 * configuration managers (remote_files), which are written into each node's folder. */
static bool on_node(const struct fo_node *n, const char *path)
{
	const struct fo_group *g = n->group->spec;
	for (size_t c = 0; c < g->ncms; c++)
		for (size_t k = 0; k < g->cms[c].n; k++) {
			const struct fo_propval *pv = &g->cms[c].v[k];
			if (pv->prop->type == FO_PT_FILES && fo_files_find(pv->files, pv->nfiles, path) >= 0)
				return true;
		}
	return false;
}

static int resolve(void *ctx, const struct fo_ref *ref, struct fo_buf *out, struct fo_err *err)
{
	struct expand_ctx *x = ctx;
	struct fo_run *r = x->run;
	switch (ref->type) {
	case FO_REF_FILE:
		if (x->node && x->node->dir && on_node(x->node, ref->key))
			return fo_buf_addf(out, "%s/%s", x->node->dir, ref->key);
		if (fo_files_find(r->def->files, r->def->nfiles, ref->key) >= 0)
			return fo_buf_addf(out, "%s/managed_files/%s", r->dir, ref->key);
		return fo_err_set(err, FO_ENOTFOUND, "<<file:%s>> is not defined in a local_files section", ref->key);
	case FO_REF_SECRET: {
		struct fo_buf name = FO_BUF_INIT;
		fo_buf_addf(&name, "FALLOUT_SECRET_%s", ref->key);
		for (char *c = name.s; *c; c++)
			if (*c == '.' || *c == '-')
				*c = '_';
		const char *v = getenv(name.s);
		int rc = 0;
		if (!v)
			rc = fo_err_set(err, FO_ENOTFOUND, "secret '%s' is not set (give it in the environment as %s)",
					ref->key, name.s);
		else {
			fo_log_redact(r->log, v);
			rc = fo_buf_adds(out, v);
		}
		fo_buf_release(&name);
		return rc;
	}
	case FO_REF_PROVIDER: {
		struct fo_rgroup *g = fo_run_group(r, ref->group);
		if (!g || ref->ordinal < 0 || (size_t)ref->ordinal >= g->n)
			return fo_err_set(err, FO_ENOTFOUND, "<<provider:%s:%d:...>> names no node", ref->group,
					  ref->ordinal);
		struct fo_node *n = &g->nodes[ref->ordinal];
		const char *fact = fo_node_fact(n, ref->provider, ref->key);
		if (fact)
			return fo_buf_adds(out, fact);
		if (strcmp(ref->provider, "node") == 0 || strcasecmp(ref->provider, g->spec->provisioner.comp->name) == 0) {
			if (strcmp(ref->key, "address") == 0)
				return fo_buf_adds(out, n->address);
			if (strcmp(ref->key, "name") == 0)
				return fo_buf_adds(out, n->name);
			if (strcmp(ref->key, "ordinal") == 0)
				return fo_buf_addf(out, "%d", n->ordinal);
			if (strcmp(ref->key, "dir") == 0 && n->dir)
				return fo_buf_adds(out, n->dir);
		}
		return fo_err_set(err, FO_ENOTFOUND,
				  "nothing provides '%s:%s' on %s/%s (node facts: node:address, node:name, "
				  "node:ordinal, node:dir; components publish others as they start)",
				  ref->provider, ref->key, g->spec->name, n->name);
	}
	}
	return FO_EINVAL;
}

int fo_run_expand(struct fo_run *r, struct fo_node *node, const char *s, struct fo_buf *out, struct fo_err *err)
{
	struct expand_ctx x = {.run = r, .node = node};
	return fo_refs_expand(s, strlen(s), resolve, &x, out, err);
}

/* ---- the run ---- */

/* A random version-4 UUID. */
void fo_run_new_id(char out[37])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		uint64_t x = (uint64_t)fo_wall_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(b); i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
			b[i] = (unsigned char)(x >> 56);
	}
	if (fd >= 0)
		close(fd);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

struct fo_run *fo_run_new(const struct fo_def *def, const struct fo_run_opts *opts, struct fo_err *err)
{
	struct fo_run *r = fo_calloc(1, sizeof(*r));
	r->def = def;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->sleep_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->sleep_cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&r->aborting, false);
	atomic_init(&r->tearing_down, false);
	r->abort_pipe[0] = r->abort_pipe[1] = -1;
	r->state = FO_RUN_CREATED;
	r->failed_during = FO__RUN_STATE_COUNT;
	r->created_at = fo_wall_ns();
	char uuid[37];
	if (opts->run_id) {
		snprintf(uuid, sizeof(uuid), "%s", opts->run_id);
	} else {
		fo_run_new_id(uuid);
	}
	r->id = fo_strdup(uuid);
	r->test_name = fo_strdup(opts->test_name ? opts->test_name : "test");
	const char *owner = opts->owner;
	struct passwd *pw = owner ? NULL : getpwuid(getuid());
	r->owner = fo_strdup(owner ? owner : pw ? pw->pw_name : "unknown");
	r->definition_file = opts->definition_file ? fo_strdup(opts->definition_file) : NULL;
	r->progress = opts->progress;
	r->progress_ctx = opts->progress_ctx;
	if (pipe2(r->abort_pipe, O_CLOEXEC) != 0) {
		fo_err_set(err, FO_EIO, "cannot create a pipe: %s", strerror(errno));
		fo_run_free(r);
		return NULL;
	}
	/* The run folder: created, and refused when it holds anything. */
	if (fo_mkdirs(opts->out_dir, err)) {
		fo_run_free(r);
		return NULL;
	}
	char *real = realpath(opts->out_dir, NULL);
	r->dir = fo_strdup(real ? real : opts->out_dir);
	free(real);
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s/work/%s", fo_state_dir(), r->id);
	r->work_dir = fo_buf_detach(&b, NULL);
	struct fo_buf pj = FO_BUF_INIT;
	fo_yaml_emit_json(def->params, &pj);
	r->params_json = fo_buf_detach(&pj, NULL);
	return r;
}

void fo_run_free(struct fo_run *r)
{
	if (!r)
		return;
	/* The ledger first: providers release their per-group state when it closes. */
	if (r->ledger)
		fo_ledger_close(r->ledger, true);
	for (size_t i = 0; i < r->ngroups; i++) {
		for (size_t k = 0; r->groups[i].nodes && k < r->groups[i].n; k++)
			free_facts(&r->groups[i].nodes[k]);
		fo__rgroup_release(&r->groups[i]);
	}
	fo_free(r->groups);
	fo_history_close(r->hist);
	fo_log_close(r->log);
	for (size_t i = 0; i < r->nverdicts; i++)
		fo_free((char *)r->verdicts[i].message);
	fo_free(r->verdicts);
	for (size_t i = 0; i < r->nnotes; i++)
		fo_free(r->notes[i]);
	fo_free(r->notes);
	if (r->abort_pipe[0] >= 0)
		close(r->abort_pipe[0]);
	if (r->abort_pipe[1] >= 0)
		close(r->abort_pipe[1]);
	pthread_cond_destroy(&r->sleep_cond);
	pthread_mutex_destroy(&r->sleep_lock);
	pthread_mutex_destroy(&r->lock);
	fo_free(r->dir);
	fo_free(r->id);
	fo_free(r->test_name);
	fo_free(r->owner);
	fo_free(r->work_dir);
	fo_free(r->definition_file);
	fo_free(r->failure);
	fo_free(r->params_json);
	fo_free(r);
}

/* PREPARING_RUN: folders, logs, history, ledger, files, groups. */
static int prepare(struct fo_run *r)
{
	struct fo_err err = {0};
	struct fo_buf b = FO_BUF_INIT;
	int rc = 0;
	r->log = fo_log_open_run(r->dir, &err);
	if (!r->log)
		goto fail;
	fo_info(r->log, "run %s of test '%s' by %s, in %s", r->id, r->test_name, r->owner, r->dir);
	fo_buf_addf(&b, "%s/controller", r->dir);
	if ((rc = fo_mkdirs(b.s, &err)))
		goto fail;
	fo_buf_adds(&b, "/jepsen-history.json");
	r->hist = fo_history_open(b.s, &err);
	if (!r->hist)
		goto fail;
	fo_buf_clear(&b);
	fo_buf_addf(&b, "%s/ledger", r->work_dir);
	if ((rc = fo_mkdirs(r->work_dir, &err)))
		goto fail;
	r->ledger = fo_ledger_open(b.s, r->id, &err);
	if (!r->ledger)
		goto fail;
	fo_ledger_dir(r->ledger, r->work_dir);
	if (r->def->nfiles) {
		fo_buf_clear(&b);
		fo_buf_addf(&b, "%s/managed_files", r->dir);
		if ((rc = fo_mkdirs(b.s, &err)) || (rc = fo_files_materialize(r->def->files, r->def->nfiles, b.s, &err)))
			goto fail;
		fo_info(r->log, "local_files: %zu file%s in managed_files/", r->def->nfiles, r->def->nfiles == 1 ? "" : "s");
	}
	r->groups = fo_calloc(r->def->ngroups, sizeof(*r->groups));
	for (size_t i = 0; i < r->def->ngroups; i++) {
		r->ngroups = i + 1;
		if ((rc = fo__rgroup_init(r, &r->groups[i], &r->def->groups[i], &err)))
			goto fail;
	}
	fo_buf_release(&b);
	return 0;
fail:
	fo_buf_release(&b);
	fo_run_fail(r, "%s", err.code ? err.msg : "cannot prepare the run");
	return err.code ? err.code : FO_EIO;
}

/* Brings every group up to min(its launch runlevel, level). */
static int raise_all(struct fo_run *r, enum fo_runlevel level)
{
	for (size_t i = 0; i < r->ngroups && !fo_run_aborted(r); i++) {
		struct fo_rgroup *g = &r->groups[i];
		enum fo_runlevel target = g->spec->launch < level ? g->spec->launch : level;
		struct fo_err err = {0};
		if (fo__rgroup_raise(g, target, &err))
			return FO_EIO; /* recorded by the group */
	}
	return 0;
}

static void add_verdict(struct fo_run *r, const char *alias, const struct fo_component *c, bool artifact, bool passed,
			const char *msg)
{
	pthread_mutex_lock(&r->lock);
	FO_GROW(r->verdicts, r->verdicts_cap, r->nverdicts + 1);
	r->verdicts[r->nverdicts++] = (struct fo_verdict){
		.alias = alias, .checker = c ? c->name : "no_error", .artifact = artifact, .passed = passed,
		.message = fo_strdup(msg ? msg : ""),
	};
	pthread_mutex_unlock(&r->lock);
	fo_log(r->log, passed ? FO_INFO : FO_ERROR, "%s '%s' (%s): %s%s%s", artifact ? "artifact checker" : "checker",
	       alias, c ? c->name : "no_error", passed ? "PASSED" : "FAILED", msg && *msg ? ": " : "", msg ? msg : "");
}

/* Writes a checker's log: controller/checkers/checker-<alias>.log. */
static void checker_log(struct fo_run *r, bool artifact, const char *alias, bool passed, const char *msg)
{
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_addf(&p, "%s/controller/%s", r->dir, artifact ? "artifact_checkers" : "checkers");
	struct fo_err err = {0};
	fo_mkdirs(p.s, &err);
	fo_buf_addf(&p, "/%s-%s.log", artifact ? "artifact_checker" : "checker", alias);
	FILE *f = fopen(p.s, "w");
	if (f) {
		fprintf(f, "%s\n%s\n", passed ? "PASSED" : "FAILED", msg ? msg : "");
		fclose(f);
	}
	fo_buf_release(&p);
}

/* The implicit fallout-no_error checker: any `error` operation fails the run. */
static void check_no_error(struct fo_run *r)
{
	size_t n;
	const struct fo_op *ops = fo_history_ops(r->hist, &n);
	struct fo_buf msg = FO_BUF_INIT;
	size_t errors = 0;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type != FO_OP_ERROR)
			continue;
		if (errors++ < 10)
			fo_buf_addf(&msg, "%s%s (%s): %s", errors > 1 ? "; " : "", ops[i].process, ops[i].module,
				    ops[i].value ? ops[i].value : "error");
	}
	if (errors > 10)
		fo_buf_addf(&msg, "; and %zu more", errors - 10);
	bool passed = errors == 0;
	if (passed)
		fo_buf_adds(&msg, "no error operations");
	add_verdict(r, "fallout-no_error", NULL, false, passed, msg.s);
	checker_log(r, false, "fallout-no_error", passed, msg.s);
	fo_buf_release(&msg);
}

static void run_checks(struct fo_run *r, bool artifact)
{
	size_t n = artifact ? r->def->nartifact_checks : r->def->nchecks;
	const struct fo_check *checks = artifact ? r->def->artifact_checkers : r->def->checkers;
	for (size_t i = 0; i < n; i++) {
		const struct fo_check *ch = &checks[i];
		const struct fo_component *c = ch->props.comp;
		bool passed = false;
		struct fo_buf msg = FO_BUF_INIT;
		struct fo_err err = {0};
		int rc;
		if (artifact && c->artifact_checker && c->artifact_checker->check)
			rc = c->artifact_checker->check(&ch->props, r, &passed, &msg, &err);
		else if (!artifact && c->checker && c->checker->check)
			rc = c->checker->check(&ch->props, r->hist, &passed, &msg, &err);
		else
			rc = fo_err_set(&err, FO_EUNSUPPORTED, "%s '%s' cannot run in this version%s%s",
					fo_kind_title(c->kind), c->name, c->available ? ": " : "",
					c->available ? c->available : "");
		if (rc) {
			passed = false;
			fo_buf_clear(&msg);
			fo_buf_addf(&msg, "error: %s", err.code ? err.msg : fo_strerror(rc));
		}
		add_verdict(r, ch->alias, c, artifact, passed, msg.s);
		checker_log(r, artifact, ch->alias, passed, msg.s);
		fo_buf_release(&msg);
	}
}

static void teardown(struct fo_run *r)
{
	atomic_store(&r->tearing_down, true);
	fo_proc_allow();
	/* Collect artifacts while services are still configured. */
	for (size_t i = 0; i < r->ngroups; i++) {
		struct fo_rgroup *g = &r->groups[i];
		if (g->state >= FO_RL_STARTED_SERVICES_UNCONFIGURED && fo_runlevel_is_stable(g->state)) {
			struct fo_err err = {0};
			fo__rgroup_collect(g, &err);
		}
	}
	for (size_t i = r->ngroups; i-- > 0;) {
		struct fo_rgroup *g = &r->groups[i];
		if (g->spec->mark_for_reuse && g->state != FO_RL_FAILED && fo_runlevel_is_stable(g->state)) {
			struct fo_err err = {0};
			if (fo_cluster_save_state(fo_cluster_name(g->spec), g->state, &err) == 0) {
				fo_info(g->log, "left at %s for reuse as cluster '%s' (mark_for_reuse)",
					fo_runlevel_name(g->state), fo_cluster_name(g->spec));
				continue;
			}
			fo_warn(g->log, "cannot keep the group for reuse (%s); tearing it down", err.msg);
		}
		struct fo_err err = {0};
		enum fo_runlevel target = g->spec->final;
		if (g->state == FO_RL_UNKNOWN)
			continue; /* never set up */
		if (fo__rgroup_teardown(g, target, &err))
			fo_run_fail(r, "node group '%s': teardown to %s failed: %s", g->spec->name,
				    fo_runlevel_name(target), err.msg);
	}
}

enum fo_run_state fo_run_execute(struct fo_run *r)
{
	r->started_at = fo_wall_ns();
	set_state(r, FO_RUN_PREPARING_RUN);
	if (pthread_create(&r->watcher, NULL, watcher, r) == 0)
		r->watcher_started = true;
	bool ok = prepare(r) == 0;
	if (ok) {
		fo__write_ensemble_summary(r);
		set_state(r, FO_RUN_CHECKING_RESOURCES);
		for (size_t i = 0; i < r->ngroups && ok; i++) {
			struct fo_err err = {0};
			if (fo__rgroup_check_state(&r->groups[i], &err)) {
				fo_run_fail(r, "node group '%s': state check failed: %s", r->groups[i].spec->name, err.msg);
				ok = false;
			}
		}
	}
	if (ok && !fo_run_aborted(r)) {
		set_state(r, FO_RUN_RESERVING_RESOURCES);
		ok = raise_all(r, FO_RL_RESERVED) == 0;
	}
	if (ok && !fo_run_aborted(r)) {
		set_state(r, FO_RUN_ACQUIRING_RESOURCES);
		ok = raise_all(r, FO_RL_CREATED) == 0;
	}
	if (ok && !fo_run_aborted(r)) {
		set_state(r, FO_RUN_SETTING_UP);
		ok = raise_all(r, FO_RL_STARTED_SERVICES_RUNNING) == 0;
		if (ok)
			fo__write_ensemble_summary(r);
	}
	bool ran = false;
	if (ok && !fo_run_aborted(r)) {
		/* Node metrics: the sampler takes its baseline now and its samples on the
		 * workload's clock, until teardown starts. */
		struct fo_err serr = {0};
		r->sampler = fo_sampler_start(r, &serr);
		if (!r->sampler)
			fo_warn(r->log, "no node metrics for this run: %s", serr.msg);
		set_state(r, FO_RUN_RUNNING);
		fo_history_start_clock(r->hist);
		fo_sampler_set_zero(r->sampler, fo_now_ns());
		fo__run_phases(r);
		ran = true;
		fo__run_set_activity(r, "");
	}
	if (r->hist && (r->ngroups || r->failure)) {
		set_state(r, FO_RUN_TEARING_DOWN);
		fo_sampler_stop(r->sampler);
		r->sampler = NULL;
		teardown(r);
	}
	fo_sampler_stop(r->sampler); /* when there was no teardown */
	r->sampler = NULL;
	if (!r->failure || ran) {
		set_state(r, FO_RUN_CHECKING_ARTIFACTS);
		if (ran && !fo_run_aborted(r)) {
			check_no_error(r);
			run_checks(r, false);
			run_checks(r, true);
		}
	}
	/* The work area goes (kept clusters live elsewhere); then anything still recorded,
	 * which the provisioners should have removed, is undone and reported. */
	if (r->ledger) {
		struct fo_err err = {0};
		/* The work area holds the ledger itself: it is expected, and removed last. */
		fo_ledger_gone_dir(r->ledger, r->work_dir);
		int undone = fo_ledger_undo_all(r->ledger, &err);
		if (undone > 0)
			fo_warn(r->log, "cleaned up %d leftover%s after teardown", undone, undone == 1 ? "" : "s");
	}
	bool all_passed = true;
	for (size_t i = 0; i < r->nverdicts; i++)
		if (!r->verdicts[i].passed) {
			all_passed = false;
			fo_run_fail(r, "%s '%s' failed: %s", r->verdicts[i].artifact ? "artifact checker" : "checker",
				    r->verdicts[i].alias, r->verdicts[i].message);
		}
	r->finished_at = fo_wall_ns();
	enum fo_run_state final;
	if (fo_run_aborted(r))
		final = FO_RUN_ABORTED;
	else if (r->failure || !all_passed || !ran)
		final = FO_RUN_FAILED;
	else
		final = FO_RUN_PASSED;
	if (final == FO_RUN_ABORTED && !r->failure)
		fo_run_fail(r, "aborted");
	set_state(r, final);
	if (r->watcher_started) {
		char q = 'q';
		ssize_t w = write(r->abort_pipe[1], &q, 1);
		FO_UNUSED(w);
		pthread_join(r->watcher, NULL);
		r->watcher_started = false;
	}
	if (r->ledger) {
		fo_ledger_close(r->ledger, true);
		r->ledger = NULL;
		struct fo_buf failed = FO_BUF_INIT;
		if (fo_remove_tree(r->work_dir, true, &failed) != 0)
			fo_warn(r->log, "cannot remove the work area: '%s'", failed.s);
		fo_buf_release(&failed);
	}
	return final;
}
