/*
 * tenant.c — the tenant side of connecting an app, as a ServiceTitan
 * admin sees it (the seed's Steps 2–4): Settings → Integrations → API
 * Application Access (Tenant ID at the top right, the connected apps),
 * Connect New App → Connect → the requested data → Allow Access (with a
 * booking provider tag for booking apps), Application Details with the
 * Client ID, Generate Client Secret behind a "Yes, Continue" warning (the
 * secret shown once), Disable / Enable and Upgrade to New Version.
 *
 * A user without "Manage API Application Access" sees the same pages with
 * every action disabled and a message naming the permission; their POSTs are
 * refused with 403. Handlers hold s->lock from web_enter() until the page is
 * built.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/web/web_int.h"

#define CRUMBS "Settings › Integrations › <a href=\"" WEB_BASE "\">API Application Access</a>"

/* Loads the signed-in tenant user; on success s->lock is held and *t set. */
static bool web_enter(struct web_ctx *w, struct sim_tenant **t)
{
    if (!web_sess_load(w, WEB_TENANT, false))
        return false;
    pthread_mutex_lock(&w->s->lock);
    *t = sim_tenant_find(w->s, w->sess.tenant_id);
    const struct sim_user *u = *t ? sim_user_find(w->s, w->sess.tenant_id, w->sess.username) : NULL;
    if (!u) { /* the model was reset under the session */
        pthread_mutex_unlock(&w->s->lock);
        web_sess_end(w);
        return false;
    }
    w->admin = u->manage_api_access;
    return true;
}

/* For POSTs after web_enter(): the form parses and carries the CSRF token.
 * On false s->lock has been released and the caller answers with *res. */
static bool web_post_ok(struct web_ctx *w, enum ap_http_result *res)
{
    bool form = web_form_parse(w) && web_csrf_ok(w);
    if (form && w->admin)
        return true;
    pthread_mutex_unlock(&w->s->lock);
    if (!form)
        *res = web_message(w, 403, "This form has expired",
                           "This form has expired or was not sent from this site. Go back, "
                           "reload the page and try again.");
    else
        *res = web_message(w, 403, "Permission required",
                           "You need the “Manage API Application Access” permission to do this. "
                           "Ask an administrator to turn it on for your role in Settings → "
                           "Role Permissions.");
    return false;
}

static void web_permission_note(struct web_ctx *w)
{
    if (w->admin)
        return;
    web_fmt(&w->b, "<p class=\"notice warn\" role=\"note\" id=\"permission-message\">"
                   "You can view these settings, but you cannot connect apps or manage their "
                   "credentials: you need the “Manage API Application Access” permission. Ask an "
                   "administrator to turn it on for your role in Settings → Role Permissions.</p>");
}

/* " disabled aria-disabled=\"true\"" for a user without the permission. */
static const char *web_dis(const struct web_ctx *w)
{
    return w->admin ? "" : " disabled aria-disabled=\"true\"";
}

static void web_date(int64_t ns, char out[40])
{
    char t[AP_TIME_BUF];
    if (ns <= 0) {
        snprintf(out, 40, "—");
        return;
    }
    ap_time_format(ns, 0, t);
    snprintf(out, 40, "%.10s %.5s UTC", t, t + 11);
}

static const char *web_app_name(struct sim *s, const char *app_id)
{
    struct sim_app *a = sim_app_find(s, app_id);
    return a ? a->name : app_id;
}

/* The tag row of id among the tenant's active booking provider tags, or NULL. */
static json_t *web_tag(struct sim_tenant *t, int64_t id)
{
    json_t *row = sim_get(t, SIM_BOOKING_PROVIDER_TAG, id);
    if (row && json_is_false(json_object_get(row, "active")))
        return NULL;
    return row;
}

/* ---- API Application Access ----------------------------------------------- */

