/*
 * api_common.c: what the REST handlers share (api.h, api_int.h): who may change what, the
 * Test and TestRun JSON shapes Fallout's clients read (built straight into a buffer, since a
 * listing may hold thousands of runs), times as ISO-8601, a run's definition as shown back
 * to the user (its parameters, the old defaults commented out, then the definition: text
 * that can be run again, FALLOUT-FORMAT.md 1.1), loading the test or run a route names,
 * a definition's diagnostics as a 400 response, and keeping the run owner's secrets out of
 * what is shown of a run (a definition may hold a secret's value written out).
 */
#include "util/common.h"

#include <ctype.h>
#include <pthread.h>

#include <jansson.h>

#include "server/api.h"
#include "server/api_int.h"
#include "server/server.h"
#include "spec/definition.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/proc.h"
#include "util/strutil.h"

#define DEFAULT_MAX_DEFINITION (1u << 20)

/* ---- permissions and names ---- */

bool fo_api_may_change(const struct fo_req *rq, const char *owner)
{
	if (!rq || !rq->user)
		return false;
	if (rq->user->admin)
		return true;
	return owner && rq->user->email && strcasecmp(rq->user->email, owner) == 0;
}

const char *fo_api_owner(const struct fo_req *rq)
{
	const char *email = fo_req_param(rq, "email");
	if (email)
		return email;
	return rq->user ? rq->user->email : NULL;
}

bool fo__api_valid_name(const char *name)
{
	if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

size_t fo__api_max_definition(const struct fo_req *rq)
{
	if (rq->srv && rq->srv->cfg && rq->srv->cfg->max_definition)
		return rq->srv->cfg->max_definition;
	return DEFAULT_MAX_DEFINITION;
}

void fo__api_def_opts(const struct fo_req *rq, struct fo_def_opts *o, const struct fo_ynode *params)
{
	*o = (struct fo_def_opts){0};
	if (rq->srv && rq->srv->cfg)
		o->library = rq->srv->cfg->library;
	o->params = params;
	o->max_size = fo__api_max_definition(rq);
}

void fo__api_location(struct fo_req *rq, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, rq->srv && rq->srv->url ? rq->srv->url : "");
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	fo_resp_header(rq, "Location", b.s);
	fo_buf_release(&b);
}

/* ---- JSON pieces ---- */

void fo_api_add_time(struct fo_buf *b, int64_t ms)
{
	/* 0 is "never"; a time past what fo_format_time's nanoseconds hold is none either */
	if (ms == 0 || ms > INT64_MAX / 1000000 || ms < INT64_MIN / 1000000) {
		fo_buf_adds(b, "null");
		return;
	}
	char s[64];
	fo_format_time(ms * 1000000, s, sizeof(s));
	if (s[0] == '?') {
		fo_buf_adds(b, "null");
		return;
	}
	fo_buf_addf(b, "\"%s\"", s);
}

/* Appends s as a JSON string, or null. */
static void add_str(struct fo_buf *b, const char *s)
{
	if (s)
		fo_buf_add_json_str(b, s, strlen(s));
	else
		fo_buf_adds(b, "null");
}

/* Appends a stored JSON text as it is when it looks like a JSON object or array, else
 * fallback ("null", "{}"). */
static void add_raw(struct fo_buf *b, const char *json, const char *fallback)
{
	const char *p = json;
	while (p && isspace((unsigned char)*p))
		p++;
	if (p && (*p == '{' || *p == '['))
		fo_buf_adds(b, p);
	else
		fo_buf_adds(b, fallback);
}

