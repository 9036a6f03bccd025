/*
 * store_sqlite.c: the SQLite backend of the store (store.h, store_internal.h). One file
 * in the data folder, in WAL mode (readers never wait for the writer of another process),
 * synchronous=NORMAL, foreign keys on and a 5 s busy timeout. libsqlite3 is loaded with
 * dlopen on first use into a function table, never linked, so fallout commands that do
 * not serve pay nothing for it.
 *
 * One connection, one mutex: every function takes the lock for its whole work, so the
 * prepared statements (made once, with SQLITE_PREPARE_PERSISTENT, reset after each use)
 * and the transactions of multi-statement writes never interleave. As the lock already
 * keeps the connection to one thread at a time, it is opened SQLITE_OPEN_NOMUTEX:
 * FULLMUTEX would lock SQLite's own mutex again on every call, a third of the time of
 * a large listing (18 -> 12 ms for 10,000 runs). The schema is
 * versioned by PRAGMA user_version: `migrations` holds one script per version and
 * opening a store runs those it has not seen, each in its own transaction.
 *
 * Run listings build their SQL from the filter's shape (which fields are set); each
 * shape is prepared once and cached, so the indexes on runs serve every listing.
 *
 * This file loads libsqlite3, opens the store, migrates its schema, prepares the
 * statements and holds the helpers and the ops table; users, tokens, sessions and
 * secrets are in store_sqlite_users.c, tests, their versions and runs in
 * store_sqlite_runs.c, and what the three share in store_sqlite.h.
 */
#include "util/common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "server/store.h"
#include "server/store_internal.h"
#include "server/store_sqlite.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/err.h"

/* ---- libsqlite3, loaded on first use ---- */

struct fo__sq_lib fo__sq;

static const struct {
	const char *name;
	void **slot;
} sq_syms[] = {
	{"sqlite3_open_v2", (void **)&fo__sq.open_v2},
	{"sqlite3_close_v2", (void **)&fo__sq.close_v2},
	{"sqlite3_prepare_v3", (void **)&fo__sq.prepare_v3},
	{"sqlite3_step", (void **)&fo__sq.step},
	{"sqlite3_reset", (void **)&fo__sq.reset},
	{"sqlite3_clear_bindings", (void **)&fo__sq.clear_bindings},
	{"sqlite3_finalize", (void **)&fo__sq.finalize},
	{"sqlite3_bind_text", (void **)&fo__sq.bind_text},
	{"sqlite3_bind_int64", (void **)&fo__sq.bind_int64},
	{"sqlite3_bind_null", (void **)&fo__sq.bind_null},
	{"sqlite3_column_type", (void **)&fo__sq.column_type},
	{"sqlite3_column_text", (void **)&fo__sq.column_text},
	{"sqlite3_column_bytes", (void **)&fo__sq.column_bytes},
	{"sqlite3_column_int64", (void **)&fo__sq.column_int64},
	{"sqlite3_errmsg", (void **)&fo__sq.errmsg},
	{"sqlite3_extended_errcode", (void **)&fo__sq.extended_errcode},
	{"sqlite3_exec", (void **)&fo__sq.exec},
	{"sqlite3_free", (void **)&fo__sq.sfree},
	{"sqlite3_changes", (void **)&fo__sq.changes},
	{"sqlite3_last_insert_rowid", (void **)&fo__sq.last_insert_rowid},
	{"sqlite3_busy_timeout", (void **)&fo__sq.busy_timeout},
};

static pthread_once_t sq_once = PTHREAD_ONCE_INIT;
static bool sq_loaded;
static char sq_load_error[256];

static void sq_load(void)
{
	void *lib = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(sq_load_error, sizeof(sq_load_error), "cannot load libsqlite3.so.0 (%s)", dlerror());
		return;
	}
	for (size_t i = 0; i < FO_ARRAY_LEN(sq_syms); i++) {
		*sq_syms[i].slot = dlsym(lib, sq_syms[i].name);
		if (!*sq_syms[i].slot) {
			snprintf(sq_load_error, sizeof(sq_load_error), "libsqlite3.so.0 lacks '%s'", sq_syms[i].name);
			return;
		}
	}
	sq_loaded = sodium_init() >= 0; /* for crypto_generichash; safe to call again */
	if (!sq_loaded)
		snprintf(sq_load_error, sizeof(sq_load_error), "cannot initialise libsodium");
}

