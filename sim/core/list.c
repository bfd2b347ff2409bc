/*
 * list.c — ServiceTitan's paginated lists and export feeds over the record
 * tables: the query parameters every list shares (page, pageSize,
 * includeTotal, ids, active, created/modified bounds, sort), the page
 * envelope, and the export feeds' continuation tokens and visibility delay.
 *
 * The parts that do not need a request live in functions of list_int.h so
 * unit tests can drive them; sim_list() and sim_export() wire them to the
 * request and answer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "sim/core/index.h"
#include "sim/core/list_int.h"

#define SIM_LIST_TITLE "One or more validation errors occurred."

/* ---- parameter parsing -------------------------------------------------------- */

/* v made printable for a message: ASCII only, at most 40 characters. */
static void printable(const char *v, char out[48])
{
    size_t i;

    for (i = 0; i < 40 && v[i] != '\0'; i++)
        out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
    if (v[i] != '\0' && i >= 3)
        memcpy(out + i - 3, "...", 3);
    out[i] = '\0';
}

static void param_error(json_t *errors, const char *name, const char *msg)
{
    json_t *list = json_object_get(errors, name);

    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, name, list);
    }
    json_array_append_new(list, json_string(msg));
}

static void invalid_value(json_t *errors, const char *name, const char *v)
{
    char buf[48], msg[128];

    printable(v, buf);
    snprintf(msg, sizeof(msg), "The value '%s' is not valid.", buf);
    param_error(errors, name, msg);
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* A parameter's value; NULL when absent or empty (ASP.NET binds "" as absent). */
static const char *param(sim_param_fn get, void *ud, const char *name)
{
    const char *v = get(ud, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* An integer parameter in [lo, hi]; def when absent. */
static bool int_param(sim_param_fn get, void *ud, const char *name, int64_t lo, int64_t hi,
                      int64_t def, int64_t *out, json_t *errors)
{
    const char *v = param(get, ud, name);
    char msg[128];

    *out = def;
    if (v == NULL)
        return true;
    if (!parse_i64(v, out)) {
        invalid_value(errors, name, v);
        return false;
    }
    if (*out < lo || *out > hi) {
        snprintf(msg, sizeof(msg), "The field %s must be between %lld and %lld.", name,
                 (long long)lo, (long long)hi);
        param_error(errors, name, msg);
        return false;
    }
    return true;
}

static bool bool_param(sim_param_fn get, void *ud, const char *name, bool *out, json_t *errors)
{
    const char *v = param(get, ud, name);

    *out = false;
    if (v == NULL || strcasecmp(v, "false") == 0)
        return true;
    if (strcasecmp(v, "true") == 0) {
        *out = true;
        return true;
    }
    invalid_value(errors, name, v);
    return false;
}

static bool time_param(sim_param_fn get, void *ud, const char *name, int64_t def, int64_t *out,
                       json_t *errors)
{
    const char *v = param(get, ud, name);

    *out = def;
    if (v == NULL || ap_time_parse(v, out))
        return true;
    invalid_value(errors, name, v);
    return false;
}

static bool ids_param(sim_param_fn get, void *ud, struct sim_list_params *p, json_t *errors)
{
    const char *v = param(get, ud, "ids");
    char item[32];

    p->nids = 0;
    while (v != NULL && *v != '\0') {
        size_t len = strcspn(v, ",");
        size_t b = 0, e = len;

        while (b < e && isspace((unsigned char)v[b]))
            b++;
        while (e > b && isspace((unsigned char)v[e - 1]))
            e--;
        if (e > b) {
            int64_t id;

            snprintf(item, sizeof(item), "%.*s", (int)(e - b), v + b);
            if (e - b >= sizeof(item) || !parse_i64(item, &id)) {
                invalid_value(errors, "ids", item);
                return false;
            }
            if (p->nids == SIM_LIST_MAX_IDS) {
                param_error(errors, "ids", "The maximum number of ids is 50.");
                return false;
            }
            p->ids[p->nids++] = id;
        }
        v += len + (v[len] == ',');
    }
    p->has_ids = p->nids > 0; /* "ids=,," filters nothing, like an empty ids= */
    return true;
}

static bool active_param(sim_param_fn get, void *ud, const struct sim_list_opts *o,
                         struct sim_list_params *p, json_t *errors)
{
    const char *v;

    p->active = 0;
    if (o == NULL || !o->active_filter)
        return true;
    v = param(get, ud, "active");
    if (v == NULL)
        v = o->active_default != NULL ? o->active_default : "True";
    if (strcasecmp(v, "true") == 0)
        p->active = 1;
    else if (strcasecmp(v, "false") == 0)
        p->active = -1;
    else if (strcasecmp(v, "any") == 0)
        p->active = 0;
    else {
        invalid_value(errors, "active", v);
        return false;
    }
    return true;
}

/* sort=+Field|-Field|Field ('+' may arrive decoded as a space). */
static bool sort_param(sim_param_fn get, void *ud, const struct sim_list_opts *o,
                       struct sim_list_params *p, json_t *errors)
{
    const char *v = param(get, ud, "sort");
    char buf[48], msg[160];

    p->sort_key[0] = '\0';
    p->sort_desc = false;
    /* A list without a sort parameter ignores one, as ASP.NET does with any
     * parameter an operation does not declare. */
    if (v == NULL || o == NULL || o->sort == NULL)
        return true;
    if (*v == '+' || *v == ' ' || *v == '-') {
        p->sort_desc = *v == '-';
        v++;
    }
    for (size_t i = 0; o->sort[i] != NULL; i++) {
        if (strcasecmp(o->sort[i], v) != 0 || strlen(v) >= sizeof(p->sort_key))
            continue;
        snprintf(p->sort_key, sizeof(p->sort_key), "%s", o->sort[i]);
        p->sort_key[0] = (char)tolower((unsigned char)p->sort_key[0]);
        return true;
    }
    printable(v, buf);
    snprintf(msg, sizeof(msg), "Sorting by '%s' is not supported.", buf);
    param_error(errors, "sort", msg);
    return false;
}

bool sim_list_parse(sim_param_fn get, void *ud, const struct sim_list_opts *o,
                    struct sim_list_params *p, json_t *errors)
{
    bool ok = true;

    memset(p, 0, sizeof(*p));
    ok &= int_param(get, ud, "page", 0, INT32_MAX, 1, &p->page, errors);
    if (p->page == 0)
        p->page = 1;
    ok &= int_param(get, ud, "pageSize", 1, SIM_LIST_MAX_PAGE_SIZE, SIM_LIST_DEFAULT_PAGE,
                    &p->page_size, errors);
    ok &= bool_param(get, ud, "includeTotal", &p->include_total, errors);
    ok &= ids_param(get, ud, p, errors);
    ok &= active_param(get, ud, o, p, errors);
    p->created_before = p->modified_before = INT64_MAX;
    p->created_on_or_after = p->modified_on_or_after = INT64_MIN;
    if (o != NULL && o->dates) {
        ok &= time_param(get, ud, "createdBefore", INT64_MAX, &p->created_before, errors);
        ok &= time_param(get, ud, "createdOnOrAfter", INT64_MIN, &p->created_on_or_after, errors);
        ok &= time_param(get, ud, "modifiedBefore", INT64_MAX, &p->modified_before, errors);
        ok &= time_param(get, ud, "modifiedOnOrAfter", INT64_MIN, &p->modified_on_or_after, errors);
    }
    ok &= sort_param(get, ud, o, p, errors);
    return ok;
}

/* ---- filtering, sorting, paging ------------------------------------------------ */

static bool in_range(const json_t *row, const char *key, int64_t on_or_after, int64_t before)
{
    int64_t t;

    if (on_or_after == INT64_MIN && before == INT64_MAX)
        return true;
    if (!ap_time_parse(json_string_value(json_object_get(row, key)), &t))
        return false;
    return t >= on_or_after && t < before;
}

bool sim_list_keep(const struct sim_list_params *p, const json_t *row)
{
    if (p->has_ids) {
        int64_t id = sim_row_id(row);
        size_t i;

        for (i = 0; i < p->nids && p->ids[i] != id; i++)
            ;
        if (i == p->nids)
            return false;
    }
    if (p->active != 0) {
        const json_t *a = json_object_get(row, "active");
        bool active = a == NULL || json_is_true(a);

        if (active != (p->active > 0))
            return false;
    }
    return in_range(row, "createdOn", p->created_on_or_after, p->created_before) &&
           in_range(row, "modifiedOn", p->modified_on_or_after, p->modified_before);
}

/* Orders two JSON scalars: null/absent first, then by number, bool or string. */
static int value_cmp(const json_t *a, const json_t *b)
{
    bool an = a == NULL || json_is_null(a), bn = b == NULL || json_is_null(b);

    if (an || bn)
        return (int)bn - (int)an;
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t i = json_integer_value(a), j = json_integer_value(b);
            return (i > j) - (i < j);
        }
        return (x > y) - (x < y);
    }
    if (json_is_boolean(a) && json_is_boolean(b))
        return (int)json_is_true(a) - (int)json_is_true(b);
    if (json_is_string(a) && json_is_string(b))
        return strcasecmp(json_string_value(a), json_string_value(b));
    return (int)json_typeof(a) - (int)json_typeof(b);
}

static int row_cmp(const void *pa, const void *pb, void *arg)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    const struct sim_list_params *p = arg;
    int c = 0;

    if (p->sort_key[0] != '\0') {
        c = value_cmp(json_object_get(a, p->sort_key), json_object_get(b, p->sort_key));
        if (p->sort_desc)
            c = -c;
    }
    if (c == 0) {
        int64_t x = sim_row_id(a), y = sim_row_id(b);
        c = (x > y) - (x < y);
    }
    return c;
}

