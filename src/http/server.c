/*
 * server.c — the h2o event loops: one listening socket bound in
 * ap_http_server_new(), one evloop per thread accepting on its own dup of
 * it, HTTP/1.1 keep-alive through h2o_accept(), and graceful shutdown.
 *
 * Shutdown: ap_http_server_stop() only sets an atomic flag and writes a byte
 * into each loop's stop pipe (async-signal-safe). Each loop then closes its
 * listener, marks its context shutting down (h2o turns keep-alive off for
 * requests parsed from then on; we add "Connection: close" to every response
 * we send), and drops its idle-connection timeout to zero so idle
 * keep-alive connections are closed by h2o itself. The loop runs until its
 * last connection is gone, or the grace period ends: then deferred requests
 * still pending are answered 503 and the loop gets a short moment to flush.
 *
 * Errors h2o emits on its own (413 for a too-large Content-Length, 400 for a
 * broken request) go through the fallback pathconf; a filter there rewrites
 * their text/plain bodies into our JSON error shape.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/http_int.h"

#define FLUSH_MS 250 /* after the grace period, time to flush the forced 503s */

struct json_error_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
};

/* ---- rewriting h2o's own error responses into JSON ----------------------- */

static void json_error_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs,
                               size_t bufcnt, h2o_send_state_t state)
{
    struct json_error_ostream *o = (void *)self;
    bool head = h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"));
    if (!o->sent && !head) {
        o->sent = true;
        h2o_ostream_send_next(self, req, &o->body, 1, state);
        return;
    }
    h2o_ostream_send_next(self, req, NULL, 0, state);
}

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    if (req->res.status >= 400 && !http_req_of(req)) {
        struct http_loop *lp = H2O_STRUCT_FROM_MEMBER(struct http_loop, ctx, req->conn->ctx);
        char msg[96], id[17];
        if (req->res.status == 413)
            snprintf(msg, sizeof(msg), "request body exceeds %zu bytes", lp->srv->max_body);
        else
            snprintf(msg, sizeof(msg), "%s", req->res.reason ? req->res.reason : "error");
        struct json_error_ostream *o = (void *)h2o_add_ostream(req, sizeof(*o), slot);
        o->super.do_send = json_error_do_send;
        o->body = http_error_json(&req->pool, http_status_code_word(req->res.status), msg, NULL);
        o->sent = false;
        req->res.content_length = o->body.len;
        req->res.headers = (h2o_headers_t){NULL, 0, 0};
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("application/json"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("no-store"));
        http_new_request_id(id);
        h2o_iovec_t v = h2o_strdup(&req->pool, id, 16);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                              v.base, v.len);
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* ---- listening socket ---------------------------------------------------- */

/*
 * A socket bound to host:port. With reuseport it joins an SO_REUSEPORT group
 * and listens; without, it only binds (the probe: see ap_http_server_new).
 */
