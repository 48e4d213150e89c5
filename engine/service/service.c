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
    bool halt;               /* cw_service_stop: the loop ends */
    bool *own_pub;           /* [parts] own as last published (cw_service_owns) */
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
    /* several engines (cluster.lease_ms > 0): the partitions this one owns */
    bool clustered;
    unsigned parts;
    cw_db *lease_db;         /* lease reads wait for the cluster (wsrep_sync_wait) */
    cw_lease *leases;        /* [parts] as last read */
    bool *own;               /* [parts] mine */
    bool *taking;            /* [parts] judged by the judge_parts under way */
    uint64_t *snapped;       /* [parts] the cursor of my last snapshot (UINT64_MAX: none) */
    uint64_t *token;         /* [parts] the token of my claim */
    uint64_t *cur;           /* [parts] read to this pseq */
    uint64_t *head;          /* [parts] the partition's last pseq, as last read */
    bool cross_on;           /* holding partition 0: the cross-case rules, over every partition */
    double next_lease;       /* monotonic seconds: the next lease round */
    int64_t renewed_to;      /* wall µs: the leases held last renewed up to this */
    uint64_t lag;            /* events of the partitions read not yet read */
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
    s->mine.clustered = s->clustered;
    s->mine.lag = s->lag;
    s->mine.rules_digest = s->rs->digest;
    if (s->clustered)
        memcpy(s->own_pub, s->own, s->parts * sizeof *s->own);
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

bool cw_service_owns(cw_service *s, const char *case_id)
{
    bool mine;

    if (!s->clustered)
        return true;
    pthread_mutex_lock(&s->mu);
    mine = s->own_pub[cw_lease_part(case_id, strlen(case_id), s->parts)];
    pthread_mutex_unlock(&s->mu);
    return mine;
}

