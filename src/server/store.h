/*
 * store.h: where `fallout serve` keeps users, sessions, secrets, tests (with every earlier
 * version of each definition) and runs. One interface, one backend per database: SQLite
 * (store_sqlite.c, WAL, in the data folder; libsqlite3 is loaded with dlopen on first use)
 * now, PostgreSQL later. The run folder on disk is the source of truth for a run's
 * results; the store indexes it.
 *
 * All functions are thread-safe. Records returned are allocated in the caller's arena a.
 * Times are milliseconds since the epoch (0: not set). Every write bumps the store's
 * generation, so responses built from reads can be cached until the next write.
 */
#ifndef FO_SERVER_STORE_H
#define FO_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_arena;
struct fo_err;

struct fo_user {
	int64_t id;
	const char *name;
	const char *email;         /* unique */
	const char *pw_hash;       /* argon2id string (libsodium crypto_pwhash_str) */
	bool admin;
	int64_t created_at;
};

struct fo_test_rec {
	const char *owner;         /* email */
	const char *name;
	const char *test_id;       /* a UUID, kept across versions */
	int64_t created_at, updated_at, last_run_at;
	const char *definition;    /* the YAML as the user wrote it */
	const char **tags;
	size_t ntags;
	int version;               /* 1 for the first definition, +1 per replacement */
	int64_t deleted_at;        /* soft-deleted when set; restorable */
	int64_t size_on_disk;      /* bytes of artifacts of its runs */
};

/* A test's earlier (or current) definition. */
struct fo_test_version {
	int version;
	int64_t created_at;
	const char *definition;
};

struct fo_run_rec {
	const char *run_id;        /* UUID */
	const char *owner;         /* email of whoever queued it */
	const char *test_name;
	int64_t created_at;        /* queued */
	int64_t started_at;        /* left the queue */
	int64_t finished_at;
	const char *state;         /* FO_RUN_STATE_MAP names: "CREATED", "WAITING_FOR_RESOURCES", ... */
	const char *failed_during; /* NULL: none */
	const char *failure;       /* the first failure's reason, or an abort's; NULL: none */
	const char *definition;    /* the test's definition (YAML text) when it was queued */
	const char *params;        /* the run's template parameters: a JSON object text ("{}") */
	const char *results;       /* JSON text: verdicts, notes... from testrun.json; NULL until finished */
	const char *resources;     /* JSON object text: nodes per provisioner {"local": 3} */
	const char *artifacts;     /* JSON object text {path: bytes}; NULL until finished */
	int64_t artifacts_bytes;
	bool keep_forever;
	int64_t pid;               /* the run's process while active (0: none) */
	int64_t pid_start;         /* its start time (clock ticks since boot, /proc/PID/stat field 22) */
	int64_t test_version;      /* the test version it ran */
};

/* Filters for fo_store_run_list; zero fields do not filter. */
struct fo_run_filter {
	const char *owner;
	const char *test_name;
	const char *const *states; /* NULL-terminated list of states, or NULL */
	bool only_finished;        /* finished_at != 0 */
	int64_t finished_before;   /* finished_at < this (and != 0) */
	size_t limit;              /* 0: all */
	size_t offset;
	bool oldest_first;         /* default: newest first (created_at) */
};

struct fo_store;

/*
 * Opens (creating when absent) the store described by url: "sqlite:PATH" or a plain PATH
 * (an SQLite file). Migrates the schema. Returns 0 and *out, or an error in err.
 */
int fo_store_open(const char *url, struct fo_store **out, struct fo_err *err);
void fo_store_close(struct fo_store *st);
/* A counter that changes on every write. */
uint64_t fo_store_generation(struct fo_store *st);

/* ---- users ---- */
/* Creates u (id and created_at are set on return). FO_EEXISTS when the email is taken. */
int fo_store_user_create(struct fo_store *st, struct fo_user *u, struct fo_err *err);
/* Looks a user up; FO_ENOTFOUND when absent. */
int fo_store_user_by_email(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out);
int fo_store_user_by_id(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out);
/* The user holding the API token whose hex SHA-256 is token_hash (and notes its last use). */
int fo_store_user_by_token_hash(struct fo_store *st, struct fo_arena *a, const char *token_hash, struct fo_user *out);
int fo_store_user_set_password(struct fo_store *st, int64_t id, const char *pw_hash);
int fo_store_user_list(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n);
size_t fo_store_user_count(struct fo_store *st);

