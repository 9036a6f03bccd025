/*
 * regex.c: the `regex` artifact checker's descriptor: searches the collected files of a
 * node group for lines that must, or must not, appear.
 */
#include "util/common.h"

#include "components/component.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/regex.h"

static const struct fo_prop props[] = {
	{
		.name = "node_group",
		.description = "The node group whose artifacts are searched.",
		.type = FO_PT_GROUP,
		.required = true,
	},
	{
		.name = "files",
		.description = "Which artifacts to check: a regex that must match the whole path of a file, "
			       "relative to the group's artifact folder, e.g. `node\\d+/logs/.*\\.log`.",
		.type = FO_PT_REGEX,
		.required = true,
	},
	{
		.name = "required",
		.description = "Regexes that must each match some line of every checked file.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "forbidden",
		.description = "Regexes none of which may match any line of any checked file.",
		.type = FO_PT_STRLIST,
	},
	{
		.name = "validate_all",
		.description = "Check every matching file and report all problems, rather than stopping at "
			       "the first file that fails.",
		.type = FO_PT_BOOL,
		.default_value = "false",
	},
	{0},
};

/* Each entry of the regex list called name compiles. */
static void check_list(const struct fo_propset *ps, const struct fo_propval *v, const char *name,
		       struct fo_diags *d)
{
	const struct fo_pos *pos = v->node ? &v->node->pos : &ps->pos;
	for (size_t i = 0; i < v->nlist; i++) {
		struct fo_err err = {0};
		struct fo_regex *re = fo_regex_new(v->list[i], &err);
		if (re) {
			fo_regex_free(re);
			continue;
		}
		fo_diags_error(d, pos, "'%s' in '%s' of artifact checker '%s' is not a valid regex: %s", v->list[i],
			       name, ps->alias ? ps->alias : ps->comp->name, err.msg);
	}
}

/* At least one of required and forbidden, and every entry a regex. */
static void validate(const struct fo_propset *ps, struct fo_diags *d)
{
	const struct fo_propval *req = fo_props_get(ps, "required");
	const struct fo_propval *forb = fo_props_get(ps, "forbidden");
	bool have_req = req && req->set && req->nlist > 0;
	bool have_forb = forb && forb->set && forb->nlist > 0;
	if (!have_req && !have_forb)
		fo_diags_error(d, &ps->pos, "artifact checker '%s' needs at least one of 'required' or 'forbidden'",
			       ps->alias ? ps->alias : ps->comp->name);
	if (have_req)
		check_list(ps, req, "required", d);
	if (have_forb)
		check_list(ps, forb, "forbidden", d);
}

const struct fo_component fo_artifact_checker_regex = {
	.name = "regex",
	.kind = FO_KIND_ARTIFACT_CHECKER,
	.summary = "check collected files for lines that must, or must not, appear",
	.description =
		"After the artifacts are collected, walks the artifact folder of `node_group` and checks "
		"every file whose relative path fully matches `files`. A file passes when each regex in "
		"`required` matches at least one of its lines and no regex in `forbidden` matches any "
		"line. Regexes search within a line (they need not match all of it); anchor them with "
		"^ and $ when you mean the whole line. Give at least one of `required` and `forbidden`.\n"
		"\n"
		"If no file matches, the check fails when `required` is given and passes otherwise. It "
		"stops at the first failing file unless `validate_all` is true; the lines found are in "
		"controller/artifact_checkers/artifact_checker-<alias>.log.\n"
		"\n"
		"Fallout compatibility: the same properties as Fallout's `regex` artifact checker. "
		"Regexes are PCRE2, which reads Java's usual syntax the same way.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - load:\n"
		   "        module: bash\n"
		   "        properties:\n"
		   "          script: ./run-load.sh > load.log 2>&1\n"
		   "  artifact_checkers:\n"
		   "    clean_logs:\n"
		   "      artifact_checker: regex\n"
		   "      properties:\n"
		   "        node_group: server\n"
		   "        files: .*\\.log\n"
		   "        forbidden:\n"
		   "          - \"(ERROR|FATAL)\"\n"
		   "          - OutOfMemory\n",
	.props = props,
	.validate = validate,
};
