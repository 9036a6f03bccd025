/*
 * api_misc.c: the REST API's small handlers about the server itself: liveness, version,
 * the OpenAPI description, how many runs are running, and the component reference (from
 * the same registry that validates definitions, as `fallout components` prints it).
 */
#include "util/common.h"

#include "components/component.h"
#include "components/registry.h"
#include "server/api.h"
#include "server/queue.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/err.h"
#include "version.h"

int fo_api_health(struct fo_req *rq)
{
	fo_resp_json(rq, 200, "{\"status\":\"ok\"}");
	return 0;
}

int fo_api_version(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_adds(&b, "{\"version\":");
	fo_buf_add_json_str(&b, FO_VERSION, strlen(FO_VERSION));
	fo_buf_addch(&b, '}');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

int fo_api_openapi(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_http_openapi(&b, rq->srv ? rq->srv->url : NULL);
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

int fo_api_running_count(struct fo_req *rq)
{
	char n[32];
	snprintf(n, sizeof(n), "%d", rq->srv && rq->srv->queue ? fo_queue_running(rq->srv->queue) : 0);
	fo_resp_json(rq, 200, n);
	return 0;
}

static void add_str_or_null(struct fo_buf *b, const char *s)
{
	if (s)
		fo_buf_add_json_str(b, s, strlen(s));
	else
		fo_buf_adds(b, "null");
}

int fo_api_components(struct fo_req *rq)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addch(&b, '{');
	for (int k = 0; k < FO__KIND_COUNT; k++) {
		if (k)
			fo_buf_addch(&b, ',');
		const char *kind = fo_kind_name((enum fo_kind)k);
		fo_buf_add_json_str(&b, kind, strlen(kind));
		fo_buf_adds(&b, ":[");
		bool first = true;
		for (size_t i = 0; i < fo_registry_count(); i++) {
			const struct fo_component *c = fo_registry_at(i);
			if (c->kind != (enum fo_kind)k)
				continue;
			fo_buf_adds(&b, first ? "{\"name\":" : ",{\"name\":");
			first = false;
			fo_buf_add_json_str(&b, c->name, strlen(c->name));
			fo_buf_adds(&b, ",\"summary\":");
			add_str_or_null(&b, c->summary);
			fo_buf_addch(&b, '}');
		}
		fo_buf_addch(&b, ']');
	}
	fo_buf_addch(&b, '}');
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}

int fo_api_component(struct fo_req *rq)
{
	const char *kname = fo_req_param(rq, "kind");
	const char *name = fo_req_param(rq, "component");
	enum fo_kind kind;
	if (!kname || !name || fo_kind_parse(kname, &kind) != 0) {
		fo_resp_error(rq, 404,
			      "no such kind of component: '%s' (kinds: provisioner, configuration_manager, module, "
			      "checker, artifact_checker)",
			      kname ? kname : "");
		return 0;
	}
	const struct fo_component *c = fo_registry_find(kind, name);
	if (!c) {
		const char *hint = fo_registry_suggest(kind, name);
		if (hint)
			fo_resp_error(rq, 404, "no such %s: '%s' (did you mean '%s'?)", fo_kind_title(kind), name, hint);
		else
			fo_resp_error(rq, 404, "no such %s: '%s'", fo_kind_title(kind), name);
		return 0;
	}
	struct fo_buf b = FO_BUF_INIT;
	const char *kn = fo_kind_name(c->kind);
	fo_buf_adds(&b, "{\"name\":");
	fo_buf_add_json_str(&b, c->name, strlen(c->name));
	fo_buf_adds(&b, ",\"kind\":");
	fo_buf_add_json_str(&b, kn, strlen(kn));
	fo_buf_adds(&b, ",\"summary\":");
	add_str_or_null(&b, c->summary);
	fo_buf_adds(&b, ",\"description\":");
	add_str_or_null(&b, c->description);
	fo_buf_adds(&b, ",\"example\":");
	add_str_or_null(&b, c->example);
	fo_buf_adds(&b, ",\"available\":");
	add_str_or_null(&b, c->available);
	fo_buf_adds(&b, ",\"properties\":[");
	for (size_t j = 0; c->props && c->props[j].name; j++) {
		const struct fo_prop *p = &c->props[j];
		fo_buf_adds(&b, j ? ",{\"name\":" : "{\"name\":");
		fo_buf_add_json_str(&b, p->name, strlen(p->name));
		fo_buf_adds(&b, ",\"type\":");
		const char *t = fo_prop_type_name(p->type);
		fo_buf_add_json_str(&b, t, strlen(t));
		fo_buf_adds(&b, ",\"default\":");
		add_str_or_null(&b, p->default_value);
		fo_buf_addf(&b, ",\"required\":%s,\"description\":", p->required ? "true" : "false");
		add_str_or_null(&b, p->description);
		if (p->options) {
			fo_buf_adds(&b, ",\"options\":[");
			for (size_t o = 0; p->options[o]; o++) {
				if (o)
					fo_buf_addch(&b, ',');
				fo_buf_add_json_str(&b, p->options[o], strlen(p->options[o]));
			}
			fo_buf_addch(&b, ']');
		}
		fo_buf_addch(&b, '}');
	}
	fo_buf_adds(&b, "]}");
	fo_resp_json_buf(rq, 200, &b);
	return 0;
}
