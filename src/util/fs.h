/*
 * fs.h: the file-system helpers every part of fallout shares: making a folder and its
 * parents (mkdir -p), copying a tree as `cp -a` would, removing a tree without ever
 * following a symbolic link, and asking whether a path is a folder.
 *
 * Errors are plain errno values (0 on success), because callers word their own messages
 * (a file spec, a node, a collect each say it differently); the path that failed goes into
 * a caller-provided fo_buf, replacing what it held. fo_mkdirs is the exception: it writes
 * the usual "cannot create 'X': reason" message into a struct fo_err.
 *
 * Policy stays with the callers: which paths may be removed at all (the ledger refuses
 * "/", the home folder and so on) is decided before fo_remove_tree is called.
 */
#ifndef FO_FS_H
#define FO_FS_H

#include <stdbool.h>
#include <sys/types.h>

struct fo_buf;
struct fo_err;

/* How deep fo_copy_tree goes: a folder more levels than this below src fails (ELOOP). */
#define FO_FS_COPY_MAX_DEPTH 64
/* How deep fo_remove_tree goes (deeper than copies, to remove what services made). */
#define FO_FS_REMOVE_MAX_DEPTH 256

/*
 * Creates the folder path and its missing parents with mode (before the umask); folders
 * that exist already are fine, and so is a symbolic link to a folder. Borrows path.
 * Returns 0, or an errno value: ENOTDIR when a component exists and is not a folder,
 * ENOENT for an empty path. On failure the folder that could not be made is put in
 * *failed (replacing its contents; failed may be NULL).
 */
int fo_mkdir_p(const char *path, mode_t mode, struct fo_buf *failed);

/*
 * fo_mkdir_p with mode 0755 and a message: returns 0, or FO_EIO with
 * "cannot create 'X': reason" or "'X' exists and is not a folder" in err (may be NULL),
 * X being the folder that failed. Borrows path.
 */
int fo_mkdirs(const char *path, struct fo_err *err);

/*
 * Copies src to dst as `cp -a` would, merging into what is at dst. Borrows both paths.
 * - a regular file is written to a temporary file beside dst and renamed into place, so
 *   dst is never seen half-written; its mode (07777 bits) and times are kept;
 * - a symbolic link is recreated as a link with the same target (never followed);
 * - a folder is created (or merged into when dst is a folder) and copied recursively; its
 *   mode and times are set once its contents are in; a file or link at dst is replaced;
 * - sockets, fifos and devices are skipped;
 * - an entry that disappears while the tree is walked is skipped.
 * A folder more than FO_FS_COPY_MAX_DEPTH levels below src fails with ELOOP. Errors do not
 * stop the walk: everything that can be copied is, and the first failure is returned.
 * Returns 0 or an errno value (ENOENT when src does not exist), with the path that failed
 * (below src when reading failed, below dst when writing did) in *failed (replacing its
 * contents; failed may be NULL).
 */
int fo_copy_tree(const char *src, const char *dst, struct fo_buf *failed);

/*
 * Removes path: a file, a symbolic link (the link itself, never what it points to) or a
 * folder with everything in it. Symbolic links inside are unlinked, never followed. With
 * one_filesystem, folders on another file system (mount points) are left alone and
 * reported as EXDEV. Folders more than FO_FS_REMOVE_MAX_DEPTH levels deep fail with ELOOP.
 * Errors do not stop the walk: everything that can be removed is. Borrows path.
 * Returns 0 (also when path does not exist) or the first errno value met, with the path
 * that could not be read or removed in *failed (replacing its contents; may be NULL).
 */
int fo_remove_tree(const char *path, bool one_filesystem, struct fo_buf *failed);

/* Writes all n bytes of buf to fd, going on after EINTR and short writes. Returns 0 or an
 * errno value (EIO when write wrote nothing). */
int fo_write_all(int fd, const void *buf, size_t n);

/* True if path is a folder, or a symbolic link to one. Borrows path. */
bool fo_is_dir(const char *path);

#endif
