/*
 * store_sqlite_users.c: the SQLite backend's users, API tokens, browser sessions and
 * secrets (the rest of the backend is in store_sqlite.c; what they share, in
 * store_sqlite.h). Each function takes the store's lock for its whole work and uses the
 * prepared statements of store_sqlite.c.
 */
#include "util/common.h"

#include <sqlite3.h>

#include "server/server.h"
#include "server/store.h"
#include "server/store_internal.h"
#include "server/store_sqlite.h"
#include "util/arena.h"
#include "util/err.h"

static void read_user(struct fo_arena *a, sqlite3_stmt *q, struct fo_user *u)
{
	u->id = col_int(q, 0);
	u->name = col_str(a, q, 1);
	u->email = col_str(a, q, 2);
	u->pw_hash = col_str(a, q, 3);
	u->admin = col_int(q, 4) != 0;
	u->created_at = col_int(q, 5);
}

/* ---- users ---- */

int fo__sq_user_create(struct fo_store *st, struct fo_user *u, struct fo_err *err)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_INSERT];
	int64_t now = fo_now_ms();
	bind_str(q, 1, u->name);
	bind_str(q, 2, u->email);
	bind_str(q, 3, u->pw_hash);
	bind_int(q, 4, u->admin);
	bind_int(q, 5, now);
	struct fo_err e = {0};
	int rc = fo__sq_run_write(s, q, &e, "cannot create the user", NULL);
	if (rc == 0) {
		u->id = fo__sq.last_insert_rowid(s->db);
		u->created_at = now;
	}
	unlock(s);
	if (rc == FO_EEXISTS)
		return fo_err_set(err, rc, "a user with the email '%s' already exists", u->email);
	if (rc)
		return fo_err_set(err, rc, "cannot create the user '%s': %s", u->email ? u->email : "",
				  e.msg);
	return 0;
}

int fo__sq_user_by_email(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out)
{
	struct fo__sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_BY_EMAIL];
	bind_str(q, 1, email);
	ONE_ROW(s, q, read_user(a, q, out));
	unlock(s);
	return rc;
}

int fo__sq_user_by_id(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out)
{
	struct fo__sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_BY_ID];
	bind_int(q, 1, id);
	ONE_ROW(s, q, read_user(a, q, out));
	unlock(s);
	return rc;
}

/* A token's last use is written at most this often (ms). */
#define TOKEN_TOUCH_MS 60000

int fo__sq_user_by_token_hash(struct fo_store *st, struct fo_arena *a, const char *token_hash, struct fo_user *out)
{
	struct fo__sq_store *s = sq_of(st);
	int rc;
	int64_t token_id = 0, last_used = 0;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_BY_TOKEN];
	bind_str(q, 1, token_hash);
	ONE_ROW(s, q, (read_user(a, q, out), token_id = col_int(q, 6), last_used = col_int(q, 7)));
	int64_t now = fo_now_ms();
	bool touched = false;
	if (rc == 0 && now - last_used >= TOKEN_TOUCH_MS) {
		sqlite3_stmt *t = s->stmts[S_TOKEN_TOUCH];
		bind_int(t, 1, token_id);
		bind_int(t, 2, now);
		touched = fo__sq_run_write(s, t, NULL, "touch", NULL) == 0; /* best effort: the lookup stands */
	}
	unlock(s);
	if (touched)
		fo__store_bump(st);
	return rc;
}

int fo__sq_user_set_password(struct fo_store *st, int64_t id, const char *pw_hash)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_SET_PW];
	bind_int(q, 1, id);
	bind_str(q, 2, pw_hash);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

int fo__sq_user_list(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo__sq_rows r = {.size = sizeof(struct fo_user)};
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_LIST];
	while ((rc = fo__sq_next_row(s, q)) == 1)
		read_user(a, q, fo__sq_rows_add(&r));
	done(q);
	unlock(s);
	*out = fo__sq_rows_finish(&r, a, n);
	return rc;
}

size_t fo__sq_user_count(struct fo_store *st)
{
	struct fo__sq_store *s = sq_of(st);
	size_t n = 0;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_COUNT];
	if (fo__sq_next_row(s, q) == 1)
		n = (size_t)col_int(q, 0);
	done(q);
	unlock(s);
	return n;
}

