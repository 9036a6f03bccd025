/*
 * api_tests.c: the REST handlers for tests (FALLOUT-FORMAT.md 6): validating a definition,
 * listing, reading (as JSON or as the YAML the user wrote), creating, replacing (the old
 * definition is kept as a version), deleting (soft, or for ever with its runs), restoring,
 * cloning another user's test, its versions and its tags. Everyone signed in may read any
 * test; only its owner or an administrator may change it.
 */
#include "util/common.h"

#include <ctype.h>

#include <jansson.h>

#include "server/api.h"
#include "server/api_int.h"
#include "server/queue.h"
#include "server/queue_internal.h"
#include "server/server.h"
#include "spec/definition.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strutil.h"

/* Sends one test as JSON. */
static int send_test(struct fo_req *rq, int status, const struct fo_test_rec *t)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_api_test_json(&b, t, true);
	fo_resp_json_buf(rq, status, &b);
	return 0;
}

/* Refuses a change by someone who is neither the owner nor an admin: 403 and true. */
static bool refuse_change(struct fo_req *rq, const char *owner, const char *name)
{
	if (fo_api_may_change(rq, owner))
		return false;
	fo_resp_error(rq, 403, "only the owner or an administrator may change test '%s' of %s", name ? name : "",
		      owner ? owner : "");
	return true;
}

#define MISSING_TAGS "Some template tags were not given values"

/*
 * True when the only error in d is that some template tags have no default: a test may
 * need parameters given when it is run (starting a run without them is refused). That
 * error becomes a warning in d.
 */
static bool only_missing_tags(struct fo_diags *d)
{
	if (d->errors != 1)
		return false;
	for (size_t i = 0; i < d->n; i++) {
		struct fo_diag *x = &d->v[i];
		if (x->sev != FO_SEV_ERROR)
			continue;
		if (strncmp(x->msg, MISSING_TAGS, strlen(MISSING_TAGS)) != 0)
			return false;
		x->sev = FO_SEV_WARNING;
		d->errors--;
		d->warnings++;
		return true;
	}
	return false;
}

/*
 * Checks a definition body: size, then a load with its defaults only (tags without a
 * default are only warned about: runs give them). Returns 0 with the diagnostics
 * (warnings) in d, or sets the response (413, 400 with every error, under the message what,
 * or one naming the test when NULL) and returns -1.
 */
static int check_definition(struct fo_req *rq, const char *name, const char *what, const char *text, size_t len,
			    struct fo_diags *d)
{
	size_t max = fo__api_max_definition(rq);
	if (len > max) {
		fo_resp_error(rq, 413, "the definition of '%s' is too large (%zu bytes; the limit is %zu)", name, len,
			      max);
		return -1;
	}
	if (memchr(text, '\0', len)) {
		fo_resp_error(rq, 400, "the definition of '%s' holds a NUL byte", name);
		return -1;
	}
	struct fo_def_opts o;
	fo__api_def_opts(rq, &o, NULL);
	struct fo_def *def = NULL;
	char *file = fo_arena_printf(rq->a, "%s.yaml", name);
	int rc = fo_def_load_text(file, text, len, &o, &def, d);
	fo_def_free(def);
	if (rc == 0 && d->errors == 0)
		return 0;
	if (rc == FO_EDEFINITION && only_missing_tags(d))
		return 0;
	if (d->errors == 0)
		fo_diags_error(d, NULL, "cannot load the definition: %s", fo_strerror(rc));
	fo_diags_sort(d);
	char *msg = what ? fo_arena_strdup(rq->a, what) : fo_arena_printf(rq->a, "test '%s' is not a valid definition", name);
	fo_api_diags_response(rq, msg, d);
	return -1;
}