/* ---- the schema ---- */

/* One script per schema version: migrations[i] takes a store from version i to i + 1. */
static const char *const migrations[] = {
	/* v1 */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT,"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  pw_hash TEXT,"
	"  admin INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  label TEXT,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_by_user ON tokens (user_id);"
	"CREATE TABLE sessions ("
	"  id_hash TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE INDEX sessions_by_expiry ON sessions (expires_at);"
	"CREATE TABLE secrets ("
	"  owner TEXT NOT NULL COLLATE NOCASE,"
	"  name TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (owner, name)) WITHOUT ROWID;"
	/* A soft-deleted test stays here (deleted_at set): only live tests are unique by name,
	 * and the bin keeps the latest deleted test of each name. */
	"CREATE TABLE tests ("
	"  id INTEGER PRIMARY KEY,"
	"  owner TEXT NOT NULL COLLATE NOCASE,"
	"  name TEXT NOT NULL,"
	"  test_id TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  last_run_at INTEGER NOT NULL DEFAULT 0,"
	"  definition TEXT NOT NULL,"
	"  tags TEXT NOT NULL DEFAULT '[]',"
	"  version INTEGER NOT NULL DEFAULT 1,"
	"  deleted_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX tests_live ON tests (owner, name) WHERE deleted_at = 0;"
	"CREATE INDEX tests_by_name ON tests (owner, name, deleted_at);"
	"CREATE TABLE test_versions ("
	"  owner TEXT NOT NULL COLLATE NOCASE,"
	"  test_id TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  definition TEXT NOT NULL,"
	"  PRIMARY KEY (test_id, version));"
	"CREATE TABLE runs ("
	"  run_id TEXT PRIMARY KEY,"
	"  owner TEXT NOT NULL COLLATE NOCASE,"
	"  test_name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL DEFAULT 0,"
	"  finished_at INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL,"
	"  failed_during TEXT,"
	"  failure TEXT,"
	"  definition_id INTEGER,"
	"  params TEXT,"
	"  results TEXT,"
	"  resources TEXT,"
	"  artifacts TEXT,"
	"  artifacts_bytes INTEGER NOT NULL DEFAULT 0,"
	"  keep_forever INTEGER NOT NULL DEFAULT 0,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  pid_start INTEGER NOT NULL DEFAULT 0,"
	"  test_version INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX runs_by_test ON runs (owner, test_name, created_at DESC, run_id DESC);"
	"CREATE INDEX runs_by_state ON runs (state);"
	"CREATE INDEX runs_by_created ON runs (created_at DESC, run_id DESC);"
	"CREATE INDEX runs_by_finished ON runs (finished_at);"
	/* Runs of a test mostly share its definition: each text is kept once, found by hash,
	 * which keeps run rows small (listings fast) and the file a fraction of the size. */
	"CREATE TABLE run_definitions ("
	"  id INTEGER PRIMARY KEY,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  definition TEXT NOT NULL);"
	"CREATE INDEX runs_by_definition ON runs (definition_id);"
	"CREATE TRIGGER runs_drop_definition AFTER DELETE ON runs WHEN old.definition_id IS NOT NULL BEGIN"
	"  DELETE FROM run_definitions WHERE id = old.definition_id"
	"    AND NOT EXISTS (SELECT 1 FROM runs WHERE definition_id = old.definition_id);"
	"END;",
};

/* ---- statements ---- */

#define USER_COLS "u.id, u.name, u.email, u.pw_hash, u.admin, u.created_at"
#define TEST_COLS                                                                                           \
	"t.owner, t.name, t.test_id, t.created_at, t.updated_at, t.last_run_at, t.definition, t.tags, "    \
	"t.version, t.deleted_at, "                                                                         \
	"(SELECT COALESCE(SUM(r.artifacts_bytes), 0) FROM runs r WHERE r.owner = t.owner AND r.test_name = t.name)"
