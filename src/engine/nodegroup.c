/*
 * nodegroup.c: the node-group runlevel state machine (FALLOUT-FORMAT.md section 2).
 *
 * One function changes a group's state (set_state: logs "old -> new"); one function takes
 * one step up or down (step), running the provisioner's or the configuration managers'
 * action for it; transitions repeat steps until the target, never stepping past it. A
 * failed step leaves the group FAILED and records the failure on the run. From UNKNOWN or
 * FAILED the group first asks its components what state the nodes are really in.
 */
#include "util/common.h"

#include "components/component.h"
#include "engine/internal.h"
#include "engine/log.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

static void set_state(struct fo_rgroup *g, enum fo_runlevel to)
{
	enum fo_runlevel from = g->state;
	g->state = to;
	fo_info(g->log, "%s -> %s", fo_runlevel_name(from), fo_runlevel_name(to));
}

static const struct fo_propset *prov_props(const struct fo_rgroup *g)
{
	return &g->spec->provisioner;
}

static const struct fo_provisioner_ops *prov_ops(const struct fo_rgroup *g)
{
	const struct fo_component *c = g->spec->provisioner.comp;
	return c ? c->provisioner : NULL;
}

static int run_prov(struct fo_rgroup *g, fo_group_step_fn fn, struct fo_err *err)
{
	return fn ? fn(g, prov_props(g), err) : 0;
}

/* Runs a configuration-manager action on every CM: in order going up; in reverse going
 * down, where every one is tried and the first error is kept. */
static int run_cms(struct fo_rgroup *g, size_t offset, bool down, struct fo_err *err)
{
	int first = 0;
	for (size_t k = 0; k < g->spec->ncms; k++) {
		size_t i = down ? g->spec->ncms - 1 - k : k;
		const struct fo_propset *ps = &g->spec->cms[i];
		const struct fo_cm_ops *ops = ps->comp ? ps->comp->cm : NULL;
		if (!ops)
			continue;
		fo_group_step_fn fn = *(const fo_group_step_fn *)((const char *)ops + offset);
		if (!fn)
			continue;
		int rc = fn(g, ps, err);
		if (rc && !first)
			first = rc;
		if (rc && !down)
			return rc;
	}
	return first;
}

#define CM_STEP(field) offsetof(struct fo_cm_ops, field)

/* One step of the table: from the current stable state, up or down. */
static int step(struct fo_rgroup *g, bool up, struct fo_err *err)
{
	const struct fo_provisioner_ops *p = prov_ops(g);
	enum fo_runlevel from = g->state, via, to;
	int rc = 0;
	if (up) {
		switch (from) {
		case FO_RL_DESTROYED: via = FO_RL_RESERVING, to = FO_RL_RESERVED; break;
		case FO_RL_RESERVED: via = FO_RL_CREATING, to = FO_RL_CREATED; break;
		case FO_RL_CREATED: via = FO_RL_PREPARING, to = FO_RL_STOPPED; break;
		case FO_RL_STOPPED: via = FO_RL_STARTING, to = FO_RL_STARTED_SERVICES_UNCONFIGURED; break;
		case FO_RL_STARTED_SERVICES_UNCONFIGURED:
			via = FO_RL_STARTED_CONFIGURING_SERVICES, to = FO_RL_STARTED_SERVICES_CONFIGURED;
			break;
		case FO_RL_STARTED_SERVICES_CONFIGURED:
			via = FO_RL_STARTED_STARTING_SERVICES, to = FO_RL_STARTED_SERVICES_RUNNING;
			break;
		default:
			return fo_err_set(err, FO_EINVAL, "node group '%s' cannot go up from %s", g->spec->name,
					  fo_runlevel_name(from));
		}
	} else {
		switch (from) {
		case FO_RL_STARTED_SERVICES_RUNNING:
			via = FO_RL_STARTED_STOPPING_SERVICES, to = FO_RL_STARTED_SERVICES_CONFIGURED;
			break;
		case FO_RL_STARTED_SERVICES_CONFIGURED:
			via = FO_RL_STARTED_UNCONFIGURING_SERVICES, to = FO_RL_STARTED_SERVICES_UNCONFIGURED;
			break;
		case FO_RL_STARTED_SERVICES_UNCONFIGURED: via = FO_RL_STOPPING, to = FO_RL_STOPPED; break;
		case FO_RL_STOPPED:
		case FO_RL_CREATED:
		case FO_RL_RESERVED: via = FO_RL_DESTROYING, to = FO_RL_DESTROYED; break;
		default:
			return fo_err_set(err, FO_EINVAL, "node group '%s' cannot go down from %s", g->spec->name,
					  fo_runlevel_name(from));
		}
	}
	set_state(g, via);
	switch (via) {
	case FO_RL_RESERVING: rc = run_prov(g, p ? p->reserve : NULL, err); break;
	case FO_RL_CREATING: rc = run_prov(g, p ? p->create : NULL, err); break;
	case FO_RL_PREPARING: rc = run_prov(g, p ? p->prepare : NULL, err); break;
	case FO_RL_STARTING: rc = run_prov(g, p ? p->start : NULL, err); break;
	case FO_RL_STOPPING: rc = run_prov(g, p ? p->stop : NULL, err); break;
	case FO_RL_DESTROYING: rc = run_prov(g, p ? p->destroy : NULL, err); break;
	case FO_RL_STARTED_CONFIGURING_SERVICES: rc = run_cms(g, CM_STEP(configure), false, err); break;
	case FO_RL_STARTED_STARTING_SERVICES: rc = run_cms(g, CM_STEP(start_services), false, err); break;
	case FO_RL_STARTED_STOPPING_SERVICES: rc = run_cms(g, CM_STEP(stop_services), true, err); break;
	case FO_RL_STARTED_UNCONFIGURING_SERVICES: rc = run_cms(g, CM_STEP(unconfigure), true, err); break;
	default: break;
	}
	if (rc) {
		if (!err->code)
			fo_err_set(err, rc, "%s", fo_strerror(rc));
		fo_error(g->log, "%s failed: %s", fo_runlevel_name(via), err->msg);
		set_state(g, FO_RL_FAILED);
		fo_run_fail(g->run, "node group '%s': %s failed: %s", g->spec->name, fo_runlevel_name(via), err->msg);
		return rc;
	}
	set_state(g, to);
	return 0;
}

