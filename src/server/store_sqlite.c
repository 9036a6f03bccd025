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
 */
#include "util/common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "engine/run.h"
#include "server/store.h"
#include "server/store_internal.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- libsqlite3, loaded on first use ---- */

static struct {
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
} sq;

static const struct {
	const char *name;
	void **slot;
} sq_syms[] = {
	{"sqlite3_open_v2", (void **)&sq.open_v2},
	{"sqlite3_close_v2", (void **)&sq.close_v2},
	{"sqlite3_prepare_v3", (void **)&sq.prepare_v3},
	{"sqlite3_step", (void **)&sq.step},
	{"sqlite3_reset", (void **)&sq.reset},
	{"sqlite3_clear_bindings", (void **)&sq.clear_bindings},
	{"sqlite3_finalize", (void **)&sq.finalize},
	{"sqlite3_bind_text", (void **)&sq.bind_text},
	{"sqlite3_bind_int64", (void **)&sq.bind_int64},
	{"sqlite3_bind_null", (void **)&sq.bind_null},
	{"sqlite3_column_type", (void **)&sq.column_type},
	{"sqlite3_column_text", (void **)&sq.column_text},
	{"sqlite3_column_bytes", (void **)&sq.column_bytes},
	{"sqlite3_column_int64", (void **)&sq.column_int64},
	{"sqlite3_errmsg", (void **)&sq.errmsg},
	{"sqlite3_extended_errcode", (void **)&sq.extended_errcode},
	{"sqlite3_exec", (void **)&sq.exec},
	{"sqlite3_free", (void **)&sq.sfree},
	{"sqlite3_changes", (void **)&sq.changes},
	{"sqlite3_last_insert_rowid", (void **)&sq.last_insert_rowid},
	{"sqlite3_busy_timeout", (void **)&sq.busy_timeout},
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
/* A run's columns, with def the expression for column 9 (its definition, or definition_id). */
#define RUN_COLS(def)                                                                                   \
	"run_id, owner, test_name, created_at, started_at, finished_at, state, failed_during, failure, " def \
	", params, results, resources, artifacts, artifacts_bytes, keep_forever, pid, pid_start, test_version"
/* The test row of owner ?1 and name ?2 that names act on: the live one, else the latest deleted. */
#define TEST_PICK "(SELECT test_id FROM tests WHERE owner = ?1 AND name = ?2 ORDER BY deleted_at = 0 DESC, deleted_at DESC LIMIT 1)"

enum stmt_id {
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

struct sq_store {
	struct fo_store base; /* first: the front's view */
	sqlite3 *db;
	pthread_mutex_t lock; /* held for the whole of every call */
	char *path;           /* for messages */
	sqlite3_stmt *stmts[S_COUNT];
	sqlite3_stmt *run_list[RF_SHAPES];  /* by shape, prepared on first use */
	sqlite3_stmt *run_count[RF_SHAPES]; /* by shape (RF_OLDEST unused) */
};

static struct sq_store *sq_of(struct fo_store *st)
{
	return (struct sq_store *)st;
}

/* ---- helpers ---- */

/* The fo error code for SQLite's result rc (taken from the connection, under the lock). */
static int code_of(struct sq_store *s, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return FO_ENOMEM;
	case SQLITE_CONSTRAINT:
		switch (sq.extended_errcode(s->db)) {
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
static int failed(struct sq_store *s, int rc, struct fo_err *err, const char *what)
{
	int code = code_of(s, rc);
	if (code)
		fo_err_set(err, code, "%s: %s", what, sq.errmsg(s->db));
	return code;
}

static void bind_str(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sq.bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		sq.bind_null(q, i);
}

static void bind_int(sqlite3_stmt *q, int i, int64_t v)
{
	sq.bind_int64(q, i, v);
}

/* Makes q ready for its next use (and forgets the borrowed strings bound to it). */
static void done(sqlite3_stmt *q)
{
	sq.reset(q);
	sq.clear_bindings(q);
}

/* Runs the write q to its end and resets it. Returns 0 or an fo code; *changes (may be
 * NULL) gets the rows it changed. */
static int run_write(struct sq_store *s, sqlite3_stmt *q, struct fo_err *err, const char *what, int *changes)
{
	int rc = sq.step(q);
	int code = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : failed(s, rc, err, what);
	if (changes)
		*changes = code ? 0 : sq.changes(s->db);
	done(q);
	return code;
}

/* Runs the write q and returns FO_ENOTFOUND when it changed no row. */
static int run_change(struct sq_store *s, sqlite3_stmt *q)
{
	int changes;
	int rc = run_write(s, q, NULL, "write", &changes);
	return rc ? rc : changes ? 0 : FO_ENOTFOUND;
}

/* Steps q once: 1 for a row, 0 at the end, or a negative fo code (q reset then). */
static int next_row(struct sq_store *s, sqlite3_stmt *q)
{
	int rc = sq.step(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	int code = code_of(s, rc);
	return code ? code : FO_EIO;
}

/* Column i of the current row as an arena string; NULL for an SQL NULL (column_text gives
 * NULL for it, and for SQLite running out of memory, which we take as NULL too). */
static const char *col_str(struct fo_arena *a, sqlite3_stmt *q, int i)
{
	const unsigned char *t = sq.column_text(q, i);
	if (!t)
		return NULL;
	return fo_arena_strndup(a, (const char *)t, (size_t)sq.column_bytes(q, i));
}

static int64_t col_int(sqlite3_stmt *q, int i)
{
	return sq.column_int64(q, i);
}

static void lock(struct sq_store *s)
{
	pthread_mutex_lock(&s->lock);
}

static void unlock(struct sq_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

static int tx_begin(struct sq_store *s, struct fo_err *err)
{
	return run_write(s, s->stmts[S_BEGIN], err, "cannot begin a transaction", NULL);
}

/* Commits when rc is 0, else rolls back; returns rc, or the commit's failure. */
static int tx_end(struct sq_store *s, int rc, struct fo_err *err)
{
	if (rc == 0) {
		rc = run_write(s, s->stmts[S_COMMIT], err, "cannot commit", NULL);
		if (rc == 0)
			return 0;
	}
	run_write(s, s->stmts[S_ROLLBACK], NULL, "rollback", NULL);
	return rc;
}

/* A growing array of records (fo_malloc), moved into an arena when complete. */
struct rows {
	void *v;
	size_t n, cap, size;
};

/* Returns a new zeroed record at the end of r. */
static void *rows_add(struct rows *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->v = fo_reallocarray(r->v, r->cap, r->size);
	}
	void *p = (char *)r->v + r->n++ * r->size;
	memset(p, 0, r->size);
	return p;
}

/* Moves r's records into a (never NULL, even when empty), frees r and returns them. */
static void *rows_finish(struct rows *r, struct fo_arena *a, size_t *n)
{
	void *out = fo_arena_alloc(a, r->n ? r->n * r->size : 1);
	if (r->n)
		memcpy(out, r->v, r->n * r->size);
	fo_free(r->v);
	*n = r->n;
	r->v = NULL;
	return out;
}

/* Tags as the JSON array text stored in tests.tags, into b. */
static void tags_json(struct fo_buf *b, const char *const *tags, size_t ntags)
{
	fo_buf_addch(b, '[');
	for (size_t i = 0; i < ntags; i++) {
		if (i)
			fo_buf_addch(b, ',');
		fo_buf_add_json_str(b, tags[i], strlen(tags[i]));
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

static void read_user(struct fo_arena *a, sqlite3_stmt *q, struct fo_user *u)
{
	u->id = col_int(q, 0);
	u->name = col_str(a, q, 1);
	u->email = col_str(a, q, 2);
	u->pw_hash = col_str(a, q, 3);
	u->admin = col_int(q, 4) != 0;
	u->created_at = col_int(q, 5);
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
	t->tags = tags_parse(a, (const char *)sq.column_text(q, 7), &t->ntags);
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

/* Runs the one-row query q (bound) and reads its row with read; FO_ENOTFOUND when none. */
#define ONE_ROW(s, q, read_expr)                          \
	do {                                              \
		int r_ = next_row((s), (q));              \
		if (r_ == 1)                              \
			read_expr;                        \
		done(q);                                  \
		rc = r_ == 1 ? 0 : r_ == 0 ? FO_ENOTFOUND : r_; \
	} while (0)

/* ---- users ---- */

static int user_create(struct fo_store *st, struct fo_user *u, struct fo_err *err)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_INSERT];
	int64_t now = fo__store_now_ms();
	bind_str(q, 1, u->name);
	bind_str(q, 2, u->email);
	bind_str(q, 3, u->pw_hash);
	bind_int(q, 4, u->admin);
	bind_int(q, 5, now);
	struct fo_err e = {0};
	int rc = run_write(s, q, &e, "cannot create the user", NULL);
	if (rc == 0) {
		u->id = sq.last_insert_rowid(s->db);
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

static int user_by_email(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out)
{
	struct sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_BY_EMAIL];
	bind_str(q, 1, email);
	ONE_ROW(s, q, read_user(a, q, out));
	unlock(s);
	return rc;
}

static int user_by_id(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out)
{
	struct sq_store *s = sq_of(st);
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

static int user_by_token_hash(struct fo_store *st, struct fo_arena *a, const char *token_hash, struct fo_user *out)
{
	struct sq_store *s = sq_of(st);
	int rc;
	int64_t token_id = 0, last_used = 0;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_BY_TOKEN];
	bind_str(q, 1, token_hash);
	ONE_ROW(s, q, (read_user(a, q, out), token_id = col_int(q, 6), last_used = col_int(q, 7)));
	int64_t now = fo__store_now_ms();
	bool touched = false;
	if (rc == 0 && now - last_used >= TOKEN_TOUCH_MS) {
		sqlite3_stmt *t = s->stmts[S_TOKEN_TOUCH];
		bind_int(t, 1, token_id);
		bind_int(t, 2, now);
		touched = run_write(s, t, NULL, "touch", NULL) == 0; /* best effort: the lookup stands */
	}
	unlock(s);
	if (touched)
		fo__store_bump(st);
	return rc;
}

static int user_set_password(struct fo_store *st, int64_t id, const char *pw_hash)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_SET_PW];
	bind_int(q, 1, id);
	bind_str(q, 2, pw_hash);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

static int user_list(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n)
{
	struct sq_store *s = sq_of(st);
	struct rows r = {.size = sizeof(struct fo_user)};
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_LIST];
	while ((rc = next_row(s, q)) == 1)
		read_user(a, q, rows_add(&r));
	done(q);
	unlock(s);
	*out = rows_finish(&r, a, n);
	return rc;
}

static size_t user_count(struct fo_store *st)
{
	struct sq_store *s = sq_of(st);
	size_t n = 0;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_USER_COUNT];
	if (next_row(s, q) == 1)
		n = (size_t)col_int(q, 0);
	done(q);
	unlock(s);
	return n;
}

/* ---- tokens ---- */

static int token_create(struct fo_store *st, struct fo_token_rec *t, const char *token_hash)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_TOKEN_INSERT];
	int64_t now = fo__store_now_ms();
	bind_int(q, 1, t->user_id);
	bind_str(q, 2, t->label);
	bind_str(q, 3, token_hash);
	bind_int(q, 4, now);
	int rc = run_write(s, q, NULL, "token", NULL);
	if (rc == 0) {
		t->id = sq.last_insert_rowid(s->db);
		t->created_at = now;
		t->last_used_at = 0;
	}
	unlock(s);
	return rc;
}

static int token_list(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out, size_t *n)
{
	struct sq_store *s = sq_of(st);
	struct rows r = {.size = sizeof(struct fo_token_rec)};
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_TOKEN_LIST];
	bind_int(q, 1, user_id);
	while ((rc = next_row(s, q)) == 1) {
		struct fo_token_rec *t = rows_add(&r);
		t->id = col_int(q, 0);
		t->user_id = col_int(q, 1);
		t->label = col_str(a, q, 2);
		t->created_at = col_int(q, 3);
		t->last_used_at = col_int(q, 4);
	}
	done(q);
	unlock(s);
	*out = rows_finish(&r, a, n);
	return rc;
}

static int token_delete(struct fo_store *st, int64_t user_id, int64_t token_id)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_TOKEN_DELETE];
	bind_int(q, 1, user_id);
	bind_int(q, 2, token_id);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

