/*
 * What the quality reports (执法质量考评, 通报) and the backlog (积案) read:
 * findings of a period, and the events that open and close cases. The
 * figures themselves are computed by engine/report.
 */
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"

typedef struct rpread {
    cw_store_report_fn fn;
    void *ud;
} rpread;

static int report_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    rpread *r = ud;
    cw_store_report_row x;

    (void)lens;
    if (ncols < 11)
        return 0;
    x.rule = row[0];
    x.unit = row[1];
    x.severity = row[2];
    x.state = row[3];
    x.review = row[4];
    x.assignee = row[5];
    x.assignee_kind = row[6];
    x.raised = strtoll(row[7], NULL, 10);
    x.due = cw__opt_time(row[8]);
    x.rect_due = cw__opt_time(row[9]);
    x.resolved_at = cw__opt_time(row[10]);
    return r->fn(r->ud, &x);
}

int cw_store_report_rows(cw_db *db, const char *scope, cw_time from, cw_time to, cw_time now,
                         cw_store_report_fn fn, void *ud, cw_err *err)
{
    rpread r = { fn, ud };
    cw__qb b = { 0 };
    int rc;

    cw_buf_puts(&b.sql, "SELECT f.rule, f.unit, f.severity, f.state, f.review, f.assignee, f.assignee_kind,"
                        " f.raised, f.due, f.rect_due, f.resolved_at FROM findings f"
                        " WHERE f.state <> 'withdrawn' AND f.raised >= ? AND f.raised < ?"
                        " AND NOT EXISTS (SELECT 1 FROM finding_exemptions x WHERE " EXEMPT_MATCH ")");
    cw__qb_arg(&b, CW_DBA_I(from));
    cw__qb_arg(&b, CW_DBA_I(to));
    cw__qb_arg(&b, CW_DBA_I(now));
    cw__qb_prefix(&b, "f.unit", scope);
    cw_buf_puts(&b.sql, " ORDER BY f.id");
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, report_row, &r, err);
    cw__qb_free(&b);
    return rc;
}

typedef struct mkread {
    cw_store_casemark_fn fn;
    void *ud;
} mkread;

static int mark_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    mkread *r = ud;

    (void)lens;
    if (ncols < 5 || row[0] == NULL || row[1] == NULL)
        return 0;
    return r->fn(r->ud, row[0], row[1], row[2] ? row[2] : "", row[3] ? row[3] : "", row[4] ? row[4] : "");
}

int cw_store_case_marks(cw_db *db, cw_store_casemark_fn fn, void *ud, cw_err *err)
{
    mkread r = { fn, ud };

    return cw_db_query(db, "SELECT case_id, type, JSON_VALUE(body, '$.unit'), JSON_VALUE(body, '$.at'),"
                           " JSON_VALUE(body, '$.data.kind') FROM events WHERE type IN ('case.accepted',"
                           " 'case.transferred_unit', 'case.decided', 'case.closed', 'case.not_filed',"
                           " 'case.transferred')"
                           " ORDER BY seq", true, mark_row, &r, err);
}
