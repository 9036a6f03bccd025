/*
 * api_artifacts.c: the REST handlers for a run's artifacts: the listing, one artifact (also
 * when housekeeping has gzipped it: sent as gzip to clients that take it, inflated on the
 * fly for the others), the zip of the whole run folder, the live view of a log as
 * server-sent events, and the comparison reports built from several runs' performance data
 * (POST /performance/run/api, served back at /performance/reports/<id>).
 *
 * Everyone signed in may read any run's artifacts. Artifacts are user-made, so every one
 * is served with `Content-Security-Policy: sandbox`: an HTML artifact cannot run script
 * with the service's cookies. The path safety (no "..", no symbolic link followed, only
 * regular files) is in artifacts.c.
 */
#include "util/common.h"

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/run.h"
#include "report/html.h"
#include "server/api.h"
#include "server/artifacts.h"
#include "server/queue.h"
#include "server/queue_internal.h"
#include "server/server.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

#define SANDBOX_CSP "sandbox"
#define REPORT_CSP "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
/* Most runs one comparison report may take. */
#define REPORT_MAX_RUNS 64

/* The run folder of the run named by the route; a 404 is set (and NULL returned) when
 * there is no such run. */
static const char *run_folder(struct fo_req *rq, struct fo_run_rec *rec)
{
	if (fo_api_load_run(rq, rec) != 0)
		return NULL;
	return fo_server_run_dir(rq->srv, rq->a, rec->owner, rec->test_name, rec->run_id);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Content-Disposition and Content-Security-Policy for an artifact named name,
 * served as ctype. */
static void artifact_headers(struct fo_req *rq, const char *name, const char *ctype)
{
	bool attach = strcmp(ctype, "application/octet-stream") == 0 || strcmp(ctype, "application/gzip") == 0 ||
		      strcmp(ctype, "application/zip") == 0;
	struct fo_buf cd = FO_BUF_INIT;
	fo_buf_addf(&cd, "%s; filename=\"", attach ? "attachment" : "inline");
	for (const char *p = base_name(name); *p; p++)
		fo_buf_addch(&cd, *p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '_' : *p);
	fo_buf_addch(&cd, '"');
	fo_resp_header(rq, "Content-Disposition", cd.s);
	fo_resp_header(rq, "Content-Security-Policy", SANDBOX_CSP);
	fo_buf_release(&cd);
}

/* True when the Accept-Encoding header lists gzip (without q=0). */
static bool accepts_gzip(const struct fo_req *rq)
{
	const char *h = fo_req_header(rq, "Accept-Encoding");
	if (!h)
		return false;
	const char *p = h;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *tok = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		size_t n = (size_t)(p - tok);
		bool gz = (n == 4 && strncasecmp(tok, "gzip", 4) == 0) || (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0);
		double q = 1;
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *qp = p;
		while (qp < end) {
			const char *semi = memchr(qp, ';', (size_t)(end - qp));
			if (!semi)
				break;
			qp = semi + 1;
			while (*qp == ' ')
				qp++;
			if ((qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=')
				q = strtod(qp + 2, NULL);
		}
		if (gz && q > 0)
			return true;
		p = end;
	}
	return false;
}

/* ---- the listing ---- */

/* GET .../runs/{run}/artifacts/api: {path: bytes} of every regular file of the run folder
 * (empty while the run has no folder yet). */
int fo_api_artifact_list(struct fo_req *rq)
{
	struct fo_run_rec rec;
	const char *dir = run_folder(rq, &rec);
	if (!dir)
		return 0;
	struct fo_artifact_list l = {0};
	int root = fo_artifact_root_open(dir);
	if (root >= 0) {
		fo_artifact_list(root, &l);
		close(root);
	}
	struct fo_buf out = FO_BUF_INIT;
	fo_artifact_list_json(&l, &out);
	fo_resp_json_buf(rq, 200, &out);
	fo_artifact_list_release(&l);
	return 0;
}

/* The {path*} parameter when it names a possible artifact of the run the request names,
 * with the run's record in *rec and its folder in *dir; else NULL and the response set
 * (404 for a refused path, as for a missing one). */
static const char *artifact_param(struct fo_req *rq, struct fo_run_rec *rec, const char **dir)
{
	*dir = run_folder(rq, rec);
	if (!*dir)
		return NULL;
	const char *path = fo_req_param(rq, "path");
	if (!path || !fo_artifact_path_ok(path, strlen(path))) {
		fo_resp_error(rq, 404, "no artifact '%s'", path ? path : "");
		return NULL;
	}
	return path;
}

/* ---- one artifact ---- */

/* A gzipped artifact inflated while it is sent. */
static ssize_t gunzip_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	if (max > INT_MAX)
		max = INT_MAX;
	int n = gzread((gzFile)ctx, buf, (unsigned)max);
	return n > 0 ? (ssize_t)n : -1;
}

static void gunzip_free(void *ctx)
{
	gzclose((gzFile)ctx);
}

/* GET /tests/ui/E/N/R/artifacts/{path*}: one artifact, typed by its extension, sandboxed;
 * a gzipped one (<path>.gz) sent as gzip or inflated. 404 for any refused path. */
int fo_api_artifact_get(struct fo_req *rq)
{
	struct fo_run_rec rec;
	const char *dir, *path = artifact_param(rq, &rec, &dir);
	if (!path)
		return 0;
	int root = fo_artifact_root_open(dir);
	if (root < 0) {
		fo_resp_error(rq, 404, "no artifact '%s'", path);
		return 0;
	}
	struct stat st;
	int fd = fo_artifact_open(root, path, &st);
	if (fd >= 0) {
		close(root);
		const char *ctype = fo_artifact_ctype(path);
		artifact_headers(rq, path, ctype);
		fo_resp_fd(rq, 200, ctype, fd, (uint64_t)st.st_size);
		return 0;
	}
	/* housekeeping may have gzipped it */
	int e = -fd;
	if (e == ENOENT) {
		const char *gzpath = fo_arena_printf(rq->a, "%s.gz", path);
		fd = fo_artifact_open(root, gzpath, &st);
	}
	close(root);
	if (fd < 0) {
		fo_resp_error(rq, 404, "no artifact '%s'", path);
		return 0;
	}
	const char *ctype = fo_artifact_ctype(path);
	artifact_headers(rq, path, ctype);
	fo_resp_header(rq, "Vary", "Accept-Encoding");
	if (accepts_gzip(rq)) {
		fo_resp_header(rq, "Content-Encoding", "gzip");
		fo_resp_fd(rq, 200, ctype, fd, (uint64_t)st.st_size);
		return 0;
	}
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		fo_resp_error(rq, 500, "cannot read the compressed artifact '%s'", path);
		return 0;
	}
	gzbuffer(gz, 65536);
	fo_resp_stream(rq, 200, ctype, gunzip_read, gunzip_free, gz);
	return 0;
}

