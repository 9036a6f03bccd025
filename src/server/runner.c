/*
 * runner.c: the processes of the queue's runs. Starting one (its spool folder with the
 * definition and parameters, `fallout exec` in a session of its own with the owner's
 * secrets in its environment), watching them all from one thread (a pidfd per run, and
 * testrun.json re-read every second so the store follows the run's state live), finishing
 * a run when its process ends (its result from testrun.json, or from exec's log when there
 * is none; secrets redacted; the artifacts map), and recovering the runs an earlier server
 * left behind: re-adopted when their process still lives, else finished or, when their
 * result is lost, cleaned up through their ledger and aborted.
 *
 * We never waitpid(-1): other parts of the program have children of their own. A run
 * process is reaped by its own pid, and only when it is our child (a re-adopted one is
 * not).
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ledger.h"
#include "server/queue.h"
#include "server/queue_internal.h"
#include "server/store.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"

extern char **environ;

bool fo__state_final(const char *state)
{
	return state && (strcmp(state, "PASSED") == 0 || strcmp(state, "FAILED") == 0 || strcmp(state, "ABORTED") == 0);
}

/* ---- files ---- */

static void walk(const char *path, const char *rel, fo__walk_fn fn, void *ctx, int depth)
{
	if (depth > 64)
		return;
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	struct fo_buf p = FO_BUF_INIT, r = FO_BUF_INIT;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		fo_buf_clear(&p);
		fo_buf_addf(&p, "%s/%s", path, e->d_name);
		fo_buf_clear(&r);
		fo_buf_addf(&r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		struct stat st;
		if (lstat(p.s, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(p.s, r.s, fn, ctx, depth + 1);
		else if (S_ISREG(st.st_mode))
			fn(ctx, p.s, r.s, &st);
	}
	closedir(d);
	fo_buf_release(&p);
	fo_buf_release(&r);
}

void fo__walk_files(const char *root, fo__walk_fn fn, void *ctx)
{
	walk(root, "", fn, ctx, 0);
}

/* Writes len bytes to path through a temporary file renamed into place, with mode. */
static int write_atomically(const char *path, const char *s, size_t len, mode_t mode)
{
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.fallout-tmp", path);
	int fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	int rc = fd < 0 ? -1 : 0;
	for (size_t off = 0; rc == 0 && off < len;) {
		ssize_t w = write(fd, s + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = -1;
		else
			off += (size_t)w;
	}
	if (fd >= 0) {
		fchmod(fd, mode & 07777);
		if (close(fd) != 0)
			rc = -1;
	}
	if (rc == 0 && rename(tmp.s, path) != 0)
		rc = -1;
	if (rc != 0)
		unlink(tmp.s);
	fo_buf_release(&tmp);
	return rc;
}

static int write_file(const char *path, const char *s)
{
	return write_atomically(path, s, strlen(s), 0644);
}

struct redact_ctx {
	const char *const *values;
	size_t n;
	int changed;
};

/* Files larger than this are not redacted (read whole into memory). */
#define REDACT_MAX_BYTES ((size_t)512 << 20)

static void redact_file(void *ctx, const char *path, const char *rel, const struct stat *st)
{
	FO_UNUSED(rel);
	struct redact_ctx *rc = ctx;
	if ((size_t)st->st_size > REDACT_MAX_BYTES || st->st_size == 0)
		return;
	struct fo_buf b = FO_BUF_INIT;
	if (fo_buf_read_file(&b, path, REDACT_MAX_BYTES, NULL) == 0 && fo_redact(&b, rc->values, rc->n) &&
	    write_atomically(path, b.s, b.len, st->st_mode) == 0)
		rc->changed++;
	fo_buf_release(&b);
}

int fo__redact_dir(const char *dir, const char *const *values, size_t n)
{
	/* A secret shorter than 4 characters is not redacted from artifacts: it would match by
	 * chance in collected files (the engine still redacts it from its own logs). */
	const char **kept = fo_calloc(n ? n : 1, sizeof(*kept));
	size_t nkept = 0;
	for (size_t i = 0; i < n; i++)
		if (values[i] && strlen(values[i]) >= 4)
			kept[nkept++] = values[i];
	struct redact_ctx rc = {.values = kept, .n = nkept};
	if (nkept)
		fo__walk_files(dir, redact_file, &rc);
	fo_free(kept);
	return rc.changed;
}

struct artifacts_ctx {
	json_t *obj;
	int64_t bytes;
};

static void add_artifact(void *ctx, const char *path, const char *rel, const struct stat *st)
{
	FO_UNUSED(path);
	struct artifacts_ctx *ac = ctx;
	if (fo_ends_with(rel, ".fallout-tmp"))
		return;
	json_object_set_new(ac->obj, rel, json_integer((json_int_t)st->st_size));
	ac->bytes += (int64_t)st->st_size;
}

void fo__artifacts_json(const char *dir, struct fo_buf *out, int64_t *bytes)
{
	struct artifacts_ctx ac = {.obj = json_object()};
	fo__walk_files(dir, add_artifact, &ac);
	char *s = json_dumps(ac.obj, JSON_COMPACT | JSON_SORT_KEYS);
	fo_buf_adds(out, s ? s : "{}");
	free(s);
	json_decref(ac.obj);
	*bytes = ac.bytes;
}

/* ---- run entries ---- */

static const char *spool_of(struct fo_queue *q, struct fo_arena *a, const char *run_id)
{
	return fo_arena_printf(a, "%s/%s", q->srv->spool_dir, run_id);
}

void fo__qrun_free(struct fo__qrun *r)
{
	if (!r)
		return;
	if (r->pidfd >= 0)
		close(r->pidfd);
	for (size_t i = 0; i < r->nneeds; i++)
		fo_free((char *)r->needs[i].provisioner);
	fo_free(r->needs);
	fo_free(r->run_id);
	fo_free(r->owner);
	fo_free(r->test_name);
	fo_free(r->run_dir);
	fo_free(r->spool_dir);
	fo_free(r->abort_reason);
	fo_free(r->state);
	fo_free(r->failed_during);
	fo_free(r->failure);
	fo_free(r);
}

static char *dup_or_null(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

/* A run entry for rec (not yet watched), whose run folder is run_dir. */
static struct fo__qrun *qrun_new(struct fo_queue *q, const struct fo_run_rec *rec, const char *run_dir)
{
	struct fo_arena *a = fo_arena_new();
	struct fo__qrun *r = fo_calloc(1, sizeof(*r));
	r->run_id = fo_strdup(rec->run_id);
	r->owner = fo_strdup(rec->owner);
	r->test_name = fo_strdup(rec->test_name);
	r->run_dir = fo_strdup(run_dir);
	r->spool_dir = fo_strdup(spool_of(q, a, rec->run_id));
	r->pidfd = -1;
	r->state = dup_or_null(rec->state);
	r->failed_during = dup_or_null(rec->failed_during);
	r->failure = dup_or_null(rec->failure);
	struct fo__qneed *needs;
	r->nneeds = fo__queue_parse_needs(a, rec->resources, &needs);
	r->needs = fo_calloc(r->nneeds ? r->nneeds : 1, sizeof(*r->needs));
	for (size_t i = 0; i < r->nneeds; i++)
		r->needs[i] = (struct fo__qneed){fo_strdup(needs[i].provisioner), needs[i].nodes};
	fo_arena_free(a);
	return r;
}

/* Adds r to the watched runs (q->lock held). */
static void watch(struct fo_queue *q, struct fo__qrun *r)
{
	FO_GROW(q->runs, q->capruns, q->nruns + 1);
	q->runs[q->nruns++] = r;
	fo__queue_wake_watcher(q);
}

void fo__queue_wake_watcher(struct fo_queue *q)
{
	if (q->evfd >= 0) {
		uint64_t one = 1;
		ssize_t w = write(q->evfd, &one, sizeof(one));
		FO_UNUSED(w);
	}
}

/* ---- starting ---- */

int fo__queue_spawn(struct fo_queue *q, const struct fo_run_rec *rec0, struct fo_err *err)
{
	struct fo_server *srv = q->srv;
	const struct fo_server_config *cfg = srv->cfg;
	struct fo_arena *a = fo_arena_new();
	/* NULL for names that cannot be folder names: checked before any folder is touched */
	const char *run_dir = fo_server_run_dir(srv, a, rec0->owner, rec0->test_name, rec0->run_id);
	if (!run_dir) {
		fo_arena_free(a);
		return fo_err_set(err, FO_EINVAL, "invalid run '%s' of test '%s'", rec0->run_id, rec0->test_name);
	}
	struct fo_run_rec rec = *rec0;
	int rc = 0, logfd = -1, nullfd = -1;
	const char *spool = spool_of(q, a, rec.run_id);
	fo_remove_tree(spool, false, NULL);
	if (fo_mkdirs(spool, err) != 0) {
		rc = err->code;
		goto out;
	}
	const char *yaml = fo_arena_printf(a, "%s/%s.yaml", spool, rec.test_name);
	const char *params = fo_arena_printf(a, "%s/params.json", spool);
	const char *log = fo_arena_printf(a, "%s/exec.log", spool);
	if (write_file(yaml, rec.definition ? rec.definition : "") != 0 ||
	    write_file(params, rec.params && *rec.params ? rec.params : "{}") != 0) {
		rc = fo_err_set(err, FO_EIO, "cannot write the run's files in '%s': %s", spool, strerror(errno));
		goto out;
	}
	/* exec -o needs a new or empty folder: a leftover of a start that did not complete goes */
	fo_remove_tree(run_dir, false, NULL);
	char *parent = fo_arena_strdup(a, run_dir);
	if (fo_mkdirs(dirname(parent), err) != 0) {
		rc = err->code;
		goto out;
	}
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot open '%s': %s", log, strerror(errno));
		goto out;
	}
	/* the command line */
	const char *exe = cfg->fallout_exe && *cfg->fallout_exe ? cfg->fallout_exe : "/proc/self/exe";
	const char *argv[20];
	size_t ac = 0;
	argv[ac++] = exe;
	argv[ac++] = "exec";
	argv[ac++] = "-o";
	argv[ac++] = run_dir;
	argv[ac++] = "--run-id";
	argv[ac++] = rec.run_id;
	argv[ac++] = "--owner";
	argv[ac++] = rec.owner;
	argv[ac++] = "--test-name";
	argv[ac++] = rec.test_name;
	if (cfg->library && *cfg->library) {
		argv[ac++] = "--library";
		argv[ac++] = cfg->library;
	}
	argv[ac++] = "--params";
	argv[ac++] = params;
	argv[ac++] = "--";
	argv[ac++] = yaml;
	argv[ac] = NULL;
	/* the environment: ours without TERM, with the state folder and the owner's secrets */
	const char **names = NULL, **values = NULL;
	size_t nsecrets = 0;
	if (fo_store_secret_list(srv->store, a, rec.owner, &names, &values, &nsecrets) != 0)
		nsecrets = 0;
	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	const char **envp = FO_ANEWN(a, const char *, nenv + nsecrets + 2);
	size_t ne = 0;
	for (size_t i = 0; i < nenv; i++) {
		const char *e = environ[i];
		if (strncmp(e, "TERM=", 5) == 0 || strncmp(e, "FALLOUT_STATE_DIR=", 18) == 0 ||
		    strncmp(e, "FALLOUT_SECRET_", 15) == 0)
			continue;
		envp[ne++] = e;
	}
	envp[ne++] = fo_arena_printf(a, "FALLOUT_STATE_DIR=%s", srv->state_dir);
	for (size_t i = 0; i < nsecrets; i++)
		envp[ne++] = fo_arena_printf(a, "FALLOUT_SECRET_%s=%s", names[i], values[i] ? values[i] : "");
	envp[ne] = NULL;
	long maxfd = sysconf(_SC_OPEN_MAX);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	pid_t pid = fork();
	if (pid < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot start a process: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* the child: only async-signal-safe calls from here */
		setsid();
		/* signals the server ignores or blocks would stay so across execve: reset them */
		static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD};
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigemptyset(&dfl.sa_mask);
		for (size_t i = 0; i < FO_ARRAY_LEN(sigs); i++)
			sigaction(sigs[i], &dfl, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
#ifdef SYS_close_range
		if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
			for (long fd = 3; fd < maxfd; fd++)
				close((int)fd);
		execve(exe, (char *const *)argv, (char *const *)envp);
		static const char msg[] = "fallout serve: cannot run fallout exec\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		FO_UNUSED(w);
		_exit(127);
	}
	struct fo__qrun *r = qrun_new(q, &rec, run_dir);
	r->pid = pid;
	r->pid_start = fo_proc_start_time(pid);
	r->pidfd = fo_proc_pidfd(pid);
	r->child = true;
	fo_free(r->state);
	r->state = fo_strdup("PREPARING_RUN");
	rec.state = "PREPARING_RUN";
	rec.started_at = fo_now_ms();
	rec.pid = pid;
	rec.pid_start = (int64_t)r->pid_start;
	if (fo_store_run_update(srv->store, &rec) != 0)
		fprintf(stderr, "fallout serve: run %s started (pid %d) but the store did not record it\n", rec.run_id,
			(int)pid);
	fprintf(stderr, "fallout serve: run %s of %s's test '%s' started (pid %d)\n", rec.run_id, rec.owner,
		rec.test_name, (int)pid);
	fo__queue_note_start(q, rec.owner, rec.started_at);
	watch(q, r);
out:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	if (rc) /* no process will use it: the run fails now, and its spool folder goes */
		fo_remove_tree(spool, false, NULL);
	fo_arena_free(a);
	return rc;
}

/* ---- testrun.json ---- */

struct testrun {
	json_t *j;                   /* owned; NULL when unreadable */
	const char *state, *failed_during, *failure; /* borrowed from j */
};

static void testrun_read(const char *run_dir, struct testrun *t)
{
	memset(t, 0, sizeof(*t));
	struct fo_buf path = FO_BUF_INIT;
	fo_buf_addf(&path, "%s/testrun.json", run_dir);
	t->j = json_load_file(path.s, 0, NULL);
	fo_buf_release(&path);
	if (!json_is_object(t->j)) {
		json_decref(t->j);
		t->j = NULL;
		return;
	}
	t->state = json_string_value(json_object_get(t->j, "state"));
	t->failed_during = json_string_value(json_object_get(t->j, "failedDuring"));
	t->failure = json_string_value(json_object_get(t->j, "failureReason"));
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void set_str(char **dst, const char *s)
{
	fo_free(*dst);
	*dst = dup_or_null(s);
}

/* Copies the run's live state from testrun.json into the store when it changed. Final
 * states are left to finish_run, which records them with everything else at once. */
static void refresh(struct fo_queue *q, struct fo__qrun *r)
{
	struct testrun t;
	testrun_read(r->run_dir, &t);
	if (!t.state || fo__state_final(t.state) || strcmp(t.state, "CREATED") == 0 ||
	    (same(t.state, r->state) && same(t.failed_during, r->failed_during) && same(t.failure, r->failure))) {
		json_decref(t.j);
		return;
	}
	set_str(&r->state, t.state);
	set_str(&r->failed_during, t.failed_during);
	set_str(&r->failure, t.failure);
	struct fo_arena *a = fo_arena_new();
	struct fo_run_rec rec;
	if (fo_store_run_get(q->srv->store, a, r->run_id, &rec) == 0 && !fo__state_final(rec.state)) {
		rec.state = r->state;
		rec.failed_during = r->failed_during;
		rec.failure = r->failure;
		fo_store_run_update(q->srv->store, &rec);
	}
	fo_arena_free(a);
	json_decref(t.j);
}

const char *fo__log_tail(struct fo_arena *a, const char *path, const char *spool)
{
	struct fo_buf b = FO_BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		off_t size = lseek(fd, 0, SEEK_END);
		off_t from = size > 16384 ? size - 16384 : 0;
		lseek(fd, from, SEEK_SET);
		char chunk[4096];
		ssize_t n;
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			fo_buf_add(&b, chunk, (size_t)n);
		close(fd);
	}
	/* strip trailing blank lines, then take the last lines */
	size_t end = b.len;
	while (end > 0 && (b.s[end - 1] == '\n' || b.s[end - 1] == ' ' || b.s[end - 1] == '\r'))
		end--;
	size_t start = end;
	int lines = 0;
	while (start > 0 && lines < 20 && end - start < 4000) {
		start--;
		if (b.s[start] == '\n')
			lines++;
	}
	if (start < end && b.s[start] == '\n')
		start++;
	const char *res = NULL;
	if (start < end) {
		struct fo_buf o = FO_BUF_INIT;
		size_t sl = strlen(spool);
		for (size_t i = start; i < end;) {
			if (sl && end - i > sl && memcmp(b.s + i, spool, sl) == 0 && b.s[i + sl] == '/') {
				i += sl + 1;
				continue;
			}
			/* drop blank lines, and exec's progress lines ("[ 0.11s] RUNNING"): not reasons */
			bool line_start = i == start || b.s[i - 1] == '\n';
			if (line_start && (b.s[i] == '\n' || b.s[i] == '[')) {
				while (i < end && b.s[i] != '\n')
					i++;
				i++;
				continue;
			}
			fo_buf_addch(&o, b.s[i++]);
		}
		while (o.len && o.s[o.len - 1] == '\n')
			fo_buf_truncate(&o, o.len - 1);
		res = o.len ? fo_arena_strdup(a, o.s) : NULL;
		fo_buf_release(&o);
	}
	fo_buf_release(&b);
	return res;
}

/* Undoes, through its ledger, what a run whose process ended without a result left
 * behind (fo_ledger_cleanup only touches runs whose process is gone). */
static void cleanup_leftovers(const struct fo__qrun *r)
{
	struct fo_cleanup_report rep = {0};
	struct fo_err err = {0};
	int rc = fo_ledger_cleanup(&rep, &err);
	if (rep.runs || rc)
		fprintf(stderr,
			"fallout serve: run %s ended without a result; ledger cleanup: %d process group(s) killed, "
			"%d folder(s) removed%s%s\n",
			r->run_id, rep.procs, rep.dirs, rc ? ": " : "", rc ? err.msg : "");
}

/* Copies file src to dst (replacing it). */
static void copy_file(const char *src, const char *dst)
{
	struct fo_buf b = FO_BUF_INIT;
	if (fo_buf_read_file(&b, src, (size_t)1 << 30, NULL) == 0)
		write_atomically(dst, b.s, b.len, 0644);
	fo_buf_release(&b);
}

/*
 * Finishes r, whose process has ended: records the result (forced_state, when not NULL,
 * wins over testrun.json), redacts the owner's secrets, keeps exec's log, computes the
 * artifacts, removes the spool folder. status is the process's wait status, or -1.
 */
static void finish_run(struct fo_queue *q, struct fo__qrun *r, int status, const char *forced_state,
		       const char *forced_during, const char *forced_reason)
{
	struct fo_store *store = q->srv->store;
	struct fo_arena *a = fo_arena_new();
	struct fo_run_rec rec;
	if (fo_store_run_get(store, a, r->run_id, &rec) != 0) {
		fprintf(stderr, "fallout serve: run %s ended but is no longer in the store\n", r->run_id);
		fo_remove_tree(r->spool_dir, false, NULL);
		fo_arena_free(a);
		return;
	}
	struct testrun t;
	testrun_read(r->run_dir, &t);
	/* fo_queue_abort sets the reason under the queue's lock: take a copy under it */
	pthread_mutex_lock(&q->lock);
	const char *abort_reason = r->abort_reason ? fo_arena_strdup(a, r->abort_reason) : NULL;
	pthread_mutex_unlock(&q->lock);
	const char *last = r->state && strcmp(r->state, "CREATED") != 0 ? r->state : "PREPARING_RUN";
	const char *state, *during, *failure;
	if (forced_state) {
		state = forced_state;
		during = forced_during;
		failure = forced_reason;
	} else if (fo__state_final(t.state)) {
		state = t.state;
		during = t.failed_during;
		failure = t.failure;
		/* an abort we asked for: our reason says who, where the engine's says "aborted" */
		if (strcmp(state, "ABORTED") == 0 && abort_reason &&
		    (!failure || !*failure || strcmp(failure, "aborted") == 0))
			failure = abort_reason;
	} else {
		/* no result: whatever the run left behind goes, then we say why it ended */
		cleanup_leftovers(r);
		during = last;
		if (abort_reason) {
			state = "ABORTED";
			failure = abort_reason;
		} else {
			state = "FAILED";
			const char *log = fo_arena_printf(a, "%s/exec.log", r->spool_dir);
			failure = fo__log_tail(a, log, r->spool_dir);
		}
		if (!failure) {
			if (status >= 0 && WIFSIGNALED(status))
				failure = fo_arena_printf(a, "the run's process was killed by signal %d",
							  WTERMSIG(status));
			else if (status >= 0 && WIFEXITED(status))
				failure = fo_arena_printf(a, "the run's process ended with status %d and no result",
							  WEXITSTATUS(status));
			else
				failure = "the run's process ended without a result";
		}
	}
	/* results: the verdicts and notes */
	json_t *res = json_object();
	json_t *checkers = t.j ? json_object_get(json_object_get(t.j, "results"), "checkers") : NULL;
	json_t *notes = t.j ? json_object_get(t.j, "notes") : NULL;
	json_object_set_new(res, "checkers", json_is_array(checkers) ? json_incref(checkers) : json_array());
	json_object_set_new(res, "notes", json_is_array(notes) ? json_incref(notes) : json_array());
	char *res_s = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	/* the run folder: exec's own output, secrets out, the map of what is there */
	fo_mkdirs(r->run_dir, NULL);
	copy_file(fo_arena_printf(a, "%s/exec.log", r->spool_dir), fo_arena_printf(a, "%s/fallout-exec.log", r->run_dir));
	const char **names = NULL, **values = NULL;
	size_t nsecrets = 0;
	if (fo_store_secret_list(store, a, r->owner, &names, &values, &nsecrets) == 0 && nsecrets)
		fo__redact_dir(r->run_dir, values, nsecrets);
	struct fo_buf art = FO_BUF_INIT;
	int64_t bytes = 0;
	fo__artifacts_json(r->run_dir, &art, &bytes);
	rec.state = state;
	rec.failed_during = strcmp(state, "PASSED") == 0 ? NULL : during;
	rec.failure = strcmp(state, "PASSED") == 0 ? NULL : failure;
	rec.results = res_s;
	rec.artifacts = art.s;
	rec.artifacts_bytes = bytes;
	rec.finished_at = fo_now_ms();
	if (!rec.started_at)
		rec.started_at = rec.finished_at;
	rec.pid = 0;
	rec.pid_start = 0;
	if (fo_store_run_update(store, &rec) != 0)
		fprintf(stderr, "fallout serve: cannot record the end of run %s\n", r->run_id);
	fprintf(stderr, "fallout serve: run %s %s%s%s\n", r->run_id, state, rec.failure ? ": " : "",
		rec.failure ? rec.failure : "");
	fo_remove_tree(r->spool_dir, false, NULL);
	free(res_s);
	fo_buf_release(&art);
	json_decref(t.j);
	fo_arena_free(a);
}

/* ---- watching ---- */

/* True if r's process has ended; reaps it when it is our child (status set, else -1). */
static bool ended(struct fo__qrun *r, bool pidfd_ready, int *status)
{
	*status = -1;
	if (r->child) {
		pid_t w = waitpid(r->pid, status, WNOHANG);
		if (w == r->pid)
			return true;
		if (w < 0 && errno == ECHILD) {
			*status = -1; /* reaped by someone else */
			return pidfd_ready || !fo_proc_alive(r->pid, r->pid_start);
		}
		return false;
	}
	if (pidfd_ready)
		return true;
	return !fo_proc_alive(r->pid, r->pid_start);
}

void *fo__queue_watcher(void *arg)
{
	struct fo_queue *q = arg;
	struct pollfd *fds = NULL;
	struct fo__qrun **snap = NULL;
	size_t cap = 0, capsnap = 0;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		if (q->stopping) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		size_t n = q->nruns;
		FO_GROW(fds, cap, n + 1);
		FO_GROW(snap, capsnap, n + 1);
		fds[0] = (struct pollfd){.fd = q->evfd, .events = POLLIN};
		for (size_t i = 0; i < n; i++) {
			snap[i] = q->runs[i];
			fds[i + 1] = (struct pollfd){.fd = snap[i]->pidfd, .events = POLLIN};
		}
		pthread_mutex_unlock(&q->lock);
		int pr = poll(fds, n + 1, 1000);
		if (pr > 0 && (fds[0].revents & POLLIN)) {
			uint64_t v;
			ssize_t rd = read(q->evfd, &v, sizeof(v));
			FO_UNUSED(rd);
		}
		/* only this thread removes runs, so the snapshot's entries stay valid */
		bool any_ended = false;
		for (size_t i = 0; i < n; i++) {
			struct fo__qrun *r = snap[i];
			int status;
			bool ready = pr > 0 && fds[i + 1].fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR));
			if (!ended(r, ready, &status)) {
				refresh(q, r);
				continue;
			}
			finish_run(q, r, status, NULL, NULL, NULL);
			pthread_mutex_lock(&q->lock);
			for (size_t k = 0; k < q->nruns; k++) {
				if (q->runs[k] == r) {
					q->runs[k] = q->runs[--q->nruns];
					break;
				}
			}
			pthread_mutex_unlock(&q->lock);
			fo__qrun_free(r);
			any_ended = true;
		}
		if (any_ended)
			fo_queue_kick(q);
	}
	fo_free(fds);
	fo_free(snap);
	return NULL;
}

