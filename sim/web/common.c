/*
 * common.c — the plumbing stsim's web pages share: sessions, forms, the HTML
 * writer and the page frame. The stylesheet, the tenant login and the route
 * table are login.c's, the tenant-side API Application Access pages
 * tenant.c's, the developer portal dev.c's.
 *
 * Pages are server-rendered HTML with one small stylesheet and no scripts.
 * Every state change is a POST form carrying the session's CSRF token and
 * answered with a 303 redirect. Sessions are random 256-bit tokens in an
 * HttpOnly, SameSite=Lax cookie, kept in a fixed in-memory table (oldest
 * evicted when full, idle ones expire after 8 hours). The login forms get a
 * pre-session so that they carry a CSRF token too; signing in starts a new
 * session rather than promoting the old one.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/web/web_int.h"

#define WEB_SESSIONS      256
#define WEB_IDLE_S        (8 * 3600)
#define WEB_PAGE_MAX      ((size_t)1 << 20)
#define WEB_FORM_BODY_MAX 16384
#define WEB_COOKIE_TENANT "stsim_session"
#define WEB_COOKIE_DEV    "stsim_dev"

static pthread_mutex_t web_mu = PTHREAD_MUTEX_INITIALIZER;
static struct web_sess web_sessions[WEB_SESSIONS];

void web_ctx_init(struct web_ctx *w, struct ap_http_req *req, void *ud)
{
    memset(w, 0, sizeof(*w));
    w->s = ud;
    w->req = req;
    w->a = ap_http_arena(req);
    ap_buf_init(&w->b, WEB_PAGE_MAX);
}

/* ---- sessions ------------------------------------------------------------ */

static int64_t web_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static bool web_is_dev(enum web_kind k)
{
    return k == WEB_DEV || k == WEB_DEV_ANON;
}

/* The slot holding token, or NULL. Caller holds web_mu. */
static struct web_sess *web_slot(const char *token)
{
    if (!token || strlen(token) != 64)
        return NULL;
    int64_t now = web_mono_s();
    for (size_t i = 0; i < WEB_SESSIONS; i++) {
        struct web_sess *x = &web_sessions[i];
        if (!x->token[0] || !ap_crypto_equal(x->token, token, 64))
            continue;
        if (now - x->last_used > WEB_IDLE_S) {
            ap_crypto_wipe(x, sizeof(*x));
            return NULL;
        }
        return x;
    }
    return NULL;
}

/* A free slot, else the least recently used one. Caller holds web_mu. */
static struct web_sess *web_free_slot(void)
{
    struct web_sess *old = &web_sessions[0];
    for (size_t i = 0; i < WEB_SESSIONS; i++) {
        if (!web_sessions[i].token[0])
            return &web_sessions[i];
        if (web_sessions[i].last_used < old->last_used)
            old = &web_sessions[i];
    }
    ap_crypto_wipe(old, sizeof(*old));
    return old;
}

/* The value of cookie name in the Cookie header, in the arena; NULL if absent. */
static const char *web_cookie(struct web_ctx *w, const char *name)
{
    const char *h = ap_http_header(w->req, "cookie");
    size_t nl = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > nl && strncmp(h, name, nl) == 0 && h[nl] == '=')
            return ap_arena_strndup(w->a, h + nl + 1, len - nl - 1);
        h = end;
    }
    return NULL;
}

bool web_sess_load(struct web_ctx *w, enum web_kind want, bool allow_anon)
{
    const char *tok = web_cookie(w, web_is_dev(want) ? WEB_COOKIE_DEV : WEB_COOKIE_TENANT);
    enum web_kind anon = web_is_dev(want) ? WEB_DEV_ANON : WEB_TENANT_ANON;
    bool ok = false;

    pthread_mutex_lock(&web_mu);
    struct web_sess *x = web_slot(tok);
    if (x && (x->kind == want || (allow_anon && x->kind == anon))) {
        x->last_used = web_mono_s();
        w->sess = *x;
        ok = true;
    }
    pthread_mutex_unlock(&web_mu);
    if (!ok)
        w->sess.kind = WEB_NONE;
    return ok;
}

