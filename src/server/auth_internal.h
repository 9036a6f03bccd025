/*
 * auth_internal.h: what auth.c shares with api_account.c and its unit tests but not with
 * the rest of the server: parsing FALLOUT_ADMIN_CREDS, the rules for emails, names and
 * passwords of accounts, and the dummy password check that keeps a sign-in with an
 * unknown email as slow as one with a wrong password.
 */
#ifndef FO_SERVER_AUTH_INTERNAL_H
#define FO_SERVER_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct fo_arena;
struct fo_err;

/* Shortest password an account may have (admin creds from the environment excepted). */
#define FO_AUTH_MIN_PASSWORD 8
/* Longest email and name an account may have. */
#define FO_AUTH_MAX_EMAIL 254
#define FO_AUTH_MAX_NAME 200

/*
 * Splits creds ("name:email:password"; the password may hold ':') at its first two colons
 * into arena-owned strings. Returns 0, or FO_EINVAL with a message naming
 * FALLOUT_ADMIN_CREDS in err (never echoing the password) when a part is empty or the
 * email is not valid.
 */
int fo__auth_parse_creds(const char *creds, struct fo_arena *a, const char **name, const char **email,
			 const char **password, struct fo_err *err);

/* True when email has an '@' with something on both sides, at most FO_AUTH_MAX_EMAIL
 * bytes, all of [A-Za-z0-9._%+-@] (an email appears in URL paths). */
bool fo__auth_valid_email(const char *email);

/* Verifies password against a fixed argon2id hash of a random password and throws the
 * answer away: the same work as a real check, for unknown emails. Returns true when that
 * work was done (the hash exists and the password did not match it); false means the
 * check was instant, which would tell an attacker the email is unknown. */
bool fo__auth_dummy_check(const char *password);

#endif