void cw_service_stop(cw_service *s)
{
    pthread_mutex_lock(&s->mu);
    s->halt = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static bool halted(cw_service *s)
{
    bool h;

    pthread_mutex_lock(&s->mu);
    h = s->halt;
    pthread_mutex_unlock(&s->mu);
    return h;
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

/* The place of an event among others, that orders a case's events of the
 * same time and tells events apart: its place in the log alone, and with
 * several engines (which read each partition in its own order) its
 * identity, seq, which `casewarden eval` of the events in seq order
 * follows as well. */
static uint64_t event_key(const cw_service *s, const cw_store_event *row)
{
    return s->clustered ? row->seq : row->gseq;
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
    cw_evparser_set_now(s->p, cw_service_now(s));
    if (cw_evparse(s->p, s->rs->cat, body, len, &pe, &ee) < 0) {
        note_problem(s, seq, &ee);
        return;
    }
    /* the engine orders and tells events apart by their place in the log */
    if ((size = cw_engine_encode(s->e, &pe, event_key(s, row), &s->rec, &s->reccap, &err)) < 0) {
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
        s->fresh[s->nfresh].seq = event_key(s, row);
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
static int read_parts(cw_service *s, unsigned batch, cw_err *err);

static int read_new(cw_service *s, unsigned batch, cw_err *err)
{
    int r;

    if (s->clustered)
        return read_parts(s, batch, err);
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

static int fence(cw_service *s, cw_store_tx *t);
static int apply_cross(cw_service *s, cw_ruleset *rs, cw_err *err);

/* Write what changed, the problems and the checkpoint, in one
 * transaction. On failure nothing counts as written. */
static int flush_once(cw_service *s, cw_err *err)
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
    if ((rc = fence(s, t)) < 0 ||
        (rc = cw_engine_flush(s->e, cw_service_now(s), &sink, &changes)) < 0 ||
        (rc = write_problems(s, t)) < 0 ||
        (!s->clustered && (rc = cw_store_tx_checkpoint(t, s->cfg->engine_name, ckpt)) < 0)) {
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

/* A flush, tried again while it fails on a deadlock, a lock wait timeout
 * or (Galera) a certification conflict: the whole transaction again, after
 * 10, 20, 40 ... ms. */
static int flush(cw_service *s, cw_err *err)
{
    unsigned wait = 10;
    int rc;

    for (int i = 0;; i++) {
        if ((rc = flush_once(s, err)) == 0 || i == 6 || !cw_db_is_retryable(s->db))
            return rc;
        cw_log(CW_LOG_DEBUG, "flush: %s; again in %u ms", err->msg, wait);
        struct timespec ts = { 0, (long)wait * 1000000L };
        nanosleep(&ts, NULL);
        wait *= 2;
    }
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

static int offer_image(void *ud, const void *image, size_t len)
{
    return cw_engine_offer_image(ud, image, len);
}

/* The loader's pass over every image (a reload judging the cases out of
 * memory): those on their way to the store first, then the store's, in
 * one streamed read on the main connection (the loader's own stays free
 * for the cases the judgement brings back one by one). Saving a case
 * judged meanwhile adds to s->images: its image is not offered again. */
static int offer_images(void *ud, cw_engine *e)
{
    cw_service *s = ud;
    size_t n = s->nimages;
    cw_err err;

    for (size_t i = 0; i < n && i < s->nimages; i++)
        cw_engine_offer_image(e, s->images[i].image, s->images[i].len);
    if (cw_store_case_images_each(s->db, offer_image, e, &err) < 0) {
        cw_log(CW_LOG_ERROR, "reading the cases' images: %s", err.msg);
        cw_db_reconnect(s->db, &err);
        return -1;
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

    if (!s->clustered)
        s->low = ev->gseq;
    else if (ev->part < s->parts && ev->pseq > s->cur[ev->part])
        s->cur[ev->part] = ev->pseq;
    rb->read++;
    s->mine.events_read++;
    cw_evparser_set_now(s->p, cw_service_now(s));
    if (cw_evparse(s->p, s->rs->cat, ev->body, ev->len, &pe, &ee) < 0) {
        note_problem(s, ev->seq, &ee);
        return 0;
    }
    if (cw_engine_encode(s->e, &pe, event_key(s, ev), &s->rec, &s->reccap, &err) < 0) {
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

static int keep_leases(cw_service *s, cw_err *err);

static void run_flush(void *ud)
{
    rebuilding *rb = ud;

    if (rb->rc == 0 && rb->s->clustered)
        rb->rc = keep_leases(rb->s, &rb->err);
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

/* ---- several engines: partitions and leases -------------------------------------------- */

/* The engines' common clock for leases, microseconds: the wall clock, not
 * the service's (a test's fixed clock must not stop leases). */
static int64_t lease_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t lease_ttl(const cw_service *s)
{
    return (int64_t)s->cfg->lease_ms * 1000;
}

/* The engine's question: is this case another engine's? */
static bool case_foreign(void *ud, const char *case_id)
{
    cw_service *s = ud;

    return !s->own[cw_lease_part(case_id, strlen(case_id), s->parts)];
}

/* Whether this engine reads partition p: its own, and all of them while it
 * runs the cross-case rules. */
static bool reads(const cw_service *s, unsigned p)
{
    return s->cross_on || s->own[p];
}

/* The leases held, as the store's statements take them. */
static size_t held(const cw_service *s, unsigned *parts, uint64_t *tokens, uint64_t *ckpts)
{
    size_t n = 0;

    for (unsigned p = 0; p < s->parts; p++)
        if (s->own[p]) {
            parts[n] = p;
            tokens[n] = s->token[p];
            if (ckpts)
                ckpts[n] = s->cur[p];
            n++;
        }
    return n;
}

/* First in every write transaction of a partitioned engine: the leases are
 * still mine (else CW_ELEASE and nothing is written), with each
 * partition's checkpoint. */
static int fence(cw_service *s, cw_store_tx *t)
{
    unsigned *parts;
    uint64_t *tokens, *ckpts;
    size_t n;
    int rc;

    if (!s->clustered)
        return 0;
    parts = cw_xmalloc((s->parts + 1) * sizeof *parts);
    tokens = cw_xmalloc((s->parts + 1) * sizeof *tokens);
    ckpts = cw_xmalloc((s->parts + 1) * sizeof *ckpts);
    n = held(s, parts, tokens, ckpts);
    rc = cw_store_tx_fence(t, s->cfg->engine_name, parts, tokens, ckpts, n, lease_now());
    free(parts);
    free(tokens);
    free(ckpts);
    return rc;
}

static int apply_cross(cw_service *s, cw_ruleset *rs, cw_err *err)
{
    for (size_t i = 0; i < rs->nrules; i++)
        rs->rules[i]->cross = false;
    for (size_t i = 0; i < s->cfg->ncross; i++) {
        cw_rule *r = cw_ruleset_find(rs, s->cfg->cross[i]);
        if (r != NULL)
            r->cross = true;
        else if (s->cfg->cross_set)
            return cw_err_set(err, CW_ECONFIG, "%s: cluster.cross_case: no rule '%s' in %s", s->cfg->path,
                              s->cfg->cross[i], s->cfg->rules);
    }
    return 0;
}

static bool rule_is_cross(const cw_service *s, const char *id)
{
    const cw_rule *r = cw_ruleset_find(s->rs, id);

    return r != NULL && r->cross;
}

/* A stored finding this engine writes: its own partitions' findings of
 * the rules that see one case, and, running the cross-case rules, theirs
 * in every partition. */
static int known_part_finding(void *ud, const cw_store_finding *f, unsigned part)
{
    cw_service *s = ud;

    if (part < s->parts && (rule_is_cross(s, f->rule) ? s->cross_on : s->own[part] && s->taking[part]))
        return known_finding(s, f);
    return 0;
}

typedef struct partread {
    cw_service *s;
    unsigned n;
} partread;

static int take_part_event(void *ud, const cw_store_event *ev)
{
    partread *r = ud;
    cw_service *s = r->s;

    r->n++;
    if (ev->part >= s->parts || ev->pseq <= s->cur[ev->part])
        return 0;
    ingest(s, ev);
    s->cur[ev->part] = ev->pseq;
    s->nread++;
    return 0;
}

static int note_head(void *ud, unsigned part, uint64_t next)
{
    cw_service *s = ud;

    if (part < s->parts)
        s->head[part] = next;
    return 0;
}

/* The next events of the partitions read: each one past its cursor, in
 * its own order (gapless and commit-ordered, like gseq), at most batch in
 * all; then the round is processed as one. */
static int read_parts(cw_service *s, unsigned batch, cw_err *err)
{
    unsigned left = batch;
    int rc = 0;

    s->nread = 0;
    if ((rc = cw_store_partition_heads(s->db, note_head, s, err)) < 0)
        return rc;
    for (unsigned p = 0; p < s->parts && left > 0 && rc == 0; p++) {
        while (reads(s, p) && s->head[p] > s->cur[p] && left > 0) {
            partread r = { s, 0 };
            unsigned want = left < REBUILD_PAGE ? left : REBUILD_PAGE;
            if ((rc = cw_store_partition_events(s->db, p, s->cur[p], want, take_part_event, &r, err)) < 0 ||
                r.n == 0)
                break;
            left -= r.n < left ? r.n : left;
        }
    }
    s->lag = 0;
    for (unsigned p = 0; p < s->parts; p++)
        if (reads(s, p) && s->head[p] > s->cur[p])
            s->lag += s->head[p] - s->cur[p];
    end_round(s);
    return rc < 0 ? rc : s->nread;
}

/* While judging takes long: the heartbeat and the renewal when due, so
 * the leases outlive a takeover of many events. CW_ELEASE when one is
 * lost. */
static int keep_leases(cw_service *s, cw_err *err)
{
    unsigned *parts;
    uint64_t *tokens;
    size_t n, renewed = 0;
    int64_t now = lease_now();
    int rc;

    if (!s->clustered || cw_mono_s() < s->next_lease)
        return 0;
    s->next_lease = cw_mono_s() + s->cfg->renew_ms / 1000.0;
    parts = cw_xmalloc((s->parts + 1) * sizeof *parts);
    tokens = cw_xmalloc((s->parts + 1) * sizeof *tokens);
    n = held(s, parts, tokens, NULL);
    if ((rc = cw_store_member_beat(s->lease_db, s->cfg->engine_name, now + lease_ttl(s), err)) == 0 &&
        (rc = cw_store_leases_renew(s->lease_db, s->cfg->engine_name, parts, tokens, n, now,
                                    lease_ttl(s), &renewed, err)) == 0 && renewed != n)
        rc = cw_err_set(err, CW_ELEASE, "%zu of its %zu partition leases could not be renewed",
                        n - renewed, n);
    if (rc == 0)
        s->renewed_to = now + lease_ttl(s);
    free(parts);
    free(tokens);
    return rc;
}

/* ---- partition snapshots (several engines) ------------------------------------ */

#define PART_MAGIC "CWP1"       /* then (u32 len, case image) for each case */

typedef struct partimgs {
    cw_service *s;
    cw_buf *b;               /* [parts] */
} partimgs;

static bool own_case(void *ud, const char *case_id)
{
    const cw_service *s = ((const partimgs *)ud)->s;

    return s->own[cw_lease_part(case_id, strlen(case_id), s->parts)];
}

static void bucket_image(void *ud, const char *case_id, const void *image, size_t len)
{
    partimgs *pi = ud;
    cw_buf *b = &pi->b[cw_lease_part(case_id, strlen(case_id), pi->s->parts)];
    uint32_t n = (uint32_t)len;

    if (b->n == 0)
        cw_buf_put(b, PART_MAGIC, 4);
    cw_buf_put(b, &n, sizeof n);
    cw_buf_put(b, image, len);
}

/*
 * The cases of the partitions held (of partition `only` alone when it is
 * below parts), each partition's at its cursor, so that whoever takes one
 * over reads its cases back and only the events after: right after a
 * flush that stored everything, fenced by each lease. The engine that
 * runs the cross-case rules writes none: its cases' images carry those
 * rules' records, which an engine without them must not inherit.
 */
static int snapshot_parts(cw_service *s, unsigned only, cw_err *err)
{
    enum { BATCH = 32 };        /* partitions a transaction */
    cw_store_partsnap v[BATCH];
    cw_store_snapmeta m = { .rules_digest = s->rs->digest };
    partimgs pi = { s, NULL };
    size_t written = 0, bytes = 0, nv = 0;
    double t0 = cw_mono_s();
    int rc;

    s->last_snapshot = cw_mono_s();
    if (s->cross_on || s->rebuilding || cw_engine_dirty(s->e) > 0)
        return 0;
    program_version(m.program, sizeof m.program);
    pi.b = cw_xcalloc(s->parts, sizeof *pi.b);
    rc = cw_engine_case_images(s->e, own_case, bucket_image, &pi);
    for (unsigned p = 0; p <= s->parts && rc == 0; p++) {
        /* the partitions held whose cursor moved since their last one */
        if (p < s->parts && s->own[p] && s->snapped[p] != s->cur[p] && (only >= s->parts || p == only)) {
            if (pi.b[p].n == 0)
                cw_buf_put(&pi.b[p], PART_MAGIC, 4);    /* no case yet: still a checkpoint */
            m.gseq = s->cur[p];
            v[nv++] = (cw_store_partsnap){ p, s->token[p], m, pi.b[p].p, pi.b[p].n };
        }
        if (nv == BATCH || (p == s->parts && nv > 0)) {
            if ((rc = cw_store_part_snapshots_write(s->db, s->cfg->engine_name, lease_now(), v, nv, err)) < 0)
                break;
            for (size_t i = 0; i < nv; i++) {
                s->snapped[v[i].part] = v[i].m.gseq;
                bytes += v[i].len;
            }
            written += nv;
            nv = 0;
        }
    }
    for (unsigned p = 0; p < s->parts; p++)
        cw_buf_free(&pi.b[p]);
    free(pi.b);
    s->mine.part_snapshots += written;
    if (written > 0) {
        s->mine.snapshot_bytes = bytes;
        s->mine.snapshot_s = cw_mono_s() - t0;
        cw_log(CW_LOG_DEBUG, "engine %s: %zu partition snapshots, %zu bytes in %.2f s", s->cfg->engine_name,
               written, bytes, s->mine.snapshot_s);
    }
    return rc;
}

/* Partition p's cases from its snapshot into the engine, its cursor at the
 * snapshot's checkpoint: 1 when read; 0 when there is none for these
 * rules and this program (p is judged from its start); CW_EPARSE when it
 * was damaged halfway (the engine holds part of p: judge anew without). */
static int take_snapshot(cw_service *s, unsigned p)
{
    char name[32], prog[64];
    cw_store_snapmeta m;
    void *data = NULL;
    size_t len = 0;
    bool found = false;
    const uint8_t *q, *end;
    cw_err err;
    int rc = 1;

    cw_store_part_snapshot_name(p, name, sizeof name);
    if (cw_store_snapshot_read(s->db, name, &m, &data, &len, &found, &err) < 0) {
        cw_log(CW_LOG_WARN, "the snapshot of partition %u could not be read (%s): judged from its start", p,
               err.msg);
        return 0;
    }
    program_version(prog, sizeof prog);
    if (!found || strcmp(m.program, prog) != 0 || m.rules_digest != s->rs->digest || len < 4 ||
        memcmp(data, PART_MAGIC, 4) != 0) {
        free(data);
        return 0;
    }
    q = (const uint8_t *)data + 4;
    end = (const uint8_t *)data + len;
    while (q < end && rc == 1) {
        uint32_t n;
        if (end - q < 4) {
            rc = CW_EPARSE;
            break;
        }
        memcpy(&n, q, sizeof n);
        q += sizeof n;
        if ((size_t)(end - q) < n || cw_engine_add_image(s->e, q, n) < 0)
            rc = CW_EPARSE;
        q += (size_t)(end - q) < n ? (size_t)(end - q) : n;
    }
    if (rc == 1)
        s->cur[p] = s->snapped[p] = m.gseq;
    else
        cw_log(CW_LOG_WARN, "the snapshot of partition %u is damaged: its partitions are judged anew from "
               "their start", p);
    free(data);
    return rc;
}

/*
 * Judge the partitions marked in taking: with anew, a new engine for all
 * those now read (the others' state goes); without, into the engine as it
 * is (new partitions taken, nothing given back, the cross-case rules not
 * concerned). Each partition starts from its snapshot when it has one (an
 * engine without the cross-case rules), then what the store holds of its
 * findings, then every event after its cursor, spooled and judged in time
 * order across cases as `eval` does (core/run.h), flushing as the run
 * goes, with the leases renewed meanwhile. Findings of partitions no
 * longer held are no longer this engine's to write.
 */
static int judge_parts(cw_service *s, bool anew, cw_err *err)
{
    double t0 = cw_mono_s();
    rebuilding rb = { s, NULL, 0, 0, { 0 } };
    size_t nown = 0, ntake = 0, nsnap = 0;
    bool snaps = !s->cross_on;
    int rc;

again:
    if (anew) {
        cw_loader l = { load_case, save_case, s, offer_images };
        cw_engine_free(s->e);
        s->e = cw_engine_new(s->w, s->rs);
        /* with leases cases do not leave memory (docs/DESIGN.md): a
         * loader with no idle time lets none go, and keeps the rebuild's
         * spool from lending its own, which would take the cases that
         * left during the rebuild away with it */
        cw_engine_set_loader(s->e, &l, 0);
        cw_engine_set_foreign(s->e, case_foreign, s);
        cw_engine_set_cross(s->e, s->cross_on);
        s->nfresh = s->nreplay = 0;
        s->nprobs = 0;
        s->nknown = 0;
        memset(s->cur, 0, s->parts * sizeof *s->cur);
        memset(s->snapped, 0xff, s->parts * sizeof *s->snapped);
        for (unsigned p = 0; p < s->parts; p++)
            s->taking[p] = reads(s, p);
    }
    nsnap = ntake = 0;
    for (unsigned p = 0; p < s->parts; p++) {
        nown += s->own[p];
        if (!s->taking[p])
            continue;
        ntake++;
        if (snaps && s->own[p]) {
            if ((rc = take_snapshot(s, p)) < 0) {
                anew = true;
                snaps = false;
                nown = 0;
                goto again;
            }
            nsnap += (size_t)rc;
        }
    }
    if ((rc = cw_store_findings_parts(s->db, s->parts, known_part_finding, s, err)) < 0)
        return rc;
    rb.run = cw_run_new(s->e);
    for (unsigned p = 0; p < s->parts && rc == 0; p++) {
        uint64_t before;
        if (!s->taking[p])
            continue;
        do {
            before = rb.read;
            if ((rc = cw_store_partition_events(s->db, p, s->cur[p], REBUILD_PAGE, spool_event, &rb,
                                                err)) < 0 ||
                (rc = keep_leases(s, err)) < 0)
                break;
        } while (rb.read - before == REBUILD_PAGE);
    }
    if (rc == 0) {
        s->rebuilding = true;
        cw_run_process(rb.run, run_flush, &rb, REBUILD_FLUSH);
        s->rebuilding = false;
        if ((rc = rb.rc) < 0)
            *err = rb.err;
    }
    cw_run_free(rb.run);
    memset(s->taking, 0, s->parts * sizeof *s->taking);
    if (rc < 0)
        return rc;
    cw_engine_settle_stubs(s->e);
    cw_engine_tick(s->e, cw_service_now(s));
    if ((rc = keep_leases(s, err)) < 0 || (rc = flush(s, err)) < 0)
        return rc;
    s->mine.partitions = nown;
    s->mine.cross = s->cross_on;
    s->mine.takeover_s = cw_mono_s() - t0;
    s->mine.parts_from_snapshot += nsnap;
    s->mine.parts_from_start += ntake - nsnap;
    cw_log(CW_LOG_INFO, "engine %s: %zu partitions%s; %s%zu judged (%zu from their snapshots), %llu events "
           "in %.2f s (%zu cases)", s->cfg->engine_name, nown, s->cross_on ? " and the cross-case rules" : "",
           anew ? "all " : "", ntake, nsnap, (unsigned long long)rb.read, s->mine.takeover_s,
           cw_engine_live(s->e));
    return 0;
}

static int rebuild_parts(cw_service *s, cw_err *err)
{
    return judge_parts(s, true, err);
}

/* Lost a lease (fencing refused a write, or a renewal): nothing of this
 * engine's is written any more; it holds nothing, and claims a share again
 * at its next lease round. */
static void step_down(cw_service *s, const char *why)
{
    cw_err err;

    cw_log(CW_LOG_WARN, "engine %s steps down: %s", s->cfg->engine_name, why);
    memset(s->own, 0, s->parts * sizeof *s->own);
    s->cross_on = false;
    s->mine.stepdowns++;
    if (rebuild_parts(s, &err) < 0)
        cw_log(CW_LOG_ERROR, "%s", err.msg);
    s->next_lease = 0;
}

/* Give partition p back, its checkpoint with it. */
static void release(cw_service *s, unsigned p, cw_err *err)
{
    if (cw_store_lease_release(s->lease_db, p, s->cfg->engine_name, s->token[p], s->cur[p], err) < 0)
        cw_log(CW_LOG_ERROR, "release of partition %u: %s", p, err->msg);
    s->own[p] = false;
}

/*
 * A lease round, every cluster.renew_ms: the heartbeat, the renewal of
 * what is held (a lease that could not be renewed is lost: step down),
 * then the leases read as the cluster has them, and the plan of
 * engine/lease carried out: partitions over the fair share given back
 * (after a flush), free or expired ones claimed. A change of the
 * partitions held judges them anew.
 */
static int lease_round(cw_service *s, cw_err *err)
{
    const char *me = s->cfg->engine_name;
    int64_t now = lease_now();
    unsigned *parts = cw_xmalloc((s->parts + 1) * sizeof *parts);
    uint64_t *tokens = cw_xmalloc((s->parts + 1) * sizeof *tokens);
    size_t n, renewed = 0;
    unsigned live = 1;
    bool changed = false, anew = false;
    cw_lease_plan plan = { 0 };
    int rc;

    s->next_lease = cw_mono_s() + s->cfg->renew_ms / 1000.0;
    n = held(s, parts, tokens, NULL);
    if ((rc = cw_store_member_beat(s->lease_db, me, now + lease_ttl(s), err)) < 0 ||
        (rc = cw_store_leases_renew(s->lease_db, me, parts, tokens, n, now, lease_ttl(s), &renewed,
                                    err)) < 0)
        goto out;
    s->renewed_to = now + lease_ttl(s);
    if (renewed != n) {
        char why[160];
        snprintf(why, sizeof why, "%zu of its %zu partition leases could not be renewed", n - renewed, n);
        step_down(s, why);
    }
    if ((rc = cw_store_members_live(s->lease_db, now, &live, err)) < 0 ||
        (rc = cw_store_leases(s->lease_db, s->leases, s->parts, err)) < 0)
        goto out;
    cw_lease_plan_make(s->leases, s->parts, me, live ? live : 1, now, &plan);
    /* what is given back goes with its snapshot, and what stays is judged
     * anew from its own */
    if (plan.nrelease > 0 && ((rc = flush(s, err)) < 0 || (rc = snapshot_parts(s, s->parts, err)) < 0))
        goto out;
    for (size_t i = 0; i < plan.nrelease; i++) {
        release(s, plan.release[i], err);
        s->mine.releases++;
        changed = anew = true;
    }
    for (size_t i = 0; i < plan.nclaim; i++) {
        unsigned p = plan.claim[i];
        const cw_lease *l = &s->leases[p];
        bool won = false;
        uint64_t token = 0;
        if (cw_store_lease_claim(s->lease_db, p, me, l->token, now, lease_ttl(s), &won, &token, err) < 0) {
            /* another engine's claim won the row meanwhile (certification) */
            cw_log(CW_LOG_DEBUG, "claim of partition %u: %s", p, err->msg);
            continue;
        }
        if (!won)
            continue;
        s->own[p] = true;
        s->taking[p] = true;
        s->snapped[p] = UINT64_MAX;
        s->token[p] = token;
        s->mine.claims++;
        if (l->owner[0] != '\0' && strcmp(l->owner, me) != 0)
            s->mine.takeovers++;
        changed = true;
    }
    if (changed) {
        /* partitions only taken, by an engine without the cross-case
         * rules before and after: into the engine as it is */
        if (!anew && !s->cross_on && !s->own[0])
            rc = judge_parts(s, false, err);
        else {
            s->cross_on = s->own[0];
            rc = rebuild_parts(s, err);
        }
    }
out:
    memset(s->taking, 0, s->parts * sizeof *s->taking);
    cw_lease_plan_free(&plan);
    free(parts);
    free(tokens);
    return rc;
}

/* At a clean stop: everything written, then every lease given back and
 * the heartbeat removed, so the others take the partitions at once. */
static void leave(cw_service *s)
{
    cw_err err;

    if (s->cfg->snapshot_s > 0 && snapshot_parts(s, s->parts, &err) < 0)
        cw_log(CW_LOG_ERROR, "partition snapshots: %s", err.msg);
    for (unsigned p = 0; p < s->parts; p++)
        if (s->own[p])
            release(s, p, &err);
    if (cw_store_member_leave(s->lease_db, s->cfg->engine_name, &err) < 0)
        cw_log(CW_LOG_ERROR, "%s", err.msg);
}

static int start_clustered(cw_service *s, cw_err *err)
{
    int rc;

    if ((rc = cw_store_partitions(s->db, &s->parts, err)) < 0 ||
        (rc = cw_db_connect(&s->lease_db, &s->cfg->db, false, err)) < 0 ||
        (rc = cw_store_sync_reads(s->lease_db, true, err)) < 0 ||
        (rc = apply_cross(s, s->rs, err)) < 0)
        return rc;
    s->leases = cw_xcalloc(s->parts, sizeof *s->leases);
    s->own = cw_xcalloc(s->parts, sizeof *s->own);
    s->taking = cw_xcalloc(s->parts, sizeof *s->taking);
    s->snapped = cw_xmalloc(s->parts * sizeof *s->snapped);
    memset(s->snapped, 0xff, s->parts * sizeof *s->snapped);
    s->token = cw_xcalloc(s->parts, sizeof *s->token);
    s->cur = cw_xcalloc(s->parts, sizeof *s->cur);
    s->head = cw_xcalloc(s->parts, sizeof *s->head);
    s->own_pub = cw_xcalloc(s->parts, sizeof *s->own_pub);
    snprintf(s->mine.start, sizeof s->mine.start, "partitions: engine %s", s->cfg->engine_name);
    if ((rc = rebuild_parts(s, err)) < 0)
        return rc;
    if ((rc = lease_round(s, err)) == CW_ELEASE)
        step_down(s, err->msg);
    else if (rc < 0)
        return rc;
    s->mine.ready = true;
    watch_calendar(s);
    publish(s);
    return 0;
}

static int start(cw_service *s, cw_err *err)
{
    char why[320];
    int rc;

    if ((rc = cw_store_check_schema(s->db, s->cfg->db.name, err)) < 0)
        return rc;
    if (s->clustered)
        return start_clustered(s, err);
    s->last_snapshot = cw_mono_s();
    if (restore(s, why, sizeof why)) {
        snprintf(s->mine.start, sizeof s->mine.start, "snapshot");
        /* the events since, the states as of now and the timers, before
         * anyone asks */
        if ((rc = catch_up(s, err)) < 0)
            return rc;
    } else {
        cw_loader l = { load_case, save_case, s, offer_images };
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
    s->clustered = cfg->lease_ms > 0;
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
        cw_loader l = { load_case, save_case, s, offer_images };
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
    cw_db_close(s->lease_db);
    free(s->leases);
    free(s->own);
    free(s->own_pub);
    free(s->taking);
    free(s->snapped);
    free(s->token);
    free(s->cur);
    free(s->head);
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
    size_t replen = 0, judge, ncases;
    uint64_t t0, nevents = 0;
    bool ordered = false;
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
    if (s->clustered && (rc = apply_cross(s, rs, err)) < 0) {
        cw_log(CW_LOG_ERROR, "reload refused, the rules in force stay: %s", err->msg);
        cw_notify_free(notify);
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
    t0 = cw_mono_ns();
    pthread_rwlock_wrlock(&s->cat);
    old = s->rs;
    judge = cw_engine_set_ruleset_keep(s->e, rs);
    s->rs = rs;
    pthread_rwlock_unlock(&s->cat);
    /* only the rules whose version changed judge history again; the
     * others' conclusions stand */
    ncases = cw_engine_replay_changed(s->e, &nevents, &ordered);
    if (s->clustered)           /* the partitions' snapshots are of the rules before */
        memset(s->snapped, 0xff, s->parts * sizeof *s->snapped);
    s->mine.reloads++;
    s->mine.reload_judged += judge;
    s->mine.reload_kept += rs->nrules - judge;
    s->mine.reload_cases += ncases;
    s->mine.reload_events += nevents;
    s->mine.reload_seconds = (double)(cw_mono_ns() - t0) / 1e9;
    cw_log(CW_LOG_INFO, "rules reloaded from %s: %zu rules (digest %016llx, was %016llx); "
           "%zu judged again over %zu cases and %llu events (%s) in %.2f s, %zu kept their conclusions",
           s->cfg->rules, rs->nrules, (unsigned long long)rs->digest, (unsigned long long)old->digest,
           judge, ncases, (unsigned long long)nevents,
           ordered ? "in time order across cases, every case in memory" : "case by case",
           s->mine.reload_seconds, rs->nrules - judge);
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

/* Leases that could not be renewed (the database away, its node gone)
 * and have run out are another engine's to take: this one holds nothing
 * until a lease round claims again. */
static void leases_ran_out(cw_service *s, const cw_err *err)
{
    bool any = false;
    char why[640];

    for (unsigned p = 0; p < s->parts && !any; p++)
        any = s->own[p];
    if (!any || lease_now() < s->renewed_to)
        return;
    snprintf(why, sizeof why, "its partition leases could not be renewed before they ran out (%s)", err->msg);
    step_down(s, why);
}

/* The lease round when it is due; a lease lost on the way steps down. */
static int step_leases(cw_service *s, int rc, cw_err *err)
{
    if (rc == 0 && cw_mono_s() >= s->next_lease)
        rc = lease_round(s, err);
    if (rc == CW_ELEASE) {
        step_down(s, err->msg);
        return 0;
    }
    if (rc < 0) {
        leases_ran_out(s, err);
        if (cw_db_is_down(s->lease_db)) {
            cw_err e2;
            if (cw_db_reconnect(s->lease_db, &e2) == 0)
                cw_store_sync_reads(s->lease_db, true, &e2);
        }
    }
    return rc;
}

int cw_service_step(cw_service *s, cw_err *err)
{
    int n, rc;

    if ((n = read_new(s, s->cfg->batch, err)) < 0)
        return n;
    cw_engine_tick(s->e, cw_service_now(s));
    rc = flush(s, err);
    if (s->clustered) {
        rc = step_leases(s, rc, err);
        /* the notifications go with partition 0 */
        cw_notifier_gate(s->notifier, s->own[0] ? s->token[0] : 0);
        if (rc < 0)
            return rc;
        if (s->cfg->snapshot_s > 0 && cw_mono_s() - s->last_snapshot >= s->cfg->snapshot_s &&
            snapshot_parts(s, s->parts, err) < 0)
            cw_log(CW_LOG_ERROR, "partition snapshots: %s", err->msg);
        return n;
    }
    if (rc < 0)
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
    cw_notifier *nt;

    pthread_mutex_lock(&s->mu);
    nt = s->notifier;
    pthread_mutex_unlock(&s->mu);
    cw_notifier_stats(nt, out);
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
    bool hupped;

    if (s->notifier == NULL) {
        cw_notifier *nt = NULL;
        int rc = cw_notifier_start(&nt, &s->cfg->db, s->notify,
                                   s->clustered ? s->cfg->engine_name : NULL, notifier_clock, s, &err);
        s->notify = NULL;       /* taken, even on error */
        if (rc < 0)
            return rc;
        /* the HTTP threads read it (cw_service_notify_stats) */
        pthread_mutex_lock(&s->mu);
        s->notifier = nt;
        pthread_mutex_unlock(&s->mu);
    }

    while (!*stop && !halted(s)) {
        int n = cw_service_step(s, &err);
        if (n < 0) {
            /* the database went away: keep everything, try again */
            cw_log(CW_LOG_ERROR, "%s; retrying in %u ms", err.msg, backoff);
            refuse_reloads(s, "the database cannot be reached: the rules in force stay; "
                              "ask again when it is back");
            struct timespec ts = { backoff / 1000, (long)(backoff % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            if (s->clustered) {
                leases_ran_out(s, &err);
                cw_notifier_gate(s->notifier, s->own[0] ? s->token[0] : 0);
            }
            if (cw_db_reconnect(s->db, &err) < 0)
                cw_log(CW_LOG_ERROR, "%s", err.msg);
            backoff = backoff < 5000 ? backoff * 2 : 5000;
            continue;
        }
        backoff = 100;
        /* taken before the reload: a SIGHUP that comes while it runs asks
         * for another */
        hupped = *hup != 0;
        *hup = 0;
        serve_reloads(s, hupped);
        watch_calendar(s);
        publish(s);
        serve_asks(s, false);
        if ((unsigned)n >= s->cfg->batch)
            continue;
        pthread_mutex_lock(&s->mu);
        if (!s->wake && !*stop && !s->halt && s->reload_asked == s->reload_done && s->asks == NULL) {
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
    cw_service_finish(s);
    return 0;
}

void cw_service_finish(cw_service *s)
{
    cw_err err = { 0 };

    serve_asks(s, true);
    refuse_reloads(s, "the service is stopping");
    /* a last round, so what was read is written, and where it stands */
    if (flush(s, &err) < 0)
        cw_log(CW_LOG_ERROR, "final flush: %s", err.msg);
    else if (!s->clustered && s->cfg->snapshot_s > 0 && snapshot(s, &err) < 0)
        cw_log(CW_LOG_ERROR, "snapshot: %s", err.msg);
    if (s->clustered) {
        cw_notifier_gate(s->notifier, 0);
        leave(s);
    }
}
