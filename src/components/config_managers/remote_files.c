/*
 * remote_files.c: the `remote_files` configuration manager's descriptor. It puts files
 * described in the test (inline text, base64, YAML, JSON, a URL, a git repository) on
 * every node of its group; modules find them through <<file:PATH>> references.
 */
#include "util/common.h"

#include "components/component.h"

static const struct fo_prop props[] = {
	{
		.name = "files",
		.description = "The files to create on every node: a list of file specs, each a map of "
			       "`path` and exactly one of `data` (text), `base64` (bytes), `yaml` or `json` "
			       "(a value written in that format), `url` (downloaded) or `git` (a map of "
			       "`repo` and optional `branch`, shallow-cloned). Paths are unique and relative "
			       "to the node's library folder.",
		.type = FO_PT_FILES,
		.required = true,
	},
	{0},
};

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
		"- `git`: `{repo, branch}`, shallow-cloned into a folder named after the repository\n"
		"\n"
		"Refer to a file anywhere in the test as <<file:PATH>>: the reference expands to the "
		"file's absolute path on the node. A copy of each file is kept in the run's artifacts "
		"under managed_files/. A spec with an unknown source is refused before anything runs "
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
};
