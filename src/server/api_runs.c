/*
 * api_runs.c: the REST handlers for runs (FALLOUT-FORMAT.md 6): queueing a run of a test
 * with template parameters (checked by loading the definition with them first, so a bad
 * parameter is a 400 now rather than a failed run later), listing runs (fast even with
 * tens of thousands: built straight into a buffer and cached per query until the store
 * changes), reading one, its definition as runnable YAML, aborting, running again, keeping
 * for ever and deleting. Everyone signed in may read any run; only the owner of its test or
 * an administrator may change it.
 */
#include "util/common.h"

#include <pthread.h>

#include <jansson.h>

#include "engine/run.h"
#include "server/api.h"
#include "server/api_int.h"
#include "server/queue.h"
#include "server/server.h"
#include "spec/definition.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strutil.h"

/* ---- small helpers ---- */

static int send_run(struct fo_req *rq, int status, const struct fo_run_rec *r)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_api_run_json(rq, &b, r, true);
	fo_resp_json_buf(rq, status, &b);
	return 0;
}

/* Refuses a change by someone who is neither the owner nor an admin: 403 and true. */
static bool refuse_change(struct fo_req *rq, const struct fo_run_rec *r, const char *what)
{
	if (fo_api_may_change(rq, r->owner))
		return false;
	fo_resp_error(rq, 403, "only the owner or an administrator may %s run '%s' of test '%s' of %s", what, r->run_id,
		      r->test_name, r->owner);
	return true;
}

/* A JSON value as a YAML node (for the loader's parameters). */
static struct fo_ynode *json_to_ynode(struct fo_arena *a, json_t *j, unsigned depth)
{
	struct fo_pos pos = {.file = "(parameters)"};
	if (depth > 64)
		return fo_yaml_scalar(a, "null", &pos);
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		struct fo_ynode *m = fo_yaml_new(a, FO_YMAP, &pos);
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			struct fo_ynode *k = fo_yaml_scalar(a, "", &pos);
			k->str = fo_arena_strdup(a, key);
			k->len = strlen(key);
			k->stype = FO_YS_STR;
			k->quoted = true;
			fo_ymap_add(a, m, k, json_to_ynode(a, v, depth + 1));
		}
		return m;
	}
	case JSON_ARRAY: {
		struct fo_ynode *s = fo_yaml_new(a, FO_YSEQ, &pos);
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) fo_yseq_add(a, s, json_to_ynode(a, v, depth + 1));
		return s;
	}
	case JSON_STRING: {
		struct fo_ynode *n = fo_yaml_scalar(a, "", &pos);
		n->str = fo_arena_strndup(a, json_string_value(j), json_string_length(j));
		n->len = json_string_length(j);
		n->stype = FO_YS_STR;
		n->quoted = true;
		return n;
	}
	case JSON_INTEGER:
		return fo_yaml_scalar(a, fo_arena_printf(a, "%lld", (long long)json_integer_value(j)), &pos);
	case JSON_REAL:
		return fo_yaml_scalar(a, fo_arena_printf(a, "%.17g", json_real_value(j)), &pos);
	case JSON_TRUE:
		return fo_yaml_scalar(a, "true", &pos);
	case JSON_FALSE:
		return fo_yaml_scalar(a, "false", &pos);
	case JSON_NULL:
		break;
	}
	return fo_yaml_scalar(a, "null", &pos);
}

/*
 * Reads the start body: empty, {"jsonTemplateParams": {...}} or {"yamlTemplateParams":
 * "a: 1\n"}. Returns the parameters as a new JSON object, or sets a 400 and returns NULL.
 */
