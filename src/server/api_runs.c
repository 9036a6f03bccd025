/*
 * api_runs.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/api.h"
#include "server/api.h"

int fo_api_run_start(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_list_test(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_list_all(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_get(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_definition(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_abort(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_rerun(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_keep(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_run_delete(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}
