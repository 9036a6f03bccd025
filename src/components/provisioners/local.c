/*
 * local.c: the `local` provisioner's descriptor. Its nodes live on this machine: each
 * node is a folder in the run's work area with its own loopback address, so a test needs
 * nothing but the machine it runs on. The behaviour comes with the engine issue; this
 * file is the contract users see (name, properties, documentation).
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
	{
		.name = "artifact.location",
		.description = "Accepted so Fallout tests validate unchanged, and ignored: a node's files, "
			       "and so its artifacts, always live in the run's work area.",
		.type = FO_PT_STRING,
		.default_value = "/tmp/artifacts/",
	},
	{0},
};

const struct fo_component fo_provisioner_local = {
	.name = "local",
	.kind = FO_KIND_PROVISIONER,
	.summary = "run the nodes on this machine, each a folder with its own loopback address",
	.description =
		"Runs every node of the group on the machine fallout runs on. A node is a folder in "
		"the run's work area (its data, its logs, the files put on it) plus a loopback address "
		"of its own, 127.0.G.N (G numbers the group and N the node, both from 1), so every "
		"node can listen on its service's default port without clashing with its neighbours, "
		"and several clusters, or several runs, can share the machine. Commands run as the "
		"user running fallout, with the node's folder as the working directory.\n"
		"\n"
		"Needs nothing installed beyond the software under test; Linux routes the whole of "
		"127.0.0.0/8 to the loopback interface, so the addresses need no setup. A group may have "
		"at most 254 nodes (one loopback address each).\n"
		"\n"
		"Fallout compatibility: Fallout's `Local` (names are case-insensitive) runs commands on "
		"the Fallout server itself with every node sharing one address; tests written for it "
		"validate and run here unchanged. `artifact.location` is accepted and ignored.",
	.example = "ensemble:\n"
		   "  server:\n"
		   "    node.count: 3\n"
		   "    provisioner:\n"
		   "      name: local\n"
		   "  client: server\n",
	.props = props,
};
