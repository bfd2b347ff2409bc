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
#include "sim/core/list_int.h"

#define SIM_LIST_TITLE "One or more validation errors occurred."

/* ---- parameter parsing -------------------------------------------------------- */

/* v made printable for a message: ASCII only, at most 40 characters. */
static void printable(const char *v, char out[48])
{
    size_t i;

    for (i = 0; v[i] != '\0' && i < 40; i++)
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

json_t *sim_list_page(json_t *const *rows, size_t n, const struct sim_list_params *p)
{
    json_t *data = json_array();
    uint64_t start = (uint64_t)(p->page - 1) * (uint64_t)p->page_size;
    uint64_t end = start + (uint64_t)p->page_size;

    for (uint64_t i = start; i < end && i < n; i++)
        json_array_append_new(data, sim_public(rows[i]));
    return json_pack("{sI sI sb so so}", "page", (json_int_t)p->page, "pageSize",
                     (json_int_t)p->page_size, "hasMore", end < n, "totalCount",
                     p->include_total ? json_integer((json_int_t)n) : json_null(), "data", data);
}

/* ---- sim_list ------------------------------------------------------------------- */

static const char *query_get(void *ud, const char *name)
{
    return sim_query(ud, name);
}

void sim_list(struct sim_call *c, enum sim_kind k, const struct sim_list_opts *o)
{
    const struct sim_table *tb = &c->tenant->tables[k];
    struct sim_list_params p;
    json_t *errors = json_object();
    json_t **rows = NULL;
    size_t n = 0;
    bool stop = false;

    if (!sim_list_parse(query_get, c->req, o, &p, errors)) {
        sim_problem(c, 400, SIM_LIST_TITLE, errors);
        return;
    }
    json_decref(errors);
    rows = ap_xmalloc((tb->n + 1) * sizeof(*rows));
    for (size_t i = 0; i < tb->n; i++) {
        json_t *row = tb->rows[i];

        if (!sim_list_keep(&p, row))
            continue;
        if (o != NULL && o->match != NULL && !o->match(c, row, o->ud, &stop)) {
            if (stop)
                goto out;
            continue;
        }
        if (stop)
            goto out;
        rows[n++] = row;
    }
    sim_list_sort(rows, n, &p);
    sim_reply(c, 200, sim_list_page(rows, n, &p));
out:
    free(rows);
}

/* ---- export tokens --------------------------------------------------------------- */

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

/* ---- exports -------------------------------------------------------------------- */

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

static int seq_cmp(const void *pa, const void *pb, void *arg)
{
    const uint64_t *seq = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

    return (seq[a] > seq[b]) - (seq[a] < seq[b]);
}

static bool export_match(const struct sim_export_params *p, const json_t *row,
                         bool (*keep)(const json_t *row, void *ud), void *ud)
{
    if (p->has_from_date && !in_range(row, "modifiedOn", p->from_ns, INT64_MAX))
        return false;
    return keep == NULL || keep(row, ud);
}

/*
 * Walks the changed rows in change order. The token moves past every row
 * returned or filtered out, but never past a row still inside the visibility
 * window: with includeRecentChanges those are sent now and again later
 * (the duplicates ServiceTitan warns about), unless the batch is full.
 */
json_t *sim_export_run(const struct sim_tenant *t, enum sim_kind k,
                       const struct sim_export_params *p, int64_t now_ns, int delay_s,
                       bool (*keep)(const json_t *row, void *ud), void *ud)
{
    const struct sim_table *tb = &t->tables[k];
    size_t *idx = ap_xmalloc((tb->n + 1) * sizeof(*idx)), n = 0, i;
    int64_t cutoff = delay_s > 0 ? now_ns - (int64_t)delay_s * 1000000000 : INT64_MAX;
    uint64_t token = p->after, last_sent = p->after;
    bool frozen = false, more = false;
    json_t *data = json_array();
    char tok[48];

    for (i = 0; i < tb->n; i++) {
        if (tb->seq[i] > p->after)
            idx[n++] = i;
    }
    qsort_r(idx, n, sizeof(*idx), seq_cmp, tb->seq);
    for (i = 0; i < n; i++) {
        size_t at = idx[i];
        bool recent = tb->changed_ns[at] > cutoff;

        if (recent && !p->recent)
            break;
        if (!export_match(p, tb->rows[at], keep, ud)) {
            frozen |= recent;
            token = frozen ? token : tb->seq[at];
            continue;
        }
        if (json_array_size(data) == p->batch) {
            more = true;
            break;
        }
        json_array_append_new(data, sim_public(tb->rows[at]));
        last_sent = tb->seq[at];
        frozen |= recent;
        token = frozen ? token : tb->seq[at];
    }
    if (more)
        token = last_sent;
    free(idx);
    sim_export_token(token, tok);
    return json_pack("{sb ss so}", "hasMore", more, "continueFrom", tok, "data", data);
}

struct export_ctx {
    struct sim_call *c;
    bool (*match)(struct sim_call *c, const json_t *row, void *ud);
    void *ud;
};

static bool export_keep(const json_t *row, void *ud)
{
    struct export_ctx *x = ud;
    return x->match(x->c, row, x->ud);
}

void sim_export(struct sim_call *c, enum sim_kind k,
                bool (*match)(struct sim_call *c, const json_t *row, void *ud), void *ud)
{
    struct sim_export_params p;
    struct export_ctx x = {c, match, ud};
    json_t *errors = json_object();

    if (!sim_export_parse(query_get, c->req, &p, errors)) {
        sim_problem(c, 400, SIM_LIST_TITLE, errors);
        return;
    }
    json_decref(errors);
    sim_reply(c, 200,
              sim_export_run(c->tenant, k, &p, sim_now(c->sim), c->sim->cfg.export_delay_s,
                             match != NULL ? export_keep : NULL, &x));
}
