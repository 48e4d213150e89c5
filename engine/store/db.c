#include "store/db.h"

#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define PQ_COLBUF 256           /* first buffer of a result column; grown on truncation */

struct cw_db {
    MYSQL *m;
    const cw_db_params *cfg;
    bool create;
    bool sync_wait;          /* cw_db_sync_wait: kept over reconnects */
    size_t at;               /* the node of the connection, or of the last try */
    int consecutive;         /* cw_db_consecutive_ids: 0 not asked yet */
    unsigned last_errno;     /* of the last failure, statement or connection */
    uint64_t last_insert;    /* AUTO_INCREMENT of the last INSERT */
};

static int fail(cw_db *db, cw_err *err, const char *what)
{
    db->last_errno = mysql_errno(db->m);
    return cw_err_set(err, CW_EDB, "%s: %s (MariaDB error %u)", what, mysql_error(db->m),
                      mysql_errno(db->m));
}

static size_t nnodes(const cw_db_params *c)
{
    return c->nnodes > 0 ? c->nnodes : 1;
}

/* Node i of the configuration (the single socket or host:port when there
 * is no list). */
static cw_db_node node(const cw_db_params *c, size_t i)
{
    if (c->nnodes > 0)
        return c->nodes[i];
    return (cw_db_node){ .socket = c->socket, .host = c->host, .port = c->port };
}

/* A node's name in messages: its socket, or host:port. */
static void node_name(const cw_db_node *nd, char *out, size_t size)
{
    if (nd->socket)
        snprintf(out, size, "%s", nd->socket);
    else
        snprintf(out, size, "%s:%u", nd->host, nd->port);
}

/* A Galera node that is not a ready member of a primary component (cut
 * off, joining) accepts connections but refuses statements (error 1047):
 * it is not taken. A server without Galera (wsrep_on 0) is ready. */
static bool node_ready(MYSQL *m, char *why, size_t size)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool ready = true;

    if (mysql_query(m, "SELECT @@wsrep_on, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                       "WHERE VARIABLE_NAME = 'WSREP_READY')") != 0) {
        snprintf(why, size, "%s", mysql_error(m));
        return false;
    }
    if ((res = mysql_store_result(m)) == NULL)
        return true;
    if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL && strcmp(row[0], "0") != 0 &&
        (row[1] == NULL || strcmp(row[1], "ON") != 0)) {
        snprintf(why, size, "the node is not a ready member of its cluster (wsrep_ready %s)",
                 row[1] ? row[1] : "unknown");
        ready = false;
    }
    mysql_free_result(res);
    return ready;
}

/* Connect to node i; on failure *why says what went wrong there. */
static int open_node(cw_db *db, size_t i, char *why, size_t size)
{
    const cw_db_params *c = db->cfg;
    cw_db_node nd = node(c, i);
    unsigned timeout = nnodes(c) > 1 ? 3 : 10, rw = 60;
    MYSQL *m = mysql_init(NULL);

    if (m == NULL) {
        snprintf(why, size, "mysql_init failed");
        return -1;
    }
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    /* UTC inside the session: times are stored as epoch seconds anyway,
     * but TIMESTAMP columns then read back unambiguously. */
    mysql_optionsv(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
                                          "NO_ENGINE_SUBSTITUTION'");
    if (mysql_real_connect(m, nd.socket ? NULL : nd.host, c->user, c->password, NULL,
                           nd.socket ? 0 : nd.port, nd.socket, CLIENT_MULTI_STATEMENTS) == NULL) {
        snprintf(why, size, "%s", mysql_error(m));
        db->last_errno = mysql_errno(m);
        mysql_close(m);
        return -1;
    }
    if (!node_ready(m, why, size)) {
        db->last_errno = CW_DBERR_WSREP_NOT_READY;
        mysql_close(m);
        return -1;
    }
    db->m = m;
    db->at = i;
    return 0;
}

/* The database of the configuration on the connection: created when
 * asked, selected, and the session's settings. */
static int use_database(cw_db *db, cw_err *err)
{
    const cw_db_params *c = db->cfg;
    MYSQL *m = db->m;

    if (db->create) {
        cw_buf b = { 0 };
        cw_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS `");
        cw_buf_puts(&b, c->name);
        cw_buf_puts(&b, "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        if (strchr(c->name, '`') != NULL || mysql_query(m, b.p) != 0) {
            int rc = fail(db, err, "create database");
            cw_buf_free(&b);
            return rc;
        }
        cw_buf_free(&b);
    }
    if (mysql_select_db(m, c->name) != 0)
        return cw_err_set(err, CW_EDB, "database '%s': %s (run `casewarden migrate` first)",
                          c->name, mysql_error(m));
    if (db->sync_wait && mysql_query(m, "SET SESSION wsrep_sync_wait = 1") != 0)
        return fail(db, err, "wsrep_sync_wait");
    return 0;
}

