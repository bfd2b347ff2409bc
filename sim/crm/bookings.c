/*
 * crm_bookings.c — /crm/v2 bookings and booking provider tags.
 *
 * A connection reaches /booking-provider/{booking_provider}/bookings only for
 * the provider tag its tenant admin picked on Allow Access (else 403; an
 * unknown tag is 404). Connections set to "No Restriction" may use any
 * provider and are the only ones allowed on the tenant-wide /bookings (else
 * 403); /export/bookings gives them every booking and the others only their
 * provider's (assumption: the notes do not say). A booking starts "New"; dismiss makes it
 * "Dismissed"; a job created with its id makes it "Converted" with jobId set
 * (sim_crm_convert_booking, called by jpm). Only New bookings can be changed
 * (409 otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/crm/crm.h"
#include "sim/crm/crm_int.h"

static const char *const customer_types[] = {"Residential", "Commercial", NULL};
static const char *const priorities[] = {"Low", "Normal", "High", "Urgent", NULL};
static const char *const sort_fields[] = {"Id", "ModifiedOn", "CreatedOn", NULL};

/* ---- access ------------------------------------------------------------------- */

static bool provider_ok(struct sim_call *c, int64_t *pid)
{
    if (!sim_param_id(c, "booking_provider", pid))
        return false;
    if (!c->conn->no_restriction && c->conn->booking_provider_id != *pid) {
        sim_problem(c, 403,
                    "The application's connection is not authorized for this booking provider.",
                    NULL);
        return false;
    }
    if (!sim_get(c->tenant, SIM_BOOKING_PROVIDER_TAG, *pid)) {
        sim_not_found(c, "Booking provider not found");
        return false;
    }
    return true;
}

static bool tenant_wide_ok(struct sim_call *c)
{
    if (c->conn->no_restriction)
        return true;
    sim_problem(c, 403,
                "Tenant-wide bookings need a connection with \"No Restriction\" as its booking "
                "provider.",
                NULL);
    return false;
}

/* The booking of path :id, of provider pid (0 = any); answers 404 itself. */
static json_t *booking_or_404(struct sim_call *c, int64_t pid)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return NULL;
    json_t *row = sim_get(c->tenant, SIM_BOOKING, id);
    if (!row || (pid && json_integer_value(json_object_get(row, "_providerId")) != pid)) {
        sim_not_found(c, "Booking not found");
        return NULL;
    }
    return row;
}

/* ---- validation ------------------------------------------------------------------ */

static void check_ref(struct sim_call *c, const json_t *b, const char *key, enum sim_kind k,
                      json_t *errors)
{
    json_t *v = json_object_get(b, key);
    if (json_is_integer(v) && !sim_get(c->tenant, k, json_integer_value(v)))
        sim_crm_err(errors, key, "%s %lld was not found.", key, (long long)json_integer_value(v));
}

static void check_common(struct sim_call *c, const json_t *b, bool patch, json_t *errors)
{
    static const char *const strs[] = {"source", "name", "summary", "externalId"};
    for (size_t i = 0; i < 4; i++) {
        sim_crm_check_len(b, "", strs[i], errors);
        json_t *v = json_object_get(b, strs[i]);
        if (json_is_string(v) && json_string_length(v) == 0 && strcmp(strs[i], "summary"))
            sim_crm_err(errors, strs[i], "The %s field must not be empty.", strs[i]);
    }
    if (json_is_object(json_object_get(b, "address")))
        sim_crm_check_address(json_object_get(b, "address"), "address", patch, false, errors);
    sim_crm_check_enum(b, "", "customerType", customer_types, errors);
    sim_crm_check_enum(b, "", "priority", priorities, errors);
    check_ref(c, b, "campaignId", SIM_CAMPAIGN, errors);
    check_ref(c, b, "businessUnitId", SIM_BUSINESS_UNIT, errors);
    check_ref(c, b, "jobTypeId", SIM_JOB_TYPE, errors);
    json_t *imgs = json_object_get(b, "uploadedImages");
    size_t i;
    json_t *v;
    if (json_is_array(imgs) && json_array_size(imgs) > CRM_MAX_ITEMS)
        sim_crm_err(errors, "uploadedImages", "At most %d images are accepted.", CRM_MAX_ITEMS);
    else if (json_is_array(imgs))
        json_array_foreach (imgs, i, v) {
            if (!json_is_string(v)) {
                char p[64];
                snprintf(p, sizeof p, "uploadedImages[%zu]", i);
                sim_crm_err(errors, p, "The value must be a string.");
            }
        }
}

