/*
 * api_admin.c: the administrators' REST handlers: the queue's status, pausing and resuming
 * it (to drain the server before an upgrade: runs in progress go on, nothing new starts),
 * and running housekeeping at once. The work itself is the queue's (queue.h).
 */
#include "util/common.h"

#include <time.h>

#include "server/api.h"
#include "server/queue.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/strutil.h"

/* Responds 200 with the queue's status. */
static int status_response(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_queue_status_json(rq->srv->queue, &b);
	fo_resp_json_buf(rq, 200, &b);
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

/*
 * Pauses the queue and waits (?timeout=SECONDS, default 600, at most 3600) until no run is
 * running: 200 with the status when drained, 503 with it when the time ran out (the queue
 * stays paused either way). An upgrade script: drain, stop, upgrade, start, resume.
 */
int fo_api_queue_drain(struct fo_req *rq)
{
	fo_queue_pause(rq->srv->queue, true);
	int64_t secs = 600;
	const char *t = fo_req_query(rq, "timeout");
	if (t && (!fo_parse_i64(t, &secs) || secs < 0 || secs > 3600)) {
		fo_resp_error(rq, 400, "timeout must be a number of seconds from 0 to 3600, not '%s'", t);
		return 0;
	}
	int64_t deadline = fo_now_ms() + secs * 1000;
	while (fo_queue_running(rq->srv->queue) > 0 && fo_now_ms() < deadline && !fo_http_stopping()) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	bool drained = fo_queue_running(rq->srv->queue) == 0;
	struct fo_buf b = FO_BUF_INIT;
	fo_queue_status_json(rq->srv->queue, &b);
	fo_resp_json_buf(rq, drained ? 200 : 503, &b);
	return 0;
}

int fo_api_housekeep(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_queue_housekeep(rq->srv->queue, &b);
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}
