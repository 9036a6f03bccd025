/*
 * files.c: checking file specs (fo_files_parse) and writing them out
 * (fo_files_materialize), as files.h describes.
 *
 * Writing: every regular file goes to a temporary name in its final folder and is renamed
 * into place once complete; a git clone goes to a temporary folder likewise. Downloads use
 * a libcurl easy handle per file; `git clone` is run with fork/exec, no shell, in its own
 * process group so a timeout can kill it and whatever it started.
 */
#include "util/common.h"

#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spec/files.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/curl.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strutil.h"

#define CONNECT_TIMEOUT_MS 30000L
#define DOWNLOAD_TIMEOUT_MS 600000L
#define DOWNLOAD_MAX ((curl_off_t)256 * 1024 * 1024)
#define GIT_TIMEOUT_MS 600000L
#define GIT_STDERR_KEEP 700 /* bytes of git's stderr (its end) quoted in an error */

#define CONTENT_KEYS "data, base64, yaml, json, url, git"

static const char *const kind_names[] = {
	[FO_FILE_DATA] = "data", [FO_FILE_BASE64] = "base64", [FO_FILE_YAML] = "yaml",
	[FO_FILE_JSON] = "json", [FO_FILE_URL] = "url",       [FO_FILE_GIT] = "git",
};
_Static_assert(FO_ARRAY_LEN(kind_names) == FO_FILE_GIT + 1, "a name for every file kind");

const char *fo_files_kind_name(enum fo_file_kind kind)
{
	return (size_t)kind < FO_ARRAY_LEN(kind_names) ? kind_names[kind] : "?";
}

/* ---- checking ---- */

/* Returns the kind named key, or -1. */
static int kind_of(const char *key)
{
	for (size_t k = 0; k < FO_ARRAY_LEN(kind_names); k++)
		if (strcmp(kind_names[k], key) == 0)
			return (int)k;
	return -1;
}

/* Returns what is wrong with a spec's path, or NULL when it is fine. */
static const char *path_problem(const char *p, size_t len)
{
	if (len == 0)
		return "is empty";
	if (strlen(p) != len)
		return "holds a NUL byte";
	if (p[0] == '/')
		return "must be relative, not absolute";
	size_t from = 0;
	for (size_t k = 0; k <= len; k++) {
		if (k < len && p[k] != '/')
			continue;
		size_t n = k - from;
		if (n == 0)
			return "has an empty component ('//' or a trailing '/')";
		if (n == 1 && p[from] == '.')
			return "has a '.' component";
		if (n == 2 && p[from] == '.' && p[from + 1] == '.')
			return "has a '..' component, which could leave the files folder";
		from = k + 1;
	}
	return NULL;
}

/* True for a scalar holding a string that is not null (any plain scalar reads as text). */
static bool is_text(const struct fo_ynode *v)
{
	return v && v->kind == FO_YSCALAR && !(v->stype == FO_YS_NULL && !v->quoted);
}

/* Checks a url value; adds an error and returns false when it is not one we can fetch. */
static bool check_url(const char *name, const struct fo_ynode *v, struct fo_diags *d)
{
	const char *u = v->str;
	if (strncasecmp(u, "file://", 7) == 0) {
		const char *p = u + 7;
		if (strncasecmp(p, "localhost/", 10) == 0)
			p += 9;
		if (p[0] != '/') {
			fo_diags_error(
			    d, &v->pos,
			    "File '%s' has url '%s': a file:// url needs an absolute path (file:///dir/file)", name, u);
			return false;
		}
		return true;
	}
	size_t skip = strncasecmp(u, "http://", 7) == 0 ? 7 : strncasecmp(u, "https://", 8) == 0 ? 8 : 0;
	if (!skip) {
		fo_diags_error(d, &v->pos,
			       "File '%s' has url '%s' with an unsupported scheme (use file://, http:// or https://)",
			       name, u);
		return false;
	}
	if (u[skip] == '\0' || u[skip] == '/') {
		fo_diags_error(d, &v->pos, "File '%s' has url '%s' without a host", name, u);
		return false;
	}
	return true;
}