static json_t *read_params(struct fo_req *rq)
{
	const char *p = rq->body.s;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!*p)
		return json_object();
	json_error_t je;
	json_t *body = json_loadb(rq->body.s, rq->body.len, 0, &je);
	if (!body || !json_is_object(body)) {
		json_decref(body);
		fo_resp_error(rq, 400,
			      "the body must be a JSON object {\"jsonTemplateParams\": {...}} or "
			      "{\"yamlTemplateParams\": \"...\"}%s%s",
			      body ? "" : ": ", body ? "" : je.text);
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "jsonTemplateParams") != 0 && strcmp(key, "yamlTemplateParams") != 0) {
			char *k = fo_arena_strdup(rq->a, key);
			json_decref(body);
			fo_resp_error(rq, 400, "unknown key '%s' (give the parameters as jsonTemplateParams or "
					       "yamlTemplateParams)", k);
			return NULL;
		}
	}
	json_t *out = json_object();
	json_t *yp = json_object_get(body, "yamlTemplateParams");
	if (yp && !json_is_null(yp)) {
		if (!json_is_string(yp)) {
			json_decref(body);
			json_decref(out);
			fo_resp_error(rq, 400, "yamlTemplateParams must be a string of YAML (a map of name: value)");
			return NULL;
		}
		struct fo_diags d = FO_DIAGS_INIT;
		struct fo_yaml_opts yo = {.file = "yamlTemplateParams"};
		struct fo_ynode *n = NULL;
		int rc = fo_yaml_load(rq->a, json_string_value(yp), json_string_length(yp), &yo, &n, &d);
		if (rc || (!fo_ynode_is_null(n) && n->kind != FO_YMAP)) {
			if (!rc)
				fo_diags_error(&d, &n->pos, "template parameters must be a map of name: value, not %s",
					       fo_ynode_describe(n));
			json_decref(body);
			json_decref(out);
			fo_api_diags_response(rq, "yamlTemplateParams is not a YAML map", &d);
			fo_diags_release(&d);
			return NULL;
		}
		fo_diags_release(&d);
		if (n->kind == FO_YMAP) {
			struct fo_buf b = FO_BUF_INIT;
			json_t *m = fo_yaml_emit_json(n, &b) == 0 ? json_loadb(b.s, b.len, 0, NULL) : NULL;
			fo_buf_release(&b);
			if (json_is_object(m))
				json_object_update(out, m);
			json_decref(m);
		}
	}
	json_t *jp = json_object_get(body, "jsonTemplateParams");
	if (jp && !json_is_null(jp)) {
		if (!json_is_object(jp)) {
			json_decref(body);
			json_decref(out);
			fo_resp_error(rq, 400, "jsonTemplateParams must be a JSON object of name: value");
			return NULL;
		}
		json_object_update(out, jp);
	}
	json_decref(body);
	return out;
}

/* Appends {provisioner: nodes} over def's groups. The implicit observer and controller
 * groups fallout makes up (folders where checkers run, no system and no load) are not
 * counted: a limit of one local node must still admit a one-node test. */
static void resources_json(const struct fo_def *def, struct fo_buf *b)
{
	const char *names[64];
	int64_t nodes[64];
	size_t n = 0;
	for (size_t i = 0; i < def->ngroups; i++) {
		const struct fo_group *g = &def->groups[i];
		unsigned working = (1u << FO_ROLE_SERVER) | (1u << FO_ROLE_CLIENT);
		if (g->implicit && !(g->roles & working))
			continue;
		const char *p = g->provisioner.comp && g->provisioner.comp->name ? g->provisioner.comp->name : "local";
		size_t k = 0;
		while (k < n && strcmp(names[k], p) != 0)
			k++;
		if (k == n) {
			if (n == FO_ARRAY_LEN(names))
				continue;
			names[n] = p;
			nodes[n++] = 0;
		}
		nodes[k] += g->node_count;
	}
	fo_buf_addch(b, '{');
	for (size_t k = 0; k < n; k++) {
		if (k)
			fo_buf_adds(b, ", ");
		fo_buf_add_json_str(b, names[k], strlen(names[k]));
		fo_buf_addf(b, ": %lld", (long long)nodes[k]);
	}
	fo_buf_addch(b, '}');
}

/*
 * Queues a run of owner's test name: loads definition with params (a JSON object,
 * borrowed) to check them, records the run and wakes the queue. Sets the response: 201 with
 * Location and the run, or 400 with every error.
 */
