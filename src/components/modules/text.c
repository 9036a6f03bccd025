/*
 * text.c: the `text` module: emits a given text as its result, so checkers
 * can see in which order modules ran. One of Fallout's test components, shipped as a
 * documented helper.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/run.h"
#include "spec/props.h"

static const struct fo_prop props[] = {
	{
		.name = "text",
		.description = "The text to emit as the `ok` operation's value.",
		.type = FO_PT_STRING,
		.required = true,
	},
	{0},
};

/* Emits the text as the module's one ok, as Fallout's test module does (no invoke). */
static int run(struct fo_mctx *m, struct fo_err *err)
{
	fo_emit(m, FO_OP_OK, fo_props_str(m->props, "text", ""));
	return 0;
}

static const struct fo_module_ops ops = {.run = run};

const struct fo_component fo_module_text = {
	.name = "text",
	.kind = FO_KIND_MODULE,
	.summary = "emit a text as the module's result (dry-run helper)",
	.description =
		"Emits a single `ok` operation whose value is `text`, and does nothing else. Put "
		"`text` modules in phases and sub-phases to see, in the operations history, in which "
		"order they ran: modules of one phase entry run at the same time, entries of a list "
		"one after the other.\n"
		"\n"
		"Fallout compatibility: this is Fallout's test-only `text` module, shipped here as a "
		"documented helper.",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - first:\n"
		   "        module: text\n"
		   "        properties:\n"
		   "          text: a\n"
		   "    - second:\n"
		   "        module: text\n"
		   "        properties:\n"
		   "          text: b\n",
	.props = props,
	.module = &ops,
};