/* ---- the zip ---- */

/* GET /tests/ui/E/N/R/artifactsArchive: every regular file under "<test>-<run id>/", as a
 * zip built in a spool file that is unlinked once open. */
int fo_api_artifact_zip(struct fo_req *rq)
{
	struct fo_run_rec rec;
	const char *dir = run_folder(rq, &rec);
	if (!dir)
		return 0;
	struct fo_err err = {0};
	if (fo_mkdirs(rq->srv->spool_dir, &err) != 0) {
		fo_resp_error(rq, 500, "cannot make the zip: %s", err.msg);
		return 0;
	}
	char *tmp = fo_arena_printf(rq->a, "%s/.artifacts-XXXXXX", rq->srv->spool_dir);
	int tfd = mkstemp(tmp);
	if (tfd < 0) {
		fo_resp_error(rq, 500, "cannot make the zip: cannot create a temporary file: %s", strerror(errno));
		return 0;
	}
	close(tfd);
	int root = fo_artifact_root_open(dir);
	const char *top = fo_arena_printf(rq->a, "%s-%s", rec.test_name, rec.run_id);
	int rc;
	if (root >= 0) {
		rc = fo_artifact_zip(root, top, tmp, &err);
		close(root);
	} else {
		/* not started yet (no run folder): an archive with only its top folder */
		char *empty = fo_arena_printf(rq->a, "%s/.empty-XXXXXX", rq->srv->spool_dir);
		if (!mkdtemp(empty)) {
			rc = fo_err_set(&err, FO_EIO, "cannot create a temporary folder: %s", strerror(errno));
		} else {
			int efd = fo_artifact_root_open(empty);
			rc = efd >= 0 ? fo_artifact_zip(efd, top, tmp, &err)
				      : fo_err_set(&err, FO_EIO, "cannot open a temporary folder");
			if (efd >= 0)
				close(efd);
			rmdir(empty);
		}
	}
	int fd = rc ? -1 : open(tmp, O_RDONLY | O_CLOEXEC);
	int open_errno = errno;
	unlink(tmp);
	if (rc) {
		fo_resp_error(rq, rc == FO_EUNSUPPORTED ? 501 : 500, "cannot make the zip of run '%s': %s", rec.run_id,
			      err.msg);
		return 0;
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		fo_resp_error(rq, 500, "cannot make the zip of run '%s': %s", rec.run_id, strerror(open_errno));
		return 0;
	}
	char *cd = fo_arena_printf(rq->a, "attachment; filename=\"%s.zip\"", top);
	fo_resp_header(rq, "Content-Disposition", cd);
	fo_resp_header(rq, "Content-Security-Policy", SANDBOX_CSP);
	fo_resp_fd(rq, 200, "application/zip", fd, (uint64_t)st.st_size);
	return 0;
}

