#include "service/notifier.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "base/log.h"
#include "base/util.h"

const double cw_notify_bucket_s[CW_NOTIFY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 1e300,
};

#define ROUTE_BATCH 500
#define GATHER_BATCH 200

/* A delivery in flight. */
typedef struct flight {
    int64_t id, created_ms;
    int attempts;
    char *key;
} flight;

struct cw_notifier {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, wake, has_pending;
    cw_notify *pending;          /* the next configuration, under mu */
    cw_notify_stats st;          /* under mu */
    /* the thread's own */
    cw_db *db;
    cw_notify *n;
    cw_notifier_clock clock;
    void *clock_ud;
    cw_notify_http *http;
    struct mrows { struct mrow *v; size_t n, cap; } ready;   /* due, read ahead */
    size_t ready_head;       /* the next of ready to start */
    flight *fl;
    size_t nfl, capfl;
    cw_store_attempt *res;       /* results not yet written */
    char **res_err, **res_key;
    size_t nres, capres, caperr, capkey;
    uint64_t seed;
    /* with several engines: only the holder of partition 0's lease
     * routes and delivers, every write of it fenced by that lease */
    char *gate;              /* this engine's name; NULL: alone, no gate */
    uint64_t token;          /* under mu: partition 0's token; 0: not held */
    uint64_t round_token;    /* the thread's: token as at the round's start */
};

static int64_t lease_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The first write of a routing transaction: partition 0's lease still
 * this engine's (with a gate). */
static int ntx_fence(cw_notifier *nt, cw_store_ntx *t)
{
    return nt->gate ? cw_store_ntx_fence(t, nt->gate, 0, nt->round_token, lease_now()) : 0;
}

/* Before a write outside a routing transaction (a group's body, the
 * messages about to be sent): the lease still this engine's. */
static int fence(cw_notifier *nt, cw_err *err)
{
    bool held = false;
    int rc;

    if (nt->gate == NULL)
        return 0;
    if ((rc = cw_store_lease_fence(nt->db, nt->gate, 0, nt->round_token, lease_now(), &held, err)) < 0)
        return rc;
    return held ? 0 : cw_err_set(err, CW_ELEASE, "the lease of partition 0 is no longer engine %s's", nt->gate);
}

static int64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static char *dup_or_null(const char *s)
{
    return s ? cw_xstrdup(s) : NULL;
}

/* A finding read from the store, copied (the row's strings do not
 * outlive the callback). */
typedef struct ofinding {
    cw_notify_finding f;
    char *s[9];
} ofinding;

static void ofinding_set(ofinding *o, const cw_store_finding *f)
{
    const char *src[9] = { f->rule, f->case_id, f->subject, f->unit, f->severity, f->state, f->review,
                           f->message, f->basis };
    for (int i = 0; i < 9; i++)
        o->s[i] = cw_xstrdup(src[i] ? src[i] : "");
    o->f = (cw_notify_finding){ f->id, o->s[0], o->s[1], o->s[2], o->s[3], o->s[4], o->s[5], o->s[6],
                                o->s[7], o->s[8], f->due, f->raised, f->exemption != 0 };
}

static void ofinding_free(ofinding *o)
{
    for (int i = 0; i < 9; i++)
        free(o->s[i]);
}

static void count(cw_notifier *nt, uint64_t *field, uint64_t by)
{
    pthread_mutex_lock(&nt->mu);
    *field += by;
    pthread_mutex_unlock(&nt->mu);
}

/* ---- routing the outbox --------------------------------------------------------------- */

typedef struct orow {
    int64_t id, change_id, at_ms;
    char *what, *from_state, *to_state, *from_review, *to_review;
    ofinding f;
} orow;

typedef struct orows {
    orow *v;
    size_t n, cap;
} orows;

static int take_orow(void *ud, const cw_store_outbox_row *r)
{
    orows *o = ud;
    orow *x;

    CW_GROW(o->v, o->cap, o->n + 1);
    x = &o->v[o->n++];
    x->id = r->id;
    x->change_id = r->change_id;
    x->at_ms = r->at_ms;
    x->what = cw_xstrdup(r->what);
    x->from_state = dup_or_null(r->from_state);
    x->to_state = cw_xstrdup(r->to_state);
    x->from_review = dup_or_null(r->from_review);
    x->to_review = cw_xstrdup(r->to_review);
    ofinding_set(&x->f, &r->f);
    return 0;
}