/* ---- sessions ---- */

static int session_create(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf,
			  int64_t expires_at)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SESSION_PURGE];
	bind_int(q, 1, fo__store_now_ms());
	int rc = run_write(s, q, NULL, "purge", NULL);
	if (rc == 0) {
		q = s->stmts[S_SESSION_INSERT];
		bind_str(q, 1, id_hash);
		bind_int(q, 2, user_id);
		bind_str(q, 3, csrf);
		bind_int(q, 4, expires_at);
		rc = run_write(s, q, NULL, "session", NULL);
	}
	unlock(s);
	return rc;
}

static int session_get(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now, int64_t *user_id,
		       const char **csrf)
{
	struct sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SESSION_GET];
	bind_str(q, 1, id_hash);
	bind_int(q, 2, now);
	ONE_ROW(s, q, (*user_id = col_int(q, 0), *csrf = col_str(a, q, 1)));
	unlock(s);
	return rc;
}

static int session_delete(struct fo_store *st, const char *id_hash)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SESSION_DELETE];
	bind_str(q, 1, id_hash);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

/* ---- secrets ---- */

static int secret_put(struct fo_store *st, const char *owner, const char *name, const char *value)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SECRET_PUT];
	bind_str(q, 1, owner);
	bind_str(q, 2, name);
	bind_str(q, 3, value);
	int rc = run_write(s, q, NULL, "secret", NULL);
	unlock(s);
	return rc;
}

