#include "service/service.h"
#include "offline/explain.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "notify/notify.h"
#include "service/notifier.h"
#include "core/engine.h"
#include "base/clock.h"
#include "core/run.h"
#include "event/evjson.h"
#include "base/log.h"
#include "rules/advise.h"
#include "rules/ruleset.h"
#include "base/timeutil.h"
#include "base/util.h"

/* A case's image on its way to case_state. */
typedef struct pending_image {
    uint32_t csid;
    void *image;
    size_t len;
} pending_image;

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
    cw_db *ldb;              /* the loader's: cases coming back to memory */
    /* every event up to gseq `low` has been read */
    uint64_t low;
    cw_day calendar_day;     /* the day the calendar's end was last looked at */
    /* a read round: new events stored, processed together at its end */
    struct fresh *fresh;
    size_t nfresh, capfresh;
    uint32_t *replay;        /* cases (string ids) to judge again once */
    size_t nreplay, capreplay;
    problem *probs;
    size_t nprobs, capprobs;
    /* images of cases that left memory, written with the next flush */
    struct pending_image *images;
    size_t nimages, capimages;
    /* shared with other threads */
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* the service waits here */
    pthread_cond_t done;     /* reload requesters wait here */
    bool wake;
    uint64_t reload_asked, reload_done;
    struct asking *asks;     /* suggestions waiting for the service's thread */
    bool stopping;
    int reload_rc;
    int reload_code;         /* the cw_err code of a failed reload */
    char reload_msg[512];
    pthread_rwlock_t cat;    /* readers: validation in other threads */
    cw_rule_view *rules;
    size_t nrules;
    cw_service_stats st;     /* what other threads see, under mu (publish) */
    /* the service thread's own */
    cw_service_stats mine;
    int nread;               /* events taken by the read under way */
    size_t nknown;           /* findings stored at start */
    double last_snapshot;    /* monotonic seconds */
    bool rebuilding;         /* judging the whole log: no event is done
                                until all are (checkpoint 0 meanwhile) */
    /* notifications: notify.yaml as loaded with the rules, until the
     * notifier thread takes it (cw_service_run) */
    cw_notify *notify;
    cw_notifier *notifier;
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
    s->mine.timers = cw_engine_timers(s->e);
    s->mine.cases = cw_engine_live(s->e);
    s->st = s->mine;
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

    s->mine.calendar_days_left = left == INT_MIN ? INT64_MIN : left;
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
    s->mine.events_rejected++;
}

/* A new event stored in order, to be processed at the end of the round. */
typedef struct fresh {
    cw_time at;
    uint64_t seq;
    uint32_t csid;
} fresh;

static int fresh_cmp(const void *pa, const void *pb)
{
    const fresh *a = pa, *b = pb;

    return cw_atseq_cmp(a->at, a->seq, b->at, b->seq);
}

static int u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

    return a < b ? -1 : a > b;
}

/* One new event from the table: parse and store; end_round() processes
 * it (or replays its case when it is older than what the case has seen). */
