/*
 * Notifications: the outbox the change log feeds (by trigger, in the
 * finding's own transaction), the items and messages routing makes of
 * it, delivery attempts, escalation ladders, and the reads of the API.
 */
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"

static int64_t i64(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* ---- the outbox --------------------------------------------------------------------- */

typedef struct oread {
    cw_store_outbox_fn fn;
    void *ud;
} oread;

static int outbox_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    oread *r = ud;
    cw_store_outbox_row o;

    (void)lens;
    if (ncols < 8 + 19)
        return 0;
    o.id = i64(row[0]);
    o.change_id = i64(row[1]);
    o.what = row[2];
    o.from_state = row[3];
    o.to_state = row[4];
    o.from_review = row[5];
    o.to_review = row[6];
    o.at_ms = i64(row[7]);
    cw__finding_cols(row + 8, ncols - 8, &o.f);
    return r->fn(r->ud, &o);
}

int cw_store_outbox(cw_db *db, cw_time now, unsigned limit, cw_store_outbox_fn fn, void *ud,
                    cw_err *err)
{
    oread r = { fn, ud };
    cw_dbarg a[2] = { CW_DBA_I(now), CW_DBA_I(limit) };

    return cw_db_pquery(db, "SELECT o.id, o.change_id, o.what, o.from_state, o.to_state, o.from_review,"
                            " o.to_review, CAST(UNIX_TIMESTAMP(o.at) * 1000 AS SIGNED), " API_COLS
                            " FROM notify_outbox o JOIN findings f ON f.id = o.finding_id"
                            " ORDER BY o.id LIMIT ?", a, 2, outbox_row, &r, err);
}

int cw_store_outbox_count(cw_db *db, int64_t *n, cw_err *err)
{
    return cw_db_scalar(db, "SELECT COUNT(*) FROM notify_outbox", n, err);
}

/* ---- routing's transaction ------------------------------------------------------------- */

struct cw_store_ntx {
    cw_db *db;
    cw_dbbatch done;         /* outbox rows consumed */
    cw_dbbatch msgs, items;  /* messages of their own, rendered, and their items */
    int rc;
    cw_err err;
};

cw_store_ntx *cw_store_ntx_begin(cw_db *db, cw_err *err)
{
    cw_store_ntx *t;

    if (cw_db_begin(db, err) < 0)
        return NULL;
    t = cw_xcalloc(1, sizeof *t);
    t->db = db;
    cw_dbbatch_init(&t->done, "DELETE FROM notify_outbox WHERE id IN (", "?", 1, ")");
    /* IGNORE: routed before a crash, the same keys are there already */
    cw_dbbatch_init(&t->msgs, "INSERT IGNORE INTO notify_messages (msg_key, receiver, group_key, ladder, level,"
                              " status, items, next_ms, created_ms, body, not_before) VALUES ",
                    "(?,?,'',?,?,?,1,?,?,?,?)", 9, NULL);
    cw_dbbatch_init(&t->items, "INSERT IGNORE INTO notify_items (item_key, msg_key, finding_id, transition,"
                               " created_ms) VALUES ", "(?,?,?,?,?)", 5, NULL);
    return t;
}

int cw_store_ntx_fence(cw_store_ntx *t, const char *me, unsigned part, uint64_t token, int64_t now)
{
    bool held = false;

    if (t->rc < 0)
        return t->rc;
    if ((t->rc = cw_store_lease_fence(t->db, me, part, token, now, &held, &t->err)) < 0)
        return t->rc;
    if (!held)
        t->rc = cw_err_set(&t->err, CW_ELEASE, "the lease of partition %u is no longer engine %s's", part, me);
    return t->rc;
}

static int first_str(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    (void)lens;
    if (ncols > 0 && row[0])
        *(char **)ud = cw_xstrdup(row[0]);
    return 0;
}

static int first_id(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    (void)lens;
    if (ncols > 0 && row[0])
        *(int64_t *)ud = i64(row[0]);
    return 0;
}

static void bstr(cw_dbbatch *b, const char *s)
{
    if (s)
        cw_dbbatch_str(b, s, strlen(s));
    else
        cw_dbbatch_null(b);
}