/* Checks a git value {repo, branch} and fills spec; adds errors and returns false if bad. */
static bool check_git(struct fo_arena *a, const char *name, const struct fo_ynode *v, struct fo_filespec *spec,
		      struct fo_diags *d)
{
	if (v->kind != FO_YMAP) {
		fo_diags_error(d, &v->pos, "File '%s' has git that is %s; git must be a map with 'repo' and 'branch'",
			       name, fo_ynode_describe(v));
		return false;
	}
	bool ok = true;
	for (size_t k = 0; k < v->npairs; k++) {
		const struct fo_ynode *key = v->pairs[k].key;
		if (strcmp(key->str, "repo") != 0 && strcmp(key->str, "branch") != 0) {
			fo_diags_error(d, &key->pos, "File '%s' has an unknown git key '%s' (known: repo, branch)",
				       name, key->str);
			ok = false;
		}
	}
	const struct fo_ynode *repo = fo_ymap_get(v, "repo");
	const struct fo_ynode *branch = fo_ymap_get(v, "branch");
	if (!repo) {
		fo_diags_error(d, &v->pos, "File '%s' has git without a 'repo'", name);
		ok = false;
	} else if (!is_text(repo) || repo->len == 0 || strlen(repo->str) != repo->len) {
		fo_diags_error(d, &repo->pos, "File '%s' has a git repo that is %s; it must be a url or a path", name,
			       repo->len == 0 && repo->kind == FO_YSCALAR ? "empty" : fo_ynode_describe(repo));
		ok = false;
	}
	if (branch && !fo_ynode_is_null(branch) &&
	    (!is_text(branch) || branch->len == 0 || strlen(branch->str) != branch->len)) {
		fo_diags_error(d, &branch->pos, "File '%s' has a git branch that is %s; it must be a name", name,
			       branch->kind == FO_YSCALAR ? "empty" : fo_ynode_describe(branch));
		ok = false;
	}
	if (ok) {
		spec->repo = repo->str;
		spec->branch = branch && !fo_ynode_is_null(branch) ? branch->str : NULL;
	}
	return ok;
}

/* Checks the content value v of kind k and fills spec; false (with errors added) if bad. */
static bool check_content(struct fo_arena *a, const char *name, int k, const struct fo_ynode *v,
			  struct fo_filespec *spec, struct fo_diags *d)
{
	spec->kind = (enum fo_file_kind)k;
	switch (spec->kind) {
	case FO_FILE_DATA:
	case FO_FILE_BASE64:
	case FO_FILE_URL:
		if (!is_text(v)) {
			const char *hint =
			    spec->kind == FO_FILE_DATA ? " (use yaml or json for structured content)" : "";
			if (v->kind == FO_YSCALAR && spec->kind == FO_FILE_DATA)
				fo_diags_error(
				    d, &v->pos,
				    "File '%s' has no data (an empty value); write data: \"\" for an empty file", name);
			else if (v->kind == FO_YSCALAR)
				fo_diags_error(d, &v->pos, "File '%s' has an empty %s", name, kind_names[k]);
			else
				fo_diags_error(d, &v->pos, "File '%s' has %s that is %s; %s must be text%s", name,
					       kind_names[k], fo_ynode_describe(v), kind_names[k], hint);
			return false;
		}
		break;
	case FO_FILE_YAML:
	case FO_FILE_JSON:
	case FO_FILE_GIT:
		break;
	}
	switch (spec->kind) {
	case FO_FILE_DATA:
		spec->bytes = v->str;
		spec->nbytes = v->len;
		return true;
	case FO_FILE_BASE64: {
		struct fo_buf b = FO_BUF_INIT;
		struct fo_err err = {0};
		if (fo_base64_decode(v->str, v->len, &b, &err)) {
			fo_diags_error(d, &v->pos, "File '%s' has invalid base64: %s", name, err.msg);
			fo_buf_release(&b);
			return false;
		}
		spec->bytes = fo_arena_memdup(a, b.s, b.len + 1);
		spec->nbytes = b.len;
		fo_buf_release(&b);
		return true;
	}
	case FO_FILE_YAML:
	case FO_FILE_JSON:
		spec->node = v;
		return true;
	case FO_FILE_URL:
		if (!check_url(name, v, d))
			return false;
		spec->url = v->str;
		return true;
	case FO_FILE_GIT:
		return check_git(a, name, v, spec, d);
	}
	return false;
}

