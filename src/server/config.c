/*
 * config.c: the configuration of `fallout serve`: defaults, then a YAML file, then the
 * environment (FALLOUT_AUTH_MODE, FALLOUT_ADMIN_CREDS); cmd_serve.c applies its flags
 * last. Every setting of the file is checked, and every problem reported at its
 * file:line:col (an unknown key with a "did you mean"). The file:
 *
 *   listen: 127.0.0.1:8080          data: fallout-data       store: sqlite:/path/db
 *   library: DIR                    public_url: https://fallout.example.com
 *   auth_mode: multi | single_user  registration: false      admin: name:email:password
 *   queue: {max_running: 4, nodes: {local: 12}}
 *   limits: {max_body: 4MiB, max_definition: 1MiB}
 *   sessions: {ttl: 7d}             login: {window: 60s, max_failures: 5}
 *   housekeeping: {every: 1h, compress_after: 7d, retention: 90d}
 *
 * A relative library folder is made absolute against the current folder (the data folder
 * is resolved by server.c once it exists).
 * Sizes are a number of bytes with an optional unit: K/KiB, M/MiB, G/GiB (powers of 1024)
 * or KB, MB, GB (powers of 1000). Durations are as in definitions: 500ms, 30s, 5m, 2h, 7d.
 */
#include "util/common.h"

#include <ctype.h>
#include <unistd.h>

#include "components/component.h"
#include "components/registry.h"
#include "server/server.h"
#include "spec/props.h"
#include "spec/yaml.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/err.h"
#include "util/strutil.h"

#define MAX_CONFIG_FILE (1024 * 1024)

/* ---- values ---- */

/* The text of a scalar value, or NULL after an error (not a scalar, or null). */
static const char *scalar(const struct fo_ynode *v, const char *key, struct fo_diags *d)
{
	if (v->kind != FO_YSCALAR || v->stype == FO_YS_NULL) {
		fo_diags_error(d, &v->pos, "'%s' must be a value, not %s", key, fo_ynode_describe(v));
		return NULL;
	}
	if (v->len != strlen(v->str)) {
		fo_diags_error(d, &v->pos, "'%s' must not hold a NUL character", key);
		return NULL;
	}
	return v->str;
}

static void set_str(struct fo_server_config *c, const char **out, const struct fo_ynode *v, const char *key,
		    struct fo_diags *d)
{
	const char *s = scalar(v, key, d);
	if (!s)
		return;
	if (!*s) {
		fo_diags_error(d, &v->pos, "'%s' must not be empty", key);
		return;
	}
	*out = fo_arena_strdup(c->a, s);
}

static void set_bool(bool *out, const struct fo_ynode *v, const char *key, struct fo_diags *d)
{
	if (v->kind != FO_YSCALAR || v->stype != FO_YS_BOOL) {
		fo_diags_error(d, &v->pos, "'%s' must be true or false, not %s", key, fo_ynode_describe(v));
		return;
	}
	*out = v->b;
}

static void set_int(int64_t *out, const struct fo_ynode *v, const char *key, int64_t min, struct fo_diags *d)
{
	if (v->kind != FO_YSCALAR || v->stype != FO_YS_INT || v->i < min) {
		fo_diags_error(d, &v->pos, "'%s' must be a whole number of at least %lld, not '%s'", key,
			       (long long)min, v->kind == FO_YSCALAR ? v->str : fo_ynode_describe(v));
		return;
	}
	*out = v->i;
}

static void set_duration(int64_t *out_ms, const struct fo_ynode *v, const char *key, bool allow_zero,
			 struct fo_diags *d)
{
	int64_t ns = -1;
	if (v->kind != FO_YSCALAR || fo_duration_parse(v->str, &ns) != 0 || (!allow_zero && ns == 0)) {
		fo_diags_error(d, &v->pos, "'%s' must be a duration such as '500ms', '30s', '5m', '2h' or '7d'%s, not '%s'",
			       key, allow_zero ? " (0: never)" : "",
			       v->kind == FO_YSCALAR ? v->str : fo_ynode_describe(v));
		return;
	}
	*out_ms = ns / 1000000;
}

