/*
 * noop.c: the `noop` module: a module that succeeds without doing anything,
 * a placeholder in a phase or a way to print values while writing a test.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/buf.h"

static const struct fo_prop props[] = {
	{
		.name = "properties",
		.description = "Values to write into the `invoke` operation, handy to see what a template "
			       "expanded to.",
		.type = FO_PT_STRLIST,
	},
	{0},
};

/* Succeeds at once; the invoke carries the given properties, joined with commas. */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	const struct fo_propval *v = fo_props_get(m->props, "properties");
	struct fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; v && v->set && i < v->nlist; i++)
		fo_buf_addf(&b, "%s%s", i ? "," : "", v->list[i]);
	fo_emit(m, FO_OP_INVOKE, b.len ? b.s : NULL);
	fo_emit(m, FO_OP_OK, "Success: noop succeeded!");
	fo_buf_release(&b);
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_noop = {
	.name = "noop",
	.kind = FO_KIND_MODULE,
	.summary = "do nothing and succeed",
	.description =
		"Emits `invoke` (with the given `properties`, if any) and then `ok` with the value "
		"\"Success: noop succeeded!\". Use it as a placeholder while writing a test, to keep a "
		"phase that a template may leave empty, or to print what template parameters "
		"expanded to.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `noop`.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - placeholder:\n"
		   "        module: noop\n"
		   "        properties:\n"
		   "          properties: cluster is up,starting load\n",
	.props = props,
	.module = &ops,
};
