/*
 * client_cli.c: option parsing, client set-up and refusal messages shared by the client
 * commands (client_cli.h).
 */
#include "util/common.h"

#include "cli/cli.h"
#include "cli/client_cli.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

int fo_cli_parse(const char *cmd, int argc, char **argv, const struct fo_cli_opt *opts, size_t nopts,
		 const char **pos, size_t maxpos, size_t *npos)
{
	*npos = 0;
	bool only_pos = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos == maxpos)
				return fo_cli_usage_error(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		const struct fo_cli_opt *o = NULL;
		const char *inline_value = NULL;
		for (size_t k = 0; k < nopts && !o; k++) {
			const char *names[2] = {opts[k].name, opts[k].alias};
			for (int j = 0; j < 2 && !o; j++) {
				if (!names[j])
					continue;
				size_t n = strlen(names[j]);
				if (strcmp(a, names[j]) == 0) {
					o = &opts[k];
				} else if (opts[k].value && strncmp(a, names[j], n) == 0 && a[n] == '=') {
					o = &opts[k];
					inline_value = a + n + 1;
				}
			}
		}
		if (!o)
			return fo_cli_usage_error(cmd, "unknown option '%s'", a);
		if (o->flag)
			*o->flag = true;
		if (o->value) {
			if (inline_value) {
				*o->value = inline_value;
			} else {
				if (i + 1 >= argc)
					return fo_cli_usage_error(cmd, "%s needs a value", a);
				*o->value = argv[++i];
			}
		}
	}
	return 0;
}

int fo_cli_client(struct fo_client *c, const char *cmd, const char *server, const char *token)
{
	struct fo_client_config cfg;
	struct fo_err err = {0};
	memset(c, 0, sizeof(*c));
	if (fo_client_config_resolve(&cfg, server, token, &err)) {
		fo_client_config_release(&cfg);
		return fo_cli_usage_error(cmd, "%s", err.msg);
	}
	int rc = 0;
	if (!cfg.server)
		rc = fo_cli_usage_error(cmd,
					"which server? give --server URL or set FALLOUT_SERVER, or sign in once with "
					"'fallout login --server URL'");
	else if (!cfg.token)
		rc = fo_cli_usage_error(cmd,
					"no API token for '%s': give --token TOKEN or set FALLOUT_TOKEN, or sign in "
					"with 'fallout login --server %s'",
					cfg.server, cfg.server);
	if (!rc) {
		fo_client_init(c, cfg.server, cfg.token);
		if (cfg.email)
			c->email = fo_strdup(cfg.email);
	}
	fo_client_config_release(&cfg);
	return rc;
}

int fo_cli_refused(const struct fo_client_resp *resp, const char *fmt, ...)
{
	struct fo_buf what = FO_BUF_INIT, m = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&what, fmt, ap);
	va_end(ap);
	fo_client_error_message(resp, &m);
	fprintf(stderr, "fallout: %s: %s\n", what.s, m.s);
	if (resp->status == 401)
		fputs("(the server does not accept the token: sign in again with 'fallout login')\n", stderr);
	fo_buf_release(&m);
	fo_buf_release(&what);
	return FO_EXIT_FAILED;
}

void fo_cli_print_body(const struct fo_client_resp *resp)
{
	fwrite(resp->body.s, 1, resp->body.len, stdout);
	if (resp->body.len && resp->body.s[resp->body.len - 1] != '\n')
		putchar('\n');
}

int fo_cli_unreachable(const struct fo_err *err)
{
	fprintf(stderr, "fallout: %s\n", err->msg);
	return FO_EXIT_FAILED;
}

json_t *fo_cli_json(const struct fo_client_resp *resp)
{
	return json_loadb(resp->body.s, resp->body.len, 0, NULL);
}

void fo_cli_time(const char *iso, char *out, size_t n)
{
	if (!iso || strlen(iso) < 19) {
		snprintf(out, n, "-");
		return;
	}
	snprintf(out, n, "%.10s %.8s", iso, iso + 11);
}

void fo_cli_test_path(struct fo_buf *b, const char *owner, const char *name, const char *suffix)
{
	fo_buf_adds(b, "/tests/");
	if (owner) {
		fo_client_escape(b, owner, false);
		fo_buf_addch(b, '/');
	}
	fo_client_escape(b, name, false);
	fo_buf_adds(b, suffix);
}
