/*
 * bsvc_flow.c — the booking service's two flows: availability (cache or
 * local capacity → the windows a homeowner is offered) and acceptance (the
 * checks, recent capacity, one durable write with the idempotency key and
 * the window's holds counted inside it). See bsvc.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/booking.h"
#include "app/booking_push.h"
#include "app/bsvc_int.h"
#include "app/catalog.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "tz/tz.h"

static void set(struct ap_bres *r, enum ap_bres_code code, const char *error, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set(struct ap_bres *r, enum ap_bres_code code, const char *error, const char *field,
                const char *fmt, ...)
{
    va_list ap;

    memset(r, 0, sizeof(*r));
    r->code = code;
    snprintf(r->error, sizeof(r->error), "%s", error);
    snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}

/* "… call us at +1…" when the scheduler has a phone. */
static const char *call_us(const struct ap_sched *s, char *buf, size_t cap)
{
    if (!s->phone[0])
        return "";
    snprintf(buf, cap, " Call us at %s.", s->phone);
    return buf;
}

static void unavailable(struct ap_bres *r, const struct ap_sched *s, enum ap_err err, int retry)
{
    char phone[64];

    set(r, AP_BRES_UNAVAILABLE, "unavailable", NULL,
        err == AP_EPERM ? "Online booking is not available right now.%s"
                        : "We could not check the schedule right now; please try again in a "
                          "moment.%s",
        call_us(s, phone, sizeof(phone)));
    r->retry_after_s = retry > 0 ? retry : 5;
}

/* ---- the checks both flows make ----------------------------------------------------- */

static bool service_and_zip(struct ap_bsched *bs, const char *service, const char *zip,
                            const char *zip_field, const struct ap_sched_service **sv,
                            struct ap_bres *r)
{
    char phone[64];

    if (!service || !*service) {
        set(r, AP_BRES_INVALID, "missing_parameter", "service", "service: is required");
        return false;
    }
    if (!(*sv = ap_sched_service(bs->s, service))) {
        set(r, AP_BRES_INVALID, "invalid_parameter", "service",
            "service: '%.40s' is not a service of this scheduler", service);
        return false;
    }
    if (!zip || !*zip) {
        set(r, AP_BRES_INVALID, "missing_parameter", zip_field, "%s: is required", zip_field);
        return false;
    }
    if (!ap_sched_zip_served(bs->s, bs->cat, zip)) {
        char z[11] = "";
        if (!ap_sched_zip_norm(zip, z)) {
            set(r, AP_BRES_INVALID, "invalid_parameter", zip_field,
                "%s: enter a 5-digit ZIP code, like 75001", zip_field);
            return false;
        }
        set(r, AP_BRES_OUTSIDE_AREA, "outside_service_area", zip_field,
            "We don't serve ZIP code %s yet.%s", z, call_us(bs->s, phone, sizeof(phone)));
        return false;
    }
    return true;
}

/* The query of days for a service; q->from defaults to today in the scheduler's zone. */
static void query_of(struct ap_bsched *bs, const struct ap_sched_service *sv, bool has_from,
                     struct ap_date from, int days, struct ap_avail_query *aq)
{
    struct ap_tz_local l;

    *aq = (struct ap_avail_query){bs->s, sv, sv->duration_s, ap_clock_real_ns(), from, days};
    if (!has_from && ap_tz_utc_to_local(bs->s->time_zone, aq->now, &l) == AP_OK)
        aq->from = (struct ap_date){l.y, l.mon, l.d};
    if (aq->days <= 0)
        aq->days = 7;
}

static struct ap_avail_key key_of(struct ap_bsched *bs, const struct ap_sched_service *sv)
{
    return (struct ap_avail_key){bs->tenant_id, sv->business_unit_id, sv->job_type_id,
                                 bs->s->account_id};
}

/* ---- holds as the arithmetic asks for them -------------------------------------------- */

struct held_ctx {
    struct ap_bsvc *b;
    struct ap_bsched *bs;
    const struct ap_sched_service *sv;
    int64_t fetched_real;
};

static double held_seconds_as_hours(void *ud, int64_t start)
{
    struct held_ctx *h = ud;
    return (double)ap_bsvc_held(h->b, h->bs->tenant_id, h->sv->business_unit_id, start,
                                h->fetched_real) /
           3600.0;
}

