/*
 * GET /v1/reports/quality and /v1/reports/backlog: the figures of
 * engine/report for the caller's scope, as JSON or (format=csv) as a
 * spreadsheet file with Chinese headers.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/timeutil.h"
#include "report/report.h"

/* rules/scoring.yaml of the rules in force, read at every report so a
 * change counts at once; NULL having answered 500. */
static cw_scoring *scoring(req *r)
{
    char *path = cw_path_join(r->a->cfg->rules, "scoring.yaml");
    cw_scoring *sc = NULL;
    cw_err err;

    if (cw_scoring_load(&sc, path, &err) < 0)
        cw_api_error(r, 500, "scoring_unreadable", NULL, "%s", err.msg);
    free(path);
    return sc;
}

static bool day_arg(req *r, const char *name, cw_day *out)
{
    const char *v = cw_api_arg(r, name);

    if (v && cw_day_parse(v, strlen(v), out) == 0)
        return true;
    cw_api_error(r, 400, "bad_request", name, "%s is required: a date, YYYY-MM-DD", name);
    return false;
}

/* format and level, shared by both reports. */
static bool common(req *r, cw_report_opts *o, bool *csv)
{
    const char *fmt = cw_api_arg(r, "format"), *lv = cw_api_arg(r, "level");
    const char *scope = cw_api_scope(r);

    *csv = fmt && strcmp(fmt, "csv") == 0;
    if (fmt && !*csv && strcmp(fmt, "json") != 0) {
        cw_api_error(r, 400, "bad_request", "format", "format is json (the default) or csv");
        return false;
    }
    o->scope = scope;
    o->now = cw_group_now(r->a->g);
    o->tz = cw_group_tz(r->a->g);
    o->level = 6;
    if (lv) {
        if (!cw_api_digits(lv, 2) || atoi(lv) < 2 || atoi(lv) > 12) {
            cw_api_error(r, 400, "bad_request", "level", "level is the length of a unit prefix, 2-12");
            return false;
        }
        o->level = (unsigned)atoi(lv);
    }
    /* a group is never wider than the caller's scope */
    if (scope && strlen(scope) > o->level)
        o->level = (unsigned)strlen(scope);
    return true;
}

static void answer(req *r, cw_buf *b, bool csv, const char *name)
{
    if (csv) {
        r->disposition = cw_xasprintf("attachment; filename=\"%s.csv\"", name);
        cw_api_text(r, 200, "text/csv; charset=utf-8", b->p ? b->p : cw_xstrdup(""), b->n);
    } else {
        cw_buf_puts(b, "\n");
        cw_api_text(r, 200, "application/json; charset=utf-8", b->p, b->n);
    }
}

void cw_api_get_quality(req *r, const char *arg)
{
    (void)arg;
    static const char *const known[] = { "from", "to", "by", "level", "format", NULL };
    const char *by = cw_api_arg(r, "by");
    cw_report_opts o = { 0 };
    cw_report *rp = NULL;
    cw_scoring *sc;
    cw_buf b = { 0 };
    char name[64], f[12], t[12];
    bool csv;
    cw_db *db;
    cw_err err;

    if (!cw_api_known_args(r, known) || !day_arg(r, "from", &o.from) || !day_arg(r, "to", &o.to) ||
        !common(r, &o, &csv))
        return;
    if (o.to < o.from || o.to - o.from > 366 * 3)
        return cw_api_error(r, 400, "bad_request", "to", "the period runs from `from` to `to` (both included), "
                            "at most three years");
    if (cw_report_by_parse(by ? by : "unit", &o.by) < 0)
        return cw_api_error(r, 400, "bad_request", "by", "by is unit (the default), officer or rule");
    if ((sc = scoring(r)) == NULL)
        return;
    if ((db = cw_api_db(r)) == NULL) {
        cw_scoring_free(sc);
        return;
    }
    if (cw_report_quality(db, sc, &o, &rp, &err) < 0) {
        cw_scoring_free(sc);
        return cw_api_db_failed(r, &err);
    }
    if (csv)
        cw_report_csv(rp, &b);
    else
        cw_report_json(rp, &b);
    cw_day_format(o.from, f, sizeof f);
    cw_day_format(o.to, t, sizeof t);
    snprintf(name, sizeof name, "quality-%s-%s-%s", by ? by : "unit", f, t);
    answer(r, &b, csv, name);
    cw_report_free(rp);
    cw_scoring_free(sc);
}

void cw_api_get_backlog(req *r, const char *arg)
{
    (void)arg;
    static const char *const known[] = { "level", "format", NULL };
    cw_report_opts o = { 0 };
    cw_backlog *bl = NULL;
    cw_scoring *sc;
    cw_buf b = { 0 };
    char name[32], day[12];
    bool csv;
    cw_db *db;
    cw_err err;

    if (!cw_api_known_args(r, known) || !common(r, &o, &csv))
        return;
    if ((sc = scoring(r)) == NULL)
        return;
    if ((db = cw_api_db(r)) == NULL) {
        cw_scoring_free(sc);
        return;
    }
    if (cw_report_backlog(db, sc, &o, &bl, &err) < 0) {
        cw_scoring_free(sc);
        return cw_api_db_failed(r, &err);
    }
    if (csv)
        cw_backlog_csv(bl, &b);
    else
        cw_backlog_json(bl, &b);
    cw_day_format(cw_time_day(o.now, o.tz), day, sizeof day);
    snprintf(name, sizeof name, "backlog-%s", day);
    answer(r, &b, csv, name);
    cw_backlog_free(bl);
    cw_scoring_free(sc);
}
