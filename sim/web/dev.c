/*
 * dev.c — the developer portal's few pages stsim emulates: sign in (one
 * seeded developer, WEB_DEV_USER / WEB_DEV_PASSWORD), My Apps, and an app's
 * page where its owner adds a customer's Tenant ID and sees each tenant's
 * connection ("Not Connected Yet" / Connected / Disabled) with its Client ID.
 *
 * The developer owns every app in the emulator. Its session has its own
 * cookie, scoped to /developer, so a browser can be signed in on both sides.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/web/web_int.h"

#define DEV_CRUMBS "<a href=\"/developer/apps\">My Apps</a>"

static enum ap_http_result dev_login_form(struct web_ctx *w, int status, const char *error,
                                          const char *user)
{
    struct ap_buf *b = &w->b;

    if (w->sess.kind != WEB_DEV_ANON)
        web_sess_start(w, WEB_DEV_ANON, 0, NULL);
    ap_buf_reset(b);
    web_page_open(w, "Developer sign in", NULL);
    if (error)
        web_fmt(b, "<p class=\"notice error\" role=\"alert\" id=\"login-error\">%s</p>", error);
    web_fmt(b, "<form method=\"post\" action=\"/developer/login\">");
    web_csrf_input(w);
    web_fmt(b,
            "<label for=\"username\">Username</label><input id=\"username\" name=\"username\" "
            "autocomplete=\"username\" required value=\"%s\">"
            "<label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
            "type=\"password\" autocomplete=\"current-password\" required>"
            "<div class=\"actions\"><button type=\"submit\">Sign in</button></div></form>"
            "<p class=\"hint\">Tenant users sign in <a href=\"/login\">here</a>.</p>",
            user);
    web_page_close(w);
    return web_send(w, status);
}

static enum ap_http_result dev_login_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    web_ctx_init(&w, req, ud);
    if (web_sess_load(&w, WEB_DEV, true) && w.sess.kind == WEB_DEV)
        return web_redirect(&w, "/developer/apps");
    return dev_login_form(&w, 200, NULL, "");
}

static bool dev_str_eq(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strlen(a) == n && ap_crypto_equal(a, b, n);
}

static enum ap_http_result dev_login_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;

    web_ctx_init(&w, req, ud);
    web_sess_load(&w, WEB_DEV, true);
    if (!web_form_parse(&w) || !web_csrf_ok(&w))
        return dev_login_form(&w, 403, "Your sign-in form expired. Please try again.", "");
    const char *u = web_form_get(&w, "username");
    const char *p = web_form_get(&w, "password");
    if (!u || !p || !dev_str_eq(u, WEB_DEV_USER) || !dev_str_eq(p, WEB_DEV_PASSWORD))
        return dev_login_form(&w, 401, "Wrong username or password.", u ? u : "");
    web_sess_start(&w, WEB_DEV, 0, WEB_DEV_USER);
    ap_log_info("stsim.web.dev_login", "result=ok");
    return web_redirect(&w, "/developer/apps");
}

static enum ap_http_result dev_logout_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    web_ctx_init(&w, req, ud);
    if (web_sess_load(&w, WEB_DEV, false) && web_form_parse(&w) && web_csrf_ok(&w))
        web_sess_end(&w);
    return web_redirect(&w, "/developer/login");
}

static enum ap_http_result dev_root_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    web_ctx_init(&w, req, ud);
    return web_redirect(&w, "/developer/apps");
}

/* ---- My Apps -------------------------------------------------------------- */