static double held_count(void *ud, int64_t start)
{
    struct held_ctx *h = ud;
    return (double)ap_bsvc_count(h->b, h->bs->s->id, start);
}

/* The windows answer of slots. */
static void windows_answer(struct ap_bsvc *b, struct ap_bsched *bs, const struct ap_avail_query *aq,
                           const char *zip, const struct ap_avail_slot *slots, size_t n,
                           int64_t fetched_mono, bool stale, struct ap_bres *r)
{
    struct held_ctx h = {b, bs, aq->service, fetched_mono ? ap_bsvc_real_of(fetched_mono) : 0};
    char from[16], z[11] = "";
    json_t *w = ap_avail_windows(aq, slots, n,
                                 bs->s->capacity_local ? held_count : held_seconds_as_hours, &h);

    ap_sched_zip_norm(zip, z);
    ap_date_format(aq->from, from);
    memset(r, 0, sizeof(*r));
    r->code = AP_BRES_OK;
    r->body = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "timeZone", bs->s->time_zone, "service",
                        aq->service->id, "zip", z, "from", from, "days", aq->days, "windows", w);
    if (stale)
        json_object_set_new(r->body, "stale", json_true());
    atomic_fetch_add(&b->n_answers, 1);
    if (stale)
        atomic_fetch_add(&b->n_stale, 1);
}

/* Local capacity: the catalog's arrival windows, our own bookings counted. */
static void local_answer(struct ap_bsvc *b, struct ap_bsched *bs, const struct ap_avail_query *aq,
                         const char *zip, struct ap_bres *r)
{
    struct ap_avail_slot *v = NULL;
    size_t n = 0;
    int64_t from, to;

    if (ap_avail_span(aq, &from, &to) != AP_OK ||
        ap_avail_local_slots(aq, bs->cat, from, to, &v, &n) != AP_OK) {
        unavailable(r, bs->s, AP_EINTERNAL, 0);
        return;
    }
    windows_answer(b, bs, aq, zip, v, n, 0, false, r);
    free(v);
}

/* ---- availability ------------------------------------------------------------------------ */

static bool avail_prepare(struct ap_bsvc *b, struct ap_bsched *bs, const struct ap_bsvc_avail_q *q,
                          struct ap_avail_query *aq, struct ap_bres *r)
{
    const struct ap_sched_service *sv;

    if (!service_and_zip(bs, q->service, q->zip, "zip", &sv, r))
        return false;
    query_of(bs, sv, q->has_from, q->from, q->days, aq);
    if (!bs->s->capacity_local && !bs->tenant_id) {
        unavailable(r, bs->s, AP_EPERM, 60);
        return false;
    }
    return true;
}

bool ap_bsvc_availability_now(struct ap_bsvc *b, struct ap_bsched *bs,
                              const struct ap_bsvc_avail_q *q, struct ap_bres *now)
{
    struct ap_avail_query aq;
    struct ap_avail_answer a;
    struct ap_avail_key k;
    int64_t from, to;

    if (!avail_prepare(b, bs, q, &aq, now))
        return true;
    if (bs->s->capacity_local) {
        local_answer(b, bs, &aq, q->zip, now);
        return true;
    }
    if (ap_avail_span(&aq, &from, &to) != AP_OK || to <= from) {
        windows_answer(b, bs, &aq, q->zip, NULL, 0, 0, false, now); /* all past the horizon */
        return true;
    }
    k = key_of(bs, aq.service);
    if (!ap_avail_cache_peek(b->cache, &k, from, to, &a))
        return false;
    if (a.err)
        unavailable(now, bs->s, a.err, a.retry_after_s);
    else
        windows_answer(b, bs, &aq, q->zip, a.slots, a.n, a.fetched_at, a.stale, now);
    ap_avail_answer_cleanup(&a);
    return true;
}

struct avail_wait {
    struct ap_bsvc *b;
    struct ap_bsched *bs;
    struct ap_avail_query aq;
    char zip[16];
    ap_bsvc_done_fn done;
    void *ud;
};

