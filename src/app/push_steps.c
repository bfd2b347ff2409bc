/*
 * push_steps.c — one booking's way into ServiceTitan: a state machine of
 * asynchronous titan calls (see booking_push.h for the steps and why). Each
 * answer arrives on the titan engine thread, is logged, and either starts the
 * next call or ends the job (ap_push_job_end). Nothing here blocks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/booking_push_int.h"
#include "app/phone.h"
#include "core/clock.h"
#include "core/datetime.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"

static void answer(void *ud, enum ap_err err, json_t *body, const struct ap_titan_error *e);

/* ---- building requests ------------------------------------------------------- */

/* Percent-encodes s for a query value into out. */
static void qenc(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || strchr("-._~", ch)) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

static const char *req_str(const struct push_job *j, const char *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(j->req, obj), key));
    return v ? v : "";
}

/* The external-data filter of our reference, for lookups. */
static void ext_query(struct push_job *j, const char *extra)
{
    snprintf(j->query, sizeof(j->query),
             "externalDataApplicationGuid=%s&externalDataKey=%s&externalDataValues=%s&active=Any%s",
             j->p->o.app_guid, AP_PUSH_EXT_KEY, j->reference, extra ? extra : "");
}

/* {applicationGuid, externalData: [{key, value: reference}]} */
static json_t *ext_data(const struct push_job *j)
{
    return json_pack("{s:s, s:[{s:s, s:s}]}", "applicationGuid", j->p->o.app_guid, "externalData",
                     "key", AP_PUSH_EXT_KEY, "value", j->reference);
}

static const char *country(const struct push_job *j)
{
    return strchr(req_str(j, "address", "zip"), ' ') ? "Canada" : "USA";
}

static json_t *address(const struct push_job *j)
{
    json_t *a =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "street", req_str(j, "address", "street"), "city",
                  req_str(j, "address", "city"), "state", req_str(j, "address", "state"), "zip",
                  req_str(j, "address", "zip"), "country", country(j));
    if (*req_str(j, "address", "unit"))
        json_object_set_new(a, "unit", json_string(req_str(j, "address", "unit")));
    return a;
}

/* The homeowner's phone (national digits) and e-mail as ServiceTitan contacts. */
static json_t *contacts(const struct push_job *j)
{
    char national[AP_PHONE_E164_MAX];
    json_t *arr = json_array();

    ap_phone_national(req_str(j, "contact", "phone"), national);
    json_array_append_new(arr, json_pack("{s:s, s:s}", "type", "Phone", "value", national));
    if (*req_str(j, "contact", "email"))
        json_array_append_new(
            arr, json_pack("{s:s, s:s}", "type", "Email", "value", req_str(j, "contact", "email")));
    return arr;
}