int fo_api_test_validate(struct fo_req *rq)
{
	struct fo_diags d = FO_DIAGS_INIT;
	if (check_definition(rq, "definition", "the definition is not valid", rq->body.s, rq->body.len, &d) == 0) {
		struct fo_buf b = FO_BUF_INIT;
		fo_buf_adds(&b, "{\"valid\": true, \"warnings\": ");
		fo_diags_sort(&d);
		fo__api_add_diags(&b, &d, false, FO_SEV_WARNING);
		fo_buf_addch(&b, '}');
		fo_resp_json_buf(rq, 200, &b);
	}
	fo_diags_release(&d);
	return 0;
}

/* True when t carries tag. */
static bool has_tag(const struct fo_test_rec *t, const char *tag)
{
	for (size_t i = 0; i < t->ntags; i++)
		if (strcmp(t->tags[i], tag) == 0)
			return true;
	return false;
}

/* Lists owner's tests (deleted ones when deleted), filtered by ?tag=. */
static int list_tests(struct fo_req *rq, const char *owner, bool deleted)
{
	struct fo_test_rec *v = NULL;
	size_t n = 0;
	int rc = fo_store_test_list(rq->srv->store, rq->a, owner, deleted, &v, &n);
	if (rc) {
		fo_resp_error(rq, 500, "cannot list the tests of %s: %s", owner ? owner : "everyone", fo_strerror(rc));
		return 0;
	}
	const char *tag = fo_req_query(rq, "tag");
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '[');
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (tag && *tag && !has_tag(&v[i], tag))
			continue;
		if (k++)
			fo_buf_adds(&b, ", ");
		fo_api_test_json(&b, &v[i], false);
	}
	fo_buf_addch(&b, ']');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

int fo_api_test_list_mine(struct fo_req *rq)
{
	return list_tests(rq, rq->user ? rq->user->email : NULL, false);
}

int fo_api_test_list_deleted(struct fo_req *rq)
{
	return list_tests(rq, rq->user ? rq->user->email : NULL, true);
}

int fo_api_test_list_owner(struct fo_req *rq)
{
	return list_tests(rq, fo_req_param(rq, "email"), false);
}

int fo_api_test_get(struct fo_req *rq)
{
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	return send_test(rq, 200, &t);
}

int fo_api_test_yaml(struct fo_req *rq)
{
	const char *name = fo_req_param(rq, "name"), *file = fo_req_param(rq, "file");
	if (!name || !file || !fo_ends_with(file, ".yaml") || strlen(file) != strlen(name) + 5 ||
	    strncmp(file, name, strlen(name)) != 0) {
		fo_resp_error(rq, 404, "no such file '%s' of test '%s' (ask for '%s.yaml')", file ? file : "",
			      name ? name : "", name ? name : "");
		return 0;
	}
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	const char *def = t.definition ? t.definition : "";
	fo_resp_text(rq, 200, FO_API_YAML_TYPE, def, strlen(def));
	return 0;
}

/* Stores t, a test new to its owner (t->owner and t->name set), and answers 201 with it
 * as stored and its Location; 409 when the owner has a test of that name, 500 when the
 * store fails. Returns 0 (the response is set either way). */
static int save_new_test(struct fo_req *rq, struct fo_test_rec *t)
{
	struct fo_err err = {0};
	int rc = fo_store_test_put(rq->srv->store, rq->a, t, true, &err);
	if (rc == FO_EEXISTS) {
		fo_resp_error(rq, 409, "test '%s' of %s already exists", t->name, t->owner);
		return 0;
	}
	if (rc) {
		fo_resp_error(rq, 500, "cannot save test '%s': %s", t->name, err.code ? err.msg : fo_strerror(rc));
		return 0;
	}
	struct fo_test_rec saved;
	if (fo_store_test_get(rq->srv->store, rq->a, t->owner, t->name, false, &saved) == 0)
		*t = saved;
	send_test(rq, 201, t);
	fo__api_location(rq, "/tests/%s/%s/api", t->owner, t->name);
	return 0;
}

