/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<openssl/evp.h> belongs to src/http alone: include crypto/crypto.h instead"