static void orows_free(orows *o)
{
    for (size_t i = 0; i < o->n; i++) {
        orow *x = &o->v[i];
        free(x->what);
        free(x->from_state);
        free(x->to_state);
        free(x->from_review);
        free(x->to_review);
        ofinding_free(&x->f);
    }
    free(o->v);
}

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The transitions one change makes (at most two: a state and a review). */
static size_t transitions(const orow *r, int out[2])
{
    size_t n = 0;

    if (strcmp(r->what, "finding") != 0)
        return 0;
    if (strcmp(r->to_state, "withdrawn") != 0 &&
        (r->from_state == NULL || strcmp(r->from_state, "withdrawn") == 0))
        out[n++] = CW_TR_RAISED;
    else if (!same(r->from_state, r->to_state)) {
        if (strcmp(r->to_state, "overdue") == 0)
            out[n++] = CW_TR_OVERDUE;
        else if (strcmp(r->to_state, "late") == 0)
            out[n++] = CW_TR_LATE;
        else if (strcmp(r->to_state, "cleared") == 0)
            out[n++] = CW_TR_CLEARED;
    }
    if (strcmp(r->to_review, "reopened") == 0 && !same(r->from_review, "reopened") && r->from_review)
        out[n++] = CW_TR_REOPENED;
    return n;
}

typedef struct lrow {
    int64_t finding_id;
    char *ladder;
    int level;
    cw_time next_at;
    ofinding f;
} lrow;

typedef struct lrows {
    lrow *v;
    size_t n, cap;
} lrows;

static int take_lrow(void *ud, const cw_store_ladder *l)
{
    lrows *o = ud;
    lrow *x;

    CW_GROW(o->v, o->cap, o->n + 1);
    x = &o->v[o->n++];
    x->finding_id = l->finding_id;
    x->ladder = cw_xstrdup(l->ladder);
    x->level = l->level;
    x->next_at = l->next_at;
    ofinding_set(&x->f, &l->f);
    return 0;
}

static void lrows_free(lrows *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].ladder);
        ofinding_free(&o->v[i].f);
    }
    free(o->v);
}

static const cw_notify_ladder *ladder_find(const cw_notify *n, const char *name)
{
    for (size_t i = 0; n && i < n->nladders; i++)
        if (strcmp(n->ladders[i].name, name) == 0)
            return &n->ladders[i];
    return NULL;
}

/* Why a ladder stops for f at its next level, or NULL when it goes on. */
static const char *stop_reason(const cw_notify_ladder *L, int level, const cw_notify_finding *f)
{
    if (L == NULL)
        return "the ladder is no longer in notify.yaml";
    if (level >= (int)L->nlevels)
        return NULL;
    if (cw_notify_condition_holds(L->levels[level].when, f))
        return NULL;
    if (f->exempted)
        return "exempted";
    if (f->review && (strcmp(f->review, "resolved") == 0 || strcmp(f->review, "dismissed") == 0 ||
                      strcmp(f->review, "acknowledged") == 0 || strcmp(f->review, "assigned") == 0))
        return f->review;
    return "no longer overdue";
}

/* A change of review, state or exemption: the finding's running ladders
 * whose next level no longer holds are stopped now. */
static int recheck_ladders(cw_notifier *nt, cw_store_ntx *t, const orow *r, cw_err *err)
{
    lrows ls = { 0 };
    int rc;

    if ((rc = cw_store_ladders_of(nt->db, r->f.f.id, true, nt->clock(nt->clock_ud), take_lrow, &ls,
                                  err)) < 0) {
        lrows_free(&ls);
        return rc;
    }
    for (size_t i = 0; i < ls.n && rc == 0; i++) {
        const char *why = stop_reason(ladder_find(nt->n, ls.v[i].ladder), ls.v[i].level, &ls.v[i].f.f);
        if (why)
            rc = cw_store_ntx_ladder_set(t, ls.v[i].finding_id, ls.v[i].ladder, ls.v[i].level,
                                         CW_TIME_NONE, "stopped", why);
    }
    lrows_free(&ls);
    return rc;
}

/* The body of a message about one finding, and whether quiet hours
 * hold it: *status "queued", or "held" until *not_before. */
static char *render_alone(cw_notifier *nt, size_t ri, const cw_notify_finding *f, int tr, const char *key,
                          const char *group, const char *ladder, int level, cw_time now, const char **status,
                          cw_time *not_before)
{
    const cw_notify_receiver *r = &nt->n->receivers[ri];
    cw_notify_item it = { *f, tr, key };
    cw_notify_msg m = { r->name, group, key, ladder, level, &it, 1 };
    cw_time release = cw_notify_release_at(nt->n, r, now, cw_notify_is_high(f->severity));

    *status = release > now ? "held" : "queued";
    *not_before = release > now ? release : CW_TIME_NONE;
    count(nt, &nt->st.messages, 1);
    if (release > now)
        count(nt, &nt->st.held, 1);
    return cw_notify_render(nt->n, r, &m, NULL);
}

