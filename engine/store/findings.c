/*
 * Findings: the inspectors' reads, and the engine's transaction that
 * upserts and withdraws them with its checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/rows.h"

/* ---- the inspectors' listings ------------------------------------------------------ */

static void in_list(cw__qb *b, const char *col, const cw_strs *l)
{
    if (l->n == 0)
        return;
    cw_buf_printf(&b->sql, " AND %s IN (", col);
    for (size_t i = 0; i < l->n; i++) {
        cw_buf_puts(&b->sql, i ? ",?" : "?");
        cw__qb_arg(b, CW_DBA_S(l->v[i]));
    }
    cw_buf_puts(&b->sql, ")");
}

static void time_cmp(cw__qb *b, const char *col, const char *op, cw_time v)
{
    if (v == CW_TIME_NONE)
        return;
    cw_buf_printf(&b->sql, " AND %s %s ?", col, op);
    cw__qb_arg(b, CW_DBA_I(v));
}

/* What a query asks for, the cursor aside: " AND ..." after a WHERE. */
static void where(cw__qb *b, const cw_finding_query *q)
{
    if (q->scope && q->scope[0]) {
        cw_buf_puts(&b->sql, " AND f.unit LIKE ?");
        cw__qb_prefix_arg(b, q->scope);
    }
    if (q->unit.n > 0) {
        cw_buf_puts(&b->sql, " AND (");
        for (size_t i = 0; i < q->unit.n; i++) {
            cw_buf_puts(&b->sql, i ? " OR f.unit LIKE ?" : "f.unit LIKE ?");
            cw__qb_prefix_arg(b, q->unit.v[i]);
        }
        cw_buf_puts(&b->sql, ")");
    }
    in_list(b, "f.rule", &q->rule);
    in_list(b, "f.case_id", &q->case_id);
    in_list(b, "f.review", &q->review);
    in_list(b, "f.severity", &q->severity);
    in_list(b, "f.assignee", &q->assignee);
    if (q->state.n > 0)
        in_list(b, "f.state", &q->state);
    else
        cw_buf_puts(&b->sql, " AND f.state <> 'withdrawn'");
    time_cmp(b, "f.raised", ">=", q->raised_from);
    time_cmp(b, "f.raised", "<=", q->raised_to);
    time_cmp(b, "f.due", ">=", q->due_from);
    time_cmp(b, "f.due", "<=", q->due_to);
    time_cmp(b, "f.rect_due", ">=", q->rect_due_from);
    time_cmp(b, "f.rect_due", "<=", q->rect_due_to);
    if (q->rect_overdue) {
        cw_buf_puts(&b->sql, " AND f.review = 'assigned' AND f.rect_due < ?");
        cw__qb_arg(b, CW_DBA_I(q->now));
    }
    if (q->exempt != CW_EXEMPT_ANY) {
        cw_buf_puts(&b->sql, q->exempt == CW_EXEMPT_ONLY ? " AND EXISTS" : " AND NOT EXISTS");
        cw_buf_puts(&b->sql, " (SELECT 1 FROM finding_exemptions x WHERE " EXEMPT_MATCH ")");
        cw__qb_arg(b, CW_DBA_I(q->now));
    }
}

/* The sort key of an order: findings without the time last either way. */
static const char *sort_expr(int sort)
{
    switch (sort) {
    case CW_SORT_DUE: return "COALESCE(f.due, 9223372036854775807)";
    case -CW_SORT_DUE: return "COALESCE(f.due, -9223372036854775807)";
    case CW_SORT_RECT_DUE: return "COALESCE(f.rect_due, 9223372036854775807)";
    case -CW_SORT_RECT_DUE: return "COALESCE(f.rect_due, -9223372036854775807)";
    case CW_SORT_RAISED: case -CW_SORT_RAISED: return "f.raised";
    default: return "f.id";
    }
}

