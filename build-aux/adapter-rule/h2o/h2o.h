/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<h2o.h> belongs to src/http alone: include http/http.h instead"
