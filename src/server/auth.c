/*
 * auth.c: who a request is, and the secrets that prove it. Passwords are argon2id hashes
 * (libsodium crypto_pwhash_str, interactive limits: ~64 MiB and a few tens of ms each, so
 * at most AUTH_MAX_HASHING run at once and a burst of sign-ins cannot take all memory);
 * API tokens and session ids are 32 random bytes in hex of which only the SHA-256 is
 * stored. fo_auth_request resolves single-user mode, a Bearer token or the session cookie
 * (with its CSRF token for unsafe methods) and enforces the route's need. The sign-in rate
 * limiter keeps, per key ("email:..." or "ip:..."), the times of the last max failures in a
 * chained hash table under a mutex; keys whose failures all left the window are evicted and
 * the table never holds more than AUTH_MAX_KEYS keys (the stalest are dropped first).
 */
#include "util/common.h"

#include <pthread.h>
#include <sodium.h>

#include "server/auth.h"
#include "server/auth_internal.h"
#include "server/http.h"
#include "server/server.h"
#include "server/store.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/strutil.h"

#define AUTH_MAX_KEYS 10000
#define AUTH_MAX_KEY_LEN 256 /* longer keys are cut: bounded memory per key */
#define AUTH_BUCKETS 4096
#define AUTH_MAX_HASHING 4 /* argon2id computations at once */
#define SINGLE_USER_EMAIL "fallout@localhost"
#define SINGLE_USER_NAME "fallout"

/* ---- secrets and hashes ---- */

static pthread_mutex_t hashing_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hashing_cv = PTHREAD_COND_INITIALIZER;
static int hashing; /* argon2id computations running */

static void hashing_enter(void)
{
	pthread_mutex_lock(&hashing_mu);
	while (hashing >= AUTH_MAX_HASHING)
		pthread_cond_wait(&hashing_cv, &hashing_mu);
	hashing++;
	pthread_mutex_unlock(&hashing_mu);
}

static void hashing_leave(void)
{
	pthread_mutex_lock(&hashing_mu);
	hashing--;
	pthread_cond_signal(&hashing_cv);
	pthread_mutex_unlock(&hashing_mu);
}

/* Initialises libsodium. Returns 0 or FO_EUNSUPPORTED in err. */
int fo_auth_init(struct fo_err *err)
{
	if (sodium_init() < 0)
		return fo_err_set(err, FO_EUNSUPPORTED, "cannot initialise libsodium");
	return 0;
}

/* Hashes password (argon2id) into out (n >= crypto_pwhash_STRBYTES, 128). Returns 0,
 * FO_EINVAL when out is too small, or FO_ENOMEM. */
int fo_auth_hash_password(const char *password, char *out, size_t n)
{
	if (n < crypto_pwhash_STRBYTES)
		return FO_EINVAL;
	hashing_enter();
	int rc = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				   crypto_pwhash_MEMLIMIT_INTERACTIVE);
	hashing_leave();
	return rc == 0 ? 0 : FO_ENOMEM;
}

/* True when password matches hash (a crypto_pwhash_str string); false for NULLs. */
bool fo_auth_check_password(const char *hash, const char *password)
{
	if (!hash || !password || !*hash)
		return false;
	hashing_enter();
	int rc = crypto_pwhash_str_verify(hash, password, strlen(password));
	hashing_leave();
	return rc == 0;
}

/* Writes 32 random bytes as 64 hex characters (and a NUL) into out. */
void fo_auth_random_hex(char out[65])
{
	unsigned char bytes[32];
	randombytes_buf(bytes, sizeof bytes);
	sodium_bin2hex(out, 65, bytes, sizeof bytes);
	sodium_memzero(bytes, sizeof bytes);
}

/* Writes the hex SHA-256 of the string s into out[65]. */
void fo_auth_sha256_hex(const char *s, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, h, sizeof h);
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void dummy_init(void)
{
	char pw[65];
	fo_auth_random_hex(pw);
	if (fo_auth_hash_password(pw, dummy_hash, sizeof dummy_hash) < 0)
		dummy_hash[0] = '\0';
}

