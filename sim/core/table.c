/*
 * table.c — the record tables of stsim's model: what each kind's schema
 * holds (id, createdOn, modifiedOn), the public copy of a row (without the
 * emulator's hidden keys), lookups by id and insertion in id order. Nothing here persists or stamps
 * anything: that is state.c's (through persist.c), which builds on these.
 *
 * Every function here expects s->lock held by the caller (see model.h),
 * except the pure ones.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/core/core_int.h"

/* ---- kinds ------------------------------------------------------------------ */

/* From the response schemas in ../shared/servicetitan-openapi. */
static const struct sim_kind_info KINDS[SIM_KIND_COUNT] = {
    [SIM_CUSTOMER] = {"customer", true, true, true},
    [SIM_LOCATION] = {"location", true, true, true},
    [SIM_CUSTOMER_CONTACT] = {"customer-contact", true, true, true},
    [SIM_LOCATION_CONTACT] = {"location-contact", true, true, true},
    [SIM_BOOKING] = {"booking", true, true, true},
    [SIM_BOOKING_CONTACT] = {"booking-contact", true, false, true},
    [SIM_BOOKING_PROVIDER_TAG] = {"booking-provider-tag", true, true, true},
    [SIM_CUSTOMER_NOTE] = {"customer-note", true, true, true},
    [SIM_LOCATION_NOTE] = {"location-note", true, true, true},
    [SIM_LEAD] = {"lead", true, true, true},
    [SIM_CUSTOM_FIELD_TYPE] = {"custom-field-type", true, true, true},
    [SIM_JOB] = {"job", true, true, true},
    [SIM_APPOINTMENT] = {"appointment", true, true, true},
    [SIM_JOB_TYPE] = {"job-type", true, true, true},
    [SIM_JOB_CANCEL_REASON] = {"job-cancel-reason", true, true, true},
    [SIM_JOB_HOLD_REASON] = {"job-hold-reason", true, true, true},
    [SIM_JOB_NOTE] = {"job-note", false, true, true}, /* NoteResponse has no id: "_id" */
    [SIM_JOB_HISTORY] = {"job-history", false, false, false},
    [SIM_BUSINESS_UNIT] = {"business-unit", true, true, true},
    [SIM_TECHNICIAN] = {"technician", true, true, true},
    [SIM_EMPLOYEE] = {"employee", true, true, true},
    [SIM_TAG_TYPE] = {"tag-type", true, true, true},
    [SIM_USER_ROLE] = {"user-role", true, true, false},
    [SIM_CAMPAIGN] = {"campaign", true, true, true},
    [SIM_CALL_REASON] = {"call-reason", true, true, true},
    [SIM_ARRIVAL_WINDOW] = {"arrival-window", true, false, false},
    [SIM_BUSINESS_HOURS] = {"business-hours", false, false, false},
    [SIM_ZONE] = {"zone", true, true, true},
    [SIM_TECHNICIAN_SHIFT] = {"technician-shift", true, true, true},
    [SIM_APPOINTMENT_ASSIGNMENT] = {"appointment-assignment", true, true, true},
    [SIM_TEAM] = {"team", true, true, true},
};

const struct sim_kind_info *sim_kind_info(enum sim_kind k)
{
    return &KINDS[(unsigned)k < SIM_KIND_COUNT ? k : 0];
}

const char *sim_kind_name(enum sim_kind k)
{
    return (unsigned)k < SIM_KIND_COUNT ? KINDS[k].name : "unknown";
}

bool sim_kind_parse(const char *name, enum sim_kind *out)
{
    for (int k = 0; k < SIM_KIND_COUNT; k++) {
        if (strcmp(KINDS[k].name, name) == 0) {
            *out = (enum sim_kind)k;
            return true;
        }
    }
    return false;
}

