/*
 * testsrv.c — the HTTP/1.1 server the httpc unit tests run inside the test
 * process (plain sockets, one thread per connection, 127.0.0.1 port 0). It
 * answers every request with the canned reply in srv, and records what the
 * last request looked like and how many requests and connections it saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testsrv.h"

#define REQ_MAX (2 * 1024 * 1024)

struct server srv;

/* Reads one request into srv.head / srv.body; false at EOF or error. */
static bool read_request(int fd)
{
    char *buf = malloc(REQ_MAX + 1), *end = NULL;
    size_t len = 0, want = 0, head_len = 0;
    ssize_t r;
    bool ok = false;

    for (;;) {
        if (end && len >= want)
            break;
        if (len >= REQ_MAX || (r = read(fd, buf + len, REQ_MAX - len)) <= 0)
            goto out;
        len += (size_t)r;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            head_len = (size_t)(end - buf);
            want = head_len + 4 + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
    }
    pthread_mutex_lock(&srv.mu);
    snprintf(srv.head, sizeof(srv.head), "%.*s", (int)head_len, buf);
    free(srv.body);
    srv.body_len = want - head_len - 4;
    srv.body = malloc(srv.body_len + 1);
    memcpy(srv.body, end + 4, srv.body_len);
    srv.body[srv.body_len] = '\0';
    srv.requests++;
    pthread_mutex_unlock(&srv.mu);
    ok = true;
out:
    free(buf);
    return ok;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* the client may have left */
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Sends the canned reply; false when the connection must close after it. */
static bool send_reply(int fd)
{
    size_t n = srv.big_body ? srv.big_body : strlen(srv.reply_body ? srv.reply_body : "");
    char *body = malloc(n + 1), head[1024];

    if (srv.big_body)
        memset(body, 'x', n);
    else
        memcpy(body, srv.reply_body ? srv.reply_body : "", n);
    if (srv.delay_ms > 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, srv.delay_ms); /* returns early when the client hangs up */
    }
    if (srv.no_length)
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%sConnection: close\r\n\r\n", srv.status,
                 srv.reply_headers ? srv.reply_headers : "");
    else
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\n\r\n", srv.status,
                 srv.reply_headers ? srv.reply_headers : "", n);
    write_all(fd, head, strlen(head));
    write_all(fd, body, n);
    free(body);
    return !srv.no_length;
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;

    while (read_request(fd) && !srv.drop && send_reply(fd))
        ;
    shutdown(fd, SHUT_RDWR);
    return NULL;
}

static void *accept_loop(void *arg)
{
    for (;;) {
        int fd = accept(srv.listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_mutex_lock(&srv.mu);
        if (srv.conns == MAX_CONNS) {
            pthread_mutex_unlock(&srv.mu);
            close(fd);
            continue;
        }
        srv.conn_fds[srv.conns] = fd;
        pthread_create(&srv.conn_threads[srv.conns], NULL, serve_conn, (void *)(intptr_t)fd);
        srv.conns++;
        pthread_mutex_unlock(&srv.mu);
    }
}

/* Binds 127.0.0.1 port 0; returns the fd and sets *port. */
int listen_any(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

int server_start(void **state)
{
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    srv.status = 200;
    srv.reply_body = "{\"ok\":true}";
    srv.listen_fd = listen_any(&srv.port);
    pthread_create(&srv.acceptor, NULL, accept_loop, NULL);
    return 0;
}

int server_stop(void **state)
{
    shutdown(srv.listen_fd, SHUT_RDWR);
    pthread_join(srv.acceptor, NULL);
    close(srv.listen_fd);
    for (int i = 0; i < srv.conns; i++) {
        shutdown(srv.conn_fds[i], SHUT_RDWR);
        pthread_join(srv.conn_threads[i], NULL);
        close(srv.conn_fds[i]);
    }
    free(srv.body);
    pthread_mutex_destroy(&srv.mu);
    return 0;
}

char *url(const char *path)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", srv.port, path);
    return buf;
}

/* True when the last request's head has exactly this line. */
bool saw_line(const char *line)
{
    size_t n = strlen(line);

    for (const char *p = srv.head; (p = strstr(p, line)); p += n) {
        bool starts = p == srv.head || p[-1] == '\n';
        bool ends = p[n] == '\0' || p[n] == '\r';
        if (starts && ends)
            return true;
    }
    return false;
}

int server_requests(void)
{
    int n;

    pthread_mutex_lock(&srv.mu);
    n = srv.requests;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

int server_conns(void)
{
    int n;

    pthread_mutex_lock(&srv.mu);
    n = srv.conns;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

void no_proxy_env(void)
{
    const char *proxies[] = {"http_proxy", "https_proxy", "all_proxy", "HTTPS_PROXY", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
}
