/*
 * The store's own primitives over one MariaDB connection: statements,
 * prepared statements with bound arguments, transactions, rows. Only the
 * files of engine/store/ include this; everyone else calls store.h.
 *
 * Every value from outside (events' contents, the HTTP API's filters,
 * ids and comments) reaches MariaDB only as a bound argument of a
 * prepared statement (cw_db_pquery, cw_db_pexec, cw_dbbatch): no SQL text
 * is ever built from data.
 */
#ifndef CW_STORE_DB_H
#define CW_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/util.h"
#include "store/store.h"

/* MariaDB error numbers the store tells apart (mysqld_error.h names). */
#define CW_DBERR_DUP_ENTRY 1062         /* ER_DUP_ENTRY */
#define CW_DBERR_LOCK_DEADLOCK 1213     /* ER_LOCK_DEADLOCK (and Galera certification) */
#define CW_DBERR_LOCK_WAIT 1205         /* ER_LOCK_WAIT_TIMEOUT */
#define CW_DBERR_SERVER_GONE 2006       /* CR_SERVER_GONE_ERROR */
#define CW_DBERR_WSREP_NOT_READY 1047   /* ER_UNKNOWN_COM_ERROR: a Galera node not ready */

/* Make this connection's reads wait for the cluster's writes
 * (wsrep_sync_wait = 1), or not; kept over reconnects. */
int cw_db_sync_wait(cw_db *db, bool on, cw_err *err);

/* Run one statement that returns no rows. */
int cw_db_exec(cw_db *db, const char *sql, cw_err *err);
int cw_db_execn(cw_db *db, const char *sql, size_t len, cw_err *err);
/* The MariaDB error number of the last failure (CW_DBERR_*). */
unsigned cw_db_errno(cw_db *db);
/* Rows changed by the last statement. */
uint64_t cw_db_affected(cw_db *db);
/* The AUTO_INCREMENT value the last INSERT gave its first row. */
uint64_t cw_db_insert_id(cw_db *db);
/* Whether a multi-row INSERT's rows get consecutive AUTO_INCREMENT
 * values from cw_db_insert_id on (innodb_autoinc_lock_mode 0 or 1 and an
 * increment of 1); asked once per connection. */
bool cw_db_consecutive_ids(cw_db *db);

/* A row: values NUL-terminated, NULL for SQL NULL; lens their lengths.
 * Non-zero from fn stops (and is returned). */
typedef int (*cw_db_row_fn)(void *ud, char **row, unsigned long *lens, unsigned ncols);
/* Run a query of our own text; streams the rows when stream is set. */
int cw_db_query(cw_db *db, const char *sql, bool stream, cw_db_row_fn fn, void *ud, cw_err *err);
/* The first column of the first row as an integer (0 when no row). */
int cw_db_scalar(cw_db *db, const char *sql, int64_t *out, cw_err *err);

/* A bound argument of a prepared statement. */
typedef struct cw_dbarg {
    enum { CW_DBA_NULL, CW_DBA_INT, CW_DBA_UINT, CW_DBA_STR, CW_DBA_BLOB } kind;
    int64_t i;
    const char *s;
    size_t len;
} cw_dbarg;
#define CW_DBA_I(v) ((cw_dbarg){ .kind = CW_DBA_INT, .i = (int64_t)(v) })
/* for a BIGINT UNSIGNED column (a digest): the bits of a uint64_t */
#define CW_DBA_U(v) ((cw_dbarg){ .kind = CW_DBA_UINT, .i = (int64_t)(uint64_t)(v) })
#define CW_DBA_S(v) ((cw_dbarg){ .kind = CW_DBA_STR, .s = (v), .len = strlen(v) })
#define CW_DBA_SN(v, n) ((cw_dbarg){ .kind = CW_DBA_STR, .s = (v), .len = (n) })

/* Prepare sql (with ? markers), bind args[0..n), execute, and call fn for
 * each row of its result (every column as text), or none. */
int cw_db_pquery(cw_db *db, const char *sql, const cw_dbarg *args, size_t n, cw_db_row_fn fn,
                 void *ud, cw_err *err);
/* The same for a statement without rows; *affected may be NULL. */
int cw_db_pexec(cw_db *db, const char *sql, const cw_dbarg *args, size_t n, uint64_t *affected,
                cw_err *err);

/*
 * A multi-row statement with bound arguments: head, then `row` (its
 * markers, e.g. "(?,?,?)") once per row, then tail. Values are copied, so
 * the caller's strings may go at once; the statement is sent whenever it
 * reaches the limits of one statement (arguments, bytes), so any number
 * of rows can be added.
 */
typedef struct cw_dbbatch {
    const char *head, *row, *tail;
    unsigned ncols;
    cw_buf strs;             /* the strings' bytes */
    struct cw_dbbval *v;     /* the values, in order */
    size_t nv, capv;
    size_t rows;
} cw_dbbatch;

void cw_dbbatch_init(cw_dbbatch *b, const char *head, const char *row, unsigned ncols,
                     const char *tail);
void cw_dbbatch_str(cw_dbbatch *b, const char *s, size_t len);
void cw_dbbatch_blob(cw_dbbatch *b, const void *p, size_t len);
void cw_dbbatch_int(cw_dbbatch *b, int64_t i);
void cw_dbbatch_null(cw_dbbatch *b);
/* The row's values are in: send when the statement is full. */
int cw_dbbatch_row(cw_db *db, cw_dbbatch *b, cw_err *err);
/* Send what is there (nothing: 0). */
int cw_dbbatch_send(cw_db *db, cw_dbbatch *b, cw_err *err);
void cw_dbbatch_free(cw_dbbatch *b);

#endif
