/*
 * artifacts.c: a run's artifacts without HTTP (artifacts.h): the path checker, opening
 * below a run folder one component at a time with O_NOFOLLOW, the sorted listing, the zip
 * (libzip, loaded with dlopen on first use: only this needs it, and linking it would cost
 * every fallout command its start-up), content types, and the server-sent-events follower
 * of a growing log.
 */
#include "util/common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "server/artifacts.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- paths ---- */

bool fo_artifact_path_ok(const char *path, size_t len)
{
	if (!path || len == 0 || len > FO_ARTIFACT_PATH_MAX || path[0] == '/')
		return false;
	size_t seg = 0; /* length of the current segment */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
		if (c == '.' && i + 1 < len && path[i + 1] == '.')
			return false;
		if (c == '/') {
			if (seg == 0)
				return false;
			if (seg == 1 && path[i - 1] == '.')
				return false;
			seg = 0;
			continue;
		}
		if (++seg > FO_ARTIFACT_NAME_MAX)
			return false;
	}
	if (seg == 0) /* ends with "/" */
		return false;
	if (seg == 1 && path[len - 1] == '.')
		return false;
	return true;
}

int fo_artifact_root_open(const char *run_dir)
{
	int fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int fo_artifact_open(int rootfd, const char *path, struct stat *st)
{
	size_t len = strlen(path);
	if (!fo_artifact_path_ok(path, len))
		return -EINVAL;
	char comp[FO_ARTIFACT_NAME_MAX + 1];
	int dir = rootfd;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		int fd;
		if (slash)
			fd = openat(dir, comp, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		else
			fd = openat(dir, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		int e = errno;
		if (dir != rootfd)
			close(dir);
		if (fd < 0)
			return e == ENOTDIR && slash ? -ELOOP : -e;
		if (!slash) {
			struct stat sb;
			if (fstat(fd, &sb) != 0) {
				e = errno;
				close(fd);
				return -e;
			}
			if (!S_ISREG(sb.st_mode)) {
				close(fd);
				return -EINVAL;
			}
			int fl = fcntl(fd, F_GETFL);
			if (fl >= 0)
				(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			if (st)
				*st = sb;
			return fd;
		}
		dir = fd;
		p = slash + 1;
	}
}

/* ---- the listing ---- */

static void list_add(struct fo_artifact_list *l, const char *path, const struct stat *st)
{
	FO_GROW(l->v, l->cap, l->n + 1);
	l->v[l->n++] = (struct fo_artifact_entry){
	    .path = fo_strdup(path), .size = (uint64_t)st->st_size, .mtime = (int64_t)st->st_mtime};
}

/* Walks the folder dirfd (taken: closed here), whose path below the root is prefix. */
static void list_walk(int dirfd, struct fo_buf *prefix, int depth, struct fo_artifact_list *l)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	struct dirent *de;
	size_t keep = prefix->len;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		fo_buf_truncate(prefix, keep);
		if (keep)
			fo_buf_addch(prefix, '/');
		fo_buf_adds(prefix, name);
		if (!fo_artifact_path_ok(prefix->s, prefix->len))
			continue;
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			list_add(l, prefix->s, &st);
		} else if (S_ISDIR(st.st_mode) && depth < FO_ARTIFACT_MAX_DEPTH) {
			int sub = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0)
				list_walk(sub, prefix, depth + 1, l);
		}
	}
	fo_buf_truncate(prefix, keep);
	closedir(d);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fo_artifact_entry *)a)->path, ((const struct fo_artifact_entry *)b)->path);
}

int fo_artifact_list(int rootfd, struct fo_artifact_list *l)
{
	*l = (struct fo_artifact_list){0};
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct fo_buf prefix = FO_BUF_INIT;
	list_walk(fd, &prefix, 0, l);
	fo_buf_release(&prefix);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
	return 0;
}

void fo_artifact_list_release(struct fo_artifact_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fo_free(l->v[i].path);
	fo_free(l->v);
	*l = (struct fo_artifact_list){0};
}

void fo_artifact_list_json(const struct fo_artifact_list *l, struct fo_buf *out)
{
	fo_buf_addch(out, '{');
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			fo_buf_adds(out, ", ");
		fo_buf_add_json_str(out, l->v[i].path, strlen(l->v[i].path));
		fo_buf_addf(out, ": %llu", (unsigned long long)l->v[i].size);
	}
	fo_buf_addch(out, '}');
}

/* ---- content types ---- */

