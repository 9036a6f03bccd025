/*
 * api_common.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/api.h"
#include "server/api.h"

bool fo_api_may_change(const struct fo_req *rq, const char *owner)
{
	(void)rq;
	(void)owner;
	return false;
}

const char *fo_api_owner(const struct fo_req *rq)
{
	(void)rq;
	return NULL;
}

void fo_api_add_time(struct fo_buf *b, int64_t ms)
{
	(void)b;
	(void)ms;
}

void fo_api_test_json(struct fo_buf *b, const struct fo_test_rec *t, bool full)
{
	(void)b;
	(void)t;
	(void)full;
}

void fo_api_run_json(struct fo_req *rq, struct fo_buf *b, const struct fo_run_rec *r, bool full)
{
	(void)rq;
	(void)b;
	(void)r;
	(void)full;
}

const char *fo_api_run_definition_text(struct fo_arena *a, const struct fo_run_rec *r)
{
	(void)a;
	(void)r;
	return NULL;
}

int fo_api_load_run(struct fo_req *rq, struct fo_run_rec *out)
{
	(void)rq;
	(void)out;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_load_test(struct fo_req *rq, struct fo_test_rec *out)
{
	(void)rq;
	(void)out;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

void fo_api_diags_response(struct fo_req *rq, const char *message, const struct fo_diags *d)
{
	(void)rq;
	(void)message;
	(void)d;
}
