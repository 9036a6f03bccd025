/*
 * store_sqlite.h: what the three files of the SQLite backend of the store share
 * (store_sqlite.c: loading libsqlite3, opening, the schema and its migrations, the
 * statements, the shared helpers and the ops table; store_sqlite_users.c: users, tokens,
 * sessions and secrets; store_sqlite_runs.c: tests, their versions and runs). Private to
 * those files: the rest of the server sees the store through store.h only.
 */
#ifndef FO_SERVER_STORE_SQLITE_H
#define FO_SERVER_STORE_SQLITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "server/store.h"
#include "server/store_internal.h"
#include "util/arena.h"

/* ---- libsqlite3, loaded on first use ---- */

/* The functions of libsqlite3 the backend uses, found with dlsym on the first open. */
struct fo__sq_lib {
	int (*open_v2)(const char *file, sqlite3 **db, int flags, const char *vfs);
	int (*close_v2)(sqlite3 *db);
	int (*prepare_v3)(sqlite3 *db, const char *sql, int n, unsigned int flags, sqlite3_stmt **q,
			  const char **tail);
	int (*step)(sqlite3_stmt *q);
	int (*reset)(sqlite3_stmt *q);
	int (*clear_bindings)(sqlite3_stmt *q);
	int (*finalize)(sqlite3_stmt *q);
	int (*bind_text)(sqlite3_stmt *q, int i, const char *v, int n, void (*dtor)(void *));
	int (*bind_int64)(sqlite3_stmt *q, int i, sqlite3_int64 v);
	int (*bind_null)(sqlite3_stmt *q, int i);
	int (*column_type)(sqlite3_stmt *q, int i);
	const unsigned char *(*column_text)(sqlite3_stmt *q, int i);
	int (*column_bytes)(sqlite3_stmt *q, int i);
	sqlite3_int64 (*column_int64)(sqlite3_stmt *q, int i);
	const char *(*errmsg)(sqlite3 *db);
	int (*extended_errcode)(sqlite3 *db);
	int (*exec)(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *arg, char **msg);
	void (*sfree)(void *p);
	int (*changes)(sqlite3 *db);
	sqlite3_int64 (*last_insert_rowid)(sqlite3 *db);
	int (*busy_timeout)(sqlite3 *db, int ms);
};

extern struct fo__sq_lib fo__sq;

/* ---- statements ---- */

/* A run's columns, with def the expression for column 9 (its definition, or definition_id). */
#define RUN_COLS(def)                                                                                   \
	"run_id, owner, test_name, created_at, started_at, finished_at, state, failed_during, failure, " def \
	", params, results, resources, artifacts, artifacts_bytes, keep_forever, pid, pid_start, test_version"

/* The prepared statements: indexes into stmt_sql (store_sqlite.c) and fo__sq_store.stmts. */
enum fo__sq_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_USER_INSERT,
	S_USER_BY_EMAIL,
	S_USER_BY_ID,
	S_USER_BY_TOKEN,
	S_TOKEN_TOUCH,
	S_USER_SET_PW,
	S_USER_LIST,
	S_USER_COUNT,
	S_TOKEN_INSERT,
	S_TOKEN_LIST,
	S_TOKEN_DELETE,
	S_SESSION_PURGE,
	S_SESSION_INSERT,
	S_SESSION_GET,
	S_SESSION_DELETE,
	S_SECRET_PUT,
	S_SECRET_DELETE,
	S_SECRET_LIST,
	S_TEST_LIVE,
	S_TEST_DROP_DELETED_VERSIONS,
	S_TEST_DROP_DELETED,
	S_TEST_INSERT,
	S_VERSION_INSERT,
	S_TEST_REPLACE,
	S_TEST_GET,
	S_TEST_GET_ANY,
	S_TEST_LIST_LIVE,
	S_TEST_LIST_DELETED,
	S_TEST_LIST_OWNER_LIVE,
	S_TEST_LIST_OWNER_DELETED,
	S_TEST_SOFT_DELETE,
	S_TEST_DEL_RUNS,
	S_TEST_DEL_VERSIONS,
	S_TEST_DEL,
	S_TEST_RESTORE,
	S_TEST_SET_TAGS,
	S_TEST_TOUCH,
	S_TEST_VERSIONS,
	S_DEF_PUT,
	S_DEF_GET,
	S_RUN_INSERT,
	S_RUN_GET,
	S_RUN_UPDATE,
	S_RUN_KEEP,
	S_RUN_DELETE,
	S_COUNT
};

/* The shape of a run filter: which of its fields are set. */
enum {
	RF_OWNER = 1 << 0,
	RF_TEST = 1 << 1,
	RF_STATES = 1 << 2,
	RF_FINISHED = 1 << 3,
	RF_BEFORE = 1 << 4,
	RF_OLDEST = 1 << 5,
	RF_SHAPES = 1 << 6,
};

/* An open SQLite store: the connection, its lock and its prepared statements. */
struct fo__sq_store {
	struct fo_store base; /* first: the front's view */
	sqlite3 *db;
	pthread_mutex_t lock; /* held for the whole of every call */
	char *path;           /* for messages */
	sqlite3_stmt *stmts[S_COUNT];
	sqlite3_stmt *run_list[RF_SHAPES];  /* by shape, prepared on first use */
	sqlite3_stmt *run_count[RF_SHAPES]; /* by shape (RF_OLDEST unused) */
};

static inline struct fo__sq_store *sq_of(struct fo_store *st)
{
	return (struct fo__sq_store *)st;
}

/* ---- helpers ---- */

/* Runs the write q to its end and resets it. Returns 0 or an fo code; *changes (may be
 * NULL) gets the rows it changed. */
