/*
 * remote_files.c: the `remote_files` configuration manager. It puts files
 * described in the test (inline text, base64, YAML, JSON, a URL, a git repository) on
 * every node of its group; modules find them through <<file:PATH>> references.
 */
#include "util/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/run.h"
#include "spec/files.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	{
		.name = "files",
		.description = "The files to create on every node: a list of file specs, each a map of "
			       "`path` and exactly one of `data` (text), `base64` (bytes), `yaml` or `json` "
			       "(a value written in that format), `url` (downloaded) or `git` (a map of "
			       "`repo` and optional `branch`, shallow-cloned). Paths are unique and relative "
			       "to the node's folder.",
		.type = FO_PT_FILES,
		.required = true,
	},
	{0},
};

/* ---- copying ---- */

/* Creates path and its parents (0755). Returns 0 or an errno value. */
static int mkdir_p(const char *path)
{
	char *p = fo_strdup(path);
	int rc = 0;
	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		struct stat st;
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = errno;
		else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = ENOTDIR;
		*c = saved;
		if (rc || saved == '\0')
			break;
	}
	fo_free(p);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes path, a file or a whole folder (symbolic links are not followed). */
static void remove_path(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode))
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		unlink(path);
}

/* Copies the regular file src to dst (replaced), keeping its mode. Returns 0 or an errno value. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno;
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.tmp-XXXXXX", dst);
	int out = mkostemp(tmp.s, O_CLOEXEC);
	if (out < 0) {
		int e = errno;
		close(in);
		fo_buf_release(&tmp);
		return e;
	}
	int rc = 0;
	char buf[65536];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno;
			break;
		}
		if (r == 0)
			break;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = errno;
				break;
			}
			off += w;
		}
		if (rc)
			break;
	}
	close(in);
	if (rc == 0 && fchmod(out, mode & 07777) != 0)
		rc = errno;
	if (close(out) != 0 && rc == 0)
		rc = errno;
	if (rc == 0 && rename(tmp.s, dst) != 0)
		rc = errno;
	if (rc)
		unlink(tmp.s);
	fo_buf_release(&tmp);
	return rc;
}

/*
 * Copies src (a file, folder or symbolic link) to dst, replacing what is there. Returns
 * 0 or an errno value, with the path that failed in *failed.
 */
static int copy_tree(const char *src, const char *dst, struct fo_buf *failed)
{
	struct stat st;
	if (lstat(src, &st) != 0) {
		fo_buf_adds(failed, src);
		return errno;
	}
	int rc = 0;
	if (S_ISDIR(st.st_mode)) {
		remove_path(dst);
		if (mkdir(dst, st.st_mode & 07777) != 0 && errno != EEXIST) {
			fo_buf_adds(failed, dst);
			return errno;
		}
		DIR *d = opendir(src);
		if (!d) {
			fo_buf_adds(failed, src);
			return errno;
		}
		struct dirent *de;
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			struct fo_buf s = FO_BUF_INIT, t = FO_BUF_INIT;
			fo_buf_addf(&s, "%s/%s", src, de->d_name);
			fo_buf_addf(&t, "%s/%s", dst, de->d_name);
			rc = copy_tree(s.s, t.s, failed);
			fo_buf_release(&s);
			fo_buf_release(&t);
		}
		closedir(d);
	} else if (S_ISLNK(st.st_mode)) {
		char link[PATH_MAX];
		ssize_t n = readlink(src, link, sizeof(link) - 1);
		if (n < 0) {
			fo_buf_adds(failed, src);
			return errno;
		}
		link[n] = '\0';
		remove_path(dst);
		if (symlink(link, dst) != 0) {
			rc = errno;
			fo_buf_adds(failed, dst);
		}
	} else if (S_ISREG(st.st_mode)) {
		remove_path(dst);
		rc = copy_file(src, dst, st.st_mode);
		if (rc)
			fo_buf_adds(failed, dst);
	}
	return rc;
}

/* ---- steps ---- */

static const struct fo_filespec *specs_of(const struct fo_propset *ps, size_t *n)
{
	const struct fo_propval *v = fo_props_get(ps, "files");
	*n = v && v->set ? v->nfiles : 0;
	return *n ? v->files : NULL;
}

/*
 * Writes the files once into a folder of the run's work area (so a URL is fetched and a
 * repository cloned once), then copies them into every node's folder. Nodes without a
 * folder of their own (the fake provisioner's) are skipped.
 */
