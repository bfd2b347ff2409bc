/*
 * contacts.c — the contacts sub-resource that customers and locations share
 * (create, update, soft delete: a deleted contact is kept, inactive, for the
 * export feeds), the tenant-wide contact lists (/customers/contacts,
 * /locations/contacts) and the contact export feeds.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/crm/crm_int.h"

static bool check_contact(struct sim_call *c, bool patch)
{
    static const struct sim_field f[] = {
        {"type", SIM_F_STR, true, false},
        {"value", SIM_F_STR, true, false},
        {"memo", SIM_F_STR, false, true},
        {"preferences", SIM_F_OBJ, false, true},
    };
    static const struct sim_field fp[] = {
        {"type", SIM_F_STR, false, true},
        {"value", SIM_F_STR, false, true},
        {"memo", SIM_F_STR, false, true},
        {"preferences", SIM_F_OBJ, false, true},
    };
    static const struct sim_field prefs[] = {
        {"jobRemindersEnabled", SIM_F_BOOL, true, false},
        {"marketingUpdatesEnabled", SIM_F_BOOL, true, false},
        {"invoiceStatementNotification", SIM_F_BOOL, true, false},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", patch ? fp : f, patch ? 4 : 3, errors) || json_is_object(b)) {
        sim_crm_check_enum(b, "", "type", sim_crm_contact_types, errors);
        sim_crm_check_len(b, "", "value", errors);
        sim_crm_check_len(b, "", "memo", errors);
        json_t *p = json_object_get(b, "preferences");
        if (patch && json_is_object(p))
            sim_check(p, "preferences.", prefs, 3, errors);
        json_t *v = json_object_get(b, "value");
        if (json_is_string(v) && json_string_length(v) == 0)
            sim_crm_err(errors, "value", "The Value field is required.");
    }
    return sim_crm_errors_ok(c, errors);
}

static bool owner_ok(struct sim_call *c, const struct crm_contact_kind *k, int64_t *owner)
{
    if (!sim_param_id(c, "id", owner))
        return false;
    if (!sim_get(c->tenant, k->owner_kind, *owner)) {
        sim_not_found(c, k->not_found);
        return false;
    }
    return true;
}

static json_t *contact_or_404(struct sim_call *c, const struct crm_contact_kind *k, int64_t owner)
{
    int64_t cid;
    if (!sim_param_id(c, "contactId", &cid))
        return NULL;
    json_t *row = sim_get(c->tenant, k->kind, cid);
    if (!row || !json_is_true(json_object_get(row, "_active")) ||
        json_integer_value(json_object_get(row, k->owner_key)) != owner) {
        sim_not_found(c, "Contact not found");
        return NULL;
    }
    return row;
}

void sim_crm_contact_create(struct sim_call *c, const struct crm_contact_kind *k)
{
    int64_t owner;
    if (!owner_ok(c, k, &owner) || !check_contact(c, false))
        return;
    json_t *row = sim_crm_contact_row(c->sim, sim_crm_body(c), k->owner_key, owner);
    int64_t id = sim_add(c->sim, c->tenant, k->kind, row);
    sim_reply(c, 200, sim_public(sim_get(c->tenant, k->kind, id)));
}

void sim_crm_contact_update(struct sim_call *c, const struct crm_contact_kind *k)
{
    int64_t owner;
    json_t *row;
    if (!owner_ok(c, k, &owner) || !(row = contact_or_404(c, k, owner)) || !check_contact(c, true))
        return;
    sim_crm_contact_patch(row, sim_crm_body(c));
    sim_touch(c->sim, c->tenant, k->kind, row, true); /* the owner's modifiedOn stays */
    sim_reply(c, 200, sim_public(row));
}

void sim_crm_contact_delete(struct sim_call *c, const struct crm_contact_kind *k)
{
    int64_t owner;
    json_t *row;
    if (!owner_ok(c, k, &owner) || !(row = contact_or_404(c, k, owner)))
        return;
    json_object_set_new(row, "_active", json_false()); /* kept for the export feed */
    sim_touch(c->sim, c->tenant, k->kind, row, true);
    sim_reply_empty(c, 200);
}

static bool contact_active(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    return json_is_true(json_object_get(row, "_active"));
}

void sim_crm_contacts_of(struct sim_call *c, enum sim_kind k, const char *owner_key, int64_t owner)
{
    size_t n;
    int64_t *ids = sim_index_find_id(c->tenant, sim_index_int(k, owner_key), owner, &n);
    struct sim_list_opts o = {.match = contact_active, .has_cand = true, .cand = ids, .ncand = n};

    sim_list(c, k, &o);
    free(ids);
}

/* How the tenant-wide lists and the feeds show a contact: with its owner's id under the
 * public name, and (feeds only) "active" (false once deleted). */
struct contact_view {
    const char *owner_key, *visible;
    bool with_active;
};

static json_t *contact_present(struct sim_call *c, const json_t *row, void *ud)
{
    const struct contact_view *v = ud;
    json_t *out = sim_public(row);
    json_t *owner = json_object_get(row, v->owner_key);

    json_object_set_new(out, v->visible, owner != NULL ? json_incref(owner) : json_null());
    if (v->with_active)
        json_object_set_new(out, "active",
                            json_boolean(json_is_true(json_object_get(row, "_active"))));
    return out;
}

/* The contacts of up to 50 owners, ascending (malloc'd). */
static int64_t *contacts_of_owners(struct sim_tenant *t, enum sim_kind k, const char *owner_key,
                                   const int64_t *owners, size_t nowners, size_t *n)
{
    int64_t *all = NULL;

    *n = 0;
    for (size_t i = 0; i < nowners; i++) {
        size_t m;
        int64_t *ids = sim_index_find_id(t, sim_index_int(k, owner_key), owners[i], &m);
        all = ap_xrealloc(all, (*n + m + 1) * sizeof(*all));
        if (m > 0)
            memcpy(all + *n, ids, m * sizeof(*ids));
        *n += m;
        free(ids);
    }
    return all;
}

/* GET /customers/contacts and /locations/contacts: needs owner ids or a modified range. */
void sim_crm_contacts_all(struct sim_call *c, enum sim_kind k, const char *ids_param,
                          const char *owner_key, const char *visible)
{
    struct contact_view view = {owner_key, visible, false};
    int64_t *owners, *cand = NULL;
    size_t nowners;
    if (!sim_crm_id_list(c, ids_param, 50, &owners, &nowners))
        return;
    const char *mb = sim_query(c->req, "modifiedBefore");
    const char *ma = sim_query(c->req, "modifiedOnOrAfter");
    if (nowners == 0 && !(mb && *mb) && !(ma && *ma)) {
        json_t *e = json_object();
        sim_crm_err(e, ids_param, "Either %s, modifiedBefore or modifiedOnOrAfter must be given.",
                    ids_param);
        sim_problem(c, 400, "One or more validation errors occurred.", e);
        return;
    }
    struct sim_list_opts o = {
        .dates = true, .match = contact_active, .present = contact_present, .ud = &view};
    if (nowners > 0) {
        cand = contacts_of_owners(c->tenant, k, owner_key, owners, nowners, &o.ncand);
        o.has_cand = true;
        o.cand = cand;
    }
    sim_list(c, k, &o);
    free(cand);
}

void sim_crm_export_contacts(struct sim_call *c, enum sim_kind k, const char *owner_key,
                             const char *visible)
{
    struct contact_view view = {owner_key, visible, true};
    struct sim_export_opts o = {.present = contact_present, .ud = &view};

    sim_export(c, k, &o);
}
