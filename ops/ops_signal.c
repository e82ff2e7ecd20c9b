/* Signal flags. Handlers only touch sig_atomic_t counters (POSIX
 * async-signal-safe rule); the event loop's periodic timer polls them, which
 * bounds the reaction time by the timer period. */
#include "ops.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_count;
static volatile sig_atomic_t reopen_flag;

static void on_stop(int sig)
{
    (void)sig;
    if (stop_count < 2)
        stop_count++;
}

static void on_hup(int sig)
{
    (void)sig;
    reopen_flag = 1;
}

void ops_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int ops_signal_stop_count(void) { return stop_count; }

int ops_signal_take_reopen(void)
{
    if (!reopen_flag)
        return 0;
    reopen_flag = 0;
    return 1;
}
