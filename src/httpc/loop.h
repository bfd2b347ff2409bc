/*
 * loop.h — the event-driven outbound HTTP client: one thread running a
 * libcurl multi handle, on which many requests are in flight at once without
 * a thread each. The ServiceTitan client (src/titan) runs its whole engine on
 * one of these.
 *
 * Threads. A loop owns one thread ("the loop thread"). Everything a loop
 * calls back — request completions, timers, posted functions — runs on that
 * thread, one at a time, so code that lives on the loop needs no locks of its
 * own. Callbacks must not block (no blocking HTTP, no sleeping, no waiting on
 * another thread that may wait on the loop).
 *   - from any thread: ap_httpc_loop_post(), ap_httpc_submit();
 *   - from the loop thread only: ap_httpc_start(), ap_httpc_abort(),
 *     ap_httpc_timer_start(), ap_httpc_timer_stop();
 *   - from any thread but the loop's: ap_httpc_loop_free().
 *
 * Callbacks (libuv's rule): a function that takes a callback and fails
 * returns the error and the callback never runs; when it succeeds the
 * callback runs exactly once, later, from the loop itself — never from inside
 * the function that was given it.
 *
 * Requests share the multi handle's connection cache, so connections (and
 * TLS sessions) to one host are reused across requests; HTTP/2 streams are
 * multiplexed on one connection where the server offers it. Each request may
 * set its own connect and total timeouts.
 *
 * Shutdown: ap_httpc_loop_free() refuses new work, runs what was posted,
 * completes every request still in flight with a cancellation (AP_EUNAVAIL,
 * resp->canceled), runs every pending timer with canceled = true, then joins
 * the thread. After it no callback runs.
 *
 * Time: timers are due on ap_clock_mono_ns() (the injectable clock), so a
 * test that moves the fake clock moves the timers; the loop re-reads the
 * clock at least every AP_HTTPC_LOOP_TICK_MS while it waits.
 */
#ifndef AP_HTTPC_LOOP_H
#define AP_HTTPC_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "httpc/httpc.h"

/* Longest the loop sleeps without looking at its timers again. */
#define AP_HTTPC_LOOP_TICK_MS 250

struct ap_httpc_loop_opts {
    struct ap_httpc_opts http;  /* default timeouts, response limit, user agent, CA file */
    long max_host_connections;  /* open connections per host; 0: 256 */
    long max_total_connections; /* open connections in all; 0: 1024 */
    long max_idle_connections;  /* kept open between requests; 0: 256 */
    const char *thread_name;    /* for ps/top (15 characters); NULL: "httpc" */
};

struct ap_httpc_loop;

/* Starts the loop and its thread. NULL with err set when libcurl or the
 * thread cannot start. opts may be NULL (defaults). */
struct ap_httpc_loop *ap_httpc_loop_new(const struct ap_httpc_loop_opts *opts, char *err,
                                        size_t errlen);
/* Shuts the loop down (see Shutdown above) and frees it. NULL ok. Must not be
 * called on the loop thread (it would wait for itself): aborts if it is. */
void ap_httpc_loop_free(struct ap_httpc_loop *l);
/* Whether the calling thread is l's loop thread. */
bool ap_httpc_loop_on_thread(const struct ap_httpc_loop *l);

/*
 * Runs fn(arg) on the loop thread, after what was posted before it (FIFO
 * across all threads). AP_EBUSY once the loop is shutting down: then fn never
 * runs and arg stays the caller's.
 */
enum ap_err ap_httpc_loop_post(struct ap_httpc_loop *l, void (*fn)(void *arg), void *arg);

/*
 * The outcome of a request, on the loop thread: err as ap_httpc_do() returns
 * it, or AP_EUNAVAIL with resp->canceled when the request was aborted. resp is
 * the loop's: valid until done returns; take what is needed (the body may be
 * taken: set resp->body to NULL after taking it).
 */
typedef void (*ap_httpc_done_fn)(void *arg, enum ap_err err, struct ap_httpc_resp *resp);

/* Per-request settings (zero fields: the loop's defaults). */
struct ap_httpc_req_opts {
    long connect_timeout_ms;
    long total_timeout_ms;
    /* Open a new connection for this request instead of reusing one. For
     * requests that must not be sent twice: libcurl silently re-sends a
     * request whose reused connection closed before any answer byte, and
     * a server may have applied it before closing. */
    bool fresh_connect;
};

struct ap_httpc_xfer; /* a request in flight, owned by the loop */

/*
 * Starts a request (loop thread only). req is copied (method, URL, headers,
 * body), opts may be NULL. On AP_OK *out (may be NULL) is a handle for
 * ap_httpc_abort(), valid until done runs; done runs exactly once. Errors:
 * AP_EINVAL (no URL, or libcurl refused an option), AP_EBUSY (shutting down),
 * AP_EINTERNAL (libcurl could not take it); done never runs.
 */
enum ap_err ap_httpc_start(struct ap_httpc_loop *l, const struct ap_httpc_req *req,
                           const struct ap_httpc_req_opts *opts, ap_httpc_done_fn done, void *arg,
                           struct ap_httpc_xfer **out);
/*
 * From any thread: copies req and starts it on the loop. AP_EBUSY when the
 * loop is shutting down (done never runs). Otherwise done runs exactly once,
 * also when the loop cannot start the request (with the error ap_httpc_start
 * would have returned, resp->errmsg saying why).
 */
enum ap_err ap_httpc_submit(struct ap_httpc_loop *l, const struct ap_httpc_req *req,
                            const struct ap_httpc_req_opts *opts, ap_httpc_done_fn done, void *arg);
/*
 * Aborts a request in flight (loop thread only): its done runs on a later
 * turn of the loop with AP_EUNAVAIL, resp->canceled and resp->sent saying
 * whether any of it had been sent. Aborting twice is harmless.
 */
void ap_httpc_abort(struct ap_httpc_loop *l, struct ap_httpc_xfer *x);

/* A timer's callback: canceled is true only when the loop shuts down first. */
typedef void (*ap_httpc_timer_fn)(void *arg, bool canceled);
struct ap_httpc_timer;

/*
 * Calls fn(arg, false) on the loop thread once ap_clock_mono_ns() reaches
 * due_ns (at once, on the next turn, when it already has). Timers due at the
 * same time run in the order they were started. Loop thread only. On AP_OK
 * *out (may be NULL) is a handle for ap_httpc_timer_stop(), valid until fn
 * runs. AP_EBUSY when shutting down: fn never runs.
 */
enum ap_err ap_httpc_timer_start(struct ap_httpc_loop *l, int64_t due_ns, ap_httpc_timer_fn fn,
                                 void *arg, struct ap_httpc_timer **out);
/* Stops a pending timer (loop thread only): its fn never runs. */
void ap_httpc_timer_stop(struct ap_httpc_loop *l, struct ap_httpc_timer *tm);

/* What the loop is holding now (any thread; a snapshot for metrics and tests). */
struct ap_httpc_loop_stats {
    uint64_t started, completed, aborted; /* requests since the start */
    uint64_t in_flight, timers;           /* now */
    uint64_t connections_opened;          /* new connections libcurl made */
};
void ap_httpc_loop_stats(struct ap_httpc_loop *l, struct ap_httpc_loop_stats *out);

#endif