static int configure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	size_t nspecs;
	const struct fo_filespec *specs = specs_of(ps, &nspecs);
	bool any = false;
	for (size_t i = 0; i < g->n; i++)
		any = any || g->nodes[i].dir;
	if (!nspecs || !any)
		return 0;
	const char *work = fo_run_work_dir(g->run);
	if (!work)
		return fo_err_set(err, FO_EIO, "remote_files: the run has no work area");
	struct fo_buf stage = FO_BUF_INIT;
	fo_buf_addf(&stage, "%s/remote_files-%s-XXXXXX", work, g->spec->name);
	if (!mkdtemp(stage.s)) {
		int rc = fo_err_set(err, FO_EIO, "remote_files: cannot create '%s': %s", stage.s, strerror(errno));
		fo_buf_release(&stage);
		return rc;
	}
	int rc = fo_files_materialize(specs, nspecs, stage.s, err);
	for (size_t i = 0; rc == 0 && i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		if (!n->dir)
			continue;
		for (size_t k = 0; rc == 0 && k < nspecs; k++) {
			struct fo_buf src = FO_BUF_INIT, dst = FO_BUF_INIT, failed = FO_BUF_INIT;
			fo_buf_addf(&src, "%s/%s", stage.s, specs[k].path);
			fo_buf_addf(&dst, "%s/%s", n->dir, specs[k].path);
			char *slash = strrchr(dst.s, '/');
			*slash = '\0';
			int e = mkdir_p(dst.s);
			*slash = '/';
			if (e)
				fo_buf_adds(&failed, dst.s);
			else
				e = copy_tree(src.s, dst.s, &failed);
			if (e)
				rc = fo_err_setpos(err, FO_EIO, &specs[k].pos, "File '%s': cannot copy it to %s/%s: %s: %s",
						   specs[k].path, g->spec->name, n->name, failed.s, strerror(e));
			else if (n->log)
				fo_info(n->log, "remote_files: wrote %s", specs[k].path);
			fo_buf_release(&src);
			fo_buf_release(&dst);
			fo_buf_release(&failed);
		}
	}
	remove_path(stage.s);
	fo_buf_release(&stage);
	return rc;
}

/* Removes the files from every node. Missing ones are fine. */
static int unconfigure(struct fo_rgroup *g, const struct fo_propset *ps, struct fo_err *err)
{
	size_t nspecs;
	const struct fo_filespec *specs = specs_of(ps, &nspecs);
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		for (size_t k = 0; n->dir && k < nspecs; k++) {
			struct fo_buf dst = FO_BUF_INIT;
			fo_buf_addf(&dst, "%s/%s", n->dir, specs[k].path);
			struct stat st;
			if (lstat(dst.s, &st) == 0) {
				remove_path(dst.s);
				if (n->log)
					fo_info(n->log, "remote_files: removed %s", specs[k].path);
			}
			/* Folders made for it go too, once empty (rmdir leaves the others). */
			size_t root = strlen(n->dir);
			for (char *slash = strrchr(dst.s, '/'); slash && (size_t)(slash - dst.s) > root;
			     slash = strrchr(dst.s, '/')) {
				*slash = '\0';
				if (rmdir(dst.s) != 0)
					break;
			}
			fo_buf_release(&dst);
		}
	}
	return 0;
}

static const struct fo_cm_ops ops = {.configure = configure, .unconfigure = unconfigure};

const struct fo_component fo_config_manager_remote_files = {
	.name = "remote_files",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "create files on every node of the group, from text, a URL or a git repository",
	.description =
		"Writes the files listed in `files` onto every node of its group when the group is "
		"configured, and removes them when it is unconfigured. Each file spec names a `path` "
		"and where the content comes from:\n"
		"- `data`: text, written as is\n"
		"- `base64`: bytes, base64-encoded (line breaks allowed)\n"
		"- `yaml` / `json`: any YAML value, written out as YAML or as JSON\n"
		"- `url`: fetched once by fallout, then copied to the nodes\n"
		"- `git`: `{repo, branch}`, shallow-cloned (once) into a folder at `path`\n"
		"\n"
		"Refer to a file anywhere in the test as <<file:PATH>>: the reference expands to the "
		"file's absolute path on the node. A spec with an unknown source is refused before anything runs "
		"(\"File 'foo' has an unknown file type 'bar'\"), and so are two specs with the same "
		"path.\n"
		"\n"
		"Fallout compatibility: the same property and file spec format as Fallout's "
		"`remote_files`; the Kubernetes `namespace` key of a spec is not supported.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 1\n"
		   "    provisioner: local\n"
		   "    configuration_manager:\n"
		   "      - name: remote_files\n"
		   "        properties:\n"
		   "          files:\n"
		   "            - path: conf/app.yaml\n"
		   "              yaml:\n"
		   "                port: 7000\n"
		   "            - path: hello.sh\n"
		   "              data: |\n"
		   "                echo hello\n"
		   "  client: server\n"
		   "workload:\n"
		   "  phases:\n"
		   "    - hello:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          script: sh <<file:hello.sh>>\n",
	.props = props,
	.cm = &ops,
};
