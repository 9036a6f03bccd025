/*
 * store_sqlite_runs.c: the SQLite backend's tests, their versions and runs (the rest of
 * the backend is in store_sqlite.c; what they share, in store_sqlite.h). A run's
 * definition is stored once in run_definitions, by hash, however many runs share it.
 * Run listings build their SQL from the filter's shape (which fields are set); each
 * shape is prepared once and cached, so the indexes on runs serve every listing.
 */
#include "util/common.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "engine/run.h"
#include "server/server.h"
#include "server/store.h"
#include "server/store_internal.h"
#include "server/store_sqlite.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"

/* The n strings as a JSON array text (tests.tags, a filter's states), into b. */
static void strs_json(struct fo_buf *b, const char *const *strs, size_t n)
{
	fo_buf_addch(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			fo_buf_addch(b, ',');
		fo_buf_add_json_str(b, strs[i], strlen(strs[i]));
	}
	fo_buf_addch(b, ']');
}

/* Parses the JSON array text into an arena array (NULL-terminated; *n strings). */
static const char **tags_parse(struct fo_arena *a, const char *text, size_t *n)
{
	*n = 0;
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	size_t len = json_is_array(j) ? json_array_size(j) : 0;
	const char **tags = FO_ANEWN(a, const char *, len + 1);
	for (size_t i = 0; i < len; i++) {
		const char *t = json_string_value(json_array_get(j, i));
		if (t)
			tags[(*n)++] = fo_arena_strdup(a, t);
	}
	json_decref(j);
	return tags;
}

static void read_test(struct fo_arena *a, sqlite3_stmt *q, struct fo_test_rec *t)
{
	t->owner = col_str(a, q, 0);
	t->name = col_str(a, q, 1);
	t->test_id = col_str(a, q, 2);
	t->created_at = col_int(q, 3);
	t->updated_at = col_int(q, 4);
	t->last_run_at = col_int(q, 5);
	t->definition = col_str(a, q, 6);
	t->tags = tags_parse(a, (const char *)fo__sq.column_text(q, 7), &t->ntags);
	t->version = (int)col_int(q, 8);
	t->deleted_at = col_int(q, 9);
	t->size_on_disk = col_int(q, 10);
}

/* Reads a run's row; with_definition when column 9 holds its text (not its id). */
static void read_run(struct fo_arena *a, sqlite3_stmt *q, struct fo_run_rec *r, bool with_definition)
{
	r->run_id = col_str(a, q, 0);
	r->owner = col_str(a, q, 1);
	r->test_name = col_str(a, q, 2);
	r->created_at = col_int(q, 3);
	r->started_at = col_int(q, 4);
	r->finished_at = col_int(q, 5);
	r->state = col_str(a, q, 6);
	r->failed_during = col_str(a, q, 7);
	r->failure = col_str(a, q, 8);
	r->definition = with_definition ? col_str(a, q, 9) : NULL;
	r->params = col_str(a, q, 10);
	r->results = col_str(a, q, 11);
	r->resources = col_str(a, q, 12);
	r->artifacts = col_str(a, q, 13);
	r->artifacts_bytes = col_int(q, 14);
	r->keep_forever = col_int(q, 15) != 0;
	r->pid = col_int(q, 16);
	r->pid_start = col_int(q, 17);
	r->test_version = col_int(q, 18);
}

/* ---- tests ---- */

/* Binds owner and name as ?1 and ?2 of statement id and returns it. */
static sqlite3_stmt *on_test(struct fo__sq_store *s, enum fo__sq_stmt id, const char *owner, const char *name)
{
	sqlite3_stmt *q = s->stmts[id];
	bind_str(q, 1, owner);
	bind_str(q, 2, name);
	return q;
}

