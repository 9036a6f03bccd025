/*
 * api_admin.c: the administrators' REST handlers: the queue's status, pausing and resuming
 * it (to drain the server before an upgrade: runs in progress go on, nothing new starts),
 * and running housekeeping at once. The work itself is the queue's (queue.h).
 */
#include "util/common.h"

#include "server/api.h"
#include "server/queue.h"
#include "server/server.h"
#include "util/buf.h"

/* Responds 200 with the queue's status. */
static int status_response(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_queue_status_json(rq->srv->queue, &b);
	fo_resp_json(rq, 200, b.s);
	fo_buf_release(&b);
	return 0;
}

int fo_api_queue_status(struct fo_req *rq)
{
	return status_response(rq);
}

int fo_api_queue_pause(struct fo_req *rq)
{
	fo_queue_pause(rq->srv->queue, true);
	return status_response(rq);
}

int fo_api_queue_resume(struct fo_req *rq)
{
	fo_queue_pause(rq->srv->queue, false);
	return status_response(rq);
}

int fo_api_housekeep(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_queue_housekeep(rq->srv->queue, &b);
	fo_resp_json(rq, 200, b.s);
	fo_buf_release(&b);
	return 0;
}
