/*
 * proc.h — what every long-running main does with its process: stop on
 * SIGTERM and SIGINT, and survive a peer that closes a socket mid-write.
 */
#ifndef AP_CORE_PROC_H
#define AP_CORE_PROC_H

/*
 * Calls on_stop(sig) when SIGTERM or SIGINT arrives, and ignores SIGPIPE.
 * on_stop runs in a signal handler: only async-signal-safe work (setting a
 * flag, ap_http_server_stop()).
 */
void ap_proc_on_stop(void (*on_stop)(int sig));

#endif
