/*
 * v1import_int.h — private to src/app/v1import*.c (the V1-era import; its
 * public half is in app/fms.h): the set of rows the two readers fill while
 * they go through a file, and the pieces they share.
 *
 * The readers (v1import_csv.c, v1import_jsonl.c) turn one line into three
 * texts; v1_rows_add_checked() checks them, and v1_rows (v1import_rows.c)
 * keeps the good rows in line order with an index of their account names,
 * so that an account named twice in a file is caught on its second line.
 * Every problem becomes one line of the report ("line N: reason; skipped")
 * that never quotes a V1 key.
 */
#ifndef AP_APP_V1IMPORT_INT_H
#define AP_APP_V1IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/fms.h"

struct ap_buf;

/* The rows a parse collects: good rows, an index of their names, the report. */
struct v1_rows {
    struct ap_fms_v1_row *rows; /* malloc'd, in line order */
    size_t n, cap;
    size_t *slots; /* open addressing: row index + 1, 0 = empty */
    size_t nslots;
    int bad; /* lines reported and skipped */
    struct ap_buf *report;
};

/* Counts a bad line and reports it as "line N: why; skipped". */
void v1_rows_bad(struct v1_rows *c, int line, const char *why);

/*
 * Checks the three texts of line no (account name, tenant id, V1 key) and
 * keeps the row, unless a value is bad or the account came earlier in the
 * file: then the line is reported instead.
 */
void v1_rows_add_checked(struct v1_rows *c, int no, const char *account, const char *tenant,
                         const char *key);

/* Frees the index (the rows stay). */
void v1_rows_drop_index(struct v1_rows *c);

/* Space or tab: the blanks a field or a line may carry around its text. */
static inline bool v1_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Where each needed column sits in a CSV record. */
struct v1_csv_cols {
    int account, tenant, key;
    size_t count;
};

/* Reads the CSV header line no; AP_EINVAL with the reason in report when unusable. */
enum ap_err v1_csv_header(const char *line, size_t len, int no, struct v1_csv_cols *cols,
                          struct ap_buf *report);

/* One CSV record (line no) into c: kept or reported. */
void v1_csv_row(struct v1_rows *c, const struct v1_csv_cols *cols, const char *line, size_t len,
                int no);

/* One JSON-lines record (line no) into c: kept or reported. */
void v1_json_row(struct v1_rows *c, const char *line, size_t len, int no);

#endif
