/*
 * v1import_jsonl.c — the JSON-lines reader of the V1 import: one object per
 * line, {"account": "...", "tenantId": 1234567 or "1234567", "v1ApiKey":
 * "..."}; other members are ignored, a missing or null one reads as empty
 * (and is then reported as missing by the row checks).
 *
 * Lines go through the json adapter's body parser, which owns the limits.
 * Its own message is not repeated in the report: it may quote the bad text,
 * and that text may be a V1 key. The report names the column instead.
 */
#include "app/v1import_int.h"

#include <stdio.h>
#include <string.h>

#include "json/json.h"

/*
 * The text of member key of obj: a string (borrowed), or a whole number
 * written into num (when number_ok); "" when absent. NULL (why set) when it
 * has another type.
 */
static const char *json_text(json_t *obj, const char *key, bool number_ok, char num[32], char *why,
                             size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return "";
    if (json_is_string(v))
        return json_string_value(v);
    if (number_ok && json_is_integer(v)) {
        long long i = (long long)json_integer_value(v);
        snprintf(num, 32, i > 0 ? "%lld" : "-", i);
        return num;
    }
    snprintf(why, whylen, "%s must be %s", key,
             number_ok ? "a whole number or a string of digits" : "a string");
    return NULL;
}

void v1_json_row(struct v1_rows *c, const char *line, size_t len, int no)
{
    char why[200], num[32];
    const char *account, *tenant, *key;
    struct ap_json_error je;
    json_t *obj = NULL;
    /* the parser's own message may quote the bad text, which may be a key */
    enum ap_err err = ap_json_parse_body(line, len, AP_JSON_OBJECT, &obj, &je);
    if (err == AP_EINVAL && strcmp(je.code, "not_an_object") == 0) {
        v1_rows_bad(c, no, "the line is not a JSON object");
        return;
    }
    if (err) {
        snprintf(why, sizeof(why), "malformed JSON at column %d", je.column);
        v1_rows_bad(c, no, why);
        return;
    }
    if (!(account = json_text(obj, "account", false, num, why, sizeof(why))) ||
        !(tenant = json_text(obj, "tenantId", true, num, why, sizeof(why))) ||
        !(key = json_text(obj, "v1ApiKey", false, num, why, sizeof(why))))
        v1_rows_bad(c, no, why);
    else
        v1_rows_add_checked(c, no, account, tenant, key);
    json_decref(obj);
}