static enum ap_http_result dev_apps_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;

    web_ctx_init(&w, req, ud);
    if (!web_sess_load(&w, WEB_DEV, false))
        return web_redirect(&w, "/developer/login");
    web_page_open(&w, "My Apps", NULL);
    web_fmt(&w.b, "<table id=\"apps\"><caption>Your applications</caption><thead><tr>"
                  "<th scope=\"col\">Name</th><th scope=\"col\">Application ID</th>"
                  "<th scope=\"col\">Version</th><th scope=\"col\">Tenants</th></tr></thead>"
                  "<tbody>");
    pthread_mutex_lock(&w.s->lock);
    for (size_t i = 0; i < w.s->napps; i++) {
        const struct sim_app *a = w.s->apps[i];
        web_fmt(&w.b,
                "<tr><th scope=\"row\"><a href=\"/developer/apps/%s\">%s</a></th>"
                "<td><code>%s</code></td><td>%d</td><td>%d</td></tr>",
                a->id, a->name, a->id, a->version, (int)a->ntenants);
    }
    if (!w.s->napps)
        web_fmt(&w.b, "<tr><td colspan=\"4\">No apps yet.</td></tr>");
    pthread_mutex_unlock(&w.s->lock);
    web_fmt(&w.b, "</tbody></table>");
    web_page_close(&w);
    return web_send(&w, 200);
}

/* ---- an app ----------------------------------------------------------------- */

static void dev_tenant_rows(struct web_ctx *w, const struct sim_app *a)
{
    struct ap_buf *b = &w->b;

    web_fmt(b, "<table id=\"connections\"><caption>Connections</caption><thead><tr>"
               "<th scope=\"col\">Tenant ID</th><th scope=\"col\">Tenant</th>"
               "<th scope=\"col\">Status</th><th scope=\"col\">Version</th>"
               "<th scope=\"col\">Client ID</th></tr></thead><tbody>");
    for (size_t i = 0; i < a->ntenants; i++) {
        int64_t tid = a->tenants[i];
        struct sim_tenant *t = sim_tenant_find(w->s, tid);
        struct sim_conn *c = sim_conn_get(w->s, tid, a->id, false);
        enum sim_conn_state st = c ? c->state : SIM_CONN_NOT_CONNECTED;
        bool live = st != SIM_CONN_NOT_CONNECTED;
        char ver[16];
        snprintf(ver, sizeof(ver), "%d", live ? c->version : 0);
        web_fmt(b,
                "<tr data-tenant-id=\"%L\"><th scope=\"row\">%L</th><td>%s</td>"
                "<td><span class=\"state %s\">%s</span></td><td>%s</td><td><code>%s</code>"
                "</td></tr>",
                tid, tid, t ? t->name : "(unknown tenant)", live ? web_state_name(st) : "",
                web_state_name(st), live ? ver : "—", live ? c->client_id : "—");
    }
    if (!a->ntenants)
        web_fmt(b, "<tr><td colspan=\"5\">No tenants yet. Add a customer's Tenant ID above.</td>"
                   "</tr>");
    web_fmt(b, "</tbody></table>");
}

static enum ap_http_result dev_app_page(struct web_ctx *w, struct sim_app *a, int status,
                                        const char *error, const char *value)
{
    struct ap_buf *b = &w->b;

    web_page_open(w, a->name, DEV_CRUMBS);
    web_fmt(b,
            "<dl><dt>Application ID</dt><dd><code id=\"app-id\">%s</code></dd><dt>Version</dt>"
            "<dd id=\"app-version\">%d</dd><dt>Booking provider</dt><dd>%r</dd></dl>"
            "<label for=\"app-key\">App Key</label><input id=\"app-key\" readonly value=\"%s\">",
            a->id, a->version, a->booking_provider ? "Yes" : "No", a->key);
    web_scope_table(b, "API scopes", a->scopes, a->nscopes);
    web_fmt(b,
            "<h2>Tenants</h2><form method=\"post\" action=\"/developer/apps/%s/tenants\" "
            "novalidate>",
            a->id);
    web_csrf_input(w);
    web_fmt(b, "<label for=\"tenantId\">Tenant ID</label><p class=\"hint\" id=\"tenant-hint\">"
               "The customer finds it at the top right of Settings → Integrations → API "
               "Application Access.</p>");
    if (error)
        web_fmt(b, "<p class=\"notice error\" role=\"alert\" id=\"tenant-error\">%s</p>", error);
    web_fmt(b,
            "<input id=\"tenantId\" name=\"tenantId\" inputmode=\"numeric\" value=\"%s\" "
            "aria-describedby=\"tenant-hint\"%r><div class=\"actions\"><button "
            "type=\"submit\" id=\"add-tenant\">Add Tenant</button></div></form>",
            value, error ? " aria-invalid=\"true\"" : "");
    dev_tenant_rows(w, a);
    pthread_mutex_unlock(&w->s->lock);
    web_page_close(w);
    return web_send(w, status);
}

