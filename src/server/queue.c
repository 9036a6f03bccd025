/*
 * queue.c: the run queue of `fallout serve` (queue.h): the fair pick (a pure function over
 * the queued runs and what is in use, so it is unit-tested on its own), the scheduler
 * thread that applies it to the store's queued runs (every second, on a kick, and when a
 * run ends), and the queue's API: abort, pause, status. Run processes, watching and
 * recovery live in runner.c; compressing and reaping old runs in housekeeping.c.
 *
 * Locking: q->lock guards the queue's state (the running runs, pause, the owners' last
 * starts). A scheduling pass holds it from reading the queued runs to recording what it
 * started, so an abort (which takes it too) never races a start.
 */
#include "util/common.h"

#include <jansson.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/queue.h"
#include "server/queue_internal.h"
#include "server/store.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

/* ---- the pure pick ---- */

static struct fo__qowner *owner_of(struct fo__qstate *st, const char *owner)
{
	for (size_t i = 0; i < st->nowners; i++)
		if (strcmp(st->owners[i].owner, owner) == 0)
			return &st->owners[i];
	return NULL;
}

/* The limit on provisioner p, or -1 when it has none. */
static int64_t limit_index(const struct fo__qstate *st, const char *p)
{
	for (size_t i = 0; i < st->nlimits; i++)
		if (strcmp(st->limits[i].provisioner, p) == 0)
			return (int64_t)i;
	return -1;
}

/* A candidate's place in the fair order: its owner's standing, then its age. */
struct order_key {
	int running;          /* the owner's runs running now */
	int64_t last_started; /* when the owner's last run started (0: never) */
	int64_t created_at;
	size_t i;             /* the candidate's index: the last tie-break */
};

static int cmp_key(const void *pa, const void *pb)
{
	const struct order_key *a = pa, *b = pb;
	if (a->running != b->running)
		return a->running < b->running ? -1 : 1;
	if (a->last_started != b->last_started)
		return a->last_started < b->last_started ? -1 : 1;
	if (a->created_at != b->created_at)
		return a->created_at < b->created_at ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Writes the undecided candidates in fair order into keys; returns how many. O(n log n):
 * a long queue (thousands of runs) is sorted, never scanned once per start. */
static size_t fair_order(struct fo__qstate *st, const struct fo__qcand *c, size_t n, const bool *decided,
			 struct order_key *keys)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (decided[i])
			continue;
		const struct fo__qowner *o = owner_of(st, c[i].owner);
		keys[m++] = (struct order_key){o ? o->running : 0, o ? o->last_started : 0, c[i].created_at, i};
	}
	qsort(keys, m, sizeof(*keys), cmp_key);
	return m;
}