bool fo__auth_dummy_check(const char *password)
{
	pthread_once(&dummy_once, dummy_init);
	bool matched = fo_auth_check_password(dummy_hash, password ? password : "");
	return strncmp(dummy_hash, "$argon2id$", 10) == 0 && !matched;
}

/* ---- account rules and FALLOUT_ADMIN_CREDS ---- */

/* True when email is [A-Za-z0-9._%+-@]+ with one '@' not at either end. */
bool fo__auth_valid_email(const char *email)
{
	if (!email)
		return false;
	size_t n = strlen(email);
	if (n < 3 || n > FO_AUTH_MAX_EMAIL)
		return false;
	const char *at = strchr(email, '@');
	if (!at || at == email || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	for (const char *p = email; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '_' || c == '%' || c == '+' || c == '-' || c == '@';
		if (!ok)
			return false;
	}
	return true;
}

/* Splits "name:email:password" at the first two colons (see auth_internal.h). */
int fo__auth_parse_creds(const char *creds, struct fo_arena *a, const char **name, const char **email,
			 const char **password, struct fo_err *err)
{
	const char *c1 = creds ? strchr(creds, ':') : NULL;
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || c1 == creds || c2 == c1 + 1 || c2[1] == '\0')
		return fo_err_set(err, FO_EINVAL,
				  "malformed FALLOUT_ADMIN_CREDS: expected 'name:email:password', each part non-empty");
	char *e = fo_arena_strndup(a, c1 + 1, (size_t)(c2 - c1 - 1));
	if (!fo__auth_valid_email(e))
		return fo_err_set(err, FO_EINVAL, "malformed FALLOUT_ADMIN_CREDS: '%s' is not a valid email", e);
	*name = fo_arena_strndup(a, creds, (size_t)(c1 - creds));
	*email = e;
	*password = fo_arena_strdup(a, c2 + 1);
	return 0;
}

/* ---- the sign-in rate limiter ---- */

struct limit_entry {
	struct limit_entry *next; /* in its bucket's chain */
	char *key;		  /* owned */
	size_t n;		  /* failures held in ts (at most the limiter's max) */
	int64_t ts[];		  /* failure times, oldest first */
};

struct fo_auth {
	pthread_mutex_t mu;
	int64_t window_ms;
	size_t max; /* failures allowed per window; 0: no limit */
	struct limit_entry *buckets[AUTH_BUCKETS];
	size_t nkeys;
};

/* Returns a new rate limiter allowing max_failures per window_ms per key (owned; free
 * with fo_auth_free). max_failures <= 0 turns limiting off. */
struct fo_auth *fo_auth_new(int64_t window_ms, int64_t max_failures)
{
	struct fo_auth *au = fo_calloc(1, sizeof *au);
	pthread_mutex_init(&au->mu, NULL);
	au->window_ms = window_ms > 0 ? window_ms : 0;
	au->max = max_failures > 0 && au->window_ms > 0 ? (size_t)max_failures : 0;
	return au;
}

/* Frees au and every key it holds; NULL is fine. */
void fo_auth_free(struct fo_auth *au)
{
	if (!au)
		return;
	for (size_t i = 0; i < AUTH_BUCKETS; i++) {
		struct limit_entry *e = au->buckets[i];
		while (e) {
			struct limit_entry *next = e->next;
			fo_free(e->key);
			fo_free(e);
			e = next;
		}
	}
	pthread_mutex_destroy(&au->mu);
	fo_free(au);
}

static size_t key_len(const char *key)
{
	return strnlen(key, AUTH_MAX_KEY_LEN);
}

static size_t bucket_of(const char *key, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h % AUTH_BUCKETS);
}

