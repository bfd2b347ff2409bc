/*
 * crm_int.h — private to the CRM module of stsim (sim/crm/): the helpers its
 * files share (request validation pieces, record builders and filters in
 * util.c, the contacts sub-resource in contacts.c) and the route
 * registration of each part. Nothing outside sim/crm/ includes it.
 *
 * Stored shapes (see core/model.h: records are the response schemas of
 * crm-v2.json):
 *   customer      CustomerResponse + hidden "_ext" (external data with guids)
 *   location      LocationResponse + hidden "_ext"
 *   cust. contact CustomerContactWithModifiedOnResponse + "_customerId", "_active"
 *   loc. contact  LocationContactResponse + "_locationId", "_active"
 *   booking       BookingResponse + "_providerId"
 *   book. contact BookingContactResponse + "_bookingId"
 *   provider tag  GetBookingProviderTagResponse
 * Contacts are soft-deleted ("_active": false) so the export feeds can show
 * the deletion; every list skips them.
 */
#ifndef SIM_CRM_CRM_INT_H
#define SIM_CRM_CRM_INT_H

#include "sim/core/api.h"

/* Longest string accepted in any CRM body field. */
#define CRM_MAX_STR 4000
/* Most entries in any array of a CRM body (contacts, locations, tags ...). */
#define CRM_MAX_ITEMS 100

extern const char *const sim_crm_contact_types[]; /* Phone, Email, Fax, MobilePhone, NULL */

/* ---- validation: each adds "path" → ["message"] to errors ---------------- */