/* ---- recovery ---- */

static const char *const running_states[] = {"PREPARING_RUN", "CHECKING_RESOURCES", "RESERVING_RESOURCES",
					     "ACQUIRING_RESOURCES", "SETTING_UP", "RUNNING",
					     "TEARING_DOWN", "CHECKING_ARTIFACTS", NULL};

/* The process running `exec ... --run-id ID` (a run started by a server that died before
 * it could record the start), or 0. Scans /proc. */
static pid_t find_run_process(const char *run_id)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		struct fo_buf cmd = FO_BUF_INIT;
		if (fo_buf_read_file(&cmd, path, 1 << 20, NULL) == 0) {
			/* NUL-separated arguments: look for "--run-id" followed by the id */
			for (size_t at = 0; at < cmd.len;) {
				const char *arg = cmd.s + at;
				size_t len = strlen(arg);
				if (strcmp(arg, "--run-id") == 0 && at + len + 1 < cmd.len &&
				    strcmp(arg + len + 1, run_id) == 0) {
					found = (pid_t)pid;
					break;
				}
				at += len + 1;
			}
		}
		fo_buf_release(&cmd);
	}
	closedir(d);
	return found;
}

/*
 * Queued runs an earlier server had begun to start when it died (its spool folder exists:
 * it died between making it and recording the start, a moment). The run's process, if it
 * got going, is found by its --run-id and recorded, so the pass below re-adopts it; one
 * that left a testrun.json is recorded as started, so the pass below finishes or aborts
 * it; otherwise the attempt left nothing of value and the run simply stays queued.
 */