void sim_list_sort(json_t **rows, size_t n, const struct sim_list_params *p)
{
    if (p->sort_key[0] != '\0' && n > 1)
        qsort_r(rows, n, sizeof(*rows), row_cmp, (void *)p);
}

static json_t *envelope(const struct sim_list_params *p, size_t total, json_t *data)
{
    uint64_t end = (uint64_t)p->page * (uint64_t)p->page_size;

    return json_pack("{sI sI sb so so}", "page", (json_int_t)p->page, "pageSize",
                     (json_int_t)p->page_size, "hasMore", end < total, "totalCount",
                     p->include_total ? json_integer((json_int_t)total) : json_null(), "data",
                     data);
}

json_t *sim_list_page(json_t *const *rows, size_t n, const struct sim_list_params *p)
{
    json_t *data = json_array();
    uint64_t start = (uint64_t)(p->page - 1) * (uint64_t)p->page_size;
    uint64_t end = start + (uint64_t)p->page_size;

    for (uint64_t i = start; i < end && i < n; i++)
        json_array_append_new(data, sim_public(rows[i]));
    return envelope(p, n, data);
}

/* ---- sim_list ------------------------------------------------------------------- */

struct list_run {
    struct sim_call *c;
    enum sim_kind k;
    const struct sim_list_opts *o;
    struct sim_list_params p;
};

