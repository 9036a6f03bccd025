/*
 * registry.c: the one table of every component fallout ships (curl's protocol table,
 * Lua's linit.c), and the lookup over it. Each component is a const descriptor in its
 * own file under provisioners/, config_managers/, modules/, checkers/ and
 * artifact_checkers/; adding one means writing that file and adding one line here.
 *
 * The default set is what every build has. Test builds append Fallout's test-only
 * fixture set (tests/fixtures/components.c) with fo_registry_add_set before anything
 * else runs; lookups then see the default set first, so a fixture can never shadow a
 * shipped component.
 */
#include "util/common.h"

#include "components/registry.h"
#include "util/alloc.h"
#include "util/strutil.h"

/* Provisioners. */
extern const struct fo_component fo_provisioner_fake;
extern const struct fo_component fo_provisioner_local;
extern const struct fo_component fo_provisioner_netns;
extern const struct fo_component fo_provisioner_ssh;
/* Configuration managers. */
extern const struct fo_component fo_config_manager_etcd;
extern const struct fo_component fo_config_manager_fake;
extern const struct fo_component fo_config_manager_noop;
extern const struct fo_component fo_config_manager_postgresql;
extern const struct fo_component fo_config_manager_redis;
extern const struct fo_component fo_config_manager_remote_files;
extern const struct fo_component fo_config_manager_script;
/* Modules. */
extern const struct fo_component fo_module_bash;
extern const struct fo_component fo_module_delete_data;
extern const struct fo_component fo_module_fail;
extern const struct fo_component fo_module_fake;
extern const struct fo_component fo_module_kill;
extern const struct fo_component fo_module_kvload;
extern const struct fo_component fo_module_noop;
extern const struct fo_component fo_module_partition;
extern const struct fo_component fo_module_pause;
extern const struct fo_component fo_module_pgbench;
extern const struct fo_component fo_module_redis_benchmark;
extern const struct fo_component fo_module_restart;
extern const struct fo_component fo_module_runlevel;
extern const struct fo_component fo_module_sleep;
extern const struct fo_component fo_module_text;
extern const struct fo_component fo_module_throttle;
/* Checkers. */
extern const struct fo_component fo_checker_duration;
extern const struct fo_component fo_checker_nofail;
extern const struct fo_component fo_checker_runlevel;
/* Artifact checkers. */
extern const struct fo_component fo_artifact_checker_fault_impact;
extern const struct fo_component fo_artifact_checker_hdr_split_to_csv;
extern const struct fo_component fo_artifact_checker_hdrtool;
extern const struct fo_component fo_artifact_checker_performance_thresholds;
extern const struct fo_component fo_artifact_checker_regex;
extern const struct fo_component fo_artifact_checker_systemlog;

/* The default set, grouped by kind and sorted by name within a kind. */
static const struct fo_component *const defaults[] = {
	&fo_provisioner_fake,
	&fo_provisioner_local,
	&fo_provisioner_netns,
	&fo_provisioner_ssh,

	&fo_config_manager_etcd,
	&fo_config_manager_fake,
	&fo_config_manager_noop,
	&fo_config_manager_postgresql,
	&fo_config_manager_redis,
	&fo_config_manager_remote_files,
	&fo_config_manager_script,

	&fo_module_bash,
	&fo_module_delete_data,
	&fo_module_fail,
	&fo_module_fake,
	&fo_module_kill,
	&fo_module_kvload,
	&fo_module_noop,
	&fo_module_partition,
	&fo_module_pause,
	&fo_module_pgbench,
	&fo_module_redis_benchmark,
	&fo_module_restart,
	&fo_module_runlevel,
	&fo_module_sleep,
	&fo_module_text,
	&fo_module_throttle,

	&fo_checker_duration,
	&fo_checker_nofail,
	&fo_checker_runlevel,

	&fo_artifact_checker_fault_impact,
	&fo_artifact_checker_hdr_split_to_csv,
	&fo_artifact_checker_hdrtool,
	&fo_artifact_checker_performance_thresholds,
	&fo_artifact_checker_regex,
	&fo_artifact_checker_systemlog,
};

/* Sets added after the defaults (the fixture set); few, so a fixed array will do. */
#define MAX_EXTRA_SETS 8
static const struct fo_component *const *extra_sets[MAX_EXTRA_SETS];
static size_t extra_lens[MAX_EXTRA_SETS];
static size_t n_extra_sets;
static size_t n_extra; /* components in all extra sets */

void fo_registry_add_set(const struct fo_component *const *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < n_extra_sets; i++)
		if (extra_sets[i] == set)
			return;
	if (n_extra_sets == MAX_EXTRA_SETS)
		abort(); /* a programming error: only a handful of sets exist */
	size_t len = 0;
	while (set[len])
		len++;
	extra_sets[n_extra_sets] = set;
	extra_lens[n_extra_sets] = len;
	n_extra_sets++;
	n_extra += len;
}

size_t fo_registry_count(void)
{
	return FO_ARRAY_LEN(defaults) + n_extra;
}

const struct fo_component *fo_registry_at(size_t i)
{
	if (i < FO_ARRAY_LEN(defaults))
		return defaults[i];
	i -= FO_ARRAY_LEN(defaults);
	for (size_t s = 0; s < n_extra_sets; s++) {
		if (i < extra_lens[s])
			return extra_sets[s][i];
		i -= extra_lens[s];
	}
	return NULL;
}

const struct fo_component *fo_registry_find(enum fo_kind kind, const char *name)
{
	if (!name)
		return NULL;
	size_t n = fo_registry_count();
	for (size_t i = 0; i < n; i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (c->kind == kind && strcasecmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

const char *fo_registry_suggest(enum fo_kind kind, const char *name)
{
	if (!name)
		return NULL;
	size_t n = fo_registry_count();
	const char **names = fo_calloc(n ? n : 1, sizeof(*names));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fo_component *c = fo_registry_at(i);
		if (c->kind == kind)
			names[k++] = c->name;
	}
	const char *best = fo_suggest(name, names, k);
	fo_free(names);
	return best;
}
