/*
 * loop.c — the event-driven outbound HTTP client (see loop.h): one thread
 * turning a libcurl multi handle through its socket interface on an epoll
 * set, a queue of functions posted from other threads, and a heap of timers.
 *
 * One turn of the loop: run what was posted (the queue is swapped out under
 * its mutex and run without it), run the timers that are due, let libcurl act
 * on its own timeout if it passed, complete finished and aborted transfers,
 * then sleep in epoll_wait() until a socket libcurl watches is ready, an
 * eventfd says something was posted, libcurl's timeout, the next timer, or
 * AP_HTTPC_LOOP_TICK_MS — whichever is first — and hand each ready socket to
 * curl_multi_socket_action(). libcurl says which sockets to watch through its
 * socket callback, so a turn costs what is ready, not what is open: many
 * slow requests in flight cost nothing while they wait.
 *
 * Easy handles are kept in a small pool and reused; connections live in the
 * multi handle's cache, shared by every request of the loop. libcurl keeps
 * its own timeouts on the real clock; the loop asks it (curl_multi_timeout)
 * rather than keeping them itself, so a fake clock in tests never stalls it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc_int.h"
#include "httpc/loop.h"

#define EASY_POOL_MAX 64
#define MAX_EVENTS    128

struct post {
    struct post *next;
    void (*fn)(void *arg);
    void *arg;
};

struct ap_httpc_xfer {
    struct ap_httpc_xfer *next, *prev; /* l->live, then l->aborted */
    CURL *h;
    struct ap_httpc_xstate x;
    struct ap_httpc_req req; /* points into the copies below */
    char *method, *url, *body, **headers;
    struct ap_httpc_req_opts opts;
    ap_httpc_done_fn done;
    void *arg;
    bool attached; /* in the multi handle */
};

struct ap_httpc_timer {
    size_t idx; /* in the heap */
    int64_t due_ns;
    uint64_t seq; /* start order, to break ties */
    ap_httpc_timer_fn fn;
    void *arg;
};

struct ap_httpc_loop {
    CURLM *m;
    int epfd, evfd; /* the sockets libcurl watches; the wake-up from other threads */
    struct ap_httpc_conf conf;
    pthread_t th;
    char name[16];
    /* shared with other threads */
    pthread_mutex_t mu;
    struct post *head, *tail;
    bool stopping; /* under mu: posts refused */
    /* loop thread only */
    bool closing; /* starts and timers refused */
    struct ap_httpc_xfer *live, *aborted;
    struct ap_httpc_timer **heap;
    size_t nheap, capheap;
    uint64_t seq;
    CURL *pool[EASY_POOL_MAX];
    size_t npool;
    _Atomic uint64_t n_started, n_completed, n_aborted, n_in_flight, n_timers, n_conns;
};

static _Thread_local struct ap_httpc_loop *current;

bool ap_httpc_loop_on_thread(const struct ap_httpc_loop *l)
{
    return l && current == l;
}

static void on_loop_or_die(const struct ap_httpc_loop *l, const char *what)
{
    if (!ap_httpc_loop_on_thread(l)) {
        ap_log_error("httpc.loop", "msg=\"%s called off the loop thread\"", what);
        abort();
    }
}

/* ---- posting ------------------------------------------------------------ */

/* Wakes the loop (any thread; under l->mu, so that once ap_httpc_loop_free()
 * has set stopping no thread touches the loop's descriptors any more). */