static int secret_delete(struct fo_store *st, const char *owner, const char *name)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SECRET_DELETE];
	bind_str(q, 1, owner);
	bind_str(q, 2, name);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

static int secret_list(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names,
		       const char ***values, size_t *n)
{
	struct sq_store *s = sq_of(st);
	struct rows rn = {.size = sizeof(char *)}, rv = {.size = sizeof(char *)};
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[S_SECRET_LIST];
	bind_str(q, 1, owner);
	while ((rc = next_row(s, q)) == 1) {
		*(const char **)rows_add(&rn) = col_str(a, q, 0);
		if (values)
			*(const char **)rows_add(&rv) = col_str(a, q, 1);
	}
	done(q);
	unlock(s);
	*names = rows_finish(&rn, a, n);
	if (values) {
		size_t nv;
		*values = rows_finish(&rv, a, &nv);
	}
	return rc;
}

/* ---- tests ---- */

/* Binds owner and name as ?1 and ?2 of statement id and returns it. */
static sqlite3_stmt *on_test(struct sq_store *s, enum stmt_id id, const char *owner, const char *name)
{
	sqlite3_stmt *q = s->stmts[id];
	bind_str(q, 1, owner);
	bind_str(q, 2, name);
	return q;
}

/* The body of test_put, inside its transaction. */
static int test_put_tx(struct sq_store *s, struct fo_arena *a, struct fo_test_rec *t, bool create,
		       const char *tags, struct fo_err *err)
{
	int64_t now = fo__store_now_ms();
	sqlite3_stmt *q = on_test(s, S_TEST_LIVE, t->owner, t->name);
	const char *test_id = NULL;
	int64_t version = 0, created_at = 0, last_run_at = 0;
	int found = next_row(s, q);
	if (found == 1) {
		test_id = col_str(a, q, 0);
		version = col_int(q, 1);
		created_at = col_int(q, 2);
		last_run_at = col_int(q, 3);
	}
	done(q);
	if (found < 0)
		return fo_err_set(err, found, "cannot read the test '%s': %s", t->name, sq.errmsg(s->db));
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
		rc = run_write(s, q, err, "cannot save the test", NULL);
	} else {
		version++;
		q = on_test(s, S_TEST_REPLACE, t->owner, t->name);
		bind_str(q, 3, t->definition);
		bind_str(q, 4, tags);
		bind_int(q, 5, version);
		bind_int(q, 6, now);
		rc = run_write(s, q, err, "cannot save the test", NULL);
	}
	if (rc)
		return rc;
	q = s->stmts[S_VERSION_INSERT];
	bind_str(q, 1, t->owner);
	bind_str(q, 2, test_id);
	bind_int(q, 3, version);
	bind_int(q, 4, now);
	bind_str(q, 5, t->definition);
	rc = run_write(s, q, err, "cannot save the test's version", NULL);
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

