/*
 * key_int.h — the layout of struct ap_crypto_key, private to src/crypto.
 */
#ifndef AP_CRYPTO_KEY_INT_H
#define AP_CRYPTO_KEY_INT_H

#include "crypto/crypto.h"

struct ap_crypto_key {
    unsigned char b[AP_CRYPTO_KEY_LEN];
};

/* A zeroed key, locked in RAM where possible; never NULL. */
struct ap_crypto_key *ap_crypto_key_alloc(void);

#endif
