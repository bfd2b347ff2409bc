/*
 * booking.c — bookings in the store: the acceptance write (idempotency,
 * holds, insert), what the homeowner and the admin read, and the operator's
 * retry, resolve and cancel. See booking.h; the push is booking_push.c's.
 */
#include "app/booking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/avail.h"
#include "app/scheduler.h"
#include "core/clock.h"
#include "core/datetime.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

static const char *const state_names[AP_BK_NSTATES] = {"accepted",        "pushing", "booked",
                                                       "needs_attention", "parked",  "canceled"};

const char *ap_booking_state_name(enum ap_booking_state s)
{
    return (unsigned)s < AP_BK_NSTATES ? state_names[s] : "unknown";
}

int ap_booking_state_parse(const char *s)
{
    for (int i = 0; s && i < AP_BK_NSTATES; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

const char *ap_booking_public_status(enum ap_booking_state s)
{
    switch (s) {
    case AP_BK_BOOKED:
        return "confirmed";
    case AP_BK_NEEDS_ATTENTION:
        return "needs_attention";
    case AP_BK_CANCELED:
        return "canceled";
    default:
        return "received";
    }
}

void ap_booking_new_reference(char out[AP_BOOKING_REF_LEN])
{
    char *t = ap_crypto_token(16);
    snprintf(out, AP_BOOKING_REF_LEN, "bk_%s", t);
    free(t);
}

static void now_text(char out[32])
{
    ap_clock_format_utc(ap_clock_real_ns(), out);
}

/* ---- acceptance --------------------------------------------------------------- */

static enum ap_err idem_check(struct ap_db_conn *c, int64_t scheduler_id, const char *key,
                              const char *hash, char ref[AP_BOOKING_REF_LEN], bool *same)
{
    struct ap_db_val v[2] = {ap_db_int(scheduler_id), ap_db_text(key)};
    struct ap_db_rows *r;
    enum ap_err err = ap_db_query(c,
                                  "SELECT k.body_hash, b.reference FROM idempotency_keys k "
                                  "JOIN bookings b ON b.id = k.booking_id "
                                  "WHERE k.scheduler_id = ? AND k.key = ?",
                                  v, 2, &r);
    bool found = false;

    if (err)
        return err;
    if (ap_db_next(r)) {
        found = true;
        *same = strcmp(ap_db_row_text(r, 0), hash) == 0;
        snprintf(ref, AP_BOOKING_REF_LEN, "%s", ap_db_row_text(r, 1));
    }
    err = ap_db_done(r);
    return err ? err : found ? AP_OK : AP_ENOTFOUND;
}

const char ap_booking_held_sql[] =
    "SELECT COALESCE(SUM(hold), 0) FROM bookings WHERE tenant_id = ? AND business_unit_id = ? AND "
    "window_start = ? AND (state IN ('accepted', 'pushing', 'parked') OR (state = 'booked' AND "
    "pushed_at > ?))";
const char ap_booking_held_local_sql[] =
    "SELECT COUNT(*) FROM bookings WHERE scheduler_id = ? AND window_start = ? AND "
    "state <> 'canceled'";

/* What the window's other bookings hold: seconds (local: bookings). */
static enum ap_err window_held(struct ap_db_conn *c, const struct ap_accept *a, int64_t *held)
{
    struct ap_db_rows *r;
    enum ap_err err;

    if (a->local) {
        struct ap_db_val v[2] = {ap_db_int(a->scheduler_id), ap_db_int(a->req->start)};
        err = ap_db_query(c, ap_booking_held_local_sql, v, 2, &r);
    } else {
        struct ap_db_val v[4] = {ap_db_int(a->tenant_id), ap_db_int(a->business_unit_id),
                                 ap_db_int(a->req->start), ap_db_int(a->capacity_fetched_real)};
        err = ap_db_query(c, ap_booking_held_sql, v, 4, &r);
    }
    if (err)
        return err;
    *held = 0;
    if (ap_db_next(r))
        *held = ap_db_row_int(r, 0);
    return ap_db_done(r);
}

static enum ap_err insert_booking(struct ap_db_conn *c, struct ap_accept *a)
{
    json_t *req = ap_booking_req_json(a->req);
    char *req_text = ap_json_dumps(req), now[32];
    int64_t id = 0;
    enum ap_err err;

    json_decref(req);
    now_text(now);
    struct ap_db_val v[] = {
        ap_db_text(a->reference),
        ap_db_int(a->account_id),
        ap_db_int(a->scheduler_id),
        ap_db_text(a->mode),
        ap_db_text(a->req->service),
        ap_db_int(a->tenant_id),
        ap_db_int(a->business_unit_id),
        ap_db_int(a->job_type_id),
        ap_db_int(a->campaign_id),
        ap_db_int(a->req->start),
        ap_db_int(a->req->end),
        ap_db_int(a->hold),
        ap_db_text(req_text),
        ap_db_text(a->req->name),
        ap_db_text(a->req->phone),
        ap_db_text(a->summary),
        ap_db_text(now),
        ap_db_text(now),
    };
    err = ap_db_query_int(c,
                          "INSERT INTO bookings (reference, account_id, scheduler_id, state, mode, "
                          "service_id, tenant_id, business_unit_id, job_type_id, campaign_id, "
                          "window_start, window_end, hold, request, name, phone, summary, "
                          "created_at, updated_at) VALUES (?, ?, ?, 'accepted', ?, ?, ?, ?, ?, ?, "
                          "?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                          v, AP_COUNTOF(v), &id);
    free(req_text);
    if (err || !a->idem_key)
        return err;
    struct ap_db_val k[] = {ap_db_int(a->scheduler_id), ap_db_text(a->idem_key),
                            ap_db_text(a->body_hash), ap_db_int(id), ap_db_text(now)};
    return ap_db_exec(c,
                      "INSERT INTO idempotency_keys (scheduler_id, key, body_hash, booking_id, "
                      "created_at) VALUES (?, ?, ?, ?, ?)",
                      k, AP_COUNTOF(k));
}

/*
 * Other appointd on the same PostgreSQL accept bookings at the same time: the idempotency key
 * and the window's holds are each checked then written, so acceptances take turns across
 * instances, under one advisory lock held until the writer's batch commits. One lock for all
 * rather than one per window or key: a batch holds many acceptances, and two batches taking
 * per-window locks in different orders deadlock (PostgreSQL breaks it after a second). Within
 * an instance the writer already runs them one at a time, so what this serialises is whole
 * batches, each one durable commit. SQLite: nothing to do (one writer).
 */
#define ACCEPT_LOCK_KEY 0x6170706f696e7401LL /* "appoint" 1 */

static enum ap_err lock_accept(struct ap_db_conn *c)
{
    return ap_db_lock(c, ACCEPT_LOCK_KEY);
}

enum ap_err ap_booking_accept_write(struct ap_db_conn *c, void *arg)
{
    struct ap_accept *a = arg;
    bool same = false;
    enum ap_err err;

    if ((err = lock_accept(c)))
        return err;
    if (a->idem_key) {
        err = idem_check(c, a->scheduler_id, a->idem_key, a->body_hash, a->existing, &same);
        if (err == AP_OK) {
            a->result = same ? AP_ACCEPT_REPLAY : AP_ACCEPT_KEY_REUSED;
            return AP_OK;
        }
        if (err != AP_ENOTFOUND)
            return err;
    }
    if ((err = window_held(c, a, &a->held)))
        return err;
    if (a->open - a->held < a->hold) {
        a->result = AP_ACCEPT_WINDOW_TAKEN;
        return AP_OK;
    }
    if ((err = insert_booking(c, a)))
        return err;
    a->result = AP_ACCEPT_CREATED;
    return AP_OK;
}

enum ap_err ap_booking_idem_lookup(struct ap_store *st, int64_t scheduler_id, const char *key,
                                   const char *body_hash, char ref[AP_BOOKING_REF_LEN], bool *same)
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    enum ap_err err;

    if (!c)
        return AP_EUNAVAIL;
    err = idem_check(c, scheduler_id, key, body_hash, ref, same);
    ap_store_release(c);
    return err;
}

/* ---- reading -------------------------------------------------------------------- */

/* RFC 3339 of a UTC ns in the zone, or UTC when the zone is unknown. */
static json_t *local_time(const char *zone, int64_t ns)
{
    char buf[40];

    if (!zone || !ap_avail_format_local(zone, ns, buf))
        ap_time_format(ns, 0, buf);
    return json_string(buf);
}

static json_t *parse_stored(const char *text)
{
    json_t *j = NULL;
    if (text)
        ap_json_parse_body(text, strlen(text), AP_JSON_ANY, &j, NULL);
    return j ? j : json_object();
}

static const char public_cols[] = "SELECT b.state, b.service_id, b.window_start, b.window_end, "
                                  "b.request, s.key FROM bookings b JOIN schedulers s ON "
                                  "s.id = b.scheduler_id WHERE b.reference = ?";

enum ap_err ap_booking_public_json(struct ap_store *st, const char *reference, json_t **out)
{
    struct ap_db_conn *c;
    struct ap_db_rows *r;
    struct ap_sched *s = NULL;
    struct ap_db_val v = ap_db_text(reference);
    enum ap_err err;
    json_t *req = NULL;
    int state = -1;
    int64_t ws = 0, we = 0;
    char service[48] = "", key[AP_SCHED_KEY_LEN] = "";

    *out = NULL;
    if (!reference || strlen(reference) >= AP_BOOKING_REF_LEN)
        return AP_ENOTFOUND;
    if (!(c = ap_store_acquire(st, false)))
        return AP_EUNAVAIL;
    if ((err = ap_db_query(c, public_cols, &v, 1, &r)) == AP_OK) {
        if (ap_db_next(r)) {
            state = ap_booking_state_parse(ap_db_row_text(r, 0));
            snprintf(service, sizeof(service), "%s", ap_db_row_text(r, 1));
            ws = ap_db_row_int(r, 2);
            we = ap_db_row_int(r, 3);
            req = parse_stored(ap_db_row_text(r, 4));
            snprintf(key, sizeof(key), "%s", ap_db_row_text(r, 5));
        }
        err = ap_db_done(r);
    }
    ap_store_release(c);
    if (!err && state < 0)
        err = AP_ENOTFOUND;
    if (!err)
        err = ap_sched_get(st, 0, key, &s);
    if (!err) {
        const struct ap_sched_service *sv = ap_sched_service(s, service);
        *out =
            json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:o, s:o}, s:O, s:s, s:s, s:o}", "reference",
                      reference, "status", ap_booking_public_status(state), "service", "id",
                      service, "label", sv ? sv->label : service, "window", "start",
                      local_time(s->time_zone, ws), "end", local_time(s->time_zone, we), "address",
                      json_object_get(req, "address"), "timeZone", s->time_zone, "scheduler",
                      s->name, "phone", s->phone[0] ? json_string(s->phone) : json_null());
    }
    ap_sched_free(s);
    json_decref(req);
    return err;
}

