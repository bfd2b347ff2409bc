/*
 * contacts.c — the contacts sub-resource that customers and locations share
 * (create, update, soft delete: a deleted contact is kept, inactive, for the
 * export feeds), the tenant-wide contact lists (/customers/contacts,
 * /locations/contacts) and the contact export feeds.
 */
#include <string.h>

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

struct all_contacts {
    int64_t *owners;
    size_t n;
    const char *owner_key;
};

static bool all_contacts_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    struct all_contacts *f = ud;
    if (!json_is_true(json_object_get(row, "_active")))
        return false;
    return f->n == 0 ||
           sim_crm_id_in(f->owners, f->n, json_integer_value(json_object_get(row, f->owner_key)));
}

/* GET /customers/contacts and /locations/contacts: needs owner ids or a modified range. */
void sim_crm_contacts_all(struct sim_call *c, enum sim_kind k, const char *ids_param,
                          const char *owner_key, const char *visible)
{
    struct all_contacts f = {.owner_key = owner_key};
    if (!sim_crm_id_list(c, ids_param, 50, &f.owners, &f.n))
        return;
    const char *mb = sim_query(c->req, "modifiedBefore");
    const char *ma = sim_query(c->req, "modifiedOnOrAfter");
    if (f.n == 0 && !(mb && *mb) && !(ma && *ma)) {
        json_t *e = json_object();
        sim_crm_err(e, ids_param, "Either %s, modifiedBefore or modifiedOnOrAfter must be given.",
                    ids_param);
        sim_problem(c, 400, "One or more validation errors occurred.", e);
        return;
    }
    struct sim_list_opts o = {.dates = true, .match = all_contacts_match, .ud = &f};
    sim_crm_expose(c->tenant, k, owner_key, visible, true);
    sim_list(c, k, &o);
    sim_crm_expose(c->tenant, k, owner_key, visible, false);
}

/* Contact feeds show the owner id and "active" (false once deleted). */
void sim_crm_export_contacts(struct sim_call *c, enum sim_kind k, const char *owner_key,
                             const char *visible)
{
    sim_crm_expose(c->tenant, k, owner_key, visible, true);
    sim_crm_expose(c->tenant, k, "_active", "active", true);
    sim_export(c, k, NULL, NULL);
    sim_crm_expose(c->tenant, k, "_active", "active", false);
    sim_crm_expose(c->tenant, k, owner_key, visible, false);
}
