/*
 * proc.c — signal dispositions shared by appointd's and stsim's mains. See
 * proc.h.
 */
#include <signal.h>
#include <stddef.h>

#include "core/proc.h"

void ap_proc_on_stop(void (*on_stop)(int sig))
{
    struct sigaction sa = {0};

    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
