/*
 * metrics.c — counters, histograms, gauges and info series, rendered in the
 * Prometheus text exposition format 0.0.4.
 *
 * Updates are lock-free: a counter is one atomic uint64, a histogram holds
 * one atomic count per bucket (not cumulative; render sums them) and its sum
 * as the bits of a double updated by compare-and-swap. Finding or creating a
 * series and rendering take the registry's mutex. A family holds at most
 * FAMILY_SERIES_MAX series so a label fed by the outside world cannot grow
 * memory without bound; past that, updates land on one overflow series.
 */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

#define FAMILY_SERIES_MAX 1000
#define FAMILY_SLOTS      2048 /* hash slots: a power of two above 2 * FAMILY_SERIES_MAX */
#define LABELS_MAX        1024 /* longest label string of a series */
#define OVERFLOW_LABELS   "overflow=\"1\""

enum fam_kind { FAM_COUNTER, FAM_HISTOGRAM, FAM_GAUGE_FN, FAM_INFO, FAM_GAUGE_SET };

/* Common head of a counter and a histogram series. */
struct series {
    char *labels;
};

struct ap_counter {
    struct series s;
    _Atomic uint64_t value;
};

struct ap_histogram {
    struct series s;
    const double *bounds; /* the family's */
    size_t nbounds;
    _Atomic uint64_t sum_bits; /* a double */
    _Atomic uint64_t counts[]; /* nbounds + 1: the last one is +Inf */
};

struct family {
    char *name, *help;
    enum fam_kind kind;
    double *bounds; /* histogram */
    size_t nbounds;
    struct series **series; /* in creation order */
    size_t nseries;
    int32_t *slots; /* FAMILY_SLOTS indexes into series, -1 when empty */
    struct series *overflow;
    double (*fn)(void *ud); /* gauge */
    void *ud;
    double (*set_fn)(void *ud, size_t i); /* gauge set: one value per label string */
    char **set_labels;
    size_t nset;
    char *info_labels; /* info */
};

struct ap_metrics {
    pthread_mutex_t lock;
    struct family *fams;
    size_t nfams;
};

static void die(const char *what, const char *name) __attribute__((noreturn));

static void die(const char *what, const char *name)
{
    fprintf(stderr, "appointd: bug: metrics: %s '%s'\n", what, name ? name : "(null)");
    abort();
}

struct ap_metrics *ap_metrics_new(void)
{
    struct ap_metrics *m = ap_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void family_cleanup(struct family *f)
{
    for (size_t i = 0; i < f->nseries; i++) {
        free(f->series[i]->labels);
        free(f->series[i]);
    }
    if (f->overflow) {
        free(f->overflow->labels);
        free(f->overflow);
    }
    free(f->series);
    free(f->slots);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f->info_labels);
    for (size_t i = 0; i < f->nset; i++)
        free(f->set_labels[i]);
    free(f->set_labels);
}

void ap_metrics_free(struct ap_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfams; i++)
        family_cleanup(&m->fams[i]);
    free(m->fams);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- registration (at start, single-threaded) ---- */

static bool name_ok(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") ==
           strlen(s);
}

static struct family *add_family(struct ap_metrics *m, const char *name, const char *help,
                                 enum fam_kind kind)
{
    if (!name_ok(name))
        die("bad metric name", name);
    for (size_t i = 0; i < m->nfams; i++) {
        if (strcmp(m->fams[i].name, name) == 0)
            die("metric registered twice", name);
    }
    m->fams = ap_xrealloc(m->fams, (m->nfams + 1) * sizeof(*m->fams));
    struct family *f = &m->fams[m->nfams++];
    memset(f, 0, sizeof(*f));
    f->name = ap_xstrdup(name);
    f->help = ap_xstrdup(help ? help : "");
    f->kind = kind;
    return f;
}

int ap_metrics_counter_family(struct ap_metrics *m, const char *name, const char *help)
{
    add_family(m, name, help, FAM_COUNTER);
    return (int)m->nfams - 1;
}

int ap_metrics_histogram_family(struct ap_metrics *m, const char *name, const char *help,
                                const double *bounds, size_t nbounds)
{
    for (size_t i = 0; i < nbounds; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            die("histogram bounds must be finite and ascending", name);
    }
    struct family *f = add_family(m, name, help, FAM_HISTOGRAM);
    f->bounds = ap_xmalloc((nbounds ? nbounds : 1) * sizeof(double));
    if (nbounds)
        memcpy(f->bounds, bounds, nbounds * sizeof(double));
    f->nbounds = nbounds;
    return (int)m->nfams - 1;
}

void ap_metrics_gauge_fn(struct ap_metrics *m, const char *name, const char *help,
                         double (*fn)(void *ud), void *ud)
{
    struct family *f = add_family(m, name, help, FAM_GAUGE_FN);
    f->fn = fn;
    f->ud = ud;
}