void fo_api_test_json(struct fo_buf *b, const struct fo_test_rec *t, bool full)
{
	fo_buf_adds(b, "{\"owner\": ");
	add_str(b, t->owner);
	fo_buf_adds(b, ", \"name\": ");
	add_str(b, t->name);
	fo_buf_adds(b, ", \"testId\": ");
	add_str(b, t->test_id);
	fo_buf_adds(b, ", \"createdAt\": ");
	fo_api_add_time(b, t->created_at);
	fo_buf_adds(b, ", \"updatedAt\": ");
	fo_api_add_time(b, t->updated_at);
	fo_buf_adds(b, ", \"lastRunAt\": ");
	fo_api_add_time(b, t->last_run_at);
	if (full) {
		fo_buf_adds(b, ", \"definition\": ");
		add_str(b, t->definition);
	}
	fo_buf_adds(b, ", \"tags\": [");
	for (size_t i = 0; i < t->ntags; i++) {
		if (i)
			fo_buf_adds(b, ", ");
		add_str(b, t->tags[i]);
	}
	fo_buf_addf(b, "], \"sizeOnDiskBytes\": %lld, \"version\": %d, \"deleted\": %s}", (long long)t->size_on_disk,
		    t->version, t->deleted_at ? "true" : "false");
}

void fo_api_run_json(struct fo_req *rq, struct fo_buf *b, const struct fo_run_rec *r, bool full)
{
	const char *url = rq && rq->srv && rq->srv->url ? rq->srv->url : "";
	size_t start = b->len;
	const char *owner = r->owner ? r->owner : "", *test = r->test_name ? r->test_name : "",
		   *id = r->run_id ? r->run_id : "";
	fo_buf_adds(b, "{\"owner\": ");
	add_str(b, r->owner);
	fo_buf_adds(b, ", \"testName\": ");
	add_str(b, r->test_name);
	fo_buf_adds(b, ", \"testRunId\": ");
	add_str(b, r->run_id);
	fo_buf_adds(b, ", \"createdAt\": ");
	fo_api_add_time(b, r->created_at);
	fo_buf_adds(b, ", \"startedAt\": ");
	fo_api_add_time(b, r->started_at);
	fo_buf_adds(b, ", \"finishedAt\": ");
	fo_api_add_time(b, r->finished_at);
	fo_buf_adds(b, ", \"state\": ");
	add_str(b, r->state);
	fo_buf_adds(b, ", \"failedDuring\": ");
	add_str(b, r->failed_during);
	fo_buf_adds(b, ", \"failureReason\": ");
	add_str(b, r->failure);
	if (full) {
		struct fo_arena *a = fo_arena_new();
		fo_buf_adds(b, ", \"definition\": ");
		add_str(b, fo_api_run_definition_text(a, r));
		fo_arena_free(a);
	}
	fo_buf_adds(b, ", \"results\": ");
	add_raw(b, r->results, "null");
	if (full) {
		fo_buf_adds(b, ", \"artifacts\": ");
		add_raw(b, r->artifacts, "{}");
	}
	fo_buf_addf(b, ", \"artifactsSizeBytes\": %lld, \"templateParams\": ", (long long)r->artifacts_bytes);
	add_raw(b, r->params, "{}");
	fo_buf_addf(b, ", \"keepForever\": %s, \"resources\": ", r->keep_forever ? "true" : "false");
	add_raw(b, r->resources, "{}");
	fo_buf_addf(b, ", \"testVersion\": %lld, \"links\": {", (long long)r->test_version);
	/* Each link is URL PREFIX OWNER/TEST SEP ID SUFFIX. Test names and run ids need no
	 * escaping in JSON; emails might. */
	static const struct {
		const char *key, *prefix, *sep, *suffix;
	} links[] = {
		{"self", "/tests/", "/runs/", "/api"},
		{"definition", "/tests/", "/runs/", "/definition"},
		{"artifacts", "/tests/ui/", "/", "/artifacts/"},
		{"archive", "/tests/ui/", "/", "/artifactsArchive"},
		{"live", "/live/artifacts/", "/", "/"},
	};
	struct fo_buf t = FO_BUF_INIT;
	for (size_t i = 0; i < FO_ARRAY_LEN(links); i++) {
		fo_buf_clear(&t);
		fo_buf_addf(&t, "%s%s%s/%s%s%s%s", url, links[i].prefix, owner, test, links[i].sep, id, links[i].suffix);
		fo_buf_addf(b, "%s\"%s\": ", i ? ", " : "", links[i].key);
		add_str(b, t.s);
	}
	fo_buf_release(&t);
	fo_buf_adds(b, "}}");
	fo__api_redact(rq, r->owner, b, start, true);
}