static int test_put(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create, struct fo_err *err)
{
	struct sq_store *s = sq_of(st);
	if (!t->owner || !t->name || !t->definition)
		return fo_err_set(err, FO_EINVAL, "a test needs an owner, a name and a definition");
	struct fo_buf tags = FO_BUF_INIT;
	tags_json(&tags, t->tags, t->ntags);
	lock(s);
	int rc = tx_begin(s, err);
	if (rc == 0)
		rc = tx_end(s, test_put_tx(s, a, t, create, tags.s, err), err);
	unlock(s);
	fo_buf_release(&tags);
	return rc;
}

static int test_get(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
		    bool include_deleted, struct fo_test_rec *out)
{
	struct sq_store *s = sq_of(st);
	int rc;
	lock(s);
	sqlite3_stmt *q = on_test(s, include_deleted ? S_TEST_GET_ANY : S_TEST_GET, owner, name);
	ONE_ROW(s, q, read_test(a, q, out));
	unlock(s);
	return rc;
}

static int test_list(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted,
		     struct fo_test_rec **out, size_t *n)
{
	struct sq_store *s = sq_of(st);
	struct rows r = {.size = sizeof(struct fo_test_rec)};
	enum stmt_id id = owner ? (deleted ? S_TEST_LIST_OWNER_DELETED : S_TEST_LIST_OWNER_LIVE)
				: (deleted ? S_TEST_LIST_DELETED : S_TEST_LIST_LIVE);
	int rc;
	lock(s);
	sqlite3_stmt *q = s->stmts[id];
	if (owner)
		bind_str(q, 1, owner);
	while ((rc = next_row(s, q)) == 1)
		read_test(a, q, rows_add(&r));
	done(q);
	unlock(s);
	*out = rows_finish(&r, a, n);
	return rc;
}

