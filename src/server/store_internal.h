/*
 * store_internal.h: what the store's front (store.c) shares with its backends. A backend
 * fills a `struct fo_store_ops` table with its functions and embeds `struct fo_store` as
 * the first field of its own state; store.c parses the URL, picks the backend, forwards
 * each fo_store_* call through the table and bumps the generation after every successful
 * write, so a backend never has to. SQLite (store_sqlite.c) is the one backend now; a
 * PostgreSQL one adds a table and a URL prefix in store.c.
 *
 * Backend functions have the contracts written in store.h, and take their own lock: the
 * front adds no locking.
 */
#ifndef FO_SERVER_STORE_INTERNAL_H
#define FO_SERVER_STORE_INTERNAL_H

#include <stdatomic.h>

#include "server/store.h"

struct fo_store_ops {
	const char *name; /* "sqlite" */
	void (*close)(struct fo_store *st);

	int (*user_create)(struct fo_store *st, struct fo_user *u, struct fo_err *err);
	int (*user_by_email)(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out);
	int (*user_by_id)(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out);
	int (*user_by_token_hash)(struct fo_store *st, struct fo_arena *a, const char *token_hash,
				  struct fo_user *out);
	int (*user_set_password)(struct fo_store *st, int64_t id, const char *pw_hash);
	int (*user_list)(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n);
	size_t (*user_count)(struct fo_store *st);

	int (*token_create)(struct fo_store *st, struct fo_token_rec *t, const char *token_hash);
	int (*token_list)(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out,
			  size_t *n);
	int (*token_delete)(struct fo_store *st, int64_t user_id, int64_t token_id);

	int (*session_create)(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf,
			      int64_t expires_at);
	int (*session_get)(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now,
			   int64_t *user_id, const char **csrf);
	int (*session_delete)(struct fo_store *st, const char *id_hash);

	int (*secret_put)(struct fo_store *st, const char *owner, const char *name, const char *value);
	int (*secret_delete)(struct fo_store *st, const char *owner, const char *name);
	int (*secret_list)(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names,
			   const char ***values, size_t *n);

	int (*test_put)(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create,
			struct fo_err *err);
	int (*test_get)(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			bool include_deleted, struct fo_test_rec *out);
	int (*test_list)(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted,
			 struct fo_test_rec **out, size_t *n);
	int (*test_delete)(struct fo_store *st, const char *owner, const char *name, bool forever);
	int (*test_restore)(struct fo_store *st, const char *owner, const char *name);
	int (*test_set_tags)(struct fo_store *st, const char *owner, const char *name, const char *const *tags,
			     size_t ntags);
	int (*test_touch_run)(struct fo_store *st, const char *owner, const char *name, int64_t at);
	int (*test_versions)(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			     struct fo_test_version **out, size_t *n);

	int (*run_insert)(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err);
	int (*run_get)(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out);
	int (*run_list)(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f,
			struct fo_run_rec **out, size_t *n);
	size_t (*run_count)(struct fo_store *st, const struct fo_run_filter *f);
	int (*run_update)(struct fo_store *st, const struct fo_run_rec *r);
	int (*run_set_keep)(struct fo_store *st, const char *run_id, bool keep);
	int (*run_delete)(struct fo_store *st, const char *run_id);
};

/* The part of every backend's state the front uses; the first field of the backend's struct. */
struct fo_store {
	const struct fo_store_ops *ops;
	_Atomic uint64_t generation; /* bumped after each successful write */
};

/*
 * Opens (creating) the SQLite database at path and migrates its schema. Returns 0 and
 * *out (owned; closed through ops->close), or an error in err naming the path.
 */
int fo__store_sqlite_open(const char *path, struct fo_store **out, struct fo_err *err);

/* Bumps st's generation; for backends that write on a read path (a token's last use). */
void fo__store_bump(struct fo_store *st);

#endif