int64_t cw_store_sort_key(const cw_store_finding *f, int sort)
{
    cw_time t;

    switch (sort < 0 ? -sort : sort) {
    case CW_SORT_DUE: t = f->due; break;
    case CW_SORT_RECT_DUE: t = f->rect_due; break;
    case CW_SORT_RAISED: return f->raised;
    default: return f->id;
    }
    if (t == CW_TIME_NONE)
        return sort > 0 ? INT64_MAX : -INT64_MAX;
    return t;
}

int cw_store_findings(cw_db *db, const cw_finding_query *q, cw_store_finding_fn fn, void *ud,
                      cw_err *err)
{
    cw__fread r = { fn, ud };
    cw__qb b = { 0 };
    const char *key = sort_expr(q->sort);
    int rc;

    cw_buf_puts(&b.sql, "SELECT " API_COLS " FROM findings f WHERE 1");
    cw__qb_arg(&b, CW_DBA_I(q->now));
    where(&b, q);
    if (q->sort == CW_SORT_ID) {
        cw_buf_puts(&b.sql, " AND f.id > ? ORDER BY f.id");
        cw__qb_arg(&b, CW_DBA_I(q->after_id));
    } else {
        if (q->after_id > 0) {
            cw_buf_printf(&b.sql, " AND (%s %s ? OR (%s = ? AND f.id > ?))", key, q->sort > 0 ? ">" : "<",
                          key);
            cw__qb_arg(&b, CW_DBA_I(q->after_key));
            cw__qb_arg(&b, CW_DBA_I(q->after_key));
            cw__qb_arg(&b, CW_DBA_I(q->after_id));
        }
        cw_buf_printf(&b.sql, " ORDER BY %s %s, f.id", key, q->sort > 0 ? "ASC" : "DESC");
    }
    cw_buf_puts(&b.sql, " LIMIT ?");
    cw__qb_arg(&b, CW_DBA_I(q->limit));
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, cw__finding_row, &r, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_findings_total(cw_db *db, const cw_finding_query *q, uint64_t *n, cw_err *err)
{
    cw__qb b = { 0 };
    int rc;

    *n = 0;
    cw_buf_puts(&b.sql, "SELECT COUNT(*) FROM findings f WHERE 1");
    where(&b, q);
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, cw__count_row, n, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_findings_facet(cw_db *db, const cw_finding_query *q, const char *by,
                            cw_store_facet_fn fn, void *ud, cw_err *err)
{
    static const char *const cols[] = { "rule", "unit", "state", "review", "severity", NULL };
    cw__facet f = { fn, ud };
    cw__qb b = { 0 };
    int i, rc;

    for (i = 0; cols[i] && strcmp(cols[i], by) != 0; i++)
        ;
    if (cols[i] == NULL)
        return cw_err_set(err, CW_EINVAL, "no counts by '%s'", by);
    /* the column's name is one of ours, never the caller's text */
    cw_buf_printf(&b.sql, "SELECT f.%s, COUNT(*) FROM findings f WHERE 1", cols[i]);
    where(&b, q);
    cw_buf_printf(&b.sql, " GROUP BY f.%s ORDER BY f.%s", cols[i], cols[i]);
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, cw__facet_row, &f, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_finding_get(cw_db *db, int64_t id, cw_time now, cw_store_finding_fn fn, void *ud,
                         cw_err *err)
{
    cw__fread r = { fn, ud };
    cw_dbarg a[2] = { CW_DBA_I(now), CW_DBA_I(id) };

    return cw_db_pquery(db, "SELECT " API_COLS " FROM findings f WHERE f.id = ?", a, 2, cw__finding_row,
                        &r, err);
}

int cw_store_case_findings(cw_db *db, const char *case_id, cw_time now, cw_store_finding_fn fn,
                           void *ud, cw_err *err)
{
    cw__fread r = { fn, ud };
    cw_dbarg a[2] = { CW_DBA_I(now), CW_DBA_S(case_id) };

    return cw_db_pquery(db, "SELECT " API_COLS " FROM findings f WHERE f.case_id = ? "
                            "ORDER BY f.rule, f.subject", a, 2, cw__finding_row, &r, err);
}

int cw_store_open_findings(cw_db *db, const char *scope, cw_time now, cw_store_finding_fn fn,
                           void *ud, cw_err *err)
{
    cw__fread r = { fn, ud };
    cw__qb b = { 0 };
    int rc;

    cw_buf_puts(&b.sql, "SELECT " API_COLS " FROM findings f WHERE f.state NOT IN ('withdrawn','cleared')"
                        " AND f.review NOT IN ('resolved','dismissed')"
                        " AND NOT EXISTS (SELECT 1 FROM finding_exemptions x WHERE " EXEMPT_MATCH ")");
    cw__qb_arg(&b, CW_DBA_I(now));
    cw__qb_arg(&b, CW_DBA_I(now));
    if (scope && scope[0]) {
        cw_buf_puts(&b.sql, " AND f.unit LIKE ?");
        cw__qb_prefix_arg(&b, scope);
    }
    cw_buf_puts(&b.sql, " ORDER BY f.case_id, f.id");
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, cw__finding_row, &r, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_findings_all(cw_db *db, cw_store_finding_fn fn, void *ud, cw_err *err)
{
    cw__fread r = { fn, ud };

    return cw_db_query(db, "SELECT " FINDING_COLS " FROM findings WHERE state <> 'withdrawn'", true,
                       cw__finding_row, &r, err);
}

int cw_store_findings_since_snapshot(cw_db *db, const char *name, cw_store_finding_fn fn, void *ud,
                                     cw_err *err)
{
    cw__fread r = { fn, ud };
    cw_dbarg a = CW_DBA_S(name);

    /* a second of margin: the two clocks are the server's, but a flush
     * may commit in the same second as the snapshot */
    return cw_db_pquery(db, "SELECT " FINDING_COLS " FROM findings WHERE updated_at >= "
                            "(SELECT written_at - INTERVAL 1 SECOND FROM engine_snapshot_meta WHERE name = ?)",
                        &a, 1, cw__finding_row, &r, err);
}

typedef struct cread {
    cw_store_count_fn fn;
    void *ud;
    bool by_rule;
} cread;

static int count_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    cread *r = ud;

    (void)lens;
    (void)ncols;
    if (r->by_rule)
        return r->fn(r->ud, row[0], row[1], strtoull(row[2], NULL, 10));
    return r->fn(r->ud, NULL, row[0], strtoull(row[1], NULL, 10));
}

int cw_store_count_findings(cw_db *db, const char *scope, bool by_rule, cw_store_count_fn fn,
                            void *ud, cw_err *err)
{
    cread r = { fn, ud, by_rule };
    cw__qb b = { 0 };
    int rc;

    cw_buf_puts(&b.sql, by_rule ? "SELECT f.rule, f.state, COUNT(*) FROM findings f WHERE f.state <> 'withdrawn'"
                                : "SELECT f.state, COUNT(*) FROM findings f WHERE f.state <> 'withdrawn'");
    if (scope && scope[0]) {
        cw_buf_puts(&b.sql, " AND f.unit LIKE ?");
        cw__qb_prefix_arg(&b, scope);
    }
    cw_buf_puts(&b.sql, by_rule ? " GROUP BY f.rule, f.state" : " GROUP BY f.state");
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, count_row, &r, err);
    cw__qb_free(&b);
    return rc;
}

/* ---- the engine's transaction ---------------------------------------------------- */

struct cw_store_tx {
    cw_db *db;
    cw_dbbatch up, wd, pr, im;   /* statements being built */
    uint64_t puts, withdrawals;
    int rc;                  /* the first failure */
    cw_err err;
};

/* A state's rank: how bad the rules' judgement is. A resolved or
 * dismissed finding whose state rises in it is reopened. */
#define RANK(x) "FIELD(" x ",'withdrawn','cleared','anomaly','warning','late','violation','overdue')"

cw_store_tx *cw_store_tx_begin(cw_db *db, cw_err *err)
{
    cw_store_tx *t;

    if (cw_db_begin(db, err) < 0)
        return NULL;
    t = cw_xcalloc(1, sizeof *t);
    t->db = db;
    cw_dbbatch_init(&t->up, "INSERT INTO findings (rule, case_id, subject, unit, severity, state, due,"
                            " raised, message, basis, events, lead, rule_version, program, override_unit,"
                            " override_at) VALUES ", "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", 16,
                    " ON DUPLICATE KEY UPDATE"
                    " review = IF(review IN ('resolved','dismissed') AND " RANK("VALUES(state)") " > "
                    RANK("IF(state = 'withdrawn', prior_state, state)") ", 'reopened', review),"
                    " prior_state = NULL, unit = VALUES(unit), severity = VALUES(severity),"
                    " state = VALUES(state), due = VALUES(due), raised = VALUES(raised),"
                    " message = VALUES(message), basis = VALUES(basis), events = VALUES(events),"
                    " lead = VALUES(lead), rule_version = VALUES(rule_version),"
                    " program = VALUES(program), override_unit = VALUES(override_unit),"
                    " override_at = VALUES(override_at)");
    cw_dbbatch_init(&t->wd, "UPDATE findings SET prior_state = state, state = 'withdrawn'"
                            " WHERE (rule, case_id, subject) IN (", "(?,?,?)", 3,
                    ") AND state <> 'withdrawn'");
    cw_dbbatch_init(&t->pr, "INSERT IGNORE INTO event_problems (seq, event_id, field, message) VALUES ",
                    "(?,?,?,?)", 4, NULL);
    cw_dbbatch_init(&t->im, "INSERT INTO case_state (case_id, gseq, image) VALUES ", "(?,?,?)", 3,
                    " ON DUPLICATE KEY UPDATE gseq = VALUES(gseq), image = VALUES(image)");
    return t;
}

static void str(cw_dbbatch *b, const char *s)
{
    cw_dbbatch_str(b, s, strlen(s));
}

/* The row is complete: send when the batch is full, keep the first error. */
static int row_done(cw_store_tx *t, cw_dbbatch *b)
{
    if (t->rc == 0)
        t->rc = cw_dbbatch_row(t->db, b, &t->err);
    return t->rc;
}

int cw_store_tx_put(cw_store_tx *t, const cw_store_put *f)
{
    cw_dbbatch *b = &t->up;

    str(b, f->rule);
    str(b, f->case_id);
    str(b, f->subject);
    str(b, f->unit);
    str(b, f->severity);
    str(b, f->state);
    if (f->due == CW_TIME_NONE)
        cw_dbbatch_null(b);
    else
        cw_dbbatch_int(b, f->due);
    cw_dbbatch_int(b, f->raised);
    str(b, f->message);
    str(b, f->basis);
    str(b, f->events);
    if (f->lead > 0)
        cw_dbbatch_int(b, f->lead);
    else
        cw_dbbatch_null(b);
    f->rule_version ? str(b, f->rule_version) : cw_dbbatch_null(b);
    f->program ? str(b, f->program) : cw_dbbatch_null(b);
    f->override_unit ? str(b, f->override_unit) : cw_dbbatch_null(b);
    f->override_at ? str(b, f->override_at) : cw_dbbatch_null(b);
    t->puts++;
    return row_done(t, b);
}

int cw_store_tx_withdraw(cw_store_tx *t, const char *rule, const char *case_id, const char *subject)
{
    str(&t->wd, rule);
    str(&t->wd, case_id);
    str(&t->wd, subject);
    t->withdrawals++;
    return row_done(t, &t->wd);
}

int cw_store_tx_problem(cw_store_tx *t, uint64_t seq, const char *id, const char *field,
                        const char *msg)
{
    cw_dbbatch_int(&t->pr, (int64_t)seq);
    if (id && id[0])
        str(&t->pr, id);
    else
        cw_dbbatch_null(&t->pr);
    str(&t->pr, field);
    str(&t->pr, msg);
    return row_done(t, &t->pr);
}

int cw_store_tx_case_image(cw_store_tx *t, const char *case_id, uint64_t gseq, const void *image,
                           size_t len)
{
    str(&t->im, case_id);
    cw_dbbatch_int(&t->im, (int64_t)gseq);
    cw_dbbatch_blob(&t->im, image, len);
    return row_done(t, &t->im);
}

int cw_store_tx_checkpoint(cw_store_tx *t, const char *engine, uint64_t seq)
{
    cw_dbarg a[2] = { CW_DBA_S(engine), CW_DBA_I(seq) };

    if (t->rc < 0)
        return t->rc;
    t->rc = cw_db_pexec(t->db, "INSERT INTO engine_checkpoint (name, seq) VALUES (?, ?) "
                               "ON DUPLICATE KEY UPDATE seq = VALUES(seq)", a, 2, NULL, &t->err);
    return t->rc;
}

int cw_store_tx_fence(cw_store_tx *t, const char *me, const unsigned *parts, const uint64_t *tokens,
                      const uint64_t *ckpts, size_t n, int64_t now)
{
    uint64_t changed = 0;
    cw_dbbatch b;

    if (t->rc < 0)
        return t->rc;
    if ((t->rc = cw__leases_touch(t->db, "writes = writes + 1", 0, me, parts, tokens, n, now, &changed,
                                  &t->err)) < 0)
        return t->rc;
    if (changed != n)
        return t->rc = cw_err_set(&t->err, CW_ELEASE, "%zu of the %zu partition leases of engine %s "
                                  "are no longer its own: it steps down", n - (size_t)changed, n, me);
    /* the leases are mine in this transaction: the checkpoints go with it */
    cw_dbbatch_init(&b, "INSERT INTO partition_leases (part, ckpt) VALUES ", "(?,?)", 2,
                    " ON DUPLICATE KEY UPDATE ckpt = VALUES(ckpt)");
    for (size_t i = 0; i < n && t->rc == 0; i++) {
        cw_dbbatch_int(&b, parts[i]);
        cw_dbbatch_int(&b, (int64_t)ckpts[i]);
        t->rc = cw_dbbatch_row(t->db, &b, &t->err);
    }
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &b, &t->err);
    cw_dbbatch_free(&b);
    return t->rc;
}

static void tx_free(cw_store_tx *t)
{
    cw_dbbatch_free(&t->up);
    cw_dbbatch_free(&t->wd);
    cw_dbbatch_free(&t->pr);
    cw_dbbatch_free(&t->im);
    free(t);
}

int cw_store_tx_commit(cw_store_tx *t, cw_err *err)
{
    int rc;

    /* puts before withdrawals: a key is never both in one flush */
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->up, &t->err);
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->wd, &t->err);
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->pr, &t->err);
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->im, &t->err);
    if ((rc = t->rc) == 0)
        rc = cw_db_commit(t->db, &t->err);
    if (rc < 0) {
        cw_db_rollback(t->db);
        if (err)
            *err = t->err;
    }
    tx_free(t);
    return rc;
}

void cw_store_tx_abort(cw_store_tx *t)
{
    if (t == NULL)
        return;
    cw_db_rollback(t->db);
    tx_free(t);
}

uint64_t cw_store_tx_puts(const cw_store_tx *t)
{
    return t->puts;
}

uint64_t cw_store_tx_withdrawals(const cw_store_tx *t)
{
    return t->withdrawals;
}