static int test_delete_tx(struct sq_store *s, const char *owner, const char *name, bool forever)
{
	int rc, changes;
	if (!forever) {
		/* At most one deleted test per name: an older one goes for good. */
		rc = run_write(s, on_test(s, S_TEST_DROP_DELETED_VERSIONS, owner, name), NULL, "drop", NULL);
		if (!rc)
			rc = run_write(s, on_test(s, S_TEST_DROP_DELETED, owner, name), NULL, "drop", NULL);
		if (rc)
			return rc;
		sqlite3_stmt *q = on_test(s, S_TEST_SOFT_DELETE, owner, name);
		bind_int(q, 3, fo__store_now_ms());
		return run_change(s, q);
	}
	rc = run_write(s, on_test(s, S_TEST_DEL_RUNS, owner, name), NULL, "delete", NULL);
	if (!rc)
		rc = run_write(s, on_test(s, S_TEST_DEL_VERSIONS, owner, name), NULL, "delete", NULL);
	if (!rc)
		rc = run_write(s, on_test(s, S_TEST_DEL, owner, name), NULL, "delete", &changes);
	return rc ? rc : changes ? 0 : FO_ENOTFOUND;
}

static int test_delete(struct fo_store *st, const char *owner, const char *name, bool forever)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	int rc = tx_begin(s, NULL);
	if (rc == 0)
		rc = tx_end(s, test_delete_tx(s, owner, name, forever), NULL);
	unlock(s);
	return rc;
}

static int test_restore(struct fo_store *st, const char *owner, const char *name)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	/* A live test of that name makes the partial unique index refuse: FO_EEXISTS. */
	int rc = run_change(s, on_test(s, S_TEST_RESTORE, owner, name));
	unlock(s);
	return rc;
}

static int test_set_tags(struct fo_store *st, const char *owner, const char *name, const char *const *tags,
			 size_t ntags)
{
	struct sq_store *s = sq_of(st);
	struct fo_buf b = FO_BUF_INIT;
	tags_json(&b, tags, ntags);
	lock(s);
	sqlite3_stmt *q = on_test(s, S_TEST_SET_TAGS, owner, name);
	bind_str(q, 3, b.s);
	bind_int(q, 4, fo__store_now_ms());
	int rc = run_change(s, q);
	unlock(s);
	fo_buf_release(&b);
	return rc;
}

static int test_touch_run(struct fo_store *st, const char *owner, const char *name, int64_t at)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = on_test(s, S_TEST_TOUCH, owner, name);
	bind_int(q, 3, at);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

static int test_versions(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			 struct fo_test_version **out, size_t *n)
{
	struct sq_store *s = sq_of(st);
	struct rows r = {.size = sizeof(struct fo_test_version)};
	int rc;
	lock(s);
	sqlite3_stmt *q = on_test(s, S_TEST_VERSIONS, owner, name);
	while ((rc = next_row(s, q)) == 1) {
		struct fo_test_version *v = rows_add(&r);
		v->version = (int)col_int(q, 0);
		v->created_at = col_int(q, 1);
		v->definition = col_str(a, q, 2);
	}
	done(q);
	unlock(s);
	*out = rows_finish(&r, a, n);
	/* Every test has at least its current version: none means no such test. */
	return rc ? rc : *n ? 0 : FO_ENOTFOUND;
}

