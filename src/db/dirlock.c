/*
 * dirlock.c — the data directory: creating it private, checking it is
 * writable, and the exclusive lock `appointd serve` holds on it so two
 * servers never share one database. Backend-neutral.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "db/store.h"

/* mkdir -p with mode 0700 for what it creates. */
static int mkdir_p(const char *dir)
{
    char *p = ap_xstrdup(dir);
    int rc = 0;

    for (char *q = p + 1; rc == 0 && *q != '\0'; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *q = '/';
    }
    if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

enum ap_err ap_store_ensure_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;

    if (dir == NULL || dir[0] == '\0') {
        snprintf(err, errlen, "no data dir given; set --data-dir");
        return AP_EINVAL;
    }
    if (mkdir_p(dir) != 0) {
        int saved = errno;

        snprintf(err, errlen, "data dir %s cannot be created: %s", dir, strerror(saved));
        return saved == EACCES || saved == EPERM || saved == EROFS ? AP_EPERM : AP_EIO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "data dir %s is not a directory", dir);
        return AP_EINVAL;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "data dir %s is not writable: %s", dir, strerror(errno));
        return AP_EPERM;
    }
    return AP_OK;
}

/* The pid written in the lock file by its holder, or 0. */
static long holder_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

enum ap_err ap_store_lock_dir(const char *dir, int *fd_out, char *err, size_t errlen)
{
    char *path = NULL;
    char line[32];
    enum ap_err e;
    int fd = -1;

    *fd_out = -1;
    e = ap_store_ensure_dir(dir, err, errlen);
    if (e != AP_OK)
        return e;
    path = ap_xasprintf("%s/appointd.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
        e = AP_EIO;
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            snprintf(err, errlen,
                     "data dir %s is in use by another appointd serve (pid %ld); stop it or "
                     "choose another --data-dir",
                     dir, holder_pid(fd));
            e = AP_EBUSY;
        } else {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
            e = AP_EIO;
        }
        goto out;
    }
    snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line)) {
        snprintf(err, errlen, "cannot write lock file %s: %s", path, strerror(errno));
        e = AP_EIO;
        goto out;
    }
    *fd_out = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return e;
}

void ap_store_unlock_dir(int fd)
{
    if (fd < 0)
        return;
    /* Emptied so a stale pid is never reported; the lock goes with close. */
    if (ftruncate(fd, 0) != 0) {
        /* nothing useful to do: the lock is released regardless */
    }
    close(fd);
}
