/*
 * records.c — the tenant's jobs and customers as an office user sees them,
 * read only: what an integration booked shows up here the way it would on
 * ServiceTitan's own screens (the demo's "see it as a job in ServiceTitan").
 *
 *   GET /jobs            newest first, 50 a page (?page=N): job number,
 *                        customer, address, job type, business unit,
 *                        campaign, arrival window (the tenant's wall time),
 *                        status, booked on
 *   GET /jobs/:id        one job: its appointments, tags, summary, external
 *                        data (an integration's reference), history
 *   GET /customers       newest first, 50 a page: name, phone, address
 *   GET /customers/:id   one customer: contacts, locations, jobs
 *
 * Any signed-in user of the tenant may read them (no permission needed, as
 * with ServiceTitan's office screens); without a session they send the
 * browser to sign in and back. Handlers hold s->lock while they read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/api.h"
#include "sim/web/web_int.h"
#include "tz/tz.h"

#define PAGE_ROWS 50

/* Loads the signed-in tenant; on success s->lock is held and *t set. Else *res is the answer. */
static bool rec_enter(struct web_ctx *w, struct sim_tenant **t, enum ap_http_result *res)
{
    if (!web_sess_load(w, WEB_TENANT, false)) {
        struct ap_str p = ap_http_path(w->req);
        *res = web_redirect(w, ap_arena_printf(w->a, "/login?next=%.*s", (int)p.len, p.p));
        return false;
    }
    pthread_mutex_lock(&w->s->lock);
    *t = sim_tenant_find(w->s, w->sess.tenant_id);
    if (!*t) {
        pthread_mutex_unlock(&w->s->lock);
        web_sess_end(w);
        *res = web_redirect(w, "/login");
        return false;
    }
    return true;
}

static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static int64_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* The "name" of row id of kind k, or "—". */
static const char *name_of(struct sim_tenant *t, enum sim_kind k, int64_t id)
{
    json_t *row = id ? sim_get(t, k, id) : NULL;
    const char *n = row ? str(row, "name") : "";
    return *n ? n : "—";
}

/* A ServiceTitan timestamp in the tenant's wall time, "Thu Dec 3, 2:00 PM"; "—" when absent. */
static const char *local_time(struct web_ctx *w, struct sim_tenant *t, const char *iso)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct ap_tz_local l;
    int64_t ns;

    if (!iso || !*iso || !ap_time_parse(iso, &ns) || ap_tz_utc_to_local(t->tz, ns, &l) != AP_OK)
        return "—";
    return ap_arena_printf(w->a, "%s %s %d %d, %d:%02d %s", wd[l.wday], mo[l.mon - 1], l.d, l.y,
                           l.h % 12 ? l.h % 12 : 12, l.mi, l.h < 12 ? "AM" : "PM");
}

/* "2:00 PM" part of local_time's answer for the end of a window on the same day. */
static const char *local_clock(struct web_ctx *w, struct sim_tenant *t, const char *iso)
{
    const char *full = local_time(w, t, iso);
    const char *comma = strrchr(full, ',');
    return comma ? comma + 2 : full;
}

/* An appointment's arrival window (else its start and end) in the tenant's wall time. */
static const char *window_of(struct web_ctx *w, struct sim_tenant *t, const json_t *appt)
{
    const char *a = str(appt, "arrivalWindowStart"), *b = str(appt, "arrivalWindowEnd");
    if (!*a || !*b) {
        a = str(appt, "start");
        b = str(appt, "end");
    }
    if (!*a)
        return "—";
    return ap_arena_printf(w->a, "%s – %s", local_time(w, t, a), local_clock(w, t, b));
}

static const char *address_of(struct web_ctx *w, const json_t *row)
{
    const json_t *a = json_object_get(row, "address");
    const char *unit = str(a, "unit");
    if (!a || !*str(a, "street"))
        return "—";
    return ap_arena_printf(w->a, "%s%s%s, %s, %s %s", str(a, "street"), *unit ? ", " : "", unit,
                           str(a, "city"), str(a, "state"), str(a, "zip"));
}

/* The first phone contact of a customer, or "—". */
static const char *phone_of(struct sim_tenant *t, int64_t customer)
{
    size_t n = 0;
    int64_t *ids =
        sim_index_find_id(t, sim_index_int(SIM_CUSTOMER_CONTACT, "_customerId"), customer, &n);
    const char *out = "—";
    for (size_t i = 0; i < n; i++) {
        json_t *c = sim_get(t, SIM_CUSTOMER_CONTACT, ids[i]);
        const char *type = str(c, "type");
        if (c && !json_is_false(json_object_get(c, "active")) &&
            (strcmp(type, "Phone") == 0 || strcmp(type, "MobilePhone") == 0)) {
            out = str(c, "value");
            break;
        }
    }
    free(ids);
    return out;
}