static void web_conn_rows(struct web_ctx *w, struct sim_tenant *t)
{
    struct ap_buf *b = &w->b;
    size_t shown = 0;
    char when[40];

    web_fmt(b, "<table id=\"connected-apps\"><caption>Connected apps</caption><thead><tr>"
               "<th scope=\"col\">Application</th><th scope=\"col\">Version</th>"
               "<th scope=\"col\">Status</th><th scope=\"col\">Connected on</th>"
               "<th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr>"
               "</thead><tbody>");
    for (size_t i = 0; i < w->s->nconns; i++) {
        const struct sim_conn *c = w->s->conns[i];
        if (c->tenant_id != t->id || c->state == SIM_CONN_NOT_CONNECTED)
            continue;
        const char *name = web_app_name(w->s, c->app_id);
        const char *st = web_state_name(c->state);
        web_date(c->connected_ns, when);
        web_fmt(b,
                "<tr data-app-id=\"%s\"><th scope=\"row\">%s</th><td>%d</td>"
                "<td><span class=\"state %s\">%s</span></td><td>%s</td><td>"
                "<a href=\"" WEB_BASE "/apps/%s\" aria-label=\"Details of %s\">Details</a>"
                "</td></tr>",
                c->app_id, name, c->version, st, st, when, c->app_id, name);
        shown++;
    }
    if (!shown)
        web_fmt(b, "<tr><td colspan=\"5\">No apps are connected to this tenant yet.</td></tr>");
    web_fmt(b, "</tbody></table>");
}

static enum ap_http_result web_access_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;

    web_ctx_init(&w, req, ud);
    if (!web_enter(&w, &t))
        return web_redirect(&w, "/login");
    web_page_open(&w, "API Application Access", CRUMBS);
    web_fmt(&w.b, "<p>Apps connected here can read and change this tenant's data through the "
                  "ServiceTitan API, within the access you allowed. Your Tenant ID is shown at "
                  "the top right.</p>");
    web_permission_note(&w);
    if (w.admin)
        web_fmt(&w.b,
                "<p class=\"actions\"><a class=\"btn\" id=\"connect-new-app\" href=\"" WEB_BASE
                "/connect\">Connect New App</a></p>");
    else
        web_fmt(&w.b,
                "<p class=\"actions\"><button type=\"button\" id=\"connect-new-app\"%r>"
                "Connect New App</button></p>",
                web_dis(&w));
    web_conn_rows(&w, t);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

/* ---- Connect New App ------------------------------------------------------- */

/* The app may be connected by this tenant: added by its developer, not yet connected. */
static bool web_connectable(struct sim *s, struct sim_tenant *t, const struct sim_app *a)
{
    if (!sim_app_has_tenant(a, t->id))
        return false;
    struct sim_conn *c = sim_conn_get(s, t->id, a->id, false);
    return !c || c->state == SIM_CONN_NOT_CONNECTED;
}

static enum ap_http_result web_connect_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    size_t n = 0;

    web_ctx_init(&w, req, ud);
    if (!web_enter(&w, &t))
        return web_redirect(&w, "/login");
    web_page_open(&w, "Connect New App", CRUMBS);
    web_permission_note(&w);
    web_fmt(&w.b, "<form method=\"get\" action=\"" WEB_BASE "/connect/review\">"
                  "<fieldset><legend>Apps whose developers added this tenant</legend>");
    for (size_t i = 0; i < w.s->napps; i++) {
        const struct sim_app *a = w.s->apps[i];
        if (!web_connectable(w.s, t, a))
            continue;
        web_fmt(&w.b,
                "<label><input type=\"radio\" name=\"app\" value=\"%s\" id=\"app-%s\"%r%r> "
                "%s <span class=\"hint\">(%s)</span></label>",
                a->id, a->id, n == 0 ? " checked" : "", web_dis(&w), a->name, a->id);
        n++;
    }
    if (!n)
        web_fmt(&w.b,
                "<p id=\"no-apps\">No apps are waiting to be connected. An app appears here "
                "once its developer adds Tenant ID %L to it.</p>",
                t->id);
    web_fmt(&w.b,
            "</fieldset><div class=\"actions\"><button type=\"submit\" id=\"connect\"%r>"
            "Connect</button><a class=\"btn secondary\" href=\"" WEB_BASE "\">Cancel</a>"
            "</div></form>",
            n && w.admin ? "" : " disabled aria-disabled=\"true\"");
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

