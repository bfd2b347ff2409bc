/*
 * index.c — how the CRM module finds rows without walking a tenant's
 * tables: key indexes of contacts by phone (their last seven digits),
 * customers and locations by ZIP, bookings by externalId (sim_crm_ix), the
 * customer search by phone built on them, and the candidates a customer or
 * location list starts from. Indexes by an owner id (a contact's customer,
 * a location's customer) are the core's sim_index_int.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/crm/crm_int.h"

#define PHONE_KEY_DIGITS 7 /* a search of at least this many digits uses the index */

/* ---- keys ------------------------------------------------------------------------- */

/* The digits of an active phone-like contact, or "" (emails, deleted contacts). */
static void contact_digits(const json_t *contact, char out[64])
{
    out[0] = '\0';
    if (!json_is_true(json_object_get(contact, "_active")) ||
        strcmp(sim_crm_str(contact, "type"), "Email") == 0)
        return;
    sim_crm_digits(sim_crm_str(contact, "value"), out, 64);
}

/* The last 7 digits; numbers shorter than that under "short" (they match any search
 * ending in them, so a lookup always checks them too). */
static void phone_keys(const json_t *row, struct sim_keys *out)
{
    char d[64];
    size_t n;

    contact_digits(row, d);
    n = strlen(d);
    if (n >= PHONE_KEY_DIGITS)
        sim_keys_add(out, "%s", d + n - PHONE_KEY_DIGITS);
    else if (n > 0)
        sim_keys_add(out, "short");
}

static void zip_keys(const json_t *row, struct sim_keys *out)
{
    const char *zip = sim_crm_str(json_object_get(row, "address"), "zip");
    char z[SIM_KEY_LEN];
    size_t n = 0;

    for (; *zip != '\0' && n + 1 < sizeof(z); zip++)
        z[n++] = (char)tolower((unsigned char)*zip);
    z[n] = '\0';
    if (n > 0)
        sim_keys_add(out, "%s", z);
}

static void external_id_keys(const json_t *row, struct sim_keys *out)
{
    const char *v = sim_crm_str(row, "externalId");

    if (*v != '\0')
        sim_keys_add(out, "%s", v);
}

int sim_crm_ix(enum crm_ix which)
{
    switch (which) {
    case CRM_IX_CC_PHONE:
        return sim_index_define(SIM_CUSTOMER_CONTACT, "phone", phone_keys);
    case CRM_IX_LC_PHONE:
        return sim_index_define(SIM_LOCATION_CONTACT, "phone", phone_keys);
    case CRM_IX_CUST_ZIP:
        return sim_index_define(SIM_CUSTOMER, "zip", zip_keys);
    case CRM_IX_LOC_ZIP:
        return sim_index_define(SIM_LOCATION, "zip", zip_keys);
    case CRM_IX_BOOKING_EXTID:
        return sim_index_define(SIM_BOOKING, "externalId", external_id_keys);
    }
    return -1;
}

/* ---- the phone search ------------------------------------------------------------------ */

bool sim_crm_phone_is(const json_t *contact, const char *digits)
{
    char have[64];

    contact_digits(contact, have);
    size_t hn = strlen(have), wn = strlen(digits);
    /* "2145550123" matches "+1 (214) 555-0123" and the other way round */
    return hn && wn &&
           (hn >= wn ? strcmp(have + hn - wn, digits) == 0 : strcmp(digits + wn - hn, have) == 0);
}

struct idset {
    int64_t *v;
    size_t n, cap;
};

static void idset_add(struct idset *s, int64_t id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = ap_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = id;
}

/* The contacts of kind k whose phone may match digits: from the index, or all of them for a
 * search shorter than the index's keys. */
static int64_t *phone_candidates(struct sim_tenant *t, enum sim_kind k, int slot,
                                 const char *digits, size_t *n)
{
    size_t len = strlen(digits), m = 0;
    int64_t *ids, *shorts;

    if (len < PHONE_KEY_DIGITS) {
        ids = ap_xmalloc((sim_count(t, k) + 1) * sizeof(*ids));
        for (size_t i = 0; i < sim_count(t, k); i++)
            ids[i] = sim_row_id(sim_at(t, k, i));
        *n = sim_count(t, k);
        return ids;
    }
    ids = sim_index_find(t, slot, digits + len - PHONE_KEY_DIGITS, n);
    shorts = sim_index_find(t, slot, "short", &m);
    if (m > 0) {
        ids = ap_xrealloc(ids, (*n + m) * sizeof(*ids));
        memcpy(ids + *n, shorts, m * sizeof(*ids));
        *n += m;
    }
    free(shorts);
    return ids;
}

static void phone_owners(struct sim_tenant *t, enum sim_kind k, const char *digits,
                         struct idset *out)
{
    bool loc = k == SIM_LOCATION_CONTACT;
    size_t n;
    int64_t *ids =
        phone_candidates(t, k, sim_crm_ix(loc ? CRM_IX_LC_PHONE : CRM_IX_CC_PHONE), digits, &n);

    for (size_t i = 0; i < n; i++) {
        const json_t *ct = sim_get(t, k, ids[i]);
        if (ct == NULL || !sim_crm_phone_is(ct, digits))
            continue;
        int64_t owner =
            json_integer_value(json_object_get(ct, loc ? "_locationId" : "_customerId"));
        if (loc) {
            const json_t *l = sim_get(t, SIM_LOCATION, owner);
            owner = l != NULL ? json_integer_value(json_object_get(l, "customerId")) : 0;
        }
        if (owner > 0)
            idset_add(out, owner);
    }
    free(ids);
}

static int id_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int64_t *sim_crm_customers_by_phone(struct sim_tenant *t, const char *digits, size_t *n)
{
    struct idset s = {0};

    if (*digits != '\0') {
        phone_owners(t, SIM_CUSTOMER_CONTACT, digits, &s);
        phone_owners(t, SIM_LOCATION_CONTACT, digits, &s);
    }
    if (s.n > 1)
        qsort(s.v, s.n, sizeof(*s.v), id_cmp);
    *n = s.n;
    return s.v;
}

/* ---- the candidates of a customer or location list ------------------------------------------ */

int64_t *sim_crm_addr_candidates(struct sim_tenant *t, enum sim_kind k,
                                 const struct crm_addr_filter *f, bool *has, size_t *n)
{
    char z[SIM_KEY_LEN];
    size_t i = 0;

    *has = true;
    if (sim_ext_filter_active(&f->ext))
        return sim_ext_candidates(t, k, &f->ext, n);
    if (f->zip != NULL && *f->zip != '\0') {
        for (; f->zip[i] != '\0' && i + 1 < sizeof(z); i++)
            z[i] = (char)tolower((unsigned char)f->zip[i]);
        z[i] = '\0';
        return sim_index_find(t, sim_crm_ix(k == SIM_CUSTOMER ? CRM_IX_CUST_ZIP : CRM_IX_LOC_ZIP),
                              z, n);
    }
    *has = false;
    *n = 0;
    return NULL;
}