void fo__queue_pick(const struct fo__qcand *c, size_t n, struct fo__qstate *st, struct fo__qdecision *out)
{
	bool *decided = fo_calloc(n ? n : 1, sizeof(bool));
	/* provisioners blocked by a run that waits (names borrowed from the candidates) */
	const char **blocked = fo_calloc(1, sizeof(char *));
	size_t nblocked = 0, capblocked = 1;
	int seq = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (struct fo__qdecision){.verdict = FO__Q_QUEUED};
	/* impossible runs fail whatever the order */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < c[i].nneeds; k++) {
			int64_t li = limit_index(st, c[i].needs[k].provisioner);
			if (li >= 0 && c[i].needs[k].nodes > st->limits[li].max_nodes) {
				out[i] = (struct fo__qdecision){.verdict = FO__Q_IMPOSSIBLE,
								.provisioner = c[i].needs[k].provisioner,
								.need = c[i].needs[k].nodes,
								.limit = st->limits[li].max_nodes};
				decided[i] = true;
				break;
			}
		}
	}
	struct order_key *keys = fo_calloc(n ? n : 1, sizeof(*keys));
	for (;;) {
		/* nothing can start: every run stays queued, in place */
		if (st->paused || (st->max_running > 0 && st->running >= st->max_running))
			break;
		/* walk the undecided in fair order until one starts; then order them again, since
		 * its owner's standing changed */
		bool started = false;
		size_t m = fair_order(st, c, n, decided, keys);
		for (size_t j = 0; j < m && !started; j++) {
			size_t best = keys[j].i;
			const struct fo__qcand *r = &c[best];
			bool fits = true, is_blocked = false;
			for (size_t k = 0; k < r->nneeds; k++) {
				for (size_t b = 0; b < nblocked; b++)
					if (strcmp(blocked[b], r->needs[k].provisioner) == 0)
						is_blocked = true;
				int64_t li = limit_index(st, r->needs[k].provisioner);
				if (li >= 0 && st->in_use[li] + r->needs[k].nodes > st->limits[li].max_nodes)
					fits = false;
			}
			if (is_blocked || !fits) {
				out[best].verdict = FO__Q_WAIT;
				decided[best] = true;
				for (size_t k = 0; k < r->nneeds; k++) {
					FO_GROW(blocked, capblocked, nblocked + 1);
					blocked[nblocked++] = r->needs[k].provisioner;
				}
				continue;
			}
			out[best].verdict = FO__Q_START;
			out[best].start_seq = ++seq;
			decided[best] = true;
			for (size_t k = 0; k < r->nneeds; k++) {
				int64_t li = limit_index(st, r->needs[k].provisioner);
				if (li >= 0)
					st->in_use[li] += r->needs[k].nodes;
			}
			st->running++;
			struct fo__qowner *o = owner_of(st, r->owner);
			if (o) {
				o->running++;
				o->last_started = st->now;
			}
			started = true;
		}
		if (!started)
			break;
	}
	fo_free(keys);
	fo_free(blocked);
	fo_free(decided);
}

size_t fo__queue_parse_needs(struct fo_arena *a, const char *json, struct fo__qneed **out)
{
	*out = NULL;
	json_t *j = json ? json_loads(json, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	size_t n = 0;
	struct fo__qneed *needs = FO_ANEWN(a, struct fo__qneed, json_object_size(j) + 1);
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		if (json_is_integer(v) && json_integer_value(v) > 0)
			needs[n++] = (struct fo__qneed){fo_arena_strdup(a, key), json_integer_value(v)};
	}
	json_decref(j);
	*out = needs;
	return n;
}

/* ---- the queue ---- */

struct fo_queue *fo_queue_new(struct fo_server *srv)
{
	struct fo_queue *q = fo_calloc(1, sizeof(*q));
	q->srv = srv;
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->hk_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->wake, &ca);
	pthread_cond_init(&q->hk_wake, &ca);
	pthread_condattr_destroy(&ca);
	q->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return q;
}

/* owner's entry in q->seen, or NULL (q->lock held). */
static struct fo__qowner *seen_of(struct fo_queue *q, const char *owner)
{
	for (size_t i = 0; i < q->nseen; i++)
		if (strcmp(q->seen[i].owner, owner) == 0)
			return &q->seen[i];
	return NULL;
}

void fo__queue_note_start(struct fo_queue *q, const char *owner, int64_t at)
{
	struct fo__qowner *o = seen_of(q, owner);
	if (o) {
		if (at > o->last_started)
			o->last_started = at;
		return;
	}
	FO_GROW(q->seen, q->capseen, q->nseen + 1);
	q->seen[q->nseen++] = (struct fo__qowner){.owner = fo_strdup(owner), .last_started = at};
}

static int64_t last_start_of(struct fo_queue *q, const char *owner)
{
	const struct fo__qowner *o = seen_of(q, owner);
	return o ? o->last_started : 0;
}

int fo__queue_fail_rec(struct fo_queue *q, struct fo_arena *a, struct fo_run_rec *rec, const char *state,
		       const char *failed_during, const char *failure)
{
	rec->state = fo_arena_strdup(a, state);
	rec->failed_during = failed_during ? fo_arena_strdup(a, failed_during) : NULL;
	rec->failure = failure ? fo_arena_strdup(a, failure) : NULL;
	if (fo__state_final(state)) {
		rec->finished_at = fo_now_ms();
		rec->pid = 0;
		if (!rec->results)
			rec->results = "{\"checkers\": [], \"notes\": []}";
		if (!rec->artifacts)
			rec->artifacts = "{}";
	}
	return fo_store_run_update(q->srv->store, rec);
}