/* A message of its own, rendered: rows in the batches. */
static int item_alone(cw_store_ntx *t, const cw_store_nitem *it)
{
    bstr(&t->msgs, it->key);
    bstr(&t->msgs, it->receiver);
    bstr(&t->msgs, it->ladder);
    cw_dbbatch_int(&t->msgs, it->level);
    bstr(&t->msgs, it->status ? it->status : "queued");
    cw_dbbatch_int(&t->msgs, it->due_ms);
    cw_dbbatch_int(&t->msgs, it->created_ms);
    bstr(&t->msgs, it->body);
    if (it->not_before == CW_TIME_NONE)
        cw_dbbatch_null(&t->msgs);
    else
        cw_dbbatch_int(&t->msgs, it->not_before);
    if ((t->rc = cw_dbbatch_row(t->db, &t->msgs, &t->err)) < 0)
        return t->rc;
    bstr(&t->items, it->key);
    bstr(&t->items, it->key);
    cw_dbbatch_int(&t->items, it->finding_id);
    bstr(&t->items, it->transition);
    cw_dbbatch_int(&t->items, it->created_ms);
    return t->rc = cw_dbbatch_row(t->db, &t->items, &t->err);
}

int cw_store_ntx_item(cw_store_ntx *t, const cw_store_nitem *it, bool *added)
{
    uint64_t n = 0;
    int64_t last = 0, due = it->due_ms;
    char *msg = NULL, *key;

    *added = false;
    if (t->rc < 0)
        return t->rc;
    if (it->group[0] == '\0' && it->body) {
        *added = item_alone(t, it) == 0;
        return t->rc;
    }
    if (it->group[0]) {
        cw_dbarg a[3] = { CW_DBA_S(it->receiver), CW_DBA_S(it->group), CW_DBA_I(it->level) };
        if ((t->rc = cw_db_pquery(t->db, "SELECT msg_key FROM notify_messages WHERE receiver = ? AND"
                                         " group_key = ? AND level = ? AND status = 'grouping' ORDER BY id DESC"
                                         " LIMIT 1 FOR UPDATE", a, 3, first_str, &msg, &t->err)) < 0)
            return t->rc;
        if (msg == NULL && (t->rc = cw_db_pquery(t->db, "SELECT MAX(next_ms) FROM notify_messages WHERE"
                                                        " receiver = ? AND group_key = ? AND level = ?",
                                                 a, 3, first_id, &last, &t->err)) < 0)
            return t->rc;
        /* a group that had a message waits group_interval after it */
        if (msg == NULL && last > 0 && last + it->interval_ms > due)
            due = last + it->interval_ms;
    }
    key = msg ? msg : it->group[0] ? cw_xasprintf("grp:%s", it->key) : cw_xstrdup(it->key);
    t->rc = cw_db_pexec(t->db, "INSERT IGNORE INTO notify_items (item_key, msg_key, finding_id, transition,"
                               " created_ms) VALUES (?,?,?,?,?)",
                        (cw_dbarg[]){ CW_DBA_S(it->key), CW_DBA_S(key), CW_DBA_I(it->finding_id),
                                      CW_DBA_S(it->transition), CW_DBA_I(it->created_ms) }, 5, &n, &t->err);
    if (t->rc == 0 && n > 0) {
        if (msg)
            t->rc = cw_db_pexec(t->db, "UPDATE notify_messages SET items = items + 1, created_ms ="
                                       " LEAST(created_ms, ?) WHERE msg_key = ?",
                                (cw_dbarg[]){ CW_DBA_I(it->created_ms), CW_DBA_S(key) }, 2, NULL, &t->err);
        else
            t->rc = cw_db_pexec(t->db, "INSERT INTO notify_messages (msg_key, receiver, group_key, ladder,"
                                       " level, status, items, next_ms, created_ms) VALUES (?,?,?,?,?,'grouping',1,?,?)",
                                (cw_dbarg[]){ CW_DBA_S(key), CW_DBA_S(it->receiver), CW_DBA_S(it->group),
                                              it->ladder ? CW_DBA_S(it->ladder) : (cw_dbarg){ .kind = CW_DBA_NULL },
                                              CW_DBA_I(it->level), CW_DBA_I(due), CW_DBA_I(it->created_ms) },
                                7, NULL, &t->err);
        *added = t->rc == 0;
    }
    free(key);
    return t->rc;
}

