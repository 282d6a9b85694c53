/* cmd_policy.c — placeholder, replaced below */
#include "cli.h"
static int run(int argc, char **argv) { (void)argc; (void)argv; return CLI_EXIT_USAGE; }
const cli_command cli_cmd_policy = {"policy", run, "set or show the access policy", "usage: maif policy FILE (--set POLICY.json | --show)\n"};
int cli_policy_check(const char *path, maif_reader *r, uint64_t index, const char *identity, const char *purpose)
{
    (void)path; (void)r; (void)index; (void)identity; (void)purpose;
    return 0;
}
