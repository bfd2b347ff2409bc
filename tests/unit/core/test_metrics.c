/*
 * test_metrics.c — counters and histograms updated from several threads,
 * the exact Prometheus text a scraper reads, the per-family series cap and
 * label value escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"

#define NTHREADS   4
#define PER_THREAD 100000

/* Renders m and compares the whole output with the expected lines. */
static void assert_render(struct ap_metrics *m, const char *const *want, size_t nwant)
{
    struct ap_buf out;
    ap_buf_init(&out, 1 << 20);
    assert_int_equal(ap_metrics_render(m, &out), AP_OK);
    char *line = out.data ? out.data : "";
    for (size_t i = 0; i < nwant; i++) {
        char *nl = strchr(line, '\n');
        if (!nl)
            fail_msg("output ended before line %zu: %s", i, want[i]);
        *nl = '\0';
        assert_string_equal(line, want[i]);
        line = nl + 1;
    }
    assert_string_equal(line, ""); /* nothing after the last expected line */
    ap_buf_cleanup(&out);
}

/* Renders m and returns the value on the line that starts with prefix, or -1. */
static double rendered_value(struct ap_metrics *m, const char *prefix)
{
    struct ap_buf out;
    double v = -1;
    ap_buf_init(&out, 1 << 22);
    assert_int_equal(ap_metrics_render(m, &out), AP_OK);
    for (char *line = out.data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, prefix, strlen(prefix)) == 0 && line[strlen(prefix)] == ' ')
            v = strtod(line + strlen(prefix) + 1, NULL);
        line = nl ? nl + 1 : NULL;
    }
    ap_buf_cleanup(&out);
    return v;
}

struct worker {
    struct ap_metrics *m;
    int counter_family, histogram_family;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    /* Each thread finds the series itself: creation must hand all the same one. */
    struct ap_counter *c = ap_metrics_counter_get(w->m, w->counter_family, "route=\"/x\"");
    struct ap_histogram *h = ap_metrics_histogram_get(w->m, w->histogram_family, "");
    for (int i = 0; i < PER_THREAD; i++) {
        ap_counter_add(c, 1);
        ap_histogram_observe(h, 0.5);
    }
    return NULL;
}

static void test_threads_sum(void **state)
{
    static const double bounds[] = {0.25, 1};
    struct ap_metrics *m = ap_metrics_new();
    struct worker w = {m, ap_metrics_counter_family(m, "requests_total", "Requests."),
                       ap_metrics_histogram_family(m, "latency_seconds", "Latency.", bounds, 2)};
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work, &w), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    const char *const want[] = {
        "# HELP requests_total Requests.",
        "# TYPE requests_total counter",
        "requests_total{route=\"/x\"} 400000",
        "# HELP latency_seconds Latency.",
        "# TYPE latency_seconds histogram",
        "latency_seconds_bucket{le=\"0.25\"} 0",
        "latency_seconds_bucket{le=\"1\"} 400000",
        "latency_seconds_bucket{le=\"+Inf\"} 400000",
        "latency_seconds_sum 200000",
        "latency_seconds_count 400000",
    };
    assert_render(m, want, sizeof(want) / sizeof(want[0]));
    ap_metrics_free(m);
}

static void test_histogram_cumulative(void **state)
{
    static const double bounds[] = {0.5, 1, 4};
    static const double seen[] = {0.25, 0.5, 0.5, 2, 8};
    struct ap_metrics *m = ap_metrics_new();
    int fam = ap_metrics_histogram_family(m, "http_request_duration_seconds",
                                          "Time to answer a request.", bounds, 3);
    struct ap_histogram *h = ap_metrics_histogram_get(m, fam, "route=\"/b\",status=\"200\"");
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
        ap_histogram_observe(h, seen[i]);
    ap_histogram_observe(h, NAN); /* NaN is ignored, not summed */
    ap_histogram_observe(NULL, 1);
    const char *const want[] = {
        "# HELP http_request_duration_seconds Time to answer a request.",
        "# TYPE http_request_duration_seconds histogram",
        "http_request_duration_seconds_bucket{route=\"/b\",status=\"200\",le=\"0.5\"} 3",
        "http_request_duration_seconds_bucket{route=\"/b\",status=\"200\",le=\"1\"} 3",
        "http_request_duration_seconds_bucket{route=\"/b\",status=\"200\",le=\"4\"} 4",
        "http_request_duration_seconds_bucket{route=\"/b\",status=\"200\",le=\"+Inf\"} 5",
        "http_request_duration_seconds_sum{route=\"/b\",status=\"200\"} 11.25",
        "http_request_duration_seconds_count{route=\"/b\",status=\"200\"} 5",
    };
    assert_render(m, want, sizeof(want) / sizeof(want[0]));
    ap_metrics_free(m);
}