/* Parses "4MiB", "512 KiB", "1000" into *out. Returns 0 or FO_EINVAL. */
static int parse_size(const char *s, size_t *out)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return FO_EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return FO_EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	char unit[8];
	size_t n = 0;
	while (isalpha((unsigned char)*end) && n + 1 < sizeof(unit))
		unit[n++] = (char)tolower((unsigned char)*end++);
	unit[n] = '\0';
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return FO_EINVAL;
	static const struct {
		const char *name;
		unsigned long long mult;
	} units[] = {
		{"", 1}, {"b", 1}, {"k", 1ULL << 10}, {"kib", 1ULL << 10}, {"m", 1ULL << 20}, {"mib", 1ULL << 20},
		{"g", 1ULL << 30}, {"gib", 1ULL << 30}, {"kb", 1000ULL}, {"mb", 1000000ULL}, {"gb", 1000000000ULL},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(units); i++) {
		if (strcmp(units[i].name, unit) == 0) {
			if (v > SIZE_MAX / units[i].mult)
				return FO_EINVAL;
			*out = (size_t)(v * units[i].mult);
			return 0;
		}
	}
	return FO_EINVAL;
}

static void set_size(size_t *out, const struct fo_ynode *v, const char *key, struct fo_diags *d)
{
	size_t n = 0;
	if (v->kind != FO_YSCALAR || parse_size(v->str, &n) != 0 || n == 0) {
		fo_diags_error(d, &v->pos, "'%s' must be a size such as '4MiB', '512KiB' or '1000', not '%s'", key,
			       v->kind == FO_YSCALAR ? v->str : fo_ynode_describe(v));
		return;
	}
	*out = n;
}

/* Checks "name:email:password". Returns an error message, or NULL when fine. */
static const char *creds_problem(const char *s)
{
	const char *c1 = strchr(s, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2)
		return "expected name:email:password";
	if (c1 == s)
		return "the name is empty";
	if (!memchr(c1 + 1, '@', (size_t)(c2 - c1 - 1)))
		return "the email has no '@'";
	if (!c2[1])
		return "the password is empty";
	return NULL;
}

/* A rough check of "ADDR:PORT" / "[ADDR6]:PORT" (the HTTP layer parses it for real). */
static bool listen_ok(const char *s)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	const char *port = colon + (s[0] == '[' ? 2 : 1);
	int64_t p;
	return fo_parse_i64(port, &p) && p >= 0 && p <= 65535;
}

/* ---- the file ---- */

/* Reports each key of map not in known, with a suggestion. Returns true if all are known. */
static bool check_keys(const struct fo_ynode *map, const char *const *known, size_t n, const char *within,
		       struct fo_diags *d)
{
	bool ok = true;
	for (size_t i = 0; i < map->npairs; i++) {
		const struct fo_ynode *k = map->pairs[i].key;
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = strcmp(k->str, known[j]) == 0;
		if (found)
			continue;
		ok = false;
		const char *hint = fo_suggest(k->str, known, n);
		char where[64] = "";
		if (within)
			snprintf(where, sizeof(where), " in '%s'", within);
		if (hint)
			fo_diags_error(d, &k->pos, "unknown key '%s'%s (did you mean '%s'?)", k->str, where, hint);
		else
			fo_diags_error(d, &k->pos, "unknown key '%s'%s", k->str, where);
	}
	return ok;
}

/* The map under key, or NULL after an error when it is something else. */
static const struct fo_ynode *submap(const struct fo_ynode *v, const char *key, struct fo_diags *d)
{
	if (fo_ynode_is_null(v))
		return NULL;
	if (v->kind != FO_YMAP) {
		fo_diags_error(d, &v->pos, "'%s' must be a map, not %s", key, fo_ynode_describe(v));
		return NULL;
	}
	return v;
}

static void load_queue(struct fo_server_config *c, const struct fo_ynode *m, struct fo_diags *d)
{
	static const char *const keys[] = {"max_running", "nodes"};
	check_keys(m, keys, FO_ARRAY_LEN(keys), "queue", d);
	const struct fo_ynode *v;
	if ((v = fo_ymap_get(m, "max_running")))
		set_int(&c->max_running, v, "queue.max_running", 0, d);
	const struct fo_ynode *nodes = (v = fo_ymap_get(m, "nodes")) ? submap(v, "queue.nodes", d) : NULL;
	if (!nodes)
		return;
	c->limits = FO_ANEWN(c->a, struct fo_limit, nodes->npairs ? nodes->npairs : 1);
	c->nlimits = 0;
	for (size_t i = 0; i < nodes->npairs; i++) {
		const struct fo_ynode *k = nodes->pairs[i].key;
		if (!fo_registry_find(FO_KIND_PROVISIONER, k->str)) {
			const char *hint = fo_registry_suggest(FO_KIND_PROVISIONER, k->str);
			if (hint)
				fo_diags_error(d, &k->pos, "unknown provisioner '%s' in 'queue.nodes' (did you mean '%s'?)",
					       k->str, hint);
			else
				fo_diags_error(d, &k->pos, "unknown provisioner '%s' in 'queue.nodes'", k->str);
			continue;
		}
		int64_t n = -1;
		char what[128];
		snprintf(what, sizeof(what), "queue.nodes.%s", k->str);
		set_int(&n, nodes->pairs[i].value, what, 0, d);
		if (n < 0)
			continue;
		c->limits[c->nlimits].provisioner = fo_arena_strdup(c->a, k->str);
		c->limits[c->nlimits].max_nodes = n;
		c->nlimits++;
	}
}