static void ingest(cw_service *s, const cw_store_event *row)
{
    uint64_t seq = row->seq;
    const char *body = row->body;
    size_t len = row->len;
    cw_event_error ee;
    cw_pevent pe;
    cw_case *c;
    bool in_order;
    cw_err err;
    int size;

    s->mine.events_read++;
    if (cw_evparse(s->p, s->rs->cat, body, len, &pe, &ee) < 0) {
        note_problem(s, seq, &ee);
        return;
    }
    /* the engine orders and tells events apart by their place in the log */
    if ((size = cw_engine_encode(s->e, &pe, row->gseq, &s->rec, &s->reccap, &err)) < 0) {
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
        s->fresh[s->nfresh].seq = row->gseq;
        s->fresh[s->nfresh].csid = c->id;
        s->nfresh++;
    } else {
        CW_GROW(s->replay, s->capreplay, s->nreplay + 1);
        s->replay[s->nreplay++] = c->id;
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
    size_t nr = 0;

    /* the cases to replay, each once: sorted, without repeats */
    if (s->nreplay > 1)
        qsort(s->replay, s->nreplay, sizeof *s->replay, u32_cmp);
    for (size_t i = 0; i < s->nreplay; i++)
        if (nr == 0 || s->replay[nr - 1] != s->replay[i])
            s->replay[nr++] = s->replay[i];
    for (size_t i = 0; i < nr; i++) {
        cw_case *c = cw_engine_case_live(s->e, s->replay[i]);
        if (c != NULL)
            cw_engine_catch_up(s->e, c, true);
    }
    if (s->nfresh > 1)
        qsort(s->fresh, s->nfresh, sizeof *s->fresh, fresh_cmp);
    for (size_t i = 0; i < s->nfresh; i++) {
        cw_case *c;
        if (nr > 0 && bsearch(&s->fresh[i].csid, s->replay, nr, sizeof *s->replay, u32_cmp))
            continue;       /* its replay saw it */
        if ((c = cw_engine_case_live(s->e, s->fresh[i].csid)) != NULL)
            cw_engine_process_next(s->e, c);
    }
    s->nfresh = s->nreplay = 0;
}

static int take_event(void *ud, const cw_store_event *ev)
{
    cw_service *s = ud;

    if (ev->gseq <= s->low)
        return 0;
    ingest(s, ev);
    s->low = ev->gseq;
    s->nread++;
    return 0;
}

/* The next events of the log: gseq is gapless and commit-ordered, so
 * reading after the last one taken never misses one and never reads one
 * twice. */
static int read_new(cw_service *s, unsigned batch, cw_err *err)
{
    int r;

    s->nread = 0;
    r = cw_store_events_after(s->db, s->low, batch, take_event, s, err);
    /* what was stored is processed, also when the query failed midway */
    end_round(s);
    return r < 0 ? r : s->nread;
}

/* ---- writing findings ------------------------------------------------------------ */

static int sink_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    cw_store_put p = {
        f->rule->info.id, f->case_id, f->subject, f->unit, f->rule->info.severity,
        cw_state_name(f->state), f->due, f->raised, f->message, f->rule->info.basis, events_json,
        f->lead, f->rule->version, cw_program_version(), f->rule->override_unit, f->rule->override
    };

    (void)digest;
    return cw_store_tx_put(ud, &p);
}

static int sink_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    return cw_store_tx_withdraw(ud, rule, case_id, subject);
}

static int write_problems(cw_service *s, cw_store_tx *t)
{
    int rc = 0;

    for (size_t i = 0; i < s->nprobs && rc == 0; i++)
        rc = cw_store_tx_problem(t, s->probs[i].seq, s->probs[i].id, s->probs[i].field,
                                 s->probs[i].msg);
    for (size_t i = 0; i < s->nimages && rc == 0; i++)
        rc = cw_store_tx_case_image(t, cw_strtab_str(s->w->strs, s->images[i].csid),
                                    s->rebuilding ? 0 : s->low, s->images[i].image,
                                    s->images[i].len);
    return rc;
}

static void images_clear(cw_service *s)
{
    for (size_t i = 0; i < s->nimages; i++)
        free(s->images[i].image);
    s->nimages = 0;
}

/* Write what changed, the problems and the checkpoint, in one
 * transaction. On failure nothing counts as written. */
static int flush(cw_service *s, cw_err *err)
{
    cw_store_tx *t;
    cw_sink sink = { sink_upsert, sink_remove, NULL };
    size_t changes = 0;
    uint64_t puts = 0, withdrawals = 0, ckpt = s->rebuilding ? 0 : s->low;
    int rc;

    if (cw_engine_dirty(s->e) == 0 && s->nprobs == 0 && s->nimages == 0 &&
        ckpt == s->mine.checkpoint)
        return 0;
    if ((t = cw_store_tx_begin(s->db, err)) == NULL) {
        rc = err->code;
        goto out;
    }
    sink.ud = t;
    if ((rc = cw_engine_flush(s->e, cw_service_now(s), &sink, &changes)) < 0 ||
        (rc = write_problems(s, t)) < 0 ||
        (rc = cw_store_tx_checkpoint(t, s->cfg->engine_name, ckpt)) < 0) {
        cw_store_tx_commit(t, err);     /* rolls back: rc < 0 is in t */
        goto out;
    }
    puts = cw_store_tx_puts(t);
    withdrawals = cw_store_tx_withdrawals(t);
    rc = cw_store_tx_commit(t, err);
out:
    if (rc < 0) {
        cw_engine_flush_end(s->e, false);
        s->mine.flush_errors++;
        return rc;
    }
    cw_engine_flush_end(s->e, true);
    if (puts + withdrawals > 0)
        cw_notifier_wake(s->notifier);
    s->nprobs = 0;
    images_clear(s);
    s->mine.checkpoint = ckpt;
    s->mine.flushes++;
    s->mine.findings_written += puts;
    s->mine.findings_removed += withdrawals;
    s->mine.memory = cw_engine_memory(s->e);
    s->mine.replays = cw_engine_replays(s->e);
    s->mine.evicted = cw_engine_evicted(s->e);
    return 0;
}