static void web_tag_select(struct web_ctx *w, struct sim_tenant *t, const char *error)
{
    struct ap_buf *b = &w->b;
    size_t n = sim_count(t, SIM_BOOKING_PROVIDER_TAG), shown = 0;

    web_fmt(b, "<label for=\"booking-provider-tag\">Booking provider tag</label>"
               "<p class=\"hint\" id=\"tag-hint\">Bookings this app creates are marked with this "
               "tag.</p>");
    if (error)
        web_fmt(b, "<p class=\"notice error\" role=\"alert\" id=\"tag-error\">%s</p>", error);
    web_fmt(b, "<select id=\"booking-provider-tag\" name=\"bookingProviderId\" required "
               "aria-describedby=\"tag-hint\"><option value=\"\">Choose a tag…</option>");
    for (size_t i = 0; i < n; i++) {
        json_t *row = sim_at(t, SIM_BOOKING_PROVIDER_TAG, i);
        if (json_is_false(json_object_get(row, "active")))
            continue;
        web_fmt(b, "<option value=\"%L\">%s</option>", sim_row_id(row),
                json_string_value(json_object_get(row, "tagName")));
        shown++;
    }
    web_fmt(b, "</select>");
    if (!shown)
        web_fmt(b, "<p class=\"notice warn\">This tenant has no booking provider tags yet.</p>");
}

/* The review page: what the app asks for, Allow Access / Decline. */
static enum ap_http_result web_review_page(struct web_ctx *w, struct sim_tenant *t,
                                           const struct sim_app *a, int status, const char *error)
{
    char title[160];

    snprintf(title, sizeof(title), "Connect %s", a->name);
    web_page_open(w, title, CRUMBS);
    web_permission_note(w);
    web_fmt(&w->b,
            "<p>%s (version %d) is asking to use the following data of tenant %L. "
            "Allow access only if you trust this app.</p>",
            a->name, a->version, t->id);
    web_scope_table(&w->b, "Requested access", a->scopes, a->nscopes);
    web_fmt(&w->b, "<form method=\"post\" action=\"" WEB_BASE "/connect/review\">");
    web_csrf_input(w);
    web_fmt(&w->b, "<input type=\"hidden\" name=\"app\" value=\"%s\">", a->id);
    if (a->booking_provider)
        web_tag_select(w, t, error);
    web_fmt(&w->b,
            "<div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"allow\" "
            "id=\"allow-access\"%r>Allow Access</button><button type=\"submit\" "
            "class=\"secondary\" name=\"action\" value=\"decline\" formnovalidate "
            "id=\"decline\"%r>Decline</button></div></form>",
            web_dis(w), web_dis(w));
    pthread_mutex_unlock(&w->s->lock);
    web_page_close(w);
    return web_send(w, status);
}

static enum ap_http_result web_not_available(struct web_ctx *w)
{
    pthread_mutex_unlock(&w->s->lock);
    return web_message(w, 404, "App not available",
                       "This app is not waiting to be connected to this tenant. Its developer "
                       "may not have added your Tenant ID yet, or it is connected already.");
}

static enum ap_http_result web_review_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;

    web_ctx_init(&w, req, ud);
    if (!web_enter(&w, &t))
        return web_redirect(&w, "/login");
    const char *id = ap_http_query(req, "app");
    struct sim_app *a = id ? sim_app_find(w.s, id) : NULL;
    if (!a || !web_connectable(w.s, t, a))
        return web_not_available(&w);
    return web_review_page(&w, t, a, 200, NULL);
}

/* Allow Access: checks the tag, connects, and goes to Application Details. */
static enum ap_http_result web_allow(struct web_ctx *w, struct sim_tenant *t, struct sim_app *a)
{
    int64_t tag = 0;
    char msg[256];

