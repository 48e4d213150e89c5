/*
 * The backlog (积案, for 执法双清): cases accepted at least the configured
 * age ago and still open (no case.decided, case.closed, case.not_filed
 * nor case.transferred), by unit and age band, each with its open
 * findings.
 * A case belongs to the unit that owns it (the receiving unit of its
 * latest case.transferred_unit, else the unit of its first acceptance).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

typedef struct bcase {
    char *id, *unit, *kind;
    cw_time accepted;
    bool closed;
    unsigned age_days;
    int band;
    cw_buf findings;         /* JSON objects, comma-separated */
    cw_buf summary;          /* "RULE 超期; ..." for CSV and the table */
    size_t nfindings;
} bcase;

typedef struct bgroup {
    char *key;
    uint64_t band[CW_REPORT_MAXBANDS], total;
} bgroup;

struct cw_backlog {
    cw_report_opts o;
    const cw_scoring *sc;
    unsigned age_days, bands[CW_REPORT_MAXBANDS];
    size_t nbands;
    bcase *c;
    size_t nc, capc;
    bgroup *g;
    size_t ng, capg;
};

/* The case of id, made on first sight: cases are few next to events, and
 * the events of one case come together often enough for a last-hit cache. */
static bcase *case_of(cw_backlog *bl, const char *id, size_t *hint)
{
    if (*hint < bl->nc && strcmp(bl->c[*hint].id, id) == 0)
        return &bl->c[*hint];
    for (size_t i = bl->nc; i > 0; i--)
        if (strcmp(bl->c[i - 1].id, id) == 0) {
            *hint = i - 1;
            return &bl->c[i - 1];
        }
    CW_GROW(bl->c, bl->capc, bl->nc + 1);
    memset(&bl->c[bl->nc], 0, sizeof *bl->c);
    bl->c[bl->nc].id = cw_xstrdup(id);
    bl->c[bl->nc].accepted = CW_TIME_NONE;
    *hint = bl->nc;
    return &bl->c[bl->nc++];
}

typedef struct marks {
    cw_backlog *bl;
    size_t hint;
} marks;

static int take_mark(void *ud, const char *case_id, const char *type, const char *unit, const char *at,
                     const char *kind)
{
    marks *m = ud;
    bcase *c = case_of(m->bl, case_id, &m->hint);
    cw_time t;

    if (strcmp(type, "case.accepted") == 0) {
        if (c->accepted == CW_TIME_NONE && cw_time_parse(at, strlen(at), &t, NULL) == 0) {
            c->accepted = t;
            if (c->unit == NULL)
                c->unit = cw_xstrdup(unit);
            free(c->kind);
            c->kind = cw_xstrdup(kind);
        }
    } else if (strcmp(type, "case.transferred_unit") == 0) {
        free(c->unit);
        c->unit = cw_xstrdup(unit);
    } else {
        c->closed = true;
    }
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const bcase *)a)->id, ((const bcase *)b)->id);
}

static bcase *find_case(cw_backlog *bl, const char *id)
{
    bcase key = { 0 };

    key.id = (char *)id;
    return bl->nc ? bsearch(&key, bl->c, bl->nc, sizeof *bl->c, by_id) : NULL;
}

static int take_finding(void *ud, const cw_store_finding *f)
{
    cw_backlog *bl = ud;
    bcase *c = find_case(bl, f->case_id);
    int st = -1;

    if (c == NULL || c->band < 0)
        return 0;
    if (c->nfindings++)
        cw_buf_puts(&c->findings, ","), cw_buf_puts(&c->summary, "; ");
    cw_buf_printf(&c->findings, "{\"id\":%lld,\"rule\":", (long long)f->id);
    cw_buf_json(&c->findings, f->rule, strlen(f->rule));
    cw_buf_printf(&c->findings, ",\"state\":\"%s\",\"review\":\"%s\"}", f->state, f->review);
    for (int i = 0; i < CW_REPORT_NSTATES; i++)
        if (strcmp(cw_report_states[i], f->state) == 0)
            st = i;
    cw_buf_printf(&c->summary, "%s %s", f->rule, st >= 0 ? cw_report_state_names[st] : f->state);
    return 0;
}

static bgroup *group_of(cw_backlog *bl, const char *key)
{
    for (size_t i = 0; i < bl->ng; i++)
        if (strcmp(bl->g[i].key, key) == 0)
            return &bl->g[i];
    CW_GROW(bl->g, bl->capg, bl->ng + 1);
    memset(&bl->g[bl->ng], 0, sizeof *bl->g);
    bl->g[bl->ng].key = cw_xstrdup(key);
    return &bl->g[bl->ng++];
}

static int by_group(const void *a, const void *b)
{
    return strcmp(((const bgroup *)a)->key, ((const bgroup *)b)->key);
}

