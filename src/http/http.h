/*
 * http.h — the HTTP server adapter. The only code that includes libh2o.
 *
 * One event loop per thread, all accepting on one listening socket. A
 * handler runs on a loop thread and must not block: it either answers at
 * once (ap_http_respond*) and returns AP_HTTP_DONE, or calls ap_http_defer()
 * and returns AP_HTTP_DEFERRED, and later — from any thread — answers with
 * ap_http_reply(). If the client went away meanwhile, the adapter drops the
 * reply; the handler never needs to know.
 *
 * Each request carries a per-request arena (freed when the response has been
 * sent), a request id (X-Request-Id if the client sent a sane one, else
 * generated; echoed in the response and set as the log request id while the
 * handler runs), and its route's name for metrics and the access log.
 *
 * Graceful shutdown: ap_http_server_stop() (async-signal-safe) closes the
 * listener, closes idle keep-alive connections, lets in-flight requests
 * finish (deferred ones included) up to a grace period, then
 * ap_http_server_run() returns. Responses sent meanwhile carry
 * "Connection: close". Deferred requests still pending when the grace period
 * ends are answered 503 {"error":{"code":"shutting_down",...}}.
 *
 * HTTP/1.1 with keep-alive only (no HTTP/2). Errors the server produces
 * itself (404, 405 with Allow, 413 — including the one libh2o sends for a
 * too-large Content-Length or chunked body before reading it, which also
 * closes the connection) are JSON error bodies. Every answer but a static
 * file carries "Cache-Control: no-store" (unless the handler set its own
 * Cache-Control). ap_http_server_new() sets SIGPIPE to SIG_IGN: a client
 * that leaves mid-write must not kill us.
 *
 * Behind a reverse proxy: forwarding headers (X-Forwarded-For, -Proto,
 * -Host) are believed only from the trusted proxies of the config; see
 * ap_http_peer(). With public URLs configured, a request for any other Host
 * is answered 421 before routing (except on the config's any-host paths).
 */
#ifndef AP_HTTP_HTTP_H
#define AP_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

struct ap_http_req;
struct ap_http_deferred;
struct ap_http_server;
struct ap_router;
struct ap_metrics;

enum ap_http_result { AP_HTTP_DONE, AP_HTTP_DEFERRED };

typedef enum ap_http_result (*ap_http_handler_fn)(struct ap_http_req *req, void *ud);

/* ---- router ---------------------------------------------------------- */

struct ap_router *ap_router_new(void);
void ap_router_free(struct ap_router *r);
/*
 * Adds a route. pattern segments starting with ':' capture one path segment
 * ("/api/v1/accounts/:id"); a final "*name" captures the rest (may be empty).
 * method is "GET", "POST", ... or "*"; GET routes also answer HEAD.
 * Literal segments win over captures. Returns AP_ECONFLICT for a duplicate.
 */
enum ap_err ap_router_add(struct ap_router *r, const char *method, const char *pattern,
                          ap_http_handler_fn fn, void *ud);

/* Result of a lookup: the handler, or why none. */
struct ap_route_match {
    ap_http_handler_fn fn;
    void *ud;
    const char *pattern; /* the route's pattern, for metrics ("/api/v1/x/:id") */
    size_t nparams;
    struct ap_str names[8];
    struct ap_str values[8]; /* slices of the path, not yet %-decoded */
    bool method_mismatch;    /* path matched but not the method: 405 */
    const char *allow;       /* on a mismatch: the path's methods, "GET, HEAD, POST" */
};
/*
 * Finds the route for method and path (no query). Returns true with m's
 * handler set; false with m->method_mismatch telling 405 from 404. Thread-safe
 * once routes are no longer added. The strings m points to are owned by the
 * router and by path.
 */
bool ap_router_match(const struct ap_router *r, struct ap_str method, struct ap_str path,
                     struct ap_route_match *m);

/*
 * %-decodes s into the arena (and '+' into a space when plus_is_space).
 * Returns NULL when s holds a bad escape or decodes to a NUL byte.
 */
char *ap_http_decode(struct ap_arena *a, struct ap_str s, bool plus_is_space);

/* ---- server ---------------------------------------------------------- */

