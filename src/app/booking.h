/*
 * booking.h — bookings as appointd keeps them: accepted durably in one
 * transaction with their idempotency key (the window re-checked inside it),
 * then pushed into ServiceTitan by the outbox (booking_push.h), each
 * ServiceTitan call logged.
 *
 * States (admin side): accepted → pushing → booked | needs_attention;
 * parked while the account's connection is refused (resumes by itself);
 * canceled. The homeowner sees received (accepted, pushing, parked),
 * confirmed (booked), needs_attention ("we'll call you") or canceled.
 *
 * A booking holds `hold` seconds of its window (tenant, business unit, window
 * start) from acceptance until ServiceTitan's own capacity includes it: while
 * accepted, pushing or parked, and once booked until a capacity answer
 * fetched after pushed_at. The acceptance counts those holds inside its
 * write, so concurrent bookings never overfill a window.
 *
 * Every function is scoped: by account for the admin side, by reference (the
 * homeowner's unguessable handle) for the public side.
 */
#ifndef AP_APP_BOOKING_H
#define AP_APP_BOOKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/booking_req.h"
#include "core/err.h"
#include "json/json.h"

struct ap_store;
struct ap_db_conn;

enum ap_booking_state {
    AP_BK_ACCEPTED,
    AP_BK_PUSHING,
    AP_BK_BOOKED,
    AP_BK_NEEDS_ATTENTION,
    AP_BK_PARKED,
    AP_BK_CANCELED,
    AP_BK_NSTATES
};
const char *ap_booking_state_name(enum ap_booking_state s);
/* -1 for an unknown name. */
int ap_booking_state_parse(const char *s);
/* What the homeowner sees: "received", "confirmed", "needs_attention", "canceled". */
const char *ap_booking_public_status(enum ap_booking_state s);

#define AP_BOOKING_REF_LEN 32 /* "bk_" + 22 base64url characters, and a NUL */
#define AP_IDEM_KEY_MAX    200

/* ---- acceptance (a write for the db writer) --------------------------------- */

enum ap_accept_result {
    AP_ACCEPT_CREATED,     /* stored: reference is new */
    AP_ACCEPT_REPLAY,      /* the same key with the same body: reference is the first one's */
    AP_ACCEPT_KEY_REUSED,  /* the same key with another body: nothing stored */
    AP_ACCEPT_WINDOW_TAKEN /* the window has no room left: nothing stored */
};

struct ap_accept {
    /* in */
    int64_t account_id, scheduler_id, tenant_id, business_unit_id, job_type_id, campaign_id;
    const char *mode;      /* "job" | "booking" */
    const char *idem_key;  /* NULL: none */
    const char *body_hash; /* hex of the normalised request */
    const struct ap_booking_req *req;
    char *summary; /* borrowed */
    int64_t hold;  /* what the booking takes from its window: seconds (local: 1) */
    int64_t open;  /* what the window has free: ServiceTitan's fresh openAvailability
                      in seconds (local: the cap) */
    bool local;    /* local capacity: count bookings, not hours */
    int64_t capacity_fetched_real;      /* wall ns the fresh capacity was asked at */
    char reference[AP_BOOKING_REF_LEN]; /* pre-made by the caller for CREATED */
    /* out */
    enum ap_accept_result result;
    char existing[AP_BOOKING_REF_LEN]; /* REPLAY */
    int64_t held;                      /* seconds (local: bookings) held when checked */
};

/* A fresh reference ("bk_…", 128 random bits). */
void ap_booking_new_reference(char out[AP_BOOKING_REF_LEN]);

/*
 * The write (ap_db_write_fn for the db writer, arg a struct ap_accept):
 * idempotency first, then the holds of the window against a->open, then the
 * booking and its key. AP_OK with a->result set whatever the outcome (only
 * CREATED writes); a store error as such.
 */
enum ap_err ap_booking_accept_write(struct ap_db_conn *c, void *arg);

/*
 * The write's count of what a window's other bookings hold, run on the writer
 * thread for every booking: ServiceTitan capacity (binds: tenant, business
 * unit, window start, capacity fetched at) sums the seconds of the unpushed
 * and the just-pushed; local capacity (binds: scheduler, window start) counts
 * bookings. Both are answered from an index alone (migration 7), so a busy
 * window's rows are never read; tests/unit/app/test_booking.c checks the plan.
 */
extern const char ap_booking_held_sql[];
extern const char ap_booking_held_local_sql[];

/*
 * Before the re-check: the reference already stored for (scheduler, key), if
 * any. AP_OK with *same telling whether the body hash matches; AP_ENOTFOUND
 * when the key is new.
 */
enum ap_err ap_booking_idem_lookup(struct ap_store *st, int64_t scheduler_id, const char *key,
                                   const char *body_hash, char ref[AP_BOOKING_REF_LEN], bool *same);

/* ---- reading ------------------------------------------------------------------ */

/* What the confirmation page shows (GET /api/v1/bookings/{reference}): status, service,
 * window (in the scheduler's zone), address, timeZone, scheduler name and phone. */
enum ap_err ap_booking_public_json(struct ap_store *st, const char *reference, json_t **out);

/* Admin list filters (0 / NULL: any). */
struct ap_booking_filter {
    int state;             /* -1 any */
    const char *scheduler; /* key */
    const char *since;     /* created at or after, RFC 3339 or YYYY-MM-DD */
    const char *until;     /* created before (exclusive), RFC 3339 or YYYY-MM-DD */
    const char *search;    /* reference, name or phone digits */
    int limit, offset;     /* limit 1..500, default 50 */
};

/* {"bookings": [{reference, state, scheduler, service, window, name, createdAt,
 * servicetitan: {customerId, locationId, jobId, appointmentId, bookingId}}], "total"}, newest
 * first. */
enum ap_err ap_booking_list_json(struct ap_store *st, int64_t account_id,
                                 const struct ap_booking_filter *f, json_t **out);
/* One booking with the homeowner's details, last error and its ServiceTitan call log.
 * account_id 0: any account (the CLI). AP_ENOTFOUND otherwise. */
enum ap_err ap_booking_show_json(struct ap_store *st, int64_t account_id, const char *reference,
                                 json_t **out);

/* Counts by state for the account (or all accounts: 0), for metrics and the navigation. */
enum ap_err ap_booking_counts(struct ap_store *st, int64_t account_id,
                              int64_t counts[AP_BK_NSTATES]);

/* ---- operator actions ----------------------------------------------------------- */

/* needs_attention/parked → accepted, due now. AP_ECONFLICT from other states. */
enum ap_err ap_booking_retry(struct ap_store *st, int64_t account_id, const char *reference);
/* Marks a needs_attention (or parked) booking handled by hand: → booked, note kept. */
enum ap_err ap_booking_resolve(struct ap_store *st, int64_t account_id, const char *reference,
                               const char *note);
/* Cancels a booking not yet in ServiceTitan (accepted, needs_attention, parked): its hold goes.
 * A booked one is canceled in ServiceTitan, not here (AP_ECONFLICT). */
enum ap_err ap_booking_cancel(struct ap_store *st, int64_t account_id, const char *reference,
                              const char *note);

#endif