static int route_row(cw_notifier *nt, cw_store_ntx *t, const orow *r, int64_t now_ms, cw_time now,
                     uint64_t *queued, cw_err *err)
{
    const cw_notify *n = nt->n;
    cw_notify_finding f = r->f.f;
    cw_notify_hit hits[32];
    int tr[2];
    size_t ntr = transitions(r, tr);
    int rc = 0;

    /* matched on the change as it was made */
    f.state = r->to_state;
    f.review = r->to_review;
    for (size_t k = 0; k < ntr && rc == 0; k++) {
        size_t nh = cw_notify_route_finding(n, &f, tr[k], hits, 32);
        for (size_t h = 0; h < nh && rc == 0; h++) {
            const cw_notify_receiver *rcv = &n->receivers[hits[h].receiver];
            char key[192];
            bool added;
            snprintf(key, sizeof key, "%lld:%s:%s:%lld", (long long)f.id,
                     cw_notify_transition_name(tr[k]), rcv->name, (long long)r->change_id);
            cw_store_nitem it = { key, rcv->name, hits[h].group, NULL, 0, f.id,
                                  cw_notify_transition_name(tr[k]), r->at_ms,
                                  now_ms + (hits[h].route->group_by ? hits[h].route->group_wait_ms : 0),
                                  hits[h].route->group_interval_ms, NULL, NULL, CW_TIME_NONE };
            char *body = NULL;
            /* a message of its own is rendered now, from the finding as it is */
            if (hits[h].route->group_by == 0)
                body = render_alone(nt, hits[h].receiver, &r->f.f, tr[k], key, hits[h].group, NULL, 0, now,
                                    &it.status, &it.not_before);
            it.body = body;
            rc = cw_store_ntx_item(t, &it, &added);
            *queued += added;
            free(body);
            /* reminders while it stays open, counted from this message */
            if (rc == 0 && hits[h].route->repeat_s > 0 && cw_notify_is_open(&r->f.f))
                rc = cw_store_ntx_repeat_set(t, f.id, rcv->name, hits[h].route->repeat_s,
                                             now + hits[h].route->repeat_s, 0);
        }
        for (size_t l = 0; l < n->nladders && rc == 0; l++) {
            const cw_notify_ladder *L = &n->ladders[l];
            if (cw_notify_match_finding(&L->m, &f, tr[k]))
                rc = cw_store_ntx_ladder_start(t, f.id, L->name, now, now + L->levels[0].delay_s);
        }
    }
    /* acknowledged, resolved, exempted, no longer overdue: ladders may stop */
    if (rc == 0 && (!same(r->from_review, r->to_review) || !same(r->from_state, r->to_state) ||
                    strcmp(r->what, "finding") != 0))
        rc = recheck_ladders(nt, t, r, err);
    return rc;
}

/* Route a batch of the outbox in one transaction. Returns how many rows. */
static int route_outbox(cw_notifier *nt, int64_t now_ms, cw_time now, cw_err *err)
{
    orows o = { 0 };
    cw_store_ntx *t;
    uint64_t queued = 0;
    int rc;

    if ((rc = cw_store_outbox(nt->db, now, ROUTE_BATCH, take_orow, &o, err)) < 0 || o.n == 0) {
        orows_free(&o);
        return rc;
    }
    if ((t = cw_store_ntx_begin(nt->db, err)) == NULL) {
        orows_free(&o);
        return err->code;
    }
    if ((rc = ntx_fence(nt, t)) < 0) {
        cw_store_ntx_commit(t, err);    /* rolls back, with the fence's error */
        orows_free(&o);
        return rc;
    }
    for (size_t i = 0; i < o.n && rc == 0; i++) {
        if (nt->n)
            rc = route_row(nt, t, &o.v[i], now_ms, now, &queued, err);
        if (rc == 0)
            rc = cw_store_ntx_outbox_done(t, o.v[i].id);
    }
    if (rc < 0) {
        cw_store_ntx_commit(t, NULL);   /* rolls back */
        orows_free(&o);
        return rc;
    }
    rc = cw_store_ntx_commit(t, err);
    if (rc == 0)
        count(nt, &nt->st.queued, queued);
    rc = rc < 0 ? rc : (int)o.n;
    orows_free(&o);
    return rc;
}

/* ---- ladders ------------------------------------------------------------------------- */