static void web_set_cookie(struct web_ctx *w, enum web_kind kind, const char *token)
{
    bool dev = web_is_dev(kind);
    const char *name = dev ? WEB_COOKIE_DEV : WEB_COOKIE_TENANT;
    const char *path = dev ? "/developer" : "/";
    char *v =
        token
            ? ap_arena_printf(w->a, "%s=%s; Path=%s; HttpOnly; SameSite=Lax", name, token, path)
            : ap_arena_printf(w->a, "%s=; Path=%s; HttpOnly; SameSite=Lax; Max-Age=0", name, path);
    ap_http_add_header(w->req, "Set-Cookie", v);
}

void web_sess_start(struct web_ctx *w, enum web_kind kind, int64_t tenant_id, const char *user)
{
    uint8_t raw[32];
    struct web_sess fresh = {0};

    ap_crypto_random(raw, sizeof(raw));
    ap_crypto_hex(raw, sizeof(raw), fresh.token);
    ap_crypto_random(raw, sizeof(raw));
    ap_crypto_hex(raw, sizeof(raw), fresh.csrf);
    ap_crypto_wipe(raw, sizeof(raw));
    fresh.kind = kind;
    fresh.tenant_id = tenant_id;
    snprintf(fresh.username, sizeof(fresh.username), "%s", user ? user : "");
    fresh.last_used = web_mono_s();

    pthread_mutex_lock(&web_mu);
    struct web_sess *old = w->sess.token[0] ? web_slot(w->sess.token) : NULL;
    if (old)
        ap_crypto_wipe(old, sizeof(*old));
    *web_free_slot() = fresh;
    pthread_mutex_unlock(&web_mu);

    w->sess = fresh;
    web_set_cookie(w, kind, fresh.token);
}

void web_sess_end(struct web_ctx *w)
{
    pthread_mutex_lock(&web_mu);
    struct web_sess *x = web_slot(w->sess.token);
    if (x)
        ap_crypto_wipe(x, sizeof(*x));
    pthread_mutex_unlock(&web_mu);
    web_set_cookie(w, w->sess.kind, NULL);
    ap_crypto_wipe(&w->sess, sizeof(w->sess));
}

void web_sess_set_flash(const char *token, const char *msg)
{
    pthread_mutex_lock(&web_mu);
    struct web_sess *x = web_slot(token);
    if (x)
        snprintf(x->flash, sizeof(x->flash), "%s", msg);
    pthread_mutex_unlock(&web_mu);
}

/* Takes the flash notice out of the session into out. */
static void web_sess_pop_flash(const char *token, char *out, size_t n)
{
    out[0] = '\0';
    pthread_mutex_lock(&web_mu);
    struct web_sess *x = web_slot(token);
    if (x) {
        snprintf(out, n, "%s", x->flash);
        x->flash[0] = '\0';
    }
    pthread_mutex_unlock(&web_mu);
}

void web_sess_set_secret(const char *token, const char *app_id, const char *secret)
{
    pthread_mutex_lock(&web_mu);
    struct web_sess *x = web_slot(token);
    if (x) {
        snprintf(x->secret_app, sizeof(x->secret_app), "%s", app_id);
        snprintf(x->secret, sizeof(x->secret), "%s", secret);
    }
    pthread_mutex_unlock(&web_mu);
}

bool web_sess_pop_secret(const char *token, const char *app_id, char out[64])
{
    bool got = false;
    pthread_mutex_lock(&web_mu);
    struct web_sess *x = web_slot(token);
    if (x && x->secret[0] && strcmp(x->secret_app, app_id) == 0) {
        memcpy(out, x->secret, sizeof(x->secret));
        got = true;
    }
    if (x && got) {
        ap_crypto_wipe(x->secret, sizeof(x->secret));
        x->secret_app[0] = '\0';
    }
    pthread_mutex_unlock(&web_mu);
    return got;
}

