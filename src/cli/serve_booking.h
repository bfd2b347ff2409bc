/*
 * serve_booking.h — the booking half of `appointd serve`: the db writer
 * (bookings are durable once answered), the booking service behind the
 * widget's API, the push into ServiceTitan, and the hourly catalog refresh.
 * Started after the ServiceTitan client and the work queue, stopped in two
 * steps around the ServiceTitan client's shutdown.
 */
#ifndef AP_CLI_SERVE_BOOKING_H
#define AP_CLI_SERVE_BOOKING_H

#include <stddef.h>

#include "core/config.h"

struct ap_store;
struct ap_titan;
struct ap_fms;
struct ap_jobq;
struct ap_metrics;

struct ap_serve_booking {
    struct ap_db_writer *writer;
    struct ap_push *push;
    struct ap_bsvc *bsvc;
    struct ap_catalog_timer *catalog;
};

/*
 * Starts it all (titan may be NULL: then nothing starts and every member stays NULL, the
 * public routes answering 503). 0, or -1 with err set.
 */
int ap_serve_booking_start(struct ap_serve_booking *b, const struct ap_conf *c, struct ap_store *st,
                           struct ap_titan *t, struct ap_fms *fms, struct ap_jobq *q,
                           struct ap_metrics *m, char *err, size_t errlen);
/* Stops claiming and the catalog timer; pushes in flight get grace_ms (before the titan
 * client's shutdown, which ends the rest). */
void ap_serve_booking_stop(struct ap_serve_booking *b, int grace_ms);
/* After the HTTP server and the titan client stopped: drains the writer, frees everything. */
void ap_serve_booking_free(struct ap_serve_booking *b);

#endif
