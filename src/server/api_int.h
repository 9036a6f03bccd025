/*
 * api_int.h: helpers shared by the tests and runs handlers (api_tests.c, api_runs.c) beyond
 * the pinned ones in api.h: diagnostics as JSON, test-name checks, the definition size limit
 * and the loader options every handler uses. Implemented in api_common.c.
 */
#ifndef FO_SERVER_API_INT_H
#define FO_SERVER_API_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"
#include "util/buf.h"

struct fo_diags;
struct fo_def_opts;
struct fo_ynode;

/* Media type of the YAML responses. */
#define FO_API_YAML_TYPE "application/x-yaml; charset=utf-8"

/* Appends every diagnostic of d whose severity is sev (or all of them when all) as a JSON
 * array [{file, line, col, message, severity}]. */
void fo__api_add_diags(struct fo_buf *b, const struct fo_diags *d, bool all, int sev);

/* True when name is a valid test name: [0-9a-zA-Z._-]+, and not "." or "..". */
bool fo__api_valid_name(const char *name);

/* The largest definition accepted (the server's max_definition, default 1 MiB). */
size_t fo__api_max_definition(const struct fo_req *rq);

/* Fills o with the server's loader options (library) and params (may be NULL). */
void fo__api_def_opts(const struct fo_req *rq, struct fo_def_opts *o, const struct fo_ynode *params);

/* Sets Location to the server's URL followed by the printf path. */
void fo__api_location(struct fo_req *rq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Replaces the values of owner's secrets in b from byte start on with "<redacted>": in
 * every string of the JSON value there when json, else in the plain text. Values shorter
 * than 4 bytes are left alone.
 */
void fo__api_redact(struct fo_req *rq, const char *owner, struct fo_buf *b, size_t start, bool json);

#endif
