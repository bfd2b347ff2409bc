/*
 * phone.c — a small NANP-first phone normaliser (DESIGN §4: no kept library
 * fits this narrow need). See phone.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app/phone.h"

static const char nanp_hint[] = "enter a 10-digit US or Canadian phone number, like 214-555-0100";

static bool fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return false;
}

/* The digits of in, ignoring separators; false on any other character. */
static bool collect(const char *in, char *digits, size_t cap, bool *plus)
{
    size_t n = 0;

    *plus = false;
    for (const char *p = in; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n + 1 >= cap)
                return false;
            digits[n++] = *p;
        } else if (*p == '+' && n == 0 && !*plus) {
            *plus = true;
        } else if (!strchr(" .-/()\t", *p)) {
            return false;
        }
    }
    digits[n] = '\0';
    return true;
}

/* Area code or exchange: NXX with N in 2..9, and not N11. */
static bool nxx_ok(const char *d)
{
    return d[0] >= '2' && d[0] <= '9' && !(d[1] == '1' && d[2] == '1');
}

bool ap_phone_normalize(const char *in, char out[AP_PHONE_E164_MAX], const char **why)
{
    char d[32];
    bool plus;
    size_t n;

    if (!in || !collect(in, d, sizeof(d), &plus))
        return fail(why, nanp_hint);
    n = strlen(d);
    if (!plus && n > 2 && d[0] == '0' && d[1] == '0') { /* 00 international prefix */
        memmove(d, d + 2, n - 1);
        n -= 2;
        plus = true;
    }
    if (plus && d[0] != '1') {
        if (n < 8 || n > 15 || d[0] == '0')
            return fail(why, "enter the number with its country code, like +44 20 7946 0000");
        snprintf(out, AP_PHONE_E164_MAX, "+%.15s", d);
        return true;
    }
    if (n == 11 && d[0] == '1') {
        memmove(d, d + 1, n);
        n--;
    }
    if (n != 10)
        return fail(why, nanp_hint);
    if (!nxx_ok(d))
        return fail(why, "that area code does not exist: check the first three digits");
    if (!nxx_ok(d + 3))
        return fail(why, "that number does not exist: check the digits after the area code");
    snprintf(out, AP_PHONE_E164_MAX, "+1%.10s", d);
    return true;
}

void ap_phone_national(const char *e164, char out[AP_PHONE_E164_MAX])
{
    const char *p = e164 && e164[0] == '+' ? e164 + 1 : (e164 ? e164 : "");

    if (p[0] == '1' && strlen(p) == 11)
        p++;
    snprintf(out, AP_PHONE_E164_MAX, "%.15s", p);
}
