/*
 * auth.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/auth.h"

int fo_auth_init(struct fo_err *err)
{
	(void)err;
	return FO_EUNSUPPORTED;
}

int fo_auth_hash_password(const char *password, char *out, size_t n)
{
	(void)password;
	(void)out;
	(void)n;
	return FO_EUNSUPPORTED;
}

bool fo_auth_check_password(const char *hash, const char *password)
{
	(void)hash;
	(void)password;
	return false;
}

void fo_auth_random_hex(char out[65])
{
	(void)out;
}

void fo_auth_sha256_hex(const char *s, char out[65])
{
	(void)s;
	(void)out;
}

void fo_auth_free(struct fo_auth *au)
{
	(void)au;
}

int64_t fo_auth_login_wait(struct fo_auth *au, const char *key, int64_t now_ms)
{
	(void)au;
	(void)key;
	(void)now_ms;
	return 0;
}

void fo_auth_login_failed(struct fo_auth *au, const char *key, int64_t now_ms)
{
	(void)au;
	(void)key;
	(void)now_ms;
}

void fo_auth_login_succeeded(struct fo_auth *au, const char *key)
{
	(void)au;
	(void)key;
}

int fo_auth_request(struct fo_req *rq)
{
	(void)rq;
	return FO_EUNSUPPORTED;
}

int fo_auth_bootstrap(struct fo_server *srv, struct fo_err *err)
{
	(void)srv;
	(void)err;
	return FO_EUNSUPPORTED;
}
