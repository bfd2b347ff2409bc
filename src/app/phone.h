/*
 * phone.h — homeowners' phone numbers: typed as people type them, stored in
 * E.164. North American numbers (US, Canada and the rest of the NANP) are the
 * default, as for the contractors appointd serves; other countries need their
 * '+' and country code.
 */
#ifndef AP_APP_PHONE_H
#define AP_APP_PHONE_H

#include <stdbool.h>
#include <stddef.h>

/* "+12145550100" and its NUL; E.164 numbers have at most 15 digits. */
#define AP_PHONE_E164_MAX 17

/*
 * Normalises a typed number into out as E.164 ("+12145550100"). Spaces, dots,
 * dashes, slashes and parentheses are ignored; a leading "+" or "00" starts
 * an international number; "1" before ten digits is the NANP country code.
 * A NANP number must have a valid area code and exchange (first digit 2–9,
 * not N11). Letters, extensions and anything else are refused: false with
 * why (a sentence for the homeowner, e.g. "enter a 10-digit US or Canadian
 * phone number, like 214-555-0100") when why is not NULL.
 */
bool ap_phone_normalize(const char *in, char out[AP_PHONE_E164_MAX], const char **why);

/*
 * The national part ServiceTitan stores and searches for a NANP number
 * ("2145550100" for "+12145550100"), or the E.164 digits without '+' for
 * others. out holds AP_PHONE_E164_MAX bytes.
 */
void ap_phone_national(const char *e164, char out[AP_PHONE_E164_MAX]);

#endif
