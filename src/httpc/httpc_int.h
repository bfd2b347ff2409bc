/*
 * httpc_int.h — the insides of the outbound HTTP adapter shared by its two
 * front ends: the blocking client (httpc.c) and the event loop (loop.c). Both
 * drive libcurl easy handles set up the same way by easy.c, so a request
 * means the same thing whichever path sends it. Nothing outside src/httpc
 * includes this header.
 */
#ifndef AP_HTTPC_HTTPC_INT_H
#define AP_HTTPC_HTTPC_INT_H

#include <stdbool.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "httpc/httpc.h"

/* What every request of one client or loop shares (owned copies). */
struct ap_httpc_conf {
    long connect_timeout_ms, total_timeout_ms;
    size_t max_response;
    char *user_agent, *ca_file;
};

/* Fills c from opts (NULL or zero fields: the defaults). */
void ap_httpc_conf_init(struct ap_httpc_conf *c, const struct ap_httpc_opts *opts);
void ap_httpc_conf_cleanup(struct ap_httpc_conf *c);

/* One transfer's state, seen by the libcurl callbacks; lives as long as the
 * easy handle is busy with it. */
struct ap_httpc_xstate {
    struct ap_buf body, headers;
    struct curl_slist *list; /* the request's header lines */
    bool too_big;
    char errbuf[CURL_ERROR_SIZE];
};

/* Per-request settings on top of the conf (0 / false: the conf's). */
struct ap_httpc_per {
    long connect_timeout_ms, total_timeout_ms;
    bool fresh_connect;
};

/*
 * Resets h and sets every option of one request: the conf, per (may be
 * NULL), req (its strings must outlive the transfer: libcurl does not copy
 * the body) and the callbacks into x (initialised here). false when libcurl
 * refuses an option; x must still be cleaned up.
 */
bool ap_httpc_easy_setup(CURL *h, const struct ap_httpc_conf *c, const struct ap_httpc_per *per,
                         const struct ap_httpc_req *req, struct ap_httpc_xstate *x);
void ap_httpc_xstate_cleanup(struct ap_httpc_xstate *x);

/* libcurl's result → enum ap_err (see ap_httpc_do). */
enum ap_err ap_httpc_map_result(CURLcode rc, const struct ap_httpc_xstate *x);

/*
 * Moves the outcome of a finished (or abandoned) transfer into resp: status,
 * time, body and headers taken from x, sent from what libcurl wrote. When err
 * is not AP_OK the partial answer is dropped (status 0, body "") and errmsg
 * says what happened (the URL without its query). One debug log line.
 */
void ap_httpc_easy_finish(CURL *h, struct ap_httpc_xstate *x, const struct ap_httpc_req *req,
                          CURLcode rc, enum ap_err err, struct ap_httpc_resp *resp);

#endif
