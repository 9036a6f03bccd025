/*
 * api_tests.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/api.h"
#include "server/api.h"

int fo_api_test_validate(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_list_mine(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_list_deleted(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_list_owner(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_get(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_yaml(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_create(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_replace(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_delete(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_restore(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_clone(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_versions(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_version(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_test_tags(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}