static double queue_depth(void *ud)
{
    return *(double *)ud;
}

static void test_render_all_kinds(void **state)
{
    static const double bounds[] = {0.005, 0.1};
    double depth = 7.5;
    struct ap_metrics *m = ap_metrics_new();
    ap_metrics_info(m, "appointd_build_info", "Build of this process.", "version=\"0.1.0\"");
    int req =
        ap_metrics_counter_family(m, "appointd_http_requests_total", "HTTP requests answered.");
    int lat = ap_metrics_histogram_family(m, "appointd_titan_seconds", "ServiceTitan call time.",
                                          bounds, 2);
    ap_metrics_gauge_fn(m, "appointd_outbox_depth", "Outbox rows waiting.", queue_depth, &depth);
    int unused = ap_metrics_counter_family(m, "appointd_unused_total", "Back\\slash\nnewline.");

    struct ap_counter *ok = ap_metrics_counter_get(m, req, "route=\"/a\",status=\"200\"");
    ap_counter_add(ok, 3);
    ap_counter_add(ap_metrics_counter_get(m, req, "route=\"/a\",status=\"500\""), 1);
    assert_ptr_equal(ap_metrics_counter_get(m, req, "route=\"/a\",status=\"200\""), ok);
    ap_counter_add(ok, 2);
    ap_counter_add(ap_metrics_counter_get(m, req, ""), 9);
    ap_histogram_observe(ap_metrics_histogram_get(m, lat, NULL), 0.005);
    (void)unused;

    const char *const want[] = {
        "# HELP appointd_build_info Build of this process.",
        "# TYPE appointd_build_info gauge",
        "appointd_build_info{version=\"0.1.0\"} 1",
        "# HELP appointd_http_requests_total HTTP requests answered.",
        "# TYPE appointd_http_requests_total counter",
        "appointd_http_requests_total{route=\"/a\",status=\"200\"} 5",
        "appointd_http_requests_total{route=\"/a\",status=\"500\"} 1",
        "appointd_http_requests_total 9",
        "# HELP appointd_titan_seconds ServiceTitan call time.",
        "# TYPE appointd_titan_seconds histogram",
        "appointd_titan_seconds_bucket{le=\"0.005\"} 1",
        "appointd_titan_seconds_bucket{le=\"0.1\"} 1",
        "appointd_titan_seconds_bucket{le=\"+Inf\"} 1",
        "appointd_titan_seconds_sum 0.005",
        "appointd_titan_seconds_count 1",
        "# HELP appointd_outbox_depth Outbox rows waiting.",
        "# TYPE appointd_outbox_depth gauge",
        "appointd_outbox_depth 7.5",
        "# HELP appointd_unused_total Back\\\\slash\\nnewline.",
        "# TYPE appointd_unused_total counter",
    };
    assert_render(m, want, sizeof(want) / sizeof(want[0]));
    depth = 0;
    assert_true(rendered_value(m, "appointd_outbox_depth") == 0);
    ap_metrics_free(m);
}

static double by_state(void *ud, size_t i)
{
    return ((const double *)ud)[i];
}

/* A gauge set renders one series per label string, each read at render time. */
static void test_gauge_set(void **state)
{
    static const char *const labels[] = {"state=\"accepted\"", "state=\"booked\""};
    double values[2] = {3, 41};
    struct ap_metrics *m = ap_metrics_new();

    (void)state;
    ap_metrics_gauge_set_fn(m, "appointd_bookings", "Bookings by state.", labels, 2, by_state,
                            values);
    const char *const want[] = {
        "# HELP appointd_bookings Bookings by state.",
        "# TYPE appointd_bookings gauge",
        "appointd_bookings{state=\"accepted\"} 3",
        "appointd_bookings{state=\"booked\"} 41",
    };
    assert_render(m, want, sizeof(want) / sizeof(want[0]));
    values[0] = 0;
    values[1] = 44;
    const char *const after[] = {
        "# HELP appointd_bookings Bookings by state.",
        "# TYPE appointd_bookings gauge",
        "appointd_bookings{state=\"accepted\"} 0",
        "appointd_bookings{state=\"booked\"} 44",
    };
    assert_render(m, after, sizeof(after) / sizeof(after[0]));
    ap_metrics_free(m);
}