/* The page asked for (?page=N, from 1) and the first row index of it in newest-first order. */
static size_t page_of(struct web_ctx *w, size_t total, size_t *pages)
{
    int64_t p = 1;
    const char *q = ap_http_query(w->req, "page");
    *pages = total ? (total + PAGE_ROWS - 1) / PAGE_ROWS : 1;
    if (!q || !web_parse_id(q, &p) || (size_t)p > *pages)
        p = 1;
    return (size_t)p;
}

static void pager(struct web_ctx *w, const char *path, size_t page, size_t pages, size_t total)
{
    web_fmt(&w->b,
            "<nav class=\"actions\" aria-label=\"Pages\"><span>Page %L of %L (%L in all)</span>",
            (int64_t)page, (int64_t)pages, (int64_t)total);
    if (page > 1)
        web_fmt(&w->b, "<a class=\"btn secondary\" href=\"%r?page=%L\">Newer</a>", path,
                (int64_t)page - 1);
    if (page < pages)
        web_fmt(&w->b, "<a class=\"btn secondary\" href=\"%r?page=%L\">Older</a>", path,
                (int64_t)page + 1);
    web_fmt(&w->b, "</nav>");
}

/* ---- jobs ---------------------------------------------------------------------------------- */

static void job_row(struct web_ctx *w, struct sim_tenant *t, const json_t *job)
{
    int64_t cust = num(job, "customerId");
    json_t *loc = sim_get(t, SIM_LOCATION, num(job, "locationId"));
    json_t *appt = sim_get(t, SIM_APPOINTMENT, num(job, "firstAppointmentId"));
    web_fmt(
        &w->b,
        "<tr data-job-id=\"%L\"><th scope=\"row\" data-label=\"Job\"><a href=\"/jobs/%L\">%s</a>"
        "</th><td data-label=\"Customer\"><a href=\"/customers/%L\">%s</a></td>"
        "<td data-label=\"Address\">%s</td><td data-label=\"Job type\">%s</td>"
        "<td data-label=\"Business unit\">%s</td><td data-label=\"Campaign\">%s</td>"
        "<td data-label=\"Arrival window\">%s</td><td data-label=\"Status\">%s</td>"
        "<td data-label=\"Booked\">%s</td></tr>",
        sim_row_id(job), sim_row_id(job), str(job, "jobNumber"), cust,
        name_of(t, SIM_CUSTOMER, cust), loc ? address_of(w, loc) : "—",
        name_of(t, SIM_JOB_TYPE, num(job, "jobTypeId")),
        name_of(t, SIM_BUSINESS_UNIT, num(job, "businessUnitId")),
        name_of(t, SIM_CAMPAIGN, num(job, "campaignId")), appt ? window_of(w, t, appt) : "—",
        str(job, "jobStatus"), local_time(w, t, str(job, "createdOn")));
}

static const char JOB_HEAD[] =
    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"jobs-caption\">"
    "<table id=\"jobs\"><caption id=\"jobs-caption\">%s</caption><thead><tr>"
    "<th scope=\"col\">Job</th><th scope=\"col\">Customer</th><th scope=\"col\">Address</th>"
    "<th scope=\"col\">Job type</th><th scope=\"col\">Business unit</th>"
    "<th scope=\"col\">Campaign</th><th scope=\"col\">Arrival window</th>"
    "<th scope=\"col\">Status</th><th scope=\"col\">Booked</th></tr></thead><tbody>";

static enum ap_http_result jobs_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    enum ap_http_result res;
    size_t pages;

    web_ctx_init(&w, req, ud);
    if (!rec_enter(&w, &t, &res))
        return res;
    size_t total = sim_count(t, SIM_JOB), page = page_of(&w, total, &pages);
    web_page_open(&w, "Jobs", NULL);
    web_fmt(&w.b,
            "<p class=\"hint\">Every job of the tenant, newest first, as the office sees "
            "them: the ones your integrations booked included. Times are the tenant's "
            "(%s).</p>",
            t->tz);
    web_fmt(&w.b, JOB_HEAD, "Jobs, newest first");
    for (size_t i = (page - 1) * PAGE_ROWS; i < total && i < page * PAGE_ROWS; i++)
        job_row(&w, t, sim_at(t, SIM_JOB, total - 1 - i));
    if (!total)
        web_fmt(&w.b, "<tr><td colspan=\"9\">No jobs yet.</td></tr>");
    web_fmt(&w.b, "</tbody></table></div>");
    pager(&w, "/jobs", page, pages, total);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

