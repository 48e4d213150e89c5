/*
 * The review lifecycle (DESIGN.md "Findings"): the one table of which
 * action leads from which review to which, and its audited application.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* The rectification loop: acknowledge, assign to a unit or officer with
 * a due date (again to change either), resolve (销号) or dismiss, reopen.
 * The engine reopens a resolved or dismissed finding that gets worse
 * (findings.c); exemptions are not moves, they have their own lifetime
 * (exemptions.c). */
static const cw_review_move moves[] = {
    { "acknowledge", "acknowledged", { "open", "reopened", NULL }, false, false },
    { "assign", "assigned", { "open", "acknowledged", "assigned", "reopened", NULL }, false, true },
    { "resolve", "resolved", { "open", "acknowledged", "assigned", "reopened", NULL }, true, false },
    { "dismiss", "dismissed", { "open", "acknowledged", "assigned", "reopened", NULL }, true, false },
    { "reopen", "reopened", { "acknowledged", "assigned", "resolved", "dismissed", NULL }, true, false },
};

#define NMOVES (sizeof moves / sizeof *moves)

const cw_review_move *cw_review_move_find(const char *action)
{
    for (size_t i = 0; action && i < NMOVES; i++)
        if (strcmp(moves[i].action, action) == 0)
            return &moves[i];
    return NULL;
}

const char *cw_review_actions(void)
{
    return "acknowledge, assign, resolve, dismiss or reopen";
}

static bool allows(const cw_review_move *m, const char *review)
{
    for (int k = 0; m->from[k]; k++)
        if (strcmp(m->from[k], review) == 0)
            return true;
    return false;
}

void cw_review_allowed(const char *review, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NMOVES && n < size; i++)
        if (allows(&moves[i], review))
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", moves[i].action);
    if (buf[0] == '\0')
        snprintf(buf, size, "none");
}

typedef struct rread {
    cw_store_review_fn fn;
    void *ud;
} rread;

static int review_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    rread *r = ud;
    cw_store_review v;

    (void)lens;
    (void)ncols;
    v.id = strtoll(row[0], NULL, 10);
    v.action = row[1];
    v.from = row[2];
    v.to = row[3];
    v.who = row[4];
    v.comment = row[5];
    v.at = strtoll(row[6], NULL, 10);
    v.assignee = row[7];
    v.assignee_kind = row[8];
    v.rect_due = row[9] ? strtoll(row[9], NULL, 10) : CW_TIME_NONE;
    v.evidence = row[10];
    return r->fn(r->ud, &v);
}

int cw_store_reviews(cw_db *db, int64_t finding_id, cw_store_review_fn fn, void *ud, cw_err *err)
{
    rread r = { fn, ud };
    cw_dbarg a = CW_DBA_I(finding_id);

    return cw_db_pquery(db, "SELECT id, action, previous, review, who, comment, UNIX_TIMESTAMP(at), "
                            "assignee, assignee_kind, rect_due, evidence "
                            "FROM finding_reviews WHERE finding_id = ? ORDER BY id", &a, 1,
                        review_row, &r, err);
}

/* The locked row's key and review, for the audit row. */
typedef struct locked {
    bool found;
    char unit[16], review[16];
    char rule[72], case_id[72], subject[176];
    cw_time rect_due;
} locked;

static int locked_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    locked *l = ud;

    (void)lens;
    (void)ncols;
    l->found = true;
    snprintf(l->rule, sizeof l->rule, "%s", row[0]);
    snprintf(l->case_id, sizeof l->case_id, "%s", row[1]);
    snprintf(l->subject, sizeof l->subject, "%s", row[2]);
    snprintf(l->unit, sizeof l->unit, "%s", row[3]);
    snprintf(l->review, sizeof l->review, "%s", row[4]);
    l->rect_due = row[5] ? strtoll(row[5], NULL, 10) : CW_TIME_NONE;
    return 0;
}

static cw_dbarg opt_str(const char *s)
{
    return s ? CW_DBA_S(s) : (cw_dbarg){ .kind = CW_DBA_NULL };
}

static cw_dbarg opt_time(cw_time t)
{
    return t != CW_TIME_NONE ? CW_DBA_I(t) : (cw_dbarg){ .kind = CW_DBA_NULL };
}

int cw_store_review_apply(cw_db *db, int64_t id, const char *scope, const cw_review_move *m,
                          const cw_review_input *in, cw_err *err)
{
    locked l = { 0 };
    cw_dbarg key = CW_DBA_I(id);
    char ok[96];
    int rc;

    if ((rc = cw_db_begin(db, err)) < 0)
        return rc;
    rc = cw_db_pquery(db, "SELECT rule, case_id, subject, unit, review, rect_due FROM findings "
                          "WHERE id = ? FOR UPDATE", &key, 1, locked_row, &l, err);
    if (rc < 0)
        goto fail;
    if (!l.found || (scope && scope[0] && strncmp(l.unit, scope, strlen(scope)) != 0)) {
        rc = cw_err_set(err, CW_ENOTFOUND, "no finding %lld", (long long)id);
        goto fail;
    }
    if (!allows(m, l.review)) {
        cw_review_allowed(l.review, ok, sizeof ok);
        rc = cw_err_set(err, CW_ECONFLICT, "a finding under review '%s' cannot be %s (allowed: %s)",
                        l.review, m->to, ok);
        goto fail;
    }
    {
        /* a resolve keeps the rectification due it met (or missed) on its
         * audit row, for the reports */
        cw_time rect_due = m->assign ? in->rect_due : l.rect_due;
        cw_dbarg a[14] = { CW_DBA_I(id), CW_DBA_S(l.rule), CW_DBA_S(l.case_id), CW_DBA_S(l.subject),
                           CW_DBA_S(m->action), CW_DBA_S(l.review), CW_DBA_S(m->to), CW_DBA_S(in->who),
                           CW_DBA_S(in->comment ? in->comment : ""), CW_DBA_I(in->at),
                           opt_str(m->assign ? in->assignee : NULL),
                           opt_str(m->assign ? in->assignee_kind : NULL), opt_time(rect_due),
                           opt_str(in->evidence) };
        if ((rc = cw_db_pexec(db, "INSERT INTO finding_reviews (finding_id, rule, case_id, subject, "
                                  "action, previous, review, who, comment, at, assignee, assignee_kind, "
                                  "rect_due, evidence) VALUES (?,?,?,?,?,?,?,?,?,FROM_UNIXTIME(?),?,?,?,?)",
                              a, 14, NULL, err)) < 0)
            goto fail;
    }
    if (m->assign) {
        cw_dbarg b[5] = { CW_DBA_S(m->to), CW_DBA_S(in->assignee), CW_DBA_S(in->assignee_kind),
                          CW_DBA_I(in->rect_due), CW_DBA_I(id) };
        rc = cw_db_pexec(db, "UPDATE findings SET review = ?, assignee = ?, assignee_kind = ?, "
                             "rect_due = ? WHERE id = ?", b, 5, NULL, err);
    } else {
        /* resolved_at: the time of the 销号; a trigger clears it when the
         * review moves on */
        cw_dbarg b[3] = { CW_DBA_S(m->to), opt_time(strcmp(m->to, "resolved") == 0 ? in->at : CW_TIME_NONE),
                          CW_DBA_I(id) };
        rc = cw_db_pexec(db, "UPDATE findings SET review = ?, resolved_at = ? WHERE id = ?", b, 3, NULL,
                         err);
    }
    if (rc < 0)
        goto fail;
    return cw_db_commit(db, err);
fail:
    cw_db_rollback(db);
    return rc;
}