int fo__sq_run_write(struct fo__sq_store *s, sqlite3_stmt *q, struct fo_err *err, const char *what, int *changes);

/* Runs the write q and returns FO_ENOTFOUND when it changed no row. */
int fo__sq_run_change(struct fo__sq_store *s, sqlite3_stmt *q);

/* Steps q once: 1 for a row, 0 at the end, or a negative fo code (q reset then). */
int fo__sq_next_row(struct fo__sq_store *s, sqlite3_stmt *q);

static inline void bind_str(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		fo__sq.bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		fo__sq.bind_null(q, i);
}

static inline void bind_int(sqlite3_stmt *q, int i, int64_t v)
{
	fo__sq.bind_int64(q, i, v);
}

/* Makes q ready for its next use (and forgets the borrowed strings bound to it). */
static inline void done(sqlite3_stmt *q)
{
	fo__sq.reset(q);
	fo__sq.clear_bindings(q);
}

/* Column i of the current row as an arena string; NULL for an SQL NULL (column_text gives
 * NULL for it, and for SQLite running out of memory, which we take as NULL too). */
static inline const char *col_str(struct fo_arena *a, sqlite3_stmt *q, int i)
{
	const unsigned char *t = fo__sq.column_text(q, i);
	if (!t)
		return NULL;
	return fo_arena_strndup(a, (const char *)t, (size_t)fo__sq.column_bytes(q, i));
}

static inline int64_t col_int(sqlite3_stmt *q, int i)
{
	return fo__sq.column_int64(q, i);
}

static inline void lock(struct fo__sq_store *s)
{
	pthread_mutex_lock(&s->lock);
}

static inline void unlock(struct fo__sq_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Begins a transaction (BEGIN IMMEDIATE); returns 0 or an fo code, recorded in err (may be NULL). */
int fo__sq_tx_begin(struct fo__sq_store *s, struct fo_err *err);

/* Commits when rc is 0, else rolls back; returns rc, or the commit's failure. */
int fo__sq_tx_end(struct fo__sq_store *s, int rc, struct fo_err *err);

/* A growing array of records (fo_malloc), moved into an arena when complete. */
struct fo__sq_rows {
	void *v;
	size_t n, cap, size;
};

/* Returns a new zeroed record at the end of r. */
void *fo__sq_rows_add(struct fo__sq_rows *r);

/* Moves r's records into a (never NULL, even when empty), frees r and returns them. */
void *fo__sq_rows_finish(struct fo__sq_rows *r, struct fo_arena *a, size_t *n);

/* Runs the one-row query q (bound) and reads its row with read; FO_ENOTFOUND when none. */
#define ONE_ROW(s, q, read_expr)                                \
	do {                                                    \
		int r_ = fo__sq_next_row((s), (q));             \
		if (r_ == 1)                                    \
			read_expr;                              \
		done(q);                                        \
		rc = r_ == 1 ? 0 : r_ == 0 ? FO_ENOTFOUND : r_; \
	} while (0)

/* ---- the ops (store_internal.h), with the contracts written in store.h ---- */

/* store_sqlite_users.c */
int fo__sq_user_create(struct fo_store *st, struct fo_user *u, struct fo_err *err);
int fo__sq_user_by_email(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out);
int fo__sq_user_by_id(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out);
int fo__sq_user_by_token_hash(struct fo_store *st, struct fo_arena *a, const char *token_hash, struct fo_user *out);
int fo__sq_user_set_password(struct fo_store *st, int64_t id, const char *pw_hash);
int fo__sq_user_list(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n);
size_t fo__sq_user_count(struct fo_store *st);
int fo__sq_token_create(struct fo_store *st, struct fo_token_rec *t, const char *token_hash);
int fo__sq_token_list(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out, size_t *n);
int fo__sq_token_delete(struct fo_store *st, int64_t user_id, int64_t token_id);
int fo__sq_session_create(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf,
			  int64_t expires_at);
int fo__sq_session_get(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now, int64_t *user_id,
		       const char **csrf);
int fo__sq_session_delete(struct fo_store *st, const char *id_hash);
int fo__sq_secret_put(struct fo_store *st, const char *owner, const char *name, const char *value);
int fo__sq_secret_delete(struct fo_store *st, const char *owner, const char *name);
int fo__sq_secret_list(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names,
		       const char ***values, size_t *n);

/* store_sqlite_runs.c */
int fo__sq_test_put(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create, struct fo_err *err);
int fo__sq_test_get(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
		    bool include_deleted, struct fo_test_rec *out);
int fo__sq_test_list(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted,
		     struct fo_test_rec **out, size_t *n);
int fo__sq_test_delete(struct fo_store *st, const char *owner, const char *name, bool forever);
int fo__sq_test_restore(struct fo_store *st, const char *owner, const char *name);
int fo__sq_test_set_tags(struct fo_store *st, const char *owner, const char *name, const char *const *tags,
			 size_t ntags);
int fo__sq_test_touch_run(struct fo_store *st, const char *owner, const char *name, int64_t at);
int fo__sq_test_versions(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			 struct fo_test_version **out, size_t *n);
int fo__sq_run_insert(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err);
int fo__sq_run_get(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out);
int fo__sq_run_list(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f, struct fo_run_rec **out,
		    size_t *n);
size_t fo__sq_run_count(struct fo_store *st, const struct fo_run_filter *f);
int fo__sq_run_update(struct fo_store *st, const struct fo_run_rec *r);
int fo__sq_run_set_keep(struct fo_store *st, const char *run_id, bool keep);
int fo__sq_run_delete(struct fo_store *st, const char *run_id);

#endif