int cw_store_ntx_outbox_done(cw_store_ntx *t, int64_t outbox_id)
{
    if (t->rc < 0)
        return t->rc;
    cw_dbbatch_int(&t->done, outbox_id);
    return t->rc = cw_dbbatch_row(t->db, &t->done, &t->err);
}

int cw_store_ntx_ladder_start(cw_store_ntx *t, int64_t finding_id, const char *ladder, cw_time started,
                              cw_time next_at)
{
    if (t->rc < 0)
        return t->rc;
    return t->rc = cw_db_pexec(t->db, "INSERT IGNORE INTO notify_escalations (finding_id, ladder, level,"
                                      " started, next_at, status) VALUES (?,?,0,?,?,'running')",
                               (cw_dbarg[]){ CW_DBA_I(finding_id), CW_DBA_S(ladder), CW_DBA_I(started),
                                             CW_DBA_I(next_at) }, 4, NULL, &t->err);
}

int cw_store_ntx_ladder_set(cw_store_ntx *t, int64_t finding_id, const char *ladder, int level,
                            cw_time next_at, const char *status, const char *reason)
{
    cw_dbarg a[6] = { CW_DBA_I(level), CW_DBA_I(next_at), CW_DBA_S(status), CW_DBA_S(reason ? reason : ""),
                      CW_DBA_I(finding_id), CW_DBA_S(ladder) };

    if (next_at == CW_TIME_NONE)
        a[1] = (cw_dbarg){ .kind = CW_DBA_NULL };
    if (reason == NULL)
        a[3] = (cw_dbarg){ .kind = CW_DBA_NULL };
    if (t->rc < 0)
        return t->rc;
    return t->rc = cw_db_pexec(t->db, "UPDATE notify_escalations SET level = ?, next_at = ?, status = ?,"
                                      " reason = ? WHERE finding_id = ? AND ladder = ?", a, 6, NULL, &t->err);
}

int cw_store_ntx_repeat_set(cw_store_ntx *t, int64_t finding_id, const char *receiver, int64_t every_s,
                            cw_time next_at, int sent)
{
    if (t->rc < 0)
        return t->rc;
    return t->rc = cw_db_pexec(t->db, "INSERT INTO notify_repeats (finding_id, receiver, every_s, next_at, sent)"
                                      " VALUES (?,?,?,?,?) ON DUPLICATE KEY UPDATE every_s = VALUES(every_s),"
                                      " next_at = VALUES(next_at), sent = VALUES(sent)",
                               (cw_dbarg[]){ CW_DBA_I(finding_id), CW_DBA_S(receiver), CW_DBA_I(every_s),
                                             CW_DBA_I(next_at), CW_DBA_I(sent) }, 5, NULL, &t->err);
}

int cw_store_ntx_repeat_stop(cw_store_ntx *t, int64_t finding_id, const char *receiver)
{
    if (t->rc < 0)
        return t->rc;
    return t->rc = cw_db_pexec(t->db, "DELETE FROM notify_repeats WHERE finding_id = ? AND receiver = ?",
                               (cw_dbarg[]){ CW_DBA_I(finding_id), CW_DBA_S(receiver) }, 2, NULL, &t->err);
}

typedef struct rread {
    cw_store_repeat_fn fn;
    void *ud;
} rread;

static int repeat_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    rread *r = ud;
    cw_store_repeat x;

    (void)lens;
    if (ncols < 5 + 19)
        return 0;
    x.finding_id = i64(row[0]);
    x.receiver = row[1];
    x.every_s = i64(row[2]);
    x.next_at = i64(row[3]);
    x.sent = (int)i64(row[4]);
    cw__finding_cols(row + 5, ncols - 5, &x.f);
    return r->fn(r->ud, &x);
}

