/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<zlib.h> belongs to src/http alone: include http/http.h (responses are gzipped there) instead"