/* The test row of owner ?1 and name ?2 that names act on: the live one, else the latest deleted. */
#define TEST_PICK "(SELECT test_id FROM tests WHERE owner = ?1 AND name = ?2 ORDER BY deleted_at = 0 DESC, deleted_at DESC LIMIT 1)"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_USER_INSERT] = "INSERT INTO users (name, email, pw_hash, admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users u WHERE u.email = ?1",
	[S_USER_BY_ID] = "SELECT " USER_COLS " FROM users u WHERE u.id = ?1",
	[S_USER_BY_TOKEN] = "SELECT " USER_COLS ", k.id, k.last_used_at FROM tokens k JOIN users u ON u.id = k.user_id "
			    "WHERE k.hash = ?1",
	[S_TOKEN_TOUCH] = "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1",
	[S_USER_SET_PW] = "UPDATE users SET pw_hash = ?2 WHERE id = ?1",
	[S_USER_LIST] = "SELECT " USER_COLS " FROM users u ORDER BY u.id",
	[S_USER_COUNT] = "SELECT COUNT(*) FROM users",
	[S_TOKEN_INSERT] = "INSERT INTO tokens (user_id, label, hash, created_at) VALUES (?1, ?2, ?3, ?4)",
	[S_TOKEN_LIST] = "SELECT id, user_id, label, created_at, last_used_at FROM tokens WHERE user_id = ?1 ORDER BY id",
	[S_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?2 AND user_id = ?1",
	[S_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at <= ?1",
	[S_SESSION_INSERT] = "INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
	[S_SESSION_GET] = "SELECT user_id, csrf FROM sessions WHERE id_hash = ?1 AND expires_at > ?2",
	[S_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
	[S_SECRET_PUT] = "INSERT INTO secrets (owner, name, value) VALUES (?1, ?2, ?3) "
			 "ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value",
	[S_SECRET_DELETE] = "DELETE FROM secrets WHERE owner = ?1 AND name = ?2",
	[S_SECRET_LIST] = "SELECT name, value FROM secrets WHERE owner = ?1 ORDER BY name",
	[S_TEST_LIVE] = "SELECT test_id, version, created_at, last_run_at FROM tests "
			"WHERE owner = ?1 AND name = ?2 AND deleted_at = 0",
	[S_TEST_DROP_DELETED_VERSIONS] = "DELETE FROM test_versions WHERE test_id IN "
					 "(SELECT test_id FROM tests WHERE owner = ?1 AND name = ?2 AND deleted_at <> 0)",
	[S_TEST_DROP_DELETED] = "DELETE FROM tests WHERE owner = ?1 AND name = ?2 AND deleted_at <> 0",
	[S_TEST_INSERT] = "INSERT INTO tests (owner, name, test_id, created_at, updated_at, definition, tags, version) "
			  "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, 1)",
	[S_VERSION_INSERT] = "INSERT INTO test_versions (owner, test_id, version, created_at, definition) "
			     "VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_TEST_REPLACE] = "UPDATE tests SET definition = ?3, tags = ?4, version = ?5, updated_at = ?6 "
			   "WHERE owner = ?1 AND name = ?2 AND deleted_at = 0",
	[S_TEST_GET] = "SELECT " TEST_COLS " FROM tests t WHERE t.owner = ?1 AND t.name = ?2 AND t.deleted_at = 0",
	[S_TEST_GET_ANY] = "SELECT " TEST_COLS " FROM tests t WHERE t.owner = ?1 AND t.name = ?2 "
			   "ORDER BY t.deleted_at = 0 DESC, t.deleted_at DESC LIMIT 1",
	[S_TEST_LIST_LIVE] = "SELECT " TEST_COLS " FROM tests t WHERE t.deleted_at = 0 ORDER BY t.owner, t.name",
	[S_TEST_LIST_DELETED] = "SELECT " TEST_COLS " FROM tests t WHERE t.deleted_at <> 0 ORDER BY t.owner, t.name",
	[S_TEST_LIST_OWNER_LIVE] = "SELECT " TEST_COLS " FROM tests t WHERE t.owner = ?1 AND t.deleted_at = 0 "
				   "ORDER BY t.name",
	[S_TEST_LIST_OWNER_DELETED] = "SELECT " TEST_COLS " FROM tests t WHERE t.owner = ?1 AND t.deleted_at <> 0 "
				      "ORDER BY t.name",
	[S_TEST_SOFT_DELETE] = "UPDATE tests SET deleted_at = ?3 WHERE owner = ?1 AND name = ?2 AND deleted_at = 0",
	[S_TEST_DEL_RUNS] = "DELETE FROM runs WHERE owner = ?1 AND test_name = ?2",
	[S_TEST_DEL_VERSIONS] = "DELETE FROM test_versions WHERE test_id IN "
				"(SELECT test_id FROM tests WHERE owner = ?1 AND name = ?2)",
	[S_TEST_DEL] = "DELETE FROM tests WHERE owner = ?1 AND name = ?2",
	[S_TEST_RESTORE] = "UPDATE tests SET deleted_at = 0 WHERE test_id = "
			   "(SELECT test_id FROM tests WHERE owner = ?1 AND name = ?2 AND deleted_at <> 0 "
			   "ORDER BY deleted_at DESC LIMIT 1)",
	[S_TEST_SET_TAGS] = "UPDATE tests SET tags = ?3, updated_at = ?4 WHERE owner = ?1 AND name = ?2 AND deleted_at = 0",
	[S_TEST_TOUCH] = "UPDATE tests SET last_run_at = ?3 WHERE owner = ?1 AND name = ?2 AND deleted_at = 0",
	[S_TEST_VERSIONS] = "SELECT version, created_at, definition FROM test_versions WHERE test_id = " TEST_PICK
			    " ORDER BY version DESC",
	[S_DEF_PUT] = "INSERT INTO run_definitions (hash, definition) VALUES (?1, ?2) "
		      "ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING id",
	[S_DEF_GET] = "SELECT definition FROM run_definitions WHERE id = ?1",
	[S_RUN_INSERT] = "INSERT INTO runs (" RUN_COLS("definition_id") ") VALUES "
			 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[S_RUN_GET] = "SELECT " RUN_COLS("(SELECT definition FROM run_definitions d WHERE d.id = definition_id)")
		      " FROM runs WHERE run_id = ?1",
	[S_RUN_UPDATE] = "UPDATE runs SET started_at = ?2, finished_at = ?3, state = ?4, failed_during = ?5, "
			 "failure = ?6, params = ?7, results = ?8, resources = ?9, artifacts = ?10, "
			 "artifacts_bytes = ?11, pid = ?13, pid_start = ?14, test_version = ?15 "
			 "WHERE run_id = ?1",
	[S_RUN_KEEP] = "UPDATE runs SET keep_forever = ?2 WHERE run_id = ?1",
	[S_RUN_DELETE] = "DELETE FROM runs WHERE run_id = ?1",
};

/* ---- helpers ---- */

/* The fo error code for SQLite's result rc (taken from the connection, under the lock). */
static int code_of(struct fo__sq_store *s, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return FO_ENOMEM;
	case SQLITE_CONSTRAINT:
		switch (fo__sq.extended_errcode(s->db)) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return FO_EEXISTS;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return FO_ENOTFOUND;
		case SQLITE_CONSTRAINT_NOTNULL:
			return FO_EINVAL;
		}
		return FO_EIO;
	default:
		return FO_EIO;
	}
}