/* The ServiceTitan ids of a row (columns from `first`): customer, location, job, appointment,
 * booking. */
static json_t *st_ids(struct ap_db_rows *r, int first)
{
    static const char *const names[] = {"customerId", "locationId", "jobId", "appointmentId",
                                        "bookingId"};
    json_t *o = json_object();

    for (int i = 0; i < 5; i++)
        json_object_set_new(o, names[i],
                            ap_db_row_is_null(r, first + i)
                                ? json_null()
                                : json_integer(ap_db_row_int(r, first + i)));
    return o;
}

static const char list_cols[] =
    "SELECT b.reference, b.state, s.key, b.service_id, b.window_start, b.window_end, b.request, "
    "b.created_at, b.attempts, b.st_customer_id, b.st_location_id, b.st_job_id, "
    "b.st_appointment_id, b.st_booking_id, b.last_error, b.updated_at, s.config, b.id "
    "FROM bookings b JOIN schedulers s ON s.id = b.scheduler_id ";

/* A row of list_cols as the admin API shows it (detail adds the contact and the error). */
static json_t *row_json(struct ap_db_rows *r, bool detail)
{
    json_t *req = parse_stored(ap_db_row_text(r, 6)), *cfg = parse_stored(ap_db_row_text(r, 16));
    const char *tz = json_string_value(json_object_get(cfg, "timeZone"));
    json_t *contact = json_object_get(req, "contact");
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:{s:o, s:o}, s:s, s:s, s:I, s:o}", "reference",
                  ap_db_row_text(r, 0), "state", ap_db_row_text(r, 1), "scheduler",
                  ap_db_row_text(r, 2), "service", ap_db_row_text(r, 3), "window", "start",
                  local_time(tz, ap_db_row_int(r, 4)), "end", local_time(tz, ap_db_row_int(r, 5)),
                  "createdAt", ap_db_row_text(r, 7), "updatedAt", ap_db_row_text(r, 15), "attempts",
                  (json_int_t)ap_db_row_int(r, 8), "servicetitan", st_ids(r, 9));

    json_object_set(o, "name", json_object_get(contact, "name"));
    if (detail) {
        json_object_set(o, "contact", contact);
        json_object_set(o, "address", json_object_get(req, "address"));
        json_object_set(o, "notes", json_object_get(req, "notes"));
        json_object_set(o, "answers", json_object_get(req, "answers"));
        json_object_set(o, "attribution", json_object_get(req, "attribution"));
        json_object_set_new(o, "timeZone", tz ? json_string(tz) : json_null());
        json_object_set_new(o, "lastError",
                            ap_db_row_is_null(r, 14) ? json_null()
                                                     : parse_stored(ap_db_row_text(r, 14)));
    }
    json_decref(req);
    json_decref(cfg);
    return o;
}