int fo__rgroup_check_state(struct fo_rgroup *g, struct fo_err *err)
{
	enum fo_runlevel seen = FO_RL_DESTROYED;
	const struct fo_provisioner_ops *p = prov_ops(g);
	bool failed = g->state == FO_RL_FAILED;
	if (p && p->check_state) {
		int rc = p->check_state(g, prov_props(g), &seen, err);
		if (rc)
			return rc;
	}
	/* The configuration managers know about services, once the nodes are up. */
	if (seen >= FO_RL_STARTED_SERVICES_UNCONFIGURED && fo_runlevel_is_stable(seen)) {
		for (size_t i = 0; i < g->spec->ncms; i++) {
			const struct fo_propset *ps = &g->spec->cms[i];
			const struct fo_cm_ops *ops = ps->comp ? ps->comp->cm : NULL;
			if (!ops || !ops->check_state)
				continue;
			enum fo_runlevel cm = FO_RL_UNKNOWN;
			int rc = ops->check_state(g, ps, &cm, err);
			if (rc)
				return rc;
			if (cm != FO_RL_UNKNOWN && cm < seen)
				seen = cm;
		}
	}
	if (!fo_runlevel_is_stable(seen))
		seen = FO_RL_DESTROYED;
	/* A failed group is treated as at least STOPPED, so teardown still destroys it. */
	if (failed && seen < FO_RL_STOPPED)
		seen = FO_RL_STOPPED;
	fo_info(g->log, "state check: the nodes are at %s", fo_runlevel_name(seen));
	g->state = seen;
	return 0;
}

static bool needs_check(const struct fo_rgroup *g)
{
	return g->state == FO_RL_UNKNOWN || g->state == FO_RL_FAILED;
}

/* Moves to target one step at a time. Lock held. */
static int move(struct fo_rgroup *g, enum fo_runlevel target, bool allow_down, bool allow_up, struct fo_err *err)
{
	if (needs_check(g)) {
		int rc = fo__rgroup_check_state(g, err);
		if (rc)
			return rc;
	}
	while (g->state != target) {
		bool up = g->state < target;
		if ((up && !allow_up) || (!up && !allow_down))
			return 0;
		/* Going down from STOPPED or below lands on DESTROYED: never past the target. */
		if (!up && g->state <= FO_RL_STOPPED && target != FO_RL_DESTROYED)
			return fo_err_set(err, FO_EINVAL, "node group '%s' cannot go down from %s to %s",
					  g->spec->name, fo_runlevel_name(g->state), fo_runlevel_name(target));
		int rc = step(g, up, err);
		if (rc)
			return rc;
	}
	return 0;
}

int fo_rgroup_transition(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err)
{
	if (!fo_runlevel_is_stable(target))
		return fo_err_set(err, FO_EINVAL, "'%s' is not a runlevel a group can be moved to",
				  fo_runlevel_name(target));
	pthread_mutex_lock(&g->x->lock);
	int rc = move(g, target, true, true, err);
	pthread_mutex_unlock(&g->x->lock);
	return rc;
}

