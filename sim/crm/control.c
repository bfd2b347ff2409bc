/*
 * control.c — the CRM module's part of the control API: what a test needs
 * set up that ServiceTitan's API cannot do (docs/stsim.md, Control API).
 *
 *   POST /_stsim/tenants/{tenantId}/customers/{id}/merge {"into": id}
 *        the customer becomes a merged duplicate of "into": inactive,
 *        mergedToId set, its locations merged into the other's first
 *        location; answers the merged customer.
 *
 * (A Do Not Service customer needs no control route: PATCH
 * /crm/v2/tenant/{t}/customers/{id} {"doNotService": true}, as in
 * ServiceTitan.)
 */
#include <stdlib.h>

#include "sim/crm/crm_int.h"

static bool id_of(struct ap_http_req *req, const char *name, int64_t *out)
{
    const char *v = ap_http_param(req, name);
    char *end = NULL;
    long long n = v != NULL ? strtoll(v, &end, 10) : 0;

    *out = n;
    return v != NULL && *v != '\0' && *end == '\0' && n > 0;
}

static void c_merge(struct sim *s, struct ap_http_req *req, json_t *body)
{
    int64_t tid, id, into;
    struct sim_tenant *t;
    json_t *v = json_object_get(body, "into");

    if (!id_of(req, "tenantId", &tid) || (t = sim_tenant_find(s, tid)) == NULL)
        return sim_control_error(req, 404, "no such tenant");
    if (!id_of(req, "id", &id) || sim_get(t, SIM_CUSTOMER, id) == NULL)
        return sim_control_error(req, 404, "no such customer");
    if (!json_is_integer(v))
        return sim_control_error(req, 400, "into: the id of the customer to merge into");
    into = (int64_t)json_integer_value(v);
    if (into == id || sim_get(t, SIM_CUSTOMER, into) == NULL)
        return sim_control_error(req, 400, "into: customer %lld is not another customer",
                                 (long long)into);
    if (json_is_integer(json_object_get(sim_get(t, SIM_CUSTOMER, into), "mergedToId")))
        return sim_control_error(req, 409, "customer %lld is merged itself", (long long)into);
    sim_crm_merge(s, t, id, into);
    sim_control_reply(req, 200, sim_public(sim_get(t, SIM_CUSTOMER, id)));
}

void sim_crm_control_routes(struct sim *s, struct ap_router *r)
{
    sim_control_route(s, r, "POST", "/_stsim/tenants/:tenantId/customers/:id/merge", c_merge);
}
