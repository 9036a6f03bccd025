/*
 * cmd_login.c: `fallout login`: signs in to a fallout server with email and password (the
 * login form, as a browser does), creates an API token for this machine, and saves the
 * server's URL, the token and the email in the client configuration file (private, written
 * atomically), so the `test` and `run` commands need no credentials on their command line.
 * The password is read from the terminal without echo, or as one line of stdin with
 * --password-stdin (scripts, CI); it is never taken from the command line.
 */
#include "util/common.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client_cli.h"
#include "client/client.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

/* Reads one line from f into b without its line break. Returns false at end of input. */
static bool read_line(FILE *f, struct fo_buf *b)
{
	int ch;
	bool any = false;
	while ((ch = fgetc(f)) != EOF) {
		any = true;
		if (ch == '\n')
			break;
		fo_buf_addch(b, (char)ch);
	}
	if (b->len && b->s[b->len - 1] == '\r')
		fo_buf_truncate(b, b->len - 1);
	return any;
}

/*
 * Asks for prompt on the terminal and reads the answer, without echo when secret. Returns
 * 0, or -1 when there is no terminal.
 */
static int ask_tty(const char *prompt, bool secret, struct fo_buf *out)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	FILE *tty = fdopen(fd, "r+");
	if (!tty) {
		close(fd);
		return -1;
	}
	struct termios old, quiet;
	bool restore = false;
	if (secret && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	fputs(prompt, tty);
	fflush(tty);
	read_line(tty, out);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	fclose(tty);
	return 0;
}

int fo_cmd_login(int argc, char **argv)
{
	const char *server = NULL, *email = NULL, *label = NULL;
	bool from_stdin = false;
	const struct fo_cli_opt opts[] = {
		{"--server", NULL, &server, NULL},
		{"--email", NULL, &email, NULL},
		{"--label", NULL, &label, NULL},
		{"--password-stdin", NULL, NULL, &from_stdin},
	};
	const char *pos[1];
	size_t npos;
	if (fo_cli_parse("login", argc, argv, opts, FO_ARRAY_LEN(opts), pos, 0, &npos))
		return FO_EXIT_USAGE;

	struct fo_client_config cfg;
	struct fo_err err = {0};
	/* The file's contents are only defaults here: a broken file is about to be replaced. */
	fo_client_config_resolve(&cfg, server, NULL, &err);
	if (!cfg.server) {
		fo_client_config_release(&cfg);
		return fo_cli_usage_error("login", "which server? give --server URL (or set FALLOUT_SERVER)");
	}
	struct fo_buf email_b = FO_BUF_INIT, password = FO_BUF_INIT, label_b = FO_BUF_INIT;
	int rc = FO_EXIT_OK;
	if (email)
		fo_buf_adds(&email_b, email);
	else if (cfg.email)
		fo_buf_adds(&email_b, cfg.email);
	else if (!from_stdin)
		ask_tty("email: ", false, &email_b);
	if (!email_b.len) {
		rc = fo_cli_usage_error("login", "which account? give --email EMAIL");
		goto out;
	}
	if (from_stdin) {
		read_line(stdin, &password);
	} else if (ask_tty("password: ", true, &password) != 0) {
		rc = fo_cli_usage_error("login", "no terminal to ask for the password: give it on stdin with "
						 "--password-stdin");
		goto out;
	}
	if (!password.len) {
		rc = fo_cli_usage_error("login", "the password is empty");
		goto out;
	}
	if (label) {
		fo_buf_adds(&label_b, label);
	} else {
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
			snprintf(host, sizeof(host), "localhost");
		fo_buf_addf(&label_b, "cli on %s", host);
	}

	struct fo_client c;
	fo_client_init(&c, cfg.server, NULL);
	long status = 0;
	fo_err_clear(&err);
	int r = fo_client_login_session(&c, email_b.s, password.s, &status, &err);
	memset(password.s, 0, password.len);
	char *token = NULL;
	if (!r)
		r = fo_client_create_token(&c, label_b.s, &token, &status, &err);
	if (r == FO_ENET || (r && !status)) {
		rc = fo_cli_unreachable(&err);
	} else if (r) {
		fprintf(stderr, "fallout: %s refused the sign-in: %s\n", c.server, err.msg);
		rc = FO_EXIT_FAILED;
	} else if (fo_client_config_save(cfg.path, c.server, token, email_b.s, &err)) {
		fprintf(stderr, "fallout: %s\n", err.msg);
		rc = FO_EXIT_FAILED;
	} else {
		printf("signed in to %s as %s; token saved in %s\n", c.server, email_b.s, cfg.path);
	}
	if (token) {
		memset(token, 0, strlen(token));
		fo_free(token);
	}
	fo_client_release(&c);
out:
	fo_buf_release(&email_b);
	fo_buf_release(&password);
	fo_buf_release(&label_b);
	fo_client_config_release(&cfg);
	return rc;
}
