/*
 * db_writer.c — benchmark of durable writes on the store: one transaction per
 * write (each writer thread takes the write connection, BEGIN, INSERT,
 * COMMIT) against the writer thread with group commit (ap_db_writer_run),
 * both durable (every commit waits for the disk: SQLite's synchronous=FULL,
 * PostgreSQL's synchronous_commit=on), in the same run, on the same file
 * system, with the same number of concurrent writers — on SQLite, and, when
 * a PostgreSQL URL is given, on PostgreSQL too. The modes alternate in
 * rounds so that a disk slowed by someone else for a while weighs on all
 * alike.
 *
 *   db_writer_bench DIR [THREADS [SECONDS [ROUNDS [PG_URL]]]]  (defaults: 16, 2 s, 5)
 *
 * DIR must be on the disk being measured (not tmpfs, where fsync is free);
 * so must PostgreSQL's data directory, and it must run with fsync on.
 * Prints one line per mode: writes/s, p50 and p99 latency of one write as its
 * caller sees it (submit to durable), and for the writer the mean batch size.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "db/store.h"

#define MAX_THREADS 256
#define MAX_SAMPLES (1 << 20) /* latencies kept per thread */

static const struct ap_migration LIST[] = {
    {1, "bench",
     "CREATE TABLE bookings (id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, "
     "body TEXT NOT NULL)"},
};

/* A booking-sized row: a reference and ~300 bytes of JSON-ish body. */
#define BODY                                                                                       \
    "{\"service\":\"ac-repair\",\"window\":{\"start\":\"2026-12-04T14:00:00Z\",\"end\":"           \
    "\"2026-12-04T16:00:00Z\"},\"contact\":{\"name\":\"Pat Example\",\"phone\":\"+15125550123\","  \
    "\"email\":\"pat@example.test\"},\"address\":{\"street\":\"1 Main St\",\"city\":\"Austin\","   \
    "\"state\":\"TX\",\"zip\":\"78701\"},\"notes\":\"Unit is making a noise.\"}"

struct row {
    char ref[48];
};

struct thread {
    struct ap_store *s;
    struct ap_db_writer *w; /* NULL: one transaction per write */
    int id;
    int round;
    int64_t until_ns;
    int64_t *lat; /* ns, MAX_SAMPLES */
    size_t n;
    size_t failed;
};

static enum ap_err insert_row(struct ap_db_conn *c, void *arg)
{
    const struct row *r = arg;
    struct ap_db_val v[] = {ap_db_text(r->ref), ap_db_text(BODY)};

    return ap_db_exec(c, "INSERT INTO bookings (ref, body) VALUES (?, ?)", v, 2);
}

/* One transaction per write, as a handler would do it without the writer. */
static enum ap_err direct_write(struct ap_store *s, struct row *r)
{
    struct ap_db_conn *c = ap_store_acquire(s, true);
    enum ap_err err = ap_db_begin(c);

    if (err == AP_OK)
        err = insert_row(c, r);
    if (err == AP_OK)
        err = ap_db_commit(c);
    ap_db_rollback(c);
    ap_store_release(c);
    return err;
}

