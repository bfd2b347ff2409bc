/*
 * token.c — the access tokens stsim mints and checks. They look like
 * ServiceTitan's (an "at+jwt" with alg RS256 in its header and the claims
 * nbf, iat, exp, iss, client_id, tenant as a string, jti and scope as an
 * array), but the signature is HMAC-SHA256 under the process's
 * s->token_key: nobody but this process can verify one, and a restart
 * invalidates every token (clients fetch a new one after a 401, as they
 * must with the real host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sim/core/backbone.h"

static char *sign(const uint8_t key[32], const char *msg, size_t n)
{
    uint8_t mac[AP_CRYPTO_HMAC_LEN];
    ap_crypto_hmac_sha256(key, 32, msg, n, mac);
    return ap_crypto_b64url(mac, sizeof(mac));
}

char *sim_token_mint(const uint8_t key[32], const char *iss, const char *client_id, int64_t tenant,
                     const char *const *scopes, size_t nscopes, int64_t now_s, int lifetime_s)
{
    uint8_t kid_mac[AP_CRYPTO_HMAC_LEN], jti_raw[16];
    char kid[17], jti[33], tenant_s[24];
    ap_crypto_hmac_sha256(key, 32, "kid", 3, kid_mac);
    ap_crypto_hex(kid_mac, 8, kid);
    ap_crypto_random(jti_raw, sizeof(jti_raw));
    ap_crypto_hex(jti_raw, sizeof(jti_raw), jti);
    for (char *p = kid; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 32 : *p);
    snprintf(tenant_s, sizeof(tenant_s), "%lld", (long long)tenant);
    json_t *sc = json_array();
    for (size_t i = 0; i < nscopes; i++)
        json_array_append_new(sc, json_string(scopes[i]));
    json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "RS256", "kid", kid, "typ", "at+jwt");
    json_t *pl =
        json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:o}", "nbf", (json_int_t)now_s, "iat",
                  (json_int_t)now_s, "exp", (json_int_t)(now_s + lifetime_s), "iss", iss,
                  "client_id", client_id, "tenant", tenant_s, "jti", jti, "scope", sc);
    char *h = ap_json_dumps(hdr), *p = ap_json_dumps(pl);
    char *hb = ap_crypto_b64url(h, strlen(h)), *pb = ap_crypto_b64url(p, strlen(p));
    char *signing = ap_xasprintf("%s.%s", hb, pb);
    char *sig = sign(key, signing, strlen(signing));
    char *tok = ap_xasprintf("%s.%s", signing, sig);
    free(h);
    free(p);
    free(hb);
    free(pb);
    free(signing);
    free(sig);
    json_decref(hdr);
    json_decref(pl);
    return tok;
}

static enum sim_token_result read_claims(json_t *pl, int64_t now_s, struct sim_token_claims *out)
{
    const char *cid = json_string_value(json_object_get(pl, "client_id"));
    const char *ten = json_string_value(json_object_get(pl, "tenant"));
    json_t *exp = json_object_get(pl, "exp"), *scope = json_object_get(pl, "scope");
    if (!cid || strlen(cid) >= sizeof(out->client_id) || !ten || !json_is_integer(exp) ||
        !json_is_array(scope))
        return SIM_TOKEN_BAD;
    char *end = NULL;
    long long t = strtoll(ten, &end, 10);
    if (!*ten || *end || t <= 0)
        return SIM_TOKEN_BAD;
    snprintf(out->client_id, sizeof(out->client_id), "%s", cid);
    out->tenant = t;
    out->exp = json_integer_value(exp);
    if (out->exp <= now_s)
        return SIM_TOKEN_EXPIRED;
    out->scope = json_incref(scope);
    return SIM_TOKEN_OK;
}

enum sim_token_result sim_token_verify(const uint8_t key[32], const char *token, int64_t now_s,
                                       struct sim_token_claims *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = strlen(token);
    const char *d1 = memchr(token, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(token + n - d1 - 1)) : NULL;
    if (n > SIM_TOKEN_MAX || !d2 || strchr(d2 + 1, '.'))
        return SIM_TOKEN_BAD;
    uint8_t mac[AP_CRYPTO_HMAC_LEN];
    size_t siglen = 0, pllen = 0;
    uint8_t *sig = ap_crypto_b64url_decode(d2 + 1, strlen(d2 + 1), &siglen);
    ap_crypto_hmac_sha256(key, 32, token, (size_t)(d2 - token), mac);
    bool ok = sig && siglen == sizeof(mac) && ap_crypto_equal(sig, mac, sizeof(mac));
    free(sig);
    if (!ok)
        return SIM_TOKEN_BAD;
    uint8_t *pltext = ap_crypto_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pllen);
    json_t *pl = NULL;
    if (pltext)
        ap_json_parse_body((const char *)pltext, pllen, AP_JSON_OBJECT, &pl, NULL);
    free(pltext);
    enum sim_token_result r = pl ? read_claims(pl, now_s, out) : SIM_TOKEN_BAD;
    json_decref(pl);
    return r;
}
