/*
 * config.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/server.h"

int fo_server_config_load(struct fo_server_config *c, const char *path, struct fo_diags *d)
{
	(void)c;
	(void)path;
	(void)d;
	return FO_EUNSUPPORTED;
}

void fo_server_config_release(struct fo_server_config *c)
{
	(void)c;
}
