/*
 * routes.c — the CRM module of stsim (/crm/v2): registers the routes of its
 * parts — customers (customers.c), locations (locations.c), bookings and
 * booking provider tags (bookings.c). What the parts share is in util.c and
 * contacts.c; the demo seed is seed.c.
 */
#include "sim/crm/crm.h"
#include "sim/crm/crm_int.h"

void sim_crm_routes(struct sim *s, struct ap_router *r)
{
    sim_crm_customer_routes(s, r);
    sim_crm_location_routes(s, r);
    sim_crm_booking_routes(s, r);
}
