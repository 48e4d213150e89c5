#include "store/store.h"

#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct cw_db {
    MYSQL *m;
    const cw_config *cfg;
    bool create;
    int consecutive;         /* cw_db_consecutive_ids: 0 not asked yet */
};

static int fail(cw_db *db, cw_err *err, const char *what)
{
    return cw_err_set(err, CW_EDB, "%s: %s (MariaDB error %u)", what, mysql_error(db->m),
                      mysql_errno(db->m));
}

static int open_conn(cw_db *db, cw_err *err)
{
    const cw_config *c = db->cfg;
    unsigned timeout = 10, rw = 60;
    MYSQL *m = mysql_init(NULL);

    if (m == NULL)
        return cw_err_set(err, CW_ENOMEM, "mysql_init failed");
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    /* UTC inside the session: times are stored as epoch seconds anyway,
     * but TIMESTAMP columns then read back unambiguously. */
    mysql_optionsv(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
                                          "NO_ENGINE_SUBSTITUTION'");
    if (mysql_real_connect(m, c->db_socket ? NULL : c->db_host, c->db_user, c->db_password, NULL,
                           c->db_socket ? 0 : c->db_port, c->db_socket, CLIENT_MULTI_STATEMENTS) == NULL) {
        int rc = cw_err_set(err, CW_EDB, "cannot connect to MariaDB at %s: %s",
                            c->db_socket ? c->db_socket : c->db_host, mysql_error(m));
        mysql_close(m);
        return rc;
    }
    db->m = m;
    if (db->create) {
        cw_buf b = { 0 };
        cw_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS `");
        cw_buf_puts(&b, c->db_name);
        cw_buf_puts(&b, "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        if (strchr(c->db_name, '`') != NULL || mysql_query(m, b.p) != 0) {
            int rc = fail(db, err, "create database");
            cw_buf_free(&b);
            return rc;
        }
        cw_buf_free(&b);
    }
    if (mysql_select_db(m, c->db_name) != 0)
        return cw_err_set(err, CW_EDB, "database '%s': %s (run `casewarden migrate` first)",
                          c->db_name, mysql_error(m));
    return 0;
}

int cw_db_connect(cw_db **out, const cw_config *c, bool create, cw_err *err)
{
    cw_db *db = cw_xcalloc(1, sizeof *db);
    int rc;

    *out = NULL;
    db->cfg = c;
    db->create = create;
    if ((rc = open_conn(db, err)) < 0) {
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
    if (db->m)
        mysql_close(db->m);
    db->m = NULL;
    db->consecutive = 0;
    return open_conn(db, err);
}

void cw_db_close(cw_db *db)
{
    if (db == NULL)
        return;
    if (db->m)
        mysql_close(db->m);
    free(db);
}

void *cw_db_handle(cw_db *db)
{
    return db->m;
}

/* After a failed reconnect there is no handle: try once more first. */
static int connected(cw_db *db, cw_err *err)
{
    if (db->m != NULL)
        return 0;
    return open_conn(db, err);
}

int cw_db_execn(cw_db *db, const char *sql, size_t len, cw_err *err)
{
    int rc;

    if ((rc = connected(db, err)) < 0)
        return rc;
    if (mysql_real_query(db->m, sql, (unsigned long)len) != 0)
        return fail(db, err, "query");
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
    return db->m ? (uint64_t)mysql_insert_id(db->m) : 0;
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
    return db->m ? mysql_errno(db->m) : 2006;
}

void cw_db_quote(cw_db *db, cw_buf *b, const char *s, size_t len)
{
    size_t need = 2 * len + 3;

    if (db->m == NULL) {
        /* no connection to ask for its character set: utf8mb4 rules,
         * where escaping these is enough */
        cw_buf_put(b, "'", 1);
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            if (c == '\'' || c == '\\' || c == '\0' || c == '\n' || c == '\r' || c == 0x1a) {
                char e[2] = { '\\', c == '\0' ? '0' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == 0x1a ? 'Z' : c };
                cw_buf_put(b, e, 2);
            } else {
                cw_buf_put(b, &c, 1);
            }
        }
        cw_buf_put(b, "'", 1);
        return;
    }

    cw_buf_reserve(b, need);
    b->p[b->n++] = '\'';
    b->n += mysql_real_escape_string(db->m, b->p + b->n, s, (unsigned long)len);
    b->p[b->n++] = '\'';
    b->p[b->n] = '\0';
}