static bool check_create(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"source", SIM_F_STR, true, false},
        {"name", SIM_F_STR, true, false},
        {"address", SIM_F_OBJ, false, true},
        {"contacts", SIM_F_ARR, false, true},
        {"customerType", SIM_F_STR, false, true},
        {"start", SIM_F_TIME, false, true},
        {"summary", SIM_F_STR, true, false},
        {"campaignId", SIM_F_INT, false, true},
        {"businessUnitId", SIM_F_INT, false, true},
        {"jobTypeId", SIM_F_INT, false, true},
        {"priority", SIM_F_STR, false, true},
        {"isFirstTimeClient", SIM_F_BOOL, true, false},
        {"uploadedImages", SIM_F_ARR, false, true},
        {"isSendConfirmationEmail", SIM_F_BOOL, false, true},
        {"externalId", SIM_F_STR, true, false},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, AP_COUNTOF(f), errors) || json_is_object(b)) {
        check_common(c, b, false, errors);
        sim_crm_check_contacts(json_object_get(b, "contacts"), "contacts", errors);
        json_t *addr = json_object_get(b, "address"), *cts = json_object_get(b, "contacts");
        if (json_object_size(errors) == 0 && !json_is_object(addr) && json_array_size(cts) == 0)
            sim_crm_err(errors, "address", "A booking needs an address or a contact.");
    }
    return sim_crm_errors_ok(c, errors);
}

/* ---- bookings ------------------------------------------------------------------- */

static json_t *opt(const json_t *b, const char *key)
{
    json_t *v = json_object_get(b, key);
    return v ? json_deep_copy(v) : json_null();
}

static json_t *booking_row(struct sim *s, const json_t *b, int64_t pid)
{
    int64_t now = sim_now(s), start = now;
    const json_t *addr = json_object_get(b, "address");
    if (json_is_string(json_object_get(b, "start")))
        ap_time_parse(sim_crm_str(b, "start"), &start);
    json_t *row = json_object();
    json_object_set_new(row, "source", json_string(sim_crm_str(b, "source")));
    json_object_set_new(row, "createdOn", sim_time_json(now));
    json_object_set_new(row, "name", json_string(sim_crm_str(b, "name")));
    json_object_set_new(row, "address",
                        json_is_object(addr) ? sim_crm_address(addr, false) : json_null());
    json_object_set_new(row, "customerType", opt(b, "customerType"));
    json_object_set_new(row, "start", sim_time_json(start));
    json_object_set_new(row, "campaignId", opt(b, "campaignId"));
    json_object_set_new(row, "businessUnitId", opt(b, "businessUnitId"));
    json_object_set_new(row, "isFirstTimeClient", opt(b, "isFirstTimeClient"));
    json_object_set_new(row, "uploadedImages", opt(b, "uploadedImages"));
    json_object_set_new(row, "isSendConfirmationEmail", opt(b, "isSendConfirmationEmail"));
    json_object_set_new(row, "status", json_string("New"));
    json_object_set_new(row, "dismissingReasonId", json_null());
    json_object_set_new(row, "jobId", json_null());
    json_object_set_new(row, "externalId", json_string(sim_crm_str(b, "externalId")));
    json_object_set_new(row, "priority", opt(b, "priority"));
    json_object_set_new(row, "jobTypeId", opt(b, "jobTypeId"));
    json_object_set_new(row, "bookingProviderId", json_integer(pid));
    json_object_set_new(row, "modifiedOn", sim_time_json(now));
    json_object_set_new(row, "summary", json_string(sim_crm_str(b, "summary")));
    json_object_set_new(row, "_providerId", json_integer(pid));
    return row;
}

static json_t *contact_row(struct sim *s, const json_t *in, int64_t booking)
{
    json_t *memo = json_object_get(in, "memo");
    return json_pack("{s:s, s:s, s:s, s:o, s:I}", "type", sim_crm_str(in, "type"), "value",
                     sim_crm_str(in, "value"), "memo",
                     json_is_string(memo) ? json_string_value(memo) : "", "modifiedOn",
                     sim_time_json(sim_now(s)), "_bookingId", (json_int_t)booking);
}

