/*
 * server.c: `fallout serve` put together. Starting takes the data folder (an flock on
 * <data>/server.lock, so two servers never share one), makes its folders, opens the store,
 * creates the first admin, starts the run queue (which re-adopts or finishes the runs an
 * earlier server left) and the HTTP listener, and writes <data>/server.json so that local
 * tools can find the server. Stopping undoes it in reverse; runs in progress keep going.
 */
#include "util/common.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/auth.h"
#include "server/http.h"
#include "server/queue.h"
#include "server/server.h"
#include "server/store.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"

/* The server and what only this file needs. */
struct server_impl {
	struct fo_server srv;   /* first: fo_server_stop gets &srv */
	int lock_fd;            /* holds the flock on <data>/server.lock; -1: none */
	char *info_path;        /* <data>/server.json once written */
};

int64_t fo_now_ms(void)
{
	return fo_wall_ns() / 1000000;
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = fo_malloc(n);
	snprintf(s, n, "%s/%s", a, b);
	return s;
}

/* Makes the data folder (0700) and resolves it to an absolute path into *out. */
static int make_data_dir(const char *dir, char **out, struct fo_err *err)
{
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_mkdir_p(dir, 0700, &failed);
	if (e) {
		fo_err_set(err, FO_EIO, "cannot create the data folder '%s': %s", failed.len ? failed.s : dir,
			   strerror(e));
		fo_buf_release(&failed);
		return FO_EIO;
	}
	fo_buf_release(&failed);
	char *abs = realpath(dir, NULL);
	if (!abs)
		return fo_err_set(err, FO_EIO, "cannot resolve the data folder '%s': %s", dir, strerror(errno));
	*out = fo_strdup(abs);
	free(abs);
	return 0;
}

/* Takes <data>/server.lock, or says which server holds it. */
static int take_lock(struct server_impl *si, struct fo_err *err)
{
	char *path = join(si->srv.data_dir, "server.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int rc = fo_err_set(err, FO_EIO, "cannot open '%s': %s", path, strerror(errno));
		fo_free(path);
		return rc;
	}
	fo_free(path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return fo_err_set(err, FO_EEXISTS, "another fallout serve (pid %s) uses '%s'", pid[0] ? pid : "?",
					  si->srv.data_dir);
		return fo_err_set(err, FO_EIO, "cannot lock the data folder '%s': %s", si->srv.data_dir, strerror(e));
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		/* Only informative: the lock itself is held. */
	}
	si->lock_fd = fd;
	return 0;
}

/* Writes <data>/server.json atomically (a temporary file renamed into place). */
static int write_info(struct server_impl *si, struct fo_err *err)
{
	struct fo_server *srv = &si->srv;
	char when[40];
	fo_format_time(srv->started_at * 1000000, when, sizeof(when));
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "{\"url\": ");
	fo_buf_add_json_str(&b, srv->url, strlen(srv->url));
	fo_buf_addf(&b, ", \"pid\": %ld, \"startedAt\": \"%s\", \"data\": ", (long)getpid(), when);
	fo_buf_add_json_str(&b, srv->data_dir, strlen(srv->data_dir));
	fo_buf_adds(&b, "}\n");
	char *path = join(srv->data_dir, "server.json");
	char *tmp = join(srv->data_dir, ".server.json.tmp");
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, b.s, b.len) != (ssize_t)b.len || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		fo_free(path);
	} else {
		si->info_path = path;
	}
	fo_free(tmp);
	fo_buf_release(&b);
	return rc;
}

/* "http://127.0.0.1:PORT" from the listen address and the bound port. */
static char *listen_url(const char *listen, int port)
{
	char host[256];
	const char *colon = listen[0] == '[' ? strchr(listen, ']') : strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) + (listen[0] == '[') : strlen(listen);
	snprintf(host, sizeof(host), "%.*s", (int)n, listen);
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0) {
		/* Listening everywhere: name this machine. */
		if (gethostname(host, sizeof(host)) != 0 || !host[0])
			snprintf(host, sizeof(host), "127.0.0.1");
		host[sizeof(host) - 1] = '\0';
	}
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "http://%s:%d", host, port);
	return fo_buf_detach(&b, NULL);
}