static void test_series_overflow(void **state)
{
    char labels[64];
    struct ap_metrics *m = ap_metrics_new();
    int fam = ap_metrics_counter_family(m, "hits_total", "Hits.");
    struct ap_counter *first = NULL;
    for (int i = 0; i < 1000; i++) {
        snprintf(labels, sizeof(labels), "path=\"/p%d\"", i);
        struct ap_counter *c = ap_metrics_counter_get(m, fam, labels);
        first = first ? first : c;
        ap_counter_add(c, 1);
    }
    struct ap_counter *over1 = ap_metrics_counter_get(m, fam, "path=\"/p1000\"");
    struct ap_counter *over2 = ap_metrics_counter_get(m, fam, "path=\"/p1001\"");
    assert_ptr_equal(over1, over2);
    assert_ptr_not_equal(over1, first);
    assert_ptr_equal(ap_metrics_counter_get(m, fam, "path=\"/p0\""), first); /* still found */
    ap_counter_add(over1, 1);
    ap_counter_add(over2, 1);
    /* A raw newline would break the exposition format: it goes to overflow too. */
    assert_ptr_equal(ap_metrics_counter_get(m, fam, "path=\"a\nb\""), over1);

    assert_true(rendered_value(m, "hits_total{overflow=\"1\"}") == 2);
    assert_true(rendered_value(m, "hits_total{path=\"/p999\"}") == 1);
    assert_true(rendered_value(m, "hits_total{path=\"/p1000\"}") == -1);

    struct ap_buf out;
    ap_buf_init(&out, 1 << 20);
    assert_int_equal(ap_metrics_render(m, &out), AP_OK);
    size_t lines = 0;
    for (const char *p = out.data; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 2 + 1000 + 1);
    ap_buf_cleanup(&out);
    ap_metrics_free(m);
}

static void test_render_respects_buffer_max(void **state)
{
    struct ap_metrics *m = ap_metrics_new();
    int fam = ap_metrics_counter_family(m, "hits_total", "Hits.");
    ap_counter_add(ap_metrics_counter_get(m, fam, "a=\"1\""), 1);
    struct ap_buf out;
    ap_buf_init(&out, 16);
    assert_int_equal(ap_metrics_render(m, &out), AP_ETOOBIG);
    ap_buf_cleanup(&out);
    ap_metrics_free(m);
}

static void test_label_escape(void **state)
{
    char out[64];
    assert_string_equal(ap_metrics_label_escape("plain /x", out, sizeof(out)), "plain /x");
    assert_string_equal(ap_metrics_label_escape("a\"b\\c\nd", out, sizeof(out)), "a\\\"b\\\\c\\nd");
    assert_string_equal(ap_metrics_label_escape("tab\there\r", out, sizeof(out)), "tab?here?");
    /* Truncation never leaves half an escape... */
    assert_string_equal(ap_metrics_label_escape("ab\"", out, 4), "ab");
    assert_string_equal(ap_metrics_label_escape("ab\"", out, 5), "ab\\\"");
    /* ...nor half a UTF-8 character (é is 2 bytes, € is 3). */
    assert_string_equal(ap_metrics_label_escape("a\xc3\xa9", out, 3), "a");
    assert_string_equal(ap_metrics_label_escape("a\xc3\xa9", out, 4), "a\xc3\xa9");
    assert_string_equal(ap_metrics_label_escape("\xe2\x82\xac\xe2\x82\xac", out, 6),
                        "\xe2\x82\xac");
    assert_string_equal(ap_metrics_label_escape("anything", out, 1), "");

    /* An escaped value makes a series that renders as valid text. */
    char labels[128];
    struct ap_metrics *m = ap_metrics_new();
    int fam = ap_metrics_counter_family(m, "odd_total", "Odd labels.");
    snprintf(labels, sizeof(labels), "v=\"%s\"",
             ap_metrics_label_escape("say \"hi\"\n", out, sizeof(out)));
    ap_counter_add(ap_metrics_counter_get(m, fam, labels), 1);
    const char *const want[] = {
        "# HELP odd_total Odd labels.",
        "# TYPE odd_total counter",
        "odd_total{v=\"say \\\"hi\\\"\\n\"} 1",
    };
    assert_render(m, want, 3);
    ap_metrics_free(m);
}

int main(void)
{
    ap_log_set_level(AP_LOG_OFF); /* the overflow warning is not under test */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_sum),      cmocka_unit_test(test_histogram_cumulative),
        cmocka_unit_test(test_render_all_kinds), cmocka_unit_test(test_gauge_set),
        cmocka_unit_test(test_series_overflow),  cmocka_unit_test(test_render_respects_buffer_max),
        cmocka_unit_test(test_label_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