    if (a->booking_provider) {
        const char *v = web_form_get(w, "bookingProviderId");
        if (!v || !web_parse_id(v, &tag) || !web_tag(t, tag))
            return web_review_page(w, t, a, 400, "Choose the booking provider tag for this app.");
    }
    struct sim_conn *c = sim_conn_get(w->s, t->id, a->id, true);
    enum ap_err err = sim_conn_allow(w->s, c, NULL, 0, tag);
    if (err != AP_OK)
        return web_not_available(w);
    char *loc = ap_arena_printf(w->a, WEB_BASE "/apps/%s", a->id);
    snprintf(msg, sizeof(msg),
             "%s is connected. Copy the Client ID below and generate a Client "
             "Secret.",
             a->name);
    ap_log_info("stsim.web.connect", "tenant=%lld app=%s", (long long)t->id, a->id);
    pthread_mutex_unlock(&w->s->lock);
    web_sess_set_flash(w->sess.token, msg);
    return web_redirect(w, loc);
}

static enum ap_http_result web_review_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    enum ap_http_result res;
    char msg[256];

    web_ctx_init(&w, req, ud);
    if (!web_enter(&w, &t))
        return web_redirect(&w, "/login");
    if (!web_post_ok(&w, &res))
        return res;
    const char *id = web_form_get(&w, "app");
    const char *action = web_form_get(&w, "action");
    struct sim_app *a = id ? sim_app_find(w.s, id) : NULL;
    if (!a || !web_connectable(w.s, t, a))
        return web_not_available(&w);
    if (action && strcmp(action, "allow") == 0)
        return web_allow(&w, t, a);
    snprintf(msg, sizeof(msg), "You declined access for %s. It was not connected.", a->name);
    pthread_mutex_unlock(&w.s->lock);
    web_sess_set_flash(w.sess.token, msg);
    return web_redirect(&w, WEB_BASE);
}

/* ---- Application Details ---------------------------------------------------- */

/* The (tenant, app) connection named by the path, connected or disabled; NULL
 * (lock released, 404 sent into *res) when there is none. */
static struct sim_conn *web_path_conn(struct web_ctx *w, struct sim_tenant *t, struct sim_app **a,
                                      enum ap_http_result *res)
{
    const char *id = ap_http_param(w->req, "appId");
    *a = id ? sim_app_find(w->s, id) : NULL;
    struct sim_conn *c = *a ? sim_conn_get(w->s, t->id, (*a)->id, false) : NULL;
    if (c && c->state != SIM_CONN_NOT_CONNECTED)
        return c;
    pthread_mutex_unlock(&w->s->lock);
    *res = web_message(w, 404, "App not connected",
                       "This app is not connected to this tenant. Use Connect New App first.");
    return NULL;
}

/*
 * The common start of an app's pages: a session (else the login page), for a
 * POST the form's checks, then the connection of the app named in the path.
 * NULL when the request has been answered (*res says how); otherwise the
 * model lock is held, as after web_path_conn().
 */
static struct sim_conn *web_app_page(struct web_ctx *w, struct ap_http_req *req, void *ud,
                                     bool post, struct sim_tenant **t, struct sim_app **a,
                                     enum ap_http_result *res)
{
    web_ctx_init(w, req, ud);
    if (!web_enter(w, t)) {
        *res = web_redirect(w, "/login");
        return NULL;
    }
    if (post && !web_post_ok(w, res))
        return NULL;
    return web_path_conn(w, *t, a, res);
}