static int queue_run(struct fo_req *rq, const char *owner, const char *name, const char *definition, json_t *params,
		     int64_t test_version)
{
	struct fo_ynode *pn = json_to_ynode(rq->a, params, 0);
	struct fo_def_opts o;
	fo__api_def_opts(rq, &o, pn);
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def *def = NULL;
	const char *file = fo_arena_printf(rq->a, "%s.yaml", name);
	int rc = fo_def_load_text(file, definition, strlen(definition), &o, &def, &d);
	if (rc || d.errors) {
		if (!d.errors)
			fo_diags_error(&d, NULL, "cannot load the definition: %s", fo_strerror(rc));
		fo_diags_sort(&d);
		fo_api_diags_response(rq, fo_arena_printf(rq->a, "cannot run test '%s' with these parameters", name), &d);
		fo_diags_release(&d);
		fo_def_free(def);
		return 0;
	}
	fo_diags_release(&d);
	struct fo_buf res = FO_BUF_INIT;
	resources_json(def, &res);
	fo_def_free(def);
	char *ptext = json_dumps(params, JSON_COMPACT);

	char id[37];
	fo_run_new_id(id);
	struct fo_run_rec r = {
		.run_id = fo_arena_strdup(rq->a, id),
		.owner = owner,
		.test_name = name,
		.created_at = fo_now_ms(),
		.state = "CREATED",
		.definition = definition,
		.params = fo_arena_strdup(rq->a, ptext ? ptext : "{}"),
		.resources = fo_arena_strdup(rq->a, res.s),
		.test_version = test_version,
	};
	free(ptext);
	fo_buf_release(&res);
	struct fo_err err = {0};
	rc = fo_store_run_insert(rq->srv->store, &r, &err);
	if (rc) {
		fo_resp_error(rq, 500, "cannot queue a run of test '%s': %s", name, err.code ? err.msg : fo_strerror(rc));
		return 0;
	}
	fo_store_test_touch_run(rq->srv->store, owner, name, r.created_at);
	if (rq->srv->queue)
		fo_queue_kick(rq->srv->queue);
	struct fo_run_rec now;
	if (fo_store_run_get(rq->srv->store, rq->a, r.run_id, &now) == 0)
		r = now;
	send_run(rq, 201, &r);
	fo__api_location(rq, "/tests/%s/%s/runs/%s/api", owner, name, r.run_id);
	return 0;
}

/* ---- handlers ---- */

int fo_api_run_start(struct fo_req *rq)
{
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	if (!fo_api_may_change(rq, t.owner)) {
		fo_resp_error(rq, 403, "only the owner or an administrator may run test '%s' of %s", t.name, t.owner);
		return 0;
	}
	json_t *params = read_params(rq);
	if (!params)
		return 0;
	queue_run(rq, t.owner, t.name, t.definition ? t.definition : "", params, t.version);
	json_decref(params);
	return 0;
}

int fo_api_run_rerun(struct fo_req *rq)
{
	struct fo_run_rec r;
	if (fo_api_load_run(rq, &r))
		return 0;
	if (refuse_change(rq, &r, "rerun"))
		return 0;
	bool clone = false;
	if (rq->body.len) {
		const char *p = rq->body.s;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p) {
			json_error_t je;
			json_t *j = json_loadb(rq->body.s, rq->body.len, 0, &je);
			json_t *c = json_is_object(j) ? json_object_get(j, "clone") : NULL;
			if (!json_is_object(j) || (c && !json_is_boolean(c) && !json_is_null(c))) {
				json_decref(j);
				fo_resp_error(rq, 400, "the body must be a JSON object {\"clone\": true or false}");
				return 0;
			}
			clone = json_is_true(c);
			json_decref(j);
		}
	}
	json_t *params = r.params ? json_loads(r.params, 0, NULL) : NULL;
	if (!json_is_object(params)) {
		json_decref(params);
		params = json_object();
	}
	if (clone) {
		queue_run(rq, r.owner, r.test_name, r.definition ? r.definition : "", params, r.test_version);
	} else {
		struct fo_test_rec t;
		int rc = fo_store_test_get(rq->srv->store, rq->a, r.owner, r.test_name, false, &t);
		if (rc)
			fo_resp_error(rq, rc == FO_ENOTFOUND ? 404 : 500,
				      "no test '%s' of %s (rerun with {\"clone\": true} to use the run's own definition)",
				      r.test_name, r.owner);
		else
			queue_run(rq, t.owner, t.name, t.definition ? t.definition : "", params, t.version);
	}
	json_decref(params);
	return 0;
}