static json_t *ids(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *utc(int64_t ns)
{
    char b[AP_TIME_BUF];
    ap_time_format(ns, 0, b);
    return json_string(b);
}

/* ---- calling ---------------------------------------------------------------------- */

/* Sends the current step's call (path, query, body set); body is consumed. */
static void call(struct push_job *j, const char *method, const char *module, json_t *body)
{
    struct ap_titan_req req = {method, module, j->path, j->query[0] ? j->query : NULL, body};
    struct ap_titan_opts opts = {.deadline_ns = ap_clock_mono_ns() +
                                                (int64_t)j->p->o.call_timeout_ms * AP_NS_PER_MS};
    enum ap_err err;

    json_decref(j->body);
    j->body = body;
    j->call_started = ap_clock_mono_ns();
    err = ap_titan_call_async(j->p->t, &j->conn.creds, &req, &opts, answer, j);
    if (err) { /* the engine refused at once (shutting down): retry later */
        j->outcome = PUSH_RETRY;
        ap_push_job_end(j);
    }
}

/* A GET of the path printf-formatted from the arguments (the query is set already). */
#define GET(j, module, ...)                                                                        \
    do {                                                                                           \
        snprintf((j)->path, sizeof((j)->path), __VA_ARGS__);                                       \
        call((j), "GET", (module), NULL);                                                          \
    } while (0)

/* ---- the steps ---------------------------------------------------------------------- */

static void by_phone(struct push_job *j)
{
    char national[AP_PHONE_E164_MAX];

    ap_phone_national(req_str(j, "contact", "phone"), national);
    j->step = STEP_BY_PHONE;
    snprintf(j->query, sizeof(j->query), "phone=%s&active=Any&pageSize=%d", national,
             PUSH_MAX_CANDIDATES);
    GET(j, "crm", "/customers");
}

static void by_address(struct push_job *j)
{
    char street[400], zip[40];

    qenc(req_str(j, "address", "street"), street, sizeof(street));
    qenc(req_str(j, "address", "zip"), zip, sizeof(zip));
    j->step = STEP_BY_ADDRESS;
    snprintf(j->query, sizeof(j->query), "street=%s&zip=%s&active=Any&pageSize=%d", street, zip,
             PUSH_MAX_CANDIDATES);
    GET(j, "crm", "/customers");
}

static void find_location(struct push_job *j)
{
    char street[400], zip[40];

    qenc(req_str(j, "address", "street"), street, sizeof(street));
    qenc(req_str(j, "address", "zip"), zip, sizeof(zip));
    j->step = STEP_FIND_LOCATION;
    snprintf(j->query, sizeof(j->query), "customerId=%lld&street=%s&zip=%s&pageSize=10",
             (long long)j->customer, street, zip);
    GET(j, "crm", "/locations");
}

static void create_customer(struct push_job *j)
{
    json_t *loc = json_pack("{s:s, s:o, s:o}", "name", "Service address", "address", address(j),
                            "externalData", ext_data(j));
    json_t *body =
        json_pack("{s:s, s:s, s:o, s:[o], s:o, s:o}", "name", req_str(j, "contact", "name"), "type",
                  "Residential", "address", address(j), "locations", loc, "contacts", contacts(j),
                  "externalData", ext_data(j));
    j->step = STEP_CREATE_CUSTOMER;
    j->query[0] = '\0';
    snprintf(j->path, sizeof(j->path), "/customers");
    call(j, "POST", "crm", body);
}

static void create_location(struct push_job *j)
{
    json_t *body = json_pack("{s:I, s:s, s:o, s:o, s:o}", "customerId", (json_int_t)j->customer,
                             "name", "Service address", "address", address(j), "contacts",
                             contacts(j), "externalData", ext_data(j));
    j->step = STEP_CREATE_LOCATION;
    j->query[0] = '\0';
    snprintf(j->path, sizeof(j->path), "/locations");
    call(j, "POST", "crm", body);
}

static void create_job(struct push_job *j)
{
    json_t *appt = json_pack("{s:o, s:o, s:o, s:o}", "start", utc(j->window_start), "end",
                             utc(j->window_end), "arrivalWindowStart", utc(j->window_start),
                             "arrivalWindowEnd", utc(j->window_end));
    json_t *body =
        json_pack("{s:I, s:I, s:I, s:I, s:s, s:I, s:[o], s:s, s:o, s:o}", "customerId",
                  (json_int_t)j->customer, "locationId", (json_int_t)j->location, "businessUnitId",
                  (json_int_t)j->bu, "jobTypeId", (json_int_t)j->job_type, "priority", j->priority,
                  "campaignId", (json_int_t)j->campaign, "appointments", appt, "summary",
                  j->summary, "tagTypeIds", ids(j->tag_ids, j->ntags), "externalData", ext_data(j));
    j->step = STEP_CREATE_JOB;
    j->query[0] = '\0';
    snprintf(j->path, sizeof(j->path), "/jobs");
    call(j, "POST", "jpm", body);
}

static void create_booking(struct push_job *j)
{
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:s, s:o, s:I, s:I, s:I, s:s, s:b}", "source",
        "Online booking", "name", req_str(j, "contact", "name"), "summary", j->summary,
        "isFirstTimeClient", j->first_time, "externalId", j->reference, "address", address(j),
        "contacts", contacts(j), "customerType", "Residential", "start", utc(j->window_start),
        "campaignId", (json_int_t)j->campaign, "businessUnitId", (json_int_t)j->bu, "jobTypeId",
        (json_int_t)j->job_type, "priority", j->priority, "isSendConfirmationEmail", false);
    j->step = STEP_CREATE_BOOKING;
    j->query[0] = '\0';
    snprintf(j->path, sizeof(j->path), "/booking-provider/%lld/bookings", (long long)j->provider);
    call(j, "POST", "crm", body);
}

