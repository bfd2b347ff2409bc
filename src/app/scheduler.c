/*
 * scheduler.c — stored schedulers: create, update, pause, load and list, each
 * scoped by account. See scheduler.h; the JSON shape is scheduler_json.c's.
 */
#include "app/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* Most schedulers one account lists. */
#define LIST_MAX 1000

static const char select_cols[] =
    "SELECT id, account_id, key, config, paused, updated_at FROM schedulers ";

static void new_key(char out[AP_SCHED_KEY_LEN])
{
    char *t = ap_crypto_token(16);
    snprintf(out, AP_SCHED_KEY_LEN, "sch_%s", t);
    free(t);
}

/* Builds a scheduler from a row of select_cols. */
static enum ap_err from_row(struct ap_db_rows *r, struct ap_sched **out)
{
    const char *cfg_text = ap_db_row_text(r, 3);
    struct ap_json_error je;
    json_t *cfg = NULL;
    enum ap_err err;

    if (!cfg_text ||
        ap_json_parse_body(cfg_text, strlen(cfg_text), AP_JSON_OBJECT, &cfg, &je) != AP_OK) {
        ap_log_error("scheduler.corrupt", "id=%lld reason=\"stored config is not JSON\"",
                     (long long)ap_db_row_int(r, 0));
        return AP_ECORRUPT;
    }
    err = ap_sched_parse(cfg, NULL, out, &je);
    json_decref(cfg);
    if (err) {
        ap_log_error("scheduler.corrupt", "id=%lld field=%s", (long long)ap_db_row_int(r, 0),
                     je.field);
        return AP_ECORRUPT;
    }
    (*out)->id = ap_db_row_int(r, 0);
    (*out)->account_id = ap_db_row_int(r, 1);
    snprintf((*out)->key, sizeof((*out)->key), "%s", ap_db_row_text(r, 2));
    (*out)->paused = ap_db_row_int(r, 4) != 0;
    snprintf((*out)->updated_at, sizeof((*out)->updated_at), "%s", ap_db_row_text(r, 5));
    return AP_OK;
}

/* Parses cfg against the account's stored catalog. */
static enum ap_err parse_checked(struct ap_store *st, int64_t account_id, json_t *cfg,
                                 struct ap_sched **out, struct ap_json_error *e)
{
    struct ap_catalog *cat = ap_catalog_load(st, account_id);
    enum ap_err err;

    if (!cat) {
        ap_json_error_set(e, "unavailable", "", "the catalog could not be read; try again");
        return AP_EUNAVAIL;
    }
    err = ap_sched_parse(cfg, cat, out, e);
    ap_catalog_free(cat);
    return err;
}

static enum ap_err write_row(struct ap_store *st, const char *sql, struct ap_db_val *v, size_t n)
{
    struct ap_db_conn *c = ap_store_acquire(st, true);
    enum ap_err err;

    if (!c)
        return AP_EUNAVAIL;
    err = ap_db_exec(c, sql, v, n);
    if (!err && ap_db_changes(c) == 0)
        err = AP_ENOTFOUND;
    ap_store_release(c);
    return err;
}

/* The normalised config text to store (malloc'd). */
static char *config_text(const struct ap_sched *s)
{
    json_t *norm = ap_sched_config_json(s);
    char *text = ap_json_dumps(norm);
    json_decref(norm);
    return text;
}

enum ap_err ap_sched_create(struct ap_store *st, int64_t account_id, json_t *cfg,
                            struct ap_sched **out, struct ap_json_error *e)
{
    struct ap_sched *s = NULL;
    char now[32], *text;
    enum ap_err err;

    *out = NULL;
    if ((err = parse_checked(st, account_id, cfg, &s, e)))
        return err;
    new_key(s->key);
    s->account_id = account_id;
    ap_clock_format_utc(ap_clock_real_ns(), now);
    text = config_text(s);
    struct ap_db_val v[7] = {ap_db_int(account_id), ap_db_text(s->key),   ap_db_text(s->name),
                             ap_db_text(text),      ap_db_int(s->paused), ap_db_text(now),
                             ap_db_text(now)};
    err = write_row(st,
                    "INSERT INTO schedulers (account_id, key, name, config, paused, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    v, 7);
    free(text);
    if (err) {
        ap_sched_free(s);
        ap_json_error_set(e, "unavailable", "", "the scheduler could not be saved; try again");
        return err == AP_ENOTFOUND ? AP_EINTERNAL : err;
    }
    snprintf(s->updated_at, sizeof(s->updated_at), "%s", now);
    ap_log_info("scheduler.created", "account=%lld key=%s", (long long)account_id, s->key);
    *out = s;
    return AP_OK;
}

enum ap_err ap_sched_update(struct ap_store *st, int64_t account_id, const char *key, json_t *cfg,
                            struct ap_sched **out, struct ap_json_error *e)
{
    struct ap_sched *s = NULL, *old = NULL;
    char now[32], *text;
    enum ap_err err;

