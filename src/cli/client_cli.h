/*
 * client_cli.h: what the client commands (login, test, run) share: their option parser
 * (long options with a value or a flag, positional arguments, the --server and --token
 * every one of them takes), setting up the client from the configuration, and the words
 * they use when the server refuses something. `serve` uses the option parser too.
 */
#ifndef FO_CLI_CLIENT_CLI_H
#define FO_CLI_CLIENT_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/client.h"

/* One option: "--name VALUE" (also "--name=VALUE") when value is set, else a flag. */
struct fo_cli_opt {
	const char *name;    /* "--owner"; a second spelling may follow in alias ("-o") */
	const char *alias;   /* may be NULL */
	const char **value;  /* where the value goes (borrowed from argv) */
	bool *flag;          /* set when the option is present */
};

/* The options every subcommand of a client command takes (values borrowed from argv). */
struct fo_cli_common {
	const char *server, *token, *owner;
};
/* Their entries of an option table, for c (a struct fo_cli_common). */
#define FO_CLI_COMMON_OPTS(c)                                                                  \
	{"--server", NULL, &(c).server, NULL}, {"--token", NULL, &(c).token, NULL},            \
	{                                                                                      \
		"--owner", NULL, &(c).owner, NULL                                              \
	}

/*
 * Parses argv[1..argc) (argv[0] is the subcommand) against opts; other arguments go to
 * pos (at most maxpos, count in *npos). "--" ends the options. Returns 0, or prints a
 * usage error for cmd and returns FO_EXIT_USAGE.
 */
int fo_cli_parse(const char *cmd, int argc, char **argv, const struct fo_cli_opt *opts, size_t nopts,
		 const char **pos, size_t maxpos, size_t *npos);

/*
 * Sets up c from --server/--token (may be NULL), the environment and the config file.
 * Returns 0, or prints why there is no server or token and how to sign in, and returns
 * FO_EXIT_USAGE (c is then released).
 */
int fo_cli_client(struct fo_client *c, const char *cmd, const char *server, const char *token);

/* Prints "fallout: WHAT: <the server's message>", WHAT formatted from fmt (printf), with a
 * hint to sign in again on 401, and returns FO_EXIT_FAILED. Borrows resp. */
int fo_cli_refused(const struct fo_client_resp *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "fallout: <err's message>" and returns FO_EXIT_FAILED. */
int fo_cli_unreachable(const struct fo_err *err);
/* Writes resp's body to stdout as it came (--json), ending it with a newline if it has
 * none. Borrows resp. */
void fo_cli_print_body(const struct fo_client_resp *resp);
/* Returns resp's body parsed as JSON (owned: json_decref), or NULL. */
json_t *fo_cli_json(const struct fo_client_resp *resp);
/* Appends "/tests/NAME" + suffix, or "/tests/OWNER/NAME" + suffix when owner is set, each
 * segment escaped (fo_client_escape). Borrows everything. */
void fo_cli_test_path(struct fo_buf *b, const char *owner, const char *name, const char *suffix);
/* Writes an ISO-8601 time as "2026-11-30 10:07:40" into out (size n); "-" for NULL. */
void fo_cli_time(const char *iso, char *out, size_t n);

#endif
