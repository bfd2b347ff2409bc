/*
 * replay_main.c — runs a libFuzzer target over committed corpus files without
 * libFuzzer, so that `make check` replays every corpus under the normal
 * compiler with ASan/UBSan.
 *
 *   replay_json_body DIR_OR_FILE...
 *
 * Each argument is a file or a directory (its regular files, in name order;
 * dot files skipped). Prints TAP: "ok N - path" per input, then the plan.
 * A crash or a failed invariant aborts the process, which fails the test;
 * finding no input at all is a failure too (a corpus went missing).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mem.h"

/* Inputs larger than this are not corpus material. */
#define REPLAY_MAX_INPUT (4 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, int n)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *data;
    size_t len;

    if (!f || fstat(fileno(f), &st) != 0 || st.st_size > REPLAY_MAX_INPUT) {
        printf("not ok %d - %s (cannot open, or larger than %d bytes)\n", n, path,
               REPLAY_MAX_INPUT);
        if (f)
            fclose(f);
        return 1;
    }
    /* an exact-size buffer lets ASan catch a read one byte past the input */
    data = ap_xmalloc(st.st_size ? (size_t)st.st_size : 1);
    len = fread(data, 1, (size_t)st.st_size, f);
    fclose(f);
    fflush(stdout);
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    printf("ok %d - %s\n", n, path);
    return 0;
}

static int skip_dots(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Replays path (file or directory); returns failures, advancing *n. */
static int replay_path(const char *path, int *n)
{
    struct dirent **names = NULL;
    struct stat st;
    int count, failed = 0;

    if (stat(path, &st) != 0) {
        printf("not ok %d - %s (missing)\n", ++*n, path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path, ++*n);
    count = scandir(path, &names, skip_dots, alphasort);
    for (int i = 0; i < count; i++) {
        char *full = ap_xasprintf("%s/%s", path, names[i]->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            failed += replay_file(full, ++*n);
        free(full);
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    int n = 0, failed = 0;

    for (int i = 1; i < argc; i++)
        failed += replay_path(argv[i], &n);
    if (n == 0) {
        printf("not ok 1 - no corpus input found\n");
        n = 1;
        failed = 1;
    }
    printf("1..%d\n", n);
    return failed ? 1 : 0;
}