int fo_api_test_create(struct fo_req *rq)
{
	const char *name = fo_req_param(rq, "name");
	if (!rq->user) {
		fo_resp_error(rq, 401, "sign in to create a test");
		return 0;
	}
	if (!fo__api_valid_name(name)) {
		fo_resp_error(rq, 400, "'%s' is not a valid test name (letters, digits, '.', '_' and '-')",
			      name ? name : "");
		return 0;
	}
	struct fo_diags d = FO_DIAGS_INIT;
	int rc = check_definition(rq, name, NULL, rq->body.s, rq->body.len, &d);
	fo_diags_release(&d);
	if (rc)
		return 0;
	struct fo_test_rec t = {
		.owner = rq->user->email,
		.name = name,
		.definition = fo_arena_strndup(rq->a, rq->body.s, rq->body.len),
	};
	return save_new_test(rq, &t);
}

int fo_api_test_replace(struct fo_req *rq)
{
	struct fo_test_rec old;
	if (fo_api_load_test(rq, &old))
		return 0;
	if (refuse_change(rq, old.owner, old.name))
		return 0;
	struct fo_diags d = FO_DIAGS_INIT;
	int rc = check_definition(rq, old.name, NULL, rq->body.s, rq->body.len, &d);
	fo_diags_release(&d);
	if (rc)
		return 0;
	struct fo_test_rec t = old;
	t.definition = fo_arena_strndup(rq->a, rq->body.s, rq->body.len);
	struct fo_err err = {0};
	rc = fo_store_test_put(rq->srv->store, rq->a, &t, false, &err);
	if (rc == FO_ENOTFOUND) {
		fo_resp_error(rq, 404, "no test '%s' of %s", old.name, old.owner);
		return 0;
	}
	if (rc) {
		fo_resp_error(rq, 500, "cannot save test '%s': %s", old.name, err.code ? err.msg : fo_strerror(rc));
		return 0;
	}
	struct fo_test_rec saved;
	if (fo_store_test_get(rq->srv->store, rq->a, old.owner, old.name, false, &saved) == 0)
		t = saved;
	return send_test(rq, 200, &t);
}

