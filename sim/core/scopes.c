/*
 * scopes.c — the scopes of the seeded apps: what the demo app
 * (appointd-demo) asks for, and every scope a route of stsim needs (asked for
 * by the seeded inspector app, and checked by the gate at start: a route
 * whose scope is not in the list is a typo).
 */
#include <stddef.h>

#include "sim/core/seed.h"

/*
 * What appointd asks for (contract C1 of docs; the least ServiceTitan
 * permissions the booking product needs), in C1's order: nothing else, so
 * that a route appointd should not call answers 403 in its tests.
 */
const char *const sim_demo_scopes[] = {
    "tn.crm.customers:r",
    "tn.crm.customers:w",
    "tn.crm.locations:r",
    "tn.crm.locations:w",
    "tn.crm.bookings:r",
    "tn.crm.bookings:w",
    "tn.crm.bookingprovidertags:r",
    "tn.jpm.jobs:r",
    "tn.jpm.jobs:w",
    "tn.jpm.jobtypes:r",
    "tn.settings.businessunits:r",
    "tn.dis.capacity:w",
    "tn.dis.arrivalwindows:r",
    "tn.marketing.campaigns:r",
    "tn.settings.tagtypes:r",
    "tn.dis.zones:r",
    NULL,
};

/* Every scope a route needs (the spelling of those the notes do not give is stsim's). */
const char *const sim_known_scopes[] = {
    "tn.crm.customers:r",
    "tn.crm.customers:w",
    "tn.crm.locations:r",
    "tn.crm.locations:w",
    "tn.crm.bookings:r",
    "tn.crm.bookings:w",
    "tn.crm.bookingprovidertags:r",
    "tn.crm.bookingprovidertags:w",
    "tn.crm.leads:r",
    "tn.crm.leads:w",
    "tn.jpm.jobs:r",
    "tn.jpm.jobs:w",
    "tn.jpm.appointments:r",
    "tn.jpm.appointments:w",
    "tn.jpm.jobtypes:r",
    "tn.settings.businessunits:r",
    "tn.settings.technicians:r",
    "tn.settings.employees:r",
    "tn.settings.tagtypes:r",
    "tn.settings.userroles:r",
    "tn.dis.capacity:w",
    "tn.dis.arrivalwindows:r",
    "tn.dis.arrivalwindows:w",
    "tn.dis.businesshours:r",
    "tn.dis.businesshours:w",
    "tn.dis.zones:r",
    "tn.dis.technicianshifts:r",
    "tn.dis.technicianshifts:w",
    "tn.dis.appointmentassignments:r",
    "tn.dis.appointmentassignments:w",
    "tn.dis.teams:r",
    "tn.marketing.campaigns:r",
    "tn.jbce.callreasons:r",
    NULL,
};
