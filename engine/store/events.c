/*
 * Events: what the engine reads (after a checkpoint, in the holes, one
 * case) and what ingest writes (new bodies, conflicts, lookups by id).
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

typedef struct evread {
    cw_store_event_fn fn;
    void *ud;
} evread;

static int event_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    evread *r = ud;
    cw_store_event ev;

    if (ncols < 3 || row[0] == NULL)
        return 0;
    ev.seq = strtoull(row[0], NULL, 10);
    ev.gseq = row[1] ? strtoull(row[1], NULL, 10) : 0;
    ev.body = row[2] ? row[2] : "";
    ev.len = row[2] ? lens[2] : 0;
    return r->fn(r->ud, &ev);
}

int cw_store_events_after(cw_db *db, uint64_t after, unsigned limit, cw_store_event_fn fn,
                          void *ud, cw_err *err)
{
    evread r = { fn, ud };
    cw_dbarg a[2] = { CW_DBA_I(after), CW_DBA_I(limit) };

    return cw_db_pquery(db, "SELECT seq, gseq, body FROM events WHERE gseq > ? ORDER BY gseq LIMIT ?",
                        a, 2, event_row, &r, err);
}

int cw_store_case_events(cw_db *db, const char *case_id, cw_store_event_fn fn, void *ud,
                         cw_err *err)
{
    evread r = { fn, ud };
    cw_dbarg a = CW_DBA_S(case_id);

    return cw_db_pquery(db, "SELECT seq, gseq, body FROM events WHERE case_id = ? ORDER BY gseq", &a, 1,
                        event_row, &r, err);
}

int cw_store_max_gseq(cw_db *db, uint64_t *out, cw_err *err)
{
    int64_t v = 0;
    int rc = cw_db_scalar(db, "SELECT COALESCE(MAX(gseq), 0) FROM events", &v, err);

    *out = v > 0 ? (uint64_t)v : 0;
    return rc;
}

/* ---- ingest ------------------------------------------------------------------ */

typedef struct idread {
    cw_store_idrow_fn fn;
    void *ud;
} idread;

static int id_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    idread *r = ud;

    if (row[0] == NULL || row[1] == NULL)
        return 0;
    return r->fn(r->ud, row[0], strtoull(row[1], NULL, 10), ncols > 2 && row[2] ? row[2] : NULL,
                 ncols > 2 && row[2] ? lens[2] : 0);
}

/* "?,?,?" for n markers, after prefix, then suffix. */
static void markers(cw_buf *b, const char *prefix, size_t n, const char *each, const char *suffix)
{
    cw_buf_puts(b, prefix);
    for (size_t i = 0; i < n; i++) {
        if (i)
            cw_buf_put(b, ",", 1);
        cw_buf_puts(b, each);
    }
    cw_buf_puts(b, suffix);
}

int cw_store_events_by_id(cw_db *db, const char *const *ids, size_t n, bool with_body,
                          cw_store_idrow_fn fn, void *ud, cw_err *err)
{
    idread r = { fn, ud };
    cw_dbarg *a;
    cw_buf q = { 0 };
    int rc;

    if (n == 0)
        return 0;
    a = cw_xmalloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = CW_DBA_S(ids[i]);
    markers(&q, with_body ? "SELECT id, seq, body FROM events WHERE id IN (" :
                            "SELECT id, seq FROM events WHERE id IN (", n, "?", ") ORDER BY seq");
    rc = cw_db_pquery(db, q.p, a, n, id_row, &r, err);
    cw_buf_free(&q);
    free(a);
    return rc;
}

int cw_store_insert_events(cw_db *db, const cw_store_body *b, size_t n, const char *source,
                           uint64_t *first, cw_err *err)
{
    cw_dbarg *a;
    cw_buf q = { 0 };
    int rc;

    *first = 0;
    if (n == 0)
        return 0;
    a = cw_xmalloc(2 * n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        a[2 * i] = CW_DBA_SN(b[i].text, b[i].len);
        a[2 * i + 1] = CW_DBA_S(source);
    }
    markers(&q, "INSERT INTO events (body, source) VALUES ", n, "(?,?)", "");
    rc = cw_db_pexec(db, q.p, a, 2 * n, NULL, err);
    if (rc < 0 && cw_db_errno(db) == CW_DBERR_DUP_ENTRY)
        rc = cw_err_set(err, CW_ECONFLICT, "an event id was stored by another writer meanwhile");
    else if (rc == 0)
        *first = cw_db_insert_id(db);
    cw_buf_free(&q);
    free(a);
    return rc;
}