static void booking_create(struct sim_call *c)
{
    int64_t pid;
    if (!provider_ok(c, &pid) || !check_create(c))
        return;
    const json_t *b = sim_crm_body(c);
    int64_t id = sim_add(c->sim, c->tenant, SIM_BOOKING, booking_row(c->sim, b, pid));
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(b, "contacts"), i, v) {
        sim_add(c->sim, c->tenant, SIM_BOOKING_CONTACT, contact_row(c->sim, v, id));
    }
    sim_reply(c, 200, sim_public(sim_get(c->tenant, SIM_BOOKING, id)));
}

struct booking_filter {
    int64_t provider; /* 0 = any */
    const char *external_id;
};

static bool booking_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    struct booking_filter *f = ud;
    if (f->provider && json_integer_value(json_object_get(row, "_providerId")) != f->provider)
        return false;
    return !f->external_id || !*f->external_id ||
           strcmp(sim_crm_str(row, "externalId"), f->external_id) == 0;
}

/* A provider's bookings (pid 0: all). With externalId the list starts from the index. */
static void booking_list_of(struct sim_call *c, int64_t pid)
{
    struct booking_filter f = {pid, sim_query(c->req, "externalId")};
    struct sim_list_opts o = {.sort = sort_fields, .dates = true, .ud = &f};
    int64_t *cand = NULL;

    if (f.external_id != NULL && *f.external_id != '\0') {
        cand = sim_index_find(c->tenant, sim_crm_ix(CRM_IX_BOOKING_EXTID), f.external_id, &o.ncand);
        o.has_cand = true;
        o.cand = cand;
    }
    if (pid != 0 || o.has_cand)
        o.match = booking_match;
    sim_list(c, SIM_BOOKING, &o);
    free(cand);
}

static void booking_list(struct sim_call *c)
{
    int64_t pid;
    if (provider_ok(c, &pid))
        booking_list_of(c, pid);
}

static void booking_get(struct sim_call *c)
{
    int64_t pid;
    json_t *row;
    if (provider_ok(c, &pid) && (row = booking_or_404(c, pid)))
        sim_reply(c, 200, sim_public(row));
}

static bool check_patch(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"source", SIM_F_STR, false, true},
        {"name", SIM_F_STR, false, true},
        {"address", SIM_F_OBJ, false, true},
        {"customerType", SIM_F_STR, false, true},
        {"start", SIM_F_TIME, false, true},
        {"summary", SIM_F_STR, false, true},
        {"campaignId", SIM_F_INT, false, true},
        {"businessUnitId", SIM_F_INT, false, true},
        {"jobTypeId", SIM_F_INT, false, true},
        {"priority", SIM_F_STR, false, true},
        {"isFirstTimeClient", SIM_F_BOOL, false, true},
        {"uploadedImages", SIM_F_ARR, false, true},
        {"externalId", SIM_F_STR, false, true},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, AP_COUNTOF(f), errors) || json_is_object(b))
        check_common(c, b, true, errors);
    return sim_crm_errors_ok(c, errors);
}

static bool state_is_new(struct sim_call *c, const json_t *row, const char *what)
{
    const char *st = sim_crm_str(row, "status");
    if (strcmp(st, "New") == 0)
        return true;
    char title[160];
    snprintf(title, sizeof title, "A booking in status %s can't be %s.", st, what);
    sim_problem(c, 409, title, NULL);
    return false;
}

static void booking_patch(struct sim_call *c)
{
    static const char *const plain[] = {"source",         "name",       "customerType",
                                        "summary",        "campaignId", "businessUnitId",
                                        "jobTypeId",      "priority",   "isFirstTimeClient",
                                        "uploadedImages", "externalId"};
    int64_t pid;
    json_t *row;
    if (!provider_ok(c, &pid) || !(row = booking_or_404(c, pid)) || !check_patch(c) ||
        !state_is_new(c, row, "updated"))
        return;
    const json_t *b = sim_crm_body(c);
    for (size_t i = 0; i < AP_COUNTOF(plain); i++) {
        json_t *v = json_object_get(b, plain[i]);
        if (v && !json_is_null(v))
            json_object_set_new(row, plain[i], json_deep_copy(v));
    }
    int64_t start;
    if (json_is_string(json_object_get(b, "start")) &&
        ap_time_parse(sim_crm_str(b, "start"), &start))
        json_object_set_new(row, "start", sim_time_json(start));
    json_t *addr = json_object_get(b, "address");
    if (json_is_object(addr)) {
        if (json_is_object(json_object_get(row, "address")))
            sim_crm_address_patch(json_object_get(row, "address"), addr);
        else
            json_object_set_new(row, "address", sim_crm_address(addr, false));
    }
    sim_touch(c->sim, c->tenant, SIM_BOOKING, row, true);
    sim_reply(c, 200, sim_public(row));
}

