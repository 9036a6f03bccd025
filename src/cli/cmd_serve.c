/*
 * cmd_serve.c: PLACEHOLDER, being written.
 */
#include "util/common.h"

#include "cli/cli.h"

int fo_cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return fo_cli_usage_error("serve", "not implemented yet");
}