bool cw_store_consecutive_seqs(cw_db *db)
{
    return cw_db_consecutive_ids(db);
}

int cw_store_insert_conflicts(cw_db *db, const cw_store_body *b, size_t n, const char *source,
                              cw_err *err)
{
    cw_dbarg *a;
    cw_buf q = { 0 };
    int rc;

    if (n == 0)
        return 0;
    a = cw_xmalloc(4 * n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        a[4 * i] = CW_DBA_S(b[i].id);
        a[4 * i + 1] = CW_DBA_I(b[i].first_seq);
        a[4 * i + 2] = CW_DBA_SN(b[i].text, b[i].len);
        a[4 * i + 3] = CW_DBA_S(source);
    }
    markers(&q, "INSERT INTO event_conflicts (event_id, first_seq, body, source) VALUES ", n,
            "(?,?,?,?)", "");
    rc = cw_db_pexec(db, q.p, a, 4 * n, NULL, err);
    cw_buf_free(&q);
    free(a);
    return rc;
}

typedef struct imread {
    cw_store_image_fn fn;
    void *ud;
} imread;

static int image_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    imread *r = ud;

    if (ncols < 1 || row[0] == NULL)
        return 0;
    return r->fn(r->ud, row[0], lens[0]);
}

int cw_store_case_image(cw_db *db, const char *case_id, cw_store_image_fn fn, void *ud,
                        cw_err *err)
{
    imread r = { fn, ud };
    cw_dbarg a = CW_DBA_S(case_id);

    return cw_db_pquery(db, "SELECT image FROM case_state WHERE case_id = ?", &a, 1, image_row, &r,
                        err);
}

int cw_store_case_images_each(cw_db *db, cw_store_image_fn fn, void *ud, cw_err *err)
{
    imread r = { fn, ud };

    return cw_db_query(db, "SELECT image FROM case_state", true, image_row, &r, err);
}

int cw_store_case_images_drop(cw_db *db, uint64_t after, cw_err *err)
{
    cw_dbarg a = CW_DBA_I(after);

    return cw_db_pexec(db, "DELETE FROM case_state WHERE gseq > ? OR ? = 0", (cw_dbarg[]){ a, a }, 2,
                       NULL, err);
}

/* ---- problems -------------------------------------------------------------------- */

typedef struct prread {
    cw_store_problem_fn fn;
    void *ud;
} prread;

static int problem_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    prread *r = ud;
    cw_store_problem p;

    (void)lens;
    if (ncols < 7)
        return 0;
    p.kind = strcmp(row[0], "0") == 0 ? "invalid" : "conflict";
    p.n = strtoll(row[1], NULL, 10);
    p.first_seq = row[2] ? strtoll(row[2], NULL, 10) : 0;
    p.event_id = row[3];
    p.field = row[4] ? row[4] : "";
    p.message = row[5] ? row[5] : "";
    p.at_us = strtoll(row[6], NULL, 10);
    return r->fn(r->ud, &p);
}

int cw_store_problems(cw_db *db, unsigned kinds, int64_t after_us, int after_kind, int64_t after_n,
                      unsigned limit, cw_store_problem_fn fn, void *ud, cw_err *err)
{
    prread r = { fn, ud };
    cw_dbarg a[6] = { CW_DBA_I(kinds), CW_DBA_I(after_us), CW_DBA_I(after_kind), CW_DBA_I(after_n),
                      CW_DBA_I(limit) };

    /* both tables as one list, ordered by when they were recorded */
    return cw_db_pquery(db,
                        "SELECT k, n, first_seq, event_id, field, message, t FROM ("
                        " SELECT 0 AS k, seq AS n, NULL AS first_seq, event_id, field, message,"
                        "  CAST(UNIX_TIMESTAMP(at) * 1000000 AS SIGNED) AS t FROM event_problems"
                        " UNION ALL"
                        " SELECT 1, n, first_seq, event_id, 'id',"
                        "  'the id is taken by another event with other content: not applied',"
                        "  CAST(UNIX_TIMESTAMP(at) * 1000000 AS SIGNED) FROM event_conflicts"
                        ") u WHERE (? & (1 << k)) <> 0 AND (t, k, n) > (?, ?, ?) ORDER BY t, k, n LIMIT ?",
                        a, 5, problem_row, &r, err);
}
