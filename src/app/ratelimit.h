/*
 * ratelimit.h — request rates per key (a client address, a scheduler): a
 * bounded table of GCRA token buckets for the public booking API, where
 * anyone on the internet may call.
 *
 * Each key may make `rate` requests per second with bursts of `burst`. The
 * table has a fixed number of entries; a new key takes a free entry, or the
 * one idle longest, but never evicts a key that is being limited right now
 * (its theoretical arrival time is in the future): when every candidate is,
 * new keys share one overflow bucket with the same rate, so a flood from
 * many addresses slows itself and forgets nobody's limit.
 *
 * Thread-safe (one mutex, a few compares per call).
 */
#ifndef AP_APP_RATELIMIT_H
#define AP_APP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ap_ratelimit;

/* rate > 0 per second, burst >= 1, entries >= 16 (rounded up to sets of 8). */
struct ap_ratelimit *ap_ratelimit_new(double rate, int burst, size_t entries);
void ap_ratelimit_free(struct ap_ratelimit *r);

/*
 * Whether key (any text; cut at 128 bytes) may make a request at now_ns
 * (monotonic). false sets *retry_s (>= 1) to the seconds to wait.
 */
bool ap_ratelimit_allow(struct ap_ratelimit *r, const char *key, int64_t now_ns, int *retry_s);

#endif