static void avail_got(void *ud, struct ap_avail_answer *a)
{
    struct avail_wait *w = ud;
    struct ap_bres r;

    if (a->err)
        unavailable(&r, w->bs->s, a->err, a->retry_after_s);
    else
        windows_answer(w->b, w->bs, &w->aq, w->zip, a->slots, a->n, a->fetched_at, a->stale, &r);
    ap_avail_answer_cleanup(a);
    w->done(w->ud, &r);
    ap_bsched_put(w->bs);
    free(w);
}

void ap_bsvc_availability(struct ap_bsvc *b, struct ap_bsched *bs, const struct ap_bsvc_avail_q *q,
                          ap_bsvc_done_fn done, void *ud)
{
    struct avail_wait *w;
    struct ap_bres r;
    struct ap_avail_key k;
    int64_t from, to;

    if (ap_bsvc_availability_now(b, bs, q, &r)) {
        done(ud, &r);
        return;
    }
    w = ap_xcalloc(1, sizeof(*w));
    w->b = b;
    w->bs = bs;
    atomic_fetch_add(&bs->refs, 1);
    avail_prepare(b, bs, q, &w->aq, &r);
    snprintf(w->zip, sizeof(w->zip), "%s", q->zip);
    w->done = done;
    w->ud = ud;
    ap_avail_span(&w->aq, &from, &to);
    k = key_of(bs, w->aq.service);
    ap_avail_cache_get(b->cache, &k, from, to, 0, avail_got, w);
}

/* ---- acceptance ---------------------------------------------------------------------------- */

struct book {
    struct ap_bsvc *b;
    struct ap_bsched *bs;
    const struct ap_sched_service *sv;
    struct ap_booking_req req; /* a copy: its JSON members are new references */
    char *idem;
    char hash[2 * AP_CRYPTO_HMAC_LEN + 1];
    struct ap_avail_query aq; /* the window's day */
    struct ap_avail_key key;
    int64_t from, to;
    struct ap_accept acc;
    struct ap_avail_slot *slots; /* what the decision was made on, for the next free windows */
    size_t nslots;
    int64_t fetched_mono;
    ap_bsvc_done_fn done;
    void *ud;
};

static void book_end(struct book *k, struct ap_bres *r)
{
    k->done(k->ud, r);
    ap_bsched_put(k->bs);
    json_decref(k->req.answers);
    json_decref(k->req.attribution);
    free(k->req.notes);
    free(k->idem);
    free(k->acc.summary);
    free(k->slots);
    free(k);
}

/* Up to three open windows after the one asked, from what is known now (no waiting). */
static json_t *next_windows(struct book *k)
{
    struct ap_avail_query aq = k->aq;
    struct ap_avail_answer a = {0};
    struct ap_bres r = {0};
    json_t *out = json_array(), *w, *x;
    size_t i;
    int64_t from, to;

    aq.days = 7;
    aq.now = ap_clock_real_ns();
    if (k->bs->s->capacity_local) {
        local_answer(k->b, k->bs, &aq, k->req.zip, &r);
    } else if (ap_avail_span(&aq, &from, &to) == AP_OK && to > from &&
               ap_avail_cache_peek(k->b->cache, &k->key, from, to, &a) && !a.err) {
        windows_answer(k->b, k->bs, &aq, k->req.zip, a.slots, a.n, a.fetched_at, a.stale, &r);
    }
    ap_avail_answer_cleanup(&a);
    w = json_object_get(r.body, "windows");
    json_array_foreach (w, i, x)
        if (json_is_true(json_object_get(x, "available")) && json_array_size(out) < 3)
            json_array_append(out, x);
    ap_bres_cleanup(&r);
    return out;
}

static void taken(struct book *k, const char *why)
{
    struct ap_bres r;
    char phone[64];

    set(&r, AP_BRES_WINDOW_UNAVAILABLE, "window_unavailable", "window",
        "%s Please choose another time.%s", why, call_us(k->bs->s, phone, sizeof(phone)));
    r.body = json_pack("{s:o}", "nextWindows", next_windows(k));
    atomic_fetch_add(&k->b->n_taken, 1);
    book_end(k, &r);
}

static void created(struct book *k, const char *reference, bool replay)
{
    struct ap_bres r = {.code = AP_BRES_CREATED};

    r.body = json_pack("{s:s, s:s}", "reference", reference, "status", "received");
    atomic_fetch_add(replay ? &k->b->n_replayed : &k->b->n_created, 1);
    book_end(k, &r);
}