/* ---- forms --------------------------------------------------------------- */

bool web_form_parse(struct web_ctx *w)
{
    struct ap_str body = ap_http_body(w->req);
    const char *p = body.p, *end = body.p + body.len;

    w->form.n = 0;
    if (body.len > WEB_FORM_BODY_MAX)
        return false;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (stop > p) {
            if (w->form.n == WEB_FORM_MAX)
                return false;
            struct ap_str k = {p, (size_t)((eq ? eq : stop) - p)};
            struct ap_str v = {eq ? eq + 1 : stop, eq ? (size_t)(stop - eq - 1) : 0};
            const char *kd = ap_http_decode(w->a, k, true);
            const char *vd = ap_http_decode(w->a, v, true);
            if (!kd || !vd)
                return false;
            w->form.names[w->form.n] = kd;
            w->form.values[w->form.n++] = vd;
        }
        p = amp ? amp + 1 : end;
    }
    return true;
}

const char *web_form_get(const struct web_ctx *w, const char *name)
{
    for (size_t i = 0; i < w->form.n; i++)
        if (strcmp(w->form.names[i], name) == 0)
            return w->form.values[i];
    return NULL;
}

bool web_csrf_ok(const struct web_ctx *w)
{
    const char *t = web_form_get(w, "_csrf");
    return w->sess.kind != WEB_NONE && t && strlen(t) == 64 && ap_crypto_equal(t, w->sess.csrf, 64);
}

bool web_parse_id(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0)
        return false;
    *out = v;
    return true;
}

/* ---- HTML ---------------------------------------------------------------- */

static void web_esc(struct ap_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            ap_buf_puts(b, "&amp;");
            break;
        case '<':
            ap_buf_puts(b, "&lt;");
            break;
        case '>':
            ap_buf_puts(b, "&gt;");
            break;
        case '"':
            ap_buf_puts(b, "&quot;");
            break;
        case '\'':
            ap_buf_puts(b, "&#39;");
            break;
        default:
            ap_buf_append(b, s, 1);
        }
    }
}

void web_fmt(struct ap_buf *b, const char *fmt, ...)
{
    va_list ap;
    char num[32];

    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            ap_buf_puts(b, p);
            break;
        }
        ap_buf_append(b, p, (size_t)(pct - p));
        p = pct + 1;
        switch (*p) {
        case 's':
            web_esc(b, va_arg(ap, const char *));
            break;
        case 'r':
            ap_buf_puts(b, va_arg(ap, const char *));
            break;
        case 'd':
            snprintf(num, sizeof(num), "%d", va_arg(ap, int));
            ap_buf_puts(b, num);
            break;
        case 'L':
            snprintf(num, sizeof(num), "%lld", (long long)va_arg(ap, int64_t));
            ap_buf_puts(b, num);
            break;
        case '%':
            ap_buf_puts(b, "%");
            break;
        default:
            p--;
            ap_buf_puts(b, "%");
            break; /* a lone '%' */
        }
        if (!*p)
            break;
    }
    va_end(ap);
}

void web_csrf_input(struct web_ctx *w)
{
    web_fmt(&w->b, "<input type=\"hidden\" name=\"_csrf\" value=\"%s\">", w->sess.csrf);
}