struct ap_http_config {
    const char *host;           /* numeric or "localhost" */
    int port;                   /* 0 picks a free one: see ap_http_server_port() */
    int threads;                /* event loops; <= 0 means one per core */
    size_t max_body;            /* larger bodies get 413; 0 means 1 MiB */
    const char *static_root;    /* directory served for unmatched GETs, or NULL */
    const char *static_prefix;  /* URL prefix mapped onto static_root, e.g. "/" */
    const char *static_csp;     /* Content-Security-Policy of static responses, or NULL */
    int grace_ms;               /* how long shutdown waits for in-flight work */
    bool access_log;            /* one http.request line per response */
    bool gzip_json;             /* gzip JSON answers of 1 KiB or more when the client accepts it */
    struct ap_metrics *metrics; /* may be NULL */
    /*
     * Addresses and CIDRs of the reverse proxies whose forwarding headers are
     * believed ("10.0.0.0/8, ::1", commas or blanks), or NULL/"" for none.
     */
    const char *trusted_proxies;
    /*
     * The URL(s) the server is reached at ("https://book.example.com", several
     * separated by commas or blanks; a path is ignored), or NULL. When set,
     * the Host must name one of them (else 421), and ap_http_same_origin()
     * compares with that one.
     */
    const char *public_urls;
    /* Paths answered whatever the Host ("/healthz"): NULL-terminated, copied; or NULL. */
    const char *const *any_host_paths;
};

/*
 * Binds the listener now (so a taken port fails here, with err set to a line
 * naming the address) and prepares the loops. router is borrowed. A bad
 * trusted_proxies or public_urls entry fails here too, err naming the entry
 * ("bad trusted-proxies: '10.0.0.0/33' is not ...").
 */
struct ap_http_server *ap_http_server_new(const struct ap_http_config *cfg,
                                          const struct ap_router *router, char *err, size_t errlen);
int ap_http_server_port(const struct ap_http_server *s);
/*
 * Runs the loops (threads of its own) until stopped; returns AP_OK after
 * graceful shutdown and after joining them. Runs once: a second call is
 * AP_EINVAL.
 */
enum ap_err ap_http_server_run(struct ap_http_server *s);
/*
 * run() in two halves, for a server that runs beside another: start() starts
 * the loops and returns; join() waits until they have stopped (after
 * ap_http_server_stop()). Each runs once; join() without start() is AP_EINVAL.
 */
enum ap_err ap_http_server_start(struct ap_http_server *s);
enum ap_err ap_http_server_join(struct ap_http_server *s);
/* Asks run() to stop. Safe from a signal handler, from any thread, and before run(). */
void ap_http_server_stop(struct ap_http_server *s);
void ap_http_server_free(struct ap_http_server *s);

/* ---- request --------------------------------------------------------- */

struct ap_str ap_http_method(const struct ap_http_req *req);
struct ap_str ap_http_path(const struct ap_http_req *req); /* without the query */
/* Path parameter by name, %-decoded into the arena; NULL if absent or badly encoded. */
const char *ap_http_param(struct ap_http_req *req, const char *name);
/* Query parameter, %- and '+'-decoded; NULL if absent. First one wins. */
const char *ap_http_query(struct ap_http_req *req, const char *name);
/* The raw query string (after '?', not decoded); empty when there is none. */
struct ap_str ap_http_query_string(const struct ap_http_req *req);
/* Request header (case-insensitive name), NUL-terminated in the arena; NULL if absent. */
const char *ap_http_header(struct ap_http_req *req, const char *name);
/* The whole request body (already limited to max_body). */
struct ap_str ap_http_body(const struct ap_http_req *req);
struct ap_arena *ap_http_arena(struct ap_http_req *req);
/*
 * The client's address ("192.0.2.1", "2001:db8::1"; IPv4-mapped IPv6 shown
 * as IPv4), in the arena: the TCP peer, or, when the peer is a trusted
 * proxy, the right-most X-Forwarded-For address that is not itself a
 * trusted proxy. "-" when the socket has no IP peer. Every caller (the login
 * throttle, rate limits, the access log) gets this same answer.
 */
const char *ap_http_peer(struct ap_http_req *req);
/*
 * The scheme the client used, "https" or "http": the matched public URL's
 * scheme when public URLs are set, else X-Forwarded-Proto from a trusted
 * proxy, else "http" (appointd itself speaks plain HTTP).
 */
