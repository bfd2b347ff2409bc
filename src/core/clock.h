/*
 * clock.h — the injectable clock.
 *
 * All code asks ap_clock_* for time, never time() or clock_gettime()
 * directly, so tests can move time forward. Both functions are thread-safe.
 */
#ifndef AP_CORE_CLOCK_H
#define AP_CORE_CLOCK_H

#include <stdint.h>

/* Wall-clock time, nanoseconds since the Unix epoch. */
int64_t ap_clock_real_ns(void);
/* Monotonic time in nanoseconds, for durations and timeouts. */
int64_t ap_clock_mono_ns(void);

/*
 * Tests: replace both clocks with a fake that starts at real_ns / mono_ns and
 * only moves with ap_clock_fake_advance(). ap_clock_fake_end() restores the
 * system clocks.
 */
void ap_clock_fake_begin(int64_t real_ns, int64_t mono_ns);
void ap_clock_fake_advance(int64_t ns);
void ap_clock_fake_end(void);

/*
 * Tests and demos (appointd's --debug-routes): shifts the wall clock by
 * offset_ns from now on (0 puts it back), as stsim's /_stsim/clock shifts
 * its own, so both can play the same day. The monotonic clock is untouched:
 * timers, deadlines and cache ages keep real time.
 */
void ap_clock_set_offset(int64_t offset_ns);
int64_t ap_clock_offset(void);

/* Formats real_ns as RFC 3339 UTC with milliseconds into out (>= 25 bytes). */
void ap_clock_format_utc(int64_t real_ns, char out[32]);

#endif
