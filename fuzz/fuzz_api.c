/*
 * fuzz_api.c: libFuzzer target for what `fallout serve` reads from the network and from
 * its configuration before any handler logic: the input's first line is "METHOD PATH",
 * matched against the route table; the rest is a request body, read as a sign-in form
 * (email, password, csrf) and, written to a file, as the server's configuration file.
 */
#include "util/common.h"

#include <unistd.h>

#include "server/http.h"
#include "server/server.h"
#include "util/arena.h"
#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t line = nl ? (size_t)(nl - (const char *)data) : size;
	struct fo_arena *a = fo_arena_new();
	char *first = fo_arena_strndup(a, (const char *)data, line);
	char *sp = strchr(first, ' ');
	struct fo_req rq = {.a = a, .body = FO_BUF_INIT, .fd = -1};
	if (sp) {
		*sp = '\0';
		bool other = false;
		const struct fo_route *r = fo_http_match(&rq, first, sp + 1, &other);
		for (size_t i = 0; r && i < rq.nparams; i++)
			if (!rq.pvalues[i] || !*rq.pvalues[i])
				__builtin_trap(); /* a match never yields an empty parameter */
	}
	const char *body = nl ? nl + 1 : "";
	size_t blen = nl ? size - line - 1 : 0;
	fo_buf_add(&rq.body, body, blen);
	fo_req_form(&rq, "email");
	fo_req_form(&rq, "password");
	fo_req_form(&rq, "csrf");

	char path[] = "/tmp/fuzz_api_config_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		if (write(fd, body, blen) == (ssize_t)blen) {
			struct fo_server_config cfg;
			struct fo_diags d = FO_DIAGS_INIT;
			fo_server_config_load(&cfg, path, &d);
			fo_server_config_release(&cfg);
			fo_diags_release(&d);
		}
		close(fd);
		unlink(path);
	}
	fo_buf_release(&rq.body);
	fo_arena_free(a);
	return 0;
}
