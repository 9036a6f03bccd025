/*
 * validate.c: checks a parsed test definition and builds its model (definition.h).
 *
 * Rules are FALLOUT-FORMAT.md 1.2 to 1.7: the top-level keys, the ensemble and its node
 * groups (aliases, names, counts, components and their shared property bag, runlevels,
 * reuse, local_files), the workload (phases to any depth, module entries, aliases unique
 * across the workload, lifetimes, checkers, artifact checkers), property values, and
 * references (`<<file:...>>` must name a local_files entry; secrets and providers are
 * checked for form). Every problem is reported; nothing stops at the first.
 */
#include "util/common.h"

#include "components/registry.h"
#include "spec/definition.h"
#include "spec/files.h"
#include "spec/refs.h"
#include "spec/validate.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/strutil.h"

#define MAX_NODES_PER_GROUP 1024

struct vctx {
	struct fo_def *def;
	struct fo_arena *a;
	struct fo_diags *d;
	struct fo_props_ctx pctx;
	const char **group_names;
	/* workload aliases, for the uniqueness rule */
	const struct fo_ynode **aliases;
	size_t naliases, aliases_cap;
	const struct fo_ynode *local_files_node; /* where local_files was given */
};

/* Lists the keys of map not in allowed (case-insensitive when icase) as "[a, b]". */
static bool check_keys(struct vctx *v, const struct fo_ynode *map, const char *const *allowed, bool icase,
		       const char *where, const char *hint)
{
	struct fo_buf bad = FO_BUF_INIT;
	const struct fo_ynode *first = NULL;
	size_t nallowed = 0;
	while (allowed[nallowed])
		nallowed++;
	const char *near = NULL;
	for (size_t i = 0; i < map->npairs; i++) {
		const struct fo_ynode *k = map->pairs[i].key;
		bool ok = false;
		for (size_t j = 0; j < nallowed && !ok; j++)
			ok = icase ? strcasecmp(k->str, allowed[j]) == 0 : strcmp(k->str, allowed[j]) == 0;
		if (ok)
			continue;
		if (!first) {
			first = k;
			near = fo_suggest(k->str, allowed, nallowed);
		} else {
			near = NULL;
		}
		fo_buf_addf(&bad, "%s%s", bad.len ? ", " : "", k->str);
	}
	if (first) {
		struct fo_buf valid = FO_BUF_INIT;
		for (size_t j = 0; j < nallowed; j++)
			fo_buf_addf(&valid, "%s%s", j ? ", " : "", allowed[j]);
		fo_diags_error(v->d, &first->pos, "found invalid yaml keys %s: [%s]. Only valid keys are [%s]%s%s%s%s",
			       where, bad.s, valid.s, near ? " (did you mean '" : "", near ? near : "",
			       near ? "'?)" : "", hint ? hint : "");
		fo_buf_release(&valid);
	}
	fo_buf_release(&bad);
	return first == NULL;
}

static bool expect_kind(struct vctx *v, const struct fo_ynode *n, enum fo_ykind kind, const char *what)
{
	if (n->kind == kind)
		return true;
	const char *want = kind == FO_YMAP ? "a map" : kind == FO_YSEQ ? "a list" : "a value";
	fo_diags_error(v->d, &n->pos, "%s must be %s, not %s", what, want, fo_ynode_describe(n));
	return false;
}

/* ---- references ---- */

/* True if path names a local_files entry or a file of a `files` property of some group
 * (remote_files): both can be referred to as <<file:PATH>>. */
static bool file_defined(const struct vctx *v, const char *path)
{
	if (fo_files_find(v->def->files, v->def->nfiles, path) >= 0)
		return true;
	for (size_t i = 0; i < v->def->ngroups; i++) {
		const struct fo_group *g = &v->def->groups[i];
		for (size_t c = 0; c < g->ncms; c++)
			for (size_t k = 0; k < g->cms[c].n; k++) {
				const struct fo_propval *pv = &g->cms[c].v[k];
				if (pv->prop->type == FO_PT_FILES && fo_files_find(pv->files, pv->nfiles, path) >= 0)
					return true;
			}
	}
	return false;
}