static int climb(cw_notifier *nt, cw_time now, int64_t now_ms, cw_err *err)
{
    lrows ls = { 0 };
    cw_store_ntx *t;
    uint64_t levels = 0, queued = 0;
    int rc;

    if ((rc = cw_store_ladders_due(nt->db, now, ROUTE_BATCH, take_lrow, &ls, err)) < 0 || ls.n == 0) {
        lrows_free(&ls);
        return rc;
    }
    if ((t = cw_store_ntx_begin(nt->db, err)) == NULL) {
        lrows_free(&ls);
        return err->code;
    }
    if ((rc = ntx_fence(nt, t)) < 0) {
        cw_store_ntx_commit(t, err);
        lrows_free(&ls);
        return rc;
    }
    for (size_t i = 0; i < ls.n && rc == 0; i++) {
        lrow *l = &ls.v[i];
        const cw_notify_ladder *L = ladder_find(nt->n, l->ladder);
        const char *why = stop_reason(L, l->level, &l->f.f);
        if (why || l->level >= (int)L->nlevels) {
            rc = cw_store_ntx_ladder_set(t, l->finding_id, l->ladder, l->level, CW_TIME_NONE,
                                         why ? "stopped" : "done", why);
            continue;
        }
        const cw_notify_level *lv = &L->levels[l->level];
        for (size_t k = 0; k < lv->nreceivers && rc == 0; k++) {
            const cw_notify_receiver *rcv = &nt->n->receivers[lv->receivers[k]];
            char key[192];
            bool added;
            snprintf(key, sizeof key, "%lld:escalated%d:%s:%s", (long long)l->finding_id, l->level + 1,
                     rcv->name, L->name);
            cw_store_nitem it = { key, rcv->name, "", L->name, l->level + 1, l->finding_id,
                                  cw_notify_transition_name(CW_TR_ESCALATED), now_ms, now_ms, 0,
                                  NULL, NULL, CW_TIME_NONE };
            char *body = render_alone(nt, lv->receivers[k], &l->f.f, CW_TR_ESCALATED, key, "", L->name,
                                      l->level + 1, now, &it.status, &it.not_before);
            it.body = body;
            rc = cw_store_ntx_item(t, &it, &added);
            queued += added;
            free(body);
        }
        if (rc == 0) {
            bool last = l->level + 1 >= (int)L->nlevels;
            rc = cw_store_ntx_ladder_set(t, l->finding_id, l->ladder, l->level + 1,
                                         last ? CW_TIME_NONE : l->next_at + L->levels[l->level + 1].delay_s,
                                         last ? "done" : "running", NULL);
            levels++;
        }
    }
    if (rc < 0) {
        cw_store_ntx_commit(t, NULL);
        lrows_free(&ls);
        return rc;
    }
    rc = cw_store_ntx_commit(t, err);
    if (rc == 0) {
        count(nt, &nt->st.escalations, levels);
        count(nt, &nt->st.queued, queued);
    }
    rc = rc < 0 ? rc : (int)ls.n;
    lrows_free(&ls);
    return rc;
}

/* ---- reminders (repeat_interval) ------------------------------------------------------------ */

typedef struct prow {
    int64_t finding_id, every_s;
    char *receiver;
    cw_time next_at;
    int sent;
    ofinding f;
} prow;

typedef struct prows {
    prow *v;
    size_t n, cap;
} prows;

static int take_prow(void *ud, const cw_store_repeat *x)
{
    prows *o = ud;
    prow *p;

    CW_GROW(o->v, o->cap, o->n + 1);
    p = &o->v[o->n++];
    p->finding_id = x->finding_id;
    p->every_s = x->every_s;
    p->receiver = cw_xstrdup(x->receiver);
    p->next_at = x->next_at;
    p->sent = x->sent;
    ofinding_set(&p->f, &x->f);
    return 0;
}

static void prows_free(prows *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].receiver);
        ofinding_free(&o->v[i].f);
    }
    free(o->v);
}

/* Reminders due: sent while the finding is open, else dropped. */
static int remind(cw_notifier *nt, cw_time now, int64_t now_ms, cw_err *err)
{
    prows ps = { 0 };
    cw_store_ntx *t;
    uint64_t queued = 0;
    int rc;

    if ((rc = cw_store_repeats_due(nt->db, now, ROUTE_BATCH, take_prow, &ps, err)) < 0 || ps.n == 0) {
        prows_free(&ps);
        return rc;
    }
    if ((t = cw_store_ntx_begin(nt->db, err)) == NULL) {
        prows_free(&ps);
        return err->code;
    }
    if ((rc = ntx_fence(nt, t)) < 0) {
        cw_store_ntx_commit(t, err);
        prows_free(&ps);
        return rc;
    }
    for (size_t i = 0; i < ps.n && rc == 0; i++) {
        prow *p = &ps.v[i];
        size_t ri = nt->n ? cw_notify_receiver_find(nt->n, p->receiver) : SIZE_MAX;
        char key[192];
        bool added;
        cw_time next = p->next_at + p->every_s;
        if (ri == SIZE_MAX || !cw_notify_is_open(&p->f.f)) {
            rc = cw_store_ntx_repeat_stop(t, p->finding_id, p->receiver);
            continue;
        }
        snprintf(key, sizeof key, "%lld:repeated%d:%s", (long long)p->finding_id, p->sent + 1, p->receiver);
        cw_store_nitem it = { key, p->receiver, "", NULL, 0, p->finding_id,
                              cw_notify_transition_name(CW_TR_REPEATED), now_ms, now_ms, 0, NULL, NULL,
                              CW_TIME_NONE };
        char *body = render_alone(nt, ri, &p->f.f, CW_TR_REPEATED, key, "", NULL, 0, now, &it.status,
                                  &it.not_before);
        it.body = body;
        rc = cw_store_ntx_item(t, &it, &added);
        queued += added;
        free(body);
        /* a service that was down does not send the missed ones in a burst */
        if (next <= now)
            next = now + p->every_s;
        if (rc == 0)
            rc = cw_store_ntx_repeat_set(t, p->finding_id, p->receiver, p->every_s, next, p->sent + 1);
    }
    if (rc < 0) {
        cw_store_ntx_commit(t, NULL);
        prows_free(&ps);
        return rc;
    }
    rc = cw_store_ntx_commit(t, err);
    if (rc == 0)
        count(nt, &nt->st.queued, queued);
    rc = rc < 0 ? rc : (int)ps.n;
    prows_free(&ps);
    return rc;
}