/* ---- cases coming back ------------------------------------------------------------ */

static int load_event(void *ud, const cw_store_event *ev)
{
    cw_engine_load_json(ud, ev->gseq, ev->body, ev->len);
    return 0;
}

static int load_finding(void *ud, const cw_store_finding *f)
{
    if (strcmp(f->state, "withdrawn") != 0)
        cw_engine_stored(ud, f->rule, f->case_id, f->subject,
                         cw_finding_digest(f->rule, f->case_id, f->subject, f->unit, f->severity,
                                           f->state, f->due, f->raised, f->message, f->basis,
                                           f->events));
    return 0;
}

static int load_image(void *ud, const void *image, size_t len)
{
    return cw_engine_load_image(ud, image, len);
}

/* The engine's loader: a case's image (still on its way to the store, or
 * from case_state), else its events and findings, from the store on a
 * connection of its own (the main one may be reading). */
static int load_case(void *ud, cw_engine *e, const char *case_id)
{
    cw_service *s = ud;
    uint32_t sid = cw_engine_case_sid(e, case_id, strlen(case_id));
    bool got = false;
    cw_err err;
    int rc;

    s->mine.loaded++;
    for (size_t i = s->nimages; i-- > 0;)
        if (s->images[i].csid == sid)
            return cw_engine_load_image(e, s->images[i].image, s->images[i].len);
    if ((rc = cw_store_case_image(s->ldb, case_id, load_image, e, &err)) == 0)
        got = true;
    if (rc == 0 && got && cw_engine_case_live(e, sid) != NULL &&
        cw_engine_case_live(e, sid)->nev > 0)
        return 0;
    if (rc < 0 ||
        (rc = cw_store_case_events(s->ldb, case_id, load_event, e, &err)) < 0 ||
        (rc = cw_store_case_findings(s->ldb, case_id, cw_service_now(s), load_finding, e, &err)) < 0) {
        cw_log(CW_LOG_ERROR, "case %s: %s", case_id, err.msg);
        cw_db_reconnect(s->ldb, &err);
        return rc;
    }
    return 0;
}

/* The engine's save: the image goes with the next flush. */
static int save_case(void *ud, cw_engine *e, const char *case_id, const void *image, size_t len)
{
    cw_service *s = ud;
    pending_image *p;

    CW_GROW(s->images, s->capimages, s->nimages + 1);
    p = &s->images[s->nimages++];
    p->csid = cw_engine_case_sid(e, case_id, strlen(case_id));
    p->image = cw_xmalloc(len ? len : 1);
    memcpy(p->image, image, len);
    p->len = len;
    return 0;
}

/* ---- startup -------------------------------------------------------------------- */

#define REBUILD_PAGE 20000      /* events a read while rebuilding */
#define REBUILD_FLUSH 20000     /* events between flushes while rebuilding */

static int known_finding(void *ud, const cw_store_finding *f)
{
    cw_service *s = ud;
    uint64_t d = cw_finding_digest(f->rule, f->case_id, f->subject, f->unit, f->severity, f->state,
                                   f->due, f->raised, f->message, f->basis, f->events);

    cw_engine_stored(s->e, f->rule, f->case_id, f->subject, d);
    s->nknown++;
    return 0;
}

typedef struct rebuilding {
    cw_service *s;
    cw_run *run;
    uint64_t read;
    int rc;
    cw_err err;
} rebuilding;

