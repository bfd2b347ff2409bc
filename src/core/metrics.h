/*
 * metrics.h — counters and histograms, rendered as Prometheus text.
 *
 * A metric family is registered once at start (not thread-safe), then
 * updated from any thread with atomics and no locks on the hot path.
 * Labels are fixed per series: ap_metrics_counter_get() finds or creates the
 * series for a label string such as `route="/healthz",status="200"` (guarded
 * by a lock; callers cache the returned pointer where they can).
 */
#ifndef AP_CORE_METRICS_H
#define AP_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct ap_metrics;
struct ap_counter;
struct ap_histogram;

struct ap_metrics *ap_metrics_new(void);
void ap_metrics_free(struct ap_metrics *m);

/* Registers a counter family; returns an opaque family id >= 0. */
int ap_metrics_counter_family(struct ap_metrics *m, const char *name, const char *help);
/* Registers a histogram family with ascending upper bounds in seconds. */
int ap_metrics_histogram_family(struct ap_metrics *m, const char *name, const char *help,
                                const double *bounds, size_t nbounds);
/* Registers a gauge whose value is read by fn at render time. */
void ap_metrics_gauge_fn(struct ap_metrics *m, const char *name, const char *help,
                         double (*fn)(void *ud), void *ud);
/* Registers a gauge family of n series, one per label string (`state="booked"`), whose values
 * fn(ud, i) reads at render time, all in one render (under the registry lock). */
void ap_metrics_gauge_set_fn(struct ap_metrics *m, const char *name, const char *help,
                             const char *const *labels, size_t n, double (*fn)(void *ud, size_t i),
                             void *ud);
/* A constant info series, e.g. appointd_build_info{version="0.1.0"} 1. */
void ap_metrics_info(struct ap_metrics *m, const char *name, const char *help, const char *labels);

/*
 * The series of family for labels (may be "" or NULL); created on first use;
 * the pointer lives as long as m. At most 1,000 series per family: past that,
 * the shared series labels `overflow="1"` (so do label strings holding a
 * newline or longer than 1024 bytes). Label values that come from outside
 * must go through ap_metrics_label_escape(). A family id of the wrong kind
 * is a bug (abort).
 */
struct ap_counter *ap_metrics_counter_get(struct ap_metrics *m, int family, const char *labels);
struct ap_histogram *ap_metrics_histogram_get(struct ap_metrics *m, int family, const char *labels);

/* Lock-free; c or h NULL does nothing. NaN observations are ignored. */
void ap_counter_add(struct ap_counter *c, uint64_t n);
void ap_histogram_observe(struct ap_histogram *h, double seconds);

/*
 * Writes in as the inside of a quoted Prometheus label value into out (size
 * n): backslash, double quote and newline are escaped (\\ \" \n), other
 * control bytes become '?'. Truncates without splitting an escape or a UTF-8
 * character. Returns out.
 */
char *ap_metrics_label_escape(const char *in, char *out, size_t n);

/*
 * Appends every family in Prometheus text exposition format 0.0.4, in
 * registration order, series in creation order (the overflow series last).
 * Histograms print cumulative _bucket{...,le="B"} lines, le="+Inf", _sum and
 * _count. Gauge callbacks run under the registry lock.
 */
enum ap_err ap_metrics_render(struct ap_metrics *m, struct ap_buf *out);

#endif