/* The oldest first. */
static int by_age(const void *a, const void *b)
{
    const bcase *x = a, *y = b;

    if (x->age_days != y->age_days)
        return x->age_days > y->age_days ? -1 : 1;
    return strcmp(x->id, y->id);
}

int cw_report_backlog(cw_db *db, const cw_scoring *sc, const cw_report_opts *o, cw_backlog **out,
                      cw_err *err)
{
    cw_backlog *bl = cw_xcalloc(1, sizeof *bl);
    marks m = { bl, 0 };
    const char *scope = o->scope ? o->scope : "";
    size_t keep = 0;
    int rc;

    *out = NULL;
    bl->o = *o;
    bl->sc = sc;
    bl->age_days = sc->backlog_days;
    bl->nbands = sc->nbands;
    memcpy(bl->bands, sc->bands, sizeof bl->bands);
    if ((rc = cw_store_case_marks(db, take_mark, &m, err)) < 0)
        goto fail;
    cw__sort(bl->c, bl->nc, sizeof *bl->c, by_id);
    for (size_t i = 0; i < bl->nc; i++) {
        bcase *c = &bl->c[i];
        c->band = -1;
        if (c->closed || c->accepted == CW_TIME_NONE || c->unit == NULL ||
            strncmp(c->unit, scope, strlen(scope)) != 0 || o->now < c->accepted)
            continue;
        c->age_days = (unsigned)(cw_time_day(o->now, o->tz) - cw_time_day(c->accepted, o->tz));
        if (c->age_days < bl->age_days)
            continue;
        c->band = 0;
        for (size_t k = 0; k < bl->nbands; k++)
            if (c->age_days >= bl->bands[k])
                c->band = (int)k;
    }
    if ((rc = cw_store_open_findings(db, scope, o->now, take_finding, bl, err)) < 0)
        goto fail;
    /* only the backlog stays */
    for (size_t i = 0; i < bl->nc; i++) {
        if (bl->c[i].band < 0) {
            free(bl->c[i].id);
            free(bl->c[i].unit);
            free(bl->c[i].kind);
            cw_buf_free(&bl->c[i].findings);
            cw_buf_free(&bl->c[i].summary);
            continue;
        }
        bl->c[keep++] = bl->c[i];
    }
    bl->nc = keep;
    cw__sort(bl->c, bl->nc, sizeof *bl->c, by_age);
    for (size_t i = 0; i < bl->nc; i++) {
        char key[16];
        bgroup *g;
        snprintf(key, sizeof key, "%.*s", (int)o->level, bl->c[i].unit);
        g = group_of(bl, key);
        g->band[bl->c[i].band]++;
        g->total++;
    }
    cw__sort(bl->g, bl->ng, sizeof *bl->g, by_group);
    *out = bl;
    return 0;
fail:
    cw_backlog_free(bl);
    return rc;
}

void cw_backlog_free(cw_backlog *bl)
{
    if (bl == NULL)
        return;
    for (size_t i = 0; i < bl->nc; i++) {
        free(bl->c[i].id);
        free(bl->c[i].unit);
        free(bl->c[i].kind);
        cw_buf_free(&bl->c[i].findings);
        cw_buf_free(&bl->c[i].summary);
    }
    free(bl->c);
    for (size_t i = 0; i < bl->ng; i++)
        free(bl->g[i].key);
    free(bl->g);
    free(bl);
}

/* "60-89天", "365天以上" */
static void band_name(const cw_backlog *bl, size_t k, char *buf, size_t size)
{
    if (k + 1 < bl->nbands)
        snprintf(buf, size, "%u-%u天", bl->bands[k], bl->bands[k + 1] - 1);
    else
        snprintf(buf, size, "%u天以上", bl->bands[k]);
}

static const char *kind_name(const char *kind)
{
    return strcmp(kind, "criminal") == 0 ? "刑事" : strcmp(kind, "administrative") == 0 ? "行政" : kind;
}