/* Checks one list item (the idx-th, 0-based); fills spec and returns true when it is fine. */
static bool parse_one(struct fo_arena *a, const struct fo_ynode *item, size_t idx, struct fo_filespec *spec,
		      struct fo_diags *d)
{
	if (item->kind != FO_YMAP) {
		fo_diags_error(d, &item->pos,
			       "a file spec must be a map with a 'path' and one of " CONTENT_KEYS ", not %s",
			       fo_ynode_describe(item));
		return false;
	}
	*spec = (struct fo_filespec){.pos = item->pos};
	bool ok = true;
	const struct fo_ynode *path = fo_ymap_get(item, "path");
	const char *name;
	if (path && is_text(path)) {
		name = path->str;
		const char *why = path_problem(path->str, path->len);
		if (why) {
			fo_diags_error(d, &path->pos, "File '%s': the path %s", path->str, why);
			ok = false;
		}
		spec->path = path->str;
	} else {
		name = fo_arena_printf(a, "#%zu", idx + 1);
		if (!path)
			fo_diags_error(d, &item->pos, "File %s has no 'path'", name);
		else
			fo_diags_error(d, &path->pos, "File %s has a path that is %s; it must be a relative file name",
				       name, path->kind == FO_YSCALAR ? "empty" : fo_ynode_describe(path));
		ok = false;
	}

	const struct fo_ypair *content = NULL;
	size_t unknown = 0;
	for (size_t k = 0; k < item->npairs; k++) {
		const struct fo_ypair *p = &item->pairs[k];
		if (strcmp(p->key->str, "path") == 0)
			continue;
		int kind = kind_of(p->key->str);
		if (kind < 0) {
			fo_diags_error(d, &p->key->pos, "File '%s' has an unknown file type '%s'", name, p->key->str);
			unknown++;
			ok = false;
		} else if (content) {
			fo_diags_error(
			    d, &p->key->pos,
			    "File '%s' has more than one content: '%s' and '%s' (give exactly one of " CONTENT_KEYS ")",
			    name, content->key->str, p->key->str);
			ok = false;
		} else {
			content = p;
			if (!check_content(a, name, kind, p->value, spec, d))
				ok = false;
		}
	}
	if (!content && !unknown) {
		fo_diags_error(d, &item->pos, "File '%s' has no content: give one of " CONTENT_KEYS, name);
		ok = false;
	}
	return ok;
}

/* True when inner lies inside outer: outer is a proper prefix of inner ending at a '/'. */
static bool is_inside(const char *inner, const char *outer)
{
	size_t n = strlen(outer);
	return strncmp(inner, outer, n) == 0 && inner[n] == '/';
}

int fo_files_parse(struct fo_arena *a, const struct fo_ynode *list, struct fo_filespec **out, size_t *n,
		   struct fo_diags *d)
{
	*out = NULL;
	*n = 0;
	if (!list || fo_ynode_is_null(list))
		return 0;
	if (list->kind != FO_YSEQ) {
		fo_diags_error(d, &list->pos,
			       "files must be a list of maps, each with a 'path' and one of " CONTENT_KEYS ", not %s",
			       fo_ynode_describe(list));
		return FO_EDEFINITION;
	}
	size_t errors = d->errors;
	struct fo_filespec *v = list->nitems ? FO_ANEWN(a, struct fo_filespec, list->nitems) : NULL;
	size_t count = 0;
	for (size_t i = 0; i < list->nitems; i++) {
		if (!parse_one(a, list->items[i], i, &v[count], d))
			continue;
		bool clash = false;
		for (size_t j = 0; j < count && !clash; j++) {
			const struct fo_filespec *old = &v[j], *new = &v[count];
			if (strcmp(old->path, new->path) == 0)
				fo_diags_error(d, &new->pos, "File '%s' is defined twice (first at line %d)", new->path,
					       old->pos.line);
			else if (is_inside(new->path, old->path))
				fo_diags_error(d, &new->pos, "File '%s' lies inside '%s', which is a %s", new->path,
					       old->path, old->kind == FO_FILE_GIT ? "git clone" : "file");
			else if (is_inside(old->path, new->path))
				fo_diags_error(d, &new->pos, "File '%s' cannot be written: '%s' lies inside its path",
					       new->path, old->path);
			else
				continue;
			clash = true;
		}
		if (!clash)
			count++;
	}
	*out = count ? v : NULL;
	*n = count;
	return d->errors > errors ? FO_EDEFINITION : 0;
}