/* The entry of key, and the link pointing at it (for removal); NULL when absent. */
static struct limit_entry *find(struct fo_auth *au, const char *key, struct limit_entry ***link)
{
	size_t n = key_len(key);
	struct limit_entry **l = &au->buckets[bucket_of(key, n)];
	for (; *l; l = &(*l)->next) {
		if (strlen((*l)->key) == n && memcmp((*l)->key, key, n) == 0) {
			if (link)
				*link = l;
			return *l;
		}
	}
	return NULL;
}

/* Drops the failures of e that left the window at now. */
static void prune(const struct fo_auth *au, struct limit_entry *e, int64_t now)
{
	size_t k = 0;
	while (k < e->n && e->ts[k] + au->window_ms <= now)
		k++;
	if (k) {
		memmove(e->ts, e->ts + k, (e->n - k) * sizeof e->ts[0]);
		e->n -= k;
	}
}

static void unlink_free(struct fo_auth *au, struct limit_entry **link)
{
	struct limit_entry *e = *link;
	*link = e->next;
	fo_free(e->key);
	fo_free(e);
	au->nkeys--;
}

/* The time of e's last failure. */
static int64_t last_failure(const struct limit_entry *e)
{
	return e->ts[e->n - 1];
}

/* Makes room for more keys: evicts every key with nothing left in the window, then, if the
 * table is still full, the stalest keys (last failure in the oldest eighth of the span), so
 * a flood of new keys costs one sweep per many insertions rather than one per insertion. */
static void make_room(struct fo_auth *au, int64_t now)
{
	int64_t oldest = INT64_MAX, newest = INT64_MIN;
	for (size_t i = 0; i < AUTH_BUCKETS; i++) {
		struct limit_entry **l = &au->buckets[i];
		while (*l) {
			prune(au, *l, now);
			if ((*l)->n == 0) {
				unlink_free(au, l);
				continue;
			}
			int64_t t = last_failure(*l);
			oldest = t < oldest ? t : oldest;
			newest = t > newest ? t : newest;
			l = &(*l)->next;
		}
	}
	if (au->nkeys < AUTH_MAX_KEYS)
		return;
	int64_t cutoff = oldest + (newest - oldest) / 8;
	for (size_t i = 0; i < AUTH_BUCKETS; i++) {
		struct limit_entry **l = &au->buckets[i];
		while (*l) {
			if (last_failure(*l) <= cutoff)
				unlink_free(au, l);
			else
				l = &(*l)->next;
		}
	}
}

/* 0 when key may try to sign in at now_ms; else the milliseconds until it may. */
int64_t fo_auth_login_wait(struct fo_auth *au, const char *key, int64_t now_ms)
{
	if (!au || au->max == 0)
		return 0;
	int64_t wait = 0;
	pthread_mutex_lock(&au->mu);
	struct limit_entry **link = NULL;
	struct limit_entry *e = find(au, key, &link);
	if (e) {
		prune(au, e, now_ms);
		if (e->n == 0)
			unlink_free(au, link);
		else if (e->n >= au->max) {
			wait = e->ts[e->n - au->max] + au->window_ms - now_ms;
			if (wait < 1)
				wait = 1;
		}
	}
	pthread_mutex_unlock(&au->mu);
	return wait;
}

/* Counts a failed sign-in of key at now_ms. */
void fo_auth_login_failed(struct fo_auth *au, const char *key, int64_t now_ms)
{
	if (!au || au->max == 0)
		return;
	pthread_mutex_lock(&au->mu);
	struct limit_entry *e = find(au, key, NULL);
	if (!e) {
		if (au->nkeys >= AUTH_MAX_KEYS)
			make_room(au, now_ms);
		size_t n = key_len(key);
		e = fo_calloc(1, sizeof *e + au->max * sizeof e->ts[0]);
		e->key = fo_strndup(key, n);
		size_t b = bucket_of(key, n);
		e->next = au->buckets[b];
		au->buckets[b] = e;
		au->nkeys++;
	}
	prune(au, e, now_ms);
	if (e->n == au->max) { /* only the last max failures matter */
		memmove(e->ts, e->ts + 1, (e->n - 1) * sizeof e->ts[0]);
		e->n--;
	}
	e->ts[e->n++] = now_ms;
	pthread_mutex_unlock(&au->mu);
}

