/*
 * partition.c: the `partition` fault: cuts the network between nodes with nftables rules
 * inside the nodes' own network namespaces (never on this machine's network), for
 * `duration`. Modes: `isolate` (the targets from the rest of their group), `halves` (the
 * group split in two) and `one-way` (packets from the targets to the rest are dropped,
 * the other way still flows). Each table is in the run's ledger before it is added, so
 * `fallout cleanup` removes it after a killed run. Targets, schedule, history, healing:
 * fault_common.h.
 */
#include "util/common.h"

#include "components/component.h"
#include "components/modules/fault_common.h"
#include "engine/run.h"
#include "spec/props.h"
#include "util/buf.h"
#include "util/err.h"

static const struct fo_prop props[] = {
	FO_FAULT_TARGET_PROPS,
	{
		.name = "mode",
		.description = "`isolate`: the targets can reach no other node of their group, nor it them; "
			       "`halves`: the group is split in two sides that cannot reach each other (the "
			       "targets against the rest, or, when every node is a target, the first half "
			       "of them against the second); `one-way`: packets from the targets to the other "
			       "nodes of the group are dropped, packets the other way pass.",
		.type = FO_PT_ENUM,
		.default_value = "isolate",
		FO_OPTIONS("isolate", "halves", "one-way"),
	},
	{
		.name = "duration",
		.description = "How long the partition lasts.",
		.type = FO_PT_DURATION,
		.default_value = "10s",
	},
	FO_FAULT_SCHEDULE_PROPS,
	{0},
};

/* Every node of the group must have a namespace of its own. */
static int check(struct fo_fault *f, struct fo_rgroup *g, struct fo_err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		int rc = fo_fault_need_network(f, &g->nodes[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Appends "ip saddr { A, B } drop" (and the ip6 form) for the addresses of set. */
static int drop_rule(struct fo_buf *b, const char *field, struct fo_node *const *set, size_t n, struct fo_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *a = set[i]->address;
		if (!*a || strspn(a, "0123456789abcdefABCDEF.:") != strlen(a))
			return fo_err_set(err, FO_EINVAL, "%s/%s has no IP address ('%s')", set[i]->group->spec->name,
					  set[i]->name, a);
	}
	for (int v6 = 0; v6 < 2; v6++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if ((strchr(set[i]->address, ':') != NULL) != v6)
				continue;
			if (k++ == 0)
				fo_buf_addf(b, "\t\t%s %s { ", v6 ? "ip6" : "ip", field);
			else
				fo_buf_adds(b, ", ");
			fo_buf_adds(b, set[i]->address);
		}
		if (k)
			fo_buf_adds(b, " } drop\n");
	}
	return 0;
}

static void names(struct fo_buf *b, struct fo_node *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fo_buf_addf(b, "%s%s", i ? ", " : "", set[i]->name);
}

static int inject(struct fo_fault *f, struct fo_buf *detail, struct fo_err *err)
{
	size_t nt, no;
	struct fo_node *const *t = fo_fault_targets(f, &nt);
	struct fo_node *const *o = fo_fault_others(f, &no);
	const char *mode = fo_props_str(fo_fault_mctx(f)->props, "mode", "isolate");
	bool one_way = strcmp(mode, "one-way") == 0;
	struct fo_node *const *a = t, *const *b = o;
	size_t na = nt, nb = no;
	if (strcmp(mode, "halves") == 0 && no == 0) {
		na = nt / 2;
		b = t + na;
		nb = nt - na;
	}
	if (na == 0 || nb == 0)
		return fo_err_set(err, FO_EINVAL,
				  "mode '%s' needs nodes on both sides: %zu targeted, %zu other%s in the group", mode,
				  nt, no, no == 1 ? "" : "s");
	names(detail, a, na);
	fo_buf_adds(detail, one_way ? " -/-> " : " <-/-> ");
	names(detail, b, nb);
	struct fo_buf chains = FO_BUF_INIT;
	int rc = 0;
	if (!one_way) {
		fo_buf_adds(&chains, "\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n");
		rc = drop_rule(&chains, "saddr", b, nb, err);
		fo_buf_adds(&chains, "\t}\n");
	}
	fo_buf_adds(&chains, "\tchain output {\n\t\ttype filter hook output priority -10; policy accept;\n");
	if (!rc)
		rc = drop_rule(&chains, "daddr", b, nb, err);
	fo_buf_adds(&chains, "\t}");
	for (size_t i = 0; i < na && !rc; i++)
		rc = fo_fault_nft(f, a[i], chains.s, err);
	fo_buf_release(&chains);
	return rc;
}

static const struct fo_fault_ops fault = {
	.verb = "partition", .duration_prop = "duration", .check = check, .inject = inject};

static int setup(struct fo_mctx *m, struct fo_err *err)
{
	return fo_fault_setup(m, &fault, err);
}

static const struct fo_module_ops ops = {.setup = setup, .run = fo_fault_run, .teardown = fo_fault_teardown};

const struct fo_component fo_module_partition = {
	.name = "partition",
	.kind = FO_KIND_MODULE,
	.summary = "fault: cut the network between nodes for a while (nftables in the nodes' namespaces)",
	.description =
		"Cuts the network between the nodes of `target.group` for `duration`, with an nftables "
		"table inside the network namespace of each node on the cut side, dropping packets to "
		"and from the other side (established connections included). `mode: isolate` cuts "
		"each target off from the rest of its group; `halves` splits the group in two sides "
		"(the targets against the rest; when every node is a target, the first half against "
		"the second, shuffled with `target.random`); `one-way` drops only the packets the "
		"targets send to the rest. Nodes of other groups (clients) still reach every node.\n"
		"\n"
		"Needs nodes with a network namespace of their own (provisioner `netns`): on `local` "
		"nodes, which share this machine's loopback, it refuses to run and fails the run, since "
		"fallout never puts rules on the machine's own network. Needs `nft` (nftables) and "
		"`ip` (iproute2).\n"
		"\n"
		"History: `invoke`, an `info` \"inject partition server/node0\" and an `info` \"heal "
		"partition ...\" per fault (JSON with the nodes, the sides, and the times), then `ok` or "
		"`fail`. The rules are always removed: at the end of the fault, at once when the run "
		"is aborted, and by `fallout cleanup` when fallout itself was killed (each table is in "
		"the run's ledger before it is added).",
	.example = "workload:\n"
		   "  phases:\n"
		   "    - split:\n"
		   "        module: partition\n"
		   "        properties:\n"
		   "          mode: halves\n"
		   "          target.random: true\n"
		   "          target.count: 1\n"
		   "          duration: 20s\n"
		   "          delay: 10s\n",
	.props = props,
	.validate = fo_fault_validate,
	.module = &ops,
};