/* Appends a printf-formatted message to errors[field]. */
void sim_crm_err(json_t *errors, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* When obj[key] is a string that is not one of vals (NULL-terminated): an error at prefix+key. */
void sim_crm_check_enum(const json_t *obj, const char *prefix, const char *key,
                        const char *const *vals, json_t *errors);
/* An address object at path; patch: every field optional. with_coords: latitude/longitude allowed.
 */
void sim_crm_check_address(const json_t *addr, const char *path, bool patch, bool with_coords,
                           json_t *errors);
/* An array (or null) of {type, value, memo} contacts at path. */
void sim_crm_check_contacts(const json_t *arr, const char *path, json_t *errors);
/* An array (or null) of integers. */
void sim_crm_check_int_array(const json_t *arr, const char *path, json_t *errors);
/* The body as an object ({} when absent). */
const json_t *sim_crm_body(struct sim_call *c);
/* Answers 400 with errors when it is not empty (then returns false); frees errors. */
bool sim_crm_errors_ok(struct sim_call *c, json_t *errors);
/* A string of at most CRM_MAX_STR chars; else an error. NULL-safe. */
void sim_crm_check_len(const json_t *obj, const char *prefix, const char *key, json_t *errors);

/* ---- record builders ---------------------------------------------------- */

/* Stored address from a validated input (unit/latitude/longitude null when absent). */
json_t *sim_crm_address(const json_t *in, bool with_coords);
/* Merges a validated partial address into addr (in place). */
void sim_crm_address_patch(json_t *addr, const json_t *in);
/* Array of integers copied (NULL → []). */
json_t *sim_crm_int_array(const json_t *in);
/* A contact row for kind (customer/location): owner_key "_customerId"/"_locationId". */
json_t *sim_crm_contact_row(struct sim *s, const json_t *in, const char *owner_key, int64_t owner);
/* Applies a validated contact PATCH body to a stored contact row. */
void sim_crm_contact_patch(json_t *row, const json_t *in);
/* {id, type, value, memo} of a stored contact (the embedded shape of create responses). */
json_t *sim_crm_contact_brief(const json_t *row);
/* The employee id used as createdById (first employee, else 1). */
int64_t sim_crm_creator(struct sim_tenant *t);
/* Zone id whose zips hold zip, or 0. */
int64_t sim_crm_zone_for_zip(struct sim_tenant *t, const char *zip);
/* Customer id merged into target (inactive, mergedToId), its locations into target's first. */
void sim_crm_merge(struct sim *s, struct sim_tenant *t, int64_t id, int64_t target);
/* Customers of the demo seed at its default scale (docs/stsim.md, Demo seed). */
#define SIM_CRM_DEMO_CUSTOMERS 200
/* Adds a location (customerId set) and its contacts; returns the create response (new ref). */
json_t *sim_crm_location_add(struct sim *s, struct sim_tenant *t, int64_t customer_id,
                             const json_t *in);

/* ---- filters ------------------------------------------------------------- */

bool sim_crm_icontains(const char *hay, const char *needle);
bool sim_crm_iequal(const char *a, const char *b);
const char *sim_crm_str(const json_t *obj, const char *key); /* "" when absent/not a string */
/* Copies only the digits of in into out (size n). */
void sim_crm_digits(const char *in, char *out, size_t n);

/*
 * Filters shared by the customer and location lists: name, street, unit,
 * city, state, zip, country, latitude, longitude and the external data ones.
 */
struct crm_addr_filter {
    const char *name, *street, *unit, *city, *state, *zip, *country;
    bool has_lat, has_lon;
    double lat, lon;
    struct sim_ext_filter ext;
};
/* Parses the query into f; answers 400 itself and returns false on a bad value. */
bool sim_crm_addr_filter_parse(struct sim_call *c, struct crm_addr_filter *f);
bool sim_crm_addr_filter_match(const struct crm_addr_filter *f, const json_t *row);
/* True when the request set any of f's filters. */
bool sim_crm_addr_filter_any(const struct crm_addr_filter *f);

/* ---- indexes (index.c) --------------------------------------------------- */

enum crm_ix {
    CRM_IX_CC_PHONE,      /* customer contacts by the last 7 digits of their phone */
    CRM_IX_LC_PHONE,      /* location contacts, the same */
    CRM_IX_CUST_ZIP,      /* customers by address ZIP (lowercase) */
    CRM_IX_LOC_ZIP,       /* locations by address ZIP */
    CRM_IX_BOOKING_EXTID, /* bookings by externalId */
};
/* The slot of a CRM key index, defined on first use. */
int sim_crm_ix(enum crm_ix which);
/* Does contact's phone match digits (either one a suffix of the other)? Active,
 * non-email contacts only. */
bool sim_crm_phone_is(const json_t *contact, const char *digits);
/* The customers with a contact, or a location contact, of phone digits: ascending,
 * distinct, malloc'd (NULL when none). */
int64_t *sim_crm_customers_by_phone(struct sim_tenant *t, const char *digits, size_t *n);
/* The rows of kind k (customers or locations) the index-backed filters of f (external
 * data, ZIP) allow, with *has true; *has false and NULL when f sets none of them. */
int64_t *sim_crm_addr_candidates(struct sim_tenant *t, enum sim_kind k,
                                 const struct crm_addr_filter *f, bool *has, size_t *n);

/*
 * Parses a comma-separated id list query parameter (at most max ids) into an
 * arena array; *n = 0 when absent. Answers 400 and returns false when bad.
 */
bool sim_crm_id_list(struct sim_call *c, const char *param, size_t max, int64_t **ids, size_t *n);
bool sim_crm_id_in(const int64_t *ids, size_t n, int64_t id);

/* ---- shared handlers ---------------------------------------------------- */

/* A NewLocation body at prefix ("" or "locations[0]."); with_customer: customerId required too. */
void sim_crm_check_new_location(struct sim_tenant *t, const json_t *loc, const char *prefix,
                                bool with_customer, json_t *errors);

/* The contacts sub-resource of customers and of locations. */
struct crm_contact_kind {
    enum sim_kind kind, owner_kind;
    const char *owner_key, *not_found; /* "_customerId", "Customer not found" */
};
void sim_crm_contact_create(struct sim_call *c, const struct crm_contact_kind *k);
void sim_crm_contact_update(struct sim_call *c, const struct crm_contact_kind *k);
void sim_crm_contact_delete(struct sim_call *c, const struct crm_contact_kind *k);
/* GET /customers/{id}/contacts, /locations/{id}/contacts: the owner's active contacts. */
void sim_crm_contacts_of(struct sim_call *c, enum sim_kind k, const char *owner_key, int64_t owner);
/* GET /customers/contacts, /locations/contacts: owner ids (ids_param) or a modified range. */
void sim_crm_contacts_all(struct sim_call *c, enum sim_kind k, const char *ids_param,
                          const char *owner_key, const char *visible);
/* Contact export feeds: show the owner id as visible and "active". */
void sim_crm_export_contacts(struct sim_call *c, enum sim_kind k, const char *owner_key,
                             const char *visible);

/* ---- parts ------------------------------------------------------------- */

void sim_crm_customer_routes(struct sim *s, struct ap_router *r);
void sim_crm_note_routes(struct sim *s, struct ap_router *r);
void sim_crm_control_routes(struct sim *s, struct ap_router *r);
void sim_crm_lead_routes(struct sim *s, struct ap_router *r);
/* Seeds n leads, one a day from since (after the customers and campaigns). */
void sim_crm_seed_leads(struct sim *s, struct sim_tenant *t, size_t n, int64_t since);
void sim_crm_location_routes(struct sim *s, struct ap_router *r);
void sim_crm_booking_routes(struct sim *s, struct ap_router *r);

#endif