/* The app of the path; NULL (lock released, 404 sent) when unknown. */
static struct sim_app *dev_path_app(struct web_ctx *w, enum ap_http_result *res)
{
    const char *id = ap_http_param(w->req, "appId");
    struct sim_app *a = id ? sim_app_find(w->s, id) : NULL;
    if (a)
        return a;
    pthread_mutex_unlock(&w->s->lock);
    *res = web_message(w, 404, "No such app", "There is no app with this id.");
    return NULL;
}

static enum ap_http_result dev_app_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    enum ap_http_result res;

    web_ctx_init(&w, req, ud);
    if (!web_sess_load(&w, WEB_DEV, false))
        return web_redirect(&w, "/developer/login");
    pthread_mutex_lock(&w.s->lock);
    struct sim_app *a = dev_path_app(&w, &res);
    if (!a)
        return res;
    return dev_app_page(&w, a, 200, NULL, "");
}

static enum ap_http_result dev_tenant_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    enum ap_http_result res;
    int64_t tid;
    char msg[256];

    web_ctx_init(&w, req, ud);
    if (!web_sess_load(&w, WEB_DEV, false))
        return web_redirect(&w, "/developer/login");
    if (!web_form_parse(&w) || !web_csrf_ok(&w))
        return web_message(&w, 403, "This form has expired",
                           "This form has expired or was not sent from this site. Go back, "
                           "reload the page and try again.");
    pthread_mutex_lock(&w.s->lock);
    struct sim_app *a = dev_path_app(&w, &res);
    if (!a)
        return res;
    const char *v = web_form_get(&w, "tenantId");
    if (!web_parse_id(v, &tid))
        return dev_app_page(&w, a, 400,
                            "Tenant ID must be a positive whole number (digits only), such as "
                            "the one shown at the top right of the customer's API Application "
                            "Access page.",
                            v ? v : "");
    sim_app_add_tenant(w.s, a, tid);
    snprintf(msg, sizeof(msg),
             "Tenant %lld added. Its admin can now connect %s under Settings → "
             "Integrations → API Application Access → Connect New App.",
             (long long)tid, a->name);
    char *loc = ap_arena_printf(w.a, "/developer/apps/%s", a->id);
    ap_log_info("stsim.web.add_tenant", "tenant=%lld app=%s", (long long)tid, a->id);
    pthread_mutex_unlock(&w.s->lock);
    web_sess_set_flash(w.sess.token, msg);
    return web_redirect(&w, loc);
}

void web_dev_routes(struct sim *s, struct ap_router *r)
{
    ap_router_add(r, "GET", "/developer", dev_root_get, s);
    ap_router_add(r, "GET", "/developer/login", dev_login_get, s);
    ap_router_add(r, "POST", "/developer/login", dev_login_post, s);
    ap_router_add(r, "POST", "/developer/logout", dev_logout_post, s);
    ap_router_add(r, "GET", "/developer/apps", dev_apps_get, s);
    ap_router_add(r, "GET", "/developer/apps/:appId", dev_app_get, s);
    ap_router_add(r, "POST", "/developer/apps/:appId/tenants", dev_tenant_post, s);
}