/* True when some run of owner's test is queued or running. */
static bool has_active_run(struct fo_req *rq, const char *owner, const char *name)
{
	struct fo_run_filter f = {.owner = owner, .test_name = name};
	struct fo_run_rec *v = NULL;
	size_t n = 0;
	if (fo_store_run_list(rq->srv->store, rq->a, &f, &v, &n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!fo__state_final(v[i].state) && v[i].finished_at == 0 && fo_queue_active(rq->srv->queue, v[i].run_id))
			return true;
	return false;
}

int fo_api_test_delete(struct fo_req *rq)
{
	const char *owner = fo_api_owner(rq), *name = fo_req_param(rq, "name");
	const char *forever_arg = fo_req_query(rq, "deleteforever");
	bool forever = forever_arg && (strcasecmp(forever_arg, "true") == 0 || strcmp(forever_arg, "1") == 0);
	struct fo_test_rec t;
	int rc = owner && name ? fo_store_test_get(rq->srv->store, rq->a, owner, name, forever, &t) : FO_ENOTFOUND;
	if (rc) {
		fo_resp_error(rq, rc == FO_ENOTFOUND ? 404 : 500, "no test '%s' of %s", name ? name : "",
			      owner ? owner : "");
		return 0;
	}
	if (refuse_change(rq, t.owner, t.name))
		return 0;
	if (forever && has_active_run(rq, t.owner, t.name)) {
		fo_resp_error(rq, 409, "test '%s' of %s has runs queued or running: abort them first", t.name, t.owner);
		return 0;
	}
	rc = fo_store_test_delete(rq->srv->store, t.owner, t.name, forever);
	if (rc) {
		fo_resp_error(rq, rc == FO_ENOTFOUND ? 404 : 500, "cannot delete test '%s' of %s: %s", t.name, t.owner,
			      fo_strerror(rc));
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	if (forever) {
		/* The name and email are checked (no '/', not "." or ".."), so this stays in runs/. */
		if (fo__api_valid_name(t.name) && !strchr(t.owner, '/') && strcmp(t.owner, "..") != 0 &&
		    strcmp(t.owner, ".") != 0 && rq->srv->runs_dir) {
			char *dir = fo_arena_printf(rq->a, "%s/%s/%s", rq->srv->runs_dir, t.owner, t.name);
			fo_remove_tree(dir, true, NULL);
		}
		fo_buf_adds(&b, "{\"message\": ");
		char *msg = fo_arena_printf(rq->a, "test '%s' of %s was deleted for ever", t.name, t.owner);
		fo_buf_add_json_str(&b, msg, strlen(msg));
		fo_buf_adds(&b, ", \"deleted\": true}");
		fo_resp_json_buf(rq, 200, &b);
		return 0;
	}
	struct fo_test_rec now;
	if (fo_store_test_get(rq->srv->store, rq->a, t.owner, t.name, true, &now) == 0)
		t = now;
	else
		t.deleted_at = fo_now_ms();
	fo_api_test_json(&b, &t, false);
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

int fo_api_test_restore(struct fo_req *rq)
{
	const char *owner = fo_api_owner(rq), *name = fo_req_param(rq, "name");
	if (!owner || !name) {
		fo_resp_error(rq, 404, "no test '%s'", name ? name : "");
		return 0;
	}
	if (refuse_change(rq, owner, name))
		return 0;
	int rc = fo_store_test_restore(rq->srv->store, owner, name);
	if (rc == FO_ENOTFOUND) {
		fo_resp_error(rq, 404, "no deleted test '%s' of %s", name, owner);
		return 0;
	}
	if (rc == FO_EEXISTS) {
		fo_resp_error(rq, 409, "a test '%s' of %s exists already: delete or rename it first", name, owner);
		return 0;
	}
	if (rc) {
		fo_resp_error(rq, 500, "cannot restore test '%s' of %s: %s", name, owner, fo_strerror(rc));
		return 0;
	}
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	return send_test(rq, 200, &t);
}

int fo_api_test_clone(struct fo_req *rq)
{
	struct fo_test_rec src;
	if (fo_api_load_test(rq, &src))
		return 0;
	if (!rq->user) {
		fo_resp_error(rq, 401, "sign in to clone a test");
		return 0;
	}
	const char *name = src.name;
	if (rq->body.len) {
		json_error_t je;
		json_t *j = json_loadb(rq->body.s, rq->body.len, 0, &je);
		if (!j || !json_is_object(j)) {
			json_decref(j);
			fo_resp_error(rq, 400, "the body must be a JSON object {\"name\": \"new-name\"}");
			return 0;
		}
		json_t *n = json_object_get(j, "name");
		if (n && !json_is_null(n)) {
			if (!json_is_string(n)) {
				json_decref(j);
				fo_resp_error(rq, 400, "'name' must be a string");
				return 0;
			}
			name = fo_arena_strdup(rq->a, json_string_value(n));
		}
		json_decref(j);
	}
	if (!fo__api_valid_name(name)) {
		fo_resp_error(rq, 400, "'%s' is not a valid test name (letters, digits, '.', '_' and '-')", name);
		return 0;
	}
	struct fo_test_rec t = {
		.owner = rq->user->email,
		.name = name,
		.definition = src.definition,
		.tags = src.tags,
		.ntags = src.ntags,
	};
	return save_new_test(rq, &t);
}

int fo_api_test_versions(struct fo_req *rq)
{
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	struct fo_test_version *v = NULL;
	size_t n = 0;
	int rc = fo_store_test_versions(rq->srv->store, rq->a, t.owner, t.name, &v, &n);
	if (rc) {
		fo_resp_error(rq, 500, "cannot read the versions of test '%s': %s", t.name, fo_strerror(rc));
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '[');
	for (size_t i = 0; i < n; i++) {
		fo_buf_addf(&b, "%s{\"version\": %d, \"createdAt\": ", i ? ", " : "", v[i].version);
		fo_api_add_time(&b, v[i].created_at);
		fo_buf_addch(&b, '}');
	}
	fo_buf_addch(&b, ']');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

int fo_api_test_version(struct fo_req *rq)
{
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	const char *arg = fo_req_param(rq, "version");
	int64_t want = 0;
	if (!arg || !fo_parse_i64(arg, &want) || want < 1) {
		fo_resp_error(rq, 404, "no version '%s' of test '%s' of %s", arg ? arg : "", t.name, t.owner);
		return 0;
	}
	struct fo_test_version *v = NULL;
	size_t n = 0;
	int rc = fo_store_test_versions(rq->srv->store, rq->a, t.owner, t.name, &v, &n);
	if (rc) {
		fo_resp_error(rq, 500, "cannot read the versions of test '%s': %s", t.name, fo_strerror(rc));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].version != want)
			continue;
		struct fo_buf b = FO_BUF_INIT;
		fo_buf_addf(&b, "{\"version\": %d, \"createdAt\": ", v[i].version);
		fo_api_add_time(&b, v[i].created_at);
		fo_buf_adds(&b, ", \"definition\": ");
		const char *def = v[i].definition ? v[i].definition : "";
		fo_buf_add_json_str(&b, def, strlen(def));
		fo_buf_addch(&b, '}');
		fo_resp_json_buf(rq, 200, &b);
		return 0;
	}
	fo_resp_error(rq, 404, "no version %lld of test '%s' of %s", (long long)want, t.name, t.owner);
	return 0;
}

/* True when tag is [A-Za-z0-9._-]+. */
static bool valid_tag(const char *tag)
{
	if (!*tag)
		return false;
	for (const char *p = tag; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

int fo_api_test_tags(struct fo_req *rq)
{
	struct fo_test_rec t;
	if (fo_api_load_test(rq, &t))
		return 0;
	if (refuse_change(rq, t.owner, t.name))
		return 0;
	json_error_t je;
	json_t *j = json_loadb(rq->body.s, rq->body.len, 0, &je);
	if (!j || !json_is_array(j)) {
		json_decref(j);
		fo_resp_error(rq, 400, "the body must be a JSON array of tags [\"a\", \"b\"]");
		return 0;
	}
	size_t n = json_array_size(j);
	const char **tags = FO_ANEWN(rq->a, const char *, n ? n : 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(j, i);
		if (!json_is_string(e) || !valid_tag(json_string_value(e))) {
			char *s = json_is_string(e) ? fo_arena_strdup(rq->a, json_string_value(e)) : NULL;
			json_decref(j);
			if (s)
				fo_resp_error(rq, 400, "'%s' is not a valid tag (letters, digits, '.', '_' and '-')", s);
			else
				fo_resp_error(rq, 400, "tag %zu is not a string", i + 1);
			return 0;
		}
		const char *s = json_string_value(e);
		bool dup = false;
		for (size_t m = 0; m < k && !dup; m++)
			dup = strcmp(tags[m], s) == 0;
		if (!dup)
			tags[k++] = fo_arena_strdup(rq->a, s);
	}
	json_decref(j);
	int rc = fo_store_test_set_tags(rq->srv->store, t.owner, t.name, tags, k);
	if (rc) {
		fo_resp_error(rq, rc == FO_ENOTFOUND ? 404 : 500, "cannot set the tags of test '%s' of %s: %s", t.name,
			      t.owner, fo_strerror(rc));
		return 0;
	}
	struct fo_test_rec now;
	if (fo_store_test_get(rq->srv->store, rq->a, t.owner, t.name, false, &now) == 0)
		t = now;
	return send_test(rq, 200, &t);
}