/* ---- a run's definition as shown ---- */

/* True when s can be written as a plain YAML scalar and reads back as the same string. */
static bool plain_safe(struct fo_arena *a, const char *s, bool key)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_' || (!key && *s == '/')))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-' && (key || *p != '/'))
			return false;
	return fo_yaml_scalar(a, s, NULL)->stype == FO_YS_STR;
}

/* Appends a JSON value as YAML: a plain scalar when that reads back the same, else JSON
 * (flow style), which YAML reads as it is. */
static void add_yaml_value(struct fo_arena *a, struct fo_buf *b, json_t *v)
{
	if (json_is_string(v) && plain_safe(a, json_string_value(v), false)) {
		fo_buf_adds(b, json_string_value(v));
		return;
	}
	char *s = json_dumps(v, JSON_ENCODE_ANY);
	fo_buf_adds(b, s ? s : "null");
	free(s);
}

/* The defaults document's entries as a JSON object (new reference), or NULL. */
static json_t *defaults_json(const struct fo_def_doc *c)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_yaml_opts yo = {.file = "defaults"};
	struct fo_ynode *n = NULL;
	json_t *out = NULL;
	if (fo_yaml_load(a, c->text, c->len, &yo, &n, &d) == 0 && n->kind == FO_YMAP) {
		struct fo_buf j = FO_BUF_INIT;
		if (fo_yaml_emit_json(n, &j) == 0)
			out = json_loadb(j.s, j.len, 0, NULL);
		fo_buf_release(&j);
	}
	fo_diags_release(&d);
	fo_arena_free(a);
	if (out && !json_is_object(out)) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

const char *fo_api_run_definition_text(struct fo_arena *a, const struct fo_run_rec *r)
{
	const char *text = r->definition ? r->definition : "";
	struct fo_def_doc first, last;
	size_t ndocs = fo_def_split_documents(text, strlen(text), &first, &last);

	/* The merged parameters: the defaults, overridden by the run's own. */
	json_t *merged = ndocs > 1 ? defaults_json(&first) : NULL;
	if (!merged)
		merged = json_object();
	json_t *params = r->params ? json_loads(r->params, 0, NULL) : NULL;
	if (json_is_object(params))
		json_object_update(merged, params);
	json_decref(params);

	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "# PARAMETERS FOR TEST RUN %s, %s, %s:\n", r->owner ? r->owner : "",
		    r->test_name ? r->test_name : "", r->run_id ? r->run_id : "");
	const char *key;
	json_t *v;
	json_object_foreach(merged, key, v)
	{
		if (plain_safe(a, key, true))
			fo_buf_adds(&b, key);
		else
			fo_buf_add_json_str(&b, key, strlen(key));
		fo_buf_adds(&b, ": ");
		add_yaml_value(a, &b, v);
		fo_buf_addch(&b, '\n');
	}
	json_decref(merged);

	fo_buf_adds(&b, "# DEFAULT PARAMETERS:\n");
	if (ndocs > 1) {
		const char *p = first.text, *end = first.text + first.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			fo_buf_adds(&b, "# ");
			fo_buf_add(&b, p, (size_t)(le - p));
			fo_buf_addch(&b, '\n');
			p = nl ? nl + 1 : end;
		}
	}
	fo_buf_adds(&b, "---\n");
	fo_buf_add(&b, last.text, last.len);
	const char *out = fo_arena_strndup(a, b.s, b.len);
	fo_buf_release(&b);
	return out;
}

/* ---- loading what a route names ---- */

