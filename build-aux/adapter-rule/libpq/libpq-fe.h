/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<libpq-fe.h> belongs to src/db alone: include db/store.h instead"
