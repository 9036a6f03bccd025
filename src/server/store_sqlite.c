/*
 * store_sqlite.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/store.h"

int fo_store_open(const char *url, struct fo_store **out, struct fo_err *err)
{
	(void)url;
	(void)out;
	(void)err;
	return FO_EUNSUPPORTED;
}

void fo_store_close(struct fo_store *st)
{
	(void)st;
}

uint64_t fo_store_generation(struct fo_store *st)
{
	(void)st;
	return 0;
}

int fo_store_user_create(struct fo_store *st, struct fo_user *u, struct fo_err *err)
{
	(void)st;
	(void)u;
	(void)err;
	return FO_EUNSUPPORTED;
}

int fo_store_user_by_email(struct fo_store *st, struct fo_arena *a, const char *email, struct fo_user *out)
{
	(void)st;
	(void)a;
	(void)email;
	(void)out;
	return FO_EUNSUPPORTED;
}

int fo_store_user_by_id(struct fo_store *st, struct fo_arena *a, int64_t id, struct fo_user *out)
{
	(void)st;
	(void)a;
	(void)id;
	(void)out;
	return FO_EUNSUPPORTED;
}

int fo_store_user_by_token_hash(struct fo_store *st, struct fo_arena *a, const char *token_hash, struct fo_user *out)
{
	(void)st;
	(void)a;
	(void)token_hash;
	(void)out;
	return FO_EUNSUPPORTED;
}

int fo_store_user_set_password(struct fo_store *st, int64_t id, const char *pw_hash)
{
	(void)st;
	(void)id;
	(void)pw_hash;
	return FO_EUNSUPPORTED;
}

int fo_store_user_list(struct fo_store *st, struct fo_arena *a, struct fo_user **out, size_t *n)
{
	(void)st;
	(void)a;
	(void)out;
	(void)n;
	return FO_EUNSUPPORTED;
}

size_t fo_store_user_count(struct fo_store *st)
{
	(void)st;
	return 0;
}

int fo_store_token_create(struct fo_store *st, struct fo_token_rec *t, const char *token_hash)
{
	(void)st;
	(void)t;
	(void)token_hash;
	return FO_EUNSUPPORTED;
}

int fo_store_token_list(struct fo_store *st, struct fo_arena *a, int64_t user_id, struct fo_token_rec **out, size_t *n)
{
	(void)st;
	(void)a;
	(void)user_id;
	(void)out;
	(void)n;
	return FO_EUNSUPPORTED;
}

int fo_store_token_delete(struct fo_store *st, int64_t user_id, int64_t token_id)
{
	(void)st;
	(void)user_id;
	(void)token_id;
	return FO_EUNSUPPORTED;
}

int fo_store_session_create(struct fo_store *st, const char *id_hash, int64_t user_id, const char *csrf, int64_t expires_at)
{
	(void)st;
	(void)id_hash;
	(void)user_id;
	(void)csrf;
	(void)expires_at;
	return FO_EUNSUPPORTED;
}

int fo_store_session_get(struct fo_store *st, struct fo_arena *a, const char *id_hash, int64_t now, int64_t *user_id, const char **csrf)
{
	(void)st;
	(void)a;
	(void)id_hash;
	(void)now;
	(void)user_id;
	(void)csrf;
	return FO_EUNSUPPORTED;
}

int fo_store_session_delete(struct fo_store *st, const char *id_hash)
{
	(void)st;
	(void)id_hash;
	return FO_EUNSUPPORTED;
}

int fo_store_secret_put(struct fo_store *st, const char *owner, const char *name, const char *value)
{
	(void)st;
	(void)owner;
	(void)name;
	(void)value;
	return FO_EUNSUPPORTED;
}

int fo_store_secret_delete(struct fo_store *st, const char *owner, const char *name)
{
	(void)st;
	(void)owner;
	(void)name;
	return FO_EUNSUPPORTED;
}

int fo_store_secret_list(struct fo_store *st, struct fo_arena *a, const char *owner, const char ***names, const char ***values, size_t *n)
{
	(void)st;
	(void)a;
	(void)owner;
	(void)names;
	(void)values;
	(void)n;
	return FO_EUNSUPPORTED;
}

int fo_store_test_put(struct fo_store *st, struct fo_arena *a, struct fo_test_rec *t, bool create, struct fo_err *err)
{
	(void)st;
	(void)a;
	(void)t;
	(void)create;
	(void)err;
	return FO_EUNSUPPORTED;
}

int fo_store_test_get(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name, bool include_deleted, struct fo_test_rec *out)
{
	(void)st;
	(void)a;
	(void)owner;
	(void)name;
	(void)include_deleted;
	(void)out;
	return FO_EUNSUPPORTED;
}

int fo_store_test_list(struct fo_store *st, struct fo_arena *a, const char *owner, bool deleted, struct fo_test_rec **out, size_t *n)
{
	(void)st;
	(void)a;
	(void)owner;
	(void)deleted;
	(void)out;
	(void)n;
	return FO_EUNSUPPORTED;
}

int fo_store_test_delete(struct fo_store *st, const char *owner, const char *name, bool forever)
{
	(void)st;
	(void)owner;
	(void)name;
	(void)forever;
	return FO_EUNSUPPORTED;
}

int fo_store_test_restore(struct fo_store *st, const char *owner, const char *name)
{
	(void)st;
	(void)owner;
	(void)name;
	return FO_EUNSUPPORTED;
}

int fo_store_test_set_tags(struct fo_store *st, const char *owner, const char *name, const char *const *tags, size_t ntags)
{
	(void)st;
	(void)owner;
	(void)name;
	(void)tags;
	(void)ntags;
	return FO_EUNSUPPORTED;
}

int fo_store_test_touch_run(struct fo_store *st, const char *owner, const char *name, int64_t at)
{
	(void)st;
	(void)owner;
	(void)name;
	(void)at;
	return FO_EUNSUPPORTED;
}

int fo_store_test_versions(struct fo_store *st, struct fo_arena *a, const char *owner, const char *name, struct fo_test_version **out, size_t *n)
{
	(void)st;
	(void)a;
	(void)owner;
	(void)name;
	(void)out;
	(void)n;
	return FO_EUNSUPPORTED;
}

int fo_store_run_insert(struct fo_store *st, const struct fo_run_rec *r, struct fo_err *err)
{
	(void)st;
	(void)r;
	(void)err;
	return FO_EUNSUPPORTED;
}

int fo_store_run_get(struct fo_store *st, struct fo_arena *a, const char *run_id, struct fo_run_rec *out)
{
	(void)st;
	(void)a;
	(void)run_id;
	(void)out;
	return FO_EUNSUPPORTED;
}

int fo_store_run_list(struct fo_store *st, struct fo_arena *a, const struct fo_run_filter *f, struct fo_run_rec **out, size_t *n)
{
	(void)st;
	(void)a;
	(void)f;
	(void)out;
	(void)n;
	return FO_EUNSUPPORTED;
}

size_t fo_store_run_count(struct fo_store *st, const struct fo_run_filter *f)
{
	(void)st;
	(void)f;
	return 0;
}

int fo_store_run_update(struct fo_store *st, const struct fo_run_rec *r)
{
	(void)st;
	(void)r;
	return FO_EUNSUPPORTED;
}

int fo_store_run_set_keep(struct fo_store *st, const char *run_id, bool keep)
{
	(void)st;
	(void)run_id;
	(void)keep;
	return FO_EUNSUPPORTED;
}

int fo_store_run_delete(struct fo_store *st, const char *run_id)
{
	(void)st;
	(void)run_id;
	return FO_EUNSUPPORTED;
}
