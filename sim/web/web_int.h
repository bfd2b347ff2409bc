/*
 * web_int.h — private to stsim's web pages (sim/web/: common.c, login.c,
 * tenant.c, dev.c): sessions, form parsing, the HTML writer and the page
 * frame they share.
 *
 * Sessions live in a small fixed table in common.c behind their own mutex,
 * which is always taken innermost (after s->lock when both are held) and never
 * held while calling into the model. A handler works on a copy of its
 * session (struct web_ctx.sess) and changes the table only through the
 * web_sess_* calls.
 */
#ifndef SIM_WEB_WEB_INT_H
#define SIM_WEB_WEB_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/mem.h"
#include "http/http.h"
#include "sim/core/model.h"

/* The tenant-side pages live under this path (Settings → Integrations → ...). */
#define WEB_BASE "/settings/integrations/api-application-access"

/* The developer portal's one seeded account (documented in docs/stsim.md). */
#define WEB_DEV_USER     "developer"
#define WEB_DEV_PASSWORD "demo-developer"

enum web_kind {
    WEB_NONE,        /* no session */
    WEB_TENANT_ANON, /* the tenant login form's pre-session (CSRF token only) */
    WEB_TENANT,      /* a signed-in tenant user */
    WEB_DEV_ANON,
    WEB_DEV, /* the signed-in developer */
};

struct web_sess {
    char token[65]; /* 64 hex characters; "" = free slot */
    char csrf[65];
    enum web_kind kind;
    int64_t tenant_id;
    char username[48];
    int64_t last_used; /* monotonic seconds */
    char flash[256];   /* a notice shown once on the next page */
    char secret_app[24];
    char secret[64]; /* a freshly generated client secret, shown once */
};

#define WEB_FORM_MAX 24

struct web_form {
    size_t n;
    const char *names[WEB_FORM_MAX];
    const char *values[WEB_FORM_MAX];
};

/* One request being answered. */
struct web_ctx {
    struct sim *s;
    struct ap_http_req *req;
    struct ap_arena *a;
    struct web_sess sess; /* copy; kind WEB_NONE when there is none */
    struct web_form form;
    struct ap_buf b; /* the page */
    bool admin;      /* tenant user holds "Manage API Application Access" */
};

void web_ctx_init(struct web_ctx *w, struct ap_http_req *req, void *ud);

/* ---- sessions ------------------------------------------------------------ */

/* Loads the session named by the kind's cookie into w->sess if it is of kind
 * want (or of its anonymous twin when allow_anon). */
bool web_sess_load(struct web_ctx *w, enum web_kind want, bool allow_anon);
/* Starts a fresh session (a new token, so a pre-session is never promoted in
 * place), drops w's old one and sets the cookie. */
void web_sess_start(struct web_ctx *w, enum web_kind kind, int64_t tenant_id, const char *user);
/* Ends w's session and clears its cookie. */
void web_sess_end(struct web_ctx *w);
void web_sess_set_flash(const char *token, const char *msg);
void web_sess_set_secret(const char *token, const char *app_id, const char *secret);
/* Takes the one-time secret for app_id out of the session; false when none. */
bool web_sess_pop_secret(const char *token, const char *app_id, char out[64]);

/* ---- forms --------------------------------------------------------------- */

/* Parses an application/x-www-form-urlencoded body into w->form. */
bool web_form_parse(struct web_ctx *w);
const char *web_form_get(const struct web_ctx *w, const char *name);
/* True when the form's _csrf matches the session's token. */
bool web_csrf_ok(const struct web_ctx *w);
/* A positive integer of at most 18 digits, nothing else. */
bool web_parse_id(const char *s, int64_t *out);

/* ---- HTML ---------------------------------------------------------------- */

/*
 * Appends fmt to b. Conversions: %s a string, HTML-escaped (NULL prints
 * nothing); %r a string as it is (only for markup we wrote); %d an int; %L
 * an int64_t; %% a percent sign. Everything else is copied.
 */
void web_fmt(struct ap_buf *b, const char *fmt, ...);
/* Writes the page head, the top bar (Tenant ID at the top right on tenant
 * pages) and the flash notice; h1 is the page heading. */
void web_page_open(struct web_ctx *w, const char *title, const char *crumbs);
void web_page_close(struct web_ctx *w);
/* The hidden CSRF input of a POST form. */
void web_csrf_input(struct web_ctx *w);
/* Sends w->b as text/html with status (no-store, framing refused). */
enum ap_http_result web_send(struct web_ctx *w, int status);
/* 303 See Other to loc. */
enum ap_http_result web_redirect(struct web_ctx *w, const char *loc);
/* A whole page with a heading and one message (errors). */
enum ap_http_result web_message(struct web_ctx *w, int status, const char *title, const char *msg);
/* "Connected" | "Disabled" | "Not Connected Yet". */
const char *web_state_name(enum sim_conn_state st);
/* The human words of a scope's resource ("Customers") and access ("Read"). */
void web_scope_words(const char *scope, char *resource, size_t n, const char **access);
/* A table of scopes grouped per resource with Read / Write columns. */
void web_scope_table(struct ap_buf *b, const char *caption, char *const *scopes, size_t n);

/* ---- page groups --------------------------------------------------------- */

void web_tenant_routes(struct sim *s, struct ap_router *r);
void web_dev_routes(struct sim *s, struct ap_router *r);

#endif