/* Records SQLite's failure rc in err (may be NULL) as "what: message"; returns its code. */
static int failed(struct fo__sq_store *s, int rc, struct fo_err *err, const char *what)
{
	int code = code_of(s, rc);
	if (code)
		fo_err_set(err, code, "%s: %s", what, fo__sq.errmsg(s->db));
	return code;
}

int fo__sq_run_write(struct fo__sq_store *s, sqlite3_stmt *q, struct fo_err *err, const char *what, int *changes)
{
	int rc = fo__sq.step(q);
	int code = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : failed(s, rc, err, what);
	if (changes)
		*changes = code ? 0 : fo__sq.changes(s->db);
	done(q);
	return code;
}

int fo__sq_run_change(struct fo__sq_store *s, sqlite3_stmt *q)
{
	int changes;
	int rc = fo__sq_run_write(s, q, NULL, "write", &changes);
	return rc ? rc : changes ? 0 : FO_ENOTFOUND;
}

int fo__sq_next_row(struct fo__sq_store *s, sqlite3_stmt *q)
{
	int rc = fo__sq.step(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	int code = code_of(s, rc);
	return code ? code : FO_EIO;
}

int fo__sq_tx_begin(struct fo__sq_store *s, struct fo_err *err)
{
	return fo__sq_run_write(s, s->stmts[S_BEGIN], err, "cannot begin a transaction", NULL);
}

int fo__sq_tx_end(struct fo__sq_store *s, int rc, struct fo_err *err)
{
	if (rc == 0) {
		rc = fo__sq_run_write(s, s->stmts[S_COMMIT], err, "cannot commit", NULL);
		if (rc == 0)
			return 0;
	}
	fo__sq_run_write(s, s->stmts[S_ROLLBACK], NULL, "rollback", NULL);
	return rc;
}

void *fo__sq_rows_add(struct fo__sq_rows *r)
{
	fo__grow(&r->v, &r->cap, r->n + 1, r->size);
	void *p = (char *)r->v + r->n++ * r->size;
	memset(p, 0, r->size);
	return p;
}

void *fo__sq_rows_finish(struct fo__sq_rows *r, struct fo_arena *a, size_t *n)
{
	void *out = fo_arena_alloc(a, r->n ? r->n * r->size : 1);
	if (r->n)
		memcpy(out, r->v, r->n * r->size);
	fo_free(r->v);
	*n = r->n;
	r->v = NULL;
	return out;
}

/* ---- opening and closing ---- */

static void sq_close(struct fo_store *st)
{
	struct fo__sq_store *s = sq_of(st);
	for (size_t i = 0; i < S_COUNT; i++)
		if (s->stmts[i])
			fo__sq.finalize(s->stmts[i]);
	for (size_t i = 0; i < RF_SHAPES; i++) {
		if (s->run_list[i])
			fo__sq.finalize(s->run_list[i]);
		if (s->run_count[i])
			fo__sq.finalize(s->run_count[i]);
	}
	if (s->db) {
		fo__sq.exec(s->db, "PRAGMA optimize", NULL, NULL, NULL); /* refreshes the planner's statistics */
		fo__sq.close_v2(s->db);
	}
	pthread_mutex_destroy(&s->lock);
	fo_free(s->path);
	fo_free(s);
}

/* Runs sql (no rows wanted); records "cannot open the store 'path': what: message" on failure. */
static int exec_sql(struct fo__sq_store *s, const char *sql, const char *what, struct fo_err *err)
{
	char *msg = NULL;
	int rc = fo__sq.exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		fo_err_set(err, FO_EIO, "cannot open the store '%s': %s: %s", s->path, what,
			   msg ? msg : fo__sq.errmsg(s->db));
		fo__sq.sfree(msg);
		return FO_EIO;
	}
	return 0;
}