int fo_files_find(const struct fo_filespec *specs, size_t n, const char *path)
{
	for (size_t i = 0; i < n && i < INT_MAX; i++)
		if (strcmp(specs[i].path, path) == 0)
			return (int)i;
	return -1;
}

/* ---- writing ---- */

/* Creates the folder holding target; a failure names spec s. */
static int make_parent(const char *target, const struct fo_filespec *s, struct fo_err *err)
{
	const char *slash = strrchr(target, '/');
	if (!slash || slash == target)
		return 0;
	char *parent = fo_strndup(target, (size_t)(slash - target));
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_mkdir_p(parent, 0755, &failed);
	int rc = 0;
	if (e == ENOTDIR)
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': '%s' exists and is not a folder", s->path,
				   failed.s);
	else if (e)
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot create folder '%s': %s", s->path, failed.s,
				   strerror(e));
	fo_buf_release(&failed);
	fo_free(parent);
	return rc;
}

/* A file being written under a temporary name beside its target. */
struct tmpfile {
	struct fo_buf name; /* the temporary name */
	int fd;             /* -1 once closed */
};

/* Opens a new temporary file beside target. */
static int tmp_open(struct tmpfile *t, const char *target, const struct fo_filespec *s, struct fo_err *err)
{
	fo_buf_init(&t->name, 0);
	const char *slash = strrchr(target, '/');
	size_t dirlen = slash ? (size_t)(slash - target) + 1 : 0;
	fo_buf_add(&t->name, target, dirlen);
	fo_buf_addf(&t->name, ".%s.tmp-XXXXXX", target + dirlen);
	t->fd = mkostemp(t->name.s, O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		fo_buf_release(&t->name);
		return fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot create a file in '%.*s': %s", s->path,
				     (int)dirlen, target, strerror(e));
	}
	return 0;
}

/* Forgets a temporary file: closes and removes it. */
static void tmp_abort(struct tmpfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	unlink(t->name.s);
	fo_buf_release(&t->name);
}

/* Writes n bytes to t. */
static int tmp_write(struct tmpfile *t, const void *p, size_t n)
{
	return fo_write_all(t->fd, p, n) ? -1 : 0;
}

/* Gives t its mode, closes it and renames it to target; on failure removes it. */
static int tmp_commit(struct tmpfile *t, const char *target, mode_t mode, const struct fo_filespec *s,
		      struct fo_err *err)
{
	int rc = 0;
	if (fchmod(t->fd, mode) != 0 || close(t->fd) != 0) {
		t->fd = -1;
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot write '%s': %s", s->path, target,
				   strerror(errno));
	}
	t->fd = -1;
	if (!rc && rename(t->name.s, target) != 0)
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot write '%s': %s", s->path, target,
				   strerror(errno));
	if (rc)
		unlink(t->name.s);
	fo_buf_release(&t->name);
	return rc;
}

static mode_t mode_for(const void *p, size_t n)
{
	return n >= 2 && memcmp(p, "#!", 2) == 0 ? 0755 : 0644;
}

/* Writes n bytes to target, atomically. */
static int write_bytes(const char *target, const void *p, size_t n, const struct fo_filespec *s,
		       struct fo_err *err)
{
	struct tmpfile t;
	int rc = tmp_open(&t, target, s, err);
	if (rc)
		return rc;
	if (tmp_write(&t, p, n) != 0) {
		int e = errno;
		tmp_abort(&t);
		return fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot write '%s': %s", s->path, target,
				     strerror(e));
	}
	return tmp_commit(&t, target, mode_for(p, n), s, err);
}

/* Returns the local path of a file:// url (checked by fo_files_parse), %XX decoded. */
static char *file_url_path(const char *url)
{
	const char *p = url + 7;
	if (strncasecmp(p, "localhost/", 10) == 0)
		p += 9;
	struct fo_buf b = FO_BUF_INIT;
	for (; *p; p++) {
		if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char hex[3] = {p[1], p[2], '\0'};
			fo_buf_addch(&b, (char)strtol(hex, NULL, 16));
			p += 2;
		} else {
			fo_buf_addch(&b, *p);
		}
	}
	return fo_buf_detach(&b, NULL);
}