int cw_store_repeats_due(cw_db *db, cw_time now, unsigned limit, cw_store_repeat_fn fn, void *ud,
                         cw_err *err)
{
    rread r = { fn, ud };
    cw_dbarg a[3] = { CW_DBA_I(now), CW_DBA_I(now), CW_DBA_I(limit) };

    return cw_db_pquery(db, "SELECT p.finding_id, p.receiver, p.every_s, p.next_at, p.sent, " API_COLS
                            " FROM notify_repeats p JOIN findings f ON f.id = p.finding_id"
                            " WHERE p.next_at <= ? ORDER BY p.next_at LIMIT ?", a, 3, repeat_row, &r, err);
}

static void ntx_free(cw_store_ntx *t)
{
    cw_dbbatch_free(&t->done);
    cw_dbbatch_free(&t->msgs);
    cw_dbbatch_free(&t->items);
    free(t);
}

int cw_store_ntx_commit(cw_store_ntx *t, cw_err *err)
{
    int rc;

    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->msgs, &t->err);
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->items, &t->err);
    if (t->rc == 0)
        t->rc = cw_dbbatch_send(t->db, &t->done, &t->err);
    if ((rc = t->rc) == 0)
        rc = cw_db_commit(t->db, &t->err);
    if (rc < 0) {
        cw_db_rollback(t->db);
        if (err)
            *err = t->err;
    }
    ntx_free(t);
    return rc;
}

void cw_store_ntx_abort(cw_store_ntx *t)
{
    if (t == NULL)
        return;
    cw_db_rollback(t->db);
    ntx_free(t);
}

/* ---- ladders ------------------------------------------------------------------------- */

typedef struct lread {
    cw_store_ladder_fn fn;
    void *ud;
} lread;

static int ladder_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    lread *r = ud;
    cw_store_ladder l;

    (void)lens;
    if (ncols < 7 + 19)
        return 0;
    l.finding_id = i64(row[0]);
    l.ladder = row[1];
    l.status = row[2];
    l.reason = row[3];
    l.level = (int)i64(row[4]);
    l.started = i64(row[5]);
    l.next_at = cw__opt_time(row[6]);
    cw__finding_cols(row + 7, ncols - 7, &l.f);
    return r->fn(r->ud, &l);
}

#define LADDER_SELECT \
    "SELECT e.finding_id, e.ladder, e.status, e.reason, e.level, e.started, e.next_at, " API_COLS \
    " FROM notify_escalations e JOIN findings f ON f.id = e.finding_id"

int cw_store_ladders_due(cw_db *db, cw_time now, unsigned limit, cw_store_ladder_fn fn, void *ud,
                         cw_err *err)
{
    lread r = { fn, ud };
    cw_dbarg a[3] = { CW_DBA_I(now), CW_DBA_I(now), CW_DBA_I(limit) };

    return cw_db_pquery(db, LADDER_SELECT " WHERE e.status = 'running' AND e.next_at <= ?"
                            " ORDER BY e.next_at LIMIT ?", a, 3, ladder_row, &r, err);
}

int cw_store_ladders_of(cw_db *db, int64_t finding_id, bool running_only, cw_time now,
                        cw_store_ladder_fn fn, void *ud, cw_err *err)
{
    lread r = { fn, ud };
    cw_dbarg a[2] = { CW_DBA_I(now), CW_DBA_I(finding_id) };

    return cw_db_pquery(db, running_only ? LADDER_SELECT " WHERE e.finding_id = ? AND e.status = 'running'"
                                                         " ORDER BY e.ladder"
                                         : LADDER_SELECT " WHERE e.finding_id = ? ORDER BY e.ladder",
                        a, 2, ladder_row, &r, err);
}

/* ---- messages -------------------------------------------------------------------------- */

#define MSG_COLS \
    "m.id, m.msg_key, m.receiver, m.group_key, m.ladder, m.status, m.body, m.last_error, m.level," \
    " m.items, m.attempts, m.http_status, m.next_ms, m.created_ms, m.sent_ms, m.not_before," \
    " (SELECT GROUP_CONCAT(i.finding_id ORDER BY i.id) FROM notify_items i WHERE i.msg_key = m.msg_key)"

typedef struct mread {
    cw_store_message_fn fn;
    void *ud;
} mread;

