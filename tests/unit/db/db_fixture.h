/*
 * db_fixture.h — what the store's unit tests share: a fresh temporary data
 * dir per test, opening it with a migration list, and running a check in a
 * forked child (for process-wide state such as resource limits, or for a
 * process that dies without closing the store).
 */
#ifndef AP_TESTS_DB_FIXTURE_H
#define AP_TESTS_DB_FIXTURE_H

#include <stddef.h>

#include "db/store.h"

struct fixture {
    char dir[64];  /* a fresh temporary dir */
    char data[96]; /* <dir>/data, not yet created */
    char db[128];  /* <data>/appointd.db */
    struct ap_store *s;
};

/* cmocka setup/teardown: *state is a struct fixture; teardown closes f->s. */
int db_fixture_setup(void **state);
int db_fixture_teardown(void **state);

/* Opens f->data into f->s and applies list; fails the test on error. */
struct ap_store *db_fixture_open(struct fixture *f, const struct ap_migration *list, size_t n);

/* The same for a child (no cmocka): NULL, or what went wrong. */
const char *db_fixture_try_open(struct fixture *f, const struct ap_migration *list, size_t n);

/*
 * Runs check(arg) in a forked child and fails the test unless it returns
 * NULL; otherwise the message it returns is the failure. The child must not
 * use cmocka's assertions (they would jump back into the parent's runner).
 */
void db_in_child(const char *(*check)(void *arg), void *arg);

#endif
