/*
 * fake.c: the `fake` provisioner's descriptor: a dry-run provisioner whose every step
 * succeeds without touching anything, for checking a test's shape and for fallout's own
 * tests (it is one of Fallout's test components, shipped as a documented helper).
 */
#include "util/common.h"

#include "components/component.h"

static const struct fo_prop props[] = {
	{
		.name = "name",
		.description = "The name of the cluster, shown in logs and the ensemble summary. Default: "
			       "generated from the test and run.",
		.type = FO_PT_STRING,
	},
	{0},
};

const struct fo_component fo_provisioner_fake = {
	.name = "fake",
	.kind = FO_KIND_PROVISIONER,
	.summary = "dry run: every step succeeds and nothing is started",
	.description =
		"A provisioner that pretends. Reserving, creating, starting, stopping and destroying "
		"nodes all succeed at once and do nothing; every node gets the address 127.0.0.1. "
		"Running a command on a fake node fails, so use it with modules that do not need the "
		"nodes (`fake`, `text`, `sleep`, `noop`, `runlevel`...). When asked what state an "
		"unknown group is in, it answers DESTROYED; otherwise it keeps the state it was told.\n"
		"\n"
		"Use it to check that a test definition is well formed and its phases run in the order "
		"you mean, before spending time on real nodes.\n"
		"\n"
		"Fallout compatibility: this is Fallout's test-only `fake` provisioner, shipped here as a "
		"documented helper.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 1\n"
		   "    provisioner:\n"
		   "      name: fake\n"
		   "    configuration_manager:\n"
		   "      - name: fake\n"
		   "  client: server\n",
	.props = props,
};