static json_t *public_copy(const json_t *v)
{
    const char *key;
    json_t *item, *out;
    size_t i;

    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach ((json_t *)v, key, item) {
            if (key[0] != SIM_HIDDEN_PREFIX)
                json_object_set_new(out, key, public_copy(item));
        }
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach (v, i, item)
            json_array_append_new(out, public_copy(item));
        return out;
    }
    return json_incref((json_t *)v); /* scalars are immutable in practice */
}

json_t *sim_public(const json_t *row)
{
    return row != NULL ? public_copy(row) : json_null();
}

int64_t sim_row_id(const json_t *row)
{
    json_t *id = json_object_get(row, "id");

    if (!json_is_integer(id))
        id = json_object_get(row, "_id");
    return json_is_integer(id) ? (int64_t)json_integer_value(id) : 0;
}

struct sim_tenant *sim_tenant_find(struct sim *s, int64_t id)
{
    for (size_t i = 0; i < s->ntenants; i++) {
        if (s->tenants[i]->id == id)
            return s->tenants[i];
    }
    return NULL;
}

/* ---- rows by id ------------------------------------------------------------- */

bool sim_table_find(const struct sim_table *tb, int64_t id, size_t *at)
{
    size_t lo = 0, hi = tb->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t mid_id = tb->ids[mid];

        if (mid_id == id) {
            *at = mid;
            return true;
        }
        if (mid_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

static void table_insert(struct sim_table *tb, size_t at, int64_t id, json_t *row)
{
    if (tb->n == tb->cap) {
        tb->cap = tb->cap ? tb->cap * 2 : 16;
        tb->rows = ap_xrealloc(tb->rows, tb->cap * sizeof(*tb->rows));
        tb->ids = ap_xrealloc(tb->ids, tb->cap * sizeof(*tb->ids));
        tb->seq = ap_xrealloc(tb->seq, tb->cap * sizeof(*tb->seq));
        tb->changed_ns = ap_xrealloc(tb->changed_ns, tb->cap * sizeof(*tb->changed_ns));
    }
    size_t tail = tb->n - at;
    memmove(&tb->rows[at + 1], &tb->rows[at], tail * sizeof(*tb->rows));
    memmove(&tb->ids[at + 1], &tb->ids[at], tail * sizeof(*tb->ids));
    memmove(&tb->seq[at + 1], &tb->seq[at], tail * sizeof(*tb->seq));
    memmove(&tb->changed_ns[at + 1], &tb->changed_ns[at], tail * sizeof(*tb->changed_ns));
    tb->rows[at] = row;
    tb->ids[at] = id;
    tb->n++;
}

json_t *sim_get(struct sim_tenant *t, enum sim_kind k, int64_t id)
{
    size_t at;

    if (t == NULL || (unsigned)k >= SIM_KIND_COUNT)
        return NULL;
    return sim_table_find(&t->tables[k], id, &at) ? t->tables[k].rows[at] : NULL;
}

size_t sim_table_put(struct sim_tenant *t, enum sim_kind k, int64_t id, json_t *row)
{
    struct sim_table *tb = &t->tables[k];
    size_t at;

    if (sim_table_find(tb, id, &at)) {
        json_decref(tb->rows[at]);
        tb->rows[at] = row;
    } else {
        table_insert(tb, at, id, row);
    }
    return at;
}

void sim_table_remove_at(struct sim_tenant *t, enum sim_kind k, size_t at)
{
    struct sim_table *tb = &t->tables[k];
    size_t tail = tb->n - at - 1;

    json_decref(tb->rows[at]);
    memmove(&tb->rows[at], &tb->rows[at + 1], tail * sizeof(*tb->rows));
    memmove(&tb->ids[at], &tb->ids[at + 1], tail * sizeof(*tb->ids));
    memmove(&tb->seq[at], &tb->seq[at + 1], tail * sizeof(*tb->seq));
    memmove(&tb->changed_ns[at], &tb->changed_ns[at + 1], tail * sizeof(*tb->changed_ns));
    tb->n--;
}