static const char *query_get(void *ud, const char *name)
{
    return sim_query(ud, name);
}

static json_t *present(const struct list_run *r, const json_t *row)
{
    if (r->o != NULL && r->o->present != NULL)
        return r->o->present(r->c, row, r->o->ud);
    return sim_public(row);
}

static bool row_active(const json_t *row)
{
    const json_t *a = json_object_get(row, "active");
    return a == NULL || json_is_true(a);
}

static bool has_dates(const struct sim_list_params *p)
{
    return p->created_before != INT64_MAX || p->created_on_or_after != INT64_MIN ||
           p->modified_before != INT64_MAX || p->modified_on_or_after != INT64_MIN;
}

/* Nothing asked but paging, active and the id order: the page comes from the indexes. */
static bool list_is_plain(const struct list_run *r)
{
    const struct sim_list_params *p = &r->p;

    return (r->o == NULL || (r->o->match == NULL && !r->o->has_cand)) && !p->has_ids &&
           !has_dates(p) && (p->sort_key[0] == '\0' || strcmp(p->sort_key, "id") == 0);
}

/* Appends up to want rows from the nth one (in id order, or from the end when desc) whose
 * active flag is flag (any when p->active is 0). */
static void page_rows(const struct list_run *r, size_t nth, size_t want, json_t *data)
{
    struct sim_tenant *t = r->c->tenant;
    const struct sim_table *tb = &t->tables[r->k];
    bool desc = r->p.sort_desc, any = r->p.active == 0, flag = r->p.active > 0;
    size_t pos, total = any ? tb->n : 0;

    if (!any) {
        size_t nact = sim_aux_active_count(t, r->k);
        total = flag ? nact : tb->n - nact;
    }
    if (any)
        pos = desc ? tb->n - 1 - nth : nth;
    else if (!sim_aux_nth(t, r->k, flag, desc ? total - 1 - nth : nth, &pos))
        return;
    while (want > 0) {
        const json_t *row = tb->rows[pos];
        if (any || row_active(row) == flag) {
            json_array_append_new(data, present(r, row));
            want--;
        }
        if (want == 0 || (desc ? pos == 0 : pos + 1 >= tb->n))
            break;
        pos = desc ? pos - 1 : pos + 1;
    }
}