/* The right side of the top bar: Tenant ID and the user, or the developer. */
static void web_topbar_right(struct web_ctx *w)
{
    struct ap_buf *b = &w->b;
    if (w->sess.kind == WEB_TENANT) {
        web_fmt(b,
                "<p class=\"tenant\">Tenant ID <strong id=\"tenant-id\" "
                "data-testid=\"tenant-id\">%L</strong></p>",
                w->sess.tenant_id);
        web_fmt(b,
                "<form method=\"post\" action=\"/logout\" class=\"who\">"
                "<span>%s</span> ",
                w->sess.username);
        web_csrf_input(w);
        web_fmt(b, "<button type=\"submit\" class=\"link\">Sign out</button></form>");
    } else if (w->sess.kind == WEB_DEV) {
        web_fmt(b,
                "<form method=\"post\" action=\"/developer/logout\" class=\"who\">"
                "<span>%s</span> ",
                w->sess.username);
        web_csrf_input(w);
        web_fmt(b, "<button type=\"submit\" class=\"link\">Sign out</button></form>");
    }
}

void web_page_open(struct web_ctx *w, const char *title, const char *crumbs)
{
    struct ap_buf *b = &w->b;
    bool dev = web_is_dev(w->sess.kind);
    char flash[256];

    web_fmt(b,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>%s — %s</title><link rel=\"stylesheet\" href=\"/assets/stsim.css\">"
            "</head><body>",
            title, dev ? "ServiceTitan Developer Portal (stsim)" : "ServiceTitan (stsim)");
    web_fmt(b, "<header class=\"top\"><p class=\"brand\">%s</p>",
            dev ? "ServiceTitan Developer Portal" : "ServiceTitan");
    web_topbar_right(w);
    web_fmt(b, "</header>");
    if (crumbs)
        web_fmt(b, "<nav aria-label=\"Breadcrumb\" class=\"crumbs\">%r</nav>", crumbs);
    web_fmt(b, "<main><h1>%s</h1>", title);
    if (w->sess.kind == WEB_TENANT || w->sess.kind == WEB_DEV) {
        web_sess_pop_flash(w->sess.token, flash, sizeof(flash));
        if (flash[0])
            web_fmt(b, "<p class=\"notice ok\" role=\"status\" id=\"flash\">%s</p>", flash);
    }
}

void web_page_close(struct web_ctx *w)
{
    web_fmt(&w->b, "</main><footer><p>stsim — a local emulator of ServiceTitan. "
                   "Not affiliated with ServiceTitan.</p></footer></body></html>\n");
}

static void web_headers(struct web_ctx *w)
{
    ap_http_add_header(w->req, "Cache-Control", "no-store");
    ap_http_add_header(w->req, "X-Content-Type-Options", "nosniff");
    ap_http_add_header(w->req, "Referrer-Policy", "same-origin");
    ap_http_add_header(w->req, "Content-Security-Policy",
                       "default-src 'none'; style-src 'self'; form-action 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'");
}

enum ap_http_result web_send(struct web_ctx *w, int status)
{
    web_headers(w);
    ap_http_respond(w->req, status, "text/html; charset=utf-8", w->b.data ? w->b.data : "",
                    w->b.len);
    ap_buf_cleanup(&w->b);
    return AP_HTTP_DONE;
}

enum ap_http_result web_redirect(struct web_ctx *w, const char *loc)
{
    web_headers(w);
    ap_http_add_header(w->req, "Location", loc);
    ap_http_respond(w->req, 303, NULL, "", 0);
    ap_buf_cleanup(&w->b);
    return AP_HTTP_DONE;
}

enum ap_http_result web_message(struct web_ctx *w, int status, const char *title, const char *msg)
{
    ap_buf_reset(&w->b);
    web_page_open(w, title, NULL);
    web_fmt(&w->b, "<p class=\"notice error\" role=\"alert\">%s</p>", msg);
    if (web_is_dev(w->sess.kind))
        web_fmt(&w->b, "<p><a href=\"/developer/apps\">Back to My Apps</a></p>");
    else
        web_fmt(&w->b, "<p><a href=\"" WEB_BASE "\">Back to API Application Access</a></p>");
    web_page_close(w);
    return web_send(w, status);
}

const char *web_state_name(enum sim_conn_state st)
{
    switch (st) {
    case SIM_CONN_CONNECTED:
        return "Connected";
    case SIM_CONN_DISABLED:
        return "Disabled";
    default:
        return "Not Connected Yet";
    }
}

