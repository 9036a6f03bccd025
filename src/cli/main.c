/*
 * main.c: the entry point of bin/fallout. Everything else lives in the library.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return fo_cli_main(argc, argv);
}
