/*
 * fuzz_v1_import.c — libFuzzer target of the V1 import's parsers
 * (src/app/v1import_*.c): ap_fms_v1_parse() over the input as CSV and as JSON
 * lines, and ap_fms_v1_csv_split() over each of its lines.
 *
 * Beyond "does not crash" it checks what the import relies on:
 *   - the whole file is refused only as AP_EINVAL (a bad CSV header), with a
 *     reason in the report, and then no rows;
 *   - every good row has a 1..100-character printable account name, a tenant
 *     id in 1..2^53-1 and a printable V1 key of 1..200 characters, rows come
 *     in line order and no account appears twice;
 *   - every report line starts with "line N: " or "the file";
 *   - splitting a line, quoting every field and splitting again gives the same
 *     fields (the splitter's quoting is its own inverse).
 * Built as a real fuzzer with -Dfuzz=true (clang) and, in every build, as a
 * replay runner over the committed corpus (replay_main.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/fms.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

static void check_report(const char *r)
{
    while (r && *r) {
        CHECK(strncmp(r, "line ", 5) == 0 || strncmp(r, "the file", 8) == 0);
        const char *nl = strchr(r, '\n');
        CHECK(nl != NULL);
        r = nl + 1;
    }
}

static void check_parse(const char *text, size_t n, bool json)
{
    struct ap_fms_v1_row *rows = NULL;
    size_t nrows = 0;
    int bad = 0;
    struct ap_buf rep;
    ap_buf_init(&rep, (size_t)1 << 26);
    enum ap_err err = ap_fms_v1_parse(text, n, json, &rows, &nrows, &bad, &rep);
    CHECK(err == AP_OK || err == AP_EINVAL);
    if (err) {
        CHECK(rows == NULL && nrows == 0 && rep.len > 0);
        CHECK(!json);
    }
    for (size_t i = 0; i < nrows; i++) {
        const struct ap_fms_v1_row *r = &rows[i];
        size_t klen = strlen(r->v1_key);
        CHECK(r->line >= 1 && (i == 0 || r->line > rows[i - 1].line));
        CHECK(r->account[0] != '\0');
        CHECK(r->tenant_id >= 1 && r->tenant_id <= AP_FMS_V1_TENANT_MAX);
        CHECK(klen >= 1 && klen <= AP_FMS_V1_KEY_MAX && printable_ascii(r->v1_key));
        for (size_t j = 0; j < i && i < 200; j++)
            CHECK(strcmp(rows[j].account, r->account) != 0);
    }
    check_report(rep.data);
    free(rows);
    ap_buf_cleanup(&rep);
}

/* Quotes every field, joins them with ',', and splits again: the same fields. */
static void check_split_line(const char *line, size_t n)
{
    char buf[AP_FMS_V1_LINE_MAX + 1], why[200], *f[AP_FMS_V1_FIELDS_MAX];
    char buf2[4 * AP_FMS_V1_LINE_MAX + 64], *f2[AP_FMS_V1_FIELDS_MAX];
    char joined[4 * AP_FMS_V1_LINE_MAX + 64];
    size_t nf = 0, nf2 = 0, o = 0;
    if (n > AP_FMS_V1_LINE_MAX)
        return;
    if (ap_fms_v1_csv_split(line, n, buf, sizeof(buf), f, AP_FMS_V1_FIELDS_MAX, &nf, why,
                            sizeof(why)) != AP_OK)
        return;
    CHECK(nf >= 1);
    for (size_t i = 0; i < nf; i++) {
        if (i)
            joined[o++] = ',';
        joined[o++] = '"';
        for (const char *p = f[i]; *p; p++) {
            if (*p == '"')
                joined[o++] = '"';
            joined[o++] = *p;
        }
        joined[o++] = '"';
    }
    CHECK(ap_fms_v1_csv_split(joined, o, buf2, sizeof(buf2), f2, AP_FMS_V1_FIELDS_MAX, &nf2, why,
                              sizeof(why)) == AP_OK);
    CHECK(nf2 == nf);
    for (size_t i = 0; i < nf; i++)
        CHECK(strcmp(f[i], f2[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    if (size > AP_FMS_V1_FILE_MAX)
        return 0;
    check_parse(text, size, false);
    check_parse(text, size, true);
    for (size_t start = 0; start < size;) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) : size;
        check_split_line(text + start, end - start);
        start = end + 1;
    }
    return 0;
}
