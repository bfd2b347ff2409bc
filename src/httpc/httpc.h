/*
 * httpc.h — the outbound HTTP adapter: the one place that includes
 * <curl/curl.h>. Two front ends share the request and response types below:
 *
 *   - the blocking client (struct ap_httpc, ap_httpc_do): one request at a
 *     time on the calling thread; for one-off calls (the FMS hook);
 *   - the event loop (httpc/loop.h): one thread running a libcurl multi
 *     handle, many requests in flight, completion callbacks and timers on
 *     that thread; what the ServiceTitan client (src/titan) runs on.
 *
 * Threads: a struct ap_httpc owns one libcurl easy handle, reused from call
 * to call so that connections (and TLS sessions) to the same host are kept
 * alive and reused. A client is NOT thread-safe: give each thread its own;
 * there is no shared connection cache between clients. ap_httpc_global_init()
 * may be called from any thread, any number of times.
 *
 * Transport: TLS peer and host verification are always on (the system CA
 * store, or opts.ca_file); only http:// and https:// URLs are accepted;
 * redirects are not followed (a 3xx is returned like any status). The
 * standard proxy environment variables (http_proxy, https_proxy, no_proxy)
 * are honoured, as libcurl does by default; this adapter does not disable
 * that. Responses in gzip/deflate/br are decoded; the size limit applies to
 * the decoded body.
 */
#ifndef AP_HTTPC_HTTPC_H
#define AP_HTTPC_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Defaults used for zero fields of struct ap_httpc_opts. */
#define AP_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define AP_HTTPC_DEFAULT_TOTAL_TIMEOUT_MS   30000
#define AP_HTTPC_DEFAULT_MAX_RESPONSE       (8 * 1024 * 1024)
/* The response header block is refused past this size (AP_ETOOBIG). */
#define AP_HTTPC_MAX_HEADER_BYTES (64 * 1024)
/* Largest body ap_httpc_urlencode_form() builds. */
#define AP_HTTPC_MAX_FORM    (64 * 1024)
#define AP_HTTPC_ERRMSG_SIZE 256

/* Once per process before any transfer; thread-safe, idempotent. */
enum ap_err ap_httpc_global_init(void);

struct ap_httpc_opts {
    long connect_timeout_ms;   /* TCP + TLS handshake; 0: default */
    long total_timeout_ms;     /* the whole call; 0: default */
    size_t max_response_bytes; /* body limit; 0: default */
    const char *user_agent;    /* NULL: "appointd/<AP_VERSION>"; copied */
    const char *ca_file;       /* PEM CA bundle instead of the system store; NULL: system; copied */
};

struct ap_httpc;

/*
 * A client (see Threads above); opts may be NULL for the defaults. Calls
 * ap_httpc_global_init(). Returns NULL only when libcurl cannot make a handle.
 * Free with ap_httpc_free(), which closes its connections.
 */
struct ap_httpc *ap_httpc_new(const struct ap_httpc_opts *opts);
void ap_httpc_free(struct ap_httpc *c);

struct ap_httpc_req {
    const char *method;         /* "GET", "POST", "PATCH", …; NULL: "GET" */
    const char *url;            /* absolute http:// or https:// URL */
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;           /* sent when not NULL (body_len bytes) */
    size_t body_len;
};

/*
 * Filled by ap_httpc_do(); owns its memory: release with
 * ap_httpc_resp_cleanup(). Zero-initialise before the first use; a resp may be
 * reused for another call after cleanup.
 */
struct ap_httpc_resp {
    long status; /* HTTP status; 0 when no response arrived */
    char *body;  /* NUL-terminated (not counted in body_len); never NULL after ap_httpc_do */
    size_t body_len;
    char *headers;      /* header lines of the final response, each "Name: value\0" */
    size_t headers_len; /* bytes in headers, terminators included */
    double total_ms;    /* wall time of the call */
    char errmsg[AP_HTTPC_ERRMSG_SIZE]; /* why the call failed; "" on AP_OK */
    /* Whether any byte of the request reached the wire (or any byte of an
     * answer came back). With no answer and sent true the peer may have
     * acted on the request: a POST is ambiguous, not failed. */
    bool sent;
    bool canceled; /* the loop aborted it (ap_httpc_abort, shutdown) */
};

/*
 * Performs one request. Returns
 *   AP_OK        an HTTP response arrived, whatever its status (resp->status);
 *   AP_ETIMEOUT  the connect or total timeout passed;
 *   AP_EUNAVAIL  name resolution, connect, TLS, or the connection failed;
 *   AP_ETOOBIG   the response body (or header block) passed its limit;
 *   AP_EINVAL    the request itself is unusable (bad URL, unsupported scheme).
 * On failure resp->errmsg says what happened for a human and a log (the URL
 * shown without its query string), status is 0 and body is "" (whatever
 * partial answer arrived is dropped). resp is cleaned up first, so the previous
 * call's data is gone. Without a Content-Type header a POST body is sent as
 * application/x-www-form-urlencoded (libcurl's default): pass Content-Type
 * for JSON. "Expect: 100-continue" is never sent.
 */
enum ap_err ap_httpc_do(struct ap_httpc *c, const struct ap_httpc_req *req,
                        struct ap_httpc_resp *resp);

/*
 * The value of the first header called name (case-insensitive) of the final
 * response, leading/trailing blanks removed; NULL when absent. Borrowed from
 * resp, valid until ap_httpc_resp_cleanup().
 */
const char *ap_httpc_resp_header(const struct ap_httpc_resp *resp, const char *name);

/* Frees what resp owns and zeroes it; NULL ok. */
void ap_httpc_resp_cleanup(struct ap_httpc_resp *resp);

/*
 * Builds an application/x-www-form-urlencoded body from pairs = {name1,
 * value1, name2, value2, …, NULL}: "name1=value1&name2=value2" with every
 * byte outside [A-Za-z0-9-._~] percent-encoded. *out is malloc'd (caller
 * frees). AP_ETOOBIG past AP_HTTPC_MAX_FORM bytes, AP_EINVAL for an odd
 * number of strings; *out is NULL on error.
 */
enum ap_err ap_httpc_urlencode_form(const char *const *pairs, char **out);

#endif
