/*
 * Exemptions (豁免, DESIGN.md "Findings"): an admin or a unit's reviewer
 * records that a finding, or a rule for one case, is lawfully excepted,
 * with reason, approver and expiry. The exemption is its own row, with a
 * lifetime of its own (it expires, or is lifted), and does not touch the
 * finding's state or review; it is audited in finding_reviews and logged
 * in finding_changes like any change of the finding.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

typedef struct target {
    bool found;
    char rule[72], case_id[72], subject[176], unit[16];
} target;

static int target_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    target *t = ud;

    (void)lens;
    (void)ncols;
    t->found = true;
    snprintf(t->rule, sizeof t->rule, "%s", row[0]);
    snprintf(t->case_id, sizeof t->case_id, "%s", row[1]);
    snprintf(t->subject, sizeof t->subject, "%s", row[2]);
    snprintf(t->unit, sizeof t->unit, "%s", row[3]);
    return 0;
}

/* Begin, lock finding id and read its key; CW_ENOTFOUND out of scope. */
static int lock_target(cw_db *db, int64_t id, const char *scope, target *t, cw_err *err)
{
    cw_dbarg key = CW_DBA_I(id);
    int rc;

    if ((rc = cw_db_begin(db, err)) < 0)
        return rc;
    if ((rc = cw_db_pquery(db, "SELECT rule, case_id, subject, unit FROM findings WHERE id = ? FOR UPDATE",
                           &key, 1, target_row, t, err)) < 0)
        return rc;
    if (!t->found || (scope && scope[0] && strncmp(t->unit, scope, strlen(scope)) != 0))
        return cw_err_set(err, CW_ENOTFOUND, "no finding %lld", (long long)id);
    return 0;
}

static int count_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    (void)lens;
    if (ncols > 0 && row[0])
        *(int64_t *)ud = strtoll(row[0], NULL, 10);
    return 0;
}

/* An audit row and a change row for each finding of the rule in the case
 * (whole) or for the finding alone. */
static int audit(cw_db *db, const target *t, bool whole, const char *action, const char *who,
                 const char *comment, cw_time at, cw_err *err)
{
    cw_dbarg a[7] = { CW_DBA_S(action), CW_DBA_S(who), CW_DBA_S(comment ? comment : ""), CW_DBA_I(at),
                      CW_DBA_S(t->rule), CW_DBA_S(t->case_id), CW_DBA_S(t->subject) };
    cw_dbarg c[4] = { CW_DBA_S(action), CW_DBA_S(t->rule), CW_DBA_S(t->case_id), CW_DBA_S(t->subject) };
    int rc;

    if ((rc = cw_db_pexec(db, whole ?
                          "INSERT INTO finding_reviews (finding_id, rule, case_id, subject, action, previous, "
                          "review, who, comment, at) SELECT id, rule, case_id, subject, ?, review, review, ?, ?, "
                          "FROM_UNIXTIME(?) FROM findings WHERE rule = ? AND case_id = ?" :
                          "INSERT INTO finding_reviews (finding_id, rule, case_id, subject, action, previous, "
                          "review, who, comment, at) SELECT id, rule, case_id, subject, ?, review, review, ?, ?, "
                          "FROM_UNIXTIME(?) FROM findings WHERE rule = ? AND case_id = ? AND subject = ?",
                          a, whole ? 6 : 7, NULL, err)) < 0)
        return rc;
    return cw_db_pexec(db, whole ?
                       "INSERT INTO finding_changes (finding_id, rule, case_id, subject, unit, what, from_state, "
                       "to_state, from_review, to_review) SELECT id, rule, case_id, subject, unit, ?, state, "
                       "state, review, review FROM findings WHERE rule = ? AND case_id = ?" :
                       "INSERT INTO finding_changes (finding_id, rule, case_id, subject, unit, what, from_state, "
                       "to_state, from_review, to_review) SELECT id, rule, case_id, subject, unit, ?, state, "
                       "state, review, review FROM findings WHERE rule = ? AND case_id = ? AND subject = ?",
                       c, whole ? 3 : 4, NULL, err);
}