static void end(struct push_job *j, enum push_outcome o)
{
    j->outcome = o;
    ap_push_job_end(j);
}

static void attention(struct push_job *j, const char *title)
{
    json_decref(j->error);
    j->error = json_pack("{s:s, s:n, s:n, s:n}", "title", title, "fields", "traceId", "status");
    end(j, PUSH_NEEDS_ATTENTION);
}

/* Several customers could be the homeowner: a CSR decides, through a CRM booking. */
static void ambiguous(struct push_job *j)
{
    if (!j->provider) {
        attention(j, "Several ServiceTitan customers match this homeowner and no booking provider "
                     "tag is set for the scheduler to send it to a CSR; book it by hand.");
        return;
    }
    j->booking_mode = true;
    j->first_time = false;
    create_booking(j);
}

void ap_push_job_begin(struct push_job *j)
{
    if (j->resume && j->booking_mode) {
        j->step = STEP_LOOKUP_BOOKING;
        snprintf(j->query, sizeof(j->query), "externalId=%s", j->reference);
        GET(j, "crm", "/booking-provider/%lld/bookings", (long long)j->provider);
    } else if (j->resume) {
        j->step = STEP_LOOKUP_JOB;
        ext_query(j, NULL);
        GET(j, "jpm", "/jobs");
    } else {
        by_phone(j);
    }
}

/* ---- reading answers ------------------------------------------------------------------ */

