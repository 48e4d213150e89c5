#include "service/service.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "core/engine.h"
#include "offline/eval.h"
#include "event/evjson.h"
#include "base/log.h"
#include "rules/advise.h"
#include "rules/ruleset.h"
#include "base/timeutil.h"
#include "base/util.h"

/* A problem with a stored event, written with the next flush. */
typedef struct problem {
    uint64_t seq;
    char id[CW_ID_MAX + 1];
    char field[96];
    char msg[256];
} problem;

struct cw_service {
    cw_config *cfg;
    cw_time fixed_now;
    cw_time clock_base;      /* with a running clock: the wall time it started */
    FILE *progress;
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_db *db;
    cw_evparser *p;
    uint8_t *rec;
    size_t reccap;
    /* what has been read: every seq <= low, and those in above[] */
    uint64_t low;
    uint64_t *above;
    size_t nabove, capabove;
    cw_time gap_since;       /* when the first missing seq was noticed */
    cw_day calendar_day;     /* the day the calendar's end was last looked at */
    /* a read round: new events stored, processed together at its end */
    struct fresh *fresh;
    size_t nfresh, capfresh;
    uint32_t *replay;        /* cases an event arrived behind: replay once */
    size_t nreplay, capreplay;
    uint8_t *mark;           /* by case index: replayed in this round */
    size_t capmark;
    problem *probs;
    size_t nprobs, capprobs;
    /* shared with other threads */
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* the service waits here */
    pthread_cond_t done;     /* reload requesters wait here */
    bool wake;
    uint64_t reload_asked, reload_done;
    struct asking *asks;     /* suggestions waiting for the service's thread */
    bool stopping;
    int reload_rc;
    char reload_msg[512];
    pthread_rwlock_t cat;    /* readers: validation in other threads */
    cw_rule_view *rules;
    size_t nrules;
    cw_service_stats st;
};

static cw_time wall(void)
{
    return (cw_time)time(NULL);
}

cw_time cw_service_now(cw_service *s)
{
    if (s->fixed_now == CW_TIME_NONE)
        return wall();
    if (s->clock_base != CW_TIME_NONE)
        return s->fixed_now + (wall() - s->clock_base);
    return s->fixed_now;
}

int cw_service_tz(cw_service *s)
{
    return s->rs->tz;
}

/* ---- sharing ---------------------------------------------------------------- */

static void publish(cw_service *s)
{
    cw_rule_view *v = cw_xcalloc(s->rs->nrules + 1, sizeof *v);

    for (size_t i = 0; i < s->rs->nrules; i++) {
        const cw_rule *r = s->rs->rules[i];
        snprintf(v[i].id, sizeof v[i].id, "%s", r->info.id);
        snprintf(v[i].title, sizeof v[i].title, "%s", r->info.title);
        snprintf(v[i].severity, sizeof v[i].severity, "%s", r->info.severity);
        snprintf(v[i].model, sizeof v[i].model, "%s", r->model->name);
        snprintf(v[i].state, sizeof v[i].state, "%s",
                 r->status == CW_RULE_ACTIVE ? "active" : "quarantined");
        snprintf(v[i].last_error, sizeof v[i].last_error, "%s", r->last_error ? r->last_error : "");
        snprintf(v[i].declared, sizeof v[i].declared, "%s:%d", r->info.file, r->info.line);
        if (r->from != INT32_MIN)
            cw_day_format(r->from, v[i].from, sizeof v[i].from);
        if (r->to != INT32_MAX)
            cw_day_format(r->to, v[i].to, sizeof v[i].to);
        v[i].evals = r->evals;
        v[i].errors = r->errors;
    }
    pthread_mutex_lock(&s->mu);
    free(s->rules);
    s->rules = v;
    s->nrules = s->rs->nrules;
    s->st.timers = cw_engine_timers(s->e);
    s->st.cases = cw_engine_ncases(s->e);
    pthread_mutex_unlock(&s->mu);
}

