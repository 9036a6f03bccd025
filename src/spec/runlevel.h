/*
 * runlevel.h: node-group runlevels (FALLOUT-FORMAT.md section 2). The states, their
 * names, and which are stable. The engine's state machine builds on this table.
 */
#ifndef FO_RUNLEVEL_H
#define FO_RUNLEVEL_H

#include <stdbool.h>

#define FO_RUNLEVEL_MAP(XX)                                   \
	XX(UNKNOWN, false)                                    \
	XX(FAILED, false)                                     \
	XX(DESTROYED, true)                                   \
	XX(RESERVING, false)                                  \
	XX(RESERVED, true)                                    \
	XX(CREATING, false)                                   \
	XX(CREATED, true)                                     \
	XX(PREPARING, false)                                  \
	XX(STOPPED, true)                                     \
	XX(STARTING, false)                                   \
	XX(STARTED_SERVICES_UNCONFIGURED, true)               \
	XX(STARTED_CONFIGURING_SERVICES, false)               \
	XX(STARTED_SERVICES_CONFIGURED, true)                 \
	XX(STARTED_STARTING_SERVICES, false)                  \
	XX(STARTED_SERVICES_RUNNING, true)                    \
	XX(STARTED_STOPPING_SERVICES, false)                  \
	XX(STARTED_UNCONFIGURING_SERVICES, false)             \
	XX(STOPPING, false)                                   \
	XX(DESTROYING, false)

enum fo_runlevel {
#define XX(name, stable) FO_RL_##name,
	FO_RUNLEVEL_MAP(XX)
#undef XX
	FO__RL_COUNT
};

/* "STARTED_SERVICES_RUNNING" etc. */
const char *fo_runlevel_name(enum fo_runlevel rl);
/* True for the stable runlevels (DESTROYED ... STARTED_SERVICES_RUNNING). */
bool fo_runlevel_is_stable(enum fo_runlevel rl);
/* Parses a stable runlevel name, ignoring case. Returns 0 or FO_ENOTFOUND. */
int fo_runlevel_parse(const char *s, enum fo_runlevel *out);
/* The stable runlevel names, NULL-terminated (for suggestions and docs). */
extern const char *const fo_stable_runlevel_names[];

/* Node-group roles. */
enum fo_role { FO_ROLE_SERVER, FO_ROLE_CLIENT, FO_ROLE_OBSERVER, FO_ROLE_CONTROLLER, FO__ROLE_COUNT };
/* "server", "client", "observer", "controller". */
const char *fo_role_name(enum fo_role role);
/* Parses a role name, ignoring case. Returns 0 or FO_ENOTFOUND. */
int fo_role_parse(const char *s, enum fo_role *out);

#endif
