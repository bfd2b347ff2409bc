/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<sodium.h> belongs to src/crypto alone: include crypto/crypto.h instead"