static int copy_file_url(const char *target, const struct fo_filespec *s, struct fo_err *err)
{
	char *src = file_url_path(s->url);
	int rc = 0;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0) {
		rc = fo_err_setpos(err, errno == ENOENT ? FO_ENOENT : FO_EIO, &s->pos,
				   "File '%s': cannot read url '%s': %s", s->path, s->url, strerror(errno));
		goto out;
	}
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': url '%s' is not a regular file", s->path, s->url);
		goto out;
	}
	struct tmpfile t;
	if ((rc = tmp_open(&t, target, s, err)))
		goto out;
	char chunk[65536];
	for (;;) {
		ssize_t r = read(in, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && tmp_write(&t, chunk, (size_t)r) != 0)) {
			rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot copy '%s': %s", s->path, src,
					   strerror(errno));
			tmp_abort(&t);
			goto out;
		}
		if (r == 0)
			break;
	}
	rc = tmp_commit(&t, target, st.st_mode & 0111 ? 0755 : 0644, s, err);
out:
	if (in >= 0)
		close(in);
	fo_free(src);
	return rc;
}

/* libcurl is loaded on first use (util/curl.h): download_url's local `lc` holds its
 * functions, and these names keep the calls readable. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init lc->easy_init
#define curl_easy_setopt lc->easy_setopt
#define curl_easy_perform lc->easy_perform
#define curl_easy_getinfo lc->easy_getinfo
#define curl_easy_strerror lc->easy_strerror
#define curl_easy_cleanup lc->easy_cleanup

/* What the download's write callback needs. */
struct download {
	struct tmpfile *t;
	curl_off_t got;     /* bytes so far */
	bool too_big;
	bool io_failed;
	int io_errno;
	char head[2];       /* the first bytes, to spot a "#!" script */
	size_t nhead;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct download *dl = userdata;
	size_t n = size * nmemb;
	if (dl->got + (curl_off_t)n > DOWNLOAD_MAX) {
		dl->too_big = true;
		return 0;
	}
	while (dl->nhead < sizeof(dl->head) && dl->nhead < (size_t)dl->got + n) {
		dl->head[dl->nhead] = p[dl->nhead - (size_t)dl->got];
		dl->nhead++;
	}
	if (tmp_write(dl->t, p, n) != 0) {
		dl->io_failed = true;
		dl->io_errno = errno;
		return 0;
	}
	dl->got += (curl_off_t)n;
	return n;
}

static int download_url(const char *target, const struct fo_filespec *s, struct fo_err *err)
{
	struct fo_err lerr = {0};
	const struct fo_curl *lc = fo_curl_load(&lerr);
	if (!lc)
		return fo_err_setpos(err, FO_ENET, &s->pos, "File '%s': %s", s->path, lerr.msg);
	CURL *h = curl_easy_init();
	if (!h)
		return fo_err_setpos(err, FO_ENET, &s->pos, "File '%s': cannot start libcurl", s->path);
	struct tmpfile t;
	int rc = tmp_open(&t, target, s, err);
	if (rc) {
		curl_easy_cleanup(h);
		return rc;
	}
	struct download dl = {.t = &t};
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, DOWNLOAD_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, DOWNLOAD_MAX);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fallout");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &dl);
	CURLcode c = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (c == CURLE_OK)
		rc = 0;
	else if (dl.too_big || c == CURLE_FILESIZE_EXCEEDED)
		rc = fo_err_setpos(err, FO_ETOOBIG, &s->pos, "File '%s': url '%s' is larger than %d MiB", s->path,
				   s->url, (int)(DOWNLOAD_MAX >> 20));
	else if (dl.io_failed)
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot write '%s': %s", s->path, target,
				   strerror(dl.io_errno));
	else if (c == CURLE_HTTP_RETURNED_ERROR)
		rc = fo_err_setpos(err, FO_ENET, &s->pos, "File '%s': downloading '%s' failed: HTTP status %ld",
				   s->path, s->url, status);
	else
		rc = fo_err_setpos(err, FO_ENET, &s->pos, "File '%s': downloading '%s' failed: %s", s->path, s->url,
				   errbuf[0] ? errbuf : curl_easy_strerror(c));
	curl_easy_cleanup(h);
	if (rc) {
		tmp_abort(&t);
		return rc;
	}
	return tmp_commit(&t, target, mode_for(dl.head, dl.nhead), s, err);
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