/* ---- gathering: messages whose group wait is over get their body ------------------------------ */

typedef struct mrow {
    int64_t id, created_ms;
    int level, attempts;
    char *key, *receiver, *group, *ladder, *body;
} mrow;

typedef struct mrows mrows;

static int take_mrow(void *ud, const cw_store_message *m)
{
    mrows *o = ud;
    mrow *x;

    CW_GROW(o->v, o->cap, o->n + 1);
    x = &o->v[o->n++];
    x->id = m->id;
    x->created_ms = m->created_ms;
    x->level = m->level;
    x->attempts = m->attempts;
    x->key = cw_xstrdup(m->key);
    x->receiver = cw_xstrdup(m->receiver);
    x->group = cw_xstrdup(m->group);
    x->ladder = dup_or_null(m->ladder);
    x->body = dup_or_null(m->body);
    return 0;
}

static void mrows_free(mrows *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].receiver);
        free(o->v[i].group);
        free(o->v[i].ladder);
        free(o->v[i].body);
    }
    free(o->v);
}

typedef struct irows {
    cw_notify_item *v;
    ofinding *f;
    char **keys;
    size_t n, cap, capf, capk;
} irows;

static int take_item(void *ud, const char *key, const char *transition, const cw_store_finding *f)
{
    irows *o = ud;
    int tr = cw_notify_transition_find(transition);

    CW_GROW(o->v, o->cap, o->n + 1);
    CW_GROW(o->f, o->capf, o->n + 1);
    CW_GROW(o->keys, o->capk, o->n + 1);
    ofinding_set(&o->f[o->n], f);
    o->keys[o->n] = cw_xstrdup(key);
    o->v[o->n].transition = tr < 0 ? CW_TR_RAISED : tr;
    o->n++;
    return 0;
}

static void irows_free(irows *o)
{
    for (size_t i = 0; i < o->n; i++) {
        ofinding_free(&o->f[i]);
        free(o->keys[i]);
    }
    free(o->v);
    free(o->f);
    free(o->keys);
}

static int gather(cw_notifier *nt, int64_t now_ms, cw_time now, cw_err *err)
{
    mrows ms = { 0 };
    uint64_t held = 0, ready = 0;
    int rc;

    if ((rc = cw_store_messages_due(nt->db, true, now_ms, now, GATHER_BATCH, take_mrow, &ms, err)) < 0 ||
        ms.n == 0 || (rc = fence(nt, err)) < 0) {
        mrows_free(&ms);
        return rc;
    }
    for (size_t i = 0; i < ms.n && rc == 0; i++) {
        mrow *m = &ms.v[i];
        size_t ri = nt->n ? cw_notify_receiver_find(nt->n, m->receiver) : SIZE_MAX;
        irows it = { 0 };
        bool high = false;
        char *body;
        cw_time release;
        if (ri == SIZE_MAX) {
            rc = cw_store_message_ready(nt->db, m->id, "", "dead", CW_TIME_NONE, err);
            count(nt, &nt->st.dead, 1);
            continue;
        }
        if ((rc = cw_store_message_items(nt->db, m->id, now, take_item, &it, err)) < 0) {
            irows_free(&it);
            break;
        }
        for (size_t k = 0; k < it.n; k++) {
            it.v[k].f = it.f[k].f;
            it.v[k].key = it.keys[k];
            high |= cw_notify_is_high(it.f[k].f.severity);
        }
        cw_notify_msg msg = { m->receiver, m->group, m->key, m->ladder, m->level, it.v, it.n };
        body = cw_notify_render(nt->n, &nt->n->receivers[ri], &msg, NULL);
        release = cw_notify_release_at(nt->n, &nt->n->receivers[ri], now, high);
        rc = cw_store_message_ready(nt->db, m->id, body, release > now ? "held" : "queued",
                                    release > now ? release : CW_TIME_NONE, err);
        held += release > now;
        ready++;
        free(body);
        irows_free(&it);
    }
    count(nt, &nt->st.messages, ready);
    count(nt, &nt->st.held, held);
    rc = rc < 0 ? rc : (int)ms.n;
    mrows_free(&ms);
    return rc;
}

/* ---- delivery ---------------------------------------------------------------------- */

static bool in_flight(const cw_notifier *nt, int64_t id)
{
    for (size_t i = 0; i < nt->nfl; i++)
        if (nt->fl[i].id == id)
            return true;
    return false;
}

static void delivered(void *ud, uint64_t tag, long status, const char *errtext, double seconds);

static bool queued_here(const cw_notifier *nt, int64_t id)
{
    for (size_t i = nt->ready_head; i < nt->ready.n; i++)
        if (nt->ready.v[i].id == id)
            return true;
    return false;
}

/* Messages due, read ahead into the ready queue, so that deliveries are
 * started as others end without a query each. */
