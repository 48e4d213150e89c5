/*
 * The checks of a ruleset that need its Lua source and its calendar, run
 * by every load (casewarden check, eval, serve's start and POST
 * /v1/rules/reload alike, so that they agree): names of event types and
 * data fields written in the Lua source (case:events("..."), ev.data.NAME,
 * x.type == "..."), and a calendar without gaps between its years.
 */
#include "rules/ruleset.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/lua/lua.h"
#include "base/util.h"

/* One problem, reported like every other problem of loading. */
static void report(cw_ruleset *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(cw_ruleset *rs, const char *fmt, ...)
{
    cw_err e = { CW_ERULE, "" };
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    cw__ruleset_problem(rs, &e);
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Names after `data.` must be fields some event type declares. */
static int check_fields(cw_ruleset *rs, const char *path, int line, const char *s)
{
    int n = 0;

    for (const char *p = s; (p = strstr(p, "data.")) != NULL; p += 5) {
        char name[65];
        size_t k = 0;
        uint32_t fid;
        if (p > s && (ident_char(p[-1]) || p[-1] == '"' || p[-1] == '\''))
            continue;
        while (ident_char(p[5 + k]) && k < sizeof name - 1) {
            name[k] = p[5 + k];
            k++;
        }
        name[k] = '\0';
        if (k == 0)
            continue;
        fid = cw_strtab_find(rs->world->names, name, k);
        if (fid == UINT32_MAX || !cw_catalogue_knows_field(rs->cat, (int)fid)) {
            report(rs, "%s:%d: data field '%s' is not declared by any event type of the catalogue",
                   path, line, name);
            n++;
        }
    }
    return n;
}

/* String literals given where an event type is expected. */
static int check_types(cw_ruleset *rs, const char *path, int line, const char *s)
{
    static const char *const calls[] = {
        "events(\"", "first(\"", "last(\"", "count(\"", "find(\"", "type == \"", "type ~= \"",
        "type==\"", "type~=\"", NULL
    };
    int n = 0;

    for (int c = 0; calls[c]; c++) {
        size_t cl = strlen(calls[c]);
        for (const char *p = s; (p = strstr(p, calls[c])) != NULL; p += cl) {
            const char *q = p + cl, *end = strchr(q, '"');
            if (end == NULL)
                continue;
            if (cw_catalogue_find(rs->cat, q, (size_t)(end - q)) == NULL) {
                report(rs, "%s:%d: unknown event type '%.*s'", path, line, (int)(end - q), q);
                n++;
            }
        }
    }
    return n;
}

static int lint_file(cw_ruleset *rs, const char *path)
{
    char *buf, *line, *save = NULL;
    size_t len;
    int n = 0, lineno = 0;
    bool in_block = false;

    if (cw_read_file(path, &buf, &len) < 0)
        return 0;
    /* strtok_r would skip empty lines and lose the numbering: split by hand */
    for (line = buf; line != NULL; line = save) {
        char *nl = strchr(line, '\n'), *cm;
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        if (in_block) {
            if (strstr(line, "]]") != NULL)
                in_block = false;
            continue;
        }
        if ((cm = strstr(line, "--")) != NULL) {
            if (strncmp(cm, "--[[", 4) == 0 && strstr(cm, "]]") == NULL)
                in_block = true;
            *cm = '\0';
        }
        n += check_fields(rs, path, lineno, line);
        n += check_types(rs, path, lineno, line);
    }
    free(buf);
    return n;
}

int cw__ruleset_lint(cw_ruleset *rs)
{
    int n = 0, first = 0, last = 0;

    for (size_t i = 0; i < rs->nfiles; i++)
        n += lint_file(rs, cw_lua_path(rs->files[i]));
    /* The calendar: covered years must have no gap between them. */
    for (int y = 1970; y <= 2200; y++)
        if (cw_calendar_covers(rs->cal, y)) {
            if (first == 0)
                first = y;
            else if (y != last + 1) {
                report(rs, "%s/calendar: years %d-%d are missing between %d and %d: due dates "
                       "there would ignore holidays", rs->dir, last + 1, y - 1, last, y);
                n++;
            }
            last = y;
        }
    if (first == 0) {
        report(rs, "%s/calendar: no year is covered", rs->dir);
        n++;
    }
    return n;
}

void cw_ruleset_calendar_note(const cw_ruleset *rs, char *buf, size_t size)
{
    int first = 0, last = 0;

    for (int y = 1970; y <= 2200; y++)
        if (cw_calendar_covers(rs->cal, y)) {
            if (first == 0)
                first = y;
            last = y;
        }
    snprintf(buf, size, "calendar: %d-%d; due dates before %d or after %d are computed with "
             "weekends only", first, last, first, last);
}