/* Scans every string in n (recursively) for <<...>> references and checks them. */
static void check_refs(struct vctx *v, const struct fo_ynode *n, unsigned depth)
{
	if (depth > 600)
		return;
	if (n->kind == FO_YMAP) {
		for (size_t i = 0; i < n->npairs; i++)
			check_refs(v, n->pairs[i].value, depth + 1);
		return;
	}
	if (n->kind == FO_YSEQ) {
		for (size_t i = 0; i < n->nitems; i++)
			check_refs(v, n->items[i], depth + 1);
		return;
	}
	if (n->stype != FO_YS_STR || !memchr(n->str, '<', n->len))
		return;
	struct fo_ref *refs = NULL;
	size_t nrefs = 0;
	fo_refs_scan_node(v->a, n, &refs, &nrefs, v->d);
	for (size_t i = 0; i < nrefs; i++) {
		const struct fo_ref *r = &refs[i];
		if (r->type == FO_REF_FILE) {
			if (!file_defined(v, r->key))
				fo_diags_error(v->d, &r->pos, "<<file:%s>> is not defined in a local_files section", r->key);
		} else if (r->type == FO_REF_PROVIDER) {
			const struct fo_group *g = fo_def_group(v->def, r->group);
			if (!g) {
				const char *near = fo_suggest(r->group, v->group_names, v->def->ngroups);
				fo_diags_error(v->d, &r->pos, "<<provider:...>> names node group '%s', which does not exist%s%s%s",
					       r->group, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			} else if (r->ordinal >= g->node_count) {
				fo_diags_error(v->d, &r->pos,
					       "<<provider:...>> names node %d of group '%s', which has %d node%s (ordinals "
					       "start at 0)",
					       r->ordinal, g->name, g->node_count, g->node_count == 1 ? "" : "s");
			}
		}
	}
}

/* ---- ensemble ---- */

static const char *const ensemble_keys[] = {"server", "client", "servers", "clients", "observer",
					    "controller", "local_files", NULL};
static const char *const group_keys[] = {"name", "node.count", "provisioner", "configuration_manager",
					 "runlevel", "runlevel.final", "mark_for_reuse", "local_files", NULL};
static const char *const component_keys[] = {"name", "properties", NULL};

struct comp_ref {
	const struct fo_component *comp;
	const struct fo_ynode *node; /* where written */
	const struct fo_ynode *props; /* the properties map, or NULL */
};

/* Reads `name` or `{name, properties}` of a provisioner or configuration manager. */
static bool read_component(struct vctx *v, const struct fo_ynode *n, enum fo_kind kind, const char *gname,
			   struct comp_ref *out)
{
	const char *title = fo_kind_title(kind);
	out->node = n;
	out->props = NULL;
	out->comp = NULL;
	const struct fo_ynode *name = n;
	if (n->kind == FO_YMAP) {
		char where[200];
		snprintf(where, sizeof(where), "below the %s of node group %s", title, gname);
		check_keys(v, n, component_keys, false, where, NULL);
		name = fo_ymap_get(n, "name");
		if (!name) {
			fo_diags_error(v->d, &n->pos, "the %s of node group '%s' needs a 'name'", title, gname);
			return false;
		}
		const struct fo_ynode *p = fo_ymap_get(n, "properties");
		if (p && !fo_ynode_is_null(p)) {
			if (expect_kind(v, p, FO_YMAP, "'properties'"))
				out->props = p;
		}
	}
	if (!fo_ynode_is_value(name)) {
		fo_diags_error(v->d, &name->pos, "the %s of node group '%s' must be a name or a map with 'name', not %s",
			       title, gname, fo_ynode_describe(name));
		return false;
	}
	out->comp = fo_registry_find(kind, name->str);
	if (!out->comp) {
		const char *near = fo_registry_suggest(kind, name->str);
		fo_diags_error(v->d, &name->pos, "unknown %s '%s'%s%s%s (see 'fallout components %s')", title, name->str,
			       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "", fo_kind_name(kind));
		return false;
	}
	return true;
}

static bool parse_runlevel(struct vctx *v, const struct fo_ynode *n, const char *key, const char *gname,
			   enum fo_runlevel *out)
{
	if (!fo_ynode_is_value(n) || fo_runlevel_parse(n->str, out)) {
		const char *near = fo_ynode_is_value(n) ? fo_suggest(n->str, fo_stable_runlevel_names, 7) : NULL;
		fo_diags_error(v->d, &n->pos,
			       "'%s' of node group '%s' is '%s', not a runlevel; runlevels are DESTROYED, RESERVED, "
			       "CREATED, STOPPED, STARTED_SERVICES_UNCONFIGURED, STARTED_SERVICES_CONFIGURED, "
			       "STARTED_SERVICES_RUNNING%s%s%s",
			       key, gname, n->kind == FO_YSCALAR ? n->str : fo_ynode_describe(n),
			       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		return false;
	}
	return true;
}

/* A group as written, before properties are bound (they need every group's name). */
struct pending_group {
	const struct fo_ynode *node; /* the group's map; NULL for implicit groups */
	struct comp_ref prov;
	struct comp_ref *cms;
	size_t ncms;
};

static struct fo_group *add_group(struct vctx *v, const char *name, const struct fo_pos *pos)
{
	struct fo_def *def = v->def;
	struct fo_group *g = &def->groups[def->ngroups++];
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->launch = FO_RL_STARTED_SERVICES_RUNNING;
	g->final = FO_RL_DESTROYED;
	if (pos)
		g->pos = *pos;
	return g;
}

/* Reads one node-group map into g and pg. */
static void read_group(struct vctx *v, const struct fo_ynode *n, const char *default_name, struct fo_group *g,
		       struct pending_group *pg)
{
	pg->node = n;
	const struct fo_ynode *name = fo_ymap_getcase(n, "name");
	g->name = default_name;
	if (name) {
		if (fo_ynode_is_value(name) && !fo_has_space(name->str, name->len) && name->len > 0)
			g->name = name->str;
		else
			fo_diags_error(v->d, &name->pos, "the name of a node group must be a word without spaces, not '%s'",
				       name->kind == FO_YSCALAR ? name->str : fo_ynode_describe(name));
	}
	char where[160];
	snprintf(where, sizeof(where), "below nodegroup %s", g->name);
	check_keys(v, n, group_keys, true, where, NULL);

	const struct fo_ynode *count = fo_ymap_getcase(n, "node.count");
	if (!count) {
		fo_diags_error(v->d, &n->pos, "node group '%s' needs 'node.count' (1 to %d)", g->name, MAX_NODES_PER_GROUP);
	} else if (count->kind != FO_YSCALAR || count->stype != FO_YS_INT || count->i < 1 ||
		   count->i > MAX_NODES_PER_GROUP) {
		fo_diags_error(v->d, &count->pos, "'node.count' of node group '%s' must be a whole number from 1 to %d, not '%s'",
			       g->name, MAX_NODES_PER_GROUP, count->kind == FO_YSCALAR ? count->str : fo_ynode_describe(count));
	} else {
		g->node_count = (int)count->i;
	}

	const struct fo_ynode *prov = fo_ymap_getcase(n, "provisioner");
	if (!prov)
		fo_diags_error(v->d, &n->pos, "node group '%s' needs a 'provisioner' (e.g. 'provisioner: local')", g->name);
	else
		read_component(v, prov, FO_KIND_PROVISIONER, g->name, &pg->prov);

	const struct fo_ynode *cm = fo_ymap_getcase(n, "configuration_manager");
	if (cm && !fo_ynode_is_null(cm)) {
		size_t k = cm->kind == FO_YSEQ ? cm->nitems : 1;
		pg->cms = FO_ANEWN(v->a, struct comp_ref, k);
		for (size_t i = 0; i < k; i++) {
			const struct fo_ynode *item = cm->kind == FO_YSEQ ? cm->items[i] : cm;
			if (read_component(v, item, FO_KIND_CONFIG_MANAGER, g->name, &pg->cms[pg->ncms]))
				pg->ncms++;
		}
	} else {
		pg->cms = FO_ANEWN(v->a, struct comp_ref, 1);
		pg->cms[0].comp = fo_registry_find(FO_KIND_CONFIG_MANAGER, "noop");
		pg->cms[0].node = n;
		pg->ncms = pg->cms[0].comp ? 1 : 0;
	}

	const struct fo_ynode *rl = fo_ymap_getcase(n, "runlevel");
	if (rl)
		parse_runlevel(v, rl, "runlevel", g->name, &g->launch);
	const struct fo_ynode *fin = fo_ymap_getcase(n, "runlevel.final");
	if (fin && parse_runlevel(v, fin, "runlevel.final", g->name, &g->final))
		g->has_final = true;
	const struct fo_ynode *reuse = fo_ymap_getcase(n, "mark_for_reuse");
	if (reuse) {
		if (reuse->kind != FO_YSCALAR || reuse->stype != FO_YS_BOOL)
			fo_diags_error(v->d, &reuse->pos, "'mark_for_reuse' of node group '%s' must be true or false", g->name);
		else
			g->mark_for_reuse = reuse->b;
		if (g->mark_for_reuse && fin)
			fo_diags_error(v->d, &fin->pos,
				       "node group '%s' has both 'mark_for_reuse' and 'runlevel.final'; a group kept for "
				       "reuse is not torn down, so choose one",
				       g->name);
	}
	if (g->has_final && g->final > g->launch && g->launch != FO_RL_UNKNOWN)
		fo_diags_error(v->d, &fin->pos, "'runlevel.final' %s of node group '%s' is above its launch runlevel %s",
			       fo_runlevel_name(g->final), g->name, fo_runlevel_name(g->launch));
	const struct fo_ynode *lf = fo_ymap_getcase(n, "local_files");
	if (lf) {
		if (v->local_files_node)
			fo_diags_error(v->d, &lf->pos,
				       "only one local_files list is allowed per definition (another is at line %d); "
				       "put it at the ensemble level",
				       v->local_files_node->pos.line);
		else
			v->local_files_node = lf;
	}
}

/* Binds a group's shared property bag to its provisioner and configuration managers. */
static void bind_group_props(struct vctx *v, struct fo_group *g, const struct pending_group *pg)
{
	/* Gather every property written for the group's components. */
	size_t total = 0;
	const struct comp_ref *refs[1 + 64];
	size_t nrefs = 0;
	if (pg->prov.comp)
		refs[nrefs++] = &pg->prov;
	for (size_t i = 0; i < pg->ncms && nrefs < FO_ARRAY_LEN(refs); i++)
		refs[nrefs++] = &pg->cms[i];
	for (size_t i = 0; i < nrefs; i++)
		total += refs[i]->props ? refs[i]->props->npairs : 0;
	const struct fo_ypair **pairs = FO_ANEWN(v->a, const struct fo_ypair *, total ? total : 1);
	size_t n = 0;
	for (size_t i = 0; i < nrefs; i++) {
		const struct fo_ynode *p = refs[i]->props;
		for (size_t j = 0; p && j < p->npairs; j++) {
			const struct fo_ypair *pair = &p->pairs[j];
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++) {
				if (strcmp(pairs[k]->key->str, pair->key->str) != 0)
					continue;
				dup = true;
				struct fo_buf x = FO_BUF_INIT, y = FO_BUF_INIT;
				fo_yaml_emit_json(pairs[k]->value, &x);
				fo_yaml_emit_json(pair->value, &y);
				if (strcmp(x.s, y.s) != 0)
					fo_diags_error(v->d, &pair->key->pos,
						       "property '%s' of node group '%s' is given twice with different values "
						       "(the provisioner and configuration managers of a group share their "
						       "properties; first at line %d)",
						       pair->key->str, g->name, pairs[k]->key->pos.line);
				fo_buf_release(&x);
				fo_buf_release(&y);
			}
			if (!dup)
				pairs[n++] = pair;
		}
	}
	const struct fo_component *comps[1 + 64];
	size_t nc = 0;
	for (size_t i = 0; i < nrefs; i++)
		comps[nc++] = refs[i]->comp;
	char of_what[200];
	snprintf(of_what, sizeof(of_what), "node group '%s'", g->name);
	fo_props_report_unknown(comps, nc, pairs, n, of_what, v->d);

	if (pg->prov.comp) {
		char what[200];
		snprintf(what, sizeof(what), "provisioner '%s' of node group '%s'", pg->prov.comp->name, g->name);
		g->provisioner.alias = g->name;
		fo_props_bind(v->a, pg->prov.comp, what, pairs, n, &pg->prov.node->pos, &v->pctx, &g->provisioner, v->d);
	}
	g->cms = FO_ANEWN(v->a, struct fo_propset, pg->ncms ? pg->ncms : 1);
	for (size_t i = 0; i < pg->ncms; i++) {
		char what[200];
		snprintf(what, sizeof(what), "configuration manager '%s' of node group '%s'", pg->cms[i].comp->name,
			 g->name);
		g->cms[g->ncms].alias = g->name;
		fo_props_bind(v->a, pg->cms[i].comp, what, pairs, n, &pg->cms[i].node->pos, &v->pctx, &g->cms[g->ncms],
			      v->d);
		g->ncms++;
	}
}

/* Checks the references in a group's properties (after every group is bound, since
 * <<file:...>> may name a remote_files entry of any group). */
static void check_group_refs(struct vctx *v, const struct fo_group *g)
{
	for (size_t c = 0; c <= g->ncms; c++) {
		const struct fo_propset *ps = c == 0 ? &g->provisioner : &g->cms[c - 1];
		for (size_t k = 0; k < ps->n; k++)
			if (ps->v[k].node)
				check_refs(v, ps->v[k].node, 0);
	}
}

static bool is_implicit_alias(const char *s)
{
	return strcasecmp(s, "local") == 0 || strcasecmp(s, "none") == 0 || strcasecmp(s, "empty") == 0;
}

/* Reads the ensemble (or makes the implicit one). */
static void read_ensemble(struct vctx *v, const struct fo_ynode *ens)
{
	struct fo_def *def = v->def;
	/* At most: every list item plus one implicit group per role. */
	size_t cap = FO__ROLE_COUNT;
	if (ens && ens->kind == FO_YMAP)
		for (size_t i = 0; i < ens->npairs; i++)
			if (ens->pairs[i].value->kind == FO_YSEQ)
				cap += ens->pairs[i].value->nitems;
	def->groups = FO_ANEWN(v->a, struct fo_group, cap);
	struct pending_group *pending = FO_ANEWN(v->a, struct pending_group, cap);
	int role_group[FO__ROLE_COUNT];
	const struct fo_ynode *role_alias[FO__ROLE_COUNT] = {0};
	const struct fo_ynode *role_node[FO__ROLE_COUNT] = {0};
	for (int r = 0; r < FO__ROLE_COUNT; r++)
		role_group[r] = -1;

	if (ens && !fo_ynode_is_null(ens) && expect_kind(v, ens, FO_YMAP, "'ensemble'")) {
		check_keys(v, ens, ensemble_keys, true, "below ensemble", NULL);
		for (int r = 0; r < FO__ROLE_COUNT; r++) {
			const char *role = fo_role_name((enum fo_role)r);
			const struct fo_ynode *one = fo_ymap_getcase(ens, role);
			const struct fo_ynode *many = NULL;
			if (r == FO_ROLE_SERVER)
				many = fo_ymap_getcase(ens, "servers");
			else if (r == FO_ROLE_CLIENT)
				many = fo_ymap_getcase(ens, "clients");
			if (one && many) {
				fo_diags_error(v->d, &many->pos, "ensemble has both '%s' and '%ss'; use one", role, role);
				many = NULL;
			}
			if (many) {
				if (!expect_kind(v, many, FO_YSEQ, role[0] == 's' ? "'servers'" : "'clients'"))
					continue;
				for (size_t i = 0; i < many->nitems; i++) {
					const struct fo_ynode *item = many->items[i];
					if (!expect_kind(v, item, FO_YMAP, "a node group"))
						continue;
					char *dflt = fo_arena_printf(v->a, "%s%zu", role, i + 1);
					size_t gi = def->ngroups;
					struct fo_group *g = add_group(v, dflt, &item->pos);
					read_group(v, item, dflt, g, &pending[gi]);
					g->roles |= 1u << r;
					if (role_group[r] < 0)
						role_group[r] = (int)gi;
				}
				continue;
			}
			if (!one || fo_ynode_is_null(one))
				continue;
			role_node[r] = one;
			if (one->kind == FO_YSCALAR) {
				role_alias[r] = one;
				continue;
			}
			if (!expect_kind(v, one, FO_YMAP, "a node group"))
				continue;
			size_t gi = def->ngroups;
			struct fo_group *g = add_group(v, role, &one->pos);
			read_group(v, one, role, g, &pending[gi]);
			g->roles |= 1u << r;
			role_group[r] = (int)gi;
		}
		const struct fo_ynode *lf = fo_ymap_getcase(ens, "local_files");
		if (lf) {
			if (v->local_files_node)
				fo_diags_error(v->d, &lf->pos,
					       "only one local_files list is allowed per definition (another is at line %d)",
					       v->local_files_node->pos.line);
			else
				v->local_files_node = lf;
		}
		/* Resolve aliases: a role name, a group name, or local/none/empty. */
		for (int pass = 0; pass < FO__ROLE_COUNT; pass++) {
			for (int r = 0; r < FO__ROLE_COUNT; r++) {
				const struct fo_ynode *al = role_alias[r];
				if (!al || role_group[r] >= 0)
					continue;
				if (is_implicit_alias(al->str))
					continue; /* made below */
				enum fo_role target;
				int gi = -1;
				if (fo_role_parse(al->str, &target) == 0) {
					if (target == (enum fo_role)r) {
						fo_diags_error(v->d, &al->pos, "ensemble group %s is an alias of itself",
							       fo_role_name((enum fo_role)r));
						role_alias[r] = NULL;
						continue;
					}
					gi = role_group[target];
					if (gi < 0 && role_alias[target])
						continue; /* resolved in a later pass */
				} else {
					for (size_t i = 0; i < def->ngroups; i++)
						if (strcasecmp(def->groups[i].name, al->str) == 0)
							gi = (int)i;
				}
				if (gi < 0 && pass == FO__ROLE_COUNT - 1) {
					fo_diags_error(v->d, &al->pos,
						       "Unknown group alias used in ensemble group %s : %s (an alias names another "
						       "role, a group name, or local, none, empty)",
						       fo_role_name((enum fo_role)r), al->str);
					role_alias[r] = NULL;
				}
				if (gi >= 0) {
					role_group[r] = gi;
					def->groups[gi].roles |= 1u << r;
				}
			}
		}
		if (role_group[FO_ROLE_SERVER] < 0 && !role_alias[FO_ROLE_SERVER])
			fo_diags_error(v->d, &ens->pos, "the ensemble needs a 'server' node group (or 'servers')");
		if (role_group[FO_ROLE_CLIENT] < 0 && !role_alias[FO_ROLE_CLIENT])
			fo_diags_error(v->d, &ens->pos,
				       "the ensemble needs a 'client' node group (or 'clients'; 'client: server' makes "
				       "the server group play both roles)");
	} else if (!ens || fo_ynode_is_null(ens)) {
		/* No ensemble: server and client are one implicit one-node local group. */
		struct fo_group *g = add_group(v, "server", NULL);
		g->roles = (1u << FO_ROLE_SERVER) | (1u << FO_ROLE_CLIENT);
		g->implicit = true;
		role_group[FO_ROLE_SERVER] = role_group[FO_ROLE_CLIENT] = 0;
	}
	/* Roles still without a group get their own implicit local group. */
	for (int r = 0; r < FO__ROLE_COUNT; r++) {
		if (role_group[r] >= 0 || (role_node[r] && !role_alias[r] && role_node[r]->kind != FO_YSCALAR))
			continue;
		if (role_alias[r] && !is_implicit_alias(role_alias[r]->str))
			continue; /* an error was reported */
		struct fo_group *g = add_group(v, fo_role_name((enum fo_role)r), role_alias[r] ? &role_alias[r]->pos : NULL);
		g->roles = 1u << r;
		g->implicit = true;
		role_group[r] = (int)(def->ngroups - 1);
	}
	/* Implicit groups: one local node, nothing configured. */
	for (size_t i = 0; i < def->ngroups; i++) {
		struct fo_group *g = &def->groups[i];
		if (!g->implicit)
			continue;
		g->node_count = 1;
		pending[i].prov.comp = fo_registry_find(FO_KIND_PROVISIONER, "local");
		pending[i].cms = FO_ANEWN(v->a, struct comp_ref, 1);
		pending[i].cms[0].comp = fo_registry_find(FO_KIND_CONFIG_MANAGER, "noop");
		pending[i].ncms = pending[i].cms[0].comp ? 1 : 0;
		static const struct fo_ynode nowhere = {.kind = FO_YMAP};
		pending[i].prov.node = &nowhere;
		if (pending[i].ncms)
			pending[i].cms[0].node = &nowhere;
	}
	/* Names must be unique. */
	v->group_names = FO_ANEWN(v->a, const char *, def->ngroups + 1);
	for (size_t i = 0; i < def->ngroups; i++) {
		v->group_names[i] = def->groups[i].name;
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(def->groups[i].name, def->groups[j].name) == 0)
				fo_diags_error(v->d, &def->groups[i].pos,
					       "duplicate node group name '%s' (group names must be unique; set 'name')",
					       def->groups[i].name);
	}
	v->pctx.group_names = v->group_names;
	v->pctx.ngroups = def->ngroups;
	/* local_files first: references in group properties may name them. */
	if (v->local_files_node && !fo_ynode_is_null(v->local_files_node))
		fo_files_parse(v->a, v->local_files_node, &def->files, &def->nfiles, v->d);
	for (size_t i = 0; i < def->ngroups; i++)
		bind_group_props(v, &def->groups[i], &pending[i]);
	for (size_t i = 0; i < def->ngroups; i++)
		check_group_refs(v, &def->groups[i]);
}

