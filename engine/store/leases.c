/*
 * Partitions and their leases: the rows engine/lease decides over. Each
 * statement that changes a lease tests in its WHERE clause exactly the
 * condition of the transition it stands for in lease/lease.h (claim,
 * renew, release, fence), so the arithmetic tested there with a test clock
 * is the one the database applies. The rows are written, never only
 * locked: on Galera a lock is local to one node, a written row is
 * certified against every concurrent write of it in the cluster.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/rows.h"

int cw_store_partitions(cw_db *db, unsigned *parts, cw_err *err)
{
    int64_t v = 0;
    int rc = cw_db_scalar(db, "SELECT parts FROM partitioning WHERE id = 0", &v, err);

    if (rc == 0 && (v < 1 || v > 1000))
        rc = cw_err_set(err, CW_EDB, "partitioning: %lld partitions (run `casewarden migrate`)",
                        (long long)v);
    *parts = rc == 0 ? (unsigned)v : 0;
    return rc;
}

int cw_store_sync_reads(cw_db *db, bool on, cw_err *err)
{
    int64_t wsrep = 0;
    int rc;

    if ((rc = cw_db_scalar(db, "SELECT @@wsrep_on", &wsrep, err)) < 0 || wsrep == 0)
        return rc;
    return cw_db_sync_wait(db, on, err);
}

typedef struct headread {
    cw_store_head_fn fn;
    void *ud;
} headread;

static int head_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    headread *r = ud;

    (void)lens;
    if (ncols < 2 || row[0] == NULL || row[1] == NULL)
        return 0;
    return r->fn(r->ud, (unsigned)strtoul(row[0], NULL, 10), strtoull(row[1], NULL, 10));
}

int cw_store_partition_heads(cw_db *db, cw_store_head_fn fn, void *ud, cw_err *err)
{
    headread r = { fn, ud };

    return cw_db_query(db, "SELECT part, next FROM partition_log ORDER BY part", false, head_row, &r,
                       err);
}

typedef struct pevread {
    cw_store_event_fn fn;
    void *ud;
} pevread;

static int pevent_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    pevread *r = ud;
    cw_store_event ev;

    if (ncols < 5 || row[0] == NULL)
        return 0;
    ev.seq = strtoull(row[0], NULL, 10);
    ev.gseq = row[1] ? strtoull(row[1], NULL, 10) : 0;
    ev.body = row[2] ? row[2] : "";
    ev.len = row[2] ? lens[2] : 0;
    ev.part = row[3] ? (unsigned)strtoul(row[3], NULL, 10) : 0;
    ev.pseq = row[4] ? strtoull(row[4], NULL, 10) : 0;
    return r->fn(r->ud, &ev);
}

int cw_store_partition_events(cw_db *db, unsigned part, uint64_t after, unsigned limit,
                              cw_store_event_fn fn, void *ud, cw_err *err)
{
    pevread r = { fn, ud };
    cw_dbarg a[3] = { CW_DBA_I(part), CW_DBA_I(after), CW_DBA_I(limit) };

    return cw_db_pquery(db, "SELECT seq, gseq, body, part, pseq FROM events WHERE part = ? AND pseq > ?"
                            " ORDER BY pseq LIMIT ?", a, 3, pevent_row, &r, err);
}

typedef struct leaseread {
    cw_lease *v;
    unsigned n, max;
} leaseread;

static int lease_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    leaseread *r = ud;
    cw_lease *l;

    (void)lens;
    if (ncols < 4 || r->n >= r->max)
        return 0;
    l = &r->v[r->n++];
    l->part = (unsigned)strtoul(row[0], NULL, 10);
    snprintf(l->owner, sizeof l->owner, "%s", row[1] ? row[1] : "");
    l->expires = strtoll(row[2], NULL, 10);
    l->token = strtoull(row[3], NULL, 10);
    return 0;
}

int cw_store_leases(cw_db *db, cw_lease *v, unsigned parts, cw_err *err)
{
    leaseread r = { v, 0, parts };
    int rc = cw_db_query(db, "SELECT part, owner, expires, token FROM partition_leases ORDER BY part",
                         false, lease_row, &r, err);

    if (rc == 0 && r.n != parts)
        rc = cw_err_set(err, CW_EDB, "partition_leases has %u rows for %u partitions", r.n, parts);
    return rc;
}

int cw_store_member_beat(cw_db *db, const char *me, int64_t expires, cw_err *err)
{
    cw_dbarg a[2] = { CW_DBA_S(me), CW_DBA_I(expires) };

    return cw_db_pexec(db, "INSERT INTO engine_members (name, expires) VALUES (?, ?)"
                           " ON DUPLICATE KEY UPDATE expires = VALUES(expires)", a, 2, NULL, err);
}

int cw_store_member_leave(cw_db *db, const char *me, cw_err *err)
{
    cw_dbarg a = CW_DBA_S(me);

    return cw_db_pexec(db, "DELETE FROM engine_members WHERE name = ?", &a, 1, NULL, err);
}

static int int_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    (void)lens;
    if (ncols >= 1 && row[0] != NULL)
        *(int64_t *)ud = strtoll(row[0], NULL, 10);
    return 0;
}

int cw_store_members_live(cw_db *db, int64_t now, unsigned *n, cw_err *err)
{
    cw_dbarg a = CW_DBA_I(now);
    int64_t v = 0;
    int rc = cw_db_pquery(db, "SELECT COUNT(*) FROM engine_members WHERE expires > ?", &a, 1, int_row,
                          &v, err);

    *n = v > 0 ? (unsigned)v : 0;
    return rc;
}

int cw_store_lease_claim(cw_db *db, unsigned part, const char *me, uint64_t seen, int64_t now,
                         int64_t ttl, bool *won, uint64_t *token, cw_err *err)
{
    cw_dbarg a[5] = { CW_DBA_S(me), CW_DBA_I(now + ttl), CW_DBA_I(part), CW_DBA_I(now),
                      CW_DBA_I(seen) };
    uint64_t changed = 0;
    int rc;

    /* cw_lease_claim: free or expired, and still the token read */
    rc = cw_db_pexec(db, "UPDATE partition_leases SET owner = ?, expires = ?, token = token + 1"
                         " WHERE part = ? AND (owner = '' OR expires <= ?) AND token = ?",
                     a, 5, &changed, err);
    *won = rc == 0 && changed == 1;
    *token = seen + 1;
    return rc;
}