int cw_db_query(cw_db *db, const char *sql, bool stream, cw_db_row_fn fn, void *ud, cw_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc;

    if ((rc = connected(db, err)) < 0)
        return rc;
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

/* ---- schema ---------------------------------------------------------------- */

/* Every statement of a migration is idempotent (IF NOT EXISTS), so a
 * migration cut short by a crash is simply run again. */
typedef struct migration {
    int version;
    const char *what;
    const char *const *sql;
} migration;

static const char *const v1[] = {
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  body LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    "     AS (JSON_VALUE(body, '$.id')) PERSISTENT,"
    "  case_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    "     AS (JSON_VALUE(body, '$.case')) PERSISTENT,"
    "  type VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    "     AS (JSON_VALUE(body, '$.type')) VIRTUAL,"
    "  received_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  source VARCHAR(16) NOT NULL DEFAULT 'sql',"
    "  UNIQUE KEY events_id (id),"
    "  KEY events_case (case_id, seq)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS event_problems ("
    "  seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    "  event_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
    "  field VARCHAR(96) NOT NULL DEFAULT '',"
    "  message TEXT NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS event_conflicts ("
    "  n BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  event_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  first_seq BIGINT UNSIGNED NOT NULL,"
    "  body LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  source VARCHAR(16) NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  KEY event_conflicts_id (event_id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS findings ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  rule VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  case_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  subject VARCHAR(160) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  unit VARCHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  severity ENUM('low','medium','high','critical') NOT NULL,"
    "  state ENUM('warning','overdue','late','violation','anomaly','cleared') NOT NULL,"
    "  due BIGINT NULL,"
    "  raised BIGINT NOT NULL,"
    "  message TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  basis TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  events TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  review ENUM('open','acknowledged','resolved','dismissed') NOT NULL DEFAULT 'open',"
    "  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    "  UNIQUE KEY findings_key (rule, case_id, subject),"
    "  KEY findings_unit (unit, id),"
    "  KEY findings_state (state, id),"
    "  KEY findings_review (review, id),"
    "  KEY findings_rule (rule, id),"
    "  KEY findings_case (case_id, id),"
    "  KEY findings_raised (raised, id),"
    "  KEY findings_due (due, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS finding_reviews ("
    "  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  finding_id BIGINT UNSIGNED NOT NULL,"
    "  rule VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    "  case_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  subject VARCHAR(160) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  action ENUM('acknowledge','resolve','dismiss','reopen') NOT NULL,"
    "  previous ENUM('open','acknowledged','resolved','dismissed') NOT NULL,"
    "  review ENUM('open','acknowledged','resolved','dismissed') NOT NULL,"
    "  who VARCHAR(64) NOT NULL,"
    "  comment TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    "  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  KEY finding_reviews_finding (finding_id, id)"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS engine_checkpoint ("
    "  name VARCHAR(64) NOT NULL PRIMARY KEY,"
    "  seq BIGINT UNSIGNED NOT NULL,"
    "  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only'",
    "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events are append-only'",
    "CREATE TRIGGER IF NOT EXISTS finding_reviews_no_update BEFORE UPDATE ON finding_reviews FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the review audit trail is append-only'",
    "CREATE TRIGGER IF NOT EXISTS finding_reviews_no_delete BEFORE DELETE ON finding_reviews FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the review audit trail is append-only'",
    /* The idempotent way for SQL clients to submit an event: stored,
     * duplicate (same content: nothing happens) or conflict (recorded,
     * not applied). */
    "CREATE PROCEDURE IF NOT EXISTS cw_put_event(IN b LONGTEXT, OUT result VARCHAR(16))\n"
    "BEGIN\n"
    "  DECLARE existing LONGTEXT DEFAULT NULL;\n"
    "  DECLARE first BIGINT UNSIGNED DEFAULT NULL;\n"
    "  SELECT body, seq INTO existing, first FROM events WHERE id = JSON_VALUE(b, '$.id') LIMIT 1;\n"
    "  IF existing IS NULL THEN\n"
    "    INSERT INTO events (body, source) VALUES (b, 'sql');\n"
    "    SET result = 'stored';\n"
    "  ELSEIF JSON_EQUALS(existing, b) THEN\n"
    "    SET result = 'duplicate';\n"
    "  ELSE\n"
    "    INSERT INTO event_conflicts (event_id, first_seq, body, source)\n"
    "      VALUES (JSON_VALUE(b, '$.id'), first, b, 'sql');\n"
    "    SET result = 'conflict';\n"
    "  END IF;\n"
    "END",
    NULL,
};

/* Inspectors' usual lists, by state and unit (their scope) or by rule,
 * newest last: ordered by id without reading through other states. */
static const char *const v2[] = {
    "CREATE INDEX IF NOT EXISTS findings_state_unit ON findings (state, unit, id)",
    "CREATE INDEX IF NOT EXISTS findings_rule_state ON findings (rule, state, unit, id)",
    NULL,
};

static const migration migrations[] = {
    { 1, "events, findings, reviews, checkpoint", v1 },
    { 2, "findings indexes for inspectors' lists", v2 },
};

int cw_db_schema_version(cw_db *db, int *version, cw_err *err)
{
    int64_t v = 0, exists = 0;
    int rc;

    *version = 0;
    if ((rc = cw_db_scalar(db, "SELECT COUNT(*) FROM information_schema.tables WHERE "
                               "table_schema = DATABASE() AND table_name = 'cw_schema'",
                           &exists, err)) < 0)
        return rc;
    if (exists == 0)
        return 0;
    if ((rc = cw_db_scalar(db, "SELECT COALESCE(MAX(version), 0) FROM cw_schema", &v, err)) < 0)
        return rc;
    *version = (int)v;
    return 0;
}

int cw_db_migrate(cw_db *db, FILE *progress, cw_err *err)
{
    int latest = migrations[sizeof migrations / sizeof *migrations - 1].version;
    int64_t got = 0;
    int version, rc;

    /* one migrator at a time */
    if ((rc = cw_db_scalar(db, "SELECT GET_LOCK('casewarden.migrate', 60)", &got, err)) < 0)
        return rc;
    if (got != 1)
        return cw_err_set(err, CW_EDB, "another migration holds the lock; try again");
    if ((rc = cw_db_exec(db, "CREATE TABLE IF NOT EXISTS cw_schema ("
                             "  version INT NOT NULL PRIMARY KEY,"
                             "  description VARCHAR(200) NOT NULL,"
                             "  applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
                             ") ENGINE=InnoDB", err)) < 0)
        goto out;
    if ((rc = cw_db_schema_version(db, &version, err)) < 0)
        goto out;
    if (version > latest) {
        rc = cw_err_set(err, CW_EDB, "the database schema is version %d, newer than this casewarden "
                        "(which knows up to %d): upgrade casewarden instead", version, latest);
        goto out;
    }
    if (version == latest && progress)
        fprintf(progress, "casewarden migrate: schema is up to date (version %d)\n", version);
    for (size_t i = 0; i < sizeof migrations / sizeof *migrations; i++) {
        const migration *m = &migrations[i];
        cw_buf b = { 0 };
        if (m->version <= version)
            continue;
        if (progress)
            fprintf(progress, "casewarden migrate: applying version %d: %s\n", m->version, m->what);
        for (const char *const *s = m->sql; *s; s++)
            if ((rc = cw_db_exec(db, *s, err)) < 0) {
                cw_err_prefix(err, "migration %d", m->version);
                goto out;
            }
        cw_buf_printf(&b, "INSERT INTO cw_schema (version, description) VALUES (%d, ", m->version);
        cw_db_quotes(db, &b, m->what);
        cw_buf_puts(&b, ")");
        rc = cw_db_exec(db, b.p, err);
        cw_buf_free(&b);
        if (rc < 0 || (rc = cw_db_commit(db, err)) < 0)
            goto out;
    }
    rc = 0;
out:
    {
        cw_err e2;
        cw_db_scalar(db, "SELECT RELEASE_LOCK('casewarden.migrate')", &got, &e2);
    }
    return rc;
}
