/*
 * standin.c — the ServiceTitan stand-in of the titan unit tests (see
 * standin.h): plain sockets, one thread per connection, a script of replies.
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
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "standin.h"

struct standin si;

static bool read_req(FILE *in, char *head, size_t hn, char *body, size_t bn)
{
    char line[2048];
    size_t used = 0;
    long clen = 0;

    head[0] = body[0] = '\0';
    for (;;) {
        if (!fgets(line, sizeof(line), in))
            return false;
        if (strcmp(line, "\r\n") == 0)
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = atol(line + 15);
        if (used + strlen(line) < hn) {
            memcpy(head + used, line, strlen(line) + 1);
            used += strlen(line);
        }
    }
    for (long i = 0; i < clen; i++) {
        int ch = fgetc(in);
        if (ch == EOF)
            return false;
        if ((size_t)i + 1 < bn) {
            body[i] = (char)ch;
            body[i + 1] = '\0';
        }
    }
    return true;
}

/* In first_call_429 mode: whether this request is the first with its token. */
static bool first_with_token(const char *head)
{
    const char *a = strstr(head, "Authorization: Bearer ");
    char tok[64];

    if (!si.first_call_429 || !a)
        return false;
    snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(a + 22, "\r\n"), a + 22);
    for (int i = 0; i < si.ntokens; i++)
        if (strcmp(si.tokens[i], tok) == 0)
            return false;
    if (si.ntokens < 32)
        snprintf(si.tokens[si.ntokens++], sizeof(si.tokens[0]), "%s", tok);
    return true;
}

/* The reply to a token request (under the lock; may wait at the gate). */
static struct si_reply token_reply(char *buf, size_t n)
{
    si.token_requests++;
    while (si.token_gate && !si.token_open) {
        si.token_waiting = true;
        pthread_cond_broadcast(&si.cv);
        pthread_cond_wait(&si.cv, &si.mu);
    }
    si.token_waiting = false;
    if (si.token_drops > 0) {
        si.token_drops--;
        return (struct si_reply){.drop = true};
    }
    if (si.token_reply.status)
        return si.token_reply;
    snprintf(buf, n, "{\"access_token\":\"tok-%d\",\"expires_in\":900,\"token_type\":\"Bearer\"}",
             si.token_requests);
    return (struct si_reply){200, NULL, buf, 0, false};
}

/* The reply to an API request (under the lock); records it. */
static struct si_reply api_reply(const char *head, const char *body)
{
    static const struct si_reply throttled = {
        429, "Retry-After: 1\r\n",
        "{\"title\":\"Rate limit is exceeded. Try again in 1 seconds.\",\"status\":429}", 0, false};
    struct si_reply r = {200, NULL, "{}", 0, false};

    if (si.nseen < SI_MAX_SEEN) {
        snprintf(si.seen[si.nseen], sizeof(si.seen[0]), "%s", head);
        snprintf(si.seen_body[si.nseen], sizeof(si.seen_body[0]), "%s", body);
    }
    si.nseen++;
    pthread_cond_broadcast(&si.cv);
    if (first_with_token(head))
        return throttled;
    if (si.reject_token && strstr(head, si.reject_token))
        return (struct si_reply){401, NULL, "{\"title\":\"Unauthorized\"}", 0, false};
    if (si.next < si.nscript)
        r = si.script[si.next++];
    return r;
}

