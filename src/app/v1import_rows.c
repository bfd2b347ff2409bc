/*
 * v1import_rows.c — the rows of a V1 import file, as the two readers hand
 * them over: each row's three values checked (an account name of 1–100
 * printable characters, a Tenant ID that is a whole number in 1..2^53-1, a
 * V1 key of printable ASCII), and the good rows kept in line order with an
 * index of their account names (a hash table, open addressing) so that an
 * account that appears twice is reported on its second line and only its
 * first line imports.
 *
 * A reason never quotes a value except the account name, and that only once
 * it has been checked to be printable: a V1 key is a secret.
 */
#include "app/v1import_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

/* ---- checking values ------------------------------------------------------ */
/*
 * Code points of the UTF-8 string s, or -1 when it is not valid UTF-8 or
 * holds a control character (C0, DEL, C1).
 */
static long printable_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    while (*p) {
        unsigned c = *p, cp, extra;
        if (c < 0x80) {
            cp = c, extra = 0;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f, extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f, extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07, extra = 3;
        } else {
            return -1;
        }
        for (unsigned i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return -1;
        p += extra + 1;
        count++;
    }
    return count;
}

static bool check_account(const char *s, char *why, size_t whylen)
{
    long len = printable_utf8_len(s);
    if (len == 0)
        snprintf(why, whylen, "the account name is empty");
    else if (len < 0)
        snprintf(why, whylen, "the account name has a control character or is not UTF-8");
    else if (len > AP_FMS_V1_ACCOUNT_MAX)
        snprintf(why, whylen, "the account name is longer than %d characters",
                 AP_FMS_V1_ACCOUNT_MAX);
    else
        return true;
    return false;
}

static bool check_tenant(const char *s, int64_t *out, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n == 0) {
        snprintf(why, whylen, "the tenant id is missing");
        return false;
    }
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            snprintf(why, whylen, "the tenant id is not a positive whole number");
            return false;
        }
        v = v * 10 + (s[i] - '0');
        if (v > AP_FMS_V1_TENANT_MAX) {
            snprintf(why, whylen, "the tenant id is too large");
            return false;
        }
    }
    if (v == 0) {
        snprintf(why, whylen, "the tenant id is not a positive whole number");
        return false;
    }
    *out = v;
    return true;
}

static bool check_key(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n == 0) {
        snprintf(why, whylen, "the V1 API key is missing");
        return false;
    }
    if (n > AP_FMS_V1_KEY_MAX) {
        snprintf(why, whylen, "the V1 API key is longer than %d characters", AP_FMS_V1_KEY_MAX);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            snprintf(why, whylen, "the V1 API key has a character that is not printable ASCII");
            return false;
        }
    }
    return true;
}

/* Fills out from the three texts, or says why not. */
static bool check_row(const char *account, const char *tenant, const char *key,
                      struct ap_fms_v1_row *out, char *why, size_t whylen)
{
    if (!check_account(account, why, whylen) ||
        !check_tenant(tenant, &out->tenant_id, why, whylen) || !check_key(key, why, whylen))
        return false;
    snprintf(out->account, sizeof(out->account), "%s", account);
    snprintf(out->v1_key, sizeof(out->v1_key), "%s", key);
    return true;
}

/* ---- the rows and their index ---------------------------------------------- */

/* FNV-1a of an account name. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot holding name, or the empty slot where it goes. */
static size_t *find_slot(struct v1_rows *c, const char *name)
{
    size_t mask = c->nslots - 1, i = (size_t)name_hash(name) & mask;
    while (c->slots[i] && strcmp(c->rows[c->slots[i] - 1].account, name) != 0)
        i = (i + 1) & mask;
    return &c->slots[i];
}

/* Doubles the index (64 slots at first), keeping it at most half full. */
static void grow_index(struct v1_rows *c)
{
    size_t *old = c->slots, nold = c->nslots;
    c->nslots = nold ? nold * 2 : 64;
    c->slots = ap_xcalloc(c->nslots, sizeof(*c->slots));
    for (size_t i = 0; i < nold; i++)
        if (old[i])
            *find_slot(c, c->rows[old[i] - 1].account) = old[i];
    free(old);
}

void v1_rows_bad(struct v1_rows *c, int line, const char *why)
{
    c->bad++;
    ap_buf_printf(c->report, "line %d: %s; skipped\n", line, why);
}

/* Keeps a checked row unless its account came earlier in the file. */
static void add_row(struct v1_rows *c, const struct ap_fms_v1_row *r)
{
    if (2 * (c->n + 1) > c->nslots)
        grow_index(c);
    size_t *slot = find_slot(c, r->account);
    if (*slot) {
        c->bad++;
        ap_buf_printf(c->report,
                      "line %d: account \"%s\" appears again (first on line %d); skipped\n",
                      r->line, r->account, c->rows[*slot - 1].line);
        return;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->rows = ap_xrealloc(c->rows, c->cap * sizeof(*c->rows));
    }
    c->rows[c->n] = *r;
    *slot = ++c->n;
}

void v1_rows_add_checked(struct v1_rows *c, int no, const char *account, const char *tenant,
                         const char *key)
{
    char why[200];
    struct ap_fms_v1_row r = {.line = no};
    if (check_row(account, tenant, key, &r, why, sizeof(why)))
        add_row(c, &r);
    else
        v1_rows_bad(c, no, why);
}

void v1_rows_drop_index(struct v1_rows *c)
{
    free(c->slots);
    c->slots = NULL;
    c->nslots = 0;
}
