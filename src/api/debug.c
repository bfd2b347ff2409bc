/*
 * debug.c — routes that exist only for tests and benchmarks
 * (--debug-routes; off by default, never enabled in production):
 *
 *   POST /debug/echo         parses the JSON body like any real handler
 *                            will, and sends it back compacted;
 *   GET  /debug/sleep?ms=N   answers {"slept_ms":N} after N ms from a worker
 *                            thread — a deferred reply, the way ServiceTitan
 *                            calls will answer;
 *   POST /debug/clock        {"set": "2027-03-10T15:00:00Z"} or
 *                            {"advanceSeconds": N} shifts appointd's wall
 *                            clock (not its monotonic one), as stsim's
 *                            /_stsim/clock shifts stsim's: answers {"now"}.
 *
 * The sleeper is one thread with a list of due replies ordered by time.
 */
#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/datetime.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "json/json.h"

#define SLEEP_MAX_MS 60000
#define SLEEPERS_MAX 10000
/* Furthest /debug/clock moves the clock at once: 10 years. */
#define AP_DEBUG_CLOCK_MAX_S (10LL * 366 * 86400)

struct sleep_job {
    struct sleep_job *next;
    int64_t due_ns; /* monotonic */
    long ms;
    struct ap_http_deferred *reply;
};

struct ap_debug_sleeper {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct sleep_job *jobs; /* sorted by due_ns */
    size_t njobs;
    bool stopping;
};

static void reply_slept(struct sleep_job *j)
{
    char body[48];
    int n = snprintf(body, sizeof(body), "{\"slept_ms\":%ld}", j->ms);
    ap_http_reply(j->reply, 200, "application/json", body, (size_t)n);
    free(j);
}

/* Pops the first job that is due, or waits for one; NULL when stopping. */
static struct sleep_job *next_due(struct ap_debug_sleeper *s)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->stopping)
            break;
        if (s->jobs && s->jobs->due_ns <= ap_clock_mono_ns()) {
            struct sleep_job *j = s->jobs;
            s->jobs = j->next;
            s->njobs--;
            pthread_mutex_unlock(&s->lock);
            return j;
        }
        if (!s->jobs) {
            pthread_cond_wait(&s->wake, &s->lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t wait_ns = s->jobs->due_ns - ap_clock_mono_ns();
        until.tv_sec += wait_ns / 1000000000;
        until.tv_nsec += wait_ns % 1000000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *sleeper_main(void *arg)
{
    struct ap_debug_sleeper *s = arg;
    struct sleep_job *j;
    while ((j = next_due(s)))
        reply_slept(j);
    return NULL;
}

struct ap_debug_sleeper *ap_debug_sleeper_new(void)
{
    struct ap_debug_sleeper *s = ap_xcalloc(1, sizeof(*s));
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->lock, NULL);
    if (pthread_create(&s->thread, NULL, sleeper_main, s) != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void ap_debug_sleeper_free(struct ap_debug_sleeper *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    while (s->jobs) {
        struct sleep_job *j = s->jobs;
        s->jobs = j->next;
        ap_http_reply_error(j->reply, 503, "shutting_down", "the server is shutting down", NULL);
        free(j);
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Inserts j in due order; false when the sleeper is full. */
static bool schedule(struct ap_debug_sleeper *s, struct sleep_job *j)
{
    pthread_mutex_lock(&s->lock);
    bool ok = s->njobs < SLEEPERS_MAX && !s->stopping;
    if (ok) {
        struct sleep_job **pp = &s->jobs;
        while (*pp && (*pp)->due_ns <= j->due_ns)
            pp = &(*pp)->next;
        j->next = *pp;
        *pp = j;
        s->njobs++;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

enum ap_http_result ap_api_debug_sleep(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    const char *ms_text = ap_http_query(req, "ms");
    char *end = NULL;
    errno = 0;
    long ms = ms_text ? strtol(ms_text, &end, 10) : -1;
    if (!ms_text || errno || *end || end == ms_text || ms < 0 || ms > SLEEP_MAX_MS) {
        ap_http_respond_error(req, 400, "invalid_field", "ms: expected an integer from 0 to 60000",
                              "ms");
        return AP_HTTP_DONE;
    }
    struct sleep_job *j = ap_xcalloc(1, sizeof(*j));
    j->ms = ms;
    j->due_ns = ap_clock_mono_ns() + (int64_t)ms * 1000000;
    j->reply = ap_http_defer(req);
    if (!schedule(api->sleeper, j)) {
        ap_http_reply_error(j->reply, 503, "busy", "too many sleeping requests", NULL);
        free(j);
    }
    return AP_HTTP_DEFERRED;
}

enum ap_http_result ap_api_debug_echo(struct ap_http_req *req, void *ud)
{
    struct ap_str body = ap_http_body(req);
    struct ap_json_error e;
    json_t *doc = NULL;
    enum ap_err err = ap_json_parse_body(body.p, body.len, AP_JSON_ANY, &doc, &e);
    if (err) {
        char *text = ap_json_error_body_of(&e);
        ap_http_respond_json(req, err == AP_ETOOBIG ? 413 : 400, text, strlen(text));
        free(text);
        return AP_HTTP_DONE;
    }
    char *text = ap_json_dumps(doc);
    ap_http_respond_json(req, 200, text, strlen(text));
    free(text);
    json_decref(doc);
    return AP_HTTP_DONE;
}

/* The offset {"set": time} or {"advanceSeconds": n} asks for; false after a 400. */
static bool clock_offset_of(struct ap_http_req *req, json_t *doc, int64_t *offset)
{
    json_t *set = json_object_get(doc, "set"), *adv = json_object_get(doc, "advanceSeconds");
    int64_t at;

    if (json_is_string(set) && ap_time_parse(json_string_value(set), &at)) {
        *offset = at - (ap_clock_real_ns() - ap_clock_offset());
        return true;
    }
    if (json_is_integer(adv) && json_integer_value(adv) >= -AP_DEBUG_CLOCK_MAX_S &&
        json_integer_value(adv) <= AP_DEBUG_CLOCK_MAX_S) {
        *offset = ap_clock_offset() + (int64_t)json_integer_value(adv) * AP_NS_PER_S;
        return true;
    }
    ap_http_respond_error(req, 400, "invalid_field",
                          "expected {\"set\": \"2027-03-10T15:00:00Z\"} or "
                          "{\"advanceSeconds\": N}",
                          json_is_string(set) ? "set" : "advanceSeconds");
    return false;
}

enum ap_http_result ap_api_debug_clock(struct ap_http_req *req, void *ud)
{
    struct ap_str body = ap_http_body(req);
    struct ap_json_error e;
    json_t *doc = NULL;
    int64_t offset;
    char now[AP_TIME_BUF], *text;

    (void)ud;
    if (ap_json_parse_body(body.p, body.len, AP_JSON_OBJECT, &doc, &e) != AP_OK) {
        text = ap_json_error_body_of(&e);
        ap_http_respond_json(req, 400, text, strlen(text));
        free(text);
        return AP_HTTP_DONE;
    }
    if (clock_offset_of(req, doc, &offset)) {
        ap_clock_set_offset(offset);
        ap_time_format(ap_clock_real_ns(), 3, now);
        ap_log_info("debug.clock", "now=%s offset_s=%lld", now, (long long)(offset / AP_NS_PER_S));
        json_t *ans = json_pack("{s:s}", "now", now);
        text = ap_json_dumps(ans);
        ap_http_respond_json(req, 200, text, strlen(text));
        free(text);
        json_decref(ans);
    }
    json_decref(doc);
    return AP_HTTP_DONE;
}
