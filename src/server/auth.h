/*
 * auth.h: users' credentials and who a request is. Passwords are hashed with argon2id
 * (libsodium crypto_pwhash_str, interactive limits); API tokens and session ids are random
 * (32 bytes, hex) and only their SHA-256 is stored. A browser signs in with a form post to
 * /account/login and gets a session cookie `fallout_session` (HttpOnly, SameSite=Lax) and a
 * CSRF token; every unsafe request (POST, PUT, DELETE) authenticated by that cookie must
 * carry the token in the X-CSRF-Token header or a `csrf` form field. API clients send
 * `Authorization: Bearer <token>` (no CSRF needed: browsers never add it by themselves).
 * In single-user mode every request is the admin from FALLOUT_ADMIN_CREDS (or a user
 * "fallout@localhost" created at start).
 */
#ifndef FO_SERVER_AUTH_H
#define FO_SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_err;
struct fo_req;
struct fo_server;
struct fo_arena;

#define FO_SESSION_COOKIE "fallout_session"

/* Initialises libsodium. Returns 0 or an error. */
int fo_auth_init(struct fo_err *err);
/* Hashes password into out (size >= 128). Returns 0 or FO_ENOMEM. */
int fo_auth_hash_password(const char *password, char *out, size_t n);
/* True when password matches hash. */
bool fo_auth_check_password(const char *hash, const char *password);
/* Writes a new random secret (64 hex characters) into out[65]. */
void fo_auth_random_hex(char out[65]);
/* Writes the hex SHA-256 of s into out[65]. */
void fo_auth_sha256_hex(const char *s, char out[65]);

/* The login rate limiter: failures per key within the configured window. */
struct fo_auth;
struct fo_auth *fo_auth_new(int64_t window_ms, int64_t max_failures);
void fo_auth_free(struct fo_auth *au);
/* 0 when key may try now; otherwise the milliseconds to wait. */
int64_t fo_auth_login_wait(struct fo_auth *au, const char *key, int64_t now_ms);
void fo_auth_login_failed(struct fo_auth *au, const char *key, int64_t now_ms);
void fo_auth_login_succeeded(struct fo_auth *au, const char *key);

/*
 * Works out who sent rq (rq->user, rq->session_id) from single-user mode, the Bearer token
 * or the session cookie, and checks the route's need and CSRF. Returns 0 to go on, or sets
 * the response (401 no or bad credentials, 403 not an admin or a bad CSRF token) and
 * returns -1.
 */
int fo_auth_request(struct fo_req *rq);

/* Creates the first admin from cfg->admin_creds (and the single-user user) when absent. */
int fo_auth_bootstrap(struct fo_server *srv, struct fo_err *err);

#endif
