/*
 * err.h — the one result type of appointd and stsim.
 *
 * Every action returns an enum ap_err where AP_OK (0) is success; predicates
 * return bool and constructors return a pointer or NULL. ap_err_str() gives a
 * short stable name used in logs ("einval").
 */
#ifndef AP_CORE_ERR_H
#define AP_CORE_ERR_H

enum ap_err {
    AP_OK = 0,
    AP_EINVAL,    /* bad input from a caller or a user */
    AP_ENOTFOUND, /* no such thing */
    AP_ETOOBIG,   /* a size limit was hit */
    AP_EPARSE,    /* bytes could not be parsed */
    AP_ECONFLICT, /* the thing exists already / state does not allow it */
    AP_EPERM,     /* not allowed */
    AP_EBUSY,     /* locked or in use by someone else */
    AP_ETIMEOUT,  /* gave up waiting */
    AP_EUNAVAIL,  /* a peer (store, remote host) cannot be used right now */
    AP_EIO,       /* an operating-system call failed */
    AP_ECORRUPT,  /* stored data is damaged */
    AP_EINTERNAL, /* a bug: an invariant did not hold */
};

/* Short lowercase name of err, e.g. "einval"; never NULL. */
const char *ap_err_str(enum ap_err err);

#endif
