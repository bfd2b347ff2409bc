/*
 * tiny_client.c — see tiny_client.h.
 */
#include "tiny_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int conn_open_from(int port, const char *from)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (from) {
        struct sockaddr_in local = {.sin_family = AF_INET};
        inet_pton(AF_INET, from, &local.sin_addr);
        if (bind(fd, (void *)&local, sizeof(local)) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (void *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

const char *header(const struct resp *r, const char *name)
{
    static char val[512];
    const char *p = r->head;
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        size_t n = strlen(name);
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1 + strspn(p + n + 1, " ");
            size_t vl = strcspn(v, "\r");
            snprintf(val, sizeof(val), "%.*s", (int)vl, v);
            return val;
        }
    }
    return NULL;
}

void resp_free(struct resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

int read_resp(int fd, struct resp *r, bool head)
{
    size_t hl = 0;
    char *end = NULL;
    memset(r, 0, sizeof(*r));
    while (!end) {
        if (hl + 1 >= sizeof(r->head))
            return -1;
        ssize_t n = recv(fd, r->head + hl, 1, 0); /* byte-wise: never eat the body */
        if (n <= 0)
            return -1;
        hl += (size_t)n;
        r->head[hl] = '\0';
        end = strstr(r->head, "\r\n\r\n");
    }
    r->status = atoi(r->head + 9);
    const char *cl = header(r, "content-length");
    bool until_eof = !cl && !head && r->status != 304 && r->status != 204;
    size_t want = cl && !head ? strtoul(cl, NULL, 10) : 0;
    r->body = calloc(1, want + 1);
    while (r->len < want || until_eof) {
        if (until_eof && r->len == want) {
            want = want * 2 + 4096;
            r->body = realloc(r->body, want + 1);
        }
        ssize_t n = recv(fd, r->body + r->len, want - r->len, 0);
        if (n == 0 && until_eof)
            break;
        if (n <= 0)
            return -1;
        r->len += (size_t)n;
    }
    r->body[r->len] = '\0';
    return 0;
}

int roundtrip(int fd, const char *req, struct resp *r)
{
    size_t len = strlen(req);
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    return read_resp(fd, r, strncmp(req, "HEAD ", 5) == 0);
}

int fetch(int port, const char *req, struct resp *r)
{
    int fd = conn_open(port);
    if (fd < 0)
        return -1;
    int rc = roundtrip(fd, req, r);
    close(fd);
    return rc;
}

int conn_open(int port)
{
    return conn_open_from(port, NULL);
}