/* Connect to the first node that answers, from node `first` round the
 * list. */
static int open_conn(cw_db *db, size_t first, cw_err *err)
{
    const cw_db_params *c = db->cfg;
    size_t n = nnodes(c);
    cw_buf tried = { 0 };
    int rc;

    for (size_t k = 0; k < n; k++) {
        size_t i = (first + k) % n;
        cw_db_node nd = node(c, i);
        char name[300], why[300];
        node_name(&nd, name, sizeof name);
        if (open_node(db, i, why, sizeof why) == 0) {
            if (k > 0)
                cw_log(CW_LOG_WARN, "database: connected to node %s after %s", name, tried.p);
            cw_buf_free(&tried);
            return use_database(db, err);
        }
        cw_buf_puts(&tried, k > 0 ? "; " : "");
        cw_buf_puts(&tried, name);
        cw_buf_puts(&tried, ": ");
        cw_buf_puts(&tried, why);
    }
    db->at = first;
    if (n == 1)
        rc = cw_err_set(err, CW_EDB, "cannot connect to MariaDB at %s", tried.p);
    else
        rc = cw_err_set(err, CW_EDB, "cannot connect to any of the %zu database nodes: %s", n, tried.p);
    cw_buf_free(&tried);
    return rc;
}

void cw_db_nodes_free(cw_db_params *p)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        free(p->nodes[i].socket);
        free(p->nodes[i].host);
    }
    free(p->nodes);
    p->nodes = NULL;
    p->nnodes = 0;
}

int cw_db_connect(cw_db **out, const cw_db_params *c, bool create, cw_err *err)
{
    cw_db *db = cw_xcalloc(1, sizeof *db);
    int rc;

    *out = NULL;
    db->cfg = c;
    db->create = create;
    if ((rc = open_conn(db, 0, err)) < 0) {
        if (db->m)
            mysql_close(db->m);
        free(db);
        return rc;
    }
    *out = db;
    return 0;
}

int cw_db_reconnect(cw_db *db, cw_err *err)
{
    /* the node of the connection lost (or of the last try, refused)
     * comes last: a node gone is not waited for first */
    size_t first = (db->at + 1) % nnodes(db->cfg);
    int rc;

    if (db->m)
        mysql_close(db->m);
    db->m = NULL;
    db->consecutive = 0;
    if ((rc = open_conn(db, first, err)) < 0)
        return rc;
    if (nnodes(db->cfg) > 1) {
        char name[300];
        cw_log(CW_LOG_INFO, "database: connected again, to node %s", cw_db_node_name(db, name, sizeof name));
    }
    return 0;
}

int cw_db_sync_wait(cw_db *db, bool on, cw_err *err)
{
    db->sync_wait = on;
    return cw_db_exec(db, on ? "SET SESSION wsrep_sync_wait = 1" : "SET SESSION wsrep_sync_wait = 0",
                      err);
}

const char *cw_db_node_name(cw_db *db, char *out, size_t size)
{
    cw_db_node nd = node(db->cfg, db->at);

    node_name(&nd, out, size);
    return out;
}

void cw_db_close(cw_db *db)
{
    if (db == NULL)
        return;
    if (db->m)
        mysql_close(db->m);
    free(db);
}

/* After a failed reconnect there is no handle: try once more first
 * (from the node after the one that failed). */
static int connected(cw_db *db, cw_err *err)
{
    if (db->m != NULL)
        return 0;
    return open_conn(db, (db->at + 1) % nnodes(db->cfg), err);
}

int cw_db_execn(cw_db *db, const char *sql, size_t len, cw_err *err)
{
    int rc;

    if ((rc = connected(db, err)) < 0)
        return rc;
    db->last_errno = 0;
    if (mysql_real_query(db->m, sql, (unsigned long)len) != 0)
        return fail(db, err, "query");
    db->last_insert = (uint64_t)mysql_insert_id(db->m);
    /* drain results of multi-statements */
    while (mysql_more_results(db->m)) {
        if (mysql_next_result(db->m) > 0)
            return fail(db, err, "query");
        MYSQL_RES *r = mysql_store_result(db->m);
        if (r)
            mysql_free_result(r);
    }
    return 0;
}

