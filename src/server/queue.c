/*
 * queue.c: PLACEHOLDER, being written; every function fails as not supported.
 */
#include "util/common.h"

#include <stdarg.h>
#include "util/err.h"
#include "server/queue.h"

int fo_queue_start(struct fo_queue *q, struct fo_err *err)
{
	(void)q;
	(void)err;
	return FO_EUNSUPPORTED;
}

void fo_queue_free(struct fo_queue *q)
{
	(void)q;
}

void fo_queue_kick(struct fo_queue *q)
{
	(void)q;
}

int fo_queue_abort(struct fo_queue *q, const char *run_id, const char *reason)
{
	(void)q;
	(void)run_id;
	(void)reason;
	return FO_EUNSUPPORTED;
}

bool fo_queue_active(struct fo_queue *q, const char *run_id)
{
	(void)q;
	(void)run_id;
	return false;
}

void fo_queue_pause(struct fo_queue *q, bool paused)
{
	(void)q;
	(void)paused;
}

void fo_queue_status_json(struct fo_queue *q, struct fo_buf *out)
{
	(void)q;
	(void)out;
}

void fo_queue_housekeep(struct fo_queue *q, struct fo_buf *out)
{
	(void)q;
	(void)out;
}

int fo_queue_running(struct fo_queue *q)
{
	(void)q;
	return FO_EUNSUPPORTED;
}
