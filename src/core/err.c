/*
 * err.c — names of the result codes, for logs and error messages.
 */
#include "core/err.h"

const char *ap_err_str(enum ap_err err)
{
    switch (err) {
    case AP_OK:
        return "ok";
    case AP_EINVAL:
        return "einval";
    case AP_ENOTFOUND:
        return "enotfound";
    case AP_ETOOBIG:
        return "etoobig";
    case AP_EPARSE:
        return "eparse";
    case AP_ECONFLICT:
        return "econflict";
    case AP_EPERM:
        return "eperm";
    case AP_EBUSY:
        return "ebusy";
    case AP_ETIMEOUT:
        return "etimeout";
    case AP_EUNAVAIL:
        return "eunavail";
    case AP_EIO:
        return "eio";
    case AP_ECORRUPT:
        return "ecorrupt";
    case AP_EINTERNAL:
        return "einternal";
    }
    return "eunknown";
}