/* ---- runs ---- */

/* The id of definition's row in run_definitions (added when new) in *id; 0 for NULL. */
static int definition_id(struct sq_store *s, const char *definition, int64_t *id, struct fo_err *err)
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
	int rc = next_row(s, q);
	if (rc == 1)
		*id = col_int(q, 0);
	else if (rc == 0)
		rc = FO_EIO;
	else
		fo_err_set(err, rc, "%s", sq.errmsg(s->db));
	done(q);
	return rc == 1 ? 0 : rc;
}

static int run_insert_tx(struct sq_store *s, const struct fo_run_rec *r, struct fo_err *err)
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
		sq.bind_null(q, 10);
	bind_str(q, 11, r->params);
	bind_str(q, 12, r->results);
	bind_str(q, 13, r->resources);
	bind_str(q, 14, r->artifacts);
	bind_int(q, 15, r->artifacts_bytes);
	bind_int(q, 16, r->keep_forever);
	bind_int(q, 17, r->pid);
	bind_int(q, 18, r->pid_start);
	bind_int(q, 19, r->test_version);
	return run_write(s, q, err, "insert", NULL);
}

static int run_insert(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err)
{
	struct sq_store *s = sq_of(st);
	struct fo_err e = {0};
	lock(s);
	int rc = tx_begin(s, &e);
	if (rc == 0)
		rc = tx_end(s, run_insert_tx(s, r, &e), &e);
	unlock(s);
	if (rc == FO_EEXISTS)
		return fo_err_set(err, rc, "the run '%s' already exists", r->run_id ? r->run_id : "");
	if (rc)
		return fo_err_set(err, rc, "cannot save the run '%s': %s", r->run_id ? r->run_id : "", e.msg);
	return 0;
}

