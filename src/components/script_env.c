/*
 * script_env.c: the environment of the user's scripts (see script_env.h).
 */
#include "util/common.h"

#include "components/script_env.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/strutil.h"

extern char **environ;

void fo_script_env_set(struct fo_script_env *e, const char *name, const char *value)
{
	size_t len = strlen(name);
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_addf(&b, "%s=%s", name, value ? value : "");
	char *entry = fo_buf_detach(&b, NULL);
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=') {
			fo_free(e->v[i]);
			e->v[i] = entry;
			return;
		}
	}
	FO_GROW(e->v, e->cap, e->n + 1);
	e->v[e->n++] = entry;
}

void fo_script_env_copy(struct fo_script_env *to, const struct fo_script_env *from)
{
	for (size_t i = 0; i < from->n; i++) {
		FO_GROW(to->v, to->cap, to->n + 1);
		to->v[to->n++] = fo_strdup(from->v[i]);
	}
}

void fo_script_env_release(struct fo_script_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		fo_free(e->v[i]);
	fo_free(e->v);
	*e = (struct fo_script_env){0};
}

void fo_script_env_add_base(struct fo_script_env *e)
{
	const char *home = getenv("HOME");
	const char *path = getenv("PATH");
	if (home)
		fo_script_env_set(e, "HOME", home);
	fo_script_env_set(e, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char **p = environ; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		if (!eq || !fo_starts_with(*p, "FALLOUT_"))
			continue;
		char *name = fo_strndup(*p, (size_t)(eq - *p));
		fo_script_env_set(e, name, eq + 1);
		fo_free(name);
	}
}