static void web_secret_block(struct web_ctx *w, const struct sim_app *a, const struct sim_conn *c)
{
    struct ap_buf *b = &w->b;
    char secret[64], when[40];

    if (w->admin && web_sess_pop_secret(w->sess.token, a->id, secret)) {
        web_fmt(b,
                "<div class=\"notice ok\" role=\"alert\"><p><strong>Copy your Client Secret "
                "now.</strong> It is shown only this once; reloading this page will not show "
                "it again.</p><label for=\"client-secret\">Client Secret</label>"
                "<input id=\"client-secret\" data-testid=\"client-secret\" readonly "
                "value=\"%s\"></div>",
                secret);
        ap_crypto_wipe(secret, sizeof(secret));
    } else if (c->has_secret) {
        web_date(c->secret_generated_ns, when);
        web_fmt(b,
                "<p><strong>Client Secret</strong></p><p id=\"client-secret-masked\">"
                "<code>••••••••••••••••</code> <span class=\"hint\">generated %s. It is never "
                "shown again; generate a new one if it was lost.</span></p>",
                when);
    } else {
        web_fmt(b, "<p><strong>Client Secret</strong></p><p id=\"client-secret-none\" "
                   "class=\"hint\">No client secret has been generated yet.</p>");
    }
    if (w->admin)
        web_fmt(b,
                "<p><a class=\"btn\" id=\"generate-secret\" href=\"" WEB_BASE
                "/apps/%s/secret\">%s</a></p>",
                a->id, c->has_secret ? "Regenerate Client Secret" : "Generate Client Secret");
    else
        web_fmt(b, "<p><button type=\"button\" id=\"generate-secret\"%r>%s</button></p>",
                web_dis(w), c->has_secret ? "Regenerate Client Secret" : "Generate Client Secret");
}

static void web_state_form(struct web_ctx *w, const struct sim_app *a, const struct sim_conn *c)
{
    bool on = c->state == SIM_CONN_CONNECTED;

    web_fmt(&w->b,
            "<h2>Access</h2><p>%s</p><form method=\"post\" action=\"" WEB_BASE "/apps/%s/state\">",
            on ? "Disabling stops this app from getting tokens and calling the API until you "
                 "enable it again."
               : "This app is disabled: it cannot get tokens or call the API.",
            a->id);
    web_csrf_input(w);
    web_fmt(&w->b,
            "<button type=\"submit\" name=\"action\" value=\"%r\" id=\"%r\" class=\"%r\"%r>"
            "%r</button></form>",
            on ? "disable" : "enable", on ? "disable-app" : "enable-app", on ? "danger" : "",
            web_dis(w), on ? "Disable" : "Enable");
}

static void web_details_body(struct web_ctx *w, struct sim_tenant *t, const struct sim_app *a,
                             const struct sim_conn *c)
{
    struct ap_buf *b = &w->b;
    char when[40];
    const char *st = web_state_name(c->state);
    json_t *tag = c->booking_provider_id
                      ? sim_get(t, SIM_BOOKING_PROVIDER_TAG, c->booking_provider_id)
                      : NULL;

    web_date(c->connected_ns, when);
    web_fmt(b,
            "<dl><dt>Status</dt><dd><span class=\"state %s\" id=\"connection-state\">%s</span>"
            "</dd><dt>Version</dt><dd id=\"connection-version\">%d</dd><dt>Connected on</dt>"
            "<dd>%s</dd>",
            st, st, c->version, when);
    if (a->booking_provider)
        web_fmt(b, "<dt>Booking provider tag</dt><dd id=\"booking-provider-tag\">%s</dd>",
                tag ? json_string_value(json_object_get(tag, "tagName")) : "—");
    web_fmt(b, "</dl>");
    if (a->version > c->version)
        web_fmt(b,
                "<div class=\"notice warn\" id=\"upgrade-available\"><p>Version %d of %s is "
                "available and asks for different access.</p><p><a class=\"btn\" "
                "id=\"upgrade\" href=\"" WEB_BASE "/apps/%s/upgrade\">Upgrade to New Version"
                "</a></p></div>",
                a->version, a->name, a->id);
    web_fmt(b,
            "<h2>Credentials</h2><p class=\"hint\">Give these to %s together with your "
            "Tenant ID (%L).</p><label for=\"client-id\">Client ID</label>"
            "<input id=\"client-id\" data-testid=\"client-id\" readonly value=\"%s\">",
            a->name, t->id, c->client_id);
    web_secret_block(w, a, c);
    web_state_form(w, a, c);
    web_scope_table(b, "Access granted", c->scopes, c->nscopes);
}

