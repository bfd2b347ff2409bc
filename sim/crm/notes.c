/*
 * notes.c — /crm/v2 notes of customers and locations, and their custom
 * field types.
 *
 * Notes: GET (paged, with the date bounds), POST {text, pinToTop?,
 * addToLocations? | addToCustomer?} answering the NoteResponse, and DELETE
 * /notes/{noteId}. Notes are append-only as ServiceTitan's are: no edit. A
 * customer note with addToLocations is added to each of the customer's active
 * locations as well; a location note with addToCustomer to its customer
 * (each copy a note of its own). Pinned notes list first.
 *
 * Custom field types (GET /customers/custom-fields, /locations/custom-fields)
 * are SIM_CUSTOM_FIELD_TYPE rows whose hidden "_for" says whose they are;
 * customFields[].typeId on customers and locations must name one of them
 * (sim_crm_check_custom_field_types).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/crm/crm_int.h"

#define NOTE_TEXT_MAX 10000

/* Whose notes: the owner kind, its hidden key on a note, and its 404 title. */
struct note_kind {
    enum sim_kind owner, note;
    const char *owner_key, *not_found;
};

static const struct note_kind customer_notes = {SIM_CUSTOMER, SIM_CUSTOMER_NOTE, "_customerId",
                                                "Customer not found"};
static const struct note_kind location_notes = {SIM_LOCATION, SIM_LOCATION_NOTE, "_locationId",
                                                "Location not found"};

static json_t *owner_or_404(struct sim_call *c, const struct note_kind *k, int64_t *id)
{
    if (!sim_param_id(c, "id", id))
        return NULL;
    json_t *row = sim_get(c->tenant, k->owner, *id);
    if (row == NULL)
        sim_not_found(c, k->not_found);
    return row;
}

/* Stores a note of owner and returns its row (borrowed). */
static json_t *note_add(struct sim_call *c, const struct note_kind *k, int64_t owner,
                        const char *text, bool pinned)
{
    json_t *row =
        json_pack("{s:s, s:b, s:I, s:I}", "text", text, "isPinned", pinned, "createdById",
                  (json_int_t)sim_crm_creator(c->tenant), k->owner_key, (json_int_t)owner);
    return sim_get(c->tenant, k->note, sim_add(c->sim, c->tenant, k->note, row));
}

static void note_create(struct sim_call *c, const struct note_kind *k, const char *copy_flag)
{
    const struct sim_field f[] = {
        {"text", SIM_F_STR, true, false},
        {"pinToTop", SIM_F_BOOL, false, true},
        {copy_flag, SIM_F_BOOL, false, true},
    };
    int64_t owner;
    json_t *row = owner_or_404(c, k, &owner);
    if (row == NULL || !sim_check_body(c, f, AP_COUNTOF(f)))
        return;
    const char *text = json_string_value(json_object_get(c->body, "text"));
    if (*text == '\0' || strlen(text) > NOTE_TEXT_MAX) {
        sim_problem_field(c, "text", "The note needs 1 to %d characters.", NOTE_TEXT_MAX);
        return;
    }
    bool pinned = json_is_true(json_object_get(c->body, "pinToTop"));
    json_t *note = note_add(c, k, owner, text, pinned);
    if (json_is_true(json_object_get(c->body, copy_flag))) {
        if (k->owner == SIM_LOCATION) {
            note_add(c, &customer_notes, sim_row_int(row, "customerId"), text, pinned);
        } else {
            size_t n;
            int64_t *locs =
                sim_index_find_id(c->tenant, sim_index_int(SIM_LOCATION, "customerId"), owner, &n);
            for (size_t i = 0; i < n; i++) {
                json_t *loc = sim_get(c->tenant, SIM_LOCATION, locs[i]);
                if (json_is_true(json_object_get(loc, "active")))
                    note_add(c, &location_notes, locs[i], text, pinned);
            }
            free(locs);
        }
    }
    sim_reply(c, 200, sim_public(note));
}