/* The body of test_put, inside its transaction. */
static int test_put_tx(struct fo__sq_store *s, struct fo_arena *a, struct fo_test_rec *t, bool create,
		       const char *tags, struct fo_err *err)
{
	int64_t now = fo_now_ms();
	sqlite3_stmt *q = on_test(s, S_TEST_LIVE, t->owner, t->name);
	const char *test_id = NULL;
	int64_t version = 0, created_at = 0, last_run_at = 0;
	int found = fo__sq_next_row(s, q);
	if (found == 1) {
		test_id = col_str(a, q, 0);
		version = col_int(q, 1);
		created_at = col_int(q, 2);
		last_run_at = col_int(q, 3);
	}
	done(q);
	if (found < 0)
		return fo_err_set(err, found, "cannot read the test '%s': %s", t->name, fo__sq.errmsg(s->db));
	if (create && found)
		return fo_err_set(err, FO_EEXISTS, "the test '%s' of '%s' already exists", t->name, t->owner);
	if (!create && !found)
		return fo_err_set(err, FO_ENOTFOUND, "no test '%s' of '%s'", t->name, t->owner);

	int rc;
	if (create) {
		/* A soft-deleted test of that name stays in the bin (restorable once the name is
		 * free again); the new test is another test, with its own id. */
		char uuid[37];
		fo_run_new_id(uuid);
		test_id = fo_arena_strdup(a, uuid);
		version = 1;
		created_at = now;
		last_run_at = 0;
		q = on_test(s, S_TEST_INSERT, t->owner, t->name);
		bind_str(q, 3, test_id);
		bind_int(q, 4, now);
		bind_str(q, 5, t->definition);
		bind_str(q, 6, tags);
		rc = fo__sq_run_write(s, q, err, "cannot save the test", NULL);
	} else {
		version++;
		q = on_test(s, S_TEST_REPLACE, t->owner, t->name);
		bind_str(q, 3, t->definition);
		bind_str(q, 4, tags);
		bind_int(q, 5, version);
		bind_int(q, 6, now);
		rc = fo__sq_run_write(s, q, err, "cannot save the test", NULL);
	}
	if (rc)
		return rc;
	q = s->stmts[S_VERSION_INSERT];
	bind_str(q, 1, t->owner);
	bind_str(q, 2, test_id);
	bind_int(q, 3, version);
	bind_int(q, 4, now);
	bind_str(q, 5, t->definition);
	rc = fo__sq_run_write(s, q, err, "cannot save the test's version", NULL);
	if (rc)
		return rc;
	t->test_id = test_id;
	t->version = (int)version;
	t->created_at = created_at;
	t->updated_at = now;
	t->last_run_at = last_run_at;
	t->deleted_at = 0;
	return 0;
}

int fo__sq_test_put(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create, struct fo_err *err)
{
	struct fo__sq_store *s = sq_of(st);
	if (!t->owner || !t->name || !t->definition)
		return fo_err_set(err, FO_EINVAL, "a test needs an owner, a name and a definition");
	struct fo_buf tags = FO_BUF_INIT;
	strs_json(&tags, t->tags, t->ntags);
	lock(s);
	int rc = fo__sq_tx_begin(s, err);
	if (rc == 0)
		rc = fo__sq_tx_end(s, test_put_tx(s, a, t, create, tags.s, err), err);
	unlock(s);
	fo_buf_release(&tags);
	return rc;
}

int fo__sq_test_get(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
		    bool include_deleted, struct fo_test_rec *out)
{
	struct fo__sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = on_test(s, include_deleted ? S_TEST_GET_ANY : S_TEST_GET, owner, name);
	ONE_ROW(s, q, read_test(a, q, out));
	unlock(s);
	return rc;
}

int fo__sq_test_list(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted,
		     struct fo_test_rec **out, size_t *n)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo__sq_rows r = {.size = sizeof(struct fo_test_rec)};
	enum fo__sq_stmt id = owner ? (deleted ? S_TEST_LIST_OWNER_DELETED : S_TEST_LIST_OWNER_LIVE)
				: (deleted ? S_TEST_LIST_DELETED : S_TEST_LIST_LIVE);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[id];
	if (owner)
		bind_str(q, 1, owner);
	while ((rc = fo__sq_next_row(s, q)) == 1)
		read_test(a, q, fo__sq_rows_add(&r));
	done(q);
	unlock(s);
	*out = fo__sq_rows_finish(&r, a, n);
	return rc;
}

static int test_delete_tx(struct fo__sq_store *s, const char *owner, const char *name, bool forever)
{
	int rc, changes;
	if (!forever) {
		/* At most one deleted test per name: an older one goes for good. */
		rc = fo__sq_run_write(s, on_test(s, S_TEST_DROP_DELETED_VERSIONS, owner, name), NULL, "drop", NULL);
		if (!rc)
			rc = fo__sq_run_write(s, on_test(s, S_TEST_DROP_DELETED, owner, name), NULL, "drop", NULL);
		if (rc)
			return rc;
		sqlite3_stmt *q = on_test(s, S_TEST_SOFT_DELETE, owner, name);
		bind_int(q, 3, fo_now_ms());
		return fo__sq_run_change(s, q);
	}
	rc = fo__sq_run_write(s, on_test(s, S_TEST_DEL_RUNS, owner, name), NULL, "delete", NULL);
	if (!rc)
		rc = fo__sq_run_write(s, on_test(s, S_TEST_DEL_VERSIONS, owner, name), NULL, "delete", NULL);
	if (!rc)
		rc = fo__sq_run_write(s, on_test(s, S_TEST_DEL, owner, name), NULL, "delete", &changes);
	return rc ? rc : changes ? 0 : FO_ENOTFOUND;
}