int fo_api_load_run(struct fo_req *rq, struct fo_run_rec *out)
{
	const char *id = fo_req_param(rq, "run");
	const char *email = fo_req_param(rq, "email");
	const char *name = fo_req_param(rq, "name");
	memset(out, 0, sizeof(*out));
	int rc = id ? fo_store_run_get(rq->srv->store, rq->a, id, out) : FO_ENOTFOUND;
	if (rc == 0 && email && (!out->owner || strcasecmp(out->owner, email) != 0))
		rc = FO_ENOTFOUND;
	if (rc == 0 && name && (!out->test_name || strcmp(out->test_name, name) != 0))
		rc = FO_ENOTFOUND;
	if (rc == 0)
		return 0;
	if (rc != FO_ENOTFOUND) {
		fo_resp_error(rq, 500, "cannot read run '%s': %s", id ? id : "", fo_strerror(rc));
		return -1;
	}
	if (name)
		fo_resp_error(rq, 404, "no run '%s' of test '%s' of %s", id ? id : "", name,
			      email ? email : (rq->user ? rq->user->email : ""));
	else
		fo_resp_error(rq, 404, "no run '%s'", id ? id : "");
	return -1;
}

int fo_api_load_test(struct fo_req *rq, struct fo_test_rec *out)
{
	const char *owner = fo_api_owner(rq);
	const char *name = fo_req_param(rq, "name");
	memset(out, 0, sizeof(*out));
	int rc = owner && name ? fo_store_test_get(rq->srv->store, rq->a, owner, name, false, out) : FO_ENOTFOUND;
	if (rc == 0)
		return 0;
	if (rc == FO_ENOTFOUND)
		fo_resp_error(rq, 404, "no test '%s' of %s", name ? name : "", owner ? owner : "");
	else
		fo_resp_error(rq, 500, "cannot read test '%s': %s", name ? name : "", fo_strerror(rc));
	return -1;
}

/* ---- diagnostics ---- */

void fo__api_add_diags(struct fo_buf *b, const struct fo_diags *d, bool all, int sev)
{
	fo_buf_addch(b, '[');
	size_t n = 0;
	for (size_t i = 0; d && i < d->n; i++) {
		const struct fo_diag *x = &d->v[i];
		if (!all && (int)x->sev != sev)
			continue;
		if (n++)
			fo_buf_adds(b, ", ");
		fo_buf_adds(b, "{\"file\": ");
		add_str(b, x->file);
		fo_buf_addf(b, ", \"line\": %d, \"col\": %d, \"message\": ", x->line, x->col);
		add_str(b, x->msg);
		fo_buf_addf(b, ", \"severity\": \"%s\"}", x->sev == FO_SEV_ERROR ? "error" : "warning");
	}
	fo_buf_addch(b, ']');
}

void fo_api_diags_response(struct fo_req *rq, const char *message, const struct fo_diags *d)
{
	struct fo_buf m = FO_BUF_INIT;
	fo_buf_adds(&m, message ? message : "invalid test definition");
	/* Name the first error in the message too, for clients that show only the message. */
	for (size_t i = 0; d && i < d->n; i++) {
		const struct fo_diag *x = &d->v[i];
		if (x->sev != FO_SEV_ERROR)
			continue;
		fo_buf_adds(&m, ": ");
		if (x->file)
			fo_buf_addf(&m, "%s:%d:%d: ", x->file, x->line, x->col);
		fo_buf_adds(&m, x->msg);
		if (d->errors > 1)
			fo_buf_addf(&m, " (and %zu more error%s)", d->errors - 1, d->errors > 2 ? "s" : "");
		break;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "{\"message\": ");
	fo_buf_add_json_str(&b, m.s, m.len);
	fo_buf_adds(&b, ", \"errors\": ");
	fo__api_add_diags(&b, d, true, 0);
	fo_buf_addch(&b, '}');
	fo_resp_json_buf(rq, 400, &b);
	fo_buf_release(&m);
}

/* ---- secrets kept out of what is shown ---- */

#define MIN_SECRET 4 /* shorter values would blot out ordinary text */

/* The last owner's secret values, while the store is unchanged (a listing shows many runs of
 * one owner: one query, not one per run). */