/* Appends " AND cond" with one bind. */
struct where {
    char sql[512];
    struct ap_db_val v[8];
    size_t n;
    char buf[4][128];
};

static void add(struct where *w, const char *cond, struct ap_db_val v)
{
    size_t len = strlen(w->sql);
    snprintf(w->sql + len, sizeof(w->sql) - len, " AND %s", cond);
    w->v[w->n++] = v;
}

static enum ap_err build_where(const struct ap_booking_filter *f, int64_t account_id,
                               struct where *w)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->sql, sizeof(w->sql), "WHERE b.account_id = ?");
    w->v[w->n++] = ap_db_int(account_id);
    if (f->state >= 0)
        add(w, "b.state = ?", ap_db_text(ap_booking_state_name(f->state)));
    if (f->scheduler && *f->scheduler)
        add(w, "s.key = ?", ap_db_text(f->scheduler));
    if (f->since && *f->since) {
        int64_t ns;
        if (!ap_time_parse(f->since, &ns))
            return AP_EINVAL;
        ap_clock_format_utc(ns, w->buf[0]);
        add(w, "b.created_at >= ?", ap_db_text(w->buf[0]));
    }
    if (f->until && *f->until) {
        int64_t ns;
        if (!ap_time_parse(f->until, &ns))
            return AP_EINVAL;
        ap_clock_format_utc(ns, w->buf[3]);
        add(w, "b.created_at < ?", ap_db_text(w->buf[3]));
    }
    if (f->search && *f->search) {
        const char *q = f->search;
        if (strncmp(q, "bk_", 3) == 0) {
            add(w, "b.reference = ?", ap_db_text(q));
        } else if (strspn(q, "0123456789 -().+") == strlen(q) && strpbrk(q, "0123456789")) {
            char digits[64];
            size_t k = 0;
            for (const char *p = q; *p && k < sizeof(digits) - 1; p++)
                if (*p >= '0' && *p <= '9')
                    digits[k++] = *p;
            digits[k] = '\0';
            snprintf(w->buf[1], sizeof(w->buf[1]), "%%%s%%", digits);
            add(w, "b.phone LIKE ?", ap_db_text(w->buf[1]));
        } else {
            snprintf(w->buf[2], sizeof(w->buf[2]), "%%%.100s%%", q);
            add(w, "lower(b.name) LIKE lower(?)", ap_db_text(w->buf[2]));
        }
    }
    return AP_OK;
}

