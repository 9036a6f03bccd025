/*
 * proto_redis.c: the Redis protocol for the load driver (struct fo_load_proto): commands
 * as RESP arrays of bulk strings, replies read with the incremental parser of resp.h,
 * MOVED and ASK errors turned into redirections, CLUSTER SLOTS for the slot map.
 */
#include "util/common.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load/load.h"
#include "load/resp.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/proc.h"

static void *parser_new(void)
{
	struct fo_resp_parser *p = fo_malloc(sizeof(*p));
	fo_resp_parser_init(p);
	return p;
}

static void parser_free(void *p)
{
	if (!p)
		return;
	fo_resp_parser_release(p);
	fo_free(p);
}

static void parser_reset(void *p)
{
	fo_resp_parser_reset(p);
}

static int parse(void *parser, const char *data, size_t len, size_t *used, struct fo_load_reply *out, char *why,
		 size_t whyn)
{
	struct fo_resp_parser *p = parser;
	const struct fo_resp_value *v;
	int rc = fo_resp_parse(p, data, len, used, &v);
	if (rc < 0) {
		snprintf(why, whyn, "%s", p->err);
		return rc;
	}
	if (rc == 0)
		return 0;
	*out = (struct fo_load_reply){.status = FO_LOAD_OK};
	switch (v->type) {
	case FO_RESP_ERROR:
		if (fo_cluster_parse_redirect(v->str, v->len, &out->redirect)) {
			out->status = FO_LOAD_REDIRECT;
		} else {
			out->status = FO_LOAD_ERROR;
			out->data = v->str;
			out->len = v->len;
		}
		break;
	case FO_RESP_NIL:
		out->status = FO_LOAD_NIL;
		break;
	case FO_RESP_BULK:
	case FO_RESP_STATUS:
		out->data = v->str;
		out->len = v->len;
		break;
	default:
		break;
	}
	return 1;
}

static void encode(struct fo_buf *out, const struct fo_load_cmd *c, const char *key, size_t klen, const char *val,
		   size_t vlen)
{
	fo_resp_add_array(out, c->nargs);
	for (size_t i = 0; i < c->nargs; i++) {
		const struct fo_load_arg *a = &c->args[i];
		fo_resp_begin_bulk(out, fo_load_arg_len(a, klen, vlen));
		fo_load_arg_add(out, a, key, klen, val, vlen);
		fo_resp_end_bulk(out);
	}
}

static void encode_asking(struct fo_buf *out)
{
	fo_buf_add(out, "*1\r\n$6\r\nASKING\r\n", 16);
}

static unsigned slot(const char *key, size_t len)
{
	return fo_cluster_keyslot(key, len);
}

/* Sends CLUSTER SLOTS and reads the reply, all within timeout. */
static int discover(int fd, const char *host, int64_t timeout_ns, struct fo_cluster_map *map, struct fo_err *err)
{
	static const char req[] = "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";
	int64_t deadline = fo_now_ns() + timeout_ns;
	size_t off = 0;
	while (off < sizeof(req) - 1) {
		ssize_t w = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			poll(&pf, 1, 100);
			if (fo_now_ns() > deadline)
				return fo_err_set(err, FO_ENET, "cannot send CLUSTER SLOTS to %s: timed out", host);
			continue;
		}
		if (w <= 0)
			return fo_err_set(err, FO_ENET, "cannot send CLUSTER SLOTS to %s: %s", host, strerror(errno));
		off += (size_t)w;
	}
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	char buf[16384];
	int rc = 0;
	for (;;) {
		int64_t left = deadline - fo_now_ns();
		if (left <= 0) {
			rc = fo_err_set(err, FO_ENET, "no answer to CLUSTER SLOTS from %s", host);
			break;
		}
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int pr = poll(&pf, 1, (int)(left / 1000000 + 1));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			rc = fo_err_set(err, FO_ENET, "%s closed the connection before answering CLUSTER SLOTS", host);
			break;
		}
		size_t pos = 0, used = 0;
		const struct fo_resp_value *v = NULL;
		int prc = 0;
		while (pos < (size_t)n && (prc = fo_resp_parse(&p, buf + pos, (size_t)n - pos, &used, &v)) == 0)
			pos += used;
		if (prc < 0) {
			rc = fo_err_set(err, FO_EPARSE, "bad answer to CLUSTER SLOTS from %s: %s", host, p.err);
			break;
		}
		if (prc == 0)
			continue;
		if (v->type == FO_RESP_ERROR) {
			rc = 0; /* cluster support disabled: a standalone server */
		} else if (v->type == FO_RESP_ARRAY && v->n == 0) {
			rc = fo_err_set(err, FO_EINVAL,
					"%s is in cluster mode but serves no slots (is the cluster formed?)", host);
		} else {
			rc = fo_cluster_map_from_slots(map, v, host, err);
			if (rc == 0)
				rc = 1;
		}
		break;
	}
	fo_resp_parser_release(&p);
	return rc;
}

static void error_kind(const char *msg, size_t len, char *out, size_t n)
{
	size_t k = 0;
	while (k < len && k + 1 < n && msg[k] != ' ' && msg[k] != '\r' && msg[k] != '\n')
		k++;
	memcpy(out, msg, k);
	out[k] = '\0';
	if (k == 0)
		snprintf(out, n, "error");
}

const struct fo_load_proto fo_load_proto_redis = {
	.name = "redis",
	.parser_new = parser_new,
	.parser_free = parser_free,
	.parser_reset = parser_reset,
	.parse = parse,
	.encode = encode,
	.encode_asking = encode_asking,
	.slot = slot,
	.discover = discover,
	.error_kind = error_kind,
};
