/*
 * The change log: finding_changes, one row for every change of a
 * finding's state, review, unit or assignment (written by triggers on
 * findings, whoever wrote the finding) and for every exemption recorded
 * or lifted (written by exemptions.c). Its id only grows: the stream's
 * event id, and the position an outbox can keep.
 */
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"

typedef struct chread {
    cw_store_change_fn fn;
    void *ud;
} chread;

static int change_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    chread *r = ud;
    cw_store_change c;

    (void)lens;
    if (ncols < API_NCOLS + 7)
        return 0;
    cw__finding_cols(row, ncols, &c.f);
    c.id = strtoll(row[API_NCOLS], NULL, 10);
    c.what = row[API_NCOLS + 1];
    c.from_state = row[API_NCOLS + 2];
    c.to_state = row[API_NCOLS + 3];
    c.from_review = row[API_NCOLS + 4];
    c.to_review = row[API_NCOLS + 5];
    c.at = strtoll(row[API_NCOLS + 6], NULL, 10);
    return r->fn(r->ud, &c);
}

int cw_store_changes(cw_db *db, int64_t after, const char *scope, cw_time now, unsigned limit,
                     cw_store_change_fn fn, void *ud, cw_err *err)
{
    chread r = { fn, ud };
    cw__qb b = { 0 };
    int rc;

    cw_buf_puts(&b.sql, "SELECT " API_COLS ", c.id, c.what, c.from_state, c.to_state, c.from_review, "
                        "c.to_review, UNIX_TIMESTAMP(c.at) FROM finding_changes c "
                        "JOIN findings f ON f.id = c.finding_id WHERE c.id > ?");
    cw__qb_arg(&b, CW_DBA_I(now));
    cw__qb_arg(&b, CW_DBA_I(after));
    cw__qb_prefix(&b, "c.unit", scope);
    cw_buf_puts(&b.sql, " ORDER BY c.id LIMIT ?");
    cw__qb_arg(&b, CW_DBA_I(limit));
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, change_row, &r, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_changes_max(cw_db *db, int64_t *out, cw_err *err)
{
    return cw_db_scalar(db, "SELECT COALESCE(MAX(id), 0) FROM finding_changes", out, err);
}