enum ap_err ap_booking_list_json(struct ap_store *st, int64_t account_id,
                                 const struct ap_booking_filter *f, json_t **out)
{
    struct ap_db_conn *c;
    struct ap_db_rows *r;
    struct where w;
    char sql[1024];
    int64_t total = 0;
    int limit = f->limit > 0 && f->limit <= 500 ? f->limit : 50;
    enum ap_err err;
    json_t *arr;

    *out = NULL;
    if (build_where(f, account_id, &w) != AP_OK)
        return AP_EINVAL;
    if (!(c = ap_store_acquire(st, false)))
        return AP_EUNAVAIL;
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM bookings b JOIN schedulers s ON s.id = b.scheduler_id %s",
             w.sql);
    if ((err = ap_db_query_int(c, sql, w.v, w.n, &total)))
        goto out;
    snprintf(sql, sizeof(sql), "%s%s ORDER BY b.id DESC LIMIT %d OFFSET %d", list_cols, w.sql,
             limit, f->offset > 0 ? f->offset : 0);
    if ((err = ap_db_query(c, sql, w.v, w.n, &r)))
        goto out;
    arr = json_array();
    while (ap_db_next(r))
        json_array_append_new(arr, row_json(r, false));
    if ((err = ap_db_done(r)) == AP_OK)
        *out = json_pack("{s:o, s:I}", "bookings", arr, "total", (json_int_t)total);
    else
        json_decref(arr);
