/*
 * deferred.c — deferred replies: a handler hands its request to slower
 * work (ap_http_defer) and a worker answers later from any thread
 * (ap_http_reply*).
 *
 * A deferred request holds a slot on its loop. Replies cross threads as
 * messages through libh2o's multithread queue carrying (slot index,
 * generation), never a pointer to the request: the loop thread checks the
 * generation before touching anything, so a reply for a request whose
 * client went away (slot released, generation bumped) is dropped and freed
 * there. The hub, shared by every handle, keeps ap_http_reply() safe after
 * the loops have gone: it is freed with its last reference.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/http_int.h"
#include "json/json.h"

struct ap_http_deferred {
    struct http_hub *hub;
    struct http_loop *lp;
    uint32_t idx, gen;
};

struct reply_msg {
    h2o_multithread_message_t super;
    uint32_t idx, gen;
    int status;
    const char *ctype;   /* points into data, or NULL */
    const char *headers; /* "name\0value\0...\0" in data, or NULL */
    size_t len;
    char data[]; /* body, then the content type, then the headers */
};

void http_slot_release(struct http_loop *lp, uint32_t idx)
{
    struct http_slot *s = &lp->slots[idx];
    s->req = NULL;
    s->gen++;
    s->next_free = lp->free_slot;
    lp->free_slot = idx;
    lp->active_slots--;
}

static uint32_t slot_take(struct http_loop *lp, struct ap_http_req *r)
{
    if (lp->free_slot == UINT32_MAX) {
        uint32_t n = lp->nslots ? lp->nslots * 2 : 64;
        lp->slots = ap_xrealloc(lp->slots, n * sizeof(*lp->slots));
        for (uint32_t i = n; i > lp->nslots; i--) {
            lp->slots[i - 1] = (struct http_slot){NULL, 0, lp->free_slot};
            lp->free_slot = i - 1;
        }
        lp->nslots = n;
    }
    uint32_t idx = lp->free_slot;
    lp->free_slot = lp->slots[idx].next_free;
    lp->slots[idx].req = r;
    lp->active_slots++;
    return idx;
}

struct ap_http_deferred *ap_http_defer(struct ap_http_req *req)
{
    if (req->responded || req->deferred) {
        ap_log_error("http.defer_twice", "route=%s", req->route);
        return NULL;
    }
    struct http_loop *lp = req->lp;
    struct ap_http_deferred *d = ap_xmalloc(sizeof(*d));
    req->deferred = true;
    req->slot = slot_take(lp, req);
    d->lp = lp;
    d->idx = req->slot;
    d->gen = lp->slots[req->slot].gen;
    d->hub = lp->srv->hub;
    pthread_mutex_lock(&d->hub->mu);
    d->hub->refs++;
    pthread_mutex_unlock(&d->hub->mu);
    return d;
}

void http_hub_release(struct http_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->mu);
    bool last = --hub->refs == 0;
    pthread_mutex_unlock(&hub->mu);
    if (last) {
        pthread_mutex_destroy(&hub->mu);
        free(hub);
    }
}

/* Bytes of headers packed as "name\0value\0...\0" (0 for none). */
static size_t packed_headers_len(const char *const *headers)
{
    size_t n = 0;
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        n += strlen(headers[i]) + strlen(headers[i + 1]) + 2;
    return n ? n + 1 : 0;
}

static void pack_headers(char *out, const char *const *headers)
{
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
        for (size_t k = 0; k < 2; k++) {
            size_t n = strlen(headers[i + k]) + 1;
            memcpy(out, headers[i + k], n);
            out += n;
        }
    }
    *out = '\0';
}

void ap_http_reply_headers(struct ap_http_deferred *d, int status, const char *content_type,
                           const char *const *headers, const char *body, size_t len)
{
    if (!d)
        return;
    size_t ctlen = content_type ? strlen(content_type) + 1 : 0;
    size_t hlen = packed_headers_len(headers);
    struct reply_msg *msg = ap_xmalloc(sizeof(*msg) + len + ctlen + hlen);
    memset(&msg->super, 0, sizeof(msg->super));
    msg->idx = d->idx;
    msg->gen = d->gen;
    msg->status = status;
    msg->len = len;
    if (len)
        memcpy(msg->data, body, len);
    msg->ctype = content_type ? memcpy(msg->data + len, content_type, ctlen) : NULL;
    msg->headers = NULL;
    if (hlen) {
        pack_headers(msg->data + len + ctlen, headers);
        msg->headers = msg->data + len + ctlen;
    }
    pthread_mutex_lock(&d->hub->mu);
    if (d->hub->alive && !d->lp->dead) {
        h2o_multithread_send_message(&d->lp->replies, &msg->super);
        msg = NULL;
    }
    pthread_mutex_unlock(&d->hub->mu);
    if (msg)
        ap_log_debug("http.reply_dropped", "reason=server_stopped status=%d", status);
    free(msg);
    http_hub_release(d->hub);
    free(d);
}

void ap_http_reply(struct ap_http_deferred *d, int status, const char *content_type,
                   const char *body, size_t len)
{
    ap_http_reply_headers(d, status, content_type, NULL, body, len);
}

void ap_http_reply_error(struct ap_http_deferred *d, int status, const char *code,
                         const char *message, const char *field)
{
    char *body = ap_json_error_body(code, message, field);
    ap_http_reply(d, status, "application/json", body, strlen(body));
    free(body);
}

static void deliver(struct http_loop *lp, struct reply_msg *msg)
{
    struct http_slot *s = msg->idx < lp->nslots ? &lp->slots[msg->idx] : NULL;
    if (lp->dead || !s || s->gen != msg->gen || !s->req || s->req->responded) {
        ap_log_debug("http.reply_dropped", "reason=client_gone status=%d", msg->status);
        return;
    }
    struct ap_http_req *r = s->req;
    ap_log_set_request_id(r->id);
    for (const char *h = msg->headers; h && *h;) {
        const char *v = h + strlen(h) + 1;
        ap_http_add_header(r, h, v);
        h = v + strlen(v) + 1;
    }
    http_send(r, msg->status, msg->ctype, msg->data, msg->len);
    ap_log_set_request_id(NULL);
}

void http_on_replies(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct http_loop *lp = H2O_STRUCT_FROM_MEMBER(struct http_loop, replies, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct reply_msg *msg =
            H2O_STRUCT_FROM_MEMBER(struct reply_msg, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link);
        deliver(lp, msg);
        free(msg);
    }
}

void http_force_pending(struct http_loop *lp)
{
    /* delayed responses go out now: their time is up with the grace period */
    http_delay_flush(lp);
    for (uint32_t i = 0; i < lp->nslots; i++) {
        struct ap_http_req *r = lp->slots[i].req;
        if (!r || r->responded)
            continue;
        ap_log_set_request_id(r->id);
        ap_log_warn("http.deferred_abandoned", "route=%s", r->route);
        http_send_error(r, 503, "shutting_down", "the server is shutting down");
        ap_log_set_request_id(NULL);
    }
}
