/*
 * bench/db/insert: write a JSONL file of events straight into the MariaDB
 * `events` table, the way a case-tracking system that bypasses the HTTP
 * API would, and time it. The baseline for the API's ingest rate.
 *
 *     insert --socket PATH --database NAME --events FILE
 *            [--mode insert|proc] [--batch N] [--connections N] [--user U]
 *
 * The lines are cut into batches of N (default 100) consecutive events;
 * each connection (default 4, one thread each) takes the next batch and
 * writes it in one transaction:
 *
 *   insert  one multi-row statement
 *           INSERT INTO events (body) VALUES ('{...}'),('{...}'),...
 *           then COMMIT;
 *   proc    the idempotent path of docs/SERVICE.md, one
 *           CALL cw_put_event('{...}', @r) per event, the N calls of a
 *           batch sent as one multi-statement query (one round trip),
 *           then COMMIT.
 *
 * Commits stay durable (whatever the server's innodb_flush_log_at_trx_commit
 * is, as for the API). Prints one line on stdout:
 *
 *   insert: mode=insert events=200000 batches=2000 connections=4 seconds=2.345 events_per_s=85288
 *
 * and exits 0, or 1 when a statement failed (the MariaDB error on stderr),
 * 2 on a usage error.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

typedef struct line {
    const char *p;
    size_t n;
} line;

typedef struct job {
    const char *socket, *database, *user;
    bool proc;
    line *lines;
    size_t nlines, batch, nbatches;
    atomic_size_t next;         /* the next batch to take */
    atomic_bool failed;
} job;