int fo__sq_test_delete(struct fo_store *st, const char *owner, const char *name, bool forever)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	int rc = fo__sq_tx_begin(s, NULL);
	if (rc == 0)
		rc = fo__sq_tx_end(s, test_delete_tx(s, owner, name, forever), NULL);
	unlock(s);
	return rc;
}

int fo__sq_test_restore(struct fo_store *st, const char *owner, const char *name)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	/* A live test of that name makes the partial unique index refuse: FO_EEXISTS. */
	int rc = fo__sq_run_change(s, on_test(s, S_TEST_RESTORE, owner, name));
	unlock(s);
	return rc;
}

int fo__sq_test_set_tags(struct fo_store *st, const char *owner, const char *name, const char *const *tags,
			 size_t ntags)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo_buf b = FO_BUF_INIT;
	strs_json(&b, tags, ntags);
	lock(s);
	sqlite3_stmt *q = on_test(s, S_TEST_SET_TAGS, owner, name);
	bind_str(q, 3, b.s);
	bind_int(q, 4, fo_now_ms());
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	fo_buf_release(&b);
	return rc;
}

int fo__sq_test_touch_run(struct fo_store *st, const char *owner, const char *name, int64_t at)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = on_test(s, S_TEST_TOUCH, owner, name);
	bind_int(q, 3, at);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

int fo__sq_test_versions(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			 struct fo_test_version **out, size_t *n)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo__sq_rows r = {.size = sizeof(struct fo_test_version)};
	int rc;
	lock(s);
	sqlite3_stmt *q = on_test(s, S_TEST_VERSIONS, owner, name);
	while ((rc = fo__sq_next_row(s, q)) == 1) {
		struct fo_test_version *v = fo__sq_rows_add(&r);
		v->version = (int)col_int(q, 0);
		v->created_at = col_int(q, 1);
		v->definition = col_str(a, q, 2);
	}
	done(q);
	unlock(s);
	*out = fo__sq_rows_finish(&r, a, n);
	/* Every test has at least its current version: none means no such test. */
	return rc ? rc : *n ? 0 : FO_ENOTFOUND;
}

/* ---- runs ---- */

/* The id of definition's row in run_definitions (added when new) in *id; 0 for NULL. */
static int definition_id(struct fo__sq_store *s, const char *definition, int64_t *id, struct fo_err *err)
{
	*id = 0;
	if (!definition)
		return 0;
	unsigned char h[16];
	char hex[sizeof(h) * 2 + 1];
	crypto_generichash(h, sizeof(h), (const unsigned char *)definition, strlen(definition), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	sqlite3_stmt *q = s->stmts[S_DEF_PUT];
	bind_str(q, 1, hex);
	bind_str(q, 2, definition);
	int rc = fo__sq_next_row(s, q);
	if (rc == 1)
		*id = col_int(q, 0);
	else if (rc == 0)
		rc = FO_EIO;
	else
		fo_err_set(err, rc, "%s", fo__sq.errmsg(s->db));
	done(q);
	return rc == 1 ? 0 : rc;
}

static int run_insert_tx(struct fo__sq_store *s, const struct fo_run_rec *r, struct fo_err *err)
{
	int64_t def_id;
	int rc = definition_id(s, r->definition, &def_id, err);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->stmts[S_RUN_INSERT];
	bind_str(q, 1, r->run_id);
	bind_str(q, 2, r->owner);
	bind_str(q, 3, r->test_name);
	bind_int(q, 4, r->created_at);
	bind_int(q, 5, r->started_at);
	bind_int(q, 6, r->finished_at);
	bind_str(q, 7, r->state ? r->state : "CREATED");
	bind_str(q, 8, r->failed_during);
	bind_str(q, 9, r->failure);
	if (def_id)
		bind_int(q, 10, def_id);
	else
		fo__sq.bind_null(q, 10);
	bind_str(q, 11, r->params);
	bind_str(q, 12, r->results);
	bind_str(q, 13, r->resources);
	bind_str(q, 14, r->artifacts);
	bind_int(q, 15, r->artifacts_bytes);
	bind_int(q, 16, r->keep_forever);
	bind_int(q, 17, r->pid);
	bind_int(q, 18, r->pid_start);
	bind_int(q, 19, r->test_version);
	return fo__sq_run_write(s, q, err, "insert", NULL);
}

int fo__sq_run_insert(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo_err e = {0};
	lock(s);
	int rc = fo__sq_tx_begin(s, &e);
	if (rc == 0)
		rc = fo__sq_tx_end(s, run_insert_tx(s, r, &e), &e);
	unlock(s);
	if (rc == FO_EEXISTS)
		return fo_err_set(err, rc, "the run '%s' already exists", r->run_id ? r->run_id : "");
	if (rc)
		return fo_err_set(err, rc, "cannot save the run '%s': %s", r->run_id ? r->run_id : "", e.msg);
	return 0;
}

int fo__sq_run_get(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out)
{
	struct fo__sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_RUN_GET];
	bind_str(q, 1, run_id);
	ONE_ROW(s, q, read_run(a, q, out, true));
	unlock(s);
	return rc;
}

