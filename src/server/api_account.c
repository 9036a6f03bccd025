/*
 * api_account.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/api.h"
#include "server/api.h"

int fo_api_login(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_logout(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_register(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_whoami(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_user_create(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_user_list(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_token_create(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_token_list(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_token_delete(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_secret_list(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_secret_put(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}

int fo_api_secret_delete(struct fo_req *rq)
{
	(void)rq;
	fo_resp_error(rq, 501, "not implemented yet");
	return 0;
}