/* ---- listings, cached until the store changes ---- */

#define CACHE_SLOTS 32
#define CACHE_MAX_BODY (32u << 20)   /* a larger response is not kept */
#define CACHE_BUDGET (128u << 20)    /* all the responses kept */

struct cache_entry {
	const struct fo_store *store; /* whose generation gen is */
	uint64_t gen;
	char *key;                    /* owned: path and the query arguments that matter */
	char *body;                   /* owned */
	size_t len;
	size_t total;                 /* X-Total-Count */
	uint64_t used;                /* LRU clock */
};

static struct cache_entry cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cache_clock;

/* Sends the cached response for key when it is current. Returns true when sent. */
static bool cache_send(struct fo_req *rq, const char *key, uint64_t gen)
{
	bool hit = false;
	size_t total = 0;
	pthread_mutex_lock(&cache_mu);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &cache[i];
		if (e->key && e->store == rq->srv->store && e->gen == gen && strcmp(e->key, key) == 0) {
			e->used = ++cache_clock;
			fo_resp_json(rq, 200, e->body);
			total = e->total;
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&cache_mu);
	if (hit)
		fo_resp_header(rq, "X-Total-Count", fo_arena_printf(rq->a, "%zu", total));
	return hit;
}

/* Keeps a response for key, built at generation gen (replacing the least recently used). */
static void cache_put(struct fo_req *rq, const char *key, uint64_t gen, const struct fo_buf *body, size_t total)
{
	if (body->len > CACHE_MAX_BODY)
		return;
	pthread_mutex_lock(&cache_mu);
	struct cache_entry *slot = NULL;
	for (size_t i = 0; i < CACHE_SLOTS && !slot; i++)
		if (cache[i].key && cache[i].store == rq->srv->store && strcmp(cache[i].key, key) == 0)
			slot = &cache[i];
	for (size_t i = 0; i < CACHE_SLOTS && !slot; i++)
		if (!cache[i].key)
			slot = &cache[i];
	if (!slot) {
		slot = &cache[0];
		for (size_t i = 1; i < CACHE_SLOTS; i++)
			if (cache[i].used < slot->used)
				slot = &cache[i];
	}
	fo_free(slot->key);
	fo_free(slot->body);
	slot->key = slot->body = NULL;
	slot->len = 0;
	/* Keep within the budget: drop the least recently used others. */
	for (;;) {
		size_t held = 0;
		struct cache_entry *lru = NULL;
		for (size_t i = 0; i < CACHE_SLOTS; i++) {
			if (!cache[i].key)
				continue;
			held += cache[i].len;
			if (!lru || cache[i].used < lru->used)
				lru = &cache[i];
		}
		if (!lru || held + body->len <= CACHE_BUDGET)
			break;
		fo_free(lru->key);
		fo_free(lru->body);
		lru->key = lru->body = NULL;
		lru->len = 0;
	}
	slot->store = rq->srv->store;
	slot->gen = gen;
	slot->key = fo_strdup(key);
	slot->body = fo_strndup(body->s, body->len);
	slot->len = body->len;
	slot->total = total;
	slot->used = ++cache_clock;
	pthread_mutex_unlock(&cache_mu);
}

/* Splits "A,B" into a NULL-terminated list (arena-owned), or NULL for none. */
static const char *const *split_states(struct fo_arena *a, const char *s)
{
	if (!s || !*s)
		return NULL;
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	const char **v = FO_ANEWN(a, const char *, n + 1);
	size_t k = 0;
	const char *p = s;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len) {
			char *x = fo_arena_strndup(a, p, len);
			for (char *q = x; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					*q = (char)(*q - 'a' + 'A');
			v[k++] = x;
		}
		if (!e)
			break;
		p = e + 1;
	}
	v[k] = NULL;
	return k ? v : NULL;
}