static unsigned filter_shape(const struct fo_run_filter *f)
{
	unsigned shape = 0;
	if (f && f->owner)
		shape |= RF_OWNER;
	if (f && f->test_name)
		shape |= RF_TEST;
	if (f && f->states && f->states[0]) /* an empty list does not filter either */
		shape |= RF_STATES;
	if (f && f->only_finished)
		shape |= RF_FINISHED;
	if (f && f->finished_before)
		shape |= RF_BEFORE;
	if (f && f->oldest_first)
		shape |= RF_OLDEST;
	return shape;
}

/*
 * The statement for a listing (or count) of shape, prepared on first use. Parameters:
 * ?1 owner, ?2 test name, ?3 states (a JSON array), ?4 finished before, ?5 limit, ?6 offset.
 */
static sqlite3_stmt *run_query(struct fo__sq_store *s, unsigned shape, bool count)
{
	sqlite3_stmt **slot = count ? &s->run_count[shape & ~RF_OLDEST] : &s->run_list[shape];
	if (*slot)
		return *slot;
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, count ? "SELECT COUNT(*) FROM runs" : "SELECT " RUN_COLS("definition_id") " FROM runs");
	const char *sep = " WHERE ";
	if (shape & RF_OWNER) {
		fo_buf_addf(&b, "%sowner = ?1", sep);
		sep = " AND ";
	}
	if (shape & RF_TEST) {
		fo_buf_addf(&b, "%stest_name = ?2", sep);
		sep = " AND ";
	}
	if (shape & RF_STATES) {
		fo_buf_addf(&b, "%sstate IN (SELECT value FROM json_each(?3))", sep);
		sep = " AND ";
	}
	if (shape & (RF_FINISHED | RF_BEFORE)) {
		fo_buf_addf(&b, "%sfinished_at <> 0", sep);
		sep = " AND ";
	}
	if (shape & RF_BEFORE)
		fo_buf_addf(&b, "%sfinished_at < ?4", sep);
	if (!count) {
		const char *dir = shape & RF_OLDEST ? "ASC" : "DESC";
		fo_buf_addf(&b, " ORDER BY created_at %s, run_id %s LIMIT ?5 OFFSET ?6", dir, dir);
	}
	if (fo__sq.prepare_v3(s->db, b.s, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
		*slot = NULL;
	fo_buf_release(&b);
	return *slot;
}

/* Binds the filter f's values into q (of f's shape); states go through json (kept by caller). */
static void bind_filter(sqlite3_stmt *q, const struct fo_run_filter *f, unsigned shape, struct fo_buf *json,
			bool count)
{
	if (shape & RF_OWNER)
		bind_str(q, 1, f->owner);
	if (shape & RF_TEST)
		bind_str(q, 2, f->test_name);
	if (shape & RF_STATES) {
		size_t n = 0;
		while (f->states[n])
			n++;
		strs_json(json, f->states, n);
		bind_str(q, 3, json->s);
	}
	if (shape & RF_BEFORE)
		bind_int(q, 4, f->finished_before);
	if (!count) {
		bind_int(q, 5, f && f->limit ? (int64_t)f->limit : -1);
		bind_int(q, 6, f ? (int64_t)f->offset : 0);
	}
}

/*
 * The definitions met by one listing, by id: each text is read and copied into the arena
 * once, however many runs share it (open addressing; ids are never 0).
 */
struct def_map {
	int64_t *ids;
	const char **texts;
	size_t cap, used;
};

static const char *def_map_get(struct fo__sq_store *s, struct def_map *m, struct fo_arena *a, int64_t id)
{
	if (2 * (m->used + 1) > m->cap) {
		struct def_map old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		m->ids = fo_calloc(m->cap, sizeof(*m->ids));
		m->texts = fo_calloc(m->cap, sizeof(*m->texts));
		m->used = 0;
		for (size_t i = 0; i < old.cap; i++) {
			if (!old.ids[i])
				continue;
			size_t j = (size_t)old.ids[i] & (m->cap - 1);
			while (m->ids[j])
				j = (j + 1) & (m->cap - 1);
			m->ids[j] = old.ids[i];
			m->texts[j] = old.texts[i];
			m->used++;
		}
		fo_free(old.ids);
		fo_free(old.texts);
	}
	size_t j = (size_t)id & (m->cap - 1);
	while (m->ids[j] && m->ids[j] != id)
		j = (j + 1) & (m->cap - 1);
	if (!m->ids[j]) {
		sqlite3_stmt *q = s->stmts[S_DEF_GET];
		bind_int(q, 1, id);
		m->ids[j] = id;
		m->texts[j] = fo__sq_next_row(s, q) == 1 ? col_str(a, q, 0) : NULL;
		m->used++;
		done(q);
	}
	return m->texts[j];
}

int fo__sq_run_list(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f, struct fo_run_rec **out,
		    size_t *n)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo__sq_rows r = {.size = sizeof(struct fo_run_rec)};
	struct fo_buf json = FO_BUF_INIT;
	struct def_map defs = {0};
	unsigned shape = filter_shape(f);
	int rc = FO_EIO;
	lock(s);
	sqlite3_stmt *q = run_query(s, shape, false);
	if (q) {
		bind_filter(q, f, shape, &json, false);
		while ((rc = fo__sq_next_row(s, q)) == 1) {
			struct fo_run_rec *run = fo__sq_rows_add(&r);
			bool has_def = fo__sq.column_type(q, 9) != SQLITE_NULL;
			read_run(a, q, run, false);
			if (has_def)
				run->definition = def_map_get(s, &defs, a, col_int(q, 9));
		}
		done(q);
	}
	unlock(s);
	fo_free(defs.ids);
	fo_free(defs.texts);
	fo_buf_release(&json);
	*out = fo__sq_rows_finish(&r, a, n);
	return rc;
}