static int message_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    mread *r = ud;
    cw_store_message m;

    (void)lens;
    if (ncols < 17)
        return 0;
    m.id = i64(row[0]);
    m.key = row[1];
    m.receiver = row[2];
    m.group = row[3];
    m.ladder = row[4];
    m.status = row[5];
    m.body = row[6];
    m.last_error = row[7];
    m.level = (int)i64(row[8]);
    m.items = (int)i64(row[9]);
    m.attempts = (int)i64(row[10]);
    m.http_status = (long)i64(row[11]);
    m.next_ms = i64(row[12]);
    m.created_ms = i64(row[13]);
    m.sent_ms = i64(row[14]);
    m.not_before = cw__opt_time(row[15]);
    m.findings = row[16] ? row[16] : "";
    return r->fn(r->ud, &m);
}

int cw_store_messages_due(cw_db *db, bool gathering, int64_t now_ms, cw_time now, unsigned limit,
                          cw_store_message_fn fn, void *ud, cw_err *err)
{
    mread r = { fn, ud };
    cw_dbarg a[3] = { CW_DBA_I(now_ms), CW_DBA_I(now), CW_DBA_I(limit) };

    if (gathering)
        return cw_db_pquery(db, "SELECT " MSG_COLS " FROM notify_messages m WHERE m.status = 'grouping'"
                                " AND m.next_ms <= ? ORDER BY m.next_ms, m.id LIMIT ?",
                            (cw_dbarg[]){ a[0], a[2] }, 2, message_row, &r, err);
    return cw_db_pquery(db, "SELECT " MSG_COLS " FROM notify_messages m WHERE m.status IN ('queued','held')"
                            " AND m.next_ms <= ? AND (m.not_before IS NULL OR m.not_before <= ?)"
                            " ORDER BY m.next_ms, m.id LIMIT ?", a, 3, message_row, &r, err);
}

typedef struct iread {
    cw_store_mitem_fn fn;
    void *ud;
} iread;

static int item_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    iread *r = ud;
    cw_store_finding f;

    (void)lens;
    if (ncols < 2 + 19)
        return 0;
    cw__finding_cols(row + 2, ncols - 2, &f);
    return r->fn(r->ud, row[0], row[1], &f);
}

int cw_store_message_items(cw_db *db, int64_t message_id, cw_time now, cw_store_mitem_fn fn,
                           void *ud, cw_err *err)
{
    iread r = { fn, ud };
    cw_dbarg a[2] = { CW_DBA_I(now), CW_DBA_I(message_id) };

    return cw_db_pquery(db, "SELECT i.item_key, i.transition, " API_COLS " FROM notify_items i"
                            " JOIN findings f ON f.id = i.finding_id WHERE i.msg_key ="
                            " (SELECT msg_key FROM notify_messages WHERE id = ?) ORDER BY i.id",
                        a, 2, item_row, &r, err);
}

int cw_store_message_ready(cw_db *db, int64_t id, const char *body, const char *status,
                           cw_time not_before, cw_err *err)
{
    cw_dbarg a[4] = { CW_DBA_S(body), CW_DBA_S(status), CW_DBA_I(not_before), CW_DBA_I(id) };

    if (not_before == CW_TIME_NONE)
        a[2] = (cw_dbarg){ .kind = CW_DBA_NULL };
    return cw_db_pexec(db, "UPDATE notify_messages SET body = ?, status = ?, not_before = ?"
                           " WHERE id = ? AND status = 'grouping'", a, 4, NULL, err);
}