/* "(part, token) IN ((?,?),...)" and its arguments after the first k */
static void pairs(cw_buf *q, cw_dbarg *a, size_t k, const unsigned *parts, const uint64_t *tokens,
                  size_t n)
{
    cw_buf_puts(q, " AND (part, token) IN (");
    for (size_t i = 0; i < n; i++) {
        cw_buf_puts(q, i ? ",(?,?)" : "(?,?)");
        a[k + 2 * i] = CW_DBA_I(parts[i]);
        a[k + 2 * i + 1] = CW_DBA_I(tokens[i]);
    }
    cw_buf_puts(q, ")");
}

int cw__leases_touch(cw_db *db, const char *set, int64_t set_v, const char *me,
                     const unsigned *parts, const uint64_t *tokens, size_t n, int64_t now,
                     uint64_t *changed, cw_err *err)
{
    cw_dbarg *a = cw_xmalloc((3 + 2 * n) * sizeof *a);
    cw_buf q = { 0 };
    size_t k = 0;
    int rc;

    *changed = 0;
    if (n == 0) {
        free(a);
        return 0;
    }
    cw_buf_puts(&q, "UPDATE partition_leases SET ");
    cw_buf_puts(&q, set);
    if (strchr(set, '?') != NULL)
        a[k++] = CW_DBA_I(set_v);
    /* cw_lease_fence_ok: mine, unexpired, under the token I claimed */
    cw_buf_puts(&q, " WHERE owner = ? AND expires > ?");
    a[k++] = CW_DBA_S(me);
    a[k++] = CW_DBA_I(now);
    pairs(&q, a, k, parts, tokens, n);
    rc = cw_db_pexec(db, q.p, a, k + 2 * n, changed, err);
    cw_buf_free(&q);
    free(a);
    return rc;
}

int cw_store_leases_renew(cw_db *db, const char *me, const unsigned *parts,
                          const uint64_t *tokens, size_t n, int64_t now, int64_t ttl,
                          size_t *renewed, cw_err *err)
{
    uint64_t changed = 0;
    int rc = cw__leases_touch(db, "expires = ?", now + ttl, me, parts, tokens, n, now, &changed, err);

    *renewed = (size_t)changed;
    return rc;
}

int cw_store_lease_release(cw_db *db, unsigned part, const char *me, uint64_t token, uint64_t ckpt,
                           cw_err *err)
{
    cw_dbarg a[4] = { CW_DBA_I(ckpt), CW_DBA_I(part), CW_DBA_S(me), CW_DBA_I(token) };

    /* cw_lease_release: mine under the token */
    return cw_db_pexec(db, "UPDATE partition_leases SET owner = '', expires = 0, ckpt = ?"
                           " WHERE part = ? AND owner = ? AND token = ?", a, 4, NULL, err);
}

typedef struct pfread {
    cw_store_pfinding_fn fn;
    void *ud;
} pfread;

static int pfinding_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    pfread *r = ud;
    cw_store_finding f;

    (void)lens;
    if (ncols < 14 || row[13] == NULL)
        return 0;
    cw__finding_cols(row, 13, &f);
    return r->fn(r->ud, &f, (unsigned)strtoul(row[13], NULL, 10));
}

int cw_store_findings_parts(cw_db *db, unsigned parts, cw_store_pfinding_fn fn, void *ud,
                            cw_err *err)
{
    pfread r = { fn, ud };
    cw_dbarg a = CW_DBA_I(parts);

    /* the same hash as the events' trigger */
    return cw_db_pquery(db, "SELECT " FINDING_COLS ", CRC32(case_id) % ? FROM findings"
                            " WHERE state <> 'withdrawn'", &a, 1, pfinding_row, &r, err);
}

int cw_store_lease_fence(cw_db *db, const char *me, unsigned part, uint64_t token, int64_t now,
                         bool *held, cw_err *err)
{
    uint64_t changed = 0;
    int rc = cw__leases_touch(db, "writes = writes + 1", 0, me, &part, &token, 1, now, &changed, err);

    *held = rc == 0 && changed == 1;
    return rc;
}
