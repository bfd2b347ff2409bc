/*
 * tiny_client.h — a tiny blocking HTTP/1.1 client over plain sockets for the
 * http adapter's unit tests (test_server.c, test_edge.c): one request
 * written as raw text, one response read back byte by byte (so a pipelined
 * or keep-alive response is never over-read).
 */
#ifndef AP_TESTS_HTTP_TINY_CLIENT_H
#define AP_TESTS_HTTP_TINY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct resp {
    int status;
    char head[8192];
    char *body;
    size_t len;
};

/* A connection to 127.0.0.1:port (5 s receive timeout); -1 on failure. */
int conn_open(int port);
/* The same from local address from ("127.0.0.2": another loopback client). */
int conn_open_from(int port, const char *from);
/* Value of header name (case-insensitive) in r, or NULL; valid until the next call. */
const char *header(const struct resp *r, const char *name);
void resp_free(struct resp *r);
/* Reads one response; head: the request was HEAD (no body). 0 on success. */
int read_resp(int fd, struct resp *r, bool head);
/* Sends req (the whole request text) and reads the response. 0 on success. */
int roundtrip(int fd, const char *req, struct resp *r);
/* One request on a fresh connection. */
int fetch(int port, const char *req, struct resp *r);

#endif
