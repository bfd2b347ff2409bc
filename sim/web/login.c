/*
 * login.c — stsim's web host: its route table, the stylesheet, the tenant
 * login and logout. The pages behind the login are tenant.c's (API
 * Application Access) and dev.c's (the developer portal); what they share
 * is common.c's.
 */
#include <pthread.h>
#include <string.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/web/web.h"
#include "sim/web/web_int.h"

static const char web_css[] =
    "*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1d2733;"
    "background:#f4f6f8}header.top{display:flex;align-items:center;gap:1.5rem;background:#0b2545;"
    "color:#fff;padding:.6rem 1.2rem}.brand{font-weight:700;margin:0;flex:1}.tenant{margin:0}"
    ".tenant strong{font-size:1.05rem;letter-spacing:.02em}.who{margin:0;display:flex;gap:.5rem;"
    "align-items:center}.crumbs{padding:.5rem 1.2rem;background:#e3e8ee;font-size:.9rem}"
    ".crumbs a{color:#0b4f9c}main{max-width:60rem;margin:1.2rem auto;background:#fff;"
    "padding:1.2rem 1.6rem;border-radius:6px;box-shadow:0 1px 3px #0002}h1{margin-top:0}"
    "table{border-collapse:collapse;width:100%;margin:.8rem 0}th,td{text-align:left;"
    "padding:.45rem .6rem;border-bottom:1px solid #dde3ea}caption{text-align:left;"
    "font-weight:600;padding:.3rem 0}.btn,button{display:inline-block;font:inherit;"
    "padding:.45rem .9rem;border-radius:4px;border:1px solid #0b4f9c;background:#0b4f9c;"
    "color:#fff;text-decoration:none;cursor:pointer}.btn.secondary,button.secondary{"
    "background:#fff;color:#0b4f9c}button.danger{background:#b42318;border-color:#b42318}"
    "button.link{background:none;border:none;color:inherit;text-decoration:underline;"
    "padding:0}button:disabled,.btn[aria-disabled=true]{opacity:.45;cursor:not-allowed}"
    ".notice{padding:.6rem .8rem;border-radius:4px;border:1px solid}.notice.ok{"
    "background:#ecfdf3;border-color:#6ce9a6}.notice.warn{background:#fffaeb;"
    "border-color:#fec84b}.notice.error{background:#fef3f2;border-color:#fda29b}"
    "label{display:block;font-weight:600;margin:.7rem 0 .2rem}input[type=text],"
    "input[type=password],input:not([type]),select{font:inherit;padding:.4rem;width:100%;"
    "max-width:32rem;border:1px solid #98a2b3;border-radius:4px}input[readonly]{"
    "background:#f2f4f7;font-family:ui-monospace,monospace}.actions{display:flex;gap:.6rem;"
    "margin-top:1rem;flex-wrap:wrap;align-items:center}.state{font-weight:600}"
    ".state.Connected{color:#067647}.state.Disabled{color:#b42318}dl{display:grid;"
    "grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}"
    "fieldset{border:1px solid #dde3ea;border-radius:4px}fieldset label{font-weight:400;"
    "display:flex;gap:.5rem;align-items:center}.hint{color:#475467;font-size:.9rem}"
    "footer{text-align:center;color:#667085;font-size:.8rem}.visually-hidden{position:absolute;"
    "width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";

static enum ap_http_result web_css_get(struct ap_http_req *req, void *ud)
{
    ap_http_add_header(req, "Cache-Control", "max-age=300");
    ap_http_respond(req, 200, "text/css; charset=utf-8", web_css, sizeof(web_css) - 1);
    return AP_HTTP_DONE;
}

/* ---- tenant login --------------------------------------------------------- */