/* Reads ?limit= and ?offset= into f. Returns 0, or sets a 400 and returns -1. */
static int read_paging(struct fo_req *rq, struct fo_run_filter *f)
{
	const char *names[] = {"limit", "offset"};
	size_t *dst[] = {&f->limit, &f->offset};
	for (size_t i = 0; i < 2; i++) {
		const char *v = fo_req_query(rq, names[i]);
		int64_t x = 0;
		if (!v || !*v)
			continue;
		if (!fo_parse_i64(v, &x) || x < 0) {
			fo_resp_error(rq, 400, "'%s' is not a valid %s (a number, 0 or more)", v, names[i]);
			return -1;
		}
		*dst[i] = (size_t)x;
	}
	return 0;
}

/* Sends the runs matching f as a JSON array, with X-Total-Count; cached by key. */
static int list_runs(struct fo_req *rq, const struct fo_run_filter *f, const char *key)
{
	struct fo_store *st = rq->srv->store;
	uint64_t gen = fo_store_generation(st);
	if (cache_send(rq, key, gen))
		return 0;
	struct fo_run_rec *v = NULL;
	size_t n = 0;
	struct fo_arena *a = fo_arena_new();
	int rc = fo_store_run_list(st, a, f, &v, &n);
	if (rc) {
		fo_arena_free(a);
		fo_resp_error(rq, 500, "cannot list runs: %s", fo_strerror(rc));
		return 0;
	}
	size_t total = fo_store_run_count(st, f);
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			fo_buf_adds(&b, ",\n");
		fo_api_run_json(rq, &b, &v[i], false);
	}
	fo_buf_addch(&b, ']');
	fo_arena_free(a);
	cache_put(rq, key, gen, &b, total);
	fo_resp_json_buf(rq, 200, &b);
	fo_resp_header(rq, "X-Total-Count", fo_arena_printf(rq->a, "%zu", total));
	return 0;
}

/* The cache key of a listing: the path and every query argument a listing reads. */
static const char *list_key(struct fo_req *rq, const struct fo_run_filter *f)
{
	const char *q[] = {"owner", "test", "state"};
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, rq->path ? rq->path : "");
	for (size_t i = 0; i < FO_ARRAY_LEN(q); i++) {
		const char *v = fo_req_query(rq, q[i]);
		fo_buf_addf(&b, "\n%s=%s", q[i], v ? v : "");
	}
	fo_buf_addf(&b, "\nlimit=%zu\noffset=%zu", f->limit, f->offset);
	const char *key = fo_arena_strndup(rq->a, b.s, b.len);
	fo_buf_release(&b);
	return key;
}

int fo_api_run_list_test(struct fo_req *rq)
{
	struct fo_run_filter f = {
		.owner = fo_api_owner(rq),
		.test_name = fo_req_param(rq, "name"),
		.states = split_states(rq->a, fo_req_query(rq, "state")),
	};
	if (read_paging(rq, &f))
		return 0;
	return list_runs(rq, &f, list_key(rq, &f));
}

int fo_api_run_list_all(struct fo_req *rq)
{
	const char *owner = fo_req_query(rq, "owner"), *test = fo_req_query(rq, "test");
	struct fo_run_filter f = {
		.owner = owner && *owner ? owner : NULL,
		.test_name = test && *test ? test : NULL,
		.states = split_states(rq->a, fo_req_query(rq, "state")),
	};
	if (read_paging(rq, &f))
		return 0;
	return list_runs(rq, &f, list_key(rq, &f));
}

/* ---- one run ---- */

int fo_api_run_get(struct fo_req *rq)
{
	struct fo_run_rec r;
	if (fo_api_load_run(rq, &r))
		return 0;
	return send_run(rq, 200, &r);
}

int fo_api_run_definition(struct fo_req *rq)
{
	struct fo_run_rec r;
	if (fo_api_load_run(rq, &r))
		return 0;
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, fo_api_run_definition_text(rq->a, &r));
	fo__api_redact(rq, r.owner, &b, 0, false);
	fo_resp_text(rq, 200, FO_API_YAML_TYPE, b.s, b.len);
	fo_buf_release(&b);
	return 0;
}