/* ---- workload ---- */

static const char *const workload_keys[] = {"phases", "checkers", "artifact_checkers", NULL};
static const char *const lifetimes_once[] = {"run_once", "once", NULL};
static const char *const lifetimes_phase[] = {"run_to_end_of_phase", "phase", NULL};

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcasecmp(s, list[i]) == 0)
			return true;
	return false;
}

static void note_alias(struct vctx *v, const struct fo_ynode *key)
{
	FO_GROW(v->aliases, v->aliases_cap, v->naliases + 1);
	v->aliases[v->naliases++] = key;
}

/* Checks an alias: non-empty, no white space. */
static bool check_alias(struct vctx *v, const struct fo_ynode *key, const char *what)
{
	if (key->len == 0 || fo_has_space(key->str, key->len)) {
		fo_diags_error(v->d, &key->pos, "%s alias '%s' must be a word without white space (spaces or tabs)", what,
			       key->str);
		return false;
	}
	return true;
}

static void read_module(struct vctx *v, const struct fo_ynode *key, const struct fo_ynode *n,
			struct fo_phase_entry *e)
{
	static const char *const module_keys[] = {"module", "properties", NULL};
	char where[200];
	snprintf(where, sizeof(where), "below module %s", key->str);
	check_keys(v, n, module_keys, false, where,
		   " (a module takes only 'module' and 'properties'; is something indented too far?)");
	e->is_module = true;
	const struct fo_ynode *name = fo_ymap_get(n, "module");
	if (!name) {
		fo_diags_error(v->d, &n->pos, "module entry '%s' needs 'module: NAME'", key->str);
		return;
	}
	if (!fo_ynode_is_value(name)) {
		fo_diags_error(v->d, &name->pos, "'module' of '%s' must be a module name, not %s", key->str,
			       fo_ynode_describe(name));
		return;
	}
	const struct fo_component *c = fo_registry_find(FO_KIND_MODULE, name->str);
	if (!c) {
		const char *near = fo_registry_suggest(FO_KIND_MODULE, name->str);
		fo_diags_error(v->d, &name->pos, "unknown module '%s'%s%s%s (see 'fallout components module')", name->str,
			       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		return;
	}
	const struct fo_ynode *props = fo_ymap_get(n, "properties");
	const struct fo_ypair **pairs = NULL;
	size_t np = 0;
	if (props && !fo_ynode_is_null(props) && expect_kind(v, props, FO_YMAP, "'properties'")) {
		pairs = FO_ANEWN(v->a, const struct fo_ypair *, props->npairs ? props->npairs : 1);
		for (size_t i = 0; i < props->npairs; i++) {
			const struct fo_ypair *p = &props->pairs[i];
			if (strcmp(p->key->str, "lifetime") == 0) {
				const struct fo_ynode *lv = p->value;
				if (fo_ynode_is_value(lv) && in_list(lv->str, lifetimes_once))
					e->lifetime = FO_LIFETIME_ONCE;
				else if (fo_ynode_is_value(lv) && in_list(lv->str, lifetimes_phase))
					e->lifetime = FO_LIFETIME_PHASE;
				else
					fo_diags_error(v->d, &lv->pos,
						       "'lifetime' of module '%s' must be run_once (once) or "
						       "run_to_end_of_phase (phase), not '%s'",
						       key->str, lv->kind == FO_YSCALAR ? lv->str : fo_ynode_describe(lv));
				continue;
			}
			pairs[np++] = p;
		}
	}
	char what[200];
	snprintf(what, sizeof(what), "module '%s'", c->name);
	fo_props_report_unknown(&c, 1, pairs, np, what, v->d);
	snprintf(what, sizeof(what), "module '%s' ('%s')", c->name, key->str);
	e->module.alias = key->str;
	fo_props_bind(v->a, c, what, pairs, np, &name->pos, &v->pctx, &e->module, v->d);
	if (props)
		check_refs(v, props, 0);
}

static void read_phases(struct vctx *v, const struct fo_ynode *list, struct fo_phase **out, size_t *nout,
			unsigned depth);

static void read_phase(struct vctx *v, const struct fo_ynode *item, struct fo_phase *ph, unsigned depth)
{
	ph->pos = item->pos;
	if (item->kind != FO_YMAP || item->npairs == 0) {
		fo_diags_error(v->d, &item->pos,
			       "a phase must be a map of aliases to modules or sub-phase lists, not %s",
			       item->kind == FO_YMAP ? "an empty map" : fo_ynode_describe(item));
		return;
	}
	ph->entries = FO_ANEWN(v->a, struct fo_phase_entry, item->npairs);
	for (size_t i = 0; i < item->npairs; i++) {
		const struct fo_ynode *key = item->pairs[i].key, *val = item->pairs[i].value;
		struct fo_phase_entry *e = &ph->entries[ph->n++];
		e->alias = key->str;
		e->pos = key->pos;
		check_alias(v, key, "phase or module");
		note_alias(v, key);
		if (val->kind == FO_YMAP) {
			read_module(v, key, val, e);
		} else if (val->kind == FO_YSEQ) {
			read_phases(v, val, &e->sub, &e->nsub, depth + 1);
		} else {
			fo_diags_error(v->d, &val->pos,
				       "'%s' must be a module (a map with 'module: NAME') or a list of sub-phases, not %s",
				       key->str, fo_ynode_describe(val));
		}
	}
}

static void read_phases(struct vctx *v, const struct fo_ynode *list, struct fo_phase **out, size_t *nout,
			unsigned depth)
{
	if (list->nitems == 0) {
		fo_diags_error(v->d, &list->pos, "a list of phases must not be empty");
		return;
	}
	*out = FO_ANEWN(v->a, struct fo_phase, list->nitems);
	*nout = list->nitems;
	for (size_t i = 0; i < list->nitems; i++)
		read_phase(v, list->items[i], &(*out)[i], depth);
}

static void check_duplicate_aliases(struct vctx *v)
{
	for (size_t i = 0; i < v->naliases; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(v->aliases[i]->str, v->aliases[j]->str) != 0)
				continue;
			fo_diags_error(v->d, &v->aliases[i]->pos,
				       "Duplicate module or subphase aliases: %s (first used at line %d; aliases must be "
				       "unique across the whole workload)",
				       v->aliases[i]->str, v->aliases[j]->pos.line);
			break;
		}
	}
}