int fo_rgroup_transition_keeping_artifacts(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err)
{
	if (!fo_runlevel_is_stable(target))
		return fo_err_set(err, FO_EINVAL, "'%s' is not a runlevel a group can be moved to",
				  fo_runlevel_name(target));
	pthread_mutex_lock(&g->x->lock);
	int rc;
	enum fo_runlevel now = g->state;
	bool configured = now >= FO_RL_STARTED_SERVICES_CONFIGURED && now <= FO_RL_STARTED_UNCONFIGURING_SERVICES;
	if (configured && target <= FO_RL_STARTED_SERVICES_UNCONFIGURED)
		rc = fo_err_set(err, FO_EUNSUPPORTED,
				"refused to move group '%s' down from %s to %s: unconfiguring its services would "
				"lose their artifacts before they are collected",
				g->spec->name, fo_runlevel_name(now), fo_runlevel_name(target));
	else
		rc = move(g, target, true, true, err);
	pthread_mutex_unlock(&g->x->lock);
	return rc;
}

int fo__rgroup_raise(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err)
{
	pthread_mutex_lock(&g->x->lock);
	int rc = move(g, target, false, true, err);
	pthread_mutex_unlock(&g->x->lock);
	return rc;
}

int fo__rgroup_teardown(struct fo_rgroup *g, enum fo_runlevel target, struct fo_err *err)
{
	pthread_mutex_lock(&g->x->lock);
	int rc = move(g, target, true, false, err);
	if (rc && target == FO_RL_DESTROYED) {
		/* Going down failed: force a destroy so nothing is left behind. */
		const struct fo_provisioner_ops *p = prov_ops(g);
		struct fo_err e2 = {0};
		fo_warn(g->log, "teardown failed (%s); forcing a destroy", err->msg);
		set_state(g, FO_RL_DESTROYING);
		if (p && p->destroy && p->destroy(g, prov_props(g), &e2) != 0) {
			fo_error(g->log, "forced destroy failed: %s", e2.msg);
			set_state(g, FO_RL_FAILED);
		} else {
			set_state(g, FO_RL_DESTROYED);
		}
	}
	pthread_mutex_unlock(&g->x->lock);
	return rc;
}

int fo__rgroup_collect(struct fo_rgroup *g, struct fo_err *err)
{
	int first = 0;
	pthread_mutex_lock(&g->x->lock);
	for (size_t i = 0; i < g->spec->ncms; i++) {
		const struct fo_propset *ps = &g->spec->cms[i];
		const struct fo_cm_ops *ops = ps->comp ? ps->comp->cm : NULL;
		if (!ops || !ops->collect_artifacts)
			continue;
		struct fo_err e = {0};
		int rc = ops->collect_artifacts(g, ps, &e);
		if (rc) {
			fo_warn(g->log, "collecting artifacts with '%s' failed: %s", ps->comp->name, e.msg);
			if (!first) {
				first = rc;
				fo_err_set(err, rc, "%s", e.msg);
			}
		}
	}
	pthread_mutex_unlock(&g->x->lock);
	return first;
}

int fo__rgroup_init(struct fo_run *r, struct fo_rgroup *g, const struct fo_group *spec, struct fo_err *err)
{
	g->spec = spec;
	g->run = r;
	g->state = FO_RL_UNKNOWN;
	g->x = fo_calloc(1, sizeof(*g->x));
	pthread_mutex_init(&g->x->lock, NULL);
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s/%s", r->dir, spec->name);
	g->artifacts = fo_buf_detach(&b, NULL);
	int rc = fo_mkdirs(g->artifacts, err);
	if (rc)
		return rc;
	fo_buf_addf(&b, "%s/fallout-nodegroup.log", g->artifacts);
	g->log = fo_log_open_child(r->log, b.s, spec->name, err);
	fo_buf_release(&b);
	if (!g->log)
		return FO_EIO;
	g->n = (size_t)spec->node_count;
	g->nodes = fo_calloc(g->n, sizeof(*g->nodes));
	g->cm_impl = fo_calloc(spec->ncms ? spec->ncms : 1, sizeof(void *));
	for (size_t i = 0; i < g->n; i++) {
		struct fo_node *n = &g->nodes[i];
		n->group = g;
		n->ordinal = (int)i;
		snprintf(n->name, sizeof(n->name), "node%zu", i);
		snprintf(n->address, sizeof(n->address), "127.0.0.1");
		fo_buf_addf(&b, "%s/%s", g->artifacts, n->name);
		n->artifacts = fo_buf_detach(&b, NULL);
		rc = fo_mkdirs(n->artifacts, err);
		if (rc)
			return rc;
		fo_buf_addf(&b, "%s/fallout-node.log", n->artifacts);
		n->log = fo_log_open_child(g->log, b.s, n->name, err);
		fo_buf_release(&b);
		if (!n->log)
			return FO_EIO;
	}
	return 0;
}

void fo__rgroup_release(struct fo_rgroup *g)
{
	for (size_t i = 0; g->nodes && i < g->n; i++) {
		fo_log_close(g->nodes[i].log);
		fo_free(g->nodes[i].artifacts);
	}
	fo_free(g->nodes);
	fo_free(g->cm_impl);
	fo_log_close(g->log);
	fo_free(g->artifacts);
	if (g->x) {
		pthread_mutex_destroy(&g->x->lock);
		fo_free(g->x);
	}
}