cw_rule_view *cw_service_rules(cw_service *s, size_t *n)
{
    cw_rule_view *v;

    pthread_mutex_lock(&s->mu);
    *n = s->nrules;
    v = cw_xmalloc((s->nrules + 1) * sizeof *v);
    memcpy(v, s->rules, s->nrules * sizeof *v);
    pthread_mutex_unlock(&s->mu);
    return v;
}

void cw_service_stats_get(cw_service *s, cw_service_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

void cw_service_notify(cw_service *s)
{
    pthread_mutex_lock(&s->mu);
    s->wake = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

const cw_catalogue *cw_service_catalogue_acquire(cw_service *s)
{
    pthread_rwlock_rdlock(&s->cat);
    return s->rs->cat;
}

void cw_service_catalogue_release(cw_service *s)
{
    pthread_rwlock_unlock(&s->cat);
}

/* The legal calendar's end, at start and then once a day: a warning in the
 * log while the next year's holidays are due (within 60 days, DOMAIN.md),
 * and the figure /metrics shows. */
static void watch_calendar(cw_service *s)
{
    cw_time now = cw_service_now(s);
    cw_day today = cw_time_day(now, s->rs->tz);
    int left = cw_calendar_days_left(s->rs->cal, now);
    char warn[400];

    pthread_mutex_lock(&s->mu);
    s->st.calendar_days_left = left == INT_MIN ? INT64_MIN : left;
    pthread_mutex_unlock(&s->mu);
    if (today == s->calendar_day)
        return;
    s->calendar_day = today;
    if (cw_calendar_end_warning(s->rs->cal, now, warn, sizeof warn))
        cw_log(CW_LOG_WARN, "%s", warn);
}

/* ---- reading events ------------------------------------------------------------ */

static void note_problem(cw_service *s, uint64_t seq, const cw_event_error *ee)
{
    problem *p;

    CW_GROW(s->probs, s->capprobs, s->nprobs + 1);
    p = &s->probs[s->nprobs++];
    p->seq = seq;
    snprintf(p->id, sizeof p->id, "%s", ee->id);
    snprintf(p->field, sizeof p->field, "%s", ee->field);
    if (ee->field[0] == '\0' && ee->msg[0])
        snprintf(p->msg, sizeof p->msg, "malformed JSON at byte %zu: %s", ee->offset, ee->msg);
    else
        snprintf(p->msg, sizeof p->msg, "%s", ee->msg);
    s->st.events_rejected++;
}

/* A new event stored in order, to be processed at the end of the round. */
typedef struct fresh {
    cw_time at;
    uint64_t seq;
    uint32_t cidx;
} fresh;

static int fresh_cmp(const void *pa, const void *pb)
{
    const fresh *a = pa, *b = pb;

    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

    return a < b ? -1 : a > b;
}

/* One new event from the table: parse and store; end_round() processes
 * it (or replays its case when it is older than what the case has seen). */
static void ingest(cw_service *s, uint64_t seq, const char *body, size_t len)
{
    cw_event_error ee;
    cw_pevent pe;
    cw_case *c;
    bool in_order;
    cw_err err;
    int size;

    s->st.events_read++;
    if (cw_evparse(s->p, s->rs->cat, body, len, &pe, &ee) < 0) {
        note_problem(s, seq, &ee);
        return;
    }
    if ((size = cw_engine_encode(s->e, &pe, seq, &s->rec, &s->reccap, &err)) < 0) {
        memset(&ee, 0, sizeof ee);
        snprintf(ee.id, sizeof ee.id, "%s", pe.id.p);
        snprintf(ee.field, sizeof ee.field, "data");
        snprintf(ee.msg, sizeof ee.msg, "%s", err.msg);
        note_problem(s, seq, &ee);
        return;
    }
    cw_engine_store(s->e, cw_engine_case_sid(s->e, pe.case_id.p, pe.case_id.len), s->rec, &c,
                    &in_order);
    if (in_order) {
        CW_GROW(s->fresh, s->capfresh, s->nfresh + 1);
        s->fresh[s->nfresh].at = pe.at;
        s->fresh[s->nfresh].seq = seq;
        s->fresh[s->nfresh].cidx = c->idx;
        s->nfresh++;
    } else {
        CW_GROW(s->replay, s->capreplay, s->nreplay + 1);
        s->replay[s->nreplay++] = c->idx;
    }
}

/*
 * Process what the round stored. Writers that commit side by side make
 * seq order differ from time order, so the round's events are taken in
 * time order, as eval takes a file; a case that received an event behind
 * what it had seen is replayed once, whatever the number of such events.
 */
static void end_round(cw_service *s)
{
    size_t ncases = cw_engine_ncases(s->e), k = 0;

    if (s->nreplay > 0) {
        if (s->capmark < ncases) {
            s->mark = cw_xrealloc(s->mark, ncases);
            memset(s->mark + s->capmark, 0, ncases - s->capmark);
            s->capmark = ncases;
        }
        if (s->nreplay > 1)
            qsort(s->replay, s->nreplay, sizeof *s->replay, u32_cmp);
        for (size_t i = 0; i < s->nreplay; i++) {
            if (i > 0 && s->replay[i] == s->replay[i - 1])
                continue;
            s->mark[s->replay[i]] = 1;
            cw_engine_catch_up(s->e, cw_engine_case_at(s->e, s->replay[i]), true);
        }
    }
    if (s->nfresh > 1)
        qsort(s->fresh, s->nfresh, sizeof *s->fresh, fresh_cmp);
    for (size_t i = 0; i < s->nfresh; i++)
        if (s->nreplay == 0 || !s->mark[s->fresh[i].cidx])
            cw_engine_process_next(s->e, cw_engine_case_at(s->e, s->fresh[i].cidx));
    for (; k < s->nreplay; k++)
        s->mark[s->replay[k]] = 0;
    s->nfresh = s->nreplay = 0;
}

static bool above_has(const cw_service *s, uint64_t seq)
{
    size_t lo = 0, hi = s->nabove;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->above[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nabove && s->above[lo] == seq;
}

static void above_add(cw_service *s, uint64_t seq)
{
    size_t i = s->nabove;

    CW_GROW(s->above, s->capabove, s->nabove + 1);
    while (i > 0 && s->above[i - 1] > seq) {
        s->above[i] = s->above[i - 1];
        i--;
    }
    s->above[i] = seq;
    s->nabove++;
}

/* Move `low` up over every seq read without a hole. A hole is a seq
 * taken by a transaction that has not committed yet, or never will
 * (rolled back): wait gap_timeout for it, then give up on it. */
static void settle(cw_service *s, cw_time now)
{
    size_t k = 0;

    for (;;) {
        while (k < s->nabove && s->above[k] == s->low + 1) {
            s->low++;
            k++;
        }
        if (k == s->nabove) {
            s->gap_since = CW_TIME_NONE;
            break;
        }
        if (s->gap_since == CW_TIME_NONE)
            s->gap_since = now;
        if (now - s->gap_since < (cw_time)s->cfg->gap_timeout_s)
            break;
        cw_log(CW_LOG_WARN, "events %llu-%llu never committed; going on without them",
               (unsigned long long)s->low + 1, (unsigned long long)s->above[k] - 1);
        s->low = s->above[k] - 1;
        s->gap_since = now;
    }
    if (k > 0) {
        memmove(s->above, s->above + k, (s->nabove - k) * sizeof *s->above);
        s->nabove -= k;
    }
}

typedef struct readctx {
    cw_service *s;
    int n;
} readctx;

static int take_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    readctx *rc = ud;
    uint64_t seq;

    if (ncols < 2 || row[0] == NULL)
        return 0;
    seq = strtoull(row[0], NULL, 10);
    if (seq <= rc->s->low || above_has(rc->s, seq))
        return 0;
    ingest(rc->s, seq, row[1] ? row[1] : "", row[1] ? lens[1] : 0);
    above_add(rc->s, seq);
    rc->n++;
    return 0;
}

static int read_new(cw_service *s, cw_err *err)
{
    readctx rc = { s, 0 };
    char sql[256];
    int r;

    if (s->nabove > 0) {
        /* first whatever has appeared in the holes */
        snprintf(sql, sizeof sql, "SELECT seq, body FROM events WHERE seq > %llu AND seq < %llu ORDER BY seq",
                 (unsigned long long)s->low, (unsigned long long)s->above[s->nabove - 1]);
        if ((r = cw_db_query(s->db, sql, false, take_row, &rc, err)) < 0) {
            end_round(s);
            return r;
        }
    }
    snprintf(sql, sizeof sql, "SELECT seq, body FROM events WHERE seq > %llu ORDER BY seq LIMIT %u",
             (unsigned long long)(s->nabove ? s->above[s->nabove - 1] : s->low), s->cfg->batch);
    r = cw_db_query(s->db, sql, false, take_row, &rc, err);
    /* what was stored is processed, also when the query failed midway */
    end_round(s);
    if (r < 0)
        return r;
    settle(s, cw_service_now(s));
    return rc.n;
}

/* ---- writing findings ------------------------------------------------------------ */

#define STMT_MAX (1u << 20)

typedef struct writer {
    cw_service *s;
    cw_buf up, del;          /* statements being built */
    size_t nup, ndel;
    cw_err *err;
    uint64_t written, removed;
} writer;

static int send_up(writer *w)
{
    int rc;

    if (w->nup == 0)
        return 0;
    cw_buf_puts(&w->up, " ON DUPLICATE KEY UPDATE unit = VALUES(unit), severity = VALUES(severity),"
                        " state = VALUES(state), due = VALUES(due), raised = VALUES(raised),"
                        " message = VALUES(message), basis = VALUES(basis), events = VALUES(events)");
    rc = cw_db_execn(w->s->db, w->up.p, w->up.n, w->err);
    w->up.n = 0;
    w->nup = 0;
    return rc;
}

static int send_del(writer *w)
{
    int rc;

    if (w->ndel == 0)
        return 0;
    cw_buf_puts(&w->del, ")");
    rc = cw_db_execn(w->s->db, w->del.p, w->del.n, w->err);
    w->del.n = 0;
    w->ndel = 0;
    return rc;
}

static int sink_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    writer *w = ud;
    cw_db *db = w->s->db;

    (void)digest;
    if (w->nup == 0)
        cw_buf_puts(&w->up, "INSERT INTO findings (rule, case_id, subject, unit, severity, state, due,"
                            " raised, message, basis, events) VALUES ");
    else
        cw_buf_put(&w->up, ",", 1);
    cw_buf_put(&w->up, "(", 1);
    cw_db_quotes(db, &w->up, f->rule->info.id);
    cw_buf_put(&w->up, ",", 1);
    cw_db_quotes(db, &w->up, f->case_id);
    cw_buf_put(&w->up, ",", 1);
    cw_db_quotes(db, &w->up, f->subject);
    cw_buf_put(&w->up, ",", 1);
    cw_db_quotes(db, &w->up, f->unit);
    cw_buf_printf(&w->up, ",'%s','%s',", f->rule->info.severity, cw_state_name(f->state));
    if (f->due == CW_TIME_NONE)
        cw_buf_puts(&w->up, "NULL");
    else
        cw_buf_printf(&w->up, "%lld", (long long)f->due);
    cw_buf_printf(&w->up, ",%lld,", (long long)f->raised);
    cw_db_quotes(db, &w->up, f->message);
    cw_buf_put(&w->up, ",", 1);
    cw_db_quotes(db, &w->up, f->rule->info.basis);
    cw_buf_put(&w->up, ",", 1);
    cw_db_quotes(db, &w->up, events_json);
    cw_buf_put(&w->up, ")", 1);
    w->nup++;
    w->written++;
    return w->up.n >= STMT_MAX ? send_up(w) : 0;
}

static int sink_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    writer *w = ud;
    cw_db *db = w->s->db;

    if (w->ndel == 0)
        cw_buf_puts(&w->del, "DELETE FROM findings WHERE (rule, case_id, subject) IN (");
    else
        cw_buf_put(&w->del, ",", 1);
    cw_buf_put(&w->del, "(", 1);
    cw_db_quotes(db, &w->del, rule);
    cw_buf_put(&w->del, ",", 1);
    cw_db_quotes(db, &w->del, case_id);
    cw_buf_put(&w->del, ",", 1);
    cw_db_quotes(db, &w->del, subject);
    cw_buf_put(&w->del, ")", 1);
    w->ndel++;
    w->removed++;
    return w->del.n >= STMT_MAX ? send_del(w) : 0;
}

