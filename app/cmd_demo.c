/* papertrader demo: not built yet (placeholder until its issue lands). */
#include "commands.h"
#include "pt_core.h"

#include <stdio.h>

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "papertrader demo: not available in this build yet\n");
    return PT_EXIT_FAILURE;
}
