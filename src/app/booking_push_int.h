/*
 * booking_push_int.h — the insides of the outbox shared by booking_push.c
 * (the poller: claims, leases, parking, the end of a push) and push_steps.c
 * (one booking's state machine of ServiceTitan calls).
 */
#ifndef AP_APP_BOOKING_PUSH_INT_H
#define AP_APP_BOOKING_PUSH_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "app/booking.h"
#include "app/booking_push.h"
#include "app/fms_conn.h"
#include "titan/titan.h"

/* The external data key that carries our reference on customers, locations and jobs. */
#define AP_PUSH_EXT_KEY "appointd.booking"

enum push_step {
    STEP_LOOKUP_JOB,      /* resume: the job made by an interrupted attempt */
    STEP_LOOKUP_CUSTOMER, /* resume: the customer made by an interrupted attempt */
    STEP_LOOKUP_BOOKING,  /* resume (booking mode): the CRM booking by externalId */
    STEP_BY_PHONE,        /* customers with the homeowner's phone */
    STEP_BY_ADDRESS,      /* customers at the street and ZIP */
    STEP_FOLLOW_MERGE,    /* the customer a merged one became */
    STEP_CONTACTS,        /* a candidate's contacts, for the e-mail tie-break */
    STEP_FIND_LOCATION,   /* the customer's location at the address */
    STEP_CREATE_CUSTOMER, /* with its location */
    STEP_CREATE_LOCATION,
    STEP_CREATE_JOB,     /* with its appointment */
    STEP_CREATE_BOOKING, /* a CRM booking for a CSR */
};

/* How a push ended. */
enum push_outcome { PUSH_BOOKED, PUSH_NEEDS_ATTENTION, PUSH_RETRY, PUSH_PARK };

#define PUSH_MAX_CANDIDATES 8

struct push_job {
    struct ap_push *p;
    /* the booking */
    int64_t id, account_id;
    char reference[AP_BOOKING_REF_LEN];
    bool booking_mode; /* a CRM booking (mode, or an ambiguous match) */
    bool resume;       /* an earlier attempt may have created things */
    int attempts;
    int64_t accepted_at; /* wall ns */
    json_t *req;         /* the normalised request */
    char *summary;
    int64_t bu, job_type, campaign, window_start, window_end;
    char priority[8];
    int64_t tag_ids[20];
    size_t ntags;
    int64_t provider; /* booking provider tag, 0 none */
    bool first_time;  /* no customer matched (booking mode) */
    /* ServiceTitan */
    struct ap_fms_conn conn;
    enum push_step step;
    int64_t customer, location, job, appointment, booking;
    struct push_cand {
        int64_t id;
        bool dns;    /* Do Not Service */
        bool follow; /* merged: mergedToId still to be read */
        int depth;   /* merges followed */
        bool email;  /* one of its contacts is the homeowner's e-mail */
    } cand[PUSH_MAX_CANDIDATES];
    size_t ncand, at; /* follow / contacts: the candidate being read */
    bool tie_read;    /* the candidates' contacts were read for the e-mail */
    char path[256], query[768];
    json_t *body;
    int64_t call_started; /* mono ns */
    /* the end */
    enum push_outcome outcome;
    int retry_after_s;
    json_t *error; /* {title, fields, traceId, status} */
};

struct ap_push {
    struct ap_store *st;
    struct ap_db_writer *w;
    struct ap_titan *t;
    struct ap_fms *fms;
    struct ap_push_opts o;
    char owner[96];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping, kicked;
    /* bookings in flight, per account (a small table) */
    struct push_acct {
        int64_t account_id;
        int in_flight;
    } * accts;
    size_t naccts;
    int in_flight; /* all accounts */
    _Atomic uint64_t n_claimed, n_booked, n_attention, n_parked, n_retried, n_calls;
    struct ap_histogram *latency; /* accepted → booked */
    struct ap_counter *by_outcome[4];
};

/* push_steps.c: starts the first call of a claimed job (any thread). */
void ap_push_job_begin(struct push_job *j);
/* booking_push.c: the end of a job (any thread): persists its outcome, frees it. */
void ap_push_job_end(struct push_job *j);
/* booking_push.c: logs one ServiceTitan call of a job through the writer. */
void ap_push_log_call(struct push_job *j, const char *method, enum ap_err err,
                      const struct ap_titan_error *e, const char *created);

#endif