int cw_store_exemption_record(cw_db *db, int64_t id, const char *scope, const cw_exemption_input *in,
                              int64_t *out_id, cw_err *err)
{
    target t = { 0 };
    int64_t n = 0;
    int rc;

    if ((rc = lock_target(db, id, scope, &t, err)) < 0)
        goto fail;
    {
        cw_dbarg a[4] = { CW_DBA_S(t.rule), CW_DBA_S(t.case_id), CW_DBA_S(t.subject), CW_DBA_I(in->at) };
        if ((rc = cw_db_pquery(db, "SELECT COUNT(*) FROM finding_exemptions WHERE rule = ? AND case_id = ? "
                                   "AND (subject IS NULL OR subject = ?) AND lifted_at IS NULL AND expires > ?",
                               a, 4, count_row, &n, err)) < 0)
            goto fail;
    }
    if (n > 0) {
        rc = cw_err_set(err, CW_ECONFLICT, "finding %lld is exempted already: lift that exemption first",
                        (long long)id);
        goto fail;
    }
    {
        cw_dbarg a[10] = { CW_DBA_I(id), CW_DBA_S(t.rule), CW_DBA_S(t.case_id),
                           in->whole_rule ? (cw_dbarg){ .kind = CW_DBA_NULL } : CW_DBA_S(t.subject),
                           CW_DBA_S(t.unit), CW_DBA_S(in->reason), CW_DBA_S(in->approver), CW_DBA_S(in->who),
                           CW_DBA_I(in->at), CW_DBA_I(in->expires) };
        if ((rc = cw_db_pexec(db, "INSERT INTO finding_exemptions (finding_id, rule, case_id, subject, unit, "
                                  "reason, approver, who, at, expires) VALUES (?,?,?,?,?,?,?,?,?,?)",
                              a, 10, NULL, err)) < 0)
            goto fail;
    }
    if (out_id)
        *out_id = (int64_t)cw_db_insert_id(db);
    if ((rc = audit(db, &t, in->whole_rule, "exempt", in->who, in->reason, in->at, err)) < 0)
        goto fail;
    return cw_db_commit(db, err);
fail:
    cw_db_rollback(db);
    return rc;
}

typedef struct lifted {
    size_t n;
    bool whole;
} lifted;

static int lifted_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    lifted *l = ud;

    (void)lens;
    (void)ncols;
    l->n++;
    if (row[1] == NULL)
        l->whole = true;
    return 0;
}

int cw_store_exemption_lift(cw_db *db, int64_t id, const char *scope, const char *who,
                            const char *comment, cw_time at, cw_err *err)
{
    target t = { 0 };
    lifted l = { 0 };
    int rc;

    if ((rc = lock_target(db, id, scope, &t, err)) < 0)
        goto fail;
    {
        cw_dbarg a[4] = { CW_DBA_S(t.rule), CW_DBA_S(t.case_id), CW_DBA_S(t.subject), CW_DBA_I(at) };
        if ((rc = cw_db_pquery(db, "SELECT id, subject FROM finding_exemptions WHERE rule = ? AND case_id = ? "
                                   "AND (subject IS NULL OR subject = ?) AND lifted_at IS NULL AND expires > ? "
                                   "FOR UPDATE", a, 4, lifted_row, &l, err)) < 0)
            goto fail;
    }
    if (l.n == 0) {
        rc = cw_err_set(err, CW_ECONFLICT, "finding %lld has no exemption in force", (long long)id);
        goto fail;
    }
    {
        cw_dbarg a[7] = { CW_DBA_I(at), CW_DBA_S(who), CW_DBA_S(comment ? comment : ""), CW_DBA_S(t.rule),
                          CW_DBA_S(t.case_id), CW_DBA_S(t.subject), CW_DBA_I(at) };
        if ((rc = cw_db_pexec(db, "UPDATE finding_exemptions SET lifted_at = ?, lifted_by = ?, lift_comment = ? "
                                  "WHERE rule = ? AND case_id = ? AND (subject IS NULL OR subject = ?) "
                                  "AND lifted_at IS NULL AND expires > ?", a, 7, NULL, err)) < 0)
            goto fail;
    }
    if ((rc = audit(db, &t, l.whole, "unexempt", who, comment, at, err)) < 0)
        goto fail;
    return cw_db_commit(db, err);
fail:
    cw_db_rollback(db);
    return rc;
}

typedef struct xread {
    cw_store_exemption_fn fn;
    void *ud;
} xread;

static int exemption_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    xread *r = ud;
    cw_store_exemption x;

    (void)lens;
    (void)ncols;
    x.id = strtoll(row[0], NULL, 10);
    x.finding_id = strtoll(row[1], NULL, 10);
    x.rule = row[2];
    x.case_id = row[3];
    x.subject = row[4];
    x.reason = row[5];
    x.approver = row[6];
    x.who = row[7];
    x.at = strtoll(row[8], NULL, 10);
    x.expires = strtoll(row[9], NULL, 10);
    x.lifted_at = row[10] ? strtoll(row[10], NULL, 10) : CW_TIME_NONE;
    x.lifted_by = row[11];
    x.lift_comment = row[12];
    return r->fn(r->ud, &x);
}

int cw_store_exemptions(cw_db *db, int64_t id, cw_store_exemption_fn fn, void *ud, cw_err *err)
{
    xread r = { fn, ud };
    cw_dbarg a = CW_DBA_I(id);

    return cw_db_pquery(db, "SELECT x.id, x.finding_id, x.rule, x.case_id, x.subject, x.reason, x.approver, "
                            "x.who, x.at, x.expires, x.lifted_at, x.lifted_by, x.lift_comment "
                            "FROM findings f JOIN finding_exemptions x ON x.rule = f.rule AND "
                            "x.case_id = f.case_id AND (x.subject IS NULL OR x.subject = f.subject) "
                            "WHERE f.id = ? ORDER BY x.id DESC", &a, 1, exemption_row, &r, err);
}
