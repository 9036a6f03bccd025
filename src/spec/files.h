/*
 * files.h: file specs, the files a test definition brings with it.
 *
 * `local_files` (at ensemble level or in one node group) and the `files` property of the
 * `remote_files` configuration manager are lists of maps, each a relative `path` plus
 * exactly one content key:
 *
 *     data: text          the file holds the text as written
 *     base64: text        the file holds the decoded bytes (checked when loading)
 *     yaml: any node      the node written out as YAML
 *     json: any node      the node written out as JSON
 *     url: URL            file:// copied; http:// and https:// downloaded
 *     git: {repo, branch} a shallow clone of repo (branch optional) as a folder at path
 *
 * fo_files_parse checks a list when a definition is loaded and reports every problem;
 * fo_files_materialize writes the files under a folder when a run starts (the run's
 * managed_files/); `<<file:PATH>>` references find their entry with fo_files_find.
 *
 * Paths are relative, '/'-separated, and may not be empty, absolute, or hold empty, '.'
 * or '..' components, so nothing is written outside the folder. No path may lie inside
 * another entry's path (a file cannot be a folder, and nothing goes into a git clone).
 */
#ifndef FO_FILES_H
#define FO_FILES_H

#include <stddef.h>

#include "util/err.h"

struct fo_arena;
struct fo_diags;
struct fo_ynode;

enum fo_file_kind { FO_FILE_DATA, FO_FILE_BASE64, FO_FILE_YAML, FO_FILE_JSON, FO_FILE_URL, FO_FILE_GIT };

/* One checked file spec. Strings and bytes live in the arena given to fo_files_parse. */
struct fo_filespec {
	const char *path;            /* relative to the materialisation folder, checked */
	enum fo_file_kind kind;
	const char *bytes;           /* DATA: the text; BASE64: the decoded bytes; else NULL */
	size_t nbytes;               /* length of bytes (may hold NULs for BASE64) */
	const struct fo_ynode *node; /* YAML, JSON: the content (borrowed from the YAML tree) */
	const char *url;             /* URL: as written */
	const char *repo;            /* GIT: what `git clone` is given (a URL or a local path) */
	const char *branch;          /* GIT: branch or tag to clone; NULL for the default */
	struct fo_pos pos;           /* where the spec's map starts */
};

/* Returns "data", "base64", "yaml", "json", "url" or "git". */
const char *fo_files_kind_name(enum fo_file_kind kind);

/*
 * Checks list (borrowed; it and its nodes must outlive the specs), a YAML sequence of
 * file-spec maps, and fills *out with an array of the well-formed specs allocated from a
 * (NULL when none) and *n with their number. A null node is an empty list. Every problem
 * is added to d with its place; a map with an unknown key gets Fallout's message
 * "File 'foo' has an unknown file type 'bar'". Returns 0, or FO_EDEFINITION when any error
 * was added.
 */
int fo_files_parse(struct fo_arena *a, const struct fo_ynode *list, struct fo_filespec **out, size_t *n,
		   struct fo_diags *d);

/*
 * Writes each of the n specs (borrowed) under the folder dir (borrowed; created if
 * missing), creating subfolders (mode 0755). Files get mode 0644, or 0755 when their
 * content starts with "#!" or a file:// source is executable. Each file is written to a
 * temporary name beside it and renamed into place, so a failure leaves no partial file.
 *
 * url: file:// is copied; http(s):// is fetched with libcurl (redirects followed, 30 s to
 * connect, 10 min in all, at most 256 MiB; an HTTP status >= 400 fails). git: runs
 * `git clone --depth 1 [--branch B] -- REPO` (no shell, no prompts, 10 min at most) into
 * a temporary folder renamed to the path; git's stderr is quoted on failure.
 *
 * Stops at the first failure: returns its code (FO_EIO, FO_ENET, FO_ETOOBIG, FO_EINVAL)
 * with a message in err naming the spec's path and what failed, and its place.
 */
int fo_files_materialize(const struct fo_filespec *specs, size_t n, const char *dir, struct fo_err *err);

/* Returns the index of the spec whose path is exactly path, or -1. */
int fo_files_find(const struct fo_filespec *specs, size_t n, const char *path);

#endif