/* ---- scopes in human words ----------------------------------------------- */

static const struct {
    const char *res, *words;
} web_resources[] = {
    {"tn.crm.customers", "Customers"},
    {"tn.crm.locations", "Locations"},
    {"tn.crm.contacts", "Contacts"},
    {"tn.crm.bookings", "Bookings"},
    {"tn.crm.bookingprovidertags", "Booking provider tags"},
    {"tn.jpm.jobs", "Jobs"},
    {"tn.jpm.appointments", "Appointments"},
    {"tn.jpm.jobtypes", "Job types"},
    {"tn.jpm.jobcancelreasons", "Job cancel reasons"},
    {"tn.jpm.jobholdreasons", "Job hold reasons"},
    {"tn.settings.businessunits", "Business units"},
    {"tn.settings.technicians", "Technicians"},
    {"tn.settings.employees", "Employees"},
    {"tn.settings.tagtypes", "Tag types"},
    {"tn.mkt.campaigns", "Marketing campaigns"},
    {"tn.marketing.campaigns", "Marketing campaigns"},
    {"tn.jbce.callreasons", "Call reasons"},
    {"tn.dis.capacity", "Dispatch capacity"},
    {"tn.dis.arrivalwindows", "Arrival windows"},
    {"tn.dis.businesshours", "Business hours"},
    {"tn.dis.zones", "Zones"},
    {"tn.dis.technicianshifts", "Technician shifts"},
    {"tn.dis.appointmentassignments", "Appointment assignments"},
    {"tn.acc.invoices", "Invoices"},
};

void web_scope_words(const char *scope, char *resource, size_t n, const char **access)
{
    const char *colon = strrchr(scope, ':');
    size_t rl = colon ? (size_t)(colon - scope) : strlen(scope);

    *access = !colon ? "Access" : colon[1] == 'r' ? "Read" : colon[1] == 'w' ? "Write" : "Access";
    for (size_t i = 0; i < AP_COUNTOF(web_resources); i++) {
        if (strlen(web_resources[i].res) == rl && strncmp(web_resources[i].res, scope, rl) == 0) {
            snprintf(resource, n, "%s", web_resources[i].words);
            return;
        }
    }
    /* unknown: the last dotted part of the resource, as it is */
    const char *dot = memrchr(scope, '.', rl);
    const char *from = dot ? dot + 1 : scope;
    snprintf(resource, n, "%.*s", (int)(rl - (size_t)(from - scope)), from);
}

void web_scope_table(struct ap_buf *b, const char *caption, char *const *scopes, size_t n)
{
    char res[64], other[64];
    const char *acc, *oacc;

    web_fmt(b,
            "<table class=\"scopes\"><caption>%s</caption><thead><tr><th scope=\"col\">"
            "Data</th><th scope=\"col\">Read</th><th scope=\"col\">Write</th></tr></thead>"
            "<tbody>",
            caption);
    for (size_t i = 0; i < n; i++) {
        web_scope_words(scopes[i], res, sizeof(res), &acc);
        bool seen = false, r = false, wr = false;
        for (size_t j = 0; j < n && !seen; j++) {
            web_scope_words(scopes[j], other, sizeof(other), &oacc);
            if (strcmp(res, other) != 0)
                continue;
            seen = j < i; /* an earlier scope's row holds this resource */
            r = r || strcmp(oacc, "Read") == 0;
            wr = wr || strcmp(oacc, "Write") == 0;
        }
        if (!seen)
            web_fmt(b, "<tr><th scope=\"row\">%s</th><td>%r</td><td>%r</td></tr>", res,
                    r ? "Read" : "—", wr ? "Write" : "—");
    }
    if (n == 0)
        web_fmt(b, "<tr><td colspan=\"3\">No data.</td></tr>");
    web_fmt(b, "</tbody></table>");
}

/* ---- stylesheet ---------------------------------------------------------- */