/* ---- tokens ---- */

int fo__sq_token_create(struct fo_store *st, struct fo_token_rec *t, const char *token_hash)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_TOKEN_INSERT];
	int64_t now = fo_now_ms();
	bind_int(q, 1, t->user_id);
	bind_str(q, 2, t->label);
	bind_str(q, 3, token_hash);
	bind_int(q, 4, now);
	int rc = fo__sq_run_write(s, q, NULL, "token", NULL);
	if (rc == 0) {
		t->id = fo__sq.last_insert_rowid(s->db);
		t->created_at = now;
		t->last_used_at = 0;
	}
	unlock(s);
	return rc;
}

int fo__sq_token_list(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out, size_t *n)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo__sq_rows r = {.size = sizeof(struct fo_token_rec)};
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_TOKEN_LIST];
	bind_int(q, 1, user_id);
	while ((rc = fo__sq_next_row(s, q)) == 1) {
		struct fo_token_rec *t = fo__sq_rows_add(&r);
		t->id = col_int(q, 0);
		t->user_id = col_int(q, 1);
		t->label = col_str(a, q, 2);
		t->created_at = col_int(q, 3);
		t->last_used_at = col_int(q, 4);
	}
	done(q);
	unlock(s);
	*out = fo__sq_rows_finish(&r, a, n);
	return rc;
}

int fo__sq_token_delete(struct fo_store *st, int64_t user_id, int64_t token_id)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_TOKEN_DELETE];
	bind_int(q, 1, user_id);
	bind_int(q, 2, token_id);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

/* ---- sessions ---- */

int fo__sq_session_create(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf,
			  int64_t expires_at)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SESSION_PURGE];
	bind_int(q, 1, fo_now_ms());
	int rc = fo__sq_run_write(s, q, NULL, "purge", NULL);
	if (rc == 0) {
		q = s->stmts[S_SESSION_INSERT];
		bind_str(q, 1, id_hash);
		bind_int(q, 2, user_id);
		bind_str(q, 3, csrf);
		bind_int(q, 4, expires_at);
		rc = fo__sq_run_write(s, q, NULL, "session", NULL);
	}
	unlock(s);
	return rc;
}

int fo__sq_session_get(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now, int64_t *user_id,
		       const char **csrf)
{
	struct fo__sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SESSION_GET];
	bind_str(q, 1, id_hash);
	bind_int(q, 2, now);
	ONE_ROW(s, q, (*user_id = col_int(q, 0), *csrf = col_str(a, q, 1)));
	unlock(s);
	return rc;
}

int fo__sq_session_delete(struct fo_store *st, const char *id_hash)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SESSION_DELETE];
	bind_str(q, 1, id_hash);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

/* ---- secrets ---- */

int fo__sq_secret_put(struct fo_store *st, const char *owner, const char *name, const char *value)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SECRET_PUT];
	bind_str(q, 1, owner);
	bind_str(q, 2, name);
	bind_str(q, 3, value);
	int rc = fo__sq_run_write(s, q, NULL, "secret", NULL);
	unlock(s);
	return rc;
}

int fo__sq_secret_delete(struct fo_store *st, const char *owner, const char *name)
{
	struct fo__sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SECRET_DELETE];
	bind_str(q, 1, owner);
	bind_str(q, 2, name);
	int rc = fo__sq_run_change(s, q);
	unlock(s);
	return rc;
}

int fo__sq_secret_list(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names,
		       const char ***values, size_t *n)
{
	struct fo__sq_store *s = sq_of(st);
	struct fo__sq_rows rn = {.size = sizeof(char *)}, rv = {.size = sizeof(char *)};
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SECRET_LIST];
	bind_str(q, 1, owner);
	while ((rc = fo__sq_next_row(s, q)) == 1) {
		*(const char **)fo__sq_rows_add(&rn) = col_str(a, q, 0);
		if (values)
			*(const char **)fo__sq_rows_add(&rv) = col_str(a, q, 1);
	}
	done(q);
	unlock(s);
	*names = fo__sq_rows_finish(&rn, a, n);
	if (values) {
		size_t nv;
		*values = fo__sq_rows_finish(&rv, a, &nv);
	}
	return rc;
}