static void wake(struct ap_httpc_loop *l)
{
    uint64_t one = 1;

    while (write(l->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

enum ap_err ap_httpc_loop_post(struct ap_httpc_loop *l, void (*fn)(void *arg), void *arg)
{
    struct post *p = ap_xmalloc(sizeof(*p));

    *p = (struct post){.fn = fn, .arg = arg};
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        free(p);
        return AP_EBUSY;
    }
    if (l->tail) {
        /* the post that made the queue non-empty woke the loop, which has
         * not taken the queue yet: it will run this one too */
        l->tail->next = p;
    } else {
        l->head = p;
        wake(l);
    }
    l->tail = p;
    pthread_mutex_unlock(&l->mu);
    return AP_OK;
}

/* Runs everything posted so far; returns whether the loop is stopping. */
static bool run_posts(struct ap_httpc_loop *l)
{
    struct post *p, *next;
    bool stopping;

    pthread_mutex_lock(&l->mu);
    p = l->head;
    l->head = l->tail = NULL;
    stopping = l->stopping;
    pthread_mutex_unlock(&l->mu);
    if (stopping)
        l->closing = true; /* before the posts run: they may not start new work */
    for (; p; p = next) {
        next = p->next;
        p->fn(p->arg);
        free(p);
    }
    return stopping;
}

static bool posts_pending(struct ap_httpc_loop *l)
{
    bool any;

    pthread_mutex_lock(&l->mu);
    any = l->head != NULL;
    pthread_mutex_unlock(&l->mu);
    return any;
}

/* ---- timers: a binary min-heap on (due, seq) ----------------------------- */

static bool before(const struct ap_httpc_timer *a, const struct ap_httpc_timer *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_set(struct ap_httpc_loop *l, size_t i, struct ap_httpc_timer *tm)
{
    l->heap[i] = tm;
    tm->idx = i;
}

static void sift_up(struct ap_httpc_loop *l, size_t i)
{
    struct ap_httpc_timer *tm = l->heap[i];

    while (i > 0 && before(tm, l->heap[(i - 1) / 2])) {
        heap_set(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(l, i, tm);
}

static void sift_down(struct ap_httpc_loop *l, size_t i)
{
    struct ap_httpc_timer *tm = l->heap[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!before(l->heap[c], tm))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, tm);
}

static void heap_remove(struct ap_httpc_loop *l, struct ap_httpc_timer *tm)
{
    size_t i = tm->idx;
    struct ap_httpc_timer *last = l->heap[--l->nheap];

    atomic_fetch_sub(&l->n_timers, 1);
    if (last == tm)
        return;
    heap_set(l, i, last);
    if (i > 0 && before(last, l->heap[(i - 1) / 2]))
        sift_up(l, i);
    else
        sift_down(l, i);
}

enum ap_err ap_httpc_timer_start(struct ap_httpc_loop *l, int64_t due_ns, ap_httpc_timer_fn fn,
                                 void *arg, struct ap_httpc_timer **out)
{
    struct ap_httpc_timer *tm;

    on_loop_or_die(l, "ap_httpc_timer_start");
    if (l->closing)
        return AP_EBUSY;
    if (l->nheap == l->capheap) {
        l->capheap = l->capheap ? 2 * l->capheap : 64;
        l->heap = ap_xrealloc(l->heap, l->capheap * sizeof(*l->heap));
    }
    tm = ap_xmalloc(sizeof(*tm));
    *tm = (struct ap_httpc_timer){.due_ns = due_ns, .seq = l->seq++, .fn = fn, .arg = arg};
    heap_set(l, l->nheap++, tm);
    sift_up(l, tm->idx);
    atomic_fetch_add(&l->n_timers, 1);
    if (out)
        *out = tm;
    return AP_OK;
}

void ap_httpc_timer_stop(struct ap_httpc_loop *l, struct ap_httpc_timer *tm)
{
    on_loop_or_die(l, "ap_httpc_timer_stop");
    if (!tm)
        return;
    heap_remove(l, tm);
    free(tm);
}

/* Runs the timers due now (all of them, canceled, when all is set). */
static void run_timers(struct ap_httpc_loop *l, bool all)
{
    int64_t now = ap_clock_mono_ns();

    while (l->nheap > 0 && (all || l->heap[0]->due_ns <= now)) {
        struct ap_httpc_timer *tm = l->heap[0];
        ap_httpc_timer_fn fn = tm->fn;
        void *arg = tm->arg;
        heap_remove(l, tm);
        free(tm);
        fn(arg, all);
    }
}

/* ---- requests ------------------------------------------------------------ */

static char *copy_bytes(const char *p, size_t n)
{
    char *c = ap_xmalloc(n + 1);

    memcpy(c, p, n);
    c[n] = '\0';
    return c;
}

static struct ap_httpc_xfer *xfer_new(const struct ap_httpc_req *req,
                                      const struct ap_httpc_req_opts *opts, ap_httpc_done_fn done,
                                      void *arg)
{
    struct ap_httpc_xfer *x = ap_xcalloc(1, sizeof(*x));
    size_t n = 0;

    x->method = ap_xstrdup(req->method ? req->method : "GET");
    x->url = ap_xstrdup(req->url);
    x->body = req->body ? copy_bytes(req->body, req->body_len) : NULL;
    while (req->headers && req->headers[n])
        n++;
    x->headers = ap_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        x->headers[i] = ap_xstrdup(req->headers[i]);
    x->req = (struct ap_httpc_req){.method = x->method,
                                   .url = x->url,
                                   .headers = (const char *const *)x->headers,
                                   .body = x->body,
                                   .body_len = req->body ? req->body_len : 0};
    if (opts)
        x->opts = *opts;
    x->done = done;
    x->arg = arg;
    return x;
}

static void xfer_free(struct ap_httpc_xfer *x)
{
    for (size_t i = 0; x->headers && x->headers[i]; i++)
        free(x->headers[i]);
    free(x->headers);
    free(x->method);
    free(x->url);
    if (x->body) /* may hold credentials (a token request) */
        memset(x->body, 0, x->req.body_len);
    free(x->body);
    ap_httpc_xstate_cleanup(&x->x);
    free(x);
}

static void list_add(struct ap_httpc_xfer **head, struct ap_httpc_xfer *x)
{
    x->prev = NULL;
    x->next = *head;
    if (*head)
        (*head)->prev = x;
    *head = x;
}

static void list_del(struct ap_httpc_xfer **head, struct ap_httpc_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        *head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->next = x->prev = NULL;
}

static CURL *easy_get(struct ap_httpc_loop *l)
{
    return l->npool > 0 ? l->pool[--l->npool] : curl_easy_init();
}

static void easy_put(struct ap_httpc_loop *l, CURL *h)
{
    if (!h)
        return;
    curl_easy_reset(h); /* no pointer into a freed transfer stays set */
    if (l->npool < EASY_POOL_MAX)
        l->pool[l->npool++] = h;
    else
        curl_easy_cleanup(h);
}

/* Sets x up on an easy handle and hands it to libcurl. */
static enum ap_err attach(struct ap_httpc_loop *l, struct ap_httpc_xfer *x)
{
    struct ap_httpc_per per = {.connect_timeout_ms = x->opts.connect_timeout_ms,
                               .total_timeout_ms = x->opts.total_timeout_ms,
                               .fresh_connect = x->opts.fresh_connect};

    if (!(x->h = easy_get(l)))
        return AP_EINTERNAL;
    if (!ap_httpc_easy_setup(x->h, &l->conf, &per, &x->req, &x->x) ||
        curl_easy_setopt(x->h, CURLOPT_PRIVATE, x) != CURLE_OK)
        return AP_EINVAL;
    if (curl_multi_add_handle(l->m, x->h) != CURLM_OK)
        return AP_EINTERNAL;
    x->attached = true;
    list_add(&l->live, x);
    atomic_fetch_add(&l->n_started, 1);
    atomic_fetch_add(&l->n_in_flight, 1);
    return AP_OK;
}

/* Gives x's outcome to its owner and frees it. */
static void complete(struct ap_httpc_loop *l, struct ap_httpc_xfer *x, CURLcode rc, enum ap_err err,
                     bool canceled)
{
    struct ap_httpc_resp resp = {.canceled = canceled};
    long conns = 0;

    if (x->h) {
        curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &conns);
        atomic_fetch_add(&l->n_conns, (uint64_t)conns);
        ap_httpc_easy_finish(x->h, &x->x, &x->req, rc, err, &resp);
    } else {
        snprintf(resp.errmsg, sizeof(resp.errmsg), "%s: %s", x->method,
                 canceled ? "canceled before it started" : "could not be started");
        resp.body = ap_xstrdup("");
    }
    atomic_fetch_add(canceled ? &l->n_aborted : &l->n_completed, 1);
    x->done(x->arg, err, &resp);
    ap_httpc_resp_cleanup(&resp);
    easy_put(l, x->h);
    x->h = NULL;
    xfer_free(x);
}

enum ap_err ap_httpc_start(struct ap_httpc_loop *l, const struct ap_httpc_req *req,
                           const struct ap_httpc_req_opts *opts, ap_httpc_done_fn done, void *arg,
                           struct ap_httpc_xfer **out)
{
    struct ap_httpc_xfer *x;
    enum ap_err err;

    on_loop_or_die(l, "ap_httpc_start");
    if (l->closing)
        return AP_EBUSY;
    if (!req->url)
        return AP_EINVAL;
    x = xfer_new(req, opts, done, arg);
    if ((err = attach(l, x)) != AP_OK) {
        easy_put(l, x->h);
        xfer_free(x);
        return err;
    }
    if (out)
        *out = x;
    return AP_OK;
}

/* ap_httpc_submit's second half, on the loop. */
static void start_posted(void *arg)
{
    struct ap_httpc_xfer *x = arg;
    struct ap_httpc_loop *l = current;
    enum ap_err err;

    if (l->closing) {
        complete(l, x, CURLE_ABORTED_BY_CALLBACK, AP_EUNAVAIL, true);
        return;
    }
    if ((err = attach(l, x)) != AP_OK) {
        easy_put(l, x->h);
        x->h = NULL;
        complete(l, x, CURLE_FAILED_INIT, err, false);
    }
}

enum ap_err ap_httpc_submit(struct ap_httpc_loop *l, const struct ap_httpc_req *req,
                            const struct ap_httpc_req_opts *opts, ap_httpc_done_fn done, void *arg)
{
    struct ap_httpc_xfer *x;

    if (!req->url)
        return AP_EINVAL;
    x = xfer_new(req, opts, done, arg);
    if (ap_httpc_loop_post(l, start_posted, x) != AP_OK) {
        xfer_free(x);
        return AP_EBUSY;
    }
    return AP_OK;
}

void ap_httpc_abort(struct ap_httpc_loop *l, struct ap_httpc_xfer *x)
{
    on_loop_or_die(l, "ap_httpc_abort");
    if (!x || !x->attached)
        return;
    curl_multi_remove_handle(l->m, x->h);
    x->attached = false;
    atomic_fetch_sub(&l->n_in_flight, 1);
    list_del(&l->live, x);
    list_add(&l->aborted, x);
}

/* Completes the aborted transfers (their done runs on this turn, never
 * inside ap_httpc_abort). */
static void run_aborted(struct ap_httpc_loop *l)
{
    while (l->aborted) {
        struct ap_httpc_xfer *x = l->aborted;
        list_del(&l->aborted, x);
        complete(l, x, CURLE_ABORTED_BY_CALLBACK, AP_EUNAVAIL, true);
    }
}

/* Completes the transfers libcurl finished. */
static void reap(struct ap_httpc_loop *l)
{
    int left = 0;
    CURLMsg *msg;

    while ((msg = curl_multi_info_read(l->m, &left))) {
        struct ap_httpc_xfer *x;
        char *priv = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        x = (struct ap_httpc_xfer *)priv;
        curl_multi_remove_handle(l->m, x->h);
        x->attached = false;
        atomic_fetch_sub(&l->n_in_flight, 1);
        list_del(&l->live, x);
        complete(l, x, rc, ap_httpc_map_result(rc, &x->x), false);
    }
}

/* Lets libcurl act on its timeout once it has passed (new transfers start so). */
static void curl_timeout(struct ap_httpc_loop *l)
{
    long ms = -1;
    int running = 0;

    curl_multi_timeout(l->m, &ms);
    if (ms == 0)
        curl_multi_socket_action(l->m, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* libcurl's socket callback: keeps the epoll set to what libcurl waits for
 * (its type is libcurl's: socketp cannot be const). */
// cppcheck-suppress constParameter
static int on_socket(CURL *h, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct ap_httpc_loop *l = userp;
    struct epoll_event ev = {.data.fd = s};

    (void)h;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(l->m, s, NULL);
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (socketp || epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev) != 0)
        epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev); /* known, or a reused descriptor */
    curl_multi_assign(l->m, s, l);
    return 0;
}

/* ---- the thread ---------------------------------------------------------- */

/* How long the loop may sleep now, in ms. */
static int wait_ms(struct ap_httpc_loop *l)
{
    long curl_ms = -1;
    int64_t ms = AP_HTTPC_LOOP_TICK_MS;

    if (l->aborted || posts_pending(l))
        return 0;
    curl_multi_timeout(l->m, &curl_ms);
    if (curl_ms >= 0 && curl_ms < ms)
        ms = curl_ms;
    if (l->nheap > 0) {
        int64_t left = l->heap[0]->due_ns - ap_clock_mono_ns();
        left = left <= 0 ? 0 : (left + AP_NS_PER_MS - 1) / AP_NS_PER_MS;
        if (left < ms)
            ms = left;
    }
    return (int)ms;
}

/* Sleeps until something is ready, then hands the ready sockets to libcurl. */
static void wait_and_act(struct ap_httpc_loop *l)
{
    struct epoll_event ev[MAX_EVENTS];
    int n = epoll_wait(l->epfd, ev, MAX_EVENTS, wait_ms(l)), running = 0;
    uint64_t count;

    for (int i = 0; i < n; i++) {
        int flags = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                    ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                    ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        if (ev[i].data.fd == l->evfd) {
            if (read(l->evfd, &count, sizeof(count)) < 0) {
                /* EAGAIN: another turn drained it */
            }
            continue;
        }
        curl_multi_socket_action(l->m, ev[i].data.fd, flags, &running);
    }
}

/* At shutdown: every request in flight is aborted, every timer canceled. */
static void sweep(struct ap_httpc_loop *l)
{
    while (l->live)
        ap_httpc_abort(l, l->live);
    run_timers(l, true);
}

static void *loop_main(void *arg)
{
    struct ap_httpc_loop *l = arg;
    bool stopping;

    current = l;
    pthread_setname_np(pthread_self(), l->name);
    for (;;) {
        stopping = run_posts(l);
        if (stopping)
            sweep(l);
        run_timers(l, false);
        curl_timeout(l);
        reap(l);
        run_aborted(l);
        if (stopping && !l->live && !l->aborted && l->nheap == 0 && !posts_pending(l))
            break;
        wait_and_act(l);
        reap(l);
    }
    current = NULL;
    return NULL;
}

static void set_multi(struct ap_httpc_loop *l, const struct ap_httpc_loop_opts *o)
{
    long host = o && o->max_host_connections > 0 ? o->max_host_connections : 256;
    long total = o && o->max_total_connections > 0 ? o->max_total_connections : 1024;
    long idle = o && o->max_idle_connections > 0 ? o->max_idle_connections : 256;

    curl_multi_setopt(l->m, CURLMOPT_MAX_HOST_CONNECTIONS, host);
    curl_multi_setopt(l->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, total);
    curl_multi_setopt(l->m, CURLMOPT_MAXCONNECTS, idle);
    curl_multi_setopt(l->m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(l->m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(l->m, CURLMOPT_SOCKETDATA, l);
}

/* The epoll set and the eventfd in it; false when the system refuses. */
static bool open_fds(struct ap_httpc_loop *l)
{
    struct epoll_event ev = {.events = EPOLLIN};

    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev.data.fd = l->evfd;
    return l->epfd >= 0 && l->evfd >= 0 && epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) == 0;
}

static void close_fds(struct ap_httpc_loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->evfd >= 0)
        close(l->evfd);
}

struct ap_httpc_loop *ap_httpc_loop_new(const struct ap_httpc_loop_opts *opts, char *err,
                                        size_t errlen)
{
    struct ap_httpc_loop *l;

    if (ap_httpc_global_init() != AP_OK) {
        snprintf(err, errlen, "libcurl failed to initialise");
        return NULL;
    }
    l = ap_xcalloc(1, sizeof(*l));
    if (!open_fds(l) || !(l->m = curl_multi_init())) {
        snprintf(err, errlen, "the HTTP client's event loop could not be set up");
        close_fds(l);
        free(l);
        return NULL;
    }
    set_multi(l, opts);
    ap_httpc_conf_init(&l->conf, opts ? &opts->http : NULL);
    snprintf(l->name, sizeof(l->name), "%s",
             opts && opts->thread_name ? opts->thread_name : "httpc");
    pthread_mutex_init(&l->mu, NULL);
    if (pthread_create(&l->th, NULL, loop_main, l) != 0) {
        snprintf(err, errlen, "could not start the HTTP client thread");
        pthread_mutex_destroy(&l->mu);
        ap_httpc_conf_cleanup(&l->conf);
        curl_multi_cleanup(l->m);
        close_fds(l);
        free(l);
        return NULL;
    }
    return l;
}

void ap_httpc_loop_free(struct ap_httpc_loop *l)
{
    if (!l)
        return;
    if (ap_httpc_loop_on_thread(l)) {
        ap_log_error("httpc.loop", "msg=\"ap_httpc_loop_free called on the loop thread\"");
        abort();
    }
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    wake(l);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    while (l->npool > 0)
        curl_easy_cleanup(l->pool[--l->npool]);
    curl_multi_cleanup(l->m);
    close_fds(l);
    free(l->heap);
    ap_httpc_conf_cleanup(&l->conf);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void ap_httpc_loop_stats(struct ap_httpc_loop *l, struct ap_httpc_loop_stats *out)
{
    out->started = atomic_load(&l->n_started);
    out->completed = atomic_load(&l->n_completed);
    out->aborted = atomic_load(&l->n_aborted);
    out->in_flight = atomic_load(&l->n_in_flight);
    out->timers = atomic_load(&l->n_timers);
    out->connections_opened = atomic_load(&l->n_conns);
}