int cw_db_exec(cw_db *db, const char *sql, cw_err *err)
{
    return cw_db_execn(db, sql, strlen(sql), err);
}

int cw_db_begin(cw_db *db, cw_err *err)
{
    return cw_db_exec(db, "START TRANSACTION", err);
}

int cw_db_commit(cw_db *db, cw_err *err)
{
    if (db->m == NULL)
        return cw_err_set(err, CW_EDB, "commit: not connected");
    if (mysql_commit(db->m) != 0)
        return fail(db, err, "commit");
    return 0;
}

void cw_db_rollback(cw_db *db)
{
    if (db->m != NULL)
        mysql_rollback(db->m);
}

uint64_t cw_db_affected(cw_db *db)
{
    return db->m ? (uint64_t)mysql_affected_rows(db->m) : 0;
}

uint64_t cw_db_insert_id(cw_db *db)
{
    return db->last_insert;
}

bool cw_db_consecutive_ids(cw_db *db)
{
    if (db->consecutive == 0) {
        int64_t mode = 2, inc = 0;
        cw_err err;
        db->consecutive = cw_db_scalar(db, "SELECT @@innodb_autoinc_lock_mode", &mode, &err) == 0 &&
                          cw_db_scalar(db, "SELECT @@auto_increment_increment", &inc, &err) == 0 &&
                          mode <= 1 && inc == 1 ? 1 : -1;
    }
    return db->consecutive > 0;
}

unsigned cw_db_errno(cw_db *db)
{
    return db->m == NULL ? CW_DBERR_SERVER_GONE : db->last_errno;
}

bool cw_db_is_down(cw_db *db)
{
    unsigned e = cw_db_errno(db);

    /* client-side errors (2000-2999): no connection, lost, timed out;
     * a Galera node out of its primary component (1047) is as good as
     * gone: another node is wanted */
    return (e >= 2000 && e < 3000) || e == CW_DBERR_WSREP_NOT_READY;
}

bool cw_db_is_retryable(cw_db *db)
{
    unsigned e = cw_db_errno(db);

    return e == CW_DBERR_LOCK_DEADLOCK || e == CW_DBERR_LOCK_WAIT;
}

int cw_db_query(cw_db *db, const char *sql, bool stream, cw_db_row_fn fn, void *ud, cw_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc;

    if ((rc = connected(db, err)) < 0)
        return rc;
    db->last_errno = 0;
    if (mysql_query(db->m, sql) != 0)
        return fail(db, err, "query");
    res = stream ? mysql_use_result(db->m) : mysql_store_result(db->m);
    if (res == NULL) {
        if (mysql_field_count(db->m) == 0)
            return 0;
        return fail(db, err, "result");
    }
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (rc == 0)
            rc = fn(ud, row, mysql_fetch_lengths(res), mysql_num_fields(res));
        /* after a stop, a streamed result must still be read to its end */
        if (rc != 0 && !stream)
            break;
    }
    if (rc == 0 && mysql_errno(db->m) != 0)
        rc = fail(db, err, "fetch");
    mysql_free_result(res);
    return rc;
}

static int scalar_row(void *ud, char **row, unsigned long *lens, unsigned n)
{
    (void)lens;
    *(int64_t *)ud = n > 0 && row[0] ? strtoll(row[0], NULL, 10) : 0;
    return 0;
}

int cw_db_scalar(cw_db *db, const char *sql, int64_t *out, cw_err *err)
{
    *out = 0;
    return cw_db_query(db, sql, false, scalar_row, out, err);
}


/* ---- prepared statements ----------------------------------------------------- */

static int stmt_fail(cw_db *db, MYSQL_STMT *st, cw_err *err, const char *what)
{
    int rc = cw_err_set(err, CW_EDB, "%s: %s (MariaDB error %u)", what, mysql_stmt_error(st),
                        mysql_stmt_errno(st));

    db->last_errno = mysql_stmt_errno(st);
    mysql_stmt_close(st);
    return rc;
}