static int fetch(cw_notifier *nt, int64_t now_ms, cw_time now, cw_err *err)
{
    unsigned limit = nt->n ? nt->n->concurrency : 1;
    size_t waiting = nt->ready.n - nt->ready_head;
    mrows ms = { 0 };
    int rc, added = 0;

    if (nt->n == NULL || waiting >= limit)
        return 0;
    if (nt->ready_head == nt->ready.n) {
        /* all launched: start the queue over */
        for (size_t i = 0; i < nt->ready.n; i++) {
            free(nt->ready.v[i].key);
            free(nt->ready.v[i].receiver);
            free(nt->ready.v[i].group);
            free(nt->ready.v[i].ladder);
            free(nt->ready.v[i].body);
        }
        nt->ready.n = nt->ready_head = 0;
    }
    if ((rc = cw_store_messages_due(nt->db, false, now_ms, now, 4 * limit + (unsigned)(waiting + nt->nfl),
                                    take_mrow, &ms, err)) < 0 ||
        (ms.n > 0 && (rc = fence(nt, err)) < 0)) {
        mrows_free(&ms);
        return rc;
    }
    for (size_t i = 0; i < ms.n; i++) {
        mrow *m = &ms.v[i];
        if (in_flight(nt, m->id) || queued_here(nt, m->id)) {
            free(m->key);
            free(m->receiver);
            free(m->group);
            free(m->ladder);
            free(m->body);
            continue;
        }
        CW_GROW(nt->ready.v, nt->ready.cap, nt->ready.n + 1);
        nt->ready.v[nt->ready.n++] = *m;
        added++;
    }
    free(ms.v);
    return added;
}

/* An attempt's outcome, written at the next round; takes why and key. */
static void result(cw_notifier *nt, cw_store_attempt a, char *why, char *key)
{
    CW_GROW(nt->res, nt->capres, nt->nres + 1);
    CW_GROW(nt->res_err, nt->caperr, nt->nres + 1);
    CW_GROW(nt->res_key, nt->capkey, nt->nres + 1);
    nt->res_err[nt->nres] = why;
    nt->res_key[nt->nres] = key;
    a.error = why;
    a.key = key;
    nt->res[nt->nres++] = a;
}

/* Start deliveries from the ready queue up to the concurrency. */
/* Whether this engine may deliver now: alone, or partition 0's lease
 * as at the round's start still held. */
static bool gate_open(cw_notifier *nt)
{
    uint64_t token;

    if (nt->gate == NULL)
        return true;
    pthread_mutex_lock(&nt->mu);
    token = nt->token;
    pthread_mutex_unlock(&nt->mu);
    return token != 0 && token == nt->round_token;
}

/* Messages read ahead and not started are forgotten (the holder of the
 * lease reads them again). */
static void ready_clear(cw_notifier *nt)
{
    for (size_t i = 0; i < nt->ready.n; i++) {
        free(nt->ready.v[i].key);
        free(nt->ready.v[i].receiver);
        free(nt->ready.v[i].group);
        free(nt->ready.v[i].ladder);
        free(nt->ready.v[i].body);
    }
    nt->ready.n = nt->ready_head = 0;
}

static int launch(cw_notifier *nt)
{
    unsigned limit = nt->n ? nt->n->concurrency : 1;
    int64_t now_ms = wall_ms();
    int started = 0;

    if (nt->ready_head < nt->ready.n && !gate_open(nt)) {
        ready_clear(nt);
        return 0;
    }
    while (nt->n && nt->ready_head < nt->ready.n && cw_notify_http_inflight(nt->http) < limit) {
        mrow *m = &nt->ready.v[nt->ready_head++];
        size_t ri = cw_notify_receiver_find(nt->n, m->receiver);
        cw_err e;
        if (ri == SIZE_MAX || m->body == NULL) {
            /* its receiver left notify.yaml: dead, said so */
            result(nt, (cw_store_attempt){ m->id, NULL, m->attempts, "dead", 0, NULL, 0, now_ms, now_ms },
                   cw_xasprintf("receiver %s is not in notify.yaml", m->receiver), cw_xstrdup(m->key));
            count(nt, &nt->st.dead, 1);
            continue;
        }
        if (cw_notify_http_post(nt->http, &nt->n->receivers[ri], m->body, strlen(m->body), m->key,
                                now_ms / 1000, (uint64_t)m->id, &e) < 0) {
            cw_log(CW_LOG_ERROR, "notification %lld: %s", (long long)m->id, e.msg);
            continue;
        }
        CW_GROW(nt->fl, nt->capfl, nt->nfl + 1);
        nt->fl[nt->nfl++] = (flight){ m->id, m->created_ms, m->attempts, cw_xstrdup(m->key) };
        started++;
    }
    return started;
}

/* Keep deliveries going for up to budget_ms, or until none is left to
 * start and none is in flight. */
static int pump(cw_notifier *nt, int budget_ms)
{
    int64_t end = wall_ms() + budget_ms;
    int started = 0;

    do {
        started += launch(nt);
        if (cw_notify_http_inflight(nt->http) == 0)
            break;
        cw_notify_http_poll(nt->http, 5, delivered, nt);
    } while (wall_ms() < end);
    return started;
}