static void booking_dismiss(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"callReasonId", SIM_F_INT, false, true},
        {"dismissingMemo", SIM_F_STR, false, true},
    };
    int64_t pid;
    json_t *row;
    if (!provider_ok(c, &pid) || !(row = booking_or_404(c, pid)))
        return;
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, 2, errors) || json_is_object(b)) {
        check_ref(c, b, "callReasonId", SIM_CALL_REASON, errors);
        sim_crm_check_len(b, "", "dismissingMemo", errors);
    }
    if (!sim_crm_errors_ok(c, errors) || !state_is_new(c, row, "dismissed"))
        return;
    json_t *reason = json_object_get(b, "callReasonId");
    json_object_set_new(row, "status", json_string("Dismissed"));
    json_object_set_new(row, "dismissingReasonId",
                        json_is_integer(reason) ? json_incref(reason) : json_null());
    sim_touch(c->sim, c->tenant, SIM_BOOKING, row, true);
    sim_reply_empty(c, 200);
}

/* ---- booking contacts ------------------------------------------------------------ */

static void contacts_list_of(struct sim_call *c, json_t *booking)
{
    size_t n;
    int64_t *ids = sim_index_find_id(c->tenant, sim_index_int(SIM_BOOKING_CONTACT, "_bookingId"),
                                     sim_row_id(booking), &n);
    struct sim_list_opts o = {.has_cand = true, .cand = ids, .ncand = n};

    sim_list(c, SIM_BOOKING_CONTACT, &o);
    free(ids);
}

static void contacts_list(struct sim_call *c)
{
    int64_t pid;
    json_t *row;
    if (provider_ok(c, &pid) && (row = booking_or_404(c, pid)))
        contacts_list_of(c, row);
}

static bool check_contact(struct sim_call *c, bool patch)
{
    static const struct sim_field f[] = {
        {"type", SIM_F_STR, true, false},
        {"value", SIM_F_STR, true, false},
        {"memo", SIM_F_STR, false, true},
    };
    static const struct sim_field fp[] = {
        {"type", SIM_F_STR, false, true},
        {"value", SIM_F_STR, false, true},
        {"memo", SIM_F_STR, false, true},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", patch ? fp : f, 3, errors) || json_is_object(b)) {
        sim_crm_check_enum(b, "", "type", sim_crm_contact_types, errors);
        sim_crm_check_len(b, "", "value", errors);
        sim_crm_check_len(b, "", "memo", errors);
        json_t *v = json_object_get(b, "value");
        if (json_is_string(v) && json_string_length(v) == 0)
            sim_crm_err(errors, "value", "The Value field is required.");
    }
    return sim_crm_errors_ok(c, errors);
}

static void contact_create(struct sim_call *c)
{
    int64_t pid;
    json_t *row;
    if (!provider_ok(c, &pid) || !(row = booking_or_404(c, pid)) || !check_contact(c, false))
        return;
    int64_t id = sim_add(c->sim, c->tenant, SIM_BOOKING_CONTACT,
                         contact_row(c->sim, sim_crm_body(c), sim_row_id(row)));
    sim_reply(c, 200, sim_public(sim_get(c->tenant, SIM_BOOKING_CONTACT, id)));
}

static json_t *contact_or_404(struct sim_call *c, json_t *booking)
{
    int64_t cid;
    if (!sim_param_id(c, "contactId", &cid))
        return NULL;
    json_t *row = sim_get(c->tenant, SIM_BOOKING_CONTACT, cid);
    if (!row || json_integer_value(json_object_get(row, "_bookingId")) != sim_row_id(booking)) {
        sim_not_found(c, "Contact not found");
        return NULL;
    }
    return row;
}

static void contact_update(struct sim_call *c)
{
    int64_t pid;
    json_t *bk, *row;
    if (!provider_ok(c, &pid) || !(bk = booking_or_404(c, pid)) || !(row = contact_or_404(c, bk)) ||
        !check_contact(c, true))
        return;
    static const char *const keys[] = {"type", "value", "memo"};
    const json_t *b = sim_crm_body(c);
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(b, keys[i]);
        if (json_is_string(v))
            json_object_set(row, keys[i], v);
    }
    sim_touch(c->sim, c->tenant, SIM_BOOKING_CONTACT, row, true);
    sim_reply(c, 200,
              json_pack("{s:O, s:O, s:O}", "type", json_object_get(row, "type"), "value",
                        json_object_get(row, "value"), "memo", json_object_get(row, "memo")));
}

