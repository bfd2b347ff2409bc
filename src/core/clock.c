/*
 * clock.c — the system clocks, or a fake one that only tests move.
 */
#include "core/clock.h"
#include "core/datetime.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_bool fake_on;
static _Atomic int64_t fake_real;
static _Atomic int64_t fake_mono;
static _Atomic int64_t real_offset;

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ap_clock_real_ns(void)
{
    if (atomic_load_explicit(&fake_on, memory_order_acquire))
        return atomic_load(&fake_real);
    return read_clock(CLOCK_REALTIME) + atomic_load_explicit(&real_offset, memory_order_relaxed);
}

int64_t ap_clock_mono_ns(void)
{
    if (atomic_load_explicit(&fake_on, memory_order_acquire))
        return atomic_load(&fake_mono);
    return read_clock(CLOCK_MONOTONIC);
}

void ap_clock_fake_begin(int64_t real_ns, int64_t mono_ns)
{
    atomic_store(&fake_real, real_ns);
    atomic_store(&fake_mono, mono_ns);
    atomic_store_explicit(&fake_on, true, memory_order_release);
}

void ap_clock_fake_advance(int64_t ns)
{
    atomic_fetch_add(&fake_real, ns);
    atomic_fetch_add(&fake_mono, ns);
}

void ap_clock_fake_end(void)
{
    atomic_store_explicit(&fake_on, false, memory_order_release);
}

void ap_clock_set_offset(int64_t offset_ns)
{
    atomic_store(&real_offset, offset_ns);
}

int64_t ap_clock_offset(void)
{
    return atomic_load(&real_offset);
}

void ap_clock_format_utc(int64_t real_ns, char out[32])
{
    char buf[AP_TIME_BUF];

    ap_time_format(real_ns, 3, buf); /* 24 characters */
    memcpy(out, buf, 25);
}
