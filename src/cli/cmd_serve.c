/*
 * cmd_serve.c: `fallout serve`, the multi-user service. Loads the configuration (defaults,
 * --config FILE, the environment, then --listen and --data), starts the server, prints
 * where it serves, and waits for SIGINT or SIGTERM to stop it. Runs in progress are not
 * stopped: they go on, and the next server on the same data folder re-adopts them.
 */
#include "util/common.h"

#include <pthread.h>
#include <signal.h>

#include "cli/cli.h"
#include "cli/client_cli.h"
#include "server/server.h"
#include "util/diag.h"
#include "util/err.h"

int fo_cmd_serve(int argc, char **argv)
{
	const char *config = NULL, *listen = NULL, *data = NULL;
	const struct fo_cli_opt opts[] = {
		{"--config", NULL, &config, NULL},
		{"--listen", NULL, &listen, NULL},
		{"--data", NULL, &data, NULL},
	};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("serve", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 0, &npos))
		return FO_EXIT_USAGE;
	for (size_t i = 0; i < FO_ARRAY_LEN(opts); i++)
		if (*opts[i].value && !**opts[i].value)
			return fo_cli_usage_error("serve", "option '%s' needs a value", opts[i].name);

	struct fo_server_config cfg;
	struct fo_diags d = FO_DIAGS_INIT;
	int rc = fo_server_config_load(&cfg, config, &d);
	if (rc) {
		fo_diags_sort(&d);
		fo_diags_print(&d, stderr);
		fo_diags_release(&d);
		fo_server_config_release(&cfg);
		return FO_EXIT_USAGE;
	}
	fo_diags_print(&d, stderr); /* warnings, if any */
	fo_diags_release(&d);
	if (listen)
		cfg.listen = listen;
	if (data)
		cfg.data_dir = data;

	/* Signals: SIGINT and SIGTERM are waited for; a client hanging up must not kill us.
	 * SIGCHLD stays as it is: the queue reaps its own children. The mask is set before
	 * any thread starts, so every thread inherits it. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct fo_server *srv = NULL;
	struct fo_err err = {0};
	rc = fo_server_start(&cfg, &srv, &err);
	if (rc) {
		fprintf(stderr, "fallout: cannot start the server: %s\n", err.code ? err.msg : fo_strerror(rc));
		fo_server_config_release(&cfg);
		return FO_EXIT_FAILED;
	}
	printf("fallout: serving %s (data: %s)\n", srv->url, srv->data_dir);
	fflush(stdout);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	fprintf(stderr, "fallout: %s received, stopping (runs in progress go on)\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	fo_server_stop(srv);
	fo_server_config_release(&cfg);
	return FO_EXIT_OK;
}
