/*
 * cm_common.c: helpers shared by the configuration managers that run their own servers
 * (see cm_common.h).
 */
#include "util/common.h"

#include "components/config_managers/cm_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/run.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"

void fo__cm_args_addf(struct fo__cm_args *a, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	FO_GROW(a->v, a->cap, a->n + 2);
	a->v[a->n++] = fo_buf_detach(&b, NULL);
	a->v[a->n] = NULL;
}

void fo__cm_args_release(struct fo__cm_args *a)
{
	for (size_t i = 0; i < a->n; i++)
		fo_free(a->v[i]);
	fo_free(a->v);
	*a = (struct fo__cm_args){0};
}

int fo__cm_write_artifact(struct fo_node *n, const char *name, const char *text, struct fo_err *err)
{
	struct fo_buf path = FO_BUF_INIT;
	int rc = fo_mkdirs(n->artifacts, err);
	fo_buf_addf(&path, "%s/%s", n->artifacts, name);
	FILE *f = rc ? NULL : fopen(path.s, "we");
	if (!rc && (!f || fputs(text, f) < 0))
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path.s, strerror(errno));
	if (f && fclose(f) != 0 && !rc)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path.s, strerror(errno));
	fo_buf_release(&path);
	return rc;
}

int fo__cm_remove_folders(struct fo_rgroup *g, const char *folder, const char *who, struct fo_err *err)
{
	int first = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		if (!n->dir)
			continue;
		struct fo_buf dir = FO_BUF_INIT, failed = FO_BUF_INIT;
		fo_buf_addf(&dir, "%s/%s", n->dir, folder);
		int e = fo_remove_tree(dir.s, false, &failed);
		if (e) {
			int rc = fo_err_set(err, FO_EIO, "%s: cannot remove '%s': %s", who, failed.s, strerror(e));
			if (!first)
				first = rc;
		} else {
			fo_info(n->log, "%s: removed %s", who, dir.s);
		}
		fo_buf_release(&dir);
		fo_buf_release(&failed);
	}
	return first;
}

int fo__cm_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - fo_now_ns();
		if (left <= 0)
			return ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return errno;
	}
}

int fo__cm_connect(const char *addr, int port, int64_t deadline, int *fd, struct fo_err *err)
{
	*fd = -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return fo_err_set(err, FO_EINVAL, "'%s' is not an IPv4 address", addr);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fo_err_set(err, FO_ENET, "socket: %s", strerror(errno));
	int e = connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	if (e == EINPROGRESS) {
		socklen_t len = sizeof(e);
		if (fo__cm_wait_fd(s, POLLOUT, deadline) == ETIMEDOUT) {
			close(s);
			return fo_err_set(err, FO_ENET, "%s:%d did not answer in time", addr, port);
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
			e = errno;
	}
	if (e) {
		close(s);
		return fo_err_set(err, FO_ENET, "cannot connect to %s:%d: %s", addr, port, strerror(e));
	}
	*fd = s;
	return 0;
}