const char *const fo__queued_states[] = {"CREATED", "WAITING_FOR_RESOURCES", NULL};

bool fo__state_queued(const char *state)
{
	for (size_t i = 0; fo__queued_states[i]; i++)
		if (state && strcmp(state, fo__queued_states[i]) == 0)
			return true;
	return false;
}

/* One scheduling pass (q->lock held). */
static void schedule(struct fo_queue *q)
{
	const struct fo_server_config *cfg = q->srv->cfg;
	struct fo_arena *a = fo_arena_new();
	struct fo_run_filter f = {.states = fo__queued_states, .oldest_first = true};
	struct fo_run_rec *recs = NULL;
	size_t n = 0;
	if (fo_store_run_list(q->srv->store, a, &f, &recs, &n) != 0 || n == 0) {
		fo_arena_free(a);
		return;
	}
	/* a run we watch is not queued, even if the store missed recording its start */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		bool ours = false;
		for (size_t k = 0; k < q->nruns && !ours; k++)
			ours = strcmp(q->runs[k]->run_id, recs[i].run_id) == 0;
		if (!ours)
			recs[kept++] = recs[i];
	}
	n = kept;
	struct fo__qcand *c = FO_ANEWN(a, struct fo__qcand, n + 1);
	struct fo__qdecision *d = FO_ANEWN(a, struct fo__qdecision, n + 1);
	struct fo__qowner *owners = FO_ANEWN(a, struct fo__qowner, n + q->nruns);
	size_t nowners = 0;
	struct fo__qstate st = {.limits = cfg->limits, .nlimits = cfg->nlimits,
				.in_use = FO_ANEWN(a, int64_t, cfg->nlimits + 1), .max_running = cfg->max_running,
				.running = (int64_t)q->nruns, .paused = q->paused, .owners = owners,
				.now = fo_now_ms()};
	/* owners of queued and running runs, with their standing */
	for (size_t i = 0; i < n + q->nruns; i++) {
		const char *o = i < n ? recs[i].owner : q->runs[i - n]->owner;
		size_t k = 0;
		while (k < nowners && strcmp(owners[k].owner, o) != 0)
			k++;
		if (k == nowners)
			owners[nowners++] = (struct fo__qowner){.owner = o, .last_started = last_start_of(q, o)};
		if (i >= n)
			owners[k].running++;
	}
	st.nowners = nowners;
	for (size_t i = 0; i < q->nruns; i++) {
		for (size_t k = 0; k < q->runs[i]->nneeds; k++) {
			int64_t li = limit_index(&st, q->runs[i]->needs[k].provisioner);
			if (li >= 0)
				st.in_use[li] += q->runs[i]->needs[k].nodes;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct fo__qneed *needs;
		size_t nn = fo__queue_parse_needs(a, recs[i].resources, &needs);
		c[i] = (struct fo__qcand){.owner = recs[i].owner, .created_at = recs[i].created_at, .needs = needs,
					  .nneeds = nn};
	}
	fo__queue_pick(c, n, &st, d);
	for (size_t i = 0; i < n; i++) {
		struct fo_run_rec *r = &recs[i];
		if (d[i].verdict == FO__Q_IMPOSSIBLE) {
			char *why = fo_arena_printf(a,
						    "needs %lld '%s' nodes; the server allows %lld at once "
						    "(queue.nodes.%s)",
						    (long long)d[i].need, d[i].provisioner, (long long)d[i].limit,
						    d[i].provisioner);
			fprintf(stderr, "fallout serve: run %s fails: %s\n", r->run_id, why);
			fo__queue_fail_rec(q, a, r, "FAILED", "CHECKING_RESOURCES", why);
		} else if (d[i].verdict == FO__Q_WAIT && strcmp(r->state, "WAITING_FOR_RESOURCES") != 0) {
			r->state = "WAITING_FOR_RESOURCES";
			fo_store_run_update(q->srv->store, r);
		}
	}
	/* start in the pick's order, so the owners' last starts follow it */
	for (int seq = 1;; seq++) {
		size_t i = 0;
		while (i < n && !(d[i].verdict == FO__Q_START && d[i].start_seq == seq))
			i++;
		if (i == n)
			break;
		struct fo_err err = {0};
		if (fo__queue_spawn(q, &recs[i], &err) != 0) {
			fprintf(stderr, "fallout serve: cannot start run %s: %s\n", recs[i].run_id, err.msg);
			fo__queue_fail_rec(q, a, &recs[i], "FAILED", "PREPARING_RUN", err.msg);
		}
	}
	fo_arena_free(a);
}