static void load_file(struct fo_server_config *c, const struct fo_ynode *root, struct fo_diags *d)
{
	static const char *const keys[] = {"listen",       "data",     "store",  "library",  "public_url",
					   "auth_mode",    "registration", "admin", "queue", "limits",
					   "sessions",     "login",    "housekeeping"};
	check_keys(root, keys, FO_ARRAY_LEN(keys), NULL, d);
	const struct fo_ynode *v, *m;
	if ((v = fo_ymap_get(root, "listen"))) {
		set_str(c, &c->listen, v, "listen", d);
		if (c->listen && !listen_ok(c->listen))
			fo_diags_error(d, &v->pos,
				       "'listen' must be ADDR:PORT such as '127.0.0.1:8080' or '[::1]:8080', not '%s'",
				       c->listen);
	}
	if ((v = fo_ymap_get(root, "data")))
		set_str(c, &c->data_dir, v, "data", d);
	if ((v = fo_ymap_get(root, "store")))
		set_str(c, &c->store_url, v, "store", d);
	if ((v = fo_ymap_get(root, "library"))) {
		set_str(c, &c->library, v, "library", d);
		/* Runs start in other folders: make it absolute now (relative to the current folder). */
		char cwd[PATH_MAX];
		if (c->library && c->library[0] != '/' && getcwd(cwd, sizeof(cwd)))
			c->library = fo_arena_printf(c->a, "%s/%s", cwd, c->library);
	}
	if ((v = fo_ymap_get(root, "public_url"))) {
		const char *u = NULL;
		set_str(c, &u, v, "public_url", d);
		if (u && !fo_starts_with(u, "http://") && !fo_starts_with(u, "https://"))
			fo_diags_error(d, &v->pos, "'public_url' must start with http:// or https://, not '%s'", u);
		else if (u) {
			/* No trailing slash: paths are appended to it. */
			size_t n = strlen(u);
			while (n > 0 && u[n - 1] == '/')
				n--;
			c->public_url = fo_arena_strndup(c->a, u, n);
		}
	}
	if ((v = fo_ymap_get(root, "auth_mode"))) {
		const char *s = scalar(v, "auth_mode", d);
		if (s && (strcasecmp(s, "multi") == 0 || strcasecmp(s, "multi_user") == 0))
			c->auth_mode = FO_AUTH_MODE_MULTI;
		else if (s && strcasecmp(s, "single_user") == 0)
			c->auth_mode = FO_AUTH_MODE_SINGLE_USER;
		else if (s)
			fo_diags_error(d, &v->pos, "'auth_mode' must be 'multi' or 'single_user', not '%s'", s);
	}
	if ((v = fo_ymap_get(root, "registration")))
		set_bool(&c->registration, v, "registration", d);
	if ((v = fo_ymap_get(root, "admin"))) {
		const char *s = NULL;
		set_str(c, &s, v, "admin", d);
		const char *why = s ? creds_problem(s) : NULL;
		if (why)
			fo_diags_error(d, &v->pos, "'admin' must be name:email:password: %s", why);
		else if (s)
			c->admin_creds = s;
	}
	if ((v = fo_ymap_get(root, "queue")) && (m = submap(v, "queue", d)))
		load_queue(c, m, d);
	if ((v = fo_ymap_get(root, "limits")) && (m = submap(v, "limits", d))) {
		static const char *const lk[] = {"max_body", "max_definition"};
		check_keys(m, lk, FO_ARRAY_LEN(lk), "limits", d);
		if ((v = fo_ymap_get(m, "max_body")))
			set_size(&c->max_body, v, "limits.max_body", d);
		if ((v = fo_ymap_get(m, "max_definition")))
			set_size(&c->max_definition, v, "limits.max_definition", d);
	}
	if ((v = fo_ymap_get(root, "sessions")) && (m = submap(v, "sessions", d))) {
		static const char *const sk[] = {"ttl"};
		check_keys(m, sk, FO_ARRAY_LEN(sk), "sessions", d);
		if ((v = fo_ymap_get(m, "ttl")))
			set_duration(&c->session_ttl_ms, v, "sessions.ttl", false, d);
	}
	if ((v = fo_ymap_get(root, "login")) && (m = submap(v, "login", d))) {
		static const char *const lk[] = {"window", "max_failures"};
		check_keys(m, lk, FO_ARRAY_LEN(lk), "login", d);
		if ((v = fo_ymap_get(m, "window")))
			set_duration(&c->login_window_ms, v, "login.window", false, d);
		if ((v = fo_ymap_get(m, "max_failures")))
			set_int(&c->login_max_failures, v, "login.max_failures", 1, d);
	}
	if ((v = fo_ymap_get(root, "housekeeping")) && (m = submap(v, "housekeeping", d))) {
		static const char *const hk[] = {"every", "compress_after", "retention"};
		check_keys(m, hk, FO_ARRAY_LEN(hk), "housekeeping", d);
		if ((v = fo_ymap_get(m, "every")))
			set_duration(&c->housekeeping_every_ms, v, "housekeeping.every", false, d);
		if ((v = fo_ymap_get(m, "compress_after")))
			set_duration(&c->compress_after_ms, v, "housekeeping.compress_after", true, d);
		if ((v = fo_ymap_get(m, "retention")))
			set_duration(&c->retention_ms, v, "housekeeping.retention", true, d);
	}
}

