/*
 * server.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/server.h"

int fo_server_start(const struct fo_server_config *cfg, struct fo_server **out, struct fo_err *err)
{
	(void)cfg;
	(void)out;
	(void)err;
	return FO_EUNSUPPORTED;
}

void fo_server_stop(struct fo_server *srv)
{
	(void)srv;
}

const char *fo_server_run_dir(const struct fo_server *srv, struct fo_arena *a, const char *owner, const char *test, const char *run_id)
{
	(void)srv;
	(void)a;
	(void)owner;
	(void)test;
	(void)run_id;
	return NULL;
}

int64_t fo_now_ms(void)
{
	return 0;
}