/* ---- API tokens: a user may hold several (one per CLI or CI job), each revocable ---- */
struct fo_token_rec {
	int64_t id;
	int64_t user_id;
	const char *label;         /* "cli on laptop", "jenkins" */
	int64_t created_at, last_used_at;
};
/* Stores a token by its hash; sets t->id and created_at. */
int fo_store_token_create(struct fo_store *st, struct fo_token_rec *t, const char *token_hash);
int fo_store_token_list(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out,
			size_t *n);
/* FO_ENOTFOUND unless the token exists and belongs to user_id. */
int fo_store_token_delete(struct fo_store *st, int64_t user_id, int64_t token_id);

/* ---- sign-in sessions (id_hash: hex SHA-256 of the cookie value) ---- */
int fo_store_session_create(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf,
			    int64_t expires_at);
/* The session's user and CSRF token (arena-owned); FO_ENOTFOUND when absent or expired. */
int fo_store_session_get(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now,
			 int64_t *user_id, const char **csrf);
int fo_store_session_delete(struct fo_store *st, const char *id_hash);

/* ---- secrets (per user; values never leave the store but to a run of their owner) ---- */
int fo_store_secret_put(struct fo_store *st, const char *owner, const char *name, const char *value);
int fo_store_secret_delete(struct fo_store *st, const char *owner, const char *name);
/* Names (and values when values is not NULL), sorted by name. */
int fo_store_secret_list(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names,
			 const char ***values, size_t *n);

/* ---- tests ---- */
/*
 * Saves a test. With create, FO_EEXISTS when a live (not deleted) test of that owner and
 * name exists; a soft-deleted one is replaced (a new test_id). Without create, replaces the
 * definition and tags of an existing live test (FO_ENOTFOUND when none), keeping the old
 * definition as a version. t->version, test_id and the times are set on return.
 */
int fo_store_test_put(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create, struct fo_err *err);
/* FO_ENOTFOUND when absent (or deleted, unless include_deleted). */
int fo_store_test_get(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
		      bool include_deleted, struct fo_test_rec *out);
/* Tests of owner (NULL: everyone's), by owner then name; only deleted ones when deleted. */
int fo_store_test_list(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted,
		       struct fo_test_rec **out, size_t *n);
/* Soft delete (forever: removes the test, its versions and its runs' records). */
int fo_store_test_delete(struct fo_store *st, const char *owner, const char *name, bool forever);
/* Undoes a soft delete; FO_EEXISTS when a live test took the name since. */
int fo_store_test_restore(struct fo_store *st, const char *owner, const char *name);
int fo_store_test_set_tags(struct fo_store *st, const char *owner, const char *name, const char *const *tags,
			   size_t ntags);
int fo_store_test_touch_run(struct fo_store *st, const char *owner, const char *name, int64_t at);
/* Every version, newest first. */
int fo_store_test_versions(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			   struct fo_test_version **out, size_t *n);

/* ---- runs ---- */
int fo_store_run_insert(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err);
int fo_store_run_get(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out);
int fo_store_run_list(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f,
		      struct fo_run_rec **out, size_t *n);
/* How many runs match f (limit and offset ignored). */
size_t fo_store_run_count(struct fo_store *st, const struct fo_run_filter *f);
/* Writes every field of r but run_id, owner, test_name, created_at, definition and
 * keep_forever (which only fo_store_run_set_keep changes: an update from a record read
 * earlier must not undo it). */
int fo_store_run_update(struct fo_store *st, const struct fo_run_rec *r);
int fo_store_run_set_keep(struct fo_store *st, const char *run_id, bool keep);
int fo_store_run_delete(struct fo_store *st, const char *run_id);

#endif