/* One event of the log into the run (a bad one into event_problems). */
static int spool_event(void *ud, const cw_store_event *ev)
{
    rebuilding *rb = ud;
    cw_service *s = rb->s;
    cw_event_error ee;
    cw_pevent pe;
    cw_err err;

    s->low = ev->gseq;
    rb->read++;
    s->mine.events_read++;
    if (cw_evparse(s->p, s->rs->cat, ev->body, ev->len, &pe, &ee) < 0) {
        note_problem(s, ev->seq, &ee);
        return 0;
    }
    if (cw_engine_encode(s->e, &pe, ev->gseq, &s->rec, &s->reccap, &err) < 0) {
        memset(&ee, 0, sizeof ee);
        snprintf(ee.id, sizeof ee.id, "%s", pe.id.p);
        snprintf(ee.field, sizeof ee.field, "data");
        snprintf(ee.msg, sizeof ee.msg, "%s", err.msg);
        note_problem(s, ev->seq, &ee);
        return 0;
    }
    cw_run_add(rb->run, s->rec, cw_engine_case_sid(s->e, pe.case_id.p, pe.case_id.len));
    return 0;
}

static void run_flush(void *ud)
{
    rebuilding *rb = ud;

    if (rb->rc == 0) {
        cw_engine_tick(rb->s->e, cw_service_now(rb->s));
        rb->rc = flush(rb->s, &rb->err);
    }
}

/*
 * Judge the whole log from its start, in time order across cases as
 * `casewarden eval` does (core/run.h): what the store holds of the
 * findings first, so that what comes out the same is not written again,
 * then every event, flushing as the run goes so that settled cases leave
 * memory. The checkpoint is the last event read.
 */
static int rebuild(cw_service *s, cw_err *err)
{
    rebuilding rb = { s, cw_run_new(s->e), 0, 0, { 0 } };
    double t0 = cw_mono_s();
    uint64_t before;
    int rc;

    if ((rc = cw_store_findings_all(s->db, known_finding, s, err)) < 0)
        goto out;
    do {
        before = rb.read;
        if ((rc = cw_store_events_after(s->db, s->low, REBUILD_PAGE, spool_event, &rb, err)) < 0)
            goto out;
        if (s->progress && rb.read / 1000000 != before / 1000000)
            fprintf(s->progress, "casewarden serve: %llu events read (%.1f s)\n",
                    (unsigned long long)rb.read, cw_mono_s() - t0);
    } while (rb.read - before == REBUILD_PAGE);
    s->rebuilding = true;
    cw_run_process(rb.run, run_flush, &rb, REBUILD_FLUSH);
    s->rebuilding = false;
    if ((rc = rb.rc) < 0) {
        *err = rb.err;
        goto out;
    }
    cw_engine_settle_stubs(s->e);
    cw_engine_tick(s->e, cw_service_now(s));
    if ((rc = flush(s, err)) < 0)
        goto out;
    s->mine.rebuild_events = rb.read;
    s->mine.rebuild_s = cw_mono_s() - t0;
    if (s->progress)
        fprintf(s->progress, "casewarden serve: rebuilt %llu events in %.2f s (%.0f events/s), "
                "%zu cases in memory, %llu left it\n", (unsigned long long)rb.read, s->mine.rebuild_s,
                s->mine.rebuild_s > 0 ? (double)rb.read / s->mine.rebuild_s : 0.0,
                cw_engine_live(s->e), (unsigned long long)cw_engine_evicted(s->e));
out:
    cw_run_free(rb.run);
    return rc;
}

/* ---- snapshots -------------------------------------------------------------------- */

#define SNAPSHOT_FORMAT "1"

static void program_version(char *buf, size_t size)
{
    snprintf(buf, size, "casewarden %s snapshot %s", PACKAGE_VERSION, SNAPSHOT_FORMAT);
}

/* The engine's state at the checkpoint just written (after a flush that
 * stored everything), replacing the last snapshot. */
static int snapshot(cw_service *s, cw_err *err)
{
    cw_store_snapmeta m = { .rules_digest = s->rs->digest, .gseq = s->low };
    cw_buf b = { 0 };
    double t0 = cw_mono_s();
    int rc;

    if (s->rebuilding || cw_engine_dirty(s->e) > 0)
        return 0;
    program_version(m.program, sizeof m.program);
    if ((rc = cw_engine_snapshot(s->e, &b)) == 0 &&
        (rc = cw_store_snapshot_write(s->db, s->cfg->engine_name, &m, b.p, b.n, err)) == 0) {
        s->mine.snapshots++;
        s->mine.snapshot_bytes = b.n;
        s->mine.snapshot_s = cw_mono_s() - t0;
        s->last_snapshot = cw_mono_s();
        cw_log(CW_LOG_DEBUG, "snapshot at event %llu: %zu bytes in %.2f s",
               (unsigned long long)s->low, b.n, s->mine.snapshot_s);
    }
    cw_buf_free(&b);
    return rc;
}