static void *scheduler(void *arg)
{
	struct fo_queue *q = arg;
	pthread_mutex_lock(&q->lock);
	while (!q->stopping) {
		q->kicked = false;
		schedule(q);
		if (q->kicked || q->stopping)
			continue;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&q->wake, &q->lock, &ts);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* Seeds the owners' last starts from the newest runs in the store, so fairness survives a
 * restart of the server. */
static void seed_last_starts(struct fo_queue *q)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_run_filter f = {.limit = 1000};
	struct fo_run_rec *recs = NULL;
	size_t n = 0;
	if (fo_store_run_list(q->srv->store, a, &f, &recs, &n) == 0) {
		pthread_mutex_lock(&q->lock);
		for (size_t i = 0; i < n; i++)
			if (recs[i].started_at > 0)
				fo__queue_note_start(q, recs[i].owner, recs[i].started_at);
		pthread_mutex_unlock(&q->lock);
	}
	fo_arena_free(a);
}

int fo_queue_start(struct fo_queue *q, struct fo_err *err)
{
	/* the ledgers of the runs live in <data>/state (fo_server_start made it, and the spool
	 * folder): cleanup of dead runs must look there */
	setenv("FALLOUT_STATE_DIR", q->srv->state_dir, 1);
	fo__queue_recover(q);
	seed_last_starts(q);
	if (pthread_create(&q->sched, NULL, scheduler, q) != 0)
		return fo_err_set(err, FO_EIO, "cannot start the scheduler: %s", strerror(errno));
	q->have_sched = true;
	if (pthread_create(&q->watcher, NULL, fo__queue_watcher, q) != 0)
		return fo_err_set(err, FO_EIO, "cannot start the run watcher: %s", strerror(errno));
	q->have_watcher = true;
	if (pthread_create(&q->hk, NULL, fo__queue_housekeeper, q) != 0)
		return fo_err_set(err, FO_EIO, "cannot start housekeeping: %s", strerror(errno));
	q->have_hk = true;
	return 0;
}

void fo_queue_free(struct fo_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->wake);
	pthread_cond_broadcast(&q->hk_wake);
	pthread_mutex_unlock(&q->lock);
	fo__queue_wake_watcher(q);
	if (q->have_sched)
		pthread_join(q->sched, NULL);
	if (q->have_watcher)
		pthread_join(q->watcher, NULL);
	if (q->have_hk)
		pthread_join(q->hk, NULL);
	/* the run processes go on: a later server re-adopts them */
	for (size_t i = 0; i < q->nruns; i++)
		fo__qrun_free(q->runs[i]);
	fo_free(q->runs);
	for (size_t i = 0; i < q->nseen; i++)
		fo_free((char *)q->seen[i].owner);
	fo_free(q->seen);
	if (q->evfd >= 0)
		close(q->evfd);
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->hk_wake);
	pthread_mutex_destroy(&q->hk_lock);
	pthread_mutex_destroy(&q->lock);
	fo_free(q);
}

