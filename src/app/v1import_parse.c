/*
 * v1import_parse.c — a V1 import file as a whole, before anything is
 * stored: which format it is (JSON lines or CSV, from the file name or its
 * first character), its physical lines (a spreadsheet's byte-order mark
 * dropped, "\n" or "\r\n", blank lines ignored), the CSV header first, each
 * later line handed to its reader, and the file's limits (size, line length,
 * number of rows). ap_fms_v1_parse() is what the import and the fuzz target
 * call; it does no I/O.
 */
#include "app/v1import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "crypto/crypto.h"

/* A spreadsheet's byte-order mark, when text starts with one. */
static bool has_bom(const char *text, size_t n)
{
    return n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0;
}

bool ap_fms_v1_is_json_lines(const char *path, const char *text, size_t n)
{
    static const char *const json_ext[] = {".jsonl", ".ndjson", ".json"};
    size_t plen = path ? strlen(path) : 0;
    for (size_t i = 0; i < 3; i++) {
        size_t el = strlen(json_ext[i]);
        if (plen > el && strcasecmp(path + plen - el, json_ext[i]) == 0)
            return true;
    }
    if (plen > 4 && strcasecmp(path + plen - 4, ".csv") == 0)
        return false;
    size_t i = has_bom(text, n) ? 3 : 0;
    while (i < n && (v1_is_blank(text[i]) || text[i] == '\r' || text[i] == '\n'))
        i++;
    return i < n && text[i] == '{';
}

/* ---- lines --------------------------------------------------------------------- */

struct lines {
    const char *p, *end;
    int no;
};

/* The next physical line without its "\n" or "\r\n"; false at the end. */
static bool next_line(struct lines *it, const char **line, size_t *len)
{
    size_t left = (size_t)(it->end - it->p);
    if (left == 0)
        return false;
    const char *nl = memchr(it->p, '\n', left);
    size_t n = nl ? (size_t)(nl - it->p) : left;
    *line = it->p;
    *len = n > 0 && it->p[n - 1] == '\r' ? n - 1 : n;
    it->p += nl ? n + 1 : n;
    it->no++;
    return true;
}

static bool blank_line(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!v1_is_blank(line[i]))
            return false;
    return true;
}

/* ---- the whole file ---------------------------------------------------------------- */

/* One line after the header: reported when the file or the line is too long, else read. */
static bool body_line(struct v1_rows *c, const struct v1_csv_cols *cols, bool json_lines,
                      const char *line, size_t len, int no)
{
    if (c->n + (size_t)c->bad >= AP_FMS_V1_ROWS_MAX) {
        c->bad++;
        ap_buf_printf(c->report,
                      "line %d: the file has more than %d rows; this line and "
                      "the rest were not read\n",
                      no, AP_FMS_V1_ROWS_MAX);
        return false;
    }
    if (len > AP_FMS_V1_LINE_MAX) {
        char why[80];
        snprintf(why, sizeof(why), "the line is longer than %d bytes", AP_FMS_V1_LINE_MAX);
        v1_rows_bad(c, no, why);
    } else if (json_lines) {
        v1_json_row(c, line, len, no);
    } else {
        v1_csv_row(c, cols, line, len, no);
    }
    return true;
}

/* Goes through the lines; false when the CSV header is unusable. */
static bool parse_lines(struct v1_rows *c, const char *text, size_t n, bool json_lines)
{
    struct lines it = {text, text + n, 0};
    struct v1_csv_cols cols = {0};
    bool have_header = json_lines;
    const char *line;
    size_t len;
    if (has_bom(text, n))
        it.p += 3;
    while (next_line(&it, &line, &len)) {
        if (blank_line(line, len))
            continue;
        if (!have_header) {
            if (v1_csv_header(line, len, it.no, &cols, c->report))
                return false;
            have_header = true;
        } else if (!body_line(c, &cols, json_lines, line, len, it.no)) {
            break;
        }
    }
    if (!have_header) {
        ap_buf_printf(c->report, "the file is empty: the first line must name the columns "
                                 "account,tenant_id,v1_api_key\n");
        return false;
    }
    return true;
}

enum ap_err ap_fms_v1_parse(const char *text, size_t n, bool json_lines,
                            struct ap_fms_v1_row **rows, size_t *nrows, int *bad,
                            struct ap_buf *report)
{
    struct v1_rows c = {.report = report};
    *rows = NULL;
    *nrows = 0;
    *bad = 0;
    if (n > AP_FMS_V1_FILE_MAX) {
        ap_buf_printf(report, "the file is larger than %zu MiB\n", AP_FMS_V1_FILE_MAX >> 20);
        return AP_ETOOBIG;
    }
    bool ok = parse_lines(&c, text, n, json_lines);
    v1_rows_drop_index(&c);
    if (!ok) {
        ap_crypto_wipe(c.rows, c.n * sizeof(*c.rows));
        free(c.rows);
        return AP_EINVAL;
    }
    *rows = c.rows;
    *nrows = c.n;
    *bad = c.bad;
    return AP_OK;
}