/* Forgets key's failures (after a successful sign-in). */
void fo_auth_login_succeeded(struct fo_auth *au, const char *key)
{
	if (!au)
		return;
	pthread_mutex_lock(&au->mu);
	struct limit_entry **link = NULL;
	if (find(au, key, &link))
		unlink_free(au, link);
	pthread_mutex_unlock(&au->mu);
}

/* ---- requests ---- */

/* The single-user mode's user's email (arena-owned), from the admin creds or the default. */
static const char *single_user_email(struct fo_req *rq)
{
	const char *name, *email, *password;
	const char *creds = rq->srv->cfg->admin_creds;
	if (creds && *creds && fo__auth_parse_creds(creds, rq->a, &name, &email, &password, NULL) == 0)
		return email;
	return SINGLE_USER_EMAIL;
}

static void deny_unauthenticated(struct fo_req *rq, const char *message)
{
	fo_resp_error(rq, 401, "%s", message);
	fo_resp_header(rq, "WWW-Authenticate", "Bearer realm=\"fallout\"");
}

static bool is_unsafe(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "OPTIONS") != 0;
}

/* True when rq carries the session's CSRF token (header, or a `csrf` form field). */
static bool csrf_ok(struct fo_req *rq, const char *expected)
{
	if (!expected || !*expected)
		return false;
	const char *got = fo_req_header(rq, "X-CSRF-Token");
	if (!got) {
		const char *ct = fo_req_header(rq, "Content-Type");
		if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
			got = fo_req_form(rq, "csrf");
	}
	if (!got)
		return false;
	size_t n = strlen(expected);
	return strlen(got) == n && sodium_memcmp(got, expected, n) == 0;
}

/* Looks a user up into a new arena struct; NULL when absent. */
static struct fo_user *user_by_email(struct fo_req *rq, const char *email)
{
	struct fo_user *u = FO_ANEW(rq->a, struct fo_user);
	return fo_store_user_by_email(rq->srv->store, rq->a, email, u) == 0 ? u : NULL;
}

/* Works out rq's user from the Bearer token or session cookie; see auth.h. */
int fo_auth_request(struct fo_req *rq)
{
	const struct fo_server_config *cfg = rq->srv->cfg;
	enum fo_auth_need need = rq->route ? rq->route->auth : FO_AUTH_USER;
	rq->user = NULL;
	rq->session_id = NULL;

	if (cfg->auth_mode == FO_AUTH_MODE_SINGLE_USER) {
		const char *email = single_user_email(rq);
		rq->user = user_by_email(rq, email);
		if (!rq->user && need != FO_AUTH_NONE) {
			fo_resp_error(rq, 500, "single-user mode: no user '%s' (the server did not create it)", email);
			return -1;
		}
		return 0; /* the admin: any route, no CSRF */
	}

	const char *authz = fo_req_header(rq, "Authorization");
	const char *cookie = fo_req_cookie(rq, FO_SESSION_COOKIE);
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		const char *token = authz + 7;
		while (*token == ' ')
			token++;
		char hash[65];
		fo_auth_sha256_hex(token, hash);
		struct fo_user *u = FO_ANEW(rq->a, struct fo_user);
		if (*token && fo_store_user_by_token_hash(rq->srv->store, rq->a, hash, u) == 0) {
			rq->user = u;
		} else if (need != FO_AUTH_NONE) {
			fo_resp_error(rq, 401, "unknown or revoked API token");
			fo_resp_header(rq, "WWW-Authenticate", "Bearer realm=\"fallout\", error=\"invalid_token\"");
			return -1;
		}
	} else if (cookie && *cookie) {
		char hash[65];
		fo_auth_sha256_hex(cookie, hash);
		int64_t user_id = 0;
		const char *csrf = NULL;
		struct fo_user *u = FO_ANEW(rq->a, struct fo_user);
		bool found = fo_store_session_get(rq->srv->store, rq->a, hash, fo_now_ms(), &user_id, &csrf) == 0 &&
			     fo_store_user_by_id(rq->srv->store, rq->a, user_id, u) == 0;
		bool login =
		    strcmp(rq->method, "POST") == 0 && rq->route && strcmp(rq->route->path, "/account/login") == 0;
		if (!found) {
			if (need != FO_AUTH_NONE) {
				deny_unauthenticated(rq, "your session has ended; sign in again");
				return -1;
			}
		} else if (is_unsafe(rq->method) && !login && !csrf_ok(rq, csrf)) {
			/* without the token the cookie proves nothing: anonymous where that is enough */
			if (need != FO_AUTH_NONE) {
				fo_resp_error(rq, 403, "missing or wrong CSRF token");
				return -1;
			}
		} else {
			rq->user = u;
			rq->session_id = fo_arena_strdup(rq->a, hash);
		}
	}

	if (need == FO_AUTH_NONE)
		return 0;
	if (!rq->user) {
		deny_unauthenticated(rq, "sign in, or send an API token (Authorization: Bearer ...)");
		return -1;
	}
	if (need == FO_AUTH_ADMIN && !rq->user->admin) {
		fo_resp_error(rq, 403, "only an administrator may use '%s %s'", rq->method,
			      rq->route ? rq->route->path : rq->path);
		return -1;
	}
	return 0;
}

