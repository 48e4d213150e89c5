/*
 * Snapshots of the engine's state (core/snapshot.c writes and reads the
 * bytes), in parts small enough for one statement each, replaced in one
 * transaction so that a restart finds the last whole one. An engine that
 * shares the partitions with others writes one per partition it holds.
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/rows.h"

#define PART (4u << 20)         /* bytes a row: under max_allowed_packet */

/* The parts and the meta row of snapshot `name`, replacing its last, in
 * the transaction open on db. */
static int put_snapshot(cw_db *db, const char *name, const cw_store_snapmeta *m, const void *data,
                        size_t len, cw_err *err)
{
    unsigned parts = (unsigned)((len + PART - 1) / PART);
    cw_dbarg key = CW_DBA_S(name);
    int rc;

    if ((rc = cw_db_pexec(db, "DELETE FROM engine_snapshot WHERE name = ?", &key, 1, NULL, err)) < 0)
        return rc;
    for (unsigned i = 0; i < parts; i++) {
        size_t off = (size_t)i * PART, n = len - off < PART ? len - off : PART;
        cw_dbarg a[3] = { CW_DBA_S(name), CW_DBA_I(i), { .kind = CW_DBA_BLOB,
                          .s = (const char *)data + off, .len = n } };
        if ((rc = cw_db_pexec(db, "INSERT INTO engine_snapshot (name, part, data) VALUES (?,?,?)", a, 3,
                              NULL, err)) < 0)
            return rc;
    }
    {
        cw_dbarg a[6] = { CW_DBA_S(name), CW_DBA_S(m->program), CW_DBA_U(m->rules_digest),
                          CW_DBA_I(m->gseq), CW_DBA_I(parts), CW_DBA_I(len) };
        rc = cw_db_pexec(db, "INSERT INTO engine_snapshot_meta (name, program, rules_digest, gseq, "
                             "parts, bytes) VALUES (?,?,?,?,?,?) ON DUPLICATE KEY UPDATE "
                             "program = VALUES(program), rules_digest = VALUES(rules_digest), "
                             "gseq = VALUES(gseq), parts = VALUES(parts), bytes = VALUES(bytes)",
                         a, 6, NULL, err);
    }
    return rc;
}

int cw_store_snapshot_write(cw_db *db, const char *name, const cw_store_snapmeta *m,
                            const void *data, size_t len, cw_err *err)
{
    int rc;

    if ((rc = cw_db_begin(db, err)) < 0)
        return rc;
    if ((rc = put_snapshot(db, name, m, data, len, err)) < 0) {
        cw_db_rollback(db);
        return rc;
    }
    return cw_db_commit(db, err);
}

void cw_store_part_snapshot_name(unsigned part, char *buf, size_t size)
{
    snprintf(buf, size, "partition/%u", part);
}

int cw_store_part_snapshots_write(cw_db *db, const char *me, int64_t now, const cw_store_partsnap *v,
                                  size_t n, cw_err *err)
{
    unsigned *parts = cw_xmalloc((n + 1) * sizeof *parts);
    uint64_t *tokens = cw_xmalloc((n + 1) * sizeof *tokens);
    uint64_t changed = 0;
    char name[32];
    int rc;

    for (size_t i = 0; i < n; i++) {
        parts[i] = v[i].part;
        tokens[i] = v[i].token;
    }
    if ((rc = cw_db_begin(db, err)) < 0)
        goto out;
    /* fenced as the findings are: the lease rows are written first */
    if ((rc = cw__leases_touch(db, "writes = writes + 1", 0, me, parts, tokens, n, now, &changed, err)) == 0 &&
        changed != n)
        rc = cw_err_set(err, CW_ELEASE, "%zu of the %zu partition leases of engine %s are no longer its own",
                        n - (size_t)changed, n, me);
    for (size_t i = 0; i < n && rc == 0; i++) {
        cw_store_part_snapshot_name(v[i].part, name, sizeof name);
        rc = put_snapshot(db, name, &v[i].m, v[i].data, v[i].len, err);
    }
    if (rc < 0)
        cw_db_rollback(db);
    else
        rc = cw_db_commit(db, err);
out:
    free(parts);
    free(tokens);
    return rc;
}

typedef struct snapread {
    cw_store_snapmeta *m;
    bool found;
    char *data;
    size_t len, cap;
    unsigned next;
    bool bad;
} snapread;

static int meta_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    snapread *r = ud;

    (void)lens;
    (void)ncols;
    r->found = true;
    snprintf(r->m->program, sizeof r->m->program, "%s", row[0]);
    r->m->rules_digest = strtoull(row[1], NULL, 10);
    r->m->gseq = strtoull(row[2], NULL, 10);
    r->m->parts = (unsigned)strtoul(row[3], NULL, 10);
    r->m->bytes = strtoull(row[4], NULL, 10);
    return 0;
}

static int part_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    snapread *r = ud;

    (void)ncols;
    if (strtoul(row[0], NULL, 10) != r->next++) {
        r->bad = true;
        return 1;
    }
    CW_GROW(r->data, r->cap, r->len + lens[1]);
    memcpy(r->data + r->len, row[1], lens[1]);
    r->len += lens[1];
    return 0;
}

int cw_store_snapshot_read(cw_db *db, const char *name, cw_store_snapmeta *m, void **data,
                           size_t *len, bool *found, cw_err *err)
{
    snapread r = { m, false, NULL, 0, 0, 0, false };
    cw_dbarg key = CW_DBA_S(name);
    int rc;

    *data = NULL;
    *len = 0;
    memset(m, 0, sizeof *m);
    *found = false;
    if ((rc = cw_db_pquery(db, "SELECT program, rules_digest, gseq, parts, bytes FROM "
                               "engine_snapshot_meta WHERE name = ?", &key, 1, meta_row, &r, err)) < 0 ||
        !r.found)
        return rc;
    rc = cw_db_pquery(db, "SELECT part, data FROM engine_snapshot WHERE name = ? ORDER BY part", &key, 1,
                      part_row, &r, err);
    if (rc < 0 || r.bad || r.next != m->parts || r.len != m->bytes) {
        free(r.data);
        return rc < 0 ? rc : cw_err_set(err, CW_EDB, "snapshot of %s is incomplete", name);
    }
    *data = r.data;
    *len = r.len;
    *found = true;
    return 0;
}