static pthread_mutex_t secrets_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const struct fo_store *store;
	uint64_t gen;
	char *owner;
	char **values; /* raw */
	char **esc;    /* as inside a JSON string */
	size_t n;
} memo;

static void memo_clear(void)
{
	for (size_t i = 0; i < memo.n; i++) {
		fo_free(memo.values[i]);
		fo_free(memo.esc[i]);
	}
	fo_free(memo.values);
	fo_free(memo.esc);
	fo_free(memo.owner);
	memo.values = memo.esc = NULL;
	memo.owner = NULL;
	memo.n = 0;
	memo.store = NULL;
}

/* Loads owner's secrets into the memo (secrets_mu held). */
static void memo_load(struct fo_store *st, uint64_t gen, const char *owner)
{
	memo_clear();
	struct fo_arena *a = fo_arena_new();
	const char **names = NULL, **values = NULL;
	size_t n = 0;
	if (fo_store_secret_list(st, a, owner, &names, &values, &n) == 0 && values && n) {
		memo.values = fo_calloc(n, sizeof(char *));
		memo.esc = fo_calloc(n, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			if (!values[i] || strlen(values[i]) < MIN_SECRET)
				continue;
			struct fo_buf e = FO_BUF_INIT;
			fo_buf_add_json_str(&e, values[i], strlen(values[i]));
			memo.values[memo.n] = fo_strdup(values[i]);
			memo.esc[memo.n++] = fo_strndup(e.s + 1, e.len - 2);
			fo_buf_release(&e);
		}
	}
	fo_arena_free(a);
	memo.store = st;
	memo.gen = gen;
	memo.owner = fo_strdup(owner);
}

/* Replaces secret values in every string of j (secrets_mu held). */
static void redact_json(json_t *j, unsigned depth)
{
	if (depth > 256)
		return;
	if (json_is_string(j)) {
		struct fo_buf b = FO_BUF_INIT;
		fo_buf_add(&b, json_string_value(j), json_string_length(j));
		if (fo_redact(&b, (const char *const *)memo.values, memo.n))
			json_string_setn(j, b.s, b.len);
		fo_buf_release(&b);
	} else if (json_is_object(j)) {
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v) redact_json(v, depth + 1);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) redact_json(v, depth + 1);
	}
}

void fo__api_redact(struct fo_req *rq, const char *owner, struct fo_buf *b, size_t start, bool json)
{
	if (!rq || !rq->srv || !rq->srv->store || !owner || start > b->len)
		return;
	struct fo_store *st = rq->srv->store;
	uint64_t gen = fo_store_generation(st);
	pthread_mutex_lock(&secrets_mu);
	if (memo.store != st || memo.gen != gen || !memo.owner || strcmp(memo.owner, owner) != 0)
		memo_load(st, gen, owner);
	if (!json) {
		struct fo_buf tail = FO_BUF_INIT;
		fo_buf_add(&tail, b->s + start, b->len - start);
		if (fo_redact(&tail, (const char *const *)memo.values, memo.n)) {
			fo_buf_truncate(b, start);
			fo_buf_add(b, tail.s, tail.len);
		}
		fo_buf_release(&tail);
		pthread_mutex_unlock(&secrets_mu);
		return;
	}
	/* JSON: parse and rewrite only when an escaped value shows up at all. */
	bool hit = false;
	for (size_t k = 0; k < memo.n && !hit; k++)
		hit = memmem(b->s + start, b->len - start, memo.esc[k], strlen(memo.esc[k])) != NULL;
	if (hit) {
		json_t *j = json_loadb(b->s + start, b->len - start, 0, NULL);
		if (j) {
			redact_json(j, 0);
			char *s = json_dumps(j, JSON_ENCODE_ANY);
			if (s) {
				fo_buf_truncate(b, start);
				fo_buf_adds(b, s);
				free(s);
			}
			json_decref(j);
		}
	}
	pthread_mutex_unlock(&secrets_mu);
}