static enum ap_http_result web_details_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    struct sim_app *a;
    enum ap_http_result res;

    struct sim_conn *c = web_app_page(&w, req, ud, false, &t, &a, &res);
    if (!c)
        return res;
    web_page_open(&w, a->name, CRUMBS);
    web_fmt(&w.b, "<p class=\"hint\">Application Details</p>");
    web_permission_note(&w);
    web_details_body(&w, t, a, c);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

/* ---- client secret ----------------------------------------------------------- */

static enum ap_http_result web_secret_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    struct sim_app *a;
    enum ap_http_result res;

    struct sim_conn *c = web_app_page(&w, req, ud, false, &t, &a, &res);
    if (!c)
        return res;
    web_page_open(&w, "Generate Client Secret", CRUMBS);
    web_permission_note(&w);
    web_fmt(&w.b,
            "<div class=\"notice warn\" role=\"alert\" id=\"secret-warning\"><p>"
            "<strong>Warning!</strong> Once a client secret is generated, it's only visible "
            "once to ensure the security of your data. Be sure you are ready to copy it and "
            "paste it into %s.</p>%r<p>If you are ready, click “Yes, Continue”.</p></div>",
            a->name,
            c->has_secret ? "<p>Generating a new secret stops the current one from working at "
                            "once.</p>"
                          : "");
    web_fmt(&w.b, "<form method=\"post\" action=\"" WEB_BASE "/apps/%s/secret\">", a->id);
    web_csrf_input(&w);
    web_fmt(&w.b,
            "<div class=\"actions\"><button type=\"submit\" id=\"confirm-secret\"%r>"
            "Yes, Continue</button><a class=\"btn secondary\" href=\"" WEB_BASE
            "/apps/%s\">Cancel</a></div></form>",
            web_dis(&w), a->id);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

static enum ap_http_result web_secret_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    struct sim_app *a;
    enum ap_http_result res;
    char secret[64];

    struct sim_conn *c = web_app_page(&w, req, ud, true, &t, &a, &res);
    if (!c)
        return res;
    enum ap_err err = sim_conn_new_secret(w.s, c, secret);
    char *loc = ap_arena_printf(w.a, WEB_BASE "/apps/%s", a->id);
    char *app_id = ap_arena_strdup(w.a, a->id);
    pthread_mutex_unlock(&w.s->lock);
    if (err != AP_OK)
        return web_message(&w, 409, "No secret generated",
                           "A client secret could not be generated for this connection.");
    ap_log_info("stsim.web.secret", "tenant=%lld app=%s", (long long)w.sess.tenant_id, app_id);
    web_sess_set_secret(w.sess.token, app_id, secret);
    ap_crypto_wipe(secret, sizeof(secret));
    return web_redirect(&w, loc);
}

/* ---- Disable / Enable, upgrade --------------------------------------------------- */

static enum ap_http_result web_state_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    struct sim_app *a;
    enum ap_http_result res;
    char msg[256];

    struct sim_conn *c = web_app_page(&w, req, ud, true, &t, &a, &res);
    if (!c)
        return res;
    const char *action = web_form_get(&w, "action");
    bool enable = action && strcmp(action, "enable") == 0;
    sim_conn_set_state(w.s, c, enable ? SIM_CONN_CONNECTED : SIM_CONN_DISABLED);
    snprintf(msg, sizeof(msg), "%s is %s.", a->name, enable ? "enabled" : "disabled");
    char *loc = ap_arena_printf(w.a, WEB_BASE "/apps/%s", a->id);
    pthread_mutex_unlock(&w.s->lock);
    web_sess_set_flash(w.sess.token, msg);
    return web_redirect(&w, loc);
}