out:
    ap_store_release(c);
    return err;
}

static json_t *calls_json(struct ap_db_conn *c, int64_t booking_id)
{
    struct ap_db_val v = ap_db_int(booking_id);
    struct ap_db_rows *r;
    json_t *arr = json_array();

    if (ap_db_query(c,
                    "SELECT at, method, path, status, outcome, trace_id, title, fields, "
                    "created_ids, duration_ms FROM booking_calls WHERE booking_id = ? ORDER BY id",
                    &v, 1, &r) != AP_OK)
        return arr;
    while (ap_db_next(r)) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "at", ap_db_row_text(r, 0),
                              "method", ap_db_row_text(r, 1), "path", ap_db_row_text(r, 2),
                              "status", (json_int_t)ap_db_row_int(r, 3), "outcome",
                              ap_db_row_text(r, 4), "durationMs", (json_int_t)ap_db_row_int(r, 9));
        static const char *const opt[] = {"traceId", "title", "fields", "createdIds"};
        for (int i = 0; i < 4; i++)
            json_object_set_new(
                o, opt[i],
                ap_db_row_is_null(r, 5 + i) ? json_null() : json_string(ap_db_row_text(r, 5 + i)));
        json_array_append_new(arr, o);
    }
    ap_db_done(r);
    return arr;
}

