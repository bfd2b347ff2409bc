/*
 * http_int.h — private to src/http: the structures shared by the adapter's
 * files. server.c: loops, accept, shutdown. request.c: per-request state,
 * ids, dispatch, accessors. respond.c: sending, errors, delays. deferred.c:
 * deferred replies. client.c: the client address, scheme, Host and origin.
 * decode.c: the pure decoders (parse_int.h). static.c: static files.
 * stats.c: access log and metrics. router.c needs none of this. Only
 * src/http includes this header, and with it libh2o.
 */
#ifndef AP_HTTP_HTTP_INT_H
#define AP_HTTP_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Debian's libh2o-evloop: the evloop flavour, not libuv. */
#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "http/http.h"
#include "http/parse_int.h"

#define HTTP_REQ_ID_MAX 64

struct http_loop;
struct http_static;

/* Per-request state, allocated from the h2o request pool. */
struct ap_http_req {
    h2o_req_t *h2o;
    struct http_loop *lp;
    struct ap_arena arena;
    struct ap_route_match match;
    const char *route;        /* metrics/access-log label: pattern, "static" or "unmatched" */
    int64_t start_ns;         /* monotonic, when the handler was entered */
    char *peer;               /* cached ap_http_peer(), in the arena */
    struct http_ip sock_ip;   /* the TCP peer (client.c), once sock_known */
    bool sock_known, sock_ok; /* sock_ok: the socket has an IP peer */
    const struct http_origin *public_url; /* the public URL the Host matched, or NULL */
    bool static_file;                     /* a static file's answer: no Cache-Control: no-store */
    uint32_t slot;                        /* deferred slot index, or UINT32_MAX */
    bool responded;                       /* a response has been started */
    bool deferred;                        /* ap_http_defer() was called */
    bool drop_on_respond; /* ap_http_set_drop_on_respond(): drop instead of sending */
    int delay_ms;         /* ap_http_set_delay() */
    /* a delayed response waiting on the loop's delay list (see request.c) */
    h2o_linklist_t delayed;
    uint64_t due_ms; /* loop time (h2o_now) */
    int d_status;
    const char *d_ctype; /* in the h2o pool, or NULL */
    h2o_iovec_t d_body;  /* in the h2o pool */
    char id[HTTP_REQ_ID_MAX + 1];
};

/* One deferred request on a loop; only the loop thread touches slots. */
struct http_slot {
    struct ap_http_req *req; /* NULL when free */
    uint32_t gen;            /* bumped whenever the slot is released */
    uint32_t next_free;
};

/* Keeps ap_http_reply() safe after the loops are gone: freed with its last ref. */
struct http_hub {
    pthread_mutex_t mu;
    bool alive; /* loops still accept reply messages */
    size_t refs;
};

/* Per-loop cache of metric series, so the hot path takes no lock. */
struct http_series {
    const char *route; /* NULL marks an empty entry */
    int method;        /* index into the method table, -1 for a histogram */
    int status;
    void *series;
};

struct http_loop {
    struct ap_http_server *srv;
    int idx;
    pthread_t tid;
    int listen_fd;    /* this loop's own SO_REUSEPORT listener */
    int stop_pipe[2]; /* stop() writes one byte into [1] */
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    h2o_socket_t *stop_sock;
    h2o_multithread_receiver_t replies;
    size_t nconns; /* open connections */
    bool stopping;
    int64_t deadline_ns; /* end of the grace period once stopping */
    bool forced;         /* pending deferred requests were answered 503 */
    bool dead;           /* loop ended: replies are dropped (guarded by the hub mutex) */
    struct http_slot *slots;
    uint32_t nslots, free_slot, active_slots;
    struct http_series *series;
    size_t series_cap, series_len;
    /* delayed responses (ap_http_set_delay), in due order, and their ticker */
    h2o_linklist_t delayed;
    h2o_timeout_t delay_timeout;
    h2o_timeout_entry_t delay_entry;
    bool delay_ready; /* delay_timeout initialised */
};

struct ap_http_server {
    char *host;
    int port;
    int nloops;
    size_t max_body;
    int grace_ms;
    bool access_log;
    bool gzip_json;
    struct ap_metrics *metrics;
    int fam_requests, fam_duration;
    const struct ap_router *router;
    atomic_int stop_requested;
    bool ran;
    struct http_hub *hub;
    struct http_static *statics; /* NULL when no static_root */
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hostconf;
    struct http_loop *loops;
    int started;                     /* loop threads running (start/join) */
    struct http_cidrs trusted;       /* trusted proxies */
    struct http_origins public_urls; /* public URLs; n == 0: any Host */
    char **any_host_paths;           /* NULL-terminated copy, or NULL */
};

/* request.c */
int http_on_req(h2o_handler_t *self, h2o_req_t *hreq);
void http_on_dispose(h2o_logger_t *self, h2o_req_t *hreq);
struct ap_http_req *http_req_of(h2o_req_t *hreq);
/* Fills out with a fresh 16-hex-char request id. */
void http_new_request_id(char out[17]);

/* respond.c */
/* Sends status + body (copied) on r; headers already added stay. */
void http_send(struct ap_http_req *r, int status, const char *ctype, const char *body, size_t len);
void http_send_error(struct ap_http_req *r, int status, const char *code, const char *message);
/* A JSON error body in the h2o pool: {"error":{"code":..,"message":..}}. */
h2o_iovec_t http_error_json(h2o_mem_pool_t *pool, const char *code, const char *message,
                            const char *field);
const char *http_status_code_word(int status);
/* Delayed responses: set up the ticker on the loop thread; dispose it at teardown. */
void http_delay_init(struct http_loop *lp);
void http_delay_dispose(struct http_loop *lp);
/* Sends every delayed response of lp now (the grace period is over). */
void http_delay_flush(struct http_loop *lp);

/* deferred.c */
void http_on_replies(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
/* Answers every still-pending deferred request of lp with 503 (delayed ones go out first). */
void http_force_pending(struct http_loop *lp);
void http_slot_release(struct http_loop *lp, uint32_t idx);
void http_hub_release(struct http_hub *hub);

/* client.c */
/*
 * With public URLs configured: true when r's Host names one of them (and
 * r->public_url is set) or its path is an any-host path; otherwise answers
 * 421 host_not_allowed (libh2o fills in a missing Host with a name of its
 * own, so that is a 421 too) and returns false.
 * Without public URLs: true.
 */
bool http_check_host(struct ap_http_req *r);

/* static.c */
/* in[0..len) gzipped at level (1 fastest .. 9 smallest): a malloc'd buffer of *outlen
 * bytes, or NULL when zlib fails. */
char *http_gzip(const char *in, size_t len, int level, size_t *outlen);
/* csp: the Content-Security-Policy header every static response carries (copied), or NULL. */
struct http_static *http_static_new(const char *root, const char *prefix, const char *csp,
                                    char *err, size_t errlen);
void http_static_free(struct http_static *st);
/* Serves r if its path falls under the static prefix; false means "not mine". */
bool http_static_serve(struct http_static *st, struct ap_http_req *r);

/* stats.c */
void http_stats_register(struct ap_http_server *srv);
/* Access log line and metrics for a finished request; r may be NULL. */
void http_stats_record(struct http_loop *lp, h2o_req_t *hreq, struct ap_http_req *r);
void http_stats_cleanup(struct http_loop *lp);

#endif