void cw_backlog_json(const cw_backlog *bl, cw_buf *b)
{
    char name[32], at[32];

    cw_buf_printf(b, "{\"age_days\":%u,\"level\":%u,\"bands\":[", bl->age_days, bl->o.level);
    for (size_t k = 0; k < bl->nbands; k++) {
        band_name(bl, k, name, sizeof name);
        cw_buf_printf(b, "%s{\"from_days\":%u,\"name\":", k ? "," : "", bl->bands[k]);
        cw_buf_json(b, name, strlen(name));
        cw_buf_puts(b, "}");
    }
    cw_buf_puts(b, "],\"groups\":[");
    for (size_t i = 0; i < bl->ng; i++) {
        cw_buf_printf(b, "%s{\"key\":\"%s\",\"total\":%llu,\"bands\":[", i ? "," : "", bl->g[i].key,
                      (unsigned long long)bl->g[i].total);
        for (size_t k = 0; k < bl->nbands; k++)
            cw_buf_printf(b, "%s%llu", k ? "," : "", (unsigned long long)bl->g[i].band[k]);
        cw_buf_puts(b, "]}");
    }
    cw_buf_puts(b, "],\"cases\":[");
    for (size_t i = 0; i < bl->nc; i++) {
        const bcase *c = &bl->c[i];
        cw_time_format(c->accepted, bl->o.tz, at, sizeof at);
        cw_buf_puts(b, i ? ",{\"case\":" : "{\"case\":");
        cw_buf_json(b, c->id, strlen(c->id));
        cw_buf_printf(b, ",\"unit\":\"%s\",\"kind\":", c->unit);
        cw_buf_json(b, c->kind ? c->kind : "", c->kind ? strlen(c->kind) : 0);
        cw_buf_printf(b, ",\"accepted\":\"%s\",\"age_days\":%u,\"band\":%d,\"findings\":[%s]}", at, c->age_days,
                      c->band, c->findings.p ? c->findings.p : "");
    }
    cw_buf_puts(b, "]}");
}

#define BCOLS 7

static void backlog_cells(const cw_backlog *bl, const bcase *c, char cells[BCOLS][64], const char **summary)
{
    band_name(bl, (size_t)c->band, cells[5], 64);
    snprintf(cells[0], 64, "%s", c->id);
    snprintf(cells[1], 64, "%s", c->unit);
    snprintf(cells[2], 64, "%s", kind_name(c->kind ? c->kind : ""));
    cw_time_format(c->accepted, bl->o.tz, cells[3], 64);
    snprintf(cells[4], 64, "%u", c->age_days);
    cells[6][0] = '\0';
    *summary = c->summary.p ? c->summary.p : "";
}

static const char *const bheaders[BCOLS] = {
    "案件编号", "单位", "案件类别", "受案时间", "积压天数", "积压区间", "未销号问题"
};

void cw_backlog_csv(const cw_backlog *bl, cw_buf *b)
{
    char cells[BCOLS][64];
    const char *summary;

    cw_buf_puts(b, "\xef\xbb\xbf");
    for (int i = 0; i < BCOLS; i++)
        cw__csv_field(b, bheaders[i], i == BCOLS - 1);
    for (size_t k = 0; k < bl->nc; k++) {
        backlog_cells(bl, &bl->c[k], cells, &summary);
        for (int i = 0; i < BCOLS - 1; i++)
            cw__csv_field(b, cells[i], false);
        cw__csv_field(b, summary, true);
    }
}

void cw_backlog_table(const cw_backlog *bl, cw_buf *b)
{
    char cells[BCOLS][64], name[32];
    const char *summary;
    size_t w[BCOLS];

    cw_buf_printf(b, "积案 (受案满 %u 天未结)\n", bl->age_days);
    cw__pad(b, "单位", 12, false);
    for (size_t k = 0; k < bl->nbands; k++) {
        band_name(bl, k, name, sizeof name);
        cw_buf_puts(b, "  ");
        cw__pad(b, name, 12, true);
    }
    cw_buf_puts(b, "  ");
    cw__pad(b, "合计", 6, true);
    cw_buf_puts(b, "\n");
    for (size_t i = 0; i < bl->ng; i++) {
        cw__pad(b, bl->g[i].key, 12, false);
        for (size_t k = 0; k < bl->nbands; k++) {
            snprintf(name, sizeof name, "%llu", (unsigned long long)bl->g[i].band[k]);
            cw_buf_puts(b, "  ");
            cw__pad(b, name, 12, true);
        }
        snprintf(name, sizeof name, "%llu", (unsigned long long)bl->g[i].total);
        cw_buf_puts(b, "  ");
        cw__pad(b, name, 6, true);
        cw_buf_puts(b, "\n");
    }
    cw_buf_puts(b, "\n");
    for (int i = 0; i < BCOLS; i++)
        w[i] = cw__display_width(bheaders[i]);
    for (size_t k = 0; k < bl->nc; k++) {
        backlog_cells(bl, &bl->c[k], cells, &summary);
        for (int i = 0; i < BCOLS - 1; i++)
            if (cw__display_width(cells[i]) > w[i])
                w[i] = cw__display_width(cells[i]);
    }
    for (int i = 0; i < BCOLS; i++) {
        cw__pad(b, bheaders[i], i == BCOLS - 1 ? 0 : w[i], false);
        cw_buf_puts(b, i == BCOLS - 1 ? "\n" : "  ");
    }
    for (size_t k = 0; k < bl->nc; k++) {
        backlog_cells(bl, &bl->c[k], cells, &summary);
        for (int i = 0; i < BCOLS - 1; i++) {
            cw__pad(b, cells[i], w[i], i == 4);
            cw_buf_puts(b, "  ");
        }
        cw_buf_puts(b, summary);
        cw_buf_puts(b, "\n");
    }
}
