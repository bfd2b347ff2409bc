/*
 * export.c — ServiceTitan's export feeds over the record tables:
 * {hasMore, continueFrom, data} in change order from the table's change log
 * (core/index.h), the opaque continuation tokens, and the visibility delay
 * (--export-delay) with includeRecentChanges. A batch costs what it returns
 * and what its filter skips, never a walk of the whole table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/core/core_int.h"
#include "sim/core/index.h"
#include "sim/core/list_int.h"

#define SIM_LIST_TITLE "One or more validation errors occurred."

/* ---- a batch ----------------------------------------------------------------------- */

/*
 * The batch being built, fed the changed rows in change order. The token
 * moves past every row returned or filtered out, but never past a row still
 * inside the visibility window: with includeRecentChanges those are sent now
 * and again later (the duplicates ServiceTitan warns about), unless the batch
 * is full.
 */
struct batch {
    struct sim_tenant *t;
    enum sim_kind k;
    const struct sim_export_params *p;
    const struct sim_export_rows *r;
    int64_t cutoff;
    uint64_t token, last_sent;
    bool frozen, more, stopped;
    json_t *data;
};

static bool batch_take(void *ud, size_t at, uint64_t seq)
{
    struct batch *b = ud;
    const struct sim_table *tb = &b->t->tables[b->k];
    const json_t *row = tb->rows[at];
    bool recent = tb->changed_ns[at] > b->cutoff;

    if (recent && !b->p->recent) {
        b->stopped = true;
        return false;
    }
    if (b->r != NULL && b->r->keep != NULL && !b->r->keep(row, b->r->ud)) {
        b->frozen |= recent;
        b->token = b->frozen ? b->token : seq;
        return true;
    }
    if (json_array_size(b->data) == b->p->batch) {
        b->more = true;
        return false;
    }
    json_array_append_new(b->data, b->r != NULL && b->r->present != NULL
                                       ? b->r->present(row, b->r->ud)
                                       : sim_public(row));
    b->last_sent = seq;
    b->frozen |= recent;
    b->token = b->frozen ? b->token : seq;
    return true;
}

struct seq_at {
    uint64_t seq;
    size_t id_index;
    int64_t id;
};

static int seq_at_cmp(const void *pa, const void *pb)
{
    const struct seq_at *a = pa, *b = pb;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/*
 * from=date: the rows modified on or after it (the modifiedOn index), in
 * change order. Rows the date leaves out are passed over as filtered: when
 * the batch is not full, the token moves to the last change old enough to
 * be sent.
 */
static void run_from_date(struct batch *b)
{
    size_t n, at;
    int64_t *ids = sim_aux_time_range(b->t, b->k, SIM_TIX_MODIFIED, b->p->from_ns, INT64_MAX, &n);
    const struct sim_table *tb = &b->t->tables[b->k];
    struct seq_at *v = ap_xmalloc((n + 1) * sizeof(*v));
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        if (sim_table_find(tb, ids[i], &at))
            v[m++] = (struct seq_at){tb->seq[at], at, ids[i]};
    }
    qsort(v, m, sizeof(*v), seq_at_cmp);
    for (size_t i = 0; i < m && batch_take(b, v[i].id_index, v[i].seq); i++)
        ;
    if (!b->more && !b->stopped && !b->frozen) {
        uint64_t last = sim_aux_last_seq_before(b->t, b->k, b->p->recent ? INT64_MAX : b->cutoff);
        if (last > b->token)
            b->token = last;
    }
    free(v);
    free(ids);
}

json_t *sim_export_run(struct sim_tenant *t, enum sim_kind k, const struct sim_export_params *p,
                       int64_t now_ns, int delay_s, const struct sim_export_rows *r)
{
    struct batch b = {.t = t,
                      .k = k,
                      .p = p,
                      .r = r,
                      .cutoff = delay_s > 0 ? now_ns - (int64_t)delay_s * AP_NS_PER_S : INT64_MAX,
                      .token = p->after,
                      .last_sent = p->after,
                      .data = json_array()};
    char tok[48];

    if (p->has_from_date)
        run_from_date(&b);
    else
        sim_aux_walk_log(t, k, p->after, batch_take, &b);
    if (b.more)
        b.token = b.last_sent;
    sim_export_token(b.token, tok);
    return json_pack("{sb ss so}", "hasMore", b.more, "continueFrom", tok, "data", b.data);
}

/* ---- sim_export ------------------------------------------------------------------- */

struct export_ctx {
    struct sim_call *c;
    const struct sim_export_opts *o;
};

static bool export_keep(const json_t *row, void *ud)
{
    const struct export_ctx *x = ud;
    return x->o->match(x->c, row, x->o->ud);
}

static json_t *export_present(const json_t *row, void *ud)
{
    const struct export_ctx *x = ud;
    return x->o->present(x->c, row, x->o->ud);
}

static const char *query_get(void *ud, const char *name)
{
    return sim_query(ud, name);
}

void sim_export(struct sim_call *c, enum sim_kind k, const struct sim_export_opts *o)
{
    struct sim_export_params p;
    struct export_ctx x = {c, o};
    struct sim_export_rows r = {
        .keep = o != NULL && o->match != NULL ? export_keep : NULL,
        .present = o != NULL && o->present != NULL ? export_present : NULL,
        .ud = &x,
    };
    json_t *errors = json_object();

    if (!sim_export_parse(query_get, c->req, &p, errors)) {
        sim_problem(c, 400, SIM_LIST_TITLE, errors);
        return;
    }
    json_decref(errors);
    sim_reply(c, 200,
              sim_export_run(c->tenant, k, &p, sim_now(c->sim), c->sim->cfg.export_delay_s, &r));
}
