/*
 * housekeeping.c: keeping the data folder in bounds. Artifacts of runs finished more than
 * compress_after_ms ago are gzipped file by file (each regular file over 4 KiB that is not
 * compressed already and is not testrun.json becomes FILE.gz, with the same mtime), and
 * runs finished more than retention_ms ago are reaped (their folder and record removed)
 * unless kept for ever. Runs still queued or running are never touched. A thread runs a
 * pass at start and every housekeeping_every_ms; an administrator may run one at once.
 */
#include "util/common.h"

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "server/queue.h"
#include "server/queue_internal.h"
#include "server/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/strutil.h"

/* Files no smaller than this are compressed. */
#define COMPRESS_MIN_BYTES 4096

/* True if the artifact rel of size bytes should be gzipped. */
static bool compressible(const char *rel, int64_t size)
{
	static const char *const skip[] = {".gz", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".bz2", ".xz", ".zst",
					   ".fallout-tmp"};
	if (size <= COMPRESS_MIN_BYTES)
		return false;
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if (strcmp(base, "testrun.json") == 0)
		return false;
	for (size_t i = 0; i < FO_ARRAY_LEN(skip); i++)
		if (fo_ends_with(base, skip[i]))
			return false;
	return true;
}

/* gzips path into path.gz (level 6, through a temporary file), keeps its mtime, removes
 * the original. Returns 0, or -1 leaving the original as it was. */
static int gzip_file(const char *path, const struct stat *st)
{
	struct fo_buf tmp = FO_BUF_INIT, dst = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.gz.fallout-tmp", path);
	fo_buf_addf(&dst, "%s.gz", path);
	int rc = -1;
	int in = open(path, O_RDONLY | O_CLOEXEC);
	gzFile gz = NULL;
	if (in >= 0) {
		int outfd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st->st_mode & 0777);
		gz = outfd >= 0 ? gzdopen(outfd, "wb6") : NULL;
		if (outfd >= 0 && !gz)
			close(outfd);
	}
	if (gz) {
		char chunk[65536];
		ssize_t n;
		rc = 0;
		while ((n = read(in, chunk, sizeof(chunk))) > 0) {
			if (gzwrite(gz, chunk, (unsigned)n) != (int)n) {
				rc = -1;
				break;
			}
		}
		if (n < 0)
			rc = -1;
		if (gzclose(gz) != Z_OK)
			rc = -1;
		if (rc == 0) {
			struct timespec times[2] = {st->st_atim, st->st_mtim};
			utimensat(AT_FDCWD, tmp.s, times, 0);
			rc = rename(tmp.s, dst.s) == 0 ? 0 : -1;
		}
		if (rc == 0)
			unlink(path);
		else
			unlink(tmp.s);
	}
	if (in >= 0)
		close(in);
	fo_buf_release(&tmp);
	fo_buf_release(&dst);
	return rc;
}

struct compress_ctx {
	int files;
};

static void compress_one(void *ctx, const char *path, const char *rel, const struct stat *st)
{
	struct compress_ctx *cc = ctx;
	if (compressible(rel, (int64_t)st->st_size) && gzip_file(path, st) == 0)
		cc->files++;
}

/* True if the artifacts map (JSON text) lists a file worth compressing. */
static bool worth_compressing(const char *artifacts)
{
	json_t *j = artifacts ? json_loads(artifacts, 0, NULL) : NULL;
	bool any = false;
	const char *k;
	json_t *v;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (compressible(k, json_integer_value(v)))
				any = true;
		}
	} else {
		any = true; /* unknown: look */
	}
	json_decref(j);
	return any;
}