static enum ap_http_result web_login_form(struct web_ctx *w, int status, const char *error,
                                          const char *tenant, const char *user)
{
    struct ap_buf *b = &w->b;

    if (w->sess.kind != WEB_TENANT_ANON)
        web_sess_start(w, WEB_TENANT_ANON, 0, NULL);
    ap_buf_reset(b);
    web_page_open(w, "Sign in", NULL);
    if (error)
        web_fmt(b, "<p class=\"notice error\" role=\"alert\" id=\"login-error\">%s</p>", error);
    web_fmt(b, "<form method=\"post\" action=\"/login\">");
    web_csrf_input(w);
    web_fmt(b,
            "<label for=\"tenantId\">Tenant ID</label><input id=\"tenantId\" name=\"tenantId\" "
            "inputmode=\"numeric\" autocomplete=\"organization\" required value=\"%s\">"
            "<label for=\"username\">Username</label><input id=\"username\" name=\"username\" "
            "autocomplete=\"username\" required value=\"%s\">"
            "<label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
            "type=\"password\" autocomplete=\"current-password\" required>"
            "<div class=\"actions\"><button type=\"submit\">Sign in</button></div></form>",
            tenant, user);
    web_fmt(b, "<p class=\"hint\">Developers sign in to the <a href=\"/developer/login\">"
               "Developer Portal</a>.</p>");
    web_page_close(w);
    return web_send(w, status);
}

static enum ap_http_result web_login_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    web_ctx_init(&w, req, ud);
    if (web_sess_load(&w, WEB_TENANT, true) && w.sess.kind == WEB_TENANT)
        return web_redirect(&w, WEB_BASE);
    return web_login_form(&w, 200, NULL, "", "");
}

/* True when (tenant, user, password) names a seeded user. Takes s->lock. */
static bool web_user_ok(struct sim *s, int64_t tenant, const char *user, const char *pw)
{
    size_t pl = strlen(pw);
    pthread_mutex_lock(&s->lock);
    const struct sim_user *u = sim_user_find(s, tenant, user);
    bool ok = u && strlen(u->password) == pl && ap_crypto_equal(u->password, pw, pl);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static enum ap_http_result web_login_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    int64_t tenant = 0;
    char q[64];

    web_ctx_init(&w, req, ud);
    web_sess_load(&w, WEB_TENANT, true);
    if (!web_form_parse(&w) || !web_csrf_ok(&w))
        return web_login_form(&w, 403, "Your sign-in form expired. Please try again.", "", "");
    const char *t = web_form_get(&w, "tenantId");
    const char *u = web_form_get(&w, "username");
    const char *p = web_form_get(&w, "password");
    if (!t || !u || !p || !web_parse_id(t, &tenant) || strlen(u) >= 48 ||
        !web_user_ok(w.s, tenant, u, p)) {
        ap_log_info("stsim.web.login", "result=refused user=%s",
                    ap_log_quote(u ? u : "", q, sizeof(q)));
        return web_login_form(&w, 401, "Wrong tenant ID, username or password.", t ? t : "",
                              u ? u : "");
    }
    web_sess_start(&w, WEB_TENANT, tenant, u);
    ap_log_info("stsim.web.login", "result=ok tenant=%lld user=%s", (long long)tenant,
                ap_log_quote(u, q, sizeof(q)));
    return web_redirect(&w, WEB_BASE);
}

static enum ap_http_result web_logout_post(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    web_ctx_init(&w, req, ud);
    if (web_sess_load(&w, WEB_TENANT, false) && web_form_parse(&w) && web_csrf_ok(&w))
        web_sess_end(&w);
    return web_redirect(&w, "/login");
}

static enum ap_http_result web_root_get(struct ap_http_req *req, void *ud)
{
    struct web_ctx w;
    web_ctx_init(&w, req, ud);
    return web_redirect(&w, WEB_BASE);
}

void sim_web_routes(struct sim *s, struct ap_router *r)
{
    ap_router_add(r, "GET", "/", web_root_get, s);
    ap_router_add(r, "GET", "/assets/stsim.css", web_css_get, s);
    ap_router_add(r, "GET", "/login", web_login_get, s);
    ap_router_add(r, "POST", "/login", web_login_post, s);
    ap_router_add(r, "POST", "/logout", web_logout_post, s);
    web_tenant_routes(s, r);
    web_dev_routes(s, r);
}
