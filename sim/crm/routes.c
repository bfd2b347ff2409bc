/*
 * routes.c — the CRM module of stsim (/crm/v2): registers the routes of its
 * parts — customers (customers.c), locations (locations.c), bookings and
 * booking provider tags (bookings.c). What the parts share is in util.c and
 * contacts.c; the demo seed is seed.c.
 */
#include "sim/crm/crm.h"
#include "sim/crm/crm_int.h"

/* Every index the module uses, defined now so that warming a tenant builds them all. */
static void define_indexes(void)
{
    static const enum crm_ix ixs[] = {CRM_IX_CC_PHONE, CRM_IX_LC_PHONE, CRM_IX_CUST_ZIP,
                                      CRM_IX_LOC_ZIP, CRM_IX_BOOKING_EXTID};
    for (size_t i = 0; i < AP_COUNTOF(ixs); i++)
        sim_crm_ix(ixs[i]);
    sim_index_int(SIM_CUSTOMER_CONTACT, "_customerId");
    sim_index_int(SIM_LOCATION_CONTACT, "_locationId");
    sim_index_int(SIM_LOCATION, "customerId");
    sim_index_int(SIM_BOOKING_CONTACT, "_bookingId");
    sim_index_int(SIM_CUSTOMER_NOTE, "_customerId");
    sim_index_int(SIM_LOCATION_NOTE, "_locationId");
    sim_ext_index(SIM_CUSTOMER);
    sim_ext_index(SIM_LOCATION);
}

void sim_crm_routes(struct sim *s, struct ap_router *r)
{
    define_indexes();
    sim_crm_customer_routes(s, r);
    sim_crm_note_routes(s, r);
    sim_crm_lead_routes(s, r);
    sim_crm_control_routes(s, r);
    sim_crm_location_routes(s, r);
    sim_crm_booking_routes(s, r);
}