static void housekeep(struct fo_queue *q, int *compressed, int *reaped, int64_t *freed)
{
	const struct fo_server_config *cfg = q->srv->cfg;
	struct fo_store *store = q->srv->store;
	int64_t now = fo_now_ms();
	if (cfg->compress_after_ms > 0) {
		struct fo_arena *a = fo_arena_new();
		struct fo_run_filter f = {.only_finished = true, .finished_before = now - cfg->compress_after_ms};
		struct fo_run_rec *recs = NULL;
		size_t n = 0;
		if (fo_store_run_list(store, a, &f, &recs, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				struct fo_run_rec *r = &recs[i];
				const char *dir = fo_server_run_dir(q->srv, a, r->owner, r->test_name, r->run_id);
				if (!dir || !fo__state_final(r->state) || !worth_compressing(r->artifacts))
					continue;
				struct compress_ctx cc = {0};
				fo__walk_files(dir, compress_one, &cc);
				struct fo_buf art = FO_BUF_INIT;
				int64_t bytes = 0;
				fo__artifacts_json(dir, &art, &bytes);
				if (cc.files || !r->artifacts || strcmp(art.s, r->artifacts) != 0) {
					if (r->artifacts_bytes > bytes)
						*freed += r->artifacts_bytes - bytes;
					r->artifacts = fo_arena_strdup(a, art.s);
					r->artifacts_bytes = bytes;
					fo_store_run_update(store, r);
				}
				*compressed += cc.files;
				fo_buf_release(&art);
			}
		}
		fo_arena_free(a);
	}
	if (cfg->retention_ms > 0) {
		struct fo_arena *a = fo_arena_new();
		struct fo_run_filter f = {.only_finished = true, .finished_before = now - cfg->retention_ms};
		struct fo_run_rec *recs = NULL;
		size_t n = 0;
		if (fo_store_run_list(store, a, &f, &recs, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				struct fo_run_rec *r = &recs[i];
				if (r->keep_forever || !fo__state_final(r->state))
					continue;
				/* no folder for names that cannot be folder names: only the record goes */
				const char *dir = fo_server_run_dir(q->srv, a, r->owner, r->test_name, r->run_id);
				struct fo_buf failed = FO_BUF_INIT;
				int e = dir ? fo_remove_tree(dir, true, &failed) : 0;
				if (e) {
					fprintf(stderr, "fallout serve: housekeeping: cannot remove '%s': %s\n", failed.s,
						strerror(e));
				} else if (fo_store_run_delete(store, r->run_id) == 0) {
					(*reaped)++;
					*freed += r->artifacts_bytes;
				}
				fo_buf_release(&failed);
			}
		}
		fo_arena_free(a);
	}
}

void fo_queue_housekeep(struct fo_queue *q, struct fo_buf *out)
{
	int compressed = 0, reaped = 0;
	int64_t freed = 0;
	pthread_mutex_lock(&q->hk_lock);
	housekeep(q, &compressed, &reaped, &freed);
	pthread_mutex_unlock(&q->hk_lock);
	if (compressed || reaped)
		fprintf(stderr, "fallout serve: housekeeping: %d file(s) compressed, %d run(s) reaped, %lld bytes freed\n",
			compressed, reaped, (long long)freed);
	if (out)
		fo_buf_addf(out, "{\"compressed\": %d, \"reaped\": %d, \"freedBytes\": %lld}", compressed, reaped,
			    (long long)freed);
}

void *fo__queue_housekeeper(void *arg)
{
	struct fo_queue *q = arg;
	int64_t every = q->srv->cfg->housekeeping_every_ms > 0 ? q->srv->cfg->housekeeping_every_ms : 3600 * 1000;
	pthread_mutex_lock(&q->lock);
	while (!q->stopping) {
		pthread_mutex_unlock(&q->lock);
		fo_queue_housekeep(q, NULL);
		pthread_mutex_lock(&q->lock);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = ts.tv_nsec + (every % 1000) * 1000000;
		ts.tv_sec += (time_t)(every / 1000) + (time_t)(ns / 1000000000);
		ts.tv_nsec = ns % 1000000000;
		while (!q->stopping && pthread_cond_timedwait(&q->hk_wake, &q->lock, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}