static void read_checks(struct vctx *v, const struct fo_ynode *map, enum fo_kind kind, struct fo_check **out,
			size_t *nout)
{
	const char *field = kind == FO_KIND_CHECKER ? "checker" : "artifact_checker";
	const char *title = fo_kind_title(kind);
	const char *section = kind == FO_KIND_CHECKER ? "'checkers'" : "'artifact_checkers'";
	if (fo_ynode_is_null(map))
		return;
	if (map->kind != FO_YMAP) {
		fo_diags_error(v->d, &map->pos, "%s must be a map of aliases to {%s: NAME, properties: {...}}, not %s",
			       section, field, fo_ynode_describe(map));
		return;
	}
	*out = FO_ANEWN(v->a, struct fo_check, map->npairs ? map->npairs : 1);
	for (size_t i = 0; i < map->npairs; i++) {
		const struct fo_ynode *key = map->pairs[i].key, *val = map->pairs[i].value;
		check_alias(v, key, title);
		if (val->kind != FO_YMAP) {
			fo_diags_error(v->d, &val->pos, "%s '%s' must be a map with '%s: NAME', not %s", title, key->str,
				       field, fo_ynode_describe(val));
			continue;
		}
		const char *const allowed[] = {field, "properties", NULL};
		char where[200];
		snprintf(where, sizeof(where), "below %s %s", title, key->str);
		char hint[200];
		snprintf(hint, sizeof(hint), " (%s %s takes only '%s' and 'properties'; is something indented too far?)",
			 kind == FO_KIND_CHECKER ? "a" : "an", title, field);
		check_keys(v, val, allowed, false, where, hint);
		const struct fo_ynode *name = fo_ymap_get(val, field);
		if (!fo_ynode_is_value(name)) {
			fo_diags_error(v->d, name ? &name->pos : &val->pos, "%s '%s' needs '%s: NAME'", title, key->str, field);
			continue;
		}
		const struct fo_component *c = fo_registry_find(kind, name->str);
		if (!c) {
			const char *near = fo_registry_suggest(kind, name->str);
			fo_diags_error(v->d, &name->pos, "unknown %s '%s'%s%s%s (see 'fallout components %s')", title,
				       name->str, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "",
				       fo_kind_name(kind));
			continue;
		}
		const struct fo_ynode *props = fo_ymap_get(val, "properties");
		const struct fo_ypair **pairs = NULL;
		size_t np = 0;
		if (props && !fo_ynode_is_null(props) && expect_kind(v, props, FO_YMAP, "'properties'")) {
			pairs = FO_ANEWN(v->a, const struct fo_ypair *, props->npairs ? props->npairs : 1);
			for (size_t j = 0; j < props->npairs; j++)
				pairs[np++] = &props->pairs[j];
		}
		char what[200];
		snprintf(what, sizeof(what), "%s '%s'", title, c->name);
		fo_props_report_unknown(&c, 1, pairs, np, what, v->d);
		snprintf(what, sizeof(what), "%s '%s' ('%s')", title, c->name, key->str);
		struct fo_check *ch = &(*out)[(*nout)++];
		ch->alias = key->str;
		ch->pos = key->pos;
		ch->props.alias = key->str;
		fo_props_bind(v->a, c, what, pairs, np, &name->pos, &v->pctx, &ch->props, v->d);
		if (props)
			check_refs(v, props, 0);
	}
}

