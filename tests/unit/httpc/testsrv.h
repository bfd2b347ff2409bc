/*
 * testsrv.h — the in-test HTTP/1.1 server of the httpc unit tests (see
 * testsrv.c): start it as a cmocka setup, set the canned reply in srv, read
 * back what it saw.
 */
#ifndef AP_TESTS_HTTPC_TESTSRV_H
#define AP_TESTS_HTTPC_TESTSRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define MAX_CONNS 64

struct server {
    int listen_fd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    int conn_fds[MAX_CONNS];
    pthread_t conn_threads[MAX_CONNS];
    int conns, requests;
    /* what the last request looked like */
    char head[8192]; /* request line and headers, CRLF separated */
    char *body;
    size_t body_len;
    /* the canned reply */
    int status;
    const char *reply_headers; /* extra "Name: value\r\n" lines */
    const char *reply_body;
    size_t big_body; /* when > 0: send this many 'x' instead of reply_body */
    bool no_length;  /* send the body close-delimited, without Content-Length */
    int delay_ms;    /* wait before replying (cut short when the client leaves) */
    bool drop;       /* read the request, then close without answering */
};

extern struct server srv;

/* cmocka setup/teardown: the server on 127.0.0.1, a free port. */
int server_start(void **state);
int server_stop(void **state);
/* Binds 127.0.0.1 port 0; returns the listening fd and sets *port. */
int listen_any(int *port);
/* "http://127.0.0.1:PORT" + path, in a static buffer. */
char *url(const char *path);
/* True when the last request's head has exactly this line. */
bool saw_line(const char *line);
/* Unsets the proxy variables: the in-test server is local, a proxy must not interfere. */
void no_proxy_env(void);
/* Requests (or connections) seen so far, read under the server's lock. */
int server_requests(void);
int server_conns(void);

#endif