enum ap_err ap_booking_show_json(struct ap_store *st, int64_t account_id, const char *reference,
                                 json_t **out)
{
    struct ap_db_conn *c;
    struct ap_db_rows *r;
    char sql[1024];
    enum ap_err err;
    int64_t id = 0;

    *out = NULL;
    if (!(c = ap_store_acquire(st, false)))
        return AP_EUNAVAIL;
    snprintf(sql, sizeof(sql), "%sWHERE b.reference = ? AND (? = 0 OR b.account_id = ?)",
             list_cols);
    struct ap_db_val v[3] = {ap_db_text(reference), ap_db_int(account_id), ap_db_int(account_id)};
    if ((err = ap_db_query(c, sql, v, 3, &r)) == AP_OK) {
        if (ap_db_next(r)) {
            *out = row_json(r, true);
            id = ap_db_row_int(r, 17);
        }
        err = ap_db_done(r);
    }
    if (!err && !*out)
        err = AP_ENOTFOUND;
    if (!err)
        json_object_set_new(*out, "calls", calls_json(c, id));
    if (err) {
        json_decref(*out);
        *out = NULL;
    }
    ap_store_release(c);
    return err;
}

enum ap_err ap_booking_counts(struct ap_store *st, int64_t account_id,
                              int64_t counts[AP_BK_NSTATES])
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    struct ap_db_val v[2] = {ap_db_int(account_id), ap_db_int(account_id)};
    struct ap_db_rows *r;
    enum ap_err err;

    memset(counts, 0, AP_BK_NSTATES * sizeof(counts[0]));
    if (!c)
        return AP_EUNAVAIL;
    err = ap_db_query(c,
                      "SELECT state, COUNT(*) FROM bookings WHERE ? = 0 OR account_id = ? "
                      "GROUP BY state",
                      v, 2, &r);
    if (!err) {
        while (ap_db_next(r)) {
            int s = ap_booking_state_parse(ap_db_row_text(r, 0));
            if (s >= 0)
                counts[s] = ap_db_row_int(r, 1);
        }
        err = ap_db_done(r);
    }
    ap_store_release(c);
    return err;
}

/* ---- operator actions --------------------------------------------------------------- */

/* One guarded update; AP_ENOTFOUND unknown reference, AP_ECONFLICT wrong state. */
static enum ap_err transition(struct ap_store *st, int64_t account_id, const char *reference,
                              const char *set_sql, const char *from_states, const char *note)
{
    struct ap_db_conn *c = ap_store_acquire(st, true);
    char sql[512], now[32];
    enum ap_err err;
    int64_t exists = 0;

    if (!c)
        return AP_EUNAVAIL;
    now_text(now);
    snprintf(sql, sizeof(sql),
             "UPDATE bookings SET %s, updated_at = ?, resolved_note = COALESCE(?, resolved_note) "
             "WHERE reference = ? AND (? = 0 OR account_id = ?) AND state IN (%s)",
             set_sql, from_states);
    struct ap_db_val v[5] = {ap_db_text(now), ap_db_text(note), ap_db_text(reference),
                             ap_db_int(account_id), ap_db_int(account_id)};
    err = ap_db_exec(c, sql, v, 5);
    if (!err && ap_db_changes(c) == 0) {
        err = ap_db_query_int(c,
                              "SELECT COUNT(*) FROM bookings WHERE reference = ? AND (? = 0 OR "
                              "account_id = ?)",
                              v + 2, 3, &exists);
        err = err ? err : exists ? AP_ECONFLICT : AP_ENOTFOUND;
    }
    ap_store_release(c);
    if (!err)
        ap_log_info("booking.action", "reference=%s set=\"%s\"", reference, set_sql);
    return err;
}

enum ap_err ap_booking_retry(struct ap_store *st, int64_t account_id, const char *reference)
{
    return transition(st, account_id, reference,
                      "state = 'accepted', next_attempt = 0, lease_until = 0",
                      "'needs_attention', 'parked'", NULL);
}

enum ap_err ap_booking_resolve(struct ap_store *st, int64_t account_id, const char *reference,
                               const char *note)
{
    return transition(st, account_id, reference, "state = 'booked'", "'needs_attention', 'parked'",
                      note ? note : "handled by hand");
}

enum ap_err ap_booking_cancel(struct ap_store *st, int64_t account_id, const char *reference,
                              const char *note)
{
    return transition(st, account_id, reference, "state = 'canceled'",
                      "'accepted', 'needs_attention', 'parked'", note ? note : "canceled");
}
