/*
 * remote_files.c: the `remote_files` configuration manager. It puts files
 * described in the test (inline text, base64, YAML, JSON, a URL, a git repository) on
 * every node of its group; modules find them through <<file:PATH>> references.
 */
#include "util/common.h"

#include <sys/stat.h>
#include <unistd.h>

#include "components/component.h"
#include "engine/run.h"
#include "spec/files.h"
#include "spec/props.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

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
			int e = fo_mkdir_p(dst.s, 0755, &failed);
			*slash = '/';
			/* A folder there is replaced, not merged into, so nothing stale stays; a
			 * file or link is replaced atomically by the copy itself. */
			struct stat st;
			if (!e && lstat(dst.s, &st) == 0 && S_ISDIR(st.st_mode))
				e = fo_remove_tree(dst.s, false, &failed);
			if (!e)
				e = fo_copy_tree(src.s, dst.s, &failed);
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
	fo_remove_tree(stage.s, false, NULL);
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
				fo_remove_tree(dst.s, false, NULL);
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