size_t fo__sq_run_count(struct fo_store *st, const struct fo_run_filter *f)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo_buf json = FO_BUF_INIT;
	unsigned shape = filter_shape(f);
	size_t n = 0;
	lock(s);
	sqlite3_stmt *q = run_query(s, shape, true);
	if (q) {
		bind_filter(q, f, shape, &json, true);
		if (fo__sq_next_row(s, q) == 1)
			n = (size_t)col_int(q, 0);
		done(q);
	}
	unlock(s);
	fo_buf_release(&json);
	return n;
}

int fo__sq_run_update(struct fo_store *st, const struct fo_run_rec *r)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_RUN_UPDATE];
	bind_str(q, 1, r->run_id);
	bind_int(q, 2, r->started_at);
	bind_int(q, 3, r->finished_at);
	bind_str(q, 4, r->state ? r->state : "CREATED");
	bind_str(q, 5, r->failed_during);
	bind_str(q, 6, r->failure);
	bind_str(q, 7, r->params);
	bind_str(q, 8, r->results);
	bind_str(q, 9, r->resources);
	bind_str(q, 10, r->artifacts);
	bind_int(q, 11, r->artifacts_bytes);
	/* ?12 is unused: keep_forever changes only through run_set_keep, so that a watcher or
	 * housekeeping writing a record read earlier cannot undo a user's "keep for ever" */
	bind_int(q, 13, r->pid);
	bind_int(q, 14, r->pid_start);
	bind_int(q, 15, r->test_version);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

int fo__sq_run_set_keep(struct fo_store *st, const char *run_id, bool keep)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_RUN_KEEP];
	bind_str(q, 1, run_id);
	bind_int(q, 2, keep);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

int fo__sq_run_delete(struct fo_store *st, const char *run_id)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_RUN_DELETE];
	bind_str(q, 1, run_id);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}
