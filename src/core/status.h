/*
 * status.h — HTTP status reason phrases, shared by the server adapter (the
 * status line it sends) and the ServiceTitan client (a title for errors that
 * came without one).
 */
#ifndef AP_CORE_STATUS_H
#define AP_CORE_STATUS_H

/* "Too Many Requests" for 429; NULL for a status without a phrase here. */
const char *ap_status_reason(int status);

#endif
