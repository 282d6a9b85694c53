#include "cli.h"
static int run(int argc, char **argv) { (void)argc; (void)argv; return CLI_EXIT_USAGE; }
const cli_command cli_cmd_query = {"query", run, "differentially private aggregates over metadata", "usage: maif query\n"};
