#include "offline/lint.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules/lua/lua.h"
#include "base/util.h"

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Names after `data.` must be fields some event type declares. */
static int check_fields(const cw_ruleset *rs, const char *path, int line, const char *s, FILE *out)
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
            fprintf(out, "%s:%d: data field '%s' is not declared by any event type of the catalogue\n",
                    path, line, name);
            n++;
        }
    }
    return n;
}

/* String literals given where an event type is expected. */
static int check_types(const cw_ruleset *rs, const char *path, int line, const char *s, FILE *out)
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
                fprintf(out, "%s:%d: unknown event type '%.*s'\n", path, line, (int)(end - q), q);
                n++;
            }
        }
    }
    return n;
}

static int lint_file(const cw_ruleset *rs, const char *path, FILE *out)
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
        n += check_fields(rs, path, lineno, line, out);
        n += check_types(rs, path, lineno, line, out);
    }
    free(buf);
    return n;
}

int cw_ruleset_lint(const cw_ruleset *rs, FILE *out, FILE *notes)
{
    int n = 0, first = 0, last = 0;

    for (size_t i = 0; i < rs->nfiles; i++) {
        n += lint_file(rs, cw_lua_path(rs->files[i]), out);
    }
    /* The calendar: covered years must have no gap between them. */
    for (int y = 1970; y <= 2200; y++)
        if (cw_calendar_covers(rs->cal, y)) {
            if (first == 0)
                first = y;
            else if (y != last + 1) {
                fprintf(out, "%s/calendar: years %d-%d are missing between %d and %d: due dates "
                        "there would ignore holidays\n", rs->dir, last + 1, y - 1, last, y);
                n++;
            }
            last = y;
        }
    if (first == 0) {
        fprintf(out, "%s/calendar: no year is covered\n", rs->dir);
        n++;
    } else if (notes != NULL) {
        fprintf(notes, "calendar: %d-%d; due dates before %d or after %d are computed with "
                "weekends only\n", first, last, first, last);
    }
    return n;
}