    *out = NULL;
    if ((err = ap_sched_get(st, account_id, key, &old))) {
        ap_json_error_set(e, "not_found", "", "there is no scheduler %s in this account", key);
        return err;
    }
    if ((err = parse_checked(st, account_id, cfg, &s, e))) {
        ap_sched_free(old);
        return err;
    }
    if (!json_object_get(cfg, "paused"))
        s->paused = old->paused;
    s->id = old->id;
    s->account_id = account_id;
    snprintf(s->key, sizeof(s->key), "%s", old->key);
    ap_sched_free(old);
    ap_clock_format_utc(ap_clock_real_ns(), now);
    text = config_text(s);
    struct ap_db_val v[6] = {ap_db_text(s->name), ap_db_text(text),      ap_db_int(s->paused),
                             ap_db_text(now),     ap_db_int(account_id), ap_db_text(s->key)};
    err = write_row(st,
                    "UPDATE schedulers SET name = ?, config = ?, paused = ?, updated_at = ? "
                    "WHERE account_id = ? AND key = ?",
                    v, 6);
    free(text);
    if (err) {
        ap_sched_free(s);
        ap_json_error_set(e, "unavailable", "", "the scheduler could not be saved; try again");
        return err;
    }
    snprintf(s->updated_at, sizeof(s->updated_at), "%s", now);
    ap_log_info("scheduler.updated", "account=%lld key=%s", (long long)account_id, s->key);
    *out = s;
    return AP_OK;
}

enum ap_err ap_sched_set_paused(struct ap_store *st, int64_t account_id, const char *key,
                                bool paused)
{
    char now[32];
    enum ap_err err;

    ap_clock_format_utc(ap_clock_real_ns(), now);
    struct ap_db_val v[4] = {ap_db_int(paused), ap_db_text(now), ap_db_int(account_id),
                             ap_db_text(key)};
    err = write_row(st,
                    "UPDATE schedulers SET paused = ?, updated_at = ? WHERE account_id = ? AND "
                    "key = ?",
                    v, 4);
    if (!err)
        ap_log_info("scheduler.paused", "account=%lld key=%s paused=%d", (long long)account_id, key,
                    paused);
    return err;
}

/* Runs a select_cols query and builds up to max schedulers. */
static enum ap_err query_scheds(struct ap_store *st, const char *where, struct ap_db_val *v,
                                size_t nv, size_t max, struct ap_sched ***out, size_t *n)
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    struct ap_db_rows *r = NULL;
    char sql[256];
    enum ap_err err;

    *out = NULL;
    *n = 0;
    if (!c)
        return AP_EUNAVAIL;
    snprintf(sql, sizeof(sql), "%s%s", select_cols, where);
    if ((err = ap_db_query(c, sql, v, nv, &r)))
        goto out;
    while (ap_db_next(r) && *n < max) {
        struct ap_sched *s;
        if (from_row(r, &s) != AP_OK)
            continue; /* logged; the others still list */
        *out = ap_xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = s;
    }
    err = ap_db_done(r);
out:
    ap_store_release(c);
    if (err) {
        ap_sched_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return err;
}

enum ap_err ap_sched_get(struct ap_store *st, int64_t account_id, const char *key,
                         struct ap_sched **out)
{
    struct ap_sched **v = NULL;
    size_t n = 0;
    enum ap_err err;

    *out = NULL;
    if (!key || strlen(key) >= AP_SCHED_KEY_LEN)
        return AP_ENOTFOUND;
    if (account_id > 0) {
        struct ap_db_val b[2] = {ap_db_text(key), ap_db_int(account_id)};
        err = query_scheds(st, "WHERE key = ? AND account_id = ?", b, 2, 1, &v, &n);
    } else {
        struct ap_db_val b = ap_db_text(key);
        err = query_scheds(st, "WHERE key = ?", &b, 1, 1, &v, &n);
    }
    if (!err && n == 0)
        err = AP_ENOTFOUND;
    if (!err)
        *out = v[0];
    free(v);
    return err;
}

enum ap_err ap_sched_list(struct ap_store *st, int64_t account_id, struct ap_sched ***out,
                          size_t *n)
{
    struct ap_db_val b = ap_db_int(account_id);
    return query_scheds(st, "WHERE account_id = ? ORDER BY name, id", &b, 1, LIST_MAX, out, n);
}

void ap_sched_list_free(struct ap_sched **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ap_sched_free(v[i]);
    free(v);
}
