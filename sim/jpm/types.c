/*
 * types.c — stsim's JPM job types (list, get) and the job cancel / hold
 * reason lists.
 *
 * The job types list is the one JPM list that orders with orderBy
 * (id|modifiedOn|createdOn) + orderByDirection (asc|ascending|desc|
 * descending) instead of sort=±Field, so it pages here rather than through
 * sim_list, with the same envelope and bounds. Both reason lists return
 * active and inactive rows unless active= says otherwise.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim/core/list_int.h"
#include "sim/jpm/jpm_int.h"

struct jt_filter {
    const char *name, *priority, *order_by;
    bool desc, has_min, has_max;
    int64_t min, max;
};

static const char *req_query(void *ud, const char *name)
{
    return sim_query(ud, name);
}

static bool jt_filter_read(struct sim_call *c, struct jt_filter *f)
{
    static const char *const orders[] = {"id", "modifiedOn", "createdOn", NULL};
    static const char *const dirs[] = {"asc", "ascending", "desc", "descending", NULL};
    const char *dir;
    memset(f, 0, sizeof(*f));
    f->name = sim_query(c->req, "name");
    if (f->name != NULL && f->name[0] == '\0')
        f->name = NULL;
    f->priority = sim_query(c->req, "priority");
    if (f->priority != NULL && f->priority[0] == '\0')
        f->priority = NULL;
    if (!sim_q_enum(c, "orderBy", orders, &f->order_by) ||
        !sim_q_enum(c, "orderByDirection", dirs, &dir))
        return false;
    f->desc = dir != NULL && dir[0] == 'd';
    return sim_q_int64(c, "minDuration", &f->has_min, &f->min) &&
           sim_q_int64(c, "maxDuration", &f->has_max, &f->max);
}

static bool jt_match(const json_t *row, const struct jt_filter *f)
{
    int64_t d = sim_row_int(row, "duration");
    if ((f->name != NULL && !sim_ci_contains(sim_row_str(row, "name"), f->name)) ||
        (f->priority != NULL && strcasecmp(sim_row_str(row, "priority"), f->priority) != 0))
        return false;
    return !(f->has_min && d < f->min) && !(f->has_max && d > f->max);
}

/* <0, 0, >0 as a sorts before, with, after b under f's order (ties: id, same direction). */
static int jt_cmp(const json_t *a, const json_t *b, const struct jt_filter *f)
{
    int64_t x = sim_row_id(a), y = sim_row_id(b);
    if (f->order_by != NULL && strcmp(f->order_by, "id") != 0) {
        int64_t tx = 0, ty = 0;
        sim_row_time(a, f->order_by, &tx);
        sim_row_time(b, f->order_by, &ty);
        if (tx != ty) {
            x = tx;
            y = ty;
        }
    }
    int r = x < y ? -1 : (x > y ? 1 : 0);
    return f->desc ? -r : r;
}

static void jt_list(struct sim_call *c)
{
    struct sim_list_opts o = {.active_filter = true, .active_default = "True", .dates = true};
    struct sim_list_params p;
    struct jt_filter f;
    json_t *errors = json_object();
    if (!sim_list_parse(req_query, c->req, &o, &p, errors)) {
        sim_problem(c, 400, "One or more validation errors occurred.", errors);
        return;
    }
    json_decref(errors);
    if (!jt_filter_read(c, &f))
        return;
    size_t n = 0, count = sim_count(c->tenant, SIM_JOB_TYPE);
    json_t **rows = ap_arena_alloc(ap_http_arena(c->req), (count + 1) * sizeof(*rows));
    for (size_t i = 0; i < count; i++) {
        json_t *row = sim_at(c->tenant, SIM_JOB_TYPE, i);
        if (!sim_list_keep(&p, row) || !jt_match(row, &f))
            continue;
        size_t j = n++;
        for (; j > 0 && jt_cmp(rows[j - 1], row, &f) > 0; j--)
            rows[j] = rows[j - 1];
        rows[j] = row;
    }
    sim_reply(c, 200, sim_list_page(rows, n, &p));
}

static void jt_get(struct sim_call *c)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return;
    json_t *row = sim_get(c->tenant, SIM_JOB_TYPE, id);
    if (row == NULL) {
        sim_not_found(c, "Job type not found");
        return;
    }
    sim_reply(c, 200, sim_public(row));
}

static void reasons(struct sim_call *c, enum sim_kind k)
{
    static const char *const sort[] = {"Id", "ModifiedOn", "CreatedOn", NULL};
    struct sim_list_opts o = {
        .active_filter = true, .active_default = "Any", .sort = sort, .dates = true};
    sim_list(c, k, &o);
}

static void cancel_reasons(struct sim_call *c)
{
    reasons(c, SIM_JOB_CANCEL_REASON);
}

static void hold_reasons(struct sim_call *c)
{
    reasons(c, SIM_JOB_HOLD_REASON);
}

void jpm_types_routes(struct sim *s, struct ap_router *r)
{
    sim_api_route(s, r, "GET", "jpm", "/job-types", "tn.jpm.jobtypes:r", jt_list);
    sim_api_route(s, r, "GET", "jpm", "/job-types/:id", "tn.jpm.jobtypes:r", jt_get);
    sim_api_route(s, r, "GET", "jpm", "/job-cancel-reasons", "tn.jpm.jobs:r", cancel_reasons);
    sim_api_route(s, r, "GET", "jpm", "/job-hold-reasons", "tn.jpm.jobs:r", hold_reasons);
}