/* ---- the live view ---- */

struct live {
	struct fo_server *srv;
	char *run_id;         /* owned */
	struct fo_tail *tail;
};

static bool live_active(void *arg)
{
	struct live *l = arg;
	return fo_queue_active(l->srv->queue, l->run_id);
}

/* The server is stopping: end the stream, so stopping does not wait for a heartbeat. */
static bool live_cancelled(void *arg)
{
	FO_UNUSED(arg);
	return fo_http_stopping();
}

/* The run's state once it is no longer active: the store may lag the process's end by a
 * moment, so a state that is not final yet is asked again for up to 2 s. */
static void live_state(void *arg, struct fo_buf *out)
{
	struct live *l = arg;
	for (int tries = 0;; tries++) {
		struct fo_arena *a = fo_arena_new();
		struct fo_run_rec r;
		bool got = fo_store_run_get(l->srv->store, a, l->run_id, &r) == 0 && r.state;
		if (got && (fo__state_final(r.state) || tries >= 20)) {
			fo_buf_adds(out, r.state);
			fo_arena_free(a);
			return;
		}
		fo_arena_free(a);
		if (!got || tries >= 20)
			return;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static ssize_t live_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct live *l = ctx;
	return fo_tail_read(l->tail, buf, max);
}

static void live_free(void *ctx)
{
	struct live *l = ctx;
	fo_tail_free(l->tail);
	fo_free(l->run_id);
	fo_free(l);
}

/* GET /live/artifacts/E/N/R/{path*}[?offset=N]: the artifact as server-sent events while the
 * run goes on (fo_tail); 404 when the run has finished and the file never appeared. */
int fo_api_artifact_live(struct fo_req *rq)
{
	struct fo_run_rec rec;
	const char *dir, *path = artifact_param(rq, &rec, &dir);
	if (!path)
		return 0;
	uint64_t offset = 0;
	const char *q = fo_req_query(rq, "offset");
	if (q) {
		char *end = NULL;
		errno = 0;
		unsigned long long v = strtoull(q, &end, 10);
		if (!*q || *end || errno || q[0] == '-' || q[0] == '+' || q[0] == ' ') {
			fo_resp_error(rq, 400, "offset '%s' is not a byte count", q);
			return 0;
		}
		offset = v;
	}
	struct live *l = fo_calloc(1, sizeof(*l));
	l->srv = rq->srv;
	l->run_id = fo_strdup(rec.run_id);
	if (!live_active(l)) {
		/* a finished run: its file is there or never will be */
		int root = fo_artifact_root_open(dir);
		int fd = root >= 0 ? fo_artifact_open(root, path, NULL) : -ENOENT;
		if (fd >= 0)
			close(fd);
		if (root >= 0)
			close(root);
		if (fd < 0) {
			fo_free(l->run_id);
			fo_free(l);
			fo_resp_error(rq, 404, "no artifact '%s'", path);
			return 0;
		}
	}
	static const struct fo_tail_ops ops = {.active = live_active, .final_state = live_state,
					       .cancelled = live_cancelled};
	l->tail = fo_tail_new(dir, path, offset, &ops, l);
	fo_resp_header(rq, "Cache-Control", "no-store");
	fo_resp_header(rq, "X-Accel-Buffering", "no");
	fo_resp_stream(rq, 200, "text/event-stream", live_read, live_free, l);
	return 0;
}

/* ---- comparison reports ---- */

/* Copies msg into out with every occurrence of dir replaced by "run '<id>'"'s folder
 * name, so a message does not show the server's data folder. */
static void scrub(struct fo_buf *out, const char *msg, const char *dir, const char *run_id)
{
	size_t dl = strlen(dir);
	const char *p = msg;
	for (;;) {
		const char *hit = dl ? strstr(p, dir) : NULL;
		if (!hit) {
			fo_buf_adds(out, p);
			return;
		}
		fo_buf_add(out, p, (size_t)(hit - p));
		fo_buf_adds(out, run_id);
		p = hit + dl;
	}
}

/* A run of the report: its data and where it came from. */
struct report_run {
	struct fo_report_run_data d;
	const char *test, *run_id;
};

/* Loads one run of a report; on failure sets a 400 and returns -1. */
static int report_load_run(struct fo_req *rq, const char *owner, const char *test, const char *run_id,
			   struct report_run *out)
{
	struct fo_run_rec r;
	if (fo_store_run_get(rq->srv->store, rq->a, run_id, &r) != 0 || !r.owner || strcasecmp(r.owner, owner) != 0 ||
	    !r.test_name || strcmp(r.test_name, test) != 0) {
		fo_resp_error(rq, 400, "no run '%s' of test '%s' of %s", run_id, test, owner);
		return -1;
	}
	const char *dir = fo_server_run_dir(rq->srv, rq->a, r.owner, r.test_name, r.run_id);
	if (!fo_report_is_run(dir)) {
		fo_resp_error(rq, 400, "run '%s' of test '%s' has no performance data (it has no artifacts yet)",
			      run_id, test);
		return -1;
	}
	struct fo_err err = {0};
	int rc = fo_report_run_load(&out->d, dir, NULL, &err);
	if (rc == 0 && out->d.perf.n == 0)
		rc = fo_err_set(&err, FO_ENOTFOUND, "no interval logs");
	if (rc) {
		struct fo_buf m = FO_BUF_INIT;
		scrub(&m, err.msg, dir, run_id);
		fo_resp_error(rq, 400, "run '%s' of test '%s' has no performance data: %s", run_id, test, m.s);
		fo_buf_release(&m);
		return -1;
	}
	out->test = r.test_name;
	out->run_id = r.run_id;
	return 0;
}

/* POST /performance/run/api {reportName, reportTests: {"[owner/]test": [run ids]}}: the
 * runs side by side as <data>/reports/<id>.html; 201 {reportName, reportId, url}, 400 for an
 * unknown run or one without performance data. */
int fo_api_performance(struct fo_req *rq)
{
	json_error_t jerr;
	json_t *body = json_loadb(rq->body.s, rq->body.len, 0, &jerr);
	if (!body || !json_is_object(body)) {
		fo_resp_error(rq, 400, "the body is not a JSON object {reportName, reportTests}");
		json_decref(body);
		return 0;
	}
	json_t *jname = json_object_get(body, "reportName");
	json_t *jtests = json_object_get(body, "reportTests");
	if ((jname && !json_is_string(jname)) || !json_is_object(jtests) || json_object_size(jtests) == 0) {
		fo_resp_error(rq, 400, "give reportName (a string) and reportTests ({\"test\": [\"run id\", ...]})");
		json_decref(body);
		return 0;
	}
	const char *report_name = jname && json_string_length(jname) ? json_string_value(jname) : "performance report";
	const char *me = rq->user ? rq->user->email : "";
	struct report_run *runs = NULL;
	size_t n = 0, cap = 0;
	bool failed = false;
	const char *key;
	json_t *ids;
	json_object_foreach(jtests, key, ids)
	{
		if (failed)
			break;
		const char *slash = strrchr(key, '/');
		const char *owner = slash ? fo_arena_strndup(rq->a, key, (size_t)(slash - key)) : me;
		const char *test = slash ? slash + 1 : key;
		if (!json_is_array(ids) || json_array_size(ids) == 0) {
			fo_resp_error(rq, 400, "reportTests '%s' wants a list of run ids", key);
			failed = true;
			break;
		}
		size_t i;
		json_t *id;
		json_array_foreach(ids, i, id)
		{
			if (!json_is_string(id)) {
				fo_resp_error(rq, 400, "reportTests '%s' wants a list of run ids", key);
				failed = true;
				break;
			}
			if (n >= REPORT_MAX_RUNS) {
				fo_resp_error(rq, 400, "a report takes at most %d runs", REPORT_MAX_RUNS);
				failed = true;
				break;
			}
			FO_GROW(runs, cap, n + 1);
			memset(&runs[n], 0, sizeof(runs[n]));
			int rc = report_load_run(rq, owner, test, json_string_value(id), &runs[n]);
			n++; /* released below either way */
			if (rc) {
				failed = true;
				break;
			}
		}
	}
	if (!failed) {
		struct fo_report_run *rr = fo_calloc(n, sizeof(*rr));
		bool several_tests = false;
		for (size_t i = 1; i < n; i++)
			several_tests |= strcmp(runs[i].test, runs[0].test) != 0;
		for (size_t i = 0; i < n; i++) {
			rr[i] = runs[i].d.run;
			rr[i].label = several_tests ? fo_arena_printf(rq->a, "%s %s", runs[i].test, runs[i].run_id)
						    : runs[i].run_id;
		}
		char id[37];
		fo_run_new_id(id);
		struct fo_err err = {0};
		const char *rdir = fo_arena_printf(rq->a, "%s/reports", rq->srv->data_dir);
		const char *path = fo_arena_printf(rq->a, "%s/%s.html", rdir, id);
		struct fo_html_opts o = {.title = report_name};
		int rc = fo_mkdirs(rdir, &err);
		if (!rc)
			rc = fo_report_html(rr, n, &o, path, &err);
		if (rc) {
			fo_resp_error(rq, 500, "cannot write the report '%s'", report_name);
		} else {
			struct fo_buf out = FO_BUF_INIT;
			fo_buf_adds(&out, "{\"reportName\": ");
			fo_buf_add_json_str(&out, report_name, strlen(report_name));
			fo_buf_addf(&out, ", \"reportId\": \"%s\", \"url\": \"/performance/reports/%s\"}", id, id);
			fo_resp_header(rq, "Location", fo_arena_printf(rq->a, "%s/performance/reports/%s",
								      rq->srv->url ? rq->srv->url : "", id));
			fo_resp_json_buf(rq, 201, &out);
		}
		fo_free(rr);
	}
	for (size_t i = 0; i < n; i++)
		fo_report_run_release(&runs[i].d);
	fo_free(runs);
	json_decref(body);
	return 0;
}

/* GET /performance/reports/{report}: a report built by fo_api_performance, with a CSP that
 * lets its own inline script run and nothing else load. */
int fo_api_performance_get(struct fo_req *rq)
{
	const char *id = fo_req_param(rq, "report");
	size_t len = id ? strlen(id) : 0;
	bool ok = len > 0 && len <= 64;
	for (size_t i = 0; ok && i < len; i++)
		ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') || id[i] == '-';
	if (!ok) {
		fo_resp_error(rq, 404, "no report '%s'", id ? id : "");
		return 0;
	}
	const char *path = fo_arena_printf(rq->a, "%s/reports/%s.html", rq->srv->data_dir, id);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fo_resp_error(rq, 404, "no report '%s'", id);
		return 0;
	}
	fo_resp_header(rq, "Content-Security-Policy", REPORT_CSP);
	fo_resp_fd(rq, 200, "text/html; charset=utf-8", fd, (uint64_t)st.st_size);
	return 0;
}
