/* papertrader backtest: not built yet (placeholder until its issue lands). */
#include "commands.h"
#include "pt_core.h"

#include <stdio.h>

int cmd_backtest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "papertrader backtest: not available in this build yet\n");
    return PT_EXIT_FAILURE;
}