/* Start from the last snapshot: the same program and rules, read back
 * whole, else false (the reason in why) and the log is judged again. */
static bool restore(cw_service *s, char *why, size_t size)
{
    cw_store_snapmeta m;
    char want[64];
    void *data = NULL;
    size_t len;
    bool found;
    cw_err err;
    double t0 = cw_mono_s();
    int rc;

    program_version(want, sizeof want);
    if (cw_store_snapshot_read(s->db, s->cfg->engine_name, &m, &data, &len, &found, &err) < 0) {
        snprintf(why, size, "the snapshot could not be read: %s", err.msg);
        return false;
    }
    if (!found) {
        snprintf(why, size, "no snapshot");
        return false;
    }
    if (strcmp(m.program, want) != 0 || m.rules_digest != s->rs->digest) {
        snprintf(why, size, "the snapshot was written by %s%s", m.program,
                 m.rules_digest != s->rs->digest ? " under other rules" : "");
        free(data);
        return false;
    }
    rc = cw_engine_restore(s->e, data, len);
    free(data);
    if (rc < 0) {
        snprintf(why, size, "the snapshot could not be read back (%s)", cw_strerror(rc));
        return false;
    }
    /* images of cases written after it are newer than what it holds of
     * the world: those cases are judged again from their events */
    if (cw_store_case_images_drop(s->db, m.gseq, &err) < 0) {
        snprintf(why, size, "%s", err.msg);
        return false;
    }
    /* what was written after it, the engine compares as it catches up */
    if (cw_store_findings_since_snapshot(s->db, s->cfg->engine_name, known_finding, s, &err) < 0) {
        snprintf(why, size, "%s", err.msg);
        return false;
    }
    s->low = m.gseq;
    s->mine.restore_s = cw_mono_s() - t0;
    if (s->progress)
        fprintf(s->progress, "casewarden serve: started from the snapshot at event %llu (%.1f MiB, "
                "%zu cases in memory) in %.2f s\n", (unsigned long long)m.gseq,
                (double)len / 1048576.0, cw_engine_live(s->e), s->mine.restore_s);
    return true;
}

/* Read the log to its end, in rounds; then what the store held of cases
 * no event came for is withdrawn. */
static int catch_up(cw_service *s, cw_err *err)
{
    int n, rc;

    do {
        if ((n = read_new(s, REBUILD_PAGE, err)) < 0)
            return n;
        cw_engine_tick(s->e, cw_service_now(s));
        if ((rc = flush(s, err)) < 0)
            return rc;
    } while (n >= REBUILD_PAGE);
    cw_engine_settle_stubs(s->e);
    cw_engine_tick(s->e, cw_service_now(s));
    return flush(s, err);
}

