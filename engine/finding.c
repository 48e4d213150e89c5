#include "finding.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
#define X(name, text) text,
    CW_STATE_MAP(X)
#undef X
};

const char *cw_state_name(int state)
{
    return state >= 0 && state < CW_ST_COUNT ? state_names[state] : "?";
}

int cw_state_parse(const char *name)
{
    for (int i = 0; i < CW_ST_COUNT; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}

int cw_findings_add(cw_findings *fs, const cw_finding *f)
{
    cw_finding *slot;

    if (fs->n == fs->cap) {
        size_t nc = fs->cap ? fs->cap * 2 : 64;
        cw_finding *nv = realloc(fs->v, nc * sizeof *nv);
        if (nv == NULL)
            return CW_ENOMEM;
        fs->v = nv;
        fs->cap = nc;
    }
    slot = &fs->v[fs->n];
    *slot = *f;
    slot->message = strdup(f->message ? f->message : "");
    if (slot->message == NULL)
        return CW_ENOMEM;
    fs->n++;
    return 0;
}

static int finding_cmp(const void *a, const void *b)
{
    const cw_finding *x = a, *y = b;
    int c;

    if ((c = strcmp(x->case_id, y->case_id)) != 0)
        return c;
    if ((c = strcmp(x->rule, y->rule)) != 0)
        return c;
    return strcmp(x->subject, y->subject);
}

void cw_findings_sort(cw_findings *fs)
{
    if (fs->n > 1)
        qsort(fs->v, fs->n, sizeof *fs->v, finding_cmp);
}

void cw_findings_clear(cw_findings *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->v[i].message);
    free(fs->v);
    fs->v = NULL;
    fs->n = fs->cap = 0;
}

static json_t *time_json(cw_time t, int off_min)
{
    char buf[40];

    if (t == CW_TIME_NONE)
        return json_null();
    cw_time_format(t, off_min, buf, sizeof buf);
    return json_string(buf);
}

int cw_finding_write_json(const cw_finding *f, int off_min, FILE *out)
{
    json_t *o = json_object(), *evs = json_array();
    int rc = 0;

    if (o == NULL || evs == NULL) {
        json_decref(o);
        json_decref(evs);
        return CW_ENOMEM;
    }
    if (f->id != 0)
        json_object_set_new(o, "id", json_integer(f->id));
    json_object_set_new(o, "rule", json_string(f->rule));
    json_object_set_new(o, "case", json_string(f->case_id));
    json_object_set_new(o, "subject", json_string(f->subject));
    json_object_set_new(o, "unit", json_string(f->unit));
    json_object_set_new(o, "severity", json_string(f->severity));
    json_object_set_new(o, "state", json_string(cw_state_name(f->state)));
    json_object_set_new(o, "due", time_json(f->due, off_min));
    json_object_set_new(o, "raised", time_json(f->raised, off_min));
    json_object_set_new(o, "message", json_string(f->message ? f->message : ""));
    json_object_set_new(o, "basis", json_string(f->basis));
    for (uint32_t i = 0; i < f->nevents; i++)
        json_array_append_new(evs, json_string(f->events[i]));
    json_object_set_new(o, "events", evs);
    json_object_set_new(o, "review", json_string("open"));
    if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 ||
        fputc('\n', out) == EOF)
        rc = CW_EIO;
    json_decref(o);
    return rc;
}

/* Display width of UTF-8 text in a terminal: CJK and full-width forms
 * take two columns, everything else one. */
static size_t text_width(const char *s)
{
    size_t w = 0;

    while (*s) {
        unsigned char c = (unsigned char)*s;
        unsigned cp;
        int len;

        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if ((c >> 5) == 6) {
            cp = c & 0x1f;
            len = 2;
        } else if ((c >> 4) == 14) {
            cp = c & 0x0f;
            len = 3;
        } else {
            cp = c & 0x07;
            len = 4;
        }
        for (int i = 1; i < len && s[i]; i++)
            cp = (cp << 6) | ((unsigned char)s[i] & 0x3f);
        for (int i = 0; i < len && *s; i++)
            s++;
        w += (cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                               (cp >= 0xac00 && cp <= 0xd7a3) ||
                               (cp >= 0xf900 && cp <= 0xfaff) ||
                               (cp >= 0xfe30 && cp <= 0xfe4f) ||
                               (cp >= 0xff00 && cp <= 0xff60) ||
                               (cp >= 0xffe0 && cp <= 0xffe6) ||
                               (cp >= 0x20000 && cp <= 0x3fffd))) ? 2 : 1;
    }
    return w;
}

enum { COL_RULE, COL_CASE, COL_SUBJECT, COL_STATE, COL_DUE, COL_MESSAGE, NCOLS };

static void cell(char *buf, size_t size, const cw_finding *f, int col, int off)
{
    switch (col) {
    case COL_RULE: snprintf(buf, size, "%s", f->rule); break;
    case COL_CASE: snprintf(buf, size, "%s", f->case_id); break;
    case COL_SUBJECT: snprintf(buf, size, "%s", f->subject[0] ? f->subject : "-"); break;
    case COL_STATE: snprintf(buf, size, "%s", cw_state_name(f->state)); break;
    case COL_DUE:
        if (f->due == CW_TIME_NONE)
            snprintf(buf, size, "-");
        else
            cw_time_format(f->due, off, buf, size);
        break;
    default: snprintf(buf, size, "%s", f->message ? f->message : ""); break;
    }
}

int cw_findings_write_table(const cw_findings *fs, int off_min, FILE *out)
{
    static const char *const head[NCOLS] = { "RULE", "CASE", "SUBJECT", "STATE", "DUE", "MESSAGE" };
    size_t width[NCOLS];
    char buf[1024];

    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(head[c]);
    for (size_t i = 0; i < fs->n; i++)
        for (int c = 0; c < NCOLS - 1; c++) {
            cell(buf, sizeof buf, &fs->v[i], c, off_min);
            size_t w = text_width(buf);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t i = 0; i <= fs->n; i++) {
        for (int c = 0; c < NCOLS; c++) {
            const char *text = head[c];
            if (i > 0) {
                cell(buf, sizeof buf, &fs->v[i - 1], c, off_min);
                text = buf;
            }
            fputs(text, out);
            if (c < NCOLS - 1)
                fprintf(out, "%*s", (int)(width[c] - text_width(text) + 2), "");
        }
        fputc('\n', out);
    }
    fprintf(out, "%zu finding%s\n", fs->n, fs->n == 1 ? "" : "s");
    return ferror(out) ? CW_EIO : 0;
}