void ap_metrics_gauge_set_fn(struct ap_metrics *m, const char *name, const char *help,
                             const char *const *labels, size_t n, double (*fn)(void *ud, size_t i),
                             void *ud)
{
    struct family *f = add_family(m, name, help, FAM_GAUGE_SET);
    f->set_fn = fn;
    f->ud = ud;
    f->set_labels = ap_xcalloc(n ? n : 1, sizeof(*f->set_labels));
    for (size_t i = 0; i < n; i++)
        f->set_labels[i] = ap_xstrdup(labels[i]);
    f->nset = n;
}

void ap_metrics_info(struct ap_metrics *m, const char *name, const char *help, const char *labels)
{
    struct family *f = add_family(m, name, help, FAM_INFO);
    f->info_labels = ap_xstrdup(labels ? labels : "");
}

/* ---- series lookup ---- */

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct series *new_series(const struct family *f, const char *labels)
{
    struct series *s;
    if (f->kind == FAM_COUNTER) {
        struct ap_counter *c = ap_xcalloc(1, sizeof(*c));
        atomic_init(&c->value, 0);
        s = &c->s;
    } else {
        struct ap_histogram *h =
            ap_xcalloc(1, sizeof(*h) + (f->nbounds + 1) * sizeof(h->counts[0]));
        h->bounds = f->bounds;
        h->nbounds = f->nbounds;
        atomic_init(&h->sum_bits, 0); /* the bits of 0.0 */
        for (size_t i = 0; i <= f->nbounds; i++)
            atomic_init(&h->counts[i], 0);
        s = &h->s;
    }
    s->labels = ap_xstrdup(labels);
    return s;
}

static struct series *overflow_series(struct family *f)
{
    if (!f->overflow) {
        f->overflow = new_series(f, OVERFLOW_LABELS);
        ap_log_warn("metrics.series_overflow", "family=%s max=%d", f->name, FAMILY_SERIES_MAX);
    }
    return f->overflow;
}

/* Finds or adds the series for labels; the caller holds the lock. */
static struct series *find_series(struct family *f, const char *labels)
{
    if (strlen(labels) > LABELS_MAX || strchr(labels, '\n'))
        return overflow_series(f);
    if (!f->slots) {
        f->slots = ap_xmalloc(FAMILY_SLOTS * sizeof(*f->slots));
        memset(f->slots, 0xff, FAMILY_SLOTS * sizeof(*f->slots));
        f->series = ap_xmalloc(FAMILY_SERIES_MAX * sizeof(*f->series));
    }
    uint32_t i = hash(labels) & (FAMILY_SLOTS - 1);
    for (; f->slots[i] >= 0; i = (i + 1) & (FAMILY_SLOTS - 1)) {
        if (strcmp(f->series[f->slots[i]]->labels, labels) == 0)
            return f->series[f->slots[i]];
    }
    if (f->nseries >= FAMILY_SERIES_MAX)
        return overflow_series(f);
    f->slots[i] = (int32_t)f->nseries;
    f->series[f->nseries] = new_series(f, labels);
    return f->series[f->nseries++];
}

static struct series *get_series(struct ap_metrics *m, int family, enum fam_kind kind,
                                 const char *labels)
{
    if (family < 0 || (size_t)family >= m->nfams || m->fams[family].kind != kind)
        die(kind == FAM_COUNTER ? "not a counter family" : "not a histogram family",
            family >= 0 && (size_t)family < m->nfams ? m->fams[family].name : "?");
    pthread_mutex_lock(&m->lock);
    struct series *s = find_series(&m->fams[family], labels ? labels : "");
    pthread_mutex_unlock(&m->lock);
    return s;
}

struct ap_counter *ap_metrics_counter_get(struct ap_metrics *m, int family, const char *labels)
{
    return (struct ap_counter *)get_series(m, family, FAM_COUNTER, labels);
}

struct ap_histogram *ap_metrics_histogram_get(struct ap_metrics *m, int family, const char *labels)
{
    return (struct ap_histogram *)get_series(m, family, FAM_HISTOGRAM, labels);
}

/* ---- updates (any thread, no locks) ---- */

