/*
 * The review lifecycle (DESIGN.md "Findings"): the one table of which
 * action leads from which review to which, and its audited application.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static const cw_review_move moves[] = {
    { "acknowledge", "acknowledged", { "open", "reopened", NULL }, false },
    { "resolve", "resolved", { "open", "acknowledged", "assigned", "reopened", NULL }, true },
    { "dismiss", "dismissed", { "open", "acknowledged", "assigned", "reopened", NULL }, true },
    { "reopen", "reopened", { "acknowledged", "assigned", "resolved", "dismissed", NULL }, true },
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
    return "acknowledge, resolve, dismiss or reopen";
}

static bool allows(const cw_review_move *m, const char *review)
{
    for (int k = 0; m->from[k]; k++)
        if (strcmp(m->from[k], review) == 0)
            return true;
    return false;
}

/* "resolve, dismiss" for a finding under review r. */
static void allowed(const char *r, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NMOVES && n < size; i++)
        if (allows(&moves[i], r))
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
    return r->fn(r->ud, &v);
}

int cw_store_reviews(cw_db *db, int64_t finding_id, cw_store_review_fn fn, void *ud, cw_err *err)
{
    rread r = { fn, ud };
    cw_dbarg a = CW_DBA_I(finding_id);

    return cw_db_pquery(db, "SELECT id, action, previous, review, who, comment, UNIX_TIMESTAMP(at) "
                            "FROM finding_reviews WHERE finding_id = ? ORDER BY id", &a, 1,
                        review_row, &r, err);
}

/* The locked row's key and review, for the audit row. */
typedef struct locked {
    bool found;
    char unit[16], review[16];
    char rule[72], case_id[72], subject[176];
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
    return 0;
}

int cw_store_review_apply(cw_db *db, int64_t id, const char *scope, const cw_review_move *m,
                    const char *who, const char *comment, cw_time at, cw_err *err)
{
    locked l = { 0 };
    cw_dbarg key = CW_DBA_I(id);
    char ok[96];
    int rc;

    if ((rc = cw_db_begin(db, err)) < 0)
        return rc;
    rc = cw_db_pquery(db, "SELECT rule, case_id, subject, unit, review FROM findings WHERE id = ? "
                          "FOR UPDATE", &key, 1, locked_row, &l, err);
    if (rc < 0)
        goto fail;
    if (!l.found || (scope && scope[0] && strncmp(l.unit, scope, strlen(scope)) != 0)) {
        rc = cw_err_set(err, CW_ENOTFOUND, "no finding %lld", (long long)id);
        goto fail;
    }
    if (!allows(m, l.review)) {
        allowed(l.review, ok, sizeof ok);
        rc = cw_err_set(err, CW_ECONFLICT, "a finding under review '%s' cannot be %s (allowed: %s)",
                        l.review, m->to, ok);
        goto fail;
    }
    {
        cw_dbarg a[10] = { CW_DBA_I(id), CW_DBA_S(l.rule), CW_DBA_S(l.case_id), CW_DBA_S(l.subject),
                           CW_DBA_S(m->action), CW_DBA_S(l.review), CW_DBA_S(m->to), CW_DBA_S(who),
                           CW_DBA_S(comment ? comment : ""), CW_DBA_I(at) };
        cw_dbarg b[2] = { CW_DBA_S(m->to), CW_DBA_I(id) };
        if ((rc = cw_db_pexec(db, "INSERT INTO finding_reviews (finding_id, rule, case_id, subject, "
                                  "action, previous, review, who, comment, at) VALUES (?,?,?,?,?,?,?,?,?,"
                                  "FROM_UNIXTIME(?))", a, 10, NULL, err)) < 0 ||
            (rc = cw_db_pexec(db, "UPDATE findings SET review = ? WHERE id = ?", b, 2, NULL, err)) < 0)
            goto fail;
    }
    return cw_db_commit(db, err);
fail:
    cw_db_rollback(db);
    return rc;
}
