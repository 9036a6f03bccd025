/*
 * cmd_login.c: PLACEHOLDER, being written.
 */
#include "util/common.h"

#include "cli/cli.h"

int fo_cmd_login(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return fo_cli_usage_error("login", "not implemented yet");
}
