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
#include "server/server.h"
#include "util/diag.h"
#include "util/err.h"

/* The value of option opt at argv[*i] ("--opt VALUE" or "--opt=VALUE"), or NULL when argv[*i]
 * is another option. Sets *missing when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);
	const char *a = argv[*i];
	if (strncmp(a, opt, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int fo_cmd_serve(int argc, char **argv)
{
	const char *config = NULL, *listen = NULL, *data = NULL;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = opt_value(argc, argv, &i, "--config", &missing)))
			config = v;
		else if ((v = opt_value(argc, argv, &i, "--listen", &missing)))
			listen = v;
		else if ((v = opt_value(argc, argv, &i, "--data", &missing)))
			data = v;
		else if (missing)
			return fo_cli_usage_error("serve", "option '%s' needs a value", argv[i]);
		else if (argv[i][0] == '-')
			return fo_cli_usage_error("serve", "unknown option '%s'", argv[i]);
		else
			return fo_cli_usage_error("serve", "serve takes no arguments, got '%s'", argv[i]);
		if (!*v)
			return fo_cli_usage_error("serve", "option '%.*s' needs a value", (int)strcspn(argv[i], "="),
						  argv[i]);
	}

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
