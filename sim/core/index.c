/*
 * index.c — the indexes every record table carries (see index.h): the change
 * log for export feeds, the createdOn and modifiedOn indexes for date bounds,
 * and the active flags by position for list pages. A table's indexes are
 * built on first use; from then on state.c reports every add, change and
 * removal, and each costs O(log n) (the log and the time indexes take an
 * append or a sorted insert; the flags a Fenwick update). Positions shift
 * when a row is inserted anywhere but at the end or removed: the flags are
 * then rebuilt on the next read (seeds and appointment deletes; rare).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/core/core_int.h"
#include "sim/core/index.h"

struct sentry { /* one change in the log */
    uint64_t seq;
    int64_t id;
};

struct tentry { /* one row in a time index */
    int64_t t;
    int64_t id;
};

struct sim_table_aux {
    struct sentry *log;
    size_t nlog, caplog;
    struct tentry *tix[SIM_TIX_COUNT];
    size_t ntix[SIM_TIX_COUNT], captix[SIM_TIX_COUNT];
    int32_t *fw;  /* Fenwick tree over act, 1-based */
    uint8_t *act; /* active flag of each position */
    size_t nfw, capfw;
    bool fw_dirty; /* positions shifted: rebuild on the next read */
};

static const char *const TIX_KEYS[SIM_TIX_COUNT] = {"createdOn", "modifiedOn"};

/* ---- small helpers ------------------------------------------------------------ */

static bool row_active(const json_t *row)
{
    const json_t *a = json_object_get(row, "active");
    return a == NULL || json_is_true(a);
}

static bool row_time(const json_t *row, int which, int64_t *t)
{
    return ap_time_parse(json_string_value(json_object_get(row, TIX_KEYS[which])), t);
}

static int tentry_cmp(const void *pa, const void *pb)
{
    const struct tentry *a = pa, *b = pb;
    if (a->t != b->t)
        return (a->t > b->t) - (a->t < b->t);
    return (a->id > b->id) - (a->id < b->id);
}

static int sentry_cmp(const void *pa, const void *pb)
{
    const struct sentry *a = pa, *b = pb;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int id_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    while (*cap < need)
        *cap = *cap ? *cap * 2 : 64;
    return ap_xrealloc(p, *cap * size);
}

/* ---- the active flags ---------------------------------------------------------- */

static void fw_add(struct sim_table_aux *x, size_t pos, int32_t d)
{
    for (size_t i = pos + 1; i <= x->nfw; i += i & (~i + 1))
        x->fw[i] += d;
}

static void fw_build(struct sim_table_aux *x, const struct sim_table *tb)
{
    x->fw = grow(x->fw, &x->capfw, tb->n + 1, sizeof(*x->fw));
    x->act = ap_xrealloc(x->act, (x->capfw ? x->capfw : 1) * sizeof(*x->act));
    x->nfw = tb->n;
    memset(x->fw, 0, (tb->n + 1) * sizeof(*x->fw));
    for (size_t i = 0; i < tb->n; i++) {
        x->act[i] = row_active(tb->rows[i]);
        x->fw[i + 1] += x->act[i];
        size_t parent = (i + 1) + ((i + 1) & (~(i + 1) + 1));
        if (parent <= tb->n)
            x->fw[parent] += x->fw[i + 1];
    }
    x->fw_dirty = false;
}

static int32_t fw_prefix(const struct sim_table_aux *x, size_t count)
{
    int32_t s = 0;
    for (size_t i = count; i > 0; i -= i & (~i + 1))
        s += x->fw[i];
    return s;
}

/* Appends the flag of the row now at the end. */
static void fw_append(struct sim_table_aux *x, const json_t *row)
{
    size_t i = x->nfw + 1, low = i & (~i + 1);
    x->fw = grow(x->fw, &x->capfw, i + 1, sizeof(*x->fw));
    x->act = ap_xrealloc(x->act, x->capfw * sizeof(*x->act));
    x->act[i - 1] = row_active(row);
    x->fw[i] = x->act[i - 1] + fw_prefix(x, i - 1) - fw_prefix(x, i - low);
    x->nfw = i;
}

/* ---- building ------------------------------------------------------------------ */

