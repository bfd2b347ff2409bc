/*
 * booking_push.h — the outbox: accepted bookings pushed into ServiceTitan,
 * exactly once, whatever ServiceTitan does.
 *
 * A poller thread claims due bookings with a lease (state pushing,
 * lease_until, lease_owner: a booking is never pushed by two pushers at
 * once; a pusher that dies leaves a lease that expires) and runs each as a
 * small state machine on the titan engine — no thread per booking or per
 * call, many bookings in flight per account (up to `per_account`), each
 * tenant held to its own rate limit by the titan client. Every ServiceTitan
 * call is logged (booking_calls) through the db writer.
 *
 * Steps, job mode (docs/api.md "Bookings"): after a failed or interrupted
 * attempt, first look up what the last one may have created, by our
 * reference in the records' external data (jobs, then customers) — never
 * create twice; then find the customer by phone (active=Any; a merged one is
 * followed to mergedToId), else by street + ZIP; several candidates → the
 * e-mail breaks ties, else a CRM booking for a CSR; Do Not Service →
 * needs_attention; reuse the location at the address or add one; create the
 * job with its appointment (the window, UTC) and our reference in its
 * external data. Booking mode: find whether the homeowner is a customer
 * (phone), then create the CRM booking on the provider with externalId =
 * our reference (looked up by externalId after an interrupted attempt).
 *
 * Outcomes: a transient failure (network, timeout, 429, 5xx) retries later
 * with jittered backoff honouring Retry-After; a refusal (400/404/409/422 on
 * a write, Do Not Service, no booking provider for an ambiguous match) stops
 * in needs_attention with ServiceTitan's title, field errors and trace id;
 * a refused connection (401 after the refresh, 403) parks the account's
 * bookings until its connection is connected again (the FMS health check
 * decides), then they go on by themselves.
 */
#ifndef AP_APP_BOOKING_PUSH_H
#define AP_APP_BOOKING_PUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct ap_store;
struct ap_db_writer;
struct ap_titan;
struct ap_fms;
struct ap_metrics;

struct ap_push_opts {
    const char *app_guid;       /* the operator's ServiceTitan application GUID (external data) */
    int per_account;            /* bookings in flight per account; default 64 */
    int lease_s;                /* default 600 */
    int rate_per_s;             /* the titan client's requests/s per tenant; default 50 */
    int poll_ms;                /* idle poll interval; default 1000 */
    int call_timeout_ms;        /* deadline of one ServiceTitan call; default 60000 */
    int backoff_max_s;          /* longest wait between attempts; default 600 */
    const char *owner;          /* lease owner name; default "host:pid" */
    struct ap_metrics *metrics; /* may be NULL */
};

struct ap_push;

/* Starts the poller. Everything borrowed must outlive it. NULL when the thread cannot start. */
struct ap_push *ap_push_start(struct ap_store *st, struct ap_db_writer *w, struct ap_titan *t,
                              struct ap_fms *fms, const struct ap_push_opts *o);
/* Wakes the poller now (a booking was just accepted). Any thread. */
void ap_push_kick(struct ap_push *p);
/*
 * Stops claiming and waits (up to grace_ms) for the bookings in flight to
 * finish. Then shut the titan client down: it ends the rest (their leases
 * expire, and the next start resumes them, looking up before creating), and
 * ap_push_free() waits for their ends to be written. NULL ok.
 */
void ap_push_stop(struct ap_push *p, int grace_ms);
/* After the titan client's shutdown and before the writer's: frees. NULL ok. */
void ap_push_free(struct ap_push *p);

struct ap_push_stats {
    uint64_t claimed, booked, needs_attention, parked, retried, calls;
    uint64_t in_flight;
};
void ap_push_stats(struct ap_push *p, struct ap_push_stats *out);

#endif