static void answer(int fd, const struct si_reply *r)
{
    char *out;

    if (r->delay_ms > 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, r->delay_ms); /* returns early when the client hangs up */
    }
    out = ap_xasprintf("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n%s\r\n%s",
                       r->status, strlen(r->body), r->headers ? r->headers : "", r->body);
    if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0) {
        /* the client left: nothing to do */
    }
    free(out);
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    FILE *in = fdopen(dup(fd), "r");
    char head[2048], body[256], tokbuf[128];
    struct si_reply r;

    while (in && read_req(in, head, sizeof(head), body, sizeof(body))) {
        pthread_mutex_lock(&si.mu);
        if (strncmp(head, "POST /connect/token ", 20) == 0)
            r = token_reply(tokbuf, sizeof(tokbuf));
        else
            r = api_reply(head, body);
        pthread_mutex_unlock(&si.mu);
        if (r.drop)
            break;
        answer(fd, &r);
    }
    if (in)
        fclose(in);
    shutdown(fd, SHUT_RDWR);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(si.fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_mutex_lock(&si.mu);
        if (si.conns == SI_MAX_CONNS) {
            pthread_mutex_unlock(&si.mu);
            close(fd);
            continue;
        }
        si.conn_fd[si.conns] = fd;
        pthread_create(&si.conn_th[si.conns], NULL, serve_conn, (void *)(intptr_t)fd);
        si.conns++;
        pthread_mutex_unlock(&si.mu);
    }
}

void si_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);

    memset(&si, 0, sizeof(si));
    pthread_mutex_init(&si.mu, NULL);
    pthread_cond_init(&si.cv, NULL);
    si.fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(si.fd >= 0);
    assert_int_equal(bind(si.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(si.fd, 64), 0);
    getsockname(si.fd, (struct sockaddr *)&a, &al);
    si.port = ntohs(a.sin_port);
    pthread_create(&si.acceptor, NULL, accept_loop, NULL);
}

void si_stop(void)
{
    shutdown(si.fd, SHUT_RDWR);
    pthread_join(si.acceptor, NULL);
    close(si.fd);
    pthread_mutex_lock(&si.mu);
    si.token_open = true; /* nobody stays at the gate */
    pthread_cond_broadcast(&si.cv);
    pthread_mutex_unlock(&si.mu);
    for (int i = 0; i < si.conns; i++) {
        shutdown(si.conn_fd[i], SHUT_RDWR);
        pthread_join(si.conn_th[i], NULL);
        close(si.conn_fd[i]);
    }
    pthread_cond_destroy(&si.cv);
    pthread_mutex_destroy(&si.mu);
}

void si_script(const struct si_reply *r, int n)
{
    pthread_mutex_lock(&si.mu);
    if (n > 0)
        memcpy(si.script, r, (size_t)n * sizeof(*r));
    si.nscript = n;
    si.next = 0;
    si.nseen = 0;
    pthread_mutex_unlock(&si.mu);
}

int si_seen(void)
{
    int n;

    pthread_mutex_lock(&si.mu);
    n = si.nseen;
    pthread_mutex_unlock(&si.mu);
    return n;
}

int si_token_requests(void)
{
    int n;

    pthread_mutex_lock(&si.mu);
    n = si.token_requests;
    pthread_mutex_unlock(&si.mu);
    return n;
}

/* Waits on the stand-in's condition until pred holds; 30 s guard. */
static void wait_for(bool (*pred)(int), int arg)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&si.mu);
    while (!pred(arg))
        assert_int_equal(pthread_cond_timedwait(&si.cv, &si.mu, &until), 0);
    pthread_mutex_unlock(&si.mu);
}

static bool gate_held(int unused)
{
    (void)unused;
    return si.token_waiting;
}

static bool seen_at_least(int n)
{
    return si.nseen >= n;
}

void si_wait_token_gate(void)
{
    wait_for(gate_held, 0);
}

void si_open_token_gate(void)
{
    pthread_mutex_lock(&si.mu);
    si.token_open = true;
    pthread_cond_broadcast(&si.cv);
    pthread_mutex_unlock(&si.mu);
}

void si_wait_seen(int n)
{
    wait_for(seen_at_least, n);
}

const char *si_url(void)
{
    static char buf[64];

    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d", si.port);
    return buf;
}

void si_no_proxy_env(void)
{
    const char *proxies[] = {"http_proxy", "https_proxy", "all_proxy", "HTTPS_PROXY", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
}
