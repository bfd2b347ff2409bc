/*
 * standin.h — a ServiceTitan stand-in for the titan unit tests: an HTTP/1.1
 * server inside the test process (127.0.0.1, a free port, one thread per
 * connection) playing both hosts. API requests are answered from a script,
 * in the order they arrive (then 200 "{}"); each scripted reply may also be
 * delayed, or dropped: the request is read (and counted as applied) and the
 * connection closed without an answer. POST /connect/token issues "tok-N"
 * (expires_in 900) unless a token reply is scripted; it can be held at a gate
 * until the test opens it. Adversarial modes: first_call_429 answers 429 +
 * Retry-After: 1 to the first API call of every token; reject_token answers
 * 401 to every call made with that token.
 *
 * What it saw is kept for the test: each API request's head and body, the
 * token requests, the connections.
 */
#ifndef AP_TESTS_TITAN_STANDIN_H
#define AP_TESTS_TITAN_STANDIN_H

#include <pthread.h>
#include <stdbool.h>

#define SI_MAX_SEEN   64
#define SI_MAX_SCRIPT 32
#define SI_MAX_CONNS  128

struct si_reply {
    int status;
    const char *headers; /* extra "Name: value\r\n" lines */
    const char *body;
    int delay_ms; /* wait before answering (cut short when the client leaves) */
    bool drop;    /* close the connection instead of answering */
};

struct standin {
    int fd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int conns;
    pthread_t conn_th[SI_MAX_CONNS];
    int conn_fd[SI_MAX_CONNS];
    /* API host */
    struct si_reply script[SI_MAX_SCRIPT];
    int nscript, next;
    int nseen;                        /* API requests seen */
    char seen[SI_MAX_SEEN][2048];     /* request line + headers */
    char seen_body[SI_MAX_SEEN][256]; /* body */
    bool first_call_429;
    const char *reject_token; /* API calls with this token get 401 */
    char tokens[32][64];      /* tokens seen on API calls (first_call_429) */
    int ntokens;
    /* auth host */
    int token_requests;
    bool token_gate, token_open; /* hold token answers until the gate opens */
    bool token_waiting;          /* a token request waits at the gate */
    struct si_reply token_reply; /* status 0: issue "tok-N" */
    int token_drops;             /* drop this many token requests first */
};

extern struct standin si;

/* cmocka setup helpers: start (fresh state) and stop the stand-in. */
void si_start(void);
void si_stop(void);
/* Replaces the API script (n replies) and forgets what was seen. */
void si_script(const struct si_reply *r, int n);
/* Under the lock: API requests seen / token requests seen. */
int si_seen(void);
int si_token_requests(void);
/* Waits until a token request is held at the gate; opens the gate. */
void si_wait_token_gate(void);
void si_open_token_gate(void);
/* Waits until at least n API requests arrived (a hang guard fails the test). */
void si_wait_seen(int n);
/* Unsets the proxy variables: the stand-in is local, a proxy must not interfere. */
void si_no_proxy_env(void);
/* "http://127.0.0.1:PORT" */
const char *si_url(void);

#endif