/* The writer's verdict (on the writer thread). */
static void written(void *arg, enum ap_err err)
{
    struct book *k = arg;
    struct ap_bres r;

    if (err) {
        ap_log_error("booking.write_failed", "scheduler=%s err=%s", k->bs->s->key, ap_err_str(err));
        set(&r, AP_BRES_BUSY, "unavailable", NULL,
            "Your booking could not be saved; please try again in a moment.");
        r.retry_after_s = 2;
        book_end(k, &r);
        return;
    }
    switch (k->acc.result) {
    case AP_ACCEPT_CREATED:
        ap_bsvc_hold_add(k->b, k->acc.tenant_id, k->acc.business_unit_id, k->acc.scheduler_id,
                         k->req.start, k->acc.hold);
        ap_log_info("booking.accepted", "reference=%s scheduler=%s service=%s", k->acc.reference,
                    k->bs->s->key, k->sv->id);
        ap_push_kick(k->b->c.push);
        created(k, k->acc.reference, false);
        return;
    case AP_ACCEPT_REPLAY:
        created(k, k->acc.existing, true);
        return;
    case AP_ACCEPT_KEY_REUSED:
        set(&r, AP_BRES_KEY_REUSED, "idempotency_key_reused", NULL,
            "This Idempotency-Key was used for a different booking; send a new key.");
        book_end(k, &r);
        return;
    case AP_ACCEPT_WINDOW_TAKEN:
        taken(k, "That arrival window was just taken.");
        return;
    }
}

/* The write, on the writer thread. */
static enum ap_err accept_write(struct ap_db_conn *c, void *arg)
{
    struct book *k = arg;
    return ap_booking_accept_write(c, &k->acc);
}

/* With the capacity the decision rests on: find the window, apply the rules, write. */
static void decide(struct book *k)
{
    const struct ap_avail_slot *slot = NULL;
    struct ap_avail_slot rules_only;
    struct ap_bres r;
    char text[40];

    for (size_t i = 0; i < k->nslots; i++)
        if (k->slots[i].start == k->req.start && k->slots[i].end == k->req.end)
            slot = &k->slots[i];
    if (!slot) {
        set(&r, AP_BRES_INVALID, "window_not_offered", "window",
            "window: %.40s is not one of this scheduler's arrival windows; ask for availability "
            "again",
            k->req.start_text);
        book_end(k, &r);
        return;
    }
    rules_only = *slot;
    rules_only.open = 1e9; /* the rules alone: capacity is decided inside the write */
    rules_only.st_available = true;
    if (!ap_avail_slot_open(&k->aq, &rules_only, 0)) {
        taken(k, "That arrival window is no longer open for online booking.");
        return;
    }
    k->acc.local = k->bs->s->capacity_local;
    k->acc.open = k->acc.local ? (int64_t)slot->open : (int64_t)(slot->open * 3600.0 + 0.5);
    k->acc.hold = k->acc.local            ? 1
                  : k->sv->duration_s > 0 ? k->sv->duration_s
                                          : (slot->end - slot->start) / AP_NS_PER_S;
    k->acc.capacity_fetched_real = k->fetched_mono ? ap_bsvc_real_of(k->fetched_mono) : 0;
    ap_avail_format_local(k->bs->s->time_zone, slot->start, text);
    k->acc.summary = ap_booking_summary(k->sv->summary, k->sv->label, &k->req, text, 4000);
    ap_booking_new_reference(k->acc.reference);
    if (ap_db_writer_submit(k->b->c.w, accept_write, k, written) != AP_OK) {
        set(&r, AP_BRES_BUSY, "busy", NULL, "We are very busy right now; please try again.");
        r.retry_after_s = 2;
        book_end(k, &r);
    }
}