static void usage(int status)
{
    fputs("usage: insert --socket PATH --database NAME --events FILE\n"
          "              [--mode insert|proc] [--batch N] [--connections N] [--user U]\n"
          "\n"
          "Write the events of FILE (JSON lines) into the `events` table of NAME\n"
          "over the MariaDB Unix socket PATH, N events per transaction (default\n"
          "100) over several connections (default 4), and print the rate.\n"
          "  --mode insert   one multi-row INSERT per batch (default)\n"
          "  --mode proc     one CALL cw_put_event(...) per event, a batch per round trip\n",
          status ? stderr : stdout);
    exit(status);
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole file in memory; *len gets its size. NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (n + 65536 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 1 << 20;
            if ((nb = realloc(buf, cap + 1)) == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The non-empty lines of buf, without their newline. */
static line *split_lines(const char *buf, size_t len, size_t *n)
{
    size_t cap = 1024, k = 0;
    line *v = malloc(cap * sizeof *v);
    const char *p = buf, *end = buf + len;

    while (v != NULL && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p) {
            if (k == cap) {
                line *nv = realloc(v, cap * 2 * sizeof *v);
                if (nv == NULL) {
                    free(v);
                    return NULL;
                }
                v = nv;
                cap *= 2;
            }
            v[k].p = p;
            v[k].n = (size_t)(e - p);
            k++;
        }
        p = e + 1;
    }
    *n = k;
    return v;
}

static void db_fail(job *j, MYSQL *db, const char *what)
{
    fprintf(stderr, "insert: %s: %s\n", what, mysql_error(db));
    atomic_store(&j->failed, true);
}

/* Make room for len more bytes (and a NUL) in the statement buffer;
 * false when out of memory. */
static bool reserve(char **buf, size_t *cap, size_t n, size_t len)
{
    size_t c = *cap ? *cap : 4096;
    char *nb;

    if (n + len + 1 <= *cap)
        return true;
    while (n + len + 1 > c)
        c *= 2;
    if ((nb = realloc(*buf, c)) == NULL)
        return false;
    *buf = nb;
    *cap = c;
    return true;
}

static bool put(char **buf, size_t *cap, size_t *n, const char *s, size_t len)
{
    if (!reserve(buf, cap, *n, len))
        return false;
    memcpy(*buf + *n, s, len);
    *n += len;
    (*buf)[*n] = '\0';
    return true;
}

/* Append an event's text as a quoted SQL string. */
static bool put_quoted(MYSQL *db, char **buf, size_t *cap, size_t *n, const line *l)
{
    if (!put(buf, cap, n, "'", 1) || !reserve(buf, cap, *n, 2 * l->n + 1))
        return false;
    *n += mysql_real_escape_string(db, *buf + *n, l->p, (unsigned long)l->n);
    return put(buf, cap, n, "'", 1);
}

/* The statement(s) for batch b into *buf. */
static bool build(job *j, MYSQL *db, size_t b, char **buf, size_t *cap, size_t *n)
{
    size_t from = b * j->batch, to = from + j->batch;

    if (to > j->nlines)
        to = j->nlines;
    *n = 0;
    if (!j->proc && !put(buf, cap, n, "INSERT INTO events (body) VALUES ", 33))
        return false;
    for (size_t i = from; i < to; i++) {
        if (j->proc) {
            if (!put(buf, cap, n, "CALL cw_put_event(", 18) || !put_quoted(db, buf, cap, n, &j->lines[i]) ||
                !put(buf, cap, n, ", @r);", 6))
                return false;
        } else {
            if (!put(buf, cap, n, i > from ? ",(" : "(", i > from ? 2 : 1) ||
                !put_quoted(db, buf, cap, n, &j->lines[i]) || !put(buf, cap, n, ")", 1))
                return false;
        }
    }
    return true;
}

/* Send a statement and drain every result it produces (a multi-statement
 * query of CALLs answers once per statement). */
static bool run(MYSQL *db, const char *sql, size_t n)
{
    int st;

    if (mysql_real_query(db, sql, (unsigned long)n) != 0)
        return false;
    do {
        MYSQL_RES *res = mysql_store_result(db);
        mysql_free_result(res);
        if (mysql_errno(db) != 0)
            return false;
    } while ((st = mysql_next_result(db)) == 0);
    return st == -1;
}

static void *worker(void *ud)
{
    job *j = ud;
    MYSQL *db = mysql_init(NULL);
    char *buf = NULL;
    size_t cap = 0, n = 0, b;

    if (db == NULL) {
        fputs("insert: out of memory\n", stderr);
        atomic_store(&j->failed, true);
        return NULL;
    }
    if (mysql_real_connect(db, NULL, j->user, NULL, j->database, 0, j->socket,
                           j->proc ? CLIENT_MULTI_STATEMENTS : 0) == NULL) {
        db_fail(j, db, "connect");
        mysql_close(db);
        return NULL;
    }
    if (mysql_set_character_set(db, "utf8mb4") != 0 || mysql_autocommit(db, 0) != 0) {
        db_fail(j, db, "connection set-up");
        mysql_close(db);
        return NULL;
    }
    while (!atomic_load(&j->failed) && (b = atomic_fetch_add(&j->next, 1)) < j->nbatches) {
        if (!build(j, db, b, &buf, &cap, &n)) {
            fputs("insert: out of memory\n", stderr);
            atomic_store(&j->failed, true);
            break;
        }
        if (!run(db, buf, n)) {
            db_fail(j, db, j->proc ? "CALL cw_put_event" : "INSERT");
            mysql_rollback(db);
            break;
        }
        if (mysql_commit(db) != 0) {
            db_fail(j, db, "COMMIT");
            break;
        }
    }
    free(buf);
    mysql_close(db);
    mysql_thread_end();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *events = NULL, *mode = "insert";
    job j = { .user = "root", .batch = 100 };
    long conns = 4;
    pthread_t *th;
    size_t len;
    char *buf;
    double t0, dt;

    for (int a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0)
            usage(0);
        if (v == NULL)
            usage(2);
        if (strcmp(argv[a], "--socket") == 0)
            j.socket = v;
        else if (strcmp(argv[a], "--database") == 0)
            j.database = v;
        else if (strcmp(argv[a], "--events") == 0)
            events = v;
        else if (strcmp(argv[a], "--user") == 0)
            j.user = v;
        else if (strcmp(argv[a], "--mode") == 0)
            mode = v;
        else if (strcmp(argv[a], "--batch") == 0)
            j.batch = strtoul(v, NULL, 10);
        else if (strcmp(argv[a], "--connections") == 0)
            conns = strtol(v, NULL, 10);
        else
            usage(2);
        a++;
    }
    if (j.socket == NULL || j.database == NULL || events == NULL || j.batch == 0 || conns < 1 ||
        conns > 256 || (strcmp(mode, "insert") != 0 && strcmp(mode, "proc") != 0))
        usage(2);
    j.proc = strcmp(mode, "proc") == 0;
    if ((buf = slurp(events, &len)) == NULL) {
        perror(events);
        return 2;
    }
    if ((j.lines = split_lines(buf, len, &j.nlines)) == NULL) {
        fputs("insert: out of memory\n", stderr);
        free(buf);
        return 2;
    }
    j.nbatches = (j.nlines + j.batch - 1) / j.batch;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, false);
    if (mysql_library_init(0, NULL, NULL) != 0 || (th = calloc((size_t)conns, sizeof *th)) == NULL) {
        fputs("insert: cannot initialise the MariaDB client library\n", stderr);
        return 2;
    }
    t0 = mono();
    for (long i = 0; i < conns; i++)
        if (pthread_create(&th[i], NULL, worker, &j) != 0) {
            fputs("insert: cannot start a thread\n", stderr);
            return 2;
        }
    for (long i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    dt = mono() - t0;
    mysql_library_end();
    free(th);
    free(j.lines);
    free(buf);
    if (atomic_load(&j.failed))
        return 1;
    printf("insert: mode=%s events=%zu batches=%zu connections=%ld seconds=%.3f events_per_s=%.0f\n",
           mode, j.nlines, j.nbatches, conns, dt, (double)j.nlines / dt);
    return 0;
}