static void list_plain(struct list_run *r)
{
    struct sim_tenant *t = r->c->tenant;
    const struct sim_table *tb = &t->tables[r->k];
    uint64_t start = (uint64_t)(r->p.page - 1) * (uint64_t)r->p.page_size;
    size_t total = tb->n;
    json_t *data = json_array();

    if (r->p.active != 0) {
        size_t nact = sim_aux_active_count(t, r->k);
        total = r->p.active > 0 ? nact : tb->n - nact;
    }
    if (start < total) {
        uint64_t end = start + (uint64_t)r->p.page_size;
        page_rows(r, (size_t)start, (size_t)((end < total ? end : total) - start), data);
    }
    sim_reply(r->c, 200, envelope(&r->p, total, data));
}

static int id_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* The ids the request narrows the list to (ascending, malloc'd), or NULL for the whole table. */
static int64_t *list_ids(const struct list_run *r, size_t *n)
{
    const struct sim_list_params *p = &r->p;
    int64_t *ids = NULL;

    *n = 0;
    if (r->o != NULL && r->o->has_cand) {
        ids = ap_xmalloc((r->o->ncand + 1) * sizeof(*ids));
        if (r->o->ncand > 0)
            memcpy(ids, r->o->cand, r->o->ncand * sizeof(*ids));
        *n = r->o->ncand;
        if (r->o->keep_order) {
            *n = r->o->ncand;
            return ids;
        }
    } else if (p->has_ids) {
        ids = ap_xmalloc(p->nids * sizeof(*ids));
        memcpy(ids, p->ids, p->nids * sizeof(*ids));
        *n = p->nids;
    } else if (p->modified_on_or_after != INT64_MIN || p->modified_before != INT64_MAX) {
        return sim_aux_time_range(r->c->tenant, r->k, SIM_TIX_MODIFIED, p->modified_on_or_after,
                                  p->modified_before, n);
    } else if (p->created_on_or_after != INT64_MIN || p->created_before != INT64_MAX) {
        return sim_aux_time_range(r->c->tenant, r->k, SIM_TIX_CREATED, p->created_on_or_after,
                                  p->created_before, n);
    } else {
        return NULL;
    }
    qsort(ids, *n, sizeof(*ids), id_cmp);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++) {
        if (u == 0 || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    }
    *n = u;
    return ids;
}

/* Adds row to rows when the filters keep it; false when match answered the call. */
static bool list_take(struct list_run *r, json_t *row, json_t **rows, size_t *n)
{
    bool stop = false;

    if (row == NULL || !sim_list_keep(&r->p, row))
        return true;
    if (r->o != NULL && r->o->match != NULL && !r->o->match(r->c, row, r->o->ud, &stop))
        return !stop;
    if (stop)
        return false;
    rows[(*n)++] = row;
    return true;
}

static void list_select(struct list_run *r)
{
    struct sim_tenant *t = r->c->tenant;
    const struct sim_table *tb = &t->tables[r->k];
    size_t nids, n = 0;
    int64_t *ids = list_ids(r, &nids);
    size_t cap = ids != NULL ? nids : tb->n;
    json_t **rows = ap_xmalloc((cap + 1) * sizeof(*rows));
    bool ok = true;

    for (size_t i = 0; ok && i < cap; i++)
        ok = list_take(r, ids != NULL ? sim_get(t, r->k, ids[i]) : tb->rows[i], rows, &n);
    if (ok) {
        json_t *data = json_array();
        uint64_t start = (uint64_t)(r->p.page - 1) * (uint64_t)r->p.page_size;
        sim_list_sort(rows, n, &r->p);
        for (uint64_t i = start; i < start + (uint64_t)r->p.page_size && i < n; i++)
            json_array_append_new(data, present(r, rows[i]));
        sim_reply(r->c, 200, envelope(&r->p, n, data));
    }
    free(rows);
    free(ids);
}

void sim_list(struct sim_call *c, enum sim_kind k, const struct sim_list_opts *o)
{
    struct list_run r = {.c = c, .k = k, .o = o};
    json_t *errors = json_object();

    if (!sim_list_parse(query_get, c->req, o, &r.p, errors)) {
        sim_problem(c, 400, SIM_LIST_TITLE, errors);
        return;
    }
    json_decref(errors);
    if (list_is_plain(&r))
        list_plain(&r);
    else
        list_select(&r);
}

/* ---- export tokens ------------------------------------------------------------------------ */

void sim_export_token(uint64_t seq, char out[48])
{
    char plain[32];
    int n = snprintf(plain, sizeof(plain), "seq:%llu", (unsigned long long)seq);
    char *tok = ap_crypto_b64url(plain, (size_t)n);

    snprintf(out, 48, "%s", tok);
    free(tok);
}

bool sim_export_token_parse(const char *tok, uint64_t *seq)
{
    char *text, *end;
    size_t n = 0;
    bool ok;

    if (tok == NULL || strlen(tok) > 40)
        return false;
    text = ap_crypto_b64url_decode(tok, strlen(tok), &n);
    ok = text != NULL && n >= 5 && n < 32 && memcmp(text, "seq:", 4) == 0;
    for (size_t i = 4; ok && i < n; i++)
        ok = isdigit((unsigned char)text[i]);
    if (ok) {
        errno = 0;
        unsigned long long v = strtoull(text + 4, &end, 10);
        char again[48];

        sim_export_token(v, again);
        /* one spelling per token: no padding, no other alphabet, no leading zeros */
        ok = errno == 0 && *end == '\0' && strcmp(again, tok) == 0;
        *seq = ok ? v : *seq;
    }
    free(text);
    return ok;
}

/* ---- export parameters ---------------------------------------------------------- */

bool sim_export_parse(sim_param_fn get, void *ud, struct sim_export_params *p, json_t *errors)
{
    const char *from = param(get, ud, "from");
    int64_t batch;
    bool ok = true;

    memset(p, 0, sizeof(*p));
    if (from != NULL && ap_time_parse(from, &p->from_ns))
        p->has_from_date = true;
    else if (from != NULL && !sim_export_token_parse(from, &p->after)) {
        param_error(errors, "from",
                    "The value is neither a date nor a continuation token from an earlier call.");
        ok = false;
    }
    ok &= bool_param(get, ud, "includeRecentChanges", &p->recent, errors);
    ok &= int_param(get, ud, "pageSize", 1, SIM_EXPORT_MAX_BATCH, SIM_EXPORT_MAX_BATCH, &batch,
                    errors);
    p->batch = (size_t)batch;
    return ok;
}
