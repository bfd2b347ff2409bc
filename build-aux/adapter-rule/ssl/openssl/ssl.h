/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<openssl/ssl.h> belongs to src/http alone: include http/http.h (TLS) or crypto/crypto.h instead"
