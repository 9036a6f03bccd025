/*
 * cmd_test.c: PLACEHOLDER, being written.
 */
#include "util/common.h"

#include "cli/cli.h"

int fo_cmd_test(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return fo_cli_usage_error("test", "not implemented yet");
}