static uint64_t rnd(cw_notifier *nt)
{
    /* xorshift64*: jitter needs no more */
    nt->seed ^= nt->seed >> 12;
    nt->seed ^= nt->seed << 25;
    nt->seed ^= nt->seed >> 27;
    return nt->seed * 2685821657736338717ULL;
}

static void delivered(void *ud, uint64_t tag, long status, const char *errtext, double seconds)
{
    cw_notifier *nt = ud;
    int64_t now_ms = wall_ms();
    flight f = { 0 };
    const char *st;
    int64_t next = now_ms;
    char *why;

    for (size_t i = 0; i < nt->nfl; i++)
        if (nt->fl[i].id == (int64_t)tag) {
            f = nt->fl[i];
            nt->fl[i] = nt->fl[--nt->nfl];
            break;
        }
    f.attempts++;
    if (status >= 200 && status < 300) {
        double lat = (double)(now_ms - f.created_ms) / 1000.0;
        st = "sent";
        why = cw_xstrdup("");
        pthread_mutex_lock(&nt->mu);
        nt->st.sent++;
        for (int b = 0; b < CW_NOTIFY_BUCKETS; b++)
            if (lat <= cw_notify_bucket_s[b])
                nt->st.latency[b]++;
        nt->st.latency_sum += lat;
        nt->st.latency_count++;
        pthread_mutex_unlock(&nt->mu);
    } else {
        why = status ? cw_xasprintf("HTTP %ld", status) : cw_xstrdup(errtext);
        pthread_mutex_lock(&nt->mu);
        nt->st.failed++;
        pthread_mutex_unlock(&nt->mu);
        if (nt->n == NULL || f.attempts >= (int)nt->n->max_attempts) {
            st = "dead";
            count(nt, &nt->st.dead, 1);
        } else {
            /* exponential, capped, with half of it random ("equal jitter") */
            int64_t d = nt->n->backoff_ms;
            for (int k = 1; k < f.attempts && d < nt->n->backoff_max_ms; k++)
                d *= 2;
            if (d > nt->n->backoff_max_ms)
                d = nt->n->backoff_max_ms;
            next = now_ms + d / 2 + (int64_t)(rnd(nt) % (uint64_t)(d / 2 + 1));
            st = "queued";
        }
    }
    result(nt, (cw_store_attempt){ f.id, NULL, f.attempts, st, status, NULL, seconds, now_ms, next }, why,
           f.key ? f.key : cw_xstrdup(""));
}

static int record(cw_notifier *nt, cw_err *err)
{
    int rc;

    if (nt->nres == 0)
        return 0;
    if ((rc = cw_store_attempts_record(nt->db, nt->res, nt->nres, err)) < 0)
        return rc;      /* kept: written at the next round */
    for (size_t i = 0; i < nt->nres; i++) {
        free(nt->res_err[i]);
        free(nt->res_key[i]);
    }
    nt->nres = 0;
    return 0;
}

/* ---- the thread -------------------------------------------------------------------------- */

static void *run(void *arg)
{
    cw_notifier *nt = arg;
    unsigned backoff = 100;
    cw_err err = { 0 };

    for (;;) {
        int64_t now_ms = wall_ms();
        cw_time now = nt->clock(nt->clock_ud);
        int work = 0, r;
        bool idle, active;

        pthread_mutex_lock(&nt->mu);
        if (nt->stop) {
            pthread_mutex_unlock(&nt->mu);
            break;
        }
        if (nt->has_pending) {
            cw_notify_free(nt->n);
            nt->n = nt->pending;
            nt->pending = NULL;
            nt->has_pending = false;
            nt->st.configured = nt->n != NULL;
        }
        nt->wake = false;
        active = nt->gate == NULL || nt->token != 0;
        nt->round_token = nt->token;
        pthread_mutex_unlock(&nt->mu);
        if (!active) {
            /* another engine's to route and deliver: what is in flight
             * ends and its attempts are written, nothing new starts */
            ready_clear(nt);
            if (record(nt, &err) < 0)
                cw_log(CW_LOG_ERROR, "notifications: %s", err.msg);
            r = 0;
        } else if ((r = record(nt, &err)) < 0 || (r = route_outbox(nt, now_ms, now, &err)) < 0 ||
            (work += r, r = climb(nt, now, now_ms, &err)) < 0 ||
            (work += r, r = remind(nt, now, now_ms, &err)) < 0 ||
            (work += r, r = gather(nt, now_ms, now, &err)) < 0 ||
            (work += r, r = fetch(nt, now_ms, now, &err)) < 0) {
            struct timespec ts = { backoff / 1000, (long)(backoff % 1000) * 1000000L };
            if (err.code == CW_ELEASE) {
                /* the fence refused: the lease went to another engine */
                cw_log(CW_LOG_WARN, "notifications: %s: it stops delivering", err.msg);
                pthread_mutex_lock(&nt->mu);
                if (nt->token == nt->round_token)
                    nt->token = 0;
                pthread_mutex_unlock(&nt->mu);
                ready_clear(nt);
                continue;
            }
            cw_log(CW_LOG_ERROR, "notifications: %s; retrying in %u ms", err.msg, backoff);
            count(nt, &nt->st.errors, 1);
            nanosleep(&ts, NULL);
            if (cw_db_is_down(nt->db) && cw_db_reconnect(nt->db, &err) < 0)
                cw_log(CW_LOG_ERROR, "notifications: %s", err.msg);
            backoff = backoff < 5000 ? backoff * 2 : 5000;
            cw_notify_http_poll(nt->http, 0, delivered, nt);
            continue;
        }
        backoff = 100;
        work += r;
        /* deliveries between the rounds of queries: the pipe kept full */
        work += pump(nt, 100);
        pthread_mutex_lock(&nt->mu);
        nt->st.inflight = cw_notify_http_inflight(nt->http);
        idle = work == 0 && nt->nres == 0 && !nt->wake && !nt->stop && !nt->has_pending;
        pthread_mutex_unlock(&nt->mu);
        if (idle && cw_notify_http_inflight(nt->http) == 0) {
            struct timespec ts;
            pthread_mutex_lock(&nt->mu);
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            if (!nt->wake && !nt->stop)
                pthread_cond_timedwait(&nt->cv, &nt->mu, &ts);
            pthread_mutex_unlock(&nt->mu);
        }
    }
    record(nt, &err);
    return NULL;
}