static void book_got(void *ud, struct ap_avail_answer *a)
{
    struct book *k = ud;

    if (a->err) { /* ServiceTitan cannot answer: what the homeowner was shown still decides */
        struct ap_avail_answer old;
        if (!ap_avail_cache_peek(k->b->cache, &k->key, k->from, k->to, &old) || old.err) {
            struct ap_bres r;
            unavailable(&r, k->bs->s, a->err, a->retry_after_s);
            ap_avail_answer_cleanup(a);
            book_end(k, &r);
            return;
        }
        ap_avail_answer_cleanup(a);
        *a = old;
    }
    k->slots = a->slots;
    k->nslots = a->n;
    k->fetched_mono = a->fetched_at;
    a->slots = NULL;
    ap_avail_answer_cleanup(a);
    decide(k);
}

/* The idempotency key's earlier answer, if any (a quick read). true: k ended. */
static bool replayed(struct book *k)
{
    char ref[AP_BOOKING_REF_LEN];
    bool same = false;
    struct ap_bres r;

    if (!k->idem ||
        ap_booking_idem_lookup(k->b->c.st, k->bs->s->id, k->idem, k->hash, ref, &same) != AP_OK)
        return false;
    if (same) {
        created(k, ref, true);
        return true;
    }
    set(&r, AP_BRES_KEY_REUSED, "idempotency_key_reused", NULL,
        "This Idempotency-Key was used for a different booking; send a new key.");
    book_end(k, &r);
    return true;
}

static void hash_request(struct book *k)
{
    static const char hk[] = "appointd idempotency v1";
    json_t *n = ap_booking_req_json(&k->req);
    char *text = ap_json_dumps(n);

    ap_crypto_hmac_sha256_hex(hk, sizeof(hk) - 1, text, strlen(text), k->hash);
    free(text);
    json_decref(n);
}

void ap_bsvc_book(struct ap_bsvc *b, struct ap_bsched *bs, const struct ap_booking_req *req,
                  const char *idem_key, ap_bsvc_done_fn done, void *ud)
{
    struct book *k = ap_xcalloc(1, sizeof(*k));
    struct ap_tz_local l;
    struct ap_bres r;
    int64_t now = ap_clock_mono_ns(), max_age = (int64_t)b->c.recheck_max_age_s * AP_NS_PER_S;

    k->b = b;
    k->bs = bs;
    atomic_fetch_add(&bs->refs, 1);
    k->req = *req;
    k->req.notes = req->notes ? ap_xstrdup(req->notes) : NULL;
    json_incref(k->req.answers);
    json_incref(k->req.attribution);
    k->idem = idem_key ? ap_xstrdup(idem_key) : NULL;
    k->done = done;
    k->ud = ud;
    hash_request(k);
    if (!service_and_zip(bs, req->service, req->zip, "address.zip", &k->sv, &r)) {
        book_end(k, &r);
        return;
    }
    if (replayed(k))
        return;
    if (!bs->s->capacity_local && !bs->tenant_id) {
        unavailable(&r, bs->s, AP_EPERM, 60);
        book_end(k, &r);
        return;
    }
    if (req->start <= ap_clock_real_ns()) {
        taken(k, "That arrival window has already started.");
        return;
    }
    ap_tz_utc_to_local(bs->s->time_zone, req->start, &l);
    query_of(bs, k->sv, true, (struct ap_date){l.y, l.mon, l.d}, 1, &k->aq);
    k->key = key_of(bs, k->sv);
    k->acc = (struct ap_accept){.account_id = bs->s->account_id,
                                .scheduler_id = bs->s->id,
                                .tenant_id = bs->tenant_id,
                                .business_unit_id = k->sv->business_unit_id,
                                .job_type_id = k->sv->job_type_id,
                                .campaign_id = ap_sched_campaign_for(bs->s, k->req.attribution),
                                .mode = bs->s->mode == AP_SCHED_BOOKING ? "booking" : "job",
                                .idem_key = k->idem,
                                .body_hash = k->hash,
                                .req = &k->req};
    if (ap_avail_span(&k->aq, &k->from, &k->to) != AP_OK || k->to <= k->from) {
        taken(k, "That day is not open for online booking.");
        return;
    }
    if (bs->s->capacity_local) {
        ap_avail_local_slots(&k->aq, bs->cat, k->from, k->to, &k->slots, &k->nslots);
        decide(k);
        return;
    }
    ap_avail_cache_refresh(b->cache, &k->key, k->from, k->to, now - max_age / 2);
    ap_avail_cache_get(b->cache, &k->key, k->from, k->to, max_age ? now - max_age : now, book_got,
                       k);
}