const char *ap_http_scheme(struct ap_http_req *req);
/* The host the client asked for: X-Forwarded-Host from a trusted proxy, else Host; NULL if none. */
const char *ap_http_host(struct ap_http_req *req);
/*
 * True when origin (an Origin header's value) is this server as the client
 * reached it: with public URLs, exactly the one the Host matched
 * ("https://book.example.com"); without, ap_http_scheme() "://"
 * ap_http_host() (host case-insensitive, default ports filled in).
 */
bool ap_http_same_origin(struct ap_http_req *req, const char *origin);
/*
 * True when the request came straight from this machine: a loopback TCP
 * peer and no X-Forwarded-For, Forwarded or X-Real-IP header (which would
 * mean a local proxy relaying someone else).
 */
bool ap_http_is_local(struct ap_http_req *req);

/*
 * Field of an application/x-www-form-urlencoded body, %- and '+'-decoded into
 * the arena; NULL if absent or badly encoded. First one wins. The
 * Content-Type is not checked (callers that care read the header).
 */
const char *ap_http_form(struct ap_http_req *req, const char *name);
/* Cookie value by name from the Cookie header(s), copied into the arena as sent; NULL if absent. */
const char *ap_http_cookie(struct ap_http_req *req, const char *name);

/* ---- fault injection (emulators and tests) --------------------------- */

/*
 * Answers nothing and closes the connection: the client sees it reset (or
 * closed) without a response. Counts as the answer: the handler returns
 * AP_HTTP_DONE and must not respond again.
 */
void ap_http_drop(struct ap_http_req *req);
/*
 * Whatever is answered on req later (at once, deferred or delayed) is not
 * sent: the connection is dropped instead, as with ap_http_drop(). For
 * "the server did the work, the client never heard".
 */
void ap_http_set_drop_on_respond(struct ap_http_req *req);
/*
 * The response of req goes out ms milliseconds (at most 600000) after it is
 * given, from the loop's timer; the loop is not blocked meanwhile. ms <= 0
 * means at once. Call before responding (or deferring). On shutdown a delayed
 * response still waiting when the grace period ends is sent at once.
 */
void ap_http_set_delay(struct ap_http_req *req, int ms);

/* ---- responses (loop thread, inside the handler) --------------------- */

/*
 * Adds a response header; name and value are copied. Before respond (or
 * before ap_http_defer(): such headers go out with the deferred reply).
 * Names or values holding CR/LF, and Content-Length, Transfer-Encoding and
 * Connection (the server owns those), are refused and logged.
 */
void ap_http_add_header(struct ap_http_req *req, const char *name, const char *value);
/*
 * Sends status with body (copied); content_type may be NULL for none. Every
 * response carries X-Request-Id. A HEAD request gets the headers only.
 */
void ap_http_respond(struct ap_http_req *req, int status, const char *content_type,
                     const char *body, size_t len);
/* Sends a JSON text body with Content-Type application/json. */
void ap_http_respond_json(struct ap_http_req *req, int status, const char *json, size_t len);
/* Sends {"error":{"code":code,"message":message[,"field":field]}}. field may be NULL. */
void ap_http_respond_error(struct ap_http_req *req, int status, const char *code,
                           const char *message, const char *field);

/* ---- deferred replies ------------------------------------------------ */

/*
 * Turns req into a deferred one. The handler must return AP_HTTP_DEFERRED and
 * must not touch req again. The returned handle is owned by the adapter until
 * exactly one ap_http_reply()/ap_http_reply_error() call consumes it.
 */
struct ap_http_deferred *ap_http_defer(struct ap_http_req *req);
/*
 * From any thread; copies everything; frees the handle. If the client went
 * away, or the server has stopped (even been freed), the reply is dropped.
 * d may be NULL (nothing happens).
 */
void ap_http_reply(struct ap_http_deferred *d, int status, const char *content_type,
                   const char *body, size_t len);
/*
 * ap_http_reply() with response headers: headers is NULL or
 * {"Name", "value", ..., NULL} (copied). For answers whose headers depend on
 * the worker's result, e.g. a Set-Cookie only when a login succeeded.
 */
void ap_http_reply_headers(struct ap_http_deferred *d, int status, const char *content_type,
                           const char *const *headers, const char *body, size_t len);
void ap_http_reply_error(struct ap_http_deferred *d, int status, const char *code,
                         const char *message, const char *field);

#endif
