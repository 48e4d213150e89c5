/*
 * Findings: the inspectors' reads, and the engine's transaction that
 * upserts and withdraws them with its checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* The columns of a finding row, in the order row_finding reads them. */
#define FINDING_COLS \
    "id, rule, case_id, subject, unit, severity, state, due, raised, message, basis, events, review"

typedef struct fread {
    cw_store_finding_fn fn;
    void *ud;
} fread_;

static int finding_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    fread_ *r = ud;
    cw_store_finding f;

    (void)lens;
    if (ncols < 13)
        return 0;
    f.id = strtoll(row[0], NULL, 10);
    f.rule = row[1];
    f.case_id = row[2];
    f.subject = row[3];
    f.unit = row[4];
    f.severity = row[5];
    f.state = row[6];
    f.due = row[7] ? strtoll(row[7], NULL, 10) : CW_TIME_NONE;
    f.raised = strtoll(row[8], NULL, 10);
    f.message = row[9];
    f.basis = row[10];
    f.events = row[11];
    f.review = row[12];
    return r->fn(r->ud, &f);
}

/* A unit prefix as a LIKE pattern (prefixes are digits: nothing to escape). */
static void prefix_arg(cw_buf *b, const char *prefix)
{
    cw_buf_puts(b, prefix);
    cw_buf_put(b, "%", 1);
}

int cw_store_findings(cw_db *db, const cw_finding_query *q, cw_store_finding_fn fn, void *ud,
                      cw_err *err)
{
    fread_ r = { fn, ud };
    cw_buf sql = { 0 }, scope = { 0 }, unit = { 0 };
    cw_dbarg a[16];
    size_t n = 0;
    int rc;

    cw_buf_puts(&sql, "SELECT " FINDING_COLS " FROM findings WHERE id > ?");
    a[n++] = CW_DBA_I(q->after_id);
    if (q->scope && q->scope[0]) {
        prefix_arg(&scope, q->scope);
        cw_buf_puts(&sql, " AND unit LIKE ?");
        a[n++] = CW_DBA_S(scope.p);
    }
    if (q->unit) {
        prefix_arg(&unit, q->unit);
        cw_buf_puts(&sql, " AND unit LIKE ?");
        a[n++] = CW_DBA_S(unit.p);
    }
#define EQ(col, v)                                   \
    if (v) {                                         \
        cw_buf_puts(&sql, " AND " col " = ?");       \
        a[n++] = CW_DBA_S(v);                        \
    }
    EQ("rule", q->rule)
    EQ("case_id", q->case_id)
    EQ("review", q->review)
    EQ("severity", q->severity)
#undef EQ
    if (q->state) {
        cw_buf_puts(&sql, " AND state = ?");
        a[n++] = CW_DBA_S(q->state);
    } else {
        cw_buf_puts(&sql, " AND state <> 'withdrawn'");
    }
#define CMP(col, op, v)                              \
    if ((v) != CW_TIME_NONE) {                       \
        cw_buf_puts(&sql, " AND " col " " op " ?");  \
        a[n++] = CW_DBA_I(v);                        \
    }
    CMP("raised", ">=", q->raised_from)
    CMP("raised", "<=", q->raised_to)
    CMP("due", ">=", q->due_from)
    CMP("due", "<=", q->due_to)
#undef CMP
    cw_buf_puts(&sql, " ORDER BY id LIMIT ?");
    a[n++] = CW_DBA_I(q->limit);
    rc = cw_db_pquery(db, sql.p, a, n, finding_row, &r, err);
    cw_buf_free(&sql);
    cw_buf_free(&scope);
    cw_buf_free(&unit);
    return rc;
}

int cw_store_finding_get(cw_db *db, int64_t id, cw_store_finding_fn fn, void *ud, cw_err *err)
{
    fread_ r = { fn, ud };
    cw_dbarg a = CW_DBA_I(id);

    return cw_db_pquery(db, "SELECT " FINDING_COLS " FROM findings WHERE id = ?", &a, 1,
                        finding_row, &r, err);
}

int cw_store_case_findings(cw_db *db, const char *case_id, cw_store_finding_fn fn, void *ud,
                           cw_err *err)
{
    fread_ r = { fn, ud };
    cw_dbarg a = CW_DBA_S(case_id);

    return cw_db_pquery(db, "SELECT " FINDING_COLS " FROM findings WHERE case_id = ? "
                            "ORDER BY rule, subject", &a, 1, finding_row, &r, err);
}

int cw_store_findings_all(cw_db *db, cw_store_finding_fn fn, void *ud, cw_err *err)
{
    fread_ r = { fn, ud };

    return cw_db_query(db, "SELECT " FINDING_COLS " FROM findings WHERE state <> 'withdrawn'", true,
                       finding_row, &r, err);
}

int cw_store_findings_since_snapshot(cw_db *db, const char *name, cw_store_finding_fn fn, void *ud,
                                     cw_err *err)
{
    fread_ r = { fn, ud };
    cw_dbarg a = CW_DBA_S(name);

    /* a second of margin: the two clocks are the server's, but a flush
     * may commit in the same second as the snapshot */
    return cw_db_pquery(db, "SELECT " FINDING_COLS " FROM findings WHERE updated_at >= "
                            "(SELECT written_at - INTERVAL 1 SECOND FROM engine_snapshot_meta WHERE name = ?)",
                        &a, 1, finding_row, &r, err);
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
    cw_buf sql = { 0 }, pat = { 0 };
    cw_dbarg a[1];
    size_t n = 0;
    int rc;

    cw_buf_puts(&sql, by_rule ? "SELECT rule, state, COUNT(*) FROM findings WHERE state <> 'withdrawn'"
                              : "SELECT state, COUNT(*) FROM findings WHERE state <> 'withdrawn'");
    if (scope && scope[0]) {
        prefix_arg(&pat, scope);
        cw_buf_puts(&sql, " AND unit LIKE ?");
        a[n++] = CW_DBA_S(pat.p);
    }
    cw_buf_puts(&sql, by_rule ? " GROUP BY rule, state" : " GROUP BY state");
    rc = cw_db_pquery(db, sql.p, a, n, count_row, &r, err);
    cw_buf_free(&sql);
    cw_buf_free(&pat);
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
                            " raised, message, basis, events) VALUES ", "(?,?,?,?,?,?,?,?,?,?,?)", 11,
                    " ON DUPLICATE KEY UPDATE"
                    " review = IF(review IN ('resolved','dismissed') AND " RANK("VALUES(state)") " > "
                    RANK("IF(state = 'withdrawn', prior_state, state)") ", 'reopened', review),"
                    " prior_state = NULL, unit = VALUES(unit), severity = VALUES(severity),"
                    " state = VALUES(state), due = VALUES(due), raised = VALUES(raised),"
                    " message = VALUES(message), basis = VALUES(basis), events = VALUES(events)");
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