int fo_server_start(const struct fo_server_config *cfg, struct fo_server **out, struct fo_err *err)
{
	*out = NULL;
	struct server_impl *si = fo_calloc(1, sizeof(*si));
	si->lock_fd = -1;
	struct fo_server *srv = &si->srv;
	srv->cfg = cfg;
	srv->started_at = fo_now_ms();
	int rc = make_data_dir(cfg->data_dir ? cfg->data_dir : "fallout-data", &srv->data_dir, err);
	if (rc)
		goto fail;
	if ((rc = take_lock(si, err)) != 0)
		goto fail;
	srv->runs_dir = join(srv->data_dir, "runs");
	srv->spool_dir = join(srv->data_dir, "spool");
	srv->state_dir = join(srv->data_dir, "state");
	if ((rc = fo_mkdirs(srv->runs_dir, err)) != 0 || (rc = fo_mkdirs(srv->spool_dir, err)) != 0 ||
	    (rc = fo_mkdirs(srv->state_dir, err)) != 0)
		goto fail;
	if ((rc = fo_auth_init(err)) != 0)
		goto fail;

	struct fo_buf url = FO_BUF_INIT;
	if (cfg->store_url)
		fo_buf_adds(&url, cfg->store_url);
	else
		fo_buf_addf(&url, "sqlite:%s/fallout.db", srv->data_dir);
	rc = fo_store_open(url.s, &srv->store, err);
	fo_buf_release(&url);
	if (rc)
		goto fail;
	srv->auth = fo_auth_new(cfg->login_window_ms, cfg->login_max_failures);
	if ((rc = fo_auth_bootstrap(srv, err)) != 0)
		goto fail;

	srv->queue = fo_queue_new(srv);
	if ((rc = fo_queue_start(srv->queue, err)) != 0)
		goto fail;

	struct fo_http_opts ho = {.listen = cfg->listen, .max_body = cfg->max_body, .max_connections = 0};
	if ((rc = fo_http_start(srv, &ho, &srv->http, err)) != 0)
		goto fail;
	srv->url = cfg->public_url ? fo_strdup(cfg->public_url)
				   : listen_url(cfg->listen ? cfg->listen : "127.0.0.1:8080", fo_http_port(srv->http));
	if ((rc = write_info(si, err)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	fo_server_stop(srv);
	return rc ? rc : FO_EIO;
}

void fo_server_stop(struct fo_server *srv)
{
	if (!srv)
		return;
	struct server_impl *si = (struct server_impl *)srv;
	/* Stop taking requests first, so no handler uses what is freed next. */
	fo_http_stop(srv->http);
	if (srv->queue)
		fo_queue_free(srv->queue);
	if (srv->auth)
		fo_auth_free(srv->auth);
	if (srv->store)
		fo_store_close(srv->store);
	if (si->info_path) {
		unlink(si->info_path);
		fo_free(si->info_path);
	}
	if (si->lock_fd >= 0)
		close(si->lock_fd); /* releases the flock */
	fo_free(srv->data_dir);
	fo_free(srv->runs_dir);
	fo_free(srv->spool_dir);
	fo_free(srv->state_dir);
	fo_free(srv->url);
	fo_free(si);
}

/* True when s can be one folder name: not empty, no '/', not "." or "..". */
static bool safe_segment(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

const char *fo_server_run_dir(const struct fo_server *srv, struct fo_arena *a, const char *owner,
			      const char *test, const char *run_id)
{
	if (!safe_segment(owner) || !safe_segment(test) || !safe_segment(run_id))
		return NULL;
	return fo_arena_printf(a, "%s/%s/%s/%s", srv->runs_dir, owner, test, run_id);
}