void fo_queue_kick(struct fo_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->kicked = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

static struct fo__qrun *find_run(struct fo_queue *q, const char *run_id)
{
	for (size_t i = 0; i < q->nruns; i++)
		if (strcmp(q->runs[i]->run_id, run_id) == 0)
			return q->runs[i];
	return NULL;
}

int fo_queue_abort(struct fo_queue *q, const char *run_id, const char *reason)
{
	if (!reason || !*reason)
		reason = "aborted";
	pthread_mutex_lock(&q->lock);
	int rc = 0;
	struct fo__qrun *r = find_run(q, run_id);
	struct fo_arena *a = fo_arena_new();
	struct fo_run_rec rec;
	if (r) {
		if (!r->abort_reason)
			r->abort_reason = fo_strdup(reason);
		if (r->pid > 0 && fo_proc_start_time(r->pid) == r->pid_start)
			kill(r->pid, SIGTERM);
	} else if (fo_store_run_get(q->srv->store, a, run_id, &rec) != 0) {
		rc = FO_ENOTFOUND;
	} else if (fo__state_final(rec.state)) {
		rc = FO_EEXISTS;
	} else if (fo__state_queued(rec.state)) {
		fo__queue_fail_rec(q, a, &rec, "ABORTED", rec.state, reason);
	} else if (rec.pid > 0 && (uint64_t)rec.pid_start == fo_proc_start_time((pid_t)rec.pid)) {
		/* running but not watched by us (should not happen): signal it anyway */
		kill((pid_t)rec.pid, SIGTERM);
	}
	fo_arena_free(a);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

bool fo_queue_active(struct fo_queue *q, const char *run_id)
{
	pthread_mutex_lock(&q->lock);
	bool active = find_run(q, run_id) != NULL;
	pthread_mutex_unlock(&q->lock);
	if (active)
		return true;
	struct fo_arena *a = fo_arena_new();
	struct fo_run_rec rec;
	if (fo_store_run_get(q->srv->store, a, run_id, &rec) == 0)
		active = fo__state_queued(rec.state);
	fo_arena_free(a);
	return active;
}

void fo_queue_pause(struct fo_queue *q, bool paused)
{
	pthread_mutex_lock(&q->lock);
	if (q->paused != paused)
		fprintf(stderr, "fallout serve: the queue is %s\n", paused ? "paused" : "resumed");
	q->paused = paused;
	q->kicked = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

void fo_queue_status_json(struct fo_queue *q, struct fo_buf *out)
{
	const struct fo_server_config *cfg = q->srv->cfg;
	struct fo_run_filter f = {.states = fo__queued_states};
	size_t queued = fo_store_run_count(q->srv->store, &f);
	pthread_mutex_lock(&q->lock);
	json_t *j = json_object();
	json_object_set_new(j, "paused", json_boolean(q->paused));
	json_object_set_new(j, "running", json_integer((json_int_t)q->nruns));
	json_object_set_new(j, "queued", json_integer((json_int_t)queued));
	json_t *limits = json_object(), *nodes = json_object(), *in_use = json_object();
	json_object_set_new(limits, "maxRunning", cfg->max_running > 0 ? json_integer(cfg->max_running) : json_null());
	for (size_t i = 0; i < cfg->nlimits; i++) {
		json_object_set_new(nodes, cfg->limits[i].provisioner, json_integer(cfg->limits[i].max_nodes));
		json_object_set_new(in_use, cfg->limits[i].provisioner, json_integer(0));
	}
	json_object_set_new(limits, "nodes", nodes);
	for (size_t i = 0; i < q->nruns; i++) {
		for (size_t k = 0; k < q->runs[i]->nneeds; k++) {
			const struct fo__qneed *nd = &q->runs[i]->needs[k];
			json_t *cur = json_object_get(in_use, nd->provisioner);
			json_object_set_new(in_use, nd->provisioner,
					    json_integer((cur ? json_integer_value(cur) : 0) + nd->nodes));
		}
	}
	json_object_set_new(j, "limits", limits);
	json_object_set_new(j, "inUse", in_use);
	pthread_mutex_unlock(&q->lock);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	fo_buf_adds(out, s ? s : "{}");
	free(s);
	json_decref(j);
}

int fo_queue_running(struct fo_queue *q)
{
	pthread_mutex_lock(&q->lock);
	int n = (int)q->nruns;
	pthread_mutex_unlock(&q->lock);
	return n;
}