void ap_counter_add(struct ap_counter *c, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

static void add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed), next;
    do {
        double d;
        memcpy(&d, &old, sizeof(d));
        d += v;
        memcpy(&next, &d, sizeof(next));
    } while (!atomic_compare_exchange_weak_explicit(bits, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
}

void ap_histogram_observe(struct ap_histogram *h, double seconds)
{
    if (!h || isnan(seconds))
        return;
    size_t i = 0;
    while (i < h->nbounds && seconds > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    add_double(&h->sum_bits, seconds);
}

/* ---- rendering ---- */

/* The shortest text that reads back as v, as Prometheus clients print it. */
static void fmt_double(double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e21) { /* 200000, not 2e+05 */
        snprintf(out, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

char *ap_metrics_label_escape(const char *in, char *out, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char esc[2] = {(char)*p, 0};
        size_t k = 1;
        if (*p == '\\' || *p == '"' || *p == '\n') {
            esc[0] = '\\';
            esc[1] = *p == '\n' ? 'n' : (char)*p;
            k = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[0] = '?';
        }
        if (o + k >= n) {
            /* Cut before a multi-byte character we could not finish. */
            size_t cont = 0;
            while (o > cont && ((unsigned char)out[o - 1 - cont] & 0xc0) == 0x80 && cont < 3)
                cont++;
            unsigned char lead = o > cont ? (unsigned char)out[o - 1 - cont] : 0;
            size_t need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
            if (need > cont)
                o -= cont + 1;
            break;
        }
        memcpy(out + o, esc, k);
        o += k;
    }
    out[o] = '\0';
    return out;
}

static enum ap_err render_head(const struct family *f, const char *type, struct ap_buf *out)
{
    enum ap_err err = ap_buf_printf(out, "# HELP %s ", f->name);
    for (const char *p = f->help; !err && *p; p++) {
        if (*p == '\\' || *p == '\n')
            err = ap_buf_puts(out, *p == '\\' ? "\\\\" : "\\n");
        else
            err = ap_buf_append(out, p, 1);
    }
    return err ? err : ap_buf_printf(out, "\n# TYPE %s %s\n", f->name, type);
}

/* name{labels} or name{labels,extra} or name */
static enum ap_err render_name(struct ap_buf *out, const char *name, const char *suffix,
                               const char *labels, const char *extra)
{
    bool l = *labels, e = extra && *extra;
    return ap_buf_printf(out, "%s%s%s%s%s%s%s ", name, suffix, l || e ? "{" : "", labels,
                         l && e ? "," : "", e ? extra : "", l || e ? "}" : "");
}

static enum ap_err render_counter(const struct family *f, const struct ap_counter *c,
                                  struct ap_buf *out)
{
    enum ap_err err = render_name(out, f->name, "", c->s.labels, NULL);
    return err ? err
               : ap_buf_printf(
                     out, "%llu\n",
                     (unsigned long long)atomic_load_explicit(&c->value, memory_order_relaxed));
}

static enum ap_err render_histogram(const struct family *f, const struct ap_histogram *h,
                                    struct ap_buf *out)
{
    enum ap_err err = AP_OK;
    char le[48], num[32];
    uint64_t cum = 0, bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    double sum;
    for (size_t i = 0; i <= h->nbounds && !err; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        fmt_double(i < h->nbounds ? h->bounds[i] : INFINITY, num, sizeof(num));
        snprintf(le, sizeof(le), "le=\"%s\"", num);
        err = render_name(out, f->name, "_bucket", h->s.labels, le);
        if (!err)
            err = ap_buf_printf(out, "%llu\n", (unsigned long long)cum);
    }
    memcpy(&sum, &bits, sizeof(sum));
    fmt_double(sum, num, sizeof(num));
    if (!err)
        err = render_name(out, f->name, "_sum", h->s.labels, NULL);
    if (!err)
        err = ap_buf_printf(out, "%s\n", num);
    /* _count is the +Inf bucket so the two always agree within one render. */
    if (!err)
        err = render_name(out, f->name, "_count", h->s.labels, NULL);
    return err ? err : ap_buf_printf(out, "%llu\n", (unsigned long long)cum);
}

static enum ap_err render_series(const struct family *f, const struct series *s, struct ap_buf *out)
{
    if (f->kind == FAM_COUNTER)
        return render_counter(f, (const struct ap_counter *)s, out);
    return render_histogram(f, (const struct ap_histogram *)s, out);
}

static enum ap_err render_family(const struct family *f, struct ap_buf *out)
{
    static const char *const types[] = {"counter", "histogram", "gauge", "gauge", "gauge"};
    char num[32];
    enum ap_err err = render_head(f, types[f->kind], out);
    if (!err && f->kind == FAM_GAUGE_FN) {
        fmt_double(f->fn(f->ud), num, sizeof(num));
        err = ap_buf_printf(out, "%s %s\n", f->name, num);
    } else if (!err && f->kind == FAM_GAUGE_SET) {
        for (size_t i = 0; i < f->nset && !err; i++) {
            fmt_double(f->set_fn(f->ud, i), num, sizeof(num));
            err = render_name(out, f->name, "", f->set_labels[i], NULL);
            if (!err)
                err = ap_buf_printf(out, "%s\n", num);
        }
    } else if (!err && f->kind == FAM_INFO) {
        err = render_name(out, f->name, "", f->info_labels, NULL);
        if (!err)
            err = ap_buf_puts(out, "1\n");
    }
    for (size_t i = 0; i < f->nseries && !err; i++)
        err = render_series(f, f->series[i], out);
    if (!err && f->overflow)
        err = render_series(f, f->overflow, out);
    return err;
}

enum ap_err ap_metrics_render(struct ap_metrics *m, struct ap_buf *out)
{
    enum ap_err err = AP_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfams && !err; i++)
        err = render_family(&m->fams[i], out);
    pthread_mutex_unlock(&m->lock);
    return err;
}
