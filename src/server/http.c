/*
 * http.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/http.h"

const char *fo_req_param(const struct fo_req *rq, const char *name)
{
	(void)rq;
	(void)name;
	return NULL;
}

const char *fo_req_query(const struct fo_req *rq, const char *name)
{
	(void)rq;
	(void)name;
	return NULL;
}

const char *fo_req_header(const struct fo_req *rq, const char *name)
{
	(void)rq;
	(void)name;
	return NULL;
}

const char *fo_req_cookie(const struct fo_req *rq, const char *name)
{
	(void)rq;
	(void)name;
	return NULL;
}

const char *fo_req_form(struct fo_req *rq, const char *name)
{
	(void)rq;
	(void)name;
	return NULL;
}

void fo_resp_json(struct fo_req *rq, int status, const char *json)
{
	(void)rq;
	(void)status;
	(void)json;
}

void fo_resp_error(struct fo_req *rq, int status, const char *fmt, ...)
{
	(void)rq;
	(void)status;
	(void)fmt;
}

void fo_resp_text(struct fo_req *rq, int status, const char *ctype, const char *text, size_t len)
{
	(void)rq;
	(void)status;
	(void)ctype;
	(void)text;
	(void)len;
}

void fo_resp_fd(struct fo_req *rq, int status, const char *ctype, int fd, uint64_t size)
{
	(void)rq;
	(void)status;
	(void)ctype;
	(void)fd;
	(void)size;
}

void fo_resp_stream(struct fo_req *rq, int status, const char *ctype, ssize_t (*read)(void *ctx, uint64_t pos, char *buf, size_t max), void (*free_ctx)(void *ctx), void *ctx)
{
	(void)rq;
	(void)status;
	(void)ctype;
	(void)read;
	(void)free_ctx;
	(void)ctx;
}

void fo_resp_header(struct fo_req *rq, const char *name, const char *value)
{
	(void)rq;
	(void)name;
	(void)value;
}

int fo_http_start(struct fo_server *srv, const struct fo_http_opts *o, struct fo_http **out, struct fo_err *err)
{
	(void)srv;
	(void)o;
	(void)out;
	(void)err;
	return FO_EUNSUPPORTED;
}

int fo_http_port(const struct fo_http *h)
{
	(void)h;
	return FO_EUNSUPPORTED;
}

void fo_http_stop(struct fo_http *h)
{
	(void)h;
}

void fo_http_openapi(struct fo_buf *out, const char *server_url)
{
	(void)out;
	(void)server_url;
}