int fo_api_run_abort(struct fo_req *rq)
{
	struct fo_run_rec r;
	if (fo_api_load_run(rq, &r))
		return 0;
	if (refuse_change(rq, &r, "abort"))
		return 0;
	const char *who = rq->user && rq->user->email ? rq->user->email : "unknown";
	int rc = rq->srv->queue ? fo_queue_abort(rq->srv->queue, r.run_id, fo_arena_printf(rq->a, "aborted by %s", who))
				: FO_EEXISTS;
	if (rc == FO_EEXISTS) {
		fo_resp_text(rq, 304, "application/json", "", 0);
		return 0;
	}
	if (rc == FO_ENOTFOUND) {
		fo_resp_error(rq, 404, "no run '%s' of test '%s' of %s", r.run_id, r.test_name, r.owner);
		return 0;
	}
	if (rc) {
		fo_resp_error(rq, 500, "cannot abort run '%s': %s", r.run_id, fo_strerror(rc));
		return 0;
	}
	struct fo_run_rec now;
	if (fo_store_run_get(rq->srv->store, rq->a, r.run_id, &now) == 0)
		r = now;
	return send_run(rq, 200, &r);
}

int fo_api_run_keep(struct fo_req *rq)
{
	struct fo_run_rec r;
	if (fo_api_load_run(rq, &r))
		return 0;
	if (refuse_change(rq, &r, "keep"))
		return 0;
	const char *arg = fo_req_query(rq, "keepForever");
	bool keep = true;
	if (arg && *arg) {
		if (strcasecmp(arg, "false") == 0 || strcmp(arg, "0") == 0) {
			keep = false;
		} else if (strcasecmp(arg, "true") != 0 && strcmp(arg, "1") != 0) {
			fo_resp_error(rq, 400, "keepForever must be true or false, not '%s'", arg);
			return 0;
		}
	}
	int rc = fo_store_run_set_keep(rq->srv->store, r.run_id, keep);
	if (rc) {
		fo_resp_error(rq, rc == FO_ENOTFOUND ? 404 : 500, "cannot keep run '%s': %s", r.run_id, fo_strerror(rc));
		return 0;
	}
	struct fo_run_rec now;
	if (fo_store_run_get(rq->srv->store, rq->a, r.run_id, &now) == 0)
		r = now;
	else
		r.keep_forever = keep;
	return send_run(rq, 200, &r);
}

int fo_api_run_delete(struct fo_req *rq)
{
	struct fo_run_rec r;
	if (fo_api_load_run(rq, &r))
		return 0;
	if (refuse_change(rq, &r, "delete"))
		return 0;
	if (rq->srv->queue && fo_queue_active(rq->srv->queue, r.run_id)) {
		fo_resp_error(rq, 409, "run '%s' of test '%s' is queued or running: abort it first", r.run_id, r.test_name);
		return 0;
	}
	/* fo_server_run_dir refuses names that could climb out of the runs folder. */
	const char *dir = fo_server_run_dir(rq->srv, rq->a, r.owner, r.test_name, r.run_id);
	if (dir) {
		struct fo_buf failed = FO_BUF_INIT;
		int e = fo_remove_tree(dir, true, &failed);
		if (e) {
			fo_resp_error(rq, 500, "cannot remove '%s': %s", failed.s, strerror(e));
			fo_buf_release(&failed);
			return 0;
		}
		fo_buf_release(&failed);
	}
	int rc = fo_store_run_delete(rq->srv->store, r.run_id);
	if (rc && rc != FO_ENOTFOUND) {
		fo_resp_error(rq, 500, "cannot delete run '%s': %s", r.run_id, fo_strerror(rc));
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	char *msg = fo_arena_printf(rq->a, "run '%s' of test '%s' of %s was deleted", r.run_id, r.test_name, r.owner);
	fo_buf_adds(&b, "{\"message\": ");
	fo_buf_add_json_str(&b, msg, strlen(msg));
	fo_buf_adds(&b, ", \"deleted\": true}");
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}