/* ---- defaults and the environment ---- */

static void set_defaults(struct fo_server_config *c)
{
	c->listen = "127.0.0.1:8080";
	c->data_dir = "fallout-data";
	c->auth_mode = FO_AUTH_MODE_MULTI;
	c->max_body = 4u * 1024 * 1024;
	c->max_definition = 1u * 1024 * 1024;
	c->session_ttl_ms = 7LL * 24 * 3600 * 1000;
	c->login_window_ms = 60 * 1000;
	c->login_max_failures = 5;
	c->housekeeping_every_ms = 3600 * 1000;
	c->compress_after_ms = 0;
	c->retention_ms = 0;
	c->registration = false;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		c->fallout_exe = fo_arena_strdup(c->a, exe);
	} else {
		c->fallout_exe = "fallout";
	}
}

static void apply_env(struct fo_server_config *c, struct fo_diags *d)
{
	const char *mode = getenv("FALLOUT_AUTH_MODE");
	if (mode && *mode) {
		if (strcasecmp(mode, "SINGLE_USER") == 0 || strcasecmp(mode, "single-user") == 0)
			c->auth_mode = FO_AUTH_MODE_SINGLE_USER;
		else if (strcasecmp(mode, "MULTI_USER") == 0 || strcasecmp(mode, "multi") == 0)
			c->auth_mode = FO_AUTH_MODE_MULTI;
		else
			fo_diags_error(d, NULL, "FALLOUT_AUTH_MODE must be SINGLE_USER or MULTI_USER, not '%s'", mode);
	}
	const char *creds = getenv("FALLOUT_ADMIN_CREDS");
	if (creds && *creds) {
		const char *why = creds_problem(creds);
		if (why)
			fo_diags_error(d, NULL, "FALLOUT_ADMIN_CREDS must be name:email:password: %s", why);
		else
			c->admin_creds = fo_arena_strdup(c->a, creds);
	}
}

int fo_server_config_load(struct fo_server_config *c, const char *path, struct fo_diags *d)
{
	memset(c, 0, sizeof(*c));
	c->a = fo_arena_new();
	set_defaults(c);
	size_t errors = d->errors;
	if (path) {
		struct fo_buf text = FO_BUF_INIT;
		struct fo_err err = {0};
		if (fo_buf_read_file(&text, path, MAX_CONFIG_FILE, &err) != 0) {
			fo_diags_add_err(d, &err);
		} else {
			const char *file = fo_arena_strdup(c->a, path);
			struct fo_yaml_opts yo = {.file = file};
			struct fo_ynode *root = NULL;
			if (fo_yaml_load(c->a, text.s, text.len, &yo, &root, d) == 0 && root) {
				if (root->kind == FO_YMAP) {
					load_file(c, root, d);
				} else if (!fo_ynode_is_null(root)) {
					fo_diags_error(d, &root->pos, "the configuration must be a map of settings, not %s",
						       fo_ynode_describe(root));
				}
			}
		}
		fo_buf_release(&text);
	}
	apply_env(c, d);
	return d->errors > errors ? FO_EINVAL : 0;
}

void fo_server_config_release(struct fo_server_config *c)
{
	if (!c)
		return;
	fo_arena_free(c->a);
	memset(c, 0, sizeof(*c));
}
