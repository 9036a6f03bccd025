/*
 * component.c: the names of component kinds and property types, used by lookup, error
 * messages, `fallout components` and the generated docs. Each names table is checked
 * against its enum at compile time, so adding a kind or a type without a name fails to
 * build.
 */
#include "util/common.h"

#include <ctype.h>

#include "components/component.h"
#include "util/err.h"

struct kind_names {
	const char *name;  /* the YAML form: configuration_manager */
	const char *title; /* the prose form: configuration manager */
};

static const struct kind_names kinds[] = {
	[FO_KIND_PROVISIONER] = {"provisioner", "provisioner"},
	[FO_KIND_CONFIG_MANAGER] = {"configuration_manager", "configuration manager"},
	[FO_KIND_MODULE] = {"module", "module"},
	[FO_KIND_CHECKER] = {"checker", "checker"},
	[FO_KIND_ARTIFACT_CHECKER] = {"artifact_checker", "artifact checker"},
};
_Static_assert(FO_ARRAY_LEN(kinds) == FO__KIND_COUNT, "every component kind needs a name");

static const char *const type_names[] = {
	[FO_PT_STRING] = "string",
	[FO_PT_INT] = "int",
	[FO_PT_LONG] = "long",
	[FO_PT_DOUBLE] = "double",
	[FO_PT_BOOL] = "bool",
	[FO_PT_DURATION] = "duration",
	[FO_PT_ENUM] = "enum",
	[FO_PT_REGEX] = "regex",
	[FO_PT_STRLIST] = "string list",
	[FO_PT_MAP] = "map",
	[FO_PT_FILE] = "file",
	[FO_PT_GROUP] = "node group",
	[FO_PT_RUNLEVEL] = "runlevel",
	[FO_PT_ROLE] = "role",
	[FO_PT_FILES] = "file specs",
	[FO_PT_ANY] = "any",
};
_Static_assert(FO_ARRAY_LEN(type_names) == FO__PT_COUNT, "every property type needs a name");

const char *fo_kind_name(enum fo_kind kind)
{
	return (unsigned)kind < FO__KIND_COUNT ? kinds[kind].name : "component";
}

const char *fo_kind_title(enum fo_kind kind)
{
	return (unsigned)kind < FO__KIND_COUNT ? kinds[kind].title : "component";
}

/*
 * Writes s folded for comparison: lower case, with '-', '_' and ' ' dropped, so that
 * "Configuration-Manager", "configuration_manager" and "configuration manager" compare
 * equal. Returns false when s does not fit in out.
 */
static bool fold(const char *s, char *out, size_t n)
{
	size_t j = 0;
	for (; *s; s++) {
		if (*s == '-' || *s == '_' || *s == ' ')
			continue;
		if (j + 1 >= n)
			return false;
		out[j++] = (char)tolower((unsigned char)*s);
	}
	out[j] = '\0';
	return true;
}

int fo_kind_parse(const char *s, enum fo_kind *out)
{
	char want[64], have[64];
	if (!s || !fold(s, want, sizeof(want)) || !want[0])
		return FO_ENOTFOUND;
	size_t len = strlen(want);
	for (int k = 0; k < FO__KIND_COUNT; k++) {
		fold(kinds[k].name, have, sizeof(have));
		size_t hl = strlen(have);
		/* The plural form: "modules", "checkers". */
		bool plural = len == hl + 1 && want[hl] == 's' && strncmp(want, have, hl) == 0;
		if (strcmp(want, have) == 0 || plural) {
			*out = (enum fo_kind)k;
			return 0;
		}
	}
	return FO_ENOTFOUND;
}

const char *fo_prop_type_name(enum fo_prop_type t)
{
	return (unsigned)t < FO__PT_COUNT ? type_names[t] : "unknown";
}