static void tix_insert(struct sim_table_aux *x, int which, int64_t t, int64_t id)
{
    struct tentry e = {t, id}, *v;
    size_t n = x->ntix[which], lo = 0, hi = n;

    x->tix[which] = grow(x->tix[which], &x->captix[which], n + 1, sizeof(e));
    v = x->tix[which];
    if (n == 0 || tentry_cmp(&v[n - 1], &e) < 0) { /* the usual case: the newest */
        v[n] = e;
        x->ntix[which]++;
        return;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tentry_cmp(&v[mid], &e) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && tentry_cmp(&v[lo], &e) == 0)
        return;
    memmove(&v[lo + 1], &v[lo], (n - lo) * sizeof(e));
    v[lo] = e;
    x->ntix[which]++;
}

static void tix_fill(struct sim_table_aux *x, const struct sim_table *tb, int w)
{
    int64_t t;

    x->ntix[w] = 0;
    x->tix[w] = grow(x->tix[w], &x->captix[w], tb->n + 1, sizeof(struct tentry));
    for (size_t i = 0; i < tb->n; i++) {
        if (row_time(tb->rows[i], w, &t))
            x->tix[w][x->ntix[w]++] = (struct tentry){t, sim_row_id(tb->rows[i])};
    }
    qsort(x->tix[w], x->ntix[w], sizeof(struct tentry), tentry_cmp);
}

static void log_fill(struct sim_table_aux *x, const struct sim_table *tb)
{
    x->nlog = 0;
    x->log = grow(x->log, &x->caplog, tb->n + 1, sizeof(*x->log));
    for (size_t i = 0; i < tb->n; i++)
        x->log[x->nlog++] = (struct sentry){tb->seq[i], sim_row_id(tb->rows[i])};
    qsort(x->log, x->nlog, sizeof(*x->log), sentry_cmp);
}

/* An index that is mostly stale entries is rebuilt from the table. */
static void compact(struct sim_table *tb)
{
    struct sim_table_aux *x = tb->aux;

    if (x->nlog >= 1024 && x->nlog >= 2 * tb->n)
        log_fill(x, tb);
    for (int w = 0; w < SIM_TIX_COUNT; w++) {
        if (x->ntix[w] >= 1024 && x->ntix[w] >= 2 * tb->n)
            tix_fill(x, tb, w);
    }
}

static void aux_build(struct sim_table *tb)
{
    struct sim_table_aux *x = ap_xcalloc(1, sizeof(*x));

    log_fill(x, tb);
    for (int w = 0; w < SIM_TIX_COUNT; w++)
        tix_fill(x, tb, w);
    fw_build(x, tb);
    tb->aux = x;
}

static struct sim_table_aux *aux_of(struct sim_tenant *t, enum sim_kind k)
{
    struct sim_table *tb = &t->tables[k];

    if (tb->aux == NULL)
        aux_build(tb);
    else if (tb->aux->fw_dirty)
        fw_build(tb->aux, tb);
    return tb->aux;
}

void sim_index_warm(struct sim_tenant *t)
{
    for (int k = 0; k < SIM_KIND_COUNT; k++)
        (void)aux_of(t, (enum sim_kind)k);
    sim_keyidx_warm(t);
}

void sim_aux_free(struct sim_table *tb)
{
    struct sim_table_aux *x = tb->aux;

    if (x == NULL)
        return;
    free(x->log);
    for (int w = 0; w < SIM_TIX_COUNT; w++)
        free(x->tix[w]);
    free(x->fw);
    free(x->act);
    free(x);
    tb->aux = NULL;
}

/* ---- keeping them ----------------------------------------------------------------- */

static void note_change(struct sim_table *tb, size_t at)
{
    struct sim_table_aux *x = tb->aux;
    int64_t t, id = sim_row_id(tb->rows[at]);

    x->log = grow(x->log, &x->caplog, x->nlog + 1, sizeof(*x->log));
    x->log[x->nlog++] = (struct sentry){tb->seq[at], id};
    for (int w = 0; w < SIM_TIX_COUNT; w++) {
        if (row_time(tb->rows[at], w, &t))
            tix_insert(x, w, t, id);
    }
    compact(tb);
}

void sim_aux_added(struct sim_tenant *t, enum sim_kind k, size_t at)
{
    struct sim_table *tb = &t->tables[k];

    if (tb->aux == NULL)
        return;
    note_change(tb, at);
    if (!tb->aux->fw_dirty && at + 1 == tb->n && tb->aux->nfw + 1 == tb->n)
        fw_append(tb->aux, tb->rows[at]);
    else
        tb->aux->fw_dirty = true;
}

