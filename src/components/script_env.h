/*
 * script_env.h: the environment the user's scripts run with, shared by the `bash` module
 * and the `script` configuration manager: NAME=VALUE strings, each name once, starting
 * from HOME, PATH and fallout's own FALLOUT_* variables.
 */
#ifndef FO_SCRIPT_ENV_H
#define FO_SCRIPT_ENV_H

#include <stddef.h>

/* NAME=VALUE strings, each name once (the last one set wins). Zero-initialise. */
struct fo_script_env {
	char **v; /* owned strings */
	size_t n, cap;
};

/* Sets name (borrowed) to value (borrowed; NULL is empty), replacing an earlier value. */
void fo_script_env_set(struct fo_script_env *e, const char *name, const char *value);

/* Appends copies of every entry of from (whose names must not be in to yet). */
void fo_script_env_copy(struct fo_script_env *to, const struct fo_script_env *from);

/* Frees every entry and resets e to empty. */
void fo_script_env_release(struct fo_script_env *e);

/*
 * Sets HOME (when set here), PATH (a default when unset) and every FALLOUT_* variable of
 * fallout's own environment. Reads the environment: call it before node threads start.
 */
void fo_script_env_add_base(struct fo_script_env *e);

#endif
