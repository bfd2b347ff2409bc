/* The adapter rule (docs/ARCHITECTURE.md): one room includes each library. */
#error "<unicode/calendar.h> belongs to src/tz alone: include tz/tz.h instead"