static int write_problems(cw_service *s, cw_err *err)
{
    cw_buf b = { 0 };
    int rc = 0;

    for (size_t i = 0; i < s->nprobs && rc == 0; i++) {
        problem *p = &s->probs[i];
        if (b.n == 0)
            cw_buf_puts(&b, "INSERT IGNORE INTO event_problems (seq, event_id, field, message) VALUES ");
        else
            cw_buf_put(&b, ",", 1);
        cw_buf_printf(&b, "(%llu,", (unsigned long long)p->seq);
        if (p->id[0])
            cw_db_quotes(s->db, &b, p->id);
        else
            cw_buf_puts(&b, "NULL");
        cw_buf_put(&b, ",", 1);
        cw_db_quotes(s->db, &b, p->field);
        cw_buf_put(&b, ",", 1);
        cw_db_quotes(s->db, &b, p->msg);
        cw_buf_put(&b, ")", 1);
        if (b.n >= STMT_MAX || i + 1 == s->nprobs) {
            rc = cw_db_execn(s->db, b.p, b.n, err);
            b.n = 0;
        }
    }
    cw_buf_free(&b);
    return rc;
}

/* Write what changed, the problems and the checkpoint, in one
 * transaction. On failure nothing counts as written. */
static int flush(cw_service *s, cw_err *err)
{
    writer w = { s, { 0 }, { 0 }, 0, 0, err, 0, 0 };
    cw_sink sink = { sink_upsert, sink_remove, &w };
    size_t changes = 0;
    char sql[256];
    int rc;

    if (cw_engine_dirty(s->e) == 0 && s->nprobs == 0 && s->low == s->st.checkpoint)
        return 0;
    if ((rc = cw_db_begin(s->db, err)) < 0)
        goto out;
    if ((rc = cw_engine_flush(s->e, cw_service_now(s), &sink, &changes)) < 0 ||
        (rc = send_up(&w)) < 0 || (rc = send_del(&w)) < 0 || (rc = write_problems(s, err)) < 0)
        goto out;
    snprintf(sql, sizeof sql, "INSERT INTO engine_checkpoint (name, seq) VALUES ('%s', %llu) "
             "ON DUPLICATE KEY UPDATE seq = VALUES(seq)", s->cfg->engine_name,
             (unsigned long long)s->low);
    if ((rc = cw_db_exec(s->db, sql, err)) < 0)
        goto out;
    rc = cw_db_commit(s->db, err);
out:
    if (rc < 0) {
        cw_db_rollback(s->db);
        cw_engine_flush_end(s->e, false);
        s->st.flush_errors++;
    } else {
        cw_engine_flush_end(s->e, true);
        s->nprobs = 0;
        pthread_mutex_lock(&s->mu);
        s->st.flushes++;
        s->st.findings_written += w.written;
        s->st.findings_removed += w.removed;
        s->st.checkpoint = s->low;
        s->st.memory = cw_engine_memory(s->e);
        s->st.replays = cw_engine_replays(s->e);
        pthread_mutex_unlock(&s->mu);
    }
    cw_buf_free(&w.up);
    cw_buf_free(&w.del);
    return rc;
}

