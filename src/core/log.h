/*
 * log.h — one logfmt line per event.
 *
 *   ap_log_info("http.listen", "addr=%s threads=%d", addr, n);
 * prints
 *   ts=2026-11-28T17:18:06.123Z level=info event=http.listen req=- addr=... threads=2
 *
 * The level is checked before anything is formatted. The request id of the
 * calling thread (set by the http adapter around a handler) is added as req=.
 * Values that may hold spaces or quotes go through ap_log_quote(); anything a
 * homeowner or an admin typed that is a secret or contact detail goes through
 * ap_redact_*() first. Lines go to stderr (or the sink set for tests), each
 * written with one write() so threads never interleave within a line.
 */
#ifndef AP_CORE_LOG_H
#define AP_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum ap_log_level { AP_LOG_DEBUG, AP_LOG_INFO, AP_LOG_WARN, AP_LOG_ERROR, AP_LOG_OFF };

extern enum ap_log_level ap_log_min_level;

/* Parses "debug", "info", "warn", "error", "off". */
enum ap_err ap_log_level_parse(const char *s, enum ap_log_level *out);
void ap_log_set_level(enum ap_log_level lvl);
/* Where lines go: an fd (default 2). */
void ap_log_set_fd(int fd);

/* Request id of this thread for later lines; NULL clears. Copied. */
void ap_log_set_request_id(const char *id);

void ap_log_write(enum ap_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ap_log_at(lvl, event, ...)                                                                 \
    do {                                                                                           \
        if ((lvl) >= ap_log_min_level)                                                             \
            ap_log_write((lvl), (event), __VA_ARGS__);                                             \
    } while (0)
#define ap_log_debug(event, ...) ap_log_at(AP_LOG_DEBUG, event, __VA_ARGS__)
#define ap_log_info(event, ...)  ap_log_at(AP_LOG_INFO, event, __VA_ARGS__)
#define ap_log_warn(event, ...)  ap_log_at(AP_LOG_WARN, event, __VA_ARGS__)
#define ap_log_error(event, ...) ap_log_at(AP_LOG_ERROR, event, __VA_ARGS__)

/*
 * Writes s as a logfmt value into out (size n): bare when it has no space,
 * quote, '=' or control byte, else double-quoted with \" \\ \n escapes.
 * Truncates with "..." to fit. Returns out.
 */
char *ap_log_quote(const char *s, char *out, size_t n);

/* "****" plus the last 4 characters when s has more than 8, else "****". */
char *ap_redact_secret(const char *s, char *out, size_t n);
/* "j***@e***.com": first letter of the local part and of the domain. */
char *ap_redact_email(const char *s, char *out, size_t n);
/* "***-***-1234": only the last 4 digits. */
char *ap_redact_phone(const char *s, char *out, size_t n);

#endif
