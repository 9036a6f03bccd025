/*
 * fuzz_definition.c: libFuzzer target for the whole definition loader: document split,
 * Mustache rendering with the defaults document, YAML parsing with position mapping, and
 * validation. Any input must give either a model or diagnostics: never a crash, a leak,
 * undefined behaviour or a hang.
 */
#include "util/common.h"

#include "spec/definition.h"
#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fo_diags d = FO_DIAGS_INIT;
	struct fo_def *def = NULL;
	fo_def_load_text("fuzz.yaml", (const char *)data, size, NULL, &def, &d);
	if (!def && d.errors == 0)
		__builtin_trap(); /* a refusal must say why */
	fo_def_free(def);
	fo_diags_release(&d);
	return 0;
}