/* The job's appointments, in id order. */
static void job_appointments(struct web_ctx *w, struct sim_tenant *t, int64_t job)
{
    size_t n = 0;
    int64_t *ids = sim_index_find_id(t, sim_index_int(SIM_APPOINTMENT, "jobId"), job, &n);
    web_fmt(&w->b, "<table id=\"appointments\"><caption>Appointments</caption><thead><tr>"
                   "<th scope=\"col\">Appointment</th><th scope=\"col\">Arrival window</th>"
                   "<th scope=\"col\">Start – end</th><th scope=\"col\">Status</th></tr></thead>"
                   "<tbody>");
    for (size_t i = 0; i < n; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT, ids[i]);
        if (!a)
            continue;
        web_fmt(&w->b, "<tr><th scope=\"row\">%s</th><td>%s</td><td>%s – %s</td><td>%s</td></tr>",
                str(a, "appointmentNumber"), window_of(w, t, a), local_time(w, t, str(a, "start")),
                local_clock(w, t, str(a, "end")), str(a, "status"));
    }
    web_fmt(&w->b, "</tbody></table>");
    free(ids);
}

/* The job's tags and external data (what integrations keep on it) as <dd> lists. */
static void job_extras(struct web_ctx *w, struct sim_tenant *t, const json_t *job)
{
    size_t i;
    json_t *v;

    web_fmt(&w->b, "<dt>Tags</dt><dd>");
    json_array_foreach (json_object_get(job, "tagTypeIds"), i, v)
        web_fmt(&w->b, "%r%s", i ? ", " : "", name_of(t, SIM_TAG_TYPE, json_integer_value(v)));
    web_fmt(&w->b, "%r</dd><dt>External data</dt><dd>",
            json_array_size(json_object_get(job, "tagTypeIds")) ? "" : "—");
    json_array_foreach (json_object_get(job, "externalData"), i, v)
        web_fmt(&w->b, "%r<code>%s</code> = <code>%s</code>", i ? "<br>" : "", str(v, "key"),
                str(v, "value"));
    web_fmt(&w->b, "%r</dd>", json_array_size(json_object_get(job, "externalData")) ? "" : "—");
}

static enum ap_http_result job_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    enum ap_http_result res;
    int64_t id = 0;

    web_ctx_init(&w, req, ud);
    if (!rec_enter(&w, &t, &res))
        return res;
    json_t *job = web_parse_id(ap_http_param(req, "id"), &id) ? sim_get(t, SIM_JOB, id) : NULL;
    if (!job) {
        pthread_mutex_unlock(&w.s->lock);
        return web_message(&w, 404, "No such job", "This tenant has no job with that id.");
    }
    int64_t cust = num(job, "customerId");
    json_t *loc = sim_get(t, SIM_LOCATION, num(job, "locationId"));
    web_page_open(&w, ap_arena_printf(w.a, "Job %s", str(job, "jobNumber")),
                  "<a href=\"/jobs\">Jobs</a>");
    web_fmt(&w.b,
            "<dl id=\"job\"><dt>Status</dt><dd>%s</dd><dt>Customer</dt><dd><a "
            "href=\"/customers/%L\">%s</a></dd><dt>Location</dt><dd>%s</dd><dt>Job type</dt>"
            "<dd>%s</dd><dt>Business unit</dt><dd>%s</dd><dt>Campaign</dt><dd>%s</dd>"
            "<dt>Priority</dt><dd>%s</dd><dt>Summary</dt><dd>%s</dd><dt>Booked</dt><dd>%s</dd>",
            str(job, "jobStatus"), cust, name_of(t, SIM_CUSTOMER, cust),
            loc ? address_of(&w, loc) : "—", name_of(t, SIM_JOB_TYPE, num(job, "jobTypeId")),
            name_of(t, SIM_BUSINESS_UNIT, num(job, "businessUnitId")),
            name_of(t, SIM_CAMPAIGN, num(job, "campaignId")), str(job, "priority"),
            str(job, "summary"), local_time(&w, t, str(job, "createdOn")));
    job_extras(&w, t, job);
    web_fmt(&w.b, "</dl>");
    job_appointments(&w, t, id);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

/* ---- customers ------------------------------------------------------------------------------ */