static int start(cw_service *s, cw_err *err)
{
    char why[320];
    int rc;

    if ((rc = cw_store_check_schema(s->db, s->cfg->db.name, err)) < 0)
        return rc;
    s->last_snapshot = cw_mono_s();
    if (restore(s, why, sizeof why)) {
        snprintf(s->mine.start, sizeof s->mine.start, "snapshot");
        /* the events since, the states as of now and the timers, before
         * anyone asks */
        if ((rc = catch_up(s, err)) < 0)
            return rc;
    } else {
        cw_loader l = { load_case, save_case, s };
        /* a new engine: nothing of a half-read snapshot stays */
        cw_engine_free(s->e);
        s->e = cw_engine_new(s->w, s->rs);
        cw_engine_set_loader(s->e, &l, s->rs->idle_s);
        cw_log(CW_LOG_INFO, "judging the event log again: %s", why);
        snprintf(s->mine.start, sizeof s->mine.start, "rebuild: %s", why);
        if ((rc = cw_store_case_images_drop(s->db, 0, err)) < 0 || (rc = rebuild(s, err)) < 0)
            return rc;
        if (s->progress)
            fprintf(s->progress, "casewarden serve: %zu findings were stored, %llu written, "
                    "%llu withdrawn\n", s->nknown, (unsigned long long)s->mine.findings_written,
                    (unsigned long long)(s->mine.findings_removed));
        if (s->cfg->snapshot_s > 0 && (rc = snapshot(s, err)) < 0)
            cw_log(CW_LOG_ERROR, "snapshot: %s", err->msg);
    }
    s->mine.ready = true;
    watch_calendar(s);
    publish(s);
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
    if ((rc = cw_notify_load(&s->notify, cfg->rules, s->rs->tz, err)) < 0) {
        cw_log(CW_LOG_ERROR, "notifications in %s not loaded: %s", cfg->rules, err->msg);
        cw_service_close(s);
        return rc;
    }
    s->e = cw_engine_new(s->w, s->rs);
    if ((rc = cw_db_connect(&s->db, &cfg->db, false, err)) < 0 ||
        (rc = cw_db_connect(&s->ldb, &cfg->db, false, err)) < 0) {
        cw_service_close(s);
        return rc;
    }
    {
        cw_loader l = { load_case, save_case, s };
        cw_engine_set_loader(s->e, &l, s->rs->idle_s);
    }
    if ((rc = start(s, err)) < 0) {
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
    cw_notifier_stop(s->notifier);
    cw_notify_free(s->notify);
    cw_db_close(s->db);
    cw_db_close(s->ldb);
    cw_engine_free(s->e);
    cw_ruleset_free(s->rs);
    cw_world_free(s->w);
    cw_evparser_free(s->p);
    free(s->rec);
    free(s->fresh);
    free(s->replay);
    free(s->probs);
    images_clear(s);
    free(s->images);
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
    const char *xcase, *xrule, *xsubject;    /* an explanation (cw_service_explain) */
    char *out;
    int rc;
    cw_err err;
    bool done;
    struct asking *next;
} asking;

static int ask(cw_service *s, asking *a, char **out, cw_err *err);

int cw_service_advise(cw_service *s, const char *query, size_t len, char **out, cw_err *err)
{
    asking a = { query, len, NULL, NULL, NULL, NULL, 0, { 0 }, false, NULL };

    return ask(s, &a, out, err);
}

int cw_service_explain(cw_service *s, const char *case_id, const char *rule, const char *subject,
                       char **out, cw_err *err)
{
    asking a = { NULL, 0, case_id, rule, subject, NULL, 0, { 0 }, false, NULL };

    return ask(s, &a, out, err);
}

/* Explain on the service's thread. */
static int explain(cw_service *s, asking *a)
{
    cw_explain x;
    cw_buf b = { 0 };

    cw_engine_trace(s->e, a->xcase);
    if (cw_engine_rejudge(s->e, a->xcase) < 0) {
        cw_engine_trace(s->e, NULL);
        return cw_err_set(&a->err, CW_ENOTFOUND, "the engine has no case %s", a->xcase);
    }
    cw_explain_build(s->e, a->xcase, a->xrule, a->xsubject, cw_service_now(s), &x);
    cw_engine_trace(s->e, NULL);
    cw_explain_json(&x, &b);
    cw_explain_free(&x);
    a->out = b.p;
    return 0;
}

static int ask(cw_service *s, asking *pa, char **out, cw_err *err)
{
    asking a = *pa;

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
            a->rc = a->xcase ? explain(s, a)
                             : cw_advise(s->rs, s->e, a->query, a->len, cw_service_now(s), &a->out, &a->err);
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
    cw_notify *notify;
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
        s->mine.reload_failures++;
        return rc;
    }
    free(rep);
    /* notify.yaml goes with the rules: both or neither */
    if ((rc = cw_notify_load(&notify, s->cfg->rules, rs->tz, err)) < 0) {
        cw_log(CW_LOG_ERROR, "reload refused, the rules in force stay: %s", err->msg);
        cw_ruleset_free(rs);
        s->mine.reload_failures++;
        return rc;
    }
    if (s->notifier)
        cw_notifier_set(s->notifier, notify);
    else {
        cw_notify_free(s->notify);
        s->notify = notify;
    }
    /* the same files, plugins and data as the rules in force: nothing
     * would judge differently, so nothing is judged again */
    if (rs->digest == s->rs->digest && rs->nrules == s->rs->nrules) {
        cw_ruleset_free(rs);
        s->mine.reloads++;
        s->mine.reloads_unchanged++;
        cw_log(CW_LOG_INFO, "rules reloaded from %s: unchanged (%zu rules, digest %016llx), "
               "nothing judged again", s->cfg->rules, s->rs->nrules, (unsigned long long)s->rs->digest);
        publish(s);
        return 0;
    }
    pthread_rwlock_wrlock(&s->cat);
    old = s->rs;
    cw_engine_set_ruleset(s->e, rs);
    s->rs = rs;
    pthread_rwlock_unlock(&s->cat);
    cw_engine_replay_all(s->e);
    s->mine.reloads++;
    cw_log(CW_LOG_INFO, "rules reloaded from %s: %zu rules (digest %016llx, was %016llx)", s->cfg->rules,
           rs->nrules, (unsigned long long)rs->digest, (unsigned long long)old->digest);
    cw_ruleset_free(old);
    /* the new rules are in force; what they changed is written now, or by
     * the loop's next round if the database is away at this moment */
    if (flush(s, err) < 0)
        cw_log(CW_LOG_ERROR, "after the reload: %s; written when the database is back", err->msg);
    publish(s);
    return 0;
}

