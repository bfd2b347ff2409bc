/*
 * log.c — logfmt lines, the thread's request id, and redaction helpers.
 *
 * A line is assembled in a stack buffer and written with one write(2), so
 * concurrent threads never interleave inside a line. Lines longer than the
 * buffer are cut and end in "...".
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

#define LINE_MAX_BYTES 2048

enum ap_log_level ap_log_min_level = AP_LOG_INFO;
static int log_fd = 2;
static _Thread_local char request_id[72];

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

enum ap_err ap_log_level_parse(const char *s, enum ap_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum ap_log_level)i;
            return AP_OK;
        }
    }
    return AP_EINVAL;
}

void ap_log_set_level(enum ap_log_level lvl)
{
    ap_log_min_level = lvl;
}

void ap_log_set_fd(int fd)
{
    log_fd = fd;
}

void ap_log_set_request_id(const char *id)
{
    if (!id) {
        request_id[0] = '\0';
        return;
    }
    snprintf(request_id, sizeof(request_id), "%s", id);
}

void ap_log_write(enum ap_log_level lvl, const char *event, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    char ts[32];
    ap_clock_format_utc(ap_clock_real_ns(), ts);
    int n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s req=%s", ts,
                     level_names[lvl <= AP_LOG_ERROR ? lvl : AP_LOG_ERROR], event,
                     request_id[0] ? request_id : "-");
    size_t len = n < 0 ? 0 : (size_t)n;
    if (fmt && *fmt && len < sizeof(line) - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        va_end(ap);
        if (n <= 0)
            len--; /* nothing followed: drop the separator */
        else
            len += (size_t)n;
    }
    if (len >= sizeof(line) - 1) {
        len = sizeof(line) - 1;
        memcpy(line + len - 4, "...", 3);
    }
    line[len++] = '\n';
    (void)!write(log_fd, line, len);
}

static bool needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return true;
    }
    return false;
}

char *ap_log_quote(const char *s, char *out, size_t n)
{
    if (n == 0)
        return out;
    if (!s)
        s = "";
    if (!needs_quotes(s)) {
        size_t len = strlen(s);
        if (len < n) {
            memcpy(out, s, len + 1);
            return out;
        }
    }
    size_t o = 0;
    bool cut = false;
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        size_t k;
        if (*p == '"' || *p == '\\')
            k = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
        else if (*p == '\n')
            k = (size_t)snprintf(esc, sizeof(esc), "\\n");
        else if (*p < ' ' || *p == 0x7f)
            k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
        else
            esc[0] = (char)*p, k = 1;
        if (o + k + 5 > n) { /* room for `..."` and NUL */
            cut = true;
            break;
        }
        memcpy(out + o, esc, k);
        o += k;
    }
    if (cut && n >= 6) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    if (o + 2 <= n)
        out[o++] = '"';
    out[o < n ? o : n - 1] = '\0';
    return out;
}

char *ap_redact_secret(const char *s, char *out, size_t n)
{
    size_t len = s ? strlen(s) : 0;
    if (len > 8)
        snprintf(out, n, "****%s", s + len - 4);
    else
        snprintf(out, n, "****");
    return out;
}

char *ap_redact_email(const char *s, char *out, size_t n)
{
    const char *at = s ? strchr(s, '@') : NULL;
    if (!at || at == s || !at[1]) {
        snprintf(out, n, "***");
        return out;
    }
    const char *dot = strrchr(at, '.');
    snprintf(out, n, "%c***@%c***%s", s[0], at[1], dot && dot > at + 1 ? dot : "");
    return out;
}

char *ap_redact_phone(const char *s, char *out, size_t n)
{
    char last[5] = {0};
    size_t k = 0;
    for (const char *p = s ? s + strlen(s) : NULL; p && p > s && k < 4;) {
        p--;
        if (*p >= '0' && *p <= '9')
            last[3 - k++] = *p;
    }
    snprintf(out, n, "***-***-%s", k == 4 ? last : "****");
    return out;
}