/* ---- startup -------------------------------------------------------------------- */

typedef struct rebuild {
    cw_service *s;
    cw_eval *ev;
    cw_eval_opts o;
    cw_eval_stats st;
    uint64_t max;
    double t0;
} rebuild;

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rebuild_error(void *ud, size_t line, const cw_event_error *e)
{
    note_problem(ud, (uint64_t)line, e);
}

static int rebuild_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    rebuild *rb = ud;
    uint64_t seq;
    cw_err err;

    if (ncols < 2 || row[0] == NULL)
        return 0;
    seq = strtoull(row[0], NULL, 10);
    cw_eval_add_seq(rb->ev, row[1] ? row[1] : "", row[1] ? lens[1] : 0, seq, "events", (size_t)seq,
                    &rb->o, &rb->st, &err);
    rb->max = seq;
    if (rb->s->progress && rb->st.lines % 1000000 == 0)
        fprintf(rb->s->progress, "casewarden serve: %zu events read (%.1f s)\n", rb->st.lines,
                mono() - rb->t0);
    return 0;
}

typedef struct known {
    cw_service *s;
    writer *w;
    size_t n;
} known;

static int known_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    known *k = ud;
    const char *f[11];
    cw_time due, raised;
    uint64_t d;

    (void)lens;
    if (ncols < 11)
        return 0;
    for (int i = 0; i < 11; i++)
        f[i] = row[i] ? row[i] : "";
    due = row[6] ? strtoll(row[6], NULL, 10) : CW_TIME_NONE;
    raised = strtoll(f[7], NULL, 10);
    d = cw_finding_digest(f[0], f[1], f[2], f[3], f[4], f[5], due, raised, f[8], f[9], f[10]);
    if (!cw_engine_stored(k->s->e, f[0], f[1], f[2], d))
        sink_remove(k->w, f[0], f[1], f[2]);
    k->n++;
    return 0;
}

