/*
 * v1import_csv.c — the CSV reader of the V1 import: our own, small and
 * strict. One record per line (no column of this file may hold a line
 * break, so a quote left open cannot swallow the rest of the file), RFC 4180
 * quoting within a line, a hard limit on line length, and a header line
 * that names the columns account, tenant_id and v1_api_key in any order
 * (case-insensitive; other columns are ignored).
 *
 * Pure (no I/O) so that the unit tests and the fuzz target can drive it with
 * any bytes. A refusal says what is wrong with the line and how to write it,
 * never quoting the line: it may hold a V1 key.
 */
#include "app/v1import_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

/* ---- one record ------------------------------------------------------------ */

/* One quoted field starting at line[*i] == '"'; appends its text to buf at *o. */
static enum ap_err csv_quoted(const char *line, size_t n, size_t *i, char *buf, size_t *o,
                              size_t field, char *why, size_t whylen)
{
    size_t j = *i + 1;
    for (;;) {
        if (j >= n) {
            snprintf(why, whylen,
                     "field %zu has a quote that is not closed on this line (a quoted field must "
                     "end with a quote on the same line)",
                     field);
            return AP_EPARSE;
        }
        if (line[j] == '"') {
            if (j + 1 < n && line[j + 1] == '"') {
                buf[(*o)++] = '"';
                j += 2;
                continue;
            }
            j++;
            break;
        }
        buf[(*o)++] = line[j++];
    }
    while (j < n && v1_is_blank(line[j]))
        j++;
    if (j < n && line[j] != ',') {
        snprintf(why, whylen,
                 "field %zu has text after its closing quote (write a quote inside a quoted field "
                 "as \"\")",
                 field);
        return AP_EPARSE;
    }
    *i = j;
    return AP_OK;
}

/* One unquoted field from line[*i]: up to the next ',', blanks trimmed. */
static enum ap_err csv_plain(const char *line, size_t n, size_t *i, char *buf, size_t *o,
                             size_t field, char *why, size_t whylen)
{
    size_t j = *i, start = *o;
    for (; j < n && line[j] != ','; j++) {
        if (line[j] == '"') {
            snprintf(why, whylen,
                     "field %zu has a quote inside an unquoted value (quote the whole field and "
                     "write the quote as \"\")",
                     field);
            return AP_EPARSE;
        }
        buf[(*o)++] = line[j];
    }
    while (*o > start && v1_is_blank(buf[*o - 1]))
        (*o)--;
    *i = j;
    return AP_OK;
}

enum ap_err ap_fms_v1_csv_split(const char *line, size_t n, char *buf, size_t buflen, char **fields,
                                size_t max_fields, size_t *nfields, char *why, size_t whylen)
{
    *nfields = 0;
    if (buflen < n + 1)
        return AP_EINTERNAL;
    if (memchr(line, '\0', n)) {
        snprintf(why, whylen, "the line has a NUL byte");
        return AP_EPARSE;
    }
    size_t i = 0, o = 0;
    for (;;) {
        if (*nfields == max_fields) {
            snprintf(why, whylen, "the line has more than %zu fields", max_fields);
            return AP_ETOOBIG;
        }
        while (i < n && v1_is_blank(line[i]))
            i++;
        fields[(*nfields)++] = buf + o;
        size_t field = *nfields;
        enum ap_err err = i < n && line[i] == '"'
                              ? csv_quoted(line, n, &i, buf, &o, field, why, whylen)
                              : csv_plain(line, n, &i, buf, &o, field, why, whylen);
        if (err)
            return err;
        buf[o++] = '\0';
        if (i >= n)
            return AP_OK;
        i++; /* the ',' */
    }
}

/* ---- the header and the rows ------------------------------------------------ */

enum ap_err v1_csv_header(const char *line, size_t len, int no, struct v1_csv_cols *cols,
                          struct ap_buf *report)
{
    char buf[AP_FMS_V1_LINE_MAX + 1], why[200];
    char *f[AP_FMS_V1_FIELDS_MAX];
    static const char *const want[] = {"account", "tenant_id", "v1_api_key"};
    int *where[] = {&cols->account, &cols->tenant, &cols->key};
    if (len > AP_FMS_V1_LINE_MAX) {
        ap_buf_printf(report, "line %d: the header is longer than %d bytes\n", no,
                      AP_FMS_V1_LINE_MAX);
        return AP_EINVAL;
    }
    if (ap_fms_v1_csv_split(line, len, buf, sizeof(buf), f, AP_FMS_V1_FIELDS_MAX, &cols->count, why,
                            sizeof(why))) {
        ap_buf_printf(report, "line %d: the header cannot be read: %s\n", no, why);
        return AP_EINVAL;
    }
    for (size_t w = 0; w < 3; w++) {
        *where[w] = -1;
        for (size_t i = 0; i < cols->count; i++) {
            if (strcasecmp(f[i], want[w]) != 0)
                continue;
            if (*where[w] >= 0) {
                ap_buf_printf(report, "line %d: the header names column %s twice\n", no, want[w]);
                return AP_EINVAL;
            }
            *where[w] = (int)i;
        }
        if (*where[w] < 0) {
            ap_buf_printf(report,
                          "line %d: the header has no column %s (the first line must name the "
                          "columns account,tenant_id,v1_api_key, in any order)\n",
                          no, want[w]);
            return AP_EINVAL;
        }
    }
    return AP_OK;
}

void v1_csv_row(struct v1_rows *c, const struct v1_csv_cols *cols, const char *line, size_t len,
                int no)
{
    char buf[AP_FMS_V1_LINE_MAX + 1], why[200];
    char *f[AP_FMS_V1_FIELDS_MAX];
    size_t nf = 0;
    if (ap_fms_v1_csv_split(line, len, buf, sizeof(buf), f, AP_FMS_V1_FIELDS_MAX, &nf, why,
                            sizeof(why))) {
        v1_rows_bad(c, no, why);
        return;
    }
    if (nf != cols->count) {
        snprintf(why, sizeof(why), "the line has %zu fields but the header has %zu", nf,
                 cols->count);
        v1_rows_bad(c, no, why);
        return;
    }
    v1_rows_add_checked(c, no, f[cols->account], f[cols->tenant], f[cols->key]);
}
