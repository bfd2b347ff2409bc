/*
 * db_fixture.c — the shared fixture of the store's unit tests (db_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db_fixture.h"

int db_fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/ap-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
    snprintf(f->db, sizeof(f->db), "%s/appointd.db", f->data);
    *state = f;
    return 0;
}

int db_fixture_teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[256];

    ap_store_close(f->s);
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

const char *db_fixture_try_open(struct fixture *f, const struct ap_migration *list, size_t n)
{
    static char err[512];

    f->s = ap_store_open(f->data, err, sizeof(err));
    if (f->s == NULL || ap_store_migrate(f->s, list, n, NULL, err, sizeof(err)) != AP_OK)
        return err;
    return NULL;
}

struct ap_store *db_fixture_open(struct fixture *f, const struct ap_migration *list, size_t n)
{
    const char *msg = db_fixture_try_open(f, list, n);

    if (msg != NULL)
        fail_msg("open: %s", msg);
    return f->s;
}

void db_in_child(const char *(*check)(void *arg), void *arg)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *msg = check(arg);

        if (msg != NULL)
            fprintf(stderr, "child: %s\n", msg);
        _exit(msg == NULL ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}