static int start(cw_service *s, cw_err *err)
{
    rebuild rb = { 0 };
    writer w = { s, { 0 }, { 0 }, 0, 0, err, 0, 0 };
    known k = { s, &w, 0 };
    int version, rc;

    if ((rc = cw_db_schema_version(s->db, &version, err)) < 0)
        return rc;
    if (version == 0)
        return cw_err_set(err, CW_EDB, "database '%s' has no casewarden schema: run `casewarden migrate` "
                          "first", s->cfg->db_name);
    if (version != CW_SCHEMA_VERSION)
        return cw_err_set(err, CW_EDB, "database schema is version %d, this casewarden needs %d: %s",
                          version, CW_SCHEMA_VERSION,
                          version < CW_SCHEMA_VERSION ? "run `casewarden migrate`" : "upgrade casewarden");
    rb.s = s;
    rb.ev = cw_eval_new(s->e);
    rb.o.now = CW_TIME_NONE;
    rb.o.on_error = rebuild_error;
    rb.o.ud = s;
    rb.t0 = mono();
    rc = cw_db_query(s->db, "SELECT seq, body FROM events ORDER BY seq", true, rebuild_row, &rb, err);
    if (rc == 0)
        cw_eval_run(rb.ev, &rb.o, &rb.st);
    cw_eval_free(rb.ev);
    if (rc < 0)
        return rc;
    s->low = rb.max;
    s->st.events_read = rb.st.lines;
    s->st.rebuild_events = rb.st.lines;
    s->st.rebuild_s = mono() - rb.t0;
    if (s->progress)
        fprintf(s->progress, "casewarden serve: rebuilt %zu events, %zu cases in %.2f s\n",
                rb.st.lines, cw_engine_ncases(s->e), s->st.rebuild_s);
    /* What the table holds already is not written again. */
    rc = cw_db_query(s->db, "SELECT rule, case_id, subject, unit, severity, state, due, raised, "
                            "message, basis, events FROM findings", true, known_row, &k, err);
    if (rc == 0 && w.ndel > 0 && (rc = send_del(&w)) == 0)
        rc = cw_db_commit(s->db, err);
    cw_buf_free(&w.up);
    cw_buf_free(&w.del);
    if (rc < 0)
        return rc;
    cw_engine_tick(s->e, cw_service_now(s));
    if ((rc = flush(s, err)) < 0)
        return rc;
    if (s->progress)
        fprintf(s->progress, "casewarden serve: %zu findings were stored, %llu written, %llu withdrawn\n",
                k.n, (unsigned long long)s->st.findings_written,
                (unsigned long long)(s->st.findings_removed));
    publish(s);
    watch_calendar(s);
    pthread_mutex_lock(&s->mu);
    s->st.ready = true;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int cw_service_open(cw_service **out, cw_config *cfg, const cw_service_opts *o, cw_err *err)
{
    cw_service *s = cw_xcalloc(1, sizeof *s);
    cw_load_opts lo = { cfg->plugins, NULL };
    char *rep = NULL;
    size_t replen = 0;
    int rc;

    *out = NULL;
    s->cfg = cfg;
    s->fixed_now = o ? o->fixed_now : CW_TIME_NONE;
    s->clock_base = o && o->clock_runs ? wall() : CW_TIME_NONE;
    s->progress = o ? o->progress : NULL;
    s->gap_since = CW_TIME_NONE;
    s->calendar_day = INT32_MIN;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->done, NULL);
    pthread_rwlock_init(&s->cat, NULL);
    s->w = cw_world_new();
    s->p = cw_evparser_new();
    lo.report = open_memstream(&rep, &replen);
    rc = cw_ruleset_load(&s->rs, s->w, cfg->rules, &lo, err);
    fclose(lo.report);
    if (rc < 0) {
        cw_log(CW_LOG_ERROR, "rules in %s not loaded:\n%s", cfg->rules, rep ? rep : "");
        free(rep);
        cw_service_close(s);
        return rc;
    }
    free(rep);
    s->e = cw_engine_new(s->w, s->rs);
    if ((rc = cw_db_connect(&s->db, cfg, false, err)) < 0 || (rc = start(s, err)) < 0) {
        cw_service_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void cw_service_close(cw_service *s)
{
    if (s == NULL)
        return;
    cw_db_close(s->db);
    cw_engine_free(s->e);
    cw_ruleset_free(s->rs);
    cw_world_free(s->w);
    cw_evparser_free(s->p);
    free(s->rec);
    free(s->above);
    free(s->fresh);
    free(s->replay);
    free(s->mark);
    free(s->probs);
    free(s->rules);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->done);
    pthread_rwlock_destroy(&s->cat);
    free(s);
}

/* ---- running -------------------------------------------------------------------- */

/* A suggestion another thread asked for (cw_service_advise). */
typedef struct asking {
    const char *query;
    size_t len;
    char *out;
    int rc;
    cw_err err;
    bool done;
    struct asking *next;
} asking;

int cw_service_advise(cw_service *s, const char *query, size_t len, char **out, cw_err *err)
{
    asking a = { query, len, NULL, 0, { 0 }, false, NULL };

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return cw_err_set(err, CW_EUNAVAIL, "the service is stopping");
    }
    a.next = s->asks;
    s->asks = &a;
    s->wake = true;
    pthread_cond_signal(&s->cv);
    while (!a.done)
        pthread_cond_wait(&s->done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    *out = a.out;
    if (a.rc < 0)
        cw_err_set(err, a.err.code, "%s", a.err.msg);
    return a.rc;
}

/* Answer the suggestions asked since the last round, or, when stopping,
 * tell them so. */
static void serve_asks(cw_service *s, bool stopping)
{
    asking *list;

    pthread_mutex_lock(&s->mu);
    list = s->asks;
    s->asks = NULL;
    s->stopping = stopping;
    pthread_mutex_unlock(&s->mu);
    for (asking *a = list, *next; a != NULL; a = next) {
        next = a->next;
        if (stopping)
            a->rc = cw_err_set(&a->err, CW_EUNAVAIL, "the service is stopping");
        else
            a->rc = cw_advise(s->rs, s->e, a->query, a->len, cw_service_now(s), &a->out, &a->err);
        pthread_mutex_lock(&s->mu);
        a->done = true;
        pthread_cond_broadcast(&s->done);
        pthread_mutex_unlock(&s->mu);
    }
}

/* Load the rules again; on success judge every case anew with them and
 * write the differences. A ruleset that does not load changes nothing. */
static int reload(cw_service *s, cw_err *err)
{
    cw_load_opts lo = { s->cfg->plugins, NULL };
    cw_ruleset *rs, *old;
    char *rep = NULL;
    size_t replen = 0;
    int rc;

    lo.report = open_memstream(&rep, &replen);
    rc = cw_ruleset_load(&rs, s->w, s->cfg->rules, &lo, err);
    fclose(lo.report);
    if (rc < 0) {
        /* the whole report, so the caller sees every problem */
        if (rep && replen > 0) {
            if (replen > 0 && rep[replen - 1] == '\n')
                rep[replen - 1] = '\0';
            cw_err_set(err, CW_ERULE, "%s", rep);
        }
        cw_log(CW_LOG_ERROR, "reload refused, the rules in force stay: %s", err->msg);
        free(rep);
        s->st.reload_failures++;
        return rc;
    }
    free(rep);
    pthread_rwlock_wrlock(&s->cat);
    old = s->rs;
    cw_engine_set_ruleset(s->e, rs);
    s->rs = rs;
    pthread_rwlock_unlock(&s->cat);
    cw_engine_replay_all(s->e);
    cw_ruleset_free(old);
    s->st.reloads++;
    cw_log(CW_LOG_INFO, "rules reloaded from %s: %zu rules", s->cfg->rules, rs->nrules);
    rc = flush(s, err);
    publish(s);
    return rc;
}

int cw_service_reload(cw_service *s, cw_err *err)
{
    uint64_t ticket;
    int rc;

    pthread_mutex_lock(&s->mu);
    ticket = ++s->reload_asked;
    s->wake = true;
    pthread_cond_signal(&s->cv);
    while (s->reload_done < ticket)
        pthread_cond_wait(&s->done, &s->mu);
    rc = s->reload_rc;
    if (rc < 0)
        cw_err_set(err, CW_ERULE, "%s", s->reload_msg);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int cw_service_step(cw_service *s, cw_err *err)
{
    int n, rc;

    if ((n = read_new(s, err)) < 0)
        return n;
    cw_engine_tick(s->e, cw_service_now(s));
    if ((rc = flush(s, err)) < 0)
        return rc;
    return n;
}

static void serve_reloads(cw_service *s, bool signalled)
{
    uint64_t asked;
    cw_err err = { 0 };
    int rc;

    pthread_mutex_lock(&s->mu);
    asked = s->reload_asked;
    pthread_mutex_unlock(&s->mu);
    if (!signalled && asked == s->reload_done)
        return;
    rc = reload(s, &err);
    pthread_mutex_lock(&s->mu);
    s->reload_rc = rc;
    snprintf(s->reload_msg, sizeof s->reload_msg, "%s", rc < 0 ? err.msg : "");
    s->reload_done = asked;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
}

int cw_service_run(cw_service *s, volatile sig_atomic_t *stop, volatile sig_atomic_t *hup)
{
    unsigned backoff = 100;
    cw_err err = { 0 };

    while (!*stop) {
        int n = cw_service_step(s, &err);
        if (n < 0) {
            /* the database went away: keep everything, try again */
            cw_log(CW_LOG_ERROR, "%s; retrying in %u ms", err.msg, backoff);
            struct timespec ts = { backoff / 1000, (long)(backoff % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            if (cw_db_reconnect(s->db, &err) < 0)
                cw_log(CW_LOG_ERROR, "%s", err.msg);
            backoff = backoff < 5000 ? backoff * 2 : 5000;
            continue;
        }
        backoff = 100;
        serve_reloads(s, *hup != 0);
        *hup = 0;
        publish(s);
        watch_calendar(s);
        serve_asks(s, false);
        if ((unsigned)n >= s->cfg->batch)
            continue;
        pthread_mutex_lock(&s->mu);
        if (!s->wake && !*stop && s->reload_asked == s->reload_done && s->asks == NULL) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(s->cfg->poll_ms % 1000) * 1000000L;
            ts.tv_sec += s->cfg->poll_ms / 1000 + ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        s->wake = false;
        pthread_mutex_unlock(&s->mu);
    }
    serve_asks(s, true);
    /* a last round, so what was read is written */
    if (flush(s, &err) < 0)
        cw_log(CW_LOG_ERROR, "final flush: %s", err.msg);
    return 0;
}