/* Creates a user unless one with that email exists. */
static int ensure_user(struct fo_server *srv, const char *name, const char *email, const char *password,
		       struct fo_err *err)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_user u = {0};
	int rc = fo_store_user_by_email(srv->store, a, email, &u);
	if (rc == 0 || (rc != FO_ENOTFOUND && rc < 0)) {
		fo_arena_free(a);
		return rc == 0 ? 0 : fo_err_set(err, rc, "cannot look up user '%s': %s", email, fo_strerror(rc));
	}
	char hash[crypto_pwhash_STRBYTES];
	rc = fo_auth_hash_password(password, hash, sizeof hash);
	if (rc < 0) {
		fo_arena_free(a);
		return fo_err_set(err, rc, "cannot hash the password of '%s': %s", email, fo_strerror(rc));
	}
	u = (struct fo_user){.name = name, .email = email, .pw_hash = hash, .admin = true};
	rc = fo_store_user_create(srv->store, &u, err);
	if (rc == FO_EEXISTS) /* another server created it meanwhile */
		rc = 0;
	else if (rc < 0)
		fo_err_set(err, rc, "cannot create user '%s': %s", email, fo_strerror(rc));
	fo_arena_free(a);
	return rc;
}

/* Creates the admin from cfg->admin_creds, and in single-user mode without them the user
 * "fallout@localhost", when absent. Returns 0, or FO_EINVAL (malformed creds) or a store
 * error in err. */
int fo_auth_bootstrap(struct fo_server *srv, struct fo_err *err)
{
	const struct fo_server_config *cfg = srv->cfg;
	if (cfg->admin_creds && *cfg->admin_creds) {
		struct fo_arena *a = fo_arena_new();
		const char *name, *email, *password;
		int rc = fo__auth_parse_creds(cfg->admin_creds, a, &name, &email, &password, err);
		if (rc == 0)
			rc = ensure_user(srv, name, email, password, err);
		fo_arena_free(a);
		return rc;
	}
	if (cfg->auth_mode == FO_AUTH_MODE_SINGLE_USER) {
		char password[65];
		fo_auth_random_hex(password);
		int rc = ensure_user(srv, SINGLE_USER_NAME, SINGLE_USER_EMAIL, password, err);
		sodium_memzero(password, sizeof password);
		return rc;
	}
	return 0;
}
