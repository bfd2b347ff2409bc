/*
 * httpc.c — the blocking outbound HTTP client (see httpc.h for the
 * contracts): one easy handle per client, reused from call to call so its
 * connections, DNS and TLS session caches are kept (easy.c sets the handle up
 * for each request). Also the helpers both front ends share: reading a
 * response header, freeing a response, form encoding. The event-driven front
 * end is loop.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc_int.h"

struct ap_httpc {
    CURL *h;
    struct ap_httpc_conf conf;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum ap_err ap_httpc_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_rc == CURLE_OK ? AP_OK : AP_EINTERNAL;
}

struct ap_httpc *ap_httpc_new(const struct ap_httpc_opts *opts)
{
    struct ap_httpc *c;

    if (ap_httpc_global_init())
        return NULL;
    c = ap_xcalloc(1, sizeof(*c));
    c->h = curl_easy_init();
    if (!c->h) {
        free(c);
        return NULL;
    }
    ap_httpc_conf_init(&c->conf, opts);
    return c;
}

void ap_httpc_free(struct ap_httpc *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    ap_httpc_conf_cleanup(&c->conf);
    free(c);
}

enum ap_err ap_httpc_do(struct ap_httpc *c, const struct ap_httpc_req *req,
                        struct ap_httpc_resp *resp)
{
    struct ap_httpc_xstate x;
    enum ap_err err = AP_EINVAL;
    CURLcode rc = CURLE_BAD_FUNCTION_ARGUMENT;

    ap_httpc_resp_cleanup(resp);
    if (ap_httpc_easy_setup(c->h, &c->conf, NULL, req, &x)) {
        rc = curl_easy_perform(c->h);
        err = ap_httpc_map_result(rc, &x);
    }
    ap_httpc_easy_finish(c->h, &x, req, rc, err, resp);
    /* the handle must not keep pointers to this call's stack and list */
    curl_easy_reset(c->h);
    ap_httpc_xstate_cleanup(&x);
    return err;
}

const char *ap_httpc_resp_header(const struct ap_httpc_resp *resp, const char *name)
{
    size_t nlen = strlen(name);

    for (size_t i = 0; resp->headers && i < resp->headers_len;) {
        const char *line = resp->headers + i;
        size_t len = strlen(line);
        if (len > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
        i += len + 1;
    }
    return NULL;
}

void ap_httpc_resp_cleanup(struct ap_httpc_resp *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof(*resp));
}

static void out_of_memory(void)
{
    fputs("appointd: out of memory in the HTTP client\n", stderr);
    abort();
}

enum ap_err ap_httpc_urlencode_form(const char *const *pairs, char **out)
{
    struct ap_buf b;
    enum ap_err err = AP_OK;

    *out = NULL;
    ap_buf_init(&b, AP_HTTPC_MAX_FORM);
    for (size_t i = 0; pairs[i] && !err; i += 2) {
        if (!pairs[i + 1]) {
            err = AP_EINVAL;
            break;
        }
        char *k = curl_easy_escape(NULL, pairs[i], 0);
        char *v = curl_easy_escape(NULL, pairs[i + 1], 0);
        if (!k || !v)
            out_of_memory();
        err = ap_buf_printf(&b, "%s%s=%s", i ? "&" : "", k, v);
        curl_free(k);
        curl_free(v);
    }
    if (err) {
        ap_buf_cleanup(&b);
        return err;
    }
    *out = ap_buf_take(&b);
    return AP_OK;
}
