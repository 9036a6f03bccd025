/*
 * store.c: the front of the store (store.h). Parses the store's URL, opens the backend it
 * names ("sqlite:PATH", or a plain PATH, for SQLite) and forwards every fo_store_* call
 * through the backend's table (store_internal.h). Writes that succeed bump the
 * generation here, in one place, so cached responses built from reads expire whatever
 * backend is in use.
 */
#include "util/common.h"

#include "server/store.h"
#include "server/store_internal.h"
#include "util/err.h"
#include "util/strutil.h"

/* Returns rc, having bumped st's generation when rc says the write succeeded. */
static int wrote(struct fo_store *st, int rc)
{
	if (rc == 0)
		fo__store_bump(st);
	return rc;
}

void fo__store_bump(struct fo_store *st)
{
	atomic_fetch_add_explicit(&st->generation, 1, memory_order_release);
}

int fo_store_open(const char *url, struct fo_store **out, struct fo_err *err)
{
	*out = NULL;
	if (!url || !*url)
		return fo_err_set(err, FO_EINVAL, "no store given");
	const char *path = url;
	if (fo_starts_with(url, "sqlite:"))
		path = url + strlen("sqlite:");
	else if (fo_starts_with(url, "postgres:") || fo_starts_with(url, "postgresql:"))
		return fo_err_set(err, FO_EUNSUPPORTED, "cannot open the store '%s': PostgreSQL is not supported yet",
				  url);
	if (!*path)
		return fo_err_set(err, FO_EINVAL, "cannot open the store '%s': no path", url);
	return fo__store_sqlite_open(path, out, err);
}

void fo_store_close(struct fo_store *st)
{
	if (st)
		st->ops->close(st);
}

uint64_t fo_store_generation(struct fo_store *st)
{
	return atomic_load_explicit(&st->generation, memory_order_acquire);
}

/* ---- users ---- */

int fo_store_user_create(struct fo_store *st, struct fo_user *u, struct fo_err *err)
{
	return wrote(st, st->ops->user_create(st, u, err));
}

int fo_store_user_by_email(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out)
{
	return st->ops->user_by_email(st, a, email, out);
}

int fo_store_user_by_id(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out)
{
	return st->ops->user_by_id(st, a, id, out);
}

int fo_store_user_by_token_hash(struct fo_store *st, struct fo_arena *a, const char *token_hash, struct fo_user *out)
{
	return st->ops->user_by_token_hash(st, a, token_hash, out);
}

int fo_store_user_set_password(struct fo_store *st, int64_t id, const char *pw_hash)
{
	return wrote(st, st->ops->user_set_password(st, id, pw_hash));
}

int fo_store_user_list(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n)
{
	return st->ops->user_list(st, a, out, n);
}

size_t fo_store_user_count(struct fo_store *st)
{
	return st->ops->user_count(st);
}

/* ---- tokens ---- */

int fo_store_token_create(struct fo_store *st, struct fo_token_rec *t, const char *token_hash)
{
	return wrote(st, st->ops->token_create(st, t, token_hash));
}

int fo_store_token_list(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out, size_t *n)
{
	return st->ops->token_list(st, a, user_id, out, n);
}

int fo_store_token_delete(struct fo_store *st, int64_t user_id, int64_t token_id)
{
	return wrote(st, st->ops->token_delete(st, user_id, token_id));
}

/* ---- sessions ---- */

int fo_store_session_create(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf,
			    int64_t expires_at)
{
	return wrote(st, st->ops->session_create(st, id_hash, user_id, csrf, expires_at));
}

int fo_store_session_get(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now, int64_t *user_id,
			 const char **csrf)
{
	return st->ops->session_get(st, a, id_hash, now, user_id, csrf);
}

int fo_store_session_delete(struct fo_store *st, const char *id_hash)
{
	return wrote(st, st->ops->session_delete(st, id_hash));
}

/* ---- secrets ---- */

int fo_store_secret_put(struct fo_store *st, const char *owner, const char *name, const char *value)
{
	return wrote(st, st->ops->secret_put(st, owner, name, value));
}

int fo_store_secret_delete(struct fo_store *st, const char *owner, const char *name)
{
	return wrote(st, st->ops->secret_delete(st, owner, name));
}

int fo_store_secret_list(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names,
			 const char ***values, size_t *n)
{
	return st->ops->secret_list(st, a, owner, names, values, n);
}

/* ---- tests ---- */

int fo_store_test_put(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create, struct fo_err *err)
{
	return wrote(st, st->ops->test_put(st, a, t, create, err));
}

int fo_store_test_get(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
		      bool include_deleted, struct fo_test_rec *out)
{
	return st->ops->test_get(st, a, owner, name, include_deleted, out);
}

int fo_store_test_list(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted,
		       struct fo_test_rec **out, size_t *n)
{
	return st->ops->test_list(st, a, owner, deleted, out, n);
}

int fo_store_test_delete(struct fo_store *st, const char *owner, const char *name, bool forever)
{
	return wrote(st, st->ops->test_delete(st, owner, name, forever));
}

int fo_store_test_restore(struct fo_store *st, const char *owner, const char *name)
{
	return wrote(st, st->ops->test_restore(st, owner, name));
}

int fo_store_test_set_tags(struct fo_store *st, const char *owner, const char *name, const char *const *tags,
			   size_t ntags)
{
	return wrote(st, st->ops->test_set_tags(st, owner, name, tags, ntags));
}

int fo_store_test_touch_run(struct fo_store *st, const char *owner, const char *name, int64_t at)
{
	return wrote(st, st->ops->test_touch_run(st, owner, name, at));
}

int fo_store_test_versions(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name,
			   struct fo_test_version **out, size_t *n)
{
	return st->ops->test_versions(st, a, owner, name, out, n);
}

/* ---- runs ---- */

int fo_store_run_insert(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err)
{
	return wrote(st, st->ops->run_insert(st, r, err));
}

int fo_store_run_get(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out)
{
	return st->ops->run_get(st, a, run_id, out);
}

int fo_store_run_list(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f, struct fo_run_rec **out,
		      size_t *n)
{
	return st->ops->run_list(st, a, f, out, n);
}

size_t fo_store_run_count(struct fo_store *st, const struct fo_run_filter *f)
{
	return st->ops->run_count(st, f);
}

int fo_store_run_update(struct fo_store *st, const struct fo_run_rec *r)
{
	return wrote(st, st->ops->run_update(st, r));
}

int fo_store_run_set_keep(struct fo_store *st, const char *run_id, bool keep)
{
	return wrote(st, st->ops->run_set_keep(st, run_id, keep));
}

int fo_store_run_delete(struct fo_store *st, const char *run_id)
{
	return wrote(st, st->ops->run_delete(st, run_id));
}
