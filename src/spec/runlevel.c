/*
 * runlevel.c: names of runlevels and roles.
 */
#include "util/common.h"

#include "spec/runlevel.h"
#include "util/err.h"

static const struct {
	const char *name;
	bool stable;
} levels[] = {
#define XX(name, stable) {#name, stable},
	FO_RUNLEVEL_MAP(XX)
#undef XX
};
_Static_assert(FO_ARRAY_LEN(levels) == FO__RL_COUNT, "one name per runlevel");

const char *const fo_stable_runlevel_names[] = {
	"DESTROYED", "RESERVED", "CREATED", "STOPPED", "STARTED_SERVICES_UNCONFIGURED",
	"STARTED_SERVICES_CONFIGURED", "STARTED_SERVICES_RUNNING", NULL,
};

static const char *const roles[] = {"server", "client", "observer", "controller"};
_Static_assert(FO_ARRAY_LEN(roles) == FO__ROLE_COUNT, "one name per role");

const char *fo_runlevel_name(enum fo_runlevel rl)
{
	return (unsigned)rl < FO__RL_COUNT ? levels[rl].name : "?";
}

bool fo_runlevel_is_stable(enum fo_runlevel rl)
{
	return (unsigned)rl < FO__RL_COUNT && levels[rl].stable;
}

int fo_runlevel_parse(const char *s, enum fo_runlevel *out)
{
	for (unsigned i = 0; i < FO__RL_COUNT; i++) {
		if (levels[i].stable && strcasecmp(levels[i].name, s) == 0) {
			*out = (enum fo_runlevel)i;
			return 0;
		}
	}
	return FO_ENOTFOUND;
}

const char *fo_role_name(enum fo_role role)
{
	return (unsigned)role < FO__ROLE_COUNT ? roles[role] : "?";
}

int fo_role_parse(const char *s, enum fo_role *out)
{
	for (unsigned i = 0; i < FO__ROLE_COUNT; i++) {
		if (strcasecmp(roles[i], s) == 0) {
			*out = (enum fo_role)i;
			return 0;
		}
	}
	return FO_ENOTFOUND;
}