static const struct {
	const char *ext;
	const char *ctype;
	bool compressed;
} types[] = {
    {".log", "text/plain; charset=utf-8", false},
    {".txt", "text/plain; charset=utf-8", false},
    {".csv", "text/plain; charset=utf-8", false},
    {".hdr", "text/plain; charset=utf-8", false},
    {".hlog", "text/plain; charset=utf-8", false},
    {".hgrm", "text/plain; charset=utf-8", false},
    {".yaml", "text/plain; charset=utf-8", false},
    {".yml", "text/plain; charset=utf-8", false},
    {".conf", "text/plain; charset=utf-8", false},
    {".json", "application/json", false},
    {".jsonl", "text/plain; charset=utf-8", false},
    {".html", "text/html; charset=utf-8", false},
    {".svg", "image/svg+xml", false},
    {".png", "image/png", true},
    {".jpg", "application/octet-stream", true},
    {".gz", "application/gzip", true},
    {".tgz", "application/gzip", true},
    {".zip", "application/zip", true},
    {".xz", "application/octet-stream", true},
    {".zst", "application/octet-stream", true},
    {".bz2", "application/octet-stream", true},
};

static int type_index(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < FO_ARRAY_LEN(types); i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && strcasecmp(name + n - e, types[i].ext) == 0)
			return (int)i;
	}
	return -1;
}

const char *fo_artifact_ctype(const char *name)
{
	int i = type_index(name);
	return i < 0 ? "application/octet-stream" : types[i].ctype;
}

bool fo_artifact_is_compressed(const char *name)
{
	int i = type_index(name);
	return i >= 0 && types[i].compressed;
}

/* ---- the zip (libzip, loaded on first use) ---- */

static struct {
	zip_t *(*open)(const char *path, int flags, int *errorp);
	int (*close)(zip_t *za);
	void (*discard)(zip_t *za);
	const char *(*strerror)(zip_t *za);
	zip_int64_t (*file_add)(zip_t *za, const char *name, zip_source_t *src, zip_flags_t fl);
	zip_int64_t (*dir_add)(zip_t *za, const char *name, zip_flags_t fl);
	int (*set_file_compression)(zip_t *za, zip_uint64_t idx, zip_int32_t method, zip_uint32_t flags);
	int (*file_set_mtime)(zip_t *za, zip_uint64_t idx, time_t mtime, zip_flags_t fl);
	zip_source_t *(*source_function)(zip_t *za, zip_source_callback fn, void *ud);
	void (*source_free)(zip_source_t *src);
	zip_int64_t (*make_command_bitmap)(zip_source_cmd_t cmd, ...);
	void (*error_set)(zip_error_t *e, int ze, int se);
	void (*error_init_with_code)(zip_error_t *e, int ze);
	const char *(*error_strerror)(zip_error_t *e);
	void (*error_fini)(zip_error_t *e);
	zip_int64_t (*error_to_data)(const zip_error_t *e, void *data, zip_uint64_t len);
} lz;
static pthread_once_t zip_once = PTHREAD_ONCE_INIT;
static bool zip_ok;
static char zip_load_error[256];

static void zip_load(void)
{
	void *lib = dlopen("libzip.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(zip_load_error, sizeof(zip_load_error), "%s", dlerror());
		return;
	}
	*(void **)&lz.open = dlsym(lib, "zip_open");
	*(void **)&lz.close = dlsym(lib, "zip_close");
	*(void **)&lz.discard = dlsym(lib, "zip_discard");
	*(void **)&lz.strerror = dlsym(lib, "zip_strerror");
	*(void **)&lz.file_add = dlsym(lib, "zip_file_add");
	*(void **)&lz.dir_add = dlsym(lib, "zip_dir_add");
	*(void **)&lz.set_file_compression = dlsym(lib, "zip_set_file_compression");
	*(void **)&lz.file_set_mtime = dlsym(lib, "zip_file_set_mtime");
	*(void **)&lz.source_function = dlsym(lib, "zip_source_function");
	*(void **)&lz.source_free = dlsym(lib, "zip_source_free");
	*(void **)&lz.make_command_bitmap = dlsym(lib, "zip_source_make_command_bitmap");
	*(void **)&lz.error_set = dlsym(lib, "zip_error_set");
	*(void **)&lz.error_init_with_code = dlsym(lib, "zip_error_init_with_code");
	*(void **)&lz.error_strerror = dlsym(lib, "zip_error_strerror");
	*(void **)&lz.error_fini = dlsym(lib, "zip_error_fini");
	*(void **)&lz.error_to_data = dlsym(lib, "zip_error_to_data");
	if (!lz.open || !lz.close || !lz.discard || !lz.strerror || !lz.file_add || !lz.dir_add ||
	    !lz.set_file_compression || !lz.file_set_mtime || !lz.source_function || !lz.source_free ||
	    !lz.make_command_bitmap || !lz.error_set || !lz.error_init_with_code || !lz.error_strerror ||
	    !lz.error_fini || !lz.error_to_data) {
		snprintf(zip_load_error, sizeof(zip_load_error), "libzip.so.4 lacks a function fallout needs");
		return;
	}
	zip_ok = true;
}

