/*
 * lifetime.c — dropping stsim's model: every tenant with its record tables
 * and their indexes, every app, connection and user (a reset, a state file
 * loaded over the model, the end of the process).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/core/core_int.h"
#include "sim/core/index.h"

void sim_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

static void table_cleanup(struct sim_table *tb)
{
    for (size_t i = 0; i < tb->n; i++)
        json_decref(tb->rows[i]);
    free(tb->rows);
    free(tb->ids);
    free(tb->seq);
    free(tb->changed_ns);
    sim_aux_free(tb);
    memset(tb, 0, sizeof(*tb));
}

static void tenant_free(struct sim_tenant *t)
{
    if (t == NULL)
        return;
    for (int k = 0; k < SIM_KIND_COUNT; k++)
        table_cleanup(&t->tables[k]);
    sim_keyidx_free(t);
    free(t);
}

static void app_free(struct sim_app *a)
{
    if (a == NULL)
        return;
    sim_strv_free(a->scopes, a->nscopes);
    free(a->tenants);
    free(a);
}

static void conn_free(struct sim_conn *c)
{
    if (c == NULL)
        return;
    sim_strv_free(c->scopes, c->nscopes);
    free(c);
}

void sim_model_drop(struct sim *s)
{
    for (size_t i = 0; i < s->ntenants; i++)
        tenant_free(s->tenants[i]);
    for (size_t i = 0; i < s->napps; i++)
        app_free(s->apps[i]);
    for (size_t i = 0; i < s->nconns; i++)
        conn_free(s->conns[i]);
    free(s->tenants);
    free(s->apps);
    free(s->conns);
    free(s->users);
    s->tenants = NULL;
    s->apps = NULL;
    s->conns = NULL;
    s->users = NULL;
    s->ntenants = s->napps = s->nconns = s->nusers = 0;
    s->next_id = SIM_FIRST_ID;
}