static void contact_delete(struct sim_call *c)
{
    int64_t pid;
    json_t *bk, *row;
    if (!provider_ok(c, &pid) || !(bk = booking_or_404(c, pid)) || !(row = contact_or_404(c, bk)))
        return;
    sim_remove(c->sim, c->tenant, SIM_BOOKING_CONTACT, sim_row_id(row));
    sim_reply_empty(c, 200);
}

/* ---- tenant-wide ---------------------------------------------------------------------- */

static void all_list(struct sim_call *c)
{
    if (tenant_wide_ok(c))
        booking_list_of(c, 0);
}

static void all_get(struct sim_call *c)
{
    json_t *row;
    if (tenant_wide_ok(c) && (row = booking_or_404(c, 0)))
        sim_reply(c, 200, sim_public(row));
}

static void all_contacts(struct sim_call *c)
{
    json_t *row;
    if (tenant_wide_ok(c) && (row = booking_or_404(c, 0)))
        contacts_list_of(c, row);
}

static bool export_match(struct sim_call *c, const json_t *row, void *ud)
{
    int64_t pid = *(int64_t *)ud;
    return !pid || json_integer_value(json_object_get(row, "_providerId")) == pid;
}

static json_t *export_present(struct sim_call *c, const json_t *row, void *ud)
{
    json_t *out = sim_public(row);
    json_object_set_new(out, "active", json_true()); /* bookings are never deleted */
    return out;
}

/* "No Restriction" connections get every booking, the others their provider's. */
static void export_bookings(struct sim_call *c)
{
    int64_t pid = c->conn->no_restriction ? 0 : c->conn->booking_provider_id;
    if (!c->conn->no_restriction && pid == 0) {
        tenant_wide_ok(c);
        return;
    }
    struct sim_export_opts o = {.match = export_match, .present = export_present, .ud = &pid};
    sim_export(c, SIM_BOOKING, &o);
}

bool sim_crm_convert_booking(struct sim *s, struct sim_tenant *t, int64_t booking_id,
                             int64_t job_id)
{
    json_t *row = sim_get(t, SIM_BOOKING, booking_id);
    if (!row)
        return false;
    json_object_set_new(row, "status", json_string("Converted"));
    json_object_set_new(row, "jobId", json_integer(job_id));
    sim_touch(s, t, SIM_BOOKING, row, true);
    return true;
}

/* ---- booking provider tags ------------------------------------------------------------ */

static json_t *tag_brief(const json_t *row) /* create and update answer without "active" */
{
    json_t *out = sim_public(row);
    json_object_del(out, "active");
    return out;
}

static bool tag_name_taken(struct sim_call *c, const char *name, int64_t except)
{
    for (size_t i = 0; i < sim_count(c->tenant, SIM_BOOKING_PROVIDER_TAG); i++) {
        json_t *row = sim_at(c->tenant, SIM_BOOKING_PROVIDER_TAG, i);
        if (sim_row_id(row) != except && sim_crm_iequal(sim_crm_str(row, "tagName"), name)) {
            sim_problem(c, 409, "A booking provider tag with this name already exists.", NULL);
            return true;
        }
    }
    return false;
}

static bool check_tag(struct sim_call *c, bool patch)
{
    struct sim_field f[] = {
        {"tagName", SIM_F_STR, !patch, patch},
        {"description", SIM_F_STR, !patch, patch},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, 2, errors) || json_is_object(b)) {
        sim_crm_check_len(b, "", "tagName", errors);
        sim_crm_check_len(b, "", "description", errors);
        json_t *v = json_object_get(b, "tagName");
        if (json_is_string(v) && json_string_length(v) == 0)
            sim_crm_err(errors, "tagName", "The TagName field must not be empty.");
    }
    return sim_crm_errors_ok(c, errors);
}

