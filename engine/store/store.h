/*
 * MariaDB: the single source of truth. Connection handling, the versioned
 * schema, and the reads and writes the engine and the API share.
 *
 * The schema (docs/SERVICE.md has it in full):
 *   events            append-only; seq, the JSON body as received, id,
 *                     case and type derived from the body; id unique
 *   event_problems    events the engine could not accept, and why
 *   event_conflicts   bodies refused because their id was taken
 *   findings          one row per (rule, case, subject), upserted
 *   finding_reviews   append-only audit of inspectors' reviews
 *   engine_checkpoint the last seq evaluated, per engine
 *   cw_schema         applied migrations
 * Triggers refuse UPDATE and DELETE on the append-only tables.
 *
 * A cw_db is one connection, for one thread.
 */
#ifndef CW_DB_H
#define CW_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "service/config.h"
#include "base/err.h"
#include "base/util.h"

#define CW_SCHEMA_VERSION 2

typedef struct cw_db cw_db;

/* Connect as the configuration says (Unix socket when given, utf8mb4,
 * timeouts). With create, a missing database is created. */
int cw_db_connect(cw_db **out, const cw_config *c, bool create, cw_err *err);
void cw_db_close(cw_db *db);
/* The underlying MYSQL handle (for code that builds its own queries). */
void *cw_db_handle(cw_db *db);
/* Reconnect after a lost connection. */
int cw_db_reconnect(cw_db *db, cw_err *err);

/* Run one statement that returns no rows. */
int cw_db_exec(cw_db *db, const char *sql, cw_err *err);
int cw_db_execn(cw_db *db, const char *sql, size_t len, cw_err *err);
int cw_db_begin(cw_db *db, cw_err *err);
int cw_db_commit(cw_db *db, cw_err *err);
void cw_db_rollback(cw_db *db);
/* Rows changed by the last statement. */
uint64_t cw_db_affected(cw_db *db);
/* The AUTO_INCREMENT value the last INSERT gave its first row. */
uint64_t cw_db_insert_id(cw_db *db);
/* Whether a multi-row INSERT's rows get consecutive AUTO_INCREMENT
 * values from cw_db_insert_id on (innodb_autoinc_lock_mode 0 or 1 and an
 * increment of 1); asked once per connection. */
bool cw_db_consecutive_ids(cw_db *db);
/* The MariaDB error number of the last failure (1062 duplicate key...). */
unsigned cw_db_errno(cw_db *db);

/* Append s[0..len) to b as a quoted SQL string literal. */
void cw_db_quote(cw_db *db, cw_buf *b, const char *s, size_t len);
static inline void cw_db_quotes(cw_db *db, cw_buf *b, const char *s)
{
    cw_db_quote(db, b, s, strlen(s));
}

/* Run a query and call fn for each row (values NUL-terminated, NULL for
 * SQL NULL; lens their lengths). Streams the rows when stream is set.
 * fn returning non-zero stops (and is returned). */
typedef int (*cw_db_row_fn)(void *ud, char **row, unsigned long *lens, unsigned ncols);
int cw_db_query(cw_db *db, const char *sql, bool stream, cw_db_row_fn fn, void *ud, cw_err *err);
/* The first column of the first row as an integer (0 when no row). */
int cw_db_scalar(cw_db *db, const char *sql, int64_t *out, cw_err *err);

/* The schema version in the database (0: none yet). */
int cw_db_schema_version(cw_db *db, int *version, cw_err *err);
/* Create or upgrade the schema. Refuses a database whose schema is newer
 * than this program's. Progress lines go to progress (may be NULL).
 * Safe to run twice, and from two processes at once. */
int cw_db_migrate(cw_db *db, FILE *progress, cw_err *err);

#endif