int cw_service_reload(cw_service *s, cw_err *err)
{
    uint64_t ticket;
    int rc;

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return cw_err_set(err, CW_EUNAVAIL, "the service is stopping");
    }
    ticket = ++s->reload_asked;
    s->wake = true;
    pthread_cond_signal(&s->cv);
    /* answered by the loop: done, refused while the database is away, or
     * refused at the stop */
    while (s->reload_done < ticket)
        pthread_cond_wait(&s->done, &s->mu);
    rc = s->reload_rc;
    if (rc < 0)
        cw_err_set(err, s->reload_code, "%s", s->reload_msg);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int cw_service_step(cw_service *s, cw_err *err)
{
    int n, rc;

    if ((n = read_new(s, s->cfg->batch, err)) < 0)
        return n;
    cw_engine_tick(s->e, cw_service_now(s));
    if ((rc = flush(s, err)) < 0)
        return rc;
    if (s->cfg->snapshot_s > 0 && cw_mono_s() - s->last_snapshot >= s->cfg->snapshot_s &&
        snapshot(s, err) < 0)
        cw_log(CW_LOG_ERROR, "snapshot: %s", err->msg);
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
    s->reload_code = rc < 0 ? err.code : 0;
    snprintf(s->reload_msg, sizeof s->reload_msg, "%s", rc < 0 ? err.msg : "");
    s->reload_done = asked;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
}

static cw_time notifier_clock(void *ud)
{
    return cw_service_now(ud);
}

void cw_service_notify_stats(cw_service *s, cw_notify_stats *out)
{
    cw_notifier_stats(s->notifier, out);
}

/* Answer the reloads asked and not yet done with a refusal (the database
 * is away, or the service stops), so no caller waits without end. */
static void refuse_reloads(cw_service *s, const char *why)
{
    pthread_mutex_lock(&s->mu);
    if (s->reload_done < s->reload_asked) {
        s->reload_rc = -1;
        s->reload_code = CW_EUNAVAIL;
        snprintf(s->reload_msg, sizeof s->reload_msg, "%s", why);
        s->reload_done = s->reload_asked;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
}

int cw_service_run(cw_service *s, volatile sig_atomic_t *stop, volatile sig_atomic_t *hup)
{
    unsigned backoff = 100;
    cw_err err = { 0 };

    if (s->notifier == NULL) {
        int rc = cw_notifier_start(&s->notifier, &s->cfg->db, s->notify, notifier_clock, s, &err);
        s->notify = NULL;       /* taken, even on error */
        if (rc < 0)
            return rc;
    }

    while (!*stop) {
        int n = cw_service_step(s, &err);
        if (n < 0) {
            /* the database went away: keep everything, try again */
            cw_log(CW_LOG_ERROR, "%s; retrying in %u ms", err.msg, backoff);
            refuse_reloads(s, "the database cannot be reached: the rules in force stay; "
                              "ask again when it is back");
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
        watch_calendar(s);
        publish(s);
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
    refuse_reloads(s, "the service is stopping");
    /* a last round, so what was read is written, and where it stands */
    if (flush(s, &err) < 0)
        cw_log(CW_LOG_ERROR, "final flush: %s", err.msg);
    else if (s->cfg->snapshot_s > 0 && snapshot(s, &err) < 0)
        cw_log(CW_LOG_ERROR, "snapshot: %s", err.msg);
    return 0;
}
