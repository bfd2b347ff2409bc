/*
 * stmt_name.c — a short stable name for a SQL statement, for log lines:
 * "insert.sessions", "select.users", "pragma.journal_mode", "commit".
 * Backend-neutral.
 *
 * The name is the statement's verb and the first table it names, both
 * lowercased. It is derived from the SQL text, which never carries values
 * (they are bound), so the same statement always has the same name and a
 * name never leaks data. It is computed only when something is logged.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "db/db_int.h"

/* Longest word copied from the SQL (a verb or an identifier). */
#define WORD_MAX 40

struct scan {
    const char *p;
    int depth; /* parentheses open before p */
};

static bool is_ident(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_' || ch == '$';
}

/* Moves past blanks, "--" and slash-star comments, and string literals. */
static void skip_blank(struct scan *s)
{
    for (;;) {
        while (isspace((unsigned char)*s->p))
            s->p++;
        if (s->p[0] == '-' && s->p[1] == '-') {
            while (*s->p != '\0' && *s->p != '\n')
                s->p++;
        } else if (s->p[0] == '/' && s->p[1] == '*') {
            const char *end = strstr(s->p + 2, "*/");
            s->p = end != NULL ? end + 2 : s->p + strlen(s->p);
        } else {
            return;
        }
    }
}

/*
 * The next word (an identifier, unquoted from "x", `x` or [x]) into w; moves
 * past one punctuation character instead when there is no word there, so a
 * caller always makes progress. False at the end of the SQL.
 */
static bool next_word(struct scan *s, char w[WORD_MAX])
{
    size_t n = 0;
    char close = '\0';

    skip_blank(s);
    w[0] = '\0';
    if (*s->p == '\0')
        return false;
    if (*s->p == '"' || *s->p == '`' || *s->p == '[')
        close = *s->p == '[' ? ']' : *s->p++;
    if (close == ']')
        s->p++;
    while (*s->p != '\0' && (close != '\0' ? *s->p != close : is_ident(*s->p))) {
        if (n + 1 < WORD_MAX)
            w[n++] = (char)tolower((unsigned char)*s->p);
        s->p++;
    }
    if (close != '\0' && *s->p == close)
        s->p++;
    if (n == 0 && close == '\0') {
        s->depth += *s->p == '(' ? 1 : *s->p == ')' ? -1 : 0;
        if (*s->p == '\'') {
            const char *end = strchr(s->p + 1, '\'');
            s->p = end != NULL ? end : s->p + strlen(s->p) - 1;
        }
        s->p++;
    }
    w[n] = '\0';
    return true;
}

/* Words that may stand between a verb and its table. */
static bool is_filler(const char *w)
{
    static const char *const words[] = {"or",       "ignore",  "replace", "abort", "fail",
                                        "rollback", "into",    "table",   "index", "unique",
                                        "if",       "not",     "exists",  "temp",  "temporary",
                                        "view",     "trigger", "virtual", "only"};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(w, words[i]) == 0)
            return true;
    return w[0] == '\0';
}

/* The first word after the keyword kw at the statement's own level. */
static bool word_after(struct scan *s, const char *kw, char w[WORD_MAX])
{
    while (next_word(s, w))
        if (s->depth == 0 && strcmp(w, kw) == 0)
            return next_word(s, w) && w[0] != '\0';
    return false;
}

/* The first word after the verb that is not a filler ("INSERT OR IGNORE INTO t"). */
static bool first_name(struct scan *s, char w[WORD_MAX])
{
    while (next_word(s, w))
        if (!is_filler(w))
            return true;
    return false;
}

char *ap_db_stmt_name(const char *sql, char *out, size_t n)
{
    struct scan s = {.p = sql != NULL ? sql : "", .depth = 0};
    char verb[WORD_MAX], table[WORD_MAX] = "";
    bool named = false;

    if (!next_word(&s, verb) || verb[0] == '\0') {
        snprintf(out, n, "unknown");
        return out;
    }
    if (strcmp(verb, "select") == 0 || strcmp(verb, "delete") == 0)
        named = word_after(&s, "from", table);
    else if (strcmp(verb, "alter") == 0 || strcmp(verb, "insert") == 0 ||
             strcmp(verb, "replace") == 0 || strcmp(verb, "update") == 0 ||
             strcmp(verb, "create") == 0 || strcmp(verb, "drop") == 0 ||
             strcmp(verb, "pragma") == 0 || strcmp(verb, "with") == 0)
        named = first_name(&s, table);
    if (named)
        snprintf(out, n, "%s.%s", verb, table);
    else
        snprintf(out, n, "%s", verb);
    return out;
}