static enum ap_http_result customers_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    enum ap_http_result res;
    size_t pages;

    web_ctx_init(&w, req, ud);
    if (!rec_enter(&w, &t, &res))
        return res;
    size_t total = sim_count(t, SIM_CUSTOMER), page = page_of(&w, total, &pages);
    web_page_open(&w, "Customers", NULL);
    web_fmt(&w.b, "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
                  "aria-labelledby=\"customers-caption\"><table id=\"customers\"><caption "
                  "id=\"customers-caption\">Customers, newest first</caption><thead><tr>"
                  "<th scope=\"col\">Customer</th><th scope=\"col\">Phone</th>"
                  "<th scope=\"col\">Address</th><th scope=\"col\">Status</th>"
                  "<th scope=\"col\">Created</th></tr></thead><tbody>");
    for (size_t i = (page - 1) * PAGE_ROWS; i < total && i < page * PAGE_ROWS; i++) {
        json_t *c = sim_at(t, SIM_CUSTOMER, total - 1 - i);
        bool merged = num(c, "mergedToId") != 0;
        web_fmt(&w.b,
                "<tr data-customer-id=\"%L\"><th scope=\"row\"><a href=\"/customers/%L\">%s</a>"
                "</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
                sim_row_id(c), sim_row_id(c), str(c, "name"), phone_of(t, sim_row_id(c)),
                address_of(&w, c),
                merged                                             ? "Merged"
                : json_is_true(json_object_get(c, "doNotService")) ? "Do Not Service"
                : json_is_false(json_object_get(c, "active"))      ? "Inactive"
                                                                   : "Active",
                local_time(&w, t, str(c, "createdOn")));
    }
    web_fmt(&w.b, "</tbody></table></div>");
    pager(&w, "/customers", page, pages, total);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

/* The rows of kind k owned by customer (through field), as "<li>" items made by fn. */
static void owned(struct web_ctx *w, struct sim_tenant *t, enum sim_kind k, const char *field,
                  int64_t customer, void (*fn)(struct web_ctx *, struct sim_tenant *, json_t *))
{
    size_t n = 0;
    int64_t *ids = sim_index_find_id(t, sim_index_int(k, field), customer, &n);
    web_fmt(&w->b, "<ul>");
    for (size_t i = 0; i < n; i++) {
        json_t *row = sim_get(t, k, ids[i]);
        if (row)
            fn(w, t, row);
    }
    web_fmt(&w->b, "%r</ul>", n ? "" : "<li>None.</li>");
    free(ids);
}

static void contact_li(struct web_ctx *w, struct sim_tenant *t, json_t *c)
{
    (void)t;
    if (!json_is_false(json_object_get(c, "active")))
        web_fmt(&w->b, "<li>%s: %s</li>", str(c, "type"), str(c, "value"));
}

static void location_li(struct web_ctx *w, struct sim_tenant *t, json_t *l)
{
    (void)t;
    web_fmt(&w->b, "<li>%s — %s</li>", str(l, "name"), address_of(w, l));
}

static void job_li(struct web_ctx *w, struct sim_tenant *t, json_t *j)
{
    json_t *appt = sim_get(t, SIM_APPOINTMENT, num(j, "firstAppointmentId"));
    web_fmt(&w->b, "<li><a href=\"/jobs/%L\">Job %s</a>: %s, %s (%s)</li>", sim_row_id(j),
            str(j, "jobNumber"), name_of(t, SIM_JOB_TYPE, num(j, "jobTypeId")),
            appt ? window_of(w, t, appt) : "no appointment", str(j, "jobStatus"));
}

static enum ap_http_result customer_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    enum ap_http_result res;
    int64_t id = 0;

    web_ctx_init(&w, req, ud);
    if (!rec_enter(&w, &t, &res))
        return res;
    json_t *c = web_parse_id(ap_http_param(req, "id"), &id) ? sim_get(t, SIM_CUSTOMER, id) : NULL;
    if (!c) {
        pthread_mutex_unlock(&w.s->lock);
        return web_message(&w, 404, "No such customer",
                           "This tenant has no customer with that id.");
    }
    web_page_open(&w, str(c, "name"), "<a href=\"/customers\">Customers</a>");
    web_fmt(&w.b,
            "<dl id=\"customer\"><dt>Customer id</dt><dd>%L</dd><dt>Billing address</dt>"
            "<dd>%s</dd><dt>Created</dt><dd>%s</dd></dl><h2>Contacts</h2>",
            id, address_of(&w, c), local_time(&w, t, str(c, "createdOn")));
    owned(&w, t, SIM_CUSTOMER_CONTACT, "_customerId", id, contact_li);
    web_fmt(&w.b, "<h2>Locations</h2>");
    owned(&w, t, SIM_LOCATION, "customerId", id, location_li);
    web_fmt(&w.b, "<h2>Jobs</h2>");
    owned(&w, t, SIM_JOB, "customerId", id, job_li);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

void web_records_routes(struct sim *s, struct ap_router *r)
{
    ap_router_add(r, "GET", "/jobs", jobs_get, s);
    ap_router_add(r, "GET", "/jobs/:id", job_get, s);
    ap_router_add(r, "GET", "/customers", customers_get, s);
    ap_router_add(r, "GET", "/customers/:id", customer_get, s);
}