static bool pinned_first(const json_t *a)
{
    return json_is_true(json_object_get(a, "isPinned"));
}

static json_t *note_present(struct sim_call *c, const json_t *row, void *ud)
{
    return sim_public(row);
}

static void note_list(struct sim_call *c, const struct note_kind *k)
{
    int64_t owner;
    size_t n;
    if (owner_or_404(c, k, &owner) == NULL)
        return;
    int64_t *ids = sim_index_find_id(c->tenant, sim_index_int(k->note, k->owner_key), owner, &n);
    /* pinned ones first, each group in id order */
    int64_t *order = malloc((n + 1) * sizeof(*order));
    size_t m = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (pinned_first(sim_get(c->tenant, k->note, ids[i])) == (pass == 0))
                order[m++] = ids[i];
        }
    }
    struct sim_list_opts o = {.dates = true,
                              .has_cand = true,
                              .cand = order,
                              .ncand = m,
                              .keep_order = true,
                              .present = note_present};
    sim_list(c, k->note, &o);
    free(order);
    free(ids);
}

static void note_delete(struct sim_call *c, const struct note_kind *k)
{
    int64_t owner, note;
    if (owner_or_404(c, k, &owner) == NULL || !sim_param_id(c, "noteId", &note))
        return;
    json_t *row = sim_get(c->tenant, k->note, note);
    if (row == NULL || sim_row_int(row, k->owner_key) != owner) {
        sim_not_found(c, "Note not found");
        return;
    }
    sim_remove(c->sim, c->tenant, k->note, note);
    sim_reply_empty(c, 200);
}

static void customer_note_create(struct sim_call *c)
{
    note_create(c, &customer_notes, "addToLocations");
}

static void customer_note_list(struct sim_call *c)
{
    note_list(c, &customer_notes);
}

static void customer_note_delete(struct sim_call *c)
{
    note_delete(c, &customer_notes);
}

static void location_note_create(struct sim_call *c)
{
    note_create(c, &location_notes, "addToCustomer");
}

static void location_note_list(struct sim_call *c)
{
    note_list(c, &location_notes);
}

static void location_note_delete(struct sim_call *c)
{
    note_delete(c, &location_notes);
}

/* ---- custom field types -------------------------------------------------------------- */

static bool cft_of(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    return strcmp(sim_crm_str(row, "_for"), ud) == 0;
}

static void cft_list(struct sim_call *c, const char *whose)
{
    static const char *const sort[] = {"Id", "Name", "CreatedOn", "ModifiedOn", NULL};
    struct sim_list_opts o = {.sort = sort, .dates = true, .match = cft_of, .ud = (void *)whose};
    sim_list(c, SIM_CUSTOM_FIELD_TYPE, &o);
}

static void customer_cft_list(struct sim_call *c)
{
    cft_list(c, "customer");
}

static void location_cft_list(struct sim_call *c)
{
    cft_list(c, "location");
}

void sim_crm_note_routes(struct sim *s, struct ap_router *r)
{
    const char *CR = "tn.crm.customers:r", *CW = "tn.crm.customers:w";
    const char *LR = "tn.crm.locations:r", *LW = "tn.crm.locations:w";
    sim_api_route(s, r, "GET", "crm", "/customers/:id/notes", CR, customer_note_list);
    sim_api_route(s, r, "POST", "crm", "/customers/:id/notes", CW, customer_note_create);
    sim_api_route(s, r, "DELETE", "crm", "/customers/:id/notes/:noteId", CW, customer_note_delete);
    sim_api_route(s, r, "GET", "crm", "/customers/custom-fields", CR, customer_cft_list);
    sim_api_route(s, r, "GET", "crm", "/locations/:id/notes", LR, location_note_list);
    sim_api_route(s, r, "POST", "crm", "/locations/:id/notes", LW, location_note_create);
    sim_api_route(s, r, "DELETE", "crm", "/locations/:id/notes/:noteId", LW, location_note_delete);
    sim_api_route(s, r, "GET", "crm", "/locations/custom-fields", LR, location_cft_list);
}