int cw_store_attempts_record(cw_db *db, const cw_store_attempt *a, size_t n, cw_err *err)
{
    cw_dbbatch log, up;
    int rc = 0;

    if (n == 0)
        return 0;
    if ((rc = cw_db_begin(db, err)) < 0)
        return rc;
    cw_dbbatch_init(&log, "INSERT INTO notify_attempts (message_id, attempt, at_ms, http_status, error,"
                          " latency_us) VALUES ", "(?,?,?,?,?,?)", 6, NULL);
    /* the messages' new states in one statement: every row exists (by id
     * and by its key), so each one updates its own */
    cw_dbbatch_init(&up, "INSERT INTO notify_messages (id, msg_key, receiver, group_key, status, attempts,"
                         " http_status, last_error, next_ms, created_ms, sent_ms) VALUES ",
                    "(?,?,'','',?,?,?,NULLIF(?, ''),?,0,?)", 8,
                    " ON DUPLICATE KEY UPDATE status = VALUES(status), attempts = VALUES(attempts),"
                    " http_status = VALUES(http_status), last_error = VALUES(last_error),"
                    " next_ms = VALUES(next_ms), sent_ms = IF(VALUES(status) = 'sent', VALUES(sent_ms), sent_ms)");
    for (size_t i = 0; i < n && rc == 0; i++) {
        cw_dbbatch_int(&up, a[i].message_id);
        cw_dbbatch_str(&up, a[i].key, strlen(a[i].key));
        cw_dbbatch_str(&up, a[i].status, strlen(a[i].status));
        cw_dbbatch_int(&up, a[i].attempt);
        if (a[i].http_status)
            cw_dbbatch_int(&up, a[i].http_status);
        else
            cw_dbbatch_null(&up);
        cw_dbbatch_str(&up, a[i].error, strlen(a[i].error));
        cw_dbbatch_int(&up, a[i].next_ms);
        cw_dbbatch_int(&up, a[i].at_ms);
        if ((rc = cw_dbbatch_row(db, &up, err)) < 0)
            break;
        cw_dbbatch_int(&log, a[i].message_id);
        cw_dbbatch_int(&log, a[i].attempt);
        cw_dbbatch_int(&log, a[i].at_ms);
        if (a[i].http_status)
            cw_dbbatch_int(&log, a[i].http_status);
        else
            cw_dbbatch_null(&log);
        if (a[i].error[0])
            cw_dbbatch_str(&log, a[i].error, strlen(a[i].error));
        else
            cw_dbbatch_null(&log);
        cw_dbbatch_int(&log, (int64_t)(a[i].seconds * 1e6));
        rc = cw_dbbatch_row(db, &log, err);
    }
    if (rc == 0)
        rc = cw_dbbatch_send(db, &up, err);
    if (rc == 0)
        rc = cw_dbbatch_send(db, &log, err);
    if (rc == 0)
        rc = cw_db_commit(db, err);
    if (rc < 0)
        cw_db_rollback(db);
    cw_dbbatch_free(&log);
    cw_dbbatch_free(&up);
    return rc;
}

/* ---- the API's reads ---------------------------------------------------------------- */

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

static void nwhere(cw__qb *b, const cw_notification_query *q)
{
    in_list(b, "m.receiver", &q->receiver);
    in_list(b, "m.status", &q->status);
    if (q->finding > 0) {
        cw_buf_puts(&b->sql, " AND EXISTS (SELECT 1 FROM notify_items i WHERE i.msg_key = m.msg_key"
                             " AND i.finding_id = ?)");
        cw__qb_arg(b, CW_DBA_I(q->finding));
    }
}

int cw_store_notifications(cw_db *db, const cw_notification_query *q, cw_store_message_fn fn,
                           void *ud, cw_err *err)
{
    mread r = { fn, ud };
    cw__qb b = { 0 };
    int rc;

    cw_buf_puts(&b.sql, "SELECT " MSG_COLS " FROM notify_messages m WHERE 1");
    nwhere(&b, q);
    if (q->after_id > 0) {
        cw_buf_puts(&b.sql, " AND m.id < ?");
        cw__qb_arg(&b, CW_DBA_I(q->after_id));
    }
    cw_buf_puts(&b.sql, " ORDER BY m.id DESC LIMIT ?");
    cw__qb_arg(&b, CW_DBA_I(q->limit));
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, message_row, &r, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_notifications_total(cw_db *db, const cw_notification_query *q, uint64_t *n, cw_err *err)
{
    cw__qb b = { 0 };
    int rc;

    *n = 0;
    cw_buf_puts(&b.sql, "SELECT COUNT(*) FROM notify_messages m WHERE 1");
    nwhere(&b, q);
    rc = cw_db_pquery(db, b.sql.p, b.a, b.n, cw__count_row, n, err);
    cw__qb_free(&b);
    return rc;
}

int cw_store_notification_counts(cw_db *db, cw_store_facet_fn fn, void *ud, cw_err *err)
{
    cw__facet f = { fn, ud };

    return cw_db_query(db, "SELECT status, COUNT(*) FROM notify_messages GROUP BY status", false,
                       cw__facet_row, &f, err);
}
