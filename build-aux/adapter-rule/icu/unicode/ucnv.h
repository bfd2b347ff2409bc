/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<unicode/ucnv.h> belongs to src/tz alone: include tz/tz.h instead"