/*
 * One file of the zip, read when libzip writes the archive (zip_close), one at a time, so
 * a run of ten thousand files does not hold ten thousand descriptors. It is opened again
 * with fo_artifact_open, and always gives exactly the size listed: cut when it grew,
 * padded with zeros when it shrank or can no longer be opened safely.
 */
struct zsrc {
	int rootfd;
	char *path;
	uint64_t size;
	time_t mtime;
	int fd;
	uint64_t pos;
	bool eof;
	zip_error_t error;
};

static zip_int64_t zsrc_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct zsrc *z = ud;
	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		z->fd = fo_artifact_open(z->rootfd, z->path, NULL);
		z->pos = 0;
		z->eof = false;
		return 0;
	case ZIP_SOURCE_READ: {
		if (z->pos >= z->size)
			return 0;
		uint64_t want = z->size - z->pos;
		if (want > len)
			want = len;
		ssize_t r = 0;
		if (z->fd >= 0 && !z->eof) {
			do
				r = pread(z->fd, data, (size_t)want, (off_t)z->pos);
			while (r < 0 && errno == EINTR);
			if (r <= 0) {
				z->eof = true;
				r = 0;
			}
		}
		if (r == 0) { /* shrank or vanished: pad */
			memset(data, 0, (size_t)want);
			r = (ssize_t)want;
		}
		z->pos += (uint64_t)r;
		return r;
	}
	case ZIP_SOURCE_CLOSE:
		if (z->fd >= 0)
			close(z->fd);
		z->fd = -1;
		return 0;
	case ZIP_SOURCE_STAT: {
		if (len < sizeof(zip_stat_t)) {
			lz.error_set(&z->error, ZIP_ER_INVAL, 0);
			return -1;
		}
		zip_stat_t *st = data;
		st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
		st->size = z->size;
		st->mtime = z->mtime;
		return sizeof(*st);
	}
	case ZIP_SOURCE_ERROR:
		return lz.error_to_data(&z->error, data, len);
	case ZIP_SOURCE_FREE:
		if (z->fd >= 0)
			close(z->fd);
		lz.error_fini(&z->error);
		fo_free(z->path);
		fo_free(z);
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return lz.make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
					      ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SUPPORTS, -1);
	default:
		lz.error_set(&z->error, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

int fo_artifact_zip(int rootfd, const char *top, const char *zip_path, struct fo_err *err)
{
	pthread_once(&zip_once, zip_load);
	if (!zip_ok)
		return fo_err_set(err, FO_EUNSUPPORTED, "cannot make zip archives: cannot load libzip: %s",
				  zip_load_error);
	struct fo_artifact_list l;
	int rc = fo_artifact_list(rootfd, &l);
	if (rc) {
		fo_artifact_list_release(&l);
		return fo_err_set(err, FO_EIO, "cannot read the run folder: %s", strerror(-rc));
	}
	int zerr = 0;
	zip_t *za = lz.open(zip_path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (!za) {
		zip_error_t ze;
		lz.error_init_with_code(&ze, zerr);
		rc = fo_err_set(err, FO_EIO, "cannot create '%s': %s", zip_path, lz.error_strerror(&ze));
		lz.error_fini(&ze);
		fo_artifact_list_release(&l);
		return rc;
	}
	struct fo_buf name = FO_BUF_INIT;
	fo_buf_addf(&name, "%s/", top);
	size_t keep = name.len;
	/* the top folder: also keeps an empty run's archive from being no file at all */
	if (lz.dir_add(za, name.s, ZIP_FL_ENC_UTF_8) < 0)
		rc = fo_err_set(err, FO_EIO, "cannot add '%s' to the zip: %s", name.s, lz.strerror(za));
	for (size_t i = 0; !rc && i < l.n; i++) {
		struct zsrc *z = fo_calloc(1, sizeof(*z));
		*z = (struct zsrc){.rootfd = rootfd, .path = fo_strdup(l.v[i].path), .size = l.v[i].size,
				   .mtime = (time_t)l.v[i].mtime, .fd = -1};
		lz.error_init_with_code(&z->error, ZIP_ER_OK);
		zip_source_t *src = lz.source_function(za, zsrc_cb, z);
		if (!src) {
			lz.error_fini(&z->error);
			fo_free(z->path);
			fo_free(z);
			rc = fo_err_set(err, FO_EIO, "cannot add '%s' to the zip: %s", l.v[i].path, lz.strerror(za));
			break;
		}
		fo_buf_truncate(&name, keep);
		fo_buf_adds(&name, l.v[i].path);
		zip_int64_t idx = lz.file_add(za, name.s, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
		if (idx < 0) {
			lz.source_free(src);
			rc = fo_err_set(err, FO_EIO, "cannot add '%s' to the zip: %s", l.v[i].path, lz.strerror(za));
			break;
		}
		lz.set_file_compression(za, (zip_uint64_t)idx,
					fo_artifact_is_compressed(l.v[i].path) ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0);
		lz.file_set_mtime(za, (zip_uint64_t)idx, (time_t)l.v[i].mtime, 0);
	}
	if (!rc && lz.close(za) != 0) {
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", zip_path, lz.strerror(za));
		lz.discard(za);
	} else if (rc) {
		lz.discard(za);
	}
	fo_buf_release(&name);
	fo_artifact_list_release(&l);
	return rc;
}

/* ---- server-sent events ---- */

size_t fo_sse_feed(struct fo_buf *partial, const char *data, size_t len, bool flush, struct fo_buf *out)
{
	if (len)
		fo_buf_add(partial, data, len);
	size_t complete = 0;
	for (size_t i = partial->len; i > 0; i--)
		if (partial->s[i - 1] == '\n') {
			complete = i;
			break;
		}
	if ((flush || partial->len >= FO_SSE_MAX_LINE) && partial->len)
		complete = partial->len;
	if (!complete)
		return 0;
	size_t lines = 0;
	fo_buf_adds(out, "event: updated\n");
	const char *s = partial->s, *end = partial->s + complete;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - s);
		if (n && s[n - 1] == '\r')
			n--;
		fo_buf_adds(out, "data: ");
		size_t start = out->len;
		fo_buf_add(out, s, n);
		for (size_t k = start; k < out->len; k++)
			if (out->s[k] == '\r')
				out->s[k] = ' ';
		fo_buf_addch(out, '\n');
		lines++;
		s = nl ? nl + 1 : end;
	}
	fo_buf_addch(out, '\n');
	memmove(partial->s, partial->s + complete, partial->len - complete);
	fo_buf_truncate(partial, partial->len - complete);
	return lines;
}

void fo_sse_finished(struct fo_buf *out, const char *state)
{
	fo_buf_adds(out, "event: finished\ndata: ");
	for (const char *p = state; *p; p++)
		fo_buf_addch(out, *p == '\n' || *p == '\r' ? ' ' : *p);
	fo_buf_adds(out, "\n\n");
}

void fo_sse_heartbeat(struct fo_buf *out)
{
	fo_buf_adds(out, ": heartbeat\n\n");
}

/* ---- the follower ---- */

#define TAIL_CHUNK 65536
/* Most bytes read from the file per look, so one poll cannot build a huge event buffer. */
#define TAIL_STEP_MAX (4 * TAIL_CHUNK)

struct fo_tail {
	char *run_dir;
	int rootfd;          /* the run folder, once it exists; -1 before */
	char *path;
	int fd;              /* the file, once it exists; -1 before */
	dev_t dev;           /* its identity, to notice a replacement */
	ino_t ino;
	uint64_t offset;     /* bytes of the file read so far */
	uint64_t start;      /* the offset asked for, applied when the file is first opened */
	bool started;        /* the first look was made (it does not wait) */
	struct fo_buf partial; /* a line without its newline yet */
	struct fo_buf out;   /* events ready to be read */
	size_t out_pos;
	struct fo_tail_ops ops;
	void *arg;
	int64_t last_sent_ms; /* monotonic time of the last event or heartbeat */
	bool done;           /* the finished event is in out */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fo_tail *fo_tail_new(const char *run_dir, const char *path, uint64_t offset, const struct fo_tail_ops *ops,
			    void *arg)
{
	struct fo_tail *t = fo_calloc(1, sizeof(*t));
	t->run_dir = fo_strdup(run_dir);
	t->rootfd = -1;
	t->path = fo_strdup(path);
	t->fd = -1;
	t->start = offset;
	t->partial = (struct fo_buf)FO_BUF_INIT;
	t->out = (struct fo_buf)FO_BUF_INIT;
	t->ops = *ops;
	if (t->ops.poll_ms <= 0)
		t->ops.poll_ms = 200;
	if (t->ops.heartbeat_ms <= 0)
		t->ops.heartbeat_ms = 10000;
	t->arg = arg;
	t->last_sent_ms = mono_ms();
	return t;
}

void fo_tail_free(struct fo_tail *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->rootfd >= 0)
		close(t->rootfd);
	fo_free(t->run_dir);
	fo_free(t->path);
	fo_buf_release(&t->partial);
	fo_buf_release(&t->out);
	fo_free(t);
}

/* Opens the file when it appeared, or again when it was replaced (restarting from 0). */
static void tail_reopen(struct fo_tail *t)
{
	if (t->rootfd < 0) {
		t->rootfd = fo_artifact_root_open(t->run_dir);
		if (t->rootfd < 0)
			return;
	}
	struct stat st;
	int fd = fo_artifact_open(t->rootfd, t->path, &st);
	if (fd < 0)
		return; /* not there (yet, or any more): keep what we have */
	if (t->fd >= 0 && st.st_dev == t->dev && st.st_ino == t->ino) {
		close(fd);
		return;
	}
	bool first = t->fd < 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = fd;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->offset = 0;
	fo_buf_clear(&t->partial);
	if (first && t->start) /* ?offset=N applies to the file first found */
		t->offset = t->start <= (uint64_t)st.st_size ? t->start : (uint64_t)st.st_size;
}

/* Reads what the file gained since the last look into events. Returns true when it read
 * everything there was (not stopped by TAIL_STEP_MAX). */
static bool tail_read_growth(struct fo_tail *t, bool flush)
{
	if (t->fd < 0)
		return true;
	struct stat st;
	if (fstat(t->fd, &st) != 0)
		return true;
	if ((uint64_t)st.st_size < t->offset) { /* shrank: truncated and rewritten */
		t->offset = 0;
		fo_buf_clear(&t->partial);
	}
	char *chunk = fo_malloc(TAIL_CHUNK);
	size_t total = 0;
	bool all = true;
	for (;;) {
		if (total >= TAIL_STEP_MAX) {
			all = false;
			break;
		}
		ssize_t r = pread(t->fd, chunk, TAIL_CHUNK, (off_t)t->offset);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		t->offset += (uint64_t)r;
		total += (size_t)r;
		fo_sse_feed(&t->partial, chunk, (size_t)r, false, &t->out);
	}
	if (all && flush)
		fo_sse_feed(&t->partial, NULL, 0, true, &t->out);
	fo_free(chunk);
	return all;
}

/* One look: appends whatever is due to t->out (maybe nothing). */
static void tail_step(struct fo_tail *t)
{
	size_t before = t->out.len;
	/* Ask first, read after: a run that ended before this look wrote everything before. */
	bool active = t->ops.active(t->arg);
	tail_reopen(t);
	bool all = tail_read_growth(t, !active);
	if (!active && all) {
		struct fo_buf state = FO_BUF_INIT;
		t->ops.final_state(t->arg, &state);
		fo_sse_finished(&t->out, state.len ? state.s : "UNKNOWN");
		fo_buf_release(&state);
		t->done = true;
	}
	int64_t now = mono_ms();
	if (t->out.len > before)
		t->last_sent_ms = now;
	else if (now - t->last_sent_ms >= t->ops.heartbeat_ms) {
		fo_sse_heartbeat(&t->out);
		t->last_sent_ms = now;
	}
}

ssize_t fo_tail_read(struct fo_tail *t, char *buf, size_t max)
{
	for (;;) {
		if (t->out_pos < t->out.len) {
			size_t n = t->out.len - t->out_pos;
			if (n > max)
				n = max;
			memcpy(buf, t->out.s + t->out_pos, n);
			t->out_pos += n;
			if (t->out_pos == t->out.len) {
				fo_buf_clear(&t->out);
				t->out_pos = 0;
			}
			return (ssize_t)n;
		}
		if (t->done || (t->ops.cancelled && t->ops.cancelled(t->arg)))
			return -1;
		if (t->started)
			poll(NULL, 0, t->ops.poll_ms);
		t->started = true;
		tail_step(t);
	}
}
