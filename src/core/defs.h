/*
 * defs.h — the few constants and macros every room uses: time units in
 * nanoseconds (the unit of ap_clock_*) and the element count of an array.
 */
#ifndef AP_CORE_DEFS_H
#define AP_CORE_DEFS_H

#include <stdint.h>

#define AP_NS_PER_US  INT64_C(1000)
#define AP_NS_PER_MS  INT64_C(1000000)
#define AP_NS_PER_S   INT64_C(1000000000)
#define AP_S_PER_DAY  INT64_C(86400)
#define AP_NS_PER_DAY (AP_S_PER_DAY * AP_NS_PER_S)

/* Elements of an array (not a pointer). */
#define AP_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
