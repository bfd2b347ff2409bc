/*
 * pages.c — the two ways ServiceTitan hands out long lists: paged lists
 * ({page, pageSize, hasMore, data}, walked with page=1,2,… until hasMore is
 * false) and export feeds ({hasMore, continueFrom, data}, walked from a date
 * or a continuation token). Each page is one ap_titan_call, so every page has
 * the call's retries and rate limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "titan/titan_int.h"

/* Percent-encodes s for a query value (RFC 3986 unreserved kept). */
static char *query_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = ap_xmalloc(n * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch)) {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Calls fn on each row of doc.data; false when fn asked to stop. */
static bool each_row(json_t *doc, bool (*fn)(json_t *row, void *ud), void *ud)
{
    json_t *data = json_object_get(doc, "data"), *row;
    size_t i;

    json_array_foreach (data, i, row) {
        if (!fn(row, ud))
            return false;
    }
    return true;
}

static enum ap_err bad_shape(struct ap_titan_error *e, const char *what)
{
    e->stage = AP_TITAN_STAGE_API;
    snprintf(e->title, sizeof(e->title), "ServiceTitan answered a list without %s", what);
    return AP_EPARSE;
}

enum ap_err ap_titan_each(struct ap_titan *t, const struct ap_titan_creds *creds,
                          const char *module, const char *path, const char *query, int page_size,
                          bool (*fn)(json_t *row, void *ud), void *ud, struct ap_titan_error *e)
{
    enum ap_err err = AP_OK;
    json_t *doc = NULL;
    char *q;
    bool more = true;

    if (page_size <= 0 || page_size > 5000)
        page_size = page_size <= 0 ? 50 : 5000;
    for (int page = 1; more && err == AP_OK; page++) {
        if (page > AP_TITAN_MAX_PAGES)
            return bad_shape(e, "an end (too many pages)");
        q = ap_xasprintf("%s%spage=%d&pageSize=%d", query && *query ? query : "",
                         query && *query ? "&" : "", page, page_size);
        err = ap_titan_call(t, creds, "GET", module, path, q, NULL, &doc, e);
        free(q);
        if (err)
            break;
        if (!json_is_array(json_object_get(doc, "data")) ||
            !json_is_boolean(json_object_get(doc, "hasMore")))
            err = bad_shape(e, "data and hasMore");
        else /* an empty page ends the walk even if hasMore says otherwise */
            more = each_row(doc, fn, ud) && json_is_true(json_object_get(doc, "hasMore")) &&
                   json_array_size(json_object_get(doc, "data")) > 0;
        json_decref(doc);
        doc = NULL;
    }
    return err;
}

enum ap_err ap_titan_export(struct ap_titan *t, const struct ap_titan_creds *creds,
                            const char *module, const char *feed, const char *from,
                            bool (*fn)(json_t *row, void *ud), void *ud, char **next,
                            struct ap_titan_error *e)
{
    enum ap_err err = AP_OK;
    json_t *doc = NULL;
    char *cur = ap_xstrdup(from ? from : ""), *path = ap_xasprintf("/export/%s", feed), *q, *esc;
    const char *cont;
    bool more = true, go = true;

    for (int batch = 0; more && go && err == AP_OK; batch++) {
        if (batch >= AP_TITAN_MAX_PAGES) {
            err = bad_shape(e, "an end (too many batches)");
            break;
        }
        esc = query_escape(cur);
        q = *cur ? ap_xasprintf("from=%s", esc) : NULL;
        err = ap_titan_call(t, creds, "GET", module, path, q, NULL, &doc, e);
        free(esc);
        free(q);
        if (err)
            break;
        cont = json_string_value(json_object_get(doc, "continueFrom"));
        if (!json_is_array(json_object_get(doc, "data")) || !cont || strlen(cont) > 4096 ||
            !json_is_boolean(json_object_get(doc, "hasMore"))) {
            err = bad_shape(e, "data, hasMore and continueFrom");
        } else {
            go = each_row(doc, fn, ud);
            more = json_is_true(json_object_get(doc, "hasMore"));
            free(cur);
            cur = ap_xstrdup(cont);
        }
        json_decref(doc);
        doc = NULL;
    }
    free(path);
    if (next)
        *next = err == AP_OK ? cur : NULL;
    if (!next || err != AP_OK)
        free(cur);
    return err;
}
