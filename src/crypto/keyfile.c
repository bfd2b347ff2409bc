/*
 * keyfile.c — the master key file: one line with 32 random bytes as base64
 * (written) or base64/hex (read), mode 0600.
 *
 * A new key is written to a temporary name, fsync'd, and then link()ed into
 * place: link fails when the name exists, so two processes racing to create
 * the key never overwrite each other — the loser reads the winner's key.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/key_int.h"

/* A key file is one short line; anything bigger is not ours. */
#define KEYFILE_MAX 256
#define B64_LEN     44 /* base64 of 32 bytes, padded */
#define HEX_LEN     64

static enum ap_err fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? ap_xstrdup(".")
                : slash == path ? ap_xstrdup("/")
                                : ap_xstrndup(path, (size_t)(slash - path));
    enum ap_err err = AP_OK;
    int fd;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        err = AP_EIO;
    if (fd >= 0)
        close(fd);
    free(dir);
    return err;
}

static enum ap_err write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return AP_EIO;
        p += w;
        n -= (size_t)w;
    }
    return AP_OK;
}

/* Writes a new random key to path unless something is there already. */
static enum ap_err key_create(const char *path, char *err, size_t errlen)
{
    unsigned char key[AP_CRYPTO_KEY_LEN];
    char line[B64_LEN + 2];
    unsigned char rnd[8];
    char suffix[2 * sizeof(rnd) + 1];
    char *tmp = NULL;
    enum ap_err e = AP_EIO;
    int fd;

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(suffix, sizeof(suffix), rnd, sizeof(rnd));
    tmp = ap_xasprintf("%s.tmp.%ld.%s", path, (long)getpid(), suffix);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create master key file %s: %s", path, strerror(errno));
        goto out;
    }
    randombytes_buf(key, sizeof(key));
    sodium_bin2base64(line, sizeof(line), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    line[B64_LEN] = '\n';
    if (write_all(fd, line, B64_LEN + 1) != AP_OK || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write master key file %s: %s", path, strerror(errno));
        close(fd);
        goto out_unlink;
    }
    close(fd);
    if (link(tmp, path) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create master key file %s: %s", path, strerror(errno));
        goto out_unlink;
    }
    e = fsync_parent(path);
    if (e != AP_OK)
        snprintf(err, errlen, "cannot sync the directory of master key file %s", path);
out_unlink:
    unlink(tmp);
out:
    sodium_memzero(key, sizeof(key));
    sodium_memzero(line, sizeof(line));
    free(tmp);
    return e;
}

/* Decodes one line of base64 or hex into k. */
static bool key_decode(char *text, size_t len, struct ap_crypto_key *k)
{
    size_t bin = 0;

    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len == HEX_LEN)
        return sodium_hex2bin(k->b, sizeof(k->b), text, len, NULL, &bin, NULL) == 0 &&
               bin == sizeof(k->b);
    if (len == B64_LEN)
        return sodium_base642bin(k->b, sizeof(k->b), text, len, NULL, &bin, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) == 0 &&
               bin == sizeof(k->b);
    return false;
}

/* Checks the mode of the open key file fd; one line into err when refused. */
static enum ap_err key_check_mode(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat master key file %s: %s", path, strerror(errno));
        return AP_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "master key file %s is not a regular file", path);
        return AP_EINVAL;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "master key file %s is accessible by group or others (mode %04o); run "
                 "chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        return AP_EPERM;
    }
    return AP_OK;
}

static enum ap_err key_read(int fd, const char *path, struct ap_crypto_key **out, char *err,
                            size_t errlen)
{
    char text[KEYFILE_MAX + 1];
    struct ap_crypto_key *k = NULL;
    enum ap_err e;
    ssize_t n;

    e = key_check_mode(fd, path, err, errlen);
    if (e != AP_OK)
        return e;
    do
        n = read(fd, text, sizeof(text));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(err, errlen, "cannot read master key file %s: %s", path, strerror(errno));
        return AP_EIO;
    }
    k = ap_crypto_key_alloc();
    if (n > KEYFILE_MAX || !key_decode(text, (size_t)n, k)) {
        snprintf(err, errlen,
                 "master key file %s must hold one line: 32 bytes as base64 (44 characters) or "
                 "hex (64 characters)",
                 path);
        ap_crypto_key_free(k);
        k = NULL;
        e = AP_EPARSE;
    }
    sodium_memzero(text, sizeof(text));
    *out = k;
    return e;
}

enum ap_err ap_crypto_key_load(const char *path, bool create, struct ap_crypto_key **out, char *err,
                               size_t errlen)
{
    enum ap_err e;
    int fd;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        e = key_create(path, err, errlen);
        if (e != AP_OK)
            return e;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        int saved = errno;

        snprintf(err, errlen, "cannot open master key file %s: %s", path, strerror(saved));
        return saved == ENOENT ? AP_ENOTFOUND : saved == EACCES ? AP_EPERM : AP_EIO;
    }
    e = key_read(fd, path, out, err, errlen);
    close(fd);
    return e;
}