static int run_get(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out)
{
	struct sq_store *s = sq_of(st);
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
static sqlite3_stmt *run_query(struct sq_store *s, unsigned shape, bool count)
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
	if (sq.prepare_v3(s->db, b.s, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
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
		fo_buf_addch(json, '[');
		for (size_t i = 0; f->states[i]; i++) {
			if (i)
				fo_buf_addch(json, ',');
			fo_buf_add_json_str(json, f->states[i], strlen(f->states[i]));
		}
		fo_buf_addch(json, ']');
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

static const char *def_map_get(struct sq_store *s, struct def_map *m, struct fo_arena *a, int64_t id)
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
		m->texts[j] = next_row(s, q) == 1 ? col_str(a, q, 0) : NULL;
		m->used++;
		done(q);
	}
	return m->texts[j];
}

static int run_list(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f, struct fo_run_rec **out,
		    size_t *n)
{
	struct sq_store *s = sq_of(st);
	struct rows r = {.size = sizeof(struct fo_run_rec)};
	struct fo_buf json = FO_BUF_INIT;
	struct def_map defs = {0};
	unsigned shape = filter_shape(f);
	int rc = FO_EIO;
	lock(s);
	sqlite3_stmt *q = run_query(s, shape, false);
	if (q) {
		bind_filter(q, f, shape, &json, false);
		while ((rc = next_row(s, q)) == 1) {
			struct fo_run_rec *run = rows_add(&r);
			bool has_def = sq.column_type(q, 9) != SQLITE_NULL;
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
	*out = rows_finish(&r, a, n);
	return rc;
}

static size_t run_count(struct fo_store *st, const struct fo_run_filter *f)
{
	struct sq_store *s = sq_of(st);
	struct fo_buf json = FO_BUF_INIT;
	unsigned shape = filter_shape(f);
	size_t n = 0;
	lock(s);
	sqlite3_stmt *q = run_query(s, shape, true);
	if (q) {
		bind_filter(q, f, shape, &json, true);
		if (next_row(s, q) == 1)
			n = (size_t)col_int(q, 0);
		done(q);
	}
	unlock(s);
	fo_buf_release(&json);
	return n;
}

static int run_update(struct fo_store *st, const struct fo_run_rec *r)
{
	struct sq_store *s = sq_of(st);
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
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

static int run_set_keep(struct fo_store *st, const char *run_id, bool keep)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_RUN_KEEP];
	bind_str(q, 1, run_id);
	bind_int(q, 2, keep);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

static int run_delete(struct fo_store *st, const char *run_id)
{
	struct sq_store *s = sq_of(st);
	lock(s);
	sqlite3_stmt *q = s->stmts[S_RUN_DELETE];
	bind_str(q, 1, run_id);
	int rc = run_change(s, q);
	unlock(s);
	return rc;
}

/* ---- opening and closing ---- */

static void sq_close(struct fo_store *st)
{
	struct sq_store *s = sq_of(st);
	for (size_t i = 0; i < S_COUNT; i++)
		if (s->stmts[i])
			sq.finalize(s->stmts[i]);
	for (size_t i = 0; i < RF_SHAPES; i++) {
		if (s->run_list[i])
			sq.finalize(s->run_list[i]);
		if (s->run_count[i])
			sq.finalize(s->run_count[i]);
	}
	if (s->db) {
		sq.exec(s->db, "PRAGMA optimize", NULL, NULL, NULL); /* refreshes the planner's statistics */
		sq.close_v2(s->db);
	}
	pthread_mutex_destroy(&s->lock);
	fo_free(s->path);
	fo_free(s);
}

/* Runs sql (no rows wanted); records "cannot open the store 'path': what: message" on failure. */
static int exec_sql(struct sq_store *s, const char *sql, const char *what, struct fo_err *err)
{
	char *msg = NULL;
	int rc = sq.exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		fo_err_set(err, FO_EIO, "cannot open the store '%s': %s: %s", s->path, what,
			   msg ? msg : sq.errmsg(s->db));
		sq.sfree(msg);
		return FO_EIO;
	}
	return 0;
}

/* Brings the schema up to the newest version, one migration (and transaction) at a time. */
static int migrate(struct sq_store *s, struct fo_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t have = -1;
	if (sq.prepare_v3(s->db, "PRAGMA user_version", -1, 0, &q, NULL) == SQLITE_OK && sq.step(q) == SQLITE_ROW)
		have = col_int(q, 0);
	if (q)
		sq.finalize(q);
	if (have < 0)
		return fo_err_set(err, FO_EIO, "cannot open the store '%s': %s", s->path, sq.errmsg(s->db));
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
			sq.exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

static const struct fo_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.user_create = user_create,
	.user_by_email = user_by_email,
	.user_by_id = user_by_id,
	.user_by_token_hash = user_by_token_hash,
	.user_set_password = user_set_password,
	.user_list = user_list,
	.user_count = user_count,
	.token_create = token_create,
	.token_list = token_list,
	.token_delete = token_delete,
	.session_create = session_create,
	.session_get = session_get,
	.session_delete = session_delete,
	.secret_put = secret_put,
	.secret_delete = secret_delete,
	.secret_list = secret_list,
	.test_put = test_put,
	.test_get = test_get,
	.test_list = test_list,
	.test_delete = test_delete,
	.test_restore = test_restore,
	.test_set_tags = test_set_tags,
	.test_touch_run = test_touch_run,
	.test_versions = test_versions,
	.run_insert = run_insert,
	.run_get = run_get,
	.run_list = run_list,
	.run_count = run_count,
	.run_update = run_update,
	.run_set_keep = run_set_keep,
	.run_delete = run_delete,
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
	struct sq_store *s = fo_calloc(1, sizeof(*s));
	s->base.ops = &sqlite_ops;
	s->path = fo_strdup(path);
	pthread_mutex_init(&s->lock, NULL);
	int rc = sq.open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fo_err_set(err, FO_EIO, "cannot open the store '%s': %s", path,
			   s->db ? sq.errmsg(s->db) : "out of memory");
		sq_close(&s->base);
		return FO_EIO;
	}
	sq.busy_timeout(s->db, 5000);
	rc = exec_sql(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
		      "PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456",
		      "cannot set it up", err);
	if (!rc)
		rc = migrate(s, err);
	for (size_t i = 0; !rc && i < S_COUNT; i++) {
		if (sq.prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i], NULL) != SQLITE_OK)
			rc = fo_err_set(err, FO_EIO, "cannot open the store '%s': %s", path, sq.errmsg(s->db));
	}
	if (rc) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