extern char **environ;

/* Returns an owned copy of the environment plus what keeps git from ever asking a question. */
static char **git_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = fo_calloc(n + 3, sizeof(*env));
	size_t k = 0;
	bool has_ssh = false;
	for (size_t i = 0; i < n; i++) {
		if (fo_starts_with(environ[i], "GIT_TERMINAL_PROMPT="))
			continue;
		if (fo_starts_with(environ[i], "GIT_SSH_COMMAND="))
			has_ssh = true;
		env[k++] = environ[i];
	}
	env[k++] = "GIT_TERMINAL_PROMPT=0";
	if (!has_ssh)
		env[k++] = "GIT_SSH_COMMAND=ssh -o BatchMode=yes";
	env[k] = NULL;
	return env;
}

/* Makes git's stderr fit a one-line message: its last GIT_STDERR_KEEP bytes, trimmed,
 * lines joined with "; ". */
static void tidy_stderr(const struct fo_buf *b, struct fo_buf *out)
{
	size_t from = b->len > GIT_STDERR_KEEP ? b->len - GIT_STDERR_KEEP : 0;
	if (from) {
		const char *nl = memchr(b->s + from, '\n', b->len - from);
		if (nl && (size_t)(nl - b->s) + 1 < b->len)
			from = (size_t)(nl - b->s) + 1;
	}
	size_t end = b->len;
	while (end > from && isspace((unsigned char)b->s[end - 1]))
		end--;
	while (from < end && isspace((unsigned char)b->s[from]))
		from++;
	for (size_t i = from; i < end; i++) {
		if (b->s[i] == '\r')
			continue;
		if (b->s[i] == '\n') {
			if (out->len && out->s[out->len - 1] != ' ')
				fo_buf_adds(out, "; ");
			continue;
		}
		fo_buf_addch(out, b->s[i]);
	}
}

/*
 * Runs argv (argv[0] looked up in PATH) with env, stdin and stdout on /dev/null, its
 * stderr collected into errout, killing its process group after timeout_ms. Returns 0
 * and the wait status in *status, *timed_out telling a kill by timeout, or an errno
 * value when it could not be started.
 */
static int run_captured(const char *const *argv, char **env, int64_t timeout_ms, struct fo_buf *errout,
			int *status, bool *timed_out)
{
	*timed_out = false;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return errno;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		int e = errno;
		close(devnull);
		return e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(devnull);
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		setpgid(0, 0);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(126);
		execvpe(argv[0], (char *const *)argv, env);
		static const char msg[] = "cannot run git: not found or not executable\n";
		ssize_t ignored = write(2, msg, sizeof(msg) - 1);
		(void)ignored;
		_exit(127);
	}
	setpgid(pid, pid); /* also here, so the kill below cannot miss it */
	close(devnull);
	close(pfd[1]);
	int64_t deadline = now_ms() + timeout_ms;
	char chunk[4096];
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (errout->len < (1u << 20))
			fo_buf_add(errout, chunk, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

static int clone_git(const char *target, const struct fo_filespec *s, struct fo_err *err)
{
	struct fo_buf tmp = FO_BUF_INIT;
	const char *slash = strrchr(target, '/');
	size_t dirlen = slash ? (size_t)(slash - target) + 1 : 0;
	fo_buf_add(&tmp, target, dirlen);
	fo_buf_addf(&tmp, ".%s.git-XXXXXX", target + dirlen);
	if (!mkdtemp(tmp.s)) {
		int e = errno;
		fo_buf_release(&tmp);
		return fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot create a folder in '%.*s': %s", s->path,
				     (int)dirlen, target, strerror(e));
	}
	const char *argv[14];
	size_t k = 0;
	argv[k++] = "git";
	argv[k++] = "-c";
	argv[k++] = "protocol.ext.allow=never"; /* "ext::cmd" urls run commands */
	argv[k++] = "clone";
	argv[k++] = "--quiet";
	argv[k++] = "--depth";
	argv[k++] = "1";
	if (s->branch) {
		argv[k++] = "--branch";
		argv[k++] = s->branch;
	}
	argv[k++] = "--";
	argv[k++] = s->repo;
	argv[k++] = tmp.s;
	argv[k] = NULL;

	char **env = git_env();
	struct fo_buf errout = FO_BUF_INIT, why = FO_BUF_INIT;
	int status = 0;
	bool timed_out = false;
	int rc = 0;
	int e = run_captured(argv, env, GIT_TIMEOUT_MS, &errout, &status, &timed_out);
	if (e)
		fo_buf_addf(&why, "cannot start git: %s", strerror(e));
	else if (timed_out)
		fo_buf_addf(&why, "timed out after %ld s", GIT_TIMEOUT_MS / 1000);
	else if (WIFSIGNALED(status))
		fo_buf_addf(&why, "killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		fo_buf_addf(&why, "exit status %d", WEXITSTATUS(status));
	if (why.len) {
		struct fo_buf said = FO_BUF_INIT;
		tidy_stderr(&errout, &said);
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': git clone of '%s'%s%s%s failed (%s)%s%s", s->path,
				   s->repo, s->branch ? " (branch '" : "", s->branch ? s->branch : "",
				   s->branch ? "')" : "", why.s, said.len ? ": " : "", said.s);
		fo_buf_release(&said);
	} else if (rename(tmp.s, target) != 0) {
		rc = fo_err_setpos(err, FO_EIO, &s->pos, "File '%s': cannot move the clone to '%s': %s", s->path,
				   target, strerror(errno));
	}
	if (rc)
		fo_remove_tree(tmp.s, false, NULL);
	fo_buf_release(&why);
	fo_buf_release(&errout);
	fo_free(env);
	fo_buf_release(&tmp);
	return rc;
}