void sim_aux_touched(struct sim_tenant *t, enum sim_kind k, size_t at)
{
    struct sim_table *tb = &t->tables[k];
    struct sim_table_aux *x = tb->aux;

    if (x == NULL)
        return;
    note_change(tb, at);
    if (!x->fw_dirty && at < x->nfw) {
        uint8_t a = row_active(tb->rows[at]);
        if (a != x->act[at]) {
            fw_add(x, at, a ? 1 : -1);
            x->act[at] = a;
        }
    }
}

void sim_aux_removed(struct sim_tenant *t, enum sim_kind k)
{
    if (t->tables[k].aux != NULL)
        t->tables[k].aux->fw_dirty = true;
}

/* ---- reading them ------------------------------------------------------------------- */

size_t sim_aux_active_count(struct sim_tenant *t, enum sim_kind k)
{
    struct sim_table_aux *x = aux_of(t, k);
    return (size_t)fw_prefix(x, x->nfw);
}

bool sim_aux_nth(struct sim_tenant *t, enum sim_kind k, bool want, size_t nth, size_t *pos)
{
    struct sim_table_aux *x = aux_of(t, k);
    size_t at = 0, step = 1, left = nth + 1;

    while (step * 2 <= x->nfw)
        step *= 2;
    /* descend the tree: the last position whose prefix count is below nth + 1 */
    for (; step > 0; step /= 2) {
        size_t next = at + step;
        if (next > x->nfw)
            continue;
        size_t have = want ? (size_t)x->fw[next] : step - (size_t)x->fw[next];
        /* a Fenwick node at next covers (next - lowbit(next), next]: exactly step rows here */
        if (have < left) {
            at = next;
            left -= have;
        }
    }
    if (at >= x->nfw)
        return false;
    *pos = at;
    return true;
}

int64_t *sim_aux_time_range(struct sim_tenant *t, enum sim_kind k, int which, int64_t lo,
                            int64_t hi, size_t *n)
{
    struct sim_table_aux *x = aux_of(t, k);
    const struct tentry *v = x->tix[which];
    size_t a = 0, b = x->ntix[which];
    int64_t *out, now;

    while (a < b) { /* first entry with t >= lo */
        size_t mid = a + (b - a) / 2;
        if (v[mid].t < lo)
            a = mid + 1;
        else
            b = mid;
    }
    *n = 0;
    out = ap_xmalloc((x->ntix[which] - a + 1) * sizeof(*out));
    for (size_t i = a; i < x->ntix[which] && v[i].t < hi; i++) {
        const json_t *row = sim_get(t, k, v[i].id);
        if (row != NULL && row_time(row, which, &now) && now == v[i].t)
            out[(*n)++] = v[i].id;
    }
    qsort(out, *n, sizeof(*out), id_cmp);
    return out;
}

void sim_aux_walk_log(struct sim_tenant *t, enum sim_kind k, uint64_t after,
                      bool (*fn)(void *ud, size_t at, uint64_t seq), void *ud)
{
    struct sim_table_aux *x = aux_of(t, k);
    const struct sim_table *tb = &t->tables[k];
    size_t a = 0, b = x->nlog, at;

    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (x->log[mid].seq <= after)
            a = mid + 1;
        else
            b = mid;
    }
    for (size_t i = a; i < x->nlog; i++) {
        if (!sim_table_find(tb, x->log[i].id, &at) || tb->seq[at] != x->log[i].seq)
            continue; /* changed again later, or removed */
        if (!fn(ud, at, x->log[i].seq))
            return;
    }
}

uint64_t sim_aux_last_seq_before(struct sim_tenant *t, enum sim_kind k, int64_t cutoff_ns)
{
    struct sim_table_aux *x = aux_of(t, k);
    const struct sim_table *tb = &t->tables[k];
    size_t at;

    for (size_t i = x->nlog; i-- > 0;) {
        if (!sim_table_find(tb, x->log[i].id, &at) || tb->seq[at] != x->log[i].seq)
            continue;
        if (tb->changed_ns[at] <= cutoff_ns)
            return x->log[i].seq;
    }
    return 0;
}
