/*
 * serve.h — the parts of the appointd binary that commands share.
 */
#ifndef AP_SERVE_H
#define AP_SERVE_H

#include <stddef.h>

struct ap_conf;
struct ap_store;

/*
 * Opens the store in the configured data dir and applies pending
 * migrations; *applied says how many. NULL with err set on failure.
 */
struct ap_store *ap_open_store(const struct ap_conf *c, int *applied, char *err, size_t errlen);

/* `appointd serve`: returns the process exit code. */
int ap_serve(const struct ap_conf *c);

#endif