static void *run_thread(void *arg)
{
    struct thread *t = arg;
    struct row r;

    while (t->n < MAX_SAMPLES) {
        int64_t t0 = ap_clock_mono_ns();
        enum ap_err err;

        if (t0 >= t->until_ns)
            break;
        snprintf(r.ref, sizeof(r.ref), "%s-%d-%d-%zu", t->w ? "g" : "d", t->round, t->id, t->n);
        err = t->w ? ap_db_writer_run(t->w, insert_row, &r) : direct_write(t->s, &r);
        t->lat[t->n++] = ap_clock_mono_ns() - t0;
        t->failed += err != AP_OK;
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* What one mode measured over all its rounds. */
struct result {
    int64_t *lat;
    size_t n, cap;
    size_t failed;
    double secs;
    uint64_t writes, batches;
};

static void keep(struct result *res, const int64_t *lat, size_t n)
{
    if (res->n + n > res->cap) {
        res->cap = (res->n + n) * 2;
        res->lat = realloc(res->lat, res->cap * sizeof(int64_t));
    }
    memcpy(res->lat + res->n, lat, n * sizeof(int64_t));
    res->n += n;
}

/* One round of one mode on the store in dir. */
static int run_round(const char *dir, bool group, int round, int nthreads, int seconds,
                     struct result *res)
{
    static struct thread th[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    char err[512] = "";
    struct ap_store *s = ap_store_open(dir, err, sizeof(err));
    struct ap_db_writer *w = NULL;
    struct ap_db_writer_stats st = {0};
    int64_t t0;

    if (s == NULL || ap_store_migrate(s, LIST, 1, NULL, err, sizeof(err)) != AP_OK) {
        fprintf(stderr, "db_writer_bench: %s\n", err);
        return 1;
    }
    /* Durable commits for the direct mode too: the writer's batches set it
     * themselves. */
    struct ap_db_conn *c = ap_store_acquire(s, true);
    ap_db_exec(c,
               strcmp(ap_store_backend(s), "sqlite") == 0 ? "PRAGMA synchronous=FULL"
                                                          : "SET synchronous_commit = on",
               NULL, 0);
    ap_store_release(c);
    if (group && !(w = ap_db_writer_new(s, NULL, err, sizeof(err)))) {
        fprintf(stderr, "db_writer_bench: %s\n", err);
        return 1;
    }
    t0 = ap_clock_mono_ns();
    for (int i = 0; i < nthreads; i++) {
        th[i] = (struct thread){
            .s = s, .w = w, .id = i, .round = round, .until_ns = t0 + seconds * AP_NS_PER_S};
        th[i].lat = malloc(MAX_SAMPLES * sizeof(int64_t));
        pthread_create(&tid[i], NULL, run_thread, &th[i]);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        keep(res, th[i].lat, th[i].n);
        res->failed += th[i].failed;
        free(th[i].lat);
    }
    res->secs += (double)(ap_clock_mono_ns() - t0) / (double)AP_NS_PER_S;
    if (w) {
        ap_db_writer_get_stats(w, &st);
        ap_db_writer_free(w);
        res->writes += st.writes;
        res->batches += st.batches;
    }
    ap_store_close(s);
    return 0;
}

static void print_result(const char *name, int nthreads, struct result *res)
{
    size_t n = res->n;

    qsort(res->lat, n, sizeof(int64_t), cmp_i64);
    printf("%-26s writers=%d writes=%zu failed=%zu writes/s=%.0f p50_ms=%.2f p99_ms=%.2f", name,
           nthreads, n, res->failed, (double)n / res->secs, n ? (double)res->lat[n / 2] / 1e6 : 0,
           n ? (double)res->lat[n * 99 / 100] / 1e6 : 0);
    if (res->batches)
        printf(" writes/batch=%.1f", (double)res->writes / (double)res->batches);
    printf("\n");
    free(res->lat);
}

int main(int argc, char **argv)
{
    char a[1024], b[1024];
    int nthreads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 16;
    int seconds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2;
    int rounds = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 5;
    const char *pg = argc > 5 ? argv[5] : NULL;
    struct result direct = {0}, group = {0}, pg_direct = {0}, pg_group = {0};
    int rc = 0;

    if (argc < 2 || nthreads < 1 || nthreads > MAX_THREADS || seconds < 1 || rounds < 1) {
        fprintf(stderr, "usage: db_writer_bench DIR [THREADS [SECONDS [ROUNDS [PG_URL]]]]\n");
        return 2;
    }
    ap_log_set_level(AP_LOG_WARN);
    snprintf(a, sizeof(a), "%s/direct", argv[1]);
    snprintf(b, sizeof(b), "%s/group", argv[1]);
    for (int r = 0; rc == 0 && r < rounds; r++) {
        rc = run_round(a, false, r, nthreads, seconds, &direct) |
             run_round(b, true, r, nthreads, seconds, &group);
        if (pg != NULL && rc == 0)
            rc = run_round(pg, false, r, nthreads, seconds, &pg_direct) |
                 run_round(pg, true, r, nthreads, seconds, &pg_group);
    }
    print_result("sqlite: one transaction per write", nthreads, &direct);
    print_result("sqlite: writer (group commit)", nthreads, &group);
    if (pg != NULL) {
        print_result("postgres: one transaction per write", nthreads, &pg_direct);
        print_result("postgres: writer (group commit)", nthreads, &pg_group);
    }
    return rc != 0 || direct.failed > 0 || group.failed > 0 || pg_direct.failed > 0 ||
           pg_group.failed > 0;
}