static void tag_create(struct sim_call *c)
{
    if (!check_tag(c, false))
        return;
    const json_t *b = sim_crm_body(c);
    if (tag_name_taken(c, sim_crm_str(b, "tagName"), 0))
        return;
    json_t *now = sim_time_json(sim_now(c->sim));
    json_t *row = json_pack("{s:s, s:s, s:s, s:O, s:O, s:b}", "tagName", sim_crm_str(b, "tagName"),
                            "description", sim_crm_str(b, "description"), "type", "V2Api",
                            "createdOn", now, "modifiedOn", now, "active", 1);
    json_decref(now);
    int64_t id = sim_add(c->sim, c->tenant, SIM_BOOKING_PROVIDER_TAG, row);
    sim_reply(c, 200, tag_brief(sim_get(c->tenant, SIM_BOOKING_PROVIDER_TAG, id)));
}

static json_t *tag_or_404(struct sim_call *c)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return NULL;
    json_t *row = sim_get(c->tenant, SIM_BOOKING_PROVIDER_TAG, id);
    if (!row)
        sim_not_found(c, "Booking provider tag not found");
    return row;
}

static void tag_get(struct sim_call *c)
{
    json_t *row = tag_or_404(c);
    if (row)
        sim_reply(c, 200, sim_public(row));
}

static void tag_update(struct sim_call *c)
{
    json_t *row = tag_or_404(c);
    if (!row || !check_tag(c, true))
        return;
    const json_t *b = sim_crm_body(c);
    json_t *name = json_object_get(b, "tagName"), *desc = json_object_get(b, "description");
    if (json_is_string(name) && tag_name_taken(c, json_string_value(name), sim_row_id(row)))
        return;
    if (json_is_string(name))
        json_object_set(row, "tagName", name);
    if (json_is_string(desc))
        json_object_set(row, "description", desc);
    sim_touch(c->sim, c->tenant, SIM_BOOKING_PROVIDER_TAG, row, true);
    sim_reply(c, 200, tag_brief(row));
}

static bool tag_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const char *name = ud;
    return !name || sim_crm_icontains(sim_crm_str(row, "tagName"), name);
}

static void tag_list(struct sim_call *c)
{
    struct sim_list_opts o = {.sort = sort_fields,
                              .dates = true,
                              .match = tag_match,
                              .ud = (void *)sim_query(c->req, "name")};
    sim_list(c, SIM_BOOKING_PROVIDER_TAG, &o);
}

void sim_crm_booking_routes(struct sim *s, struct ap_router *r)
{
    const char *R = "tn.crm.bookings:r", *W = "tn.crm.bookings:w";
    const char *P = "/booking-provider/:booking_provider/bookings";
    char path[128];
#define BP(suffix) (snprintf(path, sizeof path, "%s%s", P, suffix), path)
    sim_api_route(s, r, "POST", "crm", BP(""), W, booking_create);
    sim_api_route(s, r, "GET", "crm", BP(""), R, booking_list);
    sim_api_route(s, r, "GET", "crm", BP("/:id"), R, booking_get);
    sim_api_route(s, r, "PATCH", "crm", BP("/:id"), W, booking_patch);
    sim_api_route(s, r, "POST", "crm", BP("/:id/dismiss"), W, booking_dismiss);
    sim_api_route(s, r, "GET", "crm", BP("/:id/contacts"), R, contacts_list);
    sim_api_route(s, r, "POST", "crm", BP("/:id/contacts"), W, contact_create);
    sim_api_route(s, r, "PATCH", "crm", BP("/:id/contacts/:contactId"), W, contact_update);
    sim_api_route(s, r, "DELETE", "crm", BP("/:id/contacts/:contactId"), W, contact_delete);
#undef BP
    sim_api_route(s, r, "GET", "crm", "/bookings", R, all_list);
    sim_api_route(s, r, "GET", "crm", "/bookings/:id", R, all_get);
    sim_api_route(s, r, "GET", "crm", "/bookings/:id/contacts", R, all_contacts);
    sim_api_route(s, r, "GET", "crm", "/export/bookings", R, export_bookings);

    const char *TR = "tn.crm.bookingprovidertags:r", *TW = "tn.crm.bookingprovidertags:w";
    sim_api_route(s, r, "GET", "crm", "/booking-provider-tags", TR, tag_list);
    sim_api_route(s, r, "POST", "crm", "/booking-provider-tags", TW, tag_create);
    sim_api_route(s, r, "GET", "crm", "/booking-provider-tags/:id", TR, tag_get);
    sim_api_route(s, r, "PATCH", "crm", "/booking-provider-tags/:id", TW, tag_update);
}
