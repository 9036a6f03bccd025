/*
 * api_misc.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/api.h"
#include "server/api.h"

int fo_api_health(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_version(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_openapi(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_running_count(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_components(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_component(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}