static void read_workload(struct vctx *v, const struct fo_ynode *w)
{
	if (!expect_kind(v, w, FO_YMAP, "'workload'"))
		return;
	check_keys(v, w, workload_keys, false, "below workload", NULL);
	const struct fo_ynode *phases = fo_ymap_get(w, "phases");
	if (!phases)
		fo_diags_error(v->d, &w->pos, "the workload needs 'phases', a list of phases");
	else if (expect_kind(v, phases, FO_YSEQ, "'phases'"))
		read_phases(v, phases, &v->def->phases, &v->def->nphases, 0);
	check_duplicate_aliases(v);
	const struct fo_ynode *checkers = fo_ymap_get(w, "checkers");
	if (checkers)
		read_checks(v, checkers, FO_KIND_CHECKER, &v->def->checkers, &v->def->nchecks);
	const struct fo_ynode *ac = fo_ymap_get(w, "artifact_checkers");
	if (ac)
		read_checks(v, ac, FO_KIND_ARTIFACT_CHECKER, &v->def->artifact_checkers, &v->def->nartifact_checks);
}

/* ---- the whole definition ---- */

static void warn_unavailable(struct vctx *v, const struct fo_propset *ps)
{
	if (ps->comp && ps->comp->available)
		fo_diags_warn(v->d, &ps->pos, "%s '%s' is described but %s", fo_kind_title(ps->comp->kind), ps->comp->name,
			      ps->comp->available);
}

