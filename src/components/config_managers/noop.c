/*
 * noop.c: the `noop` configuration manager: the default of every node
 * group that names none. It installs nothing, so the group's nodes are bare.
 */
#include "util/common.h"

#include "components/component.h"

/* Every step is left out: a missing hook succeeds, and there is no state to check. */
static const struct fo_cm_ops ops = {0};

const struct fo_component fo_config_manager_noop = {
	.name = "noop",
	.kind = FO_KIND_CONFIG_MANAGER,
	.summary = "configure nothing (the default when a group names no configuration manager)",
	.description =
		"Does nothing at every step: configuring, starting services, stopping them and "
		"unconfiguring all succeed at once. A node group without a `configuration_manager` "
		"gets this one, which leaves its nodes as the provisioner made them: useful for client "
		"groups that only run scripts, or when a `bash` module sets everything up itself.\n"
		"\n"
		"Fallout compatibility: the same as Fallout's `noop`.",
	.example = "ensemble:\n"
		   "  client:\n"
		   "    node.count: 1\n"
		   "    provisioner: local\n"
		   "    configuration_manager: noop\n",
	.cm = &ops,
};