/* Brings the schema up to the newest version, one migration (and transaction) at a time. */
static int migrate(struct fo__sq_store *s, struct fo_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t have = -1;
	if (fo__sq.prepare_v3(s->db, "PRAGMA user_version", -1, 0, &q, NULL) == SQLITE_OK &&
	    fo__sq.step(q) == SQLITE_ROW)
		have = col_int(q, 0);
	if (q)
		fo__sq.finalize(q);
	if (have < 0)
		return fo_err_set(err, FO_EIO, "cannot open the store '%s': %s", s->path, fo__sq.errmsg(s->db));
	int64_t want = (int64_t)FO_ARRAY_LEN(migrations);
	if (have > want)
		return fo_err_set(err, FO_EUNSUPPORTED,
				  "cannot open the store '%s': its schema version %lld is newer than this fallout's (%lld)",
				  s->path, (long long)have, (long long)want);
	for (int64_t v = have; v < want; v++) {
		char what[64], pragma[64];
		snprintf(what, sizeof(what), "cannot migrate to version %lld", (long long)(v + 1));
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %lld", (long long)(v + 1));
		int rc = exec_sql(s, "BEGIN IMMEDIATE", what, err);
		if (rc)
			return rc;
		rc = exec_sql(s, migrations[v], what, err);
		if (!rc)
			rc = exec_sql(s, pragma, what, err);
		if (!rc)
			rc = exec_sql(s, "COMMIT", what, err);
		if (rc) {
			fo__sq.exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

static const struct fo_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.user_create = fo__sq_user_create,
	.user_by_email = fo__sq_user_by_email,
	.user_by_id = fo__sq_user_by_id,
	.user_by_token_hash = fo__sq_user_by_token_hash,
	.user_set_password = fo__sq_user_set_password,
	.user_list = fo__sq_user_list,
	.user_count = fo__sq_user_count,
	.token_create = fo__sq_token_create,
	.token_list = fo__sq_token_list,
	.token_delete = fo__sq_token_delete,
	.session_create = fo__sq_session_create,
	.session_get = fo__sq_session_get,
	.session_delete = fo__sq_session_delete,
	.secret_put = fo__sq_secret_put,
	.secret_delete = fo__sq_secret_delete,
	.secret_list = fo__sq_secret_list,
	.test_put = fo__sq_test_put,
	.test_get = fo__sq_test_get,
	.test_list = fo__sq_test_list,
	.test_delete = fo__sq_test_delete,
	.test_restore = fo__sq_test_restore,
	.test_set_tags = fo__sq_test_set_tags,
	.test_touch_run = fo__sq_test_touch_run,
	.test_versions = fo__sq_test_versions,
	.run_insert = fo__sq_run_insert,
	.run_get = fo__sq_run_get,
	.run_list = fo__sq_run_list,
	.run_count = fo__sq_run_count,
	.run_update = fo__sq_run_update,
	.run_set_keep = fo__sq_run_set_keep,
	.run_delete = fo__sq_run_delete,
};

int fo__store_sqlite_open(const char *path, struct fo_store **out, struct fo_err *err)
{
	*out = NULL;
	pthread_once(&sq_once, sq_load);
	if (!sq_loaded)
		return fo_err_set(err, FO_EUNSUPPORTED, "cannot open the store '%s': %s (install libsqlite3-0)", path,
				  sq_load_error);
	/* The store holds password hashes and secrets: create it readable by us only (SQLite
	 * gives its -wal and -shm files the database's mode). */
	if (strcmp(path, ":memory:") != 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return fo_err_set(err, errno == ENOENT ? FO_ENOENT : FO_EIO, "cannot open the store '%s': %s",
					  path, strerror(errno));
		close(fd);
	}
	struct fo__sq_store *s = fo_calloc(1, sizeof(*s));
	s->base.ops = &sqlite_ops;
	s->path = fo_strdup(path);
	pthread_mutex_init(&s->lock, NULL);
	int rc = fo__sq.open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fo_err_set(err, FO_EIO, "cannot open the store '%s': %s", path,
			   s->db ? fo__sq.errmsg(s->db) : "out of memory");
		sq_close(&s->base);
		return FO_EIO;
	}
	fo__sq.busy_timeout(s->db, 5000);
	rc = exec_sql(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
		      "PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456",
		      "cannot set it up", err);
	if (!rc)
		rc = migrate(s, err);
	for (size_t i = 0; !rc && i < S_COUNT; i++) {
		if (fo__sq.prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i], NULL) !=
		    SQLITE_OK)
			rc = fo_err_set(err, FO_EIO, "cannot open the store '%s': %s", path, fo__sq.errmsg(s->db));
	}
	if (rc) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