static void warn_unavailable_phases(struct vctx *v, const struct fo_phase *ph, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ph[i].n; j++) {
			if (ph[i].entries[j].is_module)
				warn_unavailable(v, &ph[i].entries[j].module);
			else
				warn_unavailable_phases(v, ph[i].entries[j].sub, ph[i].entries[j].nsub);
		}
}

int fo_def_validate(struct fo_def *def, struct fo_diags *d)
{
	static const char *const top_keys[] = {"ensemble", "workload", NULL};
	struct vctx v = {.def = def, .a = def->a, .d = d};
	size_t before = d->errors;
	const struct fo_ynode *root = def->root;
	if (fo_ynode_is_null(root)) {
		fo_diags_error(d, &root->pos, "the definition is empty; it needs at least 'workload: {phases: [...]}'");
		return FO_EDEFINITION;
	}
	if (!expect_kind(&v, root, FO_YMAP, "a test definition"))
		return FO_EDEFINITION;
	check_keys(&v, root, top_keys, false, "at the top level", NULL);
	read_ensemble(&v, fo_ymap_get(root, "ensemble"));
	const struct fo_ynode *w = fo_ymap_get(root, "workload");
	if (!w)
		fo_diags_error(d, &root->pos, "the definition needs a 'workload' with 'phases'");
	else
		read_workload(&v, w);
	if (d->errors == before) {
		for (size_t i = 0; i < def->ngroups; i++) {
			warn_unavailable(&v, &def->groups[i].provisioner);
			for (size_t j = 0; j < def->groups[i].ncms; j++)
				warn_unavailable(&v, &def->groups[i].cms[j]);
		}
		warn_unavailable_phases(&v, def->phases, def->nphases);
		for (size_t i = 0; i < def->nchecks; i++)
			warn_unavailable(&v, &def->checkers[i].props);
		for (size_t i = 0; i < def->nartifact_checks; i++)
			warn_unavailable(&v, &def->artifact_checkers[i].props);
	}
	fo_free(v.aliases);
	return d->errors > before ? FO_EDEFINITION : 0;
}

const struct fo_group *fo_def_group(const struct fo_def *def, const char *name)
{
	for (size_t i = 0; i < def->ngroups; i++)
		if (strcasecmp(def->groups[i].name, name) == 0)
			return &def->groups[i];
	return NULL;
}

const struct fo_group *fo_def_role_group(const struct fo_def *def, enum fo_role role)
{
	for (size_t i = 0; i < def->ngroups; i++)
		if (def->groups[i].roles & (1u << role))
			return &def->groups[i];
	return NULL;
}
