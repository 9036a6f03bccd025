/*
 * fuzz_mustache.c: libFuzzer target for the Mustache engine on its own, with escaping on
 * and a source map, against a fixed data scope; then maps every output position back.
 */
#include "util/common.h"

#include "spec/mustache.h"
#include "spec/yaml.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char scope_text[] = "a: 1\nb: [x, y, {c: z}]\nn: null\nf: false\nm: {k: v, l: [1, 2]}\ns: \"<&>\"\n";

static int partial(void *ctx, const char *name, const char **text, size_t *len, const char **file)
{
	(void)ctx;
	if (strcmp(name, "p") == 0) {
		*text = "{{#b}}[{{.}}]{{/b}}\n{{a}}";
		*len = strlen(*text);
		*file = "p.mustache";
		return 0;
	}
	if (strcmp(name, "self") == 0) {
		*text = "{{>self}}";
		*len = strlen(*text);
		*file = "self.mustache";
		return 0;
	}
	return FO_ENOTFOUND;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fo_arena *a = fo_arena_new();
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_ynode *scope = NULL;
	fo_yaml_load(a, scope_text, sizeof(scope_text) - 1, NULL, &scope, &d);
	const struct fo_ynode *scopes[] = {scope};
	struct fo_srcmap map;
	fo_srcmap_init(&map);
	struct fo_mustache_opts o = {.escape_html = size % 2, .partial = partial, .file = "t", .map = &map};
	struct fo_buf out;
	fo_buf_init(&out, 1 << 20);
	struct fo_mustache_missing missing = {0};
	struct fo_err err = {0};
	if (fo_mustache_render((const char *)data, size, scopes, 1, &o, &out, &missing, &err) == 0) {
		int line = 1, col = 1;
		for (size_t i = 0; i < out.len; i++) {
			struct fo_pos pos;
			if (i % 7 == 0)
				fo_srcmap_pos(&map, out.s, out.len, line, col, &pos);
			if (out.s[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)out.s[i] & 0xC0) != 0x80) {
				col++;
			}
		}
	}
	fo_mustache_missing_release(&missing);
	fo_buf_release(&out);
	fo_srcmap_release(&map);
	fo_diags_release(&d);
	fo_arena_free(a);
	return 0;
}
