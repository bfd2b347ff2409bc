/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<curl/curl.h> belongs to src/httpc alone: include httpc/httpc.h instead"
