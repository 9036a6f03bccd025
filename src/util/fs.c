/*
 * fs.c: the shared file-system helpers (fs.h): mkdir -p, a `cp -a`-like tree copy and a
 * tree removal that never follows a symbolic link.
 *
 * The removal works on file descriptors (openat, fstatat, unlinkat with O_NOFOLLOW), so a
 * folder swapped for a link while the walk runs is not followed either. The copy writes
 * every file under a temporary name beside its target and renames it into place.
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

/* Puts path into *failed (may be NULL), replacing what it held. */
static void set_failed(struct fo_buf *failed, const char *path)
{
	if (!failed)
		return;
	fo_buf_clear(failed);
	fo_buf_adds(failed, path);
}

bool fo_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- mkdir -p ---- */

/* Makes the one folder p (its parent exists). Returns 0 or an errno value. */
static int make_one(const char *p, mode_t mode)
{
	if (mkdir(p, mode) == 0)
		return 0;
	int e = errno;
	struct stat st;
	if (stat(p, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	return e == EEXIST ? ENOTDIR : e; /* EEXIST that stat cannot follow: a dangling link */
}

int fo_mkdir_p(const char *path, mode_t mode, struct fo_buf *failed)
{
	if (!path || !*path) {
		set_failed(failed, "");
		return ENOENT;
	}
	if (fo_is_dir(path))
		return 0;
	struct fo_buf p = FO_BUF_INIT;
	fo_buf_adds(&p, path);
	int rc = 0;
	for (size_t i = 1; i <= p.len && !rc; i++) {
		if ((p.s[i] != '/' && p.s[i] != '\0') || p.s[i - 1] == '/')
			continue; /* inside a name, or an empty one ("a//b", a trailing '/') */
		char saved = p.s[i];
		p.s[i] = '\0';
		rc = make_one(p.s, mode);
		if (rc)
			set_failed(failed, p.s);
		p.s[i] = saved;
	}
	fo_buf_release(&p);
	return rc;
}

int fo_mkdirs(const char *path, struct fo_err *err)
{
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_mkdir_p(path, 0755, &failed);
	int rc = 0;
	if (e == ENOTDIR)
		rc = fo_err_set(err, FO_EIO, "'%s' exists and is not a folder", failed.s);
	else if (e)
		rc = fo_err_set(err, FO_EIO, "cannot create '%s': %s", failed.s, strerror(e));
	fo_buf_release(&failed);
	return rc;
}

/* ---- copying ---- */

/* A copy in progress: the first failure is kept, the walk goes on. */
struct copy {
	struct fo_buf *failed; /* the caller's; may be NULL */
	int first;             /* the first errno met, 0 while none */
};

static void copy_failed(struct copy *c, int e, const char *path)
{
	if (c->first)
		return;
	c->first = e;
	set_failed(c->failed, path);
}

int fo_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies the regular file src (described by st) to dst through a temporary file beside
 * dst, renamed into place once complete. depth > 0: src vanishing is not an error. */
static void copy_file(struct copy *c, const char *src, const char *dst, const struct stat *st, int depth)
{
	int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		if (errno != ENOENT || depth == 0)
			copy_failed(c, errno, src);
		return;
	}
	/* A short fixed name, so a long dst name cannot make it too long. */
	struct fo_buf tmp = FO_BUF_INIT;
	const char *slash = strrchr(dst, '/');
	fo_buf_add(&tmp, dst, slash ? (size_t)(slash - dst) + 1 : 0);
	fo_buf_adds(&tmp, ".fallout-tmp-XXXXXX");
	int out = mkostemp(tmp.s, O_CLOEXEC);
	if (out < 0) {
		copy_failed(c, errno, dst);
		close(in);
		fo_buf_release(&tmp);
		return;
	}
	int e = 0;
	const char *where = dst;
	char buf[65536];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			where = src;
		}
		if (r <= 0 || (e = fo_write_all(out, buf, (size_t)r)) != 0)
			break;
	}
	close(in);
	if (!e && fchmod(out, st->st_mode & 07777) != 0)
		e = errno;
	if (!e) {
		struct timespec times[2] = {st->st_atim, st->st_mtim};
		(void)futimens(out, times);
	}
	if (close(out) != 0 && !e)
		e = errno;
	if (!e && rename(tmp.s, dst) != 0)
		e = errno;
	if (e) {
		unlink(tmp.s);
		copy_failed(c, e, where);
	}
	fo_buf_release(&tmp);
}

/* Recreates the symbolic link src at dst, replacing a file or link there. */
static void copy_link(struct copy *c, const char *src, const char *dst, const struct stat *st, int depth)
{
	char target[PATH_MAX];
	ssize_t n = readlink(src, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT || depth == 0)
			copy_failed(c, errno, src);
		return;
	}
	target[n] = '\0';
	if ((unlink(dst) != 0 && errno != ENOENT) || symlink(target, dst) != 0) {
		copy_failed(c, errno, dst);
		return;
	}
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	(void)utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
}

/* Makes dst a folder we can write into (0700 until its contents are in): an existing
 * folder is kept, a file or link there is replaced. Returns 0 or an errno value. */
