/*
 * api_admin.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/api.h"
#include "server/api.h"

int fo_api_queue_status(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_queue_pause(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_queue_resume(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_housekeep(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}