static MYSQL_STMT *stmt_run(cw_db *db, const char *sql, const cw_dbarg *args, size_t n,
                            cw_err *err, int *rc)
{
    MYSQL_BIND *b = n ? cw_xcalloc(n, sizeof *b) : NULL;
    unsigned long *lens = n ? cw_xcalloc(n, sizeof *lens) : NULL;
    MYSQL_STMT *st = NULL;

    *rc = 0;
    db->last_errno = 0;
    if ((*rc = connected(db, err)) < 0)
        goto out;
    if ((st = mysql_stmt_init(db->m)) == NULL) {
        *rc = fail(db, err, "statement");
        goto out;
    }
    if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
        *rc = stmt_fail(db, st, err, "prepare");
        st = NULL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        switch (args[i].kind) {
        case CW_DBA_INT:
        case CW_DBA_UINT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&args[i].i;
            b[i].is_unsigned = args[i].kind == CW_DBA_UINT;
            break;
        case CW_DBA_STR:
        case CW_DBA_BLOB:
            lens[i] = (unsigned long)args[i].len;
            b[i].buffer_type = args[i].kind == CW_DBA_BLOB ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b[i].buffer = (void *)args[i].s;
            b[i].buffer_length = lens[i];
            b[i].length = &lens[i];
            break;
        default:
            b[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
    if ((n > 0 && mysql_stmt_bind_param(st, b) != 0) || mysql_stmt_execute(st) != 0) {
        *rc = stmt_fail(db, st, err, "query");
        st = NULL;
    }
out:
    free(b);
    free(lens);
    return *rc < 0 ? NULL : st;
}

typedef struct pcols {
    unsigned n;
    MYSQL_BIND *b;
    char **buf, **row;
    unsigned long *len;
    my_bool *null;
} pcols;

static void pcols_free(pcols *c)
{
    for (unsigned i = 0; i < c->n; i++)
        free(c->buf[i]);
    free(c->b);
    free(c->buf);
    free(c->row);
    free(c->len);
    free(c->null);
}

static void pcols_init(pcols *c, unsigned n)
{
    c->n = n;
    c->b = cw_xcalloc(n ? n : 1, sizeof *c->b);
    c->buf = cw_xcalloc(n ? n : 1, sizeof *c->buf);
    c->row = cw_xcalloc(n ? n : 1, sizeof *c->row);
    c->len = cw_xcalloc(n ? n : 1, sizeof *c->len);
    c->null = cw_xcalloc(n ? n : 1, sizeof *c->null);
    for (unsigned i = 0; i < n; i++) {
        c->buf[i] = cw_xmalloc(PQ_COLBUF + 1);
        c->b[i].buffer_type = MYSQL_TYPE_STRING;
        c->b[i].buffer = c->buf[i];
        c->b[i].buffer_length = PQ_COLBUF;
        c->b[i].length = &c->len[i];
        c->b[i].is_null = &c->null[i];
    }
}

/* After a fetch: fetch again the columns that did not fit, into buffers
 * grown to their length, and point row[] at NUL-terminated values. */
static int pcols_take(MYSQL_STMT *st, pcols *c)
{
    bool grown = false;

    for (unsigned i = 0; i < c->n; i++) {
        if (c->null[i]) {
            c->row[i] = NULL;
            continue;
        }
        if (c->len[i] > c->b[i].buffer_length) {
            unsigned long want = c->len[i];
            c->buf[i] = cw_xrealloc(c->buf[i], want + 1);
            c->b[i].buffer = c->buf[i];
            c->b[i].buffer_length = want;
            if (mysql_stmt_fetch_column(st, &c->b[i], i, 0) != 0)
                return -1;
            c->len[i] = want;
            grown = true;
        }
        c->buf[i][c->len[i]] = '\0';
        c->row[i] = c->buf[i];
    }
    /* the statement keeps its own copy of the bindings: give it the
     * grown buffers for the next rows */
    return grown && mysql_stmt_bind_result(st, c->b) != 0 ? -1 : 0;
}

int cw_db_pquery(cw_db *db, const char *sql, const cw_dbarg *args, size_t n, cw_db_row_fn fn,
                 void *ud, cw_err *err)
{
    int rc;
    MYSQL_STMT *st = stmt_run(db, sql, args, n, err, &rc);
    MYSQL_RES *meta;
    pcols c = { 0 };
    int f;

    if (st == NULL)
        return rc < 0 ? rc : CW_EDB;
    if ((meta = mysql_stmt_result_metadata(st)) == NULL) {
        mysql_stmt_close(st);
        return 0;
    }
    pcols_init(&c, mysql_num_fields(meta));
    mysql_free_result(meta);
    if (mysql_stmt_bind_result(st, c.b) != 0 || mysql_stmt_store_result(st) != 0) {
        pcols_free(&c);
        return stmt_fail(db, st, err, "result");
    }
    while ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED) {
        if (pcols_take(st, &c) < 0) {
            pcols_free(&c);
            return stmt_fail(db, st, err, "fetch");
        }
        if ((rc = fn(ud, c.row, c.len, c.n)) != 0)
            break;
    }
    if (rc == 0 && f == 1) {
        pcols_free(&c);
        return stmt_fail(db, st, err, "fetch");
    }
    pcols_free(&c);
    mysql_stmt_close(st);
    return rc;
}

int cw_db_pexec(cw_db *db, const char *sql, const cw_dbarg *args, size_t n, uint64_t *affected,
                cw_err *err)
{
    int rc;
    MYSQL_STMT *st = stmt_run(db, sql, args, n, err, &rc);

    if (st == NULL)
        return rc < 0 ? rc : CW_EDB;
    if (affected)
        *affected = (uint64_t)mysql_stmt_affected_rows(st);
    db->last_insert = (uint64_t)mysql_stmt_insert_id(st);
    mysql_stmt_close(st);
    return 0;
}

/* ---- batches ------------------------------------------------------------------ */

#define BATCH_ARGS 60000        /* bound arguments of one statement (MariaDB: 65535) */
#define BATCH_BYTES (4u << 20)  /* bytes of values in one statement */

struct cw_dbbval {
    int kind;
    int64_t i;
    size_t off, len;
};

void cw_dbbatch_init(cw_dbbatch *b, const char *head, const char *row, unsigned ncols,
                     const char *tail)
{
    memset(b, 0, sizeof *b);
    b->head = head;
    b->row = row;
    b->ncols = ncols;
    b->tail = tail;
}

static struct cw_dbbval *bval(cw_dbbatch *b, int kind)
{
    struct cw_dbbval *v;

    CW_GROW(b->v, b->capv, b->nv + 1);
    v = &b->v[b->nv++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
}

void cw_dbbatch_str(cw_dbbatch *b, const char *s, size_t len)
{
    struct cw_dbbval *v = bval(b, CW_DBA_STR);

    v->off = b->strs.n;
    v->len = len;
    cw_buf_put(&b->strs, s, len);
}

void cw_dbbatch_blob(cw_dbbatch *b, const void *p, size_t len)
{
    struct cw_dbbval *v = bval(b, CW_DBA_BLOB);

    v->off = b->strs.n;
    v->len = len;
    cw_buf_put(&b->strs, p, len);
}

void cw_dbbatch_int(cw_dbbatch *b, int64_t i)
{
    bval(b, CW_DBA_INT)->i = i;
}

void cw_dbbatch_null(cw_dbbatch *b)
{
    bval(b, CW_DBA_NULL);
}

int cw_dbbatch_send(cw_db *db, cw_dbbatch *b, cw_err *err)
{
    cw_buf sql = { 0 };
    cw_dbarg *a;
    int rc;

    if (b->rows == 0)
        return 0;
    cw_buf_puts(&sql, b->head);
    for (size_t r = 0; r < b->rows; r++) {
        if (r)
            cw_buf_put(&sql, ",", 1);
        cw_buf_puts(&sql, b->row);
    }
    if (b->tail)
        cw_buf_puts(&sql, b->tail);
    a = cw_xmalloc(b->nv * sizeof *a);
    for (size_t i = 0; i < b->nv; i++) {
        a[i].kind = b->v[i].kind;
        a[i].i = b->v[i].i;
        a[i].s = b->strs.p ? b->strs.p + b->v[i].off : "";
        a[i].len = b->v[i].len;
    }
    rc = cw_db_pexec(db, sql.p, a, b->nv, NULL, err);
    free(a);
    cw_buf_free(&sql);
    b->nv = 0;
    b->rows = 0;
    b->strs.n = 0;
    return rc;
}

int cw_dbbatch_row(cw_db *db, cw_dbbatch *b, cw_err *err)
{
    b->rows++;
    if (b->nv + b->ncols > BATCH_ARGS || b->strs.n >= BATCH_BYTES)
        return cw_dbbatch_send(db, b, err);
    return 0;
}

void cw_dbbatch_free(cw_dbbatch *b)
{
    cw_buf_free(&b->strs);
    free(b->v);
    memset(b, 0, sizeof *b);
}