static void recover_half_started(struct fo_queue *q, struct fo_arena *a)
{
	struct fo_run_filter f = {.states = fo__queued_states, .oldest_first = true};
	struct fo_run_rec *recs = NULL;
	size_t n = 0;
	if (fo_store_run_list(q->srv->store, a, &f, &recs, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct fo_run_rec *rec = &recs[i];
		const char *spool = spool_of(q, a, rec->run_id);
		const char *run_dir = fo_server_run_dir(q->srv, a, rec->owner, rec->test_name, rec->run_id);
		if (!run_dir || !fo_is_dir(spool))
			continue; /* never started (names that cannot be folders never are) */
		pid_t pid = find_run_process(rec->run_id);
		struct stat st;
		bool has_testrun = stat(fo_arena_printf(a, "%s/testrun.json", run_dir), &st) == 0;
		if (pid || has_testrun) {
			rec->state = "PREPARING_RUN";
			rec->started_at = rec->started_at ? rec->started_at : fo_now_ms();
			rec->pid = pid;
			rec->pid_start = pid ? (int64_t)fo_proc_start_time(pid) : 0;
			fprintf(stderr, "fallout serve: recovery: run %s was being started%s\n", rec->run_id,
				pid ? fo_arena_printf(a, ": its process %d runs", (int)pid) : "");
			fo_store_run_update(q->srv->store, rec);
		} else {
			fprintf(stderr, "fallout serve: recovery: run %s was being started; it stays queued\n",
				rec->run_id);
			fo_remove_tree(spool, false, NULL);
			fo_remove_tree(run_dir, false, NULL);
		}
	}
}

void fo__queue_recover(struct fo_queue *q)
{
	struct fo_arena *a = fo_arena_new();
	recover_half_started(q, a);
	struct fo_run_filter f = {.states = running_states, .oldest_first = true};
	struct fo_run_rec *recs = NULL;
	size_t n = 0;
	if (fo_store_run_list(q->srv->store, a, &f, &recs, &n) != 0 || n == 0) {
		fo_arena_free(a);
		return;
	}
	struct fo__qrun **dead = FO_ANEWN(a, struct fo__qrun *, n);
	size_t ndead = 0;
	for (size_t i = 0; i < n; i++) {
		struct fo_run_rec *rec = &recs[i];
		const char *run_dir = fo_server_run_dir(q->srv, a, rec->owner, rec->test_name, rec->run_id);
		if (!run_dir) { /* no process ever ran it: fo__queue_spawn refuses such names */
			fo__queue_fail_rec(q, a, rec, "ABORTED", rec->state, "the run's names cannot be folder names");
			continue;
		}
		struct fo__qrun *r = qrun_new(q, rec, run_dir);
		r->pid = (pid_t)rec->pid;
		r->pid_start = (uint64_t)rec->pid_start;
		if (fo_proc_alive(r->pid, r->pid_start)) {
			r->pidfd = fo_proc_pidfd(r->pid);
			r->child = false;
			fprintf(stderr, "fallout serve: recovery: run %s (%s) still runs as process %d: re-adopted\n",
				rec->run_id, rec->state, (int)rec->pid);
			pthread_mutex_lock(&q->lock);
			fo__queue_note_start(q, rec->owner, rec->started_at);
			watch(q, r);
			pthread_mutex_unlock(&q->lock);
			continue;
		}
		struct testrun t;
		testrun_read(r->run_dir, &t);
		bool final = fo__state_final(t.state);
		json_decref(t.j);
		if (final) {
			fprintf(stderr, "fallout serve: recovery: run %s: process %d is gone; its testrun.json is final\n",
				rec->run_id, (int)rec->pid);
			finish_run(q, r, -1, NULL, NULL, NULL);
			fo__qrun_free(r);
			continue;
		}
		dead[ndead++] = r;
	}
	if (ndead) {
		struct fo_cleanup_report rep = {0};
		struct fo_err err = {0};
		int rc = fo_ledger_cleanup(&rep, &err);
		fprintf(stderr,
			"fallout serve: recovery: ledger cleanup of %d dead run(s): %d process group(s) killed, "
			"%d folder(s) removed%s%s\n",
			rep.runs, rep.procs, rep.dirs, rc ? ": " : "", rc ? err.msg : "");
	}
	for (size_t i = 0; i < ndead; i++) {
		struct fo__qrun *r = dead[i];
		const char *st = r->state ? r->state : "PREPARING_RUN";
		char *why = fo_arena_printf(a,
					    "the server stopped while the run was %s and its process %d was gone; its "
					    "leftovers were cleaned up",
					    st, (int)r->pid);
		fprintf(stderr, "fallout serve: recovery: run %s aborted: %s\n", r->run_id, why);
		finish_run(q, r, -1, "ABORTED", st, why);
		fo__qrun_free(r);
	}
	fo_arena_free(a);
}