static int64_t id_of(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* The first row of a list answer, or NULL. */
static json_t *first(json_t *body)
{
    return json_array_get(json_object_get(body, "data"), 0);
}

/* Adds a customer row as a candidate (a merged one is followed to what it became). */
static void add_candidate(struct push_job *j, json_t *row)
{
    int64_t id = id_of(row, "id"), to = id_of(row, "mergedToId");
    struct push_cand c = {.id = to ? to : id,
                          .dns = json_is_true(json_object_get(row, "doNotService")),
                          .follow = to != 0};

    if (!c.id || (!to && json_is_false(json_object_get(row, "active"))))
        return; /* deactivated and not merged: not a candidate */
    for (size_t i = 0; i < j->ncand; i++)
        if (j->cand[i].id == c.id) {
            j->cand[i].follow &= c.follow; /* a live row of it wins over a merged pointer */
            if (!c.follow)
                j->cand[i].dns = c.dns;
            return;
        }
    if (j->ncand < PUSH_MAX_CANDIDATES)
        j->cand[j->ncand++] = c;
}

static void collect(struct push_job *j, json_t *body)
{
    json_t *row;
    size_t i;

    j->ncand = 0;
    json_array_foreach (json_object_get(body, "data"), i, row)
        add_candidate(j, row);
}

/* With the candidates known (merges followed): one customer, the e-mail, or a CSR. */
static void resolve(struct push_job *j)
{
    const char *email = req_str(j, "contact", "email");
    size_t n_email = 0, pick = 0;

    for (size_t i = 0; i < j->ncand; i++)
        if (j->cand[i].follow) { /* read what the merged customer became */
            j->at = i;
            j->step = STEP_FOLLOW_MERGE;
            j->query[0] = '\0';
            GET(j, "crm", "/customers/%lld", (long long)j->cand[i].id);
            return;
        }
    if (j->ncand > 1 && *email && !j->tie_read) {
        j->at = 0;
        j->step = STEP_CONTACTS;
        j->query[0] = '\0';
        GET(j, "crm", "/customers/%lld/contacts", (long long)j->cand[0].id);
        return;
    }
    for (size_t i = 0; i < j->ncand; i++)
        if (j->cand[i].email) {
            n_email++;
            pick = i;
        }
    if (j->ncand == 1)
        pick = 0;
    else if (n_email != 1) {
        ambiguous(j);
        return;
    }
    if (j->cand[pick].dns) {
        attention(j, "The customer is marked Do Not Service in ServiceTitan: call the homeowner.");
        return;
    }
    j->customer = j->cand[pick].id;
    find_location(j);
}

static void on_contacts(struct push_job *j, json_t *body)
{
    const char *email = req_str(j, "contact", "email");
    json_t *row;
    size_t i;

    json_array_foreach (json_object_get(body, "data"), i, row)
        if (json_is_string(json_object_get(row, "value")) &&
            strcasecmp(json_string_value(json_object_get(row, "value")), email) == 0)
            j->cand[j->at].email = true;
    if (++j->at < j->ncand) {
        GET(j, "crm", "/customers/%lld/contacts", (long long)j->cand[j->at].id);
        return;
    }
    j->tie_read = true;
    resolve(j);
}

static void on_merge(struct push_job *j, json_t *row)
{
    struct push_cand *c = &j->cand[j->at];
    int64_t to = id_of(row, "mergedToId");

    if (to && c->depth < 3) {
        c->id = to;
        c->depth++;
        GET(j, "crm", "/customers/%lld", (long long)to);
        return;
    }
    c->follow = false;
    c->dns = json_is_true(json_object_get(row, "doNotService"));
    for (size_t i = 0; i < j->ncand; i++) /* two merged into one: one candidate */
        if (i != j->at && j->cand[i].id == c->id && !j->cand[i].follow) {
            j->cand[j->at] = j->cand[--j->ncand];
            break;
        }
    resolve(j);
}

/* The answer of a successful call: the next step, or the end. */
static void next(struct push_job *j, json_t *body)
{
    json_t *row = first(body);

    switch (j->step) {
    case STEP_LOOKUP_JOB:
        if (row) {
            j->job = id_of(row, "id");
            j->customer = id_of(row, "customerId");
            j->location = id_of(row, "locationId");
            j->appointment = id_of(row, "firstAppointmentId");
            end(j, PUSH_BOOKED);
            return;
        }
        j->step = STEP_LOOKUP_CUSTOMER;
        ext_query(j, NULL);
        GET(j, "crm", "/customers");
        return;
    case STEP_LOOKUP_CUSTOMER:
        if (row) {
            j->customer = id_of(row, "id");
            find_location(j);
        } else {
            by_phone(j);
        }
        return;
    case STEP_LOOKUP_BOOKING:
        if (row) {
            j->booking = id_of(row, "id");
            end(j, PUSH_BOOKED);
        } else {
            by_phone(j);
        }
        return;
    case STEP_BY_PHONE:
        collect(j, body);
        if (j->booking_mode) {
            j->first_time = j->ncand == 0;
            create_booking(j);
        } else if (j->ncand == 0) {
            by_address(j);
        } else {
            resolve(j);
        }
        return;
    case STEP_BY_ADDRESS:
        collect(j, body);
        if (j->ncand == 0)
            create_customer(j);
        else
            resolve(j);
        return;
    case STEP_FOLLOW_MERGE:
        on_merge(j, body);
        return;
    case STEP_CONTACTS:
        on_contacts(j, body);
        return;
    case STEP_FIND_LOCATION:
        if (row && !json_is_false(json_object_get(row, "active"))) {
            j->location = id_of(row, "id");
            create_job(j);
        } else {
            create_location(j);
        }
        return;
    case STEP_CREATE_CUSTOMER:
        j->customer = id_of(body, "id");
        j->location = id_of(json_array_get(json_object_get(body, "locations"), 0), "id");
        if (j->location)
            create_job(j);
        else
            find_location(j);
        return;
    case STEP_CREATE_LOCATION:
        j->location = id_of(body, "id");
        create_job(j);
        return;
    case STEP_CREATE_JOB:
        j->job = id_of(body, "id");
        j->appointment = id_of(body, "firstAppointmentId");
        end(j, PUSH_BOOKED);
        return;
    case STEP_CREATE_BOOKING:
        j->booking = id_of(body, "id");
        end(j, PUSH_BOOKED);
        return;
    }
}

/* What the ids a call created are, for the call log. */
static void created_text(struct push_job *j, json_t *body, char *out, size_t cap)
{
    out[0] = '\0';
    if (j->step == STEP_CREATE_CUSTOMER)
        snprintf(out, cap, "customer %lld, location %lld", (long long)id_of(body, "id"),
                 (long long)id_of(json_array_get(json_object_get(body, "locations"), 0), "id"));
    else if (j->step == STEP_CREATE_LOCATION)
        snprintf(out, cap, "location %lld", (long long)id_of(body, "id"));
    else if (j->step == STEP_CREATE_JOB)
        snprintf(out, cap, "job %lld, appointment %lld", (long long)id_of(body, "id"),
                 (long long)id_of(body, "firstAppointmentId"));
    else if (j->step == STEP_CREATE_BOOKING)
        snprintf(out, cap, "booking %lld", (long long)id_of(body, "id"));
}

/* How a failed call ends the push: retry later, park the account, or needs attention. */
static void failed(struct push_job *j, enum ap_err err, const struct ap_titan_error *e)
{
    bool refused = err == AP_EPERM &&
                   (e->status == 401 || e->status == 403 || e->stage == AP_TITAN_STAGE_TOKEN);
    bool permanent = err == AP_EINVAL || err == AP_ENOTFOUND || err == AP_ECONFLICT ||
                     (err == AP_EPERM && !refused);

    json_decref(j->error);
    j->error =
        json_pack("{s:s, s:s?, s:s?, s:i}", "title", e->title[0] ? e->title : ap_err_str(err),
                  "fields", e->fields[0] ? e->fields : NULL, "traceId",
                  e->trace_id[0] ? e->trace_id : NULL, "status", e->status);
    j->retry_after_s = e->retry_after_s;
    if (refused)
        end(j, PUSH_PARK);
    else if (permanent)
        end(j, PUSH_NEEDS_ATTENTION);
    else
        end(j, PUSH_RETRY); /* network, timeout, 429, 5xx: the next attempt looks up first */
}

static void answer(void *ud, enum ap_err err, json_t *body, const struct ap_titan_error *e)
{
    struct push_job *j = ud;
    char created[96];
    static const char *const methods[] = {
        [STEP_LOOKUP_JOB] = "GET",       [STEP_LOOKUP_CUSTOMER] = "GET",
        [STEP_LOOKUP_BOOKING] = "GET",   [STEP_BY_PHONE] = "GET",
        [STEP_BY_ADDRESS] = "GET",       [STEP_FOLLOW_MERGE] = "GET",
        [STEP_CONTACTS] = "GET",         [STEP_FIND_LOCATION] = "GET",
        [STEP_CREATE_CUSTOMER] = "POST", [STEP_CREATE_LOCATION] = "POST",
        [STEP_CREATE_JOB] = "POST",      [STEP_CREATE_BOOKING] = "POST",
    };

    created[0] = '\0';
    if (err == AP_OK)
        created_text(j, body, created, sizeof(created));
    ap_push_log_call(j, methods[j->step], err, e, created);
    if (err == AP_OK && (j->step >= STEP_CREATE_CUSTOMER) && !id_of(body, "id")) {
        struct ap_titan_error bad = *e;
        snprintf(bad.title, sizeof(bad.title), "ServiceTitan answered without the new record's id");
        failed(j, AP_EUNAVAIL, &bad);
        return;
    }
    if (err == AP_OK)
        next(j, body);
    else
        failed(j, err, e);
}
