/*
 * api_account.c: the account endpoints: signing in and out (a session cookie plus a CSRF
 * token for browsers), registration, the signed-in user, users (admins), API tokens and
 * secrets. Sign-ins are rate limited per email and per client address; a wrong email and a
 * wrong password get the same answer after the same work. Secret values only ever go in:
 * no response carries one, and the {secret} parameter is a name within the caller's own
 * secrets, so nobody can reach another user's.
 */
#include "util/common.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/auth_internal.h"
#include "server/server.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

#define MAX_LABEL 100
#define MAX_SECRET_VALUE (64 * 1024)
#define MAX_SECRET_NAME 64

/* ---- helpers ---- */

static bool ctype_is(struct fo_req *rq, const char *type)
{
	const char *ct = fo_req_header(rq, "Content-Type");
	return ct && strncasecmp(ct, type, strlen(type)) == 0;
}

/* Parses the body as a JSON object (an empty body as {} when empty_ok). Returns it (the
 * caller decrefs) or NULL with a 400 response set. */
static json_t *body_object(struct fo_req *rq, bool empty_ok)
{
	if (rq->body.len == 0 && empty_ok)
		return json_object();
	json_error_t jerr;
	json_t *j = json_loadb(rq->body.s, rq->body.len, 0, &jerr);
	if (!j) {
		fo_resp_error(rq, 400, "the body is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			      jerr.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		fo_resp_error(rq, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* Field key of object j as an arena string; NULL when absent or null. Sets a 400 response
 * and *bad when present but not a string. */
static const char *str_field(struct fo_req *rq, json_t *j, const char *key, bool *bad)
{
	json_t *v = json_object_get(j, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		fo_resp_error(rq, 400, "'%s' must be a string", key);
		*bad = true;
		return NULL;
	}
	return fo_arena_strndup(rq->a, json_string_value(v), json_string_length(v));
}

static void store_failed(struct fo_req *rq, const char *what, int rc)
{
	fo_resp_error(rq, 500, "cannot %s: %s", what, fo_strerror(rc));
}

static void add_str(struct fo_buf *b, const char *key, const char *value)
{
	fo_buf_add_json_str(b, key, strlen(key));
	fo_buf_addch(b, ':');
	if (value)
		fo_buf_add_json_str(b, value, strlen(value));
	else
		fo_buf_adds(b, "null");
}

/* {"name", "email", "admin", "createdAt"}: what anyone may see of a user. */
static void user_json(struct fo_buf *b, const struct fo_user *u)
{
	fo_buf_addch(b, '{');
	add_str(b, "name", u->name);
	fo_buf_addch(b, ',');
	add_str(b, "email", u->email);
	fo_buf_addf(b, ",\"admin\":%s,\"createdAt\":", u->admin ? "true" : "false");
	fo_api_add_time(b, u->created_at);
	fo_buf_addch(b, '}');
}

static char *lowercase(struct fo_arena *a, const char *s)
{
	char *l = fo_arena_strdup(a, s);
	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * Checks and creates an account from the body {name, email, password, admin?} (admin only
 * when allow_admin). Sets the response: 201 with the user, 400, or 409.
 */
static int create_account(struct fo_req *rq, bool allow_admin)
{
	json_t *j = body_object(rq, false);
	if (!j)
		return 0;
	bool bad = false;
	const char *name = str_field(rq, j, "name", &bad);
	const char *email = bad ? NULL : str_field(rq, j, "email", &bad);
	const char *password = bad ? NULL : str_field(rq, j, "password", &bad);
	json_t *jadmin = json_object_get(j, "admin");
	bool admin = false;
	if (!bad && jadmin && !json_is_null(jadmin)) {
		if (!json_is_boolean(jadmin)) {
			fo_resp_error(rq, 400, "'admin' must be true or false");
			bad = true;
		} else if (json_is_true(jadmin)) {
			if (!allow_admin) {
				fo_resp_error(rq, 403, "only an administrator may create an administrator");
				bad = true;
			}
			admin = true;
		}
	}
	json_decref(j);
	if (bad)
		return 0;
	if (!fo__auth_valid_email(email)) {
		fo_resp_error(rq, 400, "'%s' is not a valid email (letters, digits and ._%%+- around one '@')",
			      email ? email : "");
		return 0;
	}
	if (!password || strlen(password) < FO_AUTH_MIN_PASSWORD) {
		fo_resp_error(rq, 400, "the password must have at least %d characters", FO_AUTH_MIN_PASSWORD);
		return 0;
	}
	if (!name || !*name) {
		const char *at = strchr(email, '@');
		name = fo_arena_strndup(rq->a, email, (size_t)(at - email));
	}
	if (strlen(name) > FO_AUTH_MAX_NAME || has_control(name)) {
		fo_resp_error(rq, 400, "the name must have at most %d characters and no control characters",
			      FO_AUTH_MAX_NAME);
		return 0;
	}
	char hash[crypto_pwhash_STRBYTES];
	int rc = fo_auth_hash_password(password, hash, sizeof hash);
	if (rc < 0) {
		store_failed(rq, "hash the password", rc);
		return 0;
	}
	struct fo_user u = {.name = name, .email = email, .pw_hash = hash, .admin = admin};
	struct fo_err err = {0};
	rc = fo_store_user_create(rq->srv->store, &u, &err);
	if (rc == FO_EEXISTS) {
		fo_resp_error(rq, 409, "a user with email '%s' exists", email);
		return 0;
	}
	if (rc < 0) {
		fo_resp_error(rq, 500, "cannot create user '%s': %s", email, err.code ? err.msg : fo_strerror(rc));
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	user_json(&b, &u);
	fo_resp_json_buf(rq, 201, &b);
	return 0;
}

/* The session cookie's Set-Cookie value for id, alive max_age seconds. */
static const char *session_cookie(struct fo_req *rq, const char *id, int64_t max_age)
{
	const char *url = rq->srv->url;
	bool secure = url && strncasecmp(url, "https:", 6) == 0;
	return fo_arena_printf(rq->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s", FO_SESSION_COOKIE, id,
			       (long long)max_age, secure ? "; Secure" : "");
}

/* ---- signing in and out ---- */

/* POST /account/login: form (or JSON) email and password -> session cookie and CSRF token. */
int fo_api_login(struct fo_req *rq)
{
	const char *email = NULL, *password = NULL;
	bool json = ctype_is(rq, "application/json") ||
		    (!fo_req_header(rq, "Content-Type") && rq->body.len && rq->body.s[0] == '{');
	if (json) {
		json_t *j = body_object(rq, false);
		if (!j)
			return 0;
		bool bad = false;
		email = str_field(rq, j, "email", &bad);
		password = bad ? NULL : str_field(rq, j, "password", &bad);
		json_decref(j);
		if (bad)
			return 0;
	} else {
		email = fo_req_form(rq, "email");
		password = fo_req_form(rq, "password");
	}
	if (!email || !*email || !password) {
		fo_resp_error(rq, 400, "send the fields 'email' and 'password'");
		return 0;
	}

	struct fo_server *srv = rq->srv;
	int64_t now = fo_now_ms();
	const char *email_key = fo_arena_printf(rq->a, "email:%s", lowercase(rq->a, email));
	const char *ip_key = fo_arena_printf(rq->a, "ip:%s", rq->remote_ip ? rq->remote_ip : "?");
	int64_t wait = fo_auth_login_wait(srv->auth, email_key, now);
	int64_t wait_ip = fo_auth_login_wait(srv->auth, ip_key, now);
	if (wait_ip > wait)
		wait = wait_ip;
	if (wait > 0) {
		long long s = (long long)((wait + 999) / 1000);
		fo_resp_error(rq, 429, "too many failed sign-ins; try again in %lld s", s);
		fo_resp_header(rq, "Retry-After", fo_arena_printf(rq->a, "%lld", s));
		return 0;
	}

	struct fo_user u = {0};
	int rc = fo_store_user_by_email(srv->store, rq->a, email, &u);
	if (rc == FO_ENOTFOUND && strcmp(email, email_key + 6) != 0)
		rc = fo_store_user_by_email(srv->store, rq->a, email_key + 6, &u);
	bool ok;
	if (rc == 0) {
		ok = fo_auth_check_password(u.pw_hash, password);
	} else if (rc == FO_ENOTFOUND) {
		(void)fo__auth_dummy_check(password);
		ok = false;
	} else {
		store_failed(rq, "look the user up", rc);
		return 0;
	}
	if (!ok) {
		fo_auth_login_failed(srv->auth, email_key, now);
		fo_auth_login_failed(srv->auth, ip_key, now);
		fo_resp_error(rq, 401, "wrong email or password");
		return 0;
	}
	fo_auth_login_succeeded(srv->auth, email_key);

	char id[65], id_hash[65], csrf[65];
	fo_auth_random_hex(id);
	fo_auth_sha256_hex(id, id_hash);
	fo_auth_random_hex(csrf);
	int64_t ttl = srv->cfg->session_ttl_ms > 0 ? srv->cfg->session_ttl_ms : 7LL * 24 * 3600 * 1000;
	rc = fo_store_session_create(srv->store, id_hash, u.id, csrf, now + ttl);
	if (rc < 0) {
		store_failed(rq, "create the session", rc);
		return 0;
	}
	fo_resp_header(rq, "Set-Cookie", session_cookie(rq, id, ttl / 1000));
	fo_resp_header(rq, "Cache-Control", "no-store");
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '{');
	add_str(&b, "email", u.email);
	fo_buf_addch(&b, ',');
	add_str(&b, "name", u.name);
	fo_buf_addf(&b, ",\"admin\":%s,", u.admin ? "true" : "false");
	add_str(&b, "csrfToken", csrf);
	fo_buf_addch(&b, '}');
	fo_resp_json_buf(rq, 200, &b);
	sodium_memzero(id, sizeof id);
	return 0;
}

/* POST /account/logout: ends the cookie's session and clears the cookie. */
int fo_api_logout(struct fo_req *rq)
{
	if (rq->session_id) {
		int rc = fo_store_session_delete(rq->srv->store, rq->session_id);
		if (rc < 0 && rc != FO_ENOTFOUND) {
			store_failed(rq, "end the session", rc);
			return 0;
		}
	}
	fo_resp_json(rq, 200, "{\"message\":\"signed out\"}");
	fo_resp_header(rq, "Set-Cookie", session_cookie(rq, "", 0));
	return 0;
}

/* POST /account/register: {name, email, password} when the server allows registration. */
int fo_api_register(struct fo_req *rq)
{
	if (!rq->srv->cfg->registration) {
		fo_resp_error(rq, 403, "this server does not allow registration; ask an administrator for an account");
		return 0;
	}
	return create_account(rq, false);
}

/* GET /account/api: the signed-in user. */
int fo_api_whoami(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	user_json(&b, rq->user);
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

/* ---- users (administrators) ---- */

/* POST /account/users/api: {name, email, password, admin?}. */
int fo_api_user_create(struct fo_req *rq)
{
	return create_account(rq, true);
}

/* GET /account/users/api: every user, without password hashes. */
int fo_api_user_list(struct fo_req *rq)
{
	struct fo_user *users = NULL;
	size_t n = 0;
	int rc = fo_store_user_list(rq->srv->store, rq->a, &users, &n);
	if (rc < 0) {
		store_failed(rq, "list users", rc);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			fo_buf_addch(&b, ',');
		user_json(&b, &users[i]);
	}
	fo_buf_addch(&b, ']');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

/* ---- API tokens ---- */

static void token_json(struct fo_buf *b, const struct fo_token_rec *t, const char *value)
{
	fo_buf_addf(b, "{\"id\":%lld,", (long long)t->id);
	add_str(b, "label", t->label);
	if (value) {
		fo_buf_addch(b, ',');
		add_str(b, "token", value);
	}
	fo_buf_adds(b, ",\"createdAt\":");
	fo_api_add_time(b, t->created_at);
	if (!value) {
		fo_buf_adds(b, ",\"lastUsedAt\":");
		fo_api_add_time(b, t->last_used_at);
	}
	fo_buf_addch(b, '}');
}

/* POST /account/tokens/api: {label?} (JSON or a form) -> 201 with the token's value (shown only here). */
int fo_api_token_create(struct fo_req *rq)
{
	const char *label = NULL;
	if (ctype_is(rq, "application/x-www-form-urlencoded")) { /* a browser's form */
		label = fo_req_form(rq, "label");
	} else {
		json_t *j = body_object(rq, true);
		if (!j)
			return 0;
		bool bad = false;
		label = str_field(rq, j, "label", &bad);
		json_decref(j);
		if (bad)
			return 0;
	}
	if (!label || !*label)
		label = "token";
	if (strlen(label) > MAX_LABEL || has_control(label)) {
		fo_resp_error(rq, 400, "a token's label must have at most %d characters and no control characters",
			      MAX_LABEL);
		return 0;
	}
	char token[65], hash[65];
	fo_auth_random_hex(token);
	fo_auth_sha256_hex(token, hash);
	struct fo_token_rec t = {.user_id = rq->user->id, .label = label};
	int rc = fo_store_token_create(rq->srv->store, &t, hash);
	if (rc < 0) {
		store_failed(rq, "create the token", rc);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	token_json(&b, &t, token);
	fo_resp_header(rq, "Cache-Control", "no-store");
	fo_resp_json_buf(rq, 201, &b);
	sodium_memzero(token, sizeof token);
	return 0;
}

/* GET /account/tokens/api: the caller's tokens, never their values. */
int fo_api_token_list(struct fo_req *rq)
{
	struct fo_token_rec *tokens = NULL;
	size_t n = 0;
	int rc = fo_store_token_list(rq->srv->store, rq->a, rq->user->id, &tokens, &n);
	if (rc < 0) {
		store_failed(rq, "list tokens", rc);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			fo_buf_addch(&b, ',');
		token_json(&b, &tokens[i], NULL);
	}
	fo_buf_addch(&b, ']');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

/* DELETE /account/tokens/{id}/api: revokes one of the caller's tokens. */
int fo_api_token_delete(struct fo_req *rq)
{
	const char *sid = fo_req_param(rq, "id");
	int64_t id = 0;
	if (!sid || !fo_parse_i64(sid, &id) || id <= 0) {
		fo_resp_error(rq, 404, "no API token '%s'", sid ? sid : "");
		return 0;
	}
	int rc = fo_store_token_delete(rq->srv->store, rq->user->id, id);
	if (rc == FO_ENOTFOUND) {
		fo_resp_error(rq, 404, "no API token '%s'", sid);
		return 0;
	}
	if (rc < 0) {
		store_failed(rq, "revoke the token", rc);
		return 0;
	}
	fo_resp_json(rq, 200, "{\"message\":\"token revoked\"}");
	return 0;
}

/* ---- secrets ---- */

/* The {secret} parameter when it is [A-Za-z_][A-Za-z0-9_]{0,63}; else NULL and a 400. */
static const char *secret_name(struct fo_req *rq)
{
	const char *name = fo_req_param(rq, "secret");
	bool ok = name && (isalpha((unsigned char)name[0]) || name[0] == '_') && strlen(name) <= MAX_SECRET_NAME;
	for (const char *p = name; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '_';
	if (!ok) {
		fo_resp_error(rq, 400,
			      "'%s' is not a valid secret name: a letter or '_', then letters, digits or '_' "
			      "(at most %d)",
			      name ? name : "", MAX_SECRET_NAME);
		return NULL;
	}
	return name;
}

/* GET /account/secrets/api: {"secrets": [names]} of the caller. */
int fo_api_secret_list(struct fo_req *rq)
{
	const char **names = NULL;
	size_t n = 0;
	int rc = fo_store_secret_list(rq->srv->store, rq->a, rq->user->email, &names, NULL, &n);
	if (rc < 0) {
		store_failed(rq, "list secrets", rc);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "{\"secrets\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fo_buf_addch(&b, ',');
		fo_buf_add_json_str(&b, names[i], strlen(names[i]));
	}
	fo_buf_adds(&b, "]}");
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

/* PUT /account/secrets/{secret}/api: {"value"} (or a text/plain body) for the caller. */
int fo_api_secret_put(struct fo_req *rq)
{
	const char *name = secret_name(rq);
	if (!name)
		return 0;
	const char *value = NULL;
	size_t len = 0;
	if (ctype_is(rq, "text/plain")) {
		value = rq->body.s;
		len = rq->body.len;
		if (strlen(value) != len) {
			fo_resp_error(rq, 400, "a secret's value may not hold NUL bytes");
			return 0;
		}
	} else {
		json_t *j = body_object(rq, false);
		if (!j)
			return 0;
		json_t *v = json_object_get(j, "value");
		if (!json_is_string(v)) {
			json_decref(j);
			fo_resp_error(rq, 400, "send {\"value\": \"...\"} (a string), or the value as text/plain");
			return 0;
		}
		len = json_string_length(v);
		value = fo_arena_strndup(rq->a, json_string_value(v), len);
		json_decref(j);
	}
	if (len > MAX_SECRET_VALUE) {
		fo_resp_error(rq, 413, "a secret's value may have at most %d bytes", MAX_SECRET_VALUE);
		return 0;
	}
	int rc = fo_store_secret_put(rq->srv->store, rq->user->email, name, value);
	if (rc < 0) {
		store_failed(rq, "store the secret", rc);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '{');
	add_str(&b, "name", name);
	fo_buf_addch(&b, '}');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

/* DELETE /account/secrets/{secret}/api: 200, or 404 when the caller has no such secret. */
int fo_api_secret_delete(struct fo_req *rq)
{
	const char *name = secret_name(rq);
	if (!name)
		return 0;
	int rc = fo_store_secret_delete(rq->srv->store, rq->user->email, name);
	if (rc == FO_ENOTFOUND) {
		fo_resp_error(rq, 404, "no secret '%s'", name);
		return 0;
	}
	if (rc < 0) {
		store_failed(rq, "delete the secret", rc);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '{');
	add_str(&b, "name", name);
	fo_buf_adds(&b, ",\"message\":\"deleted\"}");
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}