int cw_notifier_start(cw_notifier **out, const cw_db_params *db, cw_notify *n, const char *gate,
                      cw_notifier_clock clock, void *clock_ud, cw_err *err)
{
    cw_notifier *nt = cw_xcalloc(1, sizeof *nt);
    int rc;

    *out = NULL;
    if ((rc = cw_db_connect(&nt->db, db, false, err)) < 0) {
        cw_notify_free(n);
        free(nt);
        return rc;
    }
    nt->n = n;
    nt->gate = gate ? cw_xstrdup(gate) : NULL;
    nt->st.configured = n != NULL;
    nt->clock = clock;
    nt->clock_ud = clock_ud;
    nt->http = cw_notify_http_new();
    nt->seed = (uint64_t)wall_ms() | 1;
    pthread_mutex_init(&nt->mu, NULL);
    pthread_cond_init(&nt->cv, NULL);
    if (pthread_create(&nt->th, NULL, run, nt) != 0) {
        cw_notify_http_free(nt->http);
        cw_db_close(nt->db);
        cw_notify_free(n);
        free(nt);
        return cw_err_set(err, CW_ENOMEM, "cannot start the notifications thread");
    }
    *out = nt;
    return 0;
}

void cw_notifier_set(cw_notifier *nt, cw_notify *n)
{
    pthread_mutex_lock(&nt->mu);
    cw_notify_free(nt->pending);
    nt->pending = n;
    nt->has_pending = true;
    nt->wake = true;
    pthread_cond_signal(&nt->cv);
    pthread_mutex_unlock(&nt->mu);
}

void cw_notifier_wake(cw_notifier *nt)
{
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->mu);
    nt->wake = true;
    pthread_cond_signal(&nt->cv);
    pthread_mutex_unlock(&nt->mu);
}

void cw_notifier_stats(cw_notifier *nt, cw_notify_stats *out)
{
    if (nt == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    pthread_mutex_lock(&nt->mu);
    *out = nt->st;
    pthread_mutex_unlock(&nt->mu);
}

void cw_notifier_stop(cw_notifier *nt)
{
    if (nt == NULL)
        return;
    pthread_mutex_lock(&nt->mu);
    nt->stop = true;
    pthread_cond_signal(&nt->cv);
    pthread_mutex_unlock(&nt->mu);
    pthread_join(nt->th, NULL);
    for (size_t i = 0; i < nt->nres; i++) {
        free(nt->res_err[i]);
        free(nt->res_key[i]);
    }
    for (size_t i = 0; i < nt->nfl; i++)
        free(nt->fl[i].key);
    free(nt->res);
    free(nt->res_err);
    free(nt->res_key);
    free(nt->fl);
    nt->ready_head = nt->ready.n;
    mrows_free(&nt->ready);
    cw_notify_http_free(nt->http);
    cw_db_close(nt->db);
    cw_notify_free(nt->n);
    cw_notify_free(nt->pending);
    free(nt->gate);
    pthread_mutex_destroy(&nt->mu);
    pthread_cond_destroy(&nt->cv);
    free(nt);
}

void cw_notifier_gate(cw_notifier *nt, uint64_t token)
{
    if (nt == NULL || nt->gate == NULL)
        return;
    pthread_mutex_lock(&nt->mu);
    if (nt->token != token) {
        cw_log(CW_LOG_INFO, "notifications: %s by engine %s", token ? "routed and delivered" : "no longer routed",
               nt->gate);
        nt->token = token;
        nt->wake = true;
        pthread_cond_signal(&nt->cv);
    }
    pthread_mutex_unlock(&nt->mu);
}