/* The app's scopes the connection lacks (new) and holds but the app dropped (gone). */
static void web_scope_diff(struct web_ctx *w, const struct sim_app *a, const struct sim_conn *c)
{
    char **added = ap_arena_alloc(w->a, (a->nscopes + 1) * sizeof(char *));
    char **gone = ap_arena_alloc(w->a, (c->nscopes + 1) * sizeof(char *));
    size_t na = 0, ng = 0;

    for (size_t i = 0; i < a->nscopes; i++)
        if (!sim_conn_has_scope(c, a->scopes[i]))
            added[na++] = a->scopes[i];
    for (size_t i = 0; i < c->nscopes; i++) {
        bool kept = false;
        for (size_t j = 0; j < a->nscopes && !kept; j++)
            kept = strcmp(c->scopes[i], a->scopes[j]) == 0;
        if (!kept)
            gone[ng++] = c->scopes[i];
    }
    web_scope_table(&w->b, "New access requested", added, na);
    if (ng)
        web_scope_table(&w->b, "Access no longer requested (will be removed)", gone, ng);
}

static enum ap_http_result web_upgrade_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    struct sim_app *a;
    enum ap_http_result res;
    char title[160];

    struct sim_conn *c = web_app_page(&w, req, ud, false, &t, &a, &res);
    if (!c)
        return res;
    if (a->version <= c->version) {
        char *loc = ap_arena_printf(w.a, WEB_BASE "/apps/%s", a->id);
        pthread_mutex_unlock(&w.s->lock);
        return web_redirect(&w, loc);
    }
    snprintf(title, sizeof(title), "Upgrade %s to version %d", a->name, a->version);
    web_page_open(&w, title, CRUMBS);
    web_permission_note(&w);
    web_fmt(&w.b,
            "<p>You accepted version %d. Version %d asks for the access below. The Client "
            "ID and Client Secret stay the same.</p>",
            c->version, a->version);
    web_scope_diff(&w, a, c);
    web_fmt(&w.b, "<form method=\"post\" action=\"" WEB_BASE "/apps/%s/upgrade\">", a->id);
    web_csrf_input(&w);
    web_fmt(&w.b,
            "<div class=\"actions\"><button type=\"submit\" id=\"accept-upgrade\"%r>Accept"
            "</button><a class=\"btn secondary\" href=\"" WEB_BASE "/apps/%s\">Cancel</a>"
            "</div></form>",
            web_dis(&w), a->id);
    pthread_mutex_unlock(&w.s->lock);
    web_page_close(&w);
    return web_send(&w, 200);
}

static enum ap_http_result web_upgrade_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    struct sim_tenant *t;
    struct sim_app *a;
    enum ap_http_result res;
    char msg[256];

    struct sim_conn *c = web_app_page(&w, req, ud, true, &t, &a, &res);
    if (!c)
        return res;
    if (a->version > c->version)
        sim_conn_upgrade(w.s, c);
    snprintf(msg, sizeof(msg), "%s now uses version %d.", a->name, c->version);
    char *loc = ap_arena_printf(w.a, WEB_BASE "/apps/%s", a->id);
    pthread_mutex_unlock(&w.s->lock);
    web_sess_set_flash(w.sess.token, msg);
    return web_redirect(&w, loc);
}

void web_tenant_routes(struct sim *s, struct ap_router *r)
{
    ap_router_add(r, "GET", WEB_BASE, web_access_get, s);
    ap_router_add(r, "GET", WEB_BASE "/connect", web_connect_get, s);
    ap_router_add(r, "GET", WEB_BASE "/connect/review", web_review_get, s);
    ap_router_add(r, "POST", WEB_BASE "/connect/review", web_review_post, s);
    ap_router_add(r, "GET", WEB_BASE "/apps/:appId", web_details_get, s);
    ap_router_add(r, "GET", WEB_BASE "/apps/:appId/secret", web_secret_get, s);
    ap_router_add(r, "POST", WEB_BASE "/apps/:appId/secret", web_secret_post, s);
    ap_router_add(r, "POST", WEB_BASE "/apps/:appId/state", web_state_post, s);
    ap_router_add(r, "GET", WEB_BASE "/apps/:appId/upgrade", web_upgrade_get, s);
    ap_router_add(r, "POST", WEB_BASE "/apps/:appId/upgrade", web_upgrade_post, s);
}