static int make_copy_dir(const char *dst)
{
	if (mkdir(dst, 0700) == 0)
		return 0;
	int e = errno;
	struct stat st;
	if (e != EEXIST || lstat(dst, &st) != 0)
		return e;
	if (S_ISDIR(st.st_mode))
		return 0;
	if (unlink(dst) != 0 || mkdir(dst, 0700) != 0)
		return errno;
	return 0;
}

static void copy_entry(struct copy *c, const char *src, const char *dst, int depth);

/* Copies the folder src (described by st) into dst, then gives dst src's mode and times. */
static void copy_dir(struct copy *c, const char *src, const char *dst, const struct stat *st, int depth)
{
	if (depth > FO_FS_COPY_MAX_DEPTH) {
		copy_failed(c, ELOOP, src);
		return;
	}
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT || depth == 0)
			copy_failed(c, errno, src);
		return;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		copy_failed(c, errno, src);
		close(fd);
		return;
	}
	int e = make_copy_dir(dst);
	if (e) {
		copy_failed(c, e, dst);
		closedir(d);
		return;
	}
	struct fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		fo_buf_clear(&a);
		fo_buf_clear(&b);
		fo_buf_addf(&a, "%s/%s", src, de->d_name);
		fo_buf_addf(&b, "%s/%s", dst, de->d_name);
		copy_entry(c, a.s, b.s, depth + 1);
	}
	closedir(d);
	fo_buf_release(&a);
	fo_buf_release(&b);
	/* Best effort: a folder that was there already may not be ours to change. */
	(void)chmod(dst, st->st_mode & 07777);
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	(void)utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
}

/* Copies src, whatever it is, to dst; depth is how far below the copy's top src is. */
static void copy_entry(struct copy *c, const char *src, const char *dst, int depth)
{
	struct stat st;
	if (lstat(src, &st) != 0) {
		if (errno != ENOENT || depth == 0) /* gone meanwhile is fine below the top */
			copy_failed(c, errno, src);
		return;
	}
	if (S_ISREG(st.st_mode))
		copy_file(c, src, dst, &st, depth);
	else if (S_ISLNK(st.st_mode))
		copy_link(c, src, dst, &st, depth);
	else if (S_ISDIR(st.st_mode))
		copy_dir(c, src, dst, &st, depth);
	/* sockets, fifos and devices are skipped */
}

int fo_copy_tree(const char *src, const char *dst, struct fo_buf *failed)
{
	struct copy c = {.failed = failed};
	copy_entry(&c, src, dst, 0);
	return c.first;
}

/* ---- removing ---- */

/* A removal in progress: the first failure is kept, the walk goes on. */
struct removal {
	struct fo_buf path;    /* the entry being looked at */
	struct fo_buf *failed; /* the caller's; may be NULL */
	bool one_filesystem;   /* leave folders on other devices alone */
	dev_t dev;             /* the device of the top folder */
	int first;             /* the first errno met, 0 while none */
};

static void remove_failed(struct removal *r, int e)
{
	if (r->first)
		return;
	r->first = e;
	set_failed(r->failed, r->path.s);
}

/* Removes everything in the folder open as dfd (takes it), whose path is r->path. */
static void empty_dir(struct removal *r, int dfd, int depth)
{
	if (depth > FO_FS_REMOVE_MAX_DEPTH) {
		close(dfd);
		remove_failed(r, ELOOP);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		remove_failed(r, errno);
		close(dfd);
		return;
	}
	size_t len = r->path.len;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		fo_buf_truncate(&r->path, len);
		fo_buf_addf(&r->path, "/%s", n);
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				remove_failed(r, errno);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(dirfd(d), n, 0) != 0 && errno != ENOENT)
				remove_failed(r, errno);
			continue;
		}
		if (r->one_filesystem && st.st_dev != r->dev) {
			remove_failed(r, EXDEV); /* a mount point: not ours to empty */
			continue;
		}
		int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOENT)
				remove_failed(r, errno);
			continue;
		}
		empty_dir(r, sub, depth + 1);
		if (unlinkat(dirfd(d), n, AT_REMOVEDIR) != 0 && errno != ENOENT)
			remove_failed(r, errno);
	}
	fo_buf_truncate(&r->path, len);
	closedir(d);
}

int fo_remove_tree(const char *path, bool one_filesystem, struct fo_buf *failed)
{
	struct removal r = {.path = FO_BUF_INIT, .failed = failed, .one_filesystem = one_filesystem};
	fo_buf_adds(&r.path, path);
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			remove_failed(&r, errno);
	} else if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			remove_failed(&r, errno);
	} else {
		int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			if (errno != ENOENT)
				remove_failed(&r, errno);
		} else if (fstat(dfd, &st) != 0) {
			remove_failed(&r, errno);
			close(dfd);
		} else {
			r.dev = st.st_dev;
			empty_dir(&r, dfd, 0);
			if (!r.first && rmdir(path) != 0 && errno != ENOENT)
				remove_failed(&r, errno);
		}
	}
	fo_buf_release(&r.path);
	return r.first;
}