/* Writes one spec to target. */
static int materialize_one(const struct fo_filespec *s, const char *target, struct fo_err *err)
{
	struct fo_buf b = FO_BUF_INIT;
	int rc;
	switch (s->kind) {
	case FO_FILE_DATA:
	case FO_FILE_BASE64:
		return write_bytes(target, s->bytes, s->nbytes, s, err);
	case FO_FILE_YAML:
	case FO_FILE_JSON:
		rc = s->kind == FO_FILE_YAML ? fo_yaml_emit(s->node, 0, &b) : fo_yaml_emit_json(s->node, &b);
		if (!rc && s->kind == FO_FILE_JSON)
			rc = fo_buf_addch(&b, '\n');
		if (rc)
			rc = fo_err_setpos(err, rc, &s->pos, "File '%s': cannot write its %s: %s", s->path,
					   kind_names[s->kind], fo_strerror(rc));
		else
			rc = write_bytes(target, b.s, b.len, s, err);
		fo_buf_release(&b);
		return rc;
	case FO_FILE_URL:
		if (strncasecmp(s->url, "file://", 7) == 0)
			return copy_file_url(target, s, err);
		return download_url(target, s, err);
	case FO_FILE_GIT:
		return clone_git(target, s, err);
	}
	return fo_err_setpos(err, FO_EINVAL, &s->pos, "File '%s': unknown kind", s->path);
}

int fo_files_materialize(const struct fo_filespec *specs, size_t n, const char *dir, struct fo_err *err)
{
	if (!dir || !*dir)
		return fo_err_set(err, FO_EINVAL, "no folder to write files into");
	struct fo_buf failed = FO_BUF_INIT, target = FO_BUF_INIT;
	int rc = 0;
	int e = fo_mkdir_p(dir, 0755, &failed);
	if (e == ENOTDIR)
		rc = fo_err_set(err, FO_EIO, "cannot write files into '%s': '%s' exists and is not a folder", dir,
				failed.s);
	else if (e)
		rc = fo_err_set(err, FO_EIO, "cannot write files into '%s': cannot create '%s': %s", dir, failed.s,
				strerror(e));
	for (size_t i = 0; i < n && !rc; i++) {
		const struct fo_filespec *s = &specs[i];
		const char *why = path_problem(s->path, strlen(s->path));
		if (why) {
			rc = fo_err_setpos(err, FO_EINVAL, &s->pos, "File '%s': the path %s", s->path, why);
			break;
		}
		fo_buf_clear(&target);
		fo_buf_addf(&target, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", s->path);
		rc = make_parent(target.s, s, err);
		if (!rc)
			rc = materialize_one(s, target.s, err);
	}
	fo_buf_release(&failed);
	fo_buf_release(&target);
	return rc;
}
