/*
 * cmd_booking.c — `appointd booking …`: bookings from the shell, beside a
 * running server (SQLite WAL; the server's push picks up a retried booking
 * at its next poll).
 *
 *   booking list ACCOUNT [--state S] [--scheduler KEY] [--since DATE] [--json]
 *   booking show REF [--json]            with its ServiceTitan call log
 *   booking retry REF                    needs_attention / parked → pushed again
 *   booking resolve REF [--note TEXT]    marked handled by hand (booked)
 *   booking cancel REF [--note TEXT]     not yet in ServiceTitan → canceled
 *
 * The homeowner's contact details are printed (the operator asked for them);
 * they never go to the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/booking.h"
#include "cli/cli.h"
#include "json/json.h"

struct flags {
    const char *state, *scheduler, *since, *note;
};

static int usage(void)
{
    fprintf(stderr, "usage: appointd booking list ACCOUNT [--state S] [--scheduler KEY] [--since "
                    "DATE] | show REF | retry REF | resolve REF [--note TEXT] | cancel REF "
                    "[--note TEXT] [--json]\n");
    return AP_EXIT_USAGE;
}

/* Takes this command's own flags out of argv; -1 on a usage error. */
static int take_flags(int argc, char **argv, struct flags *f)
{
    static const char *const names[] = {"--state", "--scheduler", "--since", "--note"};
    const char **slots[] = {&f->state, &f->scheduler, &f->since, &f->note};
    int out = 0;

    for (int i = 0; i < argc; i++) {
        int k = -1;
        for (int n = 0; n < 4; n++)
            if (strcmp(argv[i], names[n]) == 0)
                k = n;
        if (k < 0) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "appointd: %s needs a value\n", names[k]);
            return -1;
        }
        *slots[k] = argv[++i];
    }
    return out;
}

static void print_json(json_t *j)
{
    char *s = ap_json_dumps(j);
    printf("%s\n", s);
    free(s);
}

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void print_row(json_t *b)
{
    json_t *st = json_object_get(b, "servicetitan");
    printf("%s  %-15s %s  %s  %s", str(b, "reference"), str(b, "state"),
           str(json_object_get(b, "window"), "start"), str(b, "service"), str(b, "name"));
    if (json_is_integer(json_object_get(st, "jobId")))
        printf("  job %lld", (long long)json_integer_value(json_object_get(st, "jobId")));
    if (json_is_integer(json_object_get(st, "bookingId")))
        printf("  booking %lld", (long long)json_integer_value(json_object_get(st, "bookingId")));
    printf("\n");
}

static int list(struct ap_cli *cli, const struct flags *fl)
{
    struct ap_booking_filter f = {
        .state = -1, .scheduler = fl->scheduler, .since = fl->since, .limit = 500};
    struct ap_account a;
    json_t *j = NULL;
    size_t i;
    json_t *b;

    if (ap_account_find(cli->store, cli->pos[1], &a) != AP_OK) {
        fprintf(stderr, "appointd: there is no account named '%s'\n", cli->pos[1]);
        return AP_EXIT_FAILURE;
    }
    if (fl->state && (f.state = ap_booking_state_parse(fl->state)) < 0) {
        fprintf(stderr, "appointd: --state is one of accepted, pushing, booked, needs_attention, "
                        "parked, canceled\n");
        return AP_EXIT_USAGE;
    }
    enum ap_err err = ap_booking_list_json(cli->store, a.id, &f, &j);
    if (err == AP_EINVAL) {
        fprintf(stderr, "appointd: --since expects a date like 2026-03-08\n");
        return AP_EXIT_USAGE;
    }
    if (err) {
        fprintf(stderr, "appointd: the database could not be read\n");
        return AP_EXIT_FAILURE;
    }
    if (cli->json)
        print_json(j);
    else
        json_array_foreach (json_object_get(j, "bookings"), i, b)
            print_row(b);
    json_decref(j);
    return 0;
}

static int show(struct ap_cli *cli, const char *ref)
{
    json_t *j = NULL, *c;
    size_t i;

    if (ap_booking_show_json(cli->store, 0, ref, &j) != AP_OK) {
        fprintf(stderr, "appointd: there is no booking %s\n", ref);
        return AP_EXIT_FAILURE;
    }
    if (cli->json) {
        print_json(j);
    } else {
        print_row(j);
        json_array_foreach (json_object_get(j, "calls"), i, c)
            printf("  %s %s %s → %lld %s%s%s\n", str(c, "at"), str(c, "method"), str(c, "path"),
                   (long long)json_integer_value(json_object_get(c, "status")), str(c, "outcome"),
                   *str(c, "createdIds") ? "  created " : "", str(c, "createdIds"));
        json_t *e = json_object_get(j, "lastError");
        if (json_is_object(e))
            printf("  last error: %s %s (trace %s)\n", str(e, "title"), str(e, "fields"),
                   str(e, "traceId"));
    }
    json_decref(j);
    return 0;
}

static int action(struct ap_cli *cli, const char *verb, const char *ref, const char *note)
{
    enum ap_err err = !strcmp(verb, "retry")     ? ap_booking_retry(cli->store, 0, ref)
                      : !strcmp(verb, "resolve") ? ap_booking_resolve(cli->store, 0, ref, note)
                                                 : ap_booking_cancel(cli->store, 0, ref, note);
    if (err == AP_ENOTFOUND)
        fprintf(stderr, "appointd: there is no booking %s\n", ref);
    else if (err == AP_ECONFLICT)
        fprintf(stderr, "appointd: booking %s is not in a state that allows %s\n", ref, verb);
    else if (err)
        fprintf(stderr, "appointd: the database could not be written\n");
    if (err)
        return AP_EXIT_FAILURE;
    return show(cli, ref);
}

int ap_cmd_booking(int argc, char **argv)
{
    struct flags fl = {0};
    struct ap_cli cli;
    int code;

    if ((argc = take_flags(argc, argv, &fl)) < 0)
        return AP_EXIT_USAGE;
    if ((code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE)))
        return code;
    const char *verb = cli.npos == 2 ? cli.pos[0] : "";
    if (!strcmp(verb, "list"))
        code = list(&cli, &fl);
    else if (!strcmp(verb, "show"))
        code = show(&cli, cli.pos[1]);
    else if (!strcmp(verb, "retry") || !strcmp(verb, "resolve") || !strcmp(verb, "cancel"))
        code = action(&cli, verb, cli.pos[1], fl.note);
    else
        code = usage();
    ap_cli_close(&cli);
    return code;
}