static int open_socket(const char *host, int port, bool reuseport, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[16];
    int fd = -1, one = 1, rc;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
        snprintf(err, errlen, "cannot resolve %s:%d: %s", host, port, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        (reuseport && (listen(fd, SOMAXCONN) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0))) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (void *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- h2o configuration --------------------------------------------------- */

static void setup_h2o(struct ap_http_server *srv)
{
    h2o_globalconf_t *g = &srv->globalconf;
    h2o_config_init(g);
    g->server_name = h2o_iovec_init(H2O_STRLIT(""));
    /* h2o refuses a chunked body of exactly its limit (>=) and a declared
     * length above it (>): one byte of slack makes max_body inclusive for
     * both, and dispatch refuses the max_body + 1 case itself */
    g->max_request_entity_size = srv->max_body + 1;
    g->http1.upgrade_to_http2 = 0;
    srv->hostconf = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *root = h2o_config_register_path(srv->hostconf, "/", 0);
    h2o_handler_t *h = h2o_create_handler(root, sizeof(*h));
    h->on_req = http_on_req;
    h2o_pathconf_t *pcs[] = {root, &srv->hostconf->fallback_path};
    for (size_t i = 0; i < 2; i++) {
        h2o_logger_t *lg = h2o_create_logger(pcs[i], sizeof(*lg));
        lg->log_access = http_on_dispose;
    }
    h2o_filter_t *f = h2o_create_filter(&srv->hostconf->fallback_path, sizeof(*f));
    f->on_setup_ostream = json_error_setup;
}

static struct http_hub *hub_new(void)
{
    struct http_hub *hub = ap_xcalloc(1, sizeof(*hub));
    pthread_mutex_init(&hub->mu, NULL);
    hub->alive = true;
    hub->refs = 1;
    return hub;
}

static bool loops_init(struct ap_http_server *srv, char *err, size_t errlen)
{
    srv->loops = ap_xcalloc((size_t)srv->nloops, sizeof(*srv->loops));
    for (int i = 0; i < srv->nloops; i++) {
        struct http_loop *lp = &srv->loops[i];
        lp->srv = srv;
        lp->idx = i;
        lp->stop_pipe[0] = lp->stop_pipe[1] = -1;
        lp->free_slot = UINT32_MAX;
        lp->listen_fd = open_socket(srv->host, srv->port, true, err, errlen);
        if (lp->listen_fd < 0)
            return false;
        if (pipe2(lp->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
            snprintf(err, errlen, "cannot set up loop %d: %s", i, strerror(errno));
            return false;
        }
    }
    return true;
}

/* Parses the proxy and public-URL lists and copies the any-host paths. */
static bool edge_init(struct ap_http_server *srv, const struct ap_http_config *cfg, char *err,
                      size_t errlen)
{
    char why[200];
    if (http_cidrs_parse(cfg->trusted_proxies, &srv->trusted, why, sizeof(why)) != AP_OK) {
        snprintf(err, errlen, "bad trusted-proxies: %s", why);
        return false;
    }
    if (http_origins_parse(cfg->public_urls, &srv->public_urls, why, sizeof(why)) != AP_OK) {
        snprintf(err, errlen, "bad public-url: %s", why);
        return false;
    }
    size_t n = 0;
    while (cfg->any_host_paths && cfg->any_host_paths[n])
        n++;
    if (n) {
        srv->any_host_paths = ap_xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            srv->any_host_paths[i] = ap_xstrdup(cfg->any_host_paths[i]);
    }
    return true;
}

struct ap_http_server *ap_http_server_new(const struct ap_http_config *cfg,
                                          const struct ap_router *router, char *err, size_t errlen)
{
    struct ap_http_server *srv = ap_xcalloc(1, sizeof(*srv));
    const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    srv->host = ap_xstrdup(host);
    srv->router = router;
    srv->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
    srv->grace_ms = cfg->grace_ms > 0 ? cfg->grace_ms : 0;
    srv->access_log = cfg->access_log;
    srv->gzip_json = cfg->gzip_json;
    srv->metrics = cfg->metrics;
    srv->nloops = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (srv->nloops <= 0)
        srv->nloops = 1;
    if (srv->nloops > 256)
        srv->nloops = 256;
    if (!edge_init(srv, cfg, err, errlen))
        goto fail;
    if (cfg->static_root) {
        srv->statics =
            http_static_new(cfg->static_root, cfg->static_prefix, cfg->static_csp, err, errlen);
        if (!srv->statics)
            goto fail;
    }
    /*
     * Each loop gets its own SO_REUSEPORT listener, so the kernel spreads
     * connections evenly over the loops (one shared socket let one loop grab
     * most of a burst). The port must be free first: a probe bound without
     * SO_REUSEPORT fails if anyone holds it, even another SO_REUSEPORT group
     * such as a second appointd, and it turns port 0 into a real port.
     */
    int probe = open_socket(host, cfg->port, false, err, errlen);
    if (probe < 0)
        goto fail;
    srv->port = bound_port(probe);
    close(probe);
    if (!loops_init(srv, err, errlen))
        goto fail;
    /* a client that goes away mid-write must not kill the process */
    signal(SIGPIPE, SIG_IGN);
    srv->hub = hub_new();
    setup_h2o(srv);
    http_stats_register(srv);
    return srv;
fail:
    ap_http_server_free(srv);
    return NULL;
}

int ap_http_server_port(const struct ap_http_server *s)
{
    return s ? s->port : -1;
}

void ap_http_server_stop(struct ap_http_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stop_requested, 1);
    for (int i = 0; i < s->nloops; i++) {
        char c = 's';
        ssize_t rc = write(s->loops[i].stop_pipe[1], &c, 1);
        (void)rc; /* a full pipe already carries a stop */
    }
}

/* ---- per-loop life ------------------------------------------------------- */

static void on_conn_close(void *data)
{
    struct http_loop *lp = data;
    lp->nconns--;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct http_loop *lp = listener->data;
    if (err)
        return;
    for (int i = 0; i < 32; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            return;
        lp->nconns++;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = lp;
        h2o_accept(&lp->accept_ctx, sock);
    }
}

static void begin_shutdown(struct http_loop *lp)
{
    if (lp->stopping)
        return;
    lp->stopping = true;
    lp->deadline_ns = ap_clock_mono_ns() + (int64_t)lp->srv->grace_ms * 1000000;
    if (lp->listener) {
        h2o_socket_read_stop(lp->listener);
        h2o_socket_close(lp->listener);
        lp->listener = NULL;
        lp->listen_fd = -1;
    }
    /* h2o turns keep-alive off for requests parsed from now on. (Not
     * h2o_context_request_shutdown(): it only adds an HTTP/2 GOAWAY timer.) */
    lp->ctx.shutdown_requested = 1;
    /* idle keep-alive connections wait on req_timeout: expire them now */
    lp->ctx.http1.req_timeout.timeout = 0;
}

static void on_stop_pipe(h2o_socket_t *sock, const char *err)
{
    struct http_loop *lp = sock->data;
    h2o_buffer_consume(&sock->input, sock->input->size);
    if (err || atomic_load(&lp->srv->stop_requested))
        begin_shutdown(lp);
}

static void loop_setup(struct http_loop *lp)
{
    struct ap_http_server *srv = lp->srv;
    lp->loop = h2o_evloop_create();
    h2o_context_init(&lp->ctx, lp->loop, &srv->globalconf);
    lp->accept_ctx.ctx = &lp->ctx;
    lp->accept_ctx.hosts = srv->globalconf.hosts;
    lp->listener = h2o_evloop_socket_create(lp->loop, lp->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    lp->listener->data = lp;
    h2o_socket_read_start(lp->listener, on_accept);
    lp->stop_sock = h2o_evloop_socket_create(lp->loop, lp->stop_pipe[0], 0);
    lp->stop_pipe[0] = -1; /* owned by stop_sock now */
    lp->stop_sock->data = lp;
    h2o_socket_read_start(lp->stop_sock, on_stop_pipe);
    h2o_multithread_register_receiver(lp->ctx.queue, &lp->replies, http_on_replies);
    http_delay_init(lp);
}

/* Returns how long the next poll may wait, or -1 when the loop is done. */
static int32_t loop_wait(struct http_loop *lp)
{
    if (!lp->stopping)
        return INT32_MAX;
    if (lp->nconns == 0)
        return -1;
    int64_t left = (lp->deadline_ns - ap_clock_mono_ns()) / 1000000;
    if (left > 0)
        return (int32_t)(left < 100 ? left : 100);
    if (!lp->forced) {
        lp->forced = true;
        http_force_pending(lp);
        lp->deadline_ns = ap_clock_mono_ns() + (int64_t)FLUSH_MS * 1000000;
        return 10;
    }
    ap_log_warn("http.shutdown_forced", "loop=%d open_conns=%zu", lp->idx, lp->nconns);
    return -1;
}

/*
 * Loop teardown, on the loop's own thread once it stopped running and was
 * marked dead: no reply can be posted to it any more, and those already
 * posted are dropped here.
 */
static void loop_teardown(struct http_loop *lp)
{
    if (!lp->loop)
        return;
    http_on_replies(&lp->replies, &lp->replies._messages);
    h2o_multithread_unregister_receiver(lp->ctx.queue, &lp->replies);
    if (lp->nconns > 0) {
        /* connections left by a forced stop still hang on the context's
         * timeouts; h2o cannot dispose it under them, so it is left to the
         * process exit (logged by loop_wait) rather than crash here */
        lp->loop = NULL;
        http_stats_cleanup(lp);
        return;
    }
    if (lp->listener)
        h2o_socket_close(lp->listener);
    lp->listener = NULL;
    lp->listen_fd = -1;
    h2o_socket_close(lp->stop_sock);
    lp->stop_sock = NULL;
    http_delay_dispose(lp);
    /* h2o's HTTP/2 shutdown timer, should anything have linked it */
    if (h2o_timeout_is_linked(&lp->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&lp->ctx.http2._graceful_shutdown_timeout);
    h2o_multithread_queue_t *queue = lp->ctx.queue;
    h2o_context_dispose(&lp->ctx);
    free(queue);                 /* h2o 2.2.5's evloop destroy_queue does not free it */
    h2o_evloop_run(lp->loop, 0); /* one more turn frees the sockets closed above */
    h2o_evloop_destroy(lp->loop);
    lp->loop = NULL;
    http_stats_cleanup(lp);
}

/*
 * h2o keeps per-thread free lists (socket buffers, pool chunks) that it never
 * releases when a thread ends; empty them before a loop thread exits. The
 * pool chunks are reached by allocating them into a scratch pool and freeing
 * its chunk list by hand (h2o 2.2.5: a chunk starts with its next pointer
 * and is a plain malloc block).
 */
static void drain_thread_caches(void)
{
    h2o_mem_recycle_t *a = &h2o_socket_buffer_prototype.allocator;
    while (a->cnt > 0)
        free(h2o_mem_alloc_recycle(a, 1));
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    for (int i = 0; i < 128; i++)
        h2o_mem_alloc_pool(&pool, 1000); /* 4 per chunk: pulls 32 chunks */
    struct chunk {
        struct chunk *next;
    } *c = (void *)pool.chunks;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

static void *loop_main(void *arg)
{
    struct http_loop *lp = arg;
    int32_t wait;
    loop_setup(lp);
    if (atomic_load(&lp->srv->stop_requested))
        begin_shutdown(lp);
    while ((wait = loop_wait(lp)) >= 0)
        h2o_evloop_run(lp->loop, wait);
    /* from now on ap_http_reply() drops replies for this loop */
    pthread_mutex_lock(&lp->srv->hub->mu);
    lp->dead = true;
    pthread_mutex_unlock(&lp->srv->hub->mu);
    loop_teardown(lp);
    drain_thread_caches();
    return NULL;
}

enum ap_err ap_http_server_start(struct ap_http_server *s)
{
    if (!s || s->ran)
        return AP_EINVAL;
    s->ran = true;
    ap_log_info("http.listen", "addr=%s:%d threads=%d", s->host, s->port, s->nloops);
    for (; s->started < s->nloops; s->started++)
        if (pthread_create(&s->loops[s->started].tid, NULL, loop_main, &s->loops[s->started]) != 0)
            break;
    if (s->started < s->nloops) {
        ap_http_server_stop(s);
        return AP_EINTERNAL;
    }
    return AP_OK;
}

enum ap_err ap_http_server_join(struct ap_http_server *s)
{
    if (!s || !s->ran || s->started < 0)
        return AP_EINVAL;
    for (int i = 0; i < s->started; i++)
        pthread_join(s->loops[i].tid, NULL);
    bool all = s->started == s->nloops;
    s->started = -1; /* joined */
    pthread_mutex_lock(&s->hub->mu);
    s->hub->alive = false;
    pthread_mutex_unlock(&s->hub->mu);
    ap_log_info("http.stopped", "addr=%s:%d", s->host, s->port);
    return all ? AP_OK : AP_EINTERNAL;
}

enum ap_err ap_http_server_run(struct ap_http_server *s)
{
    enum ap_err err = ap_http_server_start(s);
    if (err == AP_EINVAL)
        return err;
    enum ap_err jerr = ap_http_server_join(s);
    return err ? err : jerr;
}

void ap_http_server_free(struct ap_http_server *s)
{
    if (!s)
        return;
    for (int i = 0; s->loops && i < s->nloops; i++) {
        struct http_loop *lp = &s->loops[i];
        if (lp->loop)
            loop_teardown(lp);
        free(lp->slots);
        if (lp->listen_fd >= 0)
            close(lp->listen_fd);
        for (int j = 0; j < 2; j++)
            if (lp->stop_pipe[j] >= 0)
                close(lp->stop_pipe[j]);
    }
    free(s->loops);
    if (s->hub) {
        pthread_mutex_lock(&s->hub->mu);
        s->hub->alive = false;
        pthread_mutex_unlock(&s->hub->mu);
        http_hub_release(s->hub);
        h2o_config_dispose(&s->globalconf);
    }
    http_static_free(s->statics);
    for (size_t i = 0; s->any_host_paths && s->any_host_paths[i]; i++)
        free(s->any_host_paths[i]);
    free(s->any_host_paths);
    free(s->host);
    free(s);
}
