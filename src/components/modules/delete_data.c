/*
 * delete_data.c: the `delete_data` fault: removes a folder of each target node (its
 * service's data, by default the node folder's `data/`), as the Fallout paper does to
 * test that a node rebuilds its data from its peers. Nothing heals it. Targets, schedule
 * and history: fault_common.h.
 */
#include "util/common.h"

#include "components/component.h"
#include "components/modules/fault_common.h"
#include "engine/run.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	FO_FAULT_TARGET_PROPS,
	{
		.name = "path",
		.description = "The folder (or file) to remove, relative to the node's folder; the `redis`, "
			       "`etcd` and `postgresql` configuration managers keep their data in `data`.",
		.type = FO_PT_STRING,
		.default_value = "data",
	},
	FO_FAULT_SCHEDULE_PROPS,
	{0},
};

/* The path stays inside the node's folder: relative, no `..`, not the folder itself. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	fo_fault_validate(ps, d);
	const struct fo_propval *v = fo_props_get(ps, "path");
	if (!v || !v->set || !v->str)
		return;
	const char *p = v->str;
	bool bad = !*p || *p == '/';
	for (const char *s = p; !bad && *s;) {
		size_t n = strcspn(s, "/");
		bad = (n == 2 && s[0] == '.' && s[1] == '.');
		s += n;
		while (*s == '/')
			s++;
	}
	bad = bad || strspn(p, "./") == strlen(p);
	if (bad)
		fo_diags_error(d, v->node ? &v->node->pos : &ps->pos,
			       "property 'path' of module '%s' must be a path inside the node's folder (relative, "
			       "without '..'), not '%s'",
			       ps->alias ? ps->alias : ps->comp->name, p);
}

static int inject(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err)
{
	const char *path = fo_props_str(fo_fault_mctx(f)->props, "path", "data");
	size_t nt;
	struct fo_node *const *t = fo_fault_targets(f, &nt);
	int rc = 0;
	for (size_t i = 0; i < nt && !rc; i++) {
		const char *argv[] = {"rm", "-rf", "--", path, NULL};
		struct fo_cmd cmd = {.argv = argv, .timeout_ns = 60 * INT64_C(1000000000)};
		struct fo_cmd_result res = {0};
		rc = fo_node_exec(t[i], &cmd, &res, err);
		if (!rc && (res.exit_code != 0 || res.signal))
			rc = fo_err_set(err, FO_EIO, "cannot remove '%s' on %s/%s (%s %d; see its fallout-node.log)",
					path, t[i]->group->spec->name, t[i]->name,
					res.signal ? "signal" : "exit status", res.signal ? res.signal : res.exit_code);
	}
	fo_buf_addf(detail, "removed %s", path);
	return rc;
}

static const struct fo_fault_ops fault = {.verb = "delete_data", .inject = inject};

static int setup(struct fo_mctx *m, struct fo_err *err)
{
	return fo_fault_setup(m, &fault, err);
}

static const struct fo_module_ops ops = {.setup = setup, .run = fo_fault_run, .teardown = fo_fault_teardown};

const struct fo_component fo_module_delete_data = {
	.name = "delete_data",
	.kind = FO_KIND_MODULE,
	.summary = "fault: remove a service's data folder on nodes",
	.description =
		"Removes `path` (a folder or a file, relative to the node's folder; default `data`, where "
		"the `redis`, `etcd` and `postgresql` configuration managers keep their data) on each "
		"target node, as the Fallout paper does to see whether a node that lost its disk "
		"recovers its data from its peers. The services keep running; combine it with `kill` "
		"and `restart.after`, or with `restart`, to have them start on an empty folder. Nothing "
		"heals it.\n"
		"\n"
		"History: `invoke`, an `info` \"inject delete_data server/node0\" per fault (JSON with "
		"the nodes and the time), then `ok`, or `fail` when the folder could not be removed.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - lose_disk:\n"
		   "        module: delete_data\n"
		   "        properties:\n"
		   "          target.ordinals: 2\n"
		   "          path: data\n",
	.props = props,
	.validate = validate,
	.module = &ops,
};
